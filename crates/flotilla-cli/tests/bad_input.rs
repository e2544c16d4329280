//! The bad-input matrix (`docs/bad-input.md`), one test per row: every input flotilla
//! reads, broken in each way we know of, must fail with exactly the error line the
//! matrix shows (exit code 1, one `error:` line on stderr, nothing on stdout, no
//! panic; usage errors found by the argument parser exit with 2 and add clap's usage
//! lines after the first). Each test runs the binary in a fresh directory holding the
//! files it needs, under short relative names, so the lines are the same everywhere.
//!
//! `matrix_names_only_existing_tests_and_their_exact_lines` keeps the document honest:
//! every test it names exists, and every line it quotes for a test of this file is the
//! line that test asserts.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use flotilla_graph::export::write_graph;
use flotilla_graph::generate::WattsStrogatz;
use flotilla_graph::GraphFormat;

/// Writes `files` into a fresh directory, runs `flotilla args…` there and checks that
/// the first stderr line is `expected`.
fn check(files: &[(&str, &[u8])], args: &[&str], expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let p = dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, content).unwrap();
    }
    run_in(dir.path(), args, expected);
}

fn run_in(dir: &Path, args: &[&str], expected: &str) {
    run_in_env(dir, args, &[], expected)
}

/// [`check`] with extra environment variables.
fn check_env(files: &[(&str, &[u8])], args: &[&str], env: &[(&str, &str)], expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    run_in_env(dir.path(), args, env, expected);
}

fn run_in_env(dir: &Path, args: &[&str], env: &[(&str, &str)], expected: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .args(args)
        .current_dir(dir)
        .env_remove("FLOTILLA_GRAPH")
        .env_remove("FLOTILLA_MAX_INPUT_MIB")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .expect("binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().next().unwrap_or("");
    if let Ok(file) = std::env::var("BAD_INPUT_RECORD") {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .unwrap();
        let test = std::thread::current().name().unwrap_or("?").to_string();
        writeln!(f, "{test}\t{first}").unwrap();
        return;
    }
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed on stdout");
    assert_eq!(first, expected, "{args:?}");
    match out.status.code() {
        Some(1) => assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}"),
        Some(2) => assert!(first.starts_with("error: "), "{args:?}"),
        other => panic!("{args:?}: exit {other:?}: {stderr}"),
    }
}

const LNCLI: &str = include_str!("../../flotilla-graph/tests/fixtures/lncli-describegraph.json");
const LISTCHANNELS: &str = include_str!("../../flotilla-graph/tests/fixtures/listchannels.json");

/// The lncli fixture with `f` applied to its JSON.
fn lncli_with(f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_str(LNCLI).unwrap();
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}

/// The listchannels fixture with `f` applied to its JSON.
fn listchannels_with(f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_str(LISTCHANNELS).unwrap();
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}

const ALICE: &str = "0217890e3aad8d35bc054f43acc00084b25229ecff0ab68debd82883ad65ee8266";
const BOB: &str = "0242a4ae0c5bef18048fbecf995094b74bfb0f7391418d71ed394784373f41e4f3";

/// A one-channel sim-ln `sim.json` with `f` applied.
fn simln_with(f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let side = |pk: &str| {
        serde_json::json!({
            "pubkey": pk, "max_htlc_count": 483, "max_in_flight_msat": 250000,
            "min_htlc_size_msat": 1, "max_htlc_size_msat": 100000,
            "cltv_expiry_delta": 40, "base_fee": 1000, "fee_rate_prop": 100
        })
    };
    let mut v = serde_json::json!({
        "sim_network": [{"scid": 1, "capacity_msat": 250000, "node_1": side(ALICE), "node_2": side(BOB)}]
    });
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}

const CLOTH_NODES: &str = "id\n1\n2\n";
const CLOTH_CHANNELS: &str =
    "id,edge1_id,edge2_id,node1_id,node2_id,capacity\n5,10,11,1,2,1000000\n";
const CLOTH_EDGES: &str = "id,channel_id,counter_edge_id,from_node_id,to_node_id,balance,fee_base,fee_proportional,min_htlc,timelock\n\
10,5,11,1,2,600000,1000,1,1000,40\n\
11,5,10,2,1,400000,1000,1,1000,40\n";

fn cloth(nodes: &str, channels: &str, edges: &str) -> [(&'static str, Vec<u8>); 3] {
    [
        ("net/nodes.csv", nodes.as_bytes().to_vec()),
        ("net/channels.csv", channels.as_bytes().to_vec()),
        ("net/edges.csv", edges.as_bytes().to_vec()),
    ]
}

fn check_cloth(files: [(&str, Vec<u8>); 3], expected: &str) {
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, c)| (*n, &c[..])).collect();
    check(&refs, &["graph", "stats", "net"], expected);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A 12-node Watts–Strogatz graph as describegraph JSON (node aliases `ws-0`…`ws-11`).
fn ws() -> Vec<u8> {
    let (g, _) = WattsStrogatz {
        n: 12,
        k: 4,
        ..WattsStrogatz::default()
    }
    .generate(5)
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("g.json");
    write_graph(&g, None, GraphFormat::Describegraph, &p).unwrap();
    std::fs::read(p).unwrap()
}

/// Runs `flotilla sim s.toml` with the scenario `toml` (its graph is `g.json`, the
/// 12-node graph) and extra files.
fn check_sim(toml: &str, extra: &[(&str, &[u8])], expected: &str) {
    let g = ws();
    let mut files: Vec<(&str, &[u8])> = vec![("s.toml", toml.as_bytes()), ("g.json", &g)];
    files.extend_from_slice(extra);
    check(&files, &["sim", "s.toml", "--quiet"], expected);
}

