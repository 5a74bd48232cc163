//! A model check of loss recovery, shared by the property tests of [`nack`](super::nack)
//! and [`history`](super::history) and by the `loss_recovery` fuzz target: arbitrary
//! arrivals (reordered, lost, duplicated, wrapping at 65535, jumping far) and arbitrary NACK
//! requests are run through a [`NackGenerator`] and a [`SendHistory`], and every step
//! asserts their contracts:
//!
//! - the NACK list never exceeds [`MAX_LIST`](super::nack::MAX_LIST), a NACK never names a
//!   sequence number that arrived, and one NACK never names more than its limit;
//! - the history never holds more than [`HISTORY_BYTES`], and a resend gives exactly the
//!   packet last sent with that sequence number, never one it does not hold, and the same
//!   packet at most once per round-trip time.
//!
//! A broken contract panics (the fuzzer's finding, the property test's failure).

use super::history::{HISTORY_BYTES, SendHistory};
use super::nack::{MAX_AGE, MAX_LIST, NackGenerator, NackUpdate, extend};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// The round-trip time the check runs with.
pub(crate) const RTT: Duration = Duration::from_millis(40);

/// One step of a run.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    /// A packet with this sequence number arrives at the receiver.
    Arrive(u16),
    /// Time passes (milliseconds).
    Wait(u16),
    /// The receiver takes the NACKs due, at most this many.
    TakeNacks(u16),
    /// The sender sends a packet of this length (payload byte `fill`).
    Send { seq: u16, len: u16, fill: u8 },
    /// A NACK for this sequence number reaches the sender.
    Nacked(u16),
}

/// Which interesting states a run reached.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Reached {
    pub nack_sent: bool,
    pub keyframe_needed: bool,
    pub given_up: bool,
    pub resent: bool,
    pub refused_unknown: bool,
    pub byte_limit: bool,
}

/// The systems under check and the model they are checked against.
#[derive(Debug)]
pub(crate) struct RecoveryCheck {
    now: Instant,
    nack: NackGenerator,
    /// Extended sequence numbers that arrived, within [`MAX_AGE`] of the newest.
    arrived: BTreeSet<u64>,
    history: SendHistory,
    /// Per sequence number, the last packet sent with it (length, fill).
    sent: HashMap<u16, (u16, u8)>,
    /// When each sequence number was last resent.
    resent: HashMap<u16, Instant>,
    pub reached: Reached,
}

/// The packet the check sends for `(len, fill)`: a 12-byte header then the fill.
fn packet(seq: u16, len: u16, fill: u8) -> Vec<u8> {
    let mut p = vec![fill; usize::from(len).max(12)];
    p[..2].copy_from_slice(&seq.to_be_bytes());
    p
}

impl RecoveryCheck {
    pub fn new(now: Instant) -> Self {
        Self {
            now,
            nack: NackGenerator::default(),
            arrived: BTreeSet::new(),
            history: SendHistory::default(),
            sent: HashMap::new(),
            resent: HashMap::new(),
            reached: Reached::default(),
        }
    }

    /// Runs one step and checks every contract after it.
    pub fn apply(&mut self, op: Op) {
        match op {
            Op::Arrive(seq) => self.arrive(seq),
            Op::Wait(ms) => self.now += Duration::from_millis(u64::from(ms)),
            Op::TakeNacks(limit) => self.take_nacks(usize::from(limit)),
            Op::Send { seq, len, fill } => self.send(seq, len, fill),
            Op::Nacked(seq) => self.nacked(seq),
        }
        assert!(self.nack.len() <= MAX_LIST, "NACK list over its bound");
        assert!(
            self.history.bytes() <= HISTORY_BYTES,
            "history over its bytes"
        );
        assert!(
            self.arrived.len() as u64 <= MAX_AGE + 1,
            "model bounded too"
        );
    }

    fn arrive(&mut self, seq: u16) {
        let ext = self
            .nack
            .highest()
            .map_or(u64::from(seq) + (1 << 16), |h| extend(h, seq));
        let before = self.nack.given_up;
        if self.nack.on_packet(self.now, seq) == NackUpdate::KeyframeNeeded {
            self.reached.keyframe_needed = true;
        }
        self.reached.given_up |= self.nack.given_up > before;
        self.arrived.insert(ext);
        let highest = self.nack.highest().expect("set by the first packet");
        assert!(ext <= highest, "the newest is the highest");
        self.arrived = self.arrived.split_off(&highest.saturating_sub(MAX_AGE));
    }

