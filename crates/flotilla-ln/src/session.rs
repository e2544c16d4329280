//! The sender's payment session: split, send, learn from failures, retry.
//!
//! One [`PaymentSession`] per payment. It asks a [`Router`] for paths for whatever
//! amount is not yet in flight or settled, sends them through the [`Network`], feeds
//! every outcome back to the router (so its scorer learns), and retries until the
//! payment settles, the receiver refuses it, the attempt budget is spent, or the
//! timeout passes. Like everything in this crate it is sans-IO: the driver hands it
//! events and the time; it never waits.
//!
//! With `max_parts = 1` it is single-path payment with retries; with more it is basic
//! MPP: parts share the payment hash and `payment_data` (secret, total), the receiver
//! holds them until the total arrives, and a failed part's amount is re-routed while
//! the others wait at the receiver.

use std::fmt;

use flotilla_graph::{EdgeIdx, NodeIdx};
use flotilla_route::{
    FailureKind, Limits, Path, PathFailure, RouteError, RouteRequest, Router, Timestamp,
};
use serde::Serialize;

use crate::clock::Clock;
use crate::failure::{Failure, FailureCode};
use crate::network::Network;
use crate::output::{Event, Output};
use crate::payload::PaymentData;
use crate::sender::{PartId, SendError, SendPart};
use crate::{PaymentHash, PaymentPreimage, PaymentSecret};

/// Why a payment failed, in the categories every report uses (one definition).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// The router found no path within the limits before any attempt failed.
    NoRoute,
    /// Attempts failed mostly for lack of liquidity or HTLC slots.
    Liquidity,
    /// Attempts failed mostly on policy checks (fees, CLTV, minimum, disabled).
    Policy,
    /// Attempts failed mostly at offline nodes (`unknown_next_peer`).
    Offline,
    /// The payment had not settled when the sender's timeout passed.
    Timeout,
    /// The receiver refused (`incorrect_or_unknown_payment_details`).
    ReceiverReject,
}

impl FailureReason {
    /// Every reason, in report order.
    pub const ALL: [FailureReason; 6] = [
        FailureReason::NoRoute,
        FailureReason::Liquidity,
        FailureReason::Policy,
        FailureReason::Offline,
        FailureReason::Timeout,
        FailureReason::ReceiverReject,
    ];

    /// The snake_case name used in CSV and JSON.
    pub fn name(self) -> &'static str {
        match self {
            FailureReason::NoRoute => "no_route",
            FailureReason::Liquidity => "liquidity",
            FailureReason::Policy => "policy",
            FailureReason::Offline => "offline",
            FailureReason::Timeout => "timeout",
            FailureReason::ReceiverReject => "receiver_reject",
        }
    }

    /// The category of a part the sender could not send.
    pub fn of_send_error(err: &SendError) -> FailureReason {
        match err {
            SendError::FirstHop { code, .. } => FailureReason::of_code(*code),
            _ => FailureReason::Policy,
        }
    }

    /// The category of one failed attempt.
    pub fn of_code(code: FailureCode) -> FailureReason {
        match code {
            FailureCode::TemporaryChannelFailure | FailureCode::TemporaryNodeFailure => {
                FailureReason::Liquidity
            }
            FailureCode::UnknownNextPeer
            | FailureCode::PermanentNodeFailure
            | FailureCode::PermanentChannelFailure => FailureReason::Offline,
            FailureCode::IncorrectOrUnknownPaymentDetails
            | FailureCode::FinalIncorrectCltvExpiry
            | FailureCode::FinalIncorrectHtlcAmount => FailureReason::ReceiverReject,
            FailureCode::MppTimeout => FailureReason::Timeout,
            _ => FailureReason::Policy,
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How often each [`FailureReason`] ended an attempt of one payment; the payment's
/// reason, when it fails after attempts, is the most frequent one.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct FailureTally([u32; 6]);

impl FailureTally {
    /// Counts one failed attempt.
    pub fn note(&mut self, r: FailureReason) {
        self.0[r as usize] += 1;
    }

    /// Attempts that failed for `r`.
    pub fn count(&self, r: FailureReason) -> u32 {
        self.0[r as usize]
    }

    /// The most frequent reason (ties: report order); `NoRoute` when nothing failed.
    pub fn dominant(&self) -> FailureReason {
        let mut best = FailureReason::NoRoute;
        let mut n = 0;
        for r in FailureReason::ALL {
            if self.0[r as usize] > n {
                best = r;
                n = self.0[r as usize];
            }
        }
        best
    }
}

/// What the sender accepts for one payment.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionLimits {
    /// Give up placing parts after this long, µs.
    pub timeout_micros: u64,
    /// Most paths tried (every part of every try).
    pub max_attempts: u32,
    /// Most parts in flight at once (1 = single path).
    pub max_parts: u32,
    /// Smallest part, msat.
    pub min_part_msat: u64,
    /// Most fees over the whole payment, msat.
    pub max_fee_msat: u64,
    /// The receiver's final CLTV delta, blocks.
    pub final_cltv_delta: u32,
    /// A route whose estimated success probability (the product over its parts, as
    /// the router estimates them) is below this is not tried: with beliefs that decay,
    /// a channel that just failed soon looks possible again, and without a floor a
    /// sender would burn its attempts on near-certain failures. lnd's default
    /// `DefaultMinRouteProbability` is 0.01.
    pub min_route_probability: f64,
}

/// lnd's minimum route probability.
pub const DEFAULT_MIN_ROUTE_PROBABILITY: f64 = 0.01;

/// Where a session stands.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Parts are (or will be) in flight.
    Active,
    /// Every msat settled, at this time.
    Succeeded(Timestamp),
    /// Given up, for this reason, at this time.
    Failed(FailureReason, Timestamp),
}

