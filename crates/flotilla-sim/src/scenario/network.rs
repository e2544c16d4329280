//! `[network]`: onions, commitments, latency (per message class too), faults,
//! background traffic, channel parameters and policy overrides.

use serde::{Deserialize, Serialize};

use super::limits;

/// `[network]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    /// Onion mode.
    pub onion: OnionMode,
    /// How updates are locked in.
    pub commitment: CommitmentMode,
    /// Share of offline nodes.
    pub offline_share: f64,
    /// How long a forwarder tries to reach an offline peer before failing, ms.
    pub offline_peer_timeout_ms: u64,
    /// Share of forwarding nodes that hold HTLCs until expiry.
    pub hodl_share: f64,
    /// Share of nodes whose receiver claims every redundant part it holds.
    pub cheating_receiver_share: f64,
    /// Virtual seconds per block.
    pub block_interval_secs: u64,
    /// Unreported background payments per second.
    pub background_per_sec: f64,
    /// Share of nodes that forward h2tlc HTLCs.
    pub h2tlc_support_share: f64,
    /// Share of nodes that forward point-locked HTLCs.
    pub ptlc_support_share: f64,
    /// Per-hop latency.
    pub latency: LatencyModel,
    /// Per-hop latency of particular message classes, where it differs from `latency`.
    #[serde(skip_serializing_if = "MessageLatencies::is_empty")]
    pub latency_by_message: MessageLatencies,
    /// Per-node policy overrides.
    pub overrides: Vec<PolicyOverrideConfig>,
    /// Every node's channel parameters (`[network.channel]`).
    pub channel: flotilla_ln::config::ChannelParams,
}

/// `[[network.overrides]]`: fields of every policy one node announces, replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyOverrideConfig {
    /// Alias or public key.
    pub node: String,
    /// New base fee, msat.
    #[serde(default)]
    pub fee_base_msat: Option<u32>,
    /// New proportional fee, ppm.
    #[serde(default)]
    pub fee_rate_ppm: Option<u32>,
    /// New CLTV delta, blocks.
    #[serde(default)]
    pub cltv_expiry_delta: Option<u16>,
    /// New minimum HTLC, msat.
    #[serde(default)]
    pub htlc_minimum_msat: Option<u64>,
    /// This node's channel parameters, where they differ from `[network.channel]`.
    #[serde(
        default,
        skip_serializing_if = "flotilla_ln::config::ChannelParamsOverride::is_empty"
    )]
    pub channel: flotilla_ln::config::ChannelParamsOverride,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            onion: OnionMode::Modeled,
            commitment: CommitmentMode::Collapsed,
            offline_share: 0.0,
            offline_peer_timeout_ms: 3000,
            hodl_share: 0.0,
            cheating_receiver_share: 0.0,
            block_interval_secs: 600,
            background_per_sec: 0.0,
            h2tlc_support_share: 1.0,
            ptlc_support_share: 1.0,
            latency: LatencyModel::Uniform {
                min_ms: 50,
                max_ms: 150,
            },
            latency_by_message: MessageLatencies::default(),
            overrides: Vec::new(),
            channel: Default::default(),
        }
    }
}

/// How updates are locked in (`network.commitment`; see
/// [`flotilla_ln::node::CommitMode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommitmentMode {
    /// One message per update.
    Collapsed,
    /// `commitment_signed` / `revoke_and_ack`, batched.
    Full,
}

/// Onion mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnionMode {
    /// Each hop gets its payload as a struct.
    Modeled,
    /// BOLT 4 Sphinx packets.
    Real,
}

/// Per-hop message latency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LatencyModel {
    /// Always the same.
    Constant {
        /// Milliseconds.
        ms: u64,
    },
    /// Uniform in `[min_ms, max_ms]`.
    Uniform {
        /// Smallest, ms.
        min_ms: u64,
        /// Largest, ms.
        max_ms: u64,
    },
    /// Lognormal with the given median and shape.
    Lognormal {
        /// Median, ms.
        median_ms: u64,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
    /// No delay at all (the Boomerang paper's instant messages); draws nothing.
    Zero,
}

impl LatencyModel {
    /// What is wrong with this model, if anything: the offending key's suffix (after
    /// the model's own key) and why.
    pub(super) fn problem(&self) -> Option<(&'static str, String)> {
        let (key, ms) = match *self {
            LatencyModel::Constant { ms } => ("ms", ms),
            LatencyModel::Uniform { max_ms, .. } => ("max_ms", max_ms),
            LatencyModel::Lognormal { median_ms, .. } => ("median_ms", median_ms),
            LatencyModel::Zero => ("", 0),
        };
        if ms > limits::MAX_MS {
            let why = format!(
                "{ms} ms is above the limit of {} ms (an hour)",
                limits::MAX_MS
            );
            return Some((key, why));
        }
        match *self {
            LatencyModel::Lognormal { sigma, .. } if sigma > limits::MAX_AMOUNT_SIGMA => Some((
                "sigma",
                format!("{sigma} is above the limit of {}", limits::MAX_AMOUNT_SIGMA),
            )),
            LatencyModel::Uniform { min_ms, max_ms } if min_ms > max_ms => {
                Some(("", "min_ms is larger than max_ms".into()))
            }
            LatencyModel::Lognormal { sigma, .. } if !(sigma.is_finite() && sigma >= 0.0) => {
                Some(("sigma", "must be a non-negative number".into()))
            }
            _ => None,
        }
    }
}

/// `[network.latency_by_message]`: a latency model per message class
/// ([`crate::latency::MessageClass`]); a class left out uses `network.latency`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessageLatencies {
    /// `update_add_htlc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add: Option<LatencyModel>,
    /// `update_fail_htlc` and `update_fail_malformed_htlc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail: Option<LatencyModel>,
    /// `update_fulfill_htlc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fulfill: Option<LatencyModel>,
    /// A redundant payment's claim request (receiver to sender, per hop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_request: Option<LatencyModel>,
    /// The sender's reveal of part secrets (per hop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reveal: Option<LatencyModel>,
    /// The sender's cancel of held parts (per hop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel: Option<LatencyModel>,
    /// `commitment_signed` and `revoke_and_ack` (full commitment mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commitment: Option<LatencyModel>,
    /// `cancel_htlc`, the sender's cancel of a surplus part (per hop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_htlc: Option<LatencyModel>,
}

impl MessageLatencies {
    /// The model set for class `c`, if any.
    pub fn get(&self, c: crate::latency::MessageClass) -> Option<&LatencyModel> {
        use crate::latency::MessageClass as C;
        match c {
            C::Add => self.add.as_ref(),
            C::Fail => self.fail.as_ref(),
            C::Fulfill => self.fulfill.as_ref(),
            C::ClaimRequest => self.claim_request.as_ref(),
            C::Reveal => self.reveal.as_ref(),
            C::Cancel => self.cancel.as_ref(),
            C::Commitment => self.commitment.as_ref(),
            C::CancelHtlc => self.cancel_htlc.as_ref(),
        }
    }

    /// No class set: every message uses `network.latency`.
    pub fn is_empty(&self) -> bool {
        crate::latency::MessageClass::ALL
            .iter()
            .all(|c| self.get(*c).is_none())
    }
}
