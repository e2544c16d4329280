//! The redundant flow's endpoint messages as onion messages between real
//! `flotilla node run` processes: sender and receiver at the two ends of a line of
//! four nodes, never connected to each other. Every lock pays with surplus parts,
//! the claim request and the reveal cross the two nodes between them as BOLT 4
//! onion messages, every balance is conserved, and neither end ever has the other
//! as a peer (so neither learns the other's address).

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::live::{check_quiet, connect, open, pay, redundant_invoice, LiveNode};
use common::{assert_pay_fields, json, wait_for};
use serde_json::Value;

fn peer_ids(n: &LiveNode) -> Vec<String> {
    json(&n.dir, &["peers", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["node_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn redundant_payments_cross_a_line_with_onion_messages_and_no_direct_connection() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = |n: &str| -> PathBuf { tmp.path().join(n) };
    // s – a – b – r: each node connects only to its neighbours.
    let s = LiveNode::start(&dir("s"), "127.0.0.1:0");
    let a = LiveNode::start(&dir("a"), "127.0.0.1:0");
    let b = LiveNode::start(&dir("b"), "127.0.0.1:0");
    let r = LiveNode::start(&dir("r"), "127.0.0.1:0");
    for (x, y) in [(&s, &a), (&a, &b), (&b, &r)] {
        connect(x, y);
        open(x, y, 2_000_000, 0);
    }
    for n in [&s, &r] {
        wait_for(
            "the whole line to be known",
            Duration::from_secs(30),
            || {
                let i = json(&n.dir, &["info", "--json"]);
                (i["engine"]["known_channels"] == 3 && i["engine"]["known_nodes"] == 4)
                    .then_some(())
            },
        );
    }
    // Every node advertises onion messages (bit 39) to its peers.
    for p in json(&a.dir, &["peers", "--json"]).as_array().unwrap() {
        let f = p["features"].as_str().unwrap();
        assert_eq!(&f[f.len() - 10..f.len() - 8], "80", "{p}");
    }
    let nodes = [&s, &a, &b, &r];
    let before = check_quiet(&nodes);
    let amount = 40_000_000u64;
    let mut fees = 0;
    for lock in ["sender_hash", "h2tlc", "boomerang"] {
        let (inv, pay_args) = redundant_invoice(&r, amount, lock);
        let p = pay(&s, &pay_args);
        assert_pay_fields(&p);
        assert_eq!(p["status"], "succeeded", "{lock}: {p}\n{}", r.log());
        assert_eq!(p["parts_settled"], 2, "{lock}: {p}");
        assert!(p["parts_sent"].as_u64().unwrap() >= 3, "{lock}: {p}");
        assert!(p["parts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["hops"] == 3));
        fees += p["fee_msat"].as_u64().unwrap();
        // Wait until the surplus came back before the next payment.
        wait_for("the surplus to come back", Duration::from_secs(60), || {
            let rows = json(&s.dir, &["payments", "--json"]);
            rows.as_array()
                .unwrap()
                .iter()
                .any(|x| {
                    x["payment_hash"] == inv["payment_hash"]
                        && x["redundant"]["parts_in_flight"] == 0
                })
                .then_some(())
        });
        let got = json(&r.dir, &["payments", "--json"]);
        assert!(
            got.as_array()
                .unwrap()
                .iter()
                .any(|x| x["direction"] == "received"
                    && x["payment_hash"] == inv["payment_hash"]
                    && x["amount_msat"] == amount),
            "{lock}: {got}"
        );
    }
    let after = check_quiet(&nodes);
    assert_eq!(after.iter().sum::<u64>(), before.iter().sum::<u64>());
    assert_eq!(after[3], before[3] + 3 * amount, "exactly A per payment");
    assert_eq!(after[0], before[0] - 3 * amount - fees);
    // The claim requests (sender_hash, h2tlc) went r → b → a → s and the reveals
    // back, as onion messages; the receiver's pending claims are all answered.
    let ri = json(&r.dir, &["info", "--json"]);
    let si = json(&s.dir, &["info", "--json"]);
    let sent = |i: &Value, m: &str| i["onion_messages"]["endpoint"]["sent"][m].as_u64();
    let got = |i: &Value, m: &str| i["onion_messages"]["endpoint"]["received"][m].as_u64();
    assert!(sent(&ri, "claim_request") >= Some(2), "{ri}");
    assert!(got(&si, "claim_request") >= Some(2), "{si}");
    assert!(sent(&si, "reveal_secrets") >= Some(2), "{si}");
    assert!(got(&ri, "reveal_secrets") >= Some(2), "{ri}");
    assert_eq!(
        ri["onion_messages"]["claims"]["claims_awaiting_answer"], 0,
        "{ri}"
    );
    // No endpoint message rode a peer stream.
    assert!(
        ri["messages"]["received"]["reveal_secrets"].is_null(),
        "{ri}"
    );
    assert!(
        si["messages"]["received"]["claim_request"].is_null(),
        "{si}"
    );
    // Neither end ever connected to the other.
    assert!(!peer_ids(&r).contains(&s.id()), "{:?}", peer_ids(&r));
    assert!(!peer_ids(&s).contains(&r.id()), "{:?}", peer_ids(&s));
    for n in [s, a, b, r] {
        n.stop();
    }
}
