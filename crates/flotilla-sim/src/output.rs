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
//!
//! A directory is claimed before anything is written into it ([`claim`],
//! [`claim_new`]): created atomically (two runs started in the same second never share
//! one), and an existing directory only when it is empty or, with `force`, when it is
//! a previous run's to replace. So a run never writes into another run's directory.

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

/// Why a results directory could not be claimed.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// The directory holds files and replacing was not asked for.
    #[error("{}: already holds files (a previous run?); pass --force to replace it, or choose another --out", .0.display())]
    NotEmpty(PathBuf),
    /// `force` was asked for a directory that is not a results directory.
    #[error("{}: not a flotilla results directory (no run.json, no {INCOMPLETE_MARKER} marker); --force replaces only those, choose another --out", .0.display())]
    NotResults(PathBuf),
    /// The path exists and is not a directory.
    #[error("{}: exists and is not a directory; choose another --out", .0.display())]
    NotDir(PathBuf),
    /// Another run claimed it first.
    #[error("{}: another run is writing into it", .0.display())]
    Taken(PathBuf),
    /// The OS refused.
    #[error(transparent)]
    Io(#[from] OutputError),
}

const MARKER_RUNNING: &str = "this run has not finished: the files here are partial\n";

/// Writes the `INCOMPLETE` marker into `dir` unless one is there already: the
/// atomic step that makes `dir` this run's.
fn claim_marker(dir: &Path) -> Result<(), ClaimError> {
    let marker = dir.join(INCOMPLETE_MARKER);
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&marker)
    {
        Ok(mut f) => io(&marker, f.write_all(MARKER_RUNNING.as_bytes())).map_err(Into::into),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(ClaimError::Taken(dir.to_path_buf()))
        }
        Err(e) => Err(oerr(&marker, e).into()),
    }
}

/// Claims `dir` for a new run: creates it (and its parents), or takes it when it
/// exists and is empty; with `force`, replaces a previous run's directory (one with
/// `run.json` or an `INCOMPLETE` marker) and nothing else. Leaves the `INCOMPLETE`
/// marker in it.
pub fn claim(dir: &Path, force: bool) -> Result<(), ClaimError> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        io(parent, fs::create_dir_all(parent))?;
    }
    match fs::create_dir(dir) {
        Ok(()) => return claim_marker(dir),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(oerr(dir, e).into()),
    }
    if !dir.is_dir() {
        return Err(ClaimError::NotDir(dir.to_path_buf()));
    }
    let mut entries = io(dir, fs::read_dir(dir))?;
    if entries.next().is_none() {
        return claim_marker(dir);
    }
    if !force {
        return Err(ClaimError::NotEmpty(dir.to_path_buf()));
    }
    let ours =
        dir.join(crate::manifest::MANIFEST_FILE).is_file() || dir.join(INCOMPLETE_MARKER).is_file();
    if !ours {
        return Err(ClaimError::NotResults(dir.to_path_buf()));
    }
    io(dir, fs::remove_dir_all(dir))?;
    match fs::create_dir(dir) {
        Ok(()) => claim_marker(dir),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(ClaimError::Taken(dir.to_path_buf()))
        }
        Err(e) => Err(oerr(dir, e).into()),
    }
}

/// Claims a new directory `parent/STAMP-SUFFIX` (`STAMP` a readable time, `SUFFIX`
/// from `suffix`, drawn again while the name is taken). Returns its path.
pub fn claim_new(
    parent: &Path,
    stamp: &str,
    mut suffix: impl FnMut() -> String,
) -> Result<PathBuf, ClaimError> {
    io(parent, fs::create_dir_all(parent))?;
    let mut last = None;
    for _ in 0..64 {
        let dir = parent.join(format!("{stamp}-{}", suffix()));
        match fs::create_dir(&dir) {
            Ok(()) => {
                claim_marker(&dir)?;
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(oerr(&dir, e).into()),
        }
    }
    let e = last.unwrap_or_else(|| std::io::Error::other("no free name"));
    Err(oerr(parent, e).into())
}

/// `unix_secs` as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn iso_utc(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    // Civil date from days since 1970-01-01 (the proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
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

fn oerr(path: &Path, source: std::io::Error) -> OutputError {
    OutputError {
        path: path.to_path_buf(),
        source,
    }
}

fn io<T>(path: &Path, r: std::io::Result<T>) -> Result<T, OutputError> {
    r.map_err(|source| OutputError {
        path: path.to_path_buf(),
        source,
    })
}

impl OutputDir {
    /// Creates `dir` (and parents) and writes the `INCOMPLETE` marker. (A directory
    /// [`claim`]ed already has it; this keeps it.)
    pub fn create(dir: &Path) -> Result<Self, OutputError> {
        io(dir, fs::create_dir_all(dir))?;
        let marker = dir.join(INCOMPLETE_MARKER);
        io(&marker, fs::write(&marker, MARKER_RUNNING))?;
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
            // Level 1: deflate's fastest level. At the default level the compression
            // took 6-7% of a single-arm run's CPU; level 1 takes a quarter of that
            // for a file about 1.5 times the size (the lines are the same). The gzip
            // header carries no time stamp, so the bytes are reproducible.
            part.w = Sink::Gz(GzEncoder::new(w, flate2::Compression::fast()));
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
    fn iso_dates_match_known_instants() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso_utc(1_796_513_045), "2026-12-05T23:24:05Z");
    }

    #[test]
    fn a_directory_is_claimed_once_and_replaced_only_with_force() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("a/b");
        claim(&dir, false).unwrap();
        assert!(dir.join(INCOMPLETE_MARKER).is_file());
        assert!(matches!(claim(&dir, false), Err(ClaimError::NotEmpty(_))));
        // Forced, a previous run's directory is replaced: the old files go.
        fs::write(dir.join("payments.csv"), "old").unwrap();
        claim(&dir, true).unwrap();
        assert!(!dir.join("payments.csv").exists());
        // An empty directory is taken; one with foreign files is not, even forced.
        let empty = t.path().join("empty");
        fs::create_dir(&empty).unwrap();
        claim(&empty, false).unwrap();
        let foreign = t.path().join("home");
        fs::create_dir(&foreign).unwrap();
        fs::write(foreign.join("notes.txt"), "mine").unwrap();
        assert!(matches!(
            claim(&foreign, true),
            Err(ClaimError::NotResults(_))
        ));
        assert!(foreign.join("notes.txt").is_file());
    }

    #[test]
    fn new_names_are_drawn_again_while_taken() {
        let t = tempfile::tempdir().unwrap();
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("{}", n / 2)
        };
        let a = claim_new(t.path(), "T", &mut next).unwrap();
        let b = claim_new(t.path(), "T", &mut next).unwrap();
        assert_ne!(a, b);
        assert!(a.join(INCOMPLETE_MARKER).is_file() && b.join(INCOMPLETE_MARKER).is_file());
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
