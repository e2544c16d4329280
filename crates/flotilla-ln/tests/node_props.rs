//! Property tests of the per-node engine driven by hand over small random graphs (3–6
//! nodes), with a few payments at once — MPP invoices, keysends and a redundant `h2tlc`
//! payment with a spare part — with modeled or (one case in five) real BOLT 4 onions,
//! and a random schedule that picks which in-flight message
//! is delivered next (the collapsed model lets any message overtake any other), when
//! timers fire, when payments start, and when an already-delivered message is delivered
//! again (it must be refused with a `PeerError` and change nothing). Some nodes set
//! tight channel limits (few slots, small in-flight caps, high minimums, dust caps):
//! an honest add must never be refused by its receiver, whatever the order. Some nodes
//! hold HTLCs until they expire on chain (hodl), try to claim more than a redundant
//! payment's A (cheating receivers) or do not understand redundant payments (legacy).
//!
//! After every step: each node's own books and the agreement of both ends of every
//! channel. At quiescence: no HTLC left, every part settled or failed exactly once,
//! value conserved (every channel's balances sum to its capacity, fees paid = fees
//! earned), and no receiver settled more than it was owed (an MPP set once, at least its
//! amount; a redundant payment exactly A or nothing).
//!
//! `PROPTEST_CASES` sets the number of cases (default 256, about 1.5 s in release; 2,000 take 10 s).

mod common;
#[path = "common/nodes.rs"]
mod nodes;

use std::collections::BTreeMap;

use common::policy;
use flotilla_graph::liquidity::Balances;
use flotilla_graph::{
    Channel, ChannelIdx, Direction, Graph, GraphBuilder, Node, NodeIdx, NodePubkey, ShortChannelId,
};
use flotilla_ln::config::{Behaviour, ChannelParams, NodeConfig};
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::lock::LockKind;
use flotilla_ln::msg::Msg;
use flotilla_ln::output::Event;
use flotilla_ln::payload::PaymentData;
use flotilla_ln::receiver::InvoiceRecord;
use flotilla_ln::redundant::{RedundantInvoice, RedundantSender};
use flotilla_ln::sender::{PartId, SendPart};
use flotilla_route::scorers::UniformScorer;
use flotilla_route::{Pathfinder, RouteRequest, Router, Timestamp};
use nodes::Nodes;
use proptest::prelude::*;