// ---------------------------------------------------------------------------------------
// Graph files: any format
// ---------------------------------------------------------------------------------------

#[test]
fn graph_missing_file() {
    check(
        &[],
        &["graph", "stats", "nope.json"],
        r#"error: cannot read graph: nope.json: No such file or directory (os error 2)"#,
    );
}

#[test]
fn graph_empty_file() {
    check(
        &[("g.json", b"")],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: unknown graph format: the file is empty"#,
    );
}

#[test]
fn graph_neither_json_nor_csv() {
    check(
        &[("g.txt", b"hello world\n")],
        &["graph", "stats", "g.txt"],
        r#"error: cannot read graph: g.txt: unknown graph format: content starts with "hello world"; expected a JSON object (describegraph, listchannels, sim.json) or CLoTH CSV"#,
    );
}

#[test]
fn graph_json_without_known_keys() {
    check(
        &[("g.json", br#"{"foo": []}"#)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: unknown graph format: a JSON object with top-level keys ["foo"]; expected `edges` (lnd describegraph), `channels` (CLN listchannels) or `sim_network` (sim-ln)"#,
    );
}

#[test]
fn graph_truncated_json() {
    let b = &LNCLI.as_bytes()[..LNCLI.len() / 2];
    check(
        &[("g.json", b)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: invalid JSON: the file ends early (truncated?) near `edges[0].chan_point`: EOF while parsing a string at line 92 column 81"#,
    );
}

#[test]
fn graph_truncated_gzip() {
    let z = gzip(LNCLI.as_bytes());
    check(
        &[("g.json.gz", &z[..z.len() / 2])],
        &["graph", "stats", "g.json.gz"],
        r#"error: cannot read graph: g.json.gz: truncated or corrupt gzip data: incomplete deflate stream"#,
    );
}

#[test]
fn graph_forced_format_mismatch() {
    check(
        &[("g.json", LISTCHANNELS.as_bytes())],
        &["graph", "stats", "g.json", "--format", "describegraph"],
        r#"error: cannot read graph: g.json: missing field `edges` at line 74 column 1"#,
    );
}

/// Found by fuzzing: a JSON key with an escaped newline put a line break in the error.
#[test]
fn graph_control_character_in_key() {
    check(
        &[("s.json", b"{\"sim\\network\":[[\"n77.\n")],
        &["graph", "stats", "s.json", "--format", "simln"],
        r#"error: cannot read graph: s.json: invalid JSON near `sim\network`: control character (\u0000-\u001F) found while parsing a string at line 1 column 22"#,
    );
}

#[test]
fn graph_unknown_format_flag() {
    check(
        &[("g.json", LNCLI.as_bytes())],
        &["graph", "stats", "g.json", "--format", "lnd"],
        r#"error: invalid value 'lnd' for '--format <FORMAT>'"#,
    );
}

#[test]
fn graph_directory_without_cloth_files() {
    check(
        &[("d/readme.txt", b"x")],
        &["graph", "stats", "d"],
        r#"error: cannot read graph: d: unknown graph format: a directory must hold CLoTH's nodes.csv, channels.csv and edges.csv (or nodes_ln.csv, channels_ln.csv and edges_ln.csv)"#,
    );
}

#[test]
fn graph_env_default_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .args(["graph", "stats"])
        .current_dir(dir.path())
        .env("FLOTILLA_GRAPH", "missing.json")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().next().unwrap_or("");
    if let Ok(file) = std::env::var("BAD_INPUT_RECORD") {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .unwrap();
        writeln!(f, "graph_env_default_missing\t{first}").unwrap();
        return;
    }
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        first,
        r#"error: cannot read graph (named by FLOTILLA_GRAPH): missing.json: No such file or directory (os error 2)"#
    );
}

// ---------------------------------------------------------------------------------------
// lnd describegraph
// ---------------------------------------------------------------------------------------

#[test]
fn describegraph_invalid_pubkey_hex() {
    let b = lncli_with(|v| v["nodes"][1]["pub_key"] = "02zz".into());
    check(
        &[("g.json", &b)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: nodes[1], field `pub_key`: invalid public key "02zz": expected 66 hex digits, got 4 characters"#,
    );
}

#[test]
fn describegraph_pubkey_not_on_curve() {
    let b = lncli_with(|v| v["nodes"][1]["pub_key"] = format!("02{}", "00".repeat(32)).into());
    check(
        &[("g.json", &b)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: nodes[1], field `pub_key`: invalid public key "020000000000000000000000000000000000000000000000000000000000000000": not a valid compressed secp256k1 point"#,
    );
}

#[test]
fn describegraph_negative_capacity() {
    let b = lncli_with(|v| v["edges"][0]["capacity"] = "-5".into());
    check(
        &[("g.json", &b)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: edges[0], field `capacity`: negative value "-5" is not allowed at line 1 column 26"#,
    );
}

#[test]
fn describegraph_fractional_amount() {
    let b = lncli_with(|v| v["edges"][0]["capacity"] = "1.5".into());
    check(
        &[("g.json", &b)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: edges[0], field `capacity`: "1.5" is not a non-negative integer at line 1 column 27"#,
    );
}

#[test]
fn describegraph_overflowing_amount() {
    let b = lncli_with(|v| v["edges"][1]["capacity"] = "99999999999999999999999".into());
    check(
        &[("g.json", &b)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: edges[1], field `capacity`: value "99999999999999999999999" overflows the field (maximum 18446744073709551615) at line 1 column 684"#,
    );
}

#[test]
fn describegraph_wrong_type() {
    let b = lncli_with(|v| v["edges"][0]["node1_policy"]["fee_base_msat"] = true.into());
    check(
        &[("g.json", &b)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: edges[0], field `node1_policy.fee_base_msat`: invalid type: boolean `true`, expected a non-negative integer (number or decimal string) up to 4294967295 at line 1 column 246"#,
    );
}

#[test]
fn describegraph_missing_field() {
    let b = lncli_with(|v| {
        v["edges"][2].as_object_mut().unwrap().remove("channel_id");
    });
    check(
        &[("g.json", &b)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: edges[2]: missing field `channel_id` at line 1 column 1931"#,
    );
}

#[test]
fn describegraph_duplicate_channel() {
    let b = lncli_with(|v| {
        let e = v["edges"][0].clone();
        v["edges"].as_array_mut().unwrap().push(e);
    });
    check(
        &[("g.json", &b)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: edges[3] (channel_id 747667906968551425), field `channel_id`: duplicate channel id 680000x1234x1"#,
    );
}

#[test]
fn describegraph_self_loop() {
    let b = lncli_with(|v| {
        let n1 = v["edges"][0]["node1_pub"].clone();
        v["edges"][0]["node2_pub"] = n1;
    });
    check(
        &[("g.json", &b)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: edges[0] (channel_id 747667906968551425), field `node2_pub`: channel from node 0217890e3aad8d35bc054f43acc00084b25229ecff0ab68debd82883ad65ee8266 to itself"#,
    );
}

#[test]
fn describegraph_bad_channel_id() {
    let b = lncli_with(|v| v["edges"][0]["channel_id"] = "12x".into());
    check(
        &[("g.json", &b)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: edges[0], field `channel_id`: "12x" is not a non-negative integer at line 1 column 132"#,
    );
}

// ---------------------------------------------------------------------------------------
// CLN listchannels
// ---------------------------------------------------------------------------------------

#[test]
fn listchannels_missing_field() {
    let b = listchannels_with(|v| {
        v["channels"][1]
            .as_object_mut()
            .unwrap()
            .remove("short_channel_id");
    });
    check(
        &[("g.json", &b)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: channels[1]: missing field `short_channel_id` at line 1 column 938"#,
    );
}

#[test]
fn listchannels_bad_short_channel_id() {
    let b = listchannels_with(|v| v["channels"][0]["short_channel_id"] = "680000x1234".into());
    check(
        &[("g.json", &b)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: channels[0] (short_channel_id 680000x1234), field `short_channel_id`: invalid short channel id "680000x1234": expected BLOCKxTXxOUT or a decimal integer"#,
    );
}

#[test]
fn listchannels_bad_msat_string() {
    let b = listchannels_with(|v| v["channels"][0]["amount_msat"] = "5000sat".into());
    check(
        &[("g.json", &b)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: channels[0], field `amount_msat`: "5000sat" is not a non-negative integer at line 1 column 51"#,
    );
}

#[test]
fn listchannels_duplicate_direction() {
    let b = listchannels_with(|v| {
        let c = v["channels"][0].clone();
        v["channels"].as_array_mut().unwrap().push(c);
    });
    check(
        &[("g.json", &b)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: channels[4] (short_channel_id 680000x1234x1), field `short_channel_id`: duplicate channel id 680000x1234x1: direction from this source given twice"#,
    );
}

// ---------------------------------------------------------------------------------------
// sim-ln sim.json
// ---------------------------------------------------------------------------------------

#[test]
fn simln_missing_pubkey() {
    let b = simln_with(|v| {
        v["sim_network"][0]["node_2"]
            .as_object_mut()
            .unwrap()
            .remove("pubkey");
    });
    check(
        &[("sim.json", &b)],
        &["graph", "stats", "sim.json"],
        r#"error: cannot read graph: sim.json: sim_network[0], field `node_2`: missing field `pubkey` at line 1 column 457"#,
    );
}

#[test]
fn simln_negative_capacity() {
    let b = simln_with(|v| v["sim_network"][0]["capacity_msat"] = (-1).into());
    check(
        &[("sim.json", &b)],
        &["graph", "stats", "sim.json"],
        r#"error: cannot read graph: sim.json: sim_network[0], field `capacity_msat`: negative value -1 is not allowed at line 1 column 35"#,
    );
}

#[test]
fn simln_capacity_not_whole_sats() {
    let b = simln_with(|v| v["sim_network"][0]["capacity_msat"] = 250_500.into());
    check(
        &[("sim.json", &b)],
        &["graph", "stats", "sim.json"],
        r#"error: cannot read graph: sim.json: sim_network[0] (scid 1), field `capacity_msat`: capacity 250500 msat is not a whole number of satoshis (flotilla keeps capacities in sat)"#,
    );
}

#[test]
fn simln_duplicate_scid() {
    let b = simln_with(|v| {
        let c = v["sim_network"][0].clone();
        v["sim_network"].as_array_mut().unwrap().push(c);
    });
    check(
        &[("sim.json", &b)],
        &["graph", "stats", "sim.json"],
        r#"error: cannot read graph: sim.json: sim_network[1] (scid 1), field `scid`: duplicate channel id 1"#,
    );
}

#[test]
fn simln_self_loop() {
    let b = simln_with(|v| v["sim_network"][0]["node_2"]["pubkey"] = ALICE.into());
    check(
        &[("sim.json", &b)],
        &["graph", "stats", "sim.json"],
        r#"error: cannot read graph: sim.json: sim_network[0] (scid 1), field `node_2.pubkey`: channel from node 0217890e3aad8d35bc054f43acc00084b25229ecff0ab68debd82883ad65ee8266 to itself"#,
    );
}

// ---------------------------------------------------------------------------------------
// CLoTH CSV
// ---------------------------------------------------------------------------------------

#[test]
fn cloth_missing_column() {
    check_cloth(
        cloth(
            CLOTH_NODES,
            "id,edge1_id,edge2_id,node1_id,node2_id\n5,10,11,1,2\n",
            CLOTH_EDGES,
        ),
        r#"error: cannot read graph: net/channels.csv: line 1 (header), field `capacity`: missing column `capacity`; CLoTH's header is `id,edge1_id,edge2_id,node1_id,node2_id,capacity`"#,
    );
}

#[test]
fn cloth_non_integer_id() {
    check_cloth(
        cloth("id\n1\ntwo\n", CLOTH_CHANNELS, CLOTH_EDGES),
        r#"error: cannot read graph: net/nodes.csv: line 3, field `id`: "two" is not an integer id"#,
    );
}

#[test]
fn cloth_unknown_node() {
    check_cloth(
        cloth(
            CLOTH_NODES,
            "id,edge1_id,edge2_id,node1_id,node2_id,capacity\n5,10,11,1,3,1000000\n",
            CLOTH_EDGES,
        ),
        r#"error: cannot read graph: net/channels.csv: line 2, field `node2_id`: unknown node id 3 (not in net/nodes.csv)"#,
    );
}

#[test]
fn cloth_balances_do_not_sum_to_capacity() {
    check_cloth(
        cloth(
            CLOTH_NODES,
            "id,edge1_id,edge2_id,node1_id,node2_id,capacity\n5,10,11,1,2,2000000\n",
            CLOTH_EDGES,
        ),
        r#"error: cannot read graph: net/channels.csv: line 2, field `capacity`: channel 5: the balances of edges 10 (net/edges.csv line 2) and 11 (line 3) sum to 1000000 msat, not the capacity 2000000 msat"#,
    );
}

#[test]
fn cloth_missing_edge() {
    let edges: String = CLOTH_EDGES.lines().take(2).collect::<Vec<_>>().join("\n");
    check_cloth(
        cloth(CLOTH_NODES, CLOTH_CHANNELS, &edges),
        r#"error: cannot read graph: net/channels.csv: line 2, field `edge2_id`: edge 11 of channel 5 is missing from net/edges.csv"#,
    );
}

#[test]
fn cloth_missing_sibling_file() {
    check(
        &[("net/nodes.csv", CLOTH_NODES.as_bytes())],
        &["graph", "stats", "net/nodes.csv"],
        r#"error: cannot read graph: net/channels.csv: CLoTH needs this file next to net/nodes.csv"#,
    );
}

// ---------------------------------------------------------------------------------------
// Liquidity (balances)
// ---------------------------------------------------------------------------------------

#[test]
fn liquidity_unknown_model_flag() {
    check(
        &[("g.json", LNCLI.as_bytes())],
        &[
            "graph",
            "convert",
            "g.json",
            "--to",
            "cloth",
            "-o",
            "out",
            "--liquidity",
            "lots",
        ],
        r#"error: --liquidity: unknown liquidity model "lots": not a model name (expected uniform, half, bimodal, bimodal:SCALE_MSAT or bimodal:PERCENT%)"#,
    );
}

#[test]
fn liquidity_bad_bimodal_scale() {
    check_sim(
        "[graph]\nfile = \"g.json\"\nliquidity = \"bimodal:abc\"\n",
        &[],
        r#"error: s.toml: graph.liquidity: unknown liquidity model "bimodal:abc": the scale must be an integer msat amount or a percentage such as 10% (expected uniform, half, bimodal, bimodal:SCALE_MSAT or bimodal:PERCENT%)"#,
    );
}

#[test]
fn liquidity_file_without_balances() {
    check_sim(
        "[graph]\nfile = \"g.json\"\nliquidity = \"file\"\n",
        &[],
        r#"error: s.toml: graph.liquidity = "file" needs a graph file with balances (CLoTH); g.json has none"#,
    );
}

// ---------------------------------------------------------------------------------------
// Scenario TOML
// ---------------------------------------------------------------------------------------

#[test]
fn scenario_missing_file() {
    check(
        &[],
        &["sim", "nope.toml"],
        r#"error: cannot read nope.toml: No such file or directory (os error 2)"#,
    );
}

#[test]
fn scenario_syntax_error() {
    check_sim(
        "[graph\nfile = \"g.json\"\n",
        &[],
        r#"error: s.toml: line 1, column 7: invalid table header expected `.`, `]`"#,
    );
}

#[test]
fn scenario_unknown_key() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[workload]\npaymentz = 5\n",
        &[],
        r#"error: s.toml: line 4, column 1: unknown field `paymentz`, expected one of `kind`, `payments`, `arrivals_per_sec`, `file`, `amount`, `demand`, `balanced`, `closed_loop`, `top_senders`, `top_senders_by`"#,
    );
}

#[test]
fn scenario_wrong_type() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[workload]\npayments = \"ten\"\n",
        &[],
        r#"error: s.toml: line 4, column 12: invalid type: string "ten", expected u64"#,
    );
}

#[test]
fn scenario_zero_payments() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[workload]\npayments = 0\n",
        &[],
        r#"error: s.toml: `workload.payments`: an empty workload: at least one payment is needed"#,
    );
}

#[test]
fn scenario_unknown_arm() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[sender]\narms = [\"fastest\"]\n",
        &[],
        r#"error: s.toml: sender.arms: unknown arm "fastest"; known arms: single-path-retry, single-path-retry-ldk, single-path-retry-apriori, mpp-retry, mpp-retry-greedy, mpp-retry-mcf, mpp-retry-halving, mpp-retry-ldk, redundant-sender_hash-0.5, redundant-h2tlc-0.5, redundant-boomerang-0.5, redundant-h2tlc-0.5-retry, redundant-boomerang-1.0-retry, redundant-h2tlc-adaptive, redundant-boomerang-adaptive, redundant-h2tlc-split-0.5, redundant-sender_hash-split-0.25-retry, redundant-h2tlc-k10-0.5, redundant-boomerang-k10-0.5-retry, redundant-h2tlc-20000sat-0.5, paper-retry-25, paper-redundant-25, paper-redundant-10-retry-125"#,
    );
}

#[test]
fn scenario_unknown_preset() {
    check_sim(
        "preset = \"clth\"\n[graph]\nfile = \"g.json\"\n",
        &[],
        r#"error: s.toml: `preset`: unknown preset "clth"; known presets: cloth"#,
    );
}

#[test]
fn cli_unknown_preset_set() {
    let g = ws();
    check(
        &[("g.json", g.as_slice())],
        &[
            "sim",
            "--graph",
            "g.json",
            "--set",
            "preset=clth",
            "--quiet",
        ],
        r#"error: --set preset="clth": `preset`: unknown preset "clth"; known presets: cloth"#,
    );
}

#[test]
fn scenario_share_out_of_range() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[network]\noffline_share = 1.5\n",
        &[],
        r#"error: s.toml: `network.offline_share`: must be a share between 0 and 1"#,
    );
}

#[test]
fn scenario_unknown_latency_model() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[network.latency]\nmodel = \"gamma\"\n",
        &[],
        r#"error: s.toml: line 4, column 9: unknown variant `gamma`, expected one of `constant`, `uniform`, `lognormal`, `zero`"#,
    );
}

#[test]
fn scenario_amount_range_reversed() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[workload.amount]\ndistribution = \"uniform\"\nmin_sat = 10\nmax_sat = 5\n",
        &[],
        r#"error: s.toml: `workload.amount`: min_sat is larger than max_sat"#,
    );
}

#[test]
fn scenario_closed_loop_zero_concurrency() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[workload]\nkind = \"closed_loop\"\n[workload.closed_loop]\nconcurrency = 0\n",
        &[],
        r#"error: s.toml: `workload.closed_loop.concurrency`: must be at least 1"#,
    );
}

