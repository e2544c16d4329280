//! The stateless common model: hidden liquidity uniform on `[0, capacity]`.

use flotilla_graph::{EdgeIdx, Graph};

use crate::path::Path;
use crate::scorer::{PathFailure, Scorer};
use crate::scorers::{bounded_cost, bounded_probability, usable_capacity};
use crate::time::Timestamp;

/// Every channel direction's spendable liquidity is an integer uniform on
/// `0..=c` msat (`c` = capacity), so
///
/// `P(a) = (c + 1 − a) / (c + 1)` for `a ≤ c`, and 0 above,
///
/// after the shared policy gate (no policy, disabled, `a` outside
/// `[htlc_minimum, htlc_maximum]` → 0). It learns nothing and ignores in-flight
/// HTLCs: the one fixed yardstick the router benchmark scores every router's paths
/// with ("mean success probability under uniform hidden liquidity").
///
/// [`Scorer::cost`] avoids the logarithm for `a/(c+1) < 1/8` (relative error below
/// 6.9·10⁻⁸, see [`crate::scorers::neg_ln_one_minus`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UniformScorer;

impl UniformScorer {
    /// The scorer (it has no state).
    pub fn new() -> Self {
        UniformScorer
    }
}

impl Scorer for UniformScorer {
    #[inline]
    fn success_probability(
        &self,
        graph: &Graph,
        edge: EdgeIdx,
        amount_msat: u64,
        _now: Timestamp,
    ) -> f64 {
        match usable_capacity(graph, edge, amount_msat) {
            Some(c) => bounded_probability(amount_msat, 0, c),
            None => 0.0,
        }
    }

    #[inline]
    fn cost(&self, graph: &Graph, edge: EdgeIdx, amount_msat: u64, _now: Timestamp) -> f64 {
        match usable_capacity(graph, edge, amount_msat) {
            Some(c) => bounded_cost(amount_msat, 0, c),
            None => f64::INFINITY,
        }
    }

    fn path_succeeded(&mut self, _graph: &Graph, _path: &Path, _now: Timestamp) {}

    fn path_failed(&mut self, _: &Graph, _: &Path, _: PathFailure, _: Timestamp) {}

    fn htlcs_in_flight(&mut self, _graph: &Graph, _path: &Path, _added: bool) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorers::test_util::{fwd, line, policy};
    use flotilla_graph::{
        Channel, ChannelIdx, Direction, GraphBuilder, Node, NodePubkey, ShortChannelId,
    };

    #[test]
    fn formula_and_edges() {
        let g = line(&[1000]); // c = 1,000,000 msat
        let s = UniformScorer::new();
        let t = Timestamp::ZERO;
        let c = 1_000_000f64;
        assert_eq!(s.success_probability(&g, fwd(0), 0, t), 1.0);
        assert_eq!(s.success_probability(&g, fwd(0), 1, t), c / (c + 1.0));
        assert_eq!(
            s.success_probability(&g, fwd(0), 500_000, t),
            500_001.0 / (c + 1.0)
        );
        assert_eq!(
            s.success_probability(&g, fwd(0), 1_000_000, t),
            1.0 / (c + 1.0)
        );
        assert_eq!(s.success_probability(&g, fwd(0), 1_000_001, t), 0.0);
        assert_eq!(s.cost(&g, fwd(0), 1_000_001, t), f64::INFINITY);
        assert_eq!(s.cost(&g, fwd(0), 0, t), 0.0);
    }

    #[test]
    fn cost_matches_ln_of_probability() {
        let g = line(&[1000]);
        let s = UniformScorer;
        let t = Timestamp::ZERO;
        for a in (1..1_000_000u64).step_by(997) {
            let p = s.success_probability(&g, fwd(0), a, t);
            let exact = -(p.ln());
            let fast = s.cost(&g, fwd(0), a, t);
            // ln of the rounded probability loses ~1e-16/(1-p) absolutely; compare
            // relatively with a margin for that.
            let tol = 7e-8 * exact + 1e-12;
            assert!((fast - exact).abs() <= tol, "a={a}: {fast} vs {exact}");
        }
    }

    #[test]
    fn policy_gate() {
        let mut b = GraphBuilder::new();
        let k = |i: u8| NodePubkey::from_secret([i; 32]).unwrap();
        let n0 = b.add_node(Node::bare(k(1))).unwrap();
        let n1 = b.add_node(Node::bare(k(2))).unwrap();
        let mut p = policy(1000);
        p.htlc_minimum_msat = 1000;
        p.htlc_maximum_msat = 400_000;
        let mut off = policy(1000);
        off.disabled = true;
        b.add_channel(Channel {
            scid: ShortChannelId(1),
            nodes: [n0, n1],
            capacity_sat: 1000,
            policies: [Some(p), Some(off)],
            chan_point: None,
            last_update: 0,
        })
        .unwrap();
        b.add_channel(Channel {
            scid: ShortChannelId(2),
            nodes: [n0, n1],
            capacity_sat: 1000,
            policies: [Some(policy(1000)), None],
            chan_point: None,
            last_update: 0,
        })
        .unwrap();
        let g = b.build();
        let s = UniformScorer;
        let t = Timestamp::ZERO;
        let e = ChannelIdx(0).edge(Direction::AToB);
        assert_eq!(s.success_probability(&g, e, 999, t), 0.0);
        assert!(s.success_probability(&g, e, 1000, t) > 0.99);
        assert!(s.success_probability(&g, e, 400_000, t) > 0.5);
        assert_eq!(s.success_probability(&g, e, 400_001, t), 0.0);
        assert_eq!(s.success_probability(&g, e.reverse(), 10, t), 0.0);
        let no_policy = ChannelIdx(1).edge(Direction::BToA);
        assert_eq!(s.success_probability(&g, no_policy, 10, t), 0.0);
        // Out of range edge: probability 0, no panic.
        assert_eq!(
            s.success_probability(&g, flotilla_graph::EdgeIdx(1000), 10, t),
            0.0
        );
    }
}
