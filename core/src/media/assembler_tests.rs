//! Frame assembler behaviour: order, reordering, duplicates, loss and the bounded wait,
//! wrap-around, audio, memory bounds; proptests over arbitrary arrival orders.

use super::*;
use crate::media::packetize::Packetizer;
use crate::media::packetize::audio::AudioDepacketizer;
use crate::media::packetize::vp8::{Vp8Depacketizer, Vp8Packetizer};
use proptest::prelude::*;

const MS: Duration = Duration::from_millis(1);

/// The base of virtual time.
use crate::time::test_epoch as base;

/// VP8 frames: the first a keyframe, the others delta frames, `sizes[i]` bytes each.
fn frames(sizes: &[usize]) -> Vec<Vec<u8>> {
    sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let tag = if i == 0 { 0x50 } else { 0x51 };
            (0..n.max(1))
                .map(|j| if j == 0 { tag } else { (i + j) as u8 })
                .collect()
        })
        .collect()
}

/// Packets of `frames` with sequence numbers from `first_seq`, 3,000 ticks per frame.
fn packets(frames: &[Vec<u8>], first_seq: u16, max_payload: usize) -> Vec<AssemblerPacket> {
    let mut p = Vp8Packetizer::new(0);
    let mut seq = first_seq;
    let mut out = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        let payloads = p.packetize(frame, max_payload).expect("fits");
        let last = payloads.len() - 1;
        for (j, payload) in payloads.into_iter().enumerate() {
            out.push(AssemblerPacket {
                sequence_number: seq,
                timestamp: i as u32 * 3000,
                marker: j == last,
                payload_type: 96,
                payload: Bytes::from(payload),
            });
            seq = seq.wrapping_add(1);
        }
    }
    out
}

fn video() -> FrameAssembler {
    FrameAssembler::new(AssemblerConfig::video(90_000), Box::new(Vp8Depacketizer))
}

fn drain(a: &mut FrameAssembler) -> Vec<AssemblerEvent> {
    std::iter::from_fn(|| a.poll_event()).collect()
}

fn frames_of(events: &[AssemblerEvent]) -> Vec<&AssembledFrame> {
    events
        .iter()
        .filter_map(|e| match e {
            AssemblerEvent::Frame(f) => Some(f),
            _ => None,
        })
        .collect()
}

fn feed(a: &mut FrameAssembler, start: Instant, packets: &[AssemblerPacket]) {
    for (i, p) in packets.iter().enumerate() {
        a.handle_packet(start + MS * i as u32, p.clone());
    }
}

#[test]
fn frames_in_order_come_out_whole_contiguous_and_tagged() {
    let source = frames(&[3000, 500, 2500]);
    let mut a = video();
    feed(&mut a, base(), &packets(&source, 100, 1200));
    let events = drain(&mut a);
    let out = frames_of(&events);
    assert_eq!(out.len(), 3);
    for (i, f) in out.iter().enumerate() {
        assert_eq!(f.data, source[i]);
        assert_eq!(f.timestamp, i as u32 * 3000);
        assert!(f.contiguous);
        assert_eq!(f.keyframe, i == 0);
        assert_eq!(f.payload_type, 96);
    }
    assert_eq!(
        (out[0].first_sequence_number, out[0].last_sequence_number),
        (100, 102)
    );
    assert_eq!(a.buffered_bytes(), 0);
    assert_eq!(a.poll_timeout(), None);
}

#[test]
fn reordered_and_duplicated_packets_still_give_each_frame_once_in_order() {
    let source = frames(&[3000, 2000, 2500, 100]);
    let mut pk = packets(&source, 10, 1000);
    pk.swap(1, 3);
    pk.swap(4, 6);
    let dup = pk[2].clone();
    pk.insert(5, dup);
    let mut a = video();
    feed(&mut a, base(), &pk);
    let events = drain(&mut a);
    let out = frames_of(&events);
    assert_eq!(
        out.iter().map(|f| f.data.clone()).collect::<Vec<_>>(),
        source
    );
    assert!(out.iter().all(|f| f.contiguous));
    // The copy came after its frame was out: dropped as late.
    assert_eq!(a.stats().duplicates + a.stats().late, 1);
}

