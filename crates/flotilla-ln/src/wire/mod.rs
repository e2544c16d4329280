//! Peer messages as bytes: what two real nodes exchange, exactly as a live node will
//! send it.
//!
//! # Framing (BOLT 1)
//!
//! A message is a big-endian `u16` type followed by its payload; the whole is at most
//! [`MAX_MESSAGE_LEN`] (65535) bytes, refused above that in both directions. Every
//! payload is its fixed fields followed by an extension TLV stream (BOLT 1): types
//! strictly increasing, BigSize types and lengths minimally encoded, unknown odd types
//! skipped, unknown even types refused ("it's OK to be odd"). An unknown message type
//! is [`WireError::UnknownOddType`] (ignore it) or [`WireError::UnknownEvenType`] (fail
//! the connection).
//!
//! | message | BOLT type | tunnelled / custom type | fields |
//! |---|---|---|---|
//! | `update_add_htlc` | 128 | 33025 | channel_id, id, amount_msat, payment_hash, cltv_expiry, onion (1366) |
//! | `update_fulfill_htlc` | 130 | 33029 | channel_id, id, payment_preimage |
//! | `update_fail_htlc` | 131 | 33031 | channel_id, id, len, reason |
//! | `commitment_signed` | 132 | 33033 | channel_id, signature, num_htlcs, htlc_signature… |
//! | `revoke_and_ack` | 133 | 33035 | channel_id, per_commitment_secret, next_per_commitment_point |
//! | `update_fail_malformed_htlc` | 135 | 33039 | channel_id, id, sha256_of_onion, failure_code |
//! | `claim_request` | — | 32769 | payment_id, num_parts, (part_index u16, amount_msat u64)… |
//! | `reveal_secrets` | — | 32771 | payment_id, num_secrets, (part_index u16, secret 32)… |
//! | `cancel_payment` | — | 32773 | payment_id |
//! | `boomerang_refund` | — | 32775 | channel_id, id, amount_msat, p0 |
//! | `boomerang_refund_answer` | — | 32789 | channel_id, id, amount_msat, accepted (a live peer's answer to `boomerang_refund`) |
//! | `cancel_htlc` | — | 32787 | channel_id, id (a peer message; 32777–32785 are the live node's channel setup, gossip and reestablish) |
//!
//! The BOLT 2 messages keep their BOLT types and layout: a plain HTLC's
//! `update_add_htlc` is byte-for-byte BOLT 2's (tests decode our bytes with LDK's reader
//! and ours with LDK's writer). A live node runs behind LDK's `PeerManager`, which hands
//! the BOLT types it knows to its own channel handler and only unknown types to a
//! custom-message handler; so the same payload can also travel under a *tunnelled* type
//! `32768 + 2·t + 1` (odd, ≥ 32768: a peer that does not know it ignores it), which
//! [`encode_tunnelled`] writes and [`decode`] reads. The endpoint messages
//! ([`endpoint`]) have only custom types, odd and ≥ 32768 as LDK requires of custom
//! messages; as onion-message contents they use the same number as their TLV type.
//!
//! # Extensions (odd TLV records, ≥ 65536 as BOLT 1 asks of experimental types)
//!
//! | message | TLV | value |
//! |---|---|---|
//! | `update_add_htlc` | 0 `blinded_path_key` (BOLT 2) | 33-byte point |
//! | `update_add_htlc` | 131073 `h2tlc_sender_hash` | H(s_i), 32 bytes |
//! | `update_add_htlc` | 131075 `point_lock` | P(i)·G, 33 bytes |
//! | `update_add_htlc` | 131077 `reverse_point` | C_0 = P(0)·G of a `boomerang` part, 33 bytes |
//! | `update_fulfill_htlc` | 131073 `h2tlc_sender_secret` | s_i, 32 bytes |
//!
//! The lock kinds of [`crate::lock`] map onto these: `hash` and `sender_hash` carry no
//! record (to every hop a `sender_hash` part is an ordinary hash-locked HTLC, and a
//! record would tell each hop the payment is redundant); `h2tlc` carries its second
//! hash; `boomerang` its point (the `payment_hash` is then H(point), an identifier).
//! A point lock is claimed with its scalar in `payment_preimage` (the 32 bytes that open
//! the lock; the hop knows the lock of the HTLC it offered). The records are odd so a
//! peer that does not read them can still parse the message; they are sent only to
//! peers that signalled the matching feature (as LDK does with its own odd
//! `update_add_htlc` records 65537 and 75537, which this codec skips), and a node that
//! has the feature refuses an HTLC whose lock it cannot honour
//! (`required_node_feature_missing`, [`crate::config::NodeConfig::supports_h2tlc`]).
//!
//! # Why not LDK's message structs
//!
//! `lightning::ln::msgs::UpdateAddHTLC` and its `Readable`/`Writeable` have a fixed TLV
//! set (0, 65537, 75537): reading drops every other odd record and writing cannot emit
//! one, so they cannot carry a lock extension, and `UpdateFulfillHTLC` cannot carry a
//! sender secret. So the codec is flotilla's own, on LDK's [`ChannelId`] and the
//! payment types; LDK's codec serves as the reference in the tests. BOLT 1 `init`,
//! `ping`, `pong`, `error` and `warning` are left to LDK's `PeerManager`.
//!
//! # Mapping to the simulator's messages
//!
//! [`convert`] maps [`crate::msg::Msg`] to and from these with the per-channel ids the
//! simulator names by index (see [`convert`]); only real onions have bytes.

