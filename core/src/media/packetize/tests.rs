//! Byte-exact packetization cases built by hand from the RFCs' packet layouts, round trips
//! frame → payloads → frame for every codec, and proptests that no payload makes a
//! depacketizer panic.

use super::av1::{Av1Depacketizer, Av1Packetizer, read_leb128, write_leb128};
use super::h264::{H264Depacketizer, H264Packetizer, PacketizationMode};
use super::h265::{H265Depacketizer, H265Packetizer};
use super::vp8::{Vp8Depacketizer, Vp8Descriptor, Vp8NumberingRewriter};
use super::vp9::{Vp9Depacketizer, Vp9Descriptor, Vp9Layer, Vp9Packetizer};
use super::*;
use proptest::prelude::*;

fn depacketize_all(d: &mut dyn Depacketizer, payloads: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    d.reset();
    for p in payloads {
        d.depacketize(p, &mut out).expect("valid payload");
    }
    out
}

const SPS: [u8; 4] = [0x67, 0x42, 0x00, 0x1f];
const PPS: [u8; 4] = [0x68, 0xce, 0x3c, 0x80];

fn annex_b(units: &[&[u8]]) -> Vec<u8> {
    units
        .iter()
        .flat_map(|u| [&[0, 0, 0, 1][..], u].concat())
        .collect()
}

#[test]
fn h264_small_nal_units_share_one_stap_a() {
    let frame = annex_b(&[&SPS, &PPS, &[0x65, 0x88, 0x84, 0x21]]);
    let mut p = H264Packetizer::new(PacketizationMode::NonInterleaved);
    let payloads = p.packetize(&frame, 1200).expect("fits");
    let expected = [
        0x78, 0, 4, 0x67, 0x42, 0x00, 0x1f, 0, 4, 0x68, 0xce, 0x3c, 0x80, 0, 4, 0x65, 0x88, 0x84,
        0x21,
    ];
    assert_eq!(payloads, vec![expected.to_vec()]);
    let mut d = H264Depacketizer::default();
    assert_eq!(depacketize_all(&mut d, &payloads), frame);
    assert!(d.is_keyframe(&payloads[0]) && d.is_frame_start(&payloads[0]));
}

#[test]
fn h264_large_nal_units_are_fragmented_as_fu_a() {
    let nal: Vec<u8> = [0x65].into_iter().chain(1..=10).collect();
    let mut p = H264Packetizer::new(PacketizationMode::NonInterleaved);
    let payloads = p.packetize(&annex_b(&[&nal]), 6).expect("fits");
    assert_eq!(
        payloads,
        vec![
            vec![0x7c, 0x85, 1, 2, 3, 4],
            vec![0x7c, 0x05, 5, 6, 7, 8],
            vec![0x7c, 0x45, 9, 10]
        ]
    );
    let mut d = H264Depacketizer::default();
    assert_eq!(depacketize_all(&mut d, &payloads), annex_b(&[&nal]));
    assert!(d.is_keyframe(&payloads[0]) && !d.is_keyframe(&payloads[1]));
    assert!(!d.is_frame_start(&payloads[1]));
    d.reset();
    let mut out = Vec::new();
    assert_eq!(
        d.depacketize(&payloads[1], &mut out),
        Err(DepacketizeError::MissingFragmentStart)
    );
}

#[test]
fn h264_parameter_sets_are_put_before_every_idr() {
    let mut p = H264Packetizer::new(PacketizationMode::NonInterleaved);
    p.packetize(&annex_b(&[&SPS, &PPS, &[0x65, 0x88]]), 1200)
        .expect("fits");
    let delta = p.packetize(&annex_b(&[&[0x41, 0x9a]]), 1200).expect("fits");
    assert_eq!(delta, vec![vec![0x41, 0x9a]]);
    let idr = p
        .packetize(&annex_b(&[&[0x09, 0xf0], &[0x65, 0x99]]), 1200)
        .expect("fits");
    let expected = [
        0x78, 0, 4, 0x67, 0x42, 0x00, 0x1f, 0, 4, 0x68, 0xce, 0x3c, 0x80, 0, 2, 0x65, 0x99,
    ];
    assert_eq!(
        idr,
        vec![expected.to_vec()],
        "AUD dropped, SPS and PPS inserted"
    );
}

