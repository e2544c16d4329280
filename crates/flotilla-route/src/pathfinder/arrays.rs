//! Compact routing arrays: what the search reads, built once per graph.
//!
//! The [`Graph`] keeps channels as rich structs (keys, addresses, optional policies);
//! a search that walked them would miss the cache on every edge. This module packs
//! the only facts the search needs into a reverse CSR of 32-byte [`InEdge`] records,
//! and precomputes two graph facts that let the search skip most of the graph:
//!
//! - **Strongly connected components** of the directed graph of usable edges. Every
//!   node on a path from `s` to `t` lies between them in the condensation, so when `s`
//!   and `t` share a component (the common case: simulators draw both from the largest
//!   one) only edges inside that component can appear on a route. Each node's in-edges
//!   are sorted so that those come first and the search reads a prefix of the list.
//! - **Transit capability**: a node that has no in-neighbour `y` and out-neighbour
//!   `z` with `y != z` (e.g. a node with a single peer) can only be the sender or the
//!   receiver of a simple path, never a forwarder.
//!
//! Within each of those groups a node's edges are sorted by decreasing
//! `min(htlc_maximum_msat, capacity)`, so a scan stops at the first edge too small for
//! the amount (amounts only grow towards the sender). An out-edge CSR with the same
//! layout serves the searches that start at the sender.
//!
//! Nodes are renumbered in breadth-first order from the best-connected node, so that
//! the per-query state of nodes that are close in the graph is close in memory.

use flotilla_graph::{EdgeIdx, Graph, NodeIdx};

/// One usable directed edge `from -> head`, stored in the in-edge list of `head`.
///
/// Only edges with an announced, enabled policy and a non-empty HTLC range
/// (`htlc_minimum_msat <= min(htlc_maximum_msat, capacity)`, capacity above zero) get
/// a record: no amount can ever cross the others.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct InEdge {
    /// `htlc_minimum_msat`.
    pub htlc_min: u64,
    /// `min(htlc_maximum_msat, capacity_msat)`: the most one HTLC can carry.
    pub htlc_max: u64,
    /// The node the edge leaves (internal index).
    pub from: u32,
    /// `fee_base_msat`.
    pub base: u32,
    /// `fee_rate_ppm`.
    pub ppm: u32,
    /// `cltv_expiry_delta`.
    pub cltv: u16,
    /// [`InEdge::TRANSIT`] when `from` can forward.
    pub flags: u16,
}

impl InEdge {
    /// `from` has an in-neighbour and a different out-neighbour.
    pub const TRANSIT: u16 = 1;

    /// BOLT 7 fee for forwarding `amount` over this edge, rounded down; `None` on
    /// overflow.
    #[inline(always)]
    pub fn fee(&self, amount: u64) -> Option<u64> {
        let prop = match amount.checked_mul(self.ppm as u64) {
            Some(p) => p / 1_000_000,
            None => u64::try_from(amount as u128 * self.ppm as u128 / 1_000_000).ok()?,
        };
        prop.checked_add(self.base as u64)
    }
}

/// Offsets of one node's in-edge list: `[start, leaf, inter, end)`.
///
/// - `start..leaf`: from a transit-capable node of the same component;
/// - `leaf..inter`: from a non-transit node of the same component (usable only by the
///   sender);
/// - `inter..end`: from another component.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct Segments {
    pub start: u32,
    pub leaf: u32,
    pub inter: u32,
    pub end: u32,
}

/// A usable edge in the out-list of its tail (for the sender-side search).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct OutEdge {
    /// The most one HTLC can carry over it.
    pub htlc_max: u64,
    /// Internal index of the node it reaches.
    pub head: u32,
    /// The graph's index of the edge (`EdgeIdx.0`).
    pub edge: u32,
    /// `fee_base_msat`.
    pub base: u32,
    /// `fee_rate_ppm`.
    pub ppm: u32,
    /// `cltv_expiry_delta`.
    pub cltv: u16,
    /// [`OutEdge::INTRA`], [`OutEdge::HEAD_TRANSIT`].
    pub flags: u16,
}