pub mod cancel;
mod codec;
pub mod commitment;
pub mod convert;
pub mod endpoint;
pub mod error;
pub mod htlc;
pub mod refund_answer;

pub use cancel::CancelHtlc;
pub use commitment::{CommitmentSigned, RevokeAndAck, SignatureBytes};
pub use endpoint::{CancelPayment, ClaimRequest, RevealSecrets};
pub use error::{ConvertError, WireError};
pub use htlc::{
    BoomerangRefund, UpdateAddHtlc, UpdateFailHtlc, UpdateFailMalformedHtlc, UpdateFulfillHtlc,
};
pub use lightning::ln::types::ChannelId;
pub use refund_answer::RefundAnswer;

/// BOLT 1: the most bytes a message (type and payload) can have.
pub const MAX_MESSAGE_LEN: usize = 65_535;

/// The smallest custom message type (BOLT 1's custom range; LDK's custom messages).
pub const CUSTOM_TYPE_BASE: u16 = 32_768;

/// The types this codec speaks.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// `update_add_htlc`.
    UpdateAddHtlc,
    /// `update_fulfill_htlc`.
    UpdateFulfillHtlc,
    /// `update_fail_htlc`.
    UpdateFailHtlc,
    /// `commitment_signed`.
    CommitmentSigned,
    /// `revoke_and_ack`.
    RevokeAndAck,
    /// `update_fail_malformed_htlc`.
    UpdateFailMalformedHtlc,
    /// `claim_request`.
    ClaimRequest,
    /// `reveal_secrets`.
    RevealSecrets,
    /// `cancel_payment`.
    CancelPayment,
    /// `boomerang_refund`.
    BoomerangRefund,
    /// `cancel_htlc`.
    CancelHtlc,
    /// `boomerang_refund_answer`.
    RefundAnswer,
}

impl MessageType {
    /// Every type.
    pub const ALL: [MessageType; 12] = [
        MessageType::UpdateAddHtlc,
        MessageType::UpdateFulfillHtlc,
        MessageType::UpdateFailHtlc,
        MessageType::CommitmentSigned,
        MessageType::RevokeAndAck,
        MessageType::UpdateFailMalformedHtlc,
        MessageType::ClaimRequest,
        MessageType::RevealSecrets,
        MessageType::CancelPayment,
        MessageType::BoomerangRefund,
        MessageType::CancelHtlc,
        MessageType::RefundAnswer,
    ];

    /// The BOLT type, for the BOLT 2 messages.
    pub fn bolt(self) -> Option<u16> {
        Some(match self {
            MessageType::UpdateAddHtlc => 128,
            MessageType::UpdateFulfillHtlc => 130,
            MessageType::UpdateFailHtlc => 131,
            MessageType::CommitmentSigned => 132,
            MessageType::RevokeAndAck => 133,
            MessageType::UpdateFailMalformedHtlc => 135,
            _ => return None,
        })
    }

