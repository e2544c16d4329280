//! `[hub]`: a zero-fee routing hub.
//!
//! An operator asks: if my well-connected node stops charging fees, how much traffic
//! does it attract, how fast do its channels drain one way, and what does it do to
//! everyone else? Every arm runs twice on the same workload and liquidity: as the
//! scenario is, then (`<arm>+zero-fee-hub`) with the hub's policy on every channel
//! replaced by `fee_base_msat` / `fee_rate_ppm` (0/0 by default). Routers see the new
//! policy and the hub's forwarding checks apply it, as a real policy update would do.
//!
//! Measured per arm: the share of successful payments whose settled parts crossed the
//! hub, the hub's routing volume and fee income (its ledger, background traffic
//! included), attempts that failed on one of the hub's outgoing channels, and the
//! success rate and fees of payments the hub neither sends nor receives. The hub's
//! channel balances are sampled every `sample_secs` of virtual time into
//! `hub-liquidity.csv`: the hub's total balance (which forwarding barely changes: what
//! leaves on one channel arrives on another), how much left the channels that lost
//! balance (`moved_out_sat`) and arrived on those that gained (`moved_in_sat`), how
//! many channels are drained one way, and the cumulative volume. Each channel's start,
//! minimum and end balance and the time it first drained go into `hub-channels.csv`,
//! and the sampled balance of the ten channels that carried the most of the measured
//! payments out of the hub into `hub-top-channels.csv`.

use std::collections::{BTreeSet, HashMap};

use flotilla_graph::{Direction, EdgeIdx, Graph, NodeIdx};
use flotilla_ln::config::PolicyOverride;
use flotilla_ln::network::Network;
use flotilla_ln::session::AttemptRecord;
use flotilla_route::Timestamp;
use serde::{Deserialize, Serialize};

use super::{
    best_connected, csv_row, resolve_node, ArmFieldReport, ArmHook, CsvRows, FieldError, FieldRun,
    FieldSummary, Variant,
};
use crate::arms::ArmSpec;
use crate::metrics::PaymentOutcome;
use crate::workload::PaymentSpec;

/// The CSV files this section writes, with their headers.
pub const CSV_HEADERS: &[(&str, &str)] = &[
    (
        "hub-liquidity.csv",
        "arm,time_secs,local_sat,remote_sat,in_flight_sat,moved_out_sat,moved_in_sat,outbound_drained,inbound_drained,forwarded_sat,forwards,fees_earned_sat",
    ),
    (
        "hub-top-channels.csv",
        "arm,time_secs,scid,peer,capacity_sat,local_sat",
    ),
    (
        "hub-channels.csv",
        "arm,scid,peer,capacity_sat,local_start_sat,local_min_sat,local_end_sat,forwarded_out_sat,received_in_sat,outbound_drained_at_secs",
    ),
];

/// The charts this section draws.
pub const CHARTS: &[super::ChartSpec] = &[
    (
        "rate",
        "hub-forwards.svg",
        "Hub forwards per hour (trailing 20 minutes)",
        "virtual time (hours)",
        "forwards per hour",
        super::svg::XScale::Linear,
    ),
    (
        "moved",
        "hub-moved.svg",
        "Balance moved out of the hub's channels that lost balance",
        "virtual time (hours)",
        "BTC",
        super::svg::XScale::Linear,
    ),
    (
        "drained_in",
        "hub-drained-in.svg",
        "Hub channels drained inbound (peer's side below the threshold)",
        "virtual time (hours)",
        "channels",
        super::svg::XScale::Linear,
    ),
    (
        "drained_out",
        "hub-drained-out.svg",
        "Hub channels drained outbound (hub's side below the threshold)",
        "virtual time (hours)",
        "channels",
        super::svg::XScale::Linear,
    ),
];

/// The window of the forwarding-rate chart, µs.
const RATE_WINDOW_MICROS: u64 = 20 * 60 * 1_000_000;

/// `[hub]`: see the module documentation and `DEFAULT_SCENARIO`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubConfig {
    /// Alias or public key; empty: the node with the most channels in the largest
    /// strongly connected component.
    pub node: String,
    /// The hub's base fee in the second run, msat.
    pub fee_base_msat: u32,
    /// The hub's proportional fee in the second run, ppm.
    pub fee_rate_ppm: u32,
    /// Virtual seconds between samples of the hub's channel balances.
    pub sample_secs: u64,
    /// A channel is drained one way when the hub's side holds less than this share of
    /// its capacity (outbound) or more than one minus it (inbound).
    pub depleted_share: f64,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            node: String::new(),
            fee_base_msat: 0,
            fee_rate_ppm: 0,
            sample_secs: 60,
            depleted_share: 0.05,
        }
    }
}

