//! The live node's decoders and its engine under a hostile peer.
//!
//! `node_setup` covers what the daemon reads besides `flotilla_ln::wire` (which the
//! `wire` target covers): the channel-opening and gossip messages, a gossip
//! announcement's signature check, and the input log a restart replays.
//!
//! `node_engine` drives four in-memory engines — the daemon's whole protocol logic,
//! without sockets or store — with payments (MPP, keysend, redundant with the hash
//! locks) between the honest nodes 0, 1 and 2 while
//! node 3, whose channel ends at node 1, turns hostile: it sends arbitrary bytes,
//! corrupted and replayed copies of its own messages. Messages on each link stay in
//! order, as the transport keeps them; timers fire in order of their due time.
//! Every operation reads the same bytes whatever the state, so a mutation changes one
//! step and not the reading of all that follow. Invariants: no panic; every honest engine's books check after every input; a
//! fresh engine fed an honest node's logged inputs reaches the same channels (the
//! durability of the daemon rests on that); once everything has run, both ends of
//! each honest channel agree, and the forwarding-only node 1 has lost nothing.

use std::collections::{BTreeMap, VecDeque};

use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::lock::LockKind;
use flotilla_ln::output::Timer;
use flotilla_ln::wire;
use flotilla_node::engine::gossip::Announcement;
use flotilla_node::engine::pay::PayStatus;
use flotilla_node::engine::redundant::RedundantAsk;
use flotilla_node::engine::{clock_at, Effect, Engine, Input as EngineInput};
use flotilla_node::transport::setup::{SetupMessage, ANNOUNCE_LEN};
use serde_json::Value;

use super::Input;

/// The setup message types, so most inputs hit one.
const SETUP_TYPES: [u16; 6] = [32777, 32779, 32781, 32783, 32785, 32791];

/// `node_setup`: setup and gossip payloads decode totally and round-trip; an
/// announcement's check never panics; the input log's JSON reads totally and what
/// reads writes back to itself.
pub fn node_setup(data: &[u8]) {
    let mut input = Input::new(data);
    let pick = input.u8();
    let t = match SETUP_TYPES.get(usize::from(pick % 8)) {
        Some(t) => *t,
        None => input.u16(),
    };
    let payload = input.var_bytes(255);
    if let Some(Ok(m)) = SetupMessage::decode(t, payload) {
        assert_eq!(m.type_id(), t);
        let again = SetupMessage::decode(t, &m.encode());
        assert_eq!(again, Some(Ok(m.clone())), "setup round trip");
        if let SetupMessage::Announce(bytes) = &m {
            let _ = Announcement::verify(bytes);
        }
        if let SetupMessage::NodeAnnounce(bytes) = &m {
            let _ = flotilla_node::engine::node_gossip::NodeAnnouncement::verify(bytes);
        }
    }
    let mut announce = [0u8; ANNOUNCE_LEN];
    let n = payload.len().min(ANNOUNCE_LEN);
    announce[..n].copy_from_slice(&payload[..n]);
    let _ = Announcement::verify(&announce);

    let Ok(text) = std::str::from_utf8(input.rest()) else {
        return;
    };
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return;
    };
    if let Ok(Some(logged)) = EngineInput::from_json(&v) {
        let back = EngineInput::from_json(&logged.to_json());
        assert_eq!(back, Ok(Some(logged)), "log round trip");
    }
}

/// Start of the simulated clock, µs since 1970.
const T0: u64 = 1_800_000_000_000_000;
/// The hostile node.
const MALLORY: usize = 3;
/// The forwarding-only node.
const HUB: usize = 1;
/// Channels: (a, b, id byte).
const CHANNELS: [(usize, usize, u8); 3] = [(0, HUB, 1), (HUB, 2, 2), (HUB, MALLORY, 3)];

/// What a `node_engine` run reached, so the seeds can be checked to reach it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineSummary {
    /// Payments that succeeded.
    pub succeeded: usize,
    /// Payments that failed.
    pub failed: usize,
    /// Warnings the honest nodes sent (to Mallory, or over a refused command).
    pub warnings: usize,
    /// Inputs from Mallory that were her own bytes, corrupted or replayed.
    pub hostile: usize,
}

struct EngineNet {
    engines: Vec<Engine>,
    keys: Vec<PublicKey>,
    secrets: Vec<SecretKey>,
    /// Every input each engine consumed, with its clock (for the replay check).
    logs: Vec<Vec<(EngineInput, u64)>>,
    /// Per (from, to): messages in flight, in order.
    links: BTreeMap<(usize, usize), VecDeque<EngineInput>>,
    /// Per engine: (due, sequence, timer), fired in that order.
    timers: Vec<BTreeMap<(u64, u64), Timer>>,
    timer_seq: u64,
    invoices: Vec<(usize, PaymentKeys, u64, Option<LockKind>)>,
    /// Payments started: (payer, id).
    payments: Vec<(usize, u64)>,
    summary: EngineSummary,
    now: u64,
    next_payment: u64,
}

