//! The greedy splitter (LDK-like): collect the best paths one at a time, each part as
//! large as its path comfortably carries, under a per-channel saturation limit.

use flotilla_graph::{EdgeIdx, Graph};

use super::{div_ceil, min_part, split_error, splitter_accessors, validate, Part, SplitCore};
use crate::pathfinder::CostParams;
use crate::request::{RouteError, RouteRequest};
use crate::router::Route;
use crate::scorer::Scorer;
use crate::time::Timestamp;

/// Settings of a [`GreedySplitter`].
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct GreedyConfig {
    /// While parts are collected, a channel direction carries at most
    /// `capacity / 2^power` over all parts of the payment. If that does not cover the
    /// amount, the limit is dropped (full capacity) and collection goes on, as LDK
    /// does. Default 2 (a quarter of the capacity): LDK 0.2.7's
    /// `DEFAULT_MAX_CHANNEL_SATURATION_POW_HALF` behind
    /// `PaymentParameters::max_channel_saturation_power_of_half`. 0 disables it.
    pub max_channel_saturation_power_of_half: u8,
    /// A part found for some amount `q` grows towards the amount still to cover only
    /// while every hop keeps at least this success probability (with the earlier
    /// parts accounted); `0` grows to the bottleneck (`htlc_maximum`, capacity share,
    /// fee budget). Default 0.5: never plan to push more over a hop than the scorer's
    /// median belief of its liquidity. With a uniform prior and the default
    /// saturation limit (a quarter of the capacity, so `P ≥ 0.75`) it never binds;
    /// it binds on what a learning scorer has narrowed down.
    pub hop_probability_floor: f64,
}

impl Default for GreedyConfig {
    fn default() -> Self {
        GreedyConfig {
            max_channel_saturation_power_of_half: 2,
            hop_probability_floor: 0.5,
        }
    }
}

/// The greedy MPP splitter, named `greedy`: LDK's strategy on our pathfinder.
///
/// # Algorithm
/// With `R` the amount still to cover and `k` the parts still allowed:
/// 1. Search the best path for all of `R`. If there is one, it is the last part.
/// 2. Otherwise, if `R` can still be split (`k ≥ 2` and `R ≥ 2 × min_part`), search
///    the best path for `q = max(⌈R / k⌉, min_part)` (the least a part must carry for
///    the rest to fit in the parts left; LDK's "minimal value contribution"), then
///    grow that part to the largest amount `≤ R` its path carries: every hop within
///    `htlc_maximum_msat`, within its saturation share minus what earlier parts put
///    on it, above [`GreedyConfig::hop_probability_floor`], and the fee within the
///    budget left. If that would leave a tail below `min_part`, the part shrinks to
///    `R − min_part`.
/// 3. When neither search finds a path under the saturation limit, drop the limit and
///    go on; when nothing is found without it either, or the parts run out, the
///    earlier parts absorb what is left (each grown as far as its path carries it,
///    first part first).
/// 4. What still remains then is a [`RouteError::NoRoute`].
/// 5. Parts that ended up on the very same path are merged into one HTLC where the sum
///    fits every hop's `htlc_maximum_msat` (same load on every channel, one base fee
///    per hop instead of several).
///
/// A search amount that found nothing is not searched again in the same phase:
/// placing parts only lowers the probabilities the later searches see.
///
/// Each search prices its path with the earlier parts accounted (see the
/// [module docs](super)), so later parts avoid channels the earlier ones fill.
#[derive(Clone, Debug)]
pub struct GreedySplitter<S> {
    core: SplitCore<S>,
    config: GreedyConfig,
}

impl<S: Scorer> GreedySplitter<S> {
    /// The router name.
    pub const NAME: &'static str = "greedy";

    /// A splitter with the default [`CostParams`] and [`GreedyConfig`].
    pub fn new(scorer: S) -> Self {
        Self::with_config(scorer, CostParams::default(), GreedyConfig::default())
    }

