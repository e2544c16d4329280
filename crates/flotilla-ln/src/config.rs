//! Per-node settings: the BOLT 2 channel limits a node imposes on its peers, what it
//! accepts as a receiver, how it behaves, and policy overrides for scenarios.
//!
//! BOLT 2 limits are set by the node that *receives* HTLCs and constrain the peer that
//! offers them (`open_channel`/`accept_channel`): `max_accepted_htlcs`,
//! `max_htlc_value_in_flight_msat`, `channel_reserve_satoshis` and `htlc_minimum_msat`
//! of node B bound what A may offer B over their channel. BOLT 2 leaves their values to
//! each node; they are [`ChannelParams`], one set per node for all of its channels,
//! which is how implementations configure them in practice, and a scenario can set them
//! for every node and per node (CLoTH, for one, has no reserve).

use std::time::Duration;

use flotilla_graph::{Graph, NodeIdx, Policy};
use serde::{Deserialize, Serialize};

/// BOLT 2: `max_accepted_htlcs` may not exceed 483, so that a commitment transaction with
/// every HTLC on it stays within the standard transaction size.
pub const MAX_ACCEPTED_HTLCS_LIMIT: u16 = 483;

/// BOLT 2/3: the smallest allowed `dust_limit_satoshis`. 354 sat is the dust threshold of
/// the costliest standard segwit output (BOLT 3 "Dust Limits"); 546 sat is the legacy
/// P2PKH threshold some implementations still default to.
pub const MIN_DUST_LIMIT_SAT: u64 = 354;

/// BOLT 4 `max_htlc_cltv`: an HTLC expiring more than 2016 blocks ahead is refused with
/// `expiry_too_far`.
pub const MAX_HTLC_CLTV: u32 = 2016;

/// How a node treats the HTLCs it gets.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Behaviour {
    /// Follows the protocol.
    #[default]
    Honest,
    /// Holds every HTLC it is offered (forwarding or receiving) without acting on it until
    /// the HTLC's CLTV expiry, when its peer times it out (a griefing/jamming node). The
    /// network emits an expiry timer that the driver fires.
    Hodl,
    /// A receiver that does not check `payment_secret` (pre-2021 software): a probing
    /// hop can tell it apart, which the probing scenario measures.
    LegacyReceiver,
    /// A redundant-payment receiver that tries to claim every held part, not only those
    /// whose secrets the sender revealed (re-using revealed secrets, or a guess where
    /// none was revealed). Every such claim is refused by the lock check and counted in
    /// [`crate::network::HtlcCounters::overclaim_attempts`]; the test case for "no
    /// receiver keeps more than A".
    CheatingReceiver,
}

/// Replaces fields of every policy a node announces: a scenario's "what if this node
/// changed its fees". Applied to the node's own forwarding checks and, through
/// [`apply_policy_overrides`], to the graph routers see.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PolicyOverride {
    /// New `fee_base_msat`.
    pub fee_base_msat: Option<u32>,
    /// New `fee_proportional_millionths`.
    pub fee_rate_ppm: Option<u32>,
    /// New `cltv_expiry_delta`.
    pub cltv_expiry_delta: Option<u16>,
    /// New `htlc_minimum_msat`.
    pub htlc_minimum_msat: Option<u64>,
}

impl PolicyOverride {
    /// A zero-fee router: base 0, rate 0.
    pub fn zero_fee() -> Self {
        PolicyOverride {
            fee_base_msat: Some(0),
            fee_rate_ppm: Some(0),
            ..Default::default()
        }
    }

    /// Writes the override into `p`.
    pub fn apply(&self, p: &mut Policy) {
        if let Some(v) = self.fee_base_msat {
            p.fee_base_msat = v;
        }
        if let Some(v) = self.fee_rate_ppm {
            p.fee_rate_ppm = v;
        }
        if let Some(v) = self.cltv_expiry_delta {
            p.cltv_expiry_delta = v;
        }
        if let Some(v) = self.htlc_minimum_msat {
            p.htlc_minimum_msat = v;
        }
    }
}

