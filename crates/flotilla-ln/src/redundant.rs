//! Redundant overpayment with the hash-based locks (`sender_hash`, `h2tlc`): send parts
//! worth more than A, let the receiver claim exactly A, cancel the rest.
//!
//! The flow (DESIGN.md, "Redundant overpayment"):
//! 1. The receiver registers a [`RedundantInvoice`] (its `payment_secret`, A, the lock
//!    type, and for `h2tlc` its preimage).
//! 2. The sender sends n parts ([`RedundantSender::part`], sent with
//!    [`crate::network::Network::send_redundant`]). Each final payload carries a
//!    [`RedundantPart`] record; each part is locked to its own H(s_i) (`sender_hash`: as the
//!    HTLC's `payment_hash`; `h2tlc`: as the HTLC's second hash).
//! 3. The receiver checks each arriving part ([`RedundantBook::receive`]: secret, lock,
//!    A, expiry, amount) and holds it: it cannot claim it. When the held parts reach A it
//!    emits one [`ClaimRequest`] naming them (the driver carries it to the sender with the
//!    return latency; [`crate::network::Network::poll_claim_request`]).
//! 4. The sender answers once ([`RedundantSender::answer`]) with the secrets of a subset
//!    worth exactly A ([`choose_exact_subset`]); the driver hands them to
//!    [`crate::network::Network::reveal_secrets`]. The receiver checks them
//!    ([`RedundantBook::reveal`]), claims exactly that subset and fails every other held
//!    part at once with `incorrect_or_unknown_payment_details`; later parts fail the same
//!    way.
//! 5. Timeouts: the receiver's `mpp_timeout` runs from the first part; if the payment is
//!    not claimed by then (no answer — the sender is offline or gone —, or not enough
//!    parts), every held part fails with `mpp_timeout` and the registration stays for
//!    another round. A sender that gives up earlier cancels the round
//!    ([`RedundantBook::cancel`]): the held parts fail at once.
//!
//! `boomerang` ([`crate::boomerang`]) has no claim request: the receiver registers its
//! polynomial of degree k ([`RedundantBook::register_boomerang`]), holds parts of exactly
//! A/k each locked to its point P(i)·G, and as soon as it holds k it claims them with
//! their scalars and fails the rest ([`RedundantBook::claim_boomerang`]). If it claims
//! more than k, the sender learns P(0) and the refund takes every claimed part back
//! ([`RedundantBook::refund`]).
//!
//! Safety does not rest on the receiver's honesty: a part can be claimed only with its s_i
//! (every hop checks the lock, [`crate::lock::check_claim`]), and the sender reveals
//! secrets worth at most A over the payment's life. [`RedundantBook::overpaid`] is
//! checked by [`crate::network::Network::check_invariants`].
//!
//! Once a registration's invoice has expired no part can be accepted for it, so the
//! book forgets it (its entry, paid mark and settled sum; an overpayment, should one
//! ever happen, is kept until reported): a long run's memory stays flat.

use std::collections::{HashMap, HashSet};

use bitcoin::hashes::{sha256, Hash, HashEngine};
use flotilla_graph::NodeIdx;
use flotilla_route::{Path, Timestamp};

use bitcoin::secp256k1::{PublicKey, SecretKey};

use crate::boomerang::{BoomerangCommitments, BoomerangPolynomial};
use crate::clock::Clock;
use crate::failure::{FailureCode, FailureData};
use crate::htlc::HtlcId;
use crate::invoice::payment_hash_of;
use crate::lock::{check_claim, sender_hash_of, HtlcLock, LockKind};
use crate::payload::{HopPayload, PaymentData, RedundantPart};
use crate::receiver::{unknown_payment, IncomingHtlc, RegisterError};
use crate::sender::{PartId, SendPart};
use crate::{PaymentHash, PaymentPreimage, PaymentSecret};

/// How long a receiver remembers a cancelled payment id, to fail its late parts at once
/// (a part arriving later is held and fails at its round's timeout instead).
pub const CANCEL_MEMORY: std::time::Duration = std::time::Duration::from_secs(86_400);

/// What a receiver knows about a redundant payment it asked for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct RedundantInvoice {
    /// The secret every part carries in `payment_data`; names the payment at the
    /// receiver (a `sender_hash` payment has no common hash).
    pub payment_secret: PaymentSecret,
    /// A: what the receiver claims in all, msat.
    pub amount_msat: u64,
    /// `SenderHash` or `H2tlc` (a plain `Hash` lock is refused: it cannot be redundant
    /// safely).
    pub lock: LockKind,
    /// `H2tlc`: the receiver's preimage (its hash is every part's `payment_hash`).
    pub preimage: Option<PaymentPreimage>,
    /// Blocks the final HTLC must have left before it expires.
    pub min_final_cltv_expiry_delta: u32,
    /// After this time parts are refused like unknown ones.
    pub expires_at: Timestamp,
}

impl RedundantInvoice {
    /// The hash every `h2tlc` part carries (`None` for `sender_hash`).
    pub fn payment_hash(&self) -> Option<PaymentHash> {
        self.preimage.as_ref().map(payment_hash_of)
    }
}

/// A part the receiver holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct HeldPart {
    /// The part's number.
    pub part_index: u16,
    /// Its HTLC.
    pub htlc: HtlcId,
    /// The HTLC's amount, msat.
    pub htlc_msat: u64,
    /// Its `amt_to_forward`: what it counts towards A.
    pub amount_msat: u64,
    /// The HTLC's hash.
    pub payment_hash: PaymentHash,
    /// The HTLC's lock.
    pub lock: HtlcLock,
}

impl HeldPart {
    /// Part `red` arriving in `htlc` with final payload `payload`, locked by `lock`.
    pub fn new(
        red: &RedundantPart,
        htlc: &IncomingHtlc,
        payload: &HopPayload,
        lock: HtlcLock,
    ) -> Self {
        HeldPart {
            part_index: red.part_index,
            htlc: htlc.id,
            htlc_msat: htlc.amount_msat,
            amount_msat: payload.amt_to_forward,
            payment_hash: htlc.payment_hash,
            lock,
        }
    }
}

