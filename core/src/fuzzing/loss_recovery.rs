//! The `loss_recovery` target: the receiver's NACK list and the sender's packet history
//! under arbitrary arrivals (reordered, lost, duplicated, wrapping, jumping) and arbitrary
//! NACK requests, every step checked against a model (see `media::recovery_check`: no
//! NACK for a packet that arrived, no resend of a packet not held, both within their
//! bounds).

use super::{Milestones, Target};
use crate::media::recovery_check::{RecoveryCheck, decode_ops};
use std::time::Instant;

pub(super) const TARGET: Target = Target {
    name: "loss_recovery",
    run,
    seeds,
    deep: &[
        "nack_sent",
        "nack_given_up",
        "nack_keyframe_needed",
        "history_resent",
        "history_refused_unknown",
        "history_byte_limit",
    ],
};

fn run(data: &[u8], now: Instant) -> Milestones {
    let mut check = RecoveryCheck::new(now);
    for op in decode_ops(data) {
        check.apply(op);
    }
    let r = check.reached;
    [
        (r.nack_sent, "nack_sent"),
        (r.given_up, "nack_given_up"),
        (r.keyframe_needed, "nack_keyframe_needed"),
        (r.resent, "history_resent"),
        (r.refused_unknown, "history_refused_unknown"),
        (r.byte_limit, "history_byte_limit"),
    ]
    .into_iter()
    .filter_map(|(hit, name)| hit.then_some(name))
    .collect()
}

/// Op bytes as [`decode_ops`] reads them (an absolute sequence number each).
fn arrive(out: &mut Vec<u8>, seq: u16) {
    out.push(0);
    out.extend_from_slice(&seq.to_be_bytes());
}

fn wait(out: &mut Vec<u8>, ms: u8) {
    out.extend_from_slice(&[1, 0, 0, ms]);
}

fn take(out: &mut Vec<u8>, limit: u8) {
    out.extend_from_slice(&[2, 0, 0, limit]);
}

fn send(out: &mut Vec<u8>, seq: u16, len: u16) {
    out.push(3);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.push(seq as u8);
}

fn nacked(out: &mut Vec<u8>, seq: u16) {
    out.push(4);
    out.extend_from_slice(&seq.to_be_bytes());
}

fn seeds(_: Instant) -> Vec<Vec<u8>> {
    // Losses across the wrap, NACKed until given up, then a gap over the list bound.
    let mut receiver = Vec::new();
    for seq in [65_530u16, 65_531, 65_534, 2, 1, 1, 6] {
        arrive(&mut receiver, seq);
        take(&mut receiver, 8);
    }
    for _ in 0..12 {
        wait(&mut receiver, 60);
        take(&mut receiver, 100);
    }
    arrive(&mut receiver, 3000);
    take(&mut receiver, 100);
    // A history filled past its byte budget, NACKs for held, resent and unknown packets.
    let mut sender = Vec::new();
    for seq in 0..1100u16 {
        send(&mut sender, seq, 4000);
    }
    for seq in [1099u16, 1099, 5, 40_000] {
        nacked(&mut sender, seq);
    }
    wait(&mut sender, 100);
    nacked(&mut sender, 1099);
    vec![receiver, sender]
}
