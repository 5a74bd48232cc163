//! SHIM (replaced by the rtp branch).
#![allow(missing_docs, unused_variables)]
pub fn is_rtcp(datagram: &[u8]) -> bool {
    unimplemented!()
}
#[derive(Debug)]
pub struct RtpPacket<T: AsRef<[u8]>> {
    b: T,
}
impl<T: AsRef<[u8]>> RtpPacket<T> {
    pub fn new_checked(buffer: T) -> Result<Self, RtpError> {
        unimplemented!()
    }
    pub fn marker(&self) -> bool {
        unimplemented!()
    }
    pub fn payload_type(&self) -> u8 {
        unimplemented!()
    }
    pub fn sequence_number(&self) -> u16 {
        unimplemented!()
    }
    pub fn timestamp(&self) -> u32 {
        unimplemented!()
    }
    pub fn ssrc(&self) -> u32 {
        unimplemented!()
    }
    pub fn header_len(&self) -> usize {
        unimplemented!()
    }
    pub fn payload(&self) -> &[u8] {
        unimplemented!()
    }
    pub fn padding_len(&self) -> usize {
        unimplemented!()
    }
    pub fn extension(&self, id: u8) -> Option<&[u8]> {
        unimplemented!()
    }
    pub fn into_inner(self) -> T {
        self.b
    }
}
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RtpHeader {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence_number: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub csrcs: Vec<u32>,
    pub extensions: Vec<(u8, Vec<u8>)>,
}
impl RtpHeader {
    pub fn parse(packet: &[u8]) -> Result<(RtpHeader, usize), RtpError> {
        unimplemented!()
    }
    pub fn encoded_len(&self) -> usize {
        unimplemented!()
    }
    pub fn write_to(&self, out: &mut Vec<u8>) {
        unimplemented!()
    }
}
pub mod extensions {
    pub const MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
    pub const RID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
    pub const REPAIRED_RID: &str = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
    pub const TRANSPORT_CC: &str =
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    pub const AUDIO_LEVEL: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
    pub const ABS_SEND_TIME: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct ExtensionMap {
        v: Vec<(u8, String)>,
    }
    impl ExtensionMap {
        pub fn insert(&mut self, id: u8, uri: &str) {
            self.v.push((id, uri.into()))
        }
        pub fn id_of(&self, uri: &str) -> Option<u8> {
            self.v.iter().find(|e| e.1 == uri).map(|e| e.0)
        }
        pub fn uri_of(&self, id: u8) -> Option<&str> {
            self.v.iter().find(|e| e.0 == id).map(|e| e.1.as_str())
        }
    }
}
pub mod rtcp {
    use super::RtpError;
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum RtcpPacket {
        SenderReport(SenderReport),
        ReceiverReport(ReceiverReport),
        Sdes(Sdes),
        Bye(Bye),
        Nack(GenericNack),
        Pli(Pli),
        Fir(Fir),
        Remb(Remb),
        Unknown {
            packet_type: u8,
            count: u8,
            body: Vec<u8>,
        },
    }
    pub fn parse_compound(buf: &[u8]) -> std::vec::IntoIter<Result<RtcpPacket, RtpError>> {
        unimplemented!()
    }
    impl RtcpPacket {
        pub fn encoded_len(&self) -> usize {
            unimplemented!()
        }
        pub fn write_to(&self, out: &mut Vec<u8>) {
            unimplemented!()
        }
        pub fn media_ssrcs(&self) -> Vec<u32> {
            unimplemented!()
        }
    }
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct ReportBlock {
        pub ssrc: u32,
        pub fraction_lost: u8,
        pub cumulative_lost: i32,
        pub highest_seq: u32,
        pub jitter: u32,
        pub last_sr: u32,
        pub delay_since_last_sr: u32,
    }
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct SenderReport {
        pub ssrc: u32,
        pub ntp_time: u64,
        pub rtp_time: u32,
        pub packet_count: u32,
        pub octet_count: u32,
        pub reports: Vec<ReportBlock>,
    }
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct ReceiverReport {
        pub ssrc: u32,
        pub reports: Vec<ReportBlock>,
    }
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Sdes {
        pub chunks: Vec<SdesChunk>,
    }
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct SdesChunk {
        pub ssrc: u32,
        pub items: Vec<(u8, Vec<u8>)>,
    }
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Bye {
        pub ssrcs: Vec<u32>,
        pub reason: Option<String>,
    }
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct GenericNack {
        pub sender_ssrc: u32,
        pub media_ssrc: u32,
        pub lost: Vec<u16>,
    }
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Pli {
        pub sender_ssrc: u32,
        pub media_ssrc: u32,
    }
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Fir {
        pub sender_ssrc: u32,
        pub entries: Vec<(u32, u8)>,
    }
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Remb {
        pub sender_ssrc: u32,
        pub bitrate_bps: u64,
        pub ssrcs: Vec<u32>,
    }
}
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtpError {
    #[error("short")]
    TooShort,
    #[error("version")]
    BadVersion,
    #[error("len")]
    BadLength,
    #[error("malformed {0}")]
    Malformed(&'static str),
}
