//! The search: a label-setting search from the receiver back to the sender.
//!
//! Fees accumulate backwards, so the search starts where the amount is known: the
//! receiver gets exactly the requested amount. When node `v` is settled with a label
//! (cost `C`, amount `A` that an HTLC into `v` must carry, CLTV `T` of that HTLC, `H`
//! hops to the receiver), each usable in-edge `e = (u -> v)` offers `u` the label
//!
//! - amount `A + fee_e(A)` (BOLT 7, rounded down), CLTV `T + delta_e`, `H + 1` hops,
//! - cost `C + fee_e(A) + cltv_price * delta_e + hop_price + risk_price * (-ln P(e, A))`,
//!
//! except for the sender, which charges itself nothing and adds no delta: its label is
//! (`C + hop_price + risk_price * (-ln P(e, A))`, `A`, `T`, `H + 1`). Each node keeps
//! its cheapest offer.
//!
//! **Goal direction.** Nodes are settled in order of `C + h(x)`, where `h(x)` is a lower
//! bound on the cost of the rest of the path, from the sender to `x`: an A* potential.
//! Every hop costs at least `hop_price`, and the sender's own hop over edge `e` at
//! least `w(e) = hop_price + risk_price × Scorer::cost_lower_bound(e, a)` (every hop
//! carries at least the requested amount `a`). With `d(x)` the number of hops from the
//! sender to `x` over edges that can carry `a` (a breadth-first search from the sender,
//! level by level while that stays cheap, up to 3 levels; nodes beyond the
//! last complete level `D` count as `D + 1`) and `m` the cheapest `w` of the sender's
//! edges:
//!
//! - `h(sender) = 0`;
//! - `h(x) = min(w of the sender's edges into x, m + hop_price)` when `d(x) = 1`;
//! - `h(x) = m + (d(x) − 1) × hop_price` otherwise.
//!
//! That `h` is consistent (no edge costs less than the drop in `h` along it), so nodes
//! are settled with the same labels as in plain Dijkstra order while the search heads
//! for the sender. It matters most when every channel of the sender is expensive (say,
//! barely larger than the payment): that price is known before the search starts.
//!
//! A search that is still running after `upgrade_after` settled nodes strengthens `h`
//! with a forward Dijkstra from the sender under lower-bound edge costs (the sender's
//! edges as above; any other edge `hop_price + fee_e(a) + cltv_price × delta_e +
//! risk_price × Scorer::cost_lower_bound(e, a)`, the risk priced lazily when the edge
//! comes out of the forward queue), within a budget: `h` becomes the maximum of the
//! old `h` and the forward distance (for nodes the forward search did not settle, the
//! smallest distance it left unsettled). A maximum of consistent potentials is
//! consistent, and `h` only grows, so keys already queued are lower bounds of their
//! new values: an entry whose key grew goes back into the queue when it comes out
//! (lazy re-keying).
//!
//! **Lazy risk.** Asking the scorer is the expensive part of a relaxation (it reads its
//! beliefs and the channel). A relaxation therefore only queues a *candidate* keyed by
//! its cost without the risk term, a lower bound; the scorer is asked when the
//! candidate comes out of the queue, and the exact label goes back in. Candidates that
//! the search never reaches, or whose node was settled meanwhile, cost no scorer call.
//! Nodes still receive exactly the offers they would in the eager order.
//!
//! **Stopping.** The search stops when the sender is popped, or as soon as every
//! out-neighbour of the sender is settled (no further offer can reach it).
//!
//! Per-query state lives in a [`Workspace`] that is reused: labels carry a generation
//! stamp instead of being cleared, the heap keeps its buckets, and nothing allocates
//! inside the loop. Each node's label is split in two 16-byte halves: what every
//! relaxation reads (cost, stamp, depth from the sender, hops) and what only a new or
//! settled label needs (amount, edge, CLTV), so that the random reads of a
//! relaxation touch half as many cache lines.

mod excluded;
mod forward;

use flotilla_graph::{EdgeIdx, Graph};

use super::arrays::{InEdge, OutEdge, RoutingArrays};
use super::heap::RadixHeap;
use crate::scorer::Scorer;
use crate::time::Timestamp;
pub(crate) use excluded::{two_step, Mode, TwoStep};
use forward::Bound;

