//! A node's HTLC records and where they live.
//!
//! Each [`crate::node::Node`] keeps every HTLC it offered or accepted as one [`Htlc`] in
//! its own [`HtlcSlab`]: a `Vec` of slots with a free list, so adding and resolving are
//! O(1), and a resolved slot is reused by the next HTLC. An [`HtlcId`] (the node's own
//! name for the record) carries the slot's generation: a timer that names an HTLC
//! resolved in the meantime finds a newer generation and is ignored, which is how
//! "every HTLC is resolved exactly once" is enforced. Peers name an HTLC by its channel
//! and per-channel id ([`HtlcRef`]); the node maps that pair to its record.
//!
//! The two ends of a channel each hold their own copy of an HTLC, as BOLT 2 peers do;
//! the simulator checks that the copies agree.

use flotilla_graph::EdgeIdx;
use flotilla_route::Timestamp;

use crate::lock::HtlcLock;
use crate::msg::{HtlcRef, PartTrace};
use crate::PaymentHash;

/// A node's name for one of its HTLC records: its slot and the slot's generation.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HtlcId {
    index: u32,
    gen: u32,
}

impl HtlcId {
    /// The slot, for side tables indexed like the slab.
    #[inline]
    pub fn slot(self) -> usize {
        self.index as usize
    }
}

/// Where an HTLC is in its life, as the node holding the record sees it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum HtlcState {
    /// This node offered it (`update_add_htlc` sent); it ends when the peer's fulfil or
    /// fail is applied, or on chain at its expiry.
    Offered,
    /// This node accepted it from its peer: it forwarded it, or holds it (MPP set,
    /// redundant part, hodl).
    Accepted,
    /// This node sent `update_fulfill_htlc` or `update_fail_htlc` for it; the record
    /// goes when the removal is locked in (collapsed mode: when the message is
    /// delivered; full mode: when the peer acknowledges the commitment holding it).
    Removing,
}

/// Why an HTLC exists.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum HtlcOrigin {
    /// Offered as the first HTLC of one of this node's payment parts; `part` names the
    /// part record.
    Local {
        /// Slot of the part record.
        part: u32,
    },
    /// Offered because `incoming` asked for it (this node forwards).
    Forwarded {
        /// The HTLC that came in.
        incoming: HtlcId,
    },
    /// Accepted from the peer.
    Received,
}

/// One HTLC, as one of its two nodes keeps it.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Htlc {
    /// The channel direction it travels over (offerer = the edge's source).
    pub edge: EdgeIdx,
    /// Its per-channel name.
    pub wire: HtlcRef,
    /// Index of its channel among the node's channel ends.
    pub end: u32,
    /// Its value, msat.
    pub amount_msat: u64,
    /// The hash whose preimage claims it.
    pub payment_hash: PaymentHash,
    /// What else a claim needs (see [`crate::lock`]); forwarded HTLCs copy it.
    pub lock: HtlcLock,
    /// Absolute block height at which the offerer may time it out.
    pub cltv_expiry: u32,
    /// Why it exists.
    pub origin: HtlcOrigin,
    /// Where it is in its life.
    pub state: HtlcState,
    /// Below the dust limit of either side (trimmed from a commitment transaction).
    pub is_dust: bool,
    /// When the offerer added it: with the time it is resolved, how long its value was
    /// locked (liquidity-seconds).
    pub added_at: Timestamp,
    /// The sender's part it carries (simulator bookkeeping, see [`PartTrace`]).
    pub trace: PartTrace,
}

impl Htlc {
    /// Whether this node offered it.
    #[inline]
    pub fn is_offered(&self) -> bool {
        !matches!(self.origin, HtlcOrigin::Received)
    }
}

#[derive(Clone, Debug)]
struct Slot {
    gen: u32,
    htlc: Option<Htlc>,
}

/// A node's HTLCs.
#[derive(Clone, Debug, Default)]
pub struct HtlcSlab {
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
    /// Generation of slots created from now on: above every generation ever handed
    /// out, so an id from before [`HtlcSlab::release_if_empty`] names nothing after it.
    next_gen: u32,
}

