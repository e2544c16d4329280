//! Writes CLoTH's CSV files `nodes.csv`, `channels.csv` and `edges.csv` into a
//! directory, with the exact headers CLoTH's `write_network_files` writes (see
//! `import::cloth` for the layout and its source).
//!
//! CLoTH reads columns by position and uses ids as positions in its arrays (node
//! `n` is the `n`-th line of `nodes.csv`, and so on), so ids are dense: nodes are
//! numbered `0..` in graph index order, channels `0..` in graph index order, and
//! channel `c` has edges `2c` (from `node1`, our [`Direction::AToB`]) and `2c + 1`.
//!
//! CLoTH needs both directions of every channel and has no disabled flag, so a
//! channel without two enabled policies is left out (counted as
//! [`crate::Warning::ChannelNotExported`]), and nodes left without a channel are not
//! written; the remaining ids close up. CLoTH carries no keys, aliases, short
//! channel ids or `htlc_maximum_msat`; those are lost. Balances are written as given,
//! or each capacity is split in half (the odd msat, if any, to `node1`).

use std::path::Path;

use crate::error::{GraphError, Result};
use crate::export::{exportable_both_ways, with_writer, ExportReport};
use crate::graph::Graph;
use crate::liquidity::Balances;
use crate::types::{ChannelIdx, Direction};

pub(crate) fn write(
    graph: &Graph,
    balances: Option<&Balances>,
    out: &Path,
) -> Result<ExportReport> {
    if let Some(b) = balances {
        if b.as_slice().len() != graph.edge_slots() {
            return Err(GraphError::Export {
                format: "cloth",
                why: format!(
                    "{} balances given for {} directed edges ({} channels)",
                    b.as_slice().len(),
                    graph.edge_slots(),
                    graph.channel_count()
                ),
            });
        }
    }
    let mut report = ExportReport::default();
    let keep = exportable_both_ways(graph, &mut report);

    // The two balances of each kept channel, checked before anything is written.
    let mut sides = Vec::with_capacity(keep.len());
    for &i in &keep {
        let c = &graph.channels()[i];
        let cap = c.capacity_msat();
        let pair = match balances {
            Some(b) => {
                let ch = ChannelIdx(i as u32);
                let pair = [b.side(ch, Direction::AToB), b.side(ch, Direction::BToA)];
                if pair[0] as u128 + pair[1] as u128 != cap as u128 {
                    return Err(GraphError::Export {
                        format: "cloth",
                        why: format!(
                            "the balances of channel {} ({} + {} msat) do not sum to its capacity {cap} msat",
                            c.scid, pair[0], pair[1]
                        ),
                    });
                }
                pair
            }
            None => [cap - cap / 2, cap / 2],
        };
        sides.push(pair);
    }

    // Dense node ids, in graph index order, for nodes that keep a channel.
    let mut node_id: Vec<Option<u32>> = vec![None; graph.node_count()];
    for &i in &keep {
        for n in graph.channels()[i].nodes {
            node_id[n.ix()] = Some(0);
        }
    }
    let mut next = 0u32;
    for id in node_id.iter_mut().flatten() {
        *id = next;
        next += 1;
    }
    let id_of = |n: crate::types::NodeIdx| node_id[n.ix()].unwrap_or(0);

    std::fs::create_dir_all(out).map_err(|e| GraphError::io(out, e))?;
    with_writer(&out.join("nodes.csv"), |w| {
        w.write_all(b"id\n")?;
        for id in 0..next {
            writeln!(w, "{id}")?;
        }
        Ok(ExportReport::default())
    })?;
    with_writer(&out.join("channels.csv"), |w| {
        w.write_all(b"id,edge1_id,edge2_id,node1_id,node2_id,capacity\n")?;
        for (c, &i) in keep.iter().enumerate() {
            let ch = &graph.channels()[i];
            let [a, z] = ch.nodes.map(id_of);
            writeln!(
                w,
                "{c},{},{},{a},{z},{}",
                2 * c,
                2 * c + 1,
                ch.capacity_msat()
            )?;
        }
        Ok(ExportReport::default())
    })?;
    with_writer(&out.join("edges.csv"), |w| {
        w.write_all(
            b"id,channel_id,counter_edge_id,from_node_id,to_node_id,balance,fee_base,fee_proportional,min_htlc,timelock\n",
        )?;
        for (c, (&i, pair)) in keep.iter().zip(&sides).enumerate() {
            let ch = &graph.channels()[i];
            for d in Direction::BOTH {
                // `exportable_both_ways` kept only channels with both policies.
                let Some(p) = ch.policy(d) else { continue };
                writeln!(
                    w,
                    "{},{c},{},{},{},{},{},{},{},{}",
                    2 * c + d.ix(),
                    2 * c + d.reverse().ix(),
                    id_of(ch.from_node(d)),
                    id_of(ch.to_node(d)),
                    pair[d.ix()],
                    p.fee_base_msat,
                    p.fee_rate_ppm,
                    p.htlc_minimum_msat,
                    p.cltv_expiry_delta
                )?;
            }
        }
        Ok(ExportReport::default())
    })?;

    report.channels_written = keep.len();
    report.nodes_written = next as usize;
    Ok(report)
}
