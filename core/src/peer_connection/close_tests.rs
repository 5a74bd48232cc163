//! The peer's goodbye (close_notify, SCTP ABORT, SCTP SHUTDOWN) closes the connection on
//! the datagram that carries it, with no timer involved: well under one round trip.

use super::PeerClose;
use crate::peer_connection::*;
use std::time::Duration;
use std::time::Instant;

/// One-way delay of the test link: a close must take effect within this of being sent.
const ONE_WAY: Duration = Duration::from_millis(20);

/// Two connections joined by a link of delay [`ONE_WAY`], with a virtual clock.
struct Duo {
    pcs: [PeerConnection; 2],
    events: [Vec<Event>; 2],
    /// Datagrams in flight: (arrival, to side, transmit).
    wire: Vec<(Instant, usize, crate::transmit::Transmit)>,
    now: Instant,
}

impl Duo {
    fn new() -> Self {
        let now = crate::time::test_epoch();
        let pc = |seed, addr: &str| {
            let mut pc = PeerConnection::new(RtcConfiguration::with_seed(seed), now).expect("pc");
            pc.add_local_socket(now, addr.parse().expect("addr"))
                .expect("socket");
            pc
        };
        Self {
            pcs: [pc(11, "10.0.0.1:5000"), pc(12, "10.0.0.2:5000")],
            events: [Vec::new(), Vec::new()],
            wire: Vec::new(),
            now,
        }
    }

    /// Drains both sides: transmits go on the wire, candidates to the other side.
    /// Returns the earlier of their timeouts.
    fn drain(&mut self) -> Instant {
        let mut earliest = self.now + Duration::from_secs(3600);
        for side in 0..2 {
            loop {
                match self.pcs[side].poll_output() {
                    Output::Transmit(t) => self.wire.push((self.now + ONE_WAY, 1 - side, t)),
                    Output::Event(Event::IceCandidate(c)) if !c.candidate.is_empty() => {
                        self.pcs[1 - side].add_ice_candidate(c).expect("candidate");
                    }
                    Output::Event(e) => self.events[side].push(e),
                    Output::Timeout(at) => {
                        earliest = earliest.min(at);
                        break;
                    }
                }
            }
        }
        earliest
    }

    /// Advances to the next arrival or timer, handles it, drains.
    fn step(&mut self) {
        let timer = self.drain();
        let arrival = self.wire.iter().map(|(at, ..)| *at).min();
        match arrival {
            Some(at) if at <= timer => {
                self.now = self.now.max(at);
                let (due, later) = self.wire.drain(..).partition(|(a, ..)| *a <= self.now);
                self.wire = later;
                for (_, to, t) in due {
                    let input = Input::Receive {
                        source: t.source,
                        destination: t.destination,
                        payload: &t.payload,
                    };
                    self.pcs[to].handle_input(self.now, input);
                }
            }
            _ => {
                self.now = self.now.max(timer);
                for pc in &mut self.pcs {
                    pc.handle_timeout(self.now);
                }
            }
        }
        self.drain();
    }

    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let end = self.now + limit;
        while self.now <= end {
            if done(self) {
                return true;
            }
            self.step();
        }
        done(self)
    }

    /// Offer from side 0 with one channel, answer from side 1; runs until both have the
    /// channel open. Returns side 1's id of the channel.
    fn open(&mut self) -> ChannelId {
        self.pcs[0]
            .create_data_channel("c", Default::default())
            .expect("channel");
        let offer = self.pcs[0].create_offer().expect("offer");
        self.pcs[0]
            .set_local_description(offer.clone())
            .expect("sld");
        self.pcs[1].set_remote_description(offer).expect("srd");
        let answer = self.pcs[1].create_answer().expect("answer");
        self.pcs[1]
            .set_local_description(answer.clone())
            .expect("sld");
        self.pcs[0].set_remote_description(answer).expect("srd");
        let opened = |d: &Duo, side: usize| {
            d.events[side]
                .iter()
                .any(|e| matches!(e, Event::ChannelOpen(_)))
        };
        assert!(self.run_until(Duration::from_secs(10), |d| opened(d, 0) && opened(d, 1)));
        // Both nominated, so no ICE work is pending when the goodbye arrives.
        assert!(self.run_until(Duration::from_secs(10), |d| {
            d.pcs.iter().all(|pc| pc.selected_pair().is_some())
        }));
        self.events[1]
            .iter()
            .find_map(|e| match e {
                Event::DataChannel(id) => Some(*id),
                _ => None,
            })
            .expect("incoming channel")
    }

    /// Runs until side 1 is closed; returns how long that took after `sent`.
    fn time_to_close(&mut self, sent: Instant) -> Duration {
        assert!(self.run_until(Duration::from_secs(5), |d| {
            d.pcs[1].connection_state() == PeerConnectionState::Closed
        }));
        self.now - sent
    }

    fn assert_closed_by_peer(&self, channel: ChannelId, cause: PeerClose) {
        let b = &self.pcs[1];
        assert_eq!(b.connection_state(), PeerConnectionState::Closed);
        assert_eq!(b.closed_by_peer(), Some(cause));
        assert!(self.events[1].contains(&Event::ChannelClosed(channel)));
        assert!(
            self.events[1].contains(&Event::ConnectionStateChange(PeerConnectionState::Closed))
        );
        assert!(b.sctp.is_none() && b.dtls.is_none(), "transport freed");
        assert_eq!(b.data_channel_ids(), Vec::<ChannelId>::new());
    }
}

