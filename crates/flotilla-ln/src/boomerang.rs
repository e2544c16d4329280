//! Boomerang's point locks: a secret polynomial, its public commitments, the point each
//! part is locked to, and the interpolation that makes over-claiming self-defeating.
//!
//! The receiver picks a random polynomial P of degree k over the secp256k1 scalar field
//! and publishes commitments C_j = a_j·G to its coefficients. Part i (x = i + 1: x = 0
//! is the secret) is locked to the point P(x)·G, which anyone can compute from the
//! commitments: P(x)·G = Σ x^j·C_j. Claiming part i reveals the scalar P(x). Any k
//! claimed scalars say nothing about P(0); k + 1 of them determine P, so the sender
//! interpolates P(0), checks it against C_0, and the reverse ("boomerang") clause of
//! every claimed part returns its value. A receiver that claims more than the k parts it
//! is owed therefore keeps nothing ([`crate::node::Node::claim_reverse`]).
//!
//! All arithmetic is real: scalars and points of `secp256k1` (the one `bitcoin`
//! re-exports), field inverses by Fermat's little theorem.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use bitcoin::hashes::{sha256, Hash, HashEngine};
use bitcoin::secp256k1::{All, PublicKey, Scalar, Secp256k1, SecretKey};

/// The process-wide context for point arithmetic (building one costs ~1 ms).
pub(crate) fn secp() -> &'static Secp256k1<All> {
    static SECP: OnceLock<Secp256k1<All>> = OnceLock::new();
    SECP.get_or_init(Secp256k1::new)
}

/// An element of the scalar field (integers mod the group order n), zero included
/// (`SecretKey` cannot hold zero).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Fe(Option<SecretKey>);

/// n − 2, the exponent of Fermat's inverse a^(n−2) = a⁻¹ mod n.
const N_MINUS_2: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x3F,
];

impl Fe {
    const ZERO: Fe = Fe(None);

    fn from_u64(v: u64) -> Fe {
        let mut b = [0u8; 32];
        b[24..].copy_from_slice(&v.to_be_bytes());
        Fe(SecretKey::from_slice(&b).ok())
    }

    /// x − y for small integers, as a field element.
    fn from_diff(x: u64, y: u64) -> Fe {
        if x >= y {
            Fe::from_u64(x - y)
        } else {
            Fe::from_u64(y - x).neg()
        }
    }

    fn one() -> Fe {
        Fe::from_u64(1)
    }

    fn add(self, o: Fe) -> Fe {
        match (self.0, o.0) {
            (None, _) => o,
            (_, None) => self,
            // An error means the sum is zero.
            (Some(a), Some(b)) => Fe(a.add_tweak(&Scalar::from(b)).ok()),
        }
    }

    fn mul(self, o: Fe) -> Fe {
        match (self.0, o.0) {
            (Some(a), Some(b)) => Fe(a.mul_tweak(&Scalar::from(b)).ok()),
            _ => Fe::ZERO,
        }
    }

    fn neg(self) -> Fe {
        Fe(self.0.map(SecretKey::negate))
    }

    /// The inverse (zero has none).
    fn inv(self) -> Option<Fe> {
        self.0?;
        let mut r = Fe::one();
        for byte in N_MINUS_2 {
            for bit in (0..8).rev() {
                r = r.mul(r);
                if byte >> bit & 1 == 1 {
                    r = r.mul(self);
                }
            }
        }
        Some(r)
    }
}

/// The x coordinate of part `index` (x = 0 is the secret).
fn x_of(index: u16) -> u64 {
    index as u64 + 1
}

/// The receiver's secret polynomial of degree k (k + 1 coefficients a_0 … a_k).
#[derive(Clone)]
pub struct BoomerangPolynomial {
    coefficients: Vec<SecretKey>,
    /// C_0 = a_0·G, which names the polynomial in a [`PointMemo`].
    c0: PublicKey,
    memo: Option<Arc<PointMemo>>,
}

impl PartialEq for BoomerangPolynomial {
    fn eq(&self, other: &Self) -> bool {
        self.coefficients == other.coefficients
    }
}

impl Eq for BoomerangPolynomial {}

impl std::fmt::Debug for BoomerangPolynomial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        write!(f, "BoomerangPolynomial(degree {})", self.degree())
    }
}

