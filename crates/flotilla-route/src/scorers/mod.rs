//! The [`Scorer`] implementations: what a sender believes about channel liquidity.
//!
//! | scorer | model | learns | state |
//! |---|---|---|---|
//! | [`UniformScorer`] | liquidity uniform on `[0, capacity]` | nothing | none |
//! | [`LiquidityBoundsScorer`] | uniform on believed bounds `[lower, upper]` (Pickhardt–Richter) | bounds from every outcome, decaying with a half-life | 32 bytes per channel direction |
//! | [`AprioriScorer`] | lnd's apriori estimator | per node-pair results, lnd's mission control rules | one record per tried node pair |
//! | [`BimodalScorer`] | lnd's bimodal estimator | per node-pair results, lnd's mission control rules | one record per tried node pair |
//!
//! Shared rules:
//! - **Policy gate.** Every scorer returns probability 0 for a channel direction
//!   without a policy, a disabled one, an amount above `htlc_maximum_msat`, below
//!   `htlc_minimum_msat` (amount 0 excepted), or above the channel's capacity.
//! - **The sender's own channels** are known exactly once the caller says so
//!   (`set_local_balance` / `set_local_balances`): probability 1 if the amount plus the
//!   sender's own in-flight HTLCs on that channel direction fit the balance, else 0.
//!   Settled payments move the balance (forward side down, reverse side up).
//! - **Time** comes only from the `now` argument; nothing reads a clock, so virtual
//!   and wall time behave the same. Decay is lazy: no per-tick work.
//! - **No allocation** in `success_probability` / `cost`.
//! - **Determinism:** no hashing order, no randomness; the same calls give the same
//!   beliefs bit for bit.
//!
//! [`neg_ln_one_minus`] is the fast `−ln(1 − x)` the closed-form scorers use for
//! [`Scorer::cost`].

mod apriori;
mod bimodal;
mod history;
mod liquidity_bounds;
mod local;
mod uniform;

pub use apriori::{
    capacity_factor, AprioriConfig, AprioriScorer, CAPACITY_SMEARING_FRACTION, MIN_CAPACITY_FACTOR,
};
pub use bimodal::{BimodalConfig, BimodalScorer};
pub use history::PairResult;
pub use liquidity_bounds::{LiquidityBoundsConfig, LiquidityBoundsScorer};
pub use local::NotLocalEdge;
pub use uniform::UniformScorer;

use flotilla_graph::{EdgeIdx, Graph, NodeIdx};

use crate::path::Path;
use crate::scorer::{PathFailure, Scorer};
use crate::time::Timestamp;

/// A scorer configuration value out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid scorer parameter {param} = {value}: {why}")]
pub struct ConfigError {
    /// The configuration field.
    pub param: &'static str,
    /// The value given.
    pub value: String,
    /// What it must be instead.
    pub why: &'static str,
}

impl ConfigError {
    pub(crate) fn new(param: &'static str, value: impl ToString, why: &'static str) -> Self {
        ConfigError {
            param,
            value: value.to_string(),
            why,
        }
    }
}

/// Below this `x`, [`neg_ln_one_minus`] uses its series instead of a logarithm.
pub const SERIES_THRESHOLD: f64 = 0.125;

