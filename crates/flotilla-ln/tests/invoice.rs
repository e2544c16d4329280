//! BOLT 11 invoices: the spec's example invoices decode to the values the spec gives,
//! its invalid examples fail with the right error, tampering is caught, and
//! create → decode keeps every field.

use std::str::FromStr;

use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::{Message, Secp256k1};
use flotilla_ln::invoice::{
    create_invoice, currency_name, decode_invoice, hex, node_key_from_seed, parse_hex32,
    parse_node_key, payment_hash_of, Bolt11Invoice, Currency, DecodedInvoice, InvoiceDescription,
    InvoiceError, InvoiceParams, PaymentKeys, PublicKey, SecretKey, MAX_AMOUNT_MSAT, MAX_TIMESTAMP,
};
use flotilla_ln::{PaymentHash, PaymentPreimage, PaymentSecret};
use lightning_invoice::SignedRawBolt11Invoice;
use proptest::prelude::*;
use rand::SeedableRng;

// ---------------------------------------------------------------------------------
// BOLT 11 test vectors (lightning/bolts, 11-payment-encoding.md, "Examples").
// ---------------------------------------------------------------------------------

/// Every example is signed with this key.
const SPEC_PRIV_KEY: &str = "e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734";
const SPEC_PAYEE: &str = "03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad";
const SPEC_HASH: &str = "0001020304050607080900010203040506070809000102030405060708090102";
const SPEC_TIMESTAMP: u64 = 1_496_314_658;
const CAKE_LIST: &str = "One piece of chocolate cake, one icecream cone, one pickle, one slice of swiss cheese, one slice of salami, one lollypop, one piece of cherry pie, one sausage, one cupcake, and one slice of watermelon";

const DONATION: &str = "lnbc1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwvs8qun0dfjkxaq8rkx3yf5tcsyz3d73gafnh3cax9rn449d9p5uxz9ezhhypd0elx87sjle52x86fux2ypatgddc6k63n7erqz25le42c4u4ecky03ylcqca784w";
const COFFEE: &str = "lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpuaztrnwngzn3kdzw5hydlzf03qdgm2hdq27cqv3agm2awhz5se903vruatfhq77w3ls4evs3ch9zw97j25emudupq63nyw24cg27h2rspfj9srp";
const NONSENSE: &str = "lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4eyqc7d8d0xqzpuyk0sg5g70me25alkluzd2x62aysf2pyy8edtjeevuv4p2d5p76r4zkmneet7uvyakky2zr4cusd45tftc9c5fh0nnqpnl2jfll544esqchsrny";
const HASHED: &str = "lnbc20m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqscc6gd6ql3jrc5yzme8v4ntcewwz5cnw92tz0pc8qcuufvq7khhr8wpald05e92xw006sq94mg8v2ndf4sefvf9sygkshp5zfem29trqq2yxxz7";
const TESTNET_P2PKH: &str = "lntb20m1pvjluezhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqfpp3x9et2e20v6pu37c5d9vax37wxq72un98kmzzhznpurw9sgl2v0nklu2g4d0keph5t7tj9tcqd8rexnd07ux4uv2cjvcqwaxgj7v4uwn5wmypjd5n69z2xm3xgksg28nwht7f6zspwp3f9t";
const ROUTED_P2PKH: &str = "lnbc20m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqsfpp3qjmp7lwpagxun9pygexvgpjdc4jdj85fr9yq20q82gphp2nflc7jtzrcazrra7wwgzxqc8u7754cdlpfrmccae92qgzqvzq2ps8pqqqqqqpqqqqq9qqqvpeuqafqxu92d8lr6fvg0r5gv0heeeqgcrqlnm6jhphu9y00rrhy4grqszsvpcgpy9qqqqqqgqqqqq7qqzqj9n4evl6mr5aj9f58zp6fyjzup6ywn3x6sk8akg5v4tgn2q8g4fhx05wf6juaxu9760yp46454gpg5mtzgerlzezqcqvjnhjh8z3g2qqdhhwkj";
const P2SH: &str = "lnbc20m1pvjluezhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqfppj3a24vwu6r8ejrss3axul8rxldph2q7z9kmrgvr7xlaqm47apw3d48zm203kzcq357a4ls9al2ea73r8jcceyjtya6fu5wzzpe50zrge6ulk4nvjcpxlekvmxl6qcs9j3tz0469gq5g658y";
const P2WPKH: &str = "lnbc20m1pvjluezhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqfppqw508d6qejxtdg4y5r3zarvary0c5xw7kepvrhrm9s57hejg0p662ur5j5cr03890fa7k2pypgttmh4897d3raaq85a293e9jpuqwl0rnfuwzam7yr8e690nd2ypcq9hlkdwdvycqa0qza8";
const P2WSH: &str = "lnbc20m1pvjluezhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqfp4qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q28j0v3rwgy9pvjnd48ee2pl8xrpxysd5g44td63g6xcjcu003j3qe8878hluqlvl3km8rm92f5stamd3jw763n3hck0ct7p8wwj463cql26ava";
const PICO: &str = "lnbc9678785340p1pwmna7lpp5gc3xfm08u9qy06djf8dfflhugl6p7lgza6dsjxq454gxhj9t7a0sd8dgfkx7cmtwd68yetpd5s9xar0wfjn5gpc8qhrsdfq24f5ggrxdaezqsnvda3kkum5wfjkzmfqf3jkgem9wgsyuctwdus9xgrcyqcjcgpzgfskx6eqf9hzqnteypzxz7fzypfhg6trddjhygrcyqezcgpzfysywmm5ypxxjemgw3hxjmn8yptk7untd9hxwg3q2d6xjcmtv4ezq7pqxgsxzmnyyqcjqmt0wfjjq6t5v4khxxqyjw5qcqp2rzjq0gxwkzc8w6323m55m4jyxcjwmy7stt9hwkwe2qxmy8zpsgg7jcuwz87fcqqeuqqqyqqqqlgqqqqn3qq9qn07ytgrxxzad9hc4xt3mawjjt8znfv8xzscs7007v9gh9j569lencxa8xeujzkxs0uamak9aln6ez02uunw6rd2ht2sqe4hz8thcdagpleym0j";
const BEANS: &str = "lnbc25m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdeessp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q5sqqqqqqqqqqqqqqqpqsq67gye39hfg3zd8rgc80k32tvy9xk2xunwm5lzexnvpx6fd77en8qaq424dxgt56cag2dpt359k3ssyhetktkpqh24jqnjyw6uqd08sgptq44qu";
const BEANS_UPPER: &str = "LNBC25M1PVJLUEZPP5QQQSYQCYQ5RQWZQFQQQSYQCYQ5RQWZQFQQQSYQCYQ5RQWZQFQYPQDQ5VDHKVEN9V5SXYETPDEESSP5ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYG3ZYGS9Q5SQQQQQQQQQQQQQQQPQSQ67GYE39HFG3ZD8RGC80K32TVY9XK2XUNWM5LZEXNVPX6FD77EN8QAQ424DXGT56CAG2DPT359K3SSYHETKTKPQH24JQNJYW6UQD08SGPTQ44QU";
const BEANS_IGNORED_FIELDS: &str = "lnbc25m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdeessp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q5sqqqqqqqqqqqqqqqpqsq2qrqqqfppnqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqppnqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqpp4qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqhpnqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqhp4qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqspnqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqsp4qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnp5qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnpkqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq2jxxfsnucm4jf4zwtznpaxphce606fvhvje5x7d4gw7n73994hgs7nteqvenq8a4ml8aqtchv5d9pf7l558889hp4yyrqv6a7zpq9fgpskqhza";

