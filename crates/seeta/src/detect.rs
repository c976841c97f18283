//! The funnel: boosted LAB classifiers over every window of an image pyramid, then MLP stages
//! that refine and re-score the surviving windows on the full-resolution image.

use std::cmp::Ordering;

use crate::lab::LabFeatureMap;
use crate::model::Model;
use crate::pyramid::resize;
use crate::surf::{MlpScratch, SurfFeatureMap};

/// The side of the square window every classifier sees.
pub const WINDOW: u32 = 40;
const WINDOW_SIDE: usize = WINDOW as usize;

/// How a search is run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Faces scoring below this are dropped (the engine's scores; 2.0 is a cautious choice).
    pub score_threshold: f64,
    /// Ratio between successive pyramid levels, in [0.01, 0.99].
    pub pyramid_scale_factor: f32,
    /// Step of the sliding window, in pixels of each level (at least 1).
    pub window_step: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            score_threshold: 2.0,
            pyramid_scale_factor: 0.8,
            window_step: 4,
        }
    }
}

/// Settings outside their ranges.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid detector settings: {0}")]
pub struct SettingsError(pub &'static str);

/// A face found: a square box in image pixels (it may reach past the edges) and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    /// Left edge.
    pub x: i32,
    /// Top edge.
    pub y: i32,
    /// Width and height.
    pub side: u32,
    /// The last stage's score summed over the windows merged into this one.
    pub score: f64,
}

/// A face detector: the parsed model and settings. It keeps no state between searches, so one
/// detector serves any number of threads.
#[derive(Debug, Clone)]
pub struct Detector {
    model: Model,
    settings: Settings,
}

impl Detector {
    /// A detector searching with `settings`.
    pub fn new(model: Model, settings: Settings) -> Result<Self, SettingsError> {
        if settings.score_threshold.is_nan() || settings.score_threshold <= 0.0 {
            return Err(SettingsError("score_threshold must be positive"));
        }
        if !(0.01..=0.99).contains(&settings.pyramid_scale_factor) {
            return Err(SettingsError(
                "pyramid_scale_factor must lie in [0.01, 0.99]",
            ));
        }
        if settings.window_step == 0 {
            return Err(SettingsError("window_step must be positive"));
        }
        Ok(Self { model, settings })
    }

    /// The settings this detector searches with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Finds the faces of at least 40 pixels in a grey image (`width` × `height` bytes, row by
    /// row). An image smaller than the window, or whose length does not match its size, has none.
    pub fn detect(&self, pixels: &[u8], width: u32, height: u32) -> Vec<Face> {
        let Some(image) = Grey::new(pixels, width, height) else {
            return Vec::new();
        };
        let proposals = self.scan_pyramid(&image, |_| true);
        self.finish(&image, proposals, None)
    }

    /// Like [`Detector::detect`], but searches the coarse pyramid levels first: those whose
    /// window covers at least half of `accept_side` image pixels. When they yield a face at least
    /// `accept_side` pixels wide, their faces are the answer and the finer levels are never
    /// searched, so smaller faces beside such a large one are not reported. Otherwise the finer
    /// levels are searched as well and the result is exactly that of [`Detector::detect`], for
    /// little extra work: the MLP stages do not judge again a window they judged in the first
    /// pass.
    ///
    /// A close-up (a selfie, a webcam frame) is found at a fraction of a full search's cost,
    /// while a photo with only small faces, or none, costs little more than one.
    pub fn detect_large_first(
        &self,
        pixels: &[u8],
        width: u32,
        height: u32,
        accept_side: u32,
    ) -> Vec<Face> {
        let Some(image) = Grey::new(pixels, width, height) else {
            return Vec::new();
        };
        let coarse_side = accept_side.div_ceil(2);
        let coarse = self.scan_pyramid(&image, |side| side >= coarse_side);
        let mut judged = Memo::new();
        let faces = self.finish(&image, coarse.clone(), Some(&mut judged));
        if faces.iter().any(|face| face.side >= accept_side) {
            return faces;
        }
        // The full scan visits the fine levels first; keep its order so that ties break alike.
        let mut proposals = self.scan_pyramid(&image, |side| side < coarse_side);
        for (fine, coarse) in proposals.iter_mut().zip(coarse) {
            fine.extend(coarse);
        }
        self.finish(&image, proposals, Some(&mut judged))
    }

