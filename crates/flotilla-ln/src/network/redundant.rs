//! Redundant overpayment at the network level (see [`crate::redundant`]): sending locked
//! parts, holding them at the receiver, the claim request, the sender's reveal, direct
//! (possibly cheating) claims, the sender's cancel, the round timeout, and Boomerang's
//! immediate claim and refund.

use bitcoin::secp256k1::SecretKey;
use flotilla_graph::NodeIdx;
use flotilla_route::Path;

use crate::boomerang::BoomerangPolynomial;
use crate::clock::Clock;
use crate::config::Behaviour;
use crate::failure::{FailureCode, FailureData};
use crate::htlc::{HtlcId, HtlcOrigin, HtlcState};
use crate::lock::{ClaimError, LockKind};
use crate::output::{Event, Output, Timer};
use crate::payload::{HopPayload, RedundantPart};
use crate::receiver::{unknown_payment, IncomingHtlc, RegisterError};
use crate::redundant::{
    ClaimRequest, HeldPart, RedundantDecision, RedundantInvoice, RedundantSendPart, RefundError,
    RevealError, RevealPlan,
};
use crate::sender::{build_payloads, SendError};
use crate::{PaymentPreimage, PaymentSecret};

use super::{DeliverError, Network};

impl Network {
    /// Starts a redundant part: like [`Network::send`], with the HTLC locked by
    /// `part.lock` (its `payment_hash` is `part.part.payment_hash`) and the final payload
    /// carrying `part.redundant`. Build it with
    /// [`crate::redundant::RedundantSender::part`].
    pub fn send_redundant(
        &mut self,
        part: RedundantSendPart<'_>,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<HtlcId, SendError> {
        self.now = clock.now;
        let p = part.part;
        let mut payloads = build_payloads(
            &self.graph,
            p.path,
            clock.height,
            p.payment_data,
            p.keysend_preimage,
        )?;
        if let Some(last) = payloads.last_mut() {
            last.redundant = Some(part.redundant);
        }
        let first = self.check_first_hop(p.path, clock)?;
        let (onion, secrets) = self.build_onion(p.path, payloads, &p.payment_hash)?;
        Ok(self.launch(
            p.id,
            p.path,
            (p.payment_hash, part.lock),
            onion,
            secrets,
            first,
            out,
        ))
    }

    /// Makes `node` expect a redundant payment.
    pub fn register_redundant(
        &mut self,
        node: NodeIdx,
        invoice: RedundantInvoice,
    ) -> Result<(), RegisterError> {
        let book = &mut self.receivers[node.ix()].redundant;
        book.forget_expired(self.now);
        book.register(invoice)
    }

    /// Makes `node` expect a `boomerang` payment of A in k = `polynomial.degree()`
    /// equal parts.
    pub fn register_boomerang(
        &mut self,
        node: NodeIdx,
        invoice: RedundantInvoice,
        polynomial: BoomerangPolynomial,
    ) -> Result<(), RegisterError> {
        self.receivers[node.ix()]
            .redundant
            .register_boomerang(invoice, polynomial)
    }

