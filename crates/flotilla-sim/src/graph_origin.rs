//! Where an experiment's graph comes from: a file, or a snapshot built into the
//! binary.
//!
//! A scenario names its graph in `graph.file`: a path, empty for the default graph,
//! or `builtin:NAME` for a snapshot the binary carries. Writing the built-in name into
//! `scenario.toml` (rather than leaving it empty) makes a rerun with a flotilla whose
//! bundled snapshot differs fail loudly instead of running on another graph.

use std::path::{Path, PathBuf};

use flotilla_graph::{parse_graph_bytes, read_graph, GraphError, ImportedGraph};

/// Prefix of a built-in graph's name in `graph.file`.
pub const BUILTIN_PREFIX: &str = "builtin:";

/// The graph used when a scenario names none.
#[derive(Debug, Clone)]
pub enum DefaultGraph {
    /// A file on disk.
    File(PathBuf),
    /// A snapshot compiled into the binary.
    Builtin {
        /// Its name (the file name it was built from), without [`BUILTIN_PREFIX`].
        name: &'static str,
        /// Its bytes (gzip or plain, any format the importers detect).
        bytes: &'static [u8],
    },
}

impl DefaultGraph {
    /// How the graph is named in `graph.file`, `run.json` and `summary.json`: the
    /// path, or `builtin:NAME`.
    pub fn label(&self) -> PathBuf {
        match self {
            DefaultGraph::File(p) => p.clone(),
            DefaultGraph::Builtin { name, .. } => PathBuf::from(format!("{BUILTIN_PREFIX}{name}")),
        }
    }

    /// Whether this is a built-in snapshot.
    pub fn is_builtin(&self) -> bool {
        matches!(self, DefaultGraph::Builtin { .. })
    }
}

/// `graph.file` names a built-in graph this binary does not have.
#[derive(Debug, thiserror::Error)]
#[error("graph.file: `{asked}` is not a graph built into this flotilla (it has {have}); name a graph file instead")]
pub struct UnknownBuiltin {
    /// The name asked for.
    pub asked: String,
    /// What this binary has.
    pub have: String,
}

/// What `file` (a scenario's `graph.file` or a command's graph argument) names, given
/// the default: the default itself when `file` is empty or the default's built-in
/// name, a file otherwise.
pub fn resolve(file: &str, default: &DefaultGraph) -> Result<DefaultGraph, UnknownBuiltin> {
    if file.is_empty() {
        return Ok(default.clone());
    }
    if file.starts_with(BUILTIN_PREFIX) {
        if default.is_builtin() && Path::new(file) == default.label() {
            return Ok(default.clone());
        }
        return Err(UnknownBuiltin {
            asked: file.to_string(),
            have: match default {
                DefaultGraph::Builtin { .. } => format!("`{}`", default.label().display()),
                DefaultGraph::File(_) => "none in use".to_string(),
            },
        });
    }
    Ok(DefaultGraph::File(PathBuf::from(file)))
}

/// Reads `graph` (format detected unless given).
pub fn read(
    graph: &DefaultGraph,
    format: Option<flotilla_graph::GraphFormat>,
) -> Result<ImportedGraph, GraphError> {
    match graph {
        DefaultGraph::File(p) => read_graph(p, format),
        DefaultGraph::Builtin { bytes, .. } => parse_graph_bytes(&graph.label(), bytes, format),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: DefaultGraph = DefaultGraph::Builtin {
        name: "g.json",
        bytes: b"{}",
    };

    #[test]
    fn empty_and_the_builtin_name_mean_the_default_and_other_names_are_refused() {
        assert!(resolve("", &B).unwrap().is_builtin());
        assert!(resolve("builtin:g.json", &B).unwrap().is_builtin());
        let e = resolve("builtin:other.json", &B).unwrap_err().to_string();
        assert!(
            e.contains("`builtin:other.json`") && e.contains("`builtin:g.json`"),
            "{e}"
        );
        assert!(
            matches!(resolve("x.json", &B).unwrap(), DefaultGraph::File(p) if p == Path::new("x.json"))
        );
        let file = DefaultGraph::File("d.json".into());
        assert!(resolve("builtin:g.json", &file).is_err());
    }
}
