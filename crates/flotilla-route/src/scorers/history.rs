//! Payment outcomes per directed node pair, kept by the rules of lnd's mission control
//! (`routing/missioncontrol_state.go`, `routing/result_interpretation.go`), which both
//! lnd estimators read.

use std::collections::HashMap;
use std::time::Duration;

use flotilla_graph::{Direction, EdgeIdx, Graph, NodeIdx};

use crate::path::Path;
use crate::scorer::{FailureKind, PathFailure};
use crate::time::Timestamp;

/// The last known outcome for one directed node pair (all channels between the two
/// nodes in that direction share it, as in lnd).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PairResult {
    /// Largest amount known to have passed, msat (0: none).
    pub success_amt_msat: u64,
    /// When the last success was recorded.
    pub success_time: Option<Timestamp>,
    /// Smallest amount known to fail, msat; 0 means "fails whatever the amount".
    /// Meaningful only with `fail_time`.
    pub fail_amt_msat: u64,
    /// When the last failure was recorded.
    pub fail_time: Option<Timestamp>,
}

/// All pair results of one sender. Pair ids are dense, assigned once per graph.
#[derive(Debug, Clone)]
pub(crate) struct PairHistory {
    /// Pair id of every directed edge (`channel * 2 + direction`).
    pair_of_edge: Vec<u32>,
    /// Source node of every pair.
    pair_from: Vec<NodeIdx>,
    results: Vec<Option<PairResult>>,
    /// Per source node: the pairs that have a result, in first-result order.
    by_node: Vec<Vec<u32>>,
    /// A higher failure amount recorded sooner than this after the previous failure
    /// is dropped (lnd's `MinFailureRelaxInterval`).
    min_failure_relax_micros: u64,
}

impl PairHistory {
    pub(crate) fn new(graph: &Graph, min_failure_relax: Duration) -> Self {
        let mut ids: HashMap<(NodeIdx, NodeIdx), u32> = HashMap::with_capacity(graph.edge_slots());
        let mut pair_of_edge = Vec::with_capacity(graph.edge_slots());
        let mut pair_from = Vec::new();
        for c in graph.channels() {
            for d in Direction::BOTH {
                let key = (c.from_node(d), c.to_node(d));
                let id = *ids.entry(key).or_insert_with(|| {
                    pair_from.push(key.0);
                    (pair_from.len() - 1) as u32
                });
                pair_of_edge.push(id);
            }
        }
        PairHistory {
            pair_of_edge,
            results: vec![None; pair_from.len()],
            pair_from,
            by_node: vec![Vec::new(); graph.node_count()],
            min_failure_relax_micros: min_failure_relax.as_micros().min(u64::MAX as u128) as u64,
        }
    }

    /// The pair an edge belongs to.
    #[inline]
    pub(crate) fn pair(&self, edge: EdgeIdx) -> Option<u32> {
        self.pair_of_edge.get(edge.ix()).copied()
    }

    /// The result of a pair, if any.
    #[inline]
    pub(crate) fn result(&self, pair: u32) -> Option<&PairResult> {
        self.results.get(pair as usize).and_then(Option::as_ref)
    }

