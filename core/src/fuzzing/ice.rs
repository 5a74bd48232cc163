//! ICE agent target: checks and responses are built and signed inside the target with the
//! credentials both sides know, so fuzzing happens behind MESSAGE-INTEGRITY (role
//! conflicts, peer-reflexive pairs, nomination, consent, restarts), plus raw datagrams,
//! fuzzed candidate lines and the passage of time.
//!
//! Input: a role byte, then operations (see [`run`]).

use super::ops::{Ops, OpsWriter};
use super::{Milestones, Target};
use crate::ice::{
    Candidate, Credentials, IceAgent, IceConfig, IceConnectionState, IceEvent, IceRole,
};
use crate::rng::Rng;
use crate::stun::{
    Attribute, Class, ErrorCode, IntegrityKey, Method, StunMessage, StunView, TransactionId,
};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub(super) const TARGET: Target = Target {
    name: "ice_agent",
    run,
    seeds,
    deep: &[
        "ice_check_accepted",
        "ice_response_accepted",
        "ice_connected_controlling",
        "ice_connected_controlled",
        "ice_role_conflict",
    ],
};

const REMOTE_UFRAG: &str = "rmte";
const REMOTE_PWD: &str = "remotepassword0123456789";
const MAX_OPS: usize = 96;
const MAX_PENDING: usize = 16;

fn local() -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1], 5000))
}

/// Remote addresses: two signalled candidates and one the agent only learns from checks.
fn remote(i: u8) -> SocketAddr {
    match i % 3 {
        0 => SocketAddr::from(([10, 0, 0, 2], 6000)),
        1 => SocketAddr::from(([10, 0, 0, 3], 7000)),
        _ => SocketAddr::from(([10, 0, 0, 4], 8000)),
    }
}

/// A request the agent sent: (transaction id, from, to).
type Pending = (TransactionId, SocketAddr, SocketAddr);

struct Harness {
    agent: IceAgent,
    now: Instant,
    pending: Vec<Pending>,
    reached: Milestones,
}

/// Operations, each an opcode byte then its fields:
/// - 0 check from the peer: source, flags (bit 0 USE-CANDIDATE, bit 1 peer controlling,
///   bit 2 wrong ufrag, bit 3 no FINGERPRINT, bit 4 wrong password, bit 5 no role
///   attribute), priority u32, tie-breaker u64;
/// - 1 response to one of the agent's requests: index, flags (bit 0 error response with
///   a code byte, bit 1 wrong password, bit 2 mapped address from the input), [code];
/// - 2 a raw datagram (length byte, bytes) from a chosen source;
/// - 3 time passes (byte × 10 ms) and the timer runs;
/// - 4 a remote candidate line (length byte, text);
/// - 5 a command byte: restart, end of candidates, switch role, close.
pub(super) fn run(data: &[u8], start: Instant) -> Milestones {
    let mut ops = Ops::new(data);
    let role = if ops.u8() & 1 == 0 {
        IceRole::Controlling
    } else {
        IceRole::Controlled
    };
    let config = IceConfig {
        role,
        ..IceConfig::default()
    };
    let Ok(agent) = IceAgent::new(config, Rng::from_u64(1)) else {
        return Milestones::new();
    };
    let mut h = Harness {
        agent,
        now: start,
        pending: Vec::new(),
        reached: Milestones::new(),
    };
    h.setup();
    for _ in 0..MAX_OPS {
        if ops.is_empty() {
            break;
        }
        h.step(&mut ops);
        h.drain();
    }
    h.reached
}

impl Harness {
    fn setup(&mut self) {
        let now = self.now;
        let creds = Credentials::new(REMOTE_UFRAG, REMOTE_PWD);
        let _ = self.agent.set_remote_credentials(now, creds);
        let _ = self.agent.add_local_socket(now, local());
        for (i, port) in [(2u8, 6000u16), (3, 7000)] {
            let line = format!("candidate:{i} 1 udp 2130706431 10.0.0.{i} {port} typ host");
            if let Ok(c) = line.parse::<Candidate>() {
                let _ = self.agent.add_remote_candidate(now, c);
            }
        }
        self.drain();
    }

