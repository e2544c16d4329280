//! Per-message-class latency (`[network.latency_by_message]`): a scenario that sets no
//! class draws exactly the random numbers it drew before classes existed, and the
//! classes it sets change what they should.

use std::path::Path;
use std::sync::atomic::AtomicU64;

use bitcoin::hashes::{sha256, Hash};
use flotilla_graph::export::write_graph;
use flotilla_graph::generate::WattsStrogatz;
use flotilla_graph::GraphFormat;
use flotilla_sim::experiment::Experiment;
use flotilla_sim::scenario::{AmountDistribution, Scenario};

/// A 100-node Watts–Strogatz graph written as describegraph into `dir`.
fn ws_graph(dir: &Path) -> String {
    let (g, _) = WattsStrogatz::default().generate(7).unwrap();
    let p = dir.join("ws.json");
    write_graph(&g, None, GraphFormat::Describegraph, &p).unwrap();
    p.display().to_string()
}

/// The default scenario, smaller, on the graph `g`: every kind of message and every
/// endpoint message (claim requests, reveals, cancels of the h2tlc arm) is carried.
fn default_ish(g: &str) -> Scenario {
    let mut s = Scenario::default();
    s.graph.file = g.to_string();
    s.workload.payments = 300;
    s.workload.amount = AmountDistribution::LogUniform {
        min_sat: 1_000,
        max_sat: 300_000,
    };
    s.sender.arms = vec![
        "single-path-retry".into(),
        "mpp-retry".into(),
        "redundant-h2tlc-0.5-retry".into(),
        "redundant-boomerang-0.5".into(),
    ];
    s
}

fn run(sc: Scenario, dir: &Path) -> Vec<u8> {
    let exp = Experiment::prepare(sc, Path::new("unused")).unwrap();
    exp.run(dir, 2, &AtomicU64::new(0)).unwrap();
    std::fs::read(dir.join("payments.csv")).unwrap()
}

/// SHA-256 of `payments.csv` of [`default_ish`], recorded by running this test on the
/// code before message classes existed (commit 0b04a55, where every message drew its
/// latency from `network.latency` directly). If a later change to the simulation
/// changes outputs on purpose, record the new value; if this fails otherwise, a
/// scenario without classes no longer draws what it drew. Recorded again when senders
/// started routing by their own spendable balances (`RouteRequest::first_hops`), which
/// changes paths on purpose (before: 922b9703…bae3cf).
const BEFORE_CLASSES: &str = "e40690a1edf5aa321a5f5ff72e35dde7ecf72ebb27f7c47deeb0a6956bb54bef";

#[test]
fn a_scenario_without_classes_draws_what_it_drew_before_classes_existed() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    let csv = run(default_ish(&g), &t.path().join("out"));
    let got = sha256::Hash::hash(&csv).to_string();
    assert_eq!(got, BEFORE_CLASSES, "payments.csv changed");
}

#[test]
fn every_class_set_to_the_common_model_changes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    let plain = run(default_ish(&g), &t.path().join("plain"));
    let mut sc = default_ish(&g);
    let m = sc.network.latency.clone();
    let c = &mut sc.network.latency_by_message;
    for slot in [
        &mut c.add,
        &mut c.fail,
        &mut c.fulfill,
        &mut c.claim_request,
        &mut c.reveal,
        &mut c.cancel,
    ] {
        *slot = Some(m.clone());
    }
    assert_eq!(run(sc, &t.path().join("explicit")), plain);
}

/// summary.json's `ttc_ms_mean` of arm `name`.
fn ttc_mean(dir: &Path, name: &str) -> f64 {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    v["arms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap()["ttc_ms_mean"]
        .as_f64()
        .unwrap()
}

#[test]
fn classes_delay_only_their_own_messages() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    let base = t.path().join("base");
    run(default_ish(&g), &base);
    // Fulfils instant: a settled payment takes its forward trip only, about half.
    let mut sc = default_ish(&g);
    sc.network.latency_by_message.fulfill = toml::from_str("model = \"zero\"").ok();
    assert!(sc.network.latency_by_message.fulfill.is_some());
    let no_fulfil = t.path().join("no-fulfil");
    run(sc, &no_fulfil);
    for arm in ["single-path-retry", "mpp-retry"] {
        let (b, f) = (ttc_mean(&base, arm), ttc_mean(&no_fulfil, arm));
        assert!(f < 0.65 * b && f > 0.35 * b, "{arm}: {f} vs {b}");
    }
    // The claim request and the reveal each cross a path: a second of each adds
    // about 2 s × hops to the h2tlc arm and nothing to single-path payments' TTC.
    let mut sc = default_ish(&g);
    sc.network.latency_by_message.claim_request =
        Some(toml::from_str("model = \"constant\"\nms = 1000").unwrap());
    sc.network.latency_by_message.reveal = sc.network.latency_by_message.claim_request.clone();
    let slow_claims = t.path().join("slow-claims");
    run(sc, &slow_claims);
    let (b, s) = (
        ttc_mean(&base, "redundant-h2tlc-0.5-retry"),
        ttc_mean(&slow_claims, "redundant-h2tlc-0.5-retry"),
    );
    assert!(s > b + 2_000.0, "{s} vs {b}");
    // Single-path payments send no endpoint message, so their latency draws (and
    // outcomes) are those of the base run exactly.
    let (b, s) = (
        ttc_mean(&base, "single-path-retry"),
        ttc_mean(&slow_claims, "single-path-retry"),
    );
    assert_eq!(b, s);
}

#[test]
fn bad_classes_name_their_key() {
    let cases = [
        (
            "[network.latency_by_message]\nfail = { model = \"uniform\", min_ms = 9, max_ms = 1 }\n",
            "`network.latency_by_message.fail`",
            "min_ms is larger than max_ms",
        ),
        (
            "[network.latency_by_message]\nadd = { model = \"constant\", ms = 3600001 }\n",
            "`network.latency_by_message.add.ms`",
            "limit of 3600000 ms",
        ),
        (
            "[network.latency_by_message.cancel]\nmodel = \"lognormal\"\nmedian_ms = 5\nsigma = -1.0\n",
            "`network.latency_by_message.cancel.sigma`",
            "non-negative",
        ),
    ];
    for (text, key, why) in cases {
        let e = Scenario::from_toml(text, "s.toml").unwrap_err().to_string();
        assert!(e.contains(key) && e.contains(why), "{text}: {e}");
    }
    let e = Scenario::from_toml(
        "[network.latency_by_message]\nrollback = { model = \"zero\" }\n",
        "s.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("unknown field `rollback`") && e.contains("line 2"),
        "{e}"
    );
    // A zero class is written back as it was read (the results directory's
    // scenario.toml), and an unset table not at all.
    let sc = Scenario::from_toml(
        "[network.latency_by_message]\nfail = { model = \"zero\" }\n",
        "s",
    )
    .unwrap();
    let text = toml::to_string(&sc).unwrap();
    assert!(text.contains("latency_by_message"), "{text}");
    assert_eq!(Scenario::from_toml(&text, "again").unwrap(), sc);
    assert!(!toml::to_string(&Scenario::default())
        .unwrap()
        .contains("latency_by_message"));
}
