//! Property tests of the whole protocol engine over random graphs, workloads and fault
//! mixes, driven by a latency-ordered event queue like the simulator's:
//!
//! - funds are conserved (every step: `check_invariants`; at the end: every channel's
//!   two balances sum to its capacity, and the fees senders paid are exactly what
//!   forwarders earned);
//! - every HTLC is resolved at the end, and every part sent has exactly one outcome;
//! - no receiver settles more than it is owed (MPP: one claim per invoice, at least the
//!   amount and less than twice it; redundant: exactly A or nothing);
//! - independent payments commute: interleaving their messages in any order gives the
//!   same balances, ledgers and outcomes as running them one after another;
//! - a liquidity-bounds scorer fed the real outcomes keeps ordered bounds inside the
//!   capacity, and its in-flight accounting returns to zero.
//!
//! The default case counts keep each test to a few seconds; `PROPTEST_CASES` raises them.

mod common;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use common::policy;
use flotilla_graph::liquidity::Balances;
use flotilla_graph::{
    Channel, ChannelIdx, Direction, EdgeIdx, Graph, GraphBuilder, Node, NodeIdx, NodePubkey,
    ShortChannelId,
};
use flotilla_ln::clock::Clock;
use flotilla_ln::config::{Behaviour, NodeConfig};
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::lock::LockKind;
use flotilla_ln::msg::{EndpointMsg, Msg};
use flotilla_ln::network::{Network, NodeLedger};
use flotilla_ln::output::{Event, Output, Timer};
use flotilla_ln::payload::PaymentData;
use flotilla_ln::receiver::InvoiceRecord;
use flotilla_ln::redundant::{ClaimRequest, RedundantInvoice, RedundantSender};
use flotilla_ln::sender::{PartId, SendPart};
use flotilla_route::scorers::{LiquidityBoundsScorer, UniformScorer};
use flotilla_route::{Path, Pathfinder, RouteRequest, Router, Scorer, Timestamp};
use proptest::prelude::*;

const HEIGHT0: u32 = 800_000;
const BLOCK_MICROS: u64 = 600_000_000;

fn key(i: usize) -> NodePubkey {
    let mut s = [0u8; 32];
    s[24..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    NodePubkey::from_secret(s).unwrap()
}

fn clock_at(now: Timestamp) -> Clock {
    Clock::new(now, HEIGHT0 + (now.micros() / BLOCK_MICROS) as u32)
}

/// `(a, b, capacity_sat, share of the capacity on a's side in 1/255)`.
type ChannelSpec = (usize, usize, u64, u8);

fn build_graph(n: usize, channels: &[ChannelSpec]) -> (Graph, Balances) {
    let mut b = GraphBuilder::new();
    for i in 0..n {
        b.add_node(Node::bare(key(i))).unwrap();
    }
    let mut shares = Vec::new();
    for (i, &(x, y, cap, share)) in channels.iter().enumerate() {
        if x == y {
            continue;
        }
        b.add_channel(Channel {
            scid: ShortChannelId::from_parts(700_000, i as u64 + 1, 0).unwrap(),
            nodes: [NodeIdx(x as u32), NodeIdx(y as u32)],
            capacity_sat: cap,
            policies: [Some(policy()), Some(policy())],
            chan_point: None,
            last_update: 0,
        })
        .unwrap();
        shares.push(share);
    }
    let g = b.build();
    let mut v = vec![0u64; g.edge_slots()];
    for (i, c) in g.channels().iter().enumerate() {
        let cap = c.capacity_msat();
        let a = cap / 255 * shares[i] as u64;
        v[ChannelIdx(i as u32).edge(Direction::AToB).ix()] = a;
        v[ChannelIdx(i as u32).edge(Direction::BToA).ix()] = cap - a;
    }
    (g, Balances::from_vec(v))
}

/// How a payment is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Invoice, `parts` equal parts.
    Mpp,
    /// Spontaneous, one part.
    Keysend,
    /// Redundant overpayment: A split in `parts` equal parts, plus one extra part.
    Redundant(LockKind),
}

