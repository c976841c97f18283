//! Grey levels as FER-2013 has them: ITU-R BT.601 luma, `0.299 R + 0.587 G + 0.114 B`.
//!
//! The `image` crate's own `to_luma8` uses the BT.709 weights; the expression model was trained
//! on FER-2013, whose grey images follow BT.601, so every grey pixel in this crate comes from here.

use image::{DynamicImage, GrayImage};

// The weights live in `faceinput`, the face-input contract the dataset readers share.
pub use faceinput::luma_bt601;

/// A view of any decoded image as 8-bit BT.601 grey, without converting the whole image first.
///
/// Alpha is ignored: the colour of a transparent pixel is whatever the file stores.
pub(crate) enum GreySource<'a> {
    /// Already grey.
    Grey(&'a [u8], usize),
    /// Grey with alpha, two bytes a pixel.
    GreyAlpha(&'a [u8], usize),
    /// Interleaved 8-bit colour, `channels` bytes a pixel (RGB or RGBA).
    Colour(&'a [u8], usize, usize),
    /// Another layout (16-bit, float), converted to 8-bit RGB up front.
    Converted(image::RgbImage),
}

impl<'a> GreySource<'a> {
    pub(crate) fn new(image: &'a DynamicImage) -> Self {
        let width = image.width() as usize;
        match image {
            DynamicImage::ImageLuma8(buffer) => GreySource::Grey(buffer.as_raw(), width),
            DynamicImage::ImageLumaA8(buffer) => GreySource::GreyAlpha(buffer.as_raw(), width),
            DynamicImage::ImageRgb8(buffer) => GreySource::Colour(buffer.as_raw(), width, 3),
            DynamicImage::ImageRgba8(buffer) => GreySource::Colour(buffer.as_raw(), width, 4),
            other => GreySource::Converted(other.to_rgb8()),
        }
    }

    /// The grey level at (x, y), which must lie inside the image.
    #[inline]
    pub(crate) fn at(&self, x: usize, y: usize) -> u8 {
        match self {
            GreySource::Grey(data, width) => data[y * width + x],
            GreySource::GreyAlpha(data, width) => data[2 * (y * width + x)],
            GreySource::Colour(data, width, channels) => {
                let i = channels * (y * width + x);
                luma_bt601(data[i], data[i + 1], data[i + 2])
            }
            GreySource::Converted(buffer) => {
                let [red, green, blue] = buffer.get_pixel(x as u32, y as u32).0;
                luma_bt601(red, green, blue)
            }
        }
    }
}

impl GreySource<'_> {
    /// The grey levels of row `y` from column `start`, one per element of `out`.
    pub(crate) fn row_into(&self, y: usize, start: usize, out: &mut [u8]) {
        match self {
            GreySource::Grey(data, width) => {
                let begin = y * width + start;
                out.copy_from_slice(&data[begin..begin + out.len()]);
            }
            GreySource::GreyAlpha(data, width) => {
                let begin = 2 * (y * width + start);
                let pixels = data[begin..begin + 2 * out.len()].chunks_exact(2);
                for (level, pixel) in out.iter_mut().zip(pixels) {
                    *level = pixel[0];
                }
            }
            GreySource::Colour(data, width, channels) => {
                let begin = channels * (y * width + start);
                let pixels = data[begin..begin + channels * out.len()].chunks_exact(*channels);
                for (level, pixel) in out.iter_mut().zip(pixels) {
                    *level = luma_bt601(pixel[0], pixel[1], pixel[2]);
                }
            }
            GreySource::Converted(_) => {
                for (offset, level) in out.iter_mut().enumerate() {
                    *level = self.at(start + offset, y);
                }
            }
        }
    }
}

/// Converts a whole image to 8-bit BT.601 grey.
pub fn to_grey_bt601(image: &DynamicImage) -> GrayImage {
    let source = GreySource::new(image);
    let (width, height) = (image.width(), image.height());
    let mut grey = GrayImage::new(width, height);
    if width > 0 {
        for (y, row) in grey.chunks_exact_mut(width as usize).enumerate() {
            source.row_into(y, 0, row);
        }
    }
    grey
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layout_gives_the_same_grey() {
        let rgb = image::RgbImage::from_fn(5, 3, |x, y| {
            image::Rgb([(x * 50) as u8, (y * 80) as u8, ((x + y) * 30) as u8])
        });
        let expected = to_grey_bt601(&DynamicImage::ImageRgb8(rgb.clone()));
        let rgba = DynamicImage::ImageRgb8(rgb.clone()).to_rgba8();
        assert_eq!(to_grey_bt601(&DynamicImage::ImageRgba8(rgba)), expected);
        let rgb16 = DynamicImage::ImageRgb8(rgb).to_rgb16();
        assert_eq!(to_grey_bt601(&DynamicImage::ImageRgb16(rgb16)), expected);
    }
}
