//! Real BOLT 4 onions: Sphinx packets built at the sender and peeled hop by hop, failure
//! onions built at the failing hop, re-wrapped by every earlier hop and decoded at the
//! sender.
//!
//! The Sphinx work is done by [`fiber_sphinx`] (a generic BOLT 4 Sphinx: `OnionPacket`
//! create/peel, `OnionErrorPacket` create/xor). Unlike LDK's public `peel_payment_onion`, it
//! imposes no node policy (CLTV deltas, `payment_secret`), so the hops apply flotilla's own
//! rules to the payload peeled here. `fiber-sphinx` is built on `secp256k1` 0.30 while our
//! API speaks `bitcoin::secp256k1` (0.29, LDK's): keys cross over as bytes.
//!
//! What lives here:
//! - [`build_onion`]: the 1366-byte [`RealOnion`] for a path (payloads encoded by
//!   [`super::tlv`]), with the per-hop shared secrets the sender keeps to decode a failure.
//! - [`peel_onion`]: one hop's view, its [`HopPayload`], shared secret and the onion to
//!   forward (`None` at the final hop, which BOLT 4 marks with an all-zero HMAC). Packet
//!   errors map to the BADONION codes (`invalid_onion_version`, `invalid_onion_key`,
//!   `invalid_onion_hmac`), payload errors to `invalid_onion_payload`.
//! - [`build_failure`] / [`wrap_failure`] / [`decode_failure`]: BOLT 4 "Returning Errors",
//!   with the failure message encoded per BOLT 4 "Failure Messages" (see
//!   [`encode_failure_message`]).
//!
//! Checked against the BOLT 4 test vectors (`bolt04/onion-test.json`,
//! `bolt04/onion-error-test.json`, and the "Returning Errors" vector of
//! `04-onion-routing.md`): see the tests at the bottom of this file.

use std::fmt;
use std::sync::OnceLock;

use bitcoin::hashes::hmac::{Hmac, HmacEngine};
use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::secp256k1::{PublicKey, SecretKey};
use fiber_sphinx::{OnionErrorPacket, OnionPacket, OnionSharedSecretIter, ReturnKeys, SphinxError};
use secp256k1_030 as secp30;

use super::tlv::{self, PayloadError};
use crate::failure::{ChannelUpdateRef, Failure, FailureCode, FailureData};
use crate::payload::HopPayload;

/// The only onion version BOLT 4 defines.
pub const ONION_VERSION: u8 = 0;
/// Length of the `hop_payloads` field.
pub const HOP_PAYLOADS_LEN: usize = 1300;
/// Length of a whole `onion_routing_packet`: version, ephemeral key, hop payloads, HMAC.
pub const ONION_PACKET_LEN: usize = 1 + 33 + HOP_PAYLOADS_LEN + 32;
/// BOLT 4: the erring node pads so that `failure_len + pad_len` is (at least, and should
/// be exactly) 256.
pub const FAILURE_PAD_TO: usize = 256;
/// Length of a `channel_update` as [`encode_failure_message`] writes it: the BOLT 7
/// message with its `0x0102` type prefix.
pub const CHANNEL_UPDATE_LEN: usize = 2 + 64 + 32 + 8 + 4 + 1 + 1 + 2 + 8 + 4 + 4 + 8;

const HMAC_LEN: usize = 32;
const KEY_OFFSET: usize = 1;
const DATA_OFFSET: usize = KEY_OFFSET + 33;
const HMAC_OFFSET: usize = DATA_OFFSET + HOP_PAYLOADS_LEN;
const CHANNEL_UPDATE_TYPE: u16 = 0x0102;

/// A 32-byte ECDH shared secret between the sender's session key and one hop.
pub type SharedSecret = [u8; 32];

fn secp() -> &'static secp30::Secp256k1<secp30::All> {
    static SECP: OnceLock<secp30::Secp256k1<secp30::All>> = OnceLock::new();
    SECP.get_or_init(secp30::Secp256k1::new)
}

fn secret_key_030(key: &SecretKey) -> secp30::SecretKey {
    secp30::SecretKey::from_byte_array(&key.secret_bytes())
        .expect("a valid secp256k1 0.29 secret key is valid in 0.30")
}

