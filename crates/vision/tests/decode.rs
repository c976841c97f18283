//! Decoding through the public API: every supported format, EXIF orientation, and hostile
//! inputs (empty, truncated, oversized, bombs, unusual colour layouts).

mod common;

use std::io::Cursor;

use vision::image::codecs::gif::{GifEncoder, Repeat};
use vision::image::codecs::webp::WebPEncoder;
use vision::image::{
    Delay, DynamicImage, Frame, GenericImageView, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage,
};
use vision::{DecodeError, DecodeLimits, decode, decode_with_limits};

/// A 64×48 picture with a bright block in the top-left corner and a dark rest.
fn marked_picture() -> RgbImage {
    RgbImage::from_fn(64, 48, |x, y| {
        if x < 16 && y < 16 {
            Rgb([250, 240, 230])
        } else {
            Rgb([20, 30, 40])
        }
    })
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), format)
        .expect("encoding in memory");
    bytes
}

/// Mean grey level of an 8×8 block whose top-left corner is at (x, y).
fn block_mean(image: &DynamicImage, x: u32, y: u32) -> f64 {
    let grey = vision::to_grey_bt601(image);
    let mut total = 0u32;
    for dy in 0..8 {
        for dx in 0..8 {
            total += u32::from(grey.get_pixel(x + dx, y + dy).0[0]);
        }
    }
    f64::from(total) / 64.0
}

#[test]
fn every_supported_format_decodes() {
    let picture = DynamicImage::ImageRgb8(marked_picture());
    let mut webp = Vec::new();
    WebPEncoder::new_lossless(&mut webp)
        .encode(
            picture.as_bytes(),
            64,
            48,
            vision::image::ExtendedColorType::Rgb8,
        )
        .expect("lossless WebP in memory");
    let files = [
        ("jpeg", encode(&picture, ImageFormat::Jpeg)),
        ("png", encode(&picture, ImageFormat::Png)),
        ("webp", webp),
        (
            "gif",
            encode(
                &DynamicImage::ImageRgba8(picture.to_rgba8()),
                ImageFormat::Gif,
            ),
        ),
        ("bmp", encode(&picture, ImageFormat::Bmp)),
    ];
    for (name, bytes) in files {
        let decoded = decode(&bytes).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(decoded.dimensions(), (64, 48), "{name}");
        assert!(block_mean(&decoded, 4, 4) > 200.0, "{name}: marked corner");
        assert!(block_mean(&decoded, 40, 30) < 60.0, "{name}: dark rest");
    }
}

/// A JPEG (the `image` crate's default quality) with an EXIF orientation spliced in.
fn jpeg_with_orientation(image: &DynamicImage, orientation: u16) -> Vec<u8> {
    common::with_exif_orientation(&encode(image, ImageFormat::Jpeg), orientation)
}

#[test]
fn exif_orientation_is_applied() {
    let picture = DynamicImage::ImageRgb8(marked_picture());
    // Where the stored top-left block must appear once the orientation is applied, and whether
    // width and height swap (EXIF values 1..=8).
    let expected = [
        (1, "top-left", false),
        (2, "top-right", false),
        (3, "bottom-right", false),
        (4, "bottom-left", false),
        (5, "top-left", true),
        (6, "top-right", true),
        (7, "bottom-right", true),
        (8, "bottom-left", true),
    ];
    for (orientation, corner, swapped) in expected {
        let decoded = decode(&jpeg_with_orientation(&picture, orientation))
            .unwrap_or_else(|error| panic!("orientation {orientation}: {error}"));
        let (width, height) = decoded.dimensions();
        assert_eq!(
            (width, height),
            if swapped { (48, 64) } else { (64, 48) },
            "orientation {orientation}"
        );
        let corners = [
            ("top-left", block_mean(&decoded, 4, 4)),
            ("top-right", block_mean(&decoded, width - 12, 4)),
            ("bottom-left", block_mean(&decoded, 4, height - 12)),
            (
                "bottom-right",
                block_mean(&decoded, width - 12, height - 12),
            ),
        ];
        for (name, mean) in corners {
            if name == corner {
                assert!(
                    mean > 200.0,
                    "orientation {orientation}: {name} should be bright"
                );
            } else {
                assert!(
                    mean < 60.0,
                    "orientation {orientation}: {name} should be dark"
                );
            }
        }
    }
}

