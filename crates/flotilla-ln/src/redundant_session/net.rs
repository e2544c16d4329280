//! What a redundant session needs from the nodes it sends through: the graph it routes
//! on, the sender's first hops, and the sender's node to launch a part or cancel one.
//!
//! The simulator's [`Network`] holds every node; a live daemon holds one [`Node`] and
//! the graph its payment started on ([`LiveSender`]). Both drive the same
//! [`super::RedundantSession`], so there is one redundant sender.

use std::sync::Arc;

use flotilla_graph::{EdgeIdx, Graph, NodeIdx};

use crate::clock::Clock;
use crate::htlc::HtlcId;
use crate::network::Network;
use crate::node::Node;
use crate::output::Output;
use crate::redundant::RedundantSendPart;
use crate::sender::{PartId, SendError};

/// The sender's view of the network a [`super::RedundantSession`] drives.
pub trait SenderNet {
    /// The graph the session routes on (indices stay valid as a live directory grows).
    fn graph(&self) -> &Arc<Graph>;
    /// What `source`'s own channels can send now (see [`Node::first_hops`]).
    fn first_hops(&self, source: NodeIdx) -> Vec<(EdgeIdx, u64)>;
    /// Launches a part at its path's first hop (see [`Node::send_redundant`]).
    fn send_redundant(
        &mut self,
        part: RedundantSendPart<'_>,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<HtlcId, SendError>;
    /// `sender` asks the first hop of `part` to stop it (see [`Node::cancel_part`]).
    fn cancel_part(&mut self, sender: NodeIdx, part: PartId, out: &mut Vec<Output>) -> bool;
}

impl SenderNet for Network {
    fn graph(&self) -> &Arc<Graph> {
        Network::graph(self)
    }
    fn first_hops(&self, source: NodeIdx) -> Vec<(EdgeIdx, u64)> {
        self.node(source).first_hops()
    }
    fn send_redundant(
        &mut self,
        part: RedundantSendPart<'_>,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<HtlcId, SendError> {
        Network::send_redundant(self, part, clock, out)
    }
    fn cancel_part(&mut self, sender: NodeIdx, part: PartId, out: &mut Vec<Output>) -> bool {
        Network::cancel_part(self, sender, part, out)
    }
}

/// One live node as a [`SenderNet`]: the node itself, routed over the graph its
/// payment started on.
pub struct LiveSender<'a> {
    /// The sender's node.
    pub node: &'a mut Node,
    /// The graph the payment routes on.
    pub graph: &'a Arc<Graph>,
}

impl SenderNet for LiveSender<'_> {
    fn graph(&self) -> &Arc<Graph> {
        self.graph
    }
    fn first_hops(&self, _source: NodeIdx) -> Vec<(EdgeIdx, u64)> {
        self.node.first_hops()
    }
    fn send_redundant(
        &mut self,
        part: RedundantSendPart<'_>,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<HtlcId, SendError> {
        self.node.send_redundant(part, clock, out)
    }
    fn cancel_part(&mut self, _sender: NodeIdx, part: PartId, out: &mut Vec<Output>) -> bool {
        self.node.cancel_part(part, out)
    }
}
