//! Engines wired together in memory: payments, bad peers, and replay of the log.

use std::collections::VecDeque;

use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use flotilla_ln::invoice::PaymentKeys;
use flotilla_ln::wire::{self, ChannelId, Message, UpdateFulfillHtlc};
use flotilla_ln::PaymentPreimage;
use pay::PayStatus;
use redundant::RedundantAsk;

use super::*;

const T0: u64 = 1_800_000_000_000_000;

struct Net {
    engines: Vec<Engine>,
    keys: Vec<PublicKey>,
    /// Every input each engine consumed, with its clock.
    logs: Vec<Vec<(Input, u64)>>,
    queue: VecDeque<(usize, Input)>,
    warnings: Vec<(usize, String)>,
    now: u64,
    /// Onion messages to lose, by name: each name once.
    lose: Vec<&'static str>,
    /// Deliver every onion message twice.
    duplicate: bool,
    /// Every onion message sent: (from, to, name, the reply path it was sent along).
    onions: Vec<(usize, usize, &'static str, Option<Vec<u8>>)>,
    /// Claim-request re-send timers set: (node, when, timer).
    resends: Vec<(usize, u64, Timer)>,
    /// Fulfils sent to this node wait until nothing else is left to deliver, so that
    /// the failures of other parts overtake them; whatever their sender sends this
    /// node after them waits too (a link keeps its order).
    hold_fulfils_to: Option<usize>,
    /// (from, to, input) held back.
    held: Vec<(usize, usize, Input)>,
}

impl Net {
    fn new(n: usize) -> Net {
        let secp = Secp256k1::new();
        let secrets: Vec<SecretKey> = (0..n)
            .map(|i| SecretKey::from_slice(&[i as u8 + 1; 32]).unwrap())
            .collect();
        Net {
            keys: secrets
                .iter()
                .map(|s| PublicKey::from_secret_key(&secp, s))
                .collect(),
            engines: secrets.into_iter().map(Engine::new).collect(),
            logs: vec![Vec::new(); n],
            queue: VecDeque::new(),
            warnings: Vec::new(),
            now: T0,
            lose: Vec::new(),
            duplicate: false,
            onions: Vec::new(),
            resends: Vec::new(),
            hold_fulfils_to: None,
            held: Vec::new(),
        }
    }

    fn ix(&self, k: &PublicKey) -> usize {
        self.keys.iter().position(|x| x == k).unwrap()
    }

    fn apply(&mut self, i: usize, input: Input) -> Result<(), CommandError> {
        self.now += 1000;
        let fx = self.engines[i].apply(&input, &clock_at(self.now))?;
        self.logs[i].push((input, self.now));
        for f in fx {
            match f {
                Effect::Send { to, message } => {
                    let bytes = wire::encode_tunnelled(&message).unwrap();
                    let j = self.ix(&to);
                    let input = Input::Peer {
                        from: self.keys[i],
                        bytes,
                    };
                    let link_held = self.held.iter().any(|(f, t, _)| (*f, *t) == (i, j));
                    if self.hold_fulfils_to == Some(j)
                        && (link_held || matches!(message, Message::UpdateFulfillHtlc(_)))
                    {
                        self.held.push((i, j, input));
                    } else {
                        self.queue.push_back((j, input));
                    }
                }
                Effect::Gossip { except, bytes } => {
                    for j in 0..self.keys.len() {
                        if j != i && Some(self.keys[j]) != except {
                            self.queue.push_back((
                                j,
                                Input::Announce {
                                    from: Some(self.keys[i]),
                                    bytes: bytes.clone(),
                                },
                            ));
                        }
                    }
                }
                Effect::NodeGossip { except, bytes, .. } => {
                    for j in 0..self.keys.len() {
                        if j != i && Some(self.keys[j]) != except {
                            self.queue.push_back((
                                j,
                                Input::NodeAnnounce {
                                    from: Some(self.keys[i]),
                                    bytes: bytes.clone(),
                                },
                            ));
                        }
                    }
                }
                Effect::Onion { to, message, reply } => {
                    let j = self.ix(&to);
                    let name = message.message_type().name();
                    self.onions.push((i, j, name, reply));
                    if let Some(k) = self.lose.iter().position(|n| *n == name) {
                        self.lose.remove(k);
                        continue;
                    }
                    // The transport asks a reply path for every claim request; here
                    // it names the node it leads to.
                    let reply = matches!(message, Message::ClaimRequest(_))
                        .then(|| format!("reply path to {i}").into_bytes());
                    let input = Input::Onion {
                        bytes: wire::encode_tunnelled(&message).unwrap(),
                        reply,
                    };
                    if self.duplicate {
                        self.queue.push_back((j, input.clone()));
                    }
                    self.queue.push_back((j, input));
                }
                Effect::Timer {
                    at,
                    timer: t @ Timer::EndpointResend { .. },
                } => self.resends.push((i, at.0, t)),
                Effect::Timer { .. } => {}
                Effect::Warn { text, .. } => self.warnings.push((i, text)),
            }
        }
        Ok(())
    }

