//! The payment engine inside the daemon: one `flotilla_ln::node::Node` in the full
//! commitment mode, with real BOLT 4 onions, fed every input the node consumes.
//!
//! The engine is synchronous and deterministic: [`Engine::apply`] takes one
//! [`Input`] (a channel opened, a gossip announcement, a peer's message, a timer, a
//! command) with the [`Clock`] it happened at and returns the [`Effect`]s the daemon
//! must carry out (send a message, set a timer, warn a peer). The daemon logs each
//! input with its clock before it carries out the effects ([`durable`]), and a restart
//! replays the log into a fresh engine, which rebuilds exactly the same state.
//!
//! **Indices.** The ln engine names nodes and channels by index in its `Directory`.
//! The live node's directory holds itself (node 0), and every node and channel it
//! learned, in the order it learned them: the directory only grows ([`graph`]), so
//! an index, once given, never changes, and the node's channel ends stay where they
//! are ([`flotilla_ln::node::Node::grow`]). Peers name a channel by its 32-byte
//! `channel_id`; onions name it by a short channel id derived from that
//! ([`graph::scid_of`]), the same at every node.
//!
//! One file per job: [`graph`] (what the node knows of the network), [`gossip`]
//! (signed channel announcements), [`pay`] (the sender's payments: routing, MPP,
//! retries), [`input`] (inputs as they are logged), [`durable`] (the log, the
//! outbox and the re-establishment of a peer's message stream), [`endpoint`] (the
//! redundant flow's endpoint messages as onion messages, robust to loss),
//! [`gossip_handling`] (announcements made, learned and flooded), [`make_invoice`]
//! (`invoice`), [`queries`] (what the daemon reads of the engine).

pub mod durable;
pub mod endpoint;
pub mod gossip;
mod gossip_handling;
pub mod graph;
pub mod input;
mod make_invoice;
pub mod node_gossip;
pub mod pay;
pub mod policy;
mod queries;
pub mod redundant;

use std::collections::{BTreeMap, HashMap};

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{PublicKey, SecretKey};
use flotilla_graph::{ChannelIdx, NodeIdx, Policy};
use flotilla_ln::boomerang::BoomerangPolynomial;
use flotilla_ln::clock::Clock;
use flotilla_ln::config::NodeConfig;
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::lock::LockKind;
use flotilla_ln::msg::{HtlcRef, Msg};
use flotilla_ln::node::{Node, PeerError};
use flotilla_ln::output::{Event, Output, Timer};
use flotilla_ln::receiver::InvoiceRecord;
use flotilla_ln::redundant::RedundantInvoice;
use flotilla_ln::redundant_session::RedundantSession;
use flotilla_ln::wire::{self, ChannelId, CommitmentSigned, Message, RefundAnswer, RevokeAndAck};
use flotilla_ln::{PaymentHash, PaymentPreimage, PaymentSecret};
use flotilla_route::Timestamp;

use crate::transport::onion_route::{self, SharedTopology};
use graph::LiveGraph;
pub use input::Input;
use pay::LivePayment;
use redundant::LiveRedundant;

/// The policy a node announces for its channels unless told otherwise: BOLT 7's common
/// defaults ([`policy::OwnPolicy::default`]).
pub fn default_policy(capacity_sat: u64, now_secs: u32) -> Policy {
    policy::OwnPolicy::default().to_policy(capacity_sat, now_secs)
}

/// Seconds of the Unix epoch a block height is counted from: there is no chain, so
/// every node derives the same height from its clock (one block per 600 s).
const HEIGHT_EPOCH_SECS: u64 = 1_700_000_000;
/// The height at [`HEIGHT_EPOCH_SECS`].
const HEIGHT_AT_EPOCH: u64 = 800_000;

