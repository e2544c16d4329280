//! Durability: every input the engine consumes is logged, with its clock, in the
//! same SQLite transaction as the messages it makes the node send, before any of them
//! leaves; a restart replays the log into a fresh engine.
//!
//! # The message stream between two peers
//!
//! Each node numbers the engine messages it sends to a peer (0, 1, 2, … per peer,
//! for the life of the node) and keeps each in an outbox table until the peer has
//! consumed it; it also counts the peer's messages it consumed (`in_next`), in the
//! same transaction as the input. After every (re)connection both sides send
//! `channel_reestablish` with their `in_next`; each then re-sends, in order, every
//! message of its outbox from the number the peer asked for, drops the ones below it,
//! and only then sends new ones; on a connection already re-established, the same
//! message every few seconds is an acknowledgement that lets the outbox drop what was
//! consumed. So each side consumes every message of the other
//! exactly once and in order, across disconnections and `kill -9`, and the two engines
//! stay as consistent as if the connection had never dropped. This is BOLT 2's
//! `channel_reestablish` simplified: one stream per peer rather than per channel,
//! counted in messages rather than commitment numbers, and, as there is no commitment
//! transaction, nothing to compare but the positions.
//!
//! # The log
//!
//! `inputs` holds every input in order (see [`super::input`]) with the clock it was
//! applied at. There is no snapshot yet: a start replays the whole log, which takes
//! time in proportion to the node's history.
//!
//! An input is logged after the engine applied it, by the daemon's committer
//! (`daemon::pipeline`), possibly together with inputs applied after it; nothing it
//! caused leaves the node before that transaction commits.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension};

use crate::error::NodeError;
use crate::store::Store;

/// The tables (schema version 3).
pub const SCHEMA: &str = "
CREATE TABLE inputs (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    input TEXT NOT NULL
);
CREATE TABLE outbox (
    peer TEXT NOT NULL,
    seq INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (peer, seq)
);
CREATE TABLE streams (
    peer TEXT PRIMARY KEY,
    out_next INTEGER NOT NULL,
    in_next INTEGER NOT NULL
);";

/// Where a peer's two streams stand.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Stream {
    /// The number the next message to the peer gets.
    pub out_next: u64,
    /// The number of the next message from the peer this node will consume.
    pub in_next: u64,
}

/// Committed messages with the numbers they got: (peer, number, bytes).
pub type Numbered = Vec<(String, u64, Vec<u8>)>;

/// One input to log: clock (µs), its JSON, the peer it was consumed from, and the
/// messages it makes the node send (peer, bytes).
pub type Logged = (
    u64,
    serde_json::Value,
    Option<String>,
    Vec<(String, Vec<u8>)>,
);

impl Store {
    /// Every stream's position.
    pub fn streams(&self) -> Result<HashMap<String, Stream>, NodeError> {
        let conn = self.conn();
        let mut st = conn
            .prepare("SELECT peer, out_next, in_next FROM streams")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Stream {
                        out_next: r.get::<_, i64>(1)? as u64,
                        in_next: r.get::<_, i64>(2)? as u64,
                    },
                ))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Logs `input` applied at `at` (µs), counts it as consumed from `consumed_from`
    /// when it is a peer's message, and queues `sends` (peer, bytes) in the outbox
    /// under their numbers, all in one transaction. Returns the numbered messages.
    pub fn commit_input(
        &self,
        at: u64,
        input: &serde_json::Value,
        consumed_from: Option<&str>,
        sends: Vec<(String, Vec<u8>)>,
    ) -> Result<Numbered, NodeError> {
        self.commit_inputs(vec![(
            at,
            input.clone(),
            consumed_from.map(str::to_string),
            sends,
        )])
    }

    /// Several inputs, in order, in one transaction (a group commit: one `fsync` for
    /// everything that arrived together). Each peer's stream position is read once
    /// and written once per transaction, and every statement is prepared once per
    /// connection.
    pub fn commit_inputs(&self, batch: Vec<Logged>) -> Result<Numbered, NodeError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let out = Self::write_inputs(&tx, batch).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    fn write_inputs(tx: &rusqlite::Transaction, batch: Vec<Logged>) -> rusqlite::Result<Numbered> {
        let mut streams: HashMap<String, Stream> = HashMap::new();
        let mut read =
            tx.prepare_cached("SELECT out_next, in_next FROM streams WHERE peer = ?1")?;
        let mut stream =
            |peer: &str, streams: &mut HashMap<String, Stream>| -> rusqlite::Result<()> {
                if !streams.contains_key(peer) {
                    let s = read
                        .query_row(params![peer], |r| {
                            Ok(Stream {
                                out_next: r.get::<_, i64>(0)? as u64,
                                in_next: r.get::<_, i64>(1)? as u64,
                            })
                        })
                        .optional()?
                        .unwrap_or_default();
                    streams.insert(peer.to_string(), s);
                }
                Ok(())
            };
        let mut log = tx.prepare_cached("INSERT INTO inputs (at, input) VALUES (?1, ?2)")?;
        let mut queue =
            tx.prepare_cached("INSERT INTO outbox (peer, seq, bytes) VALUES (?1, ?2, ?3)")?;
        let mut out = Vec::new();
        for (at, input, consumed_from, sends) in batch {
            log.execute(params![at as i64, input.to_string()])?;
            if let Some(peer) = consumed_from {
                stream(&peer, &mut streams)?;
                if let Some(s) = streams.get_mut(&peer) {
                    s.in_next += 1;
                }
            }
            for (peer, bytes) in sends {
                stream(&peer, &mut streams)?;
                let Some(s) = streams.get_mut(&peer) else {
                    continue;
                };
                let n = s.out_next;
                s.out_next += 1;
                queue.execute(params![peer, n as i64, bytes])?;
                out.push((peer, n, bytes));
            }
        }
        let mut put = tx.prepare_cached(
            "INSERT INTO streams (peer, out_next, in_next) VALUES (?1, ?2, ?3)
             ON CONFLICT (peer) DO UPDATE SET out_next = excluded.out_next, in_next = excluded.in_next",
        )?;
        for (peer, s) in &streams {
            put.execute(params![peer, s.out_next as i64, s.in_next as i64])?;
        }
        Ok(out)
    }

    /// The peer consumed everything below `next`: drops it from the outbox and
    /// returns the rest, in order.
    pub fn outbox_from(&self, peer: &str, next: u64) -> Result<Vec<(u64, Vec<u8>)>, NodeError> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM outbox WHERE peer = ?1 AND seq < ?2",
            params![peer, next as i64],
        )
        .map_err(|e| self.err(e))?;
        let mut st = conn
            .prepare("SELECT seq, bytes FROM outbox WHERE peer = ?1 AND seq >= ?2 ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![peer, next as i64], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Messages kept for re-sending, over all peers.
    pub fn outbox_len(&self) -> Result<u64, NodeError> {
        self.conn()
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// Every logged input in order: (clock µs, input).
    pub fn inputs(&self) -> Result<Vec<(u64, serde_json::Value)>, NodeError> {
        let conn = self.conn();
        let mut st = conn
            .prepare("SELECT at, input FROM inputs ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (at, text) = row.map_err(|e| self.err(e))?;
            let v = serde_json::from_str(&text).map_err(|e| NodeError::Corrupt {
                path: self.path().to_path_buf(),
                reason: format!("input log: {e}"),
            })?;
            out.push((at, v));
        }
        Ok(out)
    }
}
