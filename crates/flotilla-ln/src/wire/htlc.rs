//! The four BOLT 2 HTLC updates, with flotilla's lock extensions as odd TLV records,
//! and the boomerang reverse clause's claim.

use bitcoin::secp256k1::{PublicKey, SecretKey};
use lightning::ln::types::ChannelId;

use super::codec::{fixed, point_from, scalar_from, write_record, Reader};
use super::error::WireError;
use crate::lock::HtlcLock;
use crate::onion::real::{FailureOnion, RealOnion, ONION_PACKET_LEN};
use crate::{PaymentHash, PaymentPreimage};

/// `update_add_htlc` TLV 0 (BOLT 2): `blinded_path_key`, the path key of a blinded route.
pub const BLINDED_PATH_KEY_TLV: u64 = 0;
/// `update_add_htlc` TLV (flotilla, odd): an `h2tlc` HTLC's second hash H(s_i), 32 bytes.
pub const H2TLC_SENDER_HASH_TLV: u64 = 131_073;
/// `update_add_htlc` TLV (flotilla, odd): a point lock P(i)·G (a `boomerang` part), 33
/// bytes, compressed.
pub const POINT_LOCK_TLV: u64 = 131_075;
/// `update_add_htlc` TLV (flotilla, odd): a `boomerang` part's reverse clause C_0 =
/// P(0)·G, 33 bytes, compressed (see [`crate::msg::UpdateAddHtlc::reverse_point`]).
pub const REVERSE_POINT_TLV: u64 = 131_077;
/// `update_fulfill_htlc` TLV (flotilla, odd): an `h2tlc` claim's sender secret s_i, 32
/// bytes.
pub const H2TLC_SENDER_SECRET_TLV: u64 = 131_073;

/// BOLT 2 `update_add_htlc` (type 128) with flotilla's lock extension.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UpdateAddHtlc {
    /// `channel_id`.
    pub channel_id: ChannelId,
    /// `id`: the offerer's per-channel HTLC counter.
    pub id: u64,
    /// `amount_msat`.
    pub amount_msat: u64,
    /// `payment_hash` (for a point lock, H(point): an identifier that locks nothing).
    pub payment_hash: PaymentHash,
    /// `cltv_expiry`.
    pub cltv_expiry: u32,
    /// `onion_routing_packet`, 1366 bytes.
    pub onion_routing_packet: RealOnion,
    /// TLV 0 `blinded_path_key`: carried so that a blinded forward decodes and
    /// re-encodes unchanged; flotilla does not route blinded paths.
    pub blinded_path_key: Option<PublicKey>,
    /// The lock: [`HtlcLock::Hash`] writes no record (so a plain HTLC is byte-for-byte
    /// BOLT 2's); `H2tlc` writes [`H2TLC_SENDER_HASH_TLV`], `Point` [`POINT_LOCK_TLV`].
    pub lock: HtlcLock,
    /// A `boomerang` part's reverse clause C_0, [`REVERSE_POINT_TLV`].
    pub reverse_point: Option<PublicKey>,
}

