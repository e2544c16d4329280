//! The way back: failing and fulfilling HTLCs this node accepted, applying the peer's
//! removal of HTLCs this node offered, relaying it upstream (growing `origin_hop`, or
//! wrapping the failure onion), the sender's outcome events, and timeouts on chain.

use flotilla_graph::NodeIdx;
use flotilla_route::{FailureKind, PathFailure};

use crate::failure::{Failure, FailureCode, FailureData};
use crate::htlc::{Htlc, HtlcId, HtlcOrigin, HtlcState};
use crate::lock::ClaimError;
use crate::msg::{HtlcRef, Msg, UpdateFailHtlc, UpdateFailMalformedHtlc, UpdateFulfillHtlc};
use crate::onion::real;
use crate::onion::FailReason;
use crate::output::{Event, Output};
use crate::sender::{path_failure, SentPart};
use crate::PaymentPreimage;

use super::{Node, PeerError};

impl Node {
    /// This node fails an HTLC it accepted: the failure starts here (origin 0).
    pub(super) fn fail_back(
        &mut self,
        id: HtlcId,
        code: FailureCode,
        data: FailureData,
        out: &mut Vec<Output>,
    ) {
        let reason = match self.secret(id) {
            Some(ss) => FailReason::Real(real::build_failure(&ss, code, &data)),
            None => FailReason::Modeled(Failure {
                code,
                data,
                origin_hop: 0,
            }),
        };
        self.send_fail(id, reason, out);
    }

    /// Sends a failure reason (new or relayed) back over `id`.
    pub(super) fn send_fail(&mut self, id: HtlcId, reason: FailReason, out: &mut Vec<Output>) {
        let Some((wire, peer)) = self.begin_removal(id) else {
            return;
        };
        self.note_removal(id, wire, false);
        out.push(Output::Message {
            from: self.id,
            to: peer,
            msg: Msg::FailHtlc(UpdateFailHtlc { htlc: wire, reason }),
        });
    }

    /// This node claims an HTLC it accepted with the preimage (and, for an `h2tlc`, the
    /// sender secret). The caller checked the claim opens the lock (or relays a claim
    /// its peer checked downstream on the same lock).
    pub(super) fn fulfil_back(
        &mut self,
        id: HtlcId,
        preimage: PaymentPreimage,
        sender_secret: Option<[u8; 32]>,
        out: &mut Vec<Output>,
    ) {
        let Some((wire, peer)) = self.begin_removal(id) else {
            return;
        };
        self.note_removal(id, wire, true);
        out.push(Output::Message {
            from: self.id,
            to: peer,
            msg: Msg::FulfillHtlc(UpdateFulfillHtlc {
                htlc: wire,
                preimage,
                sender_secret,
            }),
        });
    }

    /// Marks an accepted HTLC as being removed and returns its wire name and the peer
    /// that offered it. `None` (and a debug assertion) if it is not accepted: the callers
    /// only resolve HTLCs they hold, so this would be a bug.
    pub(super) fn begin_removal(&mut self, id: HtlcId) -> Option<(HtlcRef, NodeIdx)> {
        let rec = self.htlcs.get_mut(id)?;
        debug_assert_eq!(rec.state, HtlcState::Accepted, "resolving {id:?} twice");
        if rec.state != HtlcState::Accepted {
            return None;
        }
        rec.state = HtlcState::Removing;
        let (wire, end) = (rec.wire, rec.end);
        Some((wire, self.ends[end as usize].peer))
    }

    /// Full mode: notes a removal this node sent over the end of its accepted HTLC `id`.
    pub(super) fn note_removal(&mut self, id: HtlcId, wire: HtlcRef, fulfilled: bool) {
        if let Some(end) = self.htlcs.get(id).map(|h| h.end as usize) {
            self.note_update(end, super::commitment::SentUpdate::Removal(wire, fulfilled));
        }
    }

    /// The removal this node sent for `htlc` (an HTLC it accepted) has taken effect at
    /// the peer: the record goes and the value moves in this node's view too — to this
    /// node for a fulfil, back to the peer for a fail. In collapsed mode the driver calls
    /// it when it delivers the removal. Returns whether there was such a removal.
    pub fn removal_delivered(&mut self, htlc: HtlcRef, fulfilled: bool) -> bool {
        let Some(id) = self.htlc_by_wire(htlc, false) else {
            return false;
        };
        if self.htlcs.get(id).map(|h| h.state) != Some(HtlcState::Removing) {
            return false;
        }
        let rec = self.remove_htlc(id);
        let end = &mut self.ends[rec.end as usize];
        if fulfilled {
            end.accepted_fulfilled(rec.amount_msat, rec.is_dust);
            self.ledger.paid_in_msat += rec.amount_msat;
        } else {
            end.accepted_failed(rec.amount_msat, rec.is_dust);
        }
        true
    }