// The spec's invalid examples.
const BAD_FEATURE_100: &str = "lnbc25m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdeessp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q4psqqqqqqqqqqqqqqqpqsqq40wa3khl49yue3zsgm26jrepqr2eghqlx86rttutve3ugd05em86nsefzh4pfurpd9ek9w2vp95zxqnfe2u7ckudyahsa52q66tgzcp6t2dyk";
const BAD_CHECKSUM: &str = "lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4eyqc7d8d0xqzpuyk0sg5g70me25alkluzd2x62aysf2pyy8edtjeevuv4p2d5p76r4zkmneet7uvyakky2zr4cusd45tftc9c5fh0nnqpnl2jfll544esqchsrnt";
const BAD_NO_SEPARATOR: &str = "pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4eyqc7d8d0xqzpuyk0sg5g70me25alkluzd2x62aysf2pyy8edtjeevuv4p2d5p76r4zkmneet7uvyakky2zr4cusd45tftc9c5fh0nnqpnl2jfll544esqchsrny";
const BAD_MIXED_CASE: &str = "LNBC2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpquwpc4curk03c9wlrswe78q4eyqc7d8d0xqzpuyk0sg5g70me25alkluzd2x62aysf2pyy8edtjeevuv4p2d5p76r4zkmneet7uvyakky2zr4cusd45tftc9c5fh0nnqpnl2jfll544esqchsrny";
const BAD_UNRECOVERABLE: &str = "lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpuaxtrnwngzn3kdzw5hydlzf03qdgm2hdq27cqv3agm2awhz5se903vruatfhq77w3ls4evs3ch9zw97j25emudupq63nyw24cg27h2rspk28uwq";
const BAD_TOO_SHORT: &str = "lnbc1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6na6hlh";
const BAD_MULTIPLIER: &str = "lnbc2500x1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpujr6jxr9gq9pv6g46y7d20jfkegkg4gljz2ea2a3m9lmvvr95tq2s0kvu70u3axgelz3kyvtp2ywwt0y8hkx2869zq5dll9nelr83zzqqpgl2zg";
const BAD_SUB_MSAT: &str = "lnbc2500000001p1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu7hqtk93pkf7sw55rdv4k9z2vj050rxdr6za9ekfs3nlt5lr89jqpdmxsmlj9urqumg0h9wzpqecw7th56tdms40p2ny9q4ddvjsedzcplva53s";

