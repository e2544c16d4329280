//! The Boomerang paper's reserve answers for paper arms: a refusal is known to the
//! sender the moment a hop refuses (as an arrival is), the transfer then gives up at
//! once if it cannot make v any more and aborts what still travels, and a closed-loop
//! sender starts its next transfer only when every part of the last has its answer.
//!
//! The graph has two edge-disjoint routes from S to R: S→A→R (2 hops) and S→B→C→R
//! (3 hops); one side of the first is empty. Adds take 100 ms per hop and the fails
//! and fulfils travelling back 1,000 ms, so that "known at the refusal" and "known
//! when the failure is back" are far apart. v = 2 parts per transfer, each on one of
//! the two routes drawn uniformly.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::sync::atomic::AtomicU64;

use flotilla_sim::experiment::Experiment;
use flotilla_sim::output::open_attempts;
use flotilla_sim::scenario::Scenario;

/// Transfers in the closed loop (one sender, one at a time).
const TRANSFERS: usize = 40;

/// Which side of the short route holds nothing.
#[derive(Copy, Clone)]
enum Empty {
    /// S→A: a part drawn on the short route is refused by the sender's own channel.
    FirstHop,
    /// A→R: the part is refused by A, one hop out.
    SecondHop,
}

/// Writes the graph (CLoTH format; node ids are their aliases: S=0, A=1, B=2, C=3,
/// R=4), the transfers file and the scenario into `dir`.
fn scenario(dir: &Path, empty: Empty, arms: &[&str]) -> Scenario {
    let g = dir.join("graph");
    std::fs::create_dir_all(&g).unwrap();
    std::fs::write(g.join("nodes.csv"), "id\n0\n1\n2\n3\n4\n").unwrap();
    let big = 1_000_000_000u64;
    // (from, to, balance from's side, balance to's side)
    let channels = [
        (
            0,
            1,
            if matches!(empty, Empty::FirstHop) {
                0
            } else {
                big
            },
            big,
        ),
        (
            1,
            4,
            if matches!(empty, Empty::SecondHop) {
                0
            } else {
                big
            },
            big,
        ),
        (0, 2, big, big),
        (2, 3, big, big),
        (3, 4, big, big),
    ];
    let mut ch = String::from("id,edge1_id,edge2_id,node1_id,node2_id,capacity\n");
    let mut ed = String::from(
        "id,channel_id,counter_edge_id,from_node_id,to_node_id,balance,fee_base,\
         fee_proportional,min_htlc,timelock\n",
    );
    for (i, (a, b, ab, ba)) in channels.iter().enumerate() {
        let (e1, e2) = (2 * i, 2 * i + 1);
        ch.push_str(&format!("{i},{e1},{e2},{a},{b},{}\n", ab + ba));
        ed.push_str(&format!("{e1},{i},{e2},{a},{b},{ab},0,0,1000,40\n"));
        ed.push_str(&format!("{e2},{i},{e1},{b},{a},{ba},0,0,1000,40\n"));
    }
    std::fs::write(g.join("channels.csv"), ch).unwrap();
    std::fs::write(g.join("edges.csv"), ed).unwrap();
    let mut seq = String::from("source,destination,amount_msat\n");
    for _ in 0..TRANSFERS {
        seq.push_str("0,4,2000000\n");
    }
    let f = dir.join("transfers.csv");
    std::fs::write(&f, seq).unwrap();
    let arms: Vec<String> = arms.iter().map(|a| format!("{a:?}")).collect();
    let text = format!(
        r#"
seed = 3
[graph]
file = "{graph}"
liquidity = "file"
[workload]
kind = "closed_loop"
file = "{file}"
[network.channel]
channel_reserve_ppm = 0
[network.latency]
model = "constant"
ms = 100
[network.latency_by_message]
fail = {{ model = "constant", ms = 1000 }}
fulfill = {{ model = "constant", ms = 1000 }}
claim_request = {{ model = "zero" }}
reveal = {{ model = "zero" }}
cancel = {{ model = "zero" }}
[oracle]
enabled = false
[sender]
arms = [{arms}]
redundant_base_parts = 2
cancel_surplus = "instant"
"#,
        graph = g.display(),
        file = f.display(),
        arms = arms.join(", "),
    );
    Scenario::from_toml(&text, "answers.toml").unwrap()
}

/// One payments.csv row.
#[derive(Debug)]
struct Row {
    arm: String,
    payment: u64,
    succeeded: bool,
    parts_sent: u64,
    attempts: u64,
    start_ms: f64,
    ttc_ms: Option<f64>,
    tto_ms: f64,
}

