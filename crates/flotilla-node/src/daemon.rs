//! The daemon: binds the peer listener and the control socket, writes `node.json`,
//! and runs the transport, the reconnection of remembered peers and the control
//! server until `stop`, SIGINT or SIGTERM. Channel opening and `set-policy` are
//! [`channels`]; the engine's inputs and outputs are [`engine_io`].

use std::collections::HashMap;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bitcoin::secp256k1::PublicKey;
use rand::RngCore;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

mod channels;
mod engine_io;
mod pipeline;

use crate::control::protocol::{Request, Response};
use crate::control::{self, server};
use crate::defaults::NodeDefaults;
use crate::engine::policy::PolicyChange;
use crate::engine::Input;
use crate::error::NodeError;
use crate::features::{self, Capabilities};
use crate::identity;
use crate::nodefile::{self, NodeFile};
use crate::reconnect::Backoff;
use crate::store::Store;
use crate::transport::messages::{Inbound, PeerEvent, SetupInbound};
use crate::transport::Transport;
pub use channels::OPEN_TIMEOUT;
use channels::{channel_json, PendingOpen};
use engine_io::{EngineState, PayRequest};

/// How often LDK's timer runs (pings, and disconnecting peers that stopped answering).
pub const TIMER_TICK: Duration = Duration::from_secs(10);
/// How often each peer is told how far its stream was consumed.
const ACK_INTERVAL: Duration = Duration::from_secs(5);
/// Most peer messages applied and logged in one transaction.
const MAX_BATCH: usize = 256;
/// How often the reconnection loop looks at the remembered peers.
const RECONNECT_POLL: Duration = Duration::from_millis(250);

/// How to run a node.
#[derive(Clone, Debug)]
pub struct Config {
    /// The data directory (identity, store, control socket, node.json).
    pub data_dir: PathBuf,
    /// Where to listen for peers; port 0 picks a free one.
    pub listen: SocketAddr,
    /// A name for humans.
    pub alias: Option<String>,
    /// Allow a listen address other than loopback.
    pub allow_public_listen: bool,
    /// Changes to the defaults of new channels (`DIR/node-config.json`).
    pub defaults: crate::defaults::DefaultsChange,
}

/// Refuses a non-loopback listen address unless allowed.
pub fn check_listen(listen: SocketAddr, allow_public: bool) -> Result<(), NodeError> {
    if listen.ip().is_loopback() || allow_public {
        return Ok(());
    }
    Err(NodeError::Address(format!(
        "--listen {listen}: not a loopback address; pass --allow-public-listen to listen beyond this machine"
    )))
}

/// Parses `ID@HOST:PORT`.
pub fn parse_peer(s: &str) -> Result<(PublicKey, String), NodeError> {
    let bad = |why: String| NodeError::Control(format!("connect {s:?}: {why}"));
    let (id, addr) = s
        .split_once('@')
        .ok_or_else(|| bad("expected ID@HOST:PORT".into()))?;
    let node_id = PublicKey::from_str(id).map_err(|_| {
        bad(format!(
            "node id {id:?} is not a public key (66 hex characters, starting 02 or 03)"
        ))
    })?;
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| bad(format!("address {addr:?} has no :PORT")))?;
    if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
        return Err(bad(format!(
            "address {addr:?} is not HOST:PORT with a port 1-65535"
        )));
    }
    Ok((node_id, addr.to_string()))
}

/// Dialing state of one remembered peer.
struct Dial {
    backoff: Backoff,
    next_at: Instant,
    dialing: bool,
}