#[test]
fn h264_mode_0_sends_single_nal_units_only() {
    let mut p = H264Packetizer::new(PacketizationMode::SingleNal);
    let payloads = p
        .packetize(&annex_b(&[&SPS, &PPS, &[0x65, 0x88]]), 1200)
        .expect("fits");
    assert_eq!(payloads, vec![SPS.to_vec(), PPS.to_vec(), vec![0x65, 0x88]]);
    let big = [0x65; 100];
    assert_eq!(
        p.packetize(&annex_b(&[&big]), 50),
        Err(PacketizeError::UnitTooLarge {
            len: 100,
            max_payload: 50
        })
    );
}

#[test]
fn h264_frame_starts_are_read_from_the_slice_header() {
    let d = H264Depacketizer::default();
    assert!(d.is_frame_start(&[0x65, 0x88])); // first_mb_in_slice = 0
    assert!(!d.is_frame_start(&[0x41, 0x20])); // a later slice
    assert!(d.is_frame_start(&[0x7c, 0x85, 0x88])); // FU-A start, first slice
    assert!(!d.is_keyframe(&[0x41, 0x9a]));
    let mut out = Vec::new();
    let mut d = H264Depacketizer::default();
    assert!(d.depacketize(&[0x79, 0, 1], &mut out).is_err()); // STAP-B
    assert!(d.depacketize(&[0x78, 0, 9, 1], &mut out).is_err()); // truncated STAP-A
}

const VPS5: [u8; 3] = [0x40, 0x01, 0x0c];
const SPS5: [u8; 3] = [0x42, 0x01, 0x01];
const PPS5: [u8; 3] = [0x44, 0x01, 0xc1];

#[test]
fn h265_aggregation_and_fragmentation_units_match_rfc_7798_layouts() {
    let idr = [0x26, 0x01, 0xaf, 0x01, 0x02];
    let mut p = H265Packetizer::new();
    let payloads = p.packetize(&annex_b(&[&VPS5, &SPS5, &PPS5, &idr]), 1200);
    let ap = [
        [0x60, 0x01].as_slice(),
        &[0, 3],
        &VPS5,
        &[0, 3],
        &SPS5,
        &[0, 3],
        &PPS5,
        &[0, 5],
        &idr,
    ]
    .concat();
    assert_eq!(payloads, Ok(vec![ap.clone()]));
    let big: Vec<u8> = [0x26, 0x01].into_iter().chain(0x80..0x88).collect();
    let frags = p.packetize(&annex_b(&[&big]), 7).expect("fits");
    assert_eq!(frags[..3], [VPS5.to_vec(), SPS5.to_vec(), PPS5.to_vec()]);
    assert_eq!(frags[3], [0x62, 0x01, 0x93, 0x80, 0x81, 0x82, 0x83]);
    assert_eq!(frags[4], [0x62, 0x01, 0x53, 0x84, 0x85, 0x86, 0x87]);
    assert_eq!(frags.len(), 5);
    let mut d = H265Depacketizer::default();
    assert_eq!(
        depacketize_all(&mut d, &[ap]),
        annex_b(&[&VPS5, &SPS5, &PPS5, &idr])
    );
    assert_eq!(
        depacketize_all(&mut d, &frags),
        annex_b(&[&VPS5, &SPS5, &PPS5, &big])
    );
}

