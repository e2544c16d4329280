//! The live sender's redundant payment: the simulator's own
//! [`RedundantSession`] (part sizing, disjoint routing, retries, the reveal, the
//! surplus cancel, giving up, the boomerang refund) driven over this node alone
//! through [`LiveSender`], so there is one redundant sender, not a live twin.
//!
//! What the driver adds is what the simulator's event loop does around a session:
//! it answers the receiver's claim request with the reveal, sends the surplus
//! `cancel_htlc`s once the payment is complete, the sender's cancel when it gives
//! up, the reverse-clause claims when a `boomerang` receiver over-claimed, and a
//! deadline timer. It also keeps every part's record for `payments --json`.

use std::sync::Arc;

use bitcoin::secp256k1::PublicKey;
use flotilla_graph::{Graph, NodeIdx};
use flotilla_ln::boomerang::BoomerangCommitments;
use flotilla_ln::clock::Clock;
use flotilla_ln::lock::LockKind;
use flotilla_ln::node::Node;
use flotilla_ln::output::{Event, Output, Timer};
use flotilla_ln::redundant_session::{
    LiveSender, RedundancyStrategy, RedundantLimits, RedundantPayment, RedundantSession,
};
use flotilla_ln::session::{AttemptRecord, FailureReason, SessionState};
use flotilla_ln::{PaymentHash, PaymentSecret};
use flotilla_route::scorers::LiquidityBoundsScorer;
use flotilla_route::splitters::GreedySplitter;
use flotilla_route::Timestamp;
use serde_json::json;

use super::pay::{max_fee, PayStatus, MAX_ATTEMPTS, TIMEOUT_MICROS};

/// Base parts when the command names none.
pub const DEFAULT_BASE_PARTS: u32 = 4;
/// Routes the router rates less likely than this are not used (the simulator's
/// default `sender.min_route_probability`).
const MIN_ROUTE_PROBABILITY: f64 = 0.01;

/// What a redundant `pay` asks, as logged.
#[derive(Clone, Debug, PartialEq)]
pub struct RedundantAsk {
    /// The lock.
    pub lock: LockKind,
    /// ρ: n = ⌈k'·(1 + ρ)⌉ parts for k' base parts.
    pub redundancy: f64,
    /// k, the base parts (hash locks; `boomerang` takes the receiver's degree).
    pub base_parts: u32,
    /// `boomerang`: the receiver's commitments C_0, C_1, ….
    pub commitments: Vec<PublicKey>,
    /// Peers whose `init` does not advertise the lock's feature bit when the payment
    /// started: no part goes through them.
    pub excluded: Vec<PublicKey>,
}

/// One resolved part as `payments --json` lists it.
#[derive(Clone, Debug)]
struct PartRow {
    part: u32,
    amount_msat: u64,
    hops: usize,
    failure: Option<String>,
    /// It failed back after the payment was decided (cancelled, or refused by a
    /// receiver that had claimed A).
    failed_after_decision: bool,
    /// It failed at the receiver itself.
    refused_by_receiver: bool,
}

impl PartRow {
    /// `settled`, `failed`, or `surplus`. A receiver refuses the parts it does not
    /// need once it has claimed A, and that refusal can overtake the fulfils of the
    /// parts it claimed (they travel other paths): once the payment has succeeded,
    /// such a part is surplus whenever its failure came back.
    fn status(&self, succeeded: bool) -> &'static str {
        match self.failure {
            None => "settled",
            Some(_) if self.failed_after_decision => "surplus",
            Some(_) if succeeded && self.refused_by_receiver => "surplus",
            Some(_) => "failed",
        }
    }
}

/// One redundant payment from this node.
pub struct LiveRedundant {
    id: u64,
    graph: Arc<Graph>,
    router: GreedySplitter<LiquidityBoundsScorer>,
    session: RedundantSession,
    target: PublicKey,
    payment_hash: PaymentHash,
    redundancy: f64,
    excluded: Vec<PublicKey>,
    rows: Vec<PartRow>,
    finished: Option<Timestamp>,
    /// The secrets revealed (the answer to the first claim request), sent again to
    /// every later one: onion messages may be lost.
    revealed: Option<Vec<(u16, [u8; 32])>>,
    /// Claim requests answered again (with the same reveal, or the cancel).
    answers_repeated: u32,
}

