//! Our [`Graph`] loaded into LDK's [`NetworkGraph`], the way a rapid-gossip-sync client
//! loads one: partial channel announcements plus unsigned channel updates.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bitcoin::Network;
use flotilla_graph::{Direction, Graph};
use lightning::ln::msgs::UnsignedChannelUpdate;
use lightning::routing::gossip::{NetworkGraph, NodeId};
use lightning::types::features::ChannelFeatures;

use super::logger::LdkLogger;

/// LDK's network graph as this adapter builds it.
pub type LdkNetworkGraph = NetworkGraph<Arc<LdkLogger>>;

/// What went into LDK's graph, and what LDK refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LdkGraphStats {
    /// Channels LDK accepted.
    pub channels: usize,
    /// Directed policies LDK accepted.
    pub policies: usize,
    /// Channels LDK refused (logged at `warn`); they cannot be routed over.
    pub skipped_channels: usize,
    /// Policies LDK refused (logged at `warn`); that direction cannot be routed over.
    pub skipped_policies: usize,
    /// Policies whose `htlc_maximum_msat` exceeded the capacity and was lowered to it
    /// (LDK refuses such updates).
    pub clamped_htlc_max: usize,
}

/// LDK's id of a node of our graph.
pub(crate) fn node_id(graph: &Graph, n: flotilla_graph::NodeIdx) -> NodeId {
    // NodeId keeps the 33 bytes unchecked; ours were validated on import.
    NodeId::from_slice(graph.node(n).pubkey.as_bytes()).expect("33 bytes")
}

/// Unix time now, whole seconds. LDK (with `std`) refuses channel updates more than two
/// weeks older or a day newer than the wall clock, so the graph is stamped with it even
/// when routing later runs in virtual time.
fn wall_clock_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Builds LDK's graph: every channel under its own short channel id, node ids in BOLT 7
/// order (smaller key first), and one update per announced direction with
/// `channel_flags` bit 0 set from that order, whatever order our channel lists its nodes in.
pub(crate) fn build_network_graph(
    graph: &Graph,
    logger: Arc<LdkLogger>,
) -> (LdkNetworkGraph, LdkGraphStats) {
    let network_graph = NetworkGraph::new(Network::Bitcoin, logger);
    let chain_hash = network_graph.get_chain_hash();
    let now = wall_clock_secs();
    // One update per direction, all with the same timestamp: within LDK's window and
    // trivially increasing per direction.
    let timestamp = u32::try_from(now).unwrap_or(u32::MAX);
    let mut stats = LdkGraphStats::default();
    for c in graph.channels() {
        let ids = [node_id(graph, c.nodes[0]), node_id(graph, c.nodes[1])];
        // BOLT 7: node_id_1 is the lexicographically smaller compressed key.
        let swapped = ids[0] > ids[1];
        let (one, two) = if swapped {
            (ids[1], ids[0])
        } else {
            (ids[0], ids[1])
        };
        let scid = c.scid.0;
        if let Err(e) = network_graph.add_channel_from_partial_announcement(
            scid,
            Some(c.capacity_sat),
            now,
            ChannelFeatures::empty(),
            one,
            two,
        ) {
            tracing::warn!(scid = %c.scid, "LDK refused channel: {}", e.err);
            stats.skipped_channels += 1;
            continue;
        }
        stats.channels += 1;
        for d in Direction::BOTH {
            let Some(p) = c.policy(d) else { continue };
            // Direction AToB leaves nodes[0]; in BOLT 7 terms that is direction 0 unless
            // our nodes are in the opposite order.
            let bolt_dir = (d.ix() as u8) ^ (swapped as u8);
            let htlc_max = p.htlc_maximum_msat.min(c.capacity_msat());
            if htlc_max < p.htlc_maximum_msat {
                stats.clamped_htlc_max += 1;
            }
            let update = UnsignedChannelUpdate {
                chain_hash,
                short_channel_id: scid,
                timestamp,
                // Bit 0: htlc_maximum_msat present (mandatory since 2022).
                message_flags: 1,
                channel_flags: bolt_dir | ((p.disabled as u8) << 1),
                cltv_expiry_delta: p.cltv_expiry_delta,
                htlc_minimum_msat: p.htlc_minimum_msat,
                htlc_maximum_msat: htlc_max,
                fee_base_msat: p.fee_base_msat,
                fee_proportional_millionths: p.fee_rate_ppm,
                excess_data: Vec::new(),
            };
            match network_graph.update_channel_unsigned(&update) {
                Ok(()) => stats.policies += 1,
                Err(e) => {
                    tracing::warn!(scid = %c.scid, dir = d.ix(), "LDK refused channel update: {}", e.err);
                    stats.skipped_policies += 1;
                }
            }
        }
    }
    (network_graph, stats)
}