fn public_key_030(key: &PublicKey) -> secp30::PublicKey {
    secp30::PublicKey::from_slice(&key.serialize())
        .expect("a valid secp256k1 0.29 public key is valid in 0.30")
}

/// Errors of the real onion mode. Hop-side errors name the BOLT 4 failure the hop should
/// return ([`OnionError::failure_code`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OnionError {
    /// Sender: a path needs at least one hop.
    #[error("a path needs at least one hop")]
    EmptyPath,
    /// Sender: the framed payloads plus one HMAC per hop exceed the 1300-byte field.
    #[error("hop payloads need {needed} bytes; an onion holds {HOP_PAYLOADS_LEN}")]
    PayloadsTooLarge {
        /// Bytes the payloads and HMACs would take.
        needed: usize,
    },
    /// Sender: the session key produced a degenerate blinding factor (probability about
    /// 2^-256); retry with another session key.
    #[error("degenerate session key; retry with another")]
    InvalidSessionKey,
    /// Hop: the bytes are not a 1366-byte onion packet. `update_add_htlc` carries the
    /// onion in a fixed-size field, so this only happens to bytes from outside; it is
    /// reported as `invalid_onion_hmac` (no HMAC can authenticate them).
    #[error("an onion packet is {ONION_PACKET_LEN} bytes, got {len}")]
    WrongLength {
        /// The length given.
        len: usize,
    },
    /// Hop: the packet itself is unusable (`invalid_onion_version`, `invalid_onion_key` or
    /// `invalid_onion_hmac`). BOLT 2 returns these unencrypted in
    /// `update_fail_malformed_htlc` with `sha256_of_onion`; the previous hop turns them into
    /// a failure onion with [`build_bad_onion_failure`].
    #[error("unusable onion: {code}")]
    BadOnion {
        /// The BADONION code.
        code: FailureCode,
        /// SHA-256 of the whole packet, the failure's data.
        sha256_of_onion: [u8; 32],
    },
    /// Hop: the packet authenticated, but this hop's payload is invalid
    /// (`invalid_onion_payload`). The shared secret is known, so the hop fails the HTLC
    /// with an ordinary failure onion built with it.
    #[error("invalid onion payload: {error}")]
    InvalidPayload {
        /// What is wrong with the payload.
        error: PayloadError,
        /// The hop's shared secret, to build the failure onion.
        shared_secret: SharedSecret,
    },
    /// Sender: no hop's key authenticates the failure onion (a hop garbled it, or it is
    /// not ours).
    #[error("no hop on the path authenticates this failure onion")]
    UnattributableFailure,
    /// Sender: hop `origin_hop` authenticated a failure message that does not parse.
    #[error("hop {origin_hop} returned a malformed failure message")]
    MalformedFailure {
        /// The hop that produced it.
        origin_hop: usize,
    },
    /// Sender: hop `origin_hop` returned a failure code flotilla does not know.
    #[error("hop {origin_hop} returned unknown failure code 0x{code:04x}")]
    UnknownFailureCode {
        /// The wire value.
        code: u16,
        /// The hop that produced it.
        origin_hop: usize,
    },
}

