//! The engine's messages ([`crate::msg`]) to and from their wire forms.
//!
//! The engine names a channel by its index in the graph ([`ChannelIdx`]); a peer names
//! it by `channel_id`. The sending node turns one into the other
//! ([`channel_id_of`] for a simulated channel); the receiving node looks the
//! `channel_id` up among its own channels and hands the index to [`to_msg`]. HTLC ids
//! are the same on both sides (BOLT 2's per-channel `id`).

use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::secp256k1::SecretKey;
use flotilla_graph::{ChannelIdx, ShortChannelId};

use super::error::ConvertError;
use super::{
    BoomerangRefund, CancelPayment, ChannelId, ClaimRequest, Message, RevealSecrets, UpdateAddHtlc,
    UpdateFailHtlc, UpdateFailMalformedHtlc, UpdateFulfillHtlc,
};
use crate::failure::{FailureCode, BADONION};
use crate::msg::{self, EndpointMsg, HtlcRef, Msg, PartTrace};
use crate::onion::{FailReason, Onion};

/// The `channel_id` flotilla gives a channel of the graph. BOLT 2 derives it from the
/// funding outpoint, which public graph data does not carry; SHA-256 of a domain tag
/// and the short channel id is as stable and collision-free for a simulated network
/// (a live node uses the real one).
pub fn channel_id_of(scid: ShortChannelId) -> ChannelId {
    let mut e = sha256::Hash::engine();
    e.input(b"flotilla/channel_id");
    e.input(&scid.0.to_be_bytes());
    ChannelId(sha256::Hash::from_engine(e).to_byte_array())
}

/// `m`'s wire form; `channel_id` names its channel. Only real onions and failure
/// onions have bytes; the commitment messages carry no modelled signatures, so they have
/// no wire form here (the live node signs its own).
pub fn to_wire(m: &Msg, channel_id: ChannelId) -> Result<Message, ConvertError> {
    Ok(match m {
        Msg::AddHtlc(a) => {
            let Onion::Real(onion) = &a.onion else {
                return Err(ConvertError::ModeledOnion);
            };
            Message::UpdateAddHtlc(UpdateAddHtlc {
                channel_id,
                id: a.htlc.id,
                amount_msat: a.amount_msat,
                payment_hash: a.payment_hash,
                cltv_expiry: a.cltv_expiry,
                onion_routing_packet: onion.clone(),
                blinded_path_key: None,
                lock: a.lock,
                reverse_point: a.reverse_point.as_deref().copied(),
            })
        }
        Msg::FulfillHtlc(f) => Message::UpdateFulfillHtlc(UpdateFulfillHtlc {
            channel_id,
            id: f.htlc.id,
            payment_preimage: f.preimage,
            sender_secret: f.sender_secret,
        }),
        Msg::FailHtlc(f) => {
            let FailReason::Real(reason) = &f.reason else {
                return Err(ConvertError::ModeledFailure);
            };
            Message::UpdateFailHtlc(UpdateFailHtlc {
                channel_id,
                id: f.htlc.id,
                reason: reason.clone(),
            })
        }
        Msg::FailMalformedHtlc(f) => Message::UpdateFailMalformedHtlc(UpdateFailMalformedHtlc {
            channel_id,
            id: f.htlc.id,
            sha256_of_onion: f.sha256_of_onion,
            failure_code: f.failure_code.value(),
        }),
        Msg::Endpoint(e) => endpoint_to_wire(e),
        Msg::BoomerangRefund(r) => Message::BoomerangRefund(BoomerangRefund {
            channel_id,
            id: r.htlc.id,
            amount_msat: r.amount_msat,
            p0: SecretKey::from_slice(&r.p0).map_err(|_| ConvertError::InvalidScalar)?,
        }),
        Msg::CancelHtlc(c) => Message::CancelHtlc(super::CancelHtlc {
            channel_id,
            id: c.htlc.id,
        }),
        Msg::CommitmentSigned { .. } | Msg::RevokeAndAck { .. } => {
            return Err(ConvertError::NotAnHtlcUpdate(m.name()))
        }
    })
}

/// An endpoint message's wire form (the contents of an onion message).
pub fn endpoint_to_wire(e: &EndpointMsg) -> Message {
    match e {
        EndpointMsg::ClaimRequest { payment_id, parts } => Message::ClaimRequest(ClaimRequest {
            payment_id: *payment_id,
            parts: parts.clone(),
        }),
        EndpointMsg::Reveal {
            payment_id,
            secrets,
        } => Message::RevealSecrets(RevealSecrets {
            payment_id: *payment_id,
            secrets: secrets.clone(),
        }),
        EndpointMsg::Cancel { payment_id } => Message::CancelPayment(CancelPayment {
            payment_id: *payment_id,
        }),
    }
}

/// The engine's message for a decoded HTLC update or endpoint message; `channel` is
/// the channel its `channel_id` names at the receiving node (unused by endpoint
/// messages).
pub fn to_msg(m: Message, channel: ChannelIdx) -> Result<Msg, ConvertError> {
    let r = |id| HtlcRef { channel, id };
    Ok(match m {
        Message::UpdateAddHtlc(a) => Msg::AddHtlc(msg::UpdateAddHtlc {
            htlc: r(a.id),
            amount_msat: a.amount_msat,
            payment_hash: a.payment_hash,
            lock: a.lock,
            cltv_expiry: a.cltv_expiry,
            onion: Onion::Real(a.onion_routing_packet),
            trace: PartTrace::NONE,
            reverse_point: a.reverse_point.map(Box::new),
        }),
        Message::UpdateFulfillHtlc(f) => Msg::FulfillHtlc(msg::UpdateFulfillHtlc {
            htlc: r(f.id),
            preimage: f.payment_preimage,
            sender_secret: f.sender_secret,
        }),
        Message::UpdateFailHtlc(f) => Msg::FailHtlc(msg::UpdateFailHtlc {
            htlc: r(f.id),
            reason: FailReason::Real(f.reason),
        }),
        Message::UpdateFailMalformedHtlc(f) => {
            if f.failure_code & BADONION == 0 {
                return Err(ConvertError::NotBadOnion(f.failure_code));
            }
            let code = FailureCode::from_value(f.failure_code)
                .ok_or(ConvertError::UnknownFailureCode(f.failure_code))?;
            Msg::FailMalformedHtlc(msg::UpdateFailMalformedHtlc {
                htlc: r(f.id),
                sha256_of_onion: f.sha256_of_onion,
                failure_code: code,
            })
        }
        Message::ClaimRequest(c) => Msg::Endpoint(EndpointMsg::ClaimRequest {
            payment_id: c.payment_id,
            parts: c.parts,
        }),
        Message::RevealSecrets(c) => Msg::Endpoint(EndpointMsg::Reveal {
            payment_id: c.payment_id,
            secrets: c.secrets,
        }),
        Message::CancelPayment(c) => Msg::Endpoint(EndpointMsg::Cancel {
            payment_id: c.payment_id,
        }),
        Message::BoomerangRefund(b) => Msg::BoomerangRefund(msg::BoomerangRefund {
            htlc: r(b.id),
            amount_msat: b.amount_msat,
            p0: b.p0.secret_bytes(),
        }),
        Message::CancelHtlc(c) => Msg::CancelHtlc(msg::CancelHtlc { htlc: r(c.id) }),
        other => return Err(ConvertError::NotAnHtlcUpdate(other.message_type().name())),
    })
}
