//! Studies the detector on the round-trip scenes, the `no_face` photos and `faces_dev`: how many
//! pasted FER-2013 faces it finds (and which it misses), how many boxes it puts on photos without
//! a face (also scaled, mirrored and turned), and how many real faces it finds. This is how the
//! detector settings in `docs/vision.md` were chosen.
//!
//! Usage: `cargo run --release -p vision --example round_trip_study [-- FACES [SEED]]`
//! (default 600 PublicTest faces, seed 7; the round-trip test uses 300 faces and seed 2013).
//! Environment variables override the detector settings (see `settings_from_env`), and
//! `VISION_STUDY_MIRROR=1` prints every box instead (face or not, score, score of the same box
//! in the mirrored picture, side) for studying thresholds; `VISION_STUDY_MISSES=DIR` writes each
//! missed scene, upright, into `DIR` as PNG.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use vision::image::DynamicImage;
use vision::{DetectorSettings, FaceDetector};

fn main() -> anyhow::Result<()> {
    let Some(data) = common::shared_data("round_trip_study") else {
        return Ok(());
    };
    let mut args = std::env::args().skip(1);
    let count: usize = args
        .next()
        .map(|text| text.parse())
        .transpose()?
        .unwrap_or(600);
    let seed: u64 = args
        .next()
        .map(|text| text.parse())
        .transpose()?
        .unwrap_or(7);
    let detector = FaceDetector::with_settings(settings_from_env()?)?;
    eprintln!("settings: {:?}", detector.settings());

    let all = common::read_fer(
        &data.join("fer2013/train_publictest.csv.gz"),
        "PublicTest",
        usize::MAX,
    )?;
    let stride = (all.len() / count.max(1)).max(1);
    // Offset by the seed so that a study set differs from the test's faces.
    let faces: Vec<_> = all
        .iter()
        .skip(seed as usize % stride)
        .step_by(stride)
        .take(count)
        .collect();
    let photos = common::no_face_photos(&data)?;
    let scenes = common::round_trip_scenes(&faces, &photos, seed);

    if std::env::var("VISION_STUDY_MIRROR").is_ok() {
        return mirror_study(&detector, &scenes, &photos);
    }
    if std::env::var("VISION_STUDY_SECOND").is_ok() {
        return second_look_study(&detector, &scenes);
    }
    let start = Instant::now();
    let results: Vec<(bool, usize)> = scenes
        .par_iter()
        .map(|scene| {
            let decoded = vision::decode(&scene.jpeg).expect("scenes decode");
            let boxes = detector.detect(&decoded);
            let hit = boxes.iter().any(|found| scene.pasted.is_hit(found));
            let stray = boxes
                .iter()
                .filter(|found| !scene.pasted.is_hit(found))
                .count();
            (hit, stray)
        })
        .collect();
    let elapsed = start.elapsed();
    let hits = results.iter().filter(|(hit, _)| *hit).count();
    let strays: usize = results.iter().map(|(_, stray)| stray).sum();
    let mut missed_by_background = [0usize; 3];
    let mut missed_sides = Vec::new();
    for (scene, (hit, _)) in scenes.iter().zip(&results) {
        if !hit {
            missed_by_background[scene.background as usize] += 1;
            missed_sides.push(scene.pasted.side);
        }
    }
    if let Ok(dir) = std::env::var("VISION_STUDY_MISSES") {
        // Each missed scene upright, named by its index and its face's side.
        std::fs::create_dir_all(&dir)?;
        for (index, (scene, (hit, _))) in scenes.iter().zip(&results).enumerate() {
            if !hit {
                let name = format!("{dir}/miss_{index:03}_{}px.png", scene.pasted.side);
                vision::decode(&scene.jpeg)?.save(name)?;
            }
        }
    }
    missed_sides.sort_unstable();
    println!(
        "round trip: {hits}/{} ({:.1}%), {strays} stray boxes, misses by background \
         (grey, noise, photo) {missed_by_background:?}, missed sides {missed_sides:?}, {:.1} ms/scene",
        scenes.len(),
        100.0 * hits as f64 / scenes.len() as f64,
        elapsed.as_secs_f64() * 1000.0 / scenes.len() as f64 * rayon::current_num_threads() as f64
    );

    let mut variants: Vec<(String, DynamicImage)> = Vec::new();
    for (index, photo) in photos.iter().enumerate() {
        variants.push((format!("no_face {index}"), photo.clone()));
        for scale in [0.5f32, 0.75, 1.25] {
            let scaled = photo.resize(
                (photo.width() as f32 * scale) as u32,
                (photo.height() as f32 * scale) as u32,
                vision::image::imageops::FilterType::Triangle,
            );
            variants.push((format!("no_face {index} ×{scale} mirrored"), scaled.fliph()));
            variants.push((format!("no_face {index} ×{scale}"), scaled));
        }
        variants.push((format!("no_face {index} turned"), photo.rotate90()));
    }
    let false_boxes: Vec<(String, usize, f64)> = variants
        .par_iter()
        .map(|(name, image)| {
            let boxes = detector.detect(image);
            let best = boxes.iter().map(|face| face.score).fold(0.0, f64::max);
            (name.clone(), boxes.len(), best)
        })
        .collect();
    let originals: usize = false_boxes[..]
        .iter()
        .filter(|(name, _, _)| !name.contains('×') && !name.contains("turned"))
        .map(|(_, boxes, _)| boxes)
        .sum();
    let total: usize = false_boxes.iter().map(|(_, boxes, _)| boxes).sum();
    for (name, boxes, best) in &false_boxes {
        if *boxes > 0 {
            println!("  {name}: {boxes} boxes, best score {best:.2}");
        }
    }
    println!(
        "no_face: {originals} boxes on the 18 photos, {} on the {} variants",
        total - originals,
        variants.len() - photos.len()
    );

    let dev = faces_dev_recall(&data, &detector)?;
    println!("faces_dev: {}/{} photos with a face found", dev.0, dev.1);
    Ok(())
}

