//! `flotilla merge`: shards of a sweep gathered into one sweep directory.

use std::time::Instant;

use anyhow::Result;
use flotilla_sim::sweep::merge::merge;

use crate::cli::MergeArgs;
use crate::table::thousands;

/// Runs `flotilla merge`.
pub fn run(args: MergeArgs) -> Result<()> {
    let started = Instant::now();
    let (sweep, table, report) = merge(&args.dirs, &args.out)?;
    super::sweep::finish(&args.out, &sweep, &table, args.no_report, args.quiet)?;
    if !args.quiet {
        eprintln!(
            "merged {} runs from {} directories into {} in {:.2} s ({} files linked, {} copied)",
            thousands(report.runs as u64),
            args.dirs.len(),
            args.out.display(),
            started.elapsed().as_secs_f64(),
            thousands(report.linked as u64),
            thousands(report.copied as u64)
        );
    }
    Ok(())
}
