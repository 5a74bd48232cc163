//! JSEP for audio and video m-lines (RFC 8829 §5, RFC 8843): which transceiver an m-line
//! belongs to, what our offers and answers say about it (codecs, extensions, direction,
//! `a=msid`, `a=ssrc`), and what a completed negotiation changes (current direction,
//! codecs, the peer's SSRCs, `track` events).

use super::sdp_build::{MLine, MediaSection};
use super::{Event, PeerConnection};
use crate::media::codec::{self, NegotiatedCodec};
use crate::media::{SendEncoding, SendLayer};
use crate::media::{
    TrackEvent, TransceiverDirection, TransceiverId, answer_direction, receives, reverse, sends,
};
use crate::rtp::extensions::ExtensionMap;
use crate::sdp::{
    MediaDescription, MediaKind, Rid, RidDirection, SessionDescription, Simulcast, SimulcastRid,
    SimulcastStreams,
};

/// The RTCP feedback the core implements (RFC 4585 generic NACK and PLI, RFC 5104 FIR,
/// REMB, RFC 8888 congestion control feedback): our offers and answers announce these and
/// no others, so a peer never waits for feedback that would not come. (Transport-wide
/// feedback goes with its header extension.)
pub(crate) const IMPLEMENTED_FEEDBACK: &[&str] = &["nack", "nack pli", "ccm fir", REMB, CCFB];

/// The `a=rtcp-fb` value of RFC 8888 feedback (RFC 8888 §6).
pub(crate) const CCFB: &str = "ack ccfb";

/// Settles RFC 8888 feedback in an answer, the way Chromium does with it enabled:
/// transport-cc stays preferred, so when the answer keeps the transport-cc extension no
/// codec answers `ack ccfb`; otherwise every codec whose offer asked for `ack ccfb`
/// answers it (whatever our own codec list says: we always implement it).
fn settle_ccfb(
    codecs: &mut [NegotiatedCodec],
    offered: &[NegotiatedCodec],
    extensions: &[(u8, String)],
) {
    let transport_cc = extensions
        .iter()
        .any(|(_, uri)| uri == codec::uri::TRANSPORT_CC);
    for c in codecs {
        let asked = offered
            .iter()
            .any(|o| o.payload_type == c.payload_type && has_ccfb(&o.codec.feedback));
        c.codec.feedback.retain(|f| !f.eq_ignore_ascii_case(CCFB));
        if asked && !transport_cc {
            c.codec.feedback.push(CCFB.to_string());
        }
    }
}

fn has_ccfb(feedback: &[String]) -> bool {
    feedback.iter().any(|f| f.eq_ignore_ascii_case(CCFB))
}

/// The REMB feedback value.
const REMB: &str = "goog-remb";

/// Keeps the feedback we implement; REMB only when `remb` (our offers, and answers to an
/// offer without transport-wide sequence numbers: a peer that can use transport-cc
/// feedback gets that instead, as the browsers do).
fn keep_implemented_feedback(codecs: &mut [NegotiatedCodec], remb: bool) {
    for c in codecs {
        c.codec.feedback.retain(|f| {
            IMPLEMENTED_FEEDBACK
                .iter()
                .any(|i| f.eq_ignore_ascii_case(i))
                && (remb || !f.eq_ignore_ascii_case(REMB))
        });
    }
}

/// The transport protocol of our media m-lines (RFC 8829 §5.2.1).
pub(crate) const MEDIA_PROTO: &str = "UDP/TLS/RTP/SAVPF";

/// Whether an m-line is audio or video over a protocol we can carry (RTP/AVPF profiles over
/// DTLS-SRTP; the browsers' `UDP/TLS/RTP/SAVPF` and the older `RTP/SAVPF`).
pub(crate) fn is_rtp_media(kind: &MediaKind, proto: &str) -> bool {
    matches!(kind, MediaKind::Audio | MediaKind::Video) && proto.ends_with("RTP/SAVPF")
}