    /// A fresh engine fed node `i`'s logged inputs (through their logged form, as a
    /// restart reads them); checked to reach node `i`'s channels and payments.
    fn replayed(&self, i: usize) -> Engine {
        let mut fresh = Engine::new(SecretKey::from_slice(&[i as u8 + 1; 32]).unwrap());
        for (input, at) in &self.logs[i] {
            let back = Input::from_json(&input.to_json()).unwrap().unwrap();
            fresh.apply(&back, &clock_at(*at)).unwrap();
        }
        assert_eq!(
            fresh.channels_json(),
            self.engines[i].channels_json(),
            "node {i}"
        );
        assert_eq!(
            fresh.payments_json(),
            self.engines[i].payments_json(),
            "node {i}"
        );
        fresh
    }

    fn run(&mut self) {
        loop {
            while let Some((j, input)) = self.queue.pop_front() {
                self.apply(j, input).unwrap();
            }
            if self.held.is_empty() {
                break;
            }
            self.queue
                .extend(self.held.drain(..).map(|(_, j, input)| (j, input)));
        }
    }

    /// Fires every claim-request re-send timer set so far, at its time, and runs
    /// what follows; returns how many fired.
    fn fire_resends(&mut self) -> usize {
        let due = std::mem::take(&mut self.resends);
        for (i, at, timer) in &due {
            self.now = self.now.max(*at);
            self.apply(
                *i,
                Input::Timer {
                    timer: timer.clone(),
                },
            )
            .unwrap();
            self.run();
        }
        due.len()
    }

    fn open(&mut self, a: usize, b: usize, id: u8, cap_sat: u64) {
        for (me, peer, local, remote) in [(a, b, cap_sat * 1000, 0), (b, a, 0, cap_sat * 1000)] {
            let peer = self.keys[peer];
            self.apply(
                me,
                Input::Open {
                    channel_id: [id; 32],
                    peer,
                    capacity_sat: cap_sat,
                    local_msat: local,
                    remote_msat: remote,
                    policy: None,
                    params: None,
                },
            )
            .unwrap();
        }
        self.run();
    }

    fn invoice(&mut self, at: usize, amount: u64) -> PaymentKeys {
        let keys = PaymentKeys::random();
        self.apply(
            at,
            Input::Invoice {
                preimage: keys.preimage.0,
                secret: keys.secret.0,
                amount_msat: Some(amount),
                expires_at: self.now + 3_600_000_000,
                redundant: None,
            },
        )
        .unwrap();
        keys
    }

