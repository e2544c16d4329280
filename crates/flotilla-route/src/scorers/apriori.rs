//! lnd's apriori probability estimator (`routing/probability_apriori.go`, lnd 0.17
//! and later), over lnd's mission-control history.

use std::time::Duration;

use flotilla_graph::liquidity::Balances;
use flotilla_graph::{EdgeIdx, Graph, NodeIdx};

use crate::path::Path;
use crate::scorer::{PathFailure, Scorer};
use crate::scorers::history::{PairHistory, PairResult};
use crate::scorers::local::{LocalChannels, NotLocalEdge};
use crate::scorers::{usable_capacity, ConfigError};
use crate::time::Timestamp;

/// lnd's `capacitySmearingFraction`: the capacity factor falls from 1 to its minimum
/// over about this fraction of the capacity around the cutoff.
pub const CAPACITY_SMEARING_FRACTION: f64 = 0.025;

/// lnd's `minCapacityFactor`: the capacity factor never drops below this (for amounts
/// up to the capacity).
pub const MIN_CAPACITY_FACTOR: f64 = 0.5;

/// Settings of an [`AprioriScorer`]; the defaults are lnd's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AprioriConfig {
    /// Success probability of a hop nothing is known about (lnd
    /// `AprioriHopProbability`, default 0.6).
    pub hop_probability: f64,
    /// How much the prior outweighs a node's observed results when estimating its
    /// untried channels, in `[0, 1]` (lnd `AprioriWeight`, default 0.5): 1 ignores
    /// history, 0 uses only history when there is some.
    pub weight: f64,
    /// A failure's weight halves every half-life, so a failed pair recovers to half
    /// its node probability after one (lnd `PenaltyHalfLife`, default 1 hour). Zero
    /// forgets failures at once.
    pub penalty_half_life: Duration,
    /// Amounts close to this fraction of the capacity get a probability penalty, in
    /// `[0.75, 1]`; 1 disables it (lnd `CapacityFraction`, default 0.9999).
    pub capacity_fraction: f64,
    /// Probability of a pair that recently carried at least the amount (lnd's
    /// constant `prevSuccessProbability`, 0.95).
    pub prev_success_probability: f64,
    /// A failure for a higher amount this soon after the pair's last failure is
    /// ignored (lnd `MinFailureRelaxInterval`, default 1 minute).
    pub min_failure_relax_interval: Duration,
}

impl Default for AprioriConfig {
    fn default() -> Self {
        AprioriConfig {
            hop_probability: 0.6,
            weight: 0.5,
            penalty_half_life: Duration::from_secs(3600),
            capacity_fraction: 0.9999,
            prev_success_probability: 0.95,
            min_failure_relax_interval: Duration::from_secs(60),
        }
    }
}

impl AprioriConfig {
    /// Checks the ranges lnd enforces.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let unit = |name, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(ConfigError::new(name, v, "must be in [0, 1]"))
            }
        };
        unit("hop_probability", self.hop_probability)?;
        unit("weight", self.weight)?;
        unit("prev_success_probability", self.prev_success_probability)?;
        if !(0.75..=1.0).contains(&self.capacity_fraction) {
            return Err(ConfigError::new(
                "capacity_fraction",
                self.capacity_fraction,
                "must be in [0.75, 1]",
            ));
        }
        Ok(())
    }
}

/// lnd's capacity factor: a logistic step from 1 (small amounts) down to
/// [`MIN_CAPACITY_FACTOR`], centred at `fraction × capacity` with width
/// [`CAPACITY_SMEARING_FRACTION`]` × capacity`:
///
/// `f(a) = 1 − (1 − 0.5) / (1 + exp(−(a − fraction·c) / (0.025·c)))`,
///
/// 0 for `a > c`, 1 when `fraction = 1` or the capacity is unknown (0).
pub fn capacity_factor(amount_msat: u64, capacity_msat: u64, fraction: f64) -> f64 {
    if fraction >= 1.0 || capacity_msat == 0 {
        return 1.0;
    }
    if amount_msat > capacity_msat {
        return 0.0;
    }
    let c = capacity_msat as f64;
    let z = -(amount_msat as f64 - fraction * c) / (CAPACITY_SMEARING_FRACTION * c);
    1.0 - (1.0 - MIN_CAPACITY_FACTOR) / (1.0 + z.exp())
}

