//! The redundant flow's endpoint messages at the engine: claim request (receiver →
//! sender), reveal and cancel (sender → receiver), as onion messages
//! ([`crate::transport::onion`]).
//!
//! Onion messages are best effort — a hop may be offline or drop them, and a message
//! may arrive twice — where the endpoint messages used to ride the durable per-peer
//! stream exactly once. The flow is made robust to loss, duplicates and restarts:
//!
//! - **The receiver re-sends its claim request** on a timer (1 s, doubling to 8 s)
//!   for as long as its round waits for the sender's answer
//!   (`Node::awaiting_answer`); the round's own timeout (`mpp_timeout`) still ends
//!   it. The timer is an engine timer (`Timer::EndpointResend`), logged and replayed
//!   like every other input, so a restart resumes the re-sending; a timer that an
//!   earlier send left behind is stale (`attempt`) and does nothing.
//! - **The sender answers every claim request, idempotently**: the first one with
//!   the reveal of a subset worth exactly A (the session reveals at most A over the
//!   payment's life), every later one with the same reveal again, and once it has
//!   given up, with its cancel. It answers along the request's blinded reply path.
//! - **Duplicates change nothing**: a second reveal finds the round claimed and is
//!   refused by the node; a second cancel finds nothing held; a second claim request
//!   gets the same answer.
//! - **The sender re-sends its cancel** (after giving up) on the same schedule for
//!   as long as any of its parts is still out: the cancel exists to free the parts
//!   the receiver holds, so once every part came back it has done its work. A round
//!   that already asked also gets the cancel as the answer to its re-sent request.
//!
//! Every message that arrives and concerns one of this node's payments
//! ([`Engine::wants_endpoint`]) is an input ([`super::Input::Onion`]), logged before
//! the engine acts on it, with the reply path it came with.

use std::collections::HashMap;

use bitcoin::secp256k1::PublicKey;
use flotilla_ln::clock::Clock;
use flotilla_ln::output::Timer;
use flotilla_ln::redundant_session::RedundantSession;
use flotilla_ln::wire::{self, ClaimRequest, Message};
use flotilla_route::Timestamp;

use super::{Effect, Engine};

/// The first re-send of a claim request, after the first send, µs.
pub const RESEND_FIRST_MICROS: u64 = 1_000_000;
/// The longest wait between two re-sends, µs.
pub const RESEND_MAX_MICROS: u64 = 8_000_000;

/// The wait after send number `attempt` (0 for the first send).
pub fn resend_after(attempt: u32) -> u64 {
    RESEND_FIRST_MICROS
        .saturating_mul(1u64 << attempt.min(16))
        .min(RESEND_MAX_MICROS)
}

/// A claim request this node sent as receiver, re-sent until answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Resend {
    /// The sender, as the part's payload named it.
    to: PublicKey,
    /// How many sends so far, less one: the timer that matches it is the live one.
    attempt: u32,
}

/// The timer for the `attempt`-th re-send of `payment_id`'s endpoint message.
fn resend_timer(payment_id: [u8; 32], attempt: u32, clock: &Clock) -> Effect {
    Effect::Timer {
        at: Timestamp(clock.now.0 + resend_after(attempt)),
        timer: Timer::EndpointResend {
            payment_id,
            attempt,
        },
    }
}

/// Sends `message` to `to` again as re-send number `attempt` (recorded in `table`,
/// counted in `resent`) and sets the timer for the next one. A re-send carries no
/// reply path.
#[allow(clippy::too_many_arguments)]
fn resend(
    table: &mut HashMap<[u8; 32], Resend>,
    resent: &mut u64,
    payment_id: [u8; 32],
    to: PublicKey,
    attempt: u32,
    message: Message,
    clock: &Clock,
    fx: &mut Vec<Effect>,
) {
    table.insert(payment_id, Resend { to, attempt });
    *resent += 1;
    fx.push(Effect::Onion {
        to,
        message,
        reply: None,
    });
    fx.push(resend_timer(payment_id, attempt, clock));
}

