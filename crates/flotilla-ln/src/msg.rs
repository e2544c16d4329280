//! The BOLT 2 HTLC messages peers exchange, as the driver carries them.
//!
//! The commitment dance (`commitment_signed` / `revoke_and_ack`) is collapsed: each update
//! is one message whose effect is applied atomically, so a hop costs one message latency
//! instead of the one and a half round trips real peers spend locking an update in.
//! - An add takes effect at the offerer when it is sent: the offerer's balance, slot and
//!   in-flight allowance are taken at once (as in the offerer's own pending view, so two
//!   racing offers can never spend the same funds); the receiving peer acts on it when
//!   the message arrives.
//! - A fulfil or fail takes effect when it arrives at the offerer: until then the value
//!   stays locked, which is what liquidity-seconds measure.
//!
//! Messages name an HTLC as peers do ([`HtlcRef`]): the channel (standing in for its
//! `channel_id`) and the offerer's per-channel `id`, which counts up from 0 in each
//! direction of each channel as BOLT 2 requires. Each node keeps its own copy of every
//! HTLC it offered or accepted and finds it by that pair; no state is shared.
//!
//! Besides the four BOLT 2 updates, [`Msg`] carries the redundant-payment messages the
//! two endpoints of a payment exchange ([`EndpointMsg`]: claim request, reveal,
//! cancel), which a live node sends as onion messages along a reply path, so sender and
//! receiver need no direct connection.

use bitcoin::secp256k1::PublicKey;
use flotilla_graph::ChannelIdx;

use crate::failure::FailureCode;
use crate::lock::HtlcLock;
use crate::onion::{FailReason, Onion};
use crate::{PaymentHash, PaymentPreimage};

/// How peers name one HTLC: its channel and the offerer's per-channel `id`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HtlcRef {
    /// The channel (its `channel_id` on the wire).
    pub channel: ChannelIdx,
    /// The offerer's per-channel HTLC `id`.
    pub id: u64,
}

/// Simulator-only bookkeeping an `update_add_htlc` carries: which sender's part the
/// HTLC belongs to, so a driver can attribute what happens to it (liquidity-seconds,
/// field scenarios). Never encoded on the wire and never read by the protocol: a live
/// node sends [`PartTrace::NONE`]. Forwarders copy it from the incoming HTLC.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct PartTrace {
    /// The node that sent the part.
    pub sender: u32,
    /// The part's slot at the sender.
    pub slot: u32,
    /// The part's sequence number at the sender (tells a reused slot apart).
    pub seq: u32,
}

impl PartTrace {
    /// No part (a live peer's HTLC, or one built by hand).
    pub const NONE: PartTrace = PartTrace {
        sender: u32::MAX,
        slot: u32::MAX,
        seq: 0,
    };
}

/// `update_add_htlc`: offer an HTLC to the peer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UpdateAddHtlc {
    /// The HTLC.
    pub htlc: HtlcRef,
    /// `amount_msat`.
    pub amount_msat: u64,
    /// `payment_hash`.
    pub payment_hash: PaymentHash,
    /// The HTLC's lock: [`HtlcLock::Hash`] for today's HTLCs; an `h2tlc`'s second hash
    /// (a TLV extension of `update_add_htlc` that only supporting peers understand).
    pub lock: HtlcLock,
    /// `cltv_expiry`, absolute block height.
    pub cltv_expiry: u32,
    /// `onion_routing_packet`.
    pub onion: Onion,
    /// The part it carries (simulator bookkeeping, see [`PartTrace`]).
    pub trace: PartTrace,
    /// A boomerang part's reverse clause: C_0 = P(0)·G of the receiver's polynomial.
    /// Whoever accepts the HTLC owes its value back, once it is fulfilled, to whoever
    /// proves P(0) ([`BoomerangRefund`]); forwarders copy it. `None` for every other
    /// HTLC (boxed: only boomerang parts pay for it).
    pub reverse_point: Option<Box<PublicKey>>,
}

