//! The redundant flow's endpoint messages as BOLT 4 onion messages: LDK's
//! `OnionMessenger` is the `PeerManager`'s onion-message handler, so every flotilla
//! node forwards onion messages for others and advertises them (feature bit 39,
//! `option_onion_messages`, in its `init`), and the claim request (receiver →
//! sender), reveal and cancel (sender → receiver) travel through the same nodes as
//! the payment, over [`super::onion_route::LiveMessageRouter`]'s paths. Sender and
//! receiver need no connection to each other, and neither learns the other's
//! address.
//!
//! # Contents
//!
//! Each message is one record of the onion message's final payload
//! ([`EndpointContents`]): its TLV type is the message's flotilla custom type —
//! `claim_request` 32769, `reveal_secrets` 32771, `cancel_payment` 32773
//! (`flotilla_ln::wire::MessageType::onion_content_type`) — and its value the
//! message's `flotilla_ln::wire` payload. The types are odd (a reader that does not
//! know them may skip them), ≥ 64 as BOLT 4 asks of contents, and clash with none
//! of LDK's: 2 and 4 (reply path, encrypted data), 64–70 (offers), 72–74 and
//! 75540–75546 (async payments), 65536–65538 (DNS resolution).
//!
//! # Reply paths
//!
//! A claim request carries a blinded reply path to the receiver (LDK's
//! `MessageSendInstructions::WithReplyPath`, built by the router), with the payment
//! id as its authenticated context. The sender answers — reveal or cancel — along
//! that path (LDK's `Responder`), so it never routes to the receiver by node id when
//! answering; a reveal that arrives over a reply path made for another payment is
//! dropped. The first message of the flow, the claim request, still goes to the
//! sender's node id, which the receiver reads from the part's final payload (TLV
//! 65539): no blinded path to the sender travels in the payment onion yet.
//!
//! # Best effort
//!
//! Onion messages may be lost (a hop offline, a buffer full) or arrive twice; the
//! engine makes the flow robust to both ([`crate::engine::endpoint`]). What arrives
//! is handed to the daemon, which logs it as an input before the engine acts on it.

use std::sync::{Arc, Mutex, MutexGuard};

use bitcoin::secp256k1::PublicKey;
use flotilla_ln::wire::{Message, MessageType};
use lightning::blinded_path::message::MessageContext;
use lightning::io;
use lightning::ln::msgs::DecodeError;
use lightning::ln::peer_handler::IgnoringMessageHandler;
use lightning::onion_message::messenger::{
    CustomOnionMessageHandler, Destination, MessageSendInstructions, Responder,
    ResponseInstruction, SendSuccess,
};
use lightning::onion_message::packet::OnionMessageContents;
use lightning::sign::KeysManager;
use lightning::util::ser::{Readable, Writeable, Writer};
use serde::Serialize;
use tokio::sync::mpsc;

use super::logger::TracingLogger;
use super::onion_route::{ChannelLookUp, LiveMessageRouter};

/// LDK's `OnionMessenger` with flotilla's router and endpoint-message handler (BOLT
/// 12 offers, async payments and DNS resolution are not handled: their messages
/// are still forwarded for others).
pub type OnionMessenger = lightning::onion_message::messenger::OnionMessenger<
    Arc<KeysManager>,
    Arc<KeysManager>,
    Arc<TracingLogger>,
    Arc<ChannelLookUp>,
    Arc<LiveMessageRouter>,
    Arc<IgnoringMessageHandler>,
    Arc<IgnoringMessageHandler>,
    Arc<IgnoringMessageHandler>,
    Arc<EndpointHandler>,
>;

/// How many received endpoint messages may wait for the daemon; beyond that they are
/// dropped (onion messages are best effort, and the flow re-sends).
pub const ONION_INBOX_CAPACITY: usize = 1024;

/// One endpoint message as an onion message's contents.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointContents(pub Message);

impl EndpointContents {
    /// Its TLV type, if it is an endpoint message.
    fn content_type(&self) -> Option<u64> {
        self.0.message_type().onion_content_type()
    }
}

impl OnionMessageContents for EndpointContents {
    fn tlv_type(&self) -> u64 {
        // [`send`] wraps only endpoint messages; were anything else wrapped, type 0
        // would make LDK refuse it (`InvalidMessage`: contents must be ≥ 64).
        self.content_type().unwrap_or(0)
    }

