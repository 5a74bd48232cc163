//! Codec targets: STUN, SDP, DCEP, RTP, RTCP and SRTP. Whatever parses must re-encode and
//! parse back to itself; SRTP must never authenticate arbitrary bytes.

use super::{Milestones, Target};
use crate::datachannel::{ChannelType, DcepMessage};
use crate::rtp::extensions::{self, ExtensionValue};
use crate::rtp::rtcp::{
    ATO_OVER_RANGE, Bye, CcfbArrival, CcfbBlock, CongestionControlFeedback, Pli, RtcpPacket,
    parse_compound,
};
use crate::rtp::{RtpHeader, RtpHeaderRef, RtpPacket, is_rtcp};
use crate::sdp::{SdpLimits, SessionDescription};
use crate::srtp::{SrtpConfig, SrtpContext, SrtpProfile};
use crate::stun::{Attribute, IntegrityKey, StunMessage, StunView, TransactionId, looks_like_stun};
use std::time::Instant;

pub(super) const STUN: Target = Target {
    name: "stun",
    run: stun,
    seeds: stun_seeds,
    deep: &["stun_parsed", "stun_integrity_ok"],
};
pub(super) const SDP: Target = Target {
    name: "sdp",
    run: sdp,
    seeds: sdp_seeds,
    deep: &["sdp_parsed"],
};
pub(super) const DCEP: Target = Target {
    name: "dcep",
    run: dcep,
    seeds: dcep_seeds,
    deep: &["dcep_open", "dcep_ack"],
};
pub(super) const RTP: Target = Target {
    name: "rtp",
    run: rtp,
    seeds: rtp_seeds,
    deep: &["rtp_parsed", "rtp_extension"],
};
pub(super) const RTCP: Target = Target {
    name: "rtcp",
    run: rtcp,
    seeds: rtcp_seeds,
    deep: &["rtcp_parsed", "rtcp_ccfb"],
};
pub(super) const SRTP: Target = Target {
    name: "srtp",
    run: srtp,
    seeds: srtp_seeds,
    deep: &["srtp_rtp_round_trip", "srtp_rtcp_round_trip"],
};

const STUN_PASSWORD: &str = "fuzzing-password";

fn stun(data: &[u8], _: Instant) -> Milestones {
    let mut reached = Milestones::new();
    let key = IntegrityKey::short_term(STUN_PASSWORD);
    let _ = looks_like_stun(data);
    if let Ok(view) = StunView::new_checked(data) {
        let _ = (view.class(), view.method(), view.transaction_id());
        let _ = view.attributes().count();
        let _ = view.unknown_comprehension_required().count();
        let _ = (view.username(), view.realm(), view.nonce(), view.software());
        let _ = (view.priority(), view.use_candidate());
        let _ = (view.ice_controlling(), view.ice_controlled());
        let _ = (view.xor_mapped_address(), view.mapped_address());
        let _ = (
            view.alternate_server(),
            view.error_code(),
            view.unknown_attributes(),
        );
        if view.verify_integrity(&key) {
            reached.insert("stun_integrity_ok");
        }
        let _ = (
            view.verify_integrity_sha256(&key),
            view.fingerprint_ok(),
            view.to_string(),
        );
    }
    if let Ok(message) = StunMessage::parse(data) {
        reached.insert("stun_parsed");
        // Whatever parses re-encodes (unless the added MESSAGE-INTEGRITY and FINGERPRINT
        // push it past the size limit), and the result parses back to the same message.
        let Ok(bytes) = message.encode(Some(&key), true) else {
            assert!(data.len() > 65_535 - 32);
            return reached;
        };
        let view = StunView::new_checked(&bytes).expect("encoder output is well formed");
        assert!(view.verify_integrity(&key) && view.fingerprint_ok());
        assert_eq!(StunMessage::from_view(&view).as_ref(), Ok(&message));
    }
    reached
}

fn stun_seeds(_: Instant) -> Vec<Vec<u8>> {
    let key = IntegrityKey::short_term(STUN_PASSWORD);
    let request = StunMessage::binding_request(TransactionId([7; 12]))
        .with(Attribute::Username("abcd:efgh".into()))
        .with(Attribute::Priority(0x6e00_1eff))
        .with(Attribute::IceControlling(0x0102_0304_0506_0708))
        .with(Attribute::UseCandidate);
    let view_bytes = request.encode(Some(&key), true).expect("small");
    let view = StunView::new_checked(&view_bytes).expect("own encoding");
    let response = StunMessage::success_response_to(&view).with(Attribute::XorMappedAddress(
        "192.0.2.1:3478".parse().expect("addr"),
    ));
    vec![
        view_bytes.clone(),
        response.encode(Some(&key), true).expect("small"),
    ]
}

