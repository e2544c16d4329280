//! Maximum flow from a sender to a receiver over the channel graph, stopped as soon as
//! the amount is carried, and the flow's decomposition into paths.
//!
//! Pure: capacities come from a closure (one call per directed edge and query, cached),
//! so the algorithm knows nothing of balances, reserves or policies.
//!
//! The algorithm is Ford–Fulkerson with shortest augmenting paths (Edmonds–Karp), each
//! found by a bidirectional breadth-first search that always grows the smaller frontier.
//! On the Lightning graph a payment's bottleneck is nearly always next to the sender or
//! the receiver, so the side behind the cut runs dry within a few hundred nodes and
//! proves infeasibility without touching the rest of the graph; a feasible payment is
//! found in a few short augmentations that meet in the middle. Augmenting paths come in
//! order of non-decreasing length, so the flow prefers short paths.
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
}

/// Reusable working memory for [`FlowSolver::solve`] on one graph: arrays indexed by
/// node, channel and directed edge, reset by generation stamps rather than cleared, so a
/// query costs only what it touches.
#[derive(Debug)]
pub struct FlowSolver {
    /// Capacity cache, per directed edge, valid when `cap_gen == query`.
    cap_gen: Vec<u32>,
    cap: Vec<u64>,
    /// Net flow per channel in the AToB direction, valid when `flow_gen == query`.
    flow_gen: Vec<u32>,
    flow: Vec<i128>,
    /// Forward search marks per node, valid when `fwd_gen == search`.
    fwd_gen: Vec<u32>,
    fwd_dist: Vec<u32>,
    fwd_via: Vec<EdgeIdx>,
    /// Backward search marks per node.
    bwd_gen: Vec<u32>,
    bwd_dist: Vec<u32>,
    bwd_via: Vec<EdgeIdx>,
    query: u32,
    search: u32,
    front_a: Vec<NodeIdx>,
    front_b: Vec<NodeIdx>,
    next: Vec<NodeIdx>,
    path: Vec<EdgeIdx>,
}

impl FlowSolver {
    /// Working memory for `graph`.
    pub fn new(graph: &Graph) -> Self {
        let n = graph.node_count();
        let c = graph.channel_count();
        FlowSolver {
            cap_gen: vec![0; 2 * c],
            cap: vec![0; 2 * c],
            flow_gen: vec![0; c],
            flow: vec![0; c],
            fwd_gen: vec![0; n],
            fwd_dist: vec![0; n],
            fwd_via: vec![EdgeIdx(0); n],
            bwd_gen: vec![0; n],
            bwd_dist: vec![0; n],
            bwd_via: vec![EdgeIdx(0); n],
            query: 0,
            search: 0,
            front_a: Vec::new(),
            front_b: Vec::new(),
            next: Vec::new(),
            path: Vec::new(),
        }
    }

