//! MediaPipe's BlazeFace face detectors: the networks (see [`network`]), the SSD anchors they
//! predict against, the decoding of boxes and six keypoints, and the weighted non-maximum
//! suppression MediaPipe applies. Everything here works in the coordinates of one square
//! network input, normalised to 0..1; `detect.rs` chooses the views of a photo and maps back.

pub(crate) mod network;

use network::{Network, NetworkError};

/// Number of keypoints BlazeFace predicts per face.
pub const KEYPOINTS: usize = 6;
/// Values per anchor in the regressor output: box (4) and keypoints (2 each).
const COORDS: usize = 4 + 2 * KEYPOINTS;

/// The two converted models, embedded (see `models/blazeface/SOURCE.md`).
pub(crate) const SHORT_RANGE: &[u8] =
    include_bytes!("../../../../models/blazeface/face_detection_short_range.safetensors");
/// The full-range model (192×192, faces up to a few metres away).
pub(crate) const FULL_RANGE: &[u8] =
    include_bytes!("../../../../models/blazeface/face_detection_full_range.safetensors");

/// Which of MediaPipe's two face detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlazeModel {
    /// 128×128 input, for faces that fill a good part of the frame (selfies, portraits).
    ShortRange,
    /// 192×192 input, for smaller faces (group photos, people further away).
    FullRange,
}

/// An SSD anchor: a centre in normalised input coordinates (the anchors of both models have a
/// fixed size of 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Anchor {
    pub x: f32,
    pub y: f32,
}

/// MediaPipe's `SsdAnchorsCalculator` options that differ between the two models.
#[derive(Debug)]
struct AnchorOptions {
    side: usize,
    strides: &'static [usize],
    min_scale: f32,
    max_scale: f32,
    /// Whether each layer also gets the anchor between its scale and the next one's (aspect
    /// ratio 1); the anchors' sizes are fixed, so this only doubles the anchors per cell.
    interpolated: bool,
}

const SHORT_RANGE_ANCHORS: AnchorOptions = AnchorOptions {
    side: 128,
    strides: &[8, 16, 16, 16],
    min_scale: 0.148_437_5,
    max_scale: 0.75,
    interpolated: true,
};

const FULL_RANGE_ANCHORS: AnchorOptions = AnchorOptions {
    side: 192,
    strides: &[4],
    min_scale: 0.156_25,
    max_scale: 0.75,
    interpolated: false,
};

/// The anchors of `SsdAnchorsCalculator` with `fixed_anchor_size: true`, in MediaPipe's order:
/// layers with the same stride share one grid; within a cell, the anchors of those layers follow
/// each other (one per aspect ratio, plus the interpolated one).
fn anchors(options: &AnchorOptions) -> Vec<Anchor> {
    anchors_sized(options, options.side, options.side)
}

/// The anchors for an input of `height × width` pixels (a grid of `height / stride` by
/// `width / stride` cells per layer); the square input the model was made for is one case.
fn anchors_sized(options: &AnchorOptions, height: usize, width: usize) -> Vec<Anchor> {
    // Scales only decide how many anchors a cell has, since the sizes are fixed.
    let _ = (options.min_scale, options.max_scale);
    let mut anchors = Vec::new();
    let strides = options.strides;
    let mut layer = 0;
    while layer < strides.len() {
        let mut per_cell = 0;
        let mut last = layer;
        while last < strides.len() && strides[last] == strides[layer] {
            per_cell += 1 + usize::from(options.interpolated);
            last += 1;
        }
        let rows = height.div_ceil(strides[layer]);
        let columns = width.div_ceil(strides[layer]);
        for y in 0..rows {
            for x in 0..columns {
                for _ in 0..per_cell {
                    anchors.push(Anchor {
                        x: (x as f32 + 0.5) / columns as f32,
                        y: (y as f32 + 0.5) / rows as f32,
                    });
                }
            }
        }
        layer = last;
    }
    anchors
}

/// One face found in one network input, in normalised input coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Detection {
    pub x_min: f32,
    pub y_min: f32,
    pub x_max: f32,
    pub y_max: f32,
    /// Right eye, left eye, nose tip, mouth centre, right ear tragion, left ear tragion (the
    /// person's right and left: the right eye is on the image's left in a frontal photo).
    pub keypoints: [(f32, f32); KEYPOINTS],
    /// Sigmoid of the classifier's logit.
    pub score: f32,
}

