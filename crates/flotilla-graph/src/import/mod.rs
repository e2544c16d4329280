//! Importers: read a graph file in any supported format, gzip or not.
//!
//! The format is detected from the content (the top-level JSON keys, or a CSV
//! header) unless the caller forces one. Every importer goes through
//! [`crate::GraphBuilder`], so the rules every graph obeys (no duplicate channel, no
//! self-loop, valid keys) are checked in one place.

mod cloth;
mod describegraph;
mod detect;
mod listchannels;
pub(crate) mod numbers;
mod simln;
mod source;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::error::{GraphError, Location, Result};
use crate::graph::Graph;
use crate::liquidity::Balances;

pub use cloth::{parse_cloth, ClothPaths};
pub use detect::detect_format;
pub use source::{input_limit, read_bytes, DEFAULT_MAX_INPUT_MIB, MAX_INPUT_ENV};

/// A graph file format flotilla reads (and, except `listchannels`, writes).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum GraphFormat {
    /// lnd's `lncli describegraph` JSON.
    Describegraph,
    /// Core Lightning's `listchannels` JSON.
    Listchannels,
    /// sim-ln's `sim.json` with a `sim_network` section.
    Simln,
    /// CLoTH's three CSV files (`nodes`, `channels`, `edges`).
    Cloth,
}

impl GraphFormat {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [GraphFormat; 4] = [
        GraphFormat::Describegraph,
        GraphFormat::Listchannels,
        GraphFormat::Simln,
        GraphFormat::Cloth,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            GraphFormat::Describegraph => "describegraph",
            GraphFormat::Listchannels => "listchannels",
            GraphFormat::Simln => "simln",
            GraphFormat::Cloth => "cloth",
        }
    }
}

impl fmt::Display for GraphFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for GraphFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        GraphFormat::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!("unknown graph format {s:?}; expected one of describegraph, listchannels, simln, cloth")
            })
    }
}

/// A graph as read from a file, with the channel balances if the file has them
/// (CLoTH's `edges` carry one per direction; no other format does).
#[derive(Debug, Clone)]
pub struct ImportedGraph {
    /// The graph.
    pub graph: Graph,
    /// Balances per directed edge from the file, if it has them.
    pub balances: Option<Balances>,
    /// The format that was read.
    pub format: GraphFormat,
}

/// Reads a graph file. `format` forces a format; `None` detects it from the content.
///
/// A path to a directory, or to one of CLoTH's CSV files, reads the CLoTH triple.
pub fn read_graph(path: &Path, format: Option<GraphFormat>) -> Result<ImportedGraph> {
    let is_dir = path.is_dir();
    if format == Some(GraphFormat::Cloth) || is_dir {
        if is_dir && format.is_some_and(|f| f != GraphFormat::Cloth) {
            return Err(GraphError::UnknownFormat {
                path: path.to_path_buf(),
                why: format!(
                    "a directory can only hold CLoTH CSV files, not {}",
                    format.unwrap_or(GraphFormat::Cloth)
                ),
            });
        }
        let paths = ClothPaths::locate(path)?;
        let (graph, balances) = cloth::read(&paths)?;
        return Ok(ImportedGraph {
            graph,
            balances: Some(balances),
            format: GraphFormat::Cloth,
        });
    }
    let bytes = read_bytes(path)?;
    let format = match format {
        Some(f) => f,
        None => detect_format(path, &bytes)?,
    };
    let graph = match format {
        GraphFormat::Describegraph => describegraph::parse(path, &bytes)?,
        GraphFormat::Listchannels => listchannels::parse(path, &bytes)?,
        GraphFormat::Simln => simln::parse(path, &bytes)?,
        GraphFormat::Cloth => {
            // A single CSV file named explicitly: find its siblings.
            let paths = ClothPaths::locate(path)?;
            let (graph, balances) = cloth::read(&paths)?;
            return Ok(ImportedGraph {
                graph,
                balances: Some(balances),
                format,
            });
        }
    };
    Ok(ImportedGraph {
        graph,
        balances: None,
        format,
    })
}

