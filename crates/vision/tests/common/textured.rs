//! The test photo of the root `pipeline` bench and of the `detect_timing` example, which times
//! detection on the bench's pictures: one file, included by both (`#[path]`), so the two
//! cannot drift apart.

use std::io::Cursor;

use image::imageops::{self, FilterType};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

/// `face` (if any) scaled to `face_side` pixels and pasted in the middle of a `width`×`height`
/// textured background, encoded as JPEG at the `image` crate's default quality.
pub fn textured_photo_jpeg(
    face: Option<&RgbImage>,
    width: u32,
    height: u32,
    face_side: u32,
) -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut canvas = RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let noise = (state % 24) as u32;
        Rgb([
            (x * 120 / width + noise + 60) as u8,
            (y * 120 / height + noise + 60) as u8,
            (100 + noise) as u8,
        ])
    });
    if let Some(face) = face {
        let scaled = imageops::resize(face, face_side, face_side, FilterType::Triangle);
        let left = i64::from((width - face_side) / 2);
        let top = i64::from((height - face_side) / 2);
        imageops::overlay(&mut canvas, &scaled, left, top);
    }
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(canvas)
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Jpeg)
        .expect("encoding a JPEG into memory");
    bytes
}
