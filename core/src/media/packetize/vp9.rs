//! VP9 over RTP (RFC 9628): the payload descriptor in flexible and non-flexible mode,
//! layer indices, reference differences and the scalability structure (SS), a packetizer
//! and a depacketizer, keyframe detection on the RTP level.
//!
//! The packetizer sends one spatial layer: a 15-bit picture id on every packet, `P` from the
//! frame's own header (clear on key frames), in flexible mode one reference (`P_DIFF = 1`)
//! on inter frames, and an SS with the frame size on key frames. The depacketizer parses
//! every descriptor form ([`Vp9Descriptor`]) so a receiver sees the SVC layer info.
//!
//! Not implemented: producing several spatial or temporal layers from one call (an SVC
//! encoder's frames can be sent one layer frame at a time with the descriptor read back).

use super::{DepacketizeError, Depacketizer, PacketizeError, Packetizer, SvcLayer};

const I: u8 = 0x80;
const P: u8 = 0x40;
const L: u8 = 0x20;
const F: u8 = 0x10;
const B: u8 = 0x08;
const E: u8 = 0x04;
const V: u8 = 0x02;
const Z: u8 = 0x01;

/// The layer indices of a descriptor with `L` set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vp9Layer {
    /// TID: the temporal layer.
    pub temporal_id: u8,
    /// U: a switching-up point.
    pub switching_up: bool,
    /// SID: the spatial layer.
    pub spatial_id: u8,
    /// D: the layer frame depends on the lower spatial layer of the same picture.
    pub inter_layer_dependency: bool,
}

/// One picture group entry of a scalability structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vp9PictureGroupEntry {
    /// TID of the picture.
    pub temporal_id: u8,
    /// U: a switching-up point.
    pub switching_up: bool,
    /// The reference picture id differences (0 to 3).
    pub reference_diffs: Vec<u8>,
}

/// The scalability structure (RFC 9628 §4.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vp9ScalabilityStructure {
    /// Number of spatial layers (N_S + 1).
    pub spatial_layers: u8,
    /// Width and height of each spatial layer, if given (`Y`).
    pub resolutions: Vec<(u16, u16)>,
    /// The picture group description, if given (`G`).
    pub picture_group: Vec<Vp9PictureGroupEntry>,
}

/// A parsed VP9 payload descriptor (RFC 9628 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vp9Descriptor {
    /// P: the frame is predicted from earlier pictures (clear on key frames).
    pub inter_picture_predicted: bool,
    /// F: flexible mode.
    pub flexible: bool,
    /// B: the payload starts a layer frame.
    pub start_of_frame: bool,
    /// E: the payload ends a layer frame.
    pub end_of_frame: bool,
    /// Z: not used for inter-layer prediction by the next spatial layer.
    pub not_reference_for_upper_layer: bool,
    /// The picture id (7 or 15 bits), if `I`.
    pub picture_id: Option<u16>,
    /// Layer indices, if `L`.
    pub layer: Option<Vp9Layer>,
    /// TL0PICIDX (non-flexible mode with `L`).
    pub tl0_pic_idx: Option<u8>,
    /// Reference picture id differences (flexible mode with `P`).
    pub reference_diffs: Vec<u8>,
    /// The scalability structure, if `V`.
    pub scalability: Option<Vp9ScalabilityStructure>,
    /// Length of the descriptor in bytes.
    pub len: usize,
}

/// A cursor over descriptor bytes that fails on truncation.
struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn u8(&mut self) -> Result<u8, DepacketizeError> {
        let b = *self.data.get(self.at).ok_or(DepacketizeError::Truncated)?;
        self.at += 1;
        Ok(b)
    }

    fn u16(&mut self) -> Result<u16, DepacketizeError> {
        Ok(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }
}

