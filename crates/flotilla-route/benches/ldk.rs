//! LDK's `find_route` (through [`LdkRouter`]) on the bundled 2026 mainnet snapshot.
//!
//! `cargo bench -p flotilla-route --bench ldk` prints the per-query latency
//! distribution (median, p90, p99 over 500 fixed seeded queries: endpoints from the
//! largest strongly connected component, amounts log-uniform in [1,000, 1,000,000] sat,
//! the same generator and seed as the `pathfinder` bench) for a single path and for up
//! to 10 parts (no minimum part size, so LDK's own `max_path_count = 10`), then runs
//! the criterion benchmarks. A smoke run is `cargo bench -p flotilla-route --bench ldk -- --test`.
//!
//! The scorer learns nothing here (no outcomes are reported), so every query sees the
//! same LDK state: this measures path finding alone.

use std::hint::black_box;
use std::path::{Path as FsPath, PathBuf};
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use flotilla_graph::stats::largest_scc;
use flotilla_graph::{read_graph, Graph};
use flotilla_route::ldk::LdkRouter;
use flotilla_route::{RouteRequest, Router, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const QUERIES: usize = 500;
const SEED: u64 = 2026;

fn snapshot() -> PathBuf {
    FsPath::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/mainnet-2026-02-03.describegraph.json.gz")
}

fn load() -> Graph {
    read_graph(&snapshot(), None)
        .expect("bundled snapshot")
        .graph
}

/// Distinct endpoints from the largest SCC, amounts log-uniform in [1,000, 1,000,000]
/// sat; `parts` > 1 allows that many parts with no minimum part size.
fn queries(graph: &Graph, n: usize, seed: u64, parts: u32) -> Vec<RouteRequest> {
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
            req.limits.max_parts = parts;
            if parts > 1 {
                req.limits.min_part_msat = 1;
            }
            req
        })
        .collect()
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Times every query once and prints the distribution.
fn distribution(label: &str, graph: &Graph, router: &mut LdkRouter, qs: &[RouteRequest]) {
    let mut millis = Vec::with_capacity(qs.len());
    let mut answered_millis = Vec::with_capacity(qs.len());
    let mut parts = 0usize;
    for q in qs {
        let t0 = Instant::now();
        let r = black_box(router.find_route(graph, q, Timestamp::ZERO));
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        millis.push(ms);
        if let Ok(route) = r {
            answered_millis.push(ms);
            parts += route.paths.len();
        }
    }
    millis.sort_by(f64::total_cmp);
    answered_millis.sort_by(f64::total_cmp);
    let answered = answered_millis.len();
    println!(
        "ldk {label}: {} queries, median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms; answered {:.1}% \
         (median {:.2} ms, p99 {:.2} ms), mean parts {:.2}",
        qs.len(),
        percentile(&millis, 0.5),
        percentile(&millis, 0.9),
        percentile(&millis, 0.99),
        100.0 * answered as f64 / qs.len() as f64,
        if answered > 0 {
            percentile(&answered_millis, 0.5)
        } else {
            f64::NAN
        },
        if answered > 0 {
            percentile(&answered_millis, 0.99)
        } else {
            f64::NAN
        },
        parts as f64 / answered.max(1) as f64,
    );
}

fn bench(c: &mut Criterion) {
    let graph = load();
    let t0 = Instant::now();
    let mut router = LdkRouter::new(&graph);
    println!(
        "ldk: NetworkGraph built in {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    let single = queries(&graph, QUERIES, SEED, 1);
    let mpp = queries(&graph, QUERIES, SEED, 10);
    // Full distributions only in a real run: a smoke run (`-- --test`) skips them.
    if !std::env::args().any(|a| a == "--test") {
        distribution("single path", &graph, &mut router, &single);
        distribution("up to 10 parts", &graph, &mut router, &mpp);
    }
    let mut g = c.benchmark_group("ldk find_route mainnet-2026");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    for (name, qs) in [("single path", &single), ("max 10 parts", &mpp)] {
        let mut i = 0;
        g.bench_function(name, |b| {
            b.iter(|| {
                let q = &qs[i % qs.len()];
                i += 1;
                black_box(router.find_route(&graph, q, Timestamp::ZERO)).is_ok()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
