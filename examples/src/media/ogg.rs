//! Ogg (RFC 3533) and Ogg Opus (RFC 7845): writing a recorded Opus stream to a file that
//! `ffmpeg` and every player read, and reading one back.
//!
//! An Ogg stream is a sequence of *pages*: a 27-byte header (capture pattern `OggS`, version
//! 0, header type flags, granule position, stream serial number, page sequence number,
//! CRC-32, segment count), a table of *lacing values*, then the data. A packet is laced as
//! segments of 255 bytes and one shorter final segment (possibly empty); a packet whose
//! segments do not fit on a page continues on the next, which carries the "continued" flag.
//! The granule position of a page belongs to the last packet that *ends* on it (-1 when none
//! does). The CRC is Ogg's own: polynomial 0x04c11db7, no bit reflection, initial value 0, no
//! final XOR, over the page with its CRC field zeroed.
//!
//! Ogg Opus puts an `OpusHead` packet alone on the first page (flag "beginning of stream"),
//! `OpusTags` on the next page(s), then one Opus packet per RTP payload; granule positions
//! count 48 kHz samples including the `pre_skip` samples a player discards at the start.
//!
//! [`OggWriter`] and [`OggReader`] handle one logical stream at the page level;
//! [`OpusWriter`] and [`OpusReader`] add the Ogg Opus headers and granule bookkeeping. The
//! reader is liberal and bounded: it resynchronises on the capture pattern, skips and counts
//! pages that fail the CRC or break continuation, and never holds more than one page
//! (at most 65,307 bytes) plus one packet of at most [`MAX_PACKET`] bytes per stream.
//! Multiplexed (grouped) streams are read as one stream per serial, up to [`MAX_STREAMS`].
//! Not implemented: chained streams' header checks, channel mapping families other than 0
//! (mono or stereo), end trimming by granule position.

use std::io::{self, Read, Write};

/// The capture pattern that begins every page.
const CAPTURE: &[u8; 4] = b"OggS";
/// Length of the fixed part of a page header.
const HEADER_LEN: usize = 27;
/// Offset of the CRC field in the page header.
const CRC_AT: usize = 22;
/// Most lacing values on one page.
const MAX_SEGMENTS: usize = 255;
/// Header type flag: the page's first packet continues one from the previous page.
pub const FLAG_CONTINUED: u8 = 0x01;
/// Header type flag: first page of a logical stream.
pub const FLAG_BOS: u8 = 0x02;
/// Header type flag: last page of a logical stream.
pub const FLAG_EOS: u8 = 0x04;
/// Granule position of a page on which no packet ends.
pub const NO_GRANULE: i64 = -1;
/// Largest packet the reader reassembles; longer ones are dropped and counted.
pub const MAX_PACKET: usize = 1 << 20;
/// Most logical streams the reader tracks at once; pages of further serials are skipped.
pub const MAX_STREAMS: usize = 16;
/// Page data the writer collects before it starts a new page (libogg's choice, about 4 KiB).
const PAGE_TARGET: usize = 4096;

/// Ogg's CRC-32 (polynomial 0x04c11db7, MSB first, initial value 0, no final XOR).
pub fn crc32(data: &[u8]) -> u32 {
    data.iter().fold(0, |crc, &b| crc32_update(crc, b))
}

fn crc32_update(crc: u32, byte: u8) -> u32 {
    let mut crc = crc ^ (u32::from(byte) << 24);
    for _ in 0..8 {
        crc = if crc & 0x8000_0000 != 0 {
            (crc << 1) ^ 0x04c1_1db7
        } else {
            crc << 1
        };
    }
    crc
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("Ogg: {what}"))
}

/// One page, as read or about to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OggPage {
    /// Header type flags ([`FLAG_CONTINUED`], [`FLAG_BOS`], [`FLAG_EOS`]).
    pub flags: u8,
    /// Granule position of the last packet ending on this page, or [`NO_GRANULE`].
    pub granule: i64,
    /// Logical stream serial number.
    pub serial: u32,
    /// Page sequence number within the logical stream.
    pub sequence: u32,
    /// Lacing values: segment lengths, at most 255 of them.
    pub lacing: Vec<u8>,
    /// The segments' bytes, `lacing` summed.
    pub data: Vec<u8>,
}