/// Knobs that trade work between the parts of the search. They change how fast an
/// answer comes, never which answer (the tests check that).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SearchTuning {
    /// A search that has settled this many nodes without reaching the sender
    /// strengthens its potential with a forward search from the sender (`u32::MAX`:
    /// never).
    pub upgrade_after: u32,
    /// Budget of that forward search: nodes settled…
    pub forward_nodes: u32,
    /// … and edges examined.
    pub forward_edges: u32,
    /// The breadth-first search from the sender expands a level (up to the third)
    /// only if that means reading at most this many edges.
    pub bfs_edges: u32,
    /// `upgrade_after` for the fast search that a request with excluded edges runs
    /// first (`search::excluded`), when its answer only sets the cut-off of the
    /// exact search that follows. Excluding the edges of a part's siblings takes the
    /// sender's best routes away, which only the forward search sees: upgrading at
    /// once saves the nodes settled without it. (With exact answers off the fast
    /// search's route is the answer, and it keeps `upgrade_after`.)
    pub fast_upgrade_after: u32,
}

impl Default for SearchTuning {
    fn default() -> Self {
        SearchTuning {
            upgrade_after: 16,
            forward_nodes: 64,
            forward_edges: 4096,
            bfs_edges: 1024,
            fast_upgrade_after: 1,
        }
    }
}

/// A search in [`Mode::harvest`] goes on after settling the sender for as many settled
/// nodes again as it took to get there, and at least this many.
const HARVEST_MIN: u32 = 32;

/// The breadth-first search from the sender stops after this many levels.
const BFS_MAX_DEPTH: u32 = 3;
/// `Hot::near` of a node the breadth-first search did not reach.
const FAR: u8 = BFS_MAX_DEPTH as u8 + 1;

/// The half of a node's label that every relaxation reads.
#[derive(Copy, Clone, Debug, Default)]
#[repr(C)]
struct Hot {
    /// Cost of the path from this node to the receiver.
    cost: f64,
    /// `gen` when labelled in the current query, `gen + 1` when settled, `gen + 2`
    /// when only reached by the breadth-first search from the sender; older values
    /// mean "untouched".
    stamp: u32,
    /// Depth from the sender in the breadth-first search (`FAR` if not reached);
    /// meaningful only when `stamp >= gen`.
    near: u8,
    /// Hops from this node to the receiver.
    hops: u8,
}

/// The half of a node's label that only new and settled labels need.
#[derive(Copy, Clone, Debug, Default)]
#[repr(C)]
struct Cold {
    /// The amount an HTLC into this node must carry (for the sender: its first hop's).
    amount: u64,
    /// The edge this node's path starts with (`NO_EDGE` at the receiver).
    edge: u32,
    /// CLTV expiry of an HTLC into this node, blocks above the current height.
    cltv: u32,
}

/// A node's best known way to the receiver (both halves).
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct Label {
    /// Cost of the path from this node to the receiver.
    pub cost: f64,
    /// The amount an HTLC into this node must carry (for the sender: its first hop's).
    pub amount: u64,
    /// The edge this node's path starts with (`NO_EDGE` at the receiver).
    pub edge: u32,
    /// CLTV expiry of an HTLC into this node, blocks above the current height.
    pub cltv: u32,
    /// Hops from this node to the receiver.
    pub hops: u8,
}

/// Sender-side bounds of one node, read only for the sender's neighbours and after
/// an upgrade.
#[derive(Copy, Clone, Debug, Default)]
struct Fwd {
    /// For an out-neighbour of the sender: the cheapest `w` of the sender's edges
    /// into it (infinite if none can be used).
    w: f64,
    /// The forward search's bound.
    b: Bound,
}

pub(crate) const NO_EDGE: u32 = u32::MAX;

/// Heap payloads at or above this are candidates (`CANDIDATE + record position`);
/// below, node indices.
const CANDIDATE: u64 = 1 << 32;

/// Counters of one search, for diagnostics and the benchmark.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// Nodes settled (popped with a current label).
    pub settled_nodes: u32,
    /// In-edge records examined.
    pub edges_scanned: u32,
    /// Calls to the scorer.
    pub scorer_calls: u32,
    /// Heap pushes (new or improved labels).
    pub heap_pushes: u32,
    /// Nodes reached by the breadth-first search from the sender.
    pub source_ball: u32,
    /// Nodes settled by the forward search that strengthens the potential of long
    /// searches (0 when the search did not need it).
    pub forward_settled: u32,
    /// Edges skipped because the amount lay outside their HTLC range or capacity.
    pub rejected_htlc: u32,
    /// Extensions that would exceed the fee limit.
    pub rejected_fee: u32,
    /// Extensions that would exceed the total CLTV limit.
    pub rejected_cltv: u32,
    /// Settled nodes whose paths were already as long as the path-length limit allows.
    pub rejected_length: u32,
    /// Edges the scorer gave probability zero.
    pub rejected_probability: u32,
    /// Edges skipped because the request excluded them.
    pub rejected_excluded: u32,
}

