//! Hostile files for `tests/hostile_inputs.rs`, made in code: a small JPEG writer for what the
//! `image` crate does not write (progressive and CMYK JPEG), an EXIF orientation block, PNG
//! chunks with any header, and headers that claim huge pictures.
#![allow(dead_code)] // Each test uses its own part of this module.
#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test.

use std::io::{Cursor, Write};

use flate2::Compression;
use flate2::write::ZlibEncoder;
use image::{DynamicImage, ImageFormat};

use crate::http_support::png_chunk;

// ---------- JPEG ----------

/// How the JPEG writer lays out its scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JpegKind {
    /// One interleaved scan (SOF0).
    Baseline,
    /// A DC scan of every component, then one AC scan per component (SOF2).
    Progressive,
}

/// A JPEG of `planes` (1 = grey, 3 = YCbCr, 4 = CMYK as Adobe writes it, with an APP14 marker
/// saying "no transform"), each `width`×`height` values, one sample per pixel per component.
///
/// Every 8×8 block keeps only its mean (the DC coefficient, quantised by 1): the picture is
/// blocky but a real, standard JPEG that any decoder reads, in either [`JpegKind`].
pub fn dc_only_jpeg(width: u16, height: u16, planes: &[Vec<u8>], kind: JpegKind) -> Vec<u8> {
    let components = planes.len();
    assert!(matches!(components, 1 | 3 | 4), "1, 3 or 4 components");
    let (w, h) = (usize::from(width), usize::from(height));
    let (bw, bh) = (w.div_ceil(8), h.div_ceil(8));
    // The DC coefficient of each block: 8 × (mean − 128), edges replicated.
    let dc: Vec<Vec<i32>> = planes
        .iter()
        .map(|plane| {
            assert_eq!(plane.len(), w * h);
            let mut blocks = Vec::with_capacity(bw * bh);
            for by in 0..bh {
                for bx in 0..bw {
                    let mut sum = 0_i32;
                    for y in 0..8 {
                        for x in 0..8 {
                            let (px, py) = ((bx * 8 + x).min(w - 1), (by * 8 + y).min(h - 1));
                            sum += i32::from(plane[py * w + px]) - 128;
                        }
                    }
                    blocks.push((sum + 4).div_euclid(8));
                }
            }
            blocks
        })
        .collect();

    let mut out = vec![0xFF, 0xD8];
    if components == 4 {
        // APP14 "Adobe": version 100, no flags, transform 0 (CMYK stored as is).
        segment(&mut out, 0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x00");
    }
    // One quantisation table of ones.
    let mut dqt = vec![0_u8];
    dqt.extend([1_u8; 64]);
    segment(&mut out, 0xDB, &dqt);
    // Start of frame.
    let mut sof = vec![8];
    sof.extend(height.to_be_bytes());
    sof.extend(width.to_be_bytes());
    sof.push(components as u8);
    for id in 1..=components as u8 {
        sof.extend([id, 0x11, 0]);
    }
    let frame = match kind {
        JpegKind::Baseline => 0xC0,
        JpegKind::Progressive => 0xC2,
    };
    segment(&mut out, frame, &sof);
    // Huffman tables: DC table 0 (the standard luminance one) and AC table 0 (EOB and ZRL).
    let mut dht = vec![0x00];
    dht.extend(DC_BITS);
    dht.extend(0..=11_u8);
    dht.push(0x10);
    dht.extend(AC_BITS);
    dht.extend(AC_VALUES);
    segment(&mut out, 0xC4, &dht);
    let dc_codes = huffman_codes(&DC_BITS, &(0..=11).collect::<Vec<u8>>());
    let ac_codes = huffman_codes(&AC_BITS, &AC_VALUES);
    let eob = ac_codes[0];

    // The DC data, interleaved: one block of each component per MCU.
    let scan_header = |ids: &[u8], ss: u8, se: u8| {
        let mut sos = vec![ids.len() as u8];
        for id in ids {
            sos.extend([*id, 0x00]);
        }
        sos.extend([ss, se, 0]);
        sos
    };
    let ids: Vec<u8> = (1..=components as u8).collect();
    let mut bits = BitWriter::default();
    let mut previous = vec![0_i32; components];
    for block in 0..bw * bh {
        for (component, blocks) in dc.iter().enumerate() {
            let diff = blocks[block] - previous[component];
            previous[component] = blocks[block];
            let category = (32 - diff.unsigned_abs().leading_zeros()) as usize;
            let (code, length) = dc_codes[category];
            bits.put(code, length);
            if category > 0 {
                let value = if diff < 0 {
                    diff + (1 << category) - 1
                } else {
                    diff
                };
                bits.put(value as u32, category as u8);
            }
            if kind == JpegKind::Baseline {
                bits.put(eob.0, eob.1);
            }
        }
    }
    let (ss, se) = match kind {
        JpegKind::Baseline => (0, 63),
        JpegKind::Progressive => (0, 0),
    };
    segment(&mut out, 0xDA, &scan_header(&ids, ss, se));
    out.extend(bits.finish());
    if kind == JpegKind::Progressive {
        // Every AC coefficient is zero: each block is one end-of-band.
        for id in &ids {
            segment(&mut out, 0xDA, &scan_header(&[*id], 1, 63));
            let mut bits = BitWriter::default();
            for _ in 0..bw * bh {
                bits.put(eob.0, eob.1);
            }
            out.extend(bits.finish());
        }
    }
    out.extend([0xFF, 0xD9]);
    out
}

/// The standard luminance DC table (JPEG Annex K.3): code lengths of the categories 0..=11.
const DC_BITS: [u8; 16] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
/// An AC table with two symbols of two bits: end-of-band and sixteen zeros.
const AC_BITS: [u8; 16] = [0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_VALUES: [u8; 2] = [0x00, 0xF0];

/// The canonical Huffman codes (code, length) of `values`, in their order (JPEG Annex C).
fn huffman_codes(bits: &[u8; 16], values: &[u8]) -> Vec<(u32, u8)> {
    let mut codes = Vec::new();
    let mut code = 0_u32;
    for (index, count) in bits.iter().enumerate() {
        for _ in 0..*count {
            codes.push((code, index as u8 + 1));
            code += 1;
        }
        code <<= 1;
    }
    assert_eq!(codes.len(), values.len());
    codes
}

/// Entropy-coded data: bits, most significant first, with `FF 00` stuffing.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    buffer: u32,
    count: u8,
}

impl BitWriter {
    fn put(&mut self, value: u32, length: u8) {
        for shift in (0..length).rev() {
            self.buffer = (self.buffer << 1) | ((value >> shift) & 1);
            self.count += 1;
            if self.count == 8 {
                self.flush_byte();
            }
        }
    }

    fn flush_byte(&mut self) {
        let byte = self.buffer as u8;
        self.bytes.push(byte);
        if byte == 0xFF {
            self.bytes.push(0x00);
        }
        self.buffer = 0;
        self.count = 0;
    }

    fn finish(mut self) -> Vec<u8> {
        while self.count != 0 {
            self.put(1, 1); // Padding with ones.
        }
        self.bytes
    }
}

/// Appends a marker segment `FF marker`, its length and `data`.
fn segment(out: &mut Vec<u8>, marker: u8, data: &[u8]) {
    out.extend([0xFF, marker]);
    out.extend(u16::try_from(data.len() + 2).unwrap().to_be_bytes());
    out.extend(data);
}

/// Where the first marker segment after SOI and any JFIF APP0 begins.
fn after_app0(jpeg: &[u8]) -> usize {
    assert_eq!(&jpeg[..2], [0xFF, 0xD8], "a JPEG");
    if jpeg[2..4] == [0xFF, 0xE0] {
        4 + usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]))
    } else {
        2
    }
}