fn faces_dev_recall(data: &Path, detector: &FaceDetector) -> anyhow::Result<(usize, usize)> {
    let dir = data.join("photos/faces_dev/images");
    let paths: Vec<_> = std::fs::read_dir(&dir)?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|entry| entry.path())
        .collect();
    let found = paths
        .par_iter()
        .filter(|path| {
            let bytes = std::fs::read(path).expect("readable");
            vision::decode(&bytes).is_ok_and(|image| !detector.detect(&image).is_empty())
        })
        .count();
    Ok((found, paths.len()))
}

/// The default settings, each overridable by an environment variable (`VISION_SCORE`,
/// `VISION_FULL_SCORE` (above 1: no full-range view), `VISION_PADDED` (0: no padded view),
/// `VISION_WHOLE` (false: no whole view), `VISION_TILE_SIDE` (0: no tiles),
/// `VISION_TILE_SCORE`, `VISION_TILE_OVERLAP`, `VISION_LARGE_VIEW` (0: no large view),
/// `VISION_MAX_SIDE`, `VISION_MERGE`, `VISION_SKIP_LARGE` (above 1: the large view always),
/// `VISION_CANDIDATE`, `VISION_CLOSE_UP_SIDE`, `VISION_CLOSE_UP_SCORE`, `VISION_CLOSE_UPS`,
/// `VISION_SECOND_LOOK` (above 1: no second look), `VISION_SECOND_SIDE`,
/// `VISION_UPRIGHT_BELOW` (0: no upright check), `VISION_UPRIGHT_SIDE`, `VISION_UPRIGHT_MARGIN`,
/// `VISION_UPRIGHT_CHECKS`, `VISION_TURNED` (above 1: no turned search),
/// `VISION_ONET_CONFIRM` (above 1: the cascade alone confirms), `VISION_ONET_VETO` (above 1:
/// no veto)).
fn settings_from_env() -> anyhow::Result<DetectorSettings> {
    fn var<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T>
    where
        T::Err: std::error::Error + Send + Sync + 'static,
    {
        Ok(match std::env::var(name) {
            Ok(text) => text.parse()?,
            Err(_) => default,
        })
    }
    let default = DetectorSettings::default();
    Ok(DetectorSettings {
        score_threshold: var("VISION_SCORE", default.score_threshold)?,
        // A full-range threshold above 1 turns that view off.
        full_range_threshold: Some(var("VISION_FULL_SCORE", 2.0f32)?).filter(|t| *t <= 1.0),
        padded_view: var("VISION_PADDED", default.padded_view)?,
        whole_view: var("VISION_WHOLE", default.whole_view)?,
        tile_side: var("VISION_TILE_SIDE", default.tile_side)?,
        tile_threshold: var("VISION_TILE_SCORE", default.tile_threshold)?,
        tile_overlap: var("VISION_TILE_OVERLAP", default.tile_overlap)?,
        max_working_side: var("VISION_MAX_SIDE", default.max_working_side)?,
        merge_overlap: var("VISION_MERGE", default.merge_overlap)?,
        large_view_side: var("VISION_LARGE_VIEW", default.large_view_side)?,
        skip_large_view_above: var("VISION_SKIP_LARGE", default.skip_large_view_above)?,
        candidate_threshold: var("VISION_CANDIDATE", default.candidate_threshold)?,
        close_up_side: var("VISION_CLOSE_UP_SIDE", default.close_up_side)?,
        close_up_score: var("VISION_CLOSE_UP_SCORE", default.close_up_score)?,
        max_close_ups: var("VISION_CLOSE_UPS", default.max_close_ups)?,
        // A second-look threshold above 1 turns the second look off.
        second_look_threshold: Some(var(
            "VISION_SECOND_LOOK",
            default.second_look_threshold.unwrap_or(2.0),
        )?)
        .filter(|t| *t <= 1.0),
        second_look_side: var("VISION_SECOND_SIDE", default.second_look_side)?,
        upright_check_below: var("VISION_UPRIGHT_BELOW", default.upright_check_below)?,
        upright_close_up: var("VISION_UPRIGHT_SIDE", default.upright_close_up)?,
        upright_margin: var("VISION_UPRIGHT_MARGIN", default.upright_margin)?,
        max_upright_checks: var("VISION_UPRIGHT_CHECKS", default.max_upright_checks)?,
        // A turned-search threshold above 1 turns the turned search off.
        turned_search_threshold: Some(var(
            "VISION_TURNED",
            default.turned_search_threshold.unwrap_or(2.0),
        )?)
        .filter(|t| *t <= 1.0),
        // ONet thresholds above 1 turn its confirming (veto) off.
        onet_confirm: Some(var(
            "VISION_ONET_CONFIRM",
            default.onet_confirm.unwrap_or(2.0),
        )?)
        .filter(|t| *t <= 1.0),
        onet_veto: Some(var("VISION_ONET_VETO", default.onet_veto.unwrap_or(2.0))?)
            .filter(|t| *t <= 1.0),
    })
}

