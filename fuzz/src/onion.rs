//! Real (Sphinx) onions: arbitrary and tampered packets are refused, never a panic.

use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use flotilla_ln::failure::{FailureCode, FailureData};
use flotilla_ln::onion::real::{
    build_failure, build_onion_raw, decode_failure, peel_onion, wrap_failure, OnionError, RealOnion,
};
use flotilla_ln::onion::tlv;

use super::Input;

fn node_secret(i: u8) -> SecretKey {
    SecretKey::from_slice(&[i + 1; 32]).expect("valid key")
}

/// Peeling real BOLT 4 onions: arbitrary packets, packets built over fuzzed hop payloads
/// (so the HMAC passes and the payload decoder sees arbitrary TLVs), tampered packets,
/// and failure onions. Never panics; a tampered packet is always refused.
pub fn onion_peel(data: &[u8]) {
    let mut input = Input::new(data);
    let secp = Secp256k1::signing_only();
    let ad = [7u8; 32];
    match input.u8() % 3 {
        0 => {
            // A packet from the wire.
            let mut bytes = input.rest().to_vec();
            bytes.resize(1366, 0);
            let onion = RealOnion::from_bytes(&bytes).expect("right length");
            let _ = peel_onion(&node_secret(0), &onion, &ad);
        }
        1 => {
            // A packet we build over fuzzed payloads, peeled hop by hop.
            let hops = 1 + input.below(4);
            let mut payloads = Vec::new();
            for i in 0..hops {
                let raw = input.var_bytes(300);
                let framed = if input.u8() < 240 {
                    let mut f = Vec::new();
                    tlv::write_bigsize(&mut f, raw.len() as u64);
                    f.extend_from_slice(raw);
                    f
                } else {
                    raw.to_vec()
                };
                payloads.push((node_secret(i as u8).public_key(&secp), framed));
            }
            let session = node_secret(200);
            let Ok(built) = build_onion_raw(&session, &payloads, &ad) else {
                return;
            };
            let tamper = input.u8() < 64;
            let mut onion = built.onion.clone();
            if tamper {
                let mut bytes = onion.as_bytes().to_vec();
                let at = input.below(bytes.len());
                bytes[at] ^= 1 << input.below(8);
                onion = RealOnion::from_bytes(&bytes).expect("right length");
                assert!(
                    peel_onion(&node_secret(0), &onion, &ad).is_err(),
                    "a tampered packet peeled"
                );
                return;
            }
            for i in 0..hops {
                match peel_onion(&node_secret(i as u8), &onion, &ad) {
                    Ok(peeled) => {
                        assert_eq!(peeled.shared_secret, built.shared_secrets[i]);
                        match peeled.next {
                            Some(next) => onion = next,
                            None => break,
                        }
                    }
                    Err(OnionError::InvalidPayload { shared_secret, .. }) => {
                        assert_eq!(shared_secret, built.shared_secrets[i]);
                        break;
                    }
                    Err(e) => panic!("hop {i} could not peel a well-built onion: {e:?}"),
                }
            }
            // The wrong node, or the wrong payment hash, fails the HMAC.
            assert!(peel_onion(&node_secret(99), &built.onion, &ad).is_err());
            assert!(peel_onion(&node_secret(0), &built.onion, &[8u8; 32]).is_err());
        }
        _ => {
            // Failure onions: a real one from a fuzzed hop decodes to that hop; arbitrary
            // bytes never panic.
            let hops = 1 + input.below(4);
            let path: Vec<PublicKey> = (0..hops)
                .map(|i| node_secret(i as u8).public_key(&secp))
                .collect();
            let secrets = flotilla_ln::onion::real::onion_shared_secrets(&node_secret(200), &path)
                .expect("valid keys");
            let origin = input.below(hops);
            let code = FailureCode::ALL[input.below(FailureCode::ALL.len())];
            let data = FailureData {
                htlc_msat: input.bool().then(|| input.u64()),
                cltv_expiry: input.bool().then(|| input.u32()),
                height: input.bool().then(|| input.u32()),
                channel_update: None,
            };
            let mut f = build_failure(&secrets[origin], code, &data);
            for s in secrets[..origin].iter().rev() {
                f = wrap_failure(s, f);
            }
            let decoded = decode_failure(&secrets, &f).expect("a real failure decodes");
            assert_eq!(decoded.origin_hop, origin);
            assert_eq!(decoded.code, code);
            let junk = flotilla_ln::onion::real::FailureOnion::from_bytes(input.rest().to_vec());
            let _ = decode_failure(&secrets, &junk);
        }
    }
}
