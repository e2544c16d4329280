//! Running an experiment: every arm on its own copy of the network, in parallel
//! threads, over the identical workload, liquidity and faults.
//!
//! One arm is one event loop: a single heap of events (payment starts, message
//! deliveries, protocol timers, sender deadlines) in virtual time, driving the
//! `flotilla-ln` state machines. Payments run concurrently and interact through the
//! liquidity they share.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bitcoin::hashes::{sha256, Hash, HashEngine};
use flotilla_graph::liquidity::Balances;
use flotilla_graph::{Graph, NodeIdx};
use flotilla_ln::clock::Clock;
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::lock::LockKind;
use flotilla_ln::msg::Msg;
use flotilla_ln::network::Network;
use flotilla_ln::output::{Event, Output, Timer};
use flotilla_ln::receiver::InvoiceRecord;
use flotilla_ln::receiver::RegisterError;
use flotilla_ln::redundant_session::RedundantSession;
use flotilla_ln::session::{PaymentSession, SessionLimits, SessionState};
use flotilla_route::scorers::LiquidityBoundsScorer;
use flotilla_route::{Pathfinder, Router, Timestamp};

use crate::arms::ArmSpec;
use crate::closed_loop::ClosedLoop;
use crate::faults::Faults;
use crate::latency::{LatencyPlan, MessageClass};
use crate::metrics::{ArmSummary, SummaryBuilder};
use crate::output::{OutputDir, PartWriter};
use crate::queue::EventQueue;
use crate::redundant_arm::{redundant_limits, start_redundant};
use crate::rng::stream;
use crate::scenario::{CancelSurplus, CommitmentMode, OnionMode, Scenario, WorkloadKind};
use crate::workload::PaymentSpec;

mod endpoint_timing;
mod paper_answers;
mod rows;
mod session;

use rows::attempt_json;
pub use rows::payment_row;
use session::{outcome_of, Session};

/// The block height at virtual time zero (any plausible mainnet height).
pub const START_HEIGHT: u32 = 900_000;

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The network could not be built (e.g. balances that do not fit).
    #[error("arm {arm}: {why}")]
    Setup {
        /// The arm.
        arm: String,
        /// Why.
        why: String,
    },
    /// The protocol rejected a step the driver took: a bug, reported rather than hidden.
    #[error("arm {arm}: internal error at t={at}: {why}")]
    Internal {
        /// The arm.
        arm: String,
        /// When.
        at: Timestamp,
        /// What.
        why: String,
    },
    /// Writing results failed.
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
}

/// Everything the arms share.
#[derive(Clone)]
pub struct RunInput<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// The graph.
    pub graph: Arc<Graph>,
    /// Initial balances.
    pub balances: &'a Balances,
    /// The payments.
    pub workload: &'a [PaymentSpec],
    /// Unreported background payments.
    pub background: &'a [PaymentSpec],
    /// Unreported warm-up payments routed by the arm's own router.
    pub warmup: &'a [PaymentSpec],
    /// Offline and hodl nodes.
    pub faults: &'a Faults,
    /// Policy overrides, resolved to nodes.
    pub overrides: &'a [(NodeIdx, flotilla_ln::config::PolicyOverride)],
    /// Per-node channel parameters, resolved to nodes.
    pub channel_overrides: &'a [(NodeIdx, flotilla_ln::config::ChannelParamsOverride)],
    /// Boomerang points computed so far, shared by the arms (each payment's polynomial
    /// is the same in every arm).
    pub point_memo: Arc<flotilla_ln::boomerang::PointMemo>,
    /// A field scenario's variant: node settings and a hook into each arm's loop.
    pub field: Option<&'a dyn crate::field::FieldRun>,
}

/// Per-arm result.
#[derive(Debug)]
pub struct ArmResult {
    /// The summary.
    pub summary: ArmSummary,
    /// Every payment's outcome, for the paired comparisons.
    pub outcomes: crate::stats::ArmOutcomes,
    /// Events the arm processed.
    pub events: u64,
    /// A field scenario's report and CSV rows for this arm.
    pub field: Option<(crate::field::ArmFieldReport, crate::field::CsvRows)>,
    /// The oracle's answer per payment (`None` when it is off).
    pub oracle: Option<crate::oracle::OracleTally>,
    /// When the arm started its first and its last measured payment: the workload's
    /// own start times in an open loop, the arm's in a closed loop.
    pub start_span: Option<(Timestamp, Timestamp)>,
}

