//! SCTP target: an association `b`, established with a real peer `a`, receives packets
//! built from length-prefixed chunks whose TSN fields are relative to `b`'s receive window
//! (DATA, FORWARD TSN) or to `b`'s own sending (SACK), so fuzzed DATA is accepted and
//! delivered; the verification tag, ports and checksum are filled in. The peer also
//! sends real messages, `b` sends, resets streams, shuts down and aborts on command, and
//! time passes.

use super::ops::{Ops, OpsWriter};
use super::{Milestones, Target};
use crate::rng::Rng;
use crate::sctp::chunk::Chunk;
use crate::sctp::packet::{PacketView, PacketWriter};
use crate::sctp::{Association, SctpConfig, SctpEvent, SendOptions};
use bytes::Bytes;
use std::time::{Duration, Instant};

pub(super) const TARGET: Target = Target {
    name: "sctp",
    run,
    seeds,
    deep: &[
        "sctp_established",
        "sctp_fuzzed_data_accepted",
        "sctp_fuzzed_message_delivered",
        "sctp_fuzzed_sack_accepted",
        "sctp_forward_tsn_moved",
        "sctp_streams_reset",
        "sctp_closed",
    ],
};

const MAX_OPS: usize = 64;
const PORT: u16 = 5000;
const CHUNK_DATA: u8 = 0;
const CHUNK_SACK: u8 = 3;
const CHUNK_FORWARD_TSN: u8 = 192;

struct Harness {
    a: Association,
    b: Association,
    now: Instant,
    /// One past the highest TSN `a` sent (what `b` expects next, give or take loss).
    a_next_tsn: u32,
    /// One past the highest TSN `b` sent.
    b_next_tsn: u32,
    /// `a`'s packets not yet delivered to `b`.
    to_b: Vec<Vec<u8>>,
    /// The new cumulative TSN of the last fuzzed FORWARD TSN.
    forward: Option<u32>,
    reached: Milestones,
}

/// Operations: 0 a fuzzed packet for `b` (chunk count, then per chunk: type, flags,
/// signed TSN offset, value with a one-byte length — the TSN goes in front of DATA, SACK
/// and FORWARD TSN values); 1 deliver `a`'s queued packets (a byte masks which);
/// 2 time passes (byte × 10 ms); 3 `a` sends a message (stream, flags, length);
/// 4 `b` sends a message; 5 a command to `b` (reset, shutdown, abort); 6 raw chunk bytes.
pub(super) fn run(data: &[u8], start: Instant) -> Milestones {
    let mut h = Harness::connect(start);
    let mut ops = Ops::new(data);
    for _ in 0..MAX_OPS {
        if ops.is_empty() {
            break;
        }
        h.step(&mut ops);
        h.exchange();
    }
    h.reached
}

impl Harness {
    fn connect(now: Instant) -> Harness {
        let mut h = Harness {
            a: Association::new(SctpConfig::default(), Rng::from_u64(1)),
            b: Association::new(SctpConfig::default(), Rng::from_u64(2)),
            now,
            a_next_tsn: 0,
            b_next_tsn: 0,
            to_b: Vec::new(),
            forward: None,
            reached: Milestones::new(),
        };
        h.a.connect(now).expect("a new association connects");
        for _ in 0..4 {
            h.exchange();
            h.deliver(u8::MAX);
        }
        // One message each way teaches the harness both sides' TSNs.
        let _ = h.a.send(
            now,
            0,
            51,
            Bytes::from_static(b"hi"),
            SendOptions::default(),
        );
        let _ = h.b.send(
            now,
            0,
            51,
            Bytes::from_static(b"hi"),
            SendOptions::default(),
        );
        h.exchange();
        h.deliver(u8::MAX);
        h.exchange();
        h.reached.clear();
        if h.b.state() == crate::sctp::AssociationState::Established {
            h.reached.insert("sctp_established");
        }
        h
    }

    fn step(&mut self, ops: &mut Ops<'_>) {
        match ops.u8() % 7 {
            0 => self.fuzzed_packet(ops),
            1 => self.deliver(ops.u8()),
            2 => {
                self.now += Duration::from_millis(u64::from(ops.u8()) * 10);
                self.a.handle_timeout(self.now);
                self.b.handle_timeout(self.now);
            }
            3 => {
                let (stream, opts, payload) = message(ops);
                let _ = self.a.send(self.now, stream, 51, payload, opts);
            }
            4 => {
                let (stream, opts, payload) = message(ops);
                let _ = self.b.send(self.now, stream, 53, payload, opts);
            }
            5 => match ops.u8() % 3 {
                0 => {
                    let _ = self.b.reset_streams(self.now, &[u16::from(ops.u8() % 4)]);
                }
                1 => {
                    let _ = self.b.shutdown(self.now);
                }
                _ => self.b.abort(self.now),
            },
            _ => {
                // A raw chunk (its own header and length) after a valid common header.
                let mut packet = self.writer().finish(true);
                packet.extend_from_slice(ops.short());
                fill_checksum(&mut packet);
                self.b.handle_receive(self.now, packet);
            }
        }
    }

