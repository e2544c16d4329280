//! `flotilla live`: a small scenario run by real `flotilla node` processes on
//! loopback, written out as `flotilla sim` writes a run, so the two pair payment by
//! payment (docs/live.md).
//!
//! [`cluster`] starts and stops the processes, [`setup`] connects them and opens the
//! scenario's channels with its balances, [`drive`] pays the workload, and this file
//! ties it together: what the live network can and cannot reproduce, the results
//! directory (the simulator's own writers) and the table.

mod cluster;
mod drive;
mod setup;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use flotilla_ln::config::ChannelParams;
use flotilla_ln::session::FailureReason;
use flotilla_route::Timestamp;
use flotilla_sim::experiment::{Experiment, RunSummary};
use flotilla_sim::manifest::{seal, write_manifest, Timing};
use flotilla_sim::metrics::{PaymentOutcome, SummaryBuilder};
use flotilla_sim::output::{self, iso_utc, unix_now, OutputDir, PAYMENTS_HEADER};
use flotilla_sim::progress::{ArmProgress, ProgressSink};
use flotilla_sim::scenario::{CommitmentMode, OnionMode, Scenario, WorkloadKind};
use flotilla_sim::stats::ArmOutcomes;
use flotilla_sim::workload::PaymentSpec;
use serde_json::{json, Value};

use crate::cli::LiveArgs;
use crate::graph_source::default_graph;
use crate::progress;

/// The largest graph `flotilla live` runs: one process per node, each with its own
/// store and sockets, on one machine.
pub const MAX_LIVE_NODES: usize = 50;

/// The simulator arm the live node's payer is: MPP with the greedy splitter over
/// liquidity-bounds beliefs (`flotilla_node::engine::pay`).
const LIVE_ARMS: [&str; 2] = ["mpp-retry", "mpp-retry-greedy"];

/// The live payer's limits (`flotilla_node::engine::pay`), for the differences list.
mod payer {
    pub const MAX_ATTEMPTS: u32 = flotilla_node::engine::pay::MAX_ATTEMPTS;
    pub const TIMEOUT_SECS: u64 = flotilla_node::engine::pay::TIMEOUT_MICROS / 1_000_000;
    /// 1% of the amount plus 10 sat.
    pub const FEE_LIMIT_PPM: u64 = 10_000;
    pub const FEE_LIMIT_BASE_SAT: u64 = 10;
    /// The final CLTV delta of the live node's invoices
    /// (`NodeConfig::default().min_final_cltv_expiry_delta`).
    pub fn final_cltv_delta() -> u32 {
        flotilla_ln::config::NodeConfig::default().min_final_cltv_expiry_delta
    }
}

/// Runs `flotilla live`.
pub fn run(args: LiveArgs) -> Result<()> {
    cluster::catch_signals();
    let scenario = super::sim::load_scenario(Some(&args.scenario), &args.set)?;
    let file = args.scenario.display().to_string();
    let prepared = Experiment::prepare_with(scenario, &default_graph()?)
        .map_err(|e| anyhow!("{file}: {e}"))?;
    let arm = check_runnable(&prepared).map_err(|e| anyhow!("{file}: {e}"))?;
    let differences = differences(&prepared, &arm);
    if !args.quiet && !args.json {
        for d in &differences {
            eprintln!("note: {d}");
        }
    }
    let out = claim_out_dir(&args)?;
    let dir = OutputDir::create(&out)
        .with_context(|| format!("cannot write results to {}", out.display()))?;
    let command: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let result = write_manifest(&prepared, &out, &command)
        .map_err(anyhow::Error::from)
        .and_then(|_| run_live(&args, &prepared, &arm, &differences, &dir));
    let summary = match result {
        Ok(s) => {
            dir.finish()
                .with_context(|| format!("cannot write results to {}", out.display()))?;
            s
        }
        Err(e) => {
            dir.fail(&format!("{e:#}"));
            return Err(e.context(format!("live run failed; see {}", out.display())));
        }
    };
    let written = super::sim::write_report_unless(args.no_report, &out, "live run")?;
    if args.json {
        let mut v = super::sim::stdout_json(&summary.run, &out)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("live".into(), summary.live.clone());
        }
        outln!("{}", serde_json::to_string_pretty(&v)?)?;
    } else if !args.quiet {
        print_live_header(&summary.live)?;
        super::sim::print_table(&summary.run, &out)?;
        if let Some(w) = &written {
            super::report::print_written(w, &out)?;
        }
    }
    Ok(())
}

