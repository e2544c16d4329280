//! Finished payments counted per arm run, for progress displays.
//!
//! The event loops only increment a counter; whoever shows progress reads them. One
//! counter per arm run (not one for the whole experiment) because arms differ in
//! speed by orders of magnitude: a rate or an ETA averaged over arms is wrong for
//! every one of them.

use std::sync::atomic::{AtomicU64, Ordering};

/// Something the event loops count finished payments into: arm run `index` (in the
/// order of [`crate::experiment::Experiment::arm_run_names`]) gets its own counter.
pub trait ProgressSink: Sync {
    /// The counter of arm run `index`.
    fn arm(&self, index: usize) -> &AtomicU64;
}

/// One counter for all arm runs together.
impl ProgressSink for AtomicU64 {
    fn arm(&self, _index: usize) -> &AtomicU64 {
        self
    }
}

/// One counter per arm run.
#[derive(Debug, Default)]
pub struct ArmProgress {
    done: Vec<AtomicU64>,
}

impl ArmProgress {
    /// Counters for `arm_runs` arm runs, all zero.
    pub fn new(arm_runs: usize) -> Self {
        ArmProgress {
            done: (0..arm_runs).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Payments arm run `index` has finished so far.
    pub fn done(&self, index: usize) -> u64 {
        self.done
            .get(index)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Number of arm runs.
    pub fn len(&self) -> usize {
        self.done.len()
    }

    /// Whether there are no arm runs.
    pub fn is_empty(&self) -> bool {
        self.done.is_empty()
    }
}

impl ProgressSink for ArmProgress {
    fn arm(&self, index: usize) -> &AtomicU64 {
        // An index past the end would be a bug in the caller; counting it nowhere
        // visible is better than a panic in an event loop.
        static SPARE: AtomicU64 = AtomicU64::new(0);
        self.done.get(index).unwrap_or(&SPARE)
    }
}
