//! Property tests: random bytes never make the RTP view, the header parser or the RTCP
//! parser panic, and owned → bytes → parse is the identity for RTP headers and every RTCP
//! packet type.

use super::rtcp::*;
use super::*;
use proptest::collection::vec;
use proptest::prelude::*;

fn extension() -> impl Strategy<Value = (u8, Vec<u8>)> {
    prop_oneof![
        (1u8..=14, vec(any::<u8>(), 1..=16)),
        (1u8..=255, vec(any::<u8>(), 0..40)),
    ]
}

fn rtp_header() -> impl Strategy<Value = RtpHeader> {
    (
        any::<bool>(),
        0u8..128,
        any::<u16>(),
        any::<u32>(),
        any::<u32>(),
        vec(any::<u32>(), 0..=15),
        vec(extension(), 0..6),
    )
        .prop_map(
            |(marker, payload_type, sequence_number, timestamp, ssrc, csrcs, exts)| {
                // Ids unique, as a negotiated map makes them.
                let mut extensions: Vec<(u8, Vec<u8>)> = Vec::new();
                for (id, v) in exts {
                    if extensions.iter().all(|(i, _)| *i != id) {
                        extensions.push((id, v));
                    }
                }
                RtpHeader {
                    marker,
                    payload_type,
                    sequence_number,
                    timestamp,
                    ssrc,
                    csrcs,
                    extensions,
                }
            },
        )
}

fn report_block() -> impl Strategy<Value = ReportBlock> {
    (
        any::<u32>(),
        any::<u8>(),
        -(1i32 << 23)..(1 << 23),
        any::<[u32; 4]>(),
    )
        .prop_map(|(ssrc, fraction_lost, cumulative_lost, w)| ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost,
            highest_seq: w[0],
            jitter: w[1],
            last_sr: w[2],
            delay_since_last_sr: w[3],
        })
}

fn sdes() -> impl Strategy<Value = Sdes> {
    let chunk = (any::<u32>(), vec((1u8..=8, vec(any::<u8>(), 0..20)), 0..4))
        .prop_map(|(ssrc, items)| SdesChunk { ssrc, items });
    vec(chunk, 0..4).prop_map(|chunks| Sdes { chunks })
}

fn words(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<[u8; 4]>(), 0..max).prop_map(|w| w.concat())
}

fn twcc() -> impl Strategy<Value = TransportCc> {
    let delta = prop_oneof![
        Just(None),
        (0i64..=255).prop_map(Some),
        (i64::from(i16::MIN)..=i64::from(i16::MAX)).prop_map(Some),
    ];
    // Long runs as well as mixed stretches.
    let stretch = (delta, 1usize..40, any::<bool>())
        .prop_map(|(d, n, repeat)| if repeat { vec![d; n] } else { vec![d] });
    (
        any::<[u32; 2]>(),
        any::<u16>(),
        -(1i32 << 23)..(1 << 23),
        any::<u8>(),
        vec(stretch, 0..30),
    )
        .prop_map(
            |(ssrcs, base_seq, reference_time, fb_pkt_count, stretches)| {
                let packets = stretches
                    .concat()
                    .into_iter()
                    .enumerate()
                    .map(|(i, d)| (base_seq.wrapping_add(i as u16), d))
                    .collect();
                TransportCc {
                    sender_ssrc: ssrcs[0],
                    media_ssrc: ssrcs[1],
                    base_seq,
                    reference_time,
                    fb_pkt_count,
                    packets,
                }
            },
        )
}

fn ccfb() -> impl Strategy<Value = CongestionControlFeedback> {
    let arrival =
        (0u8..4, 0u16..=ATO_UNAVAILABLE).prop_map(|(ecn, offset)| CcfbArrival { ecn, offset });
    let block = (
        any::<u32>(),
        any::<u16>(),
        vec(proptest::option::of(arrival), 0..40),
    )
        .prop_map(|(media_ssrc, begin_seq, reports)| CcfbBlock {
            media_ssrc,
            begin_seq,
            reports,
        });
    (any::<u32>(), vec(block, 0..4), any::<u32>()).prop_map(
        |(sender_ssrc, blocks, report_timestamp)| CongestionControlFeedback {
            sender_ssrc,
            blocks,
            report_timestamp,
        },
    )
}

