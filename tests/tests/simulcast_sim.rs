//! Simulcast between two rtcpeer peers in the simulator (RFC 8853, RFC 8851, RFC 8852):
//! a sender with three encodings offers `a=rid`/`a=simulcast`, the answer receives them,
//! each layer is its own RTP stream (SSRC, numbering, reports) named by the rid
//! extension, the receiver tells the layers apart by it without any `a=ssrc` line, layers
//! switched off pause at the receiver and resume, and RTX repairs each layer by its
//! repaired-rid. A forwarder's [`LayerSelector`] follows the estimate of the link to its
//! viewer through a bottleneck.

mod pc_common;

use pc_common::{Pair, nominated};
use rtcpeer::media::codec::MediaCodecs;
use rtcpeer::media::{
    FrameWrite, LayerSelector, LayerSelectorConfig, ReceivedFrame, SendEncoding,
    TransceiverDirection, TransceiverId, TransceiverInit, allocate_layers,
};
use rtcpeer::peer_connection::{
    Event, PeerConnection, PeerConnectionError, RtcConfiguration, SimPeer,
};
use rtcpeer::sdp::MediaKind;
use rtcpeer::sim::{Direction, LinkConfig};
use std::time::{Duration, Instant};

const RIDS: [&str; 3] = ["h", "m", "l"];
const VP8: u8 = 96;

/// Layer `layer`'s frame `index`: a VP8 frame tag (keyframe or not), the layer and index,
/// then bytes that depend on both; the high layer is largest.
fn frame(layer: usize, index: u32, keyframe: bool) -> Vec<u8> {
    let len = [3000, 1200, 400][layer] * if keyframe { 4 } else { 1 };
    let mut f = vec![if keyframe { 0x10 } else { 0x11 }, 0, 0, 0x9d, 0x01, 0x2a];
    f.push(layer as u8);
    f.extend_from_slice(&index.to_be_bytes());
    let mut x = (index.wrapping_mul(2_654_435_761) ^ (layer as u32 * 77)) | 1;
    while f.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        f.push(x as u8);
    }
    f
}

/// The (layer, index) a received frame carries, if its bytes are exactly what was sent.
fn intact(f: &ReceivedFrame) -> Option<(usize, u32)> {
    let layer = usize::from(*f.data.get(6)?);
    let index = u32::from_be_bytes(f.data.get(7..11)?.try_into().ok()?);
    let keyframe = f.data.first()? & 1 == 0;
    (layer < 3 && f.data[..] == frame(layer, index, keyframe)[..]).then_some((layer, index))
}

fn encodings() -> Vec<SendEncoding> {
    vec![
        SendEncoding::new("h").with_max_bitrate(1_500_000),
        SendEncoding::new("m")
            .with_max_bitrate(500_000)
            .with_scale(2.0),
        SendEncoding::new("l")
            .with_max_bitrate(150_000)
            .with_scale(4.0),
    ]
}

fn peer(seed: u64, addr: &str, now: Instant) -> SimPeer {
    peer_allocating(seed, addr, now, false)
}

/// A peer; `allocate`: its bandwidth estimate switches simulcast layers (the other tests
/// leave them to the application).
fn peer_allocating(seed: u64, addr: &str, now: Instant, allocate: bool) -> SimPeer {
    let mut config = RtcConfiguration {
        codecs: MediaCodecs::default(),
        ..RtcConfiguration::with_seed(seed)
    };
    config.bandwidth.allocate_simulcast = allocate;
    let mut pc = PeerConnection::new(config, now).expect("config");
    pc.add_local_socket(now, addr.parse().expect("addr"))
        .expect("socket");
    SimPeer::new(pc)
}

/// a sends simulcast video (h, m, l) to b, whose receiver is in frame mode; connected,
/// with `latency` on both links. Returns the pair, a's and b's transceivers.
fn simulcast_call(seed: u64, latency: Duration) -> (Pair, TransceiverId, TransceiverId) {
    simulcast_call_with(seed, latency, false)
}

