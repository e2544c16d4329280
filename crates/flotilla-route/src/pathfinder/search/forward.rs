//! The forward search from the sender that bounds the cost still to come: the
//! potential's upgrade (every search that runs long) and the pruning bound of a search
//! that excludes edges ([`super::excluded`]).

use flotilla_graph::{EdgeIdx, Graph};

use super::{Fwd, Query, Relax, CANDIDATE};
use crate::pathfinder::arrays::{OutEdge, RoutingArrays};
use crate::pathfinder::heap::RadixHeap;
use crate::scorer::Scorer;

/// A node's distance in a forward search from the sender.
#[derive(Copy, Clone, Debug, Default)]
pub(super) struct Bound {
    /// The forward search's distance (exact for its edge bounds once settled).
    pub(super) h: f64,
    /// `gen` when the forward search reached the node, `gen + 1` when it settled it.
    pub(super) fstamp: u32,
}

impl AsRef<Bound> for Fwd {
    fn as_ref(&self) -> &Bound {
        &self.b
    }
}

impl AsMut<Bound> for Fwd {
    fn as_mut(&mut self) -> &mut Bound {
        &mut self.b
    }
}

impl AsRef<Bound> for Bound {
    fn as_ref(&self) -> &Bound {
        self
    }
}

impl AsMut<Bound> for Bound {
    fn as_mut(&mut self) -> &mut Bound {
        self
    }
}

impl<S: Scorer + ?Sized> Relax<'_, '_, S> {
    /// A forward search (see [`forward_bounds`]), over the edges the request allows
    /// if `skip_excluded`, into the pruning bound's `fwd_x` if `pruning` or else into
    /// the potential's `fwd`. Returns its radius and the nodes it settled.
    pub(super) fn forward_search(&mut self, skip_excluded: bool, pruning: bool) -> (f64, u32) {
        let (arrays, graph, scorer, q, gen) =
            (self.arrays, self.graph, self.scorer, self.q, self.gen);
        let excluded = skip_excluded.then_some(self.edge_excluded);
        if pruning {
            forward_bounds(
                arrays,
                graph,
                scorer,
                q,
                gen,
                self.fwd_heap,
                self.fwd_x,
                excluded,
            )
        } else {
            forward_bounds(
                arrays,
                graph,
                scorer,
                q,
                gen,
                self.fwd_heap,
                self.fwd,
                excluded,
            )
        }
    }
}

/// Dijkstra from the sender under lower-bound edge costs, within a budget:
/// `hop_price + risk_price × cost_lower_bound` for the sender's edges,
/// `hop_price + fee(a) + cltv_price × delta + risk_price × cost_lower_bound` for
/// the others (every hop carries at least `a`). Counting the risk of every hop,
/// not only the sender's, is what lets the potential see that the channels near
/// a busy sender are all expensive for this amount: without it, such searches
/// settled most of the graph before reaching the sender.
///
/// The risk bound is a scorer call, so it is taken lazily, as in the main search:
/// an edge is queued as a candidate keyed without it, and priced when it comes
/// out (most never do within the budget).
///
/// With `excluded` (the request's excluded edges, stamped `gen`), those edges are
/// left out: the distances then bound only the paths the main search may return,
/// which is what the pruning bound needs ([`Relax::pruned`]). Excluded nodes are
/// never skipped: a bound over more paths is still a bound.
#[allow(clippy::too_many_arguments)]
pub(super) fn forward_bounds<S: Scorer + ?Sized, T: AsRef<Bound> + AsMut<Bound>>(
    arrays: &RoutingArrays,
    graph: &Graph,
    scorer: &S,
    q: &Query<'_>,
    gen: u32,
    heap: &mut RadixHeap,
    fwd: &mut [T],
    excluded: Option<&[u32]>,
) -> (f64, u32) {
    let settled = gen + 1;
    let same_comp = arrays.comp[q.src as usize] == arrays.comp[q.dst as usize];
    let comp_dst = arrays.comp[q.dst as usize];
    heap.clear();
    let src = q.src as usize;
    fwd[src].as_mut().h = 0.0;
    fwd[src].as_mut().fstamp = gen;
    heap.push(0f64.to_bits(), src as u64);
    let (mut nodes, mut scanned) = (0u32, 0u32);
    let radius = loop {
        let Some((key, x)) = heap.pop() else {
            break f64::INFINITY;
        };
        if nodes >= q.tuning.forward_nodes || scanned >= q.tuning.forward_edges {
            // Every key still queued, candidates included, bounds the distance of
            // the nodes not settled from below.
            break f64::from_bits(key);
        }
        if x >= CANDIDATE {
            // A candidate: price its risk now.
            let o = &arrays.out_edges[(x - CANDIDATE) as usize];
            let y = o.head as usize;
            if fwd[y].as_ref().fstamp == settled {
                continue;
            }
            let lb = scorer.cost_lower_bound(graph, EdgeIdx(o.edge), q.amount, q.now);
            if lb.is_nan() || lb == f64::INFINITY {
                continue; // no amount of at least `a` passes: on no path
            }
            let hy = f64::from_bits(key) + q.risk_price * if lb > 0.0 { lb } else { 0.0 };
            let f = fwd[y].as_mut();
            if f.fstamp < gen || (f.fstamp == gen && hy < f.h) {
                f.h = hy;
                f.fstamp = gen;
                heap.push(hy.to_bits().max(heap.floor()), y as u64);
            }
            continue;
        }
        let x = x as usize;
        if fwd[x].as_ref().fstamp == settled {
            continue;
        }
        fwd[x].as_mut().fstamp = settled;
        nodes += 1;
        let hx = fwd[x].as_ref().h;
        for (pos, o) in arrays.out_scan_pos(x, q.amount, same_comp) {
            let y = o.head as usize;
            // Only nodes that can be on a path (see `source_potential`), over
            // edges the request allows if asked.
            if !((o.flags & OutEdge::HEAD_TRANSIT != 0 || o.head == q.dst)
                && (same_comp || arrays.comp[y] <= comp_dst))
                || excluded.is_some_and(|x| x.get(o.edge as usize) == Some(&gen))
            {
                continue;
            }
            scanned += 1;
            if fwd[y].as_ref().fstamp == settled {
                continue;
            }
            if x == src {
                let lb = scorer.cost_lower_bound(graph, EdgeIdx(o.edge), q.amount, q.now);
                if lb.is_nan() || lb == f64::INFINITY {
                    continue;
                }
                let hy = hx + q.hop_price + q.risk_price * if lb > 0.0 { lb } else { 0.0 };
                let f = fwd[y].as_mut();
                if f.fstamp < gen || (f.fstamp == gen && hy < f.h) {
                    f.h = hy;
                    f.fstamp = gen;
                    heap.push(hy.to_bits().max(heap.floor()), y as u64);
                }
            } else {
                let Some(fee) = o.fee(q.amount) else { continue };
                let partial = hx + q.hop_price + fee as f64 + q.cltv_price * o.cltv as f64;
                // Skip candidates that cannot improve the node's current bound.
                let f = fwd[y].as_ref();
                if f.fstamp == gen && partial >= f.h {
                    continue;
                }
                heap.push(partial.to_bits().max(heap.floor()), CANDIDATE + pos as u64);
            }
        }
    };
    (radius, nodes)
}
