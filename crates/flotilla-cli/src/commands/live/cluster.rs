//! The live network's processes: one `flotilla node run` per graph node on a loopback
//! port the node picks itself (`--listen 127.0.0.1:0`, the port read back from its
//! `node.json`), and the guarantee that every process started is stopped again — at
//! the end, on an error (the guard's `Drop`) and on Ctrl-C or SIGTERM (a flag the
//! waits poll, then the same path).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use flotilla_node::control::{client, protocol::Request};
use flotilla_node::nodefile::NodeFile;
use serde_json::Value;

/// Set by SIGINT, SIGTERM or SIGHUP: every wait gives up and the cluster stops.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Routes Ctrl-C, SIGTERM and SIGHUP to [`interrupted`] instead of killing this
/// process outright, so it can stop the nodes it started.
pub fn catch_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic.
        unsafe {
            libc::signal(
                sig,
                on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
}

/// Whether a signal asked us to stop.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// An error if a signal asked us to stop.
pub fn check_interrupted() -> Result<()> {
    if interrupted() {
        bail!("interrupted; every node started was stopped");
    }
    Ok(())
}

/// Sleeps `d`, waking early (with an error) on a signal.
pub fn sleep(d: Duration) -> Result<()> {
    let until = Instant::now() + d;
    loop {
        check_interrupted()?;
        let now = Instant::now();
        if now >= until {
            return Ok(());
        }
        std::thread::sleep((until - now).min(Duration::from_millis(50)));
    }
}

/// One running node.
pub struct LiveNode {
    /// Its data directory.
    pub dir: PathBuf,
    /// Its node id (hex).
    pub node_id: String,
    /// `ip:port` it listens on.
    pub listen: String,
    child: Child,
}

/// Every node of the live network; dropping it stops them all.
pub struct Cluster {
    /// The nodes, in graph order.
    pub nodes: Vec<LiveNode>,
    /// Where the data directories are.
    pub root: PathBuf,
    /// Remove `root` once the nodes stopped (a temporary directory).
    remove_root: bool,
}

/// How long a node may take to write its `node.json`.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a node may take to stop after `stop` before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

impl LiveNode {
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Cluster {
    /// Starts `aliases.len()` nodes, data directories `root/nNN`, each with `run_args`
    /// added to `node run`. `remove_root`: the directory is ours to delete at the end.
    pub fn start(
        root: &Path,
        aliases: &[String],
        run_args: &[String],
        remove_root: bool,
    ) -> Result<Cluster> {
        std::fs::create_dir_all(root)
            .with_context(|| format!("cannot create {}", root.display()))?;
        let exe = std::env::current_exe().context("cannot find the flotilla binary")?;
        let mut cluster = Cluster {
            nodes: Vec::with_capacity(aliases.len()),
            root: root.to_path_buf(),
            remove_root,
        };
        let width = aliases.len().saturating_sub(1).to_string().len().max(2);
        let mut dirs = Vec::with_capacity(aliases.len());
        for (i, alias) in aliases.iter().enumerate() {
            check_interrupted()?;
            let dir = root.join(format!("n{i:0width$}"));
            if dir.join("node.json").exists() {
                bail!(
                    "{}: already holds a node; --nodes-dir must be a new or empty directory",
                    dir.display()
                );
            }
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let log = File::create(dir.join("node.log"))
                .with_context(|| format!("cannot create {}", dir.join("node.log").display()))?;
            let mut cmd = Command::new(&exe);
            #[cfg(target_os = "linux")]
            {
                use std::os::unix::process::CommandExt;
                // Should this process die without stopping its nodes (SIGKILL), the
                // kernel sends each a SIGTERM, which stops it cleanly.
                // SAFETY: prctl is async-signal-safe and touches no memory of ours.
                unsafe {
                    cmd.pre_exec(|| {
                        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                            return Err(std::io::Error::last_os_error());
                        }
                        Ok(())
                    });
                }
            }
            let child = cmd
                .arg("node")
                .arg("--data-dir")
                .arg(&dir)
                .args(["run", "--listen", "127.0.0.1:0", "--alias", alias])
                .args(run_args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::from(log))
                .spawn()
                .with_context(|| format!("cannot start node {i} ({alias})"))?;
            cluster.nodes.push(LiveNode {
                dir: dir.clone(),
                node_id: String::new(),
                listen: String::new(),
                child,
            });
            dirs.push(dir);
        }
        // Started all at once; now wait for each to say where it listens.
        let since = Instant::now();
        for i in 0..cluster.nodes.len() {
            loop {
                check_interrupted()?;
                let n = &mut cluster.nodes[i];
                if let Some(status) = n.child.try_wait().ok().flatten() {
                    bail!(
                        "node {i} exited at start ({status}); see {}",
                        n.dir.join("node.log").display()
                    );
                }
                if let Ok(f) = NodeFile::read(&n.dir) {
                    if f.pid == n.child.id() {
                        n.node_id = f.node_id;
                        n.listen = f.listen;
                        break;
                    }
                }
                if since.elapsed() > START_TIMEOUT {
                    bail!(
                        "node {i} did not start within {} s; see {}",
                        START_TIMEOUT.as_secs(),
                        n.dir.join("node.log").display()
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(cluster)
    }

    /// Stops every node still running: `stop` through its control socket, then a kill
    /// for any that has not exited after [`STOP_TIMEOUT`]. Idempotent.
    pub fn stop(&mut self) {
        for n in &mut self.nodes {
            if matches!(n.child.try_wait(), Ok(None)) {
                let _ = client::request(&n.dir, Request::Stop);
            }
        }
        let since = Instant::now();
        for n in &mut self.nodes {
            loop {
                match n.child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if since.elapsed() > STOP_TIMEOUT => {
                        tracing::warn!(dir = %n.dir.display(), "node did not stop; killing it");
                        let _ = n.child.kill();
                        let _ = n.child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        if self.remove_root {
            let _ = std::fs::remove_dir_all(&self.root);
            self.remove_root = false;
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One control request to the node in `dir`.
pub fn ask(dir: &Path, request: Request) -> Result<Value> {
    client::request(dir, request).map_err(|e| anyhow!("{}: {e}", dir.display()))
}