/// What the spec says one example contains.
struct Expected {
    name: &'static str,
    invoice: &'static str,
    currency: Currency,
    amount_msat: Option<u64>,
    timestamp: u64,
    payment_hash: &'static str,
    payment_secret: Option<[u8; 32]>,
    description: InvoiceDescription,
    expiry_secs: u64,
    min_final_cltv: u64,
    feature_bits: Vec<u64>,
    route_hints: usize,
    fallbacks: Vec<&'static str>,
}

fn text(s: &str) -> InvoiceDescription {
    InvoiceDescription::Direct(s.to_string())
}

fn cake_hash() -> InvoiceDescription {
    InvoiceDescription::Hash(sha256::Hash::hash(CAKE_LIST.as_bytes()).to_byte_array())
}

fn bytes32(hex_str: &str) -> [u8; 32] {
    parse_hex32(hex_str).unwrap()
}

fn spec_examples() -> Vec<Expected> {
    let legacy = |name, invoice, amount_msat, description, expiry_secs| Expected {
        name,
        invoice,
        currency: Currency::Bitcoin,
        amount_msat,
        timestamp: SPEC_TIMESTAMP,
        payment_hash: SPEC_HASH,
        payment_secret: None,
        description,
        expiry_secs,
        min_final_cltv: 18,
        feature_bits: vec![],
        route_hints: 0,
        fallbacks: vec![],
    };
    let beans = |name, invoice| Expected {
        name,
        invoice,
        currency: Currency::Bitcoin,
        amount_msat: Some(2_500_000_000),
        timestamp: SPEC_TIMESTAMP,
        payment_hash: SPEC_HASH,
        payment_secret: Some([0x11; 32]),
        description: text("coffee beans"),
        expiry_secs: 3600,
        min_final_cltv: 18,
        feature_bits: vec![9, 15, 99],
        route_hints: 0,
        fallbacks: vec![],
    };
    let twenty_milli = 2_000_000_000;
    vec![
        legacy("donation", DONATION, None, text("Please consider supporting this project"), 3600),
        legacy("coffee", COFFEE, Some(250_000_000), text("1 cup coffee"), 60),
        legacy("nonsense", NONSENSE, Some(250_000_000), text("ナンセンス 1杯"), 60),
        legacy("hashed description", HASHED, Some(twenty_milli), cake_hash(), 3600),
        Expected {
            currency: Currency::BitcoinTestnet,
            fallbacks: vec!["mk2QpYatsKicvFVuTAQLBryyccRXMUaGHP"],
            ..legacy("testnet P2PKH fallback", TESTNET_P2PKH, Some(twenty_milli), cake_hash(), 3600)
        },
        Expected {
            fallbacks: vec!["1RustyRX2oai4EYYDpQGWvEL62BBGqN9T"],
            route_hints: 1,
            ..legacy("routed P2PKH fallback", ROUTED_P2PKH, Some(twenty_milli), cake_hash(), 3600)
        },
        Expected {
            fallbacks: vec!["3EktnHQD7RiAE6uzMj2ZifT9YgRrkSgzQX"],
            ..legacy("P2SH fallback", P2SH, Some(twenty_milli), cake_hash(), 3600)
        },
        Expected {
            fallbacks: vec!["bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"],
            ..legacy("P2WPKH fallback", P2WPKH, Some(twenty_milli), cake_hash(), 3600)
        },
        Expected {
            fallbacks: vec!["bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"],
            ..legacy("P2WSH fallback", P2WSH, Some(twenty_milli), cake_hash(), 3600)
        },
        Expected {
            name: "pico-BTC amount",
            invoice: PICO,
            currency: Currency::Bitcoin,
            amount_msat: Some(967_878_534),
            timestamp: 1_572_468_703,
            payment_hash: "462264ede7e14047e9b249da94fefc47f41f7d02ee9b091815a5506bc8abf75f",
            payment_secret: None,
            description: text("Blockstream Store: 88.85 USD for Blockstream Ledger Nano S x 1, \"Back In My Day\" Sticker x 2, \"I Got Lightning Working\" Sticker x 2 and 1 more items"),
            expiry_secs: 604_800,
            min_final_cltv: 10,
            feature_bits: vec![],
            route_hints: 1,
            fallbacks: vec![],
        },
        beans("coffee beans with features and secret", BEANS),
        beans("coffee beans in upper case", BEANS_UPPER),
        beans("coffee beans with fields that must be ignored", BEANS_IGNORED_FIELDS),
    ]
}

fn spec_node_key() -> SecretKey {
    parse_node_key(SPEC_PRIV_KEY).unwrap()
}

fn spec_payee() -> PublicKey {
    PublicKey::from_str(SPEC_PAYEE).unwrap()
}

#[test]
fn spec_key_is_the_spec_payee() {
    let secp = Secp256k1::new();
    assert_eq!(spec_node_key().public_key(&secp), spec_payee());
}

