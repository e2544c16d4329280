//! The sender's redundant session over a small fan of disjoint paths, driven by a tiny
//! in-test event loop (every message, the claim request and the reveal take 100 ms).

mod common;

use std::collections::VecDeque;
use std::sync::Arc;

use common::*;
use flotilla_graph::NodeIdx;
use flotilla_ln::clock::Clock;
use flotilla_ln::lock::LockKind;
use flotilla_ln::msg::Msg;
use flotilla_ln::network::Network;
use flotilla_ln::output::{Event, Output};
use flotilla_ln::redundant::RedundantInvoice;
use flotilla_ln::redundant_session::{RedundantLimits, RedundantSession};
use flotilla_ln::session::SessionState;
use flotilla_route::scorers::LiquidityBoundsScorer;
use flotilla_route::{Pathfinder, Timestamp};

const A: u64 = 20_000_000;

fn run_fan(lock: LockKind) -> (RedundantSession, Network) {
    // 0 reaches 4 over 0 — i — 4 for i in 1..=3: three disjoint two-hop paths.
    let mut ch = Vec::new();
    for i in 1..=3 {
        ch.push((0, i, 1_000_000));
        ch.push((i, 4, 1_000_000));
    }
    let g = graph(5, &ch);
    let b = balances(&g, 0.9);
    let mut net = Network::new(Arc::new(g), b, vec![Default::default(); 5]).unwrap();
    let graph = net.graph().clone();
    let mut router = Pathfinder::new(LiquidityBoundsScorer::new(&graph, NodeIdx(0)));
    router.prepare(&graph);
    let k = keys(1);
    net.register_redundant(
        NodeIdx(4),
        RedundantInvoice {
            payment_secret: k.secret,
            amount_msat: A,
            lock,
            preimage: (lock == LockKind::H2tlc).then_some(k.preimage),
            min_final_cltv_expiry_delta: 40,
            expires_at: Timestamp::from_secs(3_600),
        },
    )
    .unwrap();
    let limits = RedundantLimits {
        redundancy: 0.5,
        max_part_msat: A / 2,
        max_base_parts: 16,
        timeout_micros: 60_000_000,
        max_fee_msat: 1_000_000,
        final_cltv_delta: 40,
    };
    let mut s = RedundantSession::new(
        7,
        NodeIdx(0),
        NodeIdx(4),
        A,
        lock,
        RedundantSession::payment_id_for(7, &k.secret.0),
        k.secret,
        (lock == LockKind::H2tlc).then_some(k.hash),
        1,
        limits,
        Timestamp::ZERO,
    );
    assert_eq!(s.planned_parts(), 3, "k = 2, ρ = 0.5: three parts of A/2");
    let mut clock = Clock::new(Timestamp::ZERO, 800_000);
    let mut out = Vec::new();
    let mut queue: VecDeque<(NodeIdx, NodeIdx, Msg)> = VecDeque::new();
    s.pump(&mut router, &mut net, &clock, &mut out);
    assert_eq!(s.parts_in_flight(), 3);
    loop {
        for o in std::mem::take(&mut out) {
            match o {
                Output::Message { from, to, msg } => queue.push_back((from, to, msg)),
                Output::Timer { .. } => {}
                Output::Event { event, .. } => {
                    if matches!(event, Event::PartSettled { .. } | Event::PartFailed { .. }) {
                        assert_eq!(s.id(), RedundantSession::session_of(part_of(&event)));
                        s.on_part_event(&event, &mut router, &net, clock.now);
                    }
                }
            }
        }
        while let Some(req) = net.poll_claim_request() {
            assert_eq!(
                RedundantSession::session_of_payment_id(&req.payment_id),
                s.id()
            );
            clock.now = clock.now + 200_000;
            let secrets = s.on_claim_request(&req.parts).expect("an exact subset");
            net.reveal_secrets(req.receiver, req.payment_id, secrets, &clock, &mut out)
                .unwrap();
        }
        if !out.is_empty() {
            continue;
        }
        let Some((from, to, msg)) = queue.pop_front() else {
            break;
        };
        clock.now = clock.now + 100_000;
        net.deliver(to, from, msg, &clock, &mut out).unwrap();
    }
    net.check_invariants().unwrap();
    (s, net)
}

fn part_of(e: &Event) -> flotilla_ln::sender::PartId {
    match e {
        Event::PartSettled { part, .. } | Event::PartFailed { part, .. } => *part,
        _ => unreachable!(),
    }
}

#[test]
fn three_halves_settle_exactly_a() {
    for lock in [LockKind::SenderHash, LockKind::H2tlc] {
        let (mut s, net) = run_fan(lock);
        assert!(
            matches!(s.state(), SessionState::Succeeded(_)),
            "{lock:?}: {:?}",
            s.state()
        );
        assert!(s.is_finished(), "the surplus part came back");
        let st = s.stats.clone();
        assert_eq!(st.attempts, 3);
        assert_eq!(st.parts_sent, 3);
        assert_eq!(st.parts_settled, 2);
        assert_eq!(st.settled_msat, A);
        assert_eq!(st.overpaid_msat, 0);
        assert_eq!(st.extra_messages, 2);
        assert!(st.fees_msat > 0 && st.locked_msat_micros > 0);
        assert_eq!(net.ledger(NodeIdx(4)).paid_in_msat, A);
        assert_eq!(net.ledger(NodeIdx(0)).paid_out_msat, A + st.fees_msat);
        assert_eq!(net.live_htlcs(), 0);
        let log: Vec<_> = s.drain_attempts().collect();
        assert_eq!(log.len(), 3);
        assert_eq!(log.iter().filter(|a| a.failure.is_none()).count(), 2);
        // Three disjoint paths: every part went through its own middle node.
        let mut mids: Vec<_> = log.iter().map(|a| a.path.hops[0].edge).collect();
        mids.sort_unstable();
        mids.dedup();
        assert_eq!(mids.len(), 3);
    }
}
