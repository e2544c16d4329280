//! One node's complete protocol state, as a sans-IO state machine.
//!
//! A [`Node`] owns everything one Lightning node knows and nothing else: its identity
//! and settings, its end of each of its channels ([`ChannelEnd`]: both balances as it
//! knows them, the HTLCs each side offered, the limits each side set), every HTLC it
//! offered or accepted (keyed by channel and per-channel id, as BOLT 2 names them),
//! its receiver books (invoices, MPP sets, redundant parts held) and its own payment
//! parts in flight. The only thing it shares is a read-only [`Directory`]: the public
//! graph with its policies (what gossip tells every node), its short channel ids, and,
//! for real onions, every node's public key.
//!
//! Entry points, after quinn-proto's `Connection`:
//! - what arrives: [`Node::handle_message`] (a peer's message or an endpoint message)
//!   and [`Node::handle_timer`], each with the current [`Clock`];
//! - commands from the node's user: [`Node::send_part`], [`Node::send_redundant`],
//!   [`Node::register_invoice`], [`Node::reveal`], [`Node::cancel_payment`], …;
//! - each appends what the driver must do to an `out` vector it owns and reuses:
//!   messages to carry, timers to set, events for the user ([`Output`]).
//!
//! Nothing here reads a clock, sleeps, opens a socket or spawns: the simulator
//! ([`crate::network::Network`] and the event loop around it) and the live daemon are
//! two drivers of the same machine.
//!
//! **Commitment.** An update takes effect in one message (the collapsed mode): an add
//! locks the offerer's value when it is sent and is acted on by the peer when it
//! arrives; a fulfil or fail takes effect at both ends when it is delivered — the
//! driver tells the sending end with [`Node::removal_delivered`] — so the value stays
//! locked while it travels, which is what liquidity-seconds measure.
//!
//! **A misbehaving peer** (a message for an unknown HTLC, a fulfil with the wrong
//! preimage, an add that breaks the channel's limits) gets a [`PeerError`] and the node's
//! state is unchanged.
//!
//! One file per step: `send.rs` starts parts, `arrive.rs` handles `update_add_htlc`,
//! `resolve.rs` fulfils and fails, `redundant.rs` the redundant payment's endpoint
//! messages, `observe.rs` what a driver may look at.

mod arrive;
mod cancel_part;
mod commitment;
mod end;
mod live;
mod observe;
mod point_claims;
mod redundant;
mod resolve;
mod reverse;
mod send;

pub use cancel_part::CancelCounters;
pub use commitment::{CommitMode, CommitState};
pub use end::{ChannelEnd, ChannelRules};
pub use live::GrowError;
pub use point_claims::{SharedClaims, VerifiedClaims};
pub use reverse::ReverseBook;

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::Arc;
use std::time::Duration;

use bitcoin::secp256k1::{PublicKey, SecretKey};
use flotilla_graph::liquidity::Balances;
use flotilla_graph::{ChannelIdx, Direction, EdgeIdx, Graph, NodeIdx};
use flotilla_route::Timestamp;

use crate::clock::Clock;
use crate::config::{Behaviour, NodeConfig};
use crate::failure::{FailureCode, FailureData};
use crate::forward::{ScidHasher, ScidIndex};
use crate::htlc::{Htlc, HtlcId, HtlcSlab, HtlcState};
use crate::msg::{EndpointMsg, HtlcRef, Msg, PartTrace};
use crate::onion::real::SharedSecret;
use crate::onion::OnionMode;
use crate::output::{Output, Timer};
use crate::receiver::{InvoiceRecord, Receiver, RegisterError};
use crate::sender::SentPart;
use crate::PaymentHash;

/// What every node knows of the public network: the graph with its policies (policy
/// overrides applied), its short channel ids, where each channel sits among its nodes'
/// channel ends, and, for real onions, every node's public key. Read-only and shared.
#[derive(Clone, Debug)]
pub struct Directory {
    graph: Arc<Graph>,
    scids: ScidIndex,
    /// For each directed edge: the index of its channel among the edge source's ends.
    end_of_edge: Vec<u32>,
    onion_pubkeys: Option<Vec<PublicKey>>,
}

