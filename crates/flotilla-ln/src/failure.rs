//! BOLT 4 failure codes and failure messages: one definition used by forwarding,
//! receiving, both onion modes and the sender.

use std::fmt;

/// Flag: the onion itself was unparsable (returned unencrypted as `update_fail_malformed_htlc`).
pub const BADONION: u16 = 0x8000;
/// Flag: permanent failure; retrying the same path will not help.
pub const PERM: u16 = 0x4000;
/// Flag: the failure concerns the node, not a channel.
pub const NODE: u16 = 0x2000;
/// Flag: a `channel_update` is attached.
pub const UPDATE: u16 = 0x1000;

/// The BOLT 4 failure codes flotilla produces or understands.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum FailureCode {
    /// `invalid_realm` (PERM|1).
    InvalidRealm = PERM | 1,
    /// `temporary_node_failure` (NODE|2).
    TemporaryNodeFailure = NODE | 2,
    /// `permanent_node_failure` (PERM|NODE|2).
    PermanentNodeFailure = PERM | NODE | 2,
    /// `required_node_feature_missing` (PERM|NODE|3): e.g. a hop without `h2tlc` support.
    RequiredNodeFeatureMissing = PERM | NODE | 3,
    /// `invalid_onion_version` (BADONION|PERM|4).
    InvalidOnionVersion = BADONION | PERM | 4,
    /// `invalid_onion_hmac` (BADONION|PERM|5): a tampered onion.
    InvalidOnionHmac = BADONION | PERM | 5,
    /// `invalid_onion_key` (BADONION|PERM|6).
    InvalidOnionKey = BADONION | PERM | 6,
    /// `temporary_channel_failure` (UPDATE|7): no liquidity, no HTLC slot, in-flight cap.
    TemporaryChannelFailure = UPDATE | 7,
    /// `permanent_channel_failure` (PERM|8).
    PermanentChannelFailure = PERM | 8,
    /// `required_channel_feature_missing` (PERM|9).
    RequiredChannelFeatureMissing = PERM | 9,
    /// `unknown_next_peer` (PERM|10): no such channel, or the next node is offline.
    UnknownNextPeer = PERM | 10,
    /// `amount_below_minimum` (UPDATE|11).
    AmountBelowMinimum = UPDATE | 11,
    /// `fee_insufficient` (UPDATE|12).
    FeeInsufficient = UPDATE | 12,
    /// `incorrect_cltv_expiry` (UPDATE|13).
    IncorrectCltvExpiry = UPDATE | 13,
    /// `expiry_too_soon` (UPDATE|14).
    ExpiryTooSoon = UPDATE | 14,
    /// `incorrect_or_unknown_payment_details` (PERM|15): the receiver's one answer to
    /// unknown hash, wrong secret, wrong amount and final CLTV too close, so that a
    /// probing hop cannot tell them apart.
    IncorrectOrUnknownPaymentDetails = PERM | 15,
    /// `final_incorrect_cltv_expiry` (18).
    FinalIncorrectCltvExpiry = 18,
    /// `final_incorrect_htlc_amount` (19).
    FinalIncorrectHtlcAmount = 19,
    /// `channel_disabled` (UPDATE|20).
    ChannelDisabled = UPDATE | 20,
    /// `expiry_too_far` (21).
    ExpiryTooFar = 21,
    /// `invalid_onion_payload` (PERM|22).
    InvalidOnionPayload = PERM | 22,
    /// `mpp_timeout` (23): an incomplete MPP set was given up.
    MppTimeout = 23,
}

impl FailureCode {
    /// Every code, for parsing and tests.
    pub const ALL: [FailureCode; 22] = [
        FailureCode::InvalidRealm,
        FailureCode::TemporaryNodeFailure,
        FailureCode::PermanentNodeFailure,
        FailureCode::RequiredNodeFeatureMissing,
        FailureCode::InvalidOnionVersion,
        FailureCode::InvalidOnionHmac,
        FailureCode::InvalidOnionKey,
        FailureCode::TemporaryChannelFailure,
        FailureCode::PermanentChannelFailure,
        FailureCode::RequiredChannelFeatureMissing,
        FailureCode::UnknownNextPeer,
        FailureCode::AmountBelowMinimum,
        FailureCode::FeeInsufficient,
        FailureCode::IncorrectCltvExpiry,
        FailureCode::ExpiryTooSoon,
        FailureCode::IncorrectOrUnknownPaymentDetails,
        FailureCode::FinalIncorrectCltvExpiry,
        FailureCode::FinalIncorrectHtlcAmount,
        FailureCode::ChannelDisabled,
        FailureCode::ExpiryTooFar,
        FailureCode::InvalidOnionPayload,
        FailureCode::MppTimeout,
    ];

    /// The 16-bit wire value.
    pub fn value(self) -> u16 {
        self as u16
    }

    /// The code for a wire value, if it is one we know.
    pub fn from_value(v: u16) -> Option<FailureCode> {
        Self::ALL.into_iter().find(|c| c.value() == v)
    }

