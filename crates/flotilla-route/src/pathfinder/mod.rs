//! Our fast single-path pathfinder: a reverse label-setting search over compact arrays.
//!
//! [`Pathfinder`] is a [`Router`] (named `flotilla`) that owns a [`Scorer`] and a
//! reusable search workspace. For each request it searches from the receiver back to
//! the sender, so that every hop's amount is known when the hop is priced (fees
//! accumulate backwards per BOLT 7), and returns one [`Path`] built with
//! [`Path::build`] together with the scorer's estimate of its success probability.
//!
//! # Cost
//! A path `s = n0 -> n1 -> … -> nk = t` over edges `e1 … ek` carrying amounts
//! `A1 … Ak` (`Ak` = the requested amount, `A(i-1) = Ai + fee_ei(Ai)`) costs
//!
//! ```text
//! cost = Σ_{i=2..k} ( fee_ei(Ai) + cltv_price × cltv_delta(ei) )  +  Σ_{i=1..k} ( hop_price + risk_price × −ln P(ei, Ai) )
//!      = total fee + cltv_price × (total CLTV − final CLTV delta) + hop_price × k + risk_price × (−ln P(path))
//! ```
//!
//! where `−ln P` is the scorer's [`Scorer::cost`] (the sender's own first channel
//! charges no fee and adds no delta). The prices scale with the amount; see
//! [`CostParams`]. [`CostParams::path_cost`] evaluates this for any path.
//!
//! # What is guaranteed
//! Every returned path obeys every policy and limit: enabled and announced policies
//! only, `htlc_minimum_msat ≤ amount ≤ min(htlc_maximum_msat, capacity)` on every hop,
//! scorer probability above zero on every hop, total fee ≤ `max_fee_msat`, total CLTV ≤
//! `max_total_cltv`, at most `max_path_len` hops, no excluded channel direction, no
//! excluded node (other than the sender and receiver), no repeated node.
//!
//! Optimality is that of a **label-setting search with one label per node**, which is
//! how every deployed Lightning router works. Because a hop's fee and probability
//! depend on the amount it carries, which depends on the rest of the path, the
//! cheapest way from a node to the receiver is not always the best one to extend
//! (a slightly more expensive suffix carrying a smaller amount, or one with more fee
//! or CLTV headroom, or one whose amount clears an upstream `htlc_minimum_msat`, can
//! win further back). Precisely:
//!
//! 1. The result equals that of the following process: settle nodes in order of
//!    increasing label cost starting with the receiver; a settled node `v` offers each
//!    unsettled in-neighbour `u` the extension of `v`'s own label by the edge
//!    `u -> v`, priced at `v`'s amount, if the edge and the extended label obey every
//!    policy and limit; `u` keeps the cheapest offer; stop when the sender is settled.
//!    Two provisos: offers of exactly equal cost may be kept differently, and the
//!    scorer's [`Scorer::cost_lower_bound`] must be a true lower bound (the default is,
//!    for every scorer whose cost does not fall as the amount grows above
//!    `htlc_minimum_msat`; with a wrong bound the answer is still a valid path).
//!    The property tests check this against a plain implementation.
//! 2. Hence the path is a minimum-cost path for the edge costs *frozen at the settled
//!    amounts*: if every edge `u -> v` is priced at the amount of `v`'s settled label,
//!    no path is cheaper.
//! 3. When cost is pure fee ([`CostParams::fee_only`]), no `htlc_minimum_msat` exceeds
//!    the amount, neither the CLTV nor the length limit binds, and a channel the scorer
//!    gives a chance for an amount also has one for any smaller amount, the result is
//!    the exact minimum-fee path over all simple paths: a cheaper suffix then also
//!    carries a smaller amount, and a smaller amount never costs more upstream nor
//!    breaks a limit. The property tests check this against exhaustive enumeration.
//!
//! The result is never cheaper than the exhaustive optimum (it is a real path), and
//! the search can answer `NoRoute` when only a costlier suffix would have made some
//! upstream limit or `htlc_minimum_msat` fit (a test documents such a case). In the
//! property tests' random small graphs, with every policy and limit in play, 0.2% of
//! the questions that have an answer got a costlier path and 0.3% got `NoRoute`
//! (`label_setting_gap` in `tests/pathfinder.rs` measures it).
//!
//! # Speed
//! - `arrays`: per graph, a reverse CSR of 32-byte in-edge records filtered to usable
//!   policies, sorted so that the search reads only edges inside the strongly
//!   connected component of sender and receiver, skips nodes that cannot forward, and
//!   stops reading a node's list at the first edge too small for the amount; nodes are
//!   renumbered breadth-first for locality.
//! - `search`: an A* search (the potential bounds the cost still to come from the
//!   sender, from its own channels' risk and a per-hop price, strengthened by a small
//!   forward search when a query runs long), lazy scorer calls (a relaxation queues a
//!   candidate keyed without its risk term; the scorer is asked only for candidates
//!   that come out of the queue), per-query labels with generation stamps (no
//!   clearing), a radix heap, no allocation in the loop, `−ln P` from
//!   [`Scorer::cost`] (which the closed-form scorers evaluate without a logarithm), and
//!   an exit as soon as the sender is settled or all its neighbours are.
//! - A request that excludes edges (a redundant part avoiding its siblings' channels)
//!   takes the sender's best routes away, which the plain potential does not see:
//!   such searches settled ten times the nodes of the others. They run twice: once
//!   with a potential whose forward search also leaves the excluded edges out (fast,
//!   but it settles nodes in another order, so a tie between twin channels can go
//!   the other way), then the plain search, pruned at that route's cost once its
//!   potential is upgraded. The pruned search drops only offers that cannot lead to
//!   a route within that cost and keeps every other entry's key, so a route it finds
//!   within the cost is the plain search's own; if it finds none, the plain search
//!   runs unpruned (`search::excluded`).
//! - [`SearchTuning`] holds the speed knobs; they never change an answer.
//!
//! [`Pathfinder::find_copies`] (the [`Router::find_disjoint_paths`] of redundant
//! parts) returns several edge-disjoint paths from one search: the routes through
//! the sender's other channels that the search's labels hold (`copies`).

