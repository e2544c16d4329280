//! Unit tests of `real`.

use super::*;
use crate::failure::FailureCode as C;
use crate::payload::PaymentData;
use bitcoin::hex::{DisplayHex, FromHex};
use bitcoin::secp256k1::Secp256k1;
use lightning_types::payment::{PaymentPreimage, PaymentSecret};
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    Vec::<u8>::from_hex(s).expect("valid hex")
}

fn key(byte: u8) -> SecretKey {
    SecretKey::from_slice(&[byte; 32]).expect("valid key")
}

fn pubkey(sk: &SecretKey) -> PublicKey {
    PublicKey::from_secret_key(&Secp256k1::new(), sk)
}

// --- BOLT 4 test vectors (lightning/bolts: bolt04/onion-test.json,
// bolt04/onion-error-test.json, 04-onion-routing.md "Returning Errors") ---

const VECTOR_SESSION_KEY: u8 = 0x41;
const VECTOR_ASSOC_DATA: [u8; 32] = [0x42; 32];
/// Hop `i`'s node secret is `[0x41 + i; 32]` (the `decode` list of onion-test.json).
const VECTOR_PUBKEYS: [&str; 5] = [
    "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619",
    "0324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab1c",
    "027f31ebc5462c1fdce1b737ecff52d37d75dea43ce11c74d25aa297165faa2007",
    "032c0b7cf95324a07d05398b240174dc0c2be444d96b159aa6c7f7b1e668680991",
    "02edabbd16b41c8371b92ef2f04c1185b4f03b6dcd52ba9b78d9d7c89c8f221145",
];
/// Framed payloads (length prefix included) of onion-test.json.
const VECTOR_PAYLOADS: [&str; 5] = [
    "1202023a98040205dc06080000000000000001",
    concat!(
        "52020236b00402057806080000000000000002fd02013c0102030405060708090a0b0c0d0e0f01020304",
        "05060708090a0b0c0d0e0f0102030405060708090a0b0c0d0e0f0102030405060708090a0b0c0d0e0f"
    ),
    "12020230d4040204e206080000000000000003",
    "1202022710040203e806080000000000000004",
    concat!(
        "fd011002022710040203e8082224a33562c54507a9334e79f0dc4f17d407e6d7c61f0e2f3d0d38599502",
        "f617042710fd012de02a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a",
        "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a",
        "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a",
        "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a",
        "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a",
        "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a",
    ),
];
/// The packet onion-test.json expects.
const VECTOR_ONION: &str = concat!(
    "0002eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619f7f3416a5aa36dc7",
    "eeb3ec6d421e9615471ab870a33ac07fa5d5a51df0a8823aabe3fea3f90d387529d4f72837f9e6872303",
    "71ccd8d263072206dbed0234f6505e21e282abd8c0e4f5b9ff8042800bbab065036eadd0149b37f27dde",
    "664725a49866e052e809d2b0198ab9610faa656bbf4ec516763a59f8f42c171b179166ba38958d4f51b3",
    "9b3e98706e2d14a2dafd6a5df808093abfca5aeaaca16eded5db7d21fb0294dd1a163edf0fb445d5c8d7",
    "d688d6dd9c541762bf5a5123bf9939d957fe648416e88f1b0928bfa034982b22548e1a4d922690eecf54",
    "6275afb233acf4323974680779f1a964cfe687456035cc0fba8a5428430b390f0057b6d1fe9a8875bfa8",
    "9693eeb838ce59f09d207a503ee6f6299c92d6361bc335fcbf9b5cd44747aadce2ce6069cfdc3d671dae",
    "f9f8ae590cf93d957c9e873e9a1bc62d9640dc8fc39c14902d49a1c80239b6c5b7fd91d05878cbf5ffc7",
    "db2569f47c43d6c0d27c438abff276e87364deb8858a37e5a62c446af95d8b786eaf0b5fcf78d98b4149",
    "6794f8dcaac4eef34b2acfb94c7e8c32a9e9866a8fa0b6f2a06f00a1ccde569f97eec05c803ba7500acc",
    "96691d8898d73d8e6a47b8f43c3d5de74458d20eda61474c426359677001fbd75a74d7d5db6cb4feb831",
    "22f133206203e4e2d293f838bf8c8b3a29acb321315100b87e80e0edb272ee80fda944e3fb6084ed4d7f",
    "7c7d21c69d9da43d31a90b70693f9b0cc3eac74c11ab8ff655905688916cfa4ef0bd04135f2e50b7c689",
    "a21d04e8e981e74c6058188b9b1f9dfc3eec6838e9ffbcf22ce738d8a177c19318dffef090cee67e12de",
    "1a3e2a39f61247547ba5257489cbc11d7d91ed34617fcc42f7a9da2e3cf31a94a210a1018143173913c3",
    "8f60e62b24bf0d7518f38b5bab3e6a1f8aeb35e31d6442c8abb5178efc892d2e787d79c6ad9e2fc27179",
    "2983fa9955ac4d1d84a36c024071bc6e431b625519d556af38185601f70e29035ea6a09c8b676c9d88cf",
    "7e05e0f17098b584c4168735940263f940033a220f40be4c85344128b14beb9e75696db37014107801a5",
    "9b13e89cd9d2258c169d523be6d31552c44c82ff4bb18ec9f099f3bf0e5b1bb2ba9a87d7e26f98d29492",
    "7b600b5529c47e04d98956677cbcee8fa2b60f49776d8b8c367465b7c626da53700684fb6c918ead0eab",
    "8360e4f60edd25b4f43816a75ecf70f909301825b512469f8389d79402311d8aecb7b3ef8599e79485a4",
    "388d87744d899f7c47ee644361e17040a7958c8911be6f463ab6a9b2afacd688ec55ef517b38f1339efc",
    "54487232798bb25522ff4572ff68567fe830f92f7b8113efce3e98c3fffbaedce4fd8b50e41da97c0c08",
    "e423a72689cc68e68f752a5e3a9003e64e35c957ca2e1c48bb6f64b05f56b70b575ad2f278d57850a7ad",
    "568c24a4d32a3d74b29f03dc125488bc7c637da582357f40b0a52d16b3b40bb2c2315d03360bc24209e2",
    "0972c200566bcf3bbe5c5b0aedd83132a8a4d5b4242ba370b6d67d9b67eb01052d132c7866b9cb502e44",
    "796d9d356e4e3cb47cc527322cd24976fe7c9257a2864151a38e568ef7a79f10d6ef27cc04ce382347a2",
    "488b1f404fdbf407fe1ca1c9d0d5649e34800e25e18951c98cae9f43555eef65fee1ea8f15828807366c",
    "3b612cd5753bf9fb8fced08855f742cddd6f765f74254f03186683d646e6f09ac2805586c7cf11998357",
    "cafc5df3f285329366f475130c928b2dceba4aa383758e7a9d20705c4bb9db619e2992f608a1ba65db25",
    "4bb389468741d0502e2588aeb54390ac600c19af5c8e61383fc1bebe0029e4474051e4ef908828db9cca",
    "13277ef65db3fd47ccc2179126aaefb627719f421e20",
);
/// Per-hop shared secrets (onion-error-test.json, same session key and hops).
const VECTOR_SHARED_SECRETS: [&str; 5] = [
    "53eb63ea8a3fec3b3cd433b85cd62a4b145e1dda09391b348c4e1cd36a03ea66",
    "a6519e98832a0b179f62123b3567c106db99ee37bef036e783263602f3488fae",
    "3a6b412548762f0dbccce5c7ae7bb8147d1caf9b5471c34120b30bc9c04891cc",
    "21e13c2d7cfe7e18836df50872466117a295783ab8aab0e7ecc8c725503ad02d",
    "b5756b9b542727dbafc6765a49488b023a725d631af688fc031217e90770c328",
];
/// onion-error-test.json: `temporary_node_failure` (0x2002) from hops[4], as it
/// reaches the sender.
const VECTOR_ERROR_PACKET: &str = concat!(
    "9c5add3963fc7f6ed7f148623c84134b5647e1306419dbe2174e523fa9e2fbed3a06a19f899145610741",
    "c83ad40b7712aefaddec8c6baf7325d92ea4ca4d1df8bce517f7e54554608bf2bd8071a4f52a7a2f7ffb",
    "b1413edad81eeea5785aa9d990f2865dc23b4bc3c301a94eec4eabebca66be5cf638f693ec256aec5146",
    "20cc28ee4a94bd9565bc4d4962b9d3641d4278fb319ed2b84de5b665f307a2db0f7fbb757366067d88c5",
    "0f7e829138fde4f78d39b5b5802f1b92a8a820865af5cc79f9f30bc3f461c66af95d13e5e1f0381c1845",
    "72a91dee1c849048a647a1158cf884064deddbf1b0b88dfe2f791428d0ba0f6fb2f04e14081f69165ae6",
    "6d9297c118f0907705c9c4954a199bae0bb96fad763d690e7daa6cfda59ba7f2c8d11448b604d12d",
);
/// 04-onion-routing.md "Returning Errors": `incorrect_or_unknown_payment_details`
/// (htlc_msat 100, height 800000, plus a 300-byte extension TLV, 1024-byte padded
/// body) from node 4, as it reaches the sender ("error packet for node 0").
const VECTOR_ERROR_PACKET_MD: &str = concat!(
    "2dd2f49c1f5af0fcad371d96e8cddbdcd5096dc309c1d4e110f955926506b3c03b44c192896f45610741",
    "c85ed4074212537e0c118d472ff3a559ae244acd9d783c65977765c5d4e00b723d00f12475aafaafff7b",
    "31c1be5a589e6e25f8da2959107206dd42bbcb43438129ce6cce2b6b4ae63edc76b876136ca5ea6cd1c6",
    "a04ca86eca143d15e53ccdc9e23953e49dc2f87bb11e5238cd6536e57387225b8fff3bf5f3e686fd0845",
    "8ffe0211b87d64770db9353500af9b122828a006da754cf979738b4374e146ea79dd93656170b89c98c5",
    "f2299d6e9c0410c826c721950c780486cd6d5b7130380d7eaff994a8503a8fef3270ce94889fe996da66",
    "ed121741987010f785494415ca991b2e8b39ef2df6bde98efd2aec7d251b2772485194c8368451ad49c2",
    "354f9d30d95367bde316fec6cbdddc7dc0d25e99d3075e13d3de0822669861dafcd29de74eac48b64411",
    "987285491f98d78584d0c2a163b7221ea796f9e8671b2bb91e38ef5e18aaf32c6c02f2fb690358872a1e",
    "d28166172631a82c2568d23238017188ebbd48944a147f6cdb3690d5f88e51371cb70adf1fa02afe4ed8",
    "b581afc8bcc5104922843a55d52acde09bc9d2b71a663e178788280f3c3eae127d21b0b95777976b3eb1",
    "7be40a702c244d0e5f833ff49dae6403ff44b131e66df8b88e33ab0a58e379f2c34bf5113c66b9ea8241",
    "fc7aa2b1fa53cf4ed3cdd91d407730c66fb039ef3a36d4050dde37d34e80bcfe02a48a6b14ae28227b16",
    "27b5ad07608a7763a531f2ffc96dff850e8c583461831b19feffc783bc1beab6301f647e9617d14c92c4",
    "b1d63f5147ccda56a35df8ca4806b8884c4aa3c3cc6a174fdc2232404822569c01aba686c1df5eecc059",
    "ba97e9688c8b16b70f0d24eacfdba15db1c71f72af1b2af85bd168f0b0800483f115eeccd9b02adf03bd",
    "d4a88eab03e43ce342877af2b61f9d3d85497cd1c6b96674f3d4f07f635bb26add1e36835e321d70263b",
    "1c04234e222124dad30ffb9f2a138e3ef453442df1af7e566890aedee568093aa922dd62db188aa8361c",
    "55503f8e2c2e6ba93de744b55c15260f15ec8e69bb01048ca1fa7bbbd26975bde80930a5b95054688a0e",
    "a73af0353cc84b997626a987cc06a517e18f91e02908829d4f4efc011b9867bd9bfe04c5f94e4b9261d3",
    "0cc39982eb7b250f12aee2a4cce0484ff34eebba89bc6e35bd48d3968e4ca2d77527212017e202141900",
    "152f2fd8af0ac3aa456aae13276a13b9b9492a9a636e18244654b3245f07b20eb76b8e1cea8c55e5427f",
    "08a63a16b0a633af67c8e48ef8e53519041c9138176eb14b8782c6c2ee76146b8490b97978ee73cd0104",
    "e12f483be5a4af414404618e9f6633c55dda6f22252cb793d3d16fae4f0e1431434e7acc8fa2c009d4f6",
    "e345ade172313d558a4e61b4377e31b8ed4e28f7cd13a7fe3f72a409bc3bdabfe0ba47a6d861e21f64d2",
    "fac706dab18b3e546df4",
);

