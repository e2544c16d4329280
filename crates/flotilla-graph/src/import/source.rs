//! The one door every graph file's bytes come through: read (or take from memory),
//! gunzip when the content starts with the gzip magic, and stop early at what cannot
//! be a graph.
//!
//! Bounded on purpose: a 2 MiB gzip bomb inflates to gigabytes, `/dev/urandom` never
//! ends, and a pipe can stream forever. So the content is read in chunks, its first
//! bytes are looked at as soon as they arrive (binary data is refused before another
//! chunk is read), and reading stops with an error at [`input_limit`] bytes of
//! (inflated) content. A UTF-8 byte-order mark, which some editors and Windows tools
//! write before JSON, is dropped here, so every reader accepts it.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use crate::error::{GraphError, Result};

pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// The default bound on a graph file's content after decompression: 1 GiB, twenty
/// times the largest mainnet snapshot we know of (the 2021 `listchannels` dump, 45 MB).
pub const DEFAULT_MAX_INPUT_MIB: u64 = 1024;

/// The environment variable that overrides [`DEFAULT_MAX_INPUT_MIB`], in MiB.
pub const MAX_INPUT_ENV: &str = "FLOTILLA_MAX_INPUT_MIB";

/// How much of the content is read before deciding whether it looks like a graph
/// (the first line of a CSV file must end within it).
const SNIFF_BYTES: usize = 64 * 1024;

/// The bound on a graph file's content, in bytes: `FLOTILLA_MAX_INPUT_MIB` MiB when
/// set, [`DEFAULT_MAX_INPUT_MIB`] otherwise.
pub fn input_limit() -> Result<u64> {
    match std::env::var(MAX_INPUT_ENV) {
        Err(_) => Ok(DEFAULT_MAX_INPUT_MIB << 20),
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(mib) if mib > 0 && mib <= u64::MAX >> 20 => Ok(mib << 20),
            _ => Err(GraphError::BadInputLimit(v)),
        },
    }
}

/// The file's content: gunzipped if it is gzip (detected from the content, not the
/// name), without a leading byte-order mark, at most [`input_limit`] bytes.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let limit = input_limit()?;
    let mut file = File::open(path).map_err(|e| GraphError::io(path, e))?;
    // Regular files say their size; pipes and devices do not (and may never end).
    let size = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    // The magic from the first two bytes, however the source delivers them (a pipe
    // may hand over one byte at a time); then those bytes and the rest, in order.
    let mut head = Vec::with_capacity(GZIP_MAGIC.len());
    (&mut file)
        .take(GZIP_MAGIC.len() as u64)
        .read_to_end(&mut head)
        .map_err(|e| GraphError::io(path, e))?;
    let gzip = head.starts_with(&GZIP_MAGIC);
    let reader = BufReader::with_capacity(SNIFF_BYTES, io::Cursor::new(head).chain(file));
    if gzip {
        bounded(
            path,
            flate2::bufread::MultiGzDecoder::new(reader),
            true,
            limit,
            None,
        )
    } else {
        bounded(path, reader, false, limit, size)
    }
}

/// Content already in memory, as [`read_bytes`] would return it for a file holding
/// `raw`: gunzipped, bounded, without a byte-order mark. Borrows when nothing changes.
pub(crate) fn content<'a>(path: &Path, raw: &'a [u8]) -> Result<Cow<'a, [u8]>> {
    let limit = input_limit()?;
    if raw.starts_with(&GZIP_MAGIC) {
        let out = bounded(
            path,
            flate2::bufread::MultiGzDecoder::new(raw),
            true,
            limit,
            None,
        )?;
        return Ok(Cow::Owned(out));
    }
    if raw.len() as u64 > limit {
        return Err(too_large(path, false, limit));
    }
    let raw = raw.strip_prefix(BOM).unwrap_or(raw);
    if let Verdict::Refuse(why) = sniff(raw, true) {
        return Err(GraphError::UnknownFormat {
            path: path.to_path_buf(),
            why,
        });
    }
    Ok(Cow::Borrowed(raw))
}

