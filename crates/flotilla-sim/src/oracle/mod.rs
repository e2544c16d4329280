//! The oracle: the best any sender could do with each payment.
//!
//! For every measured payment, at the moment it starts and before its first part
//! leaves, the oracle looks at the true state of *that arm's* network (arms move
//! liquidity differently, so they differ) and answers two questions:
//!
//! 1. **Feasible?** Is there a flow of the amount from sender to receiver (a maximum
//!    flow, [`flow`]) when each directed edge can carry what [`caps::EdgeRules::capacity`]
//!    allows: the source's balance above the reserve its peer requires, the room under
//!    the peer's in-flight cap, free HTLC slots × the policy's `htlc_maximum_msat`, no
//!    disabled or policy-less direction (except the sender's own channels, which need no
//!    policy and have no maximum), nothing below the hop's smallest HTLC, and no hop into
//!    an offline node or one that holds every HTLC (a hodl node; a hodl or offline
//!    receiver can be paid by no one).
//! 2. **How fast?** The earliest the payment could complete: the flow's paths are taken
//!    shortest first (augmenting paths in order of length, then the flow split into
//!    paths shortest first), and the payment completes when its longest path has carried
//!    its HTLC to the receiver and the preimage back: `H × (E[add] + E[fulfil])` for a
//!    longest path of `H` hops, each message class at its own latency
//!    (`[network.latency_by_message]`); in full commitment mode an add is acted on only
//!    after `commitment_signed` / `revoke_and_ack` locked it in, so a hop's forward leg
//!    is `E[add] + 2 × E[commitment]` ([`hop_round_trip_micros`]).
//!
//! Approximations, each stated with its direction:
//! - **Fees are ignored** in the flow (the amount must fit at every hop, fees need not).
//!   Fees only add to what the hops nearer the sender carry, so this is a relaxation:
//!   "infeasible" is certain, "feasible" may be optimistic by the fees (typically
//!   0.01–0.5% of the amount). So is every other limit left out: the sender's fee
//!   budget, CLTV limits, the 20-hop onion limit, `max_parts`, the timeout, dust
//!   exposure caps, lock support (h2tlc, PTLC) and the receiver's MPP set size.
//! - **HTLC sizes**: an edge's capacity sums every HTLC that could still be added over
//!   it; only "at least the hop's minimum fits" is checked, not how the flow would be cut
//!   into HTLCs of allowed sizes.
//! - **Time**: each message's latency is its expectation under its class's model
//!   ([`expected_latency_micros`]), and every hop costs one message each way (as the
//!   simulator carries them: an `update_add_htlc` forward, an `update_fulfill_htlc`
//!   back), plus, in full commitment mode, the exchange that locks the add in (its
//!   `commitment_signed` is taken to arrive with the add, though it must follow it on
//!   the link: slightly optimistic). Parallel paths complete together in expectation, though the slowest of k
//!   random paths is slower than the mean one: the oracle's time is a little optimistic
//!   for multi-path flows. `H` is the longest path of the flow found, shortest paths
//!   first; the flow whose longest path is shortest of all (a length-bounded flow,
//!   NP-hard in general) may be shorter still.
//! - **A snapshot**: balances are read at the payment's start. Other payments that
//!   settle or fail meanwhile change them, so an arm can succeed on a payment the oracle
//!   found infeasible (counted in `succeeded_infeasible`) and fail on one it found
//!   feasible.
//!
//! The results (`summary.json`): per arm the feasible share, success among feasible
//! payments, and mean and p99 TTC against the oracle's ([`tally`]); top level, the share
//! of payments feasible in at least one arm's network.
//!
//! Speed: the cuts around sender and receiver settle most infeasible payments at once,
//! and the flow search grows the smaller side of a bidirectional search, so a payment
//! costs tens of microseconds on the mainnet snapshot (BENCHMARKS.md).
//! `--set oracle.enabled=false` turns it off.

pub mod caps;
pub mod flow;
pub mod tally;
#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use flotilla_graph::NodeIdx;
use flotilla_ln::network::Network;
use serde::{Deserialize, Serialize};

use crate::latency::{LatencyPlan, MessageClass};
use crate::scenario::LatencyModel;
use crate::workload::PaymentSpec;
use caps::{live_edge, EdgeRules};
use flow::FlowSolver;
pub use tally::{OracleFields, OracleTally};

/// `[oracle]`: whether every run computes the oracle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OracleConfig {
    /// Compute the oracle for every payment (false: its figures are `null`).
    pub enabled: bool,
}

impl Default for OracleConfig {
    fn default() -> Self {
        OracleConfig { enabled: true }
    }
}

/// The oracle's answer for one payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    /// A flow of the amount exists.
    pub feasible: bool,
    /// Feasible only: the earliest time it could complete, virtual µs.
    pub ttc_micros: Option<u64>,
    /// Feasible only: hops of the flow's longest path.
    pub hops: Option<u32>,
}