fn vector_hops() -> Vec<(PublicKey, Vec<u8>)> {
    VECTOR_PUBKEYS
        .iter()
        .zip(VECTOR_PAYLOADS)
        .map(|(pk, payload)| (pk.parse().unwrap(), hex(payload)))
        .collect()
}

fn vector_secrets() -> Vec<SharedSecret> {
    VECTOR_SHARED_SECRETS
        .iter()
        .map(|s| hex(s).try_into().unwrap())
        .collect()
}

#[test]
fn bolt4_vector_keys_match() {
    for (i, pk) in VECTOR_PUBKEYS.iter().enumerate() {
        assert_eq!(pubkey(&key(0x41 + i as u8)).to_string(), *pk);
    }
}

#[test]
fn bolt4_vector_onion_packet() {
    let built =
        build_onion_raw(&key(VECTOR_SESSION_KEY), &vector_hops(), &VECTOR_ASSOC_DATA).unwrap();
    assert_eq!(built.onion.as_bytes().to_lower_hex_string(), VECTOR_ONION);
    assert_eq!(built.shared_secrets, vector_secrets());
}

#[test]
fn bolt4_vector_onion_peels_to_spec_payloads() {
    let mut onion = RealOnion::from_bytes(&hex(VECTOR_ONION)).unwrap();
    let secret = hex("24a33562c54507a9334e79f0dc4f17d407e6d7c61f0e2f3d0d38599502f61704");
    let expected = [
        HopPayload::forward(1, 15000, 1500),
        HopPayload::forward(2, 14000, 1400),
        HopPayload::forward(3, 12500, 1250),
        HopPayload::forward(4, 10000, 1000),
        HopPayload::final_hop(
            10000,
            1000,
            Some(PaymentData {
                payment_secret: PaymentSecret(secret.try_into().unwrap()),
                total_msat: 10000,
            }),
            None,
        ),
    ];
    let secrets = vector_secrets();
    for (i, want) in expected.iter().enumerate() {
        let peeled = peel_onion(&key(0x41 + i as u8), &onion, &VECTOR_ASSOC_DATA).unwrap();
        assert_eq!(&peeled.payload, want, "hop {i}");
        assert_eq!(peeled.shared_secret, secrets[i], "hop {i}");
        match peeled.next {
            Some(next) => onion = next,
            None => assert_eq!(i, 4, "only the last hop is final"),
        }
    }
}

