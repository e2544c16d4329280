//! Everything the engine consumes, and its logged form (one JSON object per input).
//!
//! A restart replays the logged inputs, in order, with their logged clocks, into a
//! fresh engine; the engine is deterministic, so it reaches the state it had.

use bitcoin::secp256k1::PublicKey;
use flotilla_graph::ChannelIdx;
use flotilla_ln::lock::LockKind;
use flotilla_ln::msg::HtlcRef;
use flotilla_ln::output::Timer;
use flotilla_ln::{PaymentHash, PaymentSecret};
use serde_json::{json, Value};

use super::policy::{OpenParams, OwnPolicy};
use super::redundant::RedundantAsk;
use super::{hex, unhex};
use crate::transport::setup::ANNOUNCE_LEN;

/// One input.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A channel of this node was opened (both sides stored it).
    Open {
        /// Its id.
        channel_id: [u8; 32],
        /// The peer.
        peer: PublicKey,
        /// Capacity.
        capacity_sat: u64,
        /// This node's opening balance.
        local_msat: u64,
        /// The peer's opening balance.
        remote_msat: u64,
        /// The policy this node announces for its direction (absent in records
        /// written before policies were chosen: the default).
        policy: Option<OwnPolicy>,
        /// The channel parameters each side set in the open exchange (absent in
        /// older records: the defaults).
        params: Option<OpenParams>,
    },
    /// This node's policy for its direction of one of its channels changed
    /// (`set-policy`).
    SetPolicy {
        /// The channel.
        channel_id: [u8; 32],
        /// The new policy.
        policy: OwnPolicy,
    },
    /// A gossip announcement (from a peer, or none for our own).
    Announce {
        /// The peer that sent it.
        from: Option<PublicKey>,
        /// Its signed bytes.
        bytes: Box<[u8; ANNOUNCE_LEN]>,
    },
    /// A node announcement (from a peer, [`super::node_gossip`]).
    NodeAnnounce {
        /// The peer that sent it.
        from: Option<PublicKey>,
        /// Its signed bytes.
        bytes: Vec<u8>,
    },
    /// This node announces itself (at start, when its alias or features changed).
    SelfAnnounce {
        /// Its alias.
        alias: String,
        /// Its features, BOLT 9 order.
        features: Vec<u8>,
    },
    /// A peer's engine message, as framed on the wire (tunnelled type).
    Peer {
        /// The peer.
        from: PublicKey,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// A redundant payment's endpoint message that arrived as an onion message
    /// ([`super::endpoint`]).
    Onion {
        /// The message, framed as on the peer stream (tunnelled type).
        bytes: Vec<u8>,
        /// Its reply path (LDK's `Responder`, serialised), where an answer goes.
        reply: Option<Vec<u8>>,
    },
    /// A timer the engine set came due.
    Timer {
        /// Which.
        timer: Timer,
    },
    /// A peer connected or went away.
    PeerOnline {
        /// The peer.
        peer: PublicKey,
        /// Connected now.
        online: bool,
    },
    /// Expect a payment (an invoice was made).
    Invoice {
        /// The preimage.
        preimage: [u8; 32],
        /// The payment secret.
        secret: [u8; 32],
        /// The amount asked.
        amount_msat: Option<u64>,
        /// When it expires, µs since 1970.
        expires_at: u64,
        /// A redundant invoice: its lock, and for `boomerang` the polynomial's degree
        /// (the parts A is cut into); `None` for an ordinary invoice.
        redundant: Option<(LockKind, u16)>,
    },
    /// Start a payment.
    Pay {
        /// The node's name for it.
        id: u64,
        /// The payment hash.
        payment_hash: [u8; 32],
        /// The payment secret (keysend: the sender's own).
        payment_secret: [u8; 32],
        /// Keysend: the preimage.
        keysend_preimage: Option<[u8; 32]>,
        /// The receiver.
        target: PublicKey,
        /// The amount.
        amount_msat: u64,
        /// Most parts in flight.
        max_parts: u32,
        /// The receiver's final CLTV delta.
        final_cltv_delta: u32,
    },
    /// Start a redundant payment (the simulator's redundant session, live).
    PayRedundant {
        /// The node's name for it.
        id: u64,
        /// The invoice's payment hash.
        payment_hash: [u8; 32],
        /// The invoice's payment secret.
        payment_secret: [u8; 32],
        /// The receiver.
        target: PublicKey,
        /// A.
        amount_msat: u64,
        /// The receiver's final CLTV delta.
        final_cltv_delta: u32,
        /// Lock, redundancy, base parts, commitments.
        ask: RedundantAsk,
    },
}

