//! `flotilla sweep`: a grid of scenarios × seeds, on this machine or as one shard.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};
use flotilla_sim::sweep::exec::{execute, ExecOptions, RunEvent};
use flotilla_sim::sweep::table::{write_tables, SweepTable};
use flotilla_sim::sweep::Sweep;

use crate::cli::SweepArgs;
use crate::graph_source::default_graph;
use crate::table::thousands;

/// Runs `flotilla sweep`.
pub fn run(args: SweepArgs) -> Result<()> {
    let sweep = Sweep::load(&args.sweep, &args.set)?;
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let all = sweep.runs().len();
    let mine = sweep.shard_runs(args.shard).len();
    let command: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let opts = ExecOptions {
        out: args.out.clone(),
        jobs,
        threads: args.threads.max(1),
        shard: args.shard,
        resume: args.resume,
        default_graph: default_graph()?,
        command,
    };
    let finished = AtomicUsize::new(0);
    let quiet = args.quiet;
    let (out, shard, points, seeds) = (
        &args.out,
        args.shard,
        sweep.points.len(),
        sweep.definition.seeds.len(),
    );
    let on_event = |e: &RunEvent| {
        if quiet {
            return;
        }
        if let RunEvent::Started { runs, complete } = e {
            // Printed once the directory is known to be usable, so a refused --out
            // is the only line.
            eprintln!(
                "sweep: {points} points × {seeds} seeds = {} runs{}{}; {jobs} at a time into {}",
                thousands(all as u64),
                shard
                    .map(|s| format!(" (shard {s}: {runs})"))
                    .unwrap_or_default(),
                if *complete > 0 {
                    format!(", {complete} complete already")
                } else {
                    String::new()
                },
                out.display()
            );
            return;
        }
        let k = finished.fetch_add(1, Ordering::Relaxed) + 1;
        match e {
            RunEvent::Started { .. } => {}
            RunEvent::Skipped { name } => eprintln!("[{k}/{mine}] {name} complete already"),
            RunEvent::Done {
                name,
                params,
                seconds,
                ..
            } => eprintln!("[{k}/{mine}] {name} {params} ({seconds:.1} s)"),
        }
    };
    let (report, table) = execute(&sweep, &opts, &on_event)?;
    finish(&args.out, &sweep, &table, args.no_report, args.quiet)?;
    if !args.quiet {
        eprintln!(
            "ran {} runs ({} complete already) in {:.1} s: {} payment-arms",
            report.ran,
            report.skipped,
            report.seconds,
            thousands(report.payment_arms)
        );
    }
    Ok(())
}

/// Writes the tables and (unless told not to) the report of a sweep directory.
pub(super) fn finish(
    out: &Path,
    sweep: &Sweep,
    table: &SweepTable,
    no_report: bool,
    quiet: bool,
) -> Result<()> {
    let aggregates = table.aggregates();
    write_tables(out, sweep, table, &aggregates)?;
    if !no_report {
        let w = flotilla_report::sweep::write_sweep_report(out, sweep, table, &aggregates)
            .with_context(|| {
                format!(
                    "the sweep's report in {} could not be written",
                    out.display()
                )
            })?;
        if !quiet {
            eprintln!(
                "wrote {}/sweep.csv ({} rows), aggregates.csv and report.html ({} charts)",
                out.display(),
                thousands(table.rows.len() as u64),
                w.charts
            );
        }
    }
    Ok(())
}
