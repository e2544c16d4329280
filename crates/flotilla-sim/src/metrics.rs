//! The one definition of every reported number.
//!
//! - success rate: payments fully settled / payments attempted, with a 95% Wilson
//!   score interval (well-behaved near 0 and 1, unlike the normal approximation).
//! - time to complete (TTC): from the sender's first send to the sender learning that
//!   the payment settled; successful payments only.
//! - time to outcome (TTO): from the sender's first send to the sender knowing the
//!   outcome, settled or failed (a payment no route exists for: 0); every payment.
//!   For a settled payment it equals its TTC.
//! - attempts: paths tried per payment (every part of every try counts).
//! - fees: msat paid on settled payments; fee ppm = fee / amount × 1e6.
//! - liquidity-seconds: Σ over every HTLC of a payment of amount (sat) × time held (s).
//! - busy time: from a payment's first send until the sender knows the outcome of every
//!   part it sent (surplus redundant parts included, so it can outlast the TTC); 0 for a
//!   payment that sent nothing. Busy-time throughput = Σ settled volume / Σ busy time
//!   (the Boomerang paper's throughput); arrival-span throughput = Σ settled volume / the
//!   workload's arrival span.
//! - failure reasons: see [`FailureReason`].

use std::collections::BTreeMap;

use serde::Serialize;

pub use flotilla_ln::session::FailureReason;

/// The 95% Wilson score interval of `successes` out of `n`.
pub fn wilson_ci95(successes: u64, n: u64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let z = 1.959_963_984_540_054_f64;
    let n_f = n as f64;
    let p = successes as f64 / n_f;
    let denom = 1.0 + z * z / n_f;
    let centre = (p + z * z / (2.0 * n_f)) / denom;
    let half = z * ((p * (1.0 - p) / n_f) + z * z / (4.0 * n_f * n_f)).sqrt() / denom;
    [(centre - half).max(0.0), (centre + half).min(1.0)]
}

/// The `q`-quantile (0..=1) by the nearest-rank method; 0 for no data.
/// `sorted` must be ascending.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The outcome of one payment under one arm: one row of `payments.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct PaymentOutcome {
    /// Index of the payment in the workload.
    pub payment: u64,
    /// Amount, msat.
    pub amount_msat: u64,
    /// Whether it fully settled.
    pub succeeded: bool,
    /// Fees paid (settled parts only), msat.
    pub fee_msat: u64,
    /// Paths tried.
    pub attempts: u32,
    /// Parts that left the sender.
    pub parts_sent: u32,
    /// Parts that settled.
    pub parts_settled: u32,
    /// Time to complete, ms (successful payments).
    pub ttc_ms: Option<f64>,
    /// Time to outcome, virtual µs: first send to the sender knowing, either way.
    pub tto_micros: u64,
    /// Busy time, virtual µs: first send until every part's outcome is known.
    pub busy_micros: u64,
    /// Why it failed.
    pub failure: Option<FailureReason>,
    /// Σ amount (sat) × hold time (s) over every HTLC of the payment.
    pub liquidity_sat_seconds: f64,
    /// Settled beyond the amount, msat (redundant arms; must be 0).
    pub overpaid_msat: u64,
    /// Messages beyond the HTLCs' own (redundant arms: claim request and reveal).
    pub extra_messages: u32,
}

impl PaymentOutcome {
    /// The fee as ppm of the amount.
    pub fn fee_ppm(&self) -> f64 {
        self.fee_msat as f64 / self.amount_msat.max(1) as f64 * 1e6
    }

    /// Time to outcome, ms.
    pub fn tto_ms(&self) -> f64 {
        self.tto_micros as f64 / 1000.0
    }
}

