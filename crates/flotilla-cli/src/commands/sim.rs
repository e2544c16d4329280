//! `flotilla sim`: run an experiment, show progress, print the table.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use flotilla_sim::experiment::{
    export_simln, scenario_from_simln, Experiment, RunSummary, SimError,
};
use flotilla_sim::manifest::write_manifest;
use flotilla_sim::output::{self, iso_utc, unix_now, AttemptsMode, OutputDir, INCOMPLETE_MARKER};
use flotilla_sim::progress::ArmProgress;
use flotilla_sim::scenario::{OnionMode, Scenario, DEFAULT_SCENARIO};
use flotilla_sim::set::{self, Setting};

use crate::cli::{AttemptsArg, OnionArg, SimArgs};
use crate::graph_source::default_graph;
use crate::progress;
use crate::table::{thousands, Table};

/// Runs `flotilla sim`.
pub fn run(args: SimArgs) -> Result<()> {
    if args.print_default_scenario {
        out!("{DEFAULT_SCENARIO}")?;
        return Ok(());
    }
    let mut scenario = load_scenario(args.scenario.as_deref(), &args.set)?;
    apply_flags(&mut scenario, &args);
    let mut prepared = Experiment::prepare_with(scenario, &default_graph()?)
        .map_err(|e| name_the_source(e, &args))?;
    prepared.attempts = match args.attempts {
        AttemptsArg::Off => AttemptsMode::Off,
        AttemptsArg::Gz => AttemptsMode::Gz,
        AttemptsArg::Full => AttemptsMode::Full,
    };
    if let Some(path) = &args.export_simln {
        let e = export_simln(&prepared, path)?;
        if !args.quiet && !args.json {
            // stderr may be closed; this is a courtesy line.
            let _ = writeln!(
                std::io::stderr(),
                "wrote {} payments to {} for sim-ln ({} left out: an endpoint has no channel with both policies)",
                thousands(e.written as u64),
                path.display(),
                thousands(e.no_channel as u64)
            );
        }
        if e.too_late > 0 && !args.quiet {
            // Said even with --json (on stderr): the file holds fewer payments than the run.
            eprintln!(
                "note: {} payments start after 65,535 s, the latest start sim-ln's start_secs (a u16) can hold; they are not in {}",
                thousands(e.too_late as u64),
                path.display()
            );
        }
    }
    let out = claim_out_dir(&args)?;
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let per_arm = prepared.workload.len() as u64;
    let names = prepared.arm_run_names();
    let counts = ArmProgress::new(prepared.arm_runs());
    let style = if args.quiet {
        None
    } else {
        progress::Style::for_stderr()
    };
    let done = AtomicBool::new(false);
    // What was run and how to run it again, written before the arms start.
    // (args_os: a non-UTF-8 path must not panic here; it is recorded lossily.)
    let command: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Err(e) = write_manifest(&prepared, &out, &command) {
        // The directory is claimed (its marker says "not finished"); say why it stops.
        if let Ok(dir) = OutputDir::create(&out) {
            dir.fail(&e.to_string());
        }
        return Err(e).with_context(|| format!("cannot write results to {}", out.display()));
    }
    let summary = std::thread::scope(|s| {
        if let Some(style) = style {
            let (names, counts, done) = (&names, &counts, &done);
            s.spawn(move || progress::show(style, names, per_arm, counts, done));
        }
        let r = prepared.run(&out, threads, &counts);
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
    // Files first, stdout last: a reader that goes away (`| head`) or a full stdout
    // cannot leave the results directory without its report.
    let written = write_report_unless(args.no_report, &out, "simulation")?;
    if args.json {
        let v = stdout_json(&summary, &out)?;
        outln!("{}", serde_json::to_string_pretty(&v)?)?;
    } else if !args.quiet {
        print_table(&summary, &out)?;
        if let Some(w) = &written {
            super::report::print_written(w, &out)?;
        }
    }
    Ok(())
}

/// Claims the results directory: `--out` (refused when it holds files, unless
/// `--force` and it is a previous run's), or a new `results/<UTC time>-<suffix>`.
fn claim_out_dir(args: &SimArgs) -> Result<PathBuf> {
    match &args.out {
        Some(dir) => {
            output::claim(dir, args.force)?;
            Ok(dir.clone())
        }
        None => {
            // Colons are awkward in file names (scp, Windows): 2026-02-03T14-05-09Z.
            let stamp = iso_utc(unix_now()).replace(':', "-");
            let dir = output::claim_new(Path::new("results"), &stamp, || {
                format!("{:04x}", rand::random::<u16>())
            })?;
            Ok(dir)
        }
    }
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
        | SimError::Workload(flotilla_sim::workload::WorkloadError::Scenario { .. })
        | SimError::Baseline(_)
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

pub(super) fn load_scenario(path: Option<&Path>, sets: &[Setting]) -> Result<Scenario> {
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

/// The report of a finished `what` run ("simulation", "live run") in `out`, unless
/// `--no-report`.
pub(super) fn write_report_unless(
    no_report: bool,
    out: &Path,
    what: &str,
) -> Result<Option<flotilla_report::Written>> {
    if no_report {
        return Ok(None);
    }
    let written = flotilla_report::write_report(out).with_context(|| {
        format!(
            "the {what} finished (results in {}) but its report could not be written",
            out.display()
        )
    })?;
    Ok(Some(written))
}

/// A run's summary as `--json` prints it. stdout is a report of this run, not an
/// artifact: it keeps the wall time that summary.json leaves to run.json, and says
/// where the results are.
pub(super) fn stdout_json(summary: &RunSummary, out: &Path) -> Result<serde_json::Value> {
    let mut v = serde_json::to_value(summary)?;
    if let Some(o) = v.as_object_mut() {
        o.insert("wall_seconds".into(), summary.wall_seconds.into());
        o.insert(
            "payments_per_second".into(),
            summary.payments_per_second.into(),
        );
        o.insert("results".into(), out.display().to_string().into());
    }
    Ok(v)
}

pub(super) fn print_table(s: &RunSummary, out: &Path) -> Result<()> {
    outln!(
        "{} · seed {} · {} ({} nodes, {} channels) · {} payments per arm · simulation loop {:.1} s, {} payments/s\n",
        s.scenario,
        s.seed,
        s.graph,
        thousands(s.graph_nodes as u64),
        thousands(s.graph_channels as u64),
        thousands(s.payments as u64),
        s.wall_seconds,
        thousands(s.payments_per_second as u64),
    )?;
    let mut t = Table::new(1).header([
        "arm",
        "success",
        "95% CI",
        "attempts",
        "TTC mean ms",
        "p50",
        "p99",
        "TTO mean ms",
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
            format!("{:.0}", a.tto_ms_mean),
            format!("{:.0}", a.fee_ppm_mean),
            format!("{:.0}", a.liquidity_seconds_mean),
        ]);
    }
    out!("{}", t.render())?;
    crate::oracle_table::print(s)?;
    crate::baseline_table::print(s)?;
    outln!()?;
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
    out!("{}", f.render())?;
    if s.arms.iter().any(|a| a.name.starts_with("redundant-")) {
        outln!()?;
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
        out!("{}", r.render())?;
    }
    crate::field_tables::print(s)?;
    outln!("\nresults in {}", out.display())?;
    Ok(())
}
