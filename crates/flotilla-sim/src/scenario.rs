//! The scenario: everything a run needs to be reproduced, as TOML.
//!
//! Every field has a default, so an empty file (or no file) is a meaningful
//! experiment. [`DEFAULT_SCENARIO`] is the default scenario written out with a comment
//! on every field; a test proves it parses to exactly [`Scenario::default`], so the
//! documentation cannot drift from the code. Unknown keys are errors that name the key
//! and the line: a typo must never silently run a different experiment.
//!
//! The `[workload]`, `[network]` and `[sender]` sections are in `scenario/`, one file
//! each, with `validate.rs`, the checks of values that parse but make no sense.

use serde::{Deserialize, Serialize};

mod network;
mod sender;
mod validate;
mod workload;

pub use network::{
    CommitmentMode, LatencyModel, MessageLatencies, NetworkConfig, OnionMode, PolicyOverrideConfig,
};
pub use sender::{CancelSurplus, SenderConfig};
pub use workload::{AmountDistribution, WorkloadConfig, WorkloadKind};

/// Bounds on the counts a scenario sets, checked by [`Scenario::validate`] so that an
/// absurd value is refused with the limit in the message instead of exhausting memory.
pub mod limits {
    /// Most measured payments (`workload.payments`), warm-up payments
    /// (`sender.warmup_payments`) and background payments (their rate times the
    /// workload's duration): ten times the soak scenario; memory grows with each.
    pub const MAX_PAYMENTS: u64 = 10_000_000;
    /// Most arms (`sender.arms`); each runs on its own copy of the network.
    pub const MAX_ARMS: usize = 64;
    /// Most parts of a payment (`sender.max_parts`, `sender.redundant_base_parts`).
    pub const MAX_PARTS: u32 = 1_000;
    /// Largest redundancy ρ in a `redundant-LOCK-ρ` arm name (n = ⌈k·(1+ρ)⌉ parts).
    pub const MAX_REDUNDANCY: f64 = 100.0;
    /// Most paths tried per payment (`sender.max_attempts`).
    pub const MAX_ATTEMPTS: u32 = 100_000;
    /// Largest proportional fee limit (`sender.fee_limit_ppm`): the whole amount.
    pub const MAX_FEE_LIMIT_PPM: u64 = 1_000_000;
    /// Largest `sigma` of a lognormal distribution (amounts, latency): e^(4σ) already
    /// spans seventeen orders of magnitude at σ = 10.
    pub const MAX_AMOUNT_SIGMA: f64 = 10.0;
    /// Longest duration a scenario sets in seconds (timeouts, the block interval): a
    /// year. Virtual time counts microseconds in a `u64`, which this keeps far away.
    pub const MAX_SECS: u64 = 365 * 86_400;
    /// Longest latency or connect timeout a scenario sets in milliseconds: an hour.
    pub const MAX_MS: u64 = 3_600_000;
}

/// The default scenario, every field commented. `flotilla sim --print-default-scenario`
/// prints it.
pub const DEFAULT_SCENARIO: &str = r#"# flotilla scenario. Every field is optional; the values shown are the defaults.

# Name shown in reports.
name = "default"
# A named model to start from (every key this scenario gives wins): "cloth", CLoTH's
# model (no reserve, 100 ms per hop, give up after 60 s, lnd's a-priori router, no fee
# limit; docs/fidelity.md). Empty: none.
preset = ""
# Seed of every random stream (liquidity, workload, latency, faults). Same scenario and
# seed: byte-identical payments.csv and summary.json, whatever the thread count.
seed = 1

[graph]
# Graph file: lnd describegraph, CLN listchannels, sim-ln sim.json or CLoTH CSV
# (gzip or not). Empty: the bundled 2026 mainnet snapshot.
file = ""
# Hidden liquidity (no public data has balances): "uniform" (the nodes[0] side holds
# an amount uniform in [0, capacity]), "half", "bimodal" (lnd's, scale 300,000 sat),
# "bimodal:SCALE_MSAT", "bimodal:P%" (scale as a share of capacity), or "file" (the
# balances of a CLoTH graph).
liquidity = "uniform"

