//! Our [`Path`] and LDK's [`LdkPath`] are two spellings of the same thing.
//!
//! LDK's `RouteHop` `i` names the channel that reaches node `i` (our `hops[i].edge`),
//! and carries what node `i` charges and adds for forwarding over the *next* channel:
//! `fee_msat` and `cltv_expiry_delta`. On the last hop they are the amount delivered and
//! the final CLTV delta (including LDK's random shadow offset). So our per-hop amount
//! and expiry are the suffix sums of those fields:
//!
//! ```text
//! amount_msat[i] = Σ_{j ≥ i} ldk.hops[j].fee_msat
//! cltv_expiry[i] = Σ_{j ≥ i} ldk.hops[j].cltv_expiry_delta
//! ```
//!
//! which is exactly how LDK builds the onion payloads. The conversion is exact in both
//! directions (only LDK's feature bits, which no scorer reads, are not kept).

use flotilla_graph::{Direction, Graph, NodeIdx, ShortChannelId};
use lightning::routing::router::{Path as LdkPath, RouteHop};
use lightning::types::features::{ChannelFeatures, NodeFeatures};

use crate::path::{Hop, Path};

/// Why an LDK path does not map onto our graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LdkPathError {
    /// No hops.
    #[error("LDK path has no hops")]
    Empty,
    /// A blinded tail, which our graph cannot express.
    #[error("LDK path ends in a blinded path")]
    Blinded,
    /// A short channel id not in our graph.
    #[error("hop {hop}: short channel id {scid} is not in the graph")]
    UnknownChannel {
        /// Index of the hop.
        hop: usize,
        /// LDK's short channel id.
        scid: u64,
    },
    /// The channel does not join the previous node to the hop's node.
    #[error("hop {hop}: channel {scid} does not lead from the previous node to the hop's node")]
    NotContiguous {
        /// Index of the hop.
        hop: usize,
        /// LDK's short channel id.
        scid: u64,
    },
    /// Amounts or CLTV deltas overflow.
    #[error("hop {hop}: amount or CLTV overflows")]
    Overflow {
        /// Index of the hop.
        hop: usize,
    },
}

/// Converts a path LDK found from `source` into our [`Path`], with LDK's per-hop amounts
/// and expiries exactly (including any overpayment LDK chose to meet an
/// `htlc_minimum_msat`, and its random extra CLTV on the last hop).
pub fn path_from_ldk(graph: &Graph, source: NodeIdx, ldk: &LdkPath) -> Result<Path, LdkPathError> {
    if ldk.blinded_tail.is_some() {
        return Err(LdkPathError::Blinded);
    }
    if ldk.hops.is_empty() {
        return Err(LdkPathError::Empty);
    }
    let mut hops = Vec::with_capacity(ldk.hops.len());
    let mut prev = source;
    for (i, h) in ldk.hops.iter().enumerate() {
        let scid = h.short_channel_id;
        let ch = graph
            .channel_by_scid(ShortChannelId(scid))
            .ok_or(LdkPathError::UnknownChannel { hop: i, scid })?;
        let c = graph.channel(ch);
        let target = h.pubkey.serialize();
        let dir = Direction::BOTH
            .into_iter()
            .find(|&d| {
                c.from_node(d) == prev && graph.node(c.to_node(d)).pubkey.as_bytes() == &target
            })
            .ok_or(LdkPathError::NotContiguous { hop: i, scid })?;
        prev = c.to_node(dir);
        hops.push(Hop {
            edge: ch.edge(dir),
            amount_msat: 0,
            cltv_expiry: 0,
        });
    }
    let mut amount = 0u64;
    let mut cltv = 0u32;
    for i in (0..hops.len()).rev() {
        amount = amount
            .checked_add(ldk.hops[i].fee_msat)
            .ok_or(LdkPathError::Overflow { hop: i })?;
        cltv = cltv
            .checked_add(ldk.hops[i].cltv_expiry_delta)
            .ok_or(LdkPathError::Overflow { hop: i })?;
        hops[i].amount_msat = amount;
        hops[i].cltv_expiry = cltv;
    }
    Ok(Path { hops })
}

/// Converts our [`Path`] into the LDK path LDK's scorer learns from: each hop's node key
/// and short channel id, and the differences of consecutive amounts and expiries as
/// `fee_msat` and `cltv_expiry_delta` (the last hop: amount delivered and final delta).
pub fn path_to_ldk(graph: &Graph, path: &Path) -> LdkPath {
    let hops = path
        .hops
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let next = path.hops.get(i + 1);
            RouteHop {
                pubkey: graph.node(graph.edge_target(h.edge)).pubkey.to_secp(),
                node_features: NodeFeatures::empty(),
                short_channel_id: graph.channel(h.edge.channel()).scid.0,
                channel_features: ChannelFeatures::empty(),
                fee_msat: match next {
                    Some(nx) => h.amount_msat.saturating_sub(nx.amount_msat),
                    None => h.amount_msat,
                },
                cltv_expiry_delta: match next {
                    Some(nx) => h.cltv_expiry.saturating_sub(nx.cltv_expiry),
                    None => h.cltv_expiry,
                },
                maybe_announced_channel: true,
            }
        })
        .collect::<Vec<_>>();
    LdkPath {
        hops,
        blinded_tail: None,
    }
}
