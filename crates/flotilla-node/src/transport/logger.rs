//! LDK's log lines into `tracing`, at the matching level, under the target
//! `flotilla_node::ldk` (so `RUST_LOG=flotilla_node::ldk=trace` shows the transport).

use lightning::util::logger::{Level, Logger, Record};

/// See the module docs.
#[derive(Default)]
pub struct TracingLogger;

impl Logger for TracingLogger {
    fn log(&self, record: Record) {
        let peer = record.peer_id.map(|p| p.to_string()).unwrap_or_default();
        let args = &record.args;
        match record.level {
            Level::Gossip | Level::Trace => {
                tracing::trace!(target: "flotilla_node::ldk", peer, module = record.module_path, "{args}")
            }
            Level::Debug => {
                tracing::debug!(target: "flotilla_node::ldk", peer, module = record.module_path, "{args}")
            }
            Level::Info => {
                tracing::info!(target: "flotilla_node::ldk", peer, module = record.module_path, "{args}")
            }
            Level::Warn => {
                tracing::warn!(target: "flotilla_node::ldk", peer, module = record.module_path, "{args}")
            }
            Level::Error => {
                tracing::error!(target: "flotilla_node::ldk", peer, module = record.module_path, "{args}")
            }
        }
    }
}
