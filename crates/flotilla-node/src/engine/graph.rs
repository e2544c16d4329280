//! What a live node knows of the network, as the ln engine's `Directory`.
//!
//! Nodes and channels are kept in the order the node learned them — itself first,
//! then each channel's unknown ends as the channel arrives — and the directory is
//! rebuilt from that list whenever it changes. Because the list only grows, every
//! `NodeIdx` and `ChannelIdx` once given keeps its meaning (see
//! `flotilla_ln::node::Node::grow`), and only a policy can change in place. The
//! simulator builds its directory once and never comes here.

use std::collections::HashMap;
use std::sync::Arc;

use bitcoin::secp256k1::PublicKey;
use flotilla_graph::{
    Channel, ChannelIdx, Graph, GraphBuilder, Node, NodeIdx, NodePubkey, Policy, ShortChannelId,
};
use flotilla_ln::node::Directory;

use super::gossip::{ordered, Announcement};

/// Why a channel cannot be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// Its short channel id (derived from the channel id) is another channel's.
    #[error("channel {0}: its short channel id collides with a known channel's")]
    ScidCollision(String),
    /// The announcement disagrees with what is known of the channel.
    #[error("channel {0}: ends or capacity differ from what is known")]
    Conflict(String),
}

/// The short channel id flotilla gives a channel without a chain: the first eight
/// bytes of its channel id with the top bit clear (no real on-chain id has a block
/// height that large), the same at every node.
pub fn scid_of(channel_id: &[u8; 32]) -> ShortChannelId {
    let mut b = [0u8; 8];
    b.copy_from_slice(&channel_id[..8]);
    ShortChannelId(u64::from_be_bytes(b) & 0x7fff_ffff_ffff_ffff)
}

/// One channel as known.
#[derive(Clone, Debug)]
struct Known {
    channel_id: [u8; 32],
    /// Indices of `ordered(...)` ends.
    nodes: [NodeIdx; 2],
    capacity_sat: u64,
    policies: [Option<Policy>; 2],
}

/// See the module documentation.
pub struct LiveGraph {
    nodes: Vec<PublicKey>,
    node_ix: HashMap<PublicKey, NodeIdx>,
    channels: Vec<Known>,
    by_id: HashMap<[u8; 32], ChannelIdx>,
    by_scid: HashMap<u64, ChannelIdx>,
    dir: Arc<Directory>,
}

impl LiveGraph {
    /// The graph of a node that knows only itself.
    pub fn new(me: PublicKey) -> LiveGraph {
        let mut g = LiveGraph {
            nodes: vec![me],
            node_ix: HashMap::from([(me, NodeIdx(0))]),
            channels: Vec::new(),
            by_id: HashMap::new(),
            by_scid: HashMap::new(),
            dir: Arc::new(Directory::new(Arc::new(GraphBuilder::new().build()))),
        };
        g.rebuild();
        g
    }

    /// This node's index (always 0).
    pub fn me(&self) -> NodeIdx {
        NodeIdx(0)
    }

    /// The directory the engine uses.
    pub fn directory(&self) -> &Arc<Directory> {
        &self.dir
    }

    /// A node's index.
    pub fn node_of(&self, key: &PublicKey) -> Option<NodeIdx> {
        self.node_ix.get(key).copied()
    }

    /// A node's key.
    pub fn pubkey(&self, n: NodeIdx) -> Option<PublicKey> {
        self.nodes.get(n.ix()).copied()
    }

    /// A channel's index by channel id.
    pub fn channel_of(&self, channel_id: &[u8; 32]) -> Option<ChannelIdx> {
        self.by_id.get(channel_id).copied()
    }

    /// A channel's id.
    pub fn channel_id(&self, c: ChannelIdx) -> Option<[u8; 32]> {
        self.channels.get(c.ix()).map(|k| k.channel_id)
    }

    /// Whether `c` joins `a` and `b`.
    pub fn is_between(&self, c: ChannelIdx, a: NodeIdx, b: NodeIdx) -> bool {
        self.channels
            .get(c.ix())
            .is_some_and(|k| k.nodes == [a, b] || k.nodes == [b, a])
    }

    /// Who is joined to whom, for routing onion messages.
    pub fn topology(&self) -> crate::transport::onion_route::Topology {
        crate::transport::onion_route::Topology::from_channels(self.channels.iter().filter_map(
            |k| {
                Some((
                    scid_of(&k.channel_id).0,
                    self.pubkey(k.nodes[0])?,
                    self.pubkey(k.nodes[1])?,
                ))
            },
        ))
    }