impl EngineNet {
    fn new() -> EngineNet {
        let secp = Secp256k1::signing_only();
        let secrets: Vec<SecretKey> = (0..4)
            .map(|i| SecretKey::from_slice(&[i as u8 + 1; 32]).expect("valid key"))
            .collect();
        EngineNet {
            keys: secrets
                .iter()
                .map(|s| PublicKey::from_secret_key(&secp, s))
                .collect(),
            engines: secrets.iter().map(|s| Engine::new(*s)).collect(),
            secrets,
            logs: vec![Vec::new(); 4],
            links: BTreeMap::new(),
            timers: vec![BTreeMap::new(); 4],
            timer_seq: 0,
            invoices: Vec::new(),
            payments: Vec::new(),
            summary: EngineSummary::default(),
            now: T0,
            next_payment: 1,
        }
    }

    fn ix(&self, k: &PublicKey) -> usize {
        self.keys.iter().position(|x| x == k).expect("a known key")
    }

    /// Applies `input` to engine `i` and routes what it asks for.
    fn apply(&mut self, i: usize, input: EngineInput) {
        self.now += 1_000;
        // A refused command changes nothing; the fuzzer may well ask for one.
        let Ok(effects) = self.engines[i].apply(&input, &clock_at(self.now)) else {
            return;
        };
        self.logs[i].push((input, self.now));
        if i != MALLORY {
            if let Err(e) = self.engines[i].check() {
                panic!("node {i}: books broken: {e}");
            }
        }
        for effect in effects {
            match effect {
                Effect::Send { to, message } => {
                    let bytes = wire::encode_tunnelled(&message).expect("engine messages fit");
                    let j = self.ix(&to);
                    let from = self.keys[i];
                    self.links
                        .entry((i, j))
                        .or_default()
                        .push_back(EngineInput::Peer { from, bytes });
                }
                Effect::Gossip { except, bytes } => {
                    for j in 0..self.keys.len() {
                        if j != i && Some(self.keys[j]) != except {
                            self.links.entry((i, j)).or_default().push_back(
                                EngineInput::Announce {
                                    from: Some(self.keys[i]),
                                    bytes: bytes.clone(),
                                },
                            );
                        }
                    }
                }
                Effect::NodeGossip { except, bytes, .. } => {
                    for j in 0..self.keys.len() {
                        if j != i && Some(self.keys[j]) != except {
                            self.links.entry((i, j)).or_default().push_back(
                                EngineInput::NodeAnnounce {
                                    from: Some(self.keys[i]),
                                    bytes: bytes.clone(),
                                },
                            );
                        }
                    }
                }
                // An onion message: carried like a peer message here (its route is
                // the transport's business), in order on its own link.
                Effect::Onion { to, message, .. } => {
                    let bytes = wire::encode_tunnelled(&message).expect("engine messages fit");
                    let j = self.ix(&to);
                    self.links
                        .entry((i, j))
                        .or_default()
                        .push_back(EngineInput::Onion { bytes, reply: None });
                }
                Effect::Timer { at, timer } => {
                    self.timer_seq += 1;
                    self.timers[i].insert((at.0, self.timer_seq), timer);
                }
                Effect::Warn { .. } => {
                    if i != MALLORY {
                        self.summary.warnings += 1;
                    }
                }
            }
        }
    }

    fn open(&mut self, a: usize, b: usize, id: u8, capacity_sat: u64, push_msat: u64) {
        let cap = capacity_sat * 1000;
        let push = push_msat.min(cap);
        for (me, peer, local, remote) in [(a, b, cap - push, push), (b, a, push, cap - push)] {
            let peer = self.keys[peer];
            self.apply(
                me,
                EngineInput::Open {
                    channel_id: [id; 32],
                    peer,
                    capacity_sat,
                    local_msat: local,
                    remote_msat: remote,
                    policy: None,
                    params: None,
                },
            );
        }
    }

    /// Delivers the oldest message on link `from → to`; true if there was one.
    fn deliver(&mut self, from: usize, to: usize) -> bool {
        let Some(m) = self
            .links
            .get_mut(&(from, to))
            .and_then(VecDeque::pop_front)
        else {
            return false;
        };
        self.apply(to, m);
        true
    }

    /// Fires engine `i`'s earliest timer; true if there was one.
    fn fire(&mut self, i: usize) -> bool {
        let Some(((due, _), timer)) = self.timers[i].pop_first() else {
            return false;
        };
        self.now = self.now.max(due);
        self.apply(i, EngineInput::Timer { timer });
        true
    }

