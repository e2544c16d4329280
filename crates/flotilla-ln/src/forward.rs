//! The forwarding decision: may this node pass the HTLC on, and if not, which BOLT 4
//! failure does it answer with.
//!
//! [`check_forward`] applies the rules in one fixed order and reports the first one
//! broken (BOLT 4: "SHOULD select the first error it encounters"):
//!
//! | # | rule | failure | data |
//! |---|---|---|---|
//! | 1 | the payload's `short_channel_id` is a channel of this node, and its peer is online | `unknown_next_peer` | — |
//! | 2 | the outgoing direction has a policy | `permanent_channel_failure` | — |
//! | 3 | it is not disabled | `channel_disabled` | update |
//! | 4 | `amt_to_forward ≥ htlc_minimum_msat`, the policy's and the next peer's | `amount_below_minimum` | outgoing amount, update |
//! | 5 | incoming − `amt_to_forward` ≥ fee(`amt_to_forward`) | `fee_insufficient` | incoming amount, update |
//! | 6 | incoming expiry − `outgoing_cltv_value` ≥ `cltv_expiry_delta` | `incorrect_cltv_expiry` | outgoing expiry, update |
//! | 7 | `outgoing_cltv_value` > height + grace | `expiry_too_soon` | update |
//! | 8 | `outgoing_cltv_value` ≤ height + 2016 | `expiry_too_far` | — |
//! | 9 | balance − reserve, HTLC slots, in-flight cap, `htlc_maximum_msat`, dust cap | `temporary_channel_failure` | update |
//!
//! The data is what BOLT 4 attaches to each code ("report the amount of the outgoing
//! HTLC" for `amount_below_minimum`, "of the incoming HTLC" for `fee_insufficient`, "the
//! `cltv_expiry` of the outgoing HTLC" for `incorrect_cltv_expiry`); the `channel_update`
//! is named by [`ChannelUpdateRef`] (the sender reads the policy from its graph).
//!
//! Forwarding is strict: the HTLC leaves over the channel the payload names, never a
//! parallel one (BOLT 4 allows non-strict forwarding; strict keeps the sender's path and
//! the simulated path identical).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use flotilla_graph::{ChannelIdx, Direction, EdgeIdx, Graph, NodeIdx, ShortChannelId};

use crate::channel::AddError;
use crate::clock::Clock;
use crate::config::{NodeConfig, MAX_HTLC_CLTV};
use crate::failure::{ChannelUpdateRef, FailureCode, FailureData};
use crate::node::{ChannelEnd, Directory};
use crate::payload::HopPayload;

/// Short channel id → channel, with a multiplicative hash: a lookup per forwarded hop
/// should cost a few nanoseconds, not a SipHash.
#[derive(Clone, Debug, Default)]
pub struct ScidIndex {
    map: HashMap<u64, ChannelIdx, BuildHasherDefault<ScidHasher>>,
}

impl ScidIndex {
    /// Indexes every channel of `graph`.
    pub fn new(graph: &Graph) -> Self {
        let mut map = HashMap::with_capacity_and_hasher(graph.channel_count(), Default::default());
        for (i, c) in graph.channels().iter().enumerate() {
            map.insert(c.scid.0, ChannelIdx(i as u32));
        }
        ScidIndex { map }
    }

    /// The channel with this id.
    #[inline]
    pub fn get(&self, scid: u64) -> Option<ChannelIdx> {
        self.map.get(&scid).copied()
    }
}

/// Fibonacci hashing of one `u64`; scids are not attacker-chosen inside a simulation.
#[derive(Default, Clone, Copy)]
pub struct ScidHasher(u64);

