//! The daemon's side of the engine: every input goes through [`Shared::feed`], which
//! applies it, logs it with the messages it produced in one SQLite transaction, and
//! only then sends them, sets the timers and answers waiting payers; the peer streams'
//! re-establishment; the payment commands.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bitcoin::secp256k1::PublicKey;
use flotilla_ln::invoice::{decode_invoice, PaymentKeys};
use flotilla_ln::wire;
use serde_json::json;
use tokio::sync::oneshot;

use super::{lock, Shared};
use crate::engine::input::timer_loggable;
use crate::engine::redundant::{RedundantAsk, DEFAULT_BASE_PARTS};
use crate::engine::{clock_at, wall_clock, Effect, Engine, Input};
use crate::error::NodeError;
use crate::store::Store;
use crate::transport::setup::{SetupMessage, ANNOUNCE_LEN};
use flotilla_ln::lock::LockKind;

/// A command for the writer task: builds its input under the engine's lock.
pub type Make = Box<dyn FnOnce(&Engine) -> Result<(Input, serde_json::Value), String> + Send>;

/// What the writer task takes: a command (with where to answer) or a timer.
pub enum Job {
    /// A control command.
    Command {
        /// Builds the input.
        make: Make,
        /// The answer: the command's value, or why it was refused.
        reply: oneshot::Sender<Result<serde_json::Value, String>>,
    },
    /// A timer came due.
    Timer(flotilla_ln::output::Timer),
}

/// Most commands and timers logged in one transaction.
const MAX_JOBS: usize = 256;

/// The writer task: applies every command and timer waiting, logs them in one
/// transaction, then carries out their effects and answers (a group commit: with many
/// clients, one fsync serves them all). Peer messages are applied by the task that
/// reads them, in order with their connection's events, and committed there.
pub async fn writer(shared: Arc<Shared>, mut jobs: tokio::sync::mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_JOBS {
            match jobs.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        shared.run_jobs(batch);
    }
}

/// How long `pay` waits for an outcome before answering with the payment pending.
pub const PAY_WAIT: Duration = Duration::from_secs(120);

/// The engine and what the daemon keeps beside it.
pub struct EngineState {
    pub(super) engine: Engine,
    /// Peers whose stream is re-established: new messages go out at once.
    ready: HashSet<PublicKey>,
    /// The latest announcement per (channel, direction), for new peers.
    announcements: BTreeMap<([u8; 32], u8), Box<[u8; ANNOUNCE_LEN]>>,
    /// Payers waiting for an outcome.
    waiters: HashMap<u64, Vec<oneshot::Sender<serde_json::Value>>>,
    /// Peers whose current connection got our `channel_reestablish`: later ones are
    /// acknowledgements.
    greeted: HashSet<PublicKey>,
}

/// An input's log row: its effects' messages encoded for the outbox.
fn logged(
    at: u64,
    input: &Input,
    consumed_from: Option<PublicKey>,
    fx: &[Effect],
) -> crate::engine::durable::Logged {
    let mut sends = Vec::new();
    for f in fx {
        if let Effect::Send { to, message } = f {
            match wire::encode_tunnelled(message) {
                Ok(b) => sends.push((to.to_string(), b)),
                Err(e) => tracing::error!("engine: a message does not encode: {e}"),
            }
        }
    }
    (
        at,
        input.to_json(),
        consumed_from.map(|p| p.to_string()),
        sends,
    )
}

/// Rebuilds the engine from the store's log; the timers it set, to schedule.
pub fn replay(
    secret: bitcoin::secp256k1::SecretKey,
    store: &Store,
) -> Result<(EngineState, Vec<Effect>), NodeError> {
    let mut engine = Engine::new(secret);
    let mut announcements = BTreeMap::new();
    let mut timers = Vec::new();
    let inputs = store.inputs()?;
    let n = inputs.len();
    for (at, v) in inputs {
        let input = match Input::from_json(&v) {
            Ok(Some(i)) => i,
            Ok(None) => continue,
            Err(e) => {
                return Err(NodeError::Corrupt {
                    path: store.path().to_path_buf(),
                    reason: format!("input log: {e}"),
                })
            }
        };
        // A logged input was accepted once, so it is accepted again.
        let Ok(fx) = engine.apply(&input, &clock_at(at)) else {
            continue;
        };
        for f in fx {
            match f {
                Effect::Gossip { bytes, .. } => remember(&mut announcements, bytes),
                t @ Effect::Timer { .. } => timers.push(t),
                // Messages are in the outbox already; warnings were sent; onion
                // messages are best effort (re-sent by their timers).
                Effect::Send { .. } | Effect::Warn { .. } | Effect::Onion { .. } => {}
            }
        }
    }
    let _ = engine.take_finished();
    if n > 0 {
        tracing::info!(inputs = n, "engine state rebuilt from the input log");
    }
    if let Err(e) = engine.check() {
        tracing::error!("engine books after replay: {e}");
    }
    Ok((
        EngineState {
            engine,
            ready: HashSet::new(),
            announcements,
            waiters: HashMap::new(),
            greeted: HashSet::new(),
        },
        timers,
    ))
}