#[test]
fn bolt4_vector_failure_onion() {
    let secrets = vector_secrets();
    let mut failure = build_failure(
        &secrets[4],
        C::TemporaryNodeFailure,
        &FailureData::default(),
    );
    for ss in secrets[..4].iter().rev() {
        failure = wrap_failure(ss, failure);
    }
    assert_eq!(
        failure.as_bytes().to_lower_hex_string(),
        VECTOR_ERROR_PACKET
    );
    assert_eq!(
        decode_failure(&secrets, &failure),
        Ok(Failure {
            code: C::TemporaryNodeFailure,
            data: FailureData::default(),
            origin_hop: 4
        })
    );
}

#[test]
fn bolt4_md_vector_failure_decodes() {
    let failure = FailureOnion::from_bytes(hex(VECTOR_ERROR_PACKET_MD));
    assert_eq!(
        decode_failure(&vector_secrets(), &failure),
        Ok(Failure {
            code: C::IncorrectOrUnknownPaymentDetails,
            data: FailureData {
                htlc_msat: Some(100),
                height: Some(800_000),
                ..FailureData::default()
            },
            origin_hop: 4
        })
    );
}

// --- Behaviour ---

struct Path {
    node_keys: Vec<SecretKey>,
    hops: Vec<(PublicKey, HopPayload)>,
}

