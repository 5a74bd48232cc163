//! Data channel target: two [`DataChannels`] (DTLS client and server) over a lossy
//! in-memory path; the input creates channels (DCEP or negotiated, any reliability),
//! sends, closes, drops packets, lets time pass, and injects raw messages with any PPID
//! (DCEP included) through the peer's association, so the channel state machine sees
//! fuzzed DATA_CHANNEL_OPEN/ACK and messages on unknown or closing streams.

use super::ops::{Ops, OpsWriter};
use super::{Milestones, Target};
use crate::datachannel::{
    ChannelType, DataChannelConfig, DataChannelEvent, DataChannelInit, DataChannels, DcepMessage,
    DtlsRole,
};
use crate::rng::Rng;
use crate::sctp::SendOptions;
use bytes::Bytes;
use std::time::{Duration, Instant};

pub(super) const TARGET: Target = Target {
    name: "datachannel",
    run,
    seeds,
    deep: &[
        "dc_connected",
        "dc_open",
        "dc_incoming",
        "dc_message",
        "dc_closed",
        "dc_injected_open",
    ],
};

const MAX_OPS: usize = 64;
const PPIDS: [u32; 8] = [50, 51, 53, 56, 57, 52, 54, 0];

struct Harness {
    sides: [DataChannels; 2],
    now: Instant,
    reached: Milestones,
    injected_open: bool,
}

/// Operations (the first field of most picks side a or b by its low bit):
/// 0 create a channel (side, flags, id, label, protocol); 1 send (side, channel index,
/// binary?, two-byte length); 2 close (side, channel index); 3 exchange packets (drop
/// mask); 4 time passes (byte × 10 ms); 5 raw message from a's association (stream,
/// PPID index, bytes, where PPID index 7 takes a u32); 6 unread bytes at b (u16 × 64).
pub(super) fn run(data: &[u8], start: Instant) -> Milestones {
    let mut h = Harness::connect(start);
    let mut ops = Ops::new(data);
    for _ in 0..MAX_OPS {
        if ops.is_empty() {
            break;
        }
        h.step(&mut ops);
        h.exchange(u8::MAX, 1);
    }
    h.reached
}

impl Harness {
    fn connect(now: Instant) -> Harness {
        let mut h = Harness {
            sides: [
                DataChannels::new(
                    DataChannelConfig::new(DtlsRole::Client),
                    Rng::from_u64(1),
                    now,
                ),
                DataChannels::new(
                    DataChannelConfig::new(DtlsRole::Server),
                    Rng::from_u64(2),
                    now,
                ),
            ],
            now,
            reached: Milestones::new(),
            injected_open: false,
        };
        let _ = h.sides[0].connect(now);
        h.exchange(u8::MAX, 8);
        h
    }

    fn step(&mut self, ops: &mut Ops<'_>) {
        match ops.u8() % 7 {
            0 => {
                let side = usize::from(ops.u8() & 1);
                let flags = ops.u8();
                let id = ops.u8();
                let label = String::from_utf8_lossy(ops.short()).into_owned();
                let protocol = String::from_utf8_lossy(ops.short()).into_owned();
                let init = DataChannelInit {
                    ordered: flags & 1 == 0,
                    max_retransmits: (flags & 2 != 0).then_some(u16::from(flags >> 5)),
                    max_packet_life_time: (flags & 4 != 0).then_some(u16::from(flags >> 4) * 10),
                    protocol,
                    negotiated: flags & 8 != 0,
                    id: (flags & 16 != 0).then_some(u16::from(id)),
                    priority: 256,
                };
                let _ = self.sides[side].create_channel(&label, init);
            }
            1 => {
                let side = usize::from(ops.u8() & 1);
                let index = ops.u8();
                let binary = ops.u8() & 1 == 1;
                let len = usize::from(ops.u16() % 8192);
                if let Some(mut channel) = self.channel(side, index) {
                    let _ = if binary {
                        channel.send_binary(Bytes::from(vec![index; len]))
                    } else {
                        channel.send_text(&"x".repeat(len))
                    };
                }
            }
            2 => {
                let side = usize::from(ops.u8() & 1);
                let index = ops.u8();
                if let Some(mut channel) = self.channel(side, index) {
                    let _ = channel.close();
                }
            }
            3 => self.exchange(ops.u8(), 4),
            4 => {
                self.now += Duration::from_millis(u64::from(ops.u8()) * 10);
                for side in &mut self.sides {
                    side.handle_timeout(self.now);
                }
            }
            5 => self.inject(ops),
            _ => self.sides[1].set_application_unread(usize::from(ops.u16()) * 64),
        }
    }

