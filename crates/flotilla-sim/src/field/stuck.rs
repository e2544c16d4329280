//! `[stuck]`: stuck payments.
//!
//! A share of nodes (`network.hodl_share`) holds every HTLC it is offered until the
//! HTLC's CLTV expiry: a part that reaches one is stuck for hours, and so is the
//! liquidity of every hop before it. The question for implementers is what the sender
//! can do about it: MPP cannot re-send a stuck part's amount (that would risk paying
//! twice), so an MPP payment with a stuck part waits; redundant overpayment sends more
//! parts than needed and claims exactly the amount from those that arrive.
//!
//! Every arm runs with the hodl nodes and, as the reference, without them
//! (`<arm>+no-hodl`, unless `compare_without_hodl = false`). A part is flagged stuck
//! when one of its HTLCs is delivered to a hodl node; its liquidity-seconds (Σ amount ×
//! hold time over all its HTLCs) are counted when it finally comes back. Reported per
//! arm: the TTC tail of successful payments (p50, p90, p99), the share of payments that
//! succeed within `within_secs`, how long senders wait to learn any outcome (p50, p90,
//! p99, failures included: a failure is known when the payment's last part is back)
//! and the share that knew it within `within_secs`, payments and parts stuck, and the liquidity-seconds the stuck
//! parts locked, also as a share of all liquidity-seconds. `stuck-payments.csv` lists
//! every measured payment that had a stuck part.

use std::collections::{BTreeMap, HashMap};

use flotilla_graph::NodeIdx;
use flotilla_ln::config::{Behaviour, NodeConfig, PolicyOverride};
use flotilla_ln::msg::Msg;
use flotilla_ln::network::Network;
use flotilla_ln::output::{Event, Output};
use flotilla_ln::sender::PartId;
use flotilla_ln::session::PaymentSession;
use flotilla_route::Timestamp;
use serde::{Deserialize, Serialize};

use super::{
    csv_row, quantiles, ArmFieldReport, ArmHook, CsvRows, FieldRun, FieldSummary, HookCx, Variant,
};
use crate::arms::ArmSpec;
use crate::metrics::PaymentOutcome;
use crate::scenario::Scenario;
use crate::workload::PaymentSpec;

/// The CSV files this section writes, with their headers.
pub const CSV_HEADERS: &[(&str, &str)] = &[
    (
        "stuck-payments.csv",
        "arm,payment,amount_msat,succeeded,ttc_ms,outcome_secs,stuck_parts,stuck_liquidity_sat_seconds,liquidity_sat_seconds",
    ),
    ("stuck-outcome-cdf.csv", "arm,secs,share_known,share_succeeded"),
];

/// The chart this section draws: when senders know their payment's outcome.
pub const CHARTS: &[super::ChartSpec] = &[(
    "known",
    "stuck-outcome.svg",
    "Share of payments whose sender knows the outcome",
    "seconds after the payment started (log scale)",
    "share of payments",
    super::svg::XScale::Log,
)];

/// Times at which the outcome CDF is evaluated: 40 per decade from 0.1 s to 10^6 s.
fn cdf_times() -> impl Iterator<Item = f64> {
    (0..=280).map(|i| 10f64.powf(-1.0 + i as f64 / 40.0))
}

/// `[stuck]`: see the module documentation and `DEFAULT_SCENARIO`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StuckConfig {
    /// A payment "finished in time" when it succeeded within this many seconds.
    pub within_secs: u64,
    /// Also run every arm without the hodl nodes.
    pub compare_without_hodl: bool,
}

impl Default for StuckConfig {
    fn default() -> Self {
        StuckConfig {
            within_secs: 60,
            compare_without_hodl: true,
        }
    }
}