/// A part in flight.
#[derive(Clone, Debug)]
struct InFlight {
    part: PartId,
    path: Path,
    sent_at: Timestamp,
}

/// One path tried, as `attempts.jsonl` records it.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRecord {
    /// The payment (session id).
    pub payment: u64,
    /// The part number within the payment.
    pub part: u32,
    /// When it was sent.
    pub sent_at: Timestamp,
    /// When the sender learnt its outcome.
    pub resolved_at: Timestamp,
    /// The path tried, with its per-hop amounts and expiries.
    pub path: Path,
    /// `None` if it settled; else the failure code.
    pub failure: Option<FailureCode>,
    /// Position of the node that reported the failure (0 = first hop's far node).
    pub origin_hop: Option<usize>,
    /// Index of the hop whose channel the failure blames.
    pub failed_hop: Option<usize>,
    /// Σ amount × time held over the part's HTLCs, msat·µs.
    pub locked_msat_micros: u128,
}

impl AttemptRecord {
    /// Part `part` of payment `payment` over `path`, refused by the sender's own channel
    /// at `now`: learnt at once, nothing locked.
    pub fn refused(payment: u64, part: u32, path: Path, err: &SendError, now: Timestamp) -> Self {
        let failure = match err {
            SendError::FirstHop { code, .. } => *code,
            _ => FailureCode::PermanentChannelFailure,
        };
        AttemptRecord {
            payment,
            part,
            sent_at: now,
            resolved_at: now,
            failed_hop: err.path_failure().map(|p| p.hop),
            failure: Some(failure),
            origin_hop: None,
            path,
            locked_msat_micros: 0,
        }
    }
}

/// One payment from the sender's side.
#[derive(Debug)]
pub struct PaymentSession {
    id: u64,
    source: NodeIdx,
    target: NodeIdx,
    amount_msat: u64,
    payment_hash: PaymentHash,
    payment_secret: PaymentSecret,
    keysend_preimage: Option<PaymentPreimage>,
    limits: SessionLimits,
    started: Timestamp,
    in_flight: Vec<InFlight>,
    next_part: u32,
    excluded_edges: Vec<EdgeIdx>,
    stop_placing: Option<FailureReason>,
    failures: FailureTally,
    state: SessionState,
    log: Vec<AttemptRecord>,
    /// Public counters for reports.
    pub stats: SessionStats,
}