/// What the control server and the loops share.
pub struct Shared {
    /// The user id the daemon runs as; the control socket answers only it.
    pub uid: u32,
    node: NodeFile,
    node_id: PublicKey,
    started: Instant,
    transport: Arc<Transport>,
    store: Arc<Store>,
    stop: watch::Sender<bool>,
    dials: Mutex<HashMap<PublicKey, Dial>>,
    opens: Mutex<HashMap<[u8; 32], PendingOpen>>,
    /// The policy and channel parameters of new channels.
    defaults: NodeDefaults,
    engine: Mutex<EngineState>,
    jobs: mpsc::UnboundedSender<engine_io::Job>,
    /// The commit pipeline (`daemon::pipeline`).
    durable: engine_io::Durable,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// Answers a control request.
    pub async fn handle(self: &Arc<Self>, request: Request) -> Response {
        match request {
            Request::Info => {
                let v = self.info();
                match self.durable_now().await {
                    Ok(()) => Response::ok(v),
                    Err(e) => Response::err(e),
                }
            }
            Request::Peers => Response::ok(json!(self.transport.peers())),
            Request::Stop => {
                tracing::info!("stop requested");
                let _ = self.stop.send(true);
                Response::ok(json!({ "stopping": true }))
            }
            Request::Connect { peer } => match self.connect(&peer).await {
                Ok(v) => Response::ok(v),
                Err(e) => Response::err(e.to_string()),
            },
            Request::OpenChannel {
                peer,
                capacity_sat,
                push_msat,
                push_sat,
                policy,
                params,
            } => {
                let push_msat = match (push_msat, push_sat) {
                    (Some(_), Some(_)) => {
                        return Response::err("open-channel: give push_msat or push_sat, not both")
                    }
                    (Some(m), None) => m,
                    (None, s) => match s.unwrap_or(0).checked_mul(1000) {
                        Some(m) => m,
                        None => return Response::err("open-channel: push_sat is too large"),
                    },
                };
                let own = policy.apply(self.defaults.policy);
                let params = params.apply(self.defaults.channel);
                match self
                    .open_channel(&peer, capacity_sat, push_msat, own, params)
                    .await
                {
                    Ok(c) => Response::ok(channel_json(&c)),
                    Err(e) => Response::err(e),
                }
            }
            Request::SetPolicy {
                channel_id,
                fee_base_msat,
                fee_rate_ppm,
                cltv_expiry_delta,
                htlc_minimum_msat,
                htlc_maximum_msat,
            } => {
                let change = PolicyChange {
                    fee_base_msat,
                    fee_rate_ppm,
                    cltv_expiry_delta,
                    htlc_minimum_msat,
                    htlc_maximum_msat,
                };
                match self.set_policy(&channel_id, change).await {
                    Ok(v) => Response::ok(v),
                    Err(e) => Response::err(e),
                }
            }
            Request::Channels => match self.engine_channels().await {
                Ok(v) => Response::ok(serde_json::Value::Array(v)),
                Err(e) => Response::err(e),
            },
            Request::Invoice {
                amount_msat,
                description,
                expiry_secs,
                lock,
                parts,
            } => {
                let redundant = match engine_io::redundant_invoice(lock.as_deref(), parts) {
                    Ok(r) => r,
                    Err(e) => return Response::err(e),
                };
                if amount_msat == Some(0) {
                    return Response::err("invoice: --amount-msat must be positive");
                }
                let expiry = expiry_secs.unwrap_or(3600);
                if expiry == 0 || expiry > 365 * 86_400 {
                    return Response::err("invoice: expiry must be 1 s to one year");
                }
                match self
                    .invoice(amount_msat, description, expiry, redundant)
                    .await
                {
                    Ok(v) => Response::ok(v),
                    Err(e) => Response::err(e),
                }
            }
            Request::Pay {
                bolt11,
                amount_msat,
                max_parts,
                redundancy,
                lock,
                commitments,
            } => match PayRequest::invoice(&bolt11, amount_msat, max_parts)
                .and_then(|r| r.redundant(redundancy, lock.as_deref(), commitments.as_deref()))
            {
                Ok(r) => match self.pay(r).await {
                    Ok(v) => Response::ok(v),
                    Err(e) => Response::err(e),
                },
                Err(e) => Response::err(e),
            },
            Request::Keysend {
                peer,
                amount_msat,
                max_parts,
            } => match PayRequest::keysend(&peer, amount_msat, max_parts.unwrap_or(16)) {
                Ok(r) => match self.pay(r).await {
                    Ok(v) => Response::ok(v),
                    Err(e) => Response::err(e),
                },
                Err(e) => Response::err(e),
            },
            Request::Payments => match self.payments().await {
                Ok(v) => Response::ok(v),
                Err(e) => Response::err(e),
            },
        }
    }

