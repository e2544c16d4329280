//! `flotilla invoice …` end to end: the binary's output, exit codes and error lines.

use std::process::{Command, Output};

use flotilla_ln::invoice::{parse_hex32, payment_hash_of};
use flotilla_ln::PaymentPreimage;
use serde_json::Value;

fn flotilla(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("binary runs")
}

/// Runs a command that must succeed and returns its stdout.
fn ok(args: &[&str]) -> String {
    let out = flotilla(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn ok_json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).unwrap()
}

/// Runs a command that must fail: exit 1, exactly one `error:` line on stderr that
/// contains every `expect`, no panic, nothing on stdout.
fn assert_clean_failure(args: &[&str], expect: &[&str]) {
    let out = flotilla(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: expected one line, got {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    for e in expect {
        assert!(lines[0].contains(e), "{args:?}: {e:?} not in {stderr}");
    }
    assert!(out.stdout.is_empty(), "{args:?}");
}

/// BOLT 11 example: $3 for a cup of coffee, within one minute.
const SPEC_COFFEE: &str = "lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpuaztrnwngzn3kdzw5hydlzf03qdgm2hdq27cqv3agm2awhz5se903vruatfhq77w3ls4evs3ch9zw97j25emudupq63nyw24cg27h2rspfj9srp";
/// BOLT 11 example: coffee beans, with payment secret and features 9, 15, 99.
const SPEC_BEANS: &str = "lnbc25m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdeessp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q5sqqqqqqqqqqqqqqqpqsq67gye39hfg3zd8rgc80k32tvy9xk2xunwm5lzexnvpx6fd77en8qaq424dxgt56cag2dpt359k3ssyhetktkpqh24jqnjyw6uqd08sgptq44qu";
const SPEC_PAYEE: &str = "03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad";
const SPEC_HASH: &str = "0001020304050607080900010203040506070809000102030405060708090102";

#[test]
fn create_json_decodes_to_the_same_fields() {
    let c = ok_json(&[
        "invoice",
        "create",
        "--amount-msat",
        "123456",
        "--description",
        "a coffee ☕",
        "--expiry-secs",
        "600",
        "--min-final-cltv",
        "40",
        "--json",
    ]);
    let bolt11 = c["bolt11"].as_str().unwrap();
    assert!(bolt11.starts_with("lnbc1234560p1"), "{bolt11}");
    let d = ok_json(&["invoice", "decode", bolt11, "--json"]);
    for k in [
        "payment_hash",
        "payment_secret",
        "amount_msat",
        "timestamp",
        "expiry_secs",
        "min_final_cltv_expiry_delta",
        "description",
        "payee",
        "network",
        "features",
    ] {
        assert_eq!(c[k], d[k], "{k}");
    }
    assert_eq!(d["amount_msat"], 123_456);
    assert_eq!(d["description"], "a coffee ☕");
    assert_eq!(d["expiry_secs"], 600);
    assert_eq!(d["min_final_cltv_expiry_delta"], 40);
    assert_eq!(d["network"], "bitcoin");
    assert_eq!(
        d["features"],
        serde_json::json!(["var_onion_optin", "payment_secret", "basic_mpp"])
    );
    assert_eq!(d["feature_bits"], serde_json::json!([8, 14, 17]));
    assert_eq!(d["payee_explicit"], false);
    // The printed preimage settles the printed hash.
    let preimage = parse_hex32(c["preimage"].as_str().unwrap()).unwrap();
    let hash = payment_hash_of(&PaymentPreimage(preimage));
    assert_eq!(
        parse_hex32(c["payment_hash"].as_str().unwrap()).unwrap(),
        hash.0
    );
    assert_eq!(c["node_key_source"], "derived from --seed 0");
}

#[test]
fn create_text_leads_with_the_invoice_and_says_to_keep_the_preimage() {
    let text = ok(&["invoice", "create", "--amount-msat", "1000"]);
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("lnbc10n1"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("preimage ")), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("payment_hash ")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("payment_secret ")),
        "{text}"
    );
    assert!(text.contains("Keep the preimage"), "{text}");
    assert!(text.contains("--node-key"), "{text}");
    // The bolt11 line alone decodes.
    ok(&["invoice", "decode", first]);
}