/// Per-arm summary, as `summary.json` and the stdout table show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArmSummary {
    /// Arm name.
    pub name: String,
    /// Payments attempted.
    pub payments: u64,
    /// Payments fully settled.
    pub succeeded: u64,
    /// `succeeded / payments`.
    pub success_rate: f64,
    /// 95% Wilson interval of the success rate.
    pub success_ci95: [f64; 2],
    /// Mean paths tried per payment.
    pub attempts_mean: f64,
    /// Mean TTC of successful payments, ms.
    pub ttc_ms_mean: f64,
    /// Median TTC, ms.
    pub ttc_ms_p50: f64,
    /// 90th percentile TTC, ms.
    pub ttc_ms_p90: f64,
    /// 99th percentile TTC, ms.
    pub ttc_ms_p99: f64,
    /// Mean time to outcome over every payment, settled or failed, ms (set by the run).
    pub tto_ms_mean: f64,
    /// Median time to outcome, ms.
    pub tto_ms_p50: f64,
    /// 90th percentile time to outcome, ms.
    pub tto_ms_p90: f64,
    /// 99th percentile time to outcome, ms.
    pub tto_ms_p99: f64,
    /// Mean fee of successful payments, ppm of the amount.
    pub fee_ppm_mean: f64,
    /// Total fees paid, msat.
    pub fees_msat: u64,
    /// Mean liquidity-seconds per payment (sat × s).
    pub liquidity_seconds_mean: f64,
    /// Failed payments by reason (every reason present, zeros included).
    pub failures: BTreeMap<&'static str, u64>,
    /// Parts that left the sender, over all payments.
    pub parts_sent: u64,
    /// Parts that settled, over all payments.
    pub parts_settled: u64,
    /// Σ over payments of settled − amount where positive, msat: must be 0.
    pub overpaid_msat: u64,
    /// Claims refused because they did not open an HTLC's lock (the network's count;
    /// set by the run).
    pub overclaim_attempts: u64,
    /// Boomerang reverse clauses paid back, one per hop of each refunded part (the
    /// network's count; set by the run).
    pub boomerang_refunds: u64,
    /// Boomerang refunds a hop refused because its side no longer held the value (this
    /// model locks no collateral for the reverse clause; set by the run).
    pub boomerang_refunds_refused: u64,
    /// Messages beyond the HTLCs' own (claim requests, reveals, cancels), over all
    /// payments.
    pub extra_messages: u64,
    /// `liquidity_seconds_mean` over that of the run's best `mpp-retry*` arm (highest
    /// success rate): the liquidity price of a strategy. `None` without such an arm.
    pub liquidity_ratio_to_mpp: Option<f64>,
    /// Value of the payments that succeeded, msat.
    pub succeeded_msat: u64,
    /// `succeeded_msat` (in sat) per second of the workload's arrival span (set by the
    /// experiment).
    pub throughput_sat_per_sec: f64,
    /// Σ busy time over every payment, virtual seconds.
    pub busy_seconds: f64,
    /// `succeeded_msat` (in sat) per second of Σ busy time: the throughput the Boomerang
    /// paper compares, which rewards finishing sooner; `null` when nothing was busy.
    pub throughput_busy_sat_per_sec: Option<f64>,
    /// The oracle's figures (`null` when it is off; set by the run).
    #[serde(flatten)]
    pub oracle: crate::oracle::OracleFields,
    /// This arm against the run's baseline arm, payment by payment (set by the
    /// experiment); `null` for the baseline itself.
    pub vs_baseline: Option<crate::stats::VsBaseline>,
}

/// Accumulates outcomes of one arm into an [`ArmSummary`]. Memory grows only with the
/// successful payments' TTCs (8 bytes each), for the percentiles.
#[derive(Debug, Default)]
pub struct SummaryBuilder {
    payments: u64,
    succeeded: u64,
    attempts: u64,
    ttcs: Vec<f64>,
    fee_ppm_sum: f64,
    fees_msat: u64,
    liquidity: f64,
    failures: BTreeMap<FailureReason, u64>,
    parts_sent: u64,
    parts_settled: u64,
    overpaid_msat: u64,
    extra_messages: u64,
    succeeded_msat: u64,
    busy_micros: u128,
}

impl SummaryBuilder {
    /// Adds one payment's outcome.
    pub fn add(&mut self, o: &PaymentOutcome) {
        self.payments += 1;
        self.attempts += o.attempts as u64;
        self.liquidity += o.liquidity_sat_seconds;
        self.parts_sent += o.parts_sent as u64;
        self.parts_settled += o.parts_settled as u64;
        self.overpaid_msat += o.overpaid_msat;
        self.extra_messages += o.extra_messages as u64;
        self.busy_micros += o.busy_micros as u128;
        if o.succeeded {
            self.succeeded += 1;
            self.succeeded_msat += o.amount_msat;
            self.fees_msat += o.fee_msat;
            self.fee_ppm_sum += o.fee_ppm();
            if let Some(t) = o.ttc_ms {
                self.ttcs.push(t);
            }
        } else if let Some(r) = o.failure {
            *self.failures.entry(r).or_default() += 1;
        }
    }

