//! The commitment exchange: when an update takes effect.
//!
//! **Collapsed** (the default): an update takes effect in one message. An add locks the
//! offerer's value when it is sent and is acted on by the peer when it arrives; a
//! fulfil or fail takes effect at both ends when it is delivered (the driver tells the
//! sending end with [`Node::removal_delivered`]). A hop costs one message latency.
//!
//! **Full**: updates are locked in by `commitment_signed` / `revoke_and_ack`, batched as
//! real nodes batch them, so a hop costs what it costs on mainnet:
//!
//! ```text
//! X: update_*, commitment_signed ──►  Y        (½ round trip)
//! X  ◄── revoke_and_ack, commitment_signed: Y  (1 round trip)
//! X: revoke_and_ack ──────────────►  Y        (1½ round trips: Y acts)
//! ```
//!
//! - A node signs every update it has sent so far in one `commitment_signed`, and sends
//!   no new one while it awaits the `revoke_and_ack` for the last: updates made in the
//!   meantime ride in the next batch.
//! - The peer acts on an add, fail or malformed fail only once it is irrevocably
//!   committed: when the `revoke_and_ack` for its own `commitment_signed` covering the
//!   update arrives. Only then does an add count in its books and get forwarded, and a
//!   fail travel further upstream (BOLT 2 forbids relaying a failure earlier).
//! - A fulfil is acted on when it arrives, as implementations do: the preimage is
//!   enough to claim upstream at once, and the offerer's books move then. The fulfilling
//!   node's own books follow when the peer's `revoke_and_ack` acknowledges the
//!   commitment that holds its fulfil (and a fail's likewise).
//!
//! Messages between two peers must arrive in the order they were sent (the transport
//! is a TCP stream); the driver keeps that order. Signatures are not modelled.
//!
//! While an exchange is under way the two ends of a channel legitimately see it
//! differently; [`crate::network::Network::check_invariants`] compares them only on
//! channels whose exchange is idle, and every node's own books always.

use std::collections::VecDeque;

use flotilla_graph::{ChannelIdx, NodeIdx};

use crate::clock::Clock;
use crate::msg::{HtlcRef, Msg, UpdateAddHtlc};
use crate::output::Output;

use super::{Node, PeerError};

/// An update this node sent, for the full mode's book-keeping.
#[derive(Copy, Clone, Debug)]
pub(super) enum SentUpdate {
    /// `update_add_htlc` with this id.
    Add(u64),
    /// A fulfil (`true`) or fail of this HTLC.
    Removal(HtlcRef, bool),
}

/// How updates are locked in (see the module documentation).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum CommitMode {
    /// One message per update.
    #[default]
    Collapsed,
    /// `commitment_signed` / `revoke_and_ack`, batched.
    Full,
}

/// One channel end's side of the full exchange. Updates are numbered per direction in
/// the order they were sent (the transport keeps that order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitState {
    /// Updates this node sent.
    sent: u64,
    /// Of those, covered by its last `commitment_signed`.
    signed: u64,
    /// Of those, acknowledged by the peer's `revoke_and_ack`.
    acked: u64,
    /// Waiting for the peer's `revoke_and_ack`.
    awaiting_raa: bool,
    /// The peer's updates covered by this node's outstanding `commitment_signed`.
    countersigned_in_flight: u64,
    /// Peer updates received.
    received: u64,
    /// Of those, covered by the peer's last `commitment_signed`.
    peer_signed: u64,
    /// Of those, covered by a `commitment_signed` of this node.
    countersigned: u64,
    /// Peer updates received and not yet acted on, with their number.
    inbox: VecDeque<(u64, Msg)>,
    /// This node's removals whose books wait for the peer's acknowledgement: (number,
    /// HTLC, fulfilled).
    removals: VecDeque<(u64, HtlcRef, bool)>,
    /// This node's adds the peer has not yet acknowledged: (number, HTLC id). The peer
    /// cannot have acted on them, so a fulfil or fail naming one is a protocol error.
    uncommitted_adds: VecDeque<(u64, u64)>,
    /// The id the peer's next `update_add_htlc` must carry (BOLT 2: from 0, up by one;
    /// the transport keeps order, so anything else is a broken or hostile peer). Checked
    /// when the add arrives, because a committed update that breaks a rule can only be
    /// ignored.
    next_peer_add_id: u64,
}

