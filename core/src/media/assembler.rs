//! Frame assembly: received RTP payloads of one stream in, whole frames out, in order.
//!
//! A [`FrameAssembler`] holds the packets of one SSRC in a reorder window of bounded size
//! (in sequence numbers) and bytes, groups them into frames (one RTP timestamp, from a
//! packet that starts a frame to the one with the marker bit), and emits each frame once all
//! its packets are there, depacketized by the codec's [`Depacketizer`]. When a packet is
//! missing it waits a bounded time — `min_wait + 3 × jitter + extra_wait`, at most
//! `max_wait` — where jitter is the RFC 3550 interarrival jitter it measures and
//! `extra_wait` is what the caller adds for a retransmission to arrive (about one RTT when it
//! sends NACKs). After that the missing packets are lost for good: the frames they belong to
//! are dropped, a [`AssemblerEvent::Lost`] reports them, and the next whole frame comes out
//! with `contiguous == false` (a decoder needs a keyframe, or a reference it still has).
//! Newly missing sequence numbers are reported at once ([`AssemblerEvent::Missing`]) so
//! that the caller can send NACKs.
//!
//! At the start of a video stream, frames wait (the bounded wait) until a keyframe is
//! complete, so that packets of the first frames arriving reordered are not lost; a stream
//! joined without a keyframe gives its frames after that wait, not contiguous.
//!
//! Audio takes a separate, shorter path ([`AssemblerConfig::audio`]): every packet is a
//! frame, the window is small and the wait short, since late audio is useless.
//!
//! Memory is bounded whatever the peer sends: at most `window` packets and `max_bytes` of
//! payload are held (frames waiting in the event queue included), at most `max_events`
//! events are queued; what does not fit is dropped and counted in [`AssemblerStats`].
//!
//! Sans-IO: every input takes `now`; [`FrameAssembler::poll_timeout`] says when to call
//! [`FrameAssembler::handle_timeout`].
//!
//! Not implemented: decodability tracking by codec references (a frame after a loss is
//! emitted as non-contiguous and the caller decides), NACK scheduling (the caller's).

use crate::media::assembler_jitter::{JitterEstimate, wait_for};
use crate::media::packetize::{Depacketizer, SvcLayer};
use bytes::Bytes;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Limits and timing of a [`FrameAssembler`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssemblerConfig {
    /// The codec's RTP clock rate in Hz (for the jitter estimate).
    pub clock_rate: u32,
    /// Every packet is a whole frame (audio).
    pub one_packet_per_frame: bool,
    /// The reorder window in packets (rounded up to a power of two, at least 2): packets
    /// further ahead than this push the oldest ones out.
    pub window: usize,
    /// The most payload bytes held, queued frames included.
    pub max_bytes: usize,
    /// The most events queued before the caller polls them.
    pub max_events: usize,
    /// The shortest wait for a missing packet.
    pub min_wait: Duration,
    /// The longest wait for a missing packet.
    pub max_wait: Duration,
}

impl AssemblerConfig {
    /// Video: 1,024 packets, 4 MiB, waits from 20 ms to 500 ms.
    pub fn video(clock_rate: u32) -> Self {
        Self {
            clock_rate,
            one_packet_per_frame: false,
            window: 1024,
            max_bytes: 4 << 20,
            max_events: 1024,
            min_wait: Duration::from_millis(20),
            max_wait: Duration::from_millis(500),
        }
    }

    /// Audio: one packet per frame, 64 packets, 64 KiB, waits from 10 ms to 80 ms.
    pub fn audio(clock_rate: u32) -> Self {
        Self {
            clock_rate,
            one_packet_per_frame: true,
            window: 64,
            max_bytes: 64 << 10,
            max_events: 128,
            min_wait: Duration::from_millis(10),
            max_wait: Duration::from_millis(80),
        }
    }
}

/// One received RTP packet, as the assembler needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssemblerPacket {
    /// RTP sequence number.
    pub sequence_number: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// RTP marker bit (the last packet of a video frame).
    pub marker: bool,
    /// RTP payload type.
    pub payload_type: u8,
    /// The RTP payload (padding removed).
    pub payload: Bytes,
}

