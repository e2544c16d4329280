//! The oracle's answers for one arm, and the figures `summary.json` reports from them
//! and the arm's outcomes.

use serde::Serialize;

use super::Answer;
use crate::metrics::quantile;
use crate::stats::ArmOutcomes;

/// One arm's oracle figures in `summary.json` (flattened into the arm's object); every
/// one `null` when the oracle is off.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OracleFields {
    /// Payments a flow of the amount existed for, at their start in this arm's network.
    pub feasible_payments: Option<u64>,
    /// `feasible_payments / payments`.
    pub feasible_share: Option<f64>,
    /// Settled payments among the feasible ones, over the feasible ones; `null` when none
    /// was feasible.
    pub success_rate_feasible: Option<f64>,
    /// Payments that settled although no flow existed at their start (liquidity freed
    /// by other payments meanwhile).
    pub succeeded_infeasible: Option<u64>,
    /// The oracle's mean TTC over the payments this arm settled that were feasible, ms.
    pub oracle_ttc_ms_mean: Option<f64>,
    /// Over the same payments, this arm's mean TTC over the oracle's: 1 is as fast as
    /// any sender could be; `null` without such payments.
    pub ttc_mean_vs_oracle: Option<f64>,
    /// Over the same payments, this arm's 99th-percentile TTC over the oracle's
    /// (nearest rank, each of its own distribution).
    pub ttc_p99_vs_oracle: Option<f64>,
}

/// The oracle's answer per payment of the workload, indexed like the workload.
#[derive(Clone, Debug, Default)]
pub struct OracleTally {
    /// `None` until the payment started.
    answers: Vec<Option<Answer>>,
}

impl OracleTally {
    /// Room for `payments` payments.
    pub fn new(payments: usize) -> Self {
        OracleTally {
            answers: vec![None; payments],
        }
    }

    /// Records payment `i`'s answer.
    pub fn record(&mut self, i: usize, a: Answer) {
        if i >= self.answers.len() {
            self.answers.resize(i + 1, None);
        }
        self.answers[i] = Some(a);
    }

    /// Payment `i`'s answer, if it started.
    pub fn get(&self, i: usize) -> Option<Answer> {
        self.answers.get(i).copied().flatten()
    }

