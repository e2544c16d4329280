//! CLoTH's three CSV files: `nodes`, `channels` and `edges`.
//!
//! CLoTH (Conoscenti et al., github.com/marcono/cloth; `src/network.c`
//! `write_network_files` and `generate_network_from_files`, and the
//! `*_template.csv` files) describes a network as:
//!
//! - `nodes`: `id`
//! - `channels`: `id,edge1_id,edge2_id,node1_id,node2_id,capacity`
//! - `edges`: `id,channel_id,counter_edge_id,from_node_id,to_node_id,balance,fee_base,fee_proportional,min_htlc,timelock`
//!
//! Amounts are msat; `edge1` is the direction from `node1` to `node2`, and an edge's
//! `balance` is what its `from` node can send, so a channel's two balances sum to its
//! capacity (CLoTH's generator splits the capacity that way). The templates spell
//! units in the header (`capacity(millisat)`); a parenthesised suffix is ignored.
//! CLoTH itself reads columns by position and skips the header; we match them by
//! name so that a reordered or incomplete file is an error, not garbage.
//!
//! What does not map one to one:
//! - CLoTH nodes have no keys. Each gets a deterministic key derived from its id
//!   (see [`synthetic_pubkey`]) and the id as its alias, so `17` still finds node 17.
//! - The channel id becomes the short channel id (CLoTH ids are plain integers, like
//!   those of the bundled 2026 snapshot), so it must be non-negative.
//! - CLoTH has no `htlc_maximum_msat` and no disabled flag: imported policies
//!   allow up to the capacity and are enabled.
//! - Capacities are kept in satoshis, so one that is not a multiple of 1000 msat is
//!   refused rather than rounded.
//!
//! Node, channel and edge ids may be any 64-bit integers: they are mapped to our
//! dense indices. Every reference is checked: an edge must name a channel that lists
//! it, run between that channel's nodes in its direction, and name the other edge as
//! its counter edge.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use bitcoin::hashes::{sha256, Hash, HashEngine};
use serde::de::value::{Error as ValueError, StrDeserializer};

use crate::error::{GraphError, Result};
use crate::graph::{BuildError, Graph, GraphBuilder};
use crate::import::numbers::{u16_flex, u32_flex, u64_flex};
use crate::import::read_bytes;
use crate::liquidity::Balances;
use crate::types::{Channel, Node, NodeIdx, NodePubkey, Policy, ShortChannelId};

/// The file names CLoTH uses, plain (what it writes) first, then the `_ln` names of
/// the Lightning snapshot it ships.
const NAME_SETS: [[&str; 3]; 2] = [
    ["nodes.csv", "channels.csv", "edges.csv"],
    ["nodes_ln.csv", "channels_ln.csv", "edges_ln.csv"],
];

const NODE_COLUMNS: [&str; 1] = ["id"];
const CHANNEL_COLUMNS: [&str; 6] = [
    "id", "edge1_id", "edge2_id", "node1_id", "node2_id", "capacity",
];
const EDGE_COLUMNS: [&str; 10] = [
    "id",
    "channel_id",
    "counter_edge_id",
    "from_node_id",
    "to_node_id",
    "balance",
    "fee_base",
    "fee_proportional",
    "min_htlc",
    "timelock",
];

/// The three files of a CLoTH graph.
#[derive(Debug, Clone)]
pub struct ClothPaths {
    /// `nodes` CSV.
    pub nodes: PathBuf,
    /// `channels` CSV.
    pub channels: PathBuf,
    /// `edges` CSV.
    pub edges: PathBuf,
}

