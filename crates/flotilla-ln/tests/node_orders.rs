//! The per-node engine driven by hand, sans IO: two and three `Node`s built with
//! `Node::build_all`, messages delivered in adversarial orders the collapsed model
//! allows (a fail overtaking a fulfil on another channel, a cancel overtaking its part,
//! two adds on one channel arriving in reverse order, every interleaving of small
//! payments), duplicate deliveries refused with nothing changed, and every invariant
//! checked after every step (each node's books and both ends of every channel).

mod common;
#[path = "common/nodes.rs"]
mod nodes;

use common::{balances, graph, invoice, keys, path};
use flotilla_graph::{Graph, NodeIdx};
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::lock::LockKind;
use flotilla_ln::msg::{EndpointMsg, Msg};
use flotilla_ln::node::PeerError;
use flotilla_ln::output::Event;
use flotilla_ln::payload::PaymentData;
use flotilla_ln::redundant::{RedundantInvoice, RedundantSender};
use flotilla_ln::sender::{PartId, SendPart};
use flotilla_route::{Path, Timestamp};
use nodes::{is, Nodes};

const SAT: u64 = 1_000_000;

/// Nodes 0 and 1, one channel of 1,000,000 sat, 90% on node 0's side.
fn pair() -> Nodes {
    let g = graph(2, &[(0, 1, SAT)]);
    let b = balances(&g, 0.9);
    Nodes::new(g, b, None)
}

/// Nodes 0, 1, 2: channels 0 — 1 (0), 1 — 2 (1), 0 — 2 (2), 90% on the lower node's side.
fn triangle() -> Nodes {
    let g = graph(3, &[(0, 1, SAT), (1, 2, SAT), (0, 2, SAT)]);
    let b = balances(&g, 0.9);
    Nodes::new(g, b, None)
}

fn g(n: &Nodes) -> Graph {
    (**n.graph()).clone()
}

/// Node `src` sends part `id` of an invoice payment of `total` over `p`.
fn pay(n: &mut Nodes, src: usize, id: u64, p: &Path, k: &PaymentKeys, total: u64) {
    n.command(src, |node, clock, out| {
        node.send_part(
            SendPart {
                id: PartId(id),
                path: p,
                payment_hash: k.hash,
                payment_data: Some(PaymentData {
                    payment_secret: k.secret,
                    total_msat: total,
                }),
                keysend_preimage: None,
            },
            clock,
            out,
        )
    })
    .expect("the part starts");
}

fn register(n: &mut Nodes, node: usize, k: &PaymentKeys, amount: u64) {
    n.node_mut(node)
        .register_invoice(k.hash, invoice(k, Some(amount)))
        .unwrap();
}

fn received(n: &Nodes, node: usize) -> Vec<(u64, u32)> {
    n.events
        .iter()
        .filter(|(m, _)| m.ix() == node)
        .filter_map(|(_, e)| match e {
            Event::PaymentReceived {
                amount_msat, parts, ..
            } => Some((*amount_msat, *parts)),
            _ => None,
        })
        .collect()
}

/// Calls `leaf` with the state after every possible order of delivering the pool (and
/// everything the deliveries cause), timers fired at the end. Returns the leaves seen.
fn explore(n: &Nodes, leaf: &mut impl FnMut(&Nodes)) -> usize {
    if n.pool.is_empty() {
        if n.timers.is_empty() {
            leaf(n);
            return 1;
        }
        let mut c = n.clone();
        c.fire_next_timer();
        return explore(&c, leaf);
    }
    let mut leaves = 0;
    for i in 0..n.pool.len() {
        let mut c = n.clone();
        c.deliver(i);
        leaves += explore(&c, leaf);
    }
    leaves
}

/// Replays every message a run delivered: each must be refused, changing nothing.
/// Adds are replayed only while their HTLC is still held by the receiver (see
/// `stale_add_replayed_after_resolution_is_refused`).
fn replay_all(n: &Nodes) {
    let mut c = n.clone();
    for (from, to, msg) in n.delivered.clone() {
        if let Msg::AddHtlc(a) = &msg {
            if c.node(to.ix()).htlc_by_wire(a.htlc, false).is_none() {
                continue;
            }
        }
        if matches!(msg, Msg::Endpoint(_)) {
            continue;
        }
        c.replay((from, to, msg));
    }
}

