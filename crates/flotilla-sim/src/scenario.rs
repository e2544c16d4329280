//! The scenario: everything a run needs to be reproduced, as TOML.
//!
//! Every field has a default, so an empty file (or no file) is a meaningful
//! experiment. [`DEFAULT_SCENARIO`] is the default scenario written out with a comment
//! on every field; a test proves it parses to exactly [`Scenario::default`], so the
//! documentation cannot drift from the code. Unknown keys are errors that name the key
//! and the line: a typo must never silently run a different experiment.

use serde::{Deserialize, Serialize};

use flotilla_graph::amount::MAX_SAT;

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
arms = ["single-path-retry", "mpp-retry", "redundant-h2tlc-0.5-retry"]
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
    fn problem(&self) -> Option<(&'static str, String)> {
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
                "redundant-h2tlc-0.5-retry".into(),
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
