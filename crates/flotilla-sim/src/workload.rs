//! Workloads: which payments happen, when, from whom, to whom, for how much.
//!
//! A workload is a time-ordered list of [`PaymentSpec`]s. Every arm of a run gets the
//! identical list (it is drawn once, from the `"workload"` stream). Random workloads
//! follow sim-ln's random activity: Poisson arrivals, receivers weighted by their
//! channel capacity, amounts from a configurable distribution; senders and receivers
//! are drawn from the largest strongly connected component so that a route can exist.

use std::path::Path;

use flotilla_graph::amount::{check_msat, MAX_SAT};
use flotilla_graph::stats::largest_scc;
use flotilla_graph::{Graph, NodeIdx};
use flotilla_route::Timestamp;
use rand::Rng;
use rand_distr::{Distribution, LogNormal};
use serde::{Deserialize, Serialize};

use crate::rng::stream;
use crate::scenario::limits::MAX_PAYMENTS;
use crate::scenario::{AmountDistribution, WorkloadConfig, WorkloadKind};

/// One payment to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentSpec {
    /// Position in the workload (0-based), the payment's id in every output.
    pub index: u64,
    /// When the sender starts it (virtual time).
    pub start: Timestamp,
    /// The sender.
    pub source: NodeIdx,
    /// The receiver.
    pub destination: NodeIdx,
    /// Amount, msat.
    pub amount_msat: u64,
    /// A keysend payment (no invoice: the preimage rides in the onion). Workloads
    /// make invoice payments; a scenario section may turn a share into keysend.
    pub keysend: bool,
}

/// Why a workload could not be built. Names the file, line and field where one applies.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A record is malformed.
    #[error("{file}: {record}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// Line or entry, and field.
        record: String,
        /// What is wrong.
        message: String,
    },
    /// The graph cannot host the workload.
    #[error("workload: {0}")]
    Graph(String),
    /// A scenario value that does not fit the graph (a closed-loop sender it lacks).
    #[error("{key}: {why}")]
    Scenario {
        /// The dotted key.
        key: String,
        /// Why.
        why: String,
    },
}

/// Builds the workload a scenario describes.
pub fn build(
    graph: &Graph,
    config: &WorkloadConfig,
    seed: u64,
) -> Result<Vec<PaymentSpec>, WorkloadError> {
    let mut specs = match config.kind {
        WorkloadKind::Random => random(graph, config, seed, "workload")?,
        WorkloadKind::Defined => defined(graph, Path::new(&config.file), config.payments, seed)?,
        WorkloadKind::Csv => csv_list(graph, Path::new(&config.file))?,
        WorkloadKind::Cloth => cloth(graph, Path::new(&config.file))?,
        WorkloadKind::ClosedLoop => crate::closed_loop::build(graph, config, seed)?,
    };
    if specs.is_empty() {
        return Err(WorkloadError::Graph(
            "the workload is empty: no payment to simulate".into(),
        ));
    }
    // Stable by start time, then file order: ties keep their order.
    specs.sort_by_key(|s| (s.start, s.index));
    for (i, s) in specs.iter_mut().enumerate() {
        s.index = i as u64;
    }
    Ok(specs)
}

/// Draws an amount in msat: a whole number of sat, as wallets write invoices (and as
/// Boomerang's equal parts need: a whole-sat amount has a divisor near every k ≤ 500).
pub fn draw_amount_msat<R: Rng>(dist: &AmountDistribution, rng: &mut R) -> u64 {
    let sat = match *dist {
        AmountDistribution::Constant { value_sat } => value_sat as f64,
        AmountDistribution::Uniform { min_sat, max_sat } => {
            rng.random_range(min_sat..=max_sat) as f64
        }
        AmountDistribution::LogUniform { min_sat, max_sat } => {
            let (lo, hi) = ((min_sat as f64).ln(), (max_sat as f64).ln());
            (lo + (hi - lo) * rng.random::<f64>()).exp()
        }
        AmountDistribution::Lognormal { median_sat, sigma } => {
            LogNormal::new((median_sat as f64).ln(), sigma)
                .map(|d| d.sample(rng))
                .unwrap_or(median_sat as f64)
        }
        AmountDistribution::Quantiles(ref table) => table.amount_at(rng.random::<f64>()),
    };
    // A heavy lognormal tail (or rounding at the top of a range) may land above the
    // bitcoin supply: capped there, so the msat amount cannot wrap. `as` maps NaN to 0.
    (sat.round().min(MAX_SAT as f64) as u64).clamp(1, MAX_SAT) * 1000
}

