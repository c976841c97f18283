//! Data augmentation of 48×48 grey faces: random affine warp (shift, rotation, scale),
//! horizontal flip, brightness/contrast jitter and random erasing. Works on grey levels, so the
//! augmented face then goes through the one shared preprocessing like any other face.

use expression::{FACE_PIXELS, FACE_SIDE};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// How strongly faces are perturbed during training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugmentConfig {
    /// Largest shift as a fraction of the side.
    pub max_shift: f32,
    /// Largest rotation in degrees.
    pub max_rotation_degrees: f32,
    /// Largest relative change of scale.
    pub max_scale: f32,
    /// Largest multiplicative contrast change.
    pub max_contrast: f32,
    /// Largest brightness shift in grey levels.
    pub max_brightness: f32,
    /// Probability of erasing a random rectangle.
    pub erase_probability: f32,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        Self {
            max_shift: 0.1,
            max_rotation_degrees: 15.0,
            max_scale: 0.15,
            max_contrast: 0.3,
            max_brightness: 25.0,
            erase_probability: 0.5,
        }
    }
}

/// Writes a randomly perturbed copy of `face` into `out`.
pub fn augment(
    face: &[u8; FACE_PIXELS],
    config: &AugmentConfig,
    rng: &mut impl Rng,
    out: &mut [u8; FACE_PIXELS],
) {
    let side = FACE_SIDE as f32;
    let centre = (side - 1.0) / 2.0;
    let angle = rng.random_range(-1.0..=1.0) * config.max_rotation_degrees.to_radians();
    let scale = 1.0 + rng.random_range(-1.0..=1.0) * config.max_scale;
    let shift_x = rng.random_range(-1.0..=1.0) * config.max_shift * side;
    let shift_y = rng.random_range(-1.0..=1.0) * config.max_shift * side;
    let flip = rng.random_bool(0.5);
    let contrast = 1.0 + rng.random_range(-1.0..=1.0) * config.max_contrast;
    let brightness = rng.random_range(-1.0..=1.0) * config.max_brightness;

    // Inverse mapping: for each output pixel, where in the source does it come from?
    let (sin, cos) = angle.sin_cos();
    let inverse_scale = 1.0 / scale;
    let mean = face.iter().map(|&v| f32::from(v)).sum::<f32>() / FACE_PIXELS as f32;
    for y in 0..FACE_SIDE {
        for x in 0..FACE_SIDE {
            let out_x = if flip {
                side - 1.0 - x as f32
            } else {
                x as f32
            };
            let dx = out_x - centre - shift_x;
            let dy = y as f32 - centre - shift_y;
            let source_x = (cos * dx + sin * dy) * inverse_scale + centre;
            let source_y = (-sin * dx + cos * dy) * inverse_scale + centre;
            let value = bilinear(face, source_x, source_y);
            let value = (value - mean) * contrast + mean + brightness;
            out[y * FACE_SIDE + x] = value.round().clamp(0.0, 255.0) as u8;
        }
    }

    if rng.random_bool(f64::from(config.erase_probability)) {
        let area = rng.random_range(0.02..0.2) * side * side;
        let aspect: f32 = rng.random_range(0.3f32..3.3).ln();
        let aspect = aspect.exp();
        let width = ((area * aspect).sqrt().round() as usize).clamp(1, FACE_SIDE);
        let height = ((area / aspect).sqrt().round() as usize).clamp(1, FACE_SIDE);
        let left = rng.random_range(0..=FACE_SIDE - width);
        let top = rng.random_range(0..=FACE_SIDE - height);
        for y in top..top + height {
            for x in left..left + width {
                out[y * FACE_SIDE + x] = rng.random();
            }
        }
    }
}

/// Bilinear sample with edge replication.
fn bilinear(face: &[u8; FACE_PIXELS], x: f32, y: f32) -> f32 {
    let max = (FACE_SIDE - 1) as f32;
    let x = x.clamp(0.0, max);
    let y = y.clamp(0.0, max);
    let x0 = x.floor() as usize;
    let y0 = y.floor() as usize;
    let x1 = (x0 + 1).min(FACE_SIDE - 1);
    let y1 = (y0 + 1).min(FACE_SIDE - 1);
    let fx = x - x0 as f32;
    let fy = y - y0 as f32;
    let at = |xx: usize, yy: usize| f32::from(face[yy * FACE_SIDE + xx]);
    let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
    let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
    top * (1.0 - fy) + bottom * fy
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn no_perturbation_is_the_identity_or_its_mirror() {
        let face: [u8; FACE_PIXELS] = std::array::from_fn(|i| (i % 251) as u8);
        let config = AugmentConfig {
            max_shift: 0.0,
            max_rotation_degrees: 0.0,
            max_scale: 0.0,
            max_contrast: 0.0,
            max_brightness: 0.0,
            erase_probability: 0.0,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mirrored = expression::mirror(&face);
        for _ in 0..8 {
            let mut out = [0; FACE_PIXELS];
            augment(&face, &config, &mut rng, &mut out);
            assert!(out == face || out == mirrored);
        }
    }

    #[test]
    fn same_seed_same_augmentation() {
        let face: [u8; FACE_PIXELS] = std::array::from_fn(|i| (i * 7 % 256) as u8);
        let run = |seed| {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let mut out = [0; FACE_PIXELS];
            augment(&face, &AugmentConfig::default(), &mut rng, &mut out);
            out
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5), run(6));
    }
}
