//! Time as routers and scorers see it.

use std::fmt;
use std::ops::{Add, Sub};

/// A point in time, in microseconds since an arbitrary origin: virtual time in the
/// simulator, wall time in a live node. Scorers decay their beliefs over it, so they
/// work identically in both.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The origin.
    pub const ZERO: Timestamp = Timestamp(0);

    /// From whole seconds.
    pub fn from_secs(s: u64) -> Self {
        Timestamp(s.saturating_mul(1_000_000))
    }

    /// From milliseconds.
    pub fn from_millis(ms: u64) -> Self {
        Timestamp(ms.saturating_mul(1_000))
    }

    /// Microseconds since the origin.
    pub fn micros(self) -> u64 {
        self.0
    }

    /// Seconds since the origin, fractional.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// Seconds elapsed since `earlier` (0 if `earlier` is later).
    pub fn secs_since(self, earlier: Timestamp) -> f64 {
        self.0.saturating_sub(earlier.0) as f64 / 1e6
    }
}

impl Add<u64> for Timestamp {
    type Output = Timestamp;
    /// Adds microseconds.
    fn add(self, micros: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(micros))
    }
}

impl Sub for Timestamp {
    type Output = u64;
    /// Microseconds between two timestamps (0 if negative).
    fn sub(self, rhs: Timestamp) -> u64 {
        self.0.saturating_sub(rhs.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6}s", self.as_secs_f64())
    }
}