/// Background traffic: random payments at `per_sec` for `duration`, drawn like a
/// random workload but from the `"background"` stream.
pub fn background(
    graph: &Graph,
    config: &WorkloadConfig,
    per_sec: f64,
    duration: Timestamp,
    seed: u64,
) -> Result<Vec<PaymentSpec>, WorkloadError> {
    if per_sec <= 0.0 || duration == Timestamp::ZERO {
        return Ok(Vec::new());
    }
    let config = WorkloadConfig {
        kind: WorkloadKind::Random,
        payments: (per_sec * duration.as_secs_f64()).ceil() as u64,
        arrivals_per_sec: per_sec,
        ..config.clone()
    };
    random(graph, &config, seed, "background")
}

/// Warm-up payments: `count` random payments drawn like a random workload from the
/// `"warmup"` stream, starting at time zero.
pub fn warmup(
    graph: &Graph,
    config: &WorkloadConfig,
    count: u64,
    seed: u64,
) -> Result<Vec<PaymentSpec>, WorkloadError> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let config = WorkloadConfig {
        kind: WorkloadKind::Random,
        payments: count,
        ..config.clone()
    };
    random(graph, &config, seed, "warmup")
}

fn random(
    graph: &Graph,
    config: &WorkloadConfig,
    seed: u64,
    purpose: &str,
) -> Result<Vec<PaymentSpec>, WorkloadError> {
    if config.demand == crate::demand::Demand::Balanced {
        return crate::demand::balanced(graph, config, seed, purpose);
    }
    let scc = largest_scc(graph);
    if scc.len() < 2 {
        return Err(WorkloadError::Graph(format!(
            "the largest strongly connected component has {} node(s): no payment can route",
            scc.len()
        )));
    }
    let picker = ReceiverPicker::new(graph, &scc);
    let senders = top_nodes(graph, &scc, config.top_senders, config.top_senders_by);
    let mut rng = stream(seed, purpose);
    let mut t = 0.0f64;
    let mut out = Vec::with_capacity(config.payments.min(10_000_000) as usize);
    for index in 0..config.payments {
        // Exponential inter-arrival times: a Poisson process of the given rate.
        let u: f64 = rng.random::<f64>();
        t += -(1.0 - u).ln() / config.arrivals_per_sec;
        let source = senders[rng.random_range(0..senders.len())];
        let destination = picker.pick(&mut rng, source);
        let amount_msat = draw_amount_msat(&config.amount, &mut rng);
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

/// How `workload.top_senders` ranks nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TopBy {
    /// Total capacity of the node's channels.
    Capacity,
    /// Number of the node's channels.
    Channels,
}

/// The `top` nodes of `scc` ranked by `by`, best first, ties to the lower index; all
/// of `scc` when `top` is 0 or at least its size.
pub(crate) fn top_nodes(graph: &Graph, scc: &[NodeIdx], top: u32, by: TopBy) -> Vec<NodeIdx> {
    if top == 0 || top as usize >= scc.len() {
        return scc.to_vec();
    }
    let score = |n: NodeIdx| -> u64 {
        match by {
            TopBy::Capacity => graph
                .channels_of(n)
                .map(|c| graph.channel(c).capacity_sat)
                .sum(),
            TopBy::Channels => graph.channels_of(n).count() as u64,
        }
    };
    let mut ranked: Vec<(u64, NodeIdx)> = scc.iter().map(|&n| (score(n), n)).collect();
    ranked.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.truncate(top as usize);
    ranked.into_iter().map(|(_, n)| n).collect()
}

/// Receivers drawn from the largest strongly connected component, weighted by the
/// capacity of their channels (sim-ln's choice: big nodes receive more), by binary
/// search over cumulative weights. The one definition of "a random receiver".
pub(crate) struct ReceiverPicker<'a> {
    scc: &'a [NodeIdx],
    cumulative: Vec<u128>,
    total: u128,
}

