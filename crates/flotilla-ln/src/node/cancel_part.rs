//! Stopping a surplus part on its way: `cancel_htlc` ([`CancelHtlc`]) hop by hop.
//!
//! A redundant payment's sender, once the payment is complete, no longer needs the parts
//! still travelling: each holds liquidity on every hop it has reached until it reaches
//! the receiver, is refused and fails back. The sender sends `cancel_htlc` for the
//! first HTLC of each such part ([`Node::cancel_part`]); each node that receives it for
//! an HTLC it accepted from that peer:
//!
//! - **has not received the add yet** (the cancel overtook it): remembers the cancel,
//!   and fails the HTLC back the moment it arrives, before peeling the next hop out of
//!   it — the part stops here and goes no further;
//! - **has forwarded it**: passes the cancel on to the next hop, naming the HTLC it
//!   offered there;
//! - **holds it as a redundant part** (the receiver): fails it back at once;
//! - **has already failed or fulfilled it**, or holds it otherwise (an ordinary MPP
//!   set, a forward waiting for an offline peer, a hodl node): ignores it. The cancel
//!   is a request; the HTLC's own rules are unchanged.
//!
//! In the full commitment mode an add is acted on only once it is irrevocably
//! committed (`commitment_signed` / `revoke_and_ack` both ways), so a cancel that
//! arrives while the add waits for that finds no HTLC yet: it is remembered like one
//! that overtook its add, and the add is failed back the moment it is committed instead
//! of being forwarded. The failure itself is an ordinary update that rides the next
//! commitment exchange. This is where a cancel wins on Lightning, where messages on one
//! connection cannot overtake each other: it needs no commitment to be passed on, so it
//! gains about a round trip per hop on the part it chases.
//!
//! A stopped part fails with `mpp_timeout`, the code the endpoint cancel
//! ([`Node::cancel_payment`]) uses for the parts it fails: the sender asked for it and
//! learns nothing about the path from it.
//!
//! Peers' messages on one connection arrive in order on Lightning, so a cancel cannot
//! overtake its add over the same channel there; it catches the part only where a hop
//! has not forwarded it yet (waiting for its commitment exchange, or for the peer). The
//! simulator draws each message's delay on its own, so a cancel may overtake an add on a
//! link; with the `instant` latency the driver gives it (docs/cancel.md) it overtakes
//! every add still travelling, which is the Boomerang paper's abort.
//!
//! Cost to the node: a pending cancel for an add not yet here is one entry in a short
//! list, bounded per channel by the ids the peer could still have in flight (a cancel
//! naming an id further ahead is a [`PeerError::UnknownHtlc`]).

use flotilla_graph::NodeIdx;

use crate::config::Behaviour;
use crate::failure::{FailureCode, FailureData};
use crate::htlc::{HtlcId, HtlcOrigin, HtlcState};
use crate::msg::{CancelHtlc, HtlcRef, Msg};
use crate::output::Output;
use crate::sender::PartId;

use super::{Node, PeerError};

/// How far beyond the peer's lowest unused add id a cancel may name an HTLC this node
/// has not seen yet: BOLT 2's 483 HTLCs in flight per side, with room to spare. A
/// cancel further ahead cannot be for an add already sent.
const AHEAD_WINDOW: u64 = 1_000;

/// What one node did with `cancel_htlc` messages.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CancelCounters {
    /// Cancels this node sent for its own parts' first HTLCs.
    pub sent: u64,
    /// Cancels passed on to the next hop (the HTLC was forwarded already).
    pub relayed: u64,
    /// HTLCs failed on arrival because their cancel came first.
    pub stopped_on_arrival: u64,
    /// Redundant parts the receiver held and failed on a cancel.
    pub stopped_held: u64,
    /// Cancels that found the HTLC already resolving or resolved, or held in a way a
    /// cancel does not touch.
    pub ignored: u64,
}

impl std::ops::AddAssign for CancelCounters {
    fn add_assign(&mut self, o: Self) {
        self.sent += o.sent;
        self.relayed += o.relayed;
        self.stopped_on_arrival += o.stopped_on_arrival;
        self.stopped_held += o.stopped_held;
        self.ignored += o.ignored;
    }
}

impl CancelCounters {
    /// Every `cancel_htlc` message sent: the sender's and the relayed ones.
    pub fn messages(&self) -> u64 {
        self.sent + self.relayed
    }
}

/// One node's cancels: the ones waiting for their add, and the counts.
#[derive(Clone, Debug, Default)]
pub(super) struct CancelBook {
    /// Cancels for HTLCs whose add has not arrived (a handful at most: an entry goes as
    /// its add arrives).
    ahead: Vec<HtlcRef>,
    counters: CancelCounters,
}

