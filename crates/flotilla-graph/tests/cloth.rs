//! CLoTH CSV files: import of hand-written files, locating the three files, export,
//! round trips, and errors that name the file, the line and the column.

use std::path::Path;

use bitcoin::hashes::{sha256, Hash, HashEngine};
use flotilla_graph::export::write_graph;
use flotilla_graph::import::ClothPaths;
use flotilla_graph::liquidity::Balances;
use flotilla_graph::{
    read_graph, Channel, ChannelIdx, Direction, Graph, GraphBuilder, GraphFormat, Node, NodePubkey,
    Policy, ShortChannelId, Warning,
};

const NODES: &str = "id\n100\n-7\n42\n";
// The header as CLoTH's channels_template.csv spells it, with the unit.
const CHANNELS: &str = "\
id,edge1_id,edge2_id,node1_id,node2_id,capacity(millisat)
5,10,11,100,-7,50000000
9,20,21,-7,42,1000000
";
// As CLoTH writes it; rows out of order and padded, which CLoTH's reader also takes.
const EDGES: &str = "\
id,channel_id,counter_edge_id,from_node_id,to_node_id,balance,fee_base,fee_proportional,min_htlc,timelock
11,5,10,-7,100,45699091,1000,1,1000,144
10,5,11,100,-7,4300909,49,9000,0,30
 20 , 9 , 21 , -7 , 42 , 250000 , 0 , 5000 , 1 , 40
21,9,20,42,-7,750000,4294967295,0,7,65535
";

fn write_triple(dir: &Path, names: [&str; 3], texts: [&str; 3]) {
    for (n, t) in names.iter().zip(texts) {
        std::fs::write(dir.join(n), t).unwrap();
    }
}

const PLAIN: [&str; 3] = ["nodes.csv", "channels.csv", "edges.csv"];
const LN: [&str; 3] = ["nodes_ln.csv", "channels_ln.csv", "edges_ln.csv"];

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

/// The key the importer promises for CLoTH node `id`, computed independently.
fn expected_key(id: i64) -> NodePubkey {
    let mut engine = sha256::Hash::engine();
    engine.input(b"flotilla-cloth-node");
    engine.input(&id.to_le_bytes());
    NodePubkey::from_secret(sha256::Hash::from_engine(engine).to_byte_array()).unwrap()
}

#[test]
fn imports_every_value_exactly() {
    let dir = tempfile::tempdir().unwrap();
    write_triple(dir.path(), PLAIN, [NODES, CHANNELS, EDGES]);
    let imported = read_graph(dir.path(), None).unwrap();
    assert_eq!(imported.format, GraphFormat::Cloth);
    let g = imported.graph;

    assert_eq!(g.node_count(), 3);
    for (n, id) in g.nodes().iter().zip([100i64, -7, 42]) {
        assert_eq!(n.pubkey, expected_key(id));
        assert_eq!(n.alias, id.to_string());
    }
    assert_eq!(g.find_node("-7").unwrap().0, 1, "a CLoTH id finds its node");

    assert_eq!(g.channel_count(), 2);
    let c0 = g.channel(ChannelIdx(0));
    assert_eq!(c0.scid, ShortChannelId(5));
    assert_eq!(
        c0.nodes.map(|n| n.0),
        [0, 1],
        "edge1 runs from node1 = nodes[0]"
    );
    assert_eq!(c0.capacity_sat, 50_000);
    assert_eq!(
        c0.policy(Direction::AToB),
        Some(&policy(49, 9000, 30, 0, 50_000_000))
    );
    assert_eq!(
        c0.policy(Direction::BToA),
        Some(&policy(1000, 1, 144, 1000, 50_000_000))
    );
    let c1 = g.channel(ChannelIdx(1));
    assert_eq!(c1.scid, ShortChannelId(9));
    assert_eq!(c1.nodes.map(|n| n.0), [1, 2]);
    assert_eq!(c1.capacity_sat, 1_000);
    assert_eq!(
        c1.policy(Direction::AToB),
        Some(&policy(0, 5000, 40, 1, 1_000_000))
    );
    assert_eq!(
        c1.policy(Direction::BToA),
        Some(&policy(u32::MAX, 0, u16::MAX, 7, 1_000_000))
    );

    let balances = imported.balances.unwrap();
    assert_eq!(
        balances.as_slice(),
        [4_300_909, 45_699_091, 250_000, 750_000]
    );
    assert!(balances.fits(&g));
    assert!(g.warnings().is_empty());
}

