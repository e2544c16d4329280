//! Reading a results directory: the manifest, the files' checksums, the summary, the
//! scenario and the per-payment rows, checked in that order so the first problem found
//! is the one reported.
//!
//! Every file is checked against the SHA-256 that `run.json` recorded when the run
//! finished: a row edited or a file truncated afterwards is refused (or, with
//! [`Verify::Warn`], reported as a warning). Values are checked for range as they are
//! read (rates within 0–100%, counts that agree between `summary.json` and
//! `payments.csv`), so what a checksum cannot catch (no checksums recorded, or
//! `--no-verify`) still cannot produce a report of impossible numbers.
//!
//! `summary.json` is kept as generic JSON: arms may gain fields (new strategies report
//! new numbers) and the report shows whatever is there. `payments.csv` is read by
//! column name, so added columns are ignored and a missing one is named.

use std::fs;
use std::path::{Path, PathBuf};

use flotilla_sim::manifest::{
    sha256_file, RunManifest, MANIFEST_FILE, OLDEST_READABLE_VERSION, RESULTS_FORMAT,
    RESULTS_FORMAT_VERSION, SCENARIO_FILE,
};
use flotilla_sim::output::INCOMPLETE_MARKER;
use serde_json::Value;

use crate::error::ReportError;

/// One payment under one arm: the columns of `payments.csv` the plots use.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    /// Amount, msat.
    pub amount_msat: u64,
    /// Whether it fully settled.
    pub succeeded: bool,
    /// Fees paid, msat (settled parts only).
    pub fee_msat: u64,
    /// Paths tried.
    pub attempts: u32,
    /// Time to complete, ms (successful payments).
    pub ttc_ms: Option<f64>,
    /// Time to outcome, ms, settled or failed (`None` in runs written before the
    /// column existed).
    pub tto_ms: Option<f64>,
    /// Why it failed (empty for successes).
    pub failure_reason: String,
    /// Σ amount (sat) × hold time (s) over the payment's HTLCs.
    pub liquidity_sat_seconds: f64,
    /// When the sender started it, simulated seconds (`dispatch_time`; `None` in
    /// runs written without the column).
    pub dispatch_secs: Option<f64>,
}

/// What to do when a file differs from the checksum `run.json` recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verify {
    /// Refuse the directory (the default).
    #[default]
    Refuse,
    /// Read it anyway and say so in [`Results::warnings`].
    Warn,
}

/// A results directory, read.
#[derive(Debug, Clone)]
pub struct Results {
    /// The directory.
    pub dir: PathBuf,
    /// `run.json`.
    pub manifest: RunManifest,
    /// `summary.json`, as written.
    pub summary: Value,
    /// `scenario.toml`, as written.
    pub scenario_toml: String,
    /// `scenario.toml` parsed: the effective scenario, the graph file resolved.
    pub scenario: Value,
    /// Arm names in the scenario's order.
    pub arms: Vec<String>,
    /// Payments per arm, same order as `arms`.
    pub payments: Vec<Vec<Payment>>,
    /// What the reader should be told (files that could not be verified), one line
    /// each.
    pub warnings: Vec<String>,
    /// The attempts file, if the run wrote one (`--attempts gz` or `full`).
    pub attempts: Option<AttemptsFile>,
}

/// The attempts file of a run, read through and checked against `payments.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptsFile {
    /// `attempts.jsonl.gz` or `attempts.jsonl`.
    pub path: PathBuf,
    /// Rows (paths tried) per arm, same order as `arms`.
    pub rows: Vec<u64>,
    /// Of those, the rows whose part settled.
    pub settled: Vec<u64>,
}

/// The fields of an attempts line the reader checks.
#[derive(serde::Deserialize)]
struct AttemptLine {
    arm: String,
    outcome: String,
}

const NOT_A_RUN: &str = "a results directory written by `flotilla sim` has it \
                         (an older flotilla did not write it: rerun the simulation)";

fn read(path: &Path) -> Result<Vec<u8>, ReportError> {
    match fs::read(path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ReportError::Missing {
            path: path.to_path_buf(),
            hint: NOT_A_RUN,
        }),
        Err(e) => Err(ReportError::io(path, e)),
    }
}

