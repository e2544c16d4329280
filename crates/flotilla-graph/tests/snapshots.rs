//! The bundled real mainnet snapshots import to exactly the published counts.

use std::path::{Path, PathBuf};

use flotilla_graph::read_graph;
use flotilla_graph::stats::GraphStats;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(name)
}

#[test]
fn mainnet_2026_describegraph_counts() {
    let g = read_graph(&data("mainnet-2026-02-03.describegraph.json.gz"), None)
        .unwrap()
        .graph;
    let s = GraphStats::compute(&g);
    assert_eq!(s.nodes, 17_324);
    assert_eq!(s.channels, 50_808);
    assert_eq!(s.policies, 65_809);
    assert_eq!(s.enabled_policies, 65_809);
    assert_eq!(s.capacity_sat, 536_168_010_515);
    assert_eq!(s.largest_scc_nodes, 6_191);
    assert_eq!(s.channels_enabled_both_ways, 31_917);
}

#[test]
fn mainnet_2021_listchannels_counts() {
    let g = read_graph(&data("mainnet-2021-04-16.listchannels.json.gz"), None)
        .unwrap()
        .graph;
    let s = GraphStats::compute(&g);
    assert_eq!(s.nodes, 8_827);
    assert_eq!(s.channels, 37_454);
    assert_eq!(s.policies, 66_964);
    assert_eq!(s.enabled_policies, 55_622);
    assert_eq!(s.capacity_sat, 119_099_106_244);
    assert_eq!(s.largest_scc_nodes, 5_320);
}
