//! CLoTH's setup end to end, on a small network in CLoTH's format: the shipped
//! `scenarios/cloth-compat.toml` with its files given by `--set`, the `cloth` preset
//! in the effective scenario, no attempt refused at the sender's own channel (a sender
//! knows what its channels can send), and `scripts/cloth_pair.py` pairing a CLoTH
//! output with the run.
//!
//! The pairing part needs `python3`; CI sets `FLOTILLA_REQUIRE_PYTHON=1` so that a
//! missing interpreter fails the test instead of skipping it.

mod common;
use common::*;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A 100-node Watts–Strogatz network in CLoTH's three CSVs (balances of 100k–1M sat a
/// side) and a CLoTH payments file of 300 payments of 20k–600k sat, large enough that
/// senders' own channels often cannot carry them.
fn cloth_setup(dir: &Path) -> (String, String) {
    let net = dir.join("net");
    let out = flotilla(&[
        "graph",
        "generate",
        "watts-strogatz",
        "--seed",
        "3",
        "--to",
        "cloth",
        "-o",
        net.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A fixed linear congruential sequence: the file is the same on every run.
    let mut x: u64 = 12345;
    let mut next = |m: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % m
    };
    let mut csv = String::from("id,sender_id,receiver_id,amount,start_time\n");
    let mut t = 0;
    for i in 0..300 {
        let s = next(100);
        let mut d = next(100);
        while d == s {
            d = next(100);
        }
        t += 1 + next(400);
        let amount = 20_000_000 + next(580_000_000);
        writeln!(csv, "{i},{s},{d},{amount},{t}").unwrap();
    }
    let payments = dir.join("payments.csv");
    std::fs::write(&payments, csv).unwrap();
    (net.display().to_string(), payments.display().to_string())
}

fn run(out: &Path, graph: &str, payments: &str, extra: &[&str]) {
    let scenario = root().join("scenarios/cloth-compat.toml");
    let g = format!("graph.file={graph}");
    let w = format!("workload.file={payments}");
    let mut args = vec![
        "sim",
        scenario.to_str().unwrap(),
        "--set",
        &g,
        "--set",
        &w,
        "--attempts",
        "full",
        "--no-report",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = flotilla(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// (arm, payment) of every attempt the sender's own channel refused: failed at hop 0
/// at the instant it was sent.
fn refused_at_sender(dir: &Path) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(dir.join("attempts.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["failed_hop"] == 0 && r["sent_ms"] == r["resolved_ms"])
        .map(|r| {
            (
                r["arm"].as_str().unwrap().to_string(),
                r["payment"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn cloth_compat_runs_cloths_model_and_senders_know_their_channels() {
    let t = tempfile::tempdir().unwrap();
    let (graph, payments) = cloth_setup(t.path());

    let out = t.path().join("compat");
    run(&out, &graph, &payments, &[]);
    let effective = std::fs::read_to_string(out.join("scenario.toml")).unwrap();
    for line in [
        "preset = \"cloth\"",
        "channel_reserve_ppm = 0",
        "model = \"constant\"",
        "ms = 100",
        "timeout_secs = 60",
        "fee_limit_ppm = 1000000",
        "liquidity = \"file\"",
        "kind = \"cloth\"",
    ] {
        assert!(effective.contains(line), "{line} missing from\n{effective}");
    }
    let rows = std::fs::read_to_string(out.join("payments.csv")).unwrap();
    for arm in [
        "single-path-retry-apriori",
        "single-path-retry",
        "mpp-retry",
    ] {
        let n = rows
            .lines()
            .filter(|l| l.contains(&format!(",{arm},")))
            .count();
        assert_eq!(n, 300, "{arm}");
    }
    assert_eq!(refused_at_sender(&out), vec![]);

    // Lightning's reserve back, with LDK's router too: still no refusal, although
    // these payments often exceed a sender's own channel above its reserve.
    let lightning = t.path().join("lightning");
    run(
        &lightning,
        &graph,
        &payments,
        &[
            "--set",
            "preset=\"\"",
            "--set",
            "network.channel.channel_reserve_ppm=10000",
            "--set",
            "sender.arms=[\"single-path-retry\",\"mpp-retry\",\"single-path-retry-ldk\"]",
            "--set",
            "sender.baseline=\"\"",
        ],
    );
    assert_eq!(refused_at_sender(&lightning), vec![]);
    let rows = std::fs::read_to_string(lightning.join("payments.csv")).unwrap();
    assert!(rows.contains(",Success,"), "some payments succeed");
    assert!(
        rows.contains(",no_route,"),
        "some senders cannot pay at all"
    );

    pair_with_a_cloth_output(t.path(), &out);
}

/// A CLoTH `payments_output.csv` made from the run's own outcomes of one arm, two of
/// them flipped each way: the script must find exactly those.
fn pair_with_a_cloth_output(dir: &Path, run: &Path) {
    let rows = std::fs::read_to_string(run.join("payments.csv")).unwrap();
    let mut lines = rows.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (arm_c, pay_c, out_c) = (col("arm"), col("payment"), col("payment_outcome"));
    let mut outcomes: Vec<(u64, bool)> = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c[arm_c] == "single-path-retry")
        .map(|c| (c[pay_c].parse().unwrap(), c[out_c] == "Success"))
        .collect();
    outcomes.sort();
    let ok: Vec<u64> = outcomes.iter().filter(|o| o.1).map(|o| o.0).collect();
    let failed: Vec<u64> = outcomes.iter().filter(|o| !o.1).map(|o| o.0).collect();
    assert!(
        ok.len() >= 2 && failed.len() >= 2,
        "{} / {}",
        ok.len(),
        failed.len()
    );
    let flip = [ok[0], ok[1], failed[0], failed[1]];
    let cloth_dir = dir.join("cloth-out");
    std::fs::create_dir_all(&cloth_dir).unwrap();
    let mut csv = String::from("id,sender_id,receiver_id,amount,start_time,end_time,mpp,is_success,no_balance_count,offline_node_count,timeout_exp,attempts,route,total_fee\n");
    for &(id, success) in &outcomes {
        let s = success != flip.contains(&id);
        let route = if s { "3-7," } else { "-1," };
        writeln!(
            csv,
            "{id},0,1,100000,{},{},0,{},0,0,0,1,{route}",
            id * 10 + 1,
            id * 10 + 601,
            s as u8
        )
        .unwrap();
    }
    std::fs::write(cloth_dir.join("payments_output.csv"), csv).unwrap();

    let script = root().join("scripts/cloth_pair.py");
    let o = match Command::new("python3")
        .arg(&script)
        .arg(&cloth_dir)
        .arg(run)
        .args(["--arm", "single-path-retry", "--json"])
        .output()
    {
        Ok(o) => o,
        Err(e) if std::env::var_os("FLOTILLA_REQUIRE_PYTHON").is_none() => {
            eprintln!("skipped the pairing: no python3 ({e}); CI requires it");
            return;
        }
        Err(e) => panic!("python3: {e}"),
    };
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let n = outcomes.len() as u64;
    let k = ok.len() as u64;
    assert_eq!(v["payments"], n);
    assert_eq!(v["cloth_only"], 2);
    assert_eq!(v["flotilla_only"], 2);
    assert_eq!(v["both"], k - 2);
    assert_eq!(v["neither"], n - k - 2);
    // Two discordant pairs each way: the exact two-sided McNemar p is 1.
    assert_eq!(v["mcnemar_p"], 1.0);
    let only: Vec<u64> = v["succeed_in_cloth_only"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(only, vec![failed[0], failed[1]]);
    assert_eq!(v["cloth_failures"]["no_path"], n - k);
    // The same success count gives the same Wilson interval in both.
    assert_eq!(v["cloth_ci95"], v["flotilla_ci95"]);

    // A run that does not hold the same payments is refused with one line.
    let short = dir.join("cloth-short");
    std::fs::create_dir_all(&short).unwrap();
    let text = std::fs::read_to_string(cloth_dir.join("payments_output.csv")).unwrap();
    let cut: Vec<&str> = text.lines().take(10).collect();
    std::fs::write(short.join("payments_output.csv"), cut.join("\n")).unwrap();
    let o = Command::new("python3")
        .arg(&script)
        .arg(&short)
        .arg(run)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: ") && err.lines().count() == 1,
        "{err}"
    );
}
