//! One node's end of one channel: both balances as this node knows them, the HTLCs
//! each side has offered, and the limits each side imposes on the other.
//!
//! For the end's own books,
//!
//! ```text
//! local.balance + local.pending + remote.balance + remote.pending == capacity
//! ```
//!
//! holds at every instant. The two ends of a channel differ only while an
//! `update_add_htlc` is in flight (its offerer has already locked the value; the peer
//! has not seen it yet); once every message is delivered they are equal, mirrored. The
//! simulator checks both ([`crate::network::Network::check_invariants`]).
//!
//! What BOLT 2/3 rules are modelled, and how (each node's values are its
//! [`crate::config::ChannelParams`], learnt by the peer at channel open):
//! - **Reserve** (`channel_reserve_satoshis`): the offerer must keep the reserve its peer
//!   requires after adding the HTLC. A side that starts below its reserve (possible with
//!   random balances, and for a fresh fundee in BOLT 2) can receive but not send.
//! - **`max_accepted_htlcs`** and **`max_htlc_value_in_flight_msat`**: set by the peer
//!   that receives, counted over the HTLCs offered in this direction.
//! - **`htlc_minimum_msat`**: set by the peer that receives; nothing smaller is offered.
//! - **Dust** (`dust_limit_satoshis`): an HTLC below either side's dust limit has no
//!   output in the commitment transaction; off chain it behaves like any HTLC, and is
//!   tracked separately so a node can cap its dust exposure, as implementations do.
//! - Not modelled: commitment transaction fees paid by the funder and the fee spike
//!   buffer.
//!
//! The receiving end checks every add against its own rules too: an honest offerer
//! never breaks them (the receiver's view of the offerer's side is never poorer than the
//! offerer's own), so a refusal means a misbehaving peer.

use flotilla_graph::{ChannelIdx, Direction, EdgeIdx, NodeIdx};

use crate::channel::{AddError, AddLimits, EdgeState};
use crate::config::ChannelParams;

/// The limits one side imposes on HTLCs the other side offers it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChannelRules {
    /// `htlc_minimum_msat`.
    pub htlc_minimum_msat: u64,
    /// The reserve the other side must keep, msat.
    pub reserve_msat: u64,
    /// `max_accepted_htlcs`.
    pub max_accepted_htlcs: u16,
    /// `max_htlc_value_in_flight_msat`.
    pub max_in_flight_msat: u64,
}

impl ChannelRules {
    /// The rules `params` impose over a channel of `capacity_msat`.
    pub fn of(params: &ChannelParams, capacity_msat: u64) -> Self {
        ChannelRules {
            htlc_minimum_msat: params.htlc_minimum_msat,
            reserve_msat: params.reserve_msat(capacity_msat),
            max_accepted_htlcs: params.max_accepted_htlcs,
            max_in_flight_msat: params.max_in_flight_msat(capacity_msat),
        }
    }
}

/// This node's end of one channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelEnd {
    /// The channel.
    pub channel: ChannelIdx,
    /// This node's direction in it: it offers over `channel.edge(dir)`.
    pub dir: Direction,
    /// The peer.
    pub peer: NodeIdx,
    /// The channel's capacity, msat.
    pub capacity_msat: u64,
    /// This node's side: its balance and the HTLCs it offered.
    pub local: EdgeState,
    /// The peer's side as this node knows it.
    pub remote: EdgeState,
    /// What the peer requires of this node's offers.
    pub peer_rules: ChannelRules,
    /// The larger of the two sides' dust limits, msat.
    pub dust_limit_msat: u64,
    /// This node's own parameters for this channel when they differ from its
    /// config's (a live channel opened with other terms); `None`: the config's.
    pub own_params: Option<Box<ChannelParams>>,
    /// Whether the peer is connected (the driver says so).
    pub peer_online: bool,
    /// The `id` of this node's next `update_add_htlc` on this channel (BOLT 2: from 0,
    /// up by one per add). The receiving end refuses an id it already holds; it does
    /// not insist on the order, because the collapsed mode lets messages overtake each
    /// other.
    pub next_offer_id: u64,
    /// Every id of the peer's adds below this one has been accepted.
    pub accepted_below: u64,
    /// Ids above `accepted_below` accepted already (adds may overtake each other in the
    /// collapsed mode), sorted.
    pub accepted_ahead: Vec<u64>,
    /// The full commitment exchange's state (only in full mode, allocated on first use:
    /// the collapsed mode pays no memory for it).
    pub commit: Option<Box<super::commitment::CommitState>>,
}

