//! Shared helpers of the `pc_*` scenario tests: two `PeerConnection`s in the simulator
//! with signalling done by the test.
#![allow(dead_code)]

use rtcpeer::media::TransceiverId;
use rtcpeer::peer_connection::{
    ChannelId, Event, IceCandidate, PeerConnection, PeerConnectionState, RtcConfiguration, SimPeer,
};
use rtcpeer::sim::{NodeId, Sim};
use rtcpeer::{Rng, RtcSessionDescription};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub const A_ADDR: &str = "10.0.0.1:5000";
pub const B_ADDR: &str = "10.0.0.2:5000";

/// Two peers on one LAN, a and b.
#[allow(missing_debug_implementations)]
pub struct Pair {
    pub sim: Sim,
    pub a: NodeId,
    pub b: NodeId,
    /// Forward trickled candidates automatically.
    pub trickle: bool,
    /// Events seen so far, per side.
    pub a_events: Vec<Event>,
    pub b_events: Vec<Event>,
}

pub fn start() -> Instant {
    #[allow(clippy::disallowed_methods)]
    let t = Instant::now();
    t
}

pub fn peer(seed: u64, addr: &str, now: Instant) -> SimPeer {
    let mut pc = PeerConnection::new(RtcConfiguration::with_seed(seed), now).expect("config");
    pc.add_local_socket(now, addr.parse().expect("addr"))
        .expect("socket");
    SimPeer::new(pc)
}

impl Pair {
    pub fn new(seed: u64) -> Self {
        Self::with_peers(seed, |now| {
            (
                peer(seed * 2 + 1, A_ADDR, now),
                peer(seed * 2 + 2, B_ADDR, now),
            )
        })
    }

    pub fn with_peers(seed: u64, make: impl FnOnce(Instant) -> (SimPeer, SimPeer)) -> Self {
        let t0 = start();
        let mut sim = Sim::new(t0, Rng::from_u64(seed));
        let (pa, pb) = make(t0);
        let net = sim.internet();
        let a_ip = pa.pc.local_sockets()[0].ip();
        let b_ip = pb.pc.local_sockets()[0].ip();
        let a = sim.add_node(net, a_ip, pa).expect("node a");
        let b = sim.add_node(net, b_ip, pb).expect("node b");
        Self {
            sim,
            a,
            b,
            trickle: true,
            a_events: Vec::new(),
            b_events: Vec::new(),
        }
    }

    /// Read-only view of a side (does not poke the simulator).
    pub fn pc(&self, a: bool) -> &PeerConnection {
        let id = if a { self.a } else { self.b };
        &self.sim.node::<SimPeer>(id).pc
    }

    pub fn pa(&mut self) -> &mut SimPeer {
        self.sim.node_mut::<SimPeer>(self.a)
    }

    pub fn pb(&mut self) -> &mut SimPeer {
        self.sim.node_mut::<SimPeer>(self.b)
    }

    pub fn side(&mut self, a: bool) -> &mut SimPeer {
        if a { self.pa() } else { self.pb() }
    }

    /// Commands a side through `f`, then drains it and lets the simulator collect output.
    pub fn with<T>(&mut self, a: bool, f: impl FnOnce(&mut PeerConnection) -> T) -> T {
        let id = if a { self.a } else { self.b };
        let p = self.side(a);
        let r = f(&mut p.pc);
        p.drain();
        self.sim.poke(id).expect("poke");
        r
    }

    /// Moves events from the nodes to the logs, forwarding candidates when trickling.
    pub fn collect(&mut self) {
        for a in [true, false] {
            let id = if a { self.a } else { self.b };
            if self.sim.node::<SimPeer>(id).events.is_empty() {
                continue;
            }
            let events = self.side(a).take_events();
            if std::env::var("PCDBG").is_ok() {
                eprintln!("EV {a} {events:?}");
            }
            for e in &events {
                if let Event::IceCandidate(c) = e
                    && self.trickle
                {
                    let c: IceCandidate = c.clone();
                    self.with(!a, |pc| pc.add_ice_candidate(c).expect("add candidate"));
                }
            }
            if a {
                self.a_events.extend(events);
            } else {
                self.b_events.extend(events);
            }
        }
    }

