//! Graph statistics, including the largest strongly connected component (SCC).
//!
//! The SCC matters because a payment can only route between two nodes of the same
//! component of the directed graph of *enabled* policies: simulators draw senders
//! and receivers from the largest one.

use serde::Serialize;

use crate::graph::Graph;
use crate::types::{AddressKind, EdgeIdx, NodeIdx};

/// Counts and sizes that describe a graph; the JSON of `flotilla graph stats --json`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GraphStats {
    /// Nodes.
    pub nodes: usize,
    /// Channels.
    pub channels: usize,
    /// Directed policies present (announced), enabled or not.
    pub policies: usize,
    /// Directed policies present and not disabled.
    pub enabled_policies: usize,
    /// Channels with an enabled policy in both directions.
    pub channels_enabled_both_ways: usize,
    /// Total channel capacity, sat.
    pub capacity_sat: u64,
    /// Median channel capacity, sat.
    pub median_capacity_sat: u64,
    /// Nodes of the largest SCC of the directed graph of enabled policies.
    pub largest_scc_nodes: usize,
    /// Channels with both ends in that component.
    pub largest_scc_channels: usize,
    /// Nodes with no channel at all.
    pub isolated_nodes: usize,
    /// Nodes announcing at least one address.
    pub nodes_with_addresses: usize,
    /// Announced addresses by kind (`ipv4`, `ipv6`, `onion`, `dns`).
    pub addresses: AddressCounts,
    /// Median base fee of enabled policies, msat.
    pub median_fee_base_msat: u64,
    /// Median proportional fee of enabled policies, ppm.
    pub median_fee_rate_ppm: u64,
    /// Median CLTV delta of enabled policies, blocks.
    pub median_cltv_expiry_delta: u64,
    /// Records that were odd but imported: kind → count.
    pub warnings: std::collections::BTreeMap<&'static str, u64>,
}

/// Announced addresses by kind.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct AddressCounts {
    /// IPv4 `a.b.c.d:port`.
    pub ipv4: usize,
    /// IPv6.
    pub ipv6: usize,
    /// Tor `.onion`.
    pub onion: usize,
    /// DNS host names.
    pub dns: usize,
}

impl GraphStats {
    /// Computes every statistic of `graph`.
    pub fn compute(graph: &Graph) -> Self {
        let mut policies = 0;
        let mut enabled = 0;
        let mut both = 0;
        let (mut base, mut rate, mut cltv) = (Vec::new(), Vec::new(), Vec::new());
        for c in graph.channels() {
            let mut on = 0;
            for p in c.policies.iter().flatten() {
                policies += 1;
                if !p.disabled {
                    enabled += 1;
                    on += 1;
                    base.push(p.fee_base_msat as u64);
                    rate.push(p.fee_rate_ppm as u64);
                    cltv.push(p.cltv_expiry_delta as u64);
                }
            }
            if on == 2 {
                both += 1;
            }
        }
        let mut caps: Vec<u64> = graph.channels().iter().map(|c| c.capacity_sat).collect();
        let scc = largest_scc(graph);
        let mut in_scc = vec![false; graph.node_count()];
        for n in &scc {
            in_scc[n.ix()] = true;
        }
        let scc_channels = graph
            .channels()
            .iter()
            .filter(|c| in_scc[c.nodes[0].ix()] && in_scc[c.nodes[1].ix()])
            .count();
        let mut has_channel = vec![false; graph.node_count()];
        for c in graph.channels() {
            has_channel[c.nodes[0].ix()] = true;
            has_channel[c.nodes[1].ix()] = true;
        }
        let mut addresses = AddressCounts::default();
        for a in graph.nodes().iter().flat_map(|n| &n.addresses) {
            match a.kind() {
                AddressKind::Ipv4 => addresses.ipv4 += 1,
                AddressKind::Ipv6 => addresses.ipv6 += 1,
                AddressKind::Onion => addresses.onion += 1,
                AddressKind::Dns => addresses.dns += 1,
            }
        }
        GraphStats {
            nodes: graph.node_count(),
            channels: graph.channel_count(),
            policies,
            enabled_policies: enabled,
            channels_enabled_both_ways: both,
            capacity_sat: graph.total_capacity_sat(),
            median_capacity_sat: median(&mut caps),
            largest_scc_nodes: scc.len(),
            largest_scc_channels: scc_channels,
            isolated_nodes: has_channel.iter().filter(|h| !**h).count(),
            nodes_with_addresses: graph
                .nodes()
                .iter()
                .filter(|n| !n.addresses.is_empty())
                .count(),
            addresses,
            median_fee_base_msat: median(&mut base),
            median_fee_rate_ppm: median(&mut rate),
            median_cltv_expiry_delta: median(&mut cltv),
            warnings: graph
                .warnings()
                .iter()
                .map(|(w, n, _)| (w.key(), n))
                .collect(),
        }
    }
}

