//! The bound on every amount: no channel, payment or sum of them can hold more bitcoin
//! than will ever exist.
//!
//! [`MAX_MSAT`] is the one definition of that bound; every reader of amounts (graph
//! files, scenarios, workload files, invoices) refuses what exceeds it, so that the
//! arithmetic downstream (sat → msat, fees, sums over channels) cannot wrap.

/// The 21 million bitcoin supply, in msat: 21,000,000 BTC × 10⁸ sat × 1,000 msat.
pub const MAX_MSAT: u64 = 2_100_000_000_000_000_000;

/// [`MAX_MSAT`] in whole sat.
pub const MAX_SAT: u64 = MAX_MSAT / 1000;

/// `sat` in msat, or `None` when it is above the bitcoin supply ([`MAX_SAT`]).
#[inline]
pub fn sat_to_msat(sat: u64) -> Option<u64> {
    (sat <= MAX_SAT).then(|| sat * 1000)
}

/// Why an amount was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "{value} {unit} is more than the 21,000,000 BTC that will ever exist (at most {max} {unit})"
)]
pub struct AboveSupply {
    /// The amount given.
    pub value: u64,
    /// `sat` or `msat`.
    pub unit: &'static str,
    /// The bound in that unit.
    pub max: u64,
}

/// `msat` unchanged, or an error when it is above [`MAX_MSAT`].
pub fn check_msat(msat: u64) -> Result<u64, AboveSupply> {
    if msat > MAX_MSAT {
        Err(AboveSupply {
            value: msat,
            unit: "msat",
            max: MAX_MSAT,
        })
    } else {
        Ok(msat)
    }
}

/// `sat` unchanged, or an error when it is above [`MAX_SAT`].
pub fn check_sat(sat: u64) -> Result<u64, AboveSupply> {
    if sat > MAX_SAT {
        Err(AboveSupply {
            value: sat,
            unit: "sat",
            max: MAX_SAT,
        })
    } else {
        Ok(sat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_21_million_btc_and_converts_without_wrapping() {
        assert_eq!(MAX_MSAT, 21_000_000 * 100_000_000 * 1000);
        assert_eq!(sat_to_msat(MAX_SAT), Some(MAX_MSAT));
        assert_eq!(sat_to_msat(MAX_SAT + 1), None);
        assert_eq!(sat_to_msat(u64::MAX), None);
        assert!(check_msat(MAX_MSAT).is_ok());
        let e = check_msat(MAX_MSAT + 1).unwrap_err().to_string();
        assert!(e.contains("21,000,000 BTC"), "{e}");
        assert!(check_sat(MAX_SAT + 1).is_err());
    }

    #[test]
    fn a_graph_never_holds_more_than_the_supply() {
        use crate::{BuildError, Channel, GraphBuilder, Node, NodePubkey, ShortChannelId};
        let mut b = GraphBuilder::new();
        let key = |i: u8| {
            let mut secret = [0u8; 32];
            secret[31] = i;
            NodePubkey::from_secret(secret).unwrap()
        };
        let a = b.add_node(Node::bare(key(1))).unwrap();
        let z = b.add_node(Node::bare(key(2))).unwrap();
        let channel = |i: u64, capacity_sat: u64| Channel {
            scid: ShortChannelId(i),
            nodes: [a, z],
            capacity_sat,
            policies: [None, None],
            chan_point: None,
            last_update: 0,
        };
        // Two channels near 2^63 sat each used to sum to 0 (wrapping).
        assert_eq!(
            b.add_channel(channel(1, 1 << 63)),
            Err(BuildError::CapacityAboveSupply {
                capacity_sat: 1 << 63
            })
        );
        b.add_channel(channel(2, MAX_SAT - 5)).unwrap();
        let e = b.add_channel(channel(3, 6)).unwrap_err();
        assert!(e.to_string().contains("21,000,000 BTC"), "{e}");
        let c = b.add_channel(channel(4, 5)).unwrap();
        assert!(b.raise_capacity(c, 6).is_err());
        b.raise_capacity(c, 4).unwrap();
        let g = b.build();
        assert_eq!(g.total_capacity_sat(), MAX_SAT);
        assert_eq!(crate::stats::GraphStats::compute(&g).capacity_sat, MAX_SAT);
    }
}
