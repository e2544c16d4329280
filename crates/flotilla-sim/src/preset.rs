//! Named presets: a model another simulator uses, as a base for a scenario.
//!
//! `preset = "cloth"` at the top of a scenario (or `--set preset=cloth`) starts the
//! scenario from the preset's values; every key the scenario itself gives wins. The
//! merge is by key, table into table, except that a table naming its variant
//! (`model = …` for a latency, `distribution = …` for amounts) and every array replace
//! the preset's whole value, as in a TOML file. The expanded scenario keeps the
//! `preset` key, so the results' `scenario.toml` says where its values came from and
//! runs the same experiment again.

use crate::scenario::ScenarioError;

/// CLoTH's model (Conoscenti et al., SoftwareX 2021; `src/htlc.c` and `src/routing.c`
/// of its repository), as far as flotilla's model can express it. What it sets, and
/// why:
///
/// - no channel reserve and no HTLC-count limit worth the name: CLoTH checks a hop's
///   balance and nothing else;
/// - every message takes 100 ms per hop (CLoTH: 100 ms plus a standard normal draw,
///   truncated to whole milliseconds) in both directions;
/// - a payment is given up 60 s after it started, however many paths it tried (CLoTH
///   retries until then; `max_attempts` is at its limit so that only the time binds);
/// - no fee limit (CLoTH's path finder has none): the whole amount;
/// - one path at a time, retried on failure, with lnd's a-priori probability model as
///   CLoTH copies it from lnd 0.10 (`single-path-retry-apriori`: hop probability 0.6,
///   a failed hop near 0 until it decays, routes below 1% not tried);
/// - the receiver's final CLTV delta is CLoTH's `FINALTIMELOCK`, 40 blocks.
///
/// It does not set the graph or the workload: `scenarios/cloth-compat.toml` adds
/// CLoTH's snapshot (its balances, `graph.liquidity = "file"`) and payments file.
pub const CLOTH: &str = r#"
name = "cloth"

[network]
offline_share = 0.0
hodl_share = 0.0

[network.channel]
channel_reserve_ppm = 0
max_accepted_htlcs = 483

[network.latency]
model = "constant"
ms = 100

[sender]
arms = ["single-path-retry-apriori"]
timeout_secs = 60
max_attempts = 100000
fee_limit_ppm = 1000000
fee_limit_base_sat = 0
final_cltv_delta = 40
min_route_probability = 0.01

[receiver]
mpp_timeout_secs = 60
"#;

/// Every preset: name and TOML.
pub const PRESETS: &[(&str, &str)] = &[("cloth", CLOTH)];

/// The preset called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static str> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// If `doc` names a preset (`preset = "NAME"`, not empty), replaces it with the
/// preset's values overlaid by its own. `file` names the document in errors.
pub fn expand(doc: &mut toml::Table, file: &str) -> Result<(), ScenarioError> {
    let name = match doc.get("preset") {
        None => return Ok(()),
        Some(toml::Value::String(s)) if s.is_empty() => return Ok(()),
        Some(toml::Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(ScenarioError::Invalid {
                file: file.to_string(),
                key: "preset".into(),
                why: format!("expected a preset name, got {other}"),
            })
        }
    };
    let Some(text) = find(&name) else {
        let known: Vec<&str> = PRESETS.iter().map(|(n, _)| *n).collect();
        return Err(ScenarioError::Invalid {
            file: file.to_string(),
            key: "preset".into(),
            why: format!(
                "unknown preset {name:?}; known presets: {}",
                known.join(", ")
            ),
        });
    };
    let mut base: toml::Table = text.parse().expect("a preset is valid TOML");
    overlay(&mut base, std::mem::take(doc));
    *doc = base;
    Ok(())
}

