//! The daemon's channel commands and messages: `open-channel` (this node opens),
//! the `open_channel` / `accept_channel` / `reject_channel` exchange (either side),
//! and `set-policy` (a channel's announced policy changed).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bitcoin::secp256k1::PublicKey;
use rand::RngCore;
use serde_json::json;
use tokio::sync::oneshot;

use super::{lock, Shared};
use crate::engine::policy::{check_peer_params, OpenParams, OwnPolicy, PolicyChange};
use crate::engine::Input;
use crate::features;
use crate::store::StoredChannel;
use crate::transport::setup::{self, SetupMessage};
use flotilla_ln::config::ChannelParams;

/// How long `open-channel` waits for the peer's answer.
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// An `open_channel` this node sent and has had no answer to. Kept after the
/// control request times out, so a late `accept_channel` is still stored and both
/// sides agree.
pub(super) struct PendingOpen {
    peer: PublicKey,
    capacity_sat: u64,
    push_msat: u64,
    /// This node's policy and parameters for the channel.
    policy: OwnPolicy,
    params: ChannelParams,
    reply: Option<oneshot::Sender<Result<StoredChannel, String>>>,
}

fn hex32(b: &[u8; 32]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Checks an open's amounts; the reason when they are refused.
fn check_open(capacity_sat: u64, push_msat: u64) -> Result<u64, String> {
    let max_sat = flotilla_graph::amount::MAX_SAT;
    if capacity_sat == 0 {
        return Err("capacity_sat must be positive".into());
    }
    if capacity_sat > max_sat {
        return Err(format!(
            "capacity_sat {capacity_sat} is more than the 21 million BTC that will ever exist ({max_sat} sat)"
        ));
    }
    let capacity_msat = capacity_sat * 1000;
    if push_msat > capacity_msat {
        return Err(format!(
            "push ({push_msat} msat) is more than the capacity ({capacity_msat} msat)"
        ));
    }
    Ok(capacity_msat)
}

/// A channel as `channels --json` shows it.
pub(super) fn channel_json(c: &StoredChannel) -> serde_json::Value {
    json!({
        "channel_id": c.channel_id,
        "peer": c.peer,
        "capacity_sat": c.capacity_sat,
        "local_msat": c.local_msat,
        "remote_msat": c.remote_msat,
        // No HTLC can exist before the engine is attached.
        "pending_htlcs": 0,
        "opened_by_us": c.opened_by_us,
    })
}

impl Shared {
    pub(super) async fn open_channel(
        self: &Arc<Self>,
        peer: &str,
        capacity_sat: u64,
        push_msat: u64,
        policy: OwnPolicy,
        params: ChannelParams,
    ) -> Result<StoredChannel, String> {
        let node_id = PublicKey::from_str(peer).map_err(|_| {
            format!(
                "open-channel: {peer:?} is not a node id (66 hex characters, starting 02 or 03)"
            )
        })?;
        check_open(capacity_sat, push_msat).map_err(|e| format!("open-channel: {e}"))?;
        policy
            .check_for(capacity_sat)
            .map_err(|e| format!("open-channel: policy: {e}"))?;
        params
            .validate()
            .map_err(|e| format!("open-channel: params: {e}"))?;
        let Some(features) = self.transport.peer_features(&node_id) else {
            return Err(format!(
                "open-channel: not connected to {node_id}; `connect` it first"
            ));
        };
        if !features::has_bit(&features, features::FLOTILLA_MESSAGES_BIT) {
            return Err(format!(
                "open-channel: {node_id} does not speak flotilla's messages (feature bit {})",
                features::FLOTILLA_MESSAGES_BIT
            ));
        }
        let mut temporary_channel_id = [0u8; 32];
        rand::rng().fill_bytes(&mut temporary_channel_id);
        let (tx, rx) = oneshot::channel();
        lock(&self.opens).insert(
            temporary_channel_id,
            PendingOpen {
                peer: node_id,
                capacity_sat,
                push_msat,
                policy,
                params,
                reply: Some(tx),
            },
        );
        self.transport.send_setup(
            node_id,
            SetupMessage::Open {
                temporary_channel_id,
                capacity_sat,
                push_msat,
                params: Some(params),
            },
        );
        match tokio::time::timeout(OPEN_TIMEOUT, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("open-channel: the node is shutting down".into()),
            Err(_) => Err(format!(
                "open-channel: no answer from {node_id} within {} s (a late acceptance is still stored; see `channels`)",
                OPEN_TIMEOUT.as_secs()
            )),
        }
    }

    /// `set-policy`: the channel's current policy with `change` applied, logged and
    /// announced; answers with the channel and its new policy.
    pub(super) async fn set_policy(
        self: &Arc<Self>,
        channel_id: &str,
        change: PolicyChange,
    ) -> Result<serde_json::Value, String> {
        let id: [u8; 32] = crate::engine::unhex(channel_id)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                format!("set-policy: {channel_id:?} is not a channel id (64 hex characters)")
            })?;
        if change.is_empty() {
            return Err("set-policy: nothing to change (give at least one of --fee-base-msat, --fee-rate-ppm, --cltv-expiry-delta, --htlc-minimum-msat, --htlc-maximum-msat)".into());
        }
        let text = channel_id.to_string();
        self.command(Box::new(move |e| {
            let current = e.own_policy(&id).map_err(|e| e.to_string())?;
            let policy = change.apply(current);
            Ok((
                Input::SetPolicy {
                    channel_id: id,
                    policy,
                },
                json!({ "channel_id": text, "policy": policy }),
            ))
        }))
        .await
    }

    /// Handles a channel-opening message. Each side stores the channel in one
    /// transaction before it answers (the acceptor) or reports success (the opener).
    pub(super) fn on_setup(self: &Arc<Self>, from: PublicKey, message: SetupMessage) {
        match message {
            SetupMessage::Open {
                temporary_channel_id,
                capacity_sat,
                push_msat,
                params: theirs,
            } => {
                let reject = |reason: String| {
                    tracing::info!(peer = %from, "refused a channel: {reason}");
                    self.transport.send_setup(
                        from,
                        SetupMessage::Reject {
                            temporary_channel_id,
                            reason,
                        },
                    );
                };
                let capacity_msat = match check_open(capacity_sat, push_msat) {
                    Ok(c) => c,
                    Err(e) => return reject(e),
                };
                // The opener's parameters (a node that predates them: the defaults),
                // and ours; either unacceptable for this channel is refused, saying
                // which field.
                let theirs = theirs.unwrap_or_default();
                if let Err(e) = check_peer_params(&theirs, capacity_sat) {
                    return reject(format!("your channel parameters: {e}"));
                }
                let ours = self.defaults.channel;
                if let Err(e) = check_peer_params(&ours, capacity_sat) {
                    return reject(format!(
                        "this node's channel parameters do not fit a channel of {capacity_sat} sat: {e}"
                    ));
                }
                let policy = self.defaults.policy;
                if let Err(e) = policy.check_for(capacity_sat) {
                    return reject(format!(
                        "this node's policy does not fit a channel of {capacity_sat} sat: {e}"
                    ));
                }
                let channel_id = setup::channel_id(&temporary_channel_id, &from, &self.node_id);
                let channel = StoredChannel {
                    channel_id: hex32(&channel_id),
                    peer: from.to_string(),
                    capacity_sat,
                    local_msat: push_msat,
                    remote_msat: capacity_msat - push_msat,
                    opened_by_us: false,
                    created_at: now_secs(),
                };
                match self.store.insert_channel(&channel) {
                    Ok(true) => {
                        tracing::info!(peer = %from, channel = channel.channel_id, capacity_sat, "accepted a channel");
                        if let Err(e) = self.feed(
                            Input::Open {
                                channel_id,
                                peer: from,
                                capacity_sat,
                                local_msat: channel.local_msat,
                                remote_msat: channel.remote_msat,
                                policy: Some(policy),
                                params: Some(OpenParams {
                                    local: ours,
                                    remote: theirs,
                                }),
                            },
                            None,
                        ) {
                            tracing::error!("engine: {e}");
                        }
                        self.transport.send_setup(
                            from,
                            SetupMessage::Accept {
                                temporary_channel_id,
                                channel_id,
                                params: Some(ours),
                            },
                        );
                    }
                    Ok(false) => reject("that channel exists already".into()),
                    Err(e) => {
                        tracing::error!("store: {e}");
                        reject("the node could not store the channel".into());
                    }
                }
            }
            SetupMessage::Accept {
                temporary_channel_id,
                channel_id,
                params: theirs,
            } => {
                let pending = {
                    let mut opens = lock(&self.opens);
                    match opens.get(&temporary_channel_id) {
                        Some(p) if p.peer == from => opens.remove(&temporary_channel_id),
                        _ => None,
                    }
                };
                let Some(mut p) = pending else {
                    tracing::warn!(peer = %from, "accept_channel for no open of ours; ignored");
                    return;
                };
                let expected = setup::channel_id(&temporary_channel_id, &self.node_id, &from);
                let theirs = theirs.unwrap_or_default();
                let result = if let Err(e) = check_peer_params(&theirs, p.capacity_sat) {
                    // The acceptor stored a channel we will not use: said on both
                    // sides (a warning to the peer, the reason to our caller).
                    tracing::warn!(peer = %from, "accept_channel with unacceptable parameters: {e}");
                    self.transport.send_setup(
                        from,
                        SetupMessage::Reject {
                            temporary_channel_id,
                            reason: format!("your channel parameters: {e}"),
                        },
                    );
                    Err(format!(
                        "open-channel: {from} accepted with channel parameters this node refuses: {e}"
                    ))
                } else if channel_id != expected {
                    tracing::warn!(peer = %from, "accept_channel with a wrong channel id; not stored");
                    Err(format!(
                        "open-channel: {from} answered with channel id {}, expected {}",
                        hex32(&channel_id),
                        hex32(&expected)
                    ))
                } else {
                    let capacity_msat = p.capacity_sat * 1000;
                    let channel = StoredChannel {
                        channel_id: hex32(&channel_id),
                        peer: from.to_string(),
                        capacity_sat: p.capacity_sat,
                        local_msat: capacity_msat - p.push_msat,
                        remote_msat: p.push_msat,
                        opened_by_us: true,
                        created_at: now_secs(),
                    };
                    match self.store.insert_channel(&channel) {
                        Ok(_) => {
                            tracing::info!(peer = %from, channel = channel.channel_id, "channel open");
                            match self.feed(
                                Input::Open {
                                    channel_id,
                                    peer: from,
                                    capacity_sat: channel.capacity_sat,
                                    local_msat: channel.local_msat,
                                    remote_msat: channel.remote_msat,
                                    policy: Some(p.policy),
                                    params: Some(OpenParams {
                                        local: p.params,
                                        remote: theirs,
                                    }),
                                },
                                None,
                            ) {
                                Ok(()) => Ok(channel),
                                Err(e) => Err(format!("open-channel: {e}")),
                            }
                        }
                        Err(e) => {
                            tracing::error!("store: {e}");
                            Err(format!("open-channel: storing the channel failed: {e}"))
                        }
                    }
                };
                if let Some(reply) = p.reply.take() {
                    let _ = reply.send(result);
                }
            }
            SetupMessage::Announce(bytes) => {
                if let Err(e) = self.feed(
                    Input::Announce {
                        from: Some(from),
                        bytes,
                    },
                    None,
                ) {
                    tracing::error!("engine: {e}");
                }
            }
            SetupMessage::NodeAnnounce(bytes) => {
                if let Err(e) = self.feed(
                    Input::NodeAnnounce {
                        from: Some(from),
                        bytes,
                    },
                    None,
                ) {
                    tracing::error!("engine: {e}");
                }
            }
            SetupMessage::Reestablish { next_seq } => self.reestablished(from, next_seq),
            SetupMessage::Reject {
                temporary_channel_id,
                reason,
            } => {
                let mut opens = lock(&self.opens);
                if opens
                    .get(&temporary_channel_id)
                    .is_some_and(|p| p.peer == from)
                {
                    if let Some(reply) = opens.remove(&temporary_channel_id).and_then(|p| p.reply) {
                        let _ = reply.send(Err(format!("open-channel: {from} refused: {reason}")));
                    }
                }
            }
        }
    }
}
