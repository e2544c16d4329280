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

mod book;
mod sender;
mod subset;

pub use book::{RedundantBook, RefundError};
pub use sender::{RedundantSendPart, RedundantSender};
pub use subset::choose_exact_subset;

use flotilla_graph::NodeIdx;
use flotilla_route::Timestamp;

use crate::failure::{FailureCode, FailureData};
use crate::htlc::HtlcId;
use crate::invoice::payment_hash_of;
use crate::lock::{HtlcLock, LockKind};
use crate::payload::{HopPayload, RedundantPart};
use crate::receiver::IncomingHtlc;
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