impl HubConfig {
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        if self.sample_secs == 0 {
            return Err(("hub.sample_secs".into(), "must be at least 1 second".into()));
        }
        if !(self.depleted_share >= 0.0 && self.depleted_share < 0.5) {
            return Err((
                "hub.depleted_share".into(),
                "must be a share in [0, 0.5)".into(),
            ));
        }
        Ok(())
    }
}

/// What the scenario resolved the hub to.
pub struct HubPlan {
    hub: NodeIdx,
    pubkey: String,
    alias: String,
    chosen: &'static str,
    channels: usize,
    capacity_sat: u64,
    median_fee_rate_ppm: u32,
    median_fee_base_msat: u32,
    policy: PolicyOverride,
    sample_secs: u64,
    depleted_share: f64,
}

/// `summary.json` → `hub`.
#[derive(Debug, Clone, Serialize)]
pub struct HubReport {
    /// The hub's public key.
    pub node: String,
    /// Its alias.
    pub alias: String,
    /// How it was chosen.
    pub chosen: &'static str,
    /// Its channels.
    pub channels: usize,
    /// Their capacity, sat.
    pub capacity_sat: u64,
    /// The median proportional fee it announces in the graph, ppm.
    pub announced_median_fee_rate_ppm: u32,
    /// The median base fee it announces, msat.
    pub announced_median_fee_base_msat: u32,
    /// Its policy in the second run: base, msat.
    pub fee_base_msat: u32,
    /// Its policy in the second run: ppm.
    pub fee_rate_ppm: u32,
    /// Seconds between samples.
    pub sample_secs: u64,
    /// The drained-channel threshold.
    pub depleted_share: f64,
    /// One entry per arm and variant, in run order.
    pub arms: Vec<HubArmReport>,
}

/// One arm of one variant.
#[derive(Debug, Clone, Serialize)]
pub struct HubArmReport {
    /// Arm name (with the variant's suffix).
    pub arm: String,
    /// Whether the hub routed for free in this run.
    pub zero_fee_hub: bool,
    /// Payments.
    pub payments: u64,
    /// Successful payments.
    pub succeeded: u64,
    /// Successful payments with a settled part through the hub (as a forwarder).
    pub payments_via_hub: u64,
    /// `payments_via_hub / succeeded`.
    pub share_via_hub: f64,
    /// What those payments delivered, msat.
    pub amount_via_hub_msat: u64,
    /// Attempts (paths tried, every part) that crossed the hub.
    pub attempts_via_hub: u64,
    /// Attempts that failed on one of the hub's outgoing channels.
    pub attempts_failed_on_hub_channel: u64,
    /// The hub's settled forwards over the run (background traffic included).
    pub hub_forwards: u64,
    /// Their outgoing value, msat.
    pub hub_forwarded_msat: u64,
    /// The hub's fee income, msat.
    pub hub_fees_earned_msat: u64,
    /// Payments neither sent nor received by the hub.
    pub others_payments: u64,
    /// Their success rate.
    pub others_success_rate: f64,
    /// Fees they paid, msat.
    pub others_fees_msat: u64,
    /// Their mean fee, ppm of the amount (successful payments).
    pub others_fee_ppm_mean: f64,
    /// The hub's balance on all its channels at the start, msat.
    pub local_start_msat: u64,
    /// At the end.
    pub local_end_msat: u64,
    /// Channels drained outbound (hub's side below the threshold) at the start.
    pub outbound_drained_start: u32,
    /// At the end.
    pub outbound_drained_end: u32,
    /// Channels drained inbound (peer's side below the threshold) at the start.
    pub inbound_drained_start: u32,
    /// At the end.
    pub inbound_drained_end: u32,
    /// Balance that left the hub's channels that lost balance, start to end, msat:
    /// how far the run pushed its channels toward one side.
    pub moved_out_msat: u64,
    /// Channels that drained outbound during the run (not at the start).
    pub channels_drained_during_run: u32,
    /// Median time until those drained, seconds.
    pub median_drain_secs: f64,
    /// Virtual time the run covered, seconds.
    pub simulated_secs: f64,
}