#[test]
fn broken_exif_block_keeps_the_picture() {
    let picture = DynamicImage::ImageRgb8(marked_picture());
    let mut bytes = jpeg_with_orientation(&picture, 6);
    // Point the IFD far past the end of the block.
    bytes[14..18].copy_from_slice(&0xFFFF_FF00u32.to_le_bytes());
    let decoded = decode(&bytes).expect("a bad EXIF block is ignored");
    assert_eq!(decoded.dimensions(), (64, 48));
}

#[test]
fn empty_input_is_refused() {
    assert!(matches!(decode(&[]), Err(DecodeError::Empty)));
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let bytes = vec![0u8; DecodeLimits::default().max_bytes + 1];
    assert!(matches!(
        decode(&bytes),
        Err(DecodeError::TooLarge { size, .. }) if size == bytes.len()
    ));
}

#[test]
fn unknown_and_unsupported_formats_are_refused() {
    for bytes in [
        b"hello, this is text and not a picture".as_slice(),
        b"II*\0\x08\0\0\0 a TIFF header".as_slice(),
        b"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0".as_slice(),
    ] {
        assert!(
            matches!(decode(bytes), Err(DecodeError::UnsupportedFormat { .. })),
            "{:?}",
            decode(bytes)
        );
    }
}

#[test]
fn truncated_files_give_an_error_or_a_picture_never_a_panic() {
    let picture = DynamicImage::ImageRgb8(marked_picture());
    for format in [
        ImageFormat::Png,
        ImageFormat::Jpeg,
        ImageFormat::Gif,
        ImageFormat::Bmp,
    ] {
        let bytes = encode(&picture, format);
        for cut in [1, 4, 8, 16, 33, bytes.len() / 2, bytes.len() - 1] {
            match decode(&bytes[..cut]) {
                Ok(image) => assert_eq!(image.dimensions(), (64, 48)),
                Err(
                    DecodeError::Truncated
                    | DecodeError::Corrupt { .. }
                    | DecodeError::UnsupportedFormat { .. },
                ) => {}
                Err(other) => panic!("{format:?} cut at {cut}: unexpected {other:?}"),
            }
        }
    }
    let png = encode(&picture, ImageFormat::Png);
    assert!(
        matches!(decode(&png[..png.len() / 2]), Err(DecodeError::Truncated)),
        "{:?}",
        decode(&png[..png.len() / 2])
    );
}

#[test]
fn a_jpeg_cut_anywhere_before_its_end_marker_is_truncated() {
    // The JPEG decoder alone would paint the missing rows grey and succeed.
    let picture = DynamicImage::ImageRgb8(marked_picture());
    let jpeg = encode(&picture, ImageFormat::Jpeg);
    assert_eq!(&jpeg[jpeg.len() - 2..], &[0xFF, 0xD9]);
    for cut in [
        jpeg.len() / 3,
        jpeg.len() / 2,
        jpeg.len() - 40,
        jpeg.len() - 2,
    ] {
        assert!(
            matches!(decode(&jpeg[..cut]), Err(DecodeError::Truncated)),
            "cut at {cut} of {}: {:?}",
            jpeg.len(),
            decode(&jpeg[..cut])
        );
    }
    // Bytes after the end marker (some cameras append data there) are allowed.
    let mut trailing = jpeg.clone();
    trailing.extend_from_slice(b"trailing bytes");
    assert_eq!(decode(&trailing).unwrap().dimensions(), (64, 48));
}

/// CRC-32 (IEEE) as PNG chunks need it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = u32::try_from(data.len())
        .expect("small chunk")
        .to_be_bytes()
        .to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&crc32(&body).to_be_bytes());
    chunk
}

/// A valid PNG header announcing a huge RGB image, followed by a scrap of compressed data.
fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    // zlib stream of a few zero bytes: a real bomb would be megabytes of zeros compressed.
    png.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9C, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01],
    ));
    png.extend(png_chunk(b"IEND", &[]));
    png
}

#[test]
fn decompression_bombs_are_refused_from_the_header() {
    for (width, height) in [(100_000, 100_000), (7_000, 7_000), (1, 50_000_000)] {
        match decode(&png_bomb(width, height)) {
            Err(DecodeError::TooManyPixels {
                width: w,
                height: h,
                ..
            }) => assert_eq!((w, h), (width, height)),
            other => panic!("{width}×{height}: {other:?}"),
        }
    }
}

