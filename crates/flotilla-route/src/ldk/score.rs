//! What LDK's scorer is told beyond its own state: the sender's in-flight HTLCs, and
//! the channel directions and nodes a request excludes.

use std::collections::{HashMap, HashSet};

use flotilla_graph::{EdgeIdx, Graph};
use lightning::routing::gossip::NodeId;
use lightning::routing::router::{CandidateRouteHop, InFlightHtlcs};
use lightning::routing::scoring::{ChannelUsage, ScoreLookUp};

use super::graph::node_id;
use crate::path::Path;

/// The sender's in-flight amounts per channel direction. LDK's [`InFlightHtlcs`] can
/// only grow, so we keep the counts here and rebuild LDK's map when they changed.
pub(crate) struct InFlight {
    amounts: HashMap<EdgeIdx, u64>,
    ldk: InFlightHtlcs,
    dirty: bool,
}

impl Default for InFlight {
    fn default() -> Self {
        InFlight {
            amounts: HashMap::new(),
            ldk: InFlightHtlcs::new(),
            dirty: false,
        }
    }
}

impl InFlight {
    /// Adds or removes a path's HTLCs: on each hop its amount (what LDK's
    /// `InFlightHtlcs::process_path` would add: the delivered amount plus later fees).
    pub(crate) fn update(&mut self, path: &Path, added: bool) {
        for h in &path.hops {
            if added {
                let a = self.amounts.entry(h.edge).or_insert(0);
                *a = a.saturating_add(h.amount_msat);
            } else if let Some(a) = self.amounts.get_mut(&h.edge) {
                *a = a.saturating_sub(h.amount_msat);
                if *a == 0 {
                    self.amounts.remove(&h.edge);
                }
            }
        }
        self.dirty = true;
    }

    /// LDK's view of the same amounts.
    pub(crate) fn ldk(&mut self, graph: &Graph) -> &InFlightHtlcs {
        if self.dirty {
            let mut f = InFlightHtlcs::new();
            for (&e, &amount) in &self.amounts {
                let source = node_id(graph, graph.edge_source(e));
                let target = node_id(graph, graph.edge_target(e));
                f.add_inflight_htlc(&source, &target, graph.channel(e.channel()).scid.0, amount);
            }
            self.ldk = f;
            self.dirty = false;
        }
        &self.ldk
    }

    /// Total msat in flight on one direction (for tests and reports).
    pub(crate) fn amount(&self, e: EdgeIdx) -> u64 {
        self.amounts.get(&e).copied().unwrap_or(0)
    }
}

/// Channel directions, as LDK keys them: short channel id and whether the source key is
/// the smaller one.
pub(crate) type DirectedScid = (u64, bool);

/// Wraps a scorer so that excluded channel directions and nodes get an infinite
/// penalty, which LDK's router treats as unusable. LDK's own
/// `previously_failed_channels` can only exclude a channel in both directions; our
/// limits exclude directions, and nodes, which LDK has no parameter for.
pub(crate) struct Excluding<'a, S> {
    pub(crate) inner: S,
    pub(crate) edges: &'a HashSet<DirectedScid>,
    pub(crate) nodes: &'a HashSet<NodeId>,
    /// The payer and what each of its outgoing directions can offer now, msat
    /// ([`crate::RouteRequest::first_hops`]): a first hop whose parts together would
    /// exceed it is unusable. `None`: unknown.
    pub(crate) first_hops: Option<(NodeId, &'a HashMap<DirectedScid, u64>)>,
}

impl<S: ScoreLookUp> ScoreLookUp for Excluding<'_, S> {
    type ScoreParams = S::ScoreParams;

    fn channel_penalty_msat(
        &self,
        candidate: &CandidateRouteHop,
        usage: ChannelUsage,
        score_params: &Self::ScoreParams,
    ) -> u64 {
        if !self.nodes.is_empty() || !self.edges.is_empty() {
            let source = candidate.source();
            let target = candidate.target();
            if self.nodes.contains(&source) || target.is_some_and(|t| self.nodes.contains(&t)) {
                return u64::MAX;
            }
            if let (Some(scid), Some(t)) = (candidate.globally_unique_short_channel_id(), target) {
                if self.edges.contains(&(scid, source < t)) {
                    return u64::MAX;
                }
            }
        }
        if let Some((payer, caps)) = self.first_hops {
            let source = candidate.source();
            if source == payer {
                if let (Some(scid), Some(t)) = (
                    candidate.globally_unique_short_channel_id(),
                    candidate.target(),
                ) {
                    let cap = caps.get(&(scid, source < t)).copied().unwrap_or(0);
                    if usage.amount_msat.saturating_add(usage.inflight_htlc_msat) > cap {
                        return u64::MAX;
                    }
                }
            }
        }
        self.inner
            .channel_penalty_msat(candidate, usage, score_params)
    }
}