/// The receiver's request to the sender: the parts it holds, worth at least A. Carried by
/// the driver from `receiver` to `sender` (the network knows the sender only to stand in
/// for a reply path in the onion).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClaimRequest {
    /// The node that holds the parts.
    pub receiver: NodeIdx,
    /// The node that sent them.
    pub sender: Option<NodeIdx>,
    /// The sender's name for the payment.
    pub payment_id: [u8; 32],
    /// `(part_index, amt_to_forward)` of every part held.
    pub parts: Vec<(u16, u64)>,
}

/// What to do with an arriving redundant part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedundantDecision {
    /// Fail it alone.
    Fail {
        /// The code.
        code: FailureCode,
        /// Its data.
        data: FailureData,
    },
    /// Hold it.
    Hold {
        /// A round this part opened: the caller sets its timeout timer.
        new_round: Option<u32>,
        /// The held parts reached A for the first time: send this claim request.
        claim_request: Option<Vec<(u16, u64)>>,
        /// `boomerang`: k parts are held; claim them now ([`RedundantBook::claim_boomerang`]).
        claim_now: bool,
    },
}

/// Why the sender's secrets were refused. Nothing changed: the parts stay held until
/// their timeout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevealError {
    /// No round of that payment is open at the receiver (never was, completed, or timed
    /// out).
    #[error("no open redundant payment with this id")]
    UnknownPayment,
    /// The receiver holds no part with this number.
    #[error("part {0} is not held")]
    UnknownPart(u16),
    /// The same part twice.
    #[error("part {0} named twice")]
    DuplicatePart(u16),
    /// The secret does not open the part's lock.
    #[error("secret of part {0} does not open its lock")]
    WrongSecret(u16),
    /// The revealed parts are not worth exactly A.
    #[error("revealed parts are worth {revealed} msat, not {due}")]
    AmountMismatch {
        /// Their sum.
        revealed: u64,
        /// A.
        due: u64,
    },
}

/// The outcome of a valid reveal: claim these, fail those.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevealPlan {
    /// Each part to claim with its preimage and sender secret.
    pub claims: Vec<(HeldPart, PaymentPreimage, Option<[u8; 32]>)>,
    /// Every other held part.
    pub rest: Vec<HeldPart>,
    /// `boomerang`: the scalar of each part in `rest`, which the receiver knows (it
    /// picked the polynomial) and a cheating one uses; empty for the hash locks.
    pub rest_scalars: Vec<PaymentPreimage>,
    /// Σ `amt_to_forward` of the claims (= A).
    pub amount_msat: u64,
    /// The hash a `PaymentReceived` event names: the receiver's for `h2tlc`, the
    /// payment id for `sender_hash` (which has no common hash).
    pub event_hash: PaymentHash,
    /// The payment's lock.
    pub lock: LockKind,
    /// `h2tlc`: the receiver's preimage.
    pub preimage: Option<PaymentPreimage>,
    /// The payment's secret (its name at the receiver).
    pub secret: PaymentSecret,
}

#[derive(Clone, Debug)]
struct Round {
    id: u32,
    payment_id: [u8; 32],
    held: Vec<HeldPart>,
    held_msat: u64,
    requested: bool,
}

#[derive(Clone, Debug)]
struct Entry {
    invoice: RedundantInvoice,
    hash: Option<PaymentHash>,
    round: Option<Round>,
    /// `boomerang`: the receiver's polynomial.
    polynomial: Option<Box<BoomerangPolynomial>>,
}

/// What one payment settled, for the safety invariant.
#[derive(Copy, Clone, Debug)]
struct Settled {
    /// A.
    due: u64,
    /// Value claimed so far.
    got: u64,
    /// Value the boomerang clause took back.
    refunded: u64,
    /// `boomerang`: C_0 = P(0)·G, what a refund's secret must match.
    c0: Option<PublicKey>,
}

impl Settled {
    fn refund_pending(&self) -> bool {
        self.c0.is_some() && self.got > self.due && self.refunded < self.got
    }
}

/// Why a boomerang refund was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    /// No boomerang payment with this secret was registered here.
    #[error("no boomerang payment with this secret")]
    UnknownPayment,
    /// The scalar is not P(0).
    #[error("the scalar is not the polynomial's secret P(0)")]
    WrongSecret,
    /// These parts were refunded already (the refund is worth more than the receiver
    /// claimed and still keeps), or there are none.
    #[error("already refunded")]
    AlreadyRefunded,
}

/// One node's redundant payments: registered, in progress, paid, and what each settled.
#[derive(Clone, Debug, Default)]
pub struct RedundantBook {
    entries: HashMap<PaymentSecret, Entry>,
    by_id: HashMap<[u8; 32], PaymentSecret>,
    paid: HashSet<PaymentSecret>,
    settled: HashMap<PaymentSecret, Settled>,
    kept_polynomials: HashMap<PaymentSecret, Box<BoomerangPolynomial>>,
    /// Payment ids cancelled, with when: forgotten [`CANCEL_MEMORY`] later.
    cancelled: HashMap<[u8; 32], Timestamp>,
    /// Registrations by invoice expiry, soonest first, to forget them once expired.
    expiries: std::collections::BinaryHeap<std::cmp::Reverse<(Timestamp, PaymentSecret)>>,
    /// The first overpayment seen under a hash lock, kept after its payment is forgotten.
    first_overpaid: Option<(PaymentSecret, u64, u64)>,
    next_round: u32,
}

impl RedundantBook {
    /// Expects a redundant payment.
    pub fn register(&mut self, invoice: RedundantInvoice) -> Result<(), RegisterError> {
        let s = invoice.payment_secret;
        if self.entries.contains_key(&s) || self.paid.contains(&s) {
            return Err(RegisterError::Duplicate);
        }
        match invoice.lock {
            LockKind::Hash => return Err(RegisterError::UnsafeLock),
            LockKind::H2tlc if invoice.preimage.is_none() => {
                return Err(RegisterError::MissingPreimage)
            }
            LockKind::Boomerang => return Err(RegisterError::BadPolynomial),
            _ => {}
        }
        self.insert(invoice, None);
        Ok(())
    }

