//! The wire codec: every message round-trips, arbitrary bytes never panic, BOLT 1's TLV
//! rules hold (odd skipped, even refused, order, minimal BigSize), lengths are bounded,
//! and the BOLT 2 messages are byte-for-byte LDK's.

use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use flotilla_graph::{ChannelIdx, ShortChannelId};
use flotilla_ln::failure::FailureCode;
use flotilla_ln::lock::HtlcLock;
use flotilla_ln::msg::{self, Msg};
use flotilla_ln::msg::{EndpointMsg, HtlcRef, PartTrace};
use flotilla_ln::onion::real::{FailureOnion, RealOnion, ONION_PACKET_LEN};
use flotilla_ln::onion::{FailReason, Onion};
use flotilla_ln::wire::convert::channel_id_of;
use flotilla_ln::wire::{
    decode, encode, encode_tunnelled, BoomerangRefund, CancelHtlc, CancelPayment, ChannelId,
    ClaimRequest, CommitmentSigned, ConvertError, Message, MessageType, RevealSecrets,
    RevokeAndAck, UpdateAddHtlc, UpdateFailHtlc, UpdateFailMalformedHtlc, UpdateFulfillHtlc,
    WireError, MAX_MESSAGE_LEN,
};
use flotilla_ln::{PaymentHash, PaymentPreimage};
use lightning::util::ser::{LengthReadable, Writeable};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

fn key(seed: u64) -> SecretKey {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&seed.to_be_bytes());
    b[31] = 1;
    SecretKey::from_slice(&b).expect("small nonzero scalar")
}

fn point(seed: u64) -> PublicKey {
    PublicKey::from_secret_key(&Secp256k1::new(), &key(seed))
}

fn bytes32() -> impl Strategy<Value = [u8; 32]> {
    prop::array::uniform32(any::<u8>())
}

fn sig() -> impl Strategy<Value = [u8; 64]> {
    (bytes32(), bytes32()).prop_map(|(a, b)| {
        let mut s = [0u8; 64];
        s[..32].copy_from_slice(&a);
        s[32..].copy_from_slice(&b);
        s
    })
}

fn channel_id() -> impl Strategy<Value = ChannelId> {
    bytes32().prop_map(ChannelId)
}

fn onion() -> impl Strategy<Value = RealOnion> {
    (any::<u64>(), any::<u8>()).prop_map(|(seed, version)| {
        // A packet of pseudo-random bytes: the codec carries it, a hop would peel it.
        let mut b = vec![0u8; ONION_PACKET_LEN];
        let mut x = seed | 1;
        for v in b.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *v = x as u8;
        }
        b[0] = version;
        // A valid ephemeral key: LDK writes an invalid one back as zeros.
        b[1..34].copy_from_slice(&point(seed % (1 << 40) + 1).serialize());
        RealOnion::from_bytes(&b).unwrap()
    })
}

fn lock() -> impl Strategy<Value = HtlcLock> {
    prop_oneof![
        Just(HtlcLock::Hash),
        bytes32().prop_map(|h| HtlcLock::H2tlc {
            sender_hash: PaymentHash(h)
        }),
        (1u64..1 << 40).prop_map(|s| HtlcLock::Point { point: point(s) }),
    ]
}

