//! Known-answer vectors (RFC 7714 §16/§17, libsrtp's `srtp_validate` packets, which go
//! through the RFC 3711 KDF), round trips, index and replay behaviour, and property tests.
//! The RFC 3711 Appendix B vectors are in `kdf.rs`.

use super::*;
use proptest::prelude::*;

/// Hex to bytes, ignoring whitespace.
pub(super) fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

const ALL_PROFILES: [SrtpProfile; 4] = [
    SrtpProfile::AES128_CM_HMAC_SHA1_80,
    SrtpProfile::AES128_CM_HMAC_SHA1_32,
    SrtpProfile::AEAD_AES_128_GCM,
    SrtpProfile::AEAD_AES_256_GCM,
];

// ---- RFC 7714 §16 (SRTP) and §17 (SRTCP): session key and salt given directly ----

const RFC7714_KEY_128: &str = "000102030405060708090a0b0c0d0e0f";
const RFC7714_KEY_256: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const RFC7714_SALT: &str = "517569642070726f2071756f";
const RFC7714_RTP: &str = "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973
    20646976 69736120 696e2070 61727465 73207472 6573";
const RFC7714_RTCP: &str = "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930
    4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef";
const RFC7714_RTCP_SSRC: u32 = 0x4d61_7273;

fn rfc7714_context(profile: SrtpProfile) -> SrtpContext {
    let key = if profile == SrtpProfile::AEAD_AES_128_GCM {
        RFC7714_KEY_128
    } else {
        RFC7714_KEY_256
    };
    SrtpContext::from_gcm_session_keys(profile, &unhex(key), &unhex(RFC7714_SALT))
}

fn assert_rtp_vector(ctx: impl Fn() -> SrtpContext, plain: &[u8], protected: &[u8]) {
    let mut packet = plain.to_vec();
    ctx().protect_rtp(&mut packet).unwrap();
    assert_eq!(packet, protected, "protect");
    let mut receiver = ctx();
    receiver.unprotect_rtp(&mut packet).unwrap();
    assert_eq!(packet, plain, "unprotect");
}

#[test]
fn rfc7714_16_1_srtp_aead_aes_128_gcm() {
    let protected = unhex(
        "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f
         42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce",
    );
    let ctx = || rfc7714_context(SrtpProfile::AEAD_AES_128_GCM);
    assert_rtp_vector(ctx, &unhex(RFC7714_RTP), &protected);
}

#[test]
fn rfc7714_16_2_srtp_aead_aes_256_gcm() {
    let protected = unhex(
        "8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238 9a58e2f3
         b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13",
    );
    let ctx = || rfc7714_context(SrtpProfile::AEAD_AES_256_GCM);
    assert_rtp_vector(ctx, &unhex(RFC7714_RTP), &protected);
}

fn assert_rtcp_encrypted_vector(profile: SrtpProfile, protected: &[u8]) {
    let plain = unhex(RFC7714_RTCP);
    let mut sender = rfc7714_context(profile);
    sender.set_next_rtcp_index(RFC7714_RTCP_SSRC, 0x5d4);
    let mut packet = plain.clone();
    sender.protect_rtcp(&mut packet).unwrap();
    assert_eq!(packet, protected, "protect");
    rfc7714_context(profile)
        .unprotect_rtcp(&mut packet)
        .unwrap();
    assert_eq!(packet, plain, "unprotect");
}

#[test]
fn rfc7714_17_1_srtcp_aead_aes_128_gcm_encrypted() {
    let protected = unhex(
        "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1
         730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4",
    );
    assert_rtcp_encrypted_vector(SrtpProfile::AEAD_AES_128_GCM, &protected);
}

#[test]
fn rfc7714_17_2_srtcp_aead_aes_256_gcm_encrypted() {
    let protected = unhex(
        "81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50 a2eaa5c1
         110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be 800005d4",
    );
    assert_rtcp_encrypted_vector(SrtpProfile::AEAD_AES_256_GCM, &protected);
}