/// Parses a graph file's content already in memory (gzip or not), as [`read_graph`]
/// does after reading a JSON file: the format is detected unless `format` forces one.
/// `path` only names the file in errors. CLoTH's three files need
/// [`parse_cloth`] instead.
pub fn parse_graph_bytes(
    path: &Path,
    bytes: &[u8],
    format: Option<GraphFormat>,
) -> Result<ImportedGraph> {
    let content = source::content(path, bytes)?;
    let bytes = &content[..];
    let format = match format {
        Some(f) => f,
        None => detect_format(path, bytes)?,
    };
    let graph = match format {
        GraphFormat::Describegraph => describegraph::parse(path, bytes)?,
        GraphFormat::Listchannels => listchannels::parse(path, bytes)?,
        GraphFormat::Simln => simln::parse(path, bytes)?,
        GraphFormat::Cloth => {
            return Err(GraphError::UnknownFormat {
                path: path.to_path_buf(),
                why: "CLoTH graphs are three files: read them with parse_cloth".into(),
            })
        }
    };
    Ok(ImportedGraph {
        graph,
        balances: None,
        format,
    })
}

/// Turns a `serde_path_to_error` failure into our error: data errors name the record
/// (the path up to the first array index's element) and the field (the rest).
pub(crate) fn json_error(
    path: &Path,
    err: serde_path_to_error::Error<serde_json::Error>,
) -> GraphError {
    // Keys and values come from the file: a control character in them (a JSON key
    // `"a\nb"`) must not break the one-line error, so such characters are escaped.
    let at = printable(&err.path().to_string());
    let inner = err.into_inner();
    let message = printable(&inner.to_string());
    match inner.classify() {
        serde_json::error::Category::Data => {
            let (record, field) = split_json_path(&at);
            GraphError::Invalid {
                path: path.to_path_buf(),
                location: Location { record, field },
                message,
            }
        }
        serde_json::error::Category::Eof => GraphError::Syntax {
            path: path.to_path_buf(),
            what: format!("invalid JSON: the file ends early (truncated?) near `{at}`: {message}"),
        },
        _ => GraphError::Syntax {
            path: path.to_path_buf(),
            what: format!("invalid JSON near `{at}`: {message}"),
        },
    }
}

/// `s` with every control character escaped (`\n`, `\u{1b}`, …), so that text taken
/// from a file stays on one line and cannot drive the terminal.
pub(crate) fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `edges[12].node1_policy.min_htlc` → (`edges[12]`, `node1_policy.min_htlc`).
fn split_json_path(at: &str) -> (Option<String>, Option<String>) {
    if at.is_empty() || at == "." {
        return (None, None);
    }
    match at.find(']') {
        Some(end) => {
            let record = at[..=end].to_string();
            let rest = at[end + 1..].trim_start_matches('.');
            (Some(record), (!rest.is_empty()).then(|| rest.to_string()))
        }
        None => (None, Some(at.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_split_into_record_and_field() {
        assert_eq!(
            split_json_path("edges[12].node1_policy.min_htlc"),
            (
                Some("edges[12]".into()),
                Some("node1_policy.min_htlc".into())
            )
        );
        assert_eq!(split_json_path("nodes[3]"), (Some("nodes[3]".into()), None));
        assert_eq!(split_json_path("edges"), (None, Some("edges".into())));
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("sim\network"), "sim\\network");
        assert_eq!(printable("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(printable("plain ⚡"), "plain ⚡");
    }

    #[test]
    fn format_names_parse() {
        for f in GraphFormat::ALL {
            assert_eq!(f.name().parse::<GraphFormat>().unwrap(), f);
        }
        assert!("lnd".parse::<GraphFormat>().is_err());
    }
}