fn add() -> impl Strategy<Value = UpdateAddHtlc> {
    (
        channel_id(),
        any::<u64>(),
        any::<u64>(),
        bytes32(),
        any::<u32>(),
        onion(),
        prop::option::of(1u64..1 << 40),
        lock(),
        prop::option::of(1u64..1 << 40),
    )
        .prop_map(|(c, id, amt, h, cltv, onion, bk, lock, rp)| UpdateAddHtlc {
            channel_id: c,
            id,
            amount_msat: amt,
            payment_hash: PaymentHash(h),
            cltv_expiry: cltv,
            onion_routing_packet: onion,
            blinded_path_key: bk.map(point),
            lock,
            reverse_point: rp.map(point),
        })
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        add().prop_map(Message::UpdateAddHtlc),
        (
            channel_id(),
            any::<u64>(),
            bytes32(),
            prop::option::of(bytes32())
        )
            .prop_map(
                |(c, id, p, s)| Message::UpdateFulfillHtlc(UpdateFulfillHtlc {
                    channel_id: c,
                    id,
                    payment_preimage: PaymentPreimage(p),
                    sender_secret: s,
                })
            ),
        (
            channel_id(),
            any::<u64>(),
            prop::collection::vec(any::<u8>(), 0..600)
        )
            .prop_map(|(c, id, r)| Message::UpdateFailHtlc(UpdateFailHtlc {
                channel_id: c,
                id,
                reason: FailureOnion::from_bytes(r),
            })),
        (channel_id(), sig(), prop::collection::vec(sig(), 0..40)).prop_map(|(c, s, h)| {
            Message::CommitmentSigned(CommitmentSigned {
                channel_id: c,
                signature: s,
                htlc_signatures: h,
            })
        }),
        (channel_id(), bytes32(), 1u64..1 << 40).prop_map(|(c, s, p)| {
            Message::RevokeAndAck(RevokeAndAck {
                channel_id: c,
                per_commitment_secret: s,
                next_per_commitment_point: point(p),
            })
        }),
        (channel_id(), any::<u64>(), bytes32(), any::<u16>()).prop_map(|(c, id, h, code)| {
            Message::UpdateFailMalformedHtlc(UpdateFailMalformedHtlc {
                channel_id: c,
                id,
                sha256_of_onion: h,
                failure_code: code,
            })
        }),
        (
            bytes32(),
            prop::collection::vec((any::<u16>(), any::<u64>()), 0..200)
        )
            .prop_map(|(id, parts)| Message::ClaimRequest(ClaimRequest {
                payment_id: id,
                parts
            })),
        (
            bytes32(),
            prop::collection::vec((any::<u16>(), bytes32()), 0..100)
        )
            .prop_map(|(id, secrets)| Message::RevealSecrets(RevealSecrets {
                payment_id: id,
                secrets
            })),
        bytes32().prop_map(|id| Message::CancelPayment(CancelPayment { payment_id: id })),
        (channel_id(), any::<u64>(), any::<u64>(), 1u64..1 << 40).prop_map(|(c, id, amt, k)| {
            Message::BoomerangRefund(BoomerangRefund {
                channel_id: c,
                id,
                amount_msat: amt,
                p0: key(k),
            })
        }),
        (channel_id(), any::<u64>())
            .prop_map(|(c, id)| Message::CancelHtlc(CancelHtlc { channel_id: c, id })),
    ]
}