#[test]
fn rfc7714_17_3_and_17_4_srtcp_unencrypted_is_authenticated_and_accepted() {
    for (profile, trailer) in [
        (
            SrtpProfile::AEAD_AES_128_GCM,
            "841dd968 3dd78ec9 2ae58790 125f62b3 000005d4",
        ),
        (
            SrtpProfile::AEAD_AES_256_GCM,
            "91db4afb feee5a97 8fab4393 ed2615fe 000005d4",
        ),
    ] {
        let plain = unhex(RFC7714_RTCP);
        let mut packet = [plain.clone(), unhex(trailer)].concat();
        let mut tampered = packet.clone();
        rfc7714_context(profile)
            .unprotect_rtcp(&mut packet)
            .unwrap();
        assert_eq!(packet, plain);
        // The unencrypted body is authenticated too.
        tampered[20] ^= 1;
        assert_eq!(
            rfc7714_context(profile).unprotect_rtcp(&mut tampered),
            Err(SrtpError::AuthenticationFailed)
        );
    }
}

// ---- libsrtp `srtp_validate` packets: master key and salt through the KDF ----

const CM_MASTER_KEY: &str = "e1f97a0d3e018be0d64fa32c06de4139";
const CM_MASTER_SALT: &str = "0ec675ad498afeebb6960b3aabe6";
const GCM_MASTER_KEY: &str = "000102030405060708090a0b0c0d0e0f";
const GCM_MASTER_SALT: &str = "a0a1a2a3a4a5a6a7a8a9aaab";
const VALIDATE_RTP: &str = "800f1234 decafbad cafebabe abababab abababab abababab abababab";
const VALIDATE_RTCP: &str = "81c8000b cafebabe abababab abababab abababab abababab";

fn master_context(profile: SrtpProfile) -> SrtpContext {
    let (key, salt) = match profile {
        SrtpProfile::AEAD_AES_128_GCM => (GCM_MASTER_KEY, GCM_MASTER_SALT),
        _ => (CM_MASTER_KEY, CM_MASTER_SALT),
    };
    SrtpContext::new(profile, &unhex(key), &unhex(salt), &SrtpConfig::default()).unwrap()
}

fn assert_rtcp_index_1_vector(profile: SrtpProfile, protected: &[u8]) {
    let plain = unhex(VALIDATE_RTCP);
    let mut sender = master_context(profile);
    sender.set_next_rtcp_index(0xcafe_babe, 1);
    let mut packet = plain.clone();
    sender.protect_rtcp(&mut packet).unwrap();
    assert_eq!(packet, protected, "protect");
    master_context(profile).unprotect_rtcp(&mut packet).unwrap();
    assert_eq!(packet, plain, "unprotect");
}

#[test]
fn libsrtp_validate_aes128_cm_hmac_sha1_80() {
    let protected = unhex(
        "800f1234 decafbad cafebabe 4e55dc4c e79978d8 8ca4d215 949d2402 b78d6acc 99ea179b 8dbb",
    );
    let ctx = || master_context(SrtpProfile::AES128_CM_HMAC_SHA1_80);
    assert_rtp_vector(ctx, &unhex(VALIDATE_RTP), &protected);
    let rtcp = unhex(
        "81c8000b cafebabe 7128035b e487b9bd bef89041 f977a5a8 80000001 993e08cd 54d6c123 0798",
    );
    assert_rtcp_index_1_vector(SrtpProfile::AES128_CM_HMAC_SHA1_80, &rtcp);
}

#[test]
fn libsrtp_validate_aes128_cm_hmac_sha1_32_has_short_srtp_tag_and_long_srtcp_tag() {
    let protected =
        unhex("800f1234 decafbad cafebabe 4e55dc4c e79978d8 8ca4d215 949d2402 b78d6acc");
    let ctx = || master_context(SrtpProfile::AES128_CM_HMAC_SHA1_32);
    assert_rtp_vector(ctx, &unhex(VALIDATE_RTP), &protected);
    let rtcp = unhex(
        "81c8000b cafebabe 7128035b e487b9bd bef89041 f977a5a8 80000001 993e08cd 54d6c123 0798",
    );
    assert_rtcp_index_1_vector(SrtpProfile::AES128_CM_HMAC_SHA1_32, &rtcp);
}

#[test]
fn libsrtp_validate_aead_aes_128_gcm_through_the_kdf() {
    let protected = unhex(
        "800f1234 decafbad cafebabe c5002ede 04cfdd2e b91159e0 880aa06e d2976826 f796b201
         df3131a1 27e8a392",
    );
    let ctx = || master_context(SrtpProfile::AEAD_AES_128_GCM);
    assert_rtp_vector(ctx, &unhex(VALIDATE_RTP), &protected);
    let rtcp = unhex(
        "81c8000b cafebabe c98b8b5d f0392a55 852b6c21 ac8e7025 c52c6fbe a2b3b446 ea31123b
         a88ce61e 80000001",
    );
    assert_rtcp_index_1_vector(SrtpProfile::AEAD_AES_128_GCM, &rtcp);
}

