//! JSEP call-sequence target: two peer connections (cached certificates) run offers,
//! answers, provisional answers, rollbacks, ICE restarts, candidates, tracks and data
//! channels in any order the input picks; descriptions travel between them intact or
//! with one line replaced, deleted or duplicated by the input. No datagrams move (the
//! `peer_connection` target covers the connected pair), so runs stay fast.

use super::ops::{Ops, OpsWriter};
use super::{Milestones, Target};
use crate::media::TrackInfo;
use crate::peer_connection::{
    DataChannelInit, Event, IceCandidate, Output, PeerConnection, RtcConfiguration,
    RtcSessionDescription, SdpType, SignalingState,
};
use crate::sdp::MediaKind;
use std::net::SocketAddr;
use std::time::Instant;

pub(super) const TARGET: Target = Target {
    name: "jsep",
    run,
    seeds,
    deep: &[
        "jsep_negotiated",
        "jsep_renegotiated",
        "jsep_rollback",
        "jsep_pranswer",
        "jsep_restart_negotiated",
        "jsep_edited_accepted",
        "jsep_candidate_added",
    ],
};

const MAX_OPS: usize = 48;

/// A peer connection with a cached certificate (index 0 or 1) and one local socket.
pub(super) fn peer(index: usize, now: Instant) -> PeerConnection {
    let config = RtcConfiguration {
        certificate: Some(super::dtls::certificate(index).clone()),
        ..RtcConfiguration::with_seed(10 + index as u64)
    };
    let mut pc = PeerConnection::new(config, now).expect("valid configuration");
    let addr = SocketAddr::from(([10, 0, 0, 1 + index as u8], 5000));
    pc.add_local_socket(now, addr).expect("first socket");
    pc
}

/// Drains `pc` until it asks for a timeout; returns the candidates it signalled.
pub(super) fn drain(pc: &mut PeerConnection) -> Vec<IceCandidate> {
    let mut candidates = Vec::new();
    for _ in 0..10_000 {
        match pc.poll_output() {
            Output::Event(Event::IceCandidate(c)) => candidates.push(c),
            Output::Event(_) | Output::Transmit(_) => {}
            _ => break,
        }
    }
    candidates
}

/// Offers that [`peer`] makes: data only, and audio, video and data.
pub(super) fn offers(now: Instant) -> Vec<String> {
    let mut data = peer(0, now);
    let _ = data.create_data_channel("chat", DataChannelInit::default());
    let mut media = peer(0, now);
    let _ = media.add_track(TrackInfo::new(MediaKind::Audio, "mic", "s"));
    let _ = media.add_track(TrackInfo::new(MediaKind::Video, "cam", "s"));
    let _ = media.create_data_channel("chat", DataChannelInit::default());
    [data, media]
        .iter_mut()
        .filter_map(|pc| pc.create_offer().ok())
        .map(|o| o.sdp)
        .collect()
}

struct Harness {
    pcs: [PeerConnection; 2],
    /// The last description each side produced, to be sent to the other.
    last: [Option<RtcSessionDescription>; 2],
    candidates: [Vec<IceCandidate>; 2],
    negotiations: u32,
    restarted: bool,
    reached: Milestones,
}

/// Operations, each with a side byte (low bit) first:
/// 0 create and set a local offer; 1 create and set a local answer (flag: as pranswer);
/// 2 send the last description to the other side, edited by an edit byte, a line index
/// and a replacement line; 3 rollback (flag: local or remote); 4 ICE restart;
/// 5 add an audio or video track or a data channel; 6 pass a candidate (own or fuzzed
/// text); 7 close.
pub(super) fn run(data: &[u8], now: Instant) -> Milestones {
    let mut h = Harness {
        pcs: [peer(0, now), peer(1, now)],
        last: [None, None],
        candidates: [Vec::new(), Vec::new()],
        negotiations: 0,
        restarted: false,
        reached: Milestones::new(),
    };
    let mut ops = Ops::new(data);
    for _ in 0..MAX_OPS {
        if ops.is_empty() {
            break;
        }
        let op = ops.u8();
        let side = usize::from(ops.u8() & 1);
        h.step(op, side, &mut ops);
        for s in 0..2 {
            let c = drain(&mut h.pcs[s]);
            h.candidates[s].extend(c);
            h.candidates[s].truncate(16);
        }
    }
    h.reached
}