fn path(n: usize) -> Path {
    let node_keys: Vec<SecretKey> = (0..n).map(|i| key(0x10 + i as u8)).collect();
    let mut hops = Vec::new();
    for (i, sk) in node_keys.iter().enumerate() {
        let amt = 1_000_000 + 1_000 * (n - i) as u64;
        let cltv = 800_000 + 40 * (n - i) as u32;
        let payload = if i + 1 == n {
            HopPayload::final_hop(
                amt,
                cltv,
                Some(PaymentData {
                    payment_secret: PaymentSecret([0x55; 32]),
                    total_msat: 3_000_000,
                }),
                Some(PaymentPreimage([0x66; 32])),
            )
        } else {
            HopPayload::forward(700_000_000_000 + i as u64, amt, cltv)
        };
        hops.push((pubkey(sk), payload));
    }
    Path { node_keys, hops }
}

const HASH: [u8; 32] = [0x77; 32];

#[test]
fn five_hop_chain_recovers_every_payload() {
    let p = path(5);
    let built = build_onion(&key(0x99), &p.hops, &HASH).unwrap();
    assert_eq!(built.shared_secrets.len(), 5);
    let mut onion = built.onion;
    for (i, sk) in p.node_keys.iter().enumerate() {
        let peeled = peel_onion(sk, &onion, &HASH).unwrap();
        assert_eq!(peeled.payload, p.hops[i].1, "hop {i}");
        assert_eq!(peeled.shared_secret, built.shared_secrets[i]);
        match peeled.next {
            Some(next) => {
                assert!(i < 4);
                assert_eq!(next.as_bytes().len(), ONION_PACKET_LEN);
                onion = next;
            }
            None => assert_eq!(i, 4),
        }
    }
}