    fn info(&self) -> serde_json::Value {
        let stats = self.transport.messages.stats();
        // Taken (and the lock let go) before `engine_info` takes it again.
        let claims = lock(&self.engine).engine.endpoint_json();
        let mut received: Vec<_> = stats.received.into_iter().collect();
        received.sort();
        let remembered = self.store.peers().map(|p| p.len()).unwrap_or(0);
        let channels = self.store.channels().map(|c| c.len()).unwrap_or(0);
        json!({
            "node_id": self.node.node_id,
            "alias": self.node.alias,
            "listen": self.node.listen,
            "uri": self.node.uri,
            "control": self.node.control,
            "pid": self.node.pid,
            "features": self.node.features,
            "version": self.node.version,
            "uptime_secs": self.started.elapsed().as_secs(),
            "peers_connected": self.transport.peers().len(),
            "peers_remembered": remembered,
            "channels": channels,
            "messages": {
                "received": received
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), json!(v)))
                    .collect::<serde_json::Map<String, serde_json::Value>>(),
                "malformed": stats.malformed,
                "dropped": stats.dropped,
                "sent": stats.sent,
            },
            "onion_messages": {
                "endpoint": self.transport.onion_stats(),
                "claims": claims,
            },
            "defaults": self.defaults,
            "engine_attached": true,
            "engine": self.engine_info(),
        })
    }

    async fn connect(self: &Arc<Self>, peer: &str) -> Result<serde_json::Value, NodeError> {
        let (node_id, addr_text) = parse_peer(peer)?;
        if node_id == self.node_id {
            return Err(NodeError::Control(format!(
                "connect {peer:?}: that is this node"
            )));
        }
        let addr = resolve(&addr_text).await?;
        self.transport
            .connect(node_id, addr)
            .await
            .map_err(|e| NodeError::Control(format!("connect {node_id}: {e}")))?;
        // Remembered only once the handshake proved the id: a typo is not redialed
        // forever.
        self.store.remember_peer(&node_id.to_string(), &addr_text)?;
        self.store.mark_connected(&node_id.to_string())?;
        let mut dials = lock(&self.dials);
        dials
            .entry(node_id)
            .or_insert_with(|| Dial {
                backoff: Backoff::default(),
                next_at: Instant::now(),
                dialing: false,
            })
            .backoff
            .reset();
        Ok(json!({ "node_id": node_id.to_string(), "address": addr.to_string() }))
    }

    /// Dials every remembered, unconnected peer whose backoff has run out.
    fn reconnect_due(self: &Arc<Self>) {
        let peers = match self.store.peers() {
            Ok(p) => p,
            Err(e) => {
                tracing::error!("reading remembered peers: {e}");
                return;
            }
        };
        let now = Instant::now();
        for p in peers {
            let Ok(node_id) = PublicKey::from_str(&p.node_id) else {
                tracing::warn!(
                    node_id = p.node_id,
                    "remembered peer with a bad node id; skipped"
                );
                continue;
            };
            if self.transport.is_connected(&node_id) {
                continue;
            }
            {
                let mut dials = lock(&self.dials);
                let d = dials.entry(node_id).or_insert_with(|| Dial {
                    backoff: Backoff::default(),
                    next_at: now,
                    dialing: false,
                });
                if d.dialing || d.next_at > now {
                    continue;
                }
                d.dialing = true;
            }
            let me = self.clone();
            tokio::spawn(async move {
                let result = match resolve(&p.address).await {
                    Ok(addr) => me.transport.connect(node_id, addr).await,
                    Err(e) => Err(e.to_string()),
                };
                let mut dials = lock(&me.dials);
                let Some(d) = dials.get_mut(&node_id) else {
                    return;
                };
                d.dialing = false;
                match result {
                    Ok(()) => {
                        tracing::info!(peer = %node_id, address = p.address, "reconnected");
                        d.backoff.reset();
                    }
                    Err(e) => {
                        let wait = d.backoff.failed(&mut rand::rng());
                        d.next_at = Instant::now() + wait;
                        tracing::info!(peer = %node_id, address = p.address, "reconnect failed: {e}; next try in {:.1} s", wait.as_secs_f64());
                    }
                }
            });
        }
    }

    fn on_event(self: &Arc<Self>, event: PeerEvent) {
        match event {
            PeerEvent::Connected { node_id, inbound } => {
                tracing::info!(peer = %node_id, inbound, "peer connected");
                if let Err(e) = self.store.mark_connected(&node_id.to_string()) {
                    tracing::error!("store: {e}");
                }
                if let Some(d) = lock(&self.dials).get_mut(&node_id) {
                    d.backoff.reset();
                }
                self.peer_connected(node_id);
            }
            PeerEvent::Disconnected { node_id } => {
                tracing::info!(peer = %node_id, "peer disconnected");
                self.peer_disconnected(node_id);
            }
        }
    }
}