/// One query, in internal indices.
pub(crate) struct Query<'a> {
    pub src: u32,
    pub dst: u32,
    pub amount: u64,
    pub final_cltv: u32,
    /// `amount + max_fee`, saturating: no label's amount may exceed it.
    pub amount_cap: u64,
    pub max_cltv: u32,
    pub max_len: u8,
    pub risk_price: f64,
    pub cltv_price: f64,
    pub hop_price: f64,
    pub excluded_edges: &'a [EdgeIdx],
    pub excluded_nodes: &'a [u32],
    pub now: Timestamp,
    pub tuning: SearchTuning,
}

/// The potential by breadth-first depth from the sender (see the module docs); index
/// `BFS_MAX_DEPTH + 1` serves every node beyond the search.
#[derive(Copy, Clone, Debug)]
struct Potential {
    /// The cheapest bound of the sender's own edges.
    m: f64,
    by_depth: [f64; BFS_MAX_DEPTH as usize + 2],
}

impl Potential {
    /// `complete` is the depth of the last level searched completely (nodes beyond
    /// it are at least one deeper), or `BFS_MAX_DEPTH + 1` if the search found
    /// everything reachable.
    fn new(m: f64, hop: f64, complete: u32) -> Self {
        let mut by_depth = [0.0; BFS_MAX_DEPTH as usize + 2];
        for (d, h) in by_depth.iter_mut().enumerate().skip(1) {
            let d = (d as u32).min(complete + 1);
            *h = m + hop * (d - 1) as f64;
        }
        if complete > BFS_MAX_DEPTH {
            // Not reached at all: no path from the sender.
            by_depth[BFS_MAX_DEPTH as usize + 1] = f64::INFINITY;
        }
        Potential { m, by_depth }
    }
}

/// Reusable per-query state.
#[derive(Clone, Debug, Default)]
pub(crate) struct Workspace {
    hot: Vec<Hot>,
    cold: Vec<Cold>,
    fwd: Vec<Fwd>,
    /// The pruning bound of searches that exclude edges (see [`Relax::pruned`]); a
    /// search in [`Mode::tight_order`] also keeps its potential's forward search here.
    fwd_x: Vec<Bound>,
    /// The forward search over the allowed edges that the last search left in `fwd_x`
    /// (a [`Mode::tight_order`] search that upgraded its potential): the stamp of the
    /// nodes it settled and its radius. The pruned search that follows, for the same
    /// query, would compute exactly this again (same query, edges, scorer and budget),
    /// so it takes it instead; any other search forgets it.
    fwd_x_done: Option<(u32, f64)>,
    /// Whether the last search found no first hop that can carry the amount (it
    /// stopped before settling a node). That depends on the query alone, not on how
    /// the search is run, so another search of the same query stops there too.
    no_first_hop: bool,
    bfs: Vec<u32>,
    fwd_heap: RadixHeap,
    gen: u32,
    heap: RadixHeap,
    /// Per graph edge slot: `gen` when the current query excludes it.
    edge_excluded: Vec<u32>,
    /// Test builds: `C + h` of each node as it was settled, and every node's final
    /// potential, for the white-box tests.
    #[cfg(test)]
    pub trace: Vec<f64>,
    #[cfg(test)]
    pub final_potential: Vec<f64>,
}

/// `-ln P(edge, amount)` from [`Scorer::cost`], or `None` when the edge cannot carry
/// it (probability zero, or a value that is not a cost).
#[inline(always)]
pub(crate) fn edge_neg_ln_p<S: Scorer + ?Sized>(
    scorer: &S,
    graph: &Graph,
    edge: EdgeIdx,
    amount: u64,
    now: Timestamp,
) -> Option<f64> {
    let c = scorer.cost(graph, edge, amount, now);
    if c < f64::INFINITY {
        // Negative values (a scorer's rounding) would break the heap's ordering.
        Some(if c > 0.0 { c } else { 0.0 })
    } else {
        None // probability zero, or NaN
    }
}

/// Generation stamps reserved per query: labelled, settled, reached.
const GEN_STEP: u32 = 4;

impl Workspace {
    /// Sizes the state for `nodes` nodes and forgets everything (on a new graph).
    pub fn reset(&mut self, nodes: usize) {
        self.hot.clear();
        self.hot.resize(nodes, Hot::default());
        self.cold.clear();
        self.cold.resize(nodes, Cold::default());
        self.fwd.clear();
        self.fwd.resize(nodes, Fwd::default());
        self.fwd_x.clear();
        self.fwd_x.resize(nodes, Bound::default());
        self.edge_excluded.clear();
        self.fwd_x_done = None;
        self.gen = GEN_STEP;
        self.heap.clear();
    }

