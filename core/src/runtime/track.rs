//! The application's handles on media tracks: [`TrackLocal`] writes RTP on a transceiver's
//! sender, [`TrackRemote`] reads what its receiver gets.

use super::RuntimeError;
use super::shared::Shared;
use crate::media::{
    FrameWrite, KeyframeRequestKind, ReceivedFrame, ReceivedRtp, RtpWrite, TransceiverId,
};
use crate::peer_connection::TransceiverHandle;
use crate::rtp::rtcp::RtcpPacket;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll};

/// RTP packets kept per track for a reader that is behind; older ones are dropped past
/// this (media is real-time: a late reader wants the newest packets).
pub const MAX_QUEUED_RTP: usize = 1024;
/// Frames kept per track for a reader that is behind (older ones are dropped).
pub const MAX_QUEUED_FRAMES: usize = 256;
/// RTCP packets and keyframe requests kept per track.
const MAX_QUEUED_FEEDBACK: usize = 64;
/// `write_rtp` waits while the core holds more datagrams than this for the driver to send.
pub const RTP_SEND_HIGH_WATER: usize = 2048;

/// Per-transceiver state on the async side.
#[derive(Debug, Default)]
pub(crate) struct TrackEntry {
    pub(crate) rtp: VecDeque<ReceivedRtp>,
    pub(crate) frames: VecDeque<ReceivedFrame>,
    pub(crate) rtcp: VecDeque<RtcpPacket>,
    pub(crate) keyframe_requests: VecDeque<KeyframeRequestKind>,
    /// RTP packets and frames dropped because the reader was behind.
    pub(crate) dropped: u64,
    /// The peer stopped sending (track ended); reads return `None` once drained.
    pub(crate) ended: bool,
    pub(crate) waiters: super::waiters::Waiters,
}

impl TrackEntry {
    pub(crate) fn push_rtp(&mut self, packet: ReceivedRtp) {
        if self.rtp.len() >= MAX_QUEUED_RTP {
            self.rtp.pop_front();
            self.dropped += 1;
        }
        self.rtp.push_back(packet);
        self.ended = false;
        self.waiters.wake_all();
    }

    pub(crate) fn push_frame(&mut self, frame: ReceivedFrame) {
        if self.frames.len() >= MAX_QUEUED_FRAMES {
            self.frames.pop_front();
            self.dropped += 1;
        }
        self.frames.push_back(frame);
        self.ended = false;
        self.waiters.wake_all();
    }

    pub(crate) fn push_rtcp(&mut self, packet: RtcpPacket) {
        if self.rtcp.len() >= MAX_QUEUED_FEEDBACK {
            self.rtcp.pop_front();
        }
        self.rtcp.push_back(packet);
        self.waiters.wake_all();
    }

    pub(crate) fn push_keyframe_request(&mut self, kind: KeyframeRequestKind) {
        if self.keyframe_requests.len() >= MAX_QUEUED_FEEDBACK {
            self.keyframe_requests.pop_front();
        }
        self.keyframe_requests.push_back(kind);
        self.waiters.wake_all();
    }
}

/// Waits on `shared` until `take` yields something; `None` once the connection ended (or
/// `take` says the track is over), and at once for a transceiver the connection never had
/// (a made-up id must not wait forever).
async fn wait_for<T>(
    shared: &Shared,
    id: TransceiverId,
    mut take: impl FnMut(&mut TrackEntry, bool) -> Poll<Option<T>>,
) -> Option<T> {
    poll_fn(|cx: &mut Context<'_>| {
        let mut state = shared.lock();
        if state.pc.transceiver(id).is_err() {
            return Poll::Ready(None);
        }
        let finished = state.finished.is_some();
        let entry = state.track(id);
        match take(entry, finished) {
            Poll::Pending => {
                entry.waiters.register(cx.waker());
                Poll::Pending
            }
            ready => ready,
        }
    })
    .await
}

/// The receiving side of a transceiver (`RTCRtpReceiver` with its track), from an
/// [`Event::Track`](crate::peer_connection::Event::Track). Cheap to clone.
#[derive(Debug, Clone)]
pub struct TrackRemote {
    pub(crate) shared: Arc<Shared>,
    pub(crate) id: TransceiverId,
}

impl TrackRemote {
    /// The transceiver.
    pub fn transceiver(&self) -> TransceiverId {
        self.id
    }

