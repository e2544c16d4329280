//! `[probing]`: forwarders that replay every HTLC toward candidate recipients.
//!
//! The attack: a forwarding node sees the payment hash and amount of every HTLC it
//! forwards, not who the payment is for. It holds the outgoing `update_add_htlc` back,
//! sends its own payment with the same hash and the same amount (no `payment_data`, no
//! secret) to each candidate recipient — the next hop, that node's peers (largest
//! channels first), and the largest-capacity nodes, where capacity-weighted receivers
//! are likeliest — and releases the held HTLC when every probe is back.
//!
//! - A receiver that enforces `payment_secret` answers every probe with BOLT 4
//!   `incorrect_or_unknown_payment_details` and the same data as for a hash it never
//!   saw, so the probe teaches nothing: the attacker identifies no recipient.
//! - A legacy receiver (`Behaviour::LegacyReceiver`) does not check the secret: a probe
//!   carrying at least the invoice amount is settled, which names the recipient and
//!   hands the attacker the preimage. The attacker then short-circuits the payment
//!   ([`flotilla_ln::network::Network::short_circuit_forward`]): it claims its incoming
//!   HTLC with the preimage and never sends the outgoing one. The sender sees a normal
//!   success; the hops after the attacker lose their fees to the receiver, who was paid
//!   the forwarded amount. Any other final-hop answer than `incorrect_or_unknown_
//!   payment_details` would identify the recipient too; none occurs.
//! - Keysend receivers have no invoice: the hash means nothing to them without the
//!   preimage, which only the real onion carries, so probes to them fail like any
//!   unknown hash, legacy or not.
//!
//! Every arm runs with receivers that enforce the secret, then with every honest node
//! a legacy receiver (`<arm>+legacy-receivers`). Probes are real payments through the
//! arm's [`Network`]: routed by the attacker's own pathfinder, locking liquidity,
//! failing where a payment would. The attackers probe measured payments only (their
//! recipients are the ground truth); the probes themselves are not probed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use flotilla_graph::{Graph, NodeIdx};
use flotilla_ln::config::{Behaviour, NodeConfig, PolicyOverride};
use flotilla_ln::failure::FailureCode;
use flotilla_ln::msg::{HtlcRef, Msg};
use flotilla_ln::network::Network;
use flotilla_ln::output::{Event, Output};
use flotilla_ln::sender::{PartId, SendPart};
use flotilla_ln::session::{PaymentSession, FINAL_CLTV_PADDING};
use flotilla_ln::PaymentHash;
use flotilla_route::scorers::LiquidityBoundsScorer;
use flotilla_route::{Limits, Path, Pathfinder, RouteRequest, Router, Timestamp};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{
    best_connected, csv_row, resolve_node, ArmFieldReport, ArmHook, CsvRows, FieldError, FieldRun,
    FieldSummary, HookCx, Variant, MEASURED_IDS,
};
use crate::arms::{ArmSpec, Strategy};
use crate::metrics::PaymentOutcome;
use crate::scenario::Scenario;
use crate::workload::PaymentSpec;

/// The CSV files this section writes, with their headers.
pub const CSV_HEADERS: &[(&str, &str)] = &[(
    "probing-identified.csv",
    "arm,payment,attacker,recipient,keysend,amount_msat,answer,short_circuited",
)];

/// Probes' session ids start here (above workload, warm-up and background ids).
const PROBE_BASE: u64 = 1 << 41;

/// `PaymentSession` numbers a part `session << 20 | n`; probes use n = 0.
const SESSION_SHIFT: u32 = 20;

/// `[probing]`: see the module documentation and `DEFAULT_SCENARIO`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbingConfig {
    /// Attacking forwarders, aliases or public keys; empty: the `attacker_count` nodes
    /// with the most channels in the largest strongly connected component.
    pub attackers: Vec<String>,
    /// How many default attackers.
    pub attacker_count: usize,
    /// Peers of the next hop probed per forwarded HTLC (largest channels first).
    pub onward_candidates: usize,
    /// Largest-capacity nodes probed per forwarded HTLC.
    pub known_receivers: usize,
    /// Share of the payments sent as keysend.
    pub keysend_share: f64,
}

