//! Beliefs about channel liquidity, and how payment outcomes update them.

use flotilla_graph::{EdgeIdx, Graph};

use crate::path::Path;
use crate::time::Timestamp;

/// What a failure says about the hop that reported it, independent of protocol
/// details: the protocol crate maps BOLT 4 failure codes onto these.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The channel lacked liquidity (or an HTLC slot) for the amount:
    /// `temporary_channel_failure`. Lowers the upper liquidity bound.
    Liquidity,
    /// The channel cannot be used at all for now (disabled, policy mismatch,
    /// permanent failure): avoid it.
    ChannelUnusable,
    /// The next node is offline or unknown (`unknown_next_peer`): avoid the channel.
    NodeUnreachable,
    /// The receiver refused (unknown payment, timeout): says nothing about liquidity.
    Destination,
}

/// A failed attempt along a path: which hop's channel failed, and how.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct PathFailure {
    /// Index into `path.hops` of the channel that could not carry the HTLC. Every hop
    /// before it carried the amount.
    pub hop: usize,
    /// What went wrong there.
    pub kind: FailureKind,
}

/// A sender's beliefs about the network. Implementations learn from the outcomes of
/// the sender's own payments and forget over time.
pub trait Scorer {
    /// Probability in `(0, 1]` that `edge` can carry `amount_msat` now. Zero is
    /// allowed for a channel known not to carry it.
    fn success_probability(&self, graph: &Graph, edge: EdgeIdx, amount_msat: u64, now: Timestamp) -> f64;

    /// Every hop of `path` carried its amount and the payment settled.
    fn path_succeeded(&mut self, graph: &Graph, path: &Path, now: Timestamp);

    /// An attempt failed at `failure.hop`; hops before it carried their amounts.
    fn path_failed(&mut self, graph: &Graph, path: &Path, failure: PathFailure, now: Timestamp);

    /// HTLCs of `path` were added (`added = true`) or resolved (`false`): beliefs
    /// account for the sender's own in-flight amounts.
    fn htlcs_in_flight(&mut self, graph: &Graph, path: &Path, added: bool);

    /// Probability that the whole path succeeds: the product over its hops.
    fn path_probability(&self, graph: &Graph, path: &Path, now: Timestamp) -> f64 {
        path.hops
            .iter()
            .map(|h| self.success_probability(graph, h.edge, h.amount_msat, now))
            .product()
    }
}