    fn take_nacks(&mut self, limit: usize) {
        let (due, _) = self.nack.take_due(self.now, RTT, limit);
        assert!(due.len() <= limit, "over the limit");
        let Some(highest) = self.nack.highest() else {
            assert!(due.is_empty(), "a NACK before any packet");
            return;
        };
        for seq in due {
            let ext = extend(highest, seq);
            assert!(!self.arrived.contains(&ext), "NACK for arrived {seq}");
            assert!(ext < highest, "NACK for the newest or beyond");
            self.reached.nack_sent = true;
        }
    }

    fn send(&mut self, seq: u16, len: u16, fill: u8) {
        let p = packet(seq, len, fill);
        self.reached.byte_limit |= self.history.bytes() + p.len() > HISTORY_BYTES;
        self.history.insert(seq, &p, 12);
        // Whether kept or not (over the byte budget), the history holds no older packet
        // of this sequence number any more.
        self.sent.insert(seq, (len, fill));
        self.resent.remove(&seq);
    }

    fn nacked(&mut self, seq: u16) {
        let now = self.now;
        let got = self
            .history
            .resend(now, seq, RTT)
            .map(|r| r.packet.to_vec());
        let Some(got) = got else {
            self.reached.refused_unknown |= !self.sent.contains_key(&seq);
            return;
        };
        let &(len, fill) = self
            .sent
            .get(&seq)
            .unwrap_or_else(|| panic!("resent {seq}, which the history should not hold"));
        assert_eq!(got, packet(seq, len, fill), "resent a different packet");
        if let Some(at) = self.resent.insert(seq, now) {
            assert!(
                now.saturating_duration_since(at) >= RTT,
                "resent twice in one RTT"
            );
        }
        self.reached.resent = true;
    }
}