#[test]
fn every_bolt11_example_decodes_to_the_spec_values() {
    for e in spec_examples() {
        let d = decode_invoice(e.invoice).unwrap_or_else(|err| panic!("{}: {err}", e.name));
        let n = e.name;
        assert_eq!(d.currency, e.currency, "{n}");
        assert_eq!(d.payee, spec_payee(), "{n}");
        assert!(!d.payee_explicit, "{n}: no example carries a valid n field");
        assert_eq!(d.amount_msat, e.amount_msat, "{n}");
        assert_eq!(d.timestamp, e.timestamp, "{n}");
        assert_eq!(d.payment_hash, PaymentHash(bytes32(e.payment_hash)), "{n}");
        assert_eq!(d.payment_secret, e.payment_secret.map(PaymentSecret), "{n}");
        assert_eq!(d.description, e.description, "{n}");
        assert_eq!(d.expiry_secs, e.expiry_secs, "{n}");
        assert_eq!(d.min_final_cltv_expiry_delta, e.min_final_cltv, "{n}");
        assert_eq!(
            d.features.iter().map(|f| f.bit).collect::<Vec<_>>(),
            e.feature_bits,
            "{n}"
        );
        assert_eq!(d.route_hint_count(), e.route_hints, "{n}");
        assert_eq!(d.fallback_addresses, e.fallbacks, "{n}");
        assert_eq!(d.bolt11, e.invoice.to_ascii_lowercase(), "{n}");
        d.verify_payee(&spec_payee()).unwrap();
    }
}

#[test]
fn spec_feature_names() {
    let d = decode_invoice(BEANS).unwrap();
    assert_eq!(
        d.feature_names(),
        vec!["var_onion_optin", "payment_secret", "unknown_bit_99"]
    );
    assert!(d.features.iter().all(|f| !f.required()));
    assert!(!d.supports_basic_mpp());
}

#[test]
fn spec_route_hints_carry_the_spec_values() {
    let d = decode_invoice(ROUTED_P2PKH).unwrap();
    let hops = &d.route_hints[0].0;
    assert_eq!(hops.len(), 2);
    let pk = |s: &str| PublicKey::from_str(s).unwrap();
    assert_eq!(
        hops[0].src_node_id,
        pk("029e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255")
    );
    assert_eq!(hops[0].short_channel_id, 0x0102030405060708);
    assert_eq!(
        (hops[0].fees.base_msat, hops[0].fees.proportional_millionths),
        (1, 20)
    );
    assert_eq!(hops[0].cltv_expiry_delta, 3);
    assert_eq!(
        hops[1].src_node_id,
        pk("039e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255")
    );
    assert_eq!(hops[1].short_channel_id, 0x030405060708090a);
    assert_eq!(
        (hops[1].fees.base_msat, hops[1].fees.proportional_millionths),
        (2, 30)
    );
    assert_eq!(hops[1].cltv_expiry_delta, 4);

    let d = decode_invoice(PICO).unwrap();
    let hop = &d.route_hints[0].0[0];
    assert_eq!(
        hop.src_node_id,
        pk("03d06758583bb5154774a6eb221b1276c9e82d65bbaceca806d90e20c108f4b1c7")
    );
    assert_eq!(hop.short_channel_id, (589_390 << 40) | (3312 << 16) | 1);
    assert_eq!(
        (hop.fees.base_msat, hop.fees.proportional_millionths),
        (1000, 2500)
    );
    assert_eq!(hop.cltv_expiry_delta, 40);
}

#[test]
fn spec_invalid_examples_fail_with_the_right_error() {
    let err = |s: &str| decode_invoice(s).unwrap_err();
    assert_eq!(
        err(BAD_FEATURE_100),
        InvoiceError::UnknownRequiredFeatures { bits: vec![100] }
    );
    assert_eq!(err(BAD_CHECKSUM), InvoiceError::BadChecksum);
    assert!(
        matches!(err(BAD_NO_SEPARATOR), InvoiceError::MalformedBech32(m) if m.contains("separator"))
    );
    assert!(matches!(err(BAD_MIXED_CASE), InvoiceError::MalformedBech32(m) if m.contains("case")));
    assert!(
        matches!(err(BAD_UNRECOVERABLE), InvoiceError::BadSignature(_)),
        "{:?}",
        err(BAD_UNRECOVERABLE)
    );
    assert!(
        matches!(err(BAD_MULTIPLIER), InvoiceError::BadAmount { reason, .. } if reason.contains("multiplier"))
    );
    assert!(
        matches!(err(BAD_SUB_MSAT), InvoiceError::BadAmount { reason, .. } if reason.contains("millisatoshis"))
    );
    let short = err(BAD_TOO_SHORT);
    assert!(
        matches!(
            short,
            InvoiceError::MalformedData(_) | InvoiceError::BadSignature(_)
        ),
        "{short:?}"
    );
    // Every message is one readable line.
    for s in [
        BAD_FEATURE_100,
        BAD_CHECKSUM,
        BAD_NO_SEPARATOR,
        BAD_MIXED_CASE,
        BAD_UNRECOVERABLE,
        BAD_TOO_SHORT,
        BAD_MULTIPLIER,
        BAD_SUB_MSAT,
    ] {
        let m = err(s).to_string();
        assert!(!m.is_empty() && !m.contains('\n'), "{m}");
    }
}