#[test]
fn node_key_from_seed_is_printed_and_reusable() {
    let a = ok_json(&["invoice", "create", "--amount-msat", "1000", "--json"]);
    let b = ok_json(&[
        "invoice",
        "create",
        "--amount-msat",
        "1000",
        "--seed",
        "0",
        "--json",
    ]);
    let c = ok_json(&[
        "invoice",
        "create",
        "--amount-msat",
        "1000",
        "--seed",
        "1",
        "--json",
    ]);
    assert_eq!(a["payee"], b["payee"]);
    assert_eq!(a["node_key"], b["node_key"]);
    assert_ne!(a["payee"], c["payee"]);
    // Fresh payment keys every time.
    assert_ne!(a["payment_hash"], b["payment_hash"]);
    assert_ne!(a["preimage"], b["preimage"]);
    let key = c["node_key"].as_str().unwrap();
    let d = ok_json(&[
        "invoice",
        "create",
        "--amount-msat",
        "1000",
        "--node-key",
        key,
        "--json",
    ]);
    assert_eq!(d["payee"], c["payee"]);
    assert_eq!(d["node_key_source"], "--node-key");
}

#[test]
fn networks_timestamps_and_payee_key_field() {
    for (net, prefix) in [
        ("bitcoin", "lnbc"),
        ("testnet", "lntb"),
        ("signet", "lntbs"),
        ("regtest", "lnbcrt"),
    ] {
        let c = ok_json(&[
            "invoice",
            "create",
            "--amount-msat",
            "5000",
            "--network",
            net,
            "--timestamp",
            "1700000000",
            "--json",
        ]);
        let bolt11 = c["bolt11"].as_str().unwrap();
        assert!(bolt11.starts_with(&format!("{prefix}50n1")), "{bolt11}");
        let d = ok_json(&["invoice", "decode", bolt11, "--json"]);
        assert_eq!(d["network"], net);
        assert_eq!(d["timestamp"], 1_700_000_000);
    }
    let c = ok_json(&[
        "invoice",
        "create",
        "--amount-msat",
        "5000",
        "--with-payee-key",
        "--json",
    ]);
    let d = ok_json(&["invoice", "decode", c["bolt11"].as_str().unwrap(), "--json"]);
    assert_eq!(d["payee_explicit"], true);
    assert_eq!(d["payee"], c["payee"]);
}

#[test]
fn decode_prints_the_spec_example_as_a_table() {
    let text = ok(&["invoice", "decode", SPEC_COFFEE]);
    let row = |name: &str| -> String {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .to_string()
    };
    assert!(row("payee").contains(SPEC_PAYEE), "{text}");
    assert!(row("payment_hash").ends_with(SPEC_HASH), "{text}");
    assert!(row("payment_secret").contains("none"), "{text}");
    assert!(row("amount_msat").ends_with("250,000,000"), "{text}");
    assert!(
        row("timestamp").contains("1496314658 (2017-06-01 10:57:38 UTC)"),
        "{text}"
    );
    assert!(row("expiry").contains("60 s"), "{text}");
    assert!(
        row("min_final_cltv_expiry_delta").ends_with(" 18"),
        "{text}"
    );
    assert!(row("description").ends_with("1 cup coffee"), "{text}");
    assert!(row("features").ends_with("none"), "{text}");
}

#[test]
fn decode_json_gives_the_spec_values() {
    let d = ok_json(&["invoice", "decode", SPEC_BEANS, "--json"]);
    assert_eq!(d["payee"], SPEC_PAYEE);
    assert_eq!(d["payment_hash"], SPEC_HASH);
    assert_eq!(d["payment_secret"], "11".repeat(32));
    assert_eq!(d["amount_msat"], 2_500_000_000u64);
    assert_eq!(d["timestamp"], 1_496_314_658);
    assert_eq!(d["expiry_secs"], 3600);
    assert_eq!(d["min_final_cltv_expiry_delta"], 18);
    assert_eq!(d["description"], "coffee beans");
    assert_eq!(d["feature_bits"], serde_json::json!([9, 15, 99]));
    assert_eq!(
        d["features"],
        serde_json::json!(["var_onion_optin", "payment_secret", "unknown_bit_99"])
    );
    // Upper case and a lightning: prefix read the same.
    let upper = ok_json(&[
        "invoice",
        "decode",
        &format!("lightning:{}", SPEC_BEANS.to_uppercase()),
        "--json",
    ]);
    assert_eq!(upper, d);
}

