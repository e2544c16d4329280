//! Stationary demand (`workload.demand = "balanced"`): random payments that come in
//! cycles, so that every node pays out about what it is paid, and a long run does not
//! drain liquidity toward the receivers.
//!
//! The independent random workload draws senders uniformly and receivers weighted by
//! capacity: over 100,000 payments that moves liquidity steadily from small nodes to
//! large ones, channels drain one way, and success falls while cost rises. Real
//! payment flows come back (merchants pay suppliers, exchanges pay out). Here each
//! payment belongs to a cycle n0 → n1 → … → n(L−1) → n0 of one amount: the first
//! node is drawn uniformly, each next one as a receiver (weighted by capacity), the
//! cycle's length uniformly in [2, max_cycle]. Every node of a cycle sends and receives
//! its amount once, so a completed cycle leaves every node's net position where it was.
//!
//! Cycles are interleaved: `window` of them are open at once, and each arrival (a
//! Poisson process, as in the random workload) advances one open cycle, drawn
//! uniformly, by one leg. A leg therefore follows its predecessor after about `window`
//! arrivals, and at any moment the unfinished legs of at most `window` cycles are all
//! the imbalance there is ("balanced per node over a window"). What the demand cannot
//! balance is the routing: a cycle's legs take whichever paths the senders choose, so
//! forwarding channels can still drift.

use flotilla_graph::stats::largest_scc;
use flotilla_graph::{Graph, NodeIdx};
use flotilla_route::Timestamp;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::rng::stream;
use crate::scenario::WorkloadConfig;
use crate::workload::{draw_amount_msat, PaymentSpec, ReceiverPicker, WorkloadError};

/// Longest cycle (`workload.balanced.max_cycle`).
pub const MAX_CYCLE: u32 = 64;
/// Most cycles open at once (`workload.balanced.window`).
pub const MAX_WINDOW: u32 = 1_000_000;

/// How a random workload's senders and receivers relate over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Demand {
    /// Every payment drawn on its own (sim-ln's random activity): one-way flows.
    Independent,
    /// Payments in cycles that return every amount to where it came from.
    Balanced,
}

/// `[workload.balanced]`: the cycles of a balanced demand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BalancedConfig {
    /// Longest cycle, in payments (at least 2: a payment and its return).
    pub max_cycle: u32,
    /// Cycles open at once.
    pub window: u32,
}

impl Default for BalancedConfig {
    fn default() -> Self {
        BalancedConfig {
            max_cycle: 4,
            window: 100,
        }
    }
}

impl BalancedConfig {
    /// Checks the bounds; the error is the dotted key and why.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if !(2..=MAX_CYCLE).contains(&self.max_cycle) {
            return Err((
                "workload.balanced.max_cycle".into(),
                format!(
                    "{} is not a cycle length from 2 to {MAX_CYCLE}",
                    self.max_cycle
                ),
            ));
        }
        if !(1..=MAX_WINDOW).contains(&self.window) {
            return Err((
                "workload.balanced.window".into(),
                format!("{} is not a count from 1 to {MAX_WINDOW}", self.window),
            ));
        }
        Ok(())
    }
}

/// One open cycle: its nodes, the next leg to emit, its amount.
struct Cycle {
    nodes: Vec<NodeIdx>,
    next: usize,
    amount_msat: u64,
}

/// A balanced random workload of `config.payments` payments from stream `purpose`.
pub fn balanced(
    graph: &Graph,
    config: &WorkloadConfig,
    seed: u64,
    purpose: &str,
) -> Result<Vec<PaymentSpec>, WorkloadError> {
    let scc = largest_scc(graph);
    if scc.len() < 2 {
        return Err(WorkloadError::Graph(format!(
            "the largest strongly connected component has {} node(s): no payment can route",
            scc.len()
        )));
    }
    let picker = ReceiverPicker::new(graph, &scc);
    let cfg = &config.balanced;
    let mut rng = stream(seed, purpose);
    let mut open: Vec<Cycle> = Vec::with_capacity(cfg.window as usize);
    let mut t = 0.0f64;
    let mut out = Vec::with_capacity(config.payments.min(10_000_000) as usize);
    for index in 0..config.payments {
        let u: f64 = rng.random::<f64>();
        t += -(1.0 - u).ln() / config.arrivals_per_sec;
        if open.len() < cfg.window as usize {
            open.push(new_cycle(&scc, &picker, cfg.max_cycle, config, &mut rng));
        }
        let j = rng.random_range(0..open.len());
        let c = &mut open[j];
        let source = c.nodes[c.next];
        let destination = c.nodes[(c.next + 1) % c.nodes.len()];
        let amount_msat = c.amount_msat;
        c.next += 1;
        if c.next == c.nodes.len() {
            open.swap_remove(j);
        }
        out.push(PaymentSpec {
            index,
            start: Timestamp((t * 1e6) as u64),
            source,
            destination,
            amount_msat,
            keysend: false,
        });
    }
    Ok(out)
}