fn run(dir: &Path, empty: Empty, arms: &[&str]) -> (Vec<Row>, Vec<serde_json::Value>) {
    let exp = Experiment::prepare(scenario(dir, empty, arms), Path::new("unused")).unwrap();
    let out = dir.join("out");
    exp.run(&out, 1, &AtomicU64::new(0)).unwrap();
    let mut rdr = csv::Reader::from_path(out.join("payments.csv")).unwrap();
    let h = rdr.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let rows = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            let ttc = &r[col("ttc_ms")];
            Row {
                arm: r[col("arm")].to_string(),
                payment: r[col("payment")].parse().unwrap(),
                succeeded: &r[col("payment_outcome")] == "Success",
                parts_sent: r[col("parts_sent")].parse().unwrap(),
                attempts: r[col("attempts")].parse().unwrap(),
                start_ms: r[col("dispatch_time")].parse::<f64>().unwrap() * 1e3,
                ttc_ms: (!ttc.is_empty()).then(|| ttc.parse().unwrap()),
                tto_ms: r[col("tto_ms")].parse().unwrap(),
            }
        })
        .collect();
    let (_, r) = open_attempts(&out).unwrap().unwrap();
    let attempts = r
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    (rows, attempts)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// Each arm's rows in payment order (one sender: its sequence).
fn by_arm(rows: Vec<Row>) -> HashMap<String, Vec<Row>> {
    let mut m: HashMap<String, Vec<Row>> = HashMap::new();
    for r in rows {
        m.entry(r.arm.clone()).or_default().push(r);
    }
    for v in m.values_mut() {
        v.sort_by_key(|r| r.payment);
        assert_eq!(v.len(), TRANSFERS);
    }
    m
}

/// The sender's next transfer starts when the last one's time to outcome ends (every
/// part answered), no sooner and no later.
fn assert_next_starts_when_answered(rows: &[Row]) {
    for w in rows.windows(2) {
        assert!(
            close(w[1].start_ms, w[0].start_ms + w[0].tto_ms),
            "{:?} then {:?}",
            w[0],
            w[1]
        );
    }
}

/// No part of a failed transfer reached the receiver: each was refused where the route
/// lacks liquidity or stopped by the abort on its way.
fn assert_failed_parts_never_reach_the_receiver(rows: &[Row], attempts: &[serde_json::Value]) {
    let arm = &rows[0].arm;
    let failed: Vec<u64> = rows
        .iter()
        .filter(|r| !r.succeeded)
        .map(|r| r.payment)
        .collect();
    let mut left = 0;
    for a in attempts
        .iter()
        .filter(|a| a["arm"] == arm.as_str() && failed.contains(&a["payment"].as_u64().unwrap()))
    {
        let hops = a["hops"].as_array().unwrap().len() as u64;
        if let Some(origin) = a["origin_hop"].as_u64() {
            left += 1;
            assert!(origin + 1 < hops, "{arm}: a part reached the receiver: {a}");
        }
    }
    assert!(left > 0, "{arm}: no failed transfer sent a part out");
}

#[test]
fn a_refusal_one_hop_out_is_known_at_once_and_the_rest_is_aborted() {
    let t = tempfile::tempdir().unwrap();
    let (rows, attempts) = run(
        t.path(),
        Empty::SecondHop,
        &["paper-retry-0", "paper-retry-5"],
    );
    let arms = by_arm(rows);
    for (arm, rows) in &arms {
        assert!(rows.iter().any(|r| r.succeeded), "{arm}");
        assert!(rows.iter().any(|r| !r.succeeded), "{arm}");
        assert_next_starts_when_answered(rows);
        for r in rows.iter().filter(|r| r.succeeded) {
            // Both parts on the long route: v there after 3 hops of 100 ms.
            assert!(close(r.ttc_ms.unwrap(), 300.0), "{r:?}");
            assert!(close(r.tto_ms, 300.0), "{r:?}");
        }
    }
    // r = 0: the refusal at A (100 ms out) decides the transfer; the other part, if on
    // the long route, is stopped by the abort within its hop (at B at 100 ms or at C at
    // 200 ms). Known only when A's failure is back, it would be 1,100 ms.
    assert_failed_parts_never_reach_the_receiver(&arms["paper-retry-0"], &attempts);
    for r in arms["paper-retry-0"].iter().filter(|r| !r.succeeded) {
        assert!(r.tto_ms <= 200.0 + 1e-6, "{r:?}");
        assert_eq!(r.attempts, 2, "{r:?}");
    }
    // r = 5: a refused part is replaced only when its failure is back (1,100 ms); by
    // then nothing travels (its sibling arrived at 300 ms, or was refused too at
    // 100 ms) and the paper's sender has given up, retries or not. (A part that
    // arrived is then failed back by the receiver on the sender's cancel.)
    for r in arms["paper-retry-5"].iter().filter(|r| !r.succeeded) {
        assert!(close(r.tto_ms, 100.0) || close(r.tto_ms, 300.0), "{r:?}");
        assert_eq!(r.attempts, 2, "{r:?}");
    }
}

#[test]
fn after_a_first_hop_refusal_the_next_transfer_waits_for_the_parts_that_left() {
    let t = tempfile::tempdir().unwrap();
    let (rows, attempts) = run(t.path(), Empty::FirstHop, &["paper-retry-0"]);
    let arms = by_arm(rows);
    let rows = &arms["paper-retry-0"];
    assert_next_starts_when_answered(rows);
    assert_failed_parts_never_reach_the_receiver(rows, &attempts);
    let mut waited = 0;
    for r in rows.iter().filter(|r| !r.succeeded) {
        if r.parts_sent == 0 {
            // Both parts refused by the sender's own channel: every answer is in at
            // once, and so is the next transfer.
            assert!(close(r.tto_ms, 0.0), "{r:?}");
        } else {
            // The part refused at S decides the transfer at once; the one that left
            // is stopped at B, its first hop, when its add arrives there (100 ms), and
            // only then does the next transfer start.
            assert!(close(r.tto_ms, 100.0), "{r:?}");
            waited += 1;
        }
    }
    assert!(
        waited > 0,
        "no transfer had a part refused and another sent"
    );
}
