//! lnd `describegraph`: a genuine-shaped `lncli` dump, the bundled snapshot, round
//! trips, gzip, and every malformed case the importer must refuse with a clear error.

use std::io::Write;
use std::path::{Path, PathBuf};

use flotilla_graph::export::write_graph;
use flotilla_graph::{read_graph, AddressKind, Direction, GraphFormat, ShortChannelId, Warning};
use serde_json::{json, Value};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn lncli() -> Value {
    serde_json::from_slice(&std::fs::read(fixture("lncli-describegraph.json")).unwrap()).unwrap()
}

/// Writes `v` to a file in `dir` and imports it, returning the error text.
fn import_err(dir: &Path, v: &Value) -> String {
    let p = dir.join("graph.json");
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    read_graph(&p, None)
        .expect_err("must be refused")
        .to_string()
}

#[test]
fn lncli_dump_imports_every_field() {
    let g = read_graph(&fixture("lncli-describegraph.json"), None).unwrap();
    assert_eq!(g.format, GraphFormat::Describegraph);
    let g = g.graph;
    assert_eq!((g.node_count(), g.channel_count()), (4, 3));

    let alice = g.find_node("alice ⚡").unwrap();
    let a = g.node(alice);
    assert_eq!(a.addresses.len(), 3);
    let kinds: Vec<_> = a.addresses.iter().map(|x| x.kind()).collect();
    assert_eq!(
        kinds,
        [AddressKind::Ipv4, AddressKind::Ipv6, AddressKind::Onion]
    );
    assert_eq!(a.addresses[0].network, "tcp");
    assert_eq!(a.addresses[0].addr, "203.0.113.5:9735");
    assert_eq!(a.features, [0, 5, 9, 14, 17, 2023]);
    assert_eq!(a.color.as_deref(), Some("#3399ff"));
    assert_eq!(a.last_update, 1618492788);
    let bob = g.find_node("bob").unwrap();
    assert_eq!(g.node(bob).addresses[0].kind(), AddressKind::Dns);

    let scid: ShortChannelId = "680000x1234x1".parse().unwrap();
    let c = g.channel(g.channel_by_scid(scid).unwrap());
    assert_eq!(c.scid.to_string(), "680000x1234x1");
    assert_eq!(c.capacity_sat, 5_000_000);
    assert!(c.chan_point.as_deref().unwrap().ends_with(":1"));
    let p = c.policy(Direction::AToB).unwrap();
    assert_eq!(
        (p.fee_base_msat, p.fee_rate_ppm, p.cltv_expiry_delta),
        (1000, 1, 40)
    );
    assert_eq!(p.htlc_minimum_msat, 1000);
    // Older lnd omits max_htlc_msat: the capacity bounds it, and it is counted.
    assert_eq!(p.htlc_maximum_msat, 5_000_000_000);
    assert!(!p.disabled);
    let q = c.policy(Direction::BToA).unwrap();
    assert!(q.disabled);
    assert_eq!(
        (q.fee_base_msat, q.fee_rate_ppm, q.cltv_expiry_delta),
        (0, 2500, 144)
    );
    assert_eq!(g.warnings().count(Warning::HtlcMaxMissing), 2);

    // A never-announced policy stays absent and is not in the adjacency.
    let c2 = g.channel(g.channel_by_scid("680001x7x0".parse().unwrap()).unwrap());
    assert!(c2.policy(Direction::BToA).is_none());
    let carol = g.nodes().iter().position(|n| n.alias.is_empty()).unwrap();
    assert!(g
        .out_edges(flotilla_graph::NodeIdx(carol as u32))
        .is_empty());
    // Inbound fees (newer lnd) are skipped without breaking the import.
    assert_eq!(
        c2.policy(Direction::AToB).unwrap().htlc_maximum_msat,
        247_500_000
    );
}

#[test]
fn describegraph_round_trip_preserves_everything() {
    let dir = tempfile::tempdir().unwrap();
    let g = read_graph(&fixture("lncli-describegraph.json"), None)
        .unwrap()
        .graph;
    for name in ["out.json", "out.json.gz"] {
        let out = dir.path().join(name);
        write_graph(&g, None, GraphFormat::Describegraph, &out).unwrap();
        let back = read_graph(&out, None).unwrap().graph;
        assert_eq!(back.nodes(), g.nodes(), "{name}");
        assert_eq!(back.channels(), g.channels(), "{name}");
    }
}

#[test]
fn gzip_is_transparent_and_truncation_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let raw = std::fs::read(fixture("lncli-describegraph.json")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&raw).unwrap();
    let gz = enc.finish().unwrap();
    // No .gz in the name: detection is by content.
    let p = dir.path().join("graph.bin");
    std::fs::write(&p, &gz).unwrap();
    assert_eq!(read_graph(&p, None).unwrap().graph.channel_count(), 3);

    std::fs::write(&p, &gz[..gz.len() / 2]).unwrap();
    let e = read_graph(&p, None).unwrap_err().to_string();
    assert!(
        e.contains("graph.bin") && e.contains("truncated or corrupt gzip"),
        "{e}"
    );
}