#[test]
fn jpeg_header_claiming_huge_dimensions_is_refused() {
    let mut jpeg = encode(
        &DynamicImage::ImageRgb8(marked_picture()),
        ImageFormat::Jpeg,
    );
    // Patch the frame header (SOF0: FF C0, length, precision, height, width).
    let sof = jpeg
        .windows(2)
        .position(|pair| pair == [0xFF, 0xC0])
        .expect("a baseline JPEG has a SOF0 marker");
    jpeg[sof + 5..sof + 7].copy_from_slice(&60_000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&60_000u16.to_be_bytes());
    assert!(
        matches!(decode(&jpeg), Err(DecodeError::TooManyPixels { .. })),
        "{:?}",
        decode(&jpeg)
    );
}

#[test]
fn gif_screen_claiming_huge_dimensions_is_refused() {
    let mut gif = encode(
        &DynamicImage::ImageRgba8(DynamicImage::ImageRgb8(marked_picture()).to_rgba8()),
        ImageFormat::Gif,
    );
    // Logical screen width and height follow the 6-byte signature, little-endian.
    gif[6..8].copy_from_slice(&65_535u16.to_le_bytes());
    gif[8..10].copy_from_slice(&65_535u16.to_le_bytes());
    match decode(&gif) {
        Err(DecodeError::TooManyPixels { .. } | DecodeError::Corrupt { .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn custom_limits_apply() {
    let png = encode(&DynamicImage::ImageRgb8(marked_picture()), ImageFormat::Png);
    let pixels = DecodeLimits {
        max_pixels: 1000,
        ..DecodeLimits::default()
    };
    assert!(matches!(
        decode_with_limits(&png, &pixels),
        Err(DecodeError::TooManyPixels {
            width: 64,
            height: 48,
            limit: 1000
        })
    ));
    let bytes = DecodeLimits {
        max_bytes: 10,
        ..DecodeLimits::default()
    };
    assert!(matches!(
        decode_with_limits(&png, &bytes),
        Err(DecodeError::TooLarge { .. })
    ));
    let memory = DecodeLimits {
        max_alloc: 100,
        ..DecodeLimits::default()
    };
    assert!(matches!(
        decode_with_limits(&png, &memory),
        Err(DecodeError::TooMuchMemory { .. })
    ));
}

#[test]
fn cmyk_jpeg_decodes_to_colour() {
    let bytes = include_bytes!("../testdata/cmyk.jpg");
    let decoded = decode(bytes).expect("CMYK JPEGs are common enough to support");
    assert_eq!(decoded.dimensions(), (16, 12));
}

#[test]
fn sixteen_bit_png_decodes() {
    let deep = vision::image::ImageBuffer::from_fn(40, 30, |x, y| {
        Rgb([(x * 1600) as u16, (y * 2000) as u16, 65_535u16])
    });
    let bytes = encode(&DynamicImage::ImageRgb16(deep), ImageFormat::Png);
    let decoded = decode(&bytes).expect("16-bit PNG");
    assert_eq!(decoded.dimensions(), (40, 30));
    assert!(matches!(decoded, DynamicImage::ImageRgb16(_)));
    // The grey conversion and the crop accept it like any other picture.
    let face = vision::FaceBox {
        x: 5,
        y: 5,
        width: 20,
        height: 20,
        score: 0.9,
        landmarks: None,
    };
    assert_eq!(
        vision::crop_for_model(&decoded, &face).dimensions(),
        (48, 48)
    );
}

#[test]
fn animated_gif_gives_its_first_frame() {
    let red = RgbaImage::from_pixel(32, 24, Rgba([230, 20, 20, 255]));
    let blue = RgbaImage::from_pixel(32, 24, Rgba([20, 20, 230, 255]));
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut bytes);
        encoder.set_repeat(Repeat::Infinite).expect("in memory");
        encoder
            .encode_frames([
                Frame::from_parts(red, 0, 0, Delay::from_numer_denom_ms(100, 1)),
                Frame::from_parts(blue, 0, 0, Delay::from_numer_denom_ms(100, 1)),
            ])
            .expect("in memory");
    }
    let decoded = decode(&bytes).expect("animated GIF").to_rgb8();
    assert_eq!(decoded.dimensions(), (32, 24));
    let Rgb([red_level, _, blue_level]) = *decoded.get_pixel(10, 10);
    assert!(
        red_level > 200 && blue_level < 60,
        "first frame is the red one"
    );
}