/// The input for an endpoint message that arrived as an onion message.
pub fn onion_input(
    message: &flotilla_ln::wire::Message,
    reply: Option<Vec<u8>>,
) -> Result<Input, String> {
    let bytes = flotilla_ln::wire::encode_tunnelled(message).map_err(|e| e.to_string())?;
    Ok(Input::Onion { bytes, reply })
}

fn h32(v: &Value, k: &str) -> Result<[u8; 32], String> {
    let s = v[k].as_str().ok_or_else(|| format!("{k} missing"))?;
    unhex(s)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("{k}: not 32 bytes of hex"))
}

fn key(v: &Value, k: &str) -> Result<PublicKey, String> {
    let s = v[k].as_str().ok_or_else(|| format!("{k} missing"))?;
    s.parse().map_err(|_| format!("{k}: not a public key"))
}

fn num(v: &Value, k: &str) -> Result<u64, String> {
    v[k].as_u64().ok_or_else(|| format!("{k}: not a number"))
}

fn timer_json(t: &Timer) -> Value {
    match t {
        Timer::MppTimeout { payment_hash, set } => {
            json!({"t": "mpp", "hash": hex(&payment_hash.0), "set": set})
        }
        Timer::RedundantTimeout {
            payment_secret,
            round,
        } => json!({"t": "redundant", "secret": hex(&payment_secret.0), "round": round}),
        Timer::HtlcExpiry { htlc } => {
            json!({"t": "expiry", "channel": htlc.channel.0, "id": htlc.id})
        }
        Timer::PaymentDeadline { payment } => json!({"t": "deadline", "payment": payment}),
        Timer::EndpointResend {
            payment_id,
            attempt,
        } => json!({"t": "resend", "payment_id": hex(payment_id), "attempt": attempt}),
        // Set only for a peer that stays offline with `offline_peer_timeout` above
        // zero, which the live node does not use.
        Timer::PeerUnreachable { .. } => json!({"t": "unreachable"}),
    }
}

fn timer_of(v: &Value) -> Result<Option<Timer>, String> {
    Ok(Some(match v["t"].as_str() {
        Some("mpp") => Timer::MppTimeout {
            payment_hash: PaymentHash(h32(v, "hash")?),
            set: num(v, "set")? as u32,
        },
        Some("redundant") => Timer::RedundantTimeout {
            payment_secret: PaymentSecret(h32(v, "secret")?),
            round: num(v, "round")? as u32,
        },
        Some("expiry") => Timer::HtlcExpiry {
            htlc: HtlcRef {
                channel: ChannelIdx(num(v, "channel")? as u32),
                id: num(v, "id")?,
            },
        },
        Some("deadline") => Timer::PaymentDeadline {
            payment: num(v, "payment")?,
        },
        Some("resend") => Timer::EndpointResend {
            payment_id: h32(v, "payment_id")?,
            attempt: u32::try_from(num(v, "attempt")?).map_err(|_| "resend: attempt")?,
        },
        Some("unreachable") => return Ok(None),
        _ => return Err("unknown timer".into()),
    }))
}

/// Whether a timer can be logged and replayed.
pub fn timer_loggable(t: &Timer) -> bool {
    !matches!(t, Timer::PeerUnreachable { .. })
}