#[derive(Clone, Debug)]
struct PaySpec {
    source: usize,
    target: usize,
    amount_sat: u64,
    kind: Kind,
    parts: u64,
    start_ms: u64,
}

/// What happened to each part and payment, as the driver saw it.
#[derive(Default, Debug)]
struct Book {
    /// Part id → (payment, amount it delivers).
    parts: BTreeMap<u64, (usize, u64)>,
    /// Part id → outcomes seen: (settled, amount, fee).
    outcomes: BTreeMap<u64, Vec<(bool, u64, u64)>>,
    /// Claims seen by receivers: payment hash → amounts.
    received: HashMap<[u8; 32], Vec<u64>>,
}

enum Ev {
    Start(usize),
    Deliver(NodeIdx, NodeIdx, Msg),
    Fire(NodeIdx, Timer),
    Claim(ClaimRequest),
}

/// A latency-ordered driver: messages and claim requests take 1–200 ms (seeded), ties
/// break by insertion order, timers fire at their time.
struct Sim {
    net: Network,
    queue: BinaryHeap<Reverse<(Timestamp, u64)>>,
    events: HashMap<u64, Ev>,
    seq: u64,
    rng: u64,
    out: Vec<Output>,
    book: Book,
    scorer: LiquidityBoundsScorer,
    paths: HashMap<u64, Path>,
}

impl Sim {
    fn push(&mut self, at: Timestamp, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq)));
        self.events.insert(self.seq, ev);
    }

    fn latency(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        1_000 + self.rng % 200_000
    }

    fn absorb(&mut self, now: Timestamp) {
        let outs: Vec<Output> = self.out.drain(..).collect();
        let g = Arc::clone(self.net.graph());
        for o in outs {
            match o {
                // A claim request reaches the sender's user, who answers it (Ev::Claim).
                Output::Message {
                    from,
                    to,
                    msg: Msg::Endpoint(EndpointMsg::ClaimRequest { payment_id, parts }),
                } => {
                    let at = now + self.latency();
                    let r = ClaimRequest {
                        receiver: from,
                        sender: Some(to),
                        payment_id,
                        parts,
                    };
                    self.push(at, Ev::Claim(r));
                }
                Output::Message { from, to, msg } => {
                    let at = now + self.latency();
                    self.push(at, Ev::Deliver(from, to, msg));
                }
                Output::Timer { at, node, timer } => self.push(at.max(now), Ev::Fire(node, timer)),
                Output::Event { event, .. } => match event {
                    Event::PartSettled {
                        part,
                        amount_msat,
                        fee_msat,
                        ..
                    } => {
                        self.book.outcomes.entry(part.0).or_default().push((
                            true,
                            amount_msat,
                            fee_msat,
                        ));
                        if let Some(p) = self.paths.remove(&part.0) {
                            self.scorer.htlcs_in_flight(&g, &p, false);
                            self.scorer.path_succeeded(&g, &p, now);
                        }
                    }
                    Event::PartFailed {
                        part,
                        path_failure: pf,
                        ..
                    } => {
                        self.book
                            .outcomes
                            .entry(part.0)
                            .or_default()
                            .push((false, 0, 0));
                        if let Some(p) = self.paths.remove(&part.0) {
                            self.scorer.htlcs_in_flight(&g, &p, false);
                            self.scorer.path_failed(&g, &p, pf, now);
                        }
                    }
                    Event::PaymentReceived {
                        payment_hash,
                        amount_msat,
                        ..
                    } => self
                        .book
                        .received
                        .entry(payment_hash.0)
                        .or_default()
                        .push(amount_msat),
                    Event::ClaimRequested { .. } => unreachable!("answered as Ev::Claim"),
                    Event::PartRefunded { .. } => unreachable!("no refund is claimed"),
                },
            }
        }
        if let Err(e) = self.net.check_invariants() {
            panic!("invariant broken at {now:?}: {e}");
        }
        // The scorer's beliefs stay ordered and inside the capacity, whatever it learnt.
        for e in 0..g.edge_slots() as u32 {
            let e = EdgeIdx(e);
            let cap = g.channel(e.channel()).capacity_msat();
            let (lo, up) = self.scorer.liquidity_bounds(&g, e, now);
            assert!(
                lo <= up && up <= cap,
                "{e:?}: bounds [{lo}, {up}], capacity {cap}"
            );
        }
    }
}

