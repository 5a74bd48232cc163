//! Shared scenarios under stress, run by every adapter from these bodies (tokio, smol,
//! mio): garbage datagrams during a transfer, a reader that stops reading for a while, an
//! echo that holds more than it has read.

use super::peer::{Adapter, Channel, Peer};
use super::scenario::{connect, recv_stream, send_stream, transfer_both_ways, within};
use futures_lite::future::zip;
use rtcpeer::peer_connection::PeerConnectionState;
use rtcpeer::runtime::Message;
use std::net::SocketAddr;
use std::time::Duration;

/// Sprays `count` random datagrams (random lengths 1..=1500, every first-byte range of
/// RFC 7983 covered) from a fresh loopback socket at `targets`, from a plain thread.
pub fn spray_garbage(targets: Vec<SocketAddr>, count: usize) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let mut rng = rtcpeer::Rng::from_u64(0x06a7_ba9e);
        let mut sent = 0;
        for i in 0..count {
            let len = 1 + rng.below(1500) as usize;
            let mut datagram = vec![0u8; len];
            rng.fill(&mut datagram);
            let target = targets[i % targets.len()];
            if socket.send_to(&datagram, target).is_ok() {
                sent += 1;
            }
            if i % 100 == 99 {
                // Paced, so that the spray lasts as long as the transfer.
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        sent
    })
}

/// Connects, then runs the two-way transfer while 10,000 garbage datagrams hit both
/// peers' sockets; the transfer must complete intact and the connection stay up.
pub async fn transfer_survives_garbage<A: Adapter>(adapter: &A) {
    let c = within(adapter, 60, "connect", connect(adapter)).await;
    let targets = vec![c.socket_of_b(), c.a.local_addrs()[0]];
    let sprayer = spray_garbage(targets, 10_000);
    transfer_both_ways(adapter, &c).await;
    assert_eq!(sprayer.join().expect("sprayer thread"), 10_000);
    let (arrived, dropped) = c.b.received_and_dropped().await;
    assert!(arrived > 5_000, "garbage reached b: {arrived} datagrams");
    assert!(dropped > 0, "b dropped garbage: {dropped} datagrams");
    assert_eq!(c.a.connection_state().await, PeerConnectionState::Connected);
    c.a.close().await;
    c.b.close().await;
}

/// A reader that does not read for a while closes the SCTP receive window (its unread
/// bytes count against it), which stalls the sender; reading again reopens it and every
/// byte arrives.
pub async fn slow_reader_pauses_and_resumes<A: Adapter>(adapter: &A) {
    const TOTAL: usize = 12 * 1024 * 1024;
    let c = within(adapter, 60, "connect", connect(adapter)).await;
    let late_reader = async {
        adapter.sleep(Duration::from_millis(700)).await;
        recv_stream(&c.a_to_b.1, TOTAL, 60_000).await
    };
    let sender = send_stream(&c.a_to_b.0, TOTAL, 60_000);
    let (_, got) = within(adapter, 120, "slow reader", zip(sender, late_reader)).await;
    assert_eq!(got, TOTAL);
    c.a.close().await;
    c.b.close().await;
}

/// `b` echoes every message back on the same channel (`recv`, then `send` with
/// back-pressure) while `a` sends 32 MiB and reads the echoes concurrently. The echo
/// starts late, so `b` holds more than its unread limit while its echoes wait for `a`'s
/// acknowledgements; the transfer must still complete with every byte checked.
pub async fn echo_under_back_pressure_completes<A: Adapter>(adapter: &A) {
    const TOTAL: usize = 32 * 1024 * 1024;
    const CHUNK: usize = 64 * 1024;
    let c = within(adapter, 60, "connect", connect(adapter)).await;
    let echo = async {
        adapter.sleep(Duration::from_millis(700)).await;
        for _ in 0..TOTAL.div_ceil(CHUNK) {
            match c.a_to_b.1.recv().await {
                Some(Message::Binary(bytes)) => {
                    c.a_to_b.1.send_binary(bytes).await.expect("echo send");
                }
                other => panic!("echo got {other:?}"),
            }
        }
    };
    let sender = send_stream(&c.a_to_b.0, TOTAL, CHUNK);
    let echoes = recv_stream(&c.a_to_b.0, TOTAL, CHUNK);
    let ((_, got), ()) = within(
        adapter,
        120,
        "echoes of 32 MiB",
        zip(zip(sender, echoes), echo),
    )
    .await;
    assert_eq!(got, TOTAL);
    c.a.close().await;
    c.b.close().await;
}
