//! `DIR/node.json`: written at every start, it tells clients and scripts who the
//! node is and how to reach it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::NodeError;

/// The file's name inside the data directory.
pub const NODE_FILE: &str = "node.json";

/// How the control interface is reached.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Control {
    /// Always `unix`: a Unix socket.
    pub kind: String,
    /// The socket (absolute path).
    pub socket: PathBuf,
    /// The file holding the token every request must carry (absolute path).
    pub token_file: PathBuf,
}

/// The content of `node.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct NodeFile {
    /// The node id (66 hex characters).
    pub node_id: String,
    /// The alias given with `--alias`, if any.
    pub alias: Option<String>,
    /// The address it listens on for peers (with the port chosen when `:0` was asked).
    pub listen: String,
    /// `node_id@listen`, what another node's `connect` takes.
    pub uri: String,
    /// How the control interface is reached.
    pub control: Control,
    /// The daemon's process id.
    pub pid: u32,
    /// The `init` features it advertises (BOLT 9 big-endian hex).
    pub features: String,
    /// The flotilla version.
    pub version: String,
}

impl NodeFile {
    /// Writes it atomically (a temporary file renamed over the old one).
    pub fn write(&self, dir: &Path) -> Result<(), NodeError> {
        let path = dir.join(NODE_FILE);
        let tmp = dir.join(".node.json.tmp");
        let mut text = serde_json::to_string_pretty(self).map_err(|e| NodeError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        text.push('\n');
        let mut f = fs::File::create(&tmp).map_err(|e| NodeError::io(&tmp, e))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| NodeError::io(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| NodeError::io(&path, e))
    }

    /// Reads `DIR/node.json`.
    pub fn read(dir: &Path) -> Result<NodeFile, NodeError> {
        let path = dir.join(NODE_FILE);
        let text = fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                NodeError::Control(format!(
                    "{}: not found: no node has run with this --data-dir",
                    path.display()
                ))
            } else {
                NodeError::io(&path, e)
            }
        })?;
        serde_json::from_str(&text).map_err(|e| NodeError::Corrupt {
            path,
            reason: e.to_string(),
        })
    }
}
