//! `sweep.csv` and `aggregates.csv` from the runs' `summary.json`.
//!
//! Summaries are read as generic JSON, so a figure added to `summary.json` becomes a
//! column without a change here. An arm's figures are its numeric fields, nested
//! objects flattened with dots (`failures.no_route`), numeric lists by position
//! (`success_ci95.0`, `success_ci95.1`); figures of the whole run (outside `arms`) are
//! prefixed `run.` (`run.offline_nodes`). Left out: strings, the scenario (its swept
//! keys are the parameter columns), and wall-clock figures (`wall_seconds`,
//! `payments_per_second`, anything with `wall` in its name), which differ from run to
//! run and would make sweeps of the same definition differ. Columns appear in the
//! order their figures are first met, runs in the sweep's order, arms in each run's.

use std::collections::HashMap;
use std::path::Path;

use super::spec::{RunId, Sweep};
use super::stats::mean_ci95;
use super::{write_atomic, SweepError, AGGREGATES_CSV, RUNS_DIR, SWEEP_CSV};

/// One arm of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The point's index.
    pub point: usize,
    /// The seed.
    pub seed: u64,
    /// The arm's name.
    pub arm: String,
    /// One value per figure (`None`: absent or null in this run).
    pub values: Vec<Option<f64>>,
}

/// Every run's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepTable {
    /// Figure names, the columns after the parameters.
    pub figures: Vec<String>,
    /// Rows, point-major, seeds in order, arms in each run's order.
    pub rows: Vec<Row>,
}

/// Mean and t-interval of one figure of one arm at one point, across seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// The point's index.
    pub point: usize,
    /// The arm.
    pub arm: String,
    /// Index into [`SweepTable::figures`].
    pub figure: usize,
    /// Seeds that have the figure.
    pub n: usize,
    /// Mean over them.
    pub mean: f64,
    /// Sample standard deviation (two seeds or more).
    pub sd: Option<f64>,
    /// 95% t-interval of the mean (two seeds or more).
    pub ci95: Option<[f64; 2]>,
}

/// Whether a key is a wall-clock figure (not the same from run to run).
pub fn is_wall_clock(key: &str) -> bool {
    key.split('.').any(|k| {
        k == "wall_seconds"
            || k == "payments_per_second"
            || k.starts_with("wall")
            || k.contains("_wall")
    })
}

fn flatten(v: &serde_json::Value, key: &str, out: &mut Vec<(String, Option<f64>)>) {
    if is_wall_clock(key) {
        return;
    }
    let join = |k: &str| {
        if key.is_empty() {
            k.to_string()
        } else {
            format!("{key}.{k}")
        }
    };
    match v {
        serde_json::Value::Number(n) => out.push((key.to_string(), n.as_f64())),
        serde_json::Value::Null => out.push((key.to_string(), None)),
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                flatten(v, &join(k), out);
            }
        }
        serde_json::Value::Array(items) if items.iter().all(|i| i.is_number()) => {
            for (i, item) in items.iter().enumerate() {
                flatten(item, &join(&i.to_string()), out);
            }
        }
        _ => {}
    }
}

/// The figures of one `summary.json`: the whole run's, then each arm's (name, figures).
#[allow(clippy::type_complexity)]
fn figures_of(
    summary: &serde_json::Value,
) -> (
    Vec<(String, Option<f64>)>,
    Vec<(String, Vec<(String, Option<f64>)>)>,
) {
    let mut run = Vec::new();
    let mut arms = Vec::new();
    if let Some(m) = summary.as_object() {
        for (k, v) in m {
            match k.as_str() {
                "arms" | "scenario_config" => {}
                _ => flatten(v, &format!("run.{k}"), &mut run),
            }
        }
    }
    for a in summary
        .get("arms")
        .and_then(|a| a.as_array())
        .into_iter()
        .flatten()
    {
        let name = a
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or("")
            .to_string();
        let mut figs = Vec::new();
        flatten(a, "", &mut figs);
        arms.push((name, figs));
    }
    (run, arms)
}

