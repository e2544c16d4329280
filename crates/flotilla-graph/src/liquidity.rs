//! Hidden liquidity: how each channel's capacity splits between its two sides.
//!
//! No public source has balances, so a simulation must assume them. Every model is
//! seeded, so the same seed gives the same balances.
//!
//! The models ([`LiquidityModel`]):
//! - `uniform`: each side's balance uniform in `0..=capacity`; the textbook
//!   assumption (Pickhardt–Richter's probabilistic pathfinding starts from it).
//! - `half`: every channel split evenly; the best case, useful as an upper bound.
//! - `bimodal[:SCALE]`: most liquidity sits near one end of the channel, the shape lnd's
//!   bimodal estimator assumes after observing mainnet (channels drain one way).
//! - `from-balances`: balances read from a file (e.g. a CLoTH export), checked to fit.
//!
//! Determinism: channel `i` draws from its own ChaCha8 stream `i` under a key derived
//! from the seed, so its balance depends only on `(seed, i, capacity, model)`: not on
//! how many values earlier channels consumed, nor on thread count or evaluation order.
//! The random models share the key, so two models run with one seed see the same
//! random numbers per channel (common random numbers make model comparisons less noisy).

use std::fmt;
use std::str::FromStr;

use bitcoin::hashes::{sha256, Hash, HashEngine};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::graph::Graph;
use crate::types::{ChannelIdx, Direction, EdgeIdx};

/// Spendable balance per directed edge, msat: `balances[edge]` is what the edge's
/// source node can send through it. For every channel the two sides sum to its
/// capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balances {
    msat: Vec<u64>,
}

impl Balances {
    /// Wraps per-edge balances; `msat.len()` must be `2 × channels`.
    pub fn from_vec(msat: Vec<u64>) -> Self {
        Balances { msat }
    }

    /// The balance of one side.
    #[inline]
    pub fn get(&self, e: EdgeIdx) -> u64 {
        self.msat[e.ix()]
    }

    /// The balance of a channel's side.
    pub fn side(&self, c: ChannelIdx, d: Direction) -> u64 {
        self.get(c.edge(d))
    }

    /// All balances, indexed by [`EdgeIdx`].
    pub fn as_slice(&self) -> &[u64] {
        &self.msat
    }

    /// Consumes into the raw vector.
    pub fn into_vec(self) -> Vec<u64> {
        self.msat
    }

    /// Whether these balances fit `graph`: one per directed edge, each channel's two
    /// sides summing to its capacity.
    pub fn fits(&self, graph: &Graph) -> bool {
        self.msat.len() == graph.edge_slots()
            && graph.channels().iter().enumerate().all(|(i, c)| {
                let ch = ChannelIdx(i as u32);
                self.side(ch, Direction::AToB) as u128 + self.side(ch, Direction::BToA) as u128
                    == c.capacity_msat() as u128
            })
    }
}

/// Why balances could not be assigned, or a model name did not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LiquidityError {
    /// The bimodal scale is zero, negative, NaN or infinite.
    #[error("invalid bimodal scale {0}: it must be a positive, finite amount of msat or fraction of capacity")]
    InvalidScale(String),
    /// Given balances do not match the graph.
    #[error("balances do not fit the graph: {0}")]
    BalancesDoNotFit(String),
    /// A model name that is not one of ours.
    #[error("unknown liquidity model {input:?}: {why} (expected uniform, half, bimodal, bimodal:SCALE_MSAT or bimodal:PERCENT%)")]
    Parse {
        /// What was given.
        input: String,
        /// What is wrong with it.
        why: String,
    },
}

/// The scale `s` of the bimodal model: how far liquidity leaks in from the ends of a
/// channel. Its density of the balance `x` on a channel of capacity `c` is
/// `exp(-x/s) + exp(-(c-x)/s)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BimodalScale {
    /// The same absolute scale for every channel, msat. This is lnd's parameterisation
    /// (`BimodalScaleMsat`): depletion is driven by payment sizes, which do not grow
    /// with the channel, so a 50 M sat channel is *relatively* more balanced-looking
    /// than a 500 k sat one. Use it on mainnet data, and to match what lnd's router
    /// assumes.
    Msat(u64),
    /// A scale proportional to each channel's capacity (`s = fraction × c`): every
    /// channel gets the same *shape*. Use it on synthetic graphs whose amounts are in
    /// arbitrary units, where an absolute msat scale would mean nothing.
    Fraction(f64),
}

