//! Redundant overpayment at one node (see [`crate::redundant`]): as a receiver, holding
//! locked parts, the claim request to the sender's reply path, the sender's reveal
//! (claim exactly A, fail the rest), the sender's cancel, direct (possibly cheating)
//! claims, the round timeout, Boomerang's immediate claim (its refund is `reverse.rs`); as a sender,
//! the reveal and cancel it sends and the claim requests it hands to its user.

use flotilla_graph::NodeIdx;

use crate::boomerang::BoomerangPolynomial;
use crate::clock::Clock;
use crate::config::Behaviour;
use crate::failure::{FailureCode, FailureData};
use crate::htlc::{HtlcId, HtlcState};
use crate::lock::{ClaimError, LockKind};
use crate::msg::EndpointMsg;
use crate::output::{Event, Output, Timer};
use crate::payload::{HopPayload, RedundantPart};
use crate::receiver::{unknown_payment, IncomingHtlc, RegisterError};
use crate::redundant::{HeldPart, RedundantDecision, RedundantInvoice, RevealError, RevealPlan};
use crate::{PaymentPreimage, PaymentSecret};

use super::{Node, PeerError};

impl Node {
    /// Expects a redundant payment.
    pub fn register_redundant(&mut self, invoice: RedundantInvoice) -> Result<(), RegisterError> {
        let book = &mut self.receiver.redundant;
        book.forget_expired(self.now);
        book.register(invoice)
    }

    /// Expects a `boomerang` payment of A in k = `polynomial.degree()` equal parts.
    pub fn register_boomerang(
        &mut self,
        invoice: RedundantInvoice,
        polynomial: BoomerangPolynomial,
    ) -> Result<(), RegisterError> {
        self.receiver
            .redundant
            .register_boomerang(invoice, polynomial)
    }

    /// Sender: answers `receiver`'s claim request for `payment_id` with the secrets of
    /// the parts it may claim (an onion message to the receiver).
    pub fn reveal(
        &mut self,
        receiver: NodeIdx,
        payment_id: [u8; 32],
        secrets: Vec<(u16, [u8; 32])>,
        out: &mut Vec<Output>,
    ) {
        self.send_endpoint(
            receiver,
            EndpointMsg::Reveal {
                payment_id,
                secrets,
            },
            out,
        );
    }

    /// Sender: gives up `payment_id`; tells `receiver` to fail every part it holds and
    /// every part still to come.
    pub fn cancel_payment(
        &mut self,
        receiver: NodeIdx,
        payment_id: [u8; 32],
        out: &mut Vec<Output>,
    ) {
        self.send_endpoint(receiver, EndpointMsg::Cancel { payment_id }, out);
    }

    /// An endpoint message from `from`.
    pub(super) fn on_endpoint(
        &mut self,
        from: NodeIdx,
        m: EndpointMsg,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        match m {
            EndpointMsg::ClaimRequest { payment_id, parts } => out.push(Output::Event {
                node: self.id,
                event: Event::ClaimRequested {
                    receiver: from,
                    payment_id,
                    parts,
                },
            }),
            EndpointMsg::Reveal {
                payment_id,
                secrets,
            } => {
                // Refused (the round timed out meanwhile): nothing changed, the parts
                // have come or will come back failed.
                if let Err(e) = self.apply_reveal(payment_id, secrets, clock, out) {
                    tracing::trace!(node = self.id.0, error = %e, "reveal refused");
                }
            }
            EndpointMsg::Cancel { payment_id } => {
                self.apply_cancel(payment_id, clock, out);
            }
        }
    }