impl OutEdge {
    /// Tail and head share a strongly connected component.
    pub const INTRA: u16 = 1;
    /// The head can forward.
    pub const HEAD_TRANSIT: u16 = 2;

    /// BOLT 7 fee for forwarding `amount`, rounded down; `None` on overflow.
    #[inline(always)]
    pub fn fee(&self, amount: u64) -> Option<u64> {
        InEdge {
            htlc_min: 0,
            htlc_max: self.htlc_max,
            from: 0,
            base: self.base,
            ppm: self.ppm,
            cltv: self.cltv,
            flags: 0,
        }
        .fee(amount)
    }
}

/// What identifies the graph the arrays were built from. A [`Graph`] never changes
/// after it is built, so the addresses and lengths of its arrays, plus a small sample
/// of its policies, identify it while it lives.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct GraphKey {
    nodes_ptr: usize,
    nodes_len: usize,
    channels_ptr: usize,
    channels_len: usize,
    sample: u64,
}

impl GraphKey {
    /// The key of `graph` (O(1): 16 sampled channels).
    pub fn of(graph: &Graph) -> Self {
        let channels = graph.channels();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut mix = |x: u64| {
            h ^= x;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        };
        if !channels.is_empty() {
            let step = (channels.len() / 16).max(1);
            for c in channels.iter().step_by(step).take(16) {
                mix(c.capacity_sat);
                mix(c.nodes[0].0 as u64 | (c.nodes[1].0 as u64) << 32);
                for p in &c.policies {
                    match p {
                        None => mix(u64::MAX),
                        Some(p) => {
                            mix(p.fee_base_msat as u64 | (p.fee_rate_ppm as u64) << 32);
                            mix(p.htlc_minimum_msat);
                            mix(p.htlc_maximum_msat);
                            mix(p.cltv_expiry_delta as u64 | (p.disabled as u64) << 16);
                        }
                    }
                }
            }
        }
        GraphKey {
            nodes_ptr: graph.nodes().as_ptr() as usize,
            nodes_len: graph.node_count(),
            channels_ptr: channels.as_ptr() as usize,
            channels_len: channels.len(),
            sample: h,
        }
    }
}

/// The compact, search-ready view of one [`Graph`].
#[derive(Clone, Debug)]
pub(crate) struct RoutingArrays {
    pub key: GraphKey,
    /// Internal index → graph node.
    pub ext_of: Vec<NodeIdx>,
    /// Graph node → internal index.
    pub int_of: Vec<u32>,
    /// Per internal node.
    pub segments: Vec<Segments>,
    /// In-edge records, grouped by head node.
    pub edges: Vec<InEdge>,
    /// The graph's edge index of each record (parallel to `edges`).
    pub edge_idx: Vec<EdgeIdx>,
    /// The node each record points into (internal index; parallel to `edges`).
    pub heads: Vec<u32>,
    /// Component id per internal node. Ids follow the condensation's topological
    /// order: an edge `x -> y` between components has `comp[x] < comp[y]`, so a node
    /// on a path from `s` to `t` has `comp[s] <= comp[x] <= comp[t]`.
    pub comp: Vec<u32>,
    /// Per internal node: total capacity of the channels with a usable edge into it, msat.
    pub inbound_capacity_msat: Vec<u64>,
    /// Per internal node: the largest single HTLC a usable edge into it can carry.
    pub inbound_max_htlc_msat: Vec<u64>,
    /// Per internal node: the largest single HTLC a usable edge out of it can carry.
    pub outbound_max_htlc_msat: Vec<u64>,
    /// Out-adjacency of usable edges, for the sender-side bound:
    /// `out_edges[out_start[x]..out_start[x + 1]]`.
    pub out_start: Vec<u32>,
    /// Per node: where its out-edges to other components begin (those before stay in
    /// its component; each group is sorted by decreasing HTLC maximum).
    pub out_inter: Vec<u32>,
    /// The out-edge records.
    pub out_edges: Vec<OutEdge>,
}

