//! Multi-path payment (MPP) splitters: routers that answer a request with up to
//! `max_parts` paths whose delivered amounts sum to the requested amount exactly.
//!
//! | splitter | name | idea | modelled on |
//! |---|---|---|---|
//! | [`GreedySplitter`] | `greedy` | collect best paths one by one, each part sized by its path's bottleneck, with a per-channel saturation limit | LDK's `find_route` |
//! | [`MinCostFlowSplitter`] | `mcf` | min-cost flow on a piecewise-linear convex cost (uncertainty `−ln P` plus weighted fees) over a neighbourhood of good paths | Pickhardt & Richter (2021) |
//! | [`HalvingSplitter`] | `halving` | try the whole amount; when no (probable enough) path carries it, halve and try again | lnd's `paymentSession.RequestRoute` |
//!
//! Each splitter is a [`Router`](crate::Router) that owns one [`Pathfinder`] (our fast
//! single-path search) over the caller's [`Scorer`], and forwards the learning hooks
//! (`path_succeeded`, `path_failed`, `htlcs_in_flight`) to that scorer.
//!
//! # How earlier parts are accounted for
//! While a payment is being split, the pathfinder sees the caller's scorer through a
//! thin wrapper that knows what the parts chosen so far put on each channel direction
//! (`used`, hop amounts including downstream fees) and, for the greedy splitter's first
//! pass, a saturation limit. For a new HTLC of `a` over a direction that already
//! carries `used` for this payment:
//!
//! - probability 0 if the direction fails the policy gate for `a` on its own (no
//!   policy, disabled, `a` outside `[htlc_minimum, htlc_maximum]`), or if
//!   `used + a` exceeds the capacity (or its saturation share, `capacity >> power`);
//! - else, with `used = 0`, the scorer's own `P(a)`;
//! - else the conditional probability `P(used + a) / P(used)` (for hidden liquidity
//!   uniform on `[l, u]` this is exactly the chance that the liquidity left after the
//!   earlier parts carries `a`), or, when `used + a` is above `htlc_maximum` (so the
//!   scorer cannot be asked about it), `min(P(a), (c + 1 − used − a) / (c + 1 − used))`
//!   with `c` the capacity (the uniform-prior conditional), and 0 if `used + a`
//!   exceeds what the scorer believes the direction holds
//!   ([`Scorer::max_liquidity_msat`]).
//!
//! So the parts a splitter places never put more on a direction than its
//! `max_liquidity_msat`. Every splitter uses that before searching at all: when the
//! receiver's channel directions together (or the sender's) are believed to take less
//! than the amount, no split can work, and the answer is an immediate `NoRoute`
//! instead of a series of searches that all come back empty.
//!
//! No pathfinder code is involved: the wrapper is an ordinary [`Scorer`], and a
//! direction it gives probability 0 is one the pathfinder never uses.
//!
//! # The contract every splitter keeps
//! - The parts' delivered amounts sum to the requested amount exactly.
//! - At most `max_parts` parts; no part below `min_part_msat`, except when the whole
//!   amount is below it (then there is exactly one part). A `min_part_msat` of 0 is
//!   read as 1 msat.
//! - Every path is built with [`Path::build`](crate::Path::build) and obeys every
//!   policy and limit, as the pathfinder guarantees for a single path; in addition the
//!   parts sharing a channel direction never exceed its capacity together, and the
//!   scorer gives every hop a positive probability with the other parts accounted.
//! - Total fees over all parts at most `max_fee_msat`.
//! - Deterministic: the same request, graph and beliefs give the same route.
//! - Never a panic: impossible requests give a [`RouteError`] naming what is wrong.
//!   `max_parts = 0` and `max_path_len = 0` are [`RouteError::ImpossibleLimits`]; a
//!   `min_part_msat` above the amount is **not** an error (one part carries it, as
//!   [`Limits::min_part_msat`](crate::Limits::min_part_msat) allows); a request that
//!   cannot be covered is [`RouteError::NoRoute`] with a reason such as
//!   "`… cannot be split into at most 4 parts of at least 10000000 msat …`".
//!
//! Every route is checked against this contract before it is returned (a few
//! microseconds); a violation, which would be a bug, is reported as `NoRoute` rather
//! than returned.
//!
//! # Probabilities
//! [`Route::probabilities`](crate::Route::probabilities)`[i]` is part `i`'s success
//! probability under the caller's scorer *given the parts before it* (computed with
//! the wrapper above, parts in order). Their product is therefore the probability that
//! every part arrives, with parts that share a channel counted together (exactly so
//! for the uniform-liquidity scorers), not the optimistic product of independent
//! per-part probabilities.