#[test]
fn other_malformed_inputs_are_clear_errors() {
    let err = |s: &str| decode_invoice(s).unwrap_err();
    assert!(matches!(err(""), InvoiceError::MalformedBech32(m) if m.contains("empty")));
    assert!(matches!(err("   "), InvoiceError::MalformedBech32(_)));
    assert!(matches!(err("lnbc1"), InvoiceError::MalformedBech32(_)));
    assert!(matches!(
        err("hello world"),
        InvoiceError::MalformedBech32(_)
    ));
    assert!(matches!(err("lnbc1pvjluez!"), InvoiceError::MalformedBech32(m) if m.contains("'!'")));
    let long = format!("lnbc1{}", "q".repeat(8000));
    assert_eq!(err(&long), InvoiceError::TooLong { len: long.len() });
}

#[test]
fn unknown_currency_and_foreign_prefixes_are_named() {
    // Re-sign the coffee-beans invoice under prefixes that are valid bech32.
    for (hrp_currency, expect) in [("xx", "xx"), ("ltc", "ltc")] {
        let s = resign_with_hrp(BEANS, &format!("ln{hrp_currency}25m"));
        match decode_invoice(&s).unwrap_err() {
            InvoiceError::UnknownCurrency { currency, .. } => assert_eq!(currency, expect),
            e => panic!("{e:?}"),
        }
    }
    let s = resign_with_hrp(BEANS, "bc25m");
    assert!(matches!(
        decode_invoice(&s).unwrap_err(),
        InvoiceError::NotAnInvoice { .. }
    ));
}

/// Re-encodes `invoice`'s data and signature under another human-readable part with a
/// valid checksum (the signature no longer matches, which the currency check precedes).
fn resign_with_hrp(invoice: &str, hrp: &str) -> String {
    use bech32::primitives::decode::CheckedHrpstring;
    use bech32::{Fe32IterExt, Hrp};
    let parsed = CheckedHrpstring::new::<lightning_invoice::Bolt11Bech32>(invoice).unwrap();
    let fes: Vec<bech32::Fe32> = parsed.fe32_iter::<std::iter::Empty<u8>>().collect();
    let hrp = Hrp::parse(hrp).unwrap();
    fes.into_iter()
        .with_checksum::<lightning_invoice::Bolt11Bech32>(&hrp)
        .chars()
        .collect()
}

#[test]
fn a_lightning_uri_prefix_and_whitespace_are_accepted() {
    let d = decode_invoice(&format!("  lightning:{BEANS}\n")).unwrap();
    assert_eq!(d.amount_msat, Some(2_500_000_000));
    let d = decode_invoice(&format!("LIGHTNING:{BEANS_UPPER}")).unwrap();
    assert_eq!(d.payment_secret, Some(PaymentSecret([0x11; 32])));
}

// ---------------------------------------------------------------------------------
// Tampering.
// ---------------------------------------------------------------------------------

const BECH32_CHARS: &str = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

#[test]
fn any_one_character_change_is_a_checksum_error() {
    let ours = sample_invoice(true).0.to_string();
    for inv in [BEANS, COFFEE, ours.as_str()] {
        let sep = inv.rfind('1').unwrap();
        for (i, c) in inv.char_indices() {
            if i == sep {
                continue;
            }
            // Three substitutes per position keep the test fast and still cover every place.
            for sub in BECH32_CHARS.chars().filter(|&s| s != c).take(3) {
                let mut t = inv.to_string();
                t.replace_range(i..i + 1, &sub.to_string());
                let e = decode_invoice(&t).unwrap_err();
                assert_eq!(e, InvoiceError::BadChecksum, "position {i} {c}→{sub}");
                assert!(e.to_string().starts_with("bad checksum"), "{e}");
            }
        }
    }
}

#[test]
fn a_resigned_amount_with_a_fixed_checksum_is_caught() {
    // An attacker who changes the amount and recomputes the checksum cannot re-sign:
    // with key recovery the invoice now names another payee; with an `n` field the
    // signature fails outright.
    let (invoice, key, _) = sample_invoice(false);
    let forged = forge_amount(&invoice.to_string(), 1);
    let d = decode_invoice(&forged).unwrap();
    assert_eq!(d.amount_msat, Some(1));
    let payee = key.public_key(&Secp256k1::new());
    let e = d.verify_payee(&payee).unwrap_err();
    assert!(
        matches!(&e, InvoiceError::PayeeMismatch(m) if m.expected == payee && m.actual == d.payee)
    );
    assert!(e.to_string().starts_with("tampered:"), "{e}");

    let (invoice, _, _) = sample_invoice(true);
    let forged = forge_amount(&invoice.to_string(), 1);
    let e = decode_invoice(&forged).unwrap_err();
    assert!(
        matches!(&e, InvoiceError::BadSignature(m) if m.contains("payee key")),
        "{e:?}"
    );
}