impl OnionError {
    /// The BOLT 4 failure a hop answers this error with; `None` for sender-side errors.
    pub fn failure_code(&self) -> Option<FailureCode> {
        match self {
            OnionError::WrongLength { .. } => Some(FailureCode::InvalidOnionHmac),
            OnionError::BadOnion { code, .. } => Some(*code),
            OnionError::InvalidPayload { .. } => Some(FailureCode::InvalidOnionPayload),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Packets
// ---------------------------------------------------------------------------------------

/// A BOLT 4 `onion_routing_packet`: `version` (1) ‖ ephemeral `public_key` (33) ‖
/// `hop_payloads` (1300) ‖ `hmac` (32), 1366 bytes, boxed so it moves cheaply.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RealOnion {
    bytes: Box<[u8; ONION_PACKET_LEN]>,
}

impl RealOnion {
    /// Takes a packet from the wire; only the length is checked here, the rest when a hop
    /// peels it.
    pub fn from_bytes(bytes: &[u8]) -> Result<RealOnion, OnionError> {
        let arr: [u8; ONION_PACKET_LEN] = bytes
            .try_into()
            .map_err(|_| OnionError::WrongLength { len: bytes.len() })?;
        Ok(RealOnion {
            bytes: Box::new(arr),
        })
    }

    /// The packet's bytes, as sent in `update_add_htlc`.
    pub fn as_bytes(&self) -> &[u8; ONION_PACKET_LEN] {
        &self.bytes
    }

    /// The version byte.
    pub fn version(&self) -> u8 {
        self.bytes[0]
    }

    /// The serialized ephemeral public key.
    pub fn ephemeral_key(&self) -> &[u8] {
        &self.bytes[KEY_OFFSET..DATA_OFFSET]
    }

    /// The packet's HMAC.
    pub fn hmac(&self) -> &[u8] {
        &self.bytes[HMAC_OFFSET..]
    }

    /// `sha256_of_onion`, the data of the BADONION failures.
    pub fn sha256(&self) -> [u8; 32] {
        sha256::Hash::hash(&self.bytes[..]).to_byte_array()
    }

    fn from_packet(packet: &OnionPacket) -> RealOnion {
        debug_assert_eq!(packet.packet_data.len(), HOP_PAYLOADS_LEN);
        let mut bytes = Box::new([0u8; ONION_PACKET_LEN]);
        bytes[0] = packet.version;
        bytes[KEY_OFFSET..DATA_OFFSET].copy_from_slice(&packet.public_key.serialize());
        bytes[DATA_OFFSET..HMAC_OFFSET].copy_from_slice(&packet.packet_data);
        bytes[HMAC_OFFSET..].copy_from_slice(&packet.hmac);
        RealOnion { bytes }
    }

    fn bad(&self, code: FailureCode) -> OnionError {
        OnionError::BadOnion {
            code,
            sha256_of_onion: self.sha256(),
        }
    }
}

impl fmt::Debug for RealOnion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RealOnion(v{}, key ", self.version())?;
        for b in self.ephemeral_key() {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// What the sender gets from [`build_onion`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltOnion {
    /// The packet for the first hop.
    pub onion: RealOnion,
    /// One shared secret per hop, in path order: what [`decode_failure`] needs.
    pub shared_secrets: Vec<SharedSecret>,
}

/// Frames a payload for the `hop_payloads` field: BigSize length, then the TLV stream.
pub fn frame_payload(payload: &HopPayload) -> Vec<u8> {
    let len = tlv::encoded_len(payload);
    let mut out = Vec::with_capacity(tlv::bigsize_len(len as u64) + len);
    tlv::write_bigsize(&mut out, len as u64);
    tlv::encode_into(&mut out, payload);
    out
}

/// Builds the onion for a path: `hops[i]` is the i-th node after the sender and its
/// payload (forwarding payloads, then the final one). `associated_data` is the payment
/// hash, covered by every HMAC. `session_key` must be fresh random per onion.
///
/// The payloads are encoded, not checked: a sender that puts a forwarding payload last
/// gets an onion that its final hop rejects, like a real one.
///
/// The shared secrets cost about as much again as the packet (one ECDH and one point
/// multiplication per hop, which `fiber-sphinx` does not expose from its own pass). A
/// sender that would rather pay that only when a failure comes back can call
/// [`build_onion_packet`] now and [`onion_shared_secrets`] later.
pub fn build_onion(
    session_key: &SecretKey,
    hops: &[(PublicKey, HopPayload)],
    associated_data: &[u8; 32],
) -> Result<BuiltOnion, OnionError> {
    let pubkeys = hops.iter().map(|(pk, _)| public_key_030(pk)).collect();
    let data = hops.iter().map(|(_, p)| frame_payload(p)).collect();
    build_inner(session_key, pubkeys, data, associated_data, true)
}

/// [`build_onion`] without the shared secrets: just the packet.
pub fn build_onion_packet(
    session_key: &SecretKey,
    hops: &[(PublicKey, HopPayload)],
    associated_data: &[u8; 32],
) -> Result<RealOnion, OnionError> {
    let pubkeys = hops.iter().map(|(pk, _)| public_key_030(pk)).collect();
    let data = hops.iter().map(|(_, p)| frame_payload(p)).collect();
    Ok(build_inner(session_key, pubkeys, data, associated_data, false)?.onion)
}

/// The per-hop shared secrets of the onion built with `session_key` over the nodes
/// `path` (in order): what [`build_onion`] returns, computed on demand.
pub fn onion_shared_secrets(
    session_key: &SecretKey,
    path: &[PublicKey],
) -> Result<Vec<SharedSecret>, OnionError> {
    let pubkeys: Vec<secp30::PublicKey> = path.iter().map(public_key_030).collect();
    OnionSharedSecretIter::new(pubkeys.iter(), secret_key_030(session_key), secp())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| OnionError::InvalidSessionKey)
}

/// [`build_onion`] with pre-framed hop payloads (BigSize length prefix included), as the
/// BOLT 4 test vectors give them; for vectors, custom TLVs and fuzzing.
pub fn build_onion_raw(
    session_key: &SecretKey,
    hops: &[(PublicKey, Vec<u8>)],
    associated_data: &[u8; 32],
) -> Result<BuiltOnion, OnionError> {
    let pubkeys = hops.iter().map(|(pk, _)| public_key_030(pk)).collect();
    let data = hops.iter().map(|(_, d)| d.clone()).collect();
    build_inner(session_key, pubkeys, data, associated_data, true)
}

fn build_inner(
    session_key: &SecretKey,
    pubkeys: Vec<secp30::PublicKey>,
    data: Vec<Vec<u8>>,
    associated_data: &[u8; 32],
    with_secrets: bool,
) -> Result<BuiltOnion, OnionError> {
    if pubkeys.is_empty() {
        return Err(OnionError::EmptyPath);
    }
    let needed: usize = data.iter().map(|d| d.len() + HMAC_LEN).sum();
    if needed > HOP_PAYLOADS_LEN {
        return Err(OnionError::PayloadsTooLarge { needed });
    }
    let session = secret_key_030(session_key);
    let shared_secrets = if with_secrets {
        OnionSharedSecretIter::new(pubkeys.iter(), session, secp())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| OnionError::InvalidSessionKey)?
    } else {
        Vec::new()
    };
    let packet = OnionPacket::create(
        session,
        pubkeys,
        data,
        Some(associated_data.to_vec()),
        HOP_PAYLOADS_LEN,
        secp(),
    )
    .map_err(|e| match e {
        SphinxError::HopDataLenTooLarge => OnionError::PayloadsTooLarge { needed },
        _ => OnionError::InvalidSessionKey,
    })?;
    Ok(BuiltOnion {
        onion: RealOnion::from_packet(&packet),
        shared_secrets,
    })
}

/// One hop's result of peeling an onion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peeled {
    /// This hop's payload, checked against its position (a forwarding hop has a
    /// `short_channel_id` and no final-hop fields; the final hop has no
    /// `short_channel_id`).
    pub payload: HopPayload,
    /// The shared secret with the sender: keep it with the HTLC to build or wrap a
    /// failure onion.
    pub shared_secret: SharedSecret,
    /// The onion for the next hop; `None` at the final hop.
    pub next: Option<RealOnion>,
}

