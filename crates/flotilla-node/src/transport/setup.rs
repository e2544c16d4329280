//! The channel-opening messages: a channel is funded by agreement between its two
//! nodes, with no on-chain transaction, in one round trip.
//!
//! | message | custom type | fields |
//! |---|---|---|
//! | `open_channel` | 32777 | temporary_channel_id (32), capacity_sat (u64), push_msat (u64), TLVs |
//! | `accept_channel` | 32779 | temporary_channel_id (32), channel_id (32), TLVs |
//! | `reject_channel` | 32781 | temporary_channel_id (32), len (u16), reason (UTF-8) |
//! | `channel_announce` | 32783 | 201 bytes, see `engine::gossip` |
//! | `channel_reestablish` | 32785 | next_seq (u64), see `engine::durable` |
//! | `node_announce` | 32791 | 135–199 bytes, see `engine::node_gossip` |
//!
//! The numbers are odd and ≥ 32768 (BOLT 1's custom range; a peer without flotilla
//! ignores them) and apart from `flotilla_ln::wire`'s (32769–32775, 32787, 32789, 33025–33039).
//! The channel id is `SHA256(temporary_channel_id ‖ opener ‖ acceptor)` (node ids,
//! 33 bytes each): both sides compute it, so the acceptor's answer is checked, and
//! no two opens share one. The fixed fields are followed by a TLV stream (types
//! increasing, one-byte type and length; an unknown odd type is skipped, an unknown
//! even one refused): type 1 carries the sender's BOLT 2 channel parameters
//! ([`PARAMS_LEN`] bytes: max_accepted_htlcs u16, max_htlc_value_in_flight_msat u64
//! (0: the capacity), channel_reserve_ppm u32, dust_limit_sat u64, htlc_minimum_msat
//! u64). A message without it (from a node that predates it) means the defaults.

use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::secp256k1::PublicKey;
use flotilla_ln::config::ChannelParams;

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
/// `node_announce`'s custom type (gossip, [`crate::engine::node_gossip`]).
pub const NODE_ANNOUNCE: u16 = 32_791;
/// A `channel_announce` payload's length.
pub const ANNOUNCE_LEN: usize = 201;

