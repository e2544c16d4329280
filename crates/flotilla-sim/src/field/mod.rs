//! Field scenarios: three questions node operators and Lightning developers ask,
//! answered by running one workload under two variants and watching the event loop.
//!
//! - [`zero_fee_hub`]: what happens to a well-connected node that routes for free, and
//!   to everyone else (`[hub]`): every arm runs without and with the hub's 0/0 policy;
//!   the hub's channel balances are sampled in virtual time.
//! - [`probing`]: forwarders that replay every HTLC's hash and amount toward candidate
//!   recipients (`[probing]`): every arm runs with receivers that enforce
//!   `payment_secret` and with legacy receivers that do not; the attackers' probes are
//!   real payments through the protocol state machines.
//! - [`stuck`]: forwarders that hold HTLCs until expiry (`[stuck]`, with
//!   `network.hodl_share`): every arm runs with the hodl nodes and, as the reference,
//!   without them; parts held by a hodl node are flagged and their locked liquidity
//!   counted.
//!
//! A scenario has at most one of these sections. Each variant is a full run of every
//! arm on the same workload, liquidity and faults; the variant's arms are named with a
//! suffix (`mpp-retry+zero-fee-hub`), so `payments.csv`, `attempts.jsonl` and the arm
//! table compare them row by row. What a variant measures beyond the usual metrics
//! comes from an [`ArmHook`] the event loop calls at a few points; the section's report
//! goes into `summary.json` under its name, and its time series into CSV files of the
//! results directory.
//!
//! Hooks are deterministic: they draw no randomness and keep their state in ordered
//! maps where order can reach an output, so the same seed gives the same bytes.

pub mod probing;
pub mod stuck;
pub mod svg;
pub mod zero_fee_hub;

use flotilla_graph::{Graph, NodeIdx};
use flotilla_ln::clock::Clock;
use flotilla_ln::config::{NodeConfig, PolicyOverride};
use flotilla_ln::network::Network;
use flotilla_ln::output::Output;
use flotilla_ln::session::AttemptRecord;
use flotilla_route::Timestamp;
use serde::Serialize;

use crate::arms::ArmSpec;
use crate::experiment::{Experiment, SimError};
use crate::metrics::PaymentOutcome;
use crate::output::OutputDir;
use crate::run::{run_arms, ArmResult, RunError, RunInput};
use crate::scenario::{Scenario, ScenarioError};
use crate::workload::PaymentSpec;

pub use probing::ProbingConfig;
pub use stuck::StuckConfig;
pub use zero_fee_hub::HubConfig;

/// Session ids below this are measured payments (the workload's indices); warm-up,
/// background and a hook's own payments are numbered above it.
pub const MEASURED_IDS: u64 = 1 << 39;

/// Why a field section cannot run on this graph: names the key.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {why}")]
pub struct FieldError {
    /// The dotted key (`hub.node`, `probing.attackers[2]`).
    pub key: String,
    /// Why.
    pub why: String,
}

impl FieldError {
    fn new(key: impl Into<String>, why: impl Into<String>) -> Self {
        FieldError {
            key: key.into(),
            why: why.into(),
        }
    }
}

/// The context a hook gets when it may act: the arm's network, the time, and the
/// output vector the event loop is draining (what a hook pushes there is carried
/// like anything the protocol emitted).
pub struct HookCx<'a> {
    /// The arm's protocol state.
    pub net: &'a mut Network,
    /// Now.
    pub clock: &'a Clock,
    /// Outputs still to be carried.
    pub out: &'a mut Vec<Output>,
}

/// What a field scenario adds to one arm's event loop. Every method but `finish` does
/// nothing by default.
pub trait ArmHook {
    /// Called before each event, at its virtual time: the network is as it was just
    /// before `now` (nothing changes between events, so a sample taken here for any
    /// time up to `now` is exact).
    fn before_event(&mut self, _now: Timestamp, _net: &Network) {}

    /// Sees every output (message, timer, event) before the driver carries it. Returns
    /// it to let it through, or `None` to take it: a held `update_add_htlc` (the hook
    /// must push it back into `cx.out` later or withdraw its HTLC), or the outcome of
    /// the hook's own payments.
    fn on_output(&mut self, o: Output, _cx: &mut HookCx<'_>) -> Option<Output> {
        Some(o)
    }

    /// A measured payment's attempt was resolved.
    fn on_attempt(&mut self, _a: &AttemptRecord) {}

    /// A measured payment finished (`now` is when the driver dropped its session).
    fn on_payment(&mut self, _spec: &PaymentSpec, _o: &PaymentOutcome, _now: Timestamp) {}

    /// The arm's loop ended at `end`: the report and the arm's CSV rows.
    fn finish(self: Box<Self>, net: &Network, end: Timestamp) -> (ArmFieldReport, CsvRows);
}

/// One variant's contribution to every arm it runs.
pub trait FieldRun: Sync {
    /// Changes node settings before the arm's network is built.
    fn adjust_configs(&self, _configs: &mut [NodeConfig]) {}

