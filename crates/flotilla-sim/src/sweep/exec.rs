//! Running a sweep's runs (or one shard's) into `DIR/runs/`, `jobs` at a time.
//!
//! Each run is an ordinary `flotilla sim` results directory, written the way `sim`
//! writes it: `run.json` and `scenario.toml` first, then the arms with the
//! `INCOMPLETE` marker until every file is complete. A run whose directory is complete
//! is never run again (`resume`); a directory left incomplete by an interruption is
//! removed and run afresh. The order in which jobs finish changes nothing on disk:
//! each run is deterministic given its scenario and seed, and the tables are written
//! afterwards in the sweep's order.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use super::spec::{RunId, Shard, Sweep};
use super::table::SweepTable;
use super::{SweepError, SweepManifest, RUNS_DIR, SWEEP_MANIFEST};
use crate::experiment::Experiment;
use crate::output::INCOMPLETE_MARKER;

/// How to run a sweep.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// The sweep directory.
    pub out: PathBuf,
    /// Runs at once.
    pub jobs: usize,
    /// Arms at once within a run (results do not depend on it).
    pub threads: usize,
    /// Only this shard's runs.
    pub shard: Option<Shard>,
    /// Continue a sweep already in `out`, skipping its complete runs.
    pub resume: bool,
    /// The graph of scenarios that name none.
    pub default_graph: crate::graph_origin::DefaultGraph,
    /// The command as typed (recorded in every run's `run.json`).
    pub command: Vec<String>,
}

/// What happened to one run, for progress output.
#[derive(Debug, Clone)]
pub enum RunEvent {
    /// The directory is ready and the runs are about to start.
    Started {
        /// Runs in this sweep (or shard).
        runs: usize,
        /// Of those, complete already (resume).
        complete: usize,
    },
    /// Already complete (resume): not run again.
    Skipped {
        /// The run's directory name.
        name: String,
    },
    /// Finished.
    Done {
        /// The run's directory name.
        name: String,
        /// Its parameters, `key=value, …`.
        params: String,
        /// Wall time, seconds.
        seconds: f64,
        /// Payments × arm runs it simulated.
        payment_arms: u64,
    },
}

