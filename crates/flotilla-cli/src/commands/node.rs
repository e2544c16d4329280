//! `flotilla node`: run a live node, or query a running one through its control
//! socket.

use std::path::Path;

use anyhow::{anyhow, Result};
use flotilla_node::control::{client, protocol::Request};
use flotilla_node::daemon::{self, Config};
use serde_json::Value;

use crate::cli::{ChannelParamFlags, NodeArgs, NodeCommand, PolicyFlags};
use crate::table::{thousands, Table};
use flotilla_ln::config::ChannelParamsOverride;
use flotilla_node::defaults::DefaultsChange;
use flotilla_node::engine::policy::PolicyChange;

/// Runs a `node` subcommand.
pub fn run(args: NodeArgs) -> Result<()> {
    let dir = args
        .data_dir
        .ok_or_else(|| anyhow!("--data-dir DIR is required: the node's data directory"))?;
    match args.command {
        NodeCommand::Run(r) => Ok(daemon::run(Config {
            data_dir: dir,
            listen: r.listen,
            alias: r.alias,
            allow_public_listen: r.allow_public_listen,
            defaults: DefaultsChange {
                policy: policy_change(&r.policy),
                channel: params_change(&r.params),
            },
        })?),
        NodeCommand::Info(q) => {
            let v = ask(&dir, Request::Info)?;
            if q.json {
                return print_json(&v);
            }
            print_info(&v)
        }
        NodeCommand::Peers(q) => {
            let v = ask(&dir, Request::Peers)?;
            if q.json {
                return print_json(&v);
            }
            print_peers(&v)
        }
        NodeCommand::Connect(c) => {
            let v = ask(&dir, Request::Connect { peer: c.peer })?;
            if c.json {
                return print_json(&v);
            }
            outln!(
                "connected to {} at {}",
                str_of(&v, "node_id"),
                str_of(&v, "address")
            )?;
            Ok(())
        }
        NodeCommand::OpenChannel(o) => {
            let v = ask(
                &dir,
                Request::OpenChannel {
                    peer: o.peer,
                    capacity_sat: o.capacity_sat,
                    push_msat: o.push_msat,
                    push_sat: o.push_sat,
                    policy: policy_change(&o.policy),
                    params: params_change(&o.params),
                },
            )?;
            if o.json {
                return print_json(&v);
            }
            outln!(
                "channel {} with {}: {} sat, local {} msat, remote {} msat",
                str_of(&v, "channel_id"),
                str_of(&v, "peer"),
                thousands(u64_of(&v, "capacity_sat")),
                thousands(u64_of(&v, "local_msat")),
                thousands(u64_of(&v, "remote_msat"))
            )?;
            Ok(())
        }
        NodeCommand::SetPolicy(sp) => {
            let p = policy_change(&sp.policy);
            let v = ask(
                &dir,
                Request::SetPolicy {
                    channel_id: sp.channel_id,
                    fee_base_msat: p.fee_base_msat,
                    fee_rate_ppm: p.fee_rate_ppm,
                    cltv_expiry_delta: p.cltv_expiry_delta,
                    htlc_minimum_msat: p.htlc_minimum_msat,
                    htlc_maximum_msat: p.htlc_maximum_msat,
                },
            )?;
            if sp.json {
                return print_json(&v);
            }
            let p = &v["policy"];
            outln!(
                "channel {}: {} msat + {} ppm, CLTV delta {}, HTLC minimum {} msat, announced",
                str_of(&v, "channel_id"),
                thousands(u64_of(p, "fee_base_msat")),
                thousands(u64_of(p, "fee_rate_ppm")),
                u64_of(p, "cltv_expiry_delta"),
                thousands(u64_of(p, "htlc_minimum_msat")),
            )?;
            Ok(())
        }
        NodeCommand::Channels(q) => {
            let v = ask(&dir, Request::Channels)?;
            if q.json {
                return print_json(&v);
            }
            print_channels(&v)
        }
        NodeCommand::Invoice(i) => {
            let v = ask(
                &dir,
                Request::Invoice {
                    amount_msat: i.amount_msat,
                    description: i.description,
                    expiry_secs: Some(i.expiry_secs),
                    lock: i.lock,
                    parts: i.parts,
                },
            )?;
            if i.json {
                return print_json(&v);
            }
            outln!("{}", str_of(&v, "bolt11"))?;
            Ok(())
        }
        NodeCommand::Pay(p) => {
            let v = ask(
                &dir,
                Request::Pay {
                    bolt11: p.bolt11,
                    amount_msat: p.amount_msat,
                    max_parts: p.max_parts,
                    redundancy: p.redundancy,
                    lock: p.lock,
                    commitments: p.commitments,
                },
            )?;
            finish_payment(&v, p.json)
        }
        NodeCommand::Keysend(k) => {
            let v = ask(
                &dir,
                Request::Keysend {
                    peer: k.peer,
                    amount_msat: k.amount_msat,
                    max_parts: Some(k.max_parts),
                },
            )?;
            finish_payment(&v, k.json)
        }
        NodeCommand::Payments(q) => {
            let v = ask(&dir, Request::Payments)?;
            if q.json {
                return print_json(&v);
            }
            print_payments(&v)
        }
        NodeCommand::Stop(q) => {
            let v = ask(&dir, Request::Stop)?;
            if q.json {
                return print_json(&v);
            }
            outln!("stopping")?;
            Ok(())
        }
    }
}

