//! Unit tests of `generate`.

use super::*;
use crate::stats::largest_scc;
use crate::types::{ChannelIdx, Direction};

/// Degree per node, counting channels.
fn degrees(g: &Graph) -> Vec<usize> {
    let mut d = vec![0; g.node_count()];
    for c in g.channels() {
        d[c.nodes[0].ix()] += 1;
        d[c.nodes[1].ix()] += 1;
    }
    d
}

/// No self-loops, no two channels between the same pair, BOLT 7 order, unique ids.
fn assert_simple(g: &Graph) {
    let mut pairs = HashSet::new();
    let mut scids = HashSet::new();
    for c in g.channels() {
        let [a, b] = c.nodes;
        assert_ne!(a, b, "self-loop");
        assert!(g.node(a).pubkey < g.node(b).pubkey, "not in BOLT 7 order");
        assert!(pairs.insert((a, b)), "duplicate channel {a:?}-{b:?}");
        assert!(scids.insert(c.scid));
        assert!(c.scid.is_onchain());
    }
}

fn assert_balances_fit(g: &Graph, b: &Balances) {
    assert!(b.fits(g));
    for i in 0..g.channel_count() {
        let c = ChannelIdx(i as u32);
        let sum = b.side(c, Direction::AToB) + b.side(c, Direction::BToA);
        assert_eq!(sum, g.channel(c).capacity_msat());
    }
}

#[test]
fn ws_defaults_have_the_boomerang_shape() {
    let ws = WattsStrogatz::default();
    let (g, b) = ws.generate(1).unwrap();
    assert_eq!(g.node_count(), 100);
    assert_eq!(g.channel_count(), 100 * 8 / 2);
    assert_simple(&g);
    assert_balances_fit(&g, &b);
    assert!(g.warnings().is_empty());
    // Every node keeps the k/2 edges it owns, so the minimum degree is k/2.
    assert!(degrees(&g).iter().all(|&d| d >= 4));
    assert_eq!(g.node(NodeIdx(17)).alias, "ws-17");
}

#[test]
fn ws_sides_are_in_range() {
    let (g, b) = WattsStrogatz::default().generate(2).unwrap();
    for &side in b.as_slice() {
        assert!((100_000_000..=1_000_000_000).contains(&side), "{side}");
        assert_eq!(side % 1000, 0, "whole sat");
    }
    for c in g.channels() {
        assert!((200_000..=2_000_000).contains(&c.capacity_sat));
    }
    // Log-uniform on [100, 1000]: the median side is sqrt(100 × 1000) ≈ 316 units.
    let mut sides = b.into_vec();
    sides.sort_unstable();
    let median = sides[sides.len() / 2] as f64 / 1e6;
    assert!((median - 316.2).abs() < 40.0, "median side {median} units");
}

#[test]
fn ws_without_rewiring_is_the_ring_lattice() {
    let ws = WattsStrogatz {
        n: 30,
        k: 6,
        p: 0.0,
        ..WattsStrogatz::default()
    };
    let (g, _) = ws.generate(3).unwrap();
    assert_eq!(g.channel_count(), 90);
    assert!(degrees(&g).iter().all(|&d| d == 6));
    for c in g.channels() {
        let (a, b) = (c.nodes[0].0 as i64, c.nodes[1].0 as i64);
        let dist = (a - b).rem_euclid(30).min((b - a).rem_euclid(30));
        assert!((1..=3).contains(&dist), "{a}-{b} is not a lattice edge");
    }
}

#[test]
fn ws_rewiring_changes_the_lattice() {
    let ws = WattsStrogatz {
        p: 1.0,
        ..WattsStrogatz::default()
    };
    let (g, _) = ws.generate(4).unwrap();
    assert_simple(&g);
    let d = degrees(&g);
    assert_eq!(d.iter().sum::<usize>(), 800);
    assert!(d.iter().any(|&x| x != 8));
}

#[test]
fn ws_dense_corner_cases() {
    // k = n - 1: the complete graph; every rewiring must be skipped.
    for (n, k) in [(3, 2), (5, 4), (9, 8)] {
        let ws = WattsStrogatz {
            n,
            k,
            p: 1.0,
            ..WattsStrogatz::default()
        };
        let (g, b) = ws.generate(5).unwrap();
        assert_eq!(g.channel_count(), n * k / 2);
        assert_simple(&g);
        assert_balances_fit(&g, &b);
    }
}

#[test]
fn same_seed_same_graph() {
    let summary = |g: &Graph| -> Vec<_> {
        g.channels()
            .iter()
            .map(|c| {
                (
                    c.scid,
                    g.node(c.nodes[0]).pubkey,
                    g.node(c.nodes[1]).pubkey,
                    c.capacity_sat,
                    c.policies,
                )
            })
            .collect()
    };
    let ws = WattsStrogatz::default();
    let (g1, b1) = ws.generate(9).unwrap();
    let (g2, b2) = ws.generate(9).unwrap();
    assert_eq!(summary(&g1), summary(&g2));
    assert_eq!(g1.nodes(), g2.nodes());
    assert_eq!(b1, b2);
    let (g3, b3) = ws.generate(10).unwrap();
    assert_ne!(summary(&g1), summary(&g3));
    assert_ne!(b1, b3);

    let ba = BarabasiAlbert {
        n: 200,
        ..BarabasiAlbert::default()
    };
    let (h1, c1) = ba.generate(9).unwrap();
    let (h2, c2) = ba.generate(9).unwrap();
    assert_eq!(summary(&h1), summary(&h2));
    assert_eq!(c1, c2);
    let (h3, _) = ba.generate(10).unwrap();
    assert_ne!(summary(&h1), summary(&h3));
}

