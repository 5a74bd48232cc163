//! Connected-pair target: two peer connections (cached certificates, fixed seeds) negotiate
//! audio, video and a data channel and connect in the simulator (1 ms links, virtual
//! time); then each input record forges one datagram from one peer to the other with the
//! sender's live credentials and keys, so that fuzzed bytes land behind each gate of the
//! receiver:
//!
//! - STUN binding requests or indications with the receiver's ufrag, signed with its ICE
//!   password (or not, as the record says), fingerprinted, from the sender's address or a
//!   new port (peer-reflexive);
//! - DTLS application data whose plaintext is fuzzed, sealed with the sender's write
//!   epoch (the record layer the receiver decrypts);
//! - SCTP packets inside that DTLS: chunks with TSNs relative to the receiver's windows,
//!   the receiver's verification tag and a valid CRC-32c unless the record asks otherwise;
//! - SRTP and SRTCP protected with the sender's outbound SRTP context, on the negotiated
//!   SSRCs and payload types or fuzzed ones;
//! - DTLS records with a well-formed header and fuzzed body (forged, other epochs), and
//!   raw bytes.
//!
//! Records are delivered straight to the receiving node, so the target sees exactly what
//! each one did (counters and events); between records the simulator runs (responses,
//! retransmissions, consent, reports), and records also let time pass and make the
//! sender use the pair like an application (channel messages, RTP, keyframe requests).
//!
//! The pair connects once per process (two DTLS handshakes, four SDP parses: about 9 ms
//! in the instrumented fuzz build) and waits until no datagram is in flight; every input
//! then starts from a clone of both peers ([`Snapshot`]: same keys, RNG positions and
//! timers) on a new, empty simulated network at the same virtual instant, so each input
//! runs from the same connected state.

use super::jsep::peer;
use super::ops::{Ops, OpsWriter};
use super::{Milestones, Snapshot, Target};
use crate::media::{KeyframeRequestKind, RtpWrite, TrackInfo, TransceiverId};
use crate::peer_connection::{
    DataChannelInit, Event, PeerConnection, PeerConnectionState, SimPeer,
};
use crate::rng::Rng;
use crate::sctp::packet::PacketWriter;
use crate::sdp::MediaKind;
use crate::sim::{LinkConfig, Node, NodeId, Sim, SimConfig};
use crate::stun::{Attribute, Class, IntegrityKey, Method, StunMessage, TransactionId};
use bytes::Bytes;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub(super) const TARGET: Target = Target {
    name: "pc_connected",
    run,
    seeds,
    deep: &[
        "pair_connected",
        "stun_integrity_passed_connected",
        "dtls_app_data_connected",
        "sctp_data_accepted_connected",
        "sctp_data_delivered_connected",
        "dcep_channel_opened_connected",
        "srtp_unprotected_connected",
        "rtp_delivered_connected",
        "srtcp_unprotected_connected",
        "rtcp_received_connected",
        "dtls_forged_record_dropped_connected",
        "answerer_received_connected",
        "offerer_received_connected",
    ],
};

const MAX_OPS: usize = 32;
/// The SCTP port both sides use (the SDP default).
const SCTP_PORT: u16 = 5000;
const CHUNK_DATA: u8 = 0;
const CHUNK_SACK: u8 = 3;
const CHUNK_FORWARD_TSN: u8 = 192;
const CHUNK_I_DATA: u8 = 64;
const CHUNK_I_FORWARD_TSN: u8 = 194;
/// Record kinds (the low 7 bits of a record's first byte, modulo `KINDS`; the top bit
/// picks the direction: clear a → b, set b → a).
const STUN: u8 = 0;
const DTLS_APP: u8 = 1;
const SCTP: u8 = 2;
const SRTP: u8 = 3;
const SRTCP: u8 = 4;
const DTLS_RECORD: u8 = 5;
const RAW: u8 = 6;
const TIME: u8 = 7;
const APP: u8 = 8;
const KINDS: u8 = 9;
const B_TO_A: u8 = 0x80;

