//! What each hop finds in the onion: its own payload, nothing else.
//!
//! The same struct travels in both onion modes: `modeled` hands it to the hop as is,
//! `real` encodes it as BOLT 4 TLVs inside a Sphinx packet and decodes it at the hop.
//! Tests prove both give the same observable behaviour.

use lightning_types::payment::{PaymentPreimage, PaymentSecret};

use crate::lock::LockKind;

/// TLV type of the keysend preimage (a de-facto standard shared by lnd, CLN, LDK).
pub const KEYSEND_TLV_TYPE: u64 = 5_482_373_484;

/// `payment_data` (TLV 8): proves the sender knows the invoice's secret and tells the
/// receiver the total of an MPP set.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct PaymentData {
    /// The invoice's `payment_secret` (or, for keysend MPP, one the sender chose).
    pub payment_secret: PaymentSecret,
    /// The total of all parts of the payment, msat.
    pub total_msat: u64,
}

/// A redundant part's final-hop record (odd custom TLV
/// [`crate::onion::tlv::REDUNDANT_PART_TYPE`]): which redundant payment the part belongs
/// to, its number, the amount the receiver may claim in all (A) and the part's lock.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct RedundantPart {
    /// The sender's name for the payment; echoed in the claim request.
    pub payment_id: [u8; 32],
    /// The part's number: the sender reveals secrets by it.
    pub part_index: u16,
    /// A: what the receiver may claim from all parts together, msat.
    pub amount_due_msat: u64,
    /// The part's lock type.
    pub lock: LockKind,
    /// Where the receiver sends its claim request: the sender's reply path. Modelled as
    /// the sender's node index (a live node would put a blinded path here); the sending
    /// node fills it in.
    pub reply_to: u32,
    /// A live sender's node id, where the receiver sends its claim request (odd TLV
    /// [`crate::onion::tlv::REDUNDANT_REPLY_NODE_TYPE`]); `None` in the simulator, whose
    /// nodes share one index space. Set by the sending node ([`crate::node::Node::set_reply_node`]).
    pub reply_node: Option<[u8; 33]>,
}

/// One hop's onion payload (BOLT 4 `tlv_payload`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HopPayload {
    /// `amt_to_forward` (TLV 2): what the next HTLC must carry, or, at the final hop,
    /// what the receiver must get.
    pub amt_to_forward: u64,
    /// `outgoing_cltv_value` (TLV 4): the next HTLC's absolute expiry, or, at the final
    /// hop, the expiry the receiver's HTLC must carry.
    pub outgoing_cltv_value: u32,
    /// `short_channel_id` (TLV 6) of the next channel; `None` at the final hop.
    pub short_channel_id: Option<u64>,
    /// `payment_data` (TLV 8), final hop only.
    pub payment_data: Option<PaymentData>,
    /// Keysend preimage (TLV 5482373484), final hop only.
    pub keysend_preimage: Option<PaymentPreimage>,
    /// A redundant part's record (odd TLV 65537), final hop only.
    pub redundant: Option<RedundantPart>,
}

impl HopPayload {
    /// A forwarding hop's payload.
    pub fn forward(short_channel_id: u64, amt_to_forward: u64, outgoing_cltv_value: u32) -> Self {
        HopPayload {
            amt_to_forward,
            outgoing_cltv_value,
            short_channel_id: Some(short_channel_id),
            payment_data: None,
            keysend_preimage: None,
            redundant: None,
        }
    }

    /// The final hop's payload.
    pub fn final_hop(
        amt_to_forward: u64,
        outgoing_cltv_value: u32,
        payment_data: Option<PaymentData>,
        keysend_preimage: Option<PaymentPreimage>,
    ) -> Self {
        HopPayload {
            amt_to_forward,
            outgoing_cltv_value,
            short_channel_id: None,
            payment_data,
            keysend_preimage,
            redundant: None,
        }
    }

    /// Whether this is the final hop's payload.
    pub fn is_final(&self) -> bool {
        self.short_channel_id.is_none()
    }
}
