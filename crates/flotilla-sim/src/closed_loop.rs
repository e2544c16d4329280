//! The closed-loop workload: senders that each start their next payment only when an
//! earlier one has finished, as in the Boomerang paper's simulator (100 nodes, each
//! sending 500 transfers one at a time, so about 100 are in flight).
//!
//! An open-loop workload fixes every payment's start time in advance, so a faster
//! strategy cannot make more payments. Here each sender has its own sequence of
//! (destination, amount) and keeps at most `concurrency` of them in flight: a strategy
//! that finishes payments sooner starts the next ones sooner. The sequences are the
//! same in every arm (they are drawn once, from the seed); only the start times differ,
//! and each arm records the moment it actually started a payment.
//!
//! Two halves: [`build`] draws the sequences (or reads them from a file) into
//! [`PaymentSpec`]s whose `start` is the earliest moment a payment may start, and
//! [`ClosedLoop`] is the per-arm driver the event loop asks which payment starts next.

use std::collections::HashMap;
use std::path::Path;

use flotilla_graph::stats::largest_scc;
use flotilla_graph::{Graph, NodeIdx};
use flotilla_route::Timestamp;
use rand::seq::index::sample;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::rng::stream;
use crate::scenario::limits::{MAX_MS, MAX_PAYMENTS};
use crate::scenario::WorkloadConfig;
use crate::workload::{draw_amount_msat, PaymentSpec, ReceiverPicker, WorkloadError};

/// Most payments one sender keeps in flight (`workload.closed_loop.concurrency`).
pub const MAX_CONCURRENCY: u32 = 10_000;

/// `[workload.closed_loop]`: who sends, how many payments each, how many at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClosedLoopConfig {
    /// Senders drawn uniformly (without replacement) from the largest strongly
    /// connected component, when `nodes` is empty and no file is given.
    pub senders: u32,
    /// Payments per drawn sender; 0: `workload.payments` spread evenly over them.
    pub payments_per_sender: u64,
    /// Payments a sender keeps in flight at once.
    pub concurrency: u32,
    /// Mean pause between a payment finishing and the sender's next start, ms.
    pub think_ms: u64,
    /// How the pause is drawn.
    pub think: ThinkTime,
    /// Given senders (instead of drawn ones), each with its own count and concurrency.
    pub nodes: Vec<ClosedLoopNode>,
    /// How drawn receivers are weighted: by capacity (the random workload's, the
    /// default) or uniformly (the Boomerang paper's).
    #[serde(skip_serializing_if = "ReceiverWeight::is_capacity")]
    pub receivers: ReceiverWeight,
}

/// `workload.closed_loop.receivers`: how a drawn payment's receiver is chosen from the
/// largest strongly connected component.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReceiverWeight {
    /// Weighted by the capacity of the node's channels, as the random workload (and
    /// sim-ln) draw them: big nodes receive more.
    #[default]
    Capacity,
    /// Every node equally likely, as in the Boomerang paper's trace generator.
    Uniform,
}

impl ReceiverWeight {
    /// The default: by capacity.
    pub fn is_capacity(&self) -> bool {
        *self == ReceiverWeight::Capacity
    }
}

impl Default for ClosedLoopConfig {
    fn default() -> Self {
        ClosedLoopConfig {
            senders: 100,
            payments_per_sender: 0,
            concurrency: 1,
            think_ms: 0,
            think: ThinkTime::Constant,
            nodes: Vec::new(),
            receivers: ReceiverWeight::Capacity,
        }
    }
}

/// One given sender of a closed-loop workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosedLoopNode {
    /// Alias or public key.
    pub node: String,
    /// Its payments; unset: `payments_per_sender` (or the even share).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payments: Option<u64>,
    /// Its concurrency; unset: `concurrency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

/// How a sender's pause between payments is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThinkTime {
    /// Always `think_ms`.
    Constant,
    /// Exponential with mean `think_ms` (a Poisson process per sender while idle).
    Exponential,
}

/// A value of the right type that makes no sense: the dotted key below
/// `workload.closed_loop` and why.
pub type Invalid = (String, String);

