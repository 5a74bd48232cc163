//! Audio and video between two rtcpeer peers in the simulator: tracks both ways with
//! `track` events, RTP written on one side arriving decrypted and intact on the other,
//! renegotiation that adds, removes and redirects tracks, glare resolved by rollback, an
//! m-line with no codec in common rejected while the data channel works, RTCP reports with
//! round-trip time, keyframe requests both ways, SRTP replays and forgeries dropped and
//! counted, random media bytes never panicking, and byte-identical replays per seed.

mod pc_common;

use pc_common::{A_ADDR, B_ADDR, Pair, addr, nominated};
use rtcpeer::media::codec::MediaCodecs;
use rtcpeer::media::{
    KeyframeRequestKind, ReceivedRtp, RtpWrite, TrackInfo, TransceiverDirection, TransceiverId,
};
use rtcpeer::peer_connection::{
    DataChannelInit, Event, Input, PeerConnection, PeerConnectionError, RtcConfiguration, SdpType,
    SimPeer,
};
use rtcpeer::sdp::MediaKind;
use rtcpeer::sim::{Direction, LinkConfig};
use rtcpeer::{Rng, RtcSessionDescription};
use std::time::{Duration, Instant};

const VP8: u8 = 96;
const OPUS: u8 = 111;

fn video(id: &str) -> TrackInfo {
    TrackInfo::new(MediaKind::Video, id, "stream")
}

fn audio(id: &str) -> TrackInfo {
    TrackInfo::new(MediaKind::Audio, id, "stream")
}

fn peer_with(seed: u64, addr_: &str, now: Instant, codecs: MediaCodecs) -> SimPeer {
    let config = RtcConfiguration {
        codecs,
        ..RtcConfiguration::with_seed(seed)
    };
    let mut pc = PeerConnection::new(config, now).expect("config");
    pc.add_local_socket(now, addr(addr_)).expect("socket");
    SimPeer::new(pc)
}

/// The tracks announced to side `a` (`track` events).
fn tracks(p: &Pair, a: bool) -> Vec<(TransceiverId, MediaKind)> {
    p.events(a)
        .iter()
        .filter_map(|e| match e {
            Event::Track(t) => Some((t.transceiver, t.kind.clone())),
            _ => None,
        })
        .collect()
}

fn rtp(p: &Pair, a: bool, id: TransceiverId) -> Vec<ReceivedRtp> {
    p.events(a)
        .iter()
        .filter_map(|e| match e {
            Event::Rtp(r) if r.transceiver == id => Some(r.clone()),
            _ => None,
        })
        .collect()
}

fn payload(i: u16) -> Vec<u8> {
    (0..200u16).map(|b| (b ^ i) as u8).collect()
}

/// Writes `n` packets (sequence numbers from `first`) on `id` of side `a`, one every 20 ms
/// of virtual time.
fn send_packets(p: &mut Pair, a: bool, id: TransceiverId, pt: u8, first: u16, n: u16) {
    for i in 0..n {
        let seq = first.wrapping_add(i);
        let data = payload(seq);
        p.with(a, |pc| {
            let ts = (u32::from(first) + u32::from(i)).wrapping_mul(3000);
            let w = RtpWrite::new(pt, seq, ts, i % 3 == 2, &data);
            pc.transceiver(id)
                .expect("transceiver")
                .write_rtp(w)
                .expect("write_rtp");
        });
        // Time passes even when no event falls in it (the pacer's next send may lie
        // beyond the interval).
        let until = p.sim.now() + Duration::from_millis(20);
        p.sim.run_until(until, 1_000_000).expect("sim");
        p.collect();
    }
}

/// A call: a sends audio and video, b sends video back; negotiated and connected, with the
/// data channel open.
struct Call {
    p: Pair,
    a_audio: TransceiverId,
    a_video: TransceiverId,
    b_video: TransceiverId,
}

fn call(seed: u64) -> Call {
    let mut p = Pair::new(seed);
    let (a_audio, a_video) = p.with(true, |pc| {
        let au = pc.add_track(audio("mic")).expect("audio");
        let vi = pc.add_track(video("cam")).expect("video");
        pc.create_data_channel("chat", DataChannelInit::default())
            .expect("dc");
        (au, vi)
    });
    let b_video = p.with(false, |pc| pc.add_track(video("b-cam")).expect("b video"));
    p.negotiate(true);
    assert!(
        p.run_until(Duration::from_secs(10), |p| p.connected()),
        "connects"
    );
    assert!(p.run_until(Duration::from_secs(5), nominated));
    Call {
        p,
        a_audio,
        a_video,
        b_video,
    }
}