    /// The hook for `arm` (named with the variant's suffix) on its freshly built network.
    fn arm_hook(&self, arm: &ArmSpec, net: &Network) -> Box<dyn ArmHook>;
}

/// What one arm of one variant reports.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ArmFieldReport {
    /// `[hub]`.
    Hub(zero_fee_hub::HubArmReport),
    /// `[probing]`.
    Probing(probing::ProbingArmReport),
    /// `[stuck]`.
    Stuck(stuck::StuckArmReport),
}

/// Extra rows for the CSV files of the results directory, per arm (no header), and
/// the arm's lines for the section's charts.
#[derive(Debug, Clone, Default)]
pub struct CsvRows {
    /// (file name, rows).
    pub files: Vec<(&'static str, String)>,
    /// (chart key, the arm's line).
    pub series: Vec<(&'static str, svg::Series)>,
}

/// A chart a section draws from its arms' series: key, file, title, axis labels, x
/// scale.
pub type ChartSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    svg::XScale,
);

/// The sections `summary.json` gains (flattened into it; absent ones are omitted).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FieldSummary {
    /// Recipients the probing attackers identified, over every arm, with receivers
    /// that enforce `payment_secret` (must be 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipients_identified_with_secret: Option<u64>,
    /// The same with legacy receivers that do not check it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipients_identified_legacy: Option<u64>,
    /// `[hub]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hub: Option<zero_fee_hub::HubReport>,
    /// `[probing]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probing: Option<probing::ProbingReport>,
    /// `[stuck]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stuck: Option<stuck::StuckReport>,
}

/// One variant: a suffix for its arms, the policy overrides it runs with, and its hook
/// factory.
pub struct Variant {
    /// Appended to every arm name ("" for the first variant).
    pub suffix: &'static str,
    /// What it is, for reports.
    pub label: &'static str,
    /// Policy overrides (the scenario's, plus the variant's own).
    pub overrides: Vec<(NodeIdx, PolicyOverride)>,
    /// Its hooks.
    pub run: Box<dyn FieldRun>,
}

/// A prepared field section: its variants and what its summary needs.
pub struct FieldPlan {
    /// The variants, in run order.
    pub variants: Vec<Variant>,
    kind: PlanKind,
}

enum PlanKind {
    Hub(zero_fee_hub::HubPlan),
    Probing(probing::ProbingPlan),
    Stuck(stuck::StuckPlan),
}

/// Checks the field sections of `s` (ranges, at most one section).
pub fn validate(s: &Scenario, file: &str) -> Result<(), ScenarioError> {
    let bad = |key: &str, why: &str| ScenarioError::Invalid {
        file: file.to_string(),
        key: key.to_string(),
        why: why.to_string(),
    };
    let present = [s.hub.is_some(), s.probing.is_some(), s.stuck.is_some()];
    if present.iter().filter(|p| **p).count() > 1 {
        return Err(bad(
            "hub/probing/stuck",
            "a scenario answers one field question: keep one of these sections per file",
        ));
    }
    if let Some(h) = &s.hub {
        h.validate().map_err(|(k, w)| bad(&k, &w))?;
    }
    if let Some(p) = &s.probing {
        p.validate().map_err(|(k, w)| bad(&k, &w))?;
    }
    if let Some(st) = &s.stuck {
        st.validate(s).map_err(|(k, w)| bad(&k, &w))?;
    }
    Ok(())
}

/// Resolves the scenario's field section against the graph (nodes named, defaults
/// chosen) and adjusts the workload where the section says so (keysend payments).
/// `None` when the scenario has no field section.
pub fn prepare(
    scenario: &Scenario,
    graph: &Graph,
    overrides: &[(NodeIdx, PolicyOverride)],
    workload: &mut [PaymentSpec],
) -> Result<Option<FieldPlan>, FieldError> {
    if let Some(h) = &scenario.hub {
        let (plan, variants) = zero_fee_hub::prepare(h, graph, overrides, workload)?;
        return Ok(Some(FieldPlan {
            variants,
            kind: PlanKind::Hub(plan),
        }));
    }
    if let Some(p) = &scenario.probing {
        let (plan, variants) = probing::prepare(p, scenario, graph, overrides, workload)?;
        return Ok(Some(FieldPlan {
            variants,
            kind: PlanKind::Probing(plan),
        }));
    }
    if let Some(st) = &scenario.stuck {
        let (plan, variants) = stuck::prepare(st, scenario, overrides, workload);
        return Ok(Some(FieldPlan {
            variants,
            kind: PlanKind::Stuck(plan),
        }));
    }
    Ok(None)
}

/// The node with the most channels among the largest strongly connected component
/// (ties: the lower index), the default hub and the first default attacker.
pub fn best_connected(graph: &Graph, n: usize, exclude: &[NodeIdx]) -> Vec<NodeIdx> {
    let mut core: Vec<(usize, NodeIdx)> = flotilla_graph::stats::largest_scc(graph)
        .into_iter()
        .filter(|v| !exclude.contains(v))
        .map(|v| (graph.channels_of(v).count(), v))
        .collect();
    core.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    core.into_iter().take(n).map(|(_, v)| v).collect()
}

