//! Where onion messages go: LDK's `MessageRouter` and `NodeIdLookUp` over what this
//! node learned from flotilla's own gossip.
//!
//! LDK's `DefaultMessageRouter` reads LDK's `NetworkGraph`, which flotilla's gossip
//! (`channel_announce`, [`crate::engine::gossip`]) never fills, and it only reaches
//! direct peers or nodes that announced an address. [`LiveMessageRouter`] instead
//! takes the shortest path of nodes joined by channels the node knows
//! ([`Topology`], published by the engine whenever its graph grows): the first hop a
//! connected peer that reads onion messages, every later hop a channel's other end.
//! Every flotilla node forwards onion messages (feature bit 39), and nothing else
//! is known of other nodes' features (the gossip carries none), so every known node
//! is taken to forward them.
//!
//! Reply paths ([`LiveMessageRouter::create_blinded_paths`]) are blinded paths to
//! this node whose introduction node is the connected peer with the most known
//! channels, padded with dummy hops to four hops as LDK pads them, so the node that
//! answers learns neither this node's id nor how far it is from the introduction
//! node.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, RwLock};

use bitcoin::secp256k1::{self, PublicKey, Secp256k1};
use lightning::blinded_path::message::{BlindedMessagePath, MessageContext, MessageForwardNode};
use lightning::blinded_path::{IntroductionNode, NodeIdLookUp};
use lightning::onion_message::messenger::{Destination, MessageRouter, OnionMessagePath};
use lightning::sign::{KeysManager, ReceiveAuthKey};

/// Most nodes an onion message crosses before its destination (or the introduction
/// node of a blinded path): far beyond any path a small live network needs, and well
/// within an onion message packet.
pub const MAX_MESSAGE_HOPS: usize = 20;

/// Hops of a reply path, dummy hops included (LDK's own padding for paths with node
/// ids).
pub const REPLY_PATH_HOPS: usize = 4;

/// The channel graph as onion-message routing needs it: who is joined to whom, and
/// which short channel id joins them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Topology {
    /// Each node's channel neighbours, sorted and without repeats.
    neighbours: HashMap<PublicKey, Vec<PublicKey>>,
    /// Each channel's short channel id and its two ends.
    scids: HashMap<u64, [PublicKey; 2]>,
}

impl Topology {
    /// The topology of `channels`: `(short_channel_id, end, end)`.
    pub fn from_channels(channels: impl IntoIterator<Item = (u64, PublicKey, PublicKey)>) -> Self {
        let mut t = Topology::default();
        for (scid, a, b) in channels {
            t.scids.insert(scid, [a, b]);
            t.neighbours.entry(a).or_default().push(b);
            t.neighbours.entry(b).or_default().push(a);
        }
        for n in t.neighbours.values_mut() {
            n.sort_unstable();
            n.dedup();
        }
        t
    }

    /// How many distinct nodes `node` has channels with.
    pub fn degree(&self, node: &PublicKey) -> usize {
        self.neighbours.get(node).map_or(0, Vec::len)
    }

    /// The node at the other end of channel `scid` from `me`, if `me` is one of its ends.
    pub fn counterparty(&self, me: &PublicKey, scid: u64) -> Option<PublicKey> {
        let [a, b] = self.scids.get(&scid)?;
        if a == me {
            Some(*b)
        } else if b == me {
            Some(*a)
        } else {
            None
        }
    }

