//! Boomerang's reverse clause, hop by hop.
//!
//! A boomerang part's `update_add_htlc` carries C_0 = P(0)·G of the receiver's
//! polynomial ([`crate::msg::UpdateAddHtlc::reverse_point`]). When the part is fulfilled,
//! each node that accepted one of its HTLCs keeps an [`OwedClause`]: it owes that HTLC's
//! value back to the peer that offered it, to whoever proves P(0). A receiver that
//! claims more than k parts hands the sender k + 1 scalars, from which the sender
//! interpolates P(0) ([`crate::redundant::RedundantSender::learn`]); it then claims the
//! clause of each claimed part's first HTLC ([`Node::claim_reverse`]). The peer checks
//! P(0) against its own C_0, pays the value back and claims its own clause downstream
//! with the same P(0), so the refund travels the part's path from the sender to the
//! receiver, one `boomerang_refund` message per hop. Each hop gives back exactly what it
//! received (its fee included) and gets back what it paid out; the receiver gives back
//! the part's value and its redundant book records the refund.
//!
//! **What this model leaves out.** The paper locks the reverse clause's collateral
//! when the part is set up; here a hop pays from what its side of the channel holds
//! above the reserve its peer requires when the claim arrives, and refuses ([`PeerError::RefundUnfunded`], counted in
//! [`crate::network::HtlcCounters::refunds_unfunded`]) if that is too little; the refund
//! then stops at that hop. A clause lives until its forward HTLC's CLTV expiry; a
//! claim after that is refused. The exchange is settled when the message is delivered,
//! in both commitment modes (the driver calls [`Node::refund_delivered`] at the
//! claimant).

use std::collections::HashMap;

use bitcoin::secp256k1::{PublicKey, SecretKey};

use crate::clock::Clock;
use crate::htlc::{Htlc, HtlcId};
use crate::msg::{BoomerangRefund, HtlcRef, Msg};
use crate::output::{Event, Output};
use crate::sender::PartId;
use crate::PaymentSecret;

use super::{Node, PeerError};

/// A reverse clause this node owes: it accepted a boomerang HTLC that was fulfilled.
#[derive(Clone, Debug)]
pub(super) struct OwedClause {
    /// The end the forward HTLC came in over.
    end: u32,
    /// The forward HTLC's value: what goes back, msat.
    amount_msat: u64,
    /// The fee this node earned forwarding it (0 at the receiver).
    fee_msat: u64,
    /// C_0, what P(0) must open.
    c0: PublicKey,
    /// A forwarder's own claim downstream: the outgoing HTLC and its value.
    next: Option<(HtlcRef, u64)>,
    /// The receiver's payment, for its redundant book.
    payment: Option<PaymentSecret>,
    /// The forward HTLC's CLTV expiry: the clause lapses at this height.
    expires_at: u32,
}

/// A clause the sender may claim: the first HTLC of one of its settled boomerang parts.
#[derive(Clone, Debug)]
struct SenderClause {
    part: PartId,
    /// The first HTLC's value (the part's value and the fees it paid), msat.
    amount_msat: u64,
    /// What the part delivered, msat.
    value_msat: u64,
    expires_at: u32,
    /// The claim was sent (at most once).
    claimed: bool,
}

/// One node's reverse clauses. Allocated on a node's first boomerang HTLC.
#[derive(Clone, Debug, Default)]
pub struct ReverseBook {
    /// C_0 of each live boomerang HTLC this node accepted (or offered as a sender).
    points: HashMap<HtlcId, PublicKey>,
    /// Clauses this node owes, by the forward HTLC the peer offered.
    owed: HashMap<HtlcRef, OwedClause>,
    /// Clauses this node (as the sender) may claim, by its first HTLC.
    claimable: HashMap<HtlcRef, SenderClause>,
    /// Size at which lapsed clauses are next swept (amortised O(1) per insert).
    sweep_at: usize,
}

impl ReverseBook {
    fn sweep(&mut self, height: u32) {
        if self.owed.len() + self.claimable.len() < self.sweep_at {
            return;
        }
        self.owed.retain(|_, c| c.expires_at > height);
        self.claimable.retain(|_, c| c.expires_at > height);
        self.sweep_at = 64.max(2 * (self.owed.len() + self.claimable.len()));
    }
}

