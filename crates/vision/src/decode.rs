//! Decoding untrusted image bytes: size and dimension limits checked before any pixel buffer is
//! allocated, EXIF orientation applied, every failure a typed [`DecodeError`].

use std::io::{self, Cursor};
use std::panic::{self, AssertUnwindSafe};

use image::error::{ImageError, LimitErrorKind};
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::jpeg::{JpegStructure, jpeg_structure};

/// The formats [`decode`] accepts, in the words used in error messages.
pub const SUPPORTED_FORMATS: &str = "JPEG, PNG, WebP, GIF or BMP";

/// What [`decode_with_limits`] accepts. The defaults are those of the product: 15 MiB of input,
/// 40 megapixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted input, in bytes.
    pub max_bytes: usize,
    /// Largest accepted image, in pixels (width × height), checked from the header.
    pub max_pixels: u64,
    /// Most memory a decoder may allocate for one image, in bytes.
    pub max_alloc: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_bytes: 15 * 1024 * 1024,
            max_pixels: 40_000_000,
            // 40 megapixels of 16-bit RGBA is 320 MB; leave room for decoder state.
            max_alloc: 384 * 1024 * 1024,
        }
    }
}

/// Why bytes could not be turned into an image.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// There were no bytes at all.
    #[error("the image is empty (0 bytes)")]
    Empty,
    /// The input is larger than [`DecodeLimits::max_bytes`].
    #[error("the image is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input in bytes.
        size: usize,
        /// The limit it exceeds.
        limit: usize,
    },
    /// The header announces more pixels than [`DecodeLimits::max_pixels`].
    #[error("the image is {width}×{height} pixels, more than the limit of {limit} pixels")]
    TooManyPixels {
        /// Width announced by the header.
        width: u32,
        /// Height announced by the header.
        height: u32,
        /// The limit the product exceeds.
        limit: u64,
    },
    /// Decoding would need more memory than [`DecodeLimits::max_alloc`].
    #[error("decoding the image would need more than {limit} bytes of memory")]
    TooMuchMemory {
        /// The allocation limit.
        limit: u64,
    },
    /// The bytes are not an image in one of the [`SUPPORTED_FORMATS`], or use a feature of the
    /// format that is not supported.
    #[error("unsupported image format ({detail}); expected {SUPPORTED_FORMATS}")]
    UnsupportedFormat {
        /// What was recognised, or why it is not supported.
        detail: String,
    },
    /// The image data ends before the image does (for a JPEG: before its end-of-image marker,
    /// as the decoder itself would fill the missing part with grey).
    #[error("the image data is truncated")]
    Truncated,
    /// The image data does not follow its format.
    #[error("the image data is corrupt: {detail}")]
    Corrupt {
        /// The decoder's description of the problem.
        detail: String,
    },
}

/// Decodes an image with the default [`DecodeLimits`], applying its EXIF orientation.
///
/// Accepts JPEG, PNG, WebP, GIF (first frame) and BMP. Never panics, whatever the bytes.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, DecodeError> {
    decode_with_limits(bytes, &DecodeLimits::default())
}

/// Decodes an image within the given limits, applying its EXIF orientation.
///
/// The input size is checked first, then the dimensions in the header, and only then is the
/// pixel buffer allocated and filled, so a small file that announces a huge image (a
/// decompression bomb) is refused cheaply.
pub fn decode_with_limits(
    bytes: &[u8],
    limits: &DecodeLimits,
) -> Result<DynamicImage, DecodeError> {
    check_size(bytes, limits)?;
    // The decoders are written in safe Rust, but a panic in one of them must still not take a
    // server down: treat it as corrupt data.
    panic::catch_unwind(AssertUnwindSafe(|| decode_checked(bytes, limits))).unwrap_or_else(|_| {
        tracing::error!("an image decoder panicked");
        Err(DecodeError::Corrupt {
            detail: "the decoder failed on this data".to_owned(),
        })
    })
}

/// The checks on the input's length that come before any parsing: not empty, not over
/// `max_bytes`.
fn check_size(bytes: &[u8], limits: &DecodeLimits) -> Result<(), DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(DecodeError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    Ok(())
}