impl SweepTable {
    /// Reads `dir/runs/<run>/summary.json` for every run in `runs`, in that order.
    pub fn read(dir: &Path, runs: &[RunId]) -> Result<SweepTable, SweepError> {
        let mut figures: Vec<String> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut rows = Vec::new();
        for r in runs {
            let path = dir.join(RUNS_DIR).join(r.dir_name()).join("summary.json");
            let bytes = std::fs::read(&path).map_err(|e| SweepError::io(&path, e))?;
            let summary: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|e| SweepError::Dir {
                    path: path.clone(),
                    why: format!("not JSON: {e}"),
                })?;
            let (run_figs, arms) = figures_of(&summary);
            for (arm, figs) in arms {
                let mut values = Vec::new();
                for (k, v) in run_figs.iter().chain(&figs) {
                    let i = *index.entry(k.clone()).or_insert_with(|| {
                        figures.push(k.clone());
                        figures.len() - 1
                    });
                    if values.len() <= i {
                        values.resize(i + 1, None);
                    }
                    values[i] = *v;
                }
                rows.push(Row {
                    point: r.point,
                    seed: r.seed,
                    arm,
                    values,
                });
            }
        }
        // Figures first met in a later run are absent from earlier rows.
        for row in &mut rows {
            row.values.resize(figures.len(), None);
        }
        // Arm figures first, in the order met, then the whole run's: a reader looks
        // for success_rate, not run.graph_nodes.
        let order: Vec<usize> = (0..figures.len())
            .filter(|&i| !figures[i].starts_with("run."))
            .chain((0..figures.len()).filter(|&i| figures[i].starts_with("run.")))
            .collect();
        let figures = order.iter().map(|&i| figures[i].clone()).collect();
        for row in &mut rows {
            row.values = order.iter().map(|&i| row.values[i]).collect();
        }
        Ok(SweepTable { figures, rows })
    }

    /// Means and t-intervals per point × arm × figure: points in order, arms in the
    /// order first met at the point, figures in column order; figures no seed has are
    /// left out.
    pub fn aggregates(&self) -> Vec<Aggregate> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < self.rows.len() {
            let point = self.rows[start].point;
            let end = start
                + self.rows[start..]
                    .iter()
                    .take_while(|r| r.point == point)
                    .count();
            let rows = &self.rows[start..end];
            let mut arms: Vec<&str> = Vec::new();
            for r in rows {
                if !arms.contains(&r.arm.as_str()) {
                    arms.push(&r.arm);
                }
            }
            for arm in arms {
                for f in 0..self.figures.len() {
                    let values: Vec<f64> = rows
                        .iter()
                        .filter(|r| r.arm == arm)
                        .filter_map(|r| r.values[f])
                        .collect();
                    if let Some(m) = mean_ci95(&values) {
                        out.push(Aggregate {
                            point,
                            arm: arm.to_string(),
                            figure: f,
                            n: m.n,
                            mean: m.mean,
                            sd: m.sd,
                            ci95: m.ci95,
                        });
                    }
                }
            }
            start = end;
        }
        out
    }
}

fn num(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn csv_bytes(rows: Vec<Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(&r).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// Writes `dir/sweep.csv` and `dir/aggregates.csv`.
pub fn write_tables(
    dir: &Path,
    sweep: &Sweep,
    table: &SweepTable,
    aggregates: &[Aggregate],
) -> Result<(), SweepError> {
    let axes: Vec<String> = sweep
        .definition
        .axes
        .iter()
        .map(|a| a.key.clone())
        .collect();
    let params: Vec<Vec<String>> = sweep
        .points
        .iter()
        .map(|p| sweep.params(p).into_iter().map(|(_, v)| v).collect())
        .collect();

    let mut rows = vec![["point", "seed", "arm"]
        .iter()
        .map(|s| s.to_string())
        .chain(axes.iter().cloned())
        .chain(table.figures.iter().cloned())
        .collect::<Vec<_>>()];
    for r in &table.rows {
        rows.push(
            [r.point.to_string(), r.seed.to_string(), r.arm.clone()]
                .into_iter()
                .chain(params[r.point].iter().cloned())
                .chain(r.values.iter().map(|v| num(*v)))
                .collect(),
        );
    }
    write_atomic(&dir.join(SWEEP_CSV), &csv_bytes(rows))?;

    let mut rows = vec![["point", "arm"]
        .iter()
        .map(|s| s.to_string())
        .chain(axes.iter().cloned())
        .chain(
            ["figure", "n", "mean", "sd", "ci95_lo", "ci95_hi"]
                .iter()
                .map(|s| s.to_string()),
        )
        .collect::<Vec<_>>()];
    for a in aggregates {
        rows.push(
            [a.point.to_string(), a.arm.clone()]
                .into_iter()
                .chain(params[a.point].iter().cloned())
                .chain([
                    table.figures[a.figure].clone(),
                    a.n.to_string(),
                    a.mean.to_string(),
                    num(a.sd),
                    num(a.ci95.map(|c| c[0])),
                    num(a.ci95.map(|c| c[1])),
                ])
                .collect(),
        );
    }
    write_atomic(&dir.join(AGGREGATES_CSV), &csv_bytes(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_every_number_but_wall_clock() {
        let s = serde_json::json!({
            "scenario": "x", "seed": 1, "payments": 10, "wall_seconds": 1.5,
            "payments_per_second": 7.0,
            "scenario_config": {"seed": 1},
            "hub": {"share": 0.5, "rows": [{"a": 1}]},
            "arms": [
                {"name": "a", "success_rate": 0.5, "success_ci95": [0.4, 0.6],
                 "failures": {"no_route": 3}, "liquidity_ratio_to_mpp": null,
                 "arm_wall_ms": 3.0, "vs_baseline": {"diff": -0.1}},
            ]
        });
        let (run, arms) = figures_of(&s);
        let run: Vec<_> = run.into_iter().map(|(k, _)| k).collect();
        assert_eq!(run, ["run.hub.share", "run.payments", "run.seed"]);
        let keys: Vec<_> = arms[0].1.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "failures.no_route",
                "liquidity_ratio_to_mpp",
                "success_ci95.0",
                "success_ci95.1",
                "success_rate",
                "vs_baseline.diff"
            ]
        );
        assert!(is_wall_clock("wall_seconds") && is_wall_clock("x.arm_wall_ms"));
        assert!(!is_wall_clock("success_rate"));
    }
}
