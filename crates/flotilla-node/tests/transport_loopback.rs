//! Two transports in one process over loopback TCP: flotilla messages sent through
//! `Transport::send` arrive decoded, complete and in order at the other node's inbox,
//! both ways; and how many per second one connection carries (printed; run with
//! `--nocapture` to see it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use flotilla_ln::wire::{ChannelId, Message, UpdateFulfillHtlc};
use flotilla_node::features::Capabilities;
use flotilla_node::identity;
use flotilla_node::transport::{Channels, Transport};
use tokio::net::TcpListener;

async fn node(
    dir: &std::path::Path,
) -> (
    Arc<Transport>,
    Channels,
    std::net::SocketAddr,
    bitcoin::secp256k1::PublicKey,
) {
    let id = identity::load_or_create(dir).unwrap();
    let (t, ch) = Transport::new(id.keys.clone(), Capabilities::default());
    let t = Arc::new(t);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(t.clone().accept_loop(listener));
    (t, ch, addr, id.node_id)
}

fn fulfill(i: u64) -> Message {
    Message::UpdateFulfillHtlc(UpdateFulfillHtlc {
        channel_id: ChannelId([7; 32]),
        id: i,
        payment_preimage: flotilla_ln::PaymentPreimage([i as u8; 32]),
        sender_secret: None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_arrive_in_order_both_ways_and_the_rate_is_measured() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, mut cha, _, a_id) = node(da.path()).await;
    let (b, mut chb, b_addr, b_id) = node(db.path()).await;
    a.connect(b_id, b_addr).await.unwrap();
    let t0 = Instant::now();
    while !b.is_connected(&a_id) {
        assert!(t0.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    const N: u64 = 20_000;
    let start = Instant::now();
    let sender = {
        let a = a.clone();
        tokio::spawn(async move {
            for i in 0..N {
                a.send(b_id, fulfill(i));
                // Let the socket drain now and then, as a real engine would between
                // handler calls.
                if i % 256 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    for i in 0..N {
        let m = tokio::time::timeout(Duration::from_secs(20), chb.inbox.recv())
            .await
            .expect("message within 20 s")
            .unwrap();
        assert_eq!(m.from, a_id);
        assert_eq!(m.message, fulfill(i), "message {i} in order");
    }
    sender.await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{N} update_fulfill_htlc (tunnelled, 75 bytes each) over one BOLT 8 connection: {secs:.3} s, {:.0} msg/s",
        N as f64 / secs
    );

    // And back.
    for i in 0..100 {
        b.send(a_id, fulfill(i));
    }
    for i in 0..100 {
        let m = tokio::time::timeout(Duration::from_secs(10), cha.inbox.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((m.from, m.message), (b_id, fulfill(i)));
    }
    assert_eq!(
        b.messages.stats().received.get("update_fulfill_htlc"),
        Some(&N)
    );
    assert_eq!(b.messages.stats().malformed, 0);
}
