//! Records that are odd but usable: imported, counted, and shown by `graph stats`.

use std::collections::BTreeMap;
use std::fmt;

/// A kind of oddity found while importing.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Warning {
    /// A policy's `htlc_maximum_msat` exceeds the channel capacity (routers cap it).
    HtlcMaxAboveCapacity,
    /// A policy's `htlc_minimum_msat` exceeds its `htlc_maximum_msat` (nothing can pass).
    HtlcMinAboveMax,
    /// A channel of zero capacity.
    ZeroCapacity,
    /// A policy without `htlc_maximum_msat` (older lnd); the capacity stands in for it.
    HtlcMaxMissing,
    /// The two directions of a channel disagree on its capacity; the larger is kept.
    CapacityMismatch,
    /// A `listchannels` entry whose `channel_flags` direction bit contradicts BOLT 7
    /// key order; the key order wins.
    DirectionFlagMismatch,
    /// A channel that the export format cannot carry was left out of the export.
    ChannelNotExported,
    /// An alias that several exported nodes share, made unique for a format whose
    /// readers refuse duplicates (sim-ln): the node's key prefix is appended.
    AliasRenamed,
}

impl Warning {
    /// A stable snake_case name, used as the JSON key.
    pub fn key(self) -> &'static str {
        match self {
            Warning::HtlcMaxAboveCapacity => "htlc_max_above_capacity",
            Warning::HtlcMinAboveMax => "htlc_min_above_max",
            Warning::ZeroCapacity => "zero_capacity",
            Warning::HtlcMaxMissing => "htlc_max_missing",
            Warning::CapacityMismatch => "capacity_mismatch",
            Warning::DirectionFlagMismatch => "direction_flag_mismatch",
            Warning::ChannelNotExported => "channel_not_exported",
            Warning::AliasRenamed => "alias_renamed",
        }
    }

    /// What it means, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Warning::HtlcMaxAboveCapacity => "policy htlc_maximum_msat above channel capacity",
            Warning::HtlcMinAboveMax => "policy htlc_minimum_msat above htlc_maximum_msat",
            Warning::ZeroCapacity => "channel with zero capacity",
            Warning::HtlcMaxMissing => "policy without htlc_maximum_msat (capacity used)",
            Warning::CapacityMismatch => "directions disagree on capacity (larger kept)",
            Warning::DirectionFlagMismatch => "channel_flags direction contradicts key order",
            Warning::ChannelNotExported => "channels without an enabled policy in both directions",
            Warning::AliasRenamed => {
                "nodes whose alias another node shares, renamed ALIAS-<first 8 hex digits of the key>"
            }
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// How often each warning occurred, with the first example of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warnings {
    by_kind: BTreeMap<Warning, (u64, String)>,
}

impl Warnings {
    /// Counts one occurrence; `example` is evaluated only for the first.
    pub fn add(&mut self, w: Warning, example: impl FnOnce() -> String) {
        self.by_kind
            .entry(w)
            .and_modify(|(n, _)| *n += 1)
            .or_insert_with(|| (1, example()));
    }

    /// How often `w` occurred.
    pub fn count(&self, w: Warning) -> u64 {
        self.by_kind.get(&w).map(|(n, _)| *n).unwrap_or(0)
    }

    /// Every warning that occurred, with its count and first example, in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = (Warning, u64, &str)> + '_ {
        self.by_kind
            .iter()
            .map(|(w, (n, ex))| (*w, *n, ex.as_str()))
    }

    /// Whether nothing was odd.
    pub fn is_empty(&self) -> bool {
        self.by_kind.is_empty()
    }
}