/// The connected peers with nothing in flight between them: what every input starts
/// from.
#[derive(Debug, Clone)]
struct Connected {
    peers: [SimPeer; 2],
    now: Instant,
    media: [Vec<TransceiverId>; 2],
}

struct Pair {
    sim: Sim,
    nodes: [NodeId; 2],
    addrs: [SocketAddr; 2],
    /// Audio and video transceivers of each side.
    media: [Vec<TransceiverId>; 2],
    /// The last RTP sequence number each side's records used.
    seq: [u16; 2],
    reached: Milestones,
}

/// Records: a kind byte (see the constants), then the kind's fields:
/// - STUN: flags (1 USE-CANDIDATE, 2 controlling, 4 wrong ufrag, 8 unsigned, 16 no
///   FINGERPRINT, 32 indication, 64 new source port), priority u32, tie-breaker u64,
///   extra attributes (count, then per attribute: type u16, short value);
/// - DTLS_APP: plaintext (long);
/// - SCTP: flags (1 wrong tag, 2 bad checksum), chunk count, per chunk: type, flags,
///   signed TSN offset, short value (the TSN goes in front of DATA, I-DATA, SACK and
///   FORWARD TSN values);
/// - SRTP: flags (1 marker, 2 X bit, 4 fuzzed SSRC, 8 fuzzed payload type), stream index,
///   payload type, signed sequence offset, timestamp u32, [SSRC u32,] body (long);
/// - SRTCP: flags (1 fuzzed SSRC, 2 keep the length field, 4 the receiver's SSRC as the
///   media source), count, packet type index,
///   [SSRC u32,] body (long);
/// - DTLS_RECORD: content type, epoch, sequence u16, body (long);
/// - RAW: bytes (long);
/// - TIME: byte × 10 ms of virtual time;
/// - APP: what the sender does: 0 a channel message (length u16), 1 RTP (short payload),
///   2 a keyframe request, 3 a new channel.
pub(super) fn run(data: &[u8], start: Instant) -> Milestones {
    static CONNECTED: Snapshot<Option<Connected>> = Snapshot::new();
    let connected = CONNECTED.get(start, |start| Pair::connect(start)?.settle());
    let Some(mut pair) = connected.map(Pair::resume) else {
        return Milestones::new();
    };
    pair.play(data);
    pair.reached
}

impl Pair {
    /// The two peers on a simulated network (1 ms links) whose clock starts at `now`.
    fn on_network(peers: [SimPeer; 2], now: Instant) -> Option<Pair> {
        let config = SimConfig::new()
            .capture(false)
            .default_link(LinkConfig::new().latency(Duration::from_millis(1)));
        let mut sim = Sim::with_config(now, Rng::from_u64(17), config);
        let net = sim.internet();
        let addrs = [0, 1].map(|i| SocketAddr::from(([10, 0, 0, 1 + i as u8], 5000)));
        let [a, b] = peers;
        let a = sim.add_node(net, addrs[0].ip(), a).ok()?;
        let b = sim.add_node(net, addrs[1].ip(), b).ok()?;
        Some(Pair {
            sim,
            nodes: [a, b],
            addrs,
            media: [Vec::new(), Vec::new()],
            seq: [0, 0],
            reached: Milestones::new(),
        })
    }