mod greedy;
mod halving;
mod mcf;

pub use greedy::{GreedyConfig, GreedySplitter};
pub use halving::{HalvingConfig, HalvingSplitter};
pub use mcf::{McfConfig, MinCostFlowSplitter};

use flotilla_graph::{EdgeIdx, Graph, NodeIdx};

use crate::path::Path;
use crate::pathfinder::{CostParams, FoundPath, Pathfinder};
use crate::request::{RouteError, RouteRequest};
use crate::router::Route;
use crate::scorer::{PathFailure, Scorer};
use crate::time::Timestamp;

/// Counters of a splitter's last query, for diagnostics and the benchmark.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SplitStats {
    /// Pathfinder searches run.
    pub searches: u32,
    /// Searches that found no path.
    pub failed_searches: u32,
    /// Parts in the answer (0 on error).
    pub parts: u32,
    /// Min-cost flow only: nodes of the neighbourhood the flow was solved on.
    pub flow_nodes: u32,
    /// Min-cost flow only: channel directions of that neighbourhood.
    pub flow_arcs: u32,
    /// Min-cost flow only: augmenting paths of the successive-shortest-path solver.
    pub augmentations: u32,
    /// Min-cost flow only: why the flow's answer was replaced by the greedy
    /// splitter's (`None` when the flow answered, or was not needed).
    pub fallback: Option<&'static str>,
}

/// One part while a route is assembled: the channel directions and the amount it
/// delivers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Part {
    pub edges: Vec<EdgeIdx>,
    pub amount: u64,
}

/// Checks what makes a request impossible before any search.
pub(crate) fn validate(graph: &Graph, request: &RouteRequest) -> Result<(), RouteError> {
    let limits = &request.limits;
    if request.amount_msat == 0 {
        return Err(RouteError::ZeroAmount);
    }
    for n in [request.source, request.target] {
        if n.ix() >= graph.node_count() {
            return Err(RouteError::UnknownNode(n.0));
        }
    }
    if request.source == request.target {
        return Err(RouteError::SameNode);
    }
    if limits.max_parts == 0 {
        return Err(RouteError::ImpossibleLimits(
            "max_parts is 0: a payment needs at least one part".into(),
        ));
    }
    if limits.max_path_len == 0 {
        return Err(RouteError::ImpossibleLimits(
            "max_path_len is 0: a path needs at least one hop".into(),
        ));
    }
    if request.final_cltv_delta > limits.max_total_cltv {
        return Err(RouteError::ImpossibleLimits(format!(
            "the receiver's final CLTV delta ({}) exceeds max_total_cltv ({})",
            request.final_cltv_delta, limits.max_total_cltv
        )));
    }
    Ok(())
}

/// The effective minimum part size (0 is read as 1 msat).
pub(crate) fn min_part(request: &RouteRequest) -> u64 {
    request.limits.min_part_msat.max(1)
}

/// `⌈a / b⌉` for `b > 0`.
pub(crate) fn div_ceil(a: u64, b: u64) -> u64 {
    a / b + u64::from(a % b != 0)
}

/// The `NoRoute` a splitter gives when it cannot cover the amount.
pub(crate) fn split_error(request: &RouteRequest, detail: &str) -> RouteError {
    let l = &request.limits;
    RouteError::NoRoute {
        amount_msat: request.amount_msat,
        reason: format!(
            "the amount cannot be split into at most {} parts of at least {} msat: {detail}",
            l.max_parts,
            min_part(request)
        ),
    }
}