impl BoomerangPolynomial {
    /// A polynomial of `degree` whose coefficients derive from `seed` (SHA-256 of
    /// "flotilla-boomerang" ‖ seed ‖ j ‖ counter, the counter skipping the ~2^-128 of
    /// digests that are not valid scalars). A real receiver uses a random seed.
    pub fn from_seed(seed: &[u8; 32], degree: u16) -> Self {
        let coefficients = (0..=degree as u32)
            .map(|j| {
                (0u32..)
                    .find_map(|counter| {
                        let mut e = sha256::Hash::engine();
                        e.input(b"flotilla-boomerang");
                        e.input(seed);
                        e.input(&j.to_be_bytes());
                        e.input(&counter.to_be_bytes());
                        SecretKey::from_slice(&sha256::Hash::from_engine(e).to_byte_array()).ok()
                    })
                    .expect("some digest is a valid scalar")
            })
            .collect::<Vec<SecretKey>>();
        let c0 = PublicKey::from_secret_key(secp(), &coefficients[0]);
        BoomerangPolynomial {
            coefficients,
            c0,
            memo: None,
        }
    }

    /// This polynomial, sharing computed commitments and points through `memo` (with
    /// the senders that pay it, see [`PointMemo`]). The memo also keeps the
    /// coefficients, so that a point a sender asks it for is computed as share·G.
    pub fn with_memo(mut self, memo: Arc<PointMemo>) -> Self {
        // Always recorded (even past a poisoned lock): the commitments' points are
        // computed from it when first read.
        memo.polynomials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((self.c0.serialize(), self.degree()))
            .or_insert_with(|| self.coefficients.clone());
        self.memo = Some(memo);
        self
    }

    /// P(x)·G for part `index`: the point the part must be locked to, from the memo or
    /// as share·G.
    pub fn point(&self, index: u16) -> Option<PublicKey> {
        let key = ((self.c0.serialize(), self.degree()), index);
        if let Some(memo) = &self.memo {
            if let Some(p) = memo.points.lock().ok().and_then(|m| m.get(&key).copied()) {
                return Some(p);
            }
        }
        let share = self.share(index)?;
        let Some(memo) = &self.memo else {
            return Some(PublicKey::from_secret_key(secp(), &share));
        };
        let p = memo.share_point(&share);
        if let Ok(mut m) = memo.points.lock() {
            m.insert(key, p);
        }
        Some(p)
    }

    /// k: the number of parts the receiver may claim.
    pub fn degree(&self) -> u16 {
        (self.coefficients.len() - 1) as u16
    }

    /// The public commitments C_j = a_j·G (k + 1 generator multiplications, or the
    /// memo's copy), sharing this polynomial's memo.
    ///
    /// With a memo (which holds this polynomial's coefficients), C_1 … C_k are
    /// computed when first read ([`BoomerangCommitments::points`]): a sender that
    /// shares the memo takes its points from it and needs only C_0, so in a
    /// simulation they are usually never computed. They are the same points
    /// whenever they are computed, so nothing that reads them can tell.
    pub fn commitments(&self) -> BoomerangCommitments {
        let points = OnceLock::new();
        if self.memo.is_none() {
            let _ = points.set(commitment_points(self.c0, &self.coefficients));
        }
        BoomerangCommitments {
            c0: self.c0,
            degree: self.degree(),
            points,
            memo: self.memo.clone(),
        }
    }

    /// P(x) for part `index`: the scalar that claims it. `None` in the negligible case
    /// P(x) = 0 (such a part cannot be locked; the sender's point computation fails too).
    pub fn share(&self, index: u16) -> Option<SecretKey> {
        evaluate(&self.coefficients, index)
    }

    /// P(0), the secret that triggers the boomerang clause.
    pub fn secret(&self) -> SecretKey {
        self.coefficients[0]
    }
}

/// C_0 (given) and C_j = a_j·G for j = 1 … k.
fn commitment_points(c0: PublicKey, coefficients: &[SecretKey]) -> Vec<PublicKey> {
    std::iter::once(c0)
        .chain(
            coefficients[1..]
                .iter()
                .map(|a| PublicKey::from_secret_key(secp(), a)),
        )
        .collect()
}

/// P(x) for part `index` from the coefficients a_0 … a_k (Horner's rule over the
/// scalar field); `None` when it is zero.
fn evaluate(coefficients: &[SecretKey], index: u16) -> Option<SecretKey> {
    let x = Fe::from_u64(x_of(index));
    let mut acc = Fe::ZERO;
    for a in coefficients.iter().rev() {
        acc = acc.mul(x).add(Fe(Some(*a)));
    }
    acc.0
}