#[test]
fn scenario_closed_loop_unknown_sender() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[workload]\nkind = \"closed_loop\"\n[[workload.closed_loop.nodes]]\nnode = \"nobody\"\n",
        &[],
        r#"error: s.toml: workload.closed_loop.nodes[0].node: no node with public key or alias "nobody" in the graph"#,
    );
}

#[test]
fn scenario_quantiles_not_increasing() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[workload.amount]\ndistribution = \"quantiles\"\npoints = [{ q = 0.2, sat = 10 }, { q = 0.1, sat = 20 }]\n",
        &[],
        r#"error: s.toml: `workload.amount.points[1].q`: quantiles must increase: 0.1 follows 0.2"#,
    );
}

#[test]
fn scenario_quantiles_unknown_preset() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[workload.amount]\ndistribution = \"quantiles\"\npreset = \"visa\"\n",
        &[],
        r#"error: s.toml: `workload.amount.preset`: unknown table "visa" (known: ripple)"#,
    );
}

#[test]
fn scenario_balanced_zero_window() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[workload]\ndemand = \"balanced\"\n[workload.balanced]\nwindow = 0\n",
        &[],
        r#"error: s.toml: `workload.balanced.window`: 0 is not a count from 1 to 1000000"#,
    );
}

#[test]
fn scenario_graph_file_missing() {
    check(
        &[("s.toml", b"[graph]\nfile = \"none.json\"\n")],
        &["sim", "s.toml", "--quiet"],
        r#"error: cannot read graph: none.json: No such file or directory (os error 2)"#,
    );
}

