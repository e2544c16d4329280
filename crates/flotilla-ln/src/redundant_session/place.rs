//! Placing a redundant payment's parts: routing each (disjoint where it can), the
//! first placement and top-ups of the fixed and adaptive strategies, the hedge, and
//! sending. Split mode's placement is in [`super::split`].

use crate::clock::Clock;
use crate::lock::LockKind;
use crate::output::Output;
use crate::redundant::{choose_exact_subset, RedundantSender};
use crate::sender::PartId;
use crate::session::{AttemptRecord, FailureReason, SessionState, FINAL_CLTV_PADDING};
use flotilla_graph::EdgeIdx;
use flotilla_route::{Limits, Path, Route, RouteRequest, Router, Timestamp};

use super::{
    at_least, split, InFlight, RedundancyStrategy, RedundantSession, SenderNet, HEDGE_FACTOR,
    PART_BITS,
};

impl RedundantSession {
    /// Routes one part of `amount`: disjoint from the live parts if possible. Once a
    /// disjoint search has failed, later parts skip it (more parts only exclude more
    /// channels): a failed search explores the whole reachable graph.
    pub(super) fn route_part<N: SenderNet + ?Sized>(
        &mut self,
        router: &mut dyn Router,
        net: &N,
        amount: u64,
        extra_used: &[EdgeIdx],
        now: Timestamp,
    ) -> Option<(Path, f64)> {
        let mut routed = self.route_parts(router, net, amount, extra_used, 1, now)?;
        Some(routed.swap_remove(0))
    }

    /// [`Self::route_part`] for `n` parts of `amount` at once: with `tree_copies`, the
    /// first part's search also yields paths edge-disjoint from it for the others
    /// ([`Router::find_disjoint_paths`]), as many as it found (at least one, at most
    /// `n`); otherwise, or when the parts may share channels, one path. Copies the
    /// router rates below `min_route_probability` are left out; `None` as
    /// `route_part`.
    pub(super) fn route_parts<N: SenderNet + ?Sized>(
        &mut self,
        router: &mut dyn Router,
        net: &N,
        amount: u64,
        extra_used: &[EdgeIdx],
        n: usize,
        now: Timestamp,
    ) -> Option<Vec<(Path, f64)>> {
        let total = self.sender.amount_msat.max(1);
        let fee = (self.limits.max_fee_msat as u128 * amount as u128 / total as u128) as u64;
        let first_hops = net.first_hops(self.source);
        let request = |excluded: Vec<EdgeIdx>| RouteRequest {
            source: self.source,
            target: self.target,
            amount_msat: amount,
            final_cltv_delta: self.limits.final_cltv_delta + FINAL_CLTV_PADDING,
            limits: Limits {
                max_fee_msat: fee,
                max_total_cltv: 2016,
                max_parts: 1,
                min_part_msat: amount,
                max_path_len: 20,
                excluded_edges: excluded,
                excluded_nodes: self.limits.excluded_nodes.clone(),
            },
            first_hops: Some(first_hops.clone()),
        };
        let n = if self.limits.tree_copies { n } else { 1 };
        let mut found = None;
        if !self.disjoint_exhausted {
            let mut disjoint = self.failed_edges.clone();
            disjoint.extend(extra_used.iter().copied());
            for f in &self.in_flight {
                disjoint.extend(f.path.hops.iter().map(|h| h.edge));
            }
            let nothing_to_avoid = disjoint.len() == self.failed_edges.len();
            found = if n > 1 {
                router
                    .find_disjoint_paths(net.graph(), &request(disjoint), n, now)
                    .ok()
                    .filter(|paths| !paths.is_empty())
            } else {
                router
                    .find_route(net.graph(), &request(disjoint), now)
                    .ok()
                    .and_then(first_path)
                    .map(|p| vec![p])
            };
            if found.is_none() && nothing_to_avoid {
                // The same search again would fail again.
                return None;
            }
            self.disjoint_exhausted = found.is_none();
        }
        let mut found = match found {
            Some(f) => f,
            None => vec![first_path(
                router
                    .find_route(net.graph(), &request(self.failed_edges.clone()), now)
                    .ok()?,
            )?],
        };
        if found[0].1 < self.limits.min_route_probability {
            return None;
        }
        let min_p = self.limits.min_route_probability;
        found.retain(|(_, p)| *p >= min_p);
        Some(found)
    }