/// What a sweep run did.
#[derive(Debug, Clone)]
pub struct ExecReport {
    /// Runs in this sweep (or shard).
    pub runs: usize,
    /// Runs skipped as complete.
    pub skipped: usize,
    /// Runs made.
    pub ran: usize,
    /// Payments × arm runs simulated.
    pub payment_arms: u64,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// Whether `dir` holds a finished run.
pub fn is_complete(dir: &Path) -> bool {
    dir.join("summary.json").is_file()
        && dir.join("payments.csv").is_file()
        && !dir.join(INCOMPLETE_MARKER).exists()
}

/// Prepares `opts.out` for `sweep`: a new sweep needs an empty or absent directory;
/// `resume` needs the same sweep (and shard) there, or nothing yet.
fn prepare_dir(sweep: &Sweep, opts: &ExecOptions) -> Result<(), SweepError> {
    let out = &opts.out;
    let manifest = SweepManifest::new(sweep, opts.shard);
    if out.join(SWEEP_MANIFEST).exists() {
        if !opts.resume {
            return Err(SweepError::Dir {
                path: out.clone(),
                why: "holds a sweep already: --resume continues it, or choose another --out".into(),
            });
        }
        let old = SweepManifest::read(out)?;
        if old.definition != manifest.definition {
            return Err(SweepError::Dir {
                path: out.clone(),
                why: "holds a different sweep (its sweep.json differs from this sweep file and --set); choose another --out".into(),
            });
        }
        if old.shard != manifest.shard {
            let show =
                |s: Option<Shard>| s.map_or("the whole sweep".into(), |s| format!("shard {s}"));
            return Err(SweepError::Dir {
                path: out.clone(),
                why: format!(
                    "holds {}, not {}; choose another --out",
                    show(old.shard),
                    show(manifest.shard)
                ),
            });
        }
        return Ok(());
    }
    if let Ok(mut entries) = std::fs::read_dir(out) {
        if entries.next().is_some() {
            return Err(SweepError::Dir {
                path: out.clone(),
                why: "exists and is not empty (and holds no sweep.json); choose another --out"
                    .into(),
            });
        }
    }
    std::fs::create_dir_all(out.join(RUNS_DIR)).map_err(|e| SweepError::io(out, e))?;
    manifest.write(out)
}

/// Runs the sweep's runs (the shard's, if one is given) into `opts.out/runs/`, then
/// reads them into the sweep table. `on_event` hears about every run as it ends.
pub fn execute(
    sweep: &Sweep,
    opts: &ExecOptions,
    on_event: &(dyn Fn(&RunEvent) + Sync),
) -> Result<(ExecReport, SweepTable), SweepError> {
    prepare_dir(sweep, opts)?;
    std::fs::create_dir_all(opts.out.join(RUNS_DIR)).map_err(|e| SweepError::io(&opts.out, e))?;
    let runs = sweep.shard_runs(opts.shard);
    let started = Instant::now();
    let complete: Vec<bool> = runs
        .iter()
        .map(|r| is_complete(&opts.out.join(RUNS_DIR).join(r.dir_name())))
        .collect();
    on_event(&RunEvent::Started {
        runs: runs.len(),
        complete: complete.iter().filter(|c| **c).count(),
    });
    let mut todo = Vec::new();
    let mut skipped = 0;
    for (r, done) in runs.iter().zip(complete) {
        let dir = opts.out.join(RUNS_DIR).join(r.dir_name());
        if done {
            skipped += 1;
            on_event(&RunEvent::Skipped { name: r.dir_name() });
        } else {
            if dir.exists() {
                // Left by an interrupted run: its files are partial.
                std::fs::remove_dir_all(&dir).map_err(|e| SweepError::io(&dir, e))?;
            }
            todo.push(r.clone());
        }
    }
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let failure: Mutex<Option<SweepError>> = Mutex::new(None);
    let payment_arms = AtomicU64::new(0);
    let jobs = opts.jobs.max(1).min(todo.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(r) = todo.get(i) else { return };
                match run_one(sweep, r, opts) {
                    Ok(event) => {
                        if let RunEvent::Done {
                            payment_arms: n, ..
                        } = &event
                        {
                            payment_arms.fetch_add(*n, Ordering::Relaxed);
                        }
                        on_event(&event);
                    }
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        let mut f = failure.lock().unwrap_or_else(|p| p.into_inner());
                        // The first failure reported; the other jobs finish the run
                        // they are on and start no more.
                        if f.is_none() {
                            *f = Some(e);
                        }
                        return;
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let table = SweepTable::read(&opts.out, &runs)?;
    Ok((
        ExecReport {
            runs: runs.len(),
            skipped,
            ran: todo.len(),
            payment_arms: payment_arms.into_inner(),
            seconds: started.elapsed().as_secs_f64(),
        },
        table,
    ))
}

fn run_one(sweep: &Sweep, r: &RunId, opts: &ExecOptions) -> Result<RunEvent, SweepError> {
    let started = Instant::now();
    let dir = opts.out.join(RUNS_DIR).join(r.dir_name());
    let point = &sweep.points[r.point];
    let wrap = |e: crate::experiment::SimError| SweepError::Run {
        run: dir.clone(),
        source: Box::new(e),
    };
    let scenario = sweep.scenario(point, r.seed)?;
    let exp = Experiment::prepare_with(scenario, &opts.default_graph).map_err(wrap)?;
    crate::manifest::write_manifest(&exp, &dir, &opts.command)
        .map_err(|e| wrap(crate::run::RunError::from(e).into()))?;
    let progress = AtomicU64::new(0);
    exp.run(&dir, opts.threads.max(1), &progress)
        .map_err(wrap)?;
    Ok(RunEvent::Done {
        name: r.dir_name(),
        params: sweep.describe(point),
        seconds: started.elapsed().as_secs_f64(),
        payment_arms: (exp.workload.len() * exp.arm_runs()) as u64,
    })
}
