//! # flotilla-route
//!
//! What a Lightning sender knows, and how it picks paths.
//!
//! - [`Path`] / [`Hop`]: a path with per-hop amounts and CLTV expiries exactly as the
//!   onion needs them, built backwards from the destination per BOLT 7.
//! - [`RouteRequest`] / [`Limits`]: the question a sender asks.
//! - [`Scorer`]: beliefs about channel liquidity, updated from payment outcomes and
//!   decaying over (virtual) time.
//! - [`paper::PaperRouter`]: the Boomerang paper's uniform draw from precomputed
//!   edge-disjoint paths ([`disjoint`]), no beliefs.
//! - [`Router`]: the extension point the simulator drives; a router owns its beliefs
//!   so that an arm (ours, or LDK's) learns from the outcomes of its own payments.
//!
//! Depends only on the graph: it knows no protocol state and no event queue.

#![warn(missing_docs)]

pub mod disjoint;
pub mod ldk;
pub mod paper;
mod path;
pub mod pathfinder;
mod request;
mod router;
mod scorer;
pub mod scorers;
pub mod splitters;
mod time;

pub use path::{Hop, Path, PathError};
pub use pathfinder::{CostParams, FoundPath, Pathfinder, SearchStats, SearchTuning};
pub use request::{Limits, RouteError, RouteRequest};
pub use router::{Route, Router};
pub use scorer::{FailureKind, PathFailure, Scorer};
pub use time::Timestamp;
