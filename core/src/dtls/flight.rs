//! Outgoing flights (RFC 6347 section 4.2.4): the messages of one flight, packed into
//! datagrams no larger than the MTU, and the retransmission timer with exponential backoff.

use super::cipher::{AEAD_OVERHEAD, RecordCipher};
use super::handshake::{HANDSHAKE_HEADER_LEN, emit_header as emit_hs_header};
use super::record::{RECORD_HEADER_LEN, emit_header as emit_record_header};
use super::types::{ContentType, DTLS_1_2, HandshakeType};
use std::time::{Duration, Instant};

/// Smallest fragment worth sending at the end of a datagram.
const MIN_FRAGMENT: usize = 32;

/// One element of a flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlightItem {
    /// A handshake message sent in `epoch`.
    Handshake {
        /// 0 or 1.
        epoch: u16,
        /// Type.
        msg_type: HandshakeType,
        /// message_seq.
        seq: u16,
        /// Body.
        body: Vec<u8>,
    },
    /// ChangeCipherSpec (always epoch 0).
    ChangeCipherSpec,
}

/// The write side of the record layer: epochs, sequence numbers, the epoch-1 key.
#[derive(Debug, Clone, Default)]
pub struct RecordWriter {
    seq: [u64; 2],
    cipher: Option<RecordCipher>,
}

impl RecordWriter {
    /// Installs the epoch-1 write key.
    pub fn install(&mut self, cipher: RecordCipher) {
        self.cipher = Some(cipher);
    }

    /// True once the epoch-1 key is installed.
    pub fn has_keys(&self) -> bool {
        self.cipher.is_some()
    }

    fn next_seq(&mut self, epoch: u16) -> u64 {
        let slot = &mut self.seq[usize::from(epoch.min(1))];
        let s = *slot;
        *slot += 1;
        s
    }

    /// Appends one record in `epoch` to `out`. Epoch 1 needs the key (checked by callers).
    pub fn write(&mut self, out: &mut Vec<u8>, content_type: ContentType, epoch: u16, body: &[u8]) {
        let seq = self.next_seq(epoch);
        if epoch == 0 {
            let len = u16::try_from(body.len()).expect("records stay under 64 KiB");
            emit_record_header(out, content_type, DTLS_1_2, 0, seq, len);
            out.extend_from_slice(body);
        } else {
            let cipher = self
                .cipher
                .as_ref()
                .expect("epoch 1 is used only after keys are installed");
            cipher.seal_record(out, content_type, DTLS_1_2, epoch, seq, body);
        }
    }

    /// Packs `items` into datagrams of at most `mtu` bytes (fragmenting handshake messages
    /// as needed), with fresh record sequence numbers.
    pub fn pack(&mut self, items: &[FlightItem], mtu: usize) -> Vec<Vec<u8>> {
        let mut datagrams = Vec::new();
        let mut cur: Vec<u8> = Vec::with_capacity(mtu);
        for item in items {
            match item {
                FlightItem::ChangeCipherSpec => {
                    if cur.len() + RECORD_HEADER_LEN + 1 > mtu && !cur.is_empty() {
                        datagrams.push(core::mem::take(&mut cur));
                    }
                    self.write(&mut cur, ContentType::CHANGE_CIPHER_SPEC, 0, &[1]);
                }
                FlightItem::Handshake {
                    epoch,
                    msg_type,
                    seq,
                    body,
                } => {
                    self.pack_message(
                        &mut datagrams,
                        &mut cur,
                        mtu,
                        (*epoch, *msg_type, *seq),
                        body,
                    );
                }
            }
        }
        if !cur.is_empty() {
            datagrams.push(cur);
        }
        datagrams
    }

    fn pack_message(
        &mut self,
        datagrams: &mut Vec<Vec<u8>>,
        cur: &mut Vec<u8>,
        mtu: usize,
        (epoch, msg_type, seq): (u16, HandshakeType, u16),
        body: &[u8],
    ) {
        let overhead =
            RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN + if epoch == 0 { 0 } else { AEAD_OVERHEAD };
        let total = u32::try_from(body.len()).expect("handshake messages stay under 16 MiB");
        let mut offset = 0usize;
        loop {
            let room = mtu.saturating_sub(cur.len()).saturating_sub(overhead);
            let left = body.len() - offset;
            // Fill datagrams, but start a new one rather than send a sliver in this one.
            if room < left.min(MIN_FRAGMENT) && !cur.is_empty() {
                datagrams.push(core::mem::take(cur));
                continue;
            }
            let take = left.min(room.max(1));
            let mut rec = Vec::with_capacity(HANDSHAKE_HEADER_LEN + take);
            emit_hs_header(&mut rec, msg_type, total, seq, offset as u32, take as u32);
            rec.extend_from_slice(&body[offset..offset + take]);
            self.write(cur, ContentType::HANDSHAKE, epoch, &rec);
            offset += take;
            if offset >= body.len() {
                return;
            }
        }
    }
}