    /// The label of node `x` from the last search (meaningful for settled nodes).
    pub fn label(&self, x: u32) -> Label {
        let (h, c) = (self.hot[x as usize], self.cold[x as usize]);
        Label {
            cost: h.cost,
            amount: c.amount,
            edge: c.edge,
            cltv: c.cltv,
            hops: h.hops,
        }
    }

    /// Whether node `x` got a label in the last search (settled or not; nodes the
    /// request excluded carry the settled stamp without one).
    pub fn labelled(&self, x: u32) -> bool {
        let s = self.hot[x as usize].stamp;
        s == self.gen || s == self.gen + 1
    }

    /// Starts a new generation; O(1) except once every billion queries.
    fn next_gen(&mut self) -> u32 {
        if self.gen >= u32::MAX - 2 * GEN_STEP {
            self.hot.iter_mut().for_each(|l| l.stamp = 0);
            self.fwd.iter_mut().for_each(|f| *f = Fwd::default());
            self.fwd_x.iter_mut().for_each(|f| *f = Bound::default());
            self.edge_excluded.iter_mut().for_each(|s| *s = 0);
            self.fwd_x_done = None;
            self.gen = GEN_STEP;
        }
        self.gen += GEN_STEP;
        self.gen
    }

    /// The breadth-first search from the sender and the first-hop bounds (see the
    /// module docs). Returns the number of distinct out-neighbours of the sender that
    /// can be on a path, and the potential by depth.
    fn source_potential<S: Scorer + ?Sized>(
        &mut self,
        arrays: &RoutingArrays,
        graph: &Graph,
        scorer: &S,
        q: &Query<'_>,
        gen: u32,
        stats: &mut SearchStats,
    ) -> (u32, Potential) {
        let (settled, reached) = (gen + 1, gen + 2);
        let (hot, fwd, bfs) = (&mut self.hot, &mut self.fwd, &mut self.bfs);
        let excluded = |e: u32| {
            !q.excluded_edges.is_empty() && self.edge_excluded.get(e as usize) == Some(&gen)
        };
        let same_comp = arrays.comp[q.src as usize] == arrays.comp[q.dst as usize];
        let comp_dst = arrays.comp[q.dst as usize];
        // Only nodes that can be on a path count: forwarders (or the receiver) in a
        // component between the sender's and the receiver's.
        let useful = |o: &OutEdge| {
            (o.flags & OutEdge::HEAD_TRANSIT != 0 || o.head == q.dst)
                && (same_comp || arrays.comp[o.head as usize] <= comp_dst)
        };
        bfs.clear();
        bfs.push(q.src);
        hot[q.src as usize].stamp = reached;
        hot[q.src as usize].near = 0;
        // Level 1, with the sender's own edges priced. Excluded nodes carry the
        // "settled" stamp already.
        let mut m = f64::INFINITY;
        for o in arrays.out_scan(q.src as usize, q.amount, same_comp) {
            let y = o.head as usize;
            if !useful(o) || hot[y].stamp == settled || excluded(o.edge) {
                continue;
            }
            if hot[y].stamp != reached {
                hot[y].stamp = reached;
                hot[y].near = 1;
                fwd[y].w = f64::INFINITY;
                bfs.push(o.head);
            }
            let lb = scorer.cost_lower_bound(graph, EdgeIdx(o.edge), q.amount, q.now);
            if lb < f64::INFINITY {
                let w = q.hop_price + q.risk_price * if lb > 0.0 { lb } else { 0.0 };
                fwd[y].w = fwd[y].w.min(w);
                m = m.min(w);
            }
        }
        let neighbours = bfs.len() as u32 - 1;
        // Further levels, hop counts only.
        let mut depth = 1;
        let mut level = 1..bfs.len();
        while depth < BFS_MAX_DEPTH && !level.is_empty() {
            // Expand a level only if that is cheap (hubs have thousands of edges).
            let work: usize = bfs[level.clone()]
                .iter()
                .map(|&x| {
                    (arrays.out_start[x as usize + 1] - arrays.out_start[x as usize]) as usize
                })
                .sum();
            if work > q.tuning.bfs_edges as usize {
                break;
            }
            let end = bfs.len();
            for i in level {
                for o in arrays.out_scan(bfs[i] as usize, q.amount, same_comp) {
                    let y = o.head as usize;
                    if hot[y].stamp >= gen || !useful(o) {
                        continue; // reached already, or excluded
                    }
                    hot[y].stamp = reached;
                    hot[y].near = depth as u8 + 1;
                    bfs.push(o.head);
                }
            }
            depth += 1;
            level = end..bfs.len();
        }
        if level.is_empty() {
            // Nothing lies beyond: every node the sender can reach was numbered.
            depth = BFS_MAX_DEPTH + 1;
        }
        stats.source_ball = bfs.len() as u32;
        (neighbours, Potential::new(m, q.hop_price, depth))
    }

