//! Test bodies shared by the adapter tests, over real loopback UDP (127.0.0.1 only).
//!
//! - this file: socket, timer and spawn checks on the async runtime trait (`Arc<dyn Runtime>`);
//! - [`scenario`]: the end-to-end scenario tokio, smol and mio all run from one body, over
//!   the adapter traits of [`peer`] (async adapters) and [`mio_peer`] (mio event loops);
//! - [`stress`]: shared scenarios under stress (garbage, slow reader, echo), all three too;
//! - [`async_only`]: scenarios that need the async handles' extra features;
//! - [`server`]: many connections on one async endpoint socket, a shared certificate;
//! - [`w3c`]: the W3C `RTCDataChannel` checklist and the 16 MiB send-all-then-read-the-echo
//!   program, all three adapters.

#![allow(dead_code)] // each adapter test file uses a subset

pub mod async_only;
pub mod executor;
pub mod mio_peer;
pub mod peer;
pub mod scenario;
pub mod server;
pub mod stress;
pub mod w3c;

use rtcpeer::Transmit;
use rtcpeer::runtime::{AsyncUdpSocket, RecvBatch, Runtime, SocketConfig};
use std::collections::BTreeSet;
use std::future::poll_fn;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Datagram `index` of a test stream: its index, then a byte pattern derived from it, so
/// that truncation, reordering inside a GSO run and mixing up are all detected.
pub fn test_datagram(index: u32, len: usize) -> Vec<u8> {
    let mut out = index.to_be_bytes().to_vec();
    out.extend((0..len.saturating_sub(4)).map(|i| (index as usize * 31 + i) as u8));
    out
}

/// The index of a datagram made by [`test_datagram`], if its bytes are intact.
pub fn check_datagram(payload: &[u8]) -> Option<u32> {
    let index = u32::from_be_bytes(payload.get(..4)?.try_into().ok()?);
    (test_datagram(index, payload.len()) == payload).then_some(index)
}

/// Sizes that exercise GSO coalescing (runs of equal sizes, short tails) and plain sends.
pub fn test_sizes(count: u32) -> Vec<usize> {
    (0..count)
        .map(|i| match i % 100 {
            0..40 => 1200,
            40..45 => 700,
            45..80 => 4 + (i as usize * 37) % 1400,
            _ => 500,
        })
        .collect()
}

pub async fn sleep(rt: &dyn Runtime, duration: Duration) {
    let mut timer = rt.new_timer(rt.now() + duration);
    poll_fn(|cx| timer.as_mut().poll(cx)).await;
}

pub fn bind_one(rt: &dyn Runtime) -> Arc<dyn AsyncUdpSocket> {
    let mut sockets = rt.bind(&SocketConfig::loopback()).expect("bind 127.0.0.1");
    assert_eq!(sockets.len(), 1, "one address configured, one socket");
    sockets.pop().expect("length checked")
}

pub async fn send_all(socket: &dyn AsyncUdpSocket, transmits: &[Transmit]) {
    let mut done = 0;
    while done < transmits.len() {
        let n = poll_fn(|cx| socket.poll_send(cx, &transmits[done..]))
            .await
            .expect("send on loopback");
        assert!(n >= 1, "poll_send consumes at least one transmit");
        done += n;
    }
}

/// Receives until `expected` distinct intact test datagrams arrived or `deadline` passed;
/// returns the indices seen. Asserts addressing on every datagram.
pub async fn receive(
    rt: &dyn Runtime,
    socket: &dyn AsyncUdpSocket,
    from: SocketAddr,
    expected: usize,
) -> BTreeSet<u32> {
    let (slots, slot_len) = socket.recv_batch_shape();
    let mut batch = RecvBatch::new(slots, slot_len);
    let mut seen = BTreeSet::new();
    let mut timeout = rt.new_timer(rt.now() + Duration::from_secs(10));
    while seen.len() < expected {
        let got = poll_fn(|cx| {
            if timeout.as_mut().poll(cx).is_ready() {
                return std::task::Poll::Ready(false);
            }
            socket.poll_recv(cx, &mut batch).map(|r| {
                r.expect("receive on loopback");
                true
            })
        })
        .await;
        if !got {
            break;
        }
        for d in batch.datagrams() {
            assert_eq!(d.source, from);
            assert_eq!(d.destination, socket.local_addr());
            let index = check_datagram(d.payload).expect("datagram arrives intact");
            assert!(seen.insert(index), "datagram {index} delivered twice");
        }
    }
    seen
}

