//! The Boomerang paper's strategies as arms (`paper-retry-R`, `paper-redundant-E`,
//! `paper-redundant-E-retry-R`) on the paper's 100-node Watts–Strogatz graph.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use flotilla_graph::{read_graph, NodeIdx};
use flotilla_route::disjoint::edge_disjoint_paths;
use flotilla_route::paper::PAPER_MAX_PATHS;
use flotilla_sim::experiment::{Experiment, RunSummary};
use flotilla_sim::output::open_attempts;
use flotilla_sim::scenario::{AmountDistribution, Scenario};

fn ws100() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/graphs/boomerang-ws100")
}

fn scenario(arms: &[&str], payments: u64, amount: AmountDistribution) -> Scenario {
    let mut s = Scenario::default();
    s.graph.file = ws100().display().to_string();
    s.graph.liquidity = "file".into();
    s.workload.payments = payments;
    s.workload.arrivals_per_sec = 40.0;
    s.workload.amount = amount;
    s.sender.redundant_base_parts = 25;
    s.sender.max_attempts = 1000;
    s.sender.arms = arms.iter().map(|a| a.to_string()).collect();
    s
}

fn paper_amounts() -> AmountDistribution {
    AmountDistribution::Uniform {
        min_sat: 25_000,
        max_sat: 250_000,
    }
}

fn run(sc: Scenario, dir: &Path, threads: usize) -> RunSummary {
    let exp = Experiment::prepare(sc, Path::new("unused")).unwrap();
    exp.run(dir, threads, &AtomicU64::new(0)).unwrap()
}

