//! Header extensions: read, offer with ids stable per URI, answer with the offer's ids, write.

use super::{offer, section};
use crate::media::codec::{
    HeaderExtensionConfig, MediaCodecs, answer_extensions, offer_extensions, read_extensions, uri,
    write_extensions,
};
use crate::sdp::MediaKind;

fn pair(id: u8, uri: &str) -> (u8, String) {
    (id, uri.to_owned())
}

#[test]
fn reads_chromium_video_extensions_in_order() {
    let exts = read_extensions(&section("chromium", MediaKind::Video));
    let ids: Vec<u8> = exts.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [14, 2, 13, 3, 5, 6, 7, 8, 4, 10, 11]);
    assert_eq!(exts[0], pair(14, uri::TOFFSET));
}

#[test]
fn default_offer_uses_chromiums_ids() {
    let local = MediaCodecs::default();
    assert_eq!(
        offer_extensions(&local, &MediaKind::Audio),
        [
            pair(1, uri::AUDIO_LEVEL),
            pair(2, uri::ABS_SEND_TIME),
            pair(3, uri::TRANSPORT_CC),
            pair(4, uri::MID),
            pair(9, uri::ABS_CAPTURE_TIME),
        ]
    );
    assert_eq!(
        offer_extensions(&local, &MediaKind::Video),
        [
            pair(2, uri::ABS_SEND_TIME),
            pair(3, uri::TRANSPORT_CC),
            pair(4, uri::MID),
            pair(10, uri::RTP_STREAM_ID),
            pair(11, uri::REPAIRED_RTP_STREAM_ID),
            pair(13, uri::VIDEO_ORIENTATION),
            pair(5, uri::PLAYOUT_DELAY),
            pair(9, uri::ABS_CAPTURE_TIME),
        ]
    );
    assert!(offer_extensions(&local, &MediaKind::Application).is_empty());
}

/// One id means one URI in a BUNDLE group: across the audio and video sections of one offer
/// no id names two URIs and no URI has two ids, unknown URIs included.
#[test]
fn offered_ids_are_one_to_one_with_uris_across_kinds() {
    let mut local = MediaCodecs::default();
    let custom = |uri: &str, audio, video| HeaderExtensionConfig {
        uri: uri.into(),
        audio,
        video,
    };
    local
        .extensions
        .insert(0, custom("urn:example:video-only", false, true));
    local
        .extensions
        .push(custom("urn:example:audio-only", true, false));
    local
        .extensions
        .push(custom("urn:example:both", true, true));
    local.extensions.push(custom(uri::MID, true, true));
    let audio = offer_extensions(&local, &MediaKind::Audio);
    let video = offer_extensions(&local, &MediaKind::Video);
    let all: Vec<&(u8, String)> = audio.iter().chain(&video).collect();
    for (id, uri) in &all {
        assert!(all.iter().all(|(i, u)| (i == id) == (u == uri)), "{all:?}");
    }
    assert_eq!(audio.iter().filter(|(_, u)| u == uri::MID).count(), 1);
    assert!(all.iter().all(|(id, _)| (1..=14).contains(id)));
    assert!(video.contains(&pair(6, "urn:example:video-only")));
    assert!(audio.contains(&pair(7, "urn:example:audio-only")));
    assert!(
        audio.contains(&pair(8, "urn:example:both"))
            && video.contains(&pair(8, "urn:example:both"))
    );
}

#[test]
fn more_unknown_uris_than_one_byte_ids_take_two_byte_ids_skipping_15() {
    let local = MediaCodecs {
        extensions: (0..20)
            .map(|i| HeaderExtensionConfig {
                uri: format!("urn:example:{i}"),
                audio: true,
                video: false,
            })
            .collect(),
        ..MediaCodecs::default()
    };
    let ids: Vec<u8> = offer_extensions(&local, &MediaKind::Audio)
        .iter()
        .map(|(id, _)| *id)
        .collect();
    let expected: Vec<u8> = (1..=14).chain(16..=21).collect();
    assert_eq!(ids, expected);
}

#[test]
fn answer_keeps_offered_ids_of_supported_uris() {
    let local = MediaCodecs::default();
    let offered = read_extensions(&section("aiortc", MediaKind::Audio));
    assert_eq!(
        answer_extensions(&local, &MediaKind::Audio, &offered),
        [pair(1, uri::MID), pair(2, uri::AUDIO_LEVEL)]
    );
    let offered = read_extensions(&section("chromium", MediaKind::Video));
    assert_eq!(
        answer_extensions(&local, &MediaKind::Video, &offered),
        [
            pair(2, uri::ABS_SEND_TIME),
            pair(13, uri::VIDEO_ORIENTATION),
            pair(3, uri::TRANSPORT_CC),
            pair(5, uri::PLAYOUT_DELAY),
            pair(4, uri::MID),
            pair(10, uri::RTP_STREAM_ID),
            pair(11, uri::REPAIRED_RTP_STREAM_ID),
        ]
    );
}

#[test]
fn answer_refuses_uris_of_the_other_kind_and_repeats() {
    let local = MediaCodecs::default();
    let offered = [
        pair(1, uri::AUDIO_LEVEL),
        pair(4, uri::MID),
        pair(4, uri::TRANSPORT_CC),
        pair(5, uri::MID),
    ];
    assert_eq!(
        answer_extensions(&local, &MediaKind::Video, &offered),
        [pair(4, uri::MID)]
    );
}

#[test]
fn write_replaces_extmaps_in_place_and_reads_back() {
    let mut m = section("chromium", MediaKind::Video);
    let before = m
        .attributes
        .iter()
        .position(|a| matches!(a, crate::sdp::Attribute::Extmap(_)));
    let exts = vec![pair(4, uri::MID), pair(3, uri::TRANSPORT_CC)];
    write_extensions(&mut m, &exts);
    assert_eq!(read_extensions(&m), exts);
    let after = m
        .attributes
        .iter()
        .position(|a| matches!(a, crate::sdp::Attribute::Extmap(_)));
    assert_eq!(before, after);
}

#[test]
fn write_into_a_section_without_extmaps_follows_mid() {
    let mut m = section("chromium", MediaKind::Application);
    write_extensions(&mut m, &[pair(4, uri::MID)]);
    let mid = m
        .attributes
        .iter()
        .position(|a| matches!(a, crate::sdp::Attribute::Mid(_)));
    let ext = m
        .attributes
        .iter()
        .position(|a| matches!(a, crate::sdp::Attribute::Extmap(_)));
    assert_eq!(ext, mid.map(|i| i + 1));
}

#[test]
fn chromium_offer_already_uses_the_table_ids() {
    let local = MediaCodecs::default();
    for m in offer("chromium").media {
        let ours = offer_extensions(&local, &m.kind);
        for (id, uri) in read_extensions(&m) {
            if let Some((our_id, _)) = ours.iter().find(|(_, u)| *u == uri) {
                assert_eq!(*our_id, id, "{uri}");
            }
        }
    }
}
