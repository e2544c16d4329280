//! The Boomerang paper's sender (sessions made with
//! [`RedundantSession::give_up_when_none_travelling`]; docs/paper-model.md).
//!
//! The paper's simulator answers every reserve at once (0 ms): its sender knows, the
//! moment it happens, that a part reached the receiver or that a hop refused it. The
//! driver tells such a session both: [`RedundantSession::on_part_arrived`] and
//! [`RedundantSession::on_part_refused`] (a Lightning sender is told neither, and no
//! other session uses them). A part is *travelling* until one of the two answers comes
//! (or its failure is back). With v the parts needed, the session gives up — whatever
//! its retries — as soon as nothing travels without v there, or what arrived, what
//! travels and the replacements left can no longer make v (the loop condition of the
//! paper's `process_tfreqs_retry_02_amp_2`: `positive + unknown + retries ≥ v`), and
//! aborts what still travels ([`crate::surplus_cancel`]'s cancel of the parts, which
//! the `instant` mode makes the paper's abort: it overtakes them, so they stop within
//! one hop). A refused part is replaced only when its failure is back, as the paper's
//! rollback acknowledgement returns; that part of the model is unchanged.

use flotilla_route::Timestamp;

use crate::failure::FailureCode;
use crate::sender::PartId;
use crate::session::{FailureReason, SessionState};

use super::RedundantSession;

impl RedundantSession {
    /// Part `part` was refused on its way at `now`: a hop failed its add back instead
    /// of forwarding it (for want of liquidity, or stopped by its cancel), with `code`
    /// if the driver could read it. Only sessions made with
    /// [`RedundantSession::give_up_when_none_travelling`] use it. The reason counts
    /// towards the payment's failure reason now (once: not again when the failure is
    /// back), and the payment gives up if the paper's sender would.
    pub fn on_part_refused(&mut self, part: PartId, code: Option<FailureCode>, now: Timestamp) {
        if !self.eager_give_up
            || !self.in_flight.iter().any(|p| p.part == part)
            || self.arrived.contains(&part)
            || self.is_refused(part)
        {
            return;
        }
        let counted = self.state == SessionState::Active && code.is_some();
        if let (true, Some(code)) = (counted, code) {
            self.failures.note(FailureReason::of_code(code));
        }
        self.refused.push((part, counted));
        self.give_up_if_short(now);
    }

    /// Live parts without an answer yet: neither known to have reached the receiver nor
    /// known refused (the paper's parts of unknown outcome). A session the driver does
    /// not tell of answers counts every live part.
    pub fn parts_travelling(&self) -> usize {
        self.in_flight
            .iter()
            .filter(|p| !self.arrived.contains(&p.part) && !self.is_refused(p.part))
            .count()
    }

    pub(super) fn is_refused(&self, part: PartId) -> bool {
        self.refused.iter().any(|r| r.0 == part)
    }

    /// The paper's give-up (module docs), checked whenever an answer or a failure
    /// comes in and after parts are sent.
    pub(super) fn give_up_if_short(&mut self, now: Timestamp) {
        if !self.eager_give_up || self.state != SessionState::Active || !self.placed {
            return;
        }
        let needed = self.needed as usize;
        let positive = self.arrived.len();
        if positive >= needed {
            // The receiver is claiming: the driver completes the payment.
            return;
        }
        let unknown = self.parts_travelling();
        let left = if self.tops_up() {
            self.limits
                .max_attempts
                .saturating_sub(self.stats.common.attempts) as usize
        } else {
            0
        };
        if unknown == 0 || positive + unknown + left < needed {
            self.pending.clear();
            self.exhausted = true;
            self.fail(self.failures.dominant(), now);
        }
    }

    /// On giving up, the paper's sender aborts every part still travelling (a no-op
    /// for other sessions, and without `cancel_surplus_on_completion`).
    pub(super) fn abort_travelling(&mut self) {
        if !self.eager_give_up {
            return;
        }
        let travelling: Vec<PartId> = self
            .in_flight
            .iter()
            .filter(|p| !self.arrived.contains(&p.part) && !self.is_refused(p.part))
            .map(|p| p.part)
            .collect();
        self.surplus.mark(travelling);
    }
}