/// Puts every key of `top` into `base`: tables merge key by key, anything else
/// (values, arrays, tables that name their variant) replaces.
fn overlay(base: &mut toml::Table, top: toml::Table) {
    for (key, value) in top {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(t)) if !names_variant(&t) => {
                overlay(b, t)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// A table whose keys depend on a tag (`model`, `distribution`): merging another
/// variant's keys into it would make a table that is neither.
fn names_variant(t: &toml::Table) -> bool {
    t.contains_key("model") || t.contains_key("distribution")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{LatencyModel, Scenario};
    use crate::set::{scenario_from_table, scenario_with_sets, Setting};

    fn doc(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn every_preset_is_a_valid_scenario_on_its_own() {
        for (name, _) in PRESETS {
            let s = scenario_from_table(doc(&format!("preset = {name:?}")), "p").unwrap();
            assert_eq!(s.preset, *name);
        }
    }

    #[test]
    fn cloth_sets_cloths_model_and_the_scenario_wins() {
        let s = scenario_from_table(doc("preset = \"cloth\""), "s.toml").unwrap();
        assert_eq!(s.network.channel.channel_reserve_ppm, 0);
        assert_eq!(s.network.latency, LatencyModel::Constant { ms: 100 });
        assert_eq!(s.sender.timeout_secs, 60);
        assert_eq!(s.sender.arms, vec!["single-path-retry-apriori".to_string()]);
        assert_eq!(s.sender.fee_limit_ppm, 1_000_000);
        // Keys the preset does not set keep the defaults.
        let d = Scenario::default();
        assert_eq!(s.workload, d.workload);
        assert_eq!(s.seed, d.seed);

        // The scenario's own keys win, a table that names its variant replaces the
        // preset's whole, and a table without one merges key by key.
        let s = scenario_from_table(
            doc("preset = \"cloth\"\n[network.latency]\nmodel = \"uniform\"\nmin_ms = 1\nmax_ms = 2\n[network.channel]\ndust_limit_sat = 500\n[sender]\ntimeout_secs = 5\n"),
            "s.toml",
        )
        .unwrap();
        assert_eq!(
            s.network.latency,
            LatencyModel::Uniform {
                min_ms: 1,
                max_ms: 2
            }
        );
        assert_eq!(s.network.channel.dust_limit_sat, 500);
        assert_eq!(s.network.channel.channel_reserve_ppm, 0);
        assert_eq!(s.sender.timeout_secs, 5);
        assert_eq!(s.sender.max_attempts, 100_000);
    }

    #[test]
    fn set_preset_works_and_a_later_set_still_wins() {
        let sets: Vec<Setting> = ["preset=cloth", "network.channel.channel_reserve_ppm=10000"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let s = scenario_with_sets(toml::Table::new(), "--set", &sets).unwrap();
        assert_eq!(s.preset, "cloth");
        assert_eq!(s.network.channel.channel_reserve_ppm, 10_000);
        assert_eq!(s.network.latency, LatencyModel::Constant { ms: 100 });
    }

    #[test]
    fn the_expanded_scenario_runs_the_same_again() {
        let s = scenario_from_table(doc("preset = \"cloth\"\nseed = 9\n"), "s").unwrap();
        let text = toml::to_string(&s).unwrap();
        assert!(text.contains("preset = \"cloth\""), "{text}");
        assert_eq!(Scenario::from_toml(&text, "again").unwrap(), s);
    }

    #[test]
    fn from_toml_expands_too() {
        let s =
            Scenario::from_toml("preset = \"cloth\"\n[sender]\nmax_attempts = 7\n", "f").unwrap();
        assert_eq!(s.network.channel.channel_reserve_ppm, 0);
        assert_eq!(s.sender.max_attempts, 7);
    }

    #[test]
    fn unknown_or_malformed_presets_name_the_key() {
        let e = scenario_from_table(doc("preset = \"clth\""), "s.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("s.toml") && e.contains("preset") && e.contains("cloth"),
            "{e}"
        );
        let e = scenario_from_table(doc("preset = 3"), "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("preset"), "{e}");
        let e = Scenario::from_toml("preset = \"nope\"\n", "f.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("f.toml") && e.contains("nope"), "{e}");
    }
}