    fn pay(&mut self, from: usize, to: usize, keys: &PaymentKeys, amount: u64, id: u64) {
        self.apply(
            from,
            Input::Pay {
                id,
                payment_hash: keys.hash.0,
                payment_secret: keys.secret.0,
                keysend_preimage: None,
                target: self.keys[to],
                amount_msat: amount,
                max_parts: 4,
                final_cltv_delta: 18,
            },
        )
        .unwrap();
        self.run();
    }
}

#[test]
fn a_two_hop_payment_settles_and_both_ends_agree() {
    let mut net = Net::new(3);
    net.open(0, 1, 1, 1_000_000);
    net.open(1, 2, 2, 1_000_000);
    assert_eq!(
        net.engines[0].graph().channel_count(),
        2,
        "gossip told node 0 of 1–2"
    );
    let keys = net.invoice(2, 10_000_000);
    net.pay(0, 2, &keys, 10_000_000, 1);
    assert_eq!(net.engines[0].payment_status(1), Some(PayStatus::Succeeded));
    for e in &net.engines {
        e.check().unwrap();
        assert_eq!(e.live_htlcs(), 0);
    }
    let c0 = net.engines[0].channels_json();
    let c1 = net.engines[1].channels_json();
    assert_eq!(c0[0]["local_msat"], c1[0]["remote_msat"]);
    assert_eq!(c0[0]["remote_msat"], 10_000_000u64 + 1010);
    assert!(net.warnings.is_empty(), "{:?}", net.warnings);
}

#[test]
fn bad_peer_messages_are_warned_and_change_nothing() {
    let mut net = Net::new(2);
    net.open(0, 1, 1, 1_000_000);
    let keys = net.invoice(1, 5_000_000);
    net.pay(0, 1, &keys, 5_000_000, 1);
    let before: Vec<_> = net.engines.iter().map(|e| e.channels_json()).collect();
    let from = net.keys[1];
    let bad: Vec<Vec<u8>> = vec![
        // Garbage.
        vec![0x80, 0x03, 1, 2, 3],
        // A fulfil of an HTLC that is resolved, with a wrong preimage.
        wire::encode_tunnelled(&Message::UpdateFulfillHtlc(UpdateFulfillHtlc {
            channel_id: ChannelId([1; 32]),
            id: 0,
            payment_preimage: PaymentPreimage([9; 32]),
            sender_secret: None,
        }))
        .unwrap(),
        // A fulfil on a channel we do not share.
        wire::encode_tunnelled(&Message::UpdateFulfillHtlc(UpdateFulfillHtlc {
            channel_id: ChannelId([7; 32]),
            id: 0,
            payment_preimage: PaymentPreimage([9; 32]),
            sender_secret: None,
        }))
        .unwrap(),
        // An add beyond what node 1 holds on the channel (it was paid 5,000 sat):
        // refused as it arrives, before any commitment.
        wire::encode_tunnelled(&Message::UpdateAddHtlc(wire::UpdateAddHtlc {
            channel_id: ChannelId([1; 32]),
            id: 0,
            amount_msat: 500_000_000,
            payment_hash: flotilla_ln::PaymentHash([3; 32]),
            cltv_expiry: 900_000,
            onion_routing_packet: flotilla_ln::onion::real::RealOnion::from_bytes(
                &[0; flotilla_ln::onion::real::ONION_PACKET_LEN],
            )
            .unwrap(),
            blinded_path_key: None,
            lock: flotilla_ln::lock::HtlcLock::Hash,
            reverse_point: None,
        }))
        .unwrap(),
    ];
    for (k, bytes) in bad.into_iter().enumerate() {
        let n = net.warnings.len();
        net.apply(0, Input::Peer { from, bytes }).unwrap();
        net.run();
        assert_eq!(net.warnings.len(), n + 1, "message {k} warned");
    }
    let after: Vec<_> = net.engines.iter().map(|e| e.channels_json()).collect();
    assert_eq!(before, after);
    net.engines[0].check().unwrap();
}

#[test]
fn replaying_the_log_rebuilds_the_same_state() {
    let mut net = Net::new(3);
    net.open(0, 1, 1, 1_000_000);
    net.open(1, 2, 2, 1_000_000);
    for id in 1..=5 {
        let keys = net.invoice(2, 1_000_000 * id);
        net.pay(0, 2, &keys, 1_000_000 * id, id);
    }
    // Stop half-way through a payment: its add is delivered, nothing else.
    let keys = net.invoice(2, 777_000);
    net.apply(
        0,
        Input::Pay {
            id: 6,
            payment_hash: keys.hash.0,
            payment_secret: keys.secret.0,
            keysend_preimage: None,
            target: net.keys[2],
            amount_msat: 777_000,
            max_parts: 1,
            final_cltv_delta: 18,
        },
    )
    .unwrap();
    for i in 0..3 {
        let fresh = net.replayed(i);
        assert_eq!(fresh.live_htlcs(), net.engines[i].live_htlcs());
    }
    net.run();
    assert_eq!(net.engines[0].payment_status(6), Some(PayStatus::Succeeded));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Arbitrary bytes under every flotilla type, from a peer with a channel: no
    /// panic, and the node's books still add up.
    #[test]
    fn any_peer_bytes_leave_the_books_consistent(
        t in 0usize..wire::MessageType::ALL.len(),
        payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
    ) {
        let mut net = Net::new(2);
        net.open(0, 1, 1, 1_000_000);
        let mut bytes = wire::MessageType::ALL[t].custom().to_be_bytes().to_vec();
        bytes.extend_from_slice(&payload);
        let from = net.keys[1];
        net.apply(0, Input::Peer { from, bytes }).unwrap();
        net.engines[0].check().unwrap();
    }
}

/// Five engines: the sender 0 and the receiver 4 joined by three two-hop paths
/// (through 1, 2, 3).
fn diamond() -> Net {
    let mut net = Net::new(5);
    for (k, hop) in [1usize, 2, 3].into_iter().enumerate() {
        net.open(0, hop, 2 * k as u8 + 1, 1_000_000);
        net.open(hop, 4, 2 * k as u8 + 2, 1_000_000);
    }
    net
}

impl Net {
    /// A redundant invoice for `lock` at `at` (boomerang: k = 2); the ask a sender
    /// makes of it.
    fn redundant_invoice(
        &mut self,
        at: usize,
        amount: u64,
        lock: LockKind,
    ) -> (Input, RedundantAsk) {
        let (input, v) = self.engines[at]
            .make_invoice(Some(amount), "", 3600, Some((lock, 2)), &clock_at(self.now))
            .unwrap();
        self.apply(at, input.clone()).unwrap();
        let commitments = v["boomerang_commitments"]
            .as_str()
            .map(|c| c.split(',').map(|p| p.parse().unwrap()).collect())
            .unwrap_or_default();
        let ask = RedundantAsk {
            lock,
            redundancy: 0.5,
            base_parts: 2,
            commitments,
            excluded: Vec::new(),
        };
        (input, ask)
    }