/// [`simulcast_call`], a's estimate switching its layers when `allocate`.
fn simulcast_call_with(
    seed: u64,
    latency: Duration,
    allocate: bool,
) -> (Pair, TransceiverId, TransceiverId) {
    let mut p = Pair::with_peers(seed, |now| {
        (
            peer_allocating(seed * 2 + 1, pc_common::A_ADDR, now, allocate),
            peer(seed * 2 + 2, pc_common::B_ADDR, now),
        )
    });
    for node in [p.a, p.b] {
        p.sim
            .set_node_link(node, Direction::Both, LinkConfig::new().latency(latency))
            .expect("link");
    }
    let (a_video, b_video) = p.connect_media(|pc| {
        let init = TransceiverInit {
            direction: TransceiverDirection::SendOnly,
            stream_ids: vec!["s".into()],
            send_encodings: encodings(),
        };
        pc.add_transceiver(MediaKind::Video, init)
            .expect("transceiver")
    });
    (p, a_video, b_video)
}

fn frames(p: &Pair, id: TransceiverId) -> Vec<&ReceivedFrame> {
    p.events(false)
        .iter()
        .filter_map(|e| match e {
            Event::Frame(f) if f.transceiver == id => Some(f),
            _ => None,
        })
        .collect()
}

/// a writes `count` frames at 30 fps on every layer `on(i)` allows (a keyframe first on
/// each layer and whenever a layer starts again); returns what each write returned per
/// layer (ok or not).
fn stream(
    p: &mut Pair,
    a: TransceiverId,
    first: u32,
    count: u32,
    mut on: impl FnMut(u32) -> [bool; 3],
) -> [u32; 3] {
    let start = p.sim.now();
    let mut written = [0u32; 3];
    let mut was_on = [false; 3];
    for i in first..first + count {
        let want = on(i);
        for layer in 0..3 {
            if !want[layer] {
                was_on[layer] = false;
                continue;
            }
            let keyframe = !was_on[layer];
            was_on[layer] = true;
            let data = frame(layer, i, keyframe);
            let ok = p.with(true, |pc| {
                pc.transceiver(a)
                    .expect("t")
                    .write_layer_frame(RIDS[layer], FrameWrite::new(i.wrapping_mul(3000), &data))
            });
            if ok.is_ok() {
                written[layer] += 1;
            }
        }
        let next = start + Duration::from_nanos(1_000_000_000 / 30 * u64::from(i - first + 1));
        p.run_until(Duration::from_secs(1), |p| p.sim.now() >= next);
    }
    written
}

/// Intact frames b received per layer rid, as indexes.
fn per_layer(p: &Pair, b: TransceiverId) -> [Vec<u32>; 3] {
    let mut out: [Vec<u32>; 3] = Default::default();
    for f in frames(p, b) {
        let (layer, index) = intact(f).expect("every frame arrives intact");
        assert_eq!(
            f.rid.as_deref(),
            Some(RIDS[layer]),
            "frame named by its layer's rid"
        );
        out[layer].push(index);
    }
    out
}

