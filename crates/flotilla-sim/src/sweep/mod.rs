//! Sweeps: a base scenario, a grid of scenario keys and a list of seeds, run as one
//! experiment on this machine (`--jobs`) or spread over any scheduler in deterministic
//! shards and merged.
//!
//! - [`spec`]: the sweep file, the grid expanded into points in a fixed order, the runs
//!   (point × seed) and their shards.
//! - [`exec`]: running a sweep's runs (or one shard's) into `DIR/runs/`, in parallel,
//!   resumable: a run is complete once its directory has its summary and no
//!   `INCOMPLETE` marker, and nothing complete is ever run again.
//! - [`table`]: every run's `summary.json` read generically into `sweep.csv` (one row
//!   per point × seed × arm, every numeric figure a column) and `aggregates.csv`
//!   (per point × arm × figure: mean and 95% t-interval across seeds).
//! - [`stats`]: the Student t quantile behind those intervals.
//! - [`merge`]: shards (or whole sweeps of the same definition) gathered into one.
//!
//! A sweep directory holds `sweep.json` (what the sweep is, and which shard), `runs/`
//! (one ordinary results directory per run), `sweep.csv`, `aggregates.csv` and the
//! report. Everything but `runs/*/run.json` (which records the command as typed) is
//! the same bytes whether the sweep ran whole, in shards merged, or with any `--jobs`.

pub mod exec;
pub mod merge;
pub mod spec;
pub mod stats;
pub mod table;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use spec::{Shard, Sweep};

use crate::experiment::SimError;
use crate::scenario::ScenarioError;

/// File name of the sweep manifest.
pub const SWEEP_MANIFEST: &str = "sweep.json";
/// Directory of the runs.
pub const RUNS_DIR: &str = "runs";
/// One row per point × seed × arm.
pub const SWEEP_CSV: &str = "sweep.csv";
/// Means and t-intervals per point × arm × figure.
pub const AGGREGATES_CSV: &str = "aggregates.csv";
/// `format` of `sweep.json`.
pub const SWEEP_FORMAT: &str = "flotilla-sweep";
/// Version of the sweep directory's layout; bumped when an old reader would misread it.
pub const SWEEP_FORMAT_VERSION: u32 = 1;

/// `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepManifest {
    /// Always [`SWEEP_FORMAT`].
    pub format: String,
    /// [`SWEEP_FORMAT_VERSION`].
    pub format_version: u32,
    /// The sweep.
    pub definition: spec::Definition,
    /// Points in the grid.
    pub points: usize,
    /// Runs in the whole sweep (points × seeds).
    pub runs: usize,
    /// The shard this directory holds, or none for a whole (or merged) sweep.
    pub shard: Option<Shard>,
}

impl SweepManifest {
    /// The manifest of `sweep` (or of one of its shards).
    pub fn new(sweep: &Sweep, shard: Option<Shard>) -> SweepManifest {
        SweepManifest {
            format: SWEEP_FORMAT.into(),
            format_version: SWEEP_FORMAT_VERSION,
            definition: sweep.definition.clone(),
            points: sweep.points.len(),
            runs: sweep.points.len() * sweep.definition.seeds.len(),
            shard,
        }
    }

    /// Reads `dir/sweep.json`, refusing other formats and versions.
    pub fn read(dir: &Path) -> Result<SweepManifest, SweepError> {
        let path = dir.join(SWEEP_MANIFEST);
        let bytes = std::fs::read(&path).map_err(|e| SweepError::io(&path, e))?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| SweepError::Dir {
            path: path.clone(),
            why: format!("not JSON: {e}"),
        })?;
        if v.get("format").and_then(|f| f.as_str()) != Some(SWEEP_FORMAT) {
            return Err(SweepError::Dir {
                path,
                why: "not a flotilla sweep manifest".into(),
            });
        }
        let version = v.get("format_version").and_then(|f| f.as_u64());
        if version != Some(SWEEP_FORMAT_VERSION as u64) {
            return Err(SweepError::Dir {
                path,
                why: format!(
                    "sweep format version {} (this flotilla reads {SWEEP_FORMAT_VERSION})",
                    version.map_or("missing".into(), |v| v.to_string())
                ),
            });
        }
        serde_json::from_value(v).map_err(|e| SweepError::Dir {
            path,
            why: e.to_string(),
        })
    }

    /// Writes `dir/sweep.json` (through a temporary file, so it is never half written).
    pub fn write(&self, dir: &Path) -> Result<(), SweepError> {
        let json = serde_json::to_vec_pretty(self).expect("the manifest serialises");
        write_atomic(&dir.join(SWEEP_MANIFEST), &json)
    }

    /// The sweep it describes, checked again (a manifest from another version of the
    /// scenario format is refused here).
    pub fn sweep(&self, dir: &Path) -> Result<Sweep, SweepError> {
        Sweep::from_definition(
            self.definition.clone(),
            &dir.join(SWEEP_MANIFEST).display().to_string(),
        )
    }
}

/// Writes `path` through a temporary file beside it and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SweepError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).map_err(|e| SweepError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| SweepError::io(path, e))
}

/// Why a sweep could not be read, run or merged. Each names the file, key or run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The sweep file is wrong.
    #[error("{file}: `{key}`: {why}")]
    Spec {
        /// The sweep file.
        file: String,
        /// The key (`seeds`, `grid.workload.payments`, `point 3`).
        key: String,
        /// Why.
        why: String,
    },
    /// The base scenario is wrong.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A run failed; its directory keeps the `INCOMPLETE` marker with the reason.
    #[error("run {run}: {source}")]
    Run {
        /// The run's directory.
        run: PathBuf,
        /// What failed.
        source: Box<SimError>,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A directory or file is not what it should be.
    #[error("{}: {why}", path.display())]
    Dir {
        /// The directory or file.
        path: PathBuf,
        /// Why.
        why: String,
    },
}

impl SweepError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> SweepError {
        SweepError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
