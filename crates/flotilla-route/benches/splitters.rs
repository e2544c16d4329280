//! The MPP splitters on the bundled 2026 mainnet snapshot, beside LDK's `find_route`.
//!
//! `cargo bench -p flotilla-route --bench splitters` prints, for the same fixed seeded
//! queries (endpoints from the largest strongly connected component, amounts
//! log-uniform in [1,000, 1,000,000] sat, at most 10 parts, `Limits::for_amount`
//! otherwise, so parts of at least 10,000 sat; scorer `UniformScorer`), the per-query
//! latency distribution of each splitter (`greedy`, `mcf`, `halving`) and of LDK 0.2.7
//! with up to 10 paths on a subset, the share answered, parts and searches per query,
//! mean fee and mean success probability of the routes under the uniform model (all
//! parts arriving, parts sharing a channel direction counted together), and the
//! speed-up against LDK's median; then it runs the criterion benchmarks.
//!
//! `SPLITTERS_QUERIES` (default 1,000) and `SPLITTERS_LDK_QUERIES` (default 200, 0 to
//! skip LDK) change the sizes. A smoke run is
//! `cargo bench -p flotilla-route --bench splitters -- --test`.

use std::hint::black_box;
use std::path::{Path as FsPath, PathBuf};
use std::time::Instant;

