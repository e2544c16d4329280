//! `[network.channel]` and a node's `channel` override reach the nodes' configs, survive
//! the effective `scenario.toml`, and bad values name their key.

use std::path::Path;
use std::sync::atomic::AtomicU64;

use flotilla_graph::export::write_graph;
use flotilla_graph::generate::WattsStrogatz;
use flotilla_graph::import::GraphFormat;
use flotilla_ln::config::{ChannelParams, ChannelParamsOverride};
use flotilla_sim::experiment::Experiment;
use flotilla_sim::scenario::Scenario;

fn scenario_text(graph: &str, channel: &str, node_channel: &str) -> String {
    format!(
        r#"
[graph]
file = "{graph}"
[workload]
payments = 150
[workload.amount]
distribution = "log-uniform"
min_sat = 1000
max_sat = 300000
[network.channel]
{channel}
[[network.overrides]]
node = "ws-3"
{node_channel}
[sender]
arms = ["single-path-retry", "mpp-retry"]
"#
    )
}

#[test]
fn global_and_per_node_parameters_reach_the_nodes() {
    let t = tempfile::tempdir().unwrap();
    let (g, _) = WattsStrogatz::default().generate(7).unwrap();
    let file = t.path().join("ws.json");
    write_graph(&g, None, GraphFormat::Describegraph, &file).unwrap();
    let text = scenario_text(
        &file.display().to_string(),
        "channel_reserve_ppm = 0\nmax_htlc_value_in_flight_msat = 900000000",
        "channel = { channel_reserve_ppm = 20000, max_accepted_htlcs = 5 }",
    );
    let s = Scenario::from_toml(&text, "s.toml").unwrap();
    let global = ChannelParams {
        channel_reserve_ppm: 0,
        max_htlc_value_in_flight_msat: Some(900_000_000),
        ..Default::default()
    };
    assert_eq!(s.network.channel, global);
    // The effective scenario a results directory keeps reads back the same.
    let again = Scenario::from_toml(&toml::to_string(&s).unwrap(), "again").unwrap();
    assert_eq!(again, s);

    let exp = Experiment::prepare(s.clone(), Path::new("unused")).unwrap();
    let ws3 = exp.graph.find_node("ws-3").unwrap();
    let o = ChannelParamsOverride {
        channel_reserve_ppm: Some(20_000),
        max_accepted_htlcs: Some(5),
        ..Default::default()
    };
    assert_eq!(exp.channel_overrides, vec![(ws3, o)]);
    let configs = exp.faults.node_configs(
        &exp.graph,
        &s.receiver,
        &s.network,
        &exp.overrides,
        &exp.channel_overrides,
    );
    for (i, c) in configs.iter().enumerate() {
        if i == ws3.ix() {
            // The override replaces what it names and keeps the global rest.
            assert_eq!(c.channel, o.apply(global));
            assert_eq!(c.channel.max_htlc_value_in_flight_msat, Some(900_000_000));
        } else {
            assert_eq!(c.channel, global, "node {i}");
        }
    }
    // And the run uses them: the same workload without a reserve and with the default
    // one are different experiments (a 1% reserve blocks some parts).
    let r0 = exp
        .run(&t.path().join("no-reserve"), 1, &AtomicU64::new(0))
        .unwrap();
    let mut d = s.clone();
    d.network.channel = ChannelParams::default();
    d.network.overrides.clear();
    let r1 = Experiment::prepare(d, Path::new("unused"))
        .unwrap()
        .run(&t.path().join("default"), 1, &AtomicU64::new(0))
        .unwrap();
    let payments = |dir: &str| std::fs::read(t.path().join(dir).join("payments.csv")).unwrap();
    assert_eq!(r0.arms.len(), r1.arms.len());
    assert_ne!(payments("no-reserve"), payments("default"));
}

#[test]
fn out_of_range_parameters_name_their_key() {
    for (channel, node_channel, key) in [
        (
            "max_accepted_htlcs = 0",
            "",
            "network.channel.max_accepted_htlcs",
        ),
        ("dust_limit_sat = 353", "", "network.channel.dust_limit_sat"),
        (
            "",
            "channel = { channel_reserve_ppm = 1000001 }",
            "network.overrides[0].channel.channel_reserve_ppm",
        ),
        (
            "",
            "channel = { max_htlc_value_in_flight_msat = 0 }",
            "network.overrides[0].channel.max_htlc_value_in_flight_msat",
        ),
    ] {
        let text = scenario_text("g.json", channel, node_channel);
        let e = Scenario::from_toml(&text, "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("`{key}`")), "{key}: {e}");
        assert!(!e.contains('\n'), "{e}");
    }
    // A misspelt key is an error naming it, not a silently different run.
    let text = scenario_text("g.json", "reserve_ppm = 0", "");
    let e = Scenario::from_toml(&text, "s.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("reserve_ppm"), "{e}");
}