/// The clock at `unix_micros`: wall time, and the height it implies.
pub fn clock_at(unix_micros: u64) -> Clock {
    let secs = unix_micros / 1_000_000;
    let height = HEIGHT_AT_EPOCH + secs.saturating_sub(HEIGHT_EPOCH_SECS) / 600;
    Clock::new(
        Timestamp(unix_micros),
        u32::try_from(height).unwrap_or(u32::MAX),
    )
}

/// The clock now.
pub fn wall_clock() -> Clock {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    clock_at(micros)
}

/// What the daemon must do after an input.
// A `Send` carries an `update_add_htlc` with its lock and reverse-clause points inline;
// it is built once and moved into the peer's outbox, so boxing would only add an
// allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Send an engine message to a peer (sequenced and re-sent until consumed, see
    /// [`durable`]).
    Send {
        /// The peer.
        to: PublicKey,
        /// The message.
        message: Message,
    },
    /// Relay a gossip announcement to every connected peer but `except`.
    Gossip {
        /// Who it came from (none for our own).
        except: Option<PublicKey>,
        /// The signed bytes.
        bytes: Box<[u8; crate::transport::setup::ANNOUNCE_LEN]>,
    },
    /// Relay a node announcement to every connected peer but `except`.
    NodeGossip {
        /// Who it came from (none for our own).
        except: Option<PublicKey>,
        /// The node it announces.
        node: PublicKey,
        /// The signed bytes.
        bytes: Vec<u8>,
    },
    /// Fire `timer` at `at`.
    Timer {
        /// When.
        at: Timestamp,
        /// What.
        timer: Timer,
    },
    /// Send a redundant payment's endpoint message (claim request, reveal, cancel)
    /// as a best-effort onion message ([`endpoint`]).
    Onion {
        /// The other end of the payment.
        to: PublicKey,
        /// The message.
        message: Message,
        /// The reply path of the message this answers (LDK's `Responder`, serialised):
        /// the answer goes along it rather than to `to`'s node id.
        reply: Option<Vec<u8>>,
    },
    /// The peer broke the protocol: a BOLT 1 `warning`; nothing changed.
    Warn {
        /// The peer.
        to: PublicKey,
        /// Why.
        text: String,
    },
}

/// A payment this node received.
#[derive(Clone, Debug)]
struct Received {
    payment_hash: PaymentHash,
    amount_msat: u64,
    parts: u32,
    at: Timestamp,
}

/// An invoice this node issued.
#[derive(Clone, Debug)]
struct Issued {
    amount_msat: Option<u64>,
    /// A redundant invoice's lock.
    lock: Option<LockKind>,
    /// Its payment secret.
    secret: [u8; 32],
    created: Timestamp,
    paid: bool,
}

/// See the module documentation.
pub struct Engine {
    me: PublicKey,
    secret: SecretKey,
    onion_seed: u64,
    /// Seeds the per-part secrets of redundant payments (fixed per key, so a replay
    /// sends the same parts).
    secret_seed: u64,
    config: NodeConfig,
    graph: LiveGraph,
    node: Option<Node>,
    /// Opening balances of this node's channels (mine, peer's), msat.
    opening: HashMap<ChannelIdx, (u64, u64)>,
    /// The channel parameters each of this node's channels opened with (none: the
    /// defaults, a channel from before they were exchanged).
    params: HashMap<ChannelIdx, policy::OpenParams>,
    payments: BTreeMap<u64, LivePayment>,
    redundant: BTreeMap<u64, LiveRedundant>,
    received: Vec<Received>,
    invoices: HashMap<PaymentHash, Issued>,
    /// Payments that finished since the daemon last asked.
    finished: Vec<u64>,
    out: Vec<Output>,
    /// Claim requests being re-sent, and the reply path being answered.
    endpoints: endpoint::Endpoints,
    /// Where the channel graph is published for onion-message routing, if anywhere.
    topology: Option<SharedTopology>,
    /// The newest announcement of each known node (this one's too), with its bytes.
    announced: HashMap<PublicKey, (node_gossip::NodeAnnouncement, Vec<u8>)>,
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// Bad argument or state; one line.
    #[error("{0}")]
    Refused(String),
}

