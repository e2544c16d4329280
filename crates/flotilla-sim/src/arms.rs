//! Sender strategies ("arms"): what each arm name means and the router it runs.

use std::fmt;
use std::str::FromStr;

use flotilla_graph::Graph;
use flotilla_ln::lock::LockKind;
use flotilla_ln::redundant_session::{RedundancyStrategy, RedundantLimits};
use flotilla_route::ldk::LdkRouter;
use flotilla_route::paper::{PaperRouter, PAPER_MAX_PATHS};
use flotilla_route::scorers::{AprioriScorer, LiquidityBoundsScorer};
use flotilla_route::splitters::{GreedySplitter, HalvingSplitter, MinCostFlowSplitter};
use flotilla_route::{Pathfinder, Router};

/// How a payment is split.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// One path at a time for the whole amount; retry on failure.
    SinglePath,
    /// Basic MPP: up to `max_parts` parts; failed parts' amounts are re-routed.
    Mpp,
    /// Redundant overpayment: more parts than needed, each on its own path; the
    /// receiver claims exactly A ([`flotilla_ln::redundant_session`]).
    Redundant {
        /// `SenderHash`, `H2tlc` or `Boomerang`.
        lock: LockKind,
        /// How many parts.
        redundancy: Redundancy,
        /// Replace lost parts while the payment is undecided.
        retry: bool,
        /// How the amount is cut into base parts.
        sizing: Sizing,
        /// `-hedge`: the surplus waits until the payment is late or short
        /// ([`flotilla_ln::redundant_session`]'s hedging).
        hedge: bool,
        /// `-tree`: parts placed together take their paths from one search where it
        /// can (`RedundantLimits::tree_copies`); fixed redundancy, not split.
        tree: bool,
    },
    /// The Boomerang paper's retry and redundancy ([`crate::paper_arm`]): boomerang
    /// parts on paths drawn from precomputed edge-disjoint ones.
    Paper(crate::paper_arm::PaperArm),
}

/// How many parts a redundant arm sends.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Redundancy {
    /// n = ⌈k·(1+ρ)⌉; ρ as the bits of an `f64`, so the spec stays `Eq`.
    Fixed(u64),
    /// Enough parts that P(k arrive) reaches `sender.adaptive_target`.
    Adaptive,
}

/// How a redundant arm cuts A into base parts.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Sizing {
    /// The scenario's: k = ⌈A / `sender.redundant_part_sat`⌉ (at most
    /// `sender.max_parts`), or `sender.redundant_base_parts` equal parts.
    Scenario,
    /// `-k<K>`: K equal parts of A/K (the seed's "1 sat over 15 paths" for 10 sat is
    /// `-k10-0.5`).
    Count(u32),
    /// `-<S>sat`: parts of S sat, k = ⌈A / S⌉ (at most 1,000).
    PartSat(u64),
    /// `-split`: the base parts are an MPP splitter's (uneven), and a lost part's amount is
    /// split again as MPP does ([`flotilla_ln::redundant_session`]'s split mode).
    Split,
}

/// Most base parts a `-<S>sat` arm cuts A into (as `sender.redundant_base_parts`).
pub const MAX_SAT_SIZED_PARTS: u32 = 1_000;

/// Which path finder (and splitter) an arm uses.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RouterKind {
    /// flotilla's single-path pathfinder with liquidity-bounds beliefs.
    Flotilla,
    /// flotilla's single-path pathfinder with lnd's a-priori beliefs (the model CLoTH
    /// copies from lnd 0.10).
    Apriori,
    /// Greedy MPP splitter (LDK-like) over flotilla's pathfinder.
    Greedy,
    /// Min-cost-flow MPP splitter (Pickhardt–Richter).
    MinCostFlow,
    /// lnd-style halving MPP splitter.
    Halving,
    /// LDK's `find_route` with its `ProbabilisticScorer`.
    Ldk,
    /// The Boomerang paper's uniform draw from ≤ 25 edge-disjoint paths per pair.
    Paper,
    /// [`RouterKind::Flotilla`] answering a request that excludes edges (a part
    /// avoiding its siblings' channels) with its tight search alone
    /// (`Pathfinder::set_exact_exclusions(false)`): a `-quick` suffix on a redundant
    /// arm that is not split, opt-in (docs/redundancy.md).
    FlotillaQuick,
}