impl Node {
    /// Sender: asks the first hop of this node's part `part` to stop it (a
    /// `cancel_htlc` for the part's first HTLC). Returns whether a cancel went out:
    /// not if the part is gone or its first HTLC is already being resolved.
    pub fn cancel_part(&mut self, part: PartId, out: &mut Vec<Output>) -> bool {
        let Some(slot) = self
            .parts
            .iter()
            .position(|p| p.as_ref().is_some_and(|p| p.id == part))
        else {
            return false;
        };
        let first = self.htlcs.iter().find(|(_, h)| {
            h.origin == HtlcOrigin::Local { part: slot as u32 } && h.state == HtlcState::Offered
        });
        let Some((_, h)) = first else {
            return false;
        };
        let (wire, peer) = (h.wire, self.ends[h.end as usize].peer);
        self.cancels.counters.sent += 1;
        self.send_cancel(peer, wire, out);
        true
    }

    /// What this node did with cancels so far.
    pub fn cancel_counters(&self) -> CancelCounters {
        self.cancels.counters
    }

    /// Cancels waiting for their add at this node.
    pub fn cancels_ahead(&self) -> usize {
        self.cancels.ahead.len()
    }

    fn send_cancel(&self, to: NodeIdx, htlc: HtlcRef, out: &mut Vec<Output>) {
        out.push(Output::Message {
            from: self.id,
            to,
            msg: Msg::CancelHtlc(CancelHtlc { htlc }),
        });
    }

    /// A peer's `cancel_htlc` (see the module documentation). Refused, nothing changed,
    /// if it names a channel not shared with `from` or an id `from` cannot have sent.
    pub(super) fn on_cancel_htlc(
        &mut self,
        from: NodeIdx,
        m: CancelHtlc,
        out: &mut Vec<Output>,
    ) -> Result<(), PeerError> {
        let r = m.htlc;
        let end = self
            .end_with(r.channel, from)
            .ok_or(PeerError::UnknownChannel {
                msg: "cancel_htlc",
                channel: r.channel.0,
                node: self.id.0,
                peer: from.0,
            })?;
        // A hodl node holds what it holds.
        if self.config.behaviour == Behaviour::Hodl {
            self.cancels.counters.ignored += 1;
            return Ok(());
        }
        let Some(id) = self.htlc_by_wire(r, false) else {
            let e = &self.ends[end];
            if e.add_id_used(r.id) {
                // Came and went: failed or fulfilled already.
                self.cancels.counters.ignored += 1;
                return Ok(());
            }
            let limit = e.accepted_below + e.accepted_ahead.len() as u64 + AHEAD_WINDOW;
            if r.id >= limit {
                return Err(PeerError::UnknownHtlc {
                    msg: "cancel_htlc",
                    htlc: r,
                });
            }
            if !self.cancels.ahead.contains(&r) {
                self.cancels.ahead.push(r);
            }
            return Ok(());
        };
        if self.htlcs.get(id).map(|h| h.state) != Some(HtlcState::Accepted) {
            self.cancels.counters.ignored += 1;
            return Ok(());
        }
        let forwarded = self
            .htlcs
            .iter()
            .find(|(_, h)| h.origin == HtlcOrigin::Forwarded { incoming: id })
            .map(|(_, h)| (h.wire, h.state, self.ends[h.end as usize].peer));
        if let Some((wire, state, next)) = forwarded {
            if state == HtlcState::Offered {
                self.cancels.counters.relayed += 1;
                self.send_cancel(next, wire, out);
            } else {
                self.cancels.counters.ignored += 1;
            }
            return Ok(());
        }
        if let Some((secret, _)) = self.receiver.redundant.find_held(id) {
            self.receiver.redundant.remove_held(&secret, id);
            self.cancels.counters.stopped_held += 1;
            self.stop(id, out);
            return Ok(());
        }
        self.cancels.counters.ignored += 1;
        Ok(())
    }

    /// On an add's arrival (after its onion was peeled, so a real-mode failure can be
    /// wrapped): if its cancel came first, fails it back at once and returns `true`.
    pub(super) fn stop_if_cancelled(
        &mut self,
        id: HtlcId,
        wire: HtlcRef,
        out: &mut Vec<Output>,
    ) -> bool {
        let Some(i) = self.cancels.ahead.iter().position(|r| *r == wire) else {
            return false;
        };
        self.cancels.ahead.swap_remove(i);
        if self.cancels.ahead.is_empty() {
            self.cancels.ahead = Vec::new();
        }
        self.cancels.counters.stopped_on_arrival += 1;
        self.stop(id, out);
        true
    }

    fn stop(&mut self, id: HtlcId, out: &mut Vec<Output>) {
        self.fail_back(id, FailureCode::MppTimeout, FailureData::default(), out);
    }
}