    /// Every pyramid level's windows through the MLP hierarchies: the faces scoring at least
    /// the threshold.
    fn finish(
        &self,
        image: &Grey<'_>,
        proposals: Vec<Vec<Candidate>>,
        mut memo: Option<&mut Memo>,
    ) -> Vec<Face> {
        let mut candidates: Vec<Vec<Candidate>> = proposals
            .into_iter()
            .map(|found| non_maximum_suppression(found, SAME_WINDOW_OVERLAP))
            .collect();
        let mut scratch = RefineScratch::default();
        for (index, hierarchy) in self.model.hierarchies.iter().enumerate() {
            let last = index + 1 == self.model.hierarchies.len();
            let mut refined = Vec::with_capacity(hierarchy.len());
            for (refiner_index, refiner) in hierarchy.iter().enumerate() {
                let mut windows: Vec<Candidate> = refiner
                    .sources
                    .iter()
                    .flat_map(|&source| candidates[source].iter().copied())
                    .collect();
                for (stage_index, stage) in refiner.stages.iter().enumerate() {
                    let stage_id = (index, refiner_index, stage_index);
                    let memo = memo.as_deref_mut().map(|judged| (judged, stage_id));
                    windows = refine(image, windows, stage, &mut scratch, memo);
                    if stage_index + 1 < refiner.stages.len() {
                        windows = non_maximum_suppression(windows, SAME_WINDOW_OVERLAP);
                    } else if last {
                        windows = non_maximum_suppression(windows, SAME_FACE_OVERLAP);
                    }
                }
                refined.push(windows);
            }
            candidates = refined;
        }
        candidates
            .into_iter()
            .next()
            .unwrap_or_default()
            .into_iter()
            .filter(|candidate| candidate.score >= self.settings.score_threshold)
            .map(|candidate| Face {
                x: candidate.x,
                y: candidate.y,
                side: candidate.side,
                score: candidate.score,
            })
            .collect()
    }

    /// The first hierarchy: every window of the pyramid levels whose window side (in image
    /// pixels) passes `level_wanted`, through each boosted classifier; per classifier, the
    /// windows it keeps, finest level first.
    fn scan_pyramid(
        &self,
        image: &Grey<'_>,
        level_wanted: impl Fn(u32) -> bool,
    ) -> Vec<Vec<Candidate>> {
        let classifiers = &self.model.window_classifiers;
        let mut proposals = vec![Vec::new(); classifiers.len()];
        let min_scale = WINDOW as f32 / image.width.min(image.height) as f32;
        let step = self.settings.window_step as usize;
        let mut level = Vec::new();
        let mut features = LabFeatureMap::default();
        let mut scale = 1.0f32;
        while scale >= min_scale {
            let level_width = (image.width as f32 * scale) as usize;
            let level_height = (image.height as f32 * scale) as usize;
            let side = (WINDOW as f32 / scale + 0.5) as u32;
            // f32 rounding can leave a last level just under the window: it holds no window.
            if level_width >= WINDOW_SIDE && level_height >= WINDOW_SIDE && level_wanted(side) {
                resize(
                    image.pixels,
                    image.width,
                    image.height,
                    level_width,
                    level_height,
                    &mut level,
                );
                features.compute(&level, level_width, level_height);
                let offsets: Vec<Vec<usize>> = classifiers
                    .iter()
                    .map(|classifier| classifier.offsets(level_width))
                    .collect();
                for y in (0..=level_height - WINDOW_SIDE).step_by(step) {
                    for x in (0..=level_width - WINDOW_SIDE).step_by(step) {
                        for ((classifier, offsets), found) in
                            classifiers.iter().zip(&offsets).zip(&mut proposals)
                        {
                            if let Some(score) =
                                classifier.classify(&features, offsets, x, y, WINDOW_SIDE)
                            {
                                found.push(Candidate {
                                    x: (x as f32 / scale + 0.5) as i32,
                                    y: (y as f32 / scale + 0.5) as i32,
                                    side,
                                    score: f64::from(score),
                                });
                            }
                        }
                    }
                }
            }
            scale *= self.settings.pyramid_scale_factor;
        }
        proposals
    }
}