impl PeerConnection {
    /// Adds to an offer's m-lines one for every transceiver without a mid (giving it one,
    /// provisionally), and marks stopping transceivers' m-lines rejected.
    pub(crate) fn offer_media_mlines(
        &mut self,
        lines: &mut Vec<MLine>,
        next_mid: &mut dyn FnMut(&[MLine]) -> String,
    ) {
        for line in lines.iter_mut() {
            let stopping = self
                .media
                .by_mid(&line.mid)
                .is_some_and(|t| t.stopping || t.stopped);
            if stopping && !line.is_data() {
                line.rejected = true;
            }
        }
        let fresh: Vec<TransceiverId> = self
            .media
            .transceivers
            .iter()
            .filter(|t| t.mid.is_none() && !t.stopped && !t.stopping)
            .map(|t| t.id)
            .collect();
        for id in fresh {
            let mid = next_mid(lines);
            let t = self.media.get_mut(id).expect("listed above");
            t.mid = Some(mid.clone());
            t.mid_provisional = true;
            lines.push(MLine {
                mid,
                kind: t.kind.clone(),
                proto: MEDIA_PROTO.into(),
                formats: Vec::new(),
                rejected: false,
            });
        }
    }

    /// What our offer says about the media m-line `line` (a rejected one when its
    /// transceiver is stopping: it keeps the codecs last agreed).
    pub(crate) fn offer_media_section(&self, line: &MLine) -> Option<MediaSection> {
        if line.is_data() {
            return None;
        }
        let t = self.media.by_mid(&line.mid)?;
        if line.rejected {
            return Some(MediaSection::rejected(t.codecs.clone()));
        }
        let mut codecs = codec::offer_codecs(&self.codecs, &t.kind);
        keep_implemented_feedback(&mut codecs, true);
        let extensions = codec::offer_extensions(&self.codecs, &t.kind);
        Some(self.section_for(t.id, t.direction, codecs, extensions))
    }

    /// Our answer's section for the offered audio/video `m`: accepted, or rejected (port 0)
    /// for a stopped transceiver, a protocol we cannot carry, or no codec in common. A
    /// rejected section repeats the offered codecs: aiortc refuses an answer whose rejected
    /// m-line has no codec it knows. `None` for other kinds of m-line.
    pub(crate) fn answer_media_section(
        &self,
        m: &MediaDescription,
        mid: &str,
    ) -> Option<MediaSection> {
        if !matches!(m.kind, MediaKind::Audio | MediaKind::Video) {
            return None;
        }
        let offered_codecs = codec::read_codecs(m);
        let reject = || Some(MediaSection::rejected(offered_codecs.clone()));
        if m.is_port_zero() || !is_rtp_media(&m.kind, &m.proto) {
            return reject();
        }
        let Some(t) = self.media.by_mid(mid).filter(|t| !t.stopping && !t.stopped) else {
            return reject();
        };
        let offered = codec::read_extensions(m);
        let offered_twcc = offered
            .iter()
            .any(|(_, uri)| uri == codec::uri::TRANSPORT_CC);
        let mut codecs = codec::answer_codecs(&self.codecs, &t.kind, &offered_codecs);
        keep_implemented_feedback(&mut codecs, !offered_twcc);
        if !codecs.iter().any(|c| !c.codec.is_rtx()) {
            return reject();
        }
        let extensions = codec::answer_extensions(&self.codecs, &t.kind, &offered);
        settle_ccfb(&mut codecs, &offered_codecs, &extensions);
        let offered_dir = m.direction().unwrap_or(TransceiverDirection::SendRecv);
        let direction = answer_direction(t.direction, offered_dir);
        let mut section = self.section_for(t.id, direction, codecs, extensions);
        // Our answer never offers to send simulcast (JSEP §5.3.1 lets the answerer only
        // accept what was offered); it accepts the peer's layers.
        section.rids.clear();
        section.simulcast = None;
        let offered_rids = offered_send_rids(m);
        if receives(direction) && !offered_rids.is_empty() {
            section.ssrcs = section.ssrcs.filter(|_| sends(direction));
            section.rids = offered_rids
                .iter()
                .map(|id| Rid {
                    id: id.clone(),
                    direction: RidDirection::Recv,
                    restrictions: None,
                })
                .collect();
            section.simulcast = Some(Simulcast {
                parts: vec![SimulcastStreams {
                    direction: RidDirection::Recv,
                    streams: offered_rids
                        .iter()
                        .map(|id| {
                            vec![SimulcastRid {
                                id: id.clone(),
                                paused: false,
                            }]
                        })
                        .collect(),
                }],
            });
        }
        Some(section)
    }

