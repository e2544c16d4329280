//! `flotilla invoice create` and `flotilla invoice decode`.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use flotilla_ln::invoice::{
    create_invoice, currency_name, decode_invoice, hex, node_key_from_seed, parse_node_key,
    DecodedInvoice, InvoiceDescription, InvoiceParams, PaymentKeys, SecretKey, MAX_AMOUNT_MSAT,
    MAX_TIMESTAMP,
};
use serde::Serialize;
use serde_json::{json, Value};

use crate::cli::{InvoiceCommand, InvoiceCreateArgs, InvoiceDecodeArgs};
use crate::table::{thousands, Table};

/// Runs an `invoice` subcommand.
pub fn run(cmd: InvoiceCommand) -> Result<()> {
    match cmd {
        InvoiceCommand::Create(args) => create(args),
        InvoiceCommand::Decode(args) => decode(args),
    }
}

/// A whole number from a flag, with a message that names the flag.
fn parse_u64(flag: &str, s: &str) -> Result<u64> {
    let t = s.trim().replace('_', "");
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit()) {
        bail!("{flag} must be a non-negative whole number, got {s:?}");
    }
    t.parse::<u64>()
        .map_err(|_| anyhow!("{flag} {s} is too large: at most {} fits", u64::MAX))
}

fn parse_amount(s: &str) -> Result<u64> {
    let t = s.trim().replace('_', "");
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit()) {
        bail!("--amount-msat must be a positive whole number of millisatoshis, got {s:?}");
    }
    let amount = match t.parse::<u64>() {
        Ok(a) if a <= MAX_AMOUNT_MSAT => a,
        _ => bail!(
            "--amount-msat {s} is too large: an invoice carries at most {} msat (about 18.4 million BTC)",
            MAX_AMOUNT_MSAT
        ),
    };
    if amount == 0 {
        bail!("--amount-msat must be positive: an invoice for 0 msat cannot be paid");
    }
    Ok(amount)
}

#[derive(Serialize)]
struct CreateOutput {
    bolt11: String,
    network: &'static str,
    amount_msat: u64,
    description: String,
    preimage: String,
    payment_hash: String,
    payment_secret: String,
    timestamp: u64,
    expiry_secs: u64,
    min_final_cltv_expiry_delta: u64,
    payee: String,
    node_key: String,
    node_key_source: String,
    features: Vec<String>,
}

fn create(args: InvoiceCreateArgs) -> Result<()> {
    let amount = parse_amount(&args.amount_msat)?;
    let expiry_secs = parse_u64("--expiry-secs", &args.expiry_secs)?;
    if expiry_secs == 0 {
        bail!(
            "--expiry-secs must be at least 1: an invoice with expiry 0 has expired the moment it is created"
        );
    }
    let min_final_cltv = parse_u64("--min-final-cltv", &args.min_final_cltv)?;
    let (node_key, source): (SecretKey, String) = match &args.node_key {
        Some(h) => (
            parse_node_key(h).context("--node-key")?,
            "--node-key".to_string(),
        ),
        None => {
            let seed = parse_u64("--seed", &args.seed)?;
            (
                node_key_from_seed(seed),
                format!("derived from --seed {seed}"),
            )
        }
    };
    let timestamp = match &args.timestamp {
        Some(t) => {
            let t = parse_u64("--timestamp", t)?;
            if t > MAX_TIMESTAMP {
                bail!(
                    "--timestamp {t} is out of range: BOLT 11 timestamps go up to {MAX_TIMESTAMP}"
                );
            }
            t
        }
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("the system clock is before 1970")?
            .as_secs(),
    };

    let keys = PaymentKeys::random();
    let mut params = InvoiceParams::new(keys.hash, keys.secret, timestamp);
    params.currency = args.network.into();
    params.amount_msat = Some(amount);
    params.description = args.description.clone();
    params.expiry_secs = expiry_secs;
    params.min_final_cltv_expiry_delta = min_final_cltv;
    params.include_payee_pubkey = args.with_payee_key;
    let invoice = create_invoice(&params, &node_key).context("cannot create the invoice")?;
    let bolt11 = invoice.to_string();
    // Read back what was written, so the printed fields are the invoice's own.
    let d = decode_invoice(&bolt11).context("the invoice just created does not decode (a bug)")?;

    let out = CreateOutput {
        bolt11: bolt11.clone(),
        network: currency_name(&d.currency),
        amount_msat: amount,
        description: args.description,
        preimage: hex(&keys.preimage.0),
        payment_hash: hex(&d.payment_hash.0),
        payment_secret: hex(&keys.secret.0),
        timestamp: d.timestamp,
        expiry_secs: d.expiry_secs,
        min_final_cltv_expiry_delta: d.min_final_cltv_expiry_delta,
        payee: d.payee.to_string(),
        node_key: hex(&node_key.secret_bytes()),
        node_key_source: source,
        features: d.feature_names(),
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
        return Ok(());
    }
    outln!("{bolt11}\n")?;
    let mut t = Table::new(2);
    t.row(["network", out.network]);
    t.row(["amount_msat".to_string(), thousands(amount)]);
    t.row([
        "description",
        if out.description.is_empty() {
            "(empty)"
        } else {
            &out.description
        },
    ]);
    t.row(["payment_hash", out.payment_hash.as_str()]);
    t.row(["payment_secret", out.payment_secret.as_str()]);
    t.row(["preimage", out.preimage.as_str()]);
    t.row([
        "timestamp".to_string(),
        format!("{} ({})", out.timestamp, utc(out.timestamp)),
    ]);
    t.row(["expiry".to_string(), format!("{} s", out.expiry_secs)]);
    t.row([
        "min_final_cltv_expiry_delta".to_string(),
        out.min_final_cltv_expiry_delta.to_string(),
    ]);
    t.row(["features".to_string(), describe_features(&d)]);
    t.row(["payee", out.payee.as_str()]);
    t.row([
        "node key".to_string(),
        format!("{} ({})", out.node_key, out.node_key_source),
    ]);
    out!("{}", t.render())?;
    outln!(
        "\nKeep the preimage: the receiver reveals it to settle the payment, and it cannot be\n\
         recovered from the invoice. Reuse the node key with --node-key {}.",
        out.node_key
    )?;
    Ok(())
}