impl ClosedLoopConfig {
    /// Checks what the scenario alone can tell; `payments` is `workload.payments`.
    pub fn validate(&self, payments: u64, has_file: bool) -> Result<(), Invalid> {
        let bad = |key: &str, why: String| Err((format!("workload.closed_loop.{key}"), why));
        if self.concurrency == 0 {
            return bad("concurrency", "must be at least 1".into());
        }
        if self.concurrency > MAX_CONCURRENCY {
            return bad(
                "concurrency",
                format!(
                    "{} is above the limit of {MAX_CONCURRENCY}",
                    self.concurrency
                ),
            );
        }
        if self.think_ms > MAX_MS {
            return bad(
                "think_ms",
                format!(
                    "{} ms is above the limit of {MAX_MS} ms (an hour)",
                    self.think_ms
                ),
            );
        }
        if has_file {
            return Ok(());
        }
        let mut total: u128 = 0;
        if self.nodes.is_empty() {
            if self.senders == 0 {
                return bad("senders", "at least one sender is needed".into());
            }
            if self.payments_per_sender == 0 && payments < u64::from(self.senders) {
                return Err((
                    "workload.payments".into(),
                    format!(
                        "{payments} payments cannot be spread over {} closed-loop senders: \
                         give each at least one (or set workload.closed_loop.payments_per_sender)",
                        self.senders
                    ),
                ));
            }
            total = if self.payments_per_sender == 0 {
                u128::from(payments)
            } else {
                u128::from(self.senders) * u128::from(self.payments_per_sender)
            };
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if n.node.trim().is_empty() {
                return bad(&format!("nodes[{i}].node"), "name a node".into());
            }
            if n.payments == Some(0) {
                return bad(&format!("nodes[{i}].payments"), "must be at least 1".into());
            }
            match n.concurrency {
                Some(0) => {
                    return bad(
                        &format!("nodes[{i}].concurrency"),
                        "must be at least 1".into(),
                    )
                }
                Some(c) if c > MAX_CONCURRENCY => {
                    return bad(
                        &format!("nodes[{i}].concurrency"),
                        format!("{c} is above the limit of {MAX_CONCURRENCY}"),
                    )
                }
                _ => {}
            }
            let each = n.payments.unwrap_or(self.per_given_sender(payments));
            if each == 0 {
                return bad(
                    &format!("nodes[{i}].payments"),
                    format!(
                        "unset, and {payments} workload.payments spread over {} senders leaves none",
                        self.nodes.len()
                    ),
                );
            }
            total += u128::from(each);
        }
        if total > u128::from(MAX_PAYMENTS) {
            let key = if self.payments_per_sender > 0 {
                "payments_per_sender"
            } else if !self.nodes.is_empty() {
                "nodes"
            } else {
                "senders"
            };
            return bad(
                key,
                format!("{total} payments in all, above the limit of {MAX_PAYMENTS}"),
            );
        }
        Ok(())
    }

    /// A given sender's count when its entry sets none.
    fn per_given_sender(&self, payments: u64) -> u64 {
        if self.payments_per_sender > 0 {
            self.payments_per_sender
        } else {
            payments / self.nodes.len().max(1) as u64
        }
    }
}

