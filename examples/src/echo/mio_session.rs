//! One echo session as a mio shard holds it, and the guards that close sessions which see
//! no ICE check or do not connect in time, kept so that the next one is found in O(log n).

use super::backend::SessionId;
use super::lifecycle::EndReason;
use super::session::EchoSession;
use rtcpeer::ConnectionHandle;
use rtcpeer::capacity::ShrinkWhenSparse;
use rtcpeer::peer_connection::PeerConnection;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;
use tokio::sync::oneshot;

/// One session as the loop holds it; its peer connection is in the shard's endpoint.
pub(super) struct Running {
    pub(super) id: SessionId,
    pub(super) echo: EchoSession,
    /// Closed unless an ICE check arrived by then.
    pub(super) checked_by: Instant,
    pub(super) saw_check: bool,
    pub(super) connect_by: Instant,
    pub(super) ever_connected: bool,
    /// Why the loop ended the session, if it did.
    pub(super) why: Option<EndReason>,
    pub(super) gathered: Option<oneshot::Sender<String>>,
}

impl Running {
    /// When [`enforce_timeouts`](Self::enforce_timeouts) must next look at the session,
    /// `None` once it connected or ended. Changes only through `enforce_timeouts` and by
    /// the session connecting or ending.
    pub(super) fn guard_deadline(&self) -> Option<Instant> {
        if self.ever_connected || self.why.is_some() {
            return None;
        }
        Some(if self.saw_check {
            self.connect_by
        } else {
            self.checked_by.min(self.connect_by)
        })
    }

    /// Closes `pc` if it saw no ICE check by `checked_by` or did not connect by
    /// `connect_by`.
    pub(super) fn enforce_timeouts(&mut self, pc: &mut PeerConnection, now: Instant) {
        if self.ever_connected || self.why.is_some() {
            return;
        }
        self.saw_check = self.saw_check || pc.stats().ice.checks_received > 0;
        let reason = if !self.saw_check && now >= self.checked_by {
            EndReason::NoCheck
        } else if now >= self.connect_by {
            EndReason::ConnectTimeout
        } else {
            return;
        };
        self.why = Some(reason);
        pc.close();
    }
}

/// The sessions' guard deadlines, earliest first.
///
/// Each session has at most one live entry: [`arm`](Self::arm) it when it is registered
/// and again after each [`pop_due`](Self::pop_due) that returned it. An entry whose session
/// has ended, connected or moved on to another deadline is stale and skipped (lazy
/// deletion); stale entries on top are dropped when the earliest deadline is asked for,
/// so they cost no wake-up, and the rest leave by their deadline at the latest (the
/// connect timeout bounds the heap by the sessions created within it).
#[derive(Default)]
pub(super) struct Guards {
    heap: BinaryHeap<Reverse<(Instant, ConnectionHandle)>>,
}

type Sessions = HashMap<ConnectionHandle, Running>;

impl Guards {
    /// Queues `running`'s current guard deadline, if it has one, for connection `h`.
    pub(super) fn arm(&mut self, h: ConnectionHandle, running: &Running) {
        if let Some(at) = running.guard_deadline() {
            self.heap.push(Reverse((at, h)));
        }
    }

    /// The earliest live guard deadline, O(log n) amortized.
    pub(super) fn earliest(&mut self, sessions: &Sessions) -> Option<Instant> {
        self.prune(sessions);
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// A session whose guard is due at `now`, its entry taken off the heap; re-arm it
    /// after enforcing its timeouts.
    pub(super) fn pop_due(
        &mut self,
        now: Instant,
        sessions: &Sessions,
    ) -> Option<ConnectionHandle> {
        self.prune(sessions);
        let Reverse((at, h)) = *self.heap.peek()?;
        if at > now {
            return None;
        }
        self.pop();
        Some(h)
    }

    /// Entries queued, stale ones included.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.heap.len()
    }

    /// Drops stale entries from the top.
    fn prune(&mut self, sessions: &Sessions) {
        while let Some(Reverse((at, h))) = self.heap.peek() {
            let live = sessions.get(h).and_then(Running::guard_deadline) == Some(*at);
            if live {
                return;
            }
            self.pop();
        }
    }

    fn pop(&mut self) {
        self.heap.pop();
        self.heap.shrink_when_sparse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn running(now: Instant, checked: u64, connect: u64) -> Running {
        let pc = PeerConnection::new(
            super::super::session::echo_config(rtcpeer::Seed::from_u64(1), true),
            now,
        )
        .expect("peer connection");
        let mut pc = pc;
        Running {
            id: SessionId(1),
            echo: EchoSession::offering(&mut pc).expect("offering session"),
            checked_by: now + Duration::from_secs(checked),
            saw_check: false,
            connect_by: now + Duration::from_secs(connect),
            ever_connected: false,
            why: None,
            gathered: None,
        }
    }

    #[test]
    fn the_earliest_guard_skips_sessions_that_connected_or_ended() {
        let now = Instant::now();
        let mut sessions = Sessions::new();
        let mut guards = Guards::default();
        for (i, checked) in [3, 1, 2].into_iter().enumerate() {
            let h = ConnectionHandle(i as u32);
            let r = running(now, checked, 30);
            guards.arm(h, &r);
            sessions.insert(h, r);
        }
        assert_eq!(
            guards.earliest(&sessions),
            Some(now + Duration::from_secs(1))
        );
        sessions
            .get_mut(&ConnectionHandle(1))
            .expect("live")
            .ever_connected = true;
        sessions.remove(&ConnectionHandle(2));
        assert_eq!(
            guards.earliest(&sessions),
            Some(now + Duration::from_secs(3))
        );
        assert_eq!(guards.len(), 1, "stale entries on top are dropped");
        let later = now + Duration::from_secs(2);
        assert_eq!(guards.pop_due(later, &sessions), None, "not due yet");
        let due = now + Duration::from_secs(3);
        assert_eq!(guards.pop_due(due, &sessions), Some(ConnectionHandle(0)));
        assert_eq!(guards.earliest(&sessions), None);
    }

    #[test]
    fn a_session_that_saw_a_check_is_guarded_until_its_connect_deadline() {
        let now = Instant::now();
        let mut sessions = Sessions::new();
        let mut guards = Guards::default();
        let h = ConnectionHandle(0);
        let r = running(now, 1, 30);
        guards.arm(h, &r);
        sessions.insert(h, r);
        let due = now + Duration::from_secs(1);
        assert_eq!(guards.pop_due(due, &sessions), Some(h));
        let r = sessions.get_mut(&h).expect("live");
        r.saw_check = true;
        guards.arm(h, r);
        assert_eq!(
            guards.earliest(&sessions),
            Some(now + Duration::from_secs(30))
        );
    }
}
