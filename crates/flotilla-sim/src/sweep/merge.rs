//! Gathering sweep directories (the shards of one sweep, or partial runs of it) into
//! one sweep directory.
//!
//! Every input must hold the same sweep (equal definitions in `sweep.json`); together
//! they must hold every run complete, or the merge is refused with the runs that are
//! missing. Runs are hard-linked into the output when the file system allows it (runs
//! are never modified after they finish) and copied otherwise. The output is then
//! exactly what running the sweep whole writes: `sweep.json` without a shard, the runs,
//! and the tables built from them in the sweep's order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::exec::is_complete;
use super::spec::Sweep;
use super::table::SweepTable;
use super::{SweepError, SweepManifest, RUNS_DIR};

/// What a merge did.
#[derive(Debug, Clone)]
pub struct MergeReport {
    /// Runs gathered.
    pub runs: usize,
    /// Files hard-linked.
    pub linked: usize,
    /// Files copied (where linking failed).
    pub copied: usize,
}

/// Merges `inputs` into `out` (absent or empty). Returns the sweep, the table of its
/// runs and what was done; the caller writes the tables and the report.
pub fn merge(
    inputs: &[PathBuf],
    out: &Path,
) -> Result<(Sweep, SweepTable, MergeReport), SweepError> {
    let Some(first) = inputs.first() else {
        return Err(SweepError::Dir {
            path: out.to_path_buf(),
            why: "nothing to merge: name the sweep directories (shards) to gather".into(),
        });
    };
    let manifest = SweepManifest::read(first)?;
    for dir in &inputs[1..] {
        let m = SweepManifest::read(dir)?;
        if m.definition != manifest.definition {
            return Err(SweepError::Dir {
                path: dir.join(super::SWEEP_MANIFEST),
                why: format!(
                    "a different sweep from {} (the sweep file, its base scenario or --set differ)",
                    first.display()
                ),
            });
        }
    }
    let out_abs = std::fs::canonicalize(out).ok();
    for dir in inputs {
        if out_abs.is_some() && std::fs::canonicalize(dir).ok() == out_abs {
            return Err(SweepError::Dir {
                path: out.to_path_buf(),
                why: "is also an input; merge into a new directory".into(),
            });
        }
    }
    if let Ok(mut entries) = std::fs::read_dir(out) {
        if entries.next().is_some() {
            return Err(SweepError::Dir {
                path: out.to_path_buf(),
                why: "exists and is not empty; merge into a new directory".into(),
            });
        }
    }
    let sweep = manifest.sweep(first)?;
    let runs = sweep.runs();
    // Where each complete run is; the first input that has it wins (a run is
    // deterministic, so any copy is the same run).
    let mut found: BTreeMap<String, PathBuf> = BTreeMap::new();
    for dir in inputs {
        for r in &runs {
            let name = r.dir_name();
            if found.contains_key(&name) {
                continue;
            }
            let src = dir.join(RUNS_DIR).join(&name);
            if is_complete(&src) {
                found.insert(name, src);
            }
        }
    }
    let missing: Vec<String> = runs
        .iter()
        .map(|r| r.dir_name())
        .filter(|n| !found.contains_key(n))
        .collect();
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(5).map(String::as_str).collect();
        return Err(SweepError::Dir {
            path: first.clone(),
            why: format!(
                "{} of {} runs are missing or incomplete in the inputs ({}{}); run the shards that hold them (with --resume) and merge again",
                missing.len(),
                runs.len(),
                shown.join(", "),
                if missing.len() > shown.len() { ", …" } else { "" }
            ),
        });
    }
    let runs_out = out.join(RUNS_DIR);
    std::fs::create_dir_all(&runs_out).map_err(|e| SweepError::io(&runs_out, e))?;
    let mut report = MergeReport {
        runs: runs.len(),
        linked: 0,
        copied: 0,
    };
    for (name, src) in &found {
        link_tree(src, &runs_out.join(name), &mut report)?;
    }
    SweepManifest::new(&sweep, None).write(out)?;
    let table = SweepTable::read(out, &runs)?;
    Ok((sweep, table, report))
}

/// Hard-links (or copies) every file under `src` to the same place under `dst`.
fn link_tree(src: &Path, dst: &Path, report: &mut MergeReport) -> Result<(), SweepError> {
    std::fs::create_dir_all(dst).map_err(|e| SweepError::io(dst, e))?;
    for entry in std::fs::read_dir(src).map_err(|e| SweepError::io(src, e))? {
        let entry = entry.map_err(|e| SweepError::io(src, e))?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let kind = entry.file_type().map_err(|e| SweepError::io(&from, e))?;
        if kind.is_dir() {
            link_tree(&from, &to, report)?;
        } else if std::fs::hard_link(&from, &to).is_ok() {
            report.linked += 1;
        } else {
            std::fs::copy(&from, &to).map_err(|e| SweepError::io(&to, e))?;
            report.copied += 1;
        }
    }
    Ok(())
}
