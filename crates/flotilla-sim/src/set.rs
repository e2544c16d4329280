//! `KEY=VALUE` overrides of a scenario: one dotted key set on the scenario's TOML
//! document before it is deserialised and validated.
//!
//! `flotilla sim --set` and every point of a sweep go through [`apply`] and
//! [`scenario_from_table`], so a key means the same in both places and is checked the
//! same way: an unknown key or a value of the wrong type is refused with the dotted key
//! that is wrong (`workload.payment`, `sender.max_parts`), never run.

use std::str::FromStr;

use crate::scenario::{Scenario, ScenarioError};

/// One `KEY=VALUE` override.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// Dotted key, e.g. `workload.arrivals_per_sec`.
    pub key: String,
    /// The value: a TOML value (`25`, `0.5`, `true`, `"half"`, `["mpp-retry"]`,
    /// `{ distribution = "constant", value_sat = 1000 }`), or a bare word taken as a
    /// string (`half`, `mpp-retry`).
    pub value: toml::Value,
}

/// Why an override could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    /// Not of the form `KEY=VALUE`.
    #[error("expected KEY=VALUE (e.g. workload.payments=500), got `{0}`")]
    Syntax(String),
    /// A key with an empty segment (`a..b`, `.a`).
    #[error("`{0}` is not a dotted key")]
    BadKey(String),
    /// A key that goes through a value that is not a table.
    #[error("`{key}`: `{parent}` is a value, not a table")]
    NotATable {
        /// The key being set.
        key: String,
        /// Its prefix that holds a plain value.
        parent: String,
    },
}

impl FromStr for Setting {
    type Err = SetError;

    fn from_str(s: &str) -> Result<Self, SetError> {
        let (key, raw) = s
            .split_once('=')
            .ok_or_else(|| SetError::Syntax(s.into()))?;
        let key = key.trim();
        check_key(key)?;
        Ok(Setting {
            key: key.to_string(),
            value: parse_value(raw.trim()),
        })
    }
}

/// A value as TOML, or the text itself as a string when it is not TOML (so
/// `graph.liquidity=half` needs no quotes).
pub fn parse_value(raw: &str) -> toml::Value {
    match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.into())),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

fn check_key(key: &str) -> Result<(), SetError> {
    if key.is_empty() || key.split('.').any(|p| p.trim().is_empty()) {
        return Err(SetError::BadKey(key.to_string()));
    }
    Ok(())
}

/// Sets dotted `key` to `value` in `doc`, creating the tables on the way. A table
/// value replaces the whole table (its keys are not merged), as in the TOML file.
pub fn apply(doc: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), SetError> {
    check_key(key)?;
    let parts: Vec<&str> = key.split('.').map(str::trim).collect();
    let (last, parents) = parts.split_last().expect("a checked key has a segment");
    let mut table = doc;
    for (i, p) in parents.iter().enumerate() {
        let entry = table
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = match entry {
            toml::Value::Table(t) => t,
            _ => {
                return Err(SetError::NotATable {
                    key: key.to_string(),
                    parent: parts[..=i].join("."),
                })
            }
        };
    }
    table.insert(last.to_string(), value);
    Ok(())
}

/// The value at dotted `key` in `doc`, if any.
pub fn get<'a>(doc: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut parts = key.split('.');
    let mut v = doc.get(parts.next()?)?;
    for p in parts {
        v = v.as_table()?.get(p)?;
    }
    Some(v)
}

/// Deserialises and validates a scenario document. An error names the dotted key that
/// is unknown or has the wrong type (`file: `workload.payment`: unknown field …`), and
/// `file` says where the document came from.
pub fn scenario_from_table(mut doc: toml::Table, file: &str) -> Result<Scenario, ScenarioError> {
    crate::preset::expand(&mut doc, file)?;
    let de = toml::Value::Table(doc);
    let scenario: Scenario =
        serde_path_to_error::deserialize(de).map_err(|e: serde_path_to_error::Error<_>| {
            let key = error_key(&e);
            let inner = e.into_inner();
            let why = one_line(&inner.to_string());
            ScenarioError::Invalid {
                file: file.to_string(),
                key,
                why,
            }
        })?;
    scenario.validate(file)?;
    Ok(scenario)
}

/// Applies `sets` in order to `doc`, then deserialises and validates it. An error a
/// setting caused (its key, or a key under it) names the setting instead of `file`.
pub fn scenario_with_sets(
    mut doc: toml::Table,
    file: &str,
    sets: &[Setting],
) -> Result<Scenario, ScenarioError> {
    let source = |s: &Setting| format!("--set {}={}", s.key, s.value);
    for s in sets {
        apply(&mut doc, &s.key, s.value.clone()).map_err(|e| ScenarioError::Invalid {
            file: source(s),
            key: s.key.clone(),
            why: e.to_string(),
        })?;
    }
    scenario_from_table(doc, file).map_err(|e| match e {
        ScenarioError::Invalid { file, key, why } => {
            let by = sets
                .iter()
                .rev()
                .find(|s| key == s.key || key.starts_with(&format!("{}.", s.key)));
            ScenarioError::Invalid {
                file: by.map(source).unwrap_or(file),
                key,
                why,
            }
        }
        other => other,
    })
}