#[test]
fn locates_the_triple_from_a_directory_or_any_of_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_triple(d, LN, [NODES, CHANNELS, EDGES]);
    let p = ClothPaths::locate(d).unwrap();
    assert_eq!(p.nodes, d.join("nodes_ln.csv"));
    assert_eq!(p.edges, d.join("edges_ln.csv"));
    let p = ClothPaths::locate(&d.join("channels_ln.csv")).unwrap();
    assert_eq!(p.nodes, d.join("nodes_ln.csv"));
    assert_eq!(p.channels, d.join("channels_ln.csv"));
    assert_eq!(
        read_graph(&d.join("edges_ln.csv"), None)
            .unwrap()
            .graph
            .channel_count(),
        2
    );
    assert_eq!(
        read_graph(&d.join("nodes_ln.csv"), Some(GraphFormat::Cloth))
            .unwrap()
            .graph
            .node_count(),
        3
    );

    // With both sets present, CLoTH's own output names win.
    write_triple(
        d,
        PLAIN,
        [
            "id\n1\n2\n",
            "id,edge1_id,edge2_id,node1_id,node2_id,capacity\n",
            EDGES.lines().next().unwrap(),
        ],
    );
    assert_eq!(ClothPaths::locate(d).unwrap().nodes, d.join("nodes.csv"));
    assert_eq!(read_graph(d, None).unwrap().graph.node_count(), 2);

    // A prefix and a compressed extension carry over to the siblings.
    let sub = d.join("sub");
    std::fs::create_dir(&sub).unwrap();
    write_triple(
        &sub,
        [
            "net_nodes.csv.gz",
            "net_channels.csv.gz",
            "net_edges.csv.gz",
        ],
        [NODES, CHANNELS, EDGES],
    );
    let p = ClothPaths::locate(&sub.join("net_edges.csv.gz")).unwrap();
    assert_eq!(p.channels, sub.join("net_channels.csv.gz"));

    let e = ClothPaths::locate(&sub).unwrap_err().to_string();
    assert!(e.contains("nodes.csv, channels.csv and edges.csv"), "{e}");
    std::fs::remove_file(sub.join("net_channels.csv.gz")).unwrap();
    let e = ClothPaths::locate(&sub.join("net_nodes.csv.gz"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("net_channels.csv.gz"), "{e}");
    let e = ClothPaths::locate(&d.join("graph.csv"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("graph.csv") && e.contains("`nodes`"), "{e}");
}

/// The error message for the triple, with `file` (0 nodes, 1 channels, 2 edges)
/// replaced by `text`.
fn error(file: usize, text: &str) -> String {
    let mut texts = [NODES, CHANNELS, EDGES];
    texts[file] = text;
    let dir = tempfile::tempdir().unwrap();
    write_triple(dir.path(), PLAIN, texts);
    match read_graph(dir.path(), None) {
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
fn missing_column_names_file_header_and_column() {
    let msg = error(1, &CHANNELS.replace(",capacity(millisat)", ""));
    assert_names(
        &msg,
        &[
            "channels.csv",
            "line 1 (header)",
            "field `capacity`",
            "missing column",
        ],
    );
    let msg = error(2, &EDGES.replacen("timelock", "time_lock", 1));
    assert_names(&msg, &["edges.csv", "line 1 (header)", "field `timelock`"]);
    let msg = error(0, "");
    assert_names(&msg, &["nodes.csv", "line 1 (header)", "field `id`"]);
}

#[test]
fn wrong_type_names_file_line_and_column() {
    let msg = error(2, &EDGES.replace("4300909,49,", "4300909,forty-nine,"));
    assert_names(
        &msg,
        &[
            "edges.csv",
            "line 3",
            "field `fee_base`",
            "not a non-negative integer",
        ],
    );
    let msg = error(0, "id\n100\nseven\n42\n");
    assert_names(
        &msg,
        &["nodes.csv", "line 3", "field `id`", "not an integer id"],
    );
    let msg = error(2, &EDGES.replace(",1000,144\n10,", ",1000,65536\n10,"));
    assert_names(
        &msg,
        &["edges.csv", "line 2", "field `timelock`", "overflows"],
    );
}

#[test]
fn negative_amount_names_file_line_and_column() {
    let msg = error(2, &EDGES.replace("45699091", "-45699091"));
    assert_names(
        &msg,
        &["edges.csv", "line 2", "field `balance`", "negative"],
    );
    let msg = error(1, &CHANNELS.replace("1000000", "-1000000"));
    assert_names(
        &msg,
        &["channels.csv", "line 3", "field `capacity`", "negative"],
    );
}

#[test]
fn duplicate_ids_name_both_lines() {
    let msg = error(0, "id\n100\n-7\n42\n-7\n");
    assert_names(
        &msg,
        &[
            "nodes.csv",
            "line 5",
            "field `id`",
            "duplicate node id -7 (first on line 3)",
        ],
    );
    let msg = error(1, &format!("{CHANNELS}5,30,31,100,42,2000\n"));
    assert_names(
        &msg,
        &[
            "channels.csv",
            "line 4",
            "field `id`",
            "duplicate channel id 5 (first on line 2)",
        ],
    );
    let msg = error(1, &format!("{CHANNELS}6,30,11,100,42,2000\n"));
    assert_names(
        &msg,
        &[
            "channels.csv",
            "line 4",
            "field `edge2_id`",
            "edge id 11 already belongs to channel 5",
        ],
    );
    let msg = error(2, &format!("{EDGES}21,9,20,42,-7,750000,1,0,7,6\n"));
    assert_names(
        &msg,
        &[
            "edges.csv",
            "line 6",
            "field `id`",
            "duplicate edge id 21 (first on line 5)",
        ],
    );
}

#[test]
fn self_loop_names_file_line_and_column() {
    let msg = error(1, &CHANNELS.replace("9,20,21,-7,42,", "9,20,21,42,42,"));
    assert_names(
        &msg,
        &["channels.csv", "line 3", "field `node2_id`", "to itself"],
    );
}

#[test]
fn unknown_references_name_file_line_and_column() {
    let msg = error(1, &CHANNELS.replace("9,20,21,-7,42,", "9,20,21,-7,43,"));
    assert_names(
        &msg,
        &[
            "channels.csv",
            "line 3",
            "field `node2_id`",
            "unknown node id 43",
            "nodes.csv",
        ],
    );
    let msg = error(2, &EDGES.replace("21,9,20,42,-7,", "21,9,20,43,-7,"));
    assert_names(
        &msg,
        &[
            "edges.csv",
            "line 5",
            "field `from_node_id`",
            "unknown node id",
        ],
    );
    let msg = error(2, &EDGES.replace("21,9,20,42,-7,", "21,9,20,42,100,"));
    assert_names(
        &msg,
        &[
            "edges.csv",
            "line 5",
            "field `to_node_id`",
            "does not match channel 9",
        ],
    );
    let msg = error(2, &EDGES.replace("11,5,10,", "11,6,10,"));
    assert_names(
        &msg,
        &[
            "edges.csv",
            "line 2",
            "field `channel_id`",
            "unknown channel id 6",
            "channels.csv",
        ],
    );
    let msg = error(2, &EDGES.replace("11,5,10,", "12,5,10,"));
    assert_names(
        &msg,
        &[
            "edges.csv",
            "line 2",
            "field `id`",
            "edge 12 is not an edge of channel 5",
        ],
    );
    let msg = error(2, &EDGES.replace("11,5,10,", "11,5,20,"));
    assert_names(
        &msg,
        &[
            "edges.csv",
            "line 2",
            "field `counter_edge_id`",
            "counter edge 20",
        ],
    );
    let msg = error(
        2,
        &EDGES.replace("11,5,10,-7,100,45699091,1000,1,1000,144\n", ""),
    );
    assert_names(
        &msg,
        &[
            "channels.csv",
            "line 2",
            "field `edge2_id`",
            "edge 11 of channel 5 is missing from",
            "edges.csv",
        ],
    );
}

#[test]
fn balances_must_sum_to_the_capacity() {
    let msg = error(2, &EDGES.replace("45699091", "45699092"));
    assert_names(
        &msg,
        &[
            "channels.csv",
            "line 2",
            "field `capacity`",
            "sum to 50000001 msat, not the capacity 50000000 msat",
        ],
    );
}

#[test]
fn other_refused_values() {
    let msg = error(1, &CHANNELS.replace("1000000", "1000001"));
    assert_names(
        &msg,
        &[
            "channels.csv",
            "line 3",
            "field `capacity`",
            "whole number of satoshis",
        ],
    );
    let msg = error(1, &CHANNELS.replace("9,20,21,", "-9,20,21,"));
    assert_names(&msg, &["channels.csv", "line 3", "field `id`", "negative"]);
    let msg = error(1, &CHANNELS.replace("9,20,21,", "9,20,20,"));
    assert_names(
        &msg,
        &[
            "channels.csv",
            "line 3",
            "field `edge2_id`",
            "equals edge1_id",
        ],
    );
    let msg = error(0, "id\n100\n-7\n99999999999999999999\n");
    assert_names(&msg, &["nodes.csv", "line 4", "field `id`", "64 bits"]);
}

#[test]
fn truncated_file_names_file_line_and_column() {
    let cut = &EDGES[..EDGES.rfind(",-7,").unwrap()];
    let msg = error(2, cut);
    assert_names(
        &msg,
        &["edges.csv", "line 5", "field `to_node_id`", "truncated"],
    );
    let cut = &CHANNELS[..CHANNELS.len() - 12];
    let msg = error(1, cut);
    assert_names(
        &msg,
        &["channels.csv", "line 3", "field `node2_id`", "truncated"],
    );
}

fn node(b: &mut GraphBuilder, seed: u8) -> flotilla_graph::NodeIdx {
    b.add_node(Node::bare(NodePubkey::from_secret([seed; 32]).unwrap()))
        .unwrap()
}

/// Five nodes (one isolated, one reachable only through a half-announced channel)
/// and five channels, two of which CLoTH cannot carry.
fn sample_graph() -> Graph {
    let mut b = GraphBuilder::new();
    let n: Vec<_> = (1..=5).map(|s| node(&mut b, s)).collect();
    let chan = |scid, nodes, cap, p: [Option<Policy>; 2]| Channel {
        scid: ShortChannelId(scid),
        nodes,
        capacity_sat: cap,
        policies: p,
        chan_point: None,
        last_update: 0,
    };
    let full = |cap: u64| cap * 1000;
    // n[1] has only the half-announced channel, so it is not written.
    b.add_channel(chan(
        900,
        [n[1], n[0]],
        10,
        [Some(policy(1, 1, 1, 1, full(10))), None],
    ))
    .unwrap();
    b.add_channel(chan(
        800,
        [n[2], n[0]],
        1_000_000,
        [
            Some(policy(0, 0, 144, 1, full(1_000_000))),
            Some(policy(u32::MAX, 4_000, 18, 1_000, full(1_000_000))),
        ],
    ))
    .unwrap();
    let mut disabled = policy(1, 1, 40, 1, full(5));
    disabled.disabled = true;
    b.add_channel(chan(
        700,
        [n[0], n[4]],
        5,
        [Some(disabled), Some(policy(1, 1, 40, 1, full(5)))],
    ))
    .unwrap();
    b.add_channel(chan(
        600,
        [n[0], n[4]],
        20_000,
        [
            Some(policy(1, 2, 3, 4, full(20_000))),
            Some(policy(6, 7, u16::MAX, 0, full(20_000))),
        ],
    ))
    .unwrap();
    b.add_channel(chan(
        500,
        [n[4], n[2]],
        3,
        [
            Some(policy(9, 9, 9, 9, full(3))),
            Some(policy(8, 8, 8, 8, full(3))),
        ],
    ))
    .unwrap();
    b.build()
}

#[test]
fn round_trip_preserves_every_field_cloth_carries() {
    let g = sample_graph();
    // Per edge: channel c gets (c+1) * 1000 msat on its AToB side.
    let bal: Vec<u64> = g
        .channels()
        .iter()
        .enumerate()
        .flat_map(|(c, ch)| {
            let a = ((c as u64 + 1) * 1000).min(ch.capacity_msat());
            [a, ch.capacity_msat() - a]
        })
        .collect();
    let balances = Balances::from_vec(bal);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out").join("cloth");
    let report = write_graph(&g, Some(&balances), GraphFormat::Cloth, &out).unwrap();
    assert_eq!(report.channels_written, 3);
    assert_eq!(report.nodes_written, 3);
    assert_eq!(report.warnings.count(Warning::ChannelNotExported), 2);

    let back = read_graph(&out, None).unwrap();
    let (bg, bb) = (back.graph, back.balances.unwrap());
    assert_eq!(bg.channel_count(), 3);
    assert_eq!(bg.node_count(), 3);
    // Written nodes keep their relative order: graph nodes 0, 2 and 4 become 0, 1, 2.
    let new_node = |i: u32| [Some(0u32), None, Some(1), None, Some(2)][i as usize].unwrap();
    let kept = [1usize, 3, 4];
    for (c, &i) in kept.iter().enumerate() {
        let (orig, got) = (&g.channels()[i], bg.channel(ChannelIdx(c as u32)));
        assert_eq!(got.scid, ShortChannelId(c as u64), "channel ids are dense");
        assert_eq!(got.capacity_sat, orig.capacity_sat);
        assert_eq!(got.nodes.map(|n| n.0), orig.nodes.map(|n| new_node(n.0)));
        for d in Direction::BOTH {
            // htlc_maximum_msat is not in CLoTH; the samples use the capacity, which
            // is what the importer fills in.
            assert_eq!(got.policy(d), orig.policy(d), "channel {i} dir {}", d.ix());
            assert_eq!(
                bb.side(ChannelIdx(c as u32), d),
                balances.side(ChannelIdx(i as u32), d)
            );
        }
    }
    for n in bg.nodes() {
        assert_eq!(n.pubkey, expected_key(n.alias.parse().unwrap()));
    }

    // Without balances the capacity is split in half.
    let out2 = dir.path().join("half");
    write_graph(&g, None, GraphFormat::Cloth, &out2).unwrap();
    let back = read_graph(&out2, None).unwrap();
    assert_eq!(
        back.balances.unwrap().as_slice(),
        [
            500_000_000,
            500_000_000,
            10_000_000,
            10_000_000,
            1_500,
            1_500
        ]
    );
}

#[test]
fn export_writes_cloth_layout_exactly() {
    let g = sample_graph();
    let dir = tempfile::tempdir().unwrap();
    write_graph(&g, None, GraphFormat::Cloth, dir.path()).unwrap();
    let read = |n: &str| std::fs::read_to_string(dir.path().join(n)).unwrap();
    assert_eq!(read("nodes.csv"), "id\n0\n1\n2\n");
    assert_eq!(
        read("channels.csv"),
        "id,edge1_id,edge2_id,node1_id,node2_id,capacity\n\
         0,0,1,1,0,1000000000\n\
         1,2,3,0,2,20000000\n\
         2,4,5,2,1,3000\n"
    );
    assert_eq!(
        read("edges.csv"),
        "id,channel_id,counter_edge_id,from_node_id,to_node_id,balance,fee_base,fee_proportional,min_htlc,timelock\n\
         0,0,1,1,0,500000000,0,0,1,144\n\
         1,0,0,0,1,500000000,4294967295,4000,1000,18\n\
         2,1,3,0,2,10000000,1,2,4,3\n\
         3,1,2,2,0,10000000,6,7,0,65535\n\
         4,2,5,2,1,1500,9,9,9,9\n\
         5,2,4,1,2,1500,8,8,8,8\n"
    );
}

#[test]
fn export_refuses_balances_that_do_not_fit() {
    let g = sample_graph();
    let dir = tempfile::tempdir().unwrap();
    let short = Balances::from_vec(vec![0; 3]);
    let e = write_graph(&g, Some(&short), GraphFormat::Cloth, dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("3 balances given for 10 directed edges"), "{e}");
    let wrong = Balances::from_vec(vec![1; 10]);
    let e = write_graph(&g, Some(&wrong), GraphFormat::Cloth, dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("channel 800") && e.contains("do not sum to its capacity"),
        "{e}"
    );
}

#[test]
fn bundled_style_ln_snapshot_rows_parse() {
    // The first rows of CLoTH's own edges_ln.csv / channels_ln.csv layout.
    let dir = tempfile::tempdir().unwrap();
    write_triple(
        dir.path(),
        LN,
        [
            "id\n0\n1\n",
            "id,edge1_id,edge2_id,node1_id,node2_id,capacity\n0,0,1,0,1,50000000\n",
            "id,channel_id,counter_edge_id,from_node_id,to_node_id,balance,fee_base,fee_proportional,min_htlc,timelock\n\
             0,0,1,0,1,4300909,1000,1,1000,144\n\
             1,0,0,1,0,45699091,1000,1,1000,144\n",
        ],
    );
    let imported = read_graph(dir.path(), None).unwrap();
    assert_eq!(imported.graph.channel_count(), 1);
    assert!(imported.balances.unwrap().fits(&imported.graph));
}
