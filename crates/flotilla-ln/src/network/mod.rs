//! The protocol state of a whole simulated network, and its three entry points.
//!
//! [`Network`] holds the graph, every channel's balances, every HTLC, every node's
//! settings and receiving state, and the senders' parts in flight. A driver calls
//! - [`Network::send`] to start a payment part at its sender,
//! - [`Network::deliver`] when a message reaches its peer,
//! - [`Network::fire`] when a timer is due,
//!
//! and, for redundant payments ([`crate::redundant`]), [`Network::send_redundant`],
//! [`Network::poll_claim_request`] (after every step: claim requests to carry from
//! receiver to sender), [`Network::reveal_secrets`] (when the sender's answer arrives) and
//! [`Network::claim_held`] (a receiver's direct claim: the cheating case),
//!
//! each with an output `Vec` it reuses (and, but for `claim_held`, the current
//! [`Clock`]); each returns after applying the step, having appended the messages, timers
//! and events it caused. No entry point sleeps or blocks: ordering, latency and time are
//! the driver's (claim requests alone wait in the network until the driver polls them).
//!
//! Misuse by the driver (a message for an HTLC that does not exist, or between the wrong
//! nodes) is a typed [`DeliverError`] that changes nothing; protocol failures are BOLT 4
//! failures travelling back to the sender, never errors.
//!
//! One file per step: `send.rs` starts parts, `arrive.rs` handles `update_add_htlc`
//! (hold, forward or receive), `resolve.rs` handles fulfils, fails and timeouts on the way
//! back, `invariants.rs` checks the books.

mod arrive;
mod invariants;
mod observe;
mod point_claims;
mod redundant;
mod resolve;
mod send;

pub use invariants::InvariantError;

use std::sync::Arc;
use std::time::Duration;

use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use flotilla_graph::liquidity::Balances;
use flotilla_graph::{ChannelIdx, Direction, Graph, NodeIdx};
use flotilla_route::Timestamp;

use crate::channel::{Channels, EdgeState};
use crate::clock::Clock;
use crate::config::{apply_policy_overrides, Behaviour, ConfigError, NodeConfig};
use crate::failure::{FailureCode, FailureData};
use crate::forward::ScidIndex;
use crate::htlc::{Htlc, HtlcId, HtlcSlab, HtlcState};
use crate::invoice::node_key_from_seed;
use crate::msg::Msg;
use crate::onion::real::SharedSecret;
use crate::onion::OnionMode;
use crate::output::{Output, Timer};
use crate::receiver::{InvoiceRecord, Receiver, RegisterError};
use crate::sender::SentPart;
use crate::PaymentHash;

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

/// A driver's mistake: the step was refused and nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliverError {
    /// The message names an HTLC that does not exist (never did, or was resolved).
    #[error("no live HTLC {0:?}")]
    UnknownHtlc(HtlcId),
    /// The message does not travel between the HTLC's two nodes, in the right direction,
    /// or does not match the HTLC it names.
    #[error("{msg} for HTLC {htlc:?} does not belong between nodes {from} → {to}")]
    WrongPeer {
        /// Message type.
        msg: &'static str,
        /// The HTLC.
        htlc: HtlcId,
        /// Claimed sender.
        from: u32,
        /// Claimed receiver.
        to: u32,
    },
    /// The HTLC is not in a state where this message makes sense (e.g. resolved twice).
    #[error("{msg} for HTLC {htlc:?} in state {state:?}")]
    WrongState {
        /// Message type.
        msg: &'static str,
        /// The HTLC.
        htlc: HtlcId,
        /// Its state.
        state: HtlcState,
    },
    /// A fulfil whose preimage does not hash to the HTLC's payment hash.
    #[error("preimage does not match HTLC {0:?}")]
    WrongPreimage(HtlcId),
    /// An `h2tlc` fulfil without the sender secret, or with one that does not hash to
    /// the HTLC's second hash.
    #[error("sender secret missing or wrong for HTLC {0:?}")]
    WrongSenderSecret(HtlcId),
    /// A direct claim of an HTLC the node does not hold as a redundant part.
    #[error("HTLC {0:?} is not a part held by this node")]
    NotHeld(HtlcId),
}

/// How many HTLCs were ever added and how they ended.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct HtlcCounters {
    /// HTLCs added (one per hop of every part that got that far).
    pub added: u64,
    /// HTLCs fulfilled.
    pub fulfilled: u64,
    /// HTLCs failed (including timed out).
    pub failed: u64,
    /// Claims refused because they did not open the HTLC's lock (wrong preimage, missing
    /// or wrong sender secret): a receiver or hop trying to take what it was not given.
    pub overclaim_attempts: u64,
}

