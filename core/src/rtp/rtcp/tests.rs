//! RTCP packets assembled by hand in the shapes Chromium sends, decoded and re-encoded
//! byte for byte.

use super::*;

const MEDIA: u32 = 0x4f1b_8c2a;

fn parse_all(bytes: &[u8]) -> Vec<Result<RtcpPacket, RtpError>> {
    parse_compound(bytes).collect()
}

/// Parses `bytes` as exactly `expected`, and writes `expected` back to exactly `bytes`.
fn byte_exact(bytes: &[u8], expected: &[RtcpPacket]) {
    let parsed: Vec<_> = parse_all(bytes).into_iter().map(Result::unwrap).collect();
    assert_eq!(parsed, expected);
    let mut out = Vec::new();
    RtcpPacket::write_compound(expected, &mut out);
    assert_eq!(out, bytes);
    let total: usize = expected.iter().map(RtcpPacket::encoded_len).sum();
    assert_eq!(total, bytes.len());
}

#[rustfmt::skip]
const SR_SDES: [u8; 56] = [
    0x80, 200, 0x00, 0x06, // SR, RC=0, 7 words
    0x4f, 0x1b, 0x8c, 0x2a, // sender SSRC
    0xe9, 0x5a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, // NTP
    0x00, 0x01, 0x23, 0x45, // RTP timestamp
    0x00, 0x00, 0x00, 0x64, // packets
    0x00, 0x01, 0x2c, 0x00, // octets
    0x81, 202, 0x00, 0x06, // SDES, SC=1, 7 words
    0x4f, 0x1b, 0x8c, 0x2a, // chunk SSRC
    0x01, 0x10, b'a', b'b', b'c', b'd', b'e', b'f', b'g', b'h', // CNAME, 16 bytes
    b'i', b'j', b'k', b'l', b'm', b'n', b'o', b'p',
    0x00, 0x00, // terminator and padding
];

#[test]
fn sr_and_sdes_compound_is_byte_exact() {
    byte_exact(
        &SR_SDES,
        &[
            RtcpPacket::SenderReport(SenderReport {
                ssrc: MEDIA,
                ntp_time: 0xe95a_1b2c_3d4e_5f60,
                rtp_time: 0x12345,
                packet_count: 100,
                octet_count: 0x12c00,
                reports: vec![],
            }),
            RtcpPacket::Sdes(Sdes::cname(MEDIA, "abcdefghijklmnop")),
        ],
    );
}

#[rustfmt::skip]
const RR: [u8; 32] = [
    0x81, 201, 0x00, 0x07, // RR, RC=1
    0x00, 0x00, 0x00, 0x01, // reporter
    0x4f, 0x1b, 0x8c, 0x2a, // source
    0x40, 0xff, 0xff, 0xff, // fraction 1/4, cumulative -1
    0x00, 0x01, 0x00, 0x05, // extended highest seq
    0x00, 0x00, 0x00, 0x10, // jitter
    0x5a, 0x1b, 0x2c, 0x3d, // LSR
    0x00, 0x00, 0x80, 0x00, // DLSR 0.5 s
];

fn rr() -> RtcpPacket {
    RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: 1,
        reports: vec![ReportBlock {
            ssrc: MEDIA,
            fraction_lost: 0x40,
            cumulative_lost: -1,
            highest_seq: 0x1_0005,
            jitter: 16,
            last_sr: 0x5a1b_2c3d,
            delay_since_last_sr: 0x8000,
        }],
    })
}

#[test]
fn receiver_report_with_negative_loss_is_byte_exact() {
    byte_exact(&RR, &[rr()]);
}

#[test]
fn cumulative_loss_is_clamped_to_24_bits() {
    let mut packet = rr();
    if let RtcpPacket::ReceiverReport(r) = &mut packet {
        r.reports[0].cumulative_lost = i32::MIN;
    }
    let bytes = packet.to_bytes();
    assert_eq!(&bytes[13..16], &[0x80, 0x00, 0x00]);
}

const PLI: [u8; 12] = [0x81, 206, 0, 2, 0, 0, 0, 1, 0x4f, 0x1b, 0x8c, 0x2a];

#[test]
fn reduced_size_pli_is_byte_exact() {
    byte_exact(
        &PLI,
        &[RtcpPacket::Pli(Pli {
            sender_ssrc: 1,
            media_ssrc: MEDIA,
        })],
    );
}

