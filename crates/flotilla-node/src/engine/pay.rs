//! The live sender's payment: route with flotilla-route's splitter over the known
//! graph, send parts with `Node::send_part`, learn from each failure, retry what is
//! missing, report the outcome.
//!
//! The simulator's `flotilla_ln::session::PaymentSession` does the same against a
//! whole `Network`; a live node owns one `Node`, so this is its one-node twin, with
//! the same limits, the same exclusion rule after a failure and the same failure
//! reasons (`FailureReason`, one definition).

use std::sync::Arc;

use flotilla_graph::{EdgeIdx, Graph, NodeIdx};
use flotilla_ln::clock::Clock;
use flotilla_ln::node::Node;
use flotilla_ln::output::{Event, Output};
use flotilla_ln::payload::PaymentData;
use flotilla_ln::sender::{PartId, SendPart};
use flotilla_ln::session::{FailureReason, FailureTally, FINAL_CLTV_PADDING};
use flotilla_ln::{PaymentHash, PaymentPreimage, PaymentSecret};
use flotilla_route::scorers::LiquidityBoundsScorer;
use flotilla_route::splitters::GreedySplitter;
use flotilla_route::{FailureKind, Limits, Path, RouteRequest, Router, Timestamp};
use serde_json::json;

/// Bits of a [`PartId`] numbering the parts of one payment.
const PART_BITS: u32 = 20;
/// Most paths one payment tries.
pub const MAX_ATTEMPTS: u32 = 32;
/// How long a payment places parts, µs.
pub const TIMEOUT_MICROS: u64 = 60_000_000;
/// Most fees a payment pays: 1% of the amount plus 10 sat.
pub(crate) fn max_fee(amount_msat: u64) -> u64 {
    amount_msat / 100 + 10_000
}

/// The payment a part belongs to.
pub fn payment_of(part: PartId) -> u64 {
    part.0 >> PART_BITS
}

/// Where a payment stands.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PayStatus {
    /// Parts in flight or being placed.
    Pending,
    /// Every msat settled.
    Succeeded,
    /// Given up.
    Failed(FailureReason),
}

/// One payment from this node.
pub struct LivePayment {
    id: u64,
    graph: Arc<Graph>,
    router: GreedySplitter<LiquidityBoundsScorer>,
    source: NodeIdx,
    target: NodeIdx,
    amount_msat: u64,
    payment_hash: PaymentHash,
    payment_secret: PaymentSecret,
    keysend: Option<PaymentPreimage>,
    max_parts: u32,
    final_cltv_delta: u32,
    started: Timestamp,
    finished: Option<Timestamp>,
    in_flight: Vec<(PartId, Path)>,
    next_part: u32,
    excluded: Vec<EdgeIdx>,
    stop: Option<FailureReason>,
    failures: FailureTally,
    /// The BOLT 4 failure codes the parts came back with, counted by name.
    failure_codes: std::collections::BTreeMap<&'static str, u32>,
    attempts: u32,
    parts_sent: u32,
    parts_settled: u32,
    settled_msat: u64,
    fee_msat: u64,
    preimage: Option<PaymentPreimage>,
    status: PayStatus,
}