    /// Routes and sends the first parts (once), then, with retry or an adaptive target,
    /// whatever the payment still wants.
    pub fn pump<N: SenderNet + ?Sized>(
        &mut self,
        router: &mut dyn Router,
        net: &mut N,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        if self.state != SessionState::Active {
            return;
        }
        if !self.placed {
            self.placed = true;
            self.place_first(router, net, clock, out);
            if let (Some(hop), SessionState::Active) = (self.limits.hedge_hop_micros, self.state) {
                let expected = self.longest_path_hops() as f64 * hop as f64;
                self.hedge_at = Some(self.started + (HEDGE_FACTOR * expected) as u64);
            }
        }
        if self.state == SessionState::Active && self.tops_up() {
            self.top_up(router, net, clock, out);
        }
        if self.hedge_at.is_some() && !self.can_complete() && !self.tops_up() {
            // A failure left the live parts short and nothing else would be sent: the
            // held-back surplus is the payment's second chance now.
            self.hedge(router, net, clock, out);
        }
        self.give_up_if_hopeless(clock.now);
        // The paper's sender: parts refused at the first hop may leave too few.
        self.give_up_if_short(clock.now);
    }

    /// Hedging: when the driver should call [`RedundantSession::hedge`] (`None` once it
    /// has fired, or for a payment that does not hedge).
    pub fn hedge_at(&self) -> Option<Timestamp> {
        self.hedge_at
    }

    /// Sends the held-back surplus (once), unless the payment is decided, the sender
    /// has heard it is complete (the claim request answered, or a part settled), or its
    /// time is up.
    pub fn hedge<N: SenderNet + ?Sized>(
        &mut self,
        router: &mut dyn Router,
        net: &mut N,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        if self.hedge_at.take().is_none() {
            return;
        }
        self.hedge_fired = true;
        if self.state != SessionState::Active
            || self.exhausted
            || self.sender.revealed_msat() > 0
            || self.stats.common.parts_settled > 0
            || clock.now >= self.deadline()
        {
            return;
        }
        if self.split.is_some() {
            self.hedge_split(router, net, clock, out);
        } else {
            self.pending.extend(self.held_back.drain(..));
            self.send_pending(router, net, clock, out);
        }
    }

    pub(super) fn place_first<N: SenderNet + ?Sized>(
        &mut self,
        router: &mut dyn Router,
        net: &mut N,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        if self.split.is_some() {
            self.place_split(true, router, net, clock, out);
            return;
        }
        let mut used: Vec<EdgeIdx> = Vec::new();
        let mut planned: Vec<(u64, Path, f64)> = Vec::new();
        if let RedundancyStrategy::Adaptive { target } = self.limits.strategy {
            self.place_adaptive(target, &mut planned, &mut used, router, net, clock.now);
        } else {
            self.pending = self.amounts.iter().copied().collect();
            if self.limits.hedge_hop_micros.is_some() {
                // The first `needed` amounts make up A (module docs, part sizing).
                let k = (self.needed as usize).min(self.pending.len());
                self.held_back = self.pending.split_off(k).into();
            }
            self.place_pending(&mut planned, &mut used, router, net, clock.now);
        }
        // Parts that cannot add up to A would only sit at the receiver until its
        // timeout: send nothing.
        let routed: Vec<(u16, u64)> = planned
            .iter()
            .enumerate()
            .map(|(i, (a, _, _))| (i as u16, *a))
            .collect();
        if choose_exact_subset(&routed, self.sender.amount_msat).is_none() {
            for (_, path, _) in &planned {
                router.htlcs_in_flight(net.graph(), path, false);
            }
            self.state = SessionState::Failed(FailureReason::NoRoute, clock.now);
            return;
        }
        for (amount, path, p) in planned {
            self.send_part(amount, path, p, split::NO_SLOT, router, net, clock, out);
        }
    }

