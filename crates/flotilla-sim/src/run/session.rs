//! One payment's sender as the event loop drives it ([`Session`]: MPP, redundant, or
//! unpayable from the start), and the outcome it leaves ([`outcome_of`]).

use flotilla_ln::clock::Clock;
use flotilla_ln::network::Network;
use flotilla_ln::output::{Event, Output};
use flotilla_ln::redundant_session::RedundantSession;
use flotilla_ln::session::{
    AttemptRecord, FailureReason, PaymentSession, SessionState, SessionStats,
};
use flotilla_route::{Router, Timestamp};

use crate::metrics::PaymentOutcome;
use crate::workload::PaymentSpec;

/// One payment's sender: an MPP (or single-path) session or a redundant one.
pub(super) enum Session {
    Mpp(Box<PaymentSession>),
    Redundant(Box<RedundantSession>),
    /// A payment the arm cannot even start (a boomerang amount with no equal split):
    /// failed with `no_route` at once, when it started.
    Unpayable(Timestamp),
}

impl Session {
    pub(super) fn pump(
        &mut self,
        router: &mut dyn Router,
        net: &mut Network,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        match self {
            Session::Mpp(s) => s.pump(router, net, clock, out),
            Session::Redundant(s) => s.pump(router, net, clock, out),
            Session::Unpayable(..) => {}
        }
    }

    pub(super) fn on_part_event(
        &mut self,
        e: &Event,
        router: &mut dyn Router,
        net: &Network,
        now: Timestamp,
    ) {
        match self {
            Session::Mpp(s) => s.on_part_event(e, router, net, now),
            Session::Redundant(s) => s.on_part_event(e, router, net, now),
            Session::Unpayable(..) => {}
        }
    }

    pub(super) fn on_deadline(&mut self, now: Timestamp) {
        match self {
            Session::Mpp(s) => s.on_deadline(now),
            Session::Redundant(s) => s.on_deadline(now),
            Session::Unpayable(..) => {}
        }
    }

    pub(super) fn deadline(&self) -> Timestamp {
        match self {
            Session::Mpp(s) => s.deadline(),
            Session::Redundant(s) => s.deadline(),
            Session::Unpayable(at) => *at,
        }
    }

    pub(super) fn drain_attempts(&mut self) -> Vec<AttemptRecord> {
        match self {
            Session::Mpp(s) => s.drain_attempts().collect(),
            Session::Redundant(s) => s.drain_attempts().collect(),
            Session::Unpayable(..) => Vec::new(),
        }
    }

    /// When the sender started it.
    pub(super) fn started(&self) -> Timestamp {
        match self {
            Session::Mpp(s) => s.started(),
            Session::Redundant(s) => s.started(),
            Session::Unpayable(at) => *at,
        }
    }

    /// Succeeded or failed (a redundant payment's parts may still be out).
    pub(super) fn is_decided(&self) -> bool {
        match self {
            Session::Mpp(s) => s.state() != SessionState::Active,
            Session::Redundant(s) => s.state() != SessionState::Active,
            Session::Unpayable(..) => true,
        }
    }

    /// Live parts without a reserve answer (a paper arm's: neither known arrived nor
    /// known refused; see [`RedundantSession::parts_travelling`]).
    pub(super) fn parts_travelling(&self) -> usize {
        match self {
            Session::Redundant(s) => s.parts_travelling(),
            Session::Mpp(_) | Session::Unpayable(..) => 0,
        }
    }

    /// Decided, and (redundant) every part back: the driver may drop it.
    pub(super) fn is_finished(&self) -> bool {
        match self {
            Session::Mpp(s) => s.state() != SessionState::Active,
            Session::Redundant(s) => s.is_finished(),
            Session::Unpayable(..) => true,
        }
    }
}

/// Payment `spec`'s outcome under session `s`, which finished at `now` (every part's
/// outcome known: the end of its busy time). A paper arm's time to outcome ends at
/// `answered`, when every part had its reserve answer (the paper's runtime), if later
/// than the decision.
pub(super) fn outcome_of(
    s: &Session,
    spec: &PaymentSpec,
    now: Timestamp,
    answered: Option<Timestamp>,
) -> PaymentOutcome {
    let (state, started) = match s {
        Session::Mpp(s) => (s.state(), s.started()),
        Session::Redundant(s) => (s.state(), s.started()),
        Session::Unpayable(at) => (SessionState::Failed(FailureReason::NoRoute, *at), *at),
    };
    let (succeeded, ttc_ms, failure, known_at) = match state {
        SessionState::Succeeded(at) => (true, Some((at - started) as f64 / 1000.0), None, at),
        SessionState::Failed(r, at) => (false, None, Some(r), at),
        SessionState::Active => (false, None, None, started),
    };
    let known_at = answered.map_or(known_at, |a| a.max(known_at));
    let none = SessionStats::default();
    let (stats, overpaid, extra) = match s {
        Session::Mpp(s) => (&s.stats, 0, 0),
        Session::Redundant(s) => (
            &s.stats.common,
            s.stats.overpaid_msat,
            s.stats.extra_messages,
        ),
        Session::Unpayable(..) => (&none, 0, 0),
    };
    PaymentOutcome {
        payment: spec.index,
        amount_msat: spec.amount_msat,
        succeeded,
        fee_msat: if succeeded { stats.fees_msat } else { 0 },
        attempts: stats.attempts,
        parts_sent: stats.parts_sent,
        parts_settled: stats.parts_settled,
        ttc_ms,
        tto_micros: known_at - started,
        busy_micros: now - started,
        failure,
        liquidity_sat_seconds: stats.locked_msat_micros as f64 / 1e9,
        overpaid_msat: overpaid,
        extra_messages: extra,
    }
}
