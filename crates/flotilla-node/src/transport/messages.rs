//! flotilla's messages behind LDK's `PeerManager`: a `CustomMessageHandler` that
//! reads them with `flotilla_ln::wire`, hands each to the engine's inbox, and sends
//! what the engine queues.
//!
//! # Tunnelling
//!
//! `PeerManager` hands the BOLT types it knows (128…135 among them) to its channel
//! handler, never to a custom one, so flotilla's BOLT 2 updates always travel under
//! their tunnelled type `32768 + 2·t + 1` (`flotilla_ln::wire::MessageType::custom`:
//! odd, so a peer without flotilla ignores them), with BOLT 2's payload layout. The
//! endpoint messages have only their custom types. A message under a plain BOLT 2
//! type is a BOLT channel message and goes to [`super::refuser::ChannelRefuser`].
//!
//! # Bad input
//!
//! A flotilla type whose payload does not decode is answered as BOLT 1 prescribes
//! for a malformed message: a `warning` naming the type and the reason, then the
//! connection is closed; nothing reaches the engine, and nothing more from that
//! connection is read. (The verdict goes through [`Disconnects`] so the warning is
//! written before the disconnect.) Unknown odd types are ignored
//! and unknown even types close the connection (LDK's `PeerManager`, per BOLT 1).
//! Decoding never panics: `flotilla_ln::wire::decode` is total and fuzzed.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use bitcoin::secp256k1::PublicKey;
use flotilla_ln::wire::{Message, MessageType};
use lightning::io;
use lightning::ln::msgs::{self, DecodeError, LightningError, WarningMessage};
use lightning::ln::peer_handler::CustomMessageHandler;
use lightning::ln::types::ChannelId;
use lightning::ln::wire::{CustomMessageReader, Type};
use lightning::types::features::{InitFeatures, NodeFeatures};
use lightning::util::ser::{LengthLimitedRead, Writeable, Writer};
use tokio::sync::mpsc;

use super::refuser::Disconnects;
use super::setup::{self, SetupMessage};
use crate::features::Capabilities;

/// A message as `PeerManager` carries it for us.
#[derive(Clone, Debug)]
// A decoded flotilla message (an add carries its lock and reverse-clause points
// inline) is handed on once; boxing would only add an allocation per message.
#[allow(clippy::large_enum_variant)]
pub enum PeerMessage {
    /// A flotilla message that decoded.
    Flotilla(Message),
    /// A channel-opening message ([`super::setup`]).
    Setup(SetupMessage),
    /// A flotilla type whose payload did not decode: never sent, only read, so the
    /// handler can answer it with a warning.
    Malformed {
        /// The type it came under.
        type_id: u16,
        /// Why it did not decode.
        reason: String,
    },
}

impl Type for PeerMessage {
    fn type_id(&self) -> u16 {
        match self {
            PeerMessage::Flotilla(m) => m.message_type().custom(),
            PeerMessage::Setup(m) => m.type_id(),
            PeerMessage::Malformed { type_id, .. } => *type_id,
        }
    }
}

impl Writeable for PeerMessage {
    fn write<W: Writer>(&self, w: &mut W) -> Result<(), io::Error> {
        match self {
            PeerMessage::Flotilla(m) => {
                let payload = m
                    .encode_payload()
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                w.write_all(&payload)
            }
            PeerMessage::Setup(m) => w.write_all(&m.encode()),
            PeerMessage::Malformed { .. } => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a malformed message is never sent",
            )),
        }
    }
}

/// A message from a peer, for the engine.
#[derive(Clone, Debug)]
pub struct Inbound {
    /// Who sent it.
    pub from: PublicKey,
    /// What it is.
    pub message: Message,
}

/// A channel-opening message from a peer, for the daemon.
#[derive(Clone, Debug)]
pub struct SetupInbound {
    /// Who sent it.
    pub from: PublicKey,
    /// What it is.
    pub message: SetupMessage,
}

/// A peer's connection coming or going, for the daemon (store, reconnection).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerEvent {
    /// The handshake and `init` exchange completed.
    Connected {
        /// The peer.
        node_id: PublicKey,
        /// Whether it dialed us.
        inbound: bool,
    },
    /// The connection is gone.
    Disconnected {
        /// The peer.
        node_id: PublicKey,
    },
}

/// Counts of what arrived, for `info`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageStats {
    /// Decoded messages by BOLT-style name.
    pub received: HashMap<&'static str, u64>,
    /// Malformed flotilla messages (each answered with a warning and a disconnect).
    pub malformed: u64,
    /// Messages dropped because the engine's inbox was full.
    pub dropped: u64,
    /// Messages handed to `PeerManager` for sending.
    pub sent: u64,
}

