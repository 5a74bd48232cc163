//! RTP packets and header extensions: hand-assembled packets in the shapes Chromium sends,
//! byte-exact writing, framing errors, typed extension values.

use super::extensions::{self, ExtensionMap, ExtensionValue};
use super::*;

/// A VP8 packet as Chromium sends it: marker, PT 96, one-byte extensions abs-send-time
/// (id 2), transport-cc (id 3) and mid (id 4), block padded to a word.
const VIDEO: [u8; 33] = [
    0x90, 0xe0, 0x12, 0x34, // V=2 X=1, M=1 PT=96, seq 0x1234
    0x11, 0x22, 0x33, 0x44, // timestamp
    0xde, 0xad, 0xbe, 0xef, // SSRC
    0xbe, 0xde, 0x00, 0x03, // one-byte form, 3 words
    0x22, 0x12, 0x34, 0x56, // id 2, len 3: abs-send-time
    0x31, 0x00, 0x07, // id 3, len 2: transport-wide seq 7
    0x40, b'0', // id 4, len 1: mid "0"
    0x00, 0x00, 0x00, // padding to the word
    0x90, 0x80, 0x00, 0x01, 0x02, // payload
];

fn video_header() -> RtpHeader {
    RtpHeader {
        marker: true,
        payload_type: 96,
        sequence_number: 0x1234,
        timestamp: 0x1122_3344,
        ssrc: 0xdead_beef,
        csrcs: vec![],
        extensions: vec![
            (2, vec![0x12, 0x34, 0x56]),
            (3, vec![0, 7]),
            (4, b"0".to_vec()),
        ],
    }
}

#[test]
fn view_reads_chromium_video_packet() {
    let p = RtpPacket::new_checked(&VIDEO[..]).unwrap();
    assert!(p.marker());
    assert_eq!(p.payload_type(), 96);
    assert_eq!(p.sequence_number(), 0x1234);
    assert_eq!(p.timestamp(), 0x1122_3344);
    assert_eq!(p.ssrc(), 0xdead_beef);
    assert_eq!(p.csrcs().count(), 0);
    assert_eq!(p.header_len(), 28);
    assert_eq!(p.payload(), &[0x90, 0x80, 0x00, 0x01, 0x02]);
    assert_eq!(p.padding_len(), 0);
    let exts: Vec<_> = p.extensions().collect();
    assert_eq!(
        exts,
        vec![
            (2, &[0x12, 0x34, 0x56][..]),
            (3, &[0, 7][..]),
            (4, &b"0"[..])
        ]
    );
    assert_eq!(p.extension(3), Some(&[0, 7][..]));
    assert_eq!(p.extension(5), None);
}

#[test]
fn buffer_extensions_outlive_the_view() {
    let mid = {
        let view = RtpPacket::new_checked(&VIDEO[..]).unwrap();
        view.buffer_extensions().find(|&(id, _)| id == 4)
    };
    assert_eq!(mid, Some((4, &b"0"[..])));
    let mut no_ext = VIDEO;
    no_ext[0] = 0x80;
    let view = RtpPacket::new_checked(&no_ext[..]).unwrap();
    assert_eq!(view.buffer_extensions().count(), 0);
}

#[test]
fn owned_header_writes_one_byte_form_byte_exact() {
    let mut out = vec![0xff]; // write_to appends
    video_header().write_to(&mut out);
    assert_eq!(&out[1..], &VIDEO[..28]);
    assert_eq!(video_header().encoded_len(), 28);
}

#[test]
fn borrowed_header_writes_into_a_slice_byte_exact() {
    let header = RtpHeaderRef {
        marker: true,
        payload_type: 96,
        sequence_number: 0x1234,
        timestamp: 0x1122_3344,
        ssrc: 0xdead_beef,
        csrcs: &[],
        extensions: &[(2, &[0x12, 0x34, 0x56]), (3, &[0, 7]), (4, b"0")],
    };
    let mut buf = [0xee; 40];
    assert_eq!(header.write_into(&mut buf), Ok(28));
    assert_eq!(&buf[..28], &VIDEO[..28]);
    assert!(
        buf[28..].iter().all(|&b| b == 0xee),
        "bytes after it untouched"
    );
    assert_eq!(header.encoded_len(), 28);
    assert!(header.uses_one_byte_form());
}