#[test]
fn a_packet_missing_is_reported_then_given_up_after_the_wait() {
    let source = frames(&[100, 2000, 100]);
    let mut pk = packets(&source, 0, 1200);
    let lost = pk.remove(2); // the second packet of frame 1
    let start = base();
    let mut a = video();
    feed(&mut a, start, &pk);
    let events = drain(&mut a);
    assert_eq!(frames_of(&events).len(), 1);
    assert!(events.contains(&AssemblerEvent::Missing {
        first: lost.sequence_number,
        count: 1
    }));
    let deadline = a.poll_timeout().expect("waiting for the missing packet");
    assert!(deadline - start <= Duration::from_millis(500));
    a.handle_timeout(deadline - MS);
    assert!(drain(&mut a).is_empty(), "early timeout is harmless");
    a.handle_timeout(deadline);
    let events = drain(&mut a);
    assert_eq!(events[0], AssemblerEvent::Lost { first: 1, count: 2 });
    let out = frames_of(&events);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].timestamp, out[0].contiguous), (6000, false));
    assert_eq!(a.stats().lost, 2);
    // The retransmission comes too late: dropped, counted.
    a.handle_packet(deadline + MS, lost);
    assert_eq!(a.stats().late, 1);
}

#[test]
fn a_retransmission_within_the_wait_repairs_the_frame() {
    let source = frames(&[100, 2000, 100]);
    let mut pk = packets(&source, 0, 1200);
    let lost = pk.remove(2);
    let start = base();
    let mut a = video();
    a.set_extra_wait(Duration::from_millis(50));
    feed(&mut a, start, &pk);
    a.handle_packet(start + Duration::from_millis(40), lost);
    a.handle_timeout(start + Duration::from_secs(1));
    let events = drain(&mut a);
    let out = frames_of(&events);
    assert_eq!(
        out.iter().map(|f| f.data.clone()).collect::<Vec<_>>(),
        source
    );
    assert!(out.iter().all(|f| f.contiguous));
}

#[test]
fn sequence_numbers_wrap_without_a_gap() {
    let source = frames(&[2500, 2500, 2500]);
    let mut a = video();
    feed(&mut a, base(), &packets(&source, 65533, 1200));
    let events = drain(&mut a);
    assert_eq!(frames_of(&events).len(), 3);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, AssemblerEvent::Missing { .. }))
    );
}

#[test]
fn the_first_frames_may_arrive_reordered() {
    let source = frames(&[2500, 100]);
    let mut pk = packets(&source, 7, 1200);
    pk.reverse();
    let mut a = video();
    feed(&mut a, base(), &pk);
    let events = drain(&mut a);
    let out = frames_of(&events);
    assert_eq!(
        out.iter().map(|f| f.data.clone()).collect::<Vec<_>>(),
        source
    );
}

#[test]
fn a_stream_joined_without_a_keyframe_starts_after_the_wait() {
    let source = frames(&[100, 100, 100]);
    let pk = packets(&source, 0, 1200);
    let start = base();
    let mut a = video();
    feed(&mut a, start, &pk[1..]);
    assert!(frames_of(&drain(&mut a)).is_empty());
    a.handle_timeout(start + Duration::from_secs(1));
    let events = drain(&mut a);
    let out = frames_of(&events);
    assert_eq!(
        out.len(),
        1,
        "the first delta frame is dropped with the wait"
    );
    assert!(!out[0].contiguous);
}