impl LivePayment {
    /// A payment routed over `graph` (the node's directory at its start: indices stay
    /// valid as the directory grows).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: u64,
        graph: Arc<Graph>,
        source: NodeIdx,
        target: NodeIdx,
        amount_msat: u64,
        payment_hash: PaymentHash,
        payment_secret: PaymentSecret,
        keysend: Option<PaymentPreimage>,
        max_parts: u32,
        final_cltv_delta: u32,
        now: Timestamp,
    ) -> Self {
        let mut router = GreedySplitter::new(LiquidityBoundsScorer::new(&graph, source));
        router.prepare(&graph);
        LivePayment {
            id,
            graph,
            router,
            source,
            target,
            amount_msat,
            payment_hash,
            payment_secret,
            keysend,
            max_parts: max_parts.max(1),
            final_cltv_delta,
            started: now,
            finished: None,
            in_flight: Vec::new(),
            next_part: 0,
            excluded: Vec::new(),
            stop: None,
            failures: FailureTally::default(),
            failure_codes: std::collections::BTreeMap::new(),
            attempts: 0,
            parts_sent: 0,
            parts_settled: 0,
            settled_msat: 0,
            fee_msat: 0,
            preimage: None,
            status: PayStatus::Pending,
        }
    }

    /// Where it stands.
    pub fn status(&self) -> PayStatus {
        self.status
    }

    /// Whether it finished.
    pub fn is_done(&self) -> bool {
        self.status != PayStatus::Pending
    }

    fn in_flight_msat(&self) -> u64 {
        self.in_flight.iter().map(|(_, p)| p.amount_msat()).sum()
    }

    /// Places parts for what is neither settled nor in flight.
    pub fn pump(&mut self, node: &mut Node, clock: &Clock, out: &mut Vec<Output>) {
        while self.status == PayStatus::Pending && self.stop.is_none() {
            let remaining = self
                .amount_msat
                .saturating_sub(self.settled_msat + self.in_flight_msat());
            if remaining == 0 {
                break;
            }
            if clock.now.0 >= self.started.0 + TIMEOUT_MICROS {
                self.stop = Some(FailureReason::Timeout);
                break;
            }
            if self.attempts >= MAX_ATTEMPTS {
                self.stop = Some(self.failures.dominant());
                break;
            }
            let free = self.max_parts.saturating_sub(self.in_flight.len() as u32);
            if free == 0 {
                break;
            }
            let spent = self.fee_msat
                + self
                    .in_flight
                    .iter()
                    .map(|(_, p)| p.fee_msat())
                    .sum::<u64>();
            let request = RouteRequest {
                source: self.source,
                target: self.target,
                amount_msat: remaining,
                final_cltv_delta: self.final_cltv_delta + FINAL_CLTV_PADDING,
                limits: Limits {
                    max_fee_msat: max_fee(self.amount_msat).saturating_sub(spent),
                    max_total_cltv: 2016,
                    max_parts: free,
                    min_part_msat: 1,
                    max_path_len: 20,
                    excluded_edges: self.excluded.clone(),
                    excluded_nodes: Vec::new(),
                },
                // A node knows what its own channels can send now.
                first_hops: Some(node.first_hops()),
            };
            let route = match self.router.find_route(&self.graph, &request, clock.now) {
                Ok(r) => r,
                Err(_) => {
                    if self.in_flight.is_empty() {
                        self.stop = Some(if self.attempts > 0 {
                            self.failures.dominant()
                        } else {
                            FailureReason::NoRoute
                        });
                    }
                    break;
                }
            };
            for path in route.paths {
                if self.attempts >= MAX_ATTEMPTS {
                    break;
                }
                self.attempts += 1;
                let part = PartId((self.id << PART_BITS) | u64::from(self.next_part));
                self.next_part += 1;
                let sent = node.send_part(
                    SendPart {
                        id: part,
                        path: &path,
                        payment_hash: self.payment_hash,
                        payment_data: Some(PaymentData {
                            payment_secret: self.payment_secret,
                            total_msat: self.amount_msat,
                        }),
                        keysend_preimage: self.keysend,
                    },
                    clock,
                    out,
                );
                match sent {
                    Ok(_) => {
                        self.parts_sent += 1;
                        self.router.htlcs_in_flight(&self.graph, &path, true);
                        self.in_flight.push((part, path));
                    }
                    Err(err) => {
                        self.failures.note(FailureReason::of_send_error(&err));
                        if let Some(pf) = err.path_failure() {
                            self.router.path_failed(&self.graph, &path, pf, clock.now);
                            self.exclude(&path, pf);
                        }
                    }
                }
            }
        }
        self.finish_if_done(clock.now);
    }

    fn exclude(&mut self, path: &Path, pf: flotilla_route::PathFailure) {
        let avoid = match pf.kind {
            FailureKind::ChannelUnusable | FailureKind::NodeUnreachable => true,
            FailureKind::Liquidity => self.max_parts <= 1,
            FailureKind::Destination => false,
        };
        if let (true, Some(h)) = (avoid, path.hops.get(pf.hop)) {
            if !self.excluded.contains(&h.edge) {
                self.excluded.push(h.edge);
            }
        }
    }

    /// Takes part `part` out of the parts in flight, releasing its path's HTLCs in the
    /// router's view; `None` if it is not one of this payment's.
    fn take_in_flight(&mut self, part: PartId) -> Option<Path> {
        let i = self.in_flight.iter().position(|(p, _)| *p == part)?;
        let (_, path) = self.in_flight.swap_remove(i);
        self.router.htlcs_in_flight(&self.graph, &path, false);
        Some(path)
    }

    /// A part settled or failed; retries what is missing.
    pub fn on_event(
        &mut self,
        event: &Event,
        node: &mut Node,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        match event {
            Event::PartSettled {
                part,
                preimage,
                amount_msat,
                fee_msat,
                ..
            } => {
                let Some(path) = self.take_in_flight(*part) else {
                    return;
                };
                self.router.path_succeeded(&self.graph, &path, clock.now);
                self.parts_settled += 1;
                self.settled_msat += amount_msat;
                self.fee_msat += fee_msat;
                self.preimage = Some(*preimage);
            }
            Event::PartFailed {
                part,
                failure,
                path_failure,
                ..
            } => {
                let Some(path) = self.take_in_flight(*part) else {
                    return;
                };
                self.router
                    .path_failed(&self.graph, &path, *path_failure, clock.now);
                let reason = FailureReason::of_code(failure.code);
                self.failures.note(reason);
                *self.failure_codes.entry(failure.code.name()).or_default() += 1;
                if reason == FailureReason::ReceiverReject {
                    self.stop = Some(reason);
                }
                self.exclude(&path, *path_failure);
            }
            _ => return,
        }
        self.pump(node, clock, out);
    }

    fn finish_if_done(&mut self, now: Timestamp) {
        if self.status != PayStatus::Pending {
            return;
        }
        if self.settled_msat >= self.amount_msat {
            self.status = PayStatus::Succeeded;
            self.finished = Some(now);
        } else if self.in_flight.is_empty() {
            if let Some(r) = self.stop {
                self.status = PayStatus::Failed(r);
                self.finished = Some(now);
            }
        }
    }

    /// As `pay --json` and `payments --json` show it.
    pub fn json(&self) -> serde_json::Value {
        let (status, reason) = match self.status {
            PayStatus::Pending => ("pending", None),
            PayStatus::Succeeded => ("succeeded", None),
            PayStatus::Failed(r) => ("failed", Some(r.name())),
        };
        json!({
            "id": self.id,
            "payment_hash": super::hex(&self.payment_hash.0),
            "status": status,
            "amount_msat": self.amount_msat,
            "fee_msat": self.fee_msat,
            "parts_sent": self.parts_sent,
            "parts_settled": self.parts_settled,
            "time_ms": self.finished.map(|f| (f.0.saturating_sub(self.started.0)) / 1000),
            "failure_reason": reason,
            "failure_codes": self.failure_codes,
            "keysend": self.keysend.is_some(),
            "preimage": self.preimage.map(|p| super::hex(&p.0)),
            "created_at": self.started.0 / 1_000_000,
        })
    }
}
