//! LDK's router as a reference arm: [`LdkRouter`] answers [`RouteRequest`]s with
//! `lightning::routing::router::find_route` (LDK 0.2.7) and LDK's `ProbabilisticScorer`,
//! over an LDK `NetworkGraph` built once from our [`Graph`], and feeds the outcomes of its
//! own payments back to that scorer, as an LDK node would.
//!
//! - Graph: one partial channel announcement per channel (node ids in BOLT 7 order,
//!   capacity included) and one unsigned channel update per announced direction, stamped
//!   with the wall clock (LDK refuses updates outside two weeks of it). Short channel ids
//!   are our graph's own ids: LDK accepts any `u64`, including the bundled snapshot's
//!   plain indices (block 0).
//! - Routing: `PaymentParameters::from_node_id` with BOLT 11 features (`basic_mpp` only
//!   when more than one part is allowed), the limits mapped onto LDK's parameters (see
//!   [`route_parameters`]), the scorer wrapped in `ScorerAccountingForInFlightHtlcs`
//!   for the sender's in-flight HTLCs, and excluded directions and nodes given an
//!   infinite penalty. LDK's answer is converted hop by hop with its own amounts and
//!   expiries (see [`path_from_ldk`]).
//! - Learning: success → `payment_path_successful`; failure at our hop `k` →
//!   `payment_path_failed(path, scid of hops[k])` (hop `k` is the channel that could not
//!   carry the HTLC, i.e. LDK's `hops[k].short_channel_id`); a failure by the receiver →
//!   `probe_successful` (what LDK's background processor does with a path the
//!   destination failed: every channel carried it). Virtual time is passed to the
//!   scorer as a `Duration` since our origin, and `time_passed` is called every
//!   [`LdkRouter::decay_interval`] of it, like LDK's background processor does.
//!
//! Where LDK differs from our [`Route`] contract, the arm keeps LDK's behaviour (it is a
//! reference): LDK may overpay a part to meet an `htlc_minimum_msat`, so the parts can
//! sum to slightly more than asked; LDK caps paths at 19 hops; LDK has no minimum part
//! size (it is approximated by capping the number of parts, see [`route_parameters`]).

mod convert;
mod graph;
mod logger;
mod score;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bitcoin::hashes::{sha256, Hash};
use flotilla_graph::Graph;
use lightning::routing::gossip::NodeId;
use lightning::routing::router::{
    find_route, PaymentParameters, RouteParameters, ScorerAccountingForInFlightHtlcs,
    MAX_PATH_LENGTH_ESTIMATE,
};
use lightning::routing::scoring::{
    ProbabilisticScorer, ProbabilisticScoringDecayParameters, ProbabilisticScoringFeeParameters,
    ScoreUpdate,
};
use lightning::types::features::Bolt11InvoiceFeatures;

pub use convert::{path_from_ldk, path_to_ldk, LdkPathError};
pub use graph::{LdkGraphStats, LdkNetworkGraph};
pub use logger::LdkLogger;

use crate::path::Path;
use crate::request::{RouteError, RouteRequest};
use crate::router::{Route, Router};
use crate::scorer::{FailureKind, PathFailure};
use crate::time::Timestamp;
use score::{DirectedScid, Excluding, InFlight};

/// LDK's probabilistic scorer over the adapter's graph.
pub type LdkScorer = ProbabilisticScorer<Arc<LdkNetworkGraph>, Arc<LdkLogger>>;

/// LDK's path type, as its scorer takes it.
pub use lightning::routing::router::Path as LdkPath;

/// LDK 0.2.7's router and probabilistic scorer as a [`Router`] (name `ldk`).
pub struct LdkRouter {
    network_graph: Arc<LdkNetworkGraph>,
    scorer: LdkScorer,
    fee_params: ProbabilisticScoringFeeParameters,
    stats: LdkGraphStats,
    node_count: usize,
    channel_count: usize,
    in_flight: InFlight,
    seed: u64,
    queries: u64,
    last_decay: Option<Timestamp>,
    decay_interval: Duration,
}