    fn writer(&self) -> PacketWriter {
        PacketWriter::new(PORT, PORT, self.b.verification_tag(), 1200)
    }

    /// Builds one packet of fuzzed chunks with TSNs relative to the window and delivers it.
    fn fuzzed_packet(&mut self, ops: &mut Ops<'_>) {
        let mut w = self.writer();
        for _ in 0..(ops.u8() % 4 + 1) {
            let typ = ops.u8();
            let flags = ops.u8();
            let offset = i32::from(ops.u8() as i8);
            let value = ops.short();
            let base = match typ {
                CHUNK_DATA | CHUNK_FORWARD_TSN => Some(self.a_next_tsn),
                CHUNK_SACK => Some(self.b_next_tsn.wrapping_sub(1)),
                _ => None,
            };
            match base {
                Some(base) => {
                    let tsn = base.wrapping_add_signed(offset);
                    if typ == CHUNK_FORWARD_TSN {
                        self.forward = Some(tsn);
                    }
                    let tsn = tsn.to_be_bytes();
                    w.push_chunk(typ, flags, &[&tsn, value]);
                }
                None => w.push_chunk(typ, flags, &[value]),
            }
        }
        let packet = w.finish(false);
        let stats = self.b.stats().clone();
        self.b.handle_receive(self.now, packet);
        let after = self.b.stats();
        if after.data_chunks_received - stats.data_chunks_received
            > after.duplicate_data_received - stats.duplicate_data_received
        {
            self.reached.insert("sctp_fuzzed_data_accepted");
        }
        if after.sacks_received > stats.sacks_received {
            self.reached.insert("sctp_fuzzed_sack_accepted");
        }
        while let Some(event) = self.b.poll_event() {
            if let SctpEvent::Message { .. } = event {
                self.reached.insert("sctp_fuzzed_message_delivered");
            }
            self.note(&event);
        }
    }

    /// Delivers `a`'s queued packets to `b`, those whose bit in `mask` is set (cycling).
    fn deliver(&mut self, mask: u8) {
        for (i, packet) in std::mem::take(&mut self.to_b).into_iter().enumerate() {
            if mask & (1 << (i % 8)) != 0 {
                self.b.handle_receive(self.now, packet);
            }
        }
    }

    /// Drains both sides: `b`'s packets go to `a` at once, `a`'s wait for a delivery op;
    /// both are read to learn the TSNs.
    fn exchange(&mut self) {
        for _ in 0..8 {
            let mut moved = false;
            while let Some(p) = self.b.poll_transmit(self.now) {
                moved = true;
                learn_tsn(&p, &mut self.b_next_tsn);
                if let Some(cum) = cumulative_ack(&p) {
                    // The skipped gap is gone: the ack reaches the new cumulative TSN.
                    if let Some(forward) = self.forward.take()
                        && cum.wrapping_sub(forward) as i32 >= 0
                    {
                        self.reached.insert("sctp_forward_tsn_moved");
                    }
                }
                self.a.handle_receive(self.now, p);
            }
            while let Some(p) = self.a.poll_transmit(self.now) {
                moved = true;
                learn_tsn(&p, &mut self.a_next_tsn);
                if self.to_b.len() < 64 {
                    self.to_b.push(p);
                }
            }
            if !moved {
                break;
            }
        }
        while self.a.poll_event().is_some() {}
        while let Some(event) = self.b.poll_event() {
            self.note(&event);
        }
        if self.b.state() == crate::sctp::AssociationState::Closed {
            self.reached.insert("sctp_closed");
        }
    }

    fn note(&mut self, event: &SctpEvent) {
        match event {
            SctpEvent::Connected => {
                self.reached.insert("sctp_established");
            }
            SctpEvent::IncomingStreamsReset(_) | SctpEvent::OutgoingStreamsReset(_) => {
                self.reached.insert("sctp_streams_reset");
            }
            SctpEvent::Closed(_) => {
                self.reached.insert("sctp_closed");
            }
            _ => {}
        }
    }
}