    /// Expects a `boomerang` payment: A in k = `polynomial.degree()` equal parts, each
    /// locked to its point on `polynomial`.
    pub fn register_boomerang(
        &mut self,
        invoice: RedundantInvoice,
        polynomial: BoomerangPolynomial,
    ) -> Result<(), RegisterError> {
        let s = invoice.payment_secret;
        if self.entries.contains_key(&s) || self.paid.contains(&s) {
            return Err(RegisterError::Duplicate);
        }
        let k = polynomial.degree() as u64;
        if invoice.lock != LockKind::Boomerang || k == 0 || invoice.amount_msat % k != 0 {
            return Err(RegisterError::BadPolynomial);
        }
        self.insert(invoice, Some(polynomial));
        Ok(())
    }

    fn insert(&mut self, invoice: RedundantInvoice, polynomial: Option<BoomerangPolynomial>) {
        let s = invoice.payment_secret;
        let hash = match invoice.lock {
            LockKind::H2tlc => invoice.payment_hash(),
            _ => None,
        };
        let c0 = polynomial
            .as_ref()
            .map(|p| PublicKey::from_secret_key(crate::boomerang::secp(), &p.secret()));
        self.entries.insert(
            s,
            Entry {
                invoice,
                hash,
                round: None,
                polynomial: polynomial.map(Box::new),
            },
        );
        self.settled.insert(
            s,
            Settled {
                due: invoice.amount_msat,
                got: 0,
                refunded: 0,
                c0,
            },
        );
        self.expiries
            .push(std::cmp::Reverse((invoice.expires_at, s)));
    }

    /// Forgets the registrations whose invoice expired before `now`: entry, paid mark and
    /// settled sum. One with a round still open (parts held) waits for the round's timer
    /// and is forgotten at a later call.
    pub fn forget_expired(&mut self, now: Timestamp) {
        let mut open = Vec::new();
        while let Some(std::cmp::Reverse((at, s))) = self.expiries.peek().copied() {
            if at >= now {
                break;
            }
            self.expiries.pop();
            let refund_pending = self.settled.get(&s).is_some_and(Settled::refund_pending);
            if self.entries.get(&s).is_some_and(|e| e.round.is_some()) || refund_pending {
                open.push(std::cmp::Reverse((at, s)));
                continue;
            }
            self.entries.remove(&s);
            self.paid.remove(&s);
            self.settled.remove(&s);
            self.kept_polynomials.remove(&s);
        }
        self.expiries.extend(open);
        let horizon = now
            .micros()
            .saturating_sub(CANCEL_MEMORY.as_micros() as u64);
        self.cancelled.retain(|_, at| at.micros() >= horizon);
    }

    /// Registrations, paid marks and settled sums this book remembers (for memory
    /// checks).
    pub fn remembered(&self) -> usize {
        self.entries.len() + self.paid.len() + self.settled.len()
    }

    /// Whether the payment with this secret was claimed.
    pub fn is_paid(&self, secret: &PaymentSecret) -> bool {
        self.paid.contains(secret)
    }

    /// Value claimed so far from the payment with this secret, msat.
    pub fn settled_msat(&self, secret: &PaymentSecret) -> u64 {
        self.settled.get(secret).map_or(0, |s| s.got)
    }

    /// Value the receiver keeps of the payment with this secret: claimed minus what the
    /// boomerang clause took back, msat.
    pub fn kept_msat(&self, secret: &PaymentSecret) -> u64 {
        self.settled
            .get(secret)
            .map_or(0, |s| s.got.saturating_sub(s.refunded))
    }

    /// Number of parts held for the payment with this secret.
    pub fn held_parts(&self, secret: &PaymentSecret) -> usize {
        self.entries
            .get(secret)
            .and_then(|e| e.round.as_ref())
            .map_or(0, |r| r.held.len())
    }

    /// The parts held for the payment with this secret.
    pub fn held(&self, secret: &PaymentSecret) -> Vec<HeldPart> {
        self.entries
            .get(secret)
            .and_then(|e| e.round.as_ref())
            .map_or_else(Vec::new, |r| r.held.clone())
    }

    /// The parts named in the claim request of `payment_id`'s open round, `(part_index,
    /// amount)`, while that request still waits for the sender's answer; `None` once the
    /// round was claimed, cancelled or timed out (or before it asked).
    pub fn awaiting_answer(&self, payment_id: &[u8; 32]) -> Option<Vec<(u16, u64)>> {
        let secret = self.by_id.get(payment_id)?;
        let entry = self.entries.get(secret)?;
        if entry.polynomial.is_some() {
            // Boomerang rounds are claimed without asking.
            return None;
        }
        let round = entry.round.as_ref().filter(|r| r.requested)?;
        (round.payment_id == *payment_id).then(|| {
            round
                .held
                .iter()
                .map(|p| (p.part_index, p.amount_msat))
                .collect()
        })
    }

    /// Whether a round of `payment_id` is open (parts held, not yet claimed).
    pub fn has_round(&self, payment_id: &[u8; 32]) -> bool {
        self.by_id.contains_key(payment_id)
    }

    /// A payment of which the receiver keeps more than its A: `(secret, A, kept)`.
    /// Never happens unless a lock is broken (a boomerang receiver that claimed more than
    /// k parts keeps them only until the sender's refund).
    ///
    /// A boomerang over-claim whose refund has not happened yet is not reported here
    /// (more than k claimed scalars always let the sender recover P(0)); it is counted by
    /// [`RedundantBook::pending_refunds`], which must be 0 when a run ends.
    pub fn overpaid(&self) -> Option<(PaymentSecret, u64, u64)> {
        self.first_overpaid
    }