    /// Runs one search. Returns whether the sender was settled; its label and the
    /// labels along its path are then available through [`Workspace::label`].
    pub fn search<S: Scorer + ?Sized>(
        &mut self,
        arrays: &RoutingArrays,
        graph: &Graph,
        scorer: &S,
        q: &Query<'_>,
        mode: Mode,
        stats: &mut SearchStats,
    ) -> bool {
        let gen = self.next_gen();
        let settled = gen + 1;
        // Only the pruned search right after a tight one may reuse its forward search.
        let fwd_x_done = self.fwd_x_done.take();
        self.no_first_hop = false;
        self.heap.clear();
        *stats = SearchStats::default();
        #[cfg(test)]
        {
            self.trace.clear();
            self.final_potential.clear();
        }

        let has_excluded_edges = !q.excluded_edges.is_empty();
        if has_excluded_edges {
            if self.edge_excluded.len() < graph.edge_slots() {
                self.edge_excluded.resize(graph.edge_slots(), 0);
            }
            for e in q.excluded_edges {
                if let Some(s) = self.edge_excluded.get_mut(e.ix()) {
                    *s = gen;
                }
            }
        }
        for &x in q.excluded_nodes {
            if x != q.src && x != q.dst {
                self.hot[x as usize].stamp = settled;
            }
        }
        let (mut neighbours, potential) =
            self.source_potential(arrays, graph, scorer, q, gen, stats);
        if neighbours == 0 || potential.m == f64::INFINITY {
            // No first hop can carry the amount.
            self.no_first_hop = true;
            return false;
        }

        let comp = &arrays.comp;
        let same_comp = comp[q.src as usize] == comp[q.dst as usize];
        let comp_src = comp[q.src as usize];

        let mut ctx = Relax {
            hot: &mut self.hot,
            cold: &mut self.cold,
            fwd: &mut self.fwd,
            fwd_x: &mut self.fwd_x,
            potential,
            upgraded: false,
            radius: f64::INFINITY,
            radius_x: f64::INFINITY,
            settled_x: settled,
            prune_x: false,
            potential_x: mode.tight_order && has_excluded_edges,
            mode,
            fwd_heap: &mut self.fwd_heap,
            arrays,
            heap: &mut self.heap,
            edge_excluded: &self.edge_excluded,
            has_excluded_edges,
            edge_idx: &arrays.edge_idx,
            edges: &arrays.edges,
            heads: &arrays.heads,
            graph,
            scorer,
            q,
            gen,
            settled,
            src_cost: f64::INFINITY,
            best_src: f64::INFINITY,
            stats: *stats,
            #[cfg(test)]
            trace: &mut self.trace,
            #[cfg(test)]
            final_potential: &mut self.final_potential,
        };
        if has_excluded_edges && mode.prune_at < f64::INFINITY {
            match fwd_x_done {
                Some((stamp, radius)) => (ctx.settled_x, ctx.radius_x) = (stamp, radius),
                None => ctx.radius_x = ctx.forward_search(true, true).0,
            }
            ctx.prune_x = true;
        }
        if mode.prune_at < f64::INFINITY {
            // The caller uses this search's route only if it costs at most the
            // threshold: until then only keys within it come out (keys are monotone),
            // so entries above it would never be popped while that can happen.
            ctx.heap
                .set_limit((mode.prune_at * excluded::PRUNE_SLACK).to_bits());
        }
        ctx.write_label(
            q.dst as usize,
            Label {
                cost: 0.0,
                amount: q.amount,
                edge: NO_EDGE,
                cltv: q.final_cltv,
                hops: 0,
            },
        );
        ctx.heap.push(0f64.to_bits(), q.dst as u64);
        let edges = &arrays.edges[..];
        let max_len = q.max_len as u32;

        // Harvest mode: the settled count at which the search stops once the sender
        // is settled (`u32::MAX` until then).
        let mut stop_at = u32::MAX;
        let found = loop {
            let Some((key, payload)) = ctx.heap.pop() else {
                break stop_at != u32::MAX;
            };
            if payload >= CANDIDATE {
                ctx.evaluate((payload - CANDIDATE) as u32, key);
                continue;
            }
            let v = payload as usize;
            // Costs only improve, so a node's freshest entry comes out first: any later
            // entry of a settled node is stale.
            let hv = ctx.hot[v];
            if hv.stamp == settled || ctx.requeue(key, hv.cost + ctx.potential(v), payload) {
                continue;
            }
            ctx.hot[v].stamp = settled;
            ctx.stats.settled_nodes += 1;
            #[cfg(test)]
            ctx.trace.push(hv.cost + ctx.potential(v));
            if v == q.src as usize {
                if !mode.harvest {
                    break true;
                }
                // Go on for as many settled nodes again (at least `HARVEST_MIN`),
                // without expanding the sender: more of its neighbours get labels.
                let n = ctx.stats.settled_nodes;
                stop_at = n.saturating_add(n.max(HARVEST_MIN));
                continue;
            }
            let cv = ctx.cold[v];
            let lv = Label {
                cost: hv.cost,
                amount: cv.amount,
                edge: cv.edge,
                cltv: cv.cltv,
                hops: hv.hops,
            };
            let seg = arrays.segments[v];
            let hops_after = lv.hops as u32 + 1;
            if hops_after + 1 > max_len {
                // Only the sender itself may still be prepended.
                ctx.stats.rejected_length += 1;
                if hops_after <= max_len {
                    for pos in seg.start..seg.end {
                        let rec = &edges[pos as usize];
                        if rec.from == q.src {
                            ctx.relax_source(pos, rec, &lv);
                        }
                    }
                }
            } else {
                // Forwarders of the same component: the only ones when sender and
                // receiver share a component.
                for pos in seg.start..seg.leaf {
                    let rec = &edges[pos as usize];
                    if lv.amount > rec.htlc_max {
                        ctx.stats.rejected_htlc += seg.leaf - pos;
                        break;
                    }
                    if rec.from == q.src {
                        ctx.relax_source(pos, rec, &lv);
                    } else {
                        ctx.relax(pos, rec, &lv);
                    }
                }
                // Non-forwarders: only the sender.
                for pos in seg.leaf..seg.inter {
                    let rec = &edges[pos as usize];
                    if lv.amount > rec.htlc_max {
                        break;
                    }
                    if rec.from == q.src {
                        ctx.relax_source(pos, rec, &lv);
                    }
                }
                if !same_comp {
                    for pos in seg.inter..seg.end {
                        let rec = &edges[pos as usize];
                        if lv.amount > rec.htlc_max {
                            ctx.stats.rejected_htlc += seg.end - pos;
                            break;
                        }
                        if rec.from == q.src {
                            ctx.relax_source(pos, rec, &lv);
                        } else if rec.flags & InEdge::TRANSIT != 0
                            && comp[rec.from as usize] >= comp_src
                        {
                            ctx.relax(pos, rec, &lv);
                        }
                    }
                }
            }
            if !ctx.upgraded && ctx.stats.settled_nodes >= q.tuning.upgrade_after {
                ctx.upgrade();
            }
            if ctx.stats.settled_nodes >= stop_at {
                break true;
            }
            if hv.near == 1 {
                neighbours -= 1;
                if neighbours == 0 {
                    if stop_at != u32::MAX {
                        break true; // harvesting: no neighbour of the sender is left
                    }
                    // Every way into the sender has been offered: its label is final.
                    let s = q.src as usize;
                    if ctx.hot[s].stamp == gen {
                        ctx.hot[s].stamp = settled;
                        ctx.stats.settled_nodes += 1;
                        break true;
                    }
                    break false;
                }
            }
        };
        *stats = ctx.stats;
        let fwd_x_done = (ctx.potential_x && ctx.upgraded).then_some((settled, ctx.radius));
        #[cfg(test)]
        {
            ctx.final_potential.clear();
            for u in 0..ctx.hot.len() {
                let h = ctx.potential(u);
                ctx.final_potential.push(h);
            }
        }
        self.fwd_x_done = fwd_x_done;
        found
    }
}