#[test]
fn nack_with_blp_is_byte_exact() {
    let bytes = [
        0x81,
        205,
        0,
        3,
        0,
        0,
        0,
        1,
        0x4f,
        0x1b,
        0x8c,
        0x2a, // header, SSRCs
        0x00,
        0x64,
        0b0000_0000,
        0b0000_0101, // PID 100, BLP: 101 and 103
    ];
    let nack = GenericNack {
        sender_ssrc: 1,
        media_ssrc: MEDIA,
        lost: vec![100, 101, 103],
    };
    byte_exact(&bytes, &[RtcpPacket::Nack(nack)]);
}

#[test]
fn nack_packs_across_wrap_and_splits_far_gaps() {
    let nack = GenericNack {
        sender_ssrc: 1,
        media_ssrc: 2,
        lost: vec![65535, 0, 15, 16, 400],
    };
    assert_eq!(
        nack.pairs(),
        vec![(65535, 0b1 | 1 << 15), (16, 0), (400, 0)]
    );
    let parsed = parse_all(&RtcpPacket::Nack(nack.clone()).to_bytes());
    assert_eq!(parsed, vec![Ok(RtcpPacket::Nack(nack))]);
}

#[test]
fn remb_is_byte_exact() {
    let bytes = [
        0x8f, 206, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, // AFB, sender 1, media 0
        b'R', b'E', b'M', b'B', // identifier
        0x01, 0x0b, 0xd0, 0x90, // 1 SSRC, exp 2, mantissa 250,000
        0x4f, 0x1b, 0x8c, 0x2a,
    ];
    let remb = Remb {
        sender_ssrc: 1,
        bitrate_bps: 1_000_000,
        ssrcs: vec![MEDIA],
    };
    byte_exact(&bytes, &[RtcpPacket::Remb(remb)]);
}

#[test]
fn remb_rounds_down_and_saturates() {
    let remb = Remb {
        sender_ssrc: 1,
        bitrate_bps: (1 << 40) + 12345,
        ssrcs: vec![],
    };
    let (exp, mantissa) = remb.exponent_mantissa();
    assert_eq!(u64::from(mantissa) << exp, 1 << 40);
    let bytes = [
        0x8f, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, b'R', b'E', b'M', b'B', 0x00, 0xff, 0xff, 0xff,
    ];
    let Some(Ok(RtcpPacket::Remb(r))) = parse_compound(&bytes).next() else {
        panic!("REMB expected");
    };
    assert_eq!(r.bitrate_bps, u64::MAX);
}

#[rustfmt::skip]
const TWCC: [u8; 48] = [
    0x8f, 205, 0x00, 0x0b, // RTPFB FMT 15, 12 words
    0x00, 0x00, 0x00, 0x01, 0x4f, 0x1b, 0x8c, 0x2a, // sender, media
    0x00, 0x0a, 0x00, 0x18, // base seq 10, 24 statuses
    0xff, 0xff, 0xfe, 0x07, // reference time -2, feedback count 7
    0xd4, 0x95, // 2-bit vector: small, small, none, large, small, small, small
    0x20, 0x11, // run of 17 small deltas
    0x04, 0x00, 0xff, 0xf8, // deltas: 4, 0, -8 (large)
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, // 20 small deltas of 1
];

fn twcc() -> TransportCc {
    let mut packets = vec![(10, Some(4)), (11, Some(0)), (12, None), (13, Some(-8))];
    packets.extend((14..34).map(|seq| (seq, Some(1))));
    TransportCc {
        sender_ssrc: 1,
        media_ssrc: MEDIA,
        base_seq: 10,
        reference_time: -2,
        fb_pkt_count: 7,
        packets,
    }
}

#[test]
fn twcc_with_vector_run_and_negative_delta_is_byte_exact() {
    byte_exact(&TWCC, &[RtcpPacket::TransportCc(twcc())]);
}

