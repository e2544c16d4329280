//! Modeled-mode protocol costs: a payment's whole round trip (send, every forward, the
//! receiver's claim, every fulfil back, the sender's settle event) by path length, so the
//! slope is the cost of one hop there and back; the forwarding decision alone; and a
//! failure round trip; and, for scale, the same settle with real onions.
//!
//! `cargo bench -p flotilla-ln --bench forward`

use std::collections::VecDeque;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use flotilla_graph::liquidity::Balances;
use flotilla_graph::{
    Channel, ChannelIdx, Direction, EdgeIdx, Graph, GraphBuilder, Node, NodeIdx, NodePubkey,
    Policy, ShortChannelId,
};
use flotilla_ln::clock::Clock;
use flotilla_ln::forward::{check_forward, ForwardCtx};
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::msg::Msg;
use flotilla_ln::network::Network;
use flotilla_ln::output::Output;
use flotilla_ln::payload::{HopPayload, PaymentData};
use flotilla_ln::receiver::InvoiceRecord;
use flotilla_ln::sender::{PartId, SendPart};
use flotilla_route::{Path, Timestamp};

const HEIGHT: u32 = 800_000;
const AMOUNT: u64 = 1_000_000;

/// A line of `n + 1` nodes joined by 100 BTC channels split evenly.
fn line(n: usize) -> (Graph, Balances) {
    let mut b = GraphBuilder::new();
    let nodes: Vec<NodeIdx> = (0..=n)
        .map(|i| {
            let mut s = [0u8; 32];
            s[24..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            b.add_node(Node::bare(NodePubkey::from_secret(s).unwrap()))
                .unwrap()
        })
        .collect();
    let policy = Policy {
        fee_base_msat: 1_000,
        fee_rate_ppm: 100,
        cltv_expiry_delta: 40,
        htlc_minimum_msat: 1_000,
        htlc_maximum_msat: u64::MAX / 2,
        disabled: false,
        last_update: 0,
    };
    for i in 0..n {
        b.add_channel(Channel {
            scid: ShortChannelId::from_parts(700_000, i as u64 + 1, 0).unwrap(),
            nodes: [nodes[i], nodes[i + 1]],
            capacity_sat: 10_000_000_000,
            policies: [Some(policy), Some(policy)],
            chan_point: None,
            last_update: 0,
        })
        .unwrap();
    }
    let g = b.build();
    let half = g.channels()[0].capacity_msat() / 2;
    let balances = Balances::from_vec(vec![half; g.edge_slots()]);
    (g, balances)
}

fn keys(i: u64) -> PaymentKeys {
    let mut pre = [0u8; 32];
    pre[..8].copy_from_slice(&i.to_le_bytes());
    let mut sec = [7u8; 32];
    sec[..8].copy_from_slice(&i.to_le_bytes());
    PaymentKeys::from_bytes(pre, sec)
}

/// A network, a path over all its hops, and a FIFO of messages.
struct Bench {
    net: Network,
    path: Path,
    receiver: NodeIdx,
    clock: Clock,
    out: Vec<Output>,
    queue: VecDeque<(NodeIdx, NodeIdx, Msg)>,
    next: u64,
}

impl Bench {
    fn new(hops: usize) -> Self {
        let (g, b) = line(hops);
        let edges: Vec<EdgeIdx> = (0..hops)
            .map(|i| ChannelIdx(i as u32).edge(Direction::AToB))
            .collect();
        let path = Path::build(&g, &edges, AMOUNT, 18).unwrap();
        let receiver = NodeIdx(hops as u32);
        let net = Network::with_default_configs(Arc::new(g), b).unwrap();
        Bench {
            net,
            path,
            receiver,
            clock: Clock::new(Timestamp::from_secs(1), HEIGHT),
            out: Vec::with_capacity(16),
            queue: VecDeque::with_capacity(16),
            next: 0,
        }
    }

    /// Registers `n` invoices (not timed) and returns their keys.
    fn invoices(&mut self, n: u64) -> Vec<PaymentKeys> {
        (0..n)
            .map(|_| {
                let k = keys(self.next);
                self.next += 1;
                let inv = InvoiceRecord {
                    preimage: k.preimage,
                    payment_secret: k.secret,
                    amount_msat: Some(AMOUNT),
                    min_final_cltv_expiry_delta: 18,
                    expires_at: Timestamp::from_secs(1 << 30),
                };
                self.net
                    .register_invoice(self.receiver, k.hash, inv)
                    .unwrap();
                k
            })
            .collect()
    }

    /// One payment, send to settle event, every message delivered in FIFO order.
    #[inline]
    fn pay(&mut self, k: &PaymentKeys, data: bool) {
        let part = SendPart {
            id: PartId(0),
            path: &self.path,
            payment_hash: k.hash,
            payment_data: data.then_some(PaymentData {
                payment_secret: k.secret,
                total_msat: AMOUNT,
            }),
            keysend_preimage: None,
        };
        self.net.send(part, &self.clock, &mut self.out).unwrap();
        loop {
            for o in self.out.drain(..) {
                if let Output::Message { from, to, msg } = o {
                    self.queue.push_back((from, to, msg));
                } else {
                    black_box(o);
                }
            }
            let Some((from, to, msg)) = self.queue.pop_front() else {
                break;
            };
            self.net
                .deliver(to, from, msg, &self.clock, &mut self.out)
                .unwrap();
        }
    }
}

fn round_trip(c: &mut Criterion) {
    let mut g = c.benchmark_group("payment_round_trip");
    for hops in [1usize, 2, 4, 8] {
        g.bench_function(BenchmarkId::new("settle", hops), |b| {
            let mut bench = Bench::new(hops);
            b.iter_custom(|iters| {
                let ks = bench.invoices(iters);
                let t = Instant::now();
                for k in &ks {
                    bench.pay(k, true);
                }
                t.elapsed()
            })
        });
    }
    // The same 4-hop settle with real Sphinx onions (build at the sender, a peel per hop).
    g.bench_function(BenchmarkId::new("settle_real_onion", 4), |b| {
        let mut bench = Bench::new(4);
        bench.net.enable_real_onions(1);
        b.iter_custom(|iters| {
            let ks = bench.invoices(iters);
            let t = Instant::now();
            for k in &ks {
                bench.pay(k, true);
            }
            t.elapsed()
        })
    });
    // Fails at the receiver (unknown hash): every hop forwards, then relays the failure.
    g.bench_function(BenchmarkId::new("fail_at_receiver", 4), |b| {
        let mut bench = Bench::new(4);
        let k = keys(u64::MAX);
        b.iter(|| bench.pay(&k, false))
    });
    g.finish();
}

fn forward_decision(c: &mut Criterion) {
    let (g, balances) = line(2);
    let net = Network::with_default_configs(Arc::new(g.clone()), balances).unwrap();
    let node = net.node(NodeIdx(1));
    let ctx = ForwardCtx {
        dir: node.directory(),
        config: node.config(),
        ends: node.ends(),
        clock: Clock::new(Timestamp::ZERO, HEIGHT),
    };
    let payload = HopPayload::forward(g.channels()[1].scid.0, AMOUNT, HEIGHT + 18);
    let incoming = AMOUNT + 1_100;
    c.bench_function("forward_check", |b| {
        b.iter(|| {
            check_forward(
                black_box(&ctx),
                NodeIdx(1),
                black_box(incoming),
                HEIGHT + 58,
                black_box(&payload),
            )
            .unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = round_trip, forward_decision
}
criterion_main!(benches);