async fn resolve(addr: &str) -> Result<SocketAddr, NodeError> {
    let mut addrs = tokio::net::lookup_host(addr)
        .await
        .map_err(|e| NodeError::Address(format!("{addr}: {e}")))?;
    addrs
        .next()
        .ok_or_else(|| NodeError::Address(format!("{addr}: no address")))
}

/// Creates the data directory (mode 0700) if missing.
fn prepare_dir(dir: &Path) -> Result<PathBuf, NodeError> {
    if !dir.exists() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| NodeError::io(dir, e))?;
    }
    let dir = fs::canonicalize(dir).map_err(|e| NodeError::io(dir, e))?;
    let mode = fs::metadata(&dir)
        .map_err(|e| NodeError::io(&dir, e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        tracing::warn!(
            "{}: mode {:03o}: others can see into the data directory; the control socket and token stay 0600",
            dir.display(),
            mode & 0o777
        );
    }
    Ok(dir)
}

/// Writes a new control token (mode 0600) and returns it.
fn new_token(path: &Path) -> Result<String, NodeError> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if path.exists() {
        // Tighten before writing the new secret into an old file.
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .map_err(|e| NodeError::io(path, e))?;
    }
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| NodeError::io(path, e))?;
    f.write_all(token.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| NodeError::io(path, e))?;
    Ok(token)
}

/// Runs a node in the foreground until it is stopped.
pub fn run(config: Config) -> Result<(), NodeError> {
    check_listen(config.listen, config.allow_public_listen)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| NodeError::io(&config.data_dir, e))?;
    runtime.block_on(run_async(config))
}

/// Holds an exclusive `flock` on `DIR/lock` for as long as it lives, so two daemons
/// can never share a data directory (the kernel drops the lock when the process
/// dies, even by `kill -9`).
struct DirLock(#[allow(dead_code)] fs::File);

fn lock_dir(dir: &Path) -> Result<DirLock, NodeError> {
    use std::os::unix::io::AsRawFd;
    let path = dir.join("lock");
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| NodeError::io(&path, e))?;
    // SAFETY: flock on a descriptor we own; no memory is involved.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        return Err(NodeError::Control(format!(
            "{}: a node is already running on this data directory",
            dir.display()
        )));
    }
    Ok(DirLock(file))
}