/// Resolves a node name from a field section, naming the key on failure.
pub(crate) fn resolve_node(graph: &Graph, key: &str, name: &str) -> Result<NodeIdx, FieldError> {
    graph
        .find_node(name)
        .map_err(|e| FieldError::new(key, e.to_string()))
}

impl FieldPlan {
    /// How many arm runs the plan makes for `arms` arms.
    pub fn runs(&self, arms: usize) -> usize {
        arms * self.variants.len()
    }

    /// Runs every variant's arms, `threads` arm runs at a time whatever variant they
    /// belong to, into `dir`. Part files are numbered variant by variant in arm order,
    /// so the outputs do not depend on `threads`.
    pub fn run(
        &self,
        exp: &Experiment,
        base: &RunInput<'_>,
        dir: &OutputDir,
        threads: usize,
        progress: &dyn crate::progress::ProgressSink,
    ) -> Result<Vec<ArmResult>, RunError> {
        let inputs: Vec<RunInput<'_>> = self
            .variants
            .iter()
            .map(|v| RunInput {
                overrides: &v.overrides,
                field: Some(v.run.as_ref()),
                ..base.clone()
            })
            .collect();
        let jobs: Vec<(usize, ArmSpec)> = self
            .variants
            .iter()
            .enumerate()
            .flat_map(|(i, v)| {
                exp.arms.iter().map(move |a| {
                    (
                        i,
                        ArmSpec {
                            name: format!("{}{}", a.name, v.suffix),
                            ..a.clone()
                        },
                    )
                })
            })
            .collect();
        let width = threads.max(1);
        let mut results = Vec::with_capacity(jobs.len());
        for (c, chunk) in jobs.chunks(width).enumerate() {
            let done: Vec<Result<Vec<ArmResult>, RunError>> = std::thread::scope(|scope| {
                let handles: Vec<_> = chunk
                    .iter()
                    .enumerate()
                    .map(|(j, (v, arm))| {
                        let input = &inputs[*v];
                        let part = c * width + j;
                        scope.spawn(move || {
                            run_arms(input, std::slice::from_ref(arm), part, dir, progress)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(RunError::Internal {
                                arm: "?".into(),
                                at: Timestamp::ZERO,
                                why: "an arm's thread panicked".into(),
                            })
                        })
                    })
                    .collect()
            });
            for r in done {
                results.extend(r?);
            }
        }
        Ok(results)
    }

    /// Builds the summary section from the arms' reports (taken out of `results`) and
    /// writes the section's CSV files into `dir`.
    pub fn summarize(
        &self,
        results: &mut [ArmResult],
        arms: usize,
        dir: &OutputDir,
    ) -> Result<FieldSummary, SimError> {
        let mut reports: Vec<(usize, ArmFieldReport)> = Vec::new();
        let mut csv: Vec<(&'static str, String)> = Vec::new();
        let mut lines: Vec<(&'static str, svg::Series)> = Vec::new();
        for (i, r) in results.iter_mut().enumerate() {
            let variant = i / arms.max(1);
            if let Some((report, rows)) = r.field.take() {
                reports.push((variant, report));
                lines.extend(rows.series);
                for (file, text) in rows.files {
                    match csv.iter_mut().find(|(f, _)| *f == file) {
                        Some((_, all)) => all.push_str(&text),
                        None => csv.push((file, text)),
                    }
                }
            }
        }
        let (summary, headers, charts) = match &self.kind {
            PlanKind::Hub(p) => (
                p.summary(&self.variants, reports),
                zero_fee_hub::CSV_HEADERS,
                zero_fee_hub::CHARTS,
            ),
            PlanKind::Probing(p) => (
                p.summary(&self.variants, reports),
                probing::CSV_HEADERS,
                &[][..],
            ),
            PlanKind::Stuck(p) => (
                p.summary(&self.variants, reports),
                stuck::CSV_HEADERS,
                stuck::CHARTS,
            ),
        };
        for (key, file, title, x_label, y_label, scale) in charts {
            let mine: Vec<svg::Series> = lines
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, s)| s.clone())
                .collect();
            let chart = svg::line_chart(title, x_label, y_label, *scale, &mine);
            dir.write_file(file, chart.as_bytes())
                .map_err(RunError::from)?;
        }
        for (file, header) in headers {
            let rows = csv
                .iter()
                .find(|(f, _)| f == file)
                .map(|(_, r)| r.as_str())
                .unwrap_or("");
            let mut text = String::with_capacity(header.len() + 1 + rows.len());
            text.push_str(header);
            text.push('\n');
            text.push_str(rows);
            dir.write_file(file, text.as_bytes())
                .map_err(RunError::from)?;
        }
        Ok(summary)
    }
}

/// Rows of one arm's CSV file: `arm` first, then the values.
pub(crate) fn csv_row(out: &mut String, arm: &str, values: std::fmt::Arguments<'_>) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "{arm},{values}");
}

/// Nearest-rank quantiles of unsorted values (sorted here).
pub(crate) fn quantiles(mut v: Vec<f64>, qs: &[f64]) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    qs.iter()
        .map(|q| crate::metrics::quantile(&v, *q))
        .collect()
}
