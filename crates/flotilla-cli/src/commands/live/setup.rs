//! The scenario's network, built on the running nodes: every pair of channel ends
//! connected first (so that every announcement floods to everyone), then every
//! channel opened with the scenario's balances, then a wait until gossip has told
//! every node every channel and gone quiet. And, after the workload, the books.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use flotilla_graph::{ChannelIdx, Direction, NodeIdx, Policy};
use flotilla_node::control::protocol::Request;
use flotilla_node::engine::policy::{OwnPolicy, PolicyChange};
use flotilla_sim::experiment::Experiment;
use serde_json::{json, Value};

use super::cluster::{self, ask, Cluster};

/// How long gossip may take to reach every node.
const GOSSIP_TIMEOUT: Duration = Duration::from_secs(120);
/// Gossip counts as done when no node received a message for this long after every
/// node knew every channel (each direction's announcement travels separately).
const GOSSIP_QUIET: Duration = Duration::from_millis(500);

/// One node as live.json lists it.
pub struct NodeRecord {
    /// Graph index.
    pub index: usize,
    /// Alias given to the process.
    pub alias: String,
    /// The scenario graph's key for it (what payments.csv names).
    pub graph_pubkey: String,
    /// The live node's id.
    pub node_id: String,
    /// Its loopback listen address.
    pub listen: String,
    /// Its process id.
    pub pid: u32,
}

/// What building the network took.
pub struct Network {
    /// The nodes.
    pub nodes: Vec<NodeRecord>,
    /// Seconds to connect every pair.
    pub connect_secs: f64,
    /// Seconds to open every channel.
    pub open_secs: f64,
    /// Seconds until gossip was complete and quiet.
    pub gossip_secs: f64,
}

/// The policy a live node announces for a scenario graph's direction: the graph's,
/// with `htlc_maximum_msat` capped at the capacity (a live node refuses more), or
/// `None` when a live node cannot announce it (a disabled direction, no policy, a
/// CLTV delta of 0 or above 2016, an HTLC minimum above the capacity).
pub fn live_policy(q: Option<&Policy>, capacity_sat: u64) -> Option<OwnPolicy> {
    let q = q.filter(|q| !q.disabled)?;
    let p = OwnPolicy {
        fee_base_msat: q.fee_base_msat,
        fee_rate_ppm: q.fee_rate_ppm,
        cltv_expiry_delta: q.cltv_expiry_delta,
        // 0 and 1 msat allow the same HTLCs: BOLT 2 forbids a zero-value one.
        htlc_minimum_msat: q.htlc_minimum_msat.max(1),
        htlc_maximum_msat: Some(q.htlc_maximum_msat.min(capacity_sat.saturating_mul(1000))),
    };
    p.check_for(capacity_sat).ok().map(|()| p)
}

fn change_to(p: OwnPolicy) -> PolicyChange {
    PolicyChange {
        fee_base_msat: Some(p.fee_base_msat),
        fee_rate_ppm: Some(p.fee_rate_ppm),
        cltv_expiry_delta: Some(p.cltv_expiry_delta),
        htlc_minimum_msat: Some(p.htlc_minimum_msat),
        htlc_maximum_msat: p.htlc_maximum_msat,
    }
}

/// Connects, opens and waits for gossip.
pub fn build(c: &Cluster, p: &Experiment) -> Result<Network> {
    let g = &p.graph;
    // Connect each pair of channel ends once, from the channel's nodes[0].
    let t = Instant::now();
    let mut pairs = BTreeSet::new();
    for ch in g.channels() {
        let [a, b] = [ch.nodes[0].ix(), ch.nodes[1].ix()];
        if pairs.insert((a.min(b), a.max(b))) {
            cluster::check_interrupted()?;
            let peer = format!("{}@{}", c.nodes[b].node_id, c.nodes[b].listen);
            ask(&c.nodes[a].dir, Request::Connect { peer })?;
        }
    }
    let connect_secs = t.elapsed().as_secs_f64();
    // Open each channel from nodes[0], pushing nodes[1]'s balance to the msat, with
    // nodes[0]'s policy; then nodes[1] sets its own direction's.
    let t = Instant::now();
    for (ci, ch) in g.channels().iter().enumerate() {
        cluster::check_interrupted()?;
        let c_ix = ChannelIdx(ci as u32);
        let cap_msat = ch.capacity_sat * 1000;
        let push_msat = p.balances.side(c_ix, Direction::BToA).min(cap_msat);
        let [a, b] = [ch.nodes[0].ix(), ch.nodes[1].ix()];
        let v = ask(
            &c.nodes[a].dir,
            Request::OpenChannel {
                peer: c.nodes[b].node_id.clone(),
                capacity_sat: ch.capacity_sat,
                push_msat: Some(push_msat),
                push_sat: None,
                policy: live_policy(ch.policies[0].as_ref(), ch.capacity_sat)
                    .map(change_to)
                    .unwrap_or_default(),
                params: Default::default(),
            },
        )?;
        let local = v.get("local_msat").and_then(Value::as_u64);
        let expect = cap_msat - push_msat;
        if local != Some(expect) {
            bail!("channel {ci}: opened with local {local:?} msat, expected {expect}");
        }
        if let Some(pol) = live_policy(ch.policies[1].as_ref(), ch.capacity_sat) {
            let channel_id = v
                .get("channel_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let ch = change_to(pol);
            ask(
                &c.nodes[b].dir,
                Request::SetPolicy {
                    channel_id,
                    fee_base_msat: ch.fee_base_msat,
                    fee_rate_ppm: ch.fee_rate_ppm,
                    cltv_expiry_delta: ch.cltv_expiry_delta,
                    htlc_minimum_msat: ch.htlc_minimum_msat,
                    htlc_maximum_msat: ch.htlc_maximum_msat,
                },
            )?;
        }
    }
    let open_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    wait_for_gossip(c, g.channel_count())?;
    let gossip_secs = t.elapsed().as_secs_f64();
    let nodes = c
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let gn = g.node(NodeIdx(i as u32));
            NodeRecord {
                index: i,
                alias: if gn.alias.is_empty() {
                    format!("n{i}")
                } else {
                    gn.alias.clone()
                },
                graph_pubkey: gn.pubkey.to_string(),
                node_id: n.node_id.clone(),
                listen: n.listen.clone(),
                pid: n.pid(),
            }
        })
        .collect();
    Ok(Network {
        nodes,
        connect_secs,
        open_secs,
        gossip_secs,
    })
}

