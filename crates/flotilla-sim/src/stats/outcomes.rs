//! Each arm's per-payment outcomes, kept for the paired comparisons at the end of a
//! run: 16 bytes per payment per arm (a million payments × 3 arms: 48 MB).

use crate::metrics::{quantile, PaymentOutcome};

/// The high bit of [`Row::tto`]: the payment settled.
const SETTLED: u64 = 1 << 63;
/// A slot no payment has filled yet.
const MISSING: u64 = u64::MAX;

#[derive(Clone, Copy, Debug)]
struct Row {
    /// Time to outcome in virtual microseconds, [`SETTLED`] set for a settled payment.
    tto: u64,
    /// Fee, ppm of the amount (settled payments; 0 otherwise).
    fee_ppm: f32,
    /// Liquidity-seconds (sat × s).
    liquidity: f32,
}

/// One arm's outcomes, indexed by the payment's place in the workload (rows finish in
/// completion order; the index pairs them across arms).
#[derive(Clone, Debug, Default)]
pub struct ArmOutcomes {
    rows: Vec<Row>,
}

/// One payment as the statistics see it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// It fully settled.
    pub settled: bool,
    /// Time to outcome, ms: first send to the sender knowing, settled or failed.
    pub tto_ms: f64,
    /// Fee, ppm of the amount (0 unless settled).
    pub fee_ppm: f64,
    /// Liquidity-seconds, sat × s.
    pub liquidity: f64,
}

impl ArmOutcomes {
    /// Room for `payments` payments.
    pub fn new(payments: usize) -> Self {
        ArmOutcomes {
            rows: vec![
                Row {
                    tto: MISSING,
                    fee_ppm: 0.0,
                    liquidity: 0.0,
                };
                payments
            ],
        }
    }

    /// Records one finished payment. `tto_micros` is its time to outcome.
    pub fn record(&mut self, o: &PaymentOutcome) {
        let i = o.payment as usize;
        if i >= self.rows.len() {
            self.rows.resize(
                i + 1,
                Row {
                    tto: MISSING,
                    fee_ppm: 0.0,
                    liquidity: 0.0,
                },
            );
        }
        let tto = o.tto_micros.min(SETTLED - 1) | if o.succeeded { SETTLED } else { 0 };
        self.rows[i] = Row {
            tto,
            fee_ppm: if o.succeeded { o.fee_ppm() as f32 } else { 0.0 },
            liquidity: o.liquidity_sat_seconds as f32,
        };
    }

    /// Payments recorded (slots, whether filled or not).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no slots.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Payment `i`, if it finished.
    pub fn get(&self, i: usize) -> Option<Outcome> {
        let r = self.rows.get(i)?;
        (r.tto != MISSING).then(|| Outcome {
            settled: r.tto & SETTLED != 0,
            tto_ms: (r.tto & !SETTLED) as f64 / 1000.0,
            fee_ppm: r.fee_ppm as f64,
            liquidity: r.liquidity as f64,
        })
    }

    /// Every payment's time to outcome, ascending, ms.
    pub fn sorted_tto_ms(&self) -> Vec<f64> {
        let mut v: Vec<f64> = (0..self.rows.len())
            .filter_map(|i| self.get(i))
            .map(|o| o.tto_ms)
            .collect();
        v.sort_by(f64::total_cmp);
        v
    }

    /// Mean, median, 90th and 99th percentile of the time to outcome, ms (nearest rank,
    /// as every percentile of the summary).
    pub fn tto_summary(&self) -> [f64; 4] {
        let v = self.sorted_tto_ms();
        let mean = if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        };
        [
            mean,
            quantile(&v, 0.5),
            quantile(&v, 0.9),
            quantile(&v, 0.99),
        ]
    }
}