mod arrays;
mod copies;
mod heap;
mod search;
#[cfg(test)]
mod tests;

use flotilla_graph::{EdgeIdx, Graph};

use crate::path::Path;
use crate::request::{RouteError, RouteRequest};
use crate::router::{Route, Router};
use crate::scorer::{PathFailure, Scorer};
use crate::time::Timestamp;

use arrays::{GraphKey, RoutingArrays};
use search::{Mode, Query, TwoStep, Workspace, NO_EDGE};
pub use search::{SearchStats, SearchTuning};

/// How the pathfinder prices risk, locked time and hops against fees, all in msat.
///
/// Prices scale with the amount `a` (msat) being delivered:
/// - `risk_price(a) = risk_base_msat + risk_amount_ppm × a / 1e6` per unit of `−ln P`;
/// - `cltv_price(a) = cltv_base_msat + cltv_amount_ppm × a / 1e6` per block of CLTV delta;
/// - `hop_price(a) = hop_base_msat + hop_amount_ppm × a / 1e6` per hop.
///
/// Defaults: risk 10,000 msat + 2,000 ppm, CLTV 0 + 0.1 ppm, hop 1,000 msat + 100 ppm.
/// For 100,000 sat that is 210 sat per unit of `−ln P` (a hop with `P = 0.9` costs
/// about 22 sat, like the fee of a 220 ppm hop), 0.4 sat for a 40-block delta and 11
/// sat per hop; for 1,000 sat the risk price is 12 sat per unit, so fees dominate
/// where failures are unlikely anyway. The hop price plays the role of LDK's base
/// penalty (1,024 msat + about 122 ppm): every hop is one more node that can be
/// offline or slow, which the liquidity model does not see; it also gives the search
/// its sense of direction (see the module docs).
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct CostParams {
    /// Fixed part of the risk price, msat per unit of `−ln P`.
    pub risk_base_msat: f64,
    /// Amount-proportional part of the risk price, millionths of the amount per unit
    /// of `−ln P`.
    pub risk_amount_ppm: f64,
    /// Fixed part of the CLTV price, msat per block.
    pub cltv_base_msat: f64,
    /// Amount-proportional part of the CLTV price, millionths of the amount per block.
    pub cltv_amount_ppm: f64,
    /// Fixed part of the price of one hop, msat.
    pub hop_base_msat: f64,
    /// Amount-proportional part of the price of one hop, millionths of the amount.
    pub hop_amount_ppm: f64,
}

