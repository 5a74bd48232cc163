//! Two rtcpeer `PeerConnection`s in the simulator: offer/answer, candidates, channels.

mod pc_common;
use pc_common::*;
use rtcpeer::peer_connection::{DataChannelInit, Event, PeerConnectionState};
use std::time::Duration;

#[test]
fn trickle_offer_answer_connects_and_channel_carries_text_and_binary_both_ways() {
    let mut p = Pair::new(1);
    let ca = p.with(true, |pc| {
        pc.create_data_channel("chat", DataChannelInit::default())
            .expect("dc")
    });
    assert!(p.pa().events.contains(&Event::NegotiationNeeded));
    p.negotiate(true);
    assert!(p.run_until(Duration::from_secs(10), |p| p.opened(true, ca)
        && !p.incoming(false).is_empty()));
    let cb = p.incoming(false)[0];
    assert!(p.run_until(Duration::from_secs(5), |p| p.opened(false, cb)));
    assert!(p.connected());
    p.with(true, |pc| {
        pc.data_channel(ca)
            .expect("h")
            .send_text("hello")
            .expect("send")
    });
    p.with(false, |pc| {
        pc.data_channel(cb)
            .expect("h")
            .send_binary(vec![1u8, 2, 3])
            .expect("send")
    });
    assert!(p.run_until(
        Duration::from_secs(5),
        |p| !p.messages(false, cb).is_empty() && !p.messages(true, ca).is_empty()
    ));
    assert_eq!(p.messages(false, cb), vec![(b"hello".to_vec(), false)]);
    assert_eq!(p.messages(true, ca), vec![(vec![1, 2, 3], true)]);
}

#[test]
fn non_trickle_candidates_in_sdp_connect() {
    let mut p = Pair::new(2);
    p.trickle = false;
    let ca = p.with(true, |pc| {
        pc.create_data_channel("x", DataChannelInit::default())
            .expect("dc")
    });
    p.with(true, |pc| {
        let o = pc.create_offer().expect("offer");
        pc.set_local_description(o).expect("sld");
    });
    assert!(
        p.run_until(Duration::from_secs(5), |p| p.pc(true).ice_gathering_state()
            == rtcpeer::peer_connection::IceGatheringState::Complete)
    );
    let offer = p.pa().pc.local_description().expect("local");
    assert!(offer.sdp.contains("a=candidate:"), "{}", offer.sdp);
    assert!(offer.sdp.contains("a=end-of-candidates"));
    p.with(false, |pc| {
        pc.set_remote_description(offer).expect("srd");
        let a = pc.create_answer().expect("answer");
        pc.set_local_description(a).expect("sld");
    });
    assert!(p.run_until(
        Duration::from_secs(5),
        |p| p.pc(false).ice_gathering_state()
            == rtcpeer::peer_connection::IceGatheringState::Complete
    ));
    let answer = p.pb().pc.local_description().expect("local");
    assert!(answer.sdp.contains("a=candidate:"));
    p.with(true, |pc| pc.set_remote_description(answer).expect("srd"));
    assert!(p.run_until(Duration::from_secs(10), |p| p.opened(true, ca)));
    assert!(p.run_until(Duration::from_secs(5), |p| p.connected()));
}

#[test]
fn unreachable_peer_fails() {
    let mut p = Pair::new(3);
    p.with(true, |pc| {
        pc.create_data_channel("x", DataChannelInit::default())
            .expect("dc")
    });
    // b answers but every datagram is lost: cut both links.
    let cut = rtcpeer::sim::LinkConfig::new().loss(rtcpeer::sim::Loss::Random(1.0));
    let b = p.b;
    p.sim
        .set_node_link(b, rtcpeer::sim::Direction::Both, cut)
        .expect("link");
    p.negotiate(true);
    assert!(
        p.run_until(Duration::from_secs(60), |p| p.pc(true).connection_state()
            == PeerConnectionState::Failed)
    );
}
