//! A paper arm's reserve answers (docs/paper-model.md): its sender hears at once that
//! a part reached the receiver, or that a hop refused it, as the message carrying the
//! part is delivered.

use std::collections::HashMap;

use flotilla_graph::NodeIdx;
use flotilla_ln::clock::Clock;
use flotilla_ln::msg::Msg;
use flotilla_ln::network::Network;
use flotilla_ln::output::Output;
use flotilla_ln::redundant_session::RedundantSession;
use flotilla_route::Timestamp;

use super::Session;

/// Delivers `msg` from `from` to `to`; on a paper arm (`paper`), a part's add also
/// gives its session the reserve answers. Returns the payment whose session it
/// touched, if any; the error is the delivery's.
pub(super) fn deliver(
    net: &mut Network,
    sessions: &mut HashMap<u64, Session>,
    paper: bool,
    (from, to, msg): (NodeIdx, NodeIdx, Msg),
    clock: &Clock,
    now: Timestamp,
    out: &mut Vec<Output>,
) -> Result<Option<u64>, String> {
    let mut touched = None;
    // A paper arm's part on its way to a hop that may refuse it.
    let mut watch = None;
    if let (true, Msg::AddHtlc(add)) = (paper, &msg) {
        // The paper's sender hears at once (its 0 ms reserve answer) that a
        // part reached the receiver; a Lightning sender is never told.
        if let Some(part) = net.part_of(add) {
            let id = RedundantSession::session_of(part);
            if let Some(Session::Redundant(s)) = sessions.get_mut(&id) {
                if s.target() == to {
                    s.on_part_arrived(part, now);
                    // v there: complete by the paper's clock, and the
                    // paper's abort of the rest, before the add is
                    // delivered. Or nothing else travelling: give up.
                    s.complete_when_reached(now);
                    s.send_surplus_cancels(net, out);
                    touched = Some(id);
                } else {
                    watch = Some((id, part, add.htlc));
                }
            }
        }
    }
    let sent_before = out.len();
    net.deliver(to, from, msg, clock, out)
        .map_err(|e| e.to_string())?;
    if let Some((id, part, htlc)) = watch {
        // ... and, at once, that a hop refused it (the paper's negative
        // reserve answer): the hop failed the add back on arrival.
        let refusal = crate::paper_arm::refusal(&out[sent_before..], to, from, htlc);
        if let (Some(code), Some(Session::Redundant(s))) = (refusal, sessions.get_mut(&id)) {
            s.on_part_refused(part, code, now);
            s.send_surplus_cancels(net, out);
            touched = Some(id);
        }
    }
    Ok(touched)
}