fn fill_checksum(packet: &mut [u8]) {
    if packet.len() >= 12 {
        packet[8..12].fill(0);
        let crc = crate::sctp::packet::checksum(packet);
        packet[8..12].copy_from_slice(&crc.to_le_bytes());
    }
}

fn message(ops: &mut Ops<'_>) -> (u16, SendOptions, Bytes) {
    let stream = u16::from(ops.u8() % 4);
    let flags = ops.u8();
    let opts = SendOptions {
        unordered: flags & 1 != 0,
        max_retransmits: (flags & 2 != 0).then_some(u16::from(flags >> 4)),
        lifetime: None,
    };
    let len = usize::from(ops.u16() % 4096);
    (stream, opts, Bytes::from(vec![flags; len]))
}

/// Updates `next` to one past the highest DATA TSN in `packet`.
fn learn_tsn(packet: &[u8], next: &mut u32) {
    let Ok(view) = PacketView::new_checked(packet.to_vec(), true) else {
        return;
    };
    for raw in view.chunks().flatten() {
        if let Ok(Chunk::Data(d)) = Chunk::parse(raw)
            && (d.tsn.wrapping_add(1).wrapping_sub(*next) as i32 > 0 || *next == 0)
        {
            *next = d.tsn.wrapping_add(1);
        }
    }
}

/// The cumulative TSN ack of the last SACK in `packet`.
fn cumulative_ack(packet: &[u8]) -> Option<u32> {
    let view = PacketView::new_checked(packet.to_vec(), true).ok()?;
    let mut cum = None;
    for raw in view.chunks().flatten() {
        if let Ok(Chunk::Sack(sack)) = Chunk::parse(raw) {
            cum = Some(sack.cumulative_tsn_ack);
        }
    }
    cum
}

fn data_chunk(w: &mut OpsWriter, offset: i8, flags: u8, stream: u16, ssn: u16, payload: &[u8]) {
    let mut value = Vec::new();
    value.extend_from_slice(&stream.to_be_bytes());
    value.extend_from_slice(&ssn.to_be_bytes());
    value.extend_from_slice(&51u32.to_be_bytes());
    value.extend_from_slice(payload);
    w.u8(CHUNK_DATA).u8(flags).u8(offset as u8).short(&value);
}

/// Seeds: in-window DATA delivered (whole and in fragments, unordered, out of order), a
/// SACK of `b`'s data, FORWARD TSN past a gap, a stream reset, shutdown and abort.
fn seeds(_: Instant) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    // One whole message, then two fragments in one packet.
    let mut w = OpsWriter::default();
    w.u8(0).u8(0);
    data_chunk(&mut w, 0, 0x03, 0, 1, b"hello");
    w.u8(0).u8(1);
    data_chunk(&mut w, 1, 0x02, 1, 0, b"first half ");
    data_chunk(&mut w, 2, 0x01, 1, 0, b"second half");
    w.u8(2).u8(30);
    out.push(w.0);
    // Out of order, unordered, and a SACK for b's message.
    let mut w = OpsWriter::default();
    w.u8(0).u8(1);
    data_chunk(&mut w, 1, 0x07, 2, 0, b"later");
    data_chunk(&mut w, 0, 0x07, 2, 0, b"earlier");
    w.u8(4).u8(1).u8(0).u16(10);
    w.u8(0).u8(0).u8(CHUNK_SACK).u8(0).u8(0);
    w.short(&[0, 1, 0, 0, 0, 0, 0, 0]);
    w.u8(2).u8(50);
    out.push(w.0);
    // A gap skipped by FORWARD TSN, then a reset and a shutdown.
    let mut w = OpsWriter::default();
    w.u8(0).u8(0);
    data_chunk(&mut w, 1, 0x03, 0, 2, b"after a gap");
    w.u8(0).u8(0).u8(CHUNK_FORWARD_TSN).u8(0).u8(0).short(&[]);
    w.u8(5).u8(0);
    w.u8(1).u8(0xff);
    w.u8(2).u8(20);
    w.u8(1).u8(0xff);
    w.u8(5).u8(1);
    w.u8(1).u8(0xff);
    w.u8(2).u8(100);
    w.u8(1).u8(0xff);
    out.push(w.0);
    // Real traffic from a with loss and retransmission, raw bytes, then abort.
    let mut w = OpsWriter::default();
    w.u8(3).u8(0).u8(2).u16(3000);
    w.u8(1).u8(0b10);
    w.u8(2).u8(100);
    w.u8(1).u8(0xff);
    w.u8(6).short(&[9, 0, 0, 8, 0, 1, 0, 4]);
    w.u8(5).u8(2);
    out.push(w.0);
    out
}