#[test]
fn two_nodes_by_hand_one_payment() {
    let mut n = pair();
    let gr = g(&n);
    let k = keys(1);
    register(&mut n, 1, &k, 50_000_000);
    let p = path(&gr, &[0, 1], 50_000_000, 18);
    pay(&mut n, 0, 7, &p, &k, 50_000_000);
    assert_eq!(n.pool.len(), 1);
    // The offerer locked the value at once; the peer has not seen it.
    assert_eq!(n.node(0).ends()[0].local.pending_msat, 50_000_000);
    assert_eq!(n.node(1).ends()[0].remote.pending_msat, 0);
    n.deliver_where(|m| is(m, "update_add_htlc", 0, 1));
    assert_eq!(received(&n, 1), vec![(50_000_000, 1)]);
    // The fulfil is in flight: the value is still locked at both ends.
    assert_eq!(n.node(0).ends()[0].local.pending_msat, 50_000_000);
    assert_eq!(n.node(1).ends()[0].remote.pending_msat, 50_000_000);
    n.deliver_where(|m| is(m, "update_fulfill_htlc", 1, 0));
    assert_eq!(n.outcomes(7), vec![true]);
    n.check_quiescent().unwrap();
    assert_eq!(n.node(1).ledger().paid_in_msat, 50_000_000);
    assert_eq!(n.node(0).ledger().paid_out_msat, 50_000_000);
    assert_eq!(n.node(1).ends()[0].local.balance_msat, 150_000_000);
    // The fulfil delivered twice: refused, nothing changes at either end.
    let fulfil = n.delivered.last().cloned().unwrap();
    let e = n.replay(fulfil);
    assert!(matches!(e, PeerError::UnknownHtlc { .. }), "{e}");
}

#[test]
fn two_adds_on_one_channel_arrive_in_reverse_order() {
    let mut n = pair();
    let gr = g(&n);
    let k = keys(2);
    register(&mut n, 1, &k, 60_000_000);
    let p = path(&gr, &[0, 1], 30_000_000, 18);
    pay(&mut n, 0, 1, &p, &k, 60_000_000);
    pay(&mut n, 0, 2, &p, &k, 60_000_000);
    let ids: Vec<u64> = n.pool.iter().map(|m| m.2.htlc().unwrap().id).collect();
    assert_eq!(ids, vec![0, 1]);
    // id 1 first: accepted (the collapsed mode does not insist on the order), held.
    n.deliver(1);
    assert!(received(&n, 1).is_empty());
    assert_eq!(n.node(1).ends()[0].remote.pending_count, 1);
    // id 1 again, while held: a duplicate.
    let dup = n.delivered.last().cloned().unwrap();
    assert!(matches!(n.replay(dup), PeerError::DuplicateHtlc(_)));
    n.deliver(0);
    assert_eq!(received(&n, 1), vec![(60_000_000, 2)]);
    // Fulfils back in reverse order too.
    let last = n.pool.len() - 1;
    n.deliver(last);
    n.deliver(0);
    assert_eq!(n.outcomes(1), vec![true]);
    assert_eq!(n.outcomes(2), vec![true]);
    n.check_quiescent().unwrap();
    replay_all(&n);
}

#[test]
fn removal_delivered_twice_changes_nothing() {
    let mut n = triangle();
    let gr = g(&n);
    let k = keys(3);
    // No invoice: node 2 fails the part; the fail travels 2 → 1 → 0.
    let p = path(&gr, &[0, 1, 2], 10_000_000, 18);
    pay(&mut n, 0, 1, &p, &k, 10_000_000);
    n.deliver(0);
    n.deliver(0);
    n.deliver_where(|m| is(m, "update_fail_htlc", 2, 1));
    let fail = n.delivered.last().cloned().unwrap();
    let e = n.replay(fail.clone());
    assert!(matches!(e, PeerError::UnknownHtlc { .. }), "{e}");
    n.deliver_where(|m| is(m, "update_fail_htlc", 1, 0));
    let e = n.replay(fail);
    assert!(matches!(e, PeerError::UnknownHtlc { .. }), "{e}");
    let fail0 = n.delivered.last().cloned().unwrap();
    n.replay(fail0);
    assert_eq!(n.outcomes(1), vec![false]);
    n.check_quiescent().unwrap();
    // The driver reporting a removal's lock-in twice changes nothing either.
    let before = n.fingerprint();
    let h = n.delivered[2].2.htlc().unwrap();
    assert!(!n.node_mut(2).removal_delivered(h, false));
    assert!(!n.node_mut(2).removal_delivered(h, true));
    assert_eq!(before, n.fingerprint());
}

