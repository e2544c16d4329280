//! Seeded synthetic topologies.
//!
//! Two families, each returning a [`Graph`] and the [`Balances`] it was generated with:
//! - [`WattsStrogatz`]: the small-world graph of the Boomerang evaluation (Bagaria, Neu,
//!   Tse, FC 2020): a ring lattice whose edges are rewired at random. Every node has
//!   about the same degree, so no hub shields the results from path diversity.
//! - [`BarabasiAlbert`]: scale-free preferential attachment. A few hubs carry most
//!   channels, as on mainnet, which is what zero-fee-hub and MPP-splitting studies need.
//!
//! Everything is a function of the parameters and the seed: node keys, channel ids,
//! topology, capacities, balances and (optionally random) fees. Topology, capacities
//! and fees draw from separate ChaCha8 streams keyed by the seed, so switching random
//! fees on or changing the capacity range leaves the topology as it was.
//!
//! All construction goes through [`GraphBuilder`]; channels put the node with the
//! smaller public key first, as BOLT 7 orders them.

use std::collections::HashSet;
use std::fmt;

use bitcoin::hashes::{sha256, Hash, HashEngine};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::graph::{BuildError, Graph, GraphBuilder};
use crate::liquidity::{Balances, LiquidityError, LiquidityModel};
use crate::types::{Channel, Node, NodeIdx, NodePubkey, Policy, ShortChannelId};

/// The largest capacity a generated graph may hold, in all its channels together: all
/// bitcoin that will ever exist ([`crate::MAX_SAT`]), as for every graph. A
/// generator checks it against its worst case (every channel at the largest capacity)
/// before drawing anything.
pub const MAX_CAPACITY_SAT: u64 = crate::amount::MAX_SAT;

/// The most nodes a generator builds. A node costs a secp256k1 key derivation and
/// about a kilobyte in the graph and the routers; a million (about 70 times mainnet)
/// takes seconds and under a few GiB, while `--nodes 1e8` would run for an hour and
/// exhaust memory.
pub const MAX_NODES: usize = 1_000_000;

/// Block height of the first generated channel. Mainnet passed it in 2021, so ids look
/// like real ones of the Taproot era; channel `i` sits in block
/// `FIRST_BLOCK + i / 1000` at transaction `1 + i % 1000` (index 0 is the coinbase),
/// output 0, which keeps ids unique and increasing with the channel index.
pub const FIRST_BLOCK: u64 = 700_000;

/// Why a generator refused its parameters or failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GenerateError {
    /// A parameter is out of range.
    #[error("{model}: {param} = {value}: {why}")]
    InvalidParameter {
        /// `watts-strogatz` or `barabasi-albert`.
        model: &'static str,
        /// The parameter's field name.
        param: &'static str,
        /// The value given.
        value: String,
        /// What it must be instead.
        why: String,
    },
    /// No valid secret key came out of 2^32 hashes (probability about 2^-4000: a bug).
    #[error("no valid secret key for node {index}")]
    NoValidKey {
        /// The node's index.
        index: usize,
    },
    /// A channel index does not fit a short channel id.
    #[error("channel {index} does not fit a short channel id")]
    ScidOverflow {
        /// The channel's index.
        index: usize,
    },
    /// The builder refused a node or channel (a generator bug: they are built unique).
    #[error("generated graph is invalid: {0}")]
    Build(#[from] BuildError),
    /// Assigning balances failed (a generator bug: the models used cannot fail).
    #[error("generated balances are invalid: {0}")]
    Liquidity(#[from] LiquidityError),
}

fn invalid(
    model: &'static str,
    param: &'static str,
    value: impl fmt::Display,
    why: impl Into<String>,
) -> GenerateError {
    GenerateError::InvalidParameter {
        model,
        param,
        value: value.to_string(),
        why: why.into(),
    }
}

/// The routing policy every generated channel announces in both directions.
///
/// `htlc_maximum_msat` is always the channel's capacity and every policy is enabled:
/// a synthetic graph should constrain payments by liquidity, not by policy limits
/// nobody chose.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyParams {
    /// Base fee, msat. Default 1,000 msat: lnd's and CLN's default.
    pub fee_base_msat: u32,
    /// Proportional fee, ppm. Default 1 ppm: lnd's default.
    pub fee_rate_ppm: u32,
    /// CLTV delta, blocks. Default 40: lnd's default.
    pub cltv_expiry_delta: u16,
    /// Smallest HTLC, msat. Default 1,000 msat (1 sat), the usual announced minimum.
    pub htlc_minimum_msat: u64,
    /// When set, base fee and fee rate are drawn per direction from these ranges
    /// instead of taken from `fee_base_msat` and `fee_rate_ppm`.
    pub random_fees: Option<RandomFees>,
}