    fn msg_type(&self) -> &'static str {
        self.0.message_type().name()
    }
}

impl Writeable for EndpointContents {
    fn write<W: Writer>(&self, w: &mut W) -> Result<(), io::Error> {
        let payload = self
            .0
            .encode_payload()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        w.write_all(&payload)
    }
}

/// An endpoint message that arrived as an onion message.
#[derive(Clone, Debug)]
pub struct OnionInbound {
    /// The message.
    pub message: Message,
    /// The reply path it carried, as LDK's `Responder` serialises it: where the
    /// answer goes.
    pub reply: Option<Vec<u8>>,
}

/// Counts of endpoint onion messages, for `info`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OnionStats {
    /// Endpoint messages received, by name.
    pub received: std::collections::BTreeMap<&'static str, u64>,
    /// Endpoint messages handed to the messenger, by name.
    pub sent: std::collections::BTreeMap<&'static str, u64>,
    /// Sends the messenger refused (no path, no reply path, buffer full).
    pub send_failed: u64,
    /// Received messages dropped: the daemon was behind, or a reveal or cancel came
    /// over a reply path made for another payment.
    pub dropped: u64,
}

/// LDK's `CustomOnionMessageHandler` for the endpoint messages: reads them with
/// `flotilla_ln::wire` and hands them to the daemon.
pub struct EndpointHandler {
    inbox: mpsc::Sender<OnionInbound>,
    stats: Arc<Mutex<OnionStats>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The endpoint message type whose onion content type is `t`.
fn endpoint_type(t: u64) -> Option<MessageType> {
    MessageType::ALL
        .into_iter()
        .find(|m| m.onion_content_type() == Some(t))
}

/// The payment id an endpoint message names.
fn payment_id(m: &Message) -> Option<[u8; 32]> {
    match m {
        Message::ClaimRequest(c) => Some(c.payment_id),
        Message::RevealSecrets(r) => Some(r.payment_id),
        Message::CancelPayment(c) => Some(c.payment_id),
        _ => None,
    }
}

impl EndpointHandler {
    /// A handler delivering to `inbox`.
    pub fn new(inbox: mpsc::Sender<OnionInbound>, stats: Arc<Mutex<OnionStats>>) -> Self {
        EndpointHandler { inbox, stats }
    }
}

impl CustomOnionMessageHandler for EndpointHandler {
    type CustomMessage = EndpointContents;

    fn handle_custom_message(
        &self,
        message: EndpointContents,
        context: Option<Vec<u8>>,
        responder: Option<Responder>,
    ) -> Option<(EndpointContents, ResponseInstruction)> {
        let m = message.0;
        let name = m.message_type().name();
        // Sent over a reply path we made: it was made for one payment only.
        if let Some(ctx) = context {
            if payment_id(&m).map(|p| p.to_vec()) != Some(ctx) {
                tracing::warn!("{name} over a reply path made for another payment; dropped");
                lock(&self.stats).dropped += 1;
                return None;
            }
        }
        let reply = responder.map(|r| r.encode());
        match self.inbox.try_send(OnionInbound { message: m, reply }) {
            Ok(()) => *lock(&self.stats).received.entry(name).or_default() += 1,
            Err(_) => {
                tracing::warn!("{name} onion message dropped: the node is overloaded");
                lock(&self.stats).dropped += 1;
            }
        }
        // Answers go through the engine, which logs what it acts on first.
        None
    }

    fn read_custom_message<R: io::Read>(
        &self,
        message_type: u64,
        buffer: &mut R,
    ) -> Result<Option<EndpointContents>, DecodeError> {
        let Some(mt) = endpoint_type(message_type) else {
            return Ok(None);
        };
        // The onion message's length bounds what is read.
        let payload =
            lightning::io_extras::read_to_end(buffer).map_err(|e| DecodeError::Io(e.kind()))?;
        match Message::decode_payload(mt, &payload) {
            Ok(m) => Ok(Some(EndpointContents(m))),
            Err(e) => {
                tracing::warn!("malformed {} onion message: {e}", mt.name());
                Err(DecodeError::InvalidValue)
            }
        }
    }

