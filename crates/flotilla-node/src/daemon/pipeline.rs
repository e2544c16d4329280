//! The durable path as a pipeline: the engine keeps applying inputs while the
//! previous ones are being committed, and nothing an input caused leaves the node
//! before the commit that covers it.
//!
//! # The invariant
//!
//! Every output that depends on a logged input — a message to a peer, a gossip
//! announcement, a warning, a timer, a control command's answer, a payment's
//! outcome — is released only after the SQLite transaction holding that input (and
//! every input applied before it) has committed. So whatever a peer or a client saw
//! survives `kill -9`: after a restart the log replays to a state at least as far
//! as anything anyone was told.
//!
//! # How
//!
//! Whoever applies inputs (the peer reader and the command writer) does so under the
//! engine's lock and, still under it, numbers the result as a [`Batch`] and pushes it
//! on the [`Queue`]; so the queue's order is the order in which the engine applied
//! them. The committer thread ([`run`]) takes every batch waiting, writes all their
//! rows in one transaction, and only then releases their outputs, in order. The
//! appliers never wait for it: while it waits on `fsync`, they go on applying what
//! arrives, from every peer and client, and the batches pile up behind the commit
//! and go together in the next one (a group commit; a forwarder's messages from both
//! sides share it). The commit runs on its own thread, not on the async runtime's
//! workers, so an `fsync` never stalls the sockets or the control server. A commit
//! that fails releases nothing, neither its batches nor any later one: the engine
//! has moved past the log, so the node stops and the next start replays a
//! consistent state.
//!
//! Queries that read the engine's state without changing it (`channels`,
//! `payments`, `info`) are answered once everything applied before they looked is
//! durable ([`Watermark::wait`]), so they never show a state a crash could undo.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::engine::durable::Logged;

/// Most batches one commit covers (each batch is itself up to a few hundred inputs).
pub const MAX_BATCHES: usize = 64;

/// Applied inputs waiting for their commit, with what they release once it is done.
pub struct Batch<T> {
    /// Its number: batches are numbered 1, 2, … in the order the engine applied them.
    pub seq: u64,
    /// The log rows (inputs and the messages they queue).
    pub rows: Vec<Logged>,
    /// What is released after the commit (or refused, if it fails).
    pub out: T,
}

/// How far the node's applied state is durable, and how far it got.
#[derive(Default)]
pub struct Watermark {
    /// The last batch number handed out.
    applied: AtomicU64,
    /// The last batch number whose commit completed (and whose outputs went out).
    durable: Mutex<u64>,
    changed: Condvar,
    notify: tokio::sync::Notify,
    /// Set once a commit failed: nothing after it becomes durable.
    failed: Mutex<Option<String>>,
}

impl Watermark {
    /// The next batch's number. Call it under the engine's lock, in apply order.
    pub fn next(&self) -> u64 {
        self.applied.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The last batch number handed out: everything the engine has applied so far.
    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::SeqCst)
    }

    /// The last batch number that is durable.
    pub fn durable(&self) -> u64 {
        *self.durable.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_durable(&self, seq: u64) {
        *self.durable.lock().unwrap_or_else(|p| p.into_inner()) = seq;
        self.changed.notify_all();
        self.notify.notify_waiters();
    }

    fn fail(&self, reason: &str) {
        *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason.to_string());
        self.changed.notify_all();
        self.notify.notify_waiters();
    }

    fn failure(&self) -> Option<String> {
        self.failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits until batch `seq` is durable; `Err` if the node can no longer persist.
    pub async fn wait(&self, seq: u64) -> Result<(), String> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            // Registered before looking, so a change between the look and the wait
            // is not missed.
            notified.as_mut().enable();
            if self.durable() >= seq {
                return Ok(());
            }
            if let Some(e) = self.failure() {
                return Err(e);
            }
            notified.await;
        }
    }

    /// Like [`Watermark::wait`], blocking the thread (for the peer reader, which
    /// must not announce a stream position before it is durable).
    pub fn wait_blocking(&self, seq: u64) -> Result<(), String> {
        let mut d = self.durable.lock().unwrap_or_else(|p| p.into_inner());
        while *d < seq {
            if let Some(e) = self.failure() {
                return Err(e);
            }
            d = self
                .changed
                .wait_timeout(d, Duration::from_millis(100))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        Ok(())
    }
}