#[test]
fn scenario_unknown_override_node() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[[network.overrides]]\nnode = \"nobody\"\nfee_base_msat = 0\n",
        &[],
        r#"error: s.toml: network.overrides[0].node: no node with public key or alias "nobody" in the graph"#,
    );
}

// ---------------------------------------------------------------------------------------
// Workload files
// ---------------------------------------------------------------------------------------

const CSV_SCENARIO: &str =
    "[graph]\nfile = \"g.json\"\n[workload]\nkind = \"csv\"\nfile = \"pay.csv\"\n";

#[test]
fn workload_csv_missing_file() {
    check_sim(
        CSV_SCENARIO,
        &[],
        r#"error: workload: pay.csv: No such file or directory (os error 2)"#,
    );
}

#[test]
fn workload_csv_missing_column() {
    check_sim(
        CSV_SCENARIO,
        &[("pay.csv", b"time_secs,source,amount_msat\n1,ws-0,5000\n")],
        r#"error: pay.csv: line 1 (header): missing column `destination` (have: time_secs,source,amount_msat)"#,
    );
}

#[test]
fn workload_csv_bad_amount() {
    check_sim(
        CSV_SCENARIO,
        &[(
            "pay.csv",
            b"time_secs,source,destination,amount_msat\n1,ws-0,ws-3,lots\n",
        )],
        r#"error: pay.csv: line 2, column `amount_msat`: "lots": invalid digit found in string"#,
    );
}

