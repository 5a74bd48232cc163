//! A writer for classic libpcap files with synthesized IP and UDP headers, so a capture
//! opens in Wireshark or tcpdump.
//!
//! The file uses link type `LINKTYPE_RAW` (101): each packet is a bare IPv4 or IPv6 packet.
//! The simulator only knows UDP payloads, so the writer builds an IPv4 header (with a
//! correct header checksum, TTL 64, don't-fragment) or an IPv6 header (hop limit 64) and a
//! UDP header with a correct checksum. A datagram between an IPv4 and an IPv6 address (only
//! possible in a `Sent` or `Dropped` record) is written as IPv6 with the IPv4 address
//! mapped (`::ffff:a.b.c.d`). Timestamps are virtual time since the simulation's start,
//! counted from the Unix epoch, with microsecond resolution.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// `LINKTYPE_RAW`: packets start with an IPv4 or IPv6 header.
pub const LINKTYPE_RAW: u32 = 101;
const SNAPLEN: u32 = 262_144;
const UDP: u8 = 17;

/// Writes a pcap stream: the file header on creation, then one record per packet.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the pcap file header to `out`.
    pub fn new(mut out: W) -> io::Result<Self> {
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes()); // microsecond timestamps
        header.extend_from_slice(&2u16.to_le_bytes());
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        header.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        header.extend_from_slice(&SNAPLEN.to_le_bytes());
        header.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
        out.write_all(&header)?;
        Ok(Self { out })
    }

    /// Writes one UDP datagram observed at `elapsed` since the start.
    pub fn write_datagram(
        &mut self,
        elapsed: Duration,
        source: SocketAddr,
        destination: SocketAddr,
        payload: &[u8],
        ident: u16,
    ) -> io::Result<()> {
        let packet = ip_udp_packet(source, destination, payload, ident);
        let captured = packet.len().min(SNAPLEN as usize);
        let mut header = Vec::with_capacity(16);
        let secs = u32::try_from(elapsed.as_secs()).unwrap_or(u32::MAX);
        header.extend_from_slice(&secs.to_le_bytes());
        header.extend_from_slice(&elapsed.subsec_micros().to_le_bytes());
        header.extend_from_slice(&(captured as u32).to_le_bytes());
        header.extend_from_slice(
            &u32::try_from(packet.len())
                .unwrap_or(u32::MAX)
                .to_le_bytes(),
        );
        self.out.write_all(&header)?;
        self.out.write_all(&packet[..captured])
    }

    /// Gives back the underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Builds the IP packet (IPv4 if both addresses are IPv4, else IPv6) carrying `payload`
/// in UDP from `source` to `destination`. `ident` fills the IPv4 identification field.
/// Length fields saturate for payloads too large for one packet.
pub fn ip_udp_packet(
    source: SocketAddr,
    destination: SocketAddr,
    payload: &[u8],
    ident: u16,
) -> Vec<u8> {
    let udp_len = u16::try_from(8 + payload.len()).unwrap_or(u16::MAX);
    match (source.ip(), destination.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = u16::try_from(20 + 8 + payload.len()).unwrap_or(u16::MAX);
            let mut p = Vec::with_capacity(28 + payload.len());
            p.extend_from_slice(&[0x45, 0]);
            p.extend_from_slice(&total.to_be_bytes());
            p.extend_from_slice(&ident.to_be_bytes());
            p.extend_from_slice(&[0x40, 0, 64, UDP, 0, 0]);
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            let checksum = !fold(sum_words(&p, 0));
            p[10..12].copy_from_slice(&checksum.to_be_bytes());
            let pseudo = pseudo_sum(&s.octets(), &d.octets(), u32::from(udp_len));
            push_udp(&mut p, source, destination, payload, udp_len, pseudo);
            p
        }
        (s, d) => {
            let (s, d) = (v6(s), v6(d));
            let mut p = Vec::with_capacity(48 + payload.len());
            p.extend_from_slice(&[0x60, 0, 0, 0]);
            p.extend_from_slice(&udp_len.to_be_bytes());
            p.extend_from_slice(&[UDP, 64]);
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            let pseudo = pseudo_sum(&s.octets(), &d.octets(), u32::from(udp_len));
            push_udp(&mut p, source, destination, payload, udp_len, pseudo);
            p
        }
    }
}

fn v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

