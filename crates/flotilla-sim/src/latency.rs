//! Per-hop latency by message class (`[network.latency_by_message]`).
//!
//! Each message the driver carries belongs to one [`MessageClass`]; a scenario may give
//! any class its own latency model (or `zero`), and a class it leaves out uses
//! `network.latency`. Every draw comes from the arm's one `"latency"` stream in the
//! order the messages are sent, so a scenario that sets no class draws exactly the
//! numbers it drew before classes existed (`tests/latency_classes.rs` proves it
//! against a recorded run). A constant or zero model draws nothing.
//!
//! The Boomerang paper's simulator (docs/paper-model.md) delays the forward reserve and
//! the backward execute and rollback acknowledgements 50–150 ms per hop and everything
//! else (reserve answers, execute, rollback, abort) not at all; its scenario
//! (`scenarios/boomerang-paper.toml`) maps that onto these classes.

use flotilla_ln::msg::{EndpointMsg, Msg};
use rand::Rng;

use crate::faults::draw_latency_micros;
use crate::scenario::{LatencyModel, MessageLatencies};

/// What a message is, for its latency.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum MessageClass {
    /// `update_add_htlc`: a part moving toward the receiver.
    Add,
    /// `update_fail_htlc` and `update_fail_malformed_htlc`: a part coming back failed.
    Fail,
    /// `update_fulfill_htlc`: a part coming back settled.
    Fulfill,
    /// A redundant payment's claim request, receiver to sender (like an onion message
    /// along a part's path; one draw per hop).
    ClaimRequest,
    /// The sender's reveal of part secrets, sender to receiver (per hop).
    Reveal,
    /// The sender's cancel of held parts, sender to receiver (per hop).
    Cancel,
    /// `commitment_signed` and `revoke_and_ack` (the full commitment mode only).
    Commitment,
    /// `cancel_htlc`: the sender's cancel of a surplus part, passed on hop by hop
    /// (docs/cancel.md); zero under `sender.cancel_surplus = "instant"`.
    CancelHtlc,
}

impl MessageClass {
    /// Every class, in the order `[network.latency_by_message]` documents them.
    pub const ALL: [MessageClass; 8] = [
        MessageClass::Add,
        MessageClass::Fail,
        MessageClass::Fulfill,
        MessageClass::ClaimRequest,
        MessageClass::Reveal,
        MessageClass::Cancel,
        MessageClass::Commitment,
        MessageClass::CancelHtlc,
    ];

    /// The class's key in `[network.latency_by_message]`.
    pub fn key(self) -> &'static str {
        match self {
            MessageClass::Add => "add",
            MessageClass::Fail => "fail",
            MessageClass::Fulfill => "fulfill",
            MessageClass::ClaimRequest => "claim_request",
            MessageClass::Reveal => "reveal",
            MessageClass::Cancel => "cancel",
            MessageClass::Commitment => "commitment",
            MessageClass::CancelHtlc => "cancel_htlc",
        }
    }
}

/// The class of a peer message: the one place that maps message kinds to classes (a
/// new kind of message gets its class here).
pub fn message_class(msg: &Msg) -> MessageClass {
    match msg {
        Msg::AddHtlc(_) => MessageClass::Add,
        // A boomerang refund claims a reverse clause the way a fulfil claims an HTLC.
        Msg::FulfillHtlc(_) | Msg::BoomerangRefund(_) => MessageClass::Fulfill,
        Msg::FailHtlc(_) | Msg::FailMalformedHtlc(_) => MessageClass::Fail,
        Msg::CommitmentSigned { .. } | Msg::RevokeAndAck { .. } => MessageClass::Commitment,
        Msg::Endpoint(EndpointMsg::ClaimRequest { .. }) => MessageClass::ClaimRequest,
        Msg::Endpoint(EndpointMsg::Reveal { .. }) => MessageClass::Reveal,
        Msg::Endpoint(EndpointMsg::Cancel { .. }) => MessageClass::Cancel,
        Msg::CancelHtlc(_) => MessageClass::CancelHtlc,
    }
}

/// The latency model of every class, resolved once per arm.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyPlan {
    by_class: [LatencyModel; 8],
}

impl LatencyPlan {
    /// Each class's model from `classes`, `fallback` (`network.latency`) where unset.
    pub fn new(fallback: &LatencyModel, classes: &MessageLatencies) -> LatencyPlan {
        LatencyPlan {
            by_class: MessageClass::ALL.map(|c| classes.get(c).unwrap_or(fallback).clone()),
        }
    }

    /// The same plan with class `c` instant (the idealised abort of
    /// `sender.cancel_surplus = "instant"`).
    pub fn with_zero(mut self, c: MessageClass) -> LatencyPlan {
        self.by_class[c as usize] = LatencyModel::Zero;
        self
    }

    /// The model class `c` uses.
    pub fn model(&self, c: MessageClass) -> &LatencyModel {
        &self.by_class[c as usize]
    }

    /// One hop's latency for a message of class `c`, µs.
    pub fn draw(&self, c: MessageClass, rng: &mut impl Rng) -> u64 {
        draw_latency_micros(self.model(c), rng)
    }

    /// One hop's latency for `msg`, µs.
    pub fn draw_msg(&self, msg: &Msg, rng: &mut impl Rng) -> u64 {
        self.draw(message_class(msg), rng)
    }

    /// An endpoint message of class `c` travelling `hops` hops (at least one): one
    /// draw per hop, summed, µs.
    pub fn draw_path(&self, c: MessageClass, hops: usize, rng: &mut impl Rng) -> u64 {
        (0..hops.max(1)).map(|_| self.draw(c, rng)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    fn uniform() -> LatencyModel {
        LatencyModel::Uniform {
            min_ms: 50,
            max_ms: 150,
        }
    }

    #[test]
    fn unset_classes_draw_like_the_fallback_from_the_same_stream() {
        let plan = LatencyPlan::new(&uniform(), &MessageLatencies::default());
        let mut a = stream(3, "latency");
        let mut b = stream(3, "latency");
        for c in MessageClass::ALL.iter().cycle().take(60) {
            assert_eq!(
                plan.draw(*c, &mut a),
                draw_latency_micros(&uniform(), &mut b)
            );
        }
    }

    #[test]
    fn set_classes_use_their_own_model_and_zero_draws_nothing() {
        let classes = MessageLatencies {
            fail: Some(LatencyModel::Zero),
            fulfill: Some(LatencyModel::Constant { ms: 7 }),
            ..Default::default()
        };
        let plan = LatencyPlan::new(&uniform(), &classes);
        let mut a = stream(3, "latency");
        let mut b = stream(3, "latency");
        assert_eq!(plan.draw(MessageClass::Fail, &mut a), 0);
        assert_eq!(plan.draw(MessageClass::Fulfill, &mut a), 7_000);
        assert_eq!(plan.draw_path(MessageClass::Fail, 5, &mut a), 0);
        // Neither consumed a number: the next add draws what a fresh stream does.
        assert_eq!(
            plan.draw(MessageClass::Add, &mut a),
            draw_latency_micros(&uniform(), &mut b)
        );
        let l = plan.draw_path(MessageClass::Reveal, 3, &mut a);
        assert!((150_000..=450_000).contains(&l), "{l}");
    }

    #[test]
    fn every_class_has_a_distinct_key() {
        let keys: std::collections::BTreeSet<_> =
            MessageClass::ALL.iter().map(|c| c.key()).collect();
        assert_eq!(keys.len(), MessageClass::ALL.len());
        for (i, c) in MessageClass::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
    }
}
