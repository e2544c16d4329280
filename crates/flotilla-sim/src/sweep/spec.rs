//! The sweep file, its grid expanded into points, and the runs (point × seed) in their
//! fixed order.
//!
//! ```toml
//! scenario = "boomerang.toml"      # the base scenario, relative to this file
//! seeds = 3                        # 1, 2, 3; or a list: [7, 11]
//! [grid]                           # any scenario keys, each with a list of values
//! workload.arrivals_per_sec = [25, 100, 400]
//! sender.arms = [["mpp-retry"], ["mpp-retry", "redundant-boomerang-1-retry"]]
//! ```
//!
//! Order: the axes are the grid's dotted keys sorted as strings (a nested table and
//! dotted keys give the same axes); points enumerate every combination with the last
//! axis varying fastest, values in the order listed; runs are point-major, seeds in
//! the order listed. Point `i`'s run with seed `s` lives in `runs/p{i:04}-s{s}/`.
//! Shard `I/N` holds the runs whose position `k` (0-based, in that order) has
//! `k % N == I - 1`: neighbouring points, which cost about the same, land on different
//! shards.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SweepError;
use crate::scenario::Scenario;
use crate::set;

/// One swept parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// Dotted scenario key.
    pub key: String,
    /// Its values, in the order listed.
    pub values: Vec<toml::Value>,
}

/// One point of the grid: one value per axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Position in the fixed order.
    pub index: usize,
    /// Index into each axis's values.
    pub choice: Vec<usize>,
}

/// One run: a point with a seed.
#[derive(Debug, Clone, PartialEq)]
pub struct RunId {
    /// The point's index.
    pub point: usize,
    /// The seed.
    pub seed: u64,
}

impl RunId {
    /// The run's directory under `runs/`.
    pub fn dir_name(&self) -> String {
        format!("p{:04}-s{}", self.point, self.seed)
    }
}

/// Which slice of the runs to do: `index` of `count`, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1..=count.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("expected I/N with 1 <= I <= N (e.g. 2/3), got `{s}`");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What identifies a sweep: two directories hold parts of the same sweep exactly when
/// their definitions are equal. Stored in `sweep.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    /// The base scenario as the sweep file names it.
    pub scenario_file: String,
    /// The base scenario's document, every key as written (files resolved).
    pub base: toml::Table,
    /// The axes, in order.
    pub axes: Vec<Axis>,
    /// The seeds, in order.
    pub seeds: Vec<u64>,
}

/// A parsed, checked sweep: every point's scenario is known to be valid.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// What it is.
    pub definition: Definition,
    /// The sweep file, for messages.
    pub file: String,
    /// Every point, in order.
    pub points: Vec<Point>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    scenario: String,
    #[serde(default)]
    seeds: Option<Seeds>,
    #[serde(default)]
    grid: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Seeds {
    Count(u64),
    List(Vec<u64>),
}

/// Scenario keys that name files: a relative path is looked up next to the file that
/// gave it (the base scenario, or the sweep file for grid values).
const FILE_KEYS: [&str; 2] = ["graph.file", "workload.file"];

