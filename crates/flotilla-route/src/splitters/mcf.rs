//! The min-cost flow splitter (Pickhardt–Richter): the flow that minimises uncertainty
//! plus weighted fees, over a neighbourhood of good paths, decomposed into parts.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use flotilla_graph::{EdgeIdx, Graph, NodeIdx};

use super::greedy::{greedy_parts, GreedyConfig};
use super::{div_ceil, hop_amounts, min_part, splitter_accessors, validate, Part, SplitCore};
use crate::pathfinder::CostParams;
use crate::request::{RouteError, RouteRequest};
use crate::router::Route;
use crate::scorer::Scorer;
use crate::time::Timestamp;

/// Settings of a [`MinCostFlowSplitter`].
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct McfConfig {
    /// Linear pieces of each channel direction's convex cost. Default 5, as in
    /// Pickhardt's piecewise linearisation (lightning-dev, March 2022, and the
    /// `pickhardtpayments` package). Clamped to `1..=32`.
    pub pieces: u8,
    /// `μ`, the weight of fees against uncertainty: a flow `x` costs
    /// `risk_price(amount) × Σ −ln P_e(x_e) + μ × Σ ppm_e × x_e / 10⁶` msat, with
    /// `risk_price` the pathfinder's ([`CostParams::risk_price`]) so that `μ = 1` prices
    /// risk against fees exactly as the single-path search does. Default 1.
    pub fee_weight: f64,
    /// Paths searched beyond the greedy cover to widen the neighbourhood the flow is
    /// solved on. Default 3.
    pub extra_paths: u8,
    /// The greedy splitter's settings, for the neighbourhood and the fallback.
    pub greedy: GreedyConfig,
}

impl Default for McfConfig {
    fn default() -> Self {
        McfConfig {
            pieces: 5,
            fee_weight: 1.0,
            extra_paths: 3,
            greedy: GreedyConfig::default(),
        }
    }
}

/// The min-cost flow MPP splitter, named `mcf`, after Pickhardt and Richter,
/// "Optimally Reliable & Cheap Payment Flows on the Lightning Network" (2021).
///
/// # Algorithm
/// 1. **Neighbourhood.** Run the [greedy splitter](super::GreedySplitter) (its answer
///    is also the fallback), then search up to [`McfConfig::extra_paths`] more paths
///    for `max(⌈amount / max_parts⌉, min_part)`, each avoiding the interior channels of
///    the paths before it and with the whole amount notionally placed on their first
///    and last hops, which steers it elsewhere. The flow is solved on the subgraph
///    *induced* by the nodes of all these paths: every enabled, non-excluded channel
///    direction between two of them (none into the sender or out of the receiver).
/// 2. **Costs.** A channel direction `e` may carry a fee-less flow up to
///    `U_e = min(htlc_maximum, capacity)`, lowered to the largest amount the scorer
///    gives a positive probability (so that every part, however the flow is
///    decomposed, fits `htlc_maximum`). Its cost
///    `f_e(x) = risk_price × −ln P_e(x) + μ × ppm_e × x / 10⁶` (no fee on the
///    sender's own channels; base fees, charged per part and not per msat, are left out
///    as in the paper) is linearised into [`McfConfig::pieces`] equal pieces over
///    `[0, min(U_e, amount)]` (no direction carries more than the amount, so the
///    pieces are spent where the flow can be); slopes are made non-decreasing (exact for
///    every uniform-liquidity scorer, where `−ln P` is already convex).
/// 3. **Flow.** Successive shortest paths on the residual graph: Dijkstra with
///    potentials (reduced costs stay non-negative because the pieces are convex: the
///    cheapest forward piece of a direction is its first non-full one, the cheapest
///    backward one its last non-empty one), each augmentation bounded by one piece, until
///    the amount flows. Integer msat throughout, so the flow is exact.
/// 4. **Parts.** Decompose the flow into paths (largest flow first, cycles cancelled),
///    each path carrying its flow as its delivered amount; while there are more than
///    `max_parts` paths or one below `min_part_msat`, drop the smallest and give its
///    amount to the others with room under `U_e` (most room first). Fees ride on top of
///    the fee-less flow: each part is built with [`Path::build`](crate::Path::build) for
///    its delivered amount, and where the parts' HTLCs together overfill a direction
///    the excess is taken off its `U_e` and the flow solved again (at most 4 rounds).
/// 5. **Check.** The route must keep the whole contract (see the
///    [module docs](super)), including the fee limit, path length and CLTV limits that
///    the flow does not model; if it does not, or the neighbourhood cannot carry the
///    amount, the greedy answer is returned instead and
///    [`SplitStats::fallback`](super::SplitStats::fallback) says why.
///
/// A payment that cannot be split (one part allowed, or less than twice `min_part`)
/// is a single greedy part.
#[derive(Clone, Debug)]
pub struct MinCostFlowSplitter<S> {
    core: SplitCore<S>,
    config: McfConfig,
    net: FlowNet,
}

