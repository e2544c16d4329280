//! `flotilla route` and `flotilla bench routers` end to end, on a small generated
//! graph: output, JSON keys, exit codes and error lines.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

fn flotilla(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .args(args)
        .env_remove("FLOTILLA_GRAPH")
        .env_remove("RUST_LOG")
        .output()
        .expect("binary runs")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../flotilla-graph/tests/fixtures")
        .join(name)
}

/// A 100-node Watts–Strogatz graph (aliases ws-0 … ws-99), generated once.
fn ws_graph() -> &'static str {
    static GRAPH: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    &GRAPH
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("ws.json");
            let out = flotilla(&[
                "graph",
                "generate",
                "watts-strogatz",
                "--random-fees",
                "-o",
                path.to_str().unwrap(),
            ]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let p = path.to_string_lossy().into_owned();
            (dir, p)
        })
        .1
}

fn success_json(args: &[&str]) -> Value {
    let out = flotilla(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs a command that must fail: exit 1, exactly one `error:` line on stderr that
/// contains every `expect`, no panic, nothing on stdout.
fn assert_clean_failure(args: &[&str], expect: &[&str]) {
    let out = flotilla(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: expected one line, got {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    for e in expect {
        assert!(lines[0].contains(e), "{args:?}: {e:?} not in {stderr}");
    }
    assert!(out.stdout.is_empty(), "{args:?}");
}

/// Checks one path's arithmetic: it ends at `to` with the delivered amount and at
/// least the final CLTV (exactly it for `ours`; LDK adds a random shadow offset on
/// the last hop), each hop's amount is the next one's plus the fee charged for the next
/// hop, and the path's totals agree with its hops.
fn check_path(p: &Value, from: &str, to: &str, final_cltv: u64, ours: bool) {
    let hops = p["hops"].as_array().unwrap();
    assert!(!hops.is_empty());
    assert_eq!(hops[0]["from"]["alias"], from);
    assert_eq!(hops[hops.len() - 1]["to"]["alias"], to);
    assert_eq!(hops[0]["fee_msat"], 0, "the sender's own channel is free");
    for w in hops.windows(2) {
        assert_eq!(w[0]["to"]["pubkey"], w[1]["from"]["pubkey"], "contiguous");
        let (a0, a1) = (
            w[0]["amount_msat"].as_u64().unwrap(),
            w[1]["amount_msat"].as_u64().unwrap(),
        );
        let fee = w[1]["fee_msat"].as_u64().unwrap();
        assert_eq!(a0, a1 + fee, "amounts fall by the fees toward the receiver");
        assert!(w[0]["cltv_expiry"].as_u64() >= w[1]["cltv_expiry"].as_u64());
    }
    let last = &hops[hops.len() - 1];
    assert_eq!(last["amount_msat"], p["amount_msat"]);
    let last_cltv = last["cltv_expiry"].as_u64().unwrap();
    if ours {
        assert_eq!(last_cltv, final_cltv);
    } else {
        assert!(last_cltv >= final_cltv, "{last_cltv} < {final_cltv}");
    }
    assert_eq!(hops[0]["amount_msat"], p["sent_msat"]);
    assert_eq!(hops[0]["cltv_expiry"], p["total_cltv"]);
    let fees: u64 = hops.iter().map(|h| h["fee_msat"].as_u64().unwrap()).sum();
    assert_eq!(p["fee_msat"].as_u64(), Some(fees));
    // LDK's own estimate may be 0 (it counts a channel filled to its capacity as
    // failing); ours never offer a path they give no chance.
    let prob = p["probability"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&prob), "{prob}");
    assert!(!ours || prob > 0.0, "{prob}");
}

#[test]
fn route_prints_a_readable_path() {
    let g = ws_graph();
    let out = flotilla(&[
        "route",
        "--graph",
        g,
        "--from",
        "ws-0",
        "--to",
        "ws-50",
        "--amount-msat",
        "1000000",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("route from ws-0 to ws-50"), "{text}");
    assert!(text.contains("router flotilla"), "{text}");
    assert!(text.contains("success probability"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("total: 1 part")),
        "{text}"
    );

    // The hop rows: amounts fall by exactly the fee column toward the receiver.
    let rows: Vec<Vec<String>> = text
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|c| c.parse::<u32>().is_ok())
        })
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    assert!(!rows.is_empty(), "{text}");
    let num = |s: &str| s.replace(',', "").parse::<u64>().unwrap();
    assert_eq!(rows[0][1], "ws-0", "{text}");
    assert_eq!(rows[rows.len() - 1][2], "ws-50", "{text}");
    assert_eq!(num(&rows[rows.len() - 1][4]), 1_000_000, "{text}");
    for w in rows.windows(2) {
        assert_eq!(num(&w[0][4]), num(&w[1][4]) + num(&w[1][5]), "{text}");
    }
}

#[test]
fn route_json_has_the_documented_keys() {
    let g = ws_graph();
    for router in ["flotilla", "ldk"] {
        let v = success_json(&[
            "route",
            "--graph",
            g,
            "--from",
            "ws-0",
            "--to",
            "ws-50",
            "--amount-msat",
            "250000",
            "--final-cltv",
            "40",
            "--router",
            router,
            "--json",
        ]);
        for k in [
            "from",
            "to",
            "router",
            "scorer",
            "amount_msat",
            "max_parts",
            "limits",
            "parts",
            "paths",
            "total_amount_msat",
            "total_sent_msat",
            "total_fee_msat",
            "fee_ppm",
            "probability",
            "search_micros",
        ] {
            assert!(v.get(k).is_some(), "{router}: key {k} missing: {v}");
        }
        for k in [
            "max_fee_msat",
            "max_total_cltv",
            "min_part_msat",
            "final_cltv_delta",
        ] {
            assert!(v["limits"].get(k).is_some(), "limits.{k}");
        }
        assert_eq!(v["router"], router);
        assert_eq!(v["from"]["alias"], "ws-0");
        assert_eq!(v["to"]["alias"], "ws-50");
        assert_eq!(v["from"]["pubkey"].as_str().unwrap().len(), 66);
        assert_eq!(v["amount_msat"], 250_000);
        assert_eq!(v["parts"], 1);
        let paths = v["paths"].as_array().unwrap();
        assert_eq!(paths.len(), 1);
        for p in paths {
            for k in [
                "amount_msat",
                "sent_msat",
                "fee_msat",
                "total_cltv",
                "probability",
                "hops",
            ] {
                assert!(p.get(k).is_some(), "path key {k}");
            }
            for h in p["hops"].as_array().unwrap() {
                for k in [
                    "scid",
                    "from",
                    "to",
                    "amount_msat",
                    "fee_msat",
                    "cltv_expiry",
                ] {
                    assert!(h.get(k).is_some(), "hop key {k}");
                }
            }
            check_path(p, "ws-0", "ws-50", 40, router != "ldk");
        }
        assert_eq!(v["total_amount_msat"], 250_000);
        assert_eq!(v["probability"], paths[0]["probability"]);

        // A public key names the same node as its alias.
        let key = v["to"]["pubkey"].as_str().unwrap().to_string();
        let by_key = success_json(&[
            "route",
            "--graph",
            g,
            "--from",
            "ws-0",
            "--to",
            &key,
            "--amount-msat",
            "250000",
            "--router",
            router,
            "--json",
        ]);
        assert_eq!(by_key["to"]["alias"], "ws-50");
    }
}

#[test]
fn route_splits_a_large_amount_into_parts_that_sum_to_it() {
    let g = ws_graph();
    // 1,600,000 sat: more than the sender's largest channel (1,432,617 sat) holds.
    let amount: u64 = 1_600_000_000;
    let amount_s = amount.to_string();
    for router in ["greedy", "mcf", "halving", "ldk"] {
        let v = success_json(&[
            "route",
            "--graph",
            g,
            "--from",
            "ws-0",
            "--to",
            "ws-50",
            "--amount-msat",
            &amount_s,
            "--max-parts",
            "4",
            "--max-fee-msat",
            "100000000",
            "--router",
            router,
            "--json",
        ]);
        let paths = v["paths"].as_array().unwrap();
        assert!(
            (2..=4).contains(&paths.len()),
            "{router}: {} parts",
            paths.len()
        );
        assert_eq!(v["parts"].as_u64(), Some(paths.len() as u64));
        let sum: u64 = paths
            .iter()
            .map(|p| p["amount_msat"].as_u64().unwrap())
            .sum();
        assert_eq!(sum, amount, "{router}");
        assert_eq!(v["total_amount_msat"].as_u64(), Some(amount));
        for p in paths {
            check_path(p, "ws-0", "ws-50", 18, router != "ldk");
        }
        let fees: u64 = paths.iter().map(|p| p["fee_msat"].as_u64().unwrap()).sum();
        assert_eq!(v["total_fee_msat"].as_u64(), Some(fees));
        assert_eq!(v["total_sent_msat"].as_u64(), Some(amount + fees));
    }
    // Without a router named, more than one part means greedy.
    let v = success_json(&[
        "route",
        "--graph",
        g,
        "--from",
        "ws-0",
        "--to",
        "ws-50",
        "--amount-msat",
        &amount_s,
        "--max-parts",
        "4",
        "--json",
    ]);
    assert_eq!(v["router"], "greedy");
}

#[test]
fn route_errors_are_one_clear_line() {
    let g = ws_graph();
    let base = |from: &'static str, to: &'static str, amount: &'static str| {
        vec![
            "route",
            "--graph",
            g,
            "--from",
            from,
            "--to",
            to,
            "--amount-msat",
            amount,
        ]
    };
    assert_clean_failure(
        &base("ws-0", "nobody", "1000"),
        &["--to", "no node with public key or alias \"nobody\""],
    );
    assert_clean_failure(&base("02ffff", "ws-1", "1000"), &["--from", "\"02ffff\""]);
    assert_clean_failure(
        &base("ws-0", "ws-50", "0"),
        &["--amount-msat", "greater than zero"],
    );
    assert_clean_failure(&base("ws-0", "ws-50", "-5"), &["--amount-msat", "\"-5\""]);
    assert_clean_failure(&base("ws-0", "ws-0", "1000"), &["same node"]);
    assert_clean_failure(
        &base("ws-0", "ws-50", "100000000000000"),
        &["exceeds", "the receiver's enabled channels can carry"],
    );
    let mut a = base("ws-0", "ws-50", "1000");
    a.extend(["--final-cltv", "5000"]);
    assert_clean_failure(&a, &["impossible limits", "max_total_cltv"]);
    let mut a = base("ws-0", "ws-50", "1000");
    a.extend(["--max-parts", "0"]);
    assert_clean_failure(&a, &["--max-parts"]);
    let mut a = base("ws-0", "ws-50", "1000");
    a.extend(["--router", "flotilla", "--max-parts", "3"]);
    assert_clean_failure(&a, &["single path"]);
    let mut a = base("ws-0", "ws-50", "100000");
    a.extend(["--max-fee-msat", "0"]);
    assert_clean_failure(&a, &["no route", "fee limit"]);

    // In the fixture, bob's only usable channel leads to a dead end: dave is
    // unreachable from bob, for every router.
    let fx = fixture("lncli-describegraph.json");
    let fx = fx.to_str().unwrap();
    for router in ["flotilla", "greedy", "mcf", "halving", "ldk"] {
        assert_clean_failure(
            &[
                "route",
                "--graph",
                fx,
                "--from",
                "bob",
                "--to",
                "dave",
                "--amount-msat",
                "1000",
                "--router",
                router,
            ],
            &["routing 1000 msat from bob to dave", "no route"],
        );
    }
    assert_clean_failure(
        &[
            "route",
            "--graph",
            fx,
            "--from",
            "bob",
            "--to",
            "dave",
            "--amount-msat",
            "1000",
        ],
        &["not reachable"],
    );

    // An alias two nodes announce names neither.
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(fixture("lncli-describegraph.json")).unwrap())
            .unwrap();
    for n in doc["nodes"].as_array_mut().unwrap() {
        if n["alias"] == "bob" {
            n["alias"] = "dave".into();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let twin = dir.path().join("twin.json");
    std::fs::write(&twin, serde_json::to_vec(&doc).unwrap()).unwrap();
    assert_clean_failure(
        &[
            "route",
            "--graph",
            twin.to_str().unwrap(),
            "--from",
            "alice ⚡",
            "--to",
            "dave",
            "--amount-msat",
            "1000",
        ],
        &["--to", "\"dave\" is announced by 2 nodes", "public key"],
    );
}

#[test]
fn bench_routers_json_has_every_key_for_every_router() {
    let g = ws_graph();
    let v = success_json(&[
        "bench",
        "routers",
        "--graph",
        g,
        "--queries",
        "20",
        "--json",
    ]);
    for k in [
        "graph",
        "nodes",
        "channels",
        "scc_nodes",
        "queries",
        "seed",
        "max_parts",
        "ldk_queries",
        "amount_min_sat",
        "amount_max_sat",
        "probability_model",
        "probability_scorer",
        "routers",
    ] {
        assert!(v.get(k).is_some(), "key {k} missing");
    }
    assert_eq!(v["nodes"], 100);
    assert_eq!(v["queries"], 20);
    assert_eq!(v["ldk_queries"], 20);
    assert_eq!(v["max_parts"], 10);
    let rows = v["routers"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["router"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["flotilla", "ldk", "greedy", "mcf", "halving", "ldk-mpp"]
    );
    for r in rows {
        let name = r["router"].as_str().unwrap();
        for k in [
            "router",
            "paths",
            "max_parts",
            "queries",
            "warmup_queries",
            "answered",
            "answered_share",
            "median_us",
            "p99_us",
            "mean_us",
            "median_us_answered",
            "mean_fee_ppm",
            "mean_parts",
            "mean_probability",
            "reference",
            "reference_queries",
            "median_us_on_reference_queries",
            "mean_probability_on_reference_queries",
            "speedup_vs_ldk",
            "routable_queries",
            "median_us_routable",
            "reference_median_us_routable",
            "speedup_routable",
            "speedup_routable_median_of_ratios",
            "median_cpu_us",
            "median_cpu_us_routable",
            "reference_median_cpu_us_routable",
            "speedup_routable_cpu",
        ] {
            assert!(r.get(k).is_some(), "{name}: key {k} missing");
        }
        let cpu = r["speedup_routable_cpu"].as_f64().unwrap();
        assert!(cpu > 0.0 && cpu.is_finite(), "{name}: {cpu}");
        assert!(r["median_cpu_us"].as_f64().unwrap() >= 0.0);
        // Every query is routable here, so the routable comparison covers them all.
        assert_eq!(r["routable_queries"], 20, "{name}");
        let routable = r["speedup_routable"].as_f64().unwrap();
        let ratio = r["reference_median_us_routable"].as_f64().unwrap()
            / r["median_us_routable"].as_f64().unwrap();
        assert!(
            (routable - ratio).abs() < 1e-9 * ratio,
            "{name}: {routable} vs {ratio}"
        );
        assert!(r["speedup_routable_median_of_ratios"].as_f64().unwrap() > 0.0);
        let mpp = !matches!(name, "flotilla" | "ldk");
        assert_eq!(r["paths"], if mpp { "mpp" } else { "single" });
        assert_eq!(r["max_parts"], if mpp { 10 } else { 1 });
        assert_eq!(r["reference"], if mpp { "ldk-mpp" } else { "ldk" });
        assert_eq!(r["queries"], 20);
        assert_eq!(r["reference_queries"], 20);
        let speedup = r["speedup_vs_ldk"].as_f64().unwrap();
        assert!(speedup > 0.0 && speedup.is_finite(), "{name}: {speedup}");
        let median = r["median_us"].as_f64().unwrap();
        let p99 = r["p99_us"].as_f64().unwrap();
        assert!(median > 0.0 && p99 >= median, "{name}");
        // Every query of the small, well-connected graph has an answer.
        assert_eq!(r["answered"], 20, "{name}");
        let p = r["mean_probability"].as_f64().unwrap();
        assert!(p > 0.0 && p <= 1.0, "{name}: {p}");
        assert!(r["mean_fee_ppm"].as_f64().unwrap() >= 0.0);
        assert!(r["mean_parts"].as_f64().unwrap() >= 1.0);
    }
    let ldk = &rows[1];
    assert_eq!(ldk["speedup_vs_ldk"].as_f64(), Some(1.0));
    assert_eq!(ldk["speedup_routable"].as_f64(), Some(1.0));
    assert_eq!(v["probability_scorer"], "UniformScorer");
}

#[test]
fn bench_routers_is_seeded_and_says_where_ldk_ran() {
    let g = ws_graph();
    let args = [
        "bench",
        "routers",
        "--graph",
        g,
        "--queries",
        "12",
        "--ldk-queries",
        "4",
        "--max-parts",
        "3",
        "--routers",
        "flotilla,greedy,ldk",
        "--seed",
        "7",
        "--json",
    ];
    let a = success_json(&args);
    let b = success_json(&args);
    let rows = a["routers"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["router"].as_str().unwrap()).collect();
    assert_eq!(names, ["flotilla", "greedy", "ldk"]);
    assert_eq!(rows[2]["queries"], 4);
    assert_eq!(rows[0]["reference_queries"], 4);
    assert_eq!(rows[1]["max_parts"], 3);
    // ldk-mpp did not run: the greedy row has nothing to compare with.
    assert!(rows[1]["speedup_vs_ldk"].is_null());
    assert!(rows[1]["speedup_routable"].is_null());
    assert!(rows[1]["routable_queries"].is_null());
    assert!(rows[0]["speedup_vs_ldk"].as_f64().unwrap() > 0.0);
    // Same seed, same questions, same answers (times aside).
    for (x, y) in rows.iter().zip(b["routers"].as_array().unwrap()) {
        for k in ["answered", "mean_fee_ppm", "mean_parts", "mean_probability"] {
            assert_eq!(x[k], y[k], "{k}");
        }
    }

    let out = flotilla(&[
        "bench",
        "routers",
        "--graph",
        g,
        "--queries",
        "12",
        "--ldk-queries",
        "4",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("LDK rows ran the first 4 queries"), "{text}");
    assert!(text.contains("on routable queries"), "{text}");
    assert!(text.contains("All queries"), "{text}");
    assert!(text.contains("scored by UniformScorer"), "{text}");
    for name in ["flotilla", "ldk", "greedy", "mcf", "halving", "ldk-mpp"] {
        assert!(text.lines().any(|l| l.starts_with(name)), "{name}: {text}");
    }
    assert!(out.stderr.is_empty(), "no progress bar off a terminal");

    assert_clean_failure(
        &["bench", "routers", "--graph", g, "--queries", "0"],
        &["--queries"],
    );
    assert_clean_failure(
        &["bench", "routers", "--graph", g, "--ldk-queries", "0"],
        &["--ldk-queries"],
    );
}

#[test]
fn help_lists_the_bench_json_keys() {
    let out = flotilla(&["bench", "routers", "--help"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for k in [
        "median_us",
        "p99_us",
        "answered_share",
        "mean_fee_ppm",
        "mean_probability",
        "speedup_vs_ldk",
        "speedup_routable",
        "probability_scorer",
    ] {
        assert!(text.contains(k), "{k} not in --help");
    }
}