    /// Negotiates audio, video and a data channel and runs until both sides are connected
    /// with the channel open and SRTP keyed.
    fn connect(start: Instant) -> Option<Pair> {
        let peers = [0, 1].map(|side| SimPeer::new(peer(side, start)));
        let mut pair = Pair::on_network(peers, start)?;
        let tracks = || {
            [
                TrackInfo::new(MediaKind::Audio, "mic", "s"),
                TrackInfo::new(MediaKind::Video, "cam", "s"),
            ]
        };
        let offer = {
            for track in tracks() {
                let id = pair.pc(0).add_track(track).ok()?;
                pair.media[0].push(id);
            }
            let pa = pair.pc(0);
            pa.create_data_channel("chat", DataChannelInit::default())
                .ok()?;
            let offer = pa.create_offer().ok()?;
            pa.set_local_description(offer.clone()).ok()?;
            offer
        };
        let answer = {
            pair.pc(1).set_remote_description(offer).ok()?;
            for track in tracks() {
                let id = pair.pc(1).add_track(track).ok()?;
                pair.media[1].push(id);
            }
            let pb = pair.pc(1);
            let answer = pb.create_answer().ok()?;
            pb.set_local_description(answer.clone()).ok()?;
            answer
        };
        pair.pc(0).set_remote_description(answer).ok()?;
        for side in 0..2 {
            pair.node(side).drain();
        }
        let mut open = [false, false];
        for _ in 0..500 {
            if pair.sim.run_for(Duration::from_millis(10)).is_err() {
                return None;
            }
            for (from, to) in [(0, 1), (1, 0)] {
                for event in pair.node(from).take_events() {
                    match event {
                        Event::IceCandidate(c) => {
                            let _ = pair.pc(to).add_ice_candidate(c);
                            pair.node(to).drain();
                        }
                        Event::ChannelOpen(_) => open[from] = true,
                        _ => {}
                    }
                }
            }
            let keyed = (0..2).all(|side| pair.pc(side).media.srtp.is_some());
            let connected = (0..2)
                .all(|side| pair.pc(side).connection_state() == PeerConnectionState::Connected);
            if open == [true, true] && keyed && connected {
                return Some(pair);
            }
        }
        None
    }

    /// Runs until no datagram is in flight (the simulated network can then be left out
    /// of the snapshot) and takes the peers out.
    fn settle(mut self) -> Option<Connected> {
        for _ in 0..1000 {
            let stats = self.sim.stats();
            if stats.sent + stats.duplicated == stats.delivered + stats.total_dropped() {
                for side in 0..2 {
                    let _ = self.node(side).take_events();
                }
                let node = |side: usize| self.sim.node::<SimPeer>(self.nodes[side]).clone();
                return Some(Connected {
                    peers: [node(0), node(1)],
                    now: self.sim.now(),
                    media: self.media,
                });
            }
            self.sim.run_for(Duration::from_micros(100)).ok()?;
        }
        None
    }

    /// The connected peers on a new network, at the instant they were taken out.
    fn resume(connected: Connected) -> Pair {
        let Connected { peers, now, media } = connected;
        let mut pair = Pair::on_network(peers, now).expect("two addresses on an empty network");
        pair.media = media;
        pair.reached.insert("pair_connected");
        pair
    }

    fn node(&mut self, side: usize) -> &mut SimPeer {
        self.sim.node_mut::<SimPeer>(self.nodes[side])
    }

    fn pc(&mut self, side: usize) -> &mut PeerConnection {
        &mut self.node(side).pc
    }