impl OggPage {
    /// The page's bytes with its CRC filled in. `lacing` must have at most 255 entries that
    /// sum to `data.len()` (the writer guarantees it).
    pub fn to_bytes(&self) -> Vec<u8> {
        debug_assert!(self.lacing.len() <= MAX_SEGMENTS);
        let mut out = Vec::with_capacity(HEADER_LEN + self.lacing.len() + self.data.len());
        out.extend_from_slice(CAPTURE);
        out.push(0);
        out.push(self.flags);
        out.extend_from_slice(&self.granule.to_le_bytes());
        out.extend_from_slice(&self.serial.to_le_bytes());
        out.extend_from_slice(&self.sequence.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.push(self.lacing.len() as u8);
        out.extend_from_slice(&self.lacing);
        out.extend_from_slice(&self.data);
        let crc = crc32(&out);
        out[CRC_AT..CRC_AT + 4].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Whether the last packet on the page continues on the next one (its last lacing value
    /// is 255).
    pub fn ends_open(&self) -> bool {
        self.lacing.last() == Some(&255)
    }
}

/// Writes one logical Ogg stream, packing packets into pages of about 4 KiB.
///
/// Packets are buffered into the current page; a page goes out when the next packet would
/// start after 4,096 bytes of data, when its 255 lacing values are used up (the
/// packet then continues on the next page), on [`flush`](Self::flush), and on
/// [`finish`](Self::finish), which marks the last page "end of stream".
#[derive(Debug)]
pub struct OggWriter<W: Write> {
    inner: W,
    serial: u32,
    sequence: u32,
    page: OggPage,
    /// Whether the current page holds the end of at least one packet.
    page_has_packet_end: bool,
    /// Granule position of the last packet ended so far (0 before any).
    last_granule: i64,
    bytes_written: u64,
}

impl<W: Write> OggWriter<W> {
    /// A writer for the logical stream `serial`; its first page carries [`FLAG_BOS`].
    pub fn new(inner: W, serial: u32) -> Self {
        let page = OggPage {
            flags: FLAG_BOS,
            granule: NO_GRANULE,
            serial,
            sequence: 0,
            lacing: Vec::new(),
            data: Vec::new(),
        };
        Self {
            inner,
            serial,
            sequence: 0,
            page,
            page_has_packet_end: false,
            last_granule: 0,
            bytes_written: 0,
        }
    }

    /// Appends `packet`, whose end has granule position `granule`. A full page is written
    /// first, so a page never holds more than about 4 KiB unless one packet is larger.
    pub fn write_packet(&mut self, packet: &[u8], granule: i64) -> io::Result<()> {
        if self.page.data.len() >= PAGE_TARGET {
            self.emit_page(0)?;
        }
        let mut rest = packet;
        loop {
            let room = MAX_SEGMENTS - self.page.lacing.len();
            let whole = rest.len() / 255;
            if whole < room {
                self.page.lacing.extend(std::iter::repeat_n(255, whole));
                self.page.lacing.push((rest.len() % 255) as u8);
                self.page.data.extend_from_slice(rest);
                self.page.granule = granule;
                self.last_granule = granule;
                self.page_has_packet_end = true;
                return Ok(());
            }
            let (head, tail) = rest.split_at(room * 255);
            self.page.lacing.extend(std::iter::repeat_n(255, room));
            self.page.data.extend_from_slice(head);
            rest = tail;
            self.emit_page(0)?;
            self.page.flags |= FLAG_CONTINUED;
        }
    }

    /// Writes the buffered packets as a page now (nothing when none are buffered), so the
    /// next packet starts a new page: Ogg Opus wants its headers on pages of their own.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.page.lacing.is_empty() {
            self.emit_page(0)?;
        }
        self.inner.flush()
    }

    /// Writes the last page with [`FLAG_EOS`] and returns the inner writer. When nothing is
    /// buffered the last page is empty and repeats the last granule position, as libogg does,
    /// so a player still finds the stream's length on its last page.
    pub fn finish(mut self) -> io::Result<W> {
        if self.page.lacing.is_empty() {
            self.page.granule = self.last_granule;
            self.page_has_packet_end = true;
        }
        self.emit_page(FLAG_EOS)?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    /// Bytes written to the inner writer so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// The stream's serial number.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    fn emit_page(&mut self, extra_flags: u8) -> io::Result<()> {
        self.page.flags |= extra_flags;
        if !self.page_has_packet_end {
            self.page.granule = NO_GRANULE;
        }
        let bytes = self.page.to_bytes();
        self.inner.write_all(&bytes)?;
        self.bytes_written += bytes.len() as u64;
        self.sequence = self.sequence.wrapping_add(1);
        self.page.flags = 0;
        self.page.sequence = self.sequence;
        self.page.lacing.clear();
        self.page.data.clear();
        self.page_has_packet_end = false;
        Ok(())
    }
}

/// Counters of what the reader could not use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OggReadStats {
    /// Pages read whole with a good CRC.
    pub pages: u64,
    /// Candidate pages dropped: bad CRC, bad version, or cut off by the end of the input.
    pub corrupt_pages: u64,
    /// Bytes skipped while looking for a capture pattern.
    pub skipped_bytes: u64,
    /// Packets (or packet pieces) dropped: a continuation without its start, a start without
    /// its continuation, a page sequence gap, longer than [`MAX_PACKET`], or a stream beyond
    /// [`MAX_STREAMS`].
    pub dropped_packets: u64,
}

