//! A `ChannelMessageHandler` that takes no BOLT 2 channels and claims no channel
//! features.
//!
//! flotilla's channels are agreed through its own custom messages, so a BOLT 2
//! `open_channel` (or any message for a BOLT channel) gets LDK's `ErroringMessageHandler`
//! answer: an `error` for that channel id. That handler also advertises a dozen channel
//! features "so that peers talk to us"; this wrapper advertises none of them, because
//! the node honours none.
//!
//! It also carries the custom-message handler's "warn, then disconnect" verdicts
//! ([`Disconnects`]) to `PeerManager`: a verdict returned from a message handler
//! drops the connection at once without the warning (LDK does not write while it
//! reads), whereas one returned as an event from `process_events` is written first.

use bitcoin::constants::ChainHash;
use bitcoin::secp256k1::PublicKey;
use std::sync::{Arc, Mutex};

use lightning::ln::msgs::{
    self, BaseMessageHandler, ChannelMessageHandler, ErrorAction, MessageSendEvent, WarningMessage,
};
use lightning::ln::peer_handler::ErroringMessageHandler;
use lightning::ln::types::ChannelId;
use lightning::types::features::{InitFeatures, NodeFeatures};

/// Peers to send a warning to and then disconnect, at the next `process_events`.
#[derive(Clone, Default)]
pub struct Disconnects(Arc<Mutex<Vec<(PublicKey, WarningMessage, bool)>>>);

impl Disconnects {
    /// Queues a warning and a disconnect for `node_id`.
    pub fn push(&self, node_id: PublicKey, warning: WarningMessage) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((node_id, warning, true));
    }

    /// Queues a warning alone for `node_id` (the connection stays).
    pub fn warn(&self, node_id: PublicKey, warning: WarningMessage) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((node_id, warning, false));
    }

    fn take(&self) -> Vec<(PublicKey, WarningMessage, bool)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// See the module docs.
pub struct ChannelRefuser(ErroringMessageHandler, Disconnects);

impl ChannelRefuser {
    /// A refuser that also delivers `disconnects`.
    pub fn new(disconnects: Disconnects) -> Self {
        ChannelRefuser(ErroringMessageHandler::new(), disconnects)
    }
}

impl BaseMessageHandler for ChannelRefuser {
    fn get_and_clear_pending_msg_events(&self) -> Vec<MessageSendEvent> {
        let mut events = BaseMessageHandler::get_and_clear_pending_msg_events(&self.0);
        events.extend(self.1.take().into_iter().map(|(node_id, msg, disconnect)| {
            let action = if disconnect {
                ErrorAction::DisconnectPeerWithWarning { msg }
            } else {
                ErrorAction::SendWarningMessage {
                    msg,
                    log_level: lightning::util::logger::Level::Warn,
                }
            };
            MessageSendEvent::HandleError { node_id, action }
        }));
        events
    }
    fn peer_disconnected(&self, their_node_id: PublicKey) {
        BaseMessageHandler::peer_disconnected(&self.0, their_node_id)
    }
    fn provided_node_features(&self) -> NodeFeatures {
        NodeFeatures::empty()
    }
    fn provided_init_features(&self, _their_node_id: PublicKey) -> InitFeatures {
        InitFeatures::empty()
    }
    fn peer_connected(
        &self,
        their_node_id: PublicKey,
        msg: &msgs::Init,
        inbound: bool,
    ) -> Result<(), ()> {
        BaseMessageHandler::peer_connected(&self.0, their_node_id, msg, inbound)
    }
}

