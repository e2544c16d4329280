//! The node's defaults for new channels, in `DIR/node-config.json`: the policy it
//! announces for its direction and the BOLT 2 channel parameters it sets. `node run`'s
//! flags change them and the file keeps them for later starts; `open-channel`'s flags
//! replace them for one channel. A channel keeps the terms it opened with (they are in
//! its logged `open`), whatever the defaults become.

use std::fs;
use std::io::Write;
use std::path::Path;

use flotilla_ln::config::{ChannelParams, ChannelParamsOverride};
use serde::{Deserialize, Serialize};

use crate::engine::policy::{OwnPolicy, PolicyChange};
use crate::NodeError;

/// The file's name in the data directory.
pub const FILE: &str = "node-config.json";

/// See the module documentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeDefaults {
    /// The policy announced for this node's direction of a new channel.
    pub policy: OwnPolicy,
    /// The channel parameters this node sets for a new channel.
    pub channel: ChannelParams,
}

/// Changes to the defaults (flags; absent: unchanged).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DefaultsChange {
    /// Policy fields.
    pub policy: PolicyChange,
    /// Channel parameter fields.
    pub channel: ChannelParamsOverride,
}

impl DefaultsChange {
    /// `base` changed, checked.
    pub fn apply(&self, base: NodeDefaults) -> Result<NodeDefaults, String> {
        let d = NodeDefaults {
            policy: self.policy.apply(base.policy),
            channel: self.channel.apply(base.channel),
        };
        d.policy.check()?;
        d.channel.validate().map_err(|e| e.to_string())?;
        Ok(d)
    }
}

/// Reads `DIR/node-config.json` (the built-in defaults when it does not exist),
/// applies `change`, and writes the result back when it differs.
pub fn load_and_update(dir: &Path, change: &DefaultsChange) -> Result<NodeDefaults, NodeError> {
    let path = dir.join(FILE);
    let stored =
        match fs::read_to_string(&path) {
            Ok(text) => Some(serde_json::from_str::<NodeDefaults>(&text).map_err(|e| {
                NodeError::Corrupt {
                    path: path.clone(),
                    reason: e.to_string(),
                }
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(NodeError::io(&path, e)),
        };
    let base = stored.unwrap_or_default();
    let d = change
        .apply(base)
        .map_err(|e| NodeError::Control(format!("node run: {e}")))?;
    if stored != Some(d) {
        let tmp = dir.join(format!("{FILE}.tmp"));
        let text = serde_json::to_string_pretty(&d).unwrap_or_default();
        let mut f = fs::File::create(&tmp).map_err(|e| NodeError::io(&tmp, e))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.write_all(b"\n"))
            .and_then(|()| f.sync_all())
            .map_err(|e| NodeError::io(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| NodeError::io(&path, e))?;
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_persist_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = load_and_update(dir.path(), &DefaultsChange::default()).unwrap();
        assert_eq!(d, NodeDefaults::default());
        let change = DefaultsChange {
            policy: PolicyChange {
                fee_rate_ppm: Some(500),
                ..PolicyChange::default()
            },
            channel: ChannelParamsOverride {
                max_accepted_htlcs: Some(30),
                ..ChannelParamsOverride::default()
            },
        };
        load_and_update(dir.path(), &change).unwrap();
        // Kept for the next start without flags.
        let d = load_and_update(dir.path(), &DefaultsChange::default()).unwrap();
        assert_eq!(d.policy.fee_rate_ppm, 500);
        assert_eq!(d.channel.max_accepted_htlcs, 30);
        let bad = DefaultsChange {
            channel: ChannelParamsOverride {
                dust_limit_sat: Some(10),
                ..ChannelParamsOverride::default()
            },
            ..DefaultsChange::default()
        };
        let e = load_and_update(dir.path(), &bad).unwrap_err().to_string();
        assert!(e.contains("dust_limit_sat"), "{e}");
        fs::write(dir.path().join(FILE), "{\"policy\": 3}").unwrap();
        let e = load_and_update(dir.path(), &DefaultsChange::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains(FILE), "{e}");
    }
}
