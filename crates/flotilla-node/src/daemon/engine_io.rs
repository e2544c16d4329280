//! The daemon's side of the engine: every input goes through [`Shared::feed`] or a
//! batch of them, which applies it under the engine's lock and queues it, with the
//! messages it produced, for the commit pipeline ([`super::pipeline`]), which logs
//! it in one SQLite transaction with whatever else is waiting, and only then sends
//! its messages, sets its timers and answers its commands and payers. The engine is
//! never held during an `fsync`. Also: the peer streams' re-establishment
//! ([`streams`]); the payment commands ([`payments`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bitcoin::secp256k1::PublicKey;
use flotilla_ln::wire;
use serde_json::json;
use tokio::sync::oneshot;

use super::pipeline::{self, Batch, Queue, Sink, Stats, Watermark};
use super::{lock, Shared};
use crate::engine::durable::Logged;
use crate::engine::input::timer_loggable;
use crate::engine::{clock_at, wall_clock, Effect, Engine, Input};
use crate::error::NodeError;
use crate::store::Store;
use crate::transport::setup::{SetupMessage, ANNOUNCE_LEN};
mod payments;
mod streams;

pub use payments::{redundant_invoice, PayRequest};

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