impl<S: Scorer> MinCostFlowSplitter<S> {
    /// The router name.
    pub const NAME: &'static str = "mcf";

    /// A splitter with the default [`CostParams`] and [`McfConfig`].
    pub fn new(scorer: S) -> Self {
        Self::with_config(scorer, CostParams::default(), McfConfig::default())
    }

    /// A splitter with the given prices and settings.
    pub fn with_config(scorer: S, params: CostParams, config: McfConfig) -> Self {
        MinCostFlowSplitter {
            core: SplitCore::new(scorer, params),
            config,
            net: FlowNet::default(),
        }
    }

    fn split(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        now: Timestamp,
    ) -> Result<Route, RouteError> {
        validate(graph, request)?;
        self.core.begin(graph);
        // Cheap proof that no split can work, before any search.
        self.core.believed_cut(graph, request, now)?;
        let amount = request.amount_msat;
        let min_part = min_part(request);
        let max_parts = request.limits.max_parts as u64;
        let mut cover = Vec::new();
        let greedy = greedy_parts(
            &mut self.core,
            &self.config.greedy,
            graph,
            request,
            now,
            &mut cover,
        );
        let single = max_parts == 1 || amount < min_part.saturating_mul(2);
        if single || (greedy.is_err() && cover.is_empty()) {
            return self.greedy_answer(graph, request, greedy, &cover, now);
        }

        // Widen the neighbourhood.
        let mut candidates: Vec<Vec<EdgeIdx>> = cover.iter().map(|p| p.edges.clone()).collect();
        self.core.scorer_mut().set_saturation(0);
        let q = div_ceil(amount, max_parts).max(min_part).min(amount);
        let mut sub = request.clone();
        let exclude_interior = |sub: &mut RouteRequest, edges: &[EdgeIdx]| {
            if edges.len() > 2 {
                sub.limits
                    .excluded_edges
                    .extend_from_slice(&edges[1..edges.len() - 1]);
            }
        };
        for c in &candidates {
            exclude_interior(&mut sub, c);
        }
        for _ in 0..self.config.extra_paths {
            match self
                .core
                .search(graph, &mut sub, q, request.limits.max_fee_msat, now)
            {
                Ok(Some(found)) => {
                    let edges: Vec<EdgeIdx> = found.path.hops.iter().map(|h| h.edge).collect();
                    self.core.account(graph, &edges, amount, true);
                    exclude_interior(&mut sub, &edges);
                    candidates.push(edges);
                }
                _ => break,
            }
        }

        match self.flow_route(graph, request, &candidates, now) {
            Ok(route) => {
                self.core.stats.parts = route.paths.len() as u32;
                Ok(route)
            }
            Err(why) => {
                self.core.stats.fallback = Some(why);
                self.greedy_answer(graph, request, greedy, &cover, now)
            }
        }
    }

    fn greedy_answer(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        greedy: Result<(), RouteError>,
        cover: &[Part],
        now: Timestamp,
    ) -> Result<Route, RouteError> {
        match greedy {
            Ok(()) => self.core.finish_merged(graph, request, cover, now),
            Err(e) => {
                self.core.scorer_mut().begin(graph);
                Err(e)
            }
        }
    }