/// The engine's endpoint-message state.
#[derive(Clone, Debug, Default)]
pub(super) struct Endpoints {
    /// Claim requests waiting for an answer, by payment id.
    resends: HashMap<[u8; 32], Resend>,
    /// This node's cancels (as sender), re-sent while the payment has parts out.
    cancels: HashMap<[u8; 32], Resend>,
    /// The reply path of the onion message being handled: answers go along it.
    replying: Option<Vec<u8>>,
    /// Claim requests and cancels re-sent, for `info`.
    pub(super) resent: u64,
}

impl Engine {
    /// An endpoint message leaves: as an onion message, along the reply path of the
    /// message being answered if there is one. A claim request starts its re-send
    /// timer.
    pub(super) fn endpoint_out(
        &mut self,
        to: PublicKey,
        message: Message,
        clock: &Clock,
        fx: &mut Vec<Effect>,
    ) {
        let table = match &message {
            Message::ClaimRequest(c) => Some((c.payment_id, &mut self.endpoints.resends)),
            Message::CancelPayment(c) => Some((c.payment_id, &mut self.endpoints.cancels)),
            _ => None,
        };
        if let Some((payment_id, table)) = table {
            if let std::collections::hash_map::Entry::Vacant(e) = table.entry(payment_id) {
                e.insert(Resend { to, attempt: 0 });
                fx.push(resend_timer(payment_id, 0, clock));
            }
        }
        fx.push(Effect::Onion {
            to,
            message,
            reply: self.endpoints.replying.clone(),
        });
    }