impl ChannelEnd {
    /// The direction this node offers over.
    #[inline]
    pub fn out_edge(&self) -> EdgeIdx {
        self.channel.edge(self.dir)
    }

    /// Whether the peer already used add id `id` on this channel (BOLT 2 ids are used
    /// once): a replayed or stale add.
    pub fn add_id_used(&self, id: u64) -> bool {
        id < self.accepted_below || self.accepted_ahead.binary_search(&id).is_ok()
    }

    /// Records that the peer's add `id` was accepted.
    pub fn mark_add_id(&mut self, id: u64) {
        if id == self.accepted_below {
            self.accepted_below += 1;
            while self.accepted_ahead.first() == Some(&self.accepted_below) {
                self.accepted_ahead.remove(0);
                self.accepted_below += 1;
            }
        } else if let Err(at) = self.accepted_ahead.binary_search(&id) {
            self.accepted_ahead.insert(at, id);
        }
    }

    /// No commitment exchange is under way (always, in collapsed mode).
    pub fn commit_idle(&self) -> bool {
        self.commit.as_ref().is_none_or(|c| c.is_idle())
    }

    /// The full mode's exchange state, created on first use.
    pub fn commit_mut(&mut self) -> &mut super::commitment::CommitState {
        self.commit.get_or_insert_with(Default::default)
    }

    /// Whether an HTLC of `amount_msat` is dust in this channel.
    #[inline]
    pub fn is_dust(&self, amount_msat: u64) -> bool {
        amount_msat < self.dust_limit_msat
    }

    /// The limits an offer of this node must respect, with the policy's
    /// `htlc_maximum_msat` and this node's cap on dust exposure.
    #[inline]
    pub fn offer_limits(
        &self,
        htlc_maximum_msat: u64,
        max_dust_exposure_msat: Option<u64>,
    ) -> AddLimits {
        AddLimits {
            htlc_minimum_msat: self.peer_rules.htlc_minimum_msat,
            reserve_msat: self.peer_rules.reserve_msat,
            max_accepted_htlcs: self.peer_rules.max_accepted_htlcs,
            max_in_flight_msat: self.peer_rules.max_in_flight_msat,
            htlc_maximum_msat,
            max_dust_exposure_msat,
        }
    }

    /// The largest HTLC this node could offer on this channel now, msat, as
    /// [`Self::check_offer`] judges it without a policy maximum or a dust cap: the
    /// balance above the peer's reserve, within the peer's in-flight cap, 0 without a
    /// free HTLC slot or an online peer. A sender's router uses it for its first hops.
    pub fn spendable_msat(&self) -> u64 {
        let s = &self.local;
        let r = &self.peer_rules;
        if !self.peer_online || s.pending_count >= r.max_accepted_htlcs as u32 {
            return 0;
        }
        let above_reserve = s.balance_msat.saturating_sub(r.reserve_msat);
        let room = r.max_in_flight_msat.saturating_sub(s.pending_msat);
        let most = above_reserve.min(room);
        if most < r.htlc_minimum_msat {
            0
        } else {
            most
        }
    }

    /// Checks an offer of this node against its balance and the peer's limits.
    #[inline]
    pub fn check_offer(
        &self,
        amount_msat: u64,
        is_dust: bool,
        limits: &AddLimits,
    ) -> Result<(), AddError> {
        let s = &self.local;
        if amount_msat < limits.htlc_minimum_msat {
            return Err(AddError::BelowMinimum(limits.htlc_minimum_msat));
        }
        let available = s.balance_msat.saturating_sub(limits.reserve_msat);
        if amount_msat > available {
            return Err(AddError::Liquidity {
                available_msat: available,
                amount_msat,
            });
        }
        if s.pending_count >= limits.max_accepted_htlcs as u32 {
            return Err(AddError::NoSlot(s.pending_count));
        }
        if s.pending_msat.saturating_add(amount_msat) > limits.max_in_flight_msat {
            return Err(AddError::InFlightCap(limits.max_in_flight_msat));
        }
        if amount_msat > limits.htlc_maximum_msat {
            return Err(AddError::AboveMaximum(limits.htlc_maximum_msat));
        }
        if is_dust {
            if let Some(cap) = limits.max_dust_exposure_msat {
                let both = s.dust_msat + self.remote.dust_msat;
                if both.saturating_add(amount_msat) > cap {
                    return Err(AddError::DustExposure(cap));
                }
            }
        }
        Ok(())
    }