fn remember(
    map: &mut BTreeMap<([u8; 32], u8), Box<[u8; ANNOUNCE_LEN]>>,
    bytes: Box<[u8; ANNOUNCE_LEN]>,
) {
    let mut id = [0u8; 32];
    id.copy_from_slice(&bytes[..32]);
    map.insert((id, bytes[106]), bytes);
}

impl Shared {
    /// Applies `input`, logs it, then carries out its effects. `Err` when the engine
    /// refused it (nothing changed, nothing logged).
    pub(super) fn feed(
        self: &Arc<Self>,
        input: Input,
        consumed_from: Option<PublicKey>,
    ) -> Result<(), String> {
        self.feed_with(|_| Ok((input, ())), consumed_from)
    }

    /// Like [`Shared::feed`] with the input built under the engine's lock.
    pub(super) fn feed_with<T>(
        self: &Arc<Self>,
        make: impl FnOnce(&Engine) -> Result<(Input, T), String>,
        consumed_from: Option<PublicKey>,
    ) -> Result<T, String> {
        let clock = wall_clock();
        let mut st = lock(&self.engine);
        let (input, extra) = make(&st.engine)?;
        let fx = st.engine.apply(&input, &clock).map_err(|e| e.to_string())?;
        let logged = vec![logged(clock.now.0, &input, consumed_from, &fx)];
        self.commit(&mut st, logged, fx)?;
        Ok(extra)
    }

    fn run_jobs(self: &Arc<Self>, batch: Vec<Job>) {
        let clock = wall_clock();
        let mut st = lock(&self.engine);
        let mut rows = Vec::with_capacity(batch.len());
        let mut effects = Vec::new();
        let mut replies = Vec::new();
        for job in batch {
            match job {
                Job::Command { make, reply } => {
                    let r = make(&st.engine).and_then(|(input, value)| {
                        let fx = st.engine.apply(&input, &clock).map_err(|e| e.to_string())?;
                        rows.push(logged(clock.now.0, &input, None, &fx));
                        effects.extend(fx);
                        Ok(value)
                    });
                    replies.push((reply, r));
                }
                Job::Timer(timer) => {
                    let input = Input::Timer { timer };
                    if let Ok(fx) = st.engine.apply(&input, &clock) {
                        rows.push(logged(clock.now.0, &input, None, &fx));
                        effects.extend(fx);
                    }
                }
            }
        }
        let committed = self.commit(&mut st, rows, effects);
        drop(st);
        for (reply, r) in replies {
            let r = match (&committed, r) {
                (Err(e), Ok(_)) => Err(e.clone()),
                (_, r) => r,
            };
            let _ = reply.send(r);
        }
    }

