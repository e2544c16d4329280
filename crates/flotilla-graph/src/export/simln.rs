//! Writes sim-ln's `sim.json`: `{"sim_network": [...]}`, one entry per channel, in
//! the layout sim-ln's `NetworkParser` reads (see `import::simln` for the source).
//!
//! sim-ln needs both directions of every channel and has no disabled flag, so a
//! channel without two enabled policies cannot be written; it is left out and
//! counted as [`crate::Warning::ChannelNotExported`]. sim-ln infers its nodes from
//! the channels, so nodes without a written channel disappear too.
//!
//! Fields our graph does not have get sim-ln-compatible defaults: `max_htlc_count`
//! 483 (the BOLT 2 ceiling) and `max_in_flight_msat` the capacity. sim-ln refuses a
//! `max_htlc_size_msat` above the capacity, so that is capped at the capacity.
//! Aliases are written when a node has one (newer sim-ln reads them; older versions
//! ignore the key). sim-ln refuses a file in which two nodes share a non-empty alias
//! ("duplicated alias"), and mainnet has many (47 collide in the bundled snapshot):
//! a node whose alias another written node also has gets `ALIAS-<first 8 hex digits of
//! its key>`, counted as [`crate::Warning::AliasRenamed`]; in the unlikely case that
//! this is taken too, the alias is dropped (sim-ln accepts empty ones). Run settings
//! (`nodes`, `activity`, `exclude`) are left for the user to add.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use serde::Serialize;

use crate::export::{exportable_both_ways, ExportReport};
use crate::graph::Graph;
use crate::types::{Channel, Direction, NodeIdx, Policy};
use crate::warnings::Warning;

/// BOLT 2's upper bound on `max_accepted_htlcs`, the most sim-ln can be asked for.
const MAX_HTLC_COUNT: u64 = 483;

#[derive(Serialize)]
struct SimFile<'a> {
    sim_network: Vec<SimChannel<'a>>,
}

#[derive(Serialize)]
struct SimChannel<'a> {
    scid: u64,
    capacity_msat: u64,
    node_1: SimPolicy<'a>,
    node_2: SimPolicy<'a>,
}

#[derive(Serialize)]
struct SimPolicy<'a> {
    pubkey: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    alias: &'a str,
    max_htlc_count: u64,
    max_in_flight_msat: u64,
    min_htlc_size_msat: u64,
    max_htlc_size_msat: u64,
    cltv_expiry_delta: u32,
    base_fee: u64,
    fee_rate_prop: u64,
}

fn side<'a>(
    graph: &Graph,
    aliases: &'a HashMap<NodeIdx, String>,
    c: &Channel,
    d: Direction,
    p: &Policy,
) -> SimPolicy<'a> {
    let idx = c.from_node(d);
    let node = graph.node(idx);
    let capacity = c.capacity_msat();
    SimPolicy {
        pubkey: node.pubkey.to_hex(),
        alias: aliases.get(&idx).map_or("", String::as_str),
        max_htlc_count: MAX_HTLC_COUNT,
        max_in_flight_msat: capacity,
        min_htlc_size_msat: p.htlc_minimum_msat,
        max_htlc_size_msat: p.htlc_maximum_msat.min(capacity),
        cltv_expiry_delta: u32::from(p.cltv_expiry_delta),
        base_fee: u64::from(p.fee_base_msat),
        fee_rate_prop: u64::from(p.fee_rate_ppm),
    }
}

/// The alias each written node gets: its own when no other written node has it,
/// `ALIAS-<key prefix>` when one does, nothing when even that is taken. Nodes are
/// visited in index order, so the result does not depend on hashing.
fn unique_aliases(
    graph: &Graph,
    written: &[NodeIdx],
    report: &mut ExportReport,
) -> HashMap<NodeIdx, String> {
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for &n in written {
        let alias = graph.node(n).alias.as_str();
        if !alias.is_empty() {
            *uses.entry(alias).or_default() += 1;
        }
    }
    let mut taken: HashSet<String> = uses
        .iter()
        .filter(|(_, &k)| k == 1)
        .map(|(a, _)| a.to_string())
        .collect();
    let mut out = HashMap::with_capacity(written.len());
    for &n in written {
        let node = graph.node(n);
        let alias = node.alias.as_str();
        match uses.get(alias) {
            None => {}
            Some(1) => {
                out.insert(n, alias.to_string());
            }
            Some(_) => {
                let renamed = format!("{alias}-{}", &node.pubkey.to_hex()[..8]);
                report
                    .warnings
                    .add(Warning::AliasRenamed, || format!("{alias:?} → {renamed:?}"));
                if taken.insert(renamed.clone()) {
                    out.insert(n, renamed);
                }
            }
        }
    }
    out
}

pub(crate) fn write(graph: &Graph, w: &mut dyn Write) -> std::io::Result<ExportReport> {
    let mut report = ExportReport::default();
    let keep = exportable_both_ways(graph, &mut report);
    let mut nodes = HashSet::with_capacity(graph.node_count());
    for &i in &keep {
        nodes.extend(graph.channels()[i].nodes);
    }
    let mut written: Vec<NodeIdx> = nodes.iter().copied().collect();
    written.sort_unstable();
    let aliases = unique_aliases(graph, &written, &mut report);
    let mut sim_network = Vec::with_capacity(keep.len());
    for &i in &keep {
        let c = &graph.channels()[i];
        // `exportable_both_ways` kept only channels with both policies.
        let (Some(p1), Some(p2)) = (c.policy(Direction::AToB), c.policy(Direction::BToA)) else {
            continue;
        };
        sim_network.push(SimChannel {
            scid: c.scid.0,
            capacity_msat: c.capacity_msat(),
            node_1: side(graph, &aliases, c, Direction::AToB, p1),
            node_2: side(graph, &aliases, c, Direction::BToA, p2),
        });
    }
    report.channels_written = sim_network.len();
    report.nodes_written = nodes.len();
    serde_json::to_writer(&mut *w, &SimFile { sim_network })?;
    w.write_all(b"\n")?;
    Ok(report)
}