/// A packet read back from an Ogg stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OggPacket {
    /// The logical stream it belongs to.
    pub serial: u32,
    /// The packet's bytes.
    pub data: Vec<u8>,
    /// The granule position of the page it ends on, when it is the last packet ending there;
    /// [`NO_GRANULE`] otherwise.
    pub granule: i64,
    /// It is the first packet of its stream (ends on a page flagged [`FLAG_BOS`]).
    pub bos: bool,
    /// It is the last packet on a page flagged [`FLAG_EOS`].
    pub eos: bool,
}

/// Packet reassembly state of one logical stream.
#[derive(Debug)]
struct StreamState {
    serial: u32,
    next_sequence: u32,
    partial: Option<Vec<u8>>,
}

/// Reads Ogg pages and packets from any byte stream, skipping damage.
#[derive(Debug)]
pub struct OggReader<R: Read> {
    inner: R,
    buffer: Vec<u8>,
    eof: bool,
    stats: OggReadStats,
    streams: Vec<StreamState>,
    ready: std::collections::VecDeque<OggPacket>,
}

/// Largest page: header, 255 lacing values, 255 × 255 data bytes.
const MAX_PAGE: usize = HEADER_LEN + MAX_SEGMENTS + MAX_SEGMENTS * 255;

impl<R: Read> OggReader<R> {
    /// A reader over `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            buffer: Vec::new(),
            eof: false,
            stats: OggReadStats::default(),
            streams: Vec::new(),
            ready: std::collections::VecDeque::new(),
        }
    }

    /// What was skipped or dropped so far.
    pub fn stats(&self) -> OggReadStats {
        self.stats
    }

    /// The next page with a good CRC, or `None` at the end of the input. Damaged bytes are
    /// skipped and counted; only errors of the inner reader are returned.
    pub fn next_page(&mut self) -> io::Result<Option<OggPage>> {
        loop {
            if !self.fill(HEADER_LEN)? {
                self.discard_tail();
                return Ok(None);
            }
            if &self.buffer[..4] != CAPTURE {
                self.skip_to_capture();
                continue;
            }
            let segments = usize::from(self.buffer[26]);
            if !self.fill(HEADER_LEN + segments)? {
                self.corrupt_at_end();
                return Ok(None);
            }
            let lacing = &self.buffer[HEADER_LEN..HEADER_LEN + segments];
            let body: usize = lacing.iter().map(|&l| usize::from(l)).sum();
            let len = HEADER_LEN + segments + body;
            if !self.fill(len)? {
                self.corrupt_at_end();
                return Ok(None);
            }
            if let Some(page) = self.parse_page(len) {
                self.buffer.drain(..len);
                self.stats.pages += 1;
                return Ok(Some(page));
            }
            self.stats.corrupt_pages += 1;
            self.buffer.drain(..1);
        }
    }

    /// The next whole packet of any logical stream, or `None` at the end of the input.
    pub fn next_packet(&mut self) -> io::Result<Option<OggPacket>> {
        loop {
            if let Some(packet) = self.ready.pop_front() {
                return Ok(Some(packet));
            }
            let Some(page) = self.next_page()? else {
                return Ok(None);
            };
            self.split_page(&page);
        }
    }

    /// Checks version and CRC of the `len` buffered bytes.
    fn parse_page(&self, len: usize) -> Option<OggPage> {
        let b = &self.buffer[..len];
        if b[4] != 0 {
            return None;
        }
        let stored = u32::from_le_bytes(b[CRC_AT..CRC_AT + 4].try_into().ok()?);
        let crc = b.iter().enumerate().fold(0, |crc, (i, &byte)| match i {
            CRC_AT..=25 => crc32_update(crc, 0),
            _ => crc32_update(crc, byte),
        });
        if crc != stored {
            return None;
        }
        let segments = usize::from(b[26]);
        Some(OggPage {
            flags: b[5],
            granule: i64::from_le_bytes(b[6..14].try_into().ok()?),
            serial: u32::from_le_bytes(b[14..18].try_into().ok()?),
            sequence: u32::from_le_bytes(b[18..22].try_into().ok()?),
            lacing: b[HEADER_LEN..HEADER_LEN + segments].to_vec(),
            data: b[HEADER_LEN + segments..].to_vec(),
        })
    }

    /// Reads until `len` bytes are buffered; false when the input ends first.
    fn fill(&mut self, len: usize) -> io::Result<bool> {
        debug_assert!(len <= MAX_PAGE);
        let mut chunk = [0u8; 8192];
        while self.buffer.len() < len && !self.eof {
            match self.inner.read(&mut chunk) {
                Ok(0) => self.eof = true,
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.buffer.len() >= len)
    }

    /// Drops bytes up to the next possible capture pattern (keeping a partial one at the end).
    fn skip_to_capture(&mut self) {
        let from = 1;
        let found = self.buffer[from..]
            .windows(4)
            .position(|w| w == CAPTURE)
            .map(|i| i + from);
        let cut = found.unwrap_or(self.buffer.len().saturating_sub(3).max(from));
        self.stats.skipped_bytes += cut as u64;
        self.buffer.drain(..cut);
    }

    fn corrupt_at_end(&mut self) {
        self.stats.corrupt_pages += 1;
        self.buffer.clear();
    }

    fn discard_tail(&mut self) {
        self.stats.skipped_bytes += self.buffer.len() as u64;
        self.buffer.clear();
    }

    /// The reassembly state of `serial`, created if there is room.
    fn stream(&mut self, serial: u32, sequence: u32) -> Option<&mut StreamState> {
        let index = match self.streams.iter().position(|s| s.serial == serial) {
            Some(i) => i,
            None if self.streams.len() < MAX_STREAMS => {
                self.streams.push(StreamState {
                    serial,
                    next_sequence: sequence,
                    partial: None,
                });
                self.streams.len() - 1
            }
            None => return None,
        };
        Some(&mut self.streams[index])
    }

    /// Cuts a page into packets, joining continuations; whole packets go to `ready`.
    fn split_page(&mut self, page: &OggPage) {
        let mut dropped = 0;
        let Some(stream) = self.stream(page.serial, page.sequence) else {
            self.stats.dropped_packets += 1;
            return;
        };
        if stream.next_sequence != page.sequence && stream.partial.take().is_some() {
            dropped += 1;
        }
        stream.next_sequence = page.sequence.wrapping_add(1);
        let continued = page.flags & FLAG_CONTINUED != 0;
        // Without the continuation flag a pending partial packet will never be completed;
        // with it but nothing pending, the first piece belongs to a packet we never saw.
        let partial = match (continued, stream.partial.take()) {
            (true, Some(p)) => Some(p),
            (false, Some(_)) => {
                dropped += 1;
                None
            }
            (_, None) => None,
        };
        let orphan = continued && partial.is_none();
        let cut = cut_packets(page, partial, orphan);
        dropped += cut.dropped;
        let (partial, ends) = (cut.partial, cut.ends);
        if let Some(stream) = self.streams.iter_mut().find(|s| s.serial == page.serial) {
            stream.partial = partial;
        }
        self.stats.dropped_packets += dropped;
        for (data, last) in ends {
            self.ready.push_back(OggPacket {
                serial: page.serial,
                data,
                granule: if last { page.granule } else { NO_GRANULE },
                bos: page.flags & FLAG_BOS != 0,
                eos: last && page.flags & FLAG_EOS != 0,
            });
        }
    }
}