impl LiveRedundant {
    /// A redundant payment of `amount_msat` to `target` (index `target_ix` in `graph`,
    /// the node's directory at its start), or why it cannot be made.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: u64,
        graph: Arc<Graph>,
        source: NodeIdx,
        (target, target_ix): (PublicKey, NodeIdx),
        amount_msat: u64,
        (payment_hash, payment_secret): (PaymentHash, PaymentSecret),
        ask: &RedundantAsk,
        excluded_nodes: Vec<NodeIdx>,
        final_cltv_delta: u32,
        secret_seed: u64,
        now: Timestamp,
    ) -> Result<Self, String> {
        let commitments = match ask.lock {
            LockKind::Boomerang => Some(
                BoomerangCommitments::from_points(ask.commitments.clone()).ok_or(
                    "pay: --lock boomerang needs the receiver's commitments (invoice --json's boomerang_commitments)",
                )?,
            ),
            LockKind::Hash => return Err("pay: the plain hash lock is not a redundant lock".into()),
            _ => None,
        };
        if let Some(c) = &commitments {
            if amount_msat % u64::from(c.degree()) != 0 {
                return Err(format!(
                    "pay: {amount_msat} msat does not split into the receiver's {} equal parts",
                    c.degree()
                ));
            }
        }
        let base_parts = ask.base_parts.max(1);
        let limits = RedundantLimits {
            strategy: RedundancyStrategy::Fixed(ask.redundancy),
            retry: true,
            // k = clamp(⌈A / 1 msat⌉, 1, base_parts) = base_parts for any A ≥ it.
            max_part_msat: 1,
            max_base_parts: base_parts,
            max_parts_in_flight: 3 * base_parts,
            max_attempts: MAX_ATTEMPTS,
            timeout_micros: TIMEOUT_MICROS,
            max_fee_msat: max_fee(amount_msat),
            final_cltv_delta,
            min_route_probability: MIN_ROUTE_PROBABILITY,
            excluded_nodes,
            min_part_msat: 1,
            base_split: false,
            // The live payer sends its surplus at once (no hedging yet).
            hedge_hop_micros: None,
            tree_copies: false,
        };
        let mut router = GreedySplitter::new(LiquidityBoundsScorer::new(&graph, source));
        router.prepare(&graph);
        let session = RedundantSession::new(
            RedundantPayment {
                id,
                source,
                target: target_ix,
                amount_msat,
                lock: ask.lock,
                payment_id: RedundantSession::payment_id_for(id, &payment_secret.0),
                payment_secret,
                payment_hash: (ask.lock == LockKind::H2tlc).then_some(payment_hash),
                commitments,
                secret_seed,
            },
            limits,
            now,
        )
        .cancel_surplus_on_completion();
        Ok(LiveRedundant {
            id,
            graph,
            router,
            session,
            target,
            payment_hash,
            redundancy: ask.redundancy,
            excluded: ask.excluded.clone(),
            rows: Vec::new(),
            finished: None,
            revealed: None,
            answers_repeated: 0,
        })
    }

    /// The payment id its parts and endpoint messages carry.
    pub fn payment_id(&self) -> [u8; 32] {
        self.session.payment_id()
    }

    /// The deadline timer to set when it starts.
    pub fn deadline_timer(&self) -> (Timestamp, Timer) {
        (
            self.session.deadline(),
            Timer::PaymentDeadline { payment: self.id },
        )
    }

    /// Places the first parts (and, later, replacements).
    pub fn pump(&mut self, node: &mut Node, clock: &Clock, out: &mut Vec<Output>) {
        let mut net = LiveSender {
            node: &mut *node,
            graph: &self.graph,
        };
        self.session.pump(&mut self.router, &mut net, clock, out);
        self.after(node, clock, out);
    }

    /// A part of this payment settled, failed or was refunded.
    pub fn on_event(
        &mut self,
        event: &Event,
        node: &mut Node,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        let failed = matches!(event, Event::PartFailed { .. });
        {
            let net = LiveSender {
                node: &mut *node,
                graph: &self.graph,
            };
            self.session
                .on_part_event(event, &mut self.router, &net, clock.now);
        }
        let mut net = LiveSender {
            node: &mut *node,
            graph: &self.graph,
        };
        self.session.send_surplus_cancels(&mut net, out);
        if failed {
            self.session.pump(&mut self.router, &mut net, clock, out);
        }
        self.after(node, clock, out);
    }

    /// The receiver asks which parts to claim: the first time, reveal the secrets of
    /// a subset worth exactly A and cancel the surplus; every later time (the answer
    /// may have been lost, or the request came twice), the same reveal again, or the
    /// cancel once the payment was given up. Idempotent: the receiver can claim only
    /// what the one reveal opens.
    pub fn on_claim_request(
        &mut self,
        parts: &[(u16, u64)],
        node: &mut Node,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        let receiver = self.session.target();
        let payment_id = self.session.payment_id();
        if let Some(secrets) = self.session.on_claim_request(parts) {
            self.revealed = Some(secrets.clone());
            node.reveal(receiver, payment_id, secrets, out);
            let mut net = LiveSender {
                node: &mut *node,
                graph: &self.graph,
            };
            self.session.send_surplus_cancels(&mut net, out);
        } else if let Some(secrets) = &self.revealed {
            self.answers_repeated += 1;
            node.reveal(receiver, payment_id, secrets.clone(), out);
        } else if matches!(self.session.state(), SessionState::Failed(..)) {
            self.answers_repeated += 1;
            node.cancel_payment(receiver, payment_id, out);
        }
        self.after(node, clock, out);
    }

    /// Its deadline passed.
    pub fn on_deadline(&mut self, node: &mut Node, clock: &Clock, out: &mut Vec<Output>) {
        self.session.on_deadline(clock.now);
        self.after(node, clock, out);
    }

    /// What the simulator's loop does after each step of a session: the sender's
    /// cancel, the boomerang refund claims, the records of resolved parts.
    fn after(&mut self, node: &mut Node, clock: &Clock, out: &mut Vec<Output>) {
        if self.session.take_cancel() {
            node.cancel_payment(self.session.target(), self.session.payment_id(), out);
        }
        if let Some((p0, parts)) = self.session.take_refund() {
            let n = node.claim_reverse(&parts, &p0, clock, out);
            self.session.refund_claims_sent(n);
        }
        let records: Vec<AttemptRecord> = self.session.drain_attempts().collect();
        let decided_at = match self.session.state() {
            SessionState::Active => None,
            SessionState::Succeeded(t) | SessionState::Failed(_, t) => Some(t),
        };
        for a in records {
            self.rows.push(PartRow {
                part: a.part,
                amount_msat: a.path.amount_msat(),
                hops: a.path.hops.len(),
                failure: a.failure.map(|f| format!("{f:?}")),
                failed_after_decision: a.failure.is_some()
                    && decided_at.is_some_and(|t| t < a.resolved_at),
                refused_by_receiver: a.failure.is_some()
                    && a.origin_hop == Some(a.path.hops.len().saturating_sub(1)),
            });
        }
        if self.finished.is_none() && self.status() != PayStatus::Pending {
            self.finished = Some(clock.now);
        }
    }

    /// Where it stands: decided when A settled or the session gave up (surplus parts
    /// may still be coming back).
    pub fn status(&self) -> PayStatus {
        match self.session.state() {
            SessionState::Active => PayStatus::Pending,
            SessionState::Succeeded(_) => PayStatus::Succeeded,
            SessionState::Failed(r, _) => PayStatus::Failed(r),
        }
    }

    /// Parts sent and not yet resolved.
    pub fn parts_in_flight(&self) -> usize {
        self.session.parts_in_flight()
    }

    /// Whether it is decided.
    pub fn is_done(&self) -> bool {
        self.status() != PayStatus::Pending
    }

    /// As `pay --json` and `payments --json` show it.
    pub fn json(&self) -> serde_json::Value {
        let (status, reason) = match self.status() {
            PayStatus::Pending => ("pending", None),
            PayStatus::Succeeded => ("succeeded", None),
            // No route once the peers without the lock's bit were left out: say so.
            PayStatus::Failed(FailureReason::NoRoute) if !self.excluded.is_empty() => {
                ("failed", Some("lock_unsupported"))
            }
            PayStatus::Failed(r) => ("failed", Some(r.name())),
        };
        let s = &self.session.stats;
        let succeeded = self.status() == PayStatus::Succeeded;
        let mut parts: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                json!({"part": r.part, "amount_msat": r.amount_msat, "hops": r.hops,
                    "status": r.status(succeeded), "failure": r.failure})
            })
            .collect();
        for (part, _, path) in self.session.in_flight_parts() {
            parts.push(
                json!({"part": part.0 & 0xF_FFFF, "amount_msat": path.amount_msat(),
                "hops": path.hops.len(), "status": "in_flight", "failure": null}),
            );
        }
        parts.sort_by_key(|p| p["part"].as_u64());
        let started = self.session.started();
        json!({
            "id": self.id,
            "payment_hash": super::hex(&self.payment_hash.0),
            "destination": self.target.to_string(),
            "status": status,
            "amount_msat": self.session.amount_msat(),
            "fee_msat": s.common.fees_msat,
            "parts_sent": s.common.parts_sent,
            "parts_settled": s.common.parts_settled,
            "time_ms": self.finished.map(|f| f.0.saturating_sub(started.0) / 1000),
            "failure_reason": reason,
            "keysend": false,
            "redundant": {
                "lock": self.session.lock().name(),
                "redundancy": self.redundancy,
                "parts_needed": self.session.needed_parts(),
                "parts_planned": self.session.planned_parts(),
                "surplus_cancelled": self.session.surplus_cancelled(),
                "settled_msat": s.common.settled_msat,
                "refunded_msat": s.refunded_msat,
                "overpaid_msat": s.overpaid_msat,
                "endpoint_messages": s.extra_messages,
                "endpoint_answers_repeated": self.answers_repeated,
                "parts_in_flight": self.session.parts_in_flight(),
                "excluded_peers": self.excluded.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            },
            "parts": parts,
            "created_at": started.0 / 1_000_000,
        })
    }
}