#[test]
fn twcc_one_bit_vector_and_padding_are_byte_exact() {
    #[rustfmt::skip]
    let bytes = [
        0x8f, 205, 0x00, 0x06,
        0, 0, 0, 1, 0, 0, 0, 2,
        0xff, 0xff, 0x00, 0x0e, // base 65535, 14 statuses
        0x00, 0x00, 0x10, 0x00, // reference time 16, count 0
        0xac, 0x00, // 1-bit vector: received 0, 2, 3
        0x10, 0x20, 0xff, // deltas
        0x00, 0x00, 0x00, // padding to the word
    ];
    let mut packets: Vec<(u16, Option<i64>)> =
        (0..14).map(|i| (65535u16.wrapping_add(i), None)).collect();
    packets[0].1 = Some(0x10);
    packets[2].1 = Some(0x20);
    packets[3].1 = Some(0xff);
    let expected = TransportCc {
        sender_ssrc: 1,
        media_ssrc: 2,
        base_seq: 65535,
        reference_time: 16,
        fb_pkt_count: 0,
        packets,
    };
    assert_eq!(expected.packets[1].0, 0, "sequence numbers wrap");
    byte_exact(&bytes, &[RtcpPacket::TransportCc(expected)]);
}

#[test]
fn twcc_reads_not_received_runs_and_stops_at_status_count() {
    #[rustfmt::skip]
    let bytes = [
        0x8f, 205, 0x00, 0x06,
        0, 0, 0, 1, 0, 0, 0, 2,
        0x00, 0x00, 0x00, 0x08, // base 0, 8 statuses
        0x00, 0x00, 0x00, 0x00,
        0x00, 0x05, // run of 5 not received
        0xe0, 0x00, // 2-bit vector: large, rest not received; only 3 used
        0x00, 0x01, // delta 1 (large form)
        0x00, 0x00,
    ];
    let Some(Ok(RtcpPacket::TransportCc(t))) = parse_compound(&bytes).next() else {
        panic!("TWCC expected");
    };
    assert_eq!(t.packets.len(), 8);
    assert_eq!(t.received_count(), 1);
    assert_eq!(t.packets[5], (5, Some(1)));
}

/// A transport-cc message of `count` statuses, all "not received": 28 bytes on the wire.
fn twcc_claiming(count: u16) -> Vec<u8> {
    let mut bytes = vec![0x8f, 205, 0x00, 0x06, 0, 0, 0, 1, 0, 0, 0, 2, 0x00, 0x00];
    bytes.extend_from_slice(&count.to_be_bytes());
    bytes.extend_from_slice(&[0, 0, 0, 0]);
    let mut left = count;
    for _ in 0..4 {
        let run = left.min(0x1fff);
        bytes.extend_from_slice(&run.to_be_bytes());
        left -= run;
    }
    assert_eq!(
        left, 0,
        "four run-length chunks cover at most 32,764 statuses"
    );
    bytes
}

#[test]
fn one_datagram_claims_at_most_one_messages_worth_of_twcc_statuses() {
    let one = twcc_claiming(30_000);
    let Some(Ok(RtcpPacket::TransportCc(t))) = parse_compound(&one).next() else {
        panic!("TWCC expected");
    };
    assert_eq!(t.packets.len(), 30_000);
    // Two fit (60,000 statuses); a third passes 65,535 and ends the datagram.
    let three = [one.clone(), one.clone(), one].concat();
    let parsed = parse_all(&three);
    assert_eq!(parsed.len(), 3);
    assert!(parsed[..2].iter().all(Result::is_ok));
    assert!(matches!(parsed[2], Err(RtpError::Malformed(_))));
}

#[test]
fn twcc_reserved_symbol_is_malformed() {
    let mut bytes = TWCC;
    bytes[20] = 0x60; // run-length chunk of symbol 3
    assert!(matches!(
        parse_compound(&bytes).next(),
        Some(Err(RtpError::Malformed(_)))
    ));
}

/// RFC 8888 §3.1's layout: two streams, the first across the sequence wrap with an odd
/// count (so a padding word), the second even.
#[rustfmt::skip]
const CCFB: [u8; 40] = [
    0x8b, 205, 0x00, 0x09, // V=2, FMT 11, PT 205, 10 words
    0x00, 0x00, 0x00, 0x01, // SSRC of the RTCP packet sender
    0x4f, 0x1b, 0x8c, 0x2a, // SSRC of the 1st stream
    0xff, 0xfe, 0x00, 0x03, // begin_seq 65534, num_reports 3
    0xc2, 0x00, // R, ECT(0), 512/1024 s before the report
    0x00, 0x00, // 65535 not received
    0xff, 0xfe, // 0: R, CE, over-range
    0x00, 0x00, // padding to 32 bits
    0x00, 0x00, 0x00, 0x02, // SSRC of the 2nd stream
    0x00, 0x64, 0x00, 0x02, // begin_seq 100, num_reports 2
    0x80, 0x01, // R, not-ECT, 1/1024 s
    0x9f, 0xff, // R, arrival time unavailable
    0x12, 0x34, 0x56, 0x78, // report timestamp
];