    fn section_for(
        &self,
        id: TransceiverId,
        direction: TransceiverDirection,
        codecs: Vec<NegotiatedCodec>,
        extensions: Vec<(u8, String)>,
    ) -> MediaSection {
        let t = self.media.get(id).expect("caller found it");
        let sending = sends(direction);
        let track_id = t
            .track
            .as_ref()
            .map_or_else(|| format!("track-{}", t.id.0), |x| x.id.clone());
        // RTX is a codec's `rtx_payload_type` (or, for a peer's odd listing, an entry).
        let has_rtx = codecs
            .iter()
            .any(|c| c.codec.is_rtx() || c.rtx_payload_type.is_some());
        let layers: Vec<&SendEncoding> = t
            .layers
            .iter()
            .filter_map(|l| l.encoding.as_ref())
            .collect();
        let simulcast = sending && layers.len() > 1;
        let (rids, simulcast) = if simulcast {
            simulcast_offer(&t.layers)
        } else {
            (Vec::new(), None)
        };
        // With rids the peer learns our SSRCs from the rid extension, as browsers do.
        let ssrcs = (sending && simulcast.is_none()).then(|| {
            let o = t.outbound();
            (o.ssrc, has_rtx.then_some(o.rtx_ssrc))
        });
        MediaSection {
            direction,
            codecs,
            extensions,
            msid: sending.then(|| (t.stream_ids.clone(), track_id)),
            ssrcs,
            rids,
            simulcast,
            cname: self.media.cname.clone(),
            rejected: false,
        }
    }

    /// Applying a remote offer: associates each audio/video m-line with a transceiver
    /// (by mid; else one `add_track` made that has none, JSEP §5.10; else a new `recvonly`
    /// one) and fires `track` for m-lines the peer sends on.
    pub(crate) fn apply_remote_media_offer(&mut self, sdp: &SessionDescription) {
        for (index, m) in sdp.media.iter().enumerate() {
            if m.is_port_zero() || !is_rtp_media(&m.kind, &m.proto) {
                continue;
            }
            let mid = m.mid().map_or_else(|| index.to_string(), str::to_string);
            let Some(id) = self.transceiver_for_remote(&mid, &m.kind) else {
                tracing::debug!(%mid, "pc: no transceiver for a remote m-line (limit reached)");
                continue;
            };
            self.read_remote_section(id, m);
            let offered = m.direction().unwrap_or(TransceiverDirection::SendRecv);
            self.set_remote_sends(id, sends(offered));
        }
    }

    fn transceiver_for_remote(&mut self, mid: &str, kind: &MediaKind) -> Option<TransceiverId> {
        if let Some(t) = self.media.by_mid(mid) {
            return Some(t.id);
        }
        let free = self.media.transceivers.iter_mut().find(|t| {
            t.mid.is_none() && t.added_by_track && &t.kind == kind && !t.stopping && !t.stopped
        });
        if let Some(t) = free {
            t.mid = Some(mid.to_string());
            t.mid_provisional = true;
            return Some(t.id);
        }
        let id = self
            .new_transceiver(kind.clone(), TransceiverDirection::RecvOnly)
            .ok()?;
        let t = self.media.get_mut(id).expect("just created");
        t.mid = Some(mid.to_string());
        t.mid_provisional = true;
        t.created_by_remote_offer = true;
        Some(id)
    }

    /// The peer's track identity and SSRCs for one m-line of a remote description.
    fn read_remote_section(&mut self, id: TransceiverId, m: &MediaDescription) {
        let msid = m.msids().next().cloned().or_else(|| ssrc_msid(m));
        let ssrcs = remote_ssrcs(m);
        let Some(t) = self.media.get_mut(id) else {
            return;
        };
        if let Some(msid) = msid {
            t.remote_stream_ids = if msid.stream_id == "-" {
                Vec::new()
            } else {
                vec![msid.stream_id]
            };
            if let Some(track) = msid.track_id {
                t.remote_track_id = track;
            }
        }
        if t.remote_track_id.is_empty() {
            t.remote_track_id = format!("remote-{}", t.mid.as_deref().unwrap_or_default());
        }
        t.remote_ssrcs = ssrcs.clone();
        t.remote_send_rids = offered_send_rids(m);
        t.remote_rtx = m
            .ssrc_groups()
            .filter(|g| g.semantics.eq_ignore_ascii_case("FID"))
            .filter_map(|g| match g.ssrcs[..] {
                [media, rtx, ..] => Some((rtx, media)),
                _ => None,
            })
            .take(16)
            .collect();
        for ssrc in ssrcs {
            self.media.learn_route(ssrc, id);
        }
    }

