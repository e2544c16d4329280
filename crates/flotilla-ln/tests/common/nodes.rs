//! A hand driver of per-node state machines: one [`Node`] per graph node, built with
//! [`Node::build_all`] on a [`Directory`], with no `Network` in between. The test picks
//! which in-flight message is delivered next (any order: the collapsed model lets
//! messages overtake each other), applies the collapsed mode's lock-in itself (a
//! delivered fulfil or fail is reported to its sender with [`Node::removal_delivered`]),
//! fires timers when it chooses, and checks after every step that each node's books
//! hold ([`Node::check`]) and that the two ends of every channel agree, modulo the adds
//! still in flight.
//!
//! The sender's user is modelled too: a claim request that reaches a redundant payment's
//! sender is answered at once with the sender's reveal (a message like any other).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use flotilla_graph::liquidity::Balances;
use flotilla_graph::{ChannelIdx, Direction, Graph, NodeIdx};
use flotilla_ln::clock::Clock;
use flotilla_ln::config::NodeConfig;
use flotilla_ln::msg::{HtlcRef, Msg, PartTrace};
use flotilla_ln::node::{Directory, Node, PeerError};
use flotilla_ln::output::{Event, Output, Timer};
use flotilla_ln::redundant::RedundantSender;
use flotilla_route::Timestamp;

/// The block height the driver starts at.
pub const HEIGHT0: u32 = 800_000;

/// A message in flight: `(from, to, msg)`.
pub type InFlight = (NodeIdx, NodeIdx, Msg);

/// The hand driver. `Clone`, so a test can explore several delivery orders from one
/// state.
#[derive(Clone, Debug)]
pub struct Nodes {
    pub dir: Arc<Directory>,
    pub nodes: Vec<Node>,
    pub clock: Clock,
    /// Messages emitted and not yet delivered, in emission order.
    pub pool: Vec<InFlight>,
    /// Timers set and not yet fired.
    pub timers: Vec<(Timestamp, NodeIdx, Timer)>,
    /// Every event, in order.
    pub events: Vec<(NodeIdx, Event)>,
    /// Every message delivered successfully, in order (for replays).
    pub delivered: Vec<InFlight>,
    /// Redundant payments' senders, by payment id (the sender's user answers claim
    /// requests with them).
    pub senders: BTreeMap<[u8; 32], RedundantSender>,
    /// Steps taken (deliveries, timer firings, commands).
    pub steps: usize,
    out: Vec<Output>,
    lock_log: Vec<(PartTrace, u128)>,
}

impl Nodes {
    /// One node per node of `g`, with `configs` (default configs if `None`).
    pub fn new(g: Graph, balances: Balances, configs: Option<Vec<NodeConfig>>) -> Self {
        let configs = configs.unwrap_or_else(|| vec![NodeConfig::default(); g.node_count()]);
        for c in &configs {
            c.validate().expect("test configs are valid");
        }
        assert!(balances.fits(&g), "balances fit the graph");
        let dir = Arc::new(Directory::new(Arc::new(g)));
        let nodes = Node::build_all(&dir, &configs, &balances);
        let n = Nodes {
            dir,
            nodes,
            clock: Clock::new(Timestamp::from_secs(1), HEIGHT0),
            pool: Vec::new(),
            timers: Vec::new(),
            events: Vec::new(),
            delivered: Vec::new(),
            senders: BTreeMap::new(),
            steps: 0,
            out: Vec::new(),
            lock_log: Vec::new(),
        };
        n.check().expect("a fresh network is consistent");
        n
    }

    /// Switches every node to real BOLT 4 onions: node `i` gets the key
    /// `node_key_from_seed(seed + i)`, and every node learns every public key.
    pub fn enable_real_onions(&mut self, seed: u64) {
        let secp = bitcoin::secp256k1::Secp256k1::signing_only();
        let keys: Vec<_> = (0..self.nodes.len())
            .map(|i| flotilla_ln::invoice::node_key_from_seed(seed + i as u64))
            .collect();
        let pubkeys = keys.iter().map(|k| k.public_key(&secp)).collect();
        let dir = Arc::new((*self.dir).clone().with_onion_pubkeys(pubkeys));
        for (n, k) in self.nodes.iter_mut().zip(keys) {
            n.enable_real_onions(k, seed, dir.clone());
        }
        self.dir = dir;
    }