[workload]
# "random": Poisson arrivals, senders uniform over the largest strongly connected
# component, receivers drawn from it weighted by capacity (as sim-ln does).
# "defined": sim-ln activity entries from `file` (a sim.json).
# "csv": a payment list from `file` with columns time_secs,source,destination,amount_msat.
# "cloth": CLoTH's payments file (id,sender_id,receiver_id,amount,start_time).
# "closed_loop": senders that each start their next payment only when an earlier one
# has finished (succeeded or failed), as in the Boomerang paper; see
# [workload.closed_loop]. Amounts from [workload.amount]; receivers drawn as in the
# random kind. Payments keep their workload index; payments.csv's dispatch_time is the
# moment each arm actually started the payment.
kind = "random"
# Payments to simulate (random workload), at most 10,000,000 (as for warmup_payments
# and the background payments over the workload's duration).
payments = 10000
# Mean payment arrivals per second over the whole network (random workload).
arrivals_per_sec = 10.0
# File for the defined, csv and cloth kinds; for closed_loop, optional: the senders'
# sequences as a CSV with columns source,destination,amount_msat (each sender's rows in
# file order), instead of drawn ones.
file = ""
# Random kind: "independent" (each payment drawn on its own: over long runs liquidity
# drains toward the receivers) or "balanced" (stationary: payments come in cycles
# n0 -> n1 -> ... -> n0 of one amount, so every node receives what it sends; see
# [workload.balanced]; docs/workloads.md has both workloads over 100,000 payments).
demand = "independent"
# Random kind, independent demand: draw senders only from the top_senders nodes of the
# largest strongly connected component by total channel capacity ("capacity") or by
# channel count ("channels"), ties to the earlier node; 0 (the default) draws them from
# the whole component. Receivers are drawn as always.
top_senders = 0
top_senders_by = "capacity"

[workload.balanced]
# Cycle lengths are uniform in [2, max_cycle] (at most 64); `window` cycles are open at
# once, each arrival advancing one of them by a leg (at most 1,000,000).
max_cycle = 4
window = 100

[workload.closed_loop]
# Senders drawn uniformly from the largest strongly connected component (when `nodes`
# is empty and no file is given), each with payments_per_sender payments (0:
# workload.payments spread evenly over them).
senders = 100
payments_per_sender = 0
# Payments a sender keeps in flight (at most 10,000): it starts the next one when one
# finishes, after a pause of think_ms (at most an hour), "constant" or "exponential"
# (that mean). The Boomerang paper: 100 senders x 500 payments, concurrency 1, no pause.
concurrency = 1
think_ms = 0
think = "constant"
# Given senders instead, each optionally with its own count and concurrency:
#   nodes = [{ node = "ACINQ", payments = 200, concurrency = 4 }, { node = "02ab..." }]
nodes = []
# Drawn receivers: "capacity" (weighted by their channels' capacity, as the random
# kind) or "uniform" (every node of the component alike, as the Boomerang paper).
receivers = "capacity"

[workload.amount]
# "constant" (value_sat), "uniform" (min_sat, max_sat), "log-uniform" (min_sat,
# max_sat), "lognormal" (median_sat, sigma <= 10) or "quantiles": piecewise log-linear
# between (quantile, amount) points, either `preset = "ripple"` (the Boomerang paper's
# Ripple-trace quantiles at 1 unit = 1,000 sat: p10 150 sat ... p99 19,200,000 sat) or
# `points = [{ q = 0.1, sat = 150 }, { q = 0.5, sat = 3000 }, ...]` (quantiles
# increasing, amounts non-decreasing); `scale = 1.0` multiplies every amount; beyond
# the outermost points `tails = "extrapolate"` continues the nearest segment to q = 0
# and q = 1, "clamp" repeats the outermost amount. The default spans 1,000 to
# 2,000,000 sat, so that MPP matters. No amount may exceed 21,000,000 BTC
# (2,100,000,000,000,000 sat); lognormal and quantile draws are capped there.
distribution = "log-uniform"
min_sat = 1000
max_sat = 2000000

