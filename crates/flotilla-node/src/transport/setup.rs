//! The channel-opening messages: a channel is funded by agreement between its two
//! nodes, with no on-chain transaction, in one round trip.
//!
//! | message | custom type | fields |
//! |---|---|---|
//! | `open_channel` | 32777 | temporary_channel_id (32), capacity_sat (u64), push_msat (u64) |
//! | `accept_channel` | 32779 | temporary_channel_id (32), channel_id (32) |
//! | `reject_channel` | 32781 | temporary_channel_id (32), len (u16), reason (UTF-8) |
//! | `channel_announce` | 32783 | 201 bytes, see `engine::gossip` |
//! | `channel_reestablish` | 32785 | next_seq (u64), see `engine::durable` |
//!
//! The numbers are odd and ≥ 32768 (BOLT 1's custom range; a peer without flotilla
//! ignores them) and apart from `flotilla_ln::wire`'s (32769–32775, 32787, 32789, 33025–33039).
//! The channel id is `SHA256(temporary_channel_id ‖ opener ‖ acceptor)` (node ids,
//! 33 bytes each): both sides compute it, so the acceptor's answer is checked, and
//! no two opens share one. Every field is fixed-size; a payload of another length
//! is malformed.

use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::secp256k1::PublicKey;

/// `open_channel`'s custom type.
pub const OPEN_CHANNEL: u16 = 32_777;
/// `accept_channel`'s custom type.
pub const ACCEPT_CHANNEL: u16 = 32_779;
/// `reject_channel`'s custom type.
pub const REJECT_CHANNEL: u16 = 32_781;
/// `channel_announce`'s custom type (gossip, [`crate::engine::gossip`]).
pub const CHANNEL_ANNOUNCE: u16 = 32_783;
/// `channel_reestablish`'s custom type ([`crate::engine::durable`]).
pub const CHANNEL_REESTABLISH: u16 = 32_785;
/// A `channel_announce` payload's length.
pub const ANNOUNCE_LEN: usize = 201;

/// The most a reason may hold.
pub const MAX_REASON_LEN: usize = 1000;

/// A channel-opening message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetupMessage {
    /// The opener proposes a channel.
    Open {
        /// The opener's name for the proposal.
        temporary_channel_id: [u8; 32],
        /// The channel's capacity.
        capacity_sat: u64,
        /// What the opener gives the acceptor at the start.
        push_msat: u64,
    },
    /// The acceptor has stored the channel.
    Accept {
        /// The proposal's name.
        temporary_channel_id: [u8; 32],
        /// The channel id (see the module docs).
        channel_id: [u8; 32],
    },
    /// The acceptor refuses.
    Reject {
        /// The proposal's name.
        temporary_channel_id: [u8; 32],
        /// Why, for humans.
        reason: String,
    },
    /// A channel and one direction's policy, signed by that direction's node
    /// ([`crate::engine::gossip::Announcement`], its fixed 201-byte layout).
    Announce(Box<[u8; ANNOUNCE_LEN]>),
    /// After a (re)connection: the next sequence number of the peer's engine
    /// messages this node has not yet durably consumed ([`crate::engine::durable`]).
    Reestablish {
        /// Sequence number.
        next_seq: u64,
    },
}

impl SetupMessage {
    /// Its custom type.
    pub fn type_id(&self) -> u16 {
        match self {
            SetupMessage::Open { .. } => OPEN_CHANNEL,
            SetupMessage::Accept { .. } => ACCEPT_CHANNEL,
            SetupMessage::Reject { .. } => REJECT_CHANNEL,
            SetupMessage::Announce(_) => CHANNEL_ANNOUNCE,
            SetupMessage::Reestablish { .. } => CHANNEL_REESTABLISH,
        }
    }

