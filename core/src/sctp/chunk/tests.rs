//! Chunk codec tests: byte-exact encodings, round trips for every chunk type (proptest),
//! and arbitrary bytes into the parser.

use super::*;
use crate::sctp::packet::{PacketView, PacketWriter};
use proptest::prelude::*;

fn round_trip(c: &Chunk) -> Chunk {
    let mut w = PacketWriter::new(5000, 5000, 1, 0);
    c.emit(&mut w);
    let pkt = Bytes::from(w.finish(false));
    let view = PacketView::new_checked(pkt, false).expect("checksum");
    let mut chunks = view.chunks();
    let raw = chunks.next().expect("one chunk").expect("well formed");
    assert!(chunks.next().is_none());
    Chunk::parse(raw).expect("parses")
}

#[test]
fn data_chunk_is_byte_exact() {
    let d = DataChunk {
        tsn: 0x0102_0304,
        stream: 5,
        ssn: 6,
        ppid: 53,
        unordered: true,
        beginning: true,
        ending: false,
        immediate: false,
        payload: Bytes::from_static(b"abcde"),
    };
    let mut w = PacketWriter::new(5000, 5000, 7, 0);
    d.emit(&mut w);
    let pkt = w.finish(true);
    assert_eq!(
        &pkt[12..],
        &[
            0, 6, 0, 21, 1, 2, 3, 4, 0, 5, 0, 6, 0, 0, 0, 53, b'a', b'b', b'c', b'd', b'e', 0, 0, 0
        ]
    );
}

#[test]
fn sack_is_byte_exact() {
    let s = SackChunk {
        cumulative_tsn_ack: 9,
        a_rwnd: 0x10000,
        gap_blocks: vec![(2, 3)],
        duplicate_tsns: vec![7],
    };
    let mut w = PacketWriter::new(1, 2, 3, 0);
    s.emit(&mut w);
    let pkt = w.finish(true);
    assert_eq!(
        &pkt[12..],
        &[
            3, 0, 0, 24, 0, 0, 0, 9, 0, 1, 0, 0, 0, 1, 0, 1, 0, 2, 0, 3, 0, 0, 0, 7
        ]
    );
}

#[test]
fn init_with_zero_initiate_tag_is_malformed() {
    let i = InitChunk {
        initiate_tag: 0,
        outbound_streams: 1,
        inbound_streams: 1,
        ..Default::default()
    };
    assert_eq!(InitChunk::parse(&Bytes::from(i.to_bytes())), Err(BadChunk));
}

#[test]
fn truncated_sack_is_malformed() {
    let v = Bytes::from_static(&[0, 0, 0, 1, 0, 0, 0, 1, 0, 5, 0, 0]);
    assert_eq!(SackChunk::parse(&v), Err(BadChunk));
}

fn bytes_strategy(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn cause_strategy() -> impl Strategy<Value = ErrorCause> {
    (any::<u16>(), bytes_strategy(20)).prop_map(|(c, info)| ErrorCause {
        code: CauseCode(c),
        info,
    })
}

fn init_strategy() -> impl Strategy<Value = InitChunk> {
    (
        1..=u32::MAX,
        any::<u32>(),
        1..=u16::MAX,
        1..=u16::MAX,
        any::<u32>(),
        proptest::option::of(bytes_strategy(64)),
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..4),
        proptest::option::of(any::<u32>()),
    )
        .prop_map(|(tag, rwnd, os, is, tsn, cookie, fwd, ext, zc)| InitChunk {
            initiate_tag: tag,
            a_rwnd: rwnd,
            outbound_streams: os,
            inbound_streams: is,
            initial_tsn: tsn,
            params: InitParams {
                cookie,
                forward_tsn: fwd,
                extensions: ext,
                zero_checksum: zc,
                unknown: Vec::new(),
            },
        })
}

fn reconfig_strategy() -> impl Strategy<Value = ReconfigParam> {
    prop_oneof![
        (
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            proptest::collection::vec(any::<u16>(), 0..10)
        )
            .prop_map(|(a, b, c, s)| ReconfigParam::OutgoingReset {
                request_seq: a,
                response_seq: b,
                last_tsn: c,
                streams: s,
            }),
        (any::<u32>(), any::<u32>()).prop_map(|(a, r)| ReconfigParam::Response {
            response_seq: a,
            result: ReconfigResult(r),
        }),
    ]
}

fn chunk_strategy() -> impl Strategy<Value = Chunk> {
    prop_oneof![
        (
            any::<u32>(),
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
            any::<[bool; 4]>(),
            proptest::collection::vec(any::<u8>(), 1..100)
        )
            .prop_map(|(tsn, stream, ssn, ppid, f, p)| Chunk::Data(DataChunk {
                tsn,
                stream,
                ssn,
                ppid,
                unordered: f[0],
                beginning: f[1],
                ending: f[2],
                immediate: f[3],
                payload: Bytes::from(p),
            })),
        init_strategy().prop_map(Chunk::Init),
        init_strategy().prop_map(Chunk::InitAck),
        (
            any::<u32>(),
            any::<u32>(),
            proptest::collection::vec(any::<(u16, u16)>(), 0..20),
            proptest::collection::vec(any::<u32>(), 0..20)
        )
            .prop_map(|(c, r, g, d)| Chunk::Sack(SackChunk {
                cumulative_tsn_ack: c,
                a_rwnd: r,
                gap_blocks: g,
                duplicate_tsns: d,
            })),
        bytes_strategy(40).prop_map(Chunk::Heartbeat),
        bytes_strategy(40).prop_map(Chunk::HeartbeatAck),
        (
            any::<bool>(),
            proptest::collection::vec(cause_strategy(), 0..3)
        )
            .prop_map(|(reflected, causes)| Chunk::Abort { reflected, causes }),
        any::<u32>().prop_map(Chunk::Shutdown),
        Just(Chunk::ShutdownAck),
        proptest::collection::vec(cause_strategy(), 0..3).prop_map(Chunk::Error),
        bytes_strategy(80).prop_map(Chunk::CookieEcho),
        Just(Chunk::CookieAck),
        any::<bool>().prop_map(|reflected| Chunk::ShutdownComplete { reflected }),
        (
            any::<u32>(),
            proptest::collection::vec(any::<(u16, u16)>(), 0..10)
        )
            .prop_map(|(new_cumulative_tsn, streams)| Chunk::ForwardTsn {
                new_cumulative_tsn,
                streams,
            }),
        proptest::collection::vec(reconfig_strategy(), 1..3).prop_map(Chunk::Reconfig),
        (200u8..=255, any::<u8>(), bytes_strategy(30))
            .prop_filter("known types", |(t, ..)| *t != 192)
            .prop_map(|(typ, flags, value)| Chunk::Unknown(RawChunk { typ, flags, value })),
    ]
}

proptest! {
    #[test]
    fn every_chunk_type_round_trips(c in chunk_strategy()) {
        prop_assert_eq!(round_trip(&c), c);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(view) = PacketView::new_checked(Bytes::from(data), true) {
            for raw in view.chunks().flatten() {
                let _ = Chunk::parse(raw);
            }
        }
    }
}