#[test]
fn the_offer_declares_three_rids_and_the_answer_receives_them() {
    let mut p = Pair::with_peers(1, |now| {
        (
            peer(11, pc_common::A_ADDR, now),
            peer(12, pc_common::B_ADDR, now),
        )
    });
    let offer = p.with(true, |pc| {
        let mut e = encodings();
        e[2].active = false;
        e[0].max_width = Some(1280);
        let init = TransceiverInit {
            send_encodings: e,
            ..TransceiverInit::default()
        };
        pc.add_transceiver(MediaKind::Video, init).expect("t");
        pc.create_offer().expect("offer")
    });
    let sdp = offer.sdp.clone();
    assert!(
        sdp.contains("a=rid:h send max-width=1280;max-br=1500000\r\n"),
        "{sdp}"
    );
    assert!(sdp.contains("a=rid:m send max-br=500000\r\n"), "{sdp}");
    assert!(sdp.contains("a=rid:l send max-br=150000\r\n"), "{sdp}");
    assert!(sdp.contains("a=simulcast:send h;m;~l\r\n"), "{sdp}");
    assert!(sdp.contains("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"));
    assert!(sdp.contains("urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"));
    // The SSRCs are learned from the rids, as with browsers: no a=ssrc lines.
    assert!(!sdp.contains("a=ssrc:"), "{sdp}");
    let answer = p.with(false, |pc| {
        pc.set_remote_description(offer).expect("srd");
        pc.create_answer().expect("answer")
    });
    let sdp = answer.sdp;
    for rid in RIDS {
        assert!(sdp.contains(&format!("a=rid:{rid} recv\r\n")), "{sdp}");
    }
    assert!(sdp.contains("a=simulcast:recv h;m;l\r\n"), "{sdp}");
    let b_t = p.with(false, |pc| pc.transceivers()[0]);
    let rids = p.with(false, |pc| {
        pc.transceiver(b_t).expect("t").remote_rids().to_vec()
    });
    assert_eq!(rids, ["h", "m", "l"]);
}

#[test]
fn simulcast_is_for_video_with_at_most_three_distinct_rids() {
    let mut pc =
        PeerConnection::new(RtcConfiguration::with_seed(3), pc_common::start()).expect("pc");
    let audio = TransceiverInit {
        send_encodings: encodings(),
        ..TransceiverInit::default()
    };
    assert!(pc.add_transceiver(MediaKind::Audio, audio).is_err());
    let mut four = encodings();
    four.push(SendEncoding::new("x"));
    let init = TransceiverInit {
        send_encodings: four,
        ..TransceiverInit::default()
    };
    assert!(pc.add_transceiver(MediaKind::Video, init).is_err());
    assert!(pc.transceivers().is_empty());
}

#[test]
fn three_layers_cross_each_on_its_own_ssrc_named_by_its_rid() {
    let (mut p, a, b) = simulcast_call(2, Duration::from_millis(10));
    let written = stream(&mut p, a, 0, 90, |_| [true; 3]);
    assert_eq!(written, [90; 3]);
    p.run_until(Duration::from_secs(1), |_| false);
    let got = per_layer(&p, b);
    for (layer, indexes) in got.iter().enumerate() {
        assert_eq!(indexes, &(0..90).collect::<Vec<_>>(), "layer {layer}");
    }
    let frames = frames(&p, b);
    let ssrc_of = |rid: &str| {
        let mut s: Vec<u32> = frames
            .iter()
            .filter(|f| f.rid.as_deref() == Some(rid))
            .map(|f| f.ssrc)
            .collect();
        s.dedup();
        assert_eq!(s.len(), 1, "one SSRC per layer");
        s[0]
    };
    let ssrcs = RIDS.map(ssrc_of);
    assert!(ssrcs[0] != ssrcs[1] && ssrcs[1] != ssrcs[2] && ssrcs[0] != ssrcs[2]);
    // The sender's stats: one entry per layer with its rid, its own SSRC and counters.
    let layers = p.with(true, |pc| pc.transceiver(a).expect("t").layer_stats());
    for (i, l) in layers.iter().enumerate() {
        assert_eq!(l.rid.as_deref(), Some(RIDS[i]));
        assert_eq!(l.ssrc, ssrcs[i]);
        assert_eq!((l.frames_sent, l.key_frames_sent), (90, 1));
        // Receiver reports reached every layer (round-trip time per layer).
        let remote = l
            .remote
            .as_ref()
            .expect("a receiver report about the layer");
        assert!(remote.round_trip_time.is_some());
    }
    let received = p.with(false, |pc| pc.transceiver(b).expect("t").receiver_stats());
    for (i, rid) in RIDS.iter().enumerate() {
        let s = received
            .iter()
            .find(|s| s.rid.as_deref() == Some(*rid))
            .expect("inbound stats per rid");
        assert_eq!(s.ssrc, ssrcs[i]);
        assert_eq!(s.frames_received, 90);
        assert!(s.sender_reports_received > 0, "each layer sends its SRs");
    }
    assert!(p.with(true, |pc| {
        pc.transceiver(a).expect("t").simulcast_negotiated()
    }));
}