impl Default for ProbingConfig {
    fn default() -> Self {
        ProbingConfig {
            attackers: Vec::new(),
            attacker_count: 5,
            onward_candidates: 8,
            known_receivers: 8,
            keysend_share: 0.25,
        }
    }
}

impl ProbingConfig {
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        if self.attackers.is_empty() && self.attacker_count == 0 {
            return Err((
                "probing.attacker_count".into(),
                "is 0 and no attackers are named: the scenario needs at least one".into(),
            ));
        }
        if let Some(i) = self.attackers.iter().position(|a| a.trim().is_empty()) {
            return Err((
                format!("probing.attackers[{i}]"),
                "is empty: give an alias or a public key".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.keysend_share) {
            return Err((
                "probing.keysend_share".into(),
                "must be a share between 0 and 1".into(),
            ));
        }
        Ok(())
    }
}

/// What the payments really were: the attacker's ground truth, never its knowledge.
#[derive(Copy, Clone, Debug)]
struct Truth {
    destination: NodeIdx,
    amount_msat: u64,
    keysend: bool,
}

/// The resolved attackers and what the summary needs.
pub struct ProbingPlan {
    attackers: Vec<(String, String)>,
    known_receivers: usize,
    onward_candidates: usize,
    keysend_share: f64,
    keysend_payments: usize,
}

/// `summary.json` → `probing`.
#[derive(Debug, Clone, Serialize)]
pub struct ProbingReport {
    /// The attackers: (public key, alias).
    pub attackers: Vec<(String, String)>,
    /// Largest-capacity nodes probed per HTLC.
    pub known_receivers: usize,
    /// Next-hop peers probed per HTLC.
    pub onward_candidates: usize,
    /// `probing.keysend_share`.
    pub keysend_share: f64,
    /// Payments of the workload sent as keysend (by single-path and MPP arms).
    pub keysend_payments: usize,
    /// Recipients identified over every arm, receivers enforcing `payment_secret`.
    pub recipients_identified_with_secret: u64,
    /// The same with legacy receivers.
    pub recipients_identified_legacy: u64,
    /// One entry per arm and variant, in run order.
    pub arms: Vec<ProbingArmReport>,
}

/// One arm of one variant.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProbingArmReport {
    /// Arm name (with the variant's suffix).
    pub arm: String,
    /// Whether receivers skipped the `payment_secret` check.
    pub legacy_receivers: bool,
    /// Payments.
    pub payments: u64,
    /// Successful payments.
    pub succeeded: u64,
    /// `succeeded / payments`.
    pub success_rate: f64,
    /// Payments with at least one HTLC forwarded by an attacker.
    pub payments_observed: u64,
    /// Of those, keysend payments.
    pub keysend_observed: u64,
    /// Forwarded HTLCs the attackers held and probed.
    pub htlcs_probed: u64,
    /// Probes sent.
    pub probes_sent: u64,
    /// Candidates the attacker's pathfinder found no route to.
    pub probes_unroutable: u64,
    /// Probes the attacker's own channel could not carry.
    pub probes_refused_first_hop: u64,
    /// Probes answered by the candidate itself (any answer).
    pub probes_answered: u64,
    /// Probes that failed before reaching the candidate.
    pub probes_failed_en_route: u64,
    /// Probes the candidate settled (the preimage learnt).
    pub probes_settled: u64,
    /// Observed payments whose true recipient was among the candidates probed.
    pub recipient_among_candidates: u64,
    /// Payments whose recipient the attackers identified.
    pub recipients_identified: u64,
    /// Of those, keysend payments.
    pub keysend_identified: u64,
    /// Distinct recipient nodes identified.
    pub distinct_recipients_identified: u64,
    /// Identifications of a node that was not the recipient (must be 0).
    pub false_identifications: u64,
    /// Payments the attackers short-circuited (claimed upstream with the preimage a
    /// settled probe revealed; the outgoing HTLC never sent).
    pub short_circuits: u64,
    /// What the attackers kept on those: incoming HTLCs minus what their probes cost,
    /// msat.
    pub short_circuit_income_msat: u64,
    /// What forwarding them honestly would have earned the attackers (their fees),
    /// msat.
    pub honest_forward_fees_msat: u64,
    /// Fees the hops after the attacker would have earned and did not, msat.
    pub downstream_fees_lost_msat: u64,
    /// What receivers were paid beyond the amount (the probe carried the forwarded
    /// amount), msat.
    pub receivers_overpaid_msat: u64,
    /// Fees the attackers paid on settled probes, msat.
    pub probe_fees_paid_msat: u64,
    /// Mean time an attacker held a forward while probing, ms.
    pub hold_ms_mean: f64,
}

