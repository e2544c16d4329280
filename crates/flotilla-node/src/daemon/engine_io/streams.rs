//! The peer streams' re-establishment: a new connection greeted with our position
//! and what we know of the network, the peer's unconsumed messages re-sent from the
//! outbox once it names its position, and the periodic acknowledgements.

use std::sync::Arc;

use bitcoin::secp256k1::PublicKey;
use flotilla_ln::wire;

use crate::daemon::{lock, Shared};
use crate::engine::Input;
use crate::transport::setup::SetupMessage;

impl Shared {
    /// A connection completed: ask the peer to resume our stream from where we are,
    /// and tell it what we know of the network. Called by the task that reads the
    /// peers, after it applied every message of the old connection; the position we
    /// announce lets the peer drop what we consumed, so it waits until all of that
    /// is durable (and the peer re-sends nothing we already applied).
    pub(in crate::daemon) fn peer_connected(self: &Arc<Self>, peer: PublicKey) {
        if let Err(e) = self.durable.mark.wait_blocking(self.durable.mark.applied()) {
            tracing::error!(peer = %peer, "not re-establishing: {e}");
            return;
        }
        let in_next = self
            .store
            .streams()
            .ok()
            .and_then(|s| s.get(&peer.to_string()).map(|s| s.in_next))
            .unwrap_or(0);
        let mut rel = lock(&self.durable.release);
        self.transport
            .send_setup(peer, SetupMessage::Reestablish { next_seq: in_next });
        rel.greeted.insert(peer);
        for a in rel.announcements.values() {
            self.transport
                .send_setup(peer, SetupMessage::Announce(a.clone()));
        }
        for a in rel.node_announcements.values() {
            self.transport
                .send_setup(peer, SetupMessage::NodeAnnounce(a.clone()));
        }
    }

    /// The connection went away: new messages wait in the outbox.
    pub(in crate::daemon) fn peer_disconnected(self: &Arc<Self>, peer: PublicKey) {
        {
            let mut rel = lock(&self.durable.release);
            rel.ready.remove(&peer);
            rel.greeted.remove(&peer);
        }
        if lock(&self.engine).engine.graph().node_of(&peer).is_some() {
            let _ = self.feed(
                Input::PeerOnline {
                    peer,
                    online: false,
                },
                None,
            );
        }
    }

    /// The peer consumed our messages below `next_seq`: re-send the rest in order,
    /// then send new ones as they come. Under the release lock, so every batch is
    /// either committed and released before (its messages are in the outbox read
    /// here) or released after (when the peer is ready): none is sent twice or lost.
    pub(in crate::daemon) fn reestablished(self: &Arc<Self>, peer: PublicKey, next_seq: u64) {
        {
            let mut rel = lock(&self.durable.release);
            let rest = match self.store.outbox_from(&peer.to_string(), next_seq) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!("store: {e}");
                    return;
                }
            };
            if rel.ready.contains(&peer) {
                // On a connection already re-established: an acknowledgement, which
                // only lets the outbox drop what the peer consumed.
                return;
            }
            if let Some((first, _)) = rest.first() {
                if *first != next_seq {
                    // The peer asks for a message we never had: its log and ours
                    // disagree. Nothing can be re-sent safely.
                    tracing::error!(peer = %peer, asked = next_seq, have = first, "stream gap; not re-established");
                    self.transport.warn(
                        peer,
                        format!("channel_reestablish: message {next_seq} is not ours to re-send"),
                    );
                    return;
                }
            }
            if !rest.is_empty() {
                tracing::info!(peer = %peer, from = next_seq, count = rest.len(), "re-sending unconsumed messages");
            }
            for (_, bytes) in rest {
                match wire::decode(&bytes) {
                    Ok(m) => self.transport.send(peer, m),
                    Err(e) => tracing::error!("outbox: {e}"),
                }
            }
            rel.ready.insert(peer);
        }
        if lock(&self.engine).engine.graph().node_of(&peer).is_some() {
            let _ = self.feed(Input::PeerOnline { peer, online: true }, None);
        }
    }

    /// Tells every greeted peer how far we consumed its stream (as far as it is
    /// durable), so it can drop what it keeps for re-sending. Called by the task that
    /// reads the peers, after it has handled every queued event and message (an
    /// acknowledgement must not overtake the `channel_reestablish` of a new
    /// connection).
    pub(in crate::daemon) fn acknowledge_streams(self: &Arc<Self>) {
        let Ok(streams) = self.store.streams() else {
            return;
        };
        let rel = lock(&self.durable.release);
        for p in &rel.greeted {
            if let Some(s) = streams.get(&p.to_string()) {
                self.transport.send_setup(
                    *p,
                    SetupMessage::Reestablish {
                        next_seq: s.in_next,
                    },
                );
            }
        }
    }
}