#[test]
fn workload_csv_unknown_node() {
    check_sim(
        CSV_SCENARIO,
        &[(
            "pay.csv",
            b"time_secs,source,destination,amount_msat\n1,ws-0,nobody,5000\n",
        )],
        r#"error: pay.csv: line 2, field `destination`: no node with public key or alias "nobody" in the graph"#,
    );
}

#[test]
fn workload_csv_empty() {
    check_sim(
        CSV_SCENARIO,
        &[("pay.csv", b"time_secs,source,destination,amount_msat\n")],
        r#"error: workload: the workload is empty: no payment to simulate"#,
    );
}

#[test]
fn workload_cloth_payments_bad_row() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[workload]\nkind = \"cloth\"\nfile = \"payments.csv\"\n",
        &[(
            "payments.csv",
            b"id,sender_id,receiver_id,amount,start_time\n0,ws-1,ws-1,1000,0\n",
        )],
        r#"error: payments.csv: line 2: a payment needs a positive amount and two different nodes"#,
    );
}

#[test]
fn workload_simln_activity_unknown_node() {
    let b = simln_with(|v| {
        v["activity"] = serde_json::json!([{
            "source": ALICE, "destination": format!("03{}", "11".repeat(32)),
            "interval_secs": 1, "amount_msat": 1000
        }]);
    });
    check(
        &[("sim.json", &b)],
        &["sim", "sim.json", "--quiet"],
        r#"error: sim.json: activity[0], field `destination`: no node with public key or alias "031111111111111111111111111111111111111111111111111111111111111111" in the graph"#,
    );
}