    /// Runs every link (Mallory's too when `all`; she is honest until the schedule
    /// starts) and every honest timer until nothing is left (bounded).
    fn drain(&mut self, all: bool) {
        for _ in 0..10_000 {
            let link = self
                .links
                .iter()
                .find(|((f, _), q)| (all || *f != MALLORY) && !q.is_empty())
                .map(|(k, _)| *k);
            if let Some((f, t)) = link {
                self.deliver(f, t);
                continue;
            }
            if !(0..MALLORY).any(|i| self.fire(i)) {
                return;
            }
        }
    }

    /// A fresh engine fed node `i`'s log reaches node `i`'s channels.
    fn check_replay(&self, i: usize) {
        let mut fresh = Engine::new(self.secrets[i]);
        for (input, at) in &self.logs[i] {
            fresh
                .apply(input, &clock_at(*at))
                .expect("a logged input was accepted once");
        }
        assert_eq!(
            fresh.channels_json(),
            self.engines[i].channels_json(),
            "node {i}: replaying the log gave other channels"
        );
    }

    /// Node `i`'s channel with `peer` as (local, remote, pending count, pending msat).
    fn end(&self, i: usize, peer: usize) -> Option<(u64, u64, u64, u64)> {
        let peer = self.keys[peer].to_string();
        self.engines[i]
            .channels_json()
            .into_iter()
            .find(|c| c["peer"].as_str() == Some(peer.as_str()))
            .map(|c| {
                let n = |k: &str| c[k].as_u64().unwrap_or(0);
                (
                    n("local_msat"),
                    n("remote_msat"),
                    n("pending_htlcs"),
                    n("local_pending_msat") + n("remote_pending_msat"),
                )
            })
    }
}