[network]
# Onions: "modeled" (each hop gets its payload as a struct; fast) or "real" (BOLT 4
# Sphinx packets built, peeled and failure onions decoded; same outcomes).
onion = "modeled"
# How an HTLC update is locked in: "collapsed" (one message per update: a hop costs one
# message latency; fast) or "full" (BOLT 2's commitment_signed / revoke_and_ack exchange,
# batched as real nodes batch it: an add is acted on 1.5 round trips after it was sent,
# a fail relayed 1.5 round trips after it arrived, a fulfil's preimage at once; messages
# between two peers keep their order). See docs/commitment.md.
commitment = "collapsed"
# Share of nodes that are offline: a hop toward one answers unknown_next_peer, after
# trying to connect for offline_peer_timeout_ms (a TCP connect timeout; the HTLC stays
# locked meanwhile).
offline_share = 0.0
offline_peer_timeout_ms = 3000
# Share of forwarding nodes that hold every HTLC until its CLTV expiry (stuck payments).
hodl_share = 0.0
# Share of nodes that, as receivers of redundant payments, try to claim every part they
# hold (docs/commitment.md): refused under hash locks; under boomerang the k + 1st claim
# hands the sender P(0) and the refund travels back hop by hop.
cheating_receiver_share = 0.0
# Share of nodes that forward h2tlc HTLCs, and point-locked HTLCs (PTLCs, which
# boomerang parts are). Redundant arms route around the others (the feature bits).
h2tlc_support_share = 1.0
ptlc_support_share = 1.0
# Virtual seconds per block (CLTV expiries count blocks).
block_interval_secs = 600
# Background traffic: this many extra random payments per second (single path, up to 3
# attempts, the workload's amount distribution) move liquidity alongside the measured
# payments, for as long as the workload lasts, and are not reported. Every arm gets the
# same background payments.
background_per_sec = 0.0
# Per-node policy overrides ("what if this node changed its fees"), applied to the
# node's forwarding checks and to the graph every router sees. None by default. E.g. a
# zero-fee routing hub:
#   [[network.overrides]]
#   node = "ACINQ"          # alias or public key
#   fee_base_msat = 0
#   fee_rate_ppm = 0
#   # also: cltv_expiry_delta, htlc_minimum_msat, and this node's own channel
#   # parameters (any of [network.channel]'s keys), e.g.
#   channel = { channel_reserve_ppm = 0 }

[network.channel]
# The channel parameters BOLT 2 leaves to each node (open_channel/accept_channel), the
# same for every node unless [[network.overrides]] sets them for one. All but the dust
# exposure cap bind the peer that offers the node HTLCs.
# Most HTLCs a peer may have offered at once per channel (BOLT 2: 1 to 483).
max_accepted_htlcs = 483
# Reserve a peer must keep on its side, millionths of the capacity (BOLT 2 recommends
# 1%), never below the dust limit; 0: no reserve (as CLoTH).
channel_reserve_ppm = 10000
# dust_limit_satoshis (at least 354, BOLT 3's minimum): smaller HTLCs are trimmed from
# the commitment transaction.
dust_limit_sat = 354
# The smallest HTLC the node accepts; a forwarder refuses less with
# amount_below_minimum.
htlc_minimum_msat = 1
# Unset by default (no cap beyond the capacity; no dust exposure cap):
#   max_htlc_value_in_flight_msat = 500000000
#   max_dust_htlc_exposure_msat = 5000000

[network.latency]
# Per-hop message latency: "constant" (ms), "uniform" (min_ms, max_ms), "lognormal"
# (median_ms, sigma) or "zero".
model = "uniform"
min_ms = 50
max_ms = 150

# [network.latency_by_message]
# Per-hop latency of one class of messages, any model above; a class not given uses
# [network.latency] (none is given by default, and a scenario that gives none draws
# exactly what it always drew). Classes: add (update_add_htlc), fail
# (update_fail_htlc, update_fail_malformed_htlc), fulfill (update_fulfill_htlc), and a
# redundant payment's endpoint messages, drawn once per hop of the part's path they
# travel: claim_request (receiver to sender), reveal and cancel (sender to receiver);
# and commitment (commitment_signed, revoke_and_ack: network.commitment = "full" only),
# and cancel_htlc (a surplus part's cancel, per hop; sender.cancel_surplus).
# The Boomerang paper's asymmetric model (scenarios/boomerang-paper.toml,
# docs/paper-model.md):
#   add = { model = "uniform", min_ms = 50, max_ms = 150 }
#   fail = { model = "uniform", min_ms = 50, max_ms = 150 }
#   fulfill = { model = "uniform", min_ms = 50, max_ms = 150 }
#   claim_request = { model = "zero" }
#   reveal = { model = "zero" }
#   cancel = { model = "zero" }