impl Input {
    /// Its logged form.
    pub fn to_json(&self) -> Value {
        match self {
            Input::Open {
                channel_id,
                peer,
                capacity_sat,
                local_msat,
                remote_msat,
                policy,
                params,
            } => {
                let mut v = json!({"k": "open", "channel_id": hex(channel_id), "peer": peer.to_string(),
                    "capacity_sat": capacity_sat, "local_msat": local_msat, "remote_msat": remote_msat});
                if let Some(p) = policy {
                    v["policy"] = json!(p);
                }
                if let Some(p) = params {
                    v["params"] = json!(p);
                }
                v
            }
            Input::SetPolicy { channel_id, policy } => {
                json!({"k": "set_policy", "channel_id": hex(channel_id), "policy": policy})
            }
            Input::Announce { from, bytes } => json!({"k": "announce",
                "from": from.map(|f| f.to_string()), "bytes": hex(&bytes[..])}),
            Input::NodeAnnounce { from, bytes } => json!({"k": "node_announce",
                "from": from.map(|f| f.to_string()), "bytes": hex(bytes)}),
            Input::SelfAnnounce { alias, features } => {
                json!({"k": "self_announce", "alias": alias, "features": hex(features)})
            }
            Input::Peer { from, bytes } => {
                json!({"k": "peer", "from": from.to_string(), "bytes": hex(bytes)})
            }
            Input::Onion { bytes, reply } => json!({"k": "onion", "bytes": hex(bytes),
                "reply": reply.as_ref().map(|r| hex(r))}),
            Input::Timer { timer } => json!({"k": "timer", "timer": timer_json(timer)}),
            Input::PeerOnline { peer, online } => {
                json!({"k": "online", "peer": peer.to_string(), "online": online})
            }
            Input::Invoice {
                preimage,
                secret,
                amount_msat,
                expires_at,
                redundant,
            } => {
                let mut v = json!({"k": "invoice", "preimage": hex(preimage), "secret": hex(secret),
                    "amount_msat": amount_msat, "expires_at": expires_at});
                if let Some((lock, degree)) = redundant {
                    v["lock"] = json!(lock.name());
                    v["degree"] = json!(degree);
                }
                v
            }
            Input::Pay {
                id,
                payment_hash,
                payment_secret,
                keysend_preimage,
                target,
                amount_msat,
                max_parts,
                final_cltv_delta,
            } => json!({"k": "pay", "id": id, "hash": hex(payment_hash),
                "secret": hex(payment_secret), "keysend": keysend_preimage.map(|p| hex(&p)),
                "target": target.to_string(), "amount_msat": amount_msat,
                "max_parts": max_parts, "final_cltv_delta": final_cltv_delta}),
            Input::PayRedundant {
                id,
                payment_hash,
                payment_secret,
                target,
                amount_msat,
                final_cltv_delta,
                ask,
            } => json!({"k": "pay_redundant", "id": id, "hash": hex(payment_hash),
                "secret": hex(payment_secret), "target": target.to_string(),
                "amount_msat": amount_msat, "final_cltv_delta": final_cltv_delta,
                "lock": ask.lock.name(), "redundancy": ask.redundancy,
                "base_parts": ask.base_parts,
                "commitments": ask.commitments.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                "excluded": ask.excluded.iter().map(|c| c.to_string()).collect::<Vec<_>>()}),
        }
    }

