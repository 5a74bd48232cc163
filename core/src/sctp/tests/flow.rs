//! Flow control at a closed receive window: window-update SACKs for a peer that never
//! probes, and our own zero window probes (RFC 9260 section 6.1 rule A).

use super::*;

/// The a_rwnd of every SACK chunk in an SCTP packet.
pub(super) fn sack_windows(pkt: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut off = 12;
    while off + 4 <= pkt.len() {
        let len = usize::from(u16::from_be_bytes([pkt[off + 2], pkt[off + 3]]));
        if len < 4 {
            break;
        }
        if pkt[off] == 3 && off + 12 <= pkt.len() {
            let w = &pkt[off + 8..off + 12];
            out.push(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
        }
        off += (len + 3) & !3;
    }
    out
}

/// Whether an SCTP packet carries a DATA chunk.
fn has_data(pkt: &[u8]) -> bool {
    pkt.len() > 12 && pkt[12] == 0
}

fn queue(p: &mut Pair<Association>, n: usize, len: usize) {
    let msg = Bytes::from(vec![7u8; len]);
    for _ in 0..n {
        p.a.send(p.now, 0, 53, msg.clone(), SendOptions::default())
            .expect("send");
    }
}

/// Runs until b's unread backlog closed the window (less than a packet advertised) with
/// data still queued at a, then a little longer for what was in flight to settle.
fn close_window(p: &mut Pair<Association>) {
    let mtu = p.a.config.max_packet_size;
    let closed = p.run_until(Duration::from_secs(30), |p| {
        p.b.last_rwnd < mtu && p.a.total_buffered() > 0
    });
    assert!(closed, "the window closed with data still queued");
    p.run_until(Duration::from_millis(100), |_| false);
}

#[test]
fn reading_after_a_zero_window_sends_a_window_update_to_a_peer_that_never_probes() {
    let mut p = established(ideal(5), 91);
    p.a.config.zero_window_probe = false;
    queue(&mut p, 80, 64 * 1024);
    close_window(&mut p);
    // The peer waits: no new data however long we wait.
    let sent = p.a.stats().data_chunks_sent;
    p.run_until(Duration::from_secs(20), |_| false);
    assert_eq!(
        p.a.stats().data_chunks_sent,
        sent,
        "a non-probing sender waits"
    );
    assert_eq!(p.a.state(), AssociationState::Established);
    // The application reads: b must say so without being asked.
    let mut got = Vec::new();
    let done = p.run_until(Duration::from_secs(60), |p| {
        drain_messages(&mut p.b, &mut got);
        got.len() == 80
    });
    assert!(done, "only {} of 80 messages arrived", got.len());
}

#[test]
fn a_small_read_after_a_zero_window_is_announced_once_it_is_worth_a_packet() {
    let mut p = established(ideal(5), 92);
    queue(&mut p, 80, 64 * 1024);
    close_window(&mut p);
    let step = p.b.window_update_step();
    // Read less than a step: no SACK of its own.
    let mut read = 0;
    let read_one = |b: &mut Association| loop {
        match b.poll_event().expect("messages are waiting") {
            SctpEvent::Message { payload, .. } => return payload.len(),
            _ => continue,
        }
    };
    while read + 64 * 1024 < step {
        read += read_one(&mut p.b);
    }
    assert!(p.b.poll_transmit(p.now).is_none(), "no update below a step");
    // One more message crosses the step: a window update, advertising what is open.
    read_one(&mut p.b);
    let pkt = p.b.poll_transmit(p.now).expect("window update");
    let windows = sack_windows(&pkt);
    assert_eq!(windows.len(), 1, "a SACK");
    assert!(
        windows[0] as usize >= step,
        "advertises {} bytes",
        windows[0]
    );
}

#[test]
fn zero_window_is_probed_with_t3_running_and_recovers_when_the_update_is_lost() {
    let mut p = established(ideal(5), 93);
    queue(&mut p, 80, 64 * 1024);
    close_window(&mut p);
    // A probe is out at once, and T3-rtx keeps it going while the window stays shut.
    let t3_before = p.a.stats().t3_timeouts;
    p.run_until(Duration::from_secs(10), |_| false);
    assert!(p.a.bytes_in_flight() > 0, "one chunk probes the window");
    assert!(p.a.timers.is_set(Timer::T3), "T3-rtx runs while probing");
    assert!(
        p.a.stats().t3_timeouts > t3_before,
        "the probe was repeated"
    );
    assert_eq!(
        p.a.state(),
        AssociationState::Established,
        "probing is no failure"
    );
    // b reads everything, but its window update is lost: the next probe finds room.
    let mut got = Vec::new();
    drain_messages(&mut p.b, &mut got);
    let mut lost_update = false;
    p.tamper = Some(Box::new(move |to_b, pkt: &mut Vec<u8>| {
        if !to_b && !lost_update && !has_data(pkt) {
            lost_update = true;
            return false;
        }
        true
    }));
    let start = p.now;
    let done = p.run_until(Duration::from_secs(60), |p| {
        drain_messages(&mut p.b, &mut got);
        got.len() == 80
    });
    assert!(done, "only {} of 80 messages arrived", got.len());
    let rto_max = SctpConfig::default().rto_max;
    assert!(p.now - start < rto_max * 3, "recovered by the probe");
}