[sender]
# Strategies to compare, each on its own copy of the network, all on the identical
# workload, liquidity and faults. Names say what they are: single-path-retry,
# mpp-retry (= mpp-retry-greedy, the LDK-like splitter), mpp-retry-mcf (min-cost flow),
# mpp-retry-halving (lnd-style), and -ldk for LDK's own
# router (single-path-retry-ldk, mpp-retry-ldk); single-path-retry-apriori is our path
# finder with lnd's a-priori model (CLoTH's router). Each arm keeps one belief state
# that learns from all of its payments, as one wallet sending every payment would; a
# sender always knows what its own channels can send now, and routes by it.
# Redundant overpayment: redundant-LOCK-R with LOCK sender_hash, h2tlc or boomerang and
# R >= 0 (e.g. redundant-h2tlc-0.5): n = ceil(k*(1+R)) equal parts of A/k, each on its
# own path; the receiver claims exactly A and the rest fail. redundant-LOCK-adaptive
# sends parts until the chance that k arrive, by the router's own estimates, reaches
# adaptive_target (and replaces lost ones). A -retry suffix (redundant-h2tlc-0.5-retry)
# replaces lost parts while the payment is undecided. At most 64 arms, each named once;
# R at most 100. A sizing between the lock and R sets the base parts:
# redundant-h2tlc-split-R (hash locks: the MPP splitter's uneven parts plus ceil(m*R)
# copies of the least likely ones; a part whose every copy is lost is split again as
# MPP does), redundant-LOCK-kK-R (K equal parts of A/K) or redundant-LOCK-Ssat-R (parts
# of S sat); docs/redundancy.md. A -hedge after R (redundant-h2tlc-split-1-hedge-retry)
# holds the surplus back until the payment is 1.5 times later than expected or short.
# The Boomerang paper's strategies (docs/paper-model.md): boomerang parts of A/v (v
# base parts as for redundant arms; the paper sets redundant_base_parts = 25) on paths drawn uniformly, with replacement, from at most 25
# edge-disjoint paths per sender and receiver, no learning, no no-route pre-check:
# paper-retry-R (v parts, a failed one replaced once its failure is back, at most R
# times), paper-redundant-E (v + E parts at once), paper-redundant-E-retry-R (v + E
# alive, at most v + R parts in all). They ignore max_attempts. A -learning suffix
# (paper-retry-25-learning) routes them with flotilla's learning path finder instead.
arms = ["single-path-retry", "mpp-retry", "redundant-h2tlc-split-1-hedge-retry"]
# The arm every other is compared with, payment by payment (summary.json's
# vs_baseline). Empty: the first mpp-retry* arm, else the first arm.
baseline = ""
# A payment that has not settled after this many seconds is given up.
timeout_secs = 60
# Most paths tried per payment (every part of every attempt counts), at most 100,000.
max_attempts = 50
# Fee limit: fee_limit_ppm of the amount (at most 1,000,000) plus fee_limit_base_sat
# (LDK: 1% + 50 sat).
fee_limit_ppm = 10000
fee_limit_base_sat = 50
# Most parts of an MPP payment (at most 1,000), and the smallest part.
max_parts = 16
min_part_sat = 10000
# Redundant arms: k = ceil(A / redundant_part_sat) base parts, at most max_parts (then
# the nearest k' <= 2k dividing A, so that parts are equal), or exactly
# redundant_base_parts (at most 1,000) if that is above 0 (the Boomerang paper's fixed v). Adaptive arms
# keep at most 3 * max_parts parts in flight.
redundant_part_sat = 100000
redundant_base_parts = 0
adaptive_target = 0.95
# Redundant arms: once a payment is complete, stop the parts still travelling
# (docs/cancel.md). "off": they reach the receiver, are refused and fail back. "path": a
# cancel_htlc follows each part hop by hop (latency class cancel_htlc) and stops it at
# the first hop it reaches before the part; a hop that forwarded it passes it on, the
# receiver fails a part it holds. "instant": the same with no delay, so it overtakes
# every part (the Boomerang paper's abort; its paper arms cancel once v parts arrived).
cancel_surplus = "off"
# CLTV delta the receivers require (the invoices' min_final_cltv_expiry_delta).
final_cltv_delta = 40
# Scorer warm-up. 0 (the default) is a cold start: every arm's beliefs start from the
# prior and learn from the measured payments only. N > 0 runs N unreported random
# payments through each arm's own router first, so its beliefs are warm when the
# measured workload begins (the workload is shifted to start after them).
warmup_payments = 0
# Routes the router itself gives less than this chance of success are not tried
# (lnd's DefaultMinRouteProbability): beliefs decay, so a channel that just failed soon
# looks barely possible again, and a sender without a floor burns attempts on it.
min_route_probability = 0.01

