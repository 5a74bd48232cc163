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

#[test]
fn channel_created_after_connecting_from_the_answerer_opens_on_both_sides() {
    let (mut p, _, _) = open_pair(4);
    let late = p.with(false, |pc| {
        pc.create_data_channel("late", DataChannelInit::default())
            .expect("dc")
    });
    assert!(
        p.run_until(Duration::from_secs(5), |p| p.opened(false, late)
            && p.incoming(true).len() == 1)
    );
    let at_a = p.incoming(true)[0];
    p.with(false, |pc| {
        pc.data_channel(late)
            .expect("h")
            .send_text("from b")
            .expect("send")
    });
    assert!(p.run_until(Duration::from_secs(5), |p| {
        !p.messages(true, at_a).is_empty()
    }));
    assert_eq!(p.messages(true, at_a), vec![(b"from b".to_vec(), false)]);
}

#[test]
fn pre_negotiated_channels_open_without_dcep_and_carry_data() {
    let mut p = Pair::new(5);
    let init = DataChannelInit {
        negotiated: true,
        id: Some(7),
        ..DataChannelInit::default()
    };
    let ca = p.with(true, |pc| {
        pc.create_data_channel("n", init.clone()).expect("dc")
    });
    let cb = p.with(false, |pc| pc.create_data_channel("n", init).expect("dc"));
    p.negotiate(true);
    assert!(p.run_until(Duration::from_secs(10), |p| p.opened(true, ca)
        && p.opened(false, cb)));
    assert!(p.incoming(false).is_empty());
    p.with(true, |pc| {
        pc.data_channel(ca)
            .expect("h")
            .send_binary(vec![9u8; 1000])
            .expect("send")
    });
    assert!(p.run_until(Duration::from_secs(5), |p| {
        !p.messages(false, cb).is_empty()
    }));
    assert_eq!(p.messages(false, cb), vec![(vec![9u8; 1000], true)]);
}

#[test]
fn glare_is_resolved_by_rollback() {
    let mut p = Pair::new(6);
    let ca = p.with(true, |pc| {
        pc.create_data_channel("a", DataChannelInit::default())
            .expect("dc")
    });
    p.with(false, |pc| {
        pc.create_data_channel("b", DataChannelInit::default())
            .expect("dc")
    });
    let offer_a = p.with(true, |pc| {
        let o = pc.create_offer().expect("offer");
        pc.set_local_description(o.clone()).expect("sld");
        o
    });
    let offer_b = p.with(false, |pc| {
        let o = pc.create_offer().expect("offer");
        pc.set_local_description(o.clone()).expect("sld");
        o
    });
    let _ = offer_b;
    // b is polite: its set_remote_description fails in have-local-offer, so it rolls back.
    let err = p.with(false, |pc| {
        pc.set_remote_description(offer_a.clone()).unwrap_err()
    });
    assert!(err.to_string().contains("not allowed"), "{err}");
    let answer = p.with(false, |pc| {
        pc.set_local_description(rtcpeer::RtcSessionDescription::rollback())
            .expect("rollback");
        assert_eq!(pc.signaling_state(), rtcpeer::SignalingState::Stable);
        pc.set_remote_description(offer_a).expect("srd");
        let a = pc.create_answer().expect("answer");
        pc.set_local_description(a.clone()).expect("sld");
        a
    });
    p.with(true, |pc| {
        pc.set_remote_description(answer).expect("srd answer")
    });
    assert!(p.run_until(Duration::from_secs(10), |p| p.opened(true, ca)));
    assert!(p.connected());
}

#[test]
fn wrong_fingerprint_in_the_answer_fails_the_connection() {
    let mut p = Pair::new(7);
    p.with(true, |pc| {
        pc.create_data_channel("c", DataChannelInit::default())
            .expect("dc")
    });
    let offer = p.with(true, |pc| {
        let o = pc.create_offer().expect("offer");
        pc.set_local_description(o.clone()).expect("sld");
        o
    });
    let mut answer = p.with(false, |pc| {
        pc.set_remote_description(offer).expect("srd");
        let a = pc.create_answer().expect("answer");
        pc.set_local_description(a.clone()).expect("sld");
        a
    });
    let at = answer
        .sdp
        .find("a=fingerprint:sha-256 ")
        .expect("fingerprint")
        + 22;
    let flipped = if &answer.sdp[at..at + 1] == "0" {
        "1"
    } else {
        "0"
    };
    answer.sdp.replace_range(at..at + 1, flipped);
    p.with(true, |pc| pc.set_remote_description(answer).expect("srd"));
    assert!(
        p.run_until(Duration::from_secs(200), |p| p.pc(true).connection_state()
            == PeerConnectionState::Failed)
    );
}

