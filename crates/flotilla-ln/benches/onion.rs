//! Real-mode onion costs: build per path length, peel per hop, failure round trip.
//!
//! `cargo bench -p flotilla-ln --bench onion`

use std::hint::black_box;

use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use flotilla_ln::failure::{ChannelUpdateRef, FailureCode, FailureData};
use flotilla_ln::onion::real::{
    build_failure, build_onion, build_onion_packet, decode_failure, onion_shared_secrets,
    peel_onion, wrap_failure,
};
use flotilla_ln::payload::{HopPayload, PaymentData};
use flotilla_ln::PaymentSecret;

const HASH: [u8; 32] = [0x77; 32];

fn path(n: usize) -> (Vec<SecretKey>, Vec<(PublicKey, HopPayload)>) {
    let secp = Secp256k1::new();
    let keys: Vec<SecretKey> = (0..n)
        .map(|i| SecretKey::from_slice(&[0x10 + i as u8; 32]).unwrap())
        .collect();
    let hops = keys
        .iter()
        .enumerate()
        .map(|(i, sk)| {
            let amt = 1_000_000 + 1_000 * (n - i) as u64;
            let cltv = 900_000 + 40 * (n - i) as u32;
            let payload = if i + 1 == n {
                HopPayload::final_hop(
                    amt,
                    cltv,
                    Some(PaymentData {
                        payment_secret: PaymentSecret([0x55; 32]),
                        total_msat: amt,
                    }),
                    None,
                )
            } else {
                HopPayload::forward(0x0c_3500_0001_0001 + i as u64, amt, cltv)
            };
            (PublicKey::from_secret_key(&secp, sk), payload)
        })
        .collect();
    (keys, hops)
}

fn bench(c: &mut Criterion) {
    let session = SecretKey::from_slice(&[0x99; 32]).unwrap();

    let mut g = c.benchmark_group("onion_build");
    for n in [2usize, 4, 8] {
        let (_, hops) = path(n);
        g.bench_with_input(BenchmarkId::new("with_secrets", n), &hops, |b, hops| {
            b.iter(|| build_onion(black_box(&session), black_box(hops), &HASH).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("packet_only", n), &hops, |b, hops| {
            b.iter(|| build_onion_packet(black_box(&session), black_box(hops), &HASH).unwrap())
        });
        let nodes: Vec<PublicKey> = hops.iter().map(|(pk, _)| *pk).collect();
        g.bench_with_input(BenchmarkId::new("secrets_only", n), &nodes, |b, nodes| {
            b.iter(|| onion_shared_secrets(black_box(&session), black_box(nodes)).unwrap())
        });
    }
    g.finish();

    // Peel one layer at a forwarding hop (the first of a 4-hop path) and at the final hop.
    let (keys, hops) = path(4);
    let built = build_onion(&session, &hops, &HASH).unwrap();
    let mut onions = vec![built.onion.clone()];
    for k in &keys[..3] {
        let next = peel_onion(k, onions.last().unwrap(), &HASH)
            .unwrap()
            .next
            .unwrap();
        onions.push(next);
    }
    let mut g = c.benchmark_group("onion_peel");
    g.bench_function("forwarding_hop", |b| {
        b.iter(|| peel_onion(black_box(&keys[0]), black_box(&onions[0]), &HASH).unwrap())
    });
    g.bench_function("final_hop", |b| {
        b.iter(|| peel_onion(black_box(&keys[3]), black_box(&onions[3]), &HASH).unwrap())
    });
    g.finish();

    // Failure built at the last of 4 hops, wrapped by the 3 before it, decoded at the sender.
    let data = FailureData {
        htlc_msat: Some(1_000_000),
        channel_update: Some(ChannelUpdateRef {
            short_channel_id: 42,
            direction: 1,
            disabled: false,
        }),
        ..FailureData::default()
    };
    let secrets = built.shared_secrets.clone();
    let mut g = c.benchmark_group("onion_failure");
    g.bench_function("build_at_hop", |b| {
        b.iter(|| build_failure(black_box(&secrets[3]), FailureCode::FeeInsufficient, &data))
    });
    g.bench_function("wrap_per_hop", |b| {
        let f = build_failure(&secrets[3], FailureCode::FeeInsufficient, &data);
        b.iter(|| wrap_failure(black_box(&secrets[2]), f.clone()))
    });
    let mut wrapped = build_failure(&secrets[3], FailureCode::FeeInsufficient, &data);
    for ss in secrets[..3].iter().rev() {
        wrapped = wrap_failure(ss, wrapped);
    }
    g.bench_function("decode_from_hop3_of_4", |b| {
        b.iter(|| decode_failure(black_box(&secrets), black_box(&wrapped)).unwrap())
    });
    g.bench_function("round_trip_hop3_of_4", |b| {
        b.iter(|| {
            let mut f = build_failure(&secrets[3], FailureCode::FeeInsufficient, &data);
            for ss in secrets[..3].iter().rev() {
                f = wrap_failure(ss, f);
            }
            decode_failure(&secrets, &f).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