/// Sends `count` test datagrams from one loopback socket to another in bursts, with a
/// receiver running concurrently on the runtime, and checks every one arrived intact.
pub async fn exchange_over_loopback(rt: Arc<dyn Runtime>, count: u32) {
    let a = bind_one(&*rt);
    let b = bind_one(&*rt);
    assert_eq!(a.local_addr().ip(), LOOPBACK);
    assert_ne!(a.local_addr().port(), 0);
    assert_ne!(a.local_addr(), b.local_addr());
    let transmits: Vec<Transmit> = test_sizes(count)
        .into_iter()
        .enumerate()
        .map(|(i, len)| Transmit {
            source: a.local_addr(),
            destination: b.local_addr(),
            payload: test_datagram(i as u32, len),
        })
        .collect();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let (rt2, b2, from) = (rt.clone(), b.clone(), a.local_addr());
    rt.spawn(Box::pin(async move {
        let seen = receive(&*rt2, &*b2, from, count as usize).await;
        done_tx.send(seen).expect("test waits for the receiver");
    }));
    for burst in transmits.chunks(50) {
        send_all(&*a, burst).await;
        sleep(&*rt, Duration::from_millis(2)).await;
    }
    let seen = wait_for(&*rt, &done_rx).await;
    assert_eq!(seen, (0..count).collect::<BTreeSet<u32>>());
}

/// Waits (without blocking the runtime) for a value on `rx`, for at most 15 s.
pub async fn wait_for<T>(rt: &dyn Runtime, rx: &std::sync::mpsc::Receiver<T>) -> T {
    for _ in 0..15_000 {
        if let Ok(v) = rx.try_recv() {
            return v;
        }
        sleep(rt, Duration::from_millis(1)).await;
    }
    panic!("timed out waiting for a spawned task");
}

pub async fn timer_fires_at_reset_deadline(rt: Arc<dyn Runtime>) {
    let t0 = rt.now();
    let mut timer = rt.new_timer(t0 + Duration::from_millis(10));
    timer.as_mut().reset(t0 + Duration::from_millis(60));
    poll_fn(|cx| timer.as_mut().poll(cx)).await;
    let elapsed = rt.now() - t0;
    assert!(
        elapsed >= Duration::from_millis(60),
        "fired after {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(5), "fired after {elapsed:?}");
    // Reset into the past: ready at once.
    timer.as_mut().reset(t0);
    poll_fn(|cx| timer.as_mut().poll(cx)).await;
}

pub async fn spawned_task_runs(rt: Arc<dyn Runtime>) {
    let flag = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let (rt2, flag2) = (rt.clone(), flag.clone());
    rt.spawn(Box::pin(async move {
        sleep(&*rt2, Duration::from_millis(5)).await;
        flag2.store(true, Ordering::SeqCst);
        tx.send(()).expect("test waits");
    }));
    wait_for(&*rt, &rx).await;
    assert!(flag.load(Ordering::SeqCst));
}

pub async fn resolves_literals_and_localhost(rt: Arc<dyn Runtime>) {
    let literal = rt.resolve("127.0.0.1".into(), 3478).await.expect("literal");
    assert_eq!(literal, vec![SocketAddr::from(([127, 0, 0, 1], 3478))]);
    let local = rt.resolve("localhost".into(), 80).await.expect("localhost");
    assert!(!local.is_empty());
    assert!(local.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
    let bad = rt.resolve("no such host.invalid".into(), 1).await;
    assert!(bad.is_err() || bad.is_ok_and(|v| v.is_empty()));
}

pub fn seeds_differ(rt: Arc<dyn Runtime>) {
    let (s1, s2) = (rt.seed(), rt.seed());
    assert_ne!(s1, s2);
    assert_ne!(s1, [0; 32]);
}

pub fn bind_rejects_wildcard_address(rt: Arc<dyn Runtime>) {
    let config = SocketConfig::with_addresses([IpAddr::V4(Ipv4Addr::UNSPECIFIED)]);
    let err = rt.bind(&config).expect_err("0.0.0.0 is no host candidate");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

pub fn bind_fails_when_no_address_qualifies(rt: Arc<dyn Runtime>) {
    let config = SocketConfig::with_addresses([]);
    let err = rt.bind(&config).expect_err("nothing to bind");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrNotAvailable);
}