impl Directory {
    /// The directory of `graph`.
    pub fn new(graph: Arc<Graph>) -> Self {
        let mut end_of_edge = vec![u32::MAX; graph.edge_slots()];
        let mut degree = vec![0u32; graph.node_count()];
        for (i, c) in graph.channels().iter().enumerate() {
            for d in Direction::BOTH {
                let n = c.from_node(d).ix();
                end_of_edge[ChannelIdx(i as u32).edge(d).ix()] = degree[n];
                degree[n] += 1;
            }
        }
        Directory {
            scids: ScidIndex::new(&graph),
            graph,
            end_of_edge,
            onion_pubkeys: None,
        }
    }

    /// Adds every node's public key for real onions.
    pub fn with_onion_pubkeys(mut self, keys: Vec<PublicKey>) -> Self {
        self.onion_pubkeys = Some(keys);
        self
    }

    /// The graph.
    pub fn graph(&self) -> &Arc<Graph> {
        &self.graph
    }

    /// The short channel id index.
    pub fn scids(&self) -> &ScidIndex {
        &self.scids
    }

    /// The index, among the ends of `e`'s source, of `e`'s channel.
    #[inline]
    pub fn end_of(&self, e: EdgeIdx) -> usize {
        self.end_of_edge[e.ix()] as usize
    }

    /// A node's public key for real onions, once given.
    pub fn onion_pubkey(&self, n: NodeIdx) -> Option<PublicKey> {
        self.onion_pubkeys.as_ref().map(|k| k[n.ix()])
    }
}

/// Why a peer's message was refused. The node's state is unchanged; a live node answers
/// with a BOLT 1 `warning` or `error` and may disconnect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerError {
    /// The message names a channel this node does not have with that peer.
    #[error("{msg} over channel {channel}, which node {node} does not share with peer {peer}")]
    UnknownChannel {
        /// Message type.
        msg: &'static str,
        /// The channel named.
        channel: u32,
        /// This node.
        node: u32,
        /// The peer.
        peer: u32,
    },
    /// The message names an HTLC this node does not hold (never did, or resolved).
    #[error("{msg} for an unknown HTLC {htlc:?}")]
    UnknownHtlc {
        /// Message type.
        msg: &'static str,
        /// The HTLC named.
        htlc: HtlcRef,
    },
    /// An add reuses an id the peer used before on this channel (a replay).
    #[error("update_add_htlc reuses HTLC id {0:?}")]
    DuplicateHtlc(HtlcRef),
    /// Full mode: an add whose id is not the next one the peer owes (BOLT 2 ids go up
    /// by one per add, and a link in full mode delivers in order, so a gap, a jump or a
    /// replay is a broken or hostile peer).
    #[error("update_add_htlc {htlc:?} out of order: id {expected} was next")]
    AddOutOfOrder {
        /// The HTLC.
        htlc: HtlcRef,
        /// The id the peer owed.
        expected: u64,
    },
    /// The HTLC is not in a state where this message makes sense (e.g. removed twice).
    #[error("{msg} for HTLC {htlc:?} in state {state:?}")]
    WrongState {
        /// Message type.
        msg: &'static str,
        /// The HTLC.
        htlc: HtlcRef,
        /// Its state.
        state: HtlcState,
    },
    /// An add that breaks the channel's limits.
    #[error("update_add_htlc {htlc:?} breaks the channel's limits: {error}")]
    AddRefused {
        /// The HTLC.
        htlc: HtlcRef,
        /// Which limit.
        error: crate::channel::AddError,
    },
    /// A fulfil whose preimage does not open the HTLC's lock.
    #[error("preimage does not open HTLC {0:?}")]
    WrongPreimage(HtlcRef),
    /// An `h2tlc` fulfil without the sender secret, or with one that does not hash to
    /// the HTLC's second hash.
    #[error("sender secret missing or wrong for HTLC {0:?}")]
    WrongSenderSecret(HtlcRef),
    /// Full mode: a fulfil or fail of an HTLC whose add the peer has not yet
    /// acknowledged, so cannot have acted on.
    #[error("{msg} for HTLC {htlc:?}, whose add is not yet committed")]
    NotCommitted {
        /// Message type.
        msg: &'static str,
        /// The HTLC.
        htlc: HtlcRef,
    },
    /// A `boomerang_refund` whose P(0) does not open the clause's C_0.
    #[error("boomerang refund of HTLC {0:?} with a P(0) that does not open C_0")]
    WrongRefundSecret(HtlcRef),
    /// A `boomerang_refund` after the clause's forward HTLC expired.
    #[error("boomerang refund of HTLC {0:?} after its clause lapsed")]
    RefundLapsed(HtlcRef),
    /// A `boomerang_refund` this node cannot pay: its side of the channel no longer
    /// holds the value (no collateral is locked for the clause in this model).
    #[error("boomerang refund of HTLC {0:?}: this side no longer holds the value")]
    RefundUnfunded(HtlcRef),
    /// A message this mode does not use (a commitment message in collapsed mode).
    #[error("unexpected {0}")]
    Unexpected(&'static str),
    /// A direct claim of an HTLC the node does not hold as a redundant part.
    #[error("HTLC {0:?} is not a part held by this node")]
    NotHeld(HtlcId),
}