    pub fn graph(&self) -> &Arc<Graph> {
        self.dir.graph()
    }

    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    pub fn node_mut(&mut self, i: usize) -> &mut Node {
        &mut self.nodes[i]
    }

    /// Runs `f` on node `i` with the driver's clock and output buffer (a command: send a
    /// part, reveal, cancel, …), then absorbs what it emitted and checks.
    pub fn command<R>(
        &mut self,
        i: usize,
        f: impl FnOnce(&mut Node, &Clock, &mut Vec<Output>) -> R,
    ) -> R {
        let clock = self.clock;
        let r = f(&mut self.nodes[i], &clock, &mut self.out);
        self.absorb(i);
        r
    }

    /// Takes what the nodes emitted: messages into the pool, timers, events. A claim
    /// request's arrival at its sender is answered by the sender's user at once.
    fn absorb(&mut self, acted: usize) {
        while !self.out.is_empty() {
            let outs: Vec<Output> = self.out.drain(..).collect();
            for o in outs {
                match o {
                    Output::Message { from, to, msg } => self.pool.push((from, to, msg)),
                    Output::Timer { at, node, timer } => self.timers.push((at, node, timer)),
                    Output::Event { node, event } => {
                        if let Event::ClaimRequested {
                            receiver,
                            payment_id,
                            parts,
                        } = &event
                        {
                            if let Some(secrets) = self
                                .senders
                                .get_mut(payment_id)
                                .and_then(|s| s.answer(parts))
                            {
                                self.nodes[node.ix()].reveal(
                                    *receiver,
                                    *payment_id,
                                    secrets,
                                    &mut self.out,
                                );
                            }
                        }
                        self.events.push((node, event));
                    }
                }
            }
        }
        // The lock times of other nodes' parts this node resolved go to their senders
        // (what `Network` does after every step).
        self.nodes[acted].drain_lock_log(&mut self.lock_log);
        for (t, v) in self.lock_log.drain(..) {
            if let Some(s) = self.nodes.get_mut(t.sender as usize) {
                s.charge_part(t.slot, t.seq, v);
            }
        }
        self.steps += 1;
        if let Err(e) = self.check() {
            panic!("invariant broken after step {}: {e}", self.steps);
        }
    }

    /// Hands `msg` from `from` to `to`, as the collapsed model says: the receiving node
    /// handles it; a fulfil or fail that it accepted takes effect at its sender too.
    /// Does not touch the pool. On error nothing may have changed (the caller checks).
    pub fn hand(&mut self, from: NodeIdx, to: NodeIdx, msg: Msg) -> Result<(), PeerError> {
        let removal = removal_of(&msg);
        let clock = self.clock;
        let kept = msg.clone();
        self.nodes[to.ix()].handle_message(from, msg, &clock, &mut self.out)?;
        if let Some((h, fulfilled)) = removal {
            assert!(
                self.nodes[from.ix()].removal_delivered(h, fulfilled),
                "a removal the receiver accepted was one its sender had begun"
            );
        }
        self.delivered.push((from, to, kept));
        self.absorb(to.ix());
        Ok(())
    }

    /// Delivers the message at `i` in the pool (an honest message: it must be accepted).
    pub fn deliver(&mut self, i: usize) {
        let (from, to, msg) = self.pool.remove(i);
        let name = msg.name();
        if let Err(e) = self.hand(from, to, msg) {
            panic!("honest {name} from {from:?} to {to:?} refused: {e}");
        }
    }

    /// Delivers the first message in the pool matching `f`; panics if there is none.
    pub fn deliver_where(&mut self, f: impl Fn(&InFlight) -> bool) {
        let i = self
            .pool
            .iter()
            .position(f)
            .expect("a matching message in flight");
        self.deliver(i);
    }

    /// Index in the pool of the first message matching `f`.
    pub fn find(&self, f: impl Fn(&InFlight) -> bool) -> Option<usize> {
        self.pool.iter().position(f)
    }