    fn channel(&mut self, side: usize, index: u8) -> Option<crate::datachannel::DataChannel<'_>> {
        let ids: Vec<u16> = self.sides[side].channel_ids().collect();
        let id = *ids.get(usize::from(index) % ids.len().max(1))?;
        self.sides[side].channel(id).ok()
    }

    /// A message with any PPID straight from a's association, past its channel layer.
    fn inject(&mut self, ops: &mut Ops<'_>) {
        let stream = u16::from(ops.u8());
        let which = usize::from(ops.u8()) % PPIDS.len();
        let ppid = if which == 7 { ops.u32() } else { PPIDS[which] };
        let payload = Bytes::copy_from_slice(ops.short());
        if ppid == 50 && matches!(DcepMessage::parse(&payload), Ok(DcepMessage::Open { .. })) {
            self.injected_open = true;
        }
        let now = self.now;
        let association = self.sides[0].association_mut();
        let _ = association.send(now, stream, ppid, payload, SendOptions::default());
    }

    /// Moves packets both ways for up to `rounds` rounds; in the first, a packet is
    /// dropped when its bit in `mask` (cycling) is clear.
    fn exchange(&mut self, mask: u8, rounds: usize) {
        for round in 0..rounds {
            let mut moved = 0usize;
            for from in 0..2 {
                let mut packets = Vec::new();
                while let Some(p) = self.sides[from].poll_transmit(self.now) {
                    packets.push(p);
                }
                for p in packets {
                    moved += 1;
                    if round > 0 || mask & (1 << (moved % 8)) != 0 {
                        self.sides[1 - from].handle_receive(self.now, p);
                    }
                }
            }
            self.events();
            if moved == 0 {
                break;
            }
        }
    }

    fn events(&mut self) {
        for side in 0..2 {
            while let Some(event) = self.sides[side].poll_event() {
                let name = match event {
                    DataChannelEvent::Connected => "dc_connected",
                    DataChannelEvent::Open(_) => "dc_open",
                    DataChannelEvent::Incoming(_) if side == 1 && self.injected_open => {
                        "dc_injected_open"
                    }
                    DataChannelEvent::Incoming(_) => "dc_incoming",
                    DataChannelEvent::Message { .. } => "dc_message",
                    DataChannelEvent::Closed(_) => "dc_closed",
                    _ => continue,
                };
                self.reached.insert(name);
            }
        }
    }
}

/// Seeds: a DCEP channel opened, used both ways and closed; a negotiated unordered
/// partially reliable channel under loss; an OPEN injected by hand, then a message on it.
fn seeds(_: Instant) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut w = OpsWriter::default();
    w.u8(0).u8(0).u8(0).u8(0).short(b"chat").short(b"");
    w.u8(3).u8(0xff);
    w.u8(1).u8(0).u8(0).u8(0).u16(12);
    w.u8(1).u8(1).u8(0).u8(1).u16(300);
    w.u8(2).u8(0).u8(0);
    w.u8(3).u8(0xff).u8(4).u8(10).u8(3).u8(0xff);
    out.push(w.0);
    let mut w = OpsWriter::default();
    for side in 0..2 {
        w.u8(0)
            .u8(side)
            .u8(1 | 2 | 8 | 16 | 0x20)
            .u8(7)
            .short(b"game")
            .short(b"proto");
    }
    w.u8(1).u8(0).u8(0).u8(1).u16(5000);
    w.u8(3).u8(0x0f).u8(4).u8(50).u8(3).u8(0xff);
    w.u8(6).u16(4000);
    w.u8(1).u8(1).u8(0).u8(0).u16(10);
    out.push(w.0);
    let mut w = OpsWriter::default();
    let open = DcepMessage::Open {
        channel_type: ChannelType::RELIABLE,
        priority: 256,
        reliability: 0,
        label: "injected".into(),
        protocol: String::new(),
    };
    w.u8(5).u8(4).u8(0).short(&open.to_bytes()[..]);
    w.u8(3).u8(0xff);
    w.u8(5).u8(4).u8(1).short(b"text on the injected channel");
    w.u8(5).u8(9).u8(2).short(b"binary on an unknown stream");
    w.u8(3).u8(0xff);
    out.push(w.0);
    out
}