pub(super) fn prepare(
    cfg: &ProbingConfig,
    scenario: &Scenario,
    graph: &Graph,
    overrides: &[(NodeIdx, PolicyOverride)],
    workload: &mut [PaymentSpec],
) -> Result<(ProbingPlan, Vec<Variant>), FieldError> {
    let mut attackers: Vec<NodeIdx> = Vec::new();
    if cfg.attackers.is_empty() {
        attackers = best_connected(graph, cfg.attacker_count, &[]);
        if attackers.is_empty() {
            return Err(FieldError::new(
                "probing.attackers",
                "the graph has no strongly connected core to pick attackers from; name them",
            ));
        }
    } else {
        for (i, name) in cfg.attackers.iter().enumerate() {
            let n = resolve_node(graph, &format!("probing.attackers[{i}]"), name.trim())?;
            if !attackers.contains(&n) {
                attackers.push(n);
            }
        }
    }
    // The attackers' guess at who gets paid: the largest-capacity nodes of the core.
    let mut core: Vec<(u64, NodeIdx)> = flotilla_graph::stats::largest_scc(graph)
        .into_iter()
        .filter(|n| !attackers.contains(n))
        .map(|n| {
            let cap = graph
                .channels_of(n)
                .map(|c| graph.channel(c).capacity_sat)
                .sum();
            (cap, n)
        })
        .collect();
    core.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let known: Vec<NodeIdx> = core
        .into_iter()
        .take(cfg.known_receivers)
        .map(|(_, n)| n)
        .collect();
    let mut rng = crate::rng::stream(scenario.seed, "probing-keysend");
    let mut keysend_payments = 0;
    for p in workload.iter_mut() {
        p.keysend = rng.random::<f64>() < cfg.keysend_share;
        keysend_payments += p.keysend as usize;
    }
    let truth: Arc<Vec<Truth>> = Arc::new(
        workload
            .iter()
            .map(|p| Truth {
                destination: p.destination,
                amount_msat: p.amount_msat,
                keysend: p.keysend,
            })
            .collect(),
    );
    let shared = Arc::new(Shared {
        attackers: attackers.clone(),
        known,
        onward: cfg.onward_candidates,
        truth,
        final_cltv_delta: scenario.sender.final_cltv_delta,
        fee_limit_ppm: scenario.sender.fee_limit_ppm,
        fee_limit_base_sat: scenario.sender.fee_limit_base_sat,
    });
    let variants = vec![
        Variant {
            suffix: "",
            label: "receivers enforce payment_secret",
            overrides: overrides.to_vec(),
            run: Box::new(ProbingRun {
                shared: shared.clone(),
                legacy: false,
            }),
        },
        Variant {
            suffix: "+legacy-receivers",
            label: "legacy receivers (no payment_secret check)",
            overrides: overrides.to_vec(),
            run: Box::new(ProbingRun {
                shared,
                legacy: true,
            }),
        },
    ];
    let plan = ProbingPlan {
        attackers: attackers
            .iter()
            .map(|n| (graph.node(*n).pubkey.to_hex(), graph.node(*n).alias.clone()))
            .collect(),
        known_receivers: cfg.known_receivers,
        onward_candidates: cfg.onward_candidates,
        keysend_share: cfg.keysend_share,
        keysend_payments,
    };
    Ok((plan, variants))
}

