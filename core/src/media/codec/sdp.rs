//! Codecs read from and written to an m-section's `<fmt>` list and `a=rtpmap`, `a=fmtp` and
//! `a=rtcp-fb` lines.

use std::collections::{BTreeMap, BTreeSet};

use super::{NegotiatedCodec, RtpCodec};
use crate::sdp::{Attribute, Fmtp, MediaDescription, RtcpFb, RtpMap};

/// The codecs of an RTP m-section, read liberally, in `<fmt>` order.
///
/// - A payload type's encoding comes from its first `a=rtpmap`; a static payload type of
///   RFC 3551 (`0` PCMU, `8` PCMA, `9` G722, ...) without one gets its registered encoding.
///   A dynamic payload type without an rtpmap is skipped (nothing says what it is); a
///   repeated payload type is read once.
/// - fmtp: the first `a=fmtp` for the payload type, split into parameters.
/// - feedback: the `a=rtcp-fb` lines for `*`, then those for the payload type, each in
///   section order, without repeats.
/// - RTX (`rtx` with `apt=<pt>`) becomes the `rtx_payload_type` of the codec it names (the
///   first RTX wins); an RTX whose `apt` names no codec of the section is dropped.
///
/// Codecs this module does not know (RED, ULPFEC, CN, telephone-event, ...) are kept. Work is
/// `O(n log n)` in the number of lines, whatever the section holds.
pub fn read_codecs(m: &MediaDescription) -> Vec<NegotiatedCodec> {
    let lines = CodecLines::index(m);
    let mut seen = BTreeSet::new();
    let all: Vec<(u8, RtpCodec)> = m
        .payload_types()
        .filter(|pt| seen.insert(*pt))
        .filter_map(|pt| Some((pt, lines.codec(pt)?)))
        .collect();
    tie_rtx(all)
}

/// The codec lines of a section, by payload type (first of each kind wins).
struct CodecLines<'a> {
    rtpmaps: BTreeMap<u8, &'a RtpMap>,
    fmtps: BTreeMap<u8, &'a Fmtp>,
    feedback: BTreeMap<u8, Vec<String>>,
    wildcard: Vec<String>,
}

impl<'a> CodecLines<'a> {
    fn index(m: &'a MediaDescription) -> Self {
        let mut lines = Self {
            rtpmaps: BTreeMap::new(),
            fmtps: BTreeMap::new(),
            feedback: BTreeMap::new(),
            wildcard: Vec::new(),
        };
        for a in &m.attributes {
            match a {
                Attribute::RtpMap(r) => {
                    lines.rtpmaps.entry(r.payload_type).or_insert(r);
                }
                Attribute::Fmtp(f) => {
                    if let Some(pt) = f.payload_type() {
                        lines.fmtps.entry(pt).or_insert(f);
                    }
                }
                Attribute::RtcpFb(fb) => lines.add_feedback(fb),
                _ => {}
            }
        }
        lines
    }

    fn add_feedback(&mut self, fb: &RtcpFb) {
        let value = match &fb.param {
            Some(p) => format!("{} {p}", fb.feedback),
            None => fb.feedback.clone(),
        };
        let list = match fb.payload_type {
            Some(pt) => self.feedback.entry(pt).or_default(),
            None => &mut self.wildcard,
        };
        if !list.contains(&value) {
            list.push(value);
        }
    }

    fn codec(&self, pt: u8) -> Option<RtpCodec> {
        let mut codec = match self.rtpmaps.get(&pt) {
            Some(r) => RtpCodec::new(
                r.encoding.clone(),
                r.clock_rate,
                r.channels.and_then(|c| u16::try_from(c).ok()),
            ),
            None => static_codec(pt)?,
        };
        if let Some(f) = self.fmtps.get(&pt) {
            codec.fmtp = f
                .parameters()
                .map(|(k, v)| (k.to_owned(), v.map(str::to_owned)))
                .collect();
        }
        let specific = self.feedback.get(&pt).map(Vec::as_slice).unwrap_or(&[]);
        for value in self.wildcard.iter().chain(specific) {
            if !codec.feedback.contains(value) {
                codec.feedback.push(value.clone());
            }
        }
        Some(codec)
    }
}

/// Folds each RTX entry into the codec its `apt` names.
fn tie_rtx(all: Vec<(u8, RtpCodec)>) -> Vec<NegotiatedCodec> {
    let primaries: BTreeSet<u8> = all
        .iter()
        .filter(|(_, c)| !c.is_rtx())
        .map(|(pt, _)| *pt)
        .collect();
    let mut rtx_of: BTreeMap<u8, u8> = BTreeMap::new();
    for (pt, c) in all.iter().filter(|(_, c)| c.is_rtx()) {
        let apt = c.fmtp_param("apt").and_then(|a| a.parse::<u8>().ok());
        if let Some(apt) = apt.filter(|a| primaries.contains(a)) {
            rtx_of.entry(apt).or_insert(*pt);
        }
    }
    all.into_iter()
        .filter(|(_, c)| !c.is_rtx())
        .map(|(pt, codec)| NegotiatedCodec {
            payload_type: pt,
            codec,
            rtx_payload_type: rtx_of.get(&pt).copied(),
        })
        .collect()
}