/// One arm of an experiment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArmSpec {
    /// The name as given (and printed).
    pub name: String,
    /// Single path or MPP.
    pub strategy: Strategy,
    /// Router.
    pub router: RouterKind,
}

/// An arm name that means nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown arm {name:?}; known arms: {known}", name = .0, known = KNOWN_ARMS.join(", "))]
pub struct UnknownArm(pub String);

/// Every arm name flotilla runs. Redundant arms are `redundant-<lock>[-<sizing>]-<how
/// many>` with lock `sender_hash`, `h2tlc` or `boomerang` and either a redundancy ρ ≥ 0
/// (n = ⌈k·(1+ρ)⌉ parts, e.g. `redundant-h2tlc-0.25`) or `adaptive`; a `-retry` suffix
/// replaces lost parts (adaptive always does). The optional sizing ([`Sizing`]) is
/// `split` (an MPP splitter's base parts, hash locks only: `redundant-h2tlc-split-0.5`),
/// `k<K>` (K equal parts: `redundant-h2tlc-k10-0.5`) or `<S>sat` (parts of S sat:
/// `redundant-h2tlc-20000sat-0.5`). A `-hedge` after ρ (before `-retry`) holds the
/// surplus back until the payment is late or short (`redundant-h2tlc-split-1-hedge`,
/// `redundant-boomerang-1-hedge-retry`). The Boomerang paper's strategies are
/// `paper-retry-R`, `paper-redundant-E` and `paper-redundant-E-retry-R`
/// ([`crate::paper_arm`]), with a `-learning` suffix routed by flotilla's learning path
/// finder instead of the paper's uniform draws. A `-quick` suffix on a redundant arm
/// that is not split (`redundant-h2tlc-0.5-retry-quick`) routes its parts with
/// [`RouterKind::FlotillaQuick`]. A `-tree` suffix on a redundant arm with a fixed ρ
/// that is not split (`redundant-h2tlc-0.5-retry-tree`, before any `-quick`) places
/// equal parts sent together from one search where it can (`Strategy::Redundant`'s
/// `tree`). The list shows a few.
pub const KNOWN_ARMS: &[&str] = &[
    "single-path-retry",
    "single-path-retry-ldk",
    "single-path-retry-apriori",
    "mpp-retry",
    "mpp-retry-greedy",
    "mpp-retry-mcf",
    "mpp-retry-halving",
    "mpp-retry-ldk",
    "redundant-sender_hash-0.5",
    "redundant-h2tlc-0.5",
    "redundant-boomerang-0.5",
    "redundant-h2tlc-0.5-retry",
    "redundant-boomerang-1.0-retry",
    "redundant-h2tlc-adaptive",
    "redundant-boomerang-adaptive",
    "redundant-h2tlc-split-0.5",
    "redundant-sender_hash-split-0.25-retry",
    "redundant-h2tlc-k10-0.5",
    "redundant-boomerang-k10-0.5-retry",
    "redundant-h2tlc-20000sat-0.5",
    "paper-retry-25",
    "paper-redundant-25",
    "paper-redundant-10-retry-125",
];

