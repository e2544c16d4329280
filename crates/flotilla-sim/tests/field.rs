//! Field scenarios: each shipped scenario, shrunk, runs on the bundled mainnet snapshot
//! and its result points the way the full run does (so a regression shows); field runs
//! are deterministic; bad field sections are refused naming the key.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use flotilla_graph::export::write_graph;
use flotilla_graph::generate::WattsStrogatz;
use flotilla_graph::GraphFormat;
use flotilla_sim::experiment::{Experiment, RunSummary};
use flotilla_sim::scenario::Scenario;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bundled() -> PathBuf {
    root().join("data/mainnet-2026-02-03.describegraph.json.gz")
}

/// A shipped scenario with fewer payments and the given arms.
fn shipped(name: &str, payments: u64, arms: &[&str]) -> Scenario {
    let p = root().join("scenarios").join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&p).unwrap();
    let mut s = Scenario::from_toml(&text, &p.display().to_string()).unwrap();
    s.workload.payments = payments;
    s.sender.arms = arms.iter().map(|a| a.to_string()).collect();
    s
}

fn run(s: Scenario, dir: &Path, threads: usize) -> RunSummary {
    let exp = Experiment::prepare(s, &bundled()).unwrap();
    exp.run(dir, threads, &AtomicU64::new(0)).unwrap()
}

/// A 100-node Watts–Strogatz graph (aliases `ws-0` … `ws-99`) written into `dir`.
fn ws_graph(dir: &Path) -> String {
    let (g, _) = WattsStrogatz::default().generate(7).unwrap();
    let p = dir.join("ws.json");
    write_graph(&g, None, GraphFormat::Describegraph, &p).unwrap();
    p.display().to_string()
}

fn ws_scenario(graph: &str, section: &str) -> Scenario {
    let text = format!(
        "seed = 2\n[graph]\nfile = \"{graph}\"\n[workload]\npayments = 300\n\
         [workload.amount]\ndistribution = \"log-uniform\"\nmin_sat = 1000\nmax_sat = 300000\n\
         [network]\nhodl_share = 0.05\n\
         [sender]\narms = [\"single-path-retry\", \"mpp-retry\"]\n{section}"
    );
    Scenario::from_toml(&text, "ws.toml").unwrap()
}