/// The static audio/video payload types of RFC 3551 §6 (Tables 4 and 5).
fn static_codec(pt: u8) -> Option<RtpCodec> {
    let (name, rate, channels) = match pt {
        0 => ("PCMU", 8_000, None),
        3 => ("GSM", 8_000, None),
        4 => ("G723", 8_000, None),
        5 => ("DVI4", 8_000, None),
        6 => ("DVI4", 16_000, None),
        7 => ("LPC", 8_000, None),
        8 => ("PCMA", 8_000, None),
        9 => ("G722", 8_000, None),
        10 => ("L16", 44_100, Some(2)),
        11 => ("L16", 44_100, None),
        12 => ("QCELP", 8_000, None),
        13 => ("CN", 8_000, None),
        14 => ("MPA", 90_000, None),
        15 => ("G728", 8_000, None),
        16 => ("DVI4", 11_025, None),
        17 => ("DVI4", 22_050, None),
        18 => ("G729", 8_000, None),
        25 => ("CelB", 90_000, None),
        26 => ("JPEG", 90_000, None),
        28 => ("nv", 90_000, None),
        31 => ("H261", 90_000, None),
        32 => ("MPV", 90_000, None),
        33 => ("MP2T", 90_000, None),
        34 => ("H263", 90_000, None),
        _ => return None,
    };
    Some(RtpCodec::new(name, rate, channels))
}

/// Writes `codecs` into `m`: the `<fmt>` list (each RTX payload type right after its codec)
/// and, per payload type, `a=rtpmap`, `a=rtcp-fb` (one line per feedback value) and `a=fmtp`
/// (when there are parameters), then the RTX's `a=rtpmap` (`rtx/<codec clock rate>`) and
/// `a=fmtp` (`apt=`) — the order Chromium writes.
///
/// Every `a=rtpmap`, `a=fmtp` and `a=rtcp-fb` line already in `m` is removed; the new lines
/// take the place of the first removed one, or go at the end. An empty `codecs` leaves the
/// `<fmt>` list empty, which does not print as a valid m-line: a rejected section needs a
/// placeholder format of the caller's choice.
pub fn write_codecs(m: &mut MediaDescription, codecs: &[NegotiatedCodec]) {
    let is_codec_line = |a: &Attribute| {
        matches!(
            a,
            Attribute::RtpMap(_) | Attribute::Fmtp(_) | Attribute::RtcpFb(_)
        )
    };
    let at = m
        .attributes
        .iter()
        .position(is_codec_line)
        .unwrap_or(m.attributes.len());
    m.attributes.retain(|a| !is_codec_line(a));
    m.formats = codecs
        .iter()
        .flat_map(|c| std::iter::once(c.payload_type).chain(c.rtx_payload_type))
        .map(|pt| pt.to_string())
        .collect();
    let lines: Vec<Attribute> = codecs.iter().flat_map(codec_lines).collect();
    m.attributes.splice(at..at, lines);
}

fn codec_lines(c: &NegotiatedCodec) -> Vec<Attribute> {
    let pt = c.payload_type;
    let mut out = vec![Attribute::RtpMap(RtpMap {
        payload_type: pt,
        encoding: c.codec.name.clone(),
        clock_rate: c.codec.clock_rate,
        channels: c.codec.channels.map(u32::from),
    })];
    out.extend(c.codec.feedback.iter().map(|f| {
        let (feedback, param) = match f.split_once(' ') {
            Some((t, p)) => (t.to_owned(), Some(p.to_owned())),
            None => (f.clone(), None),
        };
        Attribute::RtcpFb(RtcpFb {
            payload_type: Some(pt),
            feedback,
            param,
        })
    }));
    if !c.codec.fmtp.is_empty() {
        out.push(fmtp_line(pt, fmtp_text(&c.codec.fmtp)));
    }
    if let Some(rtx) = c.rtx_payload_type {
        out.push(Attribute::RtpMap(RtpMap {
            payload_type: rtx,
            encoding: "rtx".into(),
            clock_rate: c.codec.clock_rate,
            channels: None,
        }));
        out.push(fmtp_line(rtx, format!("apt={pt}")));
    }
    out
}

fn fmtp_line(pt: u8, params: String) -> Attribute {
    Attribute::Fmtp(Fmtp {
        format: pt.to_string(),
        params,
    })
}

/// `name=value` pairs (or bare names) joined by `;`.
fn fmtp_text(params: &[(String, Option<String>)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(k);
        if let Some(v) = v {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}