    /// Replays a message that was already delivered: it must be refused with a
    /// [`PeerError`] and change nothing at either node, even if the driver (wrongly)
    /// reports a removal's lock-in to its sender again. Returns the error.
    pub fn replay(&mut self, (from, to, msg): InFlight) -> PeerError {
        let removal = removal_of(&msg);
        let e = self.refuse(from, to, msg);
        if let Some((h, fulfilled)) = removal {
            let before = self.fingerprint();
            assert!(!self.nodes[from.ix()].removal_delivered(h, fulfilled));
            assert_eq!(first_difference(&before, &self.fingerprint()), None);
        }
        e
    }

    /// Replays an endpoint message (claim request, reveal, cancel) that was already
    /// delivered. Endpoint messages are not refused (they travel as onion messages and
    /// are acted on when they make sense), but a second copy must change nothing: no
    /// node's state, no message or timer emitted (at most the sender's user hears of
    /// the claim request again).
    pub fn replay_endpoint(&mut self, (from, to, msg): InFlight) {
        assert!(matches!(msg, Msg::Endpoint(_)));
        let before = self.fingerprint();
        let clock = self.clock;
        let name = msg.name();
        let _ = self.nodes[to.ix()].handle_message(from, msg, &clock, &mut self.out);
        for o in self.out.drain(..) {
            assert!(
                matches!(
                    o,
                    Output::Event {
                        event: Event::ClaimRequested { .. },
                        ..
                    }
                ),
                "a replayed {name} emitted {o:?}"
            );
        }
        if let Some(d) = first_difference(&before, &self.fingerprint()) {
            panic!("a replayed {name} changed a node: {d}");
        }
        self.check()
            .expect("invariants after a replayed endpoint message");
    }

    /// Hands `to` a message it must refuse: a [`PeerError`], nothing emitted, every node
    /// unchanged (a refused claim only counts one more overclaim attempt) and every
    /// invariant intact. Returns the error.
    pub fn refuse(&mut self, from: NodeIdx, to: NodeIdx, msg: Msg) -> PeerError {
        let before = self.fingerprint();
        let overclaims = self.nodes[to.ix()].counters().overclaim_attempts;
        let clock = self.clock;
        let name = msg.name();
        let r = self.nodes[to.ix()].handle_message(from, msg, &clock, &mut self.out);
        let e = match r {
            Ok(()) => panic!("{name} from {from:?} to {to:?} was accepted"),
            Err(e) => e,
        };
        assert!(
            self.out.is_empty(),
            "a refused {name} emitted {:?}",
            self.out
        );
        let claims = self.nodes[to.ix()].counters().overclaim_attempts - overclaims;
        let is_claim = matches!(
            e,
            PeerError::WrongPreimage(_) | PeerError::WrongSenderSecret(_)
        );
        assert_eq!(
            claims,
            u64::from(is_claim),
            "overclaim attempts counted for {e}"
        );
        let strip =
            |v: Vec<String>| -> Vec<String> { v.iter().map(|s| without_overclaims(s)).collect() };
        if let Some(d) = first_difference(&strip(before), &strip(self.fingerprint())) {
            panic!("refused {name} ({e}) changed a node: {d}");
        }
        self.check().expect("invariants after a refused message");
        e
    }

    /// Every node's full state, as text (nodes derive `Debug`), without the time of the
    /// last entry point (see [`state_of`]).
    pub fn fingerprint(&self) -> Vec<String> {
        self.nodes.iter().map(state_of).collect()
    }

    /// Fires the earliest timer, moving the clock (and the height, one block per 600 s)
    /// to its time if it is later. False if none is set.
    pub fn fire_next_timer(&mut self) -> bool {
        let Some(i) = (0..self.timers.len()).min_by_key(|&i| (self.timers[i].0, i)) else {
            return false;
        };
        let (at, node, timer) = self.timers.remove(i);
        self.advance_to(at);
        let clock = self.clock;
        // An HTLC timed out on chain is seen by both of its nodes at the same block.
        let holder = match &timer {
            Timer::HtlcExpiry { htlc } => {
                let n = &self.nodes[node.ix()];
                n.htlc_by_wire(*htlc, true)
                    .and_then(|id| n.htlc(id))
                    .map(|h| (self.dir.graph().edge_target(h.edge), h.wire))
            }
            _ => None,
        };
        self.nodes[node.ix()].handle_timer(timer, &clock, &mut self.out);
        if let Some((peer, wire)) = holder {
            self.nodes[peer.ix()].peer_timed_out(wire);
        }
        self.absorb(node.ix());
        true
    }