impl Detection {
    /// The centre of its box.
    pub(crate) fn centre(&self) -> (f32, f32) {
        (
            (self.x_min + self.x_max) / 2.0,
            (self.y_min + self.y_max) / 2.0,
        )
    }

    /// Intersection over union of two boxes.
    pub(crate) fn iou(&self, other: &Detection) -> f32 {
        iou(
            [self.x_min, self.y_min, self.x_max, self.y_max],
            [other.x_min, other.y_min, other.x_max, other.y_max],
        )
    }
}

/// Intersection over union of two boxes given as `[x_min, y_min, x_max, y_max]`.
pub(crate) fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let area = |[x_min, y_min, x_max, y_max]: [f32; 4]| {
        (x_max - x_min).max(0.0) * (y_max - y_min).max(0.0)
    };
    let width = a[2].min(b[2]) - a[0].max(b[0]);
    let height = a[3].min(b[3]) - a[1].max(b[1]);
    if width <= 0.0 || height <= 0.0 {
        return 0.0;
    }
    let intersection = width * height;
    let union = area(a) + area(b) - intersection;
    if union <= 0.0 {
        0.0
    } else {
        intersection / union
    }
}

/// A score from a logit, clipped to ±100 as MediaPipe's calculator clips it.
pub(crate) fn sigmoid(logit: f32) -> f32 {
    1.0 / (1.0 + (-logit.clamp(-100.0, 100.0)).exp())
}

/// A BlazeFace model with its anchors.
#[derive(Debug, Clone)]
pub(crate) struct Blaze {
    network: Network,
    anchors: Vec<Anchor>,
    options: &'static AnchorOptions,
}

impl Blaze {
    /// Loads the embedded model.
    pub(crate) fn embedded(model: BlazeModel) -> Result<Self, NetworkError> {
        match model {
            BlazeModel::ShortRange => Self::new(SHORT_RANGE, &SHORT_RANGE_ANCHORS),
            BlazeModel::FullRange => Self::new(FULL_RANGE, &FULL_RANGE_ANCHORS),
        }
    }

    fn new(bytes: &[u8], options: &'static AnchorOptions) -> Result<Self, NetworkError> {
        let network = Network::from_bytes(bytes)?;
        if network.side() != options.side {
            return Err(NetworkError::Graph(format!(
                "input side {} where {} was expected",
                network.side(),
                options.side
            )));
        }
        Ok(Self {
            network,
            anchors: anchors(options),
            options,
        })
    }

    /// Side of the square input.
    pub(crate) fn side(&self) -> usize {
        self.network.side()
    }

    /// Runs the network on `count` inputs (NHWC, −1..1) and returns, per input, the raw
    /// regressors and logits.
    pub(crate) fn raw(
        &self,
        pixels: Vec<f32>,
        count: usize,
    ) -> Result<network::RawOutput, NetworkError> {
        let raw = self.network.run(pixels, count)?;
        let anchors = self.anchors.len();
        if raw.logits.len() != count * anchors || raw.regressors.len() != count * anchors * COORDS {
            return Err(NetworkError::Graph(format!(
                "{} scores for {count} × {anchors} anchors",
                raw.logits.len()
            )));
        }
        Ok(raw)
    }

    /// Runs the network on `count` inputs and returns the decoded detections scoring at least
    /// `min_score` of each input, before suppression.
    pub(crate) fn detect(
        &self,
        pixels: Vec<f32>,
        count: usize,
        min_score: f32,
    ) -> Result<Vec<Vec<Detection>>, NetworkError> {
        let raw = self.raw(pixels, count)?;
        let anchors = self.anchors.len();
        let scale = self.side() as f32;
        Ok((0..count)
            .map(|input| {
                let logits = &raw.logits[input * anchors..(input + 1) * anchors];
                let regressors =
                    &raw.regressors[input * anchors * COORDS..(input + 1) * anchors * COORDS];
                decode(logits, regressors, &self.anchors, (scale, scale), min_score)
            })
            .collect())
    }