impl ClothPaths {
    /// Finds the three files from a directory or one of them.
    ///
    /// A directory must hold `nodes.csv`, `channels.csv` and `edges.csv` (what CLoTH
    /// writes; preferred) or `nodes_ln.csv`, `channels_ln.csv` and `edges_ln.csv`
    /// (the snapshot CLoTH ships). A file's name must contain `nodes`, `channels` or
    /// `edges`; its siblings are found by swapping that word, so `net_nodes.csv.gz`
    /// finds `net_channels.csv.gz` and `net_edges.csv.gz`.
    pub fn locate(path: &Path) -> Result<Self> {
        if path.is_dir() {
            for [n, c, e] in NAME_SETS {
                let paths = ClothPaths {
                    nodes: path.join(n),
                    channels: path.join(c),
                    edges: path.join(e),
                };
                if paths.all().iter().all(|p| p.is_file()) {
                    return Ok(paths);
                }
            }
            return Err(GraphError::UnknownFormat {
                path: path.to_path_buf(),
                why: "a directory must hold CLoTH's nodes.csv, channels.csv and edges.csv \
                      (or nodes_ln.csv, channels_ln.csv and edges_ln.csv)"
                    .into(),
            });
        }
        let not_cloth = || GraphError::UnknownFormat {
            path: path.to_path_buf(),
            why: "a CLoTH file name must contain `nodes`, `channels` or `edges`".into(),
        };
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(not_cloth)?;
        // The role word that appears last names the file's role (`edges_nodes.csv` is a nodes file).
        let (at, role) = ["nodes", "channels", "edges"]
            .into_iter()
            .filter_map(|w| name.rfind(w).map(|at| (at, w)))
            .max()
            .ok_or_else(not_cloth)?;
        let sibling = |word: &str| {
            path.with_file_name(format!("{}{word}{}", &name[..at], &name[at + role.len()..]))
        };
        let paths = ClothPaths {
            nodes: sibling("nodes"),
            channels: sibling("channels"),
            edges: sibling("edges"),
        };
        for p in paths.all() {
            if !p.is_file() {
                return Err(GraphError::io(
                    p,
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("CLoTH needs this file next to {}", path.display()),
                    ),
                ));
            }
        }
        Ok(paths)
    }

    fn all(&self) -> [&Path; 3] {
        [&self.nodes, &self.channels, &self.edges]
    }
}

/// The key CLoTH node `id` gets: the public key of the secret
/// `sha256("flotilla-cloth-node" || id as 8 little-endian bytes)`. In the
/// negligible case that the hash is not a valid secret, a little-endian `u32`
/// counter (1, 2, …) is appended until it is. Deterministic, so the same file always
/// gives the same keys, and valid, so the graph needs no special case for CLoTH.
pub(crate) fn synthetic_pubkey(id: i64) -> NodePubkey {
    let mut counter: u32 = 0;
    loop {
        let mut engine = sha256::Hash::engine();
        engine.input(b"flotilla-cloth-node");
        engine.input(&id.to_le_bytes());
        if counter > 0 {
            engine.input(&counter.to_le_bytes());
        }
        if let Some(key) =
            NodePubkey::from_secret(sha256::Hash::from_engine(engine).to_byte_array())
        {
            return key;
        }
        counter = counter.wrapping_add(1);
    }
}

/// One CSV file, loaded, with the positions of the columns we need.
struct Table {
    path: PathBuf,
    reader: csv::Reader<std::io::Cursor<Vec<u8>>>,
    /// `cols[k]` is the position of `names[k]` in the header.
    cols: Vec<usize>,
    names: &'static [&'static str],
}

/// A header name without surrounding space, byte-order mark, case or unit suffix:
/// `Balance(millisat)` → `balance`.
fn canonical(header: &str) -> String {
    let h = header.trim().trim_start_matches('\u{feff}');
    let h = h.split('(').next().unwrap_or(h);
    h.trim().to_ascii_lowercase()
}

