//! The Boomerang paper's sender strategies as arms (docs/paper-model.md).
//!
//! Every paper arm pays with `boomerang` point locks, v = k' equal parts of A/v (v is
//! `sender.redundant_base_parts`), each part on a path drawn uniformly at random, with
//! replacement, from at most 25 edge-disjoint paths precomputed per (sender, receiver)
//! pair ([`flotilla_route::paper::PaperRouter`]: no beliefs, no learning, no no-route
//! pre-check, so infeasible transfers are sent anyway):
//!
//! - `paper-retry-R`: v parts; a failed part is replaced (a new draw) when its failure
//!   has come back to the sender, at most R replacements over the transfer.
//! - `paper-redundant-E`: v + E parts at once; nothing is replaced.
//! - `paper-redundant-E-retry-R`: v + min(E, R) parts at once, then failed parts
//!   replaced while fewer than v + E are alive, at most v + R parts in all (the paper's
//!   "redundant-retry", whose surplus parts count against its retries).
//!
//! A `-learning` suffix (`paper-retry-25-learning`) keeps the strategy but routes each
//! part with flotilla's learning path finder (liquidity-bounds beliefs, each part on
//! a path disjoint from the payment's other live parts where the graph allows, the
//! channels that failed for the payment avoided) instead of the uniform draw: the
//! realism ladder's router rung (docs/boomerang.md). That router may find no path, so
//! such an arm can fail a transfer with `no_route` before sending it, as every
//! Lightning router does.
//!
//! The paper's sender hears every part's reserve answer at once (0 ms): that it
//! reached the receiver, or that a hop refused it. The event loop tells a paper arm's
//! session both, the moment they happen ([`RedundantSession::on_part_arrived`] when
//! the add is delivered to the receiver, [`RedundantSession::on_part_refused`] when a
//! hop fails an add back on its arrival, found by [`refusal`]; a Lightning sender is
//! told neither). The transfer gives up, whatever retries remain, as soon as nothing
//! travels without v parts at the receiver, or what arrived, what travels and the
//! replacements left can no longer make v; it then aborts what still travels (with
//! `sender.cancel_surplus = "instant"`, the paper's abort). A closed-loop paper sender
//! starts its next transfer only when every part of the last has its answer, and that
//! moment ends the transfer's time to outcome (the paper's runtime). docs/paper-model.md
//! has the mapping, and what still differs.

use flotilla_graph::NodeIdx;
use flotilla_ln::failure::FailureCode;
use flotilla_ln::msg::{HtlcRef, Msg};
use flotilla_ln::onion::FailReason;
use flotilla_ln::output::Output;
use flotilla_ln::redundant_session::{RedundancyStrategy, RedundantLimits, RedundantSession};

use crate::arms::Strategy;

/// A paper arm: how many surplus parts, and the replacement budget if it retries.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PaperArm {
    /// E: surplus parts beyond v (0 for `paper-retry-R`).
    pub extra: u32,
    /// R: parts beyond v over the transfer's life, if failed parts are replaced.
    pub retries: Option<u32>,
}

/// The suffix that routes a paper arm with the learning path finder.
pub const LEARNING_SUFFIX: &str = "-learning";

/// Whether `name` is a paper arm that routes with the learning path finder.
pub fn learns(name: &str) -> bool {
    name.ends_with(LEARNING_SUFFIX) && parse_paper(name).is_some()
}

