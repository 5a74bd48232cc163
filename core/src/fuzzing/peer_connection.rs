//! Connected peer connection target: two peers (cached certificates) negotiate video and
//! a data channel and connect over an in-memory path (ICE, DTLS, SCTP, SRTP all up); then
//! the input makes the sending peer produce datagrams of each protocol — SCTP in DTLS from
//! channel messages, SRTP from `write_rtp`, SRTCP from keyframe requests and reports,
//! STUN consent checks as time passes — and mutates them (byte edits, truncation) on the
//! way to the receiving peer, or injects raw datagrams. The receiver's keys are the real
//! ones, so mutations land behind SRTP authentication and DTLS decryption only when the
//! fuzzer leaves the authenticated bytes alone, and in front of them when it does not.
//!
//! The pair connects once per process; every input starts from a clone of it (see
//! [`Snapshot`]).

use super::jsep::{drain, peer};
use super::ops::{Ops, OpsWriter};
use super::{Milestones, Snapshot, Target};
use crate::media::{KeyframeRequestKind, RtpWrite, TrackInfo, TransceiverId};
use crate::peer_connection::{
    DataChannelInit, Event, Input, Output, PeerConnection, PeerConnectionState,
};
use crate::sdp::MediaKind;
use crate::transmit::Transmit;
use bytes::Bytes;
use std::time::{Duration, Instant};

pub(super) const TARGET: Target = Target {
    name: "peer_connection",
    run,
    seeds,
    deep: &[
        "pc_connected",
        "pc_injected_stun",
        "pc_injected_dtls",
        "pc_injected_srtp",
        "pc_injected_srtcp",
        "pc_rtp_delivered",
        "pc_rtcp_delivered",
        "pc_channel_message_delivered",
    ],
};

const MAX_OPS: usize = 32;

/// The pair as it stands between operations; cloned from the connected snapshot for
/// every input.
#[derive(Clone)]
struct Pair {
    pcs: [PeerConnection; 2],
    now: Instant,
    video: [Option<TransceiverId>; 2],
    seq: u16,
    reached: Milestones,
}

/// After the connection, operations: 0 a channel message from a (length u16), 1 an RTP
/// packet from a (marker, payload), 2 a keyframe request from a (SRTCP), 3 time passes
/// (byte × 100 ms, consent checks and reports), 4 a raw datagram to b; ops 0–3 take a
/// mutation first (count, then per edit: kind, position u16, value) applied to every
/// datagram a sends for it.
pub(super) fn run(data: &[u8], start: Instant) -> Milestones {
    static CONNECTED: Snapshot<Option<Pair>> = Snapshot::new();
    let Some(mut pair) = CONNECTED.get(start, Pair::connect) else {
        return Milestones::new();
    };
    pair.play(data);
    pair.reached
}

/// Applies the input's edits to `datagram`: xor a byte, truncate, or append bytes.
fn mutate(datagram: &mut Vec<u8>, edits: &[(u8, u16, u8)]) {
    for &(kind, at, value) in edits {
        if datagram.is_empty() {
            return;
        }
        let at = usize::from(at) % datagram.len();
        match kind % 3 {
            0 => datagram[at] ^= value.max(1),
            1 => datagram.truncate(at),
            _ => datagram.extend(std::iter::repeat_n(value, usize::from(value % 32))),
        }
    }
}

fn read_edits(ops: &mut Ops<'_>) -> Vec<(u8, u16, u8)> {
    (0..ops.u8() % 4)
        .map(|_| (ops.u8(), ops.u16(), ops.u8()))
        .collect()
}