/// A whole frame, depacketized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssembledFrame {
    /// Payload type of its packets (of the first one).
    pub payload_type: u8,
    /// RTP timestamp.
    pub timestamp: u32,
    /// A keyframe, as the depacketizer saw on the RTP level.
    pub keyframe: bool,
    /// `false` when a frame before this one (since the previous emitted frame, or at the
    /// start of the stream) was lost for good.
    pub contiguous: bool,
    /// Sequence number of its first packet.
    pub first_sequence_number: u16,
    /// Sequence number of its last packet.
    pub last_sequence_number: u16,
    /// When its last packet arrived.
    pub received_at: Instant,
    /// The frame in the codec's bitstream format.
    pub data: Vec<u8>,
    /// The SVC layer of its first packet that names one (VP9, AV1); with spatial layers
    /// sharing a timestamp the frame holds them all, from this one up.
    pub svc_layer: Option<SvcLayer>,
}

/// What the assembler has to say; drain with [`FrameAssembler::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssemblerEvent {
    /// A whole frame, in order.
    Frame(AssembledFrame),
    /// `count` sequence numbers from `first` were skipped by a newer packet: ask for them
    /// (NACK) if the stream allows it. Some may still arrive reordered.
    Missing {
        /// The first missing sequence number.
        first: u16,
        /// How many follow it (wrapping), `first` included.
        count: u16,
    },
    /// `count` sequence numbers from `first` were given up for good (missing, or packets of
    /// frames that cannot be completed); the next frame is not contiguous. A caller that
    /// cannot recover by retransmission requests a keyframe.
    Lost {
        /// The first sequence number given up.
        first: u16,
        /// How many, `first` included.
        count: u16,
    },
}

/// Counters of a [`FrameAssembler`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssemblerStats {
    /// Packets accepted into the window.
    pub packets: u64,
    /// Packets dropped because the same sequence number was held.
    pub duplicates: u64,
    /// Packets dropped because their frame was emitted or given up already.
    pub late: u64,
    /// Packets dropped because the byte limit was reached, or larger than it.
    pub overflow: u64,
    /// Frames emitted.
    pub frames: u64,
    /// Complete frames dropped because the depacketizer rejected them.
    pub malformed_frames: u64,
    /// Sequence numbers given up for good.
    pub lost: u64,
    /// `Missing`/`Lost` events not queued because the queue was full.
    pub events_dropped: u64,
}

/// One held packet.
#[derive(Debug, Clone)]
struct Slot {
    timestamp: u32,
    marker: bool,
    payload_type: u8,
    starts_frame: bool,
    keyframe: bool,
    arrival: Instant,
    payload: Bytes,
}

/// The frame at the head of the window.
enum Scan {
    /// Packets `next..=end` are one whole frame.
    Complete(u64),
    /// A packet inside the frame is missing.
    Missing,
    /// No packet after the frame's last one has arrived yet.
    Incomplete,
}

/// Assembles frames of one RTP stream. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct FrameAssembler {
    config: AssemblerConfig,
    depacketizer: Box<dyn Depacketizer>,
    slots: Vec<Option<Slot>>,
    mask: u64,
    /// Extended sequence number of the next packet to emit; valid once `started`.
    next: u64,
    highest: u64,
    started: bool,
    /// Until the first frame is out or anything is given up, earlier packets may still
    /// lower `next` (the first packets can arrive reordered).
    floor_fixed: bool,
    /// The packet at `next` must be a frame start (after a loss, or at the beginning).
    need_start: bool,
    /// Something was given up since the last emitted frame.
    lost_since_frame: bool,
    blocked_since: Option<Instant>,
    /// The latest `now` given, for emitting after the caller drained a full queue.
    last_now: Option<Instant>,
    bytes: usize,
    events: VecDeque<AssemblerEvent>,
    jitter: JitterEstimate,
    last_timestamp: Option<(u32, i64)>,
    extra_wait: Duration,
    stats: AssemblerStats,
}

