//! Edge-disjoint paths between two nodes, as the Boomerang paper's simulator
//! precomputes them (networkx's `edge_disjoint_paths` with a cutoff).
//!
//! Every enabled channel direction has capacity one; a maximum flow from the sender to
//! the receiver is grown by shortest augmenting paths (Edmonds–Karp: a breadth-first
//! search of the residual graph, which may send flow back over a direction an earlier
//! path used) until `max_paths` units flow or none can; the flow is then split into
//! that many paths. No two paths share a channel direction (a path may use A→B and
//! another B→A, as in the paper's directed graph); cycles met while splitting are cut
//! out, so every path is simple. Ties are broken by the graph's adjacency order, so the
//! result is deterministic.

use std::collections::VecDeque;

use flotilla_graph::{EdgeIdx, Graph, NodeIdx};

/// A step of an augmenting path: over `edge` forwards, or back against its flow.
#[derive(Copy, Clone)]
struct Step {
    edge: EdgeIdx,
    forward: bool,
}

fn usable(graph: &Graph, e: EdgeIdx) -> bool {
    graph.policy(e).is_some_and(|p| !p.disabled)
}

/// At most `max_paths` edge-disjoint paths from `source` to `target` over enabled
/// channel directions, each as its edges from the sender side; empty if `source ==
/// target` or the target is unreachable.
pub fn edge_disjoint_paths(
    graph: &Graph,
    source: NodeIdx,
    target: NodeIdx,
    max_paths: usize,
) -> Vec<Vec<EdgeIdx>> {
    let n = graph.node_count();
    if source == target || source.ix() >= n || target.ix() >= n || max_paths == 0 {
        return Vec::new();
    }
    // Flow per directed edge, only where it is (or was) one: a sparse set keeps the
    // cost per pair proportional to what the searches touch.
    let mut flow: std::collections::HashSet<EdgeIdx> = Default::default();
    let mut via: Vec<Option<Step>> = vec![None; n];
    let mut seen: Vec<bool> = vec![false; n];
    let mut touched: Vec<usize> = Vec::new();
    let mut units = 0;
    while units < max_paths {
        for &i in &touched {
            seen[i] = false;
            via[i] = None;
        }
        touched.clear();
        let mut queue = VecDeque::from([source]);
        seen[source.ix()] = true;
        touched.push(source.ix());
        let mut reached = false;
        'bfs: while let Some(u) = queue.pop_front() {
            let forwards = graph
                .out_edges(u)
                .iter()
                .filter(|&&e| usable(graph, e) && !flow.contains(&e))
                .map(|&e| {
                    (
                        graph.edge_target(e),
                        Step {
                            edge: e,
                            forward: true,
                        },
                    )
                });
            let backwards = graph
                .in_edges(u)
                .iter()
                .filter(|&&e| flow.contains(&e))
                .map(|&e| {
                    (
                        graph.edge_source(e),
                        Step {
                            edge: e,
                            forward: false,
                        },
                    )
                });
            for (v, step) in forwards.chain(backwards) {
                if seen[v.ix()] {
                    continue;
                }
                seen[v.ix()] = true;
                touched.push(v.ix());
                via[v.ix()] = Some(step);
                if v == target {
                    reached = true;
                    break 'bfs;
                }
                queue.push_back(v);
            }
        }
        if !reached {
            break;
        }
        let mut v = target;
        while v != source {
            let step = via[v.ix()].expect("on the augmenting path");
            if step.forward {
                flow.insert(step.edge);
                v = graph.edge_source(step.edge);
            } else {
                flow.remove(&step.edge);
                v = graph.edge_target(step.edge);
            }
        }
        units += 1;
    }
    decompose(graph, source, target, flow, units)
}