/// Where the durable path's time goes, for `info`.
#[derive(Default)]
pub struct Stats {
    /// Inputs applied and logged.
    pub inputs: AtomicU64,
    /// Batches queued (one per turn of a reader or the writer).
    pub batches: AtomicU64,
    /// Microseconds spent applying inputs under the engine's lock.
    pub apply_us: AtomicU64,
    /// Transactions committed.
    pub commits: AtomicU64,
    /// Microseconds spent in those transactions (the `fsync` is most of it).
    pub commit_us: AtomicU64,
    /// Microseconds spent releasing outputs after the commits.
    pub release_us: AtomicU64,
    /// The most inputs one commit covered.
    pub max_commit_inputs: AtomicU64,
}

impl Stats {
    /// Counts one applied batch of `inputs` inputs that took `took` to apply.
    pub fn applied(&self, inputs: usize, took: Duration) {
        self.inputs.fetch_add(inputs as u64, Ordering::Relaxed);
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.apply_us
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// The numbers as `info` shows them.
    pub fn json(&self) -> serde_json::Value {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (inputs, commits) = (g(&self.inputs), g(&self.commits));
        json!({
            "inputs": inputs,
            "batches": g(&self.batches),
            "apply_us": g(&self.apply_us),
            "commits": commits,
            "commit_us": g(&self.commit_us),
            "release_us": g(&self.release_us),
            "inputs_per_commit": if commits > 0 { inputs as f64 / commits as f64 } else { 0.0 },
            "max_commit_inputs": g(&self.max_commit_inputs),
        })
    }
}

/// Batches waiting for their commit, in the order they were applied.
pub struct Queue<T> {
    batches: Mutex<(VecDeque<Batch<T>>, bool)>,
    waiting: Condvar,
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue {
            batches: Mutex::new((VecDeque::new(), false)),
            waiting: Condvar::new(),
        }
    }
}

impl<T> Queue<T> {
    fn inner(&self) -> std::sync::MutexGuard<'_, (VecDeque<Batch<T>>, bool)> {
        self.batches.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a batch for the committer thread. Call it under the engine's lock,
    /// right after applying it.
    pub fn push(&self, batch: Batch<T>) {
        self.inner().0.push_back(batch);
        self.waiting.notify_one();
    }

    /// Tells the committer thread to stop once the queue is empty.
    pub fn close(&self) {
        self.inner().1 = true;
        self.waiting.notify_all();
    }

    fn take(&self) -> Vec<Batch<T>> {
        let mut q = self.inner();
        let n = q.0.len().min(MAX_BATCHES);
        q.0.drain(..n).collect()
    }