    /// BOLT 4's snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            FailureCode::InvalidRealm => "invalid_realm",
            FailureCode::TemporaryNodeFailure => "temporary_node_failure",
            FailureCode::PermanentNodeFailure => "permanent_node_failure",
            FailureCode::RequiredNodeFeatureMissing => "required_node_feature_missing",
            FailureCode::InvalidOnionVersion => "invalid_onion_version",
            FailureCode::InvalidOnionHmac => "invalid_onion_hmac",
            FailureCode::InvalidOnionKey => "invalid_onion_key",
            FailureCode::TemporaryChannelFailure => "temporary_channel_failure",
            FailureCode::PermanentChannelFailure => "permanent_channel_failure",
            FailureCode::RequiredChannelFeatureMissing => "required_channel_feature_missing",
            FailureCode::UnknownNextPeer => "unknown_next_peer",
            FailureCode::AmountBelowMinimum => "amount_below_minimum",
            FailureCode::FeeInsufficient => "fee_insufficient",
            FailureCode::IncorrectCltvExpiry => "incorrect_cltv_expiry",
            FailureCode::ExpiryTooSoon => "expiry_too_soon",
            FailureCode::IncorrectOrUnknownPaymentDetails => "incorrect_or_unknown_payment_details",
            FailureCode::FinalIncorrectCltvExpiry => "final_incorrect_cltv_expiry",
            FailureCode::FinalIncorrectHtlcAmount => "final_incorrect_htlc_amount",
            FailureCode::ChannelDisabled => "channel_disabled",
            FailureCode::ExpiryTooFar => "expiry_too_far",
            FailureCode::InvalidOnionPayload => "invalid_onion_payload",
            FailureCode::MppTimeout => "mpp_timeout",
        }
    }

    /// Whether the PERM flag is set.
    pub fn is_permanent(self) -> bool {
        self.value() & PERM != 0
    }

    /// Whether the NODE flag is set.
    pub fn is_node(self) -> bool {
        self.value() & NODE != 0
    }

    /// Whether BOLT 4 attaches a `channel_update` (the UPDATE flag).
    pub fn has_update(self) -> bool {
        self.value() & UPDATE != 0
    }

    /// Whether the onion was unparsable (the BADONION flag).
    pub fn is_bad_onion(self) -> bool {
        self.value() & BADONION != 0
    }
}

impl fmt::Display for FailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:04x})", self.name(), self.value())
    }
}

/// The data a failure carries besides its code, per BOLT 4.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct FailureData {
    /// `htlc_msat` (amount_below_minimum, fee_insufficient,
    /// incorrect_or_unknown_payment_details) or `incoming_htlc_amt`
    /// (final_incorrect_htlc_amount).
    pub htlc_msat: Option<u64>,
    /// `cltv_expiry` (incorrect_cltv_expiry, final_incorrect_cltv_expiry).
    pub cltv_expiry: Option<u32>,
    /// `height` (incorrect_or_unknown_payment_details).
    pub height: Option<u32>,
    /// The failing channel's current policy, for UPDATE failures: the serialized
    /// `channel_update` in real-onion mode; in modeled mode its short channel id and
    /// direction suffice, since the sender reads policies from the same graph.
    pub channel_update: Option<ChannelUpdateRef>,
}

/// Which channel direction's update a failure attaches.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChannelUpdateRef {
    /// The channel.
    pub short_channel_id: u64,
    /// BOLT 7 `channel_flags` bit 0.
    pub direction: u8,
    /// BOLT 7 `channel_flags` bit 1.
    pub disabled: bool,
}

/// A failure as the sender finally learns it: the code, its data, and which hop
/// produced it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Failure {
    /// What went wrong.
    pub code: FailureCode,
    /// The code's data.
    pub data: FailureData,
    /// Position of the node that produced the failure along the path: 0 is the first
    /// hop's far node, `hops.len() - 1` the receiver.
    pub origin_hop: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_match_bolt4() {
        assert_eq!(FailureCode::TemporaryChannelFailure.value(), 0x1007);
        assert_eq!(FailureCode::UnknownNextPeer.value(), 0x400a);
        assert_eq!(
            FailureCode::IncorrectOrUnknownPaymentDetails.value(),
            0x400f
        );
        assert_eq!(FailureCode::InvalidOnionHmac.value(), 0xc005);
        assert_eq!(FailureCode::ChannelDisabled.value(), 0x1014);
        assert_eq!(FailureCode::MppTimeout.value(), 23);
        assert_eq!(FailureCode::PermanentNodeFailure.value(), 0x6002);
        for c in FailureCode::ALL {
            assert_eq!(FailureCode::from_value(c.value()), Some(c));
        }
        assert_eq!(FailureCode::from_value(0x1234), None);
    }

    #[test]
    fn flags() {
        assert!(FailureCode::FeeInsufficient.has_update());
        assert!(!FailureCode::FeeInsufficient.is_permanent());
        assert!(FailureCode::IncorrectOrUnknownPaymentDetails.is_permanent());
        assert!(FailureCode::InvalidOnionKey.is_bad_onion());
        assert!(FailureCode::TemporaryNodeFailure.is_node());
    }
}
