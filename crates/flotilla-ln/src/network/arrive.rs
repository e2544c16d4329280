//! An `update_add_htlc` arrives: hold it (hodl), peel the onion, then forward it or
//! hand it to the receiver.

use flotilla_graph::NodeIdx;

use crate::clock::Clock;
use crate::config::Behaviour;
use crate::failure::{FailureCode, FailureData};
use crate::forward::{check_forward, ForwardCtx, ForwardError};
use crate::htlc::{Htlc, HtlcId, HtlcOrigin, HtlcState, PartRef};
use crate::lock::HtlcLock;
use crate::msg::{Msg, UpdateAddHtlc, UpdateFailMalformedHtlc};
use crate::onion::{self, Onion, PeelError};
use crate::output::{Event, Output, Timer};
use crate::payload::HopPayload;
use crate::receiver::{unknown_payment, Decision, IncomingHtlc};
use crate::PaymentHash;

use super::{DeliverError, Network};

impl Network {
    /// Checks the message against the HTLC it names, then: a hodl node holds it until
    /// expiry; otherwise the onion is peeled (a bad packet goes back as
    /// `update_fail_malformed_htlc`, a bad payload as `invalid_onion_payload`) and the
    /// HTLC is forwarded or received.
    pub(super) fn on_add(
        &mut self,
        to: NodeIdx,
        from: NodeIdx,
        add: UpdateAddHtlc,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<(), DeliverError> {
        let id = add.htlc;
        let rec = self.htlcs.get(id).ok_or(DeliverError::UnknownHtlc(id))?;
        let wrong = DeliverError::WrongPeer {
            msg: "update_add_htlc",
            htlc: id,
            from: from.0,
            to: to.0,
        };
        if rec.edge != add.edge
            || self.graph.edge_source(rec.edge) != from
            || self.graph.edge_target(rec.edge) != to
            || rec.amount_msat != add.amount_msat
            || rec.payment_hash != add.payment_hash
            || rec.lock != add.lock
            || rec.cltv_expiry != add.cltv_expiry
        {
            return Err(wrong);
        }
        if rec.state != HtlcState::Offered {
            return Err(DeliverError::WrongState {
                msg: "update_add_htlc",
                htlc: id,
                state: rec.state,
            });
        }
        let (amount, cltv, hash, lock) =
            (rec.amount_msat, rec.cltv_expiry, rec.payment_hash, rec.lock);
        self.set_state(id, HtlcState::Accepted);

        if self.configs[to.ix()].behaviour == Behaviour::Hodl {
            let blocks = cltv.saturating_sub(clock.height) as u64;
            let wait = self.block_interval.as_micros() as u64 * blocks;
            out.push(Output::Timer {
                at: clock.now + wait,
                timer: Timer::HtlcExpiry { htlc: id },
            });
            return Ok(());
        }

        let key = self.keys.as_ref().map(|k| &k.secrets[to.ix()]);
        let peeled = match onion::peel(&add.onion, key, &hash) {
            Ok(p) => p,
            Err(PeelError::InvalidPayload {
                error,
                shared_secret,
            }) => {
                tracing::debug!(node = to.0, %error, "invalid onion payload");
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
                self.set_state(id, HtlcState::Removing);
                out.push(Output::Message {
                    from: to,
                    to: from,
                    msg: Msg::FailMalformedHtlc(UpdateFailMalformedHtlc {
                        htlc: id,
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
        // A forwarding hop must understand an h2tlc's second hash, a point lock needs
        // PTLC support (the feature bits). A receiver that registered a redundant
        // payment runs the protocol by definition.
        let cfg = &self.configs[to.ix()];
        let supported = match lock {
            HtlcLock::Hash => true,
            HtlcLock::H2tlc { .. } => cfg.supports_h2tlc,
            HtlcLock::Point { .. } => cfg.supports_ptlc,
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
            None => self.on_final(to, id, amount, cltv, hash, &peeled.payload, clock, out),
            Some(next) => self.on_forward(
                to,
                id,
                amount,
                cltv,
                hash,
                &peeled.payload,
                next,
                clock,
                out,
            ),
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    /// Applies the forwarding rules; on success locks the outgoing HTLC and offers it.
    pub(super) fn on_forward(
        &mut self,
        node: NodeIdx,
        incoming: HtlcId,
        amount: u64,
        cltv: u32,
        hash: PaymentHash,
        payload: &HopPayload,
        next_onion: Onion,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        let ctx = ForwardCtx {
            graph: &self.graph,
            scids: &self.scids,
            configs: &self.configs,
            channels: &self.channels,
            clock: *clock,
        };
        let lock = self.htlcs.get(incoming).map(|h| h.lock).unwrap_or_default();
        let fwd = match check_forward(&ctx, node, amount, cltv, payload) {
            Ok(f) => f,
            Err(rej) => {
                tracing::trace!(node = node.0, error = %rej.error, "forward refused");
                let wait = self.configs[node.ix()].offline_peer_timeout;
                if matches!(rej.error, ForwardError::PeerOffline(_)) && !wait.is_zero() {
                    // Trying to connect to the peer takes time; the HTLC waits locked.
                    out.push(Output::Timer {
                        at: clock.now + wait.as_micros() as u64,
                        timer: Timer::PeerUnreachable { htlc: incoming },
                    });
                    return;
                }
                self.fail_back(incoming, rej.code, rej.data, out);
                return;
            }
        };
        self.channels.add(fwd.edge, fwd.amount_msat, fwd.is_dust);
        let htlc = self.htlcs.insert(Htlc {
            edge: fwd.edge,
            amount_msat: fwd.amount_msat,
            payment_hash: hash,
            lock,
            cltv_expiry: fwd.cltv_expiry,
            origin: HtlcOrigin::Forwarded { incoming },
            state: HtlcState::Offered,
            is_dust: fwd.is_dust,
            added_at: self.now,
            part: self.htlcs.get(incoming).map(|h| h.part).unwrap_or(PartRef {
                slot: u32::MAX,
                seq: 0,
            }),
        });
        self.counters.added += 1;
        out.push(Output::Message {
            from: node,
            to: fwd.next,
            msg: Msg::AddHtlc(UpdateAddHtlc {
                htlc,
                edge: fwd.edge,
                amount_msat: fwd.amount_msat,
                payment_hash: hash,
                lock,
                cltv_expiry: fwd.cltv_expiry,
                onion: next_onion,
            }),
        });
        self.debug_check(fwd.edge.channel());
    }

    #[allow(clippy::too_many_arguments)]
    /// Hands a final HTLC to the node's receiver and carries out its decision.
    pub(super) fn on_final(
        &mut self,
        node: NodeIdx,
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
            self.on_final_redundant(node, htlc, payload, &red, clock, out);
            return;
        }
        // An ordinary payment cannot open an h2tlc's second lock.
        if self.htlcs.get(id).is_some_and(|h| h.lock != HtlcLock::Hash) {
            let (code, data) = unknown_payment(amount, clock.height);
            self.fail_back(id, code, data, out);
            return;
        }
        let cfg = &self.configs[node.ix()];
        let mpp_timeout = cfg.mpp_timeout;
        match self.receivers[node.ix()].receive(htlc, payload, cfg, clock) {
            Decision::Fail { code, data } => self.fail_back(id, code, data, out),
            Decision::Hold { new_set: None } => {}
            Decision::Hold { new_set: Some(set) } => out.push(Output::Timer {
                at: clock.now + mpp_timeout.as_micros() as u64,
                timer: Timer::MppTimeout {
                    node,
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
                    node,
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