    /// Boomerang payments claimed beyond A and not (yet) refunded.
    pub fn pending_refunds(&self) -> usize {
        self.settled.values().filter(|v| v.refund_pending()).count()
    }

    /// Decides on an HTLC whose final payload carries `red`.
    pub fn receive(
        &mut self,
        htlc: IncomingHtlc,
        lock: HtlcLock,
        payload: &HopPayload,
        red: &RedundantPart,
        clock: &Clock,
    ) -> RedundantDecision {
        let unknown = || {
            let (code, data) = unknown_payment(htlc.amount_msat, clock.height);
            RedundantDecision::Fail { code, data }
        };
        self.forget_expired(clock.now);
        let Some(PaymentData { payment_secret, .. }) = payload.payment_data else {
            return unknown();
        };
        if self.paid.contains(&payment_secret) || self.cancelled.contains_key(&red.payment_id) {
            return unknown();
        }
        let Some(entry) = self.entries.get_mut(&payment_secret) else {
            return unknown();
        };
        let inv = entry.invoice;
        if clock.now > inv.expires_at
            || red.lock != inv.lock
            || red.amount_due_msat != inv.amount_msat
        {
            return unknown();
        }
        let lock_ok = match inv.lock {
            LockKind::SenderHash => lock == HtlcLock::Hash,
            LockKind::H2tlc => {
                matches!(lock, HtlcLock::H2tlc { .. }) && Some(htlc.payment_hash) == entry.hash
            }
            // The part must be locked to its own point and be exactly A/k.
            LockKind::Boomerang => match (&lock, &entry.polynomial) {
                (HtlcLock::Point { point }, Some(poly)) => {
                    let k = poly.degree() as u64;
                    payload.amt_to_forward == inv.amount_msat / k
                        && poly.point(red.part_index) == Some(*point)
                }
                _ => false,
            },
            LockKind::Hash => false,
        };
        if !lock_ok {
            return unknown();
        }
        if (htlc.cltv_expiry as u64) < clock.height as u64 + inv.min_final_cltv_expiry_delta as u64
        {
            return unknown();
        }
        if htlc.cltv_expiry < payload.outgoing_cltv_value {
            return RedundantDecision::Fail {
                code: FailureCode::FinalIncorrectCltvExpiry,
                data: FailureData {
                    cltv_expiry: Some(htlc.cltv_expiry),
                    ..Default::default()
                },
            };
        }
        if htlc.amount_msat < payload.amt_to_forward {
            return RedundantDecision::Fail {
                code: FailureCode::FinalIncorrectHtlcAmount,
                data: FailureData {
                    htlc_msat: Some(htlc.amount_msat),
                    ..Default::default()
                },
            };
        }
        let part = HeldPart::new(red, &htlc, payload, lock);
        let mut new_round = None;
        let round = match &mut entry.round {
            Some(r) => {
                if r.payment_id != red.payment_id
                    || r.held.iter().any(|p| p.part_index == red.part_index)
                {
                    return unknown();
                }
                r
            }
            None => {
                if self.by_id.contains_key(&red.payment_id) {
                    // The id names another payment's open round.
                    return unknown();
                }
                let id = self.next_round;
                self.next_round = self.next_round.wrapping_add(1);
                new_round = Some(id);
                self.by_id.insert(red.payment_id, payment_secret);
                entry.round.insert(Round {
                    id,
                    payment_id: red.payment_id,
                    held: Vec::new(),
                    held_msat: 0,
                    requested: false,
                })
            }
        };
        round.held.push(part);
        round.held_msat = round.held_msat.saturating_add(part.amount_msat);
        let mut claim_request = None;
        let boomerang = entry.polynomial.is_some();
        if !round.requested && round.held_msat >= inv.amount_msat && boomerang {
            round.requested = true;
            return RedundantDecision::Hold {
                new_round,
                claim_request: None,
                claim_now: true,
            };
        }
        // Parts of uneven sizes (an MPP splitter's, or halves) may sum past A with no
        // subset worth exactly A: the request waits until one exists, so that the one
        // answer the sender gives can be a claim.
        if !round.requested
            && round.held_msat >= inv.amount_msat
            && holds_exact_subset(&round.held, inv.amount_msat)
        {
            round.requested = true;
            claim_request = Some(
                round
                    .held
                    .iter()
                    .map(|p| (p.part_index, p.amount_msat))
                    .collect(),
            );
        }
        RedundantDecision::Hold {
            new_round,
            claim_request,
            claim_now: false,
        }
    }

    /// `boomerang`: claims the first k parts held for the payment with `secret` (equal
    /// parts worth A) with their scalars, and fails the rest; the payment is complete.
    /// `None` if it is not a boomerang payment holding k parts.
    ///
    /// `keep_polynomial` keeps the polynomial after the payment (a cheating receiver
    /// uses it to claim parts that arrive later, [`RedundantBook::late_scalar`]); an
    /// honest one drops it.
    pub fn claim_boomerang(
        &mut self,
        secret: &PaymentSecret,
        keep_polynomial: bool,
    ) -> Option<RevealPlan> {
        let entry = self.entries.get(secret)?;
        let poly = entry.polynomial.as_ref()?;
        let round = entry.round.as_ref()?;
        let k = poly.degree() as usize;
        if round.held.len() < k {
            return None;
        }
        let scalar = |p: &HeldPart| {
            poly.share(p.part_index)
                .map(|s| PaymentPreimage(s.secret_bytes()))
        };
        let claims: Vec<(HeldPart, PaymentPreimage, Option<[u8; 32]>)> = round.held[..k]
            .iter()
            .map(|p| Some((*p, scalar(p)?, None)))
            .collect::<Option<_>>()?;
        let rest_scalars = round.held[k..].iter().map(scalar).collect::<Option<_>>()?;
        let entry = self.entries.remove(secret)?;
        let round = entry.round?;
        self.by_id.remove(&round.payment_id);
        self.paid.insert(*secret);
        if keep_polynomial {
            if let Some(p) = entry.polynomial {
                self.kept_polynomials.insert(*secret, p);
            }
        }
        Some(RevealPlan {
            amount_msat: claims.iter().map(|c| c.0.amount_msat).sum(),
            claims,
            rest: round.held[k..].to_vec(),
            rest_scalars,
            event_hash: PaymentHash(round.payment_id),
            lock: LockKind::Boomerang,
            preimage: None,
            secret: *secret,
        })
    }