#[test]
fn audio_packets_are_frames_with_a_short_wait() {
    let mut a = FrameAssembler::new(AssemblerConfig::audio(48_000), Box::new(AudioDepacketizer));
    let start = base();
    for seq in [0u16, 1, 3, 4] {
        a.handle_packet(
            start + MS * 20 * u32::from(seq),
            AssemblerPacket {
                sequence_number: seq,
                timestamp: u32::from(seq) * 960,
                marker: seq == 0,
                payload_type: 111,
                payload: Bytes::from(vec![seq as u8; 80]),
            },
        );
    }
    assert_eq!(frames_of(&drain(&mut a)).len(), 2);
    let deadline = a.poll_timeout().expect("waiting for 2");
    assert!(deadline - (start + MS * 60) <= Duration::from_millis(80));
    a.handle_timeout(deadline);
    let events = drain(&mut a);
    let out = frames_of(&events);
    assert_eq!(
        out.iter().map(|f| f.timestamp).collect::<Vec<_>>(),
        [2880, 3840]
    );
    assert!(!out[0].contiguous && out[1].contiguous);
}

#[test]
fn memory_stays_bounded_whatever_arrives() {
    let mut config = AssemblerConfig::video(90_000);
    config.max_bytes = 100_000;
    config.window = 256;
    let mut a = FrameAssembler::new(config.clone(), Box::new(Vp8Depacketizer));
    let start = base();
    let mut x = 12345u32;
    for i in 0..20_000u32 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let payload = vec![0x10u8; (x >> 20) as usize % 1500 + 1];
        a.handle_packet(
            start + MS * i,
            AssemblerPacket {
                sequence_number: (x >> 8) as u16,
                timestamp: x,
                marker: x & 1 == 0,
                payload_type: 96,
                payload: Bytes::from(payload),
            },
        );
        assert!(a.buffered_bytes() <= config.max_bytes);
        assert!(a.events.len() <= config.max_events);
        if i % 7 == 0 {
            a.handle_timeout(start + MS * i);
        }
    }
    assert!(a.stats().overflow > 0 || a.stats().lost > 0);
}

#[test]
fn the_wait_grows_with_measured_jitter() {
    let source = frames(&[100; 60]);
    let pk = packets(&source, 0, 1200);
    let start = base();
    let mut a = video();
    for (i, p) in pk.iter().enumerate() {
        let wobble = if i % 2 == 0 { 0 } else { 30 };
        a.handle_packet(start + MS * (33 * i as u32 + wobble), p.clone());
    }
    assert!(a.jitter() > Duration::from_millis(10));
    assert!(a.current_wait() > Duration::from_millis(50));
}

#[derive(Debug, Clone)]
struct Scenario {
    sizes: Vec<usize>,
    order: Vec<usize>,
    duplicates: Vec<usize>,
    drops: Vec<usize>,
    first_seq: u16,
}

fn scenario(max_drops: usize) -> impl Strategy<Value = Scenario> {
    (
        proptest::collection::vec(1usize..3000, 1..25),
        any::<u16>(),
        any::<u64>(),
    )
        .prop_flat_map(move |(sizes, first_seq, _)| {
            let n = packets(&frames(&sizes), 0, 1000).len();
            (
                Just(sizes),
                Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
                proptest::collection::vec(0..n, 0..5),
                proptest::collection::vec(0..n, 0..=max_drops),
                Just(first_seq),
            )
        })
        .prop_map(|(sizes, order, duplicates, drops, first_seq)| Scenario {
            sizes,
            order,
            duplicates,
            drops,
            first_seq,
        })
}

/// Runs a scenario with one packet per millisecond; returns the source and the frames.
fn run(s: &Scenario, config: AssemblerConfig) -> (Vec<Vec<u8>>, Vec<AssembledFrame>) {
    let source = frames(&s.sizes);
    let pk = packets(&source, s.first_seq, 1000);
    let mut arrivals: Vec<usize> = s
        .order
        .iter()
        .copied()
        .filter(|i| !s.drops.contains(i))
        .collect();
    for &d in &s.duplicates {
        if !s.drops.contains(&d) {
            arrivals.insert(d % (arrivals.len() + 1), d);
        }
    }
    let max_bytes = config.max_bytes;
    let mut a = FrameAssembler::new(config, Box::new(Vp8Depacketizer));
    let start = base();
    let mut out = Vec::new();
    for (t, &i) in arrivals.iter().enumerate() {
        let now = start + MS * t as u32;
        a.handle_timeout(now);
        a.handle_packet(now, pk[i].clone());
        assert!(a.buffered_bytes() <= max_bytes);
        out.extend(drain(&mut a));
    }
    a.handle_timeout(start + Duration::from_secs(3600));
    out.extend(drain(&mut a));
    let frames = out
        .into_iter()
        .filter_map(|e| match e {
            AssemblerEvent::Frame(f) => Some(f),
            _ => None,
        })
        .collect();
    (source, frames)
}