fn key(i: usize) -> NodePubkey {
    let mut s = [0u8; 32];
    s[24..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    NodePubkey::from_secret(s).unwrap()
}

/// `(a, b, capacity_sat, share of the capacity on a's side in 1/255)`.
type ChannelSpec = (usize, usize, u64, u8);

/// A connected graph: node i > 0 hangs off `parents[i - 1] % i`, plus `extra` channels
/// (self loops and repeated pairs skipped).
fn build(n: usize, tree: &[(usize, u64, u8)], extra: &[ChannelSpec]) -> (Graph, Balances) {
    let mut specs: Vec<ChannelSpec> = Vec::new();
    for i in 1..n {
        let (p, cap, share) = tree[i - 1];
        specs.push((p % i, i, cap, share));
    }
    for &(a, b, cap, share) in extra {
        let (a, b) = (a % n, b % n);
        let seen = specs
            .iter()
            .any(|s| (s.0 == a && s.1 == b) || (s.0 == b && s.1 == a));
        if a != b && !seen {
            specs.push((a, b, cap, share));
        }
    }
    let mut gb = GraphBuilder::new();
    for i in 0..n {
        gb.add_node(Node::bare(key(i))).unwrap();
    }
    for (i, &(a, b, cap, _)) in specs.iter().enumerate() {
        gb.add_channel(Channel {
            scid: ShortChannelId::from_parts(700_000, i as u64 + 1, 0).unwrap(),
            nodes: [NodeIdx(a as u32), NodeIdx(b as u32)],
            capacity_sat: cap,
            policies: [Some(policy()), Some(policy())],
            chan_point: None,
            last_update: 0,
        })
        .unwrap();
    }
    let g = gb.build();
    let mut v = vec![0u64; g.edge_slots()];
    for (i, c) in g.channels().iter().enumerate() {
        let cap = c.capacity_msat();
        let a = cap / 255 * specs[i].3 as u64;
        v[ChannelIdx(i as u32).edge(Direction::AToB).ix()] = a;
        v[ChannelIdx(i as u32).edge(Direction::BToA).ix()] = cap - a;
    }
    (g, Balances::from_vec(v))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// An invoice paid in this many parts.
    Mpp(u64),
    /// One spontaneous part.
    Keysend,
    /// A redundant `h2tlc` payment: A in this many parts, plus one spare.
    Redundant(u64),
}

#[derive(Clone, Debug)]
struct Pay {
    source: usize,
    target: usize,
    amount_sat: u64,
    kind: Kind,
}

/// What one step of the schedule does.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// Deliver the in-flight message at this index (modulo the pool).
    Deliver(usize),
    /// Deliver again an already-delivered message (index modulo the history).
    Duplicate(usize),
    /// Fire the earliest timer.
    Timer,
    /// Start the next payment.
    Start,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        12 => any::<usize>().prop_map(Step::Deliver),
        3 => any::<usize>().prop_map(Step::Duplicate),
        1 => Just(Step::Timer),
        2 => Just(Step::Start),
    ]
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        (1u64..4).prop_map(Kind::Mpp),
        Just(Kind::Keysend),
        (1u64..4).prop_map(Kind::Redundant),
    ]
}

fn pay(first: Option<Kind>) -> impl Strategy<Value = Pay> {
    let k = match first {
        Some(k) => Just(k).boxed(),
        None => kind().boxed(),
    };
    (0usize..6, 1usize..6, 1_000u64..150_000, k).prop_map(|(s, d, amount_sat, kind)| Pay {
        source: s,
        target: s + d,
        amount_sat,
        kind,
    })
}

/// A node's channel parameters: tight limits, so honest adds meet them often (an
/// honest add must never be refused by its receiver, whatever the order).
fn params() -> impl Strategy<Value = ChannelParams> {
    (
        1u16..6,
        prop::option::of(20_000_000u64..400_000_000),
        0u32..40_000,
        354u64..3_000,
        1u64..3_000_000,
        prop::option::of(1_000_000u64..20_000_000),
    )
        .prop_map(
            |(acc, inflight, reserve, dust, min, dust_cap)| ChannelParams {
                max_accepted_htlcs: acc,
                max_htlc_value_in_flight_msat: inflight,
                channel_reserve_ppm: reserve,
                dust_limit_sat: dust,
                htlc_minimum_msat: min,
                max_dust_htlc_exposure_msat: dust_cap,
            },
        )
}

fn behaviour() -> impl Strategy<Value = Behaviour> {
    prop_oneof![
        12 => Just(Behaviour::Honest),
        1 => Just(Behaviour::Hodl),
        1 => Just(Behaviour::CheatingReceiver),
        1 => Just(Behaviour::LegacyReceiver),
    ]
}

fn configs(n: usize, tight: &[Option<ChannelParams>], b: &[Behaviour]) -> Vec<NodeConfig> {
    (0..n)
        .map(|i| NodeConfig {
            channel: tight[i].unwrap_or_default(),
            behaviour: b[i],
            ..NodeConfig::default()
        })
        .collect()
}

fn keys_of(i: usize) -> PaymentKeys {
    PaymentKeys::from_bytes([i as u8 + 1; 32], [i as u8 + 101; 32])
}

/// What the test expects of each payment.
#[derive(Default, Debug)]
struct Book {
    /// Part id → (payment, amount it delivers).
    parts: BTreeMap<u64, (usize, u64)>,
}

struct Run {
    n: Nodes,
    router: Pathfinder<UniformScorer>,
    book: Book,
    next_part: u64,
    started: usize,
    duplicates: usize,
}