/// The lower median; 0 for an empty list.
fn median(v: &mut [u64]) -> u64 {
    if v.is_empty() {
        return 0;
    }
    let mid = (v.len() - 1) / 2;
    *v.select_nth_unstable(mid).1
}

/// Whether a directed edge can carry payments at all: announced and not disabled.
#[inline]
pub fn is_enabled(graph: &Graph, e: EdgeIdx) -> bool {
    graph.policy(e).is_some_and(|p| !p.disabled)
}

/// Component id per node of the directed graph of enabled policies (see
/// [`tarjan_scc`] for the numbering).
pub fn strongly_connected_components(graph: &Graph) -> Vec<u32> {
    // Successor lists of enabled policies in CSR form, so the search walks slices.
    let n = graph.node_count();
    let mut start = Vec::with_capacity(n + 1);
    let mut succ = Vec::with_capacity(graph.edge_slots());
    for v in 0..n as u32 {
        start.push(succ.len());
        for &e in graph.out_edges(NodeIdx(v)) {
            if is_enabled(graph, e) {
                succ.push(graph.edge_target(e).0);
            }
        }
    }
    start.push(succ.len());
    tarjan_scc(n, |v| &succ[start[v as usize]..start[v as usize + 1]])
}

/// Strongly connected components of any directed graph on nodes `0..n` given by its
/// successor lists (Tarjan's algorithm, iterative so that deep graphs cannot overflow
/// the stack). Components are numbered in the order Tarjan completes them, which is a
/// reverse topological order of the condensation: for every edge `x → y`,
/// `comp[x] >= comp[y]`.
pub fn tarjan_scc<'a>(n: usize, successors: impl Fn(u32) -> &'a [u32]) -> Vec<u32> {
    const UNSEEN: u32 = u32::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![UNSEEN; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut calls: Vec<(u32, u32)> = Vec::new();
    let mut counter = 0u32;
    let mut comps = 0u32;
    for root in 0..n as u32 {
        if index[root as usize] != UNSEEN {
            continue;
        }
        index[root as usize] = counter;
        low[root as usize] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        calls.push((root, 0));
        while let Some(&mut (v, ref mut pos)) = calls.last_mut() {
            let succ = successors(v);
            if (*pos as usize) < succ.len() {
                let w = succ[*pos as usize];
                *pos += 1;
                if index[w as usize] == UNSEEN {
                    index[w as usize] = counter;
                    low[w as usize] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    calls.push((w, 0));
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
            } else {
                calls.pop();
                if let Some(&(u, _)) = calls.last() {
                    low[u as usize] = low[u as usize].min(low[v as usize]);
                }
                if low[v as usize] == index[v as usize] {
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        comp[w as usize] = comps;
                        if w == v {
                            break;
                        }
                    }
                    comps += 1;
                }
            }
        }
    }
    comp
}

/// The nodes of the largest strongly connected component, ascending. Ties go to the
/// component found first, so the result is deterministic.
pub fn largest_scc(graph: &Graph) -> Vec<NodeIdx> {
    let comp = strongly_connected_components(graph);
    let mut sizes: Vec<u32> = Vec::new();
    for &c in &comp {
        if c as usize >= sizes.len() {
            sizes.resize(c as usize + 1, 0);
        }
        sizes[c as usize] += 1;
    }
    let Some(best) = sizes
        .iter()
        .enumerate()
        .max_by_key(|(i, s)| (**s, std::cmp::Reverse(*i)))
        .map(|(i, _)| i as u32)
    else {
        return Vec::new();
    };
    comp.iter()
        .enumerate()
        .filter(|(_, c)| **c == best)
        .map(|(i, _)| NodeIdx(i as u32))
        .collect()
}