/// What [`cut_packets`] made of one page.
struct Cut {
    /// Whole packets, each with whether it is the last to end on the page.
    ends: Vec<(Vec<u8>, bool)>,
    /// The start of a packet that continues on the next page.
    partial: Option<Vec<u8>>,
    /// Packets dropped: without their start, or longer than [`MAX_PACKET`].
    dropped: u64,
}

/// Cuts `page` into packets along its lacing values, `partial` being the start of its first
/// packet from earlier pages. `orphan`: the first packet's start was lost, so its pieces here
/// are dropped.
fn cut_packets(page: &OggPage, mut partial: Option<Vec<u8>>, mut orphan: bool) -> Cut {
    let last_end = page.lacing.iter().rposition(|&l| l < 255);
    let (mut offset, mut dropped, mut ends) = (0, 0, Vec::new());
    for (i, &lace) in page.lacing.iter().enumerate() {
        let piece = &page.data[offset..offset + usize::from(lace)];
        offset += usize::from(lace);
        let buffer = partial.get_or_insert_with(Vec::new);
        if !orphan && buffer.len() + piece.len() <= MAX_PACKET {
            buffer.extend_from_slice(piece);
        } else if !orphan {
            orphan = true;
            buffer.clear();
        }
        if lace < 255 {
            let data = partial.take().unwrap_or_default();
            if orphan {
                dropped += 1;
                orphan = false;
            } else {
                ends.push((data, Some(i) == last_end));
            }
        }
    }
    if orphan {
        // A packet too long (or without its start) spills over: drop its pieces.
        partial = None;
        dropped += 1;
    }
    Cut {
        ends,
        partial,
        dropped,
    }
}

/// Opus decodes at 48 kHz whatever the input rate; Ogg Opus granules count these samples.
pub const OPUS_RATE: u32 = 48_000;
/// The pre-skip written by [`OpusWriter`]: libopus's encoder delay at 48 kHz, the value
/// `opusenc` writes. A recording that joins a live stream discards that much at the start.
pub const DEFAULT_PRE_SKIP: u16 = 312;

/// The `OpusHead` identification header (RFC 7845 §5.1), channel mapping family 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusHead {
    /// 1 (mono) or 2 (stereo).
    pub channels: u8,
    /// Samples at 48 kHz to discard from the decoder's output at the start.
    pub pre_skip: u16,
    /// The original input rate, informational (0 when unknown).
    pub input_sample_rate: u32,
    /// Gain to apply to the output, in Q7.8 dB.
    pub output_gain: i16,
}