impl Default for PolicyParams {
    fn default() -> Self {
        PolicyParams {
            fee_base_msat: 1_000,
            fee_rate_ppm: 1,
            cltv_expiry_delta: 40,
            htlc_minimum_msat: 1_000,
            random_fees: None,
        }
    }
}

/// Ranges for random fees, drawn independently for each direction of each channel.
///
/// The defaults cover where mainnet's enabled policies mostly lie: base fees from 0
/// (the "zero base fee" operators) to the 1,000 msat implementation default, and fee
/// rates from 0 to a few thousand ppm (expensive, scarce outbound liquidity).
#[derive(Debug, Clone, PartialEq)]
pub struct RandomFees {
    /// Smallest base fee, msat (default 0).
    pub min_base_msat: u32,
    /// Largest base fee, msat (default 1,000). The base fee is uniform in between.
    pub max_base_msat: u32,
    /// Smallest fee rate, ppm (default 0).
    pub min_ppm: u32,
    /// Largest fee rate, ppm (default 2,500). The rate is log-uniform in between
    /// (shifted by one so that 0 is allowed): most channels are cheap, a few are not,
    /// as on mainnet.
    pub max_ppm: u32,
}

impl Default for RandomFees {
    fn default() -> Self {
        RandomFees {
            min_base_msat: 0,
            max_base_msat: 1_000,
            min_ppm: 0,
            max_ppm: 2_500,
        }
    }
}

impl PolicyParams {
    fn validate(
        &self,
        model: &'static str,
        smallest_capacity_msat: u64,
    ) -> Result<(), GenerateError> {
        if self.htlc_minimum_msat > smallest_capacity_msat {
            return Err(invalid(
                model,
                "htlc_minimum_msat",
                self.htlc_minimum_msat,
                format!(
                    "must not exceed the smallest capacity the generator can produce, \
                     {smallest_capacity_msat} msat"
                ),
            ));
        }
        if let Some(r) = &self.random_fees {
            if r.min_base_msat > r.max_base_msat {
                return Err(invalid(
                    model,
                    "random_fees.min_base_msat",
                    r.min_base_msat,
                    format!("must not exceed max_base_msat ({})", r.max_base_msat),
                ));
            }
            if r.min_ppm > r.max_ppm {
                return Err(invalid(
                    model,
                    "random_fees.min_ppm",
                    r.min_ppm,
                    format!("must not exceed max_ppm ({})", r.max_ppm),
                ));
            }
        }
        Ok(())
    }

    /// The policy of one direction of a channel of `capacity_msat`.
    fn policy(&self, capacity_msat: u64, fees: &mut ChaCha8Rng) -> Policy {
        let (fee_base_msat, fee_rate_ppm) = match &self.random_fees {
            None => (self.fee_base_msat, self.fee_rate_ppm),
            Some(r) => {
                let base = fees.random_range(r.min_base_msat..=r.max_base_msat);
                let lo = r.min_ppm as f64 + 1.0;
                let hi = r.max_ppm as f64 + 1.0;
                let ppm = (log_uniform(fees, lo, hi).floor() - 1.0)
                    .clamp(r.min_ppm as f64, r.max_ppm as f64) as u32;
                (base, ppm)
            }
        };
        Policy {
            fee_base_msat,
            fee_rate_ppm,
            cltv_expiry_delta: self.cltv_expiry_delta,
            htlc_minimum_msat: self.htlc_minimum_msat,
            htlc_maximum_msat: capacity_msat,
            disabled: false,
            last_update: 0,
        }
    }
}

