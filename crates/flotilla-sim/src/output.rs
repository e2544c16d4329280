//! The results directory: `payments.csv`, `attempts.jsonl` (or `attempts.jsonl.gz`,
//! or neither: [`AttemptsMode`]), `summary.json`. `docs/results-format.md` documents
//! every file.
//!
//! A run first writes an `INCOMPLETE` marker; it is removed only when every file is
//! complete, and replaced by the error when the run fails. So a directory is never
//! left half-written without a marker saying so. Rows stream to disk as they are
//! produced (memory stays flat in the number of payments): each arm writes its own
//! part files, joined in arm order at the end so the bytes do not depend on which
//! thread finished first.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;

/// Name of the marker that says the directory is not (yet) a finished run.
pub const INCOMPLETE_MARKER: &str = "INCOMPLETE";

/// Header of `payments.csv`: sim-ln's result columns first (`dispatch_time` is virtual
/// seconds since the run started; `htlc_count` the parts sent), then flotilla's: `parts`
/// is the number of parts that settled, `ttc_ms` is empty for failed payments,
/// `liquidity_sat_seconds` is Σ amount × hold time over every HTLC of the payment, and
/// `tto_ms` is the time to outcome (settled or failed). `docs/results-format.md` has
/// every column.
pub const PAYMENTS_HEADER: &str =
    "source,destination,amount_msat,hash,dispatch_time,htlc_count,payment_outcome,\
arm,payment,fee_msat,attempts,parts,parts_sent,ttc_ms,failure_reason,liquidity_sat_seconds,\
tto_ms\n";

/// `attempts.jsonl`: one line per path tried.
pub const ATTEMPTS_FILE: &str = "attempts.jsonl";
/// `attempts.jsonl.gz`: the same lines, gzip-compressed (one gzip member per arm,
/// which every gzip reader reads as one stream).
pub const ATTEMPTS_GZ_FILE: &str = "attempts.jsonl.gz";

/// How a run writes its attempts (`flotilla sim --attempts`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AttemptsMode {
    /// No attempts file (and no time spent formatting lines).
    Off,
    /// `attempts.jsonl.gz` (the default: about a sixth of the size).
    #[default]
    Gz,
    /// `attempts.jsonl`, uncompressed.
    Full,
}

impl AttemptsMode {
    /// The file this mode writes, if any.
    pub fn file_name(self) -> Option<&'static str> {
        match self {
            AttemptsMode::Off => None,
            AttemptsMode::Gz => Some(ATTEMPTS_GZ_FILE),
            AttemptsMode::Full => Some(ATTEMPTS_FILE),
        }
    }
}

impl std::str::FromStr for AttemptsMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "off" => Ok(AttemptsMode::Off),
            "gz" => Ok(AttemptsMode::Gz),
            "full" => Ok(AttemptsMode::Full),
            other => Err(format!("{other:?} is not one of off, gz, full")),
        }
    }
}

/// Opens the attempts of the results directory `dir`, whichever form it has
/// (`attempts.jsonl.gz` first, then `attempts.jsonl`): the file and a reader of its
/// lines, or `None` if the run wrote none.
#[allow(clippy::type_complexity)]
pub fn open_attempts(dir: &Path) -> Result<Option<(PathBuf, Box<dyn BufRead>)>, OutputError> {
    let gz = dir.join(ATTEMPTS_GZ_FILE);
    if gz.exists() {
        let f = io(&gz, File::open(&gz))?;
        let r = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, f));
        return Ok(Some((gz, Box::new(BufReader::with_capacity(1 << 16, r)))));
    }
    let plain = dir.join(ATTEMPTS_FILE);
    if plain.exists() {
        let f = io(&plain, File::open(&plain))?;
        return Ok(Some((
            plain,
            Box::new(BufReader::with_capacity(1 << 16, f)),
        )));
    }
    Ok(None)
}

/// A results directory being written.
#[derive(Debug)]
pub struct OutputDir {
    dir: PathBuf,
    attempts: AttemptsMode,
}

/// Why the results could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct OutputError {
    /// The file or directory.
    pub path: PathBuf,
    /// What the OS said.
    pub source: std::io::Error,
}

