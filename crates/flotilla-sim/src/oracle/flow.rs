//! Maximum flow from a sender to a receiver over the channel graph, stopped as soon as
//! the amount is carried, and the flow's decomposition into paths.
//!
//! Pure: capacities come from a closure (one call per directed edge and query, cached),
//! so the algorithm knows nothing of balances, reserves or policies.
//!
//! The algorithm is Ford–Fulkerson with shortest augmenting paths (Edmonds–Karp), each
//! found by a bidirectional breadth-first search that grows the side whose frontier has
//! fewer edges to look at (receivers are often hubs with thousands of channels).
//! On the Lightning graph a payment's bottleneck is nearly always right at the sender
//! or the receiver: on the default run 98% of the infeasible payments are settled by
//! the cut around one of them before any search, and a feasible payment takes 1.2
//! augmenting paths on average. Augmenting paths come in order of non-decreasing
//! length, so the flow prefers short paths.
//!
//! A channel is one pair of opposite directed edges; the flow on it is kept as one net
//! amount, so sending back along a channel first cancels flow already sent forward (the
//! residual edge) and only then uses the opposite direction's own capacity. A net flow
//! is realisable by HTLCs in one direction only, so nothing is gained by cancelling.

use flotilla_graph::{Direction, EdgeIdx, Graph, NodeIdx};

/// What the search found for one payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowAnswer {
    /// A flow of the whole amount exists.
    pub feasible: bool,
    /// Feasible only: hops of the longest path of the flow's decomposition (the flow's
    /// paths taken shortest first). 0 when sender and receiver are the same node.
    pub longest_path_hops: Option<u32>,
    /// Feasible only: paths in the decomposition.
    pub paths: u32,
    /// Augmenting paths the search used.
    pub augmentations: u32,
    /// A search ran (false: the cuts around sender and receiver decided).
    pub searched: bool,
}

/// One directed edge in the solver's adjacency: the edge and the node at its other end.
#[derive(Copy, Clone, Debug)]
struct Arc {
    edge: EdgeIdx,
    node: NodeIdx,
}

/// Reusable working memory for [`FlowSolver::solve`] on one graph: its own compact
/// adjacency (built once, so a search touches no channel records), and arrays indexed
/// by node, channel and directed edge, reset by generation stamps rather than cleared,
/// so a query costs only what it touches.
#[derive(Debug)]
pub struct FlowSolver {
    /// Per node, the directed edges leaving it (`node`: their target).
    out_start: Vec<u32>,
    out: Vec<Arc>,
    /// Per node, the directed edges arriving at it (`node`: their source).
    in_start: Vec<u32>,
    inn: Vec<Arc>,
    /// Per channel, its two nodes.
    ends: Vec<[NodeIdx; 2]>,
    /// Capacity cache, per directed edge, valid when `cap_gen == query`.
    cap_gen: Vec<u32>,
    cap: Vec<u64>,
    /// Net flow per channel in the AToB direction, valid when `flow_gen == query`.
    flow_gen: Vec<u32>,
    flow: Vec<i128>,
    /// Channels with flow state in this query.
    touched: Vec<u32>,
    /// Forward search marks per node, valid when `fwd_gen == search`.
    fwd_gen: Vec<u32>,
    fwd_dist: Vec<u32>,
    fwd_via: Vec<Arc>,
    /// Backward search marks per node.
    bwd_gen: Vec<u32>,
    bwd_dist: Vec<u32>,
    bwd_via: Vec<Arc>,
    query: u32,
    search: u32,
    front_a: Vec<NodeIdx>,
    front_b: Vec<NodeIdx>,
    next: Vec<NodeIdx>,
    /// The augmenting path: each edge with its source.
    path: Vec<Arc>,
}

impl FlowSolver {
    /// Working memory for `graph`.
    pub fn new(graph: &Graph) -> Self {
        let n = graph.node_count();
        let c = graph.channel_count();
        let mut out_start = Vec::with_capacity(n + 1);
        let mut out = Vec::new();
        let mut in_start = Vec::with_capacity(n + 1);
        let mut inn = Vec::new();
        for i in 0..n {
            let v = NodeIdx(i as u32);
            out_start.push(out.len() as u32);
            for_each_out(graph, v, |e| {
                out.push(Arc {
                    edge: e,
                    node: graph.edge_target(e),
                })
            });
            in_start.push(inn.len() as u32);
            for_each_in(graph, v, |e| {
                inn.push(Arc {
                    edge: e,
                    node: graph.edge_source(e),
                })
            });
        }
        out_start.push(out.len() as u32);
        in_start.push(inn.len() as u32);
        let none = Arc {
            edge: EdgeIdx(0),
            node: NodeIdx(0),
        };
        FlowSolver {
            out_start,
            out,
            in_start,
            inn,
            ends: graph.channels().iter().map(|ch| ch.nodes).collect(),
            cap_gen: vec![0; 2 * c],
            cap: vec![0; 2 * c],
            flow_gen: vec![0; c],
            flow: vec![0; c],
            touched: Vec::new(),
            fwd_gen: vec![0; n],
            fwd_dist: vec![0; n],
            fwd_via: vec![none; n],
            bwd_gen: vec![0; n],
            bwd_dist: vec![0; n],
            bwd_via: vec![none; n],
            query: 0,
            search: 0,
            front_a: Vec::new(),
            front_b: Vec::new(),
            next: Vec::new(),
            path: Vec::new(),
        }
    }