/// Payment X (invoice at 2) over 0 → 1 → 2 and payment Y (no invoice) over 0 → 2: Y's
/// fail on channel 0 — 2 overtakes X's fulfil on channel 1 — 2.
#[test]
fn fail_overtakes_fulfil_on_another_channel() {
    let mut n = triangle();
    let gr = g(&n);
    let (kx, ky) = (keys(4), keys(5));
    register(&mut n, 2, &kx, 20_000_000);
    let px = path(&gr, &[0, 1, 2], 20_000_000, 18);
    let py = path(&gr, &[0, 2], 5_000_000, 18);
    pay(&mut n, 0, 1, &px, &kx, 20_000_000);
    pay(&mut n, 0, 2, &py, &ky, 5_000_000);
    n.deliver_where(|m| is(m, "update_add_htlc", 0, 1));
    n.deliver_where(|m| is(m, "update_add_htlc", 1, 2));
    assert_eq!(received(&n, 2), vec![(20_000_000, 1)]);
    n.deliver_where(|m| is(m, "update_add_htlc", 0, 2));
    // In flight: X's fulfil 2 → 1 and Y's fail 2 → 0, emitted in that order.
    assert!(is(&n.pool[0], "update_fulfill_htlc", 2, 1));
    assert!(is(&n.pool[1], "update_fail_htlc", 2, 0));
    n.deliver(1);
    assert_eq!(n.outcomes(2), vec![false]);
    assert!(n.outcomes(1).is_empty());
    n.deliver(0);
    n.deliver_where(|m| is(m, "update_fulfill_htlc", 1, 0));
    assert_eq!(n.outcomes(1), vec![true]);
    n.check_quiescent().unwrap();
    // Node 1 earned the forwarding fee: 1000 + 100 ppm of 20,000,000.
    assert_eq!(n.node(1).ledger().fees_earned_msat, 3_000);
    replay_all(&n);
}

/// Every order of the same two payments: the same end state, every time.
#[test]
fn every_order_of_a_fulfil_and_a_fail_ends_the_same() {
    let mut n = triangle();
    let gr = g(&n);
    let (kx, ky) = (keys(4), keys(5));
    register(&mut n, 2, &kx, 20_000_000);
    pay(
        &mut n,
        0,
        1,
        &path(&gr, &[0, 1, 2], 20_000_000, 18),
        &kx,
        20_000_000,
    );
    pay(
        &mut n,
        0,
        2,
        &path(&gr, &[0, 2], 5_000_000, 18),
        &ky,
        5_000_000,
    );
    let mut ends: Option<Vec<u64>> = None;
    let leaves = explore(&n, &mut |s| {
        s.check_quiescent().unwrap();
        assert_eq!(s.outcomes(1), vec![true]);
        assert_eq!(s.outcomes(2), vec![false]);
        assert_eq!(received(s, 2), vec![(20_000_000, 1)]);
        let bal: Vec<u64> = s
            .nodes
            .iter()
            .flat_map(|m| m.ends().iter().map(|e| e.local.balance_msat))
            .collect();
        match &ends {
            None => ends = Some(bal),
            Some(b) => assert_eq!(b, &bal, "the end state depends on the order"),
        }
        replay_all(s);
    });
    // Two chains of 4 messages (add, add, fulfil, fulfil) and (add, fail): C(6, 2).
    assert_eq!(leaves, 15);
}