/// Counts b's pause and resume events for `rid`.
fn pauses(p: &Pair, rid: &str) -> (usize, usize) {
    let events = p.events(false);
    let paused = events
        .iter()
        .filter(|e| matches!(e, Event::LayerPaused { rid: r, .. } if r == rid))
        .count();
    let resumed = events
        .iter()
        .filter(|e| matches!(e, Event::LayerResumed { rid: r, .. } if r == rid))
        .count();
    (paused, resumed)
}

#[test]
fn a_layer_switched_off_refuses_writes_pauses_at_the_receiver_and_resumes() {
    let (mut p, a, b) = simulcast_call(3, Duration::from_millis(10));
    stream(&mut p, a, 0, 30, |_| [true; 3]);
    assert_eq!(pauses(&p, "h"), (0, 0));
    p.with(true, |pc| {
        pc.transceiver(a).expect("t").set_layer_active("h", false)
    })
    .expect("h off");
    let refused = p.with(true, |pc| {
        pc.transceiver(a)
            .expect("t")
            .write_layer_frame("h", FrameWrite::new(0, &frame(0, 0, true)))
    });
    assert!(
        matches!(
            refused,
            Err(rtcpeer::Error::PeerConnection(PeerConnectionError::LayerInactive(ref r))) if r == "h"
        ),
        "{refused:?}"
    );
    let unknown = p.with(true, |pc| {
        pc.transceiver(a)
            .expect("t")
            .write_layer_frame("x", FrameWrite::new(0, &frame(0, 0, true)))
    });
    assert!(matches!(
        unknown,
        Err(rtcpeer::Error::PeerConnection(
            PeerConnectionError::NoSuchLayer(_)
        ))
    ));
    // Three seconds with h off (the application keeps trying to write it).
    let written = stream(&mut p, a, 30, 90, |_| [true; 3]);
    assert_eq!(written, [0, 90, 90]);
    assert_eq!(pauses(&p, "h"), (1, 0), "h paused once");
    assert_eq!(pauses(&p, "m"), (0, 0));
    assert_eq!(pauses(&p, "l"), (0, 0));
    let layers = p.with(true, |pc| pc.transceiver(a).expect("t").send_encodings());
    assert_eq!(
        layers.iter().map(|e| e.active).collect::<Vec<_>>(),
        [false, true, true]
    );
    // Back on: h resumes, with a keyframe, and its frames arrive again.
    p.with(true, |pc| {
        pc.transceiver(a).expect("t").set_layer_active("h", true)
    })
    .expect("h on");
    stream(&mut p, a, 120, 30, |_| [true; 3]);
    p.run_until(Duration::from_secs(1), |_| false);
    assert_eq!(pauses(&p, "h"), (1, 1));
    let got = per_layer(&p, b);
    let want_h: Vec<u32> = (0..30).chain(120..150).collect();
    assert_eq!(got[0], want_h);
    assert_eq!(got[1], (0..150).collect::<Vec<_>>());
    assert_eq!(got[2], (0..150).collect::<Vec<_>>());
    // The resumed layer starts with a keyframe.
    let first_after = frames(&p, b)
        .into_iter()
        .find(|f| intact(f) == Some((0, 120)))
        .expect("frame 120 of h");
    assert!(first_after.keyframe);
}

