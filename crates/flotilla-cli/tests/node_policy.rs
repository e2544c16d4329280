//! Policies and channel parameters between real `flotilla node run` processes: node
//! defaults from `node run` (kept for the next start), per-channel terms at
//! `open-channel`, `set-policy` announced to the peer, a refusal of unacceptable
//! parameters, and the bad inputs of the new flags and requests.

mod common;

use std::time::Duration;

use common::live::{connect, LiveNode};
use common::{json, node, wait_for};
use serde_json::Value;

/// The one channel of `n` as `channels --json` shows it.
fn channel(n: &LiveNode) -> Value {
    n.channels()[0].clone()
}

/// Runs `flotilla node ARGS` and returns its one error line (it must fail).
fn refused(dir: &std::path::Path, args: &[&str]) -> String {
    let out = node(dir, args);
    assert!(!out.status.success(), "{args:?} succeeded");
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert!(err.starts_with("error: "), "{err}");
    // clap's own usage errors add the usage after their one error line.
    if !err.contains("\nUsage: ") {
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
    }
    err.lines().next().unwrap_or_default().to_string()
}

#[test]
fn policies_and_parameters_agreed_announced_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let (da, db) = (tmp.path().join("a"), tmp.path().join("b"));
    // A bad default is refused before the node starts, naming the field.
    let e = refused(
        &da,
        &["run", "--listen", "127.0.0.1:0", "--dust-limit-sat", "10"],
    );
    assert!(e.contains("dust_limit_sat"), "{e}");
    let e = refused(
        &da,
        &["run", "--listen", "127.0.0.1:0", "--cltv-expiry-delta", "0"],
    );
    assert!(e.contains("cltv_expiry_delta"), "{e}");
    let a = LiveNode::start_full(
        &da,
        "127.0.0.1:0",
        &[],
        &["--fee-rate-ppm", "300", "--max-accepted-htlcs", "20"],
    );
    let b = LiveNode::start(&db, "127.0.0.1:0");
    connect(&a, &b);
    // The peer refuses parameters it cannot accept, and says which.
    let e = refused(
        &a.dir,
        &[
            "open-channel",
            &b.id(),
            "--capacity-sat",
            "1000000",
            "--channel-reserve-ppm",
            "500000",
        ],
    );
    assert!(
        e.contains("refused") && e.contains("channel_reserve"),
        "{e}"
    );
    // Bad flags: both pushes, a policy that does not fit, each one line.
    let e = refused(
        &a.dir,
        &[
            "open-channel",
            &b.id(),
            "--capacity-sat",
            "1000",
            "--push-msat",
            "1",
            "--push-sat",
            "1",
        ],
    );
    assert!(e.contains("--push-msat") || e.contains("push"), "{e}");
    let e = refused(
        &a.dir,
        &[
            "open-channel",
            &b.id(),
            "--capacity-sat",
            "1000",
            "--htlc-maximum-msat",
            "1000001",
        ],
    );
    assert!(e.contains("htlc_maximum_msat"), "{e}");
    // A channel with a push to the msat and this channel's own fee.
    let c = json(
        &a.dir,
        &[
            "open-channel",
            &b.id(),
            "--capacity-sat",
            "1000000",
            "--push-msat",
            "123456789",
            "--fee-base-msat",
            "0",
            "--fee-rate-ppm",
            "5000",
            "--json",
        ],
    );
    let id = c["channel_id"].as_str().unwrap().to_string();
    assert_eq!(c["remote_msat"], 123_456_789);
    let ca = channel(&a);
    assert_eq!(ca["local_policy"]["fee_rate_ppm"], 5000, "{ca}");
    assert_eq!(ca["local_policy"]["fee_base_msat"], 0, "{ca}");
    assert_eq!(ca["local_params"]["max_accepted_htlcs"], 20, "{ca}");
    let cb = channel(&b);
    assert_eq!(cb["local_msat"], 123_456_789);
    assert_eq!(
        cb["remote_params"]["max_accepted_htlcs"], 20,
        "b keeps a's: {cb}"
    );
    assert_eq!(cb["local_params"]["max_accepted_htlcs"], 483, "{cb}");
    // b learns a's policy from a's announcement; b changes its own, a learns it.
    wait_for("b to hear a's policy", Duration::from_secs(20), || {
        (channel(&b)["remote_policy"]["fee_rate_ppm"] == 5000).then_some(())
    });
    let v = json(
        &b.dir,
        &[
            "set-policy",
            &id,
            "--fee-rate-ppm",
            "777",
            "--cltv-expiry-delta",
            "80",
            "--json",
        ],
    );
    assert_eq!(v["policy"]["fee_rate_ppm"], 777, "{v}");
    wait_for("a to hear b's new policy", Duration::from_secs(20), || {
        let p = channel(&a)["remote_policy"].clone();
        (p["fee_rate_ppm"] == 777 && p["cltv_expiry_delta"] == 80).then_some(())
    });
    assert_eq!(
        channel(&b)["local_policy"]["fee_base_msat"],
        1000,
        "unchanged"
    );
    // set-policy's refusals.
    for (args, why) in [
        (
            vec!["set-policy", "zz", "--fee-rate-ppm", "1"],
            "not a channel id",
        ),
        (vec!["set-policy", &id], "nothing to change"),
        (
            vec!["set-policy", &"ab".repeat(32), "--fee-rate-ppm", "1"],
            "no channel",
        ),
        (
            vec!["set-policy", &id, "--htlc-minimum-msat", "0"],
            "htlc_minimum_msat",
        ),
        (vec!["set-policy", &id, "--fee-rate-ppm", "-1"], "-1"),
    ] {
        let e = refused(&b.dir, &args);
        assert!(e.contains(why), "{args:?}: {e}");
    }
    // The node's defaults are kept for the next start without flags.
    a.stop();
    let a = LiveNode::start(&da, "127.0.0.1:0");
    assert_eq!(
        a.info["defaults"]["policy"]["fee_rate_ppm"], 300,
        "{}",
        a.info
    );
    assert_eq!(a.info["defaults"]["channel"]["max_accepted_htlcs"], 20);
    // The channel kept its own terms across the restart.
    let ca = channel(&a);
    assert_eq!(ca["local_policy"]["fee_rate_ppm"], 5000, "{ca}");
    assert_eq!(ca["remote_policy"]["fee_rate_ppm"], 777, "{ca}");
    a.stop();
    b.stop();
}