/// An MPP payment in two parts over both routes of the triangle plus a failing payment
/// from node 1: every interleaving of their messages.
#[test]
fn every_order_of_an_mpp_payment_and_a_failure() {
    let mut n = triangle();
    let gr = g(&n);
    let (k, ky) = (keys(6), keys(7));
    register(&mut n, 2, &k, 40_000_000);
    pay(
        &mut n,
        0,
        1,
        &path(&gr, &[0, 1, 2], 15_000_000, 18),
        &k,
        40_000_000,
    );
    pay(
        &mut n,
        0,
        2,
        &path(&gr, &[0, 2], 25_000_000, 18),
        &k,
        40_000_000,
    );
    // Node 1 pays node 2 with an unknown hash, sharing channel 1 — 2 with part 1.
    pay(
        &mut n,
        1,
        3,
        &path(&gr, &[1, 2], 1_000_000, 18),
        &ky,
        1_000_000,
    );
    let leaves = explore(&n, &mut |s| {
        s.check_quiescent().unwrap();
        assert_eq!(s.outcomes(1), vec![true]);
        assert_eq!(s.outcomes(2), vec![true]);
        assert_eq!(s.outcomes(3), vec![false]);
        assert_eq!(received(s, 2), vec![(40_000_000, 2)]);
        assert_eq!(s.node(0).ledger().paid_out_msat, 40_002_500);
        replay_all(s);
    });
    assert!(leaves > 100, "{leaves} orders explored");
}

fn redundant_invoice(k: &PaymentKeys, a: u64) -> RedundantInvoice {
    RedundantInvoice {
        payment_secret: k.secret,
        amount_msat: a,
        lock: LockKind::H2tlc,
        preimage: Some(k.preimage),
        min_final_cltv_expiry_delta: 18,
        expires_at: Timestamp::from_secs(3_600),
    }
}

const PAYMENT_ID: [u8; 32] = [0xAB; 32];

/// A redundant h2tlc payment of `a` from 0 to 2: one part of `a / 2` per path.
fn start_redundant(n: &mut Nodes, k: &PaymentKeys, a: u64, paths: &[Path]) {
    n.node_mut(2)
        .register_redundant(redundant_invoice(k, a))
        .unwrap();
    let mut s = RedundantSender::new(PAYMENT_ID, a, LockKind::H2tlc, k.secret, Some(k.hash));
    for (i, p) in paths.iter().enumerate() {
        let idx = s.add_part(
            p.hops.last().unwrap().amount_msat,
            RedundantSender::derive_secret(9, &PAYMENT_ID, i as u16),
        );
        let part = s.part(idx, PartId(i as u64), p);
        n.command(0, |node, clock, out| node.send_redundant(part, clock, out))
            .expect("the part starts");
    }
    n.senders.insert(PAYMENT_ID, s);
}

fn settled_redundant(n: &Nodes, k: &PaymentKeys) -> u64 {
    n.node(2).receiver().redundant.settled_msat(&k.secret)
}

#[test]
fn cancel_overtakes_its_part() {
    let mut n = triangle();
    let gr = g(&n);
    let k = keys(8);
    let a = 10_000_000;
    let paths = [
        path(&gr, &[0, 1, 2], a / 2, 18),
        path(&gr, &[0, 2], a / 2, 18),
    ];
    start_redundant(&mut n, &k, a, &paths);
    n.command(0, |node, _, out| {
        node.cancel_payment(NodeIdx(2), PAYMENT_ID, out)
    });
    // The cancel reaches the receiver before either part.
    n.deliver_where(|m| matches!(m.2, Msg::Endpoint(EndpointMsg::Cancel { .. })));
    n.quiesce();
    assert_eq!(n.outcomes(0), vec![false]);
    assert_eq!(n.outcomes(1), vec![false]);
    assert_eq!(settled_redundant(&n, &k), 0);
    n.check_quiescent().unwrap();
    assert_eq!(n.node(0).ledger().paid_out_msat, 0);
    replay_all(&n);
}

