//! The sending side: turning a [`Path`] into the first HTLC and its onion, and turning a
//! failure back into what a scorer learns.
//!
//! Payload amounts follow [`Path`]'s definition: `hops[i].amount_msat` is what the far
//! node of hop `i` receives and `hops[i].cltv_expiry` is that HTLC's expiry above the
//! current height. So the node at the far end of hop `i` gets the payload
//! `amt_to_forward = hops[i+1].amount_msat`,
//! `outgoing_cltv_value = height + hops[i+1].cltv_expiry`,
//! `short_channel_id = hops[i+1]`'s channel; the receiver gets
//! `amt_to_forward = hops[last].amount_msat`,
//! `outgoing_cltv_value = height + hops[last].cltv_expiry` (the final expiry it asked
//! for, BOLT 4 "Payload for the Last Node") and the final-hop extras.

use flotilla_graph::Graph;
use flotilla_route::{FailureKind, Path, PathFailure};

use crate::channel::AddError;
use crate::failure::{Failure, FailureCode};
use crate::onion::real::{self, SharedSecret};
use crate::payload::{HopPayload, PaymentData};
use crate::{PaymentHash, PaymentPreimage};

/// The caller's name for one part of a payment; echoed in its outcome event.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartId(pub u64);

/// One part to send.
#[derive(Clone, Copy, Debug)]
pub struct SendPart<'a> {
    /// The caller's name for it.
    pub id: PartId,
    /// The path, with amounts and expiries (see [`Path`]).
    pub path: &'a Path,
    /// The payment hash.
    pub payment_hash: PaymentHash,
    /// `payment_data` for the final hop: the invoice's secret and the payment's total
    /// (or, for keysend MPP, a sender-chosen secret).
    pub payment_data: Option<PaymentData>,
    /// Keysend: the preimage, for the final hop.
    pub keysend_preimage: Option<PaymentPreimage>,
}

/// Why a part could not be sent. Nothing changed in the network.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The path has no hops.
    #[error("a path needs at least one hop")]
    EmptyPath,
    /// A hop's edge is not in the network's graph.
    #[error("hop {0} names an edge outside the graph")]
    UnknownEdge(usize),
    /// Hop `i` does not start where hop `i-1` ends.
    #[error("hop {0} does not start where the previous hop ends")]
    NotContiguous(usize),
    /// `height + cltv_expiry` overflows.
    #[error("hop {0}: expiry overflows")]
    CltvOverflow(usize),
    /// The sender's own channel cannot carry the HTLC: the failure a local attempt gets
    /// (`temporary_channel_failure`, or `unknown_next_peer` when the peer is offline).
    #[error("first hop refused: {code}")]
    FirstHop {
        /// The failure code.
        code: FailureCode,
        /// The channel limit hit, when the code is `temporary_channel_failure`.
        cause: Option<AddError>,
    },
    /// The path's first hop does not leave the sending node.
    #[error("the path's first hop does not start at the sending node")]
    NotOurChannel,
    /// Real onions were asked for but the network has no node keys.
    #[error("real onions are not enabled on this network")]
    RealOnionUnsupported,
    /// The real onion could not be built (e.g. payloads too large).
    #[error("onion: {0}")]
    Onion(real::OnionError),
}

impl SendError {
    /// What a scorer should learn from a first-hop refusal.
    pub fn path_failure(&self) -> Option<PathFailure> {
        match self {
            SendError::FirstHop { code, .. } => Some(PathFailure {
                hop: 0,
                kind: match code {
                    FailureCode::TemporaryChannelFailure => FailureKind::Liquidity,
                    FailureCode::UnknownNextPeer => FailureKind::NodeUnreachable,
                    _ => FailureKind::ChannelUnusable,
                },
            }),
            _ => None,
        }
    }
}

/// Checks that `path` is a contiguous walk of edges of `graph`.
pub fn check_path(graph: &Graph, path: &Path) -> Result<(), SendError> {
    if path.hops.is_empty() {
        return Err(SendError::EmptyPath);
    }
    for (i, h) in path.hops.iter().enumerate() {
        if h.edge.ix() >= graph.edge_slots() {
            return Err(SendError::UnknownEdge(i));
        }
        if i > 0 && graph.edge_target(path.hops[i - 1].edge) != graph.edge_source(h.edge) {
            return Err(SendError::NotContiguous(i));
        }
    }
    Ok(())
}

