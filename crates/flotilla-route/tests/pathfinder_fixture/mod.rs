//! What the pathfinder's tests build on: graphs made from channel specs, a test scorer
//! that leaves the policy checks to the pathfinder, and the checker of every rule a
//! returned path must obey.

use flotilla_graph::{
    Channel, EdgeIdx, Graph, GraphBuilder, Node, NodeIdx, NodePubkey, Policy, ShortChannelId,
};
use flotilla_route::{Path, PathFailure, RouteRequest, Scorer, Timestamp};

use crate::pathfinder_reference::NOW;

/// A smooth probability with no policy gate of its own, `P = c / (c + a)` (`c` the
/// capacity), so that the pathfinder's own checks of HTLC limits, capacity and
/// disabled or missing policies are what the tests see; except that `blocked` edges
/// have probability zero.
#[derive(Clone, Debug, Default)]
pub struct Blocking {
    pub blocked: Vec<EdgeIdx>,
}

impl Scorer for Blocking {
    fn success_probability(&self, g: &Graph, e: EdgeIdx, a: u64, _: Timestamp) -> f64 {
        if self.blocked.contains(&e) {
            return 0.0;
        }
        let c = g
            .channels()
            .get(e.channel().ix())
            .map_or(0, |c| c.capacity_msat()) as f64;
        if c + a as f64 > 0.0 {
            c / (c + a as f64)
        } else {
            1.0
        }
    }

    fn path_succeeded(&mut self, _: &Graph, _: &Path, _: Timestamp) {}
    fn path_failed(&mut self, _: &Graph, _: &Path, _: PathFailure, _: Timestamp) {}
    fn htlcs_in_flight(&mut self, _: &Graph, _: &Path, _: bool) {}
}

#[derive(Clone, Debug)]
pub struct PolicySpec {
    pub base: u32,
    pub ppm: u32,
    pub cltv: u16,
    pub htlc_min: u64,
    /// `None`: the channel capacity.
    pub htlc_max: Option<u64>,
    pub disabled: bool,
}

#[derive(Clone, Debug)]
pub struct ChannelSpec {
    pub a: usize,
    pub b: usize,
    pub capacity_sat: u64,
    pub policies: [Option<PolicySpec>; 2],
}

fn key(i: usize) -> NodePubkey {
    NodePubkey::from_secret([i as u8 + 1; 32]).unwrap()
}

fn policy(spec: &PolicySpec, capacity_sat: u64) -> Policy {
    Policy {
        fee_base_msat: spec.base,
        fee_rate_ppm: spec.ppm,
        cltv_expiry_delta: spec.cltv,
        htlc_minimum_msat: spec.htlc_min,
        htlc_maximum_msat: spec.htlc_max.unwrap_or(capacity_sat * 1000),
        disabled: spec.disabled,
        last_update: 0,
    }
}

pub fn build(nodes: usize, channels: &[ChannelSpec]) -> Graph {
    let mut b = GraphBuilder::new();
    for i in 0..nodes {
        b.add_node(Node::bare(key(i))).unwrap();
    }
    for (i, c) in channels.iter().enumerate() {
        b.add_channel(Channel {
            scid: ShortChannelId(i as u64 + 1),
            nodes: [NodeIdx(c.a as u32), NodeIdx(c.b as u32)],
            capacity_sat: c.capacity_sat,
            policies: [
                c.policies[0].as_ref().map(|p| policy(p, c.capacity_sat)),
                c.policies[1].as_ref().map(|p| policy(p, c.capacity_sat)),
            ],
            chan_point: None,
            last_update: 0,
        })
        .unwrap();
    }
    b.build()
}

/// Every rule a returned path must obey, checked from the graph.
pub fn check_path<S: Scorer>(
    g: &Graph,
    scorer: &S,
    req: &RouteRequest,
    path: &Path,
) -> Result<(), String> {
    let lim = &req.limits;
    let hops = &path.hops;
    if hops.is_empty() || hops.len() > lim.max_path_len as usize {
        return Err(format!("{} hops", hops.len()));
    }
    if path.source(g) != req.source || path.target(g) != req.target {
        return Err("wrong endpoints".into());
    }
    let mut seen = vec![req.source];
    for (i, h) in hops.iter().enumerate() {
        if i > 0 && g.edge_source(h.edge) != g.edge_target(hops[i - 1].edge) {
            return Err(format!("hop {i} not contiguous"));
        }
        let next = g.edge_target(h.edge);
        if seen.contains(&next) {
            return Err(format!("hop {i} revisits a node"));
        }
        seen.push(next);
        if i + 1 < hops.len() && lim.excluded_nodes.contains(&next) {
            return Err(format!("hop {i} enters an excluded node"));
        }
        let p = g.policy(h.edge).ok_or(format!("hop {i} has no policy"))?;
        if p.disabled {
            return Err(format!("hop {i} is disabled"));
        }
        if lim.excluded_edges.contains(&h.edge) {
            return Err(format!("hop {i} is excluded"));
        }
        if h.amount_msat < p.htlc_minimum_msat
            || h.amount_msat > p.htlc_maximum_msat
            || h.amount_msat > g.channel(h.edge.channel()).capacity_msat()
        {
            return Err(format!(
                "hop {i} amount {} outside its HTLC range",
                h.amount_msat
            ));
        }
        if scorer.success_probability(g, h.edge, h.amount_msat, NOW) <= 0.0 {
            return Err(format!("hop {i} has probability zero"));
        }
        if i > 0 {
            // BOLT 7, from the destination backwards: the previous hop carries this
            // hop's amount plus this hop's fee, rounded down.
            let prev = &hops[i - 1];
            if prev.amount_msat != h.amount_msat + p.fee_msat(h.amount_msat) {
                return Err(format!(
                    "hop {} amount is not hop {i}'s plus its fee",
                    i - 1
                ));
            }
            if prev.cltv_expiry != h.cltv_expiry + p.cltv_expiry_delta as u32 {
                return Err(format!(
                    "hop {} CLTV is not hop {i}'s plus its delta",
                    i - 1
                ));
            }
        }
    }
    let last = hops.last().unwrap();
    if last.amount_msat != req.amount_msat || last.cltv_expiry != req.final_cltv_delta {
        return Err("last hop does not deliver the amount with the final delta".into());
    }
    if path.fee_msat() > lim.max_fee_msat {
        return Err(format!("fee {} over the limit", path.fee_msat()));
    }
    if path.total_cltv() > lim.max_total_cltv {
        return Err(format!("total CLTV {} over the limit", path.total_cltv()));
    }
    Ok(())
}

pub fn same_cost(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}