#[test]
fn allocation_from_a_target_bitrate_switches_layers() {
    let (mut p, a, b) = simulcast_call(4, Duration::from_millis(10));
    assert_eq!(allocate_layers(700_000, &encodings()), [false, true, true]);
    let on = p.with(true, |pc| {
        pc.transceiver(a).expect("t").allocate_layers(700_000)
    });
    assert_eq!(on, [false, true, true]);
    let written = stream(&mut p, a, 0, 60, |_| [true; 3]);
    assert_eq!(written, [0, 60, 60]);
    let on = p.with(true, |pc| {
        pc.transceiver(a).expect("t").allocate_layers(200_000)
    });
    assert_eq!(on, [false, false, true]);
    let written = stream(&mut p, a, 60, 60, |_| [true; 3]);
    assert_eq!(written, [0, 0, 60]);
    let on = p.with(true, |pc| {
        pc.transceiver(a).expect("t").allocate_layers(5_000_000)
    });
    assert_eq!(on, [true, true, true]);
    let written = stream(&mut p, a, 120, 30, |_| [true; 3]);
    assert_eq!(written, [30; 3]);
    p.run_until(Duration::from_secs(1), |_| false);
    let got = per_layer(&p, b);
    assert_eq!(got[0], (120..150).collect::<Vec<_>>());
    assert_eq!(got[1], (0..60).chain(120..150).collect::<Vec<_>>());
    assert_eq!(got[2], (0..150).collect::<Vec<_>>());
    assert_eq!(pauses(&p, "m"), (1, 1));
}

#[test]
fn rtx_repairs_each_layer_by_its_repaired_rid() {
    let (mut p, a, b) = simulcast_call(5, Duration::from_millis(15));
    // One VP8 packet in seven is lost on the way to b (RTX has another payload type and
    // passes, as do the RTCP reports and NACKs), after the first frames: a receiver cannot
    // know of a loss before a stream's first packet.
    let mut n = 0u32;
    p.sim.add_rule(rtcpeer::sim::Rule::drop(move |d| {
        let media = d.payload.first().is_some_and(|b| (128..=191).contains(b))
            && d.payload.get(1).is_some_and(|pt| (pt & 0x7f) == VP8);
        if media {
            n += 1;
        }
        media && n > 40 && n % 7 == 3
    }));
    stream(&mut p, a, 0, 150, |_| [true; 3]);
    p.run_until(Duration::from_secs(2), |_| false);
    let got = per_layer(&p, b);
    for (layer, indexes) in got.iter().enumerate() {
        assert_eq!(
            indexes,
            &(0..150).collect::<Vec<_>>(),
            "layer {layer} whole"
        );
    }
    let sent = p.with(true, |pc| pc.transceiver(a).expect("t").layer_stats());
    let received = p.with(false, |pc| pc.transceiver(b).expect("t").receiver_stats());
    for (i, rid) in RIDS.iter().enumerate() {
        assert!(sent[i].nack_count > 0, "{rid} was NACKed");
        assert!(sent[i].retransmitted_packets_sent > 0, "{rid} resent");
        let r = received
            .iter()
            .find(|s| s.rid.as_deref() == Some(*rid))
            .expect("inbound per rid");
        assert!(
            r.retransmitted_packets_received > 0,
            "{rid}: RTX restored into its own layer"
        );
        assert_eq!(r.ssrc, sent[i].ssrc);
    }
    let dropped = p.pc(false).stats().media.rtx_dropped;
    assert_eq!(dropped, 0, "every RTX found its layer");
}