impl Vp9Descriptor {
    /// Parses the descriptor at the start of `payload`.
    pub fn parse(payload: &[u8]) -> Result<Self, DepacketizeError> {
        let mut c = Cursor {
            data: payload,
            at: 0,
        };
        let first = c.u8()?;
        let mut d = Self {
            inter_picture_predicted: first & P != 0,
            flexible: first & F != 0,
            start_of_frame: first & B != 0,
            end_of_frame: first & E != 0,
            not_reference_for_upper_layer: first & Z != 0,
            ..Self::default()
        };
        if first & I != 0 {
            let b = c.u8()?;
            d.picture_id = Some(if b & 0x80 != 0 {
                u16::from_be_bytes([b & 0x7f, c.u8()?])
            } else {
                u16::from(b)
            });
        }
        if first & L != 0 {
            let b = c.u8()?;
            d.layer = Some(Vp9Layer {
                temporal_id: b >> 5,
                switching_up: b & 0x10 != 0,
                spatial_id: (b >> 1) & 0x07,
                inter_layer_dependency: b & 0x01 != 0,
            });
            if !d.flexible {
                d.tl0_pic_idx = Some(c.u8()?);
            }
        }
        if d.flexible && d.inter_picture_predicted {
            loop {
                let b = c.u8()?;
                d.reference_diffs.push(b >> 1);
                if b & 1 == 0 {
                    break;
                }
                if d.reference_diffs.len() == 3 {
                    return Err(DepacketizeError::Malformed("more than 3 reference indices"));
                }
            }
        }
        if first & V != 0 {
            d.scalability = Some(parse_ss(&mut c)?);
        }
        d.len = c.at;
        Ok(d)
    }

    fn is_first_layer(&self) -> bool {
        self.layer.is_none_or(|l| l.spatial_id == 0)
    }
}

fn parse_ss(c: &mut Cursor<'_>) -> Result<Vp9ScalabilityStructure, DepacketizeError> {
    let b = c.u8()?;
    let mut ss = Vp9ScalabilityStructure {
        spatial_layers: (b >> 5) + 1,
        ..Default::default()
    };
    if b & 0x10 != 0 {
        for _ in 0..ss.spatial_layers {
            ss.resolutions.push((c.u16()?, c.u16()?));
        }
    }
    if b & 0x08 != 0 {
        for _ in 0..c.u8()? {
            let g = c.u8()?;
            let mut entry = Vp9PictureGroupEntry {
                temporal_id: g >> 5,
                switching_up: g & 0x10 != 0,
                reference_diffs: Vec::new(),
            };
            for _ in 0..(g >> 2) & 0x03 {
                entry.reference_diffs.push(c.u8()?);
            }
            ss.picture_group.push(entry);
        }
    }
    Ok(ss)
}

/// What the packetizer needs from a VP9 frame's uncompressed header (VP9 spec §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FrameInfo {
    key: bool,
    size: Option<(u16, u16)>,
}

/// Reads bits most significant first.
struct Bits<'a> {
    data: &'a [u8],
    at: usize,
}

impl Bits<'_> {
    fn read(&mut self, n: usize) -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            let byte = *self.data.get(self.at / 8)?;
            v = (v << 1) | u32::from((byte >> (7 - self.at % 8)) & 1);
            self.at += 1;
        }
        Some(v)
    }
}

/// Reads frame type and, on key frames, the frame size; `None` if the header is not VP9.
fn frame_info(frame: &[u8]) -> Option<FrameInfo> {
    let mut r = Bits { data: frame, at: 0 };
    if r.read(2)? != 2 {
        return None; // frame_marker
    }
    let profile = r.read(1)? | (r.read(1)? << 1);
    if profile == 3 {
        r.read(1)?;
    }
    if r.read(1)? == 1 {
        return Some(FrameInfo {
            key: false,
            size: None,
        }); // show_existing_frame
    }
    if r.read(1)? != 0 {
        return Some(FrameInfo {
            key: false,
            size: None,
        });
    }
    r.read(2)?; // show_frame, error_resilient_mode
    if r.read(24)? != 0x49_83_42 {
        return None;
    }
    if profile >= 2 {
        r.read(1)?; // ten_or_twelve_bit
    }
    let color_space = r.read(3)?;
    if color_space != 7 {
        r.read(1)?; // color_range
        if profile == 1 || profile == 3 {
            r.read(3)?;
        }
    } else if profile == 1 || profile == 3 {
        r.read(1)?;
    }
    let width = r.read(16)? + 1;
    let height = r.read(16)? + 1;
    let size = u16::try_from(width).ok().zip(u16::try_from(height).ok());
    Some(FrameInfo { key: true, size })
}