    /// Waits until a batch is queued; `false` once closed and empty.
    fn wait(&self) -> bool {
        let mut q = self.inner();
        loop {
            if !q.0.is_empty() {
                return true;
            }
            if q.1 {
                return false;
            }
            // The timeout only guards against a lost wake-up.
            q = self
                .waiting
                .wait_timeout(q, Duration::from_millis(100))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// Where batches are committed and released.
pub trait Sink<T> {
    /// Held for a whole commit and its release: whoever takes it sees every batch
    /// either not yet committed or committed and released, never between.
    type Guard<'a>
    where
        Self: 'a;
    /// Takes the guard, waiting for it.
    fn hold(&self) -> Self::Guard<'_>;
    /// Writes `rows` in one transaction.
    fn commit(&self, guard: &mut Self::Guard<'_>, rows: Vec<Logged>) -> Result<(), String>;
    /// Releases a committed batch's outputs, or (`Err`) refuses them.
    fn release(&self, guard: &mut Self::Guard<'_>, batch: Batch<T>, committed: Result<(), &str>);
}

/// One commit: every batch waiting (up to [`MAX_BATCHES`]) in one transaction, then
/// their outputs in order. After a failed commit every batch, that one and all later,
/// is refused and nothing of theirs is released.
fn round<T, S: Sink<T>>(
    sink: &S,
    guard: &mut S::Guard<'_>,
    queue: &Queue<T>,
    mark: &Watermark,
    stats: &Stats,
) {
    let mut batches = queue.take();
    let Some(last) = batches.last().map(|b| b.seq) else {
        return;
    };
    if let Some(e) = mark.failure() {
        for b in batches {
            sink.release(guard, b, Err(&e));
        }
        return;
    }
    let mut rows = Vec::new();
    for b in &mut batches {
        rows.append(&mut b.rows);
    }
    let n = rows.len() as u64;
    let t = Instant::now();
    let committed = if rows.is_empty() {
        Ok(())
    } else {
        sink.commit(guard, rows)
    };
    if n > 0 {
        stats.commits.fetch_add(1, Ordering::Relaxed);
        stats
            .commit_us
            .fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
        stats.max_commit_inputs.fetch_max(n, Ordering::Relaxed);
    }
    match committed {
        Ok(()) => {
            let t = Instant::now();
            for b in batches {
                sink.release(guard, b, Ok(()));
            }
            stats
                .release_us
                .fetch_add(t.elapsed().as_micros() as u64, Ordering::Relaxed);
            mark.set_durable(last);
        }
        Err(e) => {
            mark.fail(&e);
            for b in batches {
                sink.release(guard, b, Err(&e));
            }
        }
    }
}

/// The committer thread: commits whatever the appliers queue, until the queue is
/// closed and empty.
pub fn run<T, S: Sink<T>>(sink: &S, queue: &Queue<T>, mark: &Watermark, stats: &Stats) {
    while queue.wait() {
        let mut guard = sink.hold();
        round(sink, &mut guard, queue, mark, stats);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::sync::{Arc, MutexGuard};

    type Out = Vec<&'static str>;

    /// A sink whose commits each wait for a token from the gate (and fail when the
    /// token says so), and which writes down what it commits and releases, in order.
    struct Fake {
        held: Mutex<()>,
        gate: Mutex<mpsc::Receiver<bool>>,
        events: Mutex<Vec<String>>,
    }

    impl Sink<Out> for Fake {
        type Guard<'a> = MutexGuard<'a, ()>;
        fn hold(&self) -> MutexGuard<'_, ()> {
            self.held.lock().unwrap()
        }
        fn commit(&self, _: &mut MutexGuard<'_, ()>, rows: Vec<Logged>) -> Result<(), String> {
            let ok = self.gate.lock().unwrap().recv().unwrap_or(false);
            let mut ev = self.events.lock().unwrap();
            if !ok {
                ev.push("commit failed".into());
                return Err("disk full".into());
            }
            ev.push(format!("commit {}", rows.len()));
            Ok(())
        }
        fn release(&self, _: &mut MutexGuard<'_, ()>, b: Batch<Out>, r: Result<(), &str>) {
            let mut ev = self.events.lock().unwrap();
            match r {
                Ok(()) => ev.extend(b.out.iter().map(|o| format!("release {o}"))),
                Err(e) => ev.push(format!("refuse {} ({e})", b.seq)),
            }
        }
    }

    struct Rig {
        sink: Arc<Fake>,
        queue: Arc<Queue<Out>>,
        mark: Arc<Watermark>,
        stats: Arc<Stats>,
        gate: mpsc::Sender<bool>,
    }

    impl Rig {
        fn new() -> Rig {
            let (gate, rx) = mpsc::channel();
            Rig {
                sink: Arc::new(Fake {
                    held: Mutex::new(()),
                    gate: Mutex::new(rx),
                    events: Mutex::new(Vec::new()),
                }),
                queue: Arc::new(Queue::default()),
                mark: Arc::new(Watermark::default()),
                stats: Arc::new(Stats::default()),
                gate,
            }
        }

        /// Applies a batch with one row and these outputs (numbered in order).
        fn push(&self, out: Out) {
            let seq = self.mark.next();
            self.queue.push(Batch {
                seq,
                rows: vec![(seq, json!({ "i": seq }), None, Vec::new())],
                out,
            });
        }

        fn committer(&self) -> std::thread::JoinHandle<()> {
            let (s, q, m, st) = (
                self.sink.clone(),
                self.queue.clone(),
                self.mark.clone(),
                self.stats.clone(),
            );
            std::thread::spawn(move || run(&*s, &q, &m, &st))
        }

        fn events(&self) -> Vec<String> {
            self.sink.events.lock().unwrap().clone()
        }
    }

    fn settle() {
        std::thread::sleep(Duration::from_millis(60));
    }

    #[test]
    fn nothing_leaves_before_its_commit_and_later_batches_ride_the_next_one() {
        let rig = Rig::new();
        let h = rig.committer();
        rig.push(vec!["add to B", "answer 1"]);
        settle();
        // The commit is under way (waiting on the gate): nothing may be out.
        assert_eq!(rig.events(), Vec::<String>::new());
        assert_eq!(rig.mark.durable(), 0);
        // Applied while the first commit runs; the applier does not wait for it.
        rig.push(vec!["fulfil to A"]);
        rig.push(vec!["answer 3"]);
        settle();
        assert_eq!(rig.events(), Vec::<String>::new());
        rig.gate.send(true).unwrap();
        settle();
        assert_eq!(
            rig.events(),
            ["commit 1", "release add to B", "release answer 1"]
        );
        assert_eq!(rig.mark.durable(), 1);
        // Both later batches are in one commit, released only after it.
        rig.gate.send(true).unwrap();
        settle();
        assert_eq!(
            rig.events()[3..],
            ["commit 2", "release fulfil to A", "release answer 3"]
        );
        assert_eq!(rig.mark.durable(), 3);
        assert!(rig.mark.wait_blocking(3).is_ok());
        rig.queue.close();
        h.join().unwrap();
    }

    #[test]
    fn a_failed_commit_releases_nothing_then_or_after() {
        let rig = Rig::new();
        let h = rig.committer();
        rig.push(vec!["a"]);
        settle();
        rig.gate.send(false).unwrap();
        settle();
        rig.push(vec!["b"]);
        settle();
        rig.queue.close();
        h.join().unwrap();
        assert_eq!(
            rig.events(),
            [
                "commit failed",
                "refuse 1 (disk full)",
                "refuse 2 (disk full)"
            ]
        );
        assert_eq!(rig.mark.durable(), 0);
        assert_eq!(rig.mark.wait_blocking(1), Err("disk full".to_string()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(rig.mark.wait(2)), Err("disk full".to_string()));
    }

    #[test]
    fn async_waiters_wake_when_their_batch_is_durable() {
        let rig = Rig::new();
        let h = rig.committer();
        rig.push(vec!["x"]);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let m = rig.mark.clone();
        let waiter = rt.spawn(async move {
            tokio::time::timeout(Duration::from_secs(10), m.wait(1))
                .await
                .unwrap_or_else(|_| Err("never woke".into()))
        });
        settle();
        assert!(!waiter.is_finished(), "woke before the commit");
        rig.gate.send(true).unwrap();
        assert_eq!(rt.block_on(waiter).unwrap(), Ok(()));
        rig.queue.close();
        h.join().unwrap();
    }
}