/// Per-hop amounts (sender side first) of delivering `amount` over `edges`, computed
/// backwards from the receiver per BOLT 7 exactly as [`Path::build`] does. `false` if
/// an edge has no policy or an amount overflows.
pub(crate) fn hop_amounts(
    graph: &Graph,
    edges: &[EdgeIdx],
    amount: u64,
    out: &mut Vec<u64>,
) -> bool {
    out.clear();
    out.resize(edges.len(), 0);
    let mut a = amount;
    for i in (0..edges.len()).rev() {
        out[i] = a;
        if i > 0 {
            let Some(p) = graph.policy(edges[i]) else {
                return false;
            };
            let fee = p.fee_base_msat as u128 + a as u128 * p.fee_rate_ppm as u128 / 1_000_000;
            match u64::try_from(a as u128 + fee) {
                Ok(x) => a = x,
                Err(_) => return false,
            }
        }
    }
    true
}

/// The caller's scorer as a splitter's pathfinder sees it: what this payment's earlier
/// parts put on each channel direction is accounted, and optionally a saturation
/// limit applies (see the [module docs](self)).
#[derive(Clone, Debug)]
pub(crate) struct SplitScorer<S> {
    pub inner: S,
    /// Per edge slot: msat this payment's parts put on the direction so far.
    used: Vec<u64>,
    /// Directions with a nonzero `used` (possibly repeated), to clear them cheaply.
    touched: Vec<EdgeIdx>,
    /// A direction may carry at most `capacity >> shift` over all parts.
    shift: u32,
}

impl<S: Scorer> SplitScorer<S> {
    fn new(inner: S) -> Self {
        SplitScorer {
            inner,
            used: Vec::new(),
            touched: Vec::new(),
            shift: 0,
        }
    }

    /// Forgets every part and the saturation limit; sizes the map for `graph`.
    pub fn begin(&mut self, graph: &Graph) {
        for e in self.touched.drain(..) {
            if let Some(u) = self.used.get_mut(e.ix()) {
                *u = 0;
            }
        }
        if self.used.len() != graph.edge_slots() {
            self.used.clear();
            self.used.resize(graph.edge_slots(), 0);
        }
        self.shift = 0;
    }

    /// Sets the saturation limit: at most `capacity >> power` per direction (0: none).
    pub fn set_saturation(&mut self, power: u8) {
        self.shift = (power as u32).min(63);
    }

    /// msat this payment's parts put on `edge`.
    #[inline]
    pub fn used(&self, edge: EdgeIdx) -> u64 {
        self.used.get(edge.ix()).copied().unwrap_or(0)
    }

    /// Adds (or with `add = false` removes) hop amounts `amounts` over `edges`.
    pub fn account(&mut self, edges: &[EdgeIdx], amounts: &[u64], add: bool) {
        for (&e, &a) in edges.iter().zip(amounts) {
            if let Some(u) = self.used.get_mut(e.ix()) {
                if add {
                    *u = u.saturating_add(a);
                    self.touched.push(e);
                } else {
                    *u = u.saturating_sub(a);
                }
            }
        }
    }

    /// What the wrapper makes of `(edge, amount)`: `None` for probability 0, else
    /// `Some((used, total))` with `total = used + amount`.
    #[inline]
    fn gate(&self, graph: &Graph, edge: EdgeIdx, amount: u64) -> Option<(u64, u64)> {
        let used = self.used(edge);
        if used == 0 && self.shift == 0 {
            return Some((0, amount));
        }
        let channel = graph.channels().get(edge.channel().ix())?;
        let policy = channel.policy(edge.direction())?;
        if policy.disabled
            || amount > policy.htlc_maximum_msat
            || (amount < policy.htlc_minimum_msat && amount > 0)
        {
            return None;
        }
        let cap = channel.capacity_msat();
        let total = used.checked_add(amount)?;
        if total > (cap >> self.shift) {
            return None;
        }
        Some((used, total))
    }

    /// The uniform-prior conditional `(c + 1 − total) / (c + 1 − used)`.
    fn uniform_conditional(graph: &Graph, edge: EdgeIdx, used: u64, total: u64) -> f64 {
        let c = graph.channel(edge.channel()).capacity_msat() as f64;
        ((c + 1.0 - total as f64) / (c + 1.0 - used as f64)).clamp(0.0, 1.0)
    }
}

