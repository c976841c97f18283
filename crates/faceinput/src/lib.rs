//! The face-input contract: what a face must look like for the expression model to read it.
//!
//! The model was trained on FER-2013, so every face it sees, whether a dataset row, an image in a
//! class folder or a crop from a photo, must match FER-2013: [`FACE_SIDE`]×[`FACE_SIDE`] grey
//! pixels, grey levels computed with the ITU-R BT.601 luma weights ([`luma_bt601`]), and values
//! normalised with the FER-2013 training mean and standard deviation ([`FER2013_NORMALISATION`]).
//!
//! This crate only holds those numbers and the two tiny functions that apply them. It has no
//! dependencies, so that `vision` (the crop), `dataset` (the readers) and `expression` (the
//! network's input) share it without depending on each other. It does not crop, decode or build
//! tensors.

/// Side of a face crop in pixels (FER-2013 faces are 48×48).
pub const FACE_SIDE: usize = 48;

/// Pixels in a face crop.
pub const FACE_PIXELS: usize = FACE_SIDE * FACE_SIDE;

/// The ITU-R BT.601 luma weights of red, green and blue: the grey of FER-2013 (`image`'s own
/// `to_luma8` uses the BT.709 weights instead).
pub const BT601_WEIGHTS: [f64; 3] = [0.299, 0.587, 0.114];

/// [`BT601_WEIGHTS`] in 16-bit fixed point, as [`luma_bt601`] applies them. They add up to
/// exactly 65536, so white stays 255.
pub const BT601_FIXED_POINT: [u32; 3] = [19_595, 38_470, 7_471];

/// BT.601 luma of one 8-bit RGB pixel, rounded to the nearest grey level. Every colour pixel
/// that reaches the model, from a photo or from a dataset image, is converted here.
#[inline]
pub fn luma_bt601(red: u8, green: u8, blue: u8) -> u8 {
    let [red_weight, green_weight, blue_weight] = BT601_FIXED_POINT;
    let weighted = red_weight * u32::from(red)
        + green_weight * u32::from(green)
        + blue_weight * u32::from(blue);
    // At most 255 × 65536 + 32768 >> 16 = 255: always fits.
    ((weighted + 32_768) >> 16) as u8
}

/// How grey levels become network input: `(level / 255 - mean) / std`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalisation {
    /// Mean grey level of the training faces, on the 0..1 scale.
    pub mean: f32,
    /// Standard deviation of the training pixels, on the 0..1 scale.
    pub std: f32,
}

/// The normalisation the shipped model was trained with: the mean and standard deviation of the
/// FER-2013 training pixels.
pub const FER2013_NORMALISATION: Normalisation = Normalisation {
    mean: 0.5077,
    std: 0.2550,
};

impl Normalisation {
    /// Maps one grey level (0..=255) to the network's input scale.
    #[inline]
    pub fn apply(&self, level: u8) -> f32 {
        (f32::from(level) / 255.0 - self.mean) / self.std
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_weights_are_the_bt601_weights() {
        assert_eq!(BT601_FIXED_POINT.iter().sum::<u32>(), 65_536);
        for (fixed, weight) in BT601_FIXED_POINT.iter().zip(BT601_WEIGHTS) {
            assert!((f64::from(*fixed) / 65_536.0 - weight).abs() < 1e-5);
        }
    }

    #[test]
    fn luma_uses_the_bt601_weights() {
        assert_eq!(luma_bt601(0, 0, 0), 0);
        assert_eq!(luma_bt601(255, 255, 255), 255);
        assert_eq!(luma_bt601(255, 0, 0), 76); // 0.299 × 255 = 76.2
        assert_eq!(luma_bt601(0, 255, 0), 150); // 0.587 × 255 = 149.7
        assert_eq!(luma_bt601(0, 0, 255), 29); // 0.114 × 255 = 29.1
        assert_eq!(luma_bt601(7, 7, 7), 7);
    }

    #[test]
    fn normalisation_centres_the_mean_level() {
        let norm = FER2013_NORMALISATION;
        let mean_level = (norm.mean * 255.0).round() as u8;
        assert!(norm.apply(mean_level).abs() < 0.01);
        assert!(norm.apply(0) < -1.9 && norm.apply(255) > 1.9);
        assert_eq!(FACE_PIXELS, 2304);
    }
}