[receiver]
# An incomplete MPP set fails all its parts with mpp_timeout after this many seconds.
mpp_timeout_secs = 60

[oracle]
# For every payment, from the true balances at its start in each arm's network: could
# any sender deliver it (a flow of the amount within every channel's limits), and how
# soon (summary.json's feasible_share, success_rate_feasible, ttc_mean_vs_oracle,
# ttc_p99_vs_oracle; approximations in docs/results-format.md). false: those are null,
# for big sweeps that do not need them.
enabled = true

# Field scenarios (docs/field-scenarios.md): optional sections, none by default, at
# most one per scenario. Each runs every arm twice on the same workload, liquidity and
# faults (the second time with a suffix on the arm names), adds its section to
# summary.json and writes its time series as CSV and SVG charts into the results
# directory.
#
# [hub]                    # a zero-fee routing hub: the arms as they are, then
#                          # "<arm>+zero-fee-hub" with the hub's policy replaced
# node = ""                # alias or public key; "": the node with the most channels
#                          # in the largest strongly connected component
# fee_base_msat = 0        # the hub's policy on every channel in the second run
# fee_rate_ppm = 0
# sample_secs = 60         # virtual seconds between samples of the hub's balances
# depleted_share = 0.05    # a hub channel is drained one way when the hub's side holds
#                          # less than this share of its capacity (or more than 1 - it)
#
# [probing]                # forwarders that replay every HTLC's hash and amount toward
#                          # candidate recipients: receivers that enforce payment_secret,
#                          # then "<arm>+legacy-receivers" (no secret check)
# attackers = []           # aliases or public keys; []: the attacker_count nodes with
# attacker_count = 5       # the most channels in the largest strongly connected component
# onward_candidates = 8    # per forwarded HTLC: the next hop, up to this many of its
#                          # peers (largest channels first) ...
# known_receivers = 8      # ... and this many of the largest-capacity nodes
# keysend_share = 0.25     # share of the payments sent as keysend (no invoice; single-
#                          # path and MPP arms, redundant arms pay every one by invoice)
#
# [stuck]                  # stuck payments (needs network.hodl_share > 0): the arms with
#                          # the hodl nodes, then "<arm>+no-hodl" without them
# within_secs = 60         # the "finished in time" threshold
# compare_without_hodl = true   # false: skip the reference run
"#;

/// A whole scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Name shown in reports.
    pub name: String,
    /// The preset the scenario started from ([`crate::preset`]); empty: none.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub preset: String,
    /// Seed of every random stream.
    pub seed: u64,
    /// Which graph, with which hidden liquidity.
    pub graph: GraphConfig,
    /// Which payments.
    pub workload: WorkloadConfig,
    /// Latency and faults.
    pub network: NetworkConfig,
    /// Sender strategies and limits.
    pub sender: SenderConfig,
    /// Receiver settings.
    pub receiver: ReceiverConfig,
    /// The oracle: what any sender could have done.
    pub oracle: crate::oracle::OracleConfig,
    /// A zero-fee routing hub, against the same run without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hub: Option<crate::field::HubConfig>,
    /// Forwarders that replay HTLCs to find their recipients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probing: Option<crate::field::ProbingConfig>,
    /// Stuck payments: the arms with and without the hodl nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stuck: Option<crate::field::StuckConfig>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            name: "default".into(),
            preset: String::new(),
            seed: 1,
            graph: GraphConfig::default(),
            workload: WorkloadConfig::default(),
            network: NetworkConfig::default(),
            sender: SenderConfig::default(),
            receiver: ReceiverConfig::default(),
            oracle: Default::default(),
            hub: None,
            probing: None,
            stuck: None,
        }
    }
}