/// The channel parameters BOLT 2 leaves to each node (`open_channel` /
/// `accept_channel`), for all of the node's channels. All but the dust exposure cap
/// constrain the *peer* that offers this node HTLCs. In a scenario they are
/// `[network.channel]` (every node) and `channel` in `[[network.overrides]]` (one node).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelParams {
    /// `max_accepted_htlcs`: most HTLCs a peer may have offered to this node at once per
    /// channel (BOLT 2: 1..=[`MAX_ACCEPTED_HTLCS_LIMIT`]). Default 483.
    pub max_accepted_htlcs: u16,
    /// `max_htlc_value_in_flight_msat`: most value a peer may have offered to this node
    /// at once per channel, msat; `None` (the default) means the channel capacity, i.e.
    /// no extra cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_htlc_value_in_flight_msat: Option<u64>,
    /// `channel_reserve_satoshis`, as millionths of the capacity: what a peer must keep
    /// on its side of each channel (BOLT 2 recommends 1%: 10,000, the default). Never
    /// below the dust limit (BOLT 2: `channel_reserve_satoshis` ≥
    /// `dust_limit_satoshis`); 0 disables it (as CLoTH does).
    pub channel_reserve_ppm: u32,
    /// `dust_limit_satoshis` (default 354, the BOLT minimum). HTLCs below it are trimmed
    /// from this node's commitment transaction: they still move balances and count
    /// against every limit, but would go to miners on a force close.
    pub dust_limit_sat: u64,
    /// `htlc_minimum_msat`: the smallest HTLC this node accepts; a peer must not offer
    /// less (a forwarder answers `amount_below_minimum`). Default 1 (LDK's and lnd's;
    /// BOLT 2 forbids a zero-value HTLC anyway).
    pub htlc_minimum_msat: u64,
    /// Most value this node lets sit in dust HTLCs on one channel (both directions),
    /// msat, when it offers one. Not BOLT, but every implementation caps it; `None` (the
    /// default) disables the cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_dust_htlc_exposure_msat: Option<u64>,
}

impl Default for ChannelParams {
    fn default() -> Self {
        ChannelParams {
            max_accepted_htlcs: MAX_ACCEPTED_HTLCS_LIMIT,
            max_htlc_value_in_flight_msat: None,
            channel_reserve_ppm: 10_000,
            dust_limit_sat: MIN_DUST_LIMIT_SAT,
            htlc_minimum_msat: 1,
            max_dust_htlc_exposure_msat: None,
        }
    }
}

impl ChannelParams {
    /// Checks the BOLT 2 bounds.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_accepted_htlcs == 0 || self.max_accepted_htlcs > MAX_ACCEPTED_HTLCS_LIMIT {
            return Err(ConfigError::MaxAcceptedHtlcs(self.max_accepted_htlcs));
        }
        if self.dust_limit_sat < MIN_DUST_LIMIT_SAT {
            return Err(ConfigError::DustLimit(self.dust_limit_sat));
        }
        if self.channel_reserve_ppm > 1_000_000 {
            return Err(ConfigError::Reserve(self.channel_reserve_ppm));
        }
        if self.max_htlc_value_in_flight_msat == Some(0) {
            return Err(ConfigError::InFlight);
        }
        Ok(())
    }

    /// The reserve this node requires its peer to keep on a channel of `capacity_msat`.
    #[inline]
    pub fn reserve_msat(&self, capacity_msat: u64) -> u64 {
        if self.channel_reserve_ppm == 0 {
            return 0;
        }
        let share = (capacity_msat as u128 * self.channel_reserve_ppm as u128 / 1_000_000) as u64;
        share
            .max(self.dust_limit_sat.saturating_mul(1000))
            .min(capacity_msat)
    }

    /// The in-flight cap this node imposes on a channel of `capacity_msat`.
    #[inline]
    pub fn max_in_flight_msat(&self, capacity_msat: u64) -> u64 {
        self.max_htlc_value_in_flight_msat.unwrap_or(capacity_msat)
    }

    /// The dust limit in msat.
    #[inline]
    pub fn dust_limit_msat(&self) -> u64 {
        self.dust_limit_sat.saturating_mul(1000)
    }
}