/// Waits until every node knows `channels` channels and no node received a message
/// for [`GOSSIP_QUIET`].
fn wait_for_gossip(c: &Cluster, channels: usize) -> Result<()> {
    let since = Instant::now();
    let mut last_total: Option<u64> = None;
    let mut quiet_since = Instant::now();
    loop {
        cluster::check_interrupted()?;
        let mut all_known = true;
        let mut total = 0u64;
        let mut least = usize::MAX;
        for n in &c.nodes {
            let info = ask(&n.dir, Request::Info)?;
            let known = info
                .pointer("/engine/known_channels")
                .and_then(Value::as_u64)
                .unwrap_or(0) as usize;
            least = least.min(known);
            all_known &= known >= channels;
            total += info
                .pointer("/messages/received")
                .and_then(Value::as_object)
                .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
        }
        if last_total != Some(total) {
            last_total = Some(total);
            quiet_since = Instant::now();
        }
        if all_known && quiet_since.elapsed() >= GOSSIP_QUIET {
            return Ok(());
        }
        if since.elapsed() > GOSSIP_TIMEOUT {
            bail!(
                "gossip: after {} s the least informed node knows {least} of {channels} channels",
                GOSSIP_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every node's books after the workload: its own check, live HTLCs, and the
/// network's value (the sum over channels of both ends' balances must equal the sum
/// of capacities, with no HTLC pending). An error if anything is off.
pub fn books(c: &Cluster, p: &Experiment) -> Result<Value> {
    // Ask each node a few times: the last payment's final revoke_and_ack may still be
    // on its way when its `pay` answered.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (live_htlcs, bad, local_sum, pending) = loop {
        let (mut live_htlcs, mut bad, mut local_sum, mut pending) = (0u64, Vec::new(), 0u128, 0u64);
        for (i, n) in c.nodes.iter().enumerate() {
            let info = ask(&n.dir, Request::Info)?;
            live_htlcs += info
                .pointer("/engine/live_htlcs")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let b = info
                .pointer("/engine/books")
                .and_then(Value::as_str)
                .unwrap_or("?");
            if b != "ok" {
                bad.push(json!({ "node": i, "books": b }));
            }
            let chans = ask(&n.dir, Request::Channels)?;
            for ch in chans.as_array().into_iter().flatten() {
                local_sum += u128::from(ch.get("local_msat").and_then(Value::as_u64).unwrap_or(0));
                pending += ch.get("pending_htlcs").and_then(Value::as_u64).unwrap_or(0);
            }
        }
        if (live_htlcs == 0 && pending == 0) || Instant::now() > deadline {
            break (live_htlcs, bad, local_sum, pending);
        }
        cluster::sleep(Duration::from_millis(200))?;
    };
    let capacity: u128 = p
        .graph
        .channels()
        .iter()
        .map(|ch| u128::from(ch.capacity_sat) * 1000)
        .sum();
    let v = json!({
        "nodes_with_bad_books": bad,
        "live_htlcs": live_htlcs,
        "pending_htlcs": pending,
        "local_msat_sum": local_sum.to_string(),
        "capacity_msat_sum": capacity.to_string(),
    });
    if !bad.is_empty() || live_htlcs > 0 || pending > 0 || local_sum != capacity {
        bail!("the live network's books do not balance after the workload: {v}");
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_policies_map_to_what_a_live_node_announces() {
        let q = Policy {
            fee_base_msat: 3,
            fee_rate_ppm: 40,
            cltv_expiry_delta: 144,
            htlc_minimum_msat: 0,
            htlc_maximum_msat: 5_000_000,
            disabled: false,
            last_update: 0,
        };
        let p = live_policy(Some(&q), 1000).unwrap();
        assert_eq!(
            (p.fee_base_msat, p.fee_rate_ppm, p.cltv_expiry_delta),
            (3, 40, 144)
        );
        assert_eq!(p.htlc_minimum_msat, 1, "0 msat allows what 1 msat does");
        assert_eq!(
            p.htlc_maximum_msat,
            Some(1_000_000),
            "capped at the capacity"
        );
        assert_eq!(live_policy(None, 1000), None);
        let off = Policy {
            disabled: true,
            ..q
        };
        assert_eq!(live_policy(Some(&off), 1000), None);
        let zero = Policy {
            cltv_expiry_delta: 0,
            ..q
        };
        assert_eq!(live_policy(Some(&zero), 1000), None);
    }
}
