//! BOLT 11: arbitrary strings through the invoice decoder.

use flotilla_ln::invoice::decode_invoice;

/// BOLT 11 decoding: never panics; a decoded invoice's accessors are total.
pub fn invoice(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(inv) = decode_invoice(&text) {
        let _ = inv.feature_names();
        let _ = inv.supports_basic_mpp();
        let _ = inv.route_hint_count();
        let _ = inv.expires_at();
        let _ = inv.is_expired(u64::MAX);
        let _ = inv.is_expired(0);
        let _ = inv.verify_payee(&inv.payee);
        // Decoding is deterministic and idempotent on its own output.
        let again = decode_invoice(&inv.bolt11).expect("a decoded invoice decodes again");
        assert_eq!(again.payment_hash, inv.payment_hash);
        assert_eq!(again.amount_msat, inv.amount_msat);
    }
}