    /// Runs a command through the writer task.
    async fn command(self: &Arc<Self>, make: Make) -> Result<serde_json::Value, String> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Command { make, reply: tx })
            .map_err(|_| "the node is shutting down".to_string())?;
        rx.await
            .map_err(|_| "the node is shutting down".to_string())?
    }

    /// Applies peer messages that arrived together and logs them in one transaction
    /// (a group commit), then carries out their effects in order.
    pub(super) fn feed_peer_batch(self: &Arc<Self>, batch: Vec<(PublicKey, wire::Message)>) {
        let clock = wall_clock();
        let mut st = lock(&self.engine);
        let mut rows = Vec::with_capacity(batch.len());
        let mut effects = Vec::new();
        for (from, message) in batch {
            let bytes = match wire::encode_tunnelled(&message) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(peer = %from, "{e}");
                    continue;
                }
            };
            let input = Input::Peer { from, bytes };
            match st.engine.apply(&input, &clock) {
                Ok(fx) => {
                    rows.push(logged(clock.now.0, &input, Some(from), &fx));
                    effects.extend(fx);
                }
                Err(e) => tracing::warn!(peer = %from, "engine: {e}"),
            }
        }
        let _ = self.commit(&mut st, rows, effects);
    }

    /// Commits `rows` and, once they are durable, carries out `fx`.
    fn commit(
        self: &Arc<Self>,
        st: &mut EngineState,
        rows: Vec<crate::engine::durable::Logged>,
        fx: Vec<Effect>,
    ) -> Result<(), String> {
        if let Err(e) = self.store.commit_inputs(rows) {
            // The engine moved on but the log did not: the only safe course is to stop
            // and rebuild from the log on the next start.
            tracing::error!("store: {e}; stopping so the next start replays a consistent state");
            let _ = self.stop.send(true);
            return Err(format!("the node could not persist its state: {e}"));
        }
        self.carry_out(st, fx);
        Ok(())
    }

    fn carry_out(self: &Arc<Self>, st: &mut EngineState, fx: Vec<Effect>) {
        for f in fx {
            match f {
                Effect::Send { to, message } => {
                    if st.ready.contains(&to) {
                        self.transport.send(to, message);
                    }
                }
                Effect::Gossip { except, bytes } => {
                    for p in self.transport.peers() {
                        let Ok(pk) = PublicKey::from_str(&p.node_id) else {
                            continue;
                        };
                        if Some(pk) != except {
                            self.transport
                                .send_setup(pk, SetupMessage::Announce(bytes.clone()));
                        }
                    }
                    remember(&mut st.announcements, bytes);
                }
                Effect::Timer { at, timer } => self.schedule(at.0, timer),
                Effect::Onion { to, message, reply } => {
                    self.transport.send_onion(to, message, reply.as_deref())
                }
                Effect::Warn { to, text } => {
                    tracing::warn!(peer = %to, "{text}");
                    self.transport.warn(to, text);
                }
            }
        }
        for id in st.engine.take_finished() {
            if let (Some(ws), Some(v)) = (st.waiters.remove(&id), st.engine.payment_json(id)) {
                for w in ws {
                    let _ = w.send(v.clone());
                }
            }
        }
    }

    /// Fires `timer` at `at_micros` (wall clock), as an input.
    pub(super) fn schedule(self: &Arc<Self>, at_micros: u64, timer: flotilla_ln::output::Timer) {
        if !timer_loggable(&timer) {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            let now = wall_clock().now.0;
            if at_micros > now {
                tokio::time::sleep(Duration::from_micros(at_micros - now)).await;
            }
            let _ = me.jobs.send(Job::Timer(timer));
        });
    }

    /// Schedules the timers a replay set.
    pub(super) fn schedule_all(self: &Arc<Self>, timers: Vec<Effect>) {
        for t in timers {
            if let Effect::Timer { at, timer } = t {
                self.schedule(at.0, timer);
            }
        }
    }

    /// Feeds the engine every stored channel it does not know (a crash between
    /// storing a channel and logging its opening).
    pub(super) fn reconcile_channels(self: &Arc<Self>) {
        let Ok(channels) = self.store.channels() else {
            return;
        };
        for c in channels {
            let (Some(id), Ok(peer)) = (
                crate::engine::unhex(&c.channel_id).and_then(|b| <[u8; 32]>::try_from(b).ok()),
                PublicKey::from_str(&c.peer),
            ) else {
                continue;
            };
            if lock(&self.engine).engine.graph().channel_of(&id).is_some() {
                continue;
            }
            tracing::info!(
                channel = c.channel_id,
                "channel stored but not in the engine's log; adding it"
            );
            if let Err(e) = self.feed(
                Input::Open {
                    channel_id: id,
                    peer,
                    capacity_sat: c.capacity_sat,
                    local_msat: c.local_msat,
                    remote_msat: c.remote_msat,
                },
                None,
            ) {
                tracing::error!("engine: {e}");
            }
        }
    }

    /// A peer's engine message.
    pub(super) fn on_inbound(self: &Arc<Self>, from: PublicKey, message: wire::Message) {
        self.feed_peer_batch(vec![(from, message)]);
    }

    /// A connection completed: ask the peer to resume our stream from where we are,
    /// and tell it what we know of the network.
    pub(super) fn peer_connected(self: &Arc<Self>, peer: PublicKey) {
        let in_next = self
            .store
            .streams()
            .ok()
            .and_then(|s| s.get(&peer.to_string()).map(|s| s.in_next))
            .unwrap_or(0);
        let mut st = lock(&self.engine);
        self.transport
            .send_setup(peer, SetupMessage::Reestablish { next_seq: in_next });
        st.greeted.insert(peer);
        for a in st.announcements.values() {
            self.transport
                .send_setup(peer, SetupMessage::Announce(a.clone()));
        }
    }

    /// The connection went away: new messages wait in the outbox.
    pub(super) fn peer_disconnected(self: &Arc<Self>, peer: PublicKey) {
        {
            let mut st = lock(&self.engine);
            st.ready.remove(&peer);
            st.greeted.remove(&peer);
        }
        if lock(&self.engine).engine.graph().node_of(&peer).is_some() {
            let _ = self.feed(
                Input::PeerOnline {
                    peer,
                    online: false,
                },
                None,
            );
        }
    }

    /// The peer consumed our messages below `next_seq`: re-send the rest in order,
    /// then send new ones as they come.
    pub(super) fn reestablished(self: &Arc<Self>, peer: PublicKey, next_seq: u64) {
        {
            let mut st = lock(&self.engine);
            let rest = match self.store.outbox_from(&peer.to_string(), next_seq) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!("store: {e}");
                    return;
                }
            };
            if st.ready.contains(&peer) {
                // On a connection already re-established: an acknowledgement, which
                // only lets the outbox drop what the peer consumed.
                return;
            }
            if let Some((first, _)) = rest.first() {
                if *first != next_seq {
                    // The peer asks for a message we never had: its log and ours
                    // disagree. Nothing can be re-sent safely.
                    tracing::error!(peer = %peer, asked = next_seq, have = first, "stream gap; not re-established");
                    self.transport.warn(
                        peer,
                        format!("channel_reestablish: message {next_seq} is not ours to re-send"),
                    );
                    return;
                }
            }
            if !rest.is_empty() {
                tracing::info!(peer = %peer, from = next_seq, count = rest.len(), "re-sending unconsumed messages");
            }
            for (_, bytes) in rest {
                match wire::decode(&bytes) {
                    Ok(m) => self.transport.send(peer, m),
                    Err(e) => tracing::error!("outbox: {e}"),
                }
            }
            st.ready.insert(peer);
        }
        if lock(&self.engine).engine.graph().node_of(&peer).is_some() {
            let _ = self.feed(Input::PeerOnline { peer, online: true }, None);
        }
    }

    /// Tells every greeted peer how far we consumed its stream, so it can drop what
    /// it keeps for re-sending. Called by the task that reads the peers, after it has
    /// handled every queued event and message (an acknowledgement must not overtake
    /// the `channel_reestablish` of a new connection).
    pub(super) fn acknowledge_streams(self: &Arc<Self>) {
        let Ok(streams) = self.store.streams() else {
            return;
        };
        let st = lock(&self.engine);
        for p in &st.greeted {
            if let Some(s) = streams.get(&p.to_string()) {
                self.transport.send_setup(
                    *p,
                    SetupMessage::Reestablish {
                        next_seq: s.in_next,
                    },
                );
            }
        }
    }

    /// `invoice`.
    pub(super) async fn invoice(
        self: &Arc<Self>,
        amount_msat: Option<u64>,
        description: String,
        expiry_secs: u64,
        redundant: Option<(LockKind, u16)>,
    ) -> Result<serde_json::Value, String> {
        self.command(Box::new(move |e| {
            e.make_invoice(
                amount_msat,
                &description,
                expiry_secs,
                redundant,
                &wall_clock(),
            )
            .map_err(|e| e.to_string())
        }))
        .await
    }

    /// `pay` and `keysend`: starts the payment and waits for its outcome.
    pub(super) async fn pay(
        self: &Arc<Self>,
        mut make: PayRequest,
    ) -> Result<serde_json::Value, String> {
        if let Some(ask) = make.redundant.as_mut() {
            // A part is never offered to a peer whose init does not advertise the
            // lock (peers not connected now are skipped by the payer anyway).
            let bit = match ask.lock {
                LockKind::H2tlc => Some(crate::features::H2TLC_BIT),
                LockKind::Boomerang => Some(crate::features::POINT_LOCK_BIT),
                _ => None,
            };
            if let Some(bit) = bit {
                let peers = lock(&self.engine).engine.channel_peers();
                ask.excluded = peers
                    .into_iter()
                    .filter(|p| {
                        self.transport
                            .peer_features(p)
                            .is_some_and(|f| !crate::features::has_bit(&f, bit))
                    })
                    .collect();
            }
        }
        let (tx, rx) = oneshot::channel();
        let id = self
            .command(Box::new(move |e| {
                let id = e.next_payment_id();
                Ok((make.input(id), json!(id)))
            }))
            .await?
            .as_u64()
            .ok_or("payment id")?;
        {
            let mut st = lock(&self.engine);
            match st.engine.payment_done(id) {
                Some(true) => {
                    return st
                        .engine
                        .payment_json(id)
                        .ok_or_else(|| "payment vanished".into())
                }
                Some(false) => st.waiters.entry(id).or_default().push(tx),
                None => return Err("payment vanished".into()),
            }
        }
        match tokio::time::timeout(PAY_WAIT, rx).await {
            Ok(Ok(v)) => Ok(v),
            _ => lock(&self.engine)
                .engine
                .payment_json(id)
                .ok_or_else(|| "payment vanished".into()),
        }
    }

    /// `payments`.
    pub(super) fn payments(&self) -> serde_json::Value {
        lock(&self.engine).engine.payments_json()
    }

    /// `channels`.
    pub(super) fn engine_channels(&self) -> Vec<serde_json::Value> {
        lock(&self.engine).engine.channels_json()
    }

    /// What `info` says of the engine.
    pub(super) fn engine_info(&self) -> serde_json::Value {
        let st = lock(&self.engine);
        let e = &st.engine;
        json!({
            "known_nodes": e.graph().node_count(),
            "known_channels": e.graph().channel_count(),
            "live_htlcs": e.live_htlcs(),
            "books": match e.check() { Ok(()) => "ok".to_string(), Err(s) => s },
            "streams_ready": st.ready.len(),
            "outbox_messages": self.store.outbox_len().ok(),
        })
    }
}

