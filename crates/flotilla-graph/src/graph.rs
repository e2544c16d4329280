//! The [`Graph`]: nodes and channels in flat arrays with CSR adjacency, and the
//! [`GraphBuilder`] every importer and generator goes through.
//!
//! Why CSR: routers walk the incoming edges of a node millions of times per second;
//! one contiguous slice per node keeps that walk in cache. The arrays are built once,
//! after every channel is known, and never change: per-run state (balances, beliefs)
//! lives outside the graph, in `Vec`s indexed by [`EdgeIdx`].

use std::collections::HashMap;

use crate::types::{
    Channel, ChannelIdx, Direction, EdgeIdx, Node, NodeIdx, NodePubkey, Policy, ShortChannelId,
};
use crate::warnings::{Warning, Warnings};

/// The channel graph. Immutable once built; cheap to share between threads.
#[derive(Debug, Clone)]
pub struct Graph {
    nodes: Vec<Node>,
    channels: Vec<Channel>,
    /// `out_start[n]..out_start[n+1]` indexes `out_edges` for node `n`.
    out_start: Vec<u32>,
    out_edges: Vec<EdgeIdx>,
    /// `in_start[n]..in_start[n+1]` indexes `in_edges` for node `n`.
    in_start: Vec<u32>,
    in_edges: Vec<EdgeIdx>,
    by_pubkey: HashMap<NodePubkey, NodeIdx>,
    by_scid: HashMap<ShortChannelId, ChannelIdx>,
    by_alias: HashMap<String, Vec<NodeIdx>>,
    warnings: Warnings,
}

/// Why a node name did not resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// No node has this key or alias.
    #[error("no node with public key or alias {0:?} in the graph")]
    NotFound(String),
    /// Several nodes announce this alias.
    #[error("alias {alias:?} is announced by {count} nodes; use the public key instead (e.g. {example})")]
    Ambiguous {
        /// The alias asked for.
        alias: String,
        /// How many nodes carry it.
        count: usize,
        /// One of their keys.
        example: String,
    },
}

impl Graph {
    /// All nodes, indexed by [`NodeIdx`].
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// All channels, indexed by [`ChannelIdx`].
    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of channels.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Number of directed halves (`2 × channels`); the length of per-edge arrays.
    pub fn edge_slots(&self) -> usize {
        self.channels.len() * 2
    }

    /// One node.
    #[inline]
    pub fn node(&self, n: NodeIdx) -> &Node {
        &self.nodes[n.ix()]
    }

    /// One channel.
    #[inline]
    pub fn channel(&self, c: ChannelIdx) -> &Channel {
        &self.channels[c.ix()]
    }

    /// The policy of a directed edge (`None` if never announced).
    #[inline]
    pub fn policy(&self, e: EdgeIdx) -> Option<&Policy> {
        self.channels[e.channel().ix()].policy(e.direction())
    }

    /// The node a directed edge leaves.
    #[inline]
    pub fn edge_source(&self, e: EdgeIdx) -> NodeIdx {
        self.channels[e.channel().ix()].from_node(e.direction())
    }

    /// The node a directed edge reaches.
    #[inline]
    pub fn edge_target(&self, e: EdgeIdx) -> NodeIdx {
        self.channels[e.channel().ix()].to_node(e.direction())
    }

    /// Directed edges leaving `n` that have a policy (enabled or not).
    #[inline]
    pub fn out_edges(&self, n: NodeIdx) -> &[EdgeIdx] {
        let i = n.ix();
        &self.out_edges[self.out_start[i] as usize..self.out_start[i + 1] as usize]
    }

    /// Directed edges arriving at `n` that have a policy (enabled or not).
    #[inline]
    pub fn in_edges(&self, n: NodeIdx) -> &[EdgeIdx] {
        let i = n.ix();
        &self.in_edges[self.in_start[i] as usize..self.in_start[i + 1] as usize]
    }

