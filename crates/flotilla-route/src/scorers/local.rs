//! The sender's own channels, whose balances it knows exactly.

use flotilla_graph::liquidity::Balances;
use flotilla_graph::{EdgeIdx, Graph, NodeIdx};

/// [`set_local_balance`](crate::scorers::LiquidityBoundsScorer::set_local_balance) was
/// given a channel direction that does not belong to the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("edge {} (channel {}) is not a channel of the sender, node {}", edge.0, edge.channel().0, sender.0)]
pub struct NotLocalEdge {
    /// The edge given.
    pub edge: EdgeIdx,
    /// The scorer's sender.
    pub sender: NodeIdx,
}

/// Exact balances and in-flight amounts of the channel directions that leave or
/// reach the sender. Few entries (the sender's degree), sorted by edge for binary
/// search; only touched when an edge's channel has the sender as an endpoint.
#[derive(Debug, Clone)]
pub(crate) struct LocalChannels {
    sender: NodeIdx,
    /// Sorted: both directions of every channel of the sender.
    edges: Vec<EdgeIdx>,
    /// Channel capacity, msat, per entry of `edges`.
    capacity: Vec<u64>,
    /// Known spendable balance, msat, per entry of `edges`.
    balance: Vec<Option<u64>>,
    /// The sender's own HTLCs in flight, msat, per entry of `edges`.
    in_flight: Vec<u64>,
}

impl LocalChannels {
    pub(crate) fn new(graph: &Graph, sender: NodeIdx) -> Self {
        let mut edges = Vec::new();
        if sender.ix() < graph.node_count() {
            for c in graph.channels_of(sender) {
                edges.push(c.edge(flotilla_graph::Direction::AToB));
                edges.push(c.edge(flotilla_graph::Direction::BToA));
            }
        }
        edges.sort_unstable();
        edges.dedup();
        let capacity = edges
            .iter()
            .map(|e| graph.channel(e.channel()).capacity_msat())
            .collect();
        let n = edges.len();
        LocalChannels {
            sender,
            edges,
            capacity,
            balance: vec![None; n],
            in_flight: vec![0; n],
        }
    }

    pub(crate) fn sender(&self) -> NodeIdx {
        self.sender
    }

    #[inline]
    fn slot(&self, edge: EdgeIdx) -> Option<usize> {
        if self.edges.is_empty() {
            return None;
        }
        self.edges.binary_search(&edge).ok()
    }

    /// Sets the exact spendable balance of one of the sender's channel directions
    /// (clamped to the capacity).
    pub(crate) fn set_balance(&mut self, edge: EdgeIdx, msat: u64) -> Result<(), NotLocalEdge> {
        let i = self.slot(edge).ok_or(NotLocalEdge {
            edge,
            sender: self.sender,
        })?;
        self.balance[i] = Some(msat.min(self.capacity[i]));
        Ok(())
    }

    /// Serves `sender` from now on, with exactly the spendable amounts `spendable` on
    /// its outgoing directions (every other direction unknown) and nothing in flight:
    /// the amounts already account for its pending HTLCs. One router serves many
    /// senders, so this is called before each of their searches; O(degree).
    pub(crate) fn retarget(
        &mut self,
        graph: &Graph,
        sender: NodeIdx,
        spendable: &[(EdgeIdx, u64)],
    ) {
        if sender != self.sender {
            *self = LocalChannels::new(graph, sender);
        } else {
            self.balance.iter_mut().for_each(|b| *b = None);
            self.in_flight.iter_mut().for_each(|f| *f = 0);
        }
        for &(edge, msat) in spendable {
            if graph.edge_slots() > edge.ix() && graph.edge_source(edge) == sender {
                // Cannot fail: the edge leaves the sender, so it is one of its channels.
                let _ = self.set_balance(edge, msat);
            }
        }
    }

    /// The sender's in-flight amount over `edge`, if it is the sender's.
    #[inline]
    pub(crate) fn in_flight(&self, edge: EdgeIdx) -> Option<u64> {
        self.slot(edge).map(|i| self.in_flight[i])
    }

    /// Forgets an exact balance.
    pub(crate) fn clear_balance(&mut self, edge: EdgeIdx) {
        if let Some(i) = self.slot(edge) {
            self.balance[i] = None;
        }
    }

