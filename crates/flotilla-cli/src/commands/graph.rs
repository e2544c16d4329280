//! `flotilla graph stats` and `flotilla graph convert`.

use std::time::Instant;

use anyhow::{Context, Result};
use flotilla_graph::export::{write_graph, ExportReport};
use flotilla_graph::generate::{BarabasiAlbert, PolicyParams, RandomFees, WattsStrogatz};
use flotilla_graph::liquidity::LiquidityModel;
use flotilla_graph::stats::GraphStats;
use flotilla_graph::GraphFormat;
use serde::Serialize;

use crate::cli::{ConvertArgs, GenerateArgs, GeneratorArg, GraphCommand, StatsArgs};
use crate::graph_source::load;
use crate::table::{thousands, Table};

/// Runs a `graph` subcommand.
pub fn run(cmd: GraphCommand) -> Result<()> {
    match cmd {
        GraphCommand::Stats(args) => stats(args),
        GraphCommand::Convert(args) => convert(args),
        GraphCommand::Generate(args) => generate(args),
    }
}

#[derive(Serialize)]
struct StatsOutput<'a> {
    file: String,
    format: &'static str,
    import_seconds: f64,
    stats_seconds: f64,
    #[serde(flatten)]
    stats: &'a GraphStats,
}

fn stats(args: StatsArgs) -> Result<()> {
    let loaded = load(&args.input)?;
    let started = Instant::now();
    let stats = GraphStats::compute(&loaded.imported.graph);
    let stats_seconds = started.elapsed().as_secs_f64();
    if args.json {
        let out = StatsOutput {
            file: loaded.path.display().to_string(),
            format: loaded.imported.format.name(),
            import_seconds: loaded.seconds,
            stats_seconds,
            stats: &stats,
        };
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
        return Ok(());
    }
    outln!(
        "{} ({}, read in {:.2} s, stats in {:.2} s)\n",
        loaded.path.display(),
        loaded.imported.format,
        loaded.seconds,
        stats_seconds
    )?;
    let mut t = Table::new(1);
    let n = |v: usize| thousands(v as u64);
    t.row(["nodes".to_string(), n(stats.nodes)]);
    t.row(["channels".to_string(), n(stats.channels)]);
    t.row(["directed policies".to_string(), n(stats.policies)]);
    t.row(["  enabled".to_string(), n(stats.enabled_policies)]);
    t.row([
        "channels enabled both ways".to_string(),
        n(stats.channels_enabled_both_ways),
    ]);
    t.row(["capacity (sat)".to_string(), thousands(stats.capacity_sat)]);
    t.row([
        "  median per channel (sat)".to_string(),
        thousands(stats.median_capacity_sat),
    ]);
    t.row(["largest SCC, nodes".to_string(), n(stats.largest_scc_nodes)]);
    t.row([
        "largest SCC, channels".to_string(),
        n(stats.largest_scc_channels),
    ]);
    t.row(["isolated nodes".to_string(), n(stats.isolated_nodes)]);
    t.row([
        "nodes with addresses".to_string(),
        n(stats.nodes_with_addresses),
    ]);
    let a = &stats.addresses;
    t.row([
        "  ipv4 / ipv6 / onion / dns".to_string(),
        format!(
            "{} / {} / {} / {}",
            n(a.ipv4),
            n(a.ipv6),
            n(a.onion),
            n(a.dns)
        ),
    ]);
    t.row([
        "median base fee (msat)".to_string(),
        thousands(stats.median_fee_base_msat),
    ]);
    t.row([
        "median fee rate (ppm)".to_string(),
        thousands(stats.median_fee_rate_ppm),
    ]);
    t.row([
        "median CLTV delta (blocks)".to_string(),
        thousands(stats.median_cltv_expiry_delta),
    ]);
    out!("{}", t.render())?;
    let warnings = loaded.imported.graph.warnings();
    if !warnings.is_empty() {
        outln!()?;
        let mut w = Table::new(2).header(["warning (imported anyway)", "first example", "count"]);
        for (kind, count, example) in warnings.iter() {
            w.row([
                kind.describe().to_string(),
                format!("e.g. {example}"),
                thousands(count),
            ]);
        }
        out!("{}", w.render())?;
    }
    Ok(())
}

fn convert(args: ConvertArgs) -> Result<()> {
    let loaded = load(&args.input)?;
    let format: GraphFormat = args.to.into();
    let graph = &loaded.imported.graph;
    let balances = match (&args.liquidity, &loaded.imported.balances) {
        (None, Some(from_file)) => Some(from_file.clone()),
        (model, _) if format == GraphFormat::Cloth => {
            let model: LiquidityModel = model
                .as_deref()
                .unwrap_or("uniform")
                .parse()
                .context("--liquidity")?;
            Some(model.assign(graph, args.seed)?)
        }
        _ => None,
    };
    let report = write_graph(graph, balances.as_ref(), format, &args.output)
        .with_context(|| format!("cannot convert {} to {format}", loaded.path.display()))?;
    print_report(&report, &args.output, format)?;
    Ok(())
}

fn generate(args: GenerateArgs) -> Result<()> {
    let policy = PolicyParams {
        random_fees: args.random_fees.then(RandomFees::default),
        ..PolicyParams::default()
    };
    let (graph, balances) = match args.model {
        GeneratorArg::WattsStrogatz => {
            let d = WattsStrogatz::default();
            WattsStrogatz {
                n: args.nodes.unwrap_or(d.n),
                k: args.k,
                p: args.p,
                policy,
                ..d
            }
            .generate(args.seed)?
        }
        GeneratorArg::BarabasiAlbert => {
            let d = BarabasiAlbert::default();
            BarabasiAlbert {
                n: args.nodes.unwrap_or(d.n),
                m: args.m,
                policy,
                ..d
            }
            .generate(args.seed)?
        }
    };
    let format: GraphFormat = args.to.into();
    let report = write_graph(&graph, Some(&balances), format, &args.output).with_context(|| {
        format!(
            "cannot write the generated graph to {}",
            args.output.display()
        )
    })?;
    print_report(&report, &args.output, format)?;
    Ok(())
}

fn print_report(report: &ExportReport, out: &std::path::Path, format: GraphFormat) -> Result<()> {
    outln!(
        "wrote {} nodes and {} channels to {} ({format})",
        thousands(report.nodes_written as u64),
        thousands(report.channels_written as u64),
        out.display()
    )?;
    for (kind, count, example) in report.warnings.iter() {
        // Renamed aliases are written (changed); everything else counted is left out.
        let what = if kind == flotilla_graph::Warning::AliasRenamed {
            "renamed"
        } else {
            "left out"
        };
        outln!(
            "  {what}: {} × {} (e.g. {example})",
            thousands(count),
            kind.describe()
        )?;
    }
    Ok(())
}
