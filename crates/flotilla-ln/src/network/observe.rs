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

use flotilla_graph::NodeIdx;

use crate::htlc::{HtlcId, HtlcOrigin, HtlcState};
use crate::lock::check_claim;
use crate::output::Output;
use crate::sender::PartId;
use crate::PaymentPreimage;

use super::{DeliverError, Network};

impl Network {
    /// The sender's part a live HTLC carries (every HTLC of a part, at every hop, names
    /// it), or `None` once the HTLC or the part is gone.
    pub fn part_of(&self, id: HtlcId) -> Option<PartId> {
        let h = self.htlcs.get(id)?;
        let p = self.parts.get(h.part.slot as usize)?.as_ref()?;
        (p.seq == h.part.seq).then_some(p.id)
    }

    /// A forwarder short-circuits a forward: `outgoing` is an HTLC `node` created when it
    /// forwarded, whose `update_add_htlc` the driver has not delivered (the node held it
    /// back). The node takes it back — as if it had never sent the message — and claims
    /// the incoming HTLC that caused it with `preimage`, which it learnt elsewhere.
    ///
    /// Refused, with nothing changed, unless `outgoing` is a live forwarded HTLC offered
    /// by `node` and not yet delivered, its incoming HTLC is still held by `node`, and
    /// `preimage` opens the incoming HTLC's lock (a wrong one is counted in
    /// [`super::HtlcCounters::overclaim_attempts`], like any refused claim). The
    /// outgoing HTLC is withdrawn first, so no live HTLC ever loses its origin.
    pub fn short_circuit_forward(
        &mut self,
        node: NodeIdx,
        outgoing: HtlcId,
        preimage: PaymentPreimage,
        out: &mut Vec<Output>,
    ) -> Result<(), DeliverError> {
        let rec = self
            .htlcs
            .get(outgoing)
            .ok_or(DeliverError::UnknownHtlc(outgoing))?;
        let HtlcOrigin::Forwarded { incoming } = rec.origin else {
            return Err(DeliverError::NotHeld(outgoing));
        };
        if self.graph.edge_source(rec.edge) != node {
            return Err(DeliverError::NotHeld(outgoing));
        }
        if rec.state != HtlcState::Offered {
            return Err(DeliverError::WrongState {
                msg: "short-circuit (outgoing)",
                htlc: outgoing,
                state: rec.state,
            });
        }
        let inc = self
            .htlcs
            .get(incoming)
            .ok_or(DeliverError::UnknownHtlc(incoming))?;
        if self.graph.edge_target(inc.edge) != node {
            return Err(DeliverError::NotHeld(incoming));
        }
        if inc.state != HtlcState::Accepted {
            return Err(DeliverError::WrongState {
                msg: "short-circuit (incoming)",
                htlc: incoming,
                state: inc.state,
            });
        }
        if check_claim(&inc.payment_hash, &inc.lock, &preimage, None).is_err() {
            self.counters.overclaim_attempts += 1;
            return Err(DeliverError::WrongPreimage(incoming));
        }
        let rec = self.resolve(outgoing);
        self.channels.fail(rec.edge, rec.amount_msat, rec.is_dust);
        self.counters.failed += 1;
        self.debug_check(rec.edge.channel());
        self.fulfil_back(incoming, preimage, None, out);
        Ok(())
    }
}
