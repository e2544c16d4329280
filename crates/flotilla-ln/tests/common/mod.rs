//! Test helpers: small graphs and a FIFO driver that delivers every message at once, in
//! the order it was emitted, and checks every invariant after every step.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bitcoin::secp256k1::SecretKey;
use flotilla_graph::liquidity::Balances;
use flotilla_graph::{
    Channel, ChannelIdx, Direction, EdgeIdx, Graph, GraphBuilder, Node, NodeIdx, NodePubkey,
    Policy, ShortChannelId,
};
use flotilla_ln::clock::Clock;
use flotilla_ln::config::NodeConfig;
use flotilla_ln::failure::Failure;
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::msg::{EndpointMsg, HtlcRef, Msg};
use flotilla_ln::network::Network;
use flotilla_ln::network::PeerError as DeliverError;
use flotilla_ln::onion::Onion;
use flotilla_ln::output::{Event, Output, Timer};
use flotilla_ln::payload::PaymentData;
use flotilla_ln::receiver::InvoiceRecord;
use flotilla_ln::redundant::{ClaimRequest, RedundantSendPart, RevealError};
use flotilla_ln::sender::{PartId, SendError, SendPart};
use flotilla_ln::{PaymentHash, PaymentPreimage};
use flotilla_route::{Path, PathFailure, Timestamp};

pub const HEIGHT: u32 = 800_000;

/// The policy every test channel starts with: 1000 msat + 100 ppm, delta 40,
/// minimum 1 sat.
pub fn policy() -> Policy {
    Policy {
        fee_base_msat: 1_000,
        fee_rate_ppm: 100,
        cltv_expiry_delta: 40,
        htlc_minimum_msat: 1_000,
        htlc_maximum_msat: u64::MAX / 2,
        disabled: false,
        last_update: 0,
    }
}

fn key(i: usize) -> NodePubkey {
    let mut secret = [0u8; 32];
    secret[24..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    NodePubkey::from_secret(secret).unwrap()
}

/// A graph of `n` nodes with the given channels (`(a, b, capacity_sat)`, scid = index
/// + 1), both directions with [`policy`].
pub fn graph(n: usize, channels: &[(usize, usize, u64)]) -> Graph {
    graph_with(n, channels, |_, _| Some(policy()))
}

/// Like [`graph`], with the policy of each (channel index, direction) chosen by `f`.
pub fn graph_with(
    n: usize,
    channels: &[(usize, usize, u64)],
    f: impl Fn(usize, Direction) -> Option<Policy>,
) -> Graph {
    let mut b = GraphBuilder::new();
    let nodes: Vec<NodeIdx> = (0..n)
        .map(|i| b.add_node(Node::bare(key(i))).unwrap())
        .collect();
    for (i, &(x, y, cap)) in channels.iter().enumerate() {
        b.add_channel(Channel {
            scid: ShortChannelId::from_parts(700_000, i as u64 + 1, 0).unwrap(),
            nodes: [nodes[x], nodes[y]],
            capacity_sat: cap,
            policies: [f(i, Direction::AToB), f(i, Direction::BToA)],
            chan_point: None,
            last_update: 0,
        })
        .unwrap();
    }
    b.build()
}

/// A line 0 — 1 — … — n-1 with `cap_sat` channels.
pub fn line(n: usize, cap_sat: u64) -> Graph {
    let ch: Vec<_> = (0..n - 1).map(|i| (i, i + 1, cap_sat)).collect();
    graph(n, &ch)
}

/// Balances with `share` of each channel on the `nodes[0]` side (the direction a line
/// pays in).
pub fn balances(g: &Graph, share: f64) -> Balances {
    let mut v = vec![0u64; g.edge_slots()];
    for (i, c) in g.channels().iter().enumerate() {
        let cap = c.capacity_msat();
        let a = (cap as f64 * share) as u64;
        v[ChannelIdx(i as u32).edge(Direction::AToB).ix()] = a;
        v[ChannelIdx(i as u32).edge(Direction::BToA).ix()] = cap - a;
    }
    Balances::from_vec(v)
}

/// The edge from `a` to `b`.
pub fn edge(g: &Graph, a: usize, b: usize) -> EdgeIdx {
    for e in g.out_edges(NodeIdx(a as u32)) {
        if g.edge_target(*e) == NodeIdx(b as u32) {
            return *e;
        }
    }
    panic!("no edge {a} → {b}");
}

/// The path along `nodes` delivering `amount` with final delta `final_cltv`.
pub fn path(g: &Graph, nodes: &[usize], amount: u64, final_cltv: u32) -> Path {
    let edges: Vec<EdgeIdx> = nodes.windows(2).map(|w| edge(g, w[0], w[1])).collect();
    Path::build(g, &edges, amount, final_cltv).unwrap()
}

/// Deterministic payment keys number `i`.
pub fn keys(i: u8) -> PaymentKeys {
    PaymentKeys::from_bytes([i; 32], [i.wrapping_add(100); 32])
}

/// An invoice record for `k` asking `amount` (or any amount).
pub fn invoice(k: &PaymentKeys, amount: Option<u64>) -> InvoiceRecord {
    InvoiceRecord {
        preimage: k.preimage,
        payment_secret: k.secret,
        amount_msat: amount,
        min_final_cltv_expiry_delta: 18,
        expires_at: Timestamp::from_secs(3_600),
    }
}

/// What a part ended with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Settled {
        preimage: PaymentPreimage,
        fee_msat: u64,
    },
    Failed {
        failure: Failure,
        path_failure: PathFailure,
    },
}