    /// The nodes between `from` and `to` on a shortest path whose first hop is one of
    /// `peers` (connected now) and whose later hops follow channels: empty when `to`
    /// is `from` or a peer; `None` when no such path of at most [`MAX_MESSAGE_HOPS`]
    /// nodes exists. Ties go to the smaller node ids, so the answer is deterministic.
    pub fn path(
        &self,
        from: &PublicKey,
        peers: &[PublicKey],
        to: &PublicKey,
    ) -> Option<Vec<PublicKey>> {
        if from == to || peers.contains(to) {
            return Some(Vec::new());
        }
        let mut first: Vec<PublicKey> = peers.iter().filter(|p| *p != from).copied().collect();
        first.sort_unstable();
        first.dedup();
        // Breadth first from the peers; `parent` names each reached node's predecessor
        // (`None` for a first hop).
        let mut parent: HashMap<PublicKey, Option<PublicKey>> = HashMap::new();
        let mut queue = VecDeque::new();
        for p in first {
            parent.insert(p, None);
            queue.push_back((p, 1usize));
        }
        let mut seen: HashSet<PublicKey> = parent.keys().copied().collect();
        seen.insert(*from);
        while let Some((n, depth)) = queue.pop_front() {
            let Some(next) = self.neighbours.get(&n) else {
                continue;
            };
            if next.contains(to) {
                let mut path = vec![n];
                let mut cur = n;
                while let Some(Some(p)) = parent.get(&cur) {
                    path.push(*p);
                    cur = *p;
                }
                path.reverse();
                return Some(path);
            }
            if depth >= MAX_MESSAGE_HOPS {
                continue;
            }
            for m in next {
                if seen.insert(*m) {
                    parent.insert(*m, Some(n));
                    queue.push_back((*m, depth + 1));
                }
            }
        }
        None
    }
}

/// The topology the engine publishes and the router reads.
pub type SharedTopology = Arc<RwLock<Topology>>;

fn read(t: &SharedTopology) -> std::sync::RwLockReadGuard<'_, Topology> {
    // A writer only swaps in a new value: a poisoned lock still holds a whole one.
    t.read().unwrap_or_else(|p| p.into_inner())
}

/// Replaces the published topology.
pub fn publish(shared: &SharedTopology, topology: Topology) {
    *shared.write().unwrap_or_else(|p| p.into_inner()) = topology;
}

/// See the module documentation.
pub struct LiveMessageRouter {
    topology: SharedTopology,
    keys: Arc<KeysManager>,
}

impl LiveMessageRouter {
    /// A router over `topology`; `keys` draws the blinding secrets of reply paths.
    pub fn new(topology: SharedTopology, keys: Arc<KeysManager>) -> Self {
        LiveMessageRouter { topology, keys }
    }
}

impl MessageRouter for LiveMessageRouter {
    fn find_path(
        &self,
        sender: PublicKey,
        peers: Vec<PublicKey>,
        destination: Destination,
    ) -> Result<OnionMessagePath, ()> {
        let topology = read(&self.topology);
        let first = match &destination {
            Destination::Node(n) => *n,
            Destination::BlindedPath(p) => match p.introduction_node() {
                IntroductionNode::NodeId(n) => *n,
                // A compact introduction node names a channel. LDK resolves it only
                // from its own `NetworkGraph`, which is empty here, and flotilla never
                // makes such paths: no route.
                IntroductionNode::DirectedShortChannelId(..) => return Err(()),
            },
        };
        let intermediate_nodes = topology.path(&sender, &peers, &first).ok_or(())?;
        Ok(OnionMessagePath {
            intermediate_nodes,
            destination,
            first_node_addresses: Vec::new(),
        })
    }

    fn create_blinded_paths<T: secp256k1::Signing + secp256k1::Verification>(
        &self,
        recipient: PublicKey,
        local_node_receive_key: ReceiveAuthKey,
        context: MessageContext,
        peers: Vec<MessageForwardNode>,
        secp_ctx: &Secp256k1<T>,
    ) -> Result<Vec<BlindedMessagePath>, ()> {
        let intro = {
            let topology = read(&self.topology);
            peers
                .iter()
                .filter(|p| p.node_id != recipient)
                .max_by(|a, b| {
                    topology
                        .degree(&a.node_id)
                        .cmp(&topology.degree(&b.node_id))
                        // Equal degrees: the smaller id, deterministically.
                        .then(b.node_id.cmp(&a.node_id))
                })
                .map(|p| MessageForwardNode {
                    node_id: p.node_id,
                    // Node ids, not channel ids: our short channel ids exist only
                    // among flotilla nodes.
                    short_channel_id: None,
                })
        };
        let hops: Vec<MessageForwardNode> = intro.into_iter().collect();
        // Without a peer the path starts at this node: it hides nothing, but the
        // answer still finds its way.
        let dummies = REPLY_PATH_HOPS.saturating_sub(hops.len() + 1);
        Ok(vec![BlindedMessagePath::new_with_dummy_hops(
            &hops,
            recipient,
            dummies,
            local_node_receive_key,
            context,
            &*self.keys,
            secp_ctx,
        )])
    }
}