/// The dotted key of a deserialisation error: the path serde reached, and for an
/// unknown field the field itself.
fn error_key(e: &serde_path_to_error::Error<toml::de::Error>) -> String {
    let path = e.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let msg = e.inner().to_string();
    // serde names the unknown field in backquotes: "unknown field `payment`, expected …"
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        if let Some(field) = rest.split('`').next() {
            if !path.ends_with(field) {
                return if path.is_empty() {
                    field.to_string()
                } else {
                    format!("{path}.{field}")
                };
            }
        }
    }
    if path.is_empty() {
        "(scenario)".into()
    } else {
        path
    }
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A scenario's TOML text as a document. Syntax errors, unknown keys and wrong types
/// in the text itself are reported against the file and its line, as
/// [`Scenario::from_toml`] reports them, before any override; values are validated
/// only once the overrides are in (an override may be what makes them valid).
pub fn parse_document(text: &str, file: &str) -> Result<toml::Table, ScenarioError> {
    if let Err(e) = toml::from_str::<Scenario>(text) {
        return Err(ScenarioError::Parse {
            file: file.to_string(),
            message: crate::scenario::one_line(&e),
        });
    }
    text.parse::<toml::Table>()
        .map_err(|e| ScenarioError::Parse {
            file: file.to_string(),
            message: crate::scenario::one_line(&e),
        })
}

/// The whole scenario as a document (for sources that are not TOML text, such as a
/// sim-ln `sim.json`).
pub fn document_of(s: &Scenario) -> toml::Table {
    toml::Table::try_from(s).expect("a scenario serialises to TOML")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> Setting {
        s.parse().unwrap()
    }

    #[test]
    fn values_are_toml_or_bare_strings() {
        assert_eq!(set("a.b=25").value, toml::Value::Integer(25));
        assert_eq!(set("a=0.5").value, toml::Value::Float(0.5));
        assert_eq!(set("a=half").value, toml::Value::String("half".into()));
        assert_eq!(set("a=\"half\"").value, toml::Value::String("half".into()));
        assert_eq!(
            set("sender.arms=[\"mpp-retry\"]").value,
            toml::Value::Array(vec![toml::Value::String("mpp-retry".into())])
        );
        assert_eq!(
            set("a=bimodal:50%").value,
            toml::Value::String("bimodal:50%".into())
        );
        assert!("novalue".parse::<Setting>().is_err());
        assert!("a..b=1".parse::<Setting>().is_err());
    }

    #[test]
    fn a_set_reaches_the_scenario() {
        let mut doc = parse_document("[workload]\npayments = 7\n", "s.toml").unwrap();
        apply(
            &mut doc,
            "workload.arrivals_per_sec",
            toml::Value::Integer(25),
        )
        .unwrap();
        apply(&mut doc, "sender.max_parts", toml::Value::Integer(3)).unwrap();
        let s = scenario_from_table(doc, "s.toml").unwrap();
        assert_eq!(s.workload.payments, 7);
        assert_eq!(s.workload.arrivals_per_sec, 25.0);
        assert_eq!(s.sender.max_parts, 3);
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_key() {
        let mut doc = toml::Table::new();
        apply(&mut doc, "workload.payment", toml::Value::Integer(5)).unwrap();
        let e = scenario_from_table(doc, "x").unwrap_err().to_string();
        assert!(e.contains("`workload.payment`"), "{e}");
        assert!(e.contains("unknown field"), "{e}");

        let mut doc = toml::Table::new();
        apply(
            &mut doc,
            "sender.max_parts",
            toml::Value::String("many".into()),
        )
        .unwrap();
        let e = scenario_from_table(doc, "x").unwrap_err().to_string();
        assert!(e.contains("`sender.max_parts`"), "{e}");
        assert!(e.contains("invalid type"), "{e}");

        let mut doc = toml::Table::new();
        apply(&mut doc, "network.hodl_share", toml::Value::Float(2.0)).unwrap();
        let e = scenario_from_table(doc, "x").unwrap_err().to_string();
        assert!(e.contains("`network.hodl_share`"), "{e}");
    }

    #[test]
    fn a_key_through_a_value_is_refused() {
        let mut doc = parse_document("seed = 3\n", "s").unwrap();
        let e = apply(&mut doc, "seed.x", toml::Value::Integer(1)).unwrap_err();
        assert_eq!(
            e,
            SetError::NotATable {
                key: "seed.x".into(),
                parent: "seed".into()
            }
        );
    }

    #[test]
    fn file_errors_keep_their_line() {
        let e = parse_document("seed = 3\n[workload]\npayment = 5\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3"), "{e}");
    }
}
