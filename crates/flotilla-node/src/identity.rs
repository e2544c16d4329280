//! The node's identity: a 32-byte seed in `DIR/identity.key`, created on first start
//! with mode 0600, from which LDK's `KeysManager` derives the node key (BOLT 8's
//! static key, whose public half is the node id).
//!
//! The seed rather than the bare node secret is stored so every later key the node
//! needs (onion-message blinding, per-peer storage, channel keys once channels are
//! signed) comes from the one secret through LDK's own derivation.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bitcoin::secp256k1::PublicKey;
use lightning::sign::{KeysManager, NodeSigner, Recipient};
use rand::RngCore;

use crate::error::NodeError;

/// The seed file's name inside the data directory.
pub const IDENTITY_FILE: &str = "identity.key";

/// The node's keys.
pub struct Identity {
    /// LDK's key manager, the `NodeSigner` of the `PeerManager` (BOLT 8's ECDH).
    pub keys: Arc<KeysManager>,
    /// The node id (compressed public key).
    pub node_id: PublicKey,
    /// Whether this start created the seed.
    pub created: bool,
}

/// Refuses a file that anyone but its owner may read or write.
pub fn check_private(path: &Path) -> Result<(), NodeError> {
    let meta = fs::metadata(path).map_err(|e| NodeError::io(path, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(NodeError::Insecure {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// Loads the seed in `dir`, creating it (mode 0600, never overwriting) when absent.
pub fn load_or_create(dir: &Path) -> Result<Identity, NodeError> {
    let path = dir.join(IDENTITY_FILE);
    let (seed, created) = match fs::symlink_metadata(&path) {
        Ok(_) => (read_seed(&path)?, false),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (create_seed(&path)?, true),
        Err(e) => return Err(NodeError::io(&path, e)),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    // The start time only seeds LDK's per-channel key derivation; v2 remote keys as
    // LDK recommends for new nodes.
    let keys = Arc::new(KeysManager::new(
        &seed,
        now.as_secs(),
        now.subsec_nanos(),
        true,
    ));
    let node_id = keys
        .get_node_id(Recipient::Node)
        .map_err(|()| NodeError::Corrupt {
            path: path.clone(),
            reason: "no node key could be derived from the seed".into(),
        })?;
    Ok(Identity {
        keys,
        node_id,
        created,
    })
}

fn read_seed(path: &PathBuf) -> Result<[u8; 32], NodeError> {
    check_private(path)?;
    let bytes = fs::read(path).map_err(|e| NodeError::io(path, e))?;
    bytes.try_into().map_err(|b: Vec<u8>| NodeError::Corrupt {
        path: path.clone(),
        reason: format!("expected a 32-byte seed, found {} bytes", b.len()),
    })
}

fn create_seed(path: &PathBuf) -> Result<[u8; 32], NodeError> {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    // create_new: two daemons racing on one directory cannot both write a seed.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| NodeError::io(path, e))?;
    file.write_all(&seed)
        .and_then(|()| file.sync_all())
        .map_err(|e| NodeError::io(path, e))?;
    // The umask may only remove bits, but an explicit mode leaves no doubt.
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .map_err(|e| NodeError::io(path, e))?;
    Ok(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_loaded_with_the_same_id() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create(dir.path()).unwrap();
        assert!(a.created);
        let mode = fs::metadata(dir.path().join(IDENTITY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = load_or_create(dir.path()).unwrap();
        assert!(!b.created);
        assert_eq!(a.node_id, b.node_id);
    }

    #[test]
    fn readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path()).unwrap();
        let path = dir.path().join(IDENTITY_FILE);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let err = load_or_create(dir.path()).err().unwrap();
        assert!(
            matches!(err, NodeError::Insecure { mode: 0o640, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_short_seed_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(IDENTITY_FILE);
        fs::write(&path, [1u8; 31]).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let err = load_or_create(dir.path()).err().unwrap();
        assert!(err.to_string().contains("31 bytes"), "{err}");
    }
}
