//! `flotilla sim`: run an experiment, show progress, print the table.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use flotilla_sim::experiment::{
    export_simln, scenario_from_simln, Experiment, RunSummary, SimError,
};
use flotilla_sim::manifest::write_manifest;
use flotilla_sim::output::INCOMPLETE_MARKER;
use flotilla_sim::scenario::{OnionMode, Scenario, DEFAULT_SCENARIO};
use flotilla_sim::set::{self, Setting};

use crate::cli::{OnionArg, SimArgs};
use crate::graph_source::default_graph_path;
use crate::table::{thousands, Table};

/// Runs `flotilla sim`.
pub fn run(args: SimArgs) -> Result<()> {
    if args.print_default_scenario {
        print!("{DEFAULT_SCENARIO}");
        return Ok(());
    }
    let mut scenario = load_scenario(args.scenario.as_deref(), &args.set)?;
    apply_flags(&mut scenario, &args);
    let prepared = Experiment::prepare(scenario, &default_graph_path())
        .map_err(|e| name_the_source(e, &args))?;
    if let Some(path) = &args.export_simln {
        let (written, left_out) = export_simln(&prepared, path)?;
        if !args.quiet && !args.json {
            eprintln!(
                "wrote {} payments to {} for sim-ln ({} left out: an endpoint has no channel with both policies)",
                thousands(written as u64),
                path.display(),
                thousands(left_out as u64)
            );
        }
    }
    let out = args.out.clone().unwrap_or_else(default_out_dir);
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let total = (prepared.workload.len() * prepared.arm_runs()) as u64;
    let progress = AtomicU64::new(0);
    let show_bar = !args.quiet && !args.json && std::io::stderr().is_terminal();
    let done = AtomicBool::new(false);
    // What was run and how to run it again, written before the arms start.
    // (args_os: a non-UTF-8 path must not panic here; it is recorded lossily.)
    let command: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    write_manifest(&prepared, &out, &command)
        .with_context(|| format!("cannot write results to {}", out.display()))?;
    let summary = std::thread::scope(|s| {
        if show_bar {
            s.spawn(|| progress_bar(total, &progress, &done));
        }
        let r = prepared.run(&out, threads, &progress);
        done.store(true, Ordering::Relaxed);
        r
    })
    .with_context(|| {
        if out.join(INCOMPLETE_MARKER).is_file() {
            format!("simulation failed; see {}", out.display())
        } else {
            format!("cannot write results to {}", out.display())
        }
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else if !args.quiet {
        print_table(&summary, &out);
    }
    if !args.no_report {
        let written = flotilla_report::write_report(&out).with_context(|| {
            format!(
                "the simulation finished (results in {}) but its report could not be written",
                out.display()
            )
        })?;
        if !args.quiet && !args.json {
            super::report::print_written(&written, &out);
        }
    }
    Ok(())
}

/// A scenario value that does not fit the graph (an arm name, the liquidity model, a
/// policy override's node) is reported with where it came from: the flag that set it,
/// or the scenario file, so the line names the input to fix.
fn name_the_source(e: SimError, args: &SimArgs) -> anyhow::Error {
    let flag = match &e {
        SimError::Arm(u) if args.arms.is_some() => return anyhow::anyhow!("--arms: {u}"),
        SimError::Liquidity(l) if args.liquidity.is_some() => {
            return anyhow::anyhow!("--liquidity: {l}")
        }
        SimError::NoBalances(_) if args.liquidity.is_some() => Some("--liquidity"),
        SimError::Arm(_)
        | SimError::Liquidity(_)
        | SimError::NoBalances(_)
        | SimError::Override { .. }
        | SimError::Field(_) => None,
        SimError::Graph(_) => return anyhow::Error::new(e).context("cannot read graph"),
        _ => return e.into(),
    };
    match (flag, &args.scenario) {
        (Some(f), _) => anyhow::anyhow!("{f}: {e}"),
        (None, Some(file)) => anyhow::anyhow!("{}: {e}", file.display()),
        (None, None) => e.into(),
    }
}

fn load_scenario(path: Option<&Path>, sets: &[Setting]) -> Result<Scenario> {
    let Some(path) = path else {
        if sets.is_empty() {
            return Ok(Scenario::default());
        }
        return Ok(set::scenario_with_sets(Default::default(), "--set", sets)?);
    };
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let looks_like_simln = text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        || text.starts_with(&[0x1f, 0x8b]);
    if looks_like_simln {
        let s = scenario_from_simln(path);
        if sets.is_empty() {
            return Ok(s);
        }
        let file = path.display().to_string();
        return Ok(set::scenario_with_sets(set::document_of(&s), &file, sets)?);
    }
    let text =
        String::from_utf8(text).with_context(|| format!("{}: not UTF-8 text", path.display()))?;
    let file = path.display().to_string();
    let mut s = if sets.is_empty() {
        Scenario::from_toml(&text, &file)?
    } else {
        set::scenario_with_sets(set::parse_document(&text, &file)?, &file, sets)?
    };
    // Files a scenario names are found next to it first, so that a scenario runs from
    // any directory.
    if let Some(dir) = path.parent() {
        for file in [&mut s.graph.file, &mut s.workload.file] {
            let beside = dir.join(&*file);
            if !file.is_empty() && Path::new(file.as_str()).is_relative() && beside.exists() {
                *file = beside.display().to_string();
            }
        }
    }
    Ok(s)
}

fn apply_flags(s: &mut Scenario, a: &SimArgs) {
    if let Some(g) = &a.graph {
        s.graph.file = g.display().to_string();
    }
    if let Some(n) = a.payments {
        s.workload.payments = n;
    }
    if let Some(r) = a.rate {
        s.workload.arrivals_per_sec = r;
    }
    if let Some(seed) = a.seed {
        s.seed = seed;
    }
    if let Some(arms) = &a.arms {
        s.sender.arms = arms.clone();
    }
    if let Some(o) = a.onion {
        s.network.onion = match o {
            OnionArg::Modeled => OnionMode::Modeled,
            OnionArg::Real => OnionMode::Real,
        };
    }
    if let Some(l) = &a.liquidity {
        s.graph.liquidity = l.clone();
    }
}

fn default_out_dir() -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    PathBuf::from("results").join(secs.to_string())
}

fn progress_bar(total: u64, progress: &AtomicU64, done: &AtomicBool) {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} payments ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    while !done.load(Ordering::Relaxed) {
        bar.set_position(progress.load(Ordering::Relaxed));
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
}

fn print_table(s: &RunSummary, out: &Path) {
    println!(
        "{} · seed {} · {} ({} nodes, {} channels) · {} payments per arm · {:.1} s, {} payments/s\n",
        s.scenario,
        s.seed,
        s.graph,
        thousands(s.graph_nodes as u64),
        thousands(s.graph_channels as u64),
        thousands(s.payments as u64),
        s.wall_seconds,
        thousands(s.payments_per_second as u64),
    );
    let mut t = Table::new(1).header([
        "arm",
        "success",
        "95% CI",
        "attempts",
        "TTC mean ms",
        "p50",
        "p99",
        "fee ppm",
        "liq sat·s",
    ]);
    for a in &s.arms {
        t.row([
            a.name.clone(),
            format!("{:.1}%", a.success_rate * 100.0),
            format!(
                "{:.1}–{:.1}%",
                a.success_ci95[0] * 100.0,
                a.success_ci95[1] * 100.0
            ),
            format!("{:.2}", a.attempts_mean),
            format!("{:.0}", a.ttc_ms_mean),
            format!("{:.0}", a.ttc_ms_p50),
            format!("{:.0}", a.ttc_ms_p99),
            format!("{:.0}", a.fee_ppm_mean),
            format!("{:.0}", a.liquidity_seconds_mean),
        ]);
    }
    print!("{}", t.render());
    println!();
    let reasons: Vec<&str> = s
        .arms
        .first()
        .map(|a| a.failures.keys().copied().collect())
        .unwrap_or_default();
    let mut f = Table::new(1).header(std::iter::once("failures").chain(reasons.iter().copied()));
    for a in &s.arms {
        f.row(
            std::iter::once(a.name.clone()).chain(reasons.iter().map(|r| thousands(a.failures[r]))),
        );
    }
    print!("{}", f.render());
    if s.arms.iter().any(|a| a.name.starts_with("redundant-")) {
        println!();
        let mut r = Table::new(1).header([
            "redundancy",
            "parts sent",
            "parts settled",
            "overpaid msat",
            "overclaims",
            "extra msgs",
            "liq ×MPP",
        ]);
        for a in &s.arms {
            r.row([
                a.name.clone(),
                thousands(a.parts_sent),
                thousands(a.parts_settled),
                thousands(a.overpaid_msat),
                thousands(a.overclaim_attempts),
                thousands(a.extra_messages),
                a.liquidity_ratio_to_mpp
                    .map_or_else(|| "–".into(), |x| format!("{x:.2}")),
            ]);
        }
        print!("{}", r.render());
    }
    crate::field_tables::print(s);
    println!("\nresults in {}", out.display());
}
