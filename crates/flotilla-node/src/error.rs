//! The one error type of the daemon's library.

use std::path::PathBuf;

/// What can go wrong starting, running or talking to a node.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// A file or socket of the data directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or socket.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file that only its owner may read is readable by others.
    #[error("{path}: mode {mode:03o} lets others read it; run `chmod 600 {path}`")]
    Insecure {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A file of the data directory holds something it should not.
    #[error("{path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The store (SQLite) failed.
    #[error("store {path}: {source}")]
    Store {
        /// The database file.
        path: PathBuf,
        /// The cause.
        source: rusqlite::Error,
    },
    /// A listen or peer address is not acceptable.
    #[error("{0}")]
    Address(String),
    /// A control request was refused or failed.
    #[error("{0}")]
    Control(String),
}

impl NodeError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        NodeError::Io {
            path: path.into(),
            source,
        }
    }
}