impl OpusHead {
    /// The 19-byte packet.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = b"OpusHead".to_vec();
        out.push(1);
        out.push(self.channels);
        out.extend_from_slice(&self.pre_skip.to_le_bytes());
        out.extend_from_slice(&self.input_sample_rate.to_le_bytes());
        out.extend_from_slice(&self.output_gain.to_le_bytes());
        out.push(0);
        out
    }

    /// Parses the packet: magic, major version 0 (any minor), mapping family 0 with one or
    /// two channels. Families 1 and 255 (channel mapping tables) are refused.
    pub fn parse(packet: &[u8]) -> io::Result<Self> {
        if packet.len() < 19 || &packet[..8] != b"OpusHead" {
            return Err(invalid("no OpusHead packet"));
        }
        if packet[8] >> 4 != 0 {
            return Err(invalid("unsupported OpusHead major version"));
        }
        let channels = packet[9];
        if packet[18] != 0 || !(1..=2).contains(&channels) {
            return Err(invalid(
                "only channel mapping family 0 (mono, stereo) is read",
            ));
        }
        Ok(Self {
            channels,
            pre_skip: u16::from_le_bytes([packet[10], packet[11]]),
            input_sample_rate: u32::from_le_bytes([packet[12], packet[13], packet[14], packet[15]]),
            output_gain: i16::from_le_bytes([packet[16], packet[17]]),
        })
    }
}

/// The `OpusTags` comment header (RFC 7845 §5.2): a vendor string and `NAME=value` comments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusTags {
    /// Who wrote the stream.
    pub vendor: String,
    /// User comments, each `NAME=value`.
    pub comments: Vec<String>,
}

impl OpusTags {
    /// The packet.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = b"OpusTags".to_vec();
        let string = |out: &mut Vec<u8>, s: &str| {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        };
        string(&mut out, &self.vendor);
        out.extend_from_slice(&(self.comments.len() as u32).to_le_bytes());
        for comment in &self.comments {
            string(&mut out, comment);
        }
        out
    }

    /// Parses the packet; lengths are checked against the packet, strings read lossily.
    pub fn parse(packet: &[u8]) -> io::Result<Self> {
        let rest = packet
            .strip_prefix(b"OpusTags")
            .ok_or_else(|| invalid("no OpusTags packet"))?;
        let mut cursor = TagCursor(rest);
        let vendor = cursor.string()?;
        let count = cursor.u32()?;
        let mut comments = Vec::new();
        for _ in 0..count {
            comments.push(cursor.string()?);
        }
        Ok(Self { vendor, comments })
    }
}

/// Reads the length-prefixed fields of `OpusTags`.
struct TagCursor<'a>(&'a [u8]);

impl TagCursor<'_> {
    fn u32(&mut self) -> io::Result<u32> {
        let (head, rest) = self
            .0
            .split_first_chunk::<4>()
            .ok_or_else(|| invalid("OpusTags cut short"))?;
        self.0 = rest;
        Ok(u32::from_le_bytes(*head))
    }

    fn string(&mut self) -> io::Result<String> {
        let len = self.u32()? as usize;
        if len > self.0.len() {
            return Err(invalid("OpusTags string longer than the packet"));
        }
        let (s, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(String::from_utf8_lossy(s).into_owned())
    }
}

/// Samples at 48 kHz that an Opus packet decodes to, from its TOC byte and frame count
/// (RFC 6716 §3.1); `None` for an empty packet or a code 3 packet without its count byte.
pub fn opus_packet_samples(packet: &[u8]) -> Option<u32> {
    let toc = *packet.first()?;
    let config = toc >> 3;
    let frame = match config {
        // SILK-only and hybrid: 10, 20, 40, 60 ms; hybrid 12..15: 10, 20 ms.
        0..=11 => [480, 960, 1920, 2880][usize::from(config % 4)],
        12..=15 => [480, 960][usize::from(config % 2)],
        // CELT-only: 2.5, 5, 10, 20 ms.
        _ => [120, 240, 480, 960][usize::from(config % 4)],
    };
    let frames = match toc & 0x03 {
        0 => 1,
        1 | 2 => 2,
        _ => u32::from(*packet.get(1)? & 0x3f),
    };
    Some(frame * frames)
}

/// A one-byte Opus packet (CELT-only fullband, 20 ms, code 0) whose frame is empty: a decoder
/// treats it as lost and conceals it (RFC 6716 §3.2.1). Fills gaps so the timeline holds.
const GAP_PACKET: [u8; 1] = [31 << 3];
/// Samples one [`GAP_PACKET`] stands for.
const GAP_SAMPLES: u32 = 960;

/// Writes an Ogg Opus file: headers first, then Opus packets with their granule positions.
#[derive(Debug)]
pub struct OpusWriter<W: Write> {
    ogg: OggWriter<W>,
    /// Granule position after the last packet: pre-skip plus every sample written.
    granule: i64,
    packets: u64,
}

