//! The books must balance, in every node and between the two ends of every channel.

use flotilla_graph::{ChannelIdx, Direction};

use crate::msg::HtlcRef;
use crate::node::NodeInvariantError;

use super::Network;

/// Something that should never be: found by [`Network::check_invariants`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvariantError {
    /// One node's own books are wrong.
    #[error(transparent)]
    Node(#[from] NodeInvariantError),
    /// A node holds an HTLC its peer never offered, or the two copies differ.
    #[error(
        "channel {channel}: node {holder} holds HTLC {htlc:?} that its offerer {offerer} {why}"
    )]
    Unmatched {
        /// The channel.
        channel: u32,
        /// The node holding the accepted copy.
        holder: u32,
        /// The peer that should have offered it.
        offerer: u32,
        /// The HTLC.
        htlc: HtlcRef,
        /// What is wrong.
        why: &'static str,
    },
    /// The two ends of a channel disagree on a side beyond what is in flight.
    #[error("channel {channel}, side of node {owner}: owner says {owner_view:?}, peer says {peer_view:?}, in flight {in_flight:?} (balance, pending msat, pending count)")]
    Disagree {
        /// The channel.
        channel: u32,
        /// The node whose side it is.
        owner: u32,
        /// (balance, pending, count) in the owner's view.
        owner_view: (u64, u64, u32),
        /// The same in the peer's view.
        peer_view: (u64, u64, u32),
        /// Adds the owner sent that the peer has not seen: (msat, count).
        in_flight: (u64, u32),
    },
}

impl Network {
    /// Checks every invariant of the whole network, in O(channels + HTLCs):
    /// - every node's own books ([`crate::node::Node::check`]): each channel end adds up
    ///   to its capacity, pending sums and counts match the live HTLCs, every HTLC it
    ///   offered was resolved at most once and still has its origin, its value is its
    ///   start plus what it was paid minus what it paid, and no receiver settled more
    ///   than A of a redundant payment;
    /// - the two ends of every channel agree: every HTLC a node accepted is one its peer
    ///   offered, with the same amount, hash, lock and expiry; and each side's balance,
    ///   pending sum and count in its owner's view equal the peer's view less the adds
    ///   still on their way (which the owner has locked and the peer not yet seen).
    ///
    /// Since value only moves through these books, together they say value is conserved.
    /// In the full commitment mode the second check skips channels whose exchange is
    /// under way (the ends legitimately differ until it completes).
    pub fn check_invariants(&self) -> Result<(), InvariantError> {
        for n in &self.nodes {
            n.check()?;
        }
        let g = self.dir.graph();
        // Adds in flight per directed edge: offered records the peer has no copy of.
        let mut in_flight = vec![(0u64, 0u32); g.edge_slots()];
        for n in &self.nodes {
            for (_, h) in n.htlcs() {
                let peer = g.edge_target(h.edge);
                let peer_node = &self.nodes[peer.ix()];
                if h.is_offered() {
                    if peer_node.htlc_by_wire(h.wire, false).is_none() {
                        let f = &mut in_flight[h.edge.ix()];
                        f.0 += h.amount_msat;
                        f.1 += 1;
                    }
                    continue;
                }
                let offerer = g.edge_source(h.edge);
                if !n.ends()[h.end as usize].commit_idle() {
                    continue;
                }
                let unmatched = |why| InvariantError::Unmatched {
                    channel: h.wire.channel.0,
                    holder: n.id().0,
                    offerer: offerer.0,
                    htlc: h.wire,
                    why,
                };
                let o = &self.nodes[offerer.ix()];
                let Some(oid) = o.htlc_by_wire(h.wire, true) else {
                    return Err(unmatched("does not hold"));
                };
                let oh = o.htlc(oid).expect("indexed records are live");
                if (
                    oh.amount_msat,
                    oh.payment_hash,
                    oh.lock,
                    oh.cltv_expiry,
                    oh.edge,
                ) != (h.amount_msat, h.payment_hash, h.lock, h.cltv_expiry, h.edge)
                {
                    return Err(unmatched("holds with other terms"));
                }
            }
        }
        for (i, c) in g.channels().iter().enumerate() {
            let ch = ChannelIdx(i as u32);
            for d in Direction::BOTH {
                let e = ch.edge(d);
                let owner = &self.nodes[c.from_node(d).ix()];
                let peer = &self.nodes[c.to_node(d).ix()];
                let (own_end, peer_end) = (
                    &owner.ends()[self.dir.end_of(e)],
                    &peer.ends()[self.dir.end_of(e.reverse())],
                );
                // A commitment exchange under way (full mode): the ends may see it
                // differently until it completes.
                if !own_end.commit_idle() || !peer_end.commit_idle() {
                    continue;
                }
                let (mine, seen) = (&own_end.local, &peer_end.remote);
                let f = in_flight[e.ix()];
                let ok = mine.balance_msat + f.0 == seen.balance_msat
                    && mine.pending_msat == seen.pending_msat + f.0
                    && mine.pending_count == seen.pending_count + f.1;
                if !ok {
                    return Err(InvariantError::Disagree {
                        channel: ch.0,
                        owner: c.from_node(d).0,
                        owner_view: (mine.balance_msat, mine.pending_msat, mine.pending_count),
                        peer_view: (seen.balance_msat, seen.pending_msat, seen.pending_count),
                        in_flight: f,
                    });
                }
            }
        }
        Ok(())
    }
}