fn refused(s: impl Into<String>) -> CommandError {
    CommandError::Refused(s.into())
}

impl Engine {
    /// An engine for the node whose key is `secret`, with no channel yet.
    pub fn new(secret: SecretKey) -> Engine {
        let secp = bitcoin::secp256k1::Secp256k1::signing_only();
        let me = PublicKey::from_secret_key(&secp, &secret);
        // Onion session keys derive from a seed only this node knows, fixed per key
        // so a replay rebuilds the same onions.
        let mut e = bitcoin::hashes::sha256::Hash::engine();
        bitcoin::hashes::HashEngine::input(&mut e, b"flotilla/onion-seed");
        bitcoin::hashes::HashEngine::input(&mut e, &secret.secret_bytes());
        let seed_hash = bitcoin::hashes::sha256::Hash::from_engine(e).to_byte_array();
        let onion_seed = u64::from_be_bytes(seed_hash[..8].try_into().unwrap_or([0; 8]));
        let secret_seed = u64::from_be_bytes(seed_hash[8..16].try_into().unwrap_or([0; 8]));
        Engine {
            me,
            secret,
            onion_seed,
            secret_seed,
            config: NodeConfig::default(),
            graph: LiveGraph::new(me),
            node: None,
            opening: HashMap::new(),
            params: HashMap::new(),
            payments: BTreeMap::new(),
            redundant: BTreeMap::new(),
            received: Vec::new(),
            invoices: HashMap::new(),
            finished: Vec::new(),
            out: Vec::new(),
            endpoints: endpoint::Endpoints::default(),
            topology: None,
            announced: HashMap::new(),
        }
    }

    /// Publishes the channel graph to `shared` now and whenever it grows: onion
    /// messages are routed over it ([`crate::transport::onion_route`]).
    pub fn share_topology(&mut self, shared: SharedTopology) {
        onion_route::publish(&shared, self.graph.topology());
        self.topology = Some(shared);
    }

    /// This node's id.
    pub fn me(&self) -> PublicKey {
        self.me
    }

    /// What the node knows of the network.
    pub fn graph(&self) -> &LiveGraph {
        &self.graph
    }

