//! THE preprocessing of a face crop. Training, evaluation and inference all go through
//! [`faces_to_tensor`], so the network always sees the same numbers for the same face.

use burn::prelude::*;

use crate::{ExpressionError, FACE_PIXELS, FACE_SIDE};

/// Mean grey level of FER-2013 training faces, on the 0..1 scale (`faceinput`'s normalisation).
pub const PIXEL_MEAN: f32 = faceinput::FER2013_NORMALISATION.mean;
/// Standard deviation of FER-2013 training pixels, on the 0..1 scale.
pub const PIXEL_STD: f32 = faceinput::FER2013_NORMALISATION.std;

/// A face as the model takes it: 48×48 grey levels (0..=255), row-major, framed like FER-2013.
#[derive(Clone, PartialEq, Eq)]
pub struct FaceCrop {
    pixels: Box<[u8; FACE_PIXELS]>,
}

impl std::fmt::Debug for FaceCrop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceCrop").finish_non_exhaustive()
    }
}

impl FaceCrop {
    /// A crop from exactly 48×48 = 2304 grey levels, row-major.
    pub fn from_pixels(pixels: &[u8]) -> Result<Self, ExpressionError> {
        let pixels: [u8; FACE_PIXELS] = pixels
            .try_into()
            .map_err(|_| ExpressionError::CropSize(pixels.len()))?;
        Ok(Self {
            pixels: Box::new(pixels),
        })
    }

    /// The grey levels, row-major.
    pub fn pixels(&self) -> &[u8; FACE_PIXELS] {
        &self.pixels
    }

    /// The same face mirrored left to right.
    pub fn mirrored(&self) -> Self {
        Self {
            pixels: Box::new(mirror(&self.pixels)),
        }
    }
}

/// 48×48 grey levels mirrored left to right.
pub fn mirror(pixels: &[u8; FACE_PIXELS]) -> [u8; FACE_PIXELS] {
    let mut out = [0u8; FACE_PIXELS];
    for (row_out, row_in) in out
        .chunks_exact_mut(FACE_SIDE)
        .zip(pixels.chunks_exact(FACE_SIDE))
    {
        for (value, level) in row_out.iter_mut().zip(row_in.iter().rev()) {
            *value = *level;
        }
    }
    out
}

/// Maps one grey level to the network's input scale.
#[inline]
pub fn normalise(level: u8) -> f32 {
    faceinput::FER2013_NORMALISATION.apply(level)
}

/// Writes the normalised values of 48×48 grey levels into `out` (2304 values).
pub fn normalise_into(pixels: &[u8; FACE_PIXELS], out: &mut [f32]) {
    for (value, &level) in out.iter_mut().zip(pixels.iter()) {
        *value = normalise(level);
    }
}

/// The network input `[n, 1, 48, 48]` for a batch of faces given as grey levels.
pub fn faces_to_tensor<'a>(
    faces: impl IntoIterator<Item = &'a [u8; FACE_PIXELS]>,
    device: &Device,
) -> Tensor<4> {
    let mut values = Vec::new();
    for face in faces {
        let start = values.len();
        values.resize(start + FACE_PIXELS, 0.0);
        normalise_into(face, &mut values[start..]);
    }
    let count = values.len() / FACE_PIXELS;
    Tensor::from_data(
        TensorData::new(values, [count, 1, FACE_SIDE, FACE_SIDE]),
        device,
    )
}
