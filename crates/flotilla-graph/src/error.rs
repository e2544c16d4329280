//! Errors of graph import and export.
//!
//! Every error names the file and, when the problem is inside it, the record and the
//! field, so that a user can open the file and find the line. The CLI prints the
//! `Display` form on one `error:` line.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where inside a file a problem sits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The record, e.g. `edges[12] (channel_id 7xxx)` or `line 5`.
    pub record: Option<String>,
    /// The field inside the record, e.g. `node1_policy.fee_base_msat`.
    pub field: Option<String>,
}

impl Location {
    /// `"{record, field}: "`, or nothing when neither is known (an error about the
    /// whole file), so messages never show an empty `: :`.
    fn prefix(&self) -> String {
        if self.record.is_none() && self.field.is_none() {
            String::new()
        } else {
            format!("{self}: ")
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.record, &self.field) {
            (Some(r), Some(fl)) => write!(f, "{r}, field `{fl}`"),
            (Some(r), None) => write!(f, "{r}"),
            (None, Some(fl)) => write!(f, "field `{fl}`"),
            (None, None) => Ok(()),
        }
    }
}

/// Any failure to read, parse, validate or write a graph file.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The gzip stream is truncated or corrupt.
    #[error("{}: truncated or corrupt gzip data: {source}", path.display())]
    Gzip {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        source: std::io::Error,
    },
    /// The content (after decompression) is larger than the input limit.
    #[error(
        "{}: {} more than {limit_mib} MiB, the input limit (set FLOTILLA_MAX_INPUT_MIB to raise it)",
        path.display(),
        if *gzip { "the gzip data inflates to" } else { "the content is" }
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit, MiB.
        limit_mib: u64,
        /// Whether the content was gzip (a small file that inflates past the limit).
        gzip: bool,
    },
    /// `FLOTILLA_MAX_INPUT_MIB` is set to something that is not a size.
    #[error("FLOTILLA_MAX_INPUT_MIB={0:?} is not a positive whole number of MiB (the limit on a graph file's content)")]
    BadInputLimit(String),
    /// The content matches no format we read.
    #[error("{}: unknown graph format: {why}", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// What was seen instead.
        why: String,
    },
    /// The file is not well-formed for its format (invalid JSON or CSV syntax).
    #[error("{}: {what}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message with line and column.
        what: String,
    },
    /// A record is well-formed but a value in it is wrong.
    #[error("{}: {}{message}", path.display(), location.prefix())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The record and field.
        location: Location,
        /// What is wrong with the value.
        message: String,
    },
    /// The graph cannot be written in the requested format.
    #[error("cannot export to {format}: {why}")]
    Export {
        /// The format asked for.
        format: &'static str,
        /// Why not.
        why: String,
    },
}

impl GraphError {
    /// Shorthand for an [`GraphError::Invalid`] error.
    pub fn invalid(
        path: &Path,
        record: impl Into<String>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        GraphError::Invalid {
            path: path.to_path_buf(),
            location: Location {
                record: Some(record.into()),
                field: field.map(str::to_string),
            },
            message: message.into(),
        }
    }

    /// Shorthand for an [`GraphError::Io`] error.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        GraphError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Result type of this crate.
pub type Result<T, E = GraphError> = std::result::Result<T, E>;