impl Sweep {
    /// Reads and checks `path`: the sweep file, its base scenario, and every point's
    /// scenario (an unknown key, a wrong type or an invalid value is an error naming the
    /// key and the value, before anything runs).
    /// `sets` change the base scenario (`--set KEY=VALUE`) before the grid applies.
    pub fn load(path: &Path, sets: &[set::Setting]) -> Result<Sweep, SweepError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| SweepError::io(path, e))?;
        let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        Self::parse(&text, &file, &dir, sets)
    }

    /// Parses sweep text; `dir` is where its relative paths start.
    pub fn parse(
        text: &str,
        file: &str,
        dir: &Path,
        sets: &[set::Setting],
    ) -> Result<Sweep, SweepError> {
        let bad = |key: &str, why: String| SweepError::Spec {
            file: file.to_string(),
            key: key.to_string(),
            why,
        };
        let raw: RawSweep = toml::from_str(text).map_err(|e| SweepError::Spec {
            file: file.to_string(),
            key: "(syntax)".into(),
            why: crate::scenario::one_line(&e),
        })?;
        let seeds = match raw.seeds {
            None => vec![1],
            Some(Seeds::Count(0)) => return Err(bad("seeds", "at least one seed".into())),
            Some(Seeds::Count(n)) => (1..=n).collect(),
            Some(Seeds::List(l)) => {
                if l.is_empty() {
                    return Err(bad("seeds", "at least one seed".into()));
                }
                let distinct: BTreeSet<_> = l.iter().collect();
                if distinct.len() != l.len() {
                    return Err(bad("seeds", "a seed is listed twice".into()));
                }
                l
            }
        };
        let mut axes = Vec::new();
        flatten_grid(&raw.grid, "", &mut axes)
            .map_err(|(k, why)| bad(&format!("grid.{k}"), why))?;
        axes.sort_by(|a, b| a.key.cmp(&b.key));
        for a in &mut axes {
            if a.key == "seed" {
                return Err(bad(
                    "grid.seed",
                    "sweep seeds with `seeds`, not the grid".into(),
                ));
            }
            if a.values.is_empty() {
                return Err(bad(
                    &format!("grid.{}", a.key),
                    "an empty list of values".into(),
                ));
            }
            if FILE_KEYS.contains(&a.key.as_str()) {
                for v in &mut a.values {
                    resolve_file(v, dir);
                }
            }
        }
        let scenario_path = dir.join(&raw.scenario);
        let scenario_text = std::fs::read_to_string(&scenario_path).map_err(|e| {
            bad(
                "scenario",
                format!("cannot read {}: {e}", scenario_path.display()),
            )
        })?;
        let scenario_name = scenario_path.display().to_string();
        let mut base = set::parse_document(&scenario_text, &scenario_name)?;
        let base_dir = scenario_path
            .parent()
            .unwrap_or(Path::new(""))
            .to_path_buf();
        for key in FILE_KEYS {
            if let Some(mut v) = set::get(&base, key).cloned() {
                resolve_file(&mut v, &base_dir);
                set::apply(&mut base, key, v).expect("the key exists");
            }
        }
        for s in sets {
            set::apply(&mut base, &s.key, s.value.clone()).map_err(|e| SweepError::Spec {
                file: "--set".into(),
                key: s.key.clone(),
                why: e.to_string(),
            })?;
        }
        let definition = Definition {
            scenario_file: raw.scenario,
            base,
            axes,
            seeds,
        };
        Self::from_definition(definition, file)
    }

    /// The sweep of a definition (read back from `sweep.json`), checked.
    pub fn from_definition(definition: Definition, file: &str) -> Result<Sweep, SweepError> {
        let sweep = Sweep {
            points: expand(&definition.axes),
            definition,
            file: file.to_string(),
        };
        sweep.check()?;
        Ok(sweep)
    }

    /// Every value alone on the base, then every point as a whole: valid scenarios
    /// with known arms, or an error naming the key and the value.
    fn check(&self) -> Result<(), SweepError> {
        for a in &self.definition.axes {
            for v in &a.values {
                let mut doc = self.definition.base.clone();
                set::apply(&mut doc, &a.key, v.clone()).map_err(|e| SweepError::Spec {
                    file: self.file.clone(),
                    key: format!("grid.{}", a.key),
                    why: e.to_string(),
                })?;
                self.scenario_of(doc).map_err(|why| SweepError::Spec {
                    file: self.file.clone(),
                    key: format!("grid.{}", a.key),
                    why: format!("value {}: {why}", show_value(v)),
                })?;
            }
        }
        for p in &self.points {
            self.scenario(p, self.definition.seeds[0])?;
        }
        Ok(())
    }

    fn scenario_of(&self, doc: toml::Table) -> Result<Scenario, String> {
        let s = set::scenario_from_table(doc, "scenario")
            .map_err(|e| e.to_string().trim_start_matches("scenario: ").to_string())?;
        for arm in &s.sender.arms {
            arm.parse::<crate::arms::ArmSpec>()
                .map_err(|e| format!("`sender.arms`: {e}"))?;
        }
        Ok(s)
    }

    /// The scenario of point `p` with seed `seed`.
    pub fn scenario(&self, p: &Point, seed: u64) -> Result<Scenario, SweepError> {
        let mut doc = self.definition.base.clone();
        for (a, &c) in self.definition.axes.iter().zip(&p.choice) {
            set::apply(&mut doc, &a.key, a.values[c].clone()).map_err(|e| SweepError::Spec {
                file: self.file.clone(),
                key: format!("grid.{}", a.key),
                why: e.to_string(),
            })?;
        }
        doc.insert("seed".into(), toml::Value::Integer(seed as i64));
        self.scenario_of(doc).map_err(|why| SweepError::Spec {
            file: self.file.clone(),
            key: format!("point {}", p.index),
            why: format!("{} gives {why}", self.describe(p)),
        })
    }

    /// `key=value, key=value` of a point.
    pub fn describe(&self, p: &Point) -> String {
        self.params(p)
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The point's (key, value as text) pairs, in axis order.
    pub fn params(&self, p: &Point) -> Vec<(String, String)> {
        self.definition
            .axes
            .iter()
            .zip(&p.choice)
            .map(|(a, &c)| (a.key.clone(), show_value(&a.values[c])))
            .collect()
    }

    /// Every run, in order.
    pub fn runs(&self) -> Vec<RunId> {
        self.points
            .iter()
            .flat_map(|p| {
                self.definition.seeds.iter().map(move |&seed| RunId {
                    point: p.index,
                    seed,
                })
            })
            .collect()
    }

    /// The runs of `shard` (all of them for `None`), in order.
    pub fn shard_runs(&self, shard: Option<Shard>) -> Vec<RunId> {
        let all = self.runs();
        match shard {
            None => all,
            Some(s) => all
                .into_iter()
                .enumerate()
                .filter(|(k, _)| k % s.count == s.index - 1)
                .map(|(_, r)| r)
                .collect(),
        }
    }
}