#[test]
fn close_on_one_side_closes_the_other_at_once() {
    let (mut p, _ca, cb) = open_pair(8);
    p.with(true, |pc| pc.close());
    assert_eq!(p.pc(true).connection_state(), PeerConnectionState::Closed);
    // The close (SCTP ABORT, then DTLS close_notify) closes the peer on arrival, not
    // after ICE consent expires (issue 11).
    assert!(p.run_until(Duration::from_secs(1), |p| {
        p.events(false).contains(&Event::ChannelClosed(cb))
            && p.pc(false).connection_state() == PeerConnectionState::Closed
    }));
    assert!(p.pc(false).closed_by_peer().is_some());
}

#[test]
fn ice_restart_mid_transfer_loses_no_message() {
    let (mut p, ca, cb) = open_pair(9);
    for i in 0..20u32 {
        p.with(true, |pc| {
            pc.data_channel(ca)
                .expect("h")
                .send_text(&format!("m{i}"))
                .expect("send")
        });
    }
    let ufrag_before = p.pc(true).local_ufrag().to_string();
    p.with(true, |pc| pc.restart_ice());
    p.negotiate(true);
    assert_ne!(p.pc(true).local_ufrag(), ufrag_before);
    for i in 20..40u32 {
        p.with(true, |pc| {
            pc.data_channel(ca)
                .expect("h")
                .send_text(&format!("m{i}"))
                .expect("send")
        });
    }
    assert!(
        p.run_until(Duration::from_secs(10), |p| p.messages(false, cb).len()
            == 40)
    );
    let got: Vec<String> = p
        .messages(false, cb)
        .into_iter()
        .map(|(d, _)| String::from_utf8(d).expect("utf8"))
        .collect();
    let want: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
    assert_eq!(got, want);
    assert!(p.connected());
}

#[test]
fn same_seed_gives_identical_sdp_and_datagrams() {
    let run = || {
        let (mut p, ca, _) = open_pair(10);
        p.with(true, |pc| {
            pc.data_channel(ca)
                .expect("h")
                .send_text("x")
                .expect("send")
        });
        p.sim.run_for(Duration::from_secs(1)).expect("run");
        let sdp = p.pc(true).local_description().expect("sdp").sdp;
        (sdp, p.sim.capture_digest())
    };
    assert_eq!(run(), run());
}

#[test]
fn channels_created_on_both_sides_before_connecting_open_and_cross() {
    let mut p = Pair::new(11);
    let ca = p.with(true, |pc| {
        pc.create_data_channel("from-a", DataChannelInit::default())
            .expect("dc")
    });
    let cb = p.with(false, |pc| {
        pc.create_data_channel("from-b", DataChannelInit::default())
            .expect("dc")
    });
    p.negotiate(true);
    assert!(p.run_until(Duration::from_secs(10), |p| p.opened(true, ca)
        && p.opened(false, cb)
        && p.incoming(true).len() == 1
        && p.incoming(false).len() == 1));
    let (ia, ib) = (p.incoming(true)[0], p.incoming(false)[0]);
    assert!(p.run_until(Duration::from_secs(5), |p| p.opened(true, ia)
        && p.opened(false, ib)));
    p.with(true, |pc| {
        pc.data_channel(ca)
            .expect("h")
            .send_text("a1")
            .expect("send")
    });
    p.with(false, |pc| {
        pc.data_channel(cb)
            .expect("h")
            .send_text("b1")
            .expect("send")
    });
    assert!(p.run_until(
        Duration::from_secs(5),
        |p| !p.messages(false, ib).is_empty() && !p.messages(true, ia).is_empty()
    ));
    assert_eq!(p.messages(false, ib), vec![(b"a1".to_vec(), false)]);
    assert_eq!(p.messages(true, ia), vec![(b"b1".to_vec(), false)]);
}

/// `candidate` lines (in an SDP or alone) with `ip` replaced by an mDNS-style name, as a
/// browser hides its local addresses.
fn hide_behind_mdns(text: &str, ip: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            if line.contains("candidate:") {
                line.replace(ip, "0c9d4f2e-5b1a-4d3e-9f27-6a8b1c2d3e4f.local")
            } else {
                line.to_owned()
            }
        })
        .collect()
}