/// A Watts–Strogatz small world as the Boomerang paper uses it: `n` nodes on a ring,
/// each joined to its `k` nearest neighbours, each edge rewired with probability `p`.
///
/// Each side of a channel holds its own balance, drawn log-uniform in
/// `[min_units, max_units] × unit_msat` and rounded to whole sat; the capacity is the
/// sum of both sides. So balances are part of the topology here, not a
/// [`LiquidityModel`].
#[derive(Debug, Clone, PartialEq)]
pub struct WattsStrogatz {
    /// Nodes (default 100, as in Boomerang).
    pub n: usize,
    /// Ring neighbours per node, even (default 8, as in Boomerang).
    pub k: usize,
    /// Rewiring probability, `0..=1` (default 0.8, as in Boomerang).
    pub p: f64,
    /// Smallest balance of one side, units (default 100, as in Boomerang).
    pub min_units: f64,
    /// Largest balance of one side, units (default 1,000, as in Boomerang).
    pub max_units: f64,
    /// The size of a unit, msat. Default 1,000,000 msat = 1,000 sat, so a side holds
    /// 100 k – 1 M sat and a channel 200 k – 2 M sat: the range of typical mainnet
    /// channels. Real-looking amounts keep absolute parameters meaningful on this
    /// graph too: lnd's bimodal scale (300 k sat), 1 sat HTLC minimums, base fees.
    pub unit_msat: u64,
    /// Policies of the generated channels.
    pub policy: PolicyParams,
}

impl Default for WattsStrogatz {
    fn default() -> Self {
        WattsStrogatz {
            n: 100,
            k: 8,
            p: 0.8,
            min_units: 100.0,
            max_units: 1_000.0,
            unit_msat: 1_000_000,
            policy: PolicyParams::default(),
        }
    }
}

impl WattsStrogatz {
    const MODEL: &'static str = "watts-strogatz";

    /// Checks every parameter; [`WattsStrogatz::generate`] calls it first.
    pub fn validate(&self) -> Result<(), GenerateError> {
        self.side_range_sat().map(|_| ())
    }

    /// Validates, and returns the range of one side's balance in whole sat.
    fn side_range_sat(&self) -> Result<(u64, u64), GenerateError> {
        let m = Self::MODEL;
        if self.k < 2 || self.k % 2 != 0 {
            return Err(invalid(m, "k", self.k, "must be even and at least 2"));
        }
        if self.n <= self.k {
            return Err(invalid(
                m,
                "n",
                self.n,
                format!(
                    "must exceed k ({}), or the ring lattice has duplicate edges",
                    self.k
                ),
            ));
        }
        if self.n > MAX_NODES {
            return Err(invalid(
                m,
                "n",
                self.n,
                format!("too large: at most {MAX_NODES} nodes"),
            ));
        }
        let channels = self.n.checked_mul(self.k / 2);
        if self.n > u32::MAX as usize || channels.is_none_or(|c| c > u32::MAX as usize) {
            return Err(invalid(
                m,
                "n",
                self.n,
                "too large: n × k / 2 channels must fit in u32",
            ));
        }
        if !(0.0..=1.0).contains(&self.p) {
            return Err(invalid(m, "p", self.p, "must be a probability in 0..=1"));
        }
        if !(self.min_units.is_finite() && self.min_units > 0.0) {
            return Err(invalid(
                m,
                "min_units",
                self.min_units,
                "must be positive and finite",
            ));
        }
        if !(self.max_units.is_finite() && self.max_units >= self.min_units) {
            return Err(invalid(
                m,
                "max_units",
                self.max_units,
                format!("must be finite and at least min_units ({})", self.min_units),
            ));
        }
        if self.unit_msat == 0 {
            return Err(invalid(m, "unit_msat", 0, "must be positive"));
        }
        let unit_sat = self.unit_msat as f64 / 1000.0;
        let hi = (self.max_units * unit_sat).floor();
        if hi * 2.0 > MAX_CAPACITY_SAT as f64 {
            return Err(invalid(
                m,
                "max_units",
                self.max_units,
                format!("max_units × unit_msat × 2 exceeds {MAX_CAPACITY_SAT} sat"),
            ));
        }
        let lo = (self.min_units * unit_sat).ceil().max(1.0);
        if lo > hi {
            return Err(invalid(
                m,
                "unit_msat",
                self.unit_msat,
                "the side range [min_units, max_units] × unit_msat contains no whole, \
                 positive sat amount",
            ));
        }
        let (lo, hi) = (lo as u64, hi as u64);
        let channels = (self.n * (self.k / 2)) as u128;
        if channels * 2 * hi as u128 > MAX_CAPACITY_SAT as u128 {
            return Err(invalid(
                m,
                "max_units",
                self.max_units,
                format!(
                    "{channels} channels of up to {} sat each could hold more than the \
                     21,000,000 BTC that will ever exist ({MAX_CAPACITY_SAT} sat)",
                    2 * hi
                ),
            ));
        }
        self.policy.validate(m, 2 * lo * 1000)?;
        Ok((lo, hi))
    }