impl StuckConfig {
    pub(crate) fn validate(&self, s: &Scenario) -> Result<(), (String, String)> {
        if self.within_secs == 0 {
            return Err((
                "stuck.within_secs".into(),
                "must be at least 1 second".into(),
            ));
        }
        if s.network.hodl_share <= 0.0 {
            return Err((
                "network.hodl_share".into(),
                "is 0, so nothing gets stuck: the [stuck] scenario needs hodl nodes".into(),
            ));
        }
        Ok(())
    }
}

/// What the summary needs.
pub struct StuckPlan {
    within_secs: u64,
    hodl_share: f64,
}

/// `summary.json` → `stuck`.
#[derive(Debug, Clone, Serialize)]
pub struct StuckReport {
    /// `network.hodl_share`.
    pub hodl_share: f64,
    /// The "in time" threshold, seconds.
    pub within_secs: u64,
    /// One entry per arm and variant, in run order.
    pub arms: Vec<StuckArmReport>,
}

/// One arm of one variant.
#[derive(Debug, Clone, Serialize)]
pub struct StuckArmReport {
    /// Arm name (with the variant's suffix).
    pub arm: String,
    /// Whether hodl nodes were present.
    pub hodl: bool,
    /// Payments.
    pub payments: u64,
    /// Successful payments.
    pub succeeded: u64,
    /// `succeeded / payments`.
    pub success_rate: f64,
    /// TTC of successful payments, ms: median.
    pub ttc_ms_p50: f64,
    /// 90th percentile.
    pub ttc_ms_p90: f64,
    /// 99th percentile.
    pub ttc_ms_p99: f64,
    /// Share of all payments that succeeded within `within_secs`.
    pub share_within: f64,
    /// Share of all payments whose sender knew the outcome, success or failure, within
    /// `within_secs` (a failed payment's outcome is known when its last part is back:
    /// until then its amount is locked and a retry could pay twice).
    pub share_resolved_within: f64,
    /// Time until the sender learnt the outcome, success or failure, seconds: p50.
    pub outcome_secs_p50: f64,
    /// p90.
    pub outcome_secs_p90: f64,
    /// p99.
    pub outcome_secs_p99: f64,
    /// Payments with at least one part held by a hodl node.
    pub payments_with_stuck_parts: u64,
    /// Of those, how many succeeded anyway.
    pub stuck_payments_succeeded: u64,
    /// Parts held by a hodl node.
    pub stuck_parts: u64,
    /// Liquidity-seconds (sat·s) those parts locked, over all their HTLCs.
    pub stuck_liquidity_sat_seconds: f64,
    /// Liquidity-seconds of every measured payment, sat·s.
    pub liquidity_sat_seconds: f64,
    /// `stuck_liquidity_sat_seconds / liquidity_sat_seconds`.
    pub stuck_share_of_liquidity: f64,
    /// Mean time a stuck part stayed out, hours.
    pub stuck_part_hours_mean: f64,
}

pub(super) fn prepare(
    cfg: &StuckConfig,
    scenario: &Scenario,
    overrides: &[(NodeIdx, PolicyOverride)],
    _workload: &mut [PaymentSpec],
) -> (StuckPlan, Vec<Variant>) {
    let run = |hodl| StuckRun {
        hodl,
        within_micros: cfg.within_secs * 1_000_000,
    };
    let mut variants = vec![Variant {
        suffix: "",
        label: "with hodl nodes",
        overrides: overrides.to_vec(),
        run: Box::new(run(true)),
    }];
    if cfg.compare_without_hodl {
        variants.push(Variant {
            suffix: "+no-hodl",
            label: "without hodl nodes",
            overrides: overrides.to_vec(),
            run: Box::new(run(false)),
        });
    }
    (
        StuckPlan {
            within_secs: cfg.within_secs,
            hodl_share: scenario.network.hodl_share,
        },
        variants,
    )
}