    /// Whether a flow of `amount_msat` from `s` to `t` exists when directed edge `e` can
    /// carry at most `caps(e)` msat, and if so the longest path of the flow found.
    /// `caps` is called at most once per edge per query. Deterministic: the graph's
    /// adjacency order decides every tie.
    pub fn solve<F: FnMut(EdgeIdx) -> u64>(
        &mut self,
        graph: &Graph,
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
            };
        }
        let infeasible = |augmentations| FlowAnswer {
            feasible: false,
            longest_path_hops: None,
            paths: 0,
            augmentations,
        };
        // The cuts around the sender and the receiver: cheap, and they settle most
        // infeasible payments.
        let out_s = self.cut_sum(graph, s, true, &mut caps);
        let in_t = self.cut_sum(graph, t, false, &mut caps);
        if out_s < amount_msat as u128 || in_t < amount_msat as u128 {
            return infeasible(0);
        }
        let mut carried: u64 = 0;
        let mut augmentations = 0u32;
        while carried < amount_msat {
            if !self.augmenting_path(graph, s, t, &mut caps) {
                return infeasible(augmentations);
            }
            augmentations += 1;
            let mut delta = (amount_msat - carried) as u128;
            for i in 0..self.path.len() {
                let d = self.path[i];
                delta = delta.min(self.residual(graph, d, &mut caps));
            }
            debug_assert!(delta > 0);
            for i in 0..self.path.len() {
                let d = self.path[i];
                self.push_flow(d, delta as i128);
            }
            carried += delta as u64;
        }
        let (longest, paths) = self.decompose(graph, s, t);
        FlowAnswer {
            feasible: true,
            longest_path_hops: Some(longest),
            paths,
            augmentations,
        }
    }

    fn next_query(&mut self) {
        self.query = self.query.wrapping_add(1);
        if self.query == 0 {
            self.cap_gen.fill(0);
            self.flow_gen.fill(0);
            self.query = 1;
        }
    }

    fn next_search(&mut self) {
        self.search = self.search.wrapping_add(1);
        if self.search == 0 {
            self.fwd_gen.fill(0);
            self.bwd_gen.fill(0);
            self.search = 1;
        }
    }

    fn capacity<F: FnMut(EdgeIdx) -> u64>(&mut self, d: EdgeIdx, caps: &mut F) -> u64 {
        let i = d.ix();
        if self.cap_gen[i] != self.query {
            self.cap_gen[i] = self.query;
            self.cap[i] = caps(d);
        }
        self.cap[i]
    }

    /// Net flow in `d`'s direction.
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
        }
        match d.direction() {
            Direction::AToB => self.flow[c] += amount,
            Direction::BToA => self.flow[c] -= amount,
        }
    }

    /// What `d` can still carry: its capacity minus the net flow in its direction (a
    /// flow the other way adds to it).
    fn residual<F: FnMut(EdgeIdx) -> u64>(
        &mut self,
        _graph: &Graph,
        d: EdgeIdx,
        caps: &mut F,
    ) -> u128 {
        let cap = self.capacity(d, caps) as i128;
        (cap - self.net(d)).max(0) as u128
    }

    /// Σ capacity of the edges leaving (`out`) or entering `n`.
    fn cut_sum<F: FnMut(EdgeIdx) -> u64>(
        &mut self,
        graph: &Graph,
        n: NodeIdx,
        out: bool,
        caps: &mut F,
    ) -> u128 {
        let mut sum = 0u128;
        let mut add = |solver: &mut Self, d: EdgeIdx| sum += solver.capacity(d, caps) as u128;
        if out {
            for_each_out(graph, n, |d| add(self, d));
        } else {
            for_each_in(graph, n, |d| add(self, d));
        }
        sum
    }

    /// A shortest path from `s` to `t` of edges with residual capacity, into
    /// `self.path` (in order); false when none exists.
    fn augmenting_path<F: FnMut(EdgeIdx) -> u64>(
        &mut self,
        graph: &Graph,
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
        // The meeting edge u→v (u reached forward, v backward) of the shortest path.
        let mut best: Option<(u32, EdgeIdx)> = None;
        let mut edges: Vec<EdgeIdx> = Vec::new();
        while best.is_none() && !fwd.is_empty() && !bwd.is_empty() {
            next.clear();
            if fwd.len() <= bwd.len() {
                for &u in &fwd {
                    edges.clear();
                    for_each_out(graph, u, |d| edges.push(d));
                    for &d in &edges {
                        if self.residual(graph, d, caps) == 0 {
                            continue;
                        }
                        let v = graph.edge_target(d);
                        if self.bwd_gen[v.ix()] == g {
                            let len = self.fwd_dist[u.ix()] + 1 + self.bwd_dist[v.ix()];
                            if best.is_none_or(|(l, _)| len < l) {
                                best = Some((len, d));
                            }
                        }
                        if self.fwd_gen[v.ix()] != g {
                            self.fwd_gen[v.ix()] = g;
                            self.fwd_dist[v.ix()] = self.fwd_dist[u.ix()] + 1;
                            self.fwd_via[v.ix()] = d;
                            next.push(v);
                        }
                    }
                }
                std::mem::swap(&mut fwd, &mut next);
            } else {
                for &v in &bwd {
                    edges.clear();
                    for_each_in(graph, v, |d| edges.push(d));
                    for &d in &edges {
                        if self.residual(graph, d, caps) == 0 {
                            continue;
                        }
                        let u = graph.edge_source(d);
                        if self.fwd_gen[u.ix()] == g {
                            let len = self.fwd_dist[u.ix()] + 1 + self.bwd_dist[v.ix()];
                            if best.is_none_or(|(l, _)| len < l) {
                                best = Some((len, d));
                            }
                        }
                        if self.bwd_gen[u.ix()] != g {
                            self.bwd_gen[u.ix()] = g;
                            self.bwd_dist[u.ix()] = self.bwd_dist[v.ix()] + 1;
                            self.bwd_via[u.ix()] = d;
                            next.push(u);
                        }
                    }
                }
                std::mem::swap(&mut bwd, &mut next);
            }
        }
        self.front_a = fwd;
        self.front_b = bwd;
        self.next = next;
        let Some((_, link)) = best else {
            return false;
        };
        self.path.clear();
        let mut u = graph.edge_source(link);
        while u != s {
            let d = self.fwd_via[u.ix()];
            self.path.push(d);
            u = graph.edge_source(d);
        }
        self.path.reverse();
        self.path.push(link);
        let mut v = graph.edge_target(link);
        while v != t {
            let d = self.bwd_via[v.ix()];
            self.path.push(d);
            v = graph.edge_target(d);
        }
        true
    }

    /// Splits the flow into paths, shortest first (a breadth-first search over the edges
    /// that carry flow), consuming it; returns the longest path's hops and the paths.
    /// Flow left in cycles carries nothing from `s` to `t` and is ignored.
    fn decompose(&mut self, graph: &Graph, s: NodeIdx, t: NodeIdx) -> (u32, u32) {
        let mut longest = 0u32;
        let mut paths = 0u32;
        let mut front = std::mem::take(&mut self.front_a);
        let mut next = std::mem::take(&mut self.next);
        let mut edges: Vec<EdgeIdx> = Vec::new();
        loop {
            self.next_search();
            let g = self.search;
            self.fwd_gen[s.ix()] = g;
            front.clear();
            front.push(s);
            let mut found = false;
            while !found && !front.is_empty() {
                next.clear();
                for &u in &front {
                    edges.clear();
                    for_each_out(graph, u, |d| edges.push(d));
                    for &d in &edges {
                        if self.net(d) <= 0 {
                            continue;
                        }
                        let v = graph.edge_target(d);
                        if self.fwd_gen[v.ix()] == g {
                            continue;
                        }
                        self.fwd_gen[v.ix()] = g;
                        self.fwd_via[v.ix()] = d;
                        if v == t {
                            found = true;
                            break;
                        }
                        next.push(v);
                    }
                    if found {
                        break;
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
                let d = self.fwd_via[v.ix()];
                self.path.push(d);
                v = graph.edge_source(d);
            }
            let delta = self.path.iter().map(|&d| self.net(d)).min().unwrap_or(0);
            for i in 0..self.path.len() {
                let d = self.path[i];
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
#[inline]
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
#[inline]
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
