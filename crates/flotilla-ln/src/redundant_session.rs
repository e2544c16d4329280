//! The sender's side of one redundant payment (any redundant lock: `sender_hash`,
//! `h2tlc`, `boomerang`; see [`crate::redundant`] and [`crate::boomerang`]).
//!
//! **Part sizing.** k = clamp(⌈A / `max_part_msat`⌉, 1, `max_base_parts`) base parts;
//! then the smallest k' in k..=2k that divides A is used (amounts in whole sat are
//! divisible by every divisor of 1000, so this almost always succeeds) and every part is
//! A / k': any k' of them sum to exactly A. If no such k' exists, A is split into k parts
//! of ⌊A/k⌋ msat and A mod k parts of one msat more; the extra parts repeat that pattern
//! in proportion, and the answer relies on [`crate::redundant::choose_exact_subset`].
//! `boomerang` needs equal parts: its k' is the degree of the receiver's polynomial
//! ([`RedundantSession::boomerang_degree`]).
//!
//! **Split mode** (`limits.base_split`, hash locks; `split.rs`): the base parts are the
//! router's own answer for A — an MPP splitter's uneven parts — and the surplus parts
//! are copies of the base parts the router rates least likely (⌈m·ρ⌉ copies for m
//! base parts under `Fixed(ρ)`, e copies under `Extra(e)`), each on its own path. A
//! base part is lost only when every copy of it is; its amount is then split again
//! by the router, with surplus copies in the same proportion, exactly as MPP re-splits
//! what failed. Any one arrived copy per base part makes up exactly A, so the
//! receiver's claim request (sent once the parts it holds contain a subset worth A)
//! always has an answer. With `retry`, a lost copy of a base part still alive is
//! replaced too.
//!
//! **How many parts** ([`RedundancyStrategy`]):
//! - `Fixed(ρ)`: n = ⌈k'·(1+ρ)⌉ parts at once; `Extra(e)`: n = k' + e parts at once.
//! - `Adaptive { target }`: parts are routed one by one until the probability that at
//!   least k' of them arrive — a Poisson-binomial over the router's own estimate of each
//!   path's success probability — reaches `target` (e.g. 0.95), at most
//!   `max_parts_in_flight`.
//!
//! With `retry`, every part that fails before the payment is decided is replaced (the
//! same amount, a new part and path) while attempts and time remain, keeping the count
//! or probability target; without it the payment lives on its first parts alone. A part
//! the receiver refused with `incorrect_or_unknown_payment_details` is never replaced:
//! the receiver has completed (or rejects) the payment.
//!
//! **Routing.** Each part gets its own single path (`max_parts = 1`), excluding the
//! channels other live parts of this payment use, so that paths are as disjoint as the
//! graph allows; if that finds nothing, the part may share channels (never ones that
//! failed for this payment, never `excluded_nodes` — hops without support for the lock).
//! Routes the router itself rates below `min_route_probability` are not used. With
//! `tree_copies` (opt-in), parts of one amount placed together take their paths from
//! the first part's search where it can ([`Router::find_disjoint_paths`]: the routes
//! through the sender's other channels that search found, edge-disjoint from each
//! other and cheapest first), and only the parts it did not cover search on their own. The first
//! parts are all routed before any is sent; if they cannot make up exactly A, nothing is
//! sent and the payment fails with `no_route`. Each part's fee budget is the payment's
//! budget × part / A, so the settled parts (the only ones that pay) stay within it.
//!
//! **Hedging** (`limits.hedge_hop_micros`): the surplus waits. The first parts are
//! only those needed (the k' base parts, or in split mode the splitter's parts, as
//! MPP sends them), and the surplus — the ⌈k'·ρ⌉ (or e) further parts, or in split
//! mode ⌈m·ρ⌉ copies of the m live base parts, least likely first — is sent at the
//! *hedge*: when the payment is [`HEDGE_FACTOR`] times later than expected (the sender
//! has not heard the claim request, for hash locks, or a settle, for `boomerang`, by
//! then; expected is the longest first path's hops × `hedge_hop_micros`), or when a
//! failure leaves the live parts short of A with nothing else to send. A payment on
//! time never locks surplus liquidity; a late one (a hop offline, a part held) gets
//! the surplus's second chance. In split mode a lost part's amount is split again
//! without surplus before the hedge and with it after, and the hedge fires once.
//!
//! **Giving up.** When the live parts can no longer make up A and no more will be sent
//! (no retry, attempts or time exhausted), or at the sender's deadline, the payment
//! fails and the sender cancels the parts the receiver holds
//! ([`RedundantSession::take_cancel`], carried by the driver to
//! [`crate::network::Network::cancel_redundant`]) instead of leaving them locked until
//! the receiver's timeout.
//!
//! **Outcome.** The session succeeds when the settled parts sum to A, at the time the
//! sender learns the last settle. It *finishes* only when every part has come back, so
//! that the cancelled surplus parts' liquidity and the router's bookkeeping are complete
//! ([`RedundantSession::is_finished`]). Under `boomerang` each settle tells the sender
//! the part's scalar; more than k' of them reveal P(0): the payment fails and the
//! session asks for the refund of every claimed part ([`RedundantSession::take_refund`]),
//! which travels each part's path hop by hop; it finishes when every claim is answered.