    fn step(&mut self, ops: &mut Ops<'_>) {
        match ops.u8() % 6 {
            0 => self.peer_check(ops),
            1 => self.peer_response(ops),
            2 => {
                let source = remote(ops.u8());
                let bytes = ops.short();
                self.agent.handle_receive(self.now, source, local(), bytes);
            }
            3 => {
                self.now += Duration::from_millis(u64::from(ops.u8()) * 10);
                self.agent.handle_timeout(self.now);
            }
            4 => {
                let text = String::from_utf8_lossy(ops.short()).into_owned();
                if let Ok(c) = text.parse::<Candidate>() {
                    let _ = self.agent.add_remote_candidate(self.now, c);
                }
            }
            _ => self.command(ops.u8()),
        }
    }

    fn command(&mut self, which: u8) {
        match which % 4 {
            0 => {
                let _ = self.agent.restart(self.now);
                let creds = Credentials::new(REMOTE_UFRAG, REMOTE_PWD);
                let _ = self.agent.set_remote_credentials(self.now, creds);
            }
            1 => self.agent.end_of_remote_candidates(self.now),
            2 => {
                let other = match self.agent.role() {
                    IceRole::Controlling => IceRole::Controlled,
                    IceRole::Controlled => IceRole::Controlling,
                };
                self.agent.set_role(other);
            }
            _ => self.agent.close(self.now),
        }
    }

    fn peer_check(&mut self, ops: &mut Ops<'_>) {
        let source = remote(ops.u8());
        let flags = ops.u8();
        let priority = ops.u32();
        let tie_breaker = ops.u64();
        let mut id = [0u8; 12];
        id[..8].copy_from_slice(&tie_breaker.to_be_bytes());
        id[8..].copy_from_slice(&priority.to_be_bytes());
        let ours = &self.agent.local_credentials().ufrag;
        let ufrag = if flags & 4 == 0 {
            ours.clone()
        } else {
            "nope".into()
        };
        let mut msg = StunMessage::binding_request(TransactionId(id))
            .with(Attribute::Username(format!("{ufrag}:{REMOTE_UFRAG}")))
            .with(Attribute::Priority(priority));
        if flags & 1 != 0 {
            msg = msg.with(Attribute::UseCandidate);
        }
        if flags & 32 == 0 {
            msg = msg.with(if flags & 2 != 0 {
                Attribute::IceControlling(tie_breaker)
            } else {
                Attribute::IceControlled(tie_breaker)
            });
        }
        let pwd = if flags & 16 == 0 {
            self.agent.local_credentials().pwd.clone()
        } else {
            "wrongpasswordwrongpasswd".into()
        };
        let key = IntegrityKey::short_term(&pwd);
        if let Ok(bytes) = msg.encode(Some(&key), flags & 8 == 0) {
            let before = self.agent.stats().checks_received;
            self.agent.handle_receive(self.now, source, local(), &bytes);
            if self.agent.stats().checks_received > before {
                self.reached.insert("ice_check_accepted");
            }
        }
    }

    fn peer_response(&mut self, ops: &mut Ops<'_>) {
        let index = usize::from(ops.u8());
        let flags = ops.u8();
        let code = ops.u8();
        let mapped = remote(ops.u8());
        if self.pending.is_empty() {
            return;
        }
        let (id, from, to) = self.pending[index % self.pending.len()];
        let class = if flags & 1 == 0 {
            Class::Success
        } else {
            Class::Error
        };
        let mut msg = StunMessage::new(class, Method::BINDING, id);
        if class == Class::Error {
            let code = [487, 400, 401, 500, 300 + u16::from(code)][usize::from(code % 5)];
            if let Ok(e) = ErrorCode::new(code.min(699), "fuzz") {
                msg = msg.with(Attribute::ErrorCode(e));
            }
        } else {
            let address = if flags & 4 == 0 { from } else { mapped };
            msg = msg.with(Attribute::XorMappedAddress(address));
        }
        let pwd = if flags & 2 == 0 { REMOTE_PWD } else { "wrong" };
        if let Ok(bytes) = msg.encode(Some(&IntegrityKey::short_term(pwd)), true) {
            let before = self.agent.stats().responses_received;
            self.agent.handle_receive(self.now, to, from, &bytes);
            if self.agent.stats().responses_received > before {
                self.reached.insert("ice_response_accepted");
            }
        }
    }