/// The commitments to a [`BoomerangPolynomial`]'s coefficients, as published with the
/// invoice. Everything the sender computes comes from these.
#[derive(Clone)]
pub struct BoomerangCommitments {
    /// C_0.
    c0: PublicKey,
    /// k.
    degree: u16,
    /// C_0 … C_k: set when received ([`BoomerangCommitments::from_points`]) or made
    /// without a memo, else computed from the memo's polynomial when first read.
    points: OnceLock<Vec<PublicKey>>,
    memo: Option<Arc<PointMemo>>,
}

impl std::fmt::Debug for BoomerangCommitments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoomerangCommitments")
            .field("points", &self.points())
            .finish()
    }
}

impl PartialEq for BoomerangCommitments {
    fn eq(&self, other: &Self) -> bool {
        self.points() == other.points()
    }
}

impl Eq for BoomerangCommitments {}

/// Names a polynomial in [`PointMemo`]: its C_0 and its degree.
type PolyKey = ([u8; 33], u16);

/// Points already computed, shared by the parties that handle the same invoices: a
/// simulation's arms all pay every boomerang invoice, a part's point costs the sender k
/// point multiplications (about 0.3 ms at k = 25) and the commitments cost k + 1
/// generator multiplications, so each is computed once. Keyed by C_0 and the degree
/// (which together name the polynomial: arms that cut A into different numbers of
/// parts draw polynomials of different degrees from the same seed, which share C_0)
/// and the part; a point is the same whoever computes it (the sender from
/// the commitments, the receiver as share·G), so sharing changes no outcome.
///
/// The memo also keeps the coefficients of the polynomials registered with it
/// ([`BoomerangPolynomial::with_memo`]): in a simulation, where the receiver's
/// polynomial and the senders' commitments share one memo, a point no one has
/// computed yet is computed as share·G — one generator multiplication — rather than
/// by the sender's Horner steps over the commitments (two field inversions each).
/// The point is the same (`the_sender_computes_the_point_the_receiver_claims_with`
/// checks it), so no outcome changes; a sender without the polynomial in its memo
/// (the live node) computes it from the commitments.
#[derive(Default)]
pub struct PointMemo {
    points: Mutex<HashMap<(PolyKey, u16), PublicKey>>,
    /// The coefficients of the polynomials registered with the memo.
    polynomials: Mutex<HashMap<PolyKey, Vec<SecretKey>>>,
    commitments: Mutex<HashMap<PolyKey, Vec<PublicKey>>>,
    /// `(point, scalar)` claims found to open their point.
    verified: Mutex<std::collections::HashSet<([u8; 33], [u8; 32])>>,
    /// For points computed as share·G: the share, by the point. A claim opens such
    /// a point exactly when its scalar is that share (see [`PointMemo::opens`]).
    shares: Mutex<HashMap<[u8; 33], [u8; 32]>>,
}

impl std::fmt::Debug for PointMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        write!(f, "PointMemo({} points)", self.len())
    }
}

impl PointMemo {
    /// P(x)·G for part `index` of a polynomial registered with the memo, as share·G.
    fn point_from_share(&self, key: &PolyKey, index: u16) -> Option<PublicKey> {
        let share = {
            let polys = self.polynomials.lock().ok()?;
            evaluate(polys.get(key)?, index)?
        };
        Some(self.share_point(&share))
    }

    /// share·G, remembering the share for [`PointMemo::opens`].
    fn share_point(&self, share: &SecretKey) -> PublicKey {
        let p = PublicKey::from_secret_key(secp(), share);
        if let Ok(mut s) = self.shares.lock() {
            s.insert(p.serialize(), share.secret_bytes());
        }
        p
    }

