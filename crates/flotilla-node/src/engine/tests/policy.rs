//! Each node's own policy and channel parameters: chosen at open, changed by
//! `set-policy`, announced, and enforced by the node that set them.

use flotilla_ln::config::ChannelParams;

use super::*;
use crate::engine::gossip::{ordered, Announcement};
use crate::engine::policy::{OpenParams, OwnPolicy};

impl Net {
    /// Opens channel `id` between `a` and `b` with each side's policy and parameters.
    fn open_with(
        &mut self,
        (a, b, id, cap_sat): (usize, usize, u8, u64),
        policies: [OwnPolicy; 2],
        params: [ChannelParams; 2],
    ) {
        for (side, (me, peer, local, remote)) in
            [(a, b, cap_sat * 1000, 0), (b, a, 0, cap_sat * 1000)]
                .into_iter()
                .enumerate()
        {
            let peer = self.keys[peer];
            self.apply(
                me,
                Input::Open {
                    channel_id: [id; 32],
                    peer,
                    capacity_sat: cap_sat,
                    local_msat: local,
                    remote_msat: remote,
                    policy: Some(policies[side]),
                    params: Some(OpenParams {
                        local: params[side],
                        remote: params[1 - side],
                    }),
                },
            )
            .unwrap();
        }
        self.run();
    }

    fn set_policy(&mut self, at: usize, id: u8, policy: OwnPolicy) -> Result<(), CommandError> {
        self.apply(
            at,
            Input::SetPolicy {
                channel_id: [id; 32],
                policy,
            },
        )
    }
}

/// Node `at`'s policy for its direction of channel `id` as `channels --json` shows it.
fn local_policy(net: &Net, at: usize, id: u8) -> serde_json::Value {
    let cid = hex(&[id; 32]);
    net.engines[at]
        .channels_json()
        .into_iter()
        .find(|c| c["channel_id"] == cid.as_str())
        .map(|c| c["local_policy"].clone())
        .unwrap()
}

/// The policy node `who` is known by `at` to announce for channel `id`.
fn known_policy(net: &Net, at: usize, who: usize, id: u8) -> Policy {
    let g = net.engines[at].graph();
    let c = g.channel_of(&[id; 32]).unwrap();
    let ch = g.directory().graph().channel(c);
    let w = g.node_of(&net.keys[who]).unwrap();
    let dir = usize::from(ch.nodes[1] == w);
    ch.policies[dir].unwrap()
}

#[test]
fn each_end_announces_its_own_policy_from_the_open() {
    let mut net = Net::new(3);
    let a = OwnPolicy {
        fee_base_msat: 7,
        fee_rate_ppm: 300,
        ..OwnPolicy::default()
    };
    let b = OwnPolicy {
        fee_base_msat: 0,
        fee_rate_ppm: 2500,
        cltv_expiry_delta: 144,
        htlc_minimum_msat: 1000,
        htlc_maximum_msat: Some(400_000_000),
    };
    let params = [ChannelParams::default(); 2];
    // Node 1 funds channel 1 (so it can forward 2 → 0), node 2 funds channel 2.
    net.open_with((1, 0, 1, 1_000_000), [b, a], params);
    net.open(2, 1, 2, 1_000_000);
    // Every node, the third one by gossip, knows each direction's own policy.
    for at in 0..3 {
        let p0 = known_policy(&net, at, 0, 1);
        let p1 = known_policy(&net, at, 1, 1);
        assert_eq!((p0.fee_base_msat, p0.fee_rate_ppm), (7, 300), "at {at}");
        assert_eq!(
            (p1.fee_rate_ppm, p1.cltv_expiry_delta, p1.htlc_minimum_msat),
            (2500, 144, 1000),
            "at {at}"
        );
        assert_eq!(p1.htlc_maximum_msat, 400_000_000);
        assert_eq!(p0.htlc_maximum_msat, 1_000_000_000, "capacity by default");
    }
    assert_eq!(local_policy(&net, 1, 1)["fee_rate_ppm"], 2500);
    // A payment from 2 to 0 through 1 pays 1's policy on channel 1 exactly.
    let keys = net.invoice(0, 10_000_000);
    net.pay(2, 0, &keys, 10_000_000, 1);
    let p = net.engines[2].payment_json(1).unwrap();
    assert_eq!(p["status"], "succeeded", "{p}");
    let parts = p["parts_settled"].as_u64().unwrap();
    assert_eq!(parts, 1, "{p}");
    assert_eq!(p["fee_msat"], 10_000_000u64 * 2500 / 1_000_000, "{p}");
    // A policy that does not fit the channel is refused at open.
    let mut bad = Net::new(2);
    let too_big = OwnPolicy {
        htlc_maximum_msat: Some(2_000_000_000),
        ..OwnPolicy::default()
    };
    let r = bad.apply(
        0,
        Input::Open {
            channel_id: [1; 32],
            peer: bad.keys[1],
            capacity_sat: 1_000_000,
            local_msat: 1_000_000_000,
            remote_msat: 0,
            policy: Some(too_big),
            params: None,
        },
    );
    assert!(
        r.unwrap_err().to_string().contains("htlc_maximum_msat"),
        "refused, naming the field"
    );
    net.replayed(1);
}