#[test]
fn an_answer_without_simulcast_leaves_one_layer_sent_without_rid() {
    let mut p = Pair::with_peers(6, |now| {
        (
            peer(61, pc_common::A_ADDR, now),
            peer(62, pc_common::B_ADDR, now),
        )
    });
    let a = p.with(true, |pc| {
        let init = TransceiverInit {
            direction: TransceiverDirection::SendOnly,
            send_encodings: encodings(),
            ..TransceiverInit::default()
        };
        pc.add_transceiver(MediaKind::Video, init).expect("t")
    });
    let offer = p.with(true, |pc| {
        let o = pc.create_offer().expect("offer");
        pc.set_local_description(o.clone()).expect("sld");
        o
    });
    p.collect();
    // A peer that knows no simulcast: it drops the a=rid and a=simulcast lines.
    let answer = p.with(false, |pc| {
        pc.set_remote_description(offer).expect("srd");
        let a = pc.create_answer().expect("answer");
        pc.set_local_description(a.clone()).expect("sld");
        a
    });
    let mut answer = answer;
    answer.sdp = answer
        .sdp
        .split("\r\n")
        .filter(|l| !l.starts_with("a=rid:") && !l.starts_with("a=simulcast:"))
        .collect::<Vec<_>>()
        .join("\r\n");
    p.collect();
    p.with(true, |pc| {
        pc.set_remote_description(answer).expect("srd answer")
    });
    assert!(p.run_until(Duration::from_secs(10), |p| p.connected()));
    assert!(p.run_until(Duration::from_secs(5), nominated));
    assert!(!p.with(true, |pc| {
        pc.transceiver(a).expect("t").simulcast_negotiated()
    }));
    let b = p.receive_frames_of_heard_track();
    let written = stream(&mut p, a, 0, 30, |_| [true; 3]);
    assert_eq!(written, [30, 0, 0], "only the first layer is sent");
    p.run_until(Duration::from_secs(1), |_| false);
    let got = frames(&p, b);
    assert_eq!(got.len(), 30);
    assert!(
        got.iter().all(|f| f.rid.is_none()),
        "no rid without simulcast"
    );
}

/// The layers a's estimate has switched on, as flags.
fn active_layers(p: &mut Pair, a: TransceiverId) -> [bool; 3] {
    p.with(true, |pc| {
        let stats = pc.stats();
        let t = stats
            .transceivers
            .iter()
            .find(|t| t.transceiver == Some(a))
            .expect("a's transceiver");
        let mut on = [false; 3];
        for (flag, layer) in on.iter_mut().zip(&t.outbound_layers) {
            *flag = layer.active;
        }
        on
    })
}

#[test]
fn the_bandwidth_estimate_switches_layers_on_and_off() {
    let (mut p, a, b) = simulcast_call_with(9, Duration::from_millis(10), true);
    // From the 300 kbit/s start only the cheapest layer fits.
    let written = stream(&mut p, a, 0, 3, |_| [true; 3]);
    assert_eq!(written, [0, 0, 3], "h and m wait for the estimate");
    // A clean link: probes and feedback raise the estimate; every layer goes on.
    let mut all_on_at = None;
    for i in 0..10 {
        stream(&mut p, a, 3 + i * 30, 30, |_| [true; 3]);
        if active_layers(&mut p, a) == [true; 3] {
            all_on_at = Some(i);
            break;
        }
    }
    assert!(
        all_on_at.is_some(),
        "layers still {:?}",
        active_layers(&mut p, a)
    );
    // The path narrows to 400 kbit/s: the estimate falls and h and m go off again.
    p.sim
        .set_node_link(
            p.a,
            Direction::Up,
            LinkConfig::new()
                .latency(Duration::from_millis(10))
                .bandwidth(400_000, 5_000),
        )
        .expect("link");
    let mut narrowed = false;
    for i in 0..20 {
        stream(&mut p, a, 1000 + i * 30, 30, |_| [true; 3]);
        if active_layers(&mut p, a) == [false, false, true] {
            narrowed = true;
            break;
        }
    }
    assert!(narrowed, "layers still {:?}", active_layers(&mut p, a));
    assert!(!per_layer(&p, b)[0].is_empty(), "h crossed while it was on");
}

/// The forwarder's side of an SFU in the simulator: three layers arrive (synthetic
/// frames of the sizes `frame` makes: about 0.75, 0.3 and 0.1 Mbit/s), a [`LayerSelector`]
/// measures them and picks, from the estimate of the connection to the viewer, the one
/// forwarded; a switch starts with a keyframe of the new layer, as a publisher sends after a
/// PLI.
struct SimForwarder {
    selector: LayerSelector,
    forwarded: Option<usize>,
    index: u32,
}

