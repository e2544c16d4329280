//! Redundant overpayment between real `flotilla node run` processes on loopback:
//! each lock (`sender_hash`, `h2tlc`, `boomerang`) pays across two hops with surplus
//! parts, the receiver claims exactly A, the sender cancels the surplus, and every
//! balance is conserved; then the receiver is killed with SIGKILL in the middle of a
//! payment, restarted, and the books are checked again.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::live::{check_quiet, connect, open, pay, redundant_invoice, LiveNode};
use common::{assert_pay_fields, json, node, wait_for};
use serde_json::Value;

/// Five nodes: the sender `s` and the receiver `r` joined by three disjoint two-hop
/// paths (through `a`, `b`, `c`); `s` and `r` are not connected: the endpoint
/// messages travel as onion messages through the hops.
struct Net {
    _tmp: tempfile::TempDir,
    s: LiveNode,
    a: LiveNode,
    b: LiveNode,
    c: LiveNode,
    r: LiveNode,
}

fn network() -> Net {
    let tmp = tempfile::tempdir().unwrap();
    let dir = |n: &str| -> PathBuf { tmp.path().join(n) };
    let s = LiveNode::start(&dir("s"), "127.0.0.1:0");
    let a = LiveNode::start(&dir("a"), "127.0.0.1:0");
    let b = LiveNode::start(&dir("b"), "127.0.0.1:0");
    let c = LiveNode::start(&dir("c"), "127.0.0.1:0");
    let r = LiveNode::start(&dir("r"), "127.0.0.1:0");
    for hop in [&a, &b, &c] {
        connect(&s, hop);
        connect(hop, &r);
        open(&s, hop, 1_000_000, 0);
        open(hop, &r, 1_000_000, 0);
    }
    for n in [&s, &r] {
        wait_for(
            "the whole graph to be known",
            Duration::from_secs(30),
            || {
                let i = json(&n.dir, &["info", "--json"]);
                (i["engine"]["known_channels"] == 6 && i["engine"]["known_nodes"] == 5)
                    .then_some(())
            },
        );
    }
    Net {
        _tmp: tmp,
        s,
        a,
        b,
        c,
        r,
    }
}

impl Net {
    fn all(&self) -> [&LiveNode; 5] {
        [&self.s, &self.a, &self.b, &self.c, &self.r]
    }
}

/// The payment with this hash in `payments --json`, once no part is in flight.
fn settled_row(n: &LiveNode, hash: &Value) -> Value {
    wait_for(
        "the surplus parts to come back",
        Duration::from_secs(90),
        || {
            let rows = json(&n.dir, &["payments", "--json"]);
            rows.as_array()
                .unwrap()
                .iter()
                .find(|p| p["direction"] == "sent" && p["payment_hash"] == *hash)
                .filter(|p| p["redundant"]["parts_in_flight"] == 0)
                .cloned()
        },
    )
}