impl Run {
    /// Starts payment `i`: registers it at its receiver, routes and sends its parts (a
    /// part with no route, or refused by its own first hop, is not sent).
    fn start(&mut self, i: usize, p: &Pay) {
        let nn = self.n.nodes.len();
        let (src, dst) = (p.source % nn, p.target % nn);
        if src == dst {
            return;
        }
        let k = keys_of(i);
        let a = p.amount_sat * 1000;
        let expires_at = Timestamp::from_secs(3_600);
        let (count, part, payment_id) = match p.kind {
            Kind::Keysend => (1, a, None),
            Kind::Mpp(parts) => {
                let record = InvoiceRecord {
                    preimage: k.preimage,
                    payment_secret: k.secret,
                    amount_msat: Some(a),
                    min_final_cltv_expiry_delta: 18,
                    expires_at,
                };
                self.n
                    .node_mut(dst)
                    .register_invoice(k.hash, record)
                    .unwrap();
                (parts, a / parts, None)
            }
            Kind::Redundant(parts) => {
                let inv = RedundantInvoice {
                    payment_secret: k.secret,
                    amount_msat: a,
                    lock: LockKind::H2tlc,
                    preimage: Some(k.preimage),
                    min_final_cltv_expiry_delta: 18,
                    expires_at,
                };
                self.n.node_mut(dst).register_redundant(inv).unwrap();
                let id = [i as u8 + 1; 32];
                let s = RedundantSender::new(id, a, LockKind::H2tlc, k.secret, Some(k.hash));
                self.n.senders.insert(id, s);
                (parts + 1, a / parts, Some(id))
            }
        };
        let g = self.n.graph().clone();
        for j in 0..count {
            let amount = match p.kind {
                Kind::Mpp(_) if j == count - 1 => a - part * (count - 1),
                _ => part,
            };
            let mut req = RouteRequest::new(NodeIdx(src as u32), NodeIdx(dst as u32), amount);
            req.limits.max_fee_msat = u64::MAX / 4;
            let Ok(route) = self.router.find_route(&g, &req, self.n.clock.now) else {
                continue;
            };
            let path = route.paths.into_iter().next().unwrap();
            let id = self.next_part;
            self.next_part += 1;
            let sent = match payment_id {
                Some(pid) => {
                    let s = self.n.senders.get_mut(&pid).unwrap();
                    let secret = RedundantSender::derive_secret(5, &pid, j as u16);
                    let idx = s.add_part(amount, secret);
                    let part = s.part(idx, PartId(id), &path);
                    self.n
                        .command(src, |node, clock, out| {
                            node.send_redundant(part, clock, out)
                        })
                        .is_ok()
                }
                None => {
                    let part = SendPart {
                        id: PartId(id),
                        path: &path,
                        payment_hash: k.hash,
                        payment_data: matches!(p.kind, Kind::Mpp(_)).then_some(PaymentData {
                            payment_secret: k.secret,
                            total_msat: a,
                        }),
                        keysend_preimage: (p.kind == Kind::Keysend).then_some(k.preimage),
                    };
                    self.n
                        .command(src, |node, clock, out| node.send_part(part, clock, out))
                        .is_ok()
                }
            };
            if sent {
                self.book.parts.insert(id, (i, amount));
            }
        }
    }

