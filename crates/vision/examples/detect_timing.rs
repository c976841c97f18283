//! Times face detection with the default views and with the earlier six half-side tiles in
//! place of the large view, on the same pictures in the same run (alternating, so that machine
//! load hits both alike), on one thread:
//! a 640×480 and a 4000×3000 JPEG with one face (the `pipeline` bench's pictures, built from the
//! development photo `face_controls/images/astronaut.png`), one 640×480 picture without a face,
//! and every `faces_dev` photo. Prints the median time per detection and the faces found.
//!
//! Usage: `cargo run --release -p vision --example detect_timing [-- ROUNDS]` (default 15);
//! `VISION_COMPARE=large` compares against the large view read on every photo instead,
//! `VISION_COMPARE=unconfirmed` against no candidates (no cascade close-ups),
//! `VISION_COMPARE=no_second_look` against no CenterFace second look on photos without a face,
//! `VISION_COMPARE=no_upright_check` against no upright check of the less sure faces,
//! `VISION_COMPARE=no_turned_search` against no turned search on photos without a face,
//! `VISION_COMPARE=no_onet` against no ONet (the cascade alone confirms, no veto).
//! `VISION_THREADS=N` times it on a rayon pool of N threads instead of one (the networks'
//! larger layers are then split across them).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/textured.rs"]
mod textured;

use std::time::Instant;

use vision::image::{DynamicImage, RgbImage};
use vision::{DetectorSettings, FaceDetector};

/// The bench's picture: `face` (if any) on a textured background, as JPEG, decoded again.
fn photo(
    face: Option<&RgbImage>,
    width: u32,
    height: u32,
    face_side: u32,
) -> anyhow::Result<DynamicImage> {
    let jpeg = textured::textured_photo_jpeg(face, width, height, face_side);
    Ok(vision::decode(&jpeg)?)
}

fn median(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let Some(data) = common::shared_data("detect_timing") else {
        return Ok(());
    };
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|text| text.parse())
        .transpose()?
        .unwrap_or(15);
    let face =
        vision::image::open(data.join("photos/face_controls/images/astronaut.png"))?.to_rgb8();
    let mut dev = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(data.join("photos/faces_dev/images"))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    paths.sort();
    for path in &paths {
        dev.push(vision::decode(&std::fs::read(path)?)?);
    }
    let pictures: Vec<(String, Vec<DynamicImage>)> = vec![
        (
            "640×480, 300 px face".into(),
            vec![photo(Some(&face), 640, 480, 300)?],
        ),
        (
            "4000×3000, 1500 px face".into(),
            vec![photo(Some(&face), 4000, 3000, 1500)?],
        ),
        ("640×480, no face".into(), vec![photo(None, 640, 480, 0)?]),
        (format!("faces_dev, {} photos (per photo)", dev.len()), dev),
    ];
    let off = FaceDetector::new()?;
    // What the default detector is timed against (see the module doc); without
    // `VISION_COMPARE`, against the half-side tiles instead of the large view.
    let default = DetectorSettings::default();
    let (other, settings) = match std::env::var("VISION_COMPARE").as_deref() {
        Ok("large") => (
            "large view always",
            DetectorSettings {
                skip_large_view_above: 2.0,
                ..default
            },
        ),
        Ok("no_second_look") => (
            "no second look",
            DetectorSettings {
                second_look_threshold: None,
                ..default
            },
        ),
        Ok("no_upright_check") => (
            "no upright check",
            DetectorSettings {
                upright_check_below: 0.0,
                ..default
            },
        ),
        Ok("no_turned_search") => (
            "no turned search",
            DetectorSettings {
                turned_search_threshold: None,
                ..default
            },
        ),
        Ok("no_onet") => (
            "no ONet",
            DetectorSettings {
                onet_confirm: None,
                onet_veto: None,
                ..default
            },
        ),
        Ok("unconfirmed") => (
            "no candidates",
            DetectorSettings {
                candidate_threshold: default.tile_threshold,
                ..default
            },
        ),
        _ => (
            "tiles",
            DetectorSettings {
                tile_side: 0.5,
                tile_threshold: 0.70,
                large_view_side: 0,
                ..default
            },
        ),
    };
    let on = FaceDetector::with_settings(settings)?;
    let threads: usize = std::env::var("VISION_THREADS")
        .ok()
        .map(|text| text.parse())
        .transpose()?
        .unwrap_or(1);
    println!(
        "the default views (default) against {other}; {rounds} rounds, median ms per photo, {threads} thread(s)"
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    pool.install(|| -> anyhow::Result<()> {
        for (name, images) in &pictures {
            let rounds = if images.len() > 1 {
                rounds.div_ceil(5)
            } else {
                rounds
            };
            let (mut times_off, mut times_on) = (Vec::new(), Vec::new());
            let (mut faces_off, mut faces_on) = (0, 0);
            for _ in 0..rounds {
                for (detector, times, faces) in [
                    (&off, &mut times_off, &mut faces_off),
                    (&on, &mut times_on, &mut faces_on),
                ] {
                    let start = Instant::now();
                    *faces = images
                        .iter()
                        .map(|image| detector.detect(image).len())
                        .sum::<usize>();
                    times.push(start.elapsed().as_secs_f64() * 1000.0 / images.len() as f64);
                }
            }
            if images.len() == 1 {
                let widths: Vec<u32> = on
                    .detect(&images[0])
                    .iter()
                    .map(|face| face.width)
                    .collect();
                println!("{name}: box widths in the photo {widths:?}");
            }
            println!(
                "{name}: default {:.2} ms ({faces_off} faces), {other} {:.2} ms ({faces_on} faces)",
                median(&mut times_off),
                median(&mut times_on)
            );
        }
        Ok(())
    })
}