/// `boomerang_refund`: the offerer of a fulfilled boomerang HTLC claims its reverse
/// clause. P(0) proves the receiver claimed more than k parts (the sender interpolated
/// it from k + 1 scalars); the peer that accepted the HTLC pays `amount_msat` back and
/// claims its own reverse clause downstream with the same P(0), so the refund travels
/// the part's path from the sender to the receiver, one message per hop, and every hop
/// checks P(0) against the C_0 it accepted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BoomerangRefund {
    /// The forward HTLC whose reverse clause is claimed (fulfilled already).
    pub htlc: HtlcRef,
    /// Its value, msat: what moves back.
    pub amount_msat: u64,
    /// P(0), a scalar.
    pub p0: [u8; 32],
}

/// `update_fulfill_htlc`: claim an HTLC with its preimage.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UpdateFulfillHtlc {
    /// The HTLC.
    pub htlc: HtlcRef,
    /// `payment_preimage`.
    pub preimage: PaymentPreimage,
    /// An `h2tlc` claim's sender secret s_i (`None` for every other lock).
    pub sender_secret: Option<[u8; 32]>,
}

/// `update_fail_htlc`: give an HTLC back, with the (onion-wrapped) reason.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UpdateFailHtlc {
    /// The HTLC.
    pub htlc: HtlcRef,
    /// `reason`.
    pub reason: FailReason,
}

/// `update_fail_malformed_htlc`: the onion could not be processed (BADONION).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UpdateFailMalformedHtlc {
    /// The HTLC.
    pub htlc: HtlcRef,
    /// `sha256_of_onion` (zeros for modeled onions, which have no bytes).
    pub sha256_of_onion: [u8; 32],
    /// `failure_code`, with the BADONION bit set.
    pub failure_code: FailureCode,
}

/// `cancel_htlc` (flotilla's, not BOLT 2): the offerer of an HTLC asks its peer to fail
/// it at once if it has not forwarded it yet, and to pass the cancel on to the next hop
/// if it has. A redundant payment's sender sends it for its surplus parts once the
/// payment is complete (docs/cancel.md; the per-hop rules are in `node/cancel_part.rs`).
/// It changes no commitment: a peer that ignores it only keeps the part travelling.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct CancelHtlc {
    /// The HTLC, as its offerer names it.
    pub htlc: HtlcRef,
}

/// A message between the two endpoints of a redundant payment (see
/// [`crate::redundant`]), carried as an onion message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EndpointMsg {
    /// Receiver → sender: the parts it holds, worth at least A.
    ClaimRequest {
        /// The sender's name for the payment.
        payment_id: [u8; 32],
        /// `(part_index, amt_to_forward)` of every part held.
        parts: Vec<(u16, u64)>,
    },
    /// Sender → receiver: the secrets of a subset of parts worth exactly A.
    Reveal {
        /// The payment.
        payment_id: [u8; 32],
        /// `(part_index, secret)` of the parts the receiver may claim.
        secrets: Vec<(u16, [u8; 32])>,
    },
    /// Sender → receiver: the sender gave up; fail every part held or still to come.
    Cancel {
        /// The payment.
        payment_id: [u8; 32],
    },
}

impl EndpointMsg {
    /// The payment the message is about.
    pub fn payment_id(&self) -> &[u8; 32] {
        match self {
            EndpointMsg::ClaimRequest { payment_id, .. }
            | EndpointMsg::Reveal { payment_id, .. }
            | EndpointMsg::Cancel { payment_id } => payment_id,
        }
    }
}