impl UpdateAddHtlc {
    pub(crate) const NAME: &'static str = "update_add_htlc";

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.channel_id.0);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.amount_msat.to_be_bytes());
        out.extend_from_slice(&self.payment_hash.0);
        out.extend_from_slice(&self.cltv_expiry.to_be_bytes());
        out.extend_from_slice(self.onion_routing_packet.as_bytes());
        if let Some(k) = &self.blinded_path_key {
            write_record(out, BLINDED_PATH_KEY_TLV, &k.serialize());
        }
        match &self.lock {
            HtlcLock::Hash => {}
            HtlcLock::H2tlc { sender_hash } => {
                write_record(out, H2TLC_SENDER_HASH_TLV, &sender_hash.0)
            }
            HtlcLock::Point { point } => write_record(out, POINT_LOCK_TLV, &point.serialize()),
        }
        if let Some(c0) = &self.reverse_point {
            write_record(out, REVERSE_POINT_TLV, &c0.serialize());
        }
    }

    pub(crate) fn read(payload: &[u8]) -> Result<Self, WireError> {
        const M: &str = UpdateAddHtlc::NAME;
        let mut r = Reader::new(payload, M);
        let channel_id = ChannelId(r.array("channel_id")?);
        let id = r.u64("id")?;
        let amount_msat = r.u64("amount_msat")?;
        let payment_hash = PaymentHash(r.array("payment_hash")?);
        let cltv_expiry = r.u32("cltv_expiry")?;
        let left = r.left();
        let onion = r.take(ONION_PACKET_LEN, "onion_routing_packet")?;
        // `take` gave exactly ONION_PACKET_LEN bytes, the only length `from_bytes` checks.
        let onion_routing_packet =
            RealOnion::from_bytes(onion).map_err(|_| WireError::Truncated {
                message: M,
                field: "onion_routing_packet",
                offset: payload.len() - left,
                need: ONION_PACKET_LEN,
                left,
            })?;
        let mut blinded_path_key = None;
        let mut sender_hash = None;
        let mut point = None;
        let mut reverse_point = None;
        for (t, v) in r.tlv_stream(&[
            BLINDED_PATH_KEY_TLV,
            H2TLC_SENDER_HASH_TLV,
            POINT_LOCK_TLV,
            REVERSE_POINT_TLV,
        ])? {
            match t {
                BLINDED_PATH_KEY_TLV => {
                    let b: [u8; 33] = fixed(v, M, t)?;
                    blinded_path_key = Some(point_from(&b, M, "blinded_path_key")?);
                }
                H2TLC_SENDER_HASH_TLV => sender_hash = Some(PaymentHash(fixed(v, M, t)?)),
                REVERSE_POINT_TLV => {
                    let b: [u8; 33] = fixed(v, M, t)?;
                    reverse_point = Some(point_from(&b, M, "reverse_point")?);
                }
                _ => {
                    let b: [u8; 33] = fixed(v, M, t)?;
                    point = Some(point_from(&b, M, "point_lock")?);
                }
            }
        }
        let lock = match (sender_hash, point) {
            (None, None) => HtlcLock::Hash,
            (Some(sender_hash), None) => HtlcLock::H2tlc { sender_hash },
            (None, Some(point)) => HtlcLock::Point { point },
            (Some(_), Some(_)) => return Err(WireError::ConflictingLocks),
        };
        Ok(UpdateAddHtlc {
            channel_id,
            id,
            amount_msat,
            payment_hash,
            cltv_expiry,
            onion_routing_packet,
            blinded_path_key,
            lock,
            reverse_point,
        })
    }
}

/// BOLT 2 `update_fulfill_htlc` (type 130) with an `h2tlc` claim's sender secret.
///
/// For a point lock (`boomerang`) `payment_preimage` carries the scalar itself: the
/// field is "the 32 bytes that open the lock", and the hop knows which lock the HTLC it
/// offered has ([`crate::lock::check_claim`] reads it so), so no record is needed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UpdateFulfillHtlc {
    /// `channel_id`.
    pub channel_id: ChannelId,
    /// `id` of the HTLC being claimed.
    pub id: u64,
    /// `payment_preimage` (the scalar, for a point lock).
    pub payment_preimage: PaymentPreimage,
    /// [`H2TLC_SENDER_SECRET_TLV`]: s_i, for an `h2tlc` claim.
    pub sender_secret: Option<[u8; 32]>,
}

impl UpdateFulfillHtlc {
    pub(crate) const NAME: &'static str = "update_fulfill_htlc";

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.channel_id.0);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.payment_preimage.0);
        if let Some(s) = &self.sender_secret {
            write_record(out, H2TLC_SENDER_SECRET_TLV, s);
        }
    }

    pub(crate) fn read(payload: &[u8]) -> Result<Self, WireError> {
        const M: &str = UpdateFulfillHtlc::NAME;
        let mut r = Reader::new(payload, M);
        let channel_id = ChannelId(r.array("channel_id")?);
        let id = r.u64("id")?;
        let payment_preimage = PaymentPreimage(r.array("payment_preimage")?);
        let mut sender_secret = None;
        for (t, v) in r.tlv_stream(&[H2TLC_SENDER_SECRET_TLV])? {
            sender_secret = Some(fixed(v, M, t)?);
        }
        Ok(UpdateFulfillHtlc {
            channel_id,
            id,
            payment_preimage,
            sender_secret,
        })
    }
}

