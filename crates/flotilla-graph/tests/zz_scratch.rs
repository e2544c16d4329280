#[test]
fn scratch() {
    let g = flotilla_graph::read_graph(std::path::Path::new("../../data/mainnet-2026-02-03.describegraph.json.gz"), None).unwrap().graph;
    let mut nodes = std::collections::HashSet::new();
    let mut n = 0;
    for c in g.channels() {
        if c.policies.iter().all(|p| p.is_some_and(|p| !p.disabled)) { n += 1; nodes.insert(c.nodes[0]); nodes.insert(c.nodes[1]); }
    }
    let odd = g.channels().iter().filter(|c| c.policies.iter().flatten().any(|p| p.htlc_maximum_msat > c.capacity_msat())).count();
    let maxscid = g.channels().iter().map(|c| c.scid.0).max();
    let aliases = g.nodes().iter().filter(|n| !n.alias.is_empty()).count();
    println!("nodes {} channels {} both {} nodes_in_both {} htlcmax>cap {} maxscid {:?} aliases {}", g.node_count(), g.channel_count(), n, nodes.len(), odd, maxscid, aliases);
    for (w, c, ex) in g.warnings().iter() { println!("{w} {c} {ex}"); }
}