#[test]
fn packet_only_and_lazy_secrets_agree_with_build_onion() {
    let p = path(4);
    let built = build_onion(&key(0x99), &p.hops, &HASH).unwrap();
    let packet = build_onion_packet(&key(0x99), &p.hops, &HASH).unwrap();
    assert_eq!(packet, built.onion);
    let nodes: Vec<PublicKey> = p.hops.iter().map(|(pk, _)| *pk).collect();
    assert_eq!(
        onion_shared_secrets(&key(0x99), &nodes).unwrap(),
        built.shared_secrets
    );
}

#[test]
fn single_hop_and_max_size_paths() {
    let p = path(1);
    let built = build_onion(&key(0x99), &p.hops, &HASH).unwrap();
    let peeled = peel_onion(&p.node_keys[0], &built.onion, &HASH).unwrap();
    assert_eq!(peeled.payload, p.hops[0].1);
    assert!(peeled.next.is_none());

    // 24 forwarding payloads (19 bytes framed + 32-byte HMAC each) and a final one
    // (9 + 32) fill 1265 of the 1300 bytes; one more forwarding hop does not fit.
    let p = path(25);
    let hops: Vec<_> = p
        .hops
        .iter()
        .enumerate()
        .map(|(i, (pk, _))| {
            let payload = if i == 24 {
                HopPayload::final_hop(1000, 500, None, None)
            } else {
                HopPayload::forward(1, 1000, 500)
            };
            (*pk, payload)
        })
        .collect();
    let built = build_onion(&key(0x99), &hops, &HASH).unwrap();
    let mut onion = built.onion;
    for (i, sk) in p.node_keys.iter().enumerate() {
        let peeled = peel_onion(sk, &onion, &HASH).unwrap();
        assert_eq!(peeled.payload, hops[i].1);
        if let Some(next) = peeled.next {
            onion = next;
        }
    }
    let mut too_many = hops.clone();
    too_many.push(hops[0].clone());
    assert!(matches!(
        build_onion(&key(0x99), &too_many, &HASH),
        Err(OnionError::PayloadsTooLarge { .. })
    ));
    assert_eq!(
        build_onion(&key(0x99), &[], &HASH),
        Err(OnionError::EmptyPath)
    );
}

