//! Onion payload TLV: decode, and re-encode what decoded.

use flotilla_ln::onion::tlv;

/// The hop payload TLV stream (including the odd redundant-part record 65537): decoding
/// never panics, and whatever decodes re-encodes to bytes that decode to the same
/// payload, of the length `encoded_len` predicts.
pub fn tlv_payload(data: &[u8]) {
    let _ = tlv::read_bigsize(data, 0);
    for is_final in [false, true] {
        if let Ok(p) = tlv::decode_hop(data, is_final) {
            tlv::check_position(&p, is_final).expect("decode_hop checked the position");
        }
    }
    if let Ok(p) = tlv::decode(data) {
        let enc = tlv::encode(&p);
        assert_eq!(enc.len(), tlv::encoded_len(&p), "encoded_len");
        let back = tlv::decode(&enc).expect("our own encoding decodes");
        assert_eq!(back, p, "round trip");
    }
}