    /// Runs the records `data` holds (at most [`MAX_OPS`]).
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
        let first = ops.u8();
        let from = usize::from(first & B_TO_A != 0);
        let to = 1 - from;
        let source = self.addrs[from];
        let datagram = match (first & !B_TO_A) % KINDS {
            STUN => self.stun(from, ops).map(|(port, d)| {
                let source = SocketAddr::new(source.ip(), port);
                (source, d)
            }),
            DTLS_APP => {
                let plaintext = ops.long(1200);
                self.seal(from, plaintext).map(|d| (source, d))
            }
            SCTP => self.sctp(from, ops).map(|d| (source, d)),
            SRTP => self.srtp(from, ops).map(|d| (source, d)),
            SRTCP => self.srtcp(from, ops).map(|d| (source, d)),
            DTLS_RECORD => Some((source, dtls_record(ops))),
            RAW => Some((source, ops.long(1500).to_vec())),
            TIME => {
                let _ = self
                    .sim
                    .run_for(Duration::from_millis(u64::from(ops.u8()) * 10));
                None
            }
            _ => {
                self.app(from, ops);
                None
            }
        };
        if let Some((source, payload)) = datagram {
            self.deliver(to, source, &payload);
        }
        // Responses, SACKs, reports and retransmissions flow; timers run.
        let _ = self.sim.run_for(Duration::from_millis(5));
        for side in 0..2 {
            let _ = self.node(side).take_events();
        }
    }

    /// Hands `payload` to `to` directly and notes what got past which gate.
    fn deliver(&mut self, to: usize, source: SocketAddr, payload: &[u8]) {
        let before = Counters::of(self.pc(to));
        let _ = self.node(to).take_events();
        let destination = self.addrs[to];
        let now = self.sim.now();
        self.node(to)
            .handle_receive(now, source, destination, payload);
        let after = Counters::of(self.pc(to));
        let events = self.node(to).take_events();
        let mut reached = Vec::new();
        if after.stun_accepted > before.stun_accepted {
            reached.push("stun_integrity_passed_connected");
        }
        if after.dtls_app > before.dtls_app {
            reached.push("dtls_app_data_connected");
        }
        if after.dtls_dropped > before.dtls_dropped {
            reached.push("dtls_forged_record_dropped_connected");
        }
        if after.sctp_data > before.sctp_data {
            reached.push("sctp_data_accepted_connected");
        }
        if after.srtp > before.srtp {
            reached.push("srtp_unprotected_connected");
        }
        if after.srtcp > before.srtcp {
            reached.push("srtcp_unprotected_connected");
        }
        for event in &events {
            match event {
                Event::ChannelMessage { .. } => reached.push("sctp_data_delivered_connected"),
                Event::DataChannel(_) => reached.push("dcep_channel_opened_connected"),
                Event::Rtp(_) | Event::Frame(_) => reached.push("rtp_delivered_connected"),
                Event::Rtcp { .. } | Event::KeyframeRequest { .. } => {
                    reached.push("rtcp_received_connected");
                }
                _ => {}
            }
        }
        if !reached.is_empty() {
            reached.push(if to == 0 {
                "offerer_received_connected"
            } else {
                "answerer_received_connected"
            });
        }
        self.reached.extend(reached);
    }

    /// A STUN message from `from` to the other side: (source port, bytes).
    fn stun(&mut self, from: usize, ops: &mut Ops<'_>) -> Option<(u16, Vec<u8>)> {
        let flags = ops.u8();
        let priority = ops.u32();
        let tie_breaker = ops.u64();
        let to = 1 - from;
        let theirs = self.pc(to).ice.local_credentials().clone();
        let ours = self.pc(from).ice.local_credentials().ufrag.clone();
        let ufrag = if flags & 4 == 0 {
            theirs.ufrag.clone()
        } else {
            "nope".into()
        };
        let mut id = [0u8; 12];
        id[..8].copy_from_slice(&tie_breaker.to_be_bytes());
        id[8..].copy_from_slice(&priority.to_be_bytes());
        let class = if flags & 32 == 0 {
            Class::Request
        } else {
            Class::Indication
        };
        let mut msg = StunMessage::new(class, Method::BINDING, TransactionId(id))
            .with(Attribute::Username(format!("{ufrag}:{ours}")))
            .with(Attribute::Priority(priority));
        if flags & 1 != 0 {
            msg = msg.with(Attribute::UseCandidate);
        }
        msg = msg.with(if flags & 2 != 0 {
            Attribute::IceControlling(tie_breaker)
        } else {
            Attribute::IceControlled(tie_breaker)
        });
        for _ in 0..ops.u8() % 4 {
            let typ = ops.u16();
            let value = ops.short().to_vec();
            msg = msg.with(Attribute::Unknown { typ, value });
        }
        let key = IntegrityKey::short_term(&theirs.pwd);
        let key = (flags & 8 == 0).then_some(&key);
        let bytes = msg.encode(key, flags & 16 == 0).ok()?;
        let port = if flags & 64 == 0 {
            self.addrs[from].port()
        } else {
            6000 + u16::from(flags >> 7)
        };
        Some((port, bytes))
    }

    /// `plaintext` as one application data record of `from`'s DTLS write epoch.
    fn seal(&mut self, from: usize, plaintext: &[u8]) -> Option<Vec<u8>> {
        let dtls = self.pc(from).dtls.as_mut()?;
        let mut out = Vec::new();
        dtls.seal_application_data(plaintext, &mut out).ok()?;
        Some(out)
    }

    /// An SCTP packet for the other side, inside `from`'s DTLS.
    fn sctp(&mut self, from: usize, ops: &mut Ops<'_>) -> Option<Vec<u8>> {
        let to = 1 - from;
        let flags = ops.u8();
        let (tag, (cum, next)) = {
            let assoc = self.pc(to).sctp.as_ref()?.association();
            (assoc.verification_tag(), assoc.fuzzing_tsns())
        };
        let tag = if flags & 1 == 0 { tag } else { tag ^ 1 };
        let mut w = PacketWriter::new(SCTP_PORT, SCTP_PORT, tag, 1200);
        for _ in 0..(ops.u8() % 4 + 1) {
            let typ = ops.u8();
            let chunk_flags = ops.u8();
            let offset = i32::from(ops.u8() as i8);
            let value = ops.short();
            let base = match typ {
                CHUNK_DATA | CHUNK_I_DATA | CHUNK_FORWARD_TSN | CHUNK_I_FORWARD_TSN => {
                    Some(cum.wrapping_add(1))
                }
                CHUNK_SACK => Some(next.wrapping_sub(1)),
                _ => None,
            };
            match base {
                Some(base) => {
                    let tsn = base.wrapping_add_signed(offset).to_be_bytes();
                    w.push_chunk(typ, chunk_flags, &[&tsn, value]);
                }
                None => w.push_chunk(typ, chunk_flags, &[value]),
            }
        }
        let mut packet = w.finish(false);
        if flags & 2 != 0 {
            packet[8] ^= 0xff;
        }
        self.seal(from, &packet)
    }

    /// An RTP packet protected with `from`'s outbound SRTP keys.
    fn srtp(&mut self, from: usize, ops: &mut Ops<'_>) -> Option<Vec<u8>> {
        let flags = ops.u8();
        let stream = usize::from(ops.u8());
        let pt_index = usize::from(ops.u8());
        let offset = ops.u8() as i8;
        let timestamp = ops.u32();
        let (ssrc, pt) = self.stream(from, stream, pt_index);
        let ssrc = if flags & 4 == 0 { ssrc } else { ops.u32() };
        let pt = if flags & 8 == 0 { pt } else { pt_index as u8 };
        self.seq[from] = self.seq[from].wrapping_add_signed(i16::from(offset));
        let body = ops.long(1200);
        let mut packet = Vec::with_capacity(12 + body.len() + 16);
        packet.push(0x80 | if flags & 2 != 0 { 0x10 } else { 0 });
        packet.push((pt & 0x7f) | if flags & 1 != 0 { 0x80 } else { 0 });
        packet.extend_from_slice(&self.seq[from].to_be_bytes());
        packet.extend_from_slice(&timestamp.to_be_bytes());
        packet.extend_from_slice(&ssrc.to_be_bytes());
        packet.extend_from_slice(body);
        let srtp = self.pc(from).media.srtp.as_mut()?;
        srtp.outbound.protect_rtp(&mut packet).ok()?;
        Some(packet)
    }

    /// An RTCP packet protected with `from`'s outbound SRTCP keys.
    fn srtcp(&mut self, from: usize, ops: &mut Ops<'_>) -> Option<Vec<u8>> {
        const TYPES: [u8; 7] = [200, 201, 202, 203, 204, 205, 206];
        let flags = ops.u8();
        let count = ops.u8();
        let typ = ops.u8();
        let (ssrc, _) = self.stream(from, usize::from(count), 0);
        let ssrc = if flags & 1 == 0 { ssrc } else { ops.u32() };
        let body = ops.long(1200);
        let mut packet = Vec::with_capacity(8 + body.len() + 32);
        packet.push(0x80 | (count & 0x1f));
        packet.push(TYPES.get(usize::from(typ)).copied().unwrap_or(typ));
        let words = (body.len() + 4).div_ceil(4) as u16;
        packet.extend_from_slice(&words.to_be_bytes());
        packet.extend_from_slice(&ssrc.to_be_bytes());
        packet.extend_from_slice(body);
        if flags & 2 == 0 {
            // Pad to whole words so the length field is right.
            packet.resize(4 + 4 * usize::from(words), 0);
        }
        if flags & 4 != 0 && packet.len() >= 12 {
            // The media source of feedback: what the receiver sends.
            let (theirs, _) = self.stream(1 - from, usize::from(count), 0);
            packet[8..12].copy_from_slice(&theirs.to_be_bytes());
        }
        let srtp = self.pc(from).media.srtp.as_mut()?;
        srtp.outbound.protect_rtcp(&mut packet).ok()?;
        Some(packet)
    }

    /// `from`'s sending SSRC and a payload type of its media transceiver `index` (cycling).
    fn stream(&mut self, from: usize, index: usize, pt_index: usize) -> (u32, u8) {
        let ids = self.media[from].clone();
        let Some(&id) = ids.get(index % ids.len().max(1)) else {
            return (0, 0);
        };
        let Ok(t) = self.pc(from).transceiver(id) else {
            return (0, 0);
        };
        let codecs = t.codecs();
        let pt = codecs
            .get(pt_index % codecs.len().max(1))
            .map_or(0, |c| c.payload_type);
        (t.sender_ssrc(), pt)
    }

    /// The sender uses the pair as an application would.
    fn app(&mut self, from: usize, ops: &mut Ops<'_>) {
        match ops.u8() % 4 {
            0 => {
                let len = usize::from(ops.u16() % 4096);
                let pc = self.pc(from);
                if let Some(&id) = pc.data_channel_ids().first()
                    && let Ok(mut channel) = pc.data_channel(id)
                {
                    let _ = channel.send_binary(Bytes::from(vec![0x5a; len]));
                }
            }
            1 => {
                let payload = ops.short().to_vec();
                let ids = self.media[from].clone();
                self.seq[from] = self.seq[from].wrapping_add(1);
                let seq = self.seq[from];
                for id in ids {
                    if let Ok(mut t) = self.pc(from).transceiver(id)
                        && let Some(pt) = t.codecs().first().map(|c| c.payload_type)
                    {
                        let timestamp = u32::from(seq) * 3000;
                        let _ = t.write_rtp(RtpWrite::new(pt, seq, timestamp, true, &payload));
                    }
                }
            }
            2 => {
                let kind = if ops.u8() & 1 == 0 {
                    KeyframeRequestKind::Pli
                } else {
                    KeyframeRequestKind::Fir
                };
                if let Some(&id) = self.media[from].get(1)
                    && let Ok(mut t) = self.pc(from).transceiver(id)
                {
                    let _ = t.request_keyframe(kind);
                }
            }
            _ => {
                let _ = self
                    .pc(from)
                    .create_data_channel("more", DataChannelInit::default());
            }
        }
        self.node(from).drain();
    }
}