impl ChannelMessageHandler for ChannelRefuser {
    fn handle_open_channel(&self, their_node_id: PublicKey, msg: &msgs::OpenChannel) {
        ChannelMessageHandler::handle_open_channel(&self.0, their_node_id, msg)
    }
    fn handle_accept_channel(&self, their_node_id: PublicKey, msg: &msgs::AcceptChannel) {
        ChannelMessageHandler::handle_accept_channel(&self.0, their_node_id, msg)
    }
    fn handle_funding_created(&self, their_node_id: PublicKey, msg: &msgs::FundingCreated) {
        ChannelMessageHandler::handle_funding_created(&self.0, their_node_id, msg)
    }
    fn handle_funding_signed(&self, their_node_id: PublicKey, msg: &msgs::FundingSigned) {
        ChannelMessageHandler::handle_funding_signed(&self.0, their_node_id, msg)
    }
    fn handle_channel_ready(&self, their_node_id: PublicKey, msg: &msgs::ChannelReady) {
        ChannelMessageHandler::handle_channel_ready(&self.0, their_node_id, msg)
    }
    fn handle_shutdown(&self, their_node_id: PublicKey, msg: &msgs::Shutdown) {
        ChannelMessageHandler::handle_shutdown(&self.0, their_node_id, msg)
    }
    fn handle_closing_signed(&self, their_node_id: PublicKey, msg: &msgs::ClosingSigned) {
        ChannelMessageHandler::handle_closing_signed(&self.0, their_node_id, msg)
    }
    fn handle_stfu(&self, their_node_id: PublicKey, msg: &msgs::Stfu) {
        ChannelMessageHandler::handle_stfu(&self.0, their_node_id, msg)
    }
    fn handle_splice_init(&self, their_node_id: PublicKey, msg: &msgs::SpliceInit) {
        ChannelMessageHandler::handle_splice_init(&self.0, their_node_id, msg)
    }
    fn handle_splice_ack(&self, their_node_id: PublicKey, msg: &msgs::SpliceAck) {
        ChannelMessageHandler::handle_splice_ack(&self.0, their_node_id, msg)
    }
    fn handle_splice_locked(&self, their_node_id: PublicKey, msg: &msgs::SpliceLocked) {
        ChannelMessageHandler::handle_splice_locked(&self.0, their_node_id, msg)
    }
    fn handle_update_add_htlc(&self, their_node_id: PublicKey, msg: &msgs::UpdateAddHTLC) {
        ChannelMessageHandler::handle_update_add_htlc(&self.0, their_node_id, msg)
    }
    fn handle_update_fulfill_htlc(&self, their_node_id: PublicKey, msg: msgs::UpdateFulfillHTLC) {
        ChannelMessageHandler::handle_update_fulfill_htlc(&self.0, their_node_id, msg)
    }
    fn handle_update_fail_htlc(&self, their_node_id: PublicKey, msg: &msgs::UpdateFailHTLC) {
        ChannelMessageHandler::handle_update_fail_htlc(&self.0, their_node_id, msg)
    }
    fn handle_update_fail_malformed_htlc(
        &self,
        their_node_id: PublicKey,
        msg: &msgs::UpdateFailMalformedHTLC,
    ) {
        ChannelMessageHandler::handle_update_fail_malformed_htlc(&self.0, their_node_id, msg)
    }
    fn handle_commitment_signed(&self, their_node_id: PublicKey, msg: &msgs::CommitmentSigned) {
        ChannelMessageHandler::handle_commitment_signed(&self.0, their_node_id, msg)
    }
    fn handle_commitment_signed_batch(
        &self,
        their_node_id: PublicKey,
        channel_id: ChannelId,
        batch: Vec<msgs::CommitmentSigned>,
    ) {
        ChannelMessageHandler::handle_commitment_signed_batch(
            &self.0,
            their_node_id,
            channel_id,
            batch,
        )
    }
    fn handle_revoke_and_ack(&self, their_node_id: PublicKey, msg: &msgs::RevokeAndACK) {
        ChannelMessageHandler::handle_revoke_and_ack(&self.0, their_node_id, msg)
    }
    fn handle_update_fee(&self, their_node_id: PublicKey, msg: &msgs::UpdateFee) {
        ChannelMessageHandler::handle_update_fee(&self.0, their_node_id, msg)
    }
    fn handle_announcement_signatures(
        &self,
        their_node_id: PublicKey,
        msg: &msgs::AnnouncementSignatures,
    ) {
        ChannelMessageHandler::handle_announcement_signatures(&self.0, their_node_id, msg)
    }
    fn handle_channel_reestablish(&self, their_node_id: PublicKey, msg: &msgs::ChannelReestablish) {
        ChannelMessageHandler::handle_channel_reestablish(&self.0, their_node_id, msg)
    }
    fn handle_channel_update(&self, their_node_id: PublicKey, msg: &msgs::ChannelUpdate) {
        ChannelMessageHandler::handle_channel_update(&self.0, their_node_id, msg)
    }
    fn handle_peer_storage(&self, their_node_id: PublicKey, msg: msgs::PeerStorage) {
        ChannelMessageHandler::handle_peer_storage(&self.0, their_node_id, msg)
    }
    fn handle_peer_storage_retrieval(
        &self,
        their_node_id: PublicKey,
        msg: msgs::PeerStorageRetrieval,
    ) {
        ChannelMessageHandler::handle_peer_storage_retrieval(&self.0, their_node_id, msg)
    }
    fn handle_error(&self, their_node_id: PublicKey, msg: &msgs::ErrorMessage) {
        ChannelMessageHandler::handle_error(&self.0, their_node_id, msg)
    }
    fn get_chain_hashes(&self) -> Option<Vec<ChainHash>> {
        ChannelMessageHandler::get_chain_hashes(&self.0)
    }
    fn handle_open_channel_v2(&self, their_node_id: PublicKey, msg: &msgs::OpenChannelV2) {
        ChannelMessageHandler::handle_open_channel_v2(&self.0, their_node_id, msg)
    }
    fn handle_accept_channel_v2(&self, their_node_id: PublicKey, msg: &msgs::AcceptChannelV2) {
        ChannelMessageHandler::handle_accept_channel_v2(&self.0, their_node_id, msg)
    }
    fn handle_tx_add_input(&self, their_node_id: PublicKey, msg: &msgs::TxAddInput) {
        ChannelMessageHandler::handle_tx_add_input(&self.0, their_node_id, msg)
    }
    fn handle_tx_add_output(&self, their_node_id: PublicKey, msg: &msgs::TxAddOutput) {
        ChannelMessageHandler::handle_tx_add_output(&self.0, their_node_id, msg)
    }
    fn handle_tx_remove_input(&self, their_node_id: PublicKey, msg: &msgs::TxRemoveInput) {
        ChannelMessageHandler::handle_tx_remove_input(&self.0, their_node_id, msg)
    }
    fn handle_tx_remove_output(&self, their_node_id: PublicKey, msg: &msgs::TxRemoveOutput) {
        ChannelMessageHandler::handle_tx_remove_output(&self.0, their_node_id, msg)
    }
    fn handle_tx_complete(&self, their_node_id: PublicKey, msg: &msgs::TxComplete) {
        ChannelMessageHandler::handle_tx_complete(&self.0, their_node_id, msg)
    }
    fn handle_tx_signatures(&self, their_node_id: PublicKey, msg: &msgs::TxSignatures) {
        ChannelMessageHandler::handle_tx_signatures(&self.0, their_node_id, msg)
    }
    fn handle_tx_init_rbf(&self, their_node_id: PublicKey, msg: &msgs::TxInitRbf) {
        ChannelMessageHandler::handle_tx_init_rbf(&self.0, their_node_id, msg)
    }
    fn handle_tx_ack_rbf(&self, their_node_id: PublicKey, msg: &msgs::TxAckRbf) {
        ChannelMessageHandler::handle_tx_ack_rbf(&self.0, their_node_id, msg)
    }
    fn handle_tx_abort(&self, their_node_id: PublicKey, msg: &msgs::TxAbort) {
        ChannelMessageHandler::handle_tx_abort(&self.0, their_node_id, msg)
    }
    fn message_received(&self) {
        ChannelMessageHandler::message_received(&self.0)
    }
}
