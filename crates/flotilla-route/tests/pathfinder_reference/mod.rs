//! The references the path finder's tests compare against: what it computes,
//! written as plainly as possible (a textbook reverse Dijkstra, a from-scratch cost of
//! one path, and an exhaustive search over every simple path).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use flotilla_graph::{EdgeIdx, Graph, NodeIdx};
use flotilla_route::{CostParams, RouteRequest, Scorer, Timestamp};

/// The time every test asks its questions at.
pub const NOW: Timestamp = Timestamp::ZERO;

#[derive(Clone, Debug)]
struct RefLabel {
    cost: f64,
    amount: u64,
    cltv: u32,
    hops: u32,
    next: Option<EdgeIdx>,
}

/// Min-heap entry ordered by cost.
#[derive(PartialEq)]
struct Entry(f64, usize);
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
    }
}

/// The definition of what the pathfinder computes, written as plainly as possible: a
/// textbook reverse Dijkstra over the `Graph` itself, one label per node, every
/// policy and limit checked on each relaxation, the scorer asked eagerly, no pruning.
/// Costs are summed in the order the pathfinder documents, so equal paths give equal
/// bits.
pub fn reference_label_setting<S: Scorer>(
    g: &Graph,
    scorer: &S,
    req: &RouteRequest,
    params: &CostParams,
) -> Option<(f64, Vec<EdgeIdx>)> {
    let n = g.node_count();
    let (s, t, a) = (req.source.ix(), req.target.ix(), req.amount_msat);
    let lim = &req.limits;
    if a == 0 || s >= n || t >= n || s == t || lim.max_path_len == 0 {
        return None;
    }
    if req.final_cltv_delta > lim.max_total_cltv {
        return None;
    }
    let (rp, cp, hp) = (
        params.risk_price(a),
        params.cltv_price(a),
        params.hop_price(a),
    );
    let max_len = lim.max_path_len as u32;
    let mut label: Vec<Option<RefLabel>> = vec![None; n];
    let mut settled = vec![false; n];
    for x in &lim.excluded_nodes {
        if x.ix() < n && x.ix() != s && x.ix() != t {
            settled[x.ix()] = true;
        }
    }
    label[t] = Some(RefLabel {
        cost: 0.0,
        amount: a,
        cltv: req.final_cltv_delta,
        hops: 0,
        next: None,
    });
    let mut heap = BinaryHeap::new();
    heap.push(Entry(0.0, t));
    while let Some(Entry(c, v)) = heap.pop() {
        let lv = label[v].clone().unwrap();
        if settled[v] || c != lv.cost {
            continue;
        }
        settled[v] = true;
        if v == s {
            let mut path = Vec::new();
            let mut x = s;
            while let Some(e) = label[x].as_ref().unwrap().next {
                path.push(e);
                x = g.edge_target(e).ix();
            }
            return Some((lv.cost, path));
        }
        for &e in g.in_edges(NodeIdx(v as u32)) {
            let u = g.edge_source(e).ix();
            if settled[u] || lim.excluded_edges.contains(&e) {
                continue;
            }
            let Some(p) = g.policy(e) else { continue };
            let amt = lv.amount;
            if p.disabled
                || amt < p.htlc_minimum_msat
                || amt > p.htlc_maximum_msat
                || amt > g.channel(e.channel()).capacity_msat()
            {
                continue;
            }
            let nlp = scorer.cost(g, e, amt, NOW);
            if nlp.is_nan() || nlp == f64::INFINITY {
                continue;
            }
            let nlp = if nlp > 0.0 { nlp } else { 0.0 };
            let cand = if u == s {
                if lv.hops + 1 > max_len {
                    continue;
                }
                RefLabel {
                    cost: lv.cost + hp + rp * nlp,
                    amount: amt,
                    cltv: lv.cltv,
                    hops: lv.hops + 1,
                    next: Some(e),
                }
            } else {
                if lv.hops + 2 > max_len {
                    continue;
                }
                let fee = p.fee_msat(amt);
                let Some(au) = amt.checked_add(fee) else {
                    continue;
                };
                if au - a > lim.max_fee_msat {
                    continue;
                }
                let cu = lv.cltv as u64 + p.cltv_expiry_delta as u64;
                if cu > lim.max_total_cltv as u64 {
                    continue;
                }
                RefLabel {
                    cost: lv.cost + fee as f64 + cp * p.cltv_expiry_delta as f64 + hp + rp * nlp,
                    amount: au,
                    cltv: cu as u32,
                    hops: lv.hops + 1,
                    next: Some(e),
                }
            };
            if label[u].as_ref().is_none_or(|l| cand.cost < l.cost) {
                heap.push(Entry(cand.cost, u));
                label[u] = Some(cand);
            }
        }
    }
    None
}

