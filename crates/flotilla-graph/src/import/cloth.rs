//! CLoTH CSV files.

use std::path::{Path, PathBuf};

use crate::error::{GraphError, Result};
use crate::graph::Graph;
use crate::liquidity::Balances;

/// The three files of a CLoTH graph.
#[derive(Debug, Clone)]
pub struct ClothPaths {
    /// `nodes` CSV.
    pub nodes: PathBuf,
    /// `channels` CSV.
    pub channels: PathBuf,
    /// `edges` CSV.
    pub edges: PathBuf,
}

impl ClothPaths {
    /// Finds the three files from a directory or one of them.
    pub fn locate(path: &Path) -> Result<Self> {
        Err(GraphError::UnknownFormat { path: path.to_path_buf(), why: "CLoTH import is not built yet".into() })
    }
}

/// Reads a CLoTH triple.
pub(crate) fn read(paths: &ClothPaths) -> Result<(Graph, Balances)> {
    Err(GraphError::UnknownFormat { path: paths.nodes.clone(), why: "CLoTH import is not built yet".into() })
}