async fn run_async(config: Config) -> Result<(), NodeError> {
    let dir = prepare_dir(&config.data_dir)?;
    let _lock = lock_dir(&dir)?;
    // Checked before anything is created: a bad flag leaves nothing behind.
    let defaults = crate::defaults::load_and_update(&dir, &config.defaults)?;
    let identity = identity::load_or_create(&dir)?;
    if identity.created {
        tracing::info!(node_id = %identity.node_id, "created a new node identity");
    }
    let store = Arc::new(Store::open(&dir)?);
    let (engine_state, release, timers) =
        engine_io::replay(identity.keys.get_node_secret_key(), &store)?;
    let durable = engine_io::Durable::new(release);
    let (jobs_tx, jobs_rx) = mpsc::unbounded_channel();
    // The engine attached receives and forwards h2tlc and point-locked HTLCs (its
    // `flotilla_ln::node::Node` checks both locks), so both bits are true.
    let capabilities = Capabilities {
        h2tlc: true,
        point_lock: true,
    };
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| NodeError::Address(format!("--listen {}: {e}", config.listen)))?;
    let listen = listener
        .local_addr()
        .map_err(|e| NodeError::Address(format!("--listen {}: {e}", config.listen)))?;
    let socket_path = dir.join(control::SOCKET_FILE);
    let control_listener = server::bind(&socket_path)?;
    let token_path = dir.join(control::TOKEN_FILE);
    let token = new_token(&token_path)?;

    let node = NodeFile {
        node_id: identity.node_id.to_string(),
        alias: config.alias.clone(),
        listen: listen.to_string(),
        uri: format!("{}@{listen}", identity.node_id),
        control: nodefile::Control {
            kind: "unix".into(),
            socket: socket_path.clone(),
            token_file: token_path,
        },
        pid: std::process::id(),
        features: features::to_hex(&capabilities.init_features()),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    node.write(&dir)?;

    let (transport, channels) = Transport::new(identity.keys.clone(), capabilities);
    let transport = Arc::new(transport);
    let mut engine_state = engine_state;
    // Onion messages are routed over the channels the engine knows.
    engine_state
        .engine
        .share_topology(transport.topology.clone());
    let (stop_tx, mut stop_rx) = watch::channel(false);
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let shared = Arc::new(Shared {
        uid,
        node,
        node_id: identity.node_id,
        started: Instant::now(),
        transport: transport.clone(),
        store,
        stop: stop_tx,
        dials: Mutex::new(HashMap::new()),
        opens: Mutex::new(HashMap::new()),
        defaults,
        engine: Mutex::new(engine_state),
        jobs: jobs_tx,
        durable,
    });
    let committer = engine_io::start_committer(shared.clone());
    // Announce this node (its features, with the lock bits, and alias) when that
    // changed since the last announcement.
    {
        let features = capabilities
            .init_features()
            .le_flags()
            .iter()
            .rev()
            .copied()
            .collect::<Vec<u8>>();
        let alias = config.alias.clone().unwrap_or_default();
        let same = lock(&shared.engine)
            .engine
            .self_announced()
            .is_some_and(|(a, f)| {
                f == features.as_slice() && a == crate::engine::node_gossip::cut_alias(&alias)
            });
        if !same {
            if let Err(e) = shared.feed(Input::SelfAnnounce { alias, features }, None) {
                tracing::error!("engine: {e}");
            }
        }
    }
    shared.schedule_all(timers);
    shared.reconcile_channels();

    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(engine_io::writer(shared.clone(), jobs_rx));
    tasks.spawn(transport.clone().accept_loop(listener));
    tasks.spawn(server::serve(control_listener, token, shared.clone()));
    // One task takes every peer input in the order the transport produced it, so
    // that a connection's events and messages are never reordered (see
    // `engine::durable`).
    let s = shared.clone();
    let mut inbox = channels.inbox;
    let mut setup_rx: mpsc::Receiver<SetupInbound> = channels.setup;
    let mut events = channels.events;
    let mut onion_rx = channels.onion;
    tasks.spawn(async move {
        // Handles an event, first taking every message already queued: those came on
        // the connection before it.
        fn event(s: &Arc<Shared>, inbox: &mut mpsc::Receiver<Inbound>, e: PeerEvent) {
            while let Ok(m) = inbox.try_recv() {
                s.on_inbound(m.from, m.message);
            }
            s.on_event(e);
        }
        let mut ack = tokio::time::interval(ACK_INTERVAL);
        loop {
            tokio::select! {
                biased;
                Some(e) = events.recv() => event(&s, &mut inbox, e),
                _ = ack.tick() => {
                    while let Ok(e) = events.try_recv() {
                        event(&s, &mut inbox, e);
                    }
                    let mut batch = Vec::new();
                    while let Ok(m) = inbox.try_recv() {
                        batch.push((m.from, m.message));
                    }
                    if !batch.is_empty() {
                        s.feed_peer_batch(batch);
                    }
                    s.acknowledge_streams();
                }
                Some(m) = onion_rx.recv() => {
                    // An endpoint message through the network: logged, then applied
                    // (no peer stream position moves), if it concerns one of this
                    // node's payments; anything else is not logged.
                    let r = s.feed_with(
                        |e| {
                            if !e.wants_endpoint(&m.message) {
                                return Err(format!(
                                    "{} for no payment of ours; ignored",
                                    m.message.message_type().name()
                                ));
                            }
                            crate::engine::input::onion_input(&m.message, m.reply)
                                .map(|i| (i, ()))
                        },
                        None,
                    );
                    if let Err(e) = r {
                        tracing::debug!("onion message: {e}");
                    }
                }
                Some(m) = setup_rx.recv() => {
                    while let Ok(e) = events.try_recv() {
                        event(&s, &mut inbox, e);
                    }
                    s.on_setup(m.from, m.message);
                }
                Some(m) = inbox.recv() => {
                    // Whatever else is queued goes in the same group commit.
                    let mut batch = vec![(m.from, m.message)];
                    while batch.len() < MAX_BATCH {
                        match inbox.try_recv() {
                            Ok(m) => batch.push((m.from, m.message)),
                            Err(_) => break,
                        }
                    }
                    s.feed_peer_batch(batch);
                }
                else => break,
            }
        }
    });
    let s = shared.clone();
    tasks.spawn(async move {
        let mut tick = tokio::time::interval(RECONNECT_POLL);
        loop {
            tick.tick().await;
            s.reconnect_due();
        }
    });
    let pm = transport.peer_manager.clone();
    tasks.spawn(async move {
        let mut tick = tokio::time::interval(TIMER_TICK);
        tick.tick().await;
        loop {
            tick.tick().await;
            pm.timer_tick_occurred();
        }
    });

    tracing::info!(
        node_id = %identity.node_id,
        %listen,
        control = %socket_path.display(),
        alias = config.alias.as_deref().unwrap_or(""),
        "flotilla node running"
    );

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| NodeError::io(&dir, e))?;
    tokio::select! {
        _ = stop_rx.wait_for(|s| *s) => {}
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT"),
        _ = term.recv() => tracing::info!("SIGTERM"),
    }
    // Let the `stop` answer reach its client before the socket goes.
    tokio::time::sleep(Duration::from_millis(50)).await;
    transport.peer_manager.disconnect_all_peers();
    tasks.abort_all();
    engine_io::stop_committer(&shared, committer);
    let _ = fs::remove_file(&socket_path);
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        assert!(check_listen("127.0.0.1:0".parse().unwrap(), false).is_ok());
        assert!(check_listen("[::1]:9735".parse().unwrap(), false).is_ok());
        let e = check_listen("0.0.0.0:9735".parse().unwrap(), false).unwrap_err();
        assert!(e.to_string().contains("--allow-public-listen"), "{e}");
        assert!(check_listen("0.0.0.0:9735".parse().unwrap(), true).is_ok());
    }

    #[test]
    fn peer_strings() {
        let id = "02".to_string() + &"11".repeat(32);
        // Not every x is on the curve; use a real key.
        let secp = bitcoin::secp256k1::Secp256k1::new();
        let sk = bitcoin::secp256k1::SecretKey::from_slice(&[3; 32]).unwrap();
        let pk = PublicKey::from_secret_key(&secp, &sk);
        let (k, a) = parse_peer(&format!("{pk}@127.0.0.1:9735")).unwrap();
        assert_eq!((k, a.as_str()), (pk, "127.0.0.1:9735"));
        for bad in [
            format!("{pk}"),
            format!("{pk}@127.0.0.1"),
            format!("{pk}@127.0.0.1:0"),
            format!("{pk}@:9735"),
            format!("{id}zz@127.0.0.1:1"),
            "xyz@127.0.0.1:1".to_string(),
        ] {
            assert!(parse_peer(&bad).is_err(), "{bad}");
        }
    }
}