    /// Runs the network on one picture of `height × width` pixels (multiples of 16; see
    /// [`Network::run_sized`]) and returns its detections scoring at least `min_score`, before
    /// suppression, in coordinates normalised to that picture (0..1 on each axis); `None` if
    /// `stop` was set before the network was through.
    pub(crate) fn detect_sized(
        &self,
        pixels: Vec<f32>,
        height: usize,
        width: usize,
        min_score: f32,
        stop: &std::sync::atomic::AtomicBool,
    ) -> Result<Option<Vec<Detection>>, NetworkError> {
        let Some(raw) = self.network.run_sized(pixels, height, width, stop)? else {
            return Ok(None);
        };
        let anchors = anchors_sized(self.options, height, width);
        if raw.logits.len() != anchors.len() || raw.regressors.len() != anchors.len() * COORDS {
            return Err(NetworkError::Graph(format!(
                "{} scores for {} anchors",
                raw.logits.len(),
                anchors.len()
            )));
        }
        Ok(Some(decode(
            &raw.logits,
            &raw.regressors,
            &anchors,
            (width as f32, height as f32),
            min_score,
        )))
    }
}

/// Runs an embedded BlazeFace network on one input given as TFLite takes it (NHWC, side × side ×
/// 3 values in −1..1) and returns its raw outputs: the regressors (16 values per anchor) and the
/// score logits (one per anchor). For checking the converted network against the reference
/// runtime (the `blazeface_reference` example); the detector itself does not need this.
pub fn run_raw(model: BlazeModel, nhwc: &[f32]) -> Result<(Vec<f32>, Vec<f32>), NetworkError> {
    let blaze = Blaze::embedded(model)?;
    let side = blaze.side();
    if nhwc.len() != side * side * 3 {
        return Err(NetworkError::Graph(format!(
            "{} input values where {side}×{side}×3 were expected",
            nhwc.len()
        )));
    }
    let raw = blaze.raw(nhwc.to_vec(), 1)?;
    Ok((raw.regressors, raw.logits))
}

/// MediaPipe's `TensorsToDetectionsCalculator` for these models: scores are the sigmoid of the
/// logits clipped to ±100; box centre and keypoints are offsets from the anchor in input pixels,
/// box size in input pixels. `(scale_x, scale_y)` is the input's width and height.
fn decode(
    logits: &[f32],
    regressors: &[f32],
    anchors: &[Anchor],
    (scale_x, scale_y): (f32, f32),
    min_score: f32,
) -> Vec<Detection> {
    let mut detections = Vec::new();
    for ((logit, values), anchor) in logits
        .iter()
        .zip(regressors.chunks_exact(COORDS))
        .zip(anchors)
    {
        let score = sigmoid(*logit);
        // A NaN score (from a NaN logit) is below every threshold too.
        if score.is_nan() || score < min_score {
            continue;
        }
        let centre_x = values[0] / scale_x + anchor.x;
        let centre_y = values[1] / scale_y + anchor.y;
        let width = values[2] / scale_x;
        let height = values[3] / scale_y;
        if !(width > 0.0 && height > 0.0 && centre_x.is_finite() && centre_y.is_finite()) {
            continue;
        }
        let keypoints = std::array::from_fn(|k| {
            (
                values[4 + 2 * k] / scale_x + anchor.x,
                values[5 + 2 * k] / scale_y + anchor.y,
            )
        });
        detections.push(Detection {
            x_min: centre_x - width / 2.0,
            y_min: centre_y - height / 2.0,
            x_max: centre_x + width / 2.0,
            y_max: centre_y + height / 2.0,
            keypoints,
            score,
        });
    }
    detections
}

