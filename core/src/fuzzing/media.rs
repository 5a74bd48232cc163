//! The media payload targets: `depacketize` (every codec's depacketizer and its RTP-level
//! keyframe and frame-start questions on arbitrary payloads) and `assembler` (the frame
//! assembler with small limits, for a VP8 and an audio stream, on arbitrary packets).
//! Nothing may panic, output may not outgrow the input, the assembler's held bytes stay
//! within its limit and its frames come out in sequence order.

use super::{Milestones, Target};
use crate::media::assembler::{AssemblerConfig, AssemblerEvent, AssemblerPacket, FrameAssembler};
use crate::media::codec::RtpCodec;
use crate::media::packetize::audio::AudioDepacketizer;
use crate::media::packetize::vp8::Vp8Depacketizer;
use crate::media::packetize::{SUPPORTED_CODECS, depacketizer_for, packetizer_for};
use std::time::{Duration, Instant};

pub(super) const DEPACKETIZE: Target = Target {
    name: "depacketize",
    run: depacketize,
    seeds: depacketize_seeds,
    deep: &["depacketized_frame", "keyframe_recognised"],
};

pub(super) const ASSEMBLER: Target = Target {
    name: "assembler",
    run: assemble,
    seeds: assembler_seeds,
    deep: &[
        "video_frame_assembled",
        "audio_frame_assembled",
        "frame_lost",
    ],
};

/// The input as payloads, each after its length byte.
fn payloads(data: &[u8]) -> Vec<&[u8]> {
    let mut payloads = Vec::new();
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        payloads.push(&tail[..len]);
        rest = &tail[len..];
    }
    payloads
}

fn depacketize(data: &[u8], _: Instant) -> Milestones {
    let mut reached = Milestones::new();
    let payloads = payloads(data);
    for name in SUPPORTED_CODECS {
        let codec = RtpCodec::new(*name, 90_000, None);
        let mut d = depacketizer_for(&codec).expect("a supported codec");
        let mut out = Vec::new();
        let mut whole = !payloads.is_empty();
        for p in &payloads {
            if d.is_keyframe(p) {
                reached.insert("keyframe_recognised");
            }
            let _ = d.is_frame_start(p);
            if d.depacketize(p, &mut out).is_err() {
                whole = false;
                d.reset();
            }
        }
        assert!(
            out.len() <= data.len() * 3 + 16,
            "{name}: output outgrew the input"
        );
        if whole && !out.is_empty() {
            reached.insert("depacketized_frame");
        }
    }
    reached
}

/// A keyframe of `name` (what the packetize tests call canonical), `len` bytes of body.
fn keyframe(name: &str, len: usize) -> Vec<u8> {
    let body = (0..len).map(|i| (i % 251) as u8 + 1);
    match name {
        "VP8" => [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a]
            .into_iter()
            .chain(body)
            .collect(),
        "H264" => [0, 0, 0, 1, 0x65].into_iter().chain(body).collect(),
        "H265" => [0, 0, 0, 1, 0x26, 0x01].into_iter().chain(body).collect(),
        "VP9" => [0x82, 0x49, 0x83, 0x42, 0x00, 0x13, 0xf0, 0x0e, 0xf0]
            .into_iter()
            .chain(body)
            .collect(),
        // A sequence header OBU, then a frame OBU of `len + 1` bytes (its size as a
        // two-byte LEB128: `len` from 127 to 16,382).
        "AV1" => [
            0x0a,
            0x01,
            0x00,
            0x32,
            0x80 | ((len + 1) & 0x7f) as u8,
            ((len + 1) >> 7) as u8,
            0x10,
        ]
        .into_iter()
        .chain(body)
        .collect(),
        _ => [0x80].into_iter().chain(body).collect(),
    }
}

fn depacketize_seeds(_: Instant) -> Vec<Vec<u8>> {
    SUPPORTED_CODECS
        .iter()
        .filter_map(|name| {
            let mut codec = RtpCodec::new(*name, 90_000, None);
            codec
                .fmtp
                .push(("packetization-mode".into(), Some("1".into())));
            // Audio frames travel whole in one payload: keep them under its size.
            let video = ["VP8", "VP9", "H264", "H265", "AV1"].contains(name);
            let frame = keyframe(name, if video { 600 } else { 150 });
            let parts = packetizer_for(&codec, 1)?.packetize(&frame, 200).ok()?;
            Some(
                parts
                    .iter()
                    .flat_map(|p| std::iter::once(p.len() as u8).chain(p.iter().copied()))
                    .collect(),
            )
        })
        .collect()
}

