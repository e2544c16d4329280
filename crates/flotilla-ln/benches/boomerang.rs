//! Boomerang's arithmetic: what a sender pays per part (the point P(x)·G from the
//! commitments), what the receiver pays per arriving part (its share and its point),
//! what every hop pays per claim (one generator multiplication), and the sender's
//! interpolation of P(0) after an over-claim, at the Boomerang paper's k = 25.
//!
//! `cargo bench -p flotilla-ln --bench boomerang`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use flotilla_ln::boomerang::{opens_point, BoomerangPolynomial};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("boomerang");
    for k in [5u16, 25] {
        let poly = BoomerangPolynomial::from_seed(&[7; 32], k);
        let commitments = poly.commitments();
        g.bench_with_input(BenchmarkId::new("sender_point", k), &k, |b, _| {
            b.iter(|| commitments.point(black_box(37)))
        });
        g.bench_with_input(BenchmarkId::new("receiver_share", k), &k, |b, _| {
            b.iter(|| poly.share(black_box(37)))
        });
        g.bench_with_input(BenchmarkId::new("commitments", k), &k, |b, _| {
            b.iter(|| poly.commitments())
        });
        let shares: Vec<_> = (0..=k).map(|i| (i, poly.share(i).unwrap())).collect();
        g.bench_with_input(BenchmarkId::new("recover_secret", k), &k, |b, _| {
            b.iter(|| commitments.recover_secret(black_box(&shares)))
        });
        let point = commitments.point(3).unwrap();
        let scalar = poly.share(3).unwrap().secret_bytes();
        g.bench_with_input(BenchmarkId::new("hop_check", k), &k, |b, _| {
            b.iter(|| opens_point(&point, black_box(&scalar)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
