//! Channel state: who owns how much of each channel, and what is locked in HTLCs.
//!
//! One [`EdgeState`] per directed edge (`EdgeIdx`): the balance of the edge's source and
//! the HTLCs that source has offered over it. For every channel
//!
//! ```text
//! balance[a→b] + balance[b→a] + pending[a→b] + pending[b→a] == capacity
//! ```
//!
//! holds at every instant: an add moves value from the offerer's balance into pending, a
//! fulfil moves it on to the other side's balance, a fail moves it back.
//!
//! What BOLT 2/3 rules are modelled, and how (each node's values are its
//! [`crate::config::ChannelParams`]):
//! - **Reserve** (`channel_reserve_satoshis`): the offerer must keep the reserve its peer
//!   requires after adding the HTLC. A side that starts below its reserve (possible with
//!   random balances, and for a fresh fundee in BOLT 2) can receive but not send.
//! - **`max_accepted_htlcs`** and **`max_htlc_value_in_flight_msat`**: set by the peer
//!   that receives, counted over the HTLCs offered in this direction.
//! - **`htlc_minimum_msat`**: set by the peer that receives; nothing smaller is offered.
//! - **Dust** (`dust_limit_satoshis`): an HTLC below the dust limit has no output in the
//!   commitment transaction (it is "trimmed"); its value would go to miners on a force
//!   close. Off chain it behaves like any HTLC: it moves balances and counts against the
//!   reserve, slot and in-flight limits. flotilla tracks dust separately so a node can cap
//!   its dust exposure, as implementations do.
//! - Not modelled: commitment transaction fees paid by the funder (they depend on a
//!   feerate flotilla does not simulate; anchor channels make them small) and the fee
//!   spike buffer.

use flotilla_graph::liquidity::Balances;
use flotilla_graph::{ChannelIdx, Direction, EdgeIdx};

/// One direction of a channel.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct EdgeState {
    /// What the edge's source owns and can still offer, msat.
    pub balance_msat: u64,
    /// Sum of the unresolved HTLCs the source has offered over this edge, msat.
    pub pending_msat: u64,
    /// How many HTLCs those are.
    pub pending_count: u32,
    /// The part of `pending_msat` in dust HTLCs.
    pub dust_msat: u64,
}

/// The limits an offer over one edge must respect; built per offer from both nodes'
/// configs and the edge's policy.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct AddLimits {
    /// The receiving peer's `htlc_minimum_msat`.
    pub htlc_minimum_msat: u64,
    /// Reserve the offerer must keep (set by the receiving peer).
    pub reserve_msat: u64,
    /// The receiving peer's `max_accepted_htlcs`.
    pub max_accepted_htlcs: u16,
    /// The receiving peer's `max_htlc_value_in_flight_msat`.
    pub max_in_flight_msat: u64,
    /// The edge policy's `htlc_maximum_msat` (`u64::MAX` for the sender's own payments).
    pub htlc_maximum_msat: u64,
    /// The offerer's cap on dust in this channel, both directions.
    pub max_dust_exposure_msat: Option<u64>,
}

/// Why an HTLC cannot be added. Every variant is a `temporary_channel_failure`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum AddError {
    /// Below the receiving peer's `htlc_minimum_msat`.
    #[error("amount below the peer's htlc_minimum_msat {0}")]
    BelowMinimum(u64),
    /// The offerer's balance minus its reserve is below the amount.
    #[error("insufficient balance: {available_msat} msat spendable above the reserve, {amount_msat} msat needed")]
    Liquidity {
        /// Balance minus reserve.
        available_msat: u64,
        /// The HTLC.
        amount_msat: u64,
    },
    /// The peer's `max_accepted_htlcs` is reached.
    #[error("no HTLC slot: {0} HTLCs already offered")]
    NoSlot(u32),
    /// The peer's `max_htlc_value_in_flight_msat` would be exceeded.
    #[error("in-flight cap of {0} msat would be exceeded")]
    InFlightCap(u64),
    /// Above the policy's `htlc_maximum_msat`.
    #[error("amount above htlc_maximum_msat {0}")]
    AboveMaximum(u64),
    /// The offerer's dust exposure cap would be exceeded.
    #[error("dust exposure cap of {0} msat would be exceeded")]
    DustExposure(u64),
}

