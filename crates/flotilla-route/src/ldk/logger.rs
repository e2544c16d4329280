//! LDK's [`Logger`] forwarded to `tracing`, quietly: LDK logs a line for nearly every
//! candidate hop at `Trace`/`Gossip` level, which would drown a simulation.

use lightning::util::logger::{Level, Logger, Record};

/// Forwards LDK's `Error` records as `tracing` warnings, `Warn` as debug and `Info` as
/// trace; drops the rest (they are per-hop router chatter).
#[derive(Debug, Default, Clone, Copy)]
pub struct LdkLogger;

impl Logger for LdkLogger {
    fn log(&self, record: Record) {
        match record.level {
            Level::Error => tracing::warn!(target: "flotilla_route::ldk", "{}", record.args),
            Level::Warn => tracing::debug!(target: "flotilla_route::ldk", "{}", record.args),
            Level::Info => tracing::trace!(target: "flotilla_route::ldk", "{}", record.args),
            Level::Debug | Level::Trace | Level::Gossip => {}
        }
    }
}