    /// Applies one input at `clock`. A refused command or a peer's bad message changes
    /// nothing (the latter yields a [`Effect::Warn`]).
    pub fn apply(&mut self, input: &Input, clock: &Clock) -> Result<Vec<Effect>, CommandError> {
        let mut fx = Vec::new();
        match input {
            Input::Open {
                channel_id,
                peer,
                capacity_sat,
                local_msat,
                remote_msat,
                policy,
                params,
            } => self.open(
                (*channel_id, *peer, *capacity_sat),
                (*local_msat, *remote_msat),
                (policy.unwrap_or_default(), params.as_ref()),
                clock,
                &mut fx,
            )?,
            Input::SetPolicy { channel_id, policy } => {
                self.set_policy(channel_id, policy, clock, &mut fx)?
            }
            Input::Announce { from, bytes } => self.announce(*from, bytes, &mut fx),
            Input::NodeAnnounce { from, bytes } => self.node_announce(*from, bytes, &mut fx),
            Input::SelfAnnounce { alias, features } => {
                self.self_announce(alias, features, clock, &mut fx)
            }
            Input::Peer { from, bytes } => self.peer_message(*from, bytes, clock, &mut fx),
            Input::Onion { bytes, reply } => {
                self.onion_message(bytes, reply.as_ref(), clock, &mut fx)
            }
            Input::Timer { timer } => {
                if let Some(node) = self.node.as_mut() {
                    match timer {
                        Timer::PaymentDeadline { payment } => {
                            if let Some(p) = self.redundant.get_mut(payment) {
                                let was_done = p.is_done();
                                p.on_deadline(node, clock, &mut self.out);
                                if !was_done && p.is_done() {
                                    self.finished.push(*payment);
                                }
                            }
                        }
                        Timer::EndpointResend {
                            payment_id,
                            attempt,
                        } => {
                            let (id, n) = (*payment_id, *attempt);
                            self.resend_endpoint(id, n, clock, &mut fx);
                        }
                        t => node.handle_timer(t.clone(), clock, &mut self.out),
                    }
                }
                self.drain(clock, &mut fx);
            }
            Input::PeerOnline { peer, online } => {
                if let (Some(node), Some(p)) = (self.node.as_mut(), self.graph.node_of(peer)) {
                    let ends: Vec<usize> = node
                        .ends()
                        .iter()
                        .enumerate()
                        .filter(|(_, e)| e.peer == p)
                        .map(|(i, _)| i)
                        .collect();
                    for i in ends {
                        node.set_peer_online(i, *online);
                    }
                }
            }
            Input::Invoice {
                preimage,
                secret,
                amount_msat,
                expires_at,
                redundant,
            } => {
                let node = self
                    .node
                    .as_mut()
                    .ok_or_else(|| refused("invoice: open a channel first"))?;
                let keys = PaymentKeys::from_bytes(*preimage, *secret);
                match redundant {
                    None => node.register_invoice(
                        keys.hash,
                        InvoiceRecord {
                            preimage: keys.preimage,
                            payment_secret: keys.secret,
                            amount_msat: *amount_msat,
                            min_final_cltv_expiry_delta: self.config.min_final_cltv_expiry_delta,
                            expires_at: Timestamp(*expires_at),
                        },
                    ),
                    Some((lock, degree)) => {
                        let amount_msat = amount_msat.ok_or_else(|| {
                            refused("invoice: a redundant invoice needs an amount")
                        })?;
                        let invoice = RedundantInvoice {
                            payment_secret: keys.secret,
                            amount_msat,
                            lock: *lock,
                            preimage: (*lock == LockKind::H2tlc).then_some(keys.preimage),
                            min_final_cltv_expiry_delta: self.config.min_final_cltv_expiry_delta,
                            expires_at: Timestamp(*expires_at),
                        };
                        if *lock == LockKind::Boomerang {
                            // The polynomial is drawn from the preimage, so a replay
                            // rebuilds it.
                            let poly = BoomerangPolynomial::from_seed(&keys.preimage.0, *degree);
                            node.register_boomerang(invoice, poly)
                        } else {
                            node.register_redundant(invoice)
                        }
                    }
                }
                .map_err(|e| refused(format!("invoice: {e}")))?;
                self.invoices.insert(
                    keys.hash,
                    Issued {
                        amount_msat: *amount_msat,
                        lock: redundant.map(|(l, _)| l),
                        secret: *secret,
                        created: clock.now,
                        paid: false,
                    },
                );
            }
            Input::PayRedundant {
                id,
                payment_hash,
                payment_secret,
                target,
                amount_msat,
                final_cltv_delta,
                ask,
            } => {
                let target_ix = self.check_payment(*id, target)?;
                let node = self.node.as_mut().expect("check_payment saw a channel");
                // Peers that did not advertise the lock in `init` (the daemon's list),
                // and every node whose announcement lacks its bit, anywhere.
                let mut ask = ask.clone();
                if let Some(bit) = lock_bit(ask.lock) {
                    let mut lacking: Vec<PublicKey> = self
                        .announced
                        .iter()
                        .filter(|(k, (a, _))| {
                            **k != self.me
                                && *k != target
                                && !node_gossip::has_bit(&a.features, bit)
                                && !ask.excluded.contains(k)
                        })
                        .map(|(k, _)| *k)
                        .collect();
                    lacking.sort();
                    ask.excluded.extend(lacking);
                }
                let ask = &ask;
                let excluded = ask
                    .excluded
                    .iter()
                    .filter_map(|p| self.graph.node_of(p))
                    .collect();
                let mut p = LiveRedundant::new(
                    *id,
                    self.graph.directory().graph().clone(),
                    self.graph.me(),
                    (*target, target_ix),
                    *amount_msat,
                    (PaymentHash(*payment_hash), PaymentSecret(*payment_secret)),
                    ask,
                    excluded,
                    *final_cltv_delta,
                    self.secret_seed,
                    clock.now,
                )
                .map_err(refused)?;
                let (at, timer) = p.deadline_timer();
                fx.push(Effect::Timer { at, timer });
                p.pump(node, clock, &mut self.out);
                if p.is_done() {
                    self.finished.push(*id);
                }
                self.redundant.insert(*id, p);
                self.drain(clock, &mut fx);
            }
            Input::Pay {
                id,
                payment_hash,
                payment_secret,
                keysend_preimage,
                target,
                amount_msat,
                max_parts,
                final_cltv_delta,
            } => {
                let target_ix = self.check_payment(*id, target)?;
                let node = self.node.as_mut().expect("check_payment saw a channel");
                let mut p = LivePayment::new(
                    *id,
                    self.graph.directory().graph().clone(),
                    self.graph.me(),
                    target_ix,
                    *amount_msat,
                    PaymentHash(*payment_hash),
                    PaymentSecret(*payment_secret),
                    keysend_preimage.map(PaymentPreimage),
                    *max_parts,
                    *final_cltv_delta,
                    clock.now,
                );
                p.pump(node, clock, &mut self.out);
                if p.is_done() {
                    self.finished.push(*id);
                }
                self.payments.insert(*id, p);
                self.drain(clock, &mut fx);
            }
        }
        Ok(fx)
    }

