//! Split mode of a redundant payment: an MPP splitter's base parts plus surplus copies
//! (see the parent module's docs, "Split mode").
//!
//! Each base part is a *slot*: an amount and the number of its copies alive. The live
//! slots always partition what is not yet placed again: their amounts plus
//! `unplaced_msat` are A. A copy's failure lowers its slot's count; at zero the slot is
//! gone and its amount joins `unplaced_msat`, which the next pump splits again (as
//! [`crate::session::PaymentSession`] routes its remainder). So whenever no amount is
//! unplaced, one arrived copy of every slot is a subset worth exactly A.
//!
//! A surplus copy has the same amount as its slot and its own path (disjoint from the
//! payment's other live parts when the graph allows, [`RedundantSession::route_part`]).
//! Copies go to the slots the router rates least likely to arrive, round robin.

use flotilla_graph::EdgeIdx;
use flotilla_route::{Limits, Path, RouteRequest, Router};

use super::SenderNet;
use super::{RedundancyStrategy, RedundantSession};
use crate::clock::Clock;
use crate::output::Output;
use crate::session::{FailureReason, SessionState, FINAL_CLTV_PADDING};

/// The slot of a part sent outside split mode.
pub(super) const NO_SLOT: u32 = u32::MAX;

#[derive(Clone, Debug)]
struct Slot {
    id: u32,
    amount_msat: u64,
    /// Copies in flight.
    live: u32,
    /// Copies sent for it so far (the base part and its surplus), which `retry` keeps.
    wanted: u32,
}

/// The base parts of a split-mode payment and their copies.
#[derive(Clone, Debug, Default)]
pub(super) struct SplitPlan {
    slots: Vec<Slot>,
    /// Value of the slots whose every copy was lost, not yet placed again.
    unplaced_msat: u64,
    next_slot: u32,
    /// A split has been placed (the first one, A).
    started: bool,
}

impl SplitPlan {
    fn new_slot(&mut self, amount_msat: u64) -> u32 {
        let id = self.next_slot;
        self.next_slot += 1;
        self.slots.push(Slot {
            id,
            amount_msat,
            live: 0,
            wanted: 0,
        });
        id
    }

    fn slot_mut(&mut self, id: u32) -> Option<&mut Slot> {
        self.slots.iter_mut().find(|s| s.id == id)
    }

    /// A copy for `slot` left.
    pub(super) fn sent(&mut self, slot: u32) {
        if let Some(s) = self.slot_mut(slot) {
            s.live += 1;
        }
    }

    /// A copy for `slot` failed.
    pub(super) fn lost(&mut self, slot: u32) {
        if let Some(s) = self.slot_mut(slot) {
            s.live = s.live.saturating_sub(1);
        }
        self.sweep();
    }

    /// Slots with no copy alive give their amount back to be placed again.
    fn sweep(&mut self) {
        let mut freed = 0u64;
        self.slots.retain(|s| {
            if s.live == 0 {
                freed += s.amount_msat;
                false
            } else {
                true
            }
        });
        self.unplaced_msat += freed;
    }

    /// Every base part has a copy alive: an arrived copy of each makes up A.
    pub(super) fn complete(&self) -> bool {
        self.started && self.unplaced_msat == 0
    }

    /// How many surplus copies go with `m` new base parts under `strategy`.
    fn surplus(strategy: RedundancyStrategy, m: usize) -> usize {
        match strategy {
            RedundancyStrategy::Fixed(rho) if rho.is_finite() && rho > 0.0 => {
                (m as f64 * rho).ceil() as usize
            }
            RedundancyStrategy::Extra(e) => e as usize,
            _ => 0,
        }
    }
}

