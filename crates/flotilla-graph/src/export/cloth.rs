//! Writes CLoTH's CSV files.

use std::path::Path;

use crate::error::{GraphError, Result};
use crate::export::ExportReport;
use crate::graph::Graph;
use crate::liquidity::Balances;

pub(crate) fn write(_graph: &Graph, _balances: Option<&Balances>, _out: &Path) -> Result<ExportReport> {
    Err(GraphError::Export { format: "cloth", why: "not built yet".into() })
}