    /// An endpoint message arrived as an onion message (`bytes` tunnelled-framed);
    /// `reply` is its reply path. Anything else, or garbage, is ignored: an onion
    /// message has no sender to warn.
    pub(super) fn onion_message(
        &mut self,
        bytes: &[u8],
        reply: Option<&Vec<u8>>,
        clock: &Clock,
        fx: &mut Vec<Effect>,
    ) {
        let message = match wire::decode(bytes) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!("onion message ignored: {e}");
                return;
            }
        };
        let Some(node) = self.node.as_mut() else {
            return;
        };
        self.endpoints.replying = reply.cloned();
        match message {
            Message::ClaimRequest(ClaimRequest { payment_id, parts }) => {
                let id = RedundantSession::session_of_payment_id(&payment_id);
                if let Some(p) = self
                    .redundant
                    .get_mut(&id)
                    .filter(|p| p.payment_id() == payment_id)
                {
                    let was_done = p.is_done();
                    p.on_claim_request(&parts, node, clock, &mut self.out);
                    if !was_done && p.is_done() {
                        self.finished.push(id);
                    }
                }
            }
            Message::RevealSecrets(r) => {
                if let Err(e) = node.apply_reveal(r.payment_id, r.secrets, clock, &mut self.out) {
                    // Claimed already (a duplicate), or the round timed out: nothing
                    // changed.
                    tracing::debug!("reveal not applied: {e}");
                }
            }
            Message::CancelPayment(c) => {
                node.apply_cancel(c.payment_id, clock, &mut self.out);
            }
            other => {
                tracing::debug!(
                    "{} is not an endpoint message; ignored",
                    other.message_type().name()
                );
            }
        }
        self.drain(clock, fx);
        self.endpoints.replying = None;
    }

    /// A re-send timer: a claim request's (as receiver) or a cancel's (as sender).
    pub(super) fn resend_endpoint(
        &mut self,
        payment_id: [u8; 32],
        attempt: u32,
        clock: &Clock,
        fx: &mut Vec<Effect>,
    ) {
        if self.endpoints.resends.contains_key(&payment_id) {
            self.resend_claim(payment_id, attempt, clock, fx);
        } else {
            self.resend_cancel(payment_id, attempt, clock, fx);
        }
    }

    /// The cancel's re-send timer: send it again while the payment has parts out.
    fn resend_cancel(
        &mut self,
        payment_id: [u8; 32],
        attempt: u32,
        clock: &Clock,
        fx: &mut Vec<Effect>,
    ) {
        let Some(r) = self.endpoints.cancels.get(&payment_id) else {
            return;
        };
        if r.attempt != attempt {
            return;
        }
        let out = self
            .redundant
            .get(&RedundantSession::session_of_payment_id(&payment_id))
            .filter(|p| p.payment_id() == payment_id)
            .map_or(0, |p| p.parts_in_flight());
        if out == 0 {
            self.endpoints.cancels.remove(&payment_id);
            return;
        }
        let to = r.to;
        tracing::debug!(receiver = %to, attempt = attempt + 1, parts_out = out, "cancel re-sent");
        let message = Message::CancelPayment(wire::CancelPayment { payment_id });
        let e = &mut self.endpoints;
        resend(
            &mut e.cancels,
            &mut e.resent,
            payment_id,
            to,
            attempt + 1,
            message,
            clock,
            fx,
        );
    }

    /// A claim request's re-send timer: send it again (with the parts held now) while
    /// the round still waits for the answer, and set the next timer.
    fn resend_claim(
        &mut self,
        payment_id: [u8; 32],
        attempt: u32,
        clock: &Clock,
        fx: &mut Vec<Effect>,
    ) {
        let Some(r) = self.endpoints.resends.get(&payment_id) else {
            return;
        };
        if r.attempt != attempt {
            return;
        }
        let parts = self
            .node
            .as_ref()
            .and_then(|n| n.awaiting_answer(&payment_id));
        let Some(parts) = parts else {
            // Answered, cancelled or timed out: nothing more to send.
            self.endpoints.resends.remove(&payment_id);
            return;
        };
        let to = r.to;
        tracing::debug!(sender = %to, attempt = attempt + 1, "claim request re-sent");
        let message = Message::ClaimRequest(ClaimRequest { payment_id, parts });
        let e = &mut self.endpoints;
        resend(
            &mut e.resends,
            &mut e.resent,
            payment_id,
            to,
            attempt + 1,
            message,
            clock,
            fx,
        );
    }

    /// Whether an endpoint message that arrived as an onion message concerns a
    /// payment of this node: a claim request for one of its redundant payments, a
    /// reveal for a round waiting for it, a cancel for an open round. Anyone can send
    /// onion messages; only these are logged and applied, so strangers cannot grow
    /// the log (a cancel that overtakes every part is dropped too: the parts are then
    /// held until the receiver's claim request is answered with the cancel again, or
    /// until the round times out).
    pub fn wants_endpoint(&self, message: &Message) -> bool {
        let Some(node) = self.node.as_ref() else {
            return false;
        };
        match message {
            Message::ClaimRequest(c) => self
                .redundant
                .get(&RedundantSession::session_of_payment_id(&c.payment_id))
                .is_some_and(|p| p.payment_id() == c.payment_id),
            Message::RevealSecrets(r) => node.awaiting_answer(&r.payment_id).is_some(),
            Message::CancelPayment(c) => node.has_round(&c.payment_id),
            _ => false,
        }
    }

    /// Claim requests still waiting for an answer, and how many were re-sent.
    pub fn endpoint_json(&self) -> serde_json::Value {
        let awaiting = self
            .endpoints
            .resends
            .keys()
            .filter(|id| {
                self.node
                    .as_ref()
                    .is_some_and(|n| n.awaiting_answer(id).is_some())
            })
            .count();
        serde_json::json!({
            "claims_awaiting_answer": awaiting,
            "cancels_being_resent": self.endpoints.cancels.len(),
            "endpoint_messages_resent": self.endpoints.resent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resends_back_off_to_a_ceiling() {
        let waits: Vec<u64> = (0..6).map(resend_after).collect();
        assert_eq!(
            waits,
            [1_000_000, 2_000_000, 4_000_000, 8_000_000, 8_000_000, 8_000_000]
        );
        assert_eq!(resend_after(u32::MAX), RESEND_MAX_MICROS);
    }
}
