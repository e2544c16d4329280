//! Writes lnd's `describegraph` layout: 64-bit integers as strings, 32-bit ones as
//! numbers, `null` for a policy never announced, as `lncli` prints them.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use crate::export::ExportReport;
use crate::graph::Graph;
use crate::types::Policy;

#[derive(Serialize)]
struct Dump<'a> {
    nodes: Vec<DgNode<'a>>,
    edges: Vec<DgEdge<'a>>,
}

#[derive(Serialize)]
struct DgNode<'a> {
    last_update: u32,
    pub_key: String,
    alias: &'a str,
    addresses: Vec<DgAddress<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    color: Option<&'a str>,
    features: BTreeMap<u16, DgFeature>,
}

#[derive(Serialize)]
struct DgAddress<'a> {
    network: &'a str,
    addr: &'a str,
}

#[derive(Serialize)]
struct DgFeature {
    name: &'static str,
    is_required: bool,
    is_known: bool,
}

#[derive(Serialize)]
struct DgEdge<'a> {
    channel_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    chan_point: Option<&'a str>,
    last_update: u32,
    node1_pub: String,
    node2_pub: String,
    capacity: String,
    node1_policy: Option<DgPolicy>,
    node2_policy: Option<DgPolicy>,
}

#[derive(Serialize)]
struct DgPolicy {
    time_lock_delta: u16,
    min_htlc: String,
    fee_base_msat: String,
    fee_rate_milli_msat: String,
    disabled: bool,
    max_htlc_msat: String,
    last_update: u32,
}

impl From<&Policy> for DgPolicy {
    fn from(p: &Policy) -> Self {
        DgPolicy {
            time_lock_delta: p.cltv_expiry_delta,
            min_htlc: p.htlc_minimum_msat.to_string(),
            fee_base_msat: p.fee_base_msat.to_string(),
            fee_rate_milli_msat: p.fee_rate_ppm.to_string(),
            disabled: p.disabled,
            max_htlc_msat: p.htlc_maximum_msat.to_string(),
            last_update: p.last_update,
        }
    }
}

/// BOLT 9 names of the feature bits lnd reports, by the even (required) bit.
fn feature_name(bit: u16) -> &'static str {
    match bit & !1 {
        0 => "data-loss-protect",
        2 => "initial-routing-sync",
        4 => "upfront-shutdown-script",
        6 => "gossip-queries",
        8 => "tlv-onion",
        10 => "gossip-queries-ex",
        12 => "static-remote-key",
        14 => "payment-addr",
        16 => "multi-path",
        18 => "wumbo-channels",
        20 => "anchors",
        22 => "anchors-zero-fee-htlc-tx",
        24 => "route-blinding",
        26 => "shutdown-any-segwit",
        28 => "dual-fund",
        38 => "onion-messages",
        44 => "explicit-commitment-type",
        46 => "scid-alias",
        50 => "zero-conf",
        54 => "keysend",
        _ => "unknown",
    }
}

pub(crate) fn write(graph: &Graph, w: &mut dyn Write) -> std::io::Result<ExportReport> {
    let nodes = graph
        .nodes()
        .iter()
        .map(|n| DgNode {
            last_update: n.last_update,
            pub_key: n.pubkey.to_hex(),
            alias: &n.alias,
            addresses: n
                .addresses
                .iter()
                .map(|a| DgAddress {
                    network: &a.network,
                    addr: &a.addr,
                })
                .collect(),
            color: n.color.as_deref(),
            features: n
                .features
                .iter()
                .map(|&bit| {
                    let name = feature_name(bit);
                    (
                        bit,
                        DgFeature {
                            name,
                            is_required: bit % 2 == 0,
                            is_known: name != "unknown",
                        },
                    )
                })
                .collect(),
        })
        .collect();
    let edges = graph
        .channels()
        .iter()
        .map(|c| DgEdge {
            channel_id: c.scid.0.to_string(),
            chan_point: c.chan_point.as_deref(),
            last_update: c.last_update,
            node1_pub: graph.node(c.nodes[0]).pubkey.to_hex(),
            node2_pub: graph.node(c.nodes[1]).pubkey.to_hex(),
            capacity: c.capacity_sat.to_string(),
            node1_policy: c.policies[0].as_ref().map(DgPolicy::from),
            node2_policy: c.policies[1].as_ref().map(DgPolicy::from),
        })
        .collect();
    serde_json::to_writer(&mut *w, &Dump { nodes, edges })?;
    w.write_all(b"\n")?;
    Ok(ExportReport {
        channels_written: graph.channel_count(),
        nodes_written: graph.node_count(),
        warnings: Default::default(),
    })
}
