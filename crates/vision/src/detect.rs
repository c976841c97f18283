//! Finding faces: the SeetaFace frontal cascade (the `seeta` crate) run on a grey working copy of the
//! photo, sized so that the cascade sees faces at the scales it handles well.

use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage};

use crate::grey::GreySource;

/// The side of the cascade's sliding window: faces smaller than this in the working image are
/// not found.
const WINDOW_SIDE: u32 = seeta::WINDOW;

/// Longest side of the copy searched by the border retry (see [`FaceDetector::detect`]).
const RETRY_SIDE: u32 = 320;

/// Grey level of the border added around a photo in which no face was found at first.
const BORDER_GREY: u8 = 128;

/// One face found in a photo: a square box in the photo's pixel coordinates and the detector's
/// confidence.
///
/// The box is the detector's own estimate and may reach a little past the photo's edges when a
/// face is cut off; see [`FaceBox::clamped`] for display.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceBox {
    /// Left edge, in pixels from the left of the photo (may be negative).
    pub x: i32,
    /// Top edge, in pixels from the top of the photo (may be negative).
    pub y: i32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The cascade's score; higher is more certain. Every returned face scores at least the
    /// [`DetectorSettings::score_threshold`].
    pub score: f64,
}

impl FaceBox {
    /// Area of the box in square pixels.
    pub fn area(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// Centre of the box, in pixels.
    pub fn centre(&self) -> (f32, f32) {
        (
            self.x as f32 + self.width as f32 / 2.0,
            self.y as f32 + self.height as f32 / 2.0,
        )
    }

    /// The part of the box that lies inside an image of the given size.
    pub fn clamped(&self, image_width: u32, image_height: u32) -> FaceBox {
        let clamp = |value: i64, limit: u32| value.clamp(0, i64::from(limit));
        let left = clamp(i64::from(self.x), image_width);
        let top = clamp(i64::from(self.y), image_height);
        let right = clamp(i64::from(self.x) + i64::from(self.width), image_width);
        let bottom = clamp(i64::from(self.y) + i64::from(self.height), image_height);
        // All four values lie in 0..=u32::MAX, so the conversions below cannot fail.
        FaceBox {
            x: i32::try_from(left).unwrap_or(i32::MAX),
            y: i32::try_from(top).unwrap_or(i32::MAX),
            width: u32::try_from(right - left).unwrap_or(0),
            height: u32::try_from(bottom - top).unwrap_or(0),
            score: self.score,
        }
    }
}

/// How the detector searches. The defaults were measured on real photos (see `docs/vision.md`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorSettings {
    /// Faces scoring below this are dropped.
    pub score_threshold: f64,
    /// Ratio between two levels of the image pyramid, in (0.01, 0.99): closer to 1 is slower
    /// and misses fewer faces.
    pub pyramid_scale_factor: f32,
    /// Step of the sliding window, in working-image pixels, both directions.
    pub window_step: u32,
    /// Photos whose longer side exceeds this are shrunk to it before the search.
    pub max_working_side: u32,
    /// Photos whose longer side is below this are enlarged to it, so that faces in small
    /// images reach the cascade's 40-pixel window.
    pub min_working_side: u32,
    /// Border added on every side, as a fraction of the working image's size, when a first
    /// search finds nothing: the cascade misses a face that fills the whole frame. Zero turns
    /// the retry off.
    pub retry_border: f32,
    /// Large faces first: the pyramid levels whose window is at least half this many
    /// working-image pixels are searched first, and when they yield a face at least this wide,
    /// their faces are the answer and the finer levels are skipped; otherwise the search goes on
    /// and gives what a full search gives. Zero searches every level at once. Faces smaller than
    /// half this next to such a large face are then not reported.
    pub large_first_side: u32,
}

impl Default for DetectorSettings {
    fn default() -> Self {
        Self {
            score_threshold: 2.0,
            pyramid_scale_factor: 0.8,
            window_step: 4,
            max_working_side: 640,
            min_working_side: 320,
            retry_border: 0.25,
            large_first_side: 160,
        }
    }
}

