//! Data channel behaviour over the in-memory shuttle.

use super::*;
use crate::rng::Rng;
use crate::sctp::testing::{Endpoint, Link, Pair};
use bytes::Bytes;
use std::time::{Duration, Instant};

impl Endpoint for DataChannels {
    fn receive(&mut self, now: Instant, pkt: Bytes) {
        self.handle_receive(now, pkt)
    }
    fn timeout(&mut self, now: Instant) {
        self.handle_timeout(now)
    }
    fn transmit(&mut self, now: Instant) -> Option<Vec<u8>> {
        self.poll_transmit(now)
    }
    fn next_timeout(&self) -> Option<Instant> {
        self.poll_timeout()
    }
}

fn links(ms: u64, loss: f64) -> [Link; 2] {
    let l = if loss == 0.0 {
        Link::ideal(Duration::from_millis(ms))
    } else {
        Link::lossy(Duration::from_millis(ms), loss, 0.1, 0.05)
    };
    [l.clone(), l]
}

fn connected(ms: u64, loss: f64, seed: u64) -> Pair<DataChannels> {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let a = DataChannels::new(
        DataChannelConfig::new(DtlsRole::Client),
        Rng::from_u64(seed),
        now,
    );
    let b = DataChannels::new(
        DataChannelConfig::new(DtlsRole::Server),
        Rng::from_u64(seed + 1),
        now,
    );
    let mut p = Pair::new(a, b, now, links(ms, loss), seed);
    p.a.connect(now).expect("closed");
    p.b.connect(now).expect("closed");
    let up =
        |d: &DataChannels| d.association().state() == crate::sctp::AssociationState::Established;
    assert!(p.run_until(Duration::from_secs(60), |p| up(&p.a) && up(&p.b)));
    p
}

/// Collects events of both sides while `done` is false.
#[derive(Default)]
struct Seen {
    a: Vec<DataChannelEvent>,
    b: Vec<DataChannelEvent>,
}

impl Seen {
    fn pull(&mut self, p: &mut Pair<DataChannels>) {
        self.a.extend(std::iter::from_fn(|| p.a.poll_event()));
        self.b.extend(std::iter::from_fn(|| p.b.poll_event()));
    }
}

fn messages(events: &[DataChannelEvent], id: u16) -> Vec<Bytes> {
    events
        .iter()
        .filter_map(|e| match e {
            DataChannelEvent::Message { id: i, data, .. } if *i == id => Some(data.clone()),
            _ => None,
        })
        .collect()
}

fn random_msg(rng: &mut Rng, max: usize) -> Bytes {
    let len = rng.below(max as u64 + 1) as usize;
    let mut v = vec![0u8; len];
    rng.fill(&mut v);
    Bytes::from(v)
}

#[test]
fn thousand_random_messages_arrive_in_order_through_loss_reordering_and_duplication() {
    let mut p = connected(10, 0.2, 1);
    let id =
        p.a.create_channel("bulk", DataChannelInit::default())
            .expect("create");
    let mut rng = Rng::from_u64(2);
    // Sizes spread log-uniformly over 0 B to 256 KiB, with some empty messages.
    let msgs: Vec<Bytes> = (0..1000)
        .map(|i| match i % 97 {
            0 => Bytes::new(),
            _ => {
                let max = (256 * 1024) >> rng.below(18);
                random_msg(&mut rng, max)
            }
        })
        .collect();
    let mut got = Vec::new();
    let mut next = 0;
    let done = p.run_until(Duration::from_secs(3600), |p| {
        while next < msgs.len() && p.a.association().total_buffered() < 2 << 20 {
            p.a.channel(id)
                .expect("open")
                .send_binary(msgs[next].clone())
                .expect("send");
            next += 1;
        }
        got.extend(messages(
            &std::iter::from_fn(|| p.b.poll_event()).collect::<Vec<_>>(),
            id,
        ));
        while p.a.poll_event().is_some() {}
        got.len() == msgs.len()
    });
    assert!(done, "only {} arrived", got.len());
    assert!(got == msgs, "complete, byte-exact, in order");
    assert!(
        msgs.iter().any(|m| m.is_empty()),
        "the set includes empty messages"
    );
}

#[test]
fn remote_channel_opens_with_label_protocol_and_type() {
    let mut p = connected(5, 0.0, 3);
    let init = DataChannelInit {
        ordered: false,
        max_retransmits: Some(2),
        protocol: "proto".into(),
        priority: 512,
        ..Default::default()
    };
    let id = p.a.create_channel("chat", init).expect("create");
    assert_eq!(id % 2, 0, "client picks even ids");
    let mut seen = Seen::default();
    p.run_until(Duration::from_secs(5), |p| {
        seen.pull(p);
        seen.b.contains(&DataChannelEvent::Open(id))
    });
    let at = seen
        .b
        .iter()
        .position(|e| *e == DataChannelEvent::Incoming(id))
        .expect("incoming");
    assert_eq!(seen.b[at + 1], DataChannelEvent::Open(id));
    let ch = p.b.channel(id).expect("exists");
    assert_eq!(ch.label(), "chat");
    assert_eq!(ch.protocol(), "proto");
    assert!(!ch.init().ordered);
    assert_eq!(ch.init().max_retransmits, Some(2));
    assert_eq!(ch.init().priority, 512);
}