/// Any message a node sends: one of the four BOLT 2 HTLC updates, a commitment
/// message of the full exchange, or a redundant payment's endpoint message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// See [`UpdateAddHtlc`].
    AddHtlc(UpdateAddHtlc),
    /// See [`UpdateFulfillHtlc`].
    FulfillHtlc(UpdateFulfillHtlc),
    /// See [`UpdateFailHtlc`].
    FailHtlc(UpdateFailHtlc),
    /// See [`UpdateFailMalformedHtlc`].
    FailMalformedHtlc(UpdateFailMalformedHtlc),
    /// `commitment_signed` over `channel` (full commitment mode only; signatures are
    /// not modelled, the batch is every update sent before it).
    CommitmentSigned {
        /// The channel.
        channel: ChannelIdx,
    },
    /// `revoke_and_ack` over `channel` (full commitment mode only).
    RevokeAndAck {
        /// The channel.
        channel: ChannelIdx,
    },
    /// See [`EndpointMsg`].
    Endpoint(EndpointMsg),
    /// See [`BoomerangRefund`].
    BoomerangRefund(BoomerangRefund),
    /// See [`CancelHtlc`].
    CancelHtlc(CancelHtlc),
}

impl Msg {
    /// The HTLC the message is about, for the four HTLC updates and a boomerang refund.
    pub fn htlc(&self) -> Option<HtlcRef> {
        match self {
            Msg::AddHtlc(m) => Some(m.htlc),
            Msg::FulfillHtlc(m) => Some(m.htlc),
            Msg::FailHtlc(m) => Some(m.htlc),
            Msg::FailMalformedHtlc(m) => Some(m.htlc),
            Msg::BoomerangRefund(m) => Some(m.htlc),
            _ => None,
        }
    }

    /// The channel the message travels over (`None` for endpoint messages, which
    /// travel as onion messages).
    pub fn channel(&self) -> Option<ChannelIdx> {
        match self {
            Msg::CommitmentSigned { channel } | Msg::RevokeAndAck { channel } => Some(*channel),
            Msg::CancelHtlc(m) => Some(m.htlc.channel),
            Msg::Endpoint(_) => None,
            m => m.htlc().map(|h| h.channel),
        }
    }

    /// Whether this removes an HTLC (fulfil, fail or malformed fail).
    pub fn is_removal(&self) -> bool {
        matches!(
            self,
            Msg::FulfillHtlc(_) | Msg::FailHtlc(_) | Msg::FailMalformedHtlc(_)
        )
    }

    /// BOLT 1 message type name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Msg::AddHtlc(_) => "update_add_htlc",
            Msg::FulfillHtlc(_) => "update_fulfill_htlc",
            Msg::FailHtlc(_) => "update_fail_htlc",
            Msg::FailMalformedHtlc(_) => "update_fail_malformed_htlc",
            Msg::CommitmentSigned { .. } => "commitment_signed",
            Msg::RevokeAndAck { .. } => "revoke_and_ack",
            Msg::Endpoint(EndpointMsg::ClaimRequest { .. }) => "claim_request",
            Msg::Endpoint(EndpointMsg::Reveal { .. }) => "reveal",
            Msg::Endpoint(EndpointMsg::Cancel { .. }) => "cancel",
            Msg::BoomerangRefund(_) => "boomerang_refund",
            Msg::CancelHtlc(_) => "cancel_htlc",
        }
    }
}

impl Msg {
    /// The message as a peer would receive it ([`crate::wire`]); `channel_id` is the
    /// wire name of the HTLC's channel. Only real onions have bytes.
    pub fn to_wire(
        &self,
        channel_id: crate::wire::ChannelId,
    ) -> Result<crate::wire::Message, crate::wire::ConvertError> {
        crate::wire::convert::to_wire(self, channel_id)
    }

    /// A decoded HTLC update as the engine's message, over `channel` (the channel its
    /// `channel_id` names at the receiving node).
    pub fn from_wire(
        m: crate::wire::Message,
        channel: ChannelIdx,
    ) -> Result<Msg, crate::wire::ConvertError> {
        crate::wire::convert::to_msg(m, channel)
    }
}