impl Default for CostParams {
    fn default() -> Self {
        CostParams {
            risk_base_msat: 10_000.0,
            risk_amount_ppm: 2_000.0,
            cltv_base_msat: 0.0,
            cltv_amount_ppm: 0.1,
            hop_base_msat: 1_000.0,
            hop_amount_ppm: 100.0,
        }
    }
}

impl CostParams {
    /// Pure fee minimisation (no risk, CLTV or hop term).
    pub fn fee_only() -> Self {
        CostParams {
            risk_base_msat: 0.0,
            risk_amount_ppm: 0.0,
            cltv_base_msat: 0.0,
            cltv_amount_ppm: 0.0,
            hop_base_msat: 0.0,
            hop_amount_ppm: 0.0,
        }
    }

    /// Msat per unit of `−ln P` for a payment of `amount_msat`.
    pub fn risk_price(&self, amount_msat: u64) -> f64 {
        sanitize(self.risk_base_msat + self.risk_amount_ppm * amount_msat as f64 / 1e6)
    }

    /// Msat per block of CLTV delta for a payment of `amount_msat`.
    pub fn cltv_price(&self, amount_msat: u64) -> f64 {
        sanitize(self.cltv_base_msat + self.cltv_amount_ppm * amount_msat as f64 / 1e6)
    }

    /// Msat per hop for a payment of `amount_msat`.
    pub fn hop_price(&self, amount_msat: u64) -> f64 {
        sanitize(self.hop_base_msat + self.hop_amount_ppm * amount_msat as f64 / 1e6)
    }

    /// The cost of `path` as the pathfinder defines it (see the module docs), summed
    /// from the receiver backwards in the order the search sums it. Infinite if a hop
    /// has probability zero.
    pub fn path_cost<S: Scorer + ?Sized>(
        &self,
        graph: &Graph,
        scorer: &S,
        path: &Path,
        now: Timestamp,
    ) -> f64 {
        let amount = path.amount_msat();
        let (rp, cp, hp) = (
            self.risk_price(amount),
            self.cltv_price(amount),
            self.hop_price(amount),
        );
        let mut cost = 0.0;
        for (i, hop) in path.hops.iter().enumerate().rev() {
            let nlp = match search::edge_neg_ln_p(scorer, graph, hop.edge, hop.amount_msat, now) {
                Some(x) => x,
                None => return f64::INFINITY,
            };
            if i == 0 {
                cost = cost + hp + rp * nlp;
            } else {
                let delta = graph
                    .policy(hop.edge)
                    .map(|p| p.cltv_expiry_delta)
                    .unwrap_or(0);
                let fee = path.hops[i - 1].amount_msat - hop.amount_msat;
                cost = cost + fee as f64 + cp * delta as f64 + hp + rp * nlp;
            }
        }
        cost
    }
}

/// Negative, NaN or infinite prices would break the search's ordering: use 0 instead.
fn sanitize(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 {
        x
    } else {
        0.0
    }
}

/// A path found by [`Pathfinder::find_path`].
#[derive(Clone, Debug, PartialEq)]
pub struct FoundPath {
    /// The path, with amounts and CLTVs as the onion needs them.
    pub path: Path,
    /// The scorer's success probability of the whole path.
    pub probability: f64,
    /// Its cost under the pathfinder's [`CostParams`].
    pub cost: f64,
}

/// The fast single-path router. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct Pathfinder<S> {
    scorer: S,
    params: CostParams,
    arrays: Option<RoutingArrays>,
    workspace: Workspace,
    stats: SearchStats,
    /// The current request's excluded nodes, in internal numbering.
    excluded_scratch: Vec<u32>,
    tuning: SearchTuning,
    /// Whether a request with excluded edges gets the plain search's answer (the
    /// default) or the first cheapest route the tight search finds
    /// ([`Pathfinder::set_exact_exclusions`]).
    exact_exclusions: bool,
    /// Tests: always run the plain search (the reference for the pruned one).
    #[cfg(test)]
    plain_only: bool,
}

