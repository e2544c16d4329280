//! One module per top-level command.

mod graph;
mod invoice;
mod sim;

use anyhow::Result;

use crate::cli::{Cli, Command};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Graph(cmd) => graph::run(cmd),
        Command::Invoice(cmd) => invoice::run(cmd),
        Command::Sim(args) => sim::run(args),
    }
}
