//! `[workload]`: which payments, and how their amounts are drawn.

use serde::{Deserialize, Serialize};

/// What kind of workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkloadKind {
    /// Poisson arrivals, random senders and capacity-weighted receivers.
    Random,
    /// sim-ln `activity` entries.
    Defined,
    /// A CSV payment list.
    Csv,
    /// CLoTH's payments file.
    Cloth,
    /// Senders that each start their next payment when an earlier one has finished
    /// (`[workload.closed_loop]`).
    #[serde(rename = "closed_loop", alias = "closed-loop")]
    ClosedLoop,
}

/// `[workload]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkloadConfig {
    /// The kind.
    pub kind: WorkloadKind,
    /// Payments (random kind).
    pub payments: u64,
    /// Mean arrivals per second (random kind).
    pub arrivals_per_sec: f64,
    /// File (defined, csv, cloth kinds).
    pub file: String,
    /// Amounts (random and closed-loop kinds).
    pub amount: AmountDistribution,
    /// How a random workload's payments relate: independent or balanced cycles.
    pub demand: crate::demand::Demand,
    /// The cycles of a balanced demand.
    pub balanced: crate::demand::BalancedConfig,
    /// The closed-loop kind's senders.
    pub closed_loop: crate::closed_loop::ClosedLoopConfig,
    /// Random kind: senders only from this many best-connected nodes (0: all).
    pub top_senders: u32,
    /// What "best-connected" means for `top_senders`.
    pub top_senders_by: crate::workload::TopBy,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            kind: WorkloadKind::Random,
            payments: 10_000,
            arrivals_per_sec: 10.0,
            file: String::new(),
            amount: AmountDistribution::LogUniform {
                min_sat: 1_000,
                max_sat: 2_000_000,
            },
            demand: crate::demand::Demand::Independent,
            balanced: Default::default(),
            closed_loop: Default::default(),
            top_senders: 0,
            top_senders_by: crate::workload::TopBy::Capacity,
        }
    }
}

/// How payment amounts are drawn, in sat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "distribution", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AmountDistribution {
    /// Always the same amount.
    Constant {
        /// The amount, sat.
        value_sat: u64,
    },
    /// Uniform in `[min_sat, max_sat]`.
    Uniform {
        /// Smallest, sat.
        min_sat: u64,
        /// Largest, sat.
        max_sat: u64,
    },
    /// Log-uniform in `[min_sat, max_sat]`: every order of magnitude equally likely.
    LogUniform {
        /// Smallest, sat.
        min_sat: u64,
        /// Largest, sat.
        max_sat: u64,
    },
    /// Lognormal with the given median and shape.
    Lognormal {
        /// Median, sat.
        median_sat: u64,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
    /// Piecewise log-linear between given quantiles, or a named table.
    Quantiles(crate::quantiles::QuantileTable),
}