/// Peels one layer at the hop whose node key is `node_secret`. `associated_data` is the
/// HTLC's payment hash.
///
/// Checks in BOLT 4 order: version (`invalid_onion_version`), ephemeral key
/// (`invalid_onion_key`), HMAC (`invalid_onion_hmac`, which also catches a wrong node key
/// or payment hash), then the payload (`invalid_onion_payload`).
pub fn peel_onion(
    node_secret: &SecretKey,
    onion: &RealOnion,
    associated_data: &[u8; 32],
) -> Result<Peeled, OnionError> {
    let bytes = onion.as_bytes();
    if bytes[0] != ONION_VERSION {
        return Err(onion.bad(FailureCode::InvalidOnionVersion));
    }
    let public_key = secp30::PublicKey::from_slice(&bytes[KEY_OFFSET..DATA_OFFSET])
        .map_err(|_| onion.bad(FailureCode::InvalidOnionKey))?;
    let mut hmac = [0u8; HMAC_LEN];
    hmac.copy_from_slice(&bytes[HMAC_OFFSET..]);
    let packet = OnionPacket {
        version: bytes[0],
        public_key,
        packet_data: bytes[DATA_OFFSET..HMAC_OFFSET].to_vec(),
        hmac,
    };
    let node_secret = secret_key_030(node_secret);
    let shared_secret = packet.shared_secret(&node_secret);

    // The length prefix is read inside fiber-sphinx's peel (after the HMAC check); keep
    // the precise reason when it is unusable.
    let mut framing_error: Option<PayloadError> = None;
    let hop_data_len = |decrypted: &[u8]| -> Option<usize> {
        let result = read_frame_len(decrypted);
        match result {
            Ok(n) => Some(n),
            Err(e) => {
                framing_error = Some(e);
                None
            }
        }
    };
    let (hop_data, next) =
        match packet.peel(&node_secret, Some(associated_data), secp(), hop_data_len) {
            Ok(peeled) => peeled,
            Err(SphinxError::HmacMismatch) => {
                return Err(onion.bad(FailureCode::InvalidOnionHmac));
            }
            Err(SphinxError::HopDataLenUnavailable) | Err(SphinxError::HopDataLenTooLarge) => {
                return Err(OnionError::InvalidPayload {
                    error: framing_error.unwrap_or(PayloadError::Truncated { offset: 0 }),
                    shared_secret,
                });
            }
            Err(_) => return Err(onion.bad(FailureCode::InvalidOnionKey)),
        };

    let is_final = next.hmac == [0u8; HMAC_LEN];
    let (_, prefix) = tlv::read_bigsize(&hop_data, 0).expect("length prefix checked during peel");
    let payload = tlv::decode_hop(&hop_data[prefix..], is_final).map_err(|error| {
        OnionError::InvalidPayload {
            error,
            shared_secret,
        }
    })?;
    Ok(Peeled {
        payload,
        shared_secret,
        next: (!is_final).then(|| RealOnion::from_packet(&next)),
    })
}