impl StuckPlan {
    pub(super) fn summary(
        &self,
        _variants: &[Variant],
        reports: Vec<(usize, ArmFieldReport)>,
    ) -> FieldSummary {
        let arms = reports
            .into_iter()
            .filter_map(|(_, r)| match r {
                ArmFieldReport::Stuck(s) => Some(s),
                _ => None,
            })
            .collect();
        FieldSummary {
            stuck: Some(StuckReport {
                hodl_share: self.hodl_share,
                within_secs: self.within_secs,
                arms,
            }),
            ..Default::default()
        }
    }
}

struct StuckRun {
    hodl: bool,
    within_micros: u64,
}

impl FieldRun for StuckRun {
    fn adjust_configs(&self, configs: &mut [NodeConfig]) {
        if !self.hodl {
            for c in configs.iter_mut() {
                if c.behaviour == Behaviour::Hodl {
                    c.behaviour = Behaviour::Honest;
                }
            }
        }
    }

    fn arm_hook(&self, arm: &ArmSpec, net: &Network) -> Box<dyn ArmHook> {
        let n = net.graph().node_count();
        let hodl = (0..n)
            .map(|i| net.config(NodeIdx(i as u32)).behaviour == Behaviour::Hodl)
            .collect();
        Box::new(StuckHook {
            arm: arm.name.clone(),
            has_hodl: self.hodl,
            within_micros: self.within_micros,
            hodl,
            held: HashMap::new(),
            per_payment: BTreeMap::new(),
            rows: String::new(),
            t: Tally::default(),
        })
    }
}

#[derive(Default)]
struct Tally {
    payments: u64,
    succeeded: u64,
    within: u64,
    resolved_within: u64,
    ttcs_ms: Vec<f64>,
    outcome_secs: Vec<f64>,
    payments_stuck: u64,
    stuck_succeeded: u64,
    stuck_parts: u64,
    stuck_locked_msat_micros: u128,
    stuck_hours_sum: f64,
    liquidity: f64,
}

struct StuckHook {
    arm: String,
    has_hodl: bool,
    within_micros: u64,
    hodl: Vec<bool>,
    /// Stuck parts in flight: when they were first held.
    held: HashMap<PartId, Timestamp>,
    /// Measured payment (session id) → (stuck parts, their locked msat·µs, hours
    /// they were out), for parts back.
    per_payment: BTreeMap<u64, (u32, u128, f64)>,
    rows: String,
    t: Tally,
}

impl ArmHook for StuckHook {
    fn on_output(&mut self, o: Output, cx: &mut HookCx<'_>) -> Option<Output> {
        match &o {
            Output::Message {
                to,
                msg: Msg::AddHtlc(add),
                ..
            } if self.hodl[to.ix()] => {
                if let Some(part) = cx.net.part_of(add) {
                    self.held.entry(part).or_insert(cx.clock.now);
                }
            }
            Output::Event {
                event:
                    Event::PartSettled {
                        part,
                        locked_msat_micros,
                        ..
                    }
                    | Event::PartFailed {
                        part,
                        locked_msat_micros,
                        ..
                    },
                ..
            } => {
                if let Some(since) = self.held.remove(part) {
                    let id = PaymentSession::session_of(*part);
                    // Warm-up and background sessions are numbered from 2^39 up.
                    if id < crate::field::MEASURED_IDS {
                        let e = self.per_payment.entry(id).or_default();
                        e.0 += 1;
                        e.1 += *locked_msat_micros;
                        e.2 += cx.clock.now.secs_since(since) / 3600.0;
                    }
                }
            }
            _ => {}
        }
        Some(o)
    }