    /// Fires `track` when the peer starts sending on a transceiver.
    fn set_remote_sends(&mut self, id: TransceiverId, sending: bool) {
        let Some(t) = self.media.get_mut(id) else {
            return;
        };
        t.remote_sends = sending;
        if sending && !t.receiving {
            t.receiving = true;
            let ev = TrackEvent {
                transceiver: id,
                mid: t.mid.clone().unwrap_or_default(),
                kind: t.kind.clone(),
                track_id: t.remote_track_id.clone(),
                stream_ids: t.remote_stream_ids.clone(),
            };
            self.events.push_back(Event::Track(ev));
        }
    }

    /// A final or provisional answer was applied (`local`: ours). Fixes each media m-line's
    /// current direction, codecs and extensions from the answer; rejected m-lines stop their
    /// transceivers; `track` fires for m-lines the peer now sends on, and `TrackEnded` for
    /// those it stopped sending on.
    pub(crate) fn apply_negotiated_media(&mut self, answer: &SessionDescription, local: bool) {
        let mut bundle_ext = ExtensionMap::default();
        for (index, m) in answer.media.iter().enumerate() {
            if !matches!(m.kind, MediaKind::Audio | MediaKind::Video) {
                continue;
            }
            let mid = m.mid().map_or_else(|| index.to_string(), str::to_string);
            let Some(id) = self.media.by_mid(&mid).map(|t| t.id) else {
                continue;
            };
            if m.is_port_zero() || !is_rtp_media(&m.kind, &m.proto) {
                self.stop_negotiated(id);
                continue;
            }
            if !local {
                self.read_remote_section(id, m);
            }
            let answered = m.direction().unwrap_or(TransceiverDirection::SendRecv);
            let current = if local { answered } else { reverse(answered) };
            let codecs = codec::read_codecs(m);
            let exts = codec::read_extensions(m);
            for (ext_id, uri) in &exts {
                bundle_ext.insert(*ext_id, uri);
            }
            let t = self.media.get_mut(id).expect("found by mid");
            t.current_direction = Some(current);
            t.mid_provisional = false;
            t.created_by_remote_offer = false;
            t.rtx_payload_types = codecs
                .iter()
                .filter_map(|c| {
                    if c.codec.is_rtx() {
                        Some(c.payload_type)
                    } else {
                        c.rtx_payload_type
                    }
                })
                .collect();
            t.codecs = codecs;
            t.extensions = ExtensionMap::default();
            for (ext_id, uri) in &exts {
                t.extensions.insert(*ext_id, uri);
            }
            // Our simulcast stands when the peer's description receives our rids: its
            // answer to our offer (`local` false), never our own answer.
            t.accepted_rids = if local {
                Vec::new()
            } else {
                accepted_rids(m, &t.layers)
            };
            t.simulcast_negotiated = t.accepted_rids.len() > 1;
            let simulcast = t.simulcast_negotiated;
            let mid = t.mid.clone();
            for l in &mut t.layers {
                let rid = l.rid().filter(|_| simulcast).map(str::to_string);
                l.outbound.set_rid(rid.as_deref());
                l.outbound.set_negotiated(mid.as_deref(), &t.extensions);
            }
            self.set_remote_sends(id, receives(current));
            self.end_track_unless_receiving(id);
        }
        let transport_cc = bundle_ext
            .id_of(crate::rtp::extensions::TRANSPORT_CC)
            .is_some();
        let ccfb = self
            .media
            .transceivers
            .iter()
            .any(|t| !t.stopped && t.codecs.iter().any(|c| has_ccfb(&c.codec.feedback)));
        self.media.ccfb = ccfb && !transport_cc;
        // REMB only when neither transport-wide nor RFC 8888 feedback was agreed.
        self.media.remb_only = !transport_cc
            && !self.media.ccfb
            && self
                .media
                .transceivers
                .iter()
                .any(|t| t.can_receive() && t.remb_enabled());
        self.media.bundle_extensions = bundle_ext;
        if self.media.srtp.is_some() {
            self.media.reports.start(self.now, &mut self.rng);
        }
    }

    fn stop_negotiated(&mut self, id: TransceiverId) {
        let Some(t) = self.media.get_mut(id) else {
            return;
        };
        t.stopped = true;
        t.stopping = false;
        t.current_direction = None;
        t.direction = TransceiverDirection::Inactive;
        t.mid_provisional = false;
        t.created_by_remote_offer = false;
        self.end_track_unless_receiving(id);
    }

    /// `TrackEnded` when the negotiation no longer lets the peer send to us.
    fn end_track_unless_receiving(&mut self, id: TransceiverId) {
        let Some(t) = self.media.get_mut(id) else {
            return;
        };
        if t.receiving && !t.can_receive() {
            t.receiving = false;
            t.remote_sends = false;
            self.events.push_back(Event::TrackEnded(id));
        }
    }