impl LdkRouter {
    /// How often, in virtual time, the scorer is told that time passed: LDK's
    /// background processor calls `time_passed` on its scorer-persist timer.
    pub const DEFAULT_DECAY_INTERVAL: Duration = Duration::from_secs(5 * 60);

    /// Builds LDK's graph from `graph` (about 0.15 s on the mainnet snapshot) with
    /// LDK's default scorer parameters and random seed 0.
    pub fn new(graph: &Graph) -> Self {
        Self::with_seed(graph, 0)
    }

    /// As [`LdkRouter::new`], with `seed` for the random bytes LDK's `find_route` takes
    /// (they choose the shadow CLTV offset on the last hop). Query `i` uses
    /// `SHA256(seed ‖ i)`, so a run is reproducible.
    pub fn with_seed(graph: &Graph, seed: u64) -> Self {
        let logger = Arc::new(LdkLogger);
        let (ng, stats) = graph::build_network_graph(graph, Arc::clone(&logger));
        let network_graph = Arc::new(ng);
        let scorer = ProbabilisticScorer::new(
            ProbabilisticScoringDecayParameters::default(),
            Arc::clone(&network_graph),
            logger,
        );
        LdkRouter {
            network_graph,
            scorer,
            fee_params: ProbabilisticScoringFeeParameters::default(),
            stats,
            node_count: graph.node_count(),
            channel_count: graph.channel_count(),
            in_flight: InFlight::default(),
            seed,
            queries: 0,
            last_decay: None,
            decay_interval: Self::DEFAULT_DECAY_INTERVAL,
        }
    }

    /// What went into LDK's graph.
    pub fn build_stats(&self) -> LdkGraphStats {
        self.stats
    }

    /// LDK's graph.
    pub fn network_graph(&self) -> &LdkNetworkGraph {
        &self.network_graph
    }

    /// LDK's scorer, with what it has learned.
    pub fn scorer(&self) -> &LdkScorer {
        &self.scorer
    }

    /// The scorer's fee parameters (LDK's defaults unless changed).
    pub fn fee_params_mut(&mut self) -> &mut ProbabilisticScoringFeeParameters {
        &mut self.fee_params
    }

    /// Virtual time between two `time_passed` calls on the scorer.
    pub fn decay_interval(&self) -> Duration {
        self.decay_interval
    }

    /// Changes how often the scorer's beliefs decay.
    pub fn set_decay_interval(&mut self, interval: Duration) {
        self.decay_interval = interval;
    }

    /// msat of the sender's own HTLCs in flight on a channel direction, as reported
    /// through [`Router::htlcs_in_flight`].
    pub fn in_flight_msat(&self, edge: flotilla_graph::EdgeIdx) -> u64 {
        self.in_flight.amount(edge)
    }

    /// LDK's live estimate that `path` succeeds: the product over its hops of
    /// `live_estimated_payment_success_probability`, with an amount at or above the
    /// believed upper liquidity bound counted as 0 (LDK 0.2.7 computes that case only
    /// for amounts strictly above it, and trips a debug assertion at equality).
    pub fn path_probability(&self, graph: &Graph, path: &Path) -> f64 {
        path.hops
            .iter()
            .map(|h| {
                let target = graph::node_id(graph, graph.edge_target(h.edge));
                let channel = graph.channel(h.edge.channel());
                let scid = channel.scid.0;
                let (lo, hi) = self
                    .scorer
                    .estimated_channel_liquidity_range(scid, &target)
                    .unwrap_or((0, channel.capacity_msat()));
                if h.amount_msat <= lo {
                    1.0
                } else if h.amount_msat >= hi {
                    0.0
                } else {
                    self.scorer
                        .live_estimated_payment_success_probability(
                            scid,
                            &target,
                            h.amount_msat,
                            &self.fee_params,
                        )
                        .unwrap_or(1.0)
                }
            })
            .product()
    }

