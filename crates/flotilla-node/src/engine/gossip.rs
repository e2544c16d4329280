//! Gossip: how nodes learn the live network's channels and policies.
//!
//! BOLT 7's `channel_announcement` proves a channel with four signatures over a
//! funding output on chain; a flotilla channel has no funding output, so LDK's gossip
//! handler (which wants a chain lookup or trusts announcements blindly) has nothing to
//! check. Instead each end of a channel signs a `channel_announce` for its own
//! direction — the channel, its capacity and that direction's policy, like BOLT 7's
//! `channel_update` — with its node key. A node accepts an announcement whose
//! signature is the named end's, keeps the newest per (channel, direction) by
//! timestamp, and relays what was new to its other peers, so announcements flood the
//! connected network. A channel enters the graph with its first announcement; a
//! direction nobody announced yet has no policy and routes nothing.
//!
//! Layout (201 bytes, big-endian): channel_id (32), node_1 (33), node_2 (33;
//! node_1 < node_2), capacity_sat (u64), direction (u8: 0 = node_1's policy),
//! fee_base_msat (u32), fee_rate_ppm (u32), cltv_expiry_delta (u16),
//! htlc_minimum_msat (u64), htlc_maximum_msat (u64), timestamp (u32), then the
//! signing node's compact ECDSA signature (64) over SHA256d of the 137 bytes before it.

use bitcoin::hashes::{sha256d, Hash};
use bitcoin::secp256k1::{ecdsa::Signature, Message, PublicKey, Secp256k1, SecretKey};
use flotilla_graph::Policy;

use crate::transport::setup::ANNOUNCE_LEN;

const SIGNED_LEN: usize = ANNOUNCE_LEN - 64;

/// One direction of one channel, as its node announces it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announcement {
    /// The channel id.
    pub channel_id: [u8; 32],
    /// The two ends, smaller key first.
    pub nodes: [PublicKey; 2],
    /// Capacity.
    pub capacity_sat: u64,
    /// 0: `nodes[0]`'s policy; 1: `nodes[1]`'s.
    pub direction: u8,
    /// The policy.
    pub policy: Policy,
}

/// Why an announcement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GossipError {
    /// A node id is not a point.
    #[error("channel_announce: node_{0} is not a public key")]
    BadKey(u8),
    /// The ends are not in order, or equal.
    #[error("channel_announce: node_1 must sort before node_2")]
    Order,
    /// The direction byte is neither 0 nor 1.
    #[error("channel_announce: direction {0} is neither 0 nor 1")]
    Direction(u8),
    /// The signature is not the announcing node's.
    #[error("channel_announce: the signature is not node_{0}'s")]
    Signature(u8),
    /// Amounts that make no sense.
    #[error("channel_announce: {0}")]
    Amounts(&'static str),
}

/// The two ends in BOLT 7 order (smaller key first) and which of them `me` is.
pub fn ordered(a: PublicKey, b: PublicKey) -> [PublicKey; 2] {
    if a.serialize() <= b.serialize() {
        [a, b]
    } else {
        [b, a]
    }
}

impl Announcement {
    /// Signs this announcement with `key`, the key of `nodes[direction]`.
    pub fn sign(&self, key: &SecretKey) -> Box<[u8; ANNOUNCE_LEN]> {
        let mut b = Box::new([0u8; ANNOUNCE_LEN]);
        self.write_signed(&mut b[..SIGNED_LEN]);
        let digest = sha256d::Hash::hash(&b[..SIGNED_LEN]).to_byte_array();
        let sig = Secp256k1::signing_only()
            .sign_ecdsa(&Message::from_digest(digest), key)
            .serialize_compact();
        b[SIGNED_LEN..].copy_from_slice(&sig);
        b
    }

    fn write_signed(&self, out: &mut [u8]) {
        let mut w = Vec::with_capacity(SIGNED_LEN);
        w.extend_from_slice(&self.channel_id);
        w.extend_from_slice(&self.nodes[0].serialize());
        w.extend_from_slice(&self.nodes[1].serialize());
        w.extend_from_slice(&self.capacity_sat.to_be_bytes());
        w.push(self.direction);
        let p = &self.policy;
        w.extend_from_slice(&p.fee_base_msat.to_be_bytes());
        w.extend_from_slice(&p.fee_rate_ppm.to_be_bytes());
        w.extend_from_slice(&p.cltv_expiry_delta.to_be_bytes());
        w.extend_from_slice(&p.htlc_minimum_msat.to_be_bytes());
        w.extend_from_slice(&p.htlc_maximum_msat.to_be_bytes());
        w.extend_from_slice(&p.last_update.to_be_bytes());
        out.copy_from_slice(&w);
    }