    /// The next RTP packet, decrypted; `None` once the peer stopped sending on this
    /// transceiver (and every packet before was read) or the connection ended. A reader
    /// that falls [`MAX_QUEUED_RTP`] packets behind loses the oldest.
    pub async fn read_rtp(&self) -> Option<ReceivedRtp> {
        wait_for(&self.shared, self.id, |entry, finished| {
            if let Some(p) = entry.rtp.pop_front() {
                return Poll::Ready(Some(p));
            }
            if entry.ended || finished {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await
    }

    /// Switches the receiver to frames (`true`: [`read_frame`](Self::read_frame) gives
    /// whole frames, after loss recovery) or back to RTP packets (the default).
    pub fn set_receive_frames(&self, frames: bool) {
        let mut state = self.shared.lock();
        if let Ok(mut t) = state.pc.transceiver(self.id) {
            t.set_receive_frames(frames);
        }
    }

    /// The next whole frame (the receiver must be in frame mode, see
    /// [`set_receive_frames`](Self::set_receive_frames)); `None` once the peer stopped
    /// sending here (and every frame before was read) or the connection ended. A reader
    /// that falls `MAX_QUEUED_FRAMES` (256) frames behind loses the oldest.
    pub async fn read_frame(&self) -> Option<ReceivedFrame> {
        wait_for(&self.shared, self.id, |entry, finished| {
            if let Some(f) = entry.frames.pop_front() {
                return Poll::Ready(Some(f));
            }
            if entry.ended || finished {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await
    }

    /// The next RTCP packet about this transceiver's streams (sender reports, feedback);
    /// `None` once the connection ended.
    pub async fn read_rtcp(&self) -> Option<RtcpPacket> {
        wait_for(&self.shared, self.id, |entry, finished| {
            match entry.rtcp.pop_front() {
                Some(p) => Poll::Ready(Some(p)),
                None if finished => Poll::Ready(None),
                None => Poll::Pending,
            }
        })
        .await
    }

    /// RTP packets and frames dropped because the reader was behind.
    pub fn dropped(&self) -> u64 {
        self.shared.lock().track(self.id).dropped
    }

    /// Asks the peer for a keyframe (PLI or FIR) on what it sends here.
    pub fn request_keyframe(&self, kind: KeyframeRequestKind) -> Result<(), crate::Error> {
        let mut state = self.shared.lock();
        let result = state.pc.transceiver(self.id)?.request_keyframe(kind);
        state.wake_driver();
        result
    }

    /// A keyframe request for the peer's simulcast layer `rid` (see
    /// [`TransceiverHandle::request_layer_keyframe`](crate::peer_connection::TransceiverHandle::request_layer_keyframe)).
    pub fn request_layer_keyframe(
        &self,
        rid: &str,
        kind: KeyframeRequestKind,
    ) -> Result<(), crate::Error> {
        let mut state = self.shared.lock();
        let result = state
            .pc
            .transceiver(self.id)?
            .request_layer_keyframe(rid, kind);
        state.wake_driver();
        result
    }

    /// `inbound-rtp` stats of the SSRCs received here.
    pub fn stats(&self) -> Vec<crate::media::InboundRtpStats> {
        let mut state = self.shared.lock();
        state
            .pc
            .transceiver(self.id)
            .map(|t| t.receiver_stats())
            .unwrap_or_default()
    }
}

/// The sending side of a transceiver (`RTCRtpSender`): writes RTP. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TrackLocal {
    pub(crate) shared: Arc<Shared>,
    pub(crate) id: TransceiverId,
}

impl TrackLocal {
    /// The transceiver.
    pub fn transceiver(&self) -> TransceiverId {
        self.id
    }

    /// Sends one RTP packet (see [`RtpWrite`] for what the core rewrites). Waits while
    /// more than [`RTP_SEND_HIGH_WATER`] datagrams wait for the driver (back-pressure when
    /// the socket cannot keep up).
    ///
    /// Errors: those of [`TransceiverHandle::write_rtp`](crate::peer_connection::TransceiverHandle::write_rtp)
    /// (`NoSuchTransceiver` for an id the connection never had), and `Closed` once the
    /// connection ended.
    pub async fn write_rtp(&self, packet: RtpWrite<'_>) -> Result<(), crate::Error> {
        self.send_when_room(|t| t.write_rtp(packet)).await
    }

    /// Sends one encoded frame, packetized with the negotiated codec (see
    /// [`TransceiverHandle::write_frame`](crate::peer_connection::TransceiverHandle::write_frame)),
    /// with the back-pressure of [`write_rtp`](Self::write_rtp).
    ///
    /// Errors: those of `TransceiverHandle::write_frame`, and `Closed` once the connection
    /// ended.
    pub async fn write_frame(&self, frame: FrameWrite<'_>) -> Result<(), crate::Error> {
        self.send_when_room(|t| t.write_frame(frame)).await
    }

    /// Runs `send` on this sender's transceiver once no more than [`RTP_SEND_HIGH_WATER`]
    /// datagrams wait for the driver, then wakes the driver. `Closed` once the connection
    /// ended; the transceiver lookup's error for an id the connection never had.
    async fn send_when_room(
        &self,
        mut send: impl FnMut(&mut TransceiverHandle<'_>) -> Result<(), crate::Error>,
    ) -> Result<(), crate::Error> {
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            if state.finished.is_some() {
                return Poll::Ready(Err(RuntimeError::Closed.into()));
            }
            if let Err(e) = state.pc.transceiver(self.id) {
                return Poll::Ready(Err(e));
            }
            if state.pc.queued_transmits() > RTP_SEND_HIGH_WATER {
                state.send_waiters.register(cx.waker());
                state.wake_driver();
                return Poll::Pending;
            }
            let result = state.pc.transceiver(self.id).and_then(|mut t| send(&mut t));
            state.wake_driver();
            Poll::Ready(result)
        })
        .await
    }

    /// The next keyframe request (PLI or FIR) the peer sent about this sender; `None` once
    /// the connection ended.
    pub async fn keyframe_request(&self) -> Option<KeyframeRequestKind> {
        wait_for(&self.shared, self.id, |entry, finished| {
            match entry.keyframe_requests.pop_front() {
                Some(k) => Poll::Ready(Some(k)),
                None if finished => Poll::Ready(None),
                None => Poll::Pending,
            }
        })
        .await
    }

    /// `outbound-rtp` stats of the sender.
    pub fn stats(&self) -> Option<crate::media::OutboundRtpStats> {
        let mut state = self.shared.lock();
        state.pc.transceiver(self.id).ok().map(|t| t.sender_stats())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::shared::fresh_state;
    use std::future::Future;

    /// Polls `f` once with a waker that does nothing.
    fn poll_once<T>(f: impl Future<Output = T>) -> Poll<T> {
        let mut f = std::pin::pin!(f);
        f.as_mut()
            .poll(&mut Context::from_waker(std::task::Waker::noop()))
    }

    #[test]
    fn a_made_up_transceiver_id_ends_reads_at_once_and_fails_writes() {
        let shared = Shared::new(fresh_state());
        let ghost = TransceiverId(42);
        let remote = TrackRemote {
            shared: shared.clone(),
            id: ghost,
        };
        assert!(matches!(poll_once(remote.read_rtp()), Poll::Ready(None)));
        assert!(matches!(poll_once(remote.read_rtcp()), Poll::Ready(None)));
        assert!(matches!(poll_once(remote.read_frame()), Poll::Ready(None)));
        let local = TrackLocal { shared, id: ghost };
        assert!(matches!(
            poll_once(local.keyframe_request()),
            Poll::Ready(None)
        ));
    }

    #[test]
    fn frames_are_read_in_order_and_a_slow_reader_loses_the_oldest() {
        let shared = Shared::new(fresh_state());
        let id = {
            let mut state = shared.lock();
            let id = state
                .pc
                .add_transceiver(
                    crate::sdp::MediaKind::Video,
                    crate::media::TransceiverInit::default(),
                )
                .expect("transceiver");
            let mut t = state.pc.transceiver(id).expect("t");
            t.set_receive_frames(true);
            assert!(t.receives_frames());
            for i in 0..(MAX_QUEUED_FRAMES as u32 + 2) {
                let frame = ReceivedFrame {
                    transceiver: id,
                    ssrc: 1,
                    rid: None,
                    payload_type: 96,
                    codec: "VP8".into(),
                    timestamp: i,
                    keyframe: i == 0,
                    contiguous: true,
                    sequence_numbers: (0, 0),
                    #[allow(clippy::disallowed_methods)]
                    received_at: std::time::Instant::now(),
                    data: bytes::Bytes::from_static(b"f"),
                    info: Default::default(),
                    svc_layer: None,
                };
                state.track(id).push_frame(frame);
            }
            id
        };
        let remote = TrackRemote {
            shared: shared.clone(),
            id,
        };
        assert!(matches!(poll_once(remote.read_frame()), Poll::Ready(Some(f)) if f.timestamp == 2));
        assert_eq!(remote.dropped(), 2);
        let local = TrackLocal { shared, id };
        // Not negotiated: the frame write fails as write_rtp would.
        let result = poll_once(local.write_frame(FrameWrite::new(0, b"x")));
        assert!(matches!(result, Poll::Ready(Err(_))));
    }
}
