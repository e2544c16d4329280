//! When a redundant payment's endpoint messages (claim request, reveal, cancel)
//! arrive: they travel as onion messages over as many hops as the payment's longest
//! path, one drawn per-hop latency per hop, timed after the step's other messages.

use std::collections::HashMap;

use flotilla_graph::NodeIdx;
use flotilla_ln::msg::{EndpointMsg, Msg};
use flotilla_ln::network::Network;
use flotilla_ln::output::Output;
use flotilla_ln::redundant_session::RedundantSession;
use flotilla_route::Timestamp;
use rand_chacha::ChaCha12Rng;

use super::{Ev, Session};
use crate::latency::{LatencyPlan, MessageClass};
use crate::queue::EventQueue;

/// Endpoint messages: a claim request travels back to its sender along the
/// longest path of the payment's parts in flight, one drawn per-hop latency per
/// hop; the reveal answering it travels as many hops forward.
pub(super) fn schedule_endpoints(
    endpoints: &mut Vec<(NodeIdx, NodeIdx, Msg)>,
    sessions: &HashMap<u64, Session>,
    endpoint_hops: usize,
    now: Timestamp,
    delays: &LatencyPlan,
    latency: &mut ChaCha12Rng,
    q: &mut EventQueue<Ev>,
) {
    for (from, to, msg) in endpoints.drain(..) {
        let hops = match &msg {
            Msg::Endpoint(EndpointMsg::ClaimRequest { payment_id, .. }) => {
                let id = RedundantSession::session_of_payment_id(payment_id);
                let Some(Session::Redundant(s)) = sessions.get(&id) else {
                    continue;
                };
                if s.payment_id() != *payment_id {
                    continue;
                }
                s.longest_path_hops()
            }
            _ => endpoint_hops,
        };
        let class = crate::latency::message_class(&msg);
        let at = now + delays.draw_path(class, hops, latency);
        q.push(
            at,
            Ev::Endpoint {
                from,
                to,
                msg,
                hops,
            },
        );
    }
}

/// A sender that gave up cancels the parts the receiver holds: `sender`'s cancel of
/// `r`, which travels like the claim request.
pub(super) fn send_cancel(
    r: &RedundantSession,
    sender: NodeIdx,
    net: &mut Network,
    now: Timestamp,
    delays: &LatencyPlan,
    latency: &mut ChaCha12Rng,
    q: &mut EventQueue<Ev>,
) {
    let hops = r.longest_path_hops();
    let at = now + delays.draw_path(MessageClass::Cancel, hops, latency);
    let mut sent = Vec::with_capacity(1);
    net.node_mut(sender)
        .cancel_payment(r.target(), r.payment_id(), &mut sent);
    for o in sent {
        if let Output::Message { from, to, msg } = o {
            q.push(
                at,
                Ev::Endpoint {
                    from,
                    to,
                    msg,
                    hops,
                },
            );
        }
    }
}