impl Table {
    /// `bytes` is the file's (decompressed) content; `path` names it in errors.
    fn open(path: &Path, bytes: Vec<u8>, names: &'static [&'static str]) -> Result<Table> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(std::io::Cursor::new(bytes));
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| csv_error(path, e))?
            .iter()
            .map(canonical)
            .collect();
        let mut cols = Vec::with_capacity(names.len());
        for name in names {
            let at = header.iter().position(|h| h == name).ok_or_else(|| {
                GraphError::invalid(
                    path,
                    "line 1 (header)",
                    Some(name),
                    format!(
                        "missing column `{name}`; CLoTH's header is `{}`",
                        names.join(",")
                    ),
                )
            })?;
            cols.push(at);
        }
        Ok(Table {
            path: path.to_path_buf(),
            reader,
            cols,
            names,
        })
    }

    /// Calls `f` on every data row, in file order.
    fn for_each(&mut self, mut f: impl FnMut(&Row) -> Result<()>) -> Result<()> {
        let mut rec = csv::StringRecord::new();
        loop {
            match self.reader.read_record(&mut rec) {
                Ok(false) => return Ok(()),
                Ok(true) => {}
                Err(e) => return Err(csv_error(&self.path, e)),
            }
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            f(&Row {
                path: &self.path,
                line,
                rec: &rec,
                cols: &self.cols,
                names: self.names,
            })?;
        }
    }
}

fn csv_error(path: &Path, e: csv::Error) -> GraphError {
    let what = format!("invalid CSV: {e}");
    match e.into_kind() {
        csv::ErrorKind::Io(source) => GraphError::io(path, source),
        _ => GraphError::Syntax {
            path: path.to_path_buf(),
            what,
        },
    }
}

/// One data row; `k` arguments index the table's column `names`.
struct Row<'a> {
    path: &'a Path,
    line: u64,
    rec: &'a csv::StringRecord,
    cols: &'a [usize],
    names: &'static [&'static str],
}

impl Row<'_> {
    fn record(&self) -> String {
        format!("line {}", self.line)
    }

    fn err(&self, k: usize, message: impl Into<String>) -> GraphError {
        GraphError::invalid(self.path, self.record(), Some(self.names[k]), message)
    }

    fn text(&self, k: usize) -> Result<&str> {
        self.rec.get(self.cols[k]).ok_or_else(|| {
            self.err(
                k,
                format!(
                    "missing value: the line has {} fields, the header names column {} (truncated file?)",
                    self.rec.len(),
                    self.cols[k] + 1
                ),
            )
        })
    }

    /// An id: any integer that fits 64 bits, negative ones included.
    fn id(&self, k: usize) -> Result<i64> {
        let s = self.text(k)?;
        s.parse::<i64>().map_err(|e| match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                self.err(k, format!("id {s:?} does not fit in 64 bits"))
            }
            _ => self.err(k, format!("{s:?} is not an integer id")),
        })
    }

    /// An unsigned amount, read by the JSON importers' number parser so that the
    /// messages (negative, not an integer, overflow) are the same.
    fn u64(&self, k: usize) -> Result<u64> {
        let s = self.text(k)?;
        u64_flex(StrDeserializer::<ValueError>::new(s)).map_err(|e| self.err(k, e.to_string()))
    }

    /// Like [`Row::u64`], at most `u32::MAX`.
    fn u32(&self, k: usize) -> Result<u32> {
        let s = self.text(k)?;
        u32_flex(StrDeserializer::<ValueError>::new(s)).map_err(|e| self.err(k, e.to_string()))
    }

    /// Like [`Row::u64`], at most `u16::MAX`.
    fn u16(&self, k: usize) -> Result<u16> {
        let s = self.text(k)?;
        u16_flex(StrDeserializer::<ValueError>::new(s)).map_err(|e| self.err(k, e.to_string()))
    }
}

/// A `channels` row, resolved.
struct ClothChannel {
    line: u64,
    id: i64,
    edge_ids: [i64; 2],
    nodes: [NodeIdx; 2],
    node_ids: [i64; 2],
    capacity_msat: u64,
    /// Filled from `edges`: policy, balance and line per direction.
    sides: [Option<(Policy, u64, u64)>; 2],
}

/// Reads a CLoTH triple.
pub(crate) fn read(paths: &ClothPaths) -> Result<(Graph, Balances)> {
    parse(
        paths,
        read_bytes(&paths.nodes)?,
        read_bytes(&paths.channels)?,
        read_bytes(&paths.edges)?,
    )
}

