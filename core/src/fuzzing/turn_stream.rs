//! TURN over a stream (TCP/TLS): [`StreamFramer`] takes the input in pieces whose sizes the
//! input's first byte chooses, hands out only whole STUN or ChannelData messages (never
//! over [`MAX_FRAME_LEN`], never holding more), and each message goes to a TURN client
//! running over TCP, which never panics on it.

use super::{Milestones, Target};
use crate::rng::Rng;
use crate::stun::{StunMessage, TransactionId};
use crate::turn::{
    ChannelData, MAX_FRAME_LEN, StreamFramer, TurnClient, TurnClientConfig, TurnTransport,
    is_channel_data,
};
use std::time::Instant;

pub(super) const TARGET: Target = Target {
    name: "turn_stream",
    run,
    seeds,
    deep: &[
        "turn_stream_stun",
        "turn_stream_channel_data",
        "turn_stream_split",
        "turn_stream_error",
    ],
};

fn run(data: &[u8], now: Instant) -> Milestones {
    let mut reached = Milestones::new();
    let Some((&piece, stream)) = data.split_first() else {
        return reached;
    };
    let piece = usize::from(piece).max(1);
    let server = "198.51.100.5:3478".parse().expect("address");
    let mut config = TurnClientConfig::new(server, "u", "p");
    config.transport = TurnTransport::Tcp;
    let mut client = TurnClient::new(
        config,
        "203.0.113.9:5000".parse().expect("address"),
        Rng::from_u64(1),
    );
    client.start(now);
    while client.poll_transmit().is_some() {}
    let mut framer = StreamFramer::new();
    let mut messages = Vec::new();
    for chunk in stream.chunks(piece) {
        let result = framer.push(chunk, |m| messages.push(m.to_vec()));
        assert!(framer.buffered() <= MAX_FRAME_LEN, "framer holds too much");
        if framer.buffered() > 0 {
            reached.insert("turn_stream_split");
        }
        if result.is_err() {
            reached.insert("turn_stream_error");
            break;
        }
    }
    for m in &messages {
        assert!(m.len() <= MAX_FRAME_LEN);
        if is_channel_data(m) {
            let cd = ChannelData::parse(m).expect("the framer hands out whole ChannelData");
            assert_eq!(cd.payload.len() + 4, m.len());
            reached.insert("turn_stream_channel_data");
        } else {
            reached.insert("turn_stream_stun");
        }
        let _ = client.handle_receive(now, m);
    }
    client.handle_timeout(now);
    reached
}

fn seeds(_: Instant) -> Vec<Vec<u8>> {
    let stun = StunMessage::binding_request(TransactionId([7; 12]))
        .encode(None, true)
        .expect("encode");
    let mut stream = vec![5];
    stream.extend_from_slice(&stun);
    ChannelData::encode_into(0x4000, b"abcde", true, &mut stream);
    ChannelData::encode_into(0x4001, b"", true, &mut stream);
    stream.extend_from_slice(&stun);
    let whole = [&[255u8][..], &stream[1..]].concat();
    let garbage = [&stream[..], &[0x16, 0x03, 0x03, 0x00, 0x10][..]].concat();
    vec![stream, whole, garbage]
}