fn ccfb() -> CongestionControlFeedback {
    let arrival = |ecn, offset| Some(CcfbArrival { ecn, offset });
    CongestionControlFeedback {
        sender_ssrc: 1,
        blocks: vec![
            CcfbBlock {
                media_ssrc: MEDIA,
                begin_seq: 65534,
                reports: vec![arrival(2, 512), None, arrival(3, ATO_OVER_RANGE)],
            },
            CcfbBlock {
                media_ssrc: 2,
                begin_seq: 100,
                reports: vec![arrival(0, 1), arrival(0, ATO_UNAVAILABLE)],
            },
        ],
        report_timestamp: 0x1234_5678,
    }
}

#[test]
fn ccfb_with_two_streams_and_padding_is_byte_exact() {
    byte_exact(&CCFB, &[RtcpPacket::Ccfb(ccfb())]);
    let fb = ccfb();
    let seqs: Vec<u16> = fb.blocks[0].iter().map(|(seq, _)| seq).collect();
    assert_eq!(seqs, [65534, 65535, 0]);
    assert_eq!(
        fb.blocks[0].reports[0].unwrap().offset_micros(),
        Some(500_000)
    );
    assert_eq!(fb.blocks[0].reports[2].unwrap().offset_micros(), None);
    assert_eq!(RtcpPacket::Ccfb(fb).media_ssrcs(), vec![MEDIA, 2]);
}

#[test]
fn ccfb_reading_ignores_bits_of_lost_packets_and_a_missing_last_padding() {
    // Stream 1 only, 3 reports, the lost one with stray bits, no padding word.
    let mut bytes = CCFB[..22].to_vec();
    bytes[18] = 0x7f;
    bytes.extend_from_slice(&[0x12, 0x34, 0x56, 0x78]);
    // 26 bytes do not frame: two bytes of RTCP padding (P bit) make 28, 7 words.
    bytes.extend_from_slice(&[0, 2]);
    bytes[0] |= 0x20;
    bytes[2..4].copy_from_slice(&6u16.to_be_bytes());
    let Some(Ok(RtcpPacket::Ccfb(fb))) = parse_compound(&bytes).next() else {
        panic!("CCFB expected");
    };
    assert_eq!(fb.blocks.len(), 1);
    assert_eq!(fb.blocks[0].reports, ccfb().blocks[0].reports);
    assert_eq!(fb.report_timestamp, 0x1234_5678);
}

#[test]
fn ccfb_with_more_reports_than_bytes_is_malformed() {
    let mut bytes = CCFB;
    bytes[15] = 11; // num_reports 11: 22 bytes of reports where 20 remain
    assert!(matches!(
        parse_compound(&bytes).next(),
        Some(Err(RtpError::Malformed(_)))
    ));
    // Shorter than a sender SSRC and a timestamp.
    let short = [0x8b, 205, 0, 1, 0, 0, 0, 1];
    assert!(matches!(parse_compound(&short).next(), Some(Err(_))));
}

#[test]
fn ccfb_writing_is_strict() {
    let fb = CongestionControlFeedback {
        sender_ssrc: 1,
        blocks: vec![CcfbBlock {
            media_ssrc: 2,
            begin_seq: 0,
            reports: vec![
                Some(CcfbArrival {
                    ecn: 0xff,
                    offset: u16::MAX,
                });
                MAX_METRICS_PER_BLOCK + 3
            ],
        }],
        report_timestamp: 0,
    };
    let bytes = RtcpPacket::Ccfb(fb).to_bytes();
    assert_eq!(bytes.len(), 4 + 4 + 8 + 2 * MAX_METRICS_PER_BLOCK + 4);
    assert_eq!(
        &bytes[14..16],
        &(MAX_METRICS_PER_BLOCK as u16).to_be_bytes()
    );
    assert_eq!(&bytes[16..18], &[0xff, 0xff]);
}

