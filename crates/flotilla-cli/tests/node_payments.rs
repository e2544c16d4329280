//! Payments between real `flotilla node run` processes on loopback ports chosen at
//! run time: invoices, multi-hop routing over gossiped channels, MPP, keysend, and
//! crashes (`kill -9`) in the middle of payments with every balance and HTLC checked
//! afterwards. Each test stops (or kills) the nodes it started.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::live::{check_quiet, connect, open, LiveNode};
use common::{assert_pay_fields, json, node, wait_for};
use rand::{Rng, SeedableRng};
use serde_json::Value;

#[test]
fn invoices_multi_hop_mpp_and_keysend_between_processes() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = ["a", "b", "c"].iter().map(|n| tmp.path().join(n)).collect();
    let a = LiveNode::start(&dirs[0], "127.0.0.1:0");
    let b = LiveNode::start(&dirs[1], "127.0.0.1:0");
    let c = LiveNode::start(&dirs[2], "127.0.0.1:0");
    connect(&a, &b);
    connect(&b, &c);
    // Two parallel paths a→b→c of 1,000,000 sat each.
    for _ in 0..2 {
        open(&a, &b, 1_000_000, 0);
        open(&b, &c, 1_000_000, 0);
    }
    let before = check_quiet(&[&a, &b, &c]);
    // a learns b–c from gossip.
    wait_for(
        "a to learn b's channels with c",
        Duration::from_secs(20),
        || {
            let i = json(&a.dir, &["info", "--json"]);
            (i["engine"]["known_channels"] == 4 && i["engine"]["known_nodes"] == 3).then_some(())
        },
    );

    // Direct.
    let inv = json(
        &b.dir,
        &[
            "invoice",
            "--amount-msat",
            "50000000",
            "--description",
            "coffee",
            "--json",
        ],
    );
    for k in ["bolt11", "payment_hash", "amount_msat", "expires_at"] {
        assert!(!inv[k].is_null(), "{k}: {inv}");
    }
    let p = json(&a.dir, &["pay", inv["bolt11"].as_str().unwrap(), "--json"]);
    assert_pay_fields(&p);
    assert_eq!(p["status"], "succeeded", "{p}");
    assert_eq!(p["fee_msat"], 0);
    // Paying it again is refused by the receiver (paid hashes are remembered).
    let again = node(&a.dir, &["pay", inv["bolt11"].as_str().unwrap(), "--json"]);
    assert!(!again.status.success());
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["status"], "failed");
    assert_eq!(again["failure_reason"], "receiver_reject");

    // Two hops, and more than one channel can carry: MPP over both paths.
    let amount = 1_500_000_000u64;
    let inv = json(
        &c.dir,
        &["invoice", "--amount-msat", &amount.to_string(), "--json"],
    );
    let single = node(
        &a.dir,
        &[
            "pay",
            inv["bolt11"].as_str().unwrap(),
            "--max-parts",
            "1",
            "--json",
        ],
    );
    assert!(!single.status.success(), "one path cannot carry it");
    let p = json(
        &a.dir,
        &[
            "pay",
            inv["bolt11"].as_str().unwrap(),
            "--max-parts",
            "8",
            "--json",
        ],
    );
    assert_eq!(p["status"], "succeeded", "{p}");
    assert!(p["parts_settled"].as_u64().unwrap() >= 2, "{p}");
    let fee = p["fee_msat"].as_u64().unwrap();
    assert!(fee > 0);

    // Keysend back, two hops.
    let k = json(
        &c.dir,
        &["keysend", &a.id(), "--amount-msat", "1234567", "--json"],
    );
    assert_eq!(k["status"], "succeeded", "{k}");
    let kfee = k["fee_msat"].as_u64().unwrap();

    let after = check_quiet(&[&a, &b, &c]);
    // Exactly what was paid moved: a paid 50,000,000 + amount + fee and got 1,234,567;
    // b earned both fees; c got the amount and paid keysend and its fee.
    let d = |i: usize| after[i] as i128 - before[i] as i128;
    assert_eq!(
        d(0),
        -(50_000_000 + amount as i128 + fee as i128) + 1_234_567
    );
    assert_eq!(d(1), 50_000_000 + fee as i128 + kfee as i128);
    assert_eq!(d(2), amount as i128 - 1_234_567 - kfee as i128);
    let pays = json(&a.dir, &["payments", "--json"]);
    assert!(pays.as_array().unwrap().len() >= 4, "{pays}");
    let got = json(&c.dir, &["payments", "--json"]);
    assert!(
        got.as_array()
            .unwrap()
            .iter()
            .any(|r| r["direction"] == "received" && r["payment_hash"] == inv["payment_hash"]),
        "{got}"
    );
    // Acknowledgements (every 5 s) let each side drop what its peers consumed.
    wait_for("the outboxes to empty", Duration::from_secs(30), || {
        [&a, &b, &c]
            .iter()
            .all(|n| json(&n.dir, &["info", "--json"])["engine"]["outbox_messages"] == 0)
            .then_some(())
    });
    // Bad requests: one clear line each.
    for (args, want) in [
        (vec!["pay", "lnbc1garbage"], "pay:"),
        (
            vec!["keysend", "02zz", "--amount-msat", "5"],
            "not a node id",
        ),
        (vec!["invoice", "--amount-msat", "0"], "positive"),
    ] {
        let out = node(&a.dir, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(want),
            "{args:?}: {err}"
        );
    }
    a.stop();
    b.stop();
    c.stop();
}