/// The relaxation step, with everything it touches borrowed once.
struct Relax<'a, 'q, S: ?Sized> {
    hot: &'a mut [Hot],
    cold: &'a mut [Cold],
    fwd: &'a mut [Fwd],
    /// The pruning bound's forward search (requests that exclude edges).
    fwd_x: &'a mut [Bound],
    potential: Potential,
    /// Whether the forward search has strengthened the potential.
    upgraded: bool,
    /// The forward search's radius (potential of the nodes it did not settle).
    radius: f64,
    /// The same for the pruning bound.
    radius_x: f64,
    /// The stamp of the nodes `fwd_x`'s forward search settled (`settled`, unless it
    /// was taken over from the tight search before).
    settled_x: u32,
    /// Whether the potential's forward search lives in `fwd_x` (a tight search, whose
    /// forward search is the pruning bound's: see [`Workspace::fwd_x_done`]).
    potential_x: bool,
    /// Whether `fwd_x` holds the pruning bound.
    prune_x: bool,
    mode: Mode,
    fwd_heap: &'a mut RadixHeap,
    arrays: &'a RoutingArrays,
    heap: &'a mut RadixHeap,
    edge_excluded: &'a [u32],
    has_excluded_edges: bool,
    edge_idx: &'a [EdgeIdx],
    edges: &'a [InEdge],
    heads: &'a [u32],
    graph: &'a Graph,
    scorer: &'a S,
    q: &'a Query<'q>,
    gen: u32,
    settled: u32,
    /// Cost of the sender's current label (infinite until it has one).
    src_cost: f64,
    /// Offers whose cost plus potential reach this are dropped: `src_cost` (no such
    /// offer can lead to a better route), or, in [`Mode::harvest`], whose other
    /// routes may cost more, infinite.
    best_src: f64,
    /// Counters, kept here (not behind a reference) so they can live in registers.
    stats: SearchStats,
    #[cfg(test)]
    trace: &'a mut Vec<f64>,
    #[cfg(test)]
    final_potential: &'a mut Vec<f64>,
}