    /// Reads and verifies a signed announcement.
    pub fn verify(b: &[u8; ANNOUNCE_LEN]) -> Result<Announcement, GossipError> {
        let key = |at: usize, n: u8| {
            PublicKey::from_slice(&b[at..at + 33]).map_err(|_| GossipError::BadKey(n))
        };
        let u64_at = |at: usize| u64::from_be_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]));
        let u32_at = |at: usize| u32::from_be_bytes(b[at..at + 4].try_into().unwrap_or([0; 4]));
        let nodes = [key(32, 1)?, key(65, 2)?];
        if nodes[0].serialize() >= nodes[1].serialize() {
            return Err(GossipError::Order);
        }
        let direction = b[106];
        if direction > 1 {
            return Err(GossipError::Direction(direction));
        }
        let a = Announcement {
            channel_id: b[..32].try_into().unwrap_or([0; 32]),
            nodes,
            capacity_sat: u64_at(98),
            direction,
            policy: Policy {
                fee_base_msat: u32_at(107),
                fee_rate_ppm: u32_at(111),
                cltv_expiry_delta: u16::from_be_bytes([b[115], b[116]]),
                htlc_minimum_msat: u64_at(117),
                htlc_maximum_msat: u64_at(125),
                disabled: false,
                last_update: u32_at(133),
            },
        };
        if a.capacity_sat == 0 || a.capacity_sat > flotilla_graph::amount::MAX_SAT {
            return Err(GossipError::Amounts("capacity out of range"));
        }
        if a.policy.htlc_minimum_msat > a.policy.htlc_maximum_msat {
            return Err(GossipError::Amounts("htlc_minimum above htlc_maximum"));
        }
        let digest = sha256d::Hash::hash(&b[..SIGNED_LEN]).to_byte_array();
        let sig = Signature::from_compact(&b[SIGNED_LEN..])
            .map_err(|_| GossipError::Signature(direction + 1))?;
        Secp256k1::verification_only()
            .verify_ecdsa(
                &Message::from_digest(digest),
                &sig,
                &nodes[direction as usize],
            )
            .map_err(|_| GossipError::Signature(direction + 1))?;
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> (SecretKey, PublicKey) {
        let sk = SecretKey::from_slice(&[b; 32]).unwrap();
        (sk, PublicKey::from_secret_key(&Secp256k1::new(), &sk))
    }

    #[test]
    fn signed_announcements_verify_and_forgeries_do_not() {
        let (ska, a) = key(1);
        let (skb, b) = key(2);
        let nodes = ordered(a, b);
        let dir = u8::from(nodes[1] == a);
        let ann = Announcement {
            channel_id: [9; 32],
            nodes,
            capacity_sat: 1_000_000,
            direction: dir,
            policy: Policy {
                fee_base_msat: 1000,
                fee_rate_ppm: 100,
                cltv_expiry_delta: 40,
                htlc_minimum_msat: 1,
                htlc_maximum_msat: 1_000_000_000,
                disabled: false,
                last_update: 7,
            },
        };
        let bytes = ann.sign(&ska);
        assert_eq!(Announcement::verify(&bytes).unwrap(), ann);
        // Signed by the other end: refused.
        assert!(matches!(
            Announcement::verify(&ann.sign(&skb)),
            Err(GossipError::Signature(_))
        ));
        // Any changed byte breaks it.
        for i in [0, 98, 107, 133, 150] {
            let mut t = bytes.clone();
            t[i] ^= 1;
            assert!(Announcement::verify(&t).is_err(), "byte {i}");
        }
    }

    proptest::proptest! {
        /// Any 201 bytes: an announcement or a refusal, never a panic.
        #[test]
        fn any_bytes_verify_or_are_refused(v in proptest::collection::vec(proptest::prelude::any::<u8>(), ANNOUNCE_LEN)) {
            let mut b = [0u8; ANNOUNCE_LEN];
            b.copy_from_slice(&v);
            let _ = Announcement::verify(&b);
        }
    }
}
