//! One side of a channel as a node books it, and the limits an add must respect.
//!
//! An [`EdgeState`] is a side's balance and the HTLCs that side has offered; each node's
//! [`crate::node::ChannelEnd`] keeps two, its own side and its peer's as it knows them,
//! and applies the BOLT 2/3 rules described there ([`AddLimits`], [`AddError`]).

/// One side of a channel: its owner's balance and the HTLCs that owner has offered.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct EdgeState {
    /// What the edge's source owns and can still offer, msat.
    pub balance_msat: u64,
    /// Sum of the unresolved HTLCs the source has offered over this edge, msat.
    pub pending_msat: u64,
    /// How many HTLCs those are.
    pub pending_count: u32,
    /// The part of `pending_msat` in dust HTLCs.
    pub dust_msat: u64,
}

/// The limits an offer over one edge must respect; built per offer from both nodes'
/// configs and the edge's policy.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct AddLimits {
    /// The receiving peer's `htlc_minimum_msat`.
    pub htlc_minimum_msat: u64,
    /// Reserve the offerer must keep (set by the receiving peer).
    pub reserve_msat: u64,
    /// The receiving peer's `max_accepted_htlcs`.
    pub max_accepted_htlcs: u16,
    /// The receiving peer's `max_htlc_value_in_flight_msat`.
    pub max_in_flight_msat: u64,
    /// The edge policy's `htlc_maximum_msat` (`u64::MAX` for the sender's own payments).
    pub htlc_maximum_msat: u64,
    /// The offerer's cap on dust in this channel, both directions.
    pub max_dust_exposure_msat: Option<u64>,
}

/// Why an HTLC cannot be added. Every variant is a `temporary_channel_failure`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum AddError {
    /// Below the receiving peer's `htlc_minimum_msat`.
    #[error("amount below the peer's htlc_minimum_msat {0}")]
    BelowMinimum(u64),
    /// The offerer's balance minus its reserve is below the amount.
    #[error("insufficient balance: {available_msat} msat spendable above the reserve, {amount_msat} msat needed")]
    Liquidity {
        /// Balance minus reserve.
        available_msat: u64,
        /// The HTLC.
        amount_msat: u64,
    },
    /// The peer's `max_accepted_htlcs` is reached.
    #[error("no HTLC slot: {0} HTLCs already offered")]
    NoSlot(u32),
    /// The peer's `max_htlc_value_in_flight_msat` would be exceeded.
    #[error("in-flight cap of {0} msat would be exceeded")]
    InFlightCap(u64),
    /// Above the policy's `htlc_maximum_msat`.
    #[error("amount above htlc_maximum_msat {0}")]
    AboveMaximum(u64),
    /// The offerer's dust exposure cap would be exceeded.
    #[error("dust exposure cap of {0} msat would be exceeded")]
    DustExposure(u64),
}