#[test]
fn bad_inputs_fail_with_one_clear_line() {
    // A one-character change.
    let mut tampered = SPEC_BEANS.to_string();
    tampered.replace_range(40..41, if &SPEC_BEANS[40..41] == "q" { "p" } else { "q" });
    assert_clean_failure(
        &["invoice", "decode", &tampered],
        &["cannot decode the invoice", "bad checksum"],
    );
    // The same invoice re-typed with an unknown compulsory feature (BOLT 11's invalid example).
    assert_clean_failure(
        &["invoice", "decode", "lnbc25m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5vdhkven9v5sxyetpdeessp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9q4psqqqqqqqqqqqqqqqpqsqq40wa3khl49yue3zsgm26jrepqr2eghqlx86rttutve3ugd05em86nsefzh4pfurpd9ek9w2vp95zxqnfe2u7ckudyahsa52q66tgzcp6t2dyk"],
        &["unknown features", "100"],
    );
    assert_clean_failure(&["invoice", "decode", ""], &["empty"]);
    assert_clean_failure(&["invoice", "decode", "hello world"], &["malformed bech32"]);
    assert_clean_failure(
        &["invoice", "decode", "lnbc1qqqqqq"],
        &["cannot decode the invoice"],
    );
    assert_clean_failure(
        &["invoice", "decode", &SPEC_BEANS[..SPEC_BEANS.len() - 1]],
        &["bad checksum"],
    );
    assert_clean_failure(
        &["invoice", "decode", "--json", "-x"],
        &["malformed bech32"],
    );

    assert_clean_failure(
        &["invoice", "create", "--amount-msat", "0"],
        &["--amount-msat", "positive"],
    );
    assert_clean_failure(
        &["invoice", "create", "--amount-msat", "-5"],
        &["--amount-msat", "positive whole number"],
    );
    assert_clean_failure(
        &["invoice", "create", "--amount-msat", "1.5"],
        &["--amount-msat"],
    );
    assert_clean_failure(
        &["invoice", "create", "--amount-msat", "abc"],
        &["--amount-msat", "\"abc\""],
    );
    assert_clean_failure(
        &[
            "invoice",
            "create",
            "--amount-msat",
            "99999999999999999999999",
        ],
        &["--amount-msat", "too large"],
    );
    assert_clean_failure(
        &["invoice", "create", "--amount-msat", "1844674407370955162"],
        &["too large"],
    );
    assert_clean_failure(
        &[
            "invoice",
            "create",
            "--amount-msat",
            "5",
            "--node-key",
            "abcd",
        ],
        &["--node-key", "64 hex characters"],
    );
    assert_clean_failure(
        &[
            "invoice",
            "create",
            "--amount-msat",
            "5",
            "--node-key",
            &"zz".repeat(32),
        ],
        &["--node-key", "not a hex digit"],
    );
    assert_clean_failure(
        &[
            "invoice",
            "create",
            "--amount-msat",
            "5",
            "--node-key",
            &"00".repeat(32),
        ],
        &["--node-key", "not a valid secp256k1 secret key"],
    );
    assert_clean_failure(
        &[
            "invoice",
            "create",
            "--amount-msat",
            "5",
            "--description",
            &"x".repeat(640),
        ],
        &["640 bytes", "639"],
    );
    assert_clean_failure(
        &[
            "invoice",
            "create",
            "--amount-msat",
            "5",
            "--expiry-secs",
            "soon",
        ],
        &["--expiry-secs"],
    );
    assert_clean_failure(
        &[
            "invoice",
            "create",
            "--amount-msat",
            "5",
            "--min-final-cltv",
            "-1",
        ],
        &["--min-final-cltv"],
    );
    assert_clean_failure(
        &["invoice", "create", "--amount-msat", "5", "--seed", "x"],
        &["--seed"],
    );
    assert_clean_failure(
        &[
            "invoice",
            "create",
            "--amount-msat",
            "5",
            "--timestamp",
            "99999999999",
        ],
        &["--timestamp", "out of range"],
    );
}

