//! The bookkeeping every echo backend shares: which sessions are alive, their ids, their
//! live figures, whether they wait for the client's answer, and the limits (in total and
//! per client address).

use super::backend::{BackendError, SessionId, SessionStats};
use rtcpeer::capacity::ShrinkWhenSparse;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

struct Entry<H> {
    handle: H,
    stats: Arc<Mutex<SessionStats>>,
    waiting_for_answer: bool,
    client: IpAddr,
}

/// How many sessions a table admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableLimits {
    /// Sessions alive at once, in total.
    pub total: usize,
    /// Sessions alive at once for one client IP address.
    pub per_client: usize,
}

/// The live sessions of one backend, each with a backend-specific handle `H` (a peer
/// connection handle, or `()` when the sessions live elsewhere).
///
/// At most `limits.total` sessions are registered at once, and `limits.per_client` for one
/// client address; ids are random (see [`SessionId`]) and never reused.
pub struct SessionTable<H> {
    limits: TableLimits,
    inner: Mutex<Entries<H>>,
}

/// The sessions, and how many each client address has (so that admission is O(1)).
struct Entries<H> {
    by_id: HashMap<SessionId, Entry<H>>,
    per_client: HashMap<IpAddr, usize>,
}

impl<H> Entries<H> {
    fn insert(&mut self, id: SessionId, entry: Entry<H>) {
        *self.per_client.entry(entry.client).or_default() += 1;
        self.by_id.insert(id, entry);
    }

    fn remove(&mut self, id: SessionId) -> Option<Entry<H>> {
        let entry = self.by_id.remove(&id)?;
        if let Some(theirs) = self.per_client.get_mut(&entry.client) {
            *theirs -= 1;
            if *theirs == 0 {
                self.per_client.remove(&entry.client);
            }
        }
        self.by_id.shrink_when_sparse();
        self.per_client.shrink_when_sparse();
        Some(entry)
    }
}

impl<H: Clone> std::fmt::Debug for SessionTable<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionTable")
            .field("limits", &self.limits)
            .field("sessions", &self.len())
            .finish()
    }
}

impl<H: Clone> SessionTable<H> {
    /// An empty table that admits at most `limits`.
    pub fn new(limits: TableLimits) -> Self {
        Self {
            limits,
            inner: Mutex::new(Entries {
                by_id: HashMap::new(),
                per_client: HashMap::new(),
            }),
        }
    }