/// LDK's `NodeIdLookUp` over the same topology: the peer at the other end of one of
/// this node's channels, for blinded paths that name the next hop by channel.
pub struct ChannelLookUp {
    me: PublicKey,
    topology: SharedTopology,
}

impl ChannelLookUp {
    /// The lookup of node `me`.
    pub fn new(me: PublicKey, topology: SharedTopology) -> Self {
        ChannelLookUp { me, topology }
    }
}

impl NodeIdLookUp for ChannelLookUp {
    fn next_node_id(&self, short_channel_id: u64) -> Option<PublicKey> {
        read(&self.topology).counterparty(&self.me, short_channel_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u8) -> PublicKey {
        let secp = Secp256k1::new();
        let sk = bitcoin::secp256k1::SecretKey::from_slice(&[i; 32]).unwrap();
        PublicKey::from_secret_key(&secp, &sk)
    }

    #[test]
    fn shortest_path_by_channels_from_a_connected_peer() {
        let [s, a, b, c, d, r] = [1, 2, 3, 4, 5, 6].map(key);
        // s–a–b–r and s–c–d–b: the line through a is shorter.
        let t = Topology::from_channels([
            (1, s, a),
            (2, a, b),
            (3, b, r),
            (4, s, c),
            (5, c, d),
            (6, d, b),
        ]);
        assert_eq!(t.path(&s, &[a, c], &r), Some(vec![a, b]));
        // Only c is connected now: the path must start there.
        assert_eq!(t.path(&s, &[c], &r), Some(vec![c, d, b]));
        // A connected destination, or ourselves, needs no hop.
        assert_eq!(t.path(&s, &[a, r], &r), Some(vec![]));
        assert_eq!(t.path(&s, &[], &s), Some(vec![]));
        // No connected peer, or an unknown destination: no path.
        assert_eq!(t.path(&s, &[], &r), None);
        assert_eq!(t.path(&s, &[a], &key(9)), None);
        // A peer without any channel still carries a message to its own peers only
        // through channels: here it reaches nothing.
        assert_eq!(t.path(&s, &[key(8)], &r), None);
        assert_eq!(t.degree(&b), 3);
        assert_eq!(t.counterparty(&b, 3), Some(r));
        assert_eq!(t.counterparty(&s, 3), None);
    }

    #[test]
    fn ties_break_on_node_ids_and_long_lines_are_cut() {
        let [s, x, y, r] = [1, 2, 3, 4].map(key);
        let t = Topology::from_channels([(1, s, x), (2, s, y), (3, x, r), (4, y, r)]);
        let lo = x.min(y);
        assert_eq!(t.path(&s, &[y, x], &r), Some(vec![lo]));
        // A line of MAX_MESSAGE_HOPS + 2 nodes beyond s is too long.
        let line: Vec<PublicKey> = (10..10 + MAX_MESSAGE_HOPS as u8 + 2).map(key).collect();
        let chans = line
            .windows(2)
            .enumerate()
            .map(|(i, w)| (i as u64 + 100, w[0], w[1]));
        let t = Topology::from_channels(chans);
        let last = *line.last().unwrap();
        assert_eq!(t.path(&s, &[line[0]], &last), None);
        let near = line[MAX_MESSAGE_HOPS];
        assert_eq!(
            t.path(&s, &[line[0]], &near).map(|p| p.len()),
            Some(MAX_MESSAGE_HOPS)
        );
    }
}
