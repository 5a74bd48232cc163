//! Frames through a lossy path between two rtcpeer peers in the simulator: the frame API
//! (`write_frame` on one side, `Event::Frame` on the other), generic NACK with RTX
//! retransmission, keyframe requests only when recovery is impossible, and a PLI reaching
//! the sender within one round trip.

mod pc_common;

use pc_common::Pair;
use rtcpeer::media::codec::MediaCodecs;
use rtcpeer::media::frame_options::{
    AudioLevel, FrameOptions, PlayoutDelay, ReceivedFrameInfo, VideoOrientation,
};
use rtcpeer::media::{FrameWrite, KeyframeRequestKind, ReceivedFrame, TrackInfo, TransceiverId};
use rtcpeer::peer_connection::{Event, PeerConnection, RtcConfiguration, SimPeer};
use rtcpeer::sdp::MediaKind;
use rtcpeer::sim::{Direction, GilbertElliott, LinkConfig, Loss};
use std::time::{Duration, Instant};

/// One frame interval at 30 fps, in nanoseconds.
const FRAME_NANOS: u64 = 1_000_000_000 / 30;
/// Bytes of a delta frame at 1.5 Mbit/s and 30 fps.
const DELTA_BYTES: usize = 1_500_000 / 8 / 30;
/// Bytes of a keyframe (five delta frames' worth).
const KEY_BYTES: usize = 5 * DELTA_BYTES;

/// A VP8-like frame: the frame tag (bit 0 clear on keyframes, then the keyframe start
/// code), the frame's index, then bytes that depend on the index.
fn vp8_frame(index: u32, keyframe: bool) -> Vec<u8> {
    let len = if keyframe { KEY_BYTES } else { DELTA_BYTES };
    let mut f = Vec::with_capacity(len);
    f.extend_from_slice(&[if keyframe { 0x10 } else { 0x11 }, 0x00, 0x00]);
    f.extend_from_slice(&[0x9d, 0x01, 0x2a]);
    f.extend_from_slice(&index.to_be_bytes());
    let mut x = index.wrapping_mul(2_654_435_761) | 1;
    while f.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        f.push(x as u8);
    }
    f
}

/// The index a received frame carries, if its bytes are exactly what was sent.
fn intact_index(frame: &ReceivedFrame) -> Option<u32> {
    let index = u32::from_be_bytes(frame.data.get(6..10)?.try_into().ok()?);
    let keyframe = frame.data.first()? & 1 == 0;
    (frame.data[..] == vp8_frame(index, keyframe)[..]).then_some(index)
}

fn peer(seed: u64, addr: &str, now: Instant, codecs: MediaCodecs) -> SimPeer {
    let mut config = RtcConfiguration {
        codecs,
        ..RtcConfiguration::with_seed(seed)
    };
    // These tests are about loss recovery: their encoder writes 1.5 Mbit/s whatever the
    // estimate says, so the estimate (which 20 % loss drives down) must not pace it
    // below that.
    config.bandwidth.min_bitrate_bps = 3_000_000;
    config.bandwidth.start_bitrate_bps = 3_000_000;
    let mut pc = PeerConnection::new(config, now).expect("config");
    pc.add_local_socket(now, addr.parse().expect("addr"))
        .expect("socket");
    SimPeer::new(pc)
}

/// a sends VP8 video to b, whose receiver is in frame mode; connected. Returns the pair
/// and a's and b's transceivers.
fn video_call(seed: u64, codecs: MediaCodecs) -> (Pair, TransceiverId, TransceiverId) {
    media_call(seed, codecs, MediaKind::Video)
}

/// a sends a track of `kind` to b, whose receiver is in frame mode; connected.
fn media_call(
    seed: u64,
    codecs: MediaCodecs,
    kind: MediaKind,
) -> (Pair, TransceiverId, TransceiverId) {
    let mut p = Pair::with_peers(seed, |now| {
        (
            peer(seed * 2 + 1, pc_common::A_ADDR, now, codecs.clone()),
            peer(seed * 2 + 2, pc_common::B_ADDR, now, codecs),
        )
    });
    let (a_video, b_video) = p.connect_media(|pc| {
        pc.add_track(TrackInfo::new(kind, "cam", "s"))
            .expect("track")
    });
    (p, a_video, b_video)
}

