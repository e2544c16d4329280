//! Scenario TOML: arbitrary text never panics the loader.

use flotilla_sim::scenario::Scenario;

use super::graph::check_error;

/// Scenario TOML: parse and validate, never panic; errors name the file.
pub fn scenario(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match Scenario::from_toml(&text, "fuzz.toml") {
        Ok(s) => {
            s.validate("fuzz.toml")
                .expect("a parsed scenario validates");
            let _ = s.sender.fee_limit_msat(u64::MAX);
        }
        Err(e) => check_error(&e, "fuzz.toml"),
    }
}