impl ArmResult {
    /// Seconds from the first measured payment's start to the last one's.
    pub fn start_span_secs(&self) -> f64 {
        self.start_span
            .map(|(a, b)| (b - a) as f64 / 1e6)
            .unwrap_or(0.0)
    }
}

enum Ev {
    Start(usize),
    Deliver {
        from: NodeIdx,
        to: NodeIdx,
        msg: Msg,
    },
    Fire(NodeIdx, Timer),
    Deadline(u64),
    /// A hedged redundant payment's surplus is due ([`RedundantSession::hedge_at`]).
    Hedge(u64),
    /// Background payment `j` starts.
    Background(usize),
    /// Warm-up payment `j` starts.
    Warmup(usize),
    /// A redundant payment's endpoint message (claim request, reveal, cancel) reaches
    /// `to` as an onion message that travelled `hops` hops; an answer goes back over as
    /// many.
    Endpoint {
        from: NodeIdx,
        to: NodeIdx,
        msg: Msg,
        hops: usize,
    },
}

/// When a message drawn to arrive at `at` over `link` arrives: in full commitment mode a
/// link delivers in order (the exchange relies on it), so never before the link's last.
fn in_link_order(
    at: Timestamp,
    link: (NodeIdx, NodeIdx),
    full_commitment: bool,
    link_last: &mut HashMap<(NodeIdx, NodeIdx), Timestamp>,
) -> Timestamp {
    if !full_commitment {
        return at;
    }
    let last = link_last.entry(link).or_insert(at);
    let at = at.max(*last);
    *last = at;
    at
}

/// A hedged payment's expected time per hop of its longest path until its sender hears
/// it is complete: the add out and the claim request back (hash locks) or the fulfil
/// back (`boomerang`, whose receiver claims at once).
fn hedge_hop_micros(delays: &LatencyPlan, lock: LockKind) -> u64 {
    let e = |c: MessageClass| crate::oracle::expected_latency_micros(delays.model(c));
    let back = match lock {
        LockKind::Boomerang => e(MessageClass::Fulfill),
        _ => e(MessageClass::ClaimRequest),
    };
    (e(MessageClass::Add) + back).round() as u64
}

/// Background sessions' ids start here, far above any workload index.
const BACKGROUND_BASE: u64 = 1 << 40;

/// Mixed into the seed for background payments' keys, so they never collide with the
/// workload's.
const BACKGROUND_SALT: u64 = 0x6261_636b_6772_6f75;

/// Warm-up sessions' ids start here (below the background's, above any workload index).
const WARMUP_BASE: u64 = 1 << 39;

/// Mixed into the seed for warm-up payments' keys.
/// Events between two full invariant checks of an arm's network
/// ([`Network::check_invariants`], O(channels + HTLCs), about a millisecond on the
/// mainnet snapshot): often enough that a long run stops near where the books first
/// broke, rare enough to cost under 0.1% of a run.
pub const INVARIANT_CHECK_EVERY: u64 = 1 << 18;

const WARMUP_SALT: u64 = 0x7761_726d_7570_7061;

/// The router background payments use: flotilla's pathfinder with its own beliefs.
fn background_router(graph: &Graph) -> Pathfinder<LiquidityBoundsScorer> {
    let mut r = Pathfinder::new(LiquidityBoundsScorer::new(graph, NodeIdx(0)));
    r.prepare(graph);
    r
}

/// The invoice a receiver registers for an ordinary (hash-locked) payment `spec`.
fn plain_invoice(
    keys: &PaymentKeys,
    spec: &PaymentSpec,
    final_cltv_delta: u32,
    now: Timestamp,
) -> InvoiceRecord {
    InvoiceRecord {
        preimage: keys.preimage,
        payment_secret: keys.secret,
        amount_msat: Some(spec.amount_msat),
        min_final_cltv_expiry_delta: final_cltv_delta,
        expires_at: now + 3_600_000_000,
    }
}

/// The sender's session for an ordinary payment `spec` with id `id`.
fn plain_session(
    id: u64,
    spec: &PaymentSpec,
    keys: &PaymentKeys,
    limits: SessionLimits,
    now: Timestamp,
) -> PaymentSession {
    let s = PaymentSession::new(
        id,
        spec.source,
        spec.destination,
        spec.amount_msat,
        keys.hash,
        keys.secret,
        limits,
        now,
    );
    if spec.keysend {
        s.with_keysend(keys.preimage)
    } else {
        s
    }
}