fn keys_of(i: usize) -> PaymentKeys {
    PaymentKeys::from_bytes([i as u8 + 1; 32], [i as u8 + 101; 32])
}

/// Runs `payments` over the graph with the given faults; returns the network and book.
fn simulate(
    g: Graph,
    balances: Balances,
    configs: Vec<NodeConfig>,
    payments: &[PaySpec],
    latency_seed: u64,
) -> (Network, Book) {
    let g = Arc::new(g);
    let net = Network::new(Arc::clone(&g), balances, configs).unwrap();
    let mut sim = Sim {
        scorer: LiquidityBoundsScorer::new(&g, NodeIdx(0)),
        net,
        queue: BinaryHeap::new(),
        events: HashMap::new(),
        seq: 0,
        rng: latency_seed | 1,
        out: Vec::new(),
        book: Book::default(),
        paths: HashMap::new(),
    };
    for (i, p) in payments.iter().enumerate() {
        sim.push(Timestamp::from_secs(1) + p.start_ms * 1_000, Ev::Start(i));
    }
    let mut router = Pathfinder::new(UniformScorer);
    let mut senders: HashMap<[u8; 32], RedundantSender> = HashMap::new();
    let mut next_part = 0u64;
    while let Some(Reverse((now, seq))) = sim.queue.pop() {
        let ev = sim.events.remove(&seq).unwrap();
        let clock = clock_at(now);
        match ev {
            Ev::Start(i) => {
                let p = &payments[i];
                let (src, dst) = (NodeIdx(p.source as u32), NodeIdx(p.target as u32));
                let k = keys_of(i);
                let a = p.amount_sat * 1000;
                let expires_at = Timestamp::from_secs(10 * 86_400);
                let mut redundant = None;
                let (count, part_amount) = match p.kind {
                    Kind::Keysend => (1, a),
                    Kind::Mpp => {
                        let record = InvoiceRecord {
                            preimage: k.preimage,
                            payment_secret: k.secret,
                            amount_msat: Some(a),
                            min_final_cltv_expiry_delta: 18,
                            expires_at,
                        };
                        sim.net.register_invoice(dst, k.hash, record).unwrap();
                        (p.parts, a / p.parts)
                    }
                    Kind::Redundant(lock) => {
                        let inv = RedundantInvoice {
                            payment_secret: k.secret,
                            amount_msat: a,
                            lock,
                            preimage: (lock == LockKind::H2tlc).then_some(k.preimage),
                            min_final_cltv_expiry_delta: 18,
                            expires_at,
                        };
                        sim.net.register_redundant(dst, inv).unwrap();
                        let id = [i as u8; 32];
                        senders.insert(
                            id,
                            RedundantSender::new(id, a, lock, k.secret, Some(k.hash)),
                        );
                        redundant = Some(id);
                        (p.parts + 1, a / p.parts)
                    }
                };
                for j in 0..count {
                    // MPP: the last part takes the remainder, so the parts sum to A.
                    let amount = if p.kind == Kind::Mpp && j == count - 1 {
                        a - part_amount * (count - 1)
                    } else {
                        part_amount
                    };
                    let mut req = RouteRequest::new(src, dst, amount);
                    req.limits.max_fee_msat = u64::MAX / 4;
                    let Ok(route) = router.find_route(&g, &req, now) else {
                        continue;
                    };
                    let path = route.paths.into_iter().next().unwrap();
                    let id = next_part;
                    next_part += 1;
                    let sent = match redundant {
                        Some(rid) => {
                            let s = senders.get_mut(&rid).unwrap();
                            let secret = RedundantSender::derive_secret(3, &rid, j as u16);
                            let idx = s.add_part(amount, secret);
                            let part = s.part(idx, PartId(id), &path);
                            sim.net.send_redundant(part, &clock, &mut sim.out).is_ok()
                        }
                        None => {
                            let part = SendPart {
                                id: PartId(id),
                                path: &path,
                                payment_hash: k.hash,
                                payment_data: (p.kind == Kind::Mpp).then_some(PaymentData {
                                    payment_secret: k.secret,
                                    total_msat: a,
                                }),
                                keysend_preimage: (p.kind == Kind::Keysend).then_some(k.preimage),
                            };
                            sim.net.send(part, &clock, &mut sim.out).is_ok()
                        }
                    };
                    if sent {
                        sim.book.parts.insert(id, (i, amount));
                        if src == NodeIdx(0) {
                            sim.scorer.htlcs_in_flight(&g, &path, true);
                            sim.paths.insert(id, path);
                        }
                    }
                }
            }
            Ev::Deliver(from, to, msg) => {
                sim.net
                    .deliver(to, from, msg, &clock, &mut sim.out)
                    .expect("the driver delivers what the network emitted");
            }
            Ev::Fire(node, t) => sim.net.fire(node, t, &clock, &mut sim.out),
            Ev::Claim(req) => {
                if let Some(secrets) = senders
                    .get_mut(&req.payment_id)
                    .and_then(|s| s.answer(&req.parts))
                {
                    // The answer travels as a message like any other.
                    let sender = req.sender.expect("a reply path");
                    sim.net.node_mut(sender).reveal(
                        req.receiver,
                        req.payment_id,
                        secrets,
                        &mut sim.out,
                    );
                }
            }
        }
        sim.absorb(now);
    }
    for e in 0..g.edge_slots() as u32 {
        assert_eq!(
            sim.scorer.in_flight_msat(EdgeIdx(e)),
            0,
            "in flight left on {e}"
        );
    }
    (sim.net, sim.book)
}

