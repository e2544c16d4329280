//! An experiment end to end: scenario → graph, liquidity, workload, faults → arms →
//! results directory and summary.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use flotilla_graph::liquidity::{Balances, LiquidityModel};
use flotilla_graph::Graph;
use flotilla_ln::config::{ChannelParamsOverride, PolicyOverride};
use serde::Serialize;

use crate::arms::{ArmSpec, UnknownArm};
use crate::faults::Faults;
use crate::graph_origin::{DefaultGraph, UnknownBuiltin};
use crate::manifest::Timing;
use crate::metrics::ArmSummary;
use crate::output::OutputDir;
use crate::output::{iso_utc, unix_now};
use crate::progress::ProgressSink;
use crate::run::{run_arms, RunError, RunInput};
use crate::scenario::{Scenario, ScenarioError, WorkloadKind};
use crate::workload::{self, PaymentSpec, WorkloadError};

/// Why an experiment could not run. Each names what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The graph could not be read.
    #[error(transparent)]
    Graph(#[from] flotilla_graph::GraphError),
    /// `graph.file` names a built-in graph this binary lacks.
    #[error(transparent)]
    Builtin(#[from] UnknownBuiltin),
    /// The liquidity model is unknown or does not fit.
    #[error("graph.liquidity: {0}")]
    Liquidity(#[from] flotilla_graph::liquidity::LiquidityError),
    /// `graph.liquidity = "file"` on a graph without balances.
    #[error("graph.liquidity = \"file\" needs a graph file with balances (CLoTH); {0} has none")]
    NoBalances(String),
    /// The workload is invalid.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// A policy override names no node of the graph.
    #[error("network.overrides[{index}].node: {why}")]
    Override {
        /// Which override.
        index: usize,
        /// Why.
        why: String,
    },
    /// An arm name is unknown.
    #[error("sender.arms: {0}")]
    Arm(#[from] UnknownArm),
    /// `sender.baseline` names no arm of `sender.arms`.
    #[error("sender.baseline: {0:?} is not one of sender.arms")]
    Baseline(String),
    /// A field section (hub, probing, stuck) names something the graph lacks.
    #[error(transparent)]
    Field(#[from] crate::field::FieldError),
    /// The run failed.
    #[error(transparent)]
    Run(#[from] RunError),
}

/// `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// Graph file.
    pub graph: String,
    /// Nodes and channels of the graph.
    pub graph_nodes: usize,
    /// Channels of the graph.
    pub graph_channels: usize,
    /// Payments per arm.
    pub payments: usize,
    /// Offline and hodl nodes drawn.
    pub offline_nodes: usize,
    /// Hodl nodes drawn.
    pub hodl_nodes: usize,
    /// Share of the payments a flow of the amount existed for, at their start, in at
    /// least one arm's network (the scenario's arms; a field scenario's first variant):
    /// 1 − the share no strategy could deliver. `null` when the oracle is off.
    pub feasible_share: Option<f64>,
    /// Wall time of running the arms, seconds: the simulation loop only (rows stream
    /// to part files meanwhile), not the graph import, the set-up, joining the outputs
    /// or the report (not deterministic: in `run.json`'s `timing`, not in
    /// `summary.json`, which is byte-identical across runs).
    #[serde(skip_serializing)]
    pub wall_seconds: f64,
    /// payments × arms ÷ `wall_seconds`: the simulation loop's internal rate, higher
    /// than the whole `flotilla sim` process's (not deterministic; see `wall_seconds`).
    #[serde(skip_serializing)]
    pub payments_per_second: f64,
    /// The attempts file (`attempts.jsonl.gz` or `attempts.jsonl`), `null` when the
    /// run wrote none (`--attempts off`).
    pub attempts_file: Option<String>,
    /// Per-arm results, in the scenario's arm order (a field scenario's variants one
    /// after the other, each arm named with its variant's suffix).
    pub arms: Vec<ArmSummary>,
    /// A field scenario's sections (`hub`, `probing`, `stuck`); absent otherwise.
    #[serde(flatten)]
    pub field: crate::field::FieldSummary,
    /// The scenario as run, every field.
    pub scenario_config: Scenario,
}

/// Everything prepared for running: the same for every arm.
pub struct Experiment {
    /// The scenario.
    pub scenario: Scenario,
    /// Where the graph came from.
    pub graph_file: PathBuf,
    /// The graph.
    pub graph: Arc<Graph>,
    /// Initial balances.
    pub balances: Balances,
    /// The payments.
    pub workload: Vec<PaymentSpec>,
    /// Unreported background payments.
    pub background: Vec<PaymentSpec>,
    /// Unreported warm-up payments, before the workload.
    pub warmup: Vec<PaymentSpec>,
    /// Faults.
    pub faults: Faults,
    /// Arms.
    pub arms: Vec<ArmSpec>,
    /// Policy overrides, resolved to nodes.
    pub overrides: Vec<(flotilla_graph::NodeIdx, PolicyOverride)>,
    /// Per-node channel parameters (`channel` in `[[network.overrides]]`), resolved.
    pub channel_overrides: Vec<(flotilla_graph::NodeIdx, ChannelParamsOverride)>,
    /// A field scenario (hub, probing, stuck), if the scenario has a section for one.
    pub field: Option<crate::field::FieldPlan>,
    /// How the attempts are written (an output choice: the results do not depend on it).
    pub attempts: crate::output::AttemptsMode,
}

impl Experiment {
    /// Reads the graph (the file `default_graph` when the scenario names none), assigns
    /// hidden liquidity, builds the workload and draws the faults.
    pub fn prepare(scenario: Scenario, default_graph: &Path) -> Result<Self, SimError> {
        Self::prepare_with(scenario, &DefaultGraph::File(default_graph.to_path_buf()))
    }

    /// [`Experiment::prepare`] with any default graph (a file or a built-in snapshot).
    pub fn prepare_with(
        scenario: Scenario,
        default_graph: &DefaultGraph,
    ) -> Result<Self, SimError> {
        scenario.validate("scenario")?;
        let arms = scenario
            .sender
            .arms
            .iter()
            .map(|a| a.parse::<ArmSpec>())
            .collect::<Result<Vec<_>, _>>()?;
        let baseline = scenario.sender.baseline.trim();
        if !baseline.is_empty() && !arms.iter().any(|a| a.name == baseline) {
            return Err(SimError::Baseline(baseline.to_string()));
        }
        let source = crate::graph_origin::resolve(&scenario.graph.file, default_graph)?;
        let graph_file = source.label();
        let imported = crate::graph_origin::read(&source, None)?;
        let balances = if scenario.graph.liquidity.trim() == "file" {
            imported
                .balances
                .clone()
                .ok_or_else(|| SimError::NoBalances(graph_file.display().to_string()))?
        } else {
            let model: LiquidityModel = scenario.graph.liquidity.parse()?;
            model.assign(&imported.graph, scenario.seed)?
        };
        let graph = Arc::new(imported.graph);
        let workload = workload::build(&graph, &scenario.workload, scenario.seed)?;
        let warmup = workload::warmup(
            &graph,
            &scenario.workload,
            scenario.sender.warmup_payments,
            scenario.seed,
        )?;
        let mut workload = workload;
        if let Some(last) = warmup.last() {
            // The measured payments begin once the last warm-up payment has started.
            for p in &mut workload {
                p.start = p.start + (last.start.micros() + 1);
            }
        }
        let duration = workload.last().map(|p| p.start).unwrap_or_default();
        let background = workload::background(
            &graph,
            &scenario.workload,
            scenario.network.background_per_sec,
            duration,
            scenario.seed,
        )?;
        let faults = Faults::draw(&graph, &scenario.network, scenario.seed);
        let overrides = scenario
            .network
            .overrides
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let node = graph.find_node(&o.node).map_err(|e| SimError::Override {
                    index: i,
                    why: e.to_string(),
                })?;
                Ok((
                    node,
                    PolicyOverride {
                        fee_base_msat: o.fee_base_msat,
                        fee_rate_ppm: o.fee_rate_ppm,
                        cltv_expiry_delta: o.cltv_expiry_delta,
                        htlc_minimum_msat: o.htlc_minimum_msat,
                    },
                ))
            })
            .collect::<Result<Vec<_>, SimError>>()?;
        // The nodes were resolved above; keep those whose channel parameters differ.
        let channel_overrides = scenario
            .network
            .overrides
            .iter()
            .zip(&overrides)
            .filter(|(o, _)| !o.channel.is_empty())
            .map(|(o, (node, _))| (*node, o.channel))
            .collect();
        let field = crate::field::prepare(&scenario, &graph, &overrides, &mut workload)?;
        Ok(Experiment {
            scenario,
            graph_file,
            graph,
            balances,
            workload,
            background,
            warmup,
            faults,
            arms,
            overrides,
            channel_overrides,
            field,
            attempts: Default::default(),
        })
    }

    /// The arm the others are compared with: `sender.baseline`, else the first MPP
    /// arm, else the first arm.
    pub fn baseline_index(&self) -> usize {
        let named = self.scenario.sender.baseline.trim();
        self.arms
            .iter()
            .position(|a| !named.is_empty() && a.name == named)
            .or_else(|| self.arms.iter().position(|a| a.is_mpp_retry()))
            .unwrap_or(0)
    }

    /// How many arm runs [`Experiment::run`] makes: one per arm, times a field
    /// scenario's variants.
    pub fn arm_runs(&self) -> usize {
        match &self.field {
            Some(f) => f.runs(self.arms.len()),
            None => self.arms.len(),
        }
    }

    /// Names of the arm runs in run order: the arms, a field scenario's arms once per
    /// variant with the variant's suffix. Index `i` is arm run `i` of a
    /// [`ProgressSink`].
    pub fn arm_run_names(&self) -> Vec<String> {
        match &self.field {
            Some(f) => f
                .variants
                .iter()
                .flat_map(|v| {
                    self.arms
                        .iter()
                        .map(move |a| format!("{}{}", a.name, v.suffix))
                })
                .collect(),
            None => self.arms.iter().map(|a| a.name.clone()).collect(),
        }
    }

    /// Runs every arm into `out`, at most `threads` arms at a time (results do not
    /// depend on it). `progress` counts finished payments per arm run (an `AtomicU64`
    /// counts them all together). The `INCOMPLETE` marker stays until every file,
    /// `run.json`'s timing and checksums included, is complete.
    pub fn run(
        &self,
        out: &Path,
        threads: usize,
        progress: &dyn ProgressSink,
    ) -> Result<RunSummary, SimError> {
        let mut dir = OutputDir::create(out).map_err(RunError::from)?;
        dir.set_attempts(self.attempts);
        let started_at = iso_utc(unix_now());
        let started = Instant::now();
        let result = self
            .run_into(&dir, threads, progress)
            .and_then(|mut summary| {
                let wall = started.elapsed().as_secs_f64();
                summary.wall_seconds = wall;
                summary.payments_per_second =
                    (self.workload.len() * self.arm_runs()) as f64 / wall.max(1e-9);
                let timing = Timing {
                    started_at,
                    finished_at: iso_utc(unix_now()),
                    wall_seconds: wall,
                    payments_per_second: summary.payments_per_second,
                    threads: threads.max(1),
                };
                crate::manifest::seal(out, timing).map_err(RunError::from)?;
                Ok(summary)
            });
        match result {
            Ok(summary) => {
                dir.finish().map_err(RunError::from)?;
                Ok(summary)
            }
            Err(e) => {
                dir.fail(&e.to_string());
                Err(e)
            }
        }
    }

    fn run_into(
        &self,
        dir: &OutputDir,
        threads: usize,
        progress: &dyn ProgressSink,
    ) -> Result<RunSummary, SimError> {
        let input = RunInput {
            scenario: &self.scenario,
            graph: self.graph.clone(),
            balances: &self.balances,
            workload: &self.workload,
            background: &self.background,
            warmup: &self.warmup,
            faults: &self.faults,
            overrides: &self.overrides,
            channel_overrides: &self.channel_overrides,
            point_memo: Default::default(),
            field: None,
        };
        let mut results = Vec::with_capacity(self.arms.len());
        if let Some(plan) = &self.field {
            results = plan.run(self, &input, dir, threads, progress)?;
        } else {
            // Arms in chunks of `threads`; each chunk writes parts numbered by arm index.
            for (c, chunk) in self.arms.chunks(threads.max(1)).enumerate() {
                let offset = c * threads.max(1);
                results.extend(run_arms(&input, chunk, offset, dir, progress)?);
            }
        }
        let runs = results.len();
        dir.join_parts("payments.csv", crate::output::PAYMENTS_HEADER, runs)
            .map_err(RunError::from)?;
        dir.join_attempts(runs).map_err(RunError::from)?;
        let field = match &self.field {
            Some(plan) => plan.summarize(&mut results, self.arms.len(), dir)?,
            None => Default::default(),
        };
        // Field scenarios run every arm once per variant, variant after variant: each
        // variant's arms compare with that variant's MPP and baseline.
        let group = self.arms.len().max(1);
        let baseline = self.baseline_index();
        let compared = Instant::now();
        let mut vs: Vec<Option<crate::stats::VsBaseline>> = Vec::with_capacity(results.len());
        for variant in results.chunks(group) {
            let names: Vec<String> = variant.iter().map(|r| r.summary.name.clone()).collect();
            let outcomes: Vec<&crate::stats::ArmOutcomes> =
                variant.iter().map(|r| &r.outcomes).collect();
            vs.extend(crate::stats::compare_with_baseline(
                self.scenario.seed,
                &names,
                &outcomes,
                baseline.min(variant.len() - 1),
                threads,
            ));
        }
        tracing::info!(
            arms = results.len(),
            payments = self.workload.len(),
            replicates = crate::stats::REPLICATES,
            ms = compared.elapsed().as_secs_f64() * 1e3,
            "arms compared with the baseline"
        );
        let tallies: Vec<&crate::oracle::OracleTally> = results
            .iter()
            .take(group)
            .filter_map(|r| r.oracle.as_ref())
            .collect();
        let feasible_share = crate::oracle::tally::feasible_in_any(&tallies, self.workload.len());
        // Each arm's own span of start times: the workload's in an open loop, the
        // arm's in a closed loop (where a faster arm starts its last payment sooner).
        let spans: Vec<f64> = results.iter().map(|r| r.start_span_secs()).collect();
        let mut arms: Vec<ArmSummary> = results.into_iter().map(|r| r.summary).collect();
        for (a, v) in arms.iter_mut().zip(vs) {
            a.vs_baseline = v;
        }
        for variant in arms.chunks_mut(group) {
            set_liquidity_ratios(variant, &self.arms);
        }
        for (a, span) in arms.iter_mut().zip(spans) {
            a.throughput_sat_per_sec = a.succeeded_msat as f64 / 1000.0 / span.max(1e-6);
        }
        let summary = RunSummary {
            scenario: self.scenario.name.clone(),
            seed: self.scenario.seed,
            graph: self.graph_file.display().to_string(),
            graph_nodes: self.graph.node_count(),
            graph_channels: self.graph.channel_count(),
            payments: self.workload.len(),
            offline_nodes: self.faults.offline.len(),
            hodl_nodes: self.faults.hodl.len(),
            feasible_share,
            // Set by `run`, which times the whole run; not in summary.json.
            wall_seconds: 0.0,
            payments_per_second: 0.0,
            attempts_file: self.attempts.file_name().map(str::to_string),
            arms,
            field,
            scenario_config: self.scenario.clone(),
        };
        let json = serde_json::to_vec_pretty(&summary).expect("summary serializes");
        dir.write_file("summary.json", &json)
            .map_err(RunError::from)?;
        Ok(summary)
    }
}

/// A sim-ln `sim.json` used as a scenario: its `sim_network` is the graph, its
/// `activity` (if any) the workload; everything else keeps the defaults.
pub fn scenario_from_simln(path: &Path) -> Scenario {
    let mut s = Scenario {
        name: path
            .file_stem()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "sim.json".into()),
        ..Scenario::default()
    };
    s.graph.file = path.display().to_string();
    let has_activity = flotilla_graph::import::read_bytes(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v.get("activity")
                .and_then(|a| a.as_array())
                .map(|a| !a.is_empty())
        })
        .unwrap_or(false);
    if has_activity {
        s.workload.kind = WorkloadKind::Defined;
        s.workload.file = path.display().to_string();
    }
    s
}