/// A finished live run: `summary.json`'s content and `live.json`'s.
struct LiveSummary {
    run: RunSummary,
    live: Value,
}

/// Everything from starting the nodes to the sealed results directory.
fn run_live(
    args: &LiveArgs,
    prepared: &Experiment,
    arm: &str,
    differences: &[String],
    odir: &OutputDir,
) -> Result<LiveSummary> {
    let out = odir.path();
    let graph = &prepared.graph;
    let aliases: Vec<String> = (0..graph.node_count())
        .map(|i| {
            let n = graph.node(flotilla_graph::NodeIdx(i as u32));
            if n.alias.is_empty() {
                format!("n{i}")
            } else {
                n.alias.clone()
            }
        })
        .collect();
    let (root, remove_root) = match &args.nodes_dir {
        Some(d) => (d.clone(), false),
        None => (temp_root()?, true),
    };
    let started_at = iso_utc(unix_now());
    let wall = Instant::now();
    let t = Instant::now();
    let mut cluster = cluster::Cluster::start(
        &root,
        &aliases,
        &channel_args(&prepared.scenario.network.channel),
        remove_root,
    )?;
    let start_secs = t.elapsed().as_secs_f64();
    let network = setup::build(&cluster, prepared)?;
    let endpoints: Vec<drive::Endpoint> = cluster
        .nodes
        .iter()
        .map(|n| drive::Endpoint {
            dir: n.dir.clone(),
            node_id: n.node_id.clone(),
        })
        .collect();
    let pace = match args.concurrency {
        Some(n) => drive::Pace::Concurrency(n),
        None => drive::Pace::Arrivals,
    };
    let counts = ArmProgress::new(1);
    let show = !args.quiet && !args.json && std::io::stderr().is_terminal();
    let stop = AtomicBool::new(false);
    let names = vec![arm.to_string()];
    let t = Instant::now();
    let outcomes = std::thread::scope(|s| {
        if show {
            let (names, counts, stop) = (&names, &counts, &stop);
            let total = prepared.workload.len() as u64;
            s.spawn(move || progress::show(progress::Style::Bars, names, total, counts, stop));
        }
        let r = drive::run(
            &prepared.workload,
            &endpoints,
            prepared.scenario.sender.max_parts,
            pace,
            counts.arm(0),
        );
        stop.store(true, Ordering::Relaxed);
        r
    })?;
    let workload_secs = t.elapsed().as_secs_f64();
    // The books after the last payment: every node's own check, no HTLC left, and
    // every channel's two ends in agreement, before the nodes stop.
    let books = setup::books(&cluster, prepared)?;
    cluster.stop();
    drop(cluster);

    // The results, with the simulator's writers.
    let mut rows = odir.part_writer("payments.csv", 0)?;
    let mut builder = SummaryBuilder::default();
    let mut arm_outcomes = ArmOutcomes::new(prepared.workload.len());
    let mut errors = Vec::new();
    let mut late_max = 0u64;
    let mut span: Option<(f64, f64)> = None;
    for o in &outcomes {
        let spec = &prepared.workload[o.index];
        let outcome = outcome_of(spec, o, &mut errors);
        late_max = late_max.max(o.late_micros);
        span = Some(match span {
            Some((a, b)) => (a.min(o.dispatched_secs), b.max(o.dispatched_secs)),
            None => (o.dispatched_secs, o.dispatched_secs),
        });
        builder.add(&outcome);
        arm_outcomes.record(&outcome);
        let row_spec = PaymentSpec {
            start: Timestamp((o.dispatched_secs * 1e6).round() as u64),
            ..spec.clone()
        };
        let hash = o
            .payment_hash
            .as_deref()
            .and_then(unhex32)
            .unwrap_or([0; 32]);
        let row = flotilla_sim::run::payment_row(graph, arm, &row_spec, &hash, &outcome);
        rows.write(row.as_bytes())?;
    }
    rows.finish()?;
    odir.join_parts("payments.csv", PAYMENTS_HEADER, 1)?;
    let mut arm_summary = builder.finish(arm);
    [
        arm_summary.tto_ms_mean,
        arm_summary.tto_ms_p50,
        arm_summary.tto_ms_p90,
        arm_summary.tto_ms_p99,
    ] = arm_outcomes.tto_summary();
    let span_secs = span.map_or(0.0, |(a, b)| b - a);
    arm_summary.throughput_sat_per_sec =
        arm_summary.succeeded_msat as f64 / 1000.0 / span_secs.max(1e-6);
    let mut run = RunSummary {
        scenario: prepared.scenario.name.clone(),
        seed: prepared.scenario.seed,
        graph: prepared.graph_file.display().to_string(),
        graph_nodes: graph.node_count(),
        graph_channels: graph.channel_count(),
        payments: prepared.workload.len(),
        offline_nodes: 0,
        hodl_nodes: 0,
        feasible_share: None,
        wall_seconds: 0.0,
        payments_per_second: 0.0,
        attempts_file: None,
        arms: vec![arm_summary],
        field: Default::default(),
        scenario_config: prepared.scenario.clone(),
    };
    let json = serde_json::to_vec_pretty(&run)?;
    odir.write_file("summary.json", &json)?;
    let live = json!({
        "format": "flotilla-live",
        "format_version": 1,
        "arm": arm,
        "pace": match pace {
            drive::Pace::Arrivals => json!("arrivals"),
            drive::Pace::Concurrency(n) => json!({ "concurrency": n }),
        },
        "nodes": cluster_json(&network.nodes),
        "setup_seconds": {
            "start": start_secs,
            "connect": network.connect_secs,
            "open": network.open_secs,
            "gossip": network.gossip_secs,
        },
        "workload_seconds": workload_secs,
        "dispatch_late_ms_max": late_max as f64 / 1000.0,
        "books": books,
        "request_errors": errors,
        "differences": differences,
    });
    odir.write_file("live.json", serde_json::to_string_pretty(&live)?.as_bytes())?;
    let wall_seconds = wall.elapsed().as_secs_f64();
    run.wall_seconds = workload_secs;
    run.payments_per_second = prepared.workload.len() as f64 / workload_secs.max(1e-9);
    seal(
        out,
        Timing {
            started_at,
            finished_at: iso_utc(unix_now()),
            wall_seconds,
            payments_per_second: run.payments_per_second,
            threads: 1,
        },
    )?;
    Ok(LiveSummary { run, live })
}