/// A usable edge before packing: `(from, to, record, edge)`, graph indices.
struct Raw {
    from: u32,
    to: u32,
    rec: InEdge,
    edge: EdgeIdx,
    capacity_msat: u64,
}

impl RoutingArrays {
    /// Packs `graph`: O((nodes + channels) log channels), about 15 ms for the mainnet
    /// snapshot.
    pub fn build(graph: &Graph) -> Self {
        let n = graph.node_count();
        let mut raw: Vec<Raw> = Vec::with_capacity(graph.edge_slots());
        for (ci, c) in graph.channels().iter().enumerate() {
            let cap = c.capacity_msat();
            for d in flotilla_graph::Direction::BOTH {
                let Some(p) = c.policy(d) else { continue };
                let max = p.htlc_maximum_msat.min(cap);
                if p.disabled || max == 0 || p.htlc_minimum_msat > max {
                    continue;
                }
                raw.push(Raw {
                    from: c.from_node(d).0,
                    to: c.to_node(d).0,
                    rec: InEdge {
                        htlc_min: p.htlc_minimum_msat,
                        htlc_max: max,
                        from: 0,
                        base: p.fee_base_msat,
                        ppm: p.fee_rate_ppm,
                        cltv: p.cltv_expiry_delta,
                        flags: 0,
                    },
                    edge: flotilla_graph::ChannelIdx(ci as u32).edge(d),
                    capacity_msat: cap,
                });
            }
        }

        // Adjacency in graph indices (both directions) for ordering, SCC and transit.
        let out = Csr::new(n, raw.iter().map(|r| (r.from, r.to)));
        let inc = Csr::new(n, raw.iter().map(|r| (r.to, r.from)));

        let ext_of = bfs_order(n, &out, &inc);
        let mut int_of = vec![0u32; n];
        for (i, e) in ext_of.iter().enumerate() {
            int_of[e.ix()] = i as u32;
        }
        let comp_ext = scc_topological(n, &out);
        let transit: Vec<bool> = (0..n).map(|x| is_transit(&inc, &out, x as u32)).collect();

        // Sort records by (head, segment, from) in internal numbering.
        let seg_of = |r: &Raw| -> u8 {
            if comp_ext[r.from as usize] != comp_ext[r.to as usize] {
                2
            } else if transit[r.from as usize] {
                0
            } else {
                1
            }
        };
        // Within a segment, largest HTLC first: the search stops reading a segment at
        // the first record too small for the amount.
        raw.sort_unstable_by_key(|r| {
            (
                int_of[r.to as usize],
                seg_of(r),
                std::cmp::Reverse(r.rec.htlc_max),
                int_of[r.from as usize],
                r.edge.0,
            )
        });

        let mut segments = vec![Segments::default(); n];
        let mut edges = Vec::with_capacity(raw.len());
        let mut edge_idx = Vec::with_capacity(raw.len());
        let mut heads = Vec::with_capacity(raw.len());
        let mut comp = vec![0u32; n];
        let mut inbound_capacity_msat = vec![0u64; n];
        let mut inbound_max_htlc_msat = vec![0u64; n];
        let mut i = 0;
        for (v, seg) in segments.iter_mut().enumerate() {
            let ext = ext_of[v].ix();
            comp[v] = comp_ext[ext];
            let start = i;
            let mut counts = [0u32; 3];
            while i < raw.len() && int_of[raw[i].to as usize] as usize == v {
                let r = &raw[i];
                counts[seg_of(r) as usize] += 1;
                let mut rec = r.rec;
                rec.from = int_of[r.from as usize];
                if transit[r.from as usize] {
                    rec.flags |= InEdge::TRANSIT;
                }
                inbound_capacity_msat[v] = inbound_capacity_msat[v].saturating_add(r.capacity_msat);
                inbound_max_htlc_msat[v] = inbound_max_htlc_msat[v].max(rec.htlc_max);
                edges.push(rec);
                edge_idx.push(r.edge);
                heads.push(v as u32);
                i += 1;
            }
            // Records arrive sorted by segment.
            let leaf = start as u32 + counts[0];
            let inter = leaf + counts[1];
            let end = i as u32;
            *seg = Segments {
                start: start as u32,
                leaf,
                inter,
                end,
            };
        }
        let mut outbound_max_htlc_msat = vec![0u64; n];
        let mut out_start = vec![0u32; n + 1];
        for r in &edges {
            out_start[r.from as usize + 1] += 1;
        }
        for i in 0..n {
            out_start[i + 1] += out_start[i];
        }
        let mut fill = out_start.clone();
        let mut out_edges = vec![OutEdge::default(); edges.len()];
        for (v, seg) in segments.iter().enumerate() {
            for (pos, r) in edges
                .iter()
                .enumerate()
                .take(seg.end as usize)
                .skip(seg.start as usize)
            {
                let u = r.from as usize;
                let mut flags = 0;
                if comp[u] == comp[v] {
                    flags |= OutEdge::INTRA;
                }
                if transit[ext_of[v].ix()] {
                    flags |= OutEdge::HEAD_TRANSIT;
                }
                out_edges[fill[u] as usize] = OutEdge {
                    htlc_max: r.htlc_max,
                    head: v as u32,
                    edge: edge_idx[pos].0,
                    base: r.base,
                    ppm: r.ppm,
                    cltv: r.cltv,
                    flags,
                };
                fill[u] += 1;
                outbound_max_htlc_msat[u] = outbound_max_htlc_msat[u].max(r.htlc_max);
            }
        }
        // Per node: edges within the component first, largest HTLC first, so that a
        // scan can stop at the first edge too small for the amount.
        let mut out_inter = vec![0u32; n];
        for (x, inter) in out_inter.iter_mut().enumerate() {
            let list = &mut out_edges[out_start[x] as usize..out_start[x + 1] as usize];
            list.sort_unstable_by_key(|o| {
                (
                    o.flags & OutEdge::INTRA == 0,
                    std::cmp::Reverse(o.htlc_max),
                    o.head,
                    o.edge,
                )
            });
            *inter = out_start[x]
                + list
                    .iter()
                    .filter(|o| o.flags & OutEdge::INTRA != 0)
                    .count() as u32;
        }
        RoutingArrays {
            key: GraphKey::of(graph),
            ext_of,
            int_of,
            segments,
            edges,
            edge_idx,
            heads,
            comp,
            inbound_capacity_msat,
            inbound_max_htlc_msat,
            outbound_max_htlc_msat,
            out_start,
            out_inter,
            out_edges,
        }
    }