/// What a payment command asks, before it has an id.
pub struct PayRequest {
    payment_hash: [u8; 32],
    payment_secret: [u8; 32],
    keysend_preimage: Option<[u8; 32]>,
    target: PublicKey,
    amount_msat: u64,
    max_parts: u32,
    final_cltv_delta: u32,
    /// `--max-parts` as given (a redundant payment's base parts).
    max_parts_given: Option<u32>,
    redundant: Option<RedundantAsk>,
}

/// `invoice --lock L [--parts K]`: the redundant invoice asked for, if any.
pub fn redundant_invoice(
    lock: Option<&str>,
    parts: Option<u16>,
) -> Result<Option<(LockKind, u16)>, String> {
    let Some(name) = lock else {
        return match parts {
            Some(_) => Err("invoice: --parts needs --lock boomerang".into()),
            None => Ok(None),
        };
    };
    let lock = parse_lock(name, "invoice")?;
    match (lock, parts) {
        (LockKind::Boomerang, Some(k)) => Ok(Some((lock, k))),
        (LockKind::Boomerang, None) => Ok(Some((lock, DEFAULT_BASE_PARTS as u16))),
        (_, Some(_)) => Err("invoice: --parts is for --lock boomerang only".into()),
        (_, None) => Ok(Some((lock, 0))),
    }
}