#[test]
fn h265_keyframes_and_frame_starts_are_seen_on_the_rtp_level() {
    let d = H265Depacketizer::default();
    assert!(d.is_keyframe(&[0x26, 0x01, 0x80]) && d.is_frame_start(&[0x26, 0x01, 0x80]));
    assert!(!d.is_keyframe(&[0x02, 0x01, 0x80]) && d.is_frame_start(&[0x02, 0x01, 0x80]));
    assert!(!d.is_frame_start(&[0x02, 0x01, 0x40]));
    assert!(d.is_keyframe(&[0x62, 0x01, 0x93, 0x80]));
    assert!(!d.is_frame_start(&[0x62, 0x01, 0x13, 0x80]));
}

#[test]
fn av1_drops_temporal_delimiters_and_sets_n_on_a_new_sequence() {
    let frame = [
        0x12, 0x00, 0x0a, 0x03, 0x00, 0x0b, 0x0c, 0x32, 0x04, 0x10, 0x20, 0x30, 0x40,
    ];
    let mut p = Av1Packetizer::new();
    let payloads = p.packetize(&frame, 1200).expect("fits");
    let expected = [
        0x08, 0x04, 0x08, 0x00, 0x0b, 0x0c, 0x05, 0x30, 0x10, 0x20, 0x30, 0x40,
    ];
    assert_eq!(payloads, vec![expected.to_vec()]);
    let mut d = Av1Depacketizer::default();
    assert_eq!(depacketize_all(&mut d, &payloads), frame[2..]);
    assert!(d.is_keyframe(&payloads[0]) && d.is_frame_start(&payloads[0]));
    // A key frame without its sequence header gets the remembered one.
    let key = p.packetize(&[0x32, 0x02, 0x10, 0x99], 1200).expect("fits");
    let expected = [0x08, 0x04, 0x08, 0x00, 0x0b, 0x0c, 0x03, 0x30, 0x10, 0x99];
    assert_eq!(key, vec![expected.to_vec()]);
    let delta = p.packetize(&[0x32, 0x02, 0x30, 0x99], 1200).expect("fits");
    assert_eq!(delta, vec![vec![0x00, 0x03, 0x30, 0x30, 0x99]]);
    assert!(!d.is_keyframe(&delta[0]));
}

#[test]
fn av1_fragments_an_obu_with_y_and_z() {
    let obu: Vec<u8> = [0x32, 20].into_iter().chain(100..120).collect();
    let mut p = Av1Packetizer::new();
    let payloads = p.packetize(&obu, 10).expect("fits");
    let element: Vec<u8> = [0x30].into_iter().chain(100..120).collect();
    assert_eq!(payloads.len(), 3);
    assert_eq!(payloads[0], [&[0x40, 8][..], &element[..8]].concat());
    assert_eq!(payloads[1], [&[0xc0, 8][..], &element[8..16]].concat());
    assert_eq!(payloads[2], [&[0x80, 5][..], &element[16..]].concat());
    let mut d = Av1Depacketizer::default();
    assert_eq!(depacketize_all(&mut d, &payloads), obu);
    assert!(!d.is_frame_start(&payloads[1]));
    d.reset();
    let mut out = Vec::new();
    assert_eq!(
        d.depacketize(&payloads[1], &mut out),
        Err(DepacketizeError::MissingFragmentStart)
    );
}

#[test]
fn av1_reads_elements_counted_by_w() {
    // W = 2: the first element has a length, the last takes the rest.
    let payload = [0x20, 0x02, 0x18, 0xaa, 0x30, 0xbb, 0xcc];
    let mut out = Vec::new();
    Av1Depacketizer::default()
        .depacketize(&payload, &mut out)
        .expect("valid");
    assert_eq!(out, [0x1a, 0x01, 0xaa, 0x32, 0x02, 0xbb, 0xcc]);
}

#[test]
fn leb128_round_trips_and_rejects_overlong_values() {
    for v in [0u64, 1, 127, 128, 300, 1 << 20, (1 << 56) - 1] {
        let mut out = Vec::new();
        write_leb128(v, &mut out);
        assert_eq!(read_leb128(&out), Some((v, out.len())));
    }
    assert_eq!(read_leb128(&[0x80; 9]), None);
}