    /// The out-edges of `x` that can carry `amount`: only those within `x`'s
    /// component when `same_comp` (sender and receiver share one, so every path stays
    /// in it).
    #[inline]
    pub fn out_scan(
        &self,
        x: usize,
        amount: u64,
        same_comp: bool,
    ) -> impl Iterator<Item = &OutEdge> {
        let (start, inter, end) = (
            self.out_start[x] as usize,
            self.out_inter[x] as usize,
            self.out_start[x + 1] as usize,
        );
        let inter_end = if same_comp { inter } else { end };
        let fits = move |o: &&OutEdge| o.htlc_max >= amount;
        self.out_edges[start..inter]
            .iter()
            .take_while(fits)
            .chain(self.out_edges[inter..inter_end].iter().take_while(fits))
    }

    /// [`Self::out_scan`] with each edge's position in `out_edges`.
    #[inline]
    pub fn out_scan_pos(
        &self,
        x: usize,
        amount: u64,
        same_comp: bool,
    ) -> impl Iterator<Item = (usize, &OutEdge)> {
        let (start, inter, end) = (
            self.out_start[x] as usize,
            self.out_inter[x] as usize,
            self.out_start[x + 1] as usize,
        );
        let inter_end = if same_comp { inter } else { end };
        let fits = move |o: &(usize, &OutEdge)| o.1.htlc_max >= amount;
        (start..inter)
            .zip(&self.out_edges[start..inter])
            .take_while(fits)
            .chain(
                (inter..inter_end)
                    .zip(&self.out_edges[inter..inter_end])
                    .take_while(fits),
            )
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.ext_of.len()
    }
}

