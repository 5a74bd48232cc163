//! Fuzz SRTP/SRTCP unprotect with every profile: arbitrary bytes must never panic, never
//! authenticate, and never create per-SSRC state. The first byte picks the profile; the
//! rest is the packet. A protect/unprotect round trip of the same bytes must restore them
//! whenever protect accepts the packet.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcpeer::srtp::{SrtpConfig, SrtpContext, SrtpProfile};

const PROFILES: [SrtpProfile; 4] = [
    SrtpProfile::AES128_CM_HMAC_SHA1_80,
    SrtpProfile::AES128_CM_HMAC_SHA1_32,
    SrtpProfile::AEAD_AES_128_GCM,
    SrtpProfile::AEAD_AES_256_GCM,
];

fn context(profile: SrtpProfile) -> SrtpContext {
    let key_len = if profile == SrtpProfile::AEAD_AES_256_GCM { 32 } else { 16 };
    let salt_len = if profile.0 >= 7 { 12 } else { 14 };
    SrtpContext::new(profile, &vec![1; key_len], &vec![2; salt_len], &SrtpConfig::default())
        .expect("valid lengths")
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, packet)) = data.split_first() else {
        return;
    };
    let profile = PROFILES[usize::from(selector) % PROFILES.len()];
    let mut rx = context(profile);
    let mut buf = packet.to_vec();
    let _ = rx.unprotect_rtp(&mut buf);
    let mut buf = packet.to_vec();
    let _ = rx.unprotect_rtcp(&mut buf);
    assert_eq!(rx.stream_count(), 0, "unauthenticated bytes created state");

    let mut tx = context(profile);
    let mut rx = context(profile);
    let mut buf = packet.to_vec();
    if tx.protect_rtp(&mut buf).is_ok() {
        rx.unprotect_rtp(&mut buf).expect("own packet unprotects");
        assert_eq!(buf, packet);
    }
    let mut buf = packet.to_vec();
    if tx.protect_rtcp(&mut buf).is_ok() {
        rx.unprotect_rtcp(&mut buf).expect("own packet unprotects");
        assert_eq!(buf, packet);
    }
});