/// Per-node money flows over the run.
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

/// Node keys for real onions: node `i`'s secret is `node_key_from_seed(seed + i)`.
#[derive(Clone, Debug)]
struct RealKeys {
    seed: u64,
    secrets: Vec<SecretKey>,
    pubkeys: Vec<PublicKey>,
}

/// The protocol state of a network. See the module documentation.
#[derive(Clone, Debug)]
pub struct Network {
    graph: Arc<Graph>,
    scids: ScidIndex,
    configs: Vec<NodeConfig>,
    channels: Channels,
    htlcs: HtlcSlab,
    receivers: Vec<Receiver>,
    parts: Vec<Option<SentPart>>,
    free_parts: Vec<u32>,
    ledger: Vec<NodeLedger>,
    initial_value: Vec<u64>,
    counters: HtlcCounters,
    mode: OnionMode,
    keys: Option<RealKeys>,
    /// Real mode: the shared secret the hop receiving an HTLC derived, by HTLC slot.
    secrets: Vec<Option<SharedSecret>>,
    sessions: u64,
    block_interval: Duration,
    /// The time of the entry point being handled (set by `send`, `deliver`, `fire`).
    now: Timestamp,
    /// Sequence number of the next part sent.
    part_seq: u32,
    /// Redundant payments' claim requests not yet taken by the driver.
    claim_requests: std::collections::VecDeque<crate::redundant::ClaimRequest>,
    /// Point-lock claims already verified.
    verified_claims: point_claims::VerifiedClaims,
}