#[test]
fn borrowed_header_refuses_a_short_buffer_and_writes_nothing() {
    let header = RtpHeaderRef {
        csrcs: &[1, 2],
        extensions: &[(20, b"long id")],
        ..Default::default()
    };
    let needed = header.encoded_len();
    assert_eq!(needed, 12 + 8 + 4 + 12);
    assert!(!header.uses_one_byte_form());
    let mut buf = vec![0xee; needed - 1];
    assert_eq!(
        header.write_into(&mut buf),
        Err(BufferTooSmall {
            needed,
            available: needed - 1
        })
    );
    assert!(buf.iter().all(|&b| b == 0xee));
}

#[test]
fn borrowed_header_appends_like_the_owned_one() {
    let owned = RtpHeader {
        csrcs: (0..20).collect(),
        extensions: vec![
            (0, vec![1]),
            (1, vec![]),
            (200, vec![9; 30]),
            (5, vec![0; 256]),
        ],
        ..video_header()
    };
    let extensions: Vec<(u8, &[u8])> = owned.extensions.iter().map(|(i, v)| (*i, &v[..])).collect();
    let borrowed = RtpHeaderRef {
        marker: owned.marker,
        payload_type: owned.payload_type,
        sequence_number: owned.sequence_number,
        timestamp: owned.timestamp,
        ssrc: owned.ssrc,
        csrcs: &owned.csrcs,
        extensions: &extensions,
    };
    let (mut a, mut b) = (vec![7], vec![7]);
    owned.write_to(&mut a);
    borrowed.write_to(&mut b);
    assert_eq!(a, b);
    assert_eq!(borrowed.encoded_len(), a.len() - 1);
    assert_eq!(a[1] & 0x0f, 15, "CSRCs cut at 15");
}

#[test]
fn owned_header_parses_back() {
    let (header, len) = RtpHeader::parse(&VIDEO).unwrap();
    assert_eq!(header, video_header());
    assert_eq!(len, 28);
}

#[test]
fn empty_value_or_high_id_selects_two_byte_form() {
    let header = RtpHeader {
        payload_type: 100,
        sequence_number: 1,
        timestamp: 2,
        ssrc: 3,
        extensions: vec![(1, vec![]), (20, vec![0xab])],
        ..Default::default()
    };
    let mut out = Vec::new();
    header.write_to(&mut out);
    let expected = [
        0x90, 100, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, // fixed header
        0x10, 0x00, 0x00, 0x02, // two-byte form, 2 words
        0x01, 0x00, 0x14, 0x01, 0xab, 0x00, 0x00, 0x00,
    ];
    assert_eq!(out, expected);
    assert_eq!(header.encoded_len(), expected.len());
    assert_eq!(RtpHeader::parse(&out).unwrap().0, header);
}

#[test]
fn seventeen_byte_value_selects_two_byte_form() {
    let header = RtpHeader {
        extensions: vec![(1, vec![7; 17])],
        ..Default::default()
    };
    let mut out = Vec::new();
    header.write_to(&mut out);
    assert_eq!(&out[12..14], &[0x10, 0x00]);
    assert_eq!(RtpHeader::parse(&out).unwrap().0, header);
}

#[test]
fn invalid_extensions_are_not_written() {
    let header = RtpHeader {
        extensions: vec![(0, vec![1]), (5, vec![0; 256])],
        ..Default::default()
    };
    let mut out = Vec::new();
    header.write_to(&mut out);
    assert_eq!(out.len(), 12);
    assert_eq!(out[0], 0x80, "no X bit");
    assert_eq!(header.encoded_len(), 12);
}

#[test]
fn csrcs_and_padding_are_honoured() {
    let bytes = [
        0xa2, 0x6f, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, // V=2 P=1 CC=2, PT 111
        0x0a, 0x0b, 0x0c, 0x0d, 0x01, 0x02, 0x03, 0x04, // CSRCs
        1, 2, 3, // payload
        0, 0, 3, // padding, count 3
    ];
    let p = RtpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(
        p.csrcs().collect::<Vec<_>>(),
        vec![0x0a0b_0c0d, 0x0102_0304]
    );
    assert_eq!(p.header_len(), 20);
    assert_eq!(p.padding_len(), 3);
    assert_eq!(p.payload(), &[1, 2, 3]);
    assert!(!p.marker());
    assert_eq!(p.extensions().count(), 0);
}