fn io<T>(path: &Path, r: std::io::Result<T>) -> Result<T, OutputError> {
    r.map_err(|source| OutputError {
        path: path.to_path_buf(),
        source,
    })
}

impl OutputDir {
    /// Creates `dir` (and parents) and writes the `INCOMPLETE` marker.
    pub fn create(dir: &Path) -> Result<Self, OutputError> {
        io(dir, fs::create_dir_all(dir))?;
        let marker = dir.join(INCOMPLETE_MARKER);
        io(
            &marker,
            fs::write(
                &marker,
                "this run has not finished: the files here are partial\n",
            ),
        )?;
        Ok(OutputDir {
            dir: dir.to_path_buf(),
            attempts: AttemptsMode::default(),
        })
    }

    /// Sets how the attempts are written (before any arm starts).
    pub fn set_attempts(&mut self, mode: AttemptsMode) {
        self.attempts = mode;
    }

    /// How the attempts are written.
    pub fn attempts_mode(&self) -> AttemptsMode {
        self.attempts
    }

    /// One arm's part of the attempts file, in the directory's [`AttemptsMode`]: a
    /// writer that discards everything when attempts are off.
    pub fn attempts_writer(&self, arm_index: usize) -> Result<PartWriter, OutputError> {
        let Some(file) = self.attempts.file_name() else {
            return Ok(PartWriter {
                path: PathBuf::new(),
                w: Sink::Off,
            });
        };
        let mut part = self.part_writer(file, arm_index)?;
        if self.attempts == AttemptsMode::Gz {
            let Sink::Plain(w) = part.w else {
                unreachable!("part_writer writes plain files")
            };
            // The default level: the default run's 41 MB of lines become about 6 MB
            // (level 1: 9 MB) for a few seconds of CPU spread over the arms' threads.
            // The gzip header carries no time stamp, so the bytes are reproducible.
            part.w = Sink::Gz(GzEncoder::new(w, flate2::Compression::default()));
        }
        Ok(part)
    }