impl FrameAssembler {
    /// An assembler for one stream of the codec `depacketizer` reads.
    pub fn new(config: AssemblerConfig, depacketizer: Box<dyn Depacketizer>) -> Self {
        let window = config.window.clamp(2, 1 << 15).next_power_of_two();
        Self {
            jitter: JitterEstimate::new(config.clock_rate),
            config,
            depacketizer,
            slots: vec![None; window],
            mask: window as u64 - 1,
            next: 0,
            highest: 0,
            started: false,
            floor_fixed: false,
            need_start: true,
            lost_since_frame: false,
            blocked_since: None,
            last_now: None,
            bytes: 0,
            events: VecDeque::new(),
            last_timestamp: None,
            extra_wait: Duration::ZERO,
            stats: AssemblerStats::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> AssemblerStats {
        self.stats
    }

    /// The measured interarrival jitter.
    pub fn jitter(&self) -> Duration {
        self.jitter.jitter()
    }

    /// Adds `extra` to every wait for a missing packet (about one round trip when the
    /// caller asks for retransmissions, zero otherwise). Takes effect at the next wait.
    pub fn set_extra_wait(&mut self, extra: Duration) {
        self.extra_wait = extra;
    }

    /// How long a missing packet is waited for now.
    pub fn current_wait(&self) -> Duration {
        let c = &self.config;
        wait_for(self.jitter(), self.extra_wait, c.min_wait, c.max_wait)
    }

    /// Payload bytes held (window and queued frames).
    pub fn buffered_bytes(&self) -> usize {
        self.bytes
    }

    /// Takes one received packet. Never fails: what cannot be used is dropped and counted.
    pub fn handle_packet(&mut self, now: Instant, packet: AssemblerPacket) {
        self.last_now = Some(now);
        let Some(ext) = self.place(packet.sequence_number) else {
            self.stats.late += 1;
            return;
        };
        if packet.payload.len() > self.config.max_bytes
            || self.bytes + packet.payload.len() > self.config.max_bytes
        {
            self.stats.overflow += 1;
            tracing::debug!(
                seq = packet.sequence_number,
                "assembler: byte limit, packet dropped"
            );
            return;
        }
        let index = self.index(ext);
        if self.slots[index].is_some() {
            self.stats.duplicates += 1;
            return;
        }
        self.on_timestamp(now, packet.timestamp);
        if ext > self.highest {
            self.report_missing(self.highest + 1, ext);
            self.highest = ext;
        }
        let audio = self.config.one_packet_per_frame;
        self.bytes += packet.payload.len();
        self.stats.packets += 1;
        self.slots[index] = Some(Slot {
            timestamp: packet.timestamp,
            marker: packet.marker,
            payload_type: packet.payload_type,
            starts_frame: audio || self.depacketizer.is_frame_start(&packet.payload),
            keyframe: !audio && self.depacketizer.is_keyframe(&packet.payload),
            arrival: now,
            payload: packet.payload,
        });
        self.emit_ready(now);
    }

    /// When [`handle_timeout`](Self::handle_timeout) has work: the end of the wait for a
    /// missing packet. `None` when nothing waits.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.blocked_since.map(|at| at + self.current_wait())
    }

    /// Gives up on missing packets whose wait is over and emits what follows. Calling it
    /// early is harmless.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = Some(now);
        while self.poll_timeout().is_some_and(|at| at <= now) {
            self.give_up();
            self.emit_ready(now);
        }
    }

    /// The extended sequence number of the highest packet placed so far (for checks that
    /// need to unwrap emitted frames' sequence numbers); `None` before the first packet.
    #[cfg(feature = "fuzzing")]
    pub(crate) fn highest_extended(&self) -> Option<u64> {
        self.started.then_some(self.highest)
    }

    /// The next event, in order.
    pub fn poll_event(&mut self) -> Option<AssemblerEvent> {
        let was_full = self.events.len() >= self.config.max_events;
        let event = self.events.pop_front()?;
        if let AssemblerEvent::Frame(f) = &event {
            self.bytes -= f.data.len().min(self.bytes);
        }
        if let (true, Some(now)) = (was_full, self.last_now) {
            // Emission stopped at a full queue: frames may be waiting in the window.
            self.emit_ready(now);
        }
        Some(event)
    }

    fn index(&self, ext: u64) -> usize {
        (ext & self.mask) as usize
    }

    fn window(&self) -> u64 {
        self.mask + 1
    }