/// `jpeg` with an EXIF block (APP1) whose only tag is the orientation `orientation` (1..=8).
pub fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    // Big-endian TIFF header, one IFD with one entry: 0x0112 SHORT 1 = orientation.
    let mut tiff = b"MM\x00\x2A\x00\x00\x00\x08".to_vec();
    tiff.extend(1_u16.to_be_bytes());
    tiff.extend(0x0112_u16.to_be_bytes());
    tiff.extend(3_u16.to_be_bytes());
    tiff.extend(1_u32.to_be_bytes());
    tiff.extend(orientation.to_be_bytes());
    tiff.extend([0, 0]);
    tiff.extend(0_u32.to_be_bytes());
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend(tiff);
    insert_segment(jpeg, 0xE1, &app1)
}

/// `jpeg` with a marker segment inserted after SOI (and JFIF APP0, if any).
pub fn insert_segment(jpeg: &[u8], marker: u8, data: &[u8]) -> Vec<u8> {
    let at = after_app0(jpeg);
    let mut out = jpeg[..at].to_vec();
    segment(&mut out, marker, data);
    out.extend_from_slice(&jpeg[at..]);
    out
}

/// `jpeg` with the size in its frame header (SOFn) replaced: a header that lies.
pub fn jpeg_claiming(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let mut at = 2;
    while at + 4 < out.len() {
        assert_eq!(out[at], 0xFF, "a marker at {at}");
        let marker = out[at + 1];
        let length = usize::from(u16::from_be_bytes([out[at + 2], out[at + 3]]));
        if matches!(marker, 0xC0..=0xC3) {
            out[at + 5..at + 7].copy_from_slice(&height.to_be_bytes());
            out[at + 7..at + 9].copy_from_slice(&width.to_be_bytes());
            return out;
        }
        at += 2 + length;
    }
    panic!("no frame header");
}