    /// A paid boomerang payment's scalar for part `index`, if its polynomial was kept
    /// (cheating receivers only).
    pub fn late_scalar(&self, secret: &PaymentSecret, index: u16) -> Option<PaymentPreimage> {
        let p = self.kept_polynomials.get(secret)?;
        p.share(index).map(|s| PaymentPreimage(s.secret_bytes()))
    }

    /// The sender gave up on `payment_id`: the held parts to fail (empty if none is
    /// open yet). Parts of that id that arrive later fail at once: a cancel can overtake
    /// the parts it cancels.
    /// The id is remembered for [`CANCEL_MEMORY`]: anyone may send a cancel, so the
    /// book must not grow with cancels for payments that never come.
    pub fn cancel(&mut self, payment_id: &[u8; 32], now: Timestamp) -> Vec<HeldPart> {
        self.cancelled.insert(*payment_id, now);
        let Some(secret) = self.by_id.remove(payment_id) else {
            return Vec::new();
        };
        self.entries
            .get_mut(&secret)
            .and_then(|e| e.round.take())
            .map_or_else(Vec::new, |r| r.held)
    }

    /// The boomerang clause: `p0` is the receiver's P(0) for the payment with `secret`,
    /// recovered by the sender from more than k claimed scalars; claimed parts worth
    /// `value_msat` go back. The sender refunds the parts it has seen settle, so a
    /// receiver that claimed more while earlier fulfils were still on their way is
    /// refunded again when they arrive: a refund covers its own parts, not everything
    /// claimed so far. Returns `value_msat`.
    pub fn refund(
        &mut self,
        secret: &PaymentSecret,
        p0: &SecretKey,
        value_msat: u64,
    ) -> Result<u64, RefundError> {
        let s = self
            .settled
            .get_mut(secret)
            .ok_or(RefundError::UnknownPayment)?;
        let c0 = s.c0.ok_or(RefundError::UnknownPayment)?;
        if PublicKey::from_secret_key(crate::boomerang::secp(), p0) != c0 {
            return Err(RefundError::WrongSecret);
        }
        // More than is claimed and not yet refunded: these parts went back already.
        if value_msat == 0 || s.refunded.saturating_add(value_msat) > s.got {
            return Err(RefundError::AlreadyRefunded);
        }
        s.refunded += value_msat;
        Ok(value_msat)
    }

    /// The commitments of the boomerang payment with `secret` (what the invoice
    /// publishes), while it is registered.
    pub fn commitments(&self, secret: &PaymentSecret) -> Option<BoomerangCommitments> {
        let e = self.entries.get(secret)?;
        e.polynomial.as_ref().map(|p| p.commitments())
    }

    /// Checks the sender's secrets for the open round of `payment_id`. On success the
    /// payment is complete (its round and registration leave, later parts fail) and the
    /// plan says which parts to claim and which to fail; on error nothing changed.
    pub fn reveal(
        &mut self,
        payment_id: &[u8; 32],
        secrets: &[(u16, [u8; 32])],
    ) -> Result<RevealPlan, RevealError> {
        let secret = *self
            .by_id
            .get(payment_id)
            .ok_or(RevealError::UnknownPayment)?;
        let entry = self
            .entries
            .get(&secret)
            .ok_or(RevealError::UnknownPayment)?;
        let round = entry.round.as_ref().ok_or(RevealError::UnknownPayment)?;
        let inv = entry.invoice;
        if inv.lock == LockKind::Boomerang {
            // Boomerang payments are claimed without the sender's secrets.
            return Err(RevealError::UnknownPayment);
        }
        let mut claims = Vec::with_capacity(secrets.len());
        let mut sum = 0u64;
        for (i, (index, s)) in secrets.iter().enumerate() {
            if secrets[..i].iter().any(|(j, _)| j == index) {
                return Err(RevealError::DuplicatePart(*index));
            }
            let part = round
                .held
                .iter()
                .find(|p| p.part_index == *index)
                .ok_or(RevealError::UnknownPart(*index))?;
            let (preimage, sender_secret) = match inv.lock {
                LockKind::H2tlc => (inv.preimage.unwrap_or(PaymentPreimage([0; 32])), Some(*s)),
                _ => (PaymentPreimage(*s), None),
            };
            check_claim(
                &part.payment_hash,
                &part.lock,
                &preimage,
                sender_secret.as_ref(),
            )
            .map_err(|_| RevealError::WrongSecret(*index))?;
            sum = sum.saturating_add(part.amount_msat);
            claims.push((*part, preimage, sender_secret));
        }
        if sum != inv.amount_msat {
            return Err(RevealError::AmountMismatch {
                revealed: sum,
                due: inv.amount_msat,
            });
        }
        let entry = self.entries.remove(&secret).expect("found above");
        self.by_id.remove(payment_id);
        self.paid.insert(secret);
        let round = entry.round.expect("found above");
        let rest = round
            .held
            .into_iter()
            .filter(|p| !claims.iter().any(|(c, _, _)| c.htlc == p.htlc))
            .collect();
        Ok(RevealPlan {
            claims,
            rest,
            rest_scalars: Vec::new(),
            amount_msat: sum,
            event_hash: entry.hash.unwrap_or(PaymentHash(*payment_id)),
            lock: inv.lock,
            preimage: inv.preimage,
            secret,
        })
    }