impl ProbingPlan {
    pub(super) fn summary(
        &self,
        _variants: &[Variant],
        reports: Vec<(usize, ArmFieldReport)>,
    ) -> FieldSummary {
        let mut with_secret = 0;
        let mut legacy = 0;
        let mut arms = Vec::new();
        for (_, r) in reports {
            if let ArmFieldReport::Probing(p) = r {
                if p.legacy_receivers {
                    legacy += p.recipients_identified;
                } else {
                    with_secret += p.recipients_identified;
                }
                arms.push(p);
            }
        }
        FieldSummary {
            recipients_identified_with_secret: Some(with_secret),
            recipients_identified_legacy: Some(legacy),
            probing: Some(ProbingReport {
                attackers: self.attackers.clone(),
                known_receivers: self.known_receivers,
                onward_candidates: self.onward_candidates,
                keysend_share: self.keysend_share,
                keysend_payments: self.keysend_payments,
                recipients_identified_with_secret: with_secret,
                recipients_identified_legacy: legacy,
                arms,
            }),
            ..Default::default()
        }
    }
}

/// What every run of the section shares.
struct Shared {
    attackers: Vec<NodeIdx>,
    known: Vec<NodeIdx>,
    onward: usize,
    truth: Arc<Vec<Truth>>,
    final_cltv_delta: u32,
    fee_limit_ppm: u64,
    fee_limit_base_sat: u64,
}

struct ProbingRun {
    shared: Arc<Shared>,
    legacy: bool,
}

impl FieldRun for ProbingRun {
    fn adjust_configs(&self, configs: &mut [NodeConfig]) {
        if self.legacy {
            for c in configs.iter_mut() {
                if c.behaviour == Behaviour::Honest {
                    c.behaviour = Behaviour::LegacyReceiver;
                }
            }
        }
    }

    fn arm_hook(&self, arm: &ArmSpec, net: &Network) -> Box<dyn ArmHook> {
        let mut is_attacker = vec![false; net.graph().node_count()];
        for a in &self.shared.attackers {
            is_attacker[a.ix()] = true;
        }
        Box::new(ProbingHook {
            arm: arm.name.clone(),
            // Redundant arms pay every payment by invoice.
            keysend_capable: !matches!(
                arm.strategy,
                Strategy::Redundant { .. } | Strategy::Paper(_)
            ),
            shared: self.shared.clone(),
            is_attacker,
            routers: BTreeMap::new(),
            next_probe: 0,
            probes: HashMap::new(),
            next_hold: 0,
            holds: BTreeMap::new(),
            released: HashSet::new(),
            observed: BTreeSet::new(),
            covered: BTreeSet::new(),
            identified: BTreeSet::new(),
            recipients: BTreeSet::new(),
            rows: String::new(),
            hold_ms_sum: 0.0,
            holds_done: 0,
            r: ProbingArmReport {
                arm: arm.name.clone(),
                legacy_receivers: self.legacy,
                ..Default::default()
            },
        })
    }
}

/// A probe in flight.
struct Probe {
    hold: u64,
    candidate: NodeIdx,
    path: Path,
}

/// A forward an attacker holds while its probes are out.
struct Hold {
    attacker: NodeIdx,
    /// The held `update_add_htlc`, to release.
    msg: Option<Output>,
    outgoing: HtlcRef,
    incoming_msat: u64,
    outgoing_msat: u64,
    payment: u64,
    probes_out: u32,
    since: Timestamp,
}