fn json(path: &Path) -> Result<Value, ReportError> {
    let bytes = read(path)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ReportError::invalid(path, format!("not valid JSON: {e}")))
}

impl Results {
    /// Reads `dir`; refuses a missing, unfinished or failed run, a results format
    /// this version does not know, a file that differs from its recorded checksum and
    /// values out of range.
    pub fn load(dir: &Path) -> Result<Results, ReportError> {
        Self::load_with(dir, Verify::Refuse)
    }

    /// [`Results::load`], with checksum mismatches refused or only warned about.
    pub fn load_with(dir: &Path, verify: Verify) -> Result<Results, ReportError> {
        match fs::metadata(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ReportError::NoDir(dir.to_path_buf()))
            }
            Err(e) => return Err(ReportError::io(dir, e)),
            Ok(m) if !m.is_dir() => return Err(ReportError::NotDir(dir.to_path_buf())),
            Ok(_) => {}
        }
        let marker = dir.join(INCOMPLETE_MARKER);
        if marker.exists() {
            let text = fs::read_to_string(&marker).unwrap_or_default();
            let why = text.split_whitespace().collect::<Vec<_>>().join(" ");
            return Err(ReportError::Incomplete {
                dir: dir.to_path_buf(),
                why: if why.is_empty() {
                    "the run did not finish".into()
                } else {
                    why
                },
            });
        }
        let manifest = load_manifest(&dir.join(MANIFEST_FILE))?;
        let warnings = verify_files(dir, &manifest, verify)?;
        let summary_path = dir.join("summary.json");
        let summary = json(&summary_path)?;
        let arms = arm_names(&summary)
            .ok_or_else(|| ReportError::invalid(&summary_path, "no `arms` list of named arms"))?;
        check_summary(&summary_path, &summary)?;
        let scenario_path = dir.join(SCENARIO_FILE);
        let scenario_toml = String::from_utf8(read(&scenario_path)?)
            .map_err(|_| ReportError::invalid(&scenario_path, "not UTF-8 text"))?;
        let scenario = toml::from_str::<toml::Value>(&scenario_toml)
            .map_err(|e| {
                let first = e.to_string();
                let first = first.lines().next().unwrap_or("").to_string();
                ReportError::invalid(&scenario_path, format!("not valid TOML: {first}"))
            })
            .and_then(|t| {
                serde_json::to_value(t)
                    .map_err(|e| ReportError::invalid(&scenario_path, e.to_string()))
            })?;
        let payments_path = dir.join("payments.csv");
        let payments = load_payments(&payments_path, &arms)?;
        check_rows_match_summary(&payments_path, &summary, &arms, &payments)?;
        let attempts = load_attempts(dir, &summary_path, &summary, &arms, &payments)?;
        Ok(Results {
            dir: dir.to_path_buf(),
            manifest,
            summary,
            scenario_toml,
            scenario,
            arms,
            payments,
            warnings,
            attempts,
        })
    }

    /// The arm the others are compared with (`vs_baseline.baseline` in
    /// `summary.json`), else the first arm.
    pub fn baseline_index(&self) -> usize {
        self.arm_summaries()
            .iter()
            .find_map(|a| a.get("vs_baseline")?.get("baseline")?.as_str())
            .and_then(|b| self.arms.iter().position(|a| a == b))
            .unwrap_or(0)
    }

    /// The arms' objects of `summary.json`, in order.
    pub fn arm_summaries(&self) -> Vec<&serde_json::Map<String, Value>> {
        self.summary["arms"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_object).collect())
            .unwrap_or_default()
    }
}

fn load_manifest(path: &Path) -> Result<RunManifest, ReportError> {
    let v = json(path)?;
    let format = v["format"].as_str().unwrap_or("").to_string();
    let version = v["format_version"].as_u64();
    let known = OLDEST_READABLE_VERSION as u64..=RESULTS_FORMAT_VERSION as u64;
    if format != RESULTS_FORMAT || !version.is_some_and(|v| known.contains(&v)) {
        if format.is_empty() && version.is_none() {
            return Err(ReportError::invalid(
                path,
                "no `format` and `format_version`: not a flotilla results manifest",
            ));
        }
        return Err(ReportError::Version {
            path: path.to_path_buf(),
            format,
            version: version.unwrap_or(0),
        });
    }
    serde_json::from_value(v).map_err(|e| ReportError::invalid(path, e.to_string()))
}

