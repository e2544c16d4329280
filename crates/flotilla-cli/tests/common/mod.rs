//! What the CLI tests share: running the binary, and a small generated graph.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

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
