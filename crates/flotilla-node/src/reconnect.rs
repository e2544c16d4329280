//! Exponential backoff for dialing remembered peers: 1 s after the first failure,
//! doubling to at most 60 s, each delay stretched by up to a quarter at random so
//! nodes restarted together do not dial in lockstep. A completed handshake resets it.

use std::time::Duration;

use rand::Rng;

/// The first delay.
pub const INITIAL: Duration = Duration::from_secs(1);
/// The longest delay.
pub const MAX: Duration = Duration::from_secs(60);

/// One peer's backoff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: INITIAL }
    }
}

impl Backoff {
    /// After a failed attempt: how long to wait before the next one.
    pub fn failed(&mut self, rng: &mut impl Rng) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(MAX);
        let jitter_ms = rng.random_range(0..=base.as_millis() as u64 / 4);
        base + Duration::from_millis(jitter_ms)
    }

    /// After a completed handshake.
    pub fn reset(&mut self) {
        self.next = INITIAL;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn doubles_to_the_cap_with_bounded_jitter_and_resets() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut b = Backoff::default();
        let mut base = INITIAL;
        for _ in 0..10 {
            let d = b.failed(&mut rng);
            assert!(d >= base && d <= base + base / 4, "{d:?} vs {base:?}");
            base = (base * 2).min(MAX);
        }
        assert_eq!(base, MAX);
        b.reset();
        let d = b.failed(&mut rng);
        assert!(d < INITIAL * 2);
    }
}