#[test]
fn missing_file_and_unknown_format() {
    let dir = tempfile::tempdir().unwrap();
    let e = read_graph(&dir.path().join("nope.json"), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope.json") && e.contains("No such file"), "{e}");
    let e = import_err(dir.path(), &json!({"peers": []}));
    assert!(
        e.contains("graph.json") && e.contains("unknown graph format") && e.contains("peers"),
        "{e}"
    );
}

#[test]
fn invalid_json_names_the_position() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("graph.json");
    std::fs::write(
        &p,
        b"{\"nodes\": [], \"edges\": [ {\"channel_id\": \"1\", }] }",
    )
    .unwrap();
    let e = read_graph(&p, None).unwrap_err().to_string();
    assert!(
        e.contains("graph.json") && e.contains("invalid JSON") && e.contains("line 1"),
        "{e}"
    );
    // Truncated plain JSON.
    let raw = std::fs::read(fixture("lncli-describegraph.json")).unwrap();
    std::fs::write(&p, &raw[..raw.len() - 40]).unwrap();
    let e = read_graph(&p, None).unwrap_err().to_string();
    assert!(e.contains("ends early"), "{e}");
}

#[test]
fn wrong_type_names_record_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = lncli();
    v["edges"][1]["node1_policy"]["fee_base_msat"] = json!(true);
    let e = import_err(dir.path(), &v);
    assert!(
        e.contains("graph.json: edges[1], field `node1_policy.fee_base_msat`: invalid type"),
        "{e}"
    );
}

#[test]
fn negative_and_overflowing_amounts() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = lncli();
    v["edges"][0]["capacity"] = json!("-5");
    let e = import_err(dir.path(), &v);
    assert!(
        e.contains("edges[0], field `capacity`: negative value"),
        "{e}"
    );

    let mut v = lncli();
    v["edges"][2]["node2_policy"]["fee_rate_milli_msat"] = json!("4294967296");
    let e = import_err(dir.path(), &v);
    assert!(
        e.contains(
            "edges[2], field `node2_policy.fee_rate_milli_msat`: value 4294967296 overflows"
        ),
        "{e}"
    );

    let mut v = lncli();
    v["edges"][2]["node2_policy"]["max_htlc_msat"] = json!("18446744073709551616");
    let e = import_err(dir.path(), &v);
    assert!(
        e.contains("field `node2_policy.max_htlc_msat`") && e.contains("overflows"),
        "{e}"
    );
}

#[test]
fn invalid_pubkeys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = lncli();
    v["nodes"][2]["pub_key"] = json!("02zz");
    let e = import_err(dir.path(), &v);
    assert!(
        e.contains("nodes[2], field `pub_key`: invalid public key \"02zz\""),
        "{e}"
    );

    // 66 hex digits that are not a point on the curve.
    let mut v = lncli();
    let bad = format!("04{}", &v["nodes"][0]["pub_key"].as_str().unwrap()[2..]);
    v["edges"][1]["node2_pub"] = json!(bad);
    let e = import_err(dir.path(), &v);
    assert!(
        e.contains("field `node2_pub`") && e.contains("not a valid compressed secp256k1 point"),
        "{e}"
    );
}

#[test]
fn duplicate_channel_and_self_loop() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = lncli();
    v["edges"][2]["channel_id"] = v["edges"][0]["channel_id"].clone();
    let e = import_err(dir.path(), &v);
    assert!(
        e.contains("edges[2]")
            && e.contains("field `channel_id`: duplicate channel id 680000x1234x1"),
        "{e}"
    );

    let mut v = lncli();
    v["edges"][1]["node2_pub"] = v["edges"][1]["node1_pub"].clone();
    let e = import_err(dir.path(), &v);
    assert!(e.contains("edges[1]") && e.contains("to itself"), "{e}");

    let mut v = lncli();
    v["nodes"][3]["pub_key"] = v["nodes"][0]["pub_key"].clone();
    let e = import_err(dir.path(), &v);
    assert!(
        e.contains("nodes[3], field `pub_key`: duplicate node"),
        "{e}"
    );
}

#[test]
fn odd_but_usable_records_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = lncli();
    // htlc max above capacity (5,000,000 sat) and min above max.
    v["edges"][0]["node1_policy"]["max_htlc_msat"] = json!("6000000000");
    v["edges"][2]["node1_policy"]["min_htlc"] = json!("20000000000");
    let p = dir.path().join("g.json");
    std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
    let g = read_graph(&p, None).unwrap().graph;
    assert_eq!(g.warnings().count(Warning::HtlcMaxAboveCapacity), 1);
    assert_eq!(g.warnings().count(Warning::HtlcMinAboveMax), 1);
    assert_eq!(g.channel_count(), 3);
}

#[test]
fn forced_format_mismatch_is_an_error_not_a_wrong_graph() {
    let e = read_graph(
        &fixture("lncli-describegraph.json"),
        Some(GraphFormat::Listchannels),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("lncli-describegraph.json") && e.contains("channels"),
        "{e}"
    );
}