    /// Records that `value_msat` of the payment with `secret` was claimed.
    pub fn record_settled(&mut self, secret: &PaymentSecret, value_msat: u64) {
        if let Some(s) = self.settled.get_mut(secret) {
            s.got = s.got.saturating_add(value_msat);
            // Under a hash lock an over-claim is final; under boomerang it is a pending
            // refund (`pending_refunds`) until the sender takes it back.
            if s.got > s.due && s.c0.is_none() && self.first_overpaid.is_none() {
                self.first_overpaid = Some((*secret, s.due, s.got));
            }
        }
    }

    /// The held part with this HTLC, and its payment's secret.
    pub fn find_held(&self, htlc: HtlcId) -> Option<(PaymentSecret, HeldPart)> {
        self.entries.iter().find_map(|(s, e)| {
            let r = e.round.as_ref()?;
            r.held.iter().find(|p| p.htlc == htlc).map(|p| (*s, *p))
        })
    }

    /// Stops holding a part (it was claimed directly).
    pub fn remove_held(&mut self, secret: &PaymentSecret, htlc: HtlcId) {
        if let Some(r) = self.entries.get_mut(secret).and_then(|e| e.round.as_mut()) {
            if let Some(i) = r.held.iter().position(|p| p.htlc == htlc) {
                let p = r.held.remove(i);
                r.held_msat = r.held_msat.saturating_sub(p.amount_msat);
            }
        }
    }

    /// The timeout of round `round` of the payment with `secret` fired: the parts to fail
    /// if that round is still open. The registration stays for another round.
    pub fn timeout(&mut self, secret: &PaymentSecret, round: u32) -> Option<Vec<HeldPart>> {
        let entry = self.entries.get_mut(secret)?;
        match &entry.round {
            Some(r) if r.id == round => {
                let r = entry.round.take()?;
                self.by_id.remove(&r.payment_id);
                Some(r.held)
            }
            _ => None,
        }
    }
}

/// One redundant part to send: an ordinary [`SendPart`] (whose `payment_hash` is the
/// HTLC's: H(s_i) for `sender_hash`, the receiver's for `h2tlc`) plus the HTLC's lock and
/// the final payload's record.
#[derive(Clone, Copy, Debug)]
pub struct RedundantSendPart<'a> {
    /// The part.
    pub part: SendPart<'a>,
    /// The HTLC's lock.
    pub lock: HtlcLock,
    /// The final payload's redundant record.
    pub redundant: RedundantPart,
    /// `boomerang`: C_0, the reverse clause every hop's HTLC carries.
    pub reverse_point: Option<PublicKey>,
}

/// The sender's side of one redundant payment: each part's amount and secret, and the one
/// answer to the receiver's claim request.
#[derive(Clone, Debug)]
pub struct RedundantSender {
    /// The payment's id (in every part's record and the claim request).
    pub payment_id: [u8; 32],
    /// A, msat.
    pub amount_msat: u64,
    /// `SenderHash` or `H2tlc`.
    pub lock: LockKind,
    /// The invoice's secret.
    pub payment_secret: PaymentSecret,
    /// `h2tlc`: the invoice's payment hash.
    pub payment_hash: Option<PaymentHash>,
    /// `boomerang`: the invoice's commitments.
    commitments: Option<BoomerangCommitments>,
    parts: Vec<SenderPart>,
    revealed_msat: u64,
    /// `boomerang`: the scalars learned from settled parts.
    learned: Vec<(u16, SecretKey)>,
}

#[derive(Clone, Debug)]
struct SenderPart {
    amount_msat: u64,
    /// s_i (hash locks).
    secret: [u8; 32],
    /// `boomerang`: P(i)·G (`None` only in the negligible case the point is infinity; the
    /// part then carries an unclaimable hash lock and fails at the receiver).
    point: Option<PublicKey>,
}

impl RedundantSender {
    /// A payment of `amount_msat` to an invoice with `payment_secret` (and, for `h2tlc`,
    /// `payment_hash`).
    pub fn new(
        payment_id: [u8; 32],
        amount_msat: u64,
        lock: LockKind,
        payment_secret: PaymentSecret,
        payment_hash: Option<PaymentHash>,
    ) -> Self {
        RedundantSender {
            payment_id,
            amount_msat,
            lock,
            payment_secret,
            payment_hash,
            commitments: None,
            parts: Vec::new(),
            revealed_msat: 0,
            learned: Vec::new(),
        }
    }

    /// A `boomerang` payment to an invoice that published `commitments` (k =
    /// their degree; every part must be A/k).
    pub fn boomerang(
        payment_id: [u8; 32],
        amount_msat: u64,
        payment_secret: PaymentSecret,
        commitments: BoomerangCommitments,
    ) -> Self {
        let mut s = RedundantSender::new(
            payment_id,
            amount_msat,
            LockKind::Boomerang,
            payment_secret,
            None,
        );
        s.commitments = Some(commitments);
        s
    }

    /// `boomerang`: a part of this payment settled with `preimage` (its scalar). Returns
    /// P(0) once more than k distinct valid scalars are known: the receiver over-claimed
    /// and the refund ([`crate::node::Node::claim_reverse`]) may take every
    /// claimed part back.
    pub fn learn(&mut self, index: u16, preimage: &PaymentPreimage) -> Option<SecretKey> {
        let c = self.commitments.as_ref()?;
        // Not checked one by one: every hop already checked the scalar opens the part's
        // point, and a wrong one would fail the recovered secret's check against C_0.
        self.parts.get(index as usize)?.point?;
        if self.learned.iter().any(|l| l.0 == index) {
            return None;
        }
        self.learned
            .push((index, SecretKey::from_slice(&preimage.0).ok()?));
        if self.learned.len() > c.degree() as usize {
            c.recover_secret(&self.learned)
        } else {
            None
        }
    }

    /// A deterministic sender secret: `sha256("flotilla-redundant" ‖ seed ‖ payment_id ‖
    /// index)`. Simulations use it; a real sender draws s_i at random.
    pub fn derive_secret(seed: u64, payment_id: &[u8; 32], index: u16) -> [u8; 32] {
        let mut e = sha256::Hash::engine();
        e.input(b"flotilla-redundant");
        e.input(&seed.to_be_bytes());
        e.input(payment_id);
        e.input(&index.to_be_bytes());
        sha256::Hash::from_engine(e).to_byte_array()
    }

