//! Starting a part at this node: first-hop checks, the onion, the first HTLC.

use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::secp256k1::{PublicKey, SecretKey};

use crate::clock::Clock;
use crate::failure::FailureCode;
use crate::htlc::{Htlc, HtlcId, HtlcOrigin, HtlcState};
use crate::lock::HtlcLock;
use crate::msg::{HtlcRef, Msg, PartTrace, UpdateAddHtlc};
use crate::onion::real::{self, SharedSecret};
use crate::onion::{ModeledOnion, Onion, OnionMode};
use crate::output::Output;
use crate::payload::HopPayload;
use crate::redundant::RedundantSendPart;
use crate::sender::{build_payloads, check_path, PartId, SendError, SendPart, SentPart};
use crate::PaymentHash;

use super::Node;

/// The per-hop shared secrets a real-mode sender keeps.
pub(super) type Secrets = Box<[SharedSecret]>;

/// The first HTLC of a part: its channel end, amount, expiry and whether it is dust.
pub(super) struct FirstHop {
    end: usize,
    amount: u64,
    cltv: u32,
    dust: bool,
}

impl Node {
    /// Starts a payment part: checks this node's own channel, builds the onion, locks
    /// the first HTLC and emits its `update_add_htlc`. Returns the first HTLC. On error
    /// nothing changed.
    pub fn send_part(
        &mut self,
        part: SendPart<'_>,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<HtlcId, SendError> {
        self.now = clock.now;
        self.height = clock.height;
        let payloads = build_payloads(
            &self.dir.graph,
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
            (part.payment_hash, HtlcLock::Hash, None),
            onion,
            secrets,
            first,
            out,
        ))
    }

    /// Like [`Node::send_part`] with an onion the caller built: for tests, fuzzing and
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
        check_path(&self.dir.graph, path)?;
        self.now = clock.now;
        self.height = clock.height;
        let first = self.check_first_hop(path, clock)?;
        Ok(self.launch(
            id,
            path,
            (payment_hash, HtlcLock::Hash, None),
            onion,
            None,
            first,
            out,
        ))
    }

    /// Starts a redundant part: like [`Node::send_part`], with the HTLC locked by
    /// `part.lock` and the final payload carrying `part.redundant`, whose reply path
    /// names this node. Build it with [`crate::redundant::RedundantSender::part`].
    pub fn send_redundant(
        &mut self,
        part: RedundantSendPart<'_>,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<HtlcId, SendError> {
        self.now = clock.now;
        self.height = clock.height;
        let p = part.part;
        let mut payloads = build_payloads(
            &self.dir.graph,
            p.path,
            clock.height,
            p.payment_data,
            p.keysend_preimage,
        )?;
        if let Some(last) = payloads.last_mut() {
            let mut red = part.redundant;
            red.reply_to = self.id.0;
            red.reply_node = self.reply_node;
            last.redundant = Some(red);
        }
        let first = self.check_first_hop(p.path, clock)?;
        let (onion, secrets) = self.build_onion(p.path, payloads, &p.payment_hash)?;
        Ok(self.launch(
            p.id,
            p.path,
            (p.payment_hash, part.lock, part.reverse_point),
            onion,
            secrets,
            first,
            out,
        ))
    }

    /// The sender's checks of its own channel: the path starts here, the peer is
    /// online, then the peer's limits (its own policy does not apply to its own
    /// payments).
    pub(super) fn check_first_hop(
        &self,
        path: &flotilla_route::Path,
        clock: &Clock,
    ) -> Result<FirstHop, SendError> {
        let first = path.hops[0];
        let Some(end) = self.end_for_edge(first.edge) else {
            return Err(SendError::NotOurChannel);
        };
        if !end.peer_online {
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
        let dust = end.is_dust(amount);
        let limits = end.offer_limits(u64::MAX, self.config.channel.max_dust_htlc_exposure_msat);
        end.check_offer(amount, dust, &limits)
            .map_err(|e| SendError::FirstHop {
                code: FailureCode::TemporaryChannelFailure,
                cause: Some(e),
            })?;
        Ok(FirstHop {
            end: self.dir.end_of(first.edge),
            amount,
            cltv,
            dust,
        })
    }

    /// Records the part, locks the first HTLC and emits its `update_add_htlc`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn launch(
        &mut self,
        id: PartId,
        path: &flotilla_route::Path,
        (payment_hash, lock, reverse): (PaymentHash, HtlcLock, Option<PublicKey>),
        onion: Onion,
        shared_secrets: Option<Secrets>,
        first: FirstHop,
        out: &mut Vec<Output>,
    ) -> HtlcId {
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
        let trace = PartTrace {
            sender: self.id.0,
            slot: part_slot,
            seq,
        };
        let htlc = self.offer(
            first.end,
            (first.amount, first.cltv, first.dust),
            (payment_hash, lock, reverse),
            HtlcOrigin::Local { part: part_slot },
            trace,
            onion,
            out,
        );
        self.flush_commitments(out);
        htlc
    }

    /// Locks an HTLC of this node over end `end` and emits its `update_add_htlc`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn offer(
        &mut self,
        end: usize,
        (amount, cltv, dust): (u64, u32, bool),
        (payment_hash, lock, reverse): (PaymentHash, HtlcLock, Option<PublicKey>),
        origin: HtlcOrigin,
        trace: PartTrace,
        onion: Onion,
        out: &mut Vec<Output>,
    ) -> HtlcId {
        let e = &mut self.ends[end];
        e.offer(amount, dust);
        let wire = HtlcRef {
            channel: e.channel,
            id: e.next_offer_id,
        };
        e.next_offer_id += 1;
        let (edge, peer) = (e.out_edge(), e.peer);
        let htlc = self.insert_htlc(Htlc {
            edge,
            wire,
            end: end as u32,
            amount_msat: amount,
            payment_hash,
            lock,
            cltv_expiry: cltv,
            origin,
            state: HtlcState::Offered,
            is_dust: dust,
            added_at: self.now,
            trace,
        });
        if reverse.is_some() && matches!(origin, HtlcOrigin::Local { .. }) {
            self.note_reverse_point(htlc, reverse.as_ref());
        }
        self.counters.added += 1;
        self.note_update(end, super::commitment::SentUpdate::Add(wire.id));
        out.push(Output::Message {
            from: self.id,
            to: peer,
            msg: Msg::AddHtlc(UpdateAddHtlc {
                htlc: wire,
                amount_msat: amount,
                payment_hash,
                lock,
                cltv_expiry: cltv,
                onion,
                trace,
                reverse_point: reverse.map(Box::new),
            }),
        });
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
                let (seed, _) = self.onion_key.ok_or(SendError::RealOnionUnsupported)?;
                let graph = &self.dir.graph;
                let mut hops: Vec<(PublicKey, HopPayload)> = Vec::with_capacity(payloads.len());
                for (h, p) in path.hops.iter().zip(payloads) {
                    let key = self
                        .dir
                        .onion_pubkey(graph.edge_target(h.edge))
                        .ok_or(SendError::RealOnionUnsupported)?;
                    hops.push((key, p));
                }
                let session = session_key(seed, self.id.0, self.sessions);
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

/// A session key for real onion number `n` of `node`, derived from the key seed.
fn session_key(seed: u64, node: u32, n: u64) -> SecretKey {
    let mut counter = 0u32;
    loop {
        let mut e = sha256::Hash::engine();
        e.input(b"flotilla-onion-session");
        e.input(&seed.to_be_bytes());
        e.input(&node.to_be_bytes());
        e.input(&n.to_be_bytes());
        e.input(&counter.to_be_bytes());
        if let Ok(k) = SecretKey::from_slice(&sha256::Hash::from_engine(e).to_byte_array()) {
            return k;
        }
        counter += 1;
    }
}