/// Retransmission timer: starts at `initial`, doubles up to `max`, and gives up after
/// `max_retransmissions` retransmissions.
#[derive(Debug, Clone)]
pub struct RetransmitTimer {
    initial: Duration,
    max: Duration,
    max_retransmissions: u32,
    current: Duration,
    retransmissions: u32,
    deadline: Option<Instant>,
}

/// What an expired timer asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerAction {
    /// Nothing due.
    Idle,
    /// Retransmit the flight.
    Retransmit,
    /// Every retransmission went unanswered.
    GiveUp,
}

impl RetransmitTimer {
    /// A stopped timer.
    pub fn new(initial: Duration, max: Duration, max_retransmissions: u32) -> Self {
        Self {
            initial,
            max,
            max_retransmissions,
            current: initial,
            retransmissions: 0,
            deadline: None,
        }
    }

    /// Arms the timer for a newly sent flight (backoff starts over).
    pub fn start(&mut self, now: Instant) {
        self.current = self.initial;
        self.retransmissions = 0;
        self.deadline = Some(now + self.current);
    }

    /// Pushes the deadline out by the current interval (the peer is making progress).
    pub fn touch(&mut self, now: Instant) {
        if self.deadline.is_some() {
            self.deadline = Some(now + self.current);
        }
    }

    /// Stops the timer.
    pub fn stop(&mut self) {
        self.deadline = None;
    }

    /// When the timer fires.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Checks the timer at `now`; after `Retransmit` it is re-armed with a doubled interval.
    pub fn poll(&mut self, now: Instant) -> TimerAction {
        match self.deadline {
            Some(d) if now >= d => {
                if self.retransmissions >= self.max_retransmissions {
                    self.deadline = None;
                    return TimerAction::GiveUp;
                }
                self.retransmissions += 1;
                self.current = (self.current * 2).min(self.max);
                self.deadline = Some(now + self.current);
                TimerAction::Retransmit
            }
            _ => TimerAction::Idle,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtls::handshake::HandshakeFragment;
    use crate::dtls::record::Records;

    fn message(len: usize) -> FlightItem {
        FlightItem::Handshake {
            epoch: 0,
            msg_type: HandshakeType::CERTIFICATE,
            seq: 2,
            body: (0..len).map(|i| i as u8).collect(),
        }
    }

    #[test]
    fn large_message_is_fragmented_to_the_mtu() {
        let mut w = RecordWriter::default();
        let dgrams = w.pack(&[message(3000)], 600);
        assert!(dgrams.len() >= 6);
        let mut got = vec![0u8; 3000];
        for d in &dgrams {
            assert!(d.len() <= 600);
            for rec in Records::new(d) {
                let (f, _) = HandshakeFragment::parse(rec.fragment).unwrap();
                got[f.offset as usize..f.offset as usize + f.body.len()].copy_from_slice(f.body);
            }
        }
        assert_eq!(got, (0..3000).map(|i| i as u8).collect::<Vec<_>>());
    }

    #[test]
    fn small_messages_share_a_datagram() {
        let mut w = RecordWriter::default();
        let dgrams = w.pack(
            &[message(10), message(20), FlightItem::ChangeCipherSpec],
            1200,
        );
        assert_eq!(dgrams.len(), 1);
        assert_eq!(Records::new(&dgrams[0]).count(), 3);
    }

    #[test]
    fn record_sequence_numbers_advance_per_epoch() {
        let mut w = RecordWriter::default();
        let a = w.pack(&[message(1)], 1200);
        let b = w.pack(&[message(1)], 1200);
        let seq = |d: &Vec<u8>| Records::new(d).next().unwrap().sequence;
        assert_eq!((seq(&a[0]), seq(&b[0])), (0, 1));
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // tests need one real instant as a base
    fn timer_backs_off_and_gives_up() {
        let t0 = Instant::now();
        let mut t = RetransmitTimer::new(Duration::from_secs(1), Duration::from_secs(3), 2);
        t.start(t0);
        assert_eq!(t.poll(t0), TimerAction::Idle);
        assert_eq!(t.poll(t0 + Duration::from_secs(1)), TimerAction::Retransmit);
        assert_eq!(t.deadline(), Some(t0 + Duration::from_secs(3)));
        assert_eq!(t.poll(t0 + Duration::from_secs(3)), TimerAction::Retransmit);
        assert_eq!(t.deadline(), Some(t0 + Duration::from_secs(6)));
        assert_eq!(t.poll(t0 + Duration::from_secs(6)), TimerAction::GiveUp);
        assert_eq!(t.deadline(), None);
    }
}