/// Draws (or reads) a closed-loop workload: each sender's sequence, interleaved in
/// rounds (every sender's first payment, then every sender's second, …) so that the
/// workload index roughly follows time. Every payment's `start` is zero: the earliest
/// moment it may start; [`ClosedLoop`] decides when it does.
pub fn build(
    graph: &Graph,
    config: &WorkloadConfig,
    seed: u64,
) -> Result<Vec<PaymentSpec>, WorkloadError> {
    if !config.file.is_empty() {
        return read_sequences(graph, Path::new(&config.file));
    }
    let cl = &config.closed_loop;
    let scc = largest_scc(graph);
    if scc.len() < 2 {
        return Err(WorkloadError::Graph(format!(
            "the largest strongly connected component has {} node(s): no payment can route",
            scc.len()
        )));
    }
    let picker = match cl.receivers {
        ReceiverWeight::Capacity => ReceiverPicker::new(graph, &scc),
        ReceiverWeight::Uniform => ReceiverPicker::uniform(&scc),
    };
    let mut rng = stream(seed, "workload");
    // (sender, payments) in sender order.
    let senders: Vec<(NodeIdx, u64)> = if cl.nodes.is_empty() {
        let n = cl.senders as usize;
        if n > scc.len() {
            return Err(WorkloadError::Scenario {
                key: "workload.closed_loop.senders".into(),
                why: format!(
                    "{n} senders, but the largest strongly connected component has only {} nodes",
                    scc.len()
                ),
            });
        }
        let mut chosen: Vec<NodeIdx> = sample(&mut rng, scc.len(), n)
            .into_iter()
            .map(|i| scc[i])
            .collect();
        // The draw's order is the sample's; sender order by node keeps the interleaving
        // independent of how `sample` happens to order its result.
        chosen.sort_unstable();
        let counts = even_counts(cl.payments_per_sender, config.payments, n);
        chosen.into_iter().zip(counts).collect()
    } else {
        let mut seen = HashMap::new();
        let each = cl.per_given_sender(config.payments);
        let mut out = Vec::with_capacity(cl.nodes.len());
        for (i, entry) in cl.nodes.iter().enumerate() {
            let record = format!("workload.closed_loop.nodes[{i}].node");
            let node = graph
                .find_node(entry.node.trim())
                .map_err(|e| WorkloadError::Scenario {
                    key: record.clone(),
                    why: e.to_string(),
                })?;
            if let Some(j) = seen.insert(node, i) {
                return Err(WorkloadError::Scenario {
                    key: record,
                    why: format!("the same node as nodes[{j}]: name each sender once"),
                });
            }
            out.push((node, entry.payments.unwrap_or(each)));
        }
        out
    };
    let rounds = senders.iter().map(|s| s.1).max().unwrap_or(0);
    let total: u64 = senders.iter().map(|s| s.1).sum();
    let mut specs = Vec::with_capacity(total.min(MAX_PAYMENTS) as usize);
    for round in 0..rounds {
        for &(source, count) in &senders {
            if round >= count {
                continue;
            }
            let destination = picker.pick(&mut rng, source);
            let amount_msat = draw_amount_msat(&config.amount, &mut rng);
            specs.push(PaymentSpec {
                index: specs.len() as u64,
                start: Timestamp::ZERO,
                source,
                destination,
                amount_msat,
                keysend: false,
            });
        }
    }
    Ok(specs)
}

/// Payments per drawn sender: `per_sender` each, or `payments` spread evenly (the
/// first `payments % n` senders one more).
fn even_counts(per_sender: u64, payments: u64, n: usize) -> Vec<u64> {
    if per_sender > 0 {
        return vec![per_sender; n];
    }
    let n64 = n.max(1) as u64;
    (0..n64)
        .map(|i| payments / n64 + u64::from(i < payments % n64))
        .collect()
}

/// Given sequences: a CSV with columns `source,destination,amount_msat` (any others,
/// such as `time_secs`, are ignored). Each sender's sequence is its rows in file
/// order; the file order is the workload index.
fn read_sequences(graph: &Graph, path: &Path) -> Result<Vec<PaymentSpec>, WorkloadError> {
    crate::workload::csv_rows(graph, path, false)
}

/// The per-arm driver: which payment a sender starts next, and when.
#[derive(Debug)]
pub struct ClosedLoop {
    /// Each sender's payments (workload indices) in the order it makes them.
    queues: Vec<Vec<u32>>,
    /// How far each sender has got through its queue.
    next: Vec<usize>,
    /// Each payment's sender (an index into `queues`).
    sender_of: Vec<u32>,
    /// Each payment's earliest start (the workload's, after any warm-up shift).
    not_before: Vec<Timestamp>,
    /// Each payment's pause after it finishes, µs (empty: none).
    think_micros: Vec<u64>,
    /// Payments whose finish has released their sender's next one.
    released: Vec<bool>,
    /// Each sender's concurrency.
    concurrency: Vec<u32>,
}

