//! # flotilla-ln
//!
//! The Lightning payment protocol as sans-IO state machines, in the manner of LDK and
//! quinn-proto: every function takes the messages that arrived and the current time
//! and returns the messages to send and the timers to set. Nothing here sleeps,
//! spawns, or opens a socket; the simulator (and, later, a live daemon) is a thin
//! driver around it.
//!
//! - [`failure`]: BOLT 4 failure codes, one definition for everything.
//! - [`invoice`]: BOLT 11 invoices: create, sign, decode, check.
//! - [`payload`]: each hop's onion payload.
//! - [`lock`]: the lock types an HTLC carries (`hash`, `sender_hash`, `h2tlc`, `boomerang`) and the
//!   claim check every hop applies.
//! - [`boomerang`]: Boomerang's committed polynomial, point locks and the interpolation
//!   that lets a sender take back an over-claimed payment.
//! - [`redundant`]: redundant overpayment: the receiver's held parts and claim request,
//!   the sender's answer and exact subset choice.
//! - [`redundant_session`]: the sender's redundant payment with fixed redundancy.
//! - [`onion`]: onions in two modes (modeled structs, real Sphinx) and failure reasons.
//! - [`wire`]: the peer messages as bytes (BOLT 1 framing, BOLT 2 HTLC updates with
//!   flotilla's lock extensions as odd TLVs, the redundant-payment endpoint messages).
//! - [`node`]: one node's complete protocol state, [`node::Node`], as a sans-IO state
//!   machine: `handle_message`, `handle_timer` and commands append the
//!   [`output::Output`]s they cause; built from [`clock`], [`config`], [`channel`],
//!   [`htlc`], [`msg`], [`forward`], [`receiver`] and [`sender`].
//! - [`network`]: the simulator's view: [`network::Network`], one `Node` per graph node,
//!   delivery in the collapsed commitment model and the cross-node invariants.

#![warn(missing_docs)]

pub mod boomerang;
pub mod channel;
pub mod clock;
pub mod config;
pub mod failure;
pub mod forward;
pub mod htlc;
pub mod invoice;
pub mod lock;
pub mod msg;
pub mod network;
pub mod node;
pub mod onion;
pub mod output;
pub mod payload;
pub mod receiver;
pub mod redundant;
pub mod redundant_session;
pub mod sender;
pub mod session;
pub mod surplus_cancel;
pub mod wire;

pub use lightning_types::payment::{PaymentHash, PaymentPreimage, PaymentSecret};