/// Reads `r` to the end in chunks, refusing binary content at the first chunk and
/// anything longer than `limit` bytes. `size` reserves room when the length is known.
fn bounded(
    path: &Path,
    mut r: impl Read,
    gzip: bool,
    limit: u64,
    size: Option<u64>,
) -> Result<Vec<u8>> {
    if size.is_some_and(|s| s > limit) {
        return Err(too_large(path, gzip, limit));
    }
    let mut out = Vec::with_capacity(size.unwrap_or(SNIFF_BYTES as u64) as usize);
    let mut chunk = vec![0u8; SNIFF_BYTES];
    let mut decided = false;
    let mut ws_end = 0;
    loop {
        let n = match r.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) if gzip => {
                return Err(GraphError::Gzip {
                    path: path.to_path_buf(),
                    source,
                })
            }
            Err(e) => return Err(GraphError::io(path, e)),
        };
        if n == 0 {
            break;
        }
        if (out.len() + n) as u64 > limit {
            return Err(too_large(path, gzip, limit));
        }
        out.extend_from_slice(&chunk[..n]);
        if !decided {
            // Leading whitespace is skipped once, not rescanned per chunk (an endless
            // stream of spaces must cost linear time until the limit).
            let body = out.strip_prefix(BOM).unwrap_or(&out);
            while ws_end < body.len() && body[ws_end].is_ascii_whitespace() {
                ws_end += 1;
            }
            // Judged once a full window of content has arrived (sources may deliver a
            // few bytes at a time), or at the end.
            if body.len() - ws_end >= SNIFF_BYTES {
                decided = judge(path, &body[ws_end..], false)?;
            }
        }
    }
    if !decided {
        let body = out.strip_prefix(BOM).unwrap_or(&out);
        judge(path, &body[ws_end.min(body.len())..], true)?;
    }
    if out.starts_with(BOM) {
        out.drain(..BOM.len());
    }
    Ok(out)
}

/// Runs [`sniff`] on `body`: `Ok(true)` when the content is text, `Ok(false)` when
/// more is needed, an error when it cannot be a graph.
fn judge(path: &Path, body: &[u8], complete: bool) -> Result<bool> {
    match sniff(body, complete) {
        Verdict::Text => Ok(true),
        Verdict::Undecided => Ok(false),
        Verdict::Refuse(why) => Err(GraphError::UnknownFormat {
            path: path.to_path_buf(),
            why,
        }),
    }
}

fn too_large(path: &Path, gzip: bool, limit: u64) -> GraphError {
    GraphError::TooLarge {
        path: path.to_path_buf(),
        limit_mib: limit >> 20,
        gzip,
    }
}

/// What the first bytes say.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// A JSON object or a line of text: let the format detection decide.
    Text,
    /// Only whitespace so far (or a first line still going): read on.
    Undecided,
    /// Cannot be a graph file of any format.
    Refuse(String),
}

/// Looks at the start of the content (byte-order mark removed). `complete` says the
/// content ends here. Every graph format is text: a JSON object or CSV lines. Binary
/// data (a NUL or another control byte, or bytes that are not UTF-8) is refused at
/// once; so is a first line that goes on past [`SNIFF_BYTES`] without being JSON.
fn sniff(body: &[u8], complete: bool) -> Verdict {
    let Some(start) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Verdict::Undecided;
    };
    let rest = &body[start..];
    let line_end = rest.iter().position(|&b| b == b'\n');
    let line = &rest[..line_end.unwrap_or(rest.len()).min(SNIFF_BYTES)];
    if let Some(bad) = binary_at(line) {
        let shown: Vec<String> = rest
            .iter()
            .take(bad.clamp(8, 16))
            .map(|b| format!("{b:02x}"))
            .collect();
        return Verdict::Refuse(format!(
            "binary content (starts with bytes {}), not JSON or CSV text",
            shown.join(" ")
        ));
    }
    if rest[0] == b'{' || line_end.is_some() || complete {
        return Verdict::Text;
    }
    if rest.len() >= SNIFF_BYTES {
        return Verdict::Refuse(format!(
            "the first line is longer than {} KiB and not a JSON object: not a graph file",
            SNIFF_BYTES / 1024
        ));
    }
    Verdict::Undecided
}

