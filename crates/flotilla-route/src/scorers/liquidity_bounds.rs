//! Liquidity bounds per channel direction, in the style of Pickhardt and Richter
//! ("Optimally Reliable & Cheap Payment Flows on the Lightning Network", 2021).

use std::time::Duration;

use flotilla_graph::liquidity::Balances;
use flotilla_graph::{EdgeIdx, Graph, NodeIdx};

use crate::path::Path;
use crate::scorer::{FailureKind, PathFailure, Scorer};
use crate::scorers::local::{LocalChannels, NotLocalEdge};
use crate::scorers::{bounded_cost, bounded_probability, usable_capacity};
use crate::time::Timestamp;

/// Settings of a [`LiquidityBoundsScorer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiquidityBoundsConfig {
    /// After this much time without news, a learned bound has moved half way back to
    /// the prior (`lower → 0`, `upper → capacity`). Default one hour, like LDK's
    /// `liquidity_offset_half_life`. Zero forgets everything at once;
    /// `Duration::MAX` never forgets.
    pub half_life: Duration,
    /// Whether a settled payment moves its amount from each hop's direction to the
    /// reverse direction (default `true`: physically what happens). With `false` a
    /// success only says "this direction could carry the amount": its lower bound
    /// rises and nothing moves.
    pub settle_moves_liquidity: bool,
}

impl Default for LiquidityBoundsConfig {
    fn default() -> Self {
        LiquidityBoundsConfig {
            half_life: Duration::from_secs(3600),
            settle_moves_liquidity: true,
        }
    }
}

/// What is believed about one channel direction. 32 bytes; all zero is the prior.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Belief {
    /// Lower bound on the liquidity, msat, as of `updated`.
    lower: u64,
    /// `capacity − upper bound`, msat, as of `updated` (so that zero is the prior
    /// without looking the capacity up).
    upper_offset: u64,
    /// When the bounds were last set, µs.
    updated: u64,
    /// The sender's own HTLCs in flight over this direction, msat.
    in_flight: u64,
}

/// Believed liquidity bounds per channel direction, learned from the sender's own
/// payments, with the sender's in-flight HTLCs accounted and beliefs decaying back to
/// the uniform prior over (virtual) time.
///
/// # Model
/// Let `L` be the spendable liquidity of a channel direction, counting the sender's
/// own pending HTLCs on it as still there, and `F` the sum of those pending HTLCs
/// ([`Scorer::htlcs_in_flight`]). A new HTLC of `a` passes iff `L ≥ F + a`. The
/// belief is: `L` is an integer uniform on `lower..=upper` (initially `0..=capacity`).
/// With `x = a + F`:
///
/// ```text
/// P(a) = 1                                         if x ≤ lower
///      = 0                                         if x > upper
///      = (upper + 1 − x) / (upper + 1 − lower)     otherwise
/// ```
///
/// after the shared policy gate (no policy, disabled, `a` outside
/// `[htlc_minimum, min(htlc_maximum, capacity)]` → 0). For the sender's own channels
/// with a known balance `b` ([`Self::set_local_balance`]): `P(a) = 1` if
/// `a + F ≤ b`, else 0.
///
/// # Learning
/// For hop `j` with amount `a_j`, `F_j` is the sender's *other* in-flight amount on
/// that direction: `in_flight − a_j` if `in_flight ≥ a_j` (the path is still
/// registered), else `in_flight` (it was resolved first). Either order of
/// "outcome" and "HTLCs resolved" is therefore fine; when other parts of the sender
/// share the direction and the path was resolved first, the update is slightly
/// conservative.
/// - **Hop carried the HTLC** (hops before a failure, all hops of a success or of a
///   [`FailureKind::Destination`] failure): `lower = max(lower, a_j + F_j)`.
/// - **[`FailureKind::Liquidity`] at hop k**: `upper = min(upper, a_k + F_k − 1)`.
/// - **[`FailureKind::ChannelUnusable`] / [`FailureKind::NodeUnreachable`] at hop k**:
///   `lower = upper = 0`, so every positive amount has probability 0 until decay
///   lets `upper` grow back (to half the capacity after one half-life).
/// - **Success, settlement** (with [`LiquidityBoundsConfig::settle_moves_liquidity`],
///   the default): after the carried-update above, `a_j` left this direction and
///   arrived on the reverse one: `[lower, upper] −= a_j` here (floored at 0) and
///   `[lower, upper] += a_j` on the reverse direction (capped at the capacity). So a
///   success leaves this direction's lower bound at `max(lower, a_j + F_j) − a_j` and
///   raises the reverse direction's. The two directions are otherwise believed
///   independently.
/// - A new bound that contradicts the other one replaces it: a lower bound above the
///   upper resets the upper bound to the capacity, an upper bound below the lower
///   resets the lower bound to 0 (the network changed; the news wins).
///
/// # Decay
/// Lazily, from each direction's last update: after `t`, `lower ← ⌊lower · 2^(−t/h)⌋`
/// and `capacity − upper ← ⌊(capacity − upper) · 2^(−t/h)⌋` with half-life `h`.
/// Both shrink by the same factor, so `lower ≤ upper` is kept; after 64 half-lives
/// every belief is exactly the prior again. A query costs one `exp2` on a direction
/// with news and nothing on one without.
///
/// [`Scorer::cost`] is exact to 6.9·10⁻⁸ relative without a logarithm when
/// `(x − lower)/(upper + 1 − lower) < 1/8`.
#[derive(Debug, Clone)]
pub struct LiquidityBoundsScorer {
    config: LiquidityBoundsConfig,
    /// The half-life in µs, as f64 (0 = forget at once).
    half_life_micros: f64,
    beliefs: Vec<Belief>,
    local: LocalChannels,
}

