//! The sans-IO network: MPP assembly and redundant claims under arbitrary schedules.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bitcoin::secp256k1::SecretKey;
use flotilla_graph::liquidity::Balances;
use flotilla_graph::{
    Channel, ChannelIdx, Direction, EdgeIdx, Graph, GraphBuilder, Node, NodeIdx, NodePubkey,
    Policy, ShortChannelId,
};
use flotilla_ln::boomerang::BoomerangPolynomial;
use flotilla_ln::clock::Clock;
use flotilla_ln::config::{Behaviour, NodeConfig};
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::lock::LockKind;
use flotilla_ln::msg::{BoomerangRefund, EndpointMsg, Msg, UpdateFulfillHtlc};
use flotilla_ln::network::{Network, NodeLedger, PeerError};
use flotilla_ln::output::{Event, Output, Timer};
use flotilla_ln::payload::PaymentData;
use flotilla_ln::receiver::InvoiceRecord;
use flotilla_ln::redundant::{RedundantInvoice, RedundantSender};
use flotilla_ln::sender::{PartId, SendPart};
use flotilla_ln::{PaymentHash, PaymentPreimage};
use flotilla_route::{Path as RoutePath, Timestamp};

use super::Input;

const RECEIVER: usize = 4;
const HEIGHT0: u32 = 800_000;
const BLOCK_SECS: u64 = 600;

/// Sender 0, receiver 4 ([`RECEIVER`]), three middle nodes and a cross channel 1 — 2.
const CHANNELS: [(usize, usize); 7] = [(0, 1), (0, 2), (0, 3), (1, 4), (2, 4), (3, 4), (1, 2)];
/// Paths from 0 to 4, as node lists.
const PATHS: [&[usize]; 5] = [
    &[0, 1, 4],
    &[0, 2, 4],
    &[0, 3, 4],
    &[0, 1, 2, 4],
    &[0, 2, 1, 4],
];

pub(crate) fn small_key(i: usize) -> NodePubkey {
    let mut s = [0u8; 32];
    s[24..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    NodePubkey::from_secret(s).expect("valid")
}

fn edge_between(g: &Graph, a: usize, b: usize) -> Option<EdgeIdx> {
    g.out_edges(NodeIdx(a as u32))
        .iter()
        .copied()
        .find(|e| g.edge_target(*e) == NodeIdx(b as u32))
}

/// How a payment of the schedule is paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Mpp,
    Keysend,
    /// `sender_hash` or `h2tlc`: the sender reveals secrets worth A when asked.
    Redundant(LockKind),
    /// Point locks on the receiver's polynomial of degree k (the field): A in k equal
    /// parts, claimed as soon as k are held; more than k claimed scalars reveal P(0) to
    /// the sender, whose refund takes every claimed part back.
    Boomerang(u16),
}

struct Payment {
    kind: Kind,
    keys: PaymentKeys,
    amount: u64,
    /// The MPP invoice's amount, if it named one.
    asked: Option<u64>,
    sender: Option<RedundantSender>,
    /// `boomerang`: the receiver's polynomial, with which a cheating receiver claims held
    /// parts directly with their true scalars.
    polynomial: Option<BoomerangPolynomial>,
    /// `boomerang`: the sender refunds as soon as it learns P(0) (as the simulator
    /// does) rather than when the schedule says.
    refund_at_once: bool,
    /// `boomerang`: P(0), once more than k settled scalars revealed it.
    p0: Option<SecretKey>,
    /// `boomerang`: the settled parts no refund has claimed back yet.
    unrefunded: Vec<u64>,
    /// Value the settled parts delivered, as the sender saw them settle, msat.
    settled_msat: u64,
    /// Value the refunds took back from the receiver, msat.
    refunded_msat: u64,
    /// `boomerang`: the sender learned P(0), so the receiver claimed more than k parts.
    over_claimed: bool,
    /// A hop refused a refund because its side no longer held the value (the model's
    /// documented limit: the real protocol locks that collateral up front).
    refund_refused: bool,
    /// Held parts the receiver claimed directly (outside the reveal and the boomerang
    /// claim): it cheated.
    direct_claims: u32,
    /// What the receiver had settled, and its direct claims, when the sender's cancel
    /// reached it: an honest receiver settles nothing more.
    settled_at_cancel: Option<(u64, u32)>,
    /// MPP: how often the payment had been received when its invoice was cancelled
    /// unpaid; it is never received after.
    received_at_cancel: Option<usize>,
}

