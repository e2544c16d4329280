//! Exporters: write a graph so other tools (lnd-based analysis, sim-ln, CLoTH) can run
//! the same topology. Output paths ending in `.gz` are gzip-compressed.

mod cloth;
mod describegraph;
mod simln;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::{GraphError, Result};
use crate::graph::Graph;
use crate::import::GraphFormat;
use crate::liquidity::Balances;
use crate::warnings::{Warning, Warnings};

/// What an export left out because the format cannot carry it.
#[derive(Debug, Clone, Default)]
pub struct ExportReport {
    /// Channels written.
    pub channels_written: usize,
    /// Nodes written.
    pub nodes_written: usize,
    /// Oddities, e.g. channels without both policies that sim-ln cannot represent.
    pub warnings: Warnings,
}

/// Writes `graph` to `out` in `format`. CLoTH needs balances (its edges carry them):
/// pass the ones to write, or `None` to split each capacity 50/50. For CLoTH `out`
/// is a directory that receives `nodes.csv`, `channels.csv` and `edges.csv`.
pub fn write_graph(
    graph: &Graph,
    balances: Option<&Balances>,
    format: GraphFormat,
    out: &Path,
) -> Result<ExportReport> {
    match format {
        GraphFormat::Describegraph => with_writer(out, |w| describegraph::write(graph, w)),
        GraphFormat::Simln => with_writer(out, |w| simln::write(graph, w)),
        GraphFormat::Cloth => cloth::write(graph, balances, out),
        GraphFormat::Listchannels => Err(GraphError::Export {
            format: "listchannels",
            why: "listchannels is an import-only format; export to describegraph instead".into(),
        }),
    }
}

/// Opens `out` (gzip when it ends in `.gz`), runs `body`, and flushes, mapping I/O
/// errors to the file.
pub(crate) fn with_writer(
    out: &Path,
    body: impl FnOnce(&mut dyn Write) -> std::io::Result<ExportReport>,
) -> Result<ExportReport> {
    let file = File::create(out).map_err(|e| GraphError::io(out, e))?;
    let gz = out.extension().is_some_and(|x| x == "gz");
    let run = || -> std::io::Result<ExportReport> {
        if gz {
            let mut w =
                flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::default());
            let report = body(&mut w)?;
            w.finish()?.flush()?;
            Ok(report)
        } else {
            let mut w = BufWriter::new(file);
            let report = body(&mut w)?;
            w.flush()?;
            Ok(report)
        }
    };
    run().map_err(|e| GraphError::io(out, e))
}

/// Counts the channels a format that needs both policies (enabled) must leave out.
pub(crate) fn exportable_both_ways(graph: &Graph, report: &mut ExportReport) -> Vec<usize> {
    let mut keep = Vec::with_capacity(graph.channel_count());
    for (i, c) in graph.channels().iter().enumerate() {
        let ok = c.policies.iter().all(|p| p.is_some_and(|p| !p.disabled));
        if ok {
            keep.push(i);
        } else {
            report
                .warnings
                .add(Warning::ChannelNotExported, || c.scid.to_string());
        }
    }
    keep
}
