//! sim-ln `sim.json`: import of hand-written files, export, round trips, and errors
//! that name the file, the record and the field.

use std::path::{Path, PathBuf};

use flotilla_graph::export::write_graph;
use flotilla_graph::{
    read_graph, Channel, ChannelIdx, Direction, Graph, GraphBuilder, GraphFormat, Node, NodePubkey,
    Policy, ShortChannelId, Warning,
};

const ALICE: &str = "0344f37d544896dcc95a08ddd9bdfc2b756bf3f91b3f65bce588bd9d0228c24977";
const BOB: &str = "020a30431ce58843eedf8051214dbfadb65b107cc598b8277f14bb9b33c9cd026f";
const CAROL: &str = "035c0b392725bb7298d56bf1bcb23634fc509d86a39a8141d435f9d4d6cd4b12eb";

/// Two channels Alice–Bob–Carol as sim-ln's README lays them out, plus the run
/// settings (`nodes`, `activity`, `exclude`) that the importer must skip. Every
/// field sits on its own line so that tests can break one at a time.
fn good() -> String {
    format!(
        r#"{{
  "nodes": [{{"id": "x", "address": "https://127.0.0.1:10011", "macaroon": "/m", "cert": "/c"}}],
  "sim_network": [
    {{
      "scid": 1,
      "capacity_msat": 250000,
      "node_1": {{
        "pubkey": "{ALICE}",
        "alias": "alice",
        "max_htlc_count": 483,
        "max_in_flight_msat": 250000,
        "min_htlc_size_msat": 1,
        "max_htlc_size_msat": 100000,
        "cltv_expiry_delta": 40,
        "base_fee": 1000,
        "fee_rate_prop": 100
      }},
      "node_2": {{
        "pubkey": "{BOB}",
        "max_htlc_count": 15,
        "max_in_flight_msat": 100000,
        "min_htlc_size_msat": 2,
        "max_htlc_size_msat": 50000,
        "cltv_expiry_delta": 80,
        "base_fee": 2000,
        "fee_rate_prop": 500
      }}
    }},
    {{
      "scid": 2,
      "capacity_msat": 100000,
      "node_1": {{
        "pubkey": "{BOB}",
        "alias": "bob",
        "max_htlc_count": 200,
        "max_in_flight_msat": 100000,
        "min_htlc_size_msat": 3,
        "max_htlc_size_msat": 25000,
        "cltv_expiry_delta": 41,
        "base_fee": 1750,
        "fee_rate_prop": 101
      }},
      "node_2": {{
        "pubkey": "{CAROL}",
        "alias": "",
        "max_htlc_count": 15,
        "max_in_flight_msat": 50000,
        "min_htlc_size_msat": 4,
        "max_htlc_size_msat": 100001,
        "cltv_expiry_delta": 81,
        "base_fee": 3000,
        "fee_rate_prop": 5
      }}
    }}
  ],
  "activity": [{{"source": "{ALICE}", "destination": "{CAROL}", "interval_secs": 1, "amount_msat": 2000}}],
  "exclude": ["{BOB}"]
}}
"#
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn policy(base: u32, ppm: u32, cltv: u16, min: u64, max: u64) -> Policy {
    Policy {
        fee_base_msat: base,
        fee_rate_ppm: ppm,
        cltv_expiry_delta: cltv,
        htlc_minimum_msat: min,
        htlc_maximum_msat: max,
        disabled: false,
        last_update: 0,
    }
}

fn key(hex: &str) -> NodePubkey {
    NodePubkey::from_hex(hex).unwrap()
}

#[test]
fn imports_every_field_exactly_and_skips_run_settings() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "sim.json", &good());
    let imported = read_graph(&path, None).unwrap();
    assert_eq!(imported.format, GraphFormat::Simln);
    assert!(imported.balances.is_none());
    let g = imported.graph;

    assert_eq!(g.node_count(), 3);
    let keys: Vec<_> = g.nodes().iter().map(|n| n.pubkey).collect();
    assert_eq!(keys, [key(ALICE), key(BOB), key(CAROL)]);
    let aliases: Vec<_> = g.nodes().iter().map(|n| n.alias.as_str()).collect();
    assert_eq!(aliases, ["alice", "bob", ""]);

    assert_eq!(g.channel_count(), 2);
    let c0 = g.channel(ChannelIdx(0));
    assert_eq!(c0.scid, ShortChannelId(1));
    assert_eq!(c0.capacity_sat, 250);
    assert_eq!(c0.nodes.map(|n| n.0), [0, 1], "node_1 is nodes[0]");
    assert_eq!(
        c0.policy(Direction::AToB),
        Some(&policy(1000, 100, 40, 1, 100_000))
    );
    assert_eq!(
        c0.policy(Direction::BToA),
        Some(&policy(2000, 500, 80, 2, 50_000))
    );
    assert_eq!(c0.chan_point, None);

    let c1 = g.channel(ChannelIdx(1));
    assert_eq!(c1.scid, ShortChannelId(2));
    assert_eq!(c1.capacity_sat, 100);
    assert_eq!(c1.nodes.map(|n| n.0), [1, 2]);
    assert_eq!(
        c1.policy(Direction::AToB),
        Some(&policy(1750, 101, 41, 3, 25_000))
    );
    assert_eq!(
        c1.policy(Direction::BToA),
        Some(&policy(3000, 5, 81, 4, 100_001))
    );
    // 100,001 msat > 100 sat: imported as written, counted like any other source.
    assert_eq!(g.warnings().count(Warning::HtlcMaxAboveCapacity), 1);
}

