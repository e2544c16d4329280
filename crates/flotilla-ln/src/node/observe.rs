//! What a driver may look at beyond the events, and what a misbehaving forwarder can do
//! that the honest steps never do.
//!
//! The field scenarios need both: a driver that attributes HTLCs to payments (a part
//! held by a hodl node, a payment that crossed a hub) and a forwarder that, having
//! learnt a payment's preimage some other way (a replayed probe that a legacy receiver
//! settled), claims its incoming HTLC at once and never passes the outgoing one on.
//! Nothing here bypasses a protocol check: a claim still has to open the HTLC's lock,
//! and value only moves the way `update_fulfill_htlc` and a never-sent
//! `update_add_htlc` would move it.

use crate::htlc::{HtlcId, HtlcOrigin, HtlcState};
use crate::lock::check_claim;
use crate::msg::HtlcRef;
use crate::output::Output;
use crate::sender::PartId;
use crate::PaymentPreimage;

use super::{Node, PeerError};

impl Node {
    /// Each outgoing channel direction of this node with the largest HTLC it could
    /// offer there now ([`super::ChannelEnd::spendable_msat`]): what its own router
    /// knows of its first hops ([`flotilla_route::RouteRequest::first_hops`]).
    pub fn first_hops(&self) -> Vec<(flotilla_graph::EdgeIdx, u64)> {
        self.ends()
            .iter()
            .map(|e| (e.out_edge(), e.spendable_msat()))
            .collect()
    }

    /// This node's part in `slot` if it is still the one with sequence number `seq`.
    pub fn part_id(&self, slot: u32, seq: u32) -> Option<PartId> {
        let p = self.parts.get(slot as usize)?.as_ref()?;
        (p.seq == seq).then_some(p.id)
    }

    /// For an HTLC this node offered as a forwarder: the amount of the incoming HTLC
    /// that caused it.
    pub fn forwarded_from(&self, outgoing: HtlcRef) -> Option<u64> {
        let id = self.htlc_by_wire(outgoing, true)?;
        let HtlcOrigin::Forwarded { incoming } = self.htlcs.get(id)?.origin else {
            return None;
        };
        self.htlcs.get(incoming).map(|h| h.amount_msat)
    }

    /// This node short-circuits a forward: `outgoing` is an HTLC it offered when it
    /// forwarded, whose `update_add_htlc` the driver has not delivered (the node held it
    /// back). The node takes it back — as if it had never sent the message — and claims
    /// the incoming HTLC that caused it with `preimage`, which it learnt elsewhere.
    ///
    /// Refused, with nothing changed, unless `outgoing` is a live forwarded HTLC of this
    /// node, its incoming HTLC is still accepted here, and `preimage` opens the incoming
    /// HTLC's lock (a wrong one is counted in
    /// [`super::HtlcCounters::overclaim_attempts`], like any refused claim). The
    /// outgoing HTLC is withdrawn first, so no live HTLC ever loses its origin.
    pub fn short_circuit_forward(
        &mut self,
        outgoing: HtlcRef,
        preimage: PaymentPreimage,
        out: &mut Vec<Output>,
    ) -> Result<(), PeerError> {
        let msg = "short-circuit";
        let out_id: HtlcId = self
            .htlc_by_wire(outgoing, true)
            .ok_or(PeerError::UnknownHtlc {
                msg,
                htlc: outgoing,
            })?;
        let rec = *self.htlcs.get(out_id).expect("indexed records are live");
        let HtlcOrigin::Forwarded { incoming } = rec.origin else {
            return Err(PeerError::NotHeld(out_id));
        };
        let inc = *self
            .htlcs
            .get(incoming)
            .ok_or(PeerError::NotHeld(incoming))?;
        if inc.state != HtlcState::Accepted {
            return Err(PeerError::WrongState {
                msg,
                htlc: inc.wire,
                state: inc.state,
            });
        }
        if check_claim(&inc.payment_hash, &inc.lock, &preimage, None).is_err() {
            self.counters.overclaim_attempts += 1;
            return Err(PeerError::WrongPreimage(inc.wire));
        }
        self.take_failed(out_id);
        self.fulfil_back(incoming, preimage, None, out);
        self.flush_commitments(out);
        Ok(())
    }
}
