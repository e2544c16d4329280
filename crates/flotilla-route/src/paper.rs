//! The Boomerang paper's path choice (Bagaria, Neu, Tse, FC 2020; its simulator's
//! `DrawRandomPath`): every part takes a path drawn uniformly at random, with
//! replacement, from at most 25 edge-disjoint paths precomputed for the (sender,
//! receiver) pair ([`crate::disjoint::edge_disjoint_paths`]).
//!
//! The router knows nothing and learns nothing: it ignores balances, capacities, fees,
//! the channels a payment saw fail (`excluded_edges`) and every outcome it is told of,
//! so a transfer no path can carry is sent anyway. It honours only what a hop enforces
//! regardless of belief: `excluded_nodes` (hops that cannot forward the payment's lock)
//! and the onion's `max_path_len`. Each answer is one path for the whole requested
//! amount (the paper's sender asks once per part). Paths are computed the first time a
//! pair is asked for and kept; the draws come from the seeded `rng` the router owns,
//! so an arm's draws are the same on every run.

use std::collections::HashMap;

use flotilla_graph::{EdgeIdx, Graph, NodeIdx};
use rand::Rng;

use crate::disjoint::edge_disjoint_paths;
use crate::path::Path;
use crate::request::{RouteError, RouteRequest};
use crate::router::{Route, Router};
use crate::scorer::PathFailure;
use crate::time::Timestamp;

/// The paper's number of precomputed paths per pair.
pub const PAPER_MAX_PATHS: usize = 25;

/// Uniform draws from precomputed edge-disjoint paths (see the module docs).
pub struct PaperRouter<R> {
    max_paths: usize,
    rng: R,
    paths: HashMap<(NodeIdx, NodeIdx), Vec<Vec<EdgeIdx>>>,
}

impl<R: Rng + Send> PaperRouter<R> {
    /// Draws from at most `max_paths` edge-disjoint paths per pair with `rng`.
    pub fn new(max_paths: usize, rng: R) -> Self {
        PaperRouter {
            max_paths,
            rng,
            paths: HashMap::new(),
        }
    }

    /// The precomputed paths from `source` to `target` (computed on first use).
    pub fn candidates(
        &mut self,
        graph: &Graph,
        source: NodeIdx,
        target: NodeIdx,
    ) -> &[Vec<EdgeIdx>] {
        let max = self.max_paths;
        self.paths
            .entry((source, target))
            .or_insert_with(|| edge_disjoint_paths(graph, source, target, max))
    }
}

impl<R: Rng + Send> Router for PaperRouter<R> {
    fn name(&self) -> &str {
        "paper"
    }

    fn find_route(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        _now: Timestamp,
    ) -> Result<Route, RouteError> {
        let (s, t) = (request.source, request.target);
        for n in [s, t] {
            if n.ix() >= graph.node_count() {
                return Err(RouteError::UnknownNode(n.0));
            }
        }
        if s == t {
            return Err(RouteError::SameNode);
        }
        if request.amount_msat == 0 {
            return Err(RouteError::ZeroAmount);
        }
        let limits = &request.limits;
        let allowed: Vec<Vec<EdgeIdx>> = self
            .candidates(graph, s, t)
            .iter()
            .filter(|p| {
                p.len() <= limits.max_path_len as usize
                    && !p[..p.len() - 1]
                        .iter()
                        .any(|&e| limits.excluded_nodes.contains(&graph.edge_target(e)))
            })
            .cloned()
            .collect();
        let no_route = |reason: &str| RouteError::NoRoute {
            amount_msat: request.amount_msat,
            reason: reason.to_string(),
        };
        if allowed.is_empty() {
            return Err(no_route("no precomputed edge-disjoint path is usable"));
        }
        let edges = &allowed[self.rng.random_range(0..allowed.len())];
        let path = Path::build(graph, edges, request.amount_msat, request.final_cltv_delta)
            .map_err(|e| no_route(&e.to_string()))?;
        Ok(Route {
            paths: vec![path],
            // No beliefs: every path is as good as any other.
            probabilities: vec![1.0],
        })
    }