    /// Adds a part of `amount_msat` locked to `secret` (hash locks) or to its point
    /// computed from the commitments (`boomerang`, which ignores `secret`: k point
    /// multiplications); returns its index.
    pub fn add_part(&mut self, amount_msat: u64, secret: [u8; 32]) -> u16 {
        let index = self.parts.len() as u16;
        let point = self.commitments.as_ref().and_then(|c| c.point(index));
        self.parts.push(SenderPart {
            amount_msat,
            secret,
            point,
        });
        index
    }

    /// Number of parts added.
    pub fn part_count(&self) -> usize {
        self.parts.len()
    }

    /// Part `index` as a [`RedundantSendPart`] over `path` (which must deliver the part's
    /// amount), named `id`.
    pub fn part<'a>(&self, index: u16, id: PartId, path: &'a Path) -> RedundantSendPart<'a> {
        let part = &self.parts[index as usize];
        let h = sender_hash_of(&part.secret);
        let (payment_hash, lock) = match (self.lock, part.point) {
            (LockKind::H2tlc, _) => (
                self.payment_hash.unwrap_or(PaymentHash([0; 32])),
                HtlcLock::H2tlc { sender_hash: h },
            ),
            (LockKind::Boomerang, Some(point)) => {
                (HtlcLock::point_id(&point), HtlcLock::Point { point })
            }
            _ => (h, HtlcLock::Hash),
        };
        RedundantSendPart {
            part: SendPart {
                id,
                path,
                payment_hash,
                payment_data: Some(PaymentData {
                    payment_secret: self.payment_secret,
                    total_msat: self.amount_msat,
                }),
                keysend_preimage: None,
            },
            lock,
            redundant: RedundantPart {
                payment_id: self.payment_id,
                part_index: index,
                amount_due_msat: self.amount_msat,
                lock: self.lock,
                // The sending node fills in its reply path.
                reply_to: u32::MAX,
                reply_node: None,
            },
            reverse_point: match self.lock {
                LockKind::Boomerang => self.commitments.as_ref().map(|c| c.c0()),
                _ => None,
            },
        }
    }

    /// Answers a claim request naming `held` (`(part_index, amount)`): the secrets of a
    /// subset of the named parts worth exactly A by the sender's own amounts (the
    /// receiver's are ignored), or `None` if none exists or secrets were already revealed
    /// (over the payment's life the sender reveals at most A, whatever it is asked).
    pub fn answer(&mut self, held: &[(u16, u64)]) -> Option<Vec<(u16, [u8; 32])>> {
        if self.revealed_msat > 0 {
            return None;
        }
        let mut known: Vec<(u16, u64)> = held
            .iter()
            .filter_map(|&(i, _)| self.parts.get(i as usize).map(|p| (i, p.amount_msat)))
            .collect();
        known.sort_unstable();
        known.dedup_by_key(|p| p.0);
        let chosen = choose_exact_subset(&known, self.amount_msat)?;
        let out: Vec<(u16, [u8; 32])> = chosen
            .iter()
            .map(|&i| (i, self.parts[i as usize].secret))
            .collect();
        self.revealed_msat = chosen
            .iter()
            .map(|&i| self.parts[i as usize].amount_msat)
            .sum::<u64>()
            .max(1);
        Some(out)
    }

    /// Value of the parts whose secrets were revealed, msat (0 before the answer).
    pub fn revealed_msat(&self) -> u64 {
        self.revealed_msat
    }
}

/// Whether `held` contains parts worth exactly `amount` (by their `amt_to_forward`):
/// at once when they sum to it, else by [`choose_exact_subset`].
fn holds_exact_subset(held: &[HeldPart], amount: u64) -> bool {
    let sum: u128 = held.iter().map(|p| p.amount_msat as u128).sum();
    if sum == amount as u128 {
        return true;
    }
    let parts: Vec<(u16, u64)> = held.iter().map(|p| (p.part_index, p.amount_msat)).collect();
    choose_exact_subset(&parts, amount).is_some()
}

/// Work bound of the exact searches in [`choose_exact_subset`].
const SEARCH_BUDGET: usize = 1 << 22;

/// A subset of `parts` (`(part_index, amount)`) worth exactly `amount`, as part indices.
///
/// - Equal amounts a: the first amount / a parts (if a divides `amount`).
/// - Otherwise an exact search over the distinct amounts and how many parts of each to
///   take, complete when Π (count + 1) ≤ 2^22 (few distinct amounts, e.g. a
///   splitter's halving or a few sizes).
/// - Otherwise meet-in-the-middle over the parts, complete for up to 40 parts.
/// - Otherwise (more than 40 parts with many distinct amounts) a depth-first search with
///   a 2^22-step budget that may miss an existing subset and return `None`.
///
/// Msat amounts are too large for a dynamic program over the sum.
pub fn choose_exact_subset(parts: &[(u16, u64)], amount: u64) -> Option<Vec<u16>> {
    if amount == 0 {
        return Some(Vec::new());
    }
    let parts: Vec<(u16, u64)> = parts.iter().copied().filter(|p| p.1 > 0).collect();
    let total: u128 = parts.iter().map(|p| p.1 as u128).sum();
    if total < amount as u128 {
        return None;
    }
    // Group by amount, largest first.
    let mut groups: Vec<(u64, Vec<u16>)> = Vec::new();
    let mut sorted = parts.clone();
    sorted.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (i, a) in sorted {
        match groups.last_mut() {
            Some((g, v)) if *g == a => v.push(i),
            _ => groups.push((a, vec![i])),
        }
    }
    if groups.len() == 1 {
        let (a, v) = &groups[0];
        if amount % a != 0 {
            return None;
        }
        let k = (amount / a) as usize;
        return (k <= v.len()).then(|| v[..k].to_vec());
    }
    let combos = groups
        .iter()
        .try_fold(1usize, |acc, (_, v)| acc.checked_mul(v.len() + 1))
        .unwrap_or(usize::MAX);
    if combos <= SEARCH_BUDGET {
        return by_groups(&groups, amount, usize::MAX);
    }
    if parts.len() <= 40 {
        return meet_in_the_middle(&parts, amount);
    }
    by_groups(&groups, amount, SEARCH_BUDGET)
}

