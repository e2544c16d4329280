//! Unit tests of `redundant_session`.

use super::*;

#[test]
fn poisson_binomial_tail() {
    assert_eq!(at_least(&[], 0), 1.0);
    assert_eq!(at_least(&[], 1), 0.0);
    assert!((at_least(&[0.5, 0.5], 1) - 0.75).abs() < 1e-12);
    assert!((at_least(&[0.5, 0.5], 2) - 0.25).abs() < 1e-12);
    // 2 of 3 with p = 0.9: 3·0.81·0.1 + 0.729 = 0.972.
    assert!((at_least(&[0.9; 3], 2) - 0.972).abs() < 1e-12);
    assert!((at_least(&[1.0, 0.0, 0.3], 2) - 0.3).abs() < 1e-12);
}

#[test]
fn equal_parts_when_a_divisor_is_near() {
    assert_eq!(part_amounts(20_000_000, 2, 0.5), vec![10_000_000; 3]);
    assert_eq!(part_amounts(1_000, 3, 0.0), vec![250; 4]);
    assert_eq!(part_amounts(5_000, 1, 1.0), vec![5_000; 2]);
}

#[test]
fn uneven_parts_have_an_exact_k_subset() {
    // 1009 is prime: no divisor in 3..=6.
    let parts = part_amounts(1_009, 3, 1.0);
    assert_eq!(parts.len(), 6);
    assert_eq!(parts[..3].iter().sum::<u64>(), 1_009);
    assert_eq!(parts[3..].iter().sum::<u64>(), 1_009);
}

#[test]
fn extra_parts_are_a_count_on_top_of_k() {
    let limits = |strategy| RedundantLimits {
        strategy,
        retry: false,
        max_part_msat: 1,
        max_base_parts: 25,
        max_parts_in_flight: 75,
        max_attempts: 1000,
        timeout_micros: 60_000_000,
        max_fee_msat: 1_000_000,
        final_cltv_delta: 40,
        min_route_probability: 0.01,
        excluded_nodes: Vec::new(),
        min_part_msat: 1,
        base_split: false,
        hedge_hop_micros: None,
        tree_copies: false,
    };
    let session = |amount_msat: u64, strategy| {
        RedundantSession::new(
            RedundantPayment {
                id: 1,
                source: NodeIdx(0),
                target: NodeIdx(1),
                amount_msat,
                lock: LockKind::SenderHash,
                payment_id: [1; 32],
                payment_secret: PaymentSecret([2; 32]),
                payment_hash: None,
                commitments: None,
                secret_seed: 3,
            },
            limits(strategy),
            Timestamp::ZERO,
        )
    };
    // 25 divides 50,000,000 msat: k' = 25, and 7 more.
    let s = session(50_000_000, RedundancyStrategy::Extra(7));
    assert_eq!((s.needed_parts(), s.planned_parts()), (25, 32));
    assert_eq!(
        session(50_000_000, RedundancyStrategy::Extra(0)).planned_parts(),
        25
    );
    // 1009 msat has no divisor in 25..=50: uneven parts, their pattern repeated.
    let s = session(1_009, RedundancyStrategy::Extra(30));
    assert_eq!(s.planned_parts(), 55);
}
