//! The books must balance: checks run after every step in tests and debug builds.

use flotilla_graph::{ChannelIdx, Direction};

use crate::channel::ChannelImbalance;
use crate::htlc::{HtlcId, HtlcOrigin};

use super::{HtlcCounters, Network};

/// Something that should never be: found by [`Network::check_invariants`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvariantError {
    /// A channel's accounting does not add up to its capacity.
    #[error(transparent)]
    Channel(#[from] ChannelImbalance),
    /// Pending sums or counts disagree with the live HTLCs.
    #[error("edge {edge}: state says {stored:?}, live HTLCs say {counted:?} (count, msat)")]
    Pending {
        /// The edge.
        edge: u32,
        /// What the channel state holds.
        stored: (u32, u64),
        /// What the HTLCs add up to.
        counted: (u32, u64),
    },
    /// HTLCs added ≠ fulfilled + failed + live: one was resolved twice or lost.
    #[error("{added} HTLCs added, {fulfilled} fulfilled, {failed} failed, {live} live")]
    Resolution {
        /// Added.
        added: u64,
        /// Fulfilled.
        fulfilled: u64,
        /// Failed.
        failed: u64,
        /// Live.
        live: u64,
    },
    /// A forwarded HTLC's incoming HTLC, or a local HTLC's part, is gone.
    #[error("HTLC {0:?} lost its origin")]
    Orphan(HtlcId),
    /// A node's value (balances + what it offered) is not its start plus what it was
    /// paid minus what it paid.
    #[error("node {node}: value {now} msat, expected {expected} msat")]
    NodeValue {
        /// The node.
        node: u32,
        /// Balances plus offered pending HTLCs.
        now: u128,
        /// Initial + paid in − paid out.
        expected: i128,
    },
    /// A receiver settled more than A of a redundant payment.
    #[error("node {node}: redundant payment settled {settled_msat} msat of {due_msat}")]
    Overpaid {
        /// The receiver.
        node: u32,
        /// A.
        due_msat: u64,
        /// What it settled.
        settled_msat: u64,
    },
}

impl Network {
    #[inline]
    pub(super) fn debug_check(&self, c: ChannelIdx) {
        if cfg!(debug_assertions) {
            let cap = self.graph.channel(c).capacity_msat();
            if let Err(e) = self.channels.check_channel(c, cap) {
                panic!("invariant broken: {e}");
            }
        }
    }

    /// Checks every invariant of the whole network, in O(channels + HTLCs):
    /// - each channel's balances and pending HTLCs sum to its capacity;
    /// - pending sums and counts match the live HTLCs;
    /// - every HTLC was resolved at most once: added = fulfilled + failed + live;
    /// - every live HTLC still has its origin (incoming HTLC or sender's part);
    /// - every node's value (balances plus HTLCs it offered) equals its start plus what
    ///   it was paid minus what it paid: value moves only by payments;
    /// - no receiver settled more than A of a redundant payment.
    ///
    /// Tests call it after every step; debug builds check the channels each step touched.
    pub fn check_invariants(&self) -> Result<(), InvariantError> {
        for (i, c) in self.graph.channels().iter().enumerate() {
            self.channels
                .check_channel(ChannelIdx(i as u32), c.capacity_msat())?;
        }
        let mut counted = vec![(0u32, 0u64); self.graph.edge_slots()];
        for (id, h) in self.htlcs.iter() {
            let slot = &mut counted[h.edge.ix()];
            slot.0 += 1;
            slot.1 += h.amount_msat;
            let ok = match h.origin {
                HtlcOrigin::Forwarded { incoming } => self.htlcs.get(incoming).is_some(),
                HtlcOrigin::Local { part } => {
                    matches!(self.parts.get(part as usize), Some(Some(_)))
                }
            };
            if !ok {
                return Err(InvariantError::Orphan(id));
            }
        }
        for (e, (s, c)) in self.channels.edges().iter().zip(&counted).enumerate() {
            if (s.pending_count, s.pending_msat) != *c {
                return Err(InvariantError::Pending {
                    edge: e as u32,
                    stored: (s.pending_count, s.pending_msat),
                    counted: *c,
                });
            }
        }
        let live = self.htlcs.len() as u64;
        let HtlcCounters {
            added,
            fulfilled,
            failed,
            ..
        } = self.counters;
        if added != fulfilled + failed + live {
            return Err(InvariantError::Resolution {
                added,
                fulfilled,
                failed,
                live,
            });
        }
        let mut value = vec![0u128; self.graph.node_count()];
        for (i, c) in self.graph.channels().iter().enumerate() {
            for d in Direction::BOTH {
                let s = self.channels.edge(ChannelIdx(i as u32).edge(d));
                value[c.from_node(d).ix()] += s.balance_msat as u128 + s.pending_msat as u128;
            }
        }
        for (n, v) in value.iter().enumerate() {
            let l = &self.ledger[n];
            let expected =
                self.initial_value[n] as i128 + l.paid_in_msat as i128 - l.paid_out_msat as i128;
            if *v as i128 != expected {
                return Err(InvariantError::NodeValue {
                    node: n as u32,
                    now: *v,
                    expected,
                });
            }
        }
        for (n, r) in self.receivers.iter().enumerate() {
            if let Some((_, due_msat, settled_msat)) = r.redundant.overpaid() {
                return Err(InvariantError::Overpaid {
                    node: n as u32,
                    due_msat,
                    settled_msat,
                });
            }
        }
        Ok(())
    }
}