/// A redundant lock by name; the plain hash lock is not one.
fn parse_lock(name: &str, what: &str) -> Result<LockKind, String> {
    match LockKind::from_name(name) {
        Some(LockKind::Hash) | None => Err(format!(
            "{what}: --lock {name:?} is not a redundant lock (h2tlc, sender_hash or boomerang)"
        )),
        Some(l) => Ok(l),
    }
}

impl PayRequest {
    /// Makes it a redundant payment when `redundancy` or `lock` is given (both are
    /// needed).
    pub fn redundant(
        mut self,
        redundancy: Option<f64>,
        lock: Option<&str>,
        commitments: Option<&str>,
    ) -> Result<PayRequest, String> {
        let (rho, lock) = match (redundancy, lock) {
            (None, None) => {
                if commitments.is_some() {
                    return Err("pay: --commitments needs --lock boomerang".into());
                }
                return Ok(self);
            }
            (Some(r), Some(l)) => (r, parse_lock(l, "pay")?),
            _ => return Err("pay: --redundancy and --lock go together".into()),
        };
        if !rho.is_finite() || !(0.0..=10.0).contains(&rho) {
            return Err(format!("pay: --redundancy {rho} must be within 0 to 10"));
        }
        let commitments = match (lock, commitments) {
            (LockKind::Boomerang, Some(c)) => c
                .split(',')
                .map(|p| {
                    PublicKey::from_str(p.trim())
                        .map_err(|_| format!("pay: --commitments: {p:?} is not a point"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            (LockKind::Boomerang, None) => {
                return Err("pay: --lock boomerang needs --commitments (the receiver's invoice --json boomerang_commitments)".into())
            }
            (_, Some(_)) => return Err("pay: --commitments is for --lock boomerang only".into()),
            (_, None) => Vec::new(),
        };
        if lock == LockKind::Boomerang && commitments.len() < 2 {
            return Err("pay: --commitments needs at least two points".into());
        }
        if self.max_parts_given == Some(0) {
            return Err("pay: --max-parts must be at least 1".into());
        }
        self.redundant = Some(RedundantAsk {
            lock,
            redundancy: rho,
            base_parts: self.max_parts_given.unwrap_or(DEFAULT_BASE_PARTS),
            commitments,
            excluded: Vec::new(),
        });
        Ok(self)
    }

    fn input(&self, id: u64) -> Input {
        if let Some(ask) = &self.redundant {
            return Input::PayRedundant {
                id,
                payment_hash: self.payment_hash,
                payment_secret: self.payment_secret,
                target: self.target,
                amount_msat: self.amount_msat,
                final_cltv_delta: self.final_cltv_delta,
                ask: ask.clone(),
            };
        }
        Input::Pay {
            id,
            payment_hash: self.payment_hash,
            payment_secret: self.payment_secret,
            keysend_preimage: self.keysend_preimage,
            target: self.target,
            amount_msat: self.amount_msat,
            max_parts: self.max_parts,
            final_cltv_delta: self.final_cltv_delta,
        }
    }

    /// Pays a BOLT 11 invoice.
    pub fn invoice(
        bolt11: &str,
        amount_msat: Option<u64>,
        max_parts_given: Option<u32>,
    ) -> Result<PayRequest, String> {
        let max_parts = max_parts_given.unwrap_or(16);
        let inv = decode_invoice(bolt11).map_err(|e| format!("pay: {e}"))?;
        let now = wall_clock().now.0 / 1_000_000;
        if inv.is_expired(now) {
            return Err("pay: the invoice has expired".into());
        }
        let amount_msat = match (inv.amount_msat, amount_msat) {
            (Some(a), None) => a,
            (Some(a), Some(b)) if a == b => a,
            (Some(a), Some(b)) => return Err(format!("pay: the invoice asks {a} msat, not {b}")),
            (None, Some(b)) if b > 0 => b,
            _ => return Err("pay: the invoice has no amount; pass --amount-msat".into()),
        };
        let secret = inv
            .payment_secret
            .ok_or("pay: the invoice has no payment_secret (legacy invoices are refused)")?;
        if max_parts == 0 {
            return Err("pay: --max-parts must be at least 1".into());
        }
        Ok(PayRequest {
            payment_hash: inv.payment_hash.0,
            payment_secret: secret.0,
            keysend_preimage: None,
            target: inv.payee,
            amount_msat,
            max_parts,
            final_cltv_delta: u32::try_from(inv.min_final_cltv_expiry_delta).unwrap_or(u32::MAX),
            max_parts_given,
            redundant: None,
        })
    }

    /// A keysend payment (MPP when `max_parts` > 1: the parts share a secret of ours).
    pub fn keysend(target: &str, amount_msat: u64, max_parts: u32) -> Result<PayRequest, String> {
        let target = PublicKey::from_str(target).map_err(|_| {
            format!("keysend: {target:?} is not a node id (66 hex characters, starting 02 or 03)")
        })?;
        if amount_msat == 0 || amount_msat > flotilla_graph::amount::MAX_MSAT {
            return Err(
                "keysend: --amount-msat must be positive and at most 21 million BTC".into(),
            );
        }
        if max_parts == 0 {
            return Err("keysend: --max-parts must be at least 1".into());
        }
        let keys = PaymentKeys::random();
        Ok(PayRequest {
            payment_hash: keys.hash.0,
            payment_secret: keys.secret.0,
            keysend_preimage: Some(keys.preimage.0),
            target,
            amount_msat,
            max_parts,
            final_cltv_delta: flotilla_ln::config::NodeConfig::default()
                .min_final_cltv_expiry_delta,
            max_parts_given: Some(max_parts),
            redundant: None,
        })
    }
}
