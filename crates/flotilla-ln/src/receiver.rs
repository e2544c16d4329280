//! The receiving side: which payments a node expects, and how it decides on each HTLC
//! that ends at it.
//!
//! Rules (BOLT 4 "Basic Multi-Part Payments" and "Failure Messages"):
//! - Every refusal that concerns the payment itself (unknown hash, wrong or missing
//!   `payment_secret`, `total_msat` below the invoice amount or above twice it, expiry
//!   closer than `min_final_cltv_expiry_delta`, expired invoice, a hash already paid,
//!   keysend refused or with a preimage that does not match) is the single code
//!   `incorrect_or_unknown_payment_details` with the HTLC's own amount and the current
//!   height as data. The data depends only on what the HTLC's sender already knows, so a
//!   hop that replays a hash and amount without the secret gets exactly what it would for
//!   an unknown hash: the receiver stays hidden.
//! - Only after those come the checks against the onion: expiry below
//!   `outgoing_cltv_value` → `final_incorrect_cltv_expiry`, amount below `amt_to_forward`
//!   → `final_incorrect_htlc_amount` (BOLT 4 lists PERM|15 first).
//! - Parts of one hash form an HTLC set. Every part must carry the set's secret (a part
//!   with another secret fails alone, so a stranger cannot kill the set) and the same
//!   `total_msat` (a mismatch fails the whole set, as BOLT 4 says it SHOULD). When the sum
//!   of `amt_to_forward` reaches `total_msat`, every part is claimed. A set still
//!   incomplete when its timer fires fails every part with `mpp_timeout`.
//! - Keysend: the preimage travels in the onion; its hash must be the HTLC's. Keysend MPP
//!   parts carry a sender-chosen `payment_secret` and `total_msat` in every part and
//!   form a set like invoice parts.
//! - Once an invoice has expired no HTLC can be accepted for it, so the receiver forgets
//!   it, and its hash if it was paid (a later HTLC for it is refused as unknown, which is
//!   what expiry alone would say). This keeps a long run's memory flat; keysend hashes
//!   have no invoice and are remembered for good.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use flotilla_route::Timestamp;

use crate::clock::Clock;
use crate::config::{Behaviour, NodeConfig};
use crate::failure::{FailureCode, FailureData};
use crate::htlc::HtlcId;
use crate::invoice::payment_hash_of;
use crate::payload::HopPayload;
use crate::redundant::RedundantBook;
use crate::{PaymentHash, PaymentPreimage, PaymentSecret};

/// What a node knows about a payment it requested (the receiving half of a BOLT 11
/// invoice).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct InvoiceRecord {
    /// The preimage that claims it.
    pub preimage: PaymentPreimage,
    /// The secret every part must carry.
    pub payment_secret: PaymentSecret,
    /// The amount asked; `None` for an any-amount invoice.
    pub amount_msat: Option<u64>,
    /// Blocks the final HTLC must have left before it expires.
    pub min_final_cltv_expiry_delta: u32,
    /// After this time the invoice is refused like an unknown one.
    pub expires_at: Timestamp,
}

/// Why an invoice cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// The preimage does not hash to the payment hash.
    #[error("the preimage does not hash to the payment hash")]
    PreimageMismatch,
    /// An invoice with this hash exists, or the hash was paid.
    #[error("payment hash already registered")]
    Duplicate,
    /// A redundant payment with a plain hash lock: any part's claim would reveal the
    /// preimage that claims every part.
    #[error("a redundant payment needs a sender_hash, h2tlc or boomerang lock")]
    UnsafeLock,
    /// An `h2tlc` redundant payment without the receiver's preimage.
    #[error("an h2tlc payment needs the receiver's preimage")]
    MissingPreimage,
    /// A `boomerang` payment registered without its polynomial, or one whose A does not
    /// split into k equal parts.
    #[error("a boomerang payment needs a polynomial of degree k ≥ 1 with k dividing A")]
    BadPolynomial,
}

/// An HTLC that ended at this node, as the receiver sees it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct IncomingHtlc {
    /// The HTLC.
    pub id: HtlcId,
    /// Its amount, msat.
    pub amount_msat: u64,
    /// Its expiry.
    pub cltv_expiry: u32,
    /// Its hash.
    pub payment_hash: PaymentHash,
}

/// A held part: the HTLC and its amount.
pub type Part = (HtlcId, u64);