fn check_outcomes(net: &Network, book: &Book, payments: &[PaySpec]) -> Result<(), TestCaseError> {
    let g = net.graph();
    prop_assert_eq!(net.live_htlcs(), 0, "HTLCs left unresolved");
    for id in book.parts.keys() {
        let n = book.outcomes.get(id).map_or(0, Vec::len);
        prop_assert_eq!(n, 1, "part {} has {} outcomes", id, n);
    }
    // Conservation: no value created or lost, fees paid = fees earned.
    for (i, c) in g.channels().iter().enumerate() {
        let s = |d| net.edge_state(ChannelIdx(i as u32).edge(d));
        let (a, b) = (s(Direction::AToB), s(Direction::BToA));
        prop_assert_eq!(a.pending_msat + b.pending_msat, 0);
        prop_assert_eq!(a.balance_msat + b.balance_msat, c.capacity_msat());
    }
    let paid: u64 = book.outcomes.values().flatten().map(|o| o.2).sum();
    let earned: u64 = (0..g.node_count())
        .map(|n| net.fees_earned(NodeIdx(n as u32)))
        .sum();
    prop_assert_eq!(paid, earned, "fees paid vs earned");
    // What each receiver got, against what it was owed.
    for (i, p) in payments.iter().enumerate() {
        let a = p.amount_sat * 1000;
        let k = keys_of(i);
        let delivered: u64 = book
            .parts
            .iter()
            .filter(|(_, (pay, _))| *pay == i)
            .filter_map(|(id, _)| book.outcomes.get(id))
            .flatten()
            .filter(|o| o.0)
            .map(|o| o.1)
            .sum();
        let claims = book.received.get(&k.hash.0).cloned().unwrap_or_default();
        match p.kind {
            Kind::Mpp => {
                prop_assert!(
                    claims.len() <= 1,
                    "payment {} claimed {} times",
                    i,
                    claims.len()
                );
                if let Some(&got) = claims.first() {
                    prop_assert!(got >= a && got < 2 * a, "payment {i}: claimed {got} of {a}");
                }
                prop_assert!(
                    delivered == 0 || delivered == claims[0],
                    "payment {i}: {delivered}"
                );
            }
            Kind::Redundant(_) => {
                let settled = net
                    .receiver(NodeIdx(p.target as u32))
                    .redundant
                    .settled_msat(&k.secret);
                prop_assert!(
                    settled == 0 || settled == a,
                    "payment {i}: settled {settled} of {a}"
                );
                prop_assert_eq!(delivered, settled, "payment {}", i);
            }
            Kind::Keysend => prop_assert!(delivered == 0 || delivered == a),
        }
    }
    Ok(())
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        4 => Just(Kind::Mpp),
        1 => Just(Kind::Keysend),
        2 => Just(Kind::Redundant(LockKind::SenderHash)),
        2 => Just(Kind::Redundant(LockKind::H2tlc)),
    ]
}