    /// A splitter with the given prices and settings.
    pub fn with_config(scorer: S, params: CostParams, config: GreedyConfig) -> Self {
        GreedySplitter {
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
        match greedy_parts(
            &mut self.core,
            &self.config,
            graph,
            request,
            now,
            &mut parts,
        ) {
            Ok(()) => self.core.finish_merged(graph, request, &parts, now),
            Err(e) => {
                self.core.scorer_mut().begin(graph);
                Err(e)
            }
        }
    }
}

splitter_accessors!(GreedySplitter, GreedyConfig);

/// Adds a part of `amount` over `edges`; returns its fee.
fn push_part<S: Scorer>(
    core: &mut SplitCore<S>,
    graph: &Graph,
    parts: &mut Vec<Part>,
    edges: Vec<EdgeIdx>,
    amount: u64,
) -> u64 {
    let fee = core.account(graph, &edges, amount, true).unwrap_or(0);
    parts.push(Part { edges, amount });
    fee
}

/// The greedy algorithm (see [`GreedySplitter`]) on a core that has begun a query.
/// On success `parts` covers the amount exactly; on failure it holds what was found
/// (which the min-cost flow splitter uses as a neighbourhood). Parts stay accounted
/// in the core's scorer either way.
pub(crate) fn greedy_parts<S: Scorer>(
    core: &mut SplitCore<S>,
    config: &GreedyConfig,
    graph: &Graph,
    request: &RouteRequest,
    now: Timestamp,
    parts: &mut Vec<Part>,
) -> Result<(), RouteError> {
    let amount = request.amount_msat;
    let min_part = min_part(request);
    let max_parts = request.limits.max_parts as usize;
    let floor = if config.hop_probability_floor.is_finite() {
        config.hop_probability_floor
    } else {
        0.0
    };
    let mut sub = request.clone();
    let mut remaining = amount;
    let mut fee_left = request.limits.max_fee_msat;
    let mut relaxed = config.max_channel_saturation_power_of_half == 0;
    core.scorer_mut()
        .set_saturation(config.max_channel_saturation_power_of_half);
    // The smallest remainder a whole-remainder search found nothing for in the
    // current phase: larger ones are not searched again.
    let mut whole_failed = u64::MAX;

    while remaining > 0 {
        let left = max_parts.saturating_sub(parts.len());
        if left == 0 || (remaining < min_part && !parts.is_empty()) {
            break;
        }
        if remaining < whole_failed {
            match core.search(graph, &mut sub, remaining, fee_left, now)? {
                Some(found) => {
                    let edges = found.path.hops.iter().map(|h| h.edge).collect();
                    let fee = push_part(core, graph, parts, edges, remaining);
                    fee_left = fee_left.saturating_sub(fee);
                    remaining = 0;
                    continue;
                }
                None => {
                    // Nothing can carry more than the receiver's channels: no split helps.
                    if parts.is_empty() {
                        if let Some(e) = above_capacity(core) {
                            return Err(e);
                        }
                    }
                    whole_failed = remaining;
                }
            }
        }
        let can_split = left >= 2 && remaining >= min_part.saturating_mul(2);
        if can_split {
            // At least ⌈R / k⌉ (so the parts left can cover R), and at most R − min_part
            // (so the tail is a valid part); R ≥ 2 min_part keeps the bounds ordered.
            let q = div_ceil(remaining, left as u64)
                .max(min_part)
                .min(remaining - min_part);
            if let Some(found) = core.search(graph, &mut sub, q, fee_left, now)? {
                let edges: Vec<EdgeIdx> = found.path.hops.iter().map(|h| h.edge).collect();
                let mut d = core.largest_fit(graph, &edges, q, remaining, fee_left, floor, now);
                if d < remaining && remaining - d < min_part {
                    d = remaining - min_part;
                }
                let fee = push_part(core, graph, parts, edges, d);
                fee_left = fee_left.saturating_sub(fee);
                remaining -= d;
                continue;
            }
        }
        if !relaxed {
            relaxed = true;
            core.scorer_mut().set_saturation(0);
            whole_failed = u64::MAX;
            continue;
        }
        break;
    }

    if remaining > 0 && !parts.is_empty() {
        absorb(core, graph, parts, &mut remaining, &mut fee_left, now);
    }
    if remaining == 0 {
        return Ok(());
    }
    let single = max_parts == 1 || amount < min_part.saturating_mul(2);
    if parts.is_empty() && single {
        return Err(RouteError::NoRoute {
            amount_msat: amount,
            reason: format!(
                "no single path carries it (it cannot be split into parts of at least {min_part} msat{}); last search {}",
                if max_parts == 1 { " and max_parts is 1" } else { "" },
                core.last_reason
            ),
        });
    }
    let covered = amount - remaining;
    Err(split_error(
        request,
        &format!(
            "{covered} msat found over {} parts, {remaining} msat left; last search {}",
            parts.len(),
            core.last_reason
        ),
    ))
}

/// If the last failed search said the amount exceeds what the receiver's channels
/// can take at all, that error.
fn above_capacity<S: Scorer>(core: &SplitCore<S>) -> Option<RouteError> {
    match &core.last_error {
        Some(e @ RouteError::AmountAboveCapacity { .. }) => Some(e.clone()),
        _ => None,
    }
}

/// Grows the parts, first part first, to absorb `remaining` (no saturation limit, no
/// probability floor: only what the channels and the fee budget allow).
pub(crate) fn absorb<S: Scorer>(
    core: &mut SplitCore<S>,
    graph: &Graph,
    parts: &mut [Part],
    remaining: &mut u64,
    fee_left: &mut u64,
    now: Timestamp,
) {
    core.scorer_mut().set_saturation(0);
    for part in parts.iter_mut() {
        if *remaining == 0 {
            break;
        }
        let old = part.amount;
        let old_fee = core.account(graph, &part.edges, old, false).unwrap_or(0);
        let budget = fee_left.saturating_add(old_fee);
        let hi = old.saturating_add(*remaining);
        let d = core.largest_fit(graph, &part.edges, old, hi, budget, 0.0, now);
        let new_fee = core.account(graph, &part.edges, d, true).unwrap_or(0);
        *fee_left = budget.saturating_sub(new_fee);
        *remaining -= d - old;
        part.amount = d;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorers::test_util::line;
    use crate::scorers::UniformScorer;
    use crate::Router;
    use flotilla_graph::NodeIdx;

    #[test]
    fn believed_cut_fails_fast_and_exactly() {
        use crate::scorers::test_util::{fwd, path};
        use crate::scorers::LiquidityBoundsScorer;
        use crate::{FailureKind, PathFailure};
        let g = line(&[1000, 1000]);
        let mut s = GreedySplitter::new(LiquidityBoundsScorer::new(&g, NodeIdx(0)));
        let t = Timestamp::ZERO;
        // The receiver's only channel refused 500,000 msat: it holds less.
        let failed = path(&g, 2, 500_000);
        let failure = PathFailure {
            hop: 1,
            kind: FailureKind::Liquidity,
        };
        s.path_failed(&g, &failed, failure, t);
        assert_eq!(s.scorer().max_liquidity_msat(&g, fwd(1), t), 499_999);
        let mut req = RouteRequest::new(NodeIdx(0), NodeIdx(2), 600_000);
        req.limits.max_parts = 4;
        req.limits.min_part_msat = 1_000;
        let e = s.find_route(&g, &req, t).unwrap_err();
        assert!(e.to_string().contains("believed"), "{e}");
        assert_eq!(s.last_stats().searches, 0);
        // At the bound itself the splitter still searches and answers.
        req.amount_msat = 499_999;
        let r = s.find_route(&g, &req, t).unwrap();
        assert_eq!(r.amount_msat(), 499_999);
    }

    #[test]
    fn single_line_single_part() {
        let g = line(&[1000, 1000]);
        let mut s = GreedySplitter::new(UniformScorer);
        let mut req = RouteRequest::new(NodeIdx(0), NodeIdx(2), 100_000);
        req.limits.max_parts = 4;
        let r = s.find_route(&g, &req, Timestamp::ZERO).unwrap();
        assert_eq!(r.paths.len(), 1);
        assert_eq!(r.amount_msat(), 100_000);
    }
}