impl ClosedLoop {
    /// The driver for `workload` (built by [`build`]) under `config`. Think times are
    /// drawn here, once per payment in workload order from the `"think"` stream, so
    /// that every arm pauses identically after the same payment.
    pub fn new(
        graph: &Graph,
        workload: &[PaymentSpec],
        config: &ClosedLoopConfig,
        seed: u64,
    ) -> Result<Self, WorkloadError> {
        let mut given: HashMap<NodeIdx, u32> = HashMap::new();
        for (i, n) in config.nodes.iter().enumerate() {
            if let Some(c) = n.concurrency {
                let node = graph
                    .find_node(n.node.trim())
                    .map_err(|e| WorkloadError::Scenario {
                        key: format!("workload.closed_loop.nodes[{i}].node"),
                        why: e.to_string(),
                    })?;
                given.insert(node, c);
            }
        }
        let mut slot: HashMap<NodeIdx, u32> = HashMap::new();
        let mut queues: Vec<Vec<u32>> = Vec::new();
        let mut concurrency = Vec::new();
        let mut sender_of = Vec::with_capacity(workload.len());
        for (i, p) in workload.iter().enumerate() {
            let s = *slot.entry(p.source).or_insert_with(|| {
                queues.push(Vec::new());
                concurrency.push(
                    given
                        .get(&p.source)
                        .copied()
                        .unwrap_or(config.concurrency)
                        .max(1),
                );
                (queues.len() - 1) as u32
            });
            queues[s as usize].push(i as u32);
            sender_of.push(s);
        }
        let think_micros = if config.think_ms == 0 {
            Vec::new()
        } else {
            let mut rng = stream(seed, "think");
            let mean = config.think_ms as f64 * 1000.0;
            workload
                .iter()
                .map(|_| match config.think {
                    ThinkTime::Constant => config.think_ms * 1000,
                    ThinkTime::Exponential => {
                        let u: f64 = rng.random();
                        (-(1.0 - u).ln() * mean).round() as u64
                    }
                })
                .collect()
        };
        Ok(ClosedLoop {
            next: vec![0; queues.len()],
            queues,
            sender_of,
            not_before: workload.iter().map(|p| p.start).collect(),
            think_micros,
            released: vec![false; workload.len()],
            concurrency,
        })
    }

    /// The payments that start first: each sender's first `concurrency`, at their
    /// earliest start, in workload order.
    pub fn initial(&mut self) -> Vec<(Timestamp, usize)> {
        let mut out = Vec::new();
        for (s, q) in self.queues.iter().enumerate() {
            let n = (self.concurrency[s] as usize).min(q.len());
            out.extend(
                q[..n]
                    .iter()
                    .map(|&i| (self.not_before[i as usize], i as usize)),
            );
            self.next[s] = n;
        }
        out.sort_unstable_by_key(|&(_, i)| i);
        out
    }

    /// Payment `index` has finished (succeeded or failed, as its session decided) at
    /// `now`: its sender's next payment, and when it starts. Called again for the same
    /// payment it returns nothing, so the caller may report every decided session.
    pub fn on_finished(&mut self, index: usize, now: Timestamp) -> Option<(Timestamp, usize)> {
        if std::mem::replace(self.released.get_mut(index)?, true) {
            return None;
        }
        let s = self.sender_of[index] as usize;
        let &next = self.queues[s].get(self.next[s])?;
        self.next[s] += 1;
        let pause = self.think_micros.get(index).copied().unwrap_or(0);
        let at = (now + pause).max(self.not_before[next as usize]);
        Some((at, next as usize))
    }

    /// Senders in the workload.
    pub fn senders(&self) -> usize {
        self.queues.len()
    }