/// What to do with an incoming final HTLC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Fail this HTLC alone.
    Fail {
        /// The code.
        code: FailureCode,
        /// Its data.
        data: FailureData,
    },
    /// Hold it in its set. `new_set` is the set's id when this part opened it: the caller
    /// sets the `mpp_timeout` timer for it.
    Hold {
        /// Id of a set this part opened.
        new_set: Option<u32>,
    },
    /// The set is complete: fulfil every part (this one included) with the preimage.
    Claim {
        /// The preimage.
        preimage: PaymentPreimage,
        /// Every part.
        parts: Vec<Part>,
        /// Sum of their `amt_to_forward`.
        received_msat: u64,
    },
    /// The set is broken (parts disagree on `total_msat`): fail every part (this one
    /// included) with `incorrect_or_unknown_payment_details`.
    FailSet {
        /// Every part.
        parts: Vec<Part>,
    },
}

#[derive(Clone, Debug)]
struct HtlcSet {
    id: u32,
    secret: Option<PaymentSecret>,
    total_msat: u64,
    received_msat: u64,
    preimage: PaymentPreimage,
    parts: Vec<Part>,
}

/// One node's receiving state: its invoices, its open HTLC sets, the hashes it was paid.
#[derive(Clone, Debug, Default)]
pub struct Receiver {
    invoices: HashMap<PaymentHash, InvoiceRecord>,
    sets: HashMap<PaymentHash, HtlcSet>,
    paid: HashSet<PaymentHash>,
    /// Registered invoices by expiry, soonest first, to forget them (and their paid
    /// hash) once expired.
    expiries: BinaryHeap<Reverse<(Timestamp, PaymentHash)>>,
    next_set_id: u32,
    /// Redundant payments (see [`crate::redundant`]).
    pub redundant: RedundantBook,
}

/// `incorrect_or_unknown_payment_details` for an HTLC of `htlc_msat` at `height`.
pub fn unknown_payment(htlc_msat: u64, height: u32) -> (FailureCode, FailureData) {
    (
        FailureCode::IncorrectOrUnknownPaymentDetails,
        FailureData {
            htlc_msat: Some(htlc_msat),
            height: Some(height),
            ..Default::default()
        },
    )
}

impl Receiver {
    /// Expects a payment. The preimage must hash to `hash`.
    pub fn register(
        &mut self,
        hash: PaymentHash,
        invoice: InvoiceRecord,
    ) -> Result<(), RegisterError> {
        if payment_hash_of(&invoice.preimage) != hash {
            return Err(RegisterError::PreimageMismatch);
        }
        if self.invoices.contains_key(&hash) || self.paid.contains(&hash) {
            return Err(RegisterError::Duplicate);
        }
        self.expiries.push(Reverse((invoice.expires_at, hash)));
        self.invoices.insert(hash, invoice);
        Ok(())
    }

    /// Forgets the invoices that expired before `now`, and their paid hashes: no HTLC can
    /// be accepted for them any more. An invoice whose HTLC set is still open waits for
    /// the set's timer and is forgotten at a later call.
    pub fn forget_expired(&mut self, now: Timestamp) {
        let mut open = Vec::new();
        while let Some(Reverse((at, hash))) = self.expiries.peek().copied() {
            if at >= now {
                break;
            }
            self.expiries.pop();
            if self.sets.contains_key(&hash) {
                open.push(Reverse((at, hash)));
                continue;
            }
            self.invoices.remove(&hash);
            self.paid.remove(&hash);
        }
        self.expiries.extend(open);
    }

    /// Invoices and paid hashes this node remembers (for memory checks).
    pub fn remembered(&self) -> usize {
        self.invoices.len() + self.paid.len()
    }

    /// Forgets the invoice for `hash` (and any set waiting for it, whose parts then wait
    /// for their timer). Returns whether there was one.
    pub fn cancel(&mut self, hash: &PaymentHash) -> bool {
        self.invoices.remove(hash).is_some()
    }

    /// The invoice registered for `hash` (until it is paid: a paid invoice is dropped and
    /// only its hash is kept, so a long run's memory grows by a hash per payment).
    pub fn invoice(&self, hash: &PaymentHash) -> Option<&InvoiceRecord> {
        self.invoices.get(hash)
    }

    /// Whether `hash` was paid (its set claimed).
    pub fn is_paid(&self, hash: &PaymentHash) -> bool {
        self.paid.contains(hash)
    }

