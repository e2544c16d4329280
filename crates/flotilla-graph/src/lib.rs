//! # flotilla-graph
//!
//! The Lightning channel graph, and nothing but the graph: nodes with their keys and
//! addresses, channels with their capacity, and the two directed routing policies per
//! channel, packed in flat arrays with CSR adjacency so routers walk it fast.
//!
//! - [`Graph`] / [`GraphBuilder`]: the model and the one place its rules are checked.
//! - [`import`]: lnd `describegraph`, CLN `listchannels`, sim-ln `sim.json`, CLoTH CSV;
//!   gzip is transparent and the format is detected from the content.
//! - [`export`]: describegraph, sim-ln and CLoTH writers.
//! - [`liquidity`]: hidden-liquidity models (no public data has balances).
//! - [`generate`]: seeded synthetic topologies (Watts–Strogatz, Barabási–Albert).
//! - [`stats`]: counts, capacity and the largest strongly connected component.
//!
//! This crate knows no protocol and no router: higher crates build on it, never the
//! reverse.

#![warn(missing_docs)]

pub mod amount;
pub mod error;
pub mod export;
pub mod generate;
mod graph;
pub mod import;
pub mod liquidity;
pub mod stats;
mod types;
mod warnings;

pub use amount::{MAX_MSAT, MAX_SAT};
pub use error::{GraphError, Location};
pub use graph::{BuildError, Graph, GraphBuilder, LookupError};
pub use import::{parse_graph_bytes, read_graph, GraphFormat, ImportedGraph};
pub use types::{
    AddressKind, Channel, ChannelIdx, Direction, EdgeIdx, Node, NodeAddress, NodeIdx, NodePubkey,
    Policy, PubkeyError, ScidParseError, ShortChannelId,
};
pub use warnings::{Warning, Warnings};