    fn check_graph(&self, graph: &Graph, amount_msat: u64) -> Result<(), RouteError> {
        if graph.node_count() != self.node_count || graph.channel_count() != self.channel_count {
            return Err(RouteError::NoRoute {
                amount_msat,
                reason: format!(
                "the LDK router was built for a graph of {} nodes and {} channels, not this one ({} nodes, {} channels)",
                self.node_count,
                self.channel_count,
                graph.node_count(),
                    graph.channel_count()
                ),
            });
        }
        Ok(())
    }

    fn maybe_decay(&mut self, now: Timestamp) {
        let due = match self.last_decay {
            None => true,
            Some(t) => Duration::from_micros(now - t) >= self.decay_interval,
        };
        if due {
            self.scorer.time_passed(ldk_time(now));
            self.last_decay = Some(now);
        }
    }

    fn random_seed_bytes(&mut self) -> [u8; 32] {
        let mut msg = [0u8; 16];
        msg[..8].copy_from_slice(&self.seed.to_le_bytes());
        msg[8..].copy_from_slice(&self.queries.to_le_bytes());
        self.queries += 1;
        sha256::Hash::hash(&msg).to_byte_array()
    }
}

/// Our virtual time as the `duration_since_epoch` LDK's scorer takes.
fn ldk_time(now: Timestamp) -> Duration {
    Duration::from_micros(now.micros())
}

/// Checks a request and maps it onto LDK's [`RouteParameters`]:
///
/// - payee: `PaymentParameters::from_node_id(target, final_cltv_delta)` with BOLT 11
///   features `var_onion_optin` and `payment_secret` (required) and `basic_mpp`
///   (optional) when `max_parts > 1`;
/// - `max_total_routing_fee_msat = max_fee_msat`, `max_total_cltv_expiry_delta =
///   max_total_cltv`, `max_path_length = max_path_len` (LDK caps it at 19);
/// - `max_path_count = min(max_parts, 255, max(1, amount / min_part_msat))`: LDK has
///   no minimum part size, but it requires every part to contribute at least
///   `amount / max_path_count`, so capping the count is the closest it comes.
///
/// Excluded directions and nodes are not parameters of LDK's; [`LdkRouter`] applies them
/// through the scorer.
pub fn route_parameters(
    graph: &Graph,
    request: &RouteRequest,
) -> Result<RouteParameters, RouteError> {
    let l = &request.limits;
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
    if l.max_parts == 0 {
        return Err(RouteError::ImpossibleLimits("max_parts is 0".into()));
    }
    if l.max_path_len == 0 {
        return Err(RouteError::ImpossibleLimits("max_path_len is 0".into()));
    }
    if l.max_total_cltv <= request.final_cltv_delta {
        return Err(RouteError::ImpossibleLimits(format!(
            "max_total_cltv {} leaves no room above the final CLTV delta {}",
            l.max_total_cltv, request.final_cltv_delta
        )));
    }
    let mut features = Bolt11InvoiceFeatures::empty();
    features.set_variable_length_onion_required();
    features.set_payment_secret_required();
    let mut path_count = l.max_parts.min(u8::MAX as u32) as u64;
    if path_count > 1 {
        if let Some(k) = request.amount_msat.checked_div(l.min_part_msat) {
            path_count = path_count.min(k.max(1));
        }
        features.set_basic_mpp_optional();
    }
    let payee = graph.node(request.target).pubkey.to_secp();
    let mut payment_params = PaymentParameters::from_node_id(payee, request.final_cltv_delta)
        .with_bolt11_features(features)
        .map_err(|()| RouteError::ImpossibleLimits("LDK refused the payee features".into()))?
        .with_max_total_cltv_expiry_delta(l.max_total_cltv)
        .with_max_path_count(path_count as u8);
    payment_params.max_path_length = l.max_path_len.min(MAX_PATH_LENGTH_ESTIMATE);
    Ok(RouteParameters {
        payment_params,
        final_value_msat: request.amount_msat,
        max_total_routing_fee_msat: Some(l.max_fee_msat),
    })
}

impl Router for LdkRouter {
    fn name(&self) -> &str {
        "ldk"
    }

