//! A [`TurnClient`] against the sans-IO [`TurnServer`], datagrams shuttled in memory.

use super::server::{TurnServer, TurnServerConfig};
use super::{ChannelData, Received, TurnClient, TurnClientConfig, TurnError, TurnEvent};
use crate::rng::Rng;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const SERVER: &str = "198.51.100.5:3478";
const CLIENT: &str = "203.0.113.9:5000";
const PEER: &str = "192.0.2.77:6000";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

struct Rig {
    now: Instant,
    client: TurnClient,
    server: TurnServer,
    events: Vec<TurnEvent>,
    /// Datagrams the server sent to the peer.
    at_peer: Vec<(SocketAddr, Vec<u8>)>,
    relayed: Vec<(SocketAddr, Vec<u8>)>,
    /// Drop the next n datagrams from client to server.
    drop_to_server: usize,
}

impl Rig {
    fn new(password: &str) -> Rig {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let server = TurnServer::new(TurnServerConfig::new(
            addr(SERVER),
            "sim",
            "alice",
            "s3cret",
        ));
        let client = TurnClient::new(
            TurnClientConfig::new(addr(SERVER), "alice", password),
            addr(CLIENT),
            Rng::from_u64(7),
        );
        Rig {
            now,
            client,
            server,
            events: Vec::new(),
            at_peer: Vec::new(),
            relayed: Vec::new(),
            drop_to_server: 0,
        }
    }

    /// Moves datagrams both ways until nothing moves.
    fn shuttle(&mut self) {
        loop {
            let mut moved = false;
            while let Some(d) = self.client.poll_transmit() {
                moved = true;
                if self.drop_to_server > 0 {
                    self.drop_to_server -= 1;
                    continue;
                }
                self.server
                    .handle_receive(self.now, addr(CLIENT), addr(SERVER), &d);
            }
            while let Some(t) = self.server.poll_transmit() {
                moved = true;
                if t.destination == addr(CLIENT) {
                    if let Received::Relayed { peer, data } =
                        self.client.handle_receive(self.now, &t.payload)
                    {
                        self.relayed.push((peer, data));
                    }
                } else {
                    self.at_peer.push((t.destination, t.payload));
                }
            }
            while let Some(e) = self.client.poll_event() {
                self.events.push(e);
            }
            if !moved {
                break;
            }
        }
    }

    /// Advances virtual time to `until`, firing the client's timers on the way.
    fn run_until(&mut self, until: Instant) {
        loop {
            self.shuttle();
            let next = [self.client.poll_timeout(), self.server.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(at) if at <= until => {
                    self.now = self.now.max(at);
                    self.client.handle_timeout(self.now);
                    self.server.handle_timeout(self.now);
                }
                _ => {
                    self.now = until;
                    self.shuttle();
                    return;
                }
            }
        }
    }

    fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    fn allocate(&mut self) -> SocketAddr {
        self.client.start(self.now);
        self.shuttle();
        self.client.relayed().expect("allocated")
    }

    /// The peer sends `data` to the relayed address.
    fn peer_sends(&mut self, data: &[u8]) {
        let relayed = self.client.relayed().expect("allocated");
        self.server
            .handle_receive(self.now, addr(PEER), relayed, data);
        self.shuttle();
    }
}

#[test]
fn allocate_learns_realm_and_nonce_from_401_then_succeeds() {
    let mut r = Rig::new("s3cret");
    let relayed = r.allocate();
    assert_eq!(relayed.ip(), addr(SERVER).ip());
    assert_eq!(r.server.stats().unauthorized, 1);
    assert!(matches!(
        r.events[..],
        [TurnEvent::Allocated { mapped: Some(m), .. }] if m == addr(CLIENT)
    ));
}

#[test]
fn wrong_password_is_reported_as_unauthorized_not_timeout() {
    let mut r = Rig::new("wrong");
    r.client.start(r.now);
    r.shuttle();
    assert!(r.client.is_failed());
    assert_eq!(r.client.error(), Some(&TurnError::Unauthorized));
    assert_eq!(r.events, [TurnEvent::Failed(TurnError::Unauthorized)]);
}

#[test]
fn unreachable_server_times_out() {
    let mut r = Rig::new("s3cret");
    r.drop_to_server = usize::MAX;
    r.client.start(r.now);
    r.run_for(Duration::from_secs(30));
    assert_eq!(r.client.error(), Some(&TurnError::Timeout));
}