#[test]
fn every_lock_pays_two_hops_redundantly_and_survives_a_receiver_crash() {
    let net = network();
    let before = check_quiet(&net.all());
    let total: u64 = before.iter().sum();
    let amount = 30_000_000u64;
    let mut paid = 0u64;
    let mut fees = 0u64;
    for lock in ["sender_hash", "h2tlc", "boomerang"] {
        let (inv, args) = redundant_invoice(&net.r, amount, lock);
        let p = pay(&net.s, &args);
        assert_pay_fields(&p);
        assert_eq!(p["status"], "succeeded", "{lock}: {p}");
        assert_eq!(p["amount_msat"], amount);
        // k = 2 parts of A/2, and ⌈2·1.5⌉ = 3 sent: exactly two settle.
        assert_eq!(p["parts_settled"], 2, "{lock}: {p}");
        assert!(p["parts_sent"].as_u64().unwrap() >= 3, "{lock}: {p}");
        assert!(p["failure_reason"].is_null());
        // Two hops: the middle node charges its fee on each settled part.
        let fee = p["fee_msat"].as_u64().unwrap();
        assert!(fee > 0, "{p}");
        let row = settled_row(&net.s, &inv["payment_hash"]);
        assert_eq!(row["redundant"]["lock"], lock);
        assert_eq!(row["redundant"]["settled_msat"], amount, "{row}");
        assert_eq!(row["redundant"]["overpaid_msat"], 0, "{row}");
        let parts = row["parts"].as_array().unwrap();
        assert_eq!(parts.len() as u64, row["parts_sent"].as_u64().unwrap());
        assert_eq!(
            parts.iter().filter(|x| x["status"] == "settled").count(),
            2,
            "{row}"
        );
        assert!(
            parts
                .iter()
                .all(|x| x["status"] == "settled" || x["status"] == "surplus"),
            "{row}"
        );
        assert!(parts.iter().all(|x| x["hops"] == 2), "{row}");
        // The receiver got exactly A.
        let got = json(&net.r.dir, &["payments", "--json"]);
        let rec = got
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["direction"] == "received" && x["payment_hash"] == inv["payment_hash"])
            .unwrap_or_else(|| panic!("{lock}: not received: {got}"))
            .clone();
        assert_eq!(rec["amount_msat"], amount, "{rec}");
        paid += amount;
        fees += fee;
    }
    let after = check_quiet(&net.all());
    assert_eq!(after.iter().sum::<u64>(), total, "value conserved");
    assert_eq!(
        after[0],
        before[0] - paid - fees,
        "the sender paid A + fees"
    );
    assert_eq!(
        after[4],
        before[4] + paid,
        "the receiver got exactly A per payment"
    );
    assert_eq!(
        after[1] + after[2] + after[3],
        before[1] + before[2] + before[3] + fees,
        "the hops earned the fees"
    );

    // Bad requests: one clear line each.
    let (inv, _) = redundant_invoice(&net.r, amount, "boomerang");
    for (args, want) in [
        (
            vec![
                "pay",
                inv["bolt11"].as_str().unwrap(),
                "--redundancy",
                "0.5",
            ],
            "go together",
        ),
        (
            vec![
                "pay",
                inv["bolt11"].as_str().unwrap(),
                "--redundancy",
                "0.5",
                "--lock",
                "boomerang",
            ],
            "--commitments",
        ),
        (
            vec![
                "pay",
                inv["bolt11"].as_str().unwrap(),
                "--redundancy",
                "0.5",
                "--lock",
                "hash",
            ],
            "not a redundant lock",
        ),
        (vec!["invoice", "--lock", "h2tlc"], "needs --amount-msat"),
        (
            vec![
                "invoice",
                "--amount-msat",
                "1001",
                "--lock",
                "boomerang",
                "--parts",
                "2",
            ],
            "divide",
        ),
    ] {
        let out = node(&net.s.dir, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(want),
            "{args:?}: {err}"
        );
    }

    // The receiver is killed in the middle of a payment and restarted on its port:
    // first as soon as it holds a part, then at other moments.
    let Net {
        _tmp,
        s,
        a,
        b,
        c,
        mut r,
    } = net;
    let mut before = after;
    for (round, delay_ms) in [None, Some(0u64), Some(15), Some(60)]
        .into_iter()
        .enumerate()
    {
        let lock = ["h2tlc", "sender_hash", "boomerang", "h2tlc"][round];
        let (mut inv, mut args) = redundant_invoice(&r, amount, lock);
        let r_dir = r.dir.clone();
        let r_listen = r.listen();
        let start = |args: Vec<String>| {
            let dir = s.dir.clone();
            std::thread::spawn(move || {
                let argv: Vec<&str> = args.iter().map(String::as_str).collect();
                let out = node(&dir, &argv);
                serde_json::from_slice::<Value>(&out.stdout).unwrap()
            })
        };
        let mut payer = start(args.clone());
        match delay_ms {
            // Mid-payment for sure: the receiver holds an HTLC. A payment can finish
            // between two looks; then another is watched (each one is checked).
            None => {
                let mut tries = 0;
                loop {
                    let held = r
                        .channels()
                        .iter()
                        .any(|ch| ch["pending_htlcs"].as_u64() > Some(0));
                    if held {
                        break;
                    }
                    if payer.is_finished() {
                        let p = payer.join().unwrap();
                        assert_eq!(p["status"], "succeeded", "{p}");
                        settled_row(&s, &inv["payment_hash"]);
                        before = check_quiet(&[&s, &a, &b, &c, &r]);
                        assert_eq!(before.iter().sum::<u64>(), total);
                        tries += 1;
                        assert!(tries < 20, "never saw the receiver hold a part");
                        (inv, args) = redundant_invoice(&r, amount, lock);
                        payer = start(args.clone());
                    }
                }
            }
            Some(ms) => std::thread::sleep(Duration::from_millis(ms)),
        }
        r.kill9();
        r = LiveNode::start(&r_dir, &r_listen);
        let p = payer.join().unwrap();
        let nodes = [&s, &a, &b, &c, &r];
        // Whatever the crash interrupted, every HTLC resolves and nothing is lost.
        let row = settled_row(&s, &inv["payment_hash"]);
        let after = check_quiet(&nodes);
        assert_eq!(after.iter().sum::<u64>(), total, "value conserved: {p}");
        let got = json(&r.dir, &["payments", "--json"]);
        let received = got
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["direction"] == "received" && x["payment_hash"] == inv["payment_hash"]);
        eprintln!(
            "crash {round} ({lock}, {delay_ms:?} ms): {} after {} parts sent",
            row["status"], row["parts_sent"]
        );
        match row["status"].as_str().unwrap() {
            "succeeded" => {
                assert!(received, "{got}");
                assert_eq!(after[4], before[4] + amount, "{row}");
                let fee = row["fee_msat"].as_u64().unwrap();
                assert_eq!(after[0], before[0] - amount - fee, "{row}");
            }
            "failed" => {
                assert!(!received, "{got}");
                assert_eq!(after[4], before[4], "{row}");
                assert_eq!(after[0], before[0], "{row}");
            }
            other => panic!("{other}: {row}"),
        }
        before = after;
    }
    for n in [s, a, b, c, r] {
        n.stop();
    }
}