    /// Number of HTLC sets waiting for more parts.
    pub fn open_sets(&self) -> usize {
        self.sets.len()
    }

    /// Decides on an HTLC whose onion says this node is the final one.
    pub fn receive(
        &mut self,
        htlc: IncomingHtlc,
        payload: &HopPayload,
        cfg: &NodeConfig,
        clock: &Clock,
    ) -> Decision {
        let unknown = || {
            let (code, data) = unknown_payment(htlc.amount_msat, clock.height);
            Decision::Fail { code, data }
        };
        self.forget_expired(clock.now);
        let hash = htlc.payment_hash;
        if self.paid.contains(&hash) {
            return unknown();
        }
        let legacy = cfg.behaviour == Behaviour::LegacyReceiver;
        let (secret, total_msat) = match payload.payment_data {
            Some(d) => (Some(d.payment_secret), d.total_msat),
            None => (None, payload.amt_to_forward),
        };
        let (preimage, min_final) = if let Some(pre) = payload.keysend_preimage {
            if !cfg.accept_keysend || payment_hash_of(&pre) != hash {
                return unknown();
            }
            (pre, cfg.min_final_cltv_expiry_delta)
        } else {
            let Some(inv) = self.invoices.get(&hash) else {
                return unknown();
            };
            if clock.now > inv.expires_at {
                return unknown();
            }
            if !legacy && secret != Some(inv.payment_secret) {
                return unknown();
            }
            if let Some(asked) = inv.amount_msat {
                if total_msat < asked || total_msat > asked.saturating_mul(2) {
                    return unknown();
                }
            }
            (inv.preimage, inv.min_final_cltv_expiry_delta)
        };
        if (htlc.cltv_expiry as u64) < clock.height as u64 + min_final as u64 {
            return unknown();
        }
        if htlc.cltv_expiry < payload.outgoing_cltv_value {
            return Decision::Fail {
                code: FailureCode::FinalIncorrectCltvExpiry,
                data: FailureData {
                    cltv_expiry: Some(htlc.cltv_expiry),
                    ..Default::default()
                },
            };
        }
        if htlc.amount_msat < payload.amt_to_forward {
            return Decision::Fail {
                code: FailureCode::FinalIncorrectHtlcAmount,
                data: FailureData {
                    htlc_msat: Some(htlc.amount_msat),
                    ..Default::default()
                },
            };
        }
        let part = (htlc.id, htlc.amount_msat);
        let amount = payload.amt_to_forward;
        match self.sets.get_mut(&hash) {
            None => {
                if amount >= total_msat {
                    self.invoices.remove(&hash);
                    self.paid.insert(hash);
                    return Decision::Claim {
                        preimage,
                        parts: vec![part],
                        received_msat: amount,
                    };
                }
                let id = self.next_set_id;
                self.next_set_id = self.next_set_id.wrapping_add(1);
                self.sets.insert(
                    hash,
                    HtlcSet {
                        id,
                        secret,
                        total_msat,
                        received_msat: amount,
                        preimage,
                        parts: vec![part],
                    },
                );
                Decision::Hold { new_set: Some(id) }
            }
            Some(set) => {
                if !legacy && set.secret != secret {
                    return unknown();
                }
                if set.total_msat != total_msat {
                    let mut parts = self.sets.remove(&hash).map(|s| s.parts).unwrap_or_default();
                    parts.push(part);
                    return Decision::FailSet { parts };
                }
                set.parts.push(part);
                set.received_msat = set.received_msat.saturating_add(amount);
                if set.received_msat < set.total_msat {
                    return Decision::Hold { new_set: None };
                }
                let Some(set) = self.sets.remove(&hash) else {
                    return unknown();
                };
                self.invoices.remove(&hash);
                self.paid.insert(hash);
                Decision::Claim {
                    preimage: set.preimage,
                    parts: set.parts,
                    received_msat: set.received_msat,
                }
            }
        }
    }

    /// The `mpp_timeout` timer of set `set_id` fired: the parts to fail, if the set is
    /// still open (a completed or broken set has left already).
    pub fn timeout(&mut self, hash: &PaymentHash, set_id: u32) -> Option<Vec<Part>> {
        match self.sets.get(hash) {
            Some(set) if set.id == set_id => self.sets.remove(hash).map(|s| s.parts),
            _ => None,
        }
    }
}