    /// Checks the peer's add against this node's view of the peer's side and the rules
    /// this node's parameters `mine` set (BOLT 2's receiving requirements).
    #[inline]
    pub fn check_accept(&self, amount_msat: u64, mine: &ChannelParams) -> Result<(), AddError> {
        self.check_accept_from(&self.remote, amount_msat, mine)
    }

    /// [`ChannelEnd::check_accept`] against `s`, a view of the peer's side other than
    /// the current one (the full mode checks an add on arrival against the side as it
    /// will be when the add is committed).
    pub fn check_accept_from(
        &self,
        s: &EdgeState,
        amount_msat: u64,
        mine: &ChannelParams,
    ) -> Result<(), AddError> {
        let r = &ChannelRules::of(mine, self.capacity_msat);
        if amount_msat < r.htlc_minimum_msat {
            return Err(AddError::BelowMinimum(r.htlc_minimum_msat));
        }
        let available = s.balance_msat.saturating_sub(r.reserve_msat);
        if amount_msat > available {
            return Err(AddError::Liquidity {
                available_msat: available,
                amount_msat,
            });
        }
        if s.pending_count >= r.max_accepted_htlcs as u32 {
            return Err(AddError::NoSlot(s.pending_count));
        }
        if s.pending_msat.saturating_add(amount_msat) > r.max_in_flight_msat {
            return Err(AddError::InFlightCap(r.max_in_flight_msat));
        }
        Ok(())
    }

    /// This node offers an HTLC: the value leaves its balance.
    #[inline]
    pub fn offer(&mut self, amount_msat: u64, is_dust: bool) {
        take(&mut self.local, amount_msat, is_dust);
    }

    /// The peer's offer is accepted: the value leaves the peer's balance.
    #[inline]
    pub fn accept(&mut self, amount_msat: u64, is_dust: bool) {
        take(&mut self.remote, amount_msat, is_dust);
    }

    /// One of this node's offers was fulfilled: the value goes to the peer.
    #[inline]
    pub fn offered_fulfilled(&mut self, amount_msat: u64, is_dust: bool) {
        release(&mut self.local, amount_msat, is_dust);
        self.remote.balance_msat += amount_msat;
    }

    /// One of this node's offers failed: the value comes back.
    #[inline]
    pub fn offered_failed(&mut self, amount_msat: u64, is_dust: bool) {
        release(&mut self.local, amount_msat, is_dust);
        self.local.balance_msat += amount_msat;
    }

    /// This node fulfilled one of the peer's offers: the value is its own.
    #[inline]
    pub fn accepted_fulfilled(&mut self, amount_msat: u64, is_dust: bool) {
        release(&mut self.remote, amount_msat, is_dust);
        self.local.balance_msat += amount_msat;
    }

    /// One of the peer's offers failed: the value goes back to the peer.
    #[inline]
    pub fn accepted_failed(&mut self, amount_msat: u64, is_dust: bool) {
        release(&mut self.remote, amount_msat, is_dust);
        self.remote.balance_msat += amount_msat;
    }

    /// Moves `amount_msat` from the side `from_local` names to the other side's balance
    /// (a boomerang refund's reverse clause). Refused, with nothing moved, if that side
    /// does not hold it.
    pub fn shift(&mut self, from_local: bool, amount_msat: u64) -> bool {
        let (from, to) = if from_local {
            (&mut self.local, &mut self.remote)
        } else {
            (&mut self.remote, &mut self.local)
        };
        if from.balance_msat < amount_msat {
            return false;
        }
        from.balance_msat -= amount_msat;
        to.balance_msat += amount_msat;
        true
    }

    /// Whether the end's own books add up to the capacity.
    pub fn conserves(&self) -> bool {
        let total = self.local.balance_msat as u128
            + self.local.pending_msat as u128
            + self.remote.balance_msat as u128
            + self.remote.pending_msat as u128;
        total == self.capacity_msat as u128
            && self.local.dust_msat <= self.local.pending_msat
            && self.remote.dust_msat <= self.remote.pending_msat
    }
}

