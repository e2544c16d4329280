//! What a finished payment writes: its `payments.csv` row, and each attempt's
//! `attempts.jsonl` line.

use std::fmt::Write as _;

use flotilla_graph::Graph;
use flotilla_ln::session::AttemptRecord;

use crate::metrics::PaymentOutcome;
use crate::workload::PaymentSpec;

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// One `payments.csv` row (the columns of [`crate::output::PAYMENTS_HEADER`]): the
/// simulator's, and `flotilla live`'s for the same payments.
pub fn payment_row(
    graph: &Graph,
    arm: &str,
    spec: &PaymentSpec,
    hash: &[u8; 32],
    o: &PaymentOutcome,
) -> String {
    format!(
        "{},{},{},{},{:.6},{},{},{},{},{},{},{},{},{},{},{:.3},{:.3}\n",
        graph.node(spec.source).pubkey,
        graph.node(spec.destination).pubkey,
        spec.amount_msat,
        hex(hash),
        spec.start.as_secs_f64(),
        o.parts_sent,
        if o.succeeded { "Success" } else { "Failure" },
        arm,
        spec.index,
        o.fee_msat,
        o.attempts,
        o.parts_settled,
        o.parts_sent,
        o.ttc_ms.map(|t| format!("{t:.3}")).unwrap_or_default(),
        o.failure.map(|f| f.name()).unwrap_or(""),
        o.liquidity_sat_seconds,
        o.tto_ms(),
    )
}

pub(super) fn attempt_json(graph: &Graph, arm: &str, a: &AttemptRecord, out: &mut String) {
    let hops: Vec<serde_json::Value> = a
        .path
        .hops
        .iter()
        .map(|h| {
            serde_json::json!({
                "scid": graph.channel(h.edge.channel()).scid.to_string(),
                "to": graph.node(graph.edge_target(h.edge)).pubkey.to_hex(),
                "amount_msat": h.amount_msat,
                "cltv_expiry": h.cltv_expiry,
            })
        })
        .collect();
    let v = serde_json::json!({
        "arm": arm,
        "payment": a.payment,
        "part": a.part,
        "sent_ms": a.sent_at.micros() as f64 / 1000.0,
        "resolved_ms": a.resolved_at.micros() as f64 / 1000.0,
        "amount_msat": a.path.amount_msat(),
        "fee_msat": a.path.fee_msat(),
        "outcome": if a.failure.is_none() { "settled" } else { "failed" },
        "failure_code": a.failure.map(|c| c.name()),
        "origin_hop": a.origin_hop,
        "failed_hop": a.failed_hop,
        "liquidity_sat_seconds": a.locked_msat_micros as f64 / 1e9,
        "hops": hops,
    });
    let _ = writeln!(out, "{v}");
}
