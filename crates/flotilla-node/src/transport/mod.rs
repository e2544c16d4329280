//! The transport: BOLT 8 (Noise XK) and BOLT 1 (`init`, `ping`/`pong`, `error`,
//! `warning`) from LDK's `PeerManager`, driven over tokio sockets by
//! `lightning-net-tokio`; flotilla's own messages as custom messages
//! ([`messages`]); BOLT 2 channels refused ([`refuser`]); onion messages through
//! LDK's `OnionMessenger` ([`onion`], routed by [`onion_route`]): the redundant
//! flow's endpoint messages, and forwarding for others. LDK's BOLT 7 gossip
//! handler is not used (flotilla gossips with its own `channel_announce`).

pub mod logger;
pub mod messages;
pub mod onion;
pub mod onion_route;
pub mod refuser;
pub mod setup;
pub mod sockets;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bitcoin::secp256k1::PublicKey;
use lightning::ln::msgs::SocketAddress;
use lightning::ln::peer_handler::{IgnoringMessageHandler, MessageHandler};
use lightning::sign::{EntropySource, KeysManager};
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::features::{self, Capabilities};
use logger::TracingLogger;
use messages::{FlotillaMessages, Inbound, PeerEvent, SetupInbound, INBOX_CAPACITY};
use onion::{EndpointHandler, OnionInbound, OnionMessenger, OnionStats, ONION_INBOX_CAPACITY};
use onion_route::{ChannelLookUp, LiveMessageRouter, SharedTopology};
use refuser::{ChannelRefuser, Disconnects};
use sockets::Sockets;

/// LDK's `PeerManager` with flotilla's handlers.
pub type PeerManager = lightning::ln::peer_handler::PeerManager<
    lightning_net_tokio::SocketDescriptor,
    Arc<ChannelRefuser>,
    Arc<IgnoringMessageHandler>,
    Arc<OnionMessenger>,
    Arc<TracingLogger>,
    Arc<FlotillaMessages>,
    Arc<KeysManager>,
    Arc<IgnoringMessageHandler>,
>;

/// How long `connect` waits for the handshake and `init` exchange.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One connected peer, as `peers` shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PeerInfo {
    /// The peer's node id.
    pub node_id: String,
    /// The remote `ip:port` of the connection (for an inbound one, the port the peer
    /// dialed from).
    pub address: Option<String>,
    /// Whether the peer dialed us.
    pub inbound: bool,
    /// The peer's `init` features, BOLT 9 big-endian hex.
    pub features: String,
    /// Seconds since the handshake completed.
    pub connected_secs: u64,
}

/// The transport of one node.
pub struct Transport {
    /// LDK's peer manager.
    pub peer_manager: Arc<PeerManager>,
    /// The custom-message handler (send queue, counters, connection times).
    pub messages: Arc<FlotillaMessages>,
    /// LDK's onion messenger (the endpoint messages; forwarding for others).
    pub onion: Arc<OnionMessenger>,
    /// The channel graph onion messages are routed over, as the engine publishes it.
    pub topology: SharedTopology,
    onion_stats: Arc<Mutex<OnionStats>>,
    /// The peer sockets, corked while a batch's messages are written.
    sockets: Arc<Sockets>,
}

/// What the transport hands the rest of the daemon.
pub struct Channels {
    /// Decoded flotilla messages, for the engine.
    pub inbox: mpsc::Receiver<Inbound>,
    /// Channel-opening messages, for the daemon.
    pub setup: mpsc::Receiver<SetupInbound>,
    /// Connections coming and going.
    pub events: mpsc::UnboundedReceiver<PeerEvent>,
    /// Endpoint messages that arrived as onion messages.
    pub onion: mpsc::Receiver<OnionInbound>,
}

/// A `SocketAddress` (LDK's) as `ip:port`.
pub fn format_address(a: &SocketAddress) -> String {
    match a {
        SocketAddress::TcpIpV4 { addr, port } => SocketAddr::from((*addr, *port)).to_string(),
        SocketAddress::TcpIpV6 { addr, port } => SocketAddr::from((*addr, *port)).to_string(),
        other => other.to_string(),
    }
}