impl LiquidityBoundsScorer {
    /// A scorer with the default configuration for `sender`'s payments over `graph`.
    pub fn new(graph: &Graph, sender: NodeIdx) -> Self {
        Self::with_config(graph, sender, LiquidityBoundsConfig::default())
    }

    /// A scorer with `config`.
    pub fn with_config(graph: &Graph, sender: NodeIdx, config: LiquidityBoundsConfig) -> Self {
        LiquidityBoundsScorer {
            config,
            half_life_micros: config.half_life.as_micros() as f64,
            beliefs: vec![Belief::default(); graph.edge_slots()],
            local: LocalChannels::new(graph, sender),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &LiquidityBoundsConfig {
        &self.config
    }

    /// The node whose payments this scorer learns from.
    pub fn sender(&self) -> NodeIdx {
        self.local.sender()
    }

    /// Sets the exact spendable balance of one of the sender's channel directions
    /// (either direction of a channel the sender is an endpoint of), clamped to the
    /// capacity. From now on that direction's probability is exact; settled payments
    /// move the balance.
    pub fn set_local_balance(&mut self, edge: EdgeIdx, msat: u64) -> Result<(), NotLocalEdge> {
        self.local.set_balance(edge, msat)
    }

    /// Forgets an exact balance; the direction falls back to learned bounds.
    pub fn clear_local_balance(&mut self, edge: EdgeIdx) {
        self.local.clear_balance(edge)
    }

    /// Sets the balances of every channel of the sender (both directions) from
    /// `balances`, e.g. the simulation's hidden-liquidity assignment.
    pub fn set_local_balances(&mut self, balances: &Balances) {
        self.local.set_balances(balances)
    }

    /// The sender's in-flight amount over `edge`, msat.
    pub fn in_flight_msat(&self, edge: EdgeIdx) -> u64 {
        self.beliefs
            .get(edge.ix())
            .map(|b| b.in_flight)
            .unwrap_or(0)
    }

    /// The believed `(lower, upper)` liquidity of `edge` at `now`, msat, decay
    /// applied (in-flight amounts not subtracted). An exactly known local balance `b`
    /// gives `(b, b)`.
    pub fn liquidity_bounds(&self, graph: &Graph, edge: EdgeIdx, now: Timestamp) -> (u64, u64) {
        let Some(channel) = graph.channels().get(edge.channel().ix()) else {
            return (0, 0);
        };
        if self.local.touches(graph, edge) {
            if let Some(b) = self.local.balance(edge) {
                return (b, b);
            }
        }
        let cap = channel.capacity_msat();
        let b = self.beliefs.get(edge.ix()).copied().unwrap_or_default();
        let (lower, offset) = self.current(&b, now);
        let upper = cap.saturating_sub(offset);
        (lower.min(upper), upper)
    }

    /// `(lower, upper_offset)` of `b` decayed to `now`.
    #[inline]
    fn current(&self, b: &Belief, now: Timestamp) -> (u64, u64) {
        if b.lower == 0 && b.upper_offset == 0 {
            return (0, 0);
        }
        let dt = now.0.saturating_sub(b.updated);
        if dt == 0 {
            return (b.lower, b.upper_offset);
        }
        let halvings = dt as f64 / self.half_life_micros;
        // Also catches the infinity of a zero half-life (`dt > 0`, so never NaN).
        if halvings >= 64.0 {
            return (0, 0);
        }
        let f = (-halvings).exp2();
        let decay = |v: u64| ((v as f64 * f) as u64).min(v);
        (decay(b.lower), decay(b.upper_offset))
    }

    /// `(x, lower, upper)` for a query, or `None` for probability 0 by policy.
    #[inline]
    fn eval(
        &self,
        graph: &Graph,
        edge: EdgeIdx,
        amount_msat: u64,
        now: Timestamp,
    ) -> Option<(u64, u64, u64)> {
        let cap = usable_capacity(graph, edge, amount_msat)?;
        let b = self.beliefs.get(edge.ix()).copied().unwrap_or_default();
        if self.local.touches(graph, edge) {
            if let Some(balance) = self.local.balance(edge) {
                // The sender's own HTLCs only: a known balance is the sender's own
                // view, which other payments through the channel already moved.
                let mine = self.local.in_flight(edge).unwrap_or(0);
                let x = amount_msat.saturating_add(mine);
                return Some((x, balance, balance));
            }
        }
        let x = amount_msat.saturating_add(b.in_flight);
        let (lower, offset) = self.current(&b, now);
        let upper = cap.saturating_sub(offset);
        Some((x, lower.min(upper), upper))
    }

    /// Applies decay up to `now` to `edge`'s stored bounds and stamps it; returns its
    /// index and capacity.
    fn materialize(
        &mut self,
        graph: &Graph,
        edge: EdgeIdx,
        now: Timestamp,
    ) -> Option<(usize, u64)> {
        let cap = graph.channels().get(edge.channel().ix())?.capacity_msat();
        let i = edge.ix();
        let b = *self.beliefs.get(i)?;
        let (lower, offset) = self.current(&b, now);
        let offset = offset.min(cap);
        let b = &mut self.beliefs[i];
        b.upper_offset = offset;
        b.lower = lower.min(cap - offset);
        b.updated = b.updated.max(now.0);
        Some((i, cap))
    }

    /// The sender's in-flight amount on `edge` other than a path's own `amount`.
    fn others_in_flight(&self, edge: EdgeIdx, amount: u64) -> u64 {
        let f = self.in_flight_msat(edge);
        if f >= amount {
            f - amount
        } else {
            f
        }
    }

    /// The direction carried `x` msat: `lower = max(lower, x)`.
    fn raise_lower(&mut self, graph: &Graph, edge: EdgeIdx, x: u64, now: Timestamp) {
        let Some((i, cap)) = self.materialize(graph, edge, now) else {
            return;
        };
        let b = &mut self.beliefs[i];
        b.lower = b.lower.max(x.min(cap));
        if b.lower > cap - b.upper_offset {
            b.upper_offset = 0;
        }
    }

    /// The direction could not carry `x` msat: `upper = min(upper, x − 1)`.
    fn lower_upper(&mut self, graph: &Graph, edge: EdgeIdx, x: u64, now: Timestamp) {
        let Some((i, cap)) = self.materialize(graph, edge, now) else {
            return;
        };
        let b = &mut self.beliefs[i];
        let upper = x.saturating_sub(1).min(cap);
        b.upper_offset = b.upper_offset.max(cap - upper);
        if b.lower > cap - b.upper_offset {
            b.lower = 0;
        }
    }

    /// The direction is unusable for now: `[0, 0]`.
    fn mark_unusable(&mut self, graph: &Graph, edge: EdgeIdx, now: Timestamp) {
        let Some((i, cap)) = self.materialize(graph, edge, now) else {
            return;
        };
        let b = &mut self.beliefs[i];
        b.lower = 0;
        b.upper_offset = cap;
    }

    /// `amount` settled over `edge`: it leaves this direction, arrives on the reverse.
    fn settle(&mut self, graph: &Graph, edge: EdgeIdx, amount: u64, now: Timestamp) {
        if let Some((i, cap)) = self.materialize(graph, edge, now) {
            let b = &mut self.beliefs[i];
            b.lower = b.lower.saturating_sub(amount);
            b.upper_offset = b.upper_offset.saturating_add(amount).min(cap);
        }
        if let Some((i, cap)) = self.materialize(graph, edge.reverse(), now) {
            let b = &mut self.beliefs[i];
            b.lower = b.lower.saturating_add(amount).min(cap);
            b.upper_offset = b.upper_offset.saturating_sub(amount);
        }
    }
}

impl Scorer for LiquidityBoundsScorer {
    #[inline]
    fn success_probability(
        &self,
        graph: &Graph,
        edge: EdgeIdx,
        amount_msat: u64,
        now: Timestamp,
    ) -> f64 {
        match self.eval(graph, edge, amount_msat, now) {
            Some((x, lower, upper)) => bounded_probability(x, lower, upper),
            None => 0.0,
        }
    }

    #[inline]
    fn cost(&self, graph: &Graph, edge: EdgeIdx, amount_msat: u64, now: Timestamp) -> f64 {
        match self.eval(graph, edge, amount_msat, now) {
            Some((x, lower, upper)) => bounded_cost(x, lower, upper),
            None => f64::INFINITY,
        }
    }

    /// The believed upper bound minus the sender's in-flight amount (an exactly known
    /// local balance minus in-flight): above it `P = 0`.
    fn max_liquidity_msat(&self, graph: &Graph, edge: EdgeIdx, now: Timestamp) -> u64 {
        let Some(channel) = graph.channels().get(edge.channel().ix()) else {
            return 0;
        };
        match channel.policy(edge.direction()) {
            Some(p) if !p.disabled => {}
            _ => return 0,
        }
        let (_, upper) = self.liquidity_bounds(graph, edge, now);
        let in_flight = match self.local.balance(edge) {
            Some(_) if self.local.touches(graph, edge) => self.local.in_flight(edge).unwrap_or(0),
            _ => self.in_flight_msat(edge),
        };
        upper.saturating_sub(in_flight)
    }

    fn path_succeeded(&mut self, graph: &Graph, path: &Path, now: Timestamp) {
        for h in &path.hops {
            let x = h
                .amount_msat
                .saturating_add(self.others_in_flight(h.edge, h.amount_msat));
            self.raise_lower(graph, h.edge, x, now);
            if self.config.settle_moves_liquidity {
                self.settle(graph, h.edge, h.amount_msat, now);
            }
            // The sender's own balances move whatever the belief model says.
            self.local.settle(h.edge, h.amount_msat);
        }
    }

    fn path_failed(&mut self, graph: &Graph, path: &Path, failure: PathFailure, now: Timestamp) {
        let n = path.hops.len();
        let (carried, failed) = match failure.kind {
            FailureKind::Destination => (n, None),
            _ if failure.hop < n => (failure.hop, Some(path.hops[failure.hop])),
            _ => (n, None),
        };
        for h in &path.hops[..carried] {
            let x = h
                .amount_msat
                .saturating_add(self.others_in_flight(h.edge, h.amount_msat));
            self.raise_lower(graph, h.edge, x, now);
        }
        if let Some(h) = failed {
            match failure.kind {
                FailureKind::Liquidity => {
                    let x = h
                        .amount_msat
                        .saturating_add(self.others_in_flight(h.edge, h.amount_msat));
                    self.lower_upper(graph, h.edge, x, now);
                }
                FailureKind::ChannelUnusable | FailureKind::NodeUnreachable => {
                    self.mark_unusable(graph, h.edge, now);
                }
                FailureKind::Destination => {}
            }
        }
    }

    fn use_first_hops(&mut self, graph: &Graph, sender: NodeIdx, spendable: &[(EdgeIdx, u64)]) {
        self.local.retarget(graph, sender, spendable);
    }

    fn htlcs_in_flight(&mut self, _graph: &Graph, path: &Path, added: bool) {
        for h in &path.hops {
            if let Some(b) = self.beliefs.get_mut(h.edge.ix()) {
                b.in_flight = if added {
                    b.in_flight.saturating_add(h.amount_msat)
                } else {
                    b.in_flight.saturating_sub(h.amount_msat)
                };
            }
            self.local.htlc(h.edge, h.amount_msat, added);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorers::test_util::{fwd, line, path};

    const HOUR: u64 = 3_600_000_000;

    fn liquidity(hop: usize) -> PathFailure {
        PathFailure {
            hop,
            kind: FailureKind::Liquidity,
        }
    }

    #[test]
    fn prior_is_uniform() {
        let g = line(&[1000, 1000]);
        let s = LiquidityBoundsScorer::new(&g, NodeIdx(0));
        let u = crate::scorers::UniformScorer;
        for a in [0, 1, 1000, 500_000, 999_999, 1_000_000, 1_000_001] {
            for e in [fwd(0), fwd(1), fwd(1).reverse()] {
                assert_eq!(
                    s.success_probability(&g, e, a, Timestamp::ZERO),
                    u.success_probability(&g, e, a, Timestamp::ZERO)
                );
            }
        }
        assert_eq!(
            s.liquidity_bounds(&g, fwd(1), Timestamp::ZERO),
            (0, 1_000_000)
        );
    }

    #[test]
    fn liquidity_failure_caps_upper_and_credits_earlier_hops() {
        let g = line(&[1000, 1000, 1000]);
        let mut s = LiquidityBoundsScorer::new(&g, NodeIdx(0));
        let p = path(&g, 3, 300_000);
        let t = Timestamp::from_secs(10);
        s.path_failed(&g, &p, liquidity(1), t);
        let a1 = p.hops[1].amount_msat;
        assert_eq!(s.liquidity_bounds(&g, fwd(1), t), (0, a1 - 1));
        assert_eq!(s.success_probability(&g, fwd(1), a1, t), 0.0);
        assert!(s.success_probability(&g, fwd(1), a1 / 2, t) > 0.0);
        // Hop 0 carried its amount.
        let a0 = p.hops[0].amount_msat;
        assert_eq!(s.liquidity_bounds(&g, fwd(0), t), (a0, 1_000_000));
        assert_eq!(s.success_probability(&g, fwd(0), a0, t), 1.0);
        // Hop 2 learned nothing.
        assert_eq!(s.liquidity_bounds(&g, fwd(2), t), (0, 1_000_000));
    }

    #[test]
    fn decay_halves_then_forgets() {
        let g = line(&[1000]);
        let mut s = LiquidityBoundsScorer::new(&g, NodeIdx(5));
        let p = path(&g, 1, 400_000);
        s.path_failed(&g, &p, liquidity(0), Timestamp::ZERO);
        assert_eq!(
            s.liquidity_bounds(&g, fwd(0), Timestamp::ZERO),
            (0, 399_999)
        );
        let (_, u) = s.liquidity_bounds(&g, fwd(0), Timestamp(HOUR));
        assert_eq!(u, 1_000_000 - 300_000); // offset 600,001 halved, floored
        assert_eq!(
            s.liquidity_bounds(&g, fwd(0), Timestamp(64 * HOUR)),
            (0, 1_000_000)
        );
        // Zero half-life: no memory.
        let mut z = LiquidityBoundsScorer::with_config(
            &g,
            NodeIdx(5),
            LiquidityBoundsConfig {
                half_life: Duration::ZERO,
                ..Default::default()
            },
        );
        z.path_failed(&g, &p, liquidity(0), Timestamp::ZERO);
        assert_eq!(z.liquidity_bounds(&g, fwd(0), Timestamp(1)), (0, 1_000_000));
    }

    #[test]
    fn unusable_is_zero_then_recovers() {
        let g = line(&[1000, 1000]);
        let mut s = LiquidityBoundsScorer::new(&g, NodeIdx(0));
        let p = path(&g, 2, 10_000);
        let t = Timestamp::ZERO;
        s.path_failed(
            &g,
            &p,
            PathFailure {
                hop: 1,
                kind: FailureKind::NodeUnreachable,
            },
            t,
        );
        assert_eq!(s.success_probability(&g, fwd(1), 1, t), 0.0);
        let later = Timestamp(HOUR);
        let q = s.success_probability(&g, fwd(1), 10_000, later);
        assert!(q > 0.9 && q < 1.0, "{q}");
    }

    #[test]
    fn success_settles_amounts_across() {
        let g = line(&[1000]);
        let mut s = LiquidityBoundsScorer::new(&g, NodeIdx(7));
        let p = path(&g, 1, 250_000);
        let t = Timestamp::ZERO;
        s.htlcs_in_flight(&g, &p, true);
        s.path_succeeded(&g, &p, t);
        s.htlcs_in_flight(&g, &p, false);
        // Forward: carried 250k, then 250k left → [0, 750k].
        assert_eq!(s.liquidity_bounds(&g, fwd(0), t), (0, 750_000));
        // Reverse: 250k arrived → [250k, 1M].
        assert_eq!(
            s.liquidity_bounds(&g, fwd(0).reverse(), t),
            (250_000, 1_000_000)
        );
        assert_eq!(s.success_probability(&g, fwd(0).reverse(), 250_000, t), 1.0);
        assert_eq!(s.in_flight_msat(fwd(0)), 0);
    }

    #[test]
    fn success_without_settlement_raises_lower() {
        let g = line(&[1000]);
        let cfg = LiquidityBoundsConfig {
            settle_moves_liquidity: false,
            ..Default::default()
        };
        let mut s = LiquidityBoundsScorer::with_config(&g, NodeIdx(7), cfg);
        let p = path(&g, 1, 250_000);
        s.path_succeeded(&g, &p, Timestamp::ZERO);
        assert_eq!(
            s.liquidity_bounds(&g, fwd(0), Timestamp::ZERO),
            (250_000, 1_000_000)
        );
        assert_eq!(
            s.success_probability(&g, fwd(0), 250_000, Timestamp::ZERO),
            1.0
        );
        assert!(s.success_probability(&g, fwd(0), 250_001, Timestamp::ZERO) < 1.0);
    }

    #[test]
    fn max_liquidity_is_upper_bound_minus_in_flight() {
        let g = line(&[1000, 1000]);
        let mut s = LiquidityBoundsScorer::new(&g, NodeIdx(9));
        let t = Timestamp::ZERO;
        assert_eq!(s.max_liquidity_msat(&g, fwd(1), t), 1_000_000);
        s.path_failed(&g, &path(&g, 2, 400_000), liquidity(1), t);
        let p = path(&g, 2, 100_000);
        s.htlcs_in_flight(&g, &p, true);
        let m = s.max_liquidity_msat(&g, fwd(1), t);
        assert_eq!(m, 399_999 - 100_000);
        // It is a bound: nothing above it has a chance, and it has one.
        assert_eq!(s.success_probability(&g, fwd(1), m + 1, t), 0.0);
        assert!(s.success_probability(&g, fwd(1), m, t) > 0.0);
    }

    #[test]
    fn failure_while_other_parts_in_flight_accounts_them() {
        let g = line(&[1000]);
        let mut s = LiquidityBoundsScorer::new(&g, NodeIdx(9));
        let a = path(&g, 1, 300_000);
        let b = path(&g, 1, 200_000);
        s.htlcs_in_flight(&g, &a, true);
        s.htlcs_in_flight(&g, &b, true);
        // b fails while a is still pending: L < 300k + 200k.
        s.path_failed(&g, &b, liquidity(0), Timestamp::ZERO);
        s.htlcs_in_flight(&g, &b, false);
        assert_eq!(
            s.liquidity_bounds(&g, fwd(0), Timestamp::ZERO),
            (0, 499_999)
        );
        // With a still pending, the next 200k needs L ≥ 500k: impossible.
        assert_eq!(
            s.success_probability(&g, fwd(0), 200_000, Timestamp::ZERO),
            0.0
        );
        s.htlcs_in_flight(&g, &a, false);
        assert!(s.success_probability(&g, fwd(0), 200_000, Timestamp::ZERO) > 0.5);
    }
}