proptest! {
    #[test]
    fn without_loss_every_frame_arrives_whole_in_order(s in scenario(0)) {
        let mut config = AssemblerConfig::video(90_000);
        config.min_wait = Duration::from_secs(10);
        config.max_wait = Duration::from_secs(10);
        let (source, out) = run(&s, config);
        prop_assert_eq!(out.len(), source.len());
        for (f, (i, data)) in out.iter().zip(source.iter().enumerate()) {
            prop_assert_eq!(&f.data, data);
            prop_assert_eq!(f.timestamp, i as u32 * 3000);
            prop_assert!(f.contiguous);
        }
    }

    #[test]
    fn with_loss_frames_are_whole_in_order_and_gaps_are_flagged(s in scenario(6)) {
        let (source, out) = run(&s, AssemblerConfig::video(90_000));
        let mut previous: Option<usize> = None;
        for f in &out {
            let i = (f.timestamp / 3000) as usize;
            prop_assert_eq!(&f.data, &source[i], "frame {} whole", i);
            if let Some(p) = previous {
                prop_assert!(i > p, "in order");
                if f.contiguous {
                    prop_assert_eq!(i, p + 1);
                }
            } else if f.contiguous {
                prop_assert_eq!(i, 0);
            }
            previous = Some(i);
        }
    }

    #[test]
    fn arbitrary_packets_never_panic_and_stay_bounded(
        input in proptest::collection::vec(
            (any::<u16>(), any::<u32>(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..40), 0u32..100),
            0..300)
    ) {
        let mut config = AssemblerConfig::video(90_000);
        config.max_bytes = 2000;
        config.window = 32;
        config.max_events = 16;
        let mut a = FrameAssembler::new(config, Box::new(Vp8Depacketizer));
        let mut now = base();
        for (seq, ts, marker, payload, dt) in input {
            now += MS * dt;
            a.handle_timeout(now);
            a.handle_packet(now, AssemblerPacket {
                sequence_number: seq, timestamp: ts, marker, payload_type: 96,
                payload: Bytes::from(payload),
            });
            prop_assert!(a.buffered_bytes() <= 2000);
            prop_assert!(a.events.len() <= 16);
            if dt % 3 == 0 {
                drain(&mut a);
            }
        }
    }
}

#[test]
fn an_assembled_vp9_frame_carries_its_svc_layer() {
    use crate::media::packetize::{SvcLayer, vp9::Vp9Depacketizer};
    let mut a = FrameAssembler::new(AssemblerConfig::video(90_000), Box::new(Vp9Depacketizer));
    // Key picture (P clear) of SID 0, TID 0, non-flexible, start and end of the frame.
    let payload = vec![0xac, 0x05, 0x00, 0x07, 0x82, 0x49];
    a.handle_packet(
        base(),
        AssemblerPacket {
            sequence_number: 1,
            timestamp: 0,
            marker: true,
            payload_type: 98,
            payload: Bytes::from(payload),
        },
    );
    let events = drain(&mut a);
    let frame = frames_of(&events)[0];
    assert_eq!(
        frame.svc_layer,
        Some(SvcLayer {
            spatial: 0,
            temporal: 0,
            switching_up: Some(false),
            inter_layer_dependency: Some(false),
        })
    );
    assert!(frame.keyframe);
}