    /// Its BOLT-style name.
    pub fn name(&self) -> &'static str {
        name_of(self.type_id()).unwrap_or("?")
    }

    /// The payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        match self {
            SetupMessage::Open {
                temporary_channel_id,
                capacity_sat,
                push_msat,
            } => {
                out.extend_from_slice(temporary_channel_id);
                out.extend_from_slice(&capacity_sat.to_be_bytes());
                out.extend_from_slice(&push_msat.to_be_bytes());
            }
            SetupMessage::Accept {
                temporary_channel_id,
                channel_id,
            } => {
                out.extend_from_slice(temporary_channel_id);
                out.extend_from_slice(channel_id);
            }
            SetupMessage::Reject {
                temporary_channel_id,
                reason,
            } => {
                let mut r = reason.as_bytes();
                if r.len() > MAX_REASON_LEN {
                    // Cut on a character boundary.
                    let mut end = MAX_REASON_LEN;
                    while !reason.is_char_boundary(end) {
                        end -= 1;
                    }
                    r = &r[..end];
                }
                out.extend_from_slice(temporary_channel_id);
                out.extend_from_slice(&(r.len() as u16).to_be_bytes());
                out.extend_from_slice(r);
            }
            SetupMessage::Announce(bytes) => out.extend_from_slice(&bytes[..]),
            SetupMessage::Reestablish { next_seq } => {
                out.extend_from_slice(&next_seq.to_be_bytes())
            }
        }
        out
    }

    /// Reads the payload of a message of type `t`; `None` when `t` is not a setup type.
    pub fn decode(t: u16, p: &[u8]) -> Option<Result<SetupMessage, String>> {
        let id = |p: &[u8]| -> [u8; 32] { p[..32].try_into().unwrap_or([0; 32]) };
        let u64_at = |p: &[u8], i: usize| -> u64 {
            u64::from_be_bytes(p[i..i + 8].try_into().unwrap_or([0; 8]))
        };
        let want = |n: usize| {
            if p.len() == n {
                Ok(())
            } else {
                Err(format!("payload of {} bytes, expected {n}", p.len()))
            }
        };
        Some(match t {
            OPEN_CHANNEL => want(48).map(|()| SetupMessage::Open {
                temporary_channel_id: id(p),
                capacity_sat: u64_at(p, 32),
                push_msat: u64_at(p, 40),
            }),
            ACCEPT_CHANNEL => want(64).map(|()| SetupMessage::Accept {
                temporary_channel_id: id(p),
                channel_id: p[32..64].try_into().unwrap_or([0; 32]),
            }),
            REJECT_CHANNEL => {
                if p.len() < 34 {
                    return Some(Err(format!("payload of {} bytes, at least 34", p.len())));
                }
                let len = usize::from(u16::from_be_bytes([p[32], p[33]]));
                if p.len() != 34 + len || len > MAX_REASON_LEN {
                    return Some(Err(format!(
                        "reason length {len} does not match the {} bytes that follow (at most {MAX_REASON_LEN})",
                        p.len() - 34
                    )));
                }
                String::from_utf8(p[34..].to_vec())
                    .map_err(|_| "reason is not UTF-8".to_string())
                    .map(|reason| SetupMessage::Reject {
                        temporary_channel_id: id(p),
                        reason,
                    })
            }
            CHANNEL_ANNOUNCE => want(ANNOUNCE_LEN).map(|()| {
                let mut b = Box::new([0u8; ANNOUNCE_LEN]);
                b.copy_from_slice(p);
                SetupMessage::Announce(b)
            }),
            CHANNEL_REESTABLISH => want(8).map(|()| SetupMessage::Reestablish {
                next_seq: u64_at(p, 0),
            }),
            _ => return None,
        })
    }
}

/// The name of a setup type.
pub fn name_of(t: u16) -> Option<&'static str> {
    Some(match t {
        OPEN_CHANNEL => "open_channel",
        ACCEPT_CHANNEL => "accept_channel",
        REJECT_CHANNEL => "reject_channel",
        CHANNEL_ANNOUNCE => "channel_announce",
        CHANNEL_REESTABLISH => "channel_reestablish",
        _ => return None,
    })
}

/// The channel id both sides derive.
pub fn channel_id(
    temporary_channel_id: &[u8; 32],
    opener: &PublicKey,
    acceptor: &PublicKey,
) -> [u8; 32] {
    let mut e = sha256::Hash::engine();
    e.input(temporary_channel_id);
    e.input(&opener.serialize());
    e.input(&acceptor.serialize());
    sha256::Hash::from_engine(e).to_byte_array()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_wrong_lengths() {
        let msgs = [
            SetupMessage::Open {
                temporary_channel_id: [1; 32],
                capacity_sat: 1_000_000,
                push_msat: 5_000,
            },
            SetupMessage::Accept {
                temporary_channel_id: [2; 32],
                channel_id: [3; 32],
            },
            SetupMessage::Reject {
                temporary_channel_id: [4; 32],
                reason: "no thanks ✓".into(),
            },
        ];
        for m in msgs {
            let bytes = m.encode();
            assert_eq!(
                SetupMessage::decode(m.type_id(), &bytes),
                Some(Ok(m.clone()))
            );
            for cut in [0, 1, bytes.len() - 1] {
                assert!(matches!(
                    SetupMessage::decode(m.type_id(), &bytes[..cut]),
                    Some(Err(_))
                ));
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(matches!(
                SetupMessage::decode(m.type_id(), &longer),
                Some(Err(_))
            ));
        }
        assert_eq!(SetupMessage::decode(32_769, &[]), None);
        let mut bad = vec![0u8; 32];
        bad.extend_from_slice(&[0, 2, 0xff, 0xfe]);
        assert!(matches!(
            SetupMessage::decode(REJECT_CHANNEL, &bad),
            Some(Err(_))
        ));
        let long = SetupMessage::Reject {
            temporary_channel_id: [0; 32],
            reason: "é".repeat(MAX_REASON_LEN),
        };
        assert!(matches!(
            SetupMessage::decode(REJECT_CHANNEL, &long.encode()),
            Some(Ok(_))
        ));
    }
}