    /// The summary under `name`.
    pub fn finish(mut self, name: &str) -> ArmSummary {
        self.ttcs.sort_by(f64::total_cmp);
        let n = self.payments.max(1) as f64;
        let ok = self.succeeded.max(1) as f64;
        let ttc_mean = if self.ttcs.is_empty() {
            0.0
        } else {
            self.ttcs.iter().sum::<f64>() / self.ttcs.len() as f64
        };
        ArmSummary {
            name: name.to_string(),
            payments: self.payments,
            succeeded: self.succeeded,
            success_rate: self.succeeded as f64 / n,
            success_ci95: wilson_ci95(self.succeeded, self.payments),
            attempts_mean: self.attempts as f64 / n,
            ttc_ms_mean: ttc_mean,
            ttc_ms_p50: quantile(&self.ttcs, 0.5),
            ttc_ms_p90: quantile(&self.ttcs, 0.9),
            ttc_ms_p99: quantile(&self.ttcs, 0.99),
            tto_ms_mean: 0.0,
            tto_ms_p50: 0.0,
            tto_ms_p90: 0.0,
            tto_ms_p99: 0.0,
            fee_ppm_mean: if self.succeeded == 0 {
                0.0
            } else {
                self.fee_ppm_sum / ok
            },
            fees_msat: self.fees_msat,
            liquidity_seconds_mean: self.liquidity / n,
            failures: FailureReason::ALL
                .into_iter()
                .map(|r| (r.name(), self.failures.get(&r).copied().unwrap_or(0)))
                .collect(),
            parts_sent: self.parts_sent,
            parts_settled: self.parts_settled,
            overpaid_msat: self.overpaid_msat,
            overclaim_attempts: 0,
            boomerang_refunds: 0,
            boomerang_refunds_refused: 0,
            extra_messages: self.extra_messages,
            liquidity_ratio_to_mpp: None,
            succeeded_msat: self.succeeded_msat,
            throughput_sat_per_sec: 0.0,
            busy_seconds: self.busy_micros as f64 / 1e6,
            throughput_busy_sat_per_sec: (self.busy_micros > 0)
                .then(|| self.succeeded_msat as f64 / 1000.0 / (self.busy_micros as f64 / 1e6)),
            oracle: Default::default(),
            vs_baseline: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_known_values() {
        // 50/100: 0.4038 .. 0.5962 (standard tables).
        let [lo, hi] = wilson_ci95(50, 100);
        assert!(
            (lo - 0.4038).abs() < 1e-3 && (hi - 0.5962).abs() < 1e-3,
            "{lo} {hi}"
        );
        let [lo, hi] = wilson_ci95(100, 100);
        assert!(hi == 1.0 && (lo - 0.9630).abs() < 1e-3, "{lo}");
        assert_eq!(wilson_ci95(0, 0), [0.0, 1.0]);
    }

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=100).map(|x| x as f64).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&v, 1.0), 100.0);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }

    #[test]
    fn summary_counts_everything() {
        let mut b = SummaryBuilder::default();
        let ok = |ttc: f64, fee: u64| PaymentOutcome {
            payment: 0,
            amount_msat: 1_000_000,
            succeeded: true,
            fee_msat: fee,
            attempts: 2,
            parts_sent: 1,
            parts_settled: 1,
            ttc_ms: Some(ttc),
            tto_micros: (ttc * 1000.0) as u64,
            busy_micros: (ttc * 2000.0) as u64,
            failure: None,
            liquidity_sat_seconds: 10.0,
            overpaid_msat: 0,
            extra_messages: 0,
        };
        b.add(&ok(100.0, 1000));
        b.add(&ok(300.0, 3000));
        b.add(&PaymentOutcome {
            succeeded: false,
            ttc_ms: None,
            failure: Some(FailureReason::Liquidity),
            attempts: 5,
            ..ok(0.0, 0)
        });
        let s = b.finish("arm");
        assert_eq!((s.payments, s.succeeded), (3, 2));
        assert!((s.success_rate - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.attempts_mean, 3.0);
        assert_eq!(s.ttc_ms_mean, 200.0);
        assert_eq!(s.ttc_ms_p50, 100.0);
        assert_eq!(s.fee_ppm_mean, 2000.0);
        assert_eq!(s.fees_msat, 4000);
        assert_eq!(s.failures["liquidity"], 1);
        assert_eq!(s.failures["timeout"], 0);
        assert_eq!(s.liquidity_seconds_mean, 10.0);
        assert_eq!((s.parts_sent, s.parts_settled), (3, 3));
        assert_eq!(s.overpaid_msat, 0);
        // Busy: 200 + 600 + 0 ms; settled 2 × 1,000 sat.
        assert!((s.busy_seconds - 0.8).abs() < 1e-12);
        assert_eq!(s.throughput_busy_sat_per_sec, Some(2000.0 / 0.8));
    }

    #[test]
    fn busy_throughput_needs_busy_time() {
        let s = SummaryBuilder::default().finish("none");
        assert_eq!(s.throughput_busy_sat_per_sec, None);
        assert_eq!(s.busy_seconds, 0.0);
    }
}
