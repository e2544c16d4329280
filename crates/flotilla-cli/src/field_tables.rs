//! The extra tables `flotilla sim` prints for a field scenario (zero-fee hub, probing
//! attacker, stuck payments), after the arm table. The numbers are `summary.json`'s.

use flotilla_sim::experiment::RunSummary;

use crate::table::{thousands, Table};

/// Prints the field section of `s`, if it has one.
pub fn print(s: &RunSummary) -> anyhow::Result<()> {
    if let Some(h) = &s.field.hub {
        outln!()?;
        outln!(
            "zero-fee hub: {} ({}…), {} channels, {} sat; announces a median {} ppm + {} msat, routes for {} ppm + {} msat in the +zero-fee-hub runs",
            if h.alias.is_empty() { "(no alias)" } else { &h.alias },
            &h.node[..16.min(h.node.len())],
            thousands(h.channels as u64),
            thousands(h.capacity_sat),
            h.announced_median_fee_rate_ppm,
            h.announced_median_fee_base_msat,
            h.fee_rate_ppm,
            h.fee_base_msat,
        )?;
        let mut t = Table::new(1).header([
            "arm",
            "via hub",
            "share",
            "hub fwd sat",
            "hub fees sat",
            "failed at hub",
            "others ok",
            "others ppm",
            "moved out sat",
            "drained in start→end",
            "drained out start→end",
        ]);
        for a in &h.arms {
            t.row([
                a.arm.clone(),
                thousands(a.payments_via_hub),
                format!("{:.1}%", a.share_via_hub * 100.0),
                thousands(a.hub_forwarded_msat / 1000),
                thousands(a.hub_fees_earned_msat / 1000),
                thousands(a.attempts_failed_on_hub_channel),
                format!("{:.1}%", a.others_success_rate * 100.0),
                format!("{:.0}", a.others_fee_ppm_mean),
                thousands(a.moved_out_msat / 1000),
                format!("{}→{}", a.inbound_drained_start, a.inbound_drained_end),
                format!("{}→{}", a.outbound_drained_start, a.outbound_drained_end),
            ]);
        }
        out!("{}", t.render())?;
    }
    if let Some(p) = &s.field.probing {
        outln!()?;
        let names: Vec<&str> = p
            .attackers
            .iter()
            .map(|(k, a)| if a.is_empty() { &k[..16] } else { a.as_str() })
            .collect();
        outln!(
            "probing attackers ({}): {}; recipients identified: {} with payment_secret enforced, {} with legacy receivers",
            names.len(),
            names.join(", "),
            p.recipients_identified_with_secret,
            p.recipients_identified_legacy
        )?;
        let mut t = Table::new(1).header([
            "arm",
            "success",
            "observed",
            "keysend obs",
            "probes",
            "answered",
            "identified",
            "keysend id",
            "short-circuits",
            "downstream fees lost sat",
            "hold ms",
        ]);
        for a in &p.arms {
            t.row([
                a.arm.clone(),
                format!("{:.1}%", a.success_rate * 100.0),
                thousands(a.payments_observed),
                thousands(a.keysend_observed),
                thousands(a.probes_sent),
                thousands(a.probes_answered),
                thousands(a.recipients_identified),
                thousands(a.keysend_identified),
                thousands(a.short_circuits),
                thousands(a.downstream_fees_lost_msat / 1000),
                format!("{:.0}", a.hold_ms_mean),
            ]);
        }
        out!("{}", t.render())?;
    }
    if let Some(st) = &s.field.stuck {
        outln!()?;
        outln!(
            "stuck payments: hodl_share {}; in time = succeeded within {} s",
            st.hodl_share,
            st.within_secs
        )?;
        let mut t = Table::new(1).header([
            "arm",
            "success",
            "TTC p50/p90/p99 ms",
            "ok in time",
            "known in time",
            "outcome p90/p99 s",
            "stuck pays",
            "stuck parts",
            "stuck sat·s",
            "of all liq",
        ]);
        for a in &st.arms {
            t.row([
                a.arm.clone(),
                format!("{:.1}%", a.success_rate * 100.0),
                format!(
                    "{:.0}/{:.0}/{:.0}",
                    a.ttc_ms_p50, a.ttc_ms_p90, a.ttc_ms_p99
                ),
                format!("{:.1}%", a.share_within * 100.0),
                format!("{:.1}%", a.share_resolved_within * 100.0),
                format!("{:.0}/{:.0}", a.outcome_secs_p90, a.outcome_secs_p99),
                thousands(a.payments_with_stuck_parts),
                thousands(a.stuck_parts),
                thousands(a.stuck_liquidity_sat_seconds as u64),
                format!("{:.1}%", a.stuck_share_of_liquidity * 100.0),
            ]);
        }
        out!("{}", t.render())?;
    }
    Ok(())
}