impl Pair {
    fn connect(now: Instant) -> Option<Pair> {
        let mut pair = Pair {
            pcs: [peer(0, now), peer(1, now)],
            now,
            video: [None, None],
            seq: 0,
            reached: Milestones::new(),
        };
        let [a, b] = &mut pair.pcs;
        pair.video[0] = a
            .add_track(TrackInfo::new(MediaKind::Video, "cam", "s"))
            .ok();
        a.create_data_channel("chat", DataChannelInit::default())
            .ok()?;
        let offer = a.create_offer().ok()?;
        a.set_local_description(offer.clone()).ok()?;
        b.set_remote_description(offer).ok()?;
        pair.video[1] = b
            .add_track(TrackInfo::new(MediaKind::Video, "cam", "s"))
            .ok();
        let answer = b.create_answer().ok()?;
        b.set_local_description(answer.clone()).ok()?;
        a.set_remote_description(answer).ok()?;
        for (from, to) in [(0, 1), (1, 0)] {
            for c in drain(&mut pair.pcs[from]) {
                let _ = pair.pcs[to].add_ice_candidate(c);
            }
        }
        for _ in 0..200 {
            pair.exchange(&[]);
            let connected = pair
                .pcs
                .iter()
                .all(|pc| pc.connection_state() == PeerConnectionState::Connected);
            if connected && pair.reached.contains("pc_channel_open") {
                break;
            }
        }
        // b sends once so that a learns its SSRC (for keyframe requests).
        pair.write_rtp(1, false, b"keyframe");
        pair.exchange(&[]);
        if pair.pcs[1].connection_state() != PeerConnectionState::Connected {
            return None;
        }
        pair.reached.clear();
        pair.reached.insert("pc_connected");
        Some(pair)
    }

    /// Runs the operations `data` holds (at most [`MAX_OPS`]).
    fn play(&mut self, data: &[u8]) {
        let mut ops = Ops::new(data);
        for _ in 0..MAX_OPS {
            if ops.is_empty() {
                break;
            }
            self.step(&mut ops);
        }
    }

    fn step(&mut self, ops: &mut Ops<'_>) {
        let op = ops.u8() % 5;
        if op == 4 {
            let payload = ops.long(1500).to_vec();
            let t = Transmit {
                source: self.pcs[0].local_sockets()[0],
                destination: self.pcs[1].local_sockets()[0],
                payload,
            };
            self.deliver(1, &t);
            self.exchange(&[]);
            return;
        }
        let edits = read_edits(ops);
        match op {
            0 => {
                let len = usize::from(ops.u16() % 2048);
                if let Some(&id) = self.pcs[0].data_channel_ids().first()
                    && let Ok(mut channel) = self.pcs[0].data_channel(id)
                {
                    let _ = channel.send_binary(Bytes::from(vec![0x5a; len]));
                }
            }
            1 => {
                let marker = ops.u8() & 1 == 1;
                let payload = ops.short().to_vec();
                self.write_rtp(0, marker, &payload);
            }
            2 => {
                let kind = if ops.u8() & 1 == 0 {
                    KeyframeRequestKind::Pli
                } else {
                    KeyframeRequestKind::Fir
                };
                if let Some(id) = self.video[0]
                    && let Ok(mut t) = self.pcs[0].transceiver(id)
                {
                    let _ = t.request_keyframe(kind);
                }
            }
            _ => {
                self.now += Duration::from_millis(u64::from(ops.u8()) * 100);
                for pc in &mut self.pcs {
                    pc.handle_timeout(self.now);
                }
            }
        }
        self.exchange(&edits);
    }

    fn write_rtp(&mut self, side: usize, marker: bool, payload: &[u8]) {
        let Some(id) = self.video[side] else {
            return;
        };
        self.seq = self.seq.wrapping_add(1);
        let timestamp = u32::from(self.seq) * 3000;
        if let Ok(mut t) = self.pcs[side].transceiver(id)
            && let Some(pt) = t.codecs().first().map(|c| c.payload_type)
        {
            let _ = t.write_rtp(RtpWrite::new(pt, self.seq, timestamp, marker, payload));
        }
    }