#[test]
fn framing_errors_are_reported() {
    assert_eq!(
        RtpPacket::new_checked(&VIDEO[..11]).unwrap_err(),
        RtpError::TooShort
    );
    let mut v1 = VIDEO;
    v1[0] = 0x50;
    assert_eq!(
        RtpPacket::new_checked(&v1[..]).unwrap_err(),
        RtpError::BadVersion
    );
    // CC = 15 but only 33 bytes.
    let mut csrc = VIDEO;
    csrc[0] = 0x9f;
    assert_eq!(
        RtpPacket::new_checked(&csrc[..]).unwrap_err(),
        RtpError::BadLength
    );
    // Extension length of 9 words runs past the end.
    let mut ext = VIDEO;
    ext[15] = 9;
    assert_eq!(
        RtpPacket::new_checked(&ext[..]).unwrap_err(),
        RtpError::BadLength
    );
    // Extension header itself missing.
    assert_eq!(
        RtpPacket::new_checked(&VIDEO[..14]).unwrap_err(),
        RtpError::BadLength
    );
    // Padding count 0, and padding larger than the payload.
    let mut pad = VIDEO;
    pad[0] |= 0x20;
    pad[32] = 0;
    assert_eq!(
        RtpPacket::new_checked(&pad[..]).unwrap_err(),
        RtpError::BadLength
    );
    pad[32] = 6;
    assert_eq!(
        RtpPacket::new_checked(&pad[..]).unwrap_err(),
        RtpError::BadLength
    );
    pad[32] = 5;
    assert!(
        RtpPacket::new_checked(&pad[..])
            .unwrap()
            .payload()
            .is_empty()
    );
}

#[test]
fn one_byte_padding_is_skipped_and_id_15_stops() {
    let mut bytes = VIDEO[..12].to_vec();
    bytes[0] = 0x90;
    bytes.extend_from_slice(&[0xbe, 0xde, 0x00, 0x02]);
    bytes.extend_from_slice(&[0x00, 0x10, 0xaa, 0x00, 0xf0, 0x20, 0xbb, 0x00]);
    let p = RtpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(p.extensions().collect::<Vec<_>>(), vec![(1, &[0xaa][..])]);
}

#[test]
fn truncated_element_ends_iteration() {
    let mut bytes = VIDEO[..12].to_vec();
    bytes.extend_from_slice(&[0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0x2f, 0x00]);
    let p = RtpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(p.extensions().collect::<Vec<_>>(), vec![(1, &[0xaa][..])]);
}

#[test]
fn unknown_profile_block_yields_no_extensions() {
    let mut bytes = VIDEO;
    bytes[12] = 0x12;
    let p = RtpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(p.extension_profile(), Some(0x12de));
    assert_eq!(p.extensions().count(), 0);
    assert_eq!(p.header_len(), 28);
}

#[test]
fn setters_rewrite_fixed_header_in_place() {
    let mut buf = VIDEO.to_vec();
    let mut p = RtpPacket::new_checked(&mut buf[..]).unwrap();
    p.set_marker(false);
    p.set_payload_type(0xff);
    p.set_sequence_number(7);
    p.set_timestamp(8);
    p.set_ssrc(9);
    assert!(!p.marker());
    assert_eq!(p.payload_type(), 0x7f);
    assert_eq!((p.sequence_number(), p.timestamp(), p.ssrc()), (7, 8, 9));
    assert_eq!(p.extension(4), Some(&b"0"[..]));
    assert_eq!(&buf[..12], &[0x90, 0x7f, 0, 7, 0, 0, 0, 8, 0, 0, 0, 9]);
}

#[test]
fn rtcp_is_told_from_rtp_by_second_byte() {
    assert!(is_rtcp(&[0x80, 200, 0, 6]));
    assert!(is_rtcp(&[0x81, 206]));
    assert!(is_rtcp(&[0x80, 223]));
    assert!(!is_rtcp(&[0x80, 96])); // PT 96, no marker
    assert!(!is_rtcp(&[0x80, 0xe0])); // PT 96 with marker = 224
    assert!(!is_rtcp(&[0x80, 191]));
    assert!(!is_rtcp(&[0x80]));
}

#[test]
fn display_is_one_line() {
    let p = RtpPacket::new_checked(&VIDEO[..]).unwrap();
    assert_eq!(
        p.to_string(),
        "RTP pt=96 seq=4660 ts=287454020 ssrc=0xdeadbeef M payload=5B ext=[2:3B,3:2B,4:1B]"
    );
    assert_eq!(
        video_header().to_string(),
        "pt=96 seq=4660 ts=287454020 ssrc=0xdeadbeef M ext=[2:3B,3:2B,4:1B]"
    );
}