/// How many HTLCs this node added and how they ended.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct HtlcCounters {
    /// HTLCs this node offered.
    pub added: u64,
    /// Of those, fulfilled.
    pub fulfilled: u64,
    /// Of those, failed (including timed out and withdrawn).
    pub failed: u64,
    /// Claims this node refused because they did not open the HTLC's lock (wrong
    /// preimage, missing or wrong sender secret): a peer trying to take what it was not
    /// given.
    pub overclaim_attempts: u64,
    /// Boomerang reverse clauses this node paid back (`boomerang_refund` accepted).
    pub refunds: u64,
    /// Boomerang refunds this node refused because its side of the channel no longer
    /// held the value (this model locks no collateral for the reverse clause).
    pub refunds_unfunded: u64,
}

impl std::ops::AddAssign for HtlcCounters {
    fn add_assign(&mut self, o: Self) {
        self.added += o.added;
        self.fulfilled += o.fulfilled;
        self.failed += o.failed;
        self.overclaim_attempts += o.overclaim_attempts;
        self.refunds += o.refunds;
        self.refunds_unfunded += o.refunds_unfunded;
    }
}

/// A node's money flows over its life.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct NodeLedger {
    /// Fees earned forwarding (incoming − outgoing of every settled forward), msat.
    pub fees_earned_msat: u64,
    /// Value of fulfilled HTLCs this node received, msat.
    pub paid_in_msat: u64,
    /// Value of fulfilled HTLCs this node offered, msat.
    pub paid_out_msat: u64,
    /// Value of the fulfilled HTLCs this node offered as a forwarder (the outgoing
    /// side of settled forwards), msat: its routing volume.
    pub forwarded_msat: u64,
    /// Number of settled forwards.
    pub forwards: u64,
}

/// Key of the HTLC map: channel, whether this node offered it, per-channel id.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct WireKey(u32, bool, u64);

impl std::hash::Hash for WireKey {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // One word for the one-word hasher: the fields mixed (equality settles collisions).
        let v = (self.0 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ self.2.rotate_left(17)
            ^ u64::from(self.1);
        state.write_u64(v);
    }
}

/// A node. See the module documentation.
#[derive(Clone, Debug)]
pub struct Node {
    id: NodeIdx,
    config: NodeConfig,
    dir: Arc<Directory>,
    ends: Vec<ChannelEnd>,
    htlcs: HtlcSlab,
    by_wire: HashMap<WireKey, HtlcId, BuildHasherDefault<ScidHasher>>,
    receiver: Receiver,
    parts: Vec<Option<SentPart>>,
    free_parts: Vec<u32>,
    part_seq: u32,
    ledger: NodeLedger,
    counters: HtlcCounters,
    initial_value: u64,
    mode: OnionMode,
    onion_key: Option<(u64, SecretKey)>,
    /// Real mode: the shared secret this node derived for an accepted HTLC, by slot.
    secrets: Vec<Option<SharedSecret>>,
    sessions: u64,
    block_interval: Duration,
    /// The time of the entry point being handled.
    now: Timestamp,
    /// The block height of the entry point being handled.
    height: u32,
    /// Boomerang reverse clauses; allocated on the first boomerang HTLC.
    reverse: Option<Box<reverse::ReverseBook>>,
    verified_claims: point_claims::SharedClaims,
    /// Lock time of offered HTLCs resolved here whose part is another node's, for the
    /// driver to charge to that part (simulator bookkeeping, see [`PartTrace`]).
    lock_log: Vec<(PartTrace, u128)>,
    /// How updates are locked in.
    commit_mode: CommitMode,
    /// Full mode: ends this step sent updates or owes a signature over.
    dirty: Vec<u32>,
    /// `cancel_htlc`s waiting for their add, and what cancels did here.
    cancels: cancel_part::CancelBook,
    /// A live node's id, put in its redundant parts as their reply node.
    reply_node: Option<[u8; 33]>,
}