use bitcoin::secp256k1::SecretKey;
use flotilla_graph::{EdgeIdx, NodeIdx};
use flotilla_route::{FailureKind, Path, PathFailure, Router, Timestamp};

use crate::boomerang::BoomerangCommitments;
use crate::failure::{Failure, FailureCode};
use crate::lock::LockKind;
use crate::output::{Event, Output};
use crate::redundant::RedundantSender;
use crate::sender::PartId;
use crate::session::{AttemptRecord, FailureReason, FailureTally, SessionState, SessionStats};
use crate::{PaymentHash, PaymentSecret};

/// Bits of a [`PartId`] that number the parts within one session (as
/// [`crate::session::PaymentSession`]).
const PART_BITS: u32 = 20;

mod net;
mod paper;
mod place;
mod split;

pub use net::{LiveSender, SenderNet};

/// How many parts a redundant payment sends.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum RedundancyStrategy {
    /// n = ⌈k'·(1+ρ)⌉ parts for k' base parts, ρ ≥ 0.
    Fixed(f64),
    /// n = k' + e parts: a count of surplus parts rather than a share (the Boomerang
    /// paper's r). Otherwise as `Fixed`.
    Extra(u32),
    /// Enough parts that P(at least k' arrive) ≥ `target` by the router's estimates.
    Adaptive {
        /// The probability to reach, in (0, 1).
        target: f64,
    },
}

/// What the sender accepts for one redundant payment.
#[derive(Clone, Debug, PartialEq)]
pub struct RedundantLimits {
    /// How many parts.
    pub strategy: RedundancyStrategy,
    /// Replace failed parts while the payment is undecided.
    pub retry: bool,
    /// Largest base part, msat (sets k).
    pub max_part_msat: u64,
    /// Most base parts k.
    pub max_base_parts: u32,
    /// Most parts alive at once (caps the adaptive strategy; the fixed one sends
    /// ⌈k'·(1+ρ)⌉ regardless).
    pub max_parts_in_flight: u32,
    /// Most paths tried over the payment's life (every part sent or refused at the first
    /// hop, replacements included).
    pub max_attempts: u32,
    /// The sender's timeout, µs: no part is placed after it, and the payment is given up.
    pub timeout_micros: u64,
    /// Most fees over the settled parts, msat.
    pub max_fee_msat: u64,
    /// The receiver's final CLTV delta, blocks.
    pub final_cltv_delta: u32,
    /// Routes the router rates less likely than this are not used.
    pub min_route_probability: f64,
    /// Nodes a part must not pass through (hops without support for the lock).
    pub excluded_nodes: Vec<NodeIdx>,
    /// Hash locks under a fixed strategy: a part no path carries is split in two halves
    /// down to this size, msat, once the payment has been shown routable (one part
    /// found a path). `boomerang` parts are never split (they must be A/k').
    pub min_part_msat: u64,
    /// Hash locks: the base parts are the router's own split of A (an MPP splitter's
    /// uneven parts, at most `max_base_parts`), surplus parts copy them, and a part
    /// whose every copy is lost has its amount split again as MPP does (the module's
    /// split mode). Ignored for `boomerang`.
    pub base_split: bool,
    /// A hedged payment (the module's "Hedging"): the expected time, µs per hop of its
    /// longest path, until the sender hears that the payment is complete at the
    /// receiver (the add out and, for hash locks, the claim request back). The surplus
    /// parts are held back until [`HEDGE_FACTOR`] times that has passed without it.
    /// `None`: every part is sent at once.
    pub hedge_hop_micros: Option<u64>,
    /// Equal parts placed together take their paths from one search where it can
    /// ([`Router::find_disjoint_paths`]: the routes through the sender's other
    /// channels that the search for the first part found, edge-disjoint), and search
    /// only for the parts it did not cover. Fewer searches, other paths: an opt-in
    /// model choice (the module's "Routing"). Ignored in split mode.
    pub tree_copies: bool,
}