impl CommitState {
    /// No update of either side is under way.
    pub fn is_idle(&self) -> bool {
        !self.awaiting_raa
            && self.sent == self.signed
            && self.received == self.peer_signed
            && self.peer_signed == self.countersigned
            && self.inbox.is_empty()
            && self.removals.is_empty()
            && self.uncommitted_adds.is_empty()
    }

    fn owes_signature(&self) -> bool {
        self.sent > self.signed || self.peer_signed > self.countersigned
    }
}

impl Node {
    /// Sets how updates are locked in. Both ends of a channel must use the same mode;
    /// switch only while nothing is in flight.
    pub fn set_commit_mode(&mut self, mode: CommitMode) {
        self.commit_mode = mode;
    }

    /// How this node locks updates in.
    pub fn commit_mode(&self) -> CommitMode {
        self.commit_mode
    }

    /// Notes that this node sent an update over end `end` (a removal of `removal` if it
    /// is a fulfil or fail): full mode signs it at the end of the step.
    pub(super) fn note_update(&mut self, end: usize, update: SentUpdate) {
        if self.commit_mode != CommitMode::Full {
            return;
        }
        let c = self.ends[end].commit_mut();
        c.sent += 1;
        match update {
            SentUpdate::Add(id) => c.uncommitted_adds.push_back((c.sent, id)),
            SentUpdate::Removal(h, fulfilled) => c.removals.push_back((c.sent, h, fulfilled)),
        }
        self.dirty.push(end as u32);
    }

    /// Signs what each end touched in this step owes (full mode): one
    /// `commitment_signed` per end that is not awaiting a `revoke_and_ack`.
    pub(super) fn flush_commitments(&mut self, out: &mut Vec<Output>) {
        while let Some(end) = self.dirty.pop() {
            let e = &mut self.ends[end as usize];
            let c = e.commit_mut();
            if c.awaiting_raa || !c.owes_signature() {
                continue;
            }
            c.signed = c.sent;
            c.countersigned_in_flight = c.peer_signed;
            c.countersigned = c.peer_signed;
            c.awaiting_raa = true;
            out.push(Output::Message {
                from: self.id,
                to: e.peer,
                msg: Msg::CommitmentSigned { channel: e.channel },
            });
        }
    }

    /// Full mode: an update from `from` is queued until it is irrevocably committed; a
    /// fulfil is acted on at once (its preimage claims upstream). An add must carry the
    /// next id.
    pub(super) fn on_update_full(
        &mut self,
        from: NodeIdx,
        msg: Msg,
        out: &mut Vec<Output>,
    ) -> Result<(), PeerError> {
        let channel = msg.channel().expect("an HTLC update");
        let end = self.commit_end(channel, from, msg.name())?;
        if msg.is_removal() {
            let id = msg.htlc().expect("an HTLC update").id;
            let c = self.ends[end].commit_mut();
            if c.uncommitted_adds.iter().any(|(_, a)| *a == id) {
                return Err(PeerError::NotCommitted {
                    msg: msg.name(),
                    htlc: msg.htlc().expect("an HTLC update"),
                });
            }
        }
        if let Msg::AddHtlc(add) = &msg {
            let c = self.ends[end].commit_mut();
            if add.htlc.id != c.next_peer_add_id {
                return Err(PeerError::AddOutOfOrder {
                    htlc: add.htlc,
                    expected: c.next_peer_add_id,
                });
            }
            self.check_add_on_arrival(end, add)?;
            self.ends[end].commit_mut().next_peer_add_id += 1;
        }
        if let Msg::FulfillHtlc(m) = msg {
            self.on_fulfill(from, m, out)?;
            let c = self.ends[end].commit_mut();
            c.received += 1;
            return Ok(());
        }
        let c = self.ends[end].commit_mut();
        c.received += 1;
        let n = c.received;
        c.inbox.push_back((n, msg));
        Ok(())
    }