    /// Receiver: the sender of `payment_id` gave up; fails every part held for that
    /// payment at once (instead of at its timeout), and every part of it that arrives
    /// later. Returns how many held parts failed.
    pub fn apply_cancel(
        &mut self,
        payment_id: [u8; 32],
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> usize {
        self.now = clock.now;
        self.height = clock.height;
        self.receiver.redundant.forget_expired(clock.now);
        let parts = self.receiver.redundant.cancel(&payment_id, clock.now);
        let n = self.fail_held(&parts, FailureCode::MppTimeout, clock, out);
        self.flush_commitments(out);
        n
    }

    /// Receiver: the sender's secrets of the parts of `payment_id` it may claim. If they
    /// are valid (every part held, every secret opens its part's lock, worth exactly A)
    /// this node claims exactly those parts and fails every other held part at once
    /// with `incorrect_or_unknown_payment_details`; the payment is complete and later
    /// parts fail the same way. A [`Behaviour::CheatingReceiver`] also tries to claim the
    /// other parts first (refused and counted). On error nothing changed: the parts stay
    /// held until their timeout.
    pub fn apply_reveal(
        &mut self,
        payment_id: [u8; 32],
        secrets: Vec<(u16, [u8; 32])>,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<(), RevealError> {
        self.now = clock.now;
        self.height = clock.height;
        let plan = self.receiver.redundant.reveal(&payment_id, &secrets)?;
        let guesses: Vec<[u8; 32]> = secrets.iter().map(|(_, s)| *s).collect();
        self.execute_plan(plan, &guesses, clock, out);
        self.flush_commitments(out);
        Ok(())
    }

    /// The refund's move over end `end`: `amount_msat` from the side `from_local` names
    /// to the other, and the ledger undone. Refused, nothing moved, if that side does not
    /// hold it.
    pub fn refund_shift(
        &mut self,
        end: usize,
        from_local: bool,
        amount_msat: u64,
        fee_msat: u64,
    ) -> bool {
        if !self.ends[end].shift(from_local, amount_msat) {
            return false;
        }
        let l = &mut self.ledger;
        if from_local {
            // This node had received it: it pays it back.
            l.paid_in_msat = l.paid_in_msat.saturating_sub(amount_msat);
            l.fees_earned_msat = l.fees_earned_msat.saturating_sub(fee_msat);
        } else {
            l.paid_out_msat = l.paid_out_msat.saturating_sub(amount_msat);
        }
        true
    }

    /// Claims a plan's parts and fails the rest. A [`Behaviour::CheatingReceiver`]
    /// first tries to claim the rest too: with `guesses` (the secrets it was given, and
    /// zero) under the hash locks, refused by the lock check and counted; with the true
    /// scalars it knows under `boomerang`, which succeed and hand the sender the k + 1st
    /// scalar that triggers the refund.
    fn execute_plan(
        &mut self,
        plan: RevealPlan,
        guesses: &[[u8; 32]],
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        let secret = plan.secret;
        let mut rest: Vec<HeldPart> = plan.rest.clone();
        if self.config.behaviour == Behaviour::CheatingReceiver {
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
                    if self
                        .try_claim(&secret, p, preimage, sender_secret, out)
                        .is_ok()
                    {
                        // Under a hash lock only a broken lock gets here; the invariant
                        // reports it. Under boomerang the refund undoes it.
                        self.receiver
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
            if self
                .try_claim(&secret, p, *preimage, *sender_secret, out)
                .is_ok()
            {
                claimed += 1;
                self.receiver
                    .redundant
                    .record_settled(&secret, p.amount_msat);
            }
        }
        let (code, _) = unknown_payment(0, clock.height);
        self.fail_held(&rest, code, clock, out);
        out.push(Output::Event {
            node: self.id,
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
        htlc: HtlcId,
        preimage: PaymentPreimage,
        sender_secret: Option<[u8; 32]>,
        out: &mut Vec<Output>,
    ) -> Result<(), PeerError> {
        let (secret, part) = self
            .receiver
            .redundant
            .find_held(htlc)
            .ok_or(PeerError::NotHeld(htlc))?;
        self.try_claim(&secret, &part, preimage, sender_secret, out)?;
        let book = &mut self.receiver.redundant;
        book.remove_held(&secret, htlc);
        book.record_settled(&secret, part.amount_msat);
        self.flush_commitments(out);
        Ok(())
    }

    /// Receiver: the parts of `payment_id` its claim request named, while the request
    /// still waits for the sender's answer (a live driver re-sends it until then).
    pub fn awaiting_answer(&self, payment_id: &[u8; 32]) -> Option<Vec<(u16, u64)>> {
        self.receiver.redundant.awaiting_answer(payment_id)
    }

    /// Receiver: whether it holds parts of `payment_id` in an open round.
    pub fn has_round(&self, payment_id: &[u8; 32]) -> bool {
        self.receiver.redundant.has_round(payment_id)
    }

    /// The parts this node holds for the payment with `secret` (for tests and cheats).
    pub fn held_parts(&self, secret: &PaymentSecret) -> usize {
        self.receiver.redundant.held_parts(secret)
    }

    /// Checks a claim on a held part against its HTLC's lock; fulfils it if it opens.
    fn try_claim(
        &mut self,
        payment: &PaymentSecret,
        part: &HeldPart,
        preimage: PaymentPreimage,
        sender_secret: Option<[u8; 32]>,
        out: &mut Vec<Output>,
    ) -> Result<(), PeerError> {
        let id = part.htlc;
        let rec = self.htlcs.get(id).ok_or(PeerError::NotHeld(id))?;
        if rec.state != HtlcState::Accepted {
            return Err(PeerError::WrongState {
                msg: "update_fulfill_htlc",
                htlc: rec.wire,
                state: rec.state,
            });
        }
        let wire = rec.wire;
        let (hash, lock) = (rec.payment_hash, rec.lock);
        if let Err(e) = self.claim_opens(&hash, &lock, &preimage, sender_secret.as_ref()) {
            self.counters.overclaim_attempts += 1;
            return Err(match e {
                ClaimError::WrongPreimage | ClaimError::WrongScalar => {
                    PeerError::WrongPreimage(wire)
                }
                _ => PeerError::WrongSenderSecret(wire),
            });
        }
        // A boomerang part: the receiver now owes its reverse clause.
        if let Some(c0) = self.forget_reverse_point(id) {
            let rec = *self.htlcs.get(id).expect("checked above");
            self.owe_reverse(c0, &rec, 0, None, Some(*payment));
        }
        self.fulfil_back(id, preimage, sender_secret, out);
        Ok(())
    }

    fn is_accepted(&self, id: HtlcId) -> bool {
        self.htlcs
            .get(id)
            .is_some_and(|h| h.state == HtlcState::Accepted)
    }

    /// A final HTLC whose payload carries a redundant record.
    pub(super) fn on_final_redundant(
        &mut self,
        htlc: IncomingHtlc,
        payload: &HopPayload,
        red: &RedundantPart,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        let lock = self.htlcs.get(htlc.id).map(|h| h.lock).unwrap_or_default();
        let mpp_timeout = self.config.mpp_timeout;
        let cheating = self.config.behaviour == Behaviour::CheatingReceiver;
        if cheating && self.cheat_late_boomerang_part(htlc, payload, red, out) {
            return;
        }
        let book = &mut self.receiver.redundant;
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
                        node: self.id,
                        timer: Timer::RedundantTimeout {
                            payment_secret: pd.payment_secret,
                            round,
                        },
                    });
                }
                if let Some(parts) = claim_request {
                    // To the sender's reply path; a part without one (never sent by a
                    // node) cannot be asked about.
                    // A live part names its sender by node id (each live node numbers
                    // the others its own way); a simulated one by index.
                    let reply = match red.reply_node {
                        Some(id) => flotilla_graph::NodePubkey::from_bytes(id)
                            .ok()
                            .and_then(|k| self.dir.graph.node_by_pubkey(&k)),
                        None => Some(NodeIdx(red.reply_to))
                            .filter(|n| n.ix() < self.dir.graph.node_count()),
                    };
                    if let Some(reply) = reply {
                        self.send_endpoint(
                            reply,
                            EndpointMsg::ClaimRequest {
                                payment_id: red.payment_id,
                                parts,
                            },
                            out,
                        );
                    }
                }
                if claim_now {
                    let cheating = self.config.behaviour == Behaviour::CheatingReceiver;
                    if let Some(plan) = payload.payment_data.and_then(|pd| {
                        self.receiver
                            .redundant
                            .claim_boomerang(&pd.payment_secret, cheating)
                    }) {
                        self.execute_plan(plan, &[], clock, out);
                    }
                }
            }
        }
    }