impl<W: Write> OpusWriter<W> {
    /// Writes `OpusHead` (its own page) and `OpusTags` (its own page) for stream `serial`.
    pub fn new(inner: W, serial: u32, head: &OpusHead, vendor: &str) -> io::Result<Self> {
        let mut ogg = OggWriter::new(inner, serial);
        ogg.write_packet(&head.to_bytes(), 0)?;
        ogg.flush()?;
        let tags = OpusTags {
            vendor: vendor.to_owned(),
            comments: Vec::new(),
        };
        ogg.write_packet(&tags.to_bytes(), 0)?;
        ogg.flush()?;
        Ok(Self {
            ogg,
            granule: 0,
            packets: 0,
        })
    }

    /// Appends one Opus packet; its duration comes from its TOC byte. Returns the samples it
    /// stands for; an empty or unparsable packet is written as a 20 ms gap instead.
    pub fn write_packet(&mut self, packet: &[u8]) -> io::Result<u32> {
        let (packet, samples) = match opus_packet_samples(packet) {
            Some(samples) if samples > 0 => (packet, samples),
            _ => (&GAP_PACKET[..], GAP_SAMPLES),
        };
        self.granule += i64::from(samples);
        self.packets += 1;
        self.ogg.write_packet(packet, self.granule)?;
        Ok(samples)
    }

    /// Fills `samples` (48 kHz) of lost or untransmitted audio with 20 ms packets the decoder
    /// conceals, rounded up to whole packets; returns how many it wrote.
    pub fn write_gap(&mut self, samples: u32) -> io::Result<u32> {
        let count = samples.div_ceil(GAP_SAMPLES);
        for _ in 0..count {
            self.write_packet(&GAP_PACKET)?;
        }
        Ok(count)
    }

    /// Samples (48 kHz) written so far, pre-skip excluded.
    pub fn samples(&self) -> u64 {
        self.granule as u64
    }

    /// Packets written so far, gap packets included.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Bytes of file written so far (the open page not included).
    pub fn bytes_written(&self) -> u64 {
        self.ogg.bytes_written()
    }

    /// Writes the last page (end of stream) and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        self.ogg.finish()
    }
}

/// An audio packet read from an Ogg Opus file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusPacket {
    /// The Opus packet.
    pub data: Vec<u8>,
    /// Samples at 48 kHz it decodes to (from its TOC; 0 when unparsable).
    pub samples: u32,
}

/// Reads an Ogg Opus file: the headers, then the audio packets of its first Opus stream.
#[derive(Debug)]
pub struct OpusReader<R: Read> {
    ogg: OggReader<R>,
    serial: u32,
    head: OpusHead,
    tags: OpusTags,
}

impl<R: Read> OpusReader<R> {
    /// Reads up to the `OpusHead` and `OpusTags` packets of the first stream that starts with
    /// `OpusHead`; other streams' packets are ignored.
    pub fn new(inner: R) -> io::Result<Self> {
        let mut ogg = OggReader::new(inner);
        let (serial, head) = loop {
            let packet = ogg.next_packet()?.ok_or_else(|| invalid("no OpusHead"))?;
            if packet.bos && packet.data.starts_with(b"OpusHead") {
                break (packet.serial, OpusHead::parse(&packet.data)?);
            }
        };
        let tags = loop {
            let packet = ogg.next_packet()?.ok_or_else(|| invalid("no OpusTags"))?;
            if packet.serial == serial {
                break OpusTags::parse(&packet.data)?;
            }
        };
        Ok(Self {
            ogg,
            serial,
            head,
            tags,
        })
    }

    /// The identification header.
    pub fn head(&self) -> &OpusHead {
        &self.head
    }

    /// The comment header.
    pub fn tags(&self) -> &OpusTags {
        &self.tags
    }

    /// What the page layer skipped or dropped.
    pub fn stats(&self) -> OggReadStats {
        self.ogg.stats()
    }