impl Node {
    fn reverse_mut(&mut self) -> &mut ReverseBook {
        self.reverse.get_or_insert_with(Default::default)
    }

    /// Remembers C_0 of a boomerang HTLC this node accepted or offered.
    pub(super) fn note_reverse_point(&mut self, id: HtlcId, c0: Option<&PublicKey>) {
        if let Some(c0) = c0 {
            self.reverse_mut().points.insert(id, *c0);
        }
    }

    /// C_0 of a live HTLC, if it is a boomerang part's.
    pub(super) fn reverse_point(&self, id: HtlcId) -> Option<PublicKey> {
        self.reverse.as_ref()?.points.get(&id).copied()
    }

    /// The HTLC `id` leaves: forget its C_0.
    pub(super) fn forget_reverse_point(&mut self, id: HtlcId) -> Option<PublicKey> {
        self.reverse.as_mut()?.points.remove(&id)
    }

    /// This node fulfils the boomerang HTLC `rec` it accepted: it now owes the reverse
    /// clause. `next` is a forwarder's outgoing HTLC; `payment` a receiver's payment.
    pub(super) fn owe_reverse(
        &mut self,
        c0: PublicKey,
        rec: &Htlc,
        fee_msat: u64,
        next: Option<(HtlcRef, u64)>,
        payment: Option<PaymentSecret>,
    ) {
        let height = self.height;
        let book = self.reverse_mut();
        book.owed.insert(
            rec.wire,
            OwedClause {
                end: rec.end,
                amount_msat: rec.amount_msat,
                fee_msat,
                c0,
                next,
                payment,
                expires_at: rec.cltv_expiry,
            },
        );
        book.sweep(height);
    }

    /// The sender's boomerang part `part` settled over its first HTLC `rec`: its clause
    /// may be claimed.
    pub(super) fn may_claim_reverse(&mut self, rec: &Htlc, part: PartId, value: u64) {
        let height = self.height;
        let book = self.reverse_mut();
        book.claimable.insert(
            rec.wire,
            SenderClause {
                part,
                amount_msat: rec.amount_msat,
                value_msat: value,
                expires_at: rec.cltv_expiry,
                claimed: false,
            },
        );
        book.sweep(height);
    }

    /// Sender: the first HTLC of settled part `part`, while its reverse clause may be
    /// claimed (for tests and tools that build their own claims).
    pub fn reverse_claimable(&self, part: PartId) -> Option<HtlcRef> {
        let book = self.reverse.as_ref()?;
        book.claimable
            .iter()
            .find(|(_, c)| c.part == part && !c.claimed)
            .map(|(w, _)| *w)
    }

    /// Whether this node claimed the reverse clause of `htlc` and awaits the answer
    /// (a live peer answers a claim with a message; an answer to no claim is a fault).
    pub fn refund_awaited(&self, htlc: HtlcRef) -> bool {
        self.reverse
            .as_ref()
            .and_then(|b| b.claimable.get(&htlc))
            .is_some_and(|c| c.claimed)
    }