    fn pay_redundant(
        &mut self,
        from: usize,
        to: usize,
        invoice: &Input,
        ask: RedundantAsk,
        id: u64,
    ) {
        let Input::Invoice {
            preimage,
            secret,
            amount_msat,
            ..
        } = invoice
        else {
            panic!("not an invoice");
        };
        let keys = PaymentKeys::from_bytes(*preimage, *secret);
        self.apply(
            from,
            Input::PayRedundant {
                id,
                payment_hash: keys.hash.0,
                payment_secret: keys.secret.0,
                target: self.keys[to],
                amount_msat: amount_msat.unwrap(),
                final_cltv_delta: 18,
                ask,
            },
        )
        .unwrap();
        self.run();
    }

    fn values(&self) -> Vec<u64> {
        self.engines
            .iter()
            .map(|e| {
                e.channels_json()
                    .iter()
                    .map(|c| c["local_msat"].as_u64().unwrap())
                    .sum()
            })
            .collect()
    }
}

/// A boomerang receiver claims the first k parts it holds and refuses the rest; that
/// refusal may reach the sender before the fulfils of the parts it claimed (they travel
/// other paths). The refused part is still surplus, not a failure, once A has settled.
#[test]
fn a_receivers_refusal_that_overtakes_its_fulfils_is_surplus() {
    let mut net = diamond();
    net.hold_fulfils_to = Some(0);
    let amount = 20_000_000u64;
    let (inv, ask) = net.redundant_invoice(4, amount, LockKind::Boomerang);
    net.pay_redundant(0, 4, &inv, ask, 1);
    let p = net.engines[0].payment_json(1).unwrap();
    assert_eq!(p["status"], "succeeded", "{p}");
    assert_eq!(p["redundant"]["settled_msat"], amount, "{p}");
    let parts = p["parts"].as_array().unwrap();
    let refused_first = parts
        .iter()
        .filter(|x| x["failure"] == "IncorrectOrUnknownPaymentDetails")
        .count();
    assert!(refused_first > 0, "no refusal overtook a fulfil: {p}");
    assert_eq!(
        parts.iter().filter(|x| x["status"] == "settled").count(),
        2,
        "{p}"
    );
    assert!(
        parts
            .iter()
            .all(|x| x["status"] == "settled" || x["status"] == "surplus"),
        "{p}"
    );
}

#[test]
fn redundant_payments_with_every_lock_claim_exactly_a_and_replay() {
    let mut net = diamond();
    let before = net.values();
    let amount = 20_000_000u64;
    let mut fees = 0;
    for (id, lock) in [LockKind::SenderHash, LockKind::H2tlc, LockKind::Boomerang]
        .into_iter()
        .enumerate()
    {
        let id = id as u64 + 1;
        let (inv, ask) = net.redundant_invoice(4, amount, lock);
        net.pay_redundant(0, 4, &inv, ask, id);
        let p = net.engines[0].payment_json(id).unwrap();
        assert_eq!(p["status"], "succeeded", "{lock:?}: {p}");
        assert_eq!(p["parts_settled"], 2, "{p}");
        assert_eq!(p["parts_sent"], 3, "{p}");
        assert_eq!(p["redundant"]["settled_msat"], amount, "{p}");
        assert_eq!(p["redundant"]["parts_in_flight"], 0, "{p}");
        // The receiver's claim request and the reveal (hash locks), and the surplus
        // part cancelled once the payment completed.
        let statuses: Vec<&str> = p["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == "settled").count(),
            2,
            "{p}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == "surplus").count(),
            1,
            "{p}"
        );
        fees += p["fee_msat"].as_u64().unwrap();
        let got = net.engines[4].payments_json();
        let Input::Invoice { preimage, .. } = inv else {
            unreachable!()
        };
        let hash = hex(&flotilla_ln::invoice::payment_hash_of(&PaymentPreimage(preimage)).0);
        assert!(
            got.as_array()
                .unwrap()
                .iter()
                .any(|r| r["direction"] == "received"
                    && r["payment_hash"] == hash.as_str()
                    && r["amount_msat"] == amount),
            "{lock:?}: {got}"
        );
    }
    let after = net.values();
    assert_eq!(after.iter().sum::<u64>(), before.iter().sum::<u64>());
    assert_eq!(after[4], before[4] + 3 * amount);
    assert_eq!(after[0], before[0] - 3 * amount - fees);
    for e in &net.engines {
        e.check().unwrap();
        assert_eq!(e.live_htlcs(), 0);
    }
    assert!(net.warnings.is_empty(), "{:?}", net.warnings);
    // The log rebuilds every redundant payment and every balance.
    for i in 0..5 {
        net.replayed(i);
    }
}

#[test]
fn a_boomerang_refund_with_a_wrong_p0_is_refused_and_changes_nothing() {
    let mut net = diamond();
    let (inv, ask) = net.redundant_invoice(4, 20_000_000, LockKind::Boomerang);
    net.pay_redundant(0, 4, &inv, ask, 1);
    assert_eq!(net.engines[0].payment_status(1), Some(PayStatus::Succeeded));
    let before: Vec<_> = net.engines.iter().map(|e| e.channels_json()).collect();
    let wrong = SecretKey::from_slice(&[7; 32]).unwrap();
    // The sender's first HTLC on each of its channels: two were fulfilled (their
    // hops owe a reverse clause, which P(0) must open), one failed back.
    for channel in [1u8, 3, 5] {
        let n = net.warnings.len();
        let bytes = wire::encode_tunnelled(&Message::BoomerangRefund(wire::BoomerangRefund {
            channel_id: ChannelId([channel; 32]),
            id: 0,
            amount_msat: 10_001_000,
            p0: wrong,
        }))
        .unwrap();
        let hop = net.ix(&net.keys[usize::from(channel).div_ceil(2)]);
        net.apply(
            hop,
            Input::Peer {
                from: net.keys[0],
                bytes,
            },
        )
        .unwrap();
        net.run();
        // The hop warns and answers "refused"; the sender, which claimed nothing,
        // warns about the answer.
        assert_eq!(net.warnings.len(), n + 2, "{:?}", &net.warnings[n..]);
        assert!(net.warnings[n..].iter().any(|(i, _)| *i == hop));
        assert!(net.warnings[n..]
            .iter()
            .any(|(i, t)| *i == 0 && t.contains("did not claim")));
    }
    let after: Vec<_> = net.engines.iter().map(|e| e.channels_json()).collect();
    assert_eq!(before, after);
    for e in &net.engines {
        e.check().unwrap();
    }
}

#[test]
fn no_part_goes_through_a_peer_without_the_lock() {
    let mut net = diamond();
    let before = net.values();
    let (inv, mut ask) = net.redundant_invoice(4, 20_000_000, LockKind::H2tlc);
    // Hops 1 and 2 did not advertise h2tlc: every part goes through 3.
    ask.excluded = vec![net.keys[1], net.keys[2]];
    net.pay_redundant(0, 4, &inv, ask, 1);
    let p = net.engines[0].payment_json(1).unwrap();
    assert_eq!(p["status"], "succeeded", "{p}");
    for hop in [1, 2] {
        assert_eq!(net.values()[hop], before[hop], "hop {hop} carried nothing");
    }
    // None advertises it: refused with a reason that says so, nothing sent.
    let (inv, mut ask) = net.redundant_invoice(4, 20_000_000, LockKind::H2tlc);
    ask.excluded = vec![net.keys[1], net.keys[2], net.keys[3]];
    let mid = net.values();
    net.pay_redundant(0, 4, &inv, ask, 2);
    let p = net.engines[0].payment_json(2).unwrap();
    assert_eq!(p["status"], "failed", "{p}");
    assert_eq!(p["failure_reason"], "lock_unsupported", "{p}");
    assert_eq!(p["parts_sent"], 0, "{p}");
    assert_eq!(net.values(), mid);
}

/// The endpoint messages of a payment, by name, in the order sent.
fn onion_names(net: &Net) -> Vec<&'static str> {
    net.onions.iter().map(|o| o.2).collect()
}

