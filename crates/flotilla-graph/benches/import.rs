//! Import and statistics of the bundled mainnet snapshot.
//!
//! `cargo bench -p flotilla-graph --bench import`; a smoke run (one iteration each)
//! is `cargo bench -p flotilla-graph --bench import -- --test`.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion};
use flotilla_graph::import::read_bytes;
use flotilla_graph::read_graph;
use flotilla_graph::stats::{largest_scc, GraphStats};

fn snapshot() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/mainnet-2026-02-03.describegraph.json.gz")
}

fn import(c: &mut Criterion) {
    let path = snapshot();
    let mut g = c.benchmark_group("mainnet-2026");
    g.sample_size(10);
    g.bench_function("gunzip only", |b| {
        b.iter(|| read_bytes(&path).unwrap().len())
    });
    g.bench_function("import (gunzip + parse + validate + CSR)", |b| {
        b.iter(|| read_graph(&path, None).unwrap().graph.channel_count())
    });
    let graph = read_graph(&path, None).unwrap().graph;
    g.bench_function("largest SCC", |b| b.iter(|| largest_scc(&graph).len()));
    g.bench_function("all stats", |b| {
        b.iter(|| GraphStats::compute(&graph).nodes)
    });
    g.finish();
}

criterion_group!(benches, import);
criterion_main!(benches);