struct ProbingHook {
    arm: String,
    keysend_capable: bool,
    shared: Arc<Shared>,
    is_attacker: Vec<bool>,
    /// Each attacker's own pathfinder and beliefs.
    routers: BTreeMap<NodeIdx, Pathfinder<LiquidityBoundsScorer>>,
    next_probe: u64,
    probes: HashMap<u64, Probe>,
    next_hold: u64,
    holds: BTreeMap<u64, Hold>,
    /// Held messages released: let them through once.
    released: HashSet<(NodeIdx, HtlcRef)>,
    observed: BTreeSet<u64>,
    covered: BTreeSet<u64>,
    identified: BTreeSet<u64>,
    recipients: BTreeSet<NodeIdx>,
    rows: String,
    hold_ms_sum: f64,
    holds_done: u64,
    r: ProbingArmReport,
}

impl ProbingHook {
    /// Who an attacker probes for an HTLC it forwards to `next`: the next hop, its
    /// peers by the capacity of their channel with it, the known receivers.
    fn candidates(&self, graph: &Graph, attacker: NodeIdx, next: NodeIdx) -> Vec<NodeIdx> {
        let mut out = vec![next];
        let mut peers: Vec<(u64, NodeIdx)> = graph
            .out_edges(next)
            .iter()
            .map(|e| {
                (
                    graph.channel(e.channel()).capacity_sat,
                    graph.edge_target(*e),
                )
            })
            .collect();
        peers.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut onward = 0;
        for (_, p) in peers {
            if onward == self.shared.onward {
                break;
            }
            if p != attacker && !out.contains(&p) {
                out.push(p);
                onward += 1;
            }
        }
        for &k in &self.shared.known {
            if k != attacker && !out.contains(&k) {
                out.push(k);
            }
        }
        out
    }

    /// Sends one probe: `hash` and `amount` from `attacker` to `candidate`, no secret.
    fn send_probe(
        &mut self,
        attacker: NodeIdx,
        candidate: NodeIdx,
        (hash, amount): (PaymentHash, u64),
        hold: u64,
        cx: &mut HookCx<'_>,
    ) -> bool {
        let graph = cx.net.graph().clone();
        let router = self.routers.entry(attacker).or_insert_with(|| {
            let mut r = Pathfinder::new(LiquidityBoundsScorer::new(&graph, attacker));
            r.prepare(&graph);
            r
        });
        let request = RouteRequest {
            source: attacker,
            target: candidate,
            amount_msat: amount,
            final_cltv_delta: self.shared.final_cltv_delta + FINAL_CLTV_PADDING,
            limits: Limits {
                max_fee_msat: (amount as u128 * self.shared.fee_limit_ppm as u128 / 1_000_000)
                    as u64
                    + self.shared.fee_limit_base_sat * 1000,
                max_total_cltv: 2016,
                max_parts: 1,
                min_part_msat: amount,
                max_path_len: 20,
                excluded_edges: Vec::new(),
                excluded_nodes: Vec::new(),
            },
            // The attacker replays probes; its own balances are not the question.
            first_hops: None,
        };
        let Some(path) = router
            .find_route(&graph, &request, cx.clock.now)
            .ok()
            .and_then(|r| r.paths.into_iter().next())
        else {
            self.r.probes_unroutable += 1;
            return false;
        };
        let k = self.next_probe;
        self.next_probe += 1;
        let id = PartId((PROBE_BASE + k) << SESSION_SHIFT);
        debug_assert_eq!(PaymentSession::session_of(id), PROBE_BASE + k);
        let sent = cx.net.send(
            SendPart {
                id,
                path: &path,
                payment_hash: hash,
                payment_data: None,
                keysend_preimage: None,
            },
            cx.clock,
            cx.out,
        );
        match sent {
            Ok(_) => {
                router.htlcs_in_flight(&graph, &path, true);
                self.probes.insert(
                    k,
                    Probe {
                        hold,
                        candidate,
                        path,
                    },
                );
                self.r.probes_sent += 1;
                true
            }
            Err(e) => {
                if let Some(pf) = e.path_failure() {
                    router.path_failed(&graph, &path, pf, cx.clock.now);
                }
                self.r.probes_refused_first_hop += 1;
                false
            }
        }
    }