impl Harness {
    fn step(&mut self, op: u8, side: usize, ops: &mut Ops<'_>) {
        let pc = &mut self.pcs[side];
        match op % 8 {
            0 => {
                if let Ok(offer) = pc.create_offer()
                    && pc.set_local_description(offer.clone()).is_ok()
                {
                    self.last[side] = Some(offer);
                }
            }
            1 => {
                let pranswer = ops.u8() & 1 == 1;
                if let Ok(answer) = pc.create_answer() {
                    let answer = if pranswer {
                        RtcSessionDescription::pranswer(answer.sdp.clone())
                    } else {
                        answer
                    };
                    if pc.set_local_description(answer.clone()).is_ok() {
                        self.last[side] = Some(answer);
                    }
                }
            }
            2 => self.send(side, ops),
            3 => {
                let ok = if ops.u8() & 1 == 0 {
                    pc.set_local_description(RtcSessionDescription::rollback())
                } else {
                    pc.set_remote_description(RtcSessionDescription::rollback())
                };
                if ok.is_ok() {
                    self.reached.insert("jsep_rollback");
                }
            }
            4 => {
                pc.restart_ice();
                self.restarted = true;
            }
            5 => {
                let which = ops.u8();
                let _ = match which % 3 {
                    // A simulcast sender (three rids): an input byte 0xff picks it, leaving
                    // what older seeds do unchanged.
                    _ if which == 0xff => pc
                        .add_transceiver(MediaKind::Video, simulcast_init())
                        .map(drop),
                    0 => pc
                        .add_track(TrackInfo::new(MediaKind::Audio, "mic", "s"))
                        .map(drop),
                    1 => pc
                        .add_track(TrackInfo::new(MediaKind::Video, "cam", "s"))
                        .map(drop),
                    _ => pc
                        .create_data_channel("dc", DataChannelInit::default())
                        .map(drop),
                };
            }
            6 => {
                let text = ops.short();
                let candidate = match self.candidates[1 - side].pop() {
                    Some(c) if text.is_empty() => c,
                    _ => IceCandidate {
                        candidate: String::from_utf8_lossy(text).into_owned(),
                        sdp_mid: Some("0".into()),
                        sdp_mline_index: Some(0),
                        username_fragment: None,
                    },
                };
                if pc.add_ice_candidate(candidate).is_ok() {
                    self.reached.insert("jsep_candidate_added");
                }
            }
            _ => pc.close(),
        }
    }

    /// Sends `side`'s last description to the other side, edited as the input says.
    fn send(&mut self, side: usize, ops: &mut Ops<'_>) {
        let edit = ops.u8();
        let line = usize::from(ops.u8());
        let replacement = String::from_utf8_lossy(ops.short()).into_owned();
        let Some(desc) = self.last[side].take() else {
            return;
        };
        let edited = !edit.is_multiple_of(4);
        let text = if edited {
            edit_line(desc.sdp.as_str(), edit % 4, line, &replacement)
        } else {
            desc.sdp.as_str().to_owned()
        };
        let sdp_type = desc.sdp_type;
        let desc = RtcSessionDescription {
            sdp_type,
            sdp: text,
        };
        let other = &mut self.pcs[1 - side];
        if other.set_remote_description(desc).is_err() {
            return;
        }
        if edited {
            self.reached.insert("jsep_edited_accepted");
        }
        match sdp_type {
            SdpType::Answer if other.signaling_state() == SignalingState::Stable => {
                self.negotiations += 1;
                self.reached.insert("jsep_negotiated");
                if self.negotiations > 1 {
                    self.reached.insert("jsep_renegotiated");
                }
                if self.restarted {
                    self.reached.insert("jsep_restart_negotiated");
                }
            }
            SdpType::Pranswer => {
                self.reached.insert("jsep_pranswer");
            }
            _ => {}
        }
    }
}

/// Replaces (1), deletes (2) or duplicates (3) line `index` (modulo the line count).
fn edit_line(text: &str, how: u8, index: usize, replacement: &str) -> String {
    let mut lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    if lines.is_empty() {
        return text.to_owned();
    }
    let i = index % lines.len();
    match how {
        1 => lines[i] = replacement,
        2 => {
            lines.remove(i);
        }
        _ => lines.insert(i, lines[i]),
    }
    let mut out = lines.join("\r\n");
    out.push_str("\r\n");
    out
}

fn offer(w: &mut OpsWriter, side: u8) {
    w.u8(0).u8(side);
}
fn answer(w: &mut OpsWriter, side: u8, pranswer: bool) {
    w.u8(1).u8(side).u8(u8::from(pranswer));
}
fn send(w: &mut OpsWriter, side: u8) {
    w.u8(2).u8(side).u8(0).u8(0).short(b"");
}

/// Seeds: a full negotiation with media and data then renegotiation after an ICE restart;
/// a pranswer then answer; glare resolved by rollback; an edited answer; candidates.
fn seeds(_: Instant) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut w = OpsWriter::default();
    w.u8(5).u8(0).u8(0).u8(5).u8(0).u8(1).u8(5).u8(0).u8(2);
    offer(&mut w, 0);
    send(&mut w, 0);
    answer(&mut w, 1, false);
    send(&mut w, 1);
    w.u8(6).u8(1).short(b"").u8(6).u8(0).short(b"");
    w.u8(4).u8(1);
    offer(&mut w, 1);
    send(&mut w, 1);
    answer(&mut w, 0, false);
    send(&mut w, 0);
    out.push(w.0);
    let mut w = OpsWriter::default();
    w.u8(5).u8(0).u8(2);
    offer(&mut w, 0);
    send(&mut w, 0);
    answer(&mut w, 1, true);
    send(&mut w, 1);
    answer(&mut w, 1, false);
    send(&mut w, 1);
    out.push(w.0);
    let mut w = OpsWriter::default();
    w.u8(5).u8(0).u8(2).u8(5).u8(1).u8(0);
    offer(&mut w, 0);
    offer(&mut w, 1);
    w.u8(3).u8(1).u8(0);
    send(&mut w, 0);
    answer(&mut w, 1, false);
    w.u8(2).u8(1).u8(1).u8(2).short(b"s=edited");
    w.u8(6)
        .u8(0)
        .short(b"candidate:1 1 udp 2130706431 10.0.0.9 9 typ host");
    w.u8(7).u8(0);
    out.push(w.0);
    out
}

/// A video sender with three simulcast layers.
fn simulcast_init() -> crate::media::TransceiverInit {
    crate::media::TransceiverInit {
        send_encodings: ["h", "m", "l"]
            .map(crate::media::SendEncoding::new)
            .to_vec(),
        ..crate::media::TransceiverInit::default()
    }
}
