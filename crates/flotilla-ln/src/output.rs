//! What the protocol asks of its driver: send a message, set a timer, report an event.
//!
//! Entry points append [`Output`]s to a `Vec` the caller owns and reuses, so a busy
//! simulation allocates nothing per step for them. The driver adds latency to messages
//! and later hands it to the receiving [`crate::node::Node`] (through
//! [`crate::network::Network::deliver`] in the simulator); it schedules timers and later
//! fires them at their node. Timers are never cancelled: a timer whose subject has gone
//! (a set completed, an HTLC resolved) is ignored when fired.

use flotilla_graph::NodeIdx;
use flotilla_route::{PathFailure, Timestamp};

use crate::failure::Failure;
use crate::htlc::HtlcId;
use crate::msg::{HtlcRef, Msg};
use crate::sender::PartId;
use crate::{PaymentHash, PaymentPreimage, PaymentSecret};

/// One thing the driver must do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Output {
    /// Carry `msg` from `from` to `to` (its peer over the HTLC's channel).
    Message {
        /// Sending node.
        from: NodeIdx,
        /// Receiving node.
        to: NodeIdx,
        /// The message.
        msg: Msg,
    },
    /// Fire `timer` at `node` at `at`.
    Timer {
        /// When.
        at: Timestamp,
        /// The node whose timer it is.
        node: NodeIdx,
        /// What.
        timer: Timer,
    },
    /// Something a node's user learns.
    Event {
        /// The node.
        node: NodeIdx,
        /// What happened.
        event: Event,
    },
}

/// A deadline the protocol set.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// An MPP set's 60 s (configurable) wait: if still incomplete, fail every part with
    /// `mpp_timeout`.
    MppTimeout {
        /// The set's payment hash.
        payment_hash: PaymentHash,
        /// Which set of that hash (a hash can be retried after a timeout).
        set: u32,
    },
    /// A redundant payment's round has waited `mpp_timeout` since its first part: if it
    /// was not claimed, every held part fails with `mpp_timeout`.
    RedundantTimeout {
        /// The payment's secret (its name at the receiver).
        payment_secret: PaymentSecret,
        /// Which round of that payment.
        round: u32,
    },
    /// A forwarder gave up reaching its offline next peer: the incoming HTLC fails with
    /// `unknown_next_peer` (see `NodeConfig::offline_peer_timeout`).
    PeerUnreachable {
        /// The incoming HTLC (the node's own id for it).
        htlc: HtlcId,
    },
    /// A held HTLC reached its CLTV expiry: its offerer times it out on chain (BOLT 2
    /// would force close; the channel is kept here) and fails it back upstream with
    /// `permanent_channel_failure`. The chain is seen by both ends at once: the driver
    /// fires it at the offerer and tells the holder (see
    /// [`crate::network::Network::fire`]). Only scheduled when a peer holds an HTLC to
    /// its expiry (a hodl node), the one case it can fire, so honest traffic sets no
    /// timer per HTLC.
    HtlcExpiry {
        /// The offered HTLC.
        htlc: HtlcRef,
    },
    /// A live sender's payment reached its deadline: its driver gives it up (a node
    /// ignores it; the simulator keeps its deadlines in its own event queue).
    PaymentDeadline {
        /// The driver's id of the payment.
        payment: u64,
    },
    /// A live receiver's claim request may have been lost (endpoint messages travel as
    /// best-effort onion messages): its driver sends it again while the payment's round
    /// is still waiting for the sender's answer. A node ignores it; the simulator, which
    /// loses no message, never sets it.
    EndpointResend {
        /// The payment the request is for.
        payment_id: [u8; 32],
        /// Which send this timer follows (a timer for an older one is stale).
        attempt: u32,
    },
}

/// What a node's user learns.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// Sender: a part settled; `preimage` is the proof of payment.
    PartSettled {
        /// The part.
        part: PartId,
        /// The preimage.
        preimage: PaymentPreimage,
        /// What the part delivered, msat.
        amount_msat: u64,
        /// Fees the part paid, msat.
        fee_msat: u64,
        /// Σ over the part's HTLCs of amount × time held, msat·µs (liquidity locked).
        locked_msat_micros: u128,
    },
    /// Sender: the claim of a settled boomerang part's reverse clause was answered (the
    /// receiver over-claimed; see [`crate::node::Node::claim_reverse`]): the part came
    /// back, or the first hop refused to pay it back.
    PartRefunded {
        /// The part.
        part: PartId,
        /// What the part had delivered and now came back, msat (0 if refused).
        amount_msat: u64,
        /// The fees it had paid, which come back with it, msat (0 if refused).
        fee_msat: u64,
        /// The first hop refused (its side no longer held the value, or the clause
        /// lapsed): nothing came back.
        refused: bool,
    },
    /// Sender: a part failed.
    PartFailed {
        /// The part.
        part: PartId,
        /// The failure as decoded: code, data, erring node's position.
        failure: Failure,
        /// What it says about the path (see [`crate::sender::path_failure`]); hand it to
        /// the router so its scorer learns.
        path_failure: PathFailure,
        /// Σ over the part's HTLCs of amount × time held, msat·µs (liquidity locked).
        locked_msat_micros: u128,
    },
    /// Sender: a redundant payment's receiver asks to claim (its claim request
    /// arrived); answer with [`crate::node::Node::reveal`].
    ClaimRequested {
        /// The receiver that holds the parts.
        receiver: NodeIdx,
        /// The sender's name for the payment.
        payment_id: [u8; 32],
        /// `(part_index, amt_to_forward)` of every part held.
        parts: Vec<(u16, u64)>,
    },
    /// Receiver: a payment (all parts of a set) was claimed.
    PaymentReceived {
        /// Its hash.
        payment_hash: PaymentHash,
        /// Sum of the parts' `amt_to_forward`, msat.
        amount_msat: u64,
        /// Number of parts.
        parts: u32,
    },
}