/// Some of one node's [`ChannelParams`] replaced (a scenario's per-node override);
/// fields left `None` keep the value every node has.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelParamsOverride {
    /// New `max_accepted_htlcs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_accepted_htlcs: Option<u16>,
    /// New `max_htlc_value_in_flight_msat`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_htlc_value_in_flight_msat: Option<u64>,
    /// New `channel_reserve_ppm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_reserve_ppm: Option<u32>,
    /// New `dust_limit_sat`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dust_limit_sat: Option<u64>,
    /// New `htlc_minimum_msat`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub htlc_minimum_msat: Option<u64>,
    /// New `max_dust_htlc_exposure_msat`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_dust_htlc_exposure_msat: Option<u64>,
}

impl ChannelParamsOverride {
    /// Whether it replaces nothing.
    pub fn is_empty(&self) -> bool {
        *self == ChannelParamsOverride::default()
    }

    /// `base` with the replaced fields.
    pub fn apply(&self, base: ChannelParams) -> ChannelParams {
        ChannelParams {
            max_accepted_htlcs: self.max_accepted_htlcs.unwrap_or(base.max_accepted_htlcs),
            max_htlc_value_in_flight_msat: self
                .max_htlc_value_in_flight_msat
                .or(base.max_htlc_value_in_flight_msat),
            channel_reserve_ppm: self.channel_reserve_ppm.unwrap_or(base.channel_reserve_ppm),
            dust_limit_sat: self.dust_limit_sat.unwrap_or(base.dust_limit_sat),
            htlc_minimum_msat: self.htlc_minimum_msat.unwrap_or(base.htlc_minimum_msat),
            max_dust_htlc_exposure_msat: self
                .max_dust_htlc_exposure_msat
                .or(base.max_dust_htlc_exposure_msat),
        }
    }
}

/// One node's settings. [`NodeConfig::default`] is a typical honest, online node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeConfig {
    /// The channel parameters this node sets for all of its channels.
    pub channel: ChannelParams,
    /// Whether this node accepts keysend payments. Default true.
    pub accept_keysend: bool,
    /// `min_final_cltv_expiry_delta` for payments without an invoice (keysend); an
    /// invoice carries its own. Default 18, BOLT 11's default.
    pub min_final_cltv_expiry_delta: u32,
    /// A forward whose outgoing expiry is within this many blocks of the current height
    /// fails with `expiry_too_soon`. Default 3 (LDK's latency grace period).
    pub expiry_too_soon_blocks: u32,
    /// How long an incomplete MPP set is held before every part fails with
    /// `mpp_timeout`. Default 60 s (BOLT 4's "at least 60 seconds").
    pub mpp_timeout: Duration,
    /// How long this node keeps trying to reach an offline next peer before it fails
    /// the HTLC back with `unknown_next_peer` (a TCP connection attempt timing out).
    /// The HTLC stays locked meanwhile. Default 0: fail at once.
    pub offline_peer_timeout: Duration,
    /// Offline nodes are unreachable: a hop that would forward to one fails with
    /// `unknown_next_peer`. Default true.
    pub online: bool,
    /// See [`Behaviour`].
    pub behaviour: Behaviour,
    /// Whether this node understands `h2tlc` locks (the feature bit). A node without it
    /// fails an `h2tlc` HTLC offered to it with `required_node_feature_missing`.
    /// Default true.
    pub supports_h2tlc: bool,
    /// Whether this node forwards point-locked HTLCs (PTLCs, which `boomerang` parts
    /// are). A node without it fails such an add with `required_node_feature_missing`.
    /// Default true.
    pub supports_ptlc: bool,
    /// Replaces fields of every policy this node announces.
    pub policy_override: Option<PolicyOverride>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            channel: ChannelParams::default(),
            accept_keysend: true,
            min_final_cltv_expiry_delta: 18,
            expiry_too_soon_blocks: 3,
            mpp_timeout: Duration::from_secs(60),
            offline_peer_timeout: Duration::ZERO,
            online: true,
            behaviour: Behaviour::Honest,
            supports_h2tlc: true,
            supports_ptlc: true,
            policy_override: None,
        }
    }
}