    fn open(
        &mut self,
        (channel_id, peer, capacity_sat): ([u8; 32], PublicKey, u64),
        (local_msat, remote_msat): (u64, u64),
        (own, params): (policy::OwnPolicy, Option<&policy::OpenParams>),
        clock: &Clock,
        fx: &mut Vec<Effect>,
    ) -> Result<(), CommandError> {
        if peer == self.me {
            return Err(refused("a channel with this node itself"));
        }
        own.check_for(capacity_sat)
            .map_err(|e| refused(format!("policy: {e}")))?;
        let now_secs = (clock.now.0 / 1_000_000) as u32;
        let policy = own.to_policy(capacity_sat, now_secs);
        let ch = self
            .graph
            .add_own_channel(channel_id, peer, capacity_sat, policy)
            .map_err(|e| refused(e.to_string()))?;
        self.opening.insert(ch, (local_msat, remote_msat));
        self.reseat()?;
        if let (Some(p), Some(node)) = (params, self.node.as_mut()) {
            node.set_channel_params(ch, &p.local, &p.remote);
            self.params.insert(ch, *p);
        }
        self.announce_own(ch, policy, fx);
        // Our node announcement again: nodes that heard it before they knew a channel
        // of ours dropped it.
        if let Some((_, bytes)) = self.announced.get(&self.me) {
            fx.push(Effect::NodeGossip {
                except: None,
                node: self.me,
                bytes: bytes.clone(),
            });
        }
        Ok(())
    }

    /// `set-policy`: a new policy for this node's direction of a channel, announced
    /// with a timestamp newer than the last one (one second on when the clock has not
    /// moved), and enforced by the forwarding checks from now on.
    fn set_policy(
        &mut self,
        channel_id: &[u8; 32],
        own: &policy::OwnPolicy,
        clock: &Clock,
        fx: &mut Vec<Effect>,
    ) -> Result<(), CommandError> {
        let ch = self
            .graph
            .channel_of(channel_id)
            .filter(|c| self.graph.own_channel(*c).is_some())
            .ok_or_else(|| {
                refused(format!(
                    "set-policy: no channel {} of this node",
                    hex(channel_id)
                ))
            })?;
        let (_, _, capacity_sat, _) = self.graph.own_channel(ch).expect("filtered above");
        own.check_for(capacity_sat)
            .map_err(|e| refused(format!("set-policy: {e}")))?;
        let last = self
            .graph
            .policies(ch)
            .and_then(|(mine, _)| mine)
            .map_or(0, |p| p.last_update);
        let now_secs = (clock.now.0 / 1_000_000) as u32;
        let policy = own.to_policy(capacity_sat, now_secs.max(last.saturating_add(1)));
        self.graph.set_own_policy(ch, policy);
        self.reseat()?;
        self.announce_own(ch, policy, fx);
        Ok(())
    }