/// Depth-first over groups: how many of each amount, pruned by what the remaining groups
/// can still add; at most `budget` steps.
fn by_groups(groups: &[(u64, Vec<u16>)], amount: u64, budget: usize) -> Option<Vec<u16>> {
    let mut suffix = vec![0u128; groups.len() + 1];
    for j in (0..groups.len()).rev() {
        suffix[j] = suffix[j + 1] + groups[j].0 as u128 * groups[j].1.len() as u128;
    }
    let mut counts = vec![0usize; groups.len()];
    let mut steps = 0usize;
    #[allow(clippy::too_many_arguments)]
    fn go(
        j: usize,
        left: u64,
        groups: &[(u64, Vec<u16>)],
        suffix: &[u128],
        counts: &mut [usize],
        steps: &mut usize,
        budget: usize,
    ) -> bool {
        if left == 0 {
            return true;
        }
        if j == groups.len() || suffix[j] < left as u128 || *steps >= budget {
            return false;
        }
        *steps += 1;
        let (a, v) = &groups[j];
        let max = ((left / a) as usize).min(v.len());
        for c in (0..=max).rev() {
            counts[j] = c;
            if go(
                j + 1,
                left - a * c as u64,
                groups,
                suffix,
                counts,
                steps,
                budget,
            ) {
                return true;
            }
        }
        counts[j] = 0;
        false
    }
    if !go(0, amount, groups, &suffix, &mut counts, &mut steps, budget) {
        return None;
    }
    Some(
        groups
            .iter()
            .zip(&counts)
            .flat_map(|((_, v), &c)| v[..c].iter().copied())
            .collect(),
    )
}

/// Meet-in-the-middle for up to 40 parts: every subset sum of each half, sorted, then a
/// lookup per subset of the first half.
fn meet_in_the_middle(parts: &[(u16, u64)], amount: u64) -> Option<Vec<u16>> {
    let (a, b) = parts.split_at(parts.len() / 2);
    let sums = |half: &[(u16, u64)]| -> Vec<(u128, u64)> {
        (0u64..1 << half.len())
            .map(|mask| {
                let s = half
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask >> i & 1 == 1)
                    .map(|(_, p)| p.1 as u128)
                    .sum();
                (s, mask)
            })
            .collect()
    };
    let left = sums(a);
    let mut right = sums(b);
    right.sort_unstable();
    let pick = |half: &[(u16, u64)], mask: u64| -> Vec<u16> {
        half.iter()
            .enumerate()
            .filter(|(i, _)| mask >> i & 1 == 1)
            .map(|(_, p)| p.0)
            .collect()
    };
    for (s, mask) in left {
        if s > amount as u128 {
            continue;
        }
        let need = amount as u128 - s;
        if let Ok(k) = right.binary_search_by(|(t, _)| t.cmp(&need)) {
            let mut out = pick(a, mask);
            out.extend(pick(b, right[k].1));
            return Some(out);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(parts: &[(u16, u64)], chosen: &[u16]) -> u64 {
        chosen
            .iter()
            .map(|i| parts.iter().find(|p| p.0 == *i).unwrap().1)
            .sum()
    }

    #[test]
    fn equal_parts_take_any_k() {
        let parts: Vec<(u16, u64)> = (0..5).map(|i| (i, 1_000)).collect();
        let c = choose_exact_subset(&parts, 3_000).unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(choose_exact_subset(&parts, 3_500), None);
        assert_eq!(choose_exact_subset(&parts, 6_000), None);
    }

    #[test]
    fn uneven_parts_find_an_exact_subset() {
        let parts = [(0, 7_000), (1, 5_000), (2, 3_000), (3, 2_000), (4, 1_000)];
        for amount in [10_000u64, 8_000, 13_000, 18_000, 1_000] {
            let c = choose_exact_subset(&parts, amount).unwrap();
            assert_eq!(sum(&parts, &c), amount, "{amount}");
        }
        assert_eq!(choose_exact_subset(&parts, 18_500), None);
        assert_eq!(choose_exact_subset(&parts, 19_000), None);
    }

    #[test]
    fn many_distinct_parts_use_meet_in_the_middle() {
        // 30 distinct amounts: Π(count+1) = 2^30, over the group search budget.
        let parts: Vec<(u16, u64)> = (0..30)
            .map(|i| (i, 1_000 + 37 * i as u64 * i as u64))
            .collect();
        let target = parts[3].1 + parts[17].1 + parts[29].1 + parts[8].1;
        let c = choose_exact_subset(&parts, target).unwrap();
        assert_eq!(sum(&parts, &c), target);
        assert_eq!(choose_exact_subset(&parts, 1), None);
    }

    #[test]
    fn sender_answers_once_and_never_above_a() {
        let mut s = RedundantSender::new(
            [9; 32],
            2_000,
            LockKind::SenderHash,
            PaymentSecret([1; 32]),
            None,
        );
        for i in 0..3 {
            s.add_part(1_000, RedundantSender::derive_secret(1, &[9; 32], i));
        }
        // The receiver lies about amounts: the sender uses its own.
        let a = s.answer(&[(0, 2_000), (1, 1_000), (2, 1_000)]).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(s.revealed_msat(), 2_000);
        assert_eq!(s.answer(&[(0, 1_000), (1, 1_000), (2, 1_000)]), None);
        // Unknown indices are ignored.
        let mut t = RedundantSender::new(
            [8; 32],
            2_000,
            LockKind::SenderHash,
            PaymentSecret([1; 32]),
            None,
        );
        t.add_part(1_000, [1; 32]);
        assert_eq!(t.answer(&[(0, 1_000), (7, 1_000)]), None);
    }
}