#[test]
fn send_indications_until_the_channel_is_bound_then_channel_data() {
    let mut r = Rig::new("s3cret");
    r.allocate();
    let peer = addr(PEER);
    r.client.ensure_permission(r.now, peer.ip());
    let first = r.client.wrap(peer, b"one").expect("allocated");
    assert!(crate::stun::looks_like_stun(&first), "a Send indication");
    r.shuttle();
    r.server
        .handle_receive(r.now, addr(CLIENT), addr(SERVER), &first);
    r.shuttle();
    assert_eq!(r.at_peer, [(peer, b"one".to_vec())]);
    r.peer_sends(b"back");
    assert_eq!(r.relayed, [(peer, b"back".to_vec())]);
    r.client.ensure_channel(r.now, peer);
    r.shuttle();
    let number = r.client.channel(peer).expect("bound");
    let cd = r.client.wrap(peer, b"two").expect("allocated");
    assert_eq!(&cd[..2], number.to_be_bytes());
    r.server
        .handle_receive(r.now, addr(CLIENT), addr(SERVER), &cd);
    r.peer_sends(b"again");
    assert_eq!(r.at_peer.last(), Some(&(peer, b"two".to_vec())));
    assert_eq!(r.relayed.last(), Some(&(peer, b"again".to_vec())));
    assert_eq!(r.client.stats().channel_data_received, 1);
}

#[test]
fn the_hot_path_unwraps_only_application_data_on_a_known_channel() {
    let mut r = Rig::new("s3cret");
    r.allocate();
    let peer = addr(PEER);
    r.client.ensure_permission(r.now, peer.ip());
    r.client.ensure_channel(r.now, peer);
    r.shuttle();
    let number = r.client.channel(peer).expect("bound");
    let dtls = [23u8, 0xfe, 0xfd, 0, 1];
    let framed = ChannelData::encode(number, &dtls);
    assert_eq!(
        r.client.unwrap_application_data(&framed),
        Some((peer, &dtls[..]))
    );
    assert_eq!(r.client.stats().channel_data_received, 1);
    // A STUN check inside a channel, an unknown channel and a truncated message are left
    // to `handle_receive`, uncounted.
    let binding = [
        0u8, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ];
    let stun = ChannelData::encode(number, &binding);
    assert_eq!(r.client.unwrap_application_data(&stun), None);
    let unknown = ChannelData::encode(number + 1, &dtls);
    assert_eq!(r.client.unwrap_application_data(&unknown), None);
    assert_eq!(r.client.unwrap_application_data(&framed[..6]), None);
    assert_eq!(r.client.stats().channel_data_received, 1);
    assert_eq!(r.client.stats().dropped, 0);
}

#[test]
fn a_payload_given_up_is_framed_like_a_borrowed_one() {
    let mut r = Rig::new("s3cret");
    r.allocate();
    let peer = addr(PEER);
    r.client.ensure_permission(r.now, peer.ip());
    let indication = r
        .client
        .wrap_owned(peer, b"one".to_vec())
        .expect("allocated");
    assert!(
        crate::stun::looks_like_stun(&indication),
        "a Send indication"
    );
    r.client.ensure_channel(r.now, peer);
    r.shuttle();
    let number = r.client.channel(peer).expect("bound");
    let owned = r
        .client
        .wrap_owned(peer, b"two".to_vec())
        .expect("allocated");
    assert_eq!(owned, ChannelData::encode(number, b"two"));
}

#[test]
fn stale_nonce_is_recovered_on_every_method() {
    let mut r = Rig::new("s3cret");
    r.allocate();
    let peer = addr(PEER);
    r.server.expire_nonces();
    r.client.ensure_permission(r.now, peer.ip());
    r.shuttle();
    assert!(r.client.has_permission(peer.ip()));
    r.server.expire_nonces();
    r.client.ensure_channel(r.now, peer);
    r.shuttle();
    assert!(r.client.channel(peer).is_some());
    r.run_for(Duration::from_secs(299));
    r.server.expire_nonces();
    r.run_for(Duration::from_secs(2)); // the allocation refresh (lifetime / 2)
    assert_eq!(r.server.stats().stale_nonce[1..], [1, 1, 1]);
    assert_eq!(r.client.stats().stale_nonces, 3);
    assert!(r.client.relayed().is_some());
    assert!(!r.events.iter().any(|e| matches!(e, TurnEvent::Failed(_))));
}

