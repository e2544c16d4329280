//! A node's own forwarding policy: what it announces for its direction of each of its
//! channels and what its forwarding checks enforce (the ln engine's forward checks read
//! the node's own direction from the directory, so announcing is enforcing).
//!
//! Each end of a channel chooses its own direction's policy: the node's defaults
//! (`node run --fee-base-msat …`, kept in `DIR/node-config.json`), replaced field by
//! field by `open-channel`'s flags for the opener's side, and changed later by
//! `set-policy` (a new signed announcement with a newer timestamp). The policy a
//! channel opened with is part of the logged `open` input, so a replay rebuilds the
//! same announcements whatever the defaults are by then.

use flotilla_graph::Policy;
use flotilla_ln::config::ChannelParams;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The policy a node sets for its direction of a channel (what BOLT 7's
/// `channel_update` carries, less the timestamp and flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnPolicy {
    /// `fee_base_msat`.
    pub fee_base_msat: u32,
    /// `fee_proportional_millionths`.
    pub fee_rate_ppm: u32,
    /// `cltv_expiry_delta`, blocks.
    pub cltv_expiry_delta: u16,
    /// `htlc_minimum_msat`.
    pub htlc_minimum_msat: u64,
    /// `htlc_maximum_msat`; `None`: the channel's capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub htlc_maximum_msat: Option<u64>,
}

impl Default for OwnPolicy {
    /// BOLT 7's common defaults: 1,000 msat + 1 ppm, a CLTV delta of 40, HTLCs from
    /// 1 msat to the capacity.
    fn default() -> Self {
        OwnPolicy {
            fee_base_msat: 1000,
            fee_rate_ppm: 1,
            cltv_expiry_delta: 40,
            htlc_minimum_msat: 1,
            htlc_maximum_msat: None,
        }
    }
}

/// Fields of an [`OwnPolicy`] to replace (a command's flags; absent: unchanged).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyChange {
    /// New `fee_base_msat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_base_msat: Option<u32>,
    /// New `fee_rate_ppm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_rate_ppm: Option<u32>,
    /// New `cltv_expiry_delta`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cltv_expiry_delta: Option<u16>,
    /// New `htlc_minimum_msat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub htlc_minimum_msat: Option<u64>,
    /// New `htlc_maximum_msat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub htlc_maximum_msat: Option<u64>,
}

impl PolicyChange {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == PolicyChange::default()
    }

    /// `base` with the replaced fields.
    pub fn apply(&self, base: OwnPolicy) -> OwnPolicy {
        OwnPolicy {
            fee_base_msat: self.fee_base_msat.unwrap_or(base.fee_base_msat),
            fee_rate_ppm: self.fee_rate_ppm.unwrap_or(base.fee_rate_ppm),
            cltv_expiry_delta: self.cltv_expiry_delta.unwrap_or(base.cltv_expiry_delta),
            htlc_minimum_msat: self.htlc_minimum_msat.unwrap_or(base.htlc_minimum_msat),
            htlc_maximum_msat: self.htlc_maximum_msat.or(base.htlc_maximum_msat),
        }
    }
}

/// The most blocks a hop may add: BOLT 7 has no bound, but an HTLC's expiry must stay
/// within about two weeks (`flotilla_ln`'s max expiry is 2,016 blocks), so a larger
/// delta could never forward anything.
pub const MAX_CLTV_EXPIRY_DELTA: u16 = 2016;

impl OwnPolicy {
    /// Checks the policy against the node's own sense (the node-wide defaults, with no
    /// channel): one line naming the field when refused.
    pub fn check(&self) -> Result<(), String> {
        if self.cltv_expiry_delta == 0 || self.cltv_expiry_delta > MAX_CLTV_EXPIRY_DELTA {
            return Err(format!(
                "cltv_expiry_delta {} must be 1 to {MAX_CLTV_EXPIRY_DELTA} blocks",
                self.cltv_expiry_delta
            ));
        }
        if self.htlc_minimum_msat == 0 {
            return Err(
                "htlc_minimum_msat must be at least 1 (BOLT 2 forbids a zero-value HTLC)".into(),
            );
        }
        if let Some(max) = self.htlc_maximum_msat {
            if max < self.htlc_minimum_msat {
                return Err(format!(
                    "htlc_maximum_msat {max} is below htlc_minimum_msat {}",
                    self.htlc_minimum_msat
                ));
            }
        }
        Ok(())
    }