/// `[graph]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraphConfig {
    /// Graph file; empty for the bundled snapshot.
    pub file: String,
    /// Hidden-liquidity model name (see [`DEFAULT_SCENARIO`]).
    pub liquidity: String,
}

impl Default for GraphConfig {
    fn default() -> Self {
        GraphConfig {
            file: String::new(),
            liquidity: "uniform".into(),
        }
    }
}

/// `[receiver]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReceiverConfig {
    /// MPP timeout, seconds.
    pub mpp_timeout_secs: u64,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            mpp_timeout_secs: 60,
        }
    }
}

/// Why a scenario was refused. The message names the key and, for syntax and type
/// errors, the line.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// TOML syntax, an unknown key or a wrong type (toml's message names key and line).
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// What toml said, made one line.
        message: String,
    },
    /// A value of the right type that makes no sense.
    #[error("{file}: `{key}`: {why}")]
    Invalid {
        /// The file.
        file: String,
        /// The dotted key.
        key: String,
        /// Why.
        why: String,
    },
}

impl Scenario {
    /// Parses and validates scenario TOML; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            file: file.to_string(),
            message: one_line(&e),
        })?;
        if !scenario.preset.is_empty() {
            // Keys are known to be right; the preset's values go under the file's.
            return crate::set::scenario_from_table(crate::set::parse_document(text, file)?, file);
        }
        scenario.validate(file)?;
        Ok(scenario)
    }
}