    /// Builds the graph and its balances for `seed`.
    pub fn generate(&self, seed: u64) -> Result<(Graph, Balances), GenerateError> {
        let (lo_sat, hi_sat) = self.side_range_sat()?;
        let mut topo = stream(seed, "ws-topology");
        let edges = ws_edges(self.n, self.k, self.p, &mut topo);
        let keys = node_keys(seed, self.n)?;
        let edges = orient(edges, &keys);

        let mut caps = stream(seed, "ws-capacity");
        let (lo, hi) = (lo_sat as f64, hi_sat as f64);
        let sides: Vec<[u64; 2]> = edges
            .iter()
            .map(|_| {
                let mut draw =
                    || (log_uniform(&mut caps, lo, hi).round() as u64).clamp(lo_sat, hi_sat);
                [draw(), draw()]
            })
            .collect();
        let capacities: Vec<u64> = sides.iter().map(|[a, b]| a + b).collect();
        let graph = assemble("ws", seed, &keys, &edges, &capacities, &self.policy)?;
        let balances = Balances::from_vec(sides.iter().flatten().map(|s| s * 1000).collect());
        Ok((graph, balances))
    }
}

/// A Barabási–Albert scale-free graph: a complete core of `m + 1` nodes, then every
/// new node opens `m` channels to distinct existing nodes chosen with probability
/// proportional to their degree.
///
/// Capacities are log-uniform in `[min_sat, max_sat]` (mainnet capacities span orders
/// of magnitude, roughly log-uniformly in the bulk); each channel is split by
/// [`LiquidityModel::Uniform`] with the same seed, so `--liquidity uniform` on the
/// exported graph reproduces the generated balances.
#[derive(Debug, Clone, PartialEq)]
pub struct BarabasiAlbert {
    /// Nodes (default 1,000).
    pub n: usize,
    /// Channels each new node opens (default 3: average degree 2m = 6, close to
    /// mainnet's average of 6–7 channels per node).
    pub m: usize,
    /// Smallest capacity, sat (default 100,000 sat, about the smallest channels
    /// common on mainnet).
    pub min_sat: u64,
    /// Largest capacity, sat (default 10,000,000 sat = 0.1 BTC; larger channels
    /// exist but are rare).
    pub max_sat: u64,
    /// Policies of the generated channels.
    pub policy: PolicyParams,
}

impl Default for BarabasiAlbert {
    fn default() -> Self {
        BarabasiAlbert {
            n: 1_000,
            m: 3,
            min_sat: 100_000,
            max_sat: 10_000_000,
            policy: PolicyParams::default(),
        }
    }
}

impl BarabasiAlbert {
    const MODEL: &'static str = "barabasi-albert";

    /// Checks every parameter; [`BarabasiAlbert::generate`] calls it first.
    pub fn validate(&self) -> Result<(), GenerateError> {
        let model = Self::MODEL;
        if self.m == 0 {
            return Err(invalid(model, "m", 0, "must be at least 1"));
        }
        if self.n <= self.m {
            return Err(invalid(
                model,
                "n",
                self.n,
                format!("must exceed m ({}): the core alone has m + 1 nodes", self.m),
            ));
        }
        if self.n > MAX_NODES {
            return Err(invalid(
                model,
                "n",
                self.n,
                format!("too large: at most {MAX_NODES} nodes"),
            ));
        }
        if self.n > u32::MAX as usize || self.channel_count().is_none_or(|c| c > u32::MAX as u64) {
            return Err(invalid(
                model,
                "n",
                self.n,
                "too large: nodes and channels must fit in u32",
            ));
        }
        if self.min_sat == 0 {
            return Err(invalid(model, "min_sat", 0, "must be positive"));
        }
        if self.max_sat < self.min_sat || self.max_sat > MAX_CAPACITY_SAT {
            return Err(invalid(
                model,
                "max_sat",
                self.max_sat,
                format!(
                    "must be in min_sat ({}) ..= {MAX_CAPACITY_SAT}",
                    self.min_sat
                ),
            ));
        }
        let channels = self.channel_count().unwrap_or(u64::MAX) as u128;
        if channels * self.max_sat as u128 > MAX_CAPACITY_SAT as u128 {
            return Err(invalid(
                model,
                "max_sat",
                self.max_sat,
                format!(
                    "{channels} channels of up to {} sat each could hold more than the \
                     21,000,000 BTC that will ever exist ({MAX_CAPACITY_SAT} sat)",
                    self.max_sat
                ),
            ));
        }
        self.policy.validate(model, self.min_sat * 1000)
    }