#[test]
fn tampering_is_invalid_onion_hmac() {
    let p = path(3);
    let built = build_onion(&key(0x99), &p.hops, &HASH).unwrap();
    let good = built.onion.as_bytes().to_vec();
    for pos in [40, 100, 700, 1333, 1334, 1365] {
        let mut bad = good.clone();
        bad[pos] ^= 0x01;
        let onion = RealOnion::from_bytes(&bad).unwrap();
        let err = peel_onion(&p.node_keys[0], &onion, &HASH).unwrap_err();
        assert_eq!(err.failure_code(), Some(C::InvalidOnionHmac), "byte {pos}");
        assert_eq!(
            err,
            OnionError::BadOnion {
                code: C::InvalidOnionHmac,
                sha256_of_onion: sha256::Hash::hash(&bad).to_byte_array()
            }
        );
    }
    // Tampering further down the path is caught where it is peeled.
    let hop0 = peel_onion(&p.node_keys[0], &built.onion, &HASH).unwrap();
    let mut bad = hop0.next.unwrap().as_bytes().to_vec();
    bad[500] ^= 0x80;
    let err = peel_onion(
        &p.node_keys[1],
        &RealOnion::from_bytes(&bad).unwrap(),
        &HASH,
    );
    assert_eq!(err.unwrap_err().failure_code(), Some(C::InvalidOnionHmac));
    // A different payment hash is a tampered HTLC too.
    let err = peel_onion(&p.node_keys[0], &built.onion, &[0x78; 32]).unwrap_err();
    assert_eq!(err.failure_code(), Some(C::InvalidOnionHmac));
}

#[test]
fn version_and_key_errors() {
    let p = path(2);
    let built = build_onion(&key(0x99), &p.hops, &HASH).unwrap();
    let mut bad = built.onion.as_bytes().to_vec();
    bad[0] = 1;
    let err = peel_onion(
        &p.node_keys[0],
        &RealOnion::from_bytes(&bad).unwrap(),
        &HASH,
    );
    assert_eq!(
        err.unwrap_err().failure_code(),
        Some(C::InvalidOnionVersion)
    );
    let mut bad = built.onion.as_bytes().to_vec();
    bad[1] = 0x05; // not a compressed-key prefix
    let err = peel_onion(
        &p.node_keys[0],
        &RealOnion::from_bytes(&bad).unwrap(),
        &HASH,
    );
    assert_eq!(err.unwrap_err().failure_code(), Some(C::InvalidOnionKey));
    assert_eq!(
        RealOnion::from_bytes(&bad[..1000]),
        Err(OnionError::WrongLength { len: 1000 })
    );
}

#[test]
fn wrong_node_key_fails_cleanly() {
    let p = path(3);
    let built = build_onion(&key(0x99), &p.hops, &HASH).unwrap();
    for wrong in [&p.node_keys[1], &p.node_keys[2], &key(0x01)] {
        let err = peel_onion(wrong, &built.onion, &HASH).unwrap_err();
        assert_eq!(err.failure_code(), Some(C::InvalidOnionHmac));
    }
}

#[test]
fn invalid_payloads_are_invalid_onion_payload() {
    let sks = [key(0x21), key(0x22)];
    let pks: Vec<_> = sks.iter().map(pubkey).collect();
    let good_fwd = frame_payload(&HopPayload::forward(9, 1000, 100));
    let good_final = frame_payload(&HopPayload::final_hop(1000, 100, None, None));
    let cases: Vec<(Vec<u8>, Vec<u8>, usize, PayloadError)> = vec![
        // unknown even type at hop 0 (after 2 and 4)
        (
            hex("0802000400100000"),
            good_final.clone(),
            0,
            PayloadError::UnknownEvenType {
                tlv_type: 16,
                offset: 4,
            },
        ),
        // forwarding hop without short_channel_id
        (
            hex("0402000400"),
            good_final.clone(),
            0,
            PayloadError::MissingField { tlv_type: 6 },
        ),
        // final hop with short_channel_id
        (
            good_fwd.clone(),
            good_fwd.clone(),
            1,
            PayloadError::UnexpectedField {
                tlv_type: 6,
                final_hop: true,
            },
        ),
        // legacy (length 0) payload
        (
            good_fwd.clone(),
            vec![0u8; 33],
            1,
            PayloadError::ReservedLength { len: 0 },
        ),
    ];
    for (d0, d1, bad_hop, want) in cases {
        let hops = vec![(pks[0], d0), (pks[1], d1)];
        let built = build_onion_raw(&key(0x99), &hops, &HASH).unwrap();
        let mut onion = built.onion;
        for (hop, sk) in sks.iter().enumerate().take(bad_hop + 1) {
            let res = peel_onion(sk, &onion, &HASH);
            if hop < bad_hop {
                onion = res.unwrap().next.unwrap();
                continue;
            }
            let err = res.unwrap_err();
            assert_eq!(err.failure_code(), Some(C::InvalidOnionPayload));
            let OnionError::InvalidPayload {
                error,
                shared_secret,
            } = err
            else {
                unreachable!()
            };
            assert_eq!(error, want);
            assert_eq!(shared_secret, built.shared_secrets[hop]);
            // The hop answers with an ordinary failure onion the sender attributes.
            let mut f = build_failure(
                &shared_secret,
                C::InvalidOnionPayload,
                &FailureData::default(),
            );
            for ss in built.shared_secrets[..hop].iter().rev() {
                f = wrap_failure(ss, f);
            }
            let decoded = decode_failure(&built.shared_secrets, &f).unwrap();
            assert_eq!(
                (decoded.code, decoded.origin_hop),
                (C::InvalidOnionPayload, hop)
            );
        }
    }
}