impl Network {
    /// A network over `graph` starting from `balances`, with one config per node.
    /// Policy overrides in the configs are applied to the graph the network forwards by
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
        let mut initial_value = vec![0u64; graph.node_count()];
        for (i, c) in graph.channels().iter().enumerate() {
            for d in Direction::BOTH {
                initial_value[c.from_node(d).ix()] += balances.side(ChannelIdx(i as u32), d);
            }
        }
        Ok(Network {
            scids: ScidIndex::new(&graph),
            channels: Channels::new(&balances),
            receivers: vec![Receiver::default(); graph.node_count()],
            ledger: vec![NodeLedger::default(); graph.node_count()],
            initial_value,
            configs,
            graph,
            htlcs: HtlcSlab::new(),
            parts: Vec::new(),
            free_parts: Vec::new(),
            counters: HtlcCounters::default(),
            mode: OnionMode::Modeled,
            keys: None,
            secrets: Vec::new(),
            sessions: 0,
            block_interval: Duration::from_secs(600),
            now: Timestamp::ZERO,
            part_seq: 0,
            claim_requests: Default::default(),
            verified_claims: Default::default(),
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
        let secrets: Vec<SecretKey> = (0..self.graph.node_count())
            .map(|i| node_key_from_seed(seed.wrapping_add(i as u64)))
            .collect();
        let pubkeys = secrets.iter().map(|k| k.public_key(&secp)).collect();
        self.keys = Some(RealKeys {
            seed,
            secrets,
            pubkeys,
        });
        self.mode = OnionMode::Real;
    }

    /// Back to modeled onions (HTLCs in flight keep the form they were sent with).
    pub fn use_modeled_onions(&mut self) {
        self.mode = OnionMode::Modeled;
    }

    /// The onion form new parts are sent with.
    pub fn onion_mode(&self) -> OnionMode {
        self.mode
    }

    /// The public key node `n` uses for real onions, once enabled.
    pub fn onion_pubkey(&self, n: NodeIdx) -> Option<PublicKey> {
        self.keys.as_ref().map(|k| k.pubkeys[n.ix()])
    }

    /// Sets how long a block takes, to turn CLTV expiries into timer times (default
    /// 600 s).
    pub fn set_block_interval(&mut self, interval: Duration) {
        self.block_interval = interval;
    }

    /// The graph the network forwards by (policy overrides applied): give it to routers
    /// that should see the same policies.
    pub fn graph(&self) -> &Arc<Graph> {
        &self.graph
    }

    /// A node's settings.
    pub fn config(&self, n: NodeIdx) -> &NodeConfig {
        &self.configs[n.ix()]
    }

    /// Takes a node offline or brings it back.
    pub fn set_online(&mut self, n: NodeIdx, online: bool) {
        self.configs[n.ix()].online = online;
    }

    /// Changes how a node treats HTLCs from now on.
    pub fn set_behaviour(&mut self, n: NodeIdx, behaviour: Behaviour) {
        self.configs[n.ix()].behaviour = behaviour;
    }

    /// Makes `node` expect a payment.
    pub fn register_invoice(
        &mut self,
        node: NodeIdx,
        payment_hash: PaymentHash,
        invoice: InvoiceRecord,
    ) -> Result<(), RegisterError> {
        let r = &mut self.receivers[node.ix()];
        r.forget_expired(self.now);
        r.register(payment_hash, invoice)
    }

    /// Stops `node` expecting a payment (e.g. an invoice the workload gave up on), so its
    /// record does not stay in memory. A later HTLC for it is refused as unknown.
    pub fn cancel_invoice(&mut self, node: NodeIdx, payment_hash: &PaymentHash) -> bool {
        self.receivers[node.ix()].cancel(payment_hash)
    }

    /// A node's receiving state.
    pub fn receiver(&self, n: NodeIdx) -> &Receiver {
        &self.receivers[n.ix()]
    }

    /// Channel state.
    pub fn channels(&self) -> &Channels {
        &self.channels
    }

    /// One direction's state.
    pub fn edge_state(&self, e: flotilla_graph::EdgeIdx) -> &EdgeState {
        self.channels.edge(e)
    }

    /// A live HTLC.
    pub fn htlc(&self, id: HtlcId) -> Option<&Htlc> {
        self.htlcs.get(id)
    }

    /// Number of live HTLCs.
    pub fn live_htlcs(&self) -> usize {
        self.htlcs.len()
    }

    /// Counts of HTLCs added and resolved.
    pub fn counters(&self) -> HtlcCounters {
        self.counters
    }

    /// A node's money flows.
    pub fn ledger(&self, n: NodeIdx) -> &NodeLedger {
        &self.ledger[n.ix()]
    }

    /// Fees a node earned forwarding, msat.
    pub fn fees_earned(&self, n: NodeIdx) -> u64 {
        self.ledger[n.ix()].fees_earned_msat
    }

    /// Applies a message that arrived at `to` from `from`.
    pub fn deliver(
        &mut self,
        to: NodeIdx,
        from: NodeIdx,
        msg: Msg,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) -> Result<(), DeliverError> {
        self.now = clock.now;
        match msg {
            Msg::AddHtlc(add) => self.on_add(to, from, add, clock, out),
            Msg::FulfillHtlc(m) => self.on_fulfill(to, from, m, out),
            Msg::FailHtlc(m) => self.on_fail(to, from, m, out),
            Msg::FailMalformedHtlc(m) => self.on_fail_malformed(to, from, m, out),
        }
    }

    /// Handles a due timer. A timer whose subject has gone is ignored.
    pub fn fire(&mut self, timer: Timer, clock: &Clock, out: &mut Vec<Output>) {
        self.now = clock.now;
        match timer {
            Timer::MppTimeout {
                node,
                payment_hash,
                set,
            } => {
                let Some(parts) = self.receivers[node.ix()].timeout(&payment_hash, set) else {
                    return;
                };
                for (id, _) in parts {
                    self.fail_back(id, FailureCode::MppTimeout, FailureData::default(), out);
                }
            }
            Timer::RedundantTimeout {
                node,
                payment_secret,
                round,
            } => self.redundant_timeout(node, payment_secret, round, out),
            Timer::HtlcExpiry { htlc } => self.expire(htlc, clock, out),
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
    }

    // ---------------------------------------------------------------------------------
    // Bookkeeping shared by the steps
    // ---------------------------------------------------------------------------------

    fn set_state(&mut self, id: HtlcId, state: HtlcState) {
        if let Some(r) = self.htlcs.get_mut(id) {
            r.state = state;
        }
    }

    /// Removes a live HTLC (checked by the caller) and forgets its secret.
    fn resolve(&mut self, id: HtlcId) -> Htlc {
        if let Some(s) = self.secrets.get_mut(id.slot()) {
            *s = None;
        }
        let rec = self.htlcs.remove(id).expect("checked live by the caller");
        // Charge the time this HTLC locked its value to the part it carries. Resolution
        // runs from the receiver back to the sender, so the part record is still there.
        if let Some(Some(p)) = self.parts.get_mut(rec.part.slot as usize) {
            if p.seq == rec.part.seq {
                p.locked_msat_micros += rec.amount_msat as u128 * (self.now - rec.added_at) as u128;
            }
        }
        rec
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
}

/// `Network` and `Output` cross threads (parallel simulation arms).
const _: () = {
    const fn is<T: Send + Sync>() {}
    is::<Network>();
    is::<Output>();
};