/// The same data and signature with another amount in the prefix and a valid checksum.
fn forge_amount(invoice: &str, amount_msat: u64) -> String {
    let signed = SignedRawBolt11Invoice::from_str(invoice).unwrap();
    let (mut raw, _, sig) = signed.into_parts();
    raw.hrp.raw_amount = Some(amount_msat * 10);
    raw.hrp.si_prefix = Some(lightning_invoice::SiPrefix::Pico);
    raw.sign::<_, ()>(|_| Ok(sig.0)).unwrap().to_string()
}

#[test]
fn a_signature_by_another_key_than_the_named_payee_is_rejected() {
    let (invoice, _, _) = sample_invoice(true);
    let signed = SignedRawBolt11Invoice::from_str(&invoice.to_string()).unwrap();
    let (raw, _, _) = signed.into_parts();
    let other = node_key_from_seed(99);
    let secp = Secp256k1::new();
    let s = raw
        .sign::<_, ()>(|m| Ok(secp.sign_ecdsa_recoverable(m, &other)))
        .unwrap()
        .to_string();
    assert!(matches!(
        decode_invoice(&s).unwrap_err(),
        InvoiceError::BadSignature(_)
    ));
}

// ---------------------------------------------------------------------------------
// Create → decode.
// ---------------------------------------------------------------------------------

fn sample_invoice(explicit: bool) -> (Bolt11Invoice, SecretKey, InvoiceParams) {
    let key = node_key_from_seed(42);
    let keys = PaymentKeys::from_bytes([7; 32], [9; 32]);
    let mut p = InvoiceParams::new(keys.hash, keys.secret, 1_767_225_600);
    p.amount_msat = Some(123_456_789);
    p.description = "two espressos, one ☕".into();
    p.expiry_secs = 900;
    p.min_final_cltv_expiry_delta = 40;
    p.include_payee_pubkey = explicit;
    (create_invoice(&p, &key).unwrap(), key, p)
}

fn assert_matches_params(d: &DecodedInvoice, p: &InvoiceParams, key: &SecretKey) {
    let secp = Secp256k1::new();
    assert_eq!(d.currency, p.currency);
    assert_eq!(d.payee, key.public_key(&secp));
    assert_eq!(d.payee_explicit, p.include_payee_pubkey);
    assert_eq!(d.payment_hash, p.payment_hash);
    assert_eq!(d.payment_secret, Some(p.payment_secret));
    assert_eq!(d.amount_msat, p.amount_msat);
    assert_eq!(d.timestamp, p.timestamp);
    assert_eq!(d.expiry_secs, p.expiry_secs);
    assert_eq!(d.min_final_cltv_expiry_delta, p.min_final_cltv_expiry_delta);
    assert_eq!(
        d.description,
        InvoiceDescription::Direct(p.description.clone())
    );
    assert_eq!(
        d.feature_names(),
        vec!["var_onion_optin", "payment_secret", "basic_mpp"]
    );
    assert_eq!(
        d.features
            .iter()
            .map(|f| (f.bit, f.required()))
            .collect::<Vec<_>>(),
        vec![(8, true), (14, true), (17, false)]
    );
    assert!(d.supports_basic_mpp());
    assert_eq!(d.route_hint_count(), 0);
    assert!(d.fallback_addresses.is_empty());
    assert_eq!(d.expires_at(), p.timestamp + p.expiry_secs);
}

#[test]
fn create_then_decode_keeps_every_field() {
    for explicit in [false, true] {
        let (invoice, key, p) = sample_invoice(explicit);
        let s = invoice.to_string();
        assert!(s.starts_with("lnbc1234567890p1"), "{s}");
        let d = decode_invoice(&s).unwrap();
        assert_matches_params(&d, &p, &key);
        assert_eq!(d.bolt11, s);
        // LDK's own strict parser accepts it and agrees.
        let ldk = Bolt11Invoice::from_str(&s).unwrap();
        assert_eq!(ldk, invoice);
        assert_eq!(ldk.amount_milli_satoshis(), Some(123_456_789));
        assert_eq!(ldk.min_final_cltv_expiry_delta(), 40);
    }
}

#[test]
fn every_network_any_amount_and_defaults_round_trip() {
    let key = node_key_from_seed(3);
    for (currency, prefix) in [
        (Currency::Bitcoin, "lnbc1"),
        (Currency::BitcoinTestnet, "lntb1"),
        (Currency::Signet, "lntbs1"),
        (Currency::Regtest, "lnbcrt1"),
        (Currency::Simnet, "lnsb1"),
    ] {
        let keys = PaymentKeys::from_bytes([1; 32], [2; 32]);
        let mut p = InvoiceParams::new(keys.hash, keys.secret, 1_000_000);
        p.currency = currency.clone();
        let s = create_invoice(&p, &key).unwrap().to_string();
        assert!(s.starts_with(prefix), "{s}");
        let d = decode_invoice(&s).unwrap();
        assert_matches_params(&d, &p, &key);
        assert_eq!(d.amount_msat, None);
        assert_eq!(d.expiry_secs, 3600);
        assert_eq!(d.min_final_cltv_expiry_delta, 18);
        assert_eq!(d.description, InvoiceDescription::Direct(String::new()));
        assert!(!currency_name(&d.currency).is_empty());
    }
}

