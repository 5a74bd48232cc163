//! One `Endpoint` on one address serving many client `PeerConnection`s in the simulator.

mod pc_common;
use pc_common::start;
use rtcpeer::peer_connection::{DataChannelInit, Event, PeerConnection, SimPeer};
use rtcpeer::sim::{Node, NodeId, Sim};
use rtcpeer::{ConnectionHandle, Endpoint, EndpointOutput, Rng, RtcConfiguration, Transmit};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The endpoint as a simulator node; events are kept per connection for the test.
#[derive(Debug)]
struct Server {
    ep: Endpoint,
    out: VecDeque<Transmit>,
    events: Vec<(ConnectionHandle, Event)>,
    timeout: Option<Instant>,
}

impl Server {
    fn drain(&mut self) {
        loop {
            match self.ep.poll_output() {
                EndpointOutput::Transmit(_, t) => self.out.push_back(t),
                EndpointOutput::Event(h, e) => self.events.push((h, e)),
                EndpointOutput::Timeout(at) => {
                    self.timeout = at;
                    break;
                }
            }
        }
    }
}

impl Node for Server {
    fn handle_receive(&mut self, now: Instant, s: SocketAddr, d: SocketAddr, p: &[u8]) {
        self.ep.handle_receive(now, s, d, p);
        self.drain();
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.ep.handle_timeout(now);
        self.drain();
    }
    fn poll_transmit(&mut self) -> Option<Transmit> {
        if self.out.is_empty() {
            self.drain();
        }
        self.out.pop_front()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.timeout
    }
}

const N: usize = 100;

#[test]
fn hundred_clients_on_one_endpoint_all_connect_and_exchange_data() {
    let t0 = start();
    let mut sim = Sim::new(t0, Rng::from_u64(77));
    let net = sim.internet();
    let server_addr: SocketAddr = "192.0.2.1:3478".parse().expect("addr");
    let mut ep = Endpoint::new(rtcpeer::Seed::from_u64(99));
    ep.add_local_socket(t0, server_addr).expect("socket");
    let mut clients: Vec<(NodeId, ConnectionHandle, rtcpeer::ChannelId)> = Vec::new();
    let mut client_peers = Vec::new();
    for i in 0..N {
        let addr: SocketAddr = format!("10.1.{}.{}:4000", i / 200, i % 200 + 1)
            .parse()
            .expect("addr");
        let mut pc =
            PeerConnection::new(RtcConfiguration::with_seed(1000 + i as u64), t0).expect("pc");
        pc.add_local_socket(t0, addr).expect("socket");
        let ch = pc
            .create_data_channel("c", DataChannelInit::default())
            .expect("dc");
        let offer = pc.create_offer().expect("offer");
        pc.set_local_description(offer.clone()).expect("sld");
        let h = ep
            .add_peer_connection(RtcConfiguration::default(), t0)
            .expect("server pc");
        let spc = ep.peer_connection(h).expect("pc");
        spc.set_remote_description(offer).expect("srd");
        let answer = spc.create_answer().expect("answer");
        spc.set_local_description(answer.clone()).expect("sld");
        pc.set_remote_description(answer).expect("srd answer");
        client_peers.push((addr, SimPeer::new(pc), h, ch));
    }
    let mut server = Server {
        ep,
        out: VecDeque::new(),
        events: Vec::new(),
        timeout: None,
    };
    server.drain();
    let server_id = sim
        .add_node(net, server_addr.ip(), server)
        .expect("server node");
    for (addr, peer, h, ch) in client_peers {
        let id = sim.add_node(net, addr.ip(), peer).expect("client node");
        clients.push((id, h, ch));
    }
    // Signal trickled candidates both ways until every client's channel is open.
    let deadline = sim.now() + Duration::from_secs(30);
    let mut opened = [false; N];
    let mut greeted = [false; N];
    loop {
        forward_candidates(&mut sim, server_id, &clients);
        for (i, (id, _, ch)) in clients.iter().enumerate() {
            let peer = sim.node::<SimPeer>(*id);
            if !opened[i] && peer.events.contains(&Event::ChannelOpen(*ch)) {
                opened[i] = true;
                let p = sim.node_mut::<SimPeer>(*id);
                p.pc.data_channel(*ch)
                    .expect("h")
                    .send_text(&format!("hello {i}"))
                    .expect("send");
                p.drain();
            }
        }
        let server = sim.node::<Server>(server_id);
        for (i, (_, h, _)) in clients.iter().enumerate() {
            greeted[i] = server.events.iter().any(|(eh, e)| eh == h
                && matches!(e, Event::ChannelMessage { data, .. } if data.as_ref() == format!("hello {i}").as_bytes()));
        }
        if greeted.iter().all(|g| *g) {
            break;
        }
        match sim.next_event_time() {
            Some(t) if t <= deadline => {
                sim.step().expect("step");
            }
            _ => panic!(
                "not all connected: opened {} greeted {}",
                opened.iter().filter(|o| **o).count(),
                greeted.iter().filter(|g| **g).count()
            ),
        }
    }
    assert!(sim.node::<Server>(server_id).ep.stats().dropped_unroutable == 0);
}

