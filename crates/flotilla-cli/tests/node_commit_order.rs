//! Nothing a node says leaves before the commit that covers it. Both nodes run with
//! every commit slowed to 400 ms (`FLOTILLA_TEST_COMMIT_DELAY_MS`, a slow disk), a
//! keysend goes from a to b, and the moment a's client hears `succeeded` both nodes
//! are killed with `kill -9`. Restarted alone (so no peer can re-send anything), a
//! must still know the payment succeeded and b that it received it: had a answered
//! its client, or b sent its fulfil, before the commit holding what they answered,
//! the kill would land inside the 400 ms and their logs would not have it. Then both
//! run together again and every channel adds up.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::live::{check_quiet, connect, open, LiveNode};
use common::{json, wait_for};
use serde_json::Value;

const SLOW: [(&str, &str); 1] = [("FLOTILLA_TEST_COMMIT_DELAY_MS", "400")];

fn payments(n: &LiveNode) -> Vec<Value> {
    json(&n.dir, &["payments", "--json"])
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn answers_and_peer_messages_wait_for_their_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = ["a", "b"].iter().map(|n| tmp.path().join(n)).collect();
    let a = LiveNode::start_env(&dirs[0], "127.0.0.1:0", &SLOW);
    let b = LiveNode::start_env(&dirs[1], "127.0.0.1:0", &SLOW);
    // Restarts keep the addresses, so a can redial b.
    let (a_at, b_at) = (a.listen(), b.listen());
    connect(&a, &b);
    open(&a, &b, 1_000_000, 0);
    let before = check_quiet(&[&a, &b]);
    let b_id = b.id();
    let paid = json(
        &a.dir,
        &["keysend", &b_id, "--amount-msat", "7000000", "--json"],
    );
    a.kill9();
    b.kill9();
    assert_eq!(paid["status"], "succeeded", "{paid}");
    let hash = paid["payment_hash"].as_str().unwrap().to_string();

    // a alone: its log holds the fulfil it told its client about.
    let a = LiveNode::start(&dirs[0], &a_at);
    let mine: Vec<Value> = payments(&a)
        .into_iter()
        .filter(|p| p["payment_hash"] == hash.as_str() && p["direction"] == "sent")
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["status"], "succeeded", "{mine:?}");
    a.kill9();

    // b alone: its log holds the input that made it fulfil.
    let b = LiveNode::start(&dirs[1], &b_at);
    let got: Vec<Value> = payments(&b)
        .into_iter()
        .filter(|p| p["payment_hash"] == hash.as_str() && p["direction"] == "received")
        .collect();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["amount_msat"], 7_000_000, "{got:?}");

    // Together again: the streams resume and both ends agree, value conserved.
    let a = LiveNode::start(&dirs[0], &a_at);
    wait_for("a and b to reconnect", Duration::from_secs(30), || {
        let i = json(&a.dir, &["info", "--json"]);
        (i["engine"]["streams_ready"] == 1).then_some(())
    });
    let after = check_quiet(&[&a, &b]);
    assert_eq!(before.iter().sum::<u64>(), after.iter().sum::<u64>());
    assert_eq!(after[0], before[0] - 7_000_000, "{before:?} {after:?}");
    for log in [a.log(), b.log()] {
        assert!(!log.contains("stream gap"), "{log}");
    }
    a.stop();
    b.stop();
}