/// lnd's apriori model. Results are kept per directed node pair, as lnd's mission
/// control keeps them (see [`PairResult`] and the interpretation rules below).
///
/// For a hop from node `n` to node `m` over a channel of capacity `c`, amount `a`:
/// - **apriori** `= hop_probability × capacity_factor(a, c)`.
/// - **node probability** (for `n`'s channels, from all of `n`'s pair results): if
///   `weight = 1` or `n` has no results, the apriori; else with
///   `k = 1/(1 − weight) − 1`, the weighted mean
///   `(k·apriori + Σ_success 0.95) / (k + Σ_success 1 + Σ_fail 2^(−age/half_life))`,
///   where a result counts as a success if `a ≤ success_amt` and otherwise as a failure
///   if it has one and `a ≥ fail_amt`.
/// - **pair probability**: no result for `(n, m)` → the node probability;
///   `a ≤ success_amt` → 0.95; no failure or `a < fail_amt` → the node probability;
///   else `node probability × (1 − 2^(−age/half_life))` (0 right after a failure,
///   half the node probability one half-life later).
/// - **the sender's own channels** (lnd `LocalPairProbability`): the pair rule with
///   node probability 0.95 and the amount treated as unbounded; if the balance is
///   known ([`Self::set_local_balance`]) and `a` plus the sender's in-flight amount
///   exceeds it, 0.
///
/// With the defaults: an unknown hop is `0.6 × capacity_factor` (≈ 0.6 below 90 % of
/// the capacity). One fresh failure of `(n, m)` makes the pair 0 and `n`'s other
/// channels `0.6 / (1 + 1) = 0.3`; one half-life later the failed pair is
/// `0.6/(1 + 0.5) × 0.5 = 0.2` and the others `0.4`.
///
/// Failures map as lnd interprets them: `Liquidity` at hop k = `temporary_channel_failure`
/// (failure for `amount_k` on that pair, successes before it); `ChannelUnusable` =
/// `channel_disabled` (amount-independent failure of the pair in both directions,
/// successes before it); `NodeUnreachable` = `unknown_next_peer` (amount-independent
/// failure in both directions only); `Destination` = the receiver's refusal (every pair
/// succeeded). In-flight HTLCs matter only on the sender's own channels, as in lnd.
/// The policy gate of [`crate::scorers`] applies first.
#[derive(Debug, Clone)]
pub struct AprioriScorer {
    config: AprioriConfig,
    half_life_secs: f64,
    history: PairHistory,
    local: LocalChannels,
}

impl AprioriScorer {
    /// lnd's defaults for `sender`'s payments over `graph`.
    pub fn new(graph: &Graph, sender: NodeIdx) -> Self {
        Self::build(graph, sender, AprioriConfig::default())
    }