/// Decodes fuzzer bytes into steps: an op byte, then its fields. Sequence numbers move
/// relative to the last one mostly (small steps, reordering, duplicates), sometimes jump
/// anywhere, so that runs both stay in a window and cross the wrap. Decoding stops once
/// every byte was read (the last op's missing fields read as zeros) or after 4096 ops.
pub(crate) fn decode_ops(data: &[u8]) -> Vec<Op> {
    fn byte(rest: &mut &[u8]) -> u8 {
        match rest.split_first() {
            Some((&b, tail)) => {
                *rest = tail;
                b
            }
            None => 0,
        }
    }
    let mut rest = data;
    let mut out = Vec::new();
    let mut last = 0u16;
    // Not past the end: padding with `Arrive(0)` ops (which the fuzzer can write itself)
    // up to `data.len()` ops made most of an input's ops and of its run time.
    while !rest.is_empty() && out.len() < 4096 {
        let kind = byte(&mut rest);
        let seq = match kind >> 5 {
            0 => u16::from_be_bytes([byte(&mut rest), byte(&mut rest)]),
            _ => last.wrapping_add(byte(&mut rest) as i8 as u16),
        };
        last = seq;
        out.push(match kind % 5 {
            0 => Op::Arrive(seq),
            1 => Op::Wait(u16::from(byte(&mut rest))),
            2 => Op::TakeNacks(u16::from(byte(&mut rest))),
            3 => Op::Send {
                seq,
                len: u16::from_be_bytes([byte(&mut rest), byte(&mut rest)]) % 4096,
                fill: byte(&mut rest),
            },
            _ => Op::Nacked(seq),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::time::test_epoch as t0;

    /// Arrivals in a window that walks forward: small steps back and forth (reordering,
    /// duplicates), forward gaps (loss), now and then a jump anywhere.
    fn arrivals() -> impl Strategy<Value = Vec<Op>> {
        let step = prop_oneof![
            8 => (-20i32..40).prop_map(|d| (d, false)),
            1 => any::<u16>().prop_map(|s| (i32::from(s), true)),
        ];
        (
            any::<u16>(),
            proptest::collection::vec((step, 0u16..30, 0u16..300), 1..600),
        )
            .prop_map(|(start, steps)| {
                let mut seq = start;
                let mut ops = Vec::new();
                for ((d, absolute), wait, limit) in steps {
                    seq = if absolute {
                        d as u16
                    } else {
                        seq.wrapping_add(d as u16)
                    };
                    ops.push(Op::Arrive(seq));
                    ops.push(Op::Wait(wait));
                    ops.push(Op::TakeNacks(limit));
                }
                ops
            })
    }

    /// Sends of any size (the byte budget is reached), NACKs for sequence numbers sent,
    /// never sent, and long overwritten, with time passing.
    fn sends_and_nacks() -> impl Strategy<Value = Vec<Op>> {
        let op = prop_oneof![
            4 => (0u16..4096, any::<u8>()).prop_map(|(len, fill)| (0u8, len, fill)),
            3 => (0u16..2048, Just(0u8)).prop_map(|(back, _)| (1u8, back, 0)),
            1 => (0u16..60, Just(0u8)).prop_map(|(ms, _)| (2u8, ms, 0)),
        ];
        (any::<u16>(), proptest::collection::vec(op, 1..3000)).prop_map(|(start, steps)| {
            let mut next = start;
            let mut ops = Vec::new();
            for (kind, a, fill) in steps {
                ops.push(match kind {
                    0 => {
                        next = next.wrapping_add(1);
                        Op::Send {
                            seq: next,
                            len: a,
                            fill,
                        }
                    }
                    1 => Op::Nacked(next.wrapping_sub(a)),
                    _ => Op::Wait(a),
                });
            }
            ops
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn nack_never_asks_for_arrived_packets_and_stays_bounded(ops in arrivals()) {
            let mut c = RecoveryCheck::new(t0());
            for op in ops {
                c.apply(op);
            }
        }

        #[test]
        fn history_resends_only_what_it_holds_within_its_budget(ops in sends_and_nacks()) {
            let mut c = RecoveryCheck::new(t0());
            for op in ops {
                c.apply(op);
            }
        }

        #[test]
        fn any_decoded_fuzz_input_keeps_every_contract(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let mut c = RecoveryCheck::new(t0());
            for op in decode_ops(&data) {
                c.apply(op);
            }
        }
    }

    #[test]
    fn decoding_stops_at_the_end_of_the_bytes() {
        assert!(decode_ops(&[]).is_empty());
        // One arrival (op byte, absolute sequence number): one op, no padding after it.
        let ops = decode_ops(&[0, 0x12, 0x34]);
        assert!(matches!(ops[..], [Op::Arrive(0x1234)]), "{ops:?}");
        // A send cut short: its missing fields read as zeros, and decoding stops there.
        let ops = decode_ops(&[0, 0, 7, 3, 0, 9, 0]);
        assert!(
            matches!(
                ops[..],
                [
                    Op::Arrive(7),
                    Op::Send {
                        seq: 9,
                        len: 0,
                        fill: 0
                    }
                ]
            ),
            "{ops:?}"
        );
        // At most 4096 ops however long the input.
        assert_eq!(decode_ops(&[0x20; 20_000]).len(), 4096);
    }

    #[test]
    fn the_checks_reach_every_interesting_state() {
        let mut c = RecoveryCheck::new(t0());
        let mut ops = vec![Op::Arrive(65_530), Op::Arrive(3), Op::TakeNacks(2)];
        // Past the cap of retries: given up.
        for _ in 0..12 {
            ops.extend([Op::Wait(50), Op::TakeNacks(100)]);
        }
        ops.push(Op::Arrive(3000)); // a gap over the list bound
        for seq in 0..1024u16 {
            ops.push(Op::Send {
                seq,
                len: 4000,
                fill: seq as u8,
            });
        }
        ops.extend([Op::Nacked(1), Op::Nacked(1), Op::Nacked(5000)]);
        for op in ops {
            c.apply(op);
        }
        let r = c.reached;
        assert!(r.nack_sent && r.given_up && r.keyframe_needed, "{r:?}");
        assert!(r.resent && r.refused_unknown && r.byte_limit, "{r:?}");
    }
}