/// Where the entropy-coded data of the first scan begins (just after the SOS segment).
pub fn first_scan_data(jpeg: &[u8]) -> usize {
    let mut at = 2;
    loop {
        let marker = jpeg[at + 1];
        let length = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        at += 2 + length;
        if marker == 0xDA {
            return at;
        }
    }
}

// ---------- PNG ----------

/// A PNG written chunk by chunk: `width`×`height`, `bit_depth` and `colour_type` as in IHDR,
/// `extra` chunks (PLTE, tRNS, ...) before the image data, and `row(y)` giving each row's
/// bytes (without the filter byte, which is 0).
pub fn png(
    width: u32,
    height: u32,
    bit_depth: u8,
    colour_type: u8,
    extra: &[(&[u8; 4], Vec<u8>)],
    row: impl Fn(u32) -> Vec<u8>,
) -> Vec<u8> {
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[bit_depth, colour_type, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut out, b"IHDR", &header);
    for (kind, data) in extra {
        png_chunk(&mut out, kind, data);
    }
    let mut zlib = ZlibEncoder::new(Vec::new(), Compression::fast());
    for y in 0..height {
        zlib.write_all(&[0]).unwrap();
        zlib.write_all(&row(y)).unwrap();
    }
    png_chunk(&mut out, b"IDAT", &zlib.finish().unwrap());
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A 4-colour palette PNG (colour type 3, 2 bits per pixel) of stripes.
pub fn palette_png(width: u32, height: u32) -> Vec<u8> {
    let palette = vec![0, 0, 0, 255, 0, 0, 0, 255, 0, 255, 255, 255];
    png(width, height, 2, 3, &[(b"PLTE", palette)], |y| {
        (0..width.div_ceil(4))
            .map(|x| {
                let index = ((x + y / 8) % 4) as u8;
                (index << 6) | (index << 4) | (index << 2) | index
            })
            .collect()
    })
}

/// A valid 1-bit grey PNG of `width`×`height` (tiny on disk, however many pixels).
pub fn huge_valid_png(width: u32, height: u32) -> Vec<u8> {
    png(width, height, 1, 0, &[], |y| {
        vec![if y % 2 == 0 { 0x55 } else { 0xAA }; width.div_ceil(8) as usize]
    })
}

// ---------- GIF and WebP ----------

/// A GIF whose logical screen claims `width`×`height`, with one 1×1 frame.
pub fn gif_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend(width.to_le_bytes());
    out.extend(height.to_le_bytes());
    // A global colour table of 2 entries, then an image descriptor for a 1×1 frame.
    out.extend([0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
    out.extend([0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
    // LZW minimum code size 2, one data block (clear, index 0, end), terminator; trailer.
    out.extend([0x02, 0x02, 0x44, 0x01, 0x00, 0x3B]);
    out
}

/// A lossless WebP header (VP8L) that claims `width`×`height` (each at most 16384).
pub fn webp_claiming(width: u32, height: u32) -> Vec<u8> {
    let bits = (width - 1) | ((height - 1) << 14);
    let mut vp8l = vec![0x2F];
    vp8l.extend(bits.to_le_bytes());
    vp8l.extend([0_u8; 9]); // (An even chunk size: no padding byte.)
    let mut out = b"RIFF".to_vec();
    out.extend((4 + 8 + vp8l.len() as u32).to_le_bytes());
    out.extend(b"WEBPVP8L");
    out.extend((vp8l.len() as u32).to_le_bytes());
    out.extend(vp8l);
    out
}

// ---------- pictures and orientations ----------

/// `picture` encoded in `format` by the `image` crate.
pub fn encode_dynamic(picture: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Cursor::new(Vec::new());
    picture.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

/// The picture to store so that a viewer applying EXIF `orientation` shows `upright`.
///
/// Found by trying the eight transforms on `upright` rather than by a table, so that it cannot
/// disagree with what the decoder applies.
pub fn stored_for(upright: &DynamicImage, orientation: u8) -> DynamicImage {
    use image::metadata::Orientation;
    let target = Orientation::from_exif(orientation).unwrap();
    // A small picture where every pixel differs tells the transforms apart.
    let probe = DynamicImage::ImageLuma8(image::GrayImage::from_fn(3, 2, |x, y| {
        image::Luma([(y * 3 + x) as u8 * 20])
    }));
    for candidate in 1..=8 {
        let transform = Orientation::from_exif(candidate).unwrap();
        let mut stored = probe.clone();
        stored.apply_orientation(transform);
        stored.apply_orientation(target);
        if stored == probe {
            let mut out = upright.clone();
            out.apply_orientation(transform);
            return out;
        }
    }
    unreachable!("one of the eight transforms undoes orientation {orientation}");
}