fn case() -> impl Strategy<Value = (usize, Vec<ChannelSpec>, Vec<PaySpec>, Vec<u8>, u16, u64)> {
    (3usize..8).prop_flat_map(|n| {
        let chan = (0..n, 0..n, 5_000u64..200_000, any::<u8>());
        let pay = (0..n, 0..n, 1u64..6_000, kind(), 1u64..4, 0u64..3_000).prop_map(
            |(source, target, amount_sat, kind, parts, start_ms)| PaySpec {
                source,
                target,
                amount_sat: amount_sat * 10,
                kind,
                parts,
                start_ms,
            },
        );
        (
            Just(n),
            // A ring, so most pairs are connected, plus random chords.
            (
                prop::collection::vec((5_000u64..200_000, any::<u8>()), n),
                prop::collection::vec(chan, 0..2 * n),
            )
                .prop_map(move |(ring, chords)| {
                    let mut c: Vec<ChannelSpec> = ring
                        .into_iter()
                        .enumerate()
                        .map(|(i, (cap, share))| (i, (i + 1) % n, cap, share))
                        .collect();
                    c.extend(chords);
                    c
                }),
            prop::collection::vec(pay, 1..16)
                .prop_map(|v| v.into_iter().filter(|p| p.source != p.target).collect()),
            // Per node: 0–199 honest, 200–229 offline, 230–255 hodl.
            prop::collection::vec(any::<u8>(), n),
            1u16..30,
            any::<u64>(),
        )
    })
}

