//! The daemon's side of the engine: every input goes through [`Shared::feed`] or a
//! batch of them, which applies it under the engine's lock and queues it, with the
//! messages it produced, for the commit pipeline ([`super::pipeline`]), which logs
//! it in one SQLite transaction with whatever else is waiting, and only then sends
//! its messages, sets its timers and answers its commands and payers. The engine is
//! never held during an `fsync`. Also: the peer streams' re-establishment; the
//! payment commands.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bitcoin::secp256k1::PublicKey;
use flotilla_ln::invoice::{decode_invoice, PaymentKeys};
use flotilla_ln::wire;
use serde_json::json;
use tokio::sync::oneshot;

use super::pipeline::{self, Batch, Queue, Sink, Stats, Watermark};
use super::{lock, Shared};
use crate::engine::durable::Logged;
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

/// Most commands and timers applied in one turn of the writer.
const MAX_JOBS: usize = 256;

/// The writer task: applies every command and timer waiting in one turn and queues
/// them as one batch for the committer. Peer messages are applied by the task that
/// reads them, in order with their connection's events.
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

/// A command's answer, waiting for its commit.
type Reply = (
    oneshot::Sender<Result<serde_json::Value, String>>,
    Result<serde_json::Value, String>,
);

/// The engine and what is decided with it, under one lock.
pub struct EngineState {
    pub(super) engine: Engine,
    /// Payers waiting for an outcome. Taken when the engine finishes the payment
    /// (under this lock, so no outcome slips between a look and the registration),
    /// answered once that input is durable.
    waiters: HashMap<u64, Vec<oneshot::Sender<serde_json::Value>>>,
}

/// What the committer decides when it releases outputs: taken only by the
/// committer (for the whole of a commit and its release) and by the stream
/// re-establishment, never together with the engine's lock.
pub struct Release {
    /// Peers whose stream is re-established: new messages go out at once.
    ready: HashSet<PublicKey>,
    /// The latest announcement per (channel, direction), for new peers.
    announcements: BTreeMap<([u8; 32], u8), Box<[u8; ANNOUNCE_LEN]>>,
    /// The latest node announcement per node, for new peers (after the channels').
    node_announcements: BTreeMap<PublicKey, Vec<u8>>,
    /// Peers whose current connection got our `channel_reestablish`: later ones are
    /// acknowledgements.
    greeted: HashSet<PublicKey>,
}

/// What a batch releases once it is durable.
pub struct Out {
    effects: Vec<Effect>,
    replies: Vec<Reply>,
    /// Finished payments' outcomes for their waiting payers.
    finished: Vec<(Vec<oneshot::Sender<serde_json::Value>>, serde_json::Value)>,
}

/// The durable path's state in [`Shared`].
pub struct Durable {
    queue: Queue<Out>,
    /// How far the applied state is durable.
    pub(super) mark: Watermark,
    /// Where the time goes.
    pub(super) stats: Stats,
    release: Mutex<Release>,
}

impl Durable {
    /// A pipeline starting from a replay's `release` state.
    pub fn new(release: Release) -> Durable {
        Durable {
            queue: Queue::default(),
            mark: Watermark::default(),
            stats: Stats::default(),
            release: Mutex::new(release),
        }
    }
}

/// The daemon as the pipeline's sink: commits go to the store, releases to the
/// transport, the timers and the waiting clients.
impl Sink<Out> for Shared {
    type Guard<'a> = MutexGuard<'a, Release>;

    fn hold(&self) -> MutexGuard<'_, Release> {
        lock(&self.durable.release)
    }

    fn commit(&self, _: &mut MutexGuard<'_, Release>, rows: Vec<Logged>) -> Result<(), String> {
        if let Some(d) = test_commit_delay() {
            std::thread::sleep(d);
        }
        self.store.commit_inputs(rows).map(|_| ()).map_err(|e| {
            // The engine moved on but the log did not: the only safe course is to
            // stop and rebuild from the log on the next start.
            tracing::error!("store: {e}; stopping so the next start replays a consistent state");
            let _ = self.stop.send(true);
            format!("the node could not persist its state: {e}")
        })
    }

    fn release(
        &self,
        rel: &mut MutexGuard<'_, Release>,
        batch: Batch<Out>,
        committed: Result<(), &str>,
    ) {
        self.release_out(rel, batch.out, committed);
    }
}