/// The per-hop payloads for `path` sent at `height`, forwarding ones first.
pub fn build_payloads(
    graph: &Graph,
    path: &Path,
    height: u32,
    payment_data: Option<PaymentData>,
    keysend_preimage: Option<PaymentPreimage>,
) -> Result<Vec<HopPayload>, SendError> {
    check_path(graph, path)?;
    let expiry = |i: usize| {
        height
            .checked_add(path.hops[i].cltv_expiry)
            .ok_or(SendError::CltvOverflow(i))
    };
    let n = path.hops.len();
    let mut out = Vec::with_capacity(n);
    for i in 0..n - 1 {
        let next = &path.hops[i + 1];
        let scid = graph.channel(next.edge.channel()).scid.0;
        out.push(HopPayload::forward(scid, next.amount_msat, expiry(i + 1)?));
    }
    out.push(HopPayload::final_hop(
        path.hops[n - 1].amount_msat,
        expiry(n - 1)?,
        payment_data,
        keysend_preimage,
    ));
    Ok(out)
}

/// What the sender keeps about a part in flight.
#[derive(Clone, Debug)]
pub(crate) struct SentPart {
    pub id: PartId,
    pub path_len: usize,
    pub amount_msat: u64,
    pub fee_msat: u64,
    /// Sequence number: tells this record from a later one in the same slot.
    pub seq: u32,
    /// Σ amount × time held over the part's HTLCs resolved so far, msat·µs.
    pub locked_msat_micros: u128,
    /// Real mode: the hops' shared secrets, to decode a failure onion.
    pub shared_secrets: Option<Box<[SharedSecret]>>,
}

/// Maps a failure to what it says about the path, for scorers: which hop's channel
/// failed and how. `origin_hop` is the erring node's position (0 = the first hop's far
/// node).
///
/// - From the receiver (the last position): [`FailureKind::Destination`] at the last
///   hop; nothing is learnt about liquidity.
/// - From a forwarder at position `k`, channel failures concern its *outgoing* channel,
///   hop `k + 1`: `temporary_channel_failure` → [`FailureKind::Liquidity`],
///   `unknown_next_peer` → [`FailureKind::NodeUnreachable`], every other channel or policy
///   failure (and a bad onion reported by `k` about `k + 1`) →
///   [`FailureKind::ChannelUnusable`].
/// - Node failures (the NODE flag) and `invalid_onion_payload` concern the erring node
///   itself: the channel into it, hop `k`.
pub fn path_failure(failure: &Failure, path_len: usize) -> PathFailure {
    let last = path_len.saturating_sub(1);
    let k = failure.origin_hop.min(last);
    if k == last {
        return PathFailure {
            hop: last,
            kind: FailureKind::Destination,
        };
    }
    let code = failure.code;
    if code.is_node() {
        return PathFailure {
            hop: k,
            kind: FailureKind::NodeUnreachable,
        };
    }
    if code == FailureCode::InvalidOnionPayload {
        return PathFailure {
            hop: k,
            kind: FailureKind::ChannelUnusable,
        };
    }
    let kind = match code {
        FailureCode::TemporaryChannelFailure => FailureKind::Liquidity,
        FailureCode::UnknownNextPeer => FailureKind::NodeUnreachable,
        _ => FailureKind::ChannelUnusable,
    };
    PathFailure { hop: k + 1, kind }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::FailureData;

    fn f(code: FailureCode, origin_hop: usize) -> Failure {
        Failure {
            code,
            data: FailureData::default(),
            origin_hop,
        }
    }

    #[test]
    fn failures_map_to_the_right_hop() {
        let p = |c, k| path_failure(&f(c, k), 4);
        assert_eq!(
            p(FailureCode::TemporaryChannelFailure, 1),
            PathFailure {
                hop: 2,
                kind: FailureKind::Liquidity
            }
        );
        assert_eq!(
            p(FailureCode::UnknownNextPeer, 0).kind,
            FailureKind::NodeUnreachable
        );
        assert_eq!(p(FailureCode::FeeInsufficient, 2).hop, 3);
        assert_eq!(
            p(FailureCode::FeeInsufficient, 2).kind,
            FailureKind::ChannelUnusable
        );
        assert_eq!(
            p(FailureCode::IncorrectOrUnknownPaymentDetails, 3),
            PathFailure {
                hop: 3,
                kind: FailureKind::Destination
            }
        );
        assert_eq!(p(FailureCode::MppTimeout, 3).kind, FailureKind::Destination);
        assert_eq!(
            p(FailureCode::TemporaryNodeFailure, 1),
            PathFailure {
                hop: 1,
                kind: FailureKind::NodeUnreachable
            }
        );
    }
}