    /// Puts the node on the current directory, creating it with the first channel.
    fn reseat(&mut self) -> Result<(), CommandError> {
        let dir = self.graph.directory().clone();
        let opening = &self.opening;
        let balances = |c: ChannelIdx| opening.get(&c).copied().unwrap_or((0, 0));
        let peer_config = NodeConfig::default();
        match self.node.as_mut() {
            Some(n) => n
                .grow(dir.clone(), balances, &peer_config)
                .map_err(|e| refused(format!("engine: {e}")))?,
            None => {
                let mut n = Node::new_live(
                    dir.clone(),
                    self.graph.me(),
                    self.config.clone(),
                    balances,
                    &peer_config,
                )
                .map_err(|e| refused(format!("engine: {e}")))?;
                n.set_block_interval(std::time::Duration::from_secs(600));
                self.node = Some(n);
            }
        }
        if let Some(n) = self.node.as_mut() {
            n.enable_real_onions(self.secret, self.onion_seed, dir);
            n.set_reply_node(self.me.serialize());
        }
        if let Some(t) = &self.topology {
            onion_route::publish(t, self.graph.topology());
        }
        Ok(())
    }

    fn peer_message(&mut self, from: PublicKey, bytes: &[u8], clock: &Clock, fx: &mut Vec<Effect>) {
        let warn = |fx: &mut Vec<Effect>, text: String| {
            fx.push(Effect::Warn { to: from, text });
        };
        let message = match wire::decode(bytes) {
            Ok(m) => m,
            Err(e) => return warn(fx, e.to_string()),
        };
        let (Some(node), Some(from_ix)) = (self.node.as_mut(), self.graph.node_of(&from)) else {
            return warn(
                fx,
                format!("{}: no channel with you", message.message_type().name()),
            );
        };
        let channel_id = match &message {
            Message::UpdateAddHtlc(m) => Some(m.channel_id),
            Message::UpdateFulfillHtlc(m) => Some(m.channel_id),
            Message::UpdateFailHtlc(m) => Some(m.channel_id),
            Message::UpdateFailMalformedHtlc(m) => Some(m.channel_id),
            Message::CommitmentSigned(m) => Some(m.channel_id),
            Message::RevokeAndAck(m) => Some(m.channel_id),
            Message::BoomerangRefund(m) => Some(m.channel_id),
            Message::CancelHtlc(m) => Some(m.channel_id),
            Message::RefundAnswer(m) => Some(m.channel_id),
            _ => None,
        };
        let channel = match channel_id {
            Some(id) => match self.graph.channel_of(&id.0) {
                Some(c) if self.graph.is_between(c, from_ix, self.graph.me()) => c,
                _ => {
                    return warn(
                        fx,
                        format!(
                            "{} for channel {}, which we do not share",
                            message.message_type().name(),
                            hex(&id.0)
                        ),
                    )
                }
            },
            None => ChannelIdx(0),
        };
        if let Message::RefundAnswer(a) = &message {
            // Our claim over a fulfilled boomerang HTLC was answered: the value comes
            // back to our side only now that the peer paid it.
            let htlc = HtlcRef { channel, id: a.id };
            if !node.refund_awaited(htlc) {
                return warn(
                    fx,
                    format!(
                        "boomerang_refund_answer for htlc {} on {}, which we did not claim",
                        a.id,
                        hex(&a.channel_id.0)
                    ),
                );
            }
            if a.accepted {
                node.refund_delivered(htlc, a.amount_msat, &mut self.out);
            } else {
                node.refund_refused(htlc, &mut self.out);
            }
            self.drain(clock, fx);
            return;
        }
        let refund = match &message {
            Message::BoomerangRefund(m) => Some((m.channel_id, m.id, m.amount_msat)),
            _ => None,
        };
        let msg = match message {
            Message::CommitmentSigned(_) => Msg::CommitmentSigned { channel },
            Message::RevokeAndAck(_) => Msg::RevokeAndAck { channel },
            m => match wire::convert::to_msg(m, channel) {
                Ok(m) => m,
                Err(e) => return warn(fx, e.to_string()),
            },
        };
        let r: Result<(), PeerError> = node.handle_message(from_ix, msg, clock, &mut self.out);
        if let Some((channel_id, id, amount_msat)) = refund {
            // The claimant moves the value back only on our answer. A claim we cannot
            // pay (no longer funded, lapsed) is an outcome; any other refusal (a wrong
            // P(0), an unknown HTLC) is also a protocol breach, warned about below.
            fx.push(Effect::Send {
                to: from,
                message: Message::RefundAnswer(RefundAnswer {
                    channel_id,
                    id,
                    amount_msat,
                    accepted: r.is_ok(),
                }),
            });
            if matches!(
                r,
                Err(PeerError::RefundUnfunded(_) | PeerError::RefundLapsed(_))
            ) {
                self.drain(clock, fx);
                return;
            }
        }
        if let Err(e) = r {
            warn(fx, e.to_string());
        }
        self.drain(clock, fx);
    }

