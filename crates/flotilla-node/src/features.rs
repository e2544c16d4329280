//! The BOLT 9 feature bits a flotilla node puts in its `init`: exactly what it
//! honours, nothing claimed for show.
//!
//! One BOLT bit: 39, `option_onion_messages` (optional), always — every node runs
//! LDK's `OnionMessenger`, forwards onion messages for others and receives the
//! redundant flow's endpoint messages as onion messages
//! ([`crate::transport::onion`]); the messenger itself puts the bit in `init`.
//!
//! flotilla's own abilities use custom bits (bLIP 2: 256 and above), all odd
//! ("optional"), so a peer that does not know them still talks to us:
//!
//! | bit | name | meaning |
//! |---|---|---|
//! | 257 | `flotilla_messages` | reads flotilla's custom messages: the tunnelled BOLT 2 updates (`32768 + 2·t + 1`) and the endpoint messages (32769…32775) of `flotilla_ln::wire` |
//! | 259 | `h2tlc` | honours `h2tlc` locks (`update_add_htlc` TLV 131073) |
//! | 261 | `point_lock` | forwards point-locked HTLCs (TLV 131075) |
//!
//! Bits 259 and 261 are promises of the payment engine, so they are set only when
//! an engine that keeps them is attached ([`Capabilities`]); the daemon attaches one
//! and sets both. A redundant payment sends no `h2tlc` part through a peer without
//! 259, and no `boomerang` part through one without 261. No BOLT channel bit
//! (`static_remote_key`, `anchors`, …) is ever set: the node refuses BOLT 2 channel
//! opens, since flotilla's channels are agreed through its own messages.

use lightning::types::features::InitFeatures;

/// BOLT 9 bit: forwards and receives onion messages (`option_onion_messages`).
pub const ONION_MESSAGES_BIT: usize = 39;
/// Custom bit: reads flotilla's custom messages.
pub const FLOTILLA_MESSAGES_BIT: usize = 257;
/// Custom bit: honours `h2tlc` locks.
pub const H2TLC_BIT: usize = 259;
/// Custom bit: forwards point-locked HTLCs.
pub const POINT_LOCK_BIT: usize = 261;

/// What this node can do, and so which bits it advertises.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// A payment engine is attached and honours `h2tlc` locks.
    pub h2tlc: bool,
    /// A payment engine is attached and forwards point-locked HTLCs.
    pub point_lock: bool,
}

impl Capabilities {
    /// The `init` features for these capabilities.
    pub fn init_features(self) -> InitFeatures {
        let mut f = InitFeatures::empty();
        // LDK's `OnionMessenger` advertises it too; here so that `node.json` says
        // exactly what `init` carries.
        f.set_onion_messages_optional();
        // These bits are outside every known range, so setting them cannot fail;
        // a failure would be a programming error caught by the unit test below.
        let _ = f.set_optional_custom_bit(FLOTILLA_MESSAGES_BIT);
        if self.h2tlc {
            let _ = f.set_optional_custom_bit(H2TLC_BIT);
        }
        if self.point_lock {
            let _ = f.set_optional_custom_bit(POINT_LOCK_BIT);
        }
        f
    }
}

/// Whether `features` has `bit` set (either parity: a required bit implies the optional one).
pub fn has_bit(features: &InitFeatures, bit: usize) -> bool {
    let even = bit - bit % 2;
    [even, even + 1].iter().any(|&b| {
        features
            .le_flags()
            .get(b / 8)
            .is_some_and(|byte| byte & (1 << (b % 8)) != 0)
    })
}

/// The features as BOLT 9 writes them on the wire (big-endian), in hex.
pub fn to_hex(features: &InitFeatures) -> String {
    features
        .le_flags()
        .iter()
        .rev()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_messages_bit_without_an_engine() {
        let f = Capabilities::default().init_features();
        assert!(has_bit(&f, FLOTILLA_MESSAGES_BIT));
        assert!(has_bit(&f, ONION_MESSAGES_BIT) && f.supports_onion_messages());
        assert!(!has_bit(&f, H2TLC_BIT));
        assert!(!has_bit(&f, POINT_LOCK_BIT));
        assert!(!f.requires_unknown_bits());
        // 257 is the second bit of byte 32; 33 bytes big-endian, the first one 0x02.
        let hex = to_hex(&f);
        assert_eq!(hex.len(), 66);
        assert!(hex.starts_with("02"), "{hex}");
        // Bit 39 is the top bit of byte 4, the fifth byte from the end.
        assert_eq!(&hex[56..58], "80", "{hex}");
        let all = Capabilities {
            h2tlc: true,
            point_lock: true,
        }
        .init_features();
        assert!(has_bit(&all, H2TLC_BIT) && has_bit(&all, POINT_LOCK_BIT));
    }
}
