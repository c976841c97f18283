//! Finding faces: MediaPipe's BlazeFace detectors (see `blaze`) run on a few views of the
//! photo, their detections mapped back to the photo and merged.
//!
//! The short-range model (128×128) wants a face that fills a good part of its input. A photo is
//! therefore read as (see [`DetectorSettings`]): the whole photo letterboxed into a square, the
//! same with a wide border (a face that fills the frame is then the size the model knows best),
//! and the whole photo enlarged (the large view) for small faces beside large ones. The large
//! view's uncertain faces are looked at again by the SeetaFace cascade in a close-up, and kept
//! when it finds them too. The full-range model (192×192) and square tiles are available but off.
//!
//! Faces BlazeFace is unsure of are checked for which way is up (the upright check). A photo in
//! which the views find nothing is read by CenterFace (the second look), and when that finds
//! nothing either, searched again turned a quarter, half and three quarters round (the turned
//! search), for faces lying on their side or upside down.

use std::sync::atomic::{AtomicBool, Ordering};

use image::{DynamicImage, RgbImage, imageops};
use rayon::prelude::*;

use crate::blaze::network::NetworkError;
use crate::blaze::{self, Blaze, BlazeModel, Detection, KEYPOINTS};
use crate::centerface::{self, CenterFace, Found};
use crate::grey::luma_bt601;
use crate::onet::{self, Onet};

/// A face's keypoints, in the photo's pixel coordinates: six from BlazeFace; from the second
/// look (CenterFace) the eyes, the nose tip and the mouth (the middle of its two corners), but
/// no ears.
///
/// "Right" and "left" are the person's: in a frontal photo the right eye is on the image's left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Landmarks {
    /// `(x, y)` of the person's right eye.
    pub right_eye: (f32, f32),
    /// The person's left eye.
    pub left_eye: (f32, f32),
    /// The tip of the nose.
    pub nose_tip: (f32, f32),
    /// The centre of the mouth.
    pub mouth: (f32, f32),
    /// The right then the left ear tragion, when the detector gives them.
    pub ears: Option<[(f32, f32); 2]>,
}

/// The names of the keypoints, in the order of [`Landmarks::points`] (as the JSON of `analyze`
/// spells them).
pub const LANDMARK_NAMES: [&str; KEYPOINTS] = [
    "right_eye",
    "left_eye",
    "nose_tip",
    "mouth",
    "right_ear",
    "left_ear",
];

impl Landmarks {
    /// BlazeFace's six keypoints, in its order (that of [`LANDMARK_NAMES`]).
    pub fn from_six(points: [(f32, f32); KEYPOINTS]) -> Self {
        let [right_eye, left_eye, nose_tip, mouth, right_ear, left_ear] = points;
        Self {
            right_eye,
            left_eye,
            nose_tip,
            mouth,
            ears: Some([right_ear, left_ear]),
        }
    }

    /// The keypoints the face has, each with its name from [`LANDMARK_NAMES`], in that order.
    pub fn points(&self) -> Vec<(&'static str, (f32, f32))> {
        let mut points = vec![
            (LANDMARK_NAMES[0], self.right_eye),
            (LANDMARK_NAMES[1], self.left_eye),
            (LANDMARK_NAMES[2], self.nose_tip),
            (LANDMARK_NAMES[3], self.mouth),
        ];
        if let Some([right, left]) = self.ears {
            points.extend([(LANDMARK_NAMES[4], right), (LANDMARK_NAMES[5], left)]);
        }
        points
    }

    /// How far the line from the right eye to the left eye is turned from the horizontal, in
    /// radians (positive: clockwise on screen, the left eye lower).
    pub fn eye_roll(&self) -> f32 {
        let (right, left) = (self.right_eye, self.left_eye);
        (left.1 - right.1).atan2(left.0 - right.0)
    }
}

/// One face found in a photo: a square box in the photo's pixel coordinates, the detector's
/// confidence and the face's keypoints.
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
    /// The detector's confidence, 0..1; every returned face scores at least the threshold of
    /// the view that found it, or the candidate threshold when the cascade confirmed it (see
    /// [`DetectorSettings`]).
    pub score: f64,
    /// Eyes, nose, mouth and ears, when the detector gives them.
    pub landmarks: Option<Landmarks>,
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

    /// The part of the box that lies inside an image of the given size (the landmarks are kept
    /// as they are).
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
            landmarks: self.landmarks,
        }
    }
}

/// How the detector reads a photo. The defaults were calibrated on the development photos (see
/// `docs/vision.md`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorSettings {
    /// Short-range faces scoring below this (0..1) are dropped.
    pub score_threshold: f32,
    /// Photos whose longer side exceeds this are shrunk to it (block means) before the views are
    /// cut; the views are at most 192 pixels wide, so more detail is never used.
    pub max_working_side: u32,
    /// The second short-range view: the photo centred in a square this many times its longer
    /// side (grey border). Zero turns that view off.
    pub padded_view: f32,
    /// Whether the whole photo, letterboxed, is also read by the short-range model.
    pub whole_view: bool,
    /// Whether the full-range model also reads the whole photo, and the score its faces must
    /// reach. Off by default: on the round-trip scenes it found 2 faces of 300 that the
    /// short-range views missed, for a third more work (see `docs/vision.md`).
    pub full_range_threshold: Option<f32>,
    /// The short-range model also reads square tiles of the photo this fraction of its longer
    /// side wide, for faces too small for the whole-photo views; zero turns the tiles off.
    pub tile_side: f32,
    /// Tile and large-view detections scoring below this are dropped (large-view ones unless
    /// the cascade confirms them, see `candidate_threshold`): a zoomed-in view of a textured
    /// photo fools the model more often than the whole photo does.
    pub tile_threshold: f32,
    /// Neighbouring tiles overlap by at least this fraction of a tile, so that a face up to
    /// this fraction of a tile wide lies wholly inside one of them.
    pub tile_overlap: f32,
    /// Detections of all views overlapping by more than this (intersection over union) are
    /// merged into one face.
    pub merge_overlap: f32,
    /// The short-range model also reads the whole photo, uncropped, resampled to this many
    /// pixels on its longer side (the shorter in proportion, both rounded up to multiples of
    /// 16): at 256, twice the network's own side, it sees faces as large as half-side tiles
    /// show them, in one picture without seams. Zero turns this view off.
    pub large_view_side: u32,
    /// The large view is skipped when the other views found a face at least this fraction of
    /// the photo's shorter side wide: such a face leaves no room for one small enough to need
    /// it (a face a third as wide is found by the whole-photo views). A selfie is then read in
    /// two pictures instead of 6.7. Above 1, the large view is always read.
    pub skip_large_view_above: f32,
    /// Large-view detections scoring at least this but below `tile_threshold` are candidates:
    /// each is looked at again in a grey close-up by the SeetaFace cascade and kept only when
    /// the cascade finds the face there too (or ONet confirms it, see `onet_confirm`). At or
    /// above `tile_threshold` there are none.
    pub candidate_threshold: f32,
    /// A close-up is the square around a candidate this many times the candidate's box wide,
    /// resampled to 128×128 (a 64-pixel face for the cascade, whose window is 40 pixels).
    pub close_up_side: f32,
    /// The score the cascade must give a candidate's face (its own scale; 2.0 is its usual
    /// threshold).
    pub close_up_score: f64,
    /// At most this many candidates per photo are checked (the best-scoring first), so that a
    /// busy photo costs at most this many close-ups more.
    pub max_close_ups: usize,
    /// When the BlazeFace views find no face, CenterFace (a larger network trained on faces
    /// turned to the side, tilted and small) reads the photo once more, and its faces scoring
    /// at least this (0..1) are the answer. `None` turns the second look off.
    pub second_look_threshold: Option<f32>,
    /// The second look reads the photo at most this many pixels on its longer side (its cost
    /// grows with the area).
    pub second_look_side: u32,
    /// BlazeFace faces scoring below this (0..1) are read again in a close-up turned each of
    /// the four ways (see [`DetectorSettings::upright_margin`]); zero turns the check off.
    /// BlazeFace finds faces lying on their side or upside down, less sure of them, but with
    /// keypoints that do not say which way is up.
    pub upright_check_below: f32,
    /// The close-up of that check is the square around the face this many times its box wide.
    pub upright_close_up: f32,
    /// When the close-up turned a quarter or half round scores at least this much more than
    /// the close-up as it stands, the face's box and keypoints become the turned close-up's
    /// (turned back): its eye line then says which way is up, and the face is cropped upright.
    pub upright_margin: f32,
    /// At most this many faces per photo are checked (the least sure first).
    pub max_upright_checks: usize,
    /// When neither the BlazeFace views nor the second look find a face, the photo is searched
    /// again turned a quarter, half and three quarters round (a face lying on its side or upside
    /// down); a face found there that scores at least this (0..1) is kept when the SeetaFace
    /// cascade (or ONet, see `onet_confirm`) confirms it in an upright close-up. `None` turns
    /// the turned search off.
    pub turned_search_threshold: Option<f32>,
    /// A candidate (see `candidate_threshold`), or a face of the turned search, that the
    /// cascade does not confirm is still kept when MTCNN's output network (ONet), reading a
    /// 48×48 close-up of its box, gives it at least this probability (0..1) of being a face: a
    /// face the cascade's frontal model misses (a hand over the eyes, a face looking down, a
    /// blurred one). A face of the turned search may also be confirmed by a close-up turned so
    /// that its keypoints' eyes lie level (a quarter turn leaves a face tilted by up to 45°).
    /// `None`: the cascade alone confirms.
    pub onet_confirm: Option<f32>,
    /// The large view's sure faces (scoring `tile_threshold` or more, so not confirmed by
    /// anyone) are kept only when ONet, reading a close-up of the box turned so that the
    /// keypoints' eyes lie level, gives at least this probability (0..1): a headlight or a
    /// knot in wood that fools BlazeFace at 0.8 is dropped, and a photo left without a face
    /// then gets the second look. `None`: no veto.
    pub onet_veto: Option<f32>,
}

