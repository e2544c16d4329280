//! What the CLI tests share: running the binary, and a small generated graph.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod live;

/// Runs `flotilla` with `args`, without the environment that would change its default
/// graph or its logging.
pub fn flotilla(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .args(args)
        .env_remove("FLOTILLA_GRAPH")
        .env_remove("RUST_LOG")
        .output()
        .expect("binary runs")
}

/// The default Watts–Strogatz graph written by `flotilla graph generate` into
/// `dir/ws.json`; its path.
pub fn ws(dir: &Path) -> String {
    let p = dir.join("ws.json");
    let out = flotilla(&[
        "graph",
        "generate",
        "watts-strogatz",
        "-o",
        p.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    p.display().to_string()
}

// ---- `flotilla node`: the binary, a node's control commands, waiting ----

/// The `flotilla` binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_flotilla")
}

/// `flotilla node --data-dir DIR ARGS…`, without the caller's log settings.
pub fn node(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("node")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("binary runs")
}

/// A `--json` query that must succeed, parsed.
pub fn json(dir: &Path, args: &[&str]) -> Value {
    let out = node(dir, args);
    assert!(
        out.status.success(),
        "flotilla node {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Polls `f` every 100 ms until it answers, failing after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `pay --json` carries every field the issue names, whatever the outcome.
pub fn assert_pay_fields(p: &Value) {
    for k in [
        "status",
        "amount_msat",
        "fee_msat",
        "parts_sent",
        "parts_settled",
        "time_ms",
        "failure_reason",
    ] {
        assert!(p.get(k).is_some(), "{k}: {p}");
    }
}
