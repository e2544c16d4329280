//! BOLT 2 `commitment_signed` and `revoke_and_ack`, for the faithful commitment mode.
//!
//! The simulator signs no transactions: its signatures are 64 opaque bytes (any value
//! decodes; nothing checks them as ECDSA signatures), so the messages have their real
//! sizes and layout and a live node can put real signatures in the same fields. The
//! per-commitment point must be a valid point, as BOLT 2 requires of a `point`.

use bitcoin::secp256k1::PublicKey;
use lightning::ln::types::ChannelId;

use super::codec::Reader;
use super::error::WireError;

/// A compact ECDSA signature's 64 bytes, carried as they are.
pub type SignatureBytes = [u8; 64];

/// BOLT 2 `commitment_signed` (type 132). Its TLV 1 (`funding_txid`, splicing) is odd
/// and skipped.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CommitmentSigned {
    /// `channel_id`.
    pub channel_id: ChannelId,
    /// `signature` of the peer's new commitment transaction.
    pub signature: SignatureBytes,
    /// `htlc_signature`, one per non-dust HTLC output (a `u16` count). At most
    /// [`CommitmentSigned::MAX_HTLC_SIGNATURES`] fit in a message.
    pub htlc_signatures: Vec<SignatureBytes>,
}

impl CommitmentSigned {
    pub(crate) const NAME: &'static str = "commitment_signed";

    /// Most HTLC signatures one message can carry (65535 bytes less the type and the
    /// fixed fields, 64 bytes each). BOLT 2's 483-HTLC limit per side keeps real
    /// commitments well below it.
    pub const MAX_HTLC_SIGNATURES: usize = (super::MAX_MESSAGE_LEN - 2 - 32 - 64 - 2) / 64;

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.channel_id.0);
        out.extend_from_slice(&self.signature);
        let n = self.htlc_signatures.len().min(u16::MAX as usize);
        out.extend_from_slice(&(n as u16).to_be_bytes());
        for s in self.htlc_signatures.iter().take(n) {
            out.extend_from_slice(s);
        }
    }

    pub(crate) fn read(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload, Self::NAME);
        let channel_id = ChannelId(r.array("channel_id")?);
        let signature = r.array("signature")?;
        let n = r.count(64, "num_htlcs")?;
        let mut htlc_signatures = Vec::with_capacity(n);
        for _ in 0..n {
            htlc_signatures.push(r.array("htlc_signature")?);
        }
        r.tlv_stream(&[])?;
        Ok(CommitmentSigned {
            channel_id,
            signature,
            htlc_signatures,
        })
    }
}

/// BOLT 2 `revoke_and_ack` (type 133).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RevokeAndAck {
    /// `channel_id`.
    pub channel_id: ChannelId,
    /// `per_commitment_secret` of the revoked commitment.
    pub per_commitment_secret: [u8; 32],
    /// `next_per_commitment_point`.
    pub next_per_commitment_point: PublicKey,
}

impl RevokeAndAck {
    pub(crate) const NAME: &'static str = "revoke_and_ack";

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.channel_id.0);
        out.extend_from_slice(&self.per_commitment_secret);
        out.extend_from_slice(&self.next_per_commitment_point.serialize());
    }

    pub(crate) fn read(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload, Self::NAME);
        let m = RevokeAndAck {
            channel_id: ChannelId(r.array("channel_id")?),
            per_commitment_secret: r.array("per_commitment_secret")?,
            next_per_commitment_point: r.point("next_per_commitment_point")?,
        };
        r.tlv_stream(&[])?;
        Ok(m)
    }
}
