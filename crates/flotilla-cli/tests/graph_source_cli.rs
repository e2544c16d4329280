//! The default graph: built into the binary (an installed `flotilla` needs no
//! checkout), `$FLOTILLA_GRAPH` when set, an empty `$FLOTILLA_GRAPH` refused.

use std::process::Command;

#[test]
fn the_builtin_snapshot_needs_no_checkout_and_an_empty_env_is_refused() {
    let t = tempfile::tempdir().unwrap();
    // A copy of the binary elsewhere, run from elsewhere, as after `cargo install`.
    let bin = t.path().join("flotilla");
    std::fs::copy(env!("CARGO_BIN_EXE_flotilla"), &bin).unwrap();
    let run = |env: Option<&str>, args: &[&str]| {
        let mut c = Command::new(&bin);
        c.current_dir(t.path()).args(args).env_remove("RUST_LOG");
        match env {
            Some(v) => c.env("FLOTILLA_GRAPH", v),
            None => c.env_remove("FLOTILLA_GRAPH"),
        };
        c.output().unwrap()
    };
    let o = run(None, &["graph", "stats", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["file"],
        "builtin:mainnet-2026-02-03.describegraph.json.gz"
    );
    assert!(v["nodes"].as_u64().unwrap() > 10_000);

    let o = run(Some(""), &["graph", "stats"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: FLOTILLA_GRAPH is set but empty"),
        "{err}"
    );

    let o = run(Some("no-such.json"), &["graph", "stats"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("FLOTILLA_GRAPH") && err.contains("no-such.json"),
        "{err}"
    );

    let o = run(None, &["graph", "stats", "builtin:mainnet-2021.json"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("not a graph built into this flotilla"),
        "{err}"
    );
}