fn assemble(data: &[u8], now: Instant) -> Milestones {
    let mut reached = Milestones::new();
    let mut video = AssemblerConfig::video(90_000);
    video.window = 64;
    video.max_bytes = 4096;
    video.max_events = 32;
    let a = FrameAssembler::new(video, Box::new(Vp8Depacketizer));
    if run_assembler(a, 4096, data, now, &mut reached) {
        reached.insert("video_frame_assembled");
    }
    let mut audio = AssemblerConfig::audio(48_000);
    audio.max_bytes = 1024;
    let a = FrameAssembler::new(audio, Box::new(AudioDepacketizer));
    if run_assembler(a, 1024, data, now, &mut reached) {
        reached.insert("audio_frame_assembled");
    }
    reached
}

/// Feeds the packets `data` encodes (9-byte head: sequence number, timestamp, marker and
/// payload type, time step in ms, payload length and drain flag; then the payload);
/// whether a frame came out.
///
/// Checks that frames come out in order of their extended sequence numbers. Frames are
/// polled only when a packet asks for a drain, and by then the stream may have moved on by
/// more than 2^15, so a frame's numbers are unwrapped against the assembler's highest packet
/// at the step its last packet arrived (each step gets its own instant, which the frame's
/// `received_at` names): its packets lie within one window behind that.
fn run_assembler(
    mut a: FrameAssembler,
    max_bytes: usize,
    data: &[u8],
    mut now: Instant,
    reached: &mut Milestones,
) -> bool {
    let mut rest = data;
    let mut highest_by_step: Vec<(Instant, u64)> = Vec::new();
    let mut last_emitted: Option<u64> = None;
    let mut framed = false;
    while rest.len() >= 9 {
        let (head, tail) = rest.split_at(9);
        let len = usize::from(head[8] & 0x3f).min(tail.len());
        let (payload, tail) = tail.split_at(len);
        rest = tail;
        now += Duration::from_millis(u64::from(head[7])) + Duration::from_micros(1);
        a.handle_timeout(now);
        a.handle_packet(
            now,
            AssemblerPacket {
                sequence_number: u16::from_be_bytes([head[0], head[1]]),
                timestamp: u32::from_be_bytes([head[2], head[3], head[4], head[5]]),
                marker: head[6] & 1 != 0,
                payload_type: head[6] >> 1,
                payload: payload.to_vec().into(),
            },
        );
        if let Some(highest) = a.highest_extended() {
            highest_by_step.push((now, highest));
        }
        assert!(
            a.buffered_bytes() <= max_bytes,
            "assembler over its byte limit"
        );
        if head[8] & 0x40 == 0 {
            continue;
        }
        while let Some(event) = a.poll_event() {
            match event {
                AssemblerEvent::Frame(f) => {
                    let step = highest_by_step.partition_point(|(at, _)| *at < f.received_at);
                    let (_, highest) = highest_by_step[step];
                    let first = unwrap_near(f.first_sequence_number, highest);
                    let last = unwrap_near(f.last_sequence_number, highest);
                    assert!(
                        first <= last && last <= highest,
                        "a frame within the stream"
                    );
                    if let Some(previous) = last_emitted {
                        assert!(first > previous, "frames in order");
                    }
                    last_emitted = Some(last);
                    framed = true;
                }
                AssemblerEvent::Lost { .. } => {
                    reached.insert("frame_lost");
                }
                _ => {}
            }
        }
    }
    framed
}

/// `seq` extended to the value nearest `highest` (an extended sequence number).
fn unwrap_near(seq: u16, highest: u64) -> u64 {
    highest.wrapping_add_signed(i64::from(seq.wrapping_sub(highest as u16) as i16))
}

/// One packet in the format [`run_assembler`] reads.
fn packet(out: &mut Vec<u8>, seq: u16, ts: u32, marker: bool, step_ms: u8, payload: &[u8]) {
    let len = payload.len().min(0x3f);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&ts.to_be_bytes());
    out.extend_from_slice(&[(96 << 1) | u8::from(marker), step_ms, 0x40 | len as u8]);
    out.extend_from_slice(&payload[..len]);
}

fn assembler_seeds(_: Instant) -> Vec<Vec<u8>> {
    // VP8 frames of three packets each (the first with the start bit), the fourth frame's
    // middle packet lost and its wait run out by later frames.
    let mut video = Vec::new();
    for frame in 0..8u16 {
        for part in 0..3u16 {
            if frame == 3 && part == 1 {
                continue;
            }
            let start = if part == 0 { 0x10 } else { 0x00 };
            let head = [start, 0x00, 0x9d, 0x01, 0x2a, frame as u8, part as u8];
            let seq = 65_530u16.wrapping_add(frame * 3 + part);
            packet(
                &mut video,
                seq,
                u32::from(frame) * 3000,
                part == 2,
                33,
                &head,
            );
        }
    }
    // Audio: one packet a frame, 20 ms apart.
    let mut audio = Vec::new();
    for i in 0..10u16 {
        packet(
            &mut audio,
            100 + i,
            u32::from(i) * 960,
            false,
            20,
            &[0x78, i as u8, 1, 2],
        );
    }
    vec![video, audio]
}