/// The preimage and secret of payment `index`: derived from the seed, so every arm
/// pays the same invoice and outputs do not depend on thread scheduling.
fn payment_keys(seed: u64, index: usize) -> PaymentKeys {
    let mut e = sha256::Hash::engine();
    e.input(b"flotilla-payment");
    e.input(&seed.to_le_bytes());
    e.input(&(index as u64).to_le_bytes());
    let preimage = sha256::Hash::from_engine(e).to_byte_array();
    let secret = sha256::Hash::hash(&preimage).to_byte_array();
    PaymentKeys::from_bytes(preimage, sha256::Hash::hash(&secret).to_byte_array())
}

/// Runs `arms` (one thread each), streaming rows into `out` as parts numbered from
/// `offset`. `progress` counts each arm's finished payments (arm `offset + i`).
pub fn run_arms(
    input: &RunInput<'_>,
    arms: &[ArmSpec],
    offset: usize,
    out: &OutputDir,
    progress: &dyn crate::progress::ProgressSink,
) -> Result<Vec<ArmResult>, RunError> {
    let results: Vec<Result<ArmResult, RunError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = arms
            .iter()
            .enumerate()
            .map(|(i, arm)| {
                let payments = out.part_writer("payments.csv", offset + i);
                let attempts = out.attempts_writer(offset + i);
                let progress = progress.arm(offset + i);
                scope.spawn(move || {
                    let payments = payments?;
                    let attempts = attempts?;
                    run_arm(input, arm, payments, attempts, progress)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(r) => r,
                Err(_) => Err(RunError::Internal {
                    arm: "?".into(),
                    at: Timestamp::ZERO,
                    why: "an arm's thread panicked".into(),
                }),
            })
            .collect()
    });
    results.into_iter().collect()
}