impl BimodalScale {
    /// lnd's default `BimodalScaleMsat` (`routing/probability_bimodal.go`):
    /// 300,000,000 msat = 300 k sat, chosen by lnd from mainnet observations; it
    /// assumes a mostly unbalanced network.
    pub const LND_DEFAULT: BimodalScale = BimodalScale::Msat(300_000_000);

    /// Refuses a scale that would make the density meaningless.
    pub fn validate(&self) -> Result<(), LiquidityError> {
        match *self {
            BimodalScale::Msat(0) => Err(LiquidityError::InvalidScale("0 msat".into())),
            BimodalScale::Msat(_) => Ok(()),
            BimodalScale::Fraction(f) if f.is_finite() && f > 0.0 => Ok(()),
            BimodalScale::Fraction(f) => {
                Err(LiquidityError::InvalidScale(format!("{f} of capacity")))
            }
        }
    }

    /// The scale for a channel of `capacity_msat`, msat.
    fn for_capacity(&self, capacity_msat: u64) -> f64 {
        match *self {
            BimodalScale::Msat(s) => s as f64,
            BimodalScale::Fraction(f) => f * capacity_msat as f64,
        }
    }
}

impl Default for BimodalScale {
    /// [`BimodalScale::LND_DEFAULT`].
    fn default() -> Self {
        BimodalScale::LND_DEFAULT
    }
}

impl fmt::Display for BimodalScale {
    /// `300000000` (msat) or `10%` (of capacity), as [`LiquidityModel::from_str`] reads them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BimodalScale::Msat(s) => write!(f, "{s}"),
            BimodalScale::Fraction(x) => write!(f, "{}%", x * 100.0),
        }
    }
}

/// How a channel's capacity is split between its two sides when no data says so.
#[derive(Debug, Clone, PartialEq)]
pub enum LiquidityModel {
    /// The `nodes[0]` side holds an amount uniform in `0..=capacity` msat; the other
    /// side holds the rest.
    Uniform,
    /// Each side holds half (the `nodes[0]` side gets the odd msat, if any). Every
    /// channel is as balanced as it can be: a best case, not a guess.
    Half,
    /// lnd-style bimodal: the balance density is `exp(-x/s) + exp(-(c-x)/s)`, so most
    /// channels have nearly everything on one side. Sampled exactly (inverse CDF of
    /// the two-component mixture), not approximated.
    Bimodal {
        /// The scale `s`.
        scale: BimodalScale,
    },
    /// Balances that came with the data (e.g. CLoTH's `edges.csv`), used as they are
    /// after checking that they fit the graph. The seed is ignored.
    FromBalances(Balances),
}

impl Default for LiquidityModel {
    /// Uniform: the model that assumes least (every split equally likely), and the
    /// default of `flotilla sim`. lnd's bimodal shape predicts mainnet outcomes better
    /// and is one `--liquidity bimodal` away.
    fn default() -> Self {
        LiquidityModel::Uniform
    }
}

impl LiquidityModel {
    /// The model's name without parameters: `uniform`, `half`, `bimodal` or
    /// `from-balances`.
    pub fn name(&self) -> &'static str {
        match self {
            LiquidityModel::Uniform => "uniform",
            LiquidityModel::Half => "half",
            LiquidityModel::Bimodal { .. } => "bimodal",
            LiquidityModel::FromBalances(_) => "from-balances",
        }
    }

    /// Splits every channel of `graph`, seeded by `seed`. The two sides of each channel
    /// sum exactly to its `capacity_msat`. Channel `i`'s split depends only on the seed,
    /// `i`, its capacity and the model (see the module documentation).
    pub fn assign(&self, graph: &Graph, seed: u64) -> Result<Balances, LiquidityError> {
        match self {
            LiquidityModel::FromBalances(b) if b.fits(graph) => Ok(b.clone()),
            LiquidityModel::FromBalances(b) => {
                Err(LiquidityError::BalancesDoNotFit(misfit(b, graph)))
            }
            LiquidityModel::Half => Ok(split_all(graph, |_, c| c - c / 2)),
            LiquidityModel::Uniform => {
                let key = stream_key(seed);
                Ok(split_all(graph, |i, c| {
                    channel_rng(&key, i).random_range(0..=c)
                }))
            }
            LiquidityModel::Bimodal { scale } => {
                scale.validate()?;
                let key = stream_key(seed);
                Ok(split_all(graph, |i, c| {
                    sample_bimodal(&mut channel_rng(&key, i), c, scale.for_capacity(c))
                }))
            }
        }
    }
}

