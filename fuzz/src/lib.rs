//! The logic of every fuzz target, as plain functions of a byte slice.
//!
//! Each `fuzz_targets/*.rs` binary is a one-line wrapper around one of these, so the
//! same code also runs on stable Rust: `crates/flotilla-cli/tests/fuzz_seeds.rs`
//! includes this file and feeds it the committed seed corpus (`fuzz/seeds/`) on every
//! `cargo test`, which keeps the targets compiling and the seeds meaningful without a
//! nightly toolchain.
//!
//! A target panics only when it finds a bug: a panic inside the library, an error that
//! does not name its file, a broken round trip, or a broken invariant. Inputs are read
//! with [`Input`], a cursor that yields zeros once the bytes run out, so every byte
//! string is a valid input and libFuzzer's mutations map onto small structured changes.

mod graph;
mod invoice;
mod network;
mod node;
mod onion;
mod payload_tlv;
mod router;
mod scenario;
mod wire;

pub use graph::{graph_cloth, graph_describegraph, graph_listchannels, graph_simln};
pub use invoice::invoice;
pub use network::network;
pub use node::{node_engine, node_setup};
pub use onion::onion_peel;
pub use payload_tlv::tlv_payload;
pub use router::router;
pub use scenario::scenario;
pub use wire::wire;

// ---------------------------------------------------------------------------------------
// Reading structured values from bytes
// ---------------------------------------------------------------------------------------

/// A cursor over the fuzzer's bytes; past the end every read is zero.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// True once every byte was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte.
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    /// The next two bytes, big-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// The next four bytes, big-endian.
    pub fn u32(&mut self) -> u32 {
        (self.u16() as u32) << 16 | self.u16() as u32
    }

    /// The next eight bytes, big-endian.
    pub fn u64(&mut self) -> u64 {
        (self.u32() as u64) << 32 | self.u32() as u64
    }

    /// A value in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 256 {
            self.u8() as usize % n
        } else {
            self.u32() as usize % n
        }
    }

    /// A boolean.
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// Up to `n` bytes (fewer at the end).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    /// A byte string of a length read first (at most `max`).
    pub fn var_bytes(&mut self, max: usize) -> &'a [u8] {
        let n = self.below(max + 1);
        self.bytes(n)
    }

    /// 32 bytes.
    pub fn array32(&mut self) -> [u8; 32] {
        let mut a = [0u8; 32];
        a[..].copy_from_slice(&pad::<32>(self.bytes(32)));
        a
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        self.bytes(self.data.len())
    }
}

pub(crate) fn pad<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a[..b.len()].copy_from_slice(b);
    a
}