/// payments.csv rows as column name → value maps.
fn rows(dir: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(dir.join("payments.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

fn num(row: &HashMap<String, String>, col: &str) -> u64 {
    row[col].parse().unwrap()
}

fn attempts(dir: &Path) -> Vec<serde_json::Value> {
    let (_, r) = open_attempts(dir).unwrap().unwrap();
    r.lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect()
}

#[test]
fn each_arm_sends_the_parts_its_name_says_and_no_more() {
    let t = tempfile::tempdir().unwrap();
    let arms = [
        "paper-retry-0",
        "paper-retry-10",
        "paper-redundant-5",
        "paper-redundant-5-retry-20",
        "paper-redundant-30-retry-3",
    ];
    let sc = scenario(&arms, 150, paper_amounts());
    let summary = run(sc.clone(), &t.path().join("a"), 1);
    let rows = rows(&t.path().join("a"));
    assert_eq!(rows.len(), 150 * arms.len());
    let mut by_arm: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for r in &rows {
        by_arm
            .entry(r["arm"].clone())
            .or_default()
            .push(num(r, "attempts"));
    }
    // Whole-sat amounts are multiples of 1,000 msat, so v = 25 always divides them.
    let a = &by_arm["paper-retry-0"];
    assert!(a.iter().all(|&n| n == 25), "{a:?}");
    let a = &by_arm["paper-retry-10"];
    assert!(a.iter().all(|&n| (25..=35).contains(&n)), "{a:?}");
    assert!(a.iter().any(|&n| n > 25), "no part was ever replaced");
    let a = &by_arm["paper-redundant-5"];
    assert!(a.iter().all(|&n| n == 30), "{a:?}");
    let a = &by_arm["paper-redundant-5-retry-20"];
    assert!(a.iter().all(|&n| (30..=45).contains(&n)), "{a:?}");
    assert!(a.iter().any(|&n| n > 30));
    // Surplus parts count against the retries: 25 + min(30, 3), and nothing after.
    let a = &by_arm["paper-redundant-30-retry-3"];
    assert!(a.iter().all(|&n| n == 28), "{a:?}");
    // Retrying helps; so does redundancy; no receiver kept more than A.
    let rate = |name: &str| {
        summary
            .arms
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .success_rate
    };
    assert!(rate("paper-retry-10") > rate("paper-retry-0"));
    assert!(rate("paper-redundant-5") > rate("paper-retry-0"));
    assert!(summary.arms.iter().all(|s| s.overpaid_msat == 0));
    // A transfer whose v parts settled succeeded, even when a surplus part's failure
    // came back before the settles did (nothing travelling then, but enough arrived).
    for r in &rows {
        assert_eq!(
            num(r, "parts") >= 25,
            r["payment_outcome"] == "Success",
            "{r:?}"
        );
    }
    // Seeded: the same bytes whatever the thread count.
    run(sc, &t.path().join("b"), 3);
    assert_eq!(
        std::fs::read(t.path().join("a/payments.csv")).unwrap(),
        std::fs::read(t.path().join("b/payments.csv")).unwrap()
    );
}

#[test]
fn a_replacement_leaves_only_after_a_failure_has_come_back() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("out");
    run(scenario(&["paper-retry-20"], 300, paper_amounts()), &dir, 1);
    let mut by_payment: BTreeMap<u64, Vec<serde_json::Value>> = BTreeMap::new();
    for a in attempts(&dir) {
        by_payment
            .entry(a["payment"].as_u64().unwrap())
            .or_default()
            .push(a);
    }
    let mut replacements = 0;
    for (payment, parts) in &by_payment {
        for p in parts {
            let n = p["part"].as_u64().unwrap();
            if n < 25 {
                continue;
            }
            replacements += 1;
            let sent = p["sent_ms"].as_f64().unwrap();
            // Part 25 + j is the (j+1)-th replacement: j + 1 failures must be back.
            let back = parts
                .iter()
                .filter(|q| q["outcome"] == "failed" && q["resolved_ms"].as_f64().unwrap() <= sent)
                .count() as u64;
            assert!(
                back > n - 25,
                "payment {payment} part {n} sent at {sent} ms"
            );
        }
    }
    assert!(replacements > 50, "{replacements} replacements");
}

#[test]
fn infeasible_transfers_are_sent_anyway() {
    // 50,000,000 sat in 25 parts of 2,000,000 sat: no channel side of the paper's
    // graph (at most 1,000,000 sat) carries one part.
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("out");
    let summary = run(
        scenario(
            &["mpp-retry", "paper-retry-5"],
            40,
            AmountDistribution::Constant {
                value_sat: 50_000_000,
            },
        ),
        &dir,
        1,
    );
    for r in rows(&dir) {
        assert_eq!(r["payment_outcome"], "Failure");
        if r["arm"] == "mpp-retry" {
            assert_eq!(r["failure_reason"], "no_route");
            assert_eq!(num(&r, "attempts"), 0);
        } else {
            assert_eq!(r["failure_reason"], "liquidity");
            assert!(num(&r, "attempts") >= 25, "{r:?}");
        }
    }
    assert_eq!(summary.arms[1].succeeded, 0);
}

/// A path as (scid, far node) per hop, as attempts.jsonl writes it.
type HopNames = Vec<(String, String)>;

#[test]
fn every_path_is_one_of_the_pairs_edge_disjoint_paths() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("out");
    run(
        scenario(&["paper-redundant-10-retry-20"], 100, paper_amounts()),
        &dir,
        1,
    );
    let g = read_graph(&ws100(), None).unwrap().graph;
    let node_of = |hex: &str| {
        (0..g.node_count() as u32)
            .map(NodeIdx)
            .find(|&n| g.node(n).pubkey.to_hex() == hex)
            .unwrap()
    };
    let pairs: HashMap<u64, (NodeIdx, NodeIdx)> = rows(&dir)
        .iter()
        .map(|r| {
            (
                num(r, "payment"),
                (node_of(&r["source"]), node_of(&r["destination"])),
            )
        })
        .collect();
    let mut sets: HashMap<(NodeIdx, NodeIdx), HashSet<HopNames>> = HashMap::new();
    let mut drawn: HashMap<(NodeIdx, NodeIdx), HashSet<HopNames>> = HashMap::new();
    for a in attempts(&dir) {
        let pair = pairs[&a["payment"].as_u64().unwrap()];
        let set = sets.entry(pair).or_insert_with(|| {
            edge_disjoint_paths(&g, pair.0, pair.1, PAPER_MAX_PATHS)
                .into_iter()
                .map(|p| {
                    p.iter()
                        .map(|&e| {
                            (
                                g.channel(e.channel()).scid.to_string(),
                                g.node(g.edge_target(e)).pubkey.to_hex(),
                            )
                        })
                        .collect()
                })
                .collect()
        });
        let path: HopNames = a["hops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["scid"].as_str().unwrap().to_string(),
                    h["to"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert!(set.contains(&path), "payment {}: {path:?}", a["payment"]);
        drawn.entry(pair).or_default().insert(path);
    }
    // With replacement and uniform: a pair paid often meets more than one of its paths.
    assert!(drawn.values().any(|d| d.len() > 1));
}

#[test]
fn a_transfer_gives_up_when_nothing_is_travelling_whatever_its_retries() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("out");
    // Large transfers (parts of 4,000–20,000 sat on sides of 100,000–1,000,000 sat)
    // under load, so that parts fail often.
    let mut sc = scenario(
        &["paper-retry-150"],
        200,
        AmountDistribution::Uniform {
            min_sat: 100_000,
            max_sat: 500_000,
        },
    );
    sc.workload.arrivals_per_sec = 200.0;
    run(sc, &dir, 1);
    let rows = rows(&dir);
    let failed: Vec<_> = rows
        .iter()
        .filter(|r| r["payment_outcome"] == "Failure")
        .collect();
    assert!(failed.len() > 5, "{} failures", failed.len());
    for r in &failed {
        assert_eq!(r["failure_reason"], "liquidity", "{r:?}");
    }
    // With replacements left and a 60 s timeout, only the paper's rule stops these:
    // most failures leave retries unused.
    let early = failed
        .iter()
        .filter(|r| num(r, "attempts") < 25 + 150)
        .count();
    assert!(2 * early > failed.len(), "{early} of {}", failed.len());
}

#[test]
fn the_learning_suffix_routes_by_beliefs_and_refuses_what_it_cannot_route() {
    // The infeasible transfers above: the paper's draw sends them anyway, the learning
    // path finder finds no path for a 2,000,000-sat part and sends nothing.
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("out");
    run(
        scenario(
            &["paper-retry-5", "paper-retry-5-learning"],
            20,
            AmountDistribution::Constant {
                value_sat: 50_000_000,
            },
        ),
        &dir,
        1,
    );
    for r in rows(&dir) {
        assert_eq!(r["payment_outcome"], "Failure");
        if r["arm"] == "paper-retry-5-learning" {
            assert_eq!(r["failure_reason"], "no_route", "{r:?}");
            assert_eq!(num(&r, "attempts"), 0);
        } else {
            assert!(num(&r, "attempts") >= 25, "{r:?}");
        }
    }
    // Feasible transfers: the same counts of parts as the paper arm (v + E at most),
    // on paths the router chose, not only the pair's precomputed disjoint ones.
    let dir = t.path().join("feasible");
    let summary = run(
        scenario(
            &["paper-redundant-10", "paper-redundant-10-learning"],
            60,
            paper_amounts(),
        ),
        &dir,
        1,
    );
    assert!(summary.arms[1].succeeded > 0);
    for r in rows(&dir) {
        assert!(num(&r, "attempts") <= 35, "{r:?}");
    }
    let by_arm = |arm: &str| -> HashSet<HopNames> {
        attempts(&dir)
            .iter()
            .filter(|a| a["arm"] == arm)
            .map(|a| {
                a["hops"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| {
                        (
                            h["scid"].as_str().unwrap().to_string(),
                            h["to"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            })
            .collect()
    };
    assert_ne!(
        by_arm("paper-redundant-10"),
        by_arm("paper-redundant-10-learning")
    );
}
