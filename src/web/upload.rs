//! Reading an upload: a `multipart/form-data` body parsed entirely in memory (no temporary
//! files), and the image type judged from the file's first bytes, not from what the client
//! declared.

use axum::body::Bytes;
use axum::extract::multipart::Field;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, header};

use super::error::ApiError;
use super::{IMAGE_LIMIT, SMALL_BODY_LIMIT};

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
    ///
    /// The photo may have [`IMAGE_LIMIT`] bytes, the text fields [`SMALL_BODY_LIMIT`] bytes
    /// together (413 beyond either): only the photo needs room.
    pub async fn read(mut multipart: Multipart, allowed: &[&str]) -> Result<Self, ApiError> {
        let mut form = UploadForm::default();
        let mut text_left = SMALL_BODY_LIMIT;
        while let Some(field) = multipart.next_field().await? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == IMAGE_FIELD {
                if form.image.is_some() {
                    return Err(ApiError::BadRequest(
                        "send one photo per request (the field `image` is given twice)".into(),
                    ));
                }
                // Collected in memory, within the photo's own limit.
                form.image = Some(Bytes::from(read_field(field, IMAGE_LIMIT).await?));
            } else if allowed.contains(&name.as_str()) {
                let value = read_field(field, text_left)
                    .await
                    .map_err(|error| match error {
                        // Said as the limit of the text fields together, not what was left of it.
                        ApiError::TooLarge { .. } => ApiError::TooLarge {
                            limit: SMALL_BODY_LIMIT,
                        },
                        other => other,
                    })?;
                text_left -= value.len();
                // As multer's `text()` did: bytes that are not UTF-8 become U+FFFD.
                let value = String::from_utf8_lossy(&value).into_owned();
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

/// A field's bytes, refused with 413 once they pass `limit`.
async fn read_field(mut field: Field<'_>, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await? {
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
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

/// Refuses an empty file (400) and bytes that are not an image type we read (415); the decoder
/// judges the rest (a cut-off JPEG, say, is 422 `undecodable_image`).
pub fn check_image_type(bytes: &[u8]) -> Result<ImageKind, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::Undecodable(vision::DecodeError::Empty));
    }
    sniff(bytes).ok_or_else(|| ApiError::NotAnImage {
        found: describe(bytes),
    })
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