    /// A table with only a total limit (any client may take every slot).
    pub fn with_total(total: usize) -> Self {
        Self::new(TableLimits {
            total,
            per_client: total,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Entries<H>> {
        self.inner
            .lock()
            .expect("session table lock is never poisoned")
    }

    fn room_in(&self, entries: &Entries<H>, client: IpAddr) -> Result<(), BackendError> {
        if entries.by_id.len() >= self.limits.total {
            return Err(BackendError::Busy(self.limits.total));
        }
        let theirs = entries.per_client.get(&client).copied().unwrap_or(0);
        if theirs >= self.limits.per_client {
            return Err(BackendError::ClientBusy(client, self.limits.per_client));
        }
        Ok(())
    }

    /// `Busy` or `ClientBusy` if the table has no room for `client`: a cheap check before
    /// the work of making a session. [`insert`](Self::insert) checks again.
    pub fn check_room(&self, client: IpAddr) -> Result<(), BackendError> {
        self.room_in(&self.lock(), client)
    }

    /// Registers a session of `client` under a fresh random id, or fails with `Busy` or
    /// `ClientBusy`. `waiting_for_answer` marks a session the server offered, which takes
    /// one answer.
    pub fn insert(
        &self,
        handle: H,
        stats: Arc<Mutex<SessionStats>>,
        waiting_for_answer: bool,
        client: IpAddr,
    ) -> Result<SessionId, BackendError> {
        let mut entries = self.lock();
        self.room_in(&entries, client)?;
        let id = loop {
            let id = SessionId::random()?;
            if !entries.by_id.contains_key(&id) {
                break id;
            }
        };
        let entry = Entry {
            handle,
            stats,
            waiting_for_answer,
            client,
        };
        entries.insert(id, entry);
        Ok(id)
    }

    /// Frees a session's slot; returns its handle, `None` if it was not registered.
    pub fn remove(&self, id: SessionId) -> Option<H> {
        self.lock().remove(id).map(|entry| entry.handle)
    }

    /// The handle of a live session.
    pub fn handle(&self, id: SessionId) -> Option<H> {
        self.lock().by_id.get(&id).map(|entry| entry.handle.clone())
    }

    /// Claims the one answer an offering session takes: the session's handle, `NoSession`
    /// if there is no such session, `WrongState` if it did not offer or was answered already.
    pub fn take_answer_turn(&self, id: SessionId) -> Result<H, BackendError> {
        let mut entries = self.lock();
        let entry = entries
            .by_id
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
        let stats = self.lock().by_id.get(&id)?.stats.clone();
        let copy = stats.lock().expect("stats lock is never poisoned").clone();
        Some(copy)
    }

    /// Sessions registered now.
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Whether no session is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

    fn stats() -> Arc<Mutex<SessionStats>> {
        Arc::default()
    }

    #[test]
    fn ids_are_random_128_bit_values_not_a_sequence() {
        let table = SessionTable::with_total(64);
        let ids: Vec<SessionId> = (0..64)
            .map(|i| table.insert(i, stats(), false, A).expect("room"))
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 64, "distinct");
        // Neighbours differ in many bits, and the high half is used.
        assert!(ids.windows(2).all(|w| (w[0].0 ^ w[1].0).count_ones() > 16));
        assert!(ids.iter().any(|id| id.0 >> 64 != 0));
        assert_eq!(ids[0].to_string().len(), 32);
        assert_eq!(ids[3].to_string().parse::<SessionId>(), Ok(ids[3]));
        assert_eq!(table.handle(ids[5]), Some(5));
    }

    #[test]
    fn table_refuses_sessions_beyond_its_limit() {
        let table = SessionTable::with_total(1);
        table.insert((), stats(), false, A).expect("room for one");
        assert!(matches!(table.check_room(B), Err(BackendError::Busy(1))));
        let refused = table.insert((), stats(), false, B);
        assert!(matches!(refused, Err(BackendError::Busy(1))));
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn one_client_cannot_take_more_than_its_share() {
        let table = SessionTable::new(TableLimits {
            total: 10,
            per_client: 2,
        });
        table.insert((), stats(), false, A).expect("first");
        let second = table.insert((), stats(), false, A).expect("second");
        let refused = table.insert((), stats(), false, A);
        assert!(matches!(refused, Err(BackendError::ClientBusy(ip, 2)) if ip == A));
        table.check_room(B).expect("another client still has room");
        table.insert((), stats(), false, B).expect("another client");
        table.remove(second);
        table
            .insert((), stats(), false, A)
            .expect("room again after one ended");
    }

    #[test]
    fn removing_a_session_frees_its_slot_and_never_reuses_its_id() {
        let table = SessionTable::with_total(1);
        let first = table.insert((), stats(), false, A).expect("room");
        assert_eq!(table.remove(first), Some(()));
        assert!(table.is_empty());
        let second = table.insert((), stats(), false, A).expect("room again");
        assert_ne!(first, second);
        assert_eq!(table.remove(first), None);
    }

    #[test]
    fn an_offering_session_takes_exactly_one_answer() {
        let table = SessionTable::with_total(2);
        let id = table.insert(7, stats(), true, A).expect("room");
        assert_eq!(table.take_answer_turn(id).expect("first answer"), 7);
        let again = table.take_answer_turn(id);
        assert!(matches!(again, Err(BackendError::WrongState(i)) if i == id));
    }

    #[test]
    fn an_answering_session_takes_no_answer() {
        let table = SessionTable::with_total(2);
        let id = table.insert((), stats(), false, A).expect("room");
        let refused = table.take_answer_turn(id);
        assert!(matches!(refused, Err(BackendError::WrongState(i)) if i == id));
    }

    #[test]
    fn unknown_sessions_have_no_answer_turn_handle_or_stats() {
        let table: SessionTable<()> = SessionTable::with_total(2);
        let id = SessionId(42);
        assert!(matches!(table.take_answer_turn(id), Err(BackendError::NoSession(i)) if i == id));
        assert_eq!(table.handle(id), None);
        assert_eq!(table.stats(id), None);
    }

    #[test]
    fn stats_are_a_copy_of_the_shared_figures() {
        let table = SessionTable::with_total(2);
        let shared = stats();
        let id = table.insert((), shared.clone(), false, A).expect("room");
        shared.lock().expect("not poisoned").messages_received = 3;
        let copy = table.stats(id).expect("live session");
        assert_eq!(copy.messages_received, 3);
    }
}
