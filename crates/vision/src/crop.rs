//! THE framing rule: how a detector box becomes the 48×48 grey face the expression model reads.
//!
//! FER-2013 faces are framed looser than the detector's box (forehead, chin and a little
//! background are in the picture) and a little off its centre. [`FER_FRAMING`] maps one to the
//! other; its figures come from running this crate's detector on FER-2013 faces placed on a
//! larger canvas (the `calibrate_framing` example, described in `docs/vision.md`).

use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage};

use crate::detect::FaceBox;
use crate::grey::GreySource;

/// Side of the square grey face the expression model reads, in pixels (`faceinput::FACE_SIDE`).
pub const CROP_SIDE: u32 = faceinput::FACE_SIDE as u32;

/// Maps a detector box to the square region of the photo that frames the face as FER-2013 does.
///
/// The frame is a square of side `scale × box side`, centred on the box centre moved by
/// `(offset_x, offset_y) × box side`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FramingRule {
    /// Frame side divided by box side.
    pub scale: f32,
    /// Horizontal shift of the frame centre from the box centre, in box sides (positive: right).
    pub offset_x: f32,
    /// Vertical shift of the frame centre from the box centre, in box sides (positive: down).
    pub offset_y: f32,
}

/// The framing rule calibrated on FER-2013 with the BlazeFace boxes (see `docs/vision.md`):
/// over 13,978 detections of the 3,589 PublicTest faces at four sizes, the FER frame's centre
/// is a median 0.10 box side above the box's (quartiles 0.14 and 0.06; sideways 0.00), and its
/// side a median 1.18 box sides (quartiles 1.09 and 1.30); the scale is 1.15, where the crops
/// come closest to the original pictures (the median is on the flat bottom of that measure).
pub const FER_FRAMING: FramingRule = FramingRule {
    scale: 1.15,
    offset_x: 0.0,
    offset_y: -0.10,
};

/// A square region of a photo, in pixels, possibly reaching past the photo's edges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// Left edge.
    pub left: f32,
    /// Top edge.
    pub top: f32,
    /// Side length.
    pub side: f32,
}

impl FramingRule {
    /// The region of the photo that this rule frames around a face box.
    pub fn frame(&self, face: &FaceBox) -> Frame {
        let box_side = (face.width as f32 + face.height as f32) / 2.0;
        let (centre_x, centre_y) = face.centre();
        let side = box_side * self.scale;
        Frame {
            left: centre_x + self.offset_x * box_side - side / 2.0,
            top: centre_y + self.offset_y * box_side - side / 2.0,
            side,
        }
    }
}

/// The 48×48 BT.601 grey face the expression model reads, framed with [`FER_FRAMING`].
///
/// Parts of the frame outside the photo repeat the nearest edge pixel, as a face cut by the edge
/// of a FER-2013 picture would continue.
///
/// A face turned more than [`TURNED_ROLL`] (lying sideways or upside down: a photo whose
/// orientation was lost, a head on a pillow) is turned upright by its eye line first, whatever
/// [`ALIGN_EYES`] says: the expression model has only seen faces the right way up.
pub fn crop_for_model(image: &DynamicImage, face: &FaceBox) -> GrayImage {
    let roll = face.landmarks.map(|landmarks| landmarks.eye_roll());
    match roll {
        Some(roll) if roll.abs() > TURNED_ROLL => {
            crop_turned(image, face, &FER_FRAMING, quarter_turns(roll))
        }
        _ if align_eyes() => crop_aligned_with_rule(image, face, &FER_FRAMING),
        _ => crop_with_rule(image, face, &FER_FRAMING),
    }
}

/// `angle` rounded to the nearest quarter turn. A face turned upright by whole quarter turns
/// keeps the slight tilt its head had, as FER-2013's faces do (upright crops read better than
/// levelled ones for the same reason; `docs/vision.md`).
fn quarter_turns(angle: f32) -> f32 {
    let quarter = std::f32::consts::FRAC_PI_2;
    (angle / quarter).round() * quarter
}

/// Whether [`crop_for_model`] turns each face so that its eyes are level. Off: with the framing
/// rule calibrated on BlazeFace's boxes, upright crops read `faces_dev` and the pipeline round
/// trip better (FER-2013's own faces are not levelled; figures in `docs/vision.md`). The
/// environment variable `VISION_ALIGN=1` (or `0`) overrides it, for repeating that measurement.
pub const ALIGN_EYES: bool = false;

