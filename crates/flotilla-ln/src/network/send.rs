//! Starting a part at its sender: first-hop checks, the onion, the first HTLC.

use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::secp256k1::{PublicKey, SecretKey};

use crate::clock::Clock;
use crate::failure::FailureCode;
use crate::forward::{is_dust, offer_limits};
use crate::htlc::{Htlc, HtlcId, HtlcOrigin, HtlcState, PartRef};
use crate::lock::HtlcLock;
use crate::msg::{Msg, UpdateAddHtlc};
use crate::onion::real::{self, SharedSecret};
use crate::onion::{ModeledOnion, Onion, OnionMode};
use crate::output::Output;
use crate::payload::HopPayload;
use crate::sender::{build_payloads, check_path, PartId, SendError, SendPart, SentPart};
use crate::PaymentHash;

use super::Network;

/// The per-hop shared secrets a real-mode sender keeps.
pub(super) type Secrets = Box<[SharedSecret]>;

impl Network {
    /// Starts a payment part at the path's source: checks the sender's own channel,
    /// builds the onion, locks the first HTLC and emits its `update_add_htlc`. Returns the
    /// first HTLC. On error nothing changed.
    pub fn send(
        &mut self,
        part: SendPart<'_>,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<HtlcId, SendError> {
        self.now = clock.now;
        let payloads = build_payloads(
            &self.graph,
            part.path,
            clock.height,
            part.payment_data,
            part.keysend_preimage,
        )?;
        let first = self.check_first_hop(part.path, clock)?;
        let (onion, secrets) = self.build_onion(part.path, payloads, &part.payment_hash)?;
        Ok(self.launch(
            part.id,
            part.path,
            (part.payment_hash, HtlcLock::Hash),
            onion,
            secrets,
            first,
            out,
        ))
    }

    /// Like [`Network::send`] with an onion the caller built: for tests, fuzzing and
    /// adversaries (e.g. a prober). The path still gives the first HTLC's amount and
    /// expiry and the sender's view of the hops. A real onion sent this way carries no
    /// shared secrets, so its failure comes back undecodable (blamed on the first hop).
    pub fn send_custom(
        &mut self,
        id: PartId,
        path: &flotilla_route::Path,
        payment_hash: PaymentHash,
        onion: Onion,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<HtlcId, SendError> {
        check_path(&self.graph, path)?;
        self.now = clock.now;
        let first = self.check_first_hop(path, clock)?;
        Ok(self.launch(
            id,
            path,
            (payment_hash, HtlcLock::Hash),
            onion,
            None,
            first,
            out,
        ))
    }

    /// The sender's checks of its own channel: its peer online, then the peer's limits
    /// (its own policy does not apply to its own payments). Returns (amount, expiry,
    /// dust) of the first HTLC.
    pub(super) fn check_first_hop(
        &self,
        path: &flotilla_route::Path,
        clock: &Clock,
    ) -> Result<(u64, u32, bool), SendError> {
        let first = path.hops[0];
        let next = self.graph.edge_target(first.edge);
        if !self.configs[next.ix()].online {
            return Err(SendError::FirstHop {
                code: FailureCode::UnknownNextPeer,
                cause: None,
            });
        }
        let amount = first.amount_msat;
        let cltv = clock
            .height
            .checked_add(first.cltv_expiry)
            .ok_or(SendError::CltvOverflow(0))?;
        let dust = is_dust(&self.graph, &self.configs, first.edge, amount);
        let limits = offer_limits(&self.graph, &self.configs, first.edge, u64::MAX);
        self.channels
            .check_add(first.edge, amount, dust, &limits)
            .map_err(|e| SendError::FirstHop {
                code: FailureCode::TemporaryChannelFailure,
                cause: Some(e),
            })?;
        Ok((amount, cltv, dust))
    }

    /// Records the part, locks the first HTLC and emits its `update_add_htlc`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn launch(
        &mut self,
        id: PartId,
        path: &flotilla_route::Path,
        (payment_hash, lock): (PaymentHash, HtlcLock),
        onion: Onion,
        shared_secrets: Option<Secrets>,
        (amount, cltv, dust): (u64, u32, bool),
        out: &mut Vec<Output>,
    ) -> HtlcId {
        let edge = path.hops[0].edge;
        let record = SentPart {
            id,
            path_len: path.hops.len(),
            amount_msat: path.amount_msat(),
            fee_msat: path.fee_msat(),
            seq: self.part_seq,
            locked_msat_micros: 0,
            shared_secrets,
        };
        let seq = self.part_seq;
        self.part_seq = self.part_seq.wrapping_add(1);
        let part_slot = match self.free_parts.pop() {
            Some(slot) => {
                self.parts[slot as usize] = Some(record);
                slot
            }
            None => {
                self.parts.push(Some(record));
                (self.parts.len() - 1) as u32
            }
        };
        self.channels.add(edge, amount, dust);
        let htlc = self.htlcs.insert(Htlc {
            edge,
            amount_msat: amount,
            payment_hash,
            lock,
            cltv_expiry: cltv,
            origin: HtlcOrigin::Local { part: part_slot },
            state: HtlcState::Offered,
            is_dust: dust,
            added_at: self.now,
            part: PartRef {
                slot: part_slot,
                seq,
            },
        });
        self.counters.added += 1;
        out.push(Output::Message {
            from: self.graph.edge_source(edge),
            to: self.graph.edge_target(edge),
            msg: Msg::AddHtlc(UpdateAddHtlc {
                htlc,
                edge,
                amount_msat: amount,
                payment_hash,
                lock,
                cltv_expiry: cltv,
                onion,
            }),
        });
        self.debug_check(edge.channel());
        htlc
    }

    /// The onion for `path`, and in real mode the shared secrets to decode a failure.
    pub(super) fn build_onion(
        &mut self,
        path: &flotilla_route::Path,
        payloads: Vec<HopPayload>,
        hash: &PaymentHash,
    ) -> Result<(Onion, Option<Secrets>), SendError> {
        match self.mode {
            OnionMode::Modeled => Ok((Onion::Modeled(ModeledOnion::from_payloads(payloads)), None)),
            OnionMode::Real => {
                let keys = self.keys.as_ref().ok_or(SendError::RealOnionUnsupported)?;
                let hops: Vec<(PublicKey, HopPayload)> = path
                    .hops
                    .iter()
                    .zip(payloads)
                    .map(|(h, p)| (keys.pubkeys[self.graph.edge_target(h.edge).ix()], p))
                    .collect();
                let session = session_key(keys.seed, self.sessions);
                self.sessions += 1;
                let built =
                    real::build_onion(&session, &hops, &hash.0).map_err(SendError::Onion)?;
                Ok((
                    Onion::Real(built.onion),
                    Some(built.shared_secrets.into_boxed_slice()),
                ))
            }
        }
    }
}

/// A session key for real onion number `n`, derived from the network's key seed.
fn session_key(seed: u64, n: u64) -> SecretKey {
    let mut counter = 0u32;
    loop {
        let mut e = sha256::Hash::engine();
        e.input(b"flotilla-onion-session");
        e.input(&seed.to_be_bytes());
        e.input(&n.to_be_bytes());
        e.input(&counter.to_be_bytes());
        if let Ok(k) = SecretKey::from_slice(&sha256::Hash::from_engine(e).to_byte_array()) {
            return k;
        }
        counter += 1;
    }
}