    /// Turns the node's outputs into effects, and feeds events to payments.
    fn drain(&mut self, clock: &Clock, fx: &mut Vec<Effect>) {
        let mut i = 0;
        // Payments may send more parts while events are handled: loop until no output
        // is left.
        while i < self.out.len() {
            let o = self.out[i].clone();
            i += 1;
            match o {
                Output::Message { to, msg, .. } => {
                    let Some(peer) = self.graph.pubkey(to) else {
                        continue;
                    };
                    if let Msg::Endpoint(e) = &msg {
                        // Not on the peer stream: routed through the network.
                        let message = wire::convert::endpoint_to_wire(e);
                        self.endpoint_out(peer, message, clock, fx);
                        continue;
                    }
                    let cid = msg
                        .channel()
                        .and_then(|c| self.graph.channel_id(c))
                        .unwrap_or([0; 32]);
                    let message = match msg {
                        Msg::CommitmentSigned { .. } => {
                            Message::CommitmentSigned(CommitmentSigned {
                                channel_id: ChannelId(cid),
                                // No commitment transaction exists without a chain: the
                                // exchange orders and acknowledges updates, and signs
                                // nothing.
                                signature: [0; 64],
                                htlc_signatures: Vec::new(),
                            })
                        }
                        Msg::RevokeAndAck { .. } => Message::RevokeAndAck(RevokeAndAck {
                            channel_id: ChannelId(cid),
                            per_commitment_secret: [0; 32],
                            next_per_commitment_point: self.me,
                        }),
                        m => match wire::convert::to_wire(&m, ChannelId(cid)) {
                            Ok(w) => w,
                            Err(e) => {
                                tracing::error!("engine: a message without a wire form: {e}");
                                continue;
                            }
                        },
                    };
                    fx.push(Effect::Send { to: peer, message });
                }
                Output::Timer { at, timer, .. } => fx.push(Effect::Timer { at, timer }),
                Output::Event { event, .. } => self.on_event(event, clock),
            }
        }
        self.out.clear();
    }