impl FromStr for ArmSpec {
    type Err = UnknownArm;
    fn from_str(s: &str) -> Result<Self, UnknownArm> {
        let name = s.trim();
        if let Some(base) = name
            .strip_suffix("-quick")
            .filter(|b| b.starts_with("redundant-"))
        {
            let spec: ArmSpec = base.parse().map_err(|_| UnknownArm(name.to_string()))?;
            if spec.router != RouterKind::Flotilla {
                return Err(UnknownArm(name.to_string()));
            }
            return Ok(ArmSpec {
                name: name.to_string(),
                router: RouterKind::FlotillaQuick,
                ..spec
            });
        }
        let (strategy, router) = match name {
            "single-path-retry" => (Strategy::SinglePath, RouterKind::Flotilla),
            "single-path-retry-ldk" => (Strategy::SinglePath, RouterKind::Ldk),
            "single-path-retry-apriori" => (Strategy::SinglePath, RouterKind::Apriori),
            "mpp-retry" | "mpp-retry-greedy" => (Strategy::Mpp, RouterKind::Greedy),
            "mpp-retry-mcf" => (Strategy::Mpp, RouterKind::MinCostFlow),
            "mpp-retry-halving" => (Strategy::Mpp, RouterKind::Halving),
            "mpp-retry-ldk" => (Strategy::Mpp, RouterKind::Ldk),
            _ => match (parse_redundant(name), crate::paper_arm::parse_paper(name)) {
                // A split arm's base parts come from the splitter MPP uses.
                (
                    Some(
                        strategy @ Strategy::Redundant {
                            sizing: Sizing::Split,
                            ..
                        },
                    ),
                    _,
                ) => (strategy, RouterKind::Greedy),
                (Some(strategy), _) => (strategy, RouterKind::Flotilla),
                (None, Some(strategy)) if crate::paper_arm::learns(name) => {
                    (strategy, RouterKind::Flotilla)
                }
                (None, Some(strategy)) => (strategy, RouterKind::Paper),
                (None, None) => return Err(UnknownArm(name.to_string())),
            },
        };
        Ok(ArmSpec {
            name: name.to_string(),
            strategy,
            router,
        })
    }
}

/// `redundant-<lock>[-<sizing>]-<ρ|adaptive>[-hedge][-retry]` with lock `sender_hash`,
/// `h2tlc` or `boomerang`, sizing `split`, `k<K>` or `<S>sat`, and a number ρ ≥ 0.
fn parse_redundant(name: &str) -> Option<Strategy> {
    let rest = name.strip_prefix("redundant-")?;
    let (rest, tree) = match rest.strip_suffix("-tree") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (rest, retry) = match rest.strip_suffix("-retry") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (rest, hedge) = match rest.strip_suffix("-hedge") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (lock, how) = rest.rsplit_once('-')?;
    let (lock, sizing) = match LockKind::from_name(lock) {
        Some(l) => (l, Sizing::Scenario),
        None => {
            let (lock, sizing) = lock.rsplit_once('-')?;
            (LockKind::from_name(lock)?, parse_sizing(sizing)?)
        }
    };
    let lock = match lock {
        LockKind::Hash => return None,
        l => l,
    };
    let adaptive_ok = sizing == Sizing::Scenario;
    // Boomerang parts must all be A/k': no splitter's uneven parts.
    if sizing == Sizing::Split && lock == LockKind::Boomerang {
        return None;
    }
    // An adaptive sender adds parts by probability at once: nothing to hold back.
    if how == "adaptive" && (!adaptive_ok || hedge) {
        return None;
    }
    // One search's copies are for equal parts placed together.
    if tree && (how == "adaptive" || sizing == Sizing::Split) {
        return None;
    }
    let redundancy = if how == "adaptive" {
        Redundancy::Adaptive
    } else {
        if how.is_empty() || !how.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return None;
        }
        let rho: f64 = how.parse().ok()?;
        if !rho.is_finite() || rho < 0.0 {
            return None;
        }
        Redundancy::Fixed(rho.to_bits())
    };
    Some(Strategy::Redundant {
        lock,
        redundancy,
        retry,
        sizing,
        hedge,
        tree,
    })
}

/// `split`, `k<K>` (1 ≤ K ≤ 1,000) or `<S>sat` (S ≥ 1).
fn parse_sizing(s: &str) -> Option<Sizing> {
    let digits = |d: &str| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit());
    if s == "split" {
        return Some(Sizing::Split);
    }
    if let Some(k) = s.strip_prefix('k').filter(|d| digits(d)) {
        let k: u32 = k.parse().ok()?;
        return (1..=MAX_SAT_SIZED_PARTS)
            .contains(&k)
            .then_some(Sizing::Count(k));
    }
    let sat: u64 = s.strip_suffix("sat").filter(|d| digits(d))?.parse().ok()?;
    (sat >= 1).then_some(Sizing::PartSat(sat))
}

