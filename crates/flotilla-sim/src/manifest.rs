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

use std::fs;
use std::path::Path;

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
    /// A shell command that runs the same experiment again from `working_dir` (same
    /// scenario and seed, hence the same results), into a new directory.
    pub reproduce: String,
    /// The graph file read.
    pub graph_file: String,
    /// Statistics of that graph (`flotilla graph stats --json`).
    pub graph_stats: serde_json::Value,
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
    let mut scenario = exp.scenario.clone();
    scenario.graph.file = exp.graph_file.display().to_string();
    let toml_path = out.join(SCENARIO_FILE);
    let text = toml::to_string(&scenario).map_err(|e| OutputError {
        path: toml_path.clone(),
        source: std::io::Error::other(e),
    })?;
    let header = "# The effective scenario of this run (file, defaults and flags merged).\n\
                  # `flotilla sim` on this file runs the same experiment again.\n\n";
    io(&toml_path, fs::write(&toml_path, format!("{header}{text}")))?;

    let rerun = out.join("rerun");
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
        reproduce: format!(
            "flotilla sim {} --out {}",
            shell_quote(&toml_path.display().to_string()),
            shell_quote(&rerun.display().to_string())
        ),
        graph_file: exp.graph_file.display().to_string(),
        graph_stats: serde_json::to_value(GraphStats::compute(&exp.graph))
            .expect("graph stats serialize"),
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
    fn the_written_scenario_parses_back_to_the_same_scenario() {
        let mut s = Scenario::default();
        s.graph.file = "g.json".into();
        s.sender.arms = vec!["mpp-retry".into(), "redundant-h2tlc-0.5".into()];
        let text = toml::to_string(&s).unwrap();
        assert_eq!(Scenario::from_toml(&text, "x").unwrap(), s);
    }
}