/// The FIFO driver.
pub struct Driver {
    pub net: Network,
    pub clock: Clock,
    pub queue: VecDeque<(NodeIdx, NodeIdx, Msg)>,
    pub timers: Vec<(Timestamp, NodeIdx, Timer)>,
    pub events: Vec<(NodeIdx, Event)>,
    /// Redundant payments' claim requests, in the order the receivers sent them (taken
    /// out of the queue: tests answer them by hand).
    pub claim_requests: Vec<ClaimRequest>,
    pub steps: usize,
    /// A message a test took out of the queue to hold back (an adversarial forwarder).
    pub held_add: Option<Msg>,
    out: Vec<Output>,
}

impl Driver {
    pub fn new(g: Graph, b: Balances, configs: Option<Vec<NodeConfig>>) -> Self {
        let n = g.node_count();
        let configs = configs.unwrap_or_else(|| vec![NodeConfig::default(); n]);
        let net = Network::new(Arc::new(g), b, configs).unwrap();
        Driver {
            net,
            clock: Clock::new(Timestamp::from_secs(1), HEIGHT),
            queue: VecDeque::new(),
            timers: Vec::new(),
            events: Vec::new(),
            claim_requests: Vec::new(),
            steps: 0,
            held_add: None,
            out: Vec::new(),
        }
    }

    /// A line of `n` nodes, all channels `cap_sat` with 90% on the paying side.
    pub fn line(n: usize, cap_sat: u64) -> Self {
        let g = line(n, cap_sat);
        let b = balances(&g, 0.9);
        Self::new(g, b, None)
    }

    pub fn graph(&self) -> Arc<Graph> {
        Arc::clone(self.net.graph())
    }

    fn absorb(&mut self) {
        for o in self.out.drain(..) {
            match o {
                Output::Message {
                    from,
                    to,
                    msg: Msg::Endpoint(EndpointMsg::ClaimRequest { payment_id, parts }),
                } => self.claim_requests.push(ClaimRequest {
                    receiver: from,
                    sender: Some(to),
                    payment_id,
                    parts,
                }),
                Output::Message { from, to, msg } => self.queue.push_back((from, to, msg)),
                Output::Timer { at, node, timer } => self.timers.push((at, node, timer)),
                Output::Event { node, event } => self.events.push((node, event)),
            }
        }
        self.net
            .check_invariants()
            .expect("invariants after every step");
        self.steps += 1;
    }

