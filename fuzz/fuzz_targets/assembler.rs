//! Fuzz the frame assembler: the input is a list of packets (sequence number, timestamp,
//! marker, time step, payload) for a VP8 and an audio assembler with small limits. Nothing
//! may panic, held bytes and queued events stay within their limits, frames come out in
//! sequence order.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcpeer::media::assembler::{
    AssemblerConfig, AssemblerEvent, AssemblerPacket, FrameAssembler,
};
use rtcpeer::media::packetize::audio::AudioDepacketizer;
use rtcpeer::media::packetize::vp8::Vp8Depacketizer;
use std::time::{Duration, Instant};

fn run(mut a: FrameAssembler, max_bytes: usize, data: &[u8]) {
    let mut now = Instant::now();
    let mut rest = data;
    let mut last_seq: Option<u16> = None;
    while rest.len() >= 9 {
        let (head, tail) = rest.split_at(9);
        let len = usize::from(head[8] & 0x3f).min(tail.len());
        let (payload, tail) = tail.split_at(len);
        rest = tail;
        now += Duration::from_millis(u64::from(head[7]));
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
        assert!(a.buffered_bytes() <= max_bytes);
        if head[8] & 0x40 != 0 {
            while let Some(event) = a.poll_event() {
                if let AssemblerEvent::Frame(f) = event {
                    if let Some(last) = last_seq {
                        let step = f.first_sequence_number.wrapping_sub(last);
                        // A forward jump of up to 2^15 plus one window is still forward.
                        assert!(step != 0 && step < 0x8100, "frames in order");
                    }
                    last_seq = Some(f.last_sequence_number);
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut video = AssemblerConfig::video(90_000);
    video.window = 64;
    video.max_bytes = 4096;
    video.max_events = 32;
    run(FrameAssembler::new(video, Box::new(Vp8Depacketizer)), 4096, data);
    let mut audio = AssemblerConfig::audio(48_000);
    audio.max_bytes = 1024;
    run(FrameAssembler::new(audio, Box::new(AudioDepacketizer)), 1024, data);
});