    /// Payments not started yet: zero once the run is over, or a sender was never
    /// released.
    pub fn unstarted(&self) -> usize {
        self.queues
            .iter()
            .zip(&self.next)
            .map(|(q, &n)| q.len() - n)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flotilla_graph::generate::WattsStrogatz;

    fn graph() -> Graph {
        WattsStrogatz::default().generate(3).unwrap().0
    }

    fn config(cl: ClosedLoopConfig, payments: u64) -> WorkloadConfig {
        WorkloadConfig {
            kind: crate::scenario::WorkloadKind::ClosedLoop,
            payments,
            closed_loop: cl,
            ..WorkloadConfig::default()
        }
    }

    #[test]
    fn drawn_senders_get_their_share_in_rounds() {
        let g = graph();
        let cfg = config(
            ClosedLoopConfig {
                senders: 7,
                ..Default::default()
            },
            100,
        );
        let w = build(&g, &cfg, 5).unwrap();
        assert_eq!(w.len(), 100);
        assert_eq!(w, build(&g, &cfg, 5).unwrap());
        assert_ne!(w, build(&g, &cfg, 6).unwrap());
        let mut per: HashMap<NodeIdx, u64> = HashMap::new();
        for p in &w {
            *per.entry(p.source).or_default() += 1;
            assert_ne!(p.source, p.destination);
            assert_eq!(p.start, Timestamp::ZERO);
        }
        assert_eq!(per.len(), 7);
        // 100 over 7: two senders make 15, five make 14.
        let mut counts: Vec<u64> = per.values().copied().collect();
        counts.sort_unstable();
        assert_eq!(counts, vec![14, 14, 14, 14, 14, 15, 15]);
        // Rounds: the first seven payments come from seven different senders.
        let first: std::collections::HashSet<_> = w[..7].iter().map(|p| p.source).collect();
        assert_eq!(first.len(), 7);
    }

    #[test]
    fn uniform_receivers_are_drawn_alike_and_capacity_stays_the_default() {
        let g = graph();
        let scc = largest_scc(&g);
        let cl = |receivers| ClosedLoopConfig {
            senders: 50,
            payments_per_sender: 200,
            receivers,
            ..Default::default()
        };
        let by_capacity = build(&g, &config(cl(ReceiverWeight::Capacity), 0), 9).unwrap();
        assert_eq!(
            by_capacity,
            build(&g, &config(cl(Default::default()), 0), 9).unwrap()
        );
        let uniform = build(&g, &config(cl(ReceiverWeight::Uniform), 0), 9).unwrap();
        assert_eq!(
            uniform,
            build(&g, &config(cl(ReceiverWeight::Uniform), 0), 9).unwrap()
        );
        // Same senders in the same order; the receivers are drawn differently.
        assert!(uniform
            .iter()
            .zip(&by_capacity)
            .all(|(u, c)| u.source == c.source));
        assert_ne!(uniform, by_capacity);
        let share = |w: &[PaymentSpec]| {
            let mut per: HashMap<NodeIdx, f64> = HashMap::new();
            for p in w {
                assert_ne!(p.source, p.destination);
                *per.entry(p.destination).or_default() += 1.0;
            }
            let mean = w.len() as f64 / scc.len() as f64;
            let (lo, hi) = per
                .values()
                .fold((f64::MAX, 0.0f64), |(lo, hi), &c| (lo.min(c), hi.max(c)));
            (per.len(), lo / mean, hi / mean)
        };
        // 10,000 draws over the component: every node about 1/n of them.
        let (nodes, lo, hi) = share(&uniform);
        assert_eq!(nodes, scc.len());
        assert!(
            lo > 0.6 && hi < 1.4,
            "uniform receivers: {lo} .. {hi} of the mean"
        );
        // By capacity the spread is wider (log-uniform-ish capacities on this graph).
        let (_, lo_c, hi_c) = share(&by_capacity);
        assert!(
            hi_c - lo_c > hi - lo,
            "{lo_c} .. {hi_c} against {lo} .. {hi}"
        );
        let toml = r#"kind = "closed_loop"
[closed_loop]
receivers = "uniform"
"#;
        let parsed: WorkloadConfig = toml::from_str(toml).unwrap();
        assert_eq!(parsed.closed_loop.receivers, ReceiverWeight::Uniform);
        assert!(
            toml::from_str::<WorkloadConfig>("[closed_loop]\nreceivers = \"degree\"\n").is_err()
        );
    }

    #[test]
    fn given_senders_with_their_own_counts() {
        let g = graph();
        let cl = ClosedLoopConfig {
            payments_per_sender: 3,
            nodes: vec![
                ClosedLoopNode {
                    node: "ws-4".into(),
                    payments: Some(5),
                    concurrency: Some(2),
                },
                ClosedLoopNode {
                    node: "ws-9".into(),
                    payments: None,
                    concurrency: None,
                },
            ],
            ..Default::default()
        };
        let w = build(&g, &config(cl.clone(), 10), 1).unwrap();
        let a = g.find_node("ws-4").unwrap();
        assert_eq!(w.iter().filter(|p| p.source == a).count(), 5);
        assert_eq!(w.len(), 8);
        let mut d = ClosedLoop::new(&g, &w, &cl, 1).unwrap();
        assert_eq!(d.senders(), 2);
        // ws-4 starts two at once, ws-9 one.
        let first = d.initial();
        assert_eq!(first.len(), 3);
        assert!(first.iter().all(|&(t, _)| t == Timestamp::ZERO));
        // A duplicate sender is refused with the field named.
        let mut dup = cl;
        dup.nodes[1].node = "ws-4".into();
        let e = build(&g, &config(dup, 10), 1).unwrap_err().to_string();
        assert!(e.contains("workload.closed_loop.nodes[1].node"), "{e}");
    }

    #[test]
    fn a_sender_starts_its_next_payment_only_when_one_finishes() {
        let g = graph();
        let cl = ClosedLoopConfig {
            senders: 2,
            payments_per_sender: 3,
            think_ms: 10,
            ..Default::default()
        };
        let w = build(&g, &config(cl.clone(), 0), 2).unwrap();
        let mut d = ClosedLoop::new(&g, &w, &cl, 2).unwrap();
        let first = d.initial();
        assert_eq!(first.iter().map(|x| x.1).collect::<Vec<_>>(), vec![0, 1]);
        let t = Timestamp::from_millis(500);
        // Payment 0 finishes: its sender's second (index 2) starts after the pause.
        assert_eq!(d.on_finished(0, t), Some((t + 10_000, 2)));
        // Reported twice (decided, then every part back): released once.
        assert_eq!(d.on_finished(0, t), None);
        assert_eq!(d.on_finished(2, t), Some((t + 10_000, 4)));
        assert_eq!(d.on_finished(4, t), None, "the sender is done");
        assert_eq!(d.on_finished(1, t), Some((t + 10_000, 3)));
        assert_eq!(d.unstarted(), 1);
        assert_eq!(d.on_finished(3, t), Some((t + 10_000, 5)));
        assert_eq!(d.unstarted(), 0);
    }

    #[test]
    fn exponential_think_times_have_the_mean_and_are_seeded() {
        let g = graph();
        let cl = ClosedLoopConfig {
            senders: 10,
            payments_per_sender: 400,
            think_ms: 200,
            think: ThinkTime::Exponential,
            ..Default::default()
        };
        let w = build(&g, &config(cl.clone(), 0), 3).unwrap();
        let a = ClosedLoop::new(&g, &w, &cl, 3).unwrap();
        let b = ClosedLoop::new(&g, &w, &cl, 3).unwrap();
        assert_eq!(a.think_micros, b.think_micros);
        let mean = a.think_micros.iter().sum::<u64>() as f64 / a.think_micros.len() as f64;
        assert!((180_000.0..220_000.0).contains(&mean), "{mean}");
    }

    #[test]
    fn malformed_closed_loop_configs_name_the_field() {
        let cases: Vec<(ClosedLoopConfig, u64, &str)> = vec![
            (
                ClosedLoopConfig {
                    concurrency: 0,
                    ..Default::default()
                },
                1000,
                "workload.closed_loop.concurrency",
            ),
            (
                ClosedLoopConfig {
                    senders: 0,
                    ..Default::default()
                },
                1000,
                "workload.closed_loop.senders",
            ),
            (ClosedLoopConfig::default(), 50, "workload.payments"),
            (
                ClosedLoopConfig {
                    think_ms: MAX_MS + 1,
                    ..Default::default()
                },
                1000,
                "workload.closed_loop.think_ms",
            ),
            (
                ClosedLoopConfig {
                    senders: 1000,
                    payments_per_sender: MAX_PAYMENTS,
                    ..Default::default()
                },
                1000,
                "workload.closed_loop.payments_per_sender",
            ),
            (
                ClosedLoopConfig {
                    nodes: vec![ClosedLoopNode {
                        node: "a".into(),
                        payments: Some(0),
                        concurrency: None,
                    }],
                    ..Default::default()
                },
                1000,
                "workload.closed_loop.nodes[0].payments",
            ),
        ];
        for (cl, payments, key) in cases {
            let (k, why) = cl.validate(payments, false).unwrap_err();
            assert_eq!(k, key, "{why}");
        }
        let g = graph();
        let e = build(
            &g,
            &config(
                ClosedLoopConfig {
                    senders: 10_000,
                    payments_per_sender: 1,
                    ..Default::default()
                },
                0,
            ),
            1,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("workload.closed_loop.senders"), "{e}");
    }
}
