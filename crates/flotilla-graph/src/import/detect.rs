//! Format detection from content: the top-level keys of a JSON object, or a CSV header.

use std::path::Path;

use crate::error::{GraphError, Result};
use crate::import::GraphFormat;

/// Decides the format of `bytes` (already decompressed).
///
/// JSON: `sim_network` → sim-ln; `edges` → describegraph; `channels` → listchannels.
/// Text whose first line is a CSV header of CLoTH's → CLoTH.
pub fn detect_format(path: &Path, bytes: &[u8]) -> Result<GraphFormat> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or_else(|| GraphError::UnknownFormat {
            path: path.to_path_buf(),
            why: if bytes.is_empty() {
                "the file is empty".into()
            } else {
                format!(
                    "the file holds only whitespace ({})",
                    whitespace_census(bytes)
                )
            },
        })?;
    if bytes[start] == b'{' {
        let keys = top_level_keys(&bytes[start..]);
        let has = |k: &str| keys.iter().any(|x| x == k);
        return if has("sim_network") {
            Ok(GraphFormat::Simln)
        } else if has("edges") {
            Ok(GraphFormat::Describegraph)
        } else if has("channels") {
            Ok(GraphFormat::Listchannels)
        } else if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes[start..]) {
            // No known key may just mean the JSON is broken before it: say that instead.
            Err(GraphError::Syntax {
                path: path.to_path_buf(),
                what: format!("invalid JSON: {e}"),
            })
        } else {
            Err(GraphError::UnknownFormat {
                path: path.to_path_buf(),
                why: format!(
                    "a JSON object with top-level keys {keys:?}; expected `edges` (lnd describegraph), \
                     `channels` (CLN listchannels) or `sim_network` (sim-ln)"
                ),
            })
        };
    }
    let first_line = bytes[start..]
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    let header = String::from_utf8_lossy(first_line);
    // CLoTH headers start with `id`: `id` alone (nodes), `id,edge1_id,…` (channels),
    // `id,channel_id,…` (edges); some carry a unit suffix such as `id(…)`.
    let first = header.trim().split(',').next().unwrap_or_default();
    if first == "id" || first.starts_with("id(") {
        return Ok(GraphFormat::Cloth);
    }
    let shown: String = header.chars().take(40).collect();
    Err(GraphError::UnknownFormat {
        path: path.to_path_buf(),
        why: format!(
            "content starts with {shown:?}; expected a JSON object (describegraph, listchannels, sim.json) \
             or CLoTH CSV"
        ),
    })
}

/// What an all-whitespace content holds: `3 bytes: 2 spaces, 1 newline`.
fn whitespace_census(bytes: &[u8]) -> String {
    let count = |b: u8| bytes.iter().filter(|&&x| x == b).count();
    let kinds = [
        (count(b' '), "space", "spaces"),
        (count(b'\n'), "newline", "newlines"),
        (count(b'\r'), "carriage return", "carriage returns"),
        (count(b'\t'), "tab", "tabs"),
        (count(0x0c), "form feed", "form feeds"),
    ];
    let parts: Vec<String> = kinds
        .iter()
        .filter(|(n, ..)| *n > 0)
        .map(|&(n, one, many)| format!("{n} {}", if n == 1 { one } else { many }))
        .collect();
    let total = bytes.len();
    format!(
        "{total} byte{}: {}",
        if total == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

/// The keys of the outermost JSON object, found by a byte scan that skips nested
/// values and strings without building them. Stops quietly at malformed input: the
/// real parser reports that with a position.
pub(crate) fn top_level_keys(bytes: &[u8]) -> Vec<String> {
    let mut keys = Vec::new();
    let mut depth = 0usize;
    let mut expecting_key = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let begin = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if depth == 1 && expecting_key && i <= bytes.len() {
                    keys.push(
                        String::from_utf8_lossy(&bytes[begin..i.min(bytes.len())]).into_owned(),
                    );
                    expecting_key = false;
                }
            }
            b'{' => {
                depth += 1;
                expecting_key = depth == 1;
            }
            b'[' => depth += 1,
            b'}' | b']' => {
                if depth <= 1 {
                    break;
                }
                depth -= 1;
            }
            b',' if depth == 1 => expecting_key = true,
            _ => {}
        }
        i += 1;
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_outer_keys() {
        let j = br#"{"nodes": [{"edges": 1, "x": "a\"b{"}], "sim_network": {}, "activity": []}"#;
        assert_eq!(top_level_keys(j), vec!["nodes", "sim_network", "activity"]);
    }

    #[test]
    fn detects_each_format() {
        let p = Path::new("x");
        assert_eq!(
            detect_format(p, br#" {"nodes":[],"edges":[]}"#).unwrap(),
            GraphFormat::Describegraph
        );
        assert_eq!(
            detect_format(p, br#"{"channels":[]}"#).unwrap(),
            GraphFormat::Listchannels
        );
        assert_eq!(
            detect_format(p, br#"{"nodes":[],"sim_network":[]}"#).unwrap(),
            GraphFormat::Simln
        );
        assert_eq!(
            detect_format(p, b"id,channel_id,counter_edge_id\n").unwrap(),
            GraphFormat::Cloth
        );
        assert_eq!(detect_format(p, b"id\n0\n1\n").unwrap(), GraphFormat::Cloth);
        let e = detect_format(p, br#"{"foo": 1}"#).unwrap_err().to_string();
        assert!(
            e.contains("unknown graph format") && e.contains("foo"),
            "{e}"
        );
        assert!(detect_format(p, b"")
            .unwrap_err()
            .to_string()
            .contains("the file is empty"));
        let e = detect_format(p, b"  \n \r\n").unwrap_err().to_string();
        assert!(
            e.ends_with(
                "the file holds only whitespace (6 bytes: 3 spaces, 2 newlines, 1 carriage return)"
            ),
            "{e}"
        );
        assert!(detect_format(p, b"hello")
            .unwrap_err()
            .to_string()
            .contains("hello"));
    }
}