#[test]
fn random_fees_leave_topology_alone() {
    let plain = WattsStrogatz::default();
    let random = WattsStrogatz {
        policy: PolicyParams {
            random_fees: Some(RandomFees::default()),
            ..PolicyParams::default()
        },
        ..WattsStrogatz::default()
    };
    let (g1, b1) = plain.generate(6).unwrap();
    let (g2, b2) = random.generate(6).unwrap();
    assert_eq!(b1, b2);
    let ends = |g: &Graph| -> Vec<_> {
        g.channels()
            .iter()
            .map(|c| (c.nodes, c.capacity_sat))
            .collect()
    };
    assert_eq!(ends(&g1), ends(&g2));

    let r = RandomFees::default();
    let mut rates = Vec::new();
    for (_, p) in g2.policies() {
        assert!((r.min_base_msat..=r.max_base_msat).contains(&p.fee_base_msat));
        assert!((r.min_ppm..=r.max_ppm).contains(&p.fee_rate_ppm));
        rates.push(p.fee_rate_ppm);
    }
    rates.sort_unstable();
    assert!(rates.first() < rates.last());
    // Log-uniform: the median rate is near sqrt(2501) - 1 ≈ 49 ppm.
    let median = rates[rates.len() / 2];
    assert!((25..=100).contains(&median), "median rate {median}");
}

#[test]
fn default_policies() {
    let (g, _) = BarabasiAlbert::default().generate(1).unwrap();
    for (e, p) in g.policies() {
        assert_eq!(p.fee_base_msat, 1_000);
        assert_eq!(p.fee_rate_ppm, 1);
        assert_eq!(p.cltv_expiry_delta, 40);
        assert_eq!(p.htlc_minimum_msat, 1_000);
        assert_eq!(p.htlc_maximum_msat, g.channel(e.channel()).capacity_msat());
        assert!(!p.disabled);
    }
    assert_eq!(g.policies().count(), g.edge_slots());
}

#[test]
fn ba_counts_capacities_and_hub() {
    let ba = BarabasiAlbert::default();
    let (g, b) = ba.generate(7).unwrap();
    assert_eq!(g.node_count(), 1_000);
    assert_eq!(g.channel_count(), 3 * 4 / 2 + (1_000 - 4) * 3);
    assert_simple(&g);
    assert_balances_fit(&g, &b);
    assert!(g.warnings().is_empty());
    for c in g.channels() {
        assert!((100_000..=10_000_000).contains(&c.capacity_sat));
    }
    let d = degrees(&g);
    assert!(d.iter().all(|&x| x >= 3));
    let max = *d.iter().max().unwrap();
    assert!(max >= 10 * 3, "largest degree {max} is no hub");
    assert_eq!(g.node(NodeIdx(17)).alias, "ba-17");
    // The split is LiquidityModel::Uniform with the same seed.
    assert_eq!(LiquidityModel::Uniform.assign(&g, 7).unwrap(), b);
}

#[test]
fn ba_small_cases() {
    for (n, m) in [(2, 1), (3, 1), (5, 4), (10, 2)] {
        let (g, b) = BarabasiAlbert {
            n,
            m,
            ..BarabasiAlbert::default()
        }
        .generate(8)
        .unwrap();
        assert_eq!(g.node_count(), n);
        assert_eq!(g.channel_count(), m * (m + 1) / 2 + (n - m - 1) * m);
        assert_simple(&g);
        assert_balances_fit(&g, &b);
    }
}

#[test]
fn defaults_are_strongly_connected() {
    for seed in 0..5 {
        let (g, _) = WattsStrogatz::default().generate(seed).unwrap();
        assert_eq!(largest_scc(&g).len(), g.node_count(), "ws seed {seed}");
        let (g, _) = BarabasiAlbert::default().generate(seed).unwrap();
        assert_eq!(largest_scc(&g).len(), g.node_count(), "ba seed {seed}");
    }
}

#[test]
fn node_keys_are_stable_and_distinct() {
    let a = node_key(5, 17).unwrap();
    assert_eq!(a, node_key(5, 17).unwrap());
    assert_ne!(a, node_key(5, 18).unwrap());
    assert_ne!(a, node_key(6, 17).unwrap());
    let (g, _) = WattsStrogatz::default().generate(5).unwrap();
    assert_eq!(g.node(NodeIdx(17)).pubkey, a);
}

#[test]
fn scids_look_real() {
    assert_eq!(synthetic_scid(0).unwrap().to_string(), "700000x1x0");
    assert_eq!(synthetic_scid(1_999).unwrap().to_string(), "700001x1000x0");
    assert!(synthetic_scid(u32::MAX as usize).is_some());
}