    /// `m(m+1)/2` core channels plus `m` per later node; `None` on overflow.
    fn channel_count(&self) -> Option<u64> {
        let (n, m) = (self.n as u64, self.m as u64);
        let core = m.checked_mul(m + 1)? / 2;
        core.checked_add(n.checked_sub(m + 1)?.checked_mul(m)?)
    }

    /// Builds the graph and its balances for `seed`.
    pub fn generate(&self, seed: u64) -> Result<(Graph, Balances), GenerateError> {
        self.validate()?;
        let mut topo = stream(seed, "ba-topology");
        let edges = ba_edges(self.n, self.m, &mut topo);
        let keys = node_keys(seed, self.n)?;
        let edges = orient(edges, &keys);

        let mut caps = stream(seed, "ba-capacity");
        let (lo, hi) = (self.min_sat as f64, self.max_sat as f64);
        let capacities: Vec<u64> = edges
            .iter()
            .map(|_| {
                (log_uniform(&mut caps, lo, hi).round() as u64).clamp(self.min_sat, self.max_sat)
            })
            .collect();
        let graph = assemble("ba", seed, &keys, &edges, &capacities, &self.policy)?;
        let balances = LiquidityModel::Uniform.assign(&graph, seed)?;
        Ok((graph, balances))
    }
}

/// The ring lattice, then the rewiring: edge `(u, u + j)` keeps `u` and, with
/// probability `p`, trades `u + j` for a uniformly drawn node that is neither `u` nor
/// already `u`'s neighbour. A node adjacent to everyone keeps its edge. Edges are
/// visited ring distance first (`j = 1` for every `u`, then `j = 2`, …), the order of
/// Watts and Strogatz's construction.
fn ws_edges(n: usize, k: usize, p: f64, rng: &mut ChaCha8Rng) -> Vec<(u32, u32)> {
    let mut edges = Vec::with_capacity(n * k / 2);
    let mut present: HashSet<(u32, u32)> = HashSet::with_capacity(n * k / 2);
    for j in 1..=k / 2 {
        for u in 0..n {
            let e = (u as u32, ((u + j) % n) as u32);
            present.insert(norm(e));
            edges.push(e);
        }
    }
    let mut degree = vec![k; n];
    for e in edges.iter_mut() {
        // The coin is tossed for every edge, even one whose node cannot be rewired,
        // so every edge faces the same probability p.
        if rng.random::<f64>() >= p {
            continue;
        }
        let (u, v) = *e;
        if degree[u as usize] >= n - 1 {
            continue;
        }
        // Some node is free (degree < n - 1), so this ends; each try succeeds with
        // probability at least 1/n.
        let w = loop {
            let w = rng.random_range(0..n as u32);
            if w != u && !present.contains(&norm((u, w))) {
                break w;
            }
        };
        present.remove(&norm((u, v)));
        present.insert(norm((u, w)));
        degree[v as usize] -= 1;
        degree[w as usize] += 1;
        *e = (u, w);
    }
    edges
}

/// Preferential attachment from a complete core of `m + 1` nodes. `pool` lists every
/// channel end, so a uniform pick from it is a pick proportional to degree; a node
/// picked twice for the same newcomer is drawn again (the pool always holds more than
/// `m` distinct nodes, so this ends).
fn ba_edges(n: usize, m: usize, rng: &mut ChaCha8Rng) -> Vec<(u32, u32)> {
    let core = m + 1;
    let mut edges = Vec::new();
    let mut pool: Vec<u32> = Vec::new();
    for a in 0..core as u32 {
        for b in a + 1..core as u32 {
            edges.push((a, b));
            pool.extend([a, b]);
        }
    }
    // `picked[t] == new` marks `t` as chosen by node `new`.
    let mut picked = vec![u32::MAX; n];
    let mut chosen = Vec::with_capacity(m);
    for new in core as u32..n as u32 {
        chosen.clear();
        while chosen.len() < m {
            let t = pool[rng.random_range(0..pool.len())];
            if picked[t as usize] != new {
                picked[t as usize] = new;
                chosen.push(t);
            }
        }
        for &t in &chosen {
            edges.push((t, new));
            pool.extend([t, new]);
        }
    }
    edges
}

