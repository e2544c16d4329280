//! lnd's bimodal probability estimator (`routing/probability_bimodal.go`), over lnd's
//! mission-control history.

use std::time::Duration;

use flotilla_graph::liquidity::Balances;
use flotilla_graph::{EdgeIdx, Graph, NodeIdx};

use crate::path::Path;
use crate::scorer::{PathFailure, Scorer};
use crate::scorers::history::{PairHistory, PairResult};
use crate::scorers::local::{LocalChannels, NotLocalEdge};
use crate::scorers::{usable_capacity, ConfigError};
use crate::time::Timestamp;

/// Settings of a [`BimodalScorer`]; the defaults are lnd's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BimodalConfig {
    /// How far liquidity leaks in from a channel's ends, msat (lnd `BimodalScaleMsat`,
    /// default 300,000,000 msat = 300 k sat). Must be positive.
    pub scale_msat: u64,
    /// How much a node's results on its *other* channels count, in `[0, 1]` (lnd
    /// `BimodalNodeWeight`, default 0.2).
    pub node_weight: f64,
    /// Time constant of the exponential forgetting of learned amounts (lnd
    /// `BimodalDecayTime`, default 7 days): information is `e^(−t/decay_time)` as
    /// good after `t`. Must be positive.
    pub decay_time: Duration,
    /// A failure for a higher amount this soon after the pair's last failure is
    /// ignored (lnd `MinFailureRelaxInterval`, default 1 minute).
    pub min_failure_relax_interval: Duration,
}

impl Default for BimodalConfig {
    fn default() -> Self {
        BimodalConfig {
            scale_msat: 300_000_000,
            node_weight: 0.2,
            decay_time: Duration::from_secs(7 * 24 * 3600),
            min_failure_relax_interval: Duration::from_secs(60),
        }
    }
}

impl BimodalConfig {
    /// Checks the ranges lnd enforces.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.scale_msat == 0 {
            return Err(ConfigError::new("scale_msat", 0, "must be positive"));
        }
        if !(0.0..=1.0).contains(&self.node_weight) {
            return Err(ConfigError::new(
                "node_weight",
                self.node_weight,
                "must be in [0, 1]",
            ));
        }
        if self.decay_time.is_zero() {
            return Err(ConfigError::new("decay_time", "0s", "must be positive"));
        }
        Ok(())
    }
}

/// lnd's bimodal model: liquidity sits mostly near either end of a channel.
///
/// # Prior
/// The balance `x` of a channel of capacity `c` has density proportional to
/// `ρ(x) = e^(−x/s) + e^((x−c)/s) + 1/c` on `[0, c]` (scale `s`; the `1/c` term is lnd's
/// uniform floor). Its mass over `[lo, hi]`, `d = hi − lo`, is computed without
/// cancellation as
/// `M(lo, hi) = s · (1 − e^(−d/s)) · (e^(−lo/s) + e^((hi−c)/s)) + d/c`.
///
/// # Direct probability of a hop
/// From the pair's last results, decayed: the amount known to pass
/// `a_s = ⌊success_amt · e^(−t_s/T)⌋` (0 without a success) and the amount known to fail
/// `a_f = c − ⌊(c − min(fail_amt, c)) · e^(−t_f/T)⌋` (`c` without a failure), decay time
/// `T`. Then, as lnd:
/// - `a > c` → 0; inconsistent `a_f ≤ a_s` → forget both (`0`, `c`); `a_s ≥ c` →
///   `a_s = c − 1`, `a_f = c`; `a_f > c` → `c`;
/// - `a ≥ a_f` → 0; `a ≤ a_s` → 1;
/// - else `P = M(a, a_f) / M(a_s, a_f)` (liquidity conditioned on `[a_s, a_f]`).
///
/// So an untried channel has `P(0) = 1`, `P(c) = 0`, and by the prior's symmetry
/// `P(a) + P(c − a) = 1`, `P(c/2) = ½`.
///
/// # Node weighting
/// Unless the pair has a result younger than `T` (then the direct probability is used
/// alone) or `node_weight = 0`, the direct probability is averaged with the node's
/// other pairs: `(P_direct + Σ w·e^(−t_s/T)) / (1 + Σ w·e^(−t_s/T) + Σ w·e^(−t_f/T))`,
/// the sums over the source node's other pairs with a positive success amount
/// (numerator and denominator) and with a positive failure amount (denominator only).
///
/// # Sender's own channels
/// lnd `LocalPairProbability`: `1 − e^(−t_f/T)` after a failure of the pair, else 1;
/// and 0 when a known balance ([`Self::set_local_balance`]) cannot take the amount next
/// to the sender's in-flight HTLCs.
///
/// Results are recorded and failures interpreted exactly as for
/// [`crate::scorers::AprioriScorer`]. The policy gate of [`crate::scorers`] applies
/// first.
#[derive(Debug, Clone)]
pub struct BimodalScorer {
    config: BimodalConfig,
    scale: f64,
    decay_secs: f64,
    history: PairHistory,
    local: LocalChannels,
}

