//! The sender's side of one redundant payment with fixed redundancy ρ (`sender_hash` or
//! `h2tlc` lock; see [`crate::redundant`]).
//!
//! **Part sizing.** k = clamp(⌈A / `max_part_msat`⌉, 1, `max_base_parts`) base parts;
//! then the smallest k' in k..=2k that divides A is used (amounts in whole sat are
//! divisible by every divisor of 1000, so this almost always succeeds) and every part is
//! A / k': any k' of them sum to exactly A. If no such k' exists, A is split into k parts
//! of ⌊A/k⌋ msat and A mod k parts of one msat more; the extra parts repeat that pattern
//! in proportion, and the answer relies on [`crate::redundant::choose_exact_subset`]
//! (it may find no exact subset among what the receiver holds: the parts then time out).
//! n = ⌈k'·(1+ρ)⌉ parts are sent at once.
//!
//! **Routing.** Each part gets its own single path (`max_parts = 1`), excluding the
//! channels earlier parts of this payment use so that paths are as disjoint as the graph
//! allows; if that finds nothing, the part may share channels (never ones that failed
//! for this payment). All parts are routed before any is sent; if the routed parts cannot
//! make up exactly A, nothing is sent and the payment fails with `no_route` (such parts
//! would only sit at the receiver until its timeout). Each part's fee budget is the payment's budget × part / A, so the
//! settled parts (the only ones that pay) stay within it. No part is retried.
//!
//! **Outcome.** The session succeeds when the settled parts sum to A, at the time the
//! sender learns the last settle; it fails when no part could be sent, or when every part
//! has come back without A settling (the reason is the most frequent failure among the
//! parts, `timeout` if the receiver's round timed out). It *finishes* only when every
//! part has come back, so that the cancelled surplus parts' liquidity and the router's
//! bookkeeping are complete ([`RedundantSession::is_finished`]).

use flotilla_graph::{EdgeIdx, NodeIdx};
use flotilla_route::{Limits, Path, PathFailure, RouteRequest, Router, Timestamp};

use crate::clock::Clock;
use crate::failure::{Failure, FailureCode};
use crate::lock::LockKind;
use crate::network::Network;
use crate::output::{Event, Output};
use crate::redundant::{choose_exact_subset, RedundantSender};
use crate::sender::{PartId, SendError};
use crate::session::{
    AttemptRecord, FailureReason, FailureTally, SessionState, FINAL_CLTV_PADDING,
};
use crate::{PaymentHash, PaymentSecret};

/// Bits of a [`PartId`] that number the parts within one session (as
/// [`crate::session::PaymentSession`]).
const PART_BITS: u32 = 20;

/// What the sender accepts for one redundant payment.
#[derive(Clone, Debug, PartialEq)]
pub struct RedundantLimits {
    /// Redundancy ρ ≥ 0: n = ⌈k·(1+ρ)⌉ parts for k base parts.
    pub redundancy: f64,
    /// Largest base part, msat (sets k).
    pub max_part_msat: u64,
    /// Most base parts k.
    pub max_base_parts: u32,
    /// The sender's timeout, µs (no part is placed after it; the session ends when its
    /// parts come back).
    pub timeout_micros: u64,
    /// Most fees over the settled parts, msat.
    pub max_fee_msat: u64,
    /// The receiver's final CLTV delta, blocks.
    pub final_cltv_delta: u32,
}

/// What a redundant session did, for reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RedundantStats {
    /// Paths tried (every part sent or refused at the first hop).
    pub attempts: u32,
    /// Parts that left the sender.
    pub parts_sent: u32,
    /// Parts that settled.
    pub parts_settled: u32,
    /// Amount settled, msat.
    pub settled_msat: u64,
    /// Fees of settled parts, msat.
    pub fees_msat: u64,
    /// Σ amount × time held over every HTLC of every part, msat·µs.
    pub locked_msat_micros: u128,
    /// Settled − A if positive (must stay 0).
    pub overpaid_msat: u64,
    /// Messages beyond the HTLCs' own: the claim request and the reveal.
    pub extra_messages: u32,
    /// The last failure code any part got.
    pub last_failure: Option<FailureCode>,
}

#[derive(Clone, Debug)]
struct InFlight {
    part: PartId,
    path: Path,
    sent_at: Timestamp,
}