/// A VP9 key frame header: profile 0, shown, colour space 0, 320 × 240.
const VP9_KEY: [u8; 9] = [0x82, 0x49, 0x83, 0x42, 0x00, 0x13, 0xf0, 0x0e, 0xf0];

#[test]
fn vp9_key_frames_carry_the_scalability_structure() {
    let mut p = Vp9Packetizer::new(5, false);
    let key = p.packetize(&VP9_KEY, 1200).expect("fits");
    let descriptor = [0x8e, 0x80, 0x05, 0x10, 0x01, 0x40, 0x00, 0xf0];
    assert_eq!(key, vec![[&descriptor[..], &VP9_KEY].concat()]);
    let delta = p.packetize(&[0x84, 0x00, 0x01], 1200).expect("fits");
    assert_eq!(delta, vec![vec![0xcc, 0x80, 0x06, 0x84, 0x00, 0x01]]);
    let d = Vp9Depacketizer;
    assert!(d.is_keyframe(&key[0]) && !d.is_keyframe(&delta[0]));
    let parsed = Vp9Descriptor::parse(&key[0]).expect("valid");
    let ss = parsed.scalability.expect("SS on key frames");
    assert_eq!((ss.spatial_layers, ss.resolutions), (1, vec![(320, 240)]));
}

#[test]
fn vp9_flexible_mode_names_its_reference() {
    let mut p = Vp9Packetizer::new(6, true);
    let delta = p.packetize(&[0x84, 0x00], 1200).expect("fits");
    assert_eq!(delta, vec![vec![0xdc, 0x80, 0x06, 0x02, 0x84, 0x00]]);
}

#[test]
fn vp9_descriptors_expose_layers_references_and_picture_groups() {
    let flexible = [0xf8, 0x12, 0x53, 0x03, 0x08, 0xaa];
    let d = Vp9Descriptor::parse(&flexible).expect("valid");
    assert_eq!(d.picture_id, Some(18));
    assert_eq!(
        d.layer,
        Some(Vp9Layer {
            temporal_id: 2,
            switching_up: true,
            spatial_id: 1,
            inter_layer_dependency: true
        })
    );
    assert_eq!((d.reference_diffs, d.len), (vec![1, 4], 5));
    assert!(
        !Vp9Depacketizer.is_frame_start(&flexible),
        "not the base layer"
    );
    let with_ss = [
        0xaa, 0x01, 0x00, 0x07, 0x38, 0, 160, 0, 120, 1, 64, 0, 240, 1, 0x04, 0x01, 0xbb,
    ];
    let d = Vp9Descriptor::parse(&with_ss).expect("valid");
    assert_eq!(d.tl0_pic_idx, Some(7));
    let ss = d.scalability.expect("V");
    assert_eq!(ss.resolutions, vec![(160, 120), (320, 240)]);
    assert_eq!(ss.picture_group.len(), 1);
    assert_eq!(ss.picture_group[0].reference_diffs, vec![1]);
    assert_eq!(d.len, 16);
    assert!(Vp9Descriptor::parse(&with_ss[..10]).is_err());
}

#[test]
fn vp8_descriptors_with_every_extension_are_read() {
    let payload = [0x90, 0xe0, 0x81, 0x23, 0x05, 0x60, 0x50];
    let d = Vp8Descriptor::parse(&payload).expect("valid");
    assert_eq!(d.picture_id, Some(0x123));
    assert_eq!(
        (d.tl0_pic_idx, d.temporal, d.key_idx),
        (Some(5), Some((1, true)), None)
    );
    assert_eq!(d.len, 6);
    let mut out = Vec::new();
    Vp8Depacketizer
        .depacketize(&payload, &mut out)
        .expect("valid");
    assert_eq!(out, [0x50]);
    assert!(Vp8Depacketizer.is_keyframe(&payload));
}