/// An eye roll (radians) beyond which [`crop_for_model`] turns the face upright: 45°, half way
/// to a face lying on its side.
pub const TURNED_ROLL: f32 = std::f32::consts::FRAC_PI_4;

fn align_eyes() -> bool {
    match std::env::var("VISION_ALIGN") {
        Ok(value) => value != "0",
        Err(_) => ALIGN_EYES,
    }
}

/// Like [`crop_with_rule`], but turned so that the eyes are level (from the face's
/// [`Landmarks`](crate::Landmarks)), the rule's shift from the box turned with the face; a face
/// without landmarks is cropped upright.
pub fn crop_aligned_with_rule(
    image: &DynamicImage,
    face: &FaceBox,
    rule: &FramingRule,
) -> GrayImage {
    match face.landmarks {
        Some(landmarks) => crop_turned(image, face, rule, landmarks.eye_roll()),
        None => crop_with_rule(image, face, rule),
    }
}

/// The framed face turned by `angle` (radians, clockwise on screen) about the frame's centre,
/// so that a face lying at that angle comes out upright.
fn crop_turned(image: &DynamicImage, face: &FaceBox, rule: &FramingRule, angle: f32) -> GrayImage {
    let frame = rule.frame(face);
    if !angle.is_finite()
        || angle.abs() < MIN_ROLL
        || image.width() == 0
        || image.height() == 0
        || frame.side.is_nan()
        || frame.side < 1.0
    {
        return crop_with_rule(image, face, rule);
    }
    let source = GreySource::new(image);
    // As in `crop_with_rule`: a frame far larger than the photo is edge pixels repeated.
    let largest = 2.0 * (image.width() as f32 + image.height() as f32) + CROP_SIDE as f32;
    let side_f = frame.side.min(largest);
    let side = side_f.round().max(1.0) as u32;
    let (sin, cos) = angle.sin_cos();
    // The rule's shift of the frame from the box is the face's own (its "up" turned with it).
    let (box_x, box_y) = face.centre();
    let shift_x = frame.left + frame.side / 2.0 - box_x;
    let shift_y = frame.top + frame.side / 2.0 - box_y;
    let centre_x = box_x + shift_x * cos - shift_y * sin;
    let centre_y = box_y + shift_x * sin + shift_y * cos;
    let max_x = image.width() as f32 - 1.0;
    let max_y = image.height() as f32 - 1.0;
    let step = side_f / side as f32;
    // Each pixel of the upright frame, turned by the eyes' angle into the photo, read
    // bilinearly (edges repeated); the result is then shrunk as an upright crop is.
    let region = GrayImage::from_fn(side, side, |x, y| {
        let u = (x as f32 + 0.5) * step - side_f / 2.0;
        let v = (y as f32 + 0.5) * step - side_f / 2.0;
        let px = (centre_x + u * cos - v * sin - 0.5).clamp(0.0, max_x);
        let py = (centre_y + u * sin + v * cos - 0.5).clamp(0.0, max_y);
        let (x0, y0) = (px.floor(), py.floor());
        let (tx, ty) = (px - x0, py - y0);
        let (x0, y0) = (x0 as usize, y0 as usize);
        let x1 = (x0 + 1).min(max_x as usize);
        let y1 = (y0 + 1).min(max_y as usize);
        let level = |x: usize, y: usize| f32::from(source.at(x, y));
        let top = level(x0, y0) * (1.0 - tx) + level(x1, y0) * tx;
        let bottom = level(x0, y1) * (1.0 - tx) + level(x1, y1) * tx;
        image::Luma([(top * (1.0 - ty) + bottom * ty).round().clamp(0.0, 255.0) as u8])
    });
    if side == CROP_SIDE {
        return region;
    }
    imageops::resize(&region, CROP_SIDE, CROP_SIDE, FilterType::Triangle)
}

/// Below this eye roll (radians, about 1°) a face is cropped upright: turning it would only
/// blur it by resampling.
const MIN_ROLL: f32 = 0.017;

