//! Reading an upload: a `multipart/form-data` body parsed entirely in memory (no temporary
//! files), and the image type judged from the file's first bytes, not from what the client
//! declared.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, header};

use super::error::ApiError;

/// The multipart field that carries the photo.
pub const IMAGE_FIELD: &str = "image";

/// A multipart form read into memory: the photo, if any, and the text fields in order.
#[derive(Debug, Default)]
pub struct UploadForm {
    /// The bytes of the `image` field.
    pub image: Option<Bytes>,
    /// Every other field as `(name, value)`, in the order sent; a name may repeat.
    pub fields: Vec<(String, String)>,
}

/// Whether the request says its body is a `multipart/form-data` form.
pub fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// The body of `POST /analyze`: a form with the photo and nothing else.
#[derive(Debug)]
pub struct PhotoForm(pub UploadForm);

impl<S: Send + Sync> FromRequest<S> for PhotoForm {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        UploadForm::extract(request, state, &[])
            .await
            .map(PhotoForm)
    }
}

impl UploadForm {
    /// Reads a request's `multipart/form-data` body (415 when it is something else).
    pub async fn extract<S: Send + Sync>(
        request: Request,
        state: &S,
        allowed: &[&str],
    ) -> Result<Self, ApiError> {
        if !is_multipart(request.headers()) {
            return Err(ApiError::UnsupportedRequestType(format!(
                "send the photo as multipart/form-data, in the field `{IMAGE_FIELD}`"
            )));
        }
        let multipart = Multipart::from_request(request, state).await?;
        Self::read(multipart, allowed).await
    }

    /// Reads the whole form. Fields other than `image` must be among `allowed` and be text.
    pub async fn read(mut multipart: Multipart, allowed: &[&str]) -> Result<Self, ApiError> {
        let mut form = UploadForm::default();
        while let Some(field) = multipart.next_field().await? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == IMAGE_FIELD {
                if form.image.is_some() {
                    return Err(ApiError::BadRequest(
                        "send one photo per request (the field `image` is given twice)".into(),
                    ));
                }
                // Collected in memory; the body limit bounds its size.
                form.image = Some(field.bytes().await?);
            } else if allowed.contains(&name.as_str()) {
                let value = field.text().await?;
                form.fields.push((name, value));
            } else {
                let mut expected = vec![IMAGE_FIELD];
                expected.extend_from_slice(allowed);
                return Err(ApiError::BadRequest(format!(
                    "unknown form field `{name}`; expected {}",
                    expected.join(", ")
                )));
            }
        }
        Ok(form)
    }

    /// The photo, which must be present and look like an image we read.
    pub fn photo(&self) -> Result<Bytes, ApiError> {
        let image = self.image.clone().ok_or_else(|| {
            ApiError::BadRequest(format!(
                "send the photo in the multipart/form-data field `{IMAGE_FIELD}`"
            ))
        })?;
        check_image_type(&image)?;
        Ok(image)
    }
}

/// An image format moodreel reads, recognised by its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (the 8-byte PNG signature).
    Png,
    /// GIF 87a or 89a.
    Gif,
    /// WebP (`RIFF....WEBP`).
    Webp,
    /// Windows bitmap (`BM`).
    Bmp,
}

/// The image type of `bytes` judged by their signature, if it is one we read.
pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageKind::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageKind::Png)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(ImageKind::Gif)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(ImageKind::Webp)
    } else if bytes.starts_with(b"BM") {
        Some(ImageKind::Bmp)
    } else {
        None
    }
}

/// Refuses an empty file (400), bytes that are not an image type we read (415), and a JPEG
/// cut short (422).
pub fn check_image_type(bytes: &[u8]) -> Result<ImageKind, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::Undecodable(vision::DecodeError::Empty));
    }
    let kind = sniff(bytes).ok_or_else(|| ApiError::NotAnImage {
        found: describe(bytes),
    })?;
    // The JPEG decoder paints the missing part of a cut-off file grey; a face read from half a
    // photo would be a wrong mood, so a JPEG whose segments stop before its end-of-image marker
    // is refused.
    if kind == ImageKind::Jpeg && jpeg_structure(bytes) == JpegStructure::Truncated {
        return Err(ApiError::Undecodable(vision::DecodeError::Truncated));
    }
    Ok(kind)
}

/// What walking a JPEG's marker segments found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JpegStructure {
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
pub fn jpeg_structure(bytes: &[u8]) -> JpegStructure {
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

/// A few words on what unknown bytes look like, for the error message (never the bytes).
fn describe(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(512)];
    if head.starts_with(b"%PDF") {
        "a PDF document".into()
    } else if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        "a TIFF image".into()
    } else if std::str::from_utf8(head).is_ok_and(|text| !text.contains('\0')) {
        "text".into()
    } else {
        "unrecognised binary data".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_decide_the_type() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(ImageKind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(ImageKind::Png));
        assert_eq!(sniff(b"GIF89a.."), Some(ImageKind::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageKind::Webp));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(sniff(b"BM...."), Some(ImageKind::Bmp));
        assert_eq!(sniff(b"hello, I am text"), None);
    }

    #[test]
    fn a_jpeg_without_its_end_marker_is_truncated() {
        let error = check_image_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 16]).unwrap_err();
        assert_eq!(error.code(), "undecodable_image");
        assert_eq!(
            check_image_type(&[0xFF, 0xD8, 0xFF, 0xD9]).ok(),
            Some(ImageKind::Jpeg)
        );
    }

    #[test]
    fn the_jpeg_walk_skips_segments_and_scan_data() {
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
    }

    #[test]
    fn refusals_name_what_was_sent() {
        let text = check_image_type(b"just some words").unwrap_err();
        assert_eq!(text.status().as_u16(), 415);
        assert!(text.to_string().contains("(text)"), "{text}");
        assert_eq!(check_image_type(b"").unwrap_err().status().as_u16(), 400);
        assert!(
            check_image_type(b"%PDF-1.7")
                .unwrap_err()
                .to_string()
                .contains("PDF")
        );
    }
}
