//! lnd `lncli describegraph` JSON.
//!
//! lnd prints 64-bit integers as strings and 32-bit ones as numbers; older versions
//! omit `max_htlc_msat`; newer ones add inbound fees and custom records, which we skip.
//! A policy that was never announced is `null`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::error::{GraphError, Result};
use crate::graph::{BuildError, Graph, GraphBuilder};
use crate::import::json_error;
use crate::import::numbers::{opt_u64_flex, u16_flex, u32_flex, u64_flex};
use crate::types::{Channel, Node, NodeAddress, NodeIdx, NodePubkey, Policy, ShortChannelId};
use crate::warnings::Warning;

#[derive(Deserialize)]
struct Dump<'a> {
    #[serde(borrow, default)]
    nodes: Vec<DgNode<'a>>,
    #[serde(borrow)]
    edges: Vec<DgEdge<'a>>,
}

#[derive(Deserialize)]
struct DgNode<'a> {
    #[serde(borrow)]
    pub_key: Cow<'a, str>,
    #[serde(borrow, default)]
    alias: Cow<'a, str>,
    #[serde(borrow, default)]
    addresses: Vec<DgAddress<'a>>,
    #[serde(borrow, default)]
    color: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    features: Option<HashMap<Cow<'a, str>, IgnoredAny>>,
    #[serde(default, deserialize_with = "u32_flex")]
    last_update: u32,
}

#[derive(Deserialize)]
struct DgAddress<'a> {
    #[serde(borrow, default)]
    network: Cow<'a, str>,
    #[serde(borrow)]
    addr: Cow<'a, str>,
}

#[derive(Deserialize)]
struct DgEdge<'a> {
    #[serde(deserialize_with = "u64_flex")]
    channel_id: u64,
    #[serde(borrow, default)]
    chan_point: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "u32_flex")]
    last_update: u32,
    #[serde(borrow)]
    node1_pub: Cow<'a, str>,
    #[serde(borrow)]
    node2_pub: Cow<'a, str>,
    #[serde(deserialize_with = "u64_flex")]
    capacity: u64,
    #[serde(default)]
    node1_policy: Option<DgPolicy>,
    #[serde(default)]
    node2_policy: Option<DgPolicy>,
}

#[derive(Deserialize)]
struct DgPolicy {
    #[serde(deserialize_with = "u16_flex")]
    time_lock_delta: u16,
    #[serde(deserialize_with = "u64_flex")]
    min_htlc: u64,
    #[serde(deserialize_with = "u32_flex")]
    fee_base_msat: u32,
    #[serde(deserialize_with = "u32_flex")]
    fee_rate_milli_msat: u32,
    #[serde(default)]
    disabled: bool,
    #[serde(default, deserialize_with = "opt_u64_flex")]
    max_htlc_msat: Option<u64>,
    #[serde(default, deserialize_with = "u32_flex")]
    last_update: u32,
}

/// Parses a describegraph dump.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Graph> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let dump: Dump = serde_path_to_error::deserialize(&mut de).map_err(|e| json_error(path, e))?;
    de.end().map_err(|e| GraphError::Syntax {
        path: path.to_path_buf(),
        what: format!("invalid JSON after the top-level object: {e}"),
    })?;

    let mut b = GraphBuilder::with_capacity(dump.nodes.len(), dump.edges.len());
    for (i, n) in dump.nodes.iter().enumerate() {
        let record = || format!("nodes[{i}]");
        let pubkey = NodePubkey::from_hex(&n.pub_key).map_err(|e| {
            GraphError::invalid(
                path,
                record(),
                Some("pub_key"),
                format!("invalid public key {:?}: {e}", n.pub_key),
            )
        })?;
        let mut features = Vec::new();
        for key in n.features.iter().flat_map(|m| m.keys()) {
            let bit = key.parse::<u16>().map_err(|_| {
                GraphError::invalid(
                    path,
                    record(),
                    Some("features"),
                    format!("feature bit {key:?} is not an integer"),
                )
            })?;
            features.push(bit);
        }
        features.sort_unstable();
        let node = Node {
            pubkey,
            alias: n.alias.clone().into_owned(),
            color: n.color.as_ref().map(|c| c.clone().into_owned()),
            addresses: n
                .addresses
                .iter()
                .map(|a| NodeAddress {
                    network: a.network.clone().into_owned(),
                    addr: a.addr.clone().into_owned(),
                })
                .collect(),
            features,
            last_update: n.last_update,
        };
        b.add_node(node)
            .map_err(|e| GraphError::invalid(path, record(), Some("pub_key"), e.to_string()))?;
    }

    for (i, e) in dump.edges.iter().enumerate() {
        let record = || format!("edges[{i}] (channel_id {})", e.channel_id);
        let endpoint = |b: &mut GraphBuilder, s: &str, field: &str| -> Result<NodeIdx> {
            // Keys listed under `nodes` were validated there; only new ones need the curve check.
            let k = NodePubkey::from_hex_unchecked(s)
                .ok()
                .and_then(|k| b.node_by_pubkey(&k));
            match k {
                Some(n) => Ok(n),
                None => {
                    let key = NodePubkey::from_hex(s).map_err(|err| {
                        GraphError::invalid(
                            path,
                            record(),
                            Some(field),
                            format!("invalid public key {s:?}: {err}"),
                        )
                    })?;
                    Ok(b.node_or_insert(key))
                }
            }
        };
        let a = endpoint(&mut b, &e.node1_pub, "node1_pub")?;
        let z = endpoint(&mut b, &e.node2_pub, "node2_pub")?;
        let policy = |p: &Option<DgPolicy>, b: &mut GraphBuilder| {
            p.as_ref().map(|p| Policy {
                fee_base_msat: p.fee_base_msat,
                fee_rate_ppm: p.fee_rate_milli_msat,
                cltv_expiry_delta: p.time_lock_delta,
                htlc_minimum_msat: p.min_htlc,
                htlc_maximum_msat: p.max_htlc_msat.unwrap_or_else(|| {
                    b.warn(Warning::HtlcMaxMissing, || e.channel_id.to_string());
                    e.capacity.saturating_mul(1000)
                }),
                disabled: p.disabled,
                last_update: p.last_update,
            })
        };
        let policies = [
            policy(&e.node1_policy, &mut b),
            policy(&e.node2_policy, &mut b),
        ];
        let channel = Channel {
            scid: ShortChannelId(e.channel_id),
            nodes: [a, z],
            capacity_sat: e.capacity,
            policies,
            chan_point: e.chan_point.as_ref().map(|c| c.clone().into_owned()),
            last_update: e.last_update,
        };
        b.add_channel(channel).map_err(|err| {
            let field = match err {
                BuildError::SelfLoop(_) => "node2_pub",
                BuildError::CapacityAboveSupply { .. } => "capacity",
                _ => "channel_id",
            };
            GraphError::invalid(path, record(), Some(field), err.to_string())
        })?;
    }
    Ok(b.build())
}