/// `node_engine`: see the module documentation.
pub fn node_engine(data: &[u8]) -> EngineSummary {
    let mut input = Input::new(data);
    let mut net = EngineNet::new();
    for (a, b, id) in CHANNELS {
        let capacity_sat = 10_000 + u64::from(input.u32() % 2_000_000);
        let push_msat = u64::from(input.u32()) * 1_000 % (capacity_sat * 1_000);
        net.open(a, b, id, capacity_sat, push_msat);
    }
    net.drain(true);
    let hub_start: u64 = [0, 2, MALLORY]
        .iter()
        .filter_map(|&p| net.end(HUB, p))
        .map(|e| e.0)
        .sum();

    let mut steps = 0;
    while !input.is_empty() && steps < 300 {
        steps += 1;
        match input.u8() % 10 {
            // An invoice at 0, 2 or Mallory (never at the hub, which only forwards).
            0 => {
                let at = [0, 2, MALLORY][input.below(3)];
                let keys = PaymentKeys::from_bytes(input.array32(), input.array32());
                let amount = 1_000 + u64::from(input.u32()) % 500_000_000;
                let lock = match input.u8() % 4 {
                    0 => Some(LockKind::H2tlc),
                    1 => Some(LockKind::SenderHash),
                    _ => None,
                };
                net.apply(
                    at,
                    EngineInput::Invoice {
                        preimage: keys.preimage.0,
                        secret: keys.secret.0,
                        amount_msat: Some(amount),
                        expires_at: net.now + 3_600_000_000,
                        redundant: lock.map(|l| (l, 0)),
                    },
                );
                net.invoices.push((at, keys, amount, lock));
            }
            // A payment of a known invoice (or a wrong amount of it), or a keysend.
            1 | 2 => {
                let from = [0, 2, MALLORY][input.below(3)];
                let keysend = input.u8() % 4 == 0;
                let (target, keys, amount, lock) = if keysend || net.invoices.is_empty() {
                    let to = [0, 2, MALLORY][input.below(3)];
                    let keys = PaymentKeys::from_bytes(input.array32(), input.array32());
                    (to, keys, 1_000 + u64::from(input.u32()) % 500_000_000, None)
                } else {
                    let (to, keys, amount, lock) = net.invoices[input.below(net.invoices.len())];
                    let amount = if input.u8() % 8 == 0 {
                        amount / 2
                    } else {
                        amount
                    };
                    (to, keys, amount, lock)
                };
                let id = net.next_payment;
                net.next_payment += 1;
                let (max_parts, final_cltv_delta) = (
                    1 + u32::from(input.u8() % 8),
                    18 + u32::from(input.u8() % 100),
                );
                // For a redundant invoice: ρ in {0, 0.5, 1, 1.5}, up to four base parts.
                let (rho, base_parts) = (f64::from(input.u8() % 4) / 2.0, 1 + input.u8() % 4);
                let target = net.keys[target];
                let pay = match lock {
                    Some(lock) if !keysend => EngineInput::PayRedundant {
                        id,
                        payment_hash: keys.hash.0,
                        payment_secret: keys.secret.0,
                        target,
                        amount_msat: amount,
                        final_cltv_delta,
                        ask: RedundantAsk {
                            lock,
                            redundancy: rho,
                            base_parts: u32::from(base_parts),
                            commitments: Vec::new(),
                            excluded: Vec::new(),
                        },
                    },
                    _ => EngineInput::Pay {
                        id,
                        payment_hash: keys.hash.0,
                        payment_secret: keys.secret.0,
                        keysend_preimage: keysend.then_some(keys.preimage.0),
                        target,
                        amount_msat: amount,
                        max_parts,
                        final_cltv_delta,
                    },
                };
                net.apply(from, pay);
                net.payments.push((from, id));
            }
            // The oldest message on one link.
            3..=5 => {
                // Read before looking, so an op takes the same bytes whatever the state.
                let pick = usize::from(input.u8());
                let links: Vec<(usize, usize)> = net
                    .links
                    .iter()
                    .filter(|(_, q)| !q.is_empty())
                    .map(|(k, _)| *k)
                    .collect();
                if !links.is_empty() {
                    let (f, t) = links[pick % links.len()];
                    net.deliver(f, t);
                }
            }
            // A timer.
            6 => {
                let i = input.below(4);
                net.fire(i);
            }
            // Mallory: arbitrary bytes to the hub.
            7 => {
                let bytes = input.var_bytes(200).to_vec();
                let from = net.keys[MALLORY];
                net.apply(HUB, EngineInput::Peer { from, bytes });
                net.summary.hostile += 1;
            }
            // Mallory: her next message to the hub, corrupted, replayed or dropped.
            8 => {
                let (mode, at, bit) = (input.u8() % 3, input.u32() as usize, input.u8() % 8);
                let Some(EngineInput::Peer { from, mut bytes }) = net
                    .links
                    .get_mut(&(MALLORY, HUB))
                    .and_then(VecDeque::pop_front)
                else {
                    continue;
                };
                net.summary.hostile += 1;
                match mode {
                    0 if !bytes.is_empty() => {
                        let at = at % bytes.len();
                        bytes[at] ^= 1 << bit;
                        net.apply(HUB, EngineInput::Peer { from, bytes });
                    }
                    1 => {
                        net.apply(
                            HUB,
                            EngineInput::Peer {
                                from,
                                bytes: bytes.clone(),
                            },
                        );
                        net.apply(HUB, EngineInput::Peer { from, bytes });
                    }
                    _ => {}
                }
            }
            // Time passes; a peer goes away or comes back; the replay check.
            _ => {
                net.now += u64::from(input.u32() % 600) * 1_000_000;
                let i = input.below(3);
                let peer = net.keys[[HUB, 0, 2][i]];
                let online = input.bool();
                net.apply(i, EngineInput::PeerOnline { peer, online });
                net.check_replay(input.below(3));
            }
        }
    }

    // Everything honest runs to its end; Mallory's messages still in flight go too.
    for i in 0..MALLORY {
        for p in 0..4 {
            if p != i {
                let peer = net.keys[p];
                net.apply(i, EngineInput::PeerOnline { peer, online: true });
            }
        }
    }
    while net.deliver(MALLORY, HUB) {}
    net.now += 30 * 24 * 3_600 * 1_000_000;
    net.drain(false);
    for i in 0..MALLORY {
        net.check_replay(i);
    }
    for (a, b, _) in &CHANNELS[..2] {
        let (ea, eb) = (net.end(*a, *b), net.end(*b, *a));
        let (Some(ea), Some(eb)) = (ea, eb) else {
            panic!("channel {a}–{b} lost an end");
        };
        assert_eq!(
            (ea.0, ea.1, ea.2),
            (eb.1, eb.0, eb.2),
            "the ends of {a}–{b} disagree"
        );
    }
    // The hub only forwards: unless it still waits on Mallory, it has lost nothing.
    let hub_ends: Vec<_> = [0, 2, MALLORY]
        .iter()
        .filter_map(|&p| net.end(HUB, p))
        .collect();
    if hub_ends.iter().all(|e| e.2 == 0) {
        let hub_end: u64 = hub_ends.iter().map(|e| e.0).sum();
        assert!(
            hub_end >= hub_start,
            "the forwarding hub lost {} msat",
            hub_start - hub_end
        );
    }
    for &(i, id) in &net.payments {
        match net.engines[i].payment_status(id) {
            Some(PayStatus::Succeeded) => net.summary.succeeded += 1,
            Some(PayStatus::Failed(_)) => net.summary.failed += 1,
            _ => {}
        }
    }
    net.summary
}