    /// Routes parts of the base amount into `planned` until the probability that k'
    /// of them arrive reaches `target` (or `max_parts_in_flight`, or a part finds no
    /// path: neither would the next one of the same size).
    pub(super) fn place_adaptive<N: SenderNet + ?Sized>(
        &mut self,
        target: f64,
        planned: &mut Vec<(u64, Path, f64)>,
        used: &mut Vec<EdgeIdx>,
        router: &mut dyn Router,
        net: &N,
        now: Timestamp,
    ) {
        let cap = self.limits.max_parts_in_flight.max(self.needed) as usize;
        let mut probs: Vec<f64> = Vec::new();
        for i in 0..cap {
            if self.stats.common.attempts as usize + planned.len()
                >= self.limits.max_attempts as usize
                || (i >= self.needed as usize && at_least(&probs, self.needed as usize) >= target)
            {
                return;
            }
            let amount = self.amounts[i % self.amounts.len()];
            let Some((path, p)) = self.route_part(router, net, amount, used, now) else {
                return;
            };
            used.extend(path.hops.iter().map(|h| h.edge));
            // The router counts the part in flight at once, so that later parts see the
            // liquidity it will take.
            router.htlcs_in_flight(net.graph(), &path, true);
            probs.push(p);
            planned.push((amount, path, p));
        }
    }

    /// Routes the pending amounts (fixed strategy) into `planned`, splitting a
    /// hash-locked amount no path carries once some part has proved the payment
    /// routable; stops at the first amount that cannot be placed at all.
    pub(super) fn place_pending<N: SenderNet + ?Sized>(
        &mut self,
        planned: &mut Vec<(u64, Path, f64)>,
        used: &mut Vec<EdgeIdx>,
        router: &mut dyn Router,
        net: &N,
        now: Timestamp,
    ) {
        // Paths found for the next parts of the same amount (`tree_copies`), last first.
        let mut copies: Vec<(Path, f64)> = Vec::new();
        while let Some(amount) = self.pending.pop_front() {
            if self.stats.common.attempts as usize + planned.len()
                >= self.limits.max_attempts as usize
            {
                self.pending.push_front(amount);
                return;
            }
            let routed = match copies.pop() {
                Some(c) if c.0.amount_msat() == amount => Some(c),
                _ => {
                    copies.clear();
                    // This part and the pending ones of its amount right after it,
                    // within the attempts left.
                    let same = 1 + self.pending.iter().take_while(|&&a| a == amount).count();
                    let left = (self.limits.max_attempts as usize)
                        .saturating_sub(self.stats.common.attempts as usize + planned.len());
                    self.route_parts(router, net, amount, used, same.min(left), now)
                        .map(|mut found| {
                            let first = found.remove(0);
                            copies = found;
                            copies.reverse();
                            first
                        })
                }
            };
            match routed {
                Some((path, p)) => {
                    used.extend(path.hops.iter().map(|h| h.edge));
                    // The router counts the part in flight at once, so that later parts
                    // see the liquidity it will take.
                    router.htlcs_in_flight(net.graph(), &path, true);
                    planned.push((amount, path, p));
                }
                None => {
                    let proven = !planned.is_empty() || self.stats.common.attempts > 0;
                    let half = amount / 2;
                    if proven
                        && self.sender.lock != LockKind::Boomerang
                        && half >= self.limits.min_part_msat.max(1)
                    {
                        // Two halves that together stand for the amount.
                        self.pending.push_front(amount - half);
                        self.pending.push_front(half);
                        // Smaller parts may fit where the big one did not, disjoint or not.
                        self.disjoint_exhausted = false;
                    } else {
                        self.pending.clear();
                        return;
                    }
                }
            }
        }
    }

