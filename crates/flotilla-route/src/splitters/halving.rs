//! The halving splitter (lnd-style): split only when the whole amount finds no path.

use flotilla_graph::{EdgeIdx, Graph};

use super::{min_part, split_error, splitter_accessors, validate, Part, SplitCore};
use crate::pathfinder::CostParams;
use crate::request::{RouteError, RouteRequest};
use crate::router::Route;
use crate::scorer::Scorer;
use crate::time::Timestamp;

/// Settings of a [`HalvingSplitter`].
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct HalvingConfig {
    /// A path whose success probability (with the earlier parts accounted) is below
    /// this counts as no path, which is what makes lnd halve. Default 0.01: lnd's
    /// `DefaultMinRouteProbability` (`routing/router.go`; lnd prunes partial paths
    /// below it inside its search, we test the path the search returns).
    pub min_probability: f64,
}

impl Default for HalvingConfig {
    fn default() -> Self {
        HalvingConfig {
            min_probability: 0.01,
        }
    }
}

/// The halving MPP splitter, named `halving`: lnd's `paymentSession.RequestRoute`
/// on our pathfinder.
///
/// # Algorithm
/// With `R` the amount still to cover (initially the whole amount):
/// 1. Try a shard of `R`: search the best path for it, with the earlier shards
///    accounted on their channels (see the [module docs](super)). A path whose
///    probability is at least [`HalvingConfig::min_probability`] becomes a part, and
///    the next shard starts again from the new `R`.
/// 2. Otherwise halve the shard (`shard / 2`, rounded down) and try again, unless
///    this shard would be the last part `max_parts` allows (lnd: "no splitting if this
///    is the last shard") or the half is below `min_part_msat` (lnd's minimum shard
///    size, `DefaultShardMinAmt` = 10,000 sat in `routing/payment_session.go`, the
///    same as [`Limits::for_amount`](crate::Limits::for_amount)'s default): then the
///    payment fails with [`RouteError::NoRoute`].
///
/// A shard of `R / 2^k` always leaves a tail of at least `R / 2`, itself at least the
/// shard, so no part ends up below the minimum. A shard amount that found nothing is
/// not searched again for this payment (placing shards only lowers the probabilities
/// later searches see): the result is what lnd's sequence of searches would give,
/// with fewer searches. Splitting happens only when needed: a payment one path can
/// carry is one part.
#[derive(Clone, Debug)]
pub struct HalvingSplitter<S> {
    core: SplitCore<S>,
    config: HalvingConfig,
}

impl<S: Scorer> HalvingSplitter<S> {
    /// The router name.
    pub const NAME: &'static str = "halving";

    /// A splitter with the default [`CostParams`] and [`HalvingConfig`].
    pub fn new(scorer: S) -> Self {
        Self::with_config(scorer, CostParams::default(), HalvingConfig::default())
    }

    /// A splitter with the given prices and settings.
    pub fn with_config(scorer: S, params: CostParams, config: HalvingConfig) -> Self {
        HalvingSplitter {
            core: SplitCore::new(scorer, params),
            config,
        }
    }

    fn split(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        now: Timestamp,
    ) -> Result<Route, RouteError> {
        validate(graph, request)?;
        self.core.begin(graph);
        // Cheap proof that no split can work, before any search.
        self.core.believed_cut(graph, request, now)?;
        let mut parts = Vec::new();
        match self.parts(graph, request, now, &mut parts) {
            Ok(()) => self.core.finish(graph, request, &parts, now),
            Err(e) => {
                self.core.scorer_mut().begin(graph);
                Err(e)
            }
        }
    }

    fn parts(
        &mut self,
        graph: &Graph,
        request: &RouteRequest,
        now: Timestamp,
        parts: &mut Vec<Part>,
    ) -> Result<(), RouteError> {
        let amount = request.amount_msat;
        let min_part = min_part(request);
        let max_parts = request.limits.max_parts as usize;
        let min_probability = if self.config.min_probability.is_finite() {
            self.config.min_probability
        } else {
            0.0
        };
        let core = &mut self.core;
        let mut sub = request.clone();
        let mut remaining = amount;
        let mut fee_left = request.limits.max_fee_msat;
        // The smallest shard that found no (probable enough) path.
        let mut failed = u64::MAX;
        while remaining > 0 {
            let last = parts.len() + 1 >= max_parts;
            let mut shard = remaining;
            let edges: Vec<EdgeIdx> = loop {
                if shard < failed {
                    match core.search(graph, &mut sub, shard, fee_left, now)? {
                        Some(found) if found.probability >= min_probability => {
                            break found.path.hops.iter().map(|h| h.edge).collect();
                        }
                        Some(found) => {
                            core.last_reason = format!(
                                "for {shard} msat: the best path succeeds with probability {:.4}, below the minimum {min_probability}",
                                found.probability
                            );
                            failed = shard;
                        }
                        None => {
                            if parts.is_empty() {
                                if let Some(e @ RouteError::AmountAboveCapacity { .. }) =
                                    &core.last_error
                                {
                                    return Err(e.clone());
                                }
                            }
                            failed = shard;
                        }
                    }
                }
                if last {
                    return Err(shard_error(
                        request,
                        parts,
                        remaining,
                        &core.last_reason,
                        "it is the last part allowed",
                    ));
                }
                shard /= 2;
                if shard < min_part {
                    return Err(shard_error(
                        request,
                        parts,
                        remaining,
                        &core.last_reason,
                        "half a shard would be below the minimum",
                    ));
                }
            };
            let fee = core.account(graph, &edges, shard, true).unwrap_or(0);
            fee_left = fee_left.saturating_sub(fee);
            remaining -= shard;
            parts.push(Part {
                edges,
                amount: shard,
            });
        }
        Ok(())
    }
}

/// The error when a shard of what remains finds no path.
fn shard_error(
    request: &RouteRequest,
    parts: &[Part],
    remaining: u64,
    last_reason: &str,
    why: &str,
) -> RouteError {
    if request.limits.max_parts == 1
        || (parts.is_empty() && request.amount_msat < min_part(request).saturating_mul(2))
    {
        return RouteError::NoRoute {
            amount_msat: request.amount_msat,
            reason: format!(
                "no single path carries it and it cannot be split; last search {last_reason}"
            ),
        };
    }
    split_error(
        request,
        &format!(
            "{} msat found over {} parts, no path for a shard of the {remaining} msat left ({why}); last search {last_reason}",
            request.amount_msat - remaining,
            parts.len()
        ),
    )
}

splitter_accessors!(HalvingSplitter, HalvingConfig);