impl<'a> ReceiverPicker<'a> {
    /// The picker over `scc` (at least two nodes).
    pub(crate) fn new(graph: &Graph, scc: &'a [NodeIdx]) -> Self {
        let mut cumulative = Vec::with_capacity(scc.len());
        let mut total = 0u128;
        for &n in scc {
            let cap: u64 = graph
                .channels_of(n)
                .map(|c| graph.channel(c).capacity_sat)
                .sum();
            total += cap.max(1) as u128;
            cumulative.push(total);
        }
        ReceiverPicker {
            scc,
            cumulative,
            total,
        }
    }

    /// The picker over `scc` (at least two nodes) with every node equally likely.
    pub(crate) fn uniform(scc: &'a [NodeIdx]) -> Self {
        ReceiverPicker {
            scc,
            cumulative: (1..=scc.len() as u128).collect(),
            total: scc.len() as u128,
        }
    }

    /// A receiver other than `source`.
    pub(crate) fn pick<R: Rng>(&self, rng: &mut R, source: NodeIdx) -> NodeIdx {
        loop {
            let x = rng.random_range(0..self.total);
            let i = self.cumulative.partition_point(|&c| c <= x);
            if self.scc[i] != source {
                return self.scc[i];
            }
        }
    }
}

fn resolve(
    graph: &Graph,
    name: &str,
    file: &str,
    record: &str,
    field: &str,
) -> Result<NodeIdx, WorkloadError> {
    graph
        .find_node(name.trim())
        .map_err(|e| WorkloadError::Invalid {
            file: file.to_string(),
            record: format!("{record}, field `{field}`"),
            message: e.to_string(),
        })
}

/// sim-ln's `activity` entries: a fixed or ranged amount every `interval_secs`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Activity {
    source: String,
    destination: String,
    interval_secs: ValueOrRange,
    amount_msat: ValueOrRange,
    #[serde(default)]
    start_secs: u64,
    #[serde(default)]
    count: Option<u64>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(untagged)]
enum ValueOrRange {
    Value(u64),
    Range([u64; 2]),
}

impl ValueOrRange {
    fn draw<R: Rng>(self, rng: &mut R) -> u64 {
        match self {
            ValueOrRange::Value(v) => v,
            ValueOrRange::Range([a, b]) => rng.random_range(a.min(b)..=a.max(b)),
        }
    }
}

#[derive(Deserialize)]
struct ActivityFile {
    #[serde(default)]
    activity: Vec<Activity>,
}