    /// The custom (odd, ≥ 32768) type: `32768 + 2·t + 1` for a BOLT 2 message of type
    /// `t`, 32769… for the endpoint messages.
    pub fn custom(self) -> u16 {
        match (self, self.bolt()) {
            (_, Some(t)) => CUSTOM_TYPE_BASE + 2 * t + 1,
            (MessageType::ClaimRequest, _) => 32_769,
            (MessageType::RevealSecrets, _) => 32_771,
            (MessageType::CancelPayment, _) => 32_773,
            (MessageType::CancelHtlc, _) => 32_787,
            (MessageType::RefundAnswer, _) => 32_789,
            _ => 32_775,
        }
    }

    /// The type a message is framed with by [`encode`]: BOLT's where there is one.
    pub fn wire(self) -> u16 {
        self.bolt().unwrap_or_else(|| self.custom())
    }

    /// For an endpoint message, its TLV type as an onion message's content.
    pub fn onion_content_type(self) -> Option<u64> {
        matches!(
            self,
            MessageType::ClaimRequest | MessageType::RevealSecrets | MessageType::CancelPayment
        )
        .then(|| u64::from(self.custom()))
    }

    /// The type a number stands for, BOLT or custom.
    pub fn from_wire(t: u16) -> Option<MessageType> {
        Self::ALL
            .into_iter()
            .find(|m| m.bolt() == Some(t) || m.custom() == t)
    }

    /// The BOLT-style name.
    pub fn name(self) -> &'static str {
        match self {
            MessageType::UpdateAddHtlc => UpdateAddHtlc::NAME,
            MessageType::UpdateFulfillHtlc => UpdateFulfillHtlc::NAME,
            MessageType::UpdateFailHtlc => UpdateFailHtlc::NAME,
            MessageType::CommitmentSigned => CommitmentSigned::NAME,
            MessageType::RevokeAndAck => RevokeAndAck::NAME,
            MessageType::UpdateFailMalformedHtlc => UpdateFailMalformedHtlc::NAME,
            MessageType::ClaimRequest => ClaimRequest::NAME,
            MessageType::RevealSecrets => RevealSecrets::NAME,
            MessageType::CancelPayment => CancelPayment::NAME,
            MessageType::BoomerangRefund => BoomerangRefund::NAME,
            MessageType::CancelHtlc => CancelHtlc::NAME,
            MessageType::RefundAnswer => RefundAnswer::NAME,
        }
    }
}

/// Any message this codec speaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// See [`UpdateAddHtlc`].
    UpdateAddHtlc(UpdateAddHtlc),
    /// See [`UpdateFulfillHtlc`].
    UpdateFulfillHtlc(UpdateFulfillHtlc),
    /// See [`UpdateFailHtlc`].
    UpdateFailHtlc(UpdateFailHtlc),
    /// See [`CommitmentSigned`].
    CommitmentSigned(CommitmentSigned),
    /// See [`RevokeAndAck`].
    RevokeAndAck(RevokeAndAck),
    /// See [`UpdateFailMalformedHtlc`].
    UpdateFailMalformedHtlc(UpdateFailMalformedHtlc),
    /// See [`ClaimRequest`].
    ClaimRequest(ClaimRequest),
    /// See [`RevealSecrets`].
    RevealSecrets(RevealSecrets),
    /// See [`CancelPayment`].
    CancelPayment(CancelPayment),
    /// See [`BoomerangRefund`].
    BoomerangRefund(BoomerangRefund),
    /// See [`CancelHtlc`].
    CancelHtlc(CancelHtlc),
    /// See [`RefundAnswer`].
    RefundAnswer(RefundAnswer),
}