// ---- construction ----

#[test]
fn keying_material_gives_the_client_keys_to_the_client_outbound() {
    for profile in ALL_PROFILES {
        let len = profile.keying_material_len().unwrap();
        let material: Vec<u8> = (0..len as u8).collect();
        let config = SrtpConfig::default();
        let mut client =
            SrtpSession::from_keying_material(profile, &material, true, &config).unwrap();
        let mut server =
            SrtpSession::from_keying_material(profile, &material, false, &config).unwrap();
        let plain = rtp_packet(7, 0x1111, b"hello");
        let mut packet = plain.clone();
        client.outbound.protect_rtp(&mut packet).unwrap();
        let mut copy = packet.clone();
        server.inbound.unprotect_rtp(&mut packet).unwrap();
        assert_eq!(packet, plain, "{profile:?}");
        // The client's own inbound context has the other key.
        assert_eq!(
            client.inbound.unprotect_rtp(&mut copy),
            Err(SrtpError::AuthenticationFailed),
            "{profile:?}"
        );
        // And the other direction.
        let mut packet = plain.clone();
        server.outbound.protect_rtp(&mut packet).unwrap();
        client.inbound.unprotect_rtp(&mut packet).unwrap();
        assert_eq!(packet, plain);
    }
}

#[test]
fn keying_material_of_the_wrong_length_is_refused() {
    let config = SrtpConfig::default();
    let profile = SrtpProfile::AEAD_AES_128_GCM;
    assert_eq!(
        SrtpSession::from_keying_material(profile, &[0; 55], true, &config).unwrap_err(),
        SrtpError::KeyLength
    );
    assert_eq!(
        SrtpSession::from_keying_material(SrtpProfile(3), &[0; 60], true, &config).unwrap_err(),
        SrtpError::UnsupportedProfile(3)
    );
}

#[test]
fn bad_key_lengths_and_config_are_refused() {
    let config = SrtpConfig::default();
    let cm = SrtpProfile::AES128_CM_HMAC_SHA1_80;
    assert_eq!(
        SrtpContext::new(cm, &[0; 16], &[0; 12], &config).unwrap_err(),
        SrtpError::KeyLength
    );
    assert_eq!(
        SrtpContext::new(SrtpProfile::AEAD_AES_256_GCM, &[0; 16], &[0; 12], &config).unwrap_err(),
        SrtpError::KeyLength
    );
    let small = SrtpConfig {
        replay_window: 63,
        ..SrtpConfig::default()
    };
    assert_eq!(
        SrtpContext::new(cm, &[0; 16], &[0; 14], &small).unwrap_err(),
        SrtpError::InvalidConfig
    );
    let none = SrtpConfig {
        max_streams: 0,
        ..SrtpConfig::default()
    };
    assert_eq!(
        SrtpContext::new(cm, &[0; 16], &[0; 14], &none).unwrap_err(),
        SrtpError::InvalidConfig
    );
}

// ---- round trips, index and replay ----

fn pair(profile: SrtpProfile, config: &SrtpConfig) -> (SrtpContext, SrtpContext) {
    let (key_len, salt_len) = transform::master_lengths(profile).unwrap();
    let key: Vec<u8> = (0..key_len as u8).map(|b| b.wrapping_mul(7)).collect();
    let salt: Vec<u8> = (0..salt_len as u8).map(|b| b ^ 0x5a).collect();
    (
        SrtpContext::new(profile, &key, &salt, config).unwrap(),
        SrtpContext::new(profile, &key, &salt, config).unwrap(),
    )
}

/// An RTP packet with two CSRCs and a one-word header extension.
fn rtp_packet(seq: u16, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x92, 0x60];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&1234u32.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]);
    p.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0]);
    p.extend_from_slice(payload);
    p
}

fn rtcp_packet(ssrc: u32, body: &[u8]) -> Vec<u8> {
    let mut p = vec![0x81, 0xc9, 0, 0];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(body);
    p
}

