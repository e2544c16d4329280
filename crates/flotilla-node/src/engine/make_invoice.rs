//! `invoice`: the BOLT 11 invoice this node signs (a redundant one with its lock and,
//! for `boomerang`, the polynomial's commitments), and the input that registers it.

use flotilla_ln::boomerang::BoomerangPolynomial;
use flotilla_ln::clock::Clock;
use flotilla_ln::invoice::{self, InvoiceParams, PaymentKeys};
use flotilla_ln::lock::LockKind;
use serde_json::json;

use super::{hex, refused, CommandError, Engine, Input};

impl Engine {
    /// Makes an invoice: returns the input that registers it and its BOLT 11 string.
    ///
    /// `redundant` makes it a redundant invoice: its lock, and for `boomerang` the
    /// number of equal parts k (the polynomial's degree), whose commitments the answer
    /// carries for the sender (`boomerang_commitments`).
    pub fn make_invoice(
        &self,
        amount_msat: Option<u64>,
        description: &str,
        expiry_secs: u64,
        redundant: Option<(LockKind, u16)>,
        clock: &Clock,
    ) -> Result<(Input, serde_json::Value), CommandError> {
        if let Some((lock, degree)) = redundant {
            let Some(a) = amount_msat else {
                return Err(refused("invoice: a redundant invoice needs --amount-msat"));
            };
            match lock {
                LockKind::Hash => {
                    return Err(refused(
                        "invoice: --lock must be h2tlc, sender_hash or boomerang",
                    ))
                }
                LockKind::Boomerang if degree < 1 || a % u64::from(degree) != 0 => {
                    return Err(refused(format!(
                        "invoice: --parts {degree} must be at least 1 and divide {a} msat"
                    )))
                }
                _ => {}
            }
        }
        let keys = PaymentKeys::random();
        let now_secs = clock.now.0 / 1_000_000;
        let mut params = InvoiceParams::new(keys.hash, keys.secret, now_secs);
        params.currency = invoice::Currency::Regtest;
        params.amount_msat = amount_msat;
        params.description = description.to_string();
        params.expiry_secs = expiry_secs;
        params.min_final_cltv_expiry_delta = u64::from(self.config.min_final_cltv_expiry_delta);
        params.include_payee_pubkey = true;
        let inv = invoice::create_invoice(&params, &self.secret)
            .map_err(|e| refused(format!("invoice: {e}")))?;
        let input = Input::Invoice {
            preimage: keys.preimage.0,
            secret: keys.secret.0,
            amount_msat,
            expires_at: clock.now.0 + expiry_secs * 1_000_000,
            redundant,
        };
        let mut out = json!({
            "bolt11": inv.to_string(),
            "payment_hash": hex(&keys.hash.0),
            "amount_msat": amount_msat,
            "expires_at": now_secs + expiry_secs,
        });
        if let Some((lock, degree)) = redundant {
            out["lock"] = json!(lock.name());
            if lock == LockKind::Boomerang {
                let c = BoomerangPolynomial::from_seed(&keys.preimage.0, degree).commitments();
                out["parts"] = json!(degree);
                out["boomerang_commitments"] = json!(c
                    .points()
                    .iter()
                    .map(|p| hex(&p.serialize()))
                    .collect::<Vec<_>>()
                    .join(","));
            }
        }
        Ok((input, out))
    }
}