fn norm((a, b): (u32, u32)) -> (u32, u32) {
    (a.min(b), a.max(b))
}

/// Puts the endpoint with the smaller key first (BOLT 7 order).
fn orient(edges: Vec<(u32, u32)>, keys: &[NodePubkey]) -> Vec<(u32, u32)> {
    edges
        .into_iter()
        .map(|(a, b)| {
            if keys[a as usize] < keys[b as usize] {
                (a, b)
            } else {
                (b, a)
            }
        })
        .collect()
}

/// Node `index`'s key for `seed`: the public key of the secret
/// `sha256("flotilla-synthetic" || seed (8 bytes BE) || index (8 bytes BE))`, with a
/// 4-byte BE counter appended on retries should the hash not be a valid secret.
/// Keys therefore do not depend on the topology: node 17 of seed 5 is the same node
/// in every synthetic graph.
pub fn node_key(seed: u64, index: usize) -> Result<NodePubkey, GenerateError> {
    (0..=u32::MAX)
        .find_map(|counter| {
            let mut e = sha256::Hash::engine();
            e.input(b"flotilla-synthetic");
            e.input(&seed.to_be_bytes());
            e.input(&(index as u64).to_be_bytes());
            if counter > 0 {
                e.input(&counter.to_be_bytes());
            }
            NodePubkey::from_secret(sha256::Hash::from_engine(e).to_byte_array())
        })
        .ok_or(GenerateError::NoValidKey { index })
}

fn node_keys(seed: u64, n: usize) -> Result<Vec<NodePubkey>, GenerateError> {
    (0..n).map(|i| node_key(seed, i)).collect()
}

/// The short channel id of generated channel `index` (see [`FIRST_BLOCK`]).
pub fn synthetic_scid(index: usize) -> Option<ShortChannelId> {
    let i = index as u64;
    ShortChannelId::from_parts(FIRST_BLOCK + i / 1000, 1 + i % 1000, 0)
}

/// An independent random stream per purpose: ChaCha8 keyed by
/// `sha256("flotilla-rng/" || purpose || seed)`.
fn stream(seed: u64, purpose: &str) -> ChaCha8Rng {
    let mut e = sha256::Hash::engine();
    e.input(b"flotilla-rng/");
    e.input(purpose.as_bytes());
    e.input(&seed.to_be_bytes());
    ChaCha8Rng::from_seed(sha256::Hash::from_engine(e).to_byte_array())
}

/// Log-uniform in `[lo, hi]` (both positive): uniform in log space. Always consumes
/// exactly one draw.
fn log_uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    let u: f64 = rng.random();
    (lo.ln() + u * (hi.ln() - lo.ln())).exp().clamp(lo, hi)
}

/// Adds the nodes (aliases `{prefix}-{index}`) and channels through [`GraphBuilder`].
fn assemble(
    prefix: &str,
    seed: u64,
    keys: &[NodePubkey],
    edges: &[(u32, u32)],
    capacities_sat: &[u64],
    policy: &PolicyParams,
) -> Result<Graph, GenerateError> {
    let mut fees = stream(seed, "fees");
    let mut b = GraphBuilder::with_capacity(keys.len(), edges.len());
    for (i, key) in keys.iter().enumerate() {
        let mut node = Node::bare(*key);
        node.alias = format!("{prefix}-{i}");
        b.add_node(node)?;
    }
    for (i, (&(a, z), &capacity_sat)) in edges.iter().zip(capacities_sat).enumerate() {
        let capacity_msat = capacity_sat * 1000;
        let forward = policy.policy(capacity_msat, &mut fees);
        let backward = policy.policy(capacity_msat, &mut fees);
        b.add_channel(Channel {
            scid: synthetic_scid(i).ok_or(GenerateError::ScidOverflow { index: i })?,
            nodes: [NodeIdx(a), NodeIdx(z)],
            capacity_sat,
            policies: [Some(forward), Some(backward)],
            chan_point: None,
            last_update: 0,
        })?;
    }
    Ok(b.build())
}

#[cfg(test)]
mod tests;