/// Checks payment `id` from 0 to 4 succeeded with exactly A received, balances
/// conserved and every HTLC resolved; then that the log replays.
fn assert_paid_exactly(net: &Net, id: u64, amount: u64, before: &[u64]) {
    let p = net.engines[0].payment_json(id).unwrap();
    assert_eq!(p["status"], "succeeded", "{p}");
    assert_eq!(p["redundant"]["settled_msat"], amount, "{p}");
    assert_eq!(p["redundant"]["overpaid_msat"], 0, "{p}");
    let after = net.values();
    assert_eq!(after.iter().sum::<u64>(), before.iter().sum::<u64>());
    assert_eq!(after[4], before[4] + amount, "the receiver got exactly A");
    for e in &net.engines {
        e.check().unwrap();
        assert_eq!(e.live_htlcs(), 0);
    }
    assert!(net.warnings.is_empty(), "{:?}", net.warnings);
    for i in [0, 4] {
        net.replayed(i);
    }
}

#[test]
fn a_lost_claim_request_is_sent_again_and_the_payment_completes() {
    let mut net = diamond();
    let before = net.values();
    let (inv, ask) = net.redundant_invoice(4, 20_000_000, LockKind::SenderHash);
    net.lose = vec!["claim_request"];
    net.pay_redundant(0, 4, &inv, ask, 1);
    // The request was lost: the sender waits, the receiver holds its parts.
    assert_eq!(net.engines[0].payment_status(1), Some(PayStatus::Pending));
    assert_eq!(onion_names(&net), ["claim_request"]);
    assert!(net.engines[4].live_htlcs() > 0);
    assert_eq!(net.engines[4].endpoint_json()["claims_awaiting_answer"], 1);
    // What each end takes from the network (and logs): only what concerns its own
    // payments.
    let pid = net.engines[0].redundant[&1].payment_id();
    let claim = |id| {
        Message::ClaimRequest(wire::ClaimRequest {
            payment_id: id,
            parts: Vec::new(),
        })
    };
    let reveal = |id| {
        Message::RevealSecrets(wire::RevealSecrets {
            payment_id: id,
            secrets: Vec::new(),
        })
    };
    let cancel = |id| Message::CancelPayment(wire::CancelPayment { payment_id: id });
    for (m, at_sender, at_receiver) in [
        (claim(pid), true, false),
        (reveal(pid), false, true),
        (cancel(pid), false, true),
        (claim([9; 32]), false, false),
        (reveal([9; 32]), false, false),
        (cancel([9; 32]), false, false),
    ] {
        assert_eq!(net.engines[0].wants_endpoint(&m), at_sender, "{m:?}");
        assert_eq!(net.engines[4].wants_endpoint(&m), at_receiver, "{m:?}");
    }
    // Its timer sends it again; the reveal follows, along the new request's reply
    // path.
    assert_eq!(net.fire_resends(), 1);
    assert_eq!(
        onion_names(&net),
        ["claim_request", "claim_request", "reveal_secrets"]
    );
    assert_eq!(net.onions[2].3, Some(b"reply path to 4".to_vec()));
    assert_eq!(
        net.engines[4].endpoint_json()["endpoint_messages_resent"],
        1
    );
    assert_paid_exactly(&net, 1, 20_000_000, &before);
    // Claimed: a late reveal or cancel is no longer taken.
    assert!(!net.engines[4].wants_endpoint(&reveal(pid)));
    assert!(!net.engines[4].wants_endpoint(&cancel(pid)));
    // The next timer finds the round answered: nothing more is sent, and no timer.
    assert_eq!(net.fire_resends(), 1);
    assert_eq!(net.onions.len(), 3);
    assert!(net.resends.is_empty());
    assert_eq!(net.engines[4].endpoint_json()["claims_awaiting_answer"], 0);
}

