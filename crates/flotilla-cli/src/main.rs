//! `flotilla`: the command-line front of the flotilla Lightning payment engine and
//! simulator. Thin by design: parsing, printing and exit codes; the work lives in
//! the library crates.

// Standard output goes through `out` (errors returned, not panics).
#![deny(clippy::print_stdout)]

#[macro_use]
mod out;

mod baseline_table;
mod cli;
mod commands;
mod field_tables;
mod graph_source;
mod oracle_table;
mod progress;
mod table;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if let Some(commit) = option_env!("FLOTILLA_GIT_COMMIT") {
        flotilla_sim::manifest::set_git_commit(commit);
    }
    // A daemon's log is its output: `node run` logs at info unless told otherwise.
    let verbose = match &cli.command {
        cli::Command::Node(n) if matches!(n.command, cli::NodeCommand::Run(_)) => {
            cli.verbose.max(1)
        }
        _ => cli.verbose,
    };
    init_tracing(verbose);
    let result = commands::run(cli).and_then(|()| Ok(out::flush()?));
    let Err(err) = result else {
        return ExitCode::SUCCESS;
    };
    if closed_pipe(&err) {
        // The reader went away (`| head`): stop quietly with the status a process
        // killed by SIGPIPE has in a shell (128 + 13), as Unix tools do.
        return ExitCode::from(141);
    }
    // stderr may be gone too; there is nowhere left to say so.
    let _ = writeln!(std::io::stderr(), "error: {}", one_line(&err));
    ExitCode::FAILURE
}

/// Whether `err` is, at any depth, stdout's reader having gone away.
fn closed_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<out::StdoutError>()
            .is_some_and(out::StdoutError::is_closed_pipe)
    })
}

/// One line, the whole chain of causes: "context: cause: cause". Many error types
/// already print their source in their own message (`"{path}: {source}"`); a cause
/// whose text the line already holds is not repeated. Control characters are escaped.
fn one_line(err: &anyhow::Error) -> String {
    let mut line = err.to_string();
    for cause in err.chain().skip(1) {
        let c = cause.to_string();
        if !line.contains(&c) {
            line.push_str(": ");
            line.push_str(&c);
        }
    }
    // Text from input files reaches messages; a control character in it must neither
    // break the line nor drive the terminal.
    line.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Logs go to stderr; `RUST_LOG` wins over `-v`.
fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