/// A setting outside what BOLT 2 allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `max_accepted_htlcs` is 0 or above 483.
    #[error("max_accepted_htlcs must be 1..=483, got {0}")]
    MaxAcceptedHtlcs(u16),
    /// `dust_limit_satoshis` below 354.
    #[error(
        "dust_limit_sat must be at least 354 (BOLT 3's smallest dust_limit_satoshis), got {0}"
    )]
    DustLimit(u64),
    /// `channel_reserve_ppm` above 1,000,000 (more than the whole channel).
    #[error("channel_reserve_ppm must be at most 1000000, got {0}")]
    Reserve(u32),
    /// `max_htlc_value_in_flight_msat` of 0: no HTLC could ever be offered.
    #[error("max_htlc_value_in_flight_msat must be at least 1 (leave it out for no cap)")]
    InFlight,
}

impl ConfigError {
    /// The [`ChannelParams`] field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            ConfigError::MaxAcceptedHtlcs(_) => "max_accepted_htlcs",
            ConfigError::DustLimit(_) => "dust_limit_sat",
            ConfigError::Reserve(_) => "channel_reserve_ppm",
            ConfigError::InFlight => "max_htlc_value_in_flight_msat",
        }
    }
}

impl NodeConfig {
    /// Checks the BOLT 2 bounds.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.channel.validate()
    }
}

/// The graph with every node's [`PolicyOverride`] applied, or `None` when no node has
/// one. The network forwards by this graph; give it to routers that should know the
/// overrides (those that should not, e.g. to model stale gossip, keep the original).
pub fn apply_policy_overrides(graph: &Graph, configs: &[NodeConfig]) -> Option<Graph> {
    let mut out: Option<Graph> = None;
    for (i, cfg) in configs.iter().enumerate() {
        if let Some(o) = cfg.policy_override {
            let base = out.as_ref().unwrap_or(graph);
            out = Some(base.with_node_policies(NodeIdx(i as u32), |p| o.apply(p)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bolt_like() {
        NodeConfig::default().validate().unwrap();
        let c = ChannelParams::default();
        assert_eq!(c.max_accepted_htlcs, 483);
        // 1% of 1 M sat.
        assert_eq!(c.reserve_msat(1_000_000_000), 10_000_000);
        // Small channels: the reserve is never below the dust limit.
        assert_eq!(c.reserve_msat(20_000_000), 354_000);
        assert_eq!(c.max_in_flight_msat(5), 5);
    }

    #[test]
    fn out_of_range_settings_are_refused() {
        let mut c = ChannelParams {
            max_accepted_htlcs: 484,
            ..Default::default()
        };
        assert_eq!(c.validate(), Err(ConfigError::MaxAcceptedHtlcs(484)));
        c.max_accepted_htlcs = 10;
        c.dust_limit_sat = 300;
        assert_eq!(c.validate(), Err(ConfigError::DustLimit(300)));
        c.dust_limit_sat = 354;
        c.max_htlc_value_in_flight_msat = Some(0);
        assert_eq!(
            c.validate().map_err(|e| e.field()),
            Err("max_htlc_value_in_flight_msat")
        );
    }

    #[test]
    fn an_override_replaces_only_what_it_names() {
        let base = ChannelParams {
            max_htlc_value_in_flight_msat: Some(5),
            ..Default::default()
        };
        let o = ChannelParamsOverride {
            channel_reserve_ppm: Some(0),
            ..Default::default()
        };
        assert!(!o.is_empty() && ChannelParamsOverride::default().is_empty());
        let p = o.apply(base);
        assert_eq!(p.channel_reserve_ppm, 0);
        assert_eq!(p.max_htlc_value_in_flight_msat, Some(5));
        assert_eq!(p.max_accepted_htlcs, base.max_accepted_htlcs);
    }

    #[test]
    fn zero_reserve_is_zero() {
        let c = ChannelParams {
            channel_reserve_ppm: 0,
            ..Default::default()
        };
        assert_eq!(c.reserve_msat(1_000_000_000), 0);
    }
}