/// Sets each side's link: `one_way / 2` latency up and down (so the round trip is
/// `2 × one_way`), and random `loss` on a's link both ways (media to b, feedback to a).
fn shape(p: &mut Pair, one_way: Duration, loss: f64) {
    shape_with(p, one_way, Loss::Random(loss));
}

fn shape_with(p: &mut Pair, one_way: Duration, loss: Loss) {
    let half = one_way / 2;
    p.sim
        .set_node_link(
            p.a,
            Direction::Both,
            LinkConfig::new().latency(half).loss(loss),
        )
        .expect("link a");
    p.sim
        .set_node_link(p.b, Direction::Both, LinkConfig::new().latency(half))
        .expect("link b");
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

fn keyframe_requests(p: &Pair, id: TransceiverId) -> usize {
    p.events(true)
        .iter()
        .filter(|e| matches!(e, Event::KeyframeRequest { transceiver, .. } if *transceiver == id))
        .count()
}

/// What a run of [`stream`] measured.
#[derive(Debug)]
struct Outcome {
    sent: u32,
    /// Frames received intact, each index once, in increasing order.
    delivered: u32,
    in_order: bool,
    keyframe_requests: usize,
}

/// a writes `count` VP8-like frames at 30 fps (a keyframe first and after every keyframe
/// request it hears), then the path drains for two seconds.
fn stream(p: &mut Pair, a_video: TransceiverId, b_video: TransceiverId, count: u32) -> Outcome {
    stream_observed(p, a_video, b_video, count, |_| {})
}

/// [`stream`], calling `observe` after each frame interval.
fn stream_observed(
    p: &mut Pair,
    a_video: TransceiverId,
    b_video: TransceiverId,
    count: u32,
    mut observe: impl FnMut(&mut Pair),
) -> Outcome {
    let start = p.sim.now();
    let mut heard = keyframe_requests(p, a_video);
    for i in 0..count {
        let now_heard = keyframe_requests(p, a_video);
        let keyframe = i == 0 || now_heard > heard;
        heard = now_heard;
        let frame = vp8_frame(i, keyframe);
        p.with(true, |pc| {
            pc.transceiver(a_video)
                .expect("t")
                .write_frame(FrameWrite::new(i.wrapping_mul(3000), &frame))
                .expect("write_frame")
        });
        let next = start + Duration::from_nanos(FRAME_NANOS * u64::from(i + 1));
        p.run_until(Duration::from_secs(1), |p| p.sim.now() >= next);
        observe(p);
    }
    p.run_until(Duration::from_secs(2), |_| false);
    let got = frames(p, b_video);
    let indexes: Vec<u32> = got.iter().filter_map(|f| intact_index(f)).collect();
    Outcome {
        sent: count,
        delivered: indexes.len() as u32,
        in_order: indexes.len() == got.len() && indexes.windows(2).all(|w| w[0] < w[1]),
        keyframe_requests: keyframe_requests(p, a_video),
    }
}

#[test]
fn frames_round_trip_intact_on_a_clean_path() {
    let (mut p, a_video, b_video) = video_call(1, MediaCodecs::default());
    shape(&mut p, Duration::from_millis(25), 0.0);
    let out = stream(&mut p, a_video, b_video, 90);
    assert_eq!(out.delivered, out.sent, "{out:?}");
    assert!(out.in_order);
    assert_eq!(out.keyframe_requests, 0);
    let got = frames(&p, b_video);
    assert!(got[0].keyframe && got.iter().skip(1).all(|f| !f.keyframe));
    assert!(got.iter().all(|f| f.contiguous && f.codec == "VP8"));
    // Timestamps come out as written, in the sender's offset space.
    let base = got[0].timestamp;
    assert!(
        got.iter()
            .enumerate()
            .all(|(i, f)| f.timestamp.wrapping_sub(base) == 3000 * i as u32)
    );
    // No RTP events in frame mode.
    assert!(!p.events(false).iter().any(|e| matches!(e, Event::Rtp(_))));
    // Frame counters on both sides.
    let sender = p.with(true, |pc| {
        pc.transceiver(a_video).expect("t").sender_stats()
    });
    let receiver = p.with(false, |pc| {
        pc.transceiver(b_video).expect("t").receiver_stats()
    });
    assert_eq!((sender.frames_sent, sender.key_frames_sent), (90, 1));
    assert_eq!(
        (receiver[0].frames_received, receiver[0].key_frames_received),
        (90, 1)
    );
}

/// The acceptance run of issue 15: VP8-like frames at 1.5 Mbit/s and 30 fps for 60 s of
/// virtual time through 5 % random loss and a 50 ms round trip.
#[test]
fn five_percent_loss_delivers_ninety_nine_percent_of_frames_via_nack_and_rtx() {
    let (mut p, a_video, b_video) = video_call(2, MediaCodecs::default());
    shape(&mut p, Duration::from_millis(25), 0.05);
    let out = stream(&mut p, a_video, b_video, 30 * 60);
    let sender = p.with(true, |pc| {
        pc.transceiver(a_video).expect("t").sender_stats()
    });
    let receiver = p.with(false, |pc| {
        pc.transceiver(b_video).expect("t").receiver_stats()
    });
    let r = &receiver[0];
    eprintln!(
        "{out:?}; sent {} packets, {} retransmitted, {} refused; {} NACKs, {} recovered, {} given up, {} lost on the wire",
        sender.packets_sent,
        sender.retransmitted_packets_sent,
        sender.retransmissions_refused,
        r.nack_count,
        r.retransmitted_packets_received,
        r.nack_given_up,
        r.packets_lost
    );
    assert!(out.in_order, "{out:?}");
    assert!(
        f64::from(out.delivered) >= 0.99 * f64::from(out.sent),
        "{out:?}"
    );
    // Loss on the wire near 5 %; NACKs sent and answered by RTX.
    let loss = r.packets_lost as f64 / (r.packets_received as f64 + r.packets_lost as f64);
    assert!((0.04..0.06).contains(&loss), "loss {loss}");
    assert!(r.nack_count > 0 && sender.nack_count > 0);
    assert!(sender.retransmitted_packets_sent >= r.packets_lost as u64);
    assert!(r.retransmitted_packets_received > 0);
    // Keyframe requests only where recovery failed: never more than the frames lost.
    let undelivered = (out.sent - out.delivered) as usize;
    assert!(
        out.keyframe_requests <= undelivered,
        "{} keyframe requests for {undelivered} lost frames",
        out.keyframe_requests
    );
    assert_eq!(r.pli_count as usize, out.keyframe_requests);
}

/// 20 % loss in bursts of four datagrams on average: some frames cannot be recovered in
/// time; each such gap is followed by a keyframe within a second (the receiver's PLI,
/// repeated while no keyframe comes, and the encoder's answer), and the stream runs on.
#[test]
fn twenty_percent_bursty_loss_recovers_after_each_burst_via_keyframe_requests() {
    let (mut p, a_video, b_video) = video_call(6, MediaCodecs::default());
    let loss = Loss::GilbertElliott(GilbertElliott::bursts(0.2, 4.0));
    shape_with(&mut p, Duration::from_millis(25), loss);
    let out = stream(&mut p, a_video, b_video, 30 * 20);
    let got = frames(&p, b_video);
    eprintln!(
        "{out:?}; {} frames not contiguous",
        got.iter().filter(|f| !f.contiguous).count()
    );
    assert!(out.in_order, "{out:?}");
    assert!(out.keyframe_requests > 0, "{out:?}");
    let end = got.last().expect("frames").timestamp;
    for (i, f) in got.iter().enumerate().filter(|(_, f)| !f.contiguous) {
        if end.wrapping_sub(f.timestamp) < 90_000 {
            continue;
        }
        let recovered = got[i..]
            .iter()
            .any(|k| k.keyframe && k.timestamp.wrapping_sub(f.timestamp) <= 90_000);
        assert!(
            recovered,
            "no keyframe within 1 s of the gap before frame {i}"
        );
    }
    // The stream runs to the end (the very last packets may be lost unnoticed: no later
    // packet shows the gap).
    let last = got.last().and_then(|f| intact_index(f)).expect("intact");
    assert!(last + 3 >= out.sent, "last frame {last}");
    assert!(
        f64::from(out.delivered) >= 0.5 * f64::from(out.sent),
        "{out:?}"
    );
}

#[test]
fn nack_without_rtx_retransmits_on_the_media_ssrc() {
    let mut codecs = MediaCodecs::default().only(&["VP8", "opus"]);
    codecs
        .video
        .iter_mut()
        .for_each(|c| c.rtx_payload_type = None);
    let (mut p, a_video, b_video) = video_call(3, codecs);
    let offer_has_rtx = p
        .pc(true)
        .local_description()
        .is_some_and(|d| d.sdp.contains("rtx/90000"));
    assert!(!offer_has_rtx);
    shape(&mut p, Duration::from_millis(25), 0.05);
    let out = stream(&mut p, a_video, b_video, 300);
    let sender = p.with(true, |pc| {
        pc.transceiver(a_video).expect("t").sender_stats()
    });
    assert!(sender.retransmitted_packets_sent > 0);
    assert!(out.in_order);
    assert!(
        f64::from(out.delivered) >= 0.97 * f64::from(out.sent),
        "{out:?}"
    );
}

#[test]
fn a_pli_at_the_receiver_is_a_keyframe_request_at_the_sender_within_one_rtt() {
    let (mut p, a_video, b_video) = video_call(4, MediaCodecs::default());
    let rtt = Duration::from_millis(50);
    shape(&mut p, rtt / 2, 0.0);
    stream(&mut p, a_video, b_video, 10);
    let asked = p.sim.now();
    p.with(false, |pc| {
        pc.transceiver(b_video)
            .expect("t")
            .request_keyframe(KeyframeRequestKind::Pli)
            .expect("pli")
    });
    let heard = p.run_until(Duration::from_secs(1), |p| {
        keyframe_requests(p, a_video) > 0
    });
    assert!(heard);
    let took = p.sim.now() - asked;
    assert!(took <= rtt, "took {took:?}");
}

#[test]
fn the_sdp_announces_nack_and_the_rtx_ssrc_in_a_fid_group() {
    let (mut p, a_video, _) = video_call(5, MediaCodecs::default());
    let sdp = p.pc(true).local_description().expect("offer applied").sdp;
    assert!(sdp.contains("a=rtcp-fb:96 nack\r\n"), "{sdp}");
    assert!(sdp.contains("a=rtcp-fb:96 nack pli\r\n"));
    // As Chromium writes it: the FID group (media, then RTX) and a cname for both SSRCs.
    let fid = sdp
        .lines()
        .find_map(|l| l.strip_prefix("a=ssrc-group:FID "))
        .unwrap_or_else(|| panic!("a FID group: {sdp}"));
    let ssrcs: Vec<u32> = fid.split(' ').map(|s| s.parse().expect("ssrc")).collect();
    let media = p.with(true, |pc| pc.transceiver(a_video).expect("t").sender_ssrc());
    assert_eq!(ssrcs.len(), 2);
    assert_eq!(ssrcs[0], media);
    for ssrc in ssrcs {
        assert!(sdp.contains(&format!("a=ssrc:{ssrc} cname:")), "{sdp}");
    }
    // The answer announces NACK too, so both sides run it.
    let answer = p.pc(false).local_description().expect("answer").sdp;
    assert!(answer.contains("a=rtcp-fb:96 nack\r\n"), "{answer}");
}

/// What the sender learnt from the receiver's reports over one run.
#[derive(Debug)]
struct ReportFigures {
    /// Cumulative lost over packets sent, from the last report.
    cumulative_loss: f64,
    /// Mean of the reports' fraction lost (each in 1/256).
    mean_fraction_lost: f64,
    /// The last round-trip time computed from LSR/DLSR.
    rtt: Duration,
    reports: u64,
}

/// a streams VP8-like frames for `seconds` through `loss` on a's link (both ways) and a
/// round trip of `rtt`, sampling the sender's view of each receiver report as it comes.
fn report_figures(seed: u64, rtt: Duration, loss: f64, seconds: u32) -> ReportFigures {
    let (mut p, a_video, b_video) = video_call(seed, MediaCodecs::default());
    shape(&mut p, rtt / 2, loss);
    let mut fractions = Vec::new();
    let mut seen = 0;
    stream_observed(&mut p, a_video, b_video, 30 * seconds, |p| {
        let s = p.with(true, |pc| {
            pc.transceiver(a_video).expect("t").sender_stats()
        });
        if let Some(r) = s.remote.filter(|r| r.reports_received > seen) {
            seen = r.reports_received;
            fractions.push(f64::from(r.fraction_lost) / 256.0);
        }
    });
    let s = p.with(true, |pc| {
        pc.transceiver(a_video).expect("t").sender_stats()
    });
    let remote = s.remote.expect("b reported on a's stream");
    ReportFigures {
        cumulative_loss: remote.packets_lost as f64 / s.packets_sent as f64,
        // The first report covers the call set-up too; the rest cover one interval each.
        mean_fraction_lost: fractions.iter().skip(1).sum::<f64>()
            / (fractions.len().max(2) - 1) as f64,
        rtt: remote.round_trip_time.expect("rtt from LSR/DLSR"),
        reports: remote.reports_received,
    }
}

fn relative_error(got: f64, want: f64) -> f64 {
    (got - want).abs() / want
}

/// Issue 15's report accuracy: with 5 % random loss and a 50 ms round trip, the receiver's
/// RR (cumulative lost and the mean fraction lost) as the sender reads it is within 10 % of
/// the simulated loss, and the RTT from LSR/DLSR within 10 % of the simulated one.
#[test]
fn receiver_reports_give_loss_and_rtt_within_ten_percent_at_five_percent_loss() {
    let rtt = Duration::from_millis(50);
    let f = report_figures(7, rtt, 0.05, 60);
    eprintln!("{f:?}");
    assert!(f.reports >= 50, "{f:?}");
    assert!(relative_error(f.cumulative_loss, 0.05) < 0.1, "{f:?}");
    assert!(relative_error(f.mean_fraction_lost, 0.05) < 0.1, "{f:?}");
    assert!(
        relative_error(f.rtt.as_secs_f64(), rtt.as_secs_f64()) < 0.1,
        "{f:?}"
    );
}

/// On a clean path with a 120 ms round trip the reports show no loss at all and the RTT
/// within 10 %.
#[test]
fn receiver_reports_give_no_loss_and_rtt_within_ten_percent_on_a_clean_path() {
    let rtt = Duration::from_millis(120);
    let f = report_figures(8, rtt, 0.0, 10);
    eprintln!("{f:?}");
    assert!(f.reports >= 8, "{f:?}");
    assert_eq!(f.cumulative_loss, 0.0, "{f:?}");
    assert_eq!(f.mean_fraction_lost, 0.0, "{f:?}");
    assert!(
        relative_error(f.rtt.as_secs_f64(), rtt.as_secs_f64()) < 0.1,
        "{f:?}"
    );
}

/// Writes `count` frames of `size` bytes on a's transceiver at 50 per second, the options
/// of frame `i` given by `options(i)`, and returns what b's frame events said of each.
fn send_with_options(
    p: &mut Pair,
    a_id: TransceiverId,
    b_id: TransceiverId,
    count: u32,
    size: usize,
    options: impl Fn(u32) -> FrameOptions,
) -> Vec<ReceivedFrameInfo> {
    for i in 0..count {
        let mut frame = vp8_frame(i, i == 0);
        frame.truncate(size);
        let at = FrameWrite::new(i * 960, &frame).with_options(options(i));
        p.with(true, |pc| {
            pc.transceiver(a_id)
                .expect("t")
                .write_frame(at)
                .expect("write_frame")
        });
        p.run_until(Duration::from_millis(20), |_| false);
    }
    p.run_until(Duration::from_secs(1), |_| false);
    frames(p, b_id).iter().map(|f| f.info).collect()
}

const TURNED: VideoOrientation = VideoOrientation {
    back_camera: false,
    flip: true,
    rotation: 3,
};

/// Video frames written with an orientation, a playout delay and a capture time come out
/// of b's frame events with them: the capture time per frame, the orientation on every
/// frame (CVO is sent on changes and keyframes; the receiver keeps the one in force), the
/// playout delay at least on the first frame.
#[test]
fn video_frame_options_cross_the_wire_into_frame_events() {
    let (mut p, a_video, b_video) = video_call(9, MediaCodecs::default());
    shape(&mut p, Duration::from_millis(20), 0.0);
    let delay = PlayoutDelay { min: 0, max: 50 };
    let infos = send_with_options(&mut p, a_video, b_video, 20, 3000, |i| FrameOptions {
        orientation: Some(TURNED),
        playout_delay: Some(delay),
        capture_time: Some(0x1_0000_0000 * u64::from(1000 + i)),
        ..FrameOptions::default()
    });
    assert_eq!(infos.len(), 20);
    for (i, info) in infos.iter().enumerate() {
        assert_eq!(info.capture_time, Some(0x1_0000_0000 * (1000 + i as u64)));
        assert_eq!(info.orientation, Some(TURNED), "frame {i}");
        assert_eq!(info.audio_level, None);
    }
    assert_eq!(infos[0].playout_delay, Some(delay));
}

/// Audio frames carry their level on every packet; without audio-level in the
/// negotiation nothing is written and nothing read.
#[test]
fn audio_level_crosses_only_when_negotiated() {
    let level = |i: u32| AudioLevel {
        voice: i.is_multiple_of(2),
        level: (i * 5) as u8,
    };
    let with_level = |i| FrameOptions {
        audio_level: Some(level(i)),
        ..FrameOptions::default()
    };
    let (mut p, a_audio, b_audio) = media_call(10, MediaCodecs::default(), MediaKind::Audio);
    shape(&mut p, Duration::from_millis(20), 0.0);
    let infos = send_with_options(&mut p, a_audio, b_audio, 10, 60, with_level);
    assert_eq!(infos.len(), 10);
    for (i, info) in infos.iter().enumerate() {
        assert_eq!(info.audio_level, Some(level(i as u32)), "frame {i}");
    }

    let mut codecs = MediaCodecs::default();
    codecs
        .extensions
        .retain(|e| e.uri != rtcpeer::rtp::extensions::AUDIO_LEVEL);
    let (mut p, a_audio, b_audio) = media_call(11, codecs, MediaKind::Audio);
    shape(&mut p, Duration::from_millis(20), 0.0);
    let offer = p.pc(true).local_description().expect("offer").sdp;
    assert!(!offer.contains("ssrc-audio-level"), "{offer}");
    let infos = send_with_options(&mut p, a_audio, b_audio, 10, 60, with_level);
    assert_eq!(infos.len(), 10);
    assert!(infos.iter().all(|i| i.audio_level.is_none()));
}

/// Through 5 % loss, every frame that comes out whole still has its capture time, also
/// when its first packet (the one carrying abs-capture-time) was repaired by RTX.
#[test]
fn capture_time_survives_loss_and_retransmission() {
    let (mut p, a_video, b_video) = video_call(12, MediaCodecs::default());
    shape(&mut p, Duration::from_millis(25), 0.05);
    let start = p.sim.now();
    for i in 0..300u32 {
        let frame = vp8_frame(i, i == 0);
        let options = FrameOptions {
            capture_time: Some(u64::from(i) << 32),
            ..FrameOptions::default()
        };
        let w = FrameWrite::new(i * 3000, &frame).with_options(options);
        p.with(true, |pc| {
            pc.transceiver(a_video)
                .expect("t")
                .write_frame(w)
                .expect("write_frame")
        });
        let next = start + Duration::from_nanos(FRAME_NANOS * u64::from(i + 1));
        p.run_until(Duration::from_secs(1), |p| p.sim.now() >= next);
    }
    p.run_until(Duration::from_secs(2), |_| false);
    let got = frames(&p, b_video);
    let intact: Vec<_> = got
        .iter()
        .filter_map(|f| Some((intact_index(f)?, f.info.capture_time)))
        .collect();
    assert!(intact.len() >= 290, "{} intact", intact.len());
    for (index, capture) in intact {
        assert_eq!(capture, Some(u64::from(index) << 32), "frame {index}");
    }
    let r = p.with(false, |pc| {
        pc.transceiver(b_video).expect("t").receiver_stats()
    });
    assert!(r[0].retransmitted_packets_received > 0);
}