    /// The sender of `payment_id` gave up: its cancel reached `receiver`, which fails
    /// every part it holds for that payment at once (instead of at its timeout), and
    /// every part of it that arrives later. Returns how many held parts failed.
    pub fn cancel_redundant(
        &mut self,
        receiver: NodeIdx,
        payment_id: [u8; 32],
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> usize {
        self.now = clock.now;
        let parts = self.receivers[receiver.ix()].redundant.cancel(&payment_id);
        self.fail_held(&parts, FailureCode::MppTimeout, clock, out)
    }

    /// The boomerang clause: the sender learned `p0` = P(0) of the payment with
    /// `payment_secret` from more than k claimed scalars. If `p0` matches the receiver's
    /// commitment C_0, the claimed parts of `paths` (as the sender routed them) move back
    /// hop by hop, fees included. The sender names the parts it has seen settle; parts
    /// whose fulfils were still on their way come back with a later refund, after which
    /// the receiver keeps nothing. Refused, with nothing
    /// moved, if the secret is wrong or a channel's far side no longer holds the value
    /// (the real protocol locks the reverse HTLCs' collateral up front; this model does
    /// not). Returns the value refunded to the receiver's side, msat.
    pub fn boomerang_refund(
        &mut self,
        receiver: NodeIdx,
        payment_secret: &PaymentSecret,
        p0: &SecretKey,
        paths: &[&Path],
    ) -> Result<u64, RefundError> {
        let book = &self.receivers[receiver.ix()].redundant;
        if book.settled_msat(payment_secret) == 0 {
            return Err(RefundError::UnknownPayment);
        }
        // Check every hop can move back before moving any.
        let mut need: std::collections::HashMap<flotilla_graph::EdgeIdx, u64> = Default::default();
        for p in paths {
            for h in &p.hops {
                *need.entry(h.edge).or_default() += h.amount_msat;
            }
        }
        if need
            .iter()
            .any(|(e, amt)| self.channels.edge(e.reverse()).balance_msat < *amt)
        {
            return Err(RefundError::Liquidity);
        }
        let value: u64 = paths
            .iter()
            .filter_map(|p| p.hops.last())
            .map(|h| h.amount_msat)
            .sum();
        let refunded = self.receivers[receiver.ix()]
            .redundant
            .refund(payment_secret, p0, value)?;
        for p in paths {
            for (i, h) in p.hops.iter().enumerate() {
                self.channels.refund(h.edge, h.amount_msat);
                let (from, to) = (
                    self.graph.edge_source(h.edge),
                    self.graph.edge_target(h.edge),
                );
                self.ledger[from.ix()].paid_out_msat = self.ledger[from.ix()]
                    .paid_out_msat
                    .saturating_sub(h.amount_msat);
                self.ledger[to.ix()].paid_in_msat = self.ledger[to.ix()]
                    .paid_in_msat
                    .saturating_sub(h.amount_msat);
                if let Some(next) = p.hops.get(i + 1) {
                    let fee = h.amount_msat.saturating_sub(next.amount_msat);
                    let l = &mut self.ledger[to.ix()];
                    l.fees_earned_msat = l.fees_earned_msat.saturating_sub(fee);
                }
            }
        }
        Ok(refunded)
    }

    /// The oldest claim request no driver has taken yet. A driver calls it after every
    /// step and carries each request from its `receiver` to its `sender` with the return
    /// latency; the sender answers with [`Network::reveal_secrets`].
    pub fn poll_claim_request(&mut self) -> Option<ClaimRequest> {
        self.claim_requests.pop_front()
    }

    /// Number of claim requests waiting for the driver.
    pub fn pending_claim_requests(&self) -> usize {
        self.claim_requests.len()
    }

    /// The sender's answer reached `receiver`: the secrets of the parts of `payment_id`
    /// it may claim. If they are valid (every part held, every secret opens its part's
    /// lock, worth exactly A) the receiver claims exactly those parts and fails every
    /// other held part at once with `incorrect_or_unknown_payment_details`; the payment is
    /// complete and later parts fail the same way. A [`Behaviour::CheatingReceiver`] also
    /// tries to claim the other parts first (refused and counted). On error nothing
    /// changed: the parts stay held until their timeout.
    pub fn reveal_secrets(
        &mut self,
        receiver: NodeIdx,
        payment_id: [u8; 32],
        secrets: Vec<(u16, [u8; 32])>,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<(), RevealError> {
        self.now = clock.now;
        let book = &mut self.receivers[receiver.ix()].redundant;
        let plan = book.reveal(&payment_id, &secrets)?;
        let guesses: Vec<[u8; 32]> = secrets.iter().map(|(_, s)| *s).collect();
        self.execute_plan(receiver, plan, &guesses, clock, out);
        Ok(())
    }

    /// Claims a plan's parts and fails the rest. A [`Behaviour::CheatingReceiver`]
    /// first tries to claim the rest too: with `guesses` (the secrets it was given, and
    /// zero) under the hash locks, refused by the lock check and counted; with the true
    /// scalars it knows under `boomerang`, which succeed and hand the sender the k + 1st
    /// scalar that triggers the refund.
    fn execute_plan(
        &mut self,
        receiver: NodeIdx,
        plan: RevealPlan,
        guesses: &[[u8; 32]],
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        let secret = plan.secret;
        let mut rest: Vec<HeldPart> = plan.rest.clone();
        if self.configs[receiver.ix()].behaviour == Behaviour::CheatingReceiver {
            let mut kept = Vec::new();
            for (i, p) in plan.rest.iter().enumerate() {
                let tries: Vec<(PaymentPreimage, Option<[u8; 32]>)> = match plan.lock {
                    LockKind::Boomerang => plan
                        .rest_scalars
                        .get(i)
                        .map(|s| (*s, None))
                        .into_iter()
                        .collect(),
                    LockKind::H2tlc => guesses
                        .iter()
                        .chain(std::iter::once(&[0u8; 32]))
                        .map(|g| (plan.preimage.unwrap_or(PaymentPreimage([0; 32])), Some(*g)))
                        .collect(),
                    _ => guesses
                        .iter()
                        .chain(std::iter::once(&[0u8; 32]))
                        .map(|g| (PaymentPreimage(*g), None))
                        .collect(),
                };
                let mut claimed = false;
                for (preimage, sender_secret) in tries {
                    if self.try_claim(p, preimage, sender_secret, out).is_ok() {
                        // Under a hash lock only a broken lock gets here; the invariant
                        // reports it. Under boomerang the refund undoes it.
                        self.receivers[receiver.ix()]
                            .redundant
                            .record_settled(&secret, p.amount_msat);
                        claimed = true;
                        break;
                    }
                }
                if !claimed {
                    kept.push(*p);
                }
            }
            rest = kept;
        }
        let mut claimed = 0u32;
        for (p, preimage, sender_secret) in &plan.claims {
            if self.try_claim(p, *preimage, *sender_secret, out).is_ok() {
                claimed += 1;
                self.receivers[receiver.ix()]
                    .redundant
                    .record_settled(&secret, p.amount_msat);
            }
        }
        let (code, _) = unknown_payment(0, clock.height);
        self.fail_held(&rest, code, clock, out);
        out.push(Output::Event {
            node: receiver,
            event: Event::PaymentReceived {
                payment_hash: plan.event_hash,
                amount_msat: plan.amount_msat,
                parts: claimed,
            },
        });
    }

    /// Fails every still-accepted part of `parts` with `code`; returns how many.
    fn fail_held(
        &mut self,
        parts: &[HeldPart],
        code: FailureCode,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> usize {
        let mut n = 0;
        for p in parts {
            if self.is_accepted(p.htlc) {
                let (code, data) = if code == FailureCode::IncorrectOrUnknownPaymentDetails {
                    unknown_payment(p.htlc_msat, clock.height)
                } else {
                    (code, FailureData::default())
                };
                self.fail_back(p.htlc, code, data, out);
                n += 1;
            }
        }
        n
    }

    /// `node` claims an HTLC it holds as a redundant part with `preimage` (and
    /// `sender_secret`), outside the reveal flow: what a cheating receiver does with a
    /// guessed or re-used secret. The claim is checked against the HTLC's lock as its
    /// upstream peer would check the fulfil; a wrong claim is refused (counted in
    /// [`super::HtlcCounters::overclaim_attempts`]) and changes nothing else. A right one
    /// fulfils the HTLC and stops holding it.
    pub fn claim_held(
        &mut self,
        node: NodeIdx,
        htlc: HtlcId,
        preimage: PaymentPreimage,
        sender_secret: Option<[u8; 32]>,
        out: &mut Vec<Output>,
    ) -> Result<(), DeliverError> {
        let (secret, part) = self.receivers[node.ix()]
            .redundant
            .find_held(htlc)
            .ok_or(DeliverError::NotHeld(htlc))?;
        self.try_claim(&part, preimage, sender_secret, out)?;
        let book = &mut self.receivers[node.ix()].redundant;
        book.remove_held(&secret, htlc);
        book.record_settled(&secret, part.amount_msat);
        Ok(())
    }

    /// The parts `node` holds for the payment with `secret` (for tests and cheats).
    pub fn held_parts(&self, node: NodeIdx, secret: &PaymentSecret) -> usize {
        self.receivers[node.ix()].redundant.held_parts(secret)
    }

    /// Checks a claim on a held part against its HTLC's lock; fulfils it if it opens.
    fn try_claim(
        &mut self,
        part: &HeldPart,
        preimage: PaymentPreimage,
        sender_secret: Option<[u8; 32]>,
        out: &mut Vec<Output>,
    ) -> Result<(), DeliverError> {
        let id = part.htlc;
        let rec = self.htlcs.get(id).ok_or(DeliverError::UnknownHtlc(id))?;
        if rec.state != HtlcState::Accepted {
            return Err(DeliverError::WrongState {
                msg: "update_fulfill_htlc",
                htlc: id,
                state: rec.state,
            });
        }
        let (hash, lock) = (rec.payment_hash, rec.lock);
        if let Err(e) = self.claim_opens(&hash, &lock, &preimage, sender_secret.as_ref()) {
            self.counters.overclaim_attempts += 1;
            return Err(match e {
                ClaimError::WrongPreimage | ClaimError::WrongScalar => {
                    DeliverError::WrongPreimage(id)
                }
                _ => DeliverError::WrongSenderSecret(id),
            });
        }
        self.fulfil_back(id, preimage, sender_secret, out);
        Ok(())
    }

    fn is_accepted(&self, id: HtlcId) -> bool {
        self.htlcs
            .get(id)
            .is_some_and(|h| h.state == HtlcState::Accepted)
    }

    /// The node that sent the part an HTLC carries: the source of its first HTLC.
    fn sender_of(&self, mut id: HtlcId) -> Option<NodeIdx> {
        loop {
            let h = self.htlcs.get(id)?;
            match h.origin {
                HtlcOrigin::Forwarded { incoming } => id = incoming,
                HtlcOrigin::Local { .. } => return Some(self.graph.edge_source(h.edge)),
            }
        }
    }

    /// A final HTLC whose payload carries a redundant record.
    pub(super) fn on_final_redundant(
        &mut self,
        node: NodeIdx,
        htlc: IncomingHtlc,
        payload: &HopPayload,
        red: &RedundantPart,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        let lock = self.htlcs.get(htlc.id).map(|h| h.lock).unwrap_or_default();
        let mpp_timeout = self.configs[node.ix()].mpp_timeout;
        let cheating = self.configs[node.ix()].behaviour == Behaviour::CheatingReceiver;
        if cheating && self.cheat_late_boomerang_part(node, htlc, payload, red, out) {
            return;
        }
        let book = &mut self.receivers[node.ix()].redundant;
        match book.receive(htlc, lock, payload, red, clock) {
            RedundantDecision::Fail { code, data } => self.fail_back(htlc.id, code, data, out),
            RedundantDecision::Hold {
                new_round,
                claim_request,
                claim_now,
            } => {
                if let (Some(round), Some(pd)) = (new_round, payload.payment_data) {
                    out.push(Output::Timer {
                        at: clock.now + mpp_timeout.as_micros() as u64,
                        timer: Timer::RedundantTimeout {
                            node,
                            payment_secret: pd.payment_secret,
                            round,
                        },
                    });
                }
                if let Some(parts) = claim_request {
                    let sender = self.sender_of(htlc.id);
                    self.claim_requests.push_back(ClaimRequest {
                        receiver: node,
                        sender,
                        payment_id: red.payment_id,
                        parts,
                    });
                }
                if claim_now {
                    if let Some(plan) = payload
                        .payment_data
                        .and_then(|pd| book_claim(self, node, &pd.payment_secret))
                    {
                        self.execute_plan(node, plan, &[], clock, out);
                    }
                }
            }
        }
    }

    /// A cheating receiver claims a boomerang part that arrives after the payment was
    /// claimed, with the scalar it knows. Returns whether it did.
    fn cheat_late_boomerang_part(
        &mut self,
        node: NodeIdx,
        htlc: IncomingHtlc,
        payload: &HopPayload,
        red: &RedundantPart,
        out: &mut Vec<Output>,
    ) -> bool {
        let Some(pd) = payload.payment_data else {
            return false;
        };
        let book = &self.receivers[node.ix()].redundant;
        let Some(scalar) = book.late_scalar(&pd.payment_secret, red.part_index) else {
            return false;
        };
        let lock = self.htlcs.get(htlc.id).map(|h| h.lock).unwrap_or_default();
        let part = HeldPart::new(red, &htlc, payload, lock);
        if self.try_claim(&part, scalar, None, out).is_err() {
            return false;
        }
        self.receivers[node.ix()]
            .redundant
            .record_settled(&pd.payment_secret, part.amount_msat);
        true
    }

    /// A round's timeout: if it was not claimed, every held part fails with
    /// `mpp_timeout`.
    pub(super) fn redundant_timeout(
        &mut self,
        node: NodeIdx,
        secret: PaymentSecret,
        round: u32,
        out: &mut Vec<Output>,
    ) {
        let Some(parts) = self.receivers[node.ix()].redundant.timeout(&secret, round) else {
            return;
        };
        for p in parts {
            if self.is_accepted(p.htlc) {
                self.fail_back(p.htlc, FailureCode::MppTimeout, FailureData::default(), out);
            }
        }
    }
}

/// `node`'s boomerang claim of the payment with `secret` (k parts held).
fn book_claim(net: &mut Network, node: NodeIdx, secret: &PaymentSecret) -> Option<RevealPlan> {
    let cheating = net.configs[node.ix()].behaviour == Behaviour::CheatingReceiver;
    net.receivers[node.ix()]
        .redundant
        .claim_boomerang(secret, cheating)
}