    /// Moves datagrams both ways until quiet (or the timers are due), editing a's first.
    fn exchange(&mut self, edits: &[(u8, u16, u8)]) {
        for round in 0..16 {
            let mut moved = false;
            let mut next = None;
            for from in 0..2 {
                let mut outgoing = Vec::new();
                for _ in 0..1000 {
                    match self.pcs[from].poll_output() {
                        Output::Transmit(t) => outgoing.push(t),
                        Output::Event(e) => self.note(from, &e),
                        Output::Timeout(at) => {
                            next = Some(next.map_or(at, |n: Instant| n.min(at)));
                            break;
                        }
                    }
                }
                for mut t in outgoing {
                    moved = true;
                    if from == 0 && round == 0 {
                        mutate(&mut t.payload, edits);
                    }
                    self.deliver(1 - from, &t);
                }
            }
            if !moved {
                // Let due timers run (handshake retransmissions, pacing) once in a while.
                match next {
                    Some(at) if at <= self.now + Duration::from_millis(200) => {
                        self.now = self.now.max(at);
                        for pc in &mut self.pcs {
                            pc.handle_timeout(self.now);
                        }
                    }
                    _ => break,
                }
            }
        }
    }

    fn deliver(&mut self, to: usize, t: &Transmit) {
        if to == 1 && !self.reached.is_empty() {
            let class = match t.payload.first() {
                Some(0..=3) => Some("pc_injected_stun"),
                Some(20..=63) => Some("pc_injected_dtls"),
                Some(128..=191) => match t.payload.get(1) {
                    Some(192..=223) => Some("pc_injected_srtcp"),
                    _ => Some("pc_injected_srtp"),
                },
                _ => None,
            };
            if let Some(class) = class {
                self.reached.insert(class);
            }
        }
        self.pcs[to].handle_input(
            self.now,
            Input::Receive {
                source: t.source,
                destination: t.destination,
                payload: &t.payload,
            },
        );
    }

    fn note(&mut self, side: usize, event: &Event) {
        let name = match event {
            Event::ChannelOpen(_) => "pc_channel_open",
            Event::ChannelMessage { .. } if side == 1 => "pc_channel_message_delivered",
            Event::Rtp(_) if side == 1 => "pc_rtp_delivered",
            Event::Rtcp { .. } if side == 1 => "pc_rtcp_delivered",
            Event::KeyframeRequest { .. } if side == 1 => "pc_rtcp_delivered",
            _ => return,
        };
        self.reached.insert(name);
    }
}

/// Seeds: each protocol once unmodified, then with edits; a raw datagram of each class.
fn seeds(_: Instant) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut w = OpsWriter::default();
    w.u8(0).u8(0).u16(100);
    w.u8(1)
        .u8(0)
        .u8(1)
        .short(b"\x90\x80\x00\x00\x10 vp8 payload");
    w.u8(2).u8(0).u8(0);
    w.u8(2).u8(0).u8(1);
    w.u8(3).u8(0).u8(30);
    w.u8(3).u8(0).u8(60);
    out.push(w.0);
    let mut w = OpsWriter::default();
    w.u8(0).u8(1).u8(0).u16(40).u8(0x77).u16(300);
    w.u8(1).u8(1).u8(0).u16(2).u8(0x80).u8(0).short(b"payload");
    w.u8(2).u8(1).u8(1).u16(9).u8(0).u8(0);
    w.u8(3).u8(1).u8(0).u16(21).u8(4).u8(60);
    out.push(w.0);
    let mut w = OpsWriter::default();
    w.u8(4)
        .long(&[0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]);
    w.u8(4)
        .long(&[23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 4, 1, 2, 3, 4]);
    w.u8(4)
        .long(&[0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9, 9, 9, 9]);
    w.u8(4).long(&[0x81, 0xc9, 0, 1, 0, 0, 0, 1, 0x80, 0, 0, 1]);
    out.push(w.0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::disallowed_methods)] // one real instant as a base
    fn clones_of_the_connected_pair_run_alone_and_alike() {
        let start = Instant::now();
        let original = Pair::connect(start).expect("the pair connects");
        let untouched = format!("{:?}", original.pcs);
        let played = || {
            let mut pair = original.clone();
            for seed in seeds(start) {
                pair.play(&seed);
            }
            format!("{:?}", pair.pcs)
        };
        let (first, second) = (played(), played());
        assert_ne!(first, untouched, "the inputs changed the clone");
        assert_eq!(
            first, second,
            "the same inputs on a clone give the same state"
        );
        assert_eq!(
            format!("{:?}", original.pcs),
            untouched,
            "the original is untouched"
        );
    }
}