fn defined(
    graph: &Graph,
    path: &Path,
    cap: u64,
    seed: u64,
) -> Result<Vec<PaymentSpec>, WorkloadError> {
    let file = path.display().to_string();
    let bytes = flotilla_graph::import::read_bytes(path)
        .map_err(|e| WorkloadError::Graph(e.to_string()))?;
    let parsed: ActivityFile =
        serde_json::from_slice(&bytes).map_err(|e| WorkloadError::Invalid {
            file: file.clone(),
            record: format!("line {}", e.line()),
            message: e.to_string(),
        })?;
    if parsed.activity.is_empty() {
        return Err(WorkloadError::Invalid {
            file,
            record: "activity".into(),
            message: "no activity entries: the defined workload is empty".into(),
        });
    }
    let mut rng = stream(seed, "workload");
    let mut out = Vec::new();
    // Entries without a count run until the run's payment cap; merge them by time.
    let mut next: Vec<(u64, u64)> = Vec::new(); // (next start µs, emitted)
    let mut ends = Vec::new();
    for (i, a) in parsed.activity.iter().enumerate() {
        let rec = format!("activity[{i}]");
        let s = resolve(graph, &a.source, &file, &rec, "source")?;
        let d = resolve(graph, &a.destination, &file, &rec, "destination")?;
        if s == d {
            return Err(WorkloadError::Invalid {
                file,
                record: rec,
                message: "source and destination are the same node".into(),
            });
        }
        if matches!(a.interval_secs, ValueOrRange::Value(0)) {
            return Err(WorkloadError::Invalid {
                file,
                record: format!("{rec}, field `interval_secs`"),
                message: "must be at least 1 second".into(),
            });
        }
        if matches!(a.amount_msat, ValueOrRange::Value(0)) {
            return Err(WorkloadError::Invalid {
                file,
                record: format!("{rec}, field `amount_msat`"),
                message: "must be at least 1 msat".into(),
            });
        }
        let largest = match a.amount_msat {
            ValueOrRange::Value(v) => v,
            ValueOrRange::Range([x, y]) => x.max(y),
        };
        if let Err(e) = check_msat(largest) {
            return Err(WorkloadError::Invalid {
                file,
                record: format!("{rec}, field `amount_msat`"),
                message: e.to_string(),
            });
        }
        let Some(start) = a.start_secs.checked_mul(1_000_000) else {
            return Err(WorkloadError::Invalid {
                file,
                record: format!("{rec}, field `start_secs`"),
                message: format!("{} s is beyond the simulator's clock", a.start_secs),
            });
        };
        next.push((start, 0));
        ends.push((s, d));
    }
    while (out.len() as u64) < cap {
        let Some((i, &(t, emitted))) = next
            .iter()
            .enumerate()
            .filter(|(i, (_, n))| parsed.activity[*i].count.is_none_or(|c| *n < c))
            .min_by_key(|(i, (t, _))| (*t, *i))
        else {
            break;
        };
        let a = &parsed.activity[i];
        out.push(PaymentSpec {
            index: out.len() as u64,
            start: Timestamp(t),
            source: ends[i].0,
            destination: ends[i].1,
            amount_msat: a.amount_msat.draw(&mut rng).max(1),
            keysend: false,
        });
        next[i] = (
            t.saturating_add(
                a.interval_secs
                    .draw(&mut rng)
                    .max(1)
                    .saturating_mul(1_000_000),
            ),
            emitted + 1,
        );
    }
    Ok(out)
}

/// A CSV reader over a file's (decompressed) bytes.
type CsvReader = csv::Reader<std::io::Cursor<Vec<u8>>>;

fn read_csv(path: &Path) -> Result<(String, CsvReader), WorkloadError> {
    let file = path.display().to_string();
    let bytes = flotilla_graph::import::read_bytes(path)
        .map_err(|e| WorkloadError::Graph(e.to_string()))?;
    Ok((
        file,
        csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(std::io::Cursor::new(bytes)),
    ))
}

fn column(headers: &csv::StringRecord, file: &str, name: &str) -> Result<usize, WorkloadError> {
    headers
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| WorkloadError::Invalid {
            file: file.to_string(),
            record: "line 1 (header)".into(),
            message: format!(
                "missing column `{name}` (have: {})",
                headers.iter().collect::<Vec<_>>().join(",")
            ),
        })
}

fn field<T: std::str::FromStr>(
    row: &csv::StringRecord,
    at: usize,
    file: &str,
    line: u64,
    name: &str,
) -> Result<T, WorkloadError>
where
    T::Err: std::fmt::Display,
{
    let raw = row.get(at).unwrap_or("");
    raw.parse::<T>().map_err(|e| WorkloadError::Invalid {
        file: file.to_string(),
        record: format!("line {line}, column `{name}`"),
        message: format!("{raw:?}: {e}"),
    })
}

fn csv_list(graph: &Graph, path: &Path) -> Result<Vec<PaymentSpec>, WorkloadError> {
    csv_rows(graph, path, true)
}