/// Checks every file `run.json` lists against its recorded SHA-256.
fn verify_files(
    dir: &Path,
    manifest: &RunManifest,
    verify: Verify,
) -> Result<Vec<String>, ReportError> {
    let run_json = dir.join(MANIFEST_FILE);
    let Some(files) = &manifest.files else {
        return Ok(vec![format!(
            "{}: no checksums recorded (written by an older flotilla): the files cannot \
             be verified",
            run_json.display()
        )]);
    };
    let mut warnings = Vec::new();
    for (name, recorded) in files {
        let path = dir.join(name);
        let problem = match sha256_file(&path) {
            Ok(actual) if &actual == recorded => continue,
            Ok(_) => "differs from the SHA-256 that run.json recorded when the run finished \
                      (edited, truncated or replaced since)"
                .to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                "missing, though run.json lists it".to_string()
            }
            Err(e) => return Err(ReportError::io(&path, e)),
        };
        match verify {
            Verify::Refuse => {
                return Err(ReportError::Tampered {
                    path,
                    what: problem,
                })
            }
            Verify::Warn => warnings.push(format!("{}: {problem}", path.display())),
        }
    }
    Ok(warnings)
}

/// Fields of an arm in `summary.json` that are shares (0 to 1).
const SHARES: &[&str] = &["success_rate"];
/// Fields of an arm that are counts, means or sums of non-negative quantities.
const NON_NEGATIVE: &[&str] = &[
    "payments",
    "succeeded",
    "attempts_mean",
    "ttc_ms_mean",
    "ttc_ms_p50",
    "ttc_ms_p90",
    "ttc_ms_p99",
    "fee_ppm_mean",
    "fees_msat",
    "liquidity_seconds_mean",
    "parts_sent",
    "parts_settled",
    "succeeded_msat",
];