#[rustfmt::skip]
const XR: [u8; 36] = [
    0x80, 207, 0x00, 0x08,
    0x00, 0x00, 0x00, 0x01, // reporter
    0x04, 0x00, 0x00, 0x02, 0xe9, 0x5a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, // RRTR
    0x05, 0x00, 0x00, 0x03, 0x4f, 0x1b, 0x8c, 0x2a, // DLRR, one item
    0x1b, 0x2c, 0x3d, 0x4e, 0x00, 0x01, 0x00, 0x00,
];

#[test]
fn xr_rrtr_and_dlrr_are_byte_exact() {
    byte_exact(
        &XR,
        &[RtcpPacket::Xr(ExtendedReport {
            ssrc: 1,
            blocks: vec![
                XrBlock::Rrtr {
                    ntp: 0xe95a_1b2c_3d4e_5f60,
                },
                XrBlock::Dlrr(vec![(MEDIA, 0x1b2c_3d4e, 0x1_0000)]),
            ],
        })],
    );
}

#[test]
fn xr_unknown_block_is_kept() {
    let bytes = [
        0x80, 207, 0, 3, 0, 0, 0, 1, 0x07, 0x09, 0x00, 0x01, 1, 2, 3, 4,
    ];
    byte_exact(
        &bytes,
        &[RtcpPacket::Xr(ExtendedReport {
            ssrc: 1,
            blocks: vec![XrBlock::Unknown {
                block_type: 7,
                type_specific: 9,
                body: vec![1, 2, 3, 4],
            }],
        })],
    );
}

#[test]
fn bye_with_reason_and_app_are_byte_exact() {
    let bytes = [
        0x81, 203, 0, 2, 0x4f, 0x1b, 0x8c, 0x2a, 3, b'b', b'y', b'e', // BYE
        0x85, 204, 0, 3, 0, 0, 0, 1, b'T', b'E', b'S', b'T', 9, 8, 7, 6, // APP subtype 5
    ];
    byte_exact(
        &bytes,
        &[
            RtcpPacket::Bye(Bye {
                ssrcs: vec![MEDIA],
                reason: b"bye".to_vec(),
            }),
            RtcpPacket::App(App {
                subtype: 5,
                ssrc: 1,
                name: *b"TEST",
                data: vec![9, 8, 7, 6],
            }),
        ],
    );
}

#[test]
fn unknown_types_and_formats_round_trip() {
    let bytes = [
        0x82, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, // PSFB FMT 2 (SLI)
        0x80, 195, 0, 1, 1, 2, 3, 4, // PT 195
        0x8f, 206, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, b'X', b'Y', b'Z', b'W', // AFB, not REMB
    ];
    let parsed: Vec<_> = parse_all(&bytes).into_iter().map(Result::unwrap).collect();
    assert!(matches!(
        parsed[..],
        [
            RtcpPacket::Unknown {
                packet_type: 206,
                count: 2,
                ..
            },
            RtcpPacket::Unknown {
                packet_type: 195,
                count: 0,
                ..
            },
            RtcpPacket::Unknown {
                packet_type: 206,
                count: 15,
                ..
            },
        ]
    ));
    byte_exact(&bytes, &parsed);
}

#[test]
fn padding_bit_is_honoured() {
    let bytes = [0xa0, 201, 0, 2, 0, 0, 0, 9, 0, 0, 0, 4];
    assert_eq!(
        parse_all(&bytes),
        vec![Ok(RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: 9,
            reports: vec![]
        }))]
    );
    let zero_pad = [0xa0, 201, 0, 2, 0, 0, 0, 9, 0, 0, 0, 0];
    assert_eq!(parse_all(&zero_pad), vec![Err(RtpError::BadLength)]);
    let over_pad = [0xa0, 201, 0, 2, 0, 0, 0, 9, 0, 0, 0, 13];
    assert_eq!(parse_all(&over_pad), vec![Err(RtpError::BadLength)]);
}