    /// Sender: the receiver over-claimed and `p0` = P(0) was recovered; claims the
    /// reverse clause of each of `parts` (settled boomerang parts of this node) over its
    /// first hop. Returns how many claims were sent; a part without a clause (not
    /// settled here, lapsed, or claimed already) is skipped.
    pub fn claim_reverse(
        &mut self,
        parts: &[PartId],
        p0: &SecretKey,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> usize {
        self.now = clock.now;
        self.height = clock.height;
        let mut sent = 0;
        // In the order of the parts named, so the output is deterministic.
        for part in parts {
            let Some(book) = self.reverse.as_mut() else {
                return 0;
            };
            let Some((wire, c)) = book
                .claimable
                .iter_mut()
                .find(|(_, c)| c.part == *part && !c.claimed && c.expires_at > clock.height)
            else {
                continue;
            };
            c.claimed = true;
            let (wire, amount_msat) = (*wire, c.amount_msat);
            let Some(end) = self.end_of_channel(wire.channel) else {
                continue;
            };
            out.push(Output::Message {
                from: self.id,
                to: self.ends[end].peer,
                msg: Msg::BoomerangRefund(BoomerangRefund {
                    htlc: wire,
                    amount_msat,
                    p0: p0.secret_bytes(),
                }),
            });
            sent += 1;
        }
        sent
    }

    /// `boomerang_refund` from `from`: checks the claim against the clause this node
    /// owes, pays the value back and claims its own clause downstream. Refused, nothing
    /// changed, if there is no such clause, the amount differs, it lapsed, P(0) does not
    /// open C_0, or this node's side no longer holds the value.
    pub(super) fn on_boomerang_refund(
        &mut self,
        from: flotilla_graph::NodeIdx,
        m: BoomerangRefund,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<(), PeerError> {
        let unknown = PeerError::UnknownHtlc {
            msg: "boomerang_refund",
            htlc: m.htlc,
        };
        let c = self
            .reverse
            .as_ref()
            .and_then(|b| b.owed.get(&m.htlc))
            .ok_or(unknown.clone())?
            .clone();
        if self.ends[c.end as usize].peer != from || c.amount_msat != m.amount_msat {
            return Err(unknown);
        }
        if c.expires_at <= clock.height {
            return Err(PeerError::RefundLapsed(m.htlc));
        }
        let p0 = SecretKey::from_slice(&m.p0).map_err(|_| PeerError::WrongRefundSecret(m.htlc))?;
        if PublicKey::from_secret_key(crate::boomerang::secp(), &p0) != c.c0 {
            return Err(PeerError::WrongRefundSecret(m.htlc));
        }
        // This node pays from its own side and keeps the reserve its peer requires,
        // as for an add: paying below it would break the limits of adds it already
        // has in flight, which its peer checks on arrival.
        let e = &self.ends[c.end as usize];
        if e.local.balance_msat < c.amount_msat.saturating_add(e.peer_rules.reserve_msat) {
            self.counters.refunds_unfunded += 1;
            return Err(PeerError::RefundUnfunded(m.htlc));
        }
        if let Some(secret) = c.payment {
            self.receiver
                .redundant
                .refund(&secret, &p0, c.amount_msat)
                .map_err(|_| PeerError::WrongRefundSecret(m.htlc))?;
        }
        let moved = self.refund_shift(c.end as usize, true, c.amount_msat, c.fee_msat);
        debug_assert!(moved, "balance checked above");
        if let Some(b) = self.reverse.as_mut() {
            b.owed.remove(&m.htlc);
        }
        self.counters.refunds += 1;
        if let Some((next, amount)) = c.next {
            if let Some(end) = self.end_of_channel(next.channel) {
                out.push(Output::Message {
                    from: self.id,
                    to: self.ends[end].peer,
                    msg: Msg::BoomerangRefund(BoomerangRefund {
                        htlc: next,
                        amount_msat: amount,
                        p0: m.p0,
                    }),
                });
            }
        }
        Ok(())
    }

    /// The claim this node sent for `htlc` (a fulfilled HTLC it offered) was accepted
    /// by the peer: `amount_msat` comes back to this node's side. The sender learns
    /// its part was refunded. The driver calls it on delivery, in both commitment modes.
    pub fn refund_delivered(&mut self, htlc: HtlcRef, amount_msat: u64, out: &mut Vec<Output>) {
        let Some(end) = self.end_of_channel(htlc.channel) else {
            return;
        };
        if self.refund_shift(end, false, amount_msat, 0) {
            self.answer_refund(htlc, Some(amount_msat), out);
        }
    }

    /// The peer refused the claim this node sent for `htlc` (its side no longer held
    /// the value, or the clause lapsed): nothing moves; a sender learns its part will
    /// not come back.
    pub fn refund_refused(&mut self, htlc: HtlcRef, out: &mut Vec<Output>) {
        self.answer_refund(htlc, None, out);
    }

    /// Tells a sender how its claim over `htlc` ended: `Some(first-hop amount)` back,
    /// or refused.
    fn answer_refund(&mut self, htlc: HtlcRef, back: Option<u64>, out: &mut Vec<Output>) {
        let Some(c) = self
            .reverse
            .as_mut()
            .and_then(|b| b.claimable.remove(&htlc))
        else {
            return;
        };
        let (amount_msat, fee_msat) = match back {
            Some(a) => (c.value_msat, a.saturating_sub(c.value_msat)),
            None => (0, 0),
        };
        out.push(Output::Event {
            node: self.id,
            event: Event::PartRefunded {
                part: c.part,
                amount_msat,
                fee_msat,
                refused: back.is_none(),
            },
        });
    }
}
