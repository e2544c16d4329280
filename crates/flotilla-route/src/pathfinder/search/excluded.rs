//! Requests that exclude edges (a redundant part avoiding its siblings' channels).
//!
//! Excluding a part's siblings' channels takes the sender's best routes away, which
//! the plain potential does not see: such searches settled ten times the nodes of the
//! others. They run in two steps ([`two_step`]):
//!
//! 1. the **fast search** ([`Mode::tight_order`]): its potential's forward search also
//!    leaves the excluded edges out, so it settles few nodes, but in another order,
//!    so a tie between twin channels can go the other way;
//! 2. the **cut-off search** ([`Mode::prune_at`]): the plain search, dropping every
//!    offer that cannot lead to a route within the fast search's cost once its
//!    potential is upgraded ([`Relax::pruned`]). It keeps every other entry's key, so
//!    a route it finds within the cost is the plain search's own; if it finds none,
//!    the plain search runs unpruned. Its pruning bound is the fast search's forward
//!    search, taken over rather than repeated (`Workspace::fwd_x_done`).
//!
//! The fast search's route only sets the cut-off, so it upgrades its potential at
//! once ([`SearchTuning::fast_upgrade_after`]); the cut-off search must upgrade where
//! the plain search does. With exact answers switched off
//! (`Pathfinder::set_exact_exclusions`), the fast search's answer is the answer, and
//! it runs with the tuning every search has.

use flotilla_graph::Graph;

use super::{Query, Relax, SearchStats, SearchTuning, Workspace};
use crate::pathfinder::arrays::RoutingArrays;
use crate::scorer::Scorer;

/// A pruned search ([`Mode::prune_at`]) drops an offer whose cost plus its bound
/// exceeds the threshold by more than this factor: the slack keeps an offer that ties
/// with the threshold in exact arithmetic, which floating-point sums in another order
/// could put an ulp above it.
pub(crate) const PRUNE_SLACK: f64 = 1.0 + 1e-9;

/// How a search treats a request with excluded edges, beyond never using them (see
/// [`two_step`], which runs a fast search and then the exact one pruned by its
/// cost).
#[derive(Copy, Clone, Debug, PartialEq)]
pub(crate) struct Mode {
    /// The potential's forward search leaves the excluded edges out too. The
    /// potential is tighter, so the search settles far fewer nodes, but it settles
    /// them in another order, which can break a tie between offers of exactly equal
    /// cost the other way: the answer is a cheapest one, not always the one of the
    /// search without it.
    pub tight_order: bool,
    /// Drop every offer whose cost so far plus a lower bound on the rest (the
    /// potential, and a forward search that leaves the excluded edges out) exceeds
    /// this by more than [`PRUNE_SLACK`]; infinite: none. Only offers that cannot
    /// lead to a route costing at most this are dropped, only once the potential has
    /// been upgraded (see [`Relax::pruned`]), and no other entry's key changes, so the
    /// search settles the other nodes in the same order and with the same labels: if
    /// it finds a route costing at most this, it is the route the search without
    /// pruning finds.
    pub prune_at: f64,
    /// Keep searching after the sender is settled (without expanding it), and never
    /// drop an offer for costing more than the sender's route, so that more of the
    /// sender's neighbours end with a route to the receiver in their labels (the
    /// copies of `Pathfinder::find_disjoint_paths`). The sender's label is the same,
    /// except where an offer of exactly its cost is settled first and moves the
    /// potential's upgrade.
    pub harvest: bool,
}

impl Mode {
    /// The search as it always ran.
    pub const EXACT: Mode = Mode {
        tight_order: false,
        prune_at: f64::INFINITY,
        harvest: false,
    };
}

/// What the two steps concluded.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum TwoStep {
    /// A route: the workspace's labels hold it.
    Found,
    /// No route: the fast search found no first hop, or (only when exact answers
    /// are off) found none at all.
    NoRoute,
    /// Undecided: the plain search must run ([`Mode::EXACT`]).
    RunPlain,
}

/// The fast search, then (with `exact`) the cut-off search at its cost; see the
/// module docs.
pub(crate) fn two_step<S: Scorer + ?Sized>(
    ws: &mut Workspace,
    arrays: &RoutingArrays,
    graph: &Graph,
    scorer: &S,
    q: &Query<'_>,
    exact: bool,
    stats: &mut SearchStats,
) -> TwoStep {
    let tight = Mode {
        tight_order: true,
        prune_at: f64::INFINITY,
        harvest: false,
    };
    if !exact {
        // The fast search's route is the answer: it runs as tuned for every search.
        return if ws.search(arrays, graph, scorer, q, tight, stats) {
            TwoStep::Found
        } else {
            TwoStep::NoRoute
        };
    }
    // Its route only sets the cut-off search's threshold (a route found within it is
    // the plain search's, whatever the threshold), so it may run as tuned for speed.
    // Its forward search, which the cut-off search takes over, has the same budget.
    let fast = Query {
        tuning: SearchTuning {
            upgrade_after: q.tuning.fast_upgrade_after,
            ..q.tuning
        },
        ..*q
    };
    if !ws.search(arrays, graph, scorer, &fast, tight, stats) {
        // Without a first hop, the plain search would stop at the same point, with
        // the same counters (the sender's side does not depend on the mode or the
        // tuning it differs in): no route.
        return if ws.no_first_hop {
            TwoStep::NoRoute
        } else {
            TwoStep::RunPlain
        };
    }
    let prune_at = ws.label(q.src).cost;
    let pruned = Mode {
        tight_order: false,
        prune_at,
        harvest: false,
    };
    if ws.search(arrays, graph, scorer, q, pruned, stats)
        && ws.label(q.src).cost <= prune_at * PRUNE_SLACK
    {
        TwoStep::Found
    } else {
        TwoStep::RunPlain
    }
}

impl<S: Scorer + ?Sized> Relax<'_, '_, S> {
    /// Whether an offer to `u` costing `partial` so far, with potential `h`, is
    /// dropped by [`Mode::prune_at`]. The bound is the larger of the potential and
    /// the forward search that leaves the excluded edges out (taken once, when the
    /// search starts): excluding a part's siblings' channels takes the sender's best
    /// routes away, and a bound that knows it shows that most of the receiver's
    /// neighbourhood cannot lead to a route as cheap as the threshold.
    ///
    /// Nothing is dropped before the potential's upgrade: the upgrade comes after a
    /// count of settled nodes, and re-keys (so reorders) the queued entries, so it
    /// must come at the same point as in the search without pruning.
    #[inline(always)]
    pub(super) fn pruned(&self, u: usize, partial: f64, h: f64) -> bool {
        if !self.upgraded || self.mode.prune_at == f64::INFINITY {
            return false;
        }
        let bound = if self.prune_x {
            let f = &self.fwd_x[u];
            h.max(if f.fstamp == self.settled_x {
                f.h
            } else {
                self.radius_x
            })
        } else {
            h
        };
        partial + bound > self.mode.prune_at * PRUNE_SLACK
    }
}