impl Payment {
    fn new(kind: Kind, keys: PaymentKeys, amount: u64) -> Self {
        Payment {
            kind,
            keys,
            amount,
            asked: None,
            sender: None,
            polynomial: None,
            refund_at_once: false,
            p0: None,
            unrefunded: Vec::new(),
            settled_msat: 0,
            refunded_msat: 0,
            over_claimed: false,
            refund_refused: false,
            direct_claims: 0,
            settled_at_cancel: None,
            received_at_cancel: None,
        }
    }
}

/// What a `network` schedule reached, so that the stable seed test can check that the
/// committed seeds still exercise the paths they were made for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetworkSummary {
    /// Boomerang parts that settled.
    pub boomerang_settled: u32,
    /// Boomerang payments of which the sender learned P(0) (the receiver claimed more
    /// than k parts).
    pub over_claims: u32,
    /// Refunds with the true P(0) that went through.
    pub refunds: u32,
    /// Refunds with a guessed secret (all refused).
    pub guessed_refunds: u32,
    /// Direct claims of held parts that went through.
    pub direct_claims: u32,
    /// Sender cancels of redundant and boomerang payments that reached the receiver.
    pub cancels: u32,
    /// Cancels that reached the receiver while parts of their payment were still on
    /// their way (those parts fail when they arrive).
    pub cancels_overtaking: u32,
    /// MPP invoices cancelled unpaid.
    pub invoice_cancels: u32,
}

/// A driver that delivers messages per link in order (peers speak over ordered
/// connections) but interleaves links, timers, claims and faults as the input says.
struct FuzzDriver {
    net: Network,
    now: Timestamp,
    queue: VecDeque<(NodeIdx, NodeIdx, Msg)>,
    timers: Vec<(Timestamp, NodeIdx, Timer)>,
    claims: VecDeque<flotilla_ln::redundant::ClaimRequest>,
    out: Vec<Output>,
    /// Parts sent and not yet resolved at the sender.
    open_parts: BTreeMap<u64, u64>,
    /// Terminal events per part.
    part_events: HashMap<u64, u32>,
    /// Amount received per payment hash (`PaymentReceived` events).
    received: HashMap<PaymentHash, Vec<u64>>,
    /// Every part sent: its payment (index in the schedule), its index within a
    /// redundant payment, and its path.
    part_meta: HashMap<u64, (usize, u16, RoutePath)>,
    /// Parts that settled, with their preimages, not yet seen by their sender.
    settles: Vec<(u64, PaymentPreimage)>,
    /// Refund answers (part, value back, refused), not yet seen by their sender.
    refund_answers: Vec<(u64, u64, bool)>,
    summary: NetworkSummary,
}

impl FuzzDriver {
    fn clock(&self) -> Clock {
        let height = HEIGHT0 + (self.now.micros() / (BLOCK_SECS * 1_000_000)) as u32;
        Clock::new(self.now, height)
    }

    fn check(&self) {
        if let Err(e) = self.net.check_invariants() {
            panic!("invariant broken: {e}");
        }
    }

    fn absorb(&mut self) {
        for o in self.out.drain(..) {
            match o {
                // Claim requests reach the sender's user; the input decides the answers.
                Output::Message {
                    from,
                    to,
                    msg: Msg::Endpoint(EndpointMsg::ClaimRequest { payment_id, parts }),
                } => self.claims.push_back(flotilla_ln::redundant::ClaimRequest {
                    receiver: from,
                    sender: Some(to),
                    payment_id,
                    parts,
                }),
                Output::Message { from, to, msg } => self.queue.push_back((from, to, msg)),
                Output::Timer { at, node, timer } => self.timers.push((at, node, timer)),
                Output::Event { event, .. } => match event {
                    Event::PartSettled { part, preimage, .. } => {
                        *self.part_events.entry(part.0).or_default() += 1;
                        self.open_parts.remove(&part.0);
                        self.settles.push((part.0, preimage));
                    }
                    Event::PartFailed { part, .. } => {
                        *self.part_events.entry(part.0).or_default() += 1;
                        self.open_parts.remove(&part.0);
                    }
                    Event::PaymentReceived {
                        payment_hash,
                        amount_msat,
                        ..
                    } => self
                        .received
                        .entry(payment_hash)
                        .or_default()
                        .push(amount_msat),
                    Event::ClaimRequested { .. } => {}
                    Event::PartRefunded {
                        part,
                        amount_msat,
                        refused,
                        ..
                    } => self.refund_answers.push((part.0, amount_msat, refused)),
                },
            }
        }
        self.check();
    }

