//! # flotilla-report
//!
//! Turns a results directory of `flotilla sim` into things people look at:
//! `plots/*.svg` and `plots/*.png` (every arm in one chart) and `report.html`, one
//! self-contained page with the scenario, the graph's statistics, the summary tables,
//! the plots and the command that reproduces the run.
//!
//! - [`load`]: reads and checks the directory (missing, unfinished, failed or
//!   foreign-version runs are refused with a message naming the file).
//! - [`data`]: the numbers behind each plot, with the simulator's definitions.
//! - [`scale`], [`style`], [`chart`]: axes, the colour-blind-safe look, SVG drawing.
//! - [`plots`]: the plots. [`timeline`]: success and fees over simulated time.
//!   [`png`]: SVG → PNG with an embedded font.
//! - [`html`]: the page.
//! - [`sweep`]: a sweep's page: every figure against every swept parameter.

#![warn(missing_docs)]

pub mod chart;
pub mod data;
pub mod error;
pub mod html;
pub mod load;
pub mod pdf;
pub mod plots;
pub mod png;
pub mod scale;
pub mod style;
pub mod sweep;
pub mod timeline;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub use error::ReportError;
pub use load::{Results, Verify};

/// File name of the report inside the results directory.
pub const REPORT_FILE: &str = "report.html";
/// Directory of the plot files inside the results directory.
pub const PLOTS_DIR: &str = "plots";

/// What [`write_report`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// `report.html`.
    pub html: PathBuf,
    /// Its size, bytes.
    pub html_bytes: u64,
    /// Every plot file (SVG and PNG).
    pub plots: Vec<PathBuf>,
    /// Wall time, seconds, from reading the directory to the last file written.
    pub seconds: f64,
    /// What the reader should be told (files that could not be verified).
    pub warnings: Vec<String>,
}

/// Reads the results in `dir` and (re)writes `dir/report.html` and `dir/plots/`;
/// refuses files that differ from their recorded checksums.
pub fn write_report(dir: &Path) -> Result<Written, ReportError> {
    write_report_with(dir, Verify::Refuse)
}

/// [`write_report`], with checksum mismatches refused or only warned about.
pub fn write_report_with(dir: &Path, verify: Verify) -> Result<Written, ReportError> {
    let started = Instant::now();
    let results = Results::load_with(dir, verify)?;
    let loaded = started.elapsed();
    let plots = plots::all(&results);
    let plots_dir = dir.join(PLOTS_DIR);
    fs::create_dir_all(&plots_dir).map_err(|e| ReportError::io(&plots_dir, e))?;
    // PNG rendering is the slowest step: one thread per core.
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let chunk = plots.len().div_ceil(threads.max(1)).max(1);
    let written: Vec<Result<Vec<PathBuf>, ReportError>> = std::thread::scope(|s| {
        let handles: Vec<_> = plots
            .chunks(chunk)
            .map(|group| {
                let plots_dir = &plots_dir;
                s.spawn(move || {
                    let mut files = Vec::new();
                    for p in group {
                        files.extend(write_plot(plots_dir, p)?);
                    }
                    Ok(files)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("plot writer does not panic"))
            .collect()
    });
    let mut plot_files = Vec::new();
    for w in written {
        plot_files.extend(w?);
    }
    let files = list_files(dir)?;
    let page = html::render(&results, &plots, &files);
    let html_path = dir.join(REPORT_FILE);
    let tmp = dir.join(format!(".{REPORT_FILE}.tmp"));
    fs::write(&tmp, &page).map_err(|e| ReportError::io(&tmp, e))?;
    fs::rename(&tmp, &html_path).map_err(|e| ReportError::io(&html_path, e))?;
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        dir = %dir.display(),
        load_ms = loaded.as_secs_f64() * 1e3,
        total_ms = seconds * 1e3,
        html_bytes = page.len(),
        "report written"
    );
    Ok(Written {
        html: html_path,
        html_bytes: page.len() as u64,
        plots: plot_files,
        seconds,
        warnings: results.warnings,
    })
}

/// Directory of the title-less plot variants for papers, inside `plots/`.
pub const PAPER_DIR: &str = "paper";

fn write_plot(plots_dir: &Path, p: &plots::Plot) -> Result<Vec<PathBuf>, ReportError> {
    let svg_path = plots_dir.join(format!("{}.svg", p.id));
    fs::write(&svg_path, &p.svg).map_err(|e| ReportError::io(&svg_path, e))?;
    let paper_dir = plots_dir.join(PAPER_DIR);
    fs::create_dir_all(&paper_dir).map_err(|e| ReportError::io(&paper_dir, e))?;
    let paper_path = paper_dir.join(format!("{}.svg", p.id));
    fs::write(&paper_path, &p.paper_svg).map_err(|e| ReportError::io(&paper_path, e))?;
    let paper_pdf_path = paper_dir.join(format!("{}.pdf", p.id));
    let pdf = pdf::render(&p.paper_svg).map_err(|e| ReportError::invalid(&paper_path, e))?;
    fs::write(&paper_pdf_path, pdf).map_err(|e| ReportError::io(&paper_pdf_path, e))?;
    let png_path = plots_dir.join(format!("{}.png", p.id));
    let png = png::render(&p.svg).map_err(|e| ReportError::invalid(&svg_path, e))?;
    fs::write(&png_path, png).map_err(|e| ReportError::io(&png_path, e))?;
    Ok(vec![svg_path, png_path, paper_path, paper_pdf_path])
}

/// The directory's files (and `plots/`'s), sorted, with sizes; the report itself and
/// hidden files left out.
fn list_files(dir: &Path) -> Result<Vec<(String, u64)>, ReportError> {
    let mut out = Vec::new();
    let paper = dir.join(PLOTS_DIR).join(PAPER_DIR);
    for (sub, prefix) in [
        (dir.to_path_buf(), ""),
        (dir.join(PLOTS_DIR), "plots/"),
        (paper, "plots/paper/"),
    ] {
        let entries = fs::read_dir(&sub).map_err(|e| ReportError::io(&sub, e))?;
        for e in entries {
            let e = e.map_err(|e| ReportError::io(&sub, e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let meta = e.metadata().map_err(|err| ReportError::io(e.path(), err))?;
            if meta.is_file() && !name.starts_with('.') && name != REPORT_FILE {
                out.push((format!("{prefix}{name}"), meta.len()));
            }
        }
    }
    out.sort();
    Ok(out)
}