/// Why the channel accounting does not add up (a bug, reported by
/// [`crate::network::Network::check_invariants`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("channel {channel}: balances {balances:?} + pending {pending:?} = {total} msat, capacity {capacity} msat")]
pub struct ChannelImbalance {
    /// Which channel.
    pub channel: u32,
    /// Both balances.
    pub balances: [u64; 2],
    /// Both pending sums.
    pub pending: [u64; 2],
    /// Their sum.
    pub total: u128,
    /// The capacity.
    pub capacity: u64,
}

/// The state of every channel, indexed by [`EdgeIdx`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channels {
    edges: Vec<EdgeState>,
}

impl Channels {
    /// Starts from balances, with nothing pending.
    pub fn new(balances: &Balances) -> Self {
        Channels {
            edges: balances
                .as_slice()
                .iter()
                .map(|&b| EdgeState {
                    balance_msat: b,
                    ..Default::default()
                })
                .collect(),
        }
    }

    /// The state of one direction.
    #[inline]
    pub fn edge(&self, e: EdgeIdx) -> &EdgeState {
        &self.edges[e.ix()]
    }

    /// All directions, indexed by [`EdgeIdx`].
    pub fn edges(&self) -> &[EdgeState] {
        &self.edges
    }

    /// The current balances, e.g. to hand a scorer the ground truth or to save a run.
    pub fn balances(&self) -> Balances {
        Balances::from_vec(self.edges.iter().map(|s| s.balance_msat).collect())
    }

