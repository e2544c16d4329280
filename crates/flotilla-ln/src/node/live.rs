//! What a live driver needs that the simulator does not: one node built alone, and a
//! directory that grows as the node learns channels.
//!
//! The simulator builds its directory once and every node with
//! [`Node::build_all`]. A live node knows only the channels it opened or heard of, so
//! its directory is rebuilt whenever it learns one. The rebuild is **append-only**:
//! nodes and channels keep their indices and new ones come last, so every
//! [`Directory::end_of`] of an existing channel is unchanged and the node's ends stay
//! where they are; [`Node::grow`] re-seats the node on the new directory and adds an
//! end for each new channel of its own. Nothing here runs in a simulation.

use std::sync::Arc;

use flotilla_graph::{ChannelIdx, Direction, NodeIdx};

use crate::channel::EdgeState;
use crate::config::NodeConfig;

use super::{ChannelEnd, ChannelRules, CommitMode, Directory, Node};

/// Why a directory cannot replace a node's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrowError {
    /// The new directory moved or dropped a channel the node has an end of.
    #[error("channel {0} of this node moved or vanished in the new directory")]
    ChannelMoved(u32),
    /// The new directory's node at this node's index is another node.
    #[error("the new directory has fewer nodes than the old one")]
    NodeMissing,
}

impl Node {
    /// Node `id` of `dir` alone, with `config`, in the full commitment mode, with an end
    /// for each of its channels in `dir`; `balances(channel)` gives `(mine, peer's)` msat
    /// and `peer_config` the peer's channel parameters (what `open_channel` /
    /// `accept_channel` told it).
    pub fn new_live(
        dir: Arc<Directory>,
        id: NodeIdx,
        config: NodeConfig,
        balances: impl Fn(ChannelIdx) -> (u64, u64),
        peer_config: &NodeConfig,
    ) -> Result<Node, GrowError> {
        let mut node = Node::empty(id, config, dir.clone(), CommitMode::Full);
        node.grow(dir, balances, peer_config)?;
        Ok(node)
    }

    /// Re-seats the node on `dir`, a directory that extends its current one (same
    /// nodes and channels at the same indices, new ones after them, policies possibly
    /// changed), and adds an end for each new channel of its own, as
    /// [`Node::new_live`] does. On error nothing changed.
    pub fn grow(
        &mut self,
        dir: Arc<Directory>,
        balances: impl Fn(ChannelIdx) -> (u64, u64),
        peer_config: &NodeConfig,
    ) -> Result<(), GrowError> {
        let graph = dir.graph().clone();
        if self.id.ix() >= graph.node_count() {
            return Err(GrowError::NodeMissing);
        }
        for e in &self.ends {
            let ok = e.channel.ix() < graph.channel_count()
                && graph.channel(e.channel).from_node(e.dir) == self.id
                && dir.end_of(e.out_edge()) < self.ends.len()
                && self.ends[dir.end_of(e.out_edge())].channel == e.channel;
            if !ok {
                return Err(GrowError::ChannelMoved(e.channel.0));
            }
        }
        let mut new_ends = Vec::new();
        for ch in graph.channels_of(self.id) {
            let c = graph.channel(ch);
            let d = if c.nodes[0] == self.id {
                Direction::AToB
            } else {
                Direction::BToA
            };
            let at = dir.end_of(ch.edge(d));
            if at < self.ends.len() {
                continue;
            }
            new_ends.push((at, ch, d));
        }
        new_ends.sort_unstable_by_key(|(at, ..)| *at);
        for (i, (at, ..)) in new_ends.iter().enumerate() {
            if *at != self.ends.len() + i {
                return Err(GrowError::ChannelMoved(new_ends[i].1 .0));
            }
        }
        for (_, ch, d) in new_ends {
            let c = graph.channel(ch);
            let cap = c.capacity_msat();
            let (mine, theirs) = balances(ch);
            self.initial_value += mine;
            self.ends.push(ChannelEnd {
                channel: ch,
                dir: d,
                peer: c.to_node(d),
                capacity_msat: cap,
                local: EdgeState {
                    balance_msat: mine,
                    ..Default::default()
                },
                remote: EdgeState {
                    balance_msat: theirs,
                    ..Default::default()
                },
                peer_rules: ChannelRules::of(&peer_config.channel, cap),
                own_params: None,
                dust_limit_msat: self
                    .config
                    .channel
                    .dust_limit_msat()
                    .max(peer_config.channel.dust_limit_msat()),
                peer_online: true,
                next_offer_id: 0,
                accepted_below: 0,
                accepted_ahead: Vec::new(),
                commit: None,
            });
        }
        self.dir = dir;
        Ok(())
    }

    /// Sets the channel parameters of this node's end of `channel` (each side's, as
    /// its open exchange settled them): the node checks the peer's adds against
    /// `own` and keeps its own offers within `peer`'s. Returns whether the node has
    /// an end of `channel`.
    pub fn set_channel_params(
        &mut self,
        channel: ChannelIdx,
        own: &crate::config::ChannelParams,
        peer: &crate::config::ChannelParams,
    ) -> bool {
        let config = &self.config.channel;
        let Some(e) = self.ends.iter_mut().find(|e| e.channel == channel) else {
            return false;
        };
        e.peer_rules = ChannelRules::of(peer, e.capacity_msat);
        e.dust_limit_msat = own.dust_limit_msat().max(peer.dust_limit_msat());
        e.own_params = (own != config).then(|| Box::new(*own));
        true
    }
}