/// The arm to run, or why the scenario cannot run live.
fn check_runnable(p: &Experiment) -> Result<String> {
    let s = &p.scenario;
    let n = p.graph.node_count();
    if n > MAX_LIVE_NODES {
        bail!(
            "graph.file: {n} nodes; `flotilla live` starts one process per node and runs at most {MAX_LIVE_NODES}"
        );
    }
    if n < 2 {
        bail!("graph.file: {n} node(s); a payment needs two");
    }
    let refuse = |key: &str, why: &str| -> Result<String> {
        bail!("{key}: {why}; `flotilla live` cannot reproduce it")
    };
    if s.workload.kind == WorkloadKind::ClosedLoop {
        return refuse(
            "workload.kind",
            "a closed loop starts payments when earlier ones finish",
        );
    }
    let net = &s.network;
    if net.offline_share > 0.0 {
        return refuse("network.offline_share", "offline nodes");
    }
    if net.hodl_share > 0.0 {
        return refuse("network.hodl_share", "nodes that hold HTLCs");
    }
    if net.cheating_receiver_share > 0.0 {
        return refuse("network.cheating_receiver_share", "cheating receivers");
    }
    if net.background_per_sec > 0.0 {
        return refuse("network.background_per_sec", "background payments");
    }
    if !net.overrides.is_empty() {
        return refuse(
            "network.overrides",
            "per-node policies and channel parameters",
        );
    }
    if s.sender.warmup_payments > 0 {
        return refuse(
            "sender.warmup_payments",
            "a warm-up teaches one shared router; each live payment routes with fresh beliefs",
        );
    }
    if s.hub.is_some() || s.probing.is_some() || s.stuck.is_some() {
        return refuse("[hub], [probing], [stuck]", "field scenarios");
    }
    match s.sender.arms.iter().find(|a| LIVE_ARMS.contains(&a.trim())) {
        Some(a) => Ok(a.trim().to_string()),
        None => bail!(
            "sender.arms: none of {:?} is the live node's payer (MPP with the greedy splitter: {})",
            s.sender.arms,
            LIVE_ARMS.join(" or ")
        ),
    }
}

