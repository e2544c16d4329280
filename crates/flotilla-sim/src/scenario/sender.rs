//! `[sender]`: the arms, the baseline, and the senders' limits and strategies.

use serde::{Deserialize, Serialize};

/// `[sender]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SenderConfig {
    /// Arm names.
    pub arms: Vec<String>,
    /// The arm the others are compared with; empty: the first MPP arm.
    pub baseline: String,
    /// Payment timeout, seconds.
    pub timeout_secs: u64,
    /// Most paths tried per payment.
    pub max_attempts: u32,
    /// Proportional fee limit, ppm of the amount.
    pub fee_limit_ppm: u64,
    /// Fixed fee limit, sat.
    pub fee_limit_base_sat: u64,
    /// Most parts of an MPP payment.
    pub max_parts: u32,
    /// Smallest part, sat.
    pub min_part_sat: u64,
    /// The receivers' final CLTV delta, blocks.
    pub final_cltv_delta: u32,
    /// Routes estimated below this success probability are not tried.
    pub min_route_probability: f64,
    /// Unreported payments that warm each arm's beliefs before the workload.
    pub warmup_payments: u64,
    /// Largest base part of a redundant payment, sat.
    pub redundant_part_sat: u64,
    /// Exactly this many base parts for redundant payments, if above 0.
    pub redundant_base_parts: u32,
    /// The probability adaptive arms aim for.
    pub adaptive_target: f64,
    /// Whether redundant senders stop their surplus parts once the payment is complete
    /// (docs/cancel.md).
    #[serde(skip_serializing_if = "CancelSurplus::is_off")]
    pub cancel_surplus: CancelSurplus,
}

/// `sender.cancel_surplus`: what a redundant sender does with the parts still travelling
/// when its payment is complete (docs/cancel.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CancelSurplus {
    /// Nothing: they reach the receiver, are refused and fail back.
    #[default]
    Off,
    /// A `cancel_htlc` follows each along its path, hop by hop, with the
    /// `cancel_htlc` class's latency, and stops it at the first hop it reaches first.
    Path,
    /// The same message, instant: it overtakes every part and stops it within one hop
    /// (the Boomerang paper's abort).
    Instant,
}

impl CancelSurplus {
    /// The default: no cancel.
    pub fn is_off(&self) -> bool {
        *self == CancelSurplus::Off
    }
}

impl Default for SenderConfig {
    fn default() -> Self {
        SenderConfig {
            arms: vec![
                "single-path-retry".into(),
                "mpp-retry".into(),
                "redundant-h2tlc-split-1-hedge-retry".into(),
            ],
            baseline: String::new(),
            timeout_secs: 60,
            max_attempts: 50,
            fee_limit_ppm: 10_000,
            fee_limit_base_sat: 50,
            max_parts: 16,
            min_part_sat: 10_000,
            final_cltv_delta: 40,
            min_route_probability: 0.01,
            warmup_payments: 0,
            redundant_part_sat: 100_000,
            redundant_base_parts: 0,
            adaptive_target: 0.95,
            cancel_surplus: CancelSurplus::Off,
        }
    }
}

impl SenderConfig {
    /// The fee limit for a payment of `amount_msat`, msat.
    pub fn fee_limit_msat(&self, amount_msat: u64) -> u64 {
        (amount_msat as u128 * self.fee_limit_ppm as u128 / 1_000_000) as u64
            + self.fee_limit_base_sat * 1000
    }
}