impl<S: Scorer> Pathfinder<S> {
    /// A pathfinder with default [`CostParams`].
    pub fn new(scorer: S) -> Self {
        Self::with_params(scorer, CostParams::default())
    }

    /// A pathfinder with the given prices.
    pub fn with_params(scorer: S, params: CostParams) -> Self {
        Pathfinder {
            scorer,
            params,
            arrays: None,
            workspace: Workspace::default(),
            stats: SearchStats::default(),
            excluded_scratch: Vec::new(),
            tuning: SearchTuning::default(),
            exact_exclusions: true,
            #[cfg(test)]
            plain_only: false,
        }
    }

    /// The prices in use.
    pub fn params(&self) -> &CostParams {
        &self.params
    }

    /// Changes the prices.
    pub fn set_params(&mut self, params: CostParams) {
        self.params = params;
    }

    /// The search's speed knobs.
    pub fn tuning(&self) -> &SearchTuning {
        &self.tuning
    }

    /// Changes the search's speed knobs (never its answers).
    pub fn set_tuning(&mut self, tuning: SearchTuning) {
        self.tuning = tuning;
    }

    /// Whether a request that excludes edges gets exactly the answer of the search
    /// without the two-step speed-up (the default), or, with `false`, the route of the
    /// tight search alone: about half the work for such a request, but its answer is
    /// a cheapest route under another settling order, so it can differ (a tie between
    /// twin channels broken the other way, or, because one label per node is kept, a
    /// route the plain search would not have found, or none where it finds one). An
    /// opt-in model choice for redundant parts that avoid their siblings' channels;
    /// requests without excluded edges are unaffected.
    pub fn set_exact_exclusions(&mut self, exact: bool) {
        self.exact_exclusions = exact;
    }

    /// The scorer.
    pub fn scorer(&self) -> &S {
        &self.scorer
    }

    /// The scorer, mutably.
    pub fn scorer_mut(&mut self) -> &mut S {
        &mut self.scorer
    }

    /// Gives the scorer back.
    pub fn into_scorer(self) -> S {
        self.scorer
    }

    /// Counters of the last search.
    pub fn last_stats(&self) -> SearchStats {
        self.stats
    }

    /// Builds the compact arrays for `graph` now (otherwise the first query does).
    ///
    /// The pathfinder recognises the graph it prepared by the addresses and lengths of
    /// its arrays plus a sample of its policies, and rebuilds when handed another.
    /// A graph is immutable, so that is exact while the graph lives; call this after
    /// dropping a graph and building a similar one, which could reuse the addresses.
    pub fn prepare(&mut self, graph: &Graph) {
        let arrays = RoutingArrays::build(graph);
        self.workspace.reset(arrays.node_count());
        self.arrays = Some(arrays);
    }

    fn ensure_prepared(&mut self, graph: &Graph) {
        let fresh = match &self.arrays {
            Some(a) => a.key == GraphKey::of(graph),
            None => false,
        };
        if !fresh {
            self.prepare(graph);
        }
    }

    /// Finds the cheapest path for `request` (see the module docs for what
    /// "cheapest" guarantees). `max_parts` above 1 is allowed; the answer is one path.
    pub fn find_path(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        now: Timestamp,
    ) -> Result<FoundPath, RouteError> {
        self.find_path_in(graph, request, now, false)
    }

    /// [`Pathfinder::find_path`]; with `harvest`, a request without excluded edges
    /// runs in [`Mode::harvest`] (the workspace then holds more of the sender's
    /// neighbours' routes, for `copies`).
    fn find_path_in(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        now: Timestamp,
        harvest: bool,
    ) -> Result<FoundPath, RouteError> {
        self.stats = SearchStats::default();
        validate(graph, request)?;
        self.ensure_prepared(graph);
        match self.search_once(graph, request, now, harvest)? {
            Some(found) => Ok(found),
            None => {
                // The arrays disagreed with the graph on the path found: the graph was
                // replaced by one at the same address. Rebuild and search again.
                self.prepare(graph);
                self.search_once(graph, request, now, harvest)?
                    .ok_or_else(|| RouteError::NoRoute {
                        amount_msat: request.amount_msat,
                        reason: "internal inconsistency between the graph and its routing arrays"
                            .into(),
                    })
            }
        }
    }