    /// Moves the clock forward to `at` (never back).
    pub fn advance_to(&mut self, at: Timestamp) {
        if at > self.clock.now {
            let blocks = (at.micros() - Timestamp::from_secs(1).micros()) / 600_000_000;
            self.clock = Clock::new(at, HEIGHT0 + blocks as u32);
        }
    }

    /// Delivers every message in emission order, then fires timers, until nothing is
    /// left.
    pub fn quiesce(&mut self) {
        loop {
            if !self.pool.is_empty() {
                self.deliver(0);
            } else if !self.fire_next_timer() {
                return;
            }
        }
    }

    /// Live HTLC records over all nodes.
    pub fn live_records(&self) -> usize {
        self.nodes.iter().map(|n| n.live_htlcs()).sum()
    }

    /// The outcomes of part `id`: `true` settled, `false` failed.
    pub fn outcomes(&self, id: u64) -> Vec<bool> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::PartSettled { part, .. } if part.0 == id => Some(true),
                Event::PartFailed { part, .. } if part.0 == id => Some(false),
                _ => None,
            })
            .collect()
    }

    /// Every node's books, then the cross-node agreement of each channel's two ends:
    /// every HTLC a node accepted is one its peer offered, on the same terms; each side's
    /// balance, pending sum and count in its owner's view equal the peer's view less the
    /// adds the owner sent that the peer has not seen yet.
    pub fn check(&self) -> Result<(), String> {
        for n in &self.nodes {
            n.check().map_err(|e| e.to_string())?;
        }
        let g = self.dir.graph();
        let mut in_flight = vec![(0u64, 0u32); g.edge_slots()];
        for n in &self.nodes {
            for (_, h) in n.htlcs() {
                let peer = &self.nodes[g.edge_target(h.edge).ix()];
                if h.is_offered() {
                    if peer.htlc_by_wire(h.wire, false).is_none() {
                        let f = &mut in_flight[h.edge.ix()];
                        f.0 += h.amount_msat;
                        f.1 += 1;
                    }
                    continue;
                }
                let offerer = &self.nodes[g.edge_source(h.edge).ix()];
                let Some(oid) = offerer.htlc_by_wire(h.wire, true) else {
                    return Err(format!(
                        "node {} holds {:?}, which node {} did not offer",
                        n.id().0,
                        h.wire,
                        offerer.id().0
                    ));
                };
                let o = offerer.htlc(oid).expect("indexed records are live");
                if (o.amount_msat, o.payment_hash, o.lock, o.cltv_expiry, o.edge)
                    != (h.amount_msat, h.payment_hash, h.lock, h.cltv_expiry, h.edge)
                {
                    return Err(format!("{:?}: the two ends hold different terms", h.wire));
                }
            }
        }
        for (i, c) in g.channels().iter().enumerate() {
            let ch = ChannelIdx(i as u32);
            for d in Direction::BOTH {
                let e = ch.edge(d);
                let owner = &self.nodes[c.from_node(d).ix()];
                let peer = &self.nodes[c.to_node(d).ix()];
                let mine = &owner.ends()[self.dir.end_of(e)].local;
                let seen = &peer.ends()[self.dir.end_of(e.reverse())].remote;
                let f = in_flight[e.ix()];
                if mine.balance_msat + f.0 != seen.balance_msat
                    || mine.pending_msat != seen.pending_msat + f.0
                    || mine.pending_count != seen.pending_count + f.1
                {
                    return Err(format!(
                        "channel {i} side {d:?}: owner sees {mine:?}, peer sees {seen:?}, {f:?} in flight"
                    ));
                }
            }
        }
        Ok(())
    }

    /// At quiescence: no HTLC record anywhere, every channel's two ends mirror each
    /// other and its balances sum to its capacity, and every node's value is its start
    /// plus what it was paid minus what it paid (Σ over nodes = Σ capacities).
    pub fn check_quiescent(&self) -> Result<(), String> {
        self.check()?;
        if self.live_records() != 0 {
            return Err(format!("{} HTLC records left", self.live_records()));
        }
        let g = self.dir.graph();
        let mut total = 0u128;
        let mut capacity = 0u128;
        for (i, c) in g.channels().iter().enumerate() {
            let ch = ChannelIdx(i as u32);
            let a = &self.nodes[c.nodes[0].ix()].ends()[self.dir.end_of(ch.edge(Direction::AToB))];
            let b = &self.nodes[c.nodes[1].ix()].ends()[self.dir.end_of(ch.edge(Direction::BToA))];
            if a.local != b.remote || a.remote != b.local {
                return Err(format!("channel {i}: the ends differ at quiescence"));
            }
            if a.local.balance_msat + b.local.balance_msat != c.capacity_msat() {
                return Err(format!("channel {i}: balances do not sum to the capacity"));
            }
            total += (a.local.balance_msat + b.local.balance_msat) as u128;
            capacity += c.capacity_msat() as u128;
        }
        if total != capacity {
            return Err(format!("Σ balances {total} ≠ Σ capacities {capacity}"));
        }
        let start: u128 = self.nodes.iter().map(|n| n.initial_value() as u128).sum();
        if start != capacity {
            return Err(format!(
                "Σ initial values {start} ≠ Σ capacities {capacity}"
            ));
        }
        Ok(())
    }
}