impl Default for DetectorSettings {
    fn default() -> Self {
        Self {
            score_threshold: 0.66,
            max_working_side: 640,
            padded_view: 1.5,
            whole_view: true,
            full_range_threshold: None,
            tile_side: 0.0,
            tile_threshold: 0.74,
            tile_overlap: 0.5,
            merge_overlap: 0.3,
            large_view_side: 320,
            skip_large_view_above: 0.75,
            candidate_threshold: 0.4,
            close_up_side: 2.0,
            close_up_score: 2.5,
            max_close_ups: 4,
            second_look_threshold: Some(0.5),
            second_look_side: 480,
            upright_check_below: 0.8,
            upright_close_up: 2.0,
            upright_margin: 0.1,
            max_upright_checks: 4,
            turned_search_threshold: Some(0.66),
            onet_confirm: Some(0.9),
            onet_veto: Some(0.2),
        }
    }
}

/// Side of a close-up, in pixels.
const CLOSE_UP: usize = 128;

/// The SeetaFace cascade that confirms candidates, with its embedded model.
fn cascade(score_threshold: f64) -> Result<seeta::Detector, DetectorError> {
    let model = seeta::read_model(seeta::FRONTAL_MODEL)
        .map_err(|error| DetectorError::Cascade(error.to_string()))?;
    seeta::Detector::new(
        model,
        seeta::Settings {
            score_threshold,
            ..seeta::Settings::default()
        },
    )
    .map_err(|_| DetectorError::InvalidSettings("close_up_score must be above 0"))
}

