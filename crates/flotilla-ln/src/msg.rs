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
//! Messages name the channel direction (`edge`, standing in for `channel_id`) and the
//! HTLC ([`HtlcId`], standing in for the per-channel `id`).

use flotilla_graph::EdgeIdx;

use crate::failure::FailureCode;
use crate::htlc::HtlcId;
use crate::lock::HtlcLock;
use crate::onion::{FailReason, Onion};
use crate::{PaymentHash, PaymentPreimage};

/// `update_add_htlc`: offer an HTLC to the peer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UpdateAddHtlc {
    /// The HTLC.
    pub htlc: HtlcId,
    /// The channel direction it is offered over.
    pub edge: EdgeIdx,
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
}

/// `update_fulfill_htlc`: claim an HTLC with its preimage.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UpdateFulfillHtlc {
    /// The HTLC.
    pub htlc: HtlcId,
    /// `payment_preimage`.
    pub preimage: PaymentPreimage,
    /// An `h2tlc` claim's sender secret s_i (`None` for every other lock).
    pub sender_secret: Option<[u8; 32]>,
}

/// `update_fail_htlc`: give an HTLC back, with the (onion-wrapped) reason.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UpdateFailHtlc {
    /// The HTLC.
    pub htlc: HtlcId,
    /// `reason`.
    pub reason: FailReason,
}

/// `update_fail_malformed_htlc`: the onion could not be processed (BADONION).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UpdateFailMalformedHtlc {
    /// The HTLC.
    pub htlc: HtlcId,
    /// `sha256_of_onion` (zeros for modeled onions, which have no bytes).
    pub sha256_of_onion: [u8; 32],
    /// `failure_code`, with the BADONION bit set.
    pub failure_code: FailureCode,
}

/// Any of the four.
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
}

impl Msg {
    /// The HTLC the message is about.
    pub fn htlc(&self) -> HtlcId {
        match self {
            Msg::AddHtlc(m) => m.htlc,
            Msg::FulfillHtlc(m) => m.htlc,
            Msg::FailHtlc(m) => m.htlc,
            Msg::FailMalformedHtlc(m) => m.htlc,
        }
    }

    /// BOLT 1 message type name, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Msg::AddHtlc(_) => "update_add_htlc",
            Msg::FulfillHtlc(_) => "update_fulfill_htlc",
            Msg::FailHtlc(_) => "update_fail_htlc",
            Msg::FailMalformedHtlc(_) => "update_fail_malformed_htlc",
        }
    }
}

impl Msg {
    /// The message as a peer would receive it ([`crate::wire`]), for the HTLC `r`
    /// names. Only real onions have bytes.
    pub fn to_wire(
        &self,
        r: crate::wire::convert::HtlcRef,
    ) -> Result<crate::wire::Message, crate::wire::ConvertError> {
        crate::wire::convert::to_wire(self, r)
    }

    /// A decoded HTLC update as the simulator's message: `htlc` is the HTLC its ids name,
    /// `edge` the direction an add arrives over.
    pub fn from_wire(
        m: crate::wire::Message,
        htlc: HtlcId,
        edge: EdgeIdx,
    ) -> Result<Msg, crate::wire::ConvertError> {
        crate::wire::convert::to_msg(m, htlc, edge)
    }
}