    fn slot(&self, ext: u64) -> Option<&Slot> {
        self.slots[self.index(ext)].as_ref()
    }

    /// The extended sequence number of `seq`, making room in the window for it; `None` if
    /// it is behind the window (late or duplicate of an emitted packet).
    fn place(&mut self, seq: u16) -> Option<u64> {
        if !self.started {
            self.started = true;
            self.next = (1 << 32) | u64::from(seq);
            self.highest = self.next;
            return Some(self.next);
        }
        let delta = i64::from(seq.wrapping_sub(self.highest as u16) as i16);
        let ext = (self.highest as i64 + delta) as u64;
        if ext < self.next {
            let reach = self.highest.max(ext) - ext;
            if self.floor_fixed || reach >= self.window() {
                return None;
            }
            self.next = ext;
            self.blocked_since = None;
        }
        if ext >= self.next + self.window() {
            self.make_room(ext);
        }
        Some(ext)
    }

    /// Gives up the oldest packets so that `ext` fits in the window, then skips to a
    /// packet that can start a frame; when none is held, everything before `ext` goes.
    fn make_room(&mut self, ext: u64) {
        self.discard_until(ext + 1 - self.window());
        match self.find_start(self.next) {
            Some(start) => {
                self.discard_until(start);
                self.need_start = false;
            }
            None => {
                self.discard_until(ext);
                self.need_start = true;
            }
        }
    }

    /// The first sequence number from `from` up to `highest` whose packet can start a frame.
    fn find_start(&self, from: u64) -> Option<u64> {
        (from..=self.highest).find(|&s| self.slot(s).is_some() && self.starts_at(s))
    }

    /// Whether the packet at `ext` (present) begins a frame: the depacketizer says so and
    /// the previous packet, if held, belongs to another frame; or the previous packet ended
    /// a frame.
    fn starts_at(&self, ext: u64) -> bool {
        let Some(slot) = self.slot(ext) else {
            return false;
        };
        if self.config.one_packet_per_frame {
            return true;
        }
        match self.slot(ext - 1) {
            Some(prev) if prev.marker || prev.timestamp != slot.timestamp => true,
            Some(_) => false,
            None => slot.starts_frame,
        }
    }

    /// Records the RTP timestamp for the jitter estimate (unwrapped).
    fn on_timestamp(&mut self, now: Instant, ts: u32) {
        let ext = match self.last_timestamp {
            Some((last, last_ext)) => last_ext + i64::from(ts.wrapping_sub(last) as i32),
            None => i64::from(ts),
        };
        self.last_timestamp = Some((ts, ext));
        self.jitter.on_packet(now, ext);
    }

    fn report_missing(&mut self, from: u64, to_excl: u64) {
        if to_excl > from {
            let count = (to_excl - from).min(u64::from(u16::MAX)) as u16;
            self.push_event(AssemblerEvent::Missing {
                first: from as u16,
                count,
            });
        }
    }

    fn push_event(&mut self, event: AssemblerEvent) {
        if self.events.len() >= self.config.max_events {
            self.stats.events_dropped += 1;
        } else {
            self.events.push_back(event);
        }
    }

    /// Drops everything before `target` (which is at most `highest + 1`, or the packet
    /// about to be placed) as lost for good.
    fn discard_until(&mut self, target: u64) {
        if target <= self.next {
            return;
        }
        let first = self.next;
        let span = target - first;
        // Slots outside the window are empty; clear at most one window's worth.
        for ext in first..first + span.min(self.window()) {
            let index = self.index(ext);
            if let Some(slot) = self.slots[index].take() {
                self.bytes -= slot.payload.len();
            }
        }
        self.next = target;
        self.floor_fixed = true;
        self.lost_since_frame = true;
        self.blocked_since = None;
        self.stats.lost += span;
        tracing::debug!(
            first = first as u16,
            span,
            "assembler: packets lost for good"
        );
        self.push_event(AssemblerEvent::Lost {
            first: first as u16,
            count: span.min(u64::from(u16::MAX)) as u16,
        });
    }

