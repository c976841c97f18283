//! Calibrates the framing rule: how the detector's box relates to the way FER-2013 frames a face.
//!
//! Each FER-2013 face (48×48) is enlarged to a known side S, pasted in the middle of a uniform
//! grey canvas 2.5 S wide, and given to the detector. For every face found, the true FER frame
//! (a square of side S at a known place) is compared with the detector's box:
//!
//! - scale    = S / box side
//! - offset_x = (frame centre x − box centre x) / box side
//! - offset_y = (frame centre y − box centre y) / box side
//!
//! The rule is the median of each over all faces and sizes. The program then checks it: it
//! crops every canvas with the fitted rule and measures how far the 48×48 crop is from the
//! original FER picture (mean absolute grey difference), against the same measure for the bare
//! detector box.
//!
//! Usage: `cargo run --release -p vision --example calibrate_framing [-- FER_CSV [LIMIT]]`
//! (default: `../shared/data/fer2013/train_publictest.csv.gz`, all 3,589 PublicTest faces).

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;

use anyhow::Context;
use rayon::prelude::*;
use vision::image::imageops::{self, FilterType};
use vision::image::{DynamicImage, GrayImage, Luma};
use vision::{FaceBox, FaceDetector, FramingRule};

/// Sides to which the 48×48 faces are enlarged: the fitted ratios must not depend on it.
const SIDES: [u32; 4] = [96, 144, 216, 288];

/// One detection measured against its true frame.
struct Measure {
    index: usize,
    side: u32,
    scale: f64,
    offset_x: f64,
    offset_y: f64,
    face: FaceBox,
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let csv = match args.next() {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/fer2013/train_publictest.csv.gz"),
    };
    let limit = match args.next() {
        Some(text) => text.parse().context("LIMIT must be a number")?,
        None => usize::MAX,
    };
    let faces = common::read_fer(&csv, "PublicTest", limit)?;
    let detector = FaceDetector::new()?;
    println!(
        "FER-2013 PublicTest faces: {}; sizes {SIDES:?}; detector {:?}",
        faces.len(),
        detector.settings()
    );

    let mut all = Vec::new();
    for side in SIDES {
        let measures: Vec<Measure> = faces
            .par_iter()
            .enumerate()
            .filter_map(|(index, face)| measure(&detector, index, &face.image, side))
            .collect();
        let mut scales: Vec<f64> = measures.iter().map(|m| m.scale).collect();
        let mut xs: Vec<f64> = measures.iter().map(|m| m.offset_x).collect();
        let mut ys: Vec<f64> = measures.iter().map(|m| m.offset_y).collect();
        println!(
            "S = {side:3}: found {:4}/{} ({:.1}%)  scale {:.3}  offset_x {:+.3}  offset_y {:+.3}",
            measures.len(),
            faces.len(),
            100.0 * measures.len() as f64 / faces.len() as f64,
            common::median(&mut scales),
            common::median(&mut xs),
            common::median(&mut ys),
        );
        all.extend(measures);
    }

    let mut scales: Vec<f64> = all.iter().map(|m| m.scale).collect();
    let mut xs: Vec<f64> = all.iter().map(|m| m.offset_x).collect();
    let mut ys: Vec<f64> = all.iter().map(|m| m.offset_y).collect();
    let rule = FramingRule {
        scale: common::median(&mut scales) as f32,
        offset_x: common::median(&mut xs) as f32,
        offset_y: common::median(&mut ys) as f32,
    };
    println!("all sizes, {} detections (median, [quartiles]):", all.len());
    for (name, values) in [
        ("scale", &mut scales),
        ("offset_x", &mut xs),
        ("offset_y", &mut ys),
    ] {
        println!(
            "  {name:8} {:+.3}  [{:+.3}, {:+.3}]",
            common::median(values),
            common::quantile(values, 0.25),
            common::quantile(values, 0.75)
        );
    }
    println!(
        "fitted rule: FramingRule {{ scale: {:.3}, offset_x: {:.3}, offset_y: {:.3} }}",
        rule.scale, rule.offset_x, rule.offset_y
    );

