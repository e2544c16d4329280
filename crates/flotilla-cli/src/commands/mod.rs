//! One module per top-level command.

mod bench;
mod graph;
mod invoice;
mod live;
mod merge;
mod node;
mod report;
mod route;
mod sim;
mod sweep;

use anyhow::Result;

use crate::cli::{Cli, Command};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Graph(cmd) => graph::run(cmd),
        Command::Invoice(cmd) => invoice::run(cmd),
        Command::Sim(args) => sim::run(args),
        Command::Report(args) => report::run(args),
        Command::Route(args) => route::run(args),
        Command::Bench(cmd) => bench::run(cmd),
        Command::Sweep(args) => sweep::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Node(args) => node::run(args),
        Command::Live(args) => live::run(args),
    }
}