    /// Points remembered.
    pub fn len(&self) -> usize {
        self.points.lock().map_or(0, |m| m.len())
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// [`opens_point`], remembering claims that open.
    ///
    /// For a point the memo computed as share·G, the answer is whether `scalar` is
    /// that share, without a multiplication: k ↦ k·G is one-to-one on the valid
    /// scalars 1 … n − 1, `opens_point` rejects every other 32 bytes, and the share is
    /// a valid scalar, so scalar·G = point exactly when the bytes are the share's.
    pub fn opens(&self, point: &PublicKey, scalar: &[u8; 32]) -> bool {
        let point_bytes = point.serialize();
        if let Some(share) = self
            .shares
            .lock()
            .ok()
            .and_then(|s| s.get(&point_bytes).copied())
        {
            return share == *scalar;
        }
        let key = (point_bytes, *scalar);
        if self.verified.lock().is_ok_and(|v| v.contains(&key)) {
            return true;
        }
        let ok = opens_point(point, scalar);
        if ok {
            if let Ok(mut v) = self.verified.lock() {
                v.insert(key);
            }
        }
        ok
    }
}

impl BoomerangCommitments {
    /// Commitments received from the receiver (C_0, C_1, …): at least two points.
    pub fn from_points(points: Vec<PublicKey>) -> Option<Self> {
        if points.len() < 2 {
            return None;
        }
        Some(BoomerangCommitments {
            c0: points[0],
            degree: u16::try_from(points.len() - 1).ok()?,
            points: OnceLock::from(points),
            memo: None,
        })
    }

    /// C_0, C_1, …, as the receiver hands them to a sender (computed now from the
    /// memo's polynomial if no one has read them yet).
    pub fn points(&self) -> &[PublicKey] {
        self.points.get_or_init(|| {
            let key = (self.c0.serialize(), self.degree);
            let memo = self
                .memo
                .as_ref()
                .expect("commitments without points come with a memo");
            if let Some(points) = memo
                .commitments
                .lock()
                .ok()
                .and_then(|c| c.get(&key).cloned())
            {
                return points;
            }
            let points = {
                let polys = memo.polynomials.lock().unwrap_or_else(|e| e.into_inner());
                let coefficients = polys
                    .get(&key)
                    .expect("the memo holds the polynomial it made commitments for");
                commitment_points(self.c0, coefficients)
            };
            if let Ok(mut c) = memo.commitments.lock() {
                c.insert(key, points.clone());
            }
            points
        })
    }

    /// C_0 = P(0)·G: what the reverse clause's secret must open.
    pub fn c0(&self) -> PublicKey {
        self.c0
    }

    /// k.
    pub fn degree(&self) -> u16 {
        self.degree
    }

    /// These commitments, remembering computed points in `memo`.
    pub fn with_memo(mut self, memo: Arc<PointMemo>) -> Self {
        if self
            .memo
            .as_ref()
            .is_some_and(|old| !Arc::ptr_eq(old, &memo))
        {
            // Points not computed yet come from the old memo's polynomial.
            self.points();
        }
        self.memo = Some(memo);
        self
    }

    /// P(x)·G for part `index`, by Horner's rule over the commitments (k point
    /// multiplications by the small scalar x, k point additions), or from the memo.
    /// `None` only if a partial sum is the point at infinity (negligible).
    pub fn point(&self, index: u16) -> Option<PublicKey> {
        let Some(memo) = &self.memo else {
            return self.compute_point(index);
        };
        let key = ((self.c0.serialize(), self.degree), index);
        if let Some(p) = memo.points.lock().ok().and_then(|m| m.get(&key).copied()) {
            return Some(p);
        }
        let p = match memo.point_from_share(&key.0, index) {
            Some(p) => p,
            None => self.compute_point(index)?,
        };
        if let Ok(mut m) = memo.points.lock() {
            m.insert(key, p);
        }
        Some(p)
    }

    fn compute_point(&self, index: u16) -> Option<PublicKey> {
        let x = Scalar::from_be_bytes(Fe::from_u64(x_of(index)).0?.secret_bytes()).ok()?;
        let mut points = self.points().iter().rev();
        let mut acc = *points.next()?;
        for c in points {
            acc = acc.mul_tweak(secp(), &x).ok()?.combine(c).ok()?;
        }
        Some(acc)
    }

    /// Whether `secret` is P(0), i.e. secret·G = C_0.
    pub fn is_secret(&self, secret: &SecretKey) -> bool {
        PublicKey::from_secret_key(secp(), secret) == self.c0
    }

