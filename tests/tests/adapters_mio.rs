//! The mio adapter over real loopback UDP.

mod adapters_common;

use adapters_common::{check_datagram, test_datagram, test_sizes};
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

mod two_peers {
    //! The two-peer scenario on two mio event loops (one thread each, one connection in each
    //! loop's endpoint): the sending side
    //! pumps messages from its event callback on `open` and `bufferedamountlow`, the
    //! receiving side checks every message in the callback.

    use super::adapters_common::scenario::message;
    use rtcpeer::endpoint::{ConnectionHandle, Endpoint};
    use rtcpeer::peer_connection::{
        ChannelId, Event, IceGatheringState, PeerConnection, RtcConfiguration,
        RtcSessionDescription,
    };
    use rtcpeer_mio::{EventLoop, LoopHandle, SocketConfig};
    use std::sync::mpsc;
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    const CHUNK: usize = 60_000;
    const HIGH: usize = 1024 * 1024;

    /// Sends `total` bytes as test messages on one channel, `HIGH` bytes ahead at most.
    struct Pump {
        channel: Option<ChannelId>,
        next: u32,
        total: usize,
    }

    impl Pump {
        fn run(&mut self, pc: &mut PeerConnection) {
            let Some(id) = self.channel else { return };
            let Ok(mut ch) = pc.data_channel(id) else {
                return;
            };
            ch.set_buffered_amount_low_threshold(HIGH / 4);
            while (self.next as usize) * CHUNK < self.total && ch.buffered_amount() < HIGH {
                let len = CHUNK.min(self.total - self.next as usize * CHUNK).max(4);
                ch.send_binary(message(self.next, len))
                    .expect("send on an open channel");
                self.next += 1;
            }
        }
    }

    /// Checks the incoming test messages of one channel and reports the byte count once
    /// `total` bytes arrived.
    struct Check {
        next: u32,
        received: usize,
        total: usize,
        done: mpsc::Sender<(&'static str, usize)>,
        side: &'static str,
    }

    impl Check {
        fn message(&mut self, data: &[u8]) {
            let len = CHUNK.min(self.total - self.next as usize * CHUNK).max(4);
            assert_eq!(data, &message(self.next, len)[..], "message {}", self.next);
            self.next += 1;
            self.received += data.len();
            if self.received == self.total {
                self.done
                    .send((self.side, self.received))
                    .expect("test waits");
            }
        }
    }

    struct Side {
        connection: ConnectionHandle,
        handle: LoopHandle,
        thread: JoinHandle<std::io::Result<()>>,
    }

    fn label_of(pc: &mut PeerConnection, id: ChannelId) -> Option<String> {
        Some(pc.data_channel(id).ok()?.label().to_owned())
    }

    /// Starts a loop whose callback pumps `send_total` bytes on the channel it opens
    /// (`from-a` at once for the offerer; `from-b` when the peer's channel arrives for the
    /// answerer) and checks `recv_total` bytes on the peer's channel.
    fn start(
        side: &'static str,
        offerer: bool,
        send_total: usize,
        recv_total: usize,
        descriptions: mpsc::Sender<RtcSessionDescription>,
        done: mpsc::Sender<(&'static str, usize)>,
    ) -> Side {
        let own_label = if offerer { "from-a" } else { "from-b" };
        let mut pump = Pump {
            channel: None,
            next: 0,
            total: send_total,
        };
        let mut check = Check {
            next: 0,
            received: 0,
            total: recv_total,
            done,
            side,
        };
        let mut created = offerer;
        let mut event_loop = EventLoop::new(
            &SocketConfig::loopback(),
            move |ep: &mut Endpoint, h: ConnectionHandle, event: Event| {
                let pc = ep
                    .peer_connection(h)
                    .expect("events come from live connections");
                match event {
                    Event::IceGatheringStateChange(IceGatheringState::Complete) => {
                        let desc = pc.local_description().expect("set before gathering");
                        descriptions.send(desc).expect("test waits");
                    }
                    Event::DataChannel(_) if !created => {
                        created = true;
                        pc.create_data_channel(own_label, Default::default())
                            .expect("channel");
                    }
                    Event::ChannelOpen(id) if label_of(pc, id).as_deref() == Some(own_label) => {
                        pump.channel = Some(id);
                        pump.run(pc);
                    }
                    Event::ChannelBufferedAmountLow(id) if pump.channel == Some(id) => pump.run(pc),
                    Event::ChannelMessage { data, .. } => check.message(&data),
                    _ => {}
                }
            },
        )
        .expect("event loop on 127.0.0.1");
        let ep = event_loop.endpoint();
        let connection = ep
            .add_peer_connection(RtcConfiguration::default(), Instant::now())
            .expect("connection");
        if offerer {
            let pc = ep.peer_connection(connection).expect("just added");
            pc.create_data_channel(own_label, Default::default())
                .expect("channel");
            let offer = pc.create_offer().expect("offer");
            pc.set_local_description(offer).expect("local offer");
        }
        let handle = event_loop.handle();
        let thread = std::thread::spawn(move || event_loop.run());
        Side {
            connection,
            handle,
            thread,
        }
    }

    #[test]
    fn mio_two_peers_connect_open_channels_transfer_and_close() {
        const BIG: usize = 8 * 1024 * 1024;
        const SMALL: usize = 1024 * 1024;
        let (desc_a_tx, desc_a) = mpsc::channel();
        let (desc_b_tx, desc_b) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        let a = start("a", true, BIG, SMALL, desc_a_tx, done_tx.clone());
        let b = start("b", false, SMALL, BIG, desc_b_tx, done_tx);
        let (a_conn, b_conn) = (a.connection, b.connection);
        let wait = Duration::from_secs(30);
        let offer = desc_a.recv_timeout(wait).expect("offer after gathering");
        assert!(
            offer.sdp.contains("127.0.0.1"),
            "host candidate in the offer"
        );
        b.handle
            .execute(move |ep| {
                let pc = ep.peer_connection(b_conn).expect("b's connection");
                pc.set_remote_description(offer).expect("remote offer");
                let answer = pc.create_answer().expect("answer");
                pc.set_local_description(answer).expect("local answer");
            })
            .expect("loop b runs");
        let answer = desc_b.recv_timeout(wait).expect("answer after gathering");
        a.handle
            .execute(move |ep| {
                let pc = ep.peer_connection(a_conn).expect("a's connection");
                pc.set_remote_description(answer).expect("remote answer");
            })
            .expect("loop a runs");
        let mut results = vec![
            done.recv_timeout(Duration::from_secs(120))
                .expect("transfer completes"),
            done.recv_timeout(Duration::from_secs(120))
                .expect("transfer completes"),
        ];
        results.sort();
        assert_eq!(results, vec![("a", SMALL), ("b", BIG)]);
        for side in [a, b] {
            side.handle.close().expect("loop still runs");
            side.thread
                .join()
                .expect("loop thread")
                .expect("loop ends cleanly");
        }
    }
}