    /// Channels of `n` in either direction, with or without policies.
    pub fn channels_of(&self, n: NodeIdx) -> impl Iterator<Item = ChannelIdx> + '_ {
        // A channel with a policy in neither direction sits in no CSR list, so scan
        // both lists and fall back to nothing else: such channels cannot route anyway.
        let mut seen: Vec<ChannelIdx> = self
            .out_edges(n)
            .iter()
            .chain(self.in_edges(n))
            .map(|e| e.channel())
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen.into_iter()
    }

    /// Looks a node up by public key.
    pub fn node_by_pubkey(&self, key: &NodePubkey) -> Option<NodeIdx> {
        self.by_pubkey.get(key).copied()
    }

    /// Looks a channel up by short channel id.
    pub fn channel_by_scid(&self, scid: ShortChannelId) -> Option<ChannelIdx> {
        self.by_scid.get(&scid).copied()
    }

    /// All nodes announcing exactly this alias.
    pub fn nodes_by_alias(&self, alias: &str) -> &[NodeIdx] {
        self.by_alias.get(alias).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Resolves what a user typed: a hex public key, or an alias that exactly one node has.
    pub fn find_node(&self, name: &str) -> Result<NodeIdx, LookupError> {
        if let Ok(key) = NodePubkey::from_hex(name) {
            if let Some(n) = self.node_by_pubkey(&key) {
                return Ok(n);
            }
        }
        match self.nodes_by_alias(name) {
            [] => Err(LookupError::NotFound(name.to_string())),
            [one] => Ok(*one),
            many => Err(LookupError::Ambiguous {
                alias: name.to_string(),
                count: many.len(),
                example: self.node(many[0]).pubkey.to_hex(),
            }),
        }
    }

    /// Records that were odd but usable, counted during import.
    pub fn warnings(&self) -> &Warnings {
        &self.warnings
    }

    /// Total capacity of all channels, sat. The builder keeps it within
    /// [`crate::MAX_SAT`], so the sum cannot overflow; it saturates all the same.
    pub fn total_capacity_sat(&self) -> u64 {
        self.channels
            .iter()
            .fold(0u64, |t, c| t.saturating_add(c.capacity_sat))
    }

    /// Iterates every directed edge that has a policy, with it.
    pub fn policies(&self) -> impl Iterator<Item = (EdgeIdx, &Policy)> + '_ {
        self.channels.iter().enumerate().flat_map(|(i, c)| {
            Direction::BOTH
                .into_iter()
                .filter_map(move |d| c.policy(d).map(|p| (ChannelIdx(i as u32).edge(d), p)))
        })
    }

    /// A copy of this graph in which every policy set by `node` is changed by `f`.
    /// Used for per-node overrides such as a zero-fee hub.
    pub fn with_node_policies(&self, node: NodeIdx, mut f: impl FnMut(&mut Policy)) -> Graph {
        let mut g = self.clone();
        for e in self.out_edges(node) {
            let c = &mut g.channels[e.channel().ix()];
            if let Some(p) = c.policies[e.direction().ix()].as_mut() {
                f(p);
            }
        }
        g
    }
}

/// Why a record cannot enter the graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// A node with this key was added before.
    #[error("duplicate node {0}")]
    DuplicateNode(NodePubkey),
    /// A channel with this id was added before.
    #[error("duplicate channel id {0}")]
    DuplicateChannel(ShortChannelId),
    /// Both ends are the same node.
    #[error("channel from node {0} to itself")]
    SelfLoop(NodePubkey),
    /// The capacity is more bitcoin than exists, alone or with the channels before it.
    #[error("capacity {capacity_sat} sat brings the graph's total to more than the 21,000,000 BTC that will ever exist (at most {max} sat in all channels together)", max = crate::amount::MAX_SAT)]
    CapacityAboveSupply {
        /// The channel's capacity, sat.
        capacity_sat: u64,
    },
}