#[test]
fn audio_frames_travel_one_per_packet() {
    let mut p = AudioPacketizer;
    assert_eq!(p.packetize(&[1, 2, 3], 1200), Ok(vec![vec![1, 2, 3]]));
    assert!(p.packetize(&[0; 1300], 1200).is_err());
    assert_eq!(p.packetize(&[], 1200), Ok(vec![]));
}

use super::audio::AudioPacketizer;

#[test]
fn codecs_are_chosen_by_name() {
    for name in SUPPORTED_CODECS {
        let codec = RtpCodec::new(name.to_lowercase(), 90_000, None);
        assert!(packetizer_for(&codec, 1).is_some(), "{name}");
        assert!(depacketizer_for(&codec).is_some(), "{name}");
    }
    assert!(packetizer_for(&RtpCodec::new("rtx", 90_000, None), 1).is_none());
    let mut mode1 = RtpCodec::new("H264", 90_000, None);
    mode1
        .fmtp
        .push(("packetization-mode".into(), Some("1".into())));
    let big = annex_b(&[&[0x65; 3000]]);
    assert!(
        packetizer_for(&mode1, 0)
            .expect("h264")
            .packetize(&big, 1200)
            .is_ok()
    );
    let mode0 = RtpCodec::new("H264", 90_000, None);
    assert!(
        packetizer_for(&mode0, 0)
            .expect("h264")
            .packetize(&big, 1200)
            .is_err()
    );
}

/// A frame in each codec's canonical form, from arbitrary bytes.
fn canonical_frame(codec: &str, body: &[u8]) -> Vec<u8> {
    match codec {
        "H264" => annex_b(&[&SPS, &PPS, &[&[0x65][..], body, &[0x01]].concat()]),
        "H265" => annex_b(&[
            &VPS5,
            &SPS5,
            &PPS5,
            &[&[0x26, 0x01][..], body, &[0x01]].concat(),
        ]),
        "AV1" => {
            let mut f = vec![0x0a, 0x01, 0x00, 0x32];
            write_leb128(body.len() as u64 + 1, &mut f);
            f.push(0x10);
            f.extend_from_slice(body);
            f
        }
        "VP9" => [&VP9_KEY[..], body].concat(),
        _ => [&[0x50][..], body].concat(),
    }
}

proptest! {
    #[test]
    fn frames_survive_packetization_for_every_codec(
        body in proptest::collection::vec(1u8..=255, 0..5000),
        max_payload in 20usize..1500,
    ) {
        for name in ["VP8", "VP9", "H264", "H265", "AV1"] {
            let mut codec = RtpCodec::new(name, 90_000, None);
            codec.fmtp.push(("packetization-mode".into(), Some("1".into())));
            let frame = canonical_frame(name, &body);
            let payloads = packetizer_for(&codec, 7).expect("known").packetize(&frame, max_payload);
            let payloads = payloads.expect("packetizes");
            prop_assert!(payloads.iter().all(|p| p.len() <= max_payload), "{}", name);
            let mut d = depacketizer_for(&codec).expect("known");
            prop_assert!(d.is_frame_start(&payloads[0]), "{}", name);
            prop_assert!(d.is_keyframe(&payloads[0]), "{}", name);
            // Parameter sets sent alone look like starts: H.26x relies on the timestamp.
            if !name.starts_with('H') {
                prop_assert!(payloads[1..].iter().all(|p| !d.is_frame_start(p)), "{}", name);
            }
            prop_assert_eq!(depacketize_all(d.as_mut(), &payloads), frame, "{}", name);
        }
    }

    #[test]
    fn depacketizers_never_panic(payloads in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..64), 0..8)) {
        for name in SUPPORTED_CODECS {
            let mut d = depacketizer_for(&RtpCodec::new(*name, 90_000, None)).expect("known");
            let mut out = Vec::new();
            for p in &payloads {
                let _ = (d.is_frame_start(p), d.is_keyframe(p));
                let _ = d.depacketize(p, &mut out);
            }
            prop_assert!(out.len() <= payloads.iter().map(|p| p.len() * 2 + 16).sum::<usize>());
        }
    }

    #[test]
    fn vp8_numbering_rewrites_only_the_numbers_and_never_panics(
        packets in proptest::collection::vec(
            (0u32..3, proptest::collection::vec(any::<u8>(), 0..12)), 0..16),
    ) {
        let mut r = Vp8NumberingRewriter::default();
        for (source, payload) in packets {
            let mut out = payload.clone();
            let rewritten = r.rewrite(source, &mut out);
            let before = Vp8Descriptor::parse(&payload);
            prop_assert_eq!(rewritten, before.is_some());
            let after = Vp8Descriptor::parse(&out);
            // The same descriptor layout and everything but the two numbers unchanged.
            let same_shape = |d: Vp8Descriptor| Vp8Descriptor {
                picture_id: d.picture_id.map(|_| 0),
                tl0_pic_idx: d.tl0_pic_idx.map(|_| 0),
                ..d
            };
            prop_assert_eq!(before.map(same_shape), after.map(same_shape));
            let len = before.map_or(0, |d| d.len);
            prop_assert_eq!(&payload[len..], &out[len..]);
        }
    }
}

