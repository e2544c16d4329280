//! Beliefs about channel liquidity, and how payment outcomes update them.

use flotilla_graph::{EdgeIdx, Graph, NodeIdx};

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
    fn success_probability(
        &self,
        graph: &Graph,
        edge: EdgeIdx,
        amount_msat: u64,
        now: Timestamp,
    ) -> f64;

    /// Every hop of `path` carried its amount and the payment settled.
    fn path_succeeded(&mut self, graph: &Graph, path: &Path, now: Timestamp);

    /// An attempt failed at `failure.hop`; hops before it carried their amounts.
    fn path_failed(&mut self, graph: &Graph, path: &Path, failure: PathFailure, now: Timestamp);

    /// HTLCs of `path` were added (`added = true`) or resolved (`false`): beliefs
    /// account for the sender's own in-flight amounts.
    fn htlcs_in_flight(&mut self, graph: &Graph, path: &Path, added: bool);

    /// The next searches are for `sender`, whose outgoing channel directions can offer
    /// at most `spendable` (edge, msat) each, as it knows exactly
    /// ([`crate::RouteRequest::first_hops`]); its in-flight HTLCs are already
    /// subtracted. Scorers that keep exact local balances use them (probability 1 for
    /// an amount within, 0 above); the default ignores them.
    fn use_first_hops(&mut self, graph: &Graph, sender: NodeIdx, spendable: &[(EdgeIdx, u64)]) {
        let _ = (graph, sender, spendable);
    }

    /// The risk term path finders add up: `−ln` of
    /// [`Scorer::success_probability`], in `[0, +∞]` (`+∞` when the probability is
    /// zero, `0` when it is one). Summing costs over hops gives `−ln` of the path's
    /// probability.
    ///
    /// The default takes the logarithm of `success_probability`; scorers whose
    /// probability has a closed form override it with something cheaper (see
    /// [`crate::scorers::neg_ln_one_minus`]) and must agree with the default to a
    /// relative error they document.
    fn cost(&self, graph: &Graph, edge: EdgeIdx, amount_msat: u64, now: Timestamp) -> f64 {
        let p = self.success_probability(graph, edge, amount_msat, now);
        if p >= 1.0 {
            0.0
        } else if p > 0.0 {
            -p.ln()
        } else {
            f64::INFINITY
        }
    }

    /// A lower bound on [`Scorer::cost`] of `edge` over every amount of at least
    /// `amount_msat`; path finders use it to aim their search (a bound that is too high
    /// makes them miss cheaper paths, one that is too low only makes them slower).
    ///
    /// The default relies on what every liquidity model satisfies: whatever can carry
    /// an amount can carry less, so above the policy's `htlc_minimum_msat` the cost
    /// never falls as the amount grows. It returns the cost at
    /// `max(amount_msat, htlc_minimum_msat)`. A scorer whose cost can fall with the
    /// amount must override it (`0.0` is always a valid bound).
    fn cost_lower_bound(
        &self,
        graph: &Graph,
        edge: EdgeIdx,
        amount_msat: u64,
        now: Timestamp,
    ) -> f64 {
        let at = graph
            .channels()
            .get(edge.channel().ix())
            .and_then(|c| c.policy(edge.direction()))
            .map_or(amount_msat, |p| p.htlc_minimum_msat.max(amount_msat));
        self.cost(graph, edge, at, now)
    }

    /// An upper bound on what the sender can still put over `edge` now, msat, over
    /// all its HTLCs there together: [`Scorer::success_probability`] is zero for every
    /// amount above it (with the sender's in-flight HTLCs as they are now).
    ///
    /// Splitters sum it over the receiver's channels (and the sender's) to see, in
    /// O(degree), that no split of an amount can have a positive probability, instead
    /// of finding that out with many searches.
    ///
    /// The default is the capacity of an enabled direction (0 without a policy or when
    /// disabled), which the policy gate every scorer applies makes a valid bound. It
    /// is deliberately not `htlc_maximum_msat`: that limits one HTLC, and several parts
    /// may share a channel. Scorers that learn liquidity override it with what they
    /// believe.
    fn max_liquidity_msat(&self, graph: &Graph, edge: EdgeIdx, _now: Timestamp) -> u64 {
        match graph.channels().get(edge.channel().ix()) {
            Some(c) => match c.policy(edge.direction()) {
                Some(p) if !p.disabled => c.capacity_msat(),
                _ => 0,
            },
            None => 0,
        }
    }

    /// Probability that the whole path succeeds: the product over its hops.
    fn path_probability(&self, graph: &Graph, path: &Path, now: Timestamp) -> f64 {
        path.hops
            .iter()
            .map(|h| self.success_probability(graph, h.edge, h.amount_msat, now))
            .product()
    }
}
