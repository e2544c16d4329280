//! Three transports in one process over loopback TCP, in a line s – m – r: an
//! endpoint message from r reaches s as an onion message forwarded by m, with a
//! blinded reply path; s answers along that path although it cannot route to r by
//! node id; an answer for another payment over the same path is dropped; and a send
//! with no path at all is refused and counted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bitcoin::secp256k1::PublicKey;
use flotilla_ln::wire::{ClaimRequest, Message, RevealSecrets};
use flotilla_node::features::Capabilities;
use flotilla_node::identity;
use flotilla_node::transport::onion_route::{publish, Topology};
use flotilla_node::transport::{Channels, Transport};
use tokio::net::TcpListener;

async fn node(
    dir: &std::path::Path,
) -> (Arc<Transport>, Channels, std::net::SocketAddr, PublicKey) {
    let id = identity::load_or_create(dir).unwrap();
    let (t, ch) = Transport::new(id.keys.clone(), Capabilities::default());
    let t = Arc::new(t);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(t.clone().accept_loop(listener));
    (t, ch, addr, id.node_id)
}

async fn connected(a: &Transport, b: PublicKey) {
    let t0 = Instant::now();
    while !a.is_connected(&b) {
        assert!(t0.elapsed() < Duration::from_secs(10), "no connection");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_message_crosses_a_forwarder_and_is_answered_along_its_reply_path() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let (s, mut chs, _, s_id) = node(dirs[0].path()).await;
    let (m, _chm, m_addr, m_id) = node(dirs[1].path()).await;
    let (r, mut chr, r_addr, r_id) = node(dirs[2].path()).await;
    s.connect(m_id, m_addr).await.unwrap();
    m.connect(r_id, r_addr).await.unwrap();
    connected(&m, s_id).await;
    connected(&r, m_id).await;
    // Bit 39 in every init.
    let f = r.peer_features(&m_id).unwrap();
    assert!(f.supports_onion_messages());
    // r knows the whole line; s knows only its own channel, so it cannot route to
    // r's node id: an answer can reach r only along r's reply path.
    publish(
        &r.topology,
        Topology::from_channels([(1, s_id, m_id), (2, m_id, r_id)]),
    );
    publish(&s.topology, Topology::from_channels([(1, s_id, m_id)]));

    let claim = Message::ClaimRequest(ClaimRequest {
        payment_id: [5; 32],
        parts: vec![(0, 1000), (1, 1000)],
    });
    r.send_onion(s_id, claim.clone(), None);
    let got = tokio::time::timeout(Duration::from_secs(10), chs.onion.recv())
        .await
        .expect("the claim request within 10 s")
        .unwrap();
    assert_eq!(got.message, claim);
    let reply = got.reply.expect("a claim request carries a reply path");

    let reveal = |id: u8| {
        Message::RevealSecrets(RevealSecrets {
            payment_id: [id; 32],
            secrets: vec![(1, [9; 32])],
        })
    };
    s.send_onion(r_id, reveal(5), Some(&reply));
    let back = tokio::time::timeout(Duration::from_secs(10), chr.onion.recv())
        .await
        .expect("the reveal within 10 s")
        .unwrap();
    assert_eq!(back.message, reveal(5));
    assert!(back.reply.is_none());

    // The same reply path for another payment: delivered, but dropped at r.
    s.send_onion(r_id, reveal(6), Some(&reply));
    // Without a reply path, s has no route to r: refused and counted.
    s.send_onion(r_id, reveal(5), None);
    let t0 = Instant::now();
    while r.onion_stats().dropped == 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "{:?}",
            r.onion_stats()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(chr.onion.try_recv().is_err());
    let ss = s.onion_stats();
    assert_eq!(ss.sent.get("reveal_secrets"), Some(&2), "{ss:?}");
    assert_eq!(ss.send_failed, 1, "{ss:?}");
    assert_eq!(ss.received.get("claim_request"), Some(&1), "{ss:?}");
    // m forwarded and received nothing itself; s and r never connected.
    assert!(m.onion_stats().received.is_empty());
    assert!(!r.is_connected(&s_id) && !s.is_connected(&r_id));
}