#[test]
fn cancel_between_two_parts() {
    let mut n = triangle();
    let gr = g(&n);
    let k = keys(9);
    let a = 10_000_000;
    let paths = [
        path(&gr, &[0, 1, 2], a / 2, 18),
        path(&gr, &[0, 2], a / 2, 18),
    ];
    start_redundant(&mut n, &k, a, &paths);
    n.command(0, |node, _, out| {
        node.cancel_payment(NodeIdx(2), PAYMENT_ID, out)
    });
    // The direct part is held, then the cancel fails it, then the other part arrives.
    n.deliver_where(|m| is(m, "update_add_htlc", 0, 2));
    assert_eq!(n.node(2).receiver().redundant.held_parts(&k.secret), 1);
    n.deliver_where(|m| matches!(m.2, Msg::Endpoint(EndpointMsg::Cancel { .. })));
    assert_eq!(n.node(2).receiver().redundant.held_parts(&k.secret), 0);
    n.quiesce();
    assert_eq!(n.outcomes(0), vec![false]);
    assert_eq!(n.outcomes(1), vec![false]);
    assert_eq!(settled_redundant(&n, &k), 0);
    n.check_quiescent().unwrap();
}

/// A redundant h2tlc payment of A in three parts of A/2 (one spare) with a cancel racing
/// the claim: every order of every message, the claim request and the reveal included.
/// The receiver settles exactly A or nothing, never more.
#[test]
fn every_order_of_a_redundant_payment_and_its_cancel() {
    let mut n = triangle();
    let gr = g(&n);
    let k = keys(10);
    let a = 10_000_000;
    let paths = [
        path(&gr, &[0, 2], a / 2, 18),
        path(&gr, &[0, 1, 2], a / 2, 18),
        path(&gr, &[0, 2], a / 2, 18),
    ];
    start_redundant(&mut n, &k, a, &paths);
    let mut settled_runs = 0;
    let mut cancelled_runs = 0;
    let mut with_cancel = n.clone();
    with_cancel.command(0, |node, _, out| {
        node.cancel_payment(NodeIdx(2), PAYMENT_ID, out)
    });
    for start in [&n, &with_cancel] {
        let leaves = explore(start, &mut |s| {
            s.check_quiescent().unwrap();
            let settled = settled_redundant(s, &k);
            let outcomes: Vec<Vec<bool>> = (0..3).map(|i| s.outcomes(i)).collect();
            assert!(outcomes.iter().all(|o| o.len() == 1), "{outcomes:?}");
            let won = outcomes.iter().filter(|o| o[0]).count() as u64;
            assert_eq!(won * a / 2, settled, "settled parts vs the receiver's book");
            match settled {
                0 => cancelled_runs += 1,
                x if x == a => settled_runs += 1,
                x => panic!("receiver settled {x} of {a}"),
            }
            assert_eq!(s.node(2).ledger().paid_in_msat, settled);
            // Replays on a sample of the orders: each costs a clone per message.
            if (settled_runs + cancelled_runs) % 61 == 0 {
                replay_all(s);
            }
        });
        // 712 orders without the cancel, 19,350 with it.
        assert!(leaves >= 500, "{leaves} orders explored");
    }
    // Without the cancel every order pays; with it, some orders pay and some cancel.
    assert!(settled_runs > 0 && cancelled_runs > 0);
}

/// A stale `update_add_htlc` replayed after its HTLC was resolved must be refused
/// (BOLT 2: ids only go up). The receiver holds no memory of resolved ids and accepts
/// it as a new HTLC the offerer never offered.
#[test]
fn stale_add_replayed_after_resolution_is_refused() {
    let mut n = pair();
    let gr = g(&n);
    let k = keys(11);
    let p = path(&gr, &[0, 1], 5_000_000, 18);
    pay(&mut n, 0, 1, &p, &k, 5_000_000);
    n.quiesce();
    assert_eq!(n.outcomes(1), vec![false]);
    let add = n.delivered[0].clone();
    assert!(matches!(add.2, Msg::AddHtlc(_)));
    n.replay(add);
}

