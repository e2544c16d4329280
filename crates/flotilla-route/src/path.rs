//! A payment path with per-hop amounts and CLTV expiries, as the onion carries them.

use flotilla_graph::{EdgeIdx, Graph, NodeIdx};

/// One hop: the HTLC that travels over one channel direction.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Hop {
    /// The channel direction the HTLC travels over.
    pub edge: EdgeIdx,
    /// The HTLC amount on this channel, msat: what the hop's far node receives. On the
    /// last hop it is the amount delivered; on earlier hops it includes the fees of
    /// every later forwarder.
    pub amount_msat: u64,
    /// The HTLC's CLTV expiry on this channel, in blocks above the current height at
    /// send time (the onion's `outgoing_cltv_value` is `height + cltv_expiry`).
    pub cltv_expiry: u32,
}

/// A path from a sender to a receiver.
///
/// Fees and CLTV deltas accumulate backwards from the destination: the node at the far
/// end of `hops[i]` forwards over `hops[i + 1]` and charges its own policy's fee on
/// `hops[i + 1].amount_msat` (BOLT 7: `base + amount × ppm / 1e6`, rounded down) and
/// adds its policy's `cltv_expiry_delta`. The sender's own first channel charges
/// nothing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path {
    /// The hops, sender side first. Never empty.
    pub hops: Vec<Hop>,
}

/// Why a sequence of edges is not a usable path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// No edges.
    #[error("a path needs at least one hop")]
    Empty,
    /// An edge has no announced policy.
    #[error("hop {hop}: channel direction has no policy")]
    NoPolicy {
        /// Index of the hop.
        hop: usize,
    },
    /// Consecutive edges do not share a node.
    #[error("hop {hop} does not start where hop {} ends", hop - 1)]
    NotContiguous {
        /// Index of the hop.
        hop: usize,
    },
    /// Amounts or CLTVs overflowed.
    #[error("hop {hop}: amount or CLTV overflows")]
    Overflow {
        /// Index of the hop.
        hop: usize,
    },
}

impl Path {
    /// Builds the path that delivers `amount_msat` over `edges` with `final_cltv_delta`
    /// blocks at the receiver, computing every hop's amount and expiry backwards.
    pub fn build(
        graph: &Graph,
        edges: &[EdgeIdx],
        amount_msat: u64,
        final_cltv_delta: u32,
    ) -> Result<Path, PathError> {
        if edges.is_empty() {
            return Err(PathError::Empty);
        }
        for (i, w) in edges.windows(2).enumerate() {
            if graph.edge_target(w[0]) != graph.edge_source(w[1]) {
                return Err(PathError::NotContiguous { hop: i + 1 });
            }
        }
        let mut hops = vec![
            Hop {
                edge: edges[0],
                amount_msat: 0,
                cltv_expiry: 0
            };
            edges.len()
        ];
        let mut amount = amount_msat;
        let mut cltv = final_cltv_delta;
        for i in (0..edges.len()).rev() {
            if graph.policy(edges[i]).is_none() {
                return Err(PathError::NoPolicy { hop: i });
            }
            hops[i] = Hop {
                edge: edges[i],
                amount_msat: amount,
                cltv_expiry: cltv,
            };
            if i > 0 {
                // The node before this hop charges for forwarding over it.
                let p = graph
                    .policy(edges[i])
                    .ok_or(PathError::NoPolicy { hop: i })?;
                amount = amount
                    .checked_add(p.fee_msat(amount))
                    .ok_or(PathError::Overflow { hop: i })?;
                cltv = cltv
                    .checked_add(p.cltv_expiry_delta as u32)
                    .ok_or(PathError::Overflow { hop: i })?;
            }
        }
        Ok(Path { hops })
    }

    /// The amount delivered to the receiver, msat.
    pub fn amount_msat(&self) -> u64 {
        self.hops.last().map(|h| h.amount_msat).unwrap_or(0)
    }

    /// The amount the sender puts in, msat (delivered amount plus fees).
    pub fn sent_msat(&self) -> u64 {
        self.hops.first().map(|h| h.amount_msat).unwrap_or(0)
    }

    /// Total fees paid to forwarders, msat.
    pub fn fee_msat(&self) -> u64 {
        self.sent_msat() - self.amount_msat()
    }

    /// The CLTV expiry of the first HTLC, blocks above the current height: the
    /// longest the sender's funds can be locked.
    pub fn total_cltv(&self) -> u32 {
        self.hops.first().map(|h| h.cltv_expiry).unwrap_or(0)
    }

    /// The fee the node at the far end of hop `i` earns for forwarding over hop `i+1`.
    pub fn hop_fee_msat(&self, i: usize) -> u64 {
        match self.hops.get(i + 1) {
            Some(next) => self.hops[i].amount_msat - next.amount_msat,
            None => 0,
        }
    }

    /// The sender.
    pub fn source(&self, graph: &Graph) -> NodeIdx {
        graph.edge_source(self.hops[0].edge)
    }

    /// The receiver.
    pub fn target(&self, graph: &Graph) -> NodeIdx {
        graph.edge_target(self.hops[self.hops.len() - 1].edge)
    }

    /// The nodes visited after the sender, in order; the last is the receiver.
    pub fn nodes<'a>(&'a self, graph: &'a Graph) -> impl Iterator<Item = NodeIdx> + 'a {
        self.hops.iter().map(move |h| graph.edge_target(h.edge))
    }
}