/// `node run`'s flags that give every node the scenario's channel parameters
/// (`[network.channel]`), exchanged in each channel's open.
fn channel_args(c: &ChannelParams) -> Vec<String> {
    let mut a = vec![
        format!("--channel-reserve-ppm={}", c.channel_reserve_ppm),
        format!("--dust-limit-sat={}", c.dust_limit_sat),
        format!("--max-accepted-htlcs={}", c.max_accepted_htlcs),
        format!("--channel-htlc-minimum-msat={}", c.htlc_minimum_msat),
    ];
    if let Some(m) = c.max_htlc_value_in_flight_msat {
        a.push(format!("--max-htlc-value-in-flight-msat={m}"));
    }
    a
}

/// What the live network runs differently from the simulator on this scenario, one
/// line each: said on stderr and kept in live.json.
fn differences(p: &Experiment, arm: &str) -> Vec<String> {
    let s = &p.scenario;
    let mut d = Vec::new();
    let others: Vec<&str> = s
        .sender
        .arms
        .iter()
        .map(|a| a.trim())
        .filter(|a| *a != arm)
        .collect();
    if !others.is_empty() {
        d.push(format!(
            "only {arm} runs live; not run: {}",
            others.join(", ")
        ));
    }
    d.push(
        "each live payment routes with fresh beliefs of its own sender; the simulator's arm keeps one belief state that learns from every payment".into(),
    );
    // Policies: each live node announces the scenario's policy for its direction,
    // except where a live node cannot.
    let (mut differ, mut total) = (0usize, 0usize);
    let mut first: Option<String> = None;
    for (ci, ch) in p.graph.channels().iter().enumerate() {
        for (dir, pol) in ch.policies.iter().enumerate() {
            total += 1;
            let live = setup::live_policy(pol.as_ref(), ch.capacity_sat);
            let same = match (pol, live) {
                (Some(q), Some(l)) => l.htlc_maximum_msat == Some(q.htlc_maximum_msat),
                _ => false,
            };
            if !same {
                differ += 1;
                first.get_or_insert_with(|| match pol {
                    Some(q) => format!(
                        "channel {ci} direction {dir}: base {} msat, {} ppm, cltv {}, htlc {}–{} msat{}",
                        q.fee_base_msat,
                        q.fee_rate_ppm,
                        q.cltv_expiry_delta,
                        q.htlc_minimum_msat,
                        q.htlc_maximum_msat,
                        if q.disabled { ", disabled" } else { "" }
                    ),
                    None => format!("channel {ci} direction {dir}: no policy"),
                });
            }
        }
    }
    if differ > 0 {
        d.push(format!(
            "policies: {differ} of {total} channel directions cannot be announced live as the scenario has them (a live node announces no disabled direction and no missing policy, caps htlc_maximum at the capacity, and needs a CLTV delta of 1–2016 and an HTLC minimum up to the capacity; the node's default stands in), e.g. {}",
            first.unwrap_or_default()
        ));
    }
    if s.network.channel.max_dust_htlc_exposure_msat.is_some() {
        d.push(
            "network.channel.max_dust_htlc_exposure_msat: the live nodes set no dust exposure cap"
                .into(),
        );
    }
    let snd = &s.sender;
    let mut limits = Vec::new();
    if snd.timeout_secs != payer::TIMEOUT_SECS {
        limits.push(format!(
            "timeout {} s (scenario {})",
            payer::TIMEOUT_SECS,
            snd.timeout_secs
        ));
    }
    if snd.max_attempts != payer::MAX_ATTEMPTS {
        limits.push(format!(
            "max_attempts {} (scenario {})",
            payer::MAX_ATTEMPTS,
            snd.max_attempts
        ));
    }
    if (snd.fee_limit_ppm, snd.fee_limit_base_sat)
        != (payer::FEE_LIMIT_PPM, payer::FEE_LIMIT_BASE_SAT)
    {
        limits.push(format!(
            "fee limit {} ppm + {} sat (scenario {} ppm + {} sat)",
            payer::FEE_LIMIT_PPM,
            payer::FEE_LIMIT_BASE_SAT,
            snd.fee_limit_ppm,
            snd.fee_limit_base_sat
        ));
    }
    if snd.min_part_sat > 0 {
        limits.push(format!(
            "smallest part 1 msat (scenario {} sat)",
            snd.min_part_sat
        ));
    }
    if snd.final_cltv_delta != payer::final_cltv_delta() {
        limits.push(format!(
            "final CLTV delta {} (scenario {})",
            payer::final_cltv_delta(),
            snd.final_cltv_delta
        ));
    }
    if !limits.is_empty() {
        d.push(format!(
            "sender limits: the live payer's are fixed: {}",
            limits.join(", ")
        ));
    }
    if s.receiver.mpp_timeout_secs != 60 {
        d.push(format!(
            "receiver.mpp_timeout_secs: live receivers wait 60 s (scenario {})",
            s.receiver.mpp_timeout_secs
        ));
    }
    if s.network.commitment != CommitmentMode::Full || s.network.onion != OnionMode::Real {
        d.push(
            "live nodes lock updates in with the full commitment exchange and real onions; set network.commitment = \"full\" and network.onion = \"real\" for the simulator to match".into(),
        );
    }
    d.push(format!(
        "latency is loopback's and the nodes' own processing (one fsync per input), not network.latency ({})",
        latency_text(s)
    ));
    d
}