/// The cost of `edges` delivering the request, if that path obeys every policy and
/// limit; computed from scratch with `Policy::fee_msat`.
pub fn feasible_cost<S: Scorer>(
    g: &Graph,
    scorer: &S,
    req: &RouteRequest,
    params: &CostParams,
    edges: &[EdgeIdx],
) -> Option<f64> {
    let lim = &req.limits;
    let a = req.amount_msat;
    let k = edges.len();
    if k == 0 || k > lim.max_path_len as usize {
        return None;
    }
    let mut amounts = vec![0u64; k];
    let mut cltvs = vec![0u64; k];
    amounts[k - 1] = a;
    cltvs[k - 1] = req.final_cltv_delta as u64;
    for i in (1..k).rev() {
        let p = g.policy(edges[i])?;
        amounts[i - 1] = amounts[i].checked_add(p.fee_msat(amounts[i]))?;
        cltvs[i - 1] = cltvs[i] + p.cltv_expiry_delta as u64;
    }
    if amounts[0] - a > lim.max_fee_msat || cltvs[0] > lim.max_total_cltv as u64 {
        return None;
    }
    for (i, &e) in edges.iter().enumerate() {
        let p = g.policy(e)?;
        if p.disabled
            || lim.excluded_edges.contains(&e)
            || amounts[i] < p.htlc_minimum_msat
            || amounts[i] > p.htlc_maximum_msat
            || amounts[i] > g.channel(e.channel()).capacity_msat()
        {
            return None;
        }
        if i > 0 && lim.excluded_nodes.contains(&g.edge_source(e)) {
            return None;
        }
    }
    let (rp, cp, hp) = (
        params.risk_price(a),
        params.cltv_price(a),
        params.hop_price(a),
    );
    let mut cost = 0.0;
    for i in (0..k).rev() {
        let nlp = scorer.cost(g, edges[i], amounts[i], NOW);
        if nlp.is_nan() || nlp == f64::INFINITY {
            return None;
        }
        let nlp = if nlp > 0.0 { nlp } else { 0.0 };
        if i == 0 {
            cost = cost + hp + rp * nlp;
        } else {
            let fee = amounts[i - 1] - amounts[i];
            let delta = g.policy(edges[i])?.cltv_expiry_delta;
            cost = cost + fee as f64 + cp * delta as f64 + hp + rp * nlp;
        }
    }
    Some(cost)
}

/// The minimum cost over every simple path that obeys every policy and limit.
pub fn exhaustive<S: Scorer>(
    g: &Graph,
    scorer: &S,
    req: &RouteRequest,
    params: &CostParams,
) -> Option<f64> {
    struct Dfs<'a, S> {
        g: &'a Graph,
        scorer: &'a S,
        req: &'a RouteRequest,
        params: &'a CostParams,
        visited: Vec<NodeIdx>,
        edges: Vec<EdgeIdx>,
        best: Option<f64>,
    }
    impl<S: Scorer> Dfs<'_, S> {
        fn go(&mut self, at: NodeIdx) {
            if at == self.req.target {
                if let Some(c) =
                    feasible_cost(self.g, self.scorer, self.req, self.params, &self.edges)
                {
                    if self.best.is_none_or(|b| c < b) {
                        self.best = Some(c);
                    }
                }
                return;
            }
            if self.edges.len() >= self.req.limits.max_path_len as usize {
                return;
            }
            for &e in self.g.out_edges(at) {
                let next = self.g.edge_target(e);
                if self.visited.contains(&next) {
                    continue;
                }
                self.visited.push(next);
                self.edges.push(e);
                self.go(next);
                self.edges.pop();
                self.visited.pop();
            }
        }
    }
    if req.amount_msat == 0 || req.source == req.target {
        return None;
    }
    let mut dfs = Dfs {
        g,
        scorer,
        req,
        params,
        visited: vec![req.source],
        edges: Vec::new(),
        best: None,
    };
    dfs.go(req.source);
    dfs.best
}