/// Collects nodes and channels, checks the rules every graph obeys, then packs them.
#[derive(Debug, Default)]
pub struct GraphBuilder {
    nodes: Vec<Node>,
    channels: Vec<Channel>,
    by_pubkey: HashMap<NodePubkey, NodeIdx>,
    by_scid: HashMap<ShortChannelId, ChannelIdx>,
    warnings: Warnings,
    /// Sum of the capacities so far, sat; never above [`crate::MAX_SAT`], so the
    /// total and every balance fit a `u64` in msat.
    total_sat: u64,
}

impl GraphBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty builder with room reserved.
    pub fn with_capacity(nodes: usize, channels: usize) -> Self {
        GraphBuilder {
            nodes: Vec::with_capacity(nodes),
            channels: Vec::with_capacity(channels),
            by_pubkey: HashMap::with_capacity(nodes),
            by_scid: HashMap::with_capacity(channels),
            warnings: Warnings::default(),
            total_sat: 0,
        }
    }

    /// Adds a node; a key seen before is an error.
    pub fn add_node(&mut self, node: Node) -> Result<NodeIdx, BuildError> {
        if self.by_pubkey.contains_key(&node.pubkey) {
            return Err(BuildError::DuplicateNode(node.pubkey));
        }
        let idx = NodeIdx(self.nodes.len() as u32);
        self.by_pubkey.insert(node.pubkey, idx);
        self.nodes.push(node);
        Ok(idx)
    }

    /// The node with this key, adding a bare one if it is new (for sources that name
    /// nodes only inside channels).
    pub fn node_or_insert(&mut self, pubkey: NodePubkey) -> NodeIdx {
        if let Some(&n) = self.by_pubkey.get(&pubkey) {
            return n;
        }
        let idx = NodeIdx(self.nodes.len() as u32);
        self.by_pubkey.insert(pubkey, idx);
        self.nodes.push(Node::bare(pubkey));
        idx
    }

    /// The index of a key added before.
    pub fn node_by_pubkey(&self, key: &NodePubkey) -> Option<NodeIdx> {
        self.by_pubkey.get(key).copied()
    }

    /// Mutable access to a node added before (importers fill in details late).
    pub fn node_mut(&mut self, n: NodeIdx) -> &mut Node {
        &mut self.nodes[n.ix()]
    }

    /// The channel with this id, if added.
    pub fn channel_by_scid(&self, scid: ShortChannelId) -> Option<ChannelIdx> {
        self.by_scid.get(&scid).copied()
    }

    /// Mutable access to a channel added before.
    /// Capacity changes go through [`GraphBuilder::raise_capacity`], which keeps the
    /// total within the bitcoin supply.
    pub fn channel_mut(&mut self, c: ChannelIdx) -> &mut Channel {
        &mut self.channels[c.ix()]
    }

    /// Raises channel `c`'s capacity to `capacity_sat` if that is larger (sources that
    /// list a channel once per direction may disagree), within the bitcoin supply.
    pub fn raise_capacity(&mut self, c: ChannelIdx, capacity_sat: u64) -> Result<(), BuildError> {
        let old = self.channels[c.ix()].capacity_sat;
        if capacity_sat <= old {
            return Ok(());
        }
        let total = (self.total_sat - old)
            .checked_add(capacity_sat)
            .filter(|&t| t <= crate::amount::MAX_SAT)
            .ok_or(BuildError::CapacityAboveSupply { capacity_sat })?;
        self.total_sat = total;
        self.channels[c.ix()].capacity_sat = capacity_sat;
        Ok(())
    }

    /// Adds a channel; checks for duplicates and self-loops and counts odd policies.
    pub fn add_channel(&mut self, channel: Channel) -> Result<ChannelIdx, BuildError> {
        if channel.nodes[0] == channel.nodes[1] {
            return Err(BuildError::SelfLoop(
                self.nodes[channel.nodes[0].ix()].pubkey,
            ));
        }
        if self.by_scid.contains_key(&channel.scid) {
            return Err(BuildError::DuplicateChannel(channel.scid));
        }
        // All channels together cannot hold more than the bitcoin supply: checked here,
        // once, so no sum or sat → msat conversion downstream can wrap.
        let total = self
            .total_sat
            .checked_add(channel.capacity_sat)
            .filter(|&t| t <= crate::amount::MAX_SAT)
            .ok_or(BuildError::CapacityAboveSupply {
                capacity_sat: channel.capacity_sat,
            })?;
        self.total_sat = total;
        let idx = ChannelIdx(self.channels.len() as u32);
        self.by_scid.insert(channel.scid, idx);
        self.channels.push(channel);
        Ok(idx)
    }

    /// Counts a warning for a record that was imported anyway.
    pub fn warn(&mut self, warning: Warning, example: impl FnOnce() -> String) {
        self.warnings.add(warning, example);
    }

    /// Checks policies against their channel, counts what is odd, and packs the arrays.
    pub fn build(mut self) -> Graph {
        for c in &self.channels {
            if c.capacity_sat == 0 {
                self.warnings
                    .add(Warning::ZeroCapacity, || c.scid.to_string());
            }
            for d in Direction::BOTH {
                let Some(p) = c.policy(d) else { continue };
                if p.htlc_maximum_msat > c.capacity_msat() {
                    self.warnings.add(Warning::HtlcMaxAboveCapacity, || {
                        format!("{} dir {}", c.scid, d.ix())
                    });
                }
                if p.htlc_minimum_msat > p.htlc_maximum_msat {
                    self.warnings.add(Warning::HtlcMinAboveMax, || {
                        format!("{} dir {}", c.scid, d.ix())
                    });
                }
            }
        }
        let n = self.nodes.len();
        let mut out_deg = vec![0u32; n + 1];
        let mut in_deg = vec![0u32; n + 1];
        for c in &self.channels {
            for d in Direction::BOTH {
                if c.policy(d).is_some() {
                    out_deg[c.from_node(d).ix()] += 1;
                    in_deg[c.to_node(d).ix()] += 1;
                }
            }
        }
        let (out_start, out_edges) = csr(&self.channels, out_deg, |c, d| c.from_node(d));
        let (in_start, in_edges) = csr(&self.channels, in_deg, |c, d| c.to_node(d));
        let mut by_alias: HashMap<String, Vec<NodeIdx>> = HashMap::new();
        for (i, node) in self.nodes.iter().enumerate() {
            if !node.alias.is_empty() {
                by_alias
                    .entry(node.alias.clone())
                    .or_default()
                    .push(NodeIdx(i as u32));
            }
        }
        Graph {
            nodes: self.nodes,
            channels: self.channels,
            out_start,
            out_edges,
            in_start,
            in_edges,
            by_pubkey: self.by_pubkey,
            by_scid: self.by_scid,
            by_alias,
            warnings: self.warnings,
        }
    }
}

/// Counting sort of the policy-carrying directed edges by `key` node.
fn csr(
    channels: &[Channel],
    mut degree: Vec<u32>,
    key: impl Fn(&Channel, Direction) -> NodeIdx,
) -> (Vec<u32>, Vec<EdgeIdx>) {
    // Exclusive prefix sum turns degrees into start offsets.
    let mut acc = 0u32;
    for d in degree.iter_mut() {
        let here = *d;
        *d = acc;
        acc += here;
    }
    let mut fill = degree.clone();
    let mut edges = vec![EdgeIdx(0); acc as usize];
    for (i, c) in channels.iter().enumerate() {
        for d in Direction::BOTH {
            if c.policy(d).is_some() {
                let k = key(c, d).ix();
                edges[fill[k] as usize] = ChannelIdx(i as u32).edge(d);
                fill[k] += 1;
            }
        }
    }
    (degree, edges)
}
