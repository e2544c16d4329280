//! Why bytes are not a message, or a message cannot become bytes.

/// A decoding or encoding failure. Decoding never panics and never allocates more than
/// the input justifies: every one of these names what was wrong and where.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum WireError {
    /// BOLT 1: a message (type and payload) is at most 65535 bytes.
    #[error("message of {len} bytes is longer than BOLT 1's 65535")]
    TooLong {
        /// The length given or produced.
        len: usize,
    },
    /// Fewer bytes than the two-byte message type.
    #[error("message shorter than its 2-byte type")]
    NoType,
    /// A type this codec does not know, and even: BOLT 1 says the connection must fail.
    #[error("unknown even message type {0}")]
    UnknownEvenType(u16),
    /// A type this codec does not know, and odd: BOLT 1 says ignore the message.
    #[error("unknown odd message type {0} (to be ignored)")]
    UnknownOddType(u16),
    /// A fixed field runs past the end of the message.
    #[error("{message}: {field} needs {need} bytes at byte {offset}, {left} left")]
    Truncated {
        /// The message.
        message: &'static str,
        /// The field.
        field: &'static str,
        /// Where it starts in the payload.
        offset: usize,
        /// Its length.
        need: usize,
        /// What was left.
        left: usize,
    },
    /// A BigSize (a TLV type or length) is cut short.
    #[error("{message}: TLV stream truncated at byte {offset}")]
    TlvTruncated {
        /// The message.
        message: &'static str,
        /// Where the incomplete item starts in the payload.
        offset: usize,
    },
    /// A BigSize is not minimally encoded.
    #[error("{message}: non-minimal BigSize at byte {offset}")]
    NonMinimalBigSize {
        /// The message.
        message: &'static str,
        /// Where it starts in the payload.
        offset: usize,
    },
    /// TLV types must strictly increase (no duplicates either).
    #[error("{message}: TLV type {tlv_type} at byte {offset} does not follow type {previous}")]
    TlvOrder {
        /// The message.
        message: &'static str,
        /// The offending type.
        tlv_type: u64,
        /// The type before it.
        previous: u64,
        /// Where the record starts in the payload.
        offset: usize,
    },
    /// A record's length runs past the end of the message.
    #[error("{message}: TLV type {tlv_type} has length {len}, only {left} bytes left")]
    TlvValueTruncated {
        /// The message.
        message: &'static str,
        /// The record's type.
        tlv_type: u64,
        /// Its declared length.
        len: u64,
        /// What was left.
        left: usize,
    },
    /// An even TLV type this codec does not know ("it's OK to be odd", not even).
    #[error("{message}: unknown even TLV type {tlv_type} at byte {offset}")]
    UnknownEvenTlv {
        /// The message.
        message: &'static str,
        /// The type.
        tlv_type: u64,
        /// Where the record starts in the payload.
        offset: usize,
    },
    /// A known TLV record whose value has the wrong length.
    #[error("{message}: TLV type {tlv_type} has length {len}, expected {expected}")]
    TlvLength {
        /// The message.
        message: &'static str,
        /// The type.
        tlv_type: u64,
        /// Its length.
        len: usize,
        /// The only valid length.
        expected: usize,
    },
    /// 33 bytes that are not a compressed secp256k1 point.
    #[error("{message}: {field} is not a valid secp256k1 point")]
    InvalidPoint {
        /// The message.
        message: &'static str,
        /// The field or record.
        field: &'static str,
    },
    /// 32 bytes that are not a secp256k1 scalar in [1, n).
    #[error("{message}: {field} is not a valid secp256k1 scalar")]
    InvalidScalar {
        /// The message.
        message: &'static str,
        /// The field or record.
        field: &'static str,
    },
    /// `update_add_htlc` carries both lock extensions; an HTLC has one lock.
    #[error("update_add_htlc: both an h2tlc sender hash and a point lock")]
    ConflictingLocks,
    /// A one-byte flag that is neither 0 nor 1.
    #[error("{message}: {field} is neither 0 nor 1")]
    InvalidFlag {
        /// The message.
        message: &'static str,
        /// The field.
        field: &'static str,
    },
}

/// Why a simulator message ([`crate::msg::Msg`]) has no wire form, or a decoded wire
/// message is not one the simulator's HTLC layer takes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ConvertError {
    /// A modeled onion is a struct per hop, not the 1366 bytes a peer needs.
    #[error("a modeled onion has no bytes: use real onions for wire messages")]
    ModeledOnion,
    /// A modeled failure travels in the clear, not as a failure onion.
    #[error("a modeled failure has no bytes: use real onions for wire messages")]
    ModeledFailure,
    /// `update_fail_malformed_htlc` with a code the simulator does not know.
    #[error("update_fail_malformed_htlc: unknown failure code {0:#06x}")]
    UnknownFailureCode(u16),
    /// `update_fail_malformed_htlc` whose code lacks the BADONION bit (BOLT 2: the
    /// receiver must fail the channel).
    #[error("update_fail_malformed_htlc: failure code {0:#06x} lacks the BADONION bit")]
    NotBadOnion(u16),
    /// The message is not an HTLC update (`commitment_signed`, `revoke_and_ack` and the
    /// endpoint messages have no [`crate::msg::Msg`] counterpart).
    #[error("{0} is not an HTLC update")]
    NotAnHtlcUpdate(&'static str),
    /// A `boomerang_refund` whose P(0) is not a valid scalar (a peer would refuse it).
    #[error("boomerang_refund: P(0) is not a valid scalar")]
    InvalidScalar,
}
