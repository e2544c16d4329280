//! The node's embedded store: SQLite in WAL mode (`DIR/store.sqlite3`), every write
//! one transaction committed with `synchronous = FULL`, so what a call returned from
//! survives a crash or `kill -9`.
//!
//! Today it remembers peers (their node id and the address to dial them at); the
//! channel and HTLC state of the protocol engine will live in the same file, so one
//! transaction can cover a state change and what it acknowledges.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::NodeError;

/// The database file's name inside the data directory.
pub const STORE_FILE: &str = "store.sqlite3";

/// The schema this code writes; an older file is migrated, a newer one refused.
const SCHEMA_VERSION: i64 = 3;

/// A peer the node dials again after a restart or a lost connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPeer {
    /// The peer's node id, 66 hex characters.
    pub node_id: String,
    /// Where it listens, `host:port`.
    pub address: String,
    /// Unix seconds when it was first remembered.
    pub added_at: u64,
    /// Unix seconds of the last completed handshake, if any.
    pub last_connected_at: Option<u64>,
}

/// A channel as stored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StoredChannel {
    /// The channel id, 64 hex characters.
    pub channel_id: String,
    /// The other node's id.
    pub peer: String,
    /// The capacity.
    pub capacity_sat: u64,
    /// This node's balance.
    pub local_msat: u64,
    /// The peer's balance.
    pub remote_msat: u64,
    /// Whether this node opened it.
    pub opened_by_us: bool,
    /// Unix seconds when it was stored.
    pub created_at: u64,
}