impl<S: Scorer> Scorer for SplitScorer<S> {
    #[inline]
    fn success_probability(
        &self,
        graph: &Graph,
        edge: EdgeIdx,
        amount: u64,
        now: Timestamp,
    ) -> f64 {
        let Some((used, total)) = self.gate(graph, edge, amount) else {
            return 0.0;
        };
        let p_own = self.inner.success_probability(graph, edge, amount, now);
        if used == 0 || p_own <= 0.0 {
            return p_own;
        }
        let htlc_max = graph.policy(edge).map_or(0, |p| p.htlc_maximum_msat);
        if total <= htlc_max {
            let p_used = self.inner.success_probability(graph, edge, used, now);
            if p_used <= 0.0 {
                return 0.0;
            }
            (self.inner.success_probability(graph, edge, total, now) / p_used).clamp(0.0, 1.0)
        } else if total > self.inner.max_liquidity_msat(graph, edge, now) {
            // The scorer cannot be asked about `total` (above `htlc_maximum`), but it
            // can say that the direction holds less than that: the parts together
            // must not put more on it than it is believed to hold.
            0.0
        } else {
            p_own.min(Self::uniform_conditional(graph, edge, used, total))
        }
    }

    #[inline]
    fn cost(&self, graph: &Graph, edge: EdgeIdx, amount: u64, now: Timestamp) -> f64 {
        let Some((used, total)) = self.gate(graph, edge, amount) else {
            return f64::INFINITY;
        };
        let c_own = self.inner.cost(graph, edge, amount, now);
        if used == 0 || c_own.is_nan() || c_own == f64::INFINITY {
            return c_own;
        }
        let htlc_max = graph.policy(edge).map_or(0, |p| p.htlc_maximum_msat);
        if total <= htlc_max {
            let c_used = self.inner.cost(graph, edge, used, now);
            let c_total = self.inner.cost(graph, edge, total, now);
            if !c_used.is_finite() || !c_total.is_finite() {
                return f64::INFINITY;
            }
            (c_total - c_used).max(0.0)
        } else {
            // As in `success_probability`: never more than the direction is believed
            // to hold over all parts.
            let p = if total > self.inner.max_liquidity_msat(graph, edge, now) {
                0.0
            } else {
                Self::uniform_conditional(graph, edge, used, total)
            };
            if p <= 0.0 {
                f64::INFINITY
            } else {
                c_own.max(-p.ln())
            }
        }
    }

    /// What the caller's scorer believes the direction holds, within the saturation
    /// share, minus what the earlier parts put on it.
    fn max_liquidity_msat(&self, graph: &Graph, edge: EdgeIdx, now: Timestamp) -> u64 {
        let mut max = self.inner.max_liquidity_msat(graph, edge, now);
        if self.shift > 0 {
            max = max.min(graph.channel(edge.channel()).capacity_msat() >> self.shift);
        }
        max.saturating_sub(self.used(edge))
    }

    fn path_succeeded(&mut self, graph: &Graph, path: &Path, now: Timestamp) {
        self.inner.path_succeeded(graph, path, now)
    }

    fn path_failed(&mut self, graph: &Graph, path: &Path, failure: PathFailure, now: Timestamp) {
        self.inner.path_failed(graph, path, failure, now)
    }

    fn htlcs_in_flight(&mut self, graph: &Graph, path: &Path, added: bool) {
        self.inner.htlcs_in_flight(graph, path, added)
    }

    fn use_first_hops(&mut self, graph: &Graph, sender: NodeIdx, spendable: &[(EdgeIdx, u64)]) {
        self.inner.use_first_hops(graph, sender, spendable)
    }
}