    /// Steps 2–5 of the algorithm; `Err` says why the flow gave no valid route.
    fn flow_route(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        candidates: &[Vec<EdgeIdx>],
        now: Timestamp,
    ) -> Result<Route, &'static str> {
        let amount = request.amount_msat;
        let params = *self.core.pf.params();
        let settings = ArcSettings {
            pieces: self.config.pieces.clamp(1, 32) as usize,
            risk_price: params.risk_price(amount),
            fee_weight: if self.config.fee_weight.is_finite() && self.config.fee_weight > 0.0 {
                self.config.fee_weight
            } else {
                0.0
            },
        };
        let mut cuts: Vec<(EdgeIdx, u64)> = Vec::new();
        let mut result = Err("the flow's parts overfill a channel after fees");
        for _round in 0..MAX_REPAIRS {
            let flows = self.solve_once(graph, request, candidates, &settings, &cuts, now);
            let flows = match flows {
                Ok(f) => f,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            // Fees ride on top of the fee-less flow: where the parts' HTLCs together
            // overfill a direction, take the excess off its flow limit and solve again.
            let overfull = self.net.overfull(graph, &flows, &mut self.core.buf_hops);
            if overfull.is_empty() {
                let parts: Vec<Part> = flows
                    .into_iter()
                    .map(|(arcs, amount)| Part {
                        edges: arcs
                            .iter()
                            .map(|&a| self.net.arcs[a as usize].edge)
                            .collect(),
                        amount,
                    })
                    .collect();
                result = self
                    .core
                    .build_checked(graph, request, &parts, now)
                    .map_err(|_| {
                        "the flow's parts break a policy or limit the flow does not model"
                    });
                break;
            }
            for (e, excess) in overfull {
                match cuts.iter_mut().find(|c| c.0 == e) {
                    Some(c) => c.1 = c.1.saturating_add(excess),
                    None => cuts.push((e, excess)),
                }
            }
        }
        self.net.clear_nodes();
        result
    }

    /// Builds the neighbourhood with `cuts` taken off the flow limits, solves the
    /// flow and splits it into at most `max_parts` parts of at least `min_part`.
    fn solve_once(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        candidates: &[Vec<EdgeIdx>],
        settings: &ArcSettings,
        cuts: &[(EdgeIdx, u64)],
        now: Timestamp,
    ) -> Result<Vec<(Vec<u32>, u64)>, &'static str> {
        let net = &mut self.net;
        net.build(
            graph,
            request,
            candidates,
            &self.core.pf.scorer().inner,
            settings,
            cuts,
            now,
        );
        self.core.stats.flow_nodes = net.nodes.len() as u32;
        self.core.stats.flow_arcs = net.arcs.len() as u32;
        net.solve(request.amount_msat, &mut self.core.stats.augmentations)?;
        let mut flows = net.decompose()?;
        net.enforce_limits(
            &mut flows,
            request.limits.max_parts as usize,
            min_part(request),
        )?;
        Ok(flows)
    }
}

/// Rounds of "solve, find directions the fees overfill, lower their limits".
const MAX_REPAIRS: usize = 4;

splitter_accessors!(MinCostFlowSplitter, McfConfig);

/// What the arc costs need from the request and configuration.
struct ArcSettings {
    pieces: usize,
    risk_price: f64,
    fee_weight: f64,
}

/// One channel direction of the neighbourhood.
#[derive(Copy, Clone, Debug)]
struct Arc {
    from: u32,
    to: u32,
    edge: EdgeIdx,
    /// Most fee-less flow, msat.
    upper: u64,
    /// Most the parts' HTLCs may put on the direction together, msat:
    /// `min(htlc_maximum, capacity)`, lowered to what the scorer believes possible.
    hard: u64,
    /// Width of each piece, msat (`⌈upper / pieces⌉`).
    width: u64,
    /// Flow, msat.
    flow: u64,
}

impl Arc {
    /// The piece the next msat of flow goes into, and the room left in it.
    #[inline]
    fn forward(&self) -> Option<(usize, u64)> {
        if self.flow >= self.upper {
            return None;
        }
        let i = self.flow / self.width;
        let end = ((i + 1) * self.width).min(self.upper);
        Some((i as usize, end - self.flow))
    }