fn configs(faults: &[u8], max_htlcs: u16) -> Vec<NodeConfig> {
    faults
        .iter()
        .map(|&f| NodeConfig {
            channel: flotilla_ln::config::ChannelParams {
                max_accepted_htlcs: max_htlcs,
                ..Default::default()
            },
            online: !(200..230).contains(&f),
            behaviour: if f >= 230 {
                Behaviour::Hodl
            } else {
                Behaviour::Honest
            },
            offline_peer_timeout: Duration::from_millis(500),
            ..NodeConfig::default()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random graphs, workloads and faults (offline nodes, hodl nodes, few HTLC slots):
    /// funds conserved, every HTLC resolved, no receiver paid more than owed.
    #[test]
    fn funds_conserved_every_htlc_resolved_no_overpayment(
        (n, channels, payments, faults, max_htlcs, seed) in case()
    ) {
        let (g, b) = build_graph(n, &channels);
        let (net, book) = simulate(g, b, configs(&faults, max_htlcs), &payments, seed);
        check_outcomes(&net, &book, &payments)?;
    }
}

// ---------------------------------------------------------------------------------------
// Independent payments commute
// ---------------------------------------------------------------------------------------

/// Sender 0 and receiver 1 joined by disjoint two-hop lanes 0 — m — 1; payment `i` uses
/// only its own lanes, so payments share no channel and no HTLC set.
struct Lanes {
    graph: Graph,
    balances: Balances,
    /// Per payment, its lanes' middle nodes.
    lanes: Vec<Vec<usize>>,
}

fn lanes(spec: &[Vec<(u64, u8)>]) -> Lanes {
    let mut channels = Vec::new();
    let mut lanes = Vec::new();
    let mut next = 2;
    for pay in spec {
        let mut mine = Vec::new();
        for &(cap, share) in pay {
            channels.push((0, next, cap, share));
            channels.push((next, 1, cap, share));
            mine.push(next);
            next += 1;
        }
        lanes.push(mine);
    }
    let (graph, balances) = build_graph(next, &channels);
    Lanes {
        graph,
        balances,
        lanes,
    }
}

/// The observable end state: every edge, every ledger, the counters and each part's
/// outcome (by payment and lane).
type EndState = (
    Vec<(u64, u64, u32)>,
    Vec<NodeLedger>,
    [u64; 3],
    BTreeMap<(usize, usize), String>,
);

/// Sends every part of every payment at t = 1 s over its lanes, then delivers messages:
/// `order[k]` picks which payment's next message goes k-th (each payment's own messages
/// stay in order). Timers fire at the end in (time, payment) order.
fn run_lanes(l: &Lanes, amounts: &[u64], order: Option<&[usize]>) -> EndState {
    let g = Arc::new(l.graph.clone());
    let mut net = Network::with_default_configs(Arc::clone(&g), l.balances.clone()).unwrap();
    let clock = clock_at(Timestamp::from_secs(1));
    let pays = l.lanes.len();
    let mut queues: Vec<std::collections::VecDeque<Output>> = vec![Default::default(); pays];
    let mut timers: Vec<(Timestamp, usize, u64, (NodeIdx, Timer))> = Vec::new();
    let mut outcomes: BTreeMap<(usize, usize), String> = BTreeMap::new();
    let mut part_of: HashMap<u64, (usize, usize)> = HashMap::new();
    let mut tseq = 0u64;
    let mut route = |out: &mut Vec<Output>,
                     pay: usize,
                     queues: &mut Vec<std::collections::VecDeque<Output>>,
                     timers: &mut Vec<(Timestamp, usize, u64, (NodeIdx, Timer))>,
                     outcomes: &mut BTreeMap<(usize, usize), String>,
                     part_of: &HashMap<u64, (usize, usize)>| {
        for o in out.drain(..) {
            match o {
                Output::Message { .. } => queues[pay].push_back(o),
                Output::Timer { at, node, timer } => {
                    tseq += 1;
                    timers.push((at, pay, tseq, (node, timer)));
                }
                Output::Event { event, .. } => {
                    let (part, text) = match event {
                        Event::PartSettled {
                            part,
                            amount_msat,
                            fee_msat,
                            locked_msat_micros,
                            ..
                        } => (
                            Some(part),
                            format!(
                                "settled {amount_msat} fee {fee_msat} locked {locked_msat_micros}"
                            ),
                        ),
                        Event::PartFailed {
                            part,
                            failure,
                            locked_msat_micros,
                            ..
                        } => (
                            Some(part),
                            format!(
                                "failed {:?} at {} locked {locked_msat_micros}",
                                failure.code, failure.origin_hop
                            ),
                        ),
                        Event::PaymentReceived {
                            amount_msat, parts, ..
                        } => (None, format!("received {amount_msat} in {parts}")),
                        Event::ClaimRequested { .. } | Event::PartRefunded { .. } => {
                            unreachable!("no redundant payments")
                        }
                    };
                    let at = part.map_or((pay, usize::MAX), |p| part_of[&p.0]);
                    outcomes.insert(at, text);
                }
            }
        }
    };
    let mut out = Vec::new();
    for (pay, lanes) in l.lanes.iter().enumerate() {
        let k = keys_of(pay);
        let a = amounts[pay];
        let record = InvoiceRecord {
            preimage: k.preimage,
            payment_secret: k.secret,
            amount_msat: Some(a),
            min_final_cltv_expiry_delta: 18,
            expires_at: Timestamp::from_secs(86_400),
        };
        net.register_invoice(NodeIdx(1), k.hash, record).unwrap();
        let share = a / lanes.len() as u64;
        for (j, &m) in lanes.iter().enumerate() {
            let amount = if j + 1 == lanes.len() {
                a - share * j as u64
            } else {
                share
            };
            let edges = [common::edge(&g, 0, m), common::edge(&g, m, 1)];
            let Ok(path) = Path::build(&g, &edges, amount, 18) else {
                continue;
            };
            let id = (pay * 100 + j) as u64;
            part_of.insert(id, (pay, j));
            let part = SendPart {
                id: PartId(id),
                path: &path,
                payment_hash: k.hash,
                payment_data: Some(PaymentData {
                    payment_secret: k.secret,
                    total_msat: a,
                }),
                keysend_preimage: None,
            };
            if net.send(part, &clock, &mut out).is_err() {
                outcomes.insert((pay, j), "not sent".into());
            }
            route(
                &mut out,
                pay,
                &mut queues,
                &mut timers,
                &mut outcomes,
                &part_of,
            );
        }
    }
    let mut k = 0;
    loop {
        let live: Vec<usize> = (0..pays).filter(|p| !queues[*p].is_empty()).collect();
        if live.is_empty() {
            break;
        }
        let pay = match order {
            Some(o) => live[o.get(k).copied().unwrap_or(0) % live.len()],
            None => live[0],
        };
        k += 1;
        let Some(Output::Message { from, to, msg }) = queues[pay].pop_front() else {
            unreachable!()
        };
        net.deliver(to, from, msg, &clock, &mut out).unwrap();
        route(
            &mut out,
            pay,
            &mut queues,
            &mut timers,
            &mut outcomes,
            &part_of,
        );
        net.check_invariants().unwrap();
    }
    // Timers (MPP timeouts of incomplete sets), in time then payment order; whatever
    // they cause is delivered at once.
    timers.sort_by_key(|(at, pay, seq, _)| (*at, *pay, *seq));
    for (at, pay, _, (node, timer)) in timers {
        net.fire(node, timer, &clock_at(at), &mut out);
        route(
            &mut out,
            pay,
            &mut queues,
            &mut Vec::new(),
            &mut outcomes,
            &part_of,
        );
        while let Some(Output::Message { from, to, msg }) = queues[pay].pop_front() {
            net.deliver(to, from, msg, &clock_at(at), &mut out).unwrap();
            route(
                &mut out,
                pay,
                &mut queues,
                &mut Vec::new(),
                &mut outcomes,
                &part_of,
            );
        }
    }
    net.check_invariants().unwrap();
    assert_eq!(net.live_htlcs(), 0);
    let edges = (0..g.edge_slots() as u32)
        .map(|e| net.edge_state(EdgeIdx(e)))
        .map(|s| (s.balance_msat, s.pending_msat, s.pending_count))
        .collect();
    let ledgers = (0..g.node_count())
        .map(|n| *net.ledger(NodeIdx(n as u32)))
        .collect();
    let c = net.counters();
    (edges, ledgers, [c.added, c.fulfilled, c.failed], outcomes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Payments over disjoint lanes are independent: any interleaving of their messages
    /// ends exactly as running them one after another (balances, ledgers, counters, and
    /// every part's outcome, fee and liquidity-seconds).
    #[test]
    fn independent_payments_commute(
        spec in prop::collection::vec(prop::collection::vec((20u64..500, any::<u8>()), 1..4), 2..5),
        amounts_sat in prop::collection::vec(10u64..1_200, 5),
        order in prop::collection::vec(any::<usize>(), 0..200),
    ) {
        let l = lanes(&spec);
        let amounts: Vec<u64> = amounts_sat.iter().map(|a| a * 1000).collect();
        let sequential = run_lanes(&l, &amounts, None);
        let interleaved = run_lanes(&l, &amounts, Some(&order));
        prop_assert_eq!(sequential, interleaved);
    }
}
