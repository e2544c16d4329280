//! Network models: per-hop latency, offline nodes, hodl nodes.
//!
//! Faults are drawn once per run from the `"faults"` stream, so every arm sees the same
//! offline and hodl nodes. Latencies are drawn per message from each arm's own
//! `"latency"` stream (arms send different messages, so they cannot share draws).

use flotilla_graph::{Graph, NodeIdx};
use flotilla_ln::config::{Behaviour, ChannelParamsOverride, NodeConfig, PolicyOverride};
use rand::seq::index::sample;
use rand::Rng;
use rand_distr::{Distribution, LogNormal};

use crate::rng::stream;
use crate::scenario::{LatencyModel, NetworkConfig, ReceiverConfig};

/// Draws one per-hop message latency, µs.
pub fn draw_latency_micros<R: Rng>(model: &LatencyModel, rng: &mut R) -> u64 {
    match *model {
        LatencyModel::Constant { ms } => ms * 1000,
        LatencyModel::Zero => 0,
        LatencyModel::Uniform { min_ms, max_ms } => rng.random_range(min_ms * 1000..=max_ms * 1000),
        LatencyModel::Lognormal { median_ms, sigma } => {
            let ms = LogNormal::new((median_ms.max(1) as f64).ln(), sigma)
                .map(|d| d.sample(rng))
                .unwrap_or(median_ms as f64);
            (ms * 1000.0).round() as u64
        }
    }
}

/// Which nodes are offline and which hold HTLCs, for the whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Offline nodes, ascending.
    pub offline: Vec<NodeIdx>,
    /// Hodl nodes, ascending.
    pub hodl: Vec<NodeIdx>,
    /// Nodes that do not forward h2tlc HTLCs, ascending.
    pub no_h2tlc: Vec<NodeIdx>,
    /// Nodes that do not forward point-locked HTLCs, ascending.
    pub no_ptlc: Vec<NodeIdx>,
    /// Nodes whose receiver claims every redundant part it holds, ascending (never a
    /// hodl node, which holds everything anyway).
    pub cheating: Vec<NodeIdx>,
}

impl Faults {
    /// Draws `offline_share` and `hodl_share` of the graph's nodes (disjoint sets).
    pub fn draw(graph: &Graph, config: &NetworkConfig, seed: u64) -> Faults {
        let n = graph.node_count();
        let mut rng = stream(seed, "faults");
        let offline_n = (config.offline_share * n as f64).round() as usize;
        let hodl_n = (config.hodl_share * n as f64).round() as usize;
        let total = (offline_n + hodl_n).min(n);
        let picked: Vec<usize> = sample(&mut rng, n, total).into_vec();
        let mut offline: Vec<NodeIdx> = picked[..offline_n.min(total)]
            .iter()
            .map(|&i| NodeIdx(i as u32))
            .collect();
        let mut hodl: Vec<NodeIdx> = picked[offline_n.min(total)..]
            .iter()
            .map(|&i| NodeIdx(i as u32))
            .collect();
        offline.sort_unstable();
        hodl.sort_unstable();
        // Lock support comes from its own stream, so that the fault draws above stay
        // the same whatever the support shares.
        let mut support = stream(seed, "lock-support");
        let mut lacking = |share: f64| {
            let k = ((1.0 - share) * n as f64).round() as usize;
            let mut v: Vec<NodeIdx> = sample(&mut support, n, k.min(n))
                .into_iter()
                .map(|i| NodeIdx(i as u32))
                .collect();
            v.sort_unstable();
            v
        };
        let no_h2tlc = lacking(config.h2tlc_support_share);
        let no_ptlc = lacking(config.ptlc_support_share);
        // Cheaters from their own stream too, so the draws above stay the same.
        let mut cheaters = stream(seed, "cheating-receivers");
        let k = (config.cheating_receiver_share * n as f64).round() as usize;
        let mut cheating: Vec<NodeIdx> = sample(&mut cheaters, n, k.min(n))
            .into_iter()
            .map(|i| NodeIdx(i as u32))
            .filter(|v| hodl.binary_search(v).is_err())
            .collect();
        cheating.sort_unstable();
        Faults {
            offline,
            hodl,
            no_h2tlc,
            no_ptlc,
            cheating,
        }
    }

    /// Node configs with these faults, the receiver settings, the channel parameters
    /// and the policy and channel overrides (already resolved to nodes) applied.
    pub fn node_configs(
        &self,
        graph: &Graph,
        receiver: &ReceiverConfig,
        network: &NetworkConfig,
        overrides: &[(NodeIdx, PolicyOverride)],
        channel_overrides: &[(NodeIdx, ChannelParamsOverride)],
    ) -> Vec<NodeConfig> {
        let mut configs = vec![
            NodeConfig {
                channel: network.channel,
                mpp_timeout: std::time::Duration::from_secs(receiver.mpp_timeout_secs),
                offline_peer_timeout: std::time::Duration::from_millis(
                    network.offline_peer_timeout_ms
                ),
                ..NodeConfig::default()
            };
            graph.node_count()
        ];
        for n in &self.offline {
            configs[n.ix()].online = false;
        }
        for n in &self.hodl {
            configs[n.ix()].behaviour = Behaviour::Hodl;
        }
        for n in &self.cheating {
            configs[n.ix()].behaviour = Behaviour::CheatingReceiver;
        }
        for n in &self.no_h2tlc {
            configs[n.ix()].supports_h2tlc = false;
        }
        for n in &self.no_ptlc {
            configs[n.ix()].supports_ptlc = false;
        }
        for (n, o) in overrides {
            configs[n.ix()].policy_override = Some(*o);
        }
        for (n, o) in channel_overrides {
            configs[n.ix()].channel = o.apply(network.channel);
        }
        configs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flotilla_graph::generate::WattsStrogatz;

    #[test]
    fn faults_are_seeded_disjoint_and_sized() {
        let g = WattsStrogatz::default().generate(1).unwrap().0;
        let cfg = NetworkConfig {
            offline_share: 0.1,
            hodl_share: 0.05,
            ..NetworkConfig::default()
        };
        let a = Faults::draw(&g, &cfg, 4);
        assert_eq!(a, Faults::draw(&g, &cfg, 4));
        assert_ne!(a, Faults::draw(&g, &cfg, 5));
        assert_eq!((a.offline.len(), a.hodl.len()), (10, 5));
        assert!(a.offline.iter().all(|n| !a.hodl.contains(n)));
    }

    #[test]
    fn latencies_follow_their_model() {
        let mut rng = stream(1, "latency");
        for _ in 0..1000 {
            let l = draw_latency_micros(
                &LatencyModel::Uniform {
                    min_ms: 50,
                    max_ms: 150,
                },
                &mut rng,
            );
            assert!((50_000..=150_000).contains(&l));
        }
        assert_eq!(
            draw_latency_micros(&LatencyModel::Constant { ms: 7 }, &mut rng),
            7_000
        );
    }
}
