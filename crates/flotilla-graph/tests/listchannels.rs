//! CLN `listchannels`: both amount spellings, direction from key order, `active`,
//! and the malformed cases.

use std::path::{Path, PathBuf};

use flotilla_graph::{read_graph, Direction, GraphFormat, ShortChannelId};
use serde_json::{json, Value};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn listchannels() -> Value {
    serde_json::from_slice(&std::fs::read(fixture("listchannels.json")).unwrap()).unwrap()
}

fn import_err(dir: &Path, v: &Value) -> String {
    let p = dir.join("lc.json");
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    read_graph(&p, None)
        .expect_err("must be refused")
        .to_string()
}

#[test]
fn imports_both_directions_and_both_amount_spellings() {
    let g = read_graph(&fixture("listchannels.json"), None).unwrap();
    assert_eq!(g.format, GraphFormat::Listchannels);
    let g = g.graph;
    assert_eq!((g.node_count(), g.channel_count()), (4, 3));
    let c = g.channel(g.channel_by_scid("680000x1234x1".parse().unwrap()).unwrap());
    assert_eq!(c.capacity_sat, 5_000_000);
    // nodes[0] is the smaller key (BOLT 7).
    assert!(g.node(c.nodes[0]).pubkey < g.node(c.nodes[1]).pubkey);
    let ab = c.policy(Direction::AToB).unwrap();
    assert_eq!(
        (ab.fee_base_msat, ab.fee_rate_ppm, ab.cltv_expiry_delta),
        (1000, 1, 40)
    );
    assert_eq!(
        (ab.htlc_minimum_msat, ab.htlc_maximum_msat),
        (1000, 4_950_000_000)
    );
    assert!(!ab.disabled);
    let ba = c.policy(Direction::BToA).unwrap();
    assert!(ba.disabled, "active: false means disabled");
    assert_eq!(ba.fee_rate_ppm, 2500);

    // dave (035e…) > alice (0217…): dave's entry is direction BToA.
    let c3 = g.channel(
        g.channel_by_scid(ShortChannelId::from_parts(680002, 99, 3).unwrap())
            .unwrap(),
    );
    assert!(c3.policy(Direction::AToB).is_none());
    assert_eq!(
        c3.policy(Direction::BToA).unwrap().htlc_maximum_msat,
        16_777_215_000
    );
    assert!(g.warnings().is_empty(), "{:?}", g.warnings());
}

#[test]
fn duplicate_direction_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = listchannels();
    let dup = v["channels"][0].clone();
    v["channels"].as_array_mut().unwrap().push(dup);
    let e = import_err(dir.path(), &v);
    assert!(
        e.contains("lc.json: channels[4] (short_channel_id 680000x1234x1)")
            && e.contains("duplicate channel id"),
        "{e}"
    );
}

#[test]
fn same_scid_between_other_nodes_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut v = listchannels();
    v["channels"][3]["short_channel_id"] = json!("680001x7x0");
    let e = import_err(dir.path(), &v);
    assert!(
        e.contains("channels[3]") && e.contains("joins other nodes"),
        "{e}"
    );
}

#[test]
fn malformed_values_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("short_channel_id", json!("12x"), "invalid short channel id"),
        ("htlc_minimum_msat", json!("-1msat"), "negative value"),
        ("delay", json!(70000), "overflows"),
        (
            "base_fee_millisatoshi",
            json!("x"),
            "not a non-negative integer",
        ),
        ("source", json!("03abc"), "invalid public key"),
        ("active", json!("yes"), "invalid type"),
    ];
    for (field, value, expect) in cases {
        let mut v = listchannels();
        v["channels"][2][field] = value;
        let e = import_err(dir.path(), &v);
        assert!(
            e.contains("channels[2]")
                && e.contains(&format!("field `{field}`"))
                && e.contains(expect),
            "{field}: {e}"
        );
    }
    let mut v = listchannels();
    v["channels"][2]["destination"] = v["channels"][2]["source"].clone();
    let e = import_err(dir.path(), &v);
    assert!(e.contains("channels[2]") && e.contains("to itself"), "{e}");
    let mut v = listchannels();
    v["channels"][2]
        .as_object_mut()
        .unwrap()
        .remove("amount_msat");
    let e = import_err(dir.path(), &v);
    assert!(e.contains("field `amount_msat`: missing"), "{e}");
    let mut v = listchannels();
    v["channels"][2].as_object_mut().unwrap().remove("delay");
    let e = import_err(dir.path(), &v);
    assert!(
        e.contains("channels[2]") && e.contains("missing field `delay`"),
        "{e}"
    );
}