/// One redundant payment from the sender's side.
#[derive(Debug)]
pub struct RedundantSession {
    id: u64,
    source: NodeIdx,
    target: NodeIdx,
    sender: RedundantSender,
    amounts: Vec<u64>,
    limits: RedundantLimits,
    started: Timestamp,
    in_flight: Vec<InFlight>,
    failures: FailureTally,
    failed_edges: Vec<EdgeIdx>,
    state: SessionState,
    placed: bool,
    log: Vec<AttemptRecord>,
    /// Public counters for reports.
    pub stats: RedundantStats,
}

/// The part amounts for A with `k` base parts and redundancy ρ (see the module docs).
pub fn part_amounts(amount_msat: u64, k: u32, redundancy: f64) -> Vec<u64> {
    let amount = amount_msat.max(1);
    let k = (k.max(1) as u64).min(amount);
    let rho = if redundancy.is_finite() {
        redundancy.max(0.0)
    } else {
        0.0
    };
    let count = |k: u64| ((k as f64 * (1.0 + rho)).ceil() as u64).max(k);
    if let Some(k2) = (k..=(2 * k).min(amount)).find(|d| amount % d == 0) {
        return vec![amount / k2; count(k2) as usize];
    }
    let base = amount / k;
    let rem = amount % k;
    let n = count(k);
    // Part j is one msat larger when it falls among the first `rem` of its group of k,
    // so every run of k consecutive parts holds rem large and k − rem small ones.
    (0..n)
        .map(|j| if j % k < rem { base + 1 } else { base })
        .collect()
}

