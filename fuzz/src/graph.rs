//! Graph importers: every format, arbitrary bytes; errors name their file.

use std::path::Path;

use flotilla_graph::import::{detect_format, parse_cloth, ClothPaths};
use flotilla_graph::stats::GraphStats;
use flotilla_graph::{parse_graph_bytes, ChannelIdx, Graph, GraphFormat, NodeIdx};

/// What every imported graph must satisfy, whatever the input.
fn check_graph(g: &Graph) {
    let n = g.node_count();
    for (i, c) in g.channels().iter().enumerate() {
        assert!(
            c.nodes[0].ix() < n && c.nodes[1].ix() < n,
            "channel {i} names a missing node"
        );
        assert_ne!(c.nodes[0], c.nodes[1], "channel {i} is a self-loop");
        let found = g.channel_by_scid(c.scid);
        assert_eq!(
            found,
            Some(ChannelIdx(i as u32)),
            "scid lookup of channel {i}"
        );
    }
    for v in 0..n {
        for e in g.out_edges(NodeIdx(v as u32)) {
            assert!(g.policy(*e).is_some(), "an out-edge without a policy");
        }
    }
    let _ = GraphStats::compute(g);
}

/// An importer error must name the file (the convention every error line follows).
pub(crate) fn check_error(e: &dyn std::fmt::Display, file: &str) {
    let s = e.to_string();
    assert!(s.contains(file), "error does not name the file: {s}");
    assert!(!s.contains('\n'), "error is more than one line: {s}");
}

/// One JSON graph format, forced, then detected.
pub fn graph_json(format: GraphFormat, data: &[u8]) {
    let name = "fuzz.json";
    let path = Path::new(name);
    match parse_graph_bytes(path, data, Some(format)) {
        Ok(imported) => check_graph(&imported.graph),
        Err(e) => check_error(&e, name),
    }
    match detect_format(path, data) {
        Ok(GraphFormat::Cloth) | Err(_) => {}
        Ok(detected) => match parse_graph_bytes(path, data, Some(detected)) {
            Ok(imported) => check_graph(&imported.graph),
            Err(e) => check_error(&e, name),
        },
    }
}

/// lnd `describegraph` JSON.
pub fn graph_describegraph(data: &[u8]) {
    graph_json(GraphFormat::Describegraph, data);
}

/// CLN `listchannels` JSON.
pub fn graph_listchannels(data: &[u8]) {
    graph_json(GraphFormat::Listchannels, data);
}

/// sim-ln `sim.json`.
pub fn graph_simln(data: &[u8]) {
    graph_json(GraphFormat::Simln, data);
}

/// CLoTH's three CSV files, separated by `0xff` bytes (which CSV text never holds).
pub fn graph_cloth(data: &[u8]) {
    let mut parts = data.splitn(3, |b| *b == 0xff);
    let nodes = parts.next().unwrap_or_default().to_vec();
    let channels = parts.next().unwrap_or_default().to_vec();
    let edges = parts.next().unwrap_or_default().to_vec();
    let paths = ClothPaths {
        nodes: "nodes.csv".into(),
        channels: "channels.csv".into(),
        edges: "edges.csv".into(),
    };
    match parse_cloth(&paths, nodes, channels, edges) {
        Ok((g, balances)) => {
            check_graph(&g);
            assert!(balances.fits(&g), "CLoTH balances do not fit their graph");
        }
        Err(e) => {
            let s = e.to_string();
            assert!(
                ["nodes.csv", "channels.csv", "edges.csv"]
                    .iter()
                    .any(|f| s.contains(f)),
                "error does not name a file: {s}"
            );
        }
    }
}
