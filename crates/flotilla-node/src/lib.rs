//! flotilla's live node: the same protocol engine as the simulator, driven by tokio
//! between real processes over the Lightning transport.
//!
//! One module per job:
//! - [`identity`]: the node key's seed in `DIR/identity.key` (mode 0600, refused if
//!   others can read it);
//! - [`store`]: SQLite in WAL mode, every write durable when it returns;
//! - [`transport`]: LDK's `PeerManager` over `lightning-net-tokio` (BOLT 8, BOLT 1),
//!   flotilla's messages as custom messages, onion messages through LDK's
//!   `OnionMessenger` (forwarded for others; the redundant flow's endpoint messages),
//!   BOLT 2 channels refused;
//! - [`features`]: the `init` feature bits, only what the node honours;
//! - [`control`]: the JSON-lines control socket, its protocol and client;
//! - [`reconnect`]: backoff for dialing remembered peers;
//! - [`nodefile`]: the file `DIR/node.json`;
//! - [`defaults`]: the policy and channel parameters of new channels, `DIR/node-config.json`;
//! - [`daemon`]: ties them together (`flotilla node run`).
//!
//! - [`engine`]: the per-node protocol engine (`flotilla_ln`'s `Node`), gossip,
//!   payments, and the input log that makes every state change durable.

pub mod control;
pub mod daemon;
pub mod defaults;
pub mod engine;
pub mod error;
pub mod features;
pub mod identity;
pub mod nodefile;
pub mod reconnect;
pub mod store;
pub mod transport;

pub use error::NodeError;