    /// The piece the last msat of flow sits in, and the flow in it.
    #[inline]
    fn backward(&self) -> Option<(usize, u64)> {
        if self.flow == 0 {
            return None;
        }
        let j = (self.flow - 1) / self.width;
        Some((j as usize, self.flow - j * self.width))
    }
}

/// A node and its tentative distance, ordered for a min-heap.
#[derive(Copy, Clone, Debug, PartialEq)]
struct Item {
    dist: f64,
    node: u32,
}

impl Eq for Item {}

impl Ord for Item {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .dist
            .total_cmp(&self.dist)
            .then_with(|| other.node.cmp(&self.node))
    }
}

impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

const NONE: u32 = u32::MAX;
/// The sender and the receiver are always local nodes 0 and 1.
const SRC: u32 = 0;
const DST: u32 = 1;

/// The flow problem on the neighbourhood, with reusable buffers.
#[derive(Clone, Debug, Default)]
struct FlowNet {
    /// Graph node → local index (`NONE` outside the neighbourhood).
    local: Vec<u32>,
    nodes: Vec<NodeIdx>,
    arcs: Vec<Arc>,
    /// `pieces` slopes per arc, msat of cost per msat of flow.
    slopes: Vec<f64>,
    pieces: usize,
    out_start: Vec<u32>,
    out_arcs: Vec<u32>,
    in_start: Vec<u32>,
    in_arcs: Vec<u32>,
    potential: Vec<f64>,
    dist: Vec<f64>,
    /// How each node was reached: `arc << 1 | backward`.
    pred: Vec<u32>,
    heap: BinaryHeap<Item>,
}

impl FlowNet {
    fn add_node(&mut self, n: NodeIdx) {
        if self.local[n.ix()] == NONE {
            self.local[n.ix()] = self.nodes.len() as u32;
            self.nodes.push(n);
        }
    }

    /// Resets the node map for the next query.
    fn clear_nodes(&mut self) {
        for n in &self.nodes {
            self.local[n.ix()] = NONE;
        }
    }

