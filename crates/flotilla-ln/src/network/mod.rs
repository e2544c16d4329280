//! Many [`Node`]s, one per graph node: the simulator's view of a whole network.
//!
//! `Network` owns no protocol state of its own. It holds the nodes and carries what the
//! collapsed commitment model says happens at delivery, and what a simulator may see
//! that no node can:
//! - [`Network::deliver`] hands a message to its receiving node; in the collapsed
//!   commitment mode, when the message is a fulfil or fail, the sending node learns it
//!   took effect at the same instant ([`Node::removal_delivered`]): the collapsed mode's
//!   lock-in. In the full mode the nodes exchange `commitment_signed` and
//!   `revoke_and_ack` themselves ([`crate::node::CommitMode`]).
//! - [`Network::fire`] fires a node's timer; an HTLC timed out on chain is seen by both
//!   its nodes at the same block.
//! - Commands go to the node they concern ([`Network::send`] to the path's source, …).
//! - The liquidity each HTLC locks is charged to the sender's part it carries, whichever
//!   node resolved it (bookkeeping through the [`crate::msg::PartTrace`] every add
//!   carries).
//! - A `boomerang_refund` (a reverse clause claimed hop by hop, see
//!   `crate::node::Node::claim_reverse`) is settled at both ends when it is delivered, in
//!   both modes; a hop that cannot pay it refuses, and its claimant learns.
//! - [`Network::check_invariants`] checks every node's books and that the two ends of
//!   every channel agree.
//!
//! The event loop around it (`flotilla-sim`) decides when every message arrives: every
//! message a node emits goes through the simulator's event queue. Driver misuse (a
//! message between nodes that share no channel, for an HTLC that does not exist) is a
//! typed [`PeerError`] that changes nothing.

mod invariants;

pub use crate::node::{HtlcCounters, NodeLedger, PeerError};
pub use invariants::InvariantError;

use std::sync::Arc;
use std::time::Duration;

use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use flotilla_graph::liquidity::Balances;
use flotilla_graph::{EdgeIdx, Graph, NodeIdx};

use crate::boomerang::PointMemo;
use crate::channel::EdgeState;
use crate::clock::Clock;
use crate::config::{apply_policy_overrides, Behaviour, ConfigError, NodeConfig};
use crate::htlc::HtlcId;
use crate::invoice::node_key_from_seed;
use crate::msg::{HtlcRef, Msg, PartTrace, UpdateAddHtlc};
use crate::node::{CommitMode, Directory, Node, VerifiedClaims};
use crate::onion::{Onion, OnionMode};
use crate::output::{Output, Timer};
use crate::receiver::{InvoiceRecord, Receiver, RegisterError};
use crate::redundant::{RedundantInvoice, RedundantSendPart, RevealError};
use crate::sender::{PartId, SendError, SendPart};
use crate::{PaymentHash, PaymentPreimage, PaymentSecret};

/// Why a network cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// Balances are not one per directed edge summing to each capacity.
    #[error("balances do not fit the graph")]
    BalancesDoNotFit,
    /// Not one config per node.
    #[error("{configs} node configs for {nodes} nodes")]
    ConfigCount {
        /// Given.
        configs: usize,
        /// Nodes in the graph.
        nodes: usize,
    },
    /// A node's config breaks a BOLT 2 bound.
    #[error("node {node}: {error}")]
    Config {
        /// The node.
        node: u32,
        /// What is wrong.
        error: ConfigError,
    },
}

/// A simulated network: one [`Node`] per graph node. See the module documentation.
#[derive(Clone, Debug)]
pub struct Network {
    dir: Arc<Directory>,
    nodes: Vec<Node>,
    /// Lock times resolved in the step being handled, to charge to their parts.
    lock_log: Vec<(PartTrace, u128)>,
    commit_mode: CommitMode,
}

