//! The marker structure of a JPEG file, walked without decoding it.
//!
//! The JPEG decoder paints the missing part of a cut-off file grey and reports success; a face
//! read from half a photo would be a wrong mood, so [`crate::decode`] refuses a JPEG whose
//! segments stop before its end-of-image marker.

/// What walking a JPEG's marker segments found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JpegStructure {
    /// The segments lead to the end-of-image marker (bytes after it are allowed).
    Complete,
    /// The bytes end before the end-of-image marker.
    Truncated,
    /// The bytes do not follow the JPEG layout; the decoder will say how.
    Malformed,
}

/// Walks the marker segments of a JPEG (starting with `FF D8`) to its end-of-image marker.
///
/// Each segment is skipped by its length, so an `FF D9` inside one (the end of an EXIF
/// thumbnail, say) does not count as the end of the photo; after a start-of-scan the
/// entropy-coded data runs to the next marker that is neither a stuffed `FF 00` nor a restart.
pub(crate) fn jpeg_structure(bytes: &[u8]) -> JpegStructure {
    let mut at = 2;
    loop {
        // Fill bytes (`FF FF ...`) may precede a marker.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&prefix), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return JpegStructure::Truncated;
        };
        if prefix != 0xFF {
            return JpegStructure::Malformed;
        }
        at += 2;
        match marker {
            0xD9 => return JpegStructure::Complete,
            // Markers without a segment.
            0x01 | 0xD0..=0xD7 => continue,
            0x00 | 0xD8 => return JpegStructure::Malformed,
            _ => {}
        }
        let Some(length) = bytes.get(at..at + 2) else {
            return JpegStructure::Truncated;
        };
        let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
        if length < 2 {
            return JpegStructure::Malformed;
        }
        at += length;
        if at > bytes.len() {
            return JpegStructure::Truncated;
        }
        if marker == 0xDA {
            // Entropy-coded data up to the next real marker.
            loop {
                let Some(offset) = bytes[at..].iter().position(|&byte| byte == 0xFF) else {
                    return JpegStructure::Truncated;
                };
                let ff = at + offset;
                match bytes.get(ff + 1) {
                    None => return JpegStructure::Truncated,
                    Some(0x00 | 0xD0..=0xD7 | 0xFF) => at = ff + 1,
                    Some(_) => {
                        at = ff;
                        break;
                    }
                }
            }
        }
    }
}

/// For a progressive JPEG (SOF2, SOF6, SOF10 or SOF14 as its first frame header), how many
/// coefficients per pixel its decoder keeps until the last scan: the sum over its components of
/// their share of the picture (3 for three full-resolution components, 1.5 for the usual 4:2:0
/// chroma subsampling). `None` for a sequential JPEG, which is decoded a row of blocks at a
/// time, or when no frame header is found.
pub(crate) fn progressive_samples_per_pixel(bytes: &[u8]) -> Option<f64> {
    let mut at = 2;
    while let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) {
        at += 2;
        match marker {
            0xFF => at -= 1,
            0x01 | 0xD0..=0xD7 => {}
            0xC2 | 0xC6 | 0xCA | 0xCE => return frame_samples(bytes.get(at..)?),
            0xC0 | 0xC1 | 0xC3 | 0xC5 | 0xC7 | 0xC9 | 0xCB | 0xCD | 0xCF | 0xDA | 0xD9 => {
                return None;
            }
            _ => {
                let length = bytes.get(at..at + 2)?;
                at += usize::from(u16::from_be_bytes([length[0], length[1]]));
            }
        }
    }
    None
}

/// Samples per pixel of a frame header's components (`segment` starts at its length field).
fn frame_samples(segment: &[u8]) -> Option<f64> {
    let count = usize::from(*segment.get(7)?);
    let factors: Vec<(u8, u8)> = (0..count)
        .map(|index| {
            let sampling = *segment.get(8 + 3 * index + 1)?;
            Some(((sampling >> 4).max(1), (sampling & 0x0F).max(1)))
        })
        .collect::<Option<_>>()?;
    let most_h = factors.iter().map(|(h, _)| *h).max()?;
    let most_v = factors.iter().map(|(_, v)| *v).max()?;
    Some(
        factors
            .iter()
            .map(|(h, v)| f64::from(*h) * f64::from(*v) / (f64::from(most_h) * f64::from(most_v)))
            .sum(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_skips_segments_and_scan_data() {
        // SOI, an APP1 holding an `FF D9` (a thumbnail's end), SOS, scan data with a stuffed
        // byte and a restart marker, EOI, then trailing bytes.
        let app1 = [0xFF, 0xE1, 0, 6, 0xAB, 0xFF, 0xD9, 0xCD];
        let sos = [0xFF, 0xDA, 0, 3, 0];
        let scan = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56];
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend(app1);
        jpeg.extend(sos);
        jpeg.extend(scan);
        let without_end = jpeg.clone();
        jpeg.extend([0xFF, 0xD9, 0, 0, 0]);
        assert_eq!(jpeg_structure(&jpeg), JpegStructure::Complete);
        assert_eq!(jpeg_structure(&without_end), JpegStructure::Truncated);
        for cut in 2..without_end.len() {
            assert_eq!(
                jpeg_structure(&jpeg[..cut]),
                JpegStructure::Truncated,
                "cut at {cut}"
            );
        }
        assert_eq!(
            jpeg_structure(&[0xFF, 0xD8, 0x12, 0x34]),
            JpegStructure::Malformed
        );
        assert_eq!(
            jpeg_structure(&[0xFF, 0xD8, 0xFF, 0xD9]),
            JpegStructure::Complete
        );
    }

    #[test]
    fn a_progressive_frame_header_says_how_many_coefficients_are_kept() {
        // SOF: length, precision, height, width, then (id, sampling, table) per component.
        let frame = |marker: u8, samplings: &[u8]| {
            let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, marker];
            let length = 8 + 3 * samplings.len() as u16;
            jpeg.extend(length.to_be_bytes());
            jpeg.extend([8, 0, 16, 0, 16, samplings.len() as u8]);
            for (id, sampling) in samplings.iter().enumerate() {
                jpeg.extend([id as u8 + 1, *sampling, 0]);
            }
            jpeg
        };
        assert_eq!(
            progressive_samples_per_pixel(&frame(0xC2, &[0x11, 0x11, 0x11])),
            Some(3.0)
        );
        assert_eq!(
            progressive_samples_per_pixel(&frame(0xC2, &[0x22, 0x11, 0x11])),
            Some(1.5)
        );
        assert_eq!(
            progressive_samples_per_pixel(&frame(0xC0, &[0x11, 0x11, 0x11])),
            None
        );
        assert_eq!(progressive_samples_per_pixel(&[0xFF, 0xD8]), None);
        assert_eq!(
            progressive_samples_per_pixel(&[0xFF, 0xD8, 0xFF, 0xE0, 0xFF]),
            None
        );
    }
}
