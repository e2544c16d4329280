//! The question a sender asks a router, and why it may have no answer.

use flotilla_graph::{EdgeIdx, NodeIdx};

/// What the sender is willing to accept. Every router and splitter honours every limit.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Most the sender pays in fees over all parts, msat.
    pub max_fee_msat: u64,
    /// Most blocks the first HTLC of a path may lock funds for (BOLT 4 recommends at
    /// most 2016, two weeks).
    pub max_total_cltv: u32,
    /// Most parts a payment is split into; 1 means a single path.
    pub max_parts: u32,
    /// No part carries less than this, msat (except a single-path payment smaller than it).
    pub min_part_msat: u64,
    /// Most hops a path may have (BOLT 4 onions carry about 20 with today's payloads).
    pub max_path_len: u8,
    /// Channel directions not to use (e.g. ones that failed this payment).
    pub excluded_edges: Vec<EdgeIdx>,
    /// Nodes not to route through (the sender and receiver cannot be excluded).
    pub excluded_nodes: Vec<NodeIdx>,
}

impl Limits {
    /// LDK's default fee limit: 1% of the amount plus 50 sat.
    pub fn default_max_fee_msat(amount_msat: u64) -> u64 {
        amount_msat / 100 + 50_000
    }

    /// Defaults for a payment of `amount_msat`: LDK's fee limit, 2016 blocks, a single
    /// path, 20 hops.
    pub fn for_amount(amount_msat: u64) -> Self {
        Limits {
            max_fee_msat: Self::default_max_fee_msat(amount_msat),
            max_total_cltv: 2016,
            max_parts: 1,
            min_part_msat: 10_000_000,
            max_path_len: 20,
            excluded_edges: Vec::new(),
            excluded_nodes: Vec::new(),
        }
    }
}

/// A routing question.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteRequest {
    /// The sender.
    pub source: NodeIdx,
    /// The receiver.
    pub target: NodeIdx,
    /// Amount to deliver, msat.
    pub amount_msat: u64,
    /// CLTV delta the receiver requires on its HTLC (the invoice's
    /// `min_final_cltv_expiry_delta`).
    pub final_cltv_delta: u32,
    /// What the sender accepts.
    pub limits: Limits,
    /// The sender's own outgoing channel directions with the largest HTLC each can
    /// offer now, msat (balance above the peer's reserve, within its in-flight cap and
    /// HTLC slots; 0 when the peer is offline). A real node knows these exactly, so a
    /// router never picks a first hop that cannot carry its part. `None`: unknown, the
    /// router's beliefs decide, as for any other channel.
    pub first_hops: Option<Vec<(EdgeIdx, u64)>>,
}

impl RouteRequest {
    /// A single-path request with default limits and an 18-block final delta (BOLT 11's
    /// default `min_final_cltv_expiry_delta`).
    pub fn new(source: NodeIdx, target: NodeIdx, amount_msat: u64) -> Self {
        RouteRequest {
            source,
            target,
            amount_msat,
            final_cltv_delta: 18,
            limits: Limits::for_amount(amount_msat),
            first_hops: None,
        }
    }
}

/// Why a router has no answer. Each names what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// Asked to pay zero.
    #[error("amount must be greater than zero")]
    ZeroAmount,
    /// Sender and receiver are the same node.
    #[error("sender and receiver are the same node")]
    SameNode,
    /// A node index outside the graph.
    #[error("node index {0} is not in the graph")]
    UnknownNode(u32),
    /// The amount exceeds what the receiver's channels can possibly take.
    #[error("amount {amount_msat} msat exceeds the {capacity_msat} msat the receiver's enabled channels can carry")]
    AmountAboveCapacity {
        /// Asked.
        amount_msat: u64,
        /// Upper bound.
        capacity_msat: u64,
    },
    /// Limits that no route can satisfy (e.g. zero parts, a zero-hop path length).
    #[error("impossible limits: {0}")]
    ImpossibleLimits(String),
    /// No path satisfies the request.
    #[error("no route from sender to receiver for {amount_msat} msat: {reason}")]
    NoRoute {
        /// Asked.
        amount_msat: u64,
        /// What stood in the way (unreachable, fees, CLTV, liquidity beliefs, …).
        reason: String,
    },
}