/// A throwaway CSR of `(key, value)` pairs.
struct Csr {
    start: Vec<u32>,
    items: Vec<u32>,
}

impl Csr {
    fn new(n: usize, pairs: impl Iterator<Item = (u32, u32)> + Clone) -> Self {
        let mut start = vec![0u32; n + 1];
        for (k, _) in pairs.clone() {
            start[k as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut items = vec![0u32; start[n] as usize];
        for (k, v) in pairs {
            items[fill[k as usize] as usize] = v;
            fill[k as usize] += 1;
        }
        Csr { start, items }
    }

    #[inline]
    fn of(&self, k: u32) -> &[u32] {
        &self.items[self.start[k as usize] as usize..self.start[k as usize + 1] as usize]
    }
}

/// Whether `x` has an in-neighbour `y` and an out-neighbour `z != y`.
fn is_transit(inc: &Csr, out: &Csr, x: u32) -> bool {
    let ins = inc.of(x);
    let outs = out.of(x);
    let Some(&y0) = ins.first() else { return false };
    if outs.is_empty() {
        return false;
    }
    if ins.iter().any(|&y| y != y0) {
        return true;
    }
    outs.iter().any(|&z| z != y0)
}

/// Breadth-first order over the undirected view, starting from the node with the most
/// usable edges; unreachable nodes follow, each new component again breadth-first.
fn bfs_order(n: usize, out: &Csr, inc: &Csr) -> Vec<NodeIdx> {
    let degree = |x: usize| out.of(x as u32).len() + inc.of(x as u32).len();
    let mut roots: Vec<u32> = (0..n as u32).collect();
    roots.sort_by_key(|&x| std::cmp::Reverse(degree(x as usize)));
    let mut seen = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut queue = std::collections::VecDeque::new();
    for r in roots {
        if seen[r as usize] {
            continue;
        }
        seen[r as usize] = true;
        queue.push_back(r);
        while let Some(x) = queue.pop_front() {
            order.push(NodeIdx(x));
            for &y in out.of(x).iter().chain(inc.of(x)) {
                if !seen[y as usize] {
                    seen[y as usize] = true;
                    queue.push_back(y);
                }
            }
        }
    }
    order
}

/// Strongly connected components, numbered in topological order of the condensation:
/// for every edge `x -> y`, `comp[x] <= comp[y]`.
fn scc_topological(n: usize, out: &Csr) -> Vec<u32> {
    // Tarjan completes a component only after every component it reaches, so its
    // numbering is reverse topological; flip it.
    let comp = flotilla_graph::stats::tarjan_scc(n, |v| out.of(v));
    let last = comp.iter().copied().max().unwrap_or(0);
    comp.iter().map(|&c| last - c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_matches_bolt7_and_never_overflows() {
        let e = InEdge {
            htlc_min: 0,
            htlc_max: u64::MAX,
            from: 0,
            base: 1000,
            ppm: 1,
            cltv: 40,
            flags: 0,
        };
        assert_eq!(e.fee(999_999), Some(1000));
        assert_eq!(e.fee(1_000_000), Some(1001));
        let big = InEdge { ppm: u32::MAX, ..e };
        assert_eq!(
            big.fee(u64::MAX / 2),
            u64::try_from((u64::MAX / 2) as u128 * u32::MAX as u128 / 1_000_000).ok()
        );
        assert_eq!(big.fee(u64::MAX), None);
    }

    #[test]
    fn scc_numbering_is_topological() {
        // 0 <-> 1 -> 2 <-> 3 -> 4
        let pairs = [(0u32, 1u32), (1, 0), (1, 2), (2, 3), (3, 2), (3, 4)];
        let out = Csr::new(5, pairs.iter().copied());
        let comp = scc_topological(5, &out);
        assert_eq!(comp[0], comp[1]);
        assert_eq!(comp[2], comp[3]);
        assert!(comp[1] < comp[2]);
        assert!(comp[3] < comp[4]);
    }
}