/// The latest start sim-ln's `activity[].start_secs` can hold: it is a `u16`.
pub const SIMLN_MAX_START_SECS: u64 = u16::MAX as u64;

/// What [`export_simln`] wrote and what sim-ln could not be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimlnExport {
    /// Payments written as `activity` entries.
    pub written: usize,
    /// Payments left out because an endpoint is not in the exported network.
    pub no_channel: usize,
    /// Payments left out because they start after [`SIMLN_MAX_START_SECS`].
    pub too_late: usize,
}

/// Writes the experiment as a sim-ln `sim.json`: the graph's `sim_network` (channels
/// with enabled policies both ways, which is all sim-ln can represent; aliases made
/// unique, as sim-ln requires) and one `activity` entry per payment (`count = 1` at
/// its start second), so that sim-ln can run the same payments on the same topology.
/// sim-ln reads `start_secs` as a `u16`, so payments that start after 65,535 s cannot
/// be written; they are left out and counted, as are payments whose endpoint is not in
/// the exported network.
pub fn export_simln(exp: &Experiment, path: &Path) -> Result<SimlnExport, SimError> {
    let tmp = path.with_extension("network.tmp.json");
    flotilla_graph::export::write_graph(&exp.graph, None, flotilla_graph::GraphFormat::Simln, &tmp)
        .map_err(|e| match e {
            // The scratch file is ours; the user asked for `path`.
            flotilla_graph::GraphError::Io { source, .. } => {
                flotilla_graph::GraphError::io(path, source)
            }
            other => other,
        })?;
    let bytes = std::fs::read(&tmp).map_err(|e| flotilla_graph::GraphError::io(&tmp, e))?;
    let _ = std::fs::remove_file(&tmp);
    let mut doc: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        SimError::Graph(flotilla_graph::GraphError::Syntax {
            path: tmp.clone(),
            what: e.to_string(),
        })
    })?;
    let mut present = std::collections::HashSet::new();
    for ch in doc["sim_network"].as_array().into_iter().flatten() {
        for side in ["node_1", "node_2"] {
            if let Some(k) = ch[side]["pubkey"].as_str() {
                present.insert(k.to_string());
            }
        }
    }
    let mut activity = Vec::new();
    let mut summary = SimlnExport::default();
    for p in &exp.workload {
        let src = exp.graph.node(p.source).pubkey.to_hex();
        let dst = exp.graph.node(p.destination).pubkey.to_hex();
        if !present.contains(&src) || !present.contains(&dst) {
            summary.no_channel += 1;
            continue;
        }
        let start_secs = p.start.micros() / 1_000_000;
        if start_secs > SIMLN_MAX_START_SECS {
            summary.too_late += 1;
            continue;
        }
        activity.push(serde_json::json!({
            "source": src,
            "destination": dst,
            "interval_secs": 1,
            "amount_msat": p.amount_msat,
            "start_secs": start_secs,
            "count": 1,
        }));
    }
    summary.written = activity.len();
    doc["activity"] = serde_json::Value::Array(activity);
    let text = serde_json::to_vec_pretty(&doc).expect("serializes");
    std::fs::write(path, text).map_err(|e| flotilla_graph::GraphError::io(path, e))?;
    Ok(summary)
}

/// Sets every arm's `liquidity_ratio_to_mpp` against the `mpp-retry*` arm with the
/// highest success rate (the first such arm on a tie).
fn set_liquidity_ratios(arms: &mut [ArmSummary], specs: &[ArmSpec]) {
    let mut best: Option<(f64, f64)> = None;
    for (a, spec) in arms.iter().zip(specs) {
        if spec.is_mpp_retry() && best.is_none_or(|(rate, _)| a.success_rate > rate) {
            best = Some((a.success_rate, a.liquidity_seconds_mean));
        }
    }
    if let Some((_, base)) = best.filter(|(_, l)| *l > 0.0) {
        for a in arms {
            a.liquidity_ratio_to_mpp = Some(a.liquidity_seconds_mean / base);
        }
    }
}