/// The store. Cheap to share: one connection behind a mutex (every statement is short
/// and the node's writes are serial anyway).
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, NodeError> {
        let path = dir.join(STORE_FILE);
        let err = |source| NodeError::Store {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(err)?;
        // Others have no business reading the node's peers and channels.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
            .map_err(|e| NodeError::io(&path, e))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(NodeError::Corrupt {
                path,
                reason: format!("SQLite refused WAL mode (journal_mode is {mode})"),
            });
        }
        // FULL: a commit is on disk when it returns (NORMAL would lose the last
        // commits on power loss, which a node must not).
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;",
        )
        .map_err(err)?;
        let store = Store {
            path,
            conn: Mutex::new(conn),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn err(&self, source: rusqlite::Error) -> NodeError {
        NodeError::Store {
            path: self.path.clone(),
            source,
        }
    }

    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (the
        // transaction rolls back), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn migrate(&self) -> Result<(), NodeError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
        )
        .map_err(|e| self.err(e))?;
        let version: Option<i64> = tx
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if let Some(v) = version.filter(|&v| v > SCHEMA_VERSION) {
            return Err(NodeError::Corrupt {
                path: self.path.clone(),
                reason: format!(
                    "schema version {v} is newer than this flotilla ({SCHEMA_VERSION})"
                ),
            });
        }
        let from = version.unwrap_or(0);
        if from < 1 {
            tx.execute_batch(
                "CREATE TABLE peers (
                    node_id TEXT PRIMARY KEY,
                    address TEXT NOT NULL,
                    added_at INTEGER NOT NULL,
                    last_connected_at INTEGER
                );",
            )
            .map_err(|e| self.err(e))?;
        }
        if from < 2 {
            // The balances always add up to the capacity: checked by SQLite itself.
            tx.execute_batch(
                "CREATE TABLE channels (
                    channel_id TEXT PRIMARY KEY,
                    peer TEXT NOT NULL,
                    capacity_sat INTEGER NOT NULL CHECK (capacity_sat > 0),
                    local_msat INTEGER NOT NULL CHECK (local_msat >= 0),
                    remote_msat INTEGER NOT NULL CHECK (remote_msat >= 0),
                    opened_by_us INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    CHECK (local_msat + remote_msat = capacity_sat * 1000)
                );",
            )
            .map_err(|e| self.err(e))?;
        }
        if from < 3 {
            // The engine's input log, its per-peer outbox and stream positions
            // (`engine::durable`).
            tx.execute_batch(crate::engine::durable::SCHEMA)
                .map_err(|e| self.err(e))?;
        }
        if from < SCHEMA_VERSION {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![SCHEMA_VERSION],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Remembers `node_id` at `address` (replacing an older address).
    pub fn remember_peer(&self, node_id: &str, address: &str) -> Result<(), NodeError> {
        self.conn()
            .execute(
                "INSERT INTO peers (node_id, address, added_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (node_id) DO UPDATE SET address = excluded.address",
                params![node_id, address, now_secs() as i64],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Notes a completed handshake with a remembered peer (no-op for others).
    pub fn mark_connected(&self, node_id: &str) -> Result<(), NodeError> {
        self.conn()
            .execute(
                "UPDATE peers SET last_connected_at = ?2 WHERE node_id = ?1",
                params![node_id, now_secs() as i64],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Forgets a peer; whether it was remembered.
    pub fn forget_peer(&self, node_id: &str) -> Result<bool, NodeError> {
        self.conn()
            .execute("DELETE FROM peers WHERE node_id = ?1", params![node_id])
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    /// Stores a new channel in one transaction; `Ok(false)` if the id exists already.
    pub fn insert_channel(&self, c: &StoredChannel) -> Result<bool, NodeError> {
        let to_i64 = |v: u64| {
            i64::try_from(v).map_err(|_| NodeError::Control(format!("{v} does not fit the store")))
        };
        let n = self
            .conn()
            .execute(
                "INSERT INTO channels (channel_id, peer, capacity_sat, local_msat, remote_msat, opened_by_us, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (channel_id) DO NOTHING",
                params![
                    c.channel_id,
                    c.peer,
                    to_i64(c.capacity_sat)?,
                    to_i64(c.local_msat)?,
                    to_i64(c.remote_msat)?,
                    c.opened_by_us,
                    to_i64(c.created_at)?,
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(n == 1)
    }

    /// Every channel, by id.
    pub fn channels(&self) -> Result<Vec<StoredChannel>, NodeError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT channel_id, peer, capacity_sat, local_msat, remote_msat, opened_by_us, created_at
                 FROM channels ORDER BY channel_id",
            )
            .map_err(|e| self.err(e))?;
        let u = |v: i64| v.max(0) as u64;
        let rows = stmt
            .query_map([], |r| {
                Ok(StoredChannel {
                    channel_id: r.get(0)?,
                    peer: r.get(1)?,
                    capacity_sat: u(r.get(2)?),
                    local_msat: u(r.get(3)?),
                    remote_msat: u(r.get(4)?),
                    opened_by_us: r.get(5)?,
                    created_at: u(r.get(6)?),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Every remembered peer, by node id.
    pub fn peers(&self) -> Result<Vec<StoredPeer>, NodeError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT node_id, address, added_at, last_connected_at FROM peers ORDER BY node_id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(StoredPeer {
                    node_id: r.get(0)?,
                    address: r.get(1)?,
                    added_at: r.get::<_, i64>(2)?.max(0) as u64,
                    last_connected_at: r.get::<_, Option<i64>>(3)?.map(|v| v.max(0) as u64),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_survive_reopening_and_the_journal_is_wal() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).unwrap();
            s.remember_peer("02aa", "127.0.0.1:1").unwrap();
            s.remember_peer("02aa", "127.0.0.1:2").unwrap();
            s.remember_peer("03bb", "127.0.0.1:3").unwrap();
            s.mark_connected("03bb").unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        let peers = s.peers().unwrap();
        assert_eq!(peers.len(), 2);
        assert_eq!(peers[0].address, "127.0.0.1:2");
        assert!(peers[0].last_connected_at.is_none());
        assert!(peers[1].last_connected_at.is_some());
        let mode: String = s
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert!(s.forget_peer("02aa").unwrap());
        assert!(!s.forget_peer("02aa").unwrap());
        let perms = fs::metadata(s.path()).unwrap().permissions().mode();
        assert_eq!(perms & 0o777, 0o600);
    }

    #[test]
    fn channels_are_stored_once_and_must_add_up() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let c = StoredChannel {
            channel_id: "ab".repeat(32),
            peer: "02cc".into(),
            capacity_sat: 1_000,
            local_msat: 400_000,
            remote_msat: 600_000,
            opened_by_us: true,
            created_at: 5,
        };
        assert!(s.insert_channel(&c).unwrap());
        assert!(!s.insert_channel(&c).unwrap(), "a second insert is refused");
        let bad = StoredChannel {
            channel_id: "cd".repeat(32),
            remote_msat: 600_001,
            ..c.clone()
        };
        assert!(s.insert_channel(&bad).is_err(), "balances must add up");
        drop(s);
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.channels().unwrap(), vec![c]);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).unwrap();
            s.conn()
                .execute(
                    "UPDATE meta SET value = 99 WHERE key = 'schema_version'",
                    [],
                )
                .unwrap();
        }
        let err = Store::open(dir.path()).err().unwrap();
        assert!(err.to_string().contains("schema version 99"), "{err}");
    }
}
