//! The `Router` trait: the extension point through which the simulator runs any
//! path-finding strategy, ours or LDK's.

use flotilla_graph::Graph;

use crate::path::Path;
use crate::request::{RouteError, RouteRequest};
use crate::scorer::PathFailure;
use crate::time::Timestamp;

/// The answer to a [`RouteRequest`]: one path, or several parts of an MPP payment.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// The parts. Their delivered amounts sum to the requested amount exactly.
    pub paths: Vec<Path>,
    /// The router's own estimate of each part's success probability.
    pub probabilities: Vec<f64>,
}

impl Route {
    /// Amount delivered over all parts, msat.
    pub fn amount_msat(&self) -> u64 {
        self.paths.iter().map(Path::amount_msat).sum()
    }

    /// Fees over all parts, msat.
    pub fn fee_msat(&self) -> u64 {
        self.paths.iter().map(Path::fee_msat).sum()
    }
}

/// A path-finding strategy together with what it believes about the network.
///
/// A router owns its beliefs (its scorer) so that each arm of an experiment learns
/// only from its own payments: the simulator reports every outcome back through
/// [`Router::path_succeeded`], [`Router::path_failed`] and
/// [`Router::htlcs_in_flight`].
pub trait Router: Send {
    /// A short stable name (`flotilla`, `ldk`, …) used in arm names and reports.
    fn name(&self) -> &str;

    /// Finds one path, or up to `request.limits.max_parts` parts, for `request`.
    fn find_route(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        now: Timestamp,
    ) -> Result<Route, RouteError>;

    /// Up to `n` single paths for `request` (each carrying the whole amount), pairwise
    /// edge-disjoint, with the router's success probability of each; the first is
    /// [`Router::find_route`]'s answer for a single part (a router may break an exact
    /// tie between equally cheap paths differently). Redundant senders use it to
    /// place a payment's equal parts from fewer searches. A router that cannot do
    /// better than one search per path returns that one path (the default).
    fn find_disjoint_paths(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        n: usize,
        now: Timestamp,
    ) -> Result<Vec<(Path, f64)>, RouteError> {
        let _ = n;
        let route = self.find_route(graph, request, now)?;
        Ok(route
            .paths
            .into_iter()
            .zip(route.probabilities)
            .take(1)
            .collect())
    }

    /// A part settled.
    fn path_succeeded(&mut self, graph: &Graph, path: &Path, now: Timestamp);

    /// A part failed at `failure.hop`.
    fn path_failed(&mut self, graph: &Graph, path: &Path, failure: PathFailure, now: Timestamp);

    /// A part's HTLCs were added or resolved.
    fn htlcs_in_flight(&mut self, graph: &Graph, path: &Path, added: bool);
}