fn xr_block() -> impl Strategy<Value = XrBlock> {
    prop_oneof![
        any::<u64>().prop_map(|ntp| XrBlock::Rrtr { ntp }),
        vec(any::<(u32, u32, u32)>(), 0..4).prop_map(XrBlock::Dlrr),
        (6u8..=255, any::<u8>(), words(5)).prop_map(|(block_type, type_specific, body)| {
            XrBlock::Unknown {
                block_type,
                type_specific,
                body,
            }
        }),
    ]
}

fn rtcp_packet() -> impl Strategy<Value = RtcpPacket> {
    prop_oneof![
        (any::<[u32; 4]>(), any::<u64>(), vec(report_block(), 0..4)).prop_map(|(w, ntp, r)| {
            RtcpPacket::SenderReport(SenderReport {
                ssrc: w[0],
                ntp_time: ntp,
                rtp_time: w[1],
                packet_count: w[2],
                octet_count: w[3],
                reports: r,
            })
        }),
        (any::<u32>(), vec(report_block(), 0..4)).prop_map(|(ssrc, reports)| {
            RtcpPacket::ReceiverReport(ReceiverReport { ssrc, reports })
        }),
        sdes().prop_map(RtcpPacket::Sdes),
        (vec(any::<u32>(), 0..5), vec(any::<u8>(), 0..20))
            .prop_map(|(ssrcs, reason)| RtcpPacket::Bye(Bye { ssrcs, reason })),
        (0u8..32, any::<u32>(), any::<[u8; 4]>(), words(4)).prop_map(
            |(subtype, ssrc, name, data)| RtcpPacket::App(App {
                subtype,
                ssrc,
                name,
                data
            })
        ),
        (
            any::<[u32; 2]>(),
            proptest::collection::btree_set(any::<u16>(), 0..40)
        )
            .prop_map(|(s, lost)| RtcpPacket::Nack(GenericNack {
                sender_ssrc: s[0],
                media_ssrc: s[1],
                lost: lost.into_iter().collect(),
            })),
        any::<[u32; 2]>().prop_map(|s| RtcpPacket::Pli(Pli {
            sender_ssrc: s[0],
            media_ssrc: s[1]
        })),
        (any::<u32>(), vec(any::<(u32, u8)>(), 0..4)).prop_map(|(sender_ssrc, entries)| {
            RtcpPacket::Fir(Fir {
                sender_ssrc,
                entries,
            })
        }),
        (
            any::<u32>(),
            0u64..(1 << 18),
            0u32..=46,
            vec(any::<u32>(), 0..4)
        )
            .prop_map(
                |(sender_ssrc, mantissa, exp, ssrcs)| RtcpPacket::Remb(Remb {
                    sender_ssrc,
                    bitrate_bps: mantissa << exp,
                    ssrcs,
                })
            ),
        twcc().prop_map(RtcpPacket::TransportCc),
        ccfb().prop_map(RtcpPacket::Ccfb),
        (any::<u32>(), vec(xr_block(), 0..4))
            .prop_map(|(ssrc, blocks)| RtcpPacket::Xr(ExtendedReport { ssrc, blocks })),
        (prop_oneof![192u8..200, 208u8..=223], 0u8..32, words(4)).prop_map(
            |(packet_type, count, body)| RtcpPacket::Unknown {
                packet_type,
                count,
                body
            }
        ),
    ]
}

