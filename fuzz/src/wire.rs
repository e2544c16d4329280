//! The wire encoding of every message: total decoding and exact round trips.

/// `wire`: BOLT 1 peer messages ([`flotilla_ln::wire`]). Decoding any bytes gives a
/// message or an error, never a panic; whatever decodes re-encodes to a message that
/// decodes to itself, under its BOLT and its tunnelled type alike.
pub fn wire(data: &[u8]) {
    use flotilla_ln::wire::{decode, encode, encode_tunnelled, Message};
    let Ok(m) = decode(data) else { return };
    let bytes = encode(&m).expect("a decoded message fits in one message");
    assert_eq!(decode(&bytes).as_ref(), Ok(&m), "round trip");
    let tunnelled = encode_tunnelled(&m).expect("same length as the BOLT framing");
    assert_eq!(decode(&tunnelled).as_ref(), Ok(&m), "tunnelled round trip");
    let payload = m.encode_payload().expect("fits");
    assert_eq!(
        Message::decode_payload(m.message_type(), &payload).as_ref(),
        Ok(&m),
        "payload round trip"
    );
    // Re-encoding drops only skipped odd records, so it is never longer.
    assert!(bytes.len() <= data.len(), "re-encoding grew the message");
}