    /// Sends a redundant part.
    pub fn send_redundant(&mut self, part: RedundantSendPart<'_>) -> Result<(), SendError> {
        let r = self.net.send_redundant(part, &self.clock, &mut self.out);
        self.absorb();
        r.map(|_| ())
    }

    /// Node `sender` asks the first hop of its part `part` to stop it (`cancel_htlc`);
    /// whether a cancel went out.
    pub fn cancel_part(&mut self, sender: usize, part: u64) -> bool {
        let sent = self
            .net
            .cancel_part(NodeIdx(sender as u32), PartId(part), &mut self.out);
        self.absorb();
        sent
    }

    /// The sender's secrets reach `receiver`.
    pub fn reveal(
        &mut self,
        receiver: usize,
        payment_id: [u8; 32],
        secrets: Vec<(u16, [u8; 32])>,
    ) -> Result<(), RevealError> {
        let r = self.net.reveal_secrets(
            NodeIdx(receiver as u32),
            payment_id,
            secrets,
            &self.clock,
            &mut self.out,
        );
        self.absorb();
        r
    }

    /// `node` claims a held HTLC directly.
    pub fn claim_held(
        &mut self,
        node: usize,
        htlc: flotilla_ln::htlc::HtlcId,
        preimage: PaymentPreimage,
        sender_secret: Option<[u8; 32]>,
    ) -> Result<(), DeliverError> {
        let r = self.net.claim_held(
            NodeIdx(node as u32),
            htlc,
            preimage,
            sender_secret,
            &mut self.out,
        );
        self.absorb();
        r
    }

    /// `node` short-circuits the forward whose outgoing HTLC it held back.
    pub fn short_circuit(
        &mut self,
        node: usize,
        outgoing: HtlcRef,
        preimage: PaymentPreimage,
    ) -> Result<(), DeliverError> {
        let r =
            self.net
                .short_circuit_forward(NodeIdx(node as u32), outgoing, preimage, &mut self.out);
        self.absorb();
        r
    }

    pub fn send(&mut self, part: SendPart<'_>) -> Result<(), SendError> {
        let r = self.net.send(part, &self.clock, &mut self.out);
        self.absorb();
        r.map(|_| ())
    }

    /// Sends a part with a caller-built onion.
    pub fn send_custom(
        &mut self,
        id: u64,
        p: &Path,
        hash: PaymentHash,
        onion: Onion,
    ) -> Result<(), SendError> {
        let r = self
            .net
            .send_custom(PartId(id), p, hash, onion, &self.clock, &mut self.out);
        self.absorb();
        r.map(|_| ())
    }

    /// Sends an invoice payment part.
    pub fn pay(&mut self, id: u64, p: &Path, k: &PaymentKeys, total: u64) -> Result<(), SendError> {
        self.send(SendPart {
            id: PartId(id),
            path: p,
            payment_hash: k.hash,
            payment_data: Some(PaymentData {
                payment_secret: k.secret,
                total_msat: total,
            }),
            keysend_preimage: None,
        })
    }

    /// Delivers the oldest message; false when none is left.
    pub fn step(&mut self) -> bool {
        let Some((from, to, msg)) = self.queue.pop_front() else {
            return false;
        };
        self.net
            .deliver(to, from, msg, &self.clock, &mut self.out)
            .expect("driver delivers correctly");
        self.absorb();
        true
    }