impl Message {
    /// Its type.
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::UpdateAddHtlc(_) => MessageType::UpdateAddHtlc,
            Message::UpdateFulfillHtlc(_) => MessageType::UpdateFulfillHtlc,
            Message::UpdateFailHtlc(_) => MessageType::UpdateFailHtlc,
            Message::CommitmentSigned(_) => MessageType::CommitmentSigned,
            Message::RevokeAndAck(_) => MessageType::RevokeAndAck,
            Message::UpdateFailMalformedHtlc(_) => MessageType::UpdateFailMalformedHtlc,
            Message::ClaimRequest(_) => MessageType::ClaimRequest,
            Message::RevealSecrets(_) => MessageType::RevealSecrets,
            Message::CancelPayment(_) => MessageType::CancelPayment,
            Message::BoomerangRefund(_) => MessageType::BoomerangRefund,
            Message::CancelHtlc(_) => MessageType::CancelHtlc,
            Message::RefundAnswer(_) => MessageType::RefundAnswer,
        }
    }

    /// The payload alone (fixed fields and extension TLVs), e.g. an onion message's
    /// content. Errors if the framed message would exceed [`MAX_MESSAGE_LEN`].
    pub fn encode_payload(&self) -> Result<Vec<u8>, WireError> {
        let mut out = Vec::new();
        self.write_payload(&mut out);
        check_len(out.len() + 2)?;
        Ok(out)
    }

    fn write_payload(&self, out: &mut Vec<u8>) {
        match self {
            Message::UpdateAddHtlc(m) => m.write(out),
            Message::UpdateFulfillHtlc(m) => m.write(out),
            Message::UpdateFailHtlc(m) => m.write(out),
            Message::CommitmentSigned(m) => m.write(out),
            Message::RevokeAndAck(m) => m.write(out),
            Message::UpdateFailMalformedHtlc(m) => m.write(out),
            Message::ClaimRequest(m) => m.write(out),
            Message::RevealSecrets(m) => m.write(out),
            Message::CancelPayment(m) => m.write(out),
            Message::BoomerangRefund(m) => m.write(out),
            Message::CancelHtlc(m) => m.write(out),
            Message::RefundAnswer(m) => m.write(out),
        }
    }

    /// Decodes the payload of a message of type `t`.
    pub fn decode_payload(t: MessageType, payload: &[u8]) -> Result<Message, WireError> {
        check_len(payload.len().saturating_add(2))?;
        Ok(match t {
            MessageType::UpdateAddHtlc => Message::UpdateAddHtlc(UpdateAddHtlc::read(payload)?),
            MessageType::UpdateFulfillHtlc => {
                Message::UpdateFulfillHtlc(UpdateFulfillHtlc::read(payload)?)
            }
            MessageType::UpdateFailHtlc => Message::UpdateFailHtlc(UpdateFailHtlc::read(payload)?),
            MessageType::CommitmentSigned => {
                Message::CommitmentSigned(CommitmentSigned::read(payload)?)
            }
            MessageType::RevokeAndAck => Message::RevokeAndAck(RevokeAndAck::read(payload)?),
            MessageType::UpdateFailMalformedHtlc => {
                Message::UpdateFailMalformedHtlc(UpdateFailMalformedHtlc::read(payload)?)
            }
            MessageType::ClaimRequest => Message::ClaimRequest(ClaimRequest::read(payload)?),
            MessageType::RevealSecrets => Message::RevealSecrets(RevealSecrets::read(payload)?),
            MessageType::CancelPayment => Message::CancelPayment(CancelPayment::read(payload)?),
            MessageType::BoomerangRefund => {
                Message::BoomerangRefund(BoomerangRefund::read(payload)?)
            }
            MessageType::CancelHtlc => Message::CancelHtlc(CancelHtlc::read(payload)?),
            MessageType::RefundAnswer => Message::RefundAnswer(RefundAnswer::read(payload)?),
        })
    }
}

fn check_len(len: usize) -> Result<(), WireError> {
    if len > MAX_MESSAGE_LEN {
        return Err(WireError::TooLong { len });
    }
    Ok(())
}

fn frame(t: u16, m: &Message) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&t.to_be_bytes());
    m.write_payload(&mut out);
    check_len(out.len())?;
    Ok(out)
}

/// A BOLT 1 message: the type ([`MessageType::wire`]) and the payload.
pub fn encode(m: &Message) -> Result<Vec<u8>, WireError> {
    frame(m.message_type().wire(), m)
}

/// The same message under its custom type ([`MessageType::custom`]), for a custom
/// message handler behind LDK's `PeerManager`.
pub fn encode_tunnelled(m: &Message) -> Result<Vec<u8>, WireError> {
    frame(m.message_type().custom(), m)
}

/// A BOLT 1 message back, under its BOLT or its custom type. Total: any input gives a
/// message or a [`WireError`].
pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    check_len(bytes.len())?;
    let (t, payload) = match bytes {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => return Err(WireError::NoType),
    };
    let Some(mt) = MessageType::from_wire(t) else {
        return Err(if t % 2 == 1 {
            WireError::UnknownOddType(t)
        } else {
            WireError::UnknownEvenType(t)
        });
    };
    Message::decode_payload(mt, payload)
}