fn full_data(code: FailureCode) -> FailureData {
    let update = Some(ChannelUpdateRef {
        short_channel_id: 0x0a0b_0c00_0d0e_0f10,
        direction: 1,
        disabled: code == C::ChannelDisabled,
    });
    canonical_failure_data(
        code,
        &FailureData {
            htlc_msat: Some(123_456_789),
            cltv_expiry: Some(800_123),
            height: Some(800_001),
            channel_update: update,
        },
    )
}

#[test]
fn failure_from_every_hop_with_every_code() {
    let p = path(5);
    let built = build_onion(&key(0x99), &p.hops, &HASH).unwrap();
    for k in 0..5 {
        for code in FailureCode::ALL {
            let data = full_data(code);
            let mut f = build_failure(&built.shared_secrets[k], code, &data);
            assert_eq!(f.len(), 32 + 2 + FAILURE_PAD_TO + 2);
            for ss in built.shared_secrets[..k].iter().rev() {
                f = wrap_failure(ss, f);
            }
            let got = decode_failure(&built.shared_secrets, &f).unwrap();
            assert_eq!(
                got,
                Failure {
                    code,
                    data: data.clone(),
                    origin_hop: k
                },
                "{code} from hop {k}"
            );
        }
    }
}

#[test]
fn canonical_data_keeps_exactly_the_code_fields() {
    let all = FailureData {
        htlc_msat: Some(5),
        cltv_expiry: Some(6),
        height: Some(7),
        channel_update: Some(ChannelUpdateRef {
            short_channel_id: 8,
            direction: 0,
            disabled: true,
        }),
    };
    assert_eq!(
        canonical_failure_data(C::FeeInsufficient, &all),
        FailureData {
            htlc_msat: Some(5),
            channel_update: all.channel_update,
            ..FailureData::default()
        }
    );
    assert_eq!(
        canonical_failure_data(C::IncorrectOrUnknownPaymentDetails, &all),
        FailureData {
            htlc_msat: Some(5),
            height: Some(7),
            ..FailureData::default()
        }
    );
    assert_eq!(
        canonical_failure_data(C::UnknownNextPeer, &all),
        FailureData::default()
    );
    // A missing channel_update stays missing; missing numbers become 0.
    assert_eq!(
        canonical_failure_data(C::AmountBelowMinimum, &FailureData::default()),
        FailureData {
            htlc_msat: Some(0),
            ..FailureData::default()
        }
    );
    // Wire shape: fee_insufficient = code, u64, u16 len, 138-byte channel_update.
    let msg = encode_failure_message(C::FeeInsufficient, &all, None);
    assert_eq!(msg.len(), 2 + 8 + 2 + CHANNEL_UPDATE_LEN);
    assert_eq!(msg[..2].to_lower_hex_string(), "100c");
    assert_eq!(msg[12..14].to_lower_hex_string(), "0102");
}

#[test]
fn bad_onion_failure_carries_the_hash() {
    let ss = [9u8; 32];
    let f = build_bad_onion_failure(&ss, C::InvalidOnionHmac, &[0xee; 32]);
    let got = decode_failure(&[[1u8; 32], ss], &wrap_failure(&[1u8; 32], f)).unwrap();
    assert_eq!((got.code, got.origin_hop), (C::InvalidOnionHmac, 1));
    let msg = encode_failure_message(
        C::InvalidOnionHmac,
        &FailureData::default(),
        Some(&[0xee; 32]),
    );
    assert_eq!(msg.len(), 34);
    assert_eq!(&msg[2..], &[0xee; 32]);
}