/// The policy flags as a change.
pub(crate) fn policy_change(f: &PolicyFlags) -> PolicyChange {
    PolicyChange {
        fee_base_msat: f.fee_base_msat,
        fee_rate_ppm: f.fee_rate_ppm,
        cltv_expiry_delta: f.cltv_expiry_delta,
        htlc_minimum_msat: f.htlc_minimum_msat,
        htlc_maximum_msat: f.htlc_maximum_msat,
    }
}

/// The channel parameter flags as an override.
pub(crate) fn params_change(f: &ChannelParamFlags) -> ChannelParamsOverride {
    ChannelParamsOverride {
        max_accepted_htlcs: f.max_accepted_htlcs,
        max_htlc_value_in_flight_msat: f.max_htlc_value_in_flight_msat,
        channel_reserve_ppm: f.channel_reserve_ppm,
        dust_limit_sat: f.dust_limit_sat,
        htlc_minimum_msat: f.htlc_minimum_msat,
        max_dust_htlc_exposure_msat: None,
    }
}

/// Prints a payment's outcome; a failed payment is an error (exit 1) after its JSON.
fn finish_payment(v: &Value, json: bool) -> Result<()> {
    let status = str_of(v, "status");
    if json {
        print_json(v)?;
    } else if status == "succeeded" {
        outln!(
            "paid {} msat (fee {} msat) in {} part(s), {} ms",
            thousands(u64_of(v, "amount_msat")),
            thousands(u64_of(v, "fee_msat")),
            u64_of(v, "parts_settled"),
            u64_of(v, "time_ms")
        )?;
    }
    match status {
        "succeeded" => Ok(()),
        "pending" => Err(anyhow!(
            "payment {} still pending; see `payments`",
            str_of(v, "payment_hash")
        )),
        _ => Err(anyhow!("payment failed: {}", str_of(v, "failure_reason"))),
    }
}

fn print_payments(v: &Value) -> Result<()> {
    let rows = v.as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        outln!("no payments")?;
        return Ok(());
    }
    let mut t = Table::new(3).header([
        "direction",
        "payment_hash",
        "status",
        "amount_msat",
        "fee_msat",
        "parts",
    ]);
    for r in &rows {
        t.row([
            str_of(r, "direction").to_string(),
            str_of(r, "payment_hash").to_string(),
            str_of(r, "status").to_string(),
            thousands(u64_of(r, "amount_msat")),
            thousands(u64_of(r, "fee_msat")),
            u64_of(r, "parts_settled").to_string(),
        ]);
    }
    out!("{}", t.render())?;
    Ok(())
}

fn ask(dir: &Path, request: Request) -> Result<Value> {
    Ok(client::request(dir, request)?)
}

fn print_json(v: &Value) -> Result<()> {
    outln!("{}", serde_json::to_string_pretty(v)?)?;
    Ok(())
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("-")
}

fn u64_of(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

fn print_info(v: &Value) -> Result<()> {
    let mut t = Table::new(2);
    let mut row = |k: &str, val: String| t.row([k.to_string(), val]);
    row("node_id", str_of(v, "node_id").into());
    row("alias", str_of(v, "alias").into());
    row("listen", str_of(v, "listen").into());
    row("uri", str_of(v, "uri").into());
    row(
        "control",
        v.pointer("/control/socket")
            .and_then(Value::as_str)
            .unwrap_or("-")
            .into(),
    );
    row("pid", u64_of(v, "pid").to_string());
    row("features", str_of(v, "features").into());
    row("uptime_secs", thousands(u64_of(v, "uptime_secs")));
    row("peers_connected", u64_of(v, "peers_connected").to_string());
    row(
        "peers_remembered",
        u64_of(v, "peers_remembered").to_string(),
    );
    if let Some(m) = v.get("messages") {
        if let Some(received) = m.get("received").and_then(Value::as_object) {
            for (name, n) in received {
                row(
                    &format!("received {name}"),
                    thousands(n.as_u64().unwrap_or(0)),
                );
            }
        }
        row("malformed", thousands(u64_of(m, "malformed")));
        row("sent", thousands(u64_of(m, "sent")));
    }
    out!("{}", t.render())?;
    Ok(())
}

fn print_peers(v: &Value) -> Result<()> {
    let peers = v.as_array().cloned().unwrap_or_default();
    if peers.is_empty() {
        outln!("no peers connected")?;
        return Ok(());
    }
    let mut t = Table::new(4).header([
        "node_id",
        "address",
        "direction",
        "features",
        "connected_secs",
    ]);
    for p in &peers {
        t.row([
            str_of(p, "node_id").to_string(),
            str_of(p, "address").to_string(),
            if p.get("inbound").and_then(Value::as_bool) == Some(true) {
                "inbound".into()
            } else {
                "outbound".into()
            },
            str_of(p, "features").to_string(),
            thousands(u64_of(p, "connected_secs")),
        ]);
    }
    out!("{}", t.render())?;
    Ok(())
}

fn print_channels(v: &Value) -> Result<()> {
    let channels = v.as_array().cloned().unwrap_or_default();
    if channels.is_empty() {
        outln!("no channels")?;
        return Ok(());
    }
    let mut t = Table::new(2).header([
        "channel_id",
        "peer",
        "capacity_sat",
        "local_msat",
        "remote_msat",
        "pending_htlcs",
    ]);
    for c in &channels {
        t.row([
            str_of(c, "channel_id").to_string(),
            str_of(c, "peer").to_string(),
            thousands(u64_of(c, "capacity_sat")),
            thousands(u64_of(c, "local_msat")),
            thousands(u64_of(c, "remote_msat")),
            u64_of(c, "pending_htlcs").to_string(),
        ]);
    }
    out!("{}", t.render())?;
    Ok(())
}