    /// Checks a removal from `from` against the HTLC it names: one this node offered to
    /// `from`.
    fn offered_to(
        &self,
        from: NodeIdx,
        h: HtlcRef,
        msg: &'static str,
    ) -> Result<HtlcId, PeerError> {
        let id = self
            .htlc_by_wire(h, true)
            .ok_or(PeerError::UnknownHtlc { msg, htlc: h })?;
        let rec = self
            .htlcs
            .get(id)
            .ok_or(PeerError::UnknownHtlc { msg, htlc: h })?;
        if self.ends[rec.end as usize].peer != from {
            return Err(PeerError::UnknownHtlc { msg, htlc: h });
        }
        Ok(id)
    }

    /// The peer fulfilled an HTLC this node offered: every hop checks the claim opens
    /// the lock; then the value moves across, a forwarder earns its fee and passes the
    /// preimage upstream, or the sender learns its part settled.
    pub(super) fn on_fulfill(
        &mut self,
        from: NodeIdx,
        m: UpdateFulfillHtlc,
        out: &mut Vec<Output>,
    ) -> Result<(), PeerError> {
        let id = self.offered_to(from, m.htlc, "update_fulfill_htlc")?;
        let rec = *self.htlcs.get(id).expect("checked");
        // One SHA-256 per hop (two for an h2tlc); a wrong claim is refused and moves
        // nothing.
        if let Err(e) = self.claim_opens(
            &rec.payment_hash,
            &rec.lock,
            &m.preimage,
            m.sender_secret.as_ref(),
        ) {
            self.counters.overclaim_attempts += 1;
            return Err(match e {
                ClaimError::WrongPreimage | ClaimError::WrongScalar => {
                    PeerError::WrongPreimage(m.htlc)
                }
                _ => PeerError::WrongSenderSecret(m.htlc),
            });
        }
        let c0 = self.forget_reverse_point(id);
        let rec = self.remove_htlc(id);
        self.ends[rec.end as usize].offered_fulfilled(rec.amount_msat, rec.is_dust);
        self.counters.fulfilled += 1;
        self.ledger.paid_out_msat += rec.amount_msat;
        match rec.origin {
            HtlcOrigin::Forwarded { incoming } => {
                if let Some(inc) = self.htlcs.get(incoming).copied() {
                    let fee = inc.amount_msat.saturating_sub(rec.amount_msat);
                    self.ledger.fees_earned_msat += fee;
                    // A boomerang part: this hop now owes the reverse clause upstream.
                    if let Some(c0) = self.forget_reverse_point(incoming) {
                        self.owe_reverse(c0, &inc, fee, Some((rec.wire, rec.amount_msat)), None);
                    }
                }
                self.ledger.forwarded_msat += rec.amount_msat;
                self.ledger.forwards += 1;
                self.fulfil_back(incoming, m.preimage, m.sender_secret, out);
            }
            HtlcOrigin::Local { part } => {
                if let Some(p) = self.take_part(part) {
                    if c0.is_some() {
                        self.may_claim_reverse(&rec, p.id, p.amount_msat);
                    }
                    out.push(Output::Event {
                        node: self.id,
                        event: Event::PartSettled {
                            part: p.id,
                            preimage: m.preimage,
                            amount_msat: p.amount_msat,
                            fee_msat: p.fee_msat,
                            locked_msat_micros: p.locked_msat_micros,
                        },
                    });
                }
            }
            HtlcOrigin::Received => unreachable!("offered HTLCs only"),
        }
        Ok(())
    }

    /// The peer failed an HTLC this node offered: the value returns; a forwarder relays
    /// the reason (one hop further from its origin), a sender decodes it.
    pub(super) fn on_fail(
        &mut self,
        from: NodeIdx,
        m: UpdateFailHtlc,
        out: &mut Vec<Output>,
    ) -> Result<(), PeerError> {
        let id = self.offered_to(from, m.htlc, "update_fail_htlc")?;
        let rec = self.take_failed(id);
        match rec.origin {
            HtlcOrigin::Forwarded { incoming } => {
                let reason = match m.reason {
                    FailReason::Modeled(mut f) => {
                        f.origin_hop += 1;
                        FailReason::Modeled(f)
                    }
                    FailReason::Real(onion) => match self.secret(incoming) {
                        Some(ss) => FailReason::Real(real::wrap_failure(&ss, onion)),
                        None => FailReason::Real(onion),
                    },
                };
                self.send_fail(incoming, reason, out);
            }
            HtlcOrigin::Local { part } => {
                if let Some(p) = self.take_part(part) {
                    let (failure, pf) = decode_at_sender(&p, m.reason);
                    out.push(Output::Event {
                        node: self.id,
                        event: Event::PartFailed {
                            part: p.id,
                            failure,
                            path_failure: pf,
                            locked_msat_micros: p.locked_msat_micros,
                        },
                    });
                }
            }
            HtlcOrigin::Received => unreachable!("offered HTLCs only"),
        }
        Ok(())
    }