/// `−ln(1 − x)` for `x` in `[0, 1]`: the cost of a hop whose success probability is
/// `1 − x` (`x ≤ 0` gives 0, `x ≥ 1` gives `+∞`, NaN gives `+∞`).
///
/// For `x < 1/8` (the common case: amounts well below the liquidity in doubt) it
/// evaluates the first seven terms of `x + x²/2 + x³/3 + …` (a degree-7 polynomial,
/// a dozen multiplies and adds) and no logarithm. The terms left out sum to at most
/// `x⁸ / (8 (1 − x))`, and the result is at least `x`, so the **relative error is
/// below `x⁷ / (8 (1 − x)) ≤ 2⁻²¹ / 7 < 6.9·10⁻⁸`** (plus a few ulps of rounding).
/// Above the threshold it calls `ln_1p`, exact to rounding.
#[inline]
pub fn neg_ln_one_minus(x: f64) -> f64 {
    if x < SERIES_THRESHOLD {
        if x > 0.0 {
            const C2: f64 = 1.0 / 2.0;
            const C3: f64 = 1.0 / 3.0;
            const C4: f64 = 1.0 / 4.0;
            const C5: f64 = 1.0 / 5.0;
            const C6: f64 = 1.0 / 6.0;
            const C7: f64 = 1.0 / 7.0;
            // Estrin's scheme: the same polynomial with a shorter dependency chain
            // than Horner's rule.
            let x2 = x * x;
            let x4 = x2 * x2;
            let lo = (1.0 + x * C2) + x2 * (C3 + x * C4);
            let hi = (C5 + x * C6) + x2 * C7;
            x * (lo + x4 * hi)
        } else {
            0.0
        }
    } else if x < 1.0 {
        -(-x).ln_1p()
    } else {
        f64::INFINITY
    }
}

/// The capacity of `edge`'s channel in msat if the edge can forward `amount_msat` at
/// all under its policy: it has a policy, is enabled, and
/// `htlc_minimum ≤ amount ≤ min(htlc_maximum, capacity)`. `None` means probability 0.
/// A zero amount (a degenerate query: nothing to carry) skips the `htlc_minimum`
/// check, so every scorer gives `P(0) = 1` on an enabled channel without other news.
#[inline]
pub(crate) fn usable_capacity(graph: &Graph, edge: EdgeIdx, amount_msat: u64) -> Option<u64> {
    let channel = graph.channels().get(edge.channel().ix())?;
    let policy = channel.policy(edge.direction())?;
    let capacity = channel.capacity_msat();
    if policy.disabled
        || amount_msat > policy.htlc_maximum_msat
        || (amount_msat < policy.htlc_minimum_msat && amount_msat > 0)
        || amount_msat > capacity
    {
        return None;
    }
    Some(capacity)
}

/// Probability that integer liquidity uniform on `lower..=upper` is at least `x`:
/// 1 if `x ≤ lower`, 0 if `x > upper`, else `(upper + 1 − x) / (upper + 1 − lower)`.
#[inline]
pub(crate) fn bounded_probability(x: u64, lower: u64, upper: u64) -> f64 {
    if x <= lower {
        1.0
    } else if x > upper {
        0.0
    } else {
        ((upper - x) as f64 + 1.0) / ((upper - lower) as f64 + 1.0)
    }
}

/// `−ln` of [`bounded_probability`], through [`neg_ln_one_minus`]: with
/// `r = (x − lower) / (upper + 1 − lower)`, the probability is `1 − r`.
#[inline]
pub(crate) fn bounded_cost(x: u64, lower: u64, upper: u64) -> f64 {
    if x <= lower {
        0.0
    } else if x > upper {
        f64::INFINITY
    } else {
        neg_ln_one_minus((x - lower) as f64 / ((upper - lower) as f64 + 1.0))
    }
}

impl<S: Scorer + ?Sized> Scorer for &mut S {
    fn success_probability(
        &self,
        graph: &Graph,
        edge: EdgeIdx,
        amount_msat: u64,
        now: Timestamp,
    ) -> f64 {
        (**self).success_probability(graph, edge, amount_msat, now)
    }
    fn path_succeeded(&mut self, graph: &Graph, path: &Path, now: Timestamp) {
        (**self).path_succeeded(graph, path, now)
    }
    fn path_failed(&mut self, graph: &Graph, path: &Path, failure: PathFailure, now: Timestamp) {
        (**self).path_failed(graph, path, failure, now)
    }
    fn htlcs_in_flight(&mut self, graph: &Graph, path: &Path, added: bool) {
        (**self).htlcs_in_flight(graph, path, added)
    }
    fn use_first_hops(&mut self, graph: &Graph, sender: NodeIdx, spendable: &[(EdgeIdx, u64)]) {
        (**self).use_first_hops(graph, sender, spendable)
    }
    fn cost(&self, graph: &Graph, edge: EdgeIdx, amount_msat: u64, now: Timestamp) -> f64 {
        (**self).cost(graph, edge, amount_msat, now)
    }
    fn path_probability(&self, graph: &Graph, path: &Path, now: Timestamp) -> f64 {
        (**self).path_probability(graph, path, now)
    }
    fn max_liquidity_msat(&self, graph: &Graph, edge: EdgeIdx, now: Timestamp) -> u64 {
        (**self).max_liquidity_msat(graph, edge, now)
    }
}