fn push_udp(
    p: &mut Vec<u8>,
    source: SocketAddr,
    destination: SocketAddr,
    payload: &[u8],
    udp_len: u16,
    pseudo: u32,
) {
    let start = p.len();
    p.extend_from_slice(&source.port().to_be_bytes());
    p.extend_from_slice(&destination.port().to_be_bytes());
    p.extend_from_slice(&udp_len.to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    let checksum = match !fold(sum_words(&p[start..], pseudo)) {
        0 => 0xffff, // zero means "no checksum" in UDP
        c => c,
    };
    p[start + 6..start + 8].copy_from_slice(&checksum.to_be_bytes());
}

/// Ones' complement sum of the pseudo-header (addresses, protocol, UDP length).
fn pseudo_sum(source: &[u8], destination: &[u8], udp_len: u32) -> u32 {
    let sum = sum_words(source, 0);
    let sum = sum_words(destination, sum);
    sum + u32::from(UDP) + udp_len
}

/// Adds `bytes` as big-endian 16-bit words (odd length padded with zero) to `sum`.
pub(crate) fn sum_words(bytes: &[u8], mut sum: u32) -> u32 {
    let mut chunks = bytes.chunks_exact(2);
    for word in &mut chunks {
        sum = fold_once(sum + u32::from(u16::from_be_bytes([word[0], word[1]])));
    }
    if let [last] = chunks.remainder() {
        sum = fold_once(sum + (u32::from(*last) << 8));
    }
    sum
}

fn fold_once(sum: u32) -> u32 {
    (sum & 0xffff) + (sum >> 16)
}

/// Folds a 32-bit ones' complement sum to 16 bits.
pub(crate) fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = fold_once(sum);
    }
    sum as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("literal address")
    }

    #[test]
    fn file_header_is_classic_pcap_with_raw_link_type() {
        let out = PcapWriter::new(Vec::new()).expect("vec").into_inner();
        assert_eq!(
            out,
            [
                0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 101, 0, 0,
                0
            ]
        );
    }

    #[test]
    fn ipv4_udp_packet_matches_known_bytes() {
        // Checksums computed independently (RFC 1071 sum in a script) for 192.0.2.1:1234 -> 198.51.100.7:5678, "hi".
        let p = ip_udp_packet(addr("192.0.2.1:1234"), addr("198.51.100.7:5678"), b"hi", 1);
        let expected: [u8; 30] = [
            0x45, 0x00, 0x00, 0x1e, 0x00, 0x01, 0x40, 0x00, 0x40, 0x11, 0x4e, 0x92, 192, 0, 2, 1,
            198, 51, 100, 7, 0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0a, 0x90, 0x34, b'h', b'i',
        ];
        assert_eq!(p, expected);
    }

    #[test]
    fn ipv4_checksums_verify() {
        let p = ip_udp_packet(addr("10.1.2.3:40000"), addr("10.9.8.7:3478"), b"odd", 7);
        assert_eq!(fold(sum_words(&p[..20], 0)), 0xffff);
        let pseudo = pseudo_sum(&p[12..16], &p[16..20], 11);
        assert_eq!(fold(sum_words(&p[20..], pseudo)), 0xffff);
    }

    #[test]
    fn ipv6_packet_has_header_and_valid_udp_checksum() {
        let p = ip_udp_packet(
            addr("[2001:db8::1]:5000"),
            addr("[2001:db8::2]:6000"),
            b"x",
            0,
        );
        assert_eq!(p.len(), 40 + 8 + 1);
        assert_eq!(p[0] >> 4, 6);
        assert_eq!(&p[4..6], &9u16.to_be_bytes());
        assert_eq!(p[6], UDP);
        let pseudo = pseudo_sum(&p[8..24], &p[24..40], 9);
        assert_eq!(fold(sum_words(&p[40..], pseudo)), 0xffff);
    }

    #[test]
    fn record_header_carries_time_and_lengths() {
        let mut w = PcapWriter::new(Vec::new()).expect("vec");
        let elapsed = Duration::new(3, 250_000_000);
        w.write_datagram(elapsed, addr("1.2.3.4:1"), addr("5.6.7.8:2"), b"abc", 0)
            .expect("vec");
        let out = w.into_inner();
        let rec = &out[24..];
        assert_eq!(&rec[0..4], &3u32.to_le_bytes());
        assert_eq!(&rec[4..8], &250_000u32.to_le_bytes());
        assert_eq!(&rec[8..12], &31u32.to_le_bytes());
        assert_eq!(&rec[12..16], &31u32.to_le_bytes());
        assert_eq!(rec.len(), 16 + 31);
    }
}