    /// One search over the current arrays; `Ok(None)` if they proved stale.
    fn search_once(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        now: Timestamp,
        harvest: bool,
    ) -> Result<Option<FoundPath>, RouteError> {
        let arrays = self.arrays.as_ref().expect("prepared");
        let amount = request.amount_msat;
        let limits = &request.limits;
        let src = arrays.int_of[request.source.ix()];
        let dst = arrays.int_of[request.target.ix()];
        let no_route = |reason: String| RouteError::NoRoute {
            amount_msat: amount,
            reason,
        };

        let inbound = arrays.inbound_capacity_msat[dst as usize];
        if amount > inbound {
            return Err(RouteError::AmountAboveCapacity {
                amount_msat: amount,
                capacity_msat: inbound,
            });
        }
        let largest_in = arrays.inbound_max_htlc_msat[dst as usize];
        if amount > largest_in {
            return Err(no_route(format!(
                "no single channel into the receiver can carry it (the largest takes {largest_in} msat); split the payment"
            )));
        }
        let largest_out = arrays.outbound_max_htlc_msat[src as usize];
        if amount > largest_out {
            return Err(no_route(format!(
                "no channel of the sender can carry it (the largest takes {largest_out} msat); split the payment"
            )));
        }
        if arrays.comp[src as usize] > arrays.comp[dst as usize] {
            return Err(no_route(
                "the receiver is not reachable from the sender over enabled channels".into(),
            ));
        }

        // Excluded nodes in internal numbering (unknown indices exclude nothing).
        let excluded_nodes = &mut self.excluded_scratch;
        excluded_nodes.clear();
        excluded_nodes.extend(
            limits
                .excluded_nodes
                .iter()
                .filter(|n| n.ix() < arrays.node_count())
                .map(|n| arrays.int_of[n.ix()]),
        );
        let query = Query {
            src,
            dst,
            amount,
            final_cltv: request.final_cltv_delta,
            amount_cap: amount.saturating_add(limits.max_fee_msat),
            max_cltv: limits.max_total_cltv,
            max_len: limits.max_path_len,
            risk_price: self.params.risk_price(amount),
            cltv_price: self.params.cltv_price(amount),
            hop_price: self.params.hop_price(amount),
            excluded_edges: &limits.excluded_edges,
            excluded_nodes,
            now,
            tuning: self.tuning,
        };
        let ws = &mut self.workspace;
        let (scorer, stats) = (&self.scorer, &mut self.stats);
        let mut found = false;
        #[cfg(test)]
        let two_step = !query.excluded_edges.is_empty() && !self.plain_only;
        #[cfg(not(test))]
        let two_step = !query.excluded_edges.is_empty();
        if two_step {
            // A request that excludes edges (a part avoiding its siblings' channels)
            // makes the plain potential weak: a fast search and a cut-off one
            // (`search::excluded`) answer as the plain search would, in a fraction
            // of its work, or leave it to the plain search.
            match search::two_step(
                ws,
                arrays,
                graph,
                scorer,
                &query,
                self.exact_exclusions,
                stats,
            ) {
                TwoStep::Found => found = true,
                TwoStep::NoRoute => return Err(no_route(explain(stats, request))),
                TwoStep::RunPlain => {}
            }
        }
        if !found {
            let mode = Mode {
                harvest: harvest && !two_step,
                ..Mode::EXACT
            };
            found = ws.search(arrays, graph, scorer, &query, mode, stats);
        }
        if !found {
            return Err(no_route(explain(&self.stats, request)));
        }

        // Walk the labels from the sender to the receiver.
        let ws = &self.workspace;
        let src_label = ws.label(src);
        let mut edges = Vec::with_capacity(src_label.hops as usize);
        let mut x = src;
        while x != dst {
            let l = ws.label(x);
            if l.edge == NO_EDGE || edges.len() > u8::MAX as usize {
                return Ok(None);
            }
            let e = EdgeIdx(l.edge);
            edges.push(e);
            x = arrays.int_of[graph.edge_target(e).ix()];
        }
        let path = match Path::build(graph, &edges, amount, request.final_cltv_delta) {
            Ok(p) => p,
            Err(_) => return Ok(None),
        };
        if path.sent_msat() != src_label.amount || path.total_cltv() != src_label.cltv {
            return Ok(None);
        }
        let probability = self.scorer.path_probability(graph, &path, now);
        Ok(Some(FoundPath {
            path,
            probability,
            cost: src_label.cost,
        }))
    }
}