/// Prints, for every box found, whether it lies on a face, its score and the score of the best
/// box found at the same place in the mirrored picture (tab-separated).
fn mirror_study(
    detector: &FaceDetector,
    scenes: &[common::Scene],
    photos: &[DynamicImage],
) -> anyhow::Result<()> {
    let overlap = |a: &vision::FaceBox, b: &vision::FaceBox| {
        let left = a.x.max(b.x);
        let top = a.y.max(b.y);
        let right = (a.x + a.width as i32).min(b.x + b.width as i32);
        let bottom = (a.y + a.height as i32).min(b.y + b.height as i32);
        if right <= left || bottom <= top {
            return 0.0;
        }
        let inter = ((right - left) * (bottom - top)) as f64;
        inter / (a.area() as f64 + b.area() as f64 - inter)
    };
    let rows = |image: &DynamicImage, is_face: &dyn Fn(&vision::FaceBox) -> bool, tag: &str| {
        let boxes = detector.detect(image);
        let mirrored: Vec<vision::FaceBox> = detector
            .detect(&image.fliph())
            .into_iter()
            .map(|mut face| {
                face.x = image.width() as i32 - face.x - face.width as i32;
                face
            })
            .collect();
        boxes
            .iter()
            .map(|face| {
                let mirror = mirrored
                    .iter()
                    .filter(|other| overlap(face, other) > 0.3)
                    .map(|other| other.score)
                    .fold(0.0, f64::max);
                format!(
                    "{tag}\t{}\t{:.3}\t{mirror:.3}\t{}",
                    is_face(face),
                    face.score,
                    face.width
                )
            })
            .collect::<Vec<_>>()
    };
    let scene_rows: Vec<Vec<String>> = scenes
        .par_iter()
        .enumerate()
        .map(|(index, scene)| {
            let decoded = vision::decode(&scene.jpeg).expect("scenes decode");
            let mut out = rows(
                &decoded,
                &|face| scene.pasted.is_hit(face),
                &format!("scene{index}"),
            );
            if out.is_empty() {
                out.push(format!("scene{index}\tmissed\t0\t0\t0"));
            }
            out
        })
        .collect();
    let mut variants = Vec::new();
    for (index, photo) in photos.iter().enumerate() {
        variants.push((format!("photo{index}"), photo.clone()));
        for scale in [0.5f32, 0.75, 1.25] {
            let scaled = photo.resize(
                (photo.width() as f32 * scale) as u32,
                (photo.height() as f32 * scale) as u32,
                vision::image::imageops::FilterType::Triangle,
            );
            variants.push((format!("variant{index}m{scale}"), scaled.fliph()));
            variants.push((format!("variant{index}s{scale}"), scaled));
        }
        variants.push((format!("variant{index}t"), photo.rotate90()));
    }
    let photo_rows: Vec<Vec<String>> = variants
        .par_iter()
        .map(|(name, image)| rows(image, &|_| false, name))
        .collect();
    for row in scene_rows.iter().chain(&photo_rows).flatten() {
        println!("{row}");
    }
    Ok(())
}