#[test]
fn undecodable_failures_are_typed() {
    let secrets = vec![[1u8; 32], [2u8; 32]];
    assert_eq!(
        decode_failure(&secrets, &FailureOnion::from_bytes(vec![0; 10])),
        Err(OnionError::UnattributableFailure)
    );
    assert_eq!(
        decode_failure(&secrets, &FailureOnion::from_bytes(vec![0; 292])),
        Err(OnionError::UnattributableFailure)
    );
    // Authenticated but unknown code / truncated data.
    let seal = |msg: &[u8]| {
        let mut payload = (msg.len() as u16).to_be_bytes().to_vec();
        payload.extend_from_slice(msg);
        payload.extend_from_slice(&0u16.to_be_bytes());
        FailureOnion::from_bytes(OnionErrorPacket::create(&secrets[1], payload).into_bytes())
    };
    let f = wrap_failure(&secrets[0], seal(&[0x12, 0x34]));
    assert_eq!(
        decode_failure(&secrets, &f),
        Err(OnionError::UnknownFailureCode {
            code: 0x1234,
            origin_hop: 1
        })
    );
    let f = wrap_failure(&secrets[0], seal(&[0x10, 0x0c, 0, 0, 0]));
    assert_eq!(
        decode_failure(&secrets, &f),
        Err(OnionError::MalformedFailure { origin_hop: 1 })
    );
    // A garbled failure is unattributable.
    let p = path(2);
    let built = build_onion(&key(0x99), &p.hops, &HASH).unwrap();
    let f = build_failure(
        &built.shared_secrets[1],
        C::MppTimeout,
        &FailureData::default(),
    );
    let mut bytes = wrap_failure(&built.shared_secrets[0], f).into_bytes();
    bytes[100] ^= 1;
    assert_eq!(
        decode_failure(&built.shared_secrets, &FailureOnion::from_bytes(bytes)),
        Err(OnionError::UnattributableFailure)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_onion_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), ONION_PACKET_LEN),
        fix_header in any::<bool>(),
    ) {
        let mut bytes = bytes;
        if fix_header {
            // a valid version and ephemeral key, so that the HMAC check runs
            bytes[0] = 0;
            bytes[1..34].copy_from_slice(&pubkey(&key(0x31)).serialize());
        }
        let onion = RealOnion::from_bytes(&bytes).unwrap();
        let err = peel_onion(&key(0x10), &onion, &HASH).unwrap_err();
        prop_assert!(err.failure_code().is_some_and(|c| c.is_bad_onion()));
    }

    #[test]
    fn random_hop_data_never_panics(
        d0 in proptest::collection::vec(any::<u8>(), 1..200),
        d1 in proptest::collection::vec(any::<u8>(), 1..200),
    ) {
        let sks = [key(0x21), key(0x22)];
        let hops = vec![(pubkey(&sks[0]), d0), (pubkey(&sks[1]), d1)];
        let built = build_onion_raw(&key(0x99), &hops, &HASH).unwrap();
        if let Ok(peeled) = peel_onion(&sks[0], &built.onion, &HASH) {
            if let Some(next) = peeled.next {
                let _ = peel_onion(&sks[1], &next, &HASH);
            }
        }
    }

    #[test]
    fn random_failure_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let secrets = [[1u8; 32], [2u8; 32], [3u8; 32]];
        let _ = decode_failure(&secrets, &FailureOnion::from_bytes(bytes));
    }

    #[test]
    fn random_authenticated_failure_messages_never_panic(
        payload in proptest::collection::vec(any::<u8>(), 0..300),
        hop in 0usize..3,
    ) {
        let secrets = [[1u8; 32], [2u8; 32], [3u8; 32]];
        let mut f = FailureOnion::from_bytes(OnionErrorPacket::create(&secrets[hop], payload).into_bytes());
        for ss in secrets[..hop].iter().rev() {
            f = wrap_failure(ss, f);
        }
        match decode_failure(&secrets, &f) {
            Ok(failure) => prop_assert_eq!(failure.origin_hop, hop),
            Err(OnionError::MalformedFailure { origin_hop })
            | Err(OnionError::UnknownFailureCode { origin_hop, .. }) => {
                prop_assert_eq!(origin_hop, hop)
            }
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }
}