// ---------------------------------------------------------------------------------------
// Invoices
// ---------------------------------------------------------------------------------------

/// BOLT 11's first example invoice.
const SPEC_INVOICE: &str = "lnbc1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwvs8qun0dfjkxaq9qrsgq357wnc5r2ueh7ck6q93dj32dlqnls087fxdwk8qakdyafkq3yap9us6v52vjjsrvywa6rt52cm9r9zqt8r2t7mlcwspyetp5h2tztugp9lfyql";

#[test]
fn invoice_bad_checksum() {
    let mut s = SPEC_INVOICE.to_string();
    s.pop();
    s.push('q');
    check(
        &[],
        &["invoice", "decode", &s],
        r#"error: cannot decode the invoice: bad checksum: the invoice was altered or mistyped (a single changed character is enough); copy it again exactly"#,
    );
}

#[test]
fn invoice_not_bech32() {
    check(
        &[],
        &["invoice", "decode", "hello"],
        r#"error: cannot decode the invoice: malformed bech32: character 'o' is not in the bech32 alphabet"#,
    );
}

#[test]
fn invoice_truncated() {
    check(
        &[],
        &["invoice", "decode", &SPEC_INVOICE[..60]],
        r#"error: cannot decode the invoice: bad checksum: the invoice was altered or mistyped (a single changed character is enough); copy it again exactly"#,
    );
}

#[test]
fn invoice_empty() {
    check(
        &[],
        &["invoice", "decode", ""],
        r#"error: cannot decode the invoice: malformed bech32: the invoice is empty"#,
    );
}

#[test]
fn invoice_create_zero_amount() {
    check(
        &[],
        &["invoice", "create", "--amount-msat", "0"],
        r#"error: --amount-msat must be positive: an invoice for 0 msat cannot be paid"#,
    );
}

#[test]
fn invoice_create_bad_node_key() {
    check(
        &[],
        &[
            "invoice",
            "create",
            "--amount-msat",
            "1000",
            "--node-key",
            "zz",
        ],
        r#"error: --node-key: invalid node key: 'z' at position 1 is not a hex digit"#,
    );
}

#[test]
fn invoice_create_description_too_long() {
    let d = "x".repeat(700);
    check(
        &[],
        &[
            "invoice",
            "create",
            "--amount-msat",
            "1000",
            "--description",
            &d,
        ],
        r#"error: cannot create the invoice: description is 700 bytes long; BOLT 11 allows at most 639"#,
    );
}

// ---------------------------------------------------------------------------------------
// Command-line arguments
// ---------------------------------------------------------------------------------------

#[test]
fn cli_not_a_number() {
    check(
        &[],
        &["sim", "--payments", "many"],
        r#"error: invalid value 'many' for '--payments <N>': invalid digit found in string"#,
    );
}

#[test]
fn cli_unknown_arm_flag() {
    let g = ws();
    check(
        &[("g.json", &g)],
        &["sim", "--graph", "g.json", "--arms", "fastest", "--quiet"],
        r#"error: --arms: unknown arm "fastest"; known arms: single-path-retry, single-path-retry-ldk, single-path-retry-apriori, mpp-retry, mpp-retry-greedy, mpp-retry-mcf, mpp-retry-halving, mpp-retry-ldk, redundant-sender_hash-0.5, redundant-h2tlc-0.5, redundant-boomerang-0.5, redundant-h2tlc-0.5-retry, redundant-boomerang-1.0-retry, redundant-h2tlc-adaptive, redundant-boomerang-adaptive, redundant-h2tlc-split-0.5, redundant-sender_hash-split-0.25-retry, redundant-h2tlc-k10-0.5, redundant-boomerang-k10-0.5-retry, redundant-h2tlc-20000sat-0.5, paper-retry-25, paper-redundant-25, paper-redundant-10-retry-125"#,
    );
}

#[test]
fn cli_unknown_command() {
    check(
        &[],
        &["simulate"],
        r#"error: unrecognized subcommand 'simulate'"#,
    );
}

#[test]
fn cli_route_unknown_node() {
    check(
        &[("g.json", LNCLI.as_bytes())],
        &[
            "route",
            "--graph",
            "g.json",
            "--from",
            "alice",
            "--to",
            "nobody",
            "--amount-msat",
            "1000",
        ],
        r#"error: --from: no node with public key or alias "alice" in the graph"#,
    );
}