fn sdp(data: &[u8], _: Instant) -> Milestones {
    let mut reached = Milestones::new();
    if let Ok(sdp) = SessionDescription::parse_bytes(data, &SdpLimits::default()) {
        reached.insert("sdp_parsed");
        let printed = sdp.to_string();
        let reparsed = SessionDescription::parse(&printed).expect("printed SDP parses");
        assert_eq!(reparsed, sdp, "round trip changed the description");
    }
    reached
}

fn sdp_seeds(now: Instant) -> Vec<Vec<u8>> {
    super::jsep::offers(now)
        .into_iter()
        .map(String::into_bytes)
        .collect()
}

fn dcep(data: &[u8], _: Instant) -> Milestones {
    let mut reached = Milestones::new();
    if let Ok(message) = DcepMessage::parse(data) {
        reached.insert(match message {
            DcepMessage::Open { .. } => "dcep_open",
            _ => "dcep_ack",
        });
        let encoded = message.to_bytes();
        assert!(data.starts_with(&encoded));
        assert_eq!(DcepMessage::parse(&encoded), Ok(message));
    }
    reached
}

fn dcep_seeds(_: Instant) -> Vec<Vec<u8>> {
    let open = DcepMessage::Open {
        channel_type: ChannelType::REXMIT,
        priority: 256,
        reliability: 3,
        label: "chat".into(),
        protocol: "json".into(),
    };
    vec![
        open.to_bytes().to_vec(),
        DcepMessage::Ack.to_bytes().to_vec(),
    ]
}

const URIS: [&str; 9] = [
    extensions::MID,
    extensions::RID,
    extensions::REPAIRED_RID,
    extensions::ABS_SEND_TIME,
    extensions::TRANSPORT_CC,
    extensions::AUDIO_LEVEL,
    extensions::VIDEO_ORIENTATION,
    extensions::ABS_CAPTURE_TIME,
    extensions::PLAYOUT_DELAY,
];

fn rtp(data: &[u8], _: Instant) -> Milestones {
    let mut reached = Milestones::new();
    let _ = is_rtcp(data);
    if let Ok(view) = RtpPacket::new_checked(data) {
        reached.insert("rtp_parsed");
        let _ = (view.marker(), view.payload_type(), view.sequence_number());
        let _ = (view.timestamp(), view.ssrc(), view.csrcs().count());
        let _ = (view.header_len(), view.payload(), view.padding_len());
        for (id, value) in view.extensions() {
            let uri = URIS[usize::from(id) % URIS.len()];
            if let Some(typed) = ExtensionValue::parse(uri, value) {
                reached.insert("rtp_extension");
                let _ = (typed.to_bytes(), typed.to_string());
            }
        }
        let _ = view.to_string();
        let mut owned = data.to_vec();
        let mut writable = RtpPacket::new_checked(&mut owned[..]).expect("same bytes");
        writable.set_sequence_number(writable.sequence_number().wrapping_add(1));
        writable.set_marker(!writable.marker());
    }
    if let Ok((header, _)) = RtpHeader::parse(data) {
        let mut out = Vec::new();
        header.write_to(&mut out);
        assert_eq!(out.len(), header.encoded_len());
        let (again, len) = RtpHeader::parse(&out).expect("written header parses");
        assert_eq!(len, out.len());
        // The writer keeps at most 255 elements (a long two-byte block of empty elements
        // can hold more); below that, writing loses nothing.
        if header.extensions.len() <= crate::rtp::MAX_EXTENSIONS {
            assert_eq!(again, header);
        }
        // The borrowed writer puts the same bytes into a slice.
        let exts: Vec<(u8, &[u8])> = header
            .extensions
            .iter()
            .map(|(i, v)| (*i, &v[..]))
            .collect();
        let borrowed = RtpHeaderRef {
            marker: header.marker,
            payload_type: header.payload_type,
            sequence_number: header.sequence_number,
            timestamp: header.timestamp,
            ssrc: header.ssrc,
            csrcs: &header.csrcs,
            extensions: &exts,
        };
        let mut buf = vec![0; out.len()];
        assert_eq!(borrowed.write_into(&mut buf), Ok(out.len()));
        assert_eq!(buf, out);
    }
    reached
}

fn rtp_packet(extensions: Vec<(u8, Vec<u8>)>, payload: &[u8]) -> Vec<u8> {
    let header = RtpHeader {
        marker: true,
        payload_type: 96,
        sequence_number: 4242,
        timestamp: 90_000,
        ssrc: 0x1234_5678,
        csrcs: vec![0xabcd],
        extensions,
    };
    let mut out = Vec::new();
    header.write_to(&mut out);
    out.extend_from_slice(payload);
    out
}