impl Node {
    /// Every node of `dir`'s graph, node `i` with `configs[i]`, each side of each
    /// channel holding its balance in `balances` (one per directed edge). Each node
    /// learns its peers' channel parameters as BOLT 2's `open_channel` / `accept_channel`
    /// would tell it. One pass over the channels. The caller validated the configs.
    pub fn build_all(
        dir: &Arc<Directory>,
        configs: &[NodeConfig],
        balances: &Balances,
    ) -> Vec<Node> {
        let graph = dir.graph.clone();
        let mut degree = vec![0usize; graph.node_count()];
        for c in graph.channels() {
            degree[c.nodes[0].ix()] += 1;
            degree[c.nodes[1].ix()] += 1;
        }
        let mut ends: Vec<Vec<ChannelEnd>> =
            degree.iter().map(|&d| Vec::with_capacity(d)).collect();
        let mut initial = vec![0u64; graph.node_count()];
        for (i, c) in graph.channels().iter().enumerate() {
            let ch = ChannelIdx(i as u32);
            let cap = c.capacity_msat();
            for d in Direction::BOTH {
                let (me, peer) = (c.from_node(d), c.to_node(d));
                let (mine, theirs) = (&configs[me.ix()], &configs[peer.ix()]);
                let local = balances.side(ch, d);
                initial[me.ix()] += local;
                debug_assert_eq!(dir.end_of(ch.edge(d)), ends[me.ix()].len());
                ends[me.ix()].push(ChannelEnd {
                    channel: ch,
                    dir: d,
                    peer,
                    capacity_msat: cap,
                    local: crate::channel::EdgeState {
                        balance_msat: local,
                        ..Default::default()
                    },
                    remote: crate::channel::EdgeState {
                        balance_msat: balances.side(ch, d.reverse()),
                        ..Default::default()
                    },
                    peer_rules: ChannelRules::of(&theirs.channel, cap),
                    own_params: None,
                    dust_limit_msat: mine
                        .channel
                        .dust_limit_msat()
                        .max(theirs.channel.dust_limit_msat()),
                    peer_online: theirs.online,
                    next_offer_id: 0,
                    accepted_below: 0,
                    accepted_ahead: Vec::new(),
                    commit: None,
                });
            }
        }
        ends.into_iter()
            .zip(initial)
            .enumerate()
            .map(|(i, (ends, initial_value))| {
                let mut node = Node::empty(
                    NodeIdx(i as u32),
                    configs[i].clone(),
                    dir.clone(),
                    CommitMode::Collapsed,
                );
                node.ends = ends;
                node.initial_value = initial_value;
                node
            })
            .collect()
    }

    /// A node with no channel, no HTLC and nothing sent or received: what both
    /// constructors ([`Node::build_all`], [`Node::new_live`]) start from.
    fn empty(
        id: NodeIdx,
        config: NodeConfig,
        dir: Arc<Directory>,
        commit_mode: CommitMode,
    ) -> Node {
        Node {
            id,
            config,
            dir,
            ends: Vec::new(),
            htlcs: HtlcSlab::new(),
            by_wire: HashMap::default(),
            receiver: Receiver::default(),
            parts: Vec::new(),
            free_parts: Vec::new(),
            part_seq: 0,
            ledger: NodeLedger::default(),
            counters: HtlcCounters::default(),
            initial_value: 0,
            mode: OnionMode::Modeled,
            onion_key: None,
            secrets: Vec::new(),
            sessions: 0,
            block_interval: Duration::from_secs(600),
            now: Timestamp::ZERO,
            height: 0,
            reverse: None,
            verified_claims: point_claims::VerifiedClaims::shared(None),
            lock_log: Vec::new(),
            commit_mode,
            dirty: Vec::new(),
            cancels: Default::default(),
            reply_node: None,
        }
    }