/// What every splitter shares: the pathfinder over the wrapped scorer, a scratch
/// request and buffers, and the counters.
#[derive(Clone, Debug)]
pub(crate) struct SplitCore<S> {
    pub pf: Pathfinder<SplitScorer<S>>,
    pub stats: SplitStats,
    /// The reason the last failed search gave, as `for <amount> msat: <reason>`.
    pub last_reason: String,
    /// The error of the last failed search.
    pub last_error: Option<RouteError>,
    buf: Vec<u64>,
    buf2: Vec<u64>,
    /// Scratch for hop amounts, free for the splitters.
    pub buf_hops: Vec<u64>,
}

impl<S: Scorer> SplitCore<S> {
    pub fn new(scorer: S, params: CostParams) -> Self {
        SplitCore {
            pf: Pathfinder::with_params(SplitScorer::new(scorer), params),
            stats: SplitStats::default(),
            last_reason: String::new(),
            last_error: None,
            buf: Vec::new(),
            buf2: Vec::new(),
            buf_hops: Vec::new(),
        }
    }

    pub fn scorer(&self) -> &SplitScorer<S> {
        self.pf.scorer()
    }

    pub fn scorer_mut(&mut self) -> &mut SplitScorer<S> {
        self.pf.scorer_mut()
    }

    /// Starts a query: counters reset, no parts accounted, no saturation limit.
    pub fn begin(&mut self, graph: &Graph) {
        self.stats = SplitStats::default();
        self.last_reason.clear();
        self.last_error = None;
        self.scorer_mut().begin(graph);
    }

    /// `NoRoute` when the caller's scorer rules out every way of delivering the whole
    /// request, however it is split: the receiver's channel directions (or the
    /// sender's) together are believed to take less than the amount
    /// ([`Scorer::max_liquidity_msat`], the sender's in-flight HTLCs accounted).
    /// Every part a splitter places has a positive probability with the other parts
    /// accounted, so the parts over those directions can never sum to more: the
    /// searches would all come back empty, only much later. O(degree).
    pub fn believed_cut(
        &self,
        graph: &Graph,
        request: &RouteRequest,
        now: Timestamp,
    ) -> Result<(), RouteError> {
        let amount = request.amount_msat;
        let scorer = &self.scorer().inner;
        let excluded = &request.limits.excluded_edges;
        // Sums stop as soon as they reach the amount: only "less than" matters.
        let sum = |edges: &[EdgeIdx], max: &dyn Fn(EdgeIdx) -> u64| {
            let mut total = 0u64;
            for &e in edges {
                if total >= amount {
                    break;
                }
                if !excluded.contains(&e) {
                    total = total.saturating_add(max(e));
                }
            }
            total
        };
        let believed = |e| scorer.max_liquidity_msat(graph, e, now);
        let capacity = |e| crate::scorers::UniformScorer.max_liquidity_msat(graph, e, now);
        let into_receiver = graph.in_edges(request.target);
        if sum(into_receiver, &capacity) < amount {
            // Above the capacity itself: the first search says so without searching
            // (`AmountAboveCapacity`, which callers tell apart from `NoRoute`).
            return Ok(());
        }
        for (side, edges) in [
            ("receiver's", into_receiver),
            ("sender's", graph.out_edges(request.source)),
        ] {
            let believed = sum(edges, &believed);
            if believed < amount {
                return Err(RouteError::NoRoute {
                    amount_msat: amount,
                    reason: format!(
                        "the {side} channels are believed to take at most {believed} msat in all"
                    ),
                });
            }
        }
        Ok(())
    }

