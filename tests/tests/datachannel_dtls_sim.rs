//! Data channels over a real DTLS pair through the network simulator (RFC 8261 / RFC 8831):
//! every SCTP packet travels as a DTLS application data record over simulated UDP.

#[path = "datachannel_dtls_sim/node.rs"]
mod node;

use node::{Pair, messages};
use rtcpeer::datachannel::{DataChannelEvent, DataChannelInit, DataChannels};
use rtcpeer::sim::{LinkConfig, Loss, NodeId};
use std::time::Duration;

fn lossy(loss: f64) -> LinkConfig {
    LinkConfig::new()
        .latency(Duration::from_millis(10))
        .loss(Loss::Random(loss))
        .duplicate(0.05)
        .reorder(0.1, Duration::from_millis(8))
}

fn open(pair: &mut Pair, from: NodeId, label: &str, init: DataChannelInit) -> u16 {
    let id = pair.with(from, |dc| dc.create_channel(label, init).expect("create"));
    let to = if from == pair.client {
        pair.server
    } else {
        pair.client
    };
    pair.run_until(Duration::from_secs(30), |p| {
        p.node(to).saw(&DataChannelEvent::Open(id)) && p.node(from).saw(&DataChannelEvent::Open(id))
    });
    id
}

fn send(dc: &mut DataChannels, id: u16, msg: &[u8]) {
    dc.channel(id)
        .expect("channel")
        .send_binary(msg.to_vec().into())
        .expect("send");
}

/// Sends `msgs` on `id` from `from`, keeping at most 1 MiB buffered, until `to` holds
/// `expect` messages on `id` (or the virtual `timeout` passes).
fn stream(pair: &mut Pair, from: NodeId, to: NodeId, id: u16, msgs: &[Vec<u8>], expect: usize) {
    let deadline = pair.sim.now() + Duration::from_secs(1200);
    let mut next = 0;
    while pair.node(to).messages(id).len() < expect {
        assert!(pair.sim.now() < deadline, "transfer timed out");
        pair.with(from, |dc| {
            while next < msgs.len() && dc.association().total_buffered() < 1 << 20 {
                send(dc, id, &msgs[next]);
                next += 1;
            }
        });
        pair.sim.run_for(Duration::from_millis(20)).expect("run");
    }
}

#[test]
fn ordered_reliable_channel_delivers_1000_random_messages_through_loss_reordering_duplication() {
    let mut pair = Pair::connect(1, lossy(0.2));
    let (c, s) = (pair.client, pair.server);
    let id = open(&mut pair, c, "bulk", DataChannelInit::default());
    assert_eq!(id % 2, 0, "the DTLS client uses even stream ids");
    let msgs = messages(2, 1000, 256 * 1024);
    stream(&mut pair, c, s, id, &msgs, msgs.len());
    let got = pair.server().messages(id);
    assert_eq!(got.len(), msgs.len());
    for (i, (g, m)) in got.iter().zip(&msgs).enumerate() {
        assert!(
            *g == &m[..],
            "message {i} differs ({} vs {} bytes)",
            g.len(),
            m.len()
        );
    }
    assert_eq!(pair.client().seal_errors + pair.server().seal_errors, 0);
}
