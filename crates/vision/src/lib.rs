//! Seeing faces in photos: decode untrusted image bytes safely, find every face, and crop each
//! one the way FER-2013 frames a face, as the 48×48 grey picture an expression model reads.
//!
//! This crate knows nothing of expressions or films: it turns bytes into [`FaceBox`]es and
//! 48×48 grey crops. The three steps are separate so that each can be tested and measured:
//!
//! - [`decode`]: JPEG, PNG, WebP, GIF (first frame) and BMP with size limits checked before any
//!   pixel buffer is allocated, EXIF orientation applied, typed [`DecodeError`]s.
//! - [`FaceDetector`]: MediaPipe's BlazeFace detectors (short and full range, weights converted
//!   into `models/blazeface/` and embedded), run natively (NHWC, `ndarray` matrix products) on a
//!   few views of the photo, the uncertain small faces confirmed by the SeetaFace cascade (the
//!   `seeta` crate) or MTCNN's ONet; boxes with six [`Landmarks`] each; shareable across
//!   threads.
//! - [`crop_for_model`]: the one framing rule ([`FER_FRAMING`]), BT.601 grey, 48×48.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let bytes = std::fs::read("photo.jpg")?;
//! let photo = vision::decode(&bytes)?;
//! let detector = vision::FaceDetector::new()?;
//! for face in detector.detect(&photo) {
//!     let crop = vision::crop_for_model(&photo, &face);
//!     assert_eq!(crop.dimensions(), (48, 48));
//! }
//! # Ok(())
//! # }
//! ```

mod blaze;
mod centerface;
mod crop;
mod decode;
mod detect;
mod grey;
mod jpeg;
mod onet;

pub use blaze::network::NetworkError;
pub use blaze::{BlazeModel, KEYPOINTS, run_raw as run_blaze_raw};
pub use centerface::run_raw as run_centerface_raw;
pub use crop::{
    ALIGN_EYES, CROP_SIDE, FER_FRAMING, Frame, FramingRule, TURNED_ROLL, crop_aligned_with_rule,
    crop_for_model, crop_with_rule,
};
pub use decode::{
    DecodeError, DecodeLimits, SUPPORTED_FORMATS, decode, decode_memory, decode_with_limits,
};
pub use detect::{
    DetectorError, DetectorSettings, FaceBox, FaceDetector, LANDMARK_NAMES, Landmarks,
};
pub use grey::{luma_bt601, to_grey_bt601};

/// The `image` crate this crate's types come from, so that users need not depend on the same
/// version themselves.
pub use image;
