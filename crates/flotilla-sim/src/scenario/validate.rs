//! [`Scenario::validate`]: the values that parse but make no sense, section by
//! section, each refused with its dotted key and why.

use flotilla_graph::amount::MAX_SAT;

use super::{limits, AmountDistribution, Scenario, ScenarioError, WorkloadKind};

impl Scenario {
    /// Checks values that parse but make no sense.
    pub fn validate(&self, file: &str) -> Result<(), ScenarioError> {
        let bad = |key: &str, why: &str| {
            Err(ScenarioError::Invalid {
                file: file.to_string(),
                key: key.to_string(),
                why: why.to_string(),
            })
        };
        let bad_owned = |key: &str, why: String| bad(key, &why);
        let above_supply = |key: &str, v: u64| {
            bad_owned(
                key,
                format!(
                    "{v} sat is more than the 21,000,000 BTC that will ever exist (at most {MAX_SAT} sat)"
                ),
            )
        };
        let w = &self.workload;
        // Also the cap on a defined (sim-ln activity) workload.
        if w.payments > limits::MAX_PAYMENTS {
            return bad_owned(
                "workload.payments",
                format!(
                    "{} is above the limit of {}",
                    w.payments,
                    limits::MAX_PAYMENTS
                ),
            );
        }
        if w.kind == WorkloadKind::Random {
            if w.payments == 0 {
                return bad(
                    "workload.payments",
                    "an empty workload: at least one payment is needed",
                );
            }
            if !(w.arrivals_per_sec.is_finite() && w.arrivals_per_sec > 0.0) {
                return bad("workload.arrivals_per_sec", "must be a positive number");
            }
        } else if w.kind == WorkloadKind::ClosedLoop {
            if let Err((key, why)) = w.closed_loop.validate(w.payments, !w.file.is_empty()) {
                return bad_owned(&key, why);
            }
            if self.network.background_per_sec > 0.0 {
                return bad(
                    "network.background_per_sec",
                    "background traffic runs for the workload's duration, which a closed-loop \
                     workload does not know in advance: set it to 0",
                );
            }
        } else if w.file.is_empty() {
            return bad(
                "workload.file",
                "the defined, csv and cloth workloads read a file: name it",
            );
        }
        if w.top_senders > 0
            && (w.kind != WorkloadKind::Random || w.demand != crate::demand::Demand::Independent)
        {
            return bad(
                "workload.top_senders",
                "top senders shape the random workload with independent demand: set \
                 workload.kind = \"random\" and workload.demand = \"independent\", or 0",
            );
        }
        if w.demand == crate::demand::Demand::Balanced {
            if w.kind != WorkloadKind::Random {
                return bad(
                    "workload.demand",
                    "balanced demand shapes the random workload: set workload.kind = \"random\"",
                );
            }
            if let Err((key, why)) = w.balanced.validate() {
                return bad_owned(&key, why);
            }
        }
        match w.amount {
            AmountDistribution::Constant { value_sat: 0 } => {
                return bad("workload.amount.value_sat", "must be at least 1 sat")
            }
            AmountDistribution::Constant { value_sat } if value_sat > MAX_SAT => {
                return above_supply("workload.amount.value_sat", value_sat)
            }
            AmountDistribution::Uniform { min_sat, max_sat }
            | AmountDistribution::LogUniform { min_sat, max_sat } => {
                if min_sat == 0 {
                    return bad("workload.amount.min_sat", "must be at least 1 sat");
                }
                if min_sat > max_sat {
                    return bad("workload.amount", "min_sat is larger than max_sat");
                }
                if max_sat > MAX_SAT {
                    let key = if min_sat > MAX_SAT {
                        "min_sat"
                    } else {
                        "max_sat"
                    };
                    let v = if min_sat > MAX_SAT { min_sat } else { max_sat };
                    return above_supply(&format!("workload.amount.{key}"), v);
                }
            }
            AmountDistribution::Lognormal { median_sat, sigma } => {
                if median_sat == 0 {
                    return bad("workload.amount.median_sat", "must be at least 1 sat");
                }
                if !(sigma.is_finite() && sigma >= 0.0) {
                    return bad("workload.amount.sigma", "must be a non-negative number");
                }
                if median_sat > MAX_SAT {
                    return above_supply("workload.amount.median_sat", median_sat);
                }
                if sigma > limits::MAX_AMOUNT_SIGMA {
                    return bad_owned(
                        "workload.amount.sigma",
                        format!("{sigma} is above the limit of {}", limits::MAX_AMOUNT_SIGMA),
                    );
                }
            }
            AmountDistribution::Quantiles(ref t) => {
                if let Err((key, why)) = t.validate() {
                    return bad_owned(&key, why);
                }
            }
            AmountDistribution::Constant { .. } => {}
        }
        let n = &self.network;
        for (key, v) in [
            ("network.offline_share", n.offline_share),
            ("network.hodl_share", n.hodl_share),
            ("network.cheating_receiver_share", n.cheating_receiver_share),
            ("network.h2tlc_support_share", n.h2tlc_support_share),
            ("network.ptlc_support_share", n.ptlc_support_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(key, "must be a share between 0 and 1");
            }
        }
        if !(n.background_per_sec.is_finite() && n.background_per_sec >= 0.0) {
            return bad(
                "network.background_per_sec",
                "must be a non-negative number",
            );
        }
        if w.kind == WorkloadKind::Random {
            // Background payments run for the workload's expected duration.
            let background = n.background_per_sec * w.payments as f64 / w.arrivals_per_sec;
            if background > limits::MAX_PAYMENTS as f64 {
                return bad_owned(
                    "network.background_per_sec",
                    format!(
                        "{} per second over the workload's {:.0} s is {background:.0} background \
                         payments, above the limit of {}",
                        n.background_per_sec,
                        w.payments as f64 / w.arrivals_per_sec,
                        limits::MAX_PAYMENTS
                    ),
                );
            }
        }
        if n.block_interval_secs == 0 {
            return bad("network.block_interval_secs", "must be at least 1 second");
        }
        if let Err(e) = n.channel.validate() {
            return bad(&format!("network.channel.{}", e.field()), &e.to_string());
        }
        for (i, o) in n.overrides.iter().enumerate() {
            if let Err(e) = o.channel.apply(n.channel).validate() {
                let key = format!("network.overrides[{i}].channel.{}", e.field());
                return bad(&key, &e.to_string());
            }
        }
        let classes = crate::latency::MessageClass::ALL
            .iter()
            .filter_map(|c| Some((*c, n.latency_by_message.get(*c)?)));
        let models = std::iter::once(("network.latency".to_string(), &n.latency))
            .chain(classes.map(|(c, m)| (format!("network.latency_by_message.{}", c.key()), m)));
        for (key, model) in models {
            if let Some((field, why)) = model.problem() {
                let key = match field {
                    "" => key,
                    f => format!("{key}.{f}"),
                };
                return bad_owned(&key, why);
            }
        }
        if n.offline_peer_timeout_ms > limits::MAX_MS {
            return bad_owned(
                "network.offline_peer_timeout_ms",
                format!(
                    "{} ms is above the limit of {} ms (an hour)",
                    n.offline_peer_timeout_ms,
                    limits::MAX_MS
                ),
            );
        }
        for (key, v) in [
            ("network.block_interval_secs", n.block_interval_secs),
            ("sender.timeout_secs", self.sender.timeout_secs),
            ("receiver.mpp_timeout_secs", self.receiver.mpp_timeout_secs),
        ] {
            if v > limits::MAX_SECS {
                return bad_owned(
                    key,
                    format!(
                        "{v} s is above the limit of {} s (a year)",
                        limits::MAX_SECS
                    ),
                );
            }
        }
        let s = &self.sender;
        if s.arms.is_empty() {
            return bad("sender.arms", "name at least one arm");
        }
        if s.arms.len() > limits::MAX_ARMS {
            return bad_owned(
                "sender.arms",
                format!(
                    "{} arms is above the limit of {}",
                    s.arms.len(),
                    limits::MAX_ARMS
                ),
            );
        }
        for (i, arm) in s.arms.iter().enumerate() {
            // Arms are keyed by name in summary.json, payments.csv and the report.
            if s.arms[..i].contains(arm) {
                return bad_owned(
                    "sender.arms",
                    format!("arm {arm:?} is named twice; each arm must be named once"),
                );
            }
            // Unknown names are reported with the list of known ones when the arms
            // are built; here only the redundancy of a known one is bounded.
            if let Ok(spec) = arm.parse::<crate::arms::ArmSpec>() {
                if let crate::arms::Strategy::Redundant {
                    redundancy: crate::arms::Redundancy::Fixed(bits),
                    ..
                } = spec.strategy
                {
                    let rho = f64::from_bits(bits);
                    if rho > limits::MAX_REDUNDANCY {
                        return bad_owned(
                            "sender.arms",
                            format!(
                                "arm {arm:?}: redundancy {rho} is above the limit of {}",
                                limits::MAX_REDUNDANCY
                            ),
                        );
                    }
                }
                if let crate::arms::Strategy::Paper(p) = spec.strategy {
                    let r = p.retries.unwrap_or(0);
                    if p.extra > limits::MAX_PARTS || r > limits::MAX_ATTEMPTS {
                        return bad_owned(
                            "sender.arms",
                            format!(
                                "arm {arm:?}: at most {} surplus parts and {} retries",
                                limits::MAX_PARTS,
                                limits::MAX_ATTEMPTS
                            ),
                        );
                    }
                }
            }
        }
        if s.timeout_secs == 0 {
            return bad("sender.timeout_secs", "must be at least 1 second");
        }
        if s.max_attempts == 0 {
            return bad("sender.max_attempts", "must be at least 1");
        }
        if s.max_parts == 0 {
            return bad("sender.max_parts", "must be at least 1");
        }
        for (key, v) in [
            ("sender.max_parts", s.max_parts),
            ("sender.redundant_base_parts", s.redundant_base_parts),
        ] {
            if v > limits::MAX_PARTS {
                return bad_owned(
                    key,
                    format!("{v} is above the limit of {}", limits::MAX_PARTS),
                );
            }
        }
        if s.max_attempts > limits::MAX_ATTEMPTS {
            return bad_owned(
                "sender.max_attempts",
                format!(
                    "{} is above the limit of {}",
                    s.max_attempts,
                    limits::MAX_ATTEMPTS
                ),
            );
        }
        if s.warmup_payments > limits::MAX_PAYMENTS {
            return bad_owned(
                "sender.warmup_payments",
                format!(
                    "{} is above the limit of {}",
                    s.warmup_payments,
                    limits::MAX_PAYMENTS
                ),
            );
        }
        if s.fee_limit_ppm > limits::MAX_FEE_LIMIT_PPM {
            return bad_owned(
                "sender.fee_limit_ppm",
                format!(
                    "{} is above the limit of {} (a fee as large as the amount)",
                    s.fee_limit_ppm,
                    limits::MAX_FEE_LIMIT_PPM
                ),
            );
        }
        for (key, v) in [
            ("sender.fee_limit_base_sat", s.fee_limit_base_sat),
            ("sender.min_part_sat", s.min_part_sat),
            ("sender.redundant_part_sat", s.redundant_part_sat),
        ] {
            if v > MAX_SAT {
                return above_supply(key, v);
            }
        }
        if !(0.0..=1.0).contains(&s.min_route_probability) {
            return bad(
                "sender.min_route_probability",
                "must be a probability between 0 and 1",
            );
        }
        if s.redundant_part_sat == 0 {
            return bad("sender.redundant_part_sat", "must be at least 1 sat");
        }
        if !(s.adaptive_target > 0.0 && s.adaptive_target < 1.0) {
            return bad(
                "sender.adaptive_target",
                "must be a probability strictly between 0 and 1",
            );
        }
        if self.receiver.mpp_timeout_secs == 0 {
            return bad("receiver.mpp_timeout_secs", "must be at least 1 second");
        }
        crate::field::validate(self, file)
    }
}
