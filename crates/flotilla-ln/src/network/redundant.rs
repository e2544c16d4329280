//! Redundant overpayment at the network level (see [`crate::redundant`]): sending locked
//! parts, holding them at the receiver, the claim request, the sender's reveal, direct
//! (possibly cheating) claims, and the round timeout.

use flotilla_graph::NodeIdx;

use crate::clock::Clock;
use crate::config::Behaviour;
use crate::failure::{FailureCode, FailureData};
use crate::htlc::{HtlcId, HtlcOrigin, HtlcState};
use crate::lock::{check_claim, ClaimError, LockKind};
use crate::output::{Event, Output, Timer};
use crate::payload::{HopPayload, RedundantPart};
use crate::receiver::{unknown_payment, IncomingHtlc, RegisterError};
use crate::redundant::{
    ClaimRequest, HeldPart, RedundantDecision, RedundantInvoice, RedundantSendPart, RevealError,
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
        let secret = plan.secret;
        if self.configs[receiver.ix()].behaviour == Behaviour::CheatingReceiver {
            for p in &plan.rest {
                let guesses = secrets
                    .iter()
                    .map(|(_, s)| *s)
                    .chain(std::iter::once([0u8; 32]));
                for g in guesses {
                    let (preimage, sender_secret) = match plan.lock {
                        LockKind::H2tlc => {
                            (plan.preimage.unwrap_or(PaymentPreimage([0; 32])), Some(g))
                        }
                        _ => (PaymentPreimage(g), None),
                    };
                    if self.try_claim(p, preimage, sender_secret, out).is_ok() {
                        // Only a broken lock gets here; the invariant reports it.
                        self.receivers[receiver.ix()]
                            .redundant
                            .record_settled(&secret, p.amount_msat);
                        break;
                    }
                }
            }
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
        for p in &plan.rest {
            if self.is_accepted(p.htlc) {
                let (code, data) = unknown_payment(p.htlc_msat, clock.height);
                self.fail_back(p.htlc, code, data, out);
            }
        }
        out.push(Output::Event {
            node: receiver,
            event: Event::PaymentReceived {
                payment_hash: plan.event_hash,
                amount_msat: plan.amount_msat,
                parts: claimed,
            },
        });
        Ok(())
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
        if let Err(e) = check_claim(
            &rec.payment_hash,
            &rec.lock,
            &preimage,
            sender_secret.as_ref(),
        ) {
            self.counters.overclaim_attempts += 1;
            return Err(match e {
                ClaimError::WrongPreimage => DeliverError::WrongPreimage(id),
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
        let book = &mut self.receivers[node.ix()].redundant;
        match book.receive(htlc, lock, payload, red, clock) {
            RedundantDecision::Fail { code, data } => self.fail_back(htlc.id, code, data, out),
            RedundantDecision::Hold {
                new_round,
                claim_request,
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
            }
        }
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