    /// Delivers again the `i`-th delivered message that must now be refused: a removal
    /// (its HTLC is gone at the offerer), or an add whose HTLC the receiver still holds;
    /// or an endpoint message, which must change nothing.
    /// A replayed add whose HTLC was resolved is not tried: the engine accepts it (see
    /// `node_orders::stale_add_replayed_after_resolution_is_refused`).
    fn duplicate(&mut self, i: usize) {
        let candidates: Vec<usize> = (0..self.n.delivered.len())
            .filter(|&j| {
                let (_, to, msg) = &self.n.delivered[j];
                match msg {
                    Msg::AddHtlc(a) => self.n.node(to.ix()).htlc_by_wire(a.htlc, false).is_some(),
                    Msg::Endpoint(_) => true,
                    m => m.is_removal(),
                }
            })
            .collect();
        if candidates.is_empty() {
            return;
        }
        let m = self.n.delivered[candidates[i % candidates.len()]].clone();
        if matches!(m.2, Msg::Endpoint(_)) {
            self.n.replay_endpoint(m);
        } else {
            self.n.replay(m);
        }
        self.duplicates += 1;
    }
}

/// Runs `pays` under `schedule`, then delivers and fires everything left. Returns the
/// run for the final checks.
fn run(n: Nodes, pays: &[Pay], schedule: &[Step]) -> Run {
    let mut r = Run {
        n,
        router: Pathfinder::new(UniformScorer),
        book: Book::default(),
        next_part: 0,
        started: 0,
        duplicates: 0,
    };
    for s in schedule {
        match *s {
            Step::Deliver(i) => {
                if !r.n.pool.is_empty() {
                    let l = r.n.pool.len();
                    r.n.deliver(i % l);
                }
            }
            Step::Duplicate(i) => r.duplicate(i),
            Step::Timer => {
                r.n.fire_next_timer();
            }
            Step::Start => {
                if r.started < pays.len() {
                    let i = r.started;
                    r.started += 1;
                    r.start(i, &pays[i]);
                }
            }
        }
    }
    while r.started < pays.len() {
        let i = r.started;
        r.started += 1;
        r.start(i, &pays[i]);
    }
    // The rest in a scrambled but deterministic order: last emitted first.
    loop {
        if let Some(l) = r.n.pool.len().checked_sub(1) {
            r.n.deliver(l);
        } else if !r.n.fire_next_timer() {
            break;
        }
    }
    r
}

