//! TURN over TCP and TLS for the endpoint's connections: each connection that asks for a
//! TURN connection (`Event::TurnConnect`) gets its own [`TurnStreams`], the same code the
//! per-connection driver runs, polled by the endpoint's task. Kept apart from the routing
//! and scheduling of the driver: the driver only hands these events over, polls here each
//! round, and services the connections that were fed.

use super::super::turn_stream::TurnStreams;
use super::super::{Runtime, shared::Shared};
use super::EndpointDriver;
use crate::endpoint::ConnectionHandle;
use crate::peer_connection::{Event, PeerConnection};
use std::collections::HashMap;
use std::sync::Arc;
use std::task::Context;

/// The TURN connections of every connection of one endpoint.
#[derive(Debug, Default)]
pub(super) struct EndpointStreams {
    by_conn: HashMap<ConnectionHandle, TurnStreams>,
    /// Connections whose core is gone: their streams only finish writing (closed).
    orphans: Vec<TurnStreams>,
    /// Work was handed over since the last poll (a new connection's future has no waker
    /// until polled once).
    dirty: bool,
}

impl EndpointStreams {
    /// Takes connection `h`'s TURN events; returns any other event back.
    pub(super) fn handle_event(
        &mut self,
        runtime: &dyn Runtime,
        h: ConnectionHandle,
        event: Event,
    ) -> Option<Event> {
        if !matches!(
            event,
            Event::TurnConnect(_) | Event::TurnSend { .. } | Event::TurnClose(_)
        ) {
            return Some(event);
        }
        self.dirty = true;
        self.by_conn
            .entry(h)
            .or_default()
            .handle_event(runtime, event)
    }

    /// Connection `h` ended: its TURN connections close once what is queued (the
    /// deallocation) is written.
    pub(super) fn forget(&mut self, h: ConnectionHandle) {
        if let Some(mut streams) = self.by_conn.remove(&h) {
            streams.close_all();
            self.orphans.push(streams);
        }
    }
}

impl EndpointDriver {
    /// Connects, reads and writes every TURN connection, feeding their connections'
    /// cores, and services the connections that were fed. Returns whether anything moved.
    pub(super) fn poll_turn_streams(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = std::mem::take(&mut self.turn.dirty);
        let mut fed = Vec::new();
        for (h, streams) in &mut self.turn.by_conn {
            let Some(shared) = self.conns.get(h).map(|c| Arc::clone(&c.shared)) else {
                continue;
            };
            if streams.poll(cx, &*self.runtime, |f| lock_pc(&shared, f)) {
                fed.push(*h);
            }
        }
        self.turn.by_conn.retain(|_, streams| !streams.is_empty());
        for orphan in &mut self.turn.orphans {
            progress |= orphan.poll(cx, &*self.runtime, |_| {});
        }
        self.turn.orphans.retain(|streams| !streams.is_empty());
        progress |= !fed.is_empty();
        for h in fed {
            self.service(h);
        }
        progress
    }
}

fn lock_pc(shared: &Shared, f: &mut dyn FnMut(&mut PeerConnection)) {
    f(&mut shared.lock().pc);
}