    /// The subgraph induced by the candidates' nodes, with piecewise-linear costs.
    #[allow(clippy::too_many_arguments)]
    fn build<S: Scorer>(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        candidates: &[Vec<EdgeIdx>],
        scorer: &S,
        settings: &ArcSettings,
        cuts: &[(EdgeIdx, u64)],
        now: Timestamp,
    ) {
        if self.local.len() != graph.node_count() {
            self.local.clear();
            self.local.resize(graph.node_count(), NONE);
        } else {
            self.clear_nodes();
        }
        self.nodes.clear();
        self.arcs.clear();
        self.slopes.clear();
        self.pieces = settings.pieces;
        self.add_node(request.source);
        self.add_node(request.target);
        for path in candidates {
            for &e in path {
                self.add_node(graph.edge_target(e));
            }
        }
        let limits = &request.limits;
        let amount = request.amount_msat;
        let k = settings.pieces;
        let mut costs = vec![0.0f64; k + 1];
        for u in 0..self.nodes.len() as u32 {
            if u == DST {
                continue;
            }
            let node = self.nodes[u as usize];
            for &e in graph.out_edges(node) {
                let v = self.local[graph.edge_target(e).ix()];
                if v == NONE || v == SRC || v == u {
                    continue;
                }
                let channel = graph.channel(e.channel());
                let Some(p) = channel.policy(e.direction()) else {
                    continue;
                };
                if p.disabled || limits.excluded_edges.contains(&e) {
                    continue;
                }
                let hmin = p.htlc_minimum_msat.max(1);
                let mut upper = p.htlc_maximum_msat.min(channel.capacity_msat());
                if upper < hmin || scorer.success_probability(graph, e, hmin, now) <= 0.0 {
                    continue;
                }
                if scorer.success_probability(graph, e, upper, now) <= 0.0 {
                    // The largest amount the scorer believes possible.
                    let (mut lo, mut hi) = (hmin, upper - 1);
                    while lo < hi {
                        let mid = lo + (hi - lo).div_ceil(2);
                        if scorer.success_probability(graph, e, mid, now) > 0.0 {
                            lo = mid;
                        } else {
                            hi = mid - 1;
                        }
                    }
                    upper = lo;
                }
                let hard = upper;
                if let Some(&(_, cut)) = cuts.iter().find(|c| c.0 == e) {
                    upper = upper.saturating_sub(cut);
                    if upper < hmin {
                        continue;
                    }
                }
                // No arc ever carries more than the whole amount: spend the pieces below it.
                upper = upper.min(amount);
                let fee_ppm = if u == SRC { 0.0 } else { p.fee_rate_ppm as f64 };
                let fee_per_msat = settings.fee_weight * fee_ppm / 1e6;
                // Risk cost at the breakpoints; an infinite one ends the arc there.
                let width = upper.div_ceil(k as u64);
                let mut last = 0;
                costs[0] = 0.0;
                for (i, c) in costs.iter_mut().enumerate().skip(1) {
                    let x = (i as u64 * width).min(upper);
                    let r = scorer.cost(graph, e, x.max(hmin), now);
                    if !(r.is_finite()) {
                        break;
                    }
                    *c = settings.risk_price * r.max(0.0);
                    last = i;
                }
                if last == 0 {
                    continue;
                }
                if last < k {
                    upper = (last as u64 * width).min(upper);
                }
                let width = width.max(1);
                let mut prev = 0.0f64;
                for i in 0..k {
                    let (x0, x1) = (
                        (i as u64 * width).min(upper),
                        ((i as u64 + 1) * width).min(upper),
                    );
                    let slope = if x1 > x0 && i < last {
                        (costs[i + 1] - costs[i]) / (x1 - x0) as f64 + fee_per_msat
                    } else {
                        prev
                    };
                    prev = if slope.is_finite() {
                        slope.max(prev)
                    } else {
                        prev
                    };
                    self.slopes.push(prev);
                }
                self.arcs.push(Arc {
                    from: u,
                    to: v,
                    edge: e,
                    upper,
                    hard,
                    width,
                    flow: 0,
                });
            }
        }
        // Adjacency, both ways.
        let n = self.nodes.len();
        csr(
            n,
            &self.arcs,
            |a| a.from,
            &mut self.out_start,
            &mut self.out_arcs,
        );
        csr(
            n,
            &self.arcs,
            |a| a.to,
            &mut self.in_start,
            &mut self.in_arcs,
        );
    }

    #[inline]
    fn slope(&self, arc: usize, piece: usize) -> f64 {
        self.slopes[arc * self.pieces + piece]
    }