impl RedundantSession {
    /// Splits A (`first`) or the unplaced amount with the router, adds surplus copies,
    /// and sends them all. The first split finding no route fails the payment with
    /// `no_route`; a later one leaves the amount unplaced until a part comes back, and
    /// with nothing in flight, stops placing.
    pub(super) fn place_split<N: SenderNet + ?Sized>(
        &mut self,
        first: bool,
        router: &mut dyn Router,
        net: &mut N,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        let Some(plan) = &self.split else {
            return;
        };
        let amount = if first {
            self.sender.amount_msat
        } else {
            plan.unplaced_msat
        };
        let live_slots = plan.slots.len() as u32;
        if amount == 0 {
            return;
        }
        // As MPP: the budget left after what the live base parts may cost (each at its
        // dearest copy, since any copy may be the one claimed).
        let mut dearest: Vec<(u32, u64)> = Vec::new();
        for f in &self.in_flight {
            let fee = f.path.fee_msat();
            match dearest.iter_mut().find(|(s, _)| *s == f.slot) {
                Some((_, d)) => *d = (*d).max(fee),
                None => dearest.push((f.slot, fee)),
            }
        }
        let committed: u64 = dearest.iter().map(|(_, d)| d).sum();
        let fee = self
            .limits
            .max_fee_msat
            .saturating_sub(committed + self.stats.common.fees_msat);
        let request = RouteRequest {
            source: self.source,
            target: self.target,
            amount_msat: amount,
            final_cltv_delta: self.limits.final_cltv_delta + FINAL_CLTV_PADDING,
            limits: Limits {
                max_fee_msat: fee,
                max_total_cltv: 2016,
                // As MPP: the base parts alive count against the most parts.
                max_parts: self.limits.max_base_parts.saturating_sub(live_slots).max(1),
                min_part_msat: self.limits.min_part_msat,
                max_path_len: 20,
                excluded_edges: self.failed_edges.clone(),
                excluded_nodes: self.limits.excluded_nodes.clone(),
            },
            // The sender knows what its own channels can send now.
            first_hops: Some(net.first_hops(self.source)),
        };
        let route = match router.find_route(net.graph(), &request, clock.now) {
            Ok(r) => r,
            Err(_) => {
                if first {
                    self.state = SessionState::Failed(FailureReason::NoRoute, clock.now);
                } else if self.in_flight.is_empty() {
                    self.exhausted = true;
                }
                return;
            }
        };
        let room =
            (self.limits.max_attempts as usize).saturating_sub(self.stats.common.attempts as usize);
        if route.paths.len() > room {
            // Too few attempts left for the split: as MPP, wait for nothing more.
            self.exhausted = true;
            return;
        }
        let mut planned: Vec<(u64, Path, f64, u32)> = Vec::new();
        let mut used: Vec<EdgeIdx> = Vec::new();
        let mut order: Vec<(f64, u32, u64)> = Vec::new();
        let plan = self.split.as_mut().expect("checked above");
        plan.started = true;
        plan.unplaced_msat = 0;
        for (i, path) in route.paths.into_iter().enumerate() {
            let p = route.probabilities.get(i).copied().unwrap_or(1.0);
            let a = path.amount_msat();
            let slot = plan.new_slot(a);
            used.extend(path.hops.iter().map(|h| h.edge));
            router.htlcs_in_flight(net.graph(), &path, true);
            order.push((p, slot, a));
            planned.push((a, path, p, slot));
        }
        let copies = if self.holding_surplus() {
            0
        } else {
            SplitPlan::surplus(self.limits.strategy, order.len())
        };
        self.copy_and_send(order, copies, room, planned, used, router, net, clock, out);
    }

    /// The hedge in split mode: ⌈m·ρ⌉ copies of the m live base parts, least likely
    /// first (by the likeliest of each one's copies), each on its own path.
    pub(super) fn hedge_split<N: SenderNet + ?Sized>(
        &mut self,
        router: &mut dyn Router,
        net: &mut N,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        let Some(plan) = &self.split else {
            return;
        };
        let order: Vec<(f64, u32, u64)> = plan
            .slots
            .iter()
            .filter(|s| s.live > 0)
            .map(|s| {
                let p = self
                    .in_flight
                    .iter()
                    .filter(|f| f.slot == s.id)
                    .map(|f| f.probability)
                    .fold(0.0, f64::max);
                (p, s.id, s.amount_msat)
            })
            .collect();
        if order.is_empty() {
            return;
        }
        let copies = SplitPlan::surplus(self.limits.strategy, order.len());
        let room =
            (self.limits.max_attempts as usize).saturating_sub(self.stats.common.attempts as usize);
        self.copy_and_send(
            order,
            copies,
            room,
            Vec::new(),
            Vec::new(),
            router,
            net,
            clock,
            out,
        );
    }