    /// Node `sender` claims back the reverse clauses of its settled boomerang `parts`
    /// with `p0`; returns how many claims it sent (they travel when the queue runs).
    pub fn claim_reverse(&mut self, sender: usize, parts: &[u64], p0: &SecretKey) -> usize {
        let parts: Vec<PartId> = parts.iter().map(|&p| PartId(p)).collect();
        let n = self.net.node_mut(NodeIdx(sender as u32)).claim_reverse(
            &parts,
            p0,
            &self.clock,
            &mut self.out,
        );
        self.absorb();
        n
    }

    /// Every refund answer so far: (part, value back, refused).
    pub fn refunds(&self) -> Vec<(u64, u64, bool)> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::PartRefunded {
                    part,
                    amount_msat,
                    refused,
                    ..
                } => Some((part.0, *amount_msat, *refused)),
                _ => None,
            })
            .collect()
    }

    /// Delivers every message, including those the deliveries cause.
    pub fn run(&mut self) {
        while self.step() {}
    }

    /// Moves time forward by `d` (and the height by `blocks`), firing due timers in time
    /// order, then runs the queue.
    pub fn advance(&mut self, d: Duration, blocks: u32) {
        self.clock.now = self.clock.now + d.as_micros() as u64;
        self.clock.height += blocks;
        self.timers.sort_by_key(|(at, _, _)| *at);
        let due: Vec<_> = self
            .timers
            .iter()
            .filter(|(at, _, _)| *at <= self.clock.now)
            .cloned()
            .collect();
        self.timers.retain(|(at, _, _)| *at > self.clock.now);
        for (_, node, t) in due {
            self.net.fire(node, t, &self.clock, &mut self.out);
            self.absorb();
            self.run();
        }
        self.run();
    }

    /// The outcome of part `id`, if it ended.
    pub fn outcome(&self, id: u64) -> Option<Outcome> {
        self.events.iter().find_map(|(_, e)| match e {
            Event::PartSettled {
                part,
                preimage,
                fee_msat,
                ..
            } if part.0 == id => Some(Outcome::Settled {
                preimage: *preimage,
                fee_msat: *fee_msat,
            }),
            Event::PartFailed {
                part,
                failure,
                path_failure,
                ..
            } if part.0 == id => Some(Outcome::Failed {
                failure: failure.clone(),
                path_failure: *path_failure,
            }),
            _ => None,
        })
    }

    /// The failure of part `id` (panics if it did not fail).
    pub fn failure(&self, id: u64) -> Failure {
        match self.outcome(id) {
            Some(Outcome::Failed { failure, .. }) => failure,
            other => panic!("part {id}: expected a failure, got {other:?}"),
        }
    }

    /// Payments received by `node`: (hash, amount, parts).
    pub fn received(&self, node: usize) -> Vec<(PaymentHash, u64, u32)> {
        self.events
            .iter()
            .filter(|(n, _)| n.ix() == node)
            .filter_map(|(_, e)| match e {
                Event::PaymentReceived {
                    payment_hash,
                    amount_msat,
                    parts,
                } => Some((*payment_hash, *amount_msat, *parts)),
                _ => None,
            })
            .collect()
    }

    /// `node`'s balance on its channel towards `peer`.
    pub fn balance(&self, node: usize, peer: usize) -> u64 {
        let g = self.net.graph();
        self.net.edge_state(edge(g, node, peer)).balance_msat
    }
}

/// The receiver of [`fan`].
pub const FAN_RECEIVER: usize = 9;

/// The sender 0 reaches the receiver 9 over `n` disjoint two-hop paths 0 — i — 9
/// (channels of 1,000,000 sat, 90% on the paying side).
pub fn fan(n: usize, configs: Option<Vec<NodeConfig>>) -> (Driver, Graph) {
    let mut ch = Vec::new();
    for i in 1..=n {
        ch.push((0, i, 1_000_000));
        ch.push((i, FAN_RECEIVER, 1_000_000));
    }
    let g = graph(10, &ch);
    let b = balances(&g, 0.9);
    let d = Driver::new(g, b, configs);
    let g = (*d.graph()).clone();
    (d, g)
}