    /// Successive shortest paths until `amount` flows from the sender to the receiver.
    fn solve(&mut self, amount: u64, augmentations: &mut u32) -> Result<(), &'static str> {
        let n = self.nodes.len();
        self.potential.clear();
        self.potential.resize(n, 0.0);
        let limit = 64 + 4 * self.pieces * self.arcs.len();
        let mut left = amount;
        while left > 0 {
            if !self.dijkstra() {
                return Err("the neighbourhood cannot carry the amount");
            }
            // Bottleneck along the path, then augment.
            let mut delta = left;
            let mut v = DST;
            while v != SRC {
                let p = self.pred[v as usize];
                let arc = &self.arcs[(p >> 1) as usize];
                let (room, from) = if p & 1 == 0 {
                    (arc.forward().map_or(0, |f| f.1), arc.from)
                } else {
                    (arc.backward().map_or(0, |b| b.1), arc.to)
                };
                delta = delta.min(room);
                v = from;
            }
            if delta == 0 {
                return Err("internal: an augmenting path without room");
            }
            let mut v = DST;
            while v != SRC {
                let p = self.pred[v as usize];
                let arc = &mut self.arcs[(p >> 1) as usize];
                if p & 1 == 0 {
                    arc.flow += delta;
                    v = arc.from;
                } else {
                    arc.flow -= delta;
                    v = arc.to;
                }
            }
            left -= delta;
            let dt = self.dist[DST as usize];
            for (pi, &d) in self.potential.iter_mut().zip(&self.dist) {
                *pi += d.min(dt);
            }
            *augmentations += 1;
            if *augmentations as usize > limit {
                return Err("internal: the flow did not converge");
            }
        }
        Ok(())
    }

    /// Dijkstra on reduced costs from the sender; whether the receiver was reached.
    fn dijkstra(&mut self) -> bool {
        let n = self.nodes.len();
        self.dist.clear();
        self.dist.resize(n, f64::INFINITY);
        self.pred.clear();
        self.pred.resize(n, NONE);
        self.heap.clear();
        self.dist[SRC as usize] = 0.0;
        self.heap.push(Item {
            dist: 0.0,
            node: SRC,
        });
        while let Some(Item { dist, node: u }) = self.heap.pop() {
            if dist > self.dist[u as usize] {
                continue;
            }
            if u == DST {
                // Distances beyond the receiver's do not matter: potentials cap them.
                break;
            }
            let pu = self.potential[u as usize];
            let (s, e) = (
                self.out_start[u as usize] as usize,
                self.out_start[u as usize + 1] as usize,
            );
            for i in s..e {
                let a = self.out_arcs[i] as usize;
                let arc = self.arcs[a];
                if let Some((piece, _)) = arc.forward() {
                    let rc = (self.slope(a, piece) + pu - self.potential[arc.to as usize]).max(0.0);
                    self.relax(arc.to, dist + rc, (a as u32) << 1);
                }
            }
            let (s, e) = (
                self.in_start[u as usize] as usize,
                self.in_start[u as usize + 1] as usize,
            );
            for i in s..e {
                let a = self.in_arcs[i] as usize;
                let arc = self.arcs[a];
                if let Some((piece, _)) = arc.backward() {
                    let rc =
                        (-self.slope(a, piece) + pu - self.potential[arc.from as usize]).max(0.0);
                    self.relax(arc.from, dist + rc, (a as u32) << 1 | 1);
                }
            }
        }
        self.dist[DST as usize].is_finite()
    }

    #[inline]
    fn relax(&mut self, v: u32, d: f64, pred: u32) {
        if d < self.dist[v as usize] {
            self.dist[v as usize] = d;
            self.pred[v as usize] = pred;
            self.heap.push(Item { dist: d, node: v });
        }
    }

    /// Splits the flow into paths (arc lists with their flow), largest first; cycles
    /// are cancelled.
    fn decompose(&mut self) -> Result<Vec<(Vec<u32>, u64)>, &'static str> {
        let mut rest: Vec<u64> = self.arcs.iter().map(|a| a.flow).collect();
        let mut on_path = vec![NONE; self.nodes.len()];
        let mut path_nodes: Vec<u32> = Vec::new();
        let mut path_arcs: Vec<u32> = Vec::new();
        let mut out = Vec::new();
        let mut guard = 0usize;
        let guard_limit = 16 + 2 * self.arcs.len();
        loop {
            guard += 1;
            if guard > guard_limit {
                return Err("internal: the flow decomposition did not end");
            }
            path_nodes.clear();
            path_arcs.clear();
            path_nodes.push(SRC);
            on_path[SRC as usize] = 0;
            let mut u = SRC;
            let reached = loop {
                let (s, e) = (
                    self.out_start[u as usize] as usize,
                    self.out_start[u as usize + 1] as usize,
                );
                let mut best = NONE;
                for &a in &self.out_arcs[s..e] {
                    if rest[a as usize] > 0
                        && (best == NONE || rest[a as usize] > rest[best as usize])
                    {
                        best = a;
                    }
                }
                if best == NONE {
                    if u == SRC {
                        break false;
                    }
                    return Err("internal: the flow is not conserved");
                }
                let v = self.arcs[best as usize].to;
                let at = on_path[v as usize];
                if at != NONE {
                    // A cycle: cancel it and continue from where it started.
                    let at = at as usize;
                    let cycle = &path_arcs[at..];
                    let d = cycle
                        .iter()
                        .map(|&a| rest[a as usize])
                        .min()
                        .unwrap_or(u64::MAX)
                        .min(rest[best as usize]);
                    for &a in cycle.iter().chain(std::iter::once(&best)) {
                        rest[a as usize] -= d;
                    }
                    for &x in &path_nodes[at + 1..] {
                        on_path[x as usize] = NONE;
                    }
                    path_nodes.truncate(at + 1);
                    path_arcs.truncate(at);
                    u = v;
                    continue;
                }
                on_path[v as usize] = path_nodes.len() as u32;
                path_nodes.push(v);
                path_arcs.push(best);
                u = v;
                if v == DST {
                    break true;
                }
            };
            for &x in &path_nodes {
                on_path[x as usize] = NONE;
            }
            if !reached {
                break;
            }
            let d = path_arcs
                .iter()
                .map(|&a| rest[a as usize])
                .min()
                .unwrap_or(0);
            for &a in &path_arcs {
                rest[a as usize] -= d;
            }
            out.push((path_arcs.clone(), d));
        }
        sort_parts(&mut out);
        Ok(out)
    }

    /// Directions where the parts' HTLCs (flow plus the fees of later hops) together
    /// exceed what the direction takes, with the excess.
    fn overfull(
        &self,
        graph: &Graph,
        flows: &[(Vec<u32>, u64)],
        buf: &mut Vec<u64>,
    ) -> Vec<(EdgeIdx, u64)> {
        let mut total = vec![0u64; self.arcs.len()];
        let mut edges = Vec::new();
        for (arcs, amount) in flows {
            edges.clear();
            edges.extend(arcs.iter().map(|&a| self.arcs[a as usize].edge));
            if !hop_amounts(graph, &edges, *amount, buf) {
                continue;
            }
            for (&a, &x) in arcs.iter().zip(buf.iter()) {
                total[a as usize] = total[a as usize].saturating_add(x);
            }
        }
        total
            .iter()
            .zip(&self.arcs)
            .filter(|(&t, a)| t > a.hard)
            .map(|(&t, a)| (a.edge, t - a.hard))
            .collect()
    }

    /// Drops the smallest parts, giving their amounts to the others, until at most
    /// `max_parts` remain and none is below `min_part`.
    fn enforce_limits(
        &self,
        parts: &mut Vec<(Vec<u32>, u64)>,
        max_parts: usize,
        min_part: u64,
    ) -> Result<(), &'static str> {
        let mut flow = vec![0u64; self.arcs.len()];
        for (arcs, x) in parts.iter() {
            for &a in arcs {
                flow[a as usize] += x;
            }
        }
        let mut order: Vec<(u64, usize)> = Vec::new();
        while parts.len() > 1 && (parts.len() > max_parts || parts[parts.len() - 1].1 < min_part) {
            let Some((arcs, x)) = parts.pop() else { break };
            for &a in &arcs {
                flow[a as usize] -= x;
            }
            let room = |arcs: &[u32], flow: &[u64]| {
                arcs.iter()
                    .map(|&a| self.arcs[a as usize].upper - flow[a as usize])
                    .min()
                    .unwrap_or(0)
            };
            order.clear();
            order.extend(
                parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (room(&p.0, &flow), i)),
            );
            order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut left = x;
            for &(_, i) in &order {
                if left == 0 {
                    break;
                }
                let take = room(&parts[i].0, &flow).min(left);
                for &a in &parts[i].0 {
                    flow[a as usize] += take;
                }
                parts[i].1 += take;
                left -= take;
            }
            if left > 0 {
                return Err("the flow cannot be merged into few enough parts of the minimum size");
            }
            sort_parts(parts);
        }
        Ok(())
    }
}

/// Largest amount first; ties by arcs, so the order is deterministic.
fn sort_parts(parts: &mut [(Vec<u32>, u64)]) {
    parts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
}

/// Compressed adjacency of `arcs` keyed by `key`.
fn csr(
    n: usize,
    arcs: &[Arc],
    key: impl Fn(&Arc) -> u32,
    start: &mut Vec<u32>,
    list: &mut Vec<u32>,
) {
    start.clear();
    start.resize(n + 1, 0);
    for a in arcs {
        start[key(a) as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    list.clear();
    list.resize(arcs.len(), 0);
    let mut fill = start.clone();
    for (i, a) in arcs.iter().enumerate() {
        let k = key(a) as usize;
        list[fill[k] as usize] = i as u32;
        fill[k] += 1;
    }
}