/// A CSV payment list with columns `source,destination,amount_msat`, and `time_secs`
/// if `timed` (without it every payment starts at zero: a closed-loop workload's
/// sequences, whose start times the run decides).
pub(crate) fn csv_rows(
    graph: &Graph,
    path: &Path,
    timed: bool,
) -> Result<Vec<PaymentSpec>, WorkloadError> {
    let (file, mut rdr) = read_csv(path)?;
    let headers = rdr.headers().map_err(|e| csv_error(&file, e))?.clone();
    let ti = if timed {
        Some(column(&headers, &file, "time_secs")?)
    } else {
        None
    };
    let (si, di, ai) = (
        column(&headers, &file, "source")?,
        column(&headers, &file, "destination")?,
        column(&headers, &file, "amount_msat")?,
    );
    let mut out = Vec::new();
    for row in rdr.records() {
        let row = row.map_err(|e| csv_error(&file, e))?;
        let line = row.position().map(|p| p.line()).unwrap_or(0);
        let t: f64 = match ti {
            Some(ti) => field(&row, ti, &file, line, "time_secs")?,
            None => 0.0,
        };
        if !(t.is_finite() && t >= 0.0) {
            return Err(WorkloadError::Invalid {
                file,
                record: format!("line {line}, column `time_secs`"),
                message: "must be a non-negative number".into(),
            });
        }
        let rec = format!("line {line}");
        let source = resolve(graph, row.get(si).unwrap_or(""), &file, &rec, "source")?;
        let destination = resolve(graph, row.get(di).unwrap_or(""), &file, &rec, "destination")?;
        let amount_msat: u64 = field(&row, ai, &file, line, "amount_msat")?;
        if amount_msat == 0 || source == destination {
            return Err(WorkloadError::Invalid {
                file,
                record: rec,
                message: "a payment needs a positive amount and two different nodes".into(),
            });
        }
        if let Err(e) = check_msat(amount_msat) {
            return Err(WorkloadError::Invalid {
                file,
                record: rec,
                message: e.to_string(),
            });
        }
        if out.len() as u64 >= MAX_PAYMENTS {
            return Err(WorkloadError::Invalid {
                file,
                record: rec,
                message: format!("more than {MAX_PAYMENTS} payments, the limit of a workload"),
            });
        }
        out.push(PaymentSpec {
            index: out.len() as u64,
            start: Timestamp((t * 1e6) as u64),
            source,
            destination,
            amount_msat,
            keysend: false,
        });
    }
    Ok(out)
}

/// CLoTH's `payments.csv`: `id,sender_id,receiver_id,amount,start_time` (msat, ms).
/// Node ids are CLoTH's, which the CLoTH graph importer keeps as aliases.
fn cloth(graph: &Graph, path: &Path) -> Result<Vec<PaymentSpec>, WorkloadError> {
    let (file, mut rdr) = read_csv(path)?;
    let headers = rdr.headers().map_err(|e| csv_error(&file, e))?.clone();
    let (si, ri, ai, ti) = (
        column(&headers, &file, "sender_id")?,
        column(&headers, &file, "receiver_id")?,
        column(&headers, &file, "amount")?,
        column(&headers, &file, "start_time")?,
    );
    let mut out = Vec::new();
    for row in rdr.records() {
        let row = row.map_err(|e| csv_error(&file, e))?;
        let line = row.position().map(|p| p.line()).unwrap_or(0);
        let rec = format!("line {line}");
        let source = resolve(graph, row.get(si).unwrap_or(""), &file, &rec, "sender_id")?;
        let destination = resolve(graph, row.get(ri).unwrap_or(""), &file, &rec, "receiver_id")?;
        let amount_msat: u64 = field(&row, ai, &file, line, "amount")?;
        let start_ms: u64 = field(&row, ti, &file, line, "start_time")?;
        if amount_msat == 0 || source == destination {
            return Err(WorkloadError::Invalid {
                file,
                record: rec,
                message: "a payment needs a positive amount and two different nodes".into(),
            });
        }
        if let Err(e) = check_msat(amount_msat) {
            return Err(WorkloadError::Invalid {
                file,
                record: rec,
                message: e.to_string(),
            });
        }
        if out.len() as u64 >= MAX_PAYMENTS {
            return Err(WorkloadError::Invalid {
                file,
                record: rec,
                message: format!("more than {MAX_PAYMENTS} payments, the limit of a workload"),
            });
        }
        out.push(PaymentSpec {
            index: out.len() as u64,
            start: Timestamp::from_millis(start_ms),
            source,
            destination,
            amount_msat,
            keysend: false,
        });
    }
    Ok(out)
}

