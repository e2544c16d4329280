//! What one directed edge could carry for a payment right now: the protocol's limits
//! on adding HTLCs (the same ones `flotilla-ln` checks, see its `channel` module),
//! summed over every HTLC a sender could put on the edge.

use flotilla_graph::{ChannelIdx, Direction, EdgeIdx, Graph, NodeIdx};
use flotilla_ln::config::{Behaviour, NodeConfig};
use flotilla_ln::network::Network;

/// The live state of one direction of a channel, as the oracle reads it.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct EdgeLive {
    /// What the edge's source owns and could still offer, msat.
    pub balance_msat: u64,
    /// Σ of the unresolved HTLCs the source has offered over the edge, msat.
    pub pending_msat: u64,
    /// How many HTLCs those are.
    pub pending_count: u32,
}

/// The one place the oracle reads a network's channel state: the true balance of
/// `e`'s source and the HTLCs it has in flight over `e`.
#[inline]
pub fn live_edge(net: &Network, e: EdgeIdx) -> EdgeLive {
    let s = net.edge_state(e);
    EdgeLive {
        balance_msat: s.balance_msat,
        pending_msat: s.pending_msat,
        pending_count: s.pending_count,
    }
}

/// The fixed limits of one directed edge (they do not change during a run).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct EdgeRule {
    /// Reserve the source must keep (set by the target).
    reserve_msat: u64,
    /// The target's cap on the value of HTLCs in flight toward it.
    in_flight_cap_msat: u64,
    /// The target's `max_accepted_htlcs`.
    max_accepted: u32,
    /// The target's own `htlc_minimum_msat`.
    peer_minimum_msat: u64,
    /// The policy's (minimum, maximum) when it forwards; `None` when it has no policy or
    /// the policy is disabled (the source may then only use it for its own payments).
    forward: Option<(u64, u64)>,
    /// The target takes HTLCs and acts on them: online and not holding every HTLC.
    target_ok: bool,
}

/// Whether a node with `config` takes HTLCs and acts on them.
fn takes(config: &NodeConfig) -> bool {
    config.online && config.behaviour != Behaviour::Hodl
}

/// Every directed edge's fixed limits, built once per arm from the graph the network
/// forwards by (policy overrides applied) and the nodes' configs.
#[derive(Clone, Debug)]
pub struct EdgeRules {
    rules: Vec<EdgeRule>,
    node_ok: Vec<bool>,
}

impl EdgeRules {
    /// The rules of `graph` under `config(n)` for each node.
    pub fn new<'a>(graph: &Graph, config: impl Fn(NodeIdx) -> &'a NodeConfig) -> Self {
        let mut rules = Vec::with_capacity(graph.channel_count() * 2);
        for (c, ch) in graph.channels().iter().enumerate() {
            let cap = ch.capacity_msat();
            for d in Direction::BOTH {
                let e = ChannelIdx(c as u32).edge(d);
                let to = config(ch.to_node(e.direction()));
                let peer = &to.channel;
                rules.push(EdgeRule {
                    reserve_msat: peer.reserve_msat(cap),
                    in_flight_cap_msat: peer.max_in_flight_msat(cap),
                    max_accepted: peer.max_accepted_htlcs as u32,
                    peer_minimum_msat: peer.htlc_minimum_msat,
                    forward: ch
                        .policy(e.direction())
                        .filter(|p| !p.disabled)
                        .map(|p| (p.htlc_minimum_msat, p.htlc_maximum_msat)),
                    target_ok: takes(to),
                });
            }
        }
        let node_ok = (0..graph.node_count())
            .map(|n| takes(config(NodeIdx(n as u32))))
            .collect();
        EdgeRules { rules, node_ok }
    }

    /// Whether node `n` takes HTLCs and acts on them (online, not holding every HTLC):
    /// a receiver that does not can be paid by no one.
    pub fn takes_htlcs(&self, n: NodeIdx) -> bool {
        self.node_ok[n.ix()]
    }

    /// The most all the HTLCs a sender could add over `e` might carry together, msat,
    /// given its live state; `own` when `e` leaves the payment's sender (whose own
    /// channel needs no policy and has no `htlc_maximum_msat`). The smallest of:
    /// - the balance above the reserve;
    /// - the room under the target's in-flight cap;
    /// - free HTLC slots × the largest HTLC the policy forwards;
    ///
    /// and 0 when that is below the smallest HTLC the hop takes, when the direction is
    /// disabled or has no policy (unless `own`), or when the target is offline or holds
    /// HTLCs.
    #[inline]
    pub fn capacity(&self, e: EdgeIdx, own: bool, live: EdgeLive) -> u64 {
        let r = &self.rules[e.ix()];
        if !r.target_ok {
            return 0;
        }
        let (minimum, maximum) = if own {
            (r.peer_minimum_msat, u64::MAX)
        } else {
            match r.forward {
                Some((min, max)) => (min.max(r.peer_minimum_msat), max),
                None => return 0,
            }
        };
        let spendable = live.balance_msat.saturating_sub(r.reserve_msat);
        let room = r.in_flight_cap_msat.saturating_sub(live.pending_msat);
        let slots = r.max_accepted.saturating_sub(live.pending_count) as u128;
        let by_slots = (slots * maximum as u128).min(u64::MAX as u128) as u64;
        let cap = spendable.min(room).min(by_slots);
        if cap < minimum.max(1) {
            0
        } else {
            cap
        }
    }
}