    /// Records the agent's requests (for responses) and the states it reached.
    fn drain(&mut self) {
        while let Some(t) = self.agent.poll_transmit() {
            if let Ok(view) = StunView::new_checked(&t.payload)
                && view.class() == Class::Request
            {
                if self.pending.len() == MAX_PENDING {
                    self.pending.remove(0);
                }
                self.pending
                    .push((view.transaction_id(), t.source, t.destination));
            }
        }
        while let Some(event) = self.agent.poll_event() {
            if let IceEvent::ConnectionStateChange(IceConnectionState::Connected) = event {
                self.reached.insert(match self.agent.role() {
                    IceRole::Controlling => "ice_connected_controlling",
                    IceRole::Controlled => "ice_connected_controlled",
                });
            }
        }
        if self.agent.stats().role_conflicts > 0 {
            self.reached.insert("ice_role_conflict");
        }
    }
}

fn check(w: &mut OpsWriter, source: u8, flags: u8, tie_breaker: u32) {
    w.u8(0)
        .u8(source)
        .u8(flags)
        .u32(0x6e00_1eff)
        .u32(0)
        .u32(tie_breaker);
}

fn respond_all(w: &mut OpsWriter) {
    for i in 0..MAX_PENDING as u8 {
        w.u8(1).u8(i).u8(0).u8(0).u8(0);
    }
}

fn wait(w: &mut OpsWriter, tens_of_ms: u8) {
    w.u8(3).u8(tens_of_ms);
}

/// Seeds: each role reaching Connected; a role conflict; a peer-reflexive source; noise.
fn seeds(_: Instant) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    // Controlling: the agent's checks succeed, it nominates, the nomination succeeds.
    let mut w = OpsWriter::default();
    w.u8(0);
    for _ in 0..4 {
        wait(&mut w, 5);
        respond_all(&mut w);
    }
    out.push(w.0);
    // Controlled: the peer checks (controlling), the agent's triggered checks succeed, the
    // peer nominates.
    let mut w = OpsWriter::default();
    w.u8(1);
    check(&mut w, 0, 2, 1);
    wait(&mut w, 5);
    respond_all(&mut w);
    check(&mut w, 0, 3, 1);
    wait(&mut w, 5);
    respond_all(&mut w);
    check(&mut w, 0, 3, 1);
    out.push(w.0);
    // Role conflict: both controlling, then a 487 answer, then a peer-reflexive check.
    let mut w = OpsWriter::default();
    w.u8(0);
    check(&mut w, 1, 2, u32::MAX);
    wait(&mut w, 5);
    w.u8(1).u8(0).u8(1).u8(0).u8(0);
    check(&mut w, 2, 3, 7);
    wait(&mut w, 50);
    w.u8(5).u8(0);
    wait(&mut w, 5);
    respond_all(&mut w);
    out.push(w.0);
    // Candidate line, raw bytes and a wrong password.
    let mut w = OpsWriter::default();
    w.u8(1);
    w.u8(4)
        .short(b"candidate:9 1 udp 1694498815 192.0.2.9 9000 typ srflx raddr 0.0.0.0 rport 0");
    w.u8(2)
        .u8(0)
        .short(&[0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3]);
    check(&mut w, 1, 16 | 2, 3);
    wait(&mut w, 255);
    out.push(w.0);
    out
}
