//! A live `flotilla node run` process for the node tests: start, query, stop or
//! `kill -9`, and the conservation check over every channel.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::{bin, json, node, wait_for};

/// A running `flotilla node run`; killed on drop if still running.
pub struct LiveNode {
    /// Its data directory.
    pub dir: PathBuf,
    child: Child,
    /// Its `info --json` at start.
    pub info: Value,
}

impl LiveNode {
    pub fn start(dir: &Path, listen: &str) -> LiveNode {
        LiveNode::start_env(dir, listen, &[])
    }

    /// Like [`LiveNode::start`] with extra environment variables.
    pub fn start_env(dir: &Path, listen: &str, env: &[(&str, &str)]) -> LiveNode {
        LiveNode::start_full(dir, listen, env, &[])
    }

    /// Like [`LiveNode::start`] with extra environment variables and `node run` flags.
    pub fn start_full(dir: &Path, listen: &str, env: &[(&str, &str)], args: &[&str]) -> LiveNode {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.with_extension("log"))
            .unwrap();
        let child = Command::new(bin())
            .args(["node", "run", "--data-dir"])
            .arg(dir)
            .args(["--listen", listen])
            .args(args)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("node starts");
        let pid = child.id();
        let mut n = LiveNode {
            dir: dir.to_path_buf(),
            child,
            info: Value::Null,
        };
        n.info = wait_for("the node to answer", Duration::from_secs(60), || {
            if let Ok(Some(status)) = n.child.try_wait() {
                panic!("node exited early with {status}: {}", n.log());
            }
            let file = std::fs::read_to_string(dir.join("node.json")).ok()?;
            let v: Value = serde_json::from_str(&file).ok()?;
            if v["pid"].as_u64() != Some(u64::from(pid)) {
                return None;
            }
            let out = node(dir, &["info", "--json"]);
            out.status
                .success()
                .then(|| serde_json::from_slice(&out.stdout).unwrap())
        });
        n
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.with_extension("log")).unwrap_or_default()
    }

    pub fn id(&self) -> String {
        self.info["node_id"].as_str().unwrap().to_string()
    }

    pub fn listen(&self) -> String {
        self.info["listen"].as_str().unwrap().to_string()
    }

    pub fn uri(&self) -> String {
        self.info["uri"].as_str().unwrap().to_string()
    }

    pub fn channels(&self) -> Vec<Value> {
        json(&self.dir, &["channels", "--json"])
            .as_array()
            .unwrap()
            .clone()
    }

    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn stop(mut self) {
        let _ = node(&self.dir, &["stop", "--json"]);
        let _ = wait_for("the node to exit", Duration::from_secs(20), || {
            self.child.try_wait().unwrap()
        });
    }
}

impl Drop for LiveNode {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn connect(a: &LiveNode, b: &LiveNode) {
    json(&a.dir, &["connect", &b.uri(), "--json"]);
}

pub fn open(a: &LiveNode, b: &LiveNode, cap_sat: u64, push_sat: u64) -> String {
    let c = json(
        &a.dir,
        &[
            "open-channel",
            &b.id(),
            "--capacity-sat",
            &cap_sat.to_string(),
            "--push-sat",
            &push_sat.to_string(),
            "--json",
        ],
    );
    c["channel_id"].as_str().unwrap().to_string()
}

/// Every channel as both its ends see it, once no HTLC is pending anywhere: the two
/// ends agree, and the balances add up to the capacity. Returns each node's value.
pub fn check_quiet(nodes: &[&LiveNode]) -> Vec<u64> {
    let views: Vec<Vec<Value>> = wait_for("every HTLC to resolve", Duration::from_secs(90), || {
        let v: Vec<Vec<Value>> = nodes.iter().map(|n| n.channels()).collect();
        v.iter()
            .flatten()
            .all(|c| c["pending_htlcs"] == 0)
            .then_some(v)
    });
    let mut by_id: HashMap<String, Vec<(String, &Value)>> = HashMap::new();
    for (n, chans) in nodes.iter().zip(&views) {
        for c in chans {
            by_id
                .entry(c["channel_id"].as_str().unwrap().to_string())
                .or_default()
                .push((n.id(), c));
        }
    }
    for (id, ends) in &by_id {
        assert_eq!(ends.len(), 2, "channel {id} seen by {} nodes", ends.len());
        let (x, y) = (ends[0].1, ends[1].1);
        assert_eq!(
            x["local_msat"], y["remote_msat"],
            "channel {id}: {x} vs {y}"
        );
        assert_eq!(
            x["remote_msat"], y["local_msat"],
            "channel {id}: {x} vs {y}"
        );
        assert_eq!(x["peer"], ends[1].0.as_str());
        let cap = x["capacity_sat"].as_u64().unwrap() * 1000;
        assert_eq!(
            x["local_msat"].as_u64().unwrap() + x["remote_msat"].as_u64().unwrap(),
            cap,
            "channel {id}"
        );
    }
    for n in nodes {
        let info = json(&n.dir, &["info", "--json"]);
        assert_eq!(info["engine"]["books"], "ok", "{info}");
        assert_eq!(info["engine"]["live_htlcs"], 0, "{info}");
    }
    views
        .iter()
        .map(|cs| cs.iter().map(|c| c["local_msat"].as_u64().unwrap()).sum())
        .collect()
}

/// A redundant invoice at `r` for `lock` (`--parts 2` for boomerang); the `pay`
/// arguments it needs (ρ = 0.5, at most 2 base parts, boomerang's commitments).
pub fn redundant_invoice(r: &LiveNode, amount_msat: u64, lock: &str) -> (Value, Vec<String>) {
    let mut args = vec![
        "invoice".to_string(),
        "--amount-msat".into(),
        amount_msat.to_string(),
        "--lock".into(),
        lock.into(),
        "--json".into(),
    ];
    if lock == "boomerang" {
        args.extend(["--parts".into(), "2".into()]);
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let inv = json(&r.dir, &argv);
    assert_eq!(inv["lock"], lock, "{inv}");
    let mut pay = vec![
        "pay".to_string(),
        inv["bolt11"].as_str().unwrap().to_string(),
        "--redundancy".into(),
        "0.5".into(),
        "--lock".into(),
        lock.into(),
        "--max-parts".into(),
        "2".into(),
        "--json".into(),
    ];
    if lock == "boomerang" {
        let c = inv["boomerang_commitments"].as_str().unwrap();
        assert_eq!(c.split(',').count(), 3, "k = 2: C_0, C_1, C_2");
        pay.extend(["--commitments".into(), c.to_string()]);
    }
    (inv, pay)
}

/// Runs `pay` at `s` with `args`; its `--json` answer.
pub fn pay(s: &LiveNode, args: &[String]) -> Value {
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = node(&s.dir, &argv);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "pay {argv:?}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            s.log()
        )
    })
}