/// The hand driver applies the collapsed model exactly as `Network::deliver` does: the
/// same payments in the same (last-emitted-first) order through a `Network` leave every
/// node in the same state after every step, and `Network::check_invariants` agrees
/// with the hand driver's own cross-node check.
#[test]
fn hand_driver_matches_network_deliver() {
    use flotilla_ln::network::Network;
    use std::sync::Arc;
    let gr = graph(3, &[(0, 1, SAT), (1, 2, SAT), (0, 2, SAT)]);
    let b = balances(&gr, 0.9);
    let mut n = Nodes::new(gr.clone(), b.clone(), None);
    let mut net = Network::with_default_configs(Arc::new(gr.clone()), b).unwrap();
    let (k, ky) = (keys(12), keys(13));
    register(&mut n, 2, &k, 40_000_000);
    net.register_invoice(NodeIdx(2), k.hash, invoice(&k, Some(40_000_000)))
        .unwrap();
    let parts = [
        (1, path(&gr, &[0, 1, 2], 15_000_000, 18), &k, 40_000_000),
        (2, path(&gr, &[0, 2], 25_000_000, 18), &k, 40_000_000),
        (3, path(&gr, &[0, 1, 2], 1_000_000, 18), &ky, 1_000_000),
    ];
    let mut pool = Vec::new();
    let mut out = Vec::new();
    for (id, p, key, total) in &parts {
        pay(&mut n, 0, *id, p, key, *total);
        let part = SendPart {
            id: PartId(*id),
            path: p,
            payment_hash: key.hash,
            payment_data: Some(PaymentData {
                payment_secret: key.secret,
                total_msat: *total,
            }),
            keysend_preimage: None,
        };
        net.send(part, &n.clock, &mut out).unwrap();
    }
    let same = |n: &Nodes, net: &Network| {
        let theirs: Vec<String> = net.nodes().iter().map(nodes::state_of).collect();
        assert_eq!(nodes::first_difference(&n.fingerprint(), &theirs), None);
        net.check_invariants().expect("Network's invariants");
    };
    let mut steps = 0;
    loop {
        for o in out.drain(..) {
            if let flotilla_ln::output::Output::Message { from, to, msg } = o {
                pool.push((from, to, msg));
            }
        }
        same(&n, &net);
        let Some((from, to, msg)) = pool.pop() else {
            break;
        };
        let i = n.pool.len() - 1;
        assert_eq!(n.pool[i].2, msg, "both drivers emitted the same messages");
        n.deliver(i);
        net.deliver(to, from, msg, &n.clock, &mut out).unwrap();
        steps += 1;
    }
    assert!(steps >= 10, "{steps} steps");
    assert_eq!(n.outcomes(1), vec![true]);
    assert_eq!(n.outcomes(3), vec![false]);
    n.check_quiescent().unwrap();
}

/// The same interleavings with real BOLT 4 onions: failure onions wrapped hop by hop
/// and decoded by the sender in every order.
#[test]
fn every_order_with_real_onions() {
    let mut n = triangle();
    n.enable_real_onions(77);
    let gr = g(&n);
    let (k, ky) = (keys(14), keys(15));
    register(&mut n, 2, &k, 40_000_000);
    pay(
        &mut n,
        0,
        1,
        &path(&gr, &[0, 1, 2], 15_000_000, 18),
        &k,
        40_000_000,
    );
    pay(
        &mut n,
        0,
        2,
        &path(&gr, &[0, 2], 25_000_000, 18),
        &k,
        40_000_000,
    );
    // No invoice for this one: the final node fails it, two hops from the sender.
    pay(
        &mut n,
        0,
        3,
        &path(&gr, &[0, 1, 2], 1_000_000, 18),
        &ky,
        1_000_000,
    );
    let leaves = explore(&n, &mut |s| {
        s.check_quiescent().unwrap();
        assert_eq!(s.outcomes(1), vec![true]);
        assert_eq!(s.outcomes(2), vec![true]);
        assert_eq!(s.outcomes(3), vec![false]);
        let failure = s.events.iter().find_map(|(_, e)| match e {
            Event::PartFailed { part, failure, .. } if part.0 == 3 => Some(failure.clone()),
            _ => None,
        });
        let f = failure.unwrap();
        assert_eq!(
            (f.code, f.origin_hop),
            (
                flotilla_ln::failure::FailureCode::IncorrectOrUnknownPaymentDetails,
                1
            ),
            "the sender decodes who failed it"
        );
    });
    assert!(leaves > 100, "{leaves} orders explored");
}