/// A DTLS record with a well-formed header (DTLS 1.2 version, the length of its body)
/// and a fuzzed content type, epoch, sequence number and body.
fn dtls_record(ops: &mut Ops<'_>) -> Vec<u8> {
    const TYPES: [u8; 5] = [20, 21, 22, 23, 24];
    let typ = ops.u8();
    let epoch = u16::from(ops.u8() % 3);
    let seq = ops.u16();
    let body = ops.long(1400);
    let mut record = Vec::with_capacity(13 + body.len());
    record.push(TYPES.get(usize::from(typ)).copied().unwrap_or(typ));
    record.extend_from_slice(&[0xfe, 0xfd]);
    record.extend_from_slice(&epoch.to_be_bytes());
    record.extend_from_slice(&[0, 0, 0, 0]);
    record.extend_from_slice(&seq.to_be_bytes());
    record.extend_from_slice(&(body.len() as u16).to_be_bytes());
    record.extend_from_slice(body);
    record
}

/// What the receiver's counters say got past each gate.
struct Counters {
    stun_accepted: u64,
    dtls_app: u64,
    dtls_dropped: u64,
    sctp_data: u64,
    srtp: u64,
    srtcp: u64,
}

impl Counters {
    fn of(pc: &PeerConnection) -> Counters {
        let ice = pc.ice.stats();
        let dtls = pc.dtls.as_ref().map(|d| d.stats()).unwrap_or_default();
        let sctp = pc.sctp.as_ref().map(|s| s.association().stats());
        let media = &pc.media.stats;
        Counters {
            stun_accepted: ice.checks_received + ice.indications_received,
            dtls_app: dtls.application_records_received,
            dtls_dropped: dtls.records_bad_mac
                + dtls.records_malformed
                + dtls.records_replayed
                + dtls.records_unexpected,
            sctp_data: sctp.map_or(0, |s| s.data_chunks_received),
            srtp: media.srtp_packets_received,
            srtcp: media.srtcp_packets_received,
        }
    }
}