impl Network {
    /// A network over `graph` starting from `balances`, with one config per node.
    /// Policy overrides in the configs are applied to the graph the nodes forward by
    /// ([`Network::graph`]).
    pub fn new(
        graph: Arc<Graph>,
        balances: Balances,
        configs: Vec<NodeConfig>,
    ) -> Result<Self, NetworkError> {
        if configs.len() != graph.node_count() {
            return Err(NetworkError::ConfigCount {
                configs: configs.len(),
                nodes: graph.node_count(),
            });
        }
        for (i, c) in configs.iter().enumerate() {
            c.validate().map_err(|error| NetworkError::Config {
                node: i as u32,
                error,
            })?;
        }
        if !balances.fits(&graph) {
            return Err(NetworkError::BalancesDoNotFit);
        }
        let graph = match apply_policy_overrides(&graph, &configs) {
            Some(g) => Arc::new(g),
            None => graph,
        };
        let dir = Arc::new(Directory::new(graph));
        let mut nodes = Node::build_all(&dir, &configs, &balances);
        let claims = VerifiedClaims::shared(None);
        for n in &mut nodes {
            n.share_verified_claims(claims.clone());
        }
        Ok(Network {
            dir,
            nodes,
            lock_log: Vec::new(),
            commit_mode: CommitMode::Collapsed,
        })
    }

    /// A network where every node has [`NodeConfig::default`].
    pub fn with_default_configs(
        graph: Arc<Graph>,
        balances: Balances,
    ) -> Result<Self, NetworkError> {
        let configs = vec![NodeConfig::default(); graph.node_count()];
        Self::new(graph, balances, configs)
    }

    /// Switches to real BOLT 4 onions. Node `i` gets the key
    /// `invoice::node_key_from_seed(seed + i)` (the graph's own keys have no known
    /// secrets); session keys are derived from the seed too, so runs stay deterministic.
    /// Costs one key derivation per node.
    pub fn enable_real_onions(&mut self, seed: u64) {
        let secp = Secp256k1::signing_only();
        let secrets: Vec<SecretKey> = (0..self.nodes.len())
            .map(|i| node_key_from_seed(seed.wrapping_add(i as u64)))
            .collect();
        let pubkeys: Vec<PublicKey> = secrets.iter().map(|k| k.public_key(&secp)).collect();
        let dir = Arc::new((*self.dir).clone().with_onion_pubkeys(pubkeys));
        for (n, k) in self.nodes.iter_mut().zip(secrets) {
            n.enable_real_onions(k, seed, dir.clone());
        }
        self.dir = dir;
    }

    /// Back to modeled onions (HTLCs in flight keep the form they were sent with).
    pub fn use_modeled_onions(&mut self) {
        for n in &mut self.nodes {
            n.use_modeled_onions();
        }
    }

    /// The onion form new parts are sent with.
    pub fn onion_mode(&self) -> OnionMode {
        self.nodes
            .first()
            .map(|n| n.onion_mode())
            .unwrap_or(OnionMode::Modeled)
    }

    /// The public key node `n` uses for real onions, once enabled.
    pub fn onion_pubkey(&self, n: NodeIdx) -> Option<PublicKey> {
        self.dir.onion_pubkey(n)
    }

    /// Sets how every node locks updates in (see [`crate::node::CommitMode`]); set it
    /// before anything is sent.
    pub fn set_commit_mode(&mut self, mode: CommitMode) {
        self.commit_mode = mode;
        for n in &mut self.nodes {
            n.set_commit_mode(mode);
        }
    }

    /// How updates are locked in.
    pub fn commit_mode(&self) -> CommitMode {
        self.commit_mode
    }

    /// Sets how long a block takes, to turn CLTV expiries into timer times (default
    /// 600 s).
    pub fn set_block_interval(&mut self, interval: Duration) {
        for n in &mut self.nodes {
            n.set_block_interval(interval);
        }
    }

    /// Shares verified point-lock claims with other networks through `memo`.
    pub fn share_point_memo(&mut self, memo: Arc<PointMemo>) {
        let claims = VerifiedClaims::shared(Some(memo));
        for n in &mut self.nodes {
            n.share_verified_claims(claims.clone());
        }
    }

    /// The graph the nodes forward by (policy overrides applied): give it to routers
    /// that should see the same policies.
    pub fn graph(&self) -> &Arc<Graph> {
        self.dir.graph()
    }

