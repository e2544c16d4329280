//! The realism ladder (scenarios/ladder/, docs/boomerang.md): every rung parses, and
//! each differs from the one before it in exactly the assumption its file names, so
//! the ladder changes one thing at a time.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use flotilla_sim::scenario::Scenario;

fn rung(name: &str) -> Scenario {
    let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios/ladder")
        .join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&p).unwrap();
    Scenario::from_toml(&text, &p.display().to_string()).unwrap_or_else(|e| panic!("{e}"))
}

/// Every leaf of the scenario as a dotted key (arrays whole).
fn leaves(s: &Scenario) -> BTreeMap<String, serde_json::Value> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, serde_json::Value>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", &serde_json::to_value(s).unwrap(), &mut out);
    out
}

/// The dotted keys whose values differ between two rungs (present in one only, too).
fn changed(a: &Scenario, b: &Scenario) -> BTreeSet<String> {
    let (a, b) = (leaves(a), leaves(b));
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

/// Whether every changed key starts with one of `allowed` (a key or a table).
fn only(changed: &BTreeSet<String>, allowed: &[&str]) -> Result<(), String> {
    let bad: Vec<&String> = changed
        .iter()
        .filter(|k| {
            !allowed
                .iter()
                .any(|a| k.as_str() == *a || k.starts_with(&format!("{a}.")))
        })
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("unexpected changes: {bad:?}"))
    }
}

#[test]
fn each_rung_changes_one_assumption() {
    let steps: &[(&str, &str, &[&str], &[&str])] = &[
        (
            "0-paper",
            "1-open-loop",
            &[
                "workload.kind",
                "workload.payments",
                "workload.arrivals_per_sec",
                // Unused once the workload is open: the closed loop's own count.
                "workload.closed_loop",
            ],
            &["workload.kind", "workload.arrivals_per_sec"],
        ),
        (
            "1-open-loop",
            "2-symmetric",
            &["network.latency_by_message"],
            &["network.latency_by_message.add"],
        ),
        (
            "2-symmetric",
            "3-refused",
            &["sender.cancel_surplus"],
            &["sender.cancel_surplus"],
        ),
        (
            "2-symmetric",
            "3b-cancel-path",
            &["sender.cancel_surplus"],
            &["sender.cancel_surplus"],
        ),
        (
            "3-refused",
            "4-learning",
            &["sender.arms", "sender.baseline"],
            &["sender.arms"],
        ),
        (
            "4-learning",
            "5-flotilla-arms",
            &["sender.arms", "sender.baseline", "sender.max_attempts"],
            &["sender.arms"],
        ),
        (
            "5-flotilla-arms",
            "6-bolt-limits",
            &["network.channel"],
            &["network.channel.channel_reserve_ppm"],
        ),
        (
            "6-bolt-limits",
            "7-mainnet",
            &["graph", "workload.amount"],
            &["graph.file", "workload.amount.distribution"],
        ),
    ];
    for (from, to, allowed, required) in steps {
        let d = changed(&rung(from), &rung(to));
        let mut d_named = d.clone();
        d_named.remove("name");
        only(&d_named, allowed).unwrap_or_else(|e| panic!("{from} -> {to}: {e}"));
        for r in *required {
            assert!(
                d.iter().any(|k| k == r || k.starts_with(&format!("{r}."))),
                "{from} -> {to}: {r} did not change ({d:?})"
            );
        }
    }
    // The arms every rung compares: the paper's r = 25 and 75, then flotilla's.
    assert_eq!(
        rung("0-paper").sender.arms,
        [
            "paper-retry-25",
            "paper-retry-75",
            "paper-redundant-25",
            "paper-redundant-75"
        ]
    );
    assert!(rung("4-learning")
        .sender
        .arms
        .iter()
        .all(|a| a.ends_with("-learning")));
}