impl<S: Scorer + ?Sized> Relax<'_, '_, S> {
    #[inline(always)]
    fn excluded(&self, e: EdgeIdx) -> bool {
        self.has_excluded_edges && self.edge_excluded[e.ix()] == self.gen
    }

    /// Gives node `u` the label `l` (the current query's), keeping its depth from the
    /// sender if the breadth-first search reached it.
    #[inline(always)]
    fn write_label(&mut self, u: usize, l: Label) {
        let h = &mut self.hot[u];
        let near = if h.stamp >= self.gen { h.near } else { FAR };
        *h = Hot {
            cost: l.cost,
            stamp: self.gen,
            near,
            hops: l.hops,
        };
        self.cold[u] = Cold {
            amount: l.amount,
            edge: l.edge,
            cltv: l.cltv,
        };
    }

    /// The potential of node `u`: a lower bound on the cost from the sender to it.
    #[inline(always)]
    fn potential(&self, u: usize) -> f64 {
        let hu = &self.hot[u];
        let d = if hu.stamp >= self.gen { hu.near } else { FAR };
        let h = if d == 1 {
            self.fwd[u].w.min(self.potential.by_depth[1])
        } else {
            self.potential.by_depth[d as usize]
        };
        if self.upgraded {
            let f = if self.potential_x {
                &self.fwd_x[u]
            } else {
                &self.fwd[u].b
            };
            h.max(if f.fstamp == self.settled {
                f.h
            } else {
                self.radius
            })
        } else {
            h
        }
    }

    /// Strengthens the potential with a forward search from the sender (see the
    /// module docs). The new potential is the maximum of the old one and the forward
    /// distances, so it is still consistent and only grows: queued keys become lower
    /// bounds of their new values, and an entry whose key has grown is pushed back
    /// when it comes out (lazy re-keying), which keeps the order valid.
    #[cold]
    fn upgrade(&mut self) {
        let tight = self.potential_x;
        let (radius, nodes) = self.forward_search(tight, tight);
        self.radius = radius;
        self.stats.forward_settled = nodes;
        self.upgraded = true;
    }

    /// After an upgrade: whether an entry popped with `key` must go back in with the
    /// larger `fresh` key instead of being processed now.
    #[inline(always)]
    fn requeue(&mut self, key: u64, fresh: f64, payload: u64) -> bool {
        if self.upgraded && fresh.to_bits() > key {
            self.heap.push(fresh.to_bits(), payload);
            true
        } else {
            false
        }
    }

    /// Queues `payload` with key `key`, never below the heap's floor (rounding could
    /// otherwise put it an ulp under the key just popped).
    #[inline(always)]
    fn push(&mut self, payload: u64, key: f64) {
        self.stats.heap_pushes += 1;
        let k = key.to_bits().max(self.heap.floor());
        self.heap.push(k, payload);
    }