/// For tests: `FLOTILLA_TEST_COMMIT_DELAY_MS` makes every commit that much slower (a
/// slow disk), so a test can kill a node while a commit is under way and check that
/// nothing it covers had left (`crates/flotilla-cli/tests/node_commit_order.rs`).
fn test_commit_delay() -> Option<Duration> {
    static DELAY: std::sync::OnceLock<Option<Duration>> = std::sync::OnceLock::new();
    *DELAY.get_or_init(|| {
        std::env::var("FLOTILLA_TEST_COMMIT_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis)
    })
}

/// Starts the committer thread (see [`super::pipeline`]). Call it inside the runtime: the
/// thread enters it to schedule timers and drive the transport.
pub fn start_committer(shared: Arc<Shared>) -> Option<std::thread::JoinHandle<()>> {
    let runtime = tokio::runtime::Handle::current();
    let spawned = std::thread::Builder::new()
        .name("committer".into())
        .spawn(move || {
            let _entered = runtime.enter();
            let d = &shared.durable;
            pipeline::run(&*shared, &d.queue, &d.mark, &d.stats);
        });
    match spawned {
        Ok(h) => Some(h),
        Err(e) => {
            tracing::error!("could not start the committer: {e}");
            None
        }
    }
}

/// At a clean stop: commits what is still queued, then ends the committer thread.
pub fn stop_committer(shared: &Shared, committer: Option<std::thread::JoinHandle<()>>) {
    shared.durable.queue.close();
    if let Some(h) = committer {
        let _ = h.join();
    }
}

/// An input's log row: its effects' messages encoded for the outbox.
fn logged(at: u64, input: &Input, consumed_from: Option<PublicKey>, fx: &[Effect]) -> Logged {
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
) -> Result<(EngineState, Release, Vec<Effect>), NodeError> {
    let mut engine = Engine::new(secret);
    let mut announcements = BTreeMap::new();
    let mut node_announcements = BTreeMap::new();
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
                Effect::NodeGossip { node, bytes, .. } => {
                    node_announcements.insert(node, bytes);
                }
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
            waiters: HashMap::new(),
        },
        Release {
            ready: HashSet::new(),
            announcements,
            node_announcements,
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
    /// Applies `input` and queues it for the committer, which carries out its effects
    /// once it is logged. `Err` when the engine refused it (nothing changed, nothing
    /// logged).
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
        let extra = {
            let mut st = lock(&self.engine);
            let t = Instant::now();
            let (input, extra) = make(&st.engine)?;
            let fx = st.engine.apply(&input, &clock).map_err(|e| e.to_string())?;
            let rows = vec![logged(clock.now.0, &input, consumed_from, &fx)];
            self.enqueue(&mut st, rows, fx, Vec::new(), t);
            extra
        };
        Ok(extra)
    }

    fn run_jobs(self: &Arc<Self>, batch: Vec<Job>) {
        let clock = wall_clock();
        let mut st = lock(&self.engine);
        let t = Instant::now();
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
                    // Even a refusal waits its turn: it may rest on a state that is
                    // not durable yet.
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
        self.enqueue(&mut st, rows, effects, replies, t);
    }

    /// Numbers what was just applied and queues it for the committer. Called under
    /// the engine's lock, so the queue's order is the order of application.
    fn enqueue(
        &self,
        st: &mut EngineState,
        rows: Vec<Logged>,
        effects: Vec<Effect>,
        replies: Vec<Reply>,
        started: Instant,
    ) {
        let mut finished = Vec::new();
        for id in st.engine.take_finished() {
            if let (Some(ws), Some(v)) = (st.waiters.remove(&id), st.engine.payment_json(id)) {
                finished.push((ws, v));
            }
        }
        self.durable.stats.applied(rows.len(), started.elapsed());
        let batch = Batch {
            seq: self.durable.mark.next(),
            rows,
            out: Out {
                effects,
                replies,
                finished,
            },
        };
        self.durable.queue.push(batch);
    }

    /// Waits until everything the engine applied so far is durable: a query that read
    /// the engine's state answers only then.
    pub(super) async fn durable_now(&self) -> Result<(), String> {
        let seq = self.durable.mark.applied();
        self.durable.mark.wait(seq).await
    }

    /// Runs a command through the writer task.
    pub(super) async fn command(self: &Arc<Self>, make: Make) -> Result<serde_json::Value, String> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Command { make, reply: tx })
            .map_err(|_| "the node is shutting down".to_string())?;
        rx.await
            .map_err(|_| "the node is shutting down".to_string())?
    }

    /// Applies peer messages that arrived together and queues them as one batch.
    pub(super) fn feed_peer_batch(self: &Arc<Self>, batch: Vec<(PublicKey, wire::Message)>) {
        let clock = wall_clock();
        let mut st = lock(&self.engine);
        let t = Instant::now();
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
        self.enqueue(&mut st, rows, effects, Vec::new(), t);
    }

    /// The committer's release of one batch: its effects, outcomes and answers once
    /// it is durable; only refusals if its commit failed.
    fn release_out(&self, rel: &mut Release, out: Out, committed: Result<(), &str>) {
        if let Err(e) = committed {
            for (reply, r) in out.replies {
                let _ = reply.send(match r {
                    Ok(_) => Err(format!("the node could not persist its state: {e}")),
                    refused => refused,
                });
            }
            // Dropping the waiters tells their payers; nothing else leaves.
            return;
        }
        self.carry_out(rel, out.effects);
        for (ws, v) in out.finished {
            for w in ws {
                let _ = w.send(v.clone());
            }
        }
        for (reply, r) in out.replies {
            let _ = reply.send(r);
        }
    }

    /// Queues a gossip message to every connected peer but `except` (the one it came
    /// from); whether any was queued.
    fn flood(&self, except: Option<PublicKey>, message: impl Fn() -> SetupMessage) -> bool {
        let mut queued = false;
        for p in self.transport.peers() {
            let Ok(pk) = PublicKey::from_str(&p.node_id) else {
                continue;
            };
            if Some(pk) != except {
                self.transport.messages.queue_setup(pk, message());
                queued = true;
            }
        }
        queued
    }

    fn carry_out(&self, rel: &mut Release, fx: Vec<Effect>) {
        let mut queued = false;
        for f in fx {
            match f {
                Effect::Send { to, message } => {
                    if rel.ready.contains(&to) {
                        self.transport.messages.queue(to, message);
                        queued = true;
                    }
                }
                Effect::Gossip { except, bytes } => {
                    queued |= self.flood(except, || SetupMessage::Announce(bytes.clone()));
                    remember(&mut rel.announcements, bytes);
                }
                Effect::NodeGossip {
                    except,
                    node,
                    bytes,
                } => {
                    queued |= self.flood(except, || SetupMessage::NodeAnnounce(bytes.clone()));
                    rel.node_announcements.insert(node, bytes);
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
        // One pass of the peer manager for everything this batch sends, each peer's
        // messages leaving together.
        if queued {
            self.transport.send_queued();
        }
    }

    /// Fires `timer` at `at_micros` (wall clock), as an input.
    pub(super) fn schedule(&self, at_micros: u64, timer: flotilla_ln::output::Timer) {
        if !timer_loggable(&timer) {
            return;
        }
        let jobs = self.jobs.clone();
        tokio::spawn(async move {
            let now = wall_clock().now.0;
            if at_micros > now {
                tokio::time::sleep(Duration::from_micros(at_micros - now)).await;
            }
            let _ = jobs.send(Job::Timer(timer));
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
                    // The store keeps no terms: the node's defaults, and the peer's
                    // parameters as BOLT 2's defaults.
                    policy: Some(self.defaults.policy),
                    params: Some(crate::engine::policy::OpenParams {
                        local: self.defaults.channel,
                        remote: Default::default(),
                    }),
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
    /// and tell it what we know of the network. Called by the task that reads the
    /// peers, after it applied every message of the old connection; the position we
    /// announce lets the peer drop what we consumed, so it waits until all of that
    /// is durable (and the peer re-sends nothing we already applied).
    pub(super) fn peer_connected(self: &Arc<Self>, peer: PublicKey) {
        if let Err(e) = self.durable.mark.wait_blocking(self.durable.mark.applied()) {
            tracing::error!(peer = %peer, "not re-establishing: {e}");
            return;
        }
        let in_next = self
            .store
            .streams()
            .ok()
            .and_then(|s| s.get(&peer.to_string()).map(|s| s.in_next))
            .unwrap_or(0);
        let mut rel = lock(&self.durable.release);
        self.transport
            .send_setup(peer, SetupMessage::Reestablish { next_seq: in_next });
        rel.greeted.insert(peer);
        for a in rel.announcements.values() {
            self.transport
                .send_setup(peer, SetupMessage::Announce(a.clone()));
        }
        for a in rel.node_announcements.values() {
            self.transport
                .send_setup(peer, SetupMessage::NodeAnnounce(a.clone()));
        }
    }

    /// The connection went away: new messages wait in the outbox.
    pub(super) fn peer_disconnected(self: &Arc<Self>, peer: PublicKey) {
        {
            let mut rel = lock(&self.durable.release);
            rel.ready.remove(&peer);
            rel.greeted.remove(&peer);
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
    /// then send new ones as they come. Under the release lock, so every batch is
    /// either committed and released before (its messages are in the outbox read
    /// here) or released after (when the peer is ready): none is sent twice or lost.
    pub(super) fn reestablished(self: &Arc<Self>, peer: PublicKey, next_seq: u64) {
        {
            let mut rel = lock(&self.durable.release);
            let rest = match self.store.outbox_from(&peer.to_string(), next_seq) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!("store: {e}");
                    return;
                }
            };
            if rel.ready.contains(&peer) {
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
            rel.ready.insert(peer);
        }
        if lock(&self.engine).engine.graph().node_of(&peer).is_some() {
            let _ = self.feed(Input::PeerOnline { peer, online: true }, None);
        }
    }

    /// Tells every greeted peer how far we consumed its stream (as far as it is
    /// durable), so it can drop what it keeps for re-sending. Called by the task that
    /// reads the peers, after it has handled every queued event and message (an
    /// acknowledgement must not overtake the `channel_reestablish` of a new
    /// connection).
    pub(super) fn acknowledge_streams(self: &Arc<Self>) {
        let Ok(streams) = self.store.streams() else {
            return;
        };
        let rel = lock(&self.durable.release);
        for p in &rel.greeted {
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
        let done = {
            let mut st = lock(&self.engine);
            match st.engine.payment_done(id) {
                Some(true) => st.engine.payment_json(id),
                // Registered under the engine's lock: the input that finishes it
                // takes this waiter, and answers it once that input is durable.
                Some(false) => {
                    st.waiters.entry(id).or_default().push(tx);
                    None
                }
                None => return Err("payment vanished".into()),
            }
        };
        if let Some(v) = done {
            // It finished in a batch that may still be committing.
            self.durable_now().await?;
            return Ok(v);
        }
        match tokio::time::timeout(PAY_WAIT, rx).await {
            Ok(Ok(v)) => Ok(v),
            _ => {
                let v = lock(&self.engine)
                    .engine
                    .payment_json(id)
                    .ok_or_else(|| "payment vanished".to_string())?;
                self.durable_now().await?;
                Ok(v)
            }
        }
    }

    /// `payments`, once what it shows is durable.
    pub(super) async fn payments(&self) -> Result<serde_json::Value, String> {
        let v = lock(&self.engine).engine.payments_json();
        self.durable_now().await?;
        Ok(v)
    }

    /// `channels`, once what it shows is durable.
    pub(super) async fn engine_channels(&self) -> Result<Vec<serde_json::Value>, String> {
        let v = lock(&self.engine).engine.channels_json();
        self.durable_now().await?;
        Ok(v)
    }

    /// What `info` says of the engine (its caller waits for [`Shared::durable_now`]).
    pub(super) fn engine_info(&self) -> serde_json::Value {
        let mut v = {
            let st = lock(&self.engine);
            let e = &st.engine;
            json!({
                "known_nodes": e.graph().node_count(),
                "known_channels": e.graph().channel_count(),
                "live_htlcs": e.live_htlcs(),
                "books": match e.check() { Ok(()) => "ok".to_string(), Err(s) => s },
            })
        };
        v["streams_ready"] = json!(lock(&self.durable.release).ready.len());
        v["outbox_messages"] = json!(self.store.outbox_len().ok());
        let mut durable = self.durable.stats.json();
        durable["applied_batches"] = json!(self.durable.mark.applied());
        durable["durable_batches"] = json!(self.durable.mark.durable());
        v["durable"] = durable;
        v
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