    /// A cheating receiver claims a boomerang part that arrives after the payment was
    /// claimed, with the scalar it knows. Returns whether it did.
    fn cheat_late_boomerang_part(
        &mut self,
        htlc: IncomingHtlc,
        payload: &HopPayload,
        red: &RedundantPart,
        out: &mut Vec<Output>,
    ) -> bool {
        let Some(pd) = payload.payment_data else {
            return false;
        };
        let book = &self.receiver.redundant;
        let Some(scalar) = book.late_scalar(&pd.payment_secret, red.part_index) else {
            return false;
        };
        let lock = self.htlcs.get(htlc.id).map(|h| h.lock).unwrap_or_default();
        let part = HeldPart::new(red, &htlc, payload, lock);
        if self
            .try_claim(&pd.payment_secret, &part, scalar, None, out)
            .is_err()
        {
            return false;
        }
        self.receiver
            .redundant
            .record_settled(&pd.payment_secret, part.amount_msat);
        true
    }

    /// A round's timeout: if it was not claimed, every held part fails with
    /// `mpp_timeout`.
    pub(super) fn redundant_timeout(
        &mut self,
        secret: PaymentSecret,
        round: u32,
        out: &mut Vec<Output>,
    ) {
        let Some(parts) = self.receiver.redundant.timeout(&secret, round) else {
            return;
        };
        for p in parts {
            if self.is_accepted(p.htlc) {
                self.fail_back(p.htlc, FailureCode::MppTimeout, FailureData::default(), out);
            }
        }
    }
}