    /// Back from its logged form; `Ok(None)` for an input that replays as nothing.
    pub fn from_json(v: &Value) -> Result<Option<Input>, String> {
        Ok(Some(match v["k"].as_str() {
            Some("open") => Input::Open {
                channel_id: h32(v, "channel_id")?,
                peer: key(v, "peer")?,
                capacity_sat: num(v, "capacity_sat")?,
                local_msat: num(v, "local_msat")?,
                remote_msat: num(v, "remote_msat")?,
                policy: match v.get("policy") {
                    None => None,
                    Some(p) => Some(
                        serde_json::from_value(p.clone())
                            .map_err(|e| format!("open: policy: {e}"))?,
                    ),
                },
                params: match v.get("params") {
                    None => None,
                    Some(p) => Some(
                        serde_json::from_value(p.clone())
                            .map_err(|e| format!("open: params: {e}"))?,
                    ),
                },
            },
            Some("set_policy") => Input::SetPolicy {
                channel_id: h32(v, "channel_id")?,
                policy: serde_json::from_value(v["policy"].clone())
                    .map_err(|e| format!("set_policy: policy: {e}"))?,
            },
            Some("announce") => Input::Announce {
                from: match v["from"].as_str() {
                    Some(_) => Some(key(v, "from")?),
                    None => None,
                },
                bytes: {
                    let b = unhex(v["bytes"].as_str().unwrap_or(""))
                        .filter(|b| b.len() == ANNOUNCE_LEN)
                        .ok_or("announce: bad bytes")?;
                    let mut a = Box::new([0u8; ANNOUNCE_LEN]);
                    a.copy_from_slice(&b);
                    a
                },
            },
            Some("node_announce") => Input::NodeAnnounce {
                from: match v["from"].as_str() {
                    Some(_) => Some(key(v, "from")?),
                    None => None,
                },
                bytes: unhex(v["bytes"].as_str().unwrap_or(""))
                    .ok_or("node_announce: bad bytes")?,
            },
            Some("self_announce") => Input::SelfAnnounce {
                alias: v["alias"]
                    .as_str()
                    .ok_or("self_announce: alias: not a string")?
                    .to_string(),
                features: unhex(v["features"].as_str().unwrap_or(""))
                    .ok_or("self_announce: bad features")?,
            },
            Some("peer") => Input::Peer {
                from: key(v, "from")?,
                bytes: unhex(v["bytes"].as_str().unwrap_or("")).ok_or("peer: bad bytes")?,
            },
            Some("onion") => Input::Onion {
                bytes: unhex(v["bytes"].as_str().unwrap_or("")).ok_or("onion: bad bytes")?,
                reply: match v["reply"].as_str() {
                    Some(r) => Some(unhex(r).ok_or("onion: bad reply path")?),
                    None => None,
                },
            },
            Some("timer") => match timer_of(&v["timer"])? {
                Some(timer) => Input::Timer { timer },
                None => return Ok(None),
            },
            Some("online") => Input::PeerOnline {
                peer: key(v, "peer")?,
                online: v["online"].as_bool().ok_or("online: not a bool")?,
            },
            Some("invoice") => Input::Invoice {
                preimage: h32(v, "preimage")?,
                secret: h32(v, "secret")?,
                amount_msat: v["amount_msat"].as_u64(),
                expires_at: num(v, "expires_at")?,
                redundant: match v["lock"].as_str() {
                    None => None,
                    Some(name) => Some((
                        LockKind::from_name(name).ok_or("invoice: unknown lock")?,
                        u16::try_from(num(v, "degree")?).map_err(|_| "invoice: degree")?,
                    )),
                },
            },
            Some("pay") => Input::Pay {
                id: num(v, "id")?,
                payment_hash: h32(v, "hash")?,
                payment_secret: h32(v, "secret")?,
                keysend_preimage: match v["keysend"].as_str() {
                    Some(_) => Some(h32(v, "keysend")?),
                    None => None,
                },
                target: key(v, "target")?,
                amount_msat: num(v, "amount_msat")?,
                max_parts: num(v, "max_parts")? as u32,
                final_cltv_delta: num(v, "final_cltv_delta")? as u32,
            },
            Some("pay_redundant") => Input::PayRedundant {
                id: num(v, "id")?,
                payment_hash: h32(v, "hash")?,
                payment_secret: h32(v, "secret")?,
                target: key(v, "target")?,
                amount_msat: num(v, "amount_msat")?,
                final_cltv_delta: num(v, "final_cltv_delta")? as u32,
                ask: RedundantAsk {
                    lock: LockKind::from_name(v["lock"].as_str().unwrap_or(""))
                        .ok_or("pay_redundant: unknown lock")?,
                    redundancy: v["redundancy"]
                        .as_f64()
                        .ok_or("pay_redundant: redundancy: not a number")?,
                    base_parts: num(v, "base_parts")? as u32,
                    commitments: v["commitments"]
                        .as_array()
                        .ok_or("pay_redundant: commitments: not a list")?
                        .iter()
                        .map(|c| {
                            c.as_str()
                                .and_then(|s| s.parse().ok())
                                .ok_or("pay_redundant: a commitment is not a point")
                        })
                        .collect::<Result<_, _>>()?,
                    excluded: match v["excluded"].as_array() {
                        None => Vec::new(),
                        Some(a) => a
                            .iter()
                            .map(|c| {
                                c.as_str()
                                    .and_then(|s| s.parse().ok())
                                    .ok_or("pay_redundant: an excluded peer is not a node id")
                            })
                            .collect::<Result<_, _>>()?,
                    },
                },
            },
            other => return Err(format!("unknown input kind {other:?}")),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_round_trip_through_their_logged_form() {
        let secp = bitcoin::secp256k1::Secp256k1::new();
        let sk = bitcoin::secp256k1::SecretKey::from_slice(&[5; 32]).unwrap();
        let pk = PublicKey::from_secret_key(&secp, &sk);
        let inputs = [
            Input::Open {
                channel_id: [1; 32],
                peer: pk,
                capacity_sat: 10,
                local_msat: 4000,
                remote_msat: 6000,
                policy: None,
                params: None,
            },
            Input::Open {
                channel_id: [1; 32],
                peer: pk,
                capacity_sat: 10,
                local_msat: 4000,
                remote_msat: 6000,
                policy: Some(OwnPolicy {
                    fee_rate_ppm: 7,
                    htlc_maximum_msat: Some(9000),
                    ..OwnPolicy::default()
                }),
                params: Some(OpenParams {
                    local: flotilla_ln::config::ChannelParams {
                        max_accepted_htlcs: 30,
                        ..Default::default()
                    },
                    remote: flotilla_ln::config::ChannelParams::default(),
                }),
            },
            Input::SetPolicy {
                channel_id: [1; 32],
                policy: OwnPolicy::default(),
            },
            Input::Announce {
                from: Some(pk),
                bytes: Box::new([7; ANNOUNCE_LEN]),
            },
            Input::Peer {
                from: pk,
                bytes: vec![1, 2, 3],
            },
            Input::NodeAnnounce {
                from: None,
                bytes: vec![1, 2],
            },
            Input::SelfAnnounce {
                alias: "a".into(),
                features: vec![2, 0],
            },
            Input::Timer {
                timer: Timer::MppTimeout {
                    payment_hash: PaymentHash([3; 32]),
                    set: 2,
                },
            },
            Input::Timer {
                timer: Timer::HtlcExpiry {
                    htlc: HtlcRef {
                        channel: ChannelIdx(3),
                        id: 9,
                    },
                },
            },
            Input::PeerOnline {
                peer: pk,
                online: false,
            },
            Input::Invoice {
                preimage: [1; 32],
                secret: [2; 32],
                amount_msat: None,
                expires_at: 99,
                redundant: None,
            },
            Input::Invoice {
                preimage: [1; 32],
                secret: [2; 32],
                amount_msat: Some(6000),
                expires_at: 99,
                redundant: Some((LockKind::Boomerang, 3)),
            },
            Input::Timer {
                timer: Timer::PaymentDeadline { payment: 8 },
            },
            Input::Timer {
                timer: Timer::EndpointResend {
                    payment_id: [4; 32],
                    attempt: 3,
                },
            },
            Input::Onion {
                bytes: vec![0x80, 0x05, 9],
                reply: Some(vec![1, 2]),
            },
            Input::Onion {
                bytes: vec![0x80, 0x05],
                reply: None,
            },
            Input::PayRedundant {
                id: 5,
                payment_hash: [1; 32],
                payment_secret: [2; 32],
                target: pk,
                amount_msat: 6000,
                final_cltv_delta: 18,
                ask: RedundantAsk {
                    lock: LockKind::Boomerang,
                    redundancy: 0.5,
                    base_parts: 3,
                    commitments: vec![pk, pk],
                    excluded: vec![pk],
                },
            },
            Input::Pay {
                id: 4,
                payment_hash: [1; 32],
                payment_secret: [2; 32],
                keysend_preimage: Some([3; 32]),
                target: pk,
                amount_msat: 5,
                max_parts: 3,
                final_cltv_delta: 18,
            },
        ];
        for i in inputs {
            let back = Input::from_json(&i.to_json()).unwrap().unwrap();
            assert_eq!(back, i);
        }
    }
}
