//! The control requests and responses (one JSON object per line).

use flotilla_ln::config::ChannelParamsOverride;
use serde::{Deserialize, Serialize};

use crate::engine::policy::PolicyChange;

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
        /// What this node gives the peer at the start, msat.
        #[serde(default)]
        push_msat: Option<u64>,
        /// The same in sat (the older field; not together with `push_msat`).
        #[serde(default)]
        push_sat: Option<u64>,
        /// This node's policy for its direction, field by field over its defaults.
        #[serde(default)]
        policy: PolicyChange,
        /// This node's channel parameters, field by field over its defaults.
        #[serde(default)]
        params: ChannelParamsOverride,
    },
    /// Change this node's policy for its direction of one of its channels and
    /// announce it (fields absent: unchanged).
    SetPolicy {
        /// The channel id (64 hex characters).
        channel_id: String,
        /// New `fee_base_msat`.
        #[serde(default)]
        fee_base_msat: Option<u32>,
        /// New `fee_rate_ppm`.
        #[serde(default)]
        fee_rate_ppm: Option<u32>,
        /// New `cltv_expiry_delta`.
        #[serde(default)]
        cltv_expiry_delta: Option<u16>,
        /// New `htlc_minimum_msat`.
        #[serde(default)]
        htlc_minimum_msat: Option<u64>,
        /// New `htlc_maximum_msat`.
        #[serde(default)]
        htlc_maximum_msat: Option<u64>,
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
        let e: Envelope =
            serde_json::from_str(r#"{"request":"set-policy","channel_id":"ab","fee_rate_ppm":5}"#)
                .unwrap();
        assert_eq!(
            e.request,
            Request::SetPolicy {
                channel_id: "ab".into(),
                fee_base_msat: None,
                fee_rate_ppm: Some(5),
                cltv_expiry_delta: None,
                htlc_minimum_msat: None,
                htlc_maximum_msat: None,
            }
        );
        // A misspelt or out-of-range field is refused, not ignored.
        for bad in [
            r#"{"request":"set-policy","channel_id":"ab","fee_rate":5}"#,
            r#"{"request":"set-policy","channel_id":"ab","fee_rate_ppm":-1}"#,
            r#"{"request":"set-policy","channel_id":"ab","cltv_expiry_delta":70000}"#,
            r#"{"request":"open-channel","peer":"x","capacity_sat":5,"policy":{"fee":1}}"#,
            r#"{"request":"open-channel","peer":"x","capacity_sat":5,"params":{"reserve":1}}"#,
        ] {
            assert!(serde_json::from_str::<Envelope>(bad).is_err(), "{bad}");
        }
    }
}
