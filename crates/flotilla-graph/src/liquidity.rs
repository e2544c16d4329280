//! Hidden liquidity: how each channel's capacity splits between its two sides.
//!
//! No public source has balances, so a simulation must assume them. Every model is
//! seeded, so the same seed gives the same balances.

use crate::graph::Graph;
use crate::types::{ChannelIdx, Direction, EdgeIdx};

/// Spendable balance per directed edge, msat: `balances[edge]` is what the edge's
/// source node can send through it. For every channel the two sides sum to its
/// capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balances {
    msat: Vec<u64>,
}

impl Balances {
    /// Wraps per-edge balances; `msat.len()` must be `2 × channels`.
    pub fn from_vec(msat: Vec<u64>) -> Self {
        Balances { msat }
    }

    /// The balance of one side.
    #[inline]
    pub fn get(&self, e: EdgeIdx) -> u64 {
        self.msat[e.ix()]
    }

    /// The balance of a channel's side.
    pub fn side(&self, c: ChannelIdx, d: Direction) -> u64 {
        self.get(c.edge(d))
    }

    /// All balances, indexed by [`EdgeIdx`].
    pub fn as_slice(&self) -> &[u64] {
        &self.msat
    }

    /// Consumes into the raw vector.
    pub fn into_vec(self) -> Vec<u64> {
        self.msat
    }

    /// Whether these balances fit `graph`: one per directed edge, each channel's two
    /// sides summing to its capacity.
    pub fn fits(&self, graph: &Graph) -> bool {
        self.msat.len() == graph.edge_slots()
            && graph.channels().iter().enumerate().all(|(i, c)| {
                let ch = ChannelIdx(i as u32);
                self.side(ch, Direction::AToB) as u128 + self.side(ch, Direction::BToA) as u128
                    == c.capacity_msat() as u128
            })
    }
}