    fn on_payment(&mut self, spec: &PaymentSpec, o: &PaymentOutcome, now: Timestamp) {
        let t = &mut self.t;
        t.payments += 1;
        t.liquidity += o.liquidity_sat_seconds;
        let outcome_secs = match o.ttc_ms {
            Some(ms) if o.succeeded => ms / 1000.0,
            _ => now.secs_since(spec.start),
        };
        t.outcome_secs.push(outcome_secs);
        if outcome_secs * 1e6 <= self.within_micros as f64 {
            t.resolved_within += 1;
        }
        if o.succeeded {
            t.succeeded += 1;
            if let Some(ms) = o.ttc_ms {
                t.ttcs_ms.push(ms);
                if ms * 1000.0 <= self.within_micros as f64 {
                    t.within += 1;
                }
            }
        }
        if let Some((parts, locked, hours)) = self.per_payment.remove(&spec.index) {
            t.payments_stuck += 1;
            t.stuck_parts += parts as u64;
            t.stuck_locked_msat_micros += locked;
            t.stuck_hours_sum += hours;
            if o.succeeded {
                t.stuck_succeeded += 1;
            }
            csv_row(
                &mut self.rows,
                &self.arm,
                format_args!(
                    "{},{},{},{},{:.3},{},{:.3},{:.3}",
                    spec.index,
                    spec.amount_msat,
                    o.succeeded,
                    o.ttc_ms.map(|t| format!("{t:.3}")).unwrap_or_default(),
                    outcome_secs,
                    parts,
                    locked as f64 / 1e9,
                    o.liquidity_sat_seconds
                ),
            );
        }
    }

    fn finish(mut self: Box<Self>, _net: &Network, _end: Timestamp) -> (ArmFieldReport, CsvRows) {
        let mut t = std::mem::take(&mut self.t);
        t.outcome_secs.sort_by(f64::total_cmp);
        t.ttcs_ms.sort_by(f64::total_cmp);
        let n = t.payments.max(1) as f64;
        let mut cdf_rows = String::new();
        let mut known_line = Vec::new();
        let last = t.outcome_secs.last().copied().unwrap_or(0.0);
        for at in cdf_times() {
            let known = t.outcome_secs.partition_point(|&x| x <= at) as f64 / n;
            let ok = t.ttcs_ms.partition_point(|&x| x <= at * 1000.0) as f64 / n;
            csv_row(
                &mut cdf_rows,
                &self.arm,
                format_args!("{at:.4},{known:.5},{ok:.5}"),
            );
            known_line.push((at, known));
            if at > last {
                break;
            }
        }
        let ttc = quantiles(t.ttcs_ms, &[0.5, 0.9, 0.99]);
        let out = quantiles(t.outcome_secs, &[0.5, 0.9, 0.99]);
        let stuck_liq = t.stuck_locked_msat_micros as f64 / 1e9;
        let report = StuckArmReport {
            arm: self.arm.clone(),
            hodl: self.has_hodl,
            payments: t.payments,
            succeeded: t.succeeded,
            success_rate: t.succeeded as f64 / t.payments.max(1) as f64,
            ttc_ms_p50: ttc[0],
            ttc_ms_p90: ttc[1],
            ttc_ms_p99: ttc[2],
            share_within: t.within as f64 / t.payments.max(1) as f64,
            share_resolved_within: t.resolved_within as f64 / t.payments.max(1) as f64,
            outcome_secs_p50: out[0],
            outcome_secs_p90: out[1],
            outcome_secs_p99: out[2],
            payments_with_stuck_parts: t.payments_stuck,
            stuck_payments_succeeded: t.stuck_succeeded,
            stuck_parts: t.stuck_parts,
            stuck_liquidity_sat_seconds: stuck_liq,
            liquidity_sat_seconds: t.liquidity,
            stuck_share_of_liquidity: if t.liquidity > 0.0 {
                stuck_liq / t.liquidity
            } else {
                0.0
            },
            stuck_part_hours_mean: t.stuck_hours_sum / t.stuck_parts.max(1) as f64,
        };
        let rows = CsvRows {
            files: vec![
                ("stuck-payments.csv", std::mem::take(&mut self.rows)),
                ("stuck-outcome-cdf.csv", cdf_rows),
            ],
            series: vec![(
                "known",
                super::svg::Series {
                    name: self.arm.clone(),
                    points: known_line,
                },
            )],
        };
        (ArmFieldReport::Stuck(report), rows)
    }
}
