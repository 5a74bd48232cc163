//! Fuzzes the ICE agent: candidate lines (even first byte) or a sequence of datagrams
//! fed to an agent that is checking (odd first byte). Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtcpeer::Rng;
use rtcpeer::ice::{Candidate, Credentials, IceAgent, IceConfig};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        if let Ok(s) = std::str::from_utf8(rest) {
            if let Ok(c) = s.parse::<Candidate>() {
                assert_eq!(c.to_string().parse::<Candidate>(), Ok(c));
            }
        }
        return;
    }
    let mut now = Instant::now();
    let local: SocketAddr = "10.0.0.1:5000".parse().unwrap();
    let remote: SocketAddr = "10.0.0.2:6000".parse().unwrap();
    let mut agent = IceAgent::new(IceConfig::default(), Rng::from_u64(1)).unwrap();
    agent
        .set_remote_credentials(now, Credentials::new("abcd", "0123456789012345678901"))
        .unwrap();
    agent.add_local_socket(now, local).unwrap();
    let line = "candidate:1 1 udp 2130706431 10.0.0.2 6000 typ host";
    agent
        .add_remote_candidate(now, line.parse().unwrap())
        .unwrap();
    for datagram in rest.split(|b| *b == 0xA5).take(64) {
        agent.handle_receive(now, remote, local, datagram);
        now += Duration::from_millis(20);
        agent.handle_timeout(now);
        while agent.poll_transmit().is_some() {}
        while agent.poll_event().is_some() {}
    }
});