    /// Whether a flow of `amount_msat` from `s` to `t` exists when directed edge `e`
    /// leaving node `from` can carry at most `caps(e, from)` msat, and if so the longest
    /// path of the flow found. `caps` is called at most once per edge per query.
    /// Deterministic: the graph's adjacency order decides every tie.
    pub fn solve<F: FnMut(EdgeIdx, NodeIdx) -> u64>(
        &mut self,
        s: NodeIdx,
        t: NodeIdx,
        amount_msat: u64,
        mut caps: F,
    ) -> FlowAnswer {
        self.next_query();
        if s == t || amount_msat == 0 {
            return FlowAnswer {
                feasible: true,
                longest_path_hops: Some(0),
                paths: 0,
                augmentations: 0,
                searched: false,
            };
        }
        let infeasible = |augmentations, searched| FlowAnswer {
            feasible: false,
            longest_path_hops: None,
            paths: 0,
            augmentations,
            searched,
        };
        // The cuts around the sender and the receiver: cheap, and they settle most
        // infeasible payments.
        let mut out_s = 0u128;
        for i in self.out_range(s) {
            let a = self.out[i];
            out_s += self.capacity(a.edge, s, &mut caps) as u128;
        }
        let mut in_t = 0u128;
        for i in self.in_range(t) {
            let a = self.inn[i];
            in_t += self.capacity(a.edge, a.node, &mut caps) as u128;
        }
        if out_s < amount_msat as u128 || in_t < amount_msat as u128 {
            return infeasible(0, false);
        }
        let mut carried: u64 = 0;
        let mut augmentations = 0u32;
        while carried < amount_msat {
            if !self.augmenting_path(s, t, &mut caps) {
                return infeasible(augmentations, true);
            }
            augmentations += 1;
            let mut delta = (amount_msat - carried) as u128;
            for i in 0..self.path.len() {
                let a = self.path[i];
                delta = delta.min(self.residual(a.edge, a.node, &mut caps));
            }
            debug_assert!(delta > 0);
            for i in 0..self.path.len() {
                let a = self.path[i];
                self.push_flow(a.edge, delta as i128);
            }
            carried += delta as u64;
        }
        let (longest, paths) = self.decompose(s, t);
        FlowAnswer {
            feasible: true,
            longest_path_hops: Some(longest),
            paths,
            augmentations,
            searched: true,
        }
    }

    fn out_range(&self, n: NodeIdx) -> std::ops::Range<usize> {
        self.out_start[n.ix()] as usize..self.out_start[n.ix() + 1] as usize
    }

    fn in_range(&self, n: NodeIdx) -> std::ops::Range<usize> {
        self.in_start[n.ix()] as usize..self.in_start[n.ix() + 1] as usize
    }

    fn next_query(&mut self) {
        self.query = self.query.wrapping_add(1);
        if self.query == 0 {
            self.cap_gen.fill(0);
            self.flow_gen.fill(0);
            self.query = 1;
        }
        self.touched.clear();
    }

    fn next_search(&mut self) {
        self.search = self.search.wrapping_add(1);
        if self.search == 0 {
            self.fwd_gen.fill(0);
            self.bwd_gen.fill(0);
            self.search = 1;
        }
    }

    #[inline]
    fn capacity<F: FnMut(EdgeIdx, NodeIdx) -> u64>(
        &mut self,
        d: EdgeIdx,
        from: NodeIdx,
        caps: &mut F,
    ) -> u64 {
        let i = d.ix();
        if self.cap_gen[i] != self.query {
            self.cap_gen[i] = self.query;
            self.cap[i] = caps(d, from);
        }
        self.cap[i]
    }

    /// Net flow in `d`'s direction.
    #[inline]
    fn net(&self, d: EdgeIdx) -> i128 {
        let c = d.channel().ix();
        if self.flow_gen[c] != self.query {
            return 0;
        }
        match d.direction() {
            Direction::AToB => self.flow[c],
            Direction::BToA => -self.flow[c],
        }
    }

