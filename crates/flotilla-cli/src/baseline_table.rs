//! The "vs baseline" table `flotilla sim` prints after the arm table: each arm against
//! the baseline arm, payment by payment. The numbers are `summary.json`'s
//! `arms[].vs_baseline`.

use flotilla_sim::experiment::RunSummary;

use crate::table::Table;

/// Prints the table, if any arm has a comparison.
pub fn print(s: &RunSummary) -> anyhow::Result<()> {
    let compared: Vec<_> = s
        .arms
        .iter()
        .filter_map(|a| a.vs_baseline.as_ref().map(|v| (a, v)))
        .collect();
    let Some((_, first)) = compared.first() else {
        return Ok(());
    };
    outln!()?;
    outln!(
        "vs baseline {} (paired over the same payments; 95% intervals: Newcombe for success, bootstrap × {} otherwise)",
        first.baseline, first.bootstrap_replicates
    )?;
    let mut t = Table::new(1).header([
        "arm",
        "Δ success",
        "95% CI",
        "McNemar p",
        "Δ TTC mean ms",
        "95% CI",
        "Δ TTC p99 ms",
        "95% CI",
        "Δ TTO mean ms",
    ]);
    for (a, v) in compared {
        t.row([
            a.name.clone(),
            format!("{:+.1} pp", v.success_diff * 100.0),
            format!(
                "{:+.1}…{:+.1}",
                v.success_diff_ci[0] * 100.0,
                v.success_diff_ci[1] * 100.0
            ),
            p_value(v.mcnemar_p),
            opt(v.ttc_mean_diff_ms),
            ci(v.ttc_mean_diff_ms_ci),
            opt(v.ttc_p99_diff_ms),
            ci(v.ttc_p99_diff_ms_ci),
            opt(v.tto_mean_diff_ms),
        ]);
    }
    out!("{}", t.render())?;
    Ok(())
}

/// A p-value with enough digits to tell 0.04 from 0.06 and 1e-9 from 1e-3.
fn p_value(p: f64) -> String {
    if p >= 0.001 {
        format!("{p:.3}")
    } else if p > 0.0 {
        format!("{p:.0e}")
    } else {
        "<1e-300".into()
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |x| format!("{x:+.0}"))
}

fn ci(x: Option<[f64; 2]>) -> String {
    x.map_or_else(|| "–".into(), |[lo, hi]| format!("{lo:+.0}…{hi:+.0}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_read_well() {
        assert_eq!(p_value(0.0412), "0.041");
        assert_eq!(p_value(1.0), "1.000");
        assert_eq!(p_value(3.2e-9), "3e-9");
        assert_eq!(p_value(0.0), "<1e-300");
    }
}