/// BOLT 2 `update_fail_htlc` (type 131). Its TLV 1 (`attribution_data`) is odd and
/// skipped: flotilla's failure onions carry no attribution data.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UpdateFailHtlc {
    /// `channel_id`.
    pub channel_id: ChannelId,
    /// `id` of the HTLC being failed.
    pub id: u64,
    /// `reason`: the failure onion (at most 65535 bytes, a `u16` length).
    pub reason: FailureOnion,
}

impl UpdateFailHtlc {
    pub(crate) const NAME: &'static str = "update_fail_htlc";

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.channel_id.0);
        out.extend_from_slice(&self.id.to_be_bytes());
        let reason = self.reason.as_bytes();
        // A longer reason cannot fit in a message; the caller's length check refuses it.
        out.extend_from_slice(&(reason.len().min(u16::MAX as usize) as u16).to_be_bytes());
        out.extend_from_slice(reason);
    }

    pub(crate) fn read(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload, Self::NAME);
        let channel_id = ChannelId(r.array("channel_id")?);
        let id = r.u64("id")?;
        let len = r.count(1, "len")?;
        let reason = FailureOnion::from_bytes(r.take(len, "reason")?.to_vec());
        r.tlv_stream(&[])?;
        Ok(UpdateFailHtlc {
            channel_id,
            id,
            reason,
        })
    }
}

/// BOLT 2 `update_fail_malformed_htlc` (type 135).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UpdateFailMalformedHtlc {
    /// `channel_id`.
    pub channel_id: ChannelId,
    /// `id` of the HTLC being failed.
    pub id: u64,
    /// `sha256_of_onion`.
    pub sha256_of_onion: [u8; 32],
    /// `failure_code` (BOLT 2 requires the BADONION bit; the codec carries any value,
    /// the conversion to [`crate::msg::Msg`] checks it).
    pub failure_code: u16,
}

impl UpdateFailMalformedHtlc {
    pub(crate) const NAME: &'static str = "update_fail_malformed_htlc";

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.channel_id.0);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.sha256_of_onion);
        out.extend_from_slice(&self.failure_code.to_be_bytes());
    }

    pub(crate) fn read(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload, Self::NAME);
        let m = UpdateFailMalformedHtlc {
            channel_id: ChannelId(r.array("channel_id")?),
            id: r.u64("id")?,
            sha256_of_onion: r.array("sha256_of_onion")?,
            failure_code: r.u16("failure_code")?,
        };
        r.tlv_stream(&[])?;
        Ok(m)
    }
}

/// `boomerang_refund` (flotilla, custom type 32775): the offerer of a fulfilled
/// `boomerang` HTLC claims its reverse clause with P(0); the peer pays `amount_msat` back
/// and claims its own clause downstream (see [`crate::msg::BoomerangRefund`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoomerangRefund {
    /// `channel_id`.
    pub channel_id: ChannelId,
    /// `id` of the fulfilled HTLC, as its offerer numbered it.
    pub id: u64,
    /// Its value, msat: what moves back.
    pub amount_msat: u64,
    /// P(0) (a valid scalar), checked against the C_0 the HTLC carried.
    pub p0: SecretKey,
}

impl BoomerangRefund {
    pub(crate) const NAME: &'static str = "boomerang_refund";

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.channel_id.0);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.amount_msat.to_be_bytes());
        out.extend_from_slice(&self.p0.secret_bytes());
    }

    pub(crate) fn read(payload: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(payload, Self::NAME);
        let channel_id = ChannelId(r.array("channel_id")?);
        let id = r.u64("id")?;
        let amount_msat = r.u64("amount_msat")?;
        let p0 = scalar_from(r.take(32, "p0")?, Self::NAME, "p0")?;
        r.tlv_stream(&[])?;
        Ok(BoomerangRefund {
            channel_id,
            id,
            amount_msat,
            p0,
        })
    }
}