#[test]
fn a_zero_fee_hub_attracts_payments_and_moves_more_of_its_liquidity() {
    let t = tempfile::tempdir().unwrap();
    let s = run(shipped("zero-fee-hub", 1500, &["mpp-retry"]), t.path(), 2);
    let h = s.field.hub.as_ref().expect("hub section");
    assert_eq!(h.channels, 1864, "the best-connected node of the snapshot");
    let (base, free) = (&h.arms[0], &h.arms[1]);
    assert_eq!(
        (base.arm.as_str(), free.arm.as_str()),
        ("mpp-retry", "mpp-retry+zero-fee-hub")
    );
    assert!(!base.zero_fee_hub && free.zero_fee_hub);
    assert!(
        free.payments_via_hub > 2 * base.payments_via_hub,
        "{} vs {}",
        free.payments_via_hub,
        base.payments_via_hub
    );
    assert!(free.hub_forwarded_msat > base.hub_forwarded_msat);
    assert!(free.moved_out_msat > base.moved_out_msat);
    assert!(base.hub_fees_earned_msat > 0);
    assert_eq!(free.hub_fees_earned_msat, 0, "a zero-fee hub earns nothing");
    assert!(
        free.others_fee_ppm_mean < base.others_fee_ppm_mean,
        "everyone else pays less"
    );
    // The time series: a row per sample per arm, from t = 0.
    let csv = std::fs::read_to_string(t.path().join("hub-liquidity.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("arm,time_secs,local_sat"));
    let rows: Vec<&str> = lines.collect();
    assert!(rows.iter().any(|r| r.starts_with("mpp-retry,0,")));
    assert!(rows
        .iter()
        .any(|r| r.starts_with("mpp-retry+zero-fee-hub,60,")));
    let chans = std::fs::read_to_string(t.path().join("hub-channels.csv")).unwrap();
    assert_eq!(chans.lines().count(), 1 + 2 * 1864);
    assert!(t.path().join("hub-top-channels.csv").exists());
    for svg in [
        "hub-forwards.svg",
        "hub-moved.svg",
        "hub-drained-in.svg",
        "hub-drained-out.svg",
    ] {
        let text = std::fs::read_to_string(t.path().join(svg)).unwrap();
        assert!(
            text.contains("mpp-retry+zero-fee-hub"),
            "{svg}: a line per arm"
        );
    }
}

#[test]
fn probing_identifies_no_recipient_behind_payment_secret_and_many_behind_legacy_receivers() {
    let t = tempfile::tempdir().unwrap();
    let s = run(shipped("probing", 600, &["single-path-retry"]), t.path(), 2);
    assert_eq!(s.field.recipients_identified_with_secret, Some(0));
    let legacy = s.field.recipients_identified_legacy.unwrap();
    assert!(legacy > 0, "legacy receivers give recipients away");
    let p = s.field.probing.as_ref().unwrap();
    let (secret, old) = (&p.arms[0], &p.arms[1]);
    assert!(!secret.legacy_receivers && old.legacy_receivers);
    // The attack ran for real: probes reached candidates and were answered.
    assert!(secret.payments_observed > 0 && secret.probes_answered > 0);
    assert_eq!(secret.probes_settled, 0);
    assert_eq!(secret.short_circuits, 0);
    assert_eq!(old.recipients_identified, legacy);
    assert!(
        old.short_circuits > 0,
        "a settled probe hands over the payment"
    );
    for a in &p.arms {
        assert_eq!(a.false_identifications, 0, "{}", a.arm);
        assert_eq!(a.keysend_identified, 0, "{}: keysend hides", a.arm);
    }
    assert!(p.keysend_payments > 0 && old.keysend_observed > 0);
    let json = std::fs::read_to_string(t.path().join("summary.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["recipients_identified_with_secret"], 0);
    assert_eq!(v["recipients_identified_legacy"], legacy);
    let ids = std::fs::read_to_string(t.path().join("probing-identified.csv")).unwrap();
    assert_eq!(ids.lines().count() as u64, 1 + legacy);
}

#[test]
fn stuck_parts_lock_liquidity_and_delay_the_outcome() {
    let t = tempfile::tempdir().unwrap();
    let s = run(
        shipped("stuck", 400, &["mpp-retry", "redundant-h2tlc-0.5"]),
        t.path(),
        2,
    );
    let st = s.field.stuck.as_ref().unwrap();
    let names: Vec<&str> = st.arms.iter().map(|a| a.arm.as_str()).collect();
    assert_eq!(
        names,
        [
            "mpp-retry",
            "redundant-h2tlc-0.5",
            "mpp-retry+no-hodl",
            "redundant-h2tlc-0.5+no-hodl"
        ]
    );
    for (with, without) in [(&st.arms[0], &st.arms[2]), (&st.arms[1], &st.arms[3])] {
        assert!(with.hodl && !without.hodl);
        assert!(with.stuck_parts > 0, "{}", with.arm);
        assert!(with.stuck_liquidity_sat_seconds > 0.0);
        assert!(with.stuck_liquidity_sat_seconds <= with.liquidity_sat_seconds);
        // A stuck part is out until its HTLC expires: hours, not seconds.
        assert!(
            with.stuck_part_hours_mean > 1.0,
            "{}",
            with.stuck_part_hours_mean
        );
        assert!(with.outcome_secs_p99 > without.outcome_secs_p99);
        assert!(with.share_resolved_within < without.share_resolved_within);
        assert_eq!(without.stuck_parts, 0);
        assert_eq!(without.stuck_liquidity_sat_seconds, 0.0);
    }
    let cdf = std::fs::read_to_string(t.path().join("stuck-outcome-cdf.csv")).unwrap();
    let last_known = |arm: &str| -> f64 {
        let row = cdf
            .lines()
            .rev()
            .find(|l| l.split(',').next() == Some(arm))
            .unwrap();
        row.split(',').nth(2).unwrap().parse().unwrap()
    };
    assert_eq!(
        last_known("mpp-retry"),
        1.0,
        "every outcome known in the end"
    );
    assert!(t.path().join("stuck-outcome.svg").exists());
    let csv = std::fs::read_to_string(t.path().join("stuck-payments.csv")).unwrap();
    assert_eq!(
        csv.lines().count() as u64,
        1 + st.arms[0].payments_with_stuck_parts + st.arms[1].payments_with_stuck_parts
    );
}

#[test]
fn field_runs_give_the_same_bytes_whatever_the_thread_count() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    for (name, section) in [
        ("hub", "[hub]\nsample_secs = 5\n"),
        ("probing", "[probing]\nattacker_count = 3\n"),
        ("stuck", "[stuck]\n"),
    ] {
        let mut dirs = Vec::new();
        for threads in [1, 3] {
            let dir = t.path().join(format!("{name}-{threads}"));
            let exp = Experiment::prepare(ws_scenario(&g, section), Path::new("unused")).unwrap();
            exp.run(&dir, threads, &AtomicU64::new(0)).unwrap();
            dirs.push(dir);
        }
        let mut files: Vec<_> = std::fs::read_dir(&dirs[0])
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        files.sort();
        assert!(files.len() >= 4, "{files:?}");
        for f in files {
            let a = std::fs::read(dirs[0].join(&f)).unwrap();
            let b = std::fs::read(dirs[1].join(&f)).unwrap();
            if f == "summary.json" {
                let strip = |bytes: &[u8]| {
                    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
                    let o = v.as_object_mut().unwrap();
                    o.remove("wall_seconds");
                    o.remove("payments_per_second");
                    v
                };
                assert_eq!(strip(&a), strip(&b), "{name}: summary.json");
            } else {
                assert!(a == b, "{name}: {f:?} differs");
            }
        }
    }
}

#[test]
fn bad_field_sections_are_refused_naming_the_key() {
    let t = tempfile::tempdir().unwrap();
    let g = ws_graph(t.path());
    let prepare_err = |section: &str| {
        Experiment::prepare(ws_scenario(&g, section), Path::new("unused"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let e = prepare_err("[hub]\nnode = \"nobody\"\n");
    assert!(e.starts_with("hub.node: ") && e.contains("nobody"), "{e}");
    let e = prepare_err("[probing]\nattackers = [\"ws-1\", \"nobody\"]\n");
    assert!(e.starts_with("probing.attackers[1]: "), "{e}");
    assert!(!e.contains('\n'));

    let parse_err = |text: &str| {
        Scenario::from_toml(text, "s.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    for (text, key) in [
        ("[hub]\nsample_secs = 0\n", "hub.sample_secs"),
        ("[hub]\ndepleted_share = 0.7\n", "hub.depleted_share"),
        ("[probing]\nkeysend_share = 1.5\n", "probing.keysend_share"),
        ("[probing]\nattacker_count = 0\n", "probing.attacker_count"),
        ("[probing]\nattackers = [\"\"]\n", "probing.attackers[0]"),
        ("[stuck]\n", "network.hodl_share"),
        (
            "[network]\nhodl_share = 0.01\n[stuck]\nwithin_secs = 0\n",
            "stuck.within_secs",
        ),
        ("[hub]\n[probing]\n", "hub/probing/stuck"),
    ] {
        let e = parse_err(text);
        assert!(
            e.starts_with("s.toml: ") && e.contains(&format!("`{key}`")),
            "{text}: {e}"
        );
    }
    let e = parse_err("[hub]\nnodes = \"ACINQ\"\n");
    assert!(
        e.contains("line 2") && e.contains("unknown field `nodes`"),
        "{e}"
    );
}
