//! `run.json` and `scenario.toml`: what a results directory needs in order to be
//! understood and reproduced long after the run.
//!
//! `summary.json` says what happened; these two say what was asked. `scenario.toml` is
//! the effective scenario (file, defaults and flags merged, the graph file resolved),
//! so `flotilla sim DIR/scenario.toml` runs the same experiment again. `run.json` names
//! the results format and its version (a reader refuses versions it does not know
//! instead of misreading them), the command line as typed, the command that reproduces
//! the run, and the graph's statistics. Both are written before the arms start, so a
//! directory that has results always says where they came from.
//!
//! When every other file is complete, [`seal`] adds to `run.json` what only the end
//! knows: the wall-clock timing (kept out of `summary.json`, which is byte-identical
//! across runs and thread counts) and a SHA-256 of every file, so that a reader can
//! tell a file edited or truncated after the run from the run's own.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use bitcoin::hashes::{sha256, Hash, HashEngine};

use flotilla_graph::stats::GraphStats;
use serde::{Deserialize, Serialize};

use crate::experiment::Experiment;
use crate::output::OutputError;

/// File name of the manifest.
pub const MANIFEST_FILE: &str = "run.json";
/// File name of the effective scenario.
pub const SCENARIO_FILE: &str = "scenario.toml";
/// `format` of every results directory flotilla writes.
pub const RESULTS_FORMAT: &str = "flotilla-results";
/// Version of the results directory's layout and columns. Bump it when a reader of the
/// old layout would misread the new one (a renamed or re-meant column, a moved file);
/// adding a field or a column is compatible and keeps it.
///
/// 2: the attempts moved from `attempts.jsonl` to `attempts.jsonl.gz` by default
/// (`--attempts`), and may be absent (`--attempts off`).
pub const RESULTS_FORMAT_VERSION: u32 = 2;
/// The oldest version this flotilla still reads (version 1 differs only in where the
/// attempts are).
pub const OLDEST_READABLE_VERSION: u32 = 1;

/// `run.json`. Readers tolerate fields they do not know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// Always [`RESULTS_FORMAT`].
    pub format: String,
    /// [`RESULTS_FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// Version of the flotilla that wrote the directory.
    pub flotilla_version: String,
    /// The command line as typed (program name shortened to `flotilla`).
    pub command: Vec<String>,
    /// Directory the command ran in: relative paths in it and in `scenario.toml`
    /// (the graph file) are relative to this.
    pub working_dir: String,
    /// A shell command that runs the same experiment again, from any directory (same
    /// scenario and seed, hence the same results), into a new directory.
    pub reproduce: String,
    /// The graph file read (absolute), or `builtin:NAME` for a snapshot built into
    /// the binary.
    pub graph_file: String,
    /// Statistics of that graph (`flotilla graph stats --json`).
    pub graph_stats: serde_json::Value,
    /// The git commit flotilla was built from (when built from a checkout; changes
    /// not committed then are not reflected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// Wall-clock facts of the run (absent until it finished).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// SHA-256 (hex) of every file of the run but `run.json`, by path relative to the
    /// directory (absent until it finished). `flotilla report` checks them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<BTreeMap<String, String>>,
}

/// When and how fast a run went: everything about it that differs between two runs
/// of the same scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// When the arms started, UTC (`YYYY-MM-DDTHH:MM:SSZ`).
    pub started_at: String,
    /// When the last file was complete, UTC.
    pub finished_at: String,
    /// Wall time of the arms, seconds.
    pub wall_seconds: f64,
    /// payments × arm runs ÷ wall seconds.
    pub payments_per_second: f64,
    /// Arms run at once.
    pub threads: usize,
}

static GIT_COMMIT: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Records the git commit the running binary was built from (the binary knows it;
/// this library is built before it), for every `run.json` written afterwards.
pub fn set_git_commit(commit: &'static str) {
    if !commit.is_empty() {
        let _ = GIT_COMMIT.set(commit);
    }
}

/// The commit recorded by [`set_git_commit`], if any.
pub fn git_commit() -> Option<&'static str> {
    GIT_COMMIT.get().copied()
}