/// Why a detector could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    /// The embedded model could not be parsed (a build problem, not an input problem).
    #[error("the embedded face model is unreadable: {0}")]
    Model(#[source] seeta::ModelError),
    /// A setting is outside the range the cascade accepts.
    #[error("invalid detector setting: {0}")]
    InvalidSettings(&'static str),
}

/// A face detector: build it once, then share it between threads (it is `Send + Sync`).
///
/// Detection is deterministic: the same image gives the same boxes.
#[derive(Clone)]
pub struct FaceDetector {
    cascade: seeta::Detector,
    settings: DetectorSettings,
}

impl std::fmt::Debug for FaceDetector {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FaceDetector")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl FaceDetector {
    /// A detector with the embedded model and the default settings.
    pub fn new() -> Result<Self, DetectorError> {
        Self::with_settings(DetectorSettings::default())
    }

    /// A detector with the embedded model and the given settings.
    pub fn with_settings(settings: DetectorSettings) -> Result<Self, DetectorError> {
        validate(&settings)?;
        let model = seeta::read_model(seeta::FRONTAL_MODEL).map_err(DetectorError::Model)?;
        let cascade = seeta::Detector::new(
            model,
            seeta::Settings {
                score_threshold: settings.score_threshold,
                pyramid_scale_factor: settings.pyramid_scale_factor,
                window_step: settings.window_step,
            },
        )
        .map_err(|error| DetectorError::InvalidSettings(error.0))?;
        Ok(Self { cascade, settings })
    }

    /// The settings this detector searches with.
    pub fn settings(&self) -> &DetectorSettings {
        &self.settings
    }

    /// Finds every face in a photo, in reading order (top to bottom, then left to right).
    pub fn detect(&self, image: &DynamicImage) -> Vec<FaceBox> {
        let (width, height) = (image.width(), image.height());
        if width == 0 || height == 0 {
            return Vec::new();
        }
        let working = WorkingImage::new(image, &self.settings);
        let mut boxes: Vec<FaceBox> = self
            .search(&working.grey, 0, 0)
            .iter()
            .map(|face| working.scale.to_photo(face))
            .collect();
        if boxes.is_empty() && self.settings.retry_border > 0.0 {
            boxes = self.retry_with_border(&working);
            tracing::debug!(found = boxes.len(), "retried with a border");
        }
        boxes.sort_by(|a, b| {
            (a.y, a.x)
                .cmp(&(b.y, b.x))
                .then(b.score.total_cmp(&a.score))
        });
        tracing::debug!(width, height, faces = boxes.len(), "face detection");
        boxes
    }

    /// Searches the working image again inside a uniform border, for a face that fills the
    /// frame. Such a face is large, so the retry runs on a copy at most `RETRY_SIDE` pixels long,
    /// which keeps its cost to a fraction of the first search.
    fn retry_with_border(&self, working: &WorkingImage) -> Vec<FaceBox> {
        let grey = &working.grey;
        let long_side = grey.width().max(grey.height());
        let (small, shrink_x, shrink_y) = if long_side > RETRY_SIDE {
            let scale = RETRY_SIDE as f32 / long_side as f32;
            let width = ((grey.width() as f32 * scale).round() as u32).max(1);
            let height = ((grey.height() as f32 * scale).round() as u32).max(1);
            let small = imageops::resize(grey, width, height, FilterType::Triangle);
            let (shrink_x, shrink_y) = (
                width as f32 / grey.width() as f32,
                height as f32 / grey.height() as f32,
            );
            (std::borrow::Cow::Owned(small), shrink_x, shrink_y)
        } else {
            (std::borrow::Cow::Borrowed(grey), 1.0, 1.0)
        };
        let border_x = (small.width() as f32 * self.settings.retry_border).round() as u32;
        let border_y = (small.height() as f32 * self.settings.retry_border).round() as u32;
        let framed = with_border(&small, border_x, border_y);
        let scale = Scale {
            x: working.scale.x * shrink_x,
            y: working.scale.y * shrink_y,
        };
        self.search(&framed, border_x, border_y)
            .iter()
            .map(|face| scale.to_photo(face))
            .collect()
    }

    /// Runs the cascade (large faces first, see [`DetectorSettings::large_first_side`]) on a
    /// grey image whose content starts at (offset_x, offset_y); returns boxes in the coordinates
    /// of that content.
    fn search(&self, grey: &GrayImage, offset_x: u32, offset_y: u32) -> Vec<seeta::Face> {
        let (pixels, width, height) = (grey.as_raw(), grey.width(), grey.height());
        let mut faces = match self.settings.large_first_side {
            0 => self.cascade.detect(pixels, width, height),
            accept => self
                .cascade
                .detect_large_first(pixels, width, height, accept),
        };
        for face in &mut faces {
            face.x -= offset_x as i32;
            face.y -= offset_y as i32;
        }
        faces
    }
}

/// Checks the settings of the working copy; the cascade's own are checked by `seeta`.
fn validate(settings: &DetectorSettings) -> Result<(), DetectorError> {
    if settings.max_working_side < WINDOW_SIDE
        || settings.min_working_side > settings.max_working_side
    {
        return Err(DetectorError::InvalidSettings(
            "working sides must satisfy 40 <= min_working_side <= max_working_side",
        ));
    }
    if !(0.0..=2.0).contains(&settings.retry_border) {
        return Err(DetectorError::InvalidSettings(
            "retry_border must lie in [0, 2]",
        ));
    }
    Ok(())
}

/// The grey copy of a photo that the cascade searches, and how to map its boxes back.
struct WorkingImage {
    grey: GrayImage,
    scale: Scale,
}

/// Working-image pixels per photo pixel, in each direction.
#[derive(Clone, Copy)]
struct Scale {
    x: f32,
    y: f32,
}

impl Scale {
    /// A box found in the working image, in the photo's coordinates.
    fn to_photo(self, face: &seeta::Face) -> FaceBox {
        FaceBox {
            x: (face.x as f32 / self.x).round() as i32,
            y: (face.y as f32 / self.y).round() as i32,
            width: (face.side as f32 / self.x).round() as u32,
            height: (face.side as f32 / self.y).round() as u32,
            score: face.score,
        }
    }
}

impl WorkingImage {
    fn new(image: &DynamicImage, settings: &DetectorSettings) -> Self {
        let (width, height) = (image.width(), image.height());
        let long_side = width.max(height);
        let scale = if long_side > settings.max_working_side {
            settings.max_working_side as f32 / long_side as f32
        } else if long_side < settings.min_working_side {
            settings.min_working_side as f32 / long_side as f32
        } else {
            1.0
        };
        let target_width = ((width as f32 * scale).round() as u32).max(1);
        let target_height = ((height as f32 * scale).round() as u32).max(1);
        let grey = if scale == 1.0 {
            crate::grey::to_grey_bt601(image)
        } else if scale < 1.0 {
            // Average whole blocks first (one pass over the photo), then resample the much
            // smaller result to the exact working size.
            let block = ((1.0 / scale).floor() as u32).max(1);
            let shrunk = box_shrink(image, block);
            imageops::resize(&shrunk, target_width, target_height, FilterType::Triangle)
        } else {
            let grey = crate::grey::to_grey_bt601(image);
            imageops::resize(&grey, target_width, target_height, FilterType::Triangle)
        };
        Self {
            scale: Scale {
                x: grey.width() as f32 / width as f32,
                y: grey.height() as f32 / height as f32,
            },
            grey,
        }
    }
}

/// Grey image whose pixels are the mean of `block × block` squares of the photo (the last
/// partial row and column of blocks are dropped).
fn box_shrink(image: &DynamicImage, block: u32) -> GrayImage {
    let source = GreySource::new(image);
    let (from_width, from_height) = (image.width(), image.height());
    let width = (from_width / block).max(1);
    let height = (from_height / block).max(1);
    let block_x = block.min(from_width) as usize;
    let block_y = block.min(from_height) as usize;
    let area = (block_x * block_y) as u32;
    let mut row = vec![0u8; width as usize * block_x];
    let mut sums = vec![0u32; width as usize];
    let mut out = GrayImage::new(width, height);
    for (out_y, out_row) in out.chunks_exact_mut(width as usize).enumerate() {
        sums.iter_mut().for_each(|sum| *sum = 0);
        for y in out_y * block_y..(out_y + 1) * block_y {
            source.row_into(y, 0, &mut row);
            for (sum, levels) in sums.iter_mut().zip(row.chunks_exact(block_x)) {
                *sum += levels.iter().map(|&level| u32::from(level)).sum::<u32>();
            }
        }
        for (level, sum) in out_row.iter_mut().zip(&sums) {
            // A mean of 8-bit levels is at most 255.
            *level = ((sum + area / 2) / area) as u8;
        }
    }
    out
}

/// A copy of `grey` centred on a uniform grey canvas with the given borders.
fn with_border(grey: &GrayImage, border_x: u32, border_y: u32) -> GrayImage {
    let mut canvas = GrayImage::from_pixel(
        grey.width() + 2 * border_x,
        grey.height() + 2 * border_y,
        image::Luma([BORDER_GREY]),
    );
    imageops::replace(&mut canvas, grey, i64::from(border_x), i64::from(border_y));
    canvas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detector_is_shareable() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<FaceDetector>();
    }

    #[test]
    fn tiny_and_degenerate_images_give_no_faces() {
        let detector = FaceDetector::new().expect("the embedded model parses");
        for (width, height) in [(1, 1), (1, 500), (39, 39), (40, 40), (3000, 2)] {
            let image = DynamicImage::new_luma8(width, height);
            assert!(detector.detect(&image).is_empty(), "{width}×{height}");
        }
    }

    #[test]
    fn invalid_settings_are_refused() {
        let settings = DetectorSettings {
            pyramid_scale_factor: 1.5,
            ..DetectorSettings::default()
        };
        assert!(matches!(
            FaceDetector::with_settings(settings),
            Err(DetectorError::InvalidSettings(_))
        ));
    }

    #[test]
    fn clamped_box_stays_inside() {
        let face = FaceBox {
            x: -10,
            y: 5,
            width: 50,
            height: 50,
            score: 3.0,
        };
        let inside = face.clamped(30, 40);
        assert_eq!(
            (inside.x, inside.y, inside.width, inside.height),
            (0, 5, 30, 35)
        );
    }
}