impl RedundantSession {
    /// A session for payment `id` (unique per driver) of `amount_msat` from `source` to
    /// `target`, to an invoice with `payment_secret` (and, for `h2tlc`, `payment_hash`),
    /// under `lock`. `payment_id` names it in the parts and the claim request;
    /// `secret_seed` seeds the per-part sender secrets.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: u64,
        source: NodeIdx,
        target: NodeIdx,
        amount_msat: u64,
        lock: LockKind,
        payment_id: [u8; 32],
        payment_secret: PaymentSecret,
        payment_hash: Option<PaymentHash>,
        secret_seed: u64,
        limits: RedundantLimits,
        started: Timestamp,
    ) -> Self {
        let mut sender =
            RedundantSender::new(payment_id, amount_msat, lock, payment_secret, payment_hash);
        let k = amount_msat
            .div_ceil(limits.max_part_msat.max(1))
            .clamp(1, limits.max_base_parts.max(1) as u64) as u32;
        let amounts = part_amounts(amount_msat, k, limits.redundancy);
        for (i, a) in amounts.iter().enumerate() {
            let s = RedundantSender::derive_secret(secret_seed, &payment_id, i as u16);
            sender.add_part(*a, s);
        }
        RedundantSession {
            id,
            source,
            target,
            sender,
            amounts,
            limits,
            started,
            in_flight: Vec::new(),
            failures: FailureTally::default(),
            failed_edges: Vec::new(),
            state: SessionState::Active,
            placed: false,
            log: Vec::new(),
            stats: RedundantStats::default(),
        }
    }

    /// The payment id a driver can use for session `id`: the id in the first 8 bytes
    /// (big-endian), the rest from `salt` (e.g. the invoice's secret).
    pub fn payment_id_for(id: u64, salt: &[u8; 32]) -> [u8; 32] {
        let mut p = *salt;
        p[..8].copy_from_slice(&id.to_be_bytes());
        p
    }

    /// The session id a payment id made by [`RedundantSession::payment_id_for`] names.
    pub fn session_of_payment_id(payment_id: &[u8; 32]) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&payment_id[..8]);
        u64::from_be_bytes(b)
    }

    /// The session a part belongs to.
    pub fn session_of(part: PartId) -> u64 {
        part.0 >> PART_BITS
    }

    /// This session's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The payment's id (in the parts and the claim request).
    pub fn payment_id(&self) -> [u8; 32] {
        self.sender.payment_id
    }

    /// A, msat.
    pub fn amount_msat(&self) -> u64 {
        self.sender.amount_msat
    }

    /// The receiver.
    pub fn target(&self) -> NodeIdx {
        self.target
    }

    /// Where it stands.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// Decided, and every part came back: the driver may drop it.
    pub fn is_finished(&self) -> bool {
        self.state != SessionState::Active && self.in_flight.is_empty()
    }

    /// When it started.
    pub fn started(&self) -> Timestamp {
        self.started
    }

    /// When the sender stops placing parts.
    pub fn deadline(&self) -> Timestamp {
        self.started + self.limits.timeout_micros
    }

    /// Number of parts planned (n).
    pub fn planned_parts(&self) -> usize {
        self.sender.part_count()
    }

    /// Parts in flight now.
    pub fn parts_in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Hops of the longest path in flight (what a claim request and the reveal travel,
    /// like an onion message along a part's path); 1 if none.
    pub fn longest_path_hops(&self) -> usize {
        self.in_flight
            .iter()
            .map(|p| p.path.hops.len())
            .max()
            .unwrap_or(1)
            .max(1)
    }

    /// Takes the records of the attempts resolved since the last call.
    pub fn drain_attempts(&mut self) -> std::vec::Drain<'_, AttemptRecord> {
        self.log.drain(..)
    }

    fn part_number(part: PartId) -> u32 {
        (part.0 & ((1 << PART_BITS) - 1)) as u32
    }

    /// Routes and sends all n parts (once; later calls do nothing).
    pub fn pump(
        &mut self,
        router: &mut dyn Router,
        net: &mut Network,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        if self.placed || self.state != SessionState::Active {
            return;
        }
        self.placed = true;
        let amount = self.sender.amount_msat.max(1);
        let mut used: Vec<EdgeIdx> = Vec::new();
        let mut planned: Vec<(usize, Path)> = Vec::new();
        for i in 0..self.sender.part_count() {
            if clock.now >= self.deadline() {
                break;
            }
            let part_msat = self.amounts[i];
            let fee =
                (self.limits.max_fee_msat as u128 * part_msat as u128 / amount as u128) as u64;
            let request = |excluded: Vec<EdgeIdx>| RouteRequest {
                source: self.source,
                target: self.target,
                amount_msat: part_msat,
                final_cltv_delta: self.limits.final_cltv_delta + FINAL_CLTV_PADDING,
                limits: Limits {
                    max_fee_msat: fee,
                    max_total_cltv: 2016,
                    max_parts: 1,
                    min_part_msat: part_msat,
                    max_path_len: 20,
                    excluded_edges: excluded,
                    excluded_nodes: Vec::new(),
                },
            };
            let mut disjoint = self.failed_edges.clone();
            disjoint.extend(used.iter().copied());
            let found = router
                .find_route(net.graph(), &request(disjoint), clock.now)
                .or_else(|_| {
                    router.find_route(net.graph(), &request(self.failed_edges.clone()), clock.now)
                });
            let Some(path) = found.ok().and_then(|r| r.paths.into_iter().next()) else {
                continue;
            };
            for h in &path.hops {
                if !used.contains(&h.edge) {
                    used.push(h.edge);
                }
            }
            // The router counts the part in flight at once, so that later parts see the
            // liquidity it will take.
            router.htlcs_in_flight(net.graph(), &path, true);
            planned.push((i, path));
        }
        // Parts that cannot add up to A would only sit at the receiver until its
        // timeout: send nothing.
        let routed: Vec<(u16, u64)> = planned
            .iter()
            .map(|(i, _)| (*i as u16, self.amounts[*i]))
            .collect();
        if choose_exact_subset(&routed, self.sender.amount_msat).is_none() {
            for (_, path) in &planned {
                router.htlcs_in_flight(net.graph(), path, false);
            }
            self.state = SessionState::Failed(FailureReason::NoRoute, clock.now);
            return;
        }
        for (i, path) in planned {
            self.stats.attempts += 1;
            let part = PartId((self.id << PART_BITS) | (i as u64 & ((1 << PART_BITS) - 1)));
            let sent = net.send_redundant(self.sender.part(i as u16, part, &path), clock, out);
            match sent {
                Ok(_) => {
                    self.stats.parts_sent += 1;
                    self.in_flight.push(InFlight {
                        part,
                        path,
                        sent_at: clock.now,
                    });
                }
                Err(err) => {
                    router.htlcs_in_flight(net.graph(), &path, false);
                    self.failures.note(match &err {
                        SendError::FirstHop { code, .. } => FailureReason::of_code(*code),
                        _ => FailureReason::Policy,
                    });
                    let pf = err.path_failure();
                    if let Some(pf) = pf {
                        router.path_failed(net.graph(), &path, pf, clock.now);
                        if let Some(h) = path.hops.get(pf.hop) {
                            self.failed_edges.push(h.edge);
                        }
                    }
                    self.log.push(AttemptRecord {
                        payment: self.id,
                        part: Self::part_number(part),
                        sent_at: clock.now,
                        resolved_at: clock.now,
                        failure: match &err {
                            SendError::FirstHop { code, .. } => Some(*code),
                            _ => Some(FailureCode::PermanentChannelFailure),
                        },
                        origin_hop: None,
                        failed_hop: pf.map(|p| p.hop),
                        path,
                        locked_msat_micros: 0,
                    });
                }
            }
        }
        if self.in_flight.is_empty() {
            self.state = SessionState::Failed(self.failures.dominant(), clock.now);
        }
    }

    /// The receiver's claim request reached the sender: the secrets to reveal (a subset
    /// of the named parts worth exactly A), or `None` (already answered, no exact subset,
    /// or the payment is over). Counts the request and, if any, the reveal as extra
    /// messages.
    pub fn on_claim_request(&mut self, held: &[(u16, u64)]) -> Option<Vec<(u16, [u8; 32])>> {
        self.stats.extra_messages += 1;
        if self.state != SessionState::Active {
            return None;
        }
        let r = self.sender.answer(held);
        if r.is_some() {
            self.stats.extra_messages += 1;
        }
        r
    }

    /// A part of this session settled or failed (other events are ignored).
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
            } => {
                let Some(p) = self.take(*part, router, net) else {
                    return;
                };
                router.path_succeeded(net.graph(), &p.path, now);
                self.stats.parts_settled += 1;
                self.stats.settled_msat += amount_msat;
                self.stats.fees_msat += fee_msat;
                self.stats.locked_msat_micros += locked_msat_micros;
                self.stats.overpaid_msat = self
                    .stats
                    .settled_msat
                    .saturating_sub(self.sender.amount_msat);
                self.record(&p, now, None, None, *locked_msat_micros);
            }
            Event::PartFailed {
                part,
                failure,
                path_failure,
                locked_msat_micros,
            } => {
                let Some(p) = self.take(*part, router, net) else {
                    return;
                };
                router.path_failed(net.graph(), &p.path, *path_failure, now);
                self.stats.locked_msat_micros += locked_msat_micros;
                if self.state == SessionState::Active {
                    // A surplus part cancelled after success is no failure.
                    self.stats.last_failure = Some(failure.code);
                    self.failures.note(FailureReason::of_code(failure.code));
                }
                self.record(
                    &p,
                    now,
                    Some(failure),
                    Some(*path_failure),
                    *locked_msat_micros,
                );
            }
            Event::PaymentReceived { .. } => return,
        }
        self.finish_if_done(now);
    }

    /// The sender's timeout passed. Parts are all placed at the start, so this only
    /// matters if they are still out: the session still waits for them (the receiver's
    /// round timeout returns them).
    pub fn on_deadline(&mut self, now: Timestamp) {
        self.finish_if_done(now);
    }

    fn take(&mut self, part: PartId, router: &mut dyn Router, net: &Network) -> Option<InFlight> {
        let i = self.in_flight.iter().position(|p| p.part == part)?;
        let p = self.in_flight.swap_remove(i);
        router.htlcs_in_flight(net.graph(), &p.path, false);
        Some(p)
    }

    fn record(
        &mut self,
        p: &InFlight,
        now: Timestamp,
        failure: Option<&Failure>,
        pf: Option<PathFailure>,
        locked_msat_micros: u128,
    ) {
        self.log.push(AttemptRecord {
            payment: self.id,
            part: Self::part_number(p.part),
            sent_at: p.sent_at,
            resolved_at: now,
            path: p.path.clone(),
            failure: failure.map(|f| f.code),
            origin_hop: failure.map(|f| f.origin_hop),
            failed_hop: pf.map(|p| p.hop),
            locked_msat_micros,
        });
    }

    fn finish_if_done(&mut self, now: Timestamp) {
        if self.state != SessionState::Active {
            return;
        }
        if self.stats.settled_msat >= self.sender.amount_msat {
            self.state = SessionState::Succeeded(now);
        } else if self.in_flight.is_empty() && self.placed {
            let reason = if self.failures.count(FailureReason::Timeout) > 0 {
                FailureReason::Timeout
            } else {
                self.failures.dominant()
            };
            self.state = SessionState::Failed(reason, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_parts_when_a_divisor_is_near() {
        assert_eq!(part_amounts(20_000_000, 2, 0.5), vec![10_000_000; 3]);
        assert_eq!(part_amounts(1_000, 3, 0.0), vec![250; 4]);
        assert_eq!(part_amounts(5_000, 1, 1.0), vec![5_000; 2]);
    }

    #[test]
    fn uneven_parts_have_an_exact_k_subset() {
        // 1009 is prime: no divisor in 3..=6.
        let parts = part_amounts(1_009, 3, 1.0);
        assert_eq!(parts.len(), 6);
        assert_eq!(parts[..3].iter().sum::<u64>(), 1_009);
        assert_eq!(parts[3..].iter().sum::<u64>(), 1_009);
    }
}