#[test]
fn help_teaches() {
    let text = ok(&["invoice", "create", "--help"]);
    for want in [
        "--amount-msat",
        "millisatoshis",
        "preimage",
        "basic_mpp",
        "--node-key",
        "--seed",
        "--network",
        "regtest",
        "[default: 3600]",
        "[default: 18]",
    ] {
        assert!(text.contains(want), "{want:?} not in {text}");
    }
    let text = ok(&["invoice", "decode", "--help"]);
    for want in ["payee", "checksum", "signature", "--json"] {
        assert!(text.contains(want), "{want:?} not in {text}");
    }
    let text = ok(&["invoice", "--help"]);
    assert!(text.contains("create") && text.contains("decode"), "{text}");
}

#[test]
fn decode_says_whether_the_invoice_has_expired() {
    // The spec's coffee invoice: timestamp 1496314658, expiry 60 s.
    let status = |now: &str| -> String {
        let text = ok(&["invoice", "decode", SPEC_COFFEE, "--now", now]);
        text.lines()
            .find(|l| l.starts_with("status"))
            .unwrap_or_else(|| panic!("no status row in {text}"))
            .to_string()
    };
    assert!(
        status("1496314658").ends_with("valid for 1 min 0 s"),
        "{}",
        status("1496314658")
    );
    assert!(status("1496314717").ends_with("valid for 1 s"));
    let expired = status("1496318318");
    assert!(
        expired.contains("EXPIRED 1 h 0 min ago") && expired.contains("payers refuse it"),
        "{expired}"
    );
    let j = ok_json(&[
        "invoice",
        "decode",
        SPEC_COFFEE,
        "--json",
        "--now",
        "1496318318",
    ]);
    assert_eq!(j["expired"], true);
    assert_eq!(j["seconds_until_expiry"], -3600);
    assert_eq!(j["checked_at"], 1_496_318_318u64);
    assert_eq!(j["expires_at"], 1_496_314_718u64);
    let j = ok_json(&[
        "invoice",
        "decode",
        SPEC_COFFEE,
        "--json",
        "--now",
        "1496314700",
    ]);
    assert_eq!(j["expired"], false);
    assert_eq!(j["seconds_until_expiry"], 18);
    // Without --now, the clock of the machine: a 2017 invoice has long expired.
    let j = ok_json(&["invoice", "decode", SPEC_COFFEE, "--json"]);
    assert_eq!(j["expired"], true);
    // A fresh invoice is valid for its expiry.
    let c = ok_json(&[
        "invoice",
        "create",
        "--amount-msat",
        "1000",
        "--expiry-secs",
        "600",
        "--json",
    ]);
    let d = ok_json(&["invoice", "decode", c["bolt11"].as_str().unwrap(), "--json"]);
    assert_eq!(d["expired"], false);
    assert!(
        (590..=600).contains(&d["seconds_until_expiry"].as_i64().unwrap()),
        "{d}"
    );
}

#[test]
fn zero_expiry_and_zero_amount_are_refused_alike_by_create_and_decode() {
    assert_clean_failure(
        &[
            "invoice",
            "create",
            "--amount-msat",
            "1000",
            "--expiry-secs",
            "0",
        ],
        &["--expiry-secs must be at least 1"],
    );
    assert_clean_failure(
        &["invoice", "decode", "lnbc0m1pvjluezdq80fjhymcpp5qurswpc8qurswpc8qurswpc8qurswpc8qurswpc8qurswpc8qurssp5pqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyq9qrsgqcqpjua2grpvzlkqcl2nd67znfezagc8mgj6tm24de95lvqw0kgj6kpfxh7n36u0q42ccvwm9lkzv0wetky5pkh8ry2l9k6yrcxe07x7gnkqq7tjzjv"],
        &["an amount of 0 cannot be paid"],
    );
}