impl<S: Scorer + ?Sized> Scorer for Box<S> {
    fn success_probability(
        &self,
        graph: &Graph,
        edge: EdgeIdx,
        amount_msat: u64,
        now: Timestamp,
    ) -> f64 {
        (**self).success_probability(graph, edge, amount_msat, now)
    }
    fn path_succeeded(&mut self, graph: &Graph, path: &Path, now: Timestamp) {
        (**self).path_succeeded(graph, path, now)
    }
    fn path_failed(&mut self, graph: &Graph, path: &Path, failure: PathFailure, now: Timestamp) {
        (**self).path_failed(graph, path, failure, now)
    }
    fn htlcs_in_flight(&mut self, graph: &Graph, path: &Path, added: bool) {
        (**self).htlcs_in_flight(graph, path, added)
    }
    fn use_first_hops(&mut self, graph: &Graph, sender: NodeIdx, spendable: &[(EdgeIdx, u64)]) {
        (**self).use_first_hops(graph, sender, spendable)
    }
    fn cost(&self, graph: &Graph, edge: EdgeIdx, amount_msat: u64, now: Timestamp) -> f64 {
        (**self).cost(graph, edge, amount_msat, now)
    }
    fn path_probability(&self, graph: &Graph, path: &Path, now: Timestamp) -> f64 {
        (**self).path_probability(graph, path, now)
    }
    fn max_liquidity_msat(&self, graph: &Graph, edge: EdgeIdx, now: Timestamp) -> u64 {
        (**self).max_liquidity_msat(graph, edge, now)
    }
}

/// Small graphs for the unit tests of every scorer.
#[cfg(test)]
pub(crate) mod test_util {
    use flotilla_graph::{
        Channel, ChannelIdx, Direction, EdgeIdx, Graph, GraphBuilder, Node, NodeIdx, NodePubkey,
        Policy, ShortChannelId,
    };

    use crate::path::Path;

    /// An enabled policy with 1 sat base fee, 100 ppm, no HTLC limits but capacity.
    pub fn policy(capacity_sat: u64) -> Policy {
        Policy {
            fee_base_msat: 1000,
            fee_rate_ppm: 100,
            cltv_expiry_delta: 40,
            htlc_minimum_msat: 1,
            htlc_maximum_msat: capacity_sat * 1000,
            disabled: false,
            last_update: 0,
        }
    }

    /// A line `0 — 1 — … — n` with the given channel capacities (sat), both
    /// directions announced; channel `i` joins nodes `i` and `i + 1`.
    pub fn line(capacities_sat: &[u64]) -> Graph {
        let mut b = GraphBuilder::new();
        let nodes: Vec<NodeIdx> = (0..=capacities_sat.len())
            .map(|i| {
                let mut secret = [0u8; 32];
                secret[31] = i as u8 + 1;
                secret[0] = 7;
                let key = NodePubkey::from_secret(secret).unwrap();
                b.add_node(Node::bare(key)).unwrap()
            })
            .collect();
        for (i, &cap) in capacities_sat.iter().enumerate() {
            b.add_channel(Channel {
                scid: ShortChannelId(i as u64 + 1),
                nodes: [nodes[i], nodes[i + 1]],
                capacity_sat: cap,
                policies: [Some(policy(cap)), Some(policy(cap))],
                chan_point: None,
                last_update: 0,
            })
            .unwrap();
        }
        b.build()
    }