#[test]
fn forwarding_enforces_the_nodes_own_policy_and_set_policy_announces_it() {
    let mut net = Net::new(3);
    net.open(0, 1, 1, 1_000_000);
    net.open(1, 2, 2, 1_000_000);
    let old = known_policy(&net, 0, 1, 2);
    // Node 1 raises its fee on 1→2; the announcement is lost, so node 0 pays the old
    // fee: node 1 refuses the forward with fee_insufficient, node 2 gets nothing.
    let dear = OwnPolicy {
        fee_base_msat: 5000,
        fee_rate_ppm: 1000,
        ..OwnPolicy::default()
    };
    net.set_policy(1, 2, dear).unwrap();
    net.queue.clear();
    assert_eq!(
        known_policy(&net, 0, 1, 2),
        old,
        "node 0 did not hear of it"
    );
    assert_eq!(local_policy(&net, 1, 2)["fee_base_msat"], 5000);
    let before = net.engines[2].channels_json();
    let keys = net.invoice(2, 10_000_000);
    net.pay(0, 2, &keys, 10_000_000, 1);
    let p = net.engines[0].payment_json(1).unwrap();
    assert_eq!(p["status"], "failed", "{p}");
    assert!(
        p["failure_codes"]["fee_insufficient"].as_u64() >= Some(1),
        "{p}"
    );
    assert_eq!(net.engines[2].channels_json(), before);
    // Announced again (newer timestamp): node 0 learns it, pays the new fee.
    let t_before = known_policy(&net, 1, 1, 2).last_update;
    net.set_policy(1, 2, dear).unwrap();
    net.run();
    let new = known_policy(&net, 0, 1, 2);
    assert_eq!((new.fee_base_msat, new.fee_rate_ppm), (5000, 1000));
    assert!(new.last_update > t_before, "a newer timestamp every time");
    let keys = net.invoice(2, 10_000_000);
    net.pay(0, 2, &keys, 10_000_000, 2);
    let p = net.engines[0].payment_json(2).unwrap();
    assert_eq!(p["status"], "succeeded", "{p}");
    let parts = p["parts_settled"].as_u64().unwrap();
    assert_eq!(p["fee_msat"], parts * 5000 + 10_000, "{p}");
    // A minimum above the amount, not yet heard of: amount_below_minimum.
    let picky = OwnPolicy {
        htlc_minimum_msat: 50_000_000,
        ..dear
    };
    net.set_policy(1, 2, picky).unwrap();
    net.queue.clear();
    let keys = net.invoice(2, 10_000_000);
    net.pay(0, 2, &keys, 10_000_000, 3);
    let p = net.engines[0].payment_json(3).unwrap();
    assert_eq!(p["status"], "failed", "{p}");
    assert!(
        p["failure_codes"]["amount_below_minimum"].as_u64() >= Some(1),
        "{p}"
    );
    // Refusals: not our channel, no such channel, a policy that does not fit.
    for (at, id, pol, why) in [
        (0, 2, dear, "no channel"),
        (1, 9, dear, "no channel"),
        (
            1,
            2,
            OwnPolicy {
                cltv_expiry_delta: 0,
                ..dear
            },
            "cltv_expiry_delta",
        ),
        (
            1,
            2,
            OwnPolicy {
                htlc_maximum_msat: Some(1_000_000_001),
                ..dear
            },
            "htlc_maximum_msat",
        ),
    ] {
        let e = net.set_policy(at, id, pol).unwrap_err().to_string();
        assert!(e.contains(why), "{e}");
    }
    for e in &net.engines {
        e.check().unwrap();
        assert_eq!(e.live_htlcs(), 0);
    }
    net.replayed(1);
}

