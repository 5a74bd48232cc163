//! Annex B byte streams (ITU-T H.264 Annex B, H.265 Annex B): NAL units separated by start
//! codes `00 00 01` or `00 00 00 01`. Shared by the H.264 and H.265 payload formats.

/// The 4-byte start code the depacketizers write before every NAL unit.
pub(crate) const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// The NAL units of an aggregation packet's body (H.264 STAP-A after its 1-byte header,
/// H.265 AP after its 2-byte header), each preceded by a 16-bit size. A size below
/// `min_unit_len` (the NAL unit header's length) or past the end is `Truncated`, after
/// which the iteration ends.
pub(crate) fn aggregated_units(
    mut body: &[u8],
    min_unit_len: usize,
) -> impl Iterator<Item = Result<&[u8], super::DepacketizeError>> {
    std::iter::from_fn(move || {
        if body.is_empty() {
            return None;
        }
        let len = match body {
            [hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
            _ => 0,
        };
        if len < min_unit_len || body.len() < 2 + len {
            body = &[];
            return Some(Err(super::DepacketizeError::Truncated));
        }
        let nal = &body[2..2 + len];
        body = &body[2 + len..];
        Some(Ok(nal))
    })
}

/// Iterates over the NAL units of an Annex B stream (without start codes, trailing zero
/// bytes of a unit trimmed). Bytes before the first start code are taken as one NAL unit,
/// so a frame given without any start code is a single NAL unit.
pub(crate) fn split_annex_b(stream: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = match find_start_code(stream) {
        Some((0, len)) => &stream[len..],
        _ => stream,
    };
    std::iter::from_fn(move || {
        loop {
            if rest.is_empty() {
                return None;
            }
            let (unit, next) = match find_start_code(rest) {
                Some((at, len)) => (&rest[..at], &rest[at + len..]),
                None => (rest, &rest[rest.len()..]),
            };
            rest = next;
            let end = unit.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
            if end > 0 {
                return Some(&unit[..end]);
            }
        }
    })
}

/// The offset and length (3) of the first `00 00 01` in `data`.
fn find_start_code(data: &[u8]) -> Option<(usize, usize)> {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while i + 2 < data.len() {
        // Eight bytes without a zero cannot hold the start of a start code.
        if let Some(word) = data.get(i..i + 8) {
            let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            if w.wrapping_sub(LOW) & !w & HIGH == 0 {
                i += 8;
                continue;
            }
        }
        // Skip quickly: a start code needs data[i + 2] == 1 and two zeros before it.
        match data[i + 2] {
            1 if data[i] == 0 && data[i + 1] == 0 => return Some((i, 3)),
            0 => i += 1,
            _ => i += 3,
        }
    }
    None
}

/// Reads the first bit after a NAL header of `header_len` bytes: for a slice, the leading
/// bit of `first_mb_in_slice` (H.264; `1` means it is 0, the first slice of a picture) or
/// `first_slice_segment_in_pic_flag` (H.265).
pub(crate) fn first_slice_bit(nal: &[u8], header_len: usize) -> bool {
    nal.get(header_len).is_some_and(|b| b & 0x80 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nal_units_are_split_at_three_and_four_byte_start_codes() {
        let stream = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 0, 0,
        ];
        let units: Vec<&[u8]> = split_annex_b(&stream).collect();
        assert_eq!(units, vec![&[0x67, 1, 2][..], &[0x68, 3], &[0x65, 4]]);
        let bare: Vec<&[u8]> = split_annex_b(&[0x65, 9, 9]).collect();
        assert_eq!(bare, vec![&[0x65, 9, 9][..]]);
        assert_eq!(split_annex_b(&[0, 0, 1, 0, 0, 1]).count(), 0);
    }
}
