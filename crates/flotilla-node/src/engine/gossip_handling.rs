//! The engine's gossip handling: this node's channel and node announcements signed
//! and flooded, and peers' announcements verified, learned and passed on (a bad one
//! earns its sender a warning). The messages themselves are [`super::gossip`] and
//! [`super::node_gossip`].

use bitcoin::secp256k1::PublicKey;
use flotilla_graph::{ChannelIdx, Policy};
use flotilla_ln::clock::Clock;

use super::gossip::Announcement;
use super::{node_gossip, Effect, Engine};

/// Warns the peer a bad gossip message came from (BOLT 1 `warning`); a message of our
/// own making (`from` is `None`) has nobody to warn.
fn warn_sender(from: Option<PublicKey>, text: String, fx: &mut Vec<Effect>) {
    if let Some(to) = from {
        fx.push(Effect::Warn { to, text });
    }
}

impl Engine {
    /// This node announces itself: signed with a timestamp newer than its last one.
    pub(super) fn self_announce(
        &mut self,
        alias: &str,
        features: &[u8],
        clock: &Clock,
        fx: &mut Vec<Effect>,
    ) {
        let last = self.announced.get(&self.me).map_or(0, |(a, _)| a.timestamp);
        let now_secs = (clock.now.0 / 1_000_000) as u32;
        let a = node_gossip::NodeAnnouncement {
            node: self.me,
            timestamp: now_secs.max(last.saturating_add(1)),
            alias: alias.to_string(),
            features: features.to_vec(),
        };
        let bytes = a.sign(&self.secret);
        // Read back as any node reads it, so what we keep is what others keep (an
        // alias cut to 32 bytes).
        let Ok(a) = node_gossip::NodeAnnouncement::verify(&bytes) else {
            tracing::error!("engine: our own node announcement does not verify");
            return;
        };
        self.announced.insert(self.me, (a, bytes.clone()));
        fx.push(Effect::NodeGossip {
            except: None,
            node: self.me,
            bytes,
        });
    }

    /// Our announcement of ourselves: (alias, features), if we made one.
    pub fn self_announced(&self) -> Option<(&str, &[u8])> {
        self.announced
            .get(&self.me)
            .map(|(a, _)| (a.alias.as_str(), a.features.as_slice()))
    }

    /// The newest announcement of a node, if any.
    pub fn node_announcement(&self, node: &PublicKey) -> Option<&node_gossip::NodeAnnouncement> {
        self.announced.get(node).map(|(a, _)| a)
    }

    pub(super) fn node_announce(
        &mut self,
        from: Option<PublicKey>,
        bytes: &[u8],
        fx: &mut Vec<Effect>,
    ) {
        let a = match node_gossip::NodeAnnouncement::verify(bytes) {
            Ok(a) => a,
            Err(e) => {
                warn_sender(from, e.to_string(), fx);
                return;
            }
        };
        // Only for a node we know a channel of, and only when newer; our own comes
        // from us alone.
        if a.node == self.me || self.graph.node_of(&a.node).is_none() {
            return;
        }
        if self
            .announced
            .get(&a.node)
            .is_some_and(|(old, _)| old.timestamp >= a.timestamp)
        {
            return;
        }
        let node = a.node;
        self.announced.insert(node, (a, bytes.to_vec()));
        fx.push(Effect::NodeGossip {
            except: from,
            node,
            bytes: bytes.to_vec(),
        });
    }

    /// Signs and floods this node's announcement of its direction of channel `ch`.
    pub(super) fn announce_own(&self, ch: ChannelIdx, policy: Policy, fx: &mut Vec<Effect>) {
        let Some((channel_id, nodes, capacity_sat, direction)) = self.graph.own_channel(ch) else {
            return;
        };
        let ann = Announcement {
            channel_id,
            nodes,
            capacity_sat,
            direction,
            policy,
        };
        fx.push(Effect::Gossip {
            except: None,
            bytes: ann.sign(&self.secret),
        });
    }

    pub(super) fn announce(
        &mut self,
        from: Option<PublicKey>,
        bytes: &[u8; crate::transport::setup::ANNOUNCE_LEN],
        fx: &mut Vec<Effect>,
    ) {
        let ann = match Announcement::verify(bytes) {
            Ok(a) => a,
            Err(e) => {
                warn_sender(from, e.to_string(), fx);
                return;
            }
        };
        match self.graph.learn(&ann) {
            Ok(true) => {
                if self.reseat().is_err() {
                    tracing::error!("engine: the directory could not grow");
                }
                fx.push(Effect::Gossip {
                    except: from,
                    bytes: Box::new(*bytes),
                });
            }
            Ok(false) => {}
            Err(e) => {
                warn_sender(from, format!("channel_announce: {e}"), fx);
            }
        }
    }
}