/// Seeds: every record kind in both directions, valid (past each gate) and then bent.
fn seeds(_: Instant) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in [0, B_TO_A] {
        // STUN: a signed check, a signed nominating one from a new port, an indication,
        // an unsigned one, one with extra attributes.
        let mut w = OpsWriter::default();
        for flags in [0u8, 1 | 2 | 64, 32, 8, 4] {
            w.u8(STUN | dir).u8(flags).u32(0x6e7f_00ff).bytes(&[7; 8]);
            if flags == 0 {
                w.u8(1).u16(0x8022).short(b"fuzz");
            } else {
                w.u8(0);
            }
        }
        out.push(w.0);

        // DTLS application data: bytes that are no SCTP packet.
        let mut w = OpsWriter::default();
        w.u8(DTLS_APP | dir).long(b"not an sctp packet at all");
        w.u8(DTLS_RECORD | dir)
            .u8(3)
            .u8(1)
            .u16(900)
            .long(&[0x55; 40]);
        w.u8(DTLS_RECORD | dir).u8(2).u8(0).u16(3).long(&[1; 12]);
        out.push(w.0);

        // SCTP: a message on the open channel, a DCEP open on a new stream, a SACK, a
        // FORWARD TSN, a packet with the wrong tag.
        let mut w = OpsWriter::default();
        // The offerer's channel (odd: it is the DTLS server); a new stream of the sender's
        // parity.
        let stream: u16 = 1;
        let new_stream: u16 = if dir == 0 { 21 } else { 20 };
        let mut data = Vec::new();
        data.extend_from_slice(&stream.to_be_bytes());
        // SSN 1: the channel's DCEP OPEN (or ACK, the other way) took SSN 0.
        data.extend_from_slice(&1u16.to_be_bytes());
        data.extend_from_slice(&53u32.to_be_bytes());
        data.extend_from_slice(b"fuzzed message");
        w.u8(SCTP | dir).u8(0).u8(0);
        w.u8(CHUNK_DATA).u8(0x03).u8(0).short(&data);
        let mut open = Vec::new();
        open.extend_from_slice(&new_stream.to_be_bytes());
        open.extend_from_slice(&0u16.to_be_bytes());
        open.extend_from_slice(&50u32.to_be_bytes());
        open.extend_from_slice(&[0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0]);
        open.extend_from_slice(b"fuzz");
        w.u8(SCTP | dir).u8(0).u8(0);
        w.u8(CHUNK_DATA).u8(0x03).u8(0).short(&open);
        w.u8(SCTP | dir).u8(0).u8(0);
        w.u8(CHUNK_SACK)
            .u8(0)
            .u8(0)
            .short(&[0, 1, 0, 0, 0, 0, 0, 0]);
        w.u8(SCTP | dir).u8(0).u8(0);
        w.u8(CHUNK_FORWARD_TSN).u8(0).u8(2).short(&[]);
        w.u8(SCTP | dir).u8(3).u8(1);
        w.u8(CHUNK_DATA).u8(3).u8(0).short(&data);
        w.u8(CHUNK_SACK)
            .u8(0)
            .u8(0)
            .short(&[0, 1, 0, 0, 0, 0, 0, 0]);
        out.push(w.0);

        // SRTP on each stream (marker set, then an extension bit), SRTCP: a sender
        // report, a PLI, a NACK, and one with a fuzzed SSRC.
        let mut w = OpsWriter::default();
        for stream in 0..2u8 {
            w.u8(SRTP | dir)
                .u8(1)
                .u8(stream)
                .u8(0)
                .u8(1)
                .u32(9000)
                .long(&[0x10; 60]);
        }
        w.u8(SRTP | dir)
            .u8(2)
            .u8(1)
            .u8(0)
            .u8(1)
            .u32(12000)
            .long(&[0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0, 0x90, 0x80, 1, 2, 3]);
        let sr = [0u8; 20];
        w.u8(SRTCP | dir).u8(0).u8(0).u8(0).long(&sr);
        w.u8(SRTCP | dir).u8(4).u8(1).u8(6).long(&[0, 0, 0, 0]);
        w.u8(SRTCP | dir)
            .u8(4)
            .u8(1)
            .u8(5)
            .long(&[0, 0, 0, 0, 0, 1, 0, 0]);
        w.u8(SRTCP | dir).u8(1).u8(0).u8(1).u32(42).long(&[0; 24]);
        out.push(w.0);

        // The application and time, then raw bytes of each class.
        let mut w = OpsWriter::default();
        w.u8(APP | dir).u8(0).u16(300);
        w.u8(APP | dir).u8(1).short(b"\x90\x80\x00\x00\x10 payload");
        w.u8(APP | dir).u8(2).u8(0);
        w.u8(APP | dir).u8(3);
        w.u8(TIME | dir).u8(60);
        w.u8(RAW | dir)
            .long(&[0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]);
        w.u8(RAW | dir)
            .long(&[0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
        w.u8(TIME | dir).u8(250);
        out.push(w.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::disallowed_methods)] // one real instant as a base
    fn clones_of_the_connected_peers_run_alone_and_alike() {
        let start = Instant::now();
        let connected = Pair::connect(start)
            .and_then(Pair::settle)
            .expect("the pair connects and settles");
        let untouched = format!("{connected:?}");
        let played = || {
            let mut pair = Pair::resume(connected.clone());
            for seed in seeds(start) {
                pair.play(&seed);
            }
            pair.nodes
                .map(|id| format!("{:?}", pair.sim.node::<SimPeer>(id)))
        };
        let (first, second) = (played(), played());
        assert_ne!(
            first[0],
            format!("{:?}", connected.peers[0]),
            "the inputs changed a"
        );
        assert_eq!(
            first, second,
            "the same inputs on a clone give the same state"
        );
        assert_eq!(
            format!("{connected:?}"),
            untouched,
            "the snapshot is untouched"
        );
    }
}