impl fmt::Display for ArmSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl ArmSpec {
    /// Builds the arm's router over `graph` (the graph the network forwards by, policy
    /// overrides applied). `seed` seeds LDK's randomised CLTV offsets and the paper
    /// router's path draws.
    pub fn build_router(&self, graph: &Graph, seed: u64) -> Box<dyn Router> {
        // The scorer's sender only matters for exact local balances, which a run-wide
        // arm does not set; node 0 stands in.
        let scorer = || LiquidityBoundsScorer::new(graph, flotilla_graph::NodeIdx(0));
        match self.router {
            RouterKind::Flotilla | RouterKind::FlotillaQuick => {
                let mut r = Pathfinder::new(scorer());
                r.set_exact_exclusions(self.router == RouterKind::Flotilla);
                r.prepare(graph);
                Box::new(r)
            }
            RouterKind::Apriori => {
                let mut r = Pathfinder::new(AprioriScorer::new(graph, flotilla_graph::NodeIdx(0)));
                r.prepare(graph);
                Box::new(r)
            }
            RouterKind::Greedy => {
                let mut r = GreedySplitter::new(scorer());
                r.prepare(graph);
                Box::new(r)
            }
            RouterKind::MinCostFlow => {
                let mut r = MinCostFlowSplitter::new(scorer());
                r.prepare(graph);
                Box::new(r)
            }
            RouterKind::Halving => {
                let mut r = HalvingSplitter::new(scorer());
                r.prepare(graph);
                Box::new(r)
            }
            RouterKind::Ldk => Box::new(LdkRouter::with_seed(graph, seed)),
            RouterKind::Paper => Box::new(PaperRouter::new(
                PAPER_MAX_PATHS,
                crate::rng::stream(seed, "paper-paths"),
            )),
        }
    }

    /// Most parts a payment of this arm may have in flight.
    pub fn max_parts(&self, configured: u32) -> u32 {
        match self.strategy {
            Strategy::SinglePath => 1,
            Strategy::Mpp => configured,
            Strategy::Redundant { .. } | Strategy::Paper(_) => 1,
        }
    }

    /// The lock, strategy and retry flag of a redundant arm; an adaptive one aims at
    /// `adaptive_target`.
    pub fn redundancy(&self, adaptive_target: f64) -> Option<(LockKind, RedundancyStrategy, bool)> {
        match self.strategy {
            Strategy::Redundant {
                lock,
                redundancy,
                retry,
                ..
            } => {
                let strategy = match redundancy {
                    Redundancy::Fixed(bits) => RedundancyStrategy::Fixed(f64::from_bits(bits)),
                    Redundancy::Adaptive => RedundancyStrategy::Adaptive {
                        target: adaptive_target,
                    },
                };
                Some((lock, strategy, retry))
            }
            Strategy::Paper(p) => {
                let (strategy, retry) = p.strategy();
                Some((LockKind::Boomerang, strategy, retry))
            }
            _ => None,
        }
    }

    /// `limits` (the scenario's, from [`crate::redundant_arm::redundant_limits`], for a
    /// payment of `amount_msat`) with this arm's own sizing and, for a paper arm, its
    /// budget of parts.
    pub fn redundant_limits(
        &self,
        mut limits: RedundantLimits,
        amount_msat: u64,
    ) -> RedundantLimits {
        if let Strategy::Redundant { tree: true, .. } = self.strategy {
            limits.tree_copies = true;
        }
        match self.strategy {
            Strategy::Paper(p) => return p.limits(limits, amount_msat),
            Strategy::Redundant { sizing, .. } => match sizing {
                Sizing::Scenario => {}
                Sizing::Count(k) => {
                    // k = clamp(⌈A / 1 msat⌉, 1, K) = K for any A ≥ K msat.
                    limits.max_part_msat = 1;
                    limits.max_base_parts = k;
                    limits.max_parts_in_flight = limits.max_parts_in_flight.max(3 * k);
                    // Every part is an attempt: the configured budget is on top of them.
                    limits.max_attempts = limits.max_attempts.saturating_add(3 * k);
                }
                Sizing::PartSat(sat) => {
                    limits.max_part_msat = sat.saturating_mul(1000);
                    limits.max_base_parts = MAX_SAT_SIZED_PARTS;
                    let k = amount_msat
                        .div_ceil(limits.max_part_msat)
                        .clamp(1, MAX_SAT_SIZED_PARTS as u64) as u32;
                    limits.max_parts_in_flight = limits.max_parts_in_flight.max(3 * k);
                    limits.max_attempts = limits.max_attempts.saturating_add(3 * k);
                }
                Sizing::Split => limits.base_split = true,
            },
            _ => {}
        }
        limits
    }