/// Splits encoded VP9 frames into RTP payloads, numbering pictures.
#[derive(Debug, Clone)]
pub struct Vp9Packetizer {
    picture_id: u16,
    flexible: bool,
}

impl Vp9Packetizer {
    /// A packetizer whose first picture id is `first_picture_id` (modulo 2^15), in flexible
    /// or non-flexible mode.
    pub fn new(first_picture_id: u16, flexible: bool) -> Self {
        Self {
            picture_id: first_picture_id & 0x7fff,
            flexible,
        }
    }

    fn descriptor(&self, info: FrameInfo, first: bool, last: bool) -> Vec<u8> {
        let mut b0 = I;
        if !info.key {
            b0 |= P;
        }
        if self.flexible {
            b0 |= F;
        }
        if first {
            b0 |= B;
        }
        if last {
            b0 |= E;
        }
        let ss = first && info.key;
        if ss {
            b0 |= V;
        }
        let mut d = vec![b0];
        d.extend_from_slice(&(0x8000 | self.picture_id).to_be_bytes());
        if self.flexible && !info.key {
            d.push(1 << 1); // P_DIFF 1, N = 0
        }
        if ss {
            match info.size {
                Some((w, h)) => {
                    d.push(0x10); // N_S = 0, Y = 1, G = 0
                    d.extend_from_slice(&w.to_be_bytes());
                    d.extend_from_slice(&h.to_be_bytes());
                }
                None => d.push(0),
            }
        }
        d
    }
}

/// The longest descriptor the packetizer writes: header, picture id, SS with a size.
const MAX_DESCRIPTOR: usize = 1 + 2 + 1 + 4;

impl Packetizer for Vp9Packetizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        max_payload: usize,
    ) -> Result<Vec<Vec<u8>>, PacketizeError> {
        let room = super::room_after(MAX_DESCRIPTOR, max_payload)?;
        if frame.is_empty() {
            return Ok(Vec::new());
        }
        let info = frame_info(frame).unwrap_or(FrameInfo {
            key: false,
            size: None,
        });
        let chunks = frame.len().div_ceil(room);
        let out = frame
            .chunks(room)
            .enumerate()
            .map(|(i, chunk)| {
                let mut p = self.descriptor(info, i == 0, i + 1 == chunks);
                p.extend_from_slice(chunk);
                p
            })
            .collect();
        self.picture_id = (self.picture_id + 1) & 0x7fff;
        Ok(out)
    }
}

/// Strips VP9 payload descriptors, giving back the encoded frame.
#[derive(Debug, Clone, Copy, Default)]
pub struct Vp9Depacketizer;

impl Depacketizer for Vp9Depacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), DepacketizeError> {
        let d = Vp9Descriptor::parse(payload)?;
        if d.len >= payload.len() {
            return Err(DepacketizeError::Truncated);
        }
        out.extend_from_slice(&payload[d.len..]);
        Ok(())
    }

    fn is_frame_start(&self, payload: &[u8]) -> bool {
        Vp9Descriptor::parse(payload).is_ok_and(|d| d.start_of_frame && d.is_first_layer())
    }

    fn is_keyframe(&self, payload: &[u8]) -> bool {
        Vp9Descriptor::parse(payload)
            .is_ok_and(|d| d.start_of_frame && !d.inter_picture_predicted && d.is_first_layer())
    }

    /// The layer indices of a descriptor with `L` set.
    fn svc_layer(&self, payload: &[u8]) -> Option<SvcLayer> {
        let layer = Vp9Descriptor::parse(payload).ok()?.layer?;
        Some(SvcLayer {
            spatial: layer.spatial_id,
            temporal: layer.temporal_id,
            switching_up: Some(layer.switching_up),
            inter_layer_dependency: Some(layer.inter_layer_dependency),
        })
    }
}