    /// The wait is over: skip to the next packet that can start a frame.
    fn give_up(&mut self) {
        match self.find_start(self.next + 1) {
            Some(start) => {
                self.discard_until(start);
                self.need_start = false;
            }
            None => {
                self.discard_until(self.highest + 1);
                self.need_start = true;
            }
        }
    }

    fn block(&mut self, now: Instant) {
        self.blocked_since.get_or_insert(now);
    }

    /// Emits every whole frame at the head of the window.
    fn emit_ready(&mut self, now: Instant) {
        loop {
            if self.events.len() >= self.config.max_events || self.next > self.highest {
                return;
            }
            if self.slot(self.next).is_none() {
                return self.block(now);
            }
            if self.need_start && !self.starts_at(self.next) {
                return self.block(now);
            }
            match self.scan() {
                Scan::Complete(end) if self.must_wait_for_keyframe(end) => {
                    return self.block(now);
                }
                Scan::Complete(end) => self.emit(end),
                Scan::Missing => return self.block(now),
                Scan::Incomplete => {
                    self.blocked_since = None;
                    return;
                }
            }
        }
    }

    /// Before anything is emitted or given up, a video frame that is not a keyframe waits
    /// (the bounded wait): earlier packets, the keyframe among them, may still arrive.
    fn must_wait_for_keyframe(&self, end: u64) -> bool {
        !self.floor_fixed
            && !self.config.one_packet_per_frame
            && !(self.next..=end).any(|ext| self.slot(ext).is_some_and(|s| s.keyframe))
    }

    /// Looks for the end of the frame that starts at `next`.
    fn scan(&self) -> Scan {
        if self.config.one_packet_per_frame {
            return Scan::Complete(self.next);
        }
        let ts = self.slot(self.next).map(|s| s.timestamp);
        let mut ext = self.next;
        loop {
            let Some(slot) = self.slot(ext) else {
                return Scan::Missing;
            };
            if slot.marker {
                return Scan::Complete(ext);
            }
            if ext == self.highest {
                return Scan::Incomplete;
            }
            if ext + 1 - self.next >= self.window() {
                return Scan::Missing; // a frame longer than the window never completes
            }
            match self.slot(ext + 1) {
                Some(after) if Some(after.timestamp) != ts => return Scan::Complete(ext),
                _ => ext += 1,
            }
        }
    }

    /// Takes packets `next..=end` out of the window and queues their frame.
    fn emit(&mut self, end: u64) {
        let start = self.next;
        let mut slots = Vec::with_capacity((end - start + 1) as usize);
        for ext in start..=end {
            let index = self.index(ext);
            slots.push(self.slots[index].take().expect("scan saw every packet"));
        }
        self.next = end + 1;
        self.need_start = false;
        self.blocked_since = None;
        self.floor_fixed = true;
        let held: usize = slots.iter().map(|s| s.payload.len()).sum();
        self.bytes -= held;
        let mut data = Vec::with_capacity(held);
        self.depacketizer.reset();
        let parsed = slots
            .iter()
            .try_for_each(|s| self.depacketizer.depacketize(&s.payload, &mut data));
        if let Err(error) = parsed {
            tracing::debug!(%error, "assembler: frame rejected by the depacketizer");
            self.stats.malformed_frames += 1;
            self.stats.lost += end - start + 1;
            self.lost_since_frame = true;
            self.push_event(AssemblerEvent::Lost {
                first: start as u16,
                count: (end - start + 1) as u16,
            });
            return;
        }
        let first = &slots[0];
        let svc_layer = slots
            .iter()
            .find_map(|s| self.depacketizer.svc_layer(&s.payload));
        let frame = AssembledFrame {
            payload_type: first.payload_type,
            timestamp: first.timestamp,
            keyframe: slots.iter().any(|s| s.keyframe),
            contiguous: !std::mem::take(&mut self.lost_since_frame),
            first_sequence_number: start as u16,
            last_sequence_number: end as u16,
            received_at: slots
                .iter()
                .map(|s| s.arrival)
                .max()
                .unwrap_or(first.arrival),
            data,
            svc_layer,
        };
        self.bytes += frame.data.len();
        self.stats.frames += 1;
        self.events.push_back(AssemblerEvent::Frame(frame));
    }
}

#[cfg(test)]
#[path = "assembler_tests.rs"]
mod tests;