#[test]
fn every_profile_round_trips_rtp_and_rtcp() {
    for profile in ALL_PROFILES {
        let (mut tx, mut rx) = pair(profile, &SrtpConfig::default());
        for seq in 100..110u16 {
            let plain = rtp_packet(seq, 0xabcd, &[seq as u8; 50]);
            let mut packet = plain.clone();
            tx.protect_rtp(&mut packet).unwrap();
            assert_eq!(packet.len(), plain.len() + tx.rtp_overhead());
            assert_ne!(packet[28..78], plain[28..], "payload encrypted");
            assert_eq!(packet[..28], plain[..28], "header in clear");
            rx.unprotect_rtp(&mut packet).unwrap();
            assert_eq!(packet, plain, "{profile:?}");

            let plain = rtcp_packet(0xabcd, &[seq as u8; 24]);
            let mut packet = plain.clone();
            tx.protect_rtcp(&mut packet).unwrap();
            assert_eq!(packet.len(), plain.len() + tx.rtcp_overhead());
            rx.unprotect_rtcp(&mut packet).unwrap();
            assert_eq!(packet, plain, "{profile:?}");
        }
    }
}

#[test]
fn session_keys_are_derived_at_the_first_packet_of_each_direction() {
    for profile in ALL_PROFILES {
        let (mut tx, mut rx) = pair(profile, &SrtpConfig::default());
        assert!(!tx.keys_derived() && !rx.keys_derived(), "{profile:?}");
        let expected_overhead = match profile {
            SrtpProfile::AES128_CM_HMAC_SHA1_32 => (4, 14),
            SrtpProfile::AES128_CM_HMAC_SHA1_80 => (10, 14),
            _ => (16, 20),
        };
        assert_eq!((tx.rtp_overhead(), tx.rtcp_overhead()), expected_overhead);
        let mut packet = rtp_packet(1, 7, &[1; 20]);
        tx.protect_rtp(&mut packet).unwrap();
        assert!(tx.keys_derived() && !rx.keys_derived(), "{profile:?}");
        rx.unprotect_rtp(&mut packet).unwrap();
        assert!(rx.keys_derived(), "{profile:?}");
    }
}

#[test]
fn rollover_counter_steps_when_the_sequence_number_wraps() {
    for profile in ALL_PROFILES {
        let (mut tx, mut rx) = pair(profile, &SrtpConfig::default());
        let (mut fresh, _) = pair(profile, &SrtpConfig::default());
        for seq in (65530..=65535).chain(0..5) {
            let plain = rtp_packet(seq, 9, b"payload");
            let mut packet = plain.clone();
            tx.protect_rtp(&mut packet).unwrap();
            if seq == 0 {
                // A context that starts at SEQ 0 uses ROC 0: the wrapped packet (ROC 1)
                // must be encrypted differently.
                let mut first = plain.clone();
                fresh.protect_rtp(&mut first).unwrap();
                assert_ne!(first, packet, "{profile:?}: ROC did not step");
            }
            rx.unprotect_rtp(&mut packet).unwrap();
            assert_eq!(packet, plain, "{profile:?} seq {seq}");
        }
    }
}

#[test]
fn packets_reordered_across_the_wrap_are_accepted() {
    for profile in ALL_PROFILES {
        let (mut tx, mut rx) = pair(profile, &SrtpConfig::default());
        let seqs = [65534u16, 65535, 0, 1, 2];
        let packets: Vec<(Vec<u8>, Vec<u8>)> = seqs
            .iter()
            .map(|&seq| {
                let plain = rtp_packet(seq, 9, &seq.to_be_bytes());
                let mut packet = plain.clone();
                tx.protect_rtp(&mut packet).unwrap();
                (plain, packet)
            })
            .collect();
        for i in [0, 2, 4, 3, 1] {
            let (plain, protected) = &packets[i];
            let mut packet = protected.clone();
            rx.unprotect_rtp(&mut packet).unwrap();
            assert_eq!(&packet, plain, "{profile:?} #{i}");
        }
        // The sender also accepts being handed a pre-wrap sequence number late.
        let mut late = rtp_packet(65533, 9, b"late");
        tx.protect_rtp(&mut late).unwrap();
        rx.unprotect_rtp(&mut late).unwrap();
    }
}