    /// Adds `copies` surplus copies of the base parts in `order` (probability, slot,
    /// amount) to `planned` — least likely first, round robin, each on a path that
    /// avoids `used`, while `planned` holds at most `room` parts — then sends
    /// everything planned.
    #[allow(clippy::too_many_arguments)]
    fn copy_and_send<N: SenderNet + ?Sized>(
        &mut self,
        mut order: Vec<(f64, u32, u64)>,
        copies: usize,
        room: usize,
        mut planned: Vec<(u64, Path, f64, u32)>,
        mut used: Vec<EdgeIdx>,
        router: &mut dyn Router,
        net: &mut N,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut failed_amounts: Vec<u64> = Vec::new();
        for j in 0..copies {
            if planned.len() >= room {
                break;
            }
            let (_, slot, a) = order[j % order.len()];
            if failed_amounts.contains(&a) {
                continue;
            }
            match self.route_part(router, net, a, &used, clock.now) {
                Some((path, p)) => {
                    used.extend(path.hops.iter().map(|h| h.edge));
                    router.htlcs_in_flight(net.graph(), &path, true);
                    planned.push((a, path, p, slot));
                }
                // A copy is optional; no path for this amount means none for its
                // next copy either.
                None => failed_amounts.push(a),
            }
        }
        if let Some(plan) = &mut self.split {
            for (_, _, _, slot) in &planned {
                if let Some(s) = plan.slot_mut(*slot) {
                    s.wanted += 1;
                }
            }
        }
        for (a, path, p, slot) in planned {
            self.send_part(a, path, p, slot, router, net, clock, out);
        }
        // Parts refused at the first hop: their slots are empty already.
        if let Some(plan) = &mut self.split {
            plan.sweep();
        }
    }

    /// Places again what was lost (and, with `retry`, replaces lost copies of slots
    /// still alive) while time, attempts and routes allow.
    pub(super) fn top_up_split<N: SenderNet + ?Sized>(
        &mut self,
        router: &mut dyn Router,
        net: &mut N,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        loop {
            if self.exhausted
                || self.state != SessionState::Active
                || clock.now >= self.deadline()
                || self.stats.common.attempts >= self.limits.max_attempts
                || self.sender.revealed_msat() > 0
            {
                return;
            }
            let unplaced = self.split.as_ref().map_or(0, |p| p.unplaced_msat);
            if unplaced == 0 {
                break;
            }
            let before = self.stats.common.attempts;
            self.place_split(false, router, net, clock, out);
            if self.stats.common.attempts == before {
                // Nothing could be placed: wait for a part to come back.
                return;
            }
        }
        if !self.limits.retry {
            return;
        }
        let short: Vec<(u32, u64)> = self
            .split
            .as_ref()
            .map(|p| {
                p.slots
                    .iter()
                    .filter(|s| s.live > 0 && s.live < s.wanted)
                    .map(|s| (s.id, s.amount_msat))
                    .collect()
            })
            .unwrap_or_default();
        for (slot, a) in short {
            if self.stats.common.attempts >= self.limits.max_attempts {
                return;
            }
            let Some((path, p)) = self.route_part(router, net, a, &[], clock.now) else {
                continue;
            };
            router.htlcs_in_flight(net.graph(), &path, true);
            self.send_part(a, path, p, slot, router, net, clock, out);
        }
        if let Some(plan) = &mut self.split {
            plan.sweep();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_lost_only_with_its_last_copy() {
        let mut plan = SplitPlan {
            started: true,
            ..SplitPlan::default()
        };
        let a = plan.new_slot(700);
        let b = plan.new_slot(300);
        plan.sent(a);
        plan.sent(a);
        plan.sent(b);
        assert!(plan.complete());
        plan.lost(a);
        assert!(plan.complete(), "one copy of a is still alive");
        plan.lost(b);
        assert!(!plan.complete());
        assert_eq!(plan.unplaced_msat, 300);
        plan.lost(a);
        assert_eq!(plan.unplaced_msat, 1_000);
        assert!(plan.slots.is_empty());
    }

    #[test]
    fn surplus_copies_follow_the_strategy() {
        assert_eq!(SplitPlan::surplus(RedundancyStrategy::Fixed(0.5), 3), 2);
        assert_eq!(SplitPlan::surplus(RedundancyStrategy::Fixed(0.0), 3), 0);
        assert_eq!(SplitPlan::surplus(RedundancyStrategy::Fixed(1.0), 4), 4);
        assert_eq!(SplitPlan::surplus(RedundancyStrategy::Extra(5), 1), 5);
    }
}