#[test]
fn peer_close_closes_the_connection_within_one_way_delay() {
    let mut duo = Duo::new();
    let channel = duo.open();
    let sent = duo.now;
    duo.pcs[0].close();
    let took = duo.time_to_close(sent);
    assert!(took <= ONE_WAY, "closed after {took:?}");
    // Chromium-style close: ABORT first, then close_notify; the ABORT closes it.
    duo.assert_closed_by_peer(channel, PeerClose::SctpAbort);
}

#[test]
fn dtls_close_notify_alone_closes_the_connection() {
    let mut duo = Duo::new();
    let channel = duo.open();
    let sent = duo.now;
    duo.pcs[0].dtls.as_mut().expect("dtls").close();
    let took = duo.time_to_close(sent);
    assert!(took <= ONE_WAY, "closed after {took:?}");
    duo.assert_closed_by_peer(channel, PeerClose::CloseNotify);
}

#[test]
fn sctp_abort_alone_closes_the_connection() {
    let mut duo = Duo::new();
    let channel = duo.open();
    let sent = duo.now;
    let now = duo.now;
    let dc = duo.pcs[0].sctp.as_mut().expect("sctp");
    dc.association_mut().abort(now);
    let took = duo.time_to_close(sent);
    assert!(took <= ONE_WAY, "closed after {took:?}");
    duo.assert_closed_by_peer(channel, PeerClose::SctpAbort);
}

#[test]
fn sctp_shutdown_is_acknowledged_and_closes_the_connection() {
    let mut duo = Duo::new();
    let channel = duo.open();
    let now = duo.now;
    let dc = duo.pcs[0].sctp.as_mut().expect("sctp");
    dc.association_mut().shutdown(now).expect("shutdown");
    // SHUTDOWN leaves once all our data is acknowledged (RFC 9260 section 9.2), which
    // can take a delayed SACK: time the close from then.
    assert!(duo.run_until(Duration::from_secs(1), |d| {
        d.pcs[0].sctp.as_ref().is_some_and(|dc| {
            dc.association().state() == crate::sctp::AssociationState::ShutdownSent
        })
    }));
    let sent = duo.now;
    let took = duo.time_to_close(sent);
    assert!(took <= ONE_WAY, "closed after {took:?}");
    duo.assert_closed_by_peer(channel, PeerClose::SctpShutdown);
    // The SHUTDOWN ACK reached the peer before our close_notify: its association
    // finished the sequence (instead of retransmitting SHUTDOWN until it gives up).
    assert!(duo.run_until(Duration::from_secs(1), |d| {
        d.pcs[0].connection_state() == PeerConnectionState::Closed
    }));
    assert_eq!(duo.pcs[0].closed_by_peer(), Some(PeerClose::SctpShutdown));
}

#[test]
fn a_local_close_is_not_reported_as_the_peers() {
    let mut duo = Duo::new();
    duo.open();
    duo.pcs[0].close();
    duo.drain();
    assert_eq!(duo.pcs[0].closed_by_peer(), None);
    assert_eq!(duo.pcs[0].connection_state(), PeerConnectionState::Closed);
}