    /// Full mode: checks a peer's add against this node's limits when it arrives, as
    /// BOLT 2 asks (a committed update that broke them could only be ignored). The
    /// peer's side is taken as it will be when the add is committed, at its richest:
    /// every add still waiting in the inbox applied, and every removal this node has
    /// sent of the peer's HTLCs applied although the peer has not acknowledged it yet
    /// (those are all acknowledged before this add can be committed, since this node
    /// signs everything it sent before countersigning the add). An honest peer's own
    /// view of its side is never richer than that (it acts on this node's removals only
    /// after they are sent), so only a broken or hostile peer is refused, and the check
    /// at commitment ([`Node::on_add`]) then never refuses for a limit.
    fn check_add_on_arrival(&self, end: usize, add: &UpdateAddHtlc) -> Result<(), PeerError> {
        let e = &self.ends[end];
        let mut side = e.remote;
        if let Some(c) = e.commit.as_deref() {
            for (_, h, fulfilled) in &c.removals {
                let Some(amount) = self
                    .htlc_by_wire(*h, false)
                    .and_then(|id| self.htlcs.get(id))
                    .map(|h| h.amount_msat)
                else {
                    continue;
                };
                side.pending_msat = side.pending_msat.saturating_sub(amount);
                side.pending_count = side.pending_count.saturating_sub(1);
                if !fulfilled {
                    side.balance_msat += amount;
                }
            }
            for (_, m) in &c.inbox {
                if let Msg::AddHtlc(a) = m {
                    side.balance_msat = side.balance_msat.saturating_sub(a.amount_msat);
                    side.pending_msat += a.amount_msat;
                    side.pending_count += 1;
                }
            }
        }
        let mine = e.own_params.as_deref().unwrap_or(&self.config.channel);
        e.check_accept_from(&side, add.amount_msat, mine)
            .map_err(|error| PeerError::AddRefused {
                htlc: add.htlc,
                error,
            })
    }

    /// `commitment_signed` from `from`: the peer signed every update it sent so far into
    /// this node's commitment. This node revokes its old one, then signs the peer's
    /// updates into the peer's commitment (now, or once its own outstanding signature is
    /// acknowledged).
    pub(super) fn on_commitment_signed(
        &mut self,
        from: NodeIdx,
        channel: ChannelIdx,
        out: &mut Vec<Output>,
    ) -> Result<(), PeerError> {
        let end = self.commit_end(channel, from, "commitment_signed")?;
        let c = self.ends[end].commit_mut();
        c.peer_signed = c.received;
        out.push(Output::Message {
            from: self.id,
            to: from,
            msg: Msg::RevokeAndAck { channel },
        });
        self.dirty.push(end as u32);
        Ok(())
    }

    /// `revoke_and_ack` from `from` for this node's outstanding `commitment_signed`:
    /// this node's updates it covered are acknowledged (its removals settle in its
    /// books), and the peer's updates it countersigned are irrevocably committed — acted
    /// on now, in the order they came.
    pub(super) fn on_revoke_and_ack(
        &mut self,
        from: NodeIdx,
        channel: ChannelIdx,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<(), PeerError> {
        let end = self.commit_end(channel, from, "revoke_and_ack")?;
        let c = self.ends[end].commit_mut();
        if !c.awaiting_raa {
            return Err(PeerError::Unexpected(
                "revoke_and_ack without a commitment_signed",
            ));
        }
        c.awaiting_raa = false;
        c.acked = c.signed;
        while c
            .uncommitted_adds
            .front()
            .is_some_and(|(n, _)| *n <= c.acked)
        {
            c.uncommitted_adds.pop_front();
        }
        let locked = c.countersigned_in_flight;
        let mut settled = Vec::new();
        while c.removals.front().is_some_and(|(n, _, _)| *n <= c.acked) {
            settled.push(c.removals.pop_front().expect("checked"));
        }
        let mut ready = Vec::new();
        while c.inbox.front().is_some_and(|(n, _)| *n <= locked) {
            ready.push(c.inbox.pop_front().expect("checked").1);
        }
        for (_, h, fulfilled) in settled {
            self.removal_delivered(h, fulfilled);
        }
        for m in ready {
            let name = m.name();
            let r = match m {
                Msg::AddHtlc(add) => self.on_add(from, add, clock, out),
                Msg::FailHtlc(f) => self.on_fail(from, f, out),
                Msg::FailMalformedHtlc(f) => self.on_fail_malformed(from, f, out),
                _ => Ok(()),
            };
            // A peer that broke the rules in a committed update: the update is ignored
            // (a live node would fail the channel).
            if let Err(e) = r {
                tracing::warn!(node = self.id.0, msg = name, error = %e, "committed update refused");
            }
        }
        self.dirty.push(end as u32);
        Ok(())
    }

    fn commit_end(
        &self,
        channel: ChannelIdx,
        from: NodeIdx,
        msg: &'static str,
    ) -> Result<usize, PeerError> {
        if self.commit_mode != CommitMode::Full {
            return Err(PeerError::Unexpected(msg));
        }
        self.end_with(channel, from)
            .ok_or(PeerError::UnknownChannel {
                msg,
                channel: channel.0,
                node: self.id.0,
                peer: from.0,
            })
    }
}