// ---------------------------------------------------------------------------------------
// Results directories and output files
// ---------------------------------------------------------------------------------------

#[test]
fn results_out_is_a_file() {
    let g = ws();
    check(
        &[("g.json", &g), ("out", b"not a directory")],
        &[
            "sim",
            "--graph",
            "g.json",
            "--payments",
            "5",
            "--out",
            "out",
            "--quiet",
        ],
        r#"error: out: exists and is not a directory; choose another --out"#,
    );
}

#[test]
fn results_export_into_missing_directory() {
    let g = ws();
    check(
        &[("g.json", &g)],
        &[
            "sim",
            "--graph",
            "g.json",
            "--payments",
            "5",
            "--export-simln",
            "no/such/dir/sim.json",
            "--quiet",
        ],
        r#"error: no/such/dir/sim.json: No such file or directory (os error 2)"#,
    );
}

#[test]
fn convert_output_into_missing_directory() {
    check(
        &[("g.json", LNCLI.as_bytes())],
        &[
            "graph",
            "convert",
            "g.json",
            "--to",
            "simln",
            "-o",
            "no/such/dir/sim.json",
        ],
        r#"error: cannot convert g.json to simln: no/such/dir/sim.json: No such file or directory (os error 2)"#,
    );
}

// ---------------------------------------------------------------------------------------
// Bounded input, amounts within the bitcoin supply, odd but common formats
// ---------------------------------------------------------------------------------------

/// A describegraph file followed by megabytes of spaces, gzipped into a few kilobytes:
/// the shape of a decompression bomb that used to be read whole and accepted.
fn spaces_bomb(mib: usize) -> Vec<u8> {
    let mut big = br#"{"nodes":[],"edges":[]}"#.to_vec();
    big.resize(mib << 20, b' ');
    gzip(&big)
}

#[test]
fn graph_gzip_inflates_past_the_limit() {
    check_env(
        &[("g.json.gz", &spaces_bomb(2))],
        &["graph", "stats", "g.json.gz"],
        &[("FLOTILLA_MAX_INPUT_MIB", "1")],
        r#"error: cannot read graph: g.json.gz: the gzip data inflates to more than 1 MiB, the input limit (set FLOTILLA_MAX_INPUT_MIB to raise it)"#,
    );
}

#[test]
fn graph_input_limit_not_a_number() {
    check_env(
        &[("g.json", LNCLI.as_bytes())],
        &["graph", "stats", "g.json"],
        &[("FLOTILLA_MAX_INPUT_MIB", "lots")],
        r#"error: cannot read graph: FLOTILLA_MAX_INPUT_MIB="lots" is not a positive whole number of MiB (the limit on a graph file's content)"#,
    );
}

#[test]
fn graph_binary_content() {
    check(
        &[("g.json", b"\x8f\x00\x13\xfe\x01\x02\x03\x04\x05\x06")],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: unknown graph format: binary content (starts with bytes 8f 00 13 fe 01 02 03 04), not JSON or CSV text"#,
    );
}

#[test]
fn graph_whitespace_only() {
    check(
        &[("g.json", b"  \n\t\n")],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: unknown graph format: the file holds only whitespace (5 bytes: 2 spaces, 2 newlines, 1 tab)"#,
    );
}

#[test]
fn describegraph_capacity_above_supply() {
    // Two channels of 2^63 sat used to sum to a total capacity of 0.
    let b = lncli_with(|v| {
        v["edges"][0]["capacity"] = "9223372036854775808".into();
        v["edges"][1]["capacity"] = "9223372036854775808".into();
    });
    check(
        &[("g.json", &b)],
        &["graph", "stats", "g.json"],
        r#"error: cannot read graph: g.json: edges[0] (channel_id 747667906968551425), field `capacity`: capacity 9223372036854775808 sat brings the graph's total to more than the 21,000,000 BTC that will ever exist (at most 2100000000000000 sat in all channels together)"#,
    );
}

#[test]
fn scenario_payments_above_limit() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[workload]\npayments = 1000000000000\n",
        &[],
        r#"error: s.toml: `workload.payments`: 1000000000000 is above the limit of 10000000"#,
    );
}

#[test]
fn scenario_duplicate_arm() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[sender]\narms = [\"mpp-retry\", \"mpp-retry\"]\n",
        &[],
        r#"error: s.toml: `sender.arms`: arm "mpp-retry" is named twice; each arm must be named once"#,
    );
}

#[test]
fn scenario_redundancy_above_limit() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[sender]\narms = [\"redundant-h2tlc-1000000000\"]\n",
        &[],
        r#"error: s.toml: `sender.arms`: arm "redundant-h2tlc-1000000000": redundancy 1000000000 is above the limit of 100"#,
    );
}

#[test]
fn scenario_base_parts_above_limit() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[sender]\nredundant_base_parts = 4000000000\n",
        &[],
        r#"error: s.toml: `sender.redundant_base_parts`: 4000000000 is above the limit of 1000"#,
    );
}

#[test]
fn scenario_too_many_arms() {
    let arms: Vec<String> = (0..10_000)
        .map(|i| format!("\"redundant-h2tlc-{}\"", i % 100))
        .collect();
    check_sim(
        &format!(
            "[graph]\nfile = \"g.json\"\n[sender]\narms = [{}]\n",
            arms.join(",")
        ),
        &[],
        r#"error: s.toml: `sender.arms`: 10000 arms is above the limit of 64"#,
    );
}