#[test]
fn accepts_other_spellings_of_numbers_scids_and_keys() {
    use bitcoin::secp256k1::PublicKey;
    use std::str::FromStr;
    let uncompressed = PublicKey::from_str(CAROL).unwrap().serialize_uncompressed();
    let uncompressed: String = uncompressed.iter().map(|b| format!("{b:02x}")).collect();
    let text = good()
        .replace(r#""scid": 1,"#, r#""scid": "513887x1177x0","#)
        .replace(r#""scid": 2,"#, r#""scid": "42","#)
        .replace(
            r#""capacity_msat": 250000,"#,
            r#""capacity_msat": "250000","#,
        )
        .replace(
            &format!(r#""pubkey": "{CAROL}""#),
            &format!(r#""pubkey": "{uncompressed}""#),
        )
        .replace(r#""max_htlc_count": 200,"#, "");
    let dir = tempfile::tempdir().unwrap();
    let g = read_graph(
        &write(dir.path(), "sim.json", &text),
        Some(GraphFormat::Simln),
    )
    .unwrap()
    .graph;
    assert_eq!(
        g.channel(ChannelIdx(0)).scid,
        "513887x1177x0".parse().unwrap()
    );
    assert_eq!(g.channel(ChannelIdx(0)).capacity_sat, 250);
    assert_eq!(g.channel(ChannelIdx(1)).scid, ShortChannelId(42));
    assert_eq!(g.node(g.channel(ChannelIdx(1)).nodes[1]).pubkey, key(CAROL));
}

/// The error message for `text` as `sim.json`.
fn error(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "sim.json", text);
    match read_graph(&path, None) {
        Ok(_) => panic!("accepted bad input:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn assert_names(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "{p:?} missing from: {msg}");
    }
}

#[test]
fn missing_field_names_record_and_field() {
    let msg = error(&good().replace(r#""base_fee": 3000,"#, ""));
    assert_names(
        &msg,
        &[
            "sim.json",
            "sim_network[1]",
            "node_2",
            "missing field `base_fee`",
        ],
    );
}

#[test]
fn wrong_type_names_record_and_field() {
    let msg = error(&good().replace(
        r#""cltv_expiry_delta": 81,"#,
        r#""cltv_expiry_delta": "eighty","#,
    ));
    assert_names(
        &msg,
        &[
            "sim.json",
            "sim_network[1]",
            "node_2.cltv_expiry_delta",
            "not a non-negative integer",
        ],
    );
}

#[test]
fn overflow_names_record_and_field() {
    let msg = error(&good().replace(
        r#""cltv_expiry_delta": 81,"#,
        r#""cltv_expiry_delta": 70000,"#,
    ));
    assert_names(
        &msg,
        &[
            "sim.json",
            "sim_network[1]",
            "node_2.cltv_expiry_delta",
            "overflows",
        ],
    );
}

#[test]
fn negative_amount_names_record_and_field() {
    let msg = error(&good().replace(
        r#""capacity_msat": 100000,"#,
        r#""capacity_msat": -100000,"#,
    ));
    assert_names(
        &msg,
        &["sim.json", "sim_network[1]", "capacity_msat", "negative"],
    );
    let msg = error(&good().replace(
        r#""min_htlc_size_msat": 3,"#,
        r#""min_htlc_size_msat": -3,"#,
    ));
    assert_names(
        &msg,
        &[
            "sim.json",
            "sim_network[1]",
            "node_1.min_htlc_size_msat",
            "negative",
        ],
    );
}

#[test]
fn capacity_in_fractions_of_a_satoshi_is_refused() {
    let msg = error(&good().replace(r#""capacity_msat": 100000,"#, r#""capacity_msat": 100001,"#));
    assert_names(
        &msg,
        &[
            "sim.json",
            "sim_network[1] (scid 2)",
            "capacity_msat",
            "whole number of satoshis",
        ],
    );
}

#[test]
fn invalid_pubkey_names_record_and_field() {
    let off_curve = format!("02{:064x}", 5);
    let msg = error(&good().replace(CAROL, &off_curve));
    assert_names(
        &msg,
        &[
            "sim.json",
            "sim_network[1] (scid 2)",
            "node_2.pubkey",
            "not a valid compressed",
        ],
    );
    let msg = error(&good().replace(CAROL, "02abc"));
    assert_names(
        &msg,
        &[
            "sim.json",
            "sim_network[1] (scid 2)",
            "node_2.pubkey",
            "66 hex digits",
        ],
    );
}

#[test]
fn duplicate_scid_names_record_and_field() {
    let msg = error(&good().replace(r#""scid": 2,"#, r#""scid": 1,"#));
    assert_names(
        &msg,
        &[
            "sim.json",
            "sim_network[1] (scid 1)",
            "field `scid`",
            "duplicate channel id",
        ],
    );
}

#[test]
fn self_loop_names_record_and_field() {
    let msg = error(&good().replace(CAROL, BOB));
    assert_names(
        &msg,
        &[
            "sim.json",
            "sim_network[1] (scid 2)",
            "node_2.pubkey",
            "to itself",
        ],
    );
}

#[test]
fn truncated_file_is_a_syntax_error_naming_the_file() {
    let text = good();
    let msg = error(&text[..text.len() / 2]);
    assert_names(&msg, &["sim.json", "truncated", "sim_network[1]"]);
}

#[test]
fn missing_sim_network_is_refused_when_forced() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "sim.json", r#"{"nodes": []}"#);
    let msg = read_graph(&path, Some(GraphFormat::Simln))
        .unwrap_err()
        .to_string();
    assert_names(&msg, &["sim.json", "sim_network"]);
}

fn node(b: &mut GraphBuilder, seed: u8, alias: &str) -> flotilla_graph::NodeIdx {
    let mut n = Node::bare(NodePubkey::from_secret([seed; 32]).unwrap());
    n.alias = alias.to_string();
    b.add_node(n).unwrap()
}

/// Four channels, two of which sim-ln cannot carry (a missing and a disabled
/// direction), an isolated node, an alias that needs JSON escaping, and an
/// `htlc_maximum_msat` above capacity.
fn sample_graph() -> Graph {
    let mut b = GraphBuilder::new();
    let a = node(&mut b, 1, "Zoë \"zap\" ⚡");
    let z = node(&mut b, 2, "");
    let c = node(&mut b, 3, "carol");
    let _lonely = node(&mut b, 4, "lonely");
    let chan = |scid, nodes, cap, p: [Option<Policy>; 2]| Channel {
        scid,
        nodes,
        capacity_sat: cap,
        policies: p,
        chan_point: None,
        last_update: 0,
    };
    let s = |b, t, o| ShortChannelId::from_parts(b, t, o).unwrap();
    b.add_channel(chan(
        s(800_000, 1234, 1),
        [a, z],
        1_000_000,
        [
            Some(policy(0, 0, 144, 1, 990_000_000)),
            Some(policy(u32::MAX, 4_000, 18, 1_000, 1_000_000_000)),
        ],
    ))
    .unwrap();
    b.add_channel(chan(
        ShortChannelId(7),
        [z, c],
        20_000,
        [
            Some(policy(1, 2, 3, 4, 5_000)),
            Some(policy(6, 7, u16::MAX, 0, 20_000_000)),
        ],
    ))
    .unwrap();
    b.add_channel(chan(
        s(700_001, 2, 3),
        [a, c],
        5_000,
        [Some(policy(1, 1, 40, 1, 5_000_000)), None],
    ))
    .unwrap();
    let mut disabled = policy(1, 1, 40, 1, 5_000_000);
    disabled.disabled = true;
    b.add_channel(chan(
        s(700_002, 2, 3),
        [c, a],
        5_000,
        [Some(policy(1, 1, 40, 1, 5_000_000)), Some(disabled)],
    ))
    .unwrap();
    b.add_channel(chan(
        s(700_003, 0, 0),
        [c, a],
        1_000,
        [
            Some(policy(9, 9, 9, 9, 2_000_000)),
            Some(policy(8, 8, 8, 8, 1_000_000)),
        ],
    ))
    .unwrap();
    b.build()
}

#[test]
fn round_trip_preserves_every_field_sim_ln_carries() {
    let g = sample_graph();
    let dir = tempfile::tempdir().unwrap();
    for name in ["sim.json", "sim.json.gz"] {
        let out = dir.path().join(name);
        let report = write_graph(&g, None, GraphFormat::Simln, &out).unwrap();
        assert_eq!(report.channels_written, 3);
        assert_eq!(
            report.nodes_written, 3,
            "the isolated node has no channel to carry it"
        );
        assert_eq!(report.warnings.count(Warning::ChannelNotExported), 2);

        let back = read_graph(&out, None).unwrap().graph;
        assert_eq!(back.channel_count(), 3);
        assert_eq!(back.node_count(), 3);
        for orig in g.channels() {
            let Some(ci) = back.channel_by_scid(orig.scid) else {
                assert!(
                    orig.policies.iter().any(|p| p.is_none_or(|p| p.disabled)),
                    "{} was lost",
                    orig.scid
                );
                continue;
            };
            let got = back.channel(ci);
            assert_eq!(got.capacity_sat, orig.capacity_sat);
            for d in Direction::BOTH {
                let (o, n) = (g.node(orig.from_node(d)), back.node(got.from_node(d)));
                assert_eq!(n.pubkey, o.pubkey);
                assert_eq!(n.alias, o.alias);
                let mut want = *orig.policy(d).unwrap();
                // sim-ln refuses an HTLC maximum above the capacity.
                want.htlc_maximum_msat = want.htlc_maximum_msat.min(orig.capacity_msat());
                assert_eq!(got.policy(d), Some(&want), "{} dir {}", orig.scid, d.ix());
            }
        }
    }
}

#[test]
fn export_writes_sim_ln_layout_with_defaults() {
    let g = sample_graph();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sim.json");
    write_graph(&g, None, GraphFormat::Simln, &out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let top: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    assert_eq!(top, ["sim_network"]);
    let first = &v["sim_network"][0];
    assert_eq!(
        first["scid"],
        serde_json::json!(ShortChannelId::from_parts(800_000, 1234, 1).unwrap().0)
    );
    assert_eq!(first["capacity_msat"], 1_000_000_000u64);
    let n1 = &first["node_1"];
    assert_eq!(n1["pubkey"], g.nodes()[0].pubkey.to_hex());
    assert_eq!(n1["alias"], "Zoë \"zap\" ⚡");
    assert_eq!(n1["max_htlc_count"], 483);
    assert_eq!(n1["max_in_flight_msat"], 1_000_000_000u64);
    assert_eq!(n1["min_htlc_size_msat"], 1);
    assert_eq!(n1["max_htlc_size_msat"], 990_000_000u64);
    assert_eq!(n1["cltv_expiry_delta"], 144);
    assert_eq!(n1["base_fee"], 0);
    assert_eq!(n1["fee_rate_prop"], 0);
    assert!(
        first["node_2"].get("alias").is_none(),
        "empty aliases are left out"
    );
    assert_eq!(first["node_2"]["base_fee"], u32::MAX);
    // 2,000,000 msat on a 1,000 sat channel: capped so that sim-ln accepts it.
    assert_eq!(
        v["sim_network"][2]["node_1"]["max_htlc_size_msat"],
        1_000_000
    );
}

/// Takes about 0.5 s optimised but 6 s unoptimised (the describegraph parse and the
/// secp256k1 key work dominate), so it runs with `cargo test --release`.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "slow unoptimised; run with `cargo test --release`"
)]
fn bundled_2026_snapshot_exports_to_simln_and_cloth() {
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/mainnet-2026-02-03.describegraph.json.gz");
    let g = read_graph(&snapshot, None).unwrap().graph;
    let dir = tempfile::tempdir().unwrap();

    let sim = dir.path().join("sim.json");
    let report = write_graph(&g, None, GraphFormat::Simln, &sim).unwrap();
    assert_eq!(
        (report.channels_written, report.nodes_written),
        (31_917, 6_250)
    );
    assert_eq!(
        report.warnings.count(Warning::ChannelNotExported) as usize,
        g.channel_count() - 31_917
    );
    let back = read_graph(&sim, None).unwrap();
    assert_eq!(back.format, GraphFormat::Simln);
    assert_eq!(
        (back.graph.channel_count(), back.graph.node_count()),
        (31_917, 6_250)
    );

    let cloth = dir.path().join("cloth");
    let report = write_graph(&g, None, GraphFormat::Cloth, &cloth).unwrap();
    assert_eq!(
        (report.channels_written, report.nodes_written),
        (31_917, 6_250)
    );
    let back = read_graph(&cloth, None).unwrap();
    assert_eq!(back.format, GraphFormat::Cloth);
    assert_eq!(
        (back.graph.channel_count(), back.graph.node_count()),
        (31_917, 6_250)
    );
    assert!(back.balances.unwrap().fits(&back.graph));
}
