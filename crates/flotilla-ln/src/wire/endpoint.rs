//! The redundant-payment messages between sender and receiver (see
//! [`crate::redundant`]): claim request, reveal, cancel.
//!
//! Sender and receiver are not peers, so these travel as the contents of BOLT 4 onion
//! messages: each is one record of the onion message's final payload, whose TLV type
//! ([`super::MessageType::onion_content_type`]) equals its custom message type, with
//! the bodies below as values. Between direct peers the same bodies travel as custom
//! messages of that type. Every body ends with an extension TLV stream (empty today).

use super::codec::Reader;
use super::error::WireError;

/// Receiver → sender: the parts it holds for a redundant payment, worth at least A
/// ([`crate::redundant::ClaimRequest`] without the driver's node indices).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClaimRequest {
    /// The sender's name for the payment.
    pub payment_id: [u8; 32],
    /// `(part_index, amt_to_forward)` of every part held; a `u16` count of 10-byte
    /// entries, at most [`ClaimRequest::MAX_PARTS`].
    pub parts: Vec<(u16, u64)>,
}

impl ClaimRequest {
    pub(crate) const NAME: &'static str = "claim_request";

    /// Most parts one message can name.
    pub const MAX_PARTS: usize = (super::MAX_MESSAGE_LEN - 2 - 32 - 2) / 10;

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.payment_id);
        let n = self.parts.len().min(u16::MAX as usize);
        out.extend_from_slice(&(n as u16).to_be_bytes());
        for (i, amt) in self.parts.iter().take(n) {
            out.extend_from_slice(&i.to_be_bytes());
            out.extend_from_slice(&amt.to_be_bytes());
        }
    }

    pub(crate) fn read(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload, Self::NAME);
        let payment_id = r.array("payment_id")?;
        let n = r.count(10, "num_parts")?;
        let mut parts = Vec::with_capacity(n);
        for _ in 0..n {
            parts.push((r.u16("part_index")?, r.u64("amount_msat")?));
        }
        r.tlv_stream(&[])?;
        Ok(ClaimRequest { payment_id, parts })
    }
}

/// Sender → receiver: the secrets s_i of a subset of the held parts worth exactly A
/// (the answer to a [`ClaimRequest`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RevealSecrets {
    /// The sender's name for the payment.
    pub payment_id: [u8; 32],
    /// `(part_index, s_i)`; a `u16` count of 34-byte entries, at most
    /// [`RevealSecrets::MAX_SECRETS`].
    pub secrets: Vec<(u16, [u8; 32])>,
}

impl RevealSecrets {
    pub(crate) const NAME: &'static str = "reveal_secrets";

    /// Most secrets one message can carry.
    pub const MAX_SECRETS: usize = (super::MAX_MESSAGE_LEN - 2 - 32 - 2) / 34;

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.payment_id);
        let n = self.secrets.len().min(u16::MAX as usize);
        out.extend_from_slice(&(n as u16).to_be_bytes());
        for (i, s) in self.secrets.iter().take(n) {
            out.extend_from_slice(&i.to_be_bytes());
            out.extend_from_slice(s);
        }
    }

    pub(crate) fn read(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload, Self::NAME);
        let payment_id = r.array("payment_id")?;
        let n = r.count(34, "num_secrets")?;
        let mut secrets = Vec::with_capacity(n);
        for _ in 0..n {
            secrets.push((r.u16("part_index")?, r.array("secret")?));
        }
        r.tlv_stream(&[])?;
        Ok(RevealSecrets {
            payment_id,
            secrets,
        })
    }
}

/// Sender → receiver: the sender gave up; fail every held part now.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CancelPayment {
    /// The sender's name for the payment.
    pub payment_id: [u8; 32],
}

impl CancelPayment {
    pub(crate) const NAME: &'static str = "cancel_payment";

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.payment_id);
    }

    pub(crate) fn read(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload, Self::NAME);
        let payment_id = r.array("payment_id")?;
        r.tlv_stream(&[])?;
        Ok(CancelPayment { payment_id })
    }
}