    /// A BADONION report from the peer, which this node turns into a failure of its
    /// own.
    pub(super) fn on_fail_malformed(
        &mut self,
        from: NodeIdx,
        m: UpdateFailMalformedHtlc,
        out: &mut Vec<Output>,
    ) -> Result<(), PeerError> {
        let id = self.offered_to(from, m.htlc, "update_fail_malformed_htlc")?;
        let rec = self.take_failed(id);
        // BOLT 2: the offerer turns the unencrypted BADONION report into an ordinary
        // failure of its own incoming HTLC, so the sender sees it come from here.
        match rec.origin {
            HtlcOrigin::Forwarded { incoming } => {
                let reason = match self.secret(incoming) {
                    Some(ss) => FailReason::Real(real::build_bad_onion_failure(
                        &ss,
                        m.failure_code,
                        &m.sha256_of_onion,
                    )),
                    None => FailReason::Modeled(Failure {
                        code: m.failure_code,
                        data: FailureData::default(),
                        origin_hop: 0,
                    }),
                };
                self.send_fail(incoming, reason, out);
            }
            HtlcOrigin::Local { part } => {
                // The sender's own peer could not read the onion: its first channel.
                self.local_part_failed(part, m.failure_code, out);
            }
            HtlcOrigin::Received => unreachable!("offered HTLCs only"),
        }
        Ok(())
    }

    /// Removes an offered HTLC that failed (or was withdrawn, or timed out): the value
    /// comes back to this node.
    pub(super) fn take_failed(&mut self, id: HtlcId) -> Htlc {
        let rec = self.remove_htlc(id);
        self.ends[rec.end as usize].offered_failed(rec.amount_msat, rec.is_dust);
        self.counters.failed += 1;
        rec
    }

    /// This node's own part failed at its first channel with `code`.
    fn local_part_failed(&mut self, part: u32, code: FailureCode, out: &mut Vec<Output>) {
        if let Some(p) = self.take_part(part) {
            out.push(Output::Event {
                node: self.id,
                event: Event::PartFailed {
                    part: p.id,
                    failure: Failure {
                        code,
                        data: FailureData::default(),
                        origin_hop: 0,
                    },
                    path_failure: PathFailure {
                        hop: 0,
                        kind: FailureKind::ChannelUnusable,
                    },
                    locked_msat_micros: p.locked_msat_micros,
                },
            });
        }
    }

    /// An HTLC this node offered reached its expiry while its peer held it: this node
    /// times it out on chain, takes the value back and fails its own incoming HTLC with
    /// `permanent_channel_failure` (the channel it would have force-closed), or reports
    /// its part failed. The peer learns it from the same block
    /// ([`Node::peer_timed_out`]).
    pub(super) fn expire_offered(&mut self, htlc: HtlcRef, out: &mut Vec<Output>) {
        let Some(id) = self.htlc_by_wire(htlc, true) else {
            return;
        };
        let rec = self.take_failed(id);
        match rec.origin {
            HtlcOrigin::Forwarded { incoming } => {
                self.fail_back(
                    incoming,
                    FailureCode::PermanentChannelFailure,
                    FailureData::default(),
                    out,
                );
            }
            HtlcOrigin::Local { part } => {
                self.local_part_failed(part, FailureCode::PermanentChannelFailure, out)
            }
            HtlcOrigin::Received => unreachable!("offered HTLCs only"),
        }
    }

    /// The peer timed out on chain an HTLC this node accepted and still held: the value
    /// went back to the peer. Returns whether there was such an HTLC.
    pub fn peer_timed_out(&mut self, htlc: HtlcRef) -> bool {
        let Some(id) = self.htlc_by_wire(htlc, false) else {
            return false;
        };
        let rec = self.remove_htlc(id);
        self.ends[rec.end as usize].accepted_failed(rec.amount_msat, rec.is_dust);
        true
    }
}

/// Turns the reason a failed part came back with into the sender's view of it.
fn decode_at_sender(part: &SentPart, reason: FailReason) -> (Failure, PathFailure) {
    let failure = match reason {
        FailReason::Modeled(f) => f,
        FailReason::Real(onion) => {
            let secrets = part.shared_secrets.as_deref().unwrap_or(&[]);
            match real::decode_failure(secrets, &onion) {
                Ok(f) => f,
                Err(e) => {
                    // Cannot happen between honest nodes; a garbled failure is blamed on
                    // the first hop, as implementations do.
                    tracing::warn!(error = %e, "undecodable failure onion");
                    Failure {
                        code: FailureCode::TemporaryNodeFailure,
                        data: FailureData::default(),
                        origin_hop: 0,
                    }
                }
            }
        }
    };
    let pf = path_failure(&failure, part.path_len);
    (failure, pf)
}