/// The position of the first byte that text does not hold: a control byte other than
/// tab and carriage return, or invalid UTF-8 (a sequence cut at the end of `line` is
/// fine: the rest may follow).
fn binary_at(line: &[u8]) -> Option<usize> {
    if let Some(i) = line
        .iter()
        .position(|&b| b < 0x20 && b != b'\t' && b != b'\r' || b == 0x7f)
    {
        return Some(i);
    }
    match std::str::from_utf8(line) {
        Ok(_) => None,
        Err(e) if e.error_len().is_none() => None,
        Err(e) => Some(e.valid_up_to()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflation_stops_at_the_limit() {
        let p = Path::new("bomb.json.gz");
        let mut big = br#"{"nodes":[],"edges":[]}"#.to_vec();
        big.resize(3 << 20, b' ');
        let gz = gzip(&big);
        assert!(gz.len() < 64 << 10, "{}", gz.len());
        let e = bounded(
            p,
            flate2::bufread::MultiGzDecoder::new(&gz[..]),
            true,
            1 << 20,
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("more than 1 MiB") && e.contains(MAX_INPUT_ENV),
            "{e}"
        );
        let ok = bounded(
            p,
            flate2::bufread::MultiGzDecoder::new(&gz[..]),
            true,
            4 << 20,
            None,
        )
        .unwrap();
        assert_eq!(ok.len(), 3 << 20);
    }

    #[test]
    fn endless_binary_is_refused_after_the_first_chunk() {
        // A reader that never ends, like /dev/urandom: refused without reading on.
        struct Endless(u64);
        impl Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.0 += 1;
                assert!(self.0 < 4, "kept reading an endless binary stream");
                buf.fill(0x8f);
                Ok(buf.len())
            }
        }
        let e = bounded(Path::new("/dev/urandom"), Endless(0), false, u64::MAX, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("binary content (starts with bytes 8f 8f"), "{e}");
        // Endless whitespace is not binary, so it runs into the limit.
        struct Spaces;
        impl Read for Spaces {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                buf.fill(b' ');
                Ok(buf.len())
            }
        }
        let e = bounded(Path::new("p"), Spaces, false, 1 << 20, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than 1 MiB"), "{e}");
    }

    #[test]
    fn byte_order_mark_is_dropped_and_text_passes() {
        let p = Path::new("g.json");
        let out = bounded(p, &b"\xef\xbb\xbf{\"edges\":[]}"[..], false, 1 << 20, None).unwrap();
        assert_eq!(out, b"{\"edges\":[]}");
        assert_eq!(&*content(p, b"\xef\xbb\xbf{}").unwrap(), b"{}");
        assert_eq!(
            &*content(p, &gzip(b"\xef\xbb\xbfid\n1\n")).unwrap(),
            b"id\n1\n"
        );
        assert_eq!(sniff("id,naïve\r\n".as_bytes(), false), Verdict::Text);
        assert_eq!(sniff(b"   \n  ", false), Verdict::Undecided);
        assert!(matches!(sniff(b"\x00\x00", false), Verdict::Refuse(_)));
        assert!(matches!(sniff(b"id\xff\xfe\n", false), Verdict::Refuse(_)));
        assert!(matches!(
            sniff(&vec![b'a'; SNIFF_BYTES], false),
            Verdict::Refuse(_)
        ));
    }
}