fn exercise_view(bytes: &[u8]) {
    if let Ok(p) = RtpPacket::new_checked(bytes) {
        let _ = (p.marker(), p.payload_type(), p.sequence_number());
        let _ = (
            p.timestamp(),
            p.ssrc(),
            p.csrcs().count(),
            p.payload().len(),
        );
        let _ = (p.padding_len(), p.extensions().count(), p.extension(1));
        let _ = (p.to_string(), p.extension_profile());
        assert!(p.header_len() + p.padding_len() <= bytes.len());
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic_rtp(bytes in vec(any::<u8>(), 0..200)) {
        exercise_view(&bytes);
        let _ = RtpHeader::parse(&bytes);
    }

    #[test]
    fn random_rtp_like_bytes_never_panic(mut bytes in vec(any::<u8>(), 12..200)) {
        bytes[0] = 0x80 | (bytes[0] & 0x3f);
        exercise_view(&bytes);
        if let Ok((header, len)) = RtpHeader::parse(&bytes) {
            prop_assert!(len <= bytes.len());
            let mut out = Vec::new();
            header.write_to(&mut out);
            prop_assert_eq!(out.len(), header.encoded_len());
        }
    }

    #[test]
    fn rtp_header_round_trips(header in rtp_header(), payload in vec(any::<u8>(), 0..30)) {
        let mut bytes = Vec::new();
        header.write_to(&mut bytes);
        prop_assert_eq!(bytes.len(), header.encoded_len());
        bytes.extend_from_slice(&payload);
        let (parsed, len) = RtpHeader::parse(&bytes).unwrap();
        prop_assert_eq!(&parsed, &header);
        prop_assert_eq!(len, header.encoded_len());
        let view = RtpPacket::new_checked(&bytes[..]).unwrap();
        prop_assert_eq!(view.payload(), &payload[..]);
    }

    #[test]
    fn borrowed_and_owned_headers_write_the_same_bytes(
        header in rtp_header(),
        extra in vec((any::<u8>(), vec(any::<u8>(), 0..300)), 0..3),
        spare in 0usize..8,
    ) {
        let mut header = header;
        header.extensions.extend(extra);
        let exts: Vec<(u8, &[u8])> = header.extensions.iter().map(|(i, v)| (*i, &v[..])).collect();
        let borrowed = RtpHeaderRef {
            marker: header.marker,
            payload_type: header.payload_type,
            sequence_number: header.sequence_number,
            timestamp: header.timestamp,
            ssrc: header.ssrc,
            csrcs: &header.csrcs,
            extensions: &exts,
        };
        let mut owned = Vec::new();
        header.write_to(&mut owned);
        let mut buf = vec![0u8; owned.len() + spare];
        prop_assert_eq!(borrowed.write_into(&mut buf), Ok(owned.len()));
        prop_assert_eq!(&buf[..owned.len()], &owned[..]);
        prop_assert_eq!(borrowed.encoded_len(), header.encoded_len());
        prop_assert_eq!(borrowed.uses_one_byte_form(), header.uses_one_byte_form());
        prop_assert!(borrowed.write_into(&mut buf[..owned.len() - 1]).is_err());
    }

    #[test]
    fn random_bytes_never_panic_rtcp(bytes in vec(any::<u8>(), 0..300)) {
        for packet in parse_compound(&bytes).flatten() {
            let _ = (packet.to_string(), packet.media_ssrcs(), packet.sender_ssrc());
            let out = packet.to_bytes();
            prop_assert_eq!(out.len(), packet.encoded_len());
        }
    }

    #[test]
    fn rtcp_like_bytes_never_panic(packets in vec(rtcp_packet(), 1..4), flips in vec((any::<usize>(), any::<u8>()), 1..6)) {
        let mut bytes = Vec::new();
        RtcpPacket::write_compound(&packets, &mut bytes);
        for (at, value) in flips {
            let len = bytes.len();
            bytes[at % len] ^= value;
        }
        for packet in parse_compound(&bytes).flatten() {
            let out = packet.to_bytes();
            prop_assert_eq!(out.len(), packet.encoded_len());
        }
    }

    #[test]
    fn rtcp_compound_round_trips(packets in vec(rtcp_packet(), 1..5)) {
        let mut bytes = Vec::new();
        RtcpPacket::write_compound(&packets, &mut bytes);
        let total: usize = packets.iter().map(RtcpPacket::encoded_len).sum();
        prop_assert_eq!(bytes.len(), total);
        let parsed: Result<Vec<_>, _> = parse_compound(&bytes).collect();
        prop_assert_eq!(parsed.unwrap(), packets);
    }
}