    fn path_succeeded(&mut self, _: &Graph, _: &Path, _: Timestamp) {}

    fn path_failed(&mut self, _: &Graph, _: &Path, _: PathFailure, _: Timestamp) {}

    fn htlcs_in_flight(&mut self, _: &Graph, _: &Path, _: bool) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorers::test_util::line;
    use crate::{FailureKind, Limits};
    use rand::SeedableRng;
    use rand_chacha::ChaCha12Rng;

    fn request(graph: &Graph, target: u32, amount_msat: u64) -> RouteRequest {
        let _ = graph;
        RouteRequest {
            source: NodeIdx(0),
            target: NodeIdx(target),
            amount_msat,
            final_cltv_delta: 18,
            limits: Limits::for_amount(amount_msat),
            first_hops: None,
        }
    }

    #[test]
    fn sends_what_no_path_can_carry_and_ignores_failures() {
        // 1,000 sat channels; 1 BTC asked: a learning router would refuse.
        let g = line(&[1_000, 1_000]);
        let mut r = PaperRouter::new(PAPER_MAX_PATHS, ChaCha12Rng::seed_from_u64(1));
        let mut req = request(&g, 2, 100_000_000_000);
        let route = r.find_route(&g, &req, Timestamp::ZERO).unwrap();
        assert_eq!(route.paths[0].hops.len(), 2);
        assert_eq!(route.paths[0].amount_msat(), 100_000_000_000);
        let pf = PathFailure {
            hop: 0,
            kind: FailureKind::Liquidity,
        };
        r.path_failed(&g, &route.paths[0], pf, Timestamp::ZERO);
        req.limits.excluded_edges = route.paths[0].hops.iter().map(|h| h.edge).collect();
        assert_eq!(
            r.find_route(&g, &req, Timestamp::ZERO).unwrap().paths,
            route.paths
        );
        // A hop that cannot forward the lock is avoided; with it, nothing is left.
        req.limits.excluded_nodes = vec![NodeIdx(1)];
        assert!(matches!(
            r.find_route(&g, &req, Timestamp::ZERO),
            Err(RouteError::NoRoute { .. })
        ));
        req.limits.excluded_nodes.clear();
        req.limits.max_path_len = 1;
        assert!(r.find_route(&g, &req, Timestamp::ZERO).is_err());
    }

    #[test]
    fn draws_are_uniform_with_replacement_and_seeded() {
        let (g, _) = flotilla_graph::generate::WattsStrogatz::default()
            .generate(3)
            .unwrap();
        let draw = |seed: u64| {
            let mut r = PaperRouter::new(PAPER_MAX_PATHS, ChaCha12Rng::seed_from_u64(seed));
            let cands = r.candidates(&g, NodeIdx(0), NodeIdx(50)).to_vec();
            let req = request(&g, 50, 1_000_000);
            let picks: Vec<usize> = (0..4000)
                .map(|_| {
                    let p = r.find_route(&g, &req, Timestamp::ZERO).unwrap();
                    let edges: Vec<EdgeIdx> = p.paths[0].hops.iter().map(|h| h.edge).collect();
                    cands.iter().position(|c| *c == edges).expect("a candidate")
                })
                .collect();
            (cands.len(), picks)
        };
        let (n, a) = draw(5);
        assert!((4..=PAPER_MAX_PATHS).contains(&n), "{n} paths");
        assert_eq!(a, draw(5).1);
        assert_ne!(a, draw(6).1);
        let mut counts = vec![0usize; n];
        for &i in &a {
            counts[i] += 1;
        }
        let expect = a.len() as f64 / n as f64;
        for c in counts {
            // Binomial sd is below 30 here: 5 sd either way.
            assert!((c as f64 - expect).abs() < 150.0, "{c} vs {expect}");
        }
    }
}
