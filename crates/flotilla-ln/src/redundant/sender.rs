//! The sender's side: [`RedundantSender`] derives each part's secret and answers the
//! receiver's claim request once, with secrets worth exactly A.

use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::secp256k1::{PublicKey, SecretKey};
use flotilla_route::Path;

use crate::boomerang::BoomerangCommitments;
use crate::lock::{sender_hash_of, HtlcLock, LockKind};
use crate::payload::{PaymentData, RedundantPart};
use crate::sender::{PartId, SendPart};
use crate::{PaymentHash, PaymentPreimage, PaymentSecret};

use super::choose_exact_subset;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::LockKind;
    use crate::PaymentSecret;

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