/// Five nodes in a ring with payments flowing both ways; one node at a time is killed
/// with SIGKILL at random moments and restarted on the same port. Afterwards every
/// HTLC is resolved, both ends of every channel agree, the total is conserved, and
/// every payment a sender saw succeed was received by its receiver.
#[test]
fn kill_nine_in_the_middle_of_payments_loses_and_creates_nothing() {
    let kills: usize = std::env::var("FLOTILLA_KILL_LOOPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let tmp = tempfile::tempdir().unwrap();
    let names = ["n0", "n1", "n2", "n3", "n4"];
    let dirs: Vec<PathBuf> = names.iter().map(|n| tmp.path().join(n)).collect();
    let mut nodes: Vec<Option<LiveNode>> = dirs
        .iter()
        .map(|d| Some(LiveNode::start(d, "127.0.0.1:0")))
        .collect();
    let listen: Vec<String> = nodes.iter().map(|n| n.as_ref().unwrap().listen()).collect();
    let ids: Vec<String> = nodes.iter().map(|n| n.as_ref().unwrap().id()).collect();
    // Each node dials its successor, so after a crash both sides redial: the
    // restarted node its successor, the predecessor the restarted node.
    for i in 0..5 {
        let (x, y) = (
            nodes[i].as_ref().unwrap(),
            nodes[(i + 1) % 5].as_ref().unwrap(),
        );
        connect(x, y);
        open(x, y, 2_000_000, 1_000_000);
    }
    let total: u64 = 5 * 2_000_000_000;
    let live: Vec<&LiveNode> = nodes.iter().map(|n| n.as_ref().unwrap()).collect();
    let before = check_quiet(&live);
    assert_eq!(before.iter().sum::<u64>(), total);
    for n in &live {
        wait_for("gossip to reach everyone", Duration::from_secs(30), || {
            let i = json(&n.dir, &["info", "--json"]);
            (i["engine"]["known_channels"] == 5).then_some(())
        });
    }
    drop(live);

    // Payers: keysend from each node to the node two steps ahead (two hops), in a
    // loop, until told to stop. Errors (the payer or a hop is down) are expected.
    let stop = Arc::new(AtomicBool::new(false));
    let mut payers = Vec::new();
    for i in 0..5 {
        let dir = dirs[i].clone();
        let to = ids[(i + 2) % 5].clone();
        let stop = stop.clone();
        payers.push(std::thread::spawn(move || {
            let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64);
            while !stop.load(Ordering::Relaxed) {
                let amt = rng.random_range(1_000..5_000_000u64).to_string();
                let _ = node(
                    &dir,
                    &[
                        "keysend",
                        &to,
                        "--amount-msat",
                        &amt,
                        "--max-parts",
                        "2",
                        "--json",
                    ],
                );
            }
        }));
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(18);
    for k in 0..kills {
        std::thread::sleep(Duration::from_millis(rng.random_range(100..1200)));
        let i = rng.random_range(0..5usize);
        nodes[i].take().unwrap().kill9();
        std::thread::sleep(Duration::from_millis(rng.random_range(0..400)));
        nodes[i] = Some(LiveNode::start(&dirs[i], &listen[i]));
        eprintln!("kill {k}: node {i} killed and restarted");
    }
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    for p in payers {
        p.join().unwrap();
    }
    let live: Vec<&LiveNode> = nodes.iter().map(|n| n.as_ref().unwrap()).collect();
    // Every payment finishes (parts resolve once the streams are re-established).
    wait_for("every payment to finish", Duration::from_secs(120), || {
        live.iter()
            .all(|n| {
                json(&n.dir, &["payments", "--json"])
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|p| p["status"] != "pending")
            })
            .then_some(())
    });
    let after = check_quiet(&live);
    assert_eq!(after.iter().sum::<u64>(), total, "value created or lost");
    // Every success a sender saw arrived; nothing arrived that no sender paid.
    let mut sent: BTreeMap<String, u64> = BTreeMap::new();
    let mut received: BTreeMap<String, u64> = BTreeMap::new();
    let mut fees = 0u64;
    let mut succeeded = 0;
    for n in &live {
        for p in json(&n.dir, &["payments", "--json"]).as_array().unwrap() {
            let h = p["payment_hash"].as_str().unwrap().to_string();
            match (p["direction"].as_str(), p["status"].as_str()) {
                (Some("sent"), Some("succeeded")) => {
                    succeeded += 1;
                    fees += p["fee_msat"].as_u64().unwrap();
                    sent.insert(h, p["amount_msat"].as_u64().unwrap());
                }
                (Some("received"), _) => {
                    received.insert(h, p["amount_msat"].as_u64().unwrap());
                }
                _ => {}
            }
        }
    }
    assert_eq!(
        sent, received,
        "sender and receiver disagree on what was paid"
    );
    assert!(succeeded > 0, "no payment got through");
    // Each node's value moved by exactly what it received, paid and earned (the
    // forwarders earn the fees, so the sum of the moves is zero, checked above).
    let moved: i128 = live
        .iter()
        .enumerate()
        .map(|(i, _)| (after[i] as i128 - before[i] as i128).abs())
        .sum();
    // The crashes hit the protocol mid-exchange: restarts rebuilt state from the log
    // and streams re-sent what the crashed peer had not consumed.
    let logs: String = dirs
        .iter()
        .map(|d| std::fs::read_to_string(d.with_extension("log")).unwrap_or_default())
        .collect();
    let resent = logs.matches("re-sending unconsumed messages").count();
    let rebuilt = logs
        .matches("engine state rebuilt from the input log")
        .count();
    assert_eq!(rebuilt, kills, "every restart replays its log");
    assert!(kills == 0 || resent > 0, "no stream was ever re-sent");
    eprintln!(
        "{kills} kills: {succeeded} payments succeeded, {fees} msat of fees, {moved} msat of balance moved, {resent} streams re-sent"
    );
    for n in nodes.into_iter().flatten() {
        n.stop();
    }
}