    /// Delivers the oldest message of the `k`-th link that has one.
    fn deliver(&mut self, k: usize) -> bool {
        if self.queue.is_empty() {
            return false;
        }
        let mut heads: Vec<usize> = Vec::new();
        let mut seen: Vec<(NodeIdx, NodeIdx)> = Vec::new();
        for (i, (from, to, _)) in self.queue.iter().enumerate() {
            if !seen.contains(&(*from, *to)) {
                seen.push((*from, *to));
                heads.push(i);
            }
        }
        let at = heads[k % heads.len()];
        let (from, to, msg) = self.queue.remove(at).expect("index in range");
        let clock = self.clock();
        if let Err(e) = self.net.deliver(to, from, msg, &clock, &mut self.out) {
            panic!("an in-order delivery was refused: {e}");
        }
        self.absorb();
        true
    }

    /// Moves time to `to`, firing due timers in time order.
    fn advance(&mut self, to: Timestamp) {
        loop {
            self.timers.sort_by_key(|(at, _, _)| *at);
            match self.timers.first() {
                Some((at, _, _)) if *at <= to => {
                    let (at, node, timer) = self.timers.remove(0);
                    self.now = self.now.max(at);
                    let clock = self.clock();
                    self.net.fire(node, timer, &clock, &mut self.out);
                    self.absorb();
                }
                _ => break,
            }
        }
        self.now = self.now.max(to);
    }

    /// The senders see what settled: under `boomerang` each settled part tells its
    /// sender the part's scalar, and more than k of them reveal P(0); a sender that
    /// refunds at once does so now.
    fn senders_learn(&mut self, payments: &mut [Payment]) {
        for (part, value, refused) in std::mem::take(&mut self.refund_answers) {
            let Some((pi, _, path)) = self.part_meta.get(&part) else {
                continue;
            };
            let p = &mut payments[*pi];
            if refused {
                p.refund_refused = true;
            } else {
                assert_eq!(
                    value,
                    delivered(path),
                    "a part came back with another value"
                );
                p.refunded_msat += value;
            }
        }
        for (part, preimage) in std::mem::take(&mut self.settles) {
            let Some((pi, index, path)) = self.part_meta.get(&part).cloned() else {
                continue;
            };
            let p = &mut payments[pi];
            p.settled_msat += delivered(&path);
            if !matches!(p.kind, Kind::Boomerang(_)) {
                continue;
            }
            self.summary.boomerang_settled += 1;
            p.unrefunded.push(part);
            if let Some(p0) = p.sender.as_mut().and_then(|s| s.learn(index, &preimage)) {
                if !p.over_claimed {
                    self.summary.over_claims += 1;
                }
                p.over_claimed = true;
                p.p0 = Some(p0);
            }
            if p.refund_at_once {
                self.refund(p);
            }
        }
    }

    /// The sender of the over-claimed boomerang payment `p` claims back, with the P(0) it
    /// learned, the parts that settled since its last refund: one `boomerang_refund` per
    /// part over its first hop, which then travels the part's path. It holds the true
    /// secret, so the only acceptable refusal, seen when the claims are delivered, is the
    /// model's documented one: a hop's side lacks the value.
    fn refund(&mut self, p: &mut Payment) {
        let Some(p0) = p.p0 else { return };
        if p.unrefunded.is_empty() {
            return;
        }
        let parts: Vec<PartId> = p.unrefunded.drain(..).map(PartId).collect();
        let sender = self.part_meta[&parts[0].0].2.hops[0].edge;
        let sender = self.net.graph().edge_source(sender);
        let clock = self.clock();
        let sent = self
            .net
            .node_mut(sender)
            .claim_reverse(&parts, &p0, &clock, &mut self.out);
        assert_eq!(sent, parts.len(), "a settled part had no reverse clause");
        self.summary.refunds += 1;
        self.absorb();
    }
}

/// What a path delivers to its last node, msat.
fn delivered(path: &RoutePath) -> u64 {
    path.hops.last().map_or(0, |h| h.amount_msat)
}