/// A VP9 payload in non-flexible mode with `L`: picture id 5, TID 2 with U, SID 1 with D,
/// TL0PICIDX 7 (RFC 9628 §4.2), then two bytes of frame.
const VP9_LAYERED: [u8; 6] = [0xac, 0x05, 0x53, 0x07, 0xde, 0xad];

#[test]
fn vp9_svc_layer_comes_from_the_layer_indices() {
    let layer = Vp9Depacketizer.svc_layer(&VP9_LAYERED);
    assert_eq!(
        layer,
        Some(SvcLayer {
            spatial: 1,
            temporal: 2,
            switching_up: Some(true),
            inter_layer_dependency: Some(true),
        })
    );
    let codec = crate::media::codec::RtpCodec::new("vp9", 90_000, None);
    assert_eq!(svc_layer_of(&codec, &VP9_LAYERED), layer);
    // Without L (the packetizer's own single-layer descriptors): no layer.
    assert_eq!(Vp9Depacketizer.svc_layer(&[0x8c, 0x05, 0xde]), None);
    // Truncated before the layer byte.
    assert_eq!(Vp9Depacketizer.svc_layer(&VP9_LAYERED[..2]), None);
}

#[test]
fn av1_svc_layer_comes_from_the_first_obu_extension_header() {
    // W = 1, one OBU_FRAME with extension: temporal_id 1, spatial_id 2.
    let payload = [0x10, 0x34, 0x30, 0xaa, 0xbb];
    let layer = Av1Depacketizer::default().svc_layer(&payload);
    assert_eq!(
        layer,
        Some(SvcLayer {
            spatial: 2,
            temporal: 1,
            switching_up: None,
            inter_layer_dependency: None,
        })
    );
    let codec = crate::media::codec::RtpCodec::new("AV1", 90_000, None);
    assert_eq!(svc_layer_of(&codec, &payload), layer);
    // Z = 1, W = 2: the first element continues a fragment (its bytes are not a header),
    // the second OBU has no extension: no layer.
    let continued = [0xa0, 0x02, 0x34, 0x30, 0x30, 0x00];
    assert_eq!(Av1Depacketizer::default().svc_layer(&continued), None);
    // Without any extension header.
    assert_eq!(
        Av1Depacketizer::default().svc_layer(&[0x10, 0x30, 0xaa]),
        None
    );
    let vp8 = crate::media::codec::RtpCodec::new("VP8", 90_000, None);
    assert_eq!(svc_layer_of(&vp8, &payload), None);
}
