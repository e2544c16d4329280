//! The throughput and oracle table `flotilla sim` prints after the arm table: both
//! throughputs (arrival span, busy time) and each arm against the oracle, the best any
//! sender could have done (`summary.json`'s `feasible_share` and the arms' oracle
//! figures; definitions in docs/results-format.md).

use flotilla_sim::experiment::RunSummary;

use crate::table::{thousands, Table};

/// Prints the table.
pub fn print(s: &RunSummary) -> anyhow::Result<()> {
    let dash = || "–".to_string();
    outln!()?;
    match s.feasible_share {
        Some(f) => outln!(
            "throughput and the oracle: {:.1}% of the payments feasible at their start in some arm's network",
            f * 100.0
        )?,
        None => outln!("throughput (oracle off)")?,
    }
    let mut t = Table::new(1).header([
        "arm",
        "sat/s (arrivals)",
        "sat/s (busy)",
        "feasible",
        "success | feasible",
        "TTC mean ÷ oracle",
        "TTC p99 ÷ oracle",
    ]);
    for a in &s.arms {
        let o = &a.oracle;
        t.row([
            a.name.clone(),
            thousands(a.throughput_sat_per_sec.round() as u64),
            a.throughput_busy_sat_per_sec
                .map_or_else(dash, |x| thousands(x.round() as u64)),
            o.feasible_share
                .map_or_else(dash, |x| format!("{:.1}%", x * 100.0)),
            o.success_rate_feasible
                .map_or_else(dash, |x| format!("{:.1}%", x * 100.0)),
            o.ttc_mean_vs_oracle
                .map_or_else(dash, |x| format!("{x:.2}")),
            o.ttc_p99_vs_oracle.map_or_else(dash, |x| format!("{x:.2}")),
        ]);
    }
    out!("{}", t.render())?;
    Ok(())
}