    /// Every pair result leaving `node`, as `(pair, result)`.
    #[inline]
    pub(crate) fn node_results(
        &self,
        node: NodeIdx,
    ) -> impl Iterator<Item = (u32, &PairResult)> + '_ {
        self.by_node
            .get(node.ix())
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter_map(move |&p| self.result(p).map(|r| (p, r)))
    }

    /// Whether `node` has any pair result.
    #[inline]
    pub(crate) fn node_has_results(&self, node: NodeIdx) -> bool {
        self.by_node.get(node.ix()).is_some_and(|v| !v.is_empty())
    }

    fn entry(&mut self, pair: u32) -> Option<&mut PairResult> {
        let p = pair as usize;
        if p >= self.results.len() {
            return None;
        }
        if self.results[p].is_none() {
            self.results[p] = Some(PairResult::default());
            let from = self.pair_from[p];
            if let Some(list) = self.by_node.get_mut(from.ix()) {
                list.push(pair);
            }
        }
        self.results[p].as_mut()
    }

    /// A success of `amt_msat` over `pair`: the success amount only grows, and a
    /// failure amount it reaches is moved just above it.
    pub(crate) fn record_success(&mut self, pair: u32, amt_msat: u64, now: Timestamp) {
        let Some(r) = self.entry(pair) else { return };
        r.success_time = Some(now);
        r.success_amt_msat = r.success_amt_msat.max(amt_msat);
        if r.fail_time.is_some() && amt_msat >= r.fail_amt_msat {
            r.fail_amt_msat = amt_msat.saturating_add(1);
        }
    }

    /// A failure of `amt_msat` over `pair` (0: amount-independent). A failure for a
    /// *higher* amount than the last one, within the relax interval of it, is dropped
    /// (out-of-order results). A failure reaching into the success range lowers the
    /// success amount below it; an amount-independent one clears it.
    pub(crate) fn record_failure(&mut self, pair: u32, amt_msat: u64, now: Timestamp) {
        let relax = self.min_failure_relax_micros;
        let Some(r) = self.entry(pair) else { return };
        if let Some(prev) = r.fail_time {
            if amt_msat > r.fail_amt_msat && now.0.saturating_sub(prev.0) < relax {
                return;
            }
        }
        r.fail_time = Some(now);
        r.fail_amt_msat = amt_msat;
        if amt_msat == 0 {
            r.success_amt_msat = 0;
        } else if amt_msat <= r.success_amt_msat {
            r.success_amt_msat = amt_msat - 1;
        }
    }

    fn succeed_hops(&mut self, path: &Path, upto: usize, now: Timestamp) {
        for h in &path.hops[..upto.min(path.hops.len())] {
            if let Some(p) = self.pair(h.edge) {
                self.record_success(p, h.amount_msat, now);
            }
        }
    }

    fn fail_both_directions(&mut self, edge: EdgeIdx, now: Timestamp) {
        for e in [edge, edge.reverse()] {
            if let Some(p) = self.pair(e) {
                self.record_failure(p, 0, now);
            }
        }
    }

    /// Every hop carried the payment and it settled: a success per pair.
    pub(crate) fn path_succeeded(&mut self, path: &Path, now: Timestamp) {
        self.succeed_hops(path, path.hops.len(), now);
    }

    /// lnd's interpretation of a failure reported for hop `k` (the channel
    /// `path.hops[k]`; lnd's "error source index" `k`):
    /// - [`FailureKind::Liquidity`] (`temporary_channel_failure`): successes for hops
    ///   `< k`, a failure for `amount_k` on pair `k`;
    /// - [`FailureKind::ChannelUnusable`] (as lnd treats `channel_disabled`): successes
    ///   for hops `< k`, an amount-independent failure on pair `k` in both directions;
    /// - [`FailureKind::NodeUnreachable`] (`unknown_next_peer`): an amount-independent
    ///   failure on pair `k` in both directions and nothing else;
    /// - [`FailureKind::Destination`] (`incorrect_or_unknown_payment_details`,
    ///   `mpp_timeout`): the payment reached the receiver, a success for every hop.
    ///
    /// A hop index past the path's end counts as a receiver failure. Unlike lnd, a
    /// failure of the sender's own first channel (`k = 0`) is recorded too: lnd knows
    /// its local bandwidth exactly, a scorer without local balances would otherwise
    /// retry that channel forever.
    pub(crate) fn path_failed(&mut self, path: &Path, failure: PathFailure, now: Timestamp) {
        let n = path.hops.len();
        let k = failure.hop;
        if failure.kind == FailureKind::Destination || k >= n {
            self.succeed_hops(path, n, now);
            return;
        }
        let hop = path.hops[k];
        match failure.kind {
            FailureKind::Liquidity => {
                self.succeed_hops(path, k, now);
                if let Some(p) = self.pair(hop.edge) {
                    self.record_failure(p, hop.amount_msat, now);
                }
            }
            FailureKind::ChannelUnusable => {
                self.succeed_hops(path, k, now);
                self.fail_both_directions(hop.edge, now);
            }
            FailureKind::NodeUnreachable => self.fail_both_directions(hop.edge, now),
            FailureKind::Destination => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorers::test_util::{fwd, line, path};

    #[test]
    fn pairs_are_per_directed_node_pair() {
        // The two directions of a channel are different pairs.
        let g = line(&[1000]);
        let h = PairHistory::new(&g, Duration::from_secs(60));
        assert_ne!(h.pair(fwd(0)), h.pair(fwd(0).reverse()));
        assert_eq!(h.pair(EdgeIdx(99)), None);
    }

    #[test]
    fn mission_control_rules() {
        let g = line(&[1000]);
        let mut h = PairHistory::new(&g, Duration::from_secs(60));
        let p = h.pair(fwd(0)).unwrap();
        let t = |s| Timestamp::from_secs(s);
        h.record_success(p, 500, t(0));
        h.record_success(p, 200, t(1)); // smaller success does not shrink the range
        assert_eq!(h.result(p).unwrap().success_amt_msat, 500);
        h.record_failure(p, 400, t(2)); // into the success range: success moves down
        assert_eq!(h.result(p).unwrap().success_amt_msat, 399);
        h.record_failure(p, 900, t(3)); // higher, within a minute: dropped
        assert_eq!(h.result(p).unwrap().fail_amt_msat, 400);
        h.record_failure(p, 900, t(100)); // after the interval: taken
        assert_eq!(h.result(p).unwrap().fail_amt_msat, 900);
        h.record_success(p, 950, t(101)); // success above the failure moves it up
        assert_eq!(h.result(p).unwrap().fail_amt_msat, 951);
        h.record_failure(p, 0, t(102)); // amount-independent: clears successes
        assert_eq!(h.result(p).unwrap().success_amt_msat, 0);
        assert_eq!(h.node_results(NodeIdx(0)).count(), 1);
        assert!(!h.node_has_results(NodeIdx(1)));
    }

    #[test]
    fn failure_interpretation() {
        let g = line(&[1000, 1000, 1000]);
        let pth = path(&g, 3, 100_000);
        let now = Timestamp::from_secs(5);
        let mut h = PairHistory::new(&g, Duration::from_secs(60));
        h.path_failed(
            &pth,
            PathFailure {
                hop: 2,
                kind: FailureKind::Liquidity,
            },
            now,
        );
        let r = |h: &PairHistory, e: EdgeIdx| h.result(h.pair(e).unwrap()).copied();
        assert_eq!(
            r(&h, fwd(0)).unwrap().success_amt_msat,
            pth.hops[0].amount_msat
        );
        assert_eq!(
            r(&h, fwd(1)).unwrap().success_amt_msat,
            pth.hops[1].amount_msat
        );
        assert_eq!(r(&h, fwd(2)).unwrap().fail_amt_msat, 100_000);
        assert_eq!(r(&h, fwd(2).reverse()), None);

        let mut h = PairHistory::new(&g, Duration::from_secs(60));
        h.path_failed(
            &pth,
            PathFailure {
                hop: 1,
                kind: FailureKind::NodeUnreachable,
            },
            now,
        );
        assert_eq!(r(&h, fwd(0)), None);
        assert_eq!(r(&h, fwd(1)).unwrap().fail_time, Some(now));
        assert_eq!(r(&h, fwd(1).reverse()).unwrap().fail_amt_msat, 0);

        let mut h = PairHistory::new(&g, Duration::from_secs(60));
        h.path_failed(
            &pth,
            PathFailure {
                hop: 2,
                kind: FailureKind::Destination,
            },
            now,
        );
        assert!(r(&h, fwd(2)).unwrap().success_amt_msat == 100_000);
    }
}
