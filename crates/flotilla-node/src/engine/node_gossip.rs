//! Node announcements: what a node tells the network about itself — its features
//! (among them the lock bits, h2tlc 259 and point lock 261), its alias and a
//! timestamp — signed with its node key, like BOLT 7's `node_announcement` (which
//! LDK's gossip handler would only take for a node with a channel proven on chain).
//! They flood like channel announcements ([`super::gossip`]); a node keeps the newest
//! per node (a larger timestamp; an older or equal one is dropped, not relayed), and
//! only for nodes it knows a channel of, so nobody can fill its memory with keys made
//! up for the purpose. A sender's router then leaves out every hop whose node does not
//! announce a redundant payment's lock, not only its direct peers.
//!
//! Layout (big-endian): node_id (33), timestamp (u32), alias (32, UTF-8 padded with
//! zeros), flen (u16, at most [`MAX_FEATURES_LEN`]), features (flen bytes, BOLT 9
//! order: the highest bit first), then the node's compact ECDSA signature (64) over
//! SHA256d of everything before it.

use bitcoin::hashes::{sha256d, Hash};
use bitcoin::secp256k1::{ecdsa::Signature, Message, PublicKey, Secp256k1, SecretKey};

/// The longest feature field accepted (bits up to 511).
pub const MAX_FEATURES_LEN: usize = 64;
/// The fixed part before the features.
const HEAD_LEN: usize = 33 + 4 + 32 + 2;
/// The longest announcement.
pub const MAX_NODE_ANNOUNCE_LEN: usize = HEAD_LEN + MAX_FEATURES_LEN + 64;

/// A node's announcement of itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeAnnouncement {
    /// The node.
    pub node: PublicKey,
    /// Seconds of the Unix epoch; a newer one replaces an older one.
    pub timestamp: u32,
    /// Its alias (at most 32 bytes of UTF-8).
    pub alias: String,
    /// Its features, BOLT 9 order (the highest bit first).
    pub features: Vec<u8>,
}

/// Why a node announcement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeGossipError {
    /// Too short, too long, or a length that does not match.
    #[error("node_announce: {0}")]
    Length(String),
    /// The node id is not a point.
    #[error("node_announce: node_id is not a public key")]
    BadKey,
    /// The alias is not UTF-8.
    #[error("node_announce: the alias is not UTF-8")]
    Alias,
    /// The signature is not the node's.
    #[error("node_announce: the signature is not the node's")]
    Signature,
}

/// Whether BOLT 9 feature bytes (highest bit first) set `bit` or its pair (a required
/// bit implies the optional one).
pub fn has_bit(features: &[u8], bit: usize) -> bool {
    let even = bit - bit % 2;
    [even, even + 1].into_iter().any(|b| {
        let byte = b / 8;
        byte < features.len() && features[features.len() - 1 - byte] & (1 << (b % 8)) != 0
    })
}

/// An alias as an announcement carries it: at most 32 bytes, cut on a character
/// boundary, without a NUL (which ends it).
pub fn cut_alias(alias: &str) -> &str {
    let alias = alias.split('\0').next().unwrap_or("");
    let mut end = alias.len().min(32);
    while !alias.is_char_boundary(end) {
        end -= 1;
    }
    &alias[..end]
}

impl NodeAnnouncement {
    /// Signs it with `key` (the node's).
    pub fn sign(&self, key: &SecretKey) -> Vec<u8> {
        let mut b = Vec::with_capacity(HEAD_LEN + self.features.len() + 64);
        b.extend_from_slice(&self.node.serialize());
        b.extend_from_slice(&self.timestamp.to_be_bytes());
        let mut alias = [0u8; 32];
        let cut = cut_alias(&self.alias);
        alias[..cut.len()].copy_from_slice(cut.as_bytes());
        b.extend_from_slice(&alias);
        let f = &self.features[..self.features.len().min(MAX_FEATURES_LEN)];
        b.extend_from_slice(&(f.len() as u16).to_be_bytes());
        b.extend_from_slice(f);
        let digest = sha256d::Hash::hash(&b).to_byte_array();
        let sig = Secp256k1::signing_only()
            .sign_ecdsa(&Message::from_digest(digest), key)
            .serialize_compact();
        b.extend_from_slice(&sig);
        b
    }

