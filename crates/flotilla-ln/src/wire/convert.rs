//! The simulator's messages ([`crate::msg`], [`crate::redundant::ClaimRequest`]) to
//! and from their wire forms.
//!
//! The simulator names an HTLC by its slab id ([`HtlcId`]) and a channel direction by
//! [`EdgeIdx`]; a peer names it by `channel_id` and the offerer's per-channel `id`. The
//! node that sends a message knows both ([`HtlcRef`]); the node that receives one looks
//! the pair up in its own channel and hands the simulator's names back to
//! [`to_msg`].

use bitcoin::hashes::{sha256, Hash, HashEngine};
use flotilla_graph::{EdgeIdx, NodeIdx, ShortChannelId};

use super::error::ConvertError;
use super::{
    ChannelId, ClaimRequest, Message, UpdateAddHtlc, UpdateFailHtlc, UpdateFailMalformedHtlc,
    UpdateFulfillHtlc,
};
use crate::failure::{FailureCode, BADONION};
use crate::htlc::HtlcId;
use crate::msg::{self, Msg};
use crate::onion::{FailReason, Onion};
use crate::redundant;

/// The peer-visible names of one HTLC.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct HtlcRef {
    /// The channel's `channel_id`.
    pub channel_id: ChannelId,
    /// The offerer's per-channel HTLC `id`.
    pub id: u64,
}

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

/// `m`'s wire form, for the HTLC `r` names. Only real onions and failure onions have
/// bytes.
pub fn to_wire(m: &Msg, r: HtlcRef) -> Result<Message, ConvertError> {
    Ok(match m {
        Msg::AddHtlc(a) => {
            let Onion::Real(onion) = &a.onion else {
                return Err(ConvertError::ModeledOnion);
            };
            Message::UpdateAddHtlc(UpdateAddHtlc {
                channel_id: r.channel_id,
                id: r.id,
                amount_msat: a.amount_msat,
                payment_hash: a.payment_hash,
                cltv_expiry: a.cltv_expiry,
                onion_routing_packet: onion.clone(),
                blinded_path_key: None,
                lock: a.lock,
            })
        }
        Msg::FulfillHtlc(f) => Message::UpdateFulfillHtlc(UpdateFulfillHtlc {
            channel_id: r.channel_id,
            id: r.id,
            payment_preimage: f.preimage,
            sender_secret: f.sender_secret,
        }),
        Msg::FailHtlc(f) => {
            let FailReason::Real(reason) = &f.reason else {
                return Err(ConvertError::ModeledFailure);
            };
            Message::UpdateFailHtlc(UpdateFailHtlc {
                channel_id: r.channel_id,
                id: r.id,
                reason: reason.clone(),
            })
        }
        Msg::FailMalformedHtlc(f) => Message::UpdateFailMalformedHtlc(UpdateFailMalformedHtlc {
            channel_id: r.channel_id,
            id: r.id,
            sha256_of_onion: f.sha256_of_onion,
            failure_code: f.failure_code.value(),
        }),
    })
}

/// The simulator's message for a decoded HTLC update: `htlc` is the HTLC its
/// `channel_id` and `id` name, `edge` the channel direction an add arrives over (unused
/// by the other updates).
pub fn to_msg(m: Message, htlc: HtlcId, edge: EdgeIdx) -> Result<Msg, ConvertError> {
    Ok(match m {
        Message::UpdateAddHtlc(a) => Msg::AddHtlc(msg::UpdateAddHtlc {
            htlc,
            edge,
            amount_msat: a.amount_msat,
            payment_hash: a.payment_hash,
            lock: a.lock,
            cltv_expiry: a.cltv_expiry,
            onion: Onion::Real(a.onion_routing_packet),
        }),
        Message::UpdateFulfillHtlc(f) => Msg::FulfillHtlc(msg::UpdateFulfillHtlc {
            htlc,
            preimage: f.payment_preimage,
            sender_secret: f.sender_secret,
        }),
        Message::UpdateFailHtlc(f) => Msg::FailHtlc(msg::UpdateFailHtlc {
            htlc,
            reason: FailReason::Real(f.reason),
        }),
        Message::UpdateFailMalformedHtlc(f) => {
            if f.failure_code & BADONION == 0 {
                return Err(ConvertError::NotBadOnion(f.failure_code));
            }
            let code = FailureCode::from_value(f.failure_code)
                .ok_or(ConvertError::UnknownFailureCode(f.failure_code))?;
            Msg::FailMalformedHtlc(msg::UpdateFailMalformedHtlc {
                htlc,
                sha256_of_onion: f.sha256_of_onion,
                failure_code: code,
            })
        }
        other => return Err(ConvertError::NotAnHtlcUpdate(other.message_type().name())),
    })
}

impl From<&redundant::ClaimRequest> for ClaimRequest {
    fn from(r: &redundant::ClaimRequest) -> Self {
        ClaimRequest {
            payment_id: r.payment_id,
            parts: r.parts.clone(),
        }
    }
}

impl ClaimRequest {
    /// The simulator's request, with the nodes the onion message travelled between.
    pub fn into_request(
        self,
        receiver: NodeIdx,
        sender: Option<NodeIdx>,
    ) -> redundant::ClaimRequest {
        redundant::ClaimRequest {
            receiver,
            sender,
            payment_id: self.payment_id,
            parts: self.parts,
        }
    }
}