#[test]
fn replayed_and_too_old_packets_are_refused() {
    for profile in ALL_PROFILES {
        let (mut tx, mut rx) = pair(profile, &SrtpConfig::default());
        let mut sent = Vec::new();
        for seq in 0..200u16 {
            let mut packet = rtp_packet(seq, 5, b"x");
            tx.protect_rtp(&mut packet).unwrap();
            sent.push(packet);
        }
        // Receive 0, then 199: 0 is now outside the 128-packet window.
        let mut p = sent[0].clone();
        rx.unprotect_rtp(&mut p).unwrap();
        let mut p = sent[0].clone();
        assert_eq!(rx.unprotect_rtp(&mut p), Err(SrtpError::Replayed));
        let mut p = sent[199].clone();
        rx.unprotect_rtp(&mut p).unwrap();
        let mut p = sent[71].clone();
        assert_eq!(
            rx.unprotect_rtp(&mut p),
            Err(SrtpError::Replayed),
            "too old"
        );
        let mut p = sent[72].clone();
        rx.unprotect_rtp(&mut p).unwrap();
        let mut p = sent[72].clone();
        assert_eq!(rx.unprotect_rtp(&mut p), Err(SrtpError::Replayed));

        let mut rtcp = rtcp_packet(5, &[1; 8]);
        tx.protect_rtcp(&mut rtcp).unwrap();
        let mut p = rtcp.clone();
        rx.unprotect_rtcp(&mut p).unwrap();
        assert_eq!(rx.unprotect_rtcp(&mut rtcp), Err(SrtpError::Replayed));
    }
}

#[test]
fn a_bad_tag_is_refused_and_changes_nothing() {
    for profile in ALL_PROFILES {
        let (mut tx, mut rx) = pair(profile, &SrtpConfig::default());
        let mut first = rtp_packet(10, 5, b"first");
        tx.protect_rtp(&mut first).unwrap();
        let mut next = rtp_packet(11, 5, b"next");
        tx.protect_rtp(&mut next).unwrap();
        rx.unprotect_rtp(&mut first).unwrap();
        // A forged packet far ahead (it would move the window and the ROC guess).
        let mut forged = rtp_packet(40_000, 5, b"forged");
        tx.protect_rtp(&mut forged).unwrap();
        let last = forged.len() - 1;
        forged[last] ^= 0x01;
        assert_eq!(
            rx.unprotect_rtp(&mut forged),
            Err(SrtpError::AuthenticationFailed)
        );
        // Packet 11 is still fresh and its index still guessed with ROC 0.
        rx.unprotect_rtp(&mut next).unwrap();
        // A forged packet of an unknown SSRC creates no stream.
        let mut stranger = rtp_packet(1, 77, b"stranger");
        tx.protect_rtp(&mut stranger).unwrap();
        stranger[20] ^= 0x80;
        let streams = rx.stream_count();
        assert_eq!(
            rx.unprotect_rtp(&mut stranger),
            Err(SrtpError::AuthenticationFailed)
        );
        assert_eq!(rx.stream_count(), streams);
        // SRTCP: a forged index far ahead does not move the window.
        let mut ok = rtcp_packet(5, &[2; 8]);
        tx.protect_rtcp(&mut ok).unwrap();
        let mut forged = ok.clone();
        let at = match profile {
            SrtpProfile::AEAD_AES_128_GCM | SrtpProfile::AEAD_AES_256_GCM => forged.len() - 4,
            _ => forged.len() - 14,
        };
        forged[at..at + 4].copy_from_slice(&0x8000_1000u32.to_be_bytes());
        assert_eq!(
            rx.unprotect_rtcp(&mut forged),
            Err(SrtpError::AuthenticationFailed)
        );
        rx.unprotect_rtcp(&mut ok).unwrap();
    }
}

#[test]
fn ssrcs_beyond_max_streams_are_refused() {
    let config = SrtpConfig {
        max_streams: 2,
        ..SrtpConfig::default()
    };
    for profile in ALL_PROFILES {
        let (mut tx, mut rx) = pair(profile, &config);
        let (mut other_tx, _) = pair(profile, &config);
        for ssrc in [1, 2] {
            let mut p = rtp_packet(1, ssrc, b"a");
            tx.protect_rtp(&mut p).unwrap();
            rx.unprotect_rtp(&mut p).unwrap();
        }
        let mut p = rtp_packet(1, 3, b"a");
        assert_eq!(tx.protect_rtp(&mut p), Err(SrtpError::TooManyStreams));
        let mut p = rtcp_packet(3, b"");
        assert_eq!(tx.protect_rtcp(&mut p), Err(SrtpError::TooManyStreams));
        let mut p = rtp_packet(1, 3, b"a");
        other_tx.protect_rtp(&mut p).unwrap();
        assert_eq!(rx.unprotect_rtp(&mut p), Err(SrtpError::TooManyStreams));
        assert_eq!(rx.stream_count(), 2);
        // Known SSRCs keep working.
        let mut p = rtcp_packet(2, b"");
        tx.protect_rtcp(&mut p).unwrap();
        rx.unprotect_rtcp(&mut p).unwrap();
    }
}

