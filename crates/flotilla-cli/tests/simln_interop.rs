//! What flotilla writes for sim-ln (`graph convert --to simln`, `sim --export-simln`)
//! obeys the constraints sim-ln's current release checks when it reads a `sim.json`:
//!
//! - every `scid` once; the two ends of a channel different nodes;
//! - per side, `max_in_flight_msat` and `max_htlc_size_msat` at most the capacity;
//!   `cltv_expiry_delta` within a `u16` (sim-ln narrows it to one);
//! - no two nodes with the same non-empty `alias` ("duplicated alias");
//! - `activity[].start_secs` a `u16`; `interval_secs` a `u16` (or an increasing pair
//!   of them); `amount_msat` and `count` positive.
//!
//! The checker below is written from those rules, not from our exporter, and runs on
//! the bundled mainnet snapshot (where 47 aliases collide) and on a workload longer
//! than 65,535 s.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use common::{flotilla, ws};
use serde_json::Value;

/// Every violation of sim-ln's rules in `doc`, as readable lines.
fn simln_violations(doc: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    let mut scids = HashSet::new();
    let mut alias_of: HashMap<String, String> = HashMap::new();
    let channels = doc["sim_network"].as_array().cloned().unwrap_or_default();
    for (i, ch) in channels.iter().enumerate() {
        let scid = ch["scid"].as_u64();
        if scid.is_none() || !scids.insert(scid) {
            bad.push(format!(
                "sim_network[{i}]: scid {:?} missing or repeated",
                ch["scid"]
            ));
        }
        let Some(capacity) = ch["capacity_msat"].as_u64() else {
            bad.push(format!("sim_network[{i}]: capacity_msat not a u64"));
            continue;
        };
        let key = |side: &str| ch[side]["pubkey"].as_str().unwrap_or("").to_string();
        if key("node_1") == key("node_2") {
            bad.push(format!("sim_network[{i}]: both ends are {}", key("node_1")));
        }
        for side in ["node_1", "node_2"] {
            let p = &ch[side];
            let pk = key(side);
            if pk.len() != 66 || !pk.bytes().all(|b| b.is_ascii_hexdigit()) {
                bad.push(format!("sim_network[{i}].{side}: pubkey {pk:?}"));
            }
            for field in [
                "max_htlc_count",
                "max_in_flight_msat",
                "min_htlc_size_msat",
                "max_htlc_size_msat",
                "cltv_expiry_delta",
                "base_fee",
                "fee_rate_prop",
            ] {
                if p[field].as_u64().is_none() {
                    bad.push(format!("sim_network[{i}].{side}.{field}: not a u64"));
                }
            }
            for field in ["max_in_flight_msat", "max_htlc_size_msat"] {
                if p[field].as_u64().is_some_and(|v| v > capacity) {
                    bad.push(format!("sim_network[{i}].{side}.{field} > capacity"));
                }
            }
            if p["cltv_expiry_delta"]
                .as_u64()
                .is_some_and(|v| v > u16::MAX as u64)
            {
                bad.push(format!("sim_network[{i}].{side}.cltv_expiry_delta > u16"));
            }
            let alias = p["alias"].as_str().unwrap_or("").to_string();
            if let Some(before) = alias_of.insert(pk.clone(), alias.clone()) {
                if before != alias {
                    bad.push(format!("{pk}: aliases {before:?} and {alias:?}"));
                }
            }
        }
    }
    let mut owner: HashMap<&str, &str> = HashMap::new();
    for (pk, alias) in &alias_of {
        if alias.is_empty() {
            continue;
        }
        if let Some(other) = owner.insert(alias, pk) {
            bad.push(format!("duplicated alias {alias:?}: {other} and {pk}"));
        }
    }
    let u16_value = |v: &Value| v.as_u64().is_some_and(|x| x <= u16::MAX as u64);
    for (i, a) in doc["activity"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        if !(a["start_secs"].is_null() || u16_value(&a["start_secs"])) {
            bad.push(format!(
                "activity[{i}].start_secs {} is not a u16",
                a["start_secs"]
            ));
        }
        let interval = &a["interval_secs"];
        let ok = match interval.as_array() {
            Some(r) => {
                r.len() == 2
                    && u16_value(&r[0])
                    && u16_value(&r[1])
                    && r[0].as_u64() < r[1].as_u64()
            }
            None => u16_value(interval),
        };
        if !ok {
            bad.push(format!("activity[{i}].interval_secs {interval}"));
        }
        if a["amount_msat"].as_u64().is_none_or(|v| v == 0) {
            bad.push(format!("activity[{i}].amount_msat {}", a["amount_msat"]));
        }
        if !(a["count"].is_null() || a["count"].as_u64().is_some_and(|c| c > 0)) {
            bad.push(format!("activity[{i}].count {}", a["count"]));
        }
    }
    bad
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

const SNAPSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/mainnet-2026-02-03.describegraph.json.gz"
);