/// A value as a table cell and an axis label: strings without quotes, everything
/// else as inline TOML.
pub fn show_value(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn resolve_file(v: &mut toml::Value, dir: &Path) {
    if let toml::Value::String(s) = v {
        let beside: PathBuf = dir.join(&*s);
        if !s.is_empty() && Path::new(s.as_str()).is_relative() && beside.exists() {
            *s = beside.display().to_string();
        }
    }
}

/// Grid tables into axes: a table recurses, a list is an axis, anything else is an
/// error naming the key.
fn flatten_grid(
    t: &toml::Table,
    prefix: &str,
    out: &mut Vec<Axis>,
) -> Result<(), (String, String)> {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(inner) => flatten_grid(inner, &key, out)?,
            toml::Value::Array(values) => out.push(Axis {
                key,
                values: values.clone(),
            }),
            other => {
                return Err((
                    key,
                    format!(
                        "a list of values is needed (e.g. [{}]), got {}",
                        other,
                        other.type_str()
                    ),
                ))
            }
        }
    }
    Ok(())
}

/// Every combination, the last axis fastest.
fn expand(axes: &[Axis]) -> Vec<Point> {
    let total: usize = axes.iter().map(|a| a.values.len()).product();
    (0..total)
        .map(|index| {
            let mut rest = index;
            let mut choice = vec![0; axes.len()];
            for (i, a) in axes.iter().enumerate().rev() {
                choice[i] = rest % a.values.len();
                rest /= a.values.len();
            }
            Point { index, choice }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(text: &str) -> Result<Sweep, SweepError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("base.toml"), "[workload]\npayments = 10\n").unwrap();
        Sweep::parse(text, "s.sweep.toml", dir.path(), &[])
    }

    #[test]
    fn grid_expands_last_axis_fastest_in_key_order() {
        let s = sweep(
            "scenario = \"base.toml\"\nseeds = 2\n[grid]\nworkload.arrivals_per_sec = [25, 100]\n\
             [grid.sender]\nmax_parts = [1, 2, 4]\n",
        )
        .unwrap();
        let keys: Vec<_> = s.definition.axes.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["sender.max_parts", "workload.arrivals_per_sec"]);
        assert_eq!(s.points.len(), 6);
        assert_eq!(s.points[1].choice, vec![0, 1]);
        assert_eq!(
            s.describe(&s.points[5]),
            "sender.max_parts=4, workload.arrivals_per_sec=100"
        );
        let runs = s.runs();
        assert_eq!(runs.len(), 12);
        assert_eq!(runs[3].dir_name(), "p0001-s2");
        let sc = s.scenario(&s.points[5], 2).unwrap();
        assert_eq!(sc.sender.max_parts, 4);
        assert_eq!(sc.workload.arrivals_per_sec, 100.0);
        assert_eq!(sc.workload.payments, 10);
        assert_eq!(sc.seed, 2);
    }

    #[test]
    fn shards_partition_the_runs() {
        let s = sweep("scenario = \"base.toml\"\nseeds = [5, 9]\n[grid]\nsender.max_parts = [1, 2, 3, 4, 5]\n")
            .unwrap();
        let all = s.runs();
        let mut seen = Vec::new();
        for i in 1..=3 {
            seen.extend(s.shard_runs(Some(Shard { index: i, count: 3 })));
        }
        assert_eq!(seen.len(), all.len());
        for r in &all {
            assert_eq!(seen.iter().filter(|x| *x == r).count(), 1);
        }
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert_eq!(
            "3/3".parse::<Shard>().unwrap(),
            Shard { index: 3, count: 3 }
        );
    }

    #[test]
    fn bad_keys_and_values_are_named_before_anything_runs() {
        let e = sweep("scenario = \"base.toml\"\n[grid]\nworkload.payment = [1, 2]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("grid.workload.payment") && e.contains("unknown field"),
            "{e}"
        );
        let e = sweep("scenario = \"base.toml\"\n[grid]\nsender.max_parts = [1, \"two\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("grid.sender.max_parts") && e.contains("\"two\""),
            "{e}"
        );
        let e = sweep(
            "scenario = \"base.toml\"\n[grid]\nsender.arms = [[\"mpp-retry\"], [\"warp-drive\"]]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("grid.sender.arms") && e.contains("warp-drive"),
            "{e}"
        );
        let e = sweep("scenario = \"base.toml\"\n[grid]\nnetwork.hodl_share = 0.5\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("grid.network.hodl_share") && e.contains("list"),
            "{e}"
        );
        let e = sweep("scenario = \"base.toml\"\nseeds = 0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`seeds`"), "{e}");
        let e = sweep("scenario = \"base.toml\"\nseed = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `seed`"), "{e}");
    }
}