/// Reads the BigSize length prefix of the decrypted `hop_payloads` and returns the length
/// of prefix plus payload, if it fits with its HMAC.
fn read_frame_len(decrypted: &[u8]) -> Result<usize, PayloadError> {
    let (len, prefix) = tlv::read_bigsize(decrypted, 0)?;
    if len < 2 {
        return Err(PayloadError::ReservedLength { len });
    }
    let room = (decrypted.len() - prefix).saturating_sub(HMAC_LEN) as u64;
    if len > room {
        return Err(PayloadError::Truncated { offset: prefix });
    }
    Ok(prefix + len as usize)
}

// ---------------------------------------------------------------------------------------
// Failure onions
// ---------------------------------------------------------------------------------------

/// A failure onion (`update_fail_htlc.reason`): `hmac` ‖ `failure_len` ‖ `failuremsg` ‖
/// `pad_len` ‖ `pad`, encrypted once per hop on the way back.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FailureOnion {
    bytes: Vec<u8>,
}

impl FailureOnion {
    /// Takes a failure onion from the wire (any length; [`decode_failure`] checks it).
    pub fn from_bytes(bytes: Vec<u8>) -> FailureOnion {
        FailureOnion { bytes }
    }

    /// The bytes, as sent in `update_fail_htlc`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Length in bytes (292 for the ones built here).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether there are no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl fmt::Debug for FailureOnion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FailureOnion({} bytes)", self.bytes.len())
    }
}

/// Builds the failure onion at the failing hop, from the shared secret it got when it
/// peeled the HTLC's onion. For the BADONION codes, whose `sha256_of_onion` is not in
/// [`FailureData`], the hash is written as zeros: use [`build_bad_onion_failure`] when it
/// is known.
pub fn build_failure(
    shared_secret: &SharedSecret,
    code: FailureCode,
    data: &FailureData,
) -> FailureOnion {
    seal_failure(shared_secret, &encode_failure_message(code, data, None))
}

/// Builds the failure onion for a BADONION code with its `sha256_of_onion`: what the hop
/// before a failed peel sends back after receiving `update_fail_malformed_htlc` (BOLT 2),
/// with its own shared secret.
pub fn build_bad_onion_failure(
    shared_secret: &SharedSecret,
    code: FailureCode,
    sha256_of_onion: &[u8; 32],
) -> FailureOnion {
    let message = encode_failure_message(code, &FailureData::default(), Some(sha256_of_onion));
    seal_failure(shared_secret, &message)
}