impl BimodalScorer {
    /// lnd's defaults for `sender`'s payments over `graph`.
    pub fn new(graph: &Graph, sender: NodeIdx) -> Self {
        Self::build(graph, sender, BimodalConfig::default())
    }

    /// A scorer with `config`, checked first.
    pub fn with_config(
        graph: &Graph,
        sender: NodeIdx,
        config: BimodalConfig,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self::build(graph, sender, config))
    }

    fn build(graph: &Graph, sender: NodeIdx, config: BimodalConfig) -> Self {
        BimodalScorer {
            config,
            scale: config.scale_msat as f64,
            decay_secs: config.decay_time.as_secs_f64(),
            history: PairHistory::new(graph, config.min_failure_relax_interval),
            local: LocalChannels::new(graph, sender),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BimodalConfig {
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

    /// `e^(−age/T)`: how much of a result `age_secs` old is still believed.
    #[inline]
    fn decay(&self, age_secs: f64) -> f64 {
        (-age_secs / self.decay_secs).exp()
    }

    /// Prior mass of `[lo, hi]` on a channel of capacity `c`, divided by the scale.
    #[inline]
    fn mass(&self, c: f64, lo: f64, hi: f64) -> f64 {
        let s = self.scale;
        let d = hi - lo;
        -(-d / s).exp_m1() * ((-lo / s).exp() + ((hi - c) / s).exp()) + d / (c * s)
    }

    /// lnd's probability formula for amount `a` given the decayed success and failure
    /// amounts, msat.
    fn formula(&self, capacity: u64, success: u64, fail: u64, amount: u64) -> f64 {
        if capacity == 0 || amount > capacity {
            return 0.0;
        }
        let (mut success, mut fail) = (success, fail);
        if fail <= success {
            success = 0;
            fail = capacity;
        }
        if success >= capacity {
            success = capacity - 1;
            fail = capacity;
        }
        fail = fail.min(capacity);
        if amount >= fail {
            return 0.0;
        }
        if amount <= success {
            return 1.0;
        }
        let c = capacity as f64;
        let p =
            self.mass(c, amount as f64, fail as f64) / self.mass(c, success as f64, fail as f64);
        if p.is_nan() {
            0.0
        } else {
            p.clamp(0.0, 1.0)
        }
    }

    /// The direct probability of the hop from its own pair's history.
    fn direct_probability(
        &self,
        pair: Option<&PairResult>,
        amount: u64,
        capacity: u64,
        now: Timestamp,
    ) -> f64 {
        let mut success = 0;
        let mut fail = capacity;
        if let Some(r) = pair {
            if let Some(t) = r.fail_time {
                let known_gap = capacity - r.fail_amt_msat.min(capacity);
                fail = capacity - (self.decay(now.secs_since(t)) * known_gap as f64) as u64;
            }
            if let Some(t) = r.success_time {
                success = (self.decay(now.secs_since(t)) * r.success_amt_msat as f64) as u64;
            }
        }
        self.formula(capacity, success, fail, amount)
    }

    /// Mixes the direct probability with the source node's other pairs.
    fn with_node(&self, direct: f64, from: NodeIdx, pair: Option<u32>, now: Timestamp) -> f64 {
        let w = self.config.node_weight;
        if w == 0.0 {
            return direct;
        }
        if let Some(r) = pair.and_then(|p| self.history.result(p)) {
            let latest = r.success_time.max(r.fail_time);
            if let Some(t) = latest {
                if now.secs_since(t) < self.decay_secs {
                    return direct;
                }
            }
        }
        let mut sum = direct;
        let mut total = 1.0;
        for (p, r) in self.history.node_results(from) {
            if Some(p) == pair {
                continue;
            }
            if r.success_amt_msat > 0 {
                let age = r
                    .success_time
                    .map(|t| now.secs_since(t))
                    .unwrap_or(f64::INFINITY);
                let x = w * self.decay(age);
                sum += x;
                total += x;
            }
            if r.fail_amt_msat > 0 {
                let age = r
                    .fail_time
                    .map(|t| now.secs_since(t))
                    .unwrap_or(f64::INFINITY);
                total += w * self.decay(age);
            }
        }
        sum / total
    }
}

impl Scorer for BimodalScorer {
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
        let result = pair.and_then(|p| self.history.result(p));
        if self.local.touches(graph, edge) {
            if self.local.fits(edge, amount_msat) == Some(false) {
                return 0.0;
            }
            if graph.edge_source(edge) == self.local.sender() {
                return match result.and_then(|r| r.fail_time) {
                    Some(t) => (1.0 - self.decay(now.secs_since(t))).clamp(0.0, 1.0),
                    None => 1.0,
                };
            }
        }
        let direct = self.direct_probability(result, amount_msat, capacity, now);
        self.with_node(direct, graph.edge_source(edge), pair, now)
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

    const DAY: u64 = 24 * 3600;

    #[test]
    fn untried_channel_is_symmetric() {
        // 5 M sat channel, scale 300 k sat: strongly bimodal.
        let g = line(&[1000, 5_000_000]);
        let s = BimodalScorer::new(&g, NodeIdx(0));
        let t = Timestamp::ZERO;
        let c = 5_000_000_000u64;
        assert_eq!(s.success_probability(&g, fwd(1), 0, t), 1.0);
        assert_eq!(s.success_probability(&g, fwd(1), c, t), 0.0);
        assert_eq!(s.success_probability(&g, fwd(1), c + 1, t), 0.0);
        assert!((s.success_probability(&g, fwd(1), c / 2, t) - 0.5).abs() < 1e-9);
        for a in [
            1,
            1000,
            10_000_000,
            300_000_000,
            1_000_000_000,
            2_400_000_000,
        ] {
            let p = s.success_probability(&g, fwd(1), a, t);
            let q = s.success_probability(&g, fwd(1), c - a, t);
            assert!((p + q - 1.0).abs() < 1e-9, "a={a}: {p} + {q}");
        }
        // Bimodal: the middle is nearly flat, the ends steep.
        let p_small = s.success_probability(&g, fwd(1), 300_000_000, t);
        assert!(p_small < 0.75 && p_small > 0.6, "{p_small}");
        let p_mid = s.success_probability(&g, fwd(1), 2_000_000_000, t);
        assert!(p_mid > 0.5 && p_mid < 0.51, "{p_mid}");
    }

    #[test]
    fn small_channels_are_nearly_uniform() {
        // c = 10 k sat ≪ scale: the density is almost flat.
        let g = line(&[1000, 10_000]);
        let s = BimodalScorer::new(&g, NodeIdx(0));
        let c = 10_000_000f64;
        for a in [1_000_000u64, 2_500_000, 7_000_000] {
            let p = s.success_probability(&g, fwd(1), a, Timestamp::ZERO);
            assert!((p - (1.0 - a as f64 / c)).abs() < 0.01, "{a}: {p}");
        }
    }

    #[test]
    fn failure_and_success_condition_the_distribution() {
        let g = line(&[5_000_000, 5_000_000, 5_000_000]);
        let mut s = BimodalScorer::new(&g, NodeIdx(0));
        let p = path(&g, 3, 1_000_000_000);
        let t0 = Timestamp::from_secs(100);
        s.path_failed(
            &g,
            &p,
            PathFailure {
                hop: 2,
                kind: FailureKind::Liquidity,
            },
            t0,
        );
        assert_eq!(s.success_probability(&g, fwd(2), 1_000_000_000, t0), 0.0);
        let below = s.success_probability(&g, fwd(2), 500_000_000, t0);
        assert!(below > 0.0 && below < 1.0);
        // A week later the failure amount has relaxed a factor e towards the capacity.
        let later = Timestamp::from_secs(100 + 7 * DAY);
        assert!(s.success_probability(&g, fwd(2), 1_000_000_000, later) > 0.0);
        // Success on hop 1 (its amount is known to pass).
        let a1 = p.hops[1].amount_msat;
        assert_eq!(s.success_probability(&g, fwd(1), a1, t0), 1.0);
    }

    #[test]
    fn config_validation() {
        assert!(BimodalConfig::default().validate().is_ok());
        let bad = BimodalConfig {
            scale_msat: 0,
            ..Default::default()
        };
        assert!(BimodalScorer::with_config(&line(&[1]), NodeIdx(0), bad).is_err());
        let bad = BimodalConfig {
            decay_time: Duration::ZERO,
            ..Default::default()
        };
        assert_eq!(bad.validate().unwrap_err().param, "decay_time");
    }
}