/// A grey image.
struct Grey<'a> {
    pixels: &'a [u8],
    width: usize,
    height: usize,
}

impl<'a> Grey<'a> {
    /// The image, or `None` when it is smaller than the window or its length does not match.
    fn new(pixels: &'a [u8], width: u32, height: u32) -> Option<Self> {
        let (width, height) = (width as usize, height as usize);
        (width >= WINDOW_SIDE && height >= WINDOW_SIDE && pixels.len() == width * height).then_some(
            Self {
                pixels,
                width,
                height,
            },
        )
    }

    /// The `side` × `side` square at (x, y), black outside the image, resized to the window.
    fn window(&self, x: i32, y: i32, side: usize, crop: &mut Vec<u8>, out: &mut Vec<u8>) {
        crop.clear();
        let inside =
            x >= 0 && y >= 0 && x as usize + side <= self.width && y as usize + side <= self.height;
        if inside {
            for row in y as usize..y as usize + side {
                let start = row * self.width + x as usize;
                crop.extend_from_slice(&self.pixels[start..start + side]);
            }
            resize(crop, side, side, WINDOW_SIDE, WINDOW_SIDE, out);
            return;
        }
        crop.resize(side * side, 0);
        for (row, line) in crop.chunks_exact_mut(side).enumerate() {
            let Some(source_y) = usize::try_from(i64::from(y) + row as i64)
                .ok()
                .filter(|&source_y| source_y < self.height)
            else {
                continue;
            };
            let source = &self.pixels[source_y * self.width..(source_y + 1) * self.width];
            // Columns of the square that fall inside the image.
            let first = usize::try_from(-i64::from(x)).unwrap_or(0).min(side);
            let last = usize::try_from(self.width as i64 - i64::from(x))
                .unwrap_or(0)
                .min(side);
            if first < last {
                let start = (i64::from(x) + first as i64) as usize;
                line[first..last].copy_from_slice(&source[start..start + (last - first)]);
            }
        }
        resize(crop, side, side, WINDOW_SIDE, WINDOW_SIDE, out);
    }
}

/// A window on its way through the funnel, in the coordinates of the full image.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    x: i32,
    y: i32,
    side: u32,
    score: f64,
}

/// Runs one MLP stage on every window: the windows it accepts, moved and resized by its
/// regression and carrying its score. With a memo, a window this stage has judged before (in an
/// earlier pass of the same search) is not judged again.
fn refine(
    image: &Grey<'_>,
    windows: Vec<Candidate>,
    stage: &crate::surf::MlpClassifier,
    scratch: &mut RefineScratch,
    mut memo: Option<(&mut Memo, StageId)>,
) -> Vec<Candidate> {
    let mut kept = Vec::with_capacity(windows.len());
    for candidate in windows {
        let verdict = match memo.as_mut() {
            Some((judged, stage_id)) => *judged
                .entry((*stage_id, candidate.x, candidate.y, candidate.side))
                .or_insert_with(|| judge(image, candidate, stage, scratch)),
            None => judge(image, candidate, stage, scratch),
        };
        kept.extend(verdict);
    }
    kept
}

/// Which MLP stage of the model: hierarchy, refiner and stage indices.
type StageId = (usize, usize, usize);

