//! Boomerang's reverse clause, executed at once along the payment's paths.

use bitcoin::secp256k1::SecretKey;
use flotilla_graph::NodeIdx;
use flotilla_route::Path;

use crate::redundant::RefundError;
use crate::PaymentSecret;

use super::Network;

impl Network {
    /// The boomerang clause: the sender learned `p0` = P(0) of the payment with
    /// `payment_secret` from more than k claimed scalars. If `p0` matches the receiver's
    /// commitment C_0, the claimed parts of `paths` (as the sender routed them) move back
    /// hop by hop, fees included, at both ends of every channel at once. The sender
    /// names the parts it has seen settle; parts whose fulfils were still on their way
    /// come back with a later refund, after which the receiver keeps nothing. Refused,
    /// with nothing moved, if the secret is wrong or a channel's far side no longer holds
    /// the value (the real protocol locks the reverse HTLCs' collateral up front; this
    /// model does not). Returns the value refunded to the receiver's side, msat.
    pub fn boomerang_refund(
        &mut self,
        receiver: NodeIdx,
        payment_secret: &PaymentSecret,
        p0: &SecretKey,
        paths: &[&Path],
    ) -> Result<u64, RefundError> {
        if self
            .receiver(receiver)
            .redundant
            .settled_msat(payment_secret)
            == 0
        {
            return Err(RefundError::UnknownPayment);
        }
        // Check every hop can move back before moving any: the far side of each hop
        // must hold what moves back, in its own view and in its peer's.
        let mut need: std::collections::HashMap<flotilla_graph::EdgeIdx, u64> = Default::default();
        for p in paths {
            for h in &p.hops {
                *need.entry(h.edge).or_default() += h.amount_msat;
            }
        }
        if need.iter().any(|(e, amt)| {
            let back = e.reverse();
            let far = self.node(self.graph().edge_source(back));
            let near = self.node(self.graph().edge_source(*e));
            let far_end = &far.ends()[self.dir.end_of(back)];
            let near_end = &near.ends()[self.dir.end_of(*e)];
            far_end.local.balance_msat < *amt || near_end.remote.balance_msat < *amt
        }) {
            return Err(RefundError::Liquidity);
        }
        let value: u64 = paths
            .iter()
            .filter_map(|p| p.hops.last())
            .map(|h| h.amount_msat)
            .sum();
        let refunded = self.nodes[receiver.ix()].refund_book(payment_secret, p0, value)?;
        for p in paths {
            for (i, h) in p.hops.iter().enumerate() {
                let g = self.dir.graph().clone();
                let (from, to) = (g.edge_source(h.edge), g.edge_target(h.edge));
                let fee = p
                    .hops
                    .get(i + 1)
                    .map(|next| h.amount_msat.saturating_sub(next.amount_msat))
                    .unwrap_or(0);
                let to_end = self.dir.end_of(h.edge.reverse());
                let from_end = self.dir.end_of(h.edge);
                // Checked above: both moves succeed.
                self.nodes[to.ix()].refund_shift(to_end, true, h.amount_msat, fee);
                self.nodes[from.ix()].refund_shift(from_end, false, h.amount_msat, 0);
            }
        }
        Ok(refunded)
    }
}
