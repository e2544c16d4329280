//! # flotilla-sim
//!
//! The discrete-event simulator that runs flotilla's protocol state machines over a
//! channel graph in virtual time.
//!
//! - [`scenario`]: the TOML scenario, every field documented with its default.
//! - [`workload`]: which payments happen when (random activity as sim-ln draws it,
//!   sim-ln's defined activity, a CSV list, CLoTH's payments file); [`closed_loop`]
//!   (senders that start a payment when an earlier one finishes), [`demand`]
//!   (balanced, stationary demand), [`quantiles`] (amounts from a quantile table).
//! - [`rng`]: one seeded ChaCha stream per purpose, so adding a draw in one place does
//!   not reshuffle the rest.
//! - [`latency`]: per-hop latency by message class (adds, fails, fulfils, endpoint
//!   messages), falling back to one model for all.
//! - [`paper_arm`]: the Boomerang paper's retry and redundancy as arms.
//! - [`metrics`]: the one definition of every reported number.
//! - [`oracle`]: per payment, whether any sender could have delivered it and how fast.
//! - [`stats`]: arms against a baseline, payment by payment (McNemar, paired bootstrap).
//! - [`field`]: field scenarios (zero-fee hub, probing attacker, stuck payments).
//! - [`manifest`]: `run.json` and `scenario.toml`, so a results directory says what was
//!   run and how to run it again, and the checksums that prove its files intact.
//! - [`output`]: the results directory (claimed atomically, `INCOMPLETE` until done).
//! - [`graph_origin`]: a graph file or the snapshot built into the binary.
//! - [`progress`]: finished payments per arm, for progress displays.
//! - [`set`]: `KEY=VALUE` overrides of any scenario key (`flotilla sim --set`, sweeps).
//! - [`sweep`]: grids of scenarios × seeds, their shards, merges and tables.

#![warn(missing_docs)]

pub mod arms;
pub mod closed_loop;
pub mod demand;
pub mod experiment;
pub mod faults;
pub mod field;
pub mod graph_origin;
pub mod latency;
pub mod manifest;
pub mod metrics;
pub mod oracle;
pub mod output;
pub mod paper_arm;
pub mod preset;
pub mod progress;
pub mod quantiles;
pub mod queue;
pub mod redundant_arm;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod set;
pub mod stats;
pub mod sweep;
pub mod workload;
