//! The mio adapter over real loopback UDP.

mod adapters_common;

use adapters_common::{check_datagram, executor, mio_peer, test_datagram, test_sizes};
use rtcpeer::Transmit;
use rtcpeer_mio::mio::{Events, Interest, Poll, Token};
use rtcpeer_mio::{MioUdpSocket, SocketConfig};
use std::collections::BTreeSet;
use std::time::Duration;

fn bind_one() -> MioUdpSocket {
    let mut sockets = MioUdpSocket::bind_all(&SocketConfig::loopback()).expect("bind 127.0.0.1");
    assert_eq!(sockets.len(), 1);
    sockets.pop().expect("length checked")
}

/// Drains every queued datagram of `socket` into `seen`, checking each.
fn drain(socket: &mut MioUdpSocket, from: std::net::SocketAddr, seen: &mut BTreeSet<u32>) {
    let local = socket.local_addr();
    while let Some(batch) = socket.recv().expect("receive on loopback") {
        for d in batch.datagrams() {
            assert_eq!((d.source, d.destination), (from, local));
            let index = check_datagram(d.payload).expect("datagram arrives intact");
            assert!(seen.insert(index), "datagram {index} delivered twice");
        }
    }
}

#[test]
fn mio_sockets_exchange_batches_over_loopback() {
    let a = bind_one();
    let mut b = bind_one();
    let mut poll = Poll::new().expect("poll");
    poll.registry()
        .register(b.source(), Token(1), Interest::READABLE)
        .expect("register");
    let transmits: Vec<Transmit> = test_sizes(1000)
        .into_iter()
        .enumerate()
        .map(|(i, len)| Transmit {
            source: a.local_addr(),
            destination: b.local_addr(),
            payload: test_datagram(i as u32, len),
        })
        .collect();
    let mut seen = BTreeSet::new();
    let mut events = Events::with_capacity(8);
    for burst in transmits.chunks(50) {
        assert_eq!(a.send_all(burst).expect("send"), burst.len());
        poll.poll(&mut events, Some(Duration::from_millis(2)))
            .expect("poll");
        drain(&mut b, a.local_addr(), &mut seen);
    }
    for _ in 0..1000 {
        if seen.len() == transmits.len() {
            break;
        }
        poll.poll(&mut events, Some(Duration::from_millis(10)))
            .expect("poll");
        drain(&mut b, a.local_addr(), &mut seen);
    }
    assert_eq!(seen, (0..1000).collect::<BTreeSet<u32>>());
}

#[test]
fn mio_recv_reports_nothing_queued_as_none() {
    let mut a = bind_one();
    assert!(a.recv().expect("receive").is_none());
}

/// The scenario body tokio and smol run too, on two mio event loops.
#[test]
fn mio_two_peers_connect_open_channels_transfer_and_close() {
    executor::block_on(adapters_common::scenario::two_peers_transfer(
        &mio_peer::MioAdapter,
    ));
}

#[test]
fn mio_transfer_survives_garbage_datagrams() {
    executor::block_on(adapters_common::stress::transfer_survives_garbage(
        &mio_peer::MioAdapter,
    ));
}

#[test]
fn mio_slow_reader_pauses_and_resumes() {
    executor::block_on(adapters_common::stress::slow_reader_pauses_and_resumes(
        &mio_peer::MioAdapter,
    ));
}

#[test]
fn mio_echo_under_back_pressure_completes() {
    executor::block_on(adapters_common::stress::echo_under_back_pressure_completes(
        &mio_peer::MioAdapter,
    ));
}

/// The one-task executor the mio scenarios run on wakes for its timers.
#[test]
fn mio_executor_sleeps_until_the_deadline() {
    let started = std::time::Instant::now();
    executor::block_on(async {
        executor::Sleep::new(Duration::from_millis(60)).await;
        executor::Sleep::new(Duration::from_millis(1)).await;
    });
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(61),
        "woke after {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(5), "woke after {elapsed:?}");
}

/// W3C semantics on mio: a channel's `close()` delivers what was queued first.
#[test]
fn mio_channel_close_delivers_queued_data() {
    executor::block_on(adapters_common::scenario::close_delivers_queued_data(
        &mio_peer::MioAdapter,
    ));
}
