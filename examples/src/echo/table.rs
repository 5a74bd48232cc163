//! The bookkeeping every echo backend shares: which sessions are alive, their ids, their
//! live figures, whether they wait for the client's answer, and the session limit.

use super::backend::{BackendError, SessionId, SessionStats};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

struct Entry<H> {
    handle: H,
    stats: Arc<Mutex<SessionStats>>,
    waiting_for_answer: bool,
}

/// The live sessions of one backend, each with a backend-specific handle `H` (a peer
/// connection handle, or `()` when the sessions live elsewhere).
///
/// At most `limit` sessions are registered at once; ids are never reused.
pub struct SessionTable<H> {
    limit: usize,
    inner: Mutex<Inner<H>>,
}

struct Inner<H> {
    next_id: u64,
    entries: HashMap<SessionId, Entry<H>>,
}

impl<H: Clone> std::fmt::Debug for SessionTable<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionTable")
            .field("limit", &self.limit)
            .field("sessions", &self.len())
            .finish()
    }
}

impl<H: Clone> SessionTable<H> {
    /// An empty table that admits at most `limit` sessions.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            inner: Mutex::new(Inner {
                next_id: 1,
                entries: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<H>> {
        self.inner
            .lock()
            .expect("session table lock is never poisoned")
    }

    /// `Busy` if the table is full: a cheap check before the work of making a session.
    /// [`insert`](Self::insert) checks again.
    pub fn check_room(&self) -> Result<(), BackendError> {
        if self.len() >= self.limit {
            return Err(BackendError::Busy(self.limit));
        }
        Ok(())
    }

    /// Registers a session under a fresh id, or fails with `Busy` if the table is full.
    /// `waiting_for_answer` marks a session the server offered, which takes one answer.
    pub fn insert(
        &self,
        handle: H,
        stats: Arc<Mutex<SessionStats>>,
        waiting_for_answer: bool,
    ) -> Result<SessionId, BackendError> {
        let mut inner = self.lock();
        if inner.entries.len() >= self.limit {
            return Err(BackendError::Busy(self.limit));
        }
        let id = SessionId(inner.next_id);
        inner.next_id += 1;
        let entry = Entry {
            handle,
            stats,
            waiting_for_answer,
        };
        inner.entries.insert(id, entry);
        Ok(id)
    }

    /// Frees a session's slot; returns its handle, `None` if it was not registered.
    pub fn remove(&self, id: SessionId) -> Option<H> {
        self.lock().entries.remove(&id).map(|entry| entry.handle)
    }

    /// The handle of a live session.
    pub fn handle(&self, id: SessionId) -> Option<H> {
        self.lock()
            .entries
            .get(&id)
            .map(|entry| entry.handle.clone())
    }

    /// Claims the one answer an offering session takes: the session's handle, `NoSession`
    /// if there is no such session, `WrongState` if it did not offer or was answered already.
    pub fn take_answer_turn(&self, id: SessionId) -> Result<H, BackendError> {
        let mut inner = self.lock();
        let entry = inner
            .entries
            .get_mut(&id)
            .ok_or(BackendError::NoSession(id))?;
        if !entry.waiting_for_answer {
            return Err(BackendError::WrongState(id));
        }
        entry.waiting_for_answer = false;
        Ok(entry.handle.clone())
    }

    /// A copy of a live session's figures.
    pub fn stats(&self, id: SessionId) -> Option<SessionStats> {
        let stats = self.lock().entries.get(&id)?.stats.clone();
        let copy = stats.lock().expect("stats lock is never poisoned").clone();
        Some(copy)
    }

    /// Sessions registered now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no session is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> Arc<Mutex<SessionStats>> {
        Arc::default()
    }

    #[test]
    fn table_hands_out_distinct_ids_in_order() {
        let table = SessionTable::new(4);
        let a = table.insert('a', stats(), false).expect("room");
        let b = table.insert('b', stats(), false).expect("room");
        assert!(a < b);
        assert_eq!(table.handle(a), Some('a'));
        assert_eq!(table.handle(b), Some('b'));
    }

    #[test]
    fn table_refuses_sessions_beyond_its_limit() {
        let table = SessionTable::new(1);
        table.insert((), stats(), false).expect("room for one");
        assert!(matches!(table.check_room(), Err(BackendError::Busy(1))));
        let refused = table.insert((), stats(), false);
        assert!(matches!(refused, Err(BackendError::Busy(1))));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn removing_a_session_frees_its_slot_and_never_reuses_its_id() {
        let table = SessionTable::new(1);
        let first = table.insert((), stats(), false).expect("room");
        assert_eq!(table.remove(first), Some(()));
        assert!(table.is_empty());
        let second = table.insert((), stats(), false).expect("room again");
        assert_ne!(first, second);
        assert_eq!(table.remove(first), None);
    }

    #[test]
    fn an_offering_session_takes_exactly_one_answer() {
        let table = SessionTable::new(2);
        let id = table.insert(7, stats(), true).expect("room");
        assert_eq!(table.take_answer_turn(id).expect("first answer"), 7);
        let again = table.take_answer_turn(id);
        assert!(matches!(again, Err(BackendError::WrongState(i)) if i == id));
    }

    #[test]
    fn an_answering_session_takes_no_answer() {
        let table = SessionTable::new(2);
        let id = table.insert((), stats(), false).expect("room");
        let refused = table.take_answer_turn(id);
        assert!(matches!(refused, Err(BackendError::WrongState(i)) if i == id));
    }

    #[test]
    fn unknown_sessions_have_no_answer_turn_handle_or_stats() {
        let table: SessionTable<()> = SessionTable::new(2);
        let id = SessionId(42);
        assert!(matches!(table.take_answer_turn(id), Err(BackendError::NoSession(i)) if i == id));
        assert_eq!(table.handle(id), None);
        assert_eq!(table.stats(id), None);
    }

    #[test]
    fn stats_are_a_copy_of_the_shared_figures() {
        let table = SessionTable::new(2);
        let shared = stats();
        let id = table.insert((), shared.clone(), false).expect("room");
        shared.lock().expect("not poisoned").messages_received = 3;
        let copy = table.stats(id).expect("live session");
        assert_eq!(copy.messages_received, 3);
    }
}