    /// Whether `amount_msat` can be offered over `e` under `limits`; checks in the order
    /// an implementation would report them, all `temporary_channel_failure`.
    #[inline]
    pub fn check_add(
        &self,
        e: EdgeIdx,
        amount_msat: u64,
        is_dust: bool,
        limits: &AddLimits,
    ) -> Result<(), AddError> {
        let s = &self.edges[e.ix()];
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
                let both = s.dust_msat + self.edges[e.reverse().ix()].dust_msat;
                if both.saturating_add(amount_msat) > cap {
                    return Err(AddError::DustExposure(cap));
                }
            }
        }
        Ok(())
    }

    /// Locks `amount_msat` of the offerer's balance in a new HTLC over `e`. The caller
    /// has checked [`Channels::check_add`].
    #[inline]
    pub fn add(&mut self, e: EdgeIdx, amount_msat: u64, is_dust: bool) {
        let s = &mut self.edges[e.ix()];
        debug_assert!(s.balance_msat >= amount_msat);
        s.balance_msat -= amount_msat;
        s.pending_msat += amount_msat;
        s.pending_count += 1;
        if is_dust {
            s.dust_msat += amount_msat;
        }
    }

    /// An HTLC over `e` was fulfilled: its value now belongs to the far side.
    #[inline]
    pub fn fulfil(&mut self, e: EdgeIdx, amount_msat: u64, is_dust: bool) {
        self.release(e, amount_msat, is_dust);
        self.edges[e.reverse().ix()].balance_msat += amount_msat;
    }

    /// An HTLC over `e` failed: its value returns to the offerer.
    #[inline]
    pub fn fail(&mut self, e: EdgeIdx, amount_msat: u64, is_dust: bool) {
        self.release(e, amount_msat, is_dust);
        self.edges[e.ix()].balance_msat += amount_msat;
    }

    /// Moves `amount_msat` settled over `e` back to `e`'s source (a boomerang refund).
    /// Refused (`false`, nothing moved) if the far side no longer has it.
    pub fn refund(&mut self, e: EdgeIdx, amount_msat: u64) -> bool {
        let far = &mut self.edges[e.reverse().ix()];
        if far.balance_msat < amount_msat {
            return false;
        }
        far.balance_msat -= amount_msat;
        self.edges[e.ix()].balance_msat += amount_msat;
        true
    }

    fn release(&mut self, e: EdgeIdx, amount_msat: u64, is_dust: bool) {
        let s = &mut self.edges[e.ix()];
        debug_assert!(s.pending_msat >= amount_msat && s.pending_count > 0);
        s.pending_msat -= amount_msat;
        s.pending_count -= 1;
        if is_dust {
            s.dust_msat -= amount_msat;
        }
    }

    /// Checks that a channel's two balances and two pending sums add up to its capacity.
    pub fn check_channel(&self, c: ChannelIdx, capacity_msat: u64) -> Result<(), ChannelImbalance> {
        let a = self.edges[c.edge(Direction::AToB).ix()];
        let b = self.edges[c.edge(Direction::BToA).ix()];
        let total = a.balance_msat as u128
            + b.balance_msat as u128
            + a.pending_msat as u128
            + b.pending_msat as u128;
        if total != capacity_msat as u128
            || a.dust_msat > a.pending_msat
            || b.dust_msat > b.pending_msat
        {
            return Err(ChannelImbalance {
                channel: c.0,
                balances: [a.balance_msat, b.balance_msat],
                pending: [a.pending_msat, b.pending_msat],
                total,
                capacity: capacity_msat,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> AddLimits {
        AddLimits {
            htlc_minimum_msat: 2,
            reserve_msat: 100,
            max_accepted_htlcs: 2,
            max_in_flight_msat: 700,
            htlc_maximum_msat: 600,
            max_dust_exposure_msat: Some(50),
        }
    }

    #[test]
    fn add_fulfil_fail_move_value_and_keep_the_sum() {
        let mut ch = Channels::new(&Balances::from_vec(vec![1_000, 0]));
        let e = ChannelIdx(0).edge(Direction::AToB);
        ch.check_add(e, 400, false, &limits()).unwrap();
        ch.add(e, 400, false);
        ch.add(e, 300, false);
        assert_eq!(ch.edge(e).pending_msat, 700);
        ch.check_channel(ChannelIdx(0), 1_000).unwrap();
        ch.fulfil(e, 400, false);
        ch.fail(e, 300, false);
        assert_eq!(ch.edge(e).balance_msat, 600);
        assert_eq!(ch.edge(e.reverse()).balance_msat, 400);
        assert_eq!(ch.edge(e).pending_count, 0);
        ch.check_channel(ChannelIdx(0), 1_000).unwrap();
    }

    #[test]
    fn each_limit_refuses() {
        let mut ch = Channels::new(&Balances::from_vec(vec![1_000, 0]));
        let e = ChannelIdx(0).edge(Direction::AToB);
        let l = limits();
        assert_eq!(
            ch.check_add(e, 1, false, &l),
            Err(AddError::BelowMinimum(2))
        );
        // 1000 - reserve 100 = 900 spendable; 600 is the policy maximum.
        assert_eq!(
            ch.check_add(e, 601, false, &l),
            Err(AddError::AboveMaximum(600))
        );
        assert!(matches!(
            ch.check_add(e, 901, false, &l),
            Err(AddError::Liquidity { .. })
        ));
        assert_eq!(
            ch.check_add(e, 51, true, &l),
            Err(AddError::DustExposure(50))
        );
        ch.add(e, 400, false);
        assert_eq!(
            ch.check_add(e, 301, false, &l),
            Err(AddError::InFlightCap(700))
        );
        ch.add(e, 10, false);
        assert_eq!(ch.check_add(e, 2, false, &l), Err(AddError::NoSlot(2)));
        // The reverse side owns nothing: it cannot send.
        assert!(matches!(
            ch.check_add(e.reverse(), 2, false, &l),
            Err(AddError::Liquidity { .. })
        ));
    }
}