/// MediaPipe's weighted non-maximum suppression: the best remaining detection and all others
/// overlapping it by more than `threshold` (intersection over union) become one detection whose
/// box and keypoints are their score-weighted mean and whose score is the best one's.
pub(crate) fn weighted_nms(mut detections: Vec<Detection>, threshold: f32) -> Vec<Detection> {
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept = Vec::new();
    while let Some(best) = detections.first().copied() {
        let (cluster, rest): (Vec<Detection>, Vec<Detection>) = detections
            .into_iter()
            .partition(|detection| detection.iou(&best) > threshold || *detection == best);
        let total: f32 = cluster.iter().map(|d| d.score).sum();
        let mean = |value: &dyn Fn(&Detection) -> f32| {
            cluster.iter().map(|d| value(d) * d.score).sum::<f32>() / total
        };
        kept.push(Detection {
            x_min: mean(&|d| d.x_min),
            y_min: mean(&|d| d.y_min),
            x_max: mean(&|d| d.x_max),
            y_max: mean(&|d| d.y_max),
            keypoints: std::array::from_fn(|k| {
                (mean(&|d| d.keypoints[k].0), mean(&|d| d.keypoints[k].1))
            }),
            score: best.score,
        });
        detections = rest;
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn anchor_counts_match_the_models_outputs() {
        assert_eq!(anchors(&SHORT_RANGE_ANCHORS).len(), 896);
        assert_eq!(anchors(&FULL_RANGE_ANCHORS).len(), 2304);
        let short = anchors(&SHORT_RANGE_ANCHORS);
        // The first grid is 16×16 with two anchors per cell, the second 8×8 with six.
        assert_eq!(
            short[0],
            Anchor {
                x: 0.5 / 16.0,
                y: 0.5 / 16.0
            }
        );
        assert_eq!(short[1], short[0]);
        assert_eq!(short[2].x, 1.5 / 16.0);
        assert_eq!(
            short[512],
            Anchor {
                x: 0.5 / 8.0,
                y: 0.5 / 8.0
            }
        );
        assert_eq!(short[517], short[512]);
        assert_eq!(short[518].x, 1.5 / 8.0);
    }

    fn detection(x: f32, score: f32) -> Detection {
        Detection {
            x_min: x,
            y_min: 0.0,
            x_max: x + 1.0,
            y_max: 1.0,
            keypoints: [(x, 0.5); KEYPOINTS],
            score,
        }
    }

    #[test]
    fn weighted_nms_merges_overlaps_and_keeps_the_rest() {
        let merged = weighted_nms(
            vec![
                detection(0.0, 0.6),
                detection(0.2, 0.9),
                detection(5.0, 0.7),
            ],
            0.3,
        );
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].score, 0.9);
        let expected = (0.2 * 0.9) / 1.5;
        assert!((merged[0].x_min - expected).abs() < 1e-6);
        assert_eq!(merged[1].x_min, 5.0);
    }

    #[test]
    fn both_embedded_models_load() {
        for model in [BlazeModel::ShortRange, BlazeModel::FullRange] {
            let blaze = Blaze::embedded(model).expect("the embedded model loads");
            let side = blaze.side();
            let out = blaze
                .detect(vec![0.0; 2 * 3 * side * side], 2, 0.5)
                .expect("runs");
            assert_eq!(out.len(), 2);
        }
    }

    #[test]
    fn a_wider_input_has_a_wider_grid_and_the_same_answers_for_its_square() {
        // 320×240: a 40×30 grid with two anchors per cell, then 20×15 with six.
        let wide = anchors_sized(&SHORT_RANGE_ANCHORS, 240, 320);
        assert_eq!(wide.len(), 40 * 30 * 2 + 20 * 15 * 6);
        assert_eq!(
            wide[2400],
            Anchor {
                x: 0.5 / 20.0,
                y: 0.5 / 15.0
            }
        );
        let blaze = Blaze::embedded(BlazeModel::ShortRange).expect("the embedded model loads");
        let go = AtomicBool::new(false);
        let found = blaze
            .detect_sized(vec![0.1; 3 * 240 * 320], 240, 320, 0.0, &go)
            .expect("runs")
            .expect("not stopped");
        assert_eq!(found.len(), wide.len());
        // The square input through the sized path gives what the batch path gives.
        let square = blaze
            .detect_sized(vec![0.2; 3 * 128 * 128], 128, 128, 0.0, &go)
            .expect("runs")
            .expect("not stopped");
        let batch = blaze
            .detect(vec![0.2; 3 * 128 * 128], 1, 0.0)
            .expect("runs");
        assert_eq!(square, batch[0]);
        // A run told to stop gives nothing.
        let stop = AtomicBool::new(true);
        assert_eq!(
            blaze
                .detect_sized(vec![0.1; 3 * 240 * 320], 240, 320, 0.0, &stop)
                .expect("runs"),
            None
        );
        // Sides that are not multiples of 16 are refused, not run.
        assert!(
            blaze
                .detect_sized(vec![0.0; 3 * 100 * 100], 100, 100, 0.0, &go)
                .is_err()
        );
    }
}
