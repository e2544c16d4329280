//! Paying the workload through the live nodes' control sockets.
//!
//! Each payment runs on its own thread: an invoice from the receiver (skipped for
//! keysend), then `pay` at the sender, which answers once the payment settled or
//! failed. Its time is measured here, around the `pay` request, in microseconds: the
//! node's own `time_ms` is whole milliseconds, too coarse on loopback. The request's
//! own overhead (a Unix-socket round trip and a JSON line, well under a millisecond)
//! is included and the same for every payment.
//!
//! Paced (the default), payment i is dispatched at the workload's start time for it,
//! counted from the first; with a concurrency N, as soon as fewer than N are in
//! flight. Either way a payment's row records when it was actually dispatched, on the
//! workload's clock (the first payment's arrival time plus the wall time since).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use flotilla_node::control::protocol::Request;
use flotilla_sim::workload::PaymentSpec;
use serde_json::Value;

use super::cluster;

/// Most payments in flight when paced by arrival times: a safety bound on threads. A
/// payment held back by it is dispatched late, and the lateness is reported.
const PACED_MAX_IN_FLIGHT: usize = 512;

/// How the workload is dispatched.
#[derive(Copy, Clone, Debug)]
pub enum Pace {
    /// Each payment at its arrival time.
    Arrivals,
    /// As fast as possible, this many in flight.
    Concurrency(u32),
}

/// What one payment did, as the driver saw it.
#[derive(Clone, Debug)]
pub struct LiveOutcome {
    /// Workload index.
    pub index: usize,
    /// When it was dispatched, seconds on the workload's clock (the first payment's
    /// arrival time plus the wall time since it was dispatched).
    pub dispatched_secs: f64,
    /// How late it was dispatched against its arrival time, µs (paced only).
    pub late_micros: u64,
    /// The payment hash (hex), when an invoice was made or the node reported it.
    pub payment_hash: Option<String>,
    /// `pay`'s answer (`status`, `fee_msat`, `parts_sent`, `parts_settled`,
    /// `failure_reason`, …), or why the request itself failed.
    pub answer: Result<Value, String>,
    /// The `pay` (or `keysend`) request's round trip, µs.
    pub micros: u64,
}

/// A node as the driver needs it.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Data directory (control socket).
    pub dir: PathBuf,
    /// Node id.
    pub node_id: String,
}

/// Pays `workload` between `nodes` (graph order), `max_parts` parts at most each;
/// `done` counts finished payments. Returns the outcomes in workload order.
pub fn run(
    workload: &[PaymentSpec],
    nodes: &[Endpoint],
    max_parts: u32,
    pace: Pace,
    done: &AtomicU64,
) -> Result<Vec<LiveOutcome>> {
    let nodes: Arc<Vec<Endpoint>> = Arc::new(nodes.to_vec());
    let (tx, rx) = mpsc::channel::<LiveOutcome>();
    let mut results: Vec<Option<LiveOutcome>> = vec![None; workload.len()];
    let cap = match pace {
        Pace::Arrivals => PACED_MAX_IN_FLIGHT,
        Pace::Concurrency(n) => n as usize,
    };
    let first = workload.first().map_or(0, |p| p.start.micros());
    let t0 = Instant::now();
    let mut in_flight = 0usize;
    let mut collect = |o: LiveOutcome, in_flight: &mut usize| {
        *in_flight -= 1;
        done.fetch_add(1, Ordering::Relaxed);
        let i = o.index;
        results[i] = Some(o);
    };
    for spec in workload {
        cluster::check_interrupted()?;
        let due = Duration::from_micros(spec.start.micros().saturating_sub(first));
        if let Pace::Arrivals = pace {
            let now = t0.elapsed();
            if due > now {
                cluster::sleep(due - now)?;
            }
        }
        while in_flight >= cap {
            cluster::check_interrupted()?;
            if let Ok(o) = rx.recv_timeout(Duration::from_millis(50)) {
                collect(o, &mut in_flight);
            }
        }
        // Collect whatever finished meanwhile, so progress moves.
        while let Ok(o) = rx.try_recv() {
            collect(o, &mut in_flight);
        }
        let dispatched = t0.elapsed();
        let late_micros = match pace {
            Pace::Arrivals => dispatched.saturating_sub(due).as_micros() as u64,
            Pace::Concurrency(_) => 0,
        };
        let spec = spec.clone();
        let nodes = Arc::clone(&nodes);
        let tx = tx.clone();
        in_flight += 1;
        std::thread::spawn(move || {
            let mut o = pay_one(&spec, &nodes, max_parts);
            // On the workload's clock, as the simulator's dispatch_time.
            o.dispatched_secs = (first as f64 / 1e6) + dispatched.as_secs_f64();
            o.late_micros = late_micros;
            let _ = tx.send(o);
        });
    }
    drop(tx);
    while in_flight > 0 {
        cluster::check_interrupted()?;
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(o) => collect(o, &mut in_flight),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    Ok(results.into_iter().flatten().collect())
}

/// One payment: invoice (unless keysend), then pay, timed.
fn pay_one(spec: &PaymentSpec, nodes: &[Endpoint], max_parts: u32) -> LiveOutcome {
    let index = spec.index as usize;
    let sender = &nodes[spec.source.ix()];
    let receiver = &nodes[spec.destination.ix()];
    let mut out = LiveOutcome {
        index,
        dispatched_secs: 0.0,
        late_micros: 0,
        payment_hash: None,
        answer: Err(String::new()),
        micros: 0,
    };
    let request = if spec.keysend {
        Request::Keysend {
            peer: receiver.node_id.clone(),
            amount_msat: spec.amount_msat,
            max_parts: Some(max_parts),
        }
    } else {
        let invoice = cluster::ask(
            &receiver.dir,
            Request::Invoice {
                amount_msat: Some(spec.amount_msat),
                description: format!("flotilla live payment {index}"),
                expiry_secs: Some(3600),
                // The live comparison runs the scenario's MPP arm only.
                lock: None,
                parts: None,
            },
        );
        let invoice = match invoice {
            Ok(v) => v,
            Err(e) => {
                out.answer = Err(format!("invoice: {e}"));
                return out;
            }
        };
        out.payment_hash = invoice
            .get("payment_hash")
            .and_then(Value::as_str)
            .map(str::to_string);
        let Some(bolt11) = invoice.get("bolt11").and_then(Value::as_str) else {
            out.answer = Err("invoice: no bolt11 in the answer".into());
            return out;
        };
        Request::Pay {
            bolt11: bolt11.to_string(),
            amount_msat: None,
            max_parts: Some(max_parts),
            redundancy: None,
            lock: None,
            commitments: None,
        }
    };
    let t = Instant::now();
    let answer = cluster::ask(&sender.dir, request).map_err(|e| e.to_string());
    out.micros = t.elapsed().as_micros() as u64;
    if out.payment_hash.is_none() {
        out.payment_hash = answer
            .as_ref()
            .ok()
            .and_then(|v| v.get("payment_hash"))
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    out.answer = answer;
    out
}