/// Like [`crop_for_model`], with another framing rule (for calibration and experiments).
pub fn crop_with_rule(image: &DynamicImage, face: &FaceBox, rule: &FramingRule) -> GrayImage {
    let frame = rule.frame(face);
    if image.width() == 0 || image.height() == 0 || frame.side.is_nan() || frame.side < 1.0 {
        return GrayImage::from_pixel(CROP_SIDE, CROP_SIDE, image::Luma([128]));
    }
    let source = GreySource::new(image);
    // A frame far larger than the photo is edge pixels repeated; capping it keeps a nonsense
    // box from asking for an enormous buffer.
    let largest = 2.0 * (image.width() as f32 + image.height() as f32) + CROP_SIDE as f32;
    let side = frame.side.min(largest);
    let left = frame.left + (frame.side - side) / 2.0;
    let top = frame.top + (frame.side - side) / 2.0;
    // Whole pixels covering the frame; the rounding moves the frame by under half a pixel.
    let side = side.round().max(1.0) as u32;
    let left = left.round() as i64;
    let top = top.round() as i64;
    let max_x = i64::from(image.width()) - 1;
    let max_y = i64::from(image.height()) - 1;
    let region = GrayImage::from_fn(side, side, |x, y| {
        let source_x = (left + i64::from(x)).clamp(0, max_x) as usize;
        let source_y = (top + i64::from(y)).clamp(0, max_y) as usize;
        image::Luma([source.at(source_x, source_y)])
    });
    if side == CROP_SIDE {
        return region;
    }
    // Triangle widens with the reduction ratio, so shrinking averages every source pixel.
    imageops::resize(&region, CROP_SIDE, CROP_SIDE, FilterType::Triangle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_is_scaled_and_shifted_in_box_sides() {
        let rule = FramingRule {
            scale: 1.5,
            offset_x: 0.1,
            offset_y: -0.2,
        };
        let face = FaceBox {
            x: 100,
            y: 200,
            width: 40,
            height: 40,
            score: 5.0,
            landmarks: None,
        };
        let frame = rule.frame(&face);
        assert_eq!(frame.side, 60.0);
        assert_eq!(frame.left, 120.0 + 4.0 - 30.0);
        assert_eq!(frame.top, 220.0 - 8.0 - 30.0);
    }

    #[test]
    fn a_face_on_its_side_is_cropped_upright() {
        // The photo's left half black, its right half white; a face in the middle turned a
        // quarter clockwise (its eye line running down the photo) has the top of its head on
        // the right, so its upright crop is white at the top and black at the bottom.
        let image = DynamicImage::ImageLuma8(GrayImage::from_fn(200, 200, |x, _| {
            image::Luma([if x < 100 { 0 } else { 255 }])
        }));
        let mut landmarks = crate::Landmarks::from_six([(100.0, 100.0); crate::KEYPOINTS]);
        landmarks.right_eye = (110.0, 85.0);
        landmarks.left_eye = (112.0, 115.0);
        let face = FaceBox {
            x: 80,
            y: 80,
            width: 40,
            height: 40,
            score: 0.7,
            landmarks: Some(landmarks),
        };
        let crop = crop_for_model(&image, &face);
        let row_mean = |y: u32| {
            (0..CROP_SIDE)
                .map(|x| f32::from(crop.get_pixel(x, y).0[0]))
                .sum::<f32>()
                / CROP_SIDE as f32
        };
        assert!(
            row_mean(2) > 250.0 && row_mean(CROP_SIDE - 3) < 5.0,
            "{crop:?}"
        );
        // A tilt under 45° is cropped as it stands: each row half black, half white.
        landmarks.left_eye = (130.0, 95.0);
        let tilted = crop_for_model(
            &image,
            &FaceBox {
                landmarks: Some(landmarks),
                ..face
            },
        );
        assert_eq!(tilted, crop_with_rule(&image, &face, &FER_FRAMING));
    }

    #[test]
    fn crop_is_48_square_even_past_the_edges() {
        let image = DynamicImage::new_rgb8(20, 10);
        let face = FaceBox {
            x: -50,
            y: -50,
            width: 200,
            height: 200,
            score: 5.0,
            landmarks: None,
        };
        let crop = crop_for_model(&image, &face);
        assert_eq!(crop.dimensions(), (CROP_SIDE, CROP_SIDE));
    }
}