pub(super) fn prepare(
    cfg: &HubConfig,
    graph: &Graph,
    overrides: &[(NodeIdx, PolicyOverride)],
    _workload: &mut [PaymentSpec],
) -> Result<(HubPlan, Vec<Variant>), FieldError> {
    let (hub, chosen) = if cfg.node.trim().is_empty() {
        let best = best_connected(graph, 1, &[]);
        let Some(&hub) = best.first() else {
            return Err(FieldError::new(
                "hub.node",
                "the graph has no strongly connected core to pick a hub from; name one",
            ));
        };
        (
            hub,
            "default: the node with the most channels in the largest strongly connected component",
        )
    } else {
        (
            resolve_node(graph, "hub.node", cfg.node.trim())?,
            "scenario",
        )
    };
    let node = graph.node(hub);
    let mut rates = Vec::new();
    let mut bases = Vec::new();
    let mut capacity_sat = 0;
    let mut channels = 0;
    for c in graph.channels_of(hub) {
        let ch = graph.channel(c);
        channels += 1;
        capacity_sat += ch.capacity_sat;
        let d = if ch.nodes[0] == hub {
            Direction::AToB
        } else {
            Direction::BToA
        };
        if let Some(p) = ch.policy(d) {
            rates.push(p.fee_rate_ppm);
            bases.push(p.fee_base_msat);
        }
    }
    rates.sort_unstable();
    bases.sort_unstable();
    let policy = PolicyOverride {
        fee_base_msat: Some(cfg.fee_base_msat),
        fee_rate_ppm: Some(cfg.fee_rate_ppm),
        ..Default::default()
    };
    let mut with_hub = overrides.to_vec();
    match with_hub.iter_mut().find(|(n, _)| *n == hub) {
        Some((_, o)) => {
            o.fee_base_msat = policy.fee_base_msat;
            o.fee_rate_ppm = policy.fee_rate_ppm;
        }
        None => with_hub.push((hub, policy)),
    }
    let run = |zero_fee| HubRun {
        hub,
        zero_fee,
        sample_micros: cfg.sample_secs * 1_000_000,
        depleted_share: cfg.depleted_share,
    };
    let variants = vec![
        Variant {
            suffix: "",
            label: "announced fees",
            overrides: overrides.to_vec(),
            run: Box::new(run(false)),
        },
        Variant {
            suffix: "+zero-fee-hub",
            label: "zero-fee hub",
            overrides: with_hub,
            run: Box::new(run(true)),
        },
    ];
    let plan = HubPlan {
        hub,
        pubkey: node.pubkey.to_hex(),
        alias: node.alias.clone(),
        chosen,
        channels,
        capacity_sat,
        median_fee_rate_ppm: rates.get(rates.len() / 2).copied().unwrap_or(0),
        median_fee_base_msat: bases.get(bases.len() / 2).copied().unwrap_or(0),
        policy,
        sample_secs: cfg.sample_secs,
        depleted_share: cfg.depleted_share,
    };
    Ok((plan, variants))
}

impl HubPlan {
    /// The hub.
    pub fn hub(&self) -> NodeIdx {
        self.hub
    }

    pub(super) fn summary(
        &self,
        _variants: &[Variant],
        reports: Vec<(usize, ArmFieldReport)>,
    ) -> FieldSummary {
        let arms = reports
            .into_iter()
            .filter_map(|(_, r)| match r {
                ArmFieldReport::Hub(h) => Some(h),
                _ => None,
            })
            .collect();
        FieldSummary {
            hub: Some(HubReport {
                node: self.pubkey.clone(),
                alias: self.alias.clone(),
                chosen: self.chosen,
                channels: self.channels,
                capacity_sat: self.capacity_sat,
                announced_median_fee_rate_ppm: self.median_fee_rate_ppm,
                announced_median_fee_base_msat: self.median_fee_base_msat,
                fee_base_msat: self.policy.fee_base_msat.unwrap_or(0),
                fee_rate_ppm: self.policy.fee_rate_ppm.unwrap_or(0),
                sample_secs: self.sample_secs,
                depleted_share: self.depleted_share,
                arms,
            }),
            ..Default::default()
        }
    }
}