#[test]
fn srtcp_index_exhaustion_is_reported() {
    let (mut tx, mut rx) = pair(SrtpProfile::AEAD_AES_128_GCM, &SrtpConfig::default());
    tx.set_next_rtcp_index(4, 0x7fff_ffff);
    let mut p = rtcp_packet(4, b"last");
    tx.protect_rtcp(&mut p).unwrap();
    rx.unprotect_rtcp(&mut p).unwrap();
    let mut p = rtcp_packet(4, b"none");
    assert_eq!(tx.protect_rtcp(&mut p), Err(SrtpError::IndexExhausted));
}

#[test]
fn short_and_malformed_packets_are_refused() {
    for profile in ALL_PROFILES {
        let (mut tx, mut rx) = pair(profile, &SrtpConfig::default());
        assert_eq!(
            tx.protect_rtp(&mut vec![0x80; 11]),
            Err(SrtpError::TooShort)
        );
        assert_eq!(
            tx.protect_rtcp(&mut vec![0x80; 7]),
            Err(SrtpError::TooShort)
        );
        assert_eq!(
            tx.protect_rtp(&mut vec![0x00; 12]),
            Err(SrtpError::Malformed)
        );
        // Header only, no room for a tag.
        assert_eq!(
            rx.unprotect_rtp(&mut rtp_packet(1, 1, b"")),
            Err(SrtpError::TooShort)
        );
        assert_eq!(
            rx.unprotect_rtcp(&mut rtcp_packet(1, b"")),
            Err(SrtpError::TooShort)
        );
    }
}

// ---- properties ----

fn contexts(profile: SrtpProfile) -> (SrtpContext, SrtpContext) {
    pair(profile, &SrtpConfig::default())
}

proptest! {
    #[test]
    fn unprotect_never_panics_on_random_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
        profile in 0..4usize,
    ) {
        let (_, mut rx) = contexts(ALL_PROFILES[profile]);
        let mut packet = bytes.clone();
        prop_assert!(rx.unprotect_rtp(&mut packet).is_err());
        let mut packet = bytes;
        prop_assert!(rx.unprotect_rtcp(&mut packet).is_err());
        prop_assert_eq!(rx.stream_count(), 0);
    }

    #[test]
    fn protect_then_unprotect_restores_any_packet(
        csrcs in proptest::collection::vec(any::<u32>(), 0..16),
        extension in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
        payload in proptest::collection::vec(any::<u8>(), 0..300),
        seq in any::<u16>(),
        ssrc in any::<u32>(),
        marker_pt in any::<u8>(),
        profile in 0..4usize,
    ) {
        let mut packet = vec![0x80 | csrcs.len() as u8, marker_pt];
        packet.extend_from_slice(&seq.to_be_bytes());
        packet.extend_from_slice(&[1, 2, 3, 4]);
        packet.extend_from_slice(&ssrc.to_be_bytes());
        for c in &csrcs {
            packet.extend_from_slice(&c.to_be_bytes());
        }
        if let Some(ext) = &extension {
            packet[0] |= 0x10;
            let words = ext.len().div_ceil(4);
            packet.extend_from_slice(&[0xbe, 0xde]);
            packet.extend_from_slice(&(words as u16).to_be_bytes());
            packet.extend_from_slice(ext);
            packet.resize(packet.len() + words * 4 - ext.len(), 0);
        }
        packet.extend_from_slice(&payload);
        let (mut tx, mut rx) = contexts(ALL_PROFILES[profile]);
        let plain = packet.clone();
        tx.protect_rtp(&mut packet).unwrap();
        rx.unprotect_rtp(&mut packet).unwrap();
        prop_assert_eq!(&packet, &plain);

        let mut rtcp = rtcp_packet(ssrc, &payload);
        let plain = rtcp.clone();
        tx.protect_rtcp(&mut rtcp).unwrap();
        rx.unprotect_rtcp(&mut rtcp).unwrap();
        prop_assert_eq!(rtcp, plain);
    }
}
