//! sim-ln `sim.json`: the `sim_network` section, one entry per channel.
//!
//! sim-ln (bitcoin-dev-project/sim-ln, `sim-cli/src/parsing.rs` `SimParams` /
//! `NetworkParser`, `simln-lib/src/sim_node.rs` `ChannelPolicy`) reads each entry as
//! `scid` (a JSON integer: its `ShortChannelID` is a plain `u64` newtype),
//! `capacity_msat`, and the two directed policies `node_1` and `node_2`, each with
//! `pubkey`, an optional `alias` (newer versions; empty when absent),
//! `max_htlc_count`, `max_in_flight_msat`, `min_htlc_size_msat`,
//! `max_htlc_size_msat`, `cltv_expiry_delta`, `base_fee` and `fee_rate_prop`.
//! Every other top-level key (`nodes`, `activity`, `exclude`) describes a run, not
//! the graph, and is skipped.
//!
//! What does not map one to one:
//! - `node_1` becomes `nodes[0]`: sim-ln does not sort its nodes, so neither do we.
//! - sim-ln has no disabled flag and always carries both policies, so every imported
//!   channel has two enabled policies.
//! - `max_htlc_count` and `max_in_flight_msat` are per-peer channel limits, not
//!   routing policy; our [`Policy`] has no place for them. They are checked for
//!   type and then ignored; the exporter writes the defaults (483 and the capacity).
//! - Capacities are kept in satoshis, so a `capacity_msat` that is not a multiple
//!   of 1000 is refused rather than silently rounded.
//!
//! We accept more spellings than sim-ln does (numbers as decimal strings, `scid` as
//! `BLOCKxTXxOUT`, uncompressed public keys) so that hand-written files load; the
//! exporter writes only what sim-ln itself reads.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::error::{GraphError, Result};
use crate::graph::{BuildError, Graph, GraphBuilder};
use crate::import::json_error;
use crate::import::numbers::{opt_u64_flex, u16_flex, u32_flex, u64_flex};
use crate::types::{Channel, NodeIdx, NodePubkey, Policy, ShortChannelId};

#[derive(Deserialize)]
struct SimFile<'a> {
    #[serde(borrow)]
    sim_network: Vec<SimChannel<'a>>,
}

#[derive(Deserialize)]
struct SimChannel<'a> {
    #[serde(deserialize_with = "scid_flex")]
    scid: ShortChannelId,
    #[serde(deserialize_with = "u64_flex")]
    capacity_msat: u64,
    #[serde(borrow)]
    node_1: SimPolicy<'a>,
    #[serde(borrow)]
    node_2: SimPolicy<'a>,
}

#[derive(Deserialize)]
struct SimPolicy<'a> {
    #[serde(borrow)]
    pubkey: Cow<'a, str>,
    #[serde(borrow, default)]
    alias: Option<Cow<'a, str>>,
    // Read so that a negative or non-numeric value is reported, then dropped: see
    // the module documentation.
    #[serde(default, deserialize_with = "opt_u64_flex")]
    #[allow(dead_code)]
    max_htlc_count: Option<u64>,
    #[serde(default, deserialize_with = "opt_u64_flex")]
    #[allow(dead_code)]
    max_in_flight_msat: Option<u64>,
    #[serde(deserialize_with = "u64_flex")]
    min_htlc_size_msat: u64,
    #[serde(deserialize_with = "u64_flex")]
    max_htlc_size_msat: u64,
    #[serde(deserialize_with = "u16_flex")]
    cltv_expiry_delta: u16,
    #[serde(deserialize_with = "u32_flex")]
    base_fee: u32,
    #[serde(deserialize_with = "u32_flex")]
    fee_rate_prop: u32,
}

impl SimPolicy<'_> {
    fn policy(&self) -> Policy {
        Policy {
            fee_base_msat: self.base_fee,
            fee_rate_ppm: self.fee_rate_prop,
            cltv_expiry_delta: self.cltv_expiry_delta,
            htlc_minimum_msat: self.min_htlc_size_msat,
            htlc_maximum_msat: self.max_htlc_size_msat,
            disabled: false,
            last_update: 0,
        }
    }
}