#[test]
fn text_and_empty_messages_keep_their_kind() {
    let mut p = connected(5, 0.0, 5);
    let id =
        p.a.create_channel("t", DataChannelInit::default())
            .expect("create");
    let mut ch = p.a.channel(id).expect("open");
    ch.send_text("hello").expect("text");
    ch.send_text("").expect("empty text");
    ch.send_binary(Bytes::new()).expect("empty binary");
    let mut seen = Seen::default();
    p.run_until(Duration::from_secs(5), |p| {
        seen.pull(p);
        messages(&seen.b, id).len() == 3
    });
    let kinds: Vec<(Bytes, bool)> = seen
        .b
        .iter()
        .filter_map(|e| match e {
            DataChannelEvent::Message { data, binary, .. } => Some((data.clone(), *binary)),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            (Bytes::from_static(b"hello"), false),
            (Bytes::new(), false),
            (Bytes::new(), true)
        ]
    );
}

#[test]
fn unordered_channel_delivers_every_message_exactly_once() {
    let mut p = connected(10, 0.2, 7);
    let init = DataChannelInit {
        ordered: false,
        ..Default::default()
    };
    let id = p.a.create_channel("u", init).expect("create");
    let mut seen = Seen::default();
    let n = 500u32;
    let mut next = 0u32;
    p.run_until(Duration::from_secs(600), |p| {
        while next < n && p.a.association().total_buffered() < 1 << 20 {
            let mut m = next.to_be_bytes().to_vec();
            m.resize(4 + (next as usize * 37) % 9000, 7);
            p.a.channel(id)
                .expect("open")
                .send_binary(Bytes::from(m))
                .expect("send");
            next += 1;
        }
        seen.pull(p);
        messages(&seen.b, id).len() >= n as usize
    });
    let mut count = vec![0; n as usize];
    for m in messages(&seen.b, id) {
        count[u32::from_be_bytes([m[0], m[1], m[2], m[3]]) as usize] += 1;
    }
    assert!(count.iter().all(|&c| c == 1));
}

#[test]
fn zero_retransmit_channel_loses_some_and_later_messages_flow() {
    let mut p = connected(10, 0.2, 9);
    let lossy = DataChannelInit {
        max_retransmits: Some(0),
        ..Default::default()
    };
    let id = p.a.create_channel("rt0", lossy).expect("create");
    let mut seen = Seen::default();
    p.run_until(Duration::from_secs(5), |p| {
        seen.pull(p);
        seen.b.contains(&DataChannelEvent::Open(id))
    });
    for i in 0..300u32 {
        let mut m = i.to_be_bytes().to_vec();
        m.resize(2000, 1);
        p.a.channel(id)
            .expect("open")
            .send_binary(Bytes::from(m))
            .expect("send");
    }
    p.run_until(Duration::from_secs(30), |p| {
        seen.pull(p);
        false
    });
    let got = messages(&seen.b, id).len();
    assert!(got < 300 && got > 100, "got {got}");
    let reliable =
        p.a.create_channel("after", DataChannelInit::default())
            .expect("create");
    for _ in 0..20 {
        p.a.channel(reliable)
            .expect("open")
            .send_text("later")
            .expect("send");
    }
    p.run_until(Duration::from_secs(60), |p| {
        seen.pull(p);
        messages(&seen.b, reliable).len() == 20
    });
    assert_eq!(messages(&seen.b, reliable).len(), 20);
}

#[test]
fn sixty_four_channels_created_by_both_sides() {
    let mut p = connected(5, 0.05, 11);
    let mut ids = Vec::new();
    for i in 0..32 {
        ids.push(
            p.a.create_channel(&format!("a{i}"), DataChannelInit::default())
                .expect("a"),
        );
        ids.push(
            p.b.create_channel(&format!("b{i}"), DataChannelInit::default())
                .expect("b"),
        );
    }
    let mut uniq = ids.clone();
    uniq.sort_unstable();
    uniq.dedup();
    assert_eq!(uniq.len(), 64, "client even, server odd: no collisions");
    for (k, &id) in ids.iter().enumerate() {
        let side = if k % 2 == 0 { &mut p.a } else { &mut p.b };
        side.channel(id)
            .expect("open")
            .send_text(&format!("hi {id}"))
            .expect("send");
    }
    let mut seen = Seen::default();
    p.run_until(Duration::from_secs(60), |p| {
        seen.pull(p);
        ids.iter().enumerate().all(|(k, &id)| {
            let events = if k % 2 == 0 { &seen.b } else { &seen.a };
            messages(events, id).len() == 1
        })
    });
    for (k, &id) in ids.iter().enumerate() {
        let events = if k % 2 == 0 { &seen.b } else { &seen.a };
        assert_eq!(messages(events, id), vec![Bytes::from(format!("hi {id}"))]);
    }
}