/// A hedged payment sends its held-back surplus once it is this many times later than
/// expected ([`RedundantLimits::hedge_hop_micros`]): 1.5 leaves room for the spread of
/// the per-hop latencies of a path, so that a payment on time almost never hedges and
/// one waiting on an offline or stuck hop does.
pub const HEDGE_FACTOR: f64 = 1.5;

/// The payment a [`RedundantSession`] makes.
#[derive(Clone, Debug)]
pub struct RedundantPayment {
    /// The session id (unique per driver).
    pub id: u64,
    /// The sender.
    pub source: NodeIdx,
    /// The receiver.
    pub target: NodeIdx,
    /// A, msat.
    pub amount_msat: u64,
    /// The lock.
    pub lock: LockKind,
    /// Names the payment in its parts and the claim request.
    pub payment_id: [u8; 32],
    /// The invoice's secret.
    pub payment_secret: PaymentSecret,
    /// `h2tlc`: the invoice's payment hash.
    pub payment_hash: Option<PaymentHash>,
    /// `boomerang`: the invoice's commitments (their degree is k').
    pub commitments: Option<BoomerangCommitments>,
    /// Seeds the per-part sender secrets.
    pub secret_seed: u64,
}

/// What a redundant session did, for reports: what every session counts, plus what
/// redundancy adds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RedundantStats {
    /// Attempts, parts sent and settled, value and fees settled, liquidity locked, the
    /// last failure code — as an ordinary session counts them.
    pub common: SessionStats,
    /// Settled − refunded − A if positive (must stay 0).
    pub overpaid_msat: u64,
    /// Taken back by the boomerang refund after an over-claim, msat.
    pub refunded_msat: u64,
    /// Messages beyond the HTLCs' own: the claim request, the reveal, the cancel.
    pub extra_messages: u32,
}

#[derive(Clone, Debug)]
struct InFlight {
    part: PartId,
    index: u16,
    path: Path,
    sent_at: Timestamp,
    /// The router's estimate that it arrives.
    probability: f64,
    /// Split mode: the base part it carries a copy of ([`split::NO_SLOT`] otherwise).
    slot: u32,
}

/// One redundant payment from the sender's side.
#[derive(Debug)]
pub struct RedundantSession {
    id: u64,
    source: NodeIdx,
    target: NodeIdx,
    sender: RedundantSender,
    secret_seed: u64,
    /// k': parts that must settle.
    needed: u32,
    /// The first parts' amounts (n of them for a fixed strategy; the pattern that
    /// replacements and adaptive parts repeat).
    amounts: Vec<u64>,
    limits: RedundantLimits,
    started: Timestamp,
    in_flight: Vec<InFlight>,
    failures: FailureTally,
    failed_edges: Vec<EdgeIdx>,
    state: SessionState,
    placed: bool,
    /// No more parts will be sent (the receiver completed or refused, or routing ran out).
    exhausted: bool,
    /// A part found no path disjoint from the others: later ones do not look for one.
    disjoint_exhausted: bool,
    /// Fixed strategy: amounts still to place (the first parts, then each lost part's
    /// amount under retry). A hash-locked amount no path carries is split in two.
    pending: std::collections::VecDeque<u64>,
    cancel: Option<bool>,
    /// `boomerang`: settled parts whose reverse clause may be claimed.
    settled_parts: Vec<PartId>,
    /// Reverse-clause claims sent and not yet answered.
    refunds_awaited: u32,
    refund: Option<SecretKey>,
    /// Give up as soon as no live part is still travelling (see
    /// [`RedundantSession::give_up_when_none_travelling`]).
    eager_give_up: bool,
    /// Live parts the sender has been told reached the receiver.
    arrived: Vec<PartId>,
    /// Live parts the sender has been told a hop refused (their failure travelling
    /// back), and whether the refusal's reason was counted then (`paper.rs`).
    refused: Vec<(PartId, bool)>,
    /// Surplus parts to cancel once the payment is complete (docs/cancel.md).
    surplus: crate::surplus_cancel::SurplusCancel,
    log: Vec<AttemptRecord>,
    /// Split mode's base parts and copies (`limits.base_split`, hash locks).
    split: Option<split::SplitPlan>,
    /// Hedging: when the held-back surplus goes, if it has not yet.
    hedge_at: Option<Timestamp>,
    /// Hedging, fixed strategy: the surplus amounts held back from the first parts.
    held_back: Vec<u64>,
    /// Hedging: the held-back surplus has gone (or the chance for it has).
    hedge_fired: bool,
    /// Public counters for reports.
    pub stats: RedundantStats,
}

