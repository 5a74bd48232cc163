//! Replays every committed fuzz corpus (`fuzz/seeds/<target>/`) and every past crash
//! input (`fuzz/regressions/<target>/`) through the same target bodies the fuzzer runs
//! (`rtcpeer::fuzzing`), on the stable toolchain, and checks that each target's corpus
//! still reaches its deep states (ICE past integrity into nomination, DTLS connected with
//! application data on both roles, SCTP DATA accepted and delivered, data channels opened
//! and closed, a connected peer connection receiving datagrams of every protocol, and
//! forged datagrams of every protocol signed or sealed with a connected pair's live keys
//! getting past each gate).
//!
//! `FUZZ_WRITE_SEEDS=1 cargo test -p rtcpeer-tests --test fuzz_replay` rewrites the seed
//! files from the project's code (needed when a protocol change alters a transcript).

use rtcpeer::fuzzing::{self, Milestones, Target};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// One base instant for the whole run, as in a fuzzing process: the targets that build an
/// expensive state once per base instant (a connected pair) then build it once.
fn start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    #[allow(clippy::disallowed_methods)] // the test supplies the base instant
    *START.get_or_init(Instant::now)
}

/// Writes (with `FUZZ_WRITE_SEEDS`) or checks the seed files of `target`.
fn seeds_are_committed(target: &Target) {
    let dir = fuzz_dir().join("seeds").join(target.name);
    let seeds = (target.seeds)(start());
    assert!(!seeds.is_empty(), "{}: no seeds", target.name);
    for (i, seed) in seeds.iter().enumerate() {
        let path = dir.join(format!("seed-{i:02}"));
        if std::env::var_os("FUZZ_WRITE_SEEDS").is_some() {
            std::fs::create_dir_all(&dir).expect("corpus directory");
            std::fs::write(&path, seed).expect("write seed");
        }
        let committed = std::fs::read(&path).unwrap_or_else(|_| {
            panic!("{} is missing; run with FUZZ_WRITE_SEEDS=1", path.display())
        });
        assert_eq!(
            &committed,
            seed,
            "{} differs from what the project's code makes now; regenerate with FUZZ_WRITE_SEEDS=1",
            path.display()
        );
    }
}

/// Runs every corpus and regression file of `target`; returns the milestones reached.
fn replay(target: &Target) -> Milestones {
    let mut reached = Milestones::new();
    let mut count = 0;
    for sub in ["seeds", "regressions"] {
        for path in files(&fuzz_dir().join(sub).join(target.name)) {
            let data = std::fs::read(&path).expect("readable input");
            reached.extend((target.run)(&data, start()));
            count += 1;
        }
    }
    assert!(count > 0, "{}: nothing to replay", target.name);
    reached
}

fn replay_reaches_deep_states(name: &str) {
    let target = fuzzing::target(name).expect("known target");
    seeds_are_committed(target);
    let reached = replay(target);
    let missing: Vec<_> = target
        .deep
        .iter()
        .filter(|m| !reached.contains(*m))
        .collect();
    assert!(
        missing.is_empty(),
        "{name}: corpus no longer reaches {missing:?} (reached {reached:?})"
    );
}

#[test]
fn every_target_has_a_replay_test() {
    let here = include_str!("fuzz_replay.rs");
    for t in fuzzing::TARGETS {
        assert!(
            here.contains(&format!("\"{}\"", t.name)),
            "{} has no test",
            t.name
        );
    }
}

#[test]
fn bwe_corpus_reports_probes_overuses_and_stays_bounded() {
    replay_reaches_deep_states("bwe");
}

#[test]
fn loss_recovery_corpus_nacks_gives_up_overflows_and_resends_within_bounds() {
    replay_reaches_deep_states("loss_recovery");
}

#[test]
fn depacketize_corpus_depacketizes_frames_of_every_codec() {
    replay_reaches_deep_states("depacketize");
}

#[test]
fn assembler_corpus_assembles_video_and_audio_and_reports_a_loss() {
    replay_reaches_deep_states("assembler");
}

#[test]
fn turn_stream_corpus_frames_stun_and_padded_channel_data_in_pieces_and_stops_at_garbage() {
    replay_reaches_deep_states("turn_stream");
}

#[test]
fn stun_corpus_parses_and_verifies_integrity() {
    replay_reaches_deep_states("stun");
}

#[test]
fn sdp_corpus_parses_and_round_trips() {
    replay_reaches_deep_states("sdp");
}

#[test]
fn dcep_corpus_parses_open_and_ack() {
    replay_reaches_deep_states("dcep");
}

#[test]
fn rtp_corpus_parses_headers_and_extensions() {
    replay_reaches_deep_states("rtp");
}

#[test]
fn rtcp_corpus_parses_and_re_encodes() {
    replay_reaches_deep_states("rtcp");
}

#[test]
fn srtp_corpus_round_trips_rtp_and_rtcp() {
    replay_reaches_deep_states("srtp");
}

#[test]
fn ice_corpus_gets_past_integrity_into_nomination_on_both_roles() {
    replay_reaches_deep_states("ice_agent");
}

#[test]
fn dtls_corpus_connects_and_carries_application_data_on_both_roles() {
    replay_reaches_deep_states("dtls");
}

#[test]
fn sctp_corpus_has_fuzzed_data_accepted_and_delivered() {
    replay_reaches_deep_states("sctp");
}

#[test]
fn datachannel_corpus_opens_uses_and_closes_channels() {
    replay_reaches_deep_states("datachannel");
}

#[test]
fn jsep_corpus_negotiates_renegotiates_and_rolls_back() {
    replay_reaches_deep_states("jsep");
}

#[test]
fn peer_connection_corpus_feeds_every_protocol_to_a_connected_peer() {
    replay_reaches_deep_states("peer_connection");
}

#[test]
fn pc_connected_corpus_gets_forged_datagrams_of_every_protocol_past_their_gates() {
    replay_reaches_deep_states("pc_connected");
}

#[test]
fn mdns_corpus_round_trips_questions_and_addresses_and_refuses_dotted_labels() {
    replay_reaches_deep_states("mdns");
}
