//! `flotilla sim` with a field section: the extra table, and node names the graph lacks
//! refused in one line that names the scenario file and the key.

use std::path::Path;

mod common;
use common::*;

fn scenario(dir: &Path, name: &str, graph: &str, section: &str) -> String {
    let p = dir.join(name);
    let text = format!(
        "[graph]\nfile = \"{graph}\"\n[workload]\npayments = 150\n\
         [workload.amount]\ndistribution = \"log-uniform\"\nmin_sat = 1000\nmax_sat = 300000\n{section}"
    );
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn a_hub_scenario_prints_both_runs_and_the_hub_table() {
    let t = tempfile::tempdir().unwrap();
    let g = ws(t.path());
    let sc = scenario(t.path(), "hub.toml", &g, "[hub]\nsample_secs = 5\n");
    let out = t.path().join("run");
    let o = flotilla(&["sim", &sc, "--out", out.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("mpp-retry+zero-fee-hub"), "{stdout}");
    assert!(stdout.contains("zero-fee hub: ws-"), "{stdout}");
    for f in [
        "hub-liquidity.csv",
        "hub-channels.csv",
        "hub-top-channels.csv",
        "summary.json",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
}

#[test]
fn unknown_nodes_in_field_sections_name_the_file_and_the_key() {
    let t = tempfile::tempdir().unwrap();
    let g = ws(t.path());
    for (name, section, key) in [
        ("hub.toml", "[hub]\nnode = \"nobody\"\n", "hub.node"),
        (
            "probing.toml",
            "[probing]\nattackers = [\"ws-3\", \"ghost\"]\n",
            "probing.attackers[1]",
        ),
        (
            "override.toml",
            "[[network.overrides]]\nnode = \"nobody\"\nfee_rate_ppm = 0\n",
            "network.overrides[0].node",
        ),
    ] {
        let sc = scenario(t.path(), name, &g, section);
        let o = flotilla(&["sim", &sc, "--out", t.path().join("x").to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("error: {sc}: {key}: ")),
            "{name}: {err}"
        );
    }
}