/// A TLV record as raw bytes (minimal BigSize).
fn record(t: u64, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [t, value.len() as u64] {
        match v {
            0..=0xfc => out.push(v as u8),
            0xfd..=0xffff => {
                out.push(0xfd);
                out.extend_from_slice(&(v as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                out.push(0xfe);
                out.extend_from_slice(&(v as u32).to_be_bytes());
            }
            _ => {
                out.push(0xff);
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
    }
    out.extend_from_slice(value);
    out
}

/// Above every TLV type the codec writes.
const ABOVE_OURS: u64 = 131_079;

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_message_round_trips(m in message()) {
        let bytes = encode(&m).unwrap();
        prop_assert!(bytes.len() <= MAX_MESSAGE_LEN);
        let t = m.message_type();
        prop_assert_eq!(u16::from_be_bytes([bytes[0], bytes[1]]), t.wire());
        prop_assert_eq!(&decode(&bytes).unwrap(), &m);
        let tunnelled = encode_tunnelled(&m).unwrap();
        prop_assert_eq!(&tunnelled[2..], &bytes[2..]);
        prop_assert_eq!(&decode(&tunnelled).unwrap(), &m);
        let payload = m.encode_payload().unwrap();
        prop_assert_eq!(&Message::decode_payload(t, &payload).unwrap(), &m);
    }

    #[test]
    fn unknown_odd_records_are_skipped_and_even_refused(
        m in message(),
        extra in 0u64..1 << 20,
        value in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let bytes = encode(&m).unwrap();
        let odd = ABOVE_OURS + 2 * extra;
        let mut with_odd = bytes.clone();
        with_odd.extend(record(odd, &value));
        prop_assert_eq!(&decode(&with_odd).unwrap(), &m);
        let mut with_even = bytes.clone();
        with_even.extend(record(odd + 1, &value));
        let is_unknown_even = matches!(
            decode(&with_even),
            Err(WireError::UnknownEvenTlv { tlv_type, .. }) if tlv_type == odd + 1
        );
        prop_assert!(is_unknown_even);
        // Two records out of order, and the same type twice, are refused.
        let mut unordered = bytes.clone();
        unordered.extend(record(odd + 2, &value));
        unordered.extend(record(odd, &value));
        let is_order = matches!(decode(&unordered), Err(WireError::TlvOrder { .. }));
        prop_assert!(is_order);
        let mut twice = with_odd.clone();
        twice.extend(record(odd, &value));
        let is_order = matches!(decode(&twice), Err(WireError::TlvOrder { .. }));
        prop_assert!(is_order);
    }

    #[test]
    fn non_minimal_bigsize_is_refused(m in message(), small in 0u16..0xfd) {
        let mut bytes = encode(&m).unwrap();
        // A type below 0xfd written in three bytes, after every record the codec wrote:
        // refused as non-minimal before the order check can see it.
        let at = bytes.len() - 2;
        bytes.extend([0xfd, (small >> 8) as u8, small as u8, 0]);
        match decode(&bytes) {
            Err(WireError::NonMinimalBigSize { offset, .. }) => prop_assert_eq!(offset, at),
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn every_prefix_is_an_error_or_its_own_message(m in message()) {
        // Cutting inside a fixed field or a record is an error; cutting between records
        // is a shorter valid message, which must re-encode to exactly the prefix.
        let bytes = encode(&m).unwrap();
        for cut in 0..bytes.len() {
            if let Ok(shorter) = decode(&bytes[..cut]) {
                prop_assert_eq!(encode(&shorter).unwrap(), bytes[..cut].to_vec());
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        t in prop::sample::select(MessageType::ALL.to_vec()),
        body in prop::collection::vec(any::<u8>(), 0..2000),
        tunnelled in any::<bool>(),
    ) {
        let mut bytes = if tunnelled { t.custom() } else { t.wire() }.to_be_bytes().to_vec();
        bytes.extend(&body);
        if let Ok(m) = decode(&bytes) {
            // Whatever decodes is canonical once re-encoded.
            let again = encode(&m).unwrap();
            prop_assert_eq!(decode(&again).unwrap(), m);
        }
        let _ = decode(&body);
    }

    #[test]
    fn ldk_reads_our_htlc_updates_and_writes_our_bytes(a in add(), preimage in bytes32(), secret in bytes32()) {
        // Our add, with any lock, is an LDK add; without our extension (and without a
        // blinded path key, which LDK would keep) LDK writes exactly our bytes.
        let ours = Message::UpdateAddHtlc(a.clone()).encode_payload().unwrap();
        let ldk = lightning::ln::msgs::UpdateAddHTLC::read_from_fixed_length_buffer(&mut &ours[..]).unwrap();
        prop_assert_eq!(ldk.channel_id, a.channel_id);
        prop_assert_eq!(ldk.htlc_id, a.id);
        prop_assert_eq!(ldk.amount_msat, a.amount_msat);
        prop_assert_eq!(ldk.payment_hash, a.payment_hash);
        prop_assert_eq!(ldk.cltv_expiry, a.cltv_expiry);
        prop_assert_eq!(ldk.blinding_point, a.blinded_path_key);
        let plain = UpdateAddHtlc { lock: HtlcLock::Hash, reverse_point: None, ..a.clone() };
        prop_assert_eq!(ldk.encode(), Message::UpdateAddHtlc(plain).encode_payload().unwrap());

        let f = UpdateFulfillHtlc {
            channel_id: a.channel_id,
            id: a.id,
            payment_preimage: PaymentPreimage(preimage),
            sender_secret: Some(secret),
        };
        let ours = Message::UpdateFulfillHtlc(f.clone()).encode_payload().unwrap();
        let ldk = lightning::ln::msgs::UpdateFulfillHTLC::read_from_fixed_length_buffer(&mut &ours[..]).unwrap();
        prop_assert_eq!(ldk.payment_preimage, f.payment_preimage);
        let plain = UpdateFulfillHtlc { sender_secret: None, ..f };
        prop_assert_eq!(ldk.encode(), Message::UpdateFulfillHtlc(plain).encode_payload().unwrap());

        let m = UpdateFailMalformedHtlc {
            channel_id: a.channel_id,
            id: a.id,
            sha256_of_onion: preimage,
            failure_code: FailureCode::InvalidOnionHmac.value(),
        };
        let ours = Message::UpdateFailMalformedHtlc(m).encode_payload().unwrap();
        let ldk = lightning::ln::msgs::UpdateFailMalformedHTLC::read_from_fixed_length_buffer(&mut &ours[..]).unwrap();
        prop_assert_eq!(ldk.encode(), ours);
    }
}

// ---------------------------------------------------------------------------------------
// Examples
// ---------------------------------------------------------------------------------------

fn sample_add(lock: HtlcLock) -> UpdateAddHtlc {
    UpdateAddHtlc {
        channel_id: channel_id_of(ShortChannelId(0x0001_0000_0200_0003)),
        id: 7,
        amount_msat: 1_000_000,
        payment_hash: PaymentHash([0x11; 32]),
        cltv_expiry: 800_000,
        onion_routing_packet: RealOnion::from_bytes(&[2u8; ONION_PACKET_LEN]).unwrap(),
        blinded_path_key: None,
        lock,
        reverse_point: None,
    }
}

#[test]
fn the_lock_extension_is_where_the_docs_say() {
    let plain = encode(&Message::UpdateAddHtlc(sample_add(HtlcLock::Hash))).unwrap();
    // type ‖ channel_id ‖ id ‖ amount ‖ hash ‖ cltv ‖ onion, nothing after.
    assert_eq!(plain.len(), 2 + 32 + 8 + 8 + 32 + 4 + ONION_PACKET_LEN);
    assert_eq!(&plain[..2], &128u16.to_be_bytes());
    let h2 = encode(&Message::UpdateAddHtlc(sample_add(HtlcLock::H2tlc {
        sender_hash: PaymentHash([0x22; 32]),
    })))
    .unwrap();
    // BigSize 131073 = fe 00 02 00 01, length 32.
    assert_eq!(&h2[plain.len()..plain.len() + 6], &[0xfe, 0, 2, 0, 1, 32]);
    let pt = encode(&Message::UpdateAddHtlc(sample_add(HtlcLock::Point {
        point: point(5),
    })))
    .unwrap();
    assert_eq!(&pt[plain.len()..plain.len() + 6], &[0xfe, 0, 2, 0, 3, 33]);
    // Both locks at once is no HTLC.
    let mut both = h2.clone();
    both.extend(record(131_075, &point(5).serialize()));
    assert_eq!(decode(&both), Err(WireError::ConflictingLocks));
    // A point lock that is not a point.
    let mut bad = plain.clone();
    bad.extend(record(131_075, &[7u8; 33]));
    assert!(matches!(decode(&bad), Err(WireError::InvalidPoint { .. })));
    // A sender hash of the wrong length.
    let mut short = plain;
    short.extend(record(131_073, &[1u8; 31]));
    assert!(matches!(
        decode(&short),
        Err(WireError::TlvLength {
            tlv_type: 131_073,
            len: 31,
            expected: 32,
            ..
        })
    ));
}

#[test]
fn lengths_are_bounded_both_ways() {
    let big = Message::ClaimRequest(ClaimRequest {
        payment_id: [0; 32],
        parts: vec![(1, 1); ClaimRequest::MAX_PARTS + 1],
    });
    assert!(matches!(encode(&big), Err(WireError::TooLong { .. })));
    let fits = Message::ClaimRequest(ClaimRequest {
        payment_id: [0; 32],
        parts: vec![(1, 1); ClaimRequest::MAX_PARTS],
    });
    assert_eq!(decode(&encode(&fits).unwrap()).unwrap(), fits);
    let sigs = Message::CommitmentSigned(CommitmentSigned {
        channel_id: ChannelId([0; 32]),
        signature: [0; 64],
        htlc_signatures: vec![[0; 64]; CommitmentSigned::MAX_HTLC_SIGNATURES + 1],
    });
    assert!(matches!(encode(&sigs), Err(WireError::TooLong { .. })));
    let mut huge = 32_769u16.to_be_bytes().to_vec();
    huge.resize(MAX_MESSAGE_LEN + 1, 0);
    assert_eq!(
        decode(&huge),
        Err(WireError::TooLong {
            len: MAX_MESSAGE_LEN + 1
        })
    );
    // A count that claims more entries than there are bytes allocates nothing.
    let mut lying = 32_769u16.to_be_bytes().to_vec();
    lying.extend([0u8; 32]);
    lying.extend(u16::MAX.to_be_bytes());
    lying.extend([0u8; 10]);
    assert!(matches!(
        decode(&lying),
        Err(WireError::Truncated {
            field: "num_parts",
            need: 655_350,
            left: 10,
            ..
        })
    ));
}

#[test]
fn message_types_are_bolts_and_odd_custom_ones() {
    for t in MessageType::ALL {
        assert!(t.custom() >= 32_768 && t.custom() % 2 == 1, "{t:?}");
        assert_eq!(MessageType::from_wire(t.custom()), Some(t));
        assert_eq!(MessageType::from_wire(t.wire()), Some(t));
        // Endpoint messages travel in onion messages; the rest between peers.
        let endpoint = matches!(
            t,
            MessageType::ClaimRequest | MessageType::RevealSecrets | MessageType::CancelPayment
        );
        assert_eq!(t.onion_content_type().is_some(), endpoint);
    }
    let customs: std::collections::HashSet<u16> =
        MessageType::ALL.iter().map(|t| t.custom()).collect();
    assert_eq!(customs.len(), MessageType::ALL.len());
    assert_eq!(decode(&[0, 16]), Err(WireError::UnknownEvenType(16)));
    assert_eq!(
        decode(&[0x80, 0x09]),
        Err(WireError::UnknownOddType(32_777))
    );
    assert_eq!(decode(&[0]), Err(WireError::NoType));
    // A boomerang refund's P(0) must be a scalar.
    // (type ‖ channel_id ‖ id ‖ amount_msat ‖ p0)
    let mut zero = 32_775u16.to_be_bytes().to_vec();
    zero.extend([0u8; 32 + 8 + 8 + 32]);
    assert!(matches!(
        decode(&zero),
        Err(WireError::InvalidScalar { .. })
    ));
    // cancel_htlc: 32787, channel_id then id; a short body is refused by field.
    let c = Message::CancelHtlc(CancelHtlc {
        channel_id: ChannelId([1; 32]),
        id: 0x0102,
    });
    let bytes = encode(&c).unwrap();
    assert_eq!(&bytes[..2], &32_787u16.to_be_bytes());
    assert_eq!(bytes.len(), 2 + 32 + 8);
    assert_eq!(&bytes[34..], &0x0102u64.to_be_bytes());
    assert_eq!(decode(&bytes), Ok(c));
    assert!(matches!(
        decode(&bytes[..40]),
        Err(WireError::Truncated { field: "id", .. })
    ));
}

#[test]
fn engine_messages_map_both_ways() {
    let channel_id = channel_id_of(ShortChannelId(42));
    let channel = ChannelIdx(4);
    let htlc = HtlcRef { channel, id: 3 };
    let onion = RealOnion::from_bytes(&[9u8; ONION_PACKET_LEN]).unwrap();
    let add = Msg::AddHtlc(msg::UpdateAddHtlc {
        htlc,
        amount_msat: 5_000,
        payment_hash: PaymentHash([3; 32]),
        lock: HtlcLock::Point { point: point(9) },
        cltv_expiry: 100,
        onion: Onion::Real(onion),
        trace: PartTrace::NONE,
        reverse_point: Some(Box::new(point(11))),
    });
    let fulfil = Msg::FulfillHtlc(msg::UpdateFulfillHtlc {
        htlc,
        preimage: PaymentPreimage([4; 32]),
        sender_secret: Some([5; 32]),
    });
    let fail = Msg::FailHtlc(msg::UpdateFailHtlc {
        htlc,
        reason: FailReason::Real(FailureOnion::from_bytes(vec![6; 292])),
    });
    let malformed = Msg::FailMalformedHtlc(msg::UpdateFailMalformedHtlc {
        htlc,
        sha256_of_onion: [7; 32],
        failure_code: FailureCode::InvalidOnionKey,
    });
    let claim = Msg::Endpoint(EndpointMsg::ClaimRequest {
        payment_id: [8; 32],
        parts: vec![(0, 10), (3, 10)],
    });
    let reveal = Msg::Endpoint(EndpointMsg::Reveal {
        payment_id: [8; 32],
        secrets: vec![(3, [1; 32])],
    });
    let cancel = Msg::Endpoint(EndpointMsg::Cancel {
        payment_id: [8; 32],
    });
    let refund = Msg::BoomerangRefund(msg::BoomerangRefund {
        htlc,
        amount_msat: 5_000,
        p0: key(12).secret_bytes(),
    });
    let cancel_htlc = Msg::CancelHtlc(msg::CancelHtlc { htlc });
    for m in [
        add,
        fulfil,
        fail,
        malformed,
        claim,
        reveal,
        cancel,
        refund,
        cancel_htlc,
    ] {
        let w = m.to_wire(channel_id).unwrap();
        let bytes = encode(&w).unwrap();
        let back = Msg::from_wire(decode(&bytes).unwrap(), channel).unwrap();
        assert_eq!(back, m, "{}", m.name());
    }
    // A malformed-onion failure must carry BADONION and a known code.
    let not_bad = Message::UpdateFailMalformedHtlc(UpdateFailMalformedHtlc {
        channel_id,
        id: 3,
        sha256_of_onion: [0; 32],
        failure_code: FailureCode::TemporaryChannelFailure.value(),
    });
    assert_eq!(
        Msg::from_wire(not_bad, channel),
        Err(ConvertError::NotBadOnion(0x1007))
    );
    // The commitment messages carry signatures the simulator does not model.
    assert!(Msg::CommitmentSigned { channel }
        .to_wire(channel_id)
        .is_err());
}

/// Writes the fuzz seeds (`fuzz/seeds/wire/`): one encoding of each message type, with
/// and without extensions. Run with `cargo test --release -p flotilla-ln --test wire --
/// --ignored write_fuzz_seeds`.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/wire");
    std::fs::create_dir_all(&dir).unwrap();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = message();
    let mut n = 0;
    let mut seen = std::collections::HashMap::new();
    while seen.len() < MessageType::ALL.len() * 2 && n < 10_000 {
        n += 1;
        let m = strategy.new_tree(&mut runner).unwrap().current();
        let t = m.message_type();
        let k = seen.entry(t).or_insert(0);
        if *k >= 2 {
            continue;
        }
        let bytes = if *k == 0 {
            encode(&m).unwrap()
        } else {
            encode_tunnelled(&m).unwrap()
        };
        *k += 1;
        std::fs::write(dir.join(format!("{}-{k}", t.name())), bytes).unwrap();
    }
}