#[test]
fn unanswered_mdns_candidates_are_given_up_and_the_peer_is_learned_from_its_checks() {
    let mut p = Pair::new(31);
    p.trickle = false;
    let a_ip = A_ADDR.split(':').next().expect("ip");
    let ca = p.with(true, |pc| {
        pc.create_data_channel("m", DataChannelInit::default())
            .expect("dc")
    });
    let mut offer = p.with(true, |pc| {
        let o = pc.create_offer().expect("offer");
        pc.set_local_description(o.clone()).expect("sld");
        o
    });
    offer.sdp = hide_behind_mdns(&offer.sdp, a_ip);
    let answer = p.with(false, |pc| {
        pc.set_remote_description(offer)
            .expect("an offer with mDNS candidates is accepted");
        let a = pc.create_answer().expect("answer");
        pc.set_local_description(a.clone()).expect("sld");
        a
    });
    p.with(true, |pc| pc.set_remote_description(answer).expect("srd"));
    let mut forwarded = 0;
    assert!(p.run_until(Duration::from_secs(10), |p| {
        p.collect();
        let (a_cands, b_cands) = (candidates(&p.a_events), candidates(&p.b_events));
        for c in a_cands.iter().skip(forwarded) {
            let mut hidden = c.clone();
            hidden.candidate = hide_behind_mdns(&c.candidate, a_ip);
            p.with(false, |pc| {
                pc.add_ice_candidate(hidden)
                    .expect("accepted, not an error")
            });
        }
        forwarded = a_cands.len();
        for c in b_cands {
            p.with(true, |pc| pc.add_ice_candidate(c).expect("add"));
        }
        p.b_events.retain(|e| !matches!(e, Event::IceCandidate(_)));
        p.opened(true, ca) && !p.incoming(false).is_empty()
    }));
    assert!(p.connected());
    assert!(p.run_until(Duration::from_secs(5), nominated));
    // Nobody answers b's mDNS queries here: the names are given up after the bound.
    assert!(
        p.run_until(Duration::from_secs(5), |p| p.pc(false).stats().mdns_failed
            >= 1)
    );
    let unresolved = p.pc(false).stats().remote_candidates_unresolved;
    assert!(unresolved >= 1, "b saw a's hidden candidates: {unresolved}");
    let learned = p.pc(false).selected_pair().expect("b has a selected pair");
    assert_eq!(learned.remote, A_ADDR.parse().expect("addr"));
}

fn candidates(events: &[Event]) -> Vec<rtcpeer::peer_connection::IceCandidate> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::IceCandidate(c) if !c.candidate.is_empty() => Some(c.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn channels_open_on_the_first_valid_pair_before_nomination() {
    // A long check pacing (500 ms) puts the nominating check far behind the first
    // successful check; DTLS, SCTP and the channel must not wait for it.
    let slow_pacing = |seed: u64, addr: &str, now| {
        let mut config = rtcpeer::peer_connection::RtcConfiguration::with_seed(seed);
        config.ice_timing.ta = Duration::from_millis(500);
        let mut pc = rtcpeer::peer_connection::PeerConnection::new(config, now).expect("config");
        pc.add_local_socket(now, addr.parse().expect("addr"))
            .expect("socket");
        rtcpeer::peer_connection::SimPeer::new(pc)
    };
    let mut p = Pair::with_peers(31, |now| {
        (slow_pacing(63, A_ADDR, now), slow_pacing(64, B_ADDR, now))
    });
    let ca = p.with(true, |pc| {
        pc.create_data_channel("early", DataChannelInit::default())
            .expect("dc")
    });
    p.negotiate(true);
    assert!(p.run_until(Duration::from_secs(2), |p| {
        p.opened(true, ca)
            && p.incoming(false)
                .first()
                .is_some_and(|&cb| p.opened(false, cb))
    }));
    for side in [true, false] {
        let pc = p.pc(side);
        assert!(pc.selected_pair().is_none(), "nominated already");
        assert!(pc.data_path().is_some());
        assert_eq!(pc.connection_state(), PeerConnectionState::Connected);
        assert_eq!(pc.stats().dropped_no_path, 0, "a flight was lost");
    }
    assert!(p.run_until(Duration::from_secs(5), nominated));
    assert_eq!(p.pc(true).selected_pair(), p.pc(true).data_path());
}