    // ---------------------------------------------------------------------------------
    // Settings
    // ---------------------------------------------------------------------------------

    /// Names `node_id` (this node's own id) as the reply node of the redundant parts it
    /// sends: a live receiver, whose directory numbers nodes its own way, finds the
    /// sender by it.
    pub fn set_reply_node(&mut self, node_id: [u8; 33]) {
        self.reply_node = Some(node_id);
    }

    /// Switches to real BOLT 4 onions with this node's `key`; `seed` derives the onion
    /// session keys (so runs stay deterministic). `dir` must carry every node's public key.
    pub fn enable_real_onions(&mut self, key: SecretKey, seed: u64, dir: Arc<Directory>) {
        self.onion_key = Some((seed, key));
        self.dir = dir;
        self.mode = OnionMode::Real;
    }

    /// Back to modeled onions (HTLCs in flight keep the form they were sent with).
    pub fn use_modeled_onions(&mut self) {
        self.mode = OnionMode::Modeled;
    }

    /// Sets how long a block takes, to turn CLTV expiries into times (default 600 s).
    pub fn set_block_interval(&mut self, interval: Duration) {
        self.block_interval = interval;
    }

    /// This node goes offline or comes back (its own flag; the driver tells its peers
    /// with [`Node::set_peer_online`]).
    pub fn set_online(&mut self, online: bool) {
        self.config.online = online;
    }

    /// The peer over end `end` connected or went away.
    pub fn set_peer_online(&mut self, end: usize, online: bool) {
        self.ends[end].peer_online = online;
    }

    /// Changes how the node treats HTLCs from now on.
    pub fn set_behaviour(&mut self, behaviour: Behaviour) {
        self.config.behaviour = behaviour;
    }

    // ---------------------------------------------------------------------------------
    // Getters
    // ---------------------------------------------------------------------------------

    /// The node's index in the graph.
    pub fn id(&self) -> NodeIdx {
        self.id
    }

    /// Its settings.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The shared directory.
    pub fn directory(&self) -> &Arc<Directory> {
        &self.dir
    }

    /// The onion form new parts are sent with.
    pub fn onion_mode(&self) -> OnionMode {
        self.mode
    }

    /// Its channel ends, in the order [`Directory::end_of`] gives.
    pub fn ends(&self) -> &[ChannelEnd] {
        &self.ends
    }

    /// Its end of the channel `e` leaves it by, if `e` starts here.
    pub fn end_for_edge(&self, e: EdgeIdx) -> Option<&ChannelEnd> {
        let end = self.ends.get(self.dir.end_of(e))?;
        (end.out_edge() == e).then_some(end)
    }

    /// A live HTLC record.
    pub fn htlc(&self, id: HtlcId) -> Option<&Htlc> {
        self.htlcs.get(id)
    }