/// Pads, authenticates (`um`) and encrypts (`ammag`) a failure message.
fn seal_failure(shared_secret: &SharedSecret, message: &[u8]) -> FailureOnion {
    let pad_len = FAILURE_PAD_TO.saturating_sub(message.len());
    let mut payload = Vec::with_capacity(4 + message.len() + pad_len);
    payload.extend_from_slice(&(message.len() as u16).to_be_bytes());
    payload.extend_from_slice(message);
    payload.extend_from_slice(&(pad_len as u16).to_be_bytes());
    payload.resize(payload.len() + pad_len, 0);
    FailureOnion {
        bytes: OnionErrorPacket::create(shared_secret, payload).into_bytes(),
    }
}

/// Re-encrypts a failure onion at a hop on the way back, with that hop's shared secret.
pub fn wrap_failure(shared_secret: &SharedSecret, failure: FailureOnion) -> FailureOnion {
    FailureOnion {
        bytes: OnionErrorPacket::from_bytes(failure.bytes)
            .xor_cipher_stream(shared_secret)
            .into_bytes(),
    }
}

/// Decodes a failure onion at the sender with the path's shared secrets (from
/// [`build_onion`]): peels one encryption layer per hop until a hop's `um` key
/// authenticates the message; that hop is the failure's origin.
///
/// Extra bytes after a code's data are ignored (BOLT 4), so messages from newer nodes
/// (e.g. with attributable-failure TLVs) decode too. Unlike BOLT 4's SHOULD, this does not
/// run dummy rounds up to 27 hops: the timing side channel does not matter to a
/// simulation.
pub fn decode_failure(
    hop_shared_secrets: &[SharedSecret],
    failure: &FailureOnion,
) -> Result<Failure, OnionError> {
    if failure.bytes.len() < HMAC_LEN {
        return Err(OnionError::UnattributableFailure);
    }
    let mut packet = OnionErrorPacket::from_bytes(failure.bytes.clone());
    for (origin_hop, shared_secret) in hop_shared_secrets.iter().enumerate() {
        packet = packet.xor_cipher_stream(shared_secret);
        let (mac, body) = packet.packet_data.split_at(HMAC_LEN);
        let um = ReturnKeys::new(shared_secret).um;
        let mut engine = HmacEngine::<sha256::Hash>::new(&um);
        engine.input(body);
        if Hmac::<sha256::Hash>::from_engine(engine).to_byte_array()[..] == *mac {
            return parse_failure_payload(body, origin_hop);
        }
    }
    Err(OnionError::UnattributableFailure)
}

/// Parses `failure_len ‖ failuremsg ‖ …` into a [`Failure`].
fn parse_failure_payload(body: &[u8], origin_hop: usize) -> Result<Failure, OnionError> {
    let malformed = OnionError::MalformedFailure { origin_hop };
    let mut r = Reader::new(body);
    let len = r.u16().ok_or(malformed.clone())? as usize;
    let message = r.take(len).ok_or(malformed.clone())?;
    let (code, data) = decode_failure_message(message).map_err(|e| match e {
        MessageError::Malformed => malformed,
        MessageError::UnknownCode(code) => OnionError::UnknownFailureCode { code, origin_hop },
    })?;
    Ok(Failure {
        code,
        data,
        origin_hop,
    })
}

// ---------------------------------------------------------------------------------------
// Failure messages (BOLT 4 "Failure Messages")
// ---------------------------------------------------------------------------------------