impl Hasher for ScidHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = (v ^ (v >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Why a hop refuses to forward, with the details a log or test wants; the BOLT 4 code
/// and data travel in [`Rejection`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ForwardError {
    /// No channel has the payload's `short_channel_id`.
    #[error("no channel {0}")]
    UnknownChannel(ShortChannelId),
    /// The channel exists but this node is not an end of it.
    #[error("channel {0} is not ours")]
    NotOurChannel(ShortChannelId),
    /// The next node is offline.
    #[error("next node {0:?} is offline")]
    PeerOffline(NodeIdx),
    /// The outgoing direction was never announced.
    #[error("outgoing direction has no policy")]
    NoPolicy,
    /// The outgoing direction is disabled.
    #[error("outgoing channel disabled")]
    Disabled,
    /// Below the outgoing policy's minimum or the next peer's `htlc_minimum_msat`.
    #[error("{amount_msat} msat below htlc_minimum_msat {minimum_msat}")]
    BelowMinimum {
        /// `amt_to_forward`.
        amount_msat: u64,
        /// The larger of the two.
        minimum_msat: u64,
    },
    /// Incoming minus outgoing is below the fee.
    #[error("fee {paid_msat} msat below the required {required_msat} msat")]
    FeeInsufficient {
        /// What the HTLC leaves (0 when the incoming amount is below the outgoing one).
        paid_msat: u64,
        /// What the policy asks.
        required_msat: u64,
    },
    /// Incoming expiry minus outgoing expiry is below the delta.
    #[error("CLTV delta {given} below the required {required}")]
    IncorrectCltv {
        /// What the HTLC leaves (0 when negative).
        given: u32,
        /// The policy's `cltv_expiry_delta`.
        required: u16,
    },
    /// The outgoing expiry is too close to the current height.
    #[error("outgoing expiry {expiry} too close to height {height}")]
    ExpiryTooSoon {
        /// `outgoing_cltv_value`.
        expiry: u32,
        /// Current height.
        height: u32,
    },
    /// The outgoing expiry is too far ahead.
    #[error("outgoing expiry {expiry} more than 2016 blocks above height {height}")]
    ExpiryTooFar {
        /// `outgoing_cltv_value`.
        expiry: u32,
        /// Current height.
        height: u32,
    },
    /// The channel cannot take the HTLC now.
    #[error("outgoing channel: {0}")]
    Channel(AddError),
}

/// A refusal: the typed reason and the BOLT 4 failure it becomes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Rejection {
    /// Why.
    pub error: ForwardError,
    /// The failure code.
    pub code: FailureCode,
    /// Its data.
    pub data: FailureData,
}

/// Where an accepted HTLC goes next.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ForwardTo {
    /// The outgoing channel direction.
    pub edge: EdgeIdx,
    /// The forwarding node's end of it.
    pub end: usize,
    /// The node at its far end.
    pub next: NodeIdx,
    /// The outgoing HTLC's amount (`amt_to_forward`).
    pub amount_msat: u64,
    /// The outgoing HTLC's expiry (`outgoing_cltv_value`).
    pub cltv_expiry: u32,
    /// Whether the outgoing HTLC is dust.
    pub is_dust: bool,
}

/// What a forwarding decision reads: the node's own state and the public directory.
#[derive(Copy, Clone)]
pub struct ForwardCtx<'a> {
    /// The public graph and its indexes.
    pub dir: &'a Directory,
    /// The forwarding node's settings.
    pub config: &'a NodeConfig,
    /// Its channel ends.
    pub ends: &'a [ChannelEnd],
    /// Now.
    pub clock: Clock,
}