fn latency_text(s: &Scenario) -> String {
    let l = &s.network.latency;
    serde_json::to_string(l).unwrap_or_default()
}

/// A payment's outcome from what the driver saw.
fn outcome_of(
    spec: &PaymentSpec,
    o: &drive::LiveOutcome,
    errors: &mut Vec<Value>,
) -> PaymentOutcome {
    let mut outcome = PaymentOutcome {
        payment: spec.index,
        amount_msat: spec.amount_msat,
        succeeded: false,
        fee_msat: 0,
        attempts: 0,
        parts_sent: 0,
        parts_settled: 0,
        ttc_ms: None,
        tto_micros: o.micros,
        busy_micros: o.micros,
        failure: None,
        liquidity_sat_seconds: 0.0,
        overpaid_msat: 0,
        extra_messages: 0,
    };
    let v = match &o.answer {
        Ok(v) => v,
        Err(e) => {
            // The node refused the request (or never answered): the payment was not
            // made. Counted as no_route, and listed.
            errors.push(json!({ "payment": spec.index, "error": e }));
            outcome.failure = Some(FailureReason::NoRoute);
            return outcome;
        }
    };
    let u32_of = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0) as u32;
    outcome.parts_sent = u32_of("parts_sent");
    outcome.parts_settled = u32_of("parts_settled");
    // The live payer does not report paths its own channels refused; parts sent is
    // what it did try over the network.
    outcome.attempts = outcome.parts_sent;
    match v.get("status").and_then(Value::as_str) {
        Some("succeeded") => {
            outcome.succeeded = true;
            outcome.fee_msat = v.get("fee_msat").and_then(Value::as_u64).unwrap_or(0);
            outcome.ttc_ms = Some(o.micros as f64 / 1000.0);
        }
        Some("failed") => {
            let name = v
                .get("failure_reason")
                .and_then(Value::as_str)
                .unwrap_or("");
            outcome.failure = Some(
                FailureReason::ALL
                    .into_iter()
                    .find(|r| r.name() == name)
                    .unwrap_or(FailureReason::NoRoute),
            );
        }
        other => {
            errors.push(json!({
                "payment": spec.index,
                "error": format!("status {}", other.unwrap_or("missing")),
            }));
            outcome.failure = Some(FailureReason::Timeout);
        }
    }
    outcome
}