/// toml's errors span several lines (a snippet with a caret); we print one line.
pub(crate) fn one_line(e: &toml::de::Error) -> String {
    let mut msg = e.message().to_string();
    if let Some(span) = e.span() {
        msg = format!("{msg} (at byte {})", span.start);
    }
    // The Display form starts with "TOML parse error at line L, column C".
    let shown = e.to_string();
    if let Some(first) = shown.lines().next() {
        if first.starts_with("TOML parse error at") {
            let at = first.trim_start_matches("TOML parse error at ");
            msg = format!("{at}: {}", e.message());
        }
    }
    msg.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_default_is_the_real_default() {
        let parsed = Scenario::from_toml(DEFAULT_SCENARIO, "default").unwrap();
        assert_eq!(parsed, Scenario::default());
        assert_eq!(
            Scenario::from_toml("", "empty").unwrap(),
            Scenario::default()
        );
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let e = Scenario::from_toml("seed = 3\n[workload]\npayment = 5\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.toml: line 3"), "{e}");
        assert!(e.contains("unknown field `payment`"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn wrong_type_names_line() {
        let e = Scenario::from_toml("[sender]\nmax_parts = \"many\"\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("invalid type"), "{e}");
    }

    #[test]
    fn impossible_values_name_the_key() {
        let cases = [
            (
                "[workload.amount]\ndistribution = \"uniform\"\nmin_sat = 10\nmax_sat = 5\n",
                "workload.amount",
            ),
            (
                "[workload.amount]\ndistribution = \"lognormal\"\nmedian_sat = 10\nsigma = -1.0\n",
                "workload.amount.sigma",
            ),
            ("[workload]\npayments = 0\n", "workload.payments"),
            ("[workload]\nkind = \"csv\"\n", "workload.file"),
            ("[network]\nhodl_share = 1.5\n", "network.hodl_share"),
            (
                "[network.channel]\nmax_accepted_htlcs = 484\n",
                "network.channel.max_accepted_htlcs",
            ),
            (
                "[[network.overrides]]\nnode = \"x\"\nchannel = { dust_limit_sat = 100 }\n",
                "network.overrides[0].channel.dust_limit_sat",
            ),
            ("[sender]\narms = []\n", "sender.arms"),
        ];
        for (text, key) in cases {
            let e = Scenario::from_toml(text, "s.toml").unwrap_err().to_string();
            assert!(e.contains(&format!("`{key}`")), "{text}: {e}");
        }
        let e = Scenario::from_toml("[workload.amount]\ndistribution = \"pareto\"\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("pareto"), "{e}");
    }

    #[test]
    fn absurd_counts_and_amounts_are_refused_with_the_limit() {
        let cases = [
            ("[workload]\npayments = 1000000000000\n", "workload.payments", "limit of 10000000"),
            (
                "[sender]\narms = [\"redundant-h2tlc-1000000000\"]\n",
                "sender.arms",
                "redundancy 1000000000 is above the limit of 100",
            ),
            (
                "[sender]\nredundant_base_parts = 4000000000\n",
                "sender.redundant_base_parts",
                "limit of 1000",
            ),
            ("[sender]\nmax_parts = 1001\n", "sender.max_parts", "limit of 1000"),
            ("[sender]\nwarmup_payments = 10000001\n", "sender.warmup_payments", "limit"),
            ("[sender]\nmax_attempts = 4000000000\n", "sender.max_attempts", "limit"),
            ("[sender]\nfee_limit_ppm = 1000001\n", "sender.fee_limit_ppm", "limit"),
            (
                "[sender]\nfee_limit_base_sat = 2100000000000001\n",
                "sender.fee_limit_base_sat",
                "21,000,000 BTC",
            ),
            (
                "[sender]\narms = [\"mpp-retry\", \"mpp-retry\"]\n",
                "sender.arms",
                "named twice",
            ),
            (
                "[network.latency]\nmodel = \"constant\"\nms = 3600001\n",
                "network.latency.ms",
                "limit of 3600000 ms",
            ),
            ("[sender]\ntimeout_secs = 31536001\n", "sender.timeout_secs", "a year"),
            (
                "[network]\nbackground_per_sec = 1e9\n",
                "network.background_per_sec",
                "limit of 10000000",
            ),
            (
                "[workload.amount]\ndistribution = \"uniform\"\nmin_sat = 9000000000000000000\nmax_sat = 9000000000000000000\n",
                "workload.amount.min_sat",
                "21,000,000 BTC",
            ),
            (
                "[workload.amount]\ndistribution = \"log-uniform\"\nmin_sat = 1\nmax_sat = 2100000000000001\n",
                "workload.amount.max_sat",
                "at most 2100000000000000 sat",
            ),
            (
                "[workload.amount]\ndistribution = \"lognormal\"\nmedian_sat = 1000\nsigma = 1000.0\n",
                "workload.amount.sigma",
                "limit of 10",
            ),
            (
                "[workload.amount]\ndistribution = \"constant\"\nvalue_sat = 2100000000000001\n",
                "workload.amount.value_sat",
                "21,000,000 BTC",
            ),
        ];
        for (text, key, why) in cases {
            let e = Scenario::from_toml(text, "s.toml").unwrap_err().to_string();
            assert!(
                e.contains(&format!("`{key}`")) && e.contains(why),
                "{text}: {e}"
            );
        }
        let many: Vec<String> = (0..65)
            .map(|i| format!("\"redundant-h2tlc-{i}\""))
            .collect();
        let e = Scenario::from_toml(&format!("[sender]\narms = [{}]\n", many.join(",")), "s")
            .unwrap_err()
            .to_string();
        assert!(e.contains("65 arms is above the limit of 64"), "{e}");
        // At the limits, accepted.
        let at = format!(
            "[workload]\npayments = {}\n[sender]\nmax_parts = 1000\nredundant_base_parts = 1000\narms = [\"redundant-h2tlc-100\"]\n",
            limits::MAX_PAYMENTS
        );
        Scenario::from_toml(&at, "s").unwrap();
    }

    #[test]
    fn fee_limit_is_ldks() {
        let s = SenderConfig::default();
        assert_eq!(s.fee_limit_msat(100_000_000), 1_000_000 + 50_000);
    }
}