/// Turns off Nagle's algorithm on a peer connection and hands it over as a std
/// socket (what `lightning-net-tokio` takes).
///
/// `PeerManager` writes each message with its own `send`, and a commitment
/// exchange sends several back to back (`update_add_htlc` then
/// `commitment_signed`; `revoke_and_ack` then `commitment_signed`). With Nagle on,
/// the second waits in the sender's kernel until the first is acknowledged, and the
/// receiver, which answers only once it has both, delays that ACK (40 ms on Linux):
/// measured as 35–46 ms stalls on most payments. Every message is a complete,
/// encrypted frame, so there is nothing for Nagle to coalesce.
fn no_delay(stream: TcpStream) -> std::io::Result<std::net::TcpStream> {
    stream.set_nodelay(true)?;
    stream.into_std()
}

impl Transport {
    /// A transport for the node whose keys are `keys`.
    pub fn new(keys: Arc<KeysManager>, capabilities: Capabilities) -> (Transport, Channels) {
        let (inbox_tx, inbox) = mpsc::channel(INBOX_CAPACITY);
        let (setup_tx, setup) = mpsc::channel(INBOX_CAPACITY);
        let (events_tx, events) = mpsc::unbounded_channel();
        let (onion_tx, onion_rx) = mpsc::channel(ONION_INBOX_CAPACITY);
        let disconnects = Disconnects::default();
        let messages = Arc::new(FlotillaMessages::new(
            capabilities,
            inbox_tx,
            setup_tx,
            events_tx,
            disconnects.clone(),
        ));
        let me = PublicKey::from_secret_key(
            &bitcoin::secp256k1::Secp256k1::signing_only(),
            &keys.get_node_secret_key(),
        );
        let topology = SharedTopology::default();
        let onion_stats = Arc::new(Mutex::new(OnionStats::default()));
        let ignore = Arc::new(IgnoringMessageHandler {});
        let onion = Arc::new(OnionMessenger::new(
            keys.clone(),
            keys.clone(),
            Arc::new(TracingLogger),
            Arc::new(ChannelLookUp::new(me, topology.clone())),
            Arc::new(LiveMessageRouter::new(topology.clone(), keys.clone())),
            Arc::clone(&ignore),
            Arc::clone(&ignore),
            Arc::clone(&ignore),
            Arc::new(EndpointHandler::new(onion_tx, onion_stats.clone())),
        ));
        let handlers = MessageHandler {
            chan_handler: Arc::new(ChannelRefuser::new(disconnects)),
            route_handler: Arc::clone(&ignore),
            onion_message_handler: onion.clone(),
            custom_message_handler: messages.clone(),
            send_only_message_handler: Arc::new(IgnoringMessageHandler {}),
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        // Fresh randomness for the ephemeral keys of every handshake.
        let ephemeral = keys.get_secure_random_bytes();
        let peer_manager = Arc::new(PeerManager::new(
            handlers,
            // LDK wants a counter that only grows across restarts: Unix seconds.
            u32::try_from(now).unwrap_or(u32::MAX),
            &ephemeral,
            Arc::new(TracingLogger),
            keys,
        ));
        (
            Transport {
                peer_manager,
                messages,
                onion,
                topology,
                onion_stats,
                sockets: Arc::default(),
            },
            Channels {
                inbox,
                setup,
                events,
                onion: onion_rx,
            },
        )
    }

    /// Accepts connections on `listener` until the task is dropped.
    pub async fn accept_loop(self: Arc<Self>, listener: TcpListener) {
        loop {
            let (stream, remote) = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    // EMFILE and the like: wait a moment rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let std_stream = match no_delay(stream) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(%remote, "could not take over the connection: {e}");
                    continue;
                }
            };
            tracing::debug!(%remote, "inbound connection");
            let pm = self.peer_manager.clone();
            let held = self.sockets.hold(&std_stream);
            let done = lightning_net_tokio::setup_inbound(pm, std_stream);
            tokio::spawn(async move {
                done.await;
                drop(held);
            });
        }
    }

    /// Dials `node_id` at `addr` and waits until the handshake and `init` exchange
    /// complete. Already connected is success.
    pub async fn connect(&self, node_id: PublicKey, addr: SocketAddr) -> Result<(), String> {
        if self.peer_manager.peer_by_node_id(&node_id).is_some() {
            return Ok(());
        }
        // `lightning_net_tokio::connect_outbound` without its Nagle: the socket is
        // made here so that it can be given TCP_NODELAY first.
        let stream = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(format!("could not reach {addr}: {e}")),
            Err(_) => {
                return Err(format!(
                    "could not reach {addr} within {} s",
                    CONNECT_TIMEOUT.as_secs()
                ))
            }
        };
        let stream = no_delay(stream).map_err(|e| format!("{addr}: {e}"))?;
        let held = self.sockets.hold(&stream);
        let done = lightning_net_tokio::setup_outbound(self.peer_manager.clone(), node_id, stream);
        let done = async move {
            done.await;
            drop(held);
        };
        // `done` finishes when the connection closes: before the handshake, that is
        // a refusal (wrong node id, or the peer disliked our `init`).
        let mut done = Box::pin(tokio::spawn(done));
        let deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT;
        loop {
            if self.peer_manager.peer_by_node_id(&node_id).is_some() {
                return Ok(());
            }
            tokio::select! {
                _ = &mut done => {
                    return if self.peer_manager.peer_by_node_id(&node_id).is_some() {
                        Ok(())
                    } else {
                        Err(format!(
                            "{addr} closed the connection during the handshake (is {node_id} its node id?)"
                        ))
                    };
                }
                _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            }
            if tokio::time::Instant::now() >= deadline {
                self.peer_manager.disconnect_by_node_id(node_id);
                return Err(format!(
                    "no handshake with {node_id} at {addr} within {} s",
                    CONNECT_TIMEOUT.as_secs()
                ));
            }
        }
    }

    /// Whether a handshake with `node_id` is complete.
    pub fn is_connected(&self, node_id: &PublicKey) -> bool {
        self.peer_manager.peer_by_node_id(node_id).is_some()
    }

    /// Every connected peer, by node id.
    pub fn peers(&self) -> Vec<PeerInfo> {
        let mut out: Vec<PeerInfo> = self
            .peer_manager
            .list_peers()
            .into_iter()
            .map(|p| PeerInfo {
                node_id: p.counterparty_node_id.to_string(),
                address: p.socket_address.as_ref().map(format_address),
                inbound: p.is_inbound_connection,
                features: features::to_hex(&p.init_features),
                connected_secs: self
                    .messages
                    .connected_at(&p.counterparty_node_id)
                    .map_or(0, |t| t.elapsed().as_secs()),
            })
            .collect();
        out.sort_by(|a, b| a.node_id.cmp(&b.node_id));
        out
    }

    /// Queues a channel-opening message for `to` and sends it.
    pub fn send_setup(&self, to: PublicKey, message: setup::SetupMessage) {
        self.messages.queue_setup(to, message);
        self.peer_manager.process_events();
    }

    /// The init features `node_id` sent, if connected.
    pub fn peer_features(
        &self,
        node_id: &PublicKey,
    ) -> Option<lightning::types::features::InitFeatures> {
        self.peer_manager
            .peer_by_node_id(node_id)
            .map(|p| p.init_features)
    }

    /// Sends `to` a BOLT 1 `warning`.
    pub fn warn(&self, to: PublicKey, text: String) {
        self.messages.warn(to, text);
        self.peer_manager.process_events();
    }

    /// Sends endpoint message `message` for `to` as an onion message: along `reply`
    /// (the reply path of the message it answers) when given, else routed to `to`
    /// (see [`onion::send`]). Best effort: a failure is logged and counted.
    pub fn send_onion(
        &self,
        to: PublicKey,
        message: flotilla_ln::wire::Message,
        reply: Option<&[u8]>,
    ) {
        let name = message.message_type().name();
        match onion::send(&self.onion, to, message, reply) {
            Ok(_) => {
                *self
                    .onion_stats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .sent
                    .entry(name)
                    .or_default() += 1;
            }
            Err(e) => {
                tracing::warn!(to = %to, "{name} not sent as an onion message: {e}");
                self.onion_stats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .send_failed += 1;
            }
        }
        self.peer_manager.process_events();
    }

    /// A snapshot of the onion-message counters.
    pub fn onion_stats(&self) -> OnionStats {
        self.onion_stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Sends everything queued, what goes to one peer in as few TCP segments as it
    /// fits in (see [`sockets`]).
    pub fn send_queued(&self) {
        self.sockets.corked(|| self.peer_manager.process_events());
    }

    /// Queues `message` for `to` and sends it.
    pub fn send(&self, to: PublicKey, message: flotilla_ln::wire::Message) {
        self.messages.queue(to, message);
        self.peer_manager.process_events();
    }
}