    /// A scorer with `config`, checked first.
    pub fn with_config(
        graph: &Graph,
        sender: NodeIdx,
        config: AprioriConfig,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self::build(graph, sender, config))
    }

    fn build(graph: &Graph, sender: NodeIdx, config: AprioriConfig) -> Self {
        AprioriScorer {
            config,
            half_life_secs: config.penalty_half_life.as_secs_f64(),
            history: PairHistory::new(graph, config.min_failure_relax_interval),
            local: LocalChannels::new(graph, sender),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AprioriConfig {
        &self.config
    }

    /// The node whose payments this scorer learns from.
    pub fn sender(&self) -> NodeIdx {
        self.local.sender()
    }

    /// Sets the exact spendable balance of one of the sender's channel directions
    /// (lnd's local bandwidth), clamped to the capacity.
    pub fn set_local_balance(&mut self, edge: EdgeIdx, msat: u64) -> Result<(), NotLocalEdge> {
        self.local.set_balance(edge, msat)
    }

    /// Forgets an exact balance.
    pub fn clear_local_balance(&mut self, edge: EdgeIdx) {
        self.local.clear_balance(edge)
    }

    /// Sets the balances of every channel of the sender from `balances`.
    pub fn set_local_balances(&mut self, balances: &Balances) {
        self.local.set_balances(balances)
    }

    /// The recorded result of the node pair `edge` belongs to.
    pub fn pair_result(&self, edge: EdgeIdx) -> Option<PairResult> {
        self.history
            .pair(edge)
            .and_then(|p| self.history.result(p))
            .copied()
    }

    /// The weight of a failure `age_secs` old: `2^(−age/half_life)`.
    #[inline]
    fn failure_weight(&self, age_secs: f64) -> f64 {
        if self.half_life_secs > 0.0 {
            (-age_secs / self.half_life_secs).exp2()
        } else {
            0.0
        }
    }

    #[inline]
    fn counts_as_success(r: &PairResult, amount_msat: u64) -> bool {
        r.success_amt_msat > 0 && amount_msat <= r.success_amt_msat
    }

    /// lnd's node probability for the untried channels of `node`.
    fn node_probability(
        &self,
        node: NodeIdx,
        amount_msat: u64,
        capacity_msat: u64,
        now: Timestamp,
    ) -> f64 {
        let cfg = &self.config;
        let apriori = cfg.hop_probability
            * capacity_factor(amount_msat, capacity_msat, cfg.capacity_fraction);
        if cfg.weight >= 1.0 || !self.history.node_has_results(node) {
            return apriori;
        }
        let k = 1.0 / (1.0 - cfg.weight) - 1.0;
        let mut sum = apriori * k;
        let mut total = k;
        for (_, r) in self.history.node_results(node) {
            if Self::counts_as_success(r, amount_msat) {
                total += 1.0;
                sum += cfg.prev_success_probability;
            } else if let Some(t) = r.fail_time {
                if amount_msat >= r.fail_amt_msat {
                    total += self.failure_weight(now.secs_since(t));
                }
            }
        }
        if total > 0.0 {
            sum / total
        } else {
            // weight 0 and nothing applicable (lnd would divide 0 by 0).
            apriori
        }
    }

    /// lnd's pair probability given the fallback node probability.
    fn pair_probability(
        &self,
        pair: Option<u32>,
        node_probability: f64,
        amount_msat: u64,
        now: Timestamp,
    ) -> f64 {
        let Some(r) = pair.and_then(|p| self.history.result(p)) else {
            return node_probability;
        };
        if Self::counts_as_success(r, amount_msat) {
            return self.config.prev_success_probability;
        }
        match r.fail_time {
            Some(t) if amount_msat >= r.fail_amt_msat => {
                node_probability * (1.0 - self.failure_weight(now.secs_since(t)))
            }
            _ => node_probability,
        }
    }
}

impl Scorer for AprioriScorer {
    fn success_probability(
        &self,
        graph: &Graph,
        edge: EdgeIdx,
        amount_msat: u64,
        now: Timestamp,
    ) -> f64 {
        let Some(capacity) = usable_capacity(graph, edge, amount_msat) else {
            return 0.0;
        };
        let pair = self.history.pair(edge);
        if self.local.touches(graph, edge) {
            if self.local.fits(edge, amount_msat) == Some(false) {
                return 0.0;
            }
            if graph.edge_source(edge) == self.local.sender() {
                let p = self.pair_probability(
                    pair,
                    self.config.prev_success_probability,
                    u64::MAX,
                    now,
                );
                return p.clamp(0.0, 1.0);
            }
        }
        let from = graph.edge_source(edge);
        let node_p = self.node_probability(from, amount_msat, capacity, now);
        self.pair_probability(pair, node_p, amount_msat, now)
            .clamp(0.0, 1.0)
    }

    fn path_succeeded(&mut self, _graph: &Graph, path: &Path, now: Timestamp) {
        self.history.path_succeeded(path, now);
        for h in &path.hops {
            self.local.settle(h.edge, h.amount_msat);
        }
    }

    fn path_failed(&mut self, _graph: &Graph, path: &Path, failure: PathFailure, now: Timestamp) {
        self.history.path_failed(path, failure, now);
    }

    fn use_first_hops(&mut self, graph: &Graph, sender: NodeIdx, spendable: &[(EdgeIdx, u64)]) {
        self.local.retarget(graph, sender, spendable);
    }

    fn htlcs_in_flight(&mut self, _graph: &Graph, path: &Path, added: bool) {
        for h in &path.hops {
            self.local.htlc(h.edge, h.amount_msat, added);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorer::FailureKind;
    use crate::scorers::test_util::{fwd, line, path};

    const HOUR: u64 = 3600;

    #[test]
    fn capacity_factor_shape() {
        let c = 1_000_000_000;
        assert!((capacity_factor(0, c, 0.9999) - 1.0).abs() < 1e-12);
        assert!((capacity_factor(c / 2, c, 0.9999) - 1.0).abs() < 1e-6);
        // At the cutoff the logistic is half way: 1 − 0.5/2.
        let at = (0.9999 * c as f64) as u64;
        assert!((capacity_factor(at, c, 0.9999) - 0.75).abs() < 1e-3);
        assert!(capacity_factor(c, c, 0.9999) > 0.74);
        assert_eq!(capacity_factor(c + 1, c, 0.9999), 0.0);
        assert_eq!(capacity_factor(c, c, 1.0), 1.0);
        assert_eq!(capacity_factor(5, 0, 0.9999), 1.0);
        // Lower fraction: the drop starts earlier and bottoms out at 0.5.
        assert!((capacity_factor(c, c, 0.75) - 0.5).abs() < 1e-4);
    }

    #[test]
    fn config_validation() {
        assert!(AprioriConfig::default().validate().is_ok());
        let bad = AprioriConfig {
            capacity_fraction: 0.5,
            ..Default::default()
        };
        assert_eq!(bad.validate().unwrap_err().param, "capacity_fraction");
        let bad = AprioriConfig {
            weight: 1.5,
            ..Default::default()
        };
        assert!(AprioriScorer::with_config(&line(&[1]), NodeIdx(0), bad).is_err());
    }

    #[test]
    fn unknown_hop_is_prior_times_capacity_factor() {
        let g = line(&[1000, 1000]);
        let s = AprioriScorer::new(&g, NodeIdx(0));
        let t = Timestamp::ZERO;
        let p = s.success_probability(&g, fwd(1), 100_000, t);
        assert!((p - 0.6 * capacity_factor(100_000, 1_000_000, 0.9999)).abs() < 1e-12);
        assert!((p - 0.6).abs() < 1e-9);
        // Near the capacity the factor bites.
        let near = s.success_probability(&g, fwd(1), 1_000_000, t);
        assert!(near < 0.46 && near > 0.44, "{near}");
        // Own channel without history: 0.95 (lnd's local pair probability).
        assert!((s.success_probability(&g, fwd(0), 100_000, t) - 0.95).abs() < 1e-12);
    }

    #[test]
    fn failure_then_recovery_follows_lnd() {
        let g = line(&[1000, 1000, 1000]);
        let mut s = AprioriScorer::new(&g, NodeIdx(0));
        let p = path(&g, 3, 100_000);
        let t0 = Timestamp::from_secs(1000);
        s.path_failed(
            &g,
            &p,
            PathFailure {
                hop: 2,
                kind: FailureKind::Liquidity,
            },
            t0,
        );
        let a = p.hops[2].amount_msat;
        assert_eq!(s.success_probability(&g, fwd(2), a, t0), 0.0);
        // Smaller amounts are untouched by an amount-specific failure; only the node
        // average knows a failure happened, which counts only for amounts ≥ it.
        assert!((s.success_probability(&g, fwd(2), a - 1, t0) - 0.6).abs() < 1e-6);
        let t1 = Timestamp::from_secs(1000 + HOUR);
        let q = s.success_probability(&g, fwd(2), a, t1);
        assert!((q - 0.2).abs() < 1e-6, "{q}");
        let far = Timestamp::from_secs(1000 + 40 * HOUR);
        assert!((s.success_probability(&g, fwd(2), a, far) - 0.6).abs() < 1e-6);
        // The hop before carried the amount: 0.95 up to that amount.
        let a1 = p.hops[1].amount_msat;
        assert!((s.success_probability(&g, fwd(1), a1, t1) - 0.95).abs() < 1e-12);
    }
}
