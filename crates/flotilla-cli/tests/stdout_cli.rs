//! Every command survives a stdout it cannot write: a reader that goes away (`| head`)
//! ends it quietly with the status of a process killed by SIGPIPE (141), a full disk
//! (`> /dev/full`) with one `error:` line and status 1; never a panic. A results
//! directory is complete (no INCOMPLETE marker, report written) before stdout is
//! touched.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::*;

/// Runs `flotilla args` with stdout into a pipe whose reader has already gone;
/// returns (exit code, stderr).
fn into_closed_pipe(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    // The reader (`true`) exits at once; flotilla starts 0.3 s later, so its first
    // write meets a closed pipe.
    let script = r#"(sleep 0.3; exec "$0" "$@" 2>stderr.txt) | true; exit "${PIPESTATUS[0]}""#;
    let o = Command::new("bash")
        .current_dir(dir)
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_flotilla"))
        .args(args)
        .env_remove("FLOTILLA_GRAPH")
        .env_remove("RUST_LOG")
        .output()
        .expect("bash runs");
    let err = std::fs::read_to_string(dir.join("stderr.txt")).unwrap_or_default();
    (o.status.code(), err)
}

/// Runs `flotilla args` with stdout on /dev/full; returns (exit code, stderr).
fn into_full_disk(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .current_dir(dir)
        .args(args)
        .env_remove("FLOTILLA_GRAPH")
        .env_remove("RUST_LOG")
        .stdout(File::create("/dev/full").expect("/dev/full"))
        .stderr(Stdio::piped())
        .output()
        .expect("binary runs");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn commands(g: &str) -> Vec<Vec<String>> {
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        v(&["graph", "stats", g]),
        v(&["graph", "stats", g, "--json"]),
        v(&["sim", "--print-default-scenario"]),
        v(&[
            "invoice",
            "create",
            "--amount-msat",
            "50000",
            "--description",
            "a coffee",
        ]),
        v(&["graph", "generate", "watts-strogatz", "-o", "again.json"]),
    ]
}

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let t = tempfile::tempdir().unwrap();
    let g = ws(t.path());
    for args in commands(&g) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, err) = into_closed_pipe(t.path(), &args);
        assert_eq!(code, Some(141), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?} said something: {err}");
    }
}

#[test]
fn a_full_disk_is_one_error_line_for_every_command() {
    let t = tempfile::tempdir().unwrap();
    let g = ws(t.path());
    for args in commands(&g) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, err) = into_full_disk(t.path(), &args);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        assert_eq!(
            err, "error: cannot write to standard output: No space left on device (os error 28)\n",
            "{args:?}"
        );
    }
}

#[test]
fn sim_finishes_its_directory_before_stdout_fails() {
    let t = tempfile::tempdir().unwrap();
    let g = ws(t.path());
    for (i, json) in [false, true].into_iter().enumerate() {
        let out = format!("run{i}");
        let mut args = vec!["sim", "--graph", &g, "--payments", "40", "--out", &out];
        if json {
            args.push("--json");
        }
        let (code, err) = into_full_disk(t.path(), &args);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.starts_with("error: cannot write to standard output"),
            "{err}"
        );
        let dir = t.path().join(&out);
        assert!(!dir.join("INCOMPLETE").exists(), "{out}");
        assert!(dir.join("report.html").exists(), "{out}: report first");
        let o = flotilla(&["report", dir.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

        let out = format!("pipe{i}");
        let mut args = vec!["sim", "--graph", &g, "--payments", "40", "--out", &out];
        if json {
            args.push("--json");
        }
        let (code, err) = into_closed_pipe(t.path(), &args);
        assert_eq!(code, Some(141), "{err}");
        assert!(err.is_empty(), "{err}");
        assert!(!t.path().join(&out).join("INCOMPLETE").exists());
    }
}