/// Encodes `failuremsg`: the 2-byte code followed by the data BOLT 4 defines for it.
///
/// | code | data |
/// |---|---|
/// | `invalid_onion_version`/`_hmac`/`_key` | `sha256_of_onion` (zeros when `None`) |
/// | `temporary_channel_failure`, `expiry_too_soon` | `channel_update` |
/// | `amount_below_minimum`, `fee_insufficient` | u64 `htlc_msat`, `channel_update` |
/// | `incorrect_cltv_expiry` | u32 `cltv_expiry`, `channel_update` |
/// | `incorrect_or_unknown_payment_details` | u64 `htlc_msat`, u32 `height` |
/// | `final_incorrect_cltv_expiry` | u32 `cltv_expiry` |
/// | `final_incorrect_htlc_amount` | u64 `incoming_htlc_amt` (`htlc_msat`) |
/// | `channel_disabled` | u16 `disabled_flags` (0), `channel_update` |
/// | every other code | nothing |
///
/// A missing number is written as 0. `channel_update` is `[u16 len][len bytes]`: a BOLT 7
/// `channel_update` with its `0x0102` type prefix (138 bytes) whose `short_channel_id` and
/// `channel_flags` (bit 0 direction, bit 1 disabled) come from [`ChannelUpdateRef`], with the
/// mainnet chain hash. flotilla carries no signed gossip, so the signature is zeros and the
/// policy fields (timestamp, CLTV delta, fees, HTLC limits) are zero placeholders: the
/// sender reads policies from its graph, as in the modeled mode. A missing update is
/// written with length 0. `invalid_onion_payload`'s optional `type`/`offset` are not sent
/// ([`FailureData`] has no room for them).
pub fn encode_failure_message(
    code: FailureCode,
    data: &FailureData,
    sha256_of_onion: Option<&[u8; 32]>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + 8 + 4 + 2 + CHANNEL_UPDATE_LEN);
    out.extend_from_slice(&code.value().to_be_bytes());
    let htlc_msat = data.htlc_msat.unwrap_or(0);
    let cltv_expiry = data.cltv_expiry.unwrap_or(0);
    match code {
        FailureCode::InvalidOnionVersion
        | FailureCode::InvalidOnionHmac
        | FailureCode::InvalidOnionKey => {
            out.extend_from_slice(sha256_of_onion.unwrap_or(&[0u8; 32]));
        }
        FailureCode::TemporaryChannelFailure | FailureCode::ExpiryTooSoon => {
            write_channel_update(&mut out, data.channel_update.as_ref());
        }
        FailureCode::AmountBelowMinimum | FailureCode::FeeInsufficient => {
            out.extend_from_slice(&htlc_msat.to_be_bytes());
            write_channel_update(&mut out, data.channel_update.as_ref());
        }
        FailureCode::IncorrectCltvExpiry => {
            out.extend_from_slice(&cltv_expiry.to_be_bytes());
            write_channel_update(&mut out, data.channel_update.as_ref());
        }
        FailureCode::IncorrectOrUnknownPaymentDetails => {
            out.extend_from_slice(&htlc_msat.to_be_bytes());
            out.extend_from_slice(&data.height.unwrap_or(0).to_be_bytes());
        }
        FailureCode::FinalIncorrectCltvExpiry => {
            out.extend_from_slice(&cltv_expiry.to_be_bytes());
        }
        FailureCode::FinalIncorrectHtlcAmount => {
            out.extend_from_slice(&htlc_msat.to_be_bytes());
        }
        FailureCode::ChannelDisabled => {
            out.extend_from_slice(&0u16.to_be_bytes());
            write_channel_update(&mut out, data.channel_update.as_ref());
        }
        FailureCode::InvalidRealm
        | FailureCode::TemporaryNodeFailure
        | FailureCode::PermanentNodeFailure
        | FailureCode::RequiredNodeFeatureMissing
        | FailureCode::PermanentChannelFailure
        | FailureCode::RequiredChannelFeatureMissing
        | FailureCode::UnknownNextPeer
        | FailureCode::ExpiryTooFar
        | FailureCode::InvalidOnionPayload
        | FailureCode::MppTimeout => {}
    }
    out
}

fn write_channel_update(out: &mut Vec<u8>, update: Option<&ChannelUpdateRef>) {
    let Some(update) = update else {
        out.extend_from_slice(&0u16.to_be_bytes());
        return;
    };
    out.extend_from_slice(&(CHANNEL_UPDATE_LEN as u16).to_be_bytes());
    out.extend_from_slice(&CHANNEL_UPDATE_TYPE.to_be_bytes());
    out.extend_from_slice(&[0u8; 64]); // signature: none (flotilla has no signed gossip)
    let chain_hash: &[u8] = bitcoin::constants::ChainHash::BITCOIN.as_ref();
    out.extend_from_slice(chain_hash);
    out.extend_from_slice(&update.short_channel_id.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes()); // timestamp
    out.push(1); // message_flags: must_be_one
    out.push((update.direction & 1) | (u8::from(update.disabled) << 1)); // channel_flags
    out.extend_from_slice(&[0u8; 2 + 8 + 4 + 4 + 8]); // cltv delta, htlc min, fees, htlc max
}