impl SimForwarder {
    /// One frame interval: every layer's frame arrives, the layer is chosen and its frame
    /// written on `a`'s (plain, single-stream) video transceiver; then 1/30 s passes.
    fn tick(&mut self, p: &mut Pair, a: TransceiverId) {
        let now = p.sim.now();
        for (layer, rid) in RIDS.iter().enumerate() {
            self.selector
                .on_packet(rid, frame(layer, self.index, false).len(), now);
        }
        let estimate = p.pc(true).bandwidth_estimate().map(|s| s.target_bps);
        let chosen = self.selector.select(estimate, now);
        let layer = chosen.and_then(|rid| RIDS.iter().position(|r| *r == rid));
        if let Some(layer) = layer {
            let keyframe = self.forwarded != Some(layer);
            self.forwarded = Some(layer);
            let data = frame(layer, self.index, keyframe);
            p.with(true, |pc| {
                pc.transceiver(a)
                    .expect("t")
                    .write_frame(FrameWrite::new(self.index.wrapping_mul(3000), &data))
            })
            .expect("frame written");
        }
        self.index += 1;
        let next = now + Duration::from_nanos(1_000_000_000 / 30);
        p.run_until(Duration::from_secs(1), |p| p.sim.now() >= next);
    }

    /// Runs `seconds` of frames; returns the layer forwarded at the end.
    fn run(&mut self, p: &mut Pair, a: TransceiverId, seconds: u32) -> Option<&'static str> {
        for _ in 0..seconds * 30 {
            self.tick(p, a);
        }
        self.forwarded.map(|l| RIDS[l])
    }
}

/// The layer of the last frame the viewer received intact.
fn last_layer_received(p: &Pair, b: TransceiverId) -> Option<&'static str> {
    frames(p, b)
        .into_iter()
        .rev()
        .find_map(intact)
        .map(|(layer, _)| RIDS[layer])
}

#[test]
fn the_viewers_estimate_chooses_the_forwarded_layer_through_a_bottleneck() {
    let mut p = Pair::with_peers(10, |now| {
        (
            peer(101, pc_common::A_ADDR, now),
            peer(102, pc_common::B_ADDR, now),
        )
    });
    let free = LinkConfig::new().latency(Duration::from_millis(20));
    for node in [p.a, p.b] {
        p.sim
            .set_node_link(node, Direction::Both, free.clone())
            .expect("link");
    }
    let (a, b) = p.connect_media(|pc| {
        let init = TransceiverInit {
            direction: TransceiverDirection::SendOnly,
            ..TransceiverInit::default()
        };
        pc.add_transceiver(MediaKind::Video, init)
            .expect("transceiver")
    });
    let mut fwd = SimForwarder {
        selector: LayerSelector::new(LayerSelectorConfig::default()),
        forwarded: None,
        index: 0,
    };
    let estimate = |p: &Pair| p.pc(true).bandwidth_estimate().map(|s| s.target_bps);
    // A free path: the estimate climbs past h's rate and h is forwarded.
    assert_eq!(fwd.run(&mut p, a, 8), Some("h"), "{:?}", estimate(&p));
    assert_eq!(last_layer_received(&p, b), Some("h"));
    // The path to the viewer narrows to 300 kbit/s (100 ms queue): down to l.
    let narrow = free.bandwidth(300_000, 3_750);
    p.sim
        .set_node_link(p.a, Direction::Up, narrow)
        .expect("link");
    assert_eq!(fwd.run(&mut p, a, 8), Some("l"), "{:?}", estimate(&p));
    assert_eq!(last_layer_received(&p, b), Some("l"));
    let narrowed = estimate(&p).expect("an estimate");
    assert!(narrowed < 400_000, "estimate {narrowed} through 300 kbit/s");
    // Not asserted here: climbing back once the path frees. Forwarding l (about 0.1 Mbit/s)
    // the estimate was 0.12 Mbit/s after 30 s of free path, so above the 65 % of it that
    // counts as application-limited, so the estimator does not probe and h is not offered again (with Chromium as
    // the viewer it does climb back: `chromium_simulcast`).
}