#[test]
fn closing_resets_the_stream_peer_sees_closed_and_the_id_is_reused() {
    let mut p = connected(5, 0.0, 13);
    let id =
        p.a.create_channel("c", DataChannelInit::default())
            .expect("create");
    p.a.channel(id)
        .expect("open")
        .send_text("bye")
        .expect("send");
    p.a.channel(id).expect("open").close().expect("close");
    assert_eq!(
        p.a.channel(id).expect("exists").state(),
        ChannelState::Closing
    );
    let mut seen = Seen::default();
    p.run_until(Duration::from_secs(10), |p| {
        seen.pull(p);
        seen.a.contains(&DataChannelEvent::Closed(id))
            && seen.b.contains(&DataChannelEvent::Closed(id))
    });
    assert!(seen.b.contains(&DataChannelEvent::Closing(id)));
    assert!(seen.b.contains(&DataChannelEvent::Closed(id)));
    assert!(seen.a.contains(&DataChannelEvent::Closed(id)));
    assert_eq!(messages(&seen.b, id), vec![Bytes::from_static(b"bye")]);
    assert!(matches!(
        p.a.channel(id),
        Err(DataChannelError::NoSuchChannel(_))
    ));
    let again =
        p.a.create_channel("again", DataChannelInit::default())
            .expect("create");
    assert_eq!(again, id, "the id is reused");
    p.a.channel(again)
        .expect("open")
        .send_text("new")
        .expect("send");
    p.run_until(Duration::from_secs(10), |p| {
        seen.pull(p);
        messages(&seen.b, id).len() == 2
    });
    assert_eq!(messages(&seen.b, id)[1], "new");
}

#[test]
fn message_above_peer_max_message_size_is_refused() {
    let mut p = connected(5, 0.0, 15);
    p.a.set_remote_max_message_size(1000);
    let id =
        p.a.create_channel("m", DataChannelInit::default())
            .expect("create");
    let err =
        p.a.channel(id)
            .expect("open")
            .send_binary(Bytes::from(vec![0; 1001]));
    assert_eq!(
        err,
        Err(DataChannelError::MessageTooLarge {
            size: 1001,
            limit: 1000
        })
    );
    assert!(
        p.a.channel(id)
            .expect("open")
            .send_binary(Bytes::from(vec![0; 1000]))
            .is_ok()
    );
}

#[test]
fn pre_negotiated_channel_works_without_dcep() {
    let mut p = connected(5, 0.0, 17);
    let init = DataChannelInit {
        negotiated: true,
        id: Some(7),
        ..Default::default()
    };
    assert_eq!(p.a.create_channel("n", init.clone()).expect("a"), 7);
    assert_eq!(p.b.create_channel("n", init).expect("b"), 7);
    p.a.channel(7)
        .expect("open")
        .send_text("ping")
        .expect("send");
    p.b.channel(7)
        .expect("open")
        .send_text("pong")
        .expect("send");
    let mut seen = Seen::default();
    p.run_until(Duration::from_secs(5), |p| {
        seen.pull(p);
        !messages(&seen.a, 7).is_empty() && !messages(&seen.b, 7).is_empty()
    });
    assert_eq!(messages(&seen.b, 7), vec![Bytes::from_static(b"ping")]);
    assert_eq!(messages(&seen.a, 7), vec![Bytes::from_static(b"pong")]);
    assert!(
        !seen
            .b
            .iter()
            .any(|e| matches!(e, DataChannelEvent::Incoming(_))),
        "no DCEP"
    );
    assert_eq!(p.b.stats().bad_dcep, 0);
}

#[test]
fn sending_on_a_closed_or_unknown_channel_is_an_error() {
    let mut p = connected(5, 0.0, 19);
    assert!(matches!(
        p.a.channel(40),
        Err(DataChannelError::NoSuchChannel(40))
    ));
    let bad = DataChannelInit {
        max_retransmits: Some(1),
        max_packet_life_time: Some(1),
        ..Default::default()
    };
    assert!(matches!(
        p.a.create_channel("x", bad),
        Err(DataChannelError::InvalidInit(_))
    ));
    let id =
        p.a.create_channel("x", DataChannelInit::default())
            .expect("create");
    p.a.channel(id).expect("open").close().expect("close");
    assert!(matches!(
        p.a.channel(id).expect("closing").send_text("x"),
        Err(DataChannelError::NotOpen { .. })
    ));
}

#[test]
fn buffered_amount_low_fires_when_the_queue_drains() {
    let mut p = connected(20, 0.0, 21);
    let id =
        p.a.create_channel("b", DataChannelInit::default())
            .expect("create");
    let mut ch = p.a.channel(id).expect("open");
    ch.set_buffered_amount_low_threshold(10_000);
    ch.send_binary(Bytes::from(vec![1; 200_000])).expect("send");
    assert!(ch.buffered_amount() >= 200_000);
    let mut seen = Seen::default();
    p.run_until(Duration::from_secs(10), |p| {
        seen.pull(p);
        seen.a.contains(&DataChannelEvent::BufferedAmountLow(id))
    });
    assert!(seen.a.contains(&DataChannelEvent::BufferedAmountLow(id)));
    assert!(p.a.channel(id).expect("open").buffered_amount() <= 10_000);
}