enum MessageError {
    Malformed,
    UnknownCode(u16),
}

/// Decodes `failuremsg` (the inverse of [`encode_failure_message`]; extra bytes ignored).
fn decode_failure_message(message: &[u8]) -> Result<(FailureCode, FailureData), MessageError> {
    let mut r = Reader::new(message);
    let value = r.u16().ok_or(MessageError::Malformed)?;
    let code = FailureCode::from_value(value).ok_or(MessageError::UnknownCode(value))?;
    let mut data = FailureData::default();
    let m = MessageError::Malformed;
    match code {
        FailureCode::TemporaryChannelFailure | FailureCode::ExpiryTooSoon => {
            data.channel_update = read_channel_update(&mut r).ok_or(m)?;
        }
        FailureCode::AmountBelowMinimum | FailureCode::FeeInsufficient => {
            data.htlc_msat = Some(r.u64().ok_or(MessageError::Malformed)?);
            data.channel_update = read_channel_update(&mut r).ok_or(m)?;
        }
        FailureCode::IncorrectCltvExpiry => {
            data.cltv_expiry = Some(r.u32().ok_or(MessageError::Malformed)?);
            data.channel_update = read_channel_update(&mut r).ok_or(m)?;
        }
        FailureCode::IncorrectOrUnknownPaymentDetails => {
            data.htlc_msat = Some(r.u64().ok_or(MessageError::Malformed)?);
            data.height = Some(r.u32().ok_or(m)?);
        }
        FailureCode::FinalIncorrectCltvExpiry => data.cltv_expiry = Some(r.u32().ok_or(m)?),
        FailureCode::FinalIncorrectHtlcAmount => data.htlc_msat = Some(r.u64().ok_or(m)?),
        FailureCode::ChannelDisabled => {
            r.u16().ok_or(MessageError::Malformed)?; // disabled_flags
            data.channel_update = read_channel_update(&mut r).ok_or(m)?;
        }
        // sha256_of_onion (BADONION) and invalid_onion_payload's type/offset are not kept.
        _ => {}
    }
    Ok((code, data))
}

/// Reads `[u16 len][channel_update]`: `Some(None)` for an empty one, `None` if malformed.
/// Accepts the update with its `0x0102` prefix and the historical form without.
fn read_channel_update(r: &mut Reader<'_>) -> Option<Option<ChannelUpdateRef>> {
    let len = r.u16()? as usize;
    let update = r.take(len)?;
    if len == 0 {
        return Some(None);
    }
    const BODY: usize = CHANNEL_UPDATE_LEN - 2;
    let body = if len >= CHANNEL_UPDATE_LEN && update[..2] == CHANNEL_UPDATE_TYPE.to_be_bytes() {
        &update[2..]
    } else if len >= BODY {
        update
    } else {
        return None;
    };
    // signature (64) ‖ chain_hash (32) ‖ short_channel_id (8) ‖ timestamp (4) ‖
    // message_flags (1) ‖ channel_flags (1) ‖ …
    let scid = u64::from_be_bytes(body[96..104].try_into().ok()?);
    let channel_flags = body[109];
    Some(Some(ChannelUpdateRef {
        short_channel_id: scid,
        direction: channel_flags & 1,
        disabled: channel_flags & 2 != 0,
    }))
}

/// What [`decode_failure`] returns for a failure built from `code` and `data`: the fields
/// the code defines, with missing numbers as 0 (see [`encode_failure_message`]). Use it to
/// make a modeled failure look exactly like a real one.
pub fn canonical_failure_data(code: FailureCode, data: &FailureData) -> FailureData {
    match decode_failure_message(&encode_failure_message(code, data, None)) {
        Ok((_, data)) => data,
        Err(_) => unreachable!("an encoded failure message decodes"),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.bytes.len() {
            return None;
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Some(head)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests;
