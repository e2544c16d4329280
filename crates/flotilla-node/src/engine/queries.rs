//! What the daemon reads of the engine: payments (finished, their outcomes and
//! status, the next free id), channels with their balances, this node's policy of a
//! channel, its peers, and its own books checked.

use bitcoin::secp256k1::PublicKey;
use flotilla_ln::lock::LockKind;
use flotilla_ln::node::Node;
use serde_json::json;

use super::pay::{LivePayment, PayStatus};
use super::redundant::LiveRedundant;
use super::{hex, policy, refused, CommandError, Engine};

impl Engine {
    /// Payments that finished since the last call.
    pub fn take_finished(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.finished)
    }

    /// A payment's outcome as `pay --json` shows it, once it finished.
    pub fn payment_json(&self, id: u64) -> Option<serde_json::Value> {
        self.payments
            .get(&id)
            .map(LivePayment::json)
            .or_else(|| self.redundant.get(&id).map(LiveRedundant::json))
    }

    /// Whether payment `id` finished.
    pub fn payment_done(&self, id: u64) -> Option<bool> {
        self.payments
            .get(&id)
            .map(LivePayment::is_done)
            .or_else(|| self.redundant.get(&id).map(LiveRedundant::is_done))
    }

    /// Every payment, sent and received.
    pub fn payments_json(&self) -> serde_json::Value {
        let mut rows: Vec<serde_json::Value> = self
            .payments
            .values()
            .map(|p| {
                let mut v = p.json();
                v["direction"] = json!("sent");
                v
            })
            .collect();
        for p in self.redundant.values() {
            let mut v = p.json();
            v["direction"] = json!("sent");
            rows.push(v);
        }
        rows.sort_by_key(|v| v["id"].as_u64());
        for r in &self.received {
            rows.push(json!({
                "direction": "received",
                "payment_hash": hex(&r.payment_hash.0),
                "status": "succeeded",
                "amount_msat": r.amount_msat,
                "parts_settled": r.parts,
                "created_at": r.at.0 / 1_000_000,
            }));
        }
        let mut open: Vec<_> = self.invoices.iter().filter(|(_, i)| !i.paid).collect();
        open.sort_by_key(|(h, i)| (i.created, h.0));
        for (h, i) in open {
            rows.push(json!({
                "direction": "invoice",
                "payment_hash": hex(&h.0),
                "status": "unpaid",
                "amount_msat": i.amount_msat,
                "lock": i.lock.map(LockKind::name),
                "created_at": i.created.0 / 1_000_000,
            }));
        }
        serde_json::Value::Array(rows)
    }

    /// This node's channels with their current balances, as `channels --json` shows
    /// them.
    pub fn channels_json(&self) -> Vec<serde_json::Value> {
        let Some(node) = self.node.as_ref() else {
            return Vec::new();
        };
        node.ends()
            .iter()
            .map(|e| {
                let pending = e.local.pending_count + e.remote.pending_count;
                let (mine, theirs) = self.graph.policies(e.channel).unwrap_or((None, None));
                // The peer's stand-in (timestamp 0) is not its announcement.
                let theirs = theirs.filter(|p| p.last_update > 0);
                let params = self
                    .params
                    .get(&e.channel)
                    .copied()
                    .unwrap_or(policy::OpenParams {
                        local: self.config.channel,
                        remote: flotilla_ln::config::ChannelParams::default(),
                    });
                json!({
                    "channel_id": self.graph.channel_id(e.channel).map(|c| hex(&c)),
                    "peer": self.graph.pubkey(e.peer).map(|p| p.to_string()),
                    "capacity_sat": e.capacity_msat / 1000,
                    "local_msat": e.local.balance_msat,
                    "remote_msat": e.remote.balance_msat,
                    "pending_htlcs": pending,
                    "local_pending_msat": e.local.pending_msat,
                    "remote_pending_msat": e.remote.pending_msat,
                    "local_policy": mine.as_ref().map(policy::policy_json),
                    "remote_policy": theirs.as_ref().map(policy::policy_json),
                    "local_params": params.local,
                    "remote_params": params.remote,
                })
            })
            .collect()
    }

    /// This node's policy for its direction of its channel `channel_id`.
    pub fn own_policy(&self, channel_id: &[u8; 32]) -> Result<policy::OwnPolicy, CommandError> {
        self.graph
            .channel_of(channel_id)
            .filter(|c| self.graph.own_channel(*c).is_some())
            .and_then(|c| self.graph.policies(c))
            .and_then(|(mine, _)| mine)
            .map(|p| policy::OwnPolicy::of(&p))
            .ok_or_else(|| {
                refused(format!(
                    "set-policy: no channel {} of this node",
                    hex(channel_id)
                ))
            })
    }

    /// The peers this node has channels with.
    pub fn channel_peers(&self) -> Vec<PublicKey> {
        let Some(node) = self.node.as_ref() else {
            return Vec::new();
        };
        let mut peers: Vec<PublicKey> = node
            .ends()
            .iter()
            .filter_map(|e| self.graph.pubkey(e.peer))
            .collect();
        peers.sort();
        peers.dedup();
        peers
    }

    /// The node's own books checked (conservation at every end, HTLC records).
    pub fn check(&self) -> Result<(), String> {
        match &self.node {
            Some(n) => n.check().map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }

    /// Number of live HTLC records.
    pub fn live_htlcs(&self) -> usize {
        self.node.as_ref().map_or(0, Node::live_htlcs)
    }

    /// A payment's status.
    pub fn payment_status(&self, id: u64) -> Option<PayStatus> {
        self.payments
            .get(&id)
            .map(|p| p.status())
            .or_else(|| self.redundant.get(&id).map(LiveRedundant::status))
    }

    /// The next free payment id (ordinary and redundant payments share the numbers,
    /// which name their parts).
    pub fn next_payment_id(&self) -> u64 {
        let a = self.payments.keys().next_back().copied().unwrap_or(0);
        let b = self.redundant.keys().next_back().copied().unwrap_or(0);
        a.max(b) + 1
    }
}