    fn release_pending_custom_messages(&self) -> Vec<(EndpointContents, MessageSendInstructions)> {
        // The daemon sends through the messenger directly.
        Vec::new()
    }
}

/// Why an endpoint message could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OnionSendError {
    /// Not an endpoint message.
    #[error("{0} is not an endpoint message")]
    NotEndpoint(&'static str),
    /// LDK refused it (no path, a buffer full, …).
    #[error("{0:?}")]
    Refused(lightning::onion_message::messenger::SendError),
}

/// Sends endpoint message `message` for `to`: along `reply` (a `Responder`, from the
/// message being answered) when given and usable, else routed to `to`'s node id. A
/// claim request asks for a reply path (context: its payment id).
pub fn send(
    messenger: &OnionMessenger,
    to: PublicKey,
    message: Message,
    reply: Option<&[u8]>,
) -> Result<SendSuccess, OnionSendError> {
    let Some(pid) = payment_id(&message) else {
        return Err(OnionSendError::NotEndpoint(message.message_type().name()));
    };
    let contents = EndpointContents(message);
    if let Some(responder) = reply.and_then(|b| Responder::read(&mut &b[..]).ok()) {
        match messenger.handle_onion_message_response(contents.clone(), responder.respond()) {
            Ok(s) => return Ok(s),
            // The reply path's introduction node is out of reach: try the node id.
            Err(e) => tracing::debug!("reply path unusable ({e:?}); routing to {to}"),
        }
    }
    let destination = Destination::Node(to);
    let instructions = if matches!(contents.0, Message::ClaimRequest(_)) {
        MessageSendInstructions::WithReplyPath {
            destination,
            context: MessageContext::Custom(pid.to_vec()),
        }
    } else {
        MessageSendInstructions::WithoutReplyPath { destination }
    };
    messenger
        .send_onion_message(contents, instructions)
        .map_err(OnionSendError::Refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flotilla_ln::wire::{CancelPayment, ClaimRequest, RevealSecrets};

    fn handler() -> (EndpointHandler, mpsc::Receiver<OnionInbound>) {
        let (tx, rx) = mpsc::channel(2);
        (EndpointHandler::new(tx, Arc::default()), rx)
    }

    #[test]
    fn endpoint_messages_round_trip_as_contents_and_nothing_else_is_ours() {
        let (h, mut rx) = handler();
        let msgs = [
            Message::ClaimRequest(ClaimRequest {
                payment_id: [1; 32],
                parts: vec![(0, 5), (2, 5)],
            }),
            Message::RevealSecrets(RevealSecrets {
                payment_id: [2; 32],
                secrets: vec![(1, [9; 32])],
            }),
            Message::CancelPayment(CancelPayment {
                payment_id: [3; 32],
            }),
        ];
        let mut types = Vec::new();
        for m in msgs {
            let c = EndpointContents(m.clone());
            let t = c.tlv_type();
            // Odd, ≥ 64, and LDK's types are elsewhere.
            assert!(t % 2 == 1 && t >= 64, "{t}");
            assert!(!(64..=75).contains(&t) && !(65536..=65538).contains(&t));
            types.push(t);
            let bytes = c.encode();
            let read = h.read_custom_message(t, &mut &bytes[..]).unwrap().unwrap();
            assert_eq!(read, c);
            assert!(h.handle_custom_message(read, None, None).is_none());
            assert_eq!(rx.try_recv().unwrap().message, m);
        }
        assert_eq!(types, [32_769, 32_771, 32_773]);
        // Another type is not ours; garbage under ours is refused.
        assert!(h
            .read_custom_message(64, &mut &[0u8; 4][..])
            .unwrap()
            .is_none());
        assert!(h
            .read_custom_message(32_775, &mut &[0u8; 4][..])
            .unwrap()
            .is_none());
        assert!(h
            .read_custom_message(32_769, &mut &[0xffu8; 3][..])
            .is_err());
    }

    #[test]
    fn a_reply_path_for_another_payment_and_an_overflow_are_dropped() {
        let (h, mut rx) = handler();
        let cancel = |id: u8| {
            EndpointContents(Message::CancelPayment(CancelPayment {
                payment_id: [id; 32],
            }))
        };
        h.handle_custom_message(cancel(1), Some(vec![2; 32]), None);
        assert!(rx.try_recv().is_err());
        h.handle_custom_message(cancel(1), Some(vec![1; 32]), None);
        assert!(rx.try_recv().is_ok());
        for _ in 0..3 {
            h.handle_custom_message(cancel(4), None, None);
        }
        let s = lock(&h.stats).clone();
        assert_eq!(s.dropped, 2, "{s:?}");
        assert_eq!(s.received.get("cancel_payment"), Some(&3));
    }
}