    /// Every live HTLC record.
    pub fn htlcs(&self) -> impl Iterator<Item = (HtlcId, &Htlc)> + '_ {
        self.htlcs.iter()
    }

    /// The record of the HTLC peers call `r`, on the side this node holds it (`offered`).
    pub fn htlc_by_wire(&self, r: HtlcRef, offered: bool) -> Option<HtlcId> {
        self.by_wire
            .get(&WireKey(r.channel.0, offered, r.id))
            .copied()
    }

    /// Number of live HTLC records (offered and accepted).
    pub fn live_htlcs(&self) -> usize {
        self.htlcs.len()
    }

    /// Its receiving state.
    pub fn receiver(&self) -> &Receiver {
        &self.receiver
    }

    /// Its money flows.
    pub fn ledger(&self) -> &NodeLedger {
        &self.ledger
    }

    /// Its HTLC counts.
    pub fn counters(&self) -> HtlcCounters {
        self.counters
    }

    /// What it held at the start: its sides of its channels, msat.
    pub fn initial_value(&self) -> u64 {
        self.initial_value
    }

    /// Its parts in flight.
    pub fn parts_in_flight(&self) -> usize {
        self.parts.len() - self.free_parts.len()
    }

    // ---------------------------------------------------------------------------------
    // Receiver commands
    // ---------------------------------------------------------------------------------

    /// Expects a payment.
    pub fn register_invoice(
        &mut self,
        payment_hash: PaymentHash,
        invoice: InvoiceRecord,
    ) -> Result<(), RegisterError> {
        self.receiver.forget_expired(self.now);
        self.receiver.register(payment_hash, invoice)
    }

    /// Stops expecting a payment, so its record does not stay in memory. A later HTLC
    /// for it is refused as unknown.
    pub fn cancel_invoice(&mut self, payment_hash: &PaymentHash) -> bool {
        self.receiver.cancel(payment_hash)
    }

    // ---------------------------------------------------------------------------------
    // What arrives
    // ---------------------------------------------------------------------------------

    /// Applies a message from `from`: a peer's HTLC update, or an endpoint message of a
    /// redundant payment (which may come from any node). On error nothing changed.
    pub fn handle_message(
        &mut self,
        from: NodeIdx,
        msg: Msg,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<(), PeerError> {
        self.now = clock.now;
        self.height = clock.height;
        let full = self.commit_mode == CommitMode::Full;
        let r = match msg {
            Msg::Endpoint(m) => {
                self.on_endpoint(from, m, clock, out);
                Ok(())
            }
            Msg::CommitmentSigned { channel } => self.on_commitment_signed(from, channel, out),
            Msg::RevokeAndAck { channel } => self.on_revoke_and_ack(from, channel, clock, out),
            // Settled on delivery in both modes (see `reverse.rs`).
            Msg::BoomerangRefund(m) => self.on_boomerang_refund(from, m, clock, out),
            Msg::CancelHtlc(m) => self.on_cancel_htlc(from, m, out),
            m if full => self.on_update_full(from, m, out),
            Msg::AddHtlc(add) => self.on_add(from, add, clock, out),
            Msg::FulfillHtlc(m) => self.on_fulfill(from, m, out),
            Msg::FailHtlc(m) => self.on_fail(from, m, out),
            Msg::FailMalformedHtlc(m) => self.on_fail_malformed(from, m, out),
        };
        self.flush_commitments(out);
        r
    }

    /// Handles a due timer. A timer whose subject has gone is ignored.
    pub fn handle_timer(&mut self, timer: Timer, clock: &Clock, out: &mut Vec<Output>) {
        self.now = clock.now;
        self.height = clock.height;
        match timer {
            Timer::MppTimeout { payment_hash, set } => {
                let Some(parts) = self.receiver.timeout(&payment_hash, set) else {
                    return;
                };
                for (id, _) in parts {
                    self.fail_back(id, FailureCode::MppTimeout, FailureData::default(), out);
                }
            }
            Timer::RedundantTimeout {
                payment_secret,
                round,
            } => self.redundant_timeout(payment_secret, round, out),
            Timer::HtlcExpiry { htlc } => self.expire_offered(htlc, out),
            Timer::PaymentDeadline { .. } | Timer::EndpointResend { .. } => {}
            Timer::PeerUnreachable { htlc } => {
                if self
                    .htlcs
                    .get(htlc)
                    .is_some_and(|h| h.state == HtlcState::Accepted)
                {
                    self.fail_back(
                        htlc,
                        FailureCode::UnknownNextPeer,
                        FailureData::default(),
                        out,
                    );
                }
            }
        }
        self.flush_commitments(out);
    }

    // ---------------------------------------------------------------------------------
    // Bookkeeping shared by the steps
    // ---------------------------------------------------------------------------------

    /// The end of `channel` shared with `peer`, if any.
    fn end_with(&self, channel: ChannelIdx, peer: NodeIdx) -> Option<usize> {
        let graph = &self.dir.graph;
        if channel.ix() >= graph.channel_count() {
            return None;
        }
        let c = graph.channel(channel);
        let d = if c.nodes[0] == self.id && c.nodes[1] == peer {
            Direction::AToB
        } else if c.nodes[1] == self.id && c.nodes[0] == peer {
            Direction::BToA
        } else {
            return None;
        };
        Some(self.dir.end_of(channel.edge(d)))
    }

    /// This node's end of `channel`, if it is one of the channel's nodes.
    fn end_of_channel(&self, channel: ChannelIdx) -> Option<usize> {
        let graph = &self.dir.graph;
        if channel.ix() >= graph.channel_count() {
            return None;
        }
        let c = graph.channel(channel);
        let d = if c.nodes[0] == self.id {
            Direction::AToB
        } else if c.nodes[1] == self.id {
            Direction::BToA
        } else {
            return None;
        };
        Some(self.dir.end_of(channel.edge(d)))
    }

    /// Inserts a record and indexes it by its wire name.
    fn insert_htlc(&mut self, h: Htlc) -> HtlcId {
        let key = WireKey(h.wire.channel.0, h.is_offered(), h.wire.id);
        let id = self.htlcs.insert(h);
        self.by_wire.insert(key, id);
        id
    }

    /// Removes a live record (checked by the caller), forgets its secret and returns it.
    /// An offered HTLC's lock time is charged to its part.
    fn remove_htlc(&mut self, id: HtlcId) -> Htlc {
        if let Some(s) = self.secrets.get_mut(id.slot()) {
            *s = None;
        }
        if self.reverse.is_some() {
            self.forget_reverse_point(id);
        }
        let rec = self.htlcs.remove(id).expect("checked live by the caller");
        self.by_wire
            .remove(&WireKey(rec.wire.channel.0, rec.is_offered(), rec.wire.id));
        // An idle node keeps no memory for HTLCs it no longer has.
        if self.htlcs.release_if_empty() {
            self.by_wire = HashMap::default();
            self.secrets = Vec::new();
        }
        if rec.is_offered() {
            let locked = rec.amount_msat as u128 * (self.now - rec.added_at) as u128;
            let t = rec.trace;
            if t.sender == self.id.0 {
                self.charge_part(t.slot, t.seq, locked);
            } else if t != PartTrace::NONE {
                self.lock_log.push((t, locked));
            }
        }
        rec
    }

    /// Adds `locked` msat·µs to this node's part in `slot` if it is still the one with
    /// sequence number `seq`.
    pub fn charge_part(&mut self, slot: u32, seq: u32, locked: u128) {
        if let Some(Some(p)) = self.parts.get_mut(slot as usize) {
            if p.seq == seq {
                p.locked_msat_micros += locked;
            }
        }
    }

    /// Takes the lock times of other nodes' parts this node resolved since the last call
    /// (simulator bookkeeping): the driver charges each with [`Node::charge_part`] at its
    /// sender.
    pub fn drain_lock_log(&mut self, into: &mut Vec<(PartTrace, u128)>) {
        into.append(&mut self.lock_log);
    }

    fn take_part(&mut self, slot: u32) -> Option<SentPart> {
        let p = self.parts.get_mut(slot as usize)?.take()?;
        self.free_parts.push(slot);
        Some(p)
    }

    fn store_secret(&mut self, id: HtlcId, ss: SharedSecret) {
        if self.secrets.len() <= id.slot() {
            self.secrets
                .resize(self.htlcs.capacity().max(id.slot() + 1), None);
        }
        self.secrets[id.slot()] = Some(ss);
    }

    fn secret(&self, id: HtlcId) -> Option<SharedSecret> {
        self.secrets.get(id.slot()).copied().flatten()
    }

    /// Sends an endpoint message to `to` (as an onion message).
    fn send_endpoint(&self, to: NodeIdx, msg: EndpointMsg, out: &mut Vec<Output>) {
        out.push(Output::Message {
            from: self.id,
            to,
            msg: Msg::Endpoint(msg),
        });
    }

    /// Checks this node's own books: every end conserves its capacity, pending sums and
    /// counts match the live records, every offered HTLC's origin is still there, the
    /// HTLCs it offered were resolved at most once, and its value is its start plus what
    /// it was paid minus what it paid.
    pub fn check(&self) -> Result<(), NodeInvariantError> {
        let n = self.id.0;
        for e in &self.ends {
            if !e.conserves() {
                return Err(NodeInvariantError::Capacity {
                    node: n,
                    channel: e.channel.0,
                });
            }
        }
        let mut counted = vec![[(0u32, 0u64); 2]; self.ends.len()];
        let mut offered = 0u64;
        for (id, h) in self.htlcs.iter() {
            let side = usize::from(!h.is_offered());
            let c = &mut counted[h.end as usize][side];
            c.0 += 1;
            c.1 += h.amount_msat;
            let ok = match h.origin {
                crate::htlc::HtlcOrigin::Forwarded { incoming } => {
                    self.htlcs.get(incoming).is_some()
                }
                crate::htlc::HtlcOrigin::Local { part } => {
                    matches!(self.parts.get(part as usize), Some(Some(_)))
                }
                crate::htlc::HtlcOrigin::Received => true,
            };
            if !ok {
                return Err(NodeInvariantError::Orphan { node: n, htlc: id });
            }
            offered += u64::from(h.is_offered());
        }
        for (e, c) in self.ends.iter().zip(&counted) {
            for (s, got) in [(&e.local, c[0]), (&e.remote, c[1])] {
                if (s.pending_count, s.pending_msat) != got {
                    return Err(NodeInvariantError::Pending {
                        node: n,
                        channel: e.channel.0,
                        stored: (s.pending_count, s.pending_msat),
                        counted: got,
                    });
                }
            }
        }
        let HtlcCounters {
            added,
            fulfilled,
            failed,
            ..
        } = self.counters;
        if added != fulfilled + failed + offered {
            return Err(NodeInvariantError::Resolution {
                node: n,
                added,
                fulfilled,
                failed,
                live: offered,
            });
        }
        let value: u128 = self
            .ends
            .iter()
            .map(|e| e.local.balance_msat as u128 + e.local.pending_msat as u128)
            .sum();
        let l = &self.ledger;
        let expected =
            self.initial_value as i128 + l.paid_in_msat as i128 - l.paid_out_msat as i128;
        if value as i128 != expected {
            return Err(NodeInvariantError::Value {
                node: n,
                now: value,
                expected,
            });
        }
        if let Some((_, due_msat, settled_msat)) = self.receiver.redundant.overpaid() {
            return Err(NodeInvariantError::Overpaid {
                node: n,
                due_msat,
                settled_msat,
            });
        }
        Ok(())
    }
}

