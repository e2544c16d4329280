//! Records the git commit flotilla is built from (when built from a checkout) as
//! `FLOTILLA_GIT_COMMIT`, for `run.json`. It lives in the binary's crate, the leaf of
//! the workspace, so that a new commit rebuilds only the binary.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let Some(commit) = git(&["rev-parse", "HEAD"]) else {
        return;
    };
    println!("cargo:rustc-env=FLOTILLA_GIT_COMMIT={commit}");
    // Build again when HEAD moves: HEAD itself, the branch it points to, packed refs.
    // (Only files that exist: a missing one would rerun this script every build.)
    let git_dir = git(&["rev-parse", "--absolute-git-dir"]).map(PathBuf::from);
    let common = git(&["rev-parse", "--git-common-dir"]).map(PathBuf::from);
    let mut watch: Vec<PathBuf> = Vec::new();
    if let Some(d) = &git_dir {
        watch.push(d.join("HEAD"));
    }
    if let Some(c) = &common {
        let c = if c.is_relative() {
            std::env::current_dir()
                .map(|d| d.join(c))
                .unwrap_or_else(|_| c.clone())
        } else {
            c.clone()
        };
        watch.push(c.join("packed-refs"));
        if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watch.push(c.join(&head));
            if let Some(d) = &git_dir {
                watch.push(d.join(&head));
            }
        }
    }
    for p in watch.iter().filter(|p| Path::new(p).is_file()) {
        println!("cargo:rerun-if-changed={}", p.display());
    }
}
