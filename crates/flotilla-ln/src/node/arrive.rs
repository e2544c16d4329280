//! An `update_add_htlc` arrives: check it against the channel, hold it (hodl), peel the
//! onion, then forward it or hand it to the receiver.

use flotilla_graph::NodeIdx;

use crate::clock::Clock;
use crate::config::Behaviour;
use crate::failure::{FailureCode, FailureData};
use crate::forward::{check_forward, ForwardCtx, ForwardError};
use crate::htlc::{Htlc, HtlcId, HtlcOrigin, HtlcState};
use crate::lock::HtlcLock;
use crate::msg::{Msg, UpdateAddHtlc, UpdateFailMalformedHtlc};
use crate::onion::{self, Onion, PeelError};
use crate::output::{Event, Output, Timer};
use crate::payload::HopPayload;
use crate::receiver::{unknown_payment, Decision, IncomingHtlc};
use crate::PaymentHash;

use super::{Node, PeerError};

impl Node {
    /// Checks the add against the channel (a peer that breaks its limits, reuses a live
    /// id or names a channel it does not share is refused, nothing changed), records it,
    /// then: a hodl node holds it until expiry; otherwise the onion is peeled (a bad
    /// packet goes back as `update_fail_malformed_htlc`, a bad payload as
    /// `invalid_onion_payload`) and the HTLC is forwarded or received.
    pub(super) fn on_add(
        &mut self,
        from: NodeIdx,
        add: UpdateAddHtlc,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<(), PeerError> {
        let end_ix = self
            .end_with(add.htlc.channel, from)
            .ok_or(PeerError::UnknownChannel {
                msg: "update_add_htlc",
                channel: add.htlc.channel.0,
                node: self.id.0,
                peer: from.0,
            })?;
        let end = &mut self.ends[end_ix];
        if end.add_id_used(add.htlc.id) {
            return Err(PeerError::DuplicateHtlc(add.htlc));
        }
        let mine = end.own_params.as_deref().unwrap_or(&self.config.channel);
        end.check_accept(add.amount_msat, mine)
            .map_err(|error| PeerError::AddRefused {
                htlc: add.htlc,
                error,
            })?;
        end.mark_add_id(add.htlc.id);
        let dust = end.is_dust(add.amount_msat);
        end.accept(add.amount_msat, dust);
        let edge = end.out_edge().reverse();
        let (amount, cltv, hash, lock) =
            (add.amount_msat, add.cltv_expiry, add.payment_hash, add.lock);
        let id = self.insert_htlc(Htlc {
            edge,
            wire: add.htlc,
            end: end_ix as u32,
            amount_msat: amount,
            payment_hash: hash,
            lock,
            cltv_expiry: cltv,
            origin: HtlcOrigin::Received,
            state: HtlcState::Accepted,
            is_dust: dust,
            added_at: self.now,
            trace: add.trace,
        });
        // A reverse clause only makes sense on a point-locked (boomerang) part.
        if matches!(lock, HtlcLock::Point { .. }) {
            self.note_reverse_point(id, add.reverse_point.as_deref());
        }

        if self.config.behaviour == Behaviour::Hodl {
            // The offerer times the HTLC out on chain at its expiry (see Timer::HtlcExpiry).
            let blocks = cltv.saturating_sub(clock.height) as u64;
            let wait = self.block_interval.as_micros() as u64 * blocks;
            out.push(Output::Timer {
                at: clock.now + wait,
                node: from,
                timer: Timer::HtlcExpiry { htlc: add.htlc },
            });
            return Ok(());
        }

        let key = self.onion_key.as_ref().map(|(_, k)| k);
        let peeled = match onion::peel(&add.onion, key, &hash) {
            Ok(p) => p,
            Err(PeelError::InvalidPayload {
                error,
                shared_secret,
            }) => {
                tracing::debug!(node = self.id.0, %error, "invalid onion payload");
                if let Some(ss) = shared_secret {
                    self.store_secret(id, ss);
                }
                self.fail_back(
                    id,
                    FailureCode::InvalidOnionPayload,
                    FailureData::default(),
                    out,
                );
                return Ok(());
            }
            Err(e) => {
                let sha256_of_onion = match &e {
                    PeelError::BadOnion {
                        sha256_of_onion, ..
                    } => *sha256_of_onion,
                    _ => [0; 32],
                };
                self.begin_removal(id);
                self.note_removal(id, add.htlc, false);
                out.push(Output::Message {
                    from: self.id,
                    to: from,
                    msg: Msg::FailMalformedHtlc(UpdateFailMalformedHtlc {
                        htlc: add.htlc,
                        sha256_of_onion,
                        failure_code: e.failure_code(),
                    }),
                });
                return Ok(());
            }
        };
        if let Some(ss) = peeled.shared_secret {
            self.store_secret(id, ss);
        }
        // Its sender's cancel overtook it: it stops here.
        if self.stop_if_cancelled(id, add.htlc, out) {
            return Ok(());
        }
        // A forwarding hop must understand an h2tlc's second hash, a point lock needs
        // PTLC support (the feature bits). A receiver that registered a redundant
        // payment runs the protocol by definition.
        let supported = match lock {
            HtlcLock::Hash => true,
            HtlcLock::H2tlc { .. } => self.config.supports_h2tlc,
            HtlcLock::Point { .. } => self.config.supports_ptlc,
        };
        if !supported && peeled.next.is_some() {
            self.fail_back(
                id,
                FailureCode::RequiredNodeFeatureMissing,
                FailureData::default(),
                out,
            );
            return Ok(());
        }
        match peeled.next {
            None => self.on_final(id, amount, cltv, hash, &peeled.payload, clock, out),
            Some(next) => self.on_forward(
                id,
                (amount, cltv, hash, lock),
                &peeled.payload,
                next,
                clock,
                out,
            ),
        }
        Ok(())
    }

    /// Applies the forwarding rules; on success locks the outgoing HTLC and offers it.
    pub(super) fn on_forward(
        &mut self,
        incoming: HtlcId,
        (amount, cltv, hash, lock): (u64, u32, PaymentHash, HtlcLock),
        payload: &HopPayload,
        next_onion: Onion,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        let ctx = ForwardCtx {
            dir: &self.dir,
            config: &self.config,
            ends: &self.ends,
            clock: *clock,
        };
        let fwd = match check_forward(&ctx, self.id, amount, cltv, payload) {
            Ok(f) => f,
            Err(rej) => {
                tracing::trace!(node = self.id.0, error = %rej.error, "forward refused");
                let wait = self.config.offline_peer_timeout;
                if matches!(rej.error, ForwardError::PeerOffline(_)) && !wait.is_zero() {
                    // Trying to connect to the peer takes time; the HTLC waits locked.
                    out.push(Output::Timer {
                        at: clock.now + wait.as_micros() as u64,
                        node: self.id,
                        timer: Timer::PeerUnreachable { htlc: incoming },
                    });
                    return;
                }
                self.fail_back(incoming, rej.code, rej.data, out);
                return;
            }
        };
        let trace = self
            .htlcs
            .get(incoming)
            .map(|h| h.trace)
            .unwrap_or(crate::msg::PartTrace::NONE);
        let reverse = self.reverse_point(incoming);
        self.offer(
            fwd.end,
            (fwd.amount_msat, fwd.cltv_expiry, fwd.is_dust),
            (hash, lock, reverse),
            HtlcOrigin::Forwarded { incoming },
            trace,
            next_onion,
            out,
        );
    }

    #[allow(clippy::too_many_arguments)]
    /// Hands a final HTLC to the node's receiver and carries out its decision.
    pub(super) fn on_final(
        &mut self,
        id: HtlcId,
        amount: u64,
        cltv: u32,
        hash: PaymentHash,
        payload: &HopPayload,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        let htlc = IncomingHtlc {
            id,
            amount_msat: amount,
            cltv_expiry: cltv,
            payment_hash: hash,
        };
        if let Some(red) = payload.redundant {
            self.on_final_redundant(htlc, payload, &red, clock, out);
            return;
        }
        // An ordinary payment cannot open an h2tlc's second lock.
        if self.htlcs.get(id).is_some_and(|h| h.lock != HtlcLock::Hash) {
            let (code, data) = unknown_payment(amount, clock.height);
            self.fail_back(id, code, data, out);
            return;
        }
        let mpp_timeout = self.config.mpp_timeout;
        match self.receiver.receive(htlc, payload, &self.config, clock) {
            Decision::Fail { code, data } => self.fail_back(id, code, data, out),
            Decision::Hold { new_set: None } => {}
            Decision::Hold { new_set: Some(set) } => out.push(Output::Timer {
                at: clock.now + mpp_timeout.as_micros() as u64,
                node: self.id,
                timer: Timer::MppTimeout {
                    payment_hash: hash,
                    set,
                },
            }),
            Decision::Claim {
                preimage,
                parts,
                received_msat,
            } => {
                let count = parts.len() as u32;
                for (part, _) in parts {
                    self.fulfil_back(part, preimage, None, out);
                }
                out.push(Output::Event {
                    node: self.id,
                    event: Event::PaymentReceived {
                        payment_hash: hash,
                        amount_msat: received_msat,
                        parts: count,
                    },
                });
            }
            Decision::FailSet { parts } => {
                for (part, htlc_msat) in parts {
                    let (code, data) = unknown_payment(htlc_msat, clock.height);
                    self.fail_back(part, code, data, out);
                }
            }
        }
    }
}