struct HubRun {
    hub: NodeIdx,
    zero_fee: bool,
    sample_micros: u64,
    depleted_share: f64,
}

impl FieldRun for HubRun {
    fn arm_hook(&self, arm: &ArmSpec, net: &Network) -> Box<dyn ArmHook> {
        let g = net.graph();
        let mut chans = Vec::new();
        for c in g.channels_of(self.hub) {
            let ch = g.channel(c);
            let d = if ch.nodes[0] == self.hub {
                Direction::AToB
            } else {
                Direction::BToA
            };
            let out_edge = c.edge(d);
            let local = net.edge_state(out_edge).balance_msat;
            chans.push(Channel {
                out_edge,
                in_edge: c.edge(d.reverse()),
                peer: ch.to_node(d),
                scid: ch.scid.to_string(),
                cap_msat: ch.capacity_msat(),
                local_start: local,
                local_min: local,
                drained_at: None,
                drained_at_start: false,
                out_msat: 0,
                in_msat: 0,
            });
        }
        let by_edge = chans
            .iter()
            .enumerate()
            .flat_map(|(i, c)| [(c.out_edge, i), (c.in_edge, i)])
            .collect();
        Box::new(HubHook {
            arm: arm.name.clone(),
            hub: self.hub,
            zero_fee: self.zero_fee,
            sample_micros: self.sample_micros.max(1),
            next_sample: 0,
            depleted_share: self.depleted_share,
            chans,
            by_edge,
            rows: String::new(),
            first: None,
            series: Vec::new(),
            lines: Default::default(),
            forwards: Vec::new(),
            via_hub: BTreeSet::new(),
            t: Tally::default(),
        })
    }
}

struct Channel {
    out_edge: EdgeIdx,
    in_edge: EdgeIdx,
    peer: NodeIdx,
    scid: String,
    cap_msat: u64,
    local_start: u64,
    local_min: u64,
    drained_at: Option<u64>,
    drained_at_start: bool,
    out_msat: u64,
    in_msat: u64,
}

#[derive(Default)]
struct Tally {
    payments: u64,
    succeeded: u64,
    payments_via_hub: u64,
    amount_via_hub_msat: u64,
    attempts_via_hub: u64,
    attempts_failed_on_hub: u64,
    others_payments: u64,
    others_succeeded: u64,
    others_fees_msat: u64,
    others_fee_ppm_sum: f64,
}

/// A sample's totals.
#[derive(Clone, Copy)]
struct Sample {
    local: u64,
    moved_out: u64,
    outbound_drained: u32,
    inbound_drained: u32,
}

struct HubHook {
    arm: String,
    hub: NodeIdx,
    zero_fee: bool,
    sample_micros: u64,
    next_sample: u64,
    depleted_share: f64,
    chans: Vec<Channel>,
    by_edge: HashMap<EdgeIdx, usize>,
    rows: String,
    first: Option<Sample>,
    /// Every sample's per-channel balances, for the busiest channels' series.
    series: Vec<(u64, Vec<u64>)>,
    /// Chart lines by hour: forwarding rate, balance moved out (BTC), channels drained
    /// inbound and outbound (the keys of [`CHARTS`], in order).
    lines: [Vec<(f64, f64)>; 4],
    /// (time, cumulative forwards) at every sample.
    forwards: Vec<(u64, u64)>,
    via_hub: BTreeSet<u64>,
    t: Tally,
}