#[test]
fn the_checker_catches_what_sim_ln_refuses() {
    let side = |pk: &str, alias: &str| {
        serde_json::json!({"pubkey": pk, "alias": alias, "max_htlc_count": 483,
            "max_in_flight_msat": 1000, "min_htlc_size_msat": 1, "max_htlc_size_msat": 1000,
            "cltv_expiry_delta": 40, "base_fee": 1, "fee_rate_prop": 1})
    };
    let a = format!("02{}", "a".repeat(64));
    let b = format!("03{}", "b".repeat(64));
    let c = format!("02{}", "c".repeat(64));
    let doc = serde_json::json!({
        "sim_network": [
            {"scid": 1, "capacity_msat": 1000, "node_1": side(&a, "same"), "node_2": side(&b, "x")},
            {"scid": 2, "capacity_msat": 1000, "node_1": side(&c, "same"), "node_2": side(&b, "x")}
        ],
        "activity": [{"source": a, "destination": b, "interval_secs": 1, "amount_msat": 5,
                      "start_secs": 70000, "count": 1}]
    });
    let bad = simln_violations(&doc);
    assert!(
        bad.iter().any(|l| l.contains("duplicated alias \"same\"")),
        "{bad:?}"
    );
    assert!(
        bad.iter().any(|l| l.contains("start_secs 70000")),
        "{bad:?}"
    );
}

#[test]
fn converted_mainnet_snapshot_is_accepted_by_sim_ln_rules() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("sim.json");
    let o = flotilla(&[
        "graph",
        "convert",
        SNAPSHOT,
        "--to",
        "simln",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    // The snapshot's colliding aliases are renamed, and the output says how many.
    let renamed = text
        .lines()
        .find(|l| l.trim_start().starts_with("renamed:"))
        .unwrap_or_else(|| panic!("no renamed line in {text}"));
    assert!(renamed.contains("ALIAS-<first 8 hex digits"), "{renamed}");
    let doc = read(&out);
    let bad = simln_violations(&doc);
    assert!(
        bad.is_empty(),
        "{} violations, e.g. {:?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
    assert!(doc["sim_network"].as_array().unwrap().len() > 10_000);
    // Read back, every renamed alias is an alias of its node: flotilla reads its own export.
    let o = flotilla(&["graph", "stats", out.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn long_workloads_export_only_what_start_secs_can_hold_and_say_so() {
    let t = tempfile::tempdir().unwrap();
    let g = ws(t.path());
    // 40 payments at one per 5,000 s on average: most start after 65,535 s.
    let scenario = t.path().join("s.toml");
    std::fs::write(
        &scenario,
        format!(
            "[graph]\nfile = {g:?}\n[workload]\npayments = 40\narrivals_per_sec = 0.0002\n[sender]\narms = [\"single-path-retry\"]\n"
        ),
    )
    .unwrap();
    let sim = t.path().join("sim.json");
    let o = flotilla(&[
        "sim",
        scenario.to_str().unwrap(),
        "--export-simln",
        sim.to_str().unwrap(),
        "--out",
        t.path().join("r").to_str().unwrap(),
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let note = stderr
        .lines()
        .find(|l| l.starts_with("note: "))
        .unwrap_or_else(|| panic!("no note in {stderr}"));
    assert!(note.contains("start after 65,535 s"), "{note}");
    let late: usize = note["note: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap();
    let doc = read(&sim);
    let bad = simln_violations(&doc);
    assert!(bad.is_empty(), "{bad:?}");
    let written = doc["activity"].as_array().unwrap().len();
    assert!(late > 0 && written > 0, "late {late}, written {written}");
    assert_eq!(written + late, 40);
}