/// The expected time one hop adds to a payment, there and back, µs: an add forward
/// (locked in by the commitment exchange in full mode) and a fulfil back, each at its
/// class's latency.
pub fn hop_round_trip_micros(plan: &LatencyPlan, full_commitment: bool) -> f64 {
    let e = |c: MessageClass| expected_latency_micros(plan.model(c));
    let forward = if full_commitment {
        e(MessageClass::Add) + 2.0 * e(MessageClass::Commitment)
    } else {
        e(MessageClass::Add)
    };
    forward + e(MessageClass::Fulfill)
}

/// The expected per-hop latency of `model`, µs: what
/// [`crate::faults::draw_latency_micros`] draws on average.
pub fn expected_latency_micros(model: &LatencyModel) -> f64 {
    match *model {
        LatencyModel::Zero => 0.0,
        LatencyModel::Constant { ms } => ms as f64 * 1000.0,
        LatencyModel::Uniform { min_ms, max_ms } => (min_ms + max_ms) as f64 * 500.0,
        LatencyModel::Lognormal { median_ms, sigma } => {
            // The draw falls back to the median when the distribution is invalid.
            if sigma.is_finite() && sigma > 0.0 {
                median_ms.max(1) as f64 * 1000.0 * (sigma * sigma / 2.0).exp()
            } else {
                median_ms as f64 * 1000.0
            }
        }
    }
}

/// One arm's oracle: the fixed edge limits, working memory and the answers so far.
#[derive(Debug)]
pub struct Oracle {
    rules: EdgeRules,
    solver: FlowSolver,
    /// One hop's expected round trip (an add forward, a fulfil back), µs.
    round_trip_micros: f64,
    tally: OracleTally,
    spent: Duration,
    counts: SearchCounts,
}

/// How the oracle's answers were reached, for logs and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchCounts {
    /// Payments evaluated.
    pub payments: u64,
    /// Infeasible from the cut around sender or receiver alone, or an unusable receiver.
    pub infeasible_at_ends: u64,
    /// Infeasible after a search.
    pub infeasible_searched: u64,
    /// Augmenting paths over every payment.
    pub augmentations: u64,
}

impl Oracle {
    /// The oracle for an arm's network `net` (its graph with policy overrides, its
    /// nodes' settings), for a workload of `payments` payments, each hop costing
    /// `hop_round_trip_micros` there and back ([`hop_round_trip_micros`]).
    pub fn new(net: &Network, hop_round_trip_micros: f64, payments: usize) -> Self {
        let graph = net.graph();
        Oracle {
            rules: EdgeRules::new(graph, |n| net.config(n)),
            solver: FlowSolver::new(graph),
            round_trip_micros: hop_round_trip_micros,
            tally: OracleTally::new(payments),
            spent: Duration::ZERO,
            counts: SearchCounts::default(),
        }
    }

    /// Answers for `amount_msat` from `sender` to `receiver` in `net` as it is now.
    pub fn evaluate(
        &mut self,
        net: &Network,
        sender: NodeIdx,
        receiver: NodeIdx,
        amount_msat: u64,
    ) -> Answer {
        self.counts.payments += 1;
        if !self.rules.takes_htlcs(receiver) && sender != receiver {
            self.counts.infeasible_at_ends += 1;
            return Answer {
                feasible: false,
                ttc_micros: None,
                hops: None,
            };
        }
        let rules = &self.rules;
        let f = self.solver.solve(sender, receiver, amount_msat, |e, from| {
            rules.capacity(e, from == sender, live_edge(net, e))
        });
        self.counts.augmentations += f.augmentations as u64;
        if !f.feasible {
            if !f.searched {
                self.counts.infeasible_at_ends += 1;
            } else {
                self.counts.infeasible_searched += 1;
            }
        }
        let hops = f.longest_path_hops.filter(|_| f.feasible);
        Answer {
            feasible: f.feasible,
            ttc_micros: hops.map(|h| (h as f64 * self.round_trip_micros).round() as u64),
            hops,
        }
    }

    /// Evaluates workload payment `spec` (call at its start, before its first part is
    /// sent) and records the answer.
    pub fn before_payment(&mut self, spec: &PaymentSpec, net: &Network) {
        let t0 = Instant::now();
        let a = self.evaluate(net, spec.source, spec.destination, spec.amount_msat);
        self.tally.record(spec.index as usize, a);
        self.spent += t0.elapsed();
    }

    /// Wall time spent in [`Oracle::before_payment`] so far (not deterministic: logs only).
    pub fn spent(&self) -> Duration {
        self.spent
    }

    /// How the answers so far were reached.
    pub fn counts(&self) -> SearchCounts {
        self.counts
    }

    /// The answers, without the working memory.
    pub fn into_tally(self) -> OracleTally {
        self.tally
    }
}