#[test]
fn an_older_announcement_does_not_replace_a_newer_one() {
    let mut net = Net::new(3);
    net.open(0, 1, 1, 1_000_000);
    net.open(1, 2, 2, 1_000_000);
    let secret1 = SecretKey::from_slice(&[2; 32]).unwrap();
    let current = known_policy(&net, 0, 1, 2);
    let nodes = ordered(net.keys[1], net.keys[2]);
    let old = Announcement {
        channel_id: [2; 32],
        nodes,
        capacity_sat: 1_000_000,
        direction: u8::from(nodes[1] == net.keys[1]),
        policy: Policy {
            fee_base_msat: 1,
            last_update: current.last_update - 1,
            ..current
        },
    };
    let n = net.queue.len();
    net.apply(
        0,
        Input::Announce {
            from: Some(net.keys[1]),
            bytes: old.sign(&secret1),
        },
    )
    .unwrap();
    assert_eq!(known_policy(&net, 0, 1, 2), current);
    assert_eq!(net.queue.len(), n, "not relayed");
    // Signed by another key: warned, ignored.
    let forged = Announcement {
        policy: Policy {
            last_update: current.last_update + 10,
            ..old.policy
        },
        ..old
    };
    net.apply(
        0,
        Input::Announce {
            from: Some(net.keys[1]),
            bytes: forged.sign(&SecretKey::from_slice(&[1; 32]).unwrap()),
        },
    )
    .unwrap();
    assert_eq!(known_policy(&net, 0, 1, 2), current);
    assert!(net
        .warnings
        .iter()
        .any(|(i, w)| *i == 0 && w.contains("signature")));
}

#[test]
fn each_side_enforces_the_parameters_it_set_for_the_channel() {
    let mut net = Net::new(2);
    // Node 1 asks HTLCs of at least 5,000 msat on this channel; node 0 believes (as a
    // peer that ignores it would) that the defaults hold.
    let strict = ChannelParams {
        htlc_minimum_msat: 5000,
        max_accepted_htlcs: 2,
        ..ChannelParams::default()
    };
    for (me, peer, local, remote, params) in [
        (
            0,
            1,
            1_000_000_000,
            0,
            OpenParams {
                local: ChannelParams::default(),
                remote: ChannelParams::default(),
            },
        ),
        (
            1,
            0,
            0,
            1_000_000_000,
            OpenParams {
                local: strict,
                remote: ChannelParams::default(),
            },
        ),
    ] {
        let peer = net.keys[peer];
        net.apply(
            me,
            Input::Open {
                channel_id: [1; 32],
                peer,
                capacity_sat: 1_000_000,
                local_msat: local,
                remote_msat: remote,
                policy: None,
                params: Some(params),
            },
        )
        .unwrap();
    }
    net.run();
    assert_eq!(
        net.engines[1].channels_json()[0]["local_params"]["htlc_minimum_msat"],
        5000
    );
    let before: Vec<_> = net.engines.iter().map(|e| e.channels_json()).collect();
    let keys = net.invoice(1, 1000);
    net.pay(0, 1, &keys, 1000, 1);
    assert!(
        net.warnings
            .iter()
            .any(|(i, w)| *i == 1 && w.contains("5000")),
        "node 1 refused the 1,000 msat add: {:?}",
        net.warnings
    );
    assert_eq!(
        net.engines[1].channels_json()[0]["local_msat"],
        before[1][0]["local_msat"]
    );
    net.engines[1].check().unwrap();
    // With the parameters told (as the open exchange does), node 0 keeps to them and
    // does not offer the add at all.
    let mut net = Net::new(2);
    net.open_with(
        (0, 1, 1, 1_000_000),
        [OwnPolicy::default(); 2],
        [ChannelParams::default(), strict],
    );
    let keys = net.invoice(1, 1000);
    net.pay(0, 1, &keys, 1000, 1);
    let p = net.engines[0].payment_json(1).unwrap();
    assert_eq!(p["status"], "failed", "{p}");
    assert_eq!(p["parts_sent"], 0, "{p}");
    assert!(net.warnings.is_empty(), "{:?}", net.warnings);
    net.replayed(0);
    net.replayed(1);
}