fn check_end(r: &Run, pays: &[Pay]) -> Result<(), TestCaseError> {
    let n = &r.n;
    if let Err(e) = n.check_quiescent() {
        return Err(TestCaseError::fail(e));
    }
    prop_assert!(n.pool.is_empty() && n.timers.is_empty());
    // Every part sent ended exactly once.
    let mut settled: BTreeMap<usize, (u64, usize)> = BTreeMap::new();
    let mut fees_paid = 0u64;
    for (&id, &(pay, amount)) in &r.book.parts {
        let o = n.outcomes(id);
        prop_assert_eq!(o.len(), 1, "part {} ended {:?}", id, o);
        if o[0] {
            let e = settled.entry(pay).or_default();
            e.0 += amount;
            e.1 += 1;
        }
    }
    for (_, e) in &n.events {
        if let Event::PartSettled { fee_msat, .. } = e {
            fees_paid += fee_msat;
        }
    }
    let earned: u64 = n.nodes.iter().map(|m| m.ledger().fees_earned_msat).sum();
    prop_assert_eq!(fees_paid, earned, "fees paid vs earned");
    let total_paid_in: u64 = n.nodes.iter().map(|m| m.ledger().paid_in_msat).sum();
    let total_paid_out: u64 = n.nodes.iter().map(|m| m.ledger().paid_out_msat).sum();
    // Every settled HTLC was paid out by one node and paid in by its peer.
    prop_assert_eq!(total_paid_in, total_paid_out);
    // What each receiver settled, against what it was owed.
    let nn = n.nodes.len();
    for (i, p) in pays.iter().enumerate() {
        let k = keys_of(i);
        let a = p.amount_sat * 1000;
        let dst = p.target % nn;
        if p.source % nn == dst {
            continue;
        }
        let (got, parts) = settled.get(&i).copied().unwrap_or((0, 0));
        let claims: Vec<(u64, u32)> = n
            .events
            .iter()
            .filter_map(|(m, e)| match e {
                Event::PaymentReceived {
                    payment_hash,
                    amount_msat,
                    parts,
                } if m.ix() == dst && *payment_hash == k.hash => Some((*amount_msat, *parts)),
                _ => None,
            })
            .collect();
        match p.kind {
            Kind::Mpp(_) => {
                prop_assert!(claims.len() <= 1, "payment {} claimed {:?}", i, claims);
                match claims.first() {
                    Some(&(amount, count)) => {
                        prop_assert!(amount >= a, "claimed {} of {}", amount, a);
                        prop_assert_eq!((got, parts), (amount, count as usize));
                    }
                    None => prop_assert_eq!(got, 0),
                }
            }
            Kind::Keysend => {
                prop_assert!(claims.len() <= 1);
                prop_assert_eq!(got, claims.first().map_or(0, |c| c.0));
            }
            Kind::Redundant(_) => {
                // Exactly A or nothing reached the receiver. Its book agrees while it
                // remembers the payment (it forgets it once the invoice expired).
                prop_assert!(got == 0 || got == a, "redundant: settled {} of {}", got, a);
                let book = n.node(dst).receiver().redundant.settled_msat(&k.secret);
                let remembered = n.clock.now <= Timestamp::from_secs(3_600);
                prop_assert!(
                    book == got || (book == 0 && !remembered),
                    "book {} vs parts {}",
                    book,
                    got
                );
            }
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn any_delivery_order_keeps_every_invariant(
        n in 3usize..=6,
        tree in prop::collection::vec((0usize..6, 100_000u64..2_000_000, 20u8..235), 5),
        extra in prop::collection::vec((0usize..6, 0usize..6, 100_000u64..2_000_000, 20u8..235), 0..4),
        first in pay(Some(Kind::Redundant(2))),
        second in pay(Some(Kind::Mpp(2))),
        more in prop::collection::vec(pay(None), 0..3),
        schedule in prop::collection::vec(step(), 0..160),
        tight in prop::collection::vec(prop::option::weighted(0.3, params()), 6),
        behaviours in prop::collection::vec(behaviour(), 6),
        real_onions in prop::bool::weighted(0.2),
    ) {
        let (g, b) = build(n, &tree, &extra);
        let mut pays = vec![first, second];
        pays.extend(more);
        let mut nodes = Nodes::new(g, b, Some(configs(n, &tight, &behaviours)));
        if real_onions {
            nodes.enable_real_onions(n as u64);
        }
        let r = run(nodes, &pays, &schedule);
        check_end(&r, &pays)?;
    }
}

/// The property test is not vacuous: over fixed seeds, runs settle MPP and redundant
/// payments, fail others, and refuse duplicates.
#[test]
fn the_generator_exercises_the_engine() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut settled_mpp, mut settled_red, mut failed, mut dups) = (0, 0, 0, 0);
    for _ in 0..60 {
        let (tree, extra, first, second, schedule) = (
            prop::collection::vec((0usize..6, 100_000u64..2_000_000, 20u8..235), 5),
            prop::collection::vec(
                (0usize..6, 0usize..6, 100_000u64..2_000_000, 20u8..235),
                0..4,
            ),
            pay(Some(Kind::Redundant(2))),
            pay(Some(Kind::Mpp(2))),
            prop::collection::vec(step(), 100..160),
        )
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let (g, b) = build(4, &tree, &extra);
        let pays = vec![first, second];
        let r = run(Nodes::new(g, b, None), &pays, &schedule);
        check_end(&r, &pays).unwrap();
        for (&id, &(pay, _)) in &r.book.parts {
            match (r.n.outcomes(id)[0], pay) {
                (true, 0) => settled_red += 1,
                (true, _) => settled_mpp += 1,
                (false, _) => failed += 1,
            }
        }
        dups += r.duplicates;
    }
    assert!(
        settled_mpp > 10 && settled_red > 10 && failed > 10 && dups > 50,
        "mpp {settled_mpp}, redundant {settled_red}, failed {failed}, duplicates {dups}"
    );
}