    /// offer from `a_offers` side, answer from the other, both set.
    pub fn negotiate(&mut self, a_offers: bool) {
        let offer = self.with(a_offers, |pc| {
            let o = pc.create_offer().expect("offer");
            pc.set_local_description(o.clone()).expect("sld offer");
            o
        });
        self.collect();
        let answer = self.with(!a_offers, |pc| {
            pc.set_remote_description(offer).expect("srd offer");
            let a = pc.create_answer().expect("answer");
            pc.set_local_description(a.clone()).expect("sld answer");
            a
        });
        self.collect();
        self.with(a_offers, |pc| {
            pc.set_remote_description(answer).expect("srd answer")
        });
        self.collect();
    }

    /// Steps until `done` or `timeout` of virtual time passes; returns whether done.
    pub fn run_until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&mut Self) -> bool,
    ) -> bool {
        let deadline = self.sim.now() + timeout;
        loop {
            self.collect();
            if done(self) {
                return true;
            }
            match self.sim.next_event_time() {
                Some(t) if t <= deadline => {
                    if let Err(e) = self.sim.step() {
                        panic!("sim step: {e:?} {:?}", self.sim.stats());
                    }
                }
                _ => return false,
            }
        }
    }

    pub fn connected(&self) -> bool {
        self.pc(true).connection_state() == PeerConnectionState::Connected
            && self.pc(false).connection_state() == PeerConnectionState::Connected
    }

    /// Adds media on A with `add`, negotiates (A offers), runs until connected and
    /// nominated, and turns on frame reception on the transceiver B heard: (A's, B's).
    pub fn connect_media(
        &mut self,
        add: impl FnOnce(&mut PeerConnection) -> TransceiverId,
    ) -> (TransceiverId, TransceiverId) {
        let a_media = self.with(true, add);
        self.negotiate(true);
        assert!(self.run_until(Duration::from_secs(10), |p| p.connected()));
        assert!(self.run_until(Duration::from_secs(5), nominated));
        (a_media, self.receive_frames_of_heard_track())
    }

    /// B's transceiver of the first track B heard, with frame reception turned on.
    pub fn receive_frames_of_heard_track(&mut self) -> TransceiverId {
        let b_media = self
            .events(false)
            .iter()
            .find_map(|e| match e {
                Event::Track(t) => Some(t.transceiver),
                _ => None,
            })
            .expect("b heard the track");
        self.with(false, |pc| {
            pc.transceiver(b_media).expect("t").set_receive_frames(true)
        });
        b_media
    }

    pub fn events(&self, a: bool) -> &[Event] {
        if a { &self.a_events } else { &self.b_events }
    }

    pub fn opened(&self, a: bool, id: ChannelId) -> bool {
        self.events(a).contains(&Event::ChannelOpen(id))
    }

    /// Channels the peer opened towards this side.
    pub fn incoming(&self, a: bool) -> Vec<ChannelId> {
        self.events(a)
            .iter()
            .filter_map(|e| match e {
                Event::DataChannel(id) => Some(*id),
                _ => None,
            })
            .collect()
    }

    pub fn messages(&self, a: bool, id: ChannelId) -> Vec<(Vec<u8>, bool)> {
        self.events(a)
            .iter()
            .filter_map(|e| match e {
                Event::ChannelMessage {
                    id: i,
                    data,
                    binary,
                } if *i == id => Some((data.to_vec(), *binary)),
                _ => None,
            })
            .collect()
    }
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("addr")
}

pub fn offer_of(pc: &mut PeerConnection) -> RtcSessionDescription {
    pc.create_offer().expect("offer")
}

/// A connected pair with channel `ca` opened by a and seen as `cb` at b, open on both
/// sides and nominated: channels open on the first valid pair, so this also waits for
/// the selected pair (with consent tracking) on both sides.
pub fn open_pair(seed: u64) -> (Pair, ChannelId, ChannelId) {
    let mut p = Pair::new(seed);
    let ca = p.with(true, |pc| {
        pc.create_data_channel("c", rtcpeer::peer_connection::DataChannelInit::default())
            .expect("dc")
    });
    p.negotiate(true);
    assert!(p.run_until(Duration::from_secs(10), |p| p.opened(true, ca)
        && !p.incoming(false).is_empty()));
    let cb = p.incoming(false)[0];
    assert!(p.run_until(Duration::from_secs(5), |p| p.opened(false, cb)));
    assert!(p.run_until(Duration::from_secs(5), nominated));
    (p, ca, cb)
}

/// Whether both sides have a nominated (selected) pair.
pub fn nominated(p: &mut Pair) -> bool {
    p.pc(true).selected_pair().is_some() && p.pc(false).selected_pair().is_some()
}
