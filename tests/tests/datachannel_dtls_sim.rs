//! Data channels over a real DTLS pair through the network simulator (RFC 8261 / RFC 8831):
//! every SCTP packet travels as a DTLS application data record over simulated UDP.

#[path = "datachannel_dtls_sim/node.rs"]
mod node;

use node::{Pair, messages};
use rtcpeer::datachannel::{ChannelState, DataChannelEvent, DataChannelInit, DataChannels};
use rtcpeer::sim::{LinkConfig, Loss, NodeId, SimConfig};
use std::time::Duration;

fn lossy(loss: f64) -> LinkConfig {
    LinkConfig::new()
        .latency(Duration::from_millis(10))
        .loss(Loss::Random(loss))
        .duplicate(0.05)
        .reorder(0.1, Duration::from_millis(8))
}

fn open(pair: &mut Pair, from: NodeId, label: &str, init: DataChannelInit) -> u16 {
    let id = pair.with(from, |dc| dc.create_channel(label, init).expect("create"));
    let to = if from == pair.client {
        pair.server
    } else {
        pair.client
    };
    pair.run_until(Duration::from_secs(30), |p| {
        p.node(to).saw(&DataChannelEvent::Open(id)) && p.node(from).saw(&DataChannelEvent::Open(id))
    });
    id
}

fn send(dc: &mut DataChannels, id: u16, msg: &[u8]) {
    dc.channel(id)
        .expect("channel")
        .send_binary(msg.to_vec().into())
        .expect("send");
}

/// Sends `msgs` on `id` from `from`, keeping at most 1 MiB buffered, until `to` holds
/// `expect` messages on `id` (or the virtual `timeout` passes).
fn stream(pair: &mut Pair, from: NodeId, to: NodeId, id: u16, msgs: &[Vec<u8>], expect: usize) {
    let deadline = pair.sim.now() + Duration::from_secs(1200);
    let mut next = 0;
    while pair.node(to).messages(id).len() < expect {
        assert!(pair.sim.now() < deadline, "transfer timed out");
        pair.with(from, |dc| {
            while next < msgs.len() && dc.association().total_buffered() < 1 << 20 {
                send(dc, id, &msgs[next]);
                next += 1;
            }
        });
        pair.sim.run_for(Duration::from_millis(20)).expect("run");
    }
}

#[test]
fn ordered_reliable_channel_delivers_1000_random_messages_through_loss_reordering_duplication() {
    // 128 MB of payload: keep no capture of it.
    let mut pair = Pair::connect_with(1, lossy(0.2), SimConfig::new().capture(false));
    let (c, s) = (pair.client, pair.server);
    let id = open(&mut pair, c, "bulk", DataChannelInit::default());
    assert_eq!(id % 2, 0, "the DTLS client uses even stream ids");
    let msgs = messages(2, 1000, 256 * 1024);
    stream(&mut pair, c, s, id, &msgs, msgs.len());
    let got = pair.server().messages(id);
    assert_eq!(got.len(), msgs.len());
    for (i, (g, m)) in got.iter().zip(&msgs).enumerate() {
        assert!(
            *g == &m[..],
            "message {i} differs ({} vs {} bytes)",
            g.len(),
            m.len()
        );
    }
    assert_eq!(pair.client().seal_errors + pair.server().seal_errors, 0);
}

/// `n` messages of `len` bytes (at least 4), each starting with its index.
fn numbered(n: u32, len: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut m = vec![(i % 251) as u8; len.max(4)];
            m[..4].copy_from_slice(&i.to_be_bytes());
            m
        })
        .collect()
}

fn index(m: &[u8]) -> u32 {
    u32::from_be_bytes(m[..4].try_into().expect("numbered message"))
}

#[test]
fn unordered_channel_delivers_every_message_exactly_once_under_loss() {
    let mut pair = Pair::connect(3, lossy(0.2));
    let (c, s) = (pair.client, pair.server);
    let init = DataChannelInit {
        ordered: false,
        ..DataChannelInit::default()
    };
    let id = open(&mut pair, c, "unordered", init);
    let msgs = numbered(400, 3000);
    stream(&mut pair, c, s, id, &msgs, msgs.len());
    // Give duplicates and stragglers time to show up.
    pair.sim.run_for(Duration::from_secs(5)).expect("run");
    let got = pair.server().messages(id);
    let mut seen: Vec<u32> = got.iter().map(|m| index(m)).collect();
    let arrival = seen.clone();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..400).collect::<Vec<_>>(),
        "each message exactly once"
    );
    for m in &got {
        assert_eq!(*m, &msgs[index(m) as usize][..], "byte-exact");
    }
    assert!(
        arrival.windows(2).any(|w| w[0] > w[1]),
        "loss let later messages overtake earlier ones"
    );
}

#[test]
fn max_retransmits_zero_loses_messages_under_loss_and_the_association_stays_healthy() {
    let mut pair = Pair::connect(4, lossy(0.2));
    let (c, s) = (pair.client, pair.server);
    let init = DataChannelInit {
        ordered: false,
        max_retransmits: Some(0),
        ..DataChannelInit::default()
    };
    let partial = open(&mut pair, c, "partial", init);
    let reliable = open(&mut pair, c, "reliable", DataChannelInit::default());
    let msgs = numbered(300, 1000);
    for chunk in msgs.chunks(10) {
        pair.with(c, |dc| chunk.iter().for_each(|m| send(dc, partial, m)));
        pair.sim.run_for(Duration::from_millis(20)).expect("run");
    }
    pair.sim.run_for(Duration::from_secs(5)).expect("run");
    let got = pair.server().messages(partial);
    assert!(got.len() < msgs.len(), "some messages were abandoned");
    let abandoned = pair.client().dc.association().stats().messages_abandoned;
    assert!(
        abandoned > 0,
        "the sender abandoned messages instead of retransmitting"
    );
    assert!(
        got.len() > msgs.len() / 2,
        "most messages arrived: {}",
        got.len()
    );
    for m in &got {
        assert_eq!(*m, &msgs[index(m) as usize][..], "byte-exact");
    }
    let after = numbered(50, 2000);
    stream(&mut pair, c, s, reliable, &after, after.len());
    assert_eq!(
        pair.server().messages(reliable),
        after.iter().map(|m| &m[..]).collect::<Vec<_>>()
    );
    assert!(pair.client().established() && pair.server().established());
    assert_eq!(pair.client().dc.channel_ids().count(), 2);
}