/// Something that should never be, in one node's own books ([`Node::check`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeInvariantError {
    /// A channel end's books do not add up to its capacity.
    #[error(
        "node {node}, channel {channel}: balances and pending HTLCs do not add up to the capacity"
    )]
    Capacity {
        /// The node.
        node: u32,
        /// The channel.
        channel: u32,
    },
    /// Pending sums or counts disagree with the live HTLCs.
    #[error("node {node}, channel {channel}: state says {stored:?}, live HTLCs say {counted:?} (count, msat)")]
    Pending {
        /// The node.
        node: u32,
        /// The channel.
        channel: u32,
        /// What the end holds.
        stored: (u32, u64),
        /// What the HTLCs add up to.
        counted: (u32, u64),
    },
    /// HTLCs offered ≠ fulfilled + failed + live: one was resolved twice or lost.
    #[error(
        "node {node}: {added} HTLCs offered, {fulfilled} fulfilled, {failed} failed, {live} live"
    )]
    Resolution {
        /// The node.
        node: u32,
        /// Offered.
        added: u64,
        /// Fulfilled.
        fulfilled: u64,
        /// Failed.
        failed: u64,
        /// Live.
        live: u64,
    },
    /// A forwarded HTLC's incoming HTLC, or a local HTLC's part, is gone.
    #[error("node {node}: HTLC {htlc:?} lost its origin")]
    Orphan {
        /// The node.
        node: u32,
        /// The HTLC.
        htlc: HtlcId,
    },
    /// The node's value is not its start plus what it was paid minus what it paid.
    #[error("node {node}: value {now} msat, expected {expected} msat")]
    Value {
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

/// `Node` and `Output` cross threads (parallel simulation arms).
const _: () = {
    const fn is<T: Send + Sync>() {}
    is::<Node>();
    is::<Output>();
};