    fn on_event(&mut self, event: Event, clock: &Clock) {
        match &event {
            Event::PartSettled { part, .. }
            | Event::PartFailed { part, .. }
            | Event::PartRefunded { part, .. }
                if self
                    .redundant
                    .contains_key(&RedundantSession::session_of(*part)) =>
            {
                let id = RedundantSession::session_of(*part);
                let (Some(p), Some(node)) = (self.redundant.get_mut(&id), self.node.as_mut())
                else {
                    return;
                };
                let was_done = p.is_done();
                p.on_event(&event, node, clock, &mut self.out);
                if !was_done && p.is_done() {
                    self.finished.push(id);
                }
            }
            // A claim request over the peer stream (from a node that predates onion
            // messages): answered like one that came as an onion message.
            Event::ClaimRequested {
                payment_id, parts, ..
            } => {
                let id = RedundantSession::session_of_payment_id(payment_id);
                let (Some(p), Some(node)) = (self.redundant.get_mut(&id), self.node.as_mut())
                else {
                    return;
                };
                if p.payment_id() != *payment_id {
                    return;
                }
                let was_done = p.is_done();
                p.on_claim_request(parts, node, clock, &mut self.out);
                if !was_done && p.is_done() {
                    self.finished.push(id);
                }
            }
            Event::PartSettled { part, .. } | Event::PartFailed { part, .. } => {
                let id = pay::payment_of(*part);
                let (Some(p), Some(node)) = (self.payments.get_mut(&id), self.node.as_mut()) else {
                    return;
                };
                let was_done = p.is_done();
                p.on_event(&event, node, clock, &mut self.out);
                if !was_done && p.is_done() {
                    self.finished.push(id);
                }
            }
            Event::PaymentReceived {
                payment_hash,
                amount_msat,
                parts,
            } => {
                // A `sender_hash` or `boomerang` payment names its payment id, which
                // our senders make from the invoice's secret (its last 24 bytes,
                // `RedundantSession::payment_id_for`): find the invoice by it.
                let hash = if self.invoices.contains_key(payment_hash) {
                    *payment_hash
                } else {
                    self.invoices
                        .iter()
                        .filter(|(_, i)| i.lock.is_some() && !i.paid)
                        .find(|(_, i)| i.secret[8..] == payment_hash.0[8..])
                        .map_or(*payment_hash, |(h, _)| *h)
                };
                if let Some(i) = self.invoices.get_mut(&hash) {
                    i.paid = true;
                }
                self.received.push(Received {
                    payment_hash: hash,
                    amount_msat: *amount_msat,
                    parts: *parts,
                    at: clock.now,
                });
            }
            // A refund of a part no redundant payment of ours has.
            Event::PartRefunded { .. } => {}
        }
    }

    /// What every payment command checks first: a new id, a channel to pay from, and a
    /// receiver in the known network other than this node. Returns the receiver's index.
    fn check_payment(&self, id: u64, target: &PublicKey) -> Result<NodeIdx, CommandError> {
        if self.payments.contains_key(&id) || self.redundant.contains_key(&id) {
            return Err(refused(format!("payment {id} exists")));
        }
        if self.node.is_none() {
            return Err(refused("pay: this node has no channel"));
        }
        let Some(target_ix) = self.graph.node_of(target) else {
            return Err(refused(format!(
                "pay: {target} is not in the known network (no channel to it has been announced)"
            )));
        };
        if *target == self.me {
            return Err(refused("pay: that is this node"));
        }
        Ok(target_ix)
    }
}

/// The feature bit a redundant payment's lock needs of every hop, if any.
pub fn lock_bit(lock: LockKind) -> Option<usize> {
    match lock {
        LockKind::H2tlc => Some(crate::features::H2TLC_BIT),
        LockKind::Boomerang => Some(crate::features::POINT_LOCK_BIT),
        _ => None,
    }
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    // Every logged peer message goes through here (an add's onion is 1,366 bytes):
    // one push per digit, not one formatted string per byte.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(char::from(DIGITS[usize::from(x >> 4)]));
        s.push(char::from(DIGITS[usize::from(x & 15)]));
    }
    s
}

/// Hex back to bytes.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests;