impl HtlcSlab {
    /// With no live HTLC, gives the memory back (a node that forwarded a burst keeps
    /// nothing for it). Ids handed out before name nothing after. Returns whether it
    /// released anything.
    pub fn release_if_empty(&mut self) -> bool {
        if self.live != 0 || self.slots.capacity() == 0 {
            return false;
        }
        self.slots = Vec::new();
        self.free = Vec::new();
        true
    }

    /// An empty slab.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores an HTLC and names it.
    #[inline]
    pub fn insert(&mut self, htlc: Htlc) -> HtlcId {
        self.live += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.htlc = Some(htlc);
            return HtlcId {
                index,
                gen: slot.gen,
            };
        }
        let index = self.slots.len() as u32;
        self.slots.push(Slot {
            gen: self.next_gen,
            htlc: Some(htlc),
        });
        HtlcId {
            index,
            gen: self.next_gen,
        }
    }

    /// The HTLC, if `id` names a live one.
    #[inline]
    pub fn get(&self, id: HtlcId) -> Option<&Htlc> {
        let slot = self.slots.get(id.index as usize)?;
        if slot.gen != id.gen {
            return None;
        }
        slot.htlc.as_ref()
    }

    /// The HTLC, mutably, if `id` names a live one.
    #[inline]
    pub fn get_mut(&mut self, id: HtlcId) -> Option<&mut Htlc> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.gen != id.gen {
            return None;
        }
        slot.htlc.as_mut()
    }

    /// Removes a live HTLC; its id stops naming anything.
    #[inline]
    pub fn remove(&mut self, id: HtlcId) -> Option<Htlc> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.gen != id.gen {
            return None;
        }
        let htlc = slot.htlc.take()?;
        slot.gen = slot.gen.wrapping_add(1);
        self.next_gen = self.next_gen.max(slot.gen.wrapping_add(1));
        self.free.push(id.index);
        self.live -= 1;
        Some(htlc)
    }

    /// Number of live HTLCs.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no HTLC is live.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Number of slots ever used (for side tables indexed by [`HtlcId::slot`]).
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Every live HTLC with its id.
    pub fn iter(&self) -> impl Iterator<Item = (HtlcId, &Htlc)> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            s.htlc.as_ref().map(|h| {
                (
                    HtlcId {
                        index: i as u32,
                        gen: s.gen,
                    },
                    h,
                )
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn htlc(amount: u64) -> Htlc {
        Htlc {
            edge: EdgeIdx(0),
            wire: HtlcRef {
                channel: flotilla_graph::ChannelIdx(0),
                id: 0,
            },
            end: 0,
            amount_msat: amount,
            payment_hash: PaymentHash([0; 32]),
            lock: HtlcLock::Hash,
            cltv_expiry: 100,
            origin: HtlcOrigin::Local { part: 0 },
            state: HtlcState::Offered,
            is_dust: false,
            added_at: Timestamp::ZERO,
            trace: PartTrace::NONE,
        }
    }

    #[test]
    fn stale_ids_name_nothing() {
        let mut s = HtlcSlab::new();
        let a = s.insert(htlc(1));
        assert_eq!(s.remove(a).map(|h| h.amount_msat), Some(1));
        assert!(s.remove(a).is_none(), "resolved twice");
        let b = s.insert(htlc(2));
        assert_eq!(a.slot(), b.slot(), "slot reused");
        assert!(s.get(a).is_none());
        assert_eq!(s.get(b).map(|h| h.amount_msat), Some(2));
        assert_eq!(s.len(), 1);
        assert_eq!(s.iter().count(), 1);
    }

    #[test]
    fn a_released_slab_hands_out_ids_no_old_id_names() {
        let mut s = HtlcSlab::new();
        let a = s.insert(htlc(1));
        let b = s.insert(htlc(2));
        assert!(!s.release_if_empty(), "live HTLCs keep their memory");
        s.remove(a);
        s.remove(b);
        assert!(s.release_if_empty());
        assert_eq!(s.capacity(), 0);
        let c = s.insert(htlc(3));
        assert_eq!(c.slot(), a.slot(), "slot 0 again");
        assert!(
            s.get(a).is_none() && s.get(b).is_none(),
            "stale ids name nothing"
        );
        assert!(s.remove(a).is_none());
        assert_eq!(s.get(c).map(|h| h.amount_msat), Some(3));
    }
}
