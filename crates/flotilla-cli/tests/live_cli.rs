//! `flotilla live`: a small scenario on real `flotilla node` processes (loopback ports
//! chosen at run time), checked payment by payment against `flotilla sim` on the same
//! scenario; the refusals; and that every process it started is gone afterwards, also
//! after Ctrl-C.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{bin, flotilla, wait_for};
use serde_json::Value;

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(name)
}

/// payments.csv as (payment → column → value).
fn rows(dir: &Path) -> BTreeMap<u64, BTreeMap<String, String>> {
    let text = std::fs::read_to_string(dir.join("payments.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            let r: BTreeMap<String, String> = header
                .iter()
                .zip(l.split(','))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            (r["payment"].parse().unwrap(), r)
        })
        .collect()
}

/// Whether process `pid` still exists.
fn alive(pid: u64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn pids(live_json: &Value) -> Vec<u64> {
    live_json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["pid"].as_u64().unwrap())
        .collect()
}

#[test]
fn live_outcomes_match_the_simulator_payment_by_payment() {
    let t = tempfile::tempdir().unwrap();
    let live = t.path().join("live");
    let sim = t.path().join("sim");
    let nodes = t.path().join("nodes");
    let sc = scenario("live-8.toml");
    let out = flotilla(&[
        "live",
        sc.to_str().unwrap(),
        "--out",
        live.to_str().unwrap(),
        "--nodes-dir",
        nodes.to_str().unwrap(),
        "--json",
        "--no-report",
    ]);
    assert!(
        out.status.success(),
        "flotilla live: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    assert_eq!(v["payments"], 30);
    assert_eq!(v["arms"][0]["name"], "mpp-retry");
    let live_json: Value =
        serde_json::from_str(&std::fs::read_to_string(live.join("live.json")).unwrap()).unwrap();
    // Every process stopped; the books balanced before they did.
    for pid in pids(&live_json) {
        assert!(!alive(pid), "node process {pid} still running");
    }
    assert_eq!(live_json["books"]["live_htlcs"], 0);
    assert_eq!(
        live_json["books"]["local_msat_sum"],
        live_json["books"]["capacity_msat_sum"]
    );
    assert_eq!(live_json["request_errors"].as_array().unwrap().len(), 0);
    // The results directory is a `flotilla sim` one: the report reads it, checksums
    // and all.
    let rep = flotilla(&["report", live.to_str().unwrap()]);
    assert!(
        rep.status.success(),
        "flotilla report: {}",
        String::from_utf8_lossy(&rep.stderr)
    );

    let out = flotilla(&[
        "sim",
        sc.to_str().unwrap(),
        "--out",
        sim.to_str().unwrap(),
        "--quiet",
        "--no-report",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (l, s) = (rows(&live), rows(&sim));
    assert_eq!(l.len(), 30);
    assert_eq!(
        l.keys().collect::<Vec<_>>(),
        s.keys().collect::<Vec<_>>(),
        "the same payments"
    );
    let mut settled = 0;
    for (i, lr) in &l {
        let sr = &s[i];
        for k in ["source", "destination", "amount_msat", "arm"] {
            assert_eq!(lr[k], sr[k], "payment {i}: {k}");
        }
        assert_eq!(
            lr["payment_outcome"], sr["payment_outcome"],
            "payment {i} ({} msat): live and simulated outcomes differ",
            lr["amount_msat"]
        );
        // Both failed: for the same reason, unless the simulator never sent a part
        // (its arm's one belief state, taught by earlier payments, ruled every route
        // out; a live payment starts with fresh beliefs and tries; docs/live.md).
        if lr["failure_reason"] != sr["failure_reason"] {
            assert_eq!(
                (sr["failure_reason"].as_str(), sr["parts_sent"].as_str()),
                ("no_route", "0"),
                "payment {i}: failed live for {} and simulated for {}",
                lr["failure_reason"],
                sr["failure_reason"]
            );
        }
        settled += usize::from(lr["payment_outcome"] == "Success");
    }
    // The workload is sized so that some payments fail for want of liquidity: the
    // comparison covers both outcomes.
    assert!(
        settled > 0 && settled < 30,
        "{settled} of 30 settled: the scenario no longer exercises failures"
    );
}

#[test]
fn live_refuses_what_it_cannot_reproduce() {
    let t = tempfile::tempdir().unwrap();
    let sc = scenario("live-8.toml");
    let big = common::ws(t.path());
    let graph = format!("graph.file={big:?}");
    let cases: [(&[&str], &str); 4] = [
        (&[&graph, "graph.liquidity=uniform"], "100 nodes"),
        (
            &["network.offline_share=0.2"],
            "network.offline_share: offline nodes",
        ),
        (
            &[
                "workload.kind=closed_loop",
                "workload.closed_loop.senders=5",
            ],
            "workload.kind",
        ),
        (&["sender.arms=[\"single-path-retry\"]"], "sender.arms"),
    ];
    for (sets, want) in cases {
        let mut args = vec!["live", sc.to_str().unwrap()];
        for s in sets {
            args.extend(["--set", s]);
        }
        let never = t.path().join("never");
        args.extend(["--out", never.to_str().unwrap()]);
        let out = flotilla(&args);
        let set = sets.join(" ");
        assert!(!out.status.success(), "--set {set} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "--set {set}: {err}");
        assert_eq!(err.lines().count(), 1, "one error line: {err}");
        assert!(
            !t.path().join("never").exists(),
            "nothing written for --set {set}"
        );
    }
}

#[test]
fn ctrl_c_stops_every_node() {
    let t = tempfile::tempdir().unwrap();
    let nodes = t.path().join("nodes");
    let out = t.path().join("live");
    let sc = scenario("live-8.toml");
    let mut child = Command::new(bin())
        .arg("live")
        .arg(&sc)
        .arg("--out")
        .arg(&out)
        .arg("--nodes-dir")
        .arg(&nodes)
        .args(["--set", "workload.payments=10000", "--quiet"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until all eight nodes run and some payments were made.
    let node_pids = wait_for("the nodes to start", Duration::from_secs(120), || {
        let pids: Vec<u64> = (0..8)
            .filter_map(|i| {
                let f = std::fs::read_to_string(nodes.join(format!("n{i:02}/node.json"))).ok()?;
                serde_json::from_str::<Value>(&f).ok()?["pid"].as_u64()
            })
            .collect();
        (pids.len() == 8).then_some(pids)
    });
    std::thread::sleep(Duration::from_secs(4));
    // SIGINT to the live command alone (a terminal's Ctrl-C would reach the nodes
    // too; this checks that the command itself stops them).
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let since = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            since.elapsed() < Duration::from_secs(60),
            "flotilla live did not stop after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(err.contains("interrupted"), "{err}");
    for pid in node_pids {
        assert!(!alive(pid), "node process {pid} still running after SIGINT");
    }
    // The results directory says why it is incomplete.
    let marker = std::fs::read_to_string(out.join("INCOMPLETE")).unwrap();
    assert!(marker.contains("interrupted"), "{marker}");
}