/// k' for A with `k` base parts: the smallest divisor of A in k..=2k (`None` if none).
fn equal_split(amount_msat: u64, k: u64) -> Option<u64> {
    (k..=(2 * k).min(amount_msat)).find(|d| amount_msat % d == 0)
}

/// k for A under `limits`.
fn base_parts(amount_msat: u64, limits: &RedundantLimits) -> u64 {
    amount_msat
        .div_ceil(limits.max_part_msat.max(1))
        .clamp(1, limits.max_base_parts.max(1) as u64)
        .min(amount_msat.max(1))
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
    if let Some(k2) = equal_split(amount, k) {
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

/// P(at least `m` of independent events with probabilities `p` happen): the
/// Poisson-binomial tail, by dynamic programming over the count (capped at `m`).
pub fn at_least(p: &[f64], m: usize) -> f64 {
    if m == 0 {
        return 1.0;
    }
    // dist[j] = P(exactly j so far) for j < m; dist[m] = P(at least m).
    let mut dist = vec![0.0; m + 1];
    dist[0] = 1.0;
    for &q in p {
        let q = q.clamp(0.0, 1.0);
        dist[m] += dist[m - 1] * q;
        for j in (1..m).rev() {
            dist[j] = dist[j] * (1.0 - q) + dist[j - 1] * q;
        }
        dist[0] *= 1.0 - q;
    }
    dist[m]
}

impl RedundantSession {
    /// k' of a `boomerang` payment of `amount_msat` under `limits`: the degree the
    /// receiver's polynomial must have (`None` if A has no equal split near k).
    pub fn boomerang_degree(amount_msat: u64, limits: &RedundantLimits) -> Option<u16> {
        let k = base_parts(amount_msat, limits);
        equal_split(amount_msat, k).and_then(|d| u16::try_from(d).ok())
    }

    /// A session for `payment` under `limits`, started at `started`.
    pub fn new(payment: RedundantPayment, limits: RedundantLimits, started: Timestamp) -> Self {
        let RedundantPayment {
            id,
            source,
            target,
            amount_msat,
            lock,
            payment_id,
            payment_secret,
            payment_hash,
            commitments,
            secret_seed,
        } = payment;
        let k = base_parts(amount_msat, &limits);
        let first_count = |k2: u64| match limits.strategy {
            RedundancyStrategy::Fixed(rho) => part_amounts(amount_msat, k2 as u32, rho),
            // The pattern of k' parts, repeated for the e surplus ones.
            RedundancyStrategy::Extra(e) => {
                let base = part_amounts(amount_msat, k2 as u32, 0.0);
                let n = base.len() + e as usize;
                base.into_iter().cycle().take(n).collect()
            }
            // Adaptive parts are added one by one; the pattern of k' parts repeats.
            RedundancyStrategy::Adaptive { .. } => part_amounts(amount_msat, k2 as u32, 0.0),
        };
        let (sender, amounts, needed) = match (lock, commitments) {
            (LockKind::Boomerang, Some(c)) => {
                let kd = c.degree().max(1) as u64;
                let n = match limits.strategy {
                    RedundancyStrategy::Fixed(rho) if rho.is_finite() => {
                        ((kd as f64 * (1.0 + rho.max(0.0))).ceil() as u64).max(kd)
                    }
                    RedundancyStrategy::Extra(e) => kd + e as u64,
                    _ => kd,
                };
                let s = RedundantSender::boomerang(payment_id, amount_msat, payment_secret, c);
                (s, vec![amount_msat / kd; n as usize], kd as u32)
            }
            _ => {
                let s = RedundantSender::new(
                    payment_id,
                    amount_msat,
                    lock,
                    payment_secret,
                    payment_hash,
                );
                let amounts = first_count(k);
                let needed = equal_split(amount_msat.max(1), k).unwrap_or(k) as u32;
                (s, amounts, needed)
            }
        };
        let split =
            (limits.base_split && lock != LockKind::Boomerang).then(split::SplitPlan::default);
        RedundantSession {
            split,
            hedge_at: None,
            held_back: Vec::new(),
            hedge_fired: false,
            id,
            source,
            target,
            sender,
            secret_seed,
            needed,
            amounts,
            limits,
            started,
            in_flight: Vec::new(),
            failures: FailureTally::default(),
            failed_edges: Vec::new(),
            state: SessionState::Active,
            placed: false,
            exhausted: false,
            disjoint_exhausted: false,
            pending: Default::default(),
            cancel: None,
            settled_parts: Vec::new(),
            refunds_awaited: 0,
            refund: None,
            eager_give_up: false,
            arrived: Vec::new(),
            refused: Vec::new(),
            surplus: Default::default(),
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

    /// The invoice's secret.
    pub fn payment_secret(&self) -> PaymentSecret {
        self.sender.payment_secret
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
        self.state != SessionState::Active && self.in_flight.is_empty() && self.refunds_awaited == 0
    }

    /// When it started.
    pub fn started(&self) -> Timestamp {
        self.started
    }

    /// When the sender stops placing parts and gives up.
    pub fn deadline(&self) -> Timestamp {
        self.started + self.limits.timeout_micros
    }

    /// Number of parts planned at the start (n for a fixed strategy, k' for adaptive
    /// before its probability target adds more).
    pub fn planned_parts(&self) -> usize {
        self.amounts.len()
    }

    /// k': parts that must settle.
    pub fn needed_parts(&self) -> u32 {
        self.needed
    }

    /// Parts in flight now.
    pub fn parts_in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The parts in flight: (part, index in the payment, path).
    pub fn in_flight_parts(&self) -> impl Iterator<Item = (PartId, u16, &Path)> + '_ {
        self.in_flight.iter().map(|p| (p.part, p.index, &p.path))
    }

    /// Surplus parts this session cancelled (`cancel_htlc`) so far.
    pub fn surplus_cancelled(&self) -> usize {
        self.surplus.count()
    }

    /// The lock its parts carry.
    pub fn lock(&self) -> LockKind {
        self.sender.lock
    }

    /// Hops of the longest path in flight (what a claim request, the reveal and the
    /// cancel travel, like an onion message along a part's path); 1 if none.
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

    /// Makes the session the Boomerang paper's sender, which hears every part's
    /// reserve answer at once: it gives up, cancels what the receiver holds and aborts
    /// what still travels as soon as nothing travels without v parts at the receiver,
    /// or what arrived, what travels and the replacements left cannot make v, however
    /// many replacements it has left (`redundant_session/paper.rs`). The driver reports
    /// the answers with [`RedundantSession::on_part_arrived`] and
    /// [`RedundantSession::on_part_refused`].
    pub fn give_up_when_none_travelling(mut self) -> Self {
        self.eager_give_up = true;
        self
    }

    /// Makes the session cancel its surplus parts (`cancel_htlc` along their paths) once
    /// the payment is complete; the driver sends them with
    /// [`RedundantSession::send_surplus_cancels`].
    pub fn cancel_surplus_on_completion(mut self) -> Self {
        self.surplus = crate::surplus_cancel::SurplusCancel::enabled();
        self
    }

    /// Sends a `cancel_htlc` for each surplus part marked since the last call, from
    /// the sender's node; each counts as an extra message.
    pub fn send_surplus_cancels<N: SenderNet + ?Sized>(
        &mut self,
        net: &mut N,
        out: &mut Vec<Output>,
    ) {
        for part in self.surplus.take() {
            if net.cancel_part(self.source, part, out) {
                self.stats.extra_messages += 1;
            }
        }
    }

    /// Marks every live part but those `keep` names as surplus: the payment is complete
    /// and no part will be sent or replaced any more.
    fn complete_surplus(&mut self, keep: impl Fn(&InFlight) -> bool) {
        if !self.surplus.is_enabled() {
            return;
        }
        self.exhausted = true;
        self.pending.clear();
        let parts: Vec<PartId> = self
            .in_flight
            .iter()
            .filter(|p| !keep(p))
            .map(|p| p.part)
            .collect();
        self.surplus.mark(parts);
    }

    /// Part `part` reached the receiver (its `update_add_htlc` was delivered there) at
    /// `now`. Only sessions made with [`RedundantSession::give_up_when_none_travelling`]
    /// use it: on Lightning the sender is not told. With nothing else travelling and
    /// fewer than v there, the payment gives up (`paper.rs`).
    pub fn on_part_arrived(&mut self, part: PartId, now: Timestamp) {
        if self.eager_give_up
            && self.in_flight.iter().any(|p| p.part == part)
            && !self.arrived.contains(&part)
            && !self.is_refused(part)
        {
            self.arrived.push(part);
            // v parts there: the paper's sender aborts the rest (what still travels;
            // a refused part is already failing back).
            if self.arrived.len() >= self.needed as usize && self.state == SessionState::Active {
                let (arrived, refused) = (
                    std::mem::take(&mut self.arrived),
                    std::mem::take(&mut self.refused),
                );
                self.complete_surplus(|p| {
                    arrived.contains(&p.part) || refused.iter().any(|r| r.0 == p.part)
                });
                (self.arrived, self.refused) = (arrived, refused);
            }
            self.give_up_if_short(now);
        }
    }

    /// The Boomerang paper's clock, for sessions made with
    /// [`RedundantSession::give_up_when_none_travelling`]: once v parts have reached the
    /// receiver (the paper's sender hears it at once, and a `boomerang` receiver claims
    /// the moment it holds v), the payment is complete at `now` — before the settles
    /// travel back, as the paper stops its clock. Returns whether it completed now.
    pub fn complete_when_reached(&mut self, now: Timestamp) -> bool {
        let done = self.eager_give_up
            && self.state == SessionState::Active
            && self.sender.lock == LockKind::Boomerang
            && self.arrived.len() >= self.needed as usize;
        if done {
            self.state = SessionState::Succeeded(now);
        }
        done
    }

    /// Whether the sender wants the receiver to fail the parts it holds now (once; the
    /// driver carries a cancel to [`crate::network::Network::cancel_redundant`] and counts it).
    pub fn take_cancel(&mut self) -> bool {
        if self.cancel == Some(true) {
            self.cancel = Some(false);
            self.stats.extra_messages += 1;
            true
        } else {
            false
        }
    }

    /// `boomerang`: the receiver claimed more than k' parts and the sender recovered
    /// P(0): the secret and the settled parts whose reverse clauses to claim, for
    /// [`crate::node::Node::claim_reverse`]. Parts that settle later come with a later
    /// call (each part once).
    pub fn take_refund(&mut self) -> Option<(SecretKey, Vec<PartId>)> {
        let p0 = self.refund.take()?;
        Some((p0, std::mem::take(&mut self.settled_parts)))
    }

    /// The driver sent `n` claims for the parts [`RedundantSession::take_refund`]
    /// named: the session stays open until each is answered.
    pub fn refund_claims_sent(&mut self, n: usize) {
        self.refunds_awaited += n as u32;
    }

    /// A claim was answered: `msat` of value came back (0 if the first hop refused).
    fn on_refunded(&mut self, msat: u64) {
        self.refunds_awaited = self.refunds_awaited.saturating_sub(1);
        self.stats.refunded_msat += msat;
        self.update_overpaid();
    }

    /// Settled − refunded − A, if positive.
    fn update_overpaid(&mut self) {
        self.stats.overpaid_msat = self
            .stats
            .common
            .settled_msat
            .saturating_sub(self.stats.refunded_msat)
            .saturating_sub(self.sender.amount_msat);
    }

    fn part_number(part: PartId) -> u32 {
        (part.0 & ((1 << PART_BITS) - 1)) as u32
    }

    fn live_msat(&self) -> u64 {
        self.in_flight.iter().map(|p| p.path.amount_msat()).sum()
    }

    /// Whether the live parts plus the settled ones can still make up A.
    fn can_complete(&self) -> bool {
        if let Some(plan) = &self.split {
            // Once the secrets are revealed the claimed parts are settling; the other
            // copies failing back are no loss.
            return self.stats.common.settled_msat >= self.sender.amount_msat
                || self.sender.revealed_msat() > 0
                || plan.complete();
        }
        self.stats.common.settled_msat + self.live_msat() >= self.sender.amount_msat
    }

    /// Fixed strategy with retry: a lost part's amount is placed again.
    fn requeue(&mut self, amount: u64) {
        if self.limits.retry
            && self.split.is_none()
            && !self.exhausted
            && matches!(
                self.limits.strategy,
                RedundancyStrategy::Fixed(_) | RedundancyStrategy::Extra(_)
            )
        {
            self.pending.push_back(amount);
        }
    }

    /// Whether more parts are wanted now (adaptive strategy).
    fn wants_more(&self) -> bool {
        let alive = self.in_flight.len() as u32;
        if alive
            >= self
                .limits
                .max_parts_in_flight
                .max(self.amounts.len() as u32)
        {
            return false;
        }
        let still = self.needed.saturating_sub(self.stats.common.parts_settled) as usize;
        match self.limits.strategy {
            RedundancyStrategy::Fixed(_) | RedundancyStrategy::Extra(_) => {
                (alive as usize) < self.amounts.len()
            }
            RedundancyStrategy::Adaptive { target } => {
                let p: Vec<f64> = self.in_flight.iter().map(|f| f.probability).collect();
                at_least(&p, still) < target
            }
        }
    }

    /// The amount of the next part: the pattern of the first parts, repeated.
    fn next_amount(&self) -> u64 {
        let n = self.sender.part_count();
        self.amounts[n % self.amounts.len()]
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
            // The parts the receiver does not hold are surplus now.
            let at_receiver: Vec<u16> = held.iter().map(|(i, _)| *i).collect();
            self.complete_surplus(|p| at_receiver.contains(&p.index));
        }
        r
    }

    /// A part of this session settled or failed (other events are ignored). The driver
    /// calls [`RedundantSession::pump`] after a failure, to replace the part.
    pub fn on_part_event<N: SenderNet + ?Sized>(
        &mut self,
        event: &Event,
        router: &mut dyn Router,
        net: &N,
        now: Timestamp,
    ) {
        match event {
            Event::PartSettled {
                part,
                preimage,
                amount_msat,
                fee_msat,
                locked_msat_micros,
            } => {
                let Some(p) = self.take(*part, router, net) else {
                    return;
                };
                router.path_succeeded(net.graph(), &p.path, now);
                self.stats.common.parts_settled += 1;
                self.stats.common.settled_msat += amount_msat;
                self.stats.common.fees_msat += fee_msat;
                self.stats.common.locked_msat_micros += locked_msat_micros;
                self.update_overpaid();
                self.record(&p, now, None, None, *locked_msat_micros);
                if self.sender.lock == LockKind::Boomerang {
                    // The receiver has claimed: whatever is still travelling is surplus
                    // (a cancel reaching a claimed part changes nothing). The paper's
                    // sender knew earlier, when v parts arrived.
                    if !self.eager_give_up {
                        self.complete_surplus(|_| false);
                    }
                    if let Some(p0) = self.sender.learn(p.index, preimage) {
                        // The receiver claimed more than k parts: it broke the protocol,
                        // the payment fails, and every claimed part is taken back.
                        self.refund = Some(p0);
                        if !matches!(self.state, SessionState::Failed(..)) {
                            self.state = SessionState::Failed(FailureReason::ReceiverReject, now);
                        }
                    }
                    self.settled_parts.push(*part);
                }
            }
            Event::PartFailed {
                part,
                failure,
                path_failure,
                locked_msat_micros,
            } => {
                // A refusal the sender was told of had its reason counted then.
                let counted = self.refused.contains(&(*part, true));
                let Some(p) = self.take(*part, router, net) else {
                    return;
                };
                if let Some(plan) = &mut self.split {
                    plan.lost(p.slot);
                }
                if self.surplus.was_cancelled(*part) {
                    // Stopped by its own cancel: nothing learnt, nothing replaced.
                    self.stats.common.locked_msat_micros += locked_msat_micros;
                    self.record(&p, now, Some(failure), None, *locked_msat_micros);
                    self.finish_if_done(now);
                    return;
                }
                router.path_failed(net.graph(), &p.path, *path_failure, now);
                self.stats.common.locked_msat_micros += locked_msat_micros;
                let at_receiver = failure.origin_hop + 1 >= p.path.hops.len();
                if at_receiver && failure.code == FailureCode::IncorrectOrUnknownPaymentDetails {
                    // The receiver completed (this is surplus) or refuses: no replacement.
                    self.exhausted = true;
                } else if let Some(h) = p
                    .path
                    .hops
                    .get(path_failure.hop)
                    .filter(|_| self.avoids(path_failure.kind))
                {
                    self.failed_edges.push(h.edge);
                }
                if self.state == SessionState::Active {
                    // A surplus part cancelled after success is no failure.
                    self.stats.common.last_failure = Some(failure.code);
                    if !counted {
                        self.failures.note(FailureReason::of_code(failure.code));
                    }
                    self.requeue(p.path.amount_msat());
                    // The Boomerang paper's sender stops when nothing travels, whatever
                    // retries it has left (`paper.rs`).
                    self.give_up_if_short(now);
                }
                self.record(
                    &p,
                    now,
                    Some(failure),
                    Some(*path_failure),
                    *locked_msat_micros,
                );
            }
            Event::PartRefunded { amount_msat, .. } => {
                self.on_refunded(*amount_msat);
                return;
            }
            Event::PaymentReceived { .. } | Event::ClaimRequested { .. } => return,
        }
        self.finish_if_done(now);
    }

    /// The sender's timeout passed: an undecided payment fails and its held parts are
    /// cancelled.
    pub fn on_deadline(&mut self, now: Timestamp) {
        if self.state == SessionState::Active && now >= self.deadline() {
            self.fail(FailureReason::Timeout, now);
        }
        self.finish_if_done(now);
    }

    fn take<N: SenderNet + ?Sized>(
        &mut self,
        part: PartId,
        router: &mut dyn Router,
        net: &N,
    ) -> Option<InFlight> {
        let i = self.in_flight.iter().position(|p| p.part == part)?;
        let p = self.in_flight.swap_remove(i);
        self.arrived.retain(|a| *a != part);
        self.refused.retain(|r| r.0 != part);
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

    /// Fails the payment and, if parts are still out, asks to cancel them. The paper's
    /// sender also aborts what still travels (`paper.rs`).
    fn fail(&mut self, reason: FailureReason, now: Timestamp) {
        self.state = SessionState::Failed(reason, now);
        if !self.in_flight.is_empty() && self.cancel.is_none() {
            self.cancel = Some(true);
        }
        self.abort_travelling();
    }

    /// Gives up when the live parts cannot make up A and no more will come.
    fn give_up_if_hopeless(&mut self, now: Timestamp) {
        if self.state != SessionState::Active || !self.placed || self.can_complete() {
            return;
        }
        if !self.can_retry(now) {
            let reason = if self.failures.count(FailureReason::Timeout) > 0 {
                FailureReason::Timeout
            } else {
                self.failures.dominant()
            };
            self.fail(reason, now);
        }
    }

    fn finish_if_done(&mut self, now: Timestamp) {
        if self.state != SessionState::Active {
            return;
        }
        if self.stats.common.settled_msat >= self.sender.amount_msat {
            self.state = SessionState::Succeeded(now);
        } else if self.in_flight.is_empty() && self.placed && !self.can_retry(now) {
            let reason = if self.failures.count(FailureReason::Timeout) > 0 {
                FailureReason::Timeout
            } else {
                self.failures.dominant()
            };
            self.state = SessionState::Failed(reason, now);
        }
    }

    /// Whether a channel that failed a part this way is avoided for the rest of the
    /// payment: always with fixed-size parts, which need a path for their whole amount;
    /// in split mode only as MPP avoids them (unusable channels, unreachable nodes),
    /// since the scorer's lowered bounds steer smaller parts past a channel that lacked
    /// liquidity for a larger one.
    fn avoids(&self, kind: FailureKind) -> bool {
        self.split.is_none()
            || matches!(
                kind,
                FailureKind::ChannelUnusable | FailureKind::NodeUnreachable
            )
    }

    /// Hedging, before the hedge: surplus parts wait.
    fn holding_surplus(&self) -> bool {
        self.limits.hedge_hop_micros.is_some() && !self.hedge_fired
    }

    /// Whether the strategy sends parts after the first ones (retry, or an adaptive
    /// target to keep).
    fn tops_up(&self) -> bool {
        self.split.is_some()
            || self.limits.retry
            || matches!(self.limits.strategy, RedundancyStrategy::Adaptive { .. })
    }

    /// Whether a pump could still send a part.
    fn can_retry(&self, now: Timestamp) -> bool {
        (self.tops_up() || self.hedge_at.is_some())
            && !self.exhausted
            && now < self.deadline()
            && self.stats.common.attempts < self.limits.max_attempts
            && self.sender.revealed_msat() == 0
    }
}

#[cfg(test)]
mod tests;
