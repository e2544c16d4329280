//! `boomerang_refund_answer`: the peer that received a `boomerang_refund` tells its
//! claimant whether it paid the value back.
//!
//! The simulator settles a refund at both ends when it delivers the claim; live peers
//! need the answer as a message, so that the claimant moves the value to its own side
//! only once the peer has (and a sender learns its part came back, or will not).
//! Custom type 32789 (odd, ≥ 32768, clear of the tunnelled BOLT 2 types, the endpoint
//! messages 32769–32775, the live node's setup messages 32777–32785 and `cancel_htlc`
//! 32787). Body: `channel_id` (32), `id` (u64), `amount_msat` (u64), `accepted` (u8:
//! 1 paid back, 0 refused), then the extension TLV stream (empty today).

use lightning::ln::types::ChannelId;

use super::codec::Reader;
use super::error::WireError;

/// `boomerang_refund_answer` on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RefundAnswer {
    /// `channel_id` of the channel the claimed HTLC was offered over.
    pub channel_id: ChannelId,
    /// The claimant's per-channel HTLC `id` of the claimed HTLC.
    pub id: u64,
    /// The value moved back, msat (as the claim named it).
    pub amount_msat: u64,
    /// Whether the peer paid it back.
    pub accepted: bool,
}

impl RefundAnswer {
    pub(crate) const NAME: &'static str = "boomerang_refund_answer";

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.channel_id.0);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.amount_msat.to_be_bytes());
        out.push(u8::from(self.accepted));
    }

    pub(crate) fn read(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload, Self::NAME);
        let channel_id = ChannelId(r.array("channel_id")?);
        let id = r.u64("id")?;
        let amount_msat = r.u64("amount_msat")?;
        let accepted = match r.array::<1>("accepted")? {
            [0] => false,
            [1] => true,
            _ => {
                return Err(WireError::InvalidFlag {
                    message: Self::NAME,
                    field: "accepted",
                })
            }
        };
        r.tlv_stream(&[])?;
        Ok(RefundAnswer {
            channel_id,
            id,
            amount_msat,
            accepted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_a_bad_flag() {
        let m = RefundAnswer {
            channel_id: ChannelId([4; 32]),
            id: 7,
            amount_msat: 9_000,
            accepted: true,
        };
        let mut b = Vec::new();
        m.write(&mut b);
        assert_eq!(RefundAnswer::read(&b).unwrap(), m);
        let n = b.len();
        b[n - 1] = 2;
        assert!(RefundAnswer::read(&b).is_err());
    }
}