    /// Payments recorded (slots).
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    /// Whether there are no slots.
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    /// The figures for the arm whose per-payment outcomes are `outcomes`.
    pub fn fields(&self, outcomes: &ArmOutcomes) -> OracleFields {
        let n = outcomes.len().max(self.answers.len());
        let mut payments = 0u64;
        let mut feasible = 0u64;
        let mut feasible_settled = 0u64;
        let mut settled_infeasible = 0u64;
        let mut arm_ttc: Vec<f64> = Vec::new();
        let mut oracle_ttc: Vec<f64> = Vec::new();
        for i in 0..n {
            let Some(o) = outcomes.get(i) else { continue };
            payments += 1;
            let a = self.get(i);
            let is_feasible = a.is_some_and(|a| a.feasible);
            feasible += is_feasible as u64;
            if !o.settled {
                continue;
            }
            if !is_feasible {
                settled_infeasible += 1;
                continue;
            }
            feasible_settled += 1;
            if let Some(t) = a.and_then(|a| a.ttc_micros) {
                arm_ttc.push(o.tto_ms);
                oracle_ttc.push(t as f64 / 1000.0);
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
        let (oracle_mean, mean_ratio, p99_ratio) = if arm_ttc.is_empty() {
            (None, None, None)
        } else {
            let om = mean(&oracle_ttc);
            let mean_ratio = ratio(mean(&arm_ttc), om);
            arm_ttc.sort_by(f64::total_cmp);
            oracle_ttc.sort_by(f64::total_cmp);
            let p99 = ratio(quantile(&arm_ttc, 0.99), quantile(&oracle_ttc, 0.99));
            (Some(om), mean_ratio, p99)
        };
        OracleFields {
            feasible_payments: Some(feasible),
            feasible_share: Some(if payments == 0 {
                0.0
            } else {
                feasible as f64 / payments as f64
            }),
            success_rate_feasible: (feasible > 0)
                .then(|| feasible_settled as f64 / feasible as f64),
            succeeded_infeasible: Some(settled_infeasible),
            oracle_ttc_ms_mean: oracle_mean,
            ttc_mean_vs_oracle: mean_ratio,
            ttc_p99_vs_oracle: p99_ratio,
        }
    }
}

/// The share of the workload's `payments` feasible in at least one of the arms'
/// networks: 1 − the share no strategy could deliver. `None` without tallies.
pub fn feasible_in_any(tallies: &[&OracleTally], payments: usize) -> Option<f64> {
    if tallies.is_empty() {
        return None;
    }
    if payments == 0 {
        return Some(0.0);
    }
    let any = (0..payments)
        .filter(|&i| tallies.iter().any(|t| t.get(i).is_some_and(|a| a.feasible)))
        .count();
    Some(any as f64 / payments as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::PaymentOutcome;

    fn outcome(i: u64, settled: bool, ttc_ms: f64) -> PaymentOutcome {
        PaymentOutcome {
            payment: i,
            amount_msat: 1_000_000,
            succeeded: settled,
            fee_msat: 0,
            attempts: 1,
            parts_sent: 1,
            parts_settled: settled as u32,
            ttc_ms: settled.then_some(ttc_ms),
            tto_micros: (ttc_ms * 1000.0) as u64,
            busy_micros: (ttc_ms * 1000.0) as u64,
            failure: (!settled).then_some(crate::metrics::FailureReason::Liquidity),
            liquidity_sat_seconds: 0.0,
            overpaid_msat: 0,
            extra_messages: 0,
        }
    }

    fn feasible(ttc_ms: u64) -> Answer {
        Answer {
            feasible: true,
            ttc_micros: Some(ttc_ms * 1000),
            hops: Some(1),
        }
    }

    const INFEASIBLE: Answer = Answer {
        feasible: false,
        ttc_micros: None,
        hops: None,
    };

    #[test]
    fn figures_from_answers_and_outcomes() {
        // 0: feasible, settled in 300 ms (oracle 200); 1: feasible, settled in 900 ms
        // (oracle 300); 2: feasible, failed; 3: infeasible, settled anyway; 4:
        // infeasible, failed.
        let mut t = OracleTally::new(5);
        let mut o = ArmOutcomes::new(5);
        for (i, a, settled, ttc) in [
            (0, feasible(200), true, 300.0),
            (1, feasible(300), true, 900.0),
            (2, feasible(100), false, 0.0),
            (3, INFEASIBLE, true, 400.0),
            (4, INFEASIBLE, false, 0.0),
        ] {
            t.record(i, a);
            o.record(&outcome(i as u64, settled, ttc));
        }
        let f = t.fields(&o);
        assert_eq!(f.feasible_payments, Some(3));
        assert_eq!(f.feasible_share, Some(0.6));
        assert_eq!(f.success_rate_feasible, Some(2.0 / 3.0));
        assert_eq!(f.succeeded_infeasible, Some(1));
        assert_eq!(f.oracle_ttc_ms_mean, Some(250.0));
        // (300 + 900) / 2 over (200 + 300) / 2.
        assert_eq!(f.ttc_mean_vs_oracle, Some(600.0 / 250.0));
        // Nearest-rank p99 of two values is the larger: 900 / 300.
        assert_eq!(f.ttc_p99_vs_oracle, Some(3.0));
    }

    #[test]
    fn nothing_feasible_gives_nulls_not_nans() {
        let mut t = OracleTally::new(2);
        let mut o = ArmOutcomes::new(2);
        for i in 0..2 {
            t.record(i, INFEASIBLE);
            o.record(&outcome(i as u64, false, 0.0));
        }
        let f = t.fields(&o);
        assert_eq!(f.feasible_share, Some(0.0));
        assert_eq!(f.success_rate_feasible, None);
        assert_eq!(f.ttc_mean_vs_oracle, None);
        assert_eq!(f.ttc_p99_vs_oracle, None);
    }

    #[test]
    fn feasible_in_any_arm() {
        let mut a = OracleTally::new(3);
        let mut b = OracleTally::new(3);
        a.record(0, feasible(1));
        b.record(0, INFEASIBLE);
        a.record(1, INFEASIBLE);
        b.record(1, feasible(1));
        a.record(2, INFEASIBLE);
        b.record(2, INFEASIBLE);
        assert_eq!(feasible_in_any(&[&a, &b], 3), Some(2.0 / 3.0));
        assert_eq!(feasible_in_any(&[&a], 3), Some(1.0 / 3.0));
        assert_eq!(feasible_in_any(&[], 3), None);
    }
}
