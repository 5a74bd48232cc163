//! `LoopHandle::call`: commands that answer, waited for by blocking or as a future.

use rtcpeer::peer_connection::{RtcConfiguration, SignalingState};
use rtcpeer_mio::{EventLoop, LoopEnded, LoopHandle, SocketConfig};
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::JoinHandle;
use std::time::Instant;

fn start_loop() -> (LoopHandle, JoinHandle<std::io::Result<()>>) {
    let event_loop =
        EventLoop::new(&SocketConfig::loopback(), |_, _, _| {}).expect("event loop on 127.0.0.1");
    let handle = event_loop.handle();
    (handle, std::thread::spawn(move || event_loop.run()))
}

fn stop_loop(handle: &LoopHandle, thread: JoinHandle<std::io::Result<()>>) {
    handle.close().expect("loop runs");
    thread
        .join()
        .expect("loop thread")
        .expect("loop ends cleanly");
}

struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `fut` on this thread, parking between wake-ups; counts the polls.
fn block_on<F: Future + Unpin>(mut fut: F) -> (F::Output, usize) {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut polls = 0;
    loop {
        polls += 1;
        if let Poll::Ready(v) = std::pin::Pin::new(&mut fut).poll(&mut cx) {
            return (v, polls);
        }
        std::thread::park();
    }
}

#[test]
fn call_returns_what_the_command_computed_on_the_loop() {
    let (handle, thread) = start_loop();
    let added = handle
        .call(|ep| {
            let h = ep.add_peer_connection(RtcConfiguration::default(), Instant::now())?;
            let pc = ep.peer_connection(h).expect("just added");
            let offer = pc.create_offer()?;
            pc.set_local_description(offer)?;
            Ok::<_, rtcpeer::Error>(h)
        })
        .wait()
        .expect("loop runs the command")
        .expect("offer on a new connection");
    let state = handle
        .call(move |ep| ep.peer_connection(added).map(|pc| pc.signaling_state()))
        .wait()
        .expect("loop runs the command");
    assert_eq!(state, Some(SignalingState::HaveLocalOffer));
    stop_loop(&handle, thread);
}

#[test]
fn a_reply_is_a_future_the_loop_wakes() {
    let (handle, thread) = start_loop();
    let (count, polls) = block_on(handle.call(|ep| ep.handles().len()));
    assert_eq!(count, Ok(0));
    assert!(polls >= 1);
    stop_loop(&handle, thread);
}

#[test]
fn a_call_after_the_loop_ended_reports_loop_ended() {
    let (handle, thread) = start_loop();
    stop_loop(&handle, thread);
    assert_eq!(handle.call(|ep| ep.handles().len()).wait(), Err(LoopEnded));
    let (awaited, _) = block_on(handle.call(|ep| ep.handles().len()));
    assert_eq!(awaited, Err(LoopEnded));
}

#[test]
fn a_command_dropped_by_a_loop_that_never_ran_reports_loop_ended() {
    let event_loop =
        EventLoop::new(&SocketConfig::loopback(), |_, _, _| {}).expect("event loop on 127.0.0.1");
    let reply = event_loop.handle().call(|ep| ep.handles().len());
    drop(event_loop);
    assert_eq!(reply.wait(), Err(LoopEnded));
}
