//! Writes sim-ln's `sim.json`.

use std::io::Write;

use crate::export::ExportReport;
use crate::graph::Graph;

pub(crate) fn write(_graph: &Graph, _w: &mut dyn Write) -> std::io::Result<ExportReport> {
    Err(std::io::Error::other("sim.json export is not built yet"))
}