    /// Checks the policy for a channel of `capacity_sat`.
    pub fn check_for(&self, capacity_sat: u64) -> Result<(), String> {
        self.check()?;
        let cap = capacity_sat.saturating_mul(1000);
        if self.htlc_minimum_msat > cap {
            return Err(format!(
                "htlc_minimum_msat {} is above the channel's capacity ({cap} msat)",
                self.htlc_minimum_msat
            ));
        }
        if let Some(max) = self.htlc_maximum_msat {
            if max > cap {
                return Err(format!(
                    "htlc_maximum_msat {max} is above the channel's capacity ({cap} msat)"
                ));
            }
        }
        Ok(())
    }

    /// The announced policy for a channel of `capacity_sat` at `timestamp`.
    pub fn to_policy(&self, capacity_sat: u64, timestamp: u32) -> Policy {
        Policy {
            fee_base_msat: self.fee_base_msat,
            fee_rate_ppm: self.fee_rate_ppm,
            cltv_expiry_delta: self.cltv_expiry_delta,
            htlc_minimum_msat: self.htlc_minimum_msat,
            htlc_maximum_msat: self
                .htlc_maximum_msat
                .unwrap_or_else(|| capacity_sat.saturating_mul(1000)),
            disabled: false,
            last_update: timestamp,
        }
    }

    /// An announced policy read back (the maximum kept as given).
    pub fn of(p: &Policy) -> OwnPolicy {
        OwnPolicy {
            fee_base_msat: p.fee_base_msat,
            fee_rate_ppm: p.fee_rate_ppm,
            cltv_expiry_delta: p.cltv_expiry_delta,
            htlc_minimum_msat: p.htlc_minimum_msat,
            htlc_maximum_msat: Some(p.htlc_maximum_msat),
        }
    }
}

/// The BOLT 2 channel parameters of one channel, as the open exchange settled them:
/// what each side imposes on HTLCs the other offers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenParams {
    /// This node's (it enforces them on arrival).
    pub local: ChannelParams,
    /// The peer's (this node keeps to them when it offers).
    pub remote: ChannelParams,
}

/// Checks a peer's channel parameters for a channel of `capacity_sat` before it is
/// accepted: BOLT 2's rules (dust limit at least 354 sat, 1–483 HTLC slots, a
/// non-zero in-flight cap, a reserve that leaves the channel usable) and the
/// channel's size. One line naming the field when refused.
pub fn check_peer_params(p: &ChannelParams, capacity_sat: u64) -> Result<(), String> {
    p.validate().map_err(|e| e.to_string())?;
    let cap = capacity_sat.saturating_mul(1000);
    // BOLT 2 lets a receiver refuse a reserve it finds unreasonable; more than a fifth
    // of the channel is what LDK refuses too.
    if p.reserve_msat(cap) > cap / 5 {
        return Err(format!(
            "channel_reserve: {} msat is more than a fifth of the capacity ({cap} msat)",
            p.reserve_msat(cap)
        ));
    }
    if p.htlc_minimum_msat > cap {
        return Err(format!(
            "htlc_minimum_msat {} is above the capacity ({cap} msat)",
            p.htlc_minimum_msat
        ));
    }
    if p.dust_limit_msat() > cap {
        return Err(format!(
            "dust_limit_sat {} is above the capacity ({capacity_sat} sat)",
            p.dust_limit_sat
        ));
    }
    Ok(())
}

/// A policy as `channels --json` and `set-policy --json` show it.
pub fn policy_json(p: &Policy) -> Value {
    json!({
        "fee_base_msat": p.fee_base_msat,
        "fee_rate_ppm": p.fee_rate_ppm,
        "cltv_expiry_delta": p.cltv_expiry_delta,
        "htlc_minimum_msat": p.htlc_minimum_msat,
        "htlc_maximum_msat": p.htlc_maximum_msat,
        "timestamp": p.last_update,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_apply_field_by_field_and_bad_policies_are_named() {
        let p = PolicyChange {
            fee_rate_ppm: Some(250),
            ..PolicyChange::default()
        }
        .apply(OwnPolicy::default());
        assert_eq!(p.fee_rate_ppm, 250);
        assert_eq!(p.fee_base_msat, 1000);
        assert!(p.check_for(1).is_ok());
        let bad = OwnPolicy {
            cltv_expiry_delta: 0,
            ..p
        };
        assert!(bad.check().unwrap_err().contains("cltv_expiry_delta"));
        let bad = OwnPolicy {
            htlc_maximum_msat: Some(2_000_000),
            ..p
        };
        assert!(bad.check_for(2000).is_ok());
        assert!(bad.check_for(1).unwrap_err().contains("htlc_maximum_msat"));
        let bad = OwnPolicy {
            htlc_minimum_msat: 0,
            ..p
        };
        assert!(bad.check().unwrap_err().contains("htlc_minimum_msat"));
        assert_eq!(p.to_policy(5, 9).htlc_maximum_msat, 5000);
    }
}