fn unhex32(s: &str) -> Option<[u8; 32]> {
    let v = flotilla_node::engine::unhex(s)?;
    v.try_into().ok()
}

fn cluster_json(nodes: &[setup::NodeRecord]) -> Value {
    Value::Array(
        nodes
            .iter()
            .map(|n| {
                json!({
                    "index": n.index,
                    "alias": n.alias,
                    "graph_pubkey": n.graph_pubkey,
                    "node_id": n.node_id,
                    "listen": n.listen,
                    "pid": n.pid,
                })
            })
            .collect(),
    )
}

/// A fresh directory for the nodes' data under the system's temporary directory
/// (short: a Unix socket path must stay under 108 bytes).
fn temp_root() -> Result<PathBuf> {
    let base = std::env::temp_dir();
    for _ in 0..64 {
        let p = base.join(format!("flotilla-live-{:08x}", rand::random::<u32>()));
        match std::fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", p.display())),
        }
    }
    bail!(
        "cannot create a temporary directory under {}",
        base.display()
    )
}

/// `--out`, or a new `results/<UTC time>-live-<suffix>`.
fn claim_out_dir(args: &LiveArgs) -> Result<PathBuf> {
    match &args.out {
        Some(dir) => {
            output::claim(dir, args.force)?;
            Ok(dir.clone())
        }
        None => {
            let stamp = iso_utc(unix_now()).replace(':', "-");
            Ok(output::claim_new(Path::new("results"), &stamp, || {
                format!("live-{:04x}", rand::random::<u16>())
            })?)
        }
    }
}

fn print_live_header(live: &Value) -> Result<()> {
    let secs = |k: &str| live.pointer(k).and_then(Value::as_f64).unwrap_or(0.0);
    outln!(
        "live: {} nodes started in {:.1} s, connected in {:.1} s, channels opened in {:.1} s, gossip complete in {:.1} s; workload {:.1} s (latest dispatch {:.1} ms late)",
        live.get("nodes").and_then(Value::as_array).map_or(0, Vec::len),
        secs("/setup_seconds/start"),
        secs("/setup_seconds/connect"),
        secs("/setup_seconds/open"),
        secs("/setup_seconds/gossip"),
        secs("/workload_seconds"),
        secs("/dispatch_late_ms_max"),
    )?;
    let errors = live
        .get("request_errors")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if errors > 0 {
        outln!("live: {errors} payment requests failed outright (live.json request_errors)")?;
    }
    Ok(())
}