    /// Rolling back a local offer forgets the mids it gave; rolling back a remote offer
    /// removes the transceivers it created and forgets the mids it associated.
    pub(crate) fn rollback_media(&mut self, local: bool) {
        let mut ended = Vec::new();
        self.media.transceivers.retain(|t| {
            let drop = !local && t.created_by_remote_offer;
            if drop && t.receiving {
                ended.push(t.id);
            }
            !drop
        });
        for t in self.media.transceivers.iter_mut() {
            if t.mid_provisional {
                t.mid = None;
                t.mid_provisional = false;
                if t.receiving && t.current_direction.is_none() {
                    t.receiving = false;
                    ended.push(t.id);
                }
            }
        }
        let live: Vec<TransceiverId> = self.media.transceivers.iter().map(|t| t.id).collect();
        self.media.routes.retain(|_, id| live.contains(id));
        for id in ended {
            self.events.push_back(Event::TrackEnded(id));
        }
    }
}

/// Our offer's `a=rid:<rid> send [restrictions]` lines and `a=simulcast:send a;b;c`
/// (inactive layers paused, `~b`).
fn simulcast_offer(layers: &[SendLayer]) -> (Vec<Rid>, Option<Simulcast>) {
    let mut rids = Vec::new();
    let mut streams = Vec::new();
    for l in layers {
        let Some(e) = &l.encoding else { continue };
        rids.push(Rid {
            id: e.rid.clone(),
            direction: RidDirection::Send,
            restrictions: e.restrictions(),
        });
        streams.push(vec![SimulcastRid {
            id: e.rid.clone(),
            paused: !l.outbound.stats.active,
        }]);
    }
    let sc = Simulcast {
        parts: vec![SimulcastStreams {
            direction: RidDirection::Send,
            streams,
        }],
    };
    (rids, Some(sc))
}

/// The rids a description's m-line sends (`a=simulcast:send`, the first alternative of
/// each stream, when an `a=rid:<id> send` line declares it; RFC 8853 §5.2 says an
/// undeclared rid is ignored), at most [`MAX_REMOTE_RIDS`].
fn offered_send_rids(m: &MediaDescription) -> Vec<String> {
    let Some(streams) = m.simulcast().and_then(|s| s.streams(RidDirection::Send)) else {
        return Vec::new();
    };
    let declared: Vec<&Rid> = m
        .rids()
        .filter(|r| r.direction == RidDirection::Send)
        .collect();
    let mut out: Vec<String> = Vec::new();
    for alts in streams {
        let Some(first) = alts.first() else { continue };
        let known = declared.iter().any(|r| r.id == first.id);
        if known && !out.contains(&first.id) && out.len() < MAX_REMOTE_RIDS {
            out.push(first.id.clone());
        }
    }
    out
}

/// Most simulcast layers we accept to receive on one m-line.
const MAX_REMOTE_RIDS: usize = 8;

/// Which of our layers' rids the peer's answer receives (`a=simulcast:recv`, any
/// alternative; the answer may not add rids).
fn accepted_rids(m: &MediaDescription, layers: &[SendLayer]) -> Vec<String> {
    let Some(streams) = m.simulcast().and_then(|s| s.streams(RidDirection::Recv)) else {
        return Vec::new();
    };
    layers
        .iter()
        .filter_map(|l| l.rid())
        .filter(|rid| streams.iter().flatten().any(|r| r.id == *rid))
        .map(str::to_string)
        .collect()
}

/// `a=ssrc:<n> msid:<stream> <track>` for peers that write no media-level `a=msid`.
fn ssrc_msid(m: &MediaDescription) -> Option<crate::sdp::Msid> {
    let value = m
        .ssrcs()
        .find(|s| s.attribute == "msid")?
        .value
        .as_deref()?;
    let mut parts = value.split_whitespace();
    Some(crate::sdp::Msid {
        stream_id: parts.next()?.to_string(),
        track_id: parts.next().map(str::to_string),
    })
}

/// The SSRCs an m-line announces: every `a=ssrc` source, media first (the first of each
/// `FID` group), without duplicates.
fn remote_ssrcs(m: &MediaDescription) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    for s in m.ssrcs() {
        if !out.contains(&s.ssrc) {
            out.push(s.ssrc);
        }
    }
    out.truncate(16);
    out
}
