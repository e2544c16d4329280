//! The control interface: JSON lines over a Unix socket inside the data directory.
//!
//! Who may use it: only whoever can read the data directory. Three locks, each
//! enough alone against another user:
//! - the socket `DIR/control.sock` has mode 0600 (Linux checks it on `connect`), and
//!   the daemon creates `DIR` with mode 0700;
//! - the daemon accepts only connections from its own user id (`SO_PEERCRED`);
//! - every request carries the secret in `DIR/control.token` (mode 0600, new at every
//!   start), compared in constant time; a request without it is refused.
//!
//! The token is what also shuts out a process of the same user that cannot read
//! `DIR` (e.g. in another sandbox).
//!
//! # Protocol
//!
//! One request per line, `{"token": "…", "request": "info"}` (`info`, `peers`,
//! `channels`, `stop`, `connect` with `"peer": "ID@HOST:PORT"`, `open-channel` with
//! `"peer"`, `"capacity_sat"` and `"push_sat"`), answered by one line, `{"ok": true,
//! "result": …}` or `{"ok": false, "error": "…"}`. A connection may carry many
//! requests. A line longer than [`MAX_REQUEST_LEN`] is refused and the connection
//! closed.

pub mod client;
pub mod protocol;
pub mod server;

/// The socket's name inside the data directory.
pub const SOCKET_FILE: &str = "control.sock";
/// The token file's name inside the data directory.
pub const TOKEN_FILE: &str = "control.token";
/// The longest request line accepted.
pub const MAX_REQUEST_LEN: usize = 64 * 1024;