/// The HTLC a removal names and whether it is a fulfil.
pub fn removal_of(msg: &Msg) -> Option<(HtlcRef, bool)> {
    match msg {
        Msg::FulfillHtlc(m) => Some((m.htlc, true)),
        Msg::FailHtlc(m) => Some((m.htlc, false)),
        Msg::FailMalformedHtlc(m) => Some((m.htlc, false)),
        _ => None,
    }
}

/// Whether `m` is a message of type `name` from `from` to `to`.
pub fn is(m: &InFlight, name: &str, from: usize, to: usize) -> bool {
    m.0.ix() == from && m.1.ix() == to && m.2.name() == name
}

/// A node's full state as text, without `now`: every entry point records the time it is
/// called at, even one that refuses its message, and that is not protocol state (it
/// only moves forward, as the driver's clock does).
pub fn state_of(n: &Node) -> String {
    let mut s = format!("{n:?}");
    // The time and height of the last entry point are not state.
    for (field, close) in [(", now: Timestamp(", ')'), (", height: ", ',')] {
        if let Some(i) = s.find(field) {
            let end = i + s[i + field.len()..].find(close).expect("field end") + field.len();
            let end = if close == ')' { end + 1 } else { end };
            s = format!("{}{}", &s[..i], &s[end..]);
        }
    }
    s
}

/// Where two fingerprints first differ, with some context; `None` if they are equal.
pub fn first_difference(a: &[String], b: &[String]) -> Option<String> {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if x == y {
            continue;
        }
        let at = x
            .bytes()
            .zip(y.bytes())
            .position(|(p, q)| p != q)
            .unwrap_or(x.len().min(y.len()));
        let from = at.saturating_sub(160);
        let cut = |s: &str| {
            let lo = (from..=at.min(s.len()))
                .find(|&k| s.is_char_boundary(k))
                .unwrap_or(at);
            let hi = (at + 160).min(s.len());
            let hi = (hi..=s.len())
                .find(|&k| s.is_char_boundary(k))
                .unwrap_or(s.len());
            s[lo..hi].to_string()
        };
        return Some(format!("node {i}: before …{}… after …{}…", cut(x), cut(y)));
    }
    (a.len() != b.len()).then(|| "node counts differ".to_string())
}

/// `s` with the overclaim counter's value blanked.
pub fn without_overclaims(s: &str) -> String {
    const KEY: &str = "overclaim_attempts: ";
    match s.find(KEY) {
        Some(i) => {
            let start = i + KEY.len();
            let end = start + s[start..].bytes().take_while(u8::is_ascii_digit).count();
            format!("{}_{}", &s[..start], &s[end..])
        }
        None => s.to_string(),
    }
}