fn rtp_seeds(_: Instant) -> Vec<Vec<u8>> {
    vec![
        // MID (id 0 mod 9 = 9), audio level (id 5), transport-cc (id 4).
        rtp_packet(
            vec![(9, b"0".to_vec()), (5, vec![0x85]), (4, vec![0, 7])],
            &[0x90, 0x80, 0x01],
        ),
        rtp_packet(vec![(1, vec![0; 20])], &[1; 40]),
    ]
}

fn rtcp(data: &[u8], _: Instant) -> Milestones {
    let mut reached = Milestones::new();
    for packet in parse_compound(data).flatten() {
        reached.insert("rtcp_parsed");
        if matches!(packet, RtcpPacket::Ccfb(_)) {
            reached.insert("rtcp_ccfb");
        }
        let _ = (
            packet.to_string(),
            packet.media_ssrcs(),
            packet.sender_ssrc(),
        );
        let bytes = packet.to_bytes();
        assert_eq!(bytes.len(), packet.encoded_len());
        let mut again = parse_compound(&bytes);
        let reparsed = again
            .next()
            .expect("one packet")
            .expect("written packet parses");
        // A second encode is stable even where the first normalised (NACK packing,
        // TWCC chunk choice, padding).
        assert_eq!(reparsed.to_bytes(), bytes);
        assert!(again.next().is_none());
    }
    reached
}

fn rtcp_seeds(_: Instant) -> Vec<Vec<u8>> {
    let pli = RtcpPacket::Pli(Pli {
        sender_ssrc: 1,
        media_ssrc: 2,
    });
    let bye = RtcpPacket::Bye(Bye {
        ssrcs: vec![1, 2],
        reason: b"done".to_vec(),
    });
    let mut compound = pli.to_bytes();
    compound.extend_from_slice(&bye.to_bytes());
    // RFC 8888 feedback across the sequence wrap: received, lost, received over-range.
    let ccfb = RtcpPacket::Ccfb(CongestionControlFeedback {
        sender_ssrc: 1,
        blocks: vec![CcfbBlock {
            media_ssrc: 2,
            begin_seq: 65535,
            reports: vec![
                Some(CcfbArrival {
                    ecn: 0,
                    offset: 100,
                }),
                None,
                Some(CcfbArrival {
                    ecn: 1,
                    offset: ATO_OVER_RANGE,
                }),
            ],
        }],
        report_timestamp: 0x0001_8000,
    });
    vec![pli.to_bytes(), compound, ccfb.to_bytes()]
}

const PROFILES: [SrtpProfile; 4] = [
    SrtpProfile::AES128_CM_HMAC_SHA1_80,
    SrtpProfile::AES128_CM_HMAC_SHA1_32,
    SrtpProfile::AEAD_AES_128_GCM,
    SrtpProfile::AEAD_AES_256_GCM,
];

fn srtp_context(profile: SrtpProfile) -> SrtpContext {
    let key_len = if profile == SrtpProfile::AEAD_AES_256_GCM {
        32
    } else {
        16
    };
    let salt_len = if profile.0 >= 7 { 12 } else { 14 };
    SrtpContext::new(
        profile,
        &vec![1; key_len],
        &vec![2; salt_len],
        &SrtpConfig::default(),
    )
    .expect("valid lengths")
}

/// The first byte picks the profile, the rest is the packet: unprotect must never
/// authenticate it or create state; protect then unprotect must restore it.
fn srtp(data: &[u8], _: Instant) -> Milestones {
    let mut reached = Milestones::new();
    let Some((&selector, packet)) = data.split_first() else {
        return reached;
    };
    let profile = PROFILES[usize::from(selector) % PROFILES.len()];
    let mut rx = srtp_context(profile);
    let mut buf = packet.to_vec();
    let _ = rx.unprotect_rtp(&mut buf);
    let mut buf = packet.to_vec();
    let _ = rx.unprotect_rtcp(&mut buf);
    assert_eq!(rx.stream_count(), 0, "unauthenticated bytes created state");

    let mut tx = srtp_context(profile);
    let mut rx = srtp_context(profile);
    let mut buf = packet.to_vec();
    if tx.protect_rtp(&mut buf).is_ok() {
        rx.unprotect_rtp(&mut buf).expect("own packet unprotects");
        assert_eq!(buf, packet);
        reached.insert("srtp_rtp_round_trip");
    }
    let mut buf = packet.to_vec();
    if tx.protect_rtcp(&mut buf).is_ok() {
        rx.unprotect_rtcp(&mut buf).expect("own packet unprotects");
        assert_eq!(buf, packet);
        reached.insert("srtp_rtcp_round_trip");
    }
    reached
}

fn srtp_seeds(now: Instant) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for (selector, packet) in rtp_seeds(now)
        .into_iter()
        .chain(rtcp_seeds(now))
        .enumerate()
    {
        let mut seed = vec![selector as u8];
        seed.extend_from_slice(&packet);
        seeds.push(seed);
    }
    seeds
}