/// SHA-256 of a file's bytes, lowercase hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = fs::File::open(path)?;
    let mut engine = sha256::Hash::engine();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        engine.input(&buf[..n]);
    }
    let digest = sha256::Hash::from_engine(engine).to_byte_array();
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// SHA-256 of every file under `dir` but `run.json`, the `INCOMPLETE` marker and
/// hidden files (parts being written), by relative path with `/` separators.
pub fn checksums(dir: &Path) -> Result<BTreeMap<String, String>, OutputError> {
    let mut out = BTreeMap::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        let here = dir.join(&rel);
        let entries = fs::read_dir(&here).map_err(|source| OutputError {
            path: here.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| OutputError {
                path: here.clone(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = rel.join(&name);
            let skip = name.starts_with('.')
                || rel == Path::new(MANIFEST_FILE)
                || rel == Path::new(crate::output::INCOMPLETE_MARKER);
            if skip {
                continue;
            }
            let path = dir.join(&rel);
            if path.is_dir() {
                pending.push(rel);
            } else {
                let hash = sha256_file(&path).map_err(|source| OutputError {
                    path: path.clone(),
                    source,
                })?;
                let key = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                out.insert(key, hash);
            }
        }
    }
    Ok(out)
}

/// Completes `run.json` in `dir` once every other file is final: the timing and the
/// files' checksums. A directory without `run.json` (a run started without
/// [`write_manifest`]) is left as it is.
pub fn seal(dir: &Path, timing: Timing) -> Result<(), OutputError> {
    let path = dir.join(MANIFEST_FILE);
    let err = |source| OutputError {
        path: path.clone(),
        source,
    };
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(err(e)),
    };
    let mut manifest: RunManifest =
        serde_json::from_slice(&bytes).map_err(|e| err(std::io::Error::other(e)))?;
    manifest.timing = Some(timing);
    manifest.files = Some(checksums(dir)?);
    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
    write_whole(&path, &json).map_err(err)
}

/// Writes `bytes` to `path` through a temporary file renamed into place, so a reader
/// (or a crash) never sees half a file.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_file_name(format!(
        ".{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, path)
}

/// `p` made absolute against the current directory (not resolving links), so a path
/// recorded in a results directory works from anywhere.
fn absolute(p: &str) -> String {
    if p.is_empty() || p.starts_with(crate::graph_origin::BUILTIN_PREFIX) {
        return p.to_string();
    }
    std::path::absolute(p)
        .map(|a| a.display().to_string())
        .unwrap_or_else(|_| p.to_string())
}

/// Quotes `s` for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Writes `scenario.toml` and `run.json` into `out` (created if needed) for `exp`, run
/// by `command` (the program's arguments, without the program name).
pub fn write_manifest(
    exp: &Experiment,
    out: &Path,
    command: &[String],
) -> Result<RunManifest, OutputError> {
    let io = |path: &Path, r: std::io::Result<()>| {
        r.map_err(|source| OutputError {
            path: path.to_path_buf(),
            source,
        })
    };
    io(out, fs::create_dir_all(out))?;
    // Paths are made absolute so that the scenario and the reproduce line work from
    // any directory.
    let mut scenario = exp.scenario.clone();
    scenario.graph.file = absolute(&exp.graph_file.display().to_string());
    scenario.workload.file = absolute(&scenario.workload.file);
    let toml_path = out.join(SCENARIO_FILE);
    let text = toml::to_string(&scenario).map_err(|e| OutputError {
        path: toml_path.clone(),
        source: std::io::Error::other(e),
    })?;
    let header = "# The effective scenario of this run (file, defaults and flags merged).\n\
                  # `flotilla sim` on this file runs the same experiment again.\n\n";
    io(&toml_path, fs::write(&toml_path, format!("{header}{text}")))?;

    let toml_abs = absolute(&toml_path.display().to_string());
    let manifest = RunManifest {
        format: RESULTS_FORMAT.into(),
        format_version: RESULTS_FORMAT_VERSION,
        flotilla_version: env!("CARGO_PKG_VERSION").into(),
        command: std::iter::once("flotilla".to_string())
            .chain(command.iter().cloned())
            .collect(),
        working_dir: std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        reproduce: format!("flotilla sim {}", shell_quote(&toml_abs)),
        graph_file: scenario.graph.file.clone(),
        graph_stats: serde_json::to_value(GraphStats::compute(&exp.graph))
            .expect("graph stats serialize"),
        git_commit: git_commit().map(str::to_string),
        timing: None,
        files: None,
    };
    let path = out.join(MANIFEST_FILE);
    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
    io(&path, fs::write(&path, json))?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    #[test]
    fn quoting_leaves_plain_words_and_quotes_the_rest() {
        assert_eq!(shell_quote("results/run-1"), "results/run-1");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn checksums_cover_every_file_but_the_manifest_the_marker_and_parts() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        fs::write(d.join("payments.csv"), "abc").unwrap();
        fs::create_dir(d.join("sub")).unwrap();
        fs::write(d.join("sub/x.svg"), "").unwrap();
        fs::write(d.join(MANIFEST_FILE), "{}").unwrap();
        fs::write(d.join(crate::output::INCOMPLETE_MARKER), "").unwrap();
        fs::write(d.join(".payments.csv.part000"), "").unwrap();
        let c = checksums(d).unwrap();
        assert_eq!(c.keys().collect::<Vec<_>>(), ["payments.csv", "sub/x.svg"]);
        // Known vectors: SHA-256("abc") and SHA-256("").
        assert_eq!(
            c["payments.csv"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            c["sub/x.svg"],
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn the_written_scenario_parses_back_to_the_same_scenario() {
        let mut s = Scenario::default();
        s.graph.file = "g.json".into();
        s.sender.arms = vec!["mpp-retry".into(), "redundant-h2tlc-0.5".into()];
        let text = toml::to_string(&s).unwrap();
        assert_eq!(Scenario::from_toml(&text, "x").unwrap(), s);
    }
}
