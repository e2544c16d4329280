//! sim-ln `sim.json` (`sim_network` section).

use std::path::Path;

use crate::error::{GraphError, Result};
use crate::graph::Graph;

/// Parses a sim.json file.
pub(crate) fn parse(path: &Path, _bytes: &[u8]) -> Result<Graph> {
    Err(GraphError::UnknownFormat { path: path.to_path_buf(), why: "sim.json import is not built yet".into() })
}
