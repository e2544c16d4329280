//! Per-node channel parameters ([`ChannelParams`]): the receiving peer's values bind the
//! offerer, and changing them changes what passes. Path 0 → 1 → 2 → 3 on channels of
//! 1 M sat; node 1 owns a tenth of its channel to node 2 (100 M msat).

mod common;

use common::*;
use flotilla_graph::{Graph, NodeIdx};
use flotilla_ln::channel::AddError;
use flotilla_ln::config::{ChannelParams, NodeConfig};
use flotilla_ln::failure::FailureCode;
use flotilla_ln::sender::SendError;

/// Node 1 holds cap/10 towards node 2, everyone else 90% of their side.
fn tight_balances(g: &Graph) -> flotilla_graph::liquidity::Balances {
    let mut v = balances(g, 0.9).into_vec();
    let e = edge(g, 1, 2);
    let cap = g.channel(e.channel()).capacity_msat();
    v[e.ix()] = cap / 10;
    v[e.reverse().ix()] = cap - cap / 10;
    flotilla_graph::liquidity::Balances::from_vec(v)
}

/// Pays `amount` 0 → 3 with `configs`; the outcome of the one part.
fn pay(configs: Vec<NodeConfig>, amount: u64) -> Outcome {
    let g = line(4, 1_000_000);
    let b = tight_balances(&g);
    let mut d = Driver::new(g.clone(), b, Some(configs));
    let k = keys(1);
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, Some(amount)))
        .unwrap();
    d.pay(1, &path(&g, &[0, 1, 2, 3], amount, 18), &k, amount)
        .unwrap();
    d.run();
    d.outcome(1).expect("the part ended")
}

fn with(node: usize, params: ChannelParams) -> Vec<NodeConfig> {
    let mut c = vec![NodeConfig::default(); 4];
    c[node].channel = params;
    c
}

#[test]
fn no_reserve_lets_through_what_the_one_percent_reserve_blocks() {
    // 95 M msat over 1 → 2: node 1 owns 100 M, node 2 asks a 1% reserve of 10 M.
    const AMOUNT: u64 = 95_000_000;
    let Outcome::Failed { failure, .. } = pay(vec![NodeConfig::default(); 4], AMOUNT) else {
        panic!("the 1% reserve must block it")
    };
    assert_eq!(failure.code, FailureCode::TemporaryChannelFailure);
    assert_eq!(failure.origin_hop, 0);
    // The reserve is the receiving peer's to set: node 2 without one lets it through.
    let no_reserve = ChannelParams {
        channel_reserve_ppm: 0,
        ..Default::default()
    };
    assert!(matches!(
        pay(with(2, no_reserve), AMOUNT),
        Outcome::Settled { .. }
    ));
    // Node 1 dropping its own reserve changes nothing on this channel.
    assert!(matches!(
        pay(with(1, no_reserve), AMOUNT),
        Outcome::Failed { .. }
    ));
}

#[test]
fn a_peers_minimum_htlc_binds_forwarders_and_senders() {
    let min = ChannelParams {
        htlc_minimum_msat: 3_000_000,
        ..Default::default()
    };
    // Node 2 accepts nothing below 3 M msat: node 1 refuses to forward 2 M to it.
    let Outcome::Failed { failure, .. } = pay(with(2, min), 2_000_000) else {
        panic!("below the peer's minimum")
    };
    assert_eq!(failure.code, FailureCode::AmountBelowMinimum);
    assert_eq!(failure.origin_hop, 0);
    // BOLT 4: the data is the outgoing HTLC's amount (node 2's fee included).
    let g = line(4, 1_000_000);
    let over_1_2 = path(&g, &[0, 1, 2, 3], 2_000_000, 18).hops[1].amount_msat;
    assert!(over_1_2 > 2_000_000);
    assert_eq!(failure.data.htlc_msat, Some(over_1_2));
    assert!(matches!(
        pay(with(2, min), 3_000_000),
        Outcome::Settled { .. }
    ));
    // Node 1 accepts nothing below it: the sender's own channel refuses locally.
    let g = line(4, 1_000_000);
    let b = tight_balances(&g);
    let mut d = Driver::new(g.clone(), b, Some(with(1, min)));
    let k = keys(1);
    d.net
        .register_invoice(NodeIdx(3), k.hash, invoice(&k, None))
        .unwrap();
    let e = d
        .pay(1, &path(&g, &[0, 1, 2, 3], 2_000_000, 18), &k, 2_000_000)
        .unwrap_err();
    assert!(matches!(
        e,
        SendError::FirstHop {
            cause: Some(AddError::BelowMinimum(_)),
            ..
        }
    ));
}

#[test]
fn the_in_flight_cap_is_the_receiving_peers() {
    let capped = ChannelParams {
        max_htlc_value_in_flight_msat: Some(1_000_000),
        ..Default::default()
    };
    // Node 2's cap stops node 1's forward to it; node 3's stops node 2's.
    for (node, hop) in [(2, 0), (3, 1)] {
        let Outcome::Failed { failure, .. } = pay(with(node, capped), 2_000_000) else {
            panic!("above node {node}'s in-flight cap")
        };
        assert_eq!(failure.code, FailureCode::TemporaryChannelFailure);
        assert_eq!(failure.origin_hop, hop);
    }
    assert!(matches!(
        pay(with(2, capped), 900_000),
        Outcome::Settled { .. }
    ));
}
