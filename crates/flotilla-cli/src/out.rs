//! Standard output, the one way every command writes to it.
//!
//! `println!` panics when stdout cannot be written (a closed pipe, `> /dev/full`):
//! a backtrace and exit code 101 for `flotilla graph stats | head -1`. Commands write
//! through [`outln!`] and [`out!`] instead, which return a [`StdoutError`] to pass up
//! with `?`; `main` turns a closed pipe into a quiet exit, the way Unix tools end when
//! their reader goes away, and any other failure into one `error:` line.
//! (`clippy::print_stdout` is denied in `main.rs`, so a stray `println!` fails the lint.)

use std::fmt;
use std::io::{self, Write};

/// Writing to standard output failed.
#[derive(Debug)]
pub struct StdoutError(pub io::Error);

impl StdoutError {
    /// The reader went away (`| head`): not an error worth a message.
    pub fn is_closed_pipe(&self) -> bool {
        self.0.kind() == io::ErrorKind::BrokenPipe
    }
}

impl fmt::Display for StdoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write to standard output: {}", self.0)
    }
}

impl std::error::Error for StdoutError {}

/// Writes formatted text to stdout. Use [`outln!`] and [`out!`].
pub fn write_fmt(args: fmt::Arguments<'_>) -> Result<(), StdoutError> {
    io::stdout().lock().write_fmt(args).map_err(StdoutError)
}

/// Flushes stdout: what is still buffered is written now, where an error can be
/// reported, rather than at exit, where it would be lost.
pub fn flush() -> Result<(), StdoutError> {
    io::stdout().lock().flush().map_err(StdoutError)
}

/// `println!` that returns `Result<(), StdoutError>`.
macro_rules! outln {
    () => {
        $crate::out::write_fmt(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::out::write_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that returns `Result<(), StdoutError>`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::write_fmt(format_args!($($arg)*))
    };
}