    fn push_flow(&mut self, d: EdgeIdx, amount: i128) {
        let c = d.channel().ix();
        if self.flow_gen[c] != self.query {
            self.flow_gen[c] = self.query;
            self.flow[c] = 0;
            self.touched.push(c as u32);
        }
        match d.direction() {
            Direction::AToB => self.flow[c] += amount,
            Direction::BToA => self.flow[c] -= amount,
        }
    }

    /// What `d` (leaving `from`) can still carry: its capacity minus the net flow in its
    /// direction (a flow the other way adds to it).
    #[inline]
    fn residual<F: FnMut(EdgeIdx, NodeIdx) -> u64>(
        &mut self,
        d: EdgeIdx,
        from: NodeIdx,
        caps: &mut F,
    ) -> u128 {
        let cap = self.capacity(d, from, caps) as i128;
        (cap - self.net(d)).max(0) as u128
    }

    /// Σ out-degree of a forward frontier (`fwd`) or in-degree of a backward one: the
    /// work of expanding it.
    fn frontier_cost(&self, front: &[NodeIdx], fwd: bool) -> usize {
        front
            .iter()
            .map(|&n| {
                if fwd {
                    self.out_range(n).len()
                } else {
                    self.in_range(n).len()
                }
            })
            .sum()
    }

    /// A shortest path from `s` to `t` of edges with residual capacity, into
    /// `self.path` (in order); false when none exists. Grows the side whose frontier
    /// has fewer edges to look at.
    fn augmenting_path<F: FnMut(EdgeIdx, NodeIdx) -> u64>(
        &mut self,
        s: NodeIdx,
        t: NodeIdx,
        caps: &mut F,
    ) -> bool {
        self.next_search();
        let g = self.search;
        self.fwd_gen[s.ix()] = g;
        self.fwd_dist[s.ix()] = 0;
        self.bwd_gen[t.ix()] = g;
        self.bwd_dist[t.ix()] = 0;
        let mut fwd = std::mem::take(&mut self.front_a);
        let mut bwd = std::mem::take(&mut self.front_b);
        let mut next = std::mem::take(&mut self.next);
        fwd.clear();
        bwd.clear();
        fwd.push(s);
        bwd.push(t);
        // The meeting edge u→v (u reached forward, v backward) of the shortest path,
        // with u.
        let mut best: Option<(u32, Arc)> = None;
        let mut fwd_cost = self.frontier_cost(&fwd, true);
        let mut bwd_cost = self.frontier_cost(&bwd, false);
        while best.is_none() && !fwd.is_empty() && !bwd.is_empty() {
            next.clear();
            if fwd_cost <= bwd_cost {
                let mut cost = 0;
                for &u in &fwd {
                    for i in self.out_range(u) {
                        let a = self.out[i];
                        if self.residual(a.edge, u, caps) == 0 {
                            continue;
                        }
                        let v = a.node;
                        if self.bwd_gen[v.ix()] == g {
                            let len = self.fwd_dist[u.ix()] + 1 + self.bwd_dist[v.ix()];
                            if best.is_none_or(|(l, _)| len < l) {
                                best = Some((
                                    len,
                                    Arc {
                                        edge: a.edge,
                                        node: u,
                                    },
                                ));
                            }
                        }
                        if self.fwd_gen[v.ix()] != g {
                            self.fwd_gen[v.ix()] = g;
                            self.fwd_dist[v.ix()] = self.fwd_dist[u.ix()] + 1;
                            self.fwd_via[v.ix()] = Arc {
                                edge: a.edge,
                                node: u,
                            };
                            next.push(v);
                            cost += self.out_range(v).len();
                        }
                    }
                }
                std::mem::swap(&mut fwd, &mut next);
                fwd_cost = cost;
            } else {
                let mut cost = 0;
                for &v in &bwd {
                    for i in self.in_range(v) {
                        let a = self.inn[i];
                        let u = a.node;
                        if self.residual(a.edge, u, caps) == 0 {
                            continue;
                        }
                        if self.fwd_gen[u.ix()] == g {
                            let len = self.fwd_dist[u.ix()] + 1 + self.bwd_dist[v.ix()];
                            if best.is_none_or(|(l, _)| len < l) {
                                best = Some((
                                    len,
                                    Arc {
                                        edge: a.edge,
                                        node: u,
                                    },
                                ));
                            }
                        }
                        if self.bwd_gen[u.ix()] != g {
                            self.bwd_gen[u.ix()] = g;
                            self.bwd_dist[u.ix()] = self.bwd_dist[v.ix()] + 1;
                            self.bwd_via[u.ix()] = Arc {
                                edge: a.edge,
                                node: v,
                            };
                            next.push(u);
                            cost += self.in_range(u).len();
                        }
                    }
                }
                std::mem::swap(&mut bwd, &mut next);
                bwd_cost = cost;
            }
        }
        self.front_a = fwd;
        self.front_b = bwd;
        self.next = next;
        let Some((_, link)) = best else {
            return false;
        };
        // `fwd_via[v]`: the edge that reached v and its source; `bwd_via[u]`: the edge
        // leaving u toward t and its target.
        self.path.clear();
        let mut u = link.node;
        while u != s {
            let a = self.fwd_via[u.ix()];
            self.path.push(a);
            u = a.node;
        }
        self.path.reverse();
        self.path.push(link);
        let mut v = self.other_end(link.edge, link.node);
        while v != t {
            let a = self.bwd_via[v.ix()];
            self.path.push(Arc {
                edge: a.edge,
                node: v,
            });
            v = a.node;
        }
        true
    }