    /// One pathfinder search for `amount` within `fee_budget` (the rest of `sub` as the
    /// caller's request). `Ok(None)` when there is no path; other errors pass through.
    pub fn search(
        &mut self,
        graph: &Graph,
        sub: &mut RouteRequest,
        amount: u64,
        fee_budget: u64,
        now: Timestamp,
    ) -> Result<Option<FoundPath>, RouteError> {
        sub.amount_msat = amount;
        sub.limits.max_fee_msat = fee_budget;
        sub.limits.max_parts = 1;
        self.stats.searches += 1;
        match self.pf.find_path(graph, sub, now) {
            Ok(found) => Ok(Some(found)),
            Err(e @ (RouteError::NoRoute { .. } | RouteError::AmountAboveCapacity { .. })) => {
                self.stats.failed_searches += 1;
                self.last_reason = match &e {
                    RouteError::NoRoute { reason, .. } => format!("for {amount} msat: {reason}"),
                    other => format!("for {amount} msat: {other}"),
                };
                self.last_error = Some(e);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Adds (`add`) or removes the hop amounts of delivering `amount` over `edges` to
    /// the parts accounted for. Returns the fee of that part, if computable.
    pub fn account(
        &mut self,
        graph: &Graph,
        edges: &[EdgeIdx],
        amount: u64,
        add: bool,
    ) -> Option<u64> {
        let mut buf = std::mem::take(&mut self.buf2);
        let fee = if hop_amounts(graph, edges, amount, &mut buf) {
            self.scorer_mut().account(edges, &buf, add);
            Some(buf[0] - amount)
        } else {
            None
        };
        self.buf2 = buf;
        fee
    }

    /// Whether `edges` can deliver `amount` now: every hop within its HTLC range and,
    /// with the parts accounted (and the saturation limit), of positive probability —
    /// at least `floor` when `floor > 0` — and a fee within `fee_budget`.
    pub fn fits(
        &mut self,
        graph: &Graph,
        edges: &[EdgeIdx],
        amount: u64,
        fee_budget: u64,
        floor: f64,
        now: Timestamp,
    ) -> bool {
        if !hop_amounts(graph, edges, amount, &mut self.buf) || self.buf[0] - amount > fee_budget {
            return false;
        }
        let scorer = self.pf.scorer();
        edges.iter().zip(&self.buf).all(|(&e, &a)| {
            let Some(p) = graph.policy(e) else {
                return false;
            };
            if p.disabled || a < p.htlc_minimum_msat || a > p.htlc_maximum_msat {
                return false;
            }
            let prob = scorer.success_probability(graph, e, a, now);
            prob > 0.0 && prob >= floor
        })
    }

    /// The largest amount in `[lo, hi]` that `edges` can deliver under [`Self::fits`]
    /// (`lo` itself is taken as given). Binary search; `fits` is monotone in the
    /// amount for every scorer here except through `htlc_minimum_msat`, which only
    /// matters below `lo`.
    #[allow(clippy::too_many_arguments)]
    pub fn largest_fit(
        &mut self,
        graph: &Graph,
        edges: &[EdgeIdx],
        lo: u64,
        hi: u64,
        fee_budget: u64,
        floor: f64,
        now: Timestamp,
    ) -> u64 {
        let (mut lo, mut hi) = (lo, hi.max(lo));
        if lo == hi || self.fits(graph, edges, hi, fee_budget, floor, now) {
            return hi;
        }
        hi -= 1;
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if self.fits(graph, edges, mid, fee_budget, floor, now) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    }

    /// Builds the route of `parts`, checks it against the contract and prices each part
    /// with the caller's scorer. Leaves no parts accounted.
    pub fn finish(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        parts: &[Part],
        now: Timestamp,
    ) -> Result<Route, RouteError> {
        let route = self
            .build_checked(graph, request, parts, now)
            .map_err(|why| RouteError::NoRoute {
                amount_msat: request.amount_msat,
                reason: format!("internal error: the splitter produced an invalid route ({why})"),
            })?;
        self.stats.parts = route.paths.len() as u32;
        Ok(route)
    }

    /// [`Self::finish`] after merging parts that take the very same path (one HTLC
    /// instead of several: one base fee per hop, the same load on every channel), where
    /// the merged HTLCs fit every hop's `htlc_maximum_msat`; if the merged route broke
    /// the contract (fee rounding can differ by a msat), the parts as they were.
    pub fn finish_merged(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        parts: &[Part],
        now: Timestamp,
    ) -> Result<Route, RouteError> {
        let mut merged: Vec<Part> = Vec::with_capacity(parts.len());
        for p in parts {
            let same = merged.iter_mut().find(|m| m.edges == p.edges);
            if let Some(m) = same {
                let total = m.amount.saturating_add(p.amount);
                let fits = hop_amounts(graph, &p.edges, total, &mut self.buf)
                    && p.edges.iter().zip(&self.buf).all(|(&e, &a)| {
                        graph
                            .policy(e)
                            .is_some_and(|pol| a <= pol.htlc_maximum_msat)
                    });
                if fits {
                    m.amount = total;
                    continue;
                }
            }
            merged.push(p.clone());
        }
        if merged.len() < parts.len() {
            if let Ok(route) = self.build_checked(graph, request, &merged, now) {
                self.stats.parts = route.paths.len() as u32;
                return Ok(route);
            }
        }
        self.finish(graph, request, parts, now)
    }

    /// [`Self::finish`] with the reason a route breaks the contract as the error.
    pub fn build_checked(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        parts: &[Part],
        now: Timestamp,
    ) -> Result<Route, String> {
        let mut paths = Vec::with_capacity(parts.len());
        for (i, p) in parts.iter().enumerate() {
            let path = Path::build(graph, &p.edges, p.amount, request.final_cltv_delta)
                .map_err(|e| format!("part {i}: {e}"))?;
            paths.push(path);
        }
        let checked = self.check(graph, request, &paths, now);
        self.scorer_mut().begin(graph);
        let probabilities = checked?;
        Ok(Route {
            paths,
            probabilities,
        })
    }

    /// Every rule of the contract (see the [module docs](self)); returns each part's
    /// success probability given the parts before it.
    fn check(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        paths: &[Path],
        now: Timestamp,
    ) -> Result<Vec<f64>, String> {
        let l = &request.limits;
        let min_part = min_part(request);
        if paths.is_empty() {
            return Err("no parts".into());
        }
        if paths.len() > l.max_parts as usize {
            return Err(format!(
                "{} parts, more than max_parts {}",
                paths.len(),
                l.max_parts
            ));
        }
        let sum: u128 = paths.iter().map(|p| p.amount_msat() as u128).sum();
        if sum != request.amount_msat as u128 {
            return Err(format!(
                "parts sum to {sum} msat, not {}",
                request.amount_msat
            ));
        }
        if paths.len() > 1 {
            if let Some(p) = paths.iter().find(|p| p.amount_msat() < min_part) {
                return Err(format!(
                    "a part of {} msat is below the minimum {min_part}",
                    p.amount_msat()
                ));
            }
        }
        let fees: u128 = paths.iter().map(|p| p.fee_msat() as u128).sum();
        if fees > l.max_fee_msat as u128 {
            return Err(format!(
                "fees {fees} msat exceed max_fee_msat {}",
                l.max_fee_msat
            ));
        }
        self.scorer_mut().begin(graph);
        let mut nodes: Vec<NodeIdx> = Vec::new();
        let mut probabilities = Vec::with_capacity(paths.len());
        for (i, path) in paths.iter().enumerate() {
            if path.source(graph) != request.source || path.target(graph) != request.target {
                return Err(format!("part {i} does not join the sender to the receiver"));
            }
            if path.hops.len() > l.max_path_len as usize {
                return Err(format!(
                    "part {i} has {} hops, more than {}",
                    path.hops.len(),
                    l.max_path_len
                ));
            }
            if path.total_cltv() > l.max_total_cltv {
                return Err(format!(
                    "part {i} locks {} blocks, more than {}",
                    path.total_cltv(),
                    l.max_total_cltv
                ));
            }
            nodes.clear();
            nodes.push(request.source);
            nodes.extend(path.nodes(graph));
            let mut sorted = nodes.clone();
            sorted.sort_unstable();
            if sorted.windows(2).any(|w| w[0] == w[1]) {
                return Err(format!("part {i} visits a node twice"));
            }
            if nodes[1..nodes.len() - 1]
                .iter()
                .any(|n| l.excluded_nodes.contains(n))
            {
                return Err(format!("part {i} passes an excluded node"));
            }
            for (j, hop) in path.hops.iter().enumerate() {
                if l.excluded_edges.contains(&hop.edge) {
                    return Err(format!(
                        "part {i} hop {j} uses an excluded channel direction"
                    ));
                }
                let channel = graph.channel(hop.edge.channel());
                let Some(p) = channel.policy(hop.edge.direction()) else {
                    return Err(format!("part {i} hop {j} has no policy"));
                };
                if p.disabled
                    || hop.amount_msat < p.htlc_minimum_msat
                    || hop.amount_msat > p.htlc_maximum_msat
                    || hop.amount_msat > channel.capacity_msat()
                {
                    return Err(format!(
                        "part {i} hop {j}: {} msat breaks the channel's policy",
                        hop.amount_msat
                    ));
                }
                let prob = self
                    .scorer()
                    .success_probability(graph, hop.edge, hop.amount_msat, now);
                if prob.is_nan() || prob <= 0.0 {
                    return Err(format!(
                        "part {i} hop {j}: {} msat has probability 0 with the other parts on the channel",
                        hop.amount_msat
                    ));
                }
            }
            probabilities.push(self.scorer().path_probability(graph, path, now));
            let amounts: Vec<u64> = path.hops.iter().map(|h| h.amount_msat).collect();
            let edges: Vec<EdgeIdx> = path.hops.iter().map(|h| h.edge).collect();
            self.scorer_mut().account(&edges, &amounts, true);
        }
        Ok(probabilities)
    }
}

/// The accessors every splitter offers, and its [`Router`](crate::Router) impl.
macro_rules! splitter_accessors {
    ($ty:ident, $cfg:ty) => {
        impl<S: $crate::Scorer> $ty<S> {
            /// The configuration.
            pub fn config(&self) -> &$cfg {
                &self.config
            }

            /// Changes the configuration.
            pub fn set_config(&mut self, config: $cfg) {
                self.config = config;
            }

            /// The pathfinder's prices.
            pub fn params(&self) -> &$crate::CostParams {
                self.core.pf.params()
            }

            /// Changes the pathfinder's prices.
            pub fn set_params(&mut self, params: $crate::CostParams) {
                self.core.pf.set_params(params);
            }

            /// The scorer.
            pub fn scorer(&self) -> &S {
                &self.core.scorer().inner
            }

            /// The scorer, mutably.
            pub fn scorer_mut(&mut self) -> &mut S {
                &mut self.core.scorer_mut().inner
            }

            /// Gives the scorer back.
            pub fn into_scorer(self) -> S {
                self.core.pf.into_scorer().inner
            }

            /// Builds the pathfinder's arrays for `graph` now (otherwise the first
            /// query does); see [`Pathfinder::prepare`](crate::Pathfinder::prepare).
            pub fn prepare(&mut self, graph: &flotilla_graph::Graph) {
                self.core.pf.prepare(graph);
            }

            /// Counters of the last query.
            pub fn last_stats(&self) -> $crate::splitters::SplitStats {
                self.core.stats
            }
        }

        impl<S: $crate::Scorer + Send> $crate::Router for $ty<S> {
            fn name(&self) -> &str {
                Self::NAME
            }

            fn find_route(
                &mut self,
                graph: &flotilla_graph::Graph,
                request: &$crate::RouteRequest,
                now: $crate::Timestamp,
            ) -> Result<$crate::Route, $crate::RouteError> {
                if let Some(hops) = &request.first_hops {
                    $crate::Scorer::use_first_hops(self.scorer_mut(), graph, request.source, hops);
                }
                self.split(graph, request, now)
            }

            fn path_succeeded(
                &mut self,
                graph: &flotilla_graph::Graph,
                path: &$crate::Path,
                now: $crate::Timestamp,
            ) {
                $crate::Scorer::path_succeeded(self.scorer_mut(), graph, path, now);
            }

            fn path_failed(
                &mut self,
                graph: &flotilla_graph::Graph,
                path: &$crate::Path,
                failure: $crate::PathFailure,
                now: $crate::Timestamp,
            ) {
                $crate::Scorer::path_failed(self.scorer_mut(), graph, path, failure, now);
            }

            fn htlcs_in_flight(
                &mut self,
                graph: &flotilla_graph::Graph,
                path: &$crate::Path,
                added: bool,
            ) {
                $crate::Scorer::htlcs_in_flight(self.scorer_mut(), graph, path, added);
            }
        }
    };
}
pub(crate) use splitter_accessors;