/// A cycle of 2 to `max_cycle` nodes: consecutive nodes (the last and the first
/// included) differ, so every leg is a real payment.
fn new_cycle<R: Rng>(
    scc: &[NodeIdx],
    picker: &ReceiverPicker<'_>,
    max_cycle: u32,
    config: &WorkloadConfig,
    rng: &mut R,
) -> Cycle {
    let len = rng.random_range(2..=max_cycle as usize);
    let first = scc[rng.random_range(0..scc.len())];
    let mut nodes = Vec::with_capacity(len);
    nodes.push(first);
    for i in 1..len {
        let prev = nodes[i - 1];
        let next = loop {
            let n = picker.pick(rng, prev);
            // The last node pays the first: it must not be the first. (A two-node
            // cycle's second node differs from the first already.)
            if i + 1 < len || n != first {
                break n;
            }
        };
        nodes.push(next);
    }
    Cycle {
        nodes,
        next: 0,
        amount_msat: draw_amount_msat(&config.amount, rng),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flotilla_graph::generate::WattsStrogatz;
    use std::collections::HashMap;

    fn config(payments: u64, window: u32) -> WorkloadConfig {
        WorkloadConfig {
            payments,
            demand: Demand::Balanced,
            balanced: BalancedConfig {
                max_cycle: 4,
                window,
            },
            ..WorkloadConfig::default()
        }
    }

    /// Each node's received minus sent msat.
    fn net_positions(w: &[PaymentSpec]) -> HashMap<NodeIdx, i128> {
        let mut net: HashMap<NodeIdx, i128> = HashMap::new();
        for p in w {
            *net.entry(p.destination).or_default() += p.amount_msat as i128;
            *net.entry(p.source).or_default() -= p.amount_msat as i128;
        }
        net
    }

    #[test]
    fn every_node_receives_about_what_it_sends() {
        let g = WattsStrogatz::default().generate(3).unwrap().0;
        let w = crate::workload::build(&g, &config(20_000, 50), 4).unwrap();
        assert_eq!(w.len(), 20_000);
        assert!(w.iter().all(|p| p.source != p.destination));
        assert!(w.windows(2).all(|x| x[0].start <= x[1].start));
        // Only the cycles still open at the end (at most `window`) are unbalanced.
        let total: u128 = w.iter().map(|p| p.amount_msat as u128).sum();
        let imbalance: u128 = net_positions(&w).values().map(|v| v.unsigned_abs()).sum();
        assert!(
            (imbalance as f64) < 0.02 * total as f64,
            "{imbalance} of {total}"
        );
        // The independent workload on the same graph is far from balanced.
        let one_way = crate::workload::build(
            &g,
            &WorkloadConfig {
                demand: Demand::Independent,
                ..config(20_000, 50)
            },
            4,
        )
        .unwrap();
        let total1: u128 = one_way.iter().map(|p| p.amount_msat as u128).sum();
        let imbalance1: u128 = net_positions(&one_way)
            .values()
            .map(|v| v.unsigned_abs())
            .sum();
        assert!(
            imbalance1 as f64 > 0.2 * total1 as f64,
            "{imbalance1} of {total1}"
        );
    }

    #[test]
    fn a_window_of_one_closes_each_cycle_before_the_next() {
        let g = WattsStrogatz::default().generate(3).unwrap().0;
        let w = crate::workload::build(&g, &config(1_000, 1), 9).unwrap();
        // Legs chain: each cycle's legs are consecutive, and each ends where it began.
        let mut i = 0;
        while i < w.len() {
            let first = w[i].source;
            let amount = w[i].amount_msat;
            let mut j = i;
            while w[j].destination != first {
                assert_eq!(w[j + 1].source, w[j].destination);
                assert_eq!(w[j + 1].amount_msat, amount);
                j += 1;
                if j + 1 >= w.len() {
                    return; // the last cycle may be cut off
                }
            }
            assert!((2..=4).contains(&(j - i + 1)), "cycle of {}", j - i + 1);
            i = j + 1;
        }
    }

    #[test]
    fn bounds_name_the_field() {
        let bad = BalancedConfig {
            max_cycle: 1,
            window: 5,
        };
        assert_eq!(bad.validate().unwrap_err().0, "workload.balanced.max_cycle");
        let bad = BalancedConfig {
            max_cycle: 3,
            window: 0,
        };
        assert_eq!(bad.validate().unwrap_err().0, "workload.balanced.window");
    }
}
