//! The control requests and responses (one JSON object per line).

use serde::{Deserialize, Serialize};

/// A request, with the token that authorizes it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Envelope {
    /// The content of `DIR/control.token`.
    #[serde(default)]
    pub token: String,
    /// What is asked.
    #[serde(flatten)]
    pub request: Request,
}

/// What a client can ask.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "request", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Request {
    /// The node's id, addresses, features, uptime and counters.
    Info,
    /// Dial a peer (`ID@HOST:PORT`), wait for the handshake, and remember it.
    Connect {
        /// `node_id@host:port`.
        peer: String,
    },
    /// The connected peers.
    Peers,
    /// Open a channel with a connected peer by agreement (no chain).
    OpenChannel {
        /// The peer's node id.
        peer: String,
        /// The capacity.
        capacity_sat: u64,
        /// What this node gives the peer at the start.
        #[serde(default)]
        push_sat: u64,
    },
    /// The channels.
    Channels,
    /// Make a BOLT 11 invoice.
    Invoice {
        /// The amount asked (none: any amount).
        #[serde(default)]
        amount_msat: Option<u64>,
        /// The description.
        #[serde(default)]
        description: String,
        /// Seconds until it expires (default 3600).
        #[serde(default)]
        expiry_secs: Option<u64>,
        /// A redundant invoice's lock (`h2tlc`, `sender_hash`, `boomerang`).
        #[serde(default)]
        lock: Option<String>,
        /// `boomerang`: the number of equal parts A is cut into.
        #[serde(default)]
        parts: Option<u16>,
    },
    /// Pay a BOLT 11 invoice; the answer waits for the outcome.
    Pay {
        /// The invoice.
        bolt11: String,
        /// For an invoice without an amount.
        #[serde(default)]
        amount_msat: Option<u64>,
        /// Most parts in flight at once (default 16); for a redundant payment, the
        /// base parts k (default 4).
        #[serde(default)]
        max_parts: Option<u32>,
        /// Redundant overpayment: ρ, the share of surplus parts.
        #[serde(default)]
        redundancy: Option<f64>,
        /// The redundant lock (`h2tlc`, `sender_hash`, `boomerang`).
        #[serde(default)]
        lock: Option<String>,
        /// `boomerang`: the receiver's commitments, comma-separated hex points.
        #[serde(default)]
        commitments: Option<String>,
    },
    /// Pay a node without an invoice (keysend); the answer waits for the outcome.
    Keysend {
        /// The receiver's node id.
        peer: String,
        /// The amount.
        amount_msat: u64,
        /// Most parts in flight at once (default 16).
        #[serde(default)]
        max_parts: Option<u32>,
    },
    /// Every payment sent and received.
    Payments,
    /// Shut the daemon down.
    Stop,
}

/// A response line.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Response {
    /// Whether the request succeeded.
    pub ok: bool,
    /// The answer, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// Why not, when it did not: one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Response {
    /// A success.
    pub fn ok(result: serde_json::Value) -> Self {
        Response {
            ok: true,
            result: Some(result),
            error: None,
        }
    }

    /// A failure.
    pub fn err(error: impl Into<String>) -> Self {
        Response {
            ok: false,
            result: None,
            error: Some(error.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_read_as_documented() {
        let e: Envelope =
            serde_json::from_str(r#"{"token":"ab","request":"connect","peer":"x@y:1"}"#).unwrap();
        assert_eq!(
            e.request,
            Request::Connect {
                peer: "x@y:1".into()
            }
        );
        let e: Envelope = serde_json::from_str(r#"{"request":"info"}"#).unwrap();
        assert_eq!(e.token, "");
        assert!(serde_json::from_str::<Envelope>(r#"{"request":"launch"}"#).is_err());
        assert!(serde_json::from_str::<Envelope>(r#"{"request":"connect"}"#).is_err());
    }
}