impl HubHook {
    fn sample(&mut self, at: u64, net: &Network) -> Sample {
        let (mut local, mut remote, mut flight) = (0u64, 0u64, 0u64);
        let (mut moved_out, mut moved_in) = (0u64, 0u64);
        let (mut out_dr, mut in_dr) = (0u32, 0u32);
        let mut locals = Vec::with_capacity(self.chans.len());
        for c in &mut self.chans {
            let o = net.edge_state(c.out_edge);
            let i = net.edge_state(c.in_edge);
            locals.push(o.balance_msat);
            moved_out += c.local_start.saturating_sub(o.balance_msat);
            moved_in += o.balance_msat.saturating_sub(c.local_start);
            local += o.balance_msat;
            remote += i.balance_msat;
            flight += o.pending_msat + i.pending_msat;
            let threshold = (c.cap_msat as f64 * self.depleted_share) as u64;
            c.local_min = c.local_min.min(o.balance_msat);
            if o.balance_msat < threshold {
                out_dr += 1;
                if c.drained_at.is_none() {
                    c.drained_at = Some(at);
                    c.drained_at_start = at == 0;
                }
            }
            if i.balance_msat < threshold {
                in_dr += 1;
            }
        }
        let l = net.ledger(self.hub);
        csv_row(
            &mut self.rows,
            &self.arm,
            format_args!(
                "{:.0},{},{},{},{},{},{},{},{},{},{}",
                at as f64 / 1e6,
                local / 1000,
                remote / 1000,
                flight / 1000,
                moved_out / 1000,
                moved_in / 1000,
                out_dr,
                in_dr,
                l.forwarded_msat / 1000,
                l.forwards,
                l.fees_earned_msat / 1000
            ),
        );
        if self.series.last().map(|(t, _)| *t) != Some(at) {
            self.series.push((at, locals));
            let h = at as f64 / 3.6e9;
            self.lines[0].push((h, 0.0));
            self.lines[1].push((h, moved_out as f64 / 1e11));
            self.lines[2].push((h, in_dr as f64));
            self.lines[3].push((h, out_dr as f64));
            self.forwards.push((at, l.forwards));
            // Forwards per hour over the trailing window, once a whole window is in.
            let from = at.saturating_sub(RATE_WINDOW_MICROS);
            let i = self.forwards.partition_point(|(t, _)| *t < from);
            let (t0, f0) = self.forwards[i];
            if at >= RATE_WINDOW_MICROS && at > t0 {
                let rate = (l.forwards - f0) as f64 * 3.6e9 / (at - t0) as f64;
                if let Some(last) = self.lines[0].last_mut() {
                    last.1 = rate;
                }
            } else {
                self.lines[0].pop();
            }
        }
        let s = Sample {
            local,
            moved_out,
            outbound_drained: out_dr,
            inbound_drained: in_dr,
        };
        if self.first.is_none() {
            self.first = Some(s);
        }
        s
    }
}

impl ArmHook for HubHook {
    fn before_event(&mut self, now: Timestamp, net: &Network) {
        while self.next_sample <= now.micros() {
            self.sample(self.next_sample, net);
            self.next_sample += self.sample_micros;
        }
    }

    fn on_attempt(&mut self, a: &AttemptRecord) {
        let hops = &a.path.hops;
        // The hub forwards when it is the far end of a hop that is not the last.
        let Some(i) = (0..hops.len().saturating_sub(1)).find(|&i| {
            self.by_edge
                .get(&hops[i].edge)
                .is_some_and(|&c| self.chans[c].in_edge == hops[i].edge)
        }) else {
            return;
        };
        self.t.attempts_via_hub += 1;
        match a.failure {
            None => {
                self.via_hub.insert(a.payment);
                if let Some(&c) = self.by_edge.get(&hops[i + 1].edge) {
                    self.chans[c].out_msat += hops[i + 1].amount_msat;
                }
                if let Some(&c) = self.by_edge.get(&hops[i].edge) {
                    self.chans[c].in_msat += hops[i].amount_msat;
                }
            }
            Some(_) => {
                if a.failed_hop == Some(i + 1) {
                    self.t.attempts_failed_on_hub += 1;
                }
            }
        }
    }

    fn on_payment(&mut self, spec: &PaymentSpec, o: &PaymentOutcome, _now: Timestamp) {
        let t = &mut self.t;
        t.payments += 1;
        let via = self.via_hub.remove(&spec.index);
        if o.succeeded {
            t.succeeded += 1;
            if via {
                t.payments_via_hub += 1;
                t.amount_via_hub_msat += spec.amount_msat;
            }
        }
        if spec.source != self.hub && spec.destination != self.hub {
            t.others_payments += 1;
            if o.succeeded {
                t.others_succeeded += 1;
                t.others_fees_msat += o.fee_msat;
                t.others_fee_ppm_sum += o.fee_msat as f64 / spec.amount_msat.max(1) as f64 * 1e6;
            }
        }
    }