/// What the MLP stages of one search said of each window they saw: a window's verdict depends
/// only on its place and size in the image.
type Memo = std::collections::HashMap<(StageId, i32, i32, u32), Option<Candidate>>;

/// One MLP stage's verdict on one window: `None` when it rejects it, otherwise the window moved
/// and resized by the stage's regression, with the stage's score.
fn judge(
    image: &Grey<'_>,
    candidate: Candidate,
    stage: &crate::surf::MlpClassifier,
    scratch: &mut RefineScratch,
) -> Option<Candidate> {
    let RefineScratch {
        features,
        mlp,
        crop,
        window,
    } = scratch;
    let side = candidate.side as i32;
    if candidate.x + side <= 0 || candidate.y + side <= 0 || candidate.side < 2 {
        return None;
    }
    image.window(
        candidate.x,
        candidate.y,
        candidate.side as usize,
        crop,
        window,
    );
    let output = stage.classify(window, features, mlp);
    if !output.positive {
        return None;
    }
    // The engine moves a window that reaches past the top or left edge inside before
    // regressing it (its crop routine clamps the box it is given); kept for fidelity.
    let (x, y) = (candidate.x.max(0) as f32, candidate.y.max(0) as f32);
    let size = candidate.side as f32;
    let [shift_x, shift_y, scale] = output.regression;
    let new_side = ((scale * 2.0 - 1.0) * size + size + 0.5).floor();
    Some(Candidate {
        x: ((shift_x * 2.0 - 1.0) * size + x + (size - new_side) * 0.5 + 0.5).floor() as i32,
        y: ((shift_y * 2.0 - 1.0) * size + y + (size - new_side) * 0.5 + 0.5).floor() as i32,
        side: new_side as u32,
        score: f64::from(output.score),
    })
}

/// Buffers the MLP stages of one search reuse from window to window and stage to stage.
#[derive(Default)]
struct RefineScratch {
    features: SurfFeatureMap,
    mlp: MlpScratch,
    crop: Vec<u8>,
    window: Vec<u8>,
}

/// Overlap (intersection over union) above which two windows of the same pyramid pass are one
/// face: applied to each boosted classifier's proposals and between the MLP stages of a
/// refiner, so that near-identical windows are not scored twice. SeetaFace's value.
const SAME_WINDOW_OVERLAP: f32 = 0.8;

/// Overlap above which two windows that passed the last stage are the same face, merged (with
/// their scores added) into the best-scoring one. SeetaFace's value: lower merges more.
const SAME_FACE_OVERLAP: f32 = 0.3;

/// Greedy non-maximum suppression: the best-scoring window absorbs every later one that
/// overlaps it by more than `threshold` (intersection over union) and adds up their scores.
fn non_maximum_suppression(mut windows: Vec<Candidate>, threshold: f32) -> Vec<Candidate> {
    windows.sort_by(|a, b| b.score.partial_cmp(&a.score).unwrap_or(Ordering::Equal));
    let mut merged = vec![false; windows.len()];
    let mut kept = Vec::new();
    for index in 0..windows.len() {
        if merged[index] {
            continue;
        }
        merged[index] = true;
        let best = windows[index];
        let mut score = best.score;
        let side = best.side as i32;
        let area = (best.side * best.side) as f32;
        let (right, bottom) = (best.x + side - 1, best.y + side - 1);
        for (other, merged) in windows.iter().zip(&mut merged).skip(index + 1) {
            if *merged {
                continue;
            }
            let other_side = other.side as i32;
            let left = best.x.max(other.x);
            let top = best.y.max(other.y);
            let width = right.min(other.x + other_side - 1) - left + 1;
            let height = bottom.min(other.y + other_side - 1) - top + 1;
            if width <= 0 || height <= 0 {
                continue;
            }
            let other_area = (other.side * other.side) as f32;
            let intersection = (width * height) as f32;
            if intersection / (area + other_area - intersection) > threshold {
                *merged = true;
                score += other.score;
            }
        }
        kept.push(Candidate { score, ..best });
    }
    kept
}
