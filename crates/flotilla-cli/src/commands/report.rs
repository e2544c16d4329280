//! `flotilla report`: rebuild report.html and plots/ from a results directory.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use flotilla_report::{write_report_with, Verify, Written};

use crate::cli::ReportArgs;
use crate::table::thousands;

/// Runs `flotilla report`.
pub fn run(args: ReportArgs) -> Result<()> {
    let verify = if args.no_verify {
        Verify::Warn
    } else {
        Verify::Refuse
    };
    let w = write_report_with(&args.dir, verify)?;
    for warning in &w.warnings {
        // Best effort: stderr may be closed; the report is written either way.
        let _ = writeln!(std::io::stderr(), "warning: {warning}");
    }
    print_written(&w, &args.dir)?;
    Ok(())
}

/// One line saying where the report is, its size, and how long it took.
pub fn print_written(w: &Written, dir: &Path) -> Result<()> {
    outln!(
        "report {} ({} KB), {} plot files in {} ({:.0} ms)",
        w.html.display(),
        thousands(w.html_bytes.div_ceil(1024)),
        w.plots.len(),
        dir.join(flotilla_report::PLOTS_DIR).display(),
        w.seconds * 1e3
    )?;
    Ok(())
}
