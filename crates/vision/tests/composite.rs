//! Small faces beside large ones: composites of two `faces_dev` portraits on a 640×480 canvas,
//! one three times smaller than the other, both of which the detector must find. Skips with a
//! note when the development data is absent.

mod common;

use vision::FaceDetector;
use vision::image::imageops::{self, FilterType};
use vision::image::{DynamicImage, Rgb, RgbImage};

/// Composites built (each pair of portraits once, in both arrangements).
const COMPOSITES: usize = 24;
/// The share of composites in which both faces must be found.
const BOTH_FOUND_FLOOR: f64 = 0.9;

/// Where a portrait was pasted: left, top, side.
#[derive(Debug, Clone, Copy)]
struct Placed {
    x: u32,
    y: u32,
    side: u32,
}

impl Placed {
    /// A face box found on this portrait: its centre inside the pasted square, its side
    /// between a fifth of the square and all of it (`faces_dev` portraits are framed loosely
    /// or tightly, so the face's share of the square varies).
    fn holds(&self, face: &vision::FaceBox) -> bool {
        let (x, y) = face.centre();
        let inside =
            |value: f32, start: u32| value >= start as f32 && value <= (start + self.side) as f32;
        let size = face.width as f32 / self.side as f32;
        inside(x, self.x) && inside(y, self.y) && (0.2..=1.1).contains(&size)
    }
}

#[test]
fn small_faces_beside_large_ones_are_found() -> anyhow::Result<()> {
    let Some(data) = common::shared_data("small faces beside large ones") else {
        return Ok(());
    };
    let mut paths: Vec<_> = std::fs::read_dir(data.join("photos/faces_dev/images"))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    paths.sort();
    // Spread over the folder, not its first few files.
    let step = (paths.len() / COMPOSITES).max(1);
    let portraits: Vec<DynamicImage> = paths
        .iter()
        .step_by(step)
        .take(COMPOSITES + 1)
        .map(|path| Ok(vision::decode(&std::fs::read(path)?)?))
        .collect::<anyhow::Result<_>>()?;
    anyhow::ensure!(portraits.len() > COMPOSITES, "too few faces_dev photos");

    let detector = FaceDetector::new()?;
    let mut both = 0;
    for index in 0..COMPOSITES {
        let (large, small) = (&portraits[index], &portraits[index + 1]);
        let mut canvas = RgbImage::from_pixel(640, 480, Rgb([118, 112, 104]));
        let large_side = 330;
        let small_side = large_side / 3;
        // Alternate sides and heights, so that neither place is favoured.
        let (large_at, small_at) = if index % 2 == 0 {
            (
                Placed {
                    x: 40,
                    y: 75,
                    side: large_side,
                },
                Placed {
                    x: 470,
                    y: 60 + (index as u32 * 37) % 280,
                    side: small_side,
                },
            )
        } else {
            (
                Placed {
                    x: 270,
                    y: 100,
                    side: large_side,
                },
                Placed {
                    x: 60,
                    y: 40 + (index as u32 * 53) % 300,
                    side: small_side,
                },
            )
        };
        for (portrait, place) in [(large, large_at), (small, small_at)] {
            let resized = imageops::resize(
                &portrait.to_rgb8(),
                place.side,
                place.side,
                FilterType::Triangle,
            );
            imageops::replace(
                &mut canvas,
                &resized,
                i64::from(place.x),
                i64::from(place.y),
            );
        }
        let faces = detector.detect(&DynamicImage::ImageRgb8(canvas));
        let found_large = faces.iter().any(|face| large_at.holds(face));
        let found_small = faces.iter().any(|face| small_at.holds(face));
        if found_large && found_small {
            both += 1;
        } else {
            println!(
                "composite {index}: large {found_large}, small {found_small} ({} boxes: {faces:?})",
                faces.len()
            );
        }
    }
    let share = both as f64 / COMPOSITES as f64;
    println!(
        "both faces found in {both}/{COMPOSITES} composites ({:.1}%)",
        100.0 * share
    );
    assert!(
        share >= BOTH_FOUND_FLOOR,
        "both faces found in only {both}/{COMPOSITES} composites"
    );
    Ok(())
}