    /// Whether this is a hedged redundant arm (`-hedge`).
    pub fn is_hedged(&self) -> bool {
        matches!(self.strategy, Strategy::Redundant { hedge: true, .. })
    }

    /// Whether this is a `mpp-retry*` arm (the baseline redundant arms compare with).
    pub fn is_mpp_retry(&self) -> bool {
        self.strategy == Strategy::Mpp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_arm_parses_and_unknown_ones_say_what_exists() {
        for a in KNOWN_ARMS {
            assert_eq!(a.parse::<ArmSpec>().unwrap().name, *a);
        }
        let a = "redundant-h2tlc-0.5".parse::<ArmSpec>().unwrap();
        assert_eq!(
            a.redundancy(0.9),
            Some((LockKind::H2tlc, RedundancyStrategy::Fixed(0.5), false))
        );
        assert_eq!(a.router, RouterKind::Flotilla);
        let a = "redundant-sender_hash-2".parse::<ArmSpec>().unwrap();
        assert_eq!(
            a.redundancy(0.9),
            Some((LockKind::SenderHash, RedundancyStrategy::Fixed(2.0), false))
        );
        let a = "redundant-boomerang-1.0-retry".parse::<ArmSpec>().unwrap();
        assert_eq!(
            a.redundancy(0.9),
            Some((LockKind::Boomerang, RedundancyStrategy::Fixed(1.0), true))
        );
        let a = "redundant-h2tlc-adaptive".parse::<ArmSpec>().unwrap();
        assert_eq!(
            a.redundancy(0.9),
            Some((
                LockKind::H2tlc,
                RedundancyStrategy::Adaptive { target: 0.9 },
                false
            ))
        );
        let a = "redundant-h2tlc-0.5-retry-quick"
            .parse::<ArmSpec>()
            .unwrap();
        assert_eq!(a.router, RouterKind::FlotillaQuick);
        assert_eq!(a.name, "redundant-h2tlc-0.5-retry-quick");
        assert_eq!(
            a.strategy,
            "redundant-h2tlc-0.5-retry"
                .parse::<ArmSpec>()
                .unwrap()
                .strategy
        );
        for not_quick in [
            "redundant-h2tlc-split-0.5-quick",
            "mpp-retry-quick",
            "paper-redundant-25-learning-quick",
            "redundant-h2tlc-quick",
        ] {
            assert!(not_quick.parse::<ArmSpec>().is_err(), "{not_quick}");
        }
        // `-tree`: the same arm, its equal parts placed from one search where it can.
        let base = "redundant-h2tlc-0.5-retry".parse::<ArmSpec>().unwrap();
        let limits = || {
            crate::redundant_arm::redundant_limits(
                &crate::scenario::SenderConfig::default(),
                RedundancyStrategy::Fixed(0.5),
                true,
                1_000_000,
                &[],
            )
        };
        assert!(!base.redundant_limits(limits(), 1_000_000).tree_copies);
        for name in [
            "redundant-h2tlc-0.5-retry-tree",
            "redundant-h2tlc-0.5-retry-tree-quick",
        ] {
            let a = name.parse::<ArmSpec>().unwrap();
            assert_eq!(a.redundancy(0.9), base.redundancy(0.9), "{name}");
            assert!(
                a.redundant_limits(limits(), 1_000_000).tree_copies,
                "{name}"
            );
        }
        assert_eq!(
            "redundant-h2tlc-0.5-retry-tree-quick"
                .parse::<ArmSpec>()
                .unwrap()
                .router,
            RouterKind::FlotillaQuick
        );
        for not_tree in [
            "redundant-h2tlc-split-0.5-tree",
            "redundant-h2tlc-adaptive-tree",
            "redundant-h2tlc-0.5-tree-retry",
            "mpp-retry-tree",
            "redundant-h2tlc-0.5-retry-quick-tree",
        ] {
            assert!(not_tree.parse::<ArmSpec>().is_err(), "{not_tree}");
        }
        let a = "paper-redundant-25-learning".parse::<ArmSpec>().unwrap();
        assert_eq!(a.router, RouterKind::Flotilla, "the learning path finder");
        assert_eq!(
            a.strategy,
            "paper-redundant-25".parse::<ArmSpec>().unwrap().strategy
        );
        assert_eq!(
            "paper-redundant-25".parse::<ArmSpec>().unwrap().router,
            RouterKind::Paper
        );
        assert!("mpp-retry-mcf".parse::<ArmSpec>().unwrap().is_mpp_retry());
        let a = "redundant-h2tlc-split-1-hedge-retry"
            .parse::<ArmSpec>()
            .unwrap();
        assert!(a.is_hedged());
        assert_eq!(
            a.redundancy(0.9),
            Some((LockKind::H2tlc, RedundancyStrategy::Fixed(1.0), true))
        );
        assert!(!"redundant-h2tlc-split-1-retry"
            .parse::<ArmSpec>()
            .unwrap()
            .is_hedged());
        assert!("redundant-boomerang-1-hedge-retry"
            .parse::<ArmSpec>()
            .unwrap()
            .is_hedged());
        assert!(!"single-path-retry"
            .parse::<ArmSpec>()
            .unwrap()
            .is_mpp_retry());
        for bad in [
            "redundant-hash-0.5",
            "redundant-h2tlc-",
            "redundant-h2tlc--1",
            "redundant-h2tlc-inf",
            "redundant-ptlc-1.0",
            "redundant-boomerang-retry",
            "redundant-boomerang-1.0-retry-retry",
            "redundant-h2tlc-adaptive-hedge",
            "redundant-h2tlc-0.5-hedge-hedge",
            "redundant-h2tlc-0.5-retry-hedge",
        ] {
            assert!(bad.parse::<ArmSpec>().is_err(), "{bad}");
        }
        let e = "mpp-magic".parse::<ArmSpec>().unwrap_err().to_string();
        assert!(
            e.contains("mpp-magic") && e.contains("single-path-retry"),
            "{e}"
        );
    }

    #[test]
    fn sizings_parse_and_set_the_limits() {
        let base = || {
            crate::redundant_arm::redundant_limits(
                &crate::scenario::SenderConfig::default(),
                RedundancyStrategy::Fixed(0.5),
                false,
                1_000_000,
                &[],
            )
        };
        let a = "redundant-h2tlc-split-0.5".parse::<ArmSpec>().unwrap();
        assert_eq!(a.router, RouterKind::Greedy, "the splitter MPP uses");
        assert!(a.redundant_limits(base(), 1_000_000).base_split);
        assert_eq!(
            a.redundancy(0.9),
            Some((LockKind::H2tlc, RedundancyStrategy::Fixed(0.5), false))
        );
        let a = "redundant-sender_hash-k10-0.5-retry"
            .parse::<ArmSpec>()
            .unwrap();
        let l = a.redundant_limits(base(), 1_000_000);
        assert_eq!((l.max_part_msat, l.max_base_parts), (1, 10));
        assert!(!l.base_split);
        assert!(l.max_attempts >= base().max_attempts + 30);
        let a = "redundant-boomerang-250sat-1".parse::<ArmSpec>().unwrap();
        let l = a.redundant_limits(base(), 1_000_000);
        assert_eq!(l.max_part_msat, 250_000);
        assert!(l.max_parts_in_flight >= 12, "4 parts of 250 sat, tripled");
        assert_eq!(a.router, RouterKind::Flotilla);
        for bad in [
            "redundant-boomerang-split-0.5",
            "redundant-h2tlc-split-adaptive",
            "redundant-h2tlc-k0-0.5",
            "redundant-h2tlc-k1001-0.5",
            "redundant-h2tlc-0sat-0.5",
            "redundant-h2tlc-ksat-0.5",
            "redundant-h2tlc-splits-0.5",
            "redundant-split-0.5",
        ] {
            assert!(bad.parse::<ArmSpec>().is_err(), "{bad}");
        }
    }
}
