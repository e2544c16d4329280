//! Why a report could not be made. Every message names the directory or file and says
//! what is wrong with it, in one line, so the CLI can print it as is.

use std::path::PathBuf;

use flotilla_sim::manifest::{OLDEST_READABLE_VERSION, RESULTS_FORMAT, RESULTS_FORMAT_VERSION};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The results directory does not exist.
    #[error("{}: no such directory (give the --out directory of a `flotilla sim` run)", .0.display())]
    NoDir(PathBuf),
    /// The path exists but is not a directory.
    #[error("{}: not a directory (give the --out directory of a `flotilla sim` run)", .0.display())]
    NotDir(PathBuf),
    /// The run has not finished, or failed: its files are partial.
    #[error("{}: incomplete results, its INCOMPLETE marker says: {why}", dir.display())]
    Incomplete {
        /// The results directory.
        dir: PathBuf,
        /// The marker's text, made one line.
        why: String,
    },
    /// A file every finished run has is not there.
    #[error("{}: missing; {hint}", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
        /// What that means.
        hint: &'static str,
    },
    /// The directory was written in a results format this version cannot read.
    #[error(
        "{}: results format `{format}` version {version}; this flotilla reads `{}` versions {} \
         to {} (rerun the simulation, or use the flotilla that wrote it)",
        path.display(), RESULTS_FORMAT, OLDEST_READABLE_VERSION, RESULTS_FORMAT_VERSION
    )]
    Version {
        /// `run.json`.
        path: PathBuf,
        /// The format it names.
        format: String,
        /// The version it names.
        version: u64,
    },
    /// A file is there but its content is not what a run writes.
    #[error("{}: {what}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line or field when known.
        what: String,
    },
    /// A file differs from the checksum `run.json` recorded, or is gone.
    #[error("{}: {what}; rerun the simulation, or pass --no-verify to render it anyway", path.display())]
    Tampered {
        /// The file.
        path: PathBuf,
        /// What differs.
        what: String,
    },
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
}

impl ReportError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ReportError::Io {
            path: path.into(),
            source,
        }
    }

    /// An invalid file.
    pub fn invalid(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        ReportError::Invalid {
            path: path.into(),
            what: what.into(),
        }
    }
}
