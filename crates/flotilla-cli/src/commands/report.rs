//! `flotilla report`: rebuild report.html and plots/ from a results directory.

use std::path::Path;

use anyhow::Result;
use flotilla_report::{write_report, Written};

use crate::cli::ReportArgs;
use crate::table::thousands;

/// Runs `flotilla report`.
pub fn run(args: ReportArgs) -> Result<()> {
    let w = write_report(&args.dir)?;
    print_written(&w, &args.dir);
    Ok(())
}

/// One line saying where the report is, its size, and how long it took.
pub fn print_written(w: &Written, dir: &Path) {
    println!(
        "report {} ({} KB), {} plot files in {} ({:.0} ms)",
        w.html.display(),
        thousands(w.html_bytes.div_ceil(1024)),
        w.plots.len(),
        dir.join(flotilla_report::PLOTS_DIR).display(),
        w.seconds * 1e3
    );
}
