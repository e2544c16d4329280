//! Several edge-disjoint paths from one search ([`Pathfinder::find_copies`]).
//!
//! The search runs from the receiver back to the sender, so when it ends every
//! labelled node holds a route to the receiver: its label's edge leads to a settled
//! node, whose label is final, and so on. Each of the sender's own channels into a
//! labelled neighbour `u` therefore makes a route, the channel followed by `u`'s.
//! The search runs in [`Mode::harvest`](super::search::Mode): it goes on after
//! settling the sender (as many settled nodes again) and keeps offers dearer than
//! the sender's route, so that more neighbours have one. The routes are ranked by
//! their cost and taken greedily while they share no channel direction with the
//! ones taken: the first is the search's own answer.
//!
//! This is a model choice, not a speed-up of the same answer: a copy is the cheapest
//! route *through its first hop* in the one tree, not the cheapest route avoiding
//! the other copies' channels (which a search per copy finds, and which can reach
//! the receiver over a channel the tree does not use). Routes through one receiver
//! channel all share it, so a receiver whose tree enters by one channel yields one
//! copy, and the caller searches for the rest as before.

use flotilla_graph::EdgeIdx;

use super::search::NO_EDGE;
use super::{FoundPath, Pathfinder};
use crate::path::Path;
use crate::request::{RouteError, RouteRequest};
use crate::scorer::Scorer;
use crate::time::Timestamp;
use flotilla_graph::Graph;

impl<S: Scorer> Pathfinder<S> {
    /// Up to `n` pairwise edge-disjoint paths for `request`, cheapest first, from one
    /// search (see the module docs); the first is [`Pathfinder::find_path`]'s answer
    /// but for exact ties. A request that excludes edges gets that one path alone.
    /// Every path obeys every policy and limit of the request, as `find_path`'s do.
    pub fn find_copies(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        n: usize,
        now: Timestamp,
    ) -> Result<Vec<FoundPath>, RouteError> {
        let harvest = n > 1 && request.limits.excluded_edges.is_empty();
        let first = self.find_path_in(graph, request, now, harvest)?;
        if !harvest {
            return Ok(vec![first]);
        }
        let mut candidates = self.harvest(graph, request, &first, now);
        candidates.sort_by(|a, b| {
            a.cost
                .total_cmp(&b.cost)
                .then(a.path.hops[0].edge.0.cmp(&b.path.hops[0].edge.0))
        });
        let mut used: Vec<EdgeIdx> = first.path.hops.iter().map(|h| h.edge).collect();
        let mut out = vec![first];
        for c in candidates {
            if out.len() >= n {
                break;
            }
            if c.path.hops.iter().any(|h| used.contains(&h.edge)) {
                continue;
            }
            used.extend(c.path.hops.iter().map(|h| h.edge));
            out.push(c);
        }
        Ok(out)
    }

    /// The routes through the sender's other channels that the last search's labels
    /// hold, each checked against the request's limits.
    fn harvest(
        &self,
        graph: &Graph,
        request: &RouteRequest,
        first: &FoundPath,
        now: Timestamp,
    ) -> Vec<FoundPath> {
        let Some(arrays) = self.arrays.as_ref() else {
            return Vec::new();
        };
        let ws = &self.workspace;
        let limits = &request.limits;
        let amount = request.amount_msat;
        let src = arrays.int_of[request.source.ix()];
        let dst = arrays.int_of[request.target.ix()];
        let same_comp = arrays.comp[src as usize] == arrays.comp[dst as usize];
        let first_edge = first.path.hops[0].edge;
        let max_len = limits.max_path_len as usize;
        let mut found = Vec::new();
        let mut edges = Vec::new();
        for o in arrays.out_scan(src as usize, amount, same_comp) {
            let u = o.head;
            if o.edge == first_edge.0 || !ws.labelled(u) || self.excluded_scratch.contains(&u) {
                continue;
            }
            let sent = ws.label(u).amount;
            if sent > o.htlc_max {
                continue;
            }
            // The sender's channel, then u's route to the receiver.
            edges.clear();
            edges.push(EdgeIdx(o.edge));
            let mut x = u;
            while x != dst && edges.len() <= max_len {
                let e = ws.label(x).edge;
                if e == NO_EDGE {
                    break;
                }
                edges.push(EdgeIdx(e));
                x = arrays.int_of[graph.edge_target(EdgeIdx(e)).ix()];
            }
            if x != dst || edges.len() > max_len {
                continue;
            }
            let Ok(path) = Path::build(graph, &edges, amount, request.final_cltv_delta) else {
                continue;
            };
            let fits_first_hop = graph
                .policy(path.hops[0].edge)
                .is_some_and(|p| p.htlc_minimum_msat <= path.sent_msat());
            if path.sent_msat() != sent
                || !fits_first_hop
                || path.fee_msat() > limits.max_fee_msat
                || path.total_cltv() > limits.max_total_cltv
            {
                continue;
            }
            let probability = self.scorer.path_probability(graph, &path, now);
            let cost = self.params.path_cost(graph, &self.scorer, &path, now);
            if probability > 0.0 && cost.is_finite() {
                found.push(FoundPath {
                    path,
                    probability,
                    cost,
                });
            }
        }
        found
    }
}