    /// The direction of channel `i` that leaves node `i` (towards the line's end).
    pub fn fwd(i: u32) -> EdgeIdx {
        ChannelIdx(i).edge(Direction::AToB)
    }

    /// The path from node 0 over the first `hops` channels delivering `amount_msat`.
    pub fn path(graph: &Graph, hops: u32, amount_msat: u64) -> Path {
        let edges: Vec<EdgeIdx> = (0..hops).map(fwd).collect();
        Path::build(graph, &edges, amount_msat, 18).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_matches_ln_1p_within_documented_bound() {
        let bound = 2f64.powi(-21) / 7.0;
        let mut worst = 0.0f64;
        let n = 200_000;
        for i in 1..n {
            let x = SERIES_THRESHOLD * i as f64 / n as f64;
            let exact = -(-x).ln_1p();
            let rel = (neg_ln_one_minus(x) - exact).abs() / exact;
            worst = worst.max(rel);
        }
        // Tiny x too, where cancellation would hurt a naive `-(1-x).ln()`.
        for e in 1..60 {
            let x = 2f64.powi(-e);
            if x < SERIES_THRESHOLD {
                let exact = -(-x).ln_1p();
                worst = worst.max((neg_ln_one_minus(x) - exact).abs() / exact);
            }
        }
        assert!(
            worst < bound + 1e-15,
            "worst relative error {worst:e} > {bound:e}"
        );
        assert!(worst > 0.0);
    }

    #[test]
    fn neg_ln_one_minus_edges() {
        assert_eq!(neg_ln_one_minus(0.0), 0.0);
        assert_eq!(neg_ln_one_minus(-1.0), 0.0);
        assert_eq!(neg_ln_one_minus(1.0), f64::INFINITY);
        assert_eq!(neg_ln_one_minus(f64::NAN), f64::INFINITY);
        let x = 0.5;
        assert!((neg_ln_one_minus(x) - 2f64.ln()).abs() < 1e-15);
        // Continuous across the threshold.
        let below = neg_ln_one_minus(SERIES_THRESHOLD - 1e-12);
        let above = neg_ln_one_minus(SERIES_THRESHOLD);
        assert!((above - below).abs() < 7e-8 * above);
    }

    #[test]
    fn bounded_probability_and_cost_agree() {
        for (x, l, u) in [
            (0, 0, 10),
            (5, 0, 10),
            (10, 0, 10),
            (11, 0, 10),
            (3, 3, 3),
            (4, 3, 3),
        ] {
            let p = bounded_probability(x, l, u);
            let c = bounded_cost(x, l, u);
            if p == 0.0 {
                assert_eq!(c, f64::INFINITY);
            } else {
                assert!((c - -p.ln()).abs() < 1e-12, "{x} {l} {u}");
            }
        }
        assert_eq!(
            bounded_probability(u64::MAX, 0, u64::MAX),
            1.0 / (u64::MAX as f64 + 1.0)
        );
    }

    #[test]
    fn forwarding_impls_delegate() {
        let g = test_util::line(&[1000]);
        let mut s = UniformScorer;
        let direct = s.success_probability(&g, test_util::fwd(0), 500_000, Timestamp::ZERO);
        let by_ref: &mut UniformScorer = &mut s;
        assert_eq!(
            Scorer::success_probability(&by_ref, &g, test_util::fwd(0), 500_000, Timestamp::ZERO),
            direct
        );
        let boxed: Box<dyn Scorer> = Box::new(UniformScorer);
        assert_eq!(
            boxed.success_probability(&g, test_util::fwd(0), 500_000, Timestamp::ZERO),
            direct
        );
        assert_eq!(
            boxed.cost(&g, test_util::fwd(0), 500_000, Timestamp::ZERO),
            UniformScorer.cost(&g, test_util::fwd(0), 500_000, Timestamp::ZERO)
        );
    }
}
