//! Core Lightning `listchannels` JSON: one object per channel direction.
//!
//! Amounts come as integers or `"…msat"` strings depending on the CLN version;
//! `satoshis` is older, `amount_msat` newer. The direction is BOLT 7's: the
//! announcing `source` is `node_1` when its key sorts first.

use std::borrow::Cow;
use std::path::Path;

use serde::Deserialize;

use crate::error::{GraphError, Result};
use crate::graph::{BuildError, Graph, GraphBuilder};
use crate::import::json_error;
use crate::import::numbers::{msat_flex, opt_msat_flex, opt_u64_flex, u16_flex, u32_flex};
use crate::types::{Channel, Direction, NodePubkey, Policy, ShortChannelId};
use crate::warnings::Warning;

#[derive(Deserialize)]
struct Dump<'a> {
    #[serde(borrow)]
    channels: Vec<Entry<'a>>,
}

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow)]
    source: Cow<'a, str>,
    #[serde(borrow)]
    destination: Cow<'a, str>,
    #[serde(borrow)]
    short_channel_id: Cow<'a, str>,
    #[serde(default, deserialize_with = "opt_u64_flex")]
    satoshis: Option<u64>,
    #[serde(default, deserialize_with = "opt_msat_flex")]
    amount_msat: Option<u64>,
    #[serde(default, deserialize_with = "u32_flex")]
    channel_flags: u32,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default, deserialize_with = "u32_flex")]
    last_update: u32,
    #[serde(deserialize_with = "u32_flex")]
    base_fee_millisatoshi: u32,
    #[serde(deserialize_with = "u32_flex")]
    fee_per_millionth: u32,
    #[serde(deserialize_with = "u16_flex")]
    delay: u16,
    #[serde(deserialize_with = "msat_flex")]
    htlc_minimum_msat: u64,
    #[serde(default, deserialize_with = "opt_msat_flex")]
    htlc_maximum_msat: Option<u64>,
}

/// Parses a listchannels dump.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Graph> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let dump: Dump = serde_path_to_error::deserialize(&mut de).map_err(|e| json_error(path, e))?;
    de.end().map_err(|e| GraphError::Syntax {
        path: path.to_path_buf(),
        what: format!("invalid JSON after the top-level object: {e}"),
    })?;

    let mut b = GraphBuilder::with_capacity(dump.channels.len() / 6, dump.channels.len() / 2);
    for (i, e) in dump.channels.iter().enumerate() {
        let record = || format!("channels[{i}] (short_channel_id {})", e.short_channel_id);
        let invalid =
            |field: &str, msg: String| GraphError::invalid(path, record(), Some(field), msg);
        let key = |b: &GraphBuilder, s: &str, field: &str| -> Result<NodePubkey> {
            match NodePubkey::from_hex_unchecked(s) {
                Ok(k) if b.node_by_pubkey(&k).is_some() => Ok(k),
                _ => NodePubkey::from_hex(s)
                    .map_err(|err| invalid(field, format!("invalid public key {s:?}: {err}"))),
            }
        };
        let src = key(&b, &e.source, "source")?;
        let dst = key(&b, &e.destination, "destination")?;
        if src == dst {
            return Err(invalid(
                "destination",
                BuildError::SelfLoop(src).to_string(),
            ));
        }
        let scid: ShortChannelId =
            e.short_channel_id
                .parse()
                .map_err(|err: crate::types::ScidParseError| {
                    invalid("short_channel_id", err.to_string())
                })?;
        let capacity_sat = match (e.amount_msat, e.satoshis) {
            (Some(msat), _) => msat / 1000,
            (None, Some(sat)) => sat,
            (None, None) => {
                return Err(invalid(
                    "amount_msat",
                    "missing: neither `amount_msat` nor `satoshis` is given".into(),
                ))
            }
        };
        let (first, second) = if src < dst { (src, dst) } else { (dst, src) };
        let dir = if src == first {
            Direction::AToB
        } else {
            Direction::BToA
        };
        if (e.channel_flags & 1 == 1) != (dir == Direction::BToA) {
            b.warn(Warning::DirectionFlagMismatch, || scid.to_string());
        }
        let disabled = match e.active {
            Some(active) => !active,
            None => e.channel_flags & 2 != 0,
        };
        let policy = Policy {
            fee_base_msat: e.base_fee_millisatoshi,
            fee_rate_ppm: e.fee_per_millionth,
            cltv_expiry_delta: e.delay,
            htlc_minimum_msat: e.htlc_minimum_msat,
            htlc_maximum_msat: e.htlc_maximum_msat.unwrap_or_else(|| {
                b.warn(Warning::HtlcMaxMissing, || scid.to_string());
                capacity_sat.saturating_mul(1000)
            }),
            disabled,
            last_update: e.last_update,
        };
        let a = b.node_or_insert(first);
        let z = b.node_or_insert(second);
        match b.channel_by_scid(scid) {
            Some(c) => {
                let ch = b.channel_mut(c);
                if ch.nodes != [a, z] {
                    return Err(invalid(
                        "source",
                        format!("duplicate channel id {scid}: an earlier entry joins other nodes"),
                    ));
                }
                if ch.policies[dir.ix()].is_some() {
                    return Err(invalid(
                        "short_channel_id",
                        format!(
                            "duplicate channel id {scid}: direction from this source given twice"
                        ),
                    ));
                }
                ch.policies[dir.ix()] = Some(policy);
                ch.last_update = ch.last_update.max(e.last_update);
                let mismatch = ch.capacity_sat != capacity_sat;
                if mismatch {
                    b.raise_capacity(c, capacity_sat)
                        .map_err(|err| invalid("amount_msat", err.to_string()))?;
                    b.warn(Warning::CapacityMismatch, || scid.to_string());
                }
            }
            None => {
                let mut policies = [None, None];
                policies[dir.ix()] = Some(policy);
                b.add_channel(Channel {
                    scid,
                    nodes: [a, z],
                    capacity_sat,
                    policies,
                    chan_point: None,
                    last_update: e.last_update,
                })
                .map_err(|err| {
                    let field = match err {
                        BuildError::CapacityAboveSupply { .. } => "amount_msat",
                        _ => "short_channel_id",
                    };
                    invalid(field, err.to_string())
                })?;
            }
        }
    }
    Ok(b.build())
}