    /// The node at the other end of `e` from `n`.
    fn other_end(&self, e: EdgeIdx, n: NodeIdx) -> NodeIdx {
        let [a, b] = self.ends[e.channel().ix()];
        if a == n {
            b
        } else {
            a
        }
    }

    /// Splits the flow into paths, shortest first (a breadth-first search over the edges
    /// that carry flow), consuming it; returns the longest path's hops and the paths.
    /// Flow left in cycles carries nothing from `s` to `t` and is ignored.
    fn decompose(&mut self, s: NodeIdx, t: NodeIdx) -> (u32, u32) {
        // The edges carrying flow, by source: a small graph of their own.
        let mut flows: Vec<(NodeIdx, NodeIdx, EdgeIdx)> = Vec::with_capacity(self.touched.len());
        for &c in &self.touched {
            let c = flotilla_graph::ChannelIdx(c);
            let [a, b] = self.ends[c.ix()];
            let f = self.flow[c.ix()];
            if f > 0 {
                flows.push((a, b, c.edge(Direction::AToB)));
            } else if f < 0 {
                flows.push((b, a, c.edge(Direction::BToA)));
            }
        }
        flows.sort_unstable_by_key(|&(from, _, e)| (from, e));
        let mut longest = 0u32;
        let mut paths = 0u32;
        let mut front = std::mem::take(&mut self.front_a);
        let mut next = std::mem::take(&mut self.next);
        loop {
            self.next_search();
            let g = self.search;
            self.fwd_gen[s.ix()] = g;
            front.clear();
            front.push(s);
            let mut found = false;
            while !found && !front.is_empty() {
                next.clear();
                'front: for &u in &front {
                    let lo = flows.partition_point(|&(from, _, _)| from < u);
                    for &(from, v, d) in &flows[lo..] {
                        if from != u {
                            break;
                        }
                        if self.net(d) <= 0 || self.fwd_gen[v.ix()] == g {
                            continue;
                        }
                        self.fwd_gen[v.ix()] = g;
                        self.fwd_via[v.ix()] = Arc { edge: d, node: u };
                        if v == t {
                            found = true;
                            break 'front;
                        }
                        next.push(v);
                    }
                }
                std::mem::swap(&mut front, &mut next);
            }
            if !found {
                break;
            }
            self.path.clear();
            let mut v = t;
            while v != s {
                let a = self.fwd_via[v.ix()];
                self.path.push(a);
                v = a.node;
            }
            let delta = self
                .path
                .iter()
                .map(|a| self.net(a.edge))
                .min()
                .unwrap_or(0);
            for i in 0..self.path.len() {
                let d = self.path[i].edge;
                self.push_flow(d, -delta);
            }
            longest = longest.max(self.path.len() as u32);
            paths += 1;
        }
        self.front_a = front;
        self.next = next;
        (longest, paths)
    }
}

/// Calls `f` with every directed edge leaving `n` in either direction of a channel that
/// has a policy on at least one side: the edges with a policy first, then the reverses
/// of the incoming ones without (a sender's own channel needs no policy of its own, and
/// a residual edge can cancel flow whatever the policy).
fn for_each_out(graph: &Graph, n: NodeIdx, mut f: impl FnMut(EdgeIdx)) {
    for &e in graph.out_edges(n) {
        f(e);
    }
    for &e in graph.in_edges(n) {
        let d = e.reverse();
        if graph.policy(d).is_none() {
            f(d);
        }
    }
}

/// Calls `f` with every directed edge arriving at `n` (the mirror of [`for_each_out`]).
fn for_each_in(graph: &Graph, n: NodeIdx, mut f: impl FnMut(EdgeIdx)) {
    for &e in graph.in_edges(n) {
        f(e);
    }
    for &e in graph.out_edges(n) {
        let d = e.reverse();
        if graph.policy(d).is_none() {
            f(d);
        }
    }
}