#[test]
fn a_lost_reveal_is_answered_again_and_a_stale_timer_does_nothing() {
    let mut net = diamond();
    let before = net.values();
    let (inv, ask) = net.redundant_invoice(4, 20_000_000, LockKind::H2tlc);
    net.lose = vec!["reveal_secrets"];
    net.pay_redundant(0, 4, &inv, ask, 1);
    assert_eq!(net.engines[0].payment_status(1), Some(PayStatus::Pending));
    assert_eq!(onion_names(&net), ["claim_request", "reveal_secrets"]);
    // The reveal went along the claim request's reply path.
    assert_eq!(net.onions[1].3, Some(b"reply path to 4".to_vec()));
    // Keep the first timer: once the next one is set, it is stale.
    let first = net.resends[0].clone();
    net.fire_resends();
    assert_eq!(
        onion_names(&net),
        [
            "claim_request",
            "reveal_secrets",
            "claim_request",
            "reveal_secrets"
        ]
    );
    // The same secrets again, not a second subset.
    let p = net.engines[0].payment_json(1).unwrap();
    assert_eq!(p["redundant"]["endpoint_answers_repeated"], 1, "{p}");
    assert_paid_exactly(&net, 1, 20_000_000, &before);
    let n = net.onions.len();
    net.apply(first.0, Input::Timer { timer: first.2 }).unwrap();
    net.run();
    assert_eq!(net.onions.len(), n, "a stale timer sends nothing");
}