/// Splits a unit flow of `units` from `source` to `target` into simple paths.
fn decompose(
    graph: &Graph,
    source: NodeIdx,
    target: NodeIdx,
    mut flow: std::collections::HashSet<EdgeIdx>,
    units: usize,
) -> Vec<Vec<EdgeIdx>> {
    let mut paths = Vec::with_capacity(units);
    for _ in 0..units {
        let mut path: Vec<EdgeIdx> = Vec::new();
        let mut at = source;
        while at != target {
            // Flow is conserved at every node but the ends, so a unit leaving the
            // source always reaches the target.
            let Some(&e) = graph.out_edges(at).iter().find(|e| flow.contains(e)) else {
                break;
            };
            flow.remove(&e);
            let next = graph.edge_target(e);
            // Revisiting a node closes a cycle: drop it.
            let back = std::iter::once(source)
                .chain(path.iter().map(|&p| graph.edge_target(p)))
                .position(|x| x == next);
            match back {
                Some(k) => path.truncate(k),
                None => path.push(e),
            }
            at = next;
        }
        if at == target && !path.is_empty() {
            paths.push(path);
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorers::test_util::policy;
    use flotilla_graph::{Channel, GraphBuilder, Node, NodePubkey, ShortChannelId};

    /// `nodes` nodes and a channel (both directions enabled) per pair in `edges`.
    fn graph(edges: &[(u8, u8)], nodes: u8) -> Graph {
        let mut b = GraphBuilder::new();
        let idx: Vec<NodeIdx> = (0..nodes)
            .map(|i| {
                let mut secret = [0u8; 32];
                secret[31] = i + 1;
                secret[0] = 9;
                b.add_node(Node::bare(NodePubkey::from_secret(secret).unwrap()))
                    .unwrap()
            })
            .collect();
        for (i, &(a, c)) in edges.iter().enumerate() {
            b.add_channel(Channel {
                scid: ShortChannelId(i as u64 + 1),
                nodes: [idx[a as usize], idx[c as usize]],
                capacity_sat: 1_000,
                policies: [Some(policy(1_000)), Some(policy(1_000))],
                chan_point: None,
                last_update: 0,
            })
            .unwrap();
        }
        b.build()
    }

    fn check(g: &Graph, s: NodeIdx, t: NodeIdx, paths: &[Vec<EdgeIdx>]) {
        let mut used = std::collections::HashSet::new();
        for p in paths {
            assert_eq!(g.edge_source(p[0]), s);
            assert_eq!(g.edge_target(*p.last().unwrap()), t);
            let mut nodes = vec![s];
            for w in p.windows(2) {
                assert_eq!(g.edge_target(w[0]), g.edge_source(w[1]));
            }
            for &e in p {
                assert!(used.insert(e), "edge used twice");
                nodes.push(g.edge_target(e));
            }
            let distinct: std::collections::HashSet<_> = nodes.iter().collect();
            assert_eq!(distinct.len(), nodes.len(), "not simple");
        }
    }

    #[test]
    fn a_ring_has_two_disjoint_paths_and_a_line_one() {
        let ring = graph(&[(0, 1), (1, 2), (2, 3), (3, 0)], 4);
        let s = NodeIdx(0);
        let t = NodeIdx(2);
        let p = edge_disjoint_paths(&ring, s, t, 25);
        assert_eq!(p.len(), 2);
        check(&ring, s, t, &p);
        assert_eq!(edge_disjoint_paths(&ring, s, t, 1).len(), 1);
        let line = graph(&[(0, 1), (1, 2)], 3);
        assert_eq!(
            edge_disjoint_paths(&line, NodeIdx(0), NodeIdx(2), 25).len(),
            1
        );
        assert!(edge_disjoint_paths(&line, NodeIdx(0), NodeIdx(0), 25).is_empty());
    }

    #[test]
    fn needs_the_residual_graph() {
        // The classic trap: the shortest path 0-1-2-3 blocks both others (0-4-2-3 and
        // 0-1-5-3) unless the second search sends flow back over 1→2.
        let g = graph(&[(0, 1), (1, 2), (2, 3), (0, 4), (4, 2), (1, 5), (5, 3)], 6);
        let p = edge_disjoint_paths(&g, NodeIdx(0), NodeIdx(3), 25);
        assert_eq!(p.len(), 2);
        check(&g, NodeIdx(0), NodeIdx(3), &p);
    }
}
