//! The way back: failing and fulfilling HTLCs at their receiving peer, applying the
//! removal at the offerer, relaying it upstream (growing `origin_hop`, or wrapping the
//! failure onion), and the sender's outcome events.

use flotilla_graph::NodeIdx;
use flotilla_route::{FailureKind, PathFailure};

use crate::clock::Clock;
use crate::failure::{Failure, FailureCode, FailureData};
use crate::htlc::{Htlc, HtlcId, HtlcOrigin, HtlcState};
use crate::lock::ClaimError;
use crate::msg::{Msg, UpdateFailHtlc, UpdateFailMalformedHtlc, UpdateFulfillHtlc};
use crate::onion::real;
use crate::onion::FailReason;
use crate::output::{Event, Output};
use crate::sender::{path_failure, SentPart};
use crate::PaymentPreimage;

use super::{DeliverError, Network};

impl Network {
    /// The receiving peer of `id` fails it: the failure starts here (origin 0).
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
        let Some((from, to)) = self.begin_removal(id) else {
            return;
        };
        out.push(Output::Message {
            from,
            to,
            msg: Msg::FailHtlc(UpdateFailHtlc { htlc: id, reason }),
        });
    }

    /// The receiving peer of `id` claims it with the preimage (and, for an `h2tlc`, the
    /// sender secret). The caller checked the claim opens the lock (or relays a claim
    /// checked downstream on the same lock).
    pub(super) fn fulfil_back(
        &mut self,
        id: HtlcId,
        preimage: PaymentPreimage,
        sender_secret: Option<[u8; 32]>,
        out: &mut Vec<Output>,
    ) {
        let Some((from, to)) = self.begin_removal(id) else {
            return;
        };
        out.push(Output::Message {
            from,
            to,
            msg: Msg::FulfillHtlc(UpdateFulfillHtlc {
                htlc: id,
                preimage,
                sender_secret,
            }),
        });
    }

    /// Marks an accepted HTLC as being removed and returns (its receiving peer, its
    /// offerer). `None` (and a debug assertion) if it is not accepted: the callers only
    /// resolve HTLCs they hold, so this would be a bug.
    pub(super) fn begin_removal(&mut self, id: HtlcId) -> Option<(NodeIdx, NodeIdx)> {
        let rec = self.htlcs.get_mut(id)?;
        debug_assert_eq!(rec.state, HtlcState::Accepted, "resolving {id:?} twice");
        if rec.state != HtlcState::Accepted {
            return None;
        }
        rec.state = HtlcState::Removing;
        let e = rec.edge;
        Some((self.graph.edge_target(e), self.graph.edge_source(e)))
    }

    /// Checks a removal message against its HTLC: it must travel from the HTLC's receiving
    /// peer to its offerer, and the HTLC must be being removed.
    pub(super) fn removal(
        &self,
        to: NodeIdx,
        from: NodeIdx,
        id: HtlcId,
        msg: &'static str,
    ) -> Result<&Htlc, DeliverError> {
        let rec = self.htlcs.get(id).ok_or(DeliverError::UnknownHtlc(id))?;
        if self.graph.edge_source(rec.edge) != to || self.graph.edge_target(rec.edge) != from {
            return Err(DeliverError::WrongPeer {
                msg,
                htlc: id,
                from: from.0,
                to: to.0,
            });
        }
        if rec.state != HtlcState::Removing {
            return Err(DeliverError::WrongState {
                msg,
                htlc: id,
                state: rec.state,
            });
        }
        Ok(rec)
    }

    /// A fulfil reached the offerer: the value moves across, the forwarder earns its fee
    /// and passes the preimage upstream, or the sender learns it settled.
    pub(super) fn on_fulfill(
        &mut self,
        to: NodeIdx,
        from: NodeIdx,
        m: UpdateFulfillHtlc,
        out: &mut Vec<Output>,
    ) -> Result<(), DeliverError> {
        let rec = self.removal(to, from, m.htlc, "update_fulfill_htlc")?;
        // Every hop checks the claim opens its HTLC's lock: the preimage hashes to the
        // payment hash and, for an h2tlc, the sender secret to the second hash. A wrong
        // claim is refused and moves nothing (one SHA-256 per hop, two for an h2tlc).
        let (hash, lock) = (rec.payment_hash, rec.lock);
        if let Err(e) = self.claim_opens(&hash, &lock, &m.preimage, m.sender_secret.as_ref()) {
            self.counters.overclaim_attempts += 1;
            return Err(match e {
                ClaimError::WrongPreimage | ClaimError::WrongScalar => {
                    DeliverError::WrongPreimage(m.htlc)
                }
                _ => DeliverError::WrongSenderSecret(m.htlc),
            });
        }
        let rec = self.resolve(m.htlc);
        self.channels.fulfil(rec.edge, rec.amount_msat, rec.is_dust);
        self.counters.fulfilled += 1;
        self.ledger[to.ix()].paid_out_msat += rec.amount_msat;
        self.ledger[from.ix()].paid_in_msat += rec.amount_msat;
        match rec.origin {
            HtlcOrigin::Forwarded { incoming } => {
                if let Some(inc) = self.htlcs.get(incoming) {
                    self.ledger[to.ix()].fees_earned_msat +=
                        inc.amount_msat.saturating_sub(rec.amount_msat);
                }
                self.ledger[to.ix()].forwarded_msat += rec.amount_msat;
                self.ledger[to.ix()].forwards += 1;
                self.fulfil_back(incoming, m.preimage, m.sender_secret, out);
            }
            HtlcOrigin::Local { part } => {
                if let Some(p) = self.take_part(part) {
                    out.push(Output::Event {
                        node: to,
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
        }
        self.debug_check(rec.edge.channel());
        Ok(())
    }

    /// A fail reached the offerer: the value returns; a forwarder relays the reason
    /// (one hop further from its origin), a sender decodes it.
    pub(super) fn on_fail(
        &mut self,
        to: NodeIdx,
        from: NodeIdx,
        m: UpdateFailHtlc,
        out: &mut Vec<Output>,
    ) -> Result<(), DeliverError> {
        self.removal(to, from, m.htlc, "update_fail_htlc")?;
        let rec = self.resolve(m.htlc);
        self.channels.fail(rec.edge, rec.amount_msat, rec.is_dust);
        self.counters.failed += 1;
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
                        node: to,
                        event: Event::PartFailed {
                            part: p.id,
                            failure,
                            path_failure: pf,
                            locked_msat_micros: p.locked_msat_micros,
                        },
                    });
                }
            }
        }
        self.debug_check(rec.edge.channel());
        Ok(())
    }

    /// A BADONION report reached the offerer, which turns it into a failure of its own.
    pub(super) fn on_fail_malformed(
        &mut self,
        to: NodeIdx,
        from: NodeIdx,
        m: UpdateFailMalformedHtlc,
        out: &mut Vec<Output>,
    ) -> Result<(), DeliverError> {
        self.removal(to, from, m.htlc, "update_fail_malformed_htlc")?;
        let rec = self.resolve(m.htlc);
        self.channels.fail(rec.edge, rec.amount_msat, rec.is_dust);
        self.counters.failed += 1;
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
                if let Some(p) = self.take_part(part) {
                    // The sender's own peer could not read the onion: its first channel.
                    out.push(Output::Event {
                        node: to,
                        event: Event::PartFailed {
                            part: p.id,
                            failure: Failure {
                                code: m.failure_code,
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
        }
        self.debug_check(rec.edge.channel());
        Ok(())
    }

    /// A held HTLC reached its expiry: its offerer takes the value back and fails its
    /// own incoming HTLC with `permanent_channel_failure` (the channel it would have
    /// force-closed), or reports the part failed if it is the sender.
    pub(super) fn expire(&mut self, id: HtlcId, _clock: &Clock, out: &mut Vec<Output>) {
        match self.htlcs.get(id) {
            Some(rec) if rec.state == HtlcState::Accepted => {}
            _ => return,
        }
        let rec = self.resolve(id);
        let offerer = self.graph.edge_source(rec.edge);
        self.channels.fail(rec.edge, rec.amount_msat, rec.is_dust);
        self.counters.failed += 1;
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
                if let Some(p) = self.take_part(part) {
                    out.push(Output::Event {
                        node: offerer,
                        event: Event::PartFailed {
                            part: p.id,
                            failure: Failure {
                                code: FailureCode::PermanentChannelFailure,
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
        }
        self.debug_check(rec.edge.channel());
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