/// What a session did, for reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionStats {
    /// Paths tried (every part of every try).
    pub attempts: u32,
    /// Parts that left the sender (attempts the first hop accepted).
    pub parts_sent: u32,
    /// Parts that settled.
    pub parts_settled: u32,
    /// Amount settled, msat.
    pub settled_msat: u64,
    /// Fees of settled parts, msat.
    pub fees_msat: u64,
    /// Σ amount × time held over every HTLC of every part, msat·µs.
    pub locked_msat_micros: u128,
    /// The last failure code any part got.
    pub last_failure: Option<FailureCode>,
}

/// Blocks added to the receiver's final CLTV delta, so that a block found while the
/// HTLC travels does not make the receiver refuse it as too close to expiry (lnd's
/// `BlockPadding`, also 3).
pub const FINAL_CLTV_PADDING: u32 = 3;

/// Bits of a [`PartId`] that number the parts within one session.
const PART_BITS: u32 = 20;

impl PaymentSession {
    /// A session for payment `id` (unique per driver) of `amount_msat` to `target`,
    /// identified at the receiver by `payment_hash` and `payment_secret`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: u64,
        source: NodeIdx,
        target: NodeIdx,
        amount_msat: u64,
        payment_hash: PaymentHash,
        payment_secret: PaymentSecret,
        limits: SessionLimits,
        started: Timestamp,
    ) -> Self {
        PaymentSession {
            id,
            source,
            target,
            amount_msat,
            payment_hash,
            payment_secret,
            keysend_preimage: None,
            limits,
            started,
            in_flight: Vec::new(),
            next_part: 0,
            excluded_edges: Vec::new(),
            stop_placing: None,
            failures: FailureTally::default(),
            state: SessionState::Active,
            log: Vec::new(),
            stats: SessionStats::default(),
        }
    }

    /// Makes this a keysend payment: every part carries `preimage` in its final onion
    /// payload (TLV 5482373484), and `payment_secret` is the sender's own choice that
    /// ties the parts together (keysend MPP). The receiver needs no invoice; the hash
    /// must be the preimage's.
    pub fn with_keysend(mut self, preimage: PaymentPreimage) -> Self {
        self.keysend_preimage = Some(preimage);
        self
    }

    /// The session a part belongs to (parts carry their session's id).
    pub fn session_of(part: PartId) -> u64 {
        part.0 >> PART_BITS
    }

    /// This session's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Where it stands.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// When it started.
    pub fn started(&self) -> Timestamp {
        self.started
    }

    /// When the sender stops placing new parts.
    pub fn deadline(&self) -> Timestamp {
        self.started + self.limits.timeout_micros
    }

    /// The amount being paid, msat.
    pub fn amount_msat(&self) -> u64 {
        self.amount_msat
    }

    /// Takes the records of the attempts resolved since the last call.
    pub fn drain_attempts(&mut self) -> std::vec::Drain<'_, AttemptRecord> {
        self.log.drain(..)
    }

    /// Parts in flight now.
    pub fn parts_in_flight(&self) -> usize {
        self.in_flight.len()
    }

    fn in_flight_msat(&self) -> u64 {
        self.in_flight.iter().map(|p| p.path.amount_msat()).sum()
    }

    fn in_flight_fees(&self) -> u64 {
        self.in_flight.iter().map(|p| p.path.fee_msat()).sum()
    }

    /// Places parts for whatever is neither settled nor in flight, as long as time,
    /// attempts and routes allow. Call after creating the session and after each event.
    pub fn pump(
        &mut self,
        router: &mut dyn Router,
        net: &mut Network,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        while self.state == SessionState::Active && self.stop_placing.is_none() {
            let remaining = self
                .amount_msat
                .saturating_sub(self.stats.settled_msat + self.in_flight_msat());
            if remaining == 0 {
                return;
            }
            if clock.now >= self.deadline() {
                self.stop_placing = Some(FailureReason::Timeout);
                break;
            }
            if self.stats.attempts >= self.limits.max_attempts {
                self.stop_placing = Some(self.failures.dominant());
                break;
            }
            let free_parts = self
                .limits
                .max_parts
                .saturating_sub(self.in_flight.len() as u32);
            if free_parts == 0 {
                return;
            }
            let spent = self.stats.fees_msat + self.in_flight_fees();
            let request = RouteRequest {
                source: self.source,
                target: self.target,
                amount_msat: remaining,
                final_cltv_delta: self.limits.final_cltv_delta + FINAL_CLTV_PADDING,
                limits: Limits {
                    max_fee_msat: self.limits.max_fee_msat.saturating_sub(spent),
                    max_total_cltv: 2016,
                    max_parts: free_parts,
                    min_part_msat: self.limits.min_part_msat,
                    max_path_len: 20,
                    excluded_edges: self.excluded_edges.clone(),
                    excluded_nodes: Vec::new(),
                },
                first_hops: Some(net.node(self.source).first_hops()),
            };
            let route = match router.find_route(net.graph(), &request, clock.now) {
                Ok(r) => r,
                Err(e) => {
                    tracing::trace!(payment = self.id, error = %e, "no route");
                    let reason = match e {
                        RouteError::NoRoute { .. } | RouteError::AmountAboveCapacity { .. }
                            if self.stats.attempts > 0 =>
                        {
                            self.failures.dominant()
                        }
                        _ => FailureReason::NoRoute,
                    };
                    // With parts in flight, try again when one comes back; without, give up.
                    if self.in_flight.is_empty() {
                        self.stop_placing = Some(reason);
                    }
                    break;
                }
            };
            for path in route.paths {
                if self.stats.attempts >= self.limits.max_attempts {
                    break;
                }
                self.stats.attempts += 1;
                let part = PartId(
                    (self.id << PART_BITS) | (self.next_part as u64 & ((1 << PART_BITS) - 1)),
                );
                self.next_part += 1;
                let sent = net.send(
                    SendPart {
                        id: part,
                        path: &path,
                        payment_hash: self.payment_hash,
                        payment_data: Some(PaymentData {
                            payment_secret: self.payment_secret,
                            total_msat: self.amount_msat,
                        }),
                        keysend_preimage: self.keysend_preimage,
                    },
                    clock,
                    out,
                );
                match sent {
                    Ok(_) => {
                        self.stats.parts_sent += 1;
                        router.htlcs_in_flight(net.graph(), &path, true);
                        self.in_flight.push(InFlight {
                            part,
                            path,
                            sent_at: clock.now,
                        });
                    }
                    Err(err) => {
                        // Refused by the sender's own channel: learnt at once, no latency.
                        self.failures.note(FailureReason::of_send_error(&err));
                        if let Some(pf) = err.path_failure() {
                            router.path_failed(net.graph(), &path, pf, clock.now);
                            self.exclude(&path, pf);
                        }
                        let n = (part.0 & ((1 << PART_BITS) - 1)) as u32;
                        self.log
                            .push(AttemptRecord::refused(self.id, n, path, &err, clock.now));
                    }
                }
            }
        }
        self.finish_if_done(clock.now);
    }

    /// A part of this session settled or failed (`PartSettled` / `PartFailed`; other
    /// events are ignored). After a failure, call [`PaymentSession::pump`] to retry.
    pub fn on_part_event(
        &mut self,
        event: &Event,
        router: &mut dyn Router,
        net: &Network,
        now: Timestamp,
    ) {
        match event {
            Event::PartSettled {
                part,
                amount_msat,
                fee_msat,
                locked_msat_micros,
                ..
            } => self.on_settled(
                *part,
                *amount_msat,
                *fee_msat,
                *locked_msat_micros,
                router,
                net,
                now,
            ),
            Event::PartFailed {
                part,
                failure,
                path_failure,
                locked_msat_micros,
            } => self.on_failed(
                *part,
                failure,
                *path_failure,
                *locked_msat_micros,
                router,
                net,
                now,
            ),
            Event::PaymentReceived { .. }
            | Event::ClaimRequested { .. }
            | Event::PartRefunded { .. } => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_settled(
        &mut self,
        part: PartId,
        amount_msat: u64,
        fee_msat: u64,
        locked_msat_micros: u128,
        router: &mut dyn Router,
        net: &Network,
        now: Timestamp,
    ) {
        let Some(i) = self.in_flight.iter().position(|p| p.part == part) else {
            return;
        };
        let p = self.in_flight.swap_remove(i);
        router.htlcs_in_flight(net.graph(), &p.path, false);
        router.path_succeeded(net.graph(), &p.path, now);
        self.stats.parts_settled += 1;
        self.stats.settled_msat += amount_msat;
        self.stats.fees_msat += fee_msat;
        self.stats.locked_msat_micros += locked_msat_micros;
        self.log.push(AttemptRecord {
            payment: self.id,
            part: (part.0 & ((1 << PART_BITS) - 1)) as u32,
            sent_at: p.sent_at,
            resolved_at: now,
            path: p.path,
            failure: None,
            origin_hop: None,
            failed_hop: None,
            locked_msat_micros,
        });
        self.finish_if_done(now);
    }

    #[allow(clippy::too_many_arguments)]
    fn on_failed(
        &mut self,
        part: PartId,
        failure: &Failure,
        path_failure: PathFailure,
        locked_msat_micros: u128,
        router: &mut dyn Router,
        net: &Network,
        now: Timestamp,
    ) {
        let Some(i) = self.in_flight.iter().position(|p| p.part == part) else {
            return;
        };
        let p = self.in_flight.swap_remove(i);
        router.htlcs_in_flight(net.graph(), &p.path, false);
        router.path_failed(net.graph(), &p.path, path_failure, now);
        self.stats.locked_msat_micros += locked_msat_micros;
        self.stats.last_failure = Some(failure.code);
        let reason = FailureReason::of_code(failure.code);
        self.failures.note(reason);
        if reason == FailureReason::ReceiverReject {
            // The receiver does not know or accept this payment: retrying cannot help.
            self.stop_placing = Some(FailureReason::ReceiverReject);
        }
        self.exclude(&p.path, path_failure);
        self.log.push(AttemptRecord {
            payment: self.id,
            part: (part.0 & ((1 << PART_BITS) - 1)) as u32,
            sent_at: p.sent_at,
            resolved_at: now,
            path: p.path,
            failure: Some(failure.code),
            origin_hop: Some(failure.origin_hop),
            failed_hop: Some(path_failure.hop),
            locked_msat_micros,
        });
        self.finish_if_done(now);
    }

    /// The timeout passed: no new parts; the session ends when its parts come back.
    pub fn on_deadline(&mut self, now: Timestamp) {
        if self.state == SessionState::Active && self.stop_placing.is_none() {
            self.stop_placing = Some(FailureReason::Timeout);
        }
        self.finish_if_done(now);
    }

    fn exclude(&mut self, path: &Path, pf: PathFailure) {
        // An unusable channel or unreachable node is avoided for the rest of the
        // payment. So is a channel that lacked liquidity when the whole amount travels
        // on one path, as LDK does with `previously_failed_channels`: beliefs decay
        // continuously, so a channel that just refused an amount soon looks barely
        // possible again, and a single-path sender would retry it. With MPP the
        // scorer's lowered bound steers smaller parts instead, which may still pass.
        let avoid = match pf.kind {
            FailureKind::ChannelUnusable | FailureKind::NodeUnreachable => true,
            FailureKind::Liquidity => self.limits.max_parts <= 1,
            FailureKind::Destination => false,
        };
        if !avoid {
            return;
        }
        if let Some(h) = path.hops.get(pf.hop) {
            if !self.excluded_edges.contains(&h.edge) {
                self.excluded_edges.push(h.edge);
            }
        }
    }

    fn finish_if_done(&mut self, now: Timestamp) {
        if self.state != SessionState::Active {
            return;
        }
        if self.stats.settled_msat >= self.amount_msat {
            self.state = SessionState::Succeeded(now);
        } else if self.in_flight.is_empty() {
            if let Some(reason) = self.stop_placing {
                self.state = SessionState::Failed(reason, now);
            }
        }
    }
}