#[test]
fn duplicated_endpoint_messages_change_nothing() {
    let mut net = diamond();
    let before = net.values();
    net.duplicate = true;
    let mut paid = 0;
    for (id, lock) in [LockKind::SenderHash, LockKind::H2tlc]
        .into_iter()
        .enumerate()
    {
        let (inv, ask) = net.redundant_invoice(4, 20_000_000, lock);
        net.pay_redundant(0, 4, &inv, ask, id as u64 + 1);
        paid += 20_000_000;
        let p = net.engines[0].payment_json(id as u64 + 1).unwrap();
        assert_eq!(p["status"], "succeeded", "{lock:?}: {p}");
        // The second copy of the request got the same reveal; both reveals reached
        // the receiver, which claimed once.
        assert_eq!(p["redundant"]["endpoint_answers_repeated"], 1, "{p}");
        assert_eq!(p["redundant"]["settled_msat"], 20_000_000, "{p}");
    }
    let after = net.values();
    assert_eq!(after.iter().sum::<u64>(), before.iter().sum::<u64>());
    assert_eq!(after[4], before[4] + paid);
    for e in &net.engines {
        e.check().unwrap();
        assert_eq!(e.live_htlcs(), 0);
    }
    assert!(net.warnings.is_empty(), "{:?}", net.warnings);
}