    /// The nodes.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// One node.
    pub fn node(&self, n: NodeIdx) -> &Node {
        &self.nodes[n.ix()]
    }

    /// One node, to drive by hand (tests, adversaries). Whatever it emits is the
    /// caller's to carry; lock times it resolves are charged at the next step.
    pub fn node_mut(&mut self, n: NodeIdx) -> &mut Node {
        &mut self.nodes[n.ix()]
    }

    /// A node's settings.
    pub fn config(&self, n: NodeIdx) -> &NodeConfig {
        self.nodes[n.ix()].config()
    }

    /// Takes a node offline or brings it back; its peers see it go or come.
    pub fn set_online(&mut self, n: NodeIdx, online: bool) {
        self.nodes[n.ix()].set_online(online);
        let edges: Vec<(NodeIdx, EdgeIdx)> = self.nodes[n.ix()]
            .ends()
            .iter()
            .map(|e| (e.peer, e.out_edge().reverse()))
            .collect();
        for (peer, e) in edges {
            let end = self.dir.end_of(e);
            self.nodes[peer.ix()].set_peer_online(end, online);
        }
    }

    /// Changes how a node treats HTLCs from now on.
    pub fn set_behaviour(&mut self, n: NodeIdx, behaviour: Behaviour) {
        self.nodes[n.ix()].set_behaviour(behaviour);
    }

    /// Makes `node` expect a payment.
    pub fn register_invoice(
        &mut self,
        node: NodeIdx,
        payment_hash: PaymentHash,
        invoice: InvoiceRecord,
    ) -> Result<(), RegisterError> {
        self.nodes[node.ix()].register_invoice(payment_hash, invoice)
    }

    /// Stops `node` expecting a payment (e.g. an invoice the workload gave up on), so its
    /// record does not stay in memory. A later HTLC for it is refused as unknown.
    pub fn cancel_invoice(&mut self, node: NodeIdx, payment_hash: &PaymentHash) -> bool {
        self.nodes[node.ix()].cancel_invoice(payment_hash)
    }

    /// Makes `node` expect a redundant payment.
    pub fn register_redundant(
        &mut self,
        node: NodeIdx,
        invoice: RedundantInvoice,
    ) -> Result<(), RegisterError> {
        self.nodes[node.ix()].register_redundant(invoice)
    }

    /// Makes `node` expect a `boomerang` payment of A in k = `polynomial.degree()`
    /// equal parts.
    pub fn register_boomerang(
        &mut self,
        node: NodeIdx,
        invoice: RedundantInvoice,
        polynomial: crate::boomerang::BoomerangPolynomial,
    ) -> Result<(), RegisterError> {
        self.nodes[node.ix()].register_boomerang(invoice, polynomial)
    }

    /// A node's receiving state.
    pub fn receiver(&self, n: NodeIdx) -> &Receiver {
        self.nodes[n.ix()].receiver()
    }

    /// One direction's state as its source knows it: its balance and the HTLCs it
    /// offered.
    pub fn edge_state(&self, e: EdgeIdx) -> &EdgeState {
        let src = self.dir.graph().edge_source(e);
        &self.nodes[src.ix()].ends()[self.dir.end_of(e)].local
    }

    /// Every direction's balance as its source knows it.
    pub fn balances(&self) -> Balances {
        let g = self.dir.graph();
        Balances::from_vec(
            (0..g.edge_slots())
                .map(|e| self.edge_state(EdgeIdx(e as u32)).balance_msat)
                .collect(),
        )
    }

