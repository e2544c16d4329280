//! Which graph a command reads when the user names none: `$FLOTILLA_GRAPH` if set,
//! else the mainnet snapshot built into the binary (so an installed `flotilla` needs
//! no checkout beside it).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use flotilla_graph::ImportedGraph;
use flotilla_sim::graph_origin::{self, DefaultGraph};

use crate::cli::GraphInput;

/// File name of the bundled snapshot (in `data/` of the source tree); the built-in
/// graph is `builtin:` followed by it.
pub const DEFAULT_GRAPH: &str = "mainnet-2026-02-03.describegraph.json.gz";

/// The snapshot's bytes (gzip, about 3.6 MB), compiled in.
static BUNDLED: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/mainnet-2026-02-03.describegraph.json.gz"
));

/// The environment variable that names another default graph file.
pub const GRAPH_ENV: &str = "FLOTILLA_GRAPH";

/// The default graph: the file `$FLOTILLA_GRAPH` names, else the built-in snapshot.
/// An empty `$FLOTILLA_GRAPH` is refused (it is a mistake more often than a wish).
pub fn default_graph() -> Result<DefaultGraph> {
    match std::env::var_os(GRAPH_ENV) {
        Some(v) if v.is_empty() => bail!(
            "{GRAPH_ENV} is set but empty: unset it to use the built-in snapshot \
             (builtin:{DEFAULT_GRAPH}), or set it to a graph file"
        ),
        Some(v) => Ok(DefaultGraph::File(PathBuf::from(v))),
        None => Ok(DefaultGraph::Builtin {
            name: DEFAULT_GRAPH,
            bytes: BUNDLED,
        }),
    }
}

/// A graph read, with where it came from and how long it took.
pub struct LoadedGraph {
    /// The file, or `builtin:NAME`.
    pub path: PathBuf,
    /// What was read.
    pub imported: ImportedGraph,
    /// Wall time of the import, seconds.
    pub seconds: f64,
}

/// Reads the graph the user asked for (a file, `builtin:NAME`, or the default).
pub fn load(input: &GraphInput) -> Result<LoadedGraph> {
    let from_env = input.file.is_none() && std::env::var_os(GRAPH_ENV).is_some();
    let source = match &input.file {
        Some(f) => {
            let builtin = DefaultGraph::Builtin {
                name: DEFAULT_GRAPH,
                bytes: BUNDLED,
            };
            graph_origin::resolve(&f.to_string_lossy(), &builtin)
                .map(|s| match s {
                    // Not a built-in name: the path as given (not lossily converted).
                    DefaultGraph::File(_) => DefaultGraph::File(f.clone()),
                    b => b,
                })
                .context("cannot read graph")?
        }
        None => default_graph()?,
    };
    let path = source.label();
    let started = Instant::now();
    let imported =
        graph_origin::read(&source, input.format.map(Into::into)).with_context(|| {
            if from_env {
                format!("cannot read graph (named by {GRAPH_ENV})")
            } else {
                "cannot read graph".to_string()
            }
        })?;
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
