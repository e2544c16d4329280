//! The payment commands: `invoice`, `pay` and `keysend` (a [`PayRequest`] checked
//! before it is given an id, then started and waited for), and `payments`.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bitcoin::secp256k1::PublicKey;
use flotilla_ln::invoice::{decode_invoice, PaymentKeys};
use flotilla_ln::lock::LockKind;
use serde_json::json;
use tokio::sync::oneshot;

use crate::daemon::{lock, Shared};
use crate::engine::redundant::{RedundantAsk, DEFAULT_BASE_PARTS};
use crate::engine::{wall_clock, Input};

/// How long `pay` waits for an outcome before answering with the payment pending.
pub const PAY_WAIT: Duration = Duration::from_secs(120);

/// What a payment command asks, before it has an id.
pub struct PayRequest {
    payment_hash: [u8; 32],
    payment_secret: [u8; 32],
    keysend_preimage: Option<[u8; 32]>,
    target: PublicKey,
    amount_msat: u64,
    max_parts: u32,
    final_cltv_delta: u32,
    /// `--max-parts` as given (a redundant payment's base parts).
    max_parts_given: Option<u32>,
    redundant: Option<RedundantAsk>,
}

/// `invoice --lock L [--parts K]`: the redundant invoice asked for, if any.
pub fn redundant_invoice(
    lock: Option<&str>,
    parts: Option<u16>,
) -> Result<Option<(LockKind, u16)>, String> {
    let Some(name) = lock else {
        return match parts {
            Some(_) => Err("invoice: --parts needs --lock boomerang".into()),
            None => Ok(None),
        };
    };
    let lock = parse_lock(name, "invoice")?;
    match (lock, parts) {
        (LockKind::Boomerang, Some(k)) => Ok(Some((lock, k))),
        (LockKind::Boomerang, None) => Ok(Some((lock, DEFAULT_BASE_PARTS as u16))),
        (_, Some(_)) => Err("invoice: --parts is for --lock boomerang only".into()),
        (_, None) => Ok(Some((lock, 0))),
    }
}

/// A redundant lock by name; the plain hash lock is not one.
fn parse_lock(name: &str, what: &str) -> Result<LockKind, String> {
    match LockKind::from_name(name) {
        Some(LockKind::Hash) | None => Err(format!(
            "{what}: --lock {name:?} is not a redundant lock (h2tlc, sender_hash or boomerang)"
        )),
        Some(l) => Ok(l),
    }
}