/// Why a detector could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DetectorError {
    /// An embedded model could not be read (a build problem, not an input problem).
    #[error("the embedded face model is unreadable: {0}")]
    Model(#[source] NetworkError),
    /// The embedded SeetaFace model could not be read (a build problem too).
    #[error("the embedded face cascade is unreadable: {0}")]
    Cascade(String),
    /// A setting is outside its range.
    #[error("invalid detector setting: {0}")]
    InvalidSettings(&'static str),
}

/// A face detector: build it once, then share it between threads (it is `Send + Sync`).
///
/// Detection is deterministic: the same image gives the same boxes.
#[derive(Clone)]
pub struct FaceDetector {
    short: Blaze,
    full: Blaze,
    /// Confirms the large view's uncertain faces (see [`DetectorSettings::candidate_threshold`]).
    cascade: seeta::Detector,
    /// Reads a photo in which the BlazeFace views found nothing (see
    /// [`DetectorSettings::second_look_threshold`]).
    second: CenterFace,
    /// Confirms candidates the cascade does not, and vetoes the large view's stray faces (see
    /// [`DetectorSettings::onet_confirm`] and [`DetectorSettings::onet_veto`]).
    onet: Onet,
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

/// Grey level of the border around a view that reaches past the photo.
const BORDER_LEVEL: f32 = 0.0;

/// A region of the working image, in its pixels (may reach past its edges).
#[derive(Debug, Clone, Copy)]
struct View {
    left: f32,
    top: f32,
    width: f32,
    height: f32,
}

impl View {
    fn square(left: f32, top: f32, side: f32) -> Self {
        Self {
            left,
            top,
            width: side,
            height: side,
        }
    }

    /// The square `times` a detection's longer box side wide, centred on its box.
    fn around(detection: &Detection, times: f32) -> Self {
        let side =
            times * (detection.x_max - detection.x_min).max(detection.y_max - detection.y_min);
        let (x, y) = detection.centre();
        Self::square(x - side / 2.0, y - side / 2.0, side)
    }
}

impl FaceDetector {
    /// A detector with the embedded models and the default settings.
    pub fn new() -> Result<Self, DetectorError> {
        Self::with_settings(DetectorSettings::default())
    }

    /// A detector with the embedded models and the given settings.
    pub fn with_settings(settings: DetectorSettings) -> Result<Self, DetectorError> {
        validate(&settings)?;
        Ok(Self {
            short: Blaze::embedded(BlazeModel::ShortRange).map_err(DetectorError::Model)?,
            full: Blaze::embedded(BlazeModel::FullRange).map_err(DetectorError::Model)?,
            cascade: cascade(settings.close_up_score)?,
            second: CenterFace::embedded().map_err(DetectorError::Model)?,
            onet: Onet::embedded().map_err(DetectorError::Model)?,
            settings,
        })
    }

    /// The settings this detector searches with.
    pub fn settings(&self) -> &DetectorSettings {
        &self.settings
    }

    /// Finds every face in a photo, in reading order (top to bottom, then left to right).
    ///
    /// The work is spread over the threads of the current rayon pool (the global one, as many
    /// threads as cores, unless called inside [`rayon::ThreadPool::install`]); the faces are
    /// the same, to the bit, on any number of threads.
    pub fn detect(&self, image: &DynamicImage) -> Vec<FaceBox> {
        let (width, height) = (image.width(), image.height());
        if width == 0 || height == 0 {
            return Vec::new();
        }
        let working = working_copy(image, self.settings.max_working_side);
        let scale_x = width as f32 / working.width() as f32;
        let scale_y = height as f32 / working.height() as f32;
        let integral = Integral::new(&working);
        let found = self.find_faces(&working, &integral);
        let merged = self.check_upright(&working, &integral, found);
        let mut boxes: Vec<FaceBox> = merged
            .iter()
            .map(|detection| to_face_box(detection, scale_x, scale_y))
            .collect();
        if boxes.is_empty()
            && let Some(threshold) = self.settings.second_look_threshold
        {
            boxes = self.read_second_look(&working, &integral, threshold, (scale_x, scale_y));
        }
        if boxes.is_empty()
            && let Some(threshold) = self.settings.turned_search_threshold
        {
            boxes = self
                .search_turned(&working, threshold)
                .iter()
                .map(|detection| to_face_box(detection, scale_x, scale_y))
                .collect();
        }
        sort_in_reading_order(&mut boxes);
        tracing::debug!(width, height, faces = boxes.len(), "face detection");
        boxes
    }

    /// The BlazeFace views of the working image (the whole and padded views, the tiles, the
    /// large view with the cascade's close-ups, the full-range view), merged: the faces found
    /// the way up the photo stands, before the upright check.
    fn find_faces(&self, working: &RgbImage, integral: &Integral) -> Vec<Detection> {
        let long = working.width().max(working.height()) as f32;
        let centred = |side: f32| {
            View::square(
                (working.width() as f32 - side) / 2.0,
                (working.height() as f32 - side) / 2.0,
                side,
            )
        };
        let mut short_views = Vec::new();
        if self.settings.whole_view {
            short_views.push(centred(long));
        }
        if self.settings.padded_view > 0.0 {
            short_views.push(centred(long * self.settings.padded_view));
        }
        let mut tiles = Vec::new();
        if self.settings.tile_side > 0.0 {
            let side = long * self.settings.tile_side;
            let (width, height) = (working.width() as f32, working.height() as f32);
            let step = side * (1.0 - self.settings.tile_overlap);
            for top in tile_starts(height, side, step) {
                for left in tile_starts(width, side, step) {
                    tiles.push(View::square(left, top, side));
                }
            }
        }
        let shorter = working.width().min(working.height()) as f32;
        let fills_the_frame = |found: &[Detection]| {
            found.iter().any(|detection| {
                (detection.x_max - detection.x_min).min(detection.y_max - detection.y_min)
                    >= self.settings.skip_large_view_above * shorter
            })
        };
        // The large view is read beside the other views when the rayon pool has a thread free
        // (after them, on this thread, when it has not), and called off, between two of its
        // layers, as soon as they find a face that fills the frame: its result is used only
        // when they do not, so the faces found are the same either way.
        let frame_filled = AtomicBool::new(false);
        let (mut found, large) = rayon::join(
            || {
                // One view at a time, the last (the padded view, where a selfie's face is the
                // size the model knows best) first, so that a face filling the frame calls the
                // large view off after one picture instead of two; `found` keeps the views'
                // order, so the merge is the same.
                let mut per_view = vec![Vec::new(); short_views.len()];
                for (view, found) in short_views.iter().zip(&mut per_view).rev() {
                    *found = self.read_views(
                        &self.short,
                        working,
                        integral,
                        std::slice::from_ref(view),
                        self.settings.score_threshold,
                    );
                    if fills_the_frame(found) {
                        frame_filled.store(true, Ordering::Relaxed);
                    }
                }
                let mut found: Vec<Detection> = per_view.into_iter().flatten().collect();
                found.extend(self.read_views(
                    &self.short,
                    working,
                    integral,
                    &tiles,
                    self.settings.tile_threshold,
                ));
                if fills_the_frame(&found) {
                    frame_filled.store(true, Ordering::Relaxed);
                }
                found
            },
            || {
                (self.settings.large_view_side > 0)
                    .then(|| self.read_large_view(working, integral, &frame_filled))
                    .flatten()
            },
        );
        if let Some((sure, candidates)) = large.filter(|_| !fills_the_frame(&found)) {
            // Collecting a parallel iterator keeps the faces in order.
            let kept: Vec<Detection> = sure
                .into_par_iter()
                .filter(|face| {
                    self.settings.onet_veto.is_none_or(|veto| {
                        self.onet_reads(working, integral, face, true)
                            .is_none_or(|face| face >= veto)
                    })
                })
                .collect();
            found.extend(kept);
            let confirmed = self.confirm(working, integral, &found, candidates, false);
            found.extend(confirmed);
        }
        if let Some(threshold) = self.settings.full_range_threshold {
            found.extend(self.read_views(
                &self.full,
                working,
                integral,
                &[centred(long)],
                threshold,
            ));
        }
        blaze::weighted_nms(found, self.settings.merge_overlap)
    }

    /// Searches the working image turned a quarter, half and three quarters round clockwise,
    /// and returns, in the working image's own pixels, the faces found there that score at
    /// least `threshold` and that the cascade confirms in a close-up of the turned image (where
    /// the face stands upright). A face found in two turns keeps its better reading.
    fn search_turned(&self, working: &RgbImage, threshold: f32) -> Vec<Detection> {
        let size = (working.width() as f32, working.height() as f32);
        // The three turns side by side on the rayon pool's threads, their faces in turn order.
        let mut found: Vec<Detection> = (1..4usize)
            .into_par_iter()
            .flat_map_iter(|turns| {
                let turned = turn(working, turns);
                let integral = Integral::new(&turned);
                let mut faces = self.find_faces(&turned, &integral);
                faces.retain(|face| face.score >= threshold);
                let confirmed = self.confirm(&turned, &integral, &[], faces, true);
                confirmed
                    .into_iter()
                    .map(move |face| turn_back(&face, turns, size))
            })
            .collect();
        found.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut kept: Vec<Detection> = Vec::new();
        for face in found {
            if is_new(&face, &kept, self.settings.merge_overlap) {
                kept.push(face);
            }
        }
        tracing::debug!(faces = kept.len(), "turned search");
        kept
    }

    /// Finds faces with CenterFace alone (the second look, whatever BlazeFace would find), with
    /// the threshold of [`DetectorSettings::second_look_threshold`] (0.5 when that is off). For
    /// studying the second look on its own; [`FaceDetector::detect`] is the detector.
    pub fn detect_second_look(&self, image: &DynamicImage) -> Vec<FaceBox> {
        let (width, height) = (image.width(), image.height());
        if width == 0 || height == 0 {
            return Vec::new();
        }
        let working = working_copy(image, self.settings.max_working_side);
        let integral = Integral::new(&working);
        let scale = (
            width as f32 / working.width() as f32,
            height as f32 / working.height() as f32,
        );
        let threshold = self.settings.second_look_threshold.unwrap_or(0.5);
        let mut boxes = self.read_second_look(&working, &integral, threshold, scale);
        sort_in_reading_order(&mut boxes);
        boxes
    }

    /// Runs CenterFace on the whole working image, at most `second_look_side` pixels on its
    /// longer side (centred in a picture whose sides are multiples of 32, grey around it), and
    /// returns its faces scoring at least `threshold` as face boxes in the photo's pixels.
    fn read_second_look(
        &self,
        working: &RgbImage,
        integral: &Integral,
        threshold: f32,
        (scale_x, scale_y): (f32, f32),
    ) -> Vec<FaceBox> {
        let long = working.width().max(working.height()) as f32;
        let step = (long / self.settings.second_look_side as f32).max(1.0);
        let (view, (input_width, input_height), mut pixels) =
            whole_picture(working, integral, step, centerface::MULTIPLE);
        // CenterFace reads 0..255.
        for value in &mut pixels {
            *value = (*value + 1.0) * 127.5;
        }
        match self
            .second
            .detect(pixels, input_height, input_width, threshold)
        {
            Ok(found) => found
                .iter()
                .map(|face| second_look_box(face, &view, step, (scale_x, scale_y)))
                .collect(),
            Err(error) => {
                // The input's sides are multiples of 32 by construction; a photo must never
                // make the detector panic.
                tracing::error!(%error, "second-look face model failed");
                Vec::new()
            }
        }
    }

    /// Runs one model on views of the working image (one batch) and returns the detections,
    /// after each view's own suppression, in working-image pixels.
    fn read_views(
        &self,
        model: &Blaze,
        working: &RgbImage,
        integral: &Integral,
        views: &[View],
        min_score: f32,
    ) -> Vec<Detection> {
        if views.is_empty() {
            return Vec::new();
        }
        let side = model.side();
        let mut pixels = vec![0.0f32; views.len() * 3 * side * side];
        for (view, out) in views.iter().zip(pixels.chunks_exact_mut(3 * side * side)) {
            sample_view(working, integral, *view, (side, side), out);
        }
        let per_view = match model.detect(pixels, views.len(), min_score) {
            Ok(per_view) => per_view,
            Err(error) => {
                // The network's shapes are fixed when it is loaded; this cannot happen for a
                // valid model, and a photo must never make the detector panic.
                tracing::error!(%error, "face model failed");
                return Vec::new();
            }
        };
        let mut found = Vec::new();
        for (view, detections) in views.iter().zip(per_view) {
            for detection in blaze::weighted_nms(detections, self.settings.merge_overlap) {
                found.push(to_working(&detection, view));
            }
        }
        found
    }

    /// Checks each candidate that no other view found with the SeetaFace cascade, in a grey
    /// close-up around it, and returns those the cascade confirms (a face whose centre lies in
    /// the candidate's box) and those ONet gives at least `onet_confirm`. The cascade is a
    /// different kind of detector (boosted pixel comparisons and gradient features, not a
    /// network): what fools one seldom fools both; ONet, trained on hard faces, takes the
    /// faces the frontal cascade turns away.
    ///
    /// With `also_level` (the turned search, whose quarter turns leave a face tilted by up to 45°),
    /// ONet also reads a close-up turned so that the candidate's eyes lie level, and either
    /// reading may confirm it.
    fn confirm(
        &self,
        working: &RgbImage,
        integral: &Integral,
        found: &[Detection],
        mut candidates: Vec<Detection>,
        also_level: bool,
    ) -> Vec<Detection> {
        candidates.retain(|candidate| is_new(candidate, found, self.settings.merge_overlap));
        candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
        candidates.truncate(self.settings.max_close_ups);
        // Each candidate's close-ups on a thread of the rayon pool (in order on this thread
        // when no other is free); collecting keeps the candidates in order.
        candidates
            .par_iter()
            .map_init(
                || vec![0.0f32; 3 * CLOSE_UP * CLOSE_UP],
                |pixels, candidate| {
                    let view = View::around(candidate, self.settings.close_up_side);
                    sample_view(working, integral, view, (CLOSE_UP, CLOSE_UP), pixels);
                    let level =
                        |value: f32| ((value + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8;
                    let grey: Vec<u8> = pixels
                        .chunks_exact(3)
                        .map(|rgb| luma_bt601(level(rgb[0]), level(rgb[1]), level(rgb[2])))
                        .collect();
                    let scale = view.width / CLOSE_UP as f32;
                    let side = CLOSE_UP as u32;
                    let cascade_confirms =
                        self.cascade.detect(&grey, side, side).iter().any(|face| {
                            let half = face.side as f32 / 2.0;
                            let x = view.left + (face.x as f32 + half) * scale;
                            let y = view.top + (face.y as f32 + half) * scale;
                            (candidate.x_min..candidate.x_max).contains(&x)
                                && (candidate.y_min..candidate.y_max).contains(&y)
                        });
                    let confirmed = cascade_confirms
                        || self.settings.onet_confirm.is_some_and(|threshold| {
                            let confirms = |turned: bool| {
                                self.onet_reads(working, integral, candidate, turned)
                                    .is_some_and(|face| face >= threshold)
                            };
                            confirms(false) || (also_level && confirms(true))
                        });
                    confirmed.then_some(*candidate)
                },
            )
            .flatten()
            .collect()
    }

    /// The probability ONet gives that a detection's box holds a face, read in a 48×48
    /// close-up of the square around its box (its longer side wide); with `level`, the
    /// close-up is turned so that the detection's eyes lie level. `None` if the network fails
    /// (it cannot, its input having a fixed size), which neither confirms nor vetoes.
    fn onet_reads(
        &self,
        working: &RgbImage,
        integral: &Integral,
        face: &Detection,
        level: bool,
    ) -> Option<f32> {
        let view = View::around(face, 1.0);
        let side = onet::SIDE;
        let mut pixels = vec![0.0f32; 3 * side * side];
        if level {
            let roll = Landmarks::from_six(face.keypoints).eye_roll();
            sample_turned(working, integral, &view, roll, side, &mut pixels);
        } else {
            sample_view(working, integral, view, (side, side), &mut pixels);
        }
        // The views are scaled (v − 127.5) / 127.5; MTCNN reads (v − 127.5) / 128.
        for value in &mut pixels {
            *value *= 127.5 / 128.0;
        }
        match self.onet.read(&pixels) {
            Ok(reading) => Some(reading.face),
            Err(error) => {
                // The close-up's size is fixed; a photo must never make the detector panic.
                tracing::error!(%error, "ONet failed");
                None
            }
        }
    }

    /// Reads the least sure faces again, each in a close-up turned the four ways (one batch),
    /// and gives a face the box and keypoints of a turned close-up that scores at least
    /// `upright_margin` more than the close-up as it stands (see
    /// [`DetectorSettings::upright_check_below`]).
    fn check_upright(
        &self,
        working: &RgbImage,
        integral: &Integral,
        mut faces: Vec<Detection>,
    ) -> Vec<Detection> {
        let below = self.settings.upright_check_below;
        let mut unsure: Vec<usize> = (0..faces.len())
            .filter(|&index| faces[index].score < below)
            .collect();
        unsure.sort_by(|&a, &b| faces[a].score.total_cmp(&faces[b].score));
        unsure.truncate(self.settings.max_upright_checks);
        let side = self.short.side();
        let plane = 3 * side * side;
        let mut upright = vec![0.0f32; plane];
        let mut turned_faces = vec![false; faces.len()];
        for index in unsure {
            let face = faces[index];
            let view = View::around(&face, self.settings.upright_close_up);
            sample_view(working, integral, view, (side, side), &mut upright);
            let mut pixels = vec![0.0f32; 4 * plane];
            for (turns, out) in pixels.chunks_exact_mut(plane).enumerate() {
                turn_square(&upright, side, turns, out);
            }
            let per_turn = match self.short.detect(pixels, 4, CHECK_MIN_SCORE) {
                Ok(per_turn) => per_turn,
                Err(error) => {
                    // The close-ups have the network's own side; this cannot happen for a
                    // valid model, and a photo must never make the detector panic.
                    tracing::error!(%error, "face model failed");
                    break;
                }
            };
            // The best detection near the close-up's centre in each turned picture, turned
            // back into the upright close-up's coordinates.
            let best: Vec<Option<Detection>> = per_turn
                .iter()
                .enumerate()
                .map(|(turns, detections)| {
                    detections
                        .iter()
                        .map(|detection| turn_back(detection, turns, (1.0, 1.0)))
                        .filter(|detection| {
                            let (x, y) = detection.centre();
                            (x - 0.5).abs() < 0.25 && (y - 0.5).abs() < 0.25
                        })
                        .max_by(|a, b| a.score.total_cmp(&b.score))
                })
                .collect();
            let score = |turns: usize| best[turns].map_or(0.0, |detection| detection.score);
            let turns = (2..4).fold(1, |best, turns| {
                if score(turns) > score(best) {
                    turns
                } else {
                    best
                }
            });
            if let Some(turned) = best[turns]
                && turned.score >= score(0) + self.settings.upright_margin
            {
                faces[index] = Detection {
                    score: face.score.max(turned.score),
                    ..to_working(&turned, &view)
                };
                turned_faces[index] = true;
            }
        }
        // A turned face may now lie on another box of the same face (one that read it the
        // wrong way up, a little larger); of two such boxes the better scoring stays.
        let mut order: Vec<usize> = (0..faces.len()).collect();
        order.sort_by(|&a, &b| faces[b].score.total_cmp(&faces[a].score));
        let mut kept: Vec<usize> = Vec::new();
        for index in order {
            let duplicate = kept.iter().any(|&other| {
                (turned_faces[index] || turned_faces[other])
                    && !is_new(&faces[index], &[faces[other]], self.settings.merge_overlap)
            });
            if !duplicate {
                kept.push(index);
            }
        }
        kept.sort_unstable();
        kept.into_iter().map(|index| faces[index]).collect()
    }

    /// Runs the short-range model once on the whole working image resampled to
    /// `large_view_side` pixels on its longer side (centred in a picture whose sides are
    /// multiples of 16) and returns, in working-image pixels, the detections that reach
    /// `tile_threshold` and, apart, the candidates that reach only `candidate_threshold` (each
    /// group merged on its own, so the first is what it would be without candidates).
    /// `None` if `stop` was set before the network was through.
    fn read_large_view(
        &self,
        working: &RgbImage,
        integral: &Integral,
        stop: &AtomicBool,
    ) -> Option<(Vec<Detection>, Vec<Detection>)> {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        let long = working.width().max(working.height()) as f32;
        let step = long / self.settings.large_view_side as f32;
        let (view, (input_width, input_height), pixels) =
            whole_picture(working, integral, step, 16);
        let sure = self.settings.tile_threshold;
        let lowest = sure.min(self.settings.candidate_threshold);
        match self
            .short
            .detect_sized(pixels, input_height, input_width, lowest, stop)
        {
            Ok(None) => None,
            Ok(Some(detections)) => {
                let (sure, candidates): (Vec<_>, Vec<_>) = detections
                    .into_iter()
                    .partition(|detection| detection.score >= sure);
                let merge = |detections| {
                    blaze::weighted_nms(detections, self.settings.merge_overlap)
                        .iter()
                        .map(|detection| to_working(detection, &view))
                        .collect()
                };
                Some((merge(sure), merge(candidates)))
            }
            Err(error) => {
                // The input's sides are multiples of 16 by construction; a photo must never
                // make the detector panic.
                tracing::error!(%error, "face model failed");
                Some((Vec::new(), Vec::new()))
            }
        }
    }
}

/// The whole working image read every `step` pixels, centred in a picture whose sides are the
/// next multiples of `multiple` (border around it): the view in working-image pixels, the
/// picture's `(width, height)` and its NHWC values (−1..1, as [`sample_view`] gives them).
fn whole_picture(
    working: &RgbImage,
    integral: &Integral,
    step: f32,
    multiple: usize,
) -> (View, (usize, usize), Vec<f32>) {
    let (width, height) = (working.width() as f32, working.height() as f32);
    // `as` saturates; the working image is at most a few thousand pixels wide.
    let round_up =
        |length: f32| ((length / step / multiple as f32).ceil().max(1.0) as usize) * multiple;
    let (input_width, input_height) = (round_up(width), round_up(height));
    let view = View {
        left: (width - input_width as f32 * step) / 2.0,
        top: (height - input_height as f32 * step) / 2.0,
        width: input_width as f32 * step,
        height: input_height as f32 * step,
    };
    let mut pixels = vec![0.0f32; 3 * input_width * input_height];
    sample_view(
        working,
        integral,
        view,
        (input_width, input_height),
        &mut pixels,
    );
    (view, (input_width, input_height), pixels)
}

/// Top to bottom, then left to right, the better first where two start at the same pixel.
fn sort_in_reading_order(boxes: &mut [FaceBox]) {
    boxes.sort_by(|a, b| {
        (a.y, a.x)
            .cmp(&(b.y, b.x))
            .then(b.score.total_cmp(&a.score))
    });
}

/// Whether a candidate is a face not found yet: it overlaps no face found by more than
/// `overlap` (intersection over union) and its centre lies inside none of them (a small box
/// inside a large one is the same face, or a part of it).
fn is_new(candidate: &Detection, found: &[Detection], overlap: f32) -> bool {
    let (x, y) = candidate.centre();
    found.iter().all(|face| {
        face.iou(candidate) <= overlap
            && !((face.x_min..face.x_max).contains(&x) && (face.y_min..face.y_max).contains(&y))
    })
}

/// Where tiles `side` wide start along an edge `length` long: evenly spread from one end to the
/// other, at most `step` apart (one tile when it covers the edge).
fn tile_starts(length: f32, side: f32, step: f32) -> Vec<f32> {
    let room = (length - side).max(0.0);
    let gaps = if room > 0.0 {
        (room / step.max(1.0)).ceil() as usize
    } else {
        0
    };
    (0..=gaps)
        .map(|index| {
            if gaps == 0 {
                0.0
            } else {
                room * index as f32 / gaps as f32
            }
        })
        .collect()
}

/// The lowest score the upright check looks at in its turned close-ups.
const CHECK_MIN_SCORE: f32 = 0.3;

/// Writes `square` (NHWC, `side × side × 3`) turned `turns` quarter turns clockwise into `out`.
fn turn_square(square: &[f32], side: usize, turns: usize, out: &mut [f32]) {
    let last = side - 1;
    for y in 0..side {
        for x in 0..side {
            // Where the pixel at (x, y) of the turned picture comes from.
            let (from_x, from_y) = match turns % 4 {
                0 => (x, y),
                1 => (y, last - x),
                2 => (last - x, last - y),
                _ => (last - y, x),
            };
            let to = 3 * (y * side + x);
            let from = 3 * (from_y * side + from_x);
            out[to..to + 3].copy_from_slice(&square[from..from + 3]);
        }
    }
}

/// `image` turned `turns` (1 to 3) quarter turns clockwise, pixel for pixel.
fn turn(image: &RgbImage, turns: usize) -> RgbImage {
    match turns % 4 {
        1 => imageops::rotate90(image),
        2 => imageops::rotate180(image),
        3 => imageops::rotate270(image),
        _ => image.clone(),
    }
}

/// A detection in a picture turned `turns` quarter turns clockwise (by [`turn_square`] or
/// [`turn`]), in the coordinates of the picture before it was turned,
/// which was `width × height` (`(1.0, 1.0)` for normalised coordinates).
fn turn_back(detection: &Detection, turns: usize, (width, height): (f32, f32)) -> Detection {
    let back = |(u, v): (f32, f32)| match turns % 4 {
        0 => (u, v),
        1 => (v, height - u),
        2 => (width - u, height - v),
        _ => (width - v, u),
    };
    let (a, b) = (
        back((detection.x_min, detection.y_min)),
        back((detection.x_max, detection.y_max)),
    );
    Detection {
        x_min: a.0.min(b.0),
        y_min: a.1.min(b.1),
        x_max: a.0.max(b.0),
        y_max: a.1.max(b.1),
        keypoints: detection.keypoints.map(back),
        score: detection.score,
    }
}

/// A detection in a view's normalised coordinates, in working-image pixels.
fn to_working(detection: &Detection, view: &View) -> Detection {
    let x = |u: f32| view.left + u * view.width;
    let y = |v: f32| view.top + v * view.height;
    Detection {
        x_min: x(detection.x_min),
        y_min: y(detection.y_min),
        x_max: x(detection.x_max),
        y_max: y(detection.y_max),
        keypoints: detection.keypoints.map(|(u, v)| (x(u), y(v))),
        score: detection.score,
    }
}

/// A detection in working-image pixels as a face box in the photo's pixels.
fn to_face_box(detection: &Detection, scale_x: f32, scale_y: f32) -> FaceBox {
    let left = detection.x_min * scale_x;
    let top = detection.y_min * scale_y;
    let width = (detection.x_max - detection.x_min) * scale_x;
    let height = (detection.y_max - detection.y_min) * scale_y;
    // `as` saturates: a nonsense coordinate cannot wrap around.
    FaceBox {
        x: left.round() as i32,
        y: top.round() as i32,
        width: width.round().max(1.0) as u32,
        height: height.round().max(1.0) as u32,
        score: f64::from(detection.score),
        landmarks: Some(Landmarks::from_six(
            detection.keypoints.map(|(x, y)| (x * scale_x, y * scale_y)),
        )),
    }
}

/// How a CenterFace box becomes a box like BlazeFace's, which the framing rule expects: a
/// square `SECOND_LOOK_SCALE` times the mean of its sides, its centre moved down by
/// `SECOND_LOOK_SHIFT` of that mean. CenterFace's boxes run from the hairline to the chin;
/// BlazeFace's are smaller and lower (measured on the round-trip scenes both read, see
/// `docs/vision.md`).
const SECOND_LOOK_SCALE: f32 = 0.95;
const SECOND_LOOK_SHIFT: f32 = 0.08;

/// A CenterFace face (in the pixels of its input, a view of the working image read every
/// `step` pixels) as a face box in the photo's pixels.
fn second_look_box(
    face: &Found,
    view: &View,
    step: f32,
    (scale_x, scale_y): (f32, f32),
) -> FaceBox {
    let x = |u: f32| (view.left + u * step) * scale_x;
    let y = |v: f32| (view.top + v * step) * scale_y;
    let point = |(u, v): (f32, f32)| (x(u), y(v));
    let [right_eye, left_eye, nose_tip, mouth_right, mouth_left] = face.points.map(point);
    let landmarks = Landmarks {
        right_eye,
        left_eye,
        nose_tip,
        mouth: (
            (mouth_right.0 + mouth_left.0) / 2.0,
            (mouth_right.1 + mouth_left.1) / 2.0,
        ),
        ears: None,
    };
    let mean_side = ((x(face.x_max) - x(face.x_min)) + (y(face.y_max) - y(face.y_min))) / 2.0;
    let side = mean_side * SECOND_LOOK_SCALE;
    let centre_x = (x(face.x_min) + x(face.x_max)) / 2.0;
    let centre_y = (y(face.y_min) + y(face.y_max)) / 2.0 + SECOND_LOOK_SHIFT * mean_side;
    // `as` saturates: a nonsense coordinate cannot wrap around.
    FaceBox {
        x: (centre_x - side / 2.0).round() as i32,
        y: (centre_y - side / 2.0).round() as i32,
        width: side.round().max(1.0) as u32,
        height: side.round().max(1.0) as u32,
        score: f64::from(face.score),
        landmarks: Some(landmarks),
    }
}

fn validate(settings: &DetectorSettings) -> Result<(), DetectorError> {
    if !(0.0..=1.0).contains(&settings.score_threshold) {
        return Err(DetectorError::InvalidSettings(
            "score_threshold must lie in [0, 1]",
        ));
    }
    let thresholds = [Some(settings.tile_threshold), settings.full_range_threshold];
    if !thresholds
        .into_iter()
        .flatten()
        .all(|t| (0.0..=1.0).contains(&t))
    {
        return Err(DetectorError::InvalidSettings(
            "tile_threshold and full_range_threshold must lie in [0, 1]",
        ));
    }
    if !(settings.tile_side == 0.0 || (0.1..=1.0).contains(&settings.tile_side)) {
        return Err(DetectorError::InvalidSettings(
            "tile_side must be 0 or lie in [0.1, 1]",
        ));
    }
    if !(0.0..=0.9).contains(&settings.tile_overlap) {
        return Err(DetectorError::InvalidSettings(
            "tile_overlap must lie in [0, 0.9]",
        ));
    }
    if settings.max_working_side < 16 {
        return Err(DetectorError::InvalidSettings(
            "max_working_side must be at least 16",
        ));
    }
    if !(settings.padded_view == 0.0 || (1.0..=4.0).contains(&settings.padded_view)) {
        return Err(DetectorError::InvalidSettings(
            "padded_view must be 0 or lie in [1, 4]",
        ));
    }
    if !(settings.large_view_side == 0 || (16..=2048).contains(&settings.large_view_side)) {
        return Err(DetectorError::InvalidSettings(
            "large_view_side must be 0 or lie in [16, 2048]",
        ));
    }
    if !settings
        .second_look_threshold
        .is_none_or(|threshold| (0.0..=1.0).contains(&threshold))
    {
        return Err(DetectorError::InvalidSettings(
            "second_look_threshold must lie in [0, 1]",
        ));
    }
    if !(32..=2048).contains(&settings.second_look_side) {
        return Err(DetectorError::InvalidSettings(
            "second_look_side must lie in [32, 2048]",
        ));
    }
    if !(0.0..=1.0).contains(&settings.candidate_threshold) {
        return Err(DetectorError::InvalidSettings(
            "candidate_threshold must lie in [0, 1]",
        ));
    }
    if !(1.0..=8.0).contains(&settings.close_up_side) {
        return Err(DetectorError::InvalidSettings(
            "close_up_side must lie in [1, 8]",
        ));
    }
    if settings.skip_large_view_above.is_nan() || settings.skip_large_view_above <= 0.0 {
        return Err(DetectorError::InvalidSettings(
            "skip_large_view_above must be above 0",
        ));
    }
    if !(0.0..=1.0).contains(&settings.upright_check_below)
        || !(0.0..=1.0).contains(&settings.upright_margin)
    {
        return Err(DetectorError::InvalidSettings(
            "upright_check_below and upright_margin must lie in [0, 1]",
        ));
    }
    if !(1.0..=8.0).contains(&settings.upright_close_up) {
        return Err(DetectorError::InvalidSettings(
            "upright_close_up must lie in [1, 8]",
        ));
    }
    if !settings
        .turned_search_threshold
        .is_none_or(|threshold| (0.0..=1.0).contains(&threshold))
    {
        return Err(DetectorError::InvalidSettings(
            "turned_search_threshold must lie in [0, 1]",
        ));
    }
    if ![settings.onet_confirm, settings.onet_veto]
        .into_iter()
        .flatten()
        .all(|threshold| (0.0..=1.0).contains(&threshold))
    {
        return Err(DetectorError::InvalidSettings(
            "onet_confirm and onet_veto must lie in [0, 1]",
        ));
    }
    if !(0.0..1.0).contains(&settings.merge_overlap) {
        return Err(DetectorError::InvalidSettings(
            "merge_overlap must lie in [0, 1)",
        ));
    }
    Ok(())
}

/// The photo as 8-bit RGB, shrunk by whole-block means to at most `max_side` on its longer
/// side (never enlarged: the views resample it anyway).
fn working_copy(image: &DynamicImage, max_side: u32) -> RgbImage {
    let (width, height) = (image.width(), image.height());
    let long = width.max(height);
    let block = long.div_ceil(max_side).max(1);
    let source = RgbSource::new(image);
    if block == 1 {
        if let DynamicImage::ImageRgb8(rgb) = image {
            return rgb.clone();
        }
        return RgbImage::from_fn(width, height, |x, y| {
            image::Rgb(source.at(x as usize, y as usize))
        });
    }
    let out_width = (width / block).max(1);
    let out_height = (height / block).max(1);
    let block_x = block.min(width) as usize;
    let block_y = block.min(height) as usize;
    let area = (block_x * block_y) as u32;
    let mut out = RgbImage::new(out_width, out_height);
    let mut sums = vec![[0u32; 3]; out_width as usize];
    // The blocks are summed straight from the rows' samples (a phone photo has 12 million
    // pixels to go through here).
    let (data, channels) = source.samples();
    let row_len = width as usize * channels;
    let block_len = block_x * channels;
    for out_y in 0..out_height as usize {
        sums.iter_mut().for_each(|sum| *sum = [0; 3]);
        for y in out_y * block_y..(out_y + 1) * block_y {
            let row = &data[y * row_len..(y + 1) * row_len];
            for (sum, block) in sums.iter_mut().zip(row.chunks_exact(block_len)) {
                for pixel in block.chunks_exact(channels) {
                    if channels < 3 {
                        let level = u32::from(pixel[0]);
                        sum.iter_mut().for_each(|total| *total += level);
                    } else {
                        for (total, sample) in sum.iter_mut().zip(pixel) {
                            *total += u32::from(*sample);
                        }
                    }
                }
            }
        }
        for (out_x, sum) in sums.iter().enumerate() {
            // A mean of 8-bit levels is at most 255.
            let pixel = sum.map(|total| ((total + area / 2) / area) as u8);
            out.put_pixel(out_x as u32, out_y as u32, image::Rgb(pixel));
        }
    }
    out
}

/// Any decoded image read as 8-bit RGB pixels, without converting 8-bit layouts first.
enum RgbSource<'a> {
    /// Interleaved 8-bit samples: 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA) a pixel.
    Direct(&'a [u8], usize, usize),
    /// Another layout (16-bit, float), converted up front.
    Converted(RgbImage),
}

impl<'a> RgbSource<'a> {
    fn new(image: &'a DynamicImage) -> Self {
        let width = image.width() as usize;
        match image {
            DynamicImage::ImageLuma8(buffer) => RgbSource::Direct(buffer.as_raw(), width, 1),
            DynamicImage::ImageLumaA8(buffer) => RgbSource::Direct(buffer.as_raw(), width, 2),
            DynamicImage::ImageRgb8(buffer) => RgbSource::Direct(buffer.as_raw(), width, 3),
            DynamicImage::ImageRgba8(buffer) => RgbSource::Direct(buffer.as_raw(), width, 4),
            other => RgbSource::Converted(other.to_rgb8()),
        }
    }

    /// The interleaved samples, row after row, and how many there are to a pixel (1 or 2: grey
    /// first; 3 or 4: red, green, blue first).
    fn samples(&self) -> (&[u8], usize) {
        match self {
            RgbSource::Direct(data, _, channels) => (data, *channels),
            RgbSource::Converted(buffer) => (buffer.as_raw(), 3),
        }
    }

    #[inline]
    fn at(&self, x: usize, y: usize) -> [u8; 3] {
        match self {
            RgbSource::Direct(data, width, channels) => {
                let i = channels * (y * width + x);
                if *channels < 3 {
                    [data[i]; 3]
                } else {
                    [data[i], data[i + 1], data[i + 2]]
                }
            }
            RgbSource::Converted(buffer) => buffer.get_pixel(x as u32, y as u32).0,
        }
    }
}

/// Summed-area table of an RGB image: `(width + 1) × (height + 1)` sums per channel.
struct Integral {
    sums: Vec<[u32; 3]>,
    stride: usize,
}

impl Integral {
    fn new(image: &RgbImage) -> Self {
        let (width, height) = (image.width() as usize, image.height() as usize);
        let stride = width + 1;
        let mut sums = vec![[0u32; 3]; stride * (height + 1)];
        // Row by row: the row's running sums first (one dependent chain per channel), then the
        // row above added in a separate pass, in which no pixel waits for the one before.
        for (y, row) in image.as_raw().chunks_exact(3 * width.max(1)).enumerate() {
            let (above, below) = sums.split_at_mut((y + 1) * stride);
            let above = &above[y * stride + 1..];
            let current = &mut below[1..stride];
            let mut running = [0u32; 3];
            for (sum, pixel) in current.iter_mut().zip(row.chunks_exact(3)) {
                for channel in 0..3 {
                    running[channel] += u32::from(pixel[channel]);
                }
                *sum = running;
            }
            for (sum, above) in current.iter_mut().zip(above) {
                for channel in 0..3 {
                    sum[channel] += above[channel];
                }
            }
        }
        Self { sums, stride }
    }

    /// Sum of the pixels in columns `x0..x1` and rows `y0..y1` (inside the image), per channel.
    #[inline]
    fn sum(&self, x0: usize, y0: usize, x1: usize, y1: usize) -> [u32; 3] {
        let at = |x: usize, y: usize| self.sums[y * self.stride + x];
        let (a, b, c, d) = (at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1));
        std::array::from_fn(|channel| d[channel] + a[channel] - b[channel] - c[channel])
    }

    /// Mean of the pixels in columns `x0..x1` and rows `y0..y1` (non-empty, inside the image).
    fn mean(&self, x0: usize, y0: usize, x1: usize, y1: usize) -> [f32; 3] {
        let area = ((x1 - x0) * (y1 - y0)) as f32;
        self.sum(x0, y0, x1, y1).map(|total| total as f32 / area)
    }
}

/// Fills `out` (one NHWC picture, `columns × rows × 3`) with a view of the working image
/// resampled to `columns × rows` (the same step on both axes), scaled to −1..1. A view pixel
/// covering several image pixels is their mean; one covering less than two is interpolated
/// bilinearly. Outside the image the view is [`BORDER_LEVEL`]. Each value is what
/// [`view_pixel`] gives; a row of means takes its sums from the integral image first and then
/// divides them all in one pass, which the compiler turns into vector instructions.
fn sample_view(
    image: &RgbImage,
    integral: &Integral,
    view: View,
    (columns, rows): (usize, usize),
    out: &mut [f32],
) {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let step = view.width / columns as f32;
    // Where each view column (row) falls in the image, worked out once for all rows (columns).
    let xs: Vec<Span> = (0..columns)
        .map(|column| Span::new(view.left + column as f32 * step, step, width))
        .collect();
    if step < 2.0 {
        sample_view_bilinear(image, view, &xs, rows, out);
        return;
    }
    let mut totals = vec![0u32; 3 * columns];
    let mut areas = vec![1.0f32; 3 * columns];
    for row in 0..rows {
        let y = Span::new(view.top + row as f32 * step, step, height);
        let out_row = &mut out[3 * row * columns..3 * (row + 1) * columns];
        if !(y.inside && y.end > y.start) {
            for (x, value) in xs.iter().zip(out_row.chunks_exact_mut(3)) {
                view_pixel(image, integral, (x, &y), step, value);
            }
            continue;
        }
        for ((x, total), area) in xs
            .iter()
            .zip(totals.chunks_exact_mut(3))
            .zip(areas.chunks_exact_mut(3))
        {
            if x.inside && x.end > x.start {
                total.copy_from_slice(&integral.sum(x.start, y.start, x.end, y.end));
                area.fill(((x.end - x.start) * (y.end - y.start)) as f32);
            }
        }
        // `Integral::mean`'s division, then `network_level`.
        for ((value, &total), &area) in out_row.iter_mut().zip(&totals).zip(&areas) {
            *value = network_level(total as f32 / area);
        }
        for (x, value) in xs.iter().zip(out_row.chunks_exact_mut(3)) {
            if !(x.inside && x.end > x.start) {
                view_pixel(image, integral, (x, &y), step, value);
            }
        }
    }
}

/// Writes to `value` (three values, −1..1) the view pixel `step` image pixels wide that covers
/// the spans `x` and `y`: the mean of the image pixels under it when it covers two or more,
/// else the colour at its centre interpolated bilinearly; [`BORDER_LEVEL`] when its centre lies
/// outside the image.
#[inline]
fn view_pixel(
    image: &RgbImage,
    integral: &Integral,
    (x, y): (&Span, &Span),
    step: f32,
    value: &mut [f32],
) {
    if !(x.inside && y.inside) {
        value.fill(BORDER_LEVEL);
        return;
    }
    let rgb = if step >= 2.0 && x.end > x.start && y.end > y.start {
        integral.mean(x.start, y.start, x.end, y.end)
    } else {
        let (width, height) = (image.width() as usize, image.height() as usize);
        bilinear(image.as_raw(), width, height, x.centre, y.centre)
    };
    for (value, channel) in value.iter_mut().zip(rgb) {
        *value = network_level(channel);
    }
}

/// A colour level 0..255 as the networks read it, −1..1.
#[inline(always)]
fn network_level(level: f32) -> f32 {
    level / 127.5 - 1.0
}

/// Fills `out` (`side × side × 3`, −1..1) with the square `view` turned `roll` radians
/// clockwise about its centre: the close-up in which a face whose eyes slope by `roll` stands
/// level. Each close-up pixel is the mean of the image pixels under it (bilinear when it
/// covers less than two); outside the image it is [`BORDER_LEVEL`].
fn sample_turned(
    image: &RgbImage,
    integral: &Integral,
    view: &View,
    roll: f32,
    side: usize,
    out: &mut [f32],
) {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let step = view.width / side as f32;
    let (centre_x, centre_y) = (view.left + view.width / 2.0, view.top + view.height / 2.0);
    let (sin, cos) = roll.sin_cos();
    let half = step / 2.0;
    for (index, value) in out.chunks_exact_mut(3).enumerate() {
        let u = ((index % side) as f32 + 0.5) * step - view.width / 2.0;
        let v = ((index / side) as f32 + 0.5) * step - view.height / 2.0;
        let x = Span::new(centre_x + u * cos - v * sin - half, step, width);
        let y = Span::new(centre_y + u * sin + v * cos - half, step, height);
        view_pixel(image, integral, (&x, &y), step, value);
    }
}

/// Where one view column (or row) `step` pixels wide from `from` lies along an image axis
/// `length` pixels long: its centre, whether that is inside the image, and the whole pixels it
/// covers (rounded, clamped to the image).
struct Span {
    centre: f32,
    inside: bool,
    start: usize,
    end: usize,
}

impl Span {
    fn new(from: f32, step: f32, length: usize) -> Self {
        let centre = from + step / 2.0;
        // `as` saturates: a position far outside the image clamps to its edge.
        let clamp = |v: f32| (v.round().max(0.0) as usize).min(length);
        Self {
            centre,
            inside: centre >= 0.0 && centre < length as f32,
            start: clamp(from),
            end: clamp(from + step),
        }
    }
}

/// The colour at a point (pixel centres at half-integers), edges repeated.
fn bilinear(raw: &[u8], width: usize, height: usize, x: f32, y: f32) -> [f32; 3] {
    let (x, y) = (Taps::new(x, width), Taps::new(y, height));
    let rows = (&raw[3 * y.first * width..], &raw[3 * y.second * width..]);
    std::array::from_fn(|channel| interpolate(rows, &x, &y, channel))
}

/// The two pixels along one axis that a point between pixel centres lies between, and how
/// far it is from the first towards the second (edges repeated).
struct Taps {
    first: usize,
    second: usize,
    weight: f32,
}

impl Taps {
    fn new(centre: f32, length: usize) -> Self {
        let at = (centre - 0.5).clamp(0.0, (length - 1) as f32);
        let first = at.floor() as usize;
        Self {
            first,
            second: (first + 1).min(length - 1),
            weight: at - first as f32,
        }
    }
}

/// One channel of the colour between the pixels `x` and `y` pick in two rows of RGB samples.
#[inline(always)]
fn interpolate((upper, lower): (&[u8], &[u8]), x: &Taps, y: &Taps, channel: usize) -> f32 {
    let pixel = |row: &[u8], x: usize| f32::from(row[3 * x + channel]);
    let top = pixel(upper, x.first) * (1.0 - x.weight) + pixel(upper, x.second) * x.weight;
    let bottom = pixel(lower, x.first) * (1.0 - x.weight) + pixel(lower, x.second) * x.weight;
    top * (1.0 - y.weight) + bottom * y.weight
}

/// [`sample_view`] for a view whose pixels are each under two image pixels wide: every pixel
/// interpolated bilinearly, as [`view_pixel`] does, with each column's taps worked out once.
fn sample_view_bilinear(image: &RgbImage, view: View, xs: &[Span], rows: usize, out: &mut [f32]) {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let columns = xs.len();
    let step = view.width / columns as f32;
    let taps: Vec<Taps> = xs.iter().map(|x| Taps::new(x.centre, width)).collect();
    let raw = image.as_raw();
    for row in 0..rows {
        let y = Span::new(view.top + row as f32 * step, step, height);
        let out_row = &mut out[3 * row * columns..3 * (row + 1) * columns];
        if !y.inside {
            out_row.fill(BORDER_LEVEL);
            continue;
        }
        let y_taps = Taps::new(y.centre, height);
        let rows = (
            &raw[3 * y_taps.first * width..][..3 * width],
            &raw[3 * y_taps.second * width..][..3 * width],
        );
        for ((x, x_taps), value) in xs.iter().zip(&taps).zip(out_row.chunks_exact_mut(3)) {
            if !x.inside {
                value.fill(BORDER_LEVEL);
                continue;
            }
            for (channel, value) in value.iter_mut().enumerate() {
                *value = network_level(interpolate(rows, x_taps, &y_taps, channel));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rectangle's sums from the summed-area table equal the sums of its pixels, on
    /// images one pixel wide, one pixel high and wider than high.
    #[test]
    fn integral_sums_are_the_pixels_sums() {
        for (width, height) in [(1, 5), (7, 1), (13, 9)] {
            let image = RgbImage::from_fn(width, height, |x, y| {
                image::Rgb([(x * 37 + y * 11) as u8, (x * y * 7 + 200) as u8, 255])
            });
            let integral = Integral::new(&image);
            let (width, height) = (width as usize, height as usize);
            for (x0, y0) in [(0, 0), (0, height / 2), (width / 2, 0)] {
                for (x1, y1) in [(width, height), (x0 + 1, y0 + 1), (width, y0 + 1)] {
                    let mut expected = [0u32; 3];
                    for y in y0..y1 {
                        for x in x0..x1 {
                            let pixel = image.get_pixel(x as u32, y as u32).0;
                            for channel in 0..3 {
                                expected[channel] += u32::from(pixel[channel]);
                            }
                        }
                    }
                    assert_eq!(
                        integral.sum(x0, y0, x1, y1),
                        expected,
                        "{x0},{y0}..{x1},{y1}"
                    );
                }
            }
        }
    }

    /// `sample_view` works whole rows at once; every value must be what `view_pixel` gives
    /// for that pixel alone: for views whose pixels cover under one, one and a half, exactly
    /// two and several image pixels, inside the image and reaching past its edges.
    #[test]
    fn sampled_views_give_each_pixels_own_value() {
        let (width, height) = (97u32, 61u32);
        let image = RgbImage::from_fn(width, height, |x, y| {
            let v = x
                .wrapping_mul(2_654_435_761)
                .wrapping_add(y.wrapping_mul(40_503));
            image::Rgb([(v >> 3) as u8, (v >> 11) as u8, (v >> 19) as u8])
        });
        let integral = Integral::new(&image);
        for (left, top, side, columns) in [
            (10.0, 5.0, 30.0, 48),
            (-20.0, -12.0, 140.0, 128),
            (0.0, 0.0, 97.0, 64),
            (3.5, 1.25, 64.0, 32),
            (-30.0, 20.0, 96.0, 35),
            (40.0, -50.0, 160.0, 32),
            (-200.0, -200.0, 100.0, 16),
        ] {
            let view = View::square(left, top, side);
            let mut out = vec![f32::NAN; 3 * columns * columns];
            sample_view(&image, &integral, view, (columns, columns), &mut out);
            let step = side / columns as f32;
            for (index, got) in out.chunks_exact(3).enumerate() {
                let x = Span::new(left + (index % columns) as f32 * step, step, width as usize);
                let y = Span::new(top + (index / columns) as f32 * step, step, height as usize);
                let mut expected = [0.0f32; 3];
                view_pixel(&image, &integral, (&x, &y), step, &mut expected);
                let bits = |values: &[f32]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(got),
                    bits(&expected),
                    "view {left},{top},{side}: {index}"
                );
            }
        }
    }

    #[test]
    fn detector_is_shareable() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<FaceDetector>();
    }

    #[test]
    fn tiny_and_degenerate_images_give_no_faces() {
        let detector = FaceDetector::new().expect("the embedded models load");
        for (width, height) in [(1, 1), (1, 500), (39, 39), (40, 40), (3000, 2)] {
            let image = DynamicImage::new_luma8(width, height);
            assert!(detector.detect(&image).is_empty(), "{width}×{height}");
        }
    }

    #[test]
    fn invalid_settings_are_refused() {
        for settings in [
            DetectorSettings {
                score_threshold: 1.5,
                ..DetectorSettings::default()
            },
            DetectorSettings {
                padded_view: 0.5,
                ..DetectorSettings::default()
            },
            DetectorSettings {
                merge_overlap: f32::NAN,
                ..DetectorSettings::default()
            },
            DetectorSettings {
                skip_large_view_above: 0.0,
                ..DetectorSettings::default()
            },
            DetectorSettings {
                candidate_threshold: -0.1,
                ..DetectorSettings::default()
            },
            DetectorSettings {
                close_up_side: 0.5,
                ..DetectorSettings::default()
            },
            DetectorSettings {
                close_up_score: 0.0,
                ..DetectorSettings::default()
            },
            DetectorSettings {
                second_look_threshold: Some(1.5),
                ..DetectorSettings::default()
            },
            DetectorSettings {
                second_look_threshold: Some(f32::NAN),
                ..DetectorSettings::default()
            },
            DetectorSettings {
                second_look_side: 8,
                ..DetectorSettings::default()
            },
            DetectorSettings {
                upright_check_below: f32::NAN,
                ..DetectorSettings::default()
            },
            DetectorSettings {
                upright_margin: -0.1,
                ..DetectorSettings::default()
            },
            DetectorSettings {
                upright_close_up: 0.5,
                ..DetectorSettings::default()
            },
            DetectorSettings {
                onet_confirm: Some(1.5),
                ..DetectorSettings::default()
            },
            DetectorSettings {
                onet_veto: Some(f32::NAN),
                ..DetectorSettings::default()
            },
        ] {
            assert!(matches!(
                FaceDetector::with_settings(settings),
                Err(DetectorError::InvalidSettings(_))
            ));
        }
    }

    #[test]
    fn a_detection_in_a_turned_square_turns_back_onto_the_same_pixels() {
        // A 4×4 picture whose pixels say where they are; a "detection" of the pixel at
        // (x, y) of each turned copy, turned back, must cover the pixel it was copied from.
        let side = 4;
        let picture: Vec<f32> = (0..side * side)
            .flat_map(|index| [(index % side) as f32, (index / side) as f32, 0.0])
            .collect();
        let mut turned = vec![0.0; picture.len()];
        for turns in 0..4 {
            turn_square(&picture, side, turns, &mut turned);
            for (x, y) in [(0, 0), (3, 0), (1, 2), (3, 3)] {
                let at = 3 * (y * side + x);
                let (from_x, from_y) = (turned[at], turned[at + 1]);
                let pixel = Detection {
                    keypoints: [((x as f32 + 0.5) / 4.0, (y as f32 + 0.5) / 4.0); KEYPOINTS],
                    ..square(x as f32 / 4.0, y as f32 / 4.0, 0.25)
                };
                let back = turn_back(&pixel, turns, (1.0, 1.0));
                assert_eq!(
                    (
                        back.x_min * 4.0,
                        back.y_min * 4.0,
                        back.x_max * 4.0,
                        back.y_max * 4.0
                    ),
                    (from_x, from_y, from_x + 1.0, from_y + 1.0),
                    "{turns} turns, pixel ({x}, {y})"
                );
                assert_eq!(
                    back.keypoints[0],
                    ((from_x + 0.5) / 4.0, (from_y + 0.5) / 4.0)
                );
            }
        }
        // A quarter turn clockwise puts the top-left pixel at the top right.
        turn_square(&picture, side, 1, &mut turned);
        assert_eq!(&turned[3 * 3..3 * 3 + 2], &[0.0, 0.0]);
    }

    #[test]
    fn a_detection_in_a_turned_photo_turns_back_onto_the_same_pixels() {
        // A 3×2 photo (not square, so that width and height cannot be swapped unnoticed)
        // whose pixels say where they are, turned by `turn` as the turned search turns the
        // working copy; a detection of one pixel of each turned copy, turned back, must
        // cover the pixel it was copied from, in the photo's own pixels.
        let photo = RgbImage::from_fn(3, 2, |x, y| image::Rgb([x as u8, y as u8, 0]));
        for turns in 1..4 {
            let turned = turn(&photo, turns);
            for (x, y, pixel) in turned.enumerate_pixels() {
                let (from_x, from_y) = (f32::from(pixel[0]), f32::from(pixel[1]));
                let found = Detection {
                    keypoints: [(x as f32 + 0.5, y as f32 + 0.5); KEYPOINTS],
                    ..square(x as f32, y as f32, 1.0)
                };
                let back = turn_back(&found, turns, (3.0, 2.0));
                assert_eq!(
                    (back.x_min, back.y_min, back.x_max, back.y_max),
                    (from_x, from_y, from_x + 1.0, from_y + 1.0),
                    "{turns} turns, pixel ({x}, {y})"
                );
                assert_eq!(back.keypoints[0], (from_x + 0.5, from_y + 0.5));
            }
        }
    }

    fn square(x: f32, y: f32, side: f32) -> Detection {
        Detection {
            x_min: x,
            y_min: y,
            x_max: x + side,
            y_max: y + side,
            keypoints: [(x, y); KEYPOINTS],
            score: 0.5,
        }
    }

    #[test]
    fn a_candidate_inside_or_over_a_face_found_is_not_new() {
        let found = [square(100.0, 100.0, 200.0)];
        // Its own box, slightly moved: overlapping.
        assert!(!is_new(&square(110.0, 105.0, 190.0), &found, 0.3));
        // A small box on the face (an eye, say): inside it.
        assert!(!is_new(&square(150.0, 150.0, 40.0), &found, 0.3));
        // Beside the face, or overlapping its edge with its centre outside: a new face.
        assert!(is_new(&square(350.0, 100.0, 60.0), &found, 0.3));
        assert!(is_new(&square(280.0, 280.0, 60.0), &found, 0.3));
        assert!(is_new(&square(0.0, 0.0, 50.0), &[], 0.3));
    }

    #[test]
    fn clamped_box_stays_inside() {
        let face = FaceBox {
            x: -10,
            y: 5,
            width: 50,
            height: 50,
            score: 0.9,
            landmarks: None,
        };
        let inside = face.clamped(30, 40);
        assert_eq!(
            (inside.x, inside.y, inside.width, inside.height),
            (0, 5, 30, 35)
        );
    }

    #[test]
    fn working_copy_averages_blocks_of_every_layout() {
        let rgb = RgbImage::from_fn(8, 4, |x, _| image::Rgb([(x * 30) as u8, 100, 7]));
        let small = working_copy(&DynamicImage::ImageRgb8(rgb.clone()), 4);
        assert_eq!(small.dimensions(), (4, 2));
        assert_eq!(small.get_pixel(0, 0).0, [15, 100, 7]);
        let rgba = DynamicImage::ImageRgb8(rgb).to_rgba8();
        assert_eq!(working_copy(&DynamicImage::ImageRgba8(rgba), 4), small);
        let grey = DynamicImage::new_luma8(5, 5);
        assert_eq!(working_copy(&grey, 640).get_pixel(4, 4).0, [0, 0, 0]);
    }

    #[test]
    fn a_turned_close_up_turns_the_picture_under_it() {
        // Dark on the left, light on the right; a close-up of the middle square turned a
        // quarter clockwise (as for a face whose eyes slope down by 90°) has the light half
        // on top.
        let image = RgbImage::from_fn(64, 64, |x, _| image::Rgb([if x < 32 { 0 } else { 255 }; 3]));
        let integral = Integral::new(&image);
        let view = View::square(16.0, 16.0, 32.0);
        let side = 8;
        let mean =
            |pixels: &[f32], rows: std::ops::Range<usize>, columns: std::ops::Range<usize>| {
                let values: Vec<f32> = rows
                    .flat_map(|row| columns.clone().map(move |column| (row, column)))
                    .map(|(row, column)| pixels[3 * (row * side + column)])
                    .collect();
                values.iter().sum::<f32>() / values.len() as f32
            };
        let mut level = vec![0.0f32; 3 * side * side];
        sample_turned(&image, &integral, &view, 0.0, side, &mut level);
        assert_eq!(mean(&level, 0..side, 0..side / 2), -1.0);
        assert_eq!(mean(&level, 0..side, side / 2..side), 1.0);
        let mut turned = vec![0.0f32; 3 * side * side];
        sample_turned(
            &image,
            &integral,
            &view,
            std::f32::consts::FRAC_PI_2,
            side,
            &mut turned,
        );
        assert_eq!(mean(&turned, 0..side / 2, 0..side), 1.0);
        assert_eq!(mean(&turned, side / 2..side, 0..side), -1.0);
        // Past the photo's edge the close-up is the border level.
        let mut outside = vec![0.0f32; 3 * side * side];
        sample_turned(
            &image,
            &integral,
            &View::square(-64.0, 0.0, 32.0),
            0.3,
            side,
            &mut outside,
        );
        assert!(outside.iter().all(|&value| value == BORDER_LEVEL));
    }

    #[test]
    fn eye_roll_is_zero_for_level_eyes() {
        let mut landmarks = Landmarks::from_six([(0.0, 0.0); KEYPOINTS]);
        landmarks.right_eye = (10.0, 50.0);
        landmarks.left_eye = (30.0, 50.0);
        assert_eq!(landmarks.eye_roll(), 0.0);
        landmarks.left_eye = (30.0, 70.0);
        assert!((landmarks.eye_roll() - std::f32::consts::FRAC_PI_4).abs() < 1e-6);
    }
}
