//! The time a state machine is told, never one it reads.
//!
//! Every entry point of [`crate::network::Network`] takes a [`Clock`]: the simulator
//! passes virtual time, a live node would pass wall time and the chain tip. Nothing in
//! this crate reads a system clock, which keeps runs deterministic.

use flotilla_route::Timestamp;

/// The current time and block height.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Clock {
    /// Now, in microseconds since the run's origin.
    pub now: Timestamp,
    /// The best block height: CLTV checks compare expiries against it.
    pub height: u32,
}

impl Clock {
    /// A clock at `now` and `height`.
    pub fn new(now: Timestamp, height: u32) -> Self {
        Clock { now, height }
    }
}
