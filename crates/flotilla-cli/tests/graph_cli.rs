//! `flotilla graph …` end to end: the binary's output, exit codes and error lines.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

mod common;
use common::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../flotilla-graph/tests/fixtures")
        .join(name)
}

/// Runs a command that must fail: exit non-zero, exactly one `error:` line on stderr
/// that contains every `expect`, no panic, nothing on stdout.
fn assert_clean_failure(args: &[&str], expect: &[&str]) {
    let out = flotilla(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
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

fn write_json(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p.to_string_lossy().into_owned()
}

fn lncli() -> Value {
    serde_json::from_slice(&std::fs::read(fixture("lncli-describegraph.json")).unwrap()).unwrap()
}

#[test]
fn stats_json_has_the_documented_keys() {
    let f = fixture("lncli-describegraph.json");
    let out = flotilla(&["graph", "stats", f.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["nodes"], 4);
    assert_eq!(v["channels"], 3);
    assert_eq!(v["policies"], 5);
    assert_eq!(v["enabled_policies"], 4);
    assert_eq!(v["capacity_sat"], 5_000_000 + 250_000 + 16_777_215);
    // alice ⇄ dave is the only pair that can pay each other both ways.
    assert_eq!(v["largest_scc_nodes"], 2);
    assert_eq!(v["format"], "describegraph");
    assert_eq!(v["warnings"]["htlc_max_missing"], 2);
    assert_eq!(v["addresses"]["onion"], 1);
}

#[test]
fn stats_table_is_readable() {
    let f = fixture("listchannels.json");
    let out = flotilla(&["graph", "stats", f.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("listchannels"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("channels") && l.ends_with(" 3")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("capacity (sat)") && l.ends_with("22,027,215")),
        "{text}"
    );
}

#[test]
fn convert_to_describegraph_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("copy.json.gz");
    let f = fixture("listchannels.json");
    let out = flotilla(&[
        "graph",
        "convert",
        f.to_str().unwrap(),
        "--to",
        "describegraph",
        "-o",
        out_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = flotilla(&["graph", "stats", f.to_str().unwrap(), "--json"]);
    let b = flotilla(&["graph", "stats", out_path.to_str().unwrap(), "--json"]);
    let (mut a, mut b): (Value, Value) = (
        serde_json::from_slice(&a.stdout).unwrap(),
        serde_json::from_slice(&b.stdout).unwrap(),
    );
    for v in [&mut a, &mut b] {
        for k in ["file", "format", "import_seconds", "stats_seconds"] {
            v.as_object_mut().unwrap().remove(k);
        }
    }
    assert_eq!(a, b);
}

#[test]
fn bad_inputs_fail_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_clean_failure(
        &["graph", "stats", "/nonexistent/graph.json"],
        &["/nonexistent/graph.json", "No such file"],
    );
    let p = write_json(d, "unknown.json", &json!({"hello": 1}));
    assert_clean_failure(
        &["graph", "stats", &p],
        &["unknown.json", "unknown graph format"],
    );
    let p = d.join("text.txt");
    std::fs::write(&p, "just text\n").unwrap();
    assert_clean_failure(
        &["graph", "stats", p.to_str().unwrap()],
        &["text.txt", "unknown graph format"],
    );

    let gz = d.join("trunc.json.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(
        &mut enc,
        &std::fs::read(fixture("lncli-describegraph.json")).unwrap(),
    )
    .unwrap();
    let bytes = enc.finish().unwrap();
    std::fs::write(&gz, &bytes[..bytes.len() - 100]).unwrap();
    assert_clean_failure(
        &["graph", "stats", gz.to_str().unwrap()],
        &["trunc.json.gz", "truncated or corrupt gzip"],
    );

    let p = d.join("broken.json");
    std::fs::write(&p, "{\"nodes\": [}").unwrap();
    assert_clean_failure(
        &["graph", "stats", p.to_str().unwrap()],
        &["broken.json", "invalid JSON", "line 1"],
    );

    type Mutation = fn(&mut Value);
    let cases: Vec<(&str, Mutation, Vec<&str>)> = vec![
        (
            "wrongtype.json",
            |v| v["edges"][0]["capacity"] = json!([1]),
            vec!["edges[0]", "`capacity`", "invalid type"],
        ),
        (
            "badkey.json",
            |v| v["nodes"][1]["pub_key"] = json!("02deadbeef"),
            vec!["nodes[1]", "`pub_key`", "invalid public key"],
        ),
        (
            "negative.json",
            |v| v["edges"][1]["node1_policy"]["min_htlc"] = json!("-1"),
            vec!["edges[1]", "`node1_policy.min_htlc`", "negative"],
        ),
        (
            "overflow.json",
            |v| v["edges"][1]["node1_policy"]["time_lock_delta"] = json!(65536),
            vec!["edges[1]", "`node1_policy.time_lock_delta`", "overflows"],
        ),
        (
            "dup.json",
            |v| v["edges"][1]["channel_id"] = v["edges"][0]["channel_id"].clone(),
            vec!["edges[1]", "`channel_id`", "duplicate channel id"],
        ),
        (
            "loop.json",
            |v| v["edges"][0]["node2_pub"] = v["edges"][0]["node1_pub"].clone(),
            vec!["edges[0]", "to itself"],
        ),
    ];
    for (name, mutate, expect) in cases {
        let mut v = lncli();
        mutate(&mut v);
        let p = write_json(d, name, &v);
        let mut all = vec![name];
        all.extend(expect);
        assert_clean_failure(&["graph", "stats", &p], &all);
    }
}

#[test]
fn help_teaches() {
    let out = flotilla(&["graph", "stats", "--help"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("strongly connected component"), "{text}");
    assert!(text.contains("--json"));
    let out = flotilla(&["graph", "convert", "--help"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("describegraph") && text.contains("simln") && text.contains("cloth"),
        "{text}"
    );
}

#[test]
fn cloth_csv_with_a_missing_column_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ws");
    let ok = flotilla(&[
        "graph",
        "generate",
        "watts-strogatz",
        "--nodes",
        "12",
        "--k",
        "4",
        "--to",
        "cloth",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let edges = out.join("edges.csv");
    let text = std::fs::read_to_string(&edges).unwrap();
    // Drop the `timelock` column from the header and every row.
    let cut: String = text
        .lines()
        .map(|l| {
            l.rsplit_once(',')
                .map(|(head, _)| head)
                .unwrap_or(l)
                .to_string()
                + "\n"
        })
        .collect();
    std::fs::write(&edges, cut).unwrap();
    assert_clean_failure(
        &["graph", "stats", out.to_str().unwrap()],
        &["edges.csv", "timelock"],
    );
}

#[test]
fn generate_is_deterministic_per_seed() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    for (name, seed) in [("a.json", "7"), ("b.json", "7"), ("c.json", "8")] {
        let out = flotilla(&[
            "graph",
            "generate",
            "barabasi-albert",
            "--nodes",
            "200",
            "--seed",
            seed,
            "-o",
            &path(name),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let read = |n: &str| std::fs::read(path(n)).unwrap();
    assert_eq!(read("a.json"), read("b.json"));
    assert_ne!(read("a.json"), read("c.json"));
    assert_clean_failure(
        &[
            "graph",
            "generate",
            "watts-strogatz",
            "--k",
            "3",
            "-o",
            &path("bad.json"),
        ],
        &["k"],
    );
}

#[test]
fn convert_with_an_unknown_liquidity_model_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixture("lncli-describegraph.json");
    let out = dir.path().join("c");
    assert_clean_failure(
        &[
            "graph",
            "convert",
            f.to_str().unwrap(),
            "--to",
            "cloth",
            "-o",
            out.to_str().unwrap(),
            "--liquidity",
            "bogus",
        ],
        &["unknown liquidity model \"bogus\""],
    );
}

/// `graph stats --json` output without the fields that name the file or time the run.
fn stats_of(stdout: &[u8]) -> Value {
    let mut v: Value = serde_json::from_slice(stdout).unwrap();
    for k in ["file", "import_seconds", "stats_seconds"] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

#[test]
fn a_byte_order_mark_before_json_is_read_by_every_reader() {
    let t = tempfile::tempdir().unwrap();
    let sim = t.path().join("sim.json");
    let o = flotilla(&[
        "graph",
        "convert",
        fixture("lncli-describegraph.json").to_str().unwrap(),
        "--to",
        "simln",
        "-o",
        sim.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (name, source) in [
        ("lncli.json", fixture("lncli-describegraph.json")),
        ("listchannels.json", fixture("listchannels.json")),
        ("sim.json", sim.clone()),
    ] {
        let plain = std::fs::read(&source).unwrap();
        let with_bom = t.path().join(format!("bom-{name}"));
        std::fs::write(&with_bom, [&b"\xef\xbb\xbf"[..], &plain].concat()).unwrap();
        let a = flotilla(&["graph", "stats", source.to_str().unwrap(), "--json"]);
        let b = flotilla(&["graph", "stats", with_bom.to_str().unwrap(), "--json"]);
        assert!(
            b.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&b.stderr)
        );
        assert_eq!(stats_of(&a.stdout), stats_of(&b.stdout), "{name}");
        // Gzipped, too.
        let gz = t.path().join(format!("bom-{name}.gz"));
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut e, &std::fs::read(&with_bom).unwrap()).unwrap();
        std::fs::write(&gz, e.finish().unwrap()).unwrap();
        let c = flotilla(&["graph", "stats", gz.to_str().unwrap(), "--json"]);
        assert!(c.status.success(), "{name}.gz");
        assert_eq!(stats_of(&a.stdout), stats_of(&c.stdout), "{name}.gz");
    }
}

#[test]
fn endless_and_oversized_inputs_stop_early() {
    // /dev/urandom never ends: refused from its first bytes, not read forever.
    if Path::new("/dev/urandom").exists() {
        let start = std::time::Instant::now();
        assert_clean_failure(
            &["graph", "stats", "/dev/urandom"],
            &["/dev/urandom", "binary content"],
        );
        assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    }
    // A small gzip of a valid graph followed by megabytes of spaces: refused at the
    // limit, with the limit and how to raise it in the message.
    let t = tempfile::tempdir().unwrap();
    let mut big = br#"{"nodes":[],"edges":[]}"#.to_vec();
    big.resize(3 << 20, b' ');
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut e, &big).unwrap();
    let p = t.path().join("bomb.json.gz");
    std::fs::write(&p, e.finish().unwrap()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .args(["graph", "stats", p.to_str().unwrap()])
        .env("FLOTILLA_MAX_INPUT_MIB", "2")
        .env_remove("FLOTILLA_GRAPH")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("inflates to more than 2 MiB") && err.contains("FLOTILLA_MAX_INPUT_MIB"),
        "{err}"
    );
    // Under a limit it fits, the same file is an (empty) graph.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .args(["graph", "stats", p.to_str().unwrap(), "--json"])
        .env("FLOTILLA_MAX_INPUT_MIB", "4")
        .env_remove("FLOTILLA_GRAPH")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn generate_refuses_node_counts_beyond_its_bound() {
    let t = tempfile::tempdir().unwrap();
    let o = t.path().join("g.json");
    for model in ["watts-strogatz", "barabasi-albert"] {
        assert_clean_failure(
            &[
                "graph",
                "generate",
                model,
                "--nodes",
                "100000000",
                "-o",
                o.to_str().unwrap(),
            ],
            &["too large: at most 1000000 nodes"],
        );
    }
}