#[test]
fn bad_parameters_are_refused() {
    let ws = WattsStrogatz::default;
    let bad_ws = [
        ("k", WattsStrogatz { k: 7, ..ws() }),
        ("k", WattsStrogatz { k: 0, ..ws() }),
        ("n", WattsStrogatz { n: 8, ..ws() }),
        ("n", WattsStrogatz { n: 0, ..ws() }),
        (
            "n",
            WattsStrogatz {
                n: usize::MAX,
                ..ws()
            },
        ),
        ("p", WattsStrogatz { p: -0.1, ..ws() }),
        ("p", WattsStrogatz { p: 1.5, ..ws() }),
        (
            "p",
            WattsStrogatz {
                p: f64::NAN,
                ..ws()
            },
        ),
        (
            "min_units",
            WattsStrogatz {
                min_units: 0.0,
                ..ws()
            },
        ),
        (
            "min_units",
            WattsStrogatz {
                min_units: f64::INFINITY,
                ..ws()
            },
        ),
        (
            "max_units",
            WattsStrogatz {
                max_units: 50.0,
                ..ws()
            },
        ),
        (
            "max_units",
            WattsStrogatz {
                max_units: f64::NAN,
                ..ws()
            },
        ),
        (
            "max_units",
            WattsStrogatz {
                max_units: 1e300,
                ..ws()
            },
        ),
        (
            "unit_msat",
            WattsStrogatz {
                unit_msat: 0,
                ..ws()
            },
        ),
        (
            "unit_msat",
            WattsStrogatz {
                min_units: 1.1,
                max_units: 1.2,
                unit_msat: 1,
                ..ws()
            },
        ),
        (
            "htlc_minimum_msat",
            WattsStrogatz {
                policy: PolicyParams {
                    htlc_minimum_msat: u64::MAX,
                    ..PolicyParams::default()
                },
                ..ws()
            },
        ),
        (
            "random_fees.min_ppm",
            WattsStrogatz {
                policy: PolicyParams {
                    random_fees: Some(RandomFees {
                        min_ppm: 10,
                        max_ppm: 5,
                        ..RandomFees::default()
                    }),
                    ..PolicyParams::default()
                },
                ..ws()
            },
        ),
        (
            "random_fees.min_base_msat",
            WattsStrogatz {
                policy: PolicyParams {
                    random_fees: Some(RandomFees {
                        min_base_msat: 10,
                        max_base_msat: 5,
                        ..RandomFees::default()
                    }),
                    ..PolicyParams::default()
                },
                ..ws()
            },
        ),
    ];
    for (param, w) in bad_ws {
        match w.generate(0) {
            Err(GenerateError::InvalidParameter { param: p, .. }) => {
                assert_eq!(p, param, "{w:?}")
            }
            other => panic!("{param}: {:?}", other.map(|_| ())),
        }
    }
    let ba = BarabasiAlbert::default;
    let bad_ba = [
        ("m", BarabasiAlbert { m: 0, ..ba() }),
        ("n", BarabasiAlbert { n: 3, ..ba() }),
        (
            "n",
            BarabasiAlbert {
                n: usize::MAX,
                ..ba()
            },
        ),
        (
            "n",
            BarabasiAlbert {
                n: 100_000,
                m: 99_999,
                ..ba()
            },
        ),
        ("min_sat", BarabasiAlbert { min_sat: 0, ..ba() }),
        (
            "max_sat",
            BarabasiAlbert {
                max_sat: 99_999,
                ..ba()
            },
        ),
        (
            "max_sat",
            BarabasiAlbert {
                min_sat: 1,
                max_sat: u64::MAX,
                ..ba()
            },
        ),
        (
            "htlc_minimum_msat",
            BarabasiAlbert {
                policy: PolicyParams {
                    htlc_minimum_msat: 100_000_001,
                    ..PolicyParams::default()
                },
                ..ba()
            },
        ),
    ];
    for (param, b) in bad_ba {
        match b.generate(0) {
            Err(GenerateError::InvalidParameter { param: p, .. }) => {
                assert_eq!(p, param, "{b:?}")
            }
            other => panic!("{param}: {:?}", other.map(|_| ())),
        }
    }
    let e = WattsStrogatz { k: 7, ..ws() }.validate().unwrap_err();
    assert_eq!(
        e.to_string(),
        "watts-strogatz: k = 7: must be even and at least 2"
    );
}

#[test]
fn fractional_units_and_small_unit_sizes_work() {
    // 1 unit = 1 sat, sides 1.5 ..= 3 sat: whole sat in 2..=3.
    let ws = WattsStrogatz {
        min_units: 1.5,
        max_units: 3.0,
        unit_msat: 1_000,
        policy: PolicyParams {
            htlc_minimum_msat: 1,
            ..PolicyParams::default()
        },
        ..WattsStrogatz::default()
    };
    let (g, b) = ws.generate(0).unwrap();
    assert_balances_fit(&g, &b);
    assert!(b.as_slice().iter().all(|&s| s == 2_000 || s == 3_000));
}