    /// P(0) from k + 1 claimed shares `(part_index, P(x))`, checked against C_0: the
    /// sender's key to the boomerang clause. `None` with fewer than k + 1 distinct
    /// shares, or when they do not lie on the committed polynomial.
    pub fn recover_secret(&self, shares: &[(u16, SecretKey)]) -> Option<SecretKey> {
        let mut distinct: Vec<(u16, SecretKey)> = Vec::with_capacity(shares.len());
        for s in shares {
            if !distinct.iter().any(|d| d.0 == s.0) {
                distinct.push(*s);
            }
        }
        let need = self.degree() as usize + 1;
        if distinct.len() < need {
            return None;
        }
        let used = &distinct[..need];
        let secret = interpolate_at_zero(used)?;
        self.is_secret(&secret).then_some(secret)
    }
}

/// Lagrange interpolation at x = 0 through `shares` (`(part_index, P(x))`, distinct
/// indices): Σ_j y_j · Π_{m≠j} x_m / (x_m − x_j).
fn interpolate_at_zero(shares: &[(u16, SecretKey)]) -> Option<SecretKey> {
    let mut sum = Fe::ZERO;
    for (j, (ij, yj)) in shares.iter().enumerate() {
        let xj = x_of(*ij);
        let mut num = Fe::one();
        let mut den = Fe::one();
        for (m, (im, _)) in shares.iter().enumerate() {
            if m != j {
                let xm = x_of(*im);
                num = num.mul(Fe::from_u64(xm));
                den = den.mul(Fe::from_diff(xm, xj));
            }
        }
        let weight = num.mul(den.inv()?);
        sum = sum.add(Fe(Some(*yj)).mul(weight));
    }
    sum.0
}

/// Whether `scalar` (a claim's 32 bytes) opens a part locked to `point`: scalar·G =
/// point. One generator multiplication, what every hop checks on a fulfil.
pub fn opens_point(point: &PublicKey, scalar: &[u8; 32]) -> bool {
    SecretKey::from_slice(scalar).is_ok_and(|s| PublicKey::from_secret_key(secp(), &s) == *point)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poly(k: u16) -> BoomerangPolynomial {
        BoomerangPolynomial::from_seed(&[7; 32], k)
    }

    #[test]
    fn field_arithmetic_inverts_and_negates() {
        for v in [1u64, 2, 3, 25, 65_536, u64::MAX] {
            let a = Fe::from_u64(v);
            assert_eq!(a.mul(a.inv().unwrap()), Fe::one(), "{v}");
            assert_eq!(a.add(a.neg()), Fe::ZERO);
        }
        assert_eq!(Fe::ZERO.inv(), None);
        assert_eq!(Fe::from_diff(3, 5), Fe::from_u64(2).neg());
    }

    #[test]
    fn polynomials_of_one_seed_and_different_degrees_share_a_memo_safely() {
        // Arms that cut A into 10 or 25 parts draw both from the payment's preimage;
        // their constant terms agree, their points must not be mixed up.
        let memo = Arc::new(PointMemo::default());
        let seed = [7u8; 32];
        let low = BoomerangPolynomial::from_seed(&seed, 10).with_memo(memo.clone());
        let high = BoomerangPolynomial::from_seed(&seed, 25).with_memo(memo.clone());
        assert_eq!(
            low.commitments().points()[0],
            high.commitments().points()[0]
        );
        for i in [1u16, 2, 7] {
            let want_low = PublicKey::from_secret_key(secp(), &low.share(i).unwrap());
            let want_high = PublicKey::from_secret_key(secp(), &high.share(i).unwrap());
            assert_ne!(want_low, want_high);
            assert_eq!(low.point(i), Some(want_low));
            assert_eq!(high.point(i), Some(want_high), "not the other degree's");
            let c = high.commitments().with_memo(memo.clone());
            assert_eq!(c.point(i), Some(want_high));
        }
    }

    #[test]
    fn the_sender_computes_the_point_the_receiver_claims_with() {
        let p = poly(5);
        let c = p.commitments();
        let memo = Arc::new(PointMemo::default());
        let remembered = c.clone().with_memo(memo.clone());
        let receiver = p.clone().with_memo(memo.clone());
        assert_eq!(receiver.commitments(), c);
        assert_eq!(receiver.commitments(), c, "from the memo");
        for i in [0u16, 1, 4, 9, 30] {
            let s = p.share(i).unwrap();
            let point = c.point(i).unwrap();
            assert_eq!(remembered.point(i), Some(point));
            assert_eq!(remembered.point(i), Some(point), "from the memo");
            assert_eq!(receiver.point(i), Some(point));
            assert!(opens_point(&point, &s.secret_bytes()), "part {i}");
            // Another part's scalar does not open it.
            let other = p.share(i + 1).unwrap();
            assert!(!opens_point(&point, &other.secret_bytes()));
        }
        assert!(!opens_point(&c.point(0).unwrap(), &[0u8; 32]));
        assert_eq!(memo.len(), 5);
    }

    #[test]
    fn commitments_read_late_are_the_ones_computed_at_once() {
        let eager = poly(6).commitments();
        let memo = Arc::new(PointMemo::default());
        let lazy = poly(6).with_memo(memo.clone()).commitments();
        assert_eq!((lazy.c0(), lazy.degree()), (eager.c0(), eager.degree()));
        assert_eq!(lazy.points(), eager.points());
        assert_eq!(lazy, eager);
        // Moved to another memo before being read: computed from the first one.
        let other = Arc::new(PointMemo::default());
        let moved = poly(6)
            .with_memo(memo.clone())
            .commitments()
            .with_memo(other);
        assert_eq!(moved.points(), eager.points());
        // A polynomial of lower degree from the same seed (coefficients are drawn
        // per index) has the first of them, read from its own memo entry.
        let low = poly(3).with_memo(memo.clone()).commitments();
        assert_eq!(low.points().len(), 4);
        assert_eq!(low.points()[..], eager.points()[..4]);
        // What a sender does with them: the secret check and a point, without a memo.
        let p = poly(6);
        assert!(lazy.is_secret(&p.secret()));
        let received = BoomerangCommitments::from_points(lazy.points().to_vec()).unwrap();
        assert_eq!(received.point(2), lazy.point(2));
    }

    #[test]
    fn a_memo_checks_a_claim_by_its_share_as_the_multiplication_does() {
        let memo = Arc::new(PointMemo::default());
        let p = poly(4).with_memo(memo.clone());
        let c = p.commitments();
        let n_bytes = {
            // The group order n: not a valid scalar.
            let mut b = N_MINUS_2;
            b[31] += 2;
            b
        };
        for i in 0u16..6 {
            // Points computed as share·G by the receiver or for a sender.
            let point = if i % 2 == 0 {
                p.point(i).unwrap()
            } else {
                c.point(i).unwrap()
            };
            let share = p.share(i).unwrap().secret_bytes();
            let mut tweaked = share;
            tweaked[31] ^= 1;
            let other = p.share(i + 1).unwrap().secret_bytes();
            for scalar in [share, tweaked, other, [0u8; 32], [0xFF; 32], n_bytes] {
                assert_eq!(
                    memo.opens(&point, &scalar),
                    opens_point(&point, &scalar),
                    "part {i}"
                );
            }
            assert!(memo.opens(&point, &share));
        }
        // A point the memo did not compute is checked by multiplication.
        let stranger = BoomerangPolynomial::from_seed(&[9; 32], 4);
        let point = stranger.point(1).unwrap();
        let share = stranger.share(1).unwrap().secret_bytes();
        assert!(memo.opens(&point, &share));
        assert!(!memo.opens(&point, &p.share(1).unwrap().secret_bytes()));
    }

    #[test]
    fn k_shares_hide_the_secret_and_k_plus_one_reveal_it() {
        let k = 4;
        let p = poly(k);
        let c = p.commitments();
        let shares: Vec<(u16, SecretKey)> = [2u16, 7, 0, 11, 5]
            .iter()
            .map(|&i| (i, p.share(i).unwrap()))
            .collect();
        // k shares: not enough (and no k-share interpolation passes the commitment check).
        assert_eq!(c.recover_secret(&shares[..k as usize]), None);
        let wrong = interpolate_at_zero(&shares[..k as usize]).unwrap();
        assert!(!c.is_secret(&wrong));
        // k + 1: the secret, whichever k + 1 are used.
        assert_eq!(c.recover_secret(&shares), Some(p.secret()));
        let mut rev = shares.clone();
        rev.reverse();
        assert_eq!(c.recover_secret(&rev), Some(p.secret()));
        // Duplicates do not count twice.
        let dup = vec![shares[0]; 5];
        assert_eq!(c.recover_secret(&dup), None);
        // A forged share fails the commitment check.
        let mut forged = shares.clone();
        forged[1].1 = p.share(40).unwrap();
        assert_eq!(c.recover_secret(&forged), None);
    }

    #[test]
    fn degree_zero_is_revealed_by_one_share() {
        let p = poly(0);
        assert_eq!(p.share(3), Some(p.secret()));
        assert_eq!(
            p.commitments().recover_secret(&[(3, p.secret())]),
            Some(p.secret())
        );
    }
}