impl PayRequest {
    /// Makes it a redundant payment when `redundancy` or `lock` is given (both are
    /// needed).
    pub fn redundant(
        mut self,
        redundancy: Option<f64>,
        lock: Option<&str>,
        commitments: Option<&str>,
    ) -> Result<PayRequest, String> {
        let (rho, lock) = match (redundancy, lock) {
            (None, None) => {
                if commitments.is_some() {
                    return Err("pay: --commitments needs --lock boomerang".into());
                }
                return Ok(self);
            }
            (Some(r), Some(l)) => (r, parse_lock(l, "pay")?),
            _ => return Err("pay: --redundancy and --lock go together".into()),
        };
        if !rho.is_finite() || !(0.0..=10.0).contains(&rho) {
            return Err(format!("pay: --redundancy {rho} must be within 0 to 10"));
        }
        let commitments = match (lock, commitments) {
            (LockKind::Boomerang, Some(c)) => c
                .split(',')
                .map(|p| {
                    PublicKey::from_str(p.trim())
                        .map_err(|_| format!("pay: --commitments: {p:?} is not a point"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            (LockKind::Boomerang, None) => {
                return Err("pay: --lock boomerang needs --commitments (the receiver's invoice --json boomerang_commitments)".into())
            }
            (_, Some(_)) => return Err("pay: --commitments is for --lock boomerang only".into()),
            (_, None) => Vec::new(),
        };
        if lock == LockKind::Boomerang && commitments.len() < 2 {
            return Err("pay: --commitments needs at least two points".into());
        }
        if self.max_parts_given == Some(0) {
            return Err("pay: --max-parts must be at least 1".into());
        }
        self.redundant = Some(RedundantAsk {
            lock,
            redundancy: rho,
            base_parts: self.max_parts_given.unwrap_or(DEFAULT_BASE_PARTS),
            commitments,
            excluded: Vec::new(),
        });
        Ok(self)
    }

    fn input(&self, id: u64) -> Input {
        if let Some(ask) = &self.redundant {
            return Input::PayRedundant {
                id,
                payment_hash: self.payment_hash,
                payment_secret: self.payment_secret,
                target: self.target,
                amount_msat: self.amount_msat,
                final_cltv_delta: self.final_cltv_delta,
                ask: ask.clone(),
            };
        }
        Input::Pay {
            id,
            payment_hash: self.payment_hash,
            payment_secret: self.payment_secret,
            keysend_preimage: self.keysend_preimage,
            target: self.target,
            amount_msat: self.amount_msat,
            max_parts: self.max_parts,
            final_cltv_delta: self.final_cltv_delta,
        }
    }

    /// Pays a BOLT 11 invoice.
    pub fn invoice(
        bolt11: &str,
        amount_msat: Option<u64>,
        max_parts_given: Option<u32>,
    ) -> Result<PayRequest, String> {
        let max_parts = max_parts_given.unwrap_or(16);
        let inv = decode_invoice(bolt11).map_err(|e| format!("pay: {e}"))?;
        let now = wall_clock().now.0 / 1_000_000;
        if inv.is_expired(now) {
            return Err("pay: the invoice has expired".into());
        }
        let amount_msat = match (inv.amount_msat, amount_msat) {
            (Some(a), None) => a,
            (Some(a), Some(b)) if a == b => a,
            (Some(a), Some(b)) => return Err(format!("pay: the invoice asks {a} msat, not {b}")),
            (None, Some(b)) if b > 0 => b,
            _ => return Err("pay: the invoice has no amount; pass --amount-msat".into()),
        };
        let secret = inv
            .payment_secret
            .ok_or("pay: the invoice has no payment_secret (legacy invoices are refused)")?;
        if max_parts == 0 {
            return Err("pay: --max-parts must be at least 1".into());
        }
        Ok(PayRequest {
            payment_hash: inv.payment_hash.0,
            payment_secret: secret.0,
            keysend_preimage: None,
            target: inv.payee,
            amount_msat,
            max_parts,
            final_cltv_delta: u32::try_from(inv.min_final_cltv_expiry_delta).unwrap_or(u32::MAX),
            max_parts_given,
            redundant: None,
        })
    }

    /// A keysend payment (MPP when `max_parts` > 1: the parts share a secret of ours).
    pub fn keysend(target: &str, amount_msat: u64, max_parts: u32) -> Result<PayRequest, String> {
        let target = PublicKey::from_str(target).map_err(|_| {
            format!("keysend: {target:?} is not a node id (66 hex characters, starting 02 or 03)")
        })?;
        if amount_msat == 0 || amount_msat > flotilla_graph::amount::MAX_MSAT {
            return Err(
                "keysend: --amount-msat must be positive and at most 21 million BTC".into(),
            );
        }
        if max_parts == 0 {
            return Err("keysend: --max-parts must be at least 1".into());
        }
        let keys = PaymentKeys::random();
        Ok(PayRequest {
            payment_hash: keys.hash.0,
            payment_secret: keys.secret.0,
            keysend_preimage: Some(keys.preimage.0),
            target,
            amount_msat,
            max_parts,
            final_cltv_delta: flotilla_ln::config::NodeConfig::default()
                .min_final_cltv_expiry_delta,
            max_parts_given: Some(max_parts),
            redundant: None,
        })
    }
}

impl Shared {
    /// `invoice`.
    pub(in crate::daemon) async fn invoice(
        self: &Arc<Self>,
        amount_msat: Option<u64>,
        description: String,
        expiry_secs: u64,
        redundant: Option<(LockKind, u16)>,
    ) -> Result<serde_json::Value, String> {
        self.command(Box::new(move |e| {
            e.make_invoice(
                amount_msat,
                &description,
                expiry_secs,
                redundant,
                &wall_clock(),
            )
            .map_err(|e| e.to_string())
        }))
        .await
    }

    /// `pay` and `keysend`: starts the payment and waits for its outcome.
    pub(in crate::daemon) async fn pay(
        self: &Arc<Self>,
        mut make: PayRequest,
    ) -> Result<serde_json::Value, String> {
        if let Some(ask) = make.redundant.as_mut() {
            // A part is never offered to a peer whose init does not advertise the
            // lock (peers not connected now are skipped by the payer anyway).
            let bit = match ask.lock {
                LockKind::H2tlc => Some(crate::features::H2TLC_BIT),
                LockKind::Boomerang => Some(crate::features::POINT_LOCK_BIT),
                _ => None,
            };
            if let Some(bit) = bit {
                let peers = lock(&self.engine).engine.channel_peers();
                ask.excluded = peers
                    .into_iter()
                    .filter(|p| {
                        self.transport
                            .peer_features(p)
                            .is_some_and(|f| !crate::features::has_bit(&f, bit))
                    })
                    .collect();
            }
        }
        let (tx, rx) = oneshot::channel();
        let id = self
            .command(Box::new(move |e| {
                let id = e.next_payment_id();
                Ok((make.input(id), json!(id)))
            }))
            .await?
            .as_u64()
            .ok_or("payment id")?;
        let done = {
            let mut st = lock(&self.engine);
            match st.engine.payment_done(id) {
                Some(true) => st.engine.payment_json(id),
                // Registered under the engine's lock: the input that finishes it
                // takes this waiter, and answers it once that input is durable.
                Some(false) => {
                    st.waiters.entry(id).or_default().push(tx);
                    None
                }
                None => return Err("payment vanished".into()),
            }
        };
        if let Some(v) = done {
            // It finished in a batch that may still be committing.
            self.durable_now().await?;
            return Ok(v);
        }
        match tokio::time::timeout(PAY_WAIT, rx).await {
            Ok(Ok(v)) => Ok(v),
            _ => {
                let v = lock(&self.engine)
                    .engine
                    .payment_json(id)
                    .ok_or_else(|| "payment vanished".to_string())?;
                self.durable_now().await?;
                Ok(v)
            }
        }
    }

    /// `payments`, once what it shows is durable.
    pub(in crate::daemon) async fn payments(&self) -> Result<serde_json::Value, String> {
        let v = lock(&self.engine).engine.payments_json();
        self.durable_now().await?;
        Ok(v)
    }
}