    /// Takes every balance of the sender's channels from `balances`.
    pub(crate) fn set_balances(&mut self, balances: &Balances) {
        for i in 0..self.edges.len() {
            if let Some(&b) = balances.as_slice().get(self.edges[i].ix()) {
                self.balance[i] = Some(b.min(self.capacity[i]));
            }
        }
    }

    /// The known balance of `edge`, if it is the sender's and was set.
    #[inline]
    pub(crate) fn balance(&self, edge: EdgeIdx) -> Option<u64> {
        self.slot(edge).and_then(|i| self.balance[i])
    }

    /// `Some(true/false)`: the edge's balance is known and does / does not leave room
    /// for `amount_msat` next to the sender's in-flight HTLCs. `None`: not known.
    #[inline]
    pub(crate) fn fits(&self, edge: EdgeIdx, amount_msat: u64) -> Option<bool> {
        let i = self.slot(edge)?;
        let b = self.balance[i]?;
        Some(amount_msat.saturating_add(self.in_flight[i]) <= b)
    }

    /// Whether `edge`'s channel has the sender as an endpoint (cheap pre-check).
    #[inline]
    pub(crate) fn touches(&self, graph: &Graph, edge: EdgeIdx) -> bool {
        !self.edges.is_empty() && {
            let nodes = graph.channel(edge.channel()).nodes;
            nodes[0] == self.sender || nodes[1] == self.sender
        }
    }

    /// HTLCs of `amount_msat` added to / resolved on `edge`.
    pub(crate) fn htlc(&mut self, edge: EdgeIdx, amount_msat: u64, added: bool) {
        if let Some(i) = self.slot(edge) {
            self.in_flight[i] = if added {
                self.in_flight[i].saturating_add(amount_msat)
            } else {
                self.in_flight[i].saturating_sub(amount_msat)
            };
        }
    }

    /// `amount_msat` settled over `edge`: it left `edge`'s side and arrived on the
    /// reverse side.
    pub(crate) fn settle(&mut self, edge: EdgeIdx, amount_msat: u64) {
        if let Some(i) = self.slot(edge) {
            if let Some(b) = self.balance[i].as_mut() {
                *b = b.saturating_sub(amount_msat);
            }
        }
        if let Some(i) = self.slot(edge.reverse()) {
            let cap = self.capacity[i];
            if let Some(b) = self.balance[i].as_mut() {
                *b = b.saturating_add(amount_msat).min(cap);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorers::test_util::{fwd, line};

    #[test]
    fn only_the_senders_edges_are_local() {
        let g = line(&[1000, 2000]);
        let mut l = LocalChannels::new(&g, NodeIdx(1));
        assert!(l.set_balance(fwd(0), 5).is_ok()); // 0 -> 1 reaches the sender
        assert!(l.set_balance(fwd(1), 5).is_ok());
        assert!(l.set_balance(fwd(1).reverse(), 5).is_ok());
        let mut far = LocalChannels::new(&g, NodeIdx(0));
        assert_eq!(
            far.set_balance(fwd(1), 1),
            Err(NotLocalEdge {
                edge: fwd(1),
                sender: NodeIdx(0)
            })
        );
        // Clamped to capacity.
        l.set_balance(fwd(1), u64::MAX).unwrap();
        assert_eq!(l.balance(fwd(1)), Some(2_000_000));
        // Unknown sender index: nothing is local, nothing panics.
        let none = LocalChannels::new(&g, NodeIdx(99));
        assert_eq!(none.balance(fwd(0)), None);
        assert!(!none.touches(&g, fwd(0)));
    }

    #[test]
    fn settle_moves_balance_to_the_other_side() {
        let g = line(&[1000]);
        let mut l = LocalChannels::new(&g, NodeIdx(0));
        l.set_balance(fwd(0), 600_000).unwrap();
        l.set_balance(fwd(0).reverse(), 400_000).unwrap();
        l.settle(fwd(0), 100_000);
        assert_eq!(l.balance(fwd(0)), Some(500_000));
        assert_eq!(l.balance(fwd(0).reverse()), Some(500_000));
        l.htlc(fwd(0), 300_000, true);
        assert_eq!(l.fits(fwd(0), 200_000), Some(true));
        assert_eq!(l.fits(fwd(0), 200_001), Some(false));
        l.htlc(fwd(0), 300_000, false);
        assert_eq!(l.fits(fwd(0), 500_000), Some(true));
        l.clear_balance(fwd(0));
        assert_eq!(l.fits(fwd(0), 1), None);
    }
}