/// The most memory decoding `bytes` takes, in bytes, judged from the header alone (nothing is
/// decoded): the picture's own buffer, a second one when its EXIF orientation turns it on its
/// side (the turned copy is made before the first is freed), for a progressive JPEG the
/// decoder's coefficients (two bytes per sample of each component), and for a picture of 16
/// bits per channel the 8-bit RGB copy the face search reads it through. Measured on the release
/// build (peak RSS over the idle server's): 16-megapixel JPEGs took 52 MB sequential, 91 MB
/// progressive 4:2:0 and 137 MB progressive 4:4:4, against estimates of 48, 96 and 144 MB.
///
/// A server reserves this much from a memory budget before calling [`decode_with_limits`], so
/// that a small file announcing a large 16-bit picture with alpha counts for what it costs, not
/// for its size on the wire. The same checks as decoding come first: empty, too large, not a
/// supported format, too many pixels.
pub fn decode_memory(bytes: &[u8], limits: &DecodeLimits) -> Result<u64, DecodeError> {
    check_size(bytes, limits)?;
    panic::catch_unwind(AssertUnwindSafe(|| {
        let (format, mut decoder, _) = open_checked(bytes, limits)?;
        let picture = decoder.total_bytes();
        let turned = decoder.orientation().is_ok_and(|orientation| {
            use image::metadata::Orientation::{
                Rotate90, Rotate90FlipH, Rotate270, Rotate270FlipH,
            };
            matches!(
                orientation,
                Rotate90 | Rotate90FlipH | Rotate270 | Rotate270FlipH
            )
        });
        let (width, height) = decoder.dimensions();
        let pixels = u64::from(width) * u64::from(height);
        // A progressive JPEG's decoder keeps every coefficient (two bytes) until its last
        // scan; the other decoders work a few rows at a time into the picture's buffer.
        let planes = match format {
            ImageFormat::Jpeg => crate::jpeg::progressive_samples_per_pixel(bytes)
                .map_or(0, |samples| (pixels as f64 * samples * 2.0).ceil() as u64),
            _ => 0,
        };
        // The face search reads a picture of more than 8 bits per channel through an 8-bit
        // RGB copy of it (see `grey::GreySource`).
        let colour = decoder.color_type();
        let copy = if colour.bytes_per_pixel() > colour.channel_count() {
            pixels * 3
        } else {
            0
        };
        Ok(picture.saturating_mul(if turned { 2 } else { 1 }) + planes + copy)
    }))
    .unwrap_or_else(|_| {
        Err(DecodeError::Corrupt {
            detail: "the decoder failed on this data".to_owned(),
        })
    })
}

/// Reads the header: the format (one we read), a decoder positioned after the header, and the
/// decoder limits; refuses a picture of more than [`DecodeLimits::max_pixels`] or of no pixels.
fn open_checked<'a>(
    bytes: &'a [u8],
    limits: &DecodeLimits,
) -> Result<(ImageFormat, impl ImageDecoder + 'a, Limits), DecodeError> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|error| to_decode_error(ImageError::IoError(error), limits))?;
    let format = reader
        .format()
        .ok_or_else(|| DecodeError::UnsupportedFormat {
            detail: "not a recognised image".to_owned(),
        })?;
    if !is_supported(format) {
        return Err(DecodeError::UnsupportedFormat {
            detail: format!("{format:?}"),
        });
    }
    let mut reader = reader;
    let mut decoder_limits = Limits::default();
    decoder_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(decoder_limits.clone());
    // Building the decoder reads only the header.
    let decoder = reader
        .into_decoder()
        .map_err(|error| to_decode_error(error, limits))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(DecodeError::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    if width == 0 || height == 0 {
        return Err(DecodeError::Corrupt {
            detail: format!("the header announces a {width}×{height} image"),
        });
    }
    Ok((format, decoder, decoder_limits))
}

fn decode_checked(bytes: &[u8], limits: &DecodeLimits) -> Result<DynamicImage, DecodeError> {
    let (format, mut decoder, mut decoder_limits) = open_checked(bytes, limits)?;
    // Checked after the header, so that a bomb (often a header alone) is called a bomb.
    if format == ImageFormat::Jpeg && jpeg_structure(bytes) == JpegStructure::Truncated {
        return Err(DecodeError::Truncated);
    }
    let orientation = decoder.orientation().unwrap_or_else(|error| {
        // A broken EXIF block is common in the wild and must not lose the picture.
        tracing::warn!(%error, "ignoring unreadable EXIF orientation");
        image::metadata::Orientation::NoTransforms
    });
    decoder_limits
        .reserve(decoder.total_bytes())
        .map_err(|error| to_decode_error(error, limits))?;
    decoder
        .set_limits(decoder_limits)
        .map_err(|error| to_decode_error(error, limits))?;
    let mut image =
        DynamicImage::from_decoder(decoder).map_err(|error| to_decode_error(error, limits))?;
    image.apply_orientation(orientation);
    tracing::debug!(
        ?format,
        width = image.width(),
        height = image.height(),
        ?orientation,
        "decoded image"
    );
    Ok(image)
}

fn is_supported(format: ImageFormat) -> bool {
    matches!(
        format,
        ImageFormat::Jpeg
            | ImageFormat::Png
            | ImageFormat::WebP
            | ImageFormat::Gif
            | ImageFormat::Bmp
    )
}

fn to_decode_error(error: ImageError, limits: &DecodeLimits) -> DecodeError {
    match error {
        ImageError::Unsupported(error) => DecodeError::UnsupportedFormat {
            detail: error.to_string(),
        },
        ImageError::Limits(error) => match error.kind() {
            LimitErrorKind::DimensionError => DecodeError::TooManyPixels {
                width: 0,
                height: 0,
                limit: limits.max_pixels,
            },
            _ => DecodeError::TooMuchMemory {
                limit: limits.max_alloc,
            },
        },
        ImageError::IoError(error) if error.kind() == io::ErrorKind::UnexpectedEof => {
            DecodeError::Truncated
        }
        error if is_truncation(&error) => DecodeError::Truncated,
        error => DecodeError::Corrupt {
            detail: error.to_string(),
        },
    }
}

/// Whether an error, or any of its causes, is an unexpected end of input.
fn is_truncation(error: &ImageError) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(io_error) = current.downcast_ref::<io::Error>()
            && io_error.kind() == io::ErrorKind::UnexpectedEof
        {
            return true;
        }
        let text = current.to_string().to_ascii_lowercase();
        if ["unexpected end", "unexpected eof", "not enough bytes"]
            .iter()
            .any(|words| text.contains(words))
        {
            return true;
        }
        source = current.source();
    }
    false
}