#[test]
fn extreme_but_valid_values_round_trip() {
    let key = node_key_from_seed(5);
    let keys = PaymentKeys::from_bytes([0xff; 32], [0; 32]);
    for (amount, ts, expiry, cltv, desc) in [
        // Expiry 0 is refused (the invoice would be born expired): 1 s is the least.
        (1u64, 0u64, 1u64, 0u64, "x".repeat(639)),
        (
            MAX_AMOUNT_MSAT,
            MAX_TIMESTAMP,
            u64::MAX >> 4,
            u64::MAX >> 4,
            String::new(),
        ),
        (999, 1, 1, 1, "日本語".to_string()),
    ] {
        let mut p = InvoiceParams::new(keys.hash, keys.secret, ts);
        p.amount_msat = Some(amount);
        p.expiry_secs = expiry;
        p.min_final_cltv_expiry_delta = cltv;
        p.description = desc;
        let d = decode_invoice(&create_invoice(&p, &key).unwrap().to_string()).unwrap();
        assert_matches_params(&d, &p, &key);
    }
}

#[test]
fn the_signature_verifies_against_the_node_key() {
    let (invoice, key, _) = sample_invoice(false);
    let secp = Secp256k1::new();
    let pk = key.public_key(&secp);
    invoice.check_signature().unwrap();
    assert_eq!(invoice.recover_payee_pub_key(), pk);
    let signed = SignedRawBolt11Invoice::from_str(&invoice.to_string()).unwrap();
    let msg = Message::from_digest(*signed.signable_hash());
    secp.verify_ecdsa(&msg, &signed.signature().0.to_standard(), &pk)
        .unwrap();
    // And not against another key.
    let other = node_key_from_seed(43).public_key(&secp);
    assert!(secp
        .verify_ecdsa(&msg, &signed.signature().0.to_standard(), &other)
        .is_err());
}

#[test]
fn bad_creation_requests_are_clear_errors() {
    let key = node_key_from_seed(1);
    let keys = PaymentKeys::from_bytes([1; 32], [2; 32]);
    let base = InvoiceParams::new(keys.hash, keys.secret, 1_700_000_000);
    let with = |f: &dyn Fn(&mut InvoiceParams)| {
        let mut p = base.clone();
        f(&mut p);
        create_invoice(&p, &key).unwrap_err()
    };
    assert_eq!(with(&|p| p.amount_msat = Some(0)), InvoiceError::ZeroAmount);
    assert_eq!(
        with(&|p| p.amount_msat = Some(MAX_AMOUNT_MSAT + 1)),
        InvoiceError::AmountTooLarge(MAX_AMOUNT_MSAT + 1)
    );
    assert_eq!(
        with(&|p| p.amount_msat = Some(u64::MAX)),
        InvoiceError::AmountTooLarge(u64::MAX)
    );
    assert_eq!(
        with(&|p| p.description = "é".repeat(320)),
        InvoiceError::DescriptionTooLong(640)
    );
    assert_eq!(
        with(&|p| p.timestamp = MAX_TIMESTAMP + 1),
        InvoiceError::TimestampOutOfRange(MAX_TIMESTAMP + 1)
    );
    assert!(InvoiceError::ZeroAmount.to_string().contains("positive"));
}

// ---------------------------------------------------------------------------------
// Keys.
// ---------------------------------------------------------------------------------

#[test]
fn payment_keys_hash_is_sha256_of_the_preimage() {
    let k = PaymentKeys::from_bytes([0; 32], [5; 32]);
    // SHA-256 of 32 zero bytes.
    assert_eq!(
        hex(&k.hash.0),
        "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
    );
    assert_eq!(k.secret, PaymentSecret([5; 32]));
    assert_eq!(payment_hash_of(&PaymentPreimage([0; 32])), k.hash);

    let a = PaymentKeys::from_rng(&mut rand::rngs::StdRng::seed_from_u64(1));
    let b = PaymentKeys::from_rng(&mut rand::rngs::StdRng::seed_from_u64(1));
    let c = PaymentKeys::from_rng(&mut rand::rngs::StdRng::seed_from_u64(2));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_ne!(a.preimage.0, a.secret.0);
    assert_eq!(payment_hash_of(&a.preimage), a.hash);
    assert_ne!(PaymentKeys::random(), PaymentKeys::random());
}

#[test]
fn node_keys_from_seeds_and_hex() {
    assert_eq!(node_key_from_seed(0), node_key_from_seed(0));
    assert_ne!(node_key_from_seed(0), node_key_from_seed(1));
    let k = node_key_from_seed(0);
    let h = hex(&k.secret_bytes());
    assert_eq!(parse_node_key(&h).unwrap(), k);
    assert_eq!(
        parse_node_key(&format!("0x{}", h.to_uppercase())).unwrap(),
        k
    );
    let bad = |s: &str| match parse_node_key(s).unwrap_err() {
        InvoiceError::BadNodeKey(m) => m,
        e => panic!("{e:?}"),
    };
    assert!(bad("abc").contains("64 hex characters"));
    assert!(bad(&"zz".repeat(32)).contains("not a hex digit"));
    assert!(bad(&"00".repeat(32)).contains("not a valid secp256k1 secret key"));
    assert!(bad(&"ff".repeat(32)).contains("not a valid secp256k1 secret key"));
    assert!(bad(&"11".repeat(33)).contains("got 66"));
}

