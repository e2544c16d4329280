//! The receiver's side: [`RedundantBook`] holds each redundant payment's parts, asks
//! for the secrets, checks the reveal and settles exactly A.

use std::collections::{HashMap, HashSet};

use bitcoin::secp256k1::{PublicKey, SecretKey};
use flotilla_route::Timestamp;

use crate::boomerang::{BoomerangCommitments, BoomerangPolynomial};
use crate::clock::Clock;
use crate::failure::{FailureCode, FailureData};
use crate::htlc::HtlcId;
use crate::lock::{check_claim, HtlcLock, LockKind};
use crate::payload::{HopPayload, PaymentData, RedundantPart};
use crate::receiver::{unknown_payment, IncomingHtlc, RegisterError};
use crate::{PaymentHash, PaymentPreimage, PaymentSecret};

use super::subset::holds_exact_subset;
use super::{
    HeldPart, RedundantDecision, RedundantInvoice, RevealError, RevealPlan, CANCEL_MEMORY,
};

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
