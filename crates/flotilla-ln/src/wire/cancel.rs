//! `cancel_htlc`: the offerer of an HTLC asks its peer to stop it (see
//! [`crate::msg::CancelHtlc`] and docs/cancel.md).
//!
//! A peer message, not an onion message: it travels the part's path one channel at a
//! time, as the HTLC did, and each hop names the HTLC by the channel and id it offered
//! the next one. Custom type 32787 (odd, ≥ 32768: a peer that does not know it ignores
//! it, and the part simply keeps travelling). Body: `channel_id` (32), `id` (u64), then
//! the extension TLV stream (empty today).

use lightning::ln::types::ChannelId;

use super::codec::Reader;
use super::error::WireError;

/// `cancel_htlc` on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CancelHtlc {
    /// `channel_id` of the channel the HTLC was offered over.
    pub channel_id: ChannelId,
    /// The offerer's per-channel HTLC `id`.
    pub id: u64,
}

impl CancelHtlc {
    pub(crate) const NAME: &'static str = "cancel_htlc";

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.channel_id.0);
        out.extend_from_slice(&self.id.to_be_bytes());
    }

    pub(crate) fn read(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload, Self::NAME);
        let channel_id = ChannelId(r.array("channel_id")?);
        let id = r.u64("id")?;
        r.tlv_stream(&[])?;
        Ok(CancelHtlc { channel_id, id })
    }
}
