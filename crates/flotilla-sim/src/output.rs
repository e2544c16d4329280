//! The results directory: `payments.csv`, `attempts.jsonl`, `summary.json`.
//!
//! A run first writes an `INCOMPLETE` marker; it is removed only when every file is
//! complete, and replaced by the error when the run fails. So a directory is never
//! left half-written without a marker saying so. Rows stream to disk as they are
//! produced (memory stays flat in the number of payments): each arm writes its own
//! part files, joined in arm order at the end so the bytes do not depend on which
//! thread finished first.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Name of the marker that says the directory is not (yet) a finished run.
pub const INCOMPLETE_MARKER: &str = "INCOMPLETE";

/// Header of `payments.csv`: sim-ln's result columns first (`dispatch_time` is virtual
/// seconds since the run started; `htlc_count` the parts sent), then flotilla's: `parts`
/// is the number of parts that settled, `ttc_ms` is empty for failed payments, and
/// `liquidity_sat_seconds` is Σ amount × hold time over every HTLC of the payment.
pub const PAYMENTS_HEADER: &str =
    "source,destination,amount_msat,hash,dispatch_time,htlc_count,payment_outcome,\
arm,payment,fee_msat,attempts,parts,parts_sent,ttc_ms,failure_reason,liquidity_sat_seconds\n";

/// A results directory being written.
#[derive(Debug)]
pub struct OutputDir {
    dir: PathBuf,
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
        })
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
            w: BufWriter::with_capacity(1 << 16, f),
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
    w: BufWriter<File>,
}

impl PartWriter {
    /// Appends raw bytes (one or more complete rows).
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        io(&self.path, self.w.write_all(bytes))
    }

    /// Flushes to disk.
    pub fn finish(mut self) -> Result<(), OutputError> {
        io(&self.path, self.w.flush())
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
    fn failure_leaves_a_marker_that_says_why() {
        let t = tempfile::tempdir().unwrap();
        let out = OutputDir::create(t.path()).unwrap();
        out.fail("no route anywhere");
        let m = fs::read_to_string(t.path().join(INCOMPLETE_MARKER)).unwrap();
        assert!(m.contains("failed: no route anywhere"));
    }
}