    /// What forwarder `rec.from` would get through `rec` and settled `lv`, without the
    /// risk term: `(cost so far, amount, cltv)`, or `None` if a limit or the node's
    /// current label rules it out.
    #[inline(always)]
    fn offer(&mut self, rec: &InEdge, lv: &Label) -> Option<(f64, u64, u32, f64)> {
        let a = lv.amount;
        if a < rec.htlc_min {
            self.stats.rejected_htlc += 1;
            return None;
        }
        let u = rec.from as usize;
        let hu = &self.hot[u];
        if hu.stamp == self.settled {
            return None;
        }
        let label_bound = if hu.stamp == self.gen {
            hu.cost
        } else {
            f64::INFINITY
        };
        let Some(fee) = rec.fee(a) else {
            self.stats.rejected_fee += 1;
            return None;
        };
        let amount_u = match a.checked_add(fee) {
            Some(x) if x <= self.q.amount_cap => x,
            _ => {
                self.stats.rejected_fee += 1;
                return None;
            }
        };
        let cltv_u = lv.cltv as u64 + rec.cltv as u64;
        if cltv_u > self.q.max_cltv as u64 {
            self.stats.rejected_cltv += 1;
            return None;
        }
        let partial = lv.cost + fee as f64 + self.q.cltv_price * rec.cltv as f64 + self.q.hop_price;
        if partial >= label_bound {
            return None;
        }
        let h = self.potential(u);
        if partial + h >= self.best_src || self.pruned(u, partial, h) {
            return None;
        }
        Some((partial, amount_u, cltv_u as u32, h))
    }

    /// Queues the offer of the path through `rec` and settled `lv` to forwarder
    /// `rec.from`, keyed by its cost without the risk term.
    #[inline(always)]
    fn relax(&mut self, pos: u32, rec: &InEdge, lv: &Label) {
        self.stats.edges_scanned += 1;
        if let Some((partial, _, _, h)) = self.offer(rec, lv) {
            self.push(CANDIDATE + pos as u64, partial + h);
        }
    }

    /// A candidate came out of the queue: price its risk and label its node if better.
    #[inline]
    fn evaluate(&mut self, pos: u32, key: u64) {
        let rec = self.edges[pos as usize];
        let v = self.heads[pos as usize] as usize;
        let (hv, cv) = (self.hot[v], self.cold[v]);
        let lv = Label {
            cost: hv.cost,
            amount: cv.amount,
            edge: cv.edge,
            cltv: cv.cltv,
            hops: hv.hops,
        };
        let Some((partial, amount_u, cltv_u, h)) = self.offer(&rec, &lv) else {
            return;
        };
        if self.requeue(key, partial + h, CANDIDATE + pos as u64) {
            return;
        }
        let e = self.edge_idx[pos as usize];
        if self.excluded(e) {
            self.stats.rejected_excluded += 1;
            return;
        }
        self.stats.scorer_calls += 1;
        let Some(nlp) = edge_neg_ln_p(self.scorer, self.graph, e, lv.amount, self.q.now) else {
            self.stats.rejected_probability += 1;
            return;
        };
        let cost = partial + self.q.risk_price * nlp;
        let key = cost + h;
        let u = rec.from as usize;
        let hu = &self.hot[u];
        let label_bound = if hu.stamp == self.gen {
            hu.cost
        } else {
            f64::INFINITY
        };
        if cost < label_bound && key < self.best_src {
            self.write_label(
                u,
                Label {
                    cost,
                    amount: amount_u,
                    edge: e.0,
                    cltv: cltv_u,
                    hops: lv.hops + 1,
                },
            );
            self.push(u as u64, key);
        }
    }

    /// Offers the sender its first hop `rec` to settled `lv`: no fee, no delta.
    #[cold]
    fn relax_source(&mut self, pos: u32, rec: &InEdge, lv: &Label) {
        self.stats.edges_scanned += 1;
        let a = lv.amount;
        if a < rec.htlc_min || a > rec.htlc_max {
            self.stats.rejected_htlc += 1;
            return;
        }
        let src = self.q.src as usize;
        let partial = lv.cost + self.q.hop_price;
        if self.hot[src].stamp == self.settled || partial >= self.src_cost {
            return;
        }
        let e = self.edge_idx[pos as usize];
        if self.excluded(e) {
            self.stats.rejected_excluded += 1;
            return;
        }
        self.stats.scorer_calls += 1;
        let Some(nlp) = edge_neg_ln_p(self.scorer, self.graph, e, a, self.q.now) else {
            self.stats.rejected_probability += 1;
            return;
        };
        let cost = partial + self.q.risk_price * nlp;
        if cost < self.src_cost {
            self.src_cost = cost;
            if !self.mode.harvest {
                self.best_src = cost;
            }
            self.write_label(
                src,
                Label {
                    cost,
                    amount: a,
                    edge: e.0,
                    cltv: lv.cltv,
                    hops: lv.hops + 1,
                },
            );
            self.push(src as u64, cost);
            if !self.mode.harvest {
                // The search stops when this entry (or a cheaper one of the sender)
                // comes out, so no entry above its key ever will.
                let k = cost.to_bits().max(self.heap.floor());
                self.heap.set_limit(k);
            }
        }
    }
}