/// Parses a CLoTH triple already in memory (decompressed); `paths` only name the files
/// in errors. The same checks as [`read`]: the fuzz targets and in-memory callers
/// reach exactly the code that reads files.
pub fn parse_cloth(
    paths: &ClothPaths,
    nodes_csv: Vec<u8>,
    channels_csv: Vec<u8>,
    edges_csv: Vec<u8>,
) -> Result<(Graph, Balances)> {
    parse(paths, nodes_csv, channels_csv, edges_csv)
}

fn parse(
    paths: &ClothPaths,
    nodes_csv: Vec<u8>,
    channels_csv: Vec<u8>,
    edges_csv: Vec<u8>,
) -> Result<(Graph, Balances)> {
    let mut b = GraphBuilder::new();

    // nodes: id → (index, line)
    let mut nodes: HashMap<i64, (NodeIdx, u64)> = HashMap::new();
    let mut table = Table::open(&paths.nodes, nodes_csv, &NODE_COLUMNS)?;
    table.for_each(|row| {
        let id = row.id(0)?;
        if let Some((_, first)) = nodes.get(&id) {
            return Err(row.err(0, format!("duplicate node id {id} (first on line {first})")));
        }
        let mut node = Node::bare(synthetic_pubkey(id));
        node.alias = id.to_string();
        let idx = b.add_node(node).map_err(|e| row.err(0, e.to_string()))?;
        nodes.insert(id, (idx, row.line));
        Ok(())
    })?;

    // channels, in file order; edge id → channel position.
    let mut channels: Vec<ClothChannel> = Vec::new();
    let mut channel_at: HashMap<i64, usize> = HashMap::new();
    let mut edge_owner: HashMap<i64, usize> = HashMap::new();
    let nodes_file = paths.nodes.display().to_string();
    let mut table = Table::open(&paths.channels, channels_csv, &CHANNEL_COLUMNS)?;
    table.for_each(|row| {
        let id = row.id(0)?;
        if id < 0 {
            return Err(row.err(0, format!("channel id {id} is negative; it becomes the short channel id")));
        }
        if let Some(&c) = channel_at.get(&id) {
            return Err(row.err(0, format!("duplicate channel id {id} (first on line {})", channels[c].line)));
        }
        let edge_ids = [row.id(1)?, row.id(2)?];
        if edge_ids[0] == edge_ids[1] {
            return Err(row.err(2, format!("edge2_id {} equals edge1_id", edge_ids[1])));
        }
        for (k, e) in [(1, edge_ids[0]), (2, edge_ids[1])] {
            if let Some(&c) = edge_owner.get(&e) {
                let other = &channels[c];
                return Err(row.err(
                    k,
                    format!("edge id {e} already belongs to channel {} (line {})", other.id, other.line),
                ));
            }
        }
        let node_ids = [row.id(3)?, row.id(4)?];
        let mut ends = [NodeIdx(0); 2];
        for (s, k) in [(0, 3), (1, 4)] {
            ends[s] = nodes
                .get(&node_ids[s])
                .map(|&(n, _)| n)
                .ok_or_else(|| row.err(k, format!("unknown node id {} (not in {nodes_file})", node_ids[s])))?;
        }
        if ends[0] == ends[1] {
            return Err(row.err(4, format!("channel from node {} to itself", node_ids[0])));
        }
        let capacity_msat = row.u64(5)?;
        if capacity_msat % 1000 != 0 {
            return Err(row.err(
                5,
                format!("capacity {capacity_msat} msat is not a whole number of satoshis (flotilla keeps capacities in sat)"),
            ));
        }
        let at = channels.len();
        channel_at.insert(id, at);
        edge_owner.insert(edge_ids[0], at);
        edge_owner.insert(edge_ids[1], at);
        channels.push(ClothChannel {
            line: row.line,
            id,
            edge_ids,
            nodes: ends,
            node_ids,
            capacity_msat,
            sides: [None, None],
        });
        Ok(())
    })?;

    // edges: each fills one side of the channel that lists it.
    let channels_file = paths.channels.display().to_string();
    let mut table = Table::open(&paths.edges, edges_csv, &EDGE_COLUMNS)?;
    table.for_each(|row| {
        let id = row.id(0)?;
        let channel_id = row.id(1)?;
        let at = *channel_at
            .get(&channel_id)
            .ok_or_else(|| row.err(1, format!("unknown channel id {channel_id} (not in {channels_file})")))?;
        let ch = &mut channels[at];
        let dir = match ch.edge_ids.iter().position(|&e| e == id) {
            Some(d) => d,
            None => {
                return Err(row.err(
                    0,
                    format!(
                        "edge {id} is not an edge of channel {channel_id}, whose edges are {} and {} ({channels_file} line {})",
                        ch.edge_ids[0], ch.edge_ids[1], ch.line
                    ),
                ))
            }
        };
        if let Some((_, _, first)) = ch.sides[dir] {
            return Err(row.err(0, format!("duplicate edge id {id} (first on line {first})")));
        }
        let counter = row.id(2)?;
        if counter != ch.edge_ids[1 - dir] {
            return Err(row.err(
                2,
                format!("counter edge {counter} is not the other edge of channel {channel_id} ({})", ch.edge_ids[1 - dir]),
            ));
        }
        let (from, to) = (row.id(3)?, row.id(4)?);
        for (k, got, want) in [(3, from, ch.node_ids[dir]), (4, to, ch.node_ids[1 - dir])] {
            if got != want {
                let why = if nodes.contains_key(&got) { "" } else { "unknown node id; " };
                return Err(row.err(
                    k,
                    format!(
                        "{why}node {got} does not match channel {channel_id}: edge{} runs from node {} to node {}",
                        dir + 1,
                        ch.node_ids[dir],
                        ch.node_ids[1 - dir]
                    ),
                ));
            }
        }
        let balance = row.u64(5)?;
        let policy = Policy {
            fee_base_msat: row.u32(6)?,
            fee_rate_ppm: row.u32(7)?,
            htlc_minimum_msat: row.u64(8)?,
            cltv_expiry_delta: row.u16(9)?,
            htlc_maximum_msat: ch.capacity_msat,
            disabled: false,
            last_update: 0,
        };
        ch.sides[dir] = Some((policy, balance, row.line));
        Ok(())
    })?;

    // Assemble, in channel file order.
    let edges_file = paths.edges.display().to_string();
    let mut balances = Vec::with_capacity(channels.len() * 2);
    for ch in &channels {
        let record = || format!("line {}", ch.line);
        let mut policies = [None, None];
        for d in 0..2 {
            let Some((policy, balance, _)) = ch.sides[d] else {
                return Err(GraphError::invalid(
                    &paths.channels,
                    record(),
                    Some(CHANNEL_COLUMNS[1 + d]),
                    format!(
                        "edge {} of channel {} is missing from {edges_file}",
                        ch.edge_ids[d], ch.id
                    ),
                ));
            };
            policies[d] = Some(policy);
            balances.push(balance);
        }
        let sum = balances[balances.len() - 2] as u128 + balances[balances.len() - 1] as u128;
        if sum != ch.capacity_msat as u128 {
            let lines = ch.sides.map(|s| s.map(|(_, _, l)| l).unwrap_or(0));
            return Err(GraphError::invalid(
                &paths.channels,
                record(),
                Some("capacity"),
                format!(
                    "channel {}: the balances of edges {} ({edges_file} line {}) and {} (line {}) sum to {sum} msat, not the capacity {} msat",
                    ch.id, ch.edge_ids[0], lines[0], ch.edge_ids[1], lines[1], ch.capacity_msat
                ),
            ));
        }
        b.add_channel(Channel {
            scid: ShortChannelId(ch.id as u64),
            nodes: ch.nodes,
            capacity_sat: ch.capacity_msat / 1000,
            policies,
            chan_point: None,
            last_update: 0,
        })
        .map_err(|e| {
            let field = match e {
                BuildError::CapacityAboveSupply { .. } => "capacity",
                _ => "id",
            };
            GraphError::invalid(&paths.channels, record(), Some(field), e.to_string())
        })?;
    }
    Ok((b.build(), Balances::from_vec(balances)))
}