    /// Reads and verifies a signed announcement.
    pub fn verify(b: &[u8]) -> Result<NodeAnnouncement, NodeGossipError> {
        if b.len() < HEAD_LEN + 64 || b.len() > MAX_NODE_ANNOUNCE_LEN {
            return Err(NodeGossipError::Length(format!(
                "{} bytes, expected {} to {MAX_NODE_ANNOUNCE_LEN}",
                b.len(),
                HEAD_LEN + 64
            )));
        }
        let flen = usize::from(u16::from_be_bytes([b[69], b[70]]));
        if b.len() != HEAD_LEN + flen + 64 {
            return Err(NodeGossipError::Length(format!(
                "{flen} feature bytes announced, {} there",
                b.len().saturating_sub(HEAD_LEN + 64)
            )));
        }
        let node = PublicKey::from_slice(&b[..33]).map_err(|_| NodeGossipError::BadKey)?;
        let alias_bytes = &b[37..69];
        let alias_len = alias_bytes.iter().position(|&c| c == 0).unwrap_or(32);
        let alias = std::str::from_utf8(&alias_bytes[..alias_len])
            .map_err(|_| NodeGossipError::Alias)?
            .to_string();
        let signed = &b[..HEAD_LEN + flen];
        let digest = sha256d::Hash::hash(signed).to_byte_array();
        let sig = Signature::from_compact(&b[HEAD_LEN + flen..])
            .map_err(|_| NodeGossipError::Signature)?;
        Secp256k1::verification_only()
            .verify_ecdsa(&Message::from_digest(digest), &sig, &node)
            .map_err(|_| NodeGossipError::Signature)?;
        Ok(NodeAnnouncement {
            node,
            timestamp: u32::from_be_bytes([b[33], b[34], b[35], b[36]]),
            alias,
            features: b[HEAD_LEN..HEAD_LEN + flen].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_node_announcements_verify_and_forgeries_do_not() {
        let sk = SecretKey::from_slice(&[3; 32]).unwrap();
        let node = PublicKey::from_secret_key(&Secp256k1::new(), &sk);
        let a = NodeAnnouncement {
            node,
            timestamp: 9,
            alias: "carol ✓".into(),
            features: vec![0x28, 0, 0, 0],
        };
        let b = a.sign(&sk);
        assert_eq!(NodeAnnouncement::verify(&b).unwrap(), a);
        // 0x28 in the top byte of four: bits 29 and 27.
        assert!(has_bit(&a.features, 29) && has_bit(&a.features, 27));
        assert!(has_bit(&a.features, 28), "29's pair");
        assert!(!has_bit(&a.features, 259) && !has_bit(&a.features, 0));
        for i in [0, 34, 40, 71, b.len() - 1] {
            let mut t = b.clone();
            t[i] ^= 1;
            assert!(NodeAnnouncement::verify(&t).is_err(), "byte {i}");
        }
        let other = SecretKey::from_slice(&[4; 32]).unwrap();
        assert_eq!(
            NodeAnnouncement::verify(&a.sign(&other)),
            Err(NodeGossipError::Signature)
        );
        assert!(NodeAnnouncement::verify(&b[..b.len() - 1]).is_err());
        let mut longer = b.clone();
        longer.push(0);
        assert!(NodeAnnouncement::verify(&longer).is_err());
    }

    proptest::proptest! {
        /// Any bytes: an announcement or a refusal, never a panic.
        #[test]
        fn any_bytes_verify_or_are_refused(v in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..250)) {
            let _ = NodeAnnouncement::verify(&v);
        }
    }
}