/// Builds balances from the `nodes[0]` side of each channel, `f(index, capacity_msat)`;
/// the other side gets the rest, so the sum is exact whatever `f` returns.
fn split_all(graph: &Graph, mut f: impl FnMut(usize, u64) -> u64) -> Balances {
    let mut msat = Vec::with_capacity(graph.edge_slots());
    for (i, ch) in graph.channels().iter().enumerate() {
        let c = ch.capacity_msat();
        let a = f(i, c).min(c);
        msat.push(a);
        msat.push(c - a);
    }
    Balances::from_vec(msat)
}

/// Channel `i`'s own random stream.
fn channel_rng(key: &[u8; 32], i: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::from_seed(*key);
    rng.set_stream(i as u64);
    rng
}

/// The ChaCha key of a seed. Hashing (rather than `seed_from_u64`) lets each channel
/// own a full stream of that key, addressed by its index.
fn stream_key(seed: u64) -> [u8; 32] {
    let mut e = sha256::Hash::engine();
    e.input(b"flotilla-liquidity");
    e.input(&seed.to_be_bytes());
    sha256::Hash::from_engine(e).to_byte_array()
}

/// One exact draw from the density `exp(-x/s) + exp(-(c-x)/s)` on `[0, c]`, rounded to
/// msat.
///
/// Both terms have the same mass on `[0, c]`, so the density is an equal mixture of an
/// exponential truncated to `[0, c]` and its mirror image. Pick a component with a fair
/// coin, then invert the truncated exponential's CDF `F(x) = (1 - e^(-x/s)) /
/// (1 - e^(-c/s))`: `x = -s·ln(1 - u·(1 - e^(-c/s)))`, written with `ln_1p`/`exp_m1`
/// so that it stays accurate when `c/s` is tiny (nearly uniform) or huge (nearly all
/// on one side). `u < 1` keeps the logarithm finite.
fn sample_bimodal(rng: &mut ChaCha8Rng, c: u64, s: f64) -> u64 {
    if c == 0 {
        return 0;
    }
    let mirrored: bool = rng.random();
    let u: f64 = rng.random();
    let cf = c as f64;
    let x = (-s * (u * (-cf / s).exp_m1()).ln_1p()).clamp(0.0, cf);
    // `as` saturates, and the caller clamps to `c` again.
    let x = x.round() as u64;
    if mirrored {
        c - x.min(c)
    } else {
        x.min(c)
    }
}

/// Says why `b` does not fit `graph`, for the error message.
fn misfit(b: &Balances, graph: &Graph) -> String {
    if b.as_slice().len() != graph.edge_slots() {
        return format!(
            "{} balances for {} directed edges ({} channels)",
            b.as_slice().len(),
            graph.edge_slots(),
            graph.channel_count()
        );
    }
    for (i, c) in graph.channels().iter().enumerate() {
        let ch = ChannelIdx(i as u32);
        let (a, z) = (b.side(ch, Direction::AToB), b.side(ch, Direction::BToA));
        if a as u128 + z as u128 != c.capacity_msat() as u128 {
            return format!(
                "channel {} has sides {a} + {z} msat but capacity {} msat",
                c.scid,
                c.capacity_msat()
            );
        }
    }
    "unknown mismatch".to_string()
}