#[test]
fn tracks_flow_both_ways_with_track_events_and_intact_payloads() {
    let Call {
        mut p,
        a_audio,
        a_video,
        b_video,
    } = call(1);
    let b_tracks = tracks(&p, false);
    assert_eq!(b_tracks.len(), 2, "b hears audio and video: {b_tracks:?}");
    assert_eq!(
        b_tracks.iter().filter(|t| t.1 == MediaKind::Video).count(),
        1
    );
    // b's own video track went onto the transceiver the offer's video m-line created.
    let b_video_rx = b_tracks
        .iter()
        .find(|t| t.1 == MediaKind::Video)
        .expect("video")
        .0;
    assert_eq!(
        b_video_rx, b_video,
        "add_track before the offer is matched to its m-line"
    );
    let a_tracks = tracks(&p, true);
    assert_eq!(
        a_tracks,
        vec![(a_video, MediaKind::Video)],
        "a hears b's video"
    );

    send_packets(&mut p, true, a_video, VP8, 65_500, 60);
    send_packets(&mut p, true, a_audio, OPUS, 10, 20);
    send_packets(&mut p, false, b_video, VP8, 7, 30);
    p.run_until(Duration::from_millis(200), |_| false);

    let got = rtp(&p, false, b_video);
    assert_eq!(got.len(), 60, "every video packet arrives");
    for (i, r) in got.iter().enumerate() {
        let sent_seq = 65_500u16.wrapping_add(i as u16);
        assert_eq!(
            r.payload(),
            payload(sent_seq).as_slice(),
            "payload {i} intact"
        );
        assert_eq!(r.payload_type, VP8);
        assert_eq!(r.marker, i % 3 == 2);
    }
    // Our own numbering: continuous across the source's wrap, SSRC the sender's.
    let a_ssrc = p.with(true, |pc| pc.transceiver(a_video).expect("t").sender_ssrc());
    for w in got.windows(2) {
        assert_eq!(w[1].sequence_number, w[0].sequence_number.wrapping_add(1));
        assert_eq!(w[1].timestamp.wrapping_sub(w[0].timestamp), 3000);
        assert_eq!(w[1].ssrc, a_ssrc);
    }
    let b_audio = b_tracks
        .iter()
        .find(|t| t.1 == MediaKind::Audio)
        .expect("audio")
        .0;
    assert_eq!(rtp(&p, false, b_audio).len(), 20);
    assert_eq!(rtp(&p, true, a_video).len(), 30, "b's video reaches a");
    let stats = p.pc(false).stats();
    assert_eq!(stats.media.srtp_auth_failures, 0);
    assert_eq!(stats.media.rtp_unroutable, 0);
}

/// The id side `a`'s local description gives the header extension `uri` (first m-line
/// that has it).
fn extmap_id(p: &Pair, a: bool, uri: &str) -> u8 {
    let sdp = p.pc(a).local_description().expect("local description").sdp;
    sdp.lines()
        .filter_map(|l| l.strip_prefix("a=extmap:")?.split_once(' '))
        .find(|(_, rest)| rest.split_whitespace().next() == Some(uri))
        .and_then(|(id, _)| id.split('/').next()?.parse().ok())
        .unwrap_or_else(|| panic!("{uri} negotiated"))
}