/// How many messages may wait for the engine before a peer is cut off for flooding.
pub const INBOX_CAPACITY: usize = 4096;

/// See the module docs.
pub struct FlotillaMessages {
    capabilities: Capabilities,
    inbox: mpsc::Sender<Inbound>,
    setup: mpsc::Sender<SetupInbound>,
    events: mpsc::UnboundedSender<PeerEvent>,
    outbox: Mutex<Vec<(PublicKey, PeerMessage)>>,
    connected_at: Mutex<HashMap<PublicKey, Instant>>,
    stats: Mutex<MessageStats>,
    disconnects: Disconnects,
    /// Peers with a disconnect pending: their further messages are dropped.
    condemned: Mutex<HashSet<PublicKey>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values stay consistent across a panic (plain inserts and counts).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl FlotillaMessages {
    /// A handler advertising `capabilities`, delivering messages to `inbox`,
    /// channel-opening messages to `setup` and connection changes to `events`.
    pub fn new(
        capabilities: Capabilities,
        inbox: mpsc::Sender<Inbound>,
        setup: mpsc::Sender<SetupInbound>,
        events: mpsc::UnboundedSender<PeerEvent>,
        disconnects: Disconnects,
    ) -> Self {
        FlotillaMessages {
            capabilities,
            inbox,
            setup,
            events,
            outbox: Mutex::new(Vec::new()),
            connected_at: Mutex::new(HashMap::new()),
            stats: Mutex::new(MessageStats::default()),
            disconnects,
            condemned: Mutex::new(HashSet::new()),
        }
    }

    /// Queues `message` for `to`; `PeerManager::process_events` sends it (dropped if
    /// `to` is not connected then).
    pub fn queue(&self, to: PublicKey, message: Message) {
        lock(&self.outbox).push((to, PeerMessage::Flotilla(message)));
    }

    /// Queues a channel-opening message for `to`.
    pub fn queue_setup(&self, to: PublicKey, message: SetupMessage) {
        lock(&self.outbox).push((to, PeerMessage::Setup(message)));
    }

    /// When the current connection to `node_id` completed its handshake.
    pub fn connected_at(&self, node_id: &PublicKey) -> Option<Instant> {
        lock(&self.connected_at).get(node_id).copied()
    }

    /// Warns `peer` with `data` and disconnects it at the next `process_events`.
    fn condemn(&self, peer: PublicKey, data: String) {
        lock(&self.condemned).insert(peer);
        self.disconnects.push(
            peer,
            WarningMessage {
                channel_id: ChannelId::new_zero(),
                data,
            },
        );
    }

    /// Sends `peer` a BOLT 1 `warning` with `data`; the connection stays.
    pub fn warn(&self, peer: PublicKey, data: String) {
        self.disconnects.warn(
            peer,
            WarningMessage {
                channel_id: ChannelId::new_zero(),
                data,
            },
        );
    }

    /// Counts one message of type `name` handed to the daemon.
    fn count_received(&self, name: &'static str) {
        *lock(&self.stats).received.entry(name).or_default() += 1;
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> MessageStats {
        lock(&self.stats).clone()
    }
}

impl CustomMessageReader for FlotillaMessages {
    type CustomMessage = PeerMessage;

    fn read<R: LengthLimitedRead>(
        &self,
        message_type: u16,
        buffer: &mut R,
    ) -> Result<Option<PeerMessage>, DecodeError> {
        if setup::name_of(message_type).is_some() {
            let payload =
                lightning::io_extras::read_to_end(buffer).map_err(|e| DecodeError::Io(e.kind()))?;
            return Ok(
                SetupMessage::decode(message_type, &payload).map(|r| match r {
                    Ok(m) => PeerMessage::Setup(m),
                    Err(reason) => PeerMessage::Malformed {
                        type_id: message_type,
                        reason,
                    },
                }),
            );
        }
        // Only our custom numbers; a BOLT number never reaches a custom reader, and
        // must not be taken as ours if it did.
        let Some(mt) = MessageType::from_wire(message_type).filter(|m| m.custom() == message_type)
        else {
            return Ok(None);
        };
        // BOLT 8 frames are at most 65535 bytes, so this is bounded.
        let payload =
            lightning::io_extras::read_to_end(buffer).map_err(|e| DecodeError::Io(e.kind()))?;
        Ok(Some(match Message::decode_payload(mt, &payload) {
            Ok(m) => PeerMessage::Flotilla(m),
            Err(e) => PeerMessage::Malformed {
                type_id: message_type,
                reason: e.to_string(),
            },
        }))
    }
}

impl CustomMessageHandler for FlotillaMessages {
    fn handle_custom_message(
        &self,
        msg: PeerMessage,
        sender_node_id: PublicKey,
    ) -> Result<(), LightningError> {
        if lock(&self.condemned).contains(&sender_node_id) {
            return Ok(());
        }
        let (name, delivered) = match msg {
            // A slot is reserved first and the message counted before it is handed
            // over, so whoever reads it from the inbox also finds it in the stats.
            PeerMessage::Flotilla(message) => {
                let name = message.message_type().name();
                let delivered = match self.inbox.try_reserve() {
                    Ok(slot) => {
                        self.count_received(name);
                        slot.send(Inbound {
                            from: sender_node_id,
                            message,
                        });
                        true
                    }
                    Err(_) => false,
                };
                (name, delivered)
            }
            PeerMessage::Setup(message) => {
                let name = message.name();
                let delivered = match self.setup.try_reserve() {
                    Ok(slot) => {
                        self.count_received(name);
                        slot.send(SetupInbound {
                            from: sender_node_id,
                            message,
                        });
                        true
                    }
                    Err(_) => false,
                };
                (name, delivered)
            }
            PeerMessage::Malformed { type_id, reason } => {
                lock(&self.stats).malformed += 1;
                let name = setup::name_of(type_id)
                    .or_else(|| MessageType::from_wire(type_id).map(MessageType::name))
                    .unwrap_or("?");
                let data = format!("malformed {name} (type {type_id}): {reason}");
                tracing::warn!(peer = %sender_node_id, "{data}; disconnecting");
                self.condemn(sender_node_id, data);
                return Ok(());
            }
        };
        if !delivered {
            // The daemon is behind (or gone): stop reading this peer rather than grow
            // without bound; it may reconnect and resend.
            lock(&self.stats).dropped += 1;
            tracing::warn!(peer = %sender_node_id, "{name} not accepted: overloaded; disconnecting");
            self.condemn(
                sender_node_id,
                format!("{name} not accepted: the node is overloaded"),
            );
        }
        Ok(())
    }

    fn get_and_clear_pending_msg(&self) -> Vec<(PublicKey, PeerMessage)> {
        let out = std::mem::take(&mut *lock(&self.outbox));
        lock(&self.stats).sent += out.len() as u64;
        out
    }

    fn peer_disconnected(&self, their_node_id: PublicKey) {
        lock(&self.connected_at).remove(&their_node_id);
        lock(&self.condemned).remove(&their_node_id);
        let _ = self.events.send(PeerEvent::Disconnected {
            node_id: their_node_id,
        });
    }

    fn peer_connected(
        &self,
        their_node_id: PublicKey,
        _msg: &msgs::Init,
        inbound: bool,
    ) -> Result<(), ()> {
        lock(&self.connected_at).insert(their_node_id, Instant::now());
        lock(&self.condemned).remove(&their_node_id);
        let _ = self.events.send(PeerEvent::Connected {
            node_id: their_node_id,
            inbound,
        });
        Ok(())
    }

    fn provided_node_features(&self) -> NodeFeatures {
        // Node announcements are not sent yet; when they are, they carry the same bits.
        NodeFeatures::from_le_bytes(self.capabilities.init_features().le_flags().to_vec())
    }

    fn provided_init_features(&self, _their_node_id: PublicKey) -> InitFeatures {
        self.capabilities.init_features()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flotilla_ln::wire::CancelPayment;
    use lightning::ln::msgs::{BaseMessageHandler, ErrorAction, MessageSendEvent};

    fn handler() -> (FlotillaMessages, mpsc::Receiver<Inbound>, Disconnects) {
        let (tx, rx) = mpsc::channel(2);
        // The setup and event receivers are dropped: sends to them fail, which is
        // the overload path for setup messages.
        let (stx, _) = mpsc::channel(2);
        let (etx, _) = mpsc::unbounded_channel();
        let d = Disconnects::default();
        (
            FlotillaMessages::new(Capabilities::default(), tx, stx, etx, d.clone()),
            rx,
            d,
        )
    }

    /// Takes the queued verdicts through the refuser, as `PeerManager` does.
    fn verdicts(d: &Disconnects) -> Vec<(PublicKey, String)> {
        let r = super::super::refuser::ChannelRefuser::new(d.clone());
        r.get_and_clear_pending_msg_events()
            .into_iter()
            .map(|e| match e {
                MessageSendEvent::HandleError {
                    node_id,
                    action: ErrorAction::DisconnectPeerWithWarning { msg },
                } => (node_id, msg.data),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    fn peer() -> PublicKey {
        let secp = bitcoin::secp256k1::Secp256k1::new();
        let sk = bitcoin::secp256k1::SecretKey::from_slice(&[7; 32]).unwrap();
        PublicKey::from_secret_key(&secp, &sk)
    }

    #[test]
    fn garbage_under_every_flotilla_type_is_a_warning_and_a_disconnect() {
        let (h, mut rx, d) = handler();
        for mt in MessageType::ALL {
            for garbage in [&[][..], &[0xff; 3][..], &[0u8; 40][..]] {
                let mut r = garbage;
                let msg = h.read(mt.custom(), &mut r).unwrap().unwrap();
                match msg {
                    PeerMessage::Malformed { type_id, .. } => assert_eq!(type_id, mt.custom()),
                    // Some payloads are valid for some types (e.g. 40 zero bytes).
                    PeerMessage::Flotilla(_) => continue,
                    PeerMessage::Setup(_) => panic!("a flotilla type read as a setup message"),
                }
                h.handle_custom_message(msg, peer()).unwrap();
                let v = verdicts(&d);
                assert_eq!(v.len(), 1);
                assert!(
                    v[0].1.starts_with(&format!("malformed {}", mt.name())),
                    "{v:?}"
                );
                // Until the disconnect, nothing more from that peer is taken.
                let ok = Message::CancelPayment(CancelPayment {
                    payment_id: [0; 32],
                });
                h.handle_custom_message(PeerMessage::Flotilla(ok), peer())
                    .unwrap();
                // A new connection starts clean.
                h.peer_disconnected(peer());
            }
        }
        assert!(
            rx.try_recv().is_err(),
            "nothing malformed reaches the engine"
        );
        assert!(h.stats().malformed > 0);
    }

    #[test]
    fn a_tunnelled_message_reaches_the_inbox_and_round_trips() {
        let (h, mut rx, _d) = handler();
        let m = Message::CancelPayment(CancelPayment {
            payment_id: [9; 32],
        });
        let bytes = flotilla_ln::wire::encode_tunnelled(&m).unwrap();
        let t = u16::from_be_bytes([bytes[0], bytes[1]]);
        let mut r = &bytes[2..];
        let read = h.read(t, &mut r).unwrap().unwrap();
        // What we write is what we read.
        assert_eq!(read.encode(), bytes[2..]);
        assert_eq!(read.type_id(), t);
        h.handle_custom_message(read, peer()).unwrap();
        assert_eq!(rx.try_recv().unwrap().message, m);
        assert_eq!(h.stats().received.get("cancel_payment"), Some(&1));
    }

    #[test]
    fn bolt_and_foreign_types_are_not_ours_and_a_full_inbox_disconnects() {
        let (h, _rx, d) = handler();
        // A setup message with a wrong length is malformed too.
        let mut r = &[0u8; 47][..];
        assert!(matches!(
            h.read(setup::OPEN_CHANNEL, &mut r).unwrap(),
            Some(PeerMessage::Malformed { .. })
        ));
        for t in [128u16, 130, 32770, 33333, 65535] {
            let mut r = &[0u8; 4][..];
            assert!(h.read(t, &mut r).unwrap().is_none(), "type {t}");
        }
        let m = Message::CancelPayment(CancelPayment {
            payment_id: [1; 32],
        });
        h.handle_custom_message(PeerMessage::Flotilla(m.clone()), peer())
            .unwrap();
        h.handle_custom_message(PeerMessage::Flotilla(m.clone()), peer())
            .unwrap();
        assert!(verdicts(&d).is_empty());
        h.handle_custom_message(PeerMessage::Flotilla(m), peer())
            .unwrap();
        let v = verdicts(&d);
        assert!(v[0].1.contains("overloaded"), "{v:?}");
        assert_eq!(h.stats().dropped, 1);
    }

    proptest::proptest! {
        /// Any bytes under any custom type: a message, a malformed verdict or "not
        /// ours", never a panic; and handling the result never panics either.
        #[test]
        fn any_bytes_under_any_type_are_handled(t in 32_768u16.., payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1500)) {
            let (h, _rx, d) = handler();
            let mut r = &payload[..];
            if let Some(m) = h.read(t, &mut r).unwrap() {
                // A malformed message is a verdict; so is a setup message here, whose
                // receiver `handler` drops (the overload path).
                let verdict = !matches!(m, PeerMessage::Flotilla(_));
                h.handle_custom_message(m, peer()).unwrap();
                proptest::prop_assert_eq!(verdicts(&d).len(), usize::from(verdict));
            }
        }
    }
}