    /// The next audio packet, or `None` at the end of the file.
    pub fn next_packet(&mut self) -> io::Result<Option<OpusPacket>> {
        while let Some(packet) = self.ogg.next_packet()? {
            if packet.serial == self.serial {
                let samples = opus_packet_samples(&packet.data).unwrap_or(0);
                return Ok(Some(OpusPacket {
                    data: packet.data,
                    samples,
                }));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_check_value_of_crc32_with_ogg_parameters() {
        // CRC-32/CKSUM (same polynomial, no reflection, initial 0) has check value
        // 0x765e7680 with its final XOR of 0xffffffff; Ogg's has no final XOR.
        assert_eq!(crc32(b"123456789"), 0x765e_7680 ^ 0xffff_ffff);
        assert_eq!(crc32(b"123456789"), 0x89a1_897f);
        assert_eq!(crc32(b""), 0);
    }

    fn write(packets: &[(&[u8], i64)]) -> Vec<u8> {
        let mut w = OggWriter::new(Vec::new(), 0x1234_5678);
        for (p, g) in packets {
            w.write_packet(p, *g).unwrap();
        }
        w.finish().unwrap()
    }

    fn read_all(bytes: &[u8]) -> (Vec<OggPacket>, OggReadStats) {
        let mut r = OggReader::new(bytes);
        let mut out = Vec::new();
        while let Some(p) = r.next_packet().unwrap() {
            out.push(p);
        }
        (out, r.stats())
    }

    #[test]
    fn first_page_is_byte_exact() {
        let bytes = write(&[(b"hi", 7)]);
        let expected_header = [
            b'O',
            b'g',
            b'g',
            b'S',
            0,
            FLAG_BOS | FLAG_EOS,
            7,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0x78,
            0x56,
            0x34,
            0x12,
            0,
            0,
            0,
            0,
        ];
        assert_eq!(bytes[..22], expected_header);
        assert_eq!(bytes[26..], [1, 2, b'h', b'i']);
        let mut zeroed = bytes.clone();
        zeroed[22..26].fill(0);
        assert_eq!(bytes[22..26], crc32(&zeroed).to_le_bytes());
    }

    #[test]
    fn write_read_round_trip_keeps_packets_and_granules() {
        let big = vec![0xab; 70_000];
        let exact = vec![1u8; 510];
        let packets: Vec<(&[u8], i64)> = vec![
            (b"head", 0),
            (b"", 10),
            (&exact, 20),
            (&big, 30),
            (b"tail", 40),
        ];
        let bytes = write(&packets);
        let (read, stats) = read_all(&bytes);
        assert_eq!(stats.corrupt_pages + stats.dropped_packets, 0);
        let data: Vec<&[u8]> = read.iter().map(|p| &p.data[..]).collect();
        let sent: Vec<&[u8]> = packets.iter().map(|(p, _)| *p).collect();
        assert_eq!(data, sent);
        assert!(read[0].bos);
        assert!(read.last().unwrap().eos);
        assert_eq!(read.last().unwrap().granule, 40);
        assert!(stats.pages >= 3, "70 kB spans pages: {stats:?}");
    }

    #[test]
    fn pages_have_consecutive_sequences_and_granule_of_last_ended_packet() {
        let big = vec![7u8; 140_000];
        let bytes = write(&[(b"a", 1), (&big, 2)]);
        let mut r = OggReader::new(&bytes[..]);
        let mut pages = Vec::new();
        while let Some(p) = r.next_page().unwrap() {
            pages.push(p);
        }
        let sequences: Vec<u32> = pages.iter().map(|p| p.sequence).collect();
        assert_eq!(sequences, (0..pages.len() as u32).collect::<Vec<_>>());
        // Page 0 ends packet "a" and starts the big one; page 1 only carries it on.
        assert_eq!(pages[0].granule, 1);
        assert!(pages[0].ends_open());
        assert_eq!(pages[1].granule, NO_GRANULE);
        assert_eq!(pages[1].flags & FLAG_CONTINUED, FLAG_CONTINUED);
        assert_eq!(pages.last().unwrap().granule, 2);
    }

    #[test]
    fn reader_skips_corrupt_pages_and_garbage_and_counts_them() {
        let mut w = OggWriter::new(Vec::new(), 1);
        for i in 0..3u8 {
            w.write_packet(&[i; 10], i64::from(i)).unwrap();
            w.flush().unwrap();
        }
        let clean = w.finish().unwrap();
        let mut bytes = b"junk before".to_vec();
        bytes.extend_from_slice(&clean);
        // Flip a data byte of the second page (pages are 27 + 1 + 10 bytes).
        bytes[11 + 38 + 30] ^= 0xff;
        let (read, stats) = read_all(&bytes);
        let data: Vec<u8> = read.iter().map(|p| p.data[0]).collect();
        assert_eq!(data, [0, 2]);
        assert_eq!(stats.corrupt_pages, 1);
        assert!(stats.skipped_bytes >= 11);
    }

    /// Pages of `bytes` as (start, length) ranges.
    fn page_ranges(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
        let mut ranges = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let segments = usize::from(bytes[at + 26]);
            let lacing = &bytes[at + HEADER_LEN..at + HEADER_LEN + segments];
            let len = HEADER_LEN + segments + lacing.iter().map(|&l| usize::from(l)).sum::<usize>();
            ranges.push(at..at + len);
            at += len;
        }
        ranges
    }

    /// A 66,000-byte packet over two pages, then "after" on a page of its own.
    fn spanning_then_small() -> Vec<u8> {
        let mut w = OggWriter::new(Vec::new(), 3);
        w.write_packet(&[9u8; 66_000], 1).unwrap();
        w.flush().unwrap();
        w.write_packet(b"after", 2).unwrap();
        w.finish().unwrap()
    }

    fn without_page(bytes: &[u8], index: usize) -> Vec<u8> {
        let ranges = page_ranges(bytes);
        let mut out = bytes[..ranges[index].start].to_vec();
        out.extend_from_slice(&bytes[ranges[index].end..]);
        out
    }

    #[test]
    fn reader_drops_a_packet_whose_continuation_is_lost() {
        let bytes = without_page(&spanning_then_small(), 1);
        let (read, stats) = read_all(&bytes);
        let data: Vec<&[u8]> = read.iter().map(|p| &p.data[..]).collect();
        assert_eq!(data, [b"after"]);
        assert_eq!(stats.dropped_packets, 1);
    }

    #[test]
    fn reader_drops_a_continuation_whose_start_is_lost() {
        let bytes = without_page(&spanning_then_small(), 0);
        let (read, stats) = read_all(&bytes);
        let data: Vec<&[u8]> = read.iter().map(|p| &p.data[..]).collect();
        assert_eq!(data, [b"after"]);
        assert_eq!(stats.dropped_packets, 1);
    }

    #[test]
    fn reader_never_panics_on_truncations_and_bit_flips() {
        let packets: Vec<Vec<u8>> = (0..40).map(|i| vec![i as u8; (i * 97) % 800]).collect();
        let mut w = OggWriter::new(Vec::new(), 5);
        for (i, p) in packets.iter().enumerate() {
            w.write_packet(p, i as i64).unwrap();
        }
        let clean = w.finish().unwrap();
        let mut state = 0x2545_f491_u32;
        for round in 0..200 {
            let mut bytes = clean.clone();
            for _ in 0..(round % 5) {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let at = state as usize % bytes.len();
                bytes[at] ^= 1 << (state % 8);
            }
            bytes.truncate(bytes.len() - round % 300);
            let (read, _) = read_all(&bytes);
            assert!(read.len() <= packets.len());
        }
    }

    #[test]
    fn opus_packet_durations_follow_the_toc() {
        assert_eq!(opus_packet_samples(&[31 << 3]), Some(960)); // CELT 20 ms
        assert_eq!(opus_packet_samples(&[(1 << 3) | 1, 0]), Some(1920)); // SILK 20 ms ×2
        assert_eq!(opus_packet_samples(&[(16 << 3) | 3, 0x04]), Some(480)); // CELT 2.5 ms ×4
        assert_eq!(opus_packet_samples(&[(13 << 3) | 3]), None);
        assert_eq!(opus_packet_samples(&[]), None);
    }

    #[test]
    fn opus_writer_and_reader_round_trip_headers_packets_and_granule() {
        let head = OpusHead {
            channels: 2,
            pre_skip: DEFAULT_PRE_SKIP,
            input_sample_rate: 48_000,
            output_gain: 0,
        };
        let mut w = OpusWriter::new(Vec::new(), 42, &head, "rtcpeer test").unwrap();
        let packet = [(31 << 3) as u8, 1, 2, 3];
        for _ in 0..10 {
            w.write_packet(&packet).unwrap();
        }
        assert_eq!(w.write_gap(1000).unwrap(), 2);
        assert_eq!(w.samples(), 12 * 960);
        let bytes = w.finish().unwrap();

        let mut pages = OggReader::new(&bytes[..]);
        let first = pages.next_page().unwrap().unwrap();
        assert_eq!(first.flags, FLAG_BOS);
        assert_eq!(first.lacing, [19]);
        let second = pages.next_page().unwrap().unwrap();
        assert_eq!((second.flags, second.granule), (0, 0));
        let last = pages.next_page().unwrap().unwrap();
        assert_eq!(last.granule, 12 * 960);
        assert_eq!(last.flags & FLAG_EOS, FLAG_EOS);

        let mut r = OpusReader::new(&bytes[..]).unwrap();
        assert_eq!(*r.head(), head);
        assert_eq!(r.tags().vendor, "rtcpeer test");
        let mut read = Vec::new();
        while let Some(p) = r.next_packet().unwrap() {
            read.push(p);
        }
        assert_eq!(read.len(), 12);
        assert_eq!(read[0].data, packet);
        assert_eq!(read[11].data, GAP_PACKET);
        assert!(read.iter().all(|p| p.samples == 960));
    }

    #[test]
    fn opus_head_refuses_mapping_tables_and_short_packets() {
        let mut bytes = OpusHead {
            channels: 1,
            pre_skip: 0,
            input_sample_rate: 0,
            output_gain: 0,
        }
        .to_bytes();
        assert_eq!(bytes.len(), 19);
        assert!(OpusHead::parse(&bytes).is_ok());
        bytes[18] = 1;
        assert!(OpusHead::parse(&bytes).is_err());
        assert!(OpusHead::parse(&bytes[..10]).is_err());
        assert!(OpusTags::parse(b"OpusTags\xff\xff\xff\xff").is_err());
    }
}