    fn finish(mut self: Box<Self>, net: &Network, end: Timestamp) -> (ArmFieldReport, CsvRows) {
        while self.next_sample <= end.micros() {
            self.sample(self.next_sample, net);
            self.next_sample += self.sample_micros;
        }
        // The state at the very end (a last row, unless a sample fell on it).
        let last = if self.next_sample - self.sample_micros == end.micros() {
            let rows = std::mem::take(&mut self.rows);
            let s = self.sample(end.micros(), net);
            self.rows = rows;
            s
        } else {
            self.sample(end.micros(), net)
        };
        let first = self.first.unwrap_or(last);
        let mut drain_times: Vec<f64> = Vec::new();
        let mut channel_rows = String::new();
        for c in &self.chans {
            let end_local = net.edge_state(c.out_edge).balance_msat;
            if let (Some(at), false) = (c.drained_at, c.drained_at_start) {
                drain_times.push(at as f64 / 1e6);
            }
            csv_row(
                &mut channel_rows,
                &self.arm,
                format_args!(
                    "{},{},{},{},{},{},{},{},{}",
                    c.scid,
                    net.graph().node(c.peer).pubkey,
                    c.cap_msat / 1000,
                    c.local_start / 1000,
                    c.local_min / 1000,
                    end_local / 1000,
                    c.out_msat / 1000,
                    c.in_msat / 1000,
                    c.drained_at
                        .map(|t| format!("{:.0}", t as f64 / 1e6))
                        .unwrap_or_default()
                ),
            );
        }
        // The ten channels that carried the most measured value out of the hub.
        let mut busiest: Vec<usize> = (0..self.chans.len())
            .filter(|&i| self.chans[i].out_msat > 0)
            .collect();
        busiest.sort_by(|&a, &b| {
            self.chans[b]
                .out_msat
                .cmp(&self.chans[a].out_msat)
                .then(a.cmp(&b))
        });
        busiest.truncate(10);
        let mut top_rows = String::new();
        for (at, locals) in &self.series {
            for &i in &busiest {
                let c = &self.chans[i];
                csv_row(
                    &mut top_rows,
                    &self.arm,
                    format_args!(
                        "{:.0},{},{},{},{}",
                        *at as f64 / 1e6,
                        c.scid,
                        net.graph().node(c.peer).pubkey,
                        c.cap_msat / 1000,
                        locals[i] / 1000
                    ),
                );
            }
        }
        let drained_during = drain_times.len() as u32;
        let median_drain = super::quantiles(drain_times, &[0.5])[0];
        let l = net.ledger(self.hub);
        let t = &self.t;
        let report = HubArmReport {
            arm: self.arm.clone(),
            zero_fee_hub: self.zero_fee,
            payments: t.payments,
            succeeded: t.succeeded,
            payments_via_hub: t.payments_via_hub,
            share_via_hub: t.payments_via_hub as f64 / t.succeeded.max(1) as f64,
            amount_via_hub_msat: t.amount_via_hub_msat,
            attempts_via_hub: t.attempts_via_hub,
            attempts_failed_on_hub_channel: t.attempts_failed_on_hub,
            hub_forwards: l.forwards,
            hub_forwarded_msat: l.forwarded_msat,
            hub_fees_earned_msat: l.fees_earned_msat,
            others_payments: t.others_payments,
            others_success_rate: t.others_succeeded as f64 / t.others_payments.max(1) as f64,
            others_fees_msat: t.others_fees_msat,
            others_fee_ppm_mean: t.others_fee_ppm_sum / t.others_succeeded.max(1) as f64,
            local_start_msat: first.local,
            local_end_msat: last.local,
            outbound_drained_start: first.outbound_drained,
            outbound_drained_end: last.outbound_drained,
            inbound_drained_start: first.inbound_drained,
            inbound_drained_end: last.inbound_drained,
            moved_out_msat: last.moved_out,
            channels_drained_during_run: drained_during,
            median_drain_secs: median_drain,
            simulated_secs: end.as_secs_f64(),
        };
        let rows = CsvRows {
            files: vec![
                ("hub-liquidity.csv", std::mem::take(&mut self.rows)),
                ("hub-channels.csv", channel_rows),
                ("hub-top-channels.csv", top_rows),
            ],
            series: CHARTS
                .iter()
                .zip(std::mem::take(&mut self.lines))
                .map(|(c, points)| {
                    (
                        c.0,
                        super::svg::Series {
                            name: self.arm.clone(),
                            points,
                        },
                    )
                })
                .collect(),
        };
        (ArmFieldReport::Hub(report), rows)
    }
}