    /// Live HTLCs: each counted once, at its offerer.
    pub fn live_htlcs(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| n.htlcs().filter(|(_, h)| h.is_offered()).count())
            .sum()
    }

    /// Counts of HTLCs added and resolved, over every node.
    pub fn counters(&self) -> HtlcCounters {
        let mut c = HtlcCounters::default();
        for n in &self.nodes {
            c += n.counters();
        }
        c
    }

    /// A node's money flows.
    pub fn ledger(&self, n: NodeIdx) -> &NodeLedger {
        self.nodes[n.ix()].ledger()
    }

    /// Fees a node earned forwarding, msat.
    pub fn fees_earned(&self, n: NodeIdx) -> u64 {
        self.nodes[n.ix()].ledger().fees_earned_msat
    }

    /// Starts a payment part at the path's source (see [`Node::send_part`]).
    pub fn send(
        &mut self,
        part: SendPart<'_>,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<HtlcId, SendError> {
        let src = self.source_of(part.path)?;
        self.nodes[src.ix()].send_part(part, clock, out)
    }

    /// Starts a part with an onion the caller built (see [`Node::send_custom`]).
    pub fn send_custom(
        &mut self,
        id: PartId,
        path: &flotilla_route::Path,
        payment_hash: PaymentHash,
        onion: Onion,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<HtlcId, SendError> {
        let src = self.source_of(path)?;
        self.nodes[src.ix()].send_custom(id, path, payment_hash, onion, clock, out)
    }

    /// Starts a redundant part at the path's source (see [`Node::send_redundant`]).
    pub fn send_redundant(
        &mut self,
        part: RedundantSendPart<'_>,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<HtlcId, SendError> {
        let src = self.source_of(part.part.path)?;
        self.nodes[src.ix()].send_redundant(part, clock, out)
    }

    fn source_of(&self, path: &flotilla_route::Path) -> Result<NodeIdx, SendError> {
        let first = path.hops.first().ok_or(SendError::EmptyPath)?;
        if first.edge.ix() >= self.dir.graph().edge_slots() {
            return Err(SendError::UnknownEdge(0));
        }
        Ok(self.dir.graph().edge_source(first.edge))
    }

    /// Hands a message from `from` to `to`. A fulfil or fail takes effect at both ends:
    /// `from` learns it was applied (collapsed mode). On error nothing changed.
    pub fn deliver(
        &mut self,
        to: NodeIdx,
        from: NodeIdx,
        msg: Msg,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<(), PeerError> {
        let n = self.nodes.len();
        if to.ix() >= n || from.ix() >= n {
            return Err(PeerError::Unexpected(
                "message to or from a node outside the graph",
            ));
        }
        let removal = match &msg {
            Msg::FulfillHtlc(m) => Some((m.htlc, true)),
            Msg::FailHtlc(m) => Some((m.htlc, false)),
            Msg::FailMalformedHtlc(m) => Some((m.htlc, false)),
            _ => None,
        };
        if let Msg::BoomerangRefund(m) = &msg {
            // Settled on delivery in both modes; a claim the peer cannot pay (no
            // collateral in this model) or that lapsed is an outcome, not a fault.
            let (h, amount) = (m.htlc, m.amount_msat);
            return match self.nodes[to.ix()].handle_message(from, msg, clock, out) {
                Ok(()) => {
                    self.nodes[from.ix()].refund_delivered(h, amount, out);
                    Ok(())
                }
                Err(PeerError::RefundUnfunded(_) | PeerError::RefundLapsed(_)) => {
                    self.nodes[from.ix()].refund_refused(h, out);
                    Ok(())
                }
                Err(e) => Err(e),
            };
        }
        self.nodes[to.ix()].handle_message(from, msg, clock, out)?;
        if let Some((h, fulfilled)) = removal {
            // Full mode: the sending node settles its books on the peer's
            // acknowledgement instead.
            if self.commit_mode == CommitMode::Collapsed {
                self.nodes[from.ix()].removal_delivered(h, fulfilled);
            }
        }
        self.settle_lock_log(to);
        Ok(())
    }

    /// Fires `node`'s timer. An HTLC expiry is seen by both of the HTLC's nodes (the
    /// offerer times it out on chain; the holder sees it gone). A timer whose subject has
    /// gone is ignored.
    pub fn fire(&mut self, node: NodeIdx, timer: Timer, clock: &Clock, out: &mut Vec<Output>) {
        if node.ix() >= self.nodes.len() {
            return;
        }
        let holder = match &timer {
            Timer::HtlcExpiry { htlc } => self.nodes[node.ix()]
                .htlc_by_wire(*htlc, true)
                .and_then(|id| self.nodes[node.ix()].htlc(id))
                .map(|h| (self.dir.graph().edge_target(h.edge), h.wire)),
            _ => None,
        };
        self.nodes[node.ix()].handle_timer(timer, clock, out);
        if let Some((peer, wire)) = holder {
            self.nodes[peer.ix()].peer_timed_out(wire);
        }
        self.settle_lock_log(node);
    }

    /// Charges the lock times `node` resolved to their parts at their senders.
    fn settle_lock_log(&mut self, node: NodeIdx) {
        self.nodes[node.ix()].drain_lock_log(&mut self.lock_log);
        for (t, v) in self.lock_log.drain(..) {
            if let Some(s) = self.nodes.get_mut(t.sender as usize) {
                s.charge_part(t.slot, t.seq, v);
            }
        }
    }

    /// `receiver` applies a cancel of `payment_id` at once (what the cancel message does
    /// when it arrives; see [`Node::apply_cancel`]). Returns how many held parts failed.
    pub fn cancel_redundant(
        &mut self,
        receiver: NodeIdx,
        payment_id: [u8; 32],
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> usize {
        self.nodes[receiver.ix()].apply_cancel(payment_id, clock, out)
    }

    /// `receiver` applies the sender's secrets at once (what the reveal message does
    /// when it arrives; see [`Node::apply_reveal`]).
    pub fn reveal_secrets(
        &mut self,
        receiver: NodeIdx,
        payment_id: [u8; 32],
        secrets: Vec<(u16, [u8; 32])>,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<(), RevealError> {
        self.nodes[receiver.ix()].apply_reveal(payment_id, secrets, clock, out)
    }

    /// `node` claims an HTLC it holds as a redundant part, outside the reveal flow (see
    /// [`Node::claim_held`]).
    pub fn claim_held(
        &mut self,
        node: NodeIdx,
        htlc: HtlcId,
        preimage: PaymentPreimage,
        sender_secret: Option<[u8; 32]>,
        out: &mut Vec<Output>,
    ) -> Result<(), PeerError> {
        self.nodes[node.ix()].claim_held(htlc, preimage, sender_secret, out)
    }

    /// The parts `node` holds for the payment with `secret`.
    pub fn held_parts(&self, node: NodeIdx, secret: &PaymentSecret) -> usize {
        self.nodes[node.ix()].held_parts(secret)
    }

    /// `sender` asks the first hop of its part `part` to stop it (`cancel_htlc`, see
    /// [`Node::cancel_part`]). Returns whether a cancel went out.
    pub fn cancel_part(&mut self, sender: NodeIdx, part: PartId, out: &mut Vec<Output>) -> bool {
        self.nodes[sender.ix()].cancel_part(part, out)
    }

    /// What `cancel_htlc` messages did, over every node.
    pub fn cancel_counters(&self) -> crate::node::CancelCounters {
        let mut c = crate::node::CancelCounters::default();
        for n in &self.nodes {
            c += n.cancel_counters();
        }
        c
    }

    /// The sender's part an add carries, while the part is in flight.
    pub fn part_of(&self, add: &UpdateAddHtlc) -> Option<PartId> {
        let t = add.trace;
        self.nodes
            .get(t.sender as usize)
            .and_then(|n| n.part_id(t.slot, t.seq))
    }

    /// `node` short-circuits a forward it has not delivered (see
    /// [`Node::short_circuit_forward`]).
    pub fn short_circuit_forward(
        &mut self,
        node: NodeIdx,
        outgoing: HtlcRef,
        preimage: PaymentPreimage,
        out: &mut Vec<Output>,
    ) -> Result<(), PeerError> {
        let r = self.nodes[node.ix()].short_circuit_forward(outgoing, preimage, out);
        self.settle_lock_log(node);
        r
    }
}

/// `Network` crosses threads (parallel simulation arms).
const _: () = {
    const fn is<T: Send + Sync>() {}
    is::<Network>();
};