// ---------------------------------------------------------------------------------
// Never a panic.
// ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mutated_invoices_never_panic(pos in 0usize..400, op in 0u8..3, ch in any::<char>(), which in 0usize..4) {
        let base = [BEANS, PICO, ROUTED_P2PKH, BEANS_IGNORED_FIELDS][which];
        let mut s: Vec<char> = base.chars().collect();
        let pos = pos % s.len();
        match op {
            0 => s[pos] = ch,
            1 => s.insert(pos, ch),
            _ => { s.remove(pos); }
        }
        let s: String = s.into_iter().collect();
        if let Err(e) = decode_invoice(&s) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "(ln|LN)?[a-z0-9]{0,12}1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{0,300}") {
        let _ = decode_invoice(&s);
    }

    #[test]
    fn random_params_round_trip(amount in 1u64..=MAX_AMOUNT_MSAT, ts in 0u64..=MAX_TIMESTAMP, expiry in any::<u32>(),
                                cltv in any::<u16>(), desc in "\\PC{0,60}", seed in any::<u64>(), explicit in any::<bool>()) {
        let key = node_key_from_seed(seed);
        let keys = PaymentKeys::from_rng(&mut rand::rngs::StdRng::seed_from_u64(seed));
        let mut p = InvoiceParams::new(keys.hash, keys.secret, ts);
        p.amount_msat = Some(amount);
        p.expiry_secs = expiry as u64;
        p.min_final_cltv_expiry_delta = cltv as u64;
        p.description = desc;
        p.include_payee_pubkey = explicit;
        let d = decode_invoice(&create_invoice(&p, &key).unwrap().to_string()).unwrap();
        assert_matches_params(&d, &p, &key);
    }
}

// ---------------------------------------------------------------------------------
// Amount 0 and expiry 0: refused the same way by create and decode.
// ---------------------------------------------------------------------------------

/// A correctly signed mainnet invoice for 0 msat (`lnbc0n…`), as another tool might
/// write it.
fn zero_amount_invoice() -> String {
    let key = SecretKey::from_str(SPEC_PRIV_KEY).unwrap();
    let secp = Secp256k1::new();
    lightning_invoice::InvoiceBuilder::new(Currency::Bitcoin)
        .description("zero".into())
        .payment_hash(sha256::Hash::from_byte_array([7; 32]))
        .payment_secret(PaymentSecret([8; 32]))
        .duration_since_epoch(std::time::Duration::from_secs(SPEC_TIMESTAMP))
        .min_final_cltv_expiry_delta(18)
        .amount_milli_satoshis(0)
        .build_signed(|m| secp.sign_ecdsa_recoverable(m, &key))
        .unwrap()
        .to_string()
}

#[test]
fn zero_amount_is_refused_by_decode_as_by_create() {
    let s = zero_amount_invoice();
    assert!(s.starts_with("lnbc0"), "{s}");
    let e = decode_invoice(&s).unwrap_err();
    assert!(matches!(e, InvoiceError::BadAmount { .. }), "{e:?}");
    assert!(
        e.to_string().contains("an amount of 0 cannot be paid"),
        "{e}"
    );
    let mut p = InvoiceParams::new(PaymentHash([1; 32]), PaymentSecret([2; 32]), SPEC_TIMESTAMP);
    p.amount_msat = Some(0);
    let key = SecretKey::from_str(SPEC_PRIV_KEY).unwrap();
    assert_eq!(
        create_invoice(&p, &key).unwrap_err(),
        InvoiceError::ZeroAmount
    );
}

#[test]
fn zero_expiry_is_refused_and_expiry_is_judged_against_a_clock() {
    let key = SecretKey::from_str(SPEC_PRIV_KEY).unwrap();
    let mut p = InvoiceParams::new(PaymentHash([1; 32]), PaymentSecret([2; 32]), SPEC_TIMESTAMP);
    p.expiry_secs = 0;
    assert_eq!(
        create_invoice(&p, &key).unwrap_err(),
        InvoiceError::ZeroExpiry
    );
    // The spec's coffee invoice: 60 s from its timestamp.
    let d = decode_invoice(COFFEE).unwrap();
    assert_eq!(d.seconds_until_expiry(SPEC_TIMESTAMP), 60);
    assert!(!d.is_expired(SPEC_TIMESTAMP + 59));
    assert!(d.is_expired(SPEC_TIMESTAMP + 60));
    assert_eq!(d.seconds_until_expiry(SPEC_TIMESTAMP + 3660), -3600);
}

// The invoice amount bound never exceeds the bitcoin supply (checked at compile time).
const _: () = assert!(MAX_AMOUNT_MSAT <= flotilla_graph::MAX_MSAT);