    /// An attacker forwards a measured payment's HTLC: probe, and hold it if any probe
    /// left. Returns the output when it is not held.
    fn on_forward(&mut self, o: Output, cx: &mut HookCx<'_>) -> Option<Output> {
        let Output::Message {
            from,
            to,
            msg: Msg::AddHtlc(add),
        } = &o
        else {
            return Some(o);
        };
        let (attacker, next, outgoing) = (*from, *to, add.htlc);
        let (hash, amount) = (add.payment_hash, add.amount_msat);
        let Some(incoming_msat) = cx.net.node(attacker).forwarded_from(outgoing) else {
            return Some(o);
        };
        let Some(payment) = cx
            .net
            .part_of(add)
            .map(PaymentSession::session_of)
            .filter(|&p| p < MEASURED_IDS && (p as usize) < self.shared.truth.len())
        else {
            return Some(o);
        };
        let truth = self.shared.truth[payment as usize];
        if self.observed.insert(payment) {
            self.r.payments_observed += 1;
            if truth.keysend && self.keysend_capable {
                self.r.keysend_observed += 1;
            }
        }
        self.r.htlcs_probed += 1;
        let graph = cx.net.graph().clone();
        let candidates = self.candidates(&graph, attacker, next);
        if candidates.contains(&truth.destination) && self.covered.insert(payment) {
            self.r.recipient_among_candidates += 1;
        }
        let hold = self.next_hold;
        let mut sent = 0;
        for c in candidates {
            if self.send_probe(attacker, c, (hash, amount), hold, cx) {
                sent += 1;
            }
        }
        if sent == 0 {
            return Some(o);
        }
        self.next_hold += 1;
        self.holds.insert(
            hold,
            Hold {
                attacker,
                msg: Some(o),
                outgoing,
                incoming_msat,
                outgoing_msat: amount,
                payment,
                probes_out: sent,
                since: cx.clock.now,
            },
        );
        None
    }