fn run_arm(
    input: &RunInput<'_>,
    arm: &ArmSpec,
    payments_out: PartWriter,
    mut attempts_out: PartWriter,
    progress: &AtomicU64,
) -> Result<ArmResult, RunError> {
    let sc = input.scenario;
    let setup = |why: String| RunError::Setup {
        arm: arm.name.clone(),
        why,
    };
    let mut configs = input.faults.node_configs(
        &input.graph,
        &sc.receiver,
        &sc.network,
        input.overrides,
        input.channel_overrides,
    );
    if let Some(f) = input.field {
        f.adjust_configs(&mut configs);
    }
    let mut net = Network::new(input.graph.clone(), input.balances.clone(), configs)
        .map_err(|e| setup(e.to_string()))?;
    net.set_block_interval(std::time::Duration::from_secs(
        sc.network.block_interval_secs,
    ));
    if sc.network.onion == OnionMode::Real {
        net.enable_real_onions(sc.seed);
    }
    let full_commitment = sc.network.commitment == CommitmentMode::Full;
    if full_commitment {
        net.set_commit_mode(flotilla_ln::node::CommitMode::Full);
    }
    // Full commitment mode: messages between two peers arrive in the order they were
    // sent (a TCP stream), so each link's next message arrives no earlier than its last.
    let mut link_last: HashMap<(NodeIdx, NodeIdx), Timestamp> = HashMap::new();
    net.share_point_memo(Arc::clone(&input.point_memo));
    let graph = net.graph().clone();
    let mut router: Box<dyn Router> = arm.build_router(&graph, sc.seed);
    let mut hook = input.field.map(|f| f.arm_hook(arm, &net));
    let delays = LatencyPlan::new(&sc.network.latency, &sc.network.latency_by_message);
    let mut oracle = sc.oracle.enabled.then(|| {
        let hop = crate::oracle::hop_round_trip_micros(&delays, full_commitment);
        crate::oracle::Oracle::new(&net, hop, input.workload.len())
    });
    let limits = |amount_msat: u64| SessionLimits {
        timeout_micros: sc.sender.timeout_secs * 1_000_000,
        max_attempts: sc.sender.max_attempts,
        max_parts: arm.max_parts(sc.sender.max_parts),
        min_part_msat: sc.sender.min_part_sat * 1000,
        max_fee_msat: sc.sender.fee_limit_msat(amount_msat),
        final_cltv_delta: sc.sender.final_cltv_delta,
        min_route_probability: sc.sender.min_route_probability,
    };
    let mut latency = stream(sc.seed, "latency");
    let cancel_surplus = sc.sender.cancel_surplus;
    let delays = match cancel_surplus {
        CancelSurplus::Instant => delays.with_zero(MessageClass::CancelHtlc),
        _ => delays,
    };
    let paper = matches!(arm.strategy, crate::arms::Strategy::Paper(_));
    let block_micros = sc.network.block_interval_secs * 1_000_000;
    let mut q: EventQueue<Ev> = EventQueue::new();
    // A closed loop starts each sender's first payments now and the rest as earlier
    // ones finish; an open loop chains every start to the previous one.
    let mut closed = match sc.workload.kind {
        WorkloadKind::ClosedLoop => Some(
            ClosedLoop::new(&graph, input.workload, &sc.workload.closed_loop, sc.seed)
                .map_err(|e| setup(e.to_string()))?,
        ),
        _ => None,
    };
    match closed.as_mut() {
        Some(cl) => {
            for (at, i) in cl.initial() {
                q.push(at, Ev::Start(i));
            }
        }
        None => {
            if let Some(first) = input.workload.first() {
                q.push(first.start, Ev::Start(0));
            }
        }
    }
    let mut start_span: Option<(Timestamp, Timestamp)> = None;
    if let Some(first) = input.background.first() {
        q.push(first.start, Ev::Background(0));
    }
    if let Some(first) = input.warmup.first() {
        q.push(first.start, Ev::Warmup(0));
    }
    let mut sessions: HashMap<u64, Session> = HashMap::new();
    // Paper arms: when each decided payment's parts all had their reserve answers.
    let mut answered: HashMap<u64, Timestamp> = HashMap::new();
    let no_nodes: Vec<NodeIdx> = Vec::new();
    // Background payments: their own router (so they teach the arm nothing) and
    // sessions, ids from BACKGROUND_BASE up; they move liquidity and are not reported.
    let mut bg_router = background_router(&graph);
    let mut bg_sessions: HashMap<u64, PaymentSession> = HashMap::new();
    let mut out: Vec<Output> = Vec::new();
    let mut batch: Vec<Output> = Vec::new();
    let mut endpoints: Vec<(NodeIdx, NodeIdx, Msg)> = Vec::new();
    let mut summary = SummaryBuilder::default();
    let mut outcomes = crate::stats::ArmOutcomes::new(input.workload.len());
    // Rows are written as payments finish, not in workload order: a payment with a part
    // held by a hodl node finishes only when that HTLC times out (hours or days later),
    // and holding every later row back until then made memory grow with the run. The
    // order is still deterministic; the `payment` column gives the workload order.
    let mut rows = payments_out;
    let mut events = 0u64;
    let mut line = String::new();
    while let Some((now, ev)) = q.pop() {
        events += 1;
        if events % INVARIANT_CHECK_EVERY == 0 {
            net.check_invariants().map_err(|e| RunError::Internal {
                arm: arm.name.clone(),
                at: now,
                why: e.to_string(),
            })?;
        }
        let clock = Clock::new(now, START_HEIGHT + (now.micros() / block_micros) as u32);
        if let Some(h) = hook.as_mut() {
            h.before_event(now, &net);
        }
        let internal = |why: String| RunError::Internal {
            arm: arm.name.clone(),
            at: now,
            why,
        };
        let mut touched: Option<u64> = None;
        let mut endpoint_hops = 0usize;
        match ev {
            Ev::Start(i) => {
                if closed.is_none() {
                    if let Some(next) = input.workload.get(i + 1) {
                        q.push(next.start, Ev::Start(i + 1));
                    }
                }
                let spec = &input.workload[i];
                // The best any sender could do, from this arm's balances before the
                // payment's first part leaves.
                if let Some(o) = oracle.as_mut() {
                    o.before_payment(spec, &net);
                }
                let keys = payment_keys(sc.seed, i);
                if let Some((lock, strategy, retry)) = arm.redundancy(sc.sender.adaptive_target) {
                    let excluded = match lock {
                        LockKind::H2tlc => &input.faults.no_h2tlc,
                        LockKind::Boomerang => &input.faults.no_ptlc,
                        _ => &no_nodes,
                    };
                    let mut limits = arm.redundant_limits(
                        redundant_limits(&sc.sender, strategy, retry, spec.amount_msat, excluded),
                        spec.amount_msat,
                    );
                    if arm.is_hedged() {
                        limits.hedge_hop_micros = Some(hedge_hop_micros(&delays, lock));
                    }
                    let mut s = match start_redundant(
                        &mut net,
                        i as u64,
                        spec,
                        &keys,
                        lock,
                        limits,
                        sc.seed,
                        &input.point_memo,
                        paper && lock == LockKind::Boomerang,
                        now,
                    ) {
                        Ok(mut s) => {
                            // The paper's sender stops when nothing is travelling.
                            if paper {
                                s = s.give_up_when_none_travelling();
                            }
                            if !cancel_surplus.is_off() {
                                s = s.cancel_surplus_on_completion();
                            }
                            Session::Redundant(Box::new(s))
                        }
                        // No equal split for boomerang: the payment cannot be made.
                        Err(RegisterError::BadPolynomial) => Session::Unpayable(now),
                        Err(e) => return Err(internal(format!("payment {i}: {e}"))),
                    };
                    s.pump(router.as_mut(), &mut net, &clock, &mut out);
                    q.push(s.deadline(), Ev::Deadline(i as u64));
                    if let Session::Redundant(r) = &mut s {
                        if let Some(at) = r.hedge_at() {
                            q.push(at, Ev::Hedge(i as u64));
                        }
                        if paper {
                            // A paper arm that gave up at once (parts refused at its
                            // first hop) aborts what it sent.
                            r.send_surplus_cancels(&mut net, &mut out);
                        }
                    }
                    touched = Some(i as u64);
                    sessions.insert(i as u64, s);
                } else {
                    if !spec.keysend {
                        net.register_invoice(
                            spec.destination,
                            keys.hash,
                            plain_invoice(&keys, spec, sc.sender.final_cltv_delta, now),
                        )
                        .map_err(|e| internal(format!("payment {i}: {e}")))?;
                    }
                    let mut s = Session::Mpp(Box::new(plain_session(
                        i as u64,
                        spec,
                        &keys,
                        limits(spec.amount_msat),
                        now,
                    )));
                    s.pump(router.as_mut(), &mut net, &clock, &mut out);
                    q.push(s.deadline(), Ev::Deadline(i as u64));
                    touched = Some(i as u64);
                    sessions.insert(i as u64, s);
                }
            }
            Ev::Deliver { from, to, msg } => {
                touched = paper_answers::deliver(
                    &mut net,
                    &mut sessions,
                    paper,
                    (from, to, msg),
                    &clock,
                    now,
                    &mut out,
                )
                .map_err(internal)?;
            }
            Ev::Fire(node, t) => net.fire(node, t, &clock, &mut out),
            Ev::Deadline(id) => {
                if let Some(s) = sessions.get_mut(&id) {
                    s.on_deadline(now);
                    if let (true, Session::Redundant(r)) = (paper, &mut *s) {
                        r.send_surplus_cancels(&mut net, &mut out);
                    }
                    touched = Some(id);
                } else if let Some(s) = bg_sessions.get_mut(&id) {
                    s.on_deadline(now);
                    touched = Some(id);
                }
            }
            Ev::Hedge(id) => {
                if let Some(Session::Redundant(s)) = sessions.get_mut(&id) {
                    s.hedge(router.as_mut(), &mut net, &clock, &mut out);
                    touched = Some(id);
                }
            }
            Ev::Warmup(j) => {
                if let Some(next) = input.warmup.get(j + 1) {
                    q.push(next.start, Ev::Warmup(j + 1));
                }
                let spec = &input.warmup[j];
                let keys = payment_keys(sc.seed ^ WARMUP_SALT, j);
                net.register_invoice(
                    spec.destination,
                    keys.hash,
                    plain_invoice(&keys, spec, sc.sender.final_cltv_delta, now),
                )
                .map_err(|e| internal(format!("warm-up payment {j}: {e}")))?;
                let id = WARMUP_BASE + j as u64;
                let mut s = Session::Mpp(Box::new(plain_session(
                    id,
                    spec,
                    &keys,
                    limits(spec.amount_msat),
                    now,
                )));
                s.pump(router.as_mut(), &mut net, &clock, &mut out);
                q.push(s.deadline(), Ev::Deadline(id));
                touched = Some(id);
                sessions.insert(id, s);
            }
            Ev::Background(j) => {
                if let Some(next) = input.background.get(j + 1) {
                    q.push(next.start, Ev::Background(j + 1));
                }
                let spec = &input.background[j];
                let keys = payment_keys(sc.seed ^ BACKGROUND_SALT, j);
                net.register_invoice(
                    spec.destination,
                    keys.hash,
                    plain_invoice(&keys, spec, sc.sender.final_cltv_delta, now),
                )
                .map_err(|e| internal(format!("background payment {j}: {e}")))?;
                let id = BACKGROUND_BASE + j as u64;
                let mut s = plain_session(
                    id,
                    spec,
                    &keys,
                    SessionLimits {
                        max_attempts: 3,
                        max_parts: 1,
                        ..limits(spec.amount_msat)
                    },
                    now,
                );
                s.pump(&mut bg_router, &mut net, &clock, &mut out);
                q.push(s.deadline(), Ev::Deadline(id));
                touched = Some(id);
                bg_sessions.insert(id, s);
            }
            Ev::Endpoint {
                from,
                to,
                msg,
                hops,
            } => {
                endpoint_hops = hops;
                net.deliver(to, from, msg, &clock, &mut out)
                    .map_err(|e| internal(e.to_string()))?;
            }
        }
        // Outputs can cause more outputs (a failed part is re-routed at once), so drain
        // until nothing is left.
        let mut finished: Vec<u64> = touched.into_iter().collect();
        while !out.is_empty() {
            std::mem::swap(&mut out, &mut batch);
            for o in batch.drain(..) {
                let o = match hook.as_mut() {
                    Some(h) => {
                        let mut cx = crate::field::HookCx {
                            net: &mut net,
                            clock: &clock,
                            out: &mut out,
                        };
                        match h.on_output(o, &mut cx) {
                            Some(o) => o,
                            None => continue,
                        }
                    }
                    None => o,
                };
                match o {
                    // Endpoint messages travel as onion messages over several hops; they
                    // are timed after the step's other messages.
                    Output::Message {
                        from,
                        to,
                        msg: msg @ Msg::Endpoint(_),
                    } => endpoints.push((from, to, msg)),
                    Output::Message { from, to, msg } => {
                        let at = now + delays.draw_msg(&msg, &mut latency);
                        let at = in_link_order(at, (from, to), full_commitment, &mut link_last);
                        q.push(at, Ev::Deliver { from, to, msg });
                    }
                    Output::Timer { at, node, timer } => q.push(at, Ev::Fire(node, timer)),
                    Output::Event {
                        node,
                        event:
                            Event::ClaimRequested {
                                receiver,
                                payment_id,
                                parts,
                            },
                    } => {
                        // The sender answers a claim request with the secrets of a subset
                        // worth exactly A.
                        let id = RedundantSession::session_of_payment_id(&payment_id);
                        if let Some(Session::Redundant(s)) = sessions.get_mut(&id) {
                            if s.payment_id() == payment_id {
                                if let Some(secrets) = s.on_claim_request(&parts) {
                                    net.node_mut(node)
                                        .reveal(receiver, payment_id, secrets, &mut out);
                                    s.send_surplus_cancels(&mut net, &mut out);
                                }
                            }
                        }
                    }
                    Output::Event { event, .. } => {
                        let (part, failed) = match &event {
                            Event::PartSettled { part, .. } => (*part, false),
                            Event::PartFailed { part, .. } => (*part, true),
                            Event::PartRefunded { part, .. } => (*part, false),
                            Event::PaymentReceived { .. } | Event::ClaimRequested { .. } => {
                                continue
                            }
                        };
                        let id = PaymentSession::session_of(part);
                        if let Some(s) = sessions.get_mut(&id) {
                            s.on_part_event(&event, router.as_mut(), &net, now);
                            if let Session::Redundant(r) = s {
                                r.send_surplus_cancels(&mut net, &mut out);
                            }
                            if failed {
                                s.pump(router.as_mut(), &mut net, &clock, &mut out);
                                if let (true, Session::Redundant(r)) = (paper, &mut *s) {
                                    r.send_surplus_cancels(&mut net, &mut out);
                                }
                            }
                            finished.push(id);
                        } else if let Some(s) = bg_sessions.get_mut(&id) {
                            s.on_part_event(&event, &mut bg_router, &net, now);
                            if failed {
                                s.pump(&mut bg_router, &mut net, &clock, &mut out);
                            }
                            finished.push(id);
                        }
                    }
                }
            }
        }
        endpoint_timing::schedule_endpoints(
            &mut endpoints,
            &sessions,
            endpoint_hops,
            now,
            &delays,
            &mut latency,
            &mut q,
        );
        for id in finished {
            if let Some(s) = bg_sessions.get_mut(&id) {
                s.drain_attempts().for_each(drop);
                if s.state() != SessionState::Active {
                    let j = (id - BACKGROUND_BASE) as usize;
                    if !matches!(s.state(), SessionState::Succeeded(_)) {
                        let hash = payment_keys(sc.seed ^ BACKGROUND_SALT, j).hash;
                        net.cancel_invoice(input.background[j].destination, &hash);
                    }
                    bg_sessions.remove(&id);
                }
                continue;
            }
            let Some(s) = sessions.get_mut(&id) else {
                continue;
            };
            if let Session::Redundant(r) = s {
                // A sender that gave up cancels the parts the receiver holds; the cancel
                // travels like the claim request. A boomerang over-claim is refunded
                // through the reverse clauses, hop by hop from the sender.
                if r.take_cancel() {
                    let sender = input.workload[id as usize].source;
                    endpoint_timing::send_cancel(
                        r,
                        sender,
                        &mut net,
                        now,
                        &delays,
                        &mut latency,
                        &mut q,
                    );
                }
                if let Some((p0, parts)) = r.take_refund() {
                    let sender = input.workload[id as usize].source;
                    let mut sent = Vec::with_capacity(parts.len());
                    let n = net
                        .node_mut(sender)
                        .claim_reverse(&parts, &p0, &clock, &mut sent);
                    r.refund_claims_sent(n);
                    for o in sent {
                        if let Output::Message { from, to, msg } = o {
                            let at = now + delays.draw_msg(&msg, &mut latency);
                            let at = in_link_order(at, (from, to), full_commitment, &mut link_last);
                            q.push(at, Ev::Deliver { from, to, msg });
                        }
                    }
                }
            }
            if id >= WARMUP_BASE {
                // Warm-up payments taught the router; they have no rows.
                drop(s.drain_attempts());
                if s.is_finished() {
                    let j = (id - WARMUP_BASE) as usize;
                    let hash = payment_keys(sc.seed ^ WARMUP_SALT, j).hash;
                    net.cancel_invoice(input.warmup[j].destination, &hash);
                    sessions.remove(&id);
                }
                continue;
            }
            if paper && s.is_decided() && s.parts_travelling() == 0 {
                // Every part has its reserve answer: the paper's runtime ends here.
                answered.entry(id).or_insert(now);
            }
            if let Some(cl) = closed.as_mut() {
                // The sender learns the outcome when its session decides; a redundant
                // payment's surplus parts may still be on their way back. The paper's
                // sender starts its next transfer only once every part of this one has
                // its reserve answer (docs/paper-model.md).
                if s.is_decided() && (!paper || answered.contains_key(&id)) {
                    if let Some((at, next)) = cl.on_finished(id as usize, now) {
                        q.push(at, Ev::Start(next));
                    }
                }
            }
            for a in s.drain_attempts() {
                if let Some(h) = hook.as_mut() {
                    h.on_attempt(&a);
                }
                if attempts_out.is_on() {
                    line.clear();
                    attempt_json(&graph, &arm.name, &a, &mut line);
                    attempts_out.write(line.as_bytes())?;
                }
            }
            if !s.is_finished() {
                continue;
            }
            let s = sessions.remove(&id).expect("present");
            // The row carries the moment the arm started the payment (a closed loop's
            // start is the arm's own; an open loop's is the workload's).
            let started = s.started();
            let spec = &PaymentSpec {
                start: started,
                ..input.workload[id as usize].clone()
            };
            start_span = Some(match start_span {
                Some((a, b)) => (a.min(started), b.max(started)),
                None => (started, started),
            });
            let outcome = outcome_of(&s, spec, now, answered.remove(&id));
            summary.add(&outcome);
            outcomes.record(&outcome);
            if let Some(h) = hook.as_mut() {
                h.on_payment(spec, &outcome, now);
            }
            let keys_hash = payment_keys(sc.seed, id as usize).hash;
            if !outcome.succeeded && matches!(s, Session::Mpp(_)) {
                net.cancel_invoice(spec.destination, &keys_hash);
            }
            rows.write(payment_row(&graph, &arm.name, spec, &keys_hash.0, &outcome).as_bytes())?;
            progress.fetch_add(1, Ordering::Relaxed);
        }
    }
    if let Some(n) = closed
        .as_ref()
        .map(ClosedLoop::unstarted)
        .filter(|&n| n > 0)
    {
        return Err(RunError::Internal {
            arm: arm.name.clone(),
            at: q.now(),
            why: format!("{n} closed-loop payments were never started"),
        });
    }
    if !sessions.is_empty() || !bg_sessions.is_empty() {
        return Err(RunError::Internal {
            arm: arm.name.clone(),
            at: q.now(),
            why: format!(
                "{} payments and {} background payments never finished",
                sessions.len(),
                bg_sessions.len()
            ),
        });
    }
    // Every build checks the books at the end, and that the drained event queue left no
    // HTLC unresolved (hodl HTLCs time out at their CLTV expiry; everything else settles
    // or fails on its way back).
    net.check_invariants().map_err(|e| RunError::Internal {
        arm: arm.name.clone(),
        at: q.now(),
        why: e.to_string(),
    })?;
    if !cancel_surplus.is_off() {
        let c = net.cancel_counters();
        tracing::info!(
            arm = %arm.name,
            sent = c.sent,
            relayed = c.relayed,
            stopped_on_arrival = c.stopped_on_arrival,
            stopped_held = c.stopped_held,
            ignored = c.ignored,
            "cancel_htlc"
        );
    }
    if net.live_htlcs() != 0 {
        return Err(RunError::Internal {
            arm: arm.name.clone(),
            at: q.now(),
            why: format!("{} HTLCs still live after the last event", net.live_htlcs()),
        });
    }
    rows.finish()?;
    attempts_out.finish()?;
    // The safety invariant, checked in every build: no receiver settled more than A
    // for any redundant payment (the sender-side count is `overpaid_msat`).
    for n in 0..graph.node_count() {
        let book = &net.receiver(NodeIdx(n as u32)).redundant;
        if let Some((_, due, got)) = book.overpaid() {
            return Err(RunError::Internal {
                arm: arm.name.clone(),
                at: q.now(),
                why: format!("receiver {n} kept {got} msat of a {due} msat payment"),
            });
        }
        // A refund a hop could not pay (no collateral in this model) is reported in
        // `boomerang_refunds_refused`; any other unrefunded over-claim is a bug.
        if book.pending_refunds() > 0 && net.counters().refunds_unfunded == 0 {
            return Err(RunError::Internal {
                arm: arm.name.clone(),
                at: q.now(),
                why: format!("receiver {n} over-claimed a boomerang payment never refunded"),
            });
        }
    }
    let mut summary = summary.finish(&arm.name);
    let counters = net.counters();
    summary.overclaim_attempts = counters.overclaim_attempts;
    summary.boomerang_refunds = counters.refunds;
    summary.boomerang_refunds_refused = counters.refunds_unfunded;
    [
        summary.tto_ms_mean,
        summary.tto_ms_p50,
        summary.tto_ms_p90,
        summary.tto_ms_p99,
    ] = outcomes.tto_summary();
    let field = hook.map(|h| h.finish(&net, q.now()));
    let oracle = oracle.map(|o| {
        let c = o.counts();
        tracing::info!(
            arm = %arm.name,
            wall_ms = o.spent().as_secs_f64() * 1e3,
            payments = c.payments,
            infeasible_at_ends = c.infeasible_at_ends,
            infeasible_searched = c.infeasible_searched,
            augmentations = c.augmentations,
            "oracle"
        );
        o.into_tally()
    });
    if let Some(o) = &oracle {
        summary.oracle = o.fields(&outcomes);
    }
    Ok(ArmResult {
        summary,
        outcomes,
        events,
        field,
        oracle,
        start_span,
    })
}

/// Wall-clock helper for `payments_per_second`.
pub fn elapsed_secs(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}