    fn find_route(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        now: Timestamp,
    ) -> Result<Route, RouteError> {
        self.check_graph(graph, request.amount_msat)?;
        let params = route_parameters(graph, request)?;
        self.maybe_decay(now);
        let seed = self.random_seed_bytes();
        let payer = graph.node(request.source).pubkey.to_secp();
        let l = &request.limits;
        let edges: HashSet<DirectedScid> = l
            .excluded_edges
            .iter()
            .filter(|e| e.ix() < graph.edge_slots())
            .map(|&e| {
                let source = graph::node_id(graph, graph.edge_source(e));
                let target = graph::node_id(graph, graph.edge_target(e));
                (graph.channel(e.channel()).scid.0, source < target)
            })
            .collect();
        let nodes: HashSet<NodeId> = l
            .excluded_nodes
            .iter()
            .filter(|n| {
                n.ix() < graph.node_count() && **n != request.source && **n != request.target
            })
            .map(|&n| graph::node_id(graph, n))
            .collect();
        let first_hops: Option<HashMap<DirectedScid, u64>> =
            request.first_hops.as_ref().map(|hops| {
                hops.iter()
                    .filter(|(e, _)| e.ix() < graph.edge_slots())
                    .map(|&(e, msat)| {
                        let source = graph::node_id(graph, graph.edge_source(e));
                        let target = graph::node_id(graph, graph.edge_target(e));
                        ((graph.channel(e.channel()).scid.0, source < target), msat)
                    })
                    .collect()
            });
        let in_flight = self.in_flight.ldk(graph);
        let scorer = Excluding {
            inner: ScorerAccountingForInFlightHtlcs::new(&self.scorer, in_flight),
            edges: &edges,
            nodes: &nodes,
            first_hops: first_hops
                .as_ref()
                .map(|caps| (graph::node_id(graph, request.source), caps)),
        };
        let route = find_route(
            &payer,
            &params,
            &self.network_graph,
            None,
            &LdkLogger,
            &scorer,
            &self.fee_params,
            &seed,
        )
        .map_err(|e| RouteError::NoRoute {
            amount_msat: request.amount_msat,
            reason: e.to_string(),
        })?;
        let mut paths = Vec::with_capacity(route.paths.len());
        for p in &route.paths {
            let path =
                path_from_ldk(graph, request.source, p).map_err(|e| RouteError::NoRoute {
                    amount_msat: request.amount_msat,
                    reason: format!("LDK returned a path outside the graph: {e}"),
                })?;
            paths.push(path);
        }
        let probabilities = paths
            .iter()
            .map(|p| self.path_probability(graph, p))
            .collect();
        Ok(Route {
            paths,
            probabilities,
        })
    }

    fn path_succeeded(&mut self, graph: &Graph, path: &Path, now: Timestamp) {
        if path.hops.is_empty() || self.check_graph(graph, 0).is_err() {
            return;
        }
        self.maybe_decay(now);
        self.scorer
            .payment_path_successful(&path_to_ldk(graph, path), ldk_time(now));
    }

    fn path_failed(&mut self, graph: &Graph, path: &Path, failure: PathFailure, now: Timestamp) {
        if path.hops.is_empty() || self.check_graph(graph, 0).is_err() {
            return;
        }
        self.maybe_decay(now);
        let ldk = path_to_ldk(graph, path);
        match failure.kind {
            // The receiver failed it: every channel carried the amount.
            FailureKind::Destination => self.scorer.probe_successful(&ldk, ldk_time(now)),
            FailureKind::Liquidity
            | FailureKind::ChannelUnusable
            | FailureKind::NodeUnreachable => {
                let k = failure.hop.min(ldk.hops.len() - 1);
                let scid = ldk.hops[k].short_channel_id;
                self.scorer.payment_path_failed(&ldk, scid, ldk_time(now));
            }
        }
    }

    fn htlcs_in_flight(&mut self, graph: &Graph, path: &Path, added: bool) {
        if self.check_graph(graph, 0).is_err() {
            return;
        }
        self.in_flight.update(path, added);
    }
}