    /// A probe came back: what it says, a short circuit if it revealed the preimage,
    /// and the held forward released once every probe is back.
    fn on_probe(&mut self, k: u64, event: &Event, cx: &mut HookCx<'_>) {
        let Some(p) = self.probes.remove(&k) else {
            return;
        };
        let graph = cx.net.graph().clone();
        let now = cx.clock.now;
        let Some(hold) = self.holds.get(&p.hold) else {
            return;
        };
        let attacker = hold.attacker;
        if let Some(router) = self.routers.get_mut(&attacker) {
            router.htlcs_in_flight(&graph, &p.path, false);
            match event {
                Event::PartSettled { .. } => router.path_succeeded(&graph, &p.path, now),
                Event::PartFailed { path_failure, .. } => {
                    router.path_failed(&graph, &p.path, *path_failure, now)
                }
                Event::PaymentReceived { .. }
                | Event::ClaimRequested { .. }
                | Event::PartRefunded { .. } => {}
            }
        }
        let answer = match event {
            Event::PartSettled { preimage, .. } => {
                self.r.probes_answered += 1;
                self.r.probes_settled += 1;
                self.r.probe_fees_paid_msat += p.path.fee_msat();
                Some(("settled", Some(*preimage)))
            }
            Event::PartFailed { failure, .. } if failure.origin_hop + 1 == p.path.hops.len() => {
                self.r.probes_answered += 1;
                // The one answer that teaches nothing: the same as for an unknown hash.
                (failure.code != FailureCode::IncorrectOrUnknownPaymentDetails)
                    .then_some((failure.code.name(), None))
            }
            Event::PartFailed { .. } => {
                self.r.probes_failed_en_route += 1;
                None
            }
            Event::PaymentReceived { .. }
            | Event::ClaimRequested { .. }
            | Event::PartRefunded { .. } => None,
        };
        if let Some((how, preimage)) = answer {
            let payment = hold.payment;
            let truth = self.shared.truth[payment as usize];
            let mut short = false;
            if let Some(preimage) = preimage {
                let hold = self.holds.get_mut(&p.hold).expect("present");
                if hold.msg.is_some()
                    && cx
                        .net
                        .short_circuit_forward(attacker, hold.outgoing, preimage, cx.out)
                        .is_ok()
                {
                    hold.msg = None;
                    short = true;
                    let r = &mut self.r;
                    r.short_circuits += 1;
                    r.short_circuit_income_msat +=
                        hold.incoming_msat.saturating_sub(p.path.sent_msat());
                    r.honest_forward_fees_msat +=
                        hold.incoming_msat.saturating_sub(hold.outgoing_msat);
                    r.downstream_fees_lost_msat +=
                        hold.outgoing_msat.saturating_sub(truth.amount_msat);
                    r.receivers_overpaid_msat +=
                        p.path.amount_msat().saturating_sub(truth.amount_msat);
                    self.hold_ms_sum += now.secs_since(hold.since) * 1000.0;
                    self.holds_done += 1;
                }
            }
            if p.candidate == truth.destination {
                if self.identified.insert(payment) {
                    self.r.recipients_identified += 1;
                    if truth.keysend && self.keysend_capable {
                        self.r.keysend_identified += 1;
                    }
                    self.recipients.insert(p.candidate);
                    csv_row(
                        &mut self.rows,
                        &self.arm,
                        format_args!(
                            "{},{},{},{},{},{},{}",
                            payment,
                            graph.node(attacker).pubkey,
                            graph.node(p.candidate).pubkey,
                            truth.keysend && self.keysend_capable,
                            truth.amount_msat,
                            how,
                            short
                        ),
                    );
                }
            } else {
                self.r.false_identifications += 1;
            }
        }
        let hold = self.holds.get_mut(&p.hold).expect("present");
        hold.probes_out -= 1;
        if hold.probes_out == 0 {
            let hold = self.holds.remove(&p.hold).expect("present");
            if let Some(msg) = hold.msg {
                self.released.insert((hold.attacker, hold.outgoing));
                cx.out.push(msg);
                self.hold_ms_sum += now.secs_since(hold.since) * 1000.0;
                self.holds_done += 1;
            }
        }
    }
}

impl ArmHook for ProbingHook {
    fn on_output(&mut self, o: Output, cx: &mut HookCx<'_>) -> Option<Output> {
        match &o {
            Output::Message {
                from,
                msg: Msg::AddHtlc(add),
                ..
            } if self.is_attacker[from.ix()] => {
                if self.released.remove(&(*from, add.htlc)) {
                    return Some(o);
                }
                self.on_forward(o, cx)
            }
            Output::Event {
                event: e @ (Event::PartSettled { part, .. } | Event::PartFailed { part, .. }),
                ..
            } if PaymentSession::session_of(*part) >= PROBE_BASE => {
                let k = PaymentSession::session_of(*part) - PROBE_BASE;
                let e = e.clone();
                self.on_probe(k, &e, cx);
                None
            }
            _ => Some(o),
        }
    }

    fn on_payment(&mut self, _spec: &PaymentSpec, o: &PaymentOutcome, _now: Timestamp) {
        self.r.payments += 1;
        if o.succeeded {
            self.r.succeeded += 1;
        }
    }

    fn finish(mut self: Box<Self>, _net: &Network, _end: Timestamp) -> (ArmFieldReport, CsvRows) {
        let mut r = std::mem::take(&mut self.r);
        r.success_rate = r.succeeded as f64 / r.payments.max(1) as f64;
        r.distinct_recipients_identified = self.recipients.len() as u64;
        r.hold_ms_mean = self.hold_ms_sum / self.holds_done.max(1) as f64;
        let rows = CsvRows {
            files: vec![("probing-identified.csv", std::mem::take(&mut self.rows))],
            series: Vec::new(),
        };
        (ArmFieldReport::Probing(r), rows)
    }
}