#[test]
fn a_sender_that_gave_up_answers_a_claim_request_with_its_cancel() {
    let mut net = diamond();
    let before = net.values();
    let (inv, ask) = net.redundant_invoice(4, 20_000_000, LockKind::SenderHash);
    // The request is lost, and the sender's deadline passes before it comes again;
    // the cancel the sender sends then is lost too.
    net.lose = vec!["claim_request", "cancel_payment"];
    net.pay_redundant(0, 4, &inv, ask, 1);
    net.now += 120_000_000;
    net.apply(
        0,
        Input::Timer {
            timer: Timer::PaymentDeadline { payment: 1 },
        },
    )
    .unwrap();
    net.run();
    let p = net.engines[0].payment_json(1).unwrap();
    assert_eq!(p["status"], "failed", "{p}");
    assert_eq!(onion_names(&net), ["claim_request", "cancel_payment"]);
    // The receiver still holds the parts, and asks again: the answer is the cancel.
    assert!(net.engines[4].live_htlcs() > 0);
    net.onions.clear();
    net.fire_resends();
    assert_eq!(onion_names(&net), ["claim_request", "cancel_payment"]);
    assert_eq!(net.engines[4].live_htlcs(), 0, "the parts failed back");
    let after = net.values();
    assert_eq!(after, before, "nothing moved");
    for e in &net.engines {
        e.check().unwrap();
        assert_eq!(e.live_htlcs(), 0);
    }
}

#[test]
fn a_lost_cancel_is_sent_again_while_parts_are_out() {
    let mut net = diamond();
    let before = net.values();
    let (inv, ask) = net.redundant_invoice(4, 20_000_000, LockKind::H2tlc);
    // The request, the give-up cancel and the re-sent request are all lost: only
    // the sender's own re-sent cancel frees the parts.
    net.lose = vec!["claim_request", "cancel_payment", "claim_request"];
    net.pay_redundant(0, 4, &inv, ask, 1);
    net.now += 120_000_000;
    net.apply(
        0,
        Input::Timer {
            timer: Timer::PaymentDeadline { payment: 1 },
        },
    )
    .unwrap();
    net.run();
    assert_eq!(net.engines[0].endpoint_json()["cancels_being_resent"], 1);
    assert_eq!(net.fire_resends(), 2);
    assert_eq!(
        onion_names(&net),
        [
            "claim_request",
            "cancel_payment",
            "claim_request",
            "cancel_payment"
        ]
    );
    assert_eq!(net.engines[4].live_htlcs(), 0, "the parts failed back");
    let p = net.engines[0].payment_json(1).unwrap();
    assert_eq!(p["redundant"]["parts_in_flight"], 0, "{p}");
    // Every part is back: the next timers send nothing and set none.
    assert_eq!(net.fire_resends(), 2);
    assert_eq!(net.onions.len(), 4);
    assert!(net.resends.is_empty());
    assert_eq!(net.values(), before, "nothing moved");
    for i in [0, 4] {
        net.replayed(i);
    }
}

mod node_features;
mod policy;
