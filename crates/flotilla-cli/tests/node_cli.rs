//! `flotilla node`: real daemons on loopback ports chosen at run time, driven
//! through their control sockets; each test stops the nodes it started.
//!
//! The interop test needs a Python with `pyln-proto` (an independent BOLT 8
//! implementation): `FLOTILLA_PYLN_PYTHON` names it (default `python3`); without
//! it the test is skipped, unless `FLOTILLA_REQUIRE_PYLN=1` (CI), which fails it.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{bin, json, node, wait_for};
use serde_json::Value;

/// A running `flotilla node run`; killed on drop if still running.
struct LiveNode {
    dir: PathBuf,
    child: Child,
    info: Value,
}

impl LiveNode {
    fn start(dir: &Path, listen: &str) -> LiveNode {
        let child = Command::new(bin())
            .args(["node", "run", "--data-dir"])
            .arg(dir)
            .args(["--listen", listen, "--alias", "test"])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.with_extension("log")).unwrap())
            .spawn()
            .expect("node starts");
        let pid = child.id();
        let mut n = LiveNode {
            dir: dir.to_path_buf(),
            child,
            info: Value::Null,
        };
        n.info = wait_for("the node to answer", Duration::from_secs(20), || {
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

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.with_extension("log")).unwrap_or_default()
    }

    fn id(&self) -> String {
        self.info["node_id"].as_str().unwrap().to_string()
    }

    fn listen(&self) -> String {
        self.info["listen"].as_str().unwrap().to_string()
    }

    fn uri(&self) -> String {
        self.info["uri"].as_str().unwrap().to_string()
    }

    fn peers(&self) -> Vec<Value> {
        json(&self.dir, &["peers", "--json"])
            .as_array()
            .unwrap()
            .clone()
    }

    /// The connected peer `id`, if any.
    fn peer(&self, id: &str) -> Option<Value> {
        self.peers().into_iter().find(|p| p["node_id"] == id)
    }

    /// SIGKILL, as a crash: nothing of the daemon's shutdown runs.
    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        assert!(
            self.dir.join("control.sock").exists(),
            "a crash leaves its socket"
        );
    }

    /// `stop` through the control socket, then wait for the process to end.
    fn stop(mut self) {
        let out = node(&self.dir, &["stop", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let status = wait_for("the node to exit", Duration::from_secs(20), || {
            self.child.try_wait().unwrap()
        });
        assert!(status.success(), "exit {status}: {}", self.log());
        assert!(!self.dir.join("control.sock").exists());
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

#[test]
fn two_nodes_connect_restart_and_reconnect_in_both_roles() {
    let tmp = tempfile::tempdir().unwrap();
    let (da, db) = (tmp.path().join("a"), tmp.path().join("b"));
    let a = LiveNode::start(&da, "127.0.0.1:0");
    let b = LiveNode::start(&db, "127.0.0.1:0");
    assert_ne!(a.id(), b.id());
    assert!(
        !a.listen().ends_with(":0"),
        "the chosen port is in node.json"
    );

    // The identity file is private; node.json says how to reach the control socket.
    let key_mode = std::fs::metadata(da.join("identity.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(key_mode & 0o777, 0o600);
    let sock_mode = std::fs::metadata(da.join("control.sock"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(sock_mode & 0o777, 0o600);
    assert_eq!(a.info["control"]["kind"], "unix");

    let c = json(&da, &["connect", &b.uri(), "--json"]);
    assert_eq!(c["node_id"], b.id());
    assert_eq!(c["address"], b.listen());

    // Both directions, with the remote address of each connection.
    let ab = a.peer(&b.id()).expect("a sees b");
    assert_eq!(ab["inbound"], false);
    assert_eq!(ab["address"], b.listen());
    let ba = wait_for("b to see a", Duration::from_secs(10), || b.peer(&a.id()));
    assert_eq!(ba["inbound"], true);
    let a_port: u16 = a.listen().rsplit_once(':').unwrap().1.parse().unwrap();
    let ba_addr = ba["address"].as_str().unwrap().to_string();
    assert!(ba_addr.starts_with("127.0.0.1:"), "{ba_addr}");
    assert_ne!(
        ba_addr,
        format!("127.0.0.1:{a_port}"),
        "an inbound address is the dialing socket's"
    );
    // The peer's init features are flotilla's (custom bits 257, 259, 261), as advertised.
    assert_eq!(ab["features"], b.info["features"]);
    assert!(ab["connected_secs"].is_u64());
    let info = json(&da, &["info", "--json"]);
    assert_eq!(info["peers_connected"], 1);
    assert_eq!(info["peers_remembered"], 1);

    // Text output is a table with both columns we care about.
    let text = node(&db, &["peers"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&a.id()) && text.contains("inbound"), "{text}");

    // Restart the dialer: it reads b from its store and dials again.
    a.stop();
    let a = LiveNode::start(&da, "127.0.0.1:0");
    let ab = wait_for("a to redial b", Duration::from_secs(20), || a.peer(&b.id()));
    assert_eq!(ab["inbound"], false);
    assert_eq!(ab["address"], b.listen());
    wait_for(
        "b to see the new connection",
        Duration::from_secs(10),
        || b.peer(&a.id()).filter(|p| p["address"] != ba_addr),
    );

    // Restart the listener on its port: the dialer's backoff brings it back.
    let b_listen = b.listen();
    let b_id = b.id();
    b.stop();
    wait_for("a to notice b is gone", Duration::from_secs(20), || {
        a.peer(&b_id).is_none().then_some(())
    });
    let b = LiveNode::start(&db, &b_listen);
    let ab = wait_for("a to reconnect to b", Duration::from_secs(30), || {
        a.peer(&b.id())
    });
    assert_eq!(ab["address"], b_listen);
    let ba = wait_for("b to see a", Duration::from_secs(10), || b.peer(&a.id()));
    assert_eq!(ba["inbound"], true);
    assert!(a.log().contains("reconnected"), "{}", a.log());
    a.stop();
    b.stop();
}

#[test]
fn connect_errors_are_one_clear_line() {
    let tmp = tempfile::tempdir().unwrap();
    let da = tmp.path().join("a");
    let a = LiveNode::start(&da, "127.0.0.1:0");
    // A node id that is not the one listening there: the BOLT 8 handshake fails.
    let other = tmp.path().join("b");
    let b = LiveNode::start(&other, "127.0.0.1:0");
    let wrong_id = a.id();
    let cases: Vec<(String, &str)> = vec![
        ("nonsense".into(), "expected ID@HOST:PORT"),
        (format!("{}@127.0.0.1", b.id()), "no :PORT"),
        (
            format!("zz{}@127.0.0.1:1", &b.id()[2..]),
            "not a public key",
        ),
        (a.uri(), "that is this node"),
        (format!("{wrong_id}x@{}", b.listen()), "not a public key"),
    ];
    for (arg, want) in cases {
        let out = node(&da, &["connect", &arg]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{arg}");
        assert!(
            err.starts_with("error: ") && err.contains(want),
            "{arg}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // Someone else's id at b's address: refused in the handshake, not remembered.
    let fake = "02".to_string() + &b.id()[2..];
    let fake = if fake == b.id() {
        "03".to_string() + &b.id()[2..]
    } else {
        fake
    };
    let out = node(&da, &["connect", &format!("{fake}@{}", b.listen())]);
    let err = String::from_utf8_lossy(&out.stderr);
    if !err.contains("not a public key") {
        assert!(!out.status.success());
        assert!(err.contains("handshake"), "{err}");
    }
    // Nobody listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let out = node(&da, &["connect", &format!("{}@127.0.0.1:{port}", b.id())]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not reach"));
    assert_eq!(json(&da, &["info", "--json"])["peers_remembered"], 0);
    a.stop();
    b.stop();
}

#[test]
fn start_refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("n");
    // Not loopback without the explicit flag: refused before anything binds.
    let out = Command::new(bin())
        .args(["node", "run", "--data-dir"])
        .arg(&d)
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a loopback address") && err.contains("--allow-public-listen"),
        "{err}"
    );

    // A key others can read is refused.
    let n = LiveNode::start(&d, "127.0.0.1:0");
    // A second daemon on the same directory is refused while the first runs.
    let out = Command::new(bin())
        .args(["node", "run", "--data-dir"])
        .arg(&d)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already running"));
    n.stop();
    let key = d.join("identity.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = Command::new(bin())
        .args(["node", "run", "--data-dir"])
        .arg(&d)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("identity.key") && err.contains("644"), "{err}");

    // Querying a stopped node says so.
    let out = node(&d, &["info"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not running"));
    let out = node(&tmp.path().join("never"), &["info"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no node has run"));
}

/// Sends raw lines to the control socket, returning each answer.
fn raw_control(sock: &Path, lines: &[&str]) -> Vec<Value> {
    use std::io::{BufRead, BufReader, Write};
    let mut s = std::os::unix::net::UnixStream::connect(sock).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    lines
        .iter()
        .map(|l| {
            s.write_all(l.as_bytes()).unwrap();
            s.write_all(b"\n").unwrap();
            let mut reply = String::new();
            r.read_line(&mut reply).unwrap();
            serde_json::from_str(&reply).unwrap()
        })
        .collect()
}

#[test]
fn the_control_socket_refuses_outsiders_and_bad_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("n");
    let n = LiveNode::start(&d, "127.0.0.1:0");
    let sock = d.join("control.sock");
    let token = std::fs::read_to_string(d.join("control.token")).unwrap();
    let token_mode = std::fs::metadata(d.join("control.token"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(token_mode & 0o777, 0o600);

    // A process that can reach the socket but cannot read the token is refused.
    let answers = raw_control(
        &sock,
        &[
            r#"{"request":"info"}"#,
            r#"{"token":"00","request":"info"}"#,
            &format!(r#"{{"token":"{}","request":"stop"}}"#, "f".repeat(64)),
            &format!(r#"{{"token":"{token}","request":"info"}}"#),
            &format!(r#"{{"token":"{token}","request":"launch"}}"#),
            "not json",
            &format!(r#"{{"token":"{token}","request":"connect"}}"#),
        ],
    );
    for a in &answers[..3] {
        assert_eq!(a["ok"], false, "{a}");
        assert!(a["error"].as_str().unwrap().contains("refused"), "{a}");
    }
    assert_eq!(answers[3]["ok"], true);
    assert_eq!(answers[3]["result"]["node_id"], n.id());
    for a in &answers[4..] {
        assert_eq!(a["ok"], false, "{a}");
        assert!(
            a["error"].as_str().unwrap().starts_with("bad request"),
            "{a}"
        );
    }
    // An over-long line is refused and the connection closed (the daemon may close
    // before it has read all we write).
    {
        use std::io::{BufRead, BufReader, Write};
        let mut s = std::os::unix::net::UnixStream::connect(&sock).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = s.write_all("x".repeat(70_000).as_bytes());
        let mut reply = String::new();
        BufReader::new(&s).read_line(&mut reply).unwrap();
        let a: Value = serde_json::from_str(&reply).unwrap();
        assert!(a["error"].as_str().unwrap().contains("longer than"), "{a}");
    }

    // Another user: refused by the socket's mode, and (with the mode opened up on
    // purpose) by the daemon's user-id check. Needs root to act as another user.
    if unsafe { libc::geteuid() } == 0 && Path::new("/usr/bin/python3").exists() {
        let connect = || {
            Command::new("/usr/bin/python3")
                .arg("-c")
                .arg(
                    "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1])\nexcept PermissionError:\n print('EACCES'); sys.exit(0)\ntry:\n s.sendall(sys.argv[2].encode()+b'\\n')\nexcept BrokenPipeError:\n pass\nprint(s.makefile().readline())",
                )
                .arg(&sock)
                .arg(format!(r#"{{"token":"{token}","request":"info"}}"#))
                .uid(65534)
                .gid(65534)
                .current_dir("/")
                .output()
                .unwrap()
        };
        // Let the other user through the directories, as a careless setup might.
        for p in [tmp.path(), d.as_path()] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let out = connect();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "EACCES",
            "{out:?}"
        );
        std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).unwrap();
        let out = connect();
        let reply = String::from_utf8_lossy(&out.stdout);
        assert!(
            reply.contains("refused") && reply.contains("only answers that user"),
            "{reply} {out:?}"
        );
        // And the CLI as that user cannot read the token.
        let out = Command::new(bin())
            .args(["node", "--data-dir"])
            .arg(&d)
            .arg("info")
            .uid(65534)
            .gid(65534)
            .current_dir("/")
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("control.token"),
            "{out:?}"
        );
    } else {
        eprintln!("skipped the other-user checks: they need root and /usr/bin/python3");
    }
    n.stop();
}

/// The Python with pyln-proto, or `None` (skip) when there is none and none is required.
fn pyln_python() -> Option<String> {
    let python = std::env::var("FLOTILLA_PYLN_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import pyln.proto.wire"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    assert!(
        std::env::var_os("FLOTILLA_REQUIRE_PYLN").is_none(),
        "{python} has no pyln-proto (pip install pyln-proto), and FLOTILLA_REQUIRE_PYLN is set"
    );
    eprintln!("skipped: {python} has no pyln-proto; CI requires it");
    None
}

#[test]
fn an_independent_bolt8_peer_handshakes_pings_and_is_warned_about_garbage() {
    let Some(python) = pyln_python() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("n");
    let n = LiveNode::start(&d, "127.0.0.1:0");
    let (host, port) = n
        .listen()
        .rsplit_once(':')
        .map(|(h, p)| (h.to_string(), p.to_string()))
        .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/pyln_peer.py");
    let out = Command::new(&python)
        .arg(&script)
        .args([n.id(), host, port])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        n.log()
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The node's init advertised exactly what node.json says: custom bits 257
    // (flotilla's messages), 259 (h2tlc) and 261 (point locks), 0x2a in byte 32,
    // and BOLT bit 39 (onion messages, optional), 0x80 in byte 4.
    let advertised = v["init_features"].as_str().unwrap();
    assert_eq!(advertised, n.info["features"].as_str().unwrap());
    assert!(
        advertised.starts_with("2a") && advertised.len() == 66,
        "{advertised}"
    );
    assert_eq!(&advertised[56..58], "80", "{advertised}");
    assert_eq!(
        advertised
            .bytes()
            .enumerate()
            .filter(|(i, c)| *c != b'0' && ![0, 1, 56].contains(i))
            .count(),
        0,
        "no other bit: {advertised}"
    );
    assert_eq!(v["pong_len"], 12);
    assert_eq!(v["pong_after_unknown_odd"], 3);
    assert_eq!(v["pong_after_flotilla"], 1);
    let warning = v["warning"].as_str().unwrap_or_default();
    assert!(warning.contains("malformed update_fulfill_htlc"), "{v}");
    // Any warning before it answers step 4: a peer without a channel is told so.
    let warnings = v["warnings"].as_array().unwrap();
    for w in &warnings[..warnings.len() - 1] {
        let w = w.as_str().unwrap();
        assert!(w.ends_with("no channel with you"), "{v}");
    }
    assert_eq!(v["closed_after_warning"], true);
    assert_eq!(v["second_session_pong_len"], 7);
    assert_eq!(v["garbage_act_one_answer"], 0);

    let info = json(&d, &["info", "--json"]);
    assert_eq!(info["messages"]["received"]["cancel_payment"], 1, "{info}");
    assert_eq!(
        info["messages"]["received"]["update_fulfill_htlc"], 1,
        "{info}"
    );
    assert_eq!(info["messages"]["malformed"], 1);
    n.stop();
}

#[test]
fn channels_open_by_agreement_and_both_sides_store_the_same_balances() {
    let tmp = tempfile::tempdir().unwrap();
    let (da, db) = (tmp.path().join("a"), tmp.path().join("b"));
    let a = LiveNode::start(&da, "127.0.0.1:0");
    let b = LiveNode::start(&db, "127.0.0.1:0");

    // Not connected yet: refused with one line.
    let out = node(&da, &["open-channel", &b.id(), "--capacity-sat", "1000"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not connected"));
    json(&da, &["connect", &b.uri(), "--json"]);
    for (cap, push, want) in [
        ("0", "0", "must be positive"),
        ("1000", "1001", "more than the capacity"),
        ("2100000000000001", "0", "21 million"),
    ] {
        let out = node(
            &da,
            &[
                "open-channel",
                &b.id(),
                "--capacity-sat",
                cap,
                "--push-sat",
                push,
            ],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(want),
            "{cap} {push}: {err}"
        );
    }

    let c = json(
        &da,
        &[
            "open-channel",
            &b.id(),
            "--capacity-sat",
            "1000000",
            "--push-sat",
            "250000",
            "--json",
        ],
    );
    assert_eq!(c["capacity_sat"], 1_000_000);
    assert_eq!(c["local_msat"], 750_000_000u64);
    assert_eq!(c["remote_msat"], 250_000_000u64);
    assert_eq!(c["pending_htlcs"], 0);
    let id = c["channel_id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 64);
    // A second channel with the same peer, other way round.
    json(
        &db,
        &["open-channel", &a.id(), "--capacity-sat", "5000", "--json"],
    );

    let check = |a: &LiveNode, b: &LiveNode| {
        let ca = json(&a.dir, &["channels", "--json"]);
        let cb = json(&b.dir, &["channels", "--json"]);
        let (ca, cb) = (ca.as_array().unwrap(), cb.as_array().unwrap());
        assert_eq!(ca.len(), 2);
        assert_eq!(cb.len(), 2);
        for x in ca {
            let y = cb
                .iter()
                .find(|y| y["channel_id"] == x["channel_id"])
                .expect("both sides have it");
            assert_eq!(x["capacity_sat"], y["capacity_sat"]);
            assert_eq!(x["local_msat"], y["remote_msat"]);
            assert_eq!(x["remote_msat"], y["local_msat"]);
            assert_eq!(x["peer"], b.id());
            assert_eq!(y["peer"], a.id());
        }
        let x = ca.iter().find(|x| x["channel_id"] == id).unwrap();
        assert_eq!(x["local_msat"], 750_000_000u64);
    };
    check(&a, &b);
    // Durable: the same after a crash (kill -9) of one and a clean stop of the other;
    // the crashed node's stale socket and lock do not keep it from starting, and it
    // dials its peer again.
    let b_listen = b.listen();
    a.kill9();
    b.stop();
    let b = LiveNode::start(&db, &b_listen);
    let a = LiveNode::start(&da, "127.0.0.1:0");
    check(&a, &b);
    wait_for(
        "a to redial b after the crash",
        Duration::from_secs(20),
        || a.peer(&b.id()),
    );
    let text = node(&da, &["channels"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&id) && text.contains("1,000,000"), "{text}");
    a.stop();
    b.stop();
}