/// A short channel id from a JSON integer (what sim-ln writes and reads) or a string
/// in any spelling [`ShortChannelId::from_str`] knows.
fn scid_flex<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<ShortChannelId, D::Error> {
    struct ScidVisitor;

    impl Visitor<'_> for ScidVisitor {
        type Value = ShortChannelId;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a short channel id: a non-negative integer or BLOCKxTXxOUT")
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<ShortChannelId, E> {
            Ok(ShortChannelId(v))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<ShortChannelId, E> {
            u64::try_from(v)
                .map(ShortChannelId)
                .map_err(|_| E::custom(format_args!("negative value {v} is not allowed")))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<ShortChannelId, E> {
            Err(E::custom(format_args!("value {v} is not an integer")))
        }

        fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<ShortChannelId, E> {
            ShortChannelId::from_str(s).map_err(E::custom)
        }
    }

    d.deserialize_any(ScidVisitor)
}

/// Parses a compressed key, or an uncompressed one (which sim-ln's secp256k1 type
/// also accepts) re-encoded in compressed form.
fn parse_pubkey(s: &str) -> std::result::Result<NodePubkey, String> {
    match NodePubkey::from_hex(s) {
        Ok(k) => Ok(k),
        Err(e) if s.len() == 130 => bitcoin::secp256k1::PublicKey::from_str(s)
            .map_err(|_| {
                format!("invalid public key {s:?}: not a valid uncompressed secp256k1 point")
            })
            .and_then(|k| {
                NodePubkey::from_bytes(k.serialize())
                    .map_err(|_| format!("invalid public key {s:?}: {e}"))
            }),
        Err(e) => Err(format!("invalid public key {s:?}: {e}")),
    }
}

/// Parses a `sim.json` file.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Graph> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let file: SimFile =
        serde_path_to_error::deserialize(&mut de).map_err(|e| json_error(path, e))?;
    de.end().map_err(|e| GraphError::Syntax {
        path: path.to_path_buf(),
        what: format!("invalid JSON after the top-level object: {e}"),
    })?;

    let n = file.sim_network.len();
    let mut b = GraphBuilder::with_capacity(n / 4, n);
    for (i, ch) in file.sim_network.iter().enumerate() {
        let record = || format!("sim_network[{i}] (scid {})", ch.scid.0);
        let invalid =
            |field: &str, msg: String| GraphError::invalid(path, record(), Some(field), msg);

        if ch.capacity_msat % 1000 != 0 {
            return Err(invalid(
                "capacity_msat",
                format!(
                    "capacity {} msat is not a whole number of satoshis (flotilla keeps capacities in sat)",
                    ch.capacity_msat
                ),
            ));
        }
        let endpoint = |b: &mut GraphBuilder, side: &SimPolicy, field: &str| -> Result<NodeIdx> {
            // A key seen before was validated then; only new ones need the curve check.
            let known = NodePubkey::from_hex_unchecked(&side.pubkey)
                .ok()
                .and_then(|k| b.node_by_pubkey(&k));
            let node = match known {
                Some(n) => n,
                None => {
                    b.node_or_insert(parse_pubkey(&side.pubkey).map_err(|m| invalid(field, m))?)
                }
            };
            // sim-ln names a node once per channel; the first non-empty alias wins.
            if let Some(alias) = side.alias.as_deref().filter(|a| !a.is_empty()) {
                let node = b.node_mut(node);
                if node.alias.is_empty() {
                    node.alias = alias.to_string();
                }
            }
            Ok(node)
        };
        let a = endpoint(&mut b, &ch.node_1, "node_1.pubkey")?;
        let z = endpoint(&mut b, &ch.node_2, "node_2.pubkey")?;
        let channel = Channel {
            scid: ch.scid,
            nodes: [a, z],
            capacity_sat: ch.capacity_msat / 1000,
            policies: [Some(ch.node_1.policy()), Some(ch.node_2.policy())],
            chan_point: None,
            last_update: 0,
        };
        b.add_channel(channel).map_err(|err| {
            let field = match err {
                BuildError::SelfLoop(_) => "node_2.pubkey",
                BuildError::CapacityAboveSupply { .. } => "capacity_msat",
                _ => "scid",
            };
            invalid(field, err.to_string())
        })?;
    }
    Ok(b.build())
}