/// Compares, on the scenes where both find the pasted face, CenterFace's boxes (the second look
/// alone) with BlazeFace's: the medians and quartiles of the side ratio and of the vertical and
/// horizontal shift of the centre (in CenterFace box sides), which set `SECOND_LOOK_SCALE` and
/// `SECOND_LOOK_SHIFT`; and how many faces the second look finds alone.
fn second_look_study(detector: &FaceDetector, scenes: &[common::Scene]) -> anyhow::Result<()> {
    let blaze_only = FaceDetector::with_settings(DetectorSettings {
        second_look_threshold: None,
        turned_search_threshold: None,
        ..*detector.settings()
    })?;
    // Per scene: (side ratio, shift down, shift right) where both find the face; whether
    // BlazeFace hits it; whether the second look does.
    type Pair = (Option<(f32, f32, f32)>, bool, bool);
    let pairs: Vec<Pair> = scenes
        .par_iter()
        .map(|scene| {
            let decoded = vision::decode(&scene.jpeg).expect("scenes decode");
            let blaze = blaze_only.detect(&decoded);
            let second = detector.detect_second_look(&decoded);
            let near = |face: &&vision::FaceBox| {
                let (x, y) = face.centre();
                let half = scene.pasted.side as f32 / 2.0;
                (x - (scene.pasted.x as f32 + half)).abs() < half
                    && (y - (scene.pasted.y as f32 + half)).abs() < half
            };
            let ratio = match (blaze.iter().find(near), second.iter().find(near)) {
                (Some(b), Some(c)) => {
                    let side = c.width as f32;
                    Some((
                        b.width as f32 / side,
                        (b.centre().1 - c.centre().1) / side,
                        (b.centre().0 - c.centre().0) / side,
                    ))
                }
                _ => None,
            };
            let blaze_hit = blaze.iter().any(|face| scene.pasted.is_hit(face));
            let second_hit = second.iter().any(|face| scene.pasted.is_hit(face));
            (ratio, blaze_hit, second_hit)
        })
        .collect();
    let quartiles = |mut values: Vec<f32>| {
        values.sort_by(f32::total_cmp);
        let at = |q: f32| values[((values.len() - 1) as f32 * q).round() as usize];
        format!("{:.3} ({:.3}–{:.3})", at(0.5), at(0.25), at(0.75))
    };
    let ratios: Vec<(f32, f32, f32)> = pairs.iter().filter_map(|pair| pair.0).collect();
    if ratios.is_empty() {
        anyhow::bail!("no scene where both detectors found the face");
    }
    println!(
        "{} scenes both read: BlazeFace side / CenterFace side {}, centre shift down {}, right {}",
        ratios.len(),
        quartiles(ratios.iter().map(|r| r.0).collect()),
        quartiles(ratios.iter().map(|r| r.1).collect()),
        quartiles(ratios.iter().map(|r| r.2).collect()),
    );
    let second_hits = pairs.iter().filter(|pair| pair.2).count();
    let second_only = pairs.iter().filter(|pair| pair.2 && !pair.1).count();
    println!(
        "second look alone: {second_hits}/{} hits, {second_only} of them missed by BlazeFace",
        scenes.len()
    );
    Ok(())
}