#[test]
fn csrcs_beyond_fifteen_are_cut() {
    let header = RtpHeader {
        csrcs: (0..20).collect(),
        ..Default::default()
    };
    let mut out = Vec::new();
    header.write_to(&mut out);
    assert_eq!(out.len(), 12 + 60);
    assert_eq!(header.encoded_len(), out.len());
    assert_eq!(
        RtpHeader::parse(&out).unwrap().0.csrcs,
        (0..15).collect::<Vec<_>>()
    );
}

fn typed(uri: &str, bytes: &[u8], value: ExtensionValue) {
    assert_eq!(
        ExtensionValue::parse(uri, bytes),
        Some(value.clone()),
        "{uri}"
    );
    assert_eq!(value.to_bytes(), bytes, "{uri}");
}

#[test]
fn typed_extension_values_are_byte_exact() {
    use ExtensionValue as V;
    typed(extensions::MID, b"video", V::Mid("video".into()));
    typed(extensions::RID, b"hi", V::Rid("hi".into()));
    typed(extensions::REPAIRED_RID, b"lo", V::RepairedRid("lo".into()));
    typed(
        extensions::ABS_SEND_TIME,
        &[0x12, 0x34, 0x56],
        V::AbsSendTime(0x12_3456),
    );
    typed(
        extensions::TRANSPORT_CC,
        &[0x01, 0x02],
        V::TransportCc(0x0102),
    );
    typed(
        extensions::AUDIO_LEVEL,
        &[0x80 | 42],
        V::AudioLevel {
            voice: true,
            level: 42,
        },
    );
    typed(
        extensions::VIDEO_ORIENTATION,
        &[0x0d],
        V::VideoOrientation {
            back_camera: true,
            flip: true,
            rotation: 1,
        },
    );
    typed(
        extensions::PLAYOUT_DELAY,
        &[0x00, 0x10, 0x64],
        V::PlayoutDelay { min: 1, max: 100 },
    );
    let mut capture = 0x0102_0304_0506_0708u64.to_be_bytes().to_vec();
    typed(
        extensions::ABS_CAPTURE_TIME,
        &capture,
        V::AbsCaptureTime {
            timestamp: 0x0102_0304_0506_0708,
            clock_offset: None,
        },
    );
    capture.extend_from_slice(&(-2i64).to_be_bytes());
    typed(
        extensions::ABS_CAPTURE_TIME,
        &capture,
        V::AbsCaptureTime {
            timestamp: 0x0102_0304_0506_0708,
            clock_offset: Some(-2),
        },
    );
    typed("urn:example:unknown", &[1, 2, 3], V::Unknown(vec![1, 2, 3]));
}

#[test]
fn malformed_typed_values_are_rejected() {
    assert_eq!(ExtensionValue::parse(extensions::TRANSPORT_CC, &[1]), None);
    assert_eq!(
        ExtensionValue::parse(extensions::ABS_SEND_TIME, &[1, 2]),
        None
    );
    assert_eq!(ExtensionValue::parse(extensions::MID, &[0xff, 0xfe]), None);
    assert_eq!(ExtensionValue::parse(extensions::MID, &[]), None);
    assert_eq!(
        ExtensionValue::parse(extensions::ABS_CAPTURE_TIME, &[0; 12]),
        None
    );
    assert_eq!(ExtensionValue::parse(extensions::AUDIO_LEVEL, &[]), None);
    assert_eq!(
        ExtensionValue::parse(extensions::MID, b"1\0\0"),
        Some(ExtensionValue::Mid("1".into())),
        "trailing NULs are padding"
    );
}

#[test]
fn extension_map_keeps_ids_and_uris_unique() {
    let mut map = ExtensionMap::new();
    map.insert(1, extensions::MID);
    map.insert(3, extensions::TRANSPORT_CC);
    assert_eq!(map.id_of(extensions::MID), Some(1));
    assert_eq!(map.uri_of(3), Some(extensions::TRANSPORT_CC));
    map.insert(4, extensions::MID); // MID moves to id 4
    assert_eq!(map.id_of(extensions::MID), Some(4));
    assert_eq!(map.uri_of(1), None);
    map.insert(3, extensions::RID); // id 3 now RID
    assert_eq!(map.id_of(extensions::TRANSPORT_CC), None);
    map.insert(0, extensions::AUDIO_LEVEL); // id 0 is not an extension id
    assert_eq!(map.len(), 2);
    assert_eq!(
        map.decode(4, b"a"),
        Some(ExtensionValue::Mid("a".to_owned()))
    );
    assert_eq!(map.decode(9, b"a"), None);
}