#[test]
fn sixty_four_channels_opened_from_both_sides_at_once_all_carry_messages() {
    let link = LinkConfig::new().latency(Duration::from_millis(10));
    let mut pair = Pair::connect(5, link);
    let (c, s) = (pair.client, pair.server);
    let create = |dc: &mut DataChannels, who: &str| -> Vec<u16> {
        (0..32)
            .map(|i| {
                dc.create_channel(&format!("{who}{i}"), DataChannelInit::default())
                    .expect("create")
            })
            .collect()
    };
    let from_client = pair.with(c, |dc| create(dc, "c"));
    let from_server = pair.with(s, |dc| create(dc, "s"));
    assert!(from_client.iter().all(|id| id % 2 == 0), "client ids even");
    assert!(from_server.iter().all(|id| id % 2 == 1), "server ids odd");
    let all: Vec<u16> = from_client.iter().chain(&from_server).copied().collect();
    pair.run_until(Duration::from_secs(30), |p| {
        all.iter().all(|id| {
            p.client().saw(&DataChannelEvent::Open(*id))
                && p.server().saw(&DataChannelEvent::Open(*id))
        })
    });
    for id in &all {
        let m = id.to_be_bytes();
        pair.with(c, |dc| send(dc, *id, &m));
        pair.with(s, |dc| send(dc, *id, &m));
    }
    pair.run_until(Duration::from_secs(30), |p| {
        all.iter()
            .all(|id| !p.client().messages(*id).is_empty() && !p.server().messages(*id).is_empty())
    });
    for id in &all {
        let m = id.to_be_bytes();
        assert_eq!(pair.client().messages(*id), vec![&m[..]], "client on {id}");
        assert_eq!(pair.server().messages(*id), vec![&m[..]], "server on {id}");
    }
}

#[test]
fn closing_a_channel_resets_its_stream_and_the_id_is_reused() {
    let link = LinkConfig::new().latency(Duration::from_millis(10));
    let mut pair = Pair::connect(6, link);
    let c = pair.client;
    let id = open(&mut pair, c, "first", DataChannelInit::default());
    pair.with(c, |dc| {
        dc.channel(id).expect("open").close().expect("close")
    });
    pair.run_until(Duration::from_secs(10), |p| {
        p.server().saw(&DataChannelEvent::Closed(id))
            && p.client().saw(&DataChannelEvent::Closed(id))
    });
    let reused = open(&mut pair, c, "second", DataChannelInit::default());
    assert_eq!(reused, id, "the closed id is free again");
    pair.with(c, |dc| send(dc, reused, b"again"));
    pair.run_until(Duration::from_secs(10), |p| {
        !p.server().messages(reused).is_empty()
    });
    assert_eq!(pair.server().messages(reused), vec![&b"again"[..]]);
}

#[test]
fn pre_negotiated_channel_is_open_at_once_and_carries_messages_without_dcep() {
    let link = LinkConfig::new().latency(Duration::from_millis(10));
    let mut pair = Pair::connect(7, link);
    let (c, s) = (pair.client, pair.server);
    let init = DataChannelInit {
        negotiated: true,
        id: Some(9),
        ..DataChannelInit::default()
    };
    for n in [c, s] {
        let state = pair.with(n, |dc| {
            let id = dc.create_channel("agreed", init.clone()).expect("create");
            assert_eq!(id, 9);
            dc.channel(id).expect("channel").state()
        });
        assert_eq!(state, ChannelState::Open, "open before any round trip");
    }
    pair.with(c, |dc| send(dc, 9, b"from client"));
    pair.with(s, |dc| send(dc, 9, b"from server"));
    pair.run_until(Duration::from_secs(10), |p| {
        !p.client().messages(9).is_empty() && !p.server().messages(9).is_empty()
    });
    assert_eq!(pair.server().messages(9), vec![&b"from client"[..]]);
    assert_eq!(pair.client().messages(9), vec![&b"from server"[..]]);
    for n in [c, s] {
        let node = pair.node(n);
        assert!(
            !node.saw(&DataChannelEvent::Incoming(9)),
            "no DCEP OPEN arrived"
        );
        assert_eq!(node.dc.stats().bad_dcep, 0);
    }
}

fn short_run(seed: u64) -> [u8; 32] {
    let mut pair = Pair::connect(seed, lossy(0.1));
    let (c, s) = (pair.client, pair.server);
    let id = open(&mut pair, c, "det", DataChannelInit::default());
    let msgs = messages(seed, 40, 20_000);
    stream(&mut pair, c, s, id, &msgs, msgs.len());
    pair.sim.capture_digest()
}

#[test]
fn same_seed_gives_the_same_capture_and_another_seed_does_not() {
    let first = short_run(8);
    assert_eq!(first, short_run(8), "same seed, same bytes on the wire");
    assert_ne!(first, short_run(9), "the seed matters");
}