/// Range checks on `summary.json`: shares within 0–1, counts not negative, successes
/// at most the payments and agreeing with the success rate.
fn check_summary(path: &Path, summary: &Value) -> Result<(), ReportError> {
    let arms = summary["arms"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    for (i, arm) in arms.iter().enumerate() {
        let name = arm["name"].as_str().unwrap_or("?");
        let bad = |field: &str, what: String| {
            ReportError::invalid(path, format!("arms[{i}] ({name}), `{field}`: {what}"))
        };
        let number = |field: &str| -> Result<Option<f64>, ReportError> {
            match &arm[field] {
                Value::Null => Ok(None),
                v => v
                    .as_f64()
                    .filter(|x| x.is_finite())
                    .map(Some)
                    .ok_or_else(|| bad(field, format!("`{v}` is not a number"))),
            }
        };
        for f in SHARES {
            if let Some(x) = number(f)? {
                if !(0.0..=1.0).contains(&x) {
                    return Err(bad(f, format!("{x} is outside 0–1 (0–100%)")));
                }
            }
        }
        for f in NON_NEGATIVE {
            if let Some(x) = number(f)? {
                if x < 0.0 {
                    return Err(bad(f, format!("{x} is negative")));
                }
            }
        }
        if let Some(ci) = arm["success_ci95"].as_array() {
            let lo = ci.first().and_then(Value::as_f64).unwrap_or(f64::NAN);
            let hi = ci.get(1).and_then(Value::as_f64).unwrap_or(f64::NAN);
            if ci.len() != 2 || !(0.0 <= lo && lo <= hi && hi <= 1.0) {
                return Err(bad(
                    "success_ci95",
                    "not an interval [low, high] within 0–1".to_string(),
                ));
            }
        }
        if let (Some(n), Some(ok)) = (number("payments")?, number("succeeded")?) {
            if ok > n {
                return Err(bad("succeeded", format!("{ok} exceeds the {n} payments")));
            }
            if let Some(rate) = number("success_rate")? {
                let expected = if n > 0.0 { ok / n } else { 0.0 };
                if (rate - expected).abs() > 1e-9 {
                    return Err(bad(
                        "success_rate",
                        format!("{rate} is not succeeded ÷ payments ({ok} ÷ {n})"),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// `payments.csv` has, per arm, as many rows and successes as `summary.json` says:
/// a truncated file or an edited outcome shows here even without checksums.
fn check_rows_match_summary(
    path: &Path,
    summary: &Value,
    arms: &[String],
    payments: &[Vec<Payment>],
) -> Result<(), ReportError> {
    for (i, (name, rows)) in arms.iter().zip(payments).enumerate() {
        let arm = &summary["arms"][i];
        if let Some(n) = arm["payments"].as_u64() {
            if rows.len() as u64 != n {
                return Err(ReportError::invalid(
                    path,
                    format!(
                        "{} rows for arm `{name}`, but summary.json counts {n} payments \
                         (truncated or edited?)",
                        rows.len()
                    ),
                ));
            }
        }
        if let Some(ok) = arm["succeeded"].as_u64() {
            let rows_ok = rows.iter().filter(|p| p.succeeded).count() as u64;
            if rows_ok != ok {
                return Err(ReportError::invalid(
                    path,
                    format!(
                        "{rows_ok} successful rows for arm `{name}`, but summary.json counts \
                         {ok} (edited?)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn arm_names(summary: &Value) -> Option<Vec<String>> {
    summary["arms"]
        .as_array()?
        .iter()
        .map(|a| a["name"].as_str().map(str::to_string))
        .collect()
}

/// Column positions in `payments.csv`.
struct Columns {
    amount: usize,
    outcome: usize,
    arm: usize,
    fee: usize,
    attempts: usize,
    ttc: usize,
    reason: usize,
    liquidity: usize,
    /// Added after the first results format: absent in older runs.
    tto: Option<usize>,
    /// Optional too: the report draws its time plots only from runs that have it.
    dispatch: Option<usize>,
}

fn columns(path: &Path, header: &csv::StringRecord) -> Result<Columns, ReportError> {
    let find = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            ReportError::invalid(
                path,
                format!("no `{name}` column in the header (written by another version?)"),
            )
        })
    };
    Ok(Columns {
        amount: find("amount_msat")?,
        outcome: find("payment_outcome")?,
        arm: find("arm")?,
        fee: find("fee_msat")?,
        attempts: find("attempts")?,
        ttc: find("ttc_ms")?,
        reason: find("failure_reason")?,
        liquidity: find("liquidity_sat_seconds")?,
        tto: header.iter().position(|h| h == "tto_ms"),
        dispatch: header.iter().position(|h| h == "dispatch_time"),
    })
}

fn load_payments(path: &Path, arms: &[String]) -> Result<Vec<Vec<Payment>>, ReportError> {
    let bytes = read(path)?;
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
    let header = reader
        .headers()
        .map_err(|e| ReportError::invalid(path, format!("unreadable header: {e}")))?
        .clone();
    let c = columns(path, &header)?;
    let mut out: Vec<Vec<Payment>> = vec![Vec::new(); arms.len()];
    let mut record = csv::StringRecord::new();
    let mut last_arm = 0;
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            ReportError::invalid(path, format!("line {line}: {e}"))
        })?;
        if !more {
            break;
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let bad = |col: &str, what: &str| {
            ReportError::invalid(path, format!("line {line}, column `{col}`: {what}"))
        };
        let arm = &record[c.arm];
        // Rows come grouped by arm: look at the last arm first.
        let idx = if arms.get(last_arm).is_some_and(|a| a == arm) {
            last_arm
        } else {
            arms.iter()
                .position(|a| a == arm)
                .ok_or_else(|| bad("arm", &format!("`{arm}` is not an arm of summary.json")))?
        };
        last_arm = idx;
        let num = |col: usize, name: &str| -> Result<f64, ReportError> {
            record[col]
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| bad(name, &format!("`{}` is not a number", &record[col])))
        };
        let succeeded = match &record[c.outcome] {
            "Success" => true,
            "Failure" => false,
            other => {
                return Err(bad(
                    "payment_outcome",
                    &format!("`{other}` is neither Success nor Failure"),
                ))
            }
        };
        let int = |col: usize, name: &str| -> Result<u64, ReportError> {
            record[col].parse::<u64>().map_err(|_| {
                bad(
                    name,
                    &format!("`{}` is not a whole non-negative number", &record[col]),
                )
            })
        };
        let ttc_ms = if record[c.ttc].is_empty() {
            None
        } else {
            Some(num(c.ttc, "ttc_ms")?)
        };
        if succeeded == ttc_ms.is_none() {
            return Err(bad(
                "ttc_ms",
                "a successful payment has a time to complete and a failed one none",
            ));
        }
        let attempts = int(c.attempts, "attempts")?;
        out[idx].push(Payment {
            amount_msat: int(c.amount, "amount_msat")?,
            succeeded,
            fee_msat: int(c.fee, "fee_msat")?,
            attempts: u32::try_from(attempts)
                .map_err(|_| bad("attempts", &format!("{attempts} is out of range")))?,
            ttc_ms,
            tto_ms: match c.tto {
                Some(col) => Some(num(col, "tto_ms")?),
                None => None,
            },
            failure_reason: record[c.reason].to_string(),
            liquidity_sat_seconds: num(c.liquidity, "liquidity_sat_seconds")?,
            dispatch_secs: match c.dispatch {
                Some(col) => Some(num(col, "dispatch_time")?),
                None => None,
            },
        });
    }
    Ok(out)
}

/// Reads the attempts file, whichever form the run wrote, and checks it: the file
/// `summary.json` names must be there, every line must name an arm, and each arm must
/// have one row per path its payments tried (the `attempts` column of `payments.csv`).
fn load_attempts(
    dir: &Path,
    summary_path: &Path,
    summary: &Value,
    arms: &[String],
    payments: &[Vec<Payment>],
) -> Result<Option<AttemptsFile>, ReportError> {
    let named = summary.get("attempts_file");
    let opened =
        flotilla_sim::output::open_attempts(dir).map_err(|e| ReportError::io(&e.path, e.source))?;
    let Some((path, reader)) = opened else {
        return match named.and_then(Value::as_str) {
            Some(file) => Err(ReportError::Missing {
                path: dir.join(file),
                hint: "summary.json says the run wrote it",
            }),
            None => Ok(None),
        };
    };
    if let Some(file) = named.and_then(Value::as_str) {
        if !path.ends_with(file) {
            return Err(ReportError::invalid(
                summary_path,
                format!(
                    "`attempts_file` is {file}, but the directory has {}",
                    path.display()
                ),
            ));
        }
    }
    let mut rows = vec![0u64; arms.len()];
    let mut settled = vec![0u64; arms.len()];
    let mut last = 0;
    for (n, line) in std::io::BufRead::lines(reader).enumerate() {
        let line = line.map_err(|e| ReportError::invalid(&path, format!("line {}: {e}", n + 1)))?;
        let a: AttemptLine = serde_json::from_str(&line)
            .map_err(|e| ReportError::invalid(&path, format!("line {}: {e}", n + 1)))?;
        let idx = if arms.get(last).is_some_and(|x| *x == a.arm) {
            last
        } else {
            arms.iter().position(|x| *x == a.arm).ok_or_else(|| {
                ReportError::invalid(
                    &path,
                    format!("line {}: `{}` is not an arm of summary.json", n + 1, a.arm),
                )
            })?
        };
        last = idx;
        rows[idx] += 1;
        settled[idx] += (a.outcome == "settled") as u64;
    }
    for (i, arm) in arms.iter().enumerate() {
        let tried: u64 = payments[i].iter().map(|p| p.attempts as u64).sum();
        if tried != rows[i] {
            return Err(ReportError::invalid(
                &path,
                format!(
                    "arm `{arm}` has {} rows, but its payments tried {tried} paths (payments.csv)",
                    rows[i]
                ),
            ));
        }
    }
    Ok(Some(AttemptsFile {
        path,
        rows,
        settled,
    }))
}
