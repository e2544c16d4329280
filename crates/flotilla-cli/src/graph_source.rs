//! Where the graph comes from when the user names none: the bundled snapshot.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use flotilla_graph::{read_graph, ImportedGraph};

use crate::cli::GraphInput;

/// File name of the default graph inside `data/`.
pub const DEFAULT_GRAPH: &str = "mainnet-2026-02-03.describegraph.json.gz";

/// The bundled snapshot: `$FLOTILLA_GRAPH`, else `data/` under the current directory,
/// else `data/` of the source tree this binary was built from.
pub fn default_graph_path() -> PathBuf {
    if let Some(p) = std::env::var_os("FLOTILLA_GRAPH") {
        return PathBuf::from(p);
    }
    let local = Path::new("data").join(DEFAULT_GRAPH);
    if local.exists() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(DEFAULT_GRAPH)
}

/// A graph read from disk, with where it came from and how long it took.
pub struct LoadedGraph {
    /// The file.
    pub path: PathBuf,
    /// What was read.
    pub imported: ImportedGraph,
    /// Wall time of the import, seconds.
    pub seconds: f64,
}

/// Reads the graph the user asked for (or the default).
pub fn load(input: &GraphInput) -> Result<LoadedGraph> {
    let path = input.file.clone().unwrap_or_else(default_graph_path);
    let started = Instant::now();
    let imported = read_graph(&path, input.format.map(Into::into))
        .with_context(|| "cannot read graph".to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        path = %path.display(),
        format = %imported.format,
        nodes = imported.graph.node_count(),
        channels = imported.graph.channel_count(),
        seconds,
        "graph read"
    );
    Ok(LoadedGraph {
        path,
        imported,
        seconds,
    })
}
