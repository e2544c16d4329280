//! # flotilla-ln
//!
//! The Lightning payment protocol as sans-IO state machines, in the manner of LDK and
//! quinn-proto: every function takes the messages that arrived and the current time
//! and returns the messages to send and the timers to set. Nothing here sleeps,
//! spawns, or opens a socket; the simulator (and, later, a live daemon) is a thin
//! driver around it.
//!
//! - [`failure`]: BOLT 4 failure codes, one definition for everything.
//! - [`payload`]: each hop's onion payload.

#![warn(missing_docs)]

pub mod failure;
pub mod payload;

pub use lightning_types::payment::{PaymentHash, PaymentPreimage, PaymentSecret};