#[test]
fn scenario_amount_above_supply() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[workload.amount]\ndistribution = \"uniform\"\nmin_sat = 9000000000000000000\nmax_sat = 9000000000000000000\n",
        &[],
        r#"error: s.toml: `workload.amount.min_sat`: 9000000000000000000 sat is more than the 21,000,000 BTC that will ever exist (at most 2100000000000000 sat)"#,
    );
}

#[test]
fn scenario_amount_sigma_above_limit() {
    check_sim(
        "[graph]\nfile = \"g.json\"\n[workload.amount]\ndistribution = \"lognormal\"\nmedian_sat = 1000\nsigma = 1000.0\n",
        &[],
        r#"error: s.toml: `workload.amount.sigma`: 1000 is above the limit of 10"#,
    );
}

#[test]
fn workload_csv_amount_above_supply() {
    check_sim(
        CSV_SCENARIO,
        &[(
            "pay.csv",
            b"time_secs,source,destination,amount_msat\n1,ws-0,ws-3,18446744073709551615\n",
        )],
        r#"error: pay.csv: line 2: 18446744073709551615 msat is more than the 21,000,000 BTC that will ever exist (at most 2100000000000000000 msat)"#,
    );
}

#[test]
fn cli_generate_too_many_nodes() {
    check(
        &[],
        &[
            "graph",
            "generate",
            "watts-strogatz",
            "--nodes",
            "100000000",
            "-o",
            "g.json",
        ],
        r#"error: watts-strogatz: n = 100000000: too large: at most 1000000 nodes"#,
    );
}

#[test]
fn cli_zero_threads() {
    check(
        &[],
        &["sim", "--threads", "0"],
        r#"error: invalid value '0' for '--threads <N>': 0 threads cannot run anything: give at least 1, or leave --threads out for one per core"#,
    );
}

#[test]
fn invoice_create_zero_expiry() {
    check(
        &[],
        &[
            "invoice",
            "create",
            "--amount-msat",
            "1000",
            "--expiry-secs",
            "0",
        ],
        r#"error: --expiry-secs must be at least 1: an invoice with expiry 0 has expired the moment it is created"#,
    );
}

/// A correctly signed invoice for 0 msat (`lnbc0m…`, signed with BOLT 11's example key), as another tool
/// might write it; `invoice create` refuses 0 and so does `decode`.
const ZERO_AMOUNT_INVOICE: &str = "lnbc0m1pvjluezdq80fjhymcpp5qurswpc8qurswpc8qurswpc8qurswpc8qurswpc8qurswpc8qurssp5pqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyq9qrsgqcqpjua2grpvzlkqcl2nd67znfezagc8mgj6tm24de95lvqw0kgj6kpfxh7n36u0q42ccvwm9lkzv0wetky5pkh8ry2l9k6yrcxe07x7gnkqq7tjzjv";

#[test]
fn invoice_decode_zero_amount() {
    check(
        &[],
        &["invoice", "decode", ZERO_AMOUNT_INVOICE],
        r#"error: cannot decode the invoice: bad amount in prefix "lnbc0m": an amount of 0 cannot be paid (an invoice for any amount leaves the amount out of the prefix)"#,
    );
}

// ---------------------------------------------------------------------------------------
// The matrix document
// ---------------------------------------------------------------------------------------

/// Every row of `docs/bad-input.md` names a test that exists (`path::name`), and a row
/// backed by a test of this file quotes exactly the line that test expects.
#[test]
fn matrix_names_only_existing_tests_and_their_exact_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("docs/bad-input.md")).unwrap();
    let this =
        std::fs::read_to_string(root.join("crates/flotilla-cli/tests/bad_input.rs")).unwrap();
    let mut rows = 0;
    for line in doc
        .lines()
        .filter(|l| l.starts_with("| ") && l.ends_with(" |"))
    {
        let cells: Vec<&str> = split_row(line);
        let Some(test) = cells.last() else { continue };
        let test = test.trim().trim_matches('`');
        let Some((path, name)) = test.rsplit_once("::") else {
            continue; // the header and separator rows
        };
        rows += 1;
        let source = std::fs::read_to_string(root.join(path))
            .unwrap_or_else(|e| panic!("{path} (row {line}): {e}"));
        assert!(
            source.contains(&format!("fn {name}(")),
            "{path} has no test `{name}` (row: {line})"
        );
        if path.ends_with("flotilla-cli/tests/bad_input.rs") {
            let quoted = unquote(cells[cells.len() - 2]);
            let body_start = this.find(&format!("fn {name}(")).unwrap();
            let body = &this[body_start..];
            let body = &body[..body[1..].find("\n#[test]").map_or(body.len(), |e| e + 1)];
            assert!(
                body.contains(&format!("r#\"{quoted}\"#")) || body.contains(&format!("{quoted:?}")),
                "{name}: the matrix says `{quoted}`, the test expects something else"
            );
        }
    }
    assert!(rows >= 60, "only {rows} rows in the matrix");
}

/// Splits a Markdown table row on unescaped `|`.
fn split_row(line: &str) -> Vec<&str> {
    let mut cells = Vec::new();
    let bytes = line.as_bytes();
    let mut start = 1;
    for i in 1..bytes.len() {
        if bytes[i] == b'|' && bytes[i - 1] != b'\\' {
            cells.push(&line[start..i]);
            start = i + 1;
        }
    }
    cells
}

/// The text of a Markdown code span (`` `…` `` or ``` `` … `` ```), with `\|` unescaped.
fn unquote(cell: &str) -> String {
    let c = cell.trim();
    let c = if let Some(inner) = c.strip_prefix("`` ").and_then(|c| c.strip_suffix(" ``")) {
        inner
    } else {
        c.trim_matches('`')
    };
    c.replace("\\|", "|")
}