/// `paper-retry-R`, `paper-redundant-E` or `paper-redundant-E-retry-R` (whole numbers),
/// optionally with the `-learning` suffix.
pub fn parse_paper(name: &str) -> Option<Strategy> {
    let name = name.strip_suffix(LEARNING_SUFFIX).unwrap_or(name);
    let count = |s: &str| -> Option<u32> {
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let rest = name.strip_prefix("paper-")?;
    let arm = if let Some(r) = rest.strip_prefix("retry-") {
        PaperArm {
            extra: 0,
            retries: Some(count(r)?),
        }
    } else {
        let rest = rest.strip_prefix("redundant-")?;
        match rest.split_once("-retry-") {
            Some((e, r)) => PaperArm {
                extra: count(e)?,
                retries: Some(count(r)?),
            },
            None => PaperArm {
                extra: count(rest)?,
                retries: None,
            },
        }
    };
    Some(Strategy::Paper(arm))
}

impl PaperArm {
    /// The session's strategy and retry flag.
    pub fn strategy(self) -> (RedundancyStrategy, bool) {
        match self.retries {
            Some(r) => (RedundancyStrategy::Extra(self.extra.min(r)), true),
            None => (RedundancyStrategy::Extra(self.extra), false),
        }
    }

    /// `limits` (from the scenario, for a payment of `amount_msat`) with this arm's
    /// budget of parts: k' + R with retries, k' + E without.
    pub fn limits(self, mut limits: RedundantLimits, amount_msat: u64) -> RedundantLimits {
        let k = RedundantSession::boomerang_degree(amount_msat, &limits)
            .map(u32::from)
            .unwrap_or(limits.max_base_parts);
        let beyond = self.retries.unwrap_or(self.extra);
        limits.max_attempts = k.saturating_add(beyond);
        limits.max_parts_in_flight = k.saturating_add(self.extra);
        limits
    }
}

/// Whether `hop`, handed the add `htlc` from `upstream`, refused it at once: `out`
/// (what the delivery produced) fails it back to `upstream` instead of forwarding it.
/// `Some` with the failure's code where it can be read (modeled onions; a real
/// failure onion is readable only by the sender), `None` if the add was not refused.
pub fn refusal(
    out: &[Output],
    hop: NodeIdx,
    upstream: NodeIdx,
    htlc: HtlcRef,
) -> Option<Option<FailureCode>> {
    out.iter().find_map(|o| match o {
        Output::Message { from, to, msg } if *from == hop && *to == upstream => match msg {
            Msg::FailHtlc(m) if m.htlc == htlc => Some(match &m.reason {
                FailReason::Modeled(f) => Some(f.code),
                FailReason::Real(_) => None,
            }),
            Msg::FailMalformedHtlc(m) if m.htlc == htlc => Some(Some(m.failure_code)),
            _ => None,
        },
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm(name: &str) -> Option<PaperArm> {
        match parse_paper(name)? {
            Strategy::Paper(a) => Some(a),
            _ => None,
        }
    }

    #[test]
    fn names_parse_to_counts() {
        assert_eq!(
            arm("paper-retry-25"),
            Some(PaperArm {
                extra: 0,
                retries: Some(25)
            })
        );
        assert_eq!(
            arm("paper-redundant-75"),
            Some(PaperArm {
                extra: 75,
                retries: None
            })
        );
        assert_eq!(
            arm("paper-redundant-10-retry-125"),
            Some(PaperArm {
                extra: 10,
                retries: Some(125)
            })
        );
        for bad in [
            "paper-retry",
            "paper-retry-",
            "paper-retry-1.5",
            "paper-retry--1",
            "paper-redundant-",
            "paper-redundant-x",
            "paper-redundant-10-retry-",
            "paper-redundant-10-retry-2-retry-3",
            "paper-mpp-3",
            "paper-retry-99999999999",
            "paper-retry-25-learning-learning",
            "paper-learning",
            "paper-retry-learning",
        ] {
            assert_eq!(arm(bad), None, "{bad}");
        }
    }

    #[test]
    fn learning_suffix_keeps_the_counts() {
        assert_eq!(arm("paper-retry-25-learning"), arm("paper-retry-25"));
        assert_eq!(
            arm("paper-redundant-10-retry-125-learning"),
            arm("paper-redundant-10-retry-125")
        );
        assert!(learns("paper-redundant-75-learning"));
        assert!(!learns("paper-redundant-75"));
        assert!(!learns("redundant-boomerang-1-learning"));
    }

    #[test]
    fn redundant_retry_starts_with_the_smaller_of_e_and_r() {
        let a = arm("paper-redundant-10-retry-4").unwrap();
        assert_eq!(a.strategy(), (RedundancyStrategy::Extra(4), true));
        let a = arm("paper-redundant-10-retry-40").unwrap();
        assert_eq!(a.strategy(), (RedundancyStrategy::Extra(10), true));
        let a = arm("paper-redundant-10").unwrap();
        assert_eq!(a.strategy(), (RedundancyStrategy::Extra(10), false));
        let a = arm("paper-retry-0").unwrap();
        assert_eq!(a.strategy(), (RedundancyStrategy::Extra(0), true));
    }

    #[test]
    fn a_refusal_is_the_hop_failing_that_add_back_to_its_upstream() {
        use flotilla_graph::ChannelIdx;
        use flotilla_ln::failure::{Failure, FailureData};
        use flotilla_ln::msg::{UpdateFailHtlc, UpdateFailMalformedHtlc};
        let (hop, up, other) = (NodeIdx(1), NodeIdx(0), NodeIdx(2));
        let htlc = HtlcRef {
            channel: ChannelIdx(7),
            id: 3,
        };
        let fail = |from, to, htlc| Output::Message {
            from,
            to,
            msg: Msg::FailHtlc(UpdateFailHtlc {
                htlc,
                reason: FailReason::Modeled(Failure {
                    code: FailureCode::TemporaryChannelFailure,
                    data: FailureData::default(),
                    origin_hop: 0,
                }),
            }),
        };
        let code = Some(Some(FailureCode::TemporaryChannelFailure));
        assert_eq!(refusal(&[fail(hop, up, htlc)], hop, up, htlc), code);
        // Another HTLC's failure, or one passed on by another node, is no refusal.
        let elsewhere = HtlcRef { id: 4, ..htlc };
        assert_eq!(refusal(&[fail(hop, up, elsewhere)], hop, up, htlc), None);
        assert_eq!(refusal(&[fail(other, hop, htlc)], hop, up, htlc), None);
        assert_eq!(refusal(&[], hop, up, htlc), None);
        let malformed = Output::Message {
            from: hop,
            to: up,
            msg: Msg::FailMalformedHtlc(UpdateFailMalformedHtlc {
                htlc,
                sha256_of_onion: [0; 32],
                failure_code: FailureCode::InvalidOnionHmac,
            }),
        };
        assert_eq!(
            refusal(&[fail(other, hop, htlc), malformed], hop, up, htlc),
            Some(Some(FailureCode::InvalidOnionHmac))
        );
    }
}