    /// Replaces failed parts (retry) or adds parts until the adaptive target holds.
    pub(super) fn top_up<N: SenderNet + ?Sized>(
        &mut self,
        router: &mut dyn Router,
        net: &mut N,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        if self.split.is_some() {
            self.top_up_split(router, net, clock, out);
            return;
        }
        if !matches!(self.limits.strategy, RedundancyStrategy::Adaptive { .. }) {
            if self.exhausted || clock.now >= self.deadline() || self.sender.revealed_msat() > 0 {
                return;
            }
            self.send_pending(router, net, clock, out);
            return;
        }
        while !self.exhausted
            && clock.now < self.deadline()
            && self.stats.common.attempts < self.limits.max_attempts
            && self.sender.revealed_msat() == 0
            && self.wants_more()
        {
            let amount = self.next_amount();
            let Some((path, p)) = self.route_part(router, net, amount, &[], clock.now) else {
                self.exhausted = true;
                break;
            };
            router.htlcs_in_flight(net.graph(), &path, true);
            self.send_part(amount, path, p, split::NO_SLOT, router, net, clock, out);
        }
    }

    /// Routes and sends the pending amounts (fixed strategy). Parts refused at the first
    /// hop come back to `pending` at once: go round until nothing more can be placed
    /// (each refusal costs an attempt).
    pub(super) fn send_pending<N: SenderNet + ?Sized>(
        &mut self,
        router: &mut dyn Router,
        net: &mut N,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        loop {
            let mut planned = Vec::new();
            self.place_pending(&mut planned, &mut Vec::new(), router, net, clock.now);
            if planned.is_empty() {
                // Nothing could be placed (or nothing was lost).
                self.exhausted = self.exhausted || !self.can_complete();
                return;
            }
            for (amount, path, p) in planned {
                self.send_part(amount, path, p, split::NO_SLOT, router, net, clock, out);
            }
            if self.pending.is_empty() {
                return;
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn send_part<N: SenderNet + ?Sized>(
        &mut self,
        amount: u64,
        path: Path,
        probability: f64,
        slot: u32,
        router: &mut dyn Router,
        net: &mut N,
        clock: &Clock,
        out: &mut Vec<Output>,
    ) {
        let payment_id = self.sender.payment_id;
        let n = self.sender.part_count() as u16;
        let i = self.sender.add_part(
            amount,
            RedundantSender::derive_secret(self.secret_seed, &payment_id, n),
        );
        self.stats.common.attempts += 1;
        let part = PartId((self.id << PART_BITS) | (i as u64 & ((1 << PART_BITS) - 1)));
        match net.send_redundant(self.sender.part(i, part, &path), clock, out) {
            Ok(_) => {
                self.stats.common.parts_sent += 1;
                self.in_flight.push(InFlight {
                    part,
                    index: i,
                    path,
                    sent_at: clock.now,
                    probability,
                    slot,
                });
                if let Some(plan) = &mut self.split {
                    plan.sent(slot);
                }
            }
            Err(err) => {
                router.htlcs_in_flight(net.graph(), &path, false);
                self.requeue(amount);
                self.failures.note(FailureReason::of_send_error(&err));
                if let Some(pf) = err.path_failure() {
                    router.path_failed(net.graph(), &path, pf, clock.now);
                    if let Some(h) = path.hops.get(pf.hop).filter(|_| self.avoids(pf.kind)) {
                        self.failed_edges.push(h.edge);
                    }
                }
                let n = Self::part_number(part);
                self.log
                    .push(AttemptRecord::refused(self.id, n, path, &err, clock.now));
            }
        }
    }
}

/// A single-path route's path and probability.
fn first_path(route: Route) -> Option<(Path, f64)> {
    let p = route.probabilities.first().copied().unwrap_or(1.0);
    Some((route.paths.into_iter().next()?, p))
}