#[test]
fn stale_nonce_on_allocate_is_retried() {
    let mut r = Rig::new("s3cret");
    r.server.expire_nonces();
    r.client.start(r.now);
    // The 401 hands out a nonce; make it stale before the authenticated retry arrives.
    let first = r.client.poll_transmit().expect("allocate");
    r.server
        .handle_receive(r.now, addr(CLIENT), addr(SERVER), &first);
    let answer = r.server.poll_transmit().expect("401");
    r.server.expire_nonces();
    r.client.handle_receive(r.now, &answer.payload);
    r.shuttle();
    assert_eq!(r.server.stats().stale_nonce[0], 1);
    assert!(r.client.relayed().is_some());
}

#[test]
fn a_lost_channel_bind_response_keeps_the_same_channel_number() {
    let mut r = Rig::new("s3cret");
    r.allocate();
    let peer = addr(PEER);
    r.server.drop_channel_bind_responses(true);
    r.client.ensure_channel(r.now, peer);
    r.run_for(Duration::from_secs(20));
    assert!(r.client.channel(peer).is_none(), "no confirmation arrived");
    r.server.drop_channel_bind_responses(false);
    r.run_for(Duration::from_secs(10));
    assert_eq!(r.server.stats().channel_conflicts, 0, "no 400");
    let bound = r.server.channels_of(addr(CLIENT));
    assert_eq!(bound.len(), 1);
    assert_eq!(r.client.channel(peer), Some(bound[0].0));
}

#[test]
fn allocation_channels_and_permissions_are_refreshed_for_twenty_minutes() {
    let mut r = Rig::new("s3cret");
    r.allocate();
    let peer = addr(PEER);
    r.client.ensure_channel(r.now, peer);
    r.client.ensure_permission(r.now, peer.ip());
    r.run_for(Duration::from_secs(20 * 60));
    let s = r.server.stats();
    assert!(s.refresh_ok >= 3, "{s:?}");
    assert!(s.permission_ok >= 4, "{s:?}");
    assert!(s.channel_bind_ok >= 3, "{s:?}");
    assert_eq!(s.allocations, 1);
    r.peer_sends(b"still there");
    assert_eq!(r.relayed.last(), Some(&(peer, b"still there".to_vec())));
    assert_eq!(r.client.stats().channel_data_received, 1);
}

#[test]
fn a_server_restart_leads_to_a_new_allocation() {
    let mut r = Rig::new("s3cret");
    let old = r.allocate();
    r.server.restart();
    r.run_for(Duration::from_secs(301));
    let new = r.client.relayed().expect("re-allocated");
    assert_ne!(old, new);
    assert!(
        r.events
            .contains(&TurnEvent::Reallocated { old, relayed: new })
    );
}

#[test]
fn close_deallocates() {
    let mut r = Rig::new("s3cret");
    r.allocate();
    r.client.close(r.now);
    r.shuttle();
    assert!(r.server.relayed_addresses().is_empty());
    assert_eq!(r.client.poll_timeout(), None);
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever arrives from the "server" (before and after allocation), the client
        /// neither panics nor grows its queues without bound.
        #[test]
        fn client_survives_arbitrary_datagrams(datagrams in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 1..20)) {
            let mut r = Rig::new("s3cret");
            r.allocate();
            for d in &datagrams {
                let _ = r.client.handle_receive(r.now, d);
                // Datagrams shaped like TURN responses and ChannelData too.
                let mut shaped = d.clone();
                if shaped.len() >= 20 {
                    shaped[0] = 0x01;
                    shaped[4..8].copy_from_slice(&crate::stun::MAGIC_COOKIE.to_be_bytes());
                    let _ = r.client.handle_receive(r.now, &shaped);
                    shaped[0] = 0x40;
                    let _ = r.client.handle_receive(r.now, &shaped);
                }
            }
            r.run_for(Duration::from_secs(700));
            prop_assert!(r.client.relayed().is_some());
        }

        /// The server takes arbitrary datagrams on its listen and relayed addresses.
        #[test]
        fn server_survives_arbitrary_datagrams(datagrams in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 1..20)) {
            let mut r = Rig::new("s3cret");
            let relayed = r.allocate();
            for d in &datagrams {
                r.server.handle_receive(r.now, addr(CLIENT), addr(SERVER), d);
                r.server.handle_receive(r.now, addr(PEER), relayed, d);
            }
            while r.server.poll_transmit().is_some() {}
            r.run_for(Duration::from_secs(10));
            prop_assert!(r.client.relayed().is_some());
        }
    }
}