#[test]
fn every_packet_carries_its_mid_and_the_next_transport_wide_sequence_number() {
    let Call {
        mut p,
        a_audio,
        a_video,
        ..
    } = call(2);
    let mid_id = extmap_id(&p, true, rtcpeer::rtp::extensions::MID);
    let twcc_id = extmap_id(&p, true, rtcpeer::rtp::extensions::TRANSPORT_CC);
    let mid_of = |p: &mut Pair, id| {
        p.with(true, |pc| {
            pc.transceiver(id).expect("t").mid().map(str::to_string)
        })
        .expect("negotiated mid")
    };
    let (video_mid, audio_mid) = (mid_of(&mut p, a_video), mid_of(&mut p, a_audio));
    assert_ne!(video_mid, audio_mid);
    send_packets(&mut p, true, a_video, VP8, 100, 10);
    send_packets(&mut p, true, a_audio, OPUS, 1, 5);
    p.run_until(Duration::from_millis(200), |_| false);
    let received: Vec<ReceivedRtp> = p
        .events(false)
        .iter()
        .filter_map(|e| match e {
            Event::Rtp(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(received.len(), 15);
    let mut twcc = Vec::new();
    for (i, r) in received.iter().enumerate() {
        let packet = rtcpeer::rtp::RtpPacket::new_checked(&r.packet[..]).expect("RTP");
        let want = if i < 10 { &video_mid } else { &audio_mid };
        assert_eq!(
            packet.extension(mid_id),
            Some(want.as_bytes()),
            "packet {i}"
        );
        let seq = packet
            .extension(twcc_id)
            .expect("transport-wide sequence number");
        twcc.push(u16::from_be_bytes(seq.try_into().expect("two bytes")));
    }
    // One counter over all m-lines; the numbers between are the estimator's probe
    // padding, which leaves through the same pacer.
    let padding = p.pc(true).stats().media.pacer.padding_packets_sent;
    let mut skipped = 0;
    for w in twcc.windows(2) {
        let step = w[1].wrapping_sub(w[0]);
        assert!((1..0x8000).contains(&step), "{} after {}", w[1], w[0]);
        skipped += u64::from(step - 1);
    }
    assert!(
        skipped <= padding,
        "{skipped} numbers skipped, {padding} padding packets"
    );
}

#[test]
fn renegotiation_adds_a_second_video_track_then_removes_it() {
    let Call { mut p, .. } = call(2);
    let screen = p.with(true, |pc| {
        pc.add_track(video("screen")).expect("second video")
    });
    assert!(
        p.events(true).contains(&Event::NegotiationNeeded) || {
            p.collect();
            p.events(true).contains(&Event::NegotiationNeeded)
        }
    );
    p.negotiate(true);
    p.run_until(Duration::from_millis(100), |_| false);
    let b_tracks = tracks(&p, false);
    assert_eq!(b_tracks.len(), 3, "a third track at b: {b_tracks:?}");
    let b_screen = b_tracks[2].0;
    send_packets(&mut p, true, screen, VP8, 100, 10);
    assert_eq!(rtp(&p, false, b_screen).len(), 10);

    p.with(true, |pc| pc.remove_track(screen).expect("remove"));
    p.negotiate(true);
    p.run_until(Duration::from_millis(100), |_| false);
    assert!(
        p.events(false).contains(&Event::TrackEnded(b_screen)),
        "b sees the track end"
    );
    let refused = p.with(true, |pc| {
        let w = RtpWrite::new(VP8, 1, 1, false, b"x");
        pc.transceiver(screen).expect("t").write_rtp(w)
    });
    assert!(matches!(
        refused,
        Err(rtcpeer::Error::PeerConnection(
            PeerConnectionError::NotSending(_)
        ))
    ));
}

#[test]
fn direction_change_to_inactive_stops_media_and_back_restores_it() {
    let Call {
        mut p,
        a_video,
        b_video,
        ..
    } = call(3);
    p.with(true, |pc| {
        pc.transceiver(a_video)
            .expect("t")
            .set_direction(TransceiverDirection::Inactive)
            .expect("inactive")
    });
    p.negotiate(true);
    p.run_until(Duration::from_millis(100), |_| false);
    let current = p.with(false, |pc| {
        pc.transceiver(b_video).expect("t").current_direction()
    });
    assert_eq!(current, Some(TransceiverDirection::Inactive));
    assert!(p.events(false).contains(&Event::TrackEnded(b_video)));
    p.with(true, |pc| {
        pc.transceiver(a_video)
            .expect("t")
            .set_direction(TransceiverDirection::SendRecv)
            .expect("sendrecv")
    });
    p.negotiate(true);
    p.run_until(Duration::from_millis(100), |_| false);
    let current = p.with(false, |pc| {
        pc.transceiver(b_video).expect("t").current_direction()
    });
    assert_eq!(current, Some(TransceiverDirection::SendRecv));
    let before = rtp(&p, false, b_video).len();
    send_packets(&mut p, true, a_video, VP8, 5, 5);
    assert_eq!(rtp(&p, false, b_video).len(), before + 5);
}

#[test]
fn glare_is_resolved_by_rollback_and_both_tracks_flow() {
    let mut p = Pair::new(4);
    let a_video = p.with(true, |pc| pc.add_track(video("a")).expect("a"));
    let b_video = p.with(false, |pc| pc.add_track(video("b")).expect("b"));
    let offer_a = p.with(true, |pc| {
        let o = pc.create_offer().expect("offer a");
        pc.set_local_description(o.clone()).expect("sld a");
        o
    });
    p.with(false, |pc| {
        let o = pc.create_offer().expect("offer b");
        pc.set_local_description(o).expect("sld b");
    });
    // b sees a's offer while it has its own: it is the polite peer and rolls back.
    let refused = p.with(false, |pc| pc.set_remote_description(offer_a.clone()));
    assert!(
        refused.is_err(),
        "glare: an offer in have-local-offer is refused"
    );
    let answer = p.with(false, |pc| {
        pc.set_local_description(RtcSessionDescription {
            sdp_type: SdpType::Rollback,
            sdp: String::new(),
        })
        .expect("rollback");
        pc.set_remote_description(offer_a)
            .expect("srd after rollback");
        let a = pc.create_answer().expect("answer");
        pc.set_local_description(a.clone()).expect("sld answer");
        a
    });
    p.with(true, |pc| {
        pc.set_remote_description(answer).expect("srd answer")
    });
    assert!(p.run_until(Duration::from_secs(10), |p| p.connected()));
    let mid_a = p.with(true, |pc| {
        pc.transceiver(a_video)
            .expect("t")
            .mid()
            .map(str::to_string)
    });
    let mid_b = p.with(false, |pc| {
        pc.transceiver(b_video)
            .expect("t")
            .mid()
            .map(str::to_string)
    });
    assert_eq!(
        mid_a, mid_b,
        "b's track joined a's m-line after the rollback"
    );
    send_packets(&mut p, true, a_video, VP8, 1, 5);
    send_packets(&mut p, false, b_video, VP8, 1, 5);
    assert_eq!(rtp(&p, false, b_video).len(), 5);
    assert_eq!(rtp(&p, true, a_video).len(), 5);
}

#[test]
fn a_section_without_common_codec_is_rejected_and_the_data_channel_works() {
    let audio_only = MediaCodecs {
        video: Vec::new(),
        ..MediaCodecs::default()
    };
    let mut p = Pair::with_peers(5, |now| {
        (
            peer_with(11, A_ADDR, now, MediaCodecs::default()),
            peer_with(12, B_ADDR, now, audio_only),
        )
    });
    let (ca, a_video, a_audio) = p.with(true, |pc| {
        let v = pc.add_track(video("cam")).expect("video");
        let au = pc.add_track(audio("mic")).expect("audio");
        let c = pc
            .create_data_channel("chat", DataChannelInit::default())
            .expect("dc");
        (c, v, au)
    });
    p.negotiate(true);
    assert!(p.run_until(Duration::from_secs(10), |p| p.opened(true, ca)));
    let answer = p.pc(false).local_description().expect("answer").sdp;
    assert!(answer.contains("m=video 0 "), "{answer}");
    assert!(answer.contains("m=audio 9 "), "{answer}");
    let (video_stopped, audio_dir) = p.with(true, |pc| {
        let v = pc.transceiver(a_video).expect("v").is_stopped();
        let a = pc.transceiver(a_audio).expect("a").current_direction();
        (v, a)
    });
    assert!(video_stopped);
    assert_eq!(audio_dir, Some(TransceiverDirection::SendOnly));
    p.with(true, |pc| {
        pc.data_channel(ca)
            .expect("dc")
            .send_text("still here")
            .expect("send")
    });
    assert!(p.run_until(Duration::from_secs(2), |p| {
        p.incoming(false)
            .first()
            .is_some_and(|id| !p.messages(false, *id).is_empty())
    }));
}

/// Both peers' links get `latency`, and one VP8 packet in ten (the fifth, fifteenth, ...)
/// is dropped: never the last one, since a receiver cannot know of a loss after the
/// highest number it saw.
fn lossy_video_links(p: &mut Pair, latency: Duration) {
    for node in [p.a, p.b] {
        p.sim
            .set_node_link(node, Direction::Both, LinkConfig::new().latency(latency))
            .expect("link");
    }
    let mut n = 0u32;
    p.sim.add_rule(rtcpeer::sim::Rule::drop(move |d| {
        let media = d.payload.first().is_some_and(|b| (128..=191).contains(b))
            && d.payload.get(1).is_some_and(|pt| (pt & 0x7f) == VP8);
        if media {
            n += 1;
        }
        media && n % 10 == 5
    }));
}

#[test]
fn reports_give_round_trip_time_and_loss_and_keyframe_requests_cross() {
    let Call {
        mut p,
        a_video,
        b_video,
        ..
    } = call(6);
    let latency = Duration::from_millis(25);
    lossy_video_links(&mut p, latency);
    send_packets(&mut p, true, a_video, VP8, 0, 200);
    p.run_until(Duration::from_secs(3), |_| false);
    let out = p.with(true, |pc| {
        pc.transceiver(a_video).expect("t").sender_stats()
    });
    let remote = out.remote.expect("b reported on a's stream");
    let rtt = remote.round_trip_time.expect("rtt from LSR/DLSR");
    let want = 4 * latency; // up and down on each side's link, both directions
    let error = rtt.abs_diff(want).as_secs_f64() / want.as_secs_f64();
    assert!(error < 0.1, "rtt {rtt:?} vs {want:?}");
    assert!(
        (18..=22).contains(&remote.packets_lost),
        "lost {}",
        remote.packets_lost
    );
    let inbound = p.with(false, |pc| {
        pc.transceiver(b_video).expect("t").receiver_stats()
    });
    assert_eq!(inbound[0].packets_received, 180);
    assert_eq!(inbound[0].packets_lost, 20);
    assert!(inbound[0].sender_reports_received > 0);

    // b asks for a keyframe: a hears it within one round trip.
    let asked = p.sim.now();
    p.with(false, |pc| {
        pc.transceiver(b_video)
            .expect("t")
            .request_keyframe(KeyframeRequestKind::Pli)
            .expect("pli")
    });
    let heard = p.run_until(Duration::from_secs(1), |p| {
        p.events(true).iter().any(|e| {
            matches!(e, Event::KeyframeRequest { transceiver, kind: KeyframeRequestKind::Pli, .. } if *transceiver == a_video)
        })
    });
    assert!(heard);
    assert!(p.sim.now() - asked <= 4 * latency + Duration::from_millis(5));
    let out = p.with(true, |pc| {
        pc.transceiver(a_video).expect("t").sender_stats()
    });
    assert_eq!(out.pli_count, 1);
}

#[test]
fn transport_cc_feedback_reports_every_packet_and_the_losses_to_the_sender() {
    let Call { mut p, a_video, .. } = call(8);
    lossy_video_links(&mut p, Duration::from_millis(25));
    // One packet every 20 ms of virtual time, the clock moving whether or not events fall
    // in between (feedback timing depends on arrival spacing).
    for i in 0..200u16 {
        let data = payload(i);
        p.with(true, |pc| {
            let w = RtpWrite::new(VP8, i, u32::from(i) * 3000, i % 3 == 2, &data);
            pc.transceiver(a_video)
                .expect("t")
                .write_rtp(w)
                .expect("write_rtp");
        });
        p.sim.run_for(Duration::from_millis(20)).expect("sim");
    }
    p.sim.run_for(Duration::from_secs(2)).expect("sim");
    // The sender's estimator may still be probing (padding, and feedback on it, in
    // flight): what b reported by now has reached a a little later.
    let b = p.with(false, |pc| pc.stats()).media;
    p.sim.run_for(Duration::from_millis(300)).expect("sim");
    let a = p.with(true, |pc| pc.stats()).media;
    let b_end = p.with(false, |pc| pc.stats()).media;
    // 200 packets over 4 s, feedback every 100 ms (sooner after a loss): about 40 messages.
    let sent = b.transport_feedback.feedback_sent;
    assert!((35..=70).contains(&sent), "feedback messages {sent}");
    let received = a.transport_feedback_received;
    assert!(
        (sent..=b_end.transport_feedback.feedback_sent).contains(&received),
        "a heard {received} of b's {sent}"
    );
    // Every transport-wide number a sent (media, RTX and probe padding) is accounted for
    // once; the 20 dropped VP8 packets are the only losses (retransmissions use other
    // numbers).
    let recorded = b.transport_feedback.packets_recorded;
    assert!(recorded >= 180, "b recorded {recorded}");
    assert_eq!(a.transport_feedback_lost, 20);
    let acked = a.transport_feedback_acked;
    assert!(
        (recorded..=b_end.transport_feedback.packets_recorded).contains(&acked),
        "a acked {acked}, b recorded {recorded}"
    );
}

#[test]
fn srtp_replays_and_forged_packets_are_dropped_and_counted() {
    let Call {
        mut p,
        a_video,
        b_video,
        ..
    } = call(7);
    send_packets(&mut p, true, a_video, VP8, 0, 5);
    let received = rtp(&p, false, b_video).len();
    let srtp: Vec<Vec<u8>> = p
        .sim
        .capture()
        .iter()
        .filter(|r| r.fate.is_delivered() && r.destination == addr(B_ADDR))
        .filter(|r| r.payload.first().is_some_and(|b| (128..=191).contains(b)))
        .filter(|r| r.payload.get(1).is_some_and(|pt| (pt & 0x7f) == VP8))
        .map(|r| r.payload.clone())
        .collect();
    assert!(srtp.len() >= 5);
    let now = p.sim.now();
    let (replays, forgeries) = p.with(false, |pc| {
        let feed = |pc: &mut PeerConnection, bytes: &[u8]| {
            let input = Input::Receive {
                source: addr(A_ADDR),
                destination: addr(B_ADDR),
                payload: bytes,
            };
            pc.handle_input(now, input);
        };
        feed(pc, &srtp[2]);
        // Forgeries use sequence numbers not seen yet: the replay check (which comes
        // first, RFC 3711 section 3.3) passes them and authentication must refuse them.
        let ahead = |packet: &[u8], by: u16| {
            let mut p = packet.to_vec();
            let seq = u16::from_be_bytes([p[2], p[3]]).wrapping_add(by);
            p[2..4].copy_from_slice(&seq.to_be_bytes());
            p
        };
        let mut forged = ahead(&srtp[3], 1000);
        let last = forged.len() - 1;
        forged[last] ^= 1;
        feed(pc, &forged);
        let mut body = ahead(&srtp[4], 2000);
        body[20] ^= 0x40;
        feed(pc, &body);
        let s = pc.stats().media;
        (s.srtp_replays, s.srtp_auth_failures)
    });
    assert_eq!(replays, 1);
    assert_eq!(forgeries, 2);
    p.collect();
    assert_eq!(
        rtp(&p, false, b_video).len(),
        received,
        "nothing delivered twice or forged"
    );
}

#[test]
fn random_media_bytes_never_panic_and_are_counted() {
    let Call { mut p, .. } = call(8);
    let mut rng = Rng::from_u64(99);
    let now = p.sim.now();
    p.with(false, |pc| {
        for _ in 0..5_000 {
            let len = 1 + rng.below(1400) as usize;
            let mut bytes = vec![0u8; len];
            rng.fill(&mut bytes);
            bytes[0] = 0x80 | (bytes[0] & 0x3f);
            let input = Input::Receive {
                source: addr(A_ADDR),
                destination: addr(B_ADDR),
                payload: &bytes,
            };
            pc.handle_input(now, input);
        }
        let s = pc.stats().media;
        assert_eq!(
            s.srtp_auth_failures + s.srtp_replays + s.srtp_other_failures,
            5_000,
            "{s:?}"
        );
    });
    assert!(p.connected());
}

#[test]
fn the_same_seed_replays_the_call_byte_for_byte() {
    let digest = |seed| {
        let Call { mut p, a_video, .. } = call(seed);
        send_packets(&mut p, true, a_video, VP8, 0, 20);
        p.run_until(Duration::from_secs(2), |_| false);
        p.sim.capture_digest()
    };
    assert_eq!(digest(9), digest(9));
    assert_ne!(digest(9), digest(10));
}