#[test]
fn bad_packet_ends_iteration() {
    let mut bytes = PLI.to_vec();
    bytes.extend_from_slice(&[0x81, 206, 0, 9, 0, 0, 0, 1]); // length past the end
    bytes.extend_from_slice(&PLI);
    let parsed = parse_all(&bytes);
    assert_eq!(parsed.len(), 2);
    assert!(parsed[0].is_ok());
    assert_eq!(parsed[1], Err(RtpError::BadLength));

    let bad_count = [
        0x82, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let mut bytes = bad_count.to_vec();
    bytes.extend_from_slice(&PLI);
    let parsed = parse_all(&bytes);
    assert_eq!(parsed.len(), 1);
    assert!(matches!(parsed[0], Err(RtpError::Malformed(_))));

    assert_eq!(parse_all(&[0x81, 206, 0]), vec![Err(RtpError::TooShort)]);
    assert_eq!(
        parse_all(&[0x41, 206, 0, 0]),
        vec![Err(RtpError::BadVersion)]
    );
    assert!(parse_all(&[]).is_empty());
}

#[test]
fn media_ssrcs_name_the_streams_for_routing() {
    let packets: Vec<_> = parse_all(&RR).into_iter().map(Result::unwrap).collect();
    assert_eq!(packets[0].media_ssrcs(), vec![MEDIA]);
    assert_eq!(packets[0].sender_ssrc(), Some(1));
    let pli = parse_compound(&PLI).next().unwrap().unwrap();
    assert_eq!(pli.media_ssrcs(), vec![MEDIA]);
    let fir = RtcpPacket::Fir(Fir {
        sender_ssrc: 1,
        entries: vec![(5, 1), (6, 2)],
    });
    assert_eq!(fir.media_ssrcs(), vec![5, 6]);
    let xr = parse_compound(&XR).next().unwrap().unwrap();
    assert_eq!(xr.media_ssrcs(), vec![MEDIA]);
}

#[test]
fn fir_is_byte_exact() {
    let bytes = [
        0x84, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, // FIR, media source unused
        0x4f, 0x1b, 0x8c, 0x2a, 3, 0, 0, 0, // entry: SSRC, seq 3
    ];
    byte_exact(
        &bytes,
        &[RtcpPacket::Fir(Fir {
            sender_ssrc: 1,
            entries: vec![(MEDIA, 3)],
        })],
    );
}

#[test]
fn sdes_with_several_items_and_chunks_is_byte_exact() {
    let bytes = [
        0x82, 202, 0, 6, // SC=2, 7 words
        0, 0, 0, 1, 1, 1, b'a', 6, 2, b'x', b'y', 0, // chunk 1: CNAME "a", TOOL "xy", end
        0, 0, 0, 2, 1, 2, b'b', b'c', 0, 0, 0, 0, // chunk 2: CNAME "bc", end + pad
    ];
    let sdes = Sdes {
        chunks: vec![
            SdesChunk {
                ssrc: 1,
                items: vec![(SDES_CNAME, b"a".to_vec()), (SDES_TOOL, b"xy".to_vec())],
            },
            SdesChunk {
                ssrc: 2,
                items: vec![(SDES_CNAME, b"bc".to_vec())],
            },
        ],
    };
    assert_eq!(sdes.chunks[1].cname(), Some(&b"bc"[..]));
    byte_exact(&bytes, &[RtcpPacket::Sdes(sdes)]);
}

#[test]
fn oversized_packet_is_not_written() {
    let app = RtcpPacket::App(App {
        subtype: 0,
        ssrc: 1,
        name: *b"BIG!",
        data: vec![0; MAX_BODY_LEN],
    });
    assert_eq!(app.encoded_len(), 0);
    let mut out = vec![1];
    app.write_to(&mut out);
    assert_eq!(out, vec![1]);
}

#[test]
fn display_is_compact() {
    let packets: Vec<String> = parse_all(&SR_SDES)
        .into_iter()
        .map(|p| p.unwrap().to_string())
        .collect();
    assert_eq!(
        packets,
        vec![
            "SR ssrc=0x4f1b8c2a ntp=0xe95a1b2c3d4e5f60 rtp=74565 pkts=100 octets=76800 reports=0",
            "SDES chunks=1"
        ]
    );
    assert_eq!(
        RtcpPacket::TransportCc(twcc()).to_string(),
        "TWCC 0x00000001 base=10 n=24 recv=23 ref=-2 fb=7"
    );
}