    // How close does each rule bring the crop to the original FER picture?
    let bare_box = FramingRule {
        scale: 1.0,
        offset_x: 0.0,
        offset_y: 0.0,
    };
    for (name, candidate) in [
        ("bare detector box", bare_box),
        ("fitted rule", rule),
        ("shipped FER_FRAMING", vision::FER_FRAMING),
    ] {
        let mut errors: Vec<f64> = all
            .par_iter()
            .map(|m| {
                let original = &faces[m.index].image;
                let crop = vision::crop_with_rule(&canvas(original, m.side), &m.face, &candidate);
                common::mean_abs_diff(&crop, original)
            })
            .collect();
        println!(
            "  {name:20} crop vs original: mean abs grey difference median {:.2}, mean {:.2}",
            common::median(&mut errors),
            errors.iter().sum::<f64>() / errors.len().max(1) as f64
        );
    }
    // Is the median also (near) the best scale for the crop error? Scan around it.
    println!("  scale scan with the fitted offsets (mean abs grey difference, mean over faces):");
    for step in -3..=3 {
        let candidate = FramingRule {
            scale: rule.scale + 0.05 * step as f32,
            ..rule
        };
        let total: f64 = all
            .par_iter()
            .map(|m| {
                let original = &faces[m.index].image;
                let crop = vision::crop_with_rule(&canvas(original, m.side), &m.face, &candidate);
                common::mean_abs_diff(&crop, original)
            })
            .sum();
        println!(
            "    scale {:.3}: {:.2}",
            candidate.scale,
            total / all.len().max(1) as f64
        );
    }
    // The floor: the true frame, cropped the same way (enlarging then shrinking loses a little).
    let mut floor: Vec<f64> = all
        .par_iter()
        .map(|m| {
            let original = &faces[m.index].image;
            let truth = FaceBox {
                x: origin(m.side) as i32,
                y: origin(m.side) as i32,
                width: m.side,
                height: m.side,
                score: 0.0,
                landmarks: None,
            };
            let crop = vision::crop_with_rule(&canvas(original, m.side), &truth, &bare_box);
            common::mean_abs_diff(&crop, original)
        })
        .collect();
    println!(
        "  {:20} crop vs original: mean abs grey difference median {:.2}",
        "true frame (floor)",
        common::median(&mut floor)
    );
    Ok(())
}

/// Where the face's top-left corner goes on the canvas.
fn origin(side: u32) -> u32 {
    (side * 5 / 2 - side) / 2
}

/// A face enlarged to `side` (Catmull-Rom) in the middle of a uniform grey canvas 2.5 `side` wide.
fn canvas(face: &GrayImage, side: u32) -> DynamicImage {
    let enlarged = imageops::resize(face, side, side, FilterType::CatmullRom);
    let canvas_side = side * 5 / 2;
    let mut canvas = GrayImage::from_pixel(canvas_side, canvas_side, Luma([128]));
    imageops::replace(
        &mut canvas,
        &enlarged,
        i64::from(origin(side)),
        i64::from(origin(side)),
    );
    DynamicImage::ImageLuma8(canvas)
}

/// Measures the detector's box on one canvas against the true frame; `None` when no box lies on
/// the face.
fn measure(detector: &FaceDetector, index: usize, face: &GrayImage, side: u32) -> Option<Measure> {
    let frame_centre = f64::from(origin(side)) + f64::from(side) / 2.0;
    let best = detector
        .detect(&canvas(face, side))
        .into_iter()
        .filter(|face| {
            let (x, y) = face.centre();
            (f64::from(x) - frame_centre).abs() < f64::from(side) / 2.0
                && (f64::from(y) - frame_centre).abs() < f64::from(side) / 2.0
        })
        .max_by(|a, b| a.score.total_cmp(&b.score))?;
    let box_side = f64::from(best.width + best.height) / 2.0;
    let (x, y) = best.centre();
    Some(Measure {
        index,
        side,
        scale: f64::from(side) / box_side,
        offset_x: (frame_centre - f64::from(x)) / box_side,
        offset_y: (frame_centre - f64::from(y)) / box_side,
        face: best,
    })
}