use criterion::{criterion_group, Criterion};
use flotilla_graph::stats::largest_scc;
use flotilla_graph::{read_graph, Graph};
use flotilla_route::ldk::LdkRouter;
use flotilla_route::scorers::UniformScorer;
use flotilla_route::splitters::{GreedySplitter, HalvingSplitter, MinCostFlowSplitter, SplitStats};
use flotilla_route::{Route, RouteRequest, Router, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SEED: u64 = 2026;
const MAX_PARTS: u32 = 10;

fn snapshot() -> PathBuf {
    FsPath::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/mainnet-2026-02-03.describegraph.json.gz")
}

fn load() -> Graph {
    read_graph(&snapshot(), None)
        .expect("bundled snapshot")
        .graph
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Distinct endpoints from the largest SCC, amounts log-uniform in [1,000, 1,000,000]
/// sat (the generator and seed of the `pathfinder` and `ldk` benches), up to 10 parts.
fn queries(graph: &Graph, n: usize, seed: u64) -> Vec<RouteRequest> {
    let scc = largest_scc(graph);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let s = scc[rng.random_range(0..scc.len())];
            let mut t = s;
            while t == s {
                t = scc[rng.random_range(0..scc.len())];
            }
            let sat = (rng.random_range(1_000f64.ln()..1_000_000f64.ln())).exp();
            let mut req = RouteRequest::new(s, t, (sat * 1000.0).round() as u64);
            req.limits.max_parts = MAX_PARTS;
            req
        })
        .collect()
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// What one router did on the queries.
struct Summary {
    name: String,
    micros: Vec<f64>,
    /// Latencies of the answered queries only.
    answered_micros: Vec<f64>,
    answered: usize,
    parts: usize,
    fee_ppm: f64,
    probability: f64,
    searches: u64,
    fallbacks: usize,
}

impl Summary {
    fn median(&self) -> f64 {
        let mut s = self.micros.clone();
        s.sort_by(f64::total_cmp);
        percentile(&s, 0.5)
    }

    fn print(&self, ldk_median: Option<f64>) {
        let mut s = self.micros.clone();
        s.sort_by(f64::total_cmp);
        let n = self.micros.len().max(1) as f64;
        let a = self.answered.max(1) as f64;
        let speedup = ldk_median
            .map(|l| format!(", {:.1}x faster than LDK's median", l / percentile(&s, 0.5)))
            .unwrap_or_default();
        println!(
            "  {:<8} median {:>8.1} µs, p90 {:>8.1} µs, p99 {:>8.1} µs, mean {:>8.1} µs{speedup}",
            self.name,
            percentile(&s, 0.5),
            percentile(&s, 0.9),
            percentile(&s, 0.99),
            self.micros.iter().sum::<f64>() / n,
        );
        let mut ok = self.answered_micros.clone();
        ok.sort_by(f64::total_cmp);
        println!(
            "           answered queries only: median {:>8.1} µs, p99 {:>8.1} µs",
            percentile(&ok, 0.5),
            percentile(&ok, 0.99)
        );
        println!(
            "           answered {}/{} ({:.1}%), {:.2} parts, {:.2} searches per query, fee {:.0} ppm, P(all parts) {:.4}{}",
            self.answered,
            self.micros.len(),
            100.0 * self.answered as f64 / n,
            self.parts as f64 / a,
            self.searches as f64 / n,
            self.fee_ppm / a,
            self.probability / a,
            if self.fallbacks > 0 {
                format!(", the greedy answer for {} of them", self.fallbacks)
            } else {
                String::new()
            }
        );
    }
}

/// The probability that every part arrives under uniform hidden liquidity, counting
/// the parts that share a channel direction together: the product over directions of
/// `(c + 1 − a) / (c + 1)`, with `a` the sum of the parts' HTLCs on it.
fn joint_probability(graph: &Graph, route: &Route) -> f64 {
    let mut load: Vec<(u32, u64)> = route
        .paths
        .iter()
        .flat_map(|p| p.hops.iter().map(|h| (h.edge.0, h.amount_msat)))
        .collect();
    load.sort_unstable();
    let mut p = 1.0;
    let mut i = 0;
    while i < load.len() {
        let e = load[i].0;
        let mut a = 0u64;
        while i < load.len() && load[i].0 == e {
            a += load[i].1;
            i += 1;
        }
        let c = graph
            .channel(flotilla_graph::EdgeIdx(e).channel())
            .capacity_msat() as f64;
        p *= ((c + 1.0 - a as f64) / (c + 1.0)).max(0.0);
    }
    p
}

/// Runs `router` over `qs` once to warm up, then times each query.
fn measure<R: Router>(
    graph: &Graph,
    router: &mut R,
    qs: &[RouteRequest],
    stats: impl Fn(&R) -> Option<SplitStats>,
) -> Summary {
    for q in qs.iter().take(50) {
        let _ = black_box(router.find_route(graph, q, Timestamp::ZERO));
    }
    let mut sum = Summary {
        name: router.name().to_string(),
        micros: Vec::with_capacity(qs.len()),
        answered_micros: Vec::new(),
        answered: 0,
        parts: 0,
        fee_ppm: 0.0,
        probability: 0.0,
        searches: 0,
        fallbacks: 0,
    };
    for q in qs {
        let t0 = Instant::now();
        let r: Result<Route, _> = black_box(router.find_route(graph, q, Timestamp::ZERO));
        let us = t0.elapsed().as_secs_f64() * 1e6;
        sum.micros.push(us);
        let st = stats(router);
        sum.searches += st.map_or(0, |s| s.searches as u64);
        if let Ok(route) = r {
            sum.answered_micros.push(us);
            sum.answered += 1;
            sum.fallbacks += usize::from(st.is_some_and(|s| s.fallback.is_some()));
            sum.parts += route.paths.len();
            sum.fee_ppm += route.fee_msat() as f64 * 1e6 / q.amount_msat as f64;
            sum.probability += joint_probability(graph, &route);
        }
    }
    sum
}

fn distribution(graph: &Graph, qs: &[RouteRequest], ldk_n: usize) {
    println!(
        "splitters/mainnet-2026 ({} queries, seed {SEED}, up to {MAX_PARTS} parts, UniformScorer; LDK on the first {ldk_n}):",
        qs.len()
    );
    let ldk = if ldk_n > 0 {
        let mut router = LdkRouter::new(graph);
        let s = measure(graph, &mut router, &qs[..ldk_n.min(qs.len())], |_| None);
        Some(s)
    } else {
        None
    };
    let ldk_median = ldk.as_ref().map(Summary::median);
    let mut greedy = GreedySplitter::new(UniformScorer);
    greedy.prepare(graph);
    let mut mcf = MinCostFlowSplitter::new(UniformScorer);
    mcf.prepare(graph);
    let mut halving = HalvingSplitter::new(UniformScorer);
    halving.prepare(graph);
    let sums = [
        measure(graph, &mut greedy, qs, |r| Some(r.last_stats())),
        measure(graph, &mut mcf, qs, |r| Some(r.last_stats())),
        measure(graph, &mut halving, qs, |r| Some(r.last_stats())),
    ];
    if let Some(l) = &ldk {
        l.print(None);
    }
    for s in &sums {
        s.print(ldk_median);
    }
    if ldk_n > 0 && ldk_n < qs.len() {
        // The same subset for a like-for-like comparison.
        let sub = &qs[..ldk_n];
        println!("  on LDK's {ldk_n} queries only:");
        for s in [
            measure(graph, &mut greedy, sub, |r| Some(r.last_stats())),
            measure(graph, &mut mcf, sub, |r| Some(r.last_stats())),
            measure(graph, &mut halving, sub, |r| Some(r.last_stats())),
        ] {
            s.print(ldk_median);
        }
    }
}

fn bench(c: &mut Criterion) {
    let graph = load();
    let n = env_usize("SPLITTERS_QUERIES", 1_000);
    let ldk_n = env_usize("SPLITTERS_LDK_QUERIES", 200).min(n);
    let qs = queries(&graph, n, SEED);
    distribution(&graph, &qs, ldk_n);

    let mut g = c.benchmark_group("splitters/mainnet-2026");
    macro_rules! cycle {
        ($label:expr, $router:expr) => {
            g.bench_function($label, |b| {
                let mut r = $router;
                r.prepare(&graph);
                let mut i = 0;
                b.iter(|| {
                    let q = &qs[i % qs.len()];
                    i += 1;
                    black_box(r.find_route(&graph, q, Timestamp::ZERO)).is_ok()
                })
            });
        };
    }
    cycle!(
        "greedy (queries cycled)",
        GreedySplitter::new(UniformScorer)
    );
    cycle!(
        "mcf (queries cycled)",
        MinCostFlowSplitter::new(UniformScorer)
    );
    cycle!(
        "halving (queries cycled)",
        HalvingSplitter::new(UniformScorer)
    );
    g.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