/// Checks what can be checked without the arrays.
fn validate(graph: &Graph, request: &RouteRequest) -> Result<(), RouteError> {
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

/// Why a search that ran found nothing, from its counters.
fn explain(stats: &SearchStats, request: &RouteRequest) -> String {
    let limits = &request.limits;
    let mut parts = Vec::new();
    if stats.rejected_htlc > 0 {
        parts.push(format!(
            "{} channel directions could not take the amount within their htlc_minimum/htlc_maximum or capacity",
            stats.rejected_htlc
        ));
    }
    if stats.rejected_fee > 0 {
        parts.push(format!(
            "{} extensions would exceed the fee limit of {} msat",
            stats.rejected_fee, limits.max_fee_msat
        ));
    }
    if stats.rejected_cltv > 0 {
        parts.push(format!(
            "{} extensions would exceed the total CLTV limit of {} blocks",
            stats.rejected_cltv, limits.max_total_cltv
        ));
    }
    if stats.rejected_length > 0 {
        parts.push(format!(
            "{} partial paths reached the limit of {} hops",
            stats.rejected_length, limits.max_path_len
        ));
    }
    if stats.rejected_probability > 0 {
        parts.push(format!(
            "{} channel directions have success probability zero",
            stats.rejected_probability
        ));
    }
    if stats.rejected_excluded > 0 {
        parts.push(format!(
            "{} channel directions are excluded",
            stats.rejected_excluded
        ));
    }
    let excluded = if limits.excluded_nodes.is_empty() && limits.excluded_edges.is_empty() {
        ""
    } else {
        " once the excluded nodes and channels are removed"
    };
    if parts.is_empty() {
        format!("the receiver is not reachable from the sender{excluded}")
    } else {
        format!(
            "no path satisfies every policy and limit{excluded}: {}",
            parts.join("; ")
        )
    }
}

impl<S: Scorer + Send> Pathfinder<S> {
    /// Tells the scorer what the sender's own channels can send now, when the
    /// request says (`RouteRequest::first_hops`), before any search of it.
    fn use_first_hops(&mut self, graph: &Graph, request: &RouteRequest) {
        if let Some(hops) = &request.first_hops {
            self.scorer.use_first_hops(graph, request.source, hops);
        }
    }
}

impl<S: Scorer + Send> Router for Pathfinder<S> {
    fn name(&self) -> &str {
        "flotilla"
    }

    fn find_route(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        now: Timestamp,
    ) -> Result<Route, RouteError> {
        self.use_first_hops(graph, request);
        let found = self.find_path(graph, request, now)?;
        Ok(Route {
            paths: vec![found.path],
            probabilities: vec![found.probability],
        })
    }

    fn find_disjoint_paths(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        n: usize,
        now: Timestamp,
    ) -> Result<Vec<(Path, f64)>, RouteError> {
        self.use_first_hops(graph, request);
        Ok(self
            .find_copies(graph, request, n, now)?
            .into_iter()
            .map(|f| (f.path, f.probability))
            .collect())
    }

    fn path_succeeded(&mut self, graph: &Graph, path: &Path, now: Timestamp) {
        self.scorer.path_succeeded(graph, path, now);
    }

    fn path_failed(&mut self, graph: &Graph, path: &Path, failure: PathFailure, now: Timestamp) {
        self.scorer.path_failed(graph, path, failure, now);
    }

    fn htlcs_in_flight(&mut self, graph: &Graph, path: &Path, added: bool) {
        self.scorer.htlcs_in_flight(graph, path, added);
    }
}