fn decode(args: InvoiceDecodeArgs) -> Result<()> {
    let d = decode_invoice(&args.invoice).context("cannot decode the invoice")?;
    let now = match args.now {
        Some(t) => t,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("the system clock is before 1970")?
            .as_secs(),
    };
    if args.json {
        let mut v = decoded_json(&d);
        v["expired"] = Value::from(d.is_expired(now));
        v["seconds_until_expiry"] = Value::from(d.seconds_until_expiry(now) as i64);
        v["checked_at"] = Value::from(now);
        outln!("{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    let mut t = Table::new(2);
    let source = if d.payee_explicit {
        "named in the invoice, signature checked"
    } else {
        "recovered from the signature"
    };
    t.row(["payee".to_string(), format!("{} ({source})", d.payee)]);
    t.row(["network", currency_name(&d.currency)]);
    t.row(["payment_hash".to_string(), hex(&d.payment_hash.0)]);
    t.row([
        "payment_secret".to_string(),
        match &d.payment_secret {
            Some(s) => hex(&s.0),
            None => "none (legacy invoice: modern nodes refuse to pay it)".to_string(),
        },
    ]);
    t.row([
        "amount_msat".to_string(),
        d.amount_msat
            .map_or("any (the payer chooses)".to_string(), thousands),
    ]);
    t.row([
        "timestamp".to_string(),
        format!("{} ({})", d.timestamp, utc(d.timestamp)),
    ]);
    t.row([
        "expiry".to_string(),
        format!("{} s (until {})", d.expiry_secs, utc(d.expires_at())),
    ]);
    t.row(["status".to_string(), expiry_status(&d, now)]);
    t.row([
        "min_final_cltv_expiry_delta".to_string(),
        d.min_final_cltv_expiry_delta.to_string(),
    ]);
    t.row([
        "description".to_string(),
        match &d.description {
            InvoiceDescription::Direct(s) => s.clone(),
            InvoiceDescription::Hash(h) => {
                format!("sha256 {} (the text is not in the invoice)", hex(h))
            }
        },
    ]);
    t.row(["features".to_string(), describe_features(&d)]);
    if !d.route_hints.is_empty() {
        let hops: Vec<String> = d
            .route_hints
            .iter()
            .map(|r| r.0.len().to_string())
            .collect();
        t.row([
            "route hints".to_string(),
            format!("{} (hops: {})", d.route_hints.len(), hops.join(", ")),
        ]);
    }
    for a in &d.fallback_addresses {
        t.row(["fallback address", a.as_str()]);
    }
    out!("{}", t.render())?;
    Ok(())
}

/// `EXPIRED 8 y 185 d ago: a payer refuses it` or `valid for 59 min 59 s`.
fn expiry_status(d: &DecodedInvoice, now: u64) -> String {
    let left = d.seconds_until_expiry(now);
    if d.is_expired(now) {
        format!(
            "EXPIRED {} ago: payers refuse it; ask the payee for a new one",
            span(left.unsigned_abs())
        )
    } else {
        format!("valid for {}", span(left.unsigned_abs()))
    }
}

/// A duration in its two largest units: `3 d 4 h`, `59 min 59 s`, `0 s`.
fn span(secs: u128) -> String {
    const UNITS: [(u128, &str); 5] = [
        (365 * 86_400, "y"),
        (86_400, "d"),
        (3_600, "h"),
        (60, "min"),
        (1, "s"),
    ];
    let mut parts = Vec::new();
    let mut rest = secs;
    for (size, name) in UNITS {
        if rest >= size || (parts.is_empty() && size == 1) {
            parts.push(format!("{} {name}", rest / size));
            rest %= size;
        } else if !parts.is_empty() {
            // Two consecutive units at most: "1 h 0 min", never "1 h 5 s".
            parts.push(format!("0 {name}"));
        }
        if parts.len() == 2 {
            break;
        }
    }
    parts.join(" ")
}

fn describe_features(d: &DecodedInvoice) -> String {
    if d.features.is_empty() {
        return "none".to_string();
    }
    d.features
        .iter()
        .map(|f| {
            let kind = if f.required() { "required" } else { "optional" };
            format!("{} ({}, {kind})", f.label(), f.bit)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn decoded_json(d: &DecodedInvoice) -> Value {
    let (description, description_hash) = match &d.description {
        InvoiceDescription::Direct(s) => (Value::from(s.clone()), Value::Null),
        InvoiceDescription::Hash(h) => (Value::Null, Value::from(hex(h))),
    };
    let route_hints: Vec<Value> = d
        .route_hints
        .iter()
        .map(|r| {
            Value::from(
                r.0.iter()
                    .map(|h| {
                        json!({
                            "node_id": h.src_node_id.to_string(),
                            "short_channel_id": h.short_channel_id,
                            "fee_base_msat": h.fees.base_msat,
                            "fee_proportional_millionths": h.fees.proportional_millionths,
                            "cltv_expiry_delta": h.cltv_expiry_delta,
                        })
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    json!({
        "bolt11": d.bolt11,
        "network": currency_name(&d.currency),
        "payee": d.payee.to_string(),
        "payee_explicit": d.payee_explicit,
        "payment_hash": hex(&d.payment_hash.0),
        "payment_secret": d.payment_secret.map(|s| hex(&s.0)),
        "amount_msat": d.amount_msat,
        "timestamp": d.timestamp,
        "expiry_secs": d.expiry_secs,
        "expires_at": d.expires_at(),
        "min_final_cltv_expiry_delta": d.min_final_cltv_expiry_delta,
        "description": description,
        "description_hash": description_hash,
        "features": d.feature_names(),
        "feature_bits": d.features.iter().map(|f| f.bit).collect::<Vec<_>>(),
        "route_hints": route_hints,
        "fallback_addresses": d.fallback_addresses,
    })
}

/// Seconds since 1970 as `YYYY-MM-DD HH:MM:SS UTC`: the results directory's ISO date
/// (one calendar conversion), spelt for people.
fn utc(ts: u64) -> String {
    let iso = flotilla_sim::output::iso_utc(ts);
    format!("{} UTC", iso.trim_end_matches('Z').replacen('T', " ", 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_496_314_658), "2017-06-01 10:57:38 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(MAX_TIMESTAMP), "3058-10-26 03:46:07 UTC"); // 2^35 - 1
    }

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(0), "0 s");
        assert_eq!(span(59), "59 s");
        assert_eq!(span(3_599), "59 min 59 s");
        assert_eq!(span(3_600), "1 h 0 min");
        assert_eq!(span(90_061), "1 d 1 h");
        assert_eq!(span(400 * 86_400), "1 y 35 d");
    }

    #[test]
    fn amounts_parse_or_explain() {
        assert_eq!(parse_amount("1_000").unwrap(), 1000);
        assert!(parse_amount("0")
            .unwrap_err()
            .to_string()
            .contains("positive"));
        assert!(parse_amount("-5")
            .unwrap_err()
            .to_string()
            .contains("positive whole number"));
        assert!(parse_amount("1.5").is_err());
        assert!(parse_amount("99999999999999999999999")
            .unwrap_err()
            .to_string()
            .contains("too large"));
        assert!(parse_amount(&(MAX_AMOUNT_MSAT + 1).to_string()).is_err());
        assert_eq!(
            parse_amount(&MAX_AMOUNT_MSAT.to_string()).unwrap(),
            MAX_AMOUNT_MSAT
        );
    }
}