fn csv_error(file: &str, e: csv::Error) -> WorkloadError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    WorkloadError::Invalid {
        file: file.to_string(),
        record: format!("line {line}"),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flotilla_graph::generate::WattsStrogatz;

    fn graph() -> Graph {
        WattsStrogatz::default().generate(3).unwrap().0
    }

    #[test]
    fn random_workload_is_seeded_and_ordered() {
        let g = graph();
        let cfg = WorkloadConfig {
            payments: 500,
            ..WorkloadConfig::default()
        };
        let a = build(&g, &cfg, 9).unwrap();
        let b = build(&g, &cfg, 9).unwrap();
        let c = build(&g, &cfg, 10).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 500);
        assert!(a.windows(2).all(|w| w[0].start <= w[1].start));
        assert!(a.iter().all(|p| p.source != p.destination));
        assert!(a
            .iter()
            .all(|p| (1_000_000..=2_000_000_000).contains(&p.amount_msat)));
        // 500 arrivals at 10/s take about 50 s.
        let end = a.last().unwrap().start.as_secs_f64();
        assert!((35.0..65.0).contains(&end), "{end}");
    }

    #[test]
    fn top_senders_are_the_best_connected_nodes() {
        let g = graph();
        let scc = largest_scc(&g);
        for by in [TopBy::Capacity, TopBy::Channels] {
            let top = top_nodes(&g, &scc, 5, by);
            assert_eq!(top.len(), 5);
            let score = |n: NodeIdx| -> u64 {
                match by {
                    TopBy::Capacity => g.channels_of(n).map(|c| g.channel(c).capacity_sat).sum(),
                    TopBy::Channels => g.channels_of(n).count() as u64,
                }
            };
            let worst_in = top.iter().map(|&n| score(n)).min().unwrap();
            let best_out = scc
                .iter()
                .filter(|n| !top.contains(n))
                .map(|&n| score(n))
                .max()
                .unwrap();
            assert!(worst_in >= best_out, "{by:?}: {worst_in} < {best_out}");
            let cfg = WorkloadConfig {
                payments: 300,
                top_senders: 5,
                top_senders_by: by,
                ..WorkloadConfig::default()
            };
            let w = build(&g, &cfg, 4).unwrap();
            assert!(w.iter().all(|p| top.contains(&p.source)));
            // Every one of them sends some of 300 payments.
            assert!(top.iter().all(|n| w.iter().any(|p| p.source == *n)));
        }
        assert_eq!(top_nodes(&g, &scc, 0, TopBy::Capacity), scc);
    }

    #[test]
    fn amount_distributions_stay_in_range() {
        let mut rng = stream(1, "t");
        for _ in 0..1000 {
            let a = draw_amount_msat(
                &AmountDistribution::Uniform {
                    min_sat: 5,
                    max_sat: 10,
                },
                &mut rng,
            );
            assert!((5_000..=10_000).contains(&a));
        }
        assert_eq!(
            draw_amount_msat(&AmountDistribution::Constant { value_sat: 7 }, &mut rng),
            7_000
        );
        let mut v: Vec<u64> = (0..2001)
            .map(|_| {
                draw_amount_msat(
                    &AmountDistribution::Lognormal {
                        median_sat: 1000,
                        sigma: 1.0,
                    },
                    &mut rng,
                )
            })
            .collect();
        v.sort_unstable();
        let median = v[1000] as f64 / 1000.0;
        assert!((800.0..1250.0).contains(&median), "{median}");
    }

    #[test]
    fn amounts_never_exceed_the_supply_or_wrap() {
        use flotilla_graph::MAX_MSAT;
        let mut rng = stream(3, "t");
        // The widest distributions validation lets through stay within 21M BTC.
        let dists = [
            AmountDistribution::Lognormal {
                median_sat: MAX_SAT,
                sigma: 10.0,
            },
            AmountDistribution::Uniform {
                min_sat: MAX_SAT - 1,
                max_sat: MAX_SAT,
            },
            AmountDistribution::LogUniform {
                min_sat: 1,
                max_sat: MAX_SAT,
            },
            AmountDistribution::Constant { value_sat: MAX_SAT },
        ];
        for d in &dists {
            for _ in 0..200 {
                let a = draw_amount_msat(d, &mut rng);
                assert!((1000..=MAX_MSAT).contains(&a), "{d:?}: {a}");
            }
        }
        // And a sigma nobody should use still cannot wrap below the minimum.
        let a = draw_amount_msat(
            &AmountDistribution::Lognormal {
                median_sat: 1000,
                sigma: 1000.0,
            },
            &mut rng,
        );
        assert!((1000..=MAX_MSAT).contains(&a), "{a}");
    }

    #[test]
    fn csv_amount_above_the_supply_is_refused() {
        let g = graph();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.csv");
        std::fs::write(
            &p,
            "time_secs,source,destination,amount_msat\n1,ws-0,ws-3,2100000000000000001\n",
        )
        .unwrap();
        let e = csv_list(&g, &p).unwrap_err().to_string();
        assert!(
            e.contains("line 2: 2100000000000000001 msat is more than the 21,000,000 BTC"),
            "{e}"
        );
    }

    #[test]
    fn csv_list_reads_and_names_bad_fields() {
        let g = graph();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pay.csv");
        std::fs::write(
            &p,
            "time_secs,source,destination,amount_msat\n1.5,ws-0,ws-3,5000\n0.5,ws-1,ws-2,7000\n",
        )
        .unwrap();
        let cfg = WorkloadConfig {
            kind: WorkloadKind::Csv,
            file: p.display().to_string(),
            ..WorkloadConfig::default()
        };
        let w = build(&g, &cfg, 0).unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].amount_msat, 7000);
        assert_eq!(w[0].start, Timestamp::from_millis(500));
        std::fs::write(
            &p,
            "time_secs,source,destination,amount_msat\n1,ws-0,nobody,5000\n",
        )
        .unwrap();
        let e = build(&g, &cfg, 0).unwrap_err().to_string();
        assert!(
            e.contains("pay.csv: line 2, field `destination`") && e.contains("nobody"),
            "{e}"
        );
        std::fs::write(
            &p,
            "time_secs,source,destination,amount_msat\n1,ws-0,ws-1,-5\n",
        )
        .unwrap();
        let e = build(&g, &cfg, 0).unwrap_err().to_string();
        assert!(e.contains("line 2, column `amount_msat`"), "{e}");
        std::fs::write(&p, "time_secs,source,amount_msat\n").unwrap();
        let e = build(&g, &cfg, 0).unwrap_err().to_string();
        assert!(e.contains("missing column `destination`"), "{e}");
        std::fs::write(&p, "time_secs,source,destination,amount_msat\n").unwrap();
        let e = build(&g, &cfg, 0).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
    }

    #[test]
    fn defined_activity_like_sim_ln() {
        let g = graph();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sim.json");
        std::fs::write(
            &p,
            r#"{"sim_network": [], "activity": [
                {"source": "ws-0", "destination": "ws-5", "interval_secs": 2, "amount_msat": 2000, "count": 3},
                {"source": "ws-1", "destination": "ws-6", "interval_secs": [1, 3], "amount_msat": [100, 200], "start_secs": 1}
            ]}"#,
        )
        .unwrap();
        let cfg = WorkloadConfig {
            kind: WorkloadKind::Defined,
            file: p.display().to_string(),
            payments: 10,
            ..WorkloadConfig::default()
        };
        let w = build(&g, &cfg, 0).unwrap();
        assert_eq!(w.len(), 10);
        assert_eq!(w.iter().filter(|p| p.amount_msat == 2000).count(), 3);
        assert!(w.windows(2).all(|x| x[0].start <= x[1].start));
        assert!(w
            .iter()
            .filter(|p| p.amount_msat != 2000)
            .all(|p| (100..=200).contains(&p.amount_msat)));
    }
}
