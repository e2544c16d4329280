//! Node announcements: flooded, newest kept, forgeries ignored, and a redundant
//! payment's route kept off every node that does not announce its lock.

use super::*;
use crate::engine::node_gossip::NodeAnnouncement;
use crate::features::{H2TLC_BIT, POINT_LOCK_BIT};

/// BOLT 9 feature bytes with `bits` set.
fn features(bits: &[usize]) -> Vec<u8> {
    let len = bits.iter().max().map_or(0, |b| b / 8 + 1);
    let mut f = vec![0u8; len];
    for b in bits {
        f[len - 1 - b / 8] |= 1 << (b % 8);
    }
    f
}

fn announce(net: &mut Net, at: usize, bits: &[usize]) {
    net.apply(
        at,
        Input::SelfAnnounce {
            alias: format!("node {at}"),
            features: features(bits),
        },
    )
    .unwrap();
    net.run();
}

/// A line 0 – 1 – 2 – 3, each announcing itself; node 2 (not a peer of the sender)
/// without the h2tlc bit.
fn line() -> Net {
    let mut net = Net::new(4);
    for i in 0..3 {
        net.open(i, i + 1, i as u8 + 1, 1_000_000);
    }
    for i in 0..4 {
        let bits: &[usize] = if i == 2 {
            &[POINT_LOCK_BIT]
        } else {
            &[H2TLC_BIT, POINT_LOCK_BIT]
        };
        announce(&mut net, i, bits);
    }
    net
}

#[test]
fn node_announcements_flood_and_the_newest_is_kept() {
    let mut net = line();
    // Node 0 heard of node 3 through two relays.
    let a = net.engines[0]
        .node_announcement(&net.keys[3])
        .unwrap()
        .clone();
    assert_eq!(a.alias, "node 3");
    assert!(node_gossip::has_bit(&a.features, H2TLC_BIT));
    let old = net.engines[0]
        .node_announcement(&net.keys[2])
        .unwrap()
        .clone();
    // An older announcement of node 2 does not replace the newer, nor is it relayed.
    let stale = NodeAnnouncement {
        timestamp: old.timestamp - 1,
        features: features(&[H2TLC_BIT]),
        ..old.clone()
    };
    let secret2 = SecretKey::from_slice(&[3; 32]).unwrap();
    let n = net.queue.len();
    net.apply(
        0,
        Input::NodeAnnounce {
            from: Some(net.keys[1]),
            bytes: stale.sign(&secret2),
        },
    )
    .unwrap();
    assert_eq!(net.engines[0].node_announcement(&net.keys[2]), Some(&old));
    assert_eq!(net.queue.len(), n, "not relayed");
    // A newer one signed by another key: warned about, ignored.
    let forged = NodeAnnouncement {
        timestamp: old.timestamp + 100,
        ..stale.clone()
    };
    net.apply(
        0,
        Input::NodeAnnounce {
            from: Some(net.keys[1]),
            bytes: forged.sign(&SecretKey::from_slice(&[9; 32]).unwrap()),
        },
    )
    .unwrap();
    assert_eq!(net.engines[0].node_announcement(&net.keys[2]), Some(&old));
    assert!(net
        .warnings
        .iter()
        .any(|(i, w)| *i == 0 && w.contains("node_announce: the signature")));
    // A node nobody has a channel with is not kept.
    let stranger = SecretKey::from_slice(&[42; 32]).unwrap();
    let s = NodeAnnouncement {
        node: PublicKey::from_secret_key(&Secp256k1::new(), &stranger),
        timestamp: 5,
        alias: "x".into(),
        features: Vec::new(),
    };
    net.apply(
        0,
        Input::NodeAnnounce {
            from: Some(net.keys[1]),
            bytes: s.sign(&stranger),
        },
    )
    .unwrap();
    assert!(net.engines[0].node_announcement(&s.node).is_none());
    // A replay rebuilds what was kept.
    let r = net.replayed(0);
    assert_eq!(r.node_announcement(&net.keys[2]), Some(&old));
}

#[test]
fn a_redundant_payment_avoids_a_hop_without_the_lock_anywhere_on_the_path() {
    let mut net = line();
    let before = net.values();
    // h2tlc: node 2, two hops away, lacks the bit; the only path goes through it,
    // so nothing is sent.
    let (inv, ask) = net.redundant_invoice(3, 20_000_000, LockKind::H2tlc);
    net.pay_redundant(0, 3, &inv, ask, 1);
    let p = net.engines[0].payment_json(1).unwrap();
    assert_eq!(p["status"], "failed", "{p}");
    assert_eq!(p["failure_reason"], "lock_unsupported", "{p}");
    assert_eq!(p["parts_sent"], 0, "{p}");
    assert_eq!(net.values(), before);
    // Boomerang (point locks): node 2 has that bit, the payment goes through.
    let (inv, ask) = net.redundant_invoice(3, 20_000_000, LockKind::Boomerang);
    net.pay_redundant(0, 3, &inv, ask, 2);
    let p = net.engines[0].payment_json(2).unwrap();
    assert_eq!(p["status"], "succeeded", "{p}");
    // Node 2 announces h2tlc anew (a newer announcement): now h2tlc goes through.
    announce(&mut net, 2, &[H2TLC_BIT, POINT_LOCK_BIT]);
    let (inv, ask) = net.redundant_invoice(3, 20_000_000, LockKind::H2tlc);
    net.pay_redundant(0, 3, &inv, ask, 3);
    let p = net.engines[0].payment_json(3).unwrap();
    assert_eq!(p["status"], "succeeded", "{p}");
    for e in &net.engines {
        e.check().unwrap();
        assert_eq!(e.live_htlcs(), 0);
    }
    net.replayed(0);
}
