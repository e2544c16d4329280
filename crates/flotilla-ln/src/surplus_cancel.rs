//! The sender's side of cancelling surplus parts (docs/cancel.md): which parts of a
//! redundant payment to stop once it is complete, and which failures are its own
//! cancels coming back rather than news about the network.
//!
//! A redundant session ([`crate::redundant_session::RedundantSession`]) made with
//! `cancel_surplus_on_completion` marks its surplus parts when it knows the payment is
//! complete — the Boomerang paper's sender when v parts have reached the receiver, a
//! `boomerang` sender at its first settle (the receiver has claimed), a hash-locked
//! sender when it reveals (the parts it did not name are surplus) — and the driver sends
//! one `cancel_htlc` per marked part ([`crate::network::Network::cancel_part`]). A
//! cancelled part's failure teaches the router nothing and is never replaced.

use crate::sender::PartId;

/// One session's surplus parts: to cancel, and cancelled.
#[derive(Clone, Debug, Default)]
pub struct SurplusCancel {
    enabled: bool,
    /// Marked, not yet handed to the driver.
    to_send: Vec<PartId>,
    /// Every part marked so far.
    cancelled: Vec<PartId>,
}

impl SurplusCancel {
    /// Cancels surplus parts on completion.
    pub fn enabled() -> Self {
        SurplusCancel {
            enabled: true,
            ..Default::default()
        }
    }

    /// Whether this session cancels its surplus parts.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Marks `parts` (live parts the payment no longer needs) to be cancelled, each once.
    pub fn mark(&mut self, parts: impl IntoIterator<Item = PartId>) {
        if !self.enabled {
            return;
        }
        for p in parts {
            if !self.cancelled.contains(&p) {
                self.cancelled.push(p);
                self.to_send.push(p);
            }
        }
    }

    /// The parts to send a cancel for now (each is handed out once).
    pub fn take(&mut self) -> Vec<PartId> {
        std::mem::take(&mut self.to_send)
    }

    /// Whether `part` was cancelled (its failure is the cancel's doing).
    pub fn was_cancelled(&self, part: PartId) -> bool {
        self.cancelled.contains(&part)
    }

    /// How many parts were cancelled.
    pub fn count(&self) -> usize {
        self.cancelled.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_part_is_handed_out_once_and_only_when_enabled() {
        let mut off = SurplusCancel::default();
        off.mark([PartId(1)]);
        assert!(off.take().is_empty());
        assert!(!off.was_cancelled(PartId(1)));

        let mut on = SurplusCancel::enabled();
        on.mark([PartId(1), PartId(2)]);
        on.mark([PartId(2), PartId(3)]);
        assert_eq!(on.take(), vec![PartId(1), PartId(2), PartId(3)]);
        assert!(on.take().is_empty());
        assert!(on.was_cancelled(PartId(2)));
        assert!(!on.was_cancelled(PartId(4)));
        assert_eq!(on.count(), 3);
    }
}