/// Everything that holds value: every node's ledger, every edge's balance and pending
/// HTLCs, and the number of live HTLCs.
fn value_snapshot(net: &Network) -> (Vec<NodeLedger>, Vec<(u64, u64, u32)>, usize) {
    let g = net.graph();
    let ledgers = (0..g.node_count())
        .map(|n| *net.ledger(NodeIdx(n as u32)))
        .collect();
    let edges = (0..g.channels().len())
        .flat_map(|i| Direction::BOTH.map(|d| ChannelIdx(i as u32).edge(d)))
        .map(|e| {
            let s = net.edge_state(e);
            (s.balance_msat, s.pending_msat, s.pending_count)
        })
        .collect();
    (ledgers, edges, net.live_htlcs())
}

/// The receiver's MPP assembly, redundant claims and Boomerang, driven through the
/// sans-IO [`Network`] with arbitrary sends, deliveries (in order per link, any order
/// across links), timers, claim answers (honest or forged), direct claims by a cheating
/// receiver (with guessed keys, or with a boomerang part's true scalar), the sender's
/// cancels (which may overtake the parts they cancel), boomerang refunds (with the
/// learned P(0), at once or later, or with a guessed secret), invoice cancels, offline
/// nodes and hodl nodes. `check_invariants` runs after every step; at the end everything
/// is drained and every HTLC must be resolved, every part must have exactly one outcome,
/// no receiver may keep more than it was owed, an over-claiming boomerang receiver keeps
/// nothing, and nothing is claimed after a cancel reached an honest receiver.
pub fn network(data: &[u8]) -> NetworkSummary {
    let mut input = Input::new(data);
    // The graph: capacities and policies from the input.
    let mut b = GraphBuilder::new();
    for i in 0..5 {
        b.add_node(Node::bare(small_key(i))).expect("distinct keys");
    }
    let mut caps = Vec::new();
    for (i, &(x, y)) in CHANNELS.iter().enumerate() {
        let cap_sat = 10_000 + (input.u16() as u64) * 200;
        caps.push(cap_sat);
        let mut policy = || Policy {
            fee_base_msat: [0, 1_000, 5_000][input.below(3)],
            fee_rate_ppm: [0, 100, 2_000][input.below(3)],
            cltv_expiry_delta: [18, 40, 144][input.below(3)],
            htlc_minimum_msat: [1, 1_000, 5_000_000][input.below(3)],
            htlc_maximum_msat: cap_sat * 1000,
            disabled: input.u8() == 255,
            last_update: 0,
        };
        let policies = [Some(policy()), Some(policy())];
        b.add_channel(Channel {
            scid: ShortChannelId::from_parts(700_000, i as u64 + 1, 0).expect("valid"),
            nodes: [NodeIdx(x as u32), NodeIdx(y as u32)],
            capacity_sat: cap_sat,
            policies,
            chan_point: None,
            last_update: 0,
        })
        .expect("valid channel");
    }
    let g = b.build();
    let mut balances = vec![0u64; g.edge_slots()];
    for (i, c) in g.channels().iter().enumerate() {
        let cap = c.capacity_msat();
        let share = input.u8() as u64;
        let a = cap / 255 * share;
        balances[ChannelIdx(i as u32).edge(Direction::AToB).ix()] = a;
        balances[ChannelIdx(i as u32).edge(Direction::BToA).ix()] = cap - a;
    }
    let mut configs = vec![NodeConfig::default(); 5];
    for (i, c) in configs.iter_mut().enumerate() {
        c.channel.max_accepted_htlcs = 1 + input.below(12) as u16;
        c.mpp_timeout = Duration::from_secs(1 + input.below(90) as u64);
        c.offline_peer_timeout = Duration::from_millis(100 + input.below(5_000) as u64);
        c.behaviour = match (i, input.u8()) {
            (1..=3, 250..) => Behaviour::Hodl,
            (RECEIVER, 200..) => Behaviour::CheatingReceiver,
            _ => Behaviour::Honest,
        };
    }
    let receiver_cheats = configs[RECEIVER].behaviour == Behaviour::CheatingReceiver;
    let Ok(net) = Network::new(Arc::new(g), Balances::from_vec(balances), configs) else {
        return NetworkSummary::default();
    };
    let mut d = FuzzDriver {
        net,
        now: Timestamp::from_secs(1),
        queue: VecDeque::new(),
        timers: Vec::new(),
        claims: VecDeque::new(),
        out: Vec::new(),
        open_parts: BTreeMap::new(),
        part_events: HashMap::new(),
        received: HashMap::new(),
        part_meta: HashMap::new(),
        settles: Vec::new(),
        refund_answers: Vec::new(),
        summary: NetworkSummary::default(),
    };
    if input.u8() < 16 {
        d.net.enable_real_onions(1);
    }
    let node = NodeIdx(RECEIVER as u32);
    let graph = Arc::clone(d.net.graph());
    let mut payments: Vec<Payment> = Vec::new();
    let mut next_part = 0u64;
    let mut steps = 0;
    while !input.is_empty() && steps < 256 {
        steps += 1;
        d.senders_learn(&mut payments);
        match input.u8() % 11 {
            0 if payments.len() < 6 => {
                // A new payment the receiver expects.
                let k = payments.len() as u8;
                let keys = PaymentKeys::from_bytes([k + 1; 32], [k + 101; 32]);
                let amount = 1_000 + input.u32() as u64 % 50_000_000;
                let kind = match input.u8() % 5 {
                    0 => Kind::Keysend,
                    1 => Kind::Redundant(LockKind::SenderHash),
                    2 => Kind::Redundant(LockKind::H2tlc),
                    3 => Kind::Mpp,
                    _ => Kind::Boomerang(1 + input.below(4) as u16),
                };
                let expires_at = Timestamp::from_secs(3_600 * 24);
                let id = [k + 50; 32];
                let mut p = Payment::new(kind, keys, amount);
                match kind {
                    Kind::Mpp => {
                        p.asked = input.bool().then_some(amount);
                        let record = InvoiceRecord {
                            preimage: keys.preimage,
                            payment_secret: keys.secret,
                            amount_msat: p.asked,
                            min_final_cltv_expiry_delta: 18,
                            expires_at,
                        };
                        let _ = d.net.register_invoice(node, keys.hash, record);
                    }
                    Kind::Keysend => {}
                    Kind::Redundant(lock) => {
                        let inv = RedundantInvoice {
                            payment_secret: keys.secret,
                            amount_msat: amount,
                            lock,
                            preimage: (lock == LockKind::H2tlc).then_some(keys.preimage),
                            min_final_cltv_expiry_delta: 18,
                            expires_at,
                        };
                        let _ = d.net.register_redundant(node, inv);
                        p.sender = Some(RedundantSender::new(
                            id,
                            amount,
                            lock,
                            keys.secret,
                            Some(keys.hash),
                        ));
                    }
                    Kind::Boomerang(parts) => {
                        // A in `parts` equal parts; the polynomial's seed is a hash, so
                        // no input guesses P(0).
                        p.amount = (amount / parts as u64).max(1) * parts as u64;
                        let seed = RedundantSender::derive_secret(7, &id, parts);
                        let poly = BoomerangPolynomial::from_seed(&seed, parts);
                        let inv = RedundantInvoice {
                            payment_secret: keys.secret,
                            amount_msat: p.amount,
                            lock: LockKind::Boomerang,
                            preimage: None,
                            min_final_cltv_expiry_delta: 18,
                            // Never forgotten during a schedule: the final checks read
                            // what the receiver settled and kept.
                            expires_at: Timestamp::from_secs(3_600 * 24 * 3_650),
                        };
                        let commitments = poly.commitments();
                        let _ = d.net.register_boomerang(node, inv, poly.clone());
                        p.sender = Some(RedundantSender::boomerang(
                            id,
                            p.amount,
                            keys.secret,
                            commitments,
                        ));
                        p.polynomial = Some(poly);
                        p.refund_at_once = input.bool();
                    }
                }
                payments.push(p);
            }
            1 | 2 if !payments.is_empty() => {
                // A part of a payment over one of the paths.
                let pi = input.below(payments.len());
                let nodes = PATHS[input.below(PATHS.len())];
                let p = &mut payments[pi];
                let amount = match p.kind {
                    // Boomerang parts are A/k; a part of another size is refused.
                    Kind::Boomerang(parts) if input.u8() < 224 => p.amount / parts as u64,
                    _ => match input.u8() % 4 {
                        0 => p.amount,
                        1 => p.amount / 2,
                        2 => p.amount / 3 + 1,
                        _ => 1 + input.u32() as u64 % p.amount,
                    },
                };
                let edges: Option<Vec<EdgeIdx>> = nodes
                    .windows(2)
                    .map(|w| edge_between(&graph, w[0], w[1]))
                    .collect();
                let Some(edges) = edges else { continue };
                let final_cltv = [18u32, 10, 40][input.below(3)];
                let Ok(path) = RoutePath::build(&graph, &edges, amount, final_cltv) else {
                    continue;
                };
                let id = next_part;
                next_part += 1;
                let clock = d.clock();
                let (sent, index) = match p.kind {
                    Kind::Mpp | Kind::Keysend => {
                        let total = if input.u8() < 240 {
                            p.amount
                        } else {
                            input.u64()
                        };
                        let part = SendPart {
                            id: PartId(id),
                            path: &path,
                            payment_hash: p.keys.hash,
                            payment_data: Some(PaymentData {
                                payment_secret: p.keys.secret,
                                total_msat: total,
                            }),
                            keysend_preimage: (p.kind == Kind::Keysend).then_some(p.keys.preimage),
                        };
                        (d.net.send(part, &clock, &mut d.out).is_ok(), 0)
                    }
                    Kind::Redundant(_) | Kind::Boomerang(_) => {
                        let s = p.sender.as_mut().expect("redundant payments have a sender");
                        // (A boomerang part's lock is its point; the secret is unused.)
                        let secret =
                            RedundantSender::derive_secret(9, &s.payment_id, s.part_count() as u16);
                        let idx = s.add_part(amount, secret);
                        let part = s.part(idx, PartId(id), &path);
                        (d.net.send_redundant(part, &clock, &mut d.out).is_ok(), idx)
                    }
                };
                if sent {
                    d.open_parts.insert(id, amount);
                    d.part_meta.insert(id, (pi, index, path));
                }
                d.absorb();
            }
            3 | 4 => {
                let k = input.below(64);
                d.deliver(k);
            }
            5 => {
                let secs = [0u64, 1, 5, 30, 61, 600, 86_400][input.below(7)];
                let to = d.now + secs * 1_000_000 + input.u16() as u64 * 1_000;
                d.advance(to);
            }
            6 => {
                // A claim request reaches the sender, who answers honestly or not.
                if let Some(req) = d.claims.pop_front() {
                    let honest = input.u8() < 200;
                    let pay = payments.iter_mut().find(|p| {
                        p.sender
                            .as_ref()
                            .is_some_and(|s| s.payment_id == req.payment_id)
                    });
                    let secrets = match (honest, pay) {
                        (true, Some(p)) => p.sender.as_mut().and_then(|s| s.answer(&req.parts)),
                        _ => Some(
                            req.parts
                                .iter()
                                .take(1 + input.below(4))
                                .map(|(i, _)| (*i, input.array32()))
                                .collect(),
                        ),
                    };
                    if let Some(secrets) = secrets {
                        let clock = d.clock();
                        let _ = d.net.reveal_secrets(
                            req.receiver,
                            req.payment_id,
                            secrets,
                            &clock,
                            &mut d.out,
                        );
                        d.absorb();
                    }
                }
            }
            7 => {
                // A receiver claims a held part directly: with the receiver's preimage,
                // a boomerang part's true scalar (which it knows), or a guessed key.
                let pi = input.below(payments.len().max(1));
                let Some(p) = payments.get_mut(pi) else {
                    continue;
                };
                let held = d.net.receiver(node).redundant.held(&p.keys.secret);
                if let Some(h) = held.get(input.below(held.len().max(1))) {
                    let scalar = p
                        .polynomial
                        .as_ref()
                        .and_then(|poly| poly.share(h.part_index))
                        .map(|s| PaymentPreimage(s.secret_bytes()));
                    let preimage = match (input.u8() % 3, scalar) {
                        (0, Some(s)) => s,
                        (0 | 1, _) => p.keys.preimage,
                        _ => PaymentPreimage(input.array32()),
                    };
                    let secret = input.bool().then(|| input.array32());
                    if d.net
                        .claim_held(node, h.htlc, preimage, secret, &mut d.out)
                        .is_ok()
                    {
                        p.direct_claims += 1;
                        d.summary.direct_claims += 1;
                    }
                    d.absorb();
                }
            }
            8 => {
                match input.u8() % 3 {
                    0 => {
                        // A middle node goes offline or comes back.
                        let n = 1 + input.below(3);
                        d.net.set_online(NodeIdx(n as u32), input.bool());
                    }
                    1 => {
                        // A forged fulfil for a live HTLC with a guessed preimage: refused,
                        // nothing changes.
                        if let Some((from, to, Msg::AddHtlc(add))) = d
                            .queue
                            .iter()
                            .find(|m| matches!(m.2, Msg::AddHtlc(_)))
                            .cloned()
                        {
                            let before = (d.net.counters(), d.net.live_htlcs());
                            let clock = d.clock();
                            let forged = Msg::FulfillHtlc(UpdateFulfillHtlc {
                                htlc: add.htlc,
                                preimage: PaymentPreimage(input.array32()),
                                sender_secret: None,
                            });
                            let r = d.net.deliver(from, to, forged, &clock, &mut d.out);
                            assert!(
                                r.is_err() && d.out.is_empty(),
                                "a forged fulfil was accepted"
                            );
                            let after = d.net.counters();
                            assert_eq!(
                                (
                                    before.0.added,
                                    before.0.fulfilled,
                                    before.0.failed,
                                    before.1
                                ),
                                (
                                    after.added,
                                    after.fulfilled,
                                    after.failed,
                                    d.net.live_htlcs()
                                )
                            );
                            d.absorb();
                        }
                    }
                    _ => {
                        let n = 1 + input.below(3);
                        let b = if input.u8() > 240 {
                            Behaviour::Hodl
                        } else {
                            Behaviour::Honest
                        };
                        d.net.set_behaviour(NodeIdx(n as u32), b);
                    }
                }
            }
            9 if !payments.is_empty() => {
                // The sender gives up. A redundant or boomerang payment: its cancel
                // reaches the receiver, perhaps before parts it cancels (those fail when
                // they arrive). An MPP payment: the receiver drops the invoice.
                let pi = input.below(payments.len());
                let p = &mut payments[pi];
                match (p.kind, p.sender.as_ref().map(|s| s.payment_id)) {
                    (Kind::Redundant(_) | Kind::Boomerang(_), Some(payment_id)) => {
                        let held = d.net.held_parts(node, &p.keys.secret);
                        let open = d
                            .open_parts
                            .keys()
                            .filter(|id| d.part_meta.get(id).is_some_and(|m| m.0 == pi))
                            .count();
                        let clock = d.clock();
                        let failed = d.net.cancel_redundant(node, payment_id, &clock, &mut d.out);
                        assert!(
                            failed <= held,
                            "a cancel failed {failed} of {held} held parts"
                        );
                        assert_eq!(
                            d.net.held_parts(node, &p.keys.secret),
                            0,
                            "held after a cancel"
                        );
                        d.summary.cancels += 1;
                        if open > held {
                            d.summary.cancels_overtaking += 1;
                        }
                        if !receiver_cheats && p.settled_at_cancel.is_none() {
                            let settled =
                                d.net.receiver(node).redundant.settled_msat(&p.keys.secret);
                            p.settled_at_cancel = Some((settled, p.direct_claims));
                        }
                        d.absorb();
                    }
                    (Kind::Mpp, _) => {
                        let paid = d.net.receiver(node).is_paid(&p.keys.hash);
                        if d.net.cancel_invoice(node, &p.keys.hash) && !paid {
                            d.summary.invoice_cancels += 1;
                            let n = d.received.get(&p.keys.hash).map_or(0, Vec::len);
                            p.received_at_cancel.get_or_insert(n);
                        }
                    }
                    _ => {}
                }
            }
            10 if !payments.is_empty() => {
                // The boomerang sender refunds: with the P(0) it learned, or with a
                // guessed secret, which is refused and moves nothing.
                let pi = input.below(payments.len());
                let p = &mut payments[pi];
                if !matches!(p.kind, Kind::Boomerang(_)) {
                    continue;
                }
                let with_p0 = input.u8() < 192;
                if p.p0.is_some() && with_p0 {
                    d.refund(p);
                } else if let Some(&part) = p.unrefunded.first() {
                    // A claim of a settled part's clause with a guessed P(0): the first
                    // hop refuses it and nothing moves.
                    let guess = BoomerangPolynomial::from_seed(&input.array32(), 1).secret();
                    let first = d.part_meta[&part].2.hops[0];
                    let g = d.net.graph().clone();
                    let (sender, hop) = (g.edge_source(first.edge), g.edge_target(first.edge));
                    let Some(htlc) = d.net.node(sender).reverse_claimable(PartId(part)) else {
                        continue;
                    };
                    let before = value_snapshot(&d.net);
                    let clock = d.clock();
                    let msg = Msg::BoomerangRefund(BoomerangRefund {
                        htlc,
                        amount_msat: first.amount_msat,
                        p0: guess.secret_bytes(),
                    });
                    let r = d.net.deliver(hop, sender, msg, &clock, &mut d.out);
                    assert!(
                        matches!(r, Err(PeerError::WrongRefundSecret(_))),
                        "a refund with a guessed secret: {r:?}"
                    );
                    assert!(
                        value_snapshot(&d.net) == before,
                        "a refused refund moved value"
                    );
                    d.summary.guessed_refunds += 1;
                    d.absorb();
                }
            }
            _ => {}
        }
    }
    // Drain: answer claims honestly, deliver everything, fire every timer; the senders
    // see every settle and refund what they may.
    for n in 1..4 {
        d.net.set_online(NodeIdx(n), true);
    }
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 100_000, "the network does not settle down");
        d.senders_learn(&mut payments);
        if let Some(req) = d.claims.pop_front() {
            let pay = payments.iter_mut().find(|p| {
                p.sender
                    .as_ref()
                    .is_some_and(|s| s.payment_id == req.payment_id)
            });
            if let Some(secrets) = pay
                .and_then(|p| p.sender.as_mut())
                .and_then(|s| s.answer(&req.parts))
            {
                let clock = d.clock();
                let _ =
                    d.net
                        .reveal_secrets(req.receiver, req.payment_id, secrets, &clock, &mut d.out);
                d.absorb();
            }
            continue;
        }
        if d.deliver(0) {
            continue;
        }
        d.timers.sort_by_key(|(at, _, _)| *at);
        match d.timers.first() {
            Some((at, _, _)) => {
                let at = *at;
                d.advance(at);
            }
            None => break,
        }
    }
    // The last refunds, and their messages delivered.
    d.senders_learn(&mut payments);
    for p in payments.iter_mut() {
        d.refund(p);
    }
    while d.deliver(0) {}
    d.senders_learn(&mut payments);
    assert_eq!(
        d.net.live_htlcs(),
        0,
        "HTLCs left unresolved after draining"
    );
    assert!(
        d.open_parts.is_empty(),
        "parts without an outcome: {:?}",
        d.open_parts
    );
    for (part, n) in &d.part_events {
        assert_eq!(*n, 1, "part {part} had {n} outcomes");
    }
    let book = &d.net.receiver(node).redundant;
    for p in &payments {
        let got = d
            .received
            .get(&p.keys.hash)
            .map(Vec::as_slice)
            .unwrap_or_default();
        match p.kind {
            Kind::Mpp => {
                assert!(
                    got.len() <= 1,
                    "an MPP payment was received {} times",
                    got.len()
                );
                if let (Some(&amt), Some(asked)) = (got.first(), p.asked) {
                    // A claim is never for less than the invoice asks.
                    assert!(amt >= asked, "received {amt} of {asked}");
                }
                if let Some(n) = p.received_at_cancel {
                    assert_eq!(got.len(), n, "an MPP payment was received after its cancel");
                }
            }
            Kind::Redundant(_) => {
                let settled = book.settled_msat(&p.keys.secret);
                assert!(
                    settled <= p.amount,
                    "receiver settled {settled} of {}",
                    p.amount
                );
            }
            Kind::Boomerang(_) => {
                // What the receiver keeps, from the parts the sender saw settle and the
                // refunds that moved value back; the receiver's book must agree.
                let kept = p.settled_msat - p.refunded_msat;
                assert_eq!(
                    book.settled_msat(&p.keys.secret),
                    p.settled_msat,
                    "the receiver's book and the settled parts disagree"
                );
                assert_eq!(
                    book.kept_msat(&p.keys.secret),
                    kept,
                    "the receiver's book and the refunds disagree on what it keeps"
                );
                if p.over_claimed {
                    assert!(
                        receiver_cheats || p.direct_claims > 0,
                        "an honest receiver claimed more than k parts"
                    );
                    if !p.refund_refused {
                        assert_eq!(kept, 0, "an over-claiming receiver kept {kept} msat");
                    }
                } else {
                    assert!(kept <= p.amount, "receiver kept {kept} of {}", p.amount);
                }
            }
            Kind::Keysend => {}
        }
        if let Some((settled, claims)) = p.settled_at_cancel {
            if p.direct_claims == claims {
                assert!(
                    book.settled_msat(&p.keys.secret) <= settled,
                    "an honest receiver settled after the sender's cancel"
                );
            }
        }
    }
    if !payments.iter().any(|p| p.refund_refused) {
        assert_eq!(
            book.pending_refunds(),
            0,
            "an over-claim was never refunded"
        );
    }
    d.net.check_invariants().expect("invariants at the end");
    d.summary
}