/// The channel parameters' TLV type in `open_channel` and `accept_channel`.
pub const PARAMS_TLV: u8 = 1;
/// The channel parameters' TLV length.
pub const PARAMS_LEN: usize = 30;

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
        /// The opener's channel parameters (none: the defaults).
        params: Option<ChannelParams>,
    },
    /// The acceptor has stored the channel.
    Accept {
        /// The proposal's name.
        temporary_channel_id: [u8; 32],
        /// The channel id (see the module docs).
        channel_id: [u8; 32],
        /// The acceptor's channel parameters (none: the defaults).
        params: Option<ChannelParams>,
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
    /// A node's signed announcement of itself
    /// ([`crate::engine::node_gossip::NodeAnnouncement`]).
    NodeAnnounce(Vec<u8>),
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
            SetupMessage::NodeAnnounce(_) => NODE_ANNOUNCE,
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
                params,
            } => {
                out.extend_from_slice(temporary_channel_id);
                out.extend_from_slice(&capacity_sat.to_be_bytes());
                out.extend_from_slice(&push_msat.to_be_bytes());
                write_params(&mut out, params.as_ref());
            }
            SetupMessage::Accept {
                temporary_channel_id,
                channel_id,
                params,
            } => {
                out.extend_from_slice(temporary_channel_id);
                out.extend_from_slice(channel_id);
                write_params(&mut out, params.as_ref());
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
            SetupMessage::NodeAnnounce(bytes) => out.extend_from_slice(bytes),
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
        let at_least = |n: usize| {
            if p.len() >= n {
                Ok(())
            } else {
                Err(format!("payload of {} bytes, at least {n}", p.len()))
            }
        };
        Some(match t {
            OPEN_CHANNEL => at_least(48).and_then(|()| {
                Ok(SetupMessage::Open {
                    temporary_channel_id: id(p),
                    capacity_sat: u64_at(p, 32),
                    push_msat: u64_at(p, 40),
                    params: read_params(&p[48..])?,
                })
            }),
            ACCEPT_CHANNEL => at_least(64).and_then(|()| {
                Ok(SetupMessage::Accept {
                    temporary_channel_id: id(p),
                    channel_id: p[32..64].try_into().unwrap_or([0; 32]),
                    params: read_params(&p[64..])?,
                })
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
            NODE_ANNOUNCE => {
                let max = crate::engine::node_gossip::MAX_NODE_ANNOUNCE_LEN;
                if p.len() > max {
                    Err(format!("payload of {} bytes, at most {max}", p.len()))
                } else {
                    Ok(SetupMessage::NodeAnnounce(p.to_vec()))
                }
            }
            CHANNEL_REESTABLISH => want(8).map(|()| SetupMessage::Reestablish {
                next_seq: u64_at(p, 0),
            }),
            _ => return None,
        })
    }
}

fn write_params(out: &mut Vec<u8>, params: Option<&ChannelParams>) {
    let Some(p) = params else { return };
    out.push(PARAMS_TLV);
    out.push(PARAMS_LEN as u8);
    out.extend_from_slice(&p.max_accepted_htlcs.to_be_bytes());
    out.extend_from_slice(&p.max_htlc_value_in_flight_msat.unwrap_or(0).to_be_bytes());
    out.extend_from_slice(&p.channel_reserve_ppm.to_be_bytes());
    out.extend_from_slice(&p.dust_limit_sat.to_be_bytes());
    out.extend_from_slice(&p.htlc_minimum_msat.to_be_bytes());
}

/// Reads the TLV stream after an open's or an accept's fixed fields.
fn read_params(mut tlvs: &[u8]) -> Result<Option<ChannelParams>, String> {
    let mut params = None;
    let mut last: Option<u8> = None;
    while !tlvs.is_empty() {
        let [t, len, rest @ ..] = tlvs else {
            return Err("a TLV record is cut short".into());
        };
        let (t, len) = (*t, usize::from(*len));
        if t >= 0xfd || len >= 0xfd {
            return Err(format!(
                "TLV type {t}: multi-byte types and lengths are not used"
            ));
        }
        if last.is_some_and(|l| t <= l) {
            return Err(format!("TLV type {t} out of order"));
        }
        last = Some(t);
        if rest.len() < len {
            return Err(format!(
                "TLV type {t}: {len} bytes announced, {} left",
                rest.len()
            ));
        }
        let (v, next) = rest.split_at(len);
        tlvs = next;
        match t {
            PARAMS_TLV => {
                if len != PARAMS_LEN {
                    return Err(format!(
                        "channel parameters of {len} bytes, expected {PARAMS_LEN}"
                    ));
                }
                let u64_at =
                    |i: usize| u64::from_be_bytes(v[i..i + 8].try_into().unwrap_or([0; 8]));
                let in_flight = u64_at(2);
                params = Some(ChannelParams {
                    max_accepted_htlcs: u16::from_be_bytes([v[0], v[1]]),
                    max_htlc_value_in_flight_msat: (in_flight > 0).then_some(in_flight),
                    channel_reserve_ppm: u32::from_be_bytes(v[10..14].try_into().unwrap_or([0; 4])),
                    dust_limit_sat: u64_at(14),
                    htlc_minimum_msat: u64_at(22),
                    max_dust_htlc_exposure_msat: None,
                });
            }
            t if t % 2 == 0 => return Err(format!("unknown even TLV type {t}")),
            _ => {}
        }
    }
    Ok(params)
}

/// The name of a setup type.
pub fn name_of(t: u16) -> Option<&'static str> {
    Some(match t {
        OPEN_CHANNEL => "open_channel",
        ACCEPT_CHANNEL => "accept_channel",
        REJECT_CHANNEL => "reject_channel",
        CHANNEL_ANNOUNCE => "channel_announce",
        CHANNEL_REESTABLISH => "channel_reestablish",
        NODE_ANNOUNCE => "node_announce",
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
                params: None,
            },
            SetupMessage::Open {
                temporary_channel_id: [1; 32],
                capacity_sat: 1_000_000,
                push_msat: 5_001,
                params: Some(ChannelParams {
                    max_accepted_htlcs: 30,
                    max_htlc_value_in_flight_msat: Some(77),
                    channel_reserve_ppm: 5,
                    dust_limit_sat: 546,
                    htlc_minimum_msat: 1000,
                    max_dust_htlc_exposure_msat: None,
                }),
            },
            SetupMessage::Accept {
                temporary_channel_id: [2; 32],
                channel_id: [3; 32],
                params: None,
            },
            SetupMessage::Accept {
                temporary_channel_id: [2; 32],
                channel_id: [3; 32],
                params: Some(ChannelParams::default()),
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
            if !matches!(m, SetupMessage::Reject { .. }) {
                // An unknown odd record after ours is skipped; an even one refused;
                // records out of order refused.
                let mut odd = bytes.clone();
                odd.extend_from_slice(&[3, 2, 9, 9]);
                assert_eq!(SetupMessage::decode(m.type_id(), &odd), Some(Ok(m.clone())));
                let mut even = bytes.clone();
                even.extend_from_slice(&[4, 0]);
                assert!(matches!(
                    SetupMessage::decode(m.type_id(), &even),
                    Some(Err(_))
                ));
                let mut twice = bytes.clone();
                twice.extend_from_slice(&[1, 0]);
                assert!(matches!(
                    SetupMessage::decode(m.type_id(), &twice),
                    Some(Err(_))
                ));
            }
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