    /// Number of known channels.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Number of known nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn node_or_insert(&mut self, key: PublicKey) -> NodeIdx {
        if let Some(n) = self.node_ix.get(&key) {
            return *n;
        }
        let n = NodeIdx(self.nodes.len() as u32);
        self.nodes.push(key);
        self.node_ix.insert(key, n);
        n
    }

    fn insert(
        &mut self,
        channel_id: [u8; 32],
        ends: [PublicKey; 2],
        capacity_sat: u64,
    ) -> Result<ChannelIdx, GraphError> {
        let scid = scid_of(&channel_id).0;
        if self.by_scid.contains_key(&scid) {
            return Err(GraphError::ScidCollision(super::hex(&channel_id)));
        }
        let nodes = [self.node_or_insert(ends[0]), self.node_or_insert(ends[1])];
        let c = ChannelIdx(self.channels.len() as u32);
        self.channels.push(Known {
            channel_id,
            nodes,
            capacity_sat,
            policies: [None, None],
        });
        self.by_id.insert(channel_id, c);
        self.by_scid.insert(scid, c);
        Ok(c)
    }

    /// Adds this node's own channel with `peer`, with `policy` in both directions
    /// until the peer announces its own. Idempotent for a known channel.
    pub fn add_own_channel(
        &mut self,
        channel_id: [u8; 32],
        peer: PublicKey,
        capacity_sat: u64,
        policy: Policy,
    ) -> Result<ChannelIdx, GraphError> {
        let me = self.nodes[0];
        let ends = ordered(me, peer);
        let c = match self.by_id.get(&channel_id) {
            Some(&c) => {
                let k = &self.channels[c.ix()];
                if k.capacity_sat != capacity_sat
                    || [self.nodes[k.nodes[0].ix()], self.nodes[k.nodes[1].ix()]] != ends
                {
                    return Err(GraphError::Conflict(super::hex(&channel_id)));
                }
                c
            }
            None => self.insert(channel_id, ends, capacity_sat)?,
        };
        let k = &mut self.channels[c.ix()];
        for p in &mut k.policies {
            if p.is_none() {
                // A stand-in, timestamped 0 so that the peer's own announcement,
                // whenever it was signed, replaces it.
                *p = Some(Policy {
                    last_update: 0,
                    ..policy
                });
            }
        }
        let mine = usize::from(ends[1] == me);
        k.policies[mine] = Some(policy);
        self.rebuild();
        Ok(c)
    }

    /// This node's channel `c`: its id, its two ends in BOLT 7 order, its capacity and
    /// which direction is this node's; `None` when `c` is not this node's.
    pub fn own_channel(&self, c: ChannelIdx) -> Option<([u8; 32], [PublicKey; 2], u64, u8)> {
        let k = self.channels.get(c.ix())?;
        let dir = k.nodes.iter().position(|n| *n == NodeIdx(0))?;
        Some((
            k.channel_id,
            [self.nodes[k.nodes[0].ix()], self.nodes[k.nodes[1].ix()]],
            k.capacity_sat,
            dir as u8,
        ))
    }

    /// The policies of channel `c`: (this node's direction, the peer's) for a channel
    /// of this node, else (node_1's, node_2's).
    pub fn policies(&self, c: ChannelIdx) -> Option<(Option<Policy>, Option<Policy>)> {
        let k = self.channels.get(c.ix())?;
        Some(if k.nodes[1] == NodeIdx(0) {
            (k.policies[1], k.policies[0])
        } else {
            (k.policies[0], k.policies[1])
        })
    }

    /// Replaces this node's policy for its direction of its channel `c`.
    pub fn set_own_policy(&mut self, c: ChannelIdx, policy: Policy) -> bool {
        let Some(k) = self.channels.get_mut(c.ix()) else {
            return false;
        };
        let Some(dir) = k.nodes.iter().position(|n| *n == NodeIdx(0)) else {
            return false;
        };
        k.policies[dir] = Some(policy);
        self.rebuild();
        true
    }

    /// Learns an announcement. `Ok(true)` when it told something new (a channel, or a
    /// newer policy).
    pub fn learn(&mut self, a: &Announcement) -> Result<bool, GraphError> {
        let c = match self.by_id.get(&a.channel_id) {
            Some(&c) => {
                let k = &self.channels[c.ix()];
                if k.capacity_sat != a.capacity_sat
                    || [self.nodes[k.nodes[0].ix()], self.nodes[k.nodes[1].ix()]] != a.nodes
                {
                    return Err(GraphError::Conflict(super::hex(&a.channel_id)));
                }
                c
            }
            // Only the two ends know a channel exists until one announces it; an
            // announcement of a channel of ours we never opened is a lie.
            None if a.nodes.contains(&self.nodes[0]) => return Ok(false),
            None => self.insert(a.channel_id, a.nodes, a.capacity_sat)?,
        };
        let k = &mut self.channels[c.ix()];
        let slot = &mut k.policies[a.direction as usize];
        let newer = match slot {
            Some(p) => {
                p.last_update < a.policy.last_update
                    || (p.last_update == a.policy.last_update && *p != a.policy)
            }
            None => true,
        };
        if !newer {
            return Ok(false);
        }
        *slot = Some(a.policy);
        self.rebuild();
        Ok(true)
    }

    fn rebuild(&mut self) {
        let mut b = GraphBuilder::with_capacity(self.nodes.len(), self.channels.len());
        for k in &self.nodes {
            let pk =
                NodePubkey::from_bytes(k.serialize()).expect("a secp256k1 key is a valid point");
            let _ = b.add_node(Node::bare(pk));
        }
        for k in &self.channels {
            let _ = b.add_channel(Channel {
                scid: scid_of(&k.channel_id),
                nodes: k.nodes,
                capacity_sat: k.capacity_sat,
                policies: k.policies,
                chan_point: None,
                last_update: 0,
            });
        }
        let graph: Graph = b.build();
        debug_assert_eq!(graph.channel_count(), self.channels.len());
        self.dir = Arc::new(Directory::new(Arc::new(graph)).with_onion_pubkeys(self.nodes.clone()));
    }
}