#[inline]
fn take(s: &mut EdgeState, amount_msat: u64, is_dust: bool) {
    debug_assert!(s.balance_msat >= amount_msat);
    s.balance_msat -= amount_msat;
    s.pending_msat += amount_msat;
    s.pending_count += 1;
    if is_dust {
        s.dust_msat += amount_msat;
    }
}

#[inline]
fn release(s: &mut EdgeState, amount_msat: u64, is_dust: bool) {
    debug_assert!(s.pending_msat >= amount_msat && s.pending_count > 0);
    s.pending_msat -= amount_msat;
    s.pending_count -= 1;
    if is_dust {
        s.dust_msat -= amount_msat;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One end of a 1,000 msat channel holding it all, its peer requiring a 100 msat
    /// reserve, at most 2 HTLCs and 700 msat in flight, and nothing below 2 msat.
    fn end() -> ChannelEnd {
        let rules = ChannelRules {
            htlc_minimum_msat: 2,
            reserve_msat: 100,
            max_accepted_htlcs: 2,
            max_in_flight_msat: 700,
        };
        ChannelEnd {
            channel: ChannelIdx(0),
            dir: Direction::AToB,
            peer: NodeIdx(1),
            capacity_msat: 1_000,
            local: EdgeState {
                balance_msat: 1_000,
                ..Default::default()
            },
            remote: EdgeState::default(),
            peer_rules: rules,
            dust_limit_msat: 0,
            own_params: None,
            peer_online: true,
            next_offer_id: 0,
            accepted_below: 0,
            accepted_ahead: Vec::new(),
            commit: None,
        }
    }

    #[test]
    fn offers_and_removals_move_value_and_keep_the_sum() {
        let mut e = end();
        let l = e.offer_limits(600, Some(50));
        e.check_offer(400, false, &l).unwrap();
        e.offer(400, false);
        e.offer(300, false);
        assert_eq!(e.local.pending_msat, 700);
        assert!(e.conserves());
        e.offered_fulfilled(400, false);
        e.offered_failed(300, false);
        assert_eq!(e.local.balance_msat, 600);
        assert_eq!(e.remote.balance_msat, 400);
        assert_eq!(e.local.pending_count, 0);
        assert!(e.conserves());
    }

    #[test]
    fn spendable_is_the_largest_offer_that_passes() {
        let mut e = end();
        let no_cap = e.offer_limits(u64::MAX, None);
        // 1000 - reserve 100 = 900, but at most 700 in flight.
        assert_eq!(e.spendable_msat(), 700);
        e.check_offer(700, false, &no_cap).unwrap();
        assert!(e.check_offer(701, false, &no_cap).is_err());
        e.offer(400, false);
        // 600 - 100 = 500 above the reserve; 300 of in-flight room.
        assert_eq!(e.spendable_msat(), 300);
        e.check_offer(300, false, &no_cap).unwrap();
        assert!(e.check_offer(301, false, &no_cap).is_err());
        // Both slots taken: nothing.
        e.offer(1, false);
        assert_eq!(e.spendable_msat(), 0);
        assert!(e.check_offer(2, false, &no_cap).is_err());
        let mut e = end();
        e.local.balance_msat = 101;
        // 1 msat above the reserve, below the peer's minimum of 2: nothing.
        assert_eq!(e.spendable_msat(), 0);
        let mut e = end();
        e.peer_online = false;
        assert_eq!(e.spendable_msat(), 0);
    }

    #[test]
    fn each_limit_refuses() {
        let mut e = end();
        let l = e.offer_limits(600, Some(50));
        assert_eq!(e.check_offer(1, false, &l), Err(AddError::BelowMinimum(2)));
        // 1000 - reserve 100 = 900 spendable; 600 is the policy maximum.
        assert_eq!(
            e.check_offer(601, false, &l),
            Err(AddError::AboveMaximum(600))
        );
        assert!(matches!(
            e.check_offer(901, false, &l),
            Err(AddError::Liquidity { .. })
        ));
        assert_eq!(e.check_offer(51, true, &l), Err(AddError::DustExposure(50)));
        e.offer(400, false);
        assert_eq!(
            e.check_offer(301, false, &l),
            Err(AddError::InFlightCap(700))
        );
        e.offer(10, false);
        assert_eq!(e.check_offer(2, false, &l), Err(AddError::NoSlot(2)));
        // The peer's side holds nothing: it cannot offer anything to this node.
        assert!(matches!(
            e.check_accept(2, &ChannelParams::default()),
            Err(AddError::Liquidity { .. })
        ));
    }
}