    /// Joins the arms' attempts parts (nothing when attempts are off).
    pub fn join_attempts(&self, arms: usize) -> Result<(), OutputError> {
        match self.attempts.file_name() {
            Some(file) => self.join_parts(file, "", arms),
            None => Ok(()),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// A streaming writer for one arm's part of a file (`payments.csv`,
    /// `attempts.jsonl`); [`OutputDir::join_parts`] assembles them.
    pub fn part_writer(&self, file: &str, arm_index: usize) -> Result<PartWriter, OutputError> {
        let path = self.dir.join(format!(".{file}.part{arm_index:03}"));
        let f = io(&path, File::create(&path))?;
        Ok(PartWriter {
            path,
            w: Sink::Plain(BufWriter::with_capacity(1 << 16, f)),
        })
    }

    /// Concatenates the arms' parts of `file` in arm order after `header`, and deletes
    /// the parts.
    pub fn join_parts(&self, file: &str, header: &str, arms: usize) -> Result<(), OutputError> {
        let out_path = self.dir.join(file);
        let mut out = BufWriter::new(io(&out_path, File::create(&out_path))?);
        io(&out_path, out.write_all(header.as_bytes()))?;
        for i in 0..arms {
            let part = self.dir.join(format!(".{file}.part{i:03}"));
            let mut f = io(&part, File::open(&part))?;
            io(&out_path, std::io::copy(&mut f, &mut out))?;
            io(&part, fs::remove_file(&part))?;
        }
        io(&out_path, out.flush())
    }

    /// Writes a whole small file (`summary.json`).
    pub fn write_file(&self, file: &str, contents: &[u8]) -> Result<(), OutputError> {
        let path = self.dir.join(file);
        io(&path, fs::write(&path, contents))
    }

    /// Marks the run finished: removes the marker.
    pub fn finish(self) -> Result<(), OutputError> {
        let marker = self.dir.join(INCOMPLETE_MARKER);
        io(&marker, fs::remove_file(&marker))
    }

    /// Marks the run failed: the marker now says why.
    pub fn fail(self, why: &str) {
        let marker = self.dir.join(INCOMPLETE_MARKER);
        // Best effort: the run has already failed; the caller reports `why` anyway.
        let _ = fs::write(marker, format!("this run failed: {why}\n"));
    }
}

/// One arm's stream of rows.
#[derive(Debug)]
pub struct PartWriter {
    path: PathBuf,
    w: Sink,
}

#[derive(Debug)]
enum Sink {
    Plain(BufWriter<File>),
    Gz(GzEncoder<BufWriter<File>>),
    Off,
}

impl PartWriter {
    /// Appends raw bytes (one or more complete rows).
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        match &mut self.w {
            Sink::Plain(w) => io(&self.path, w.write_all(bytes)),
            Sink::Gz(w) => io(&self.path, w.write_all(bytes)),
            Sink::Off => Ok(()),
        }
    }

    /// Whether written bytes go anywhere (callers skip formatting rows otherwise).
    pub fn is_on(&self) -> bool {
        !matches!(self.w, Sink::Off)
    }

    /// Flushes to disk (ending the gzip member of a compressed part).
    pub fn finish(self) -> Result<(), OutputError> {
        match self.w {
            Sink::Plain(mut w) => io(&self.path, w.flush()),
            Sink::Gz(w) => {
                let mut inner = io(&self.path, w.finish())?;
                io(&self.path, inner.flush())
            }
            Sink::Off => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_join_in_arm_order_and_marker_goes() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("run");
        let out = OutputDir::create(&dir).unwrap();
        assert!(dir.join(INCOMPLETE_MARKER).exists());
        let mut b = out.part_writer("x.csv", 1).unwrap();
        let mut a = out.part_writer("x.csv", 0).unwrap();
        b.write(b"b1\n").unwrap();
        a.write(b"a1\na2\n").unwrap();
        b.finish().unwrap();
        a.finish().unwrap();
        out.join_parts("x.csv", "h\n", 2).unwrap();
        assert_eq!(
            fs::read_to_string(dir.join("x.csv")).unwrap(),
            "h\na1\na2\nb1\n"
        );
        out.finish().unwrap();
        assert!(!dir.join(INCOMPLETE_MARKER).exists());
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn attempts_in_every_form_read_back_the_same() {
        for mode in [AttemptsMode::Full, AttemptsMode::Gz, AttemptsMode::Off] {
            let t = tempfile::tempdir().unwrap();
            let mut out = OutputDir::create(t.path()).unwrap();
            out.set_attempts(mode);
            let mut b = out.attempts_writer(1).unwrap();
            let mut a = out.attempts_writer(0).unwrap();
            assert_eq!(a.is_on(), mode != AttemptsMode::Off);
            a.write(b"{\"arm\":\"a\"}\n").unwrap();
            b.write(b"{\"arm\":\"b\"}\n{\"arm\":\"b\"}\n").unwrap();
            a.finish().unwrap();
            b.finish().unwrap();
            out.join_attempts(2).unwrap();
            let got = open_attempts(t.path()).unwrap();
            match mode {
                AttemptsMode::Off => assert!(got.is_none()),
                _ => {
                    let (path, r) = got.unwrap();
                    assert!(path.ends_with(mode.file_name().unwrap()));
                    let lines: Vec<String> = r.lines().map(|l| l.unwrap()).collect();
                    assert_eq!(
                        lines,
                        ["{\"arm\":\"a\"}", "{\"arm\":\"b\"}", "{\"arm\":\"b\"}"]
                    );
                }
            }
        }
        assert_eq!("gz".parse::<AttemptsMode>(), Ok(AttemptsMode::Gz));
        assert!("zip".parse::<AttemptsMode>().is_err());
    }

    #[test]
    fn failure_leaves_a_marker_that_says_why() {
        let t = tempfile::tempdir().unwrap();
        let out = OutputDir::create(t.path()).unwrap();
        out.fail("no route anywhere");
        let m = fs::read_to_string(t.path().join(INCOMPLETE_MARKER)).unwrap();
        assert!(m.contains("failed: no route anywhere"));
    }
}