impl fmt::Display for LiquidityModel {
    /// The name [`LiquidityModel::from_str`] reads back: `uniform`, `half`,
    /// `bimodal:300000000`, `bimodal:10%`; `from-balances` (which does not parse back,
    /// since the balances come from a file).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiquidityModel::Bimodal { scale } => write!(f, "bimodal:{scale}"),
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for LiquidityModel {
    type Err = LiquidityError;

    /// Reads a model name as the CLI takes it: `uniform`, `half`, `bimodal` (lnd's
    /// scale, 300,000,000 msat), `bimodal:SCALE_MSAT` (an integer, msat) or
    /// `bimodal:PERCENT%` (a scale of that share of each channel's capacity, e.g.
    /// `bimodal:10%`). Case-insensitive; surrounding spaces are ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why: &str| LiquidityError::Parse {
            input: s.to_string(),
            why: why.to_string(),
        };
        let t = s.trim().to_ascii_lowercase();
        let (name, arg) = match t.split_once(':') {
            Some((n, a)) => (n.trim(), Some(a.trim())),
            None => (t.as_str(), None),
        };
        match (name, arg) {
            ("uniform", None) => Ok(LiquidityModel::Uniform),
            ("half", None) => Ok(LiquidityModel::Half),
            ("uniform" | "half", Some(_)) => Err(err("this model takes no parameter")),
            ("bimodal", None) => Ok(LiquidityModel::Bimodal {
                scale: BimodalScale::LND_DEFAULT,
            }),
            ("bimodal", Some(a)) => {
                let scale = if let Some(pct) = a.strip_suffix('%') {
                    let p: f64 = pct
                        .trim()
                        .parse()
                        .map_err(|_| err("the percentage is not a number"))?;
                    BimodalScale::Fraction(p / 100.0)
                } else {
                    let m: u64 = a.replace('_', "").parse().map_err(|_| {
                        err("the scale must be an integer msat amount or a percentage such as 10%")
                    })?;
                    BimodalScale::Msat(m)
                };
                scale.validate()?;
                Ok(LiquidityModel::Bimodal { scale })
            }
            ("from-balances", _) => Err(err(
                "balances come from a data file (e.g. a CLoTH import), not from a name",
            )),
            _ => Err(err("not a model name")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::GraphBuilder;
    use crate::types::{Channel, Node, NodePubkey, Policy, ShortChannelId};

    /// A ring of up to 16 nodes with one channel per entry of `caps_sat` (parallel
    /// channels between the same pair are fine; few nodes keep key derivation cheap).
    fn path_graph(caps_sat: &[u64]) -> Graph {
        let mut b = GraphBuilder::new();
        let key = |i: usize| {
            let mut secret = [0u8; 32];
            secret[24..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            NodePubkey::from_secret(secret).unwrap()
        };
        let k = (caps_sat.len() + 1).min(16);
        let nodes: Vec<_> = (0..k)
            .map(|i| b.add_node(Node::bare(key(i))).unwrap())
            .collect();
        let policy = Policy {
            fee_base_msat: 1000,
            fee_rate_ppm: 1,
            cltv_expiry_delta: 40,
            htlc_minimum_msat: 1,
            htlc_maximum_msat: 1,
            disabled: false,
            last_update: 0,
        };
        for (i, &cap) in caps_sat.iter().enumerate() {
            b.add_channel(Channel {
                scid: ShortChannelId::from_parts(700_000, i as u64 + 1, 0).unwrap(),
                nodes: [nodes[i % k], nodes[(i + 1) % k]],
                capacity_sat: cap,
                policies: [Some(policy), Some(policy)],
                chan_point: None,
                last_update: 0,
            })
            .unwrap();
        }
        b.build()
    }

    /// `n` channels with capacities spread over 0 .. 50 M sat, including odd ones.
    fn varied_graph(n: usize) -> Graph {
        let caps: Vec<u64> = (0..n as u64)
            .map(|i| match i % 5 {
                0 => 0,
                1 => 1,
                2 => 20_000 + i * 7,
                3 => 1_000_000 + i * 13,
                _ => 50_000_000 - i,
            })
            .collect();
        path_graph(&caps)
    }

    fn models() -> Vec<LiquidityModel> {
        vec![
            LiquidityModel::Uniform,
            LiquidityModel::Half,
            LiquidityModel::Bimodal {
                scale: BimodalScale::LND_DEFAULT,
            },
            LiquidityModel::Bimodal {
                scale: BimodalScale::Fraction(0.1),
            },
            LiquidityModel::Bimodal {
                scale: BimodalScale::Msat(1),
            },
            LiquidityModel::Bimodal {
                scale: BimodalScale::Msat(u64::MAX),
            },
            LiquidityModel::Bimodal {
                scale: BimodalScale::Fraction(1e-12),
            },
        ]
    }

    #[test]
    fn every_model_sums_to_capacity() {
        let g = varied_graph(500);
        for m in models() {
            let b = m.assign(&g, 7).unwrap();
            assert!(b.fits(&g), "{m}");
            assert_eq!(b.as_slice().len(), g.edge_slots());
        }
    }

    #[test]
    fn huge_capacity_does_not_overflow() {
        // The builder keeps the graph's total within the bitcoin supply; at the bound
        // the split must still be exact.
        for caps in [&[crate::MAX_SAT][..], &[crate::MAX_SAT - 1, 1]] {
            let g = path_graph(caps);
            for m in models() {
                let b = m.assign(&g, 1).unwrap();
                assert!(b.fits(&g), "{m}");
            }
        }
    }

    #[test]
    fn same_seed_same_balances() {
        let g = varied_graph(300);
        for m in models() {
            assert_eq!(m.assign(&g, 42).unwrap(), m.assign(&g, 42).unwrap(), "{m}");
        }
    }

    #[test]
    fn different_seed_different_balances() {
        let g = varied_graph(300);
        for m in [
            LiquidityModel::Uniform,
            LiquidityModel::Bimodal {
                scale: BimodalScale::LND_DEFAULT,
            },
            LiquidityModel::Bimodal {
                scale: BimodalScale::Fraction(0.1),
            },
        ] {
            assert_ne!(m.assign(&g, 1).unwrap(), m.assign(&g, 2).unwrap(), "{m}");
        }
    }

    #[test]
    fn a_channel_split_does_not_depend_on_other_channels() {
        // Channel i's balance depends on (seed, i, capacity) only: changing every
        // other channel's capacity must leave it alone.
        let a = path_graph(&[1_000_000, 5_000_000, 2_000_000]);
        let b = path_graph(&[0, 5_000_000, 30_000_000]);
        for m in models() {
            let (ba, bb) = (m.assign(&a, 9).unwrap(), m.assign(&b, 9).unwrap());
            let e = ChannelIdx(1).edge(Direction::AToB);
            assert_eq!(ba.get(e), bb.get(e), "{m}");
        }
    }

    #[test]
    fn uniform_mean_is_half_capacity() {
        let g = path_graph(&vec![1_000_000; 4000]);
        let b = LiquidityModel::Uniform.assign(&g, 3).unwrap();
        let cap = 1_000_000_000f64;
        let mean = (0..g.channel_count())
            .map(|i| b.side(ChannelIdx(i as u32), Direction::AToB) as f64 / cap)
            .sum::<f64>()
            / g.channel_count() as f64;
        // Standard error of the mean is 1/sqrt(12 × 4000) ≈ 0.0046.
        assert!((mean - 0.5).abs() < 0.02, "mean share {mean}");
    }

    #[test]
    fn half_splits_evenly() {
        let g = path_graph(&[1, 2_000_001, 0]);
        let b = LiquidityModel::Half.assign(&g, 0).unwrap();
        assert_eq!(
            b.as_slice(),
            &[500, 500, 1_000_000_500, 1_000_000_500, 0, 0]
        );
    }

    #[test]
    fn bimodal_puts_mass_near_the_ends() {
        // Scale 300 k sat on 20 M sat channels: the chance that the smaller side is
        // below 2 s is 1 - e^-2 ≈ 0.865 (up to e^-c/s terms, negligible here).
        let g = path_graph(&vec![20_000_000; 4000]);
        let s = 300_000_000u64;
        let b = LiquidityModel::Bimodal {
            scale: BimodalScale::LND_DEFAULT,
        }
        .assign(&g, 11)
        .unwrap();
        let near = (0..g.channel_count())
            .filter(|&i| {
                let c = ChannelIdx(i as u32);
                b.side(c, Direction::AToB).min(b.side(c, Direction::BToA)) < 2 * s
            })
            .count();
        let share = near as f64 / g.channel_count() as f64;
        assert!(share > 0.8 && share < 0.93, "share near the ends {share}");
        // Both ends get their half of the mass.
        let low = (0..g.channel_count())
            .filter(|&i| b.side(ChannelIdx(i as u32), Direction::AToB) < 10_000_000_000)
            .count();
        let low = low as f64 / g.channel_count() as f64;
        assert!((low - 0.5).abs() < 0.04, "share on the low side {low}");
    }

    #[test]
    fn bimodal_matches_its_cdf() {
        // Exactness check: the share of draws with x < c/10 must match the mixture's
        // CDF, F(x) = ½ (1 - e^(-x/s) + e^(-(c-x)/s) - e^(-c/s)) / (1 - e^(-c/s)).
        let g = path_graph(&vec![1_000_000; 20_000]);
        let (c, s) = (1e9f64, 0.25e9f64);
        let b = LiquidityModel::Bimodal {
            scale: BimodalScale::Fraction(0.25),
        }
        .assign(&g, 5)
        .unwrap();
        let x = c / 10.0;
        let want = 0.5 * (1.0 - (-x / s).exp() + (-(c - x) / s).exp() - (-c / s).exp())
            / (1.0 - (-c / s).exp());
        let got = b
            .as_slice()
            .iter()
            .step_by(2)
            .filter(|&&a| (a as f64) < x)
            .count() as f64
            / 20_000.0;
        // Standard error ≈ sqrt(0.2 × 0.8 / 20 000) ≈ 0.003.
        assert!((got - want).abs() < 0.015, "got {got}, want {want}");
    }

    #[test]
    fn huge_bimodal_scale_is_nearly_uniform() {
        let g = path_graph(&vec![1_000_000; 4000]);
        let b = LiquidityModel::Bimodal {
            scale: BimodalScale::Fraction(1e6),
        }
        .assign(&g, 8)
        .unwrap();
        let mid = b
            .as_slice()
            .iter()
            .step_by(2)
            .filter(|&&a| (250_000_000..750_000_000).contains(&a))
            .count() as f64
            / 4000.0;
        assert!((mid - 0.5).abs() < 0.04, "share in the middle half {mid}");
    }

    #[test]
    fn from_balances_validates() {
        let g = path_graph(&[1_000, 2_000]);
        let good = Balances::from_vec(vec![400_000, 600_000, 2_000_000, 0]);
        let m = LiquidityModel::FromBalances(good.clone());
        assert_eq!(m.assign(&g, 0).unwrap(), good);
        assert_eq!(m.assign(&g, 99).unwrap(), good);

        let wrong_sum =
            LiquidityModel::FromBalances(Balances::from_vec(vec![400_000, 600_000, 1, 0]));
        let e = wrong_sum.assign(&g, 0).unwrap_err();
        assert!(matches!(e, LiquidityError::BalancesDoNotFit(_)));
        assert!(e.to_string().contains("700000x2x0"), "{e}");

        let short = LiquidityModel::FromBalances(Balances::from_vec(vec![400_000, 600_000]));
        let e = short.assign(&g, 0).unwrap_err();
        assert!(
            e.to_string().contains("2 balances for 4 directed edges"),
            "{e}"
        );
    }

    #[test]
    fn invalid_scales_are_refused() {
        let g = path_graph(&[1_000]);
        for scale in [
            BimodalScale::Msat(0),
            BimodalScale::Fraction(0.0),
            BimodalScale::Fraction(-0.5),
            BimodalScale::Fraction(f64::NAN),
            BimodalScale::Fraction(f64::INFINITY),
        ] {
            let e = LiquidityModel::Bimodal { scale }.assign(&g, 0).unwrap_err();
            assert!(matches!(e, LiquidityError::InvalidScale(_)), "{scale:?}");
        }
    }

    #[test]
    fn names_parse_and_print() {
        let cases = [
            ("uniform", LiquidityModel::Uniform, "uniform"),
            ("Half", LiquidityModel::Half, "half"),
            (
                "bimodal",
                LiquidityModel::Bimodal {
                    scale: BimodalScale::LND_DEFAULT,
                },
                "bimodal:300000000",
            ),
            (
                "bimodal:1_000_000",
                LiquidityModel::Bimodal {
                    scale: BimodalScale::Msat(1_000_000),
                },
                "bimodal:1000000",
            ),
            (
                " bimodal: 10% ",
                LiquidityModel::Bimodal {
                    scale: BimodalScale::Fraction(0.1),
                },
                "bimodal:10%",
            ),
        ];
        for (input, model, shown) in cases {
            let parsed: LiquidityModel = input.parse().unwrap();
            assert_eq!(parsed, model, "{input}");
            assert_eq!(parsed.to_string(), shown);
            assert_eq!(shown.parse::<LiquidityModel>().unwrap(), model);
        }
        assert_eq!(LiquidityModel::default(), LiquidityModel::Uniform);
        assert_eq!(
            LiquidityModel::FromBalances(Balances::from_vec(vec![])).to_string(),
            "from-balances"
        );
    }

    #[test]
    fn bad_names_are_refused() {
        for bad in [
            "",
            "gaussian",
            "uniform:5",
            "bimodal:",
            "bimodal:0",
            "bimodal:-5",
            "bimodal:1.5",
            "bimodal:abc%",
            "bimodal:0%",
            "bimodal:-1%",
            "bimodal:inf%",
            "from-balances",
        ] {
            assert!(bad.parse::<LiquidityModel>().is_err(), "{bad:?}");
        }
    }
}