/// Decides whether `node` forwards an HTLC of `incoming_msat` expiring at
/// `incoming_cltv` as `payload` (a forwarding payload) asks. Pure: changes nothing.
pub fn check_forward(
    ctx: &ForwardCtx<'_>,
    node: NodeIdx,
    incoming_msat: u64,
    incoming_cltv: u32,
    payload: &HopPayload,
) -> Result<ForwardTo, Rejection> {
    let plain = |error, code| Rejection {
        error,
        code,
        data: FailureData::default(),
    };
    // The caller peeled a forwarding payload, which always names a channel.
    let scid = payload.short_channel_id.unwrap_or(u64::MAX);
    let Some(c) = ctx.dir.scids().get(scid) else {
        return Err(plain(
            ForwardError::UnknownChannel(ShortChannelId(scid)),
            FailureCode::UnknownNextPeer,
        ));
    };
    let ch = ctx.dir.graph().channel(c);
    let dir = if ch.nodes[0] == node {
        Direction::AToB
    } else if ch.nodes[1] == node {
        Direction::BToA
    } else {
        return Err(plain(
            ForwardError::NotOurChannel(ch.scid),
            FailureCode::UnknownNextPeer,
        ));
    };
    let edge = c.edge(dir);
    let next = ch.to_node(dir);
    let end_ix = ctx.dir.end_of(edge);
    let end = &ctx.ends[end_ix];
    if !end.peer_online {
        return Err(plain(
            ForwardError::PeerOffline(next),
            FailureCode::UnknownNextPeer,
        ));
    }
    let Some(policy) = ch.policy(dir) else {
        return Err(plain(
            ForwardError::NoPolicy,
            FailureCode::PermanentChannelFailure,
        ));
    };
    let update = ChannelUpdateRef {
        short_channel_id: ch.scid.0,
        direction: dir as u8,
        disabled: policy.disabled,
    };
    let with = |error, code, htlc_msat, cltv_expiry| Rejection {
        error,
        code,
        data: FailureData {
            htlc_msat,
            cltv_expiry,
            height: None,
            channel_update: Some(update),
        },
    };
    if policy.disabled {
        return Err(with(
            ForwardError::Disabled,
            FailureCode::ChannelDisabled,
            None,
            None,
        ));
    }
    let amount = payload.amt_to_forward;
    // The next peer's own minimum binds too (its `open_channel` value); announced
    // policies normally already respect it.
    let minimum = policy
        .htlc_minimum_msat
        .max(end.peer_rules.htlc_minimum_msat);
    if amount < minimum {
        return Err(with(
            ForwardError::BelowMinimum {
                amount_msat: amount,
                minimum_msat: minimum,
            },
            FailureCode::AmountBelowMinimum,
            Some(amount),
            None,
        ));
    }
    let fee = policy.fee_msat(amount);
    let paid = incoming_msat.saturating_sub(amount);
    if incoming_msat < amount || paid < fee {
        return Err(with(
            ForwardError::FeeInsufficient {
                paid_msat: paid,
                required_msat: fee,
            },
            FailureCode::FeeInsufficient,
            Some(incoming_msat),
            None,
        ));
    }
    let out_cltv = payload.outgoing_cltv_value;
    let delta = incoming_cltv.saturating_sub(out_cltv);
    if incoming_cltv < out_cltv || delta < policy.cltv_expiry_delta as u32 {
        return Err(with(
            ForwardError::IncorrectCltv {
                given: delta,
                required: policy.cltv_expiry_delta,
            },
            FailureCode::IncorrectCltvExpiry,
            None,
            Some(out_cltv),
        ));
    }
    let height = ctx.clock.height;
    let me = ctx.config;
    if out_cltv as u64 <= height as u64 + me.expiry_too_soon_blocks as u64 {
        return Err(with(
            ForwardError::ExpiryTooSoon {
                expiry: out_cltv,
                height,
            },
            FailureCode::ExpiryTooSoon,
            None,
            None,
        ));
    }
    if out_cltv as u64 > height as u64 + MAX_HTLC_CLTV as u64 {
        return Err(plain(
            ForwardError::ExpiryTooFar {
                expiry: out_cltv,
                height,
            },
            FailureCode::ExpiryTooFar,
        ));
    }
    let dust = end.is_dust(amount);
    let limits = end.offer_limits(
        policy.htlc_maximum_msat,
        ctx.config.channel.max_dust_htlc_exposure_msat,
    );
    if let Err(e) = end.check_offer(amount, dust, &limits) {
        return Err(with(
            ForwardError::Channel(e),
            FailureCode::TemporaryChannelFailure,
            None,
            None,
        ));
    }
    Ok(ForwardTo {
        edge,
        end: end_ix,
        next,
        amount_msat: amount,
        cltv_expiry: out_cltv,
        is_dust: dust,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scid_index_finds_every_channel() {
        let (g, _) = flotilla_graph::generate::WattsStrogatz::default()
            .generate(1)
            .unwrap();
        let idx = ScidIndex::new(&g);
        for (i, c) in g.channels().iter().enumerate() {
            assert_eq!(idx.get(c.scid.0), Some(ChannelIdx(i as u32)));
        }
        assert_eq!(idx.get(u64::MAX), None);
    }
}