fn forward_candidates(
    sim: &mut Sim,
    server: NodeId,
    clients: &[(NodeId, ConnectionHandle, rtcpeer::ChannelId)],
) {
    for (id, h, _) in clients {
        if !sim
            .node::<SimPeer>(*id)
            .events
            .iter()
            .any(|e| matches!(e, Event::IceCandidate(_)))
        {
            continue;
        }
        let p = sim.node_mut::<SimPeer>(*id);
        let cands: Vec<_> = p
            .events
            .iter()
            .filter_map(|e| match e {
                Event::IceCandidate(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        p.events.retain(|e| !matches!(e, Event::IceCandidate(_)));
        let s = sim.node_mut::<Server>(server);
        for c in cands {
            s.ep.peer_connection(*h)
                .expect("pc")
                .add_ice_candidate(c)
                .expect("add");
        }
        s.drain();
    }
    if !sim
        .node::<Server>(server)
        .events
        .iter()
        .any(|(_, e)| matches!(e, Event::IceCandidate(_)))
    {
        return;
    }
    let s = sim.node_mut::<Server>(server);
    let cands: Vec<_> = s
        .events
        .iter()
        .filter_map(|(h, e)| match e {
            Event::IceCandidate(c) => Some((*h, c.clone())),
            _ => None,
        })
        .collect();
    s.events
        .retain(|(_, e)| !matches!(e, Event::IceCandidate(_)));
    for (h, c) in cands {
        let Some((id, _, _)) = clients.iter().find(|(_, ch, _)| *ch == h) else {
            continue;
        };
        let p = sim.node_mut::<SimPeer>(*id);
        p.pc.add_ice_candidate(c).expect("add");
        p.drain();
    }
}

/// An mDNS answer from port 5353 has no 5-tuple route (it comes from the responder, often
/// to the group address): the endpoint gives it to the connections resolving a `.local`
/// name, each taking the answers for its own names, and drops it as unroutable when none
/// is resolving. (The mio adapter feeds its group socket's datagrams through this path.)
#[test]
fn mdns_answers_reach_the_connections_resolving_a_name() {
    use rtcpeer::peer_connection::IceCandidate;
    let t0 = start();
    let server_addr: SocketAddr = "192.0.2.1:3478".parse().expect("addr");
    let mut ep = Endpoint::new(rtcpeer::Seed::from_u64(5));
    ep.add_local_socket(t0, server_addr).expect("socket");
    let mut handles = Vec::new();
    for i in 0..2u64 {
        let mut pc = PeerConnection::new(RtcConfiguration::with_seed(50 + i), t0).expect("pc");
        pc.add_local_socket(t0, "10.1.0.1:4000".parse().expect("addr"))
            .expect("socket");
        pc.create_data_channel("c", DataChannelInit::default())
            .expect("dc");
        let offer = pc.create_offer().expect("offer");
        pc.set_local_description(offer.clone()).expect("sld");
        let h = ep
            .add_peer_connection(RtcConfiguration::default(), t0)
            .expect("server pc");
        let spc = ep.peer_connection(h).expect("pc");
        spc.set_remote_description(offer).expect("srd");
        let answer = spc.create_answer().expect("answer");
        spc.set_local_description(answer).expect("sld");
        handles.push(h);
    }
    let name = "5b6c0a8e-peer.local";
    ep.peer_connection(handles[0])
        .expect("pc")
        .add_ice_candidate(IceCandidate {
            candidate: format!("candidate:1 1 udp 2122260223 {name} 4000 typ host"),
            sdp_mid: Some("0".into()),
            sdp_mline_index: Some(0),
            username_fragment: None,
        })
        .expect("candidate");
    while !matches!(ep.poll_output(), EndpointOutput::Timeout(_)) {}
    let queries = ep.peer_connection(handles[0]).expect("pc").stats();
    assert_eq!(queries.mdns_queries_sent, 1, "{queries:?}");
    let responder: SocketAddr = "10.0.0.53:5353".parse().expect("addr");
    let group: SocketAddr = "224.0.0.251:5353".parse().expect("addr");
    let answer = rtcpeer::mdns::encode_response(name, &["10.1.0.1".parse().expect("ip")], 120)
        .expect("answer");
    ep.handle_receive(t0, responder, group, &answer);
    let resolving = ep.peer_connection(handles[0]).expect("pc").stats();
    assert_eq!(resolving.mdns_resolved, 1, "{resolving:?}");
    let other = ep.peer_connection(handles[1]).expect("pc").stats();
    assert_eq!(
        (other.datagrams_received, other.mdns_ignored),
        (0, 0),
        "a connection resolving nothing is not handed the answer"
    );
    assert_eq!((ep.stats().routed, ep.stats().dropped_unroutable), (1, 0));
    // Nobody is resolving any more: the same answer again is unroutable.
    ep.handle_receive(t0, responder, group, &answer);
    assert_eq!((ep.stats().routed, ep.stats().dropped_unroutable), (1, 1));
    let resolved = ep.peer_connection(handles[0]).expect("pc").stats();
    assert_eq!(resolved.datagrams_received, 1);
}
