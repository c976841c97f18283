//! Checks the converted BlazeFace networks against TFLite's reference runtime: reads the inputs
//! and outputs that `scripts/convert_blazeface.py --check IMAGE...` wrote (little-endian f32
//! files), runs the same inputs through this crate's networks and prints the largest
//! differences.
//!
//!     python3 scripts/convert_blazeface.py WHEEL /tmp/out --check a.jpg b.png
//!     cargo run --release -p vision --example blazeface_reference -- target/blazeface-reference

#[path = "support/reference.rs"]
mod reference;

use std::path::PathBuf;

use anyhow::{Context, bail};
use reference::{read_f32, sigmoid};
use vision::BlazeModel;

fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn main() -> anyhow::Result<()> {
    let dir: PathBuf = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/blazeface-reference".into())
        .into();
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| dir.display().to_string())?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    inputs.retain(|path| path.to_string_lossy().ends_with(".input.f32"));
    inputs.sort();
    if inputs.is_empty() {
        bail!("no *.input.f32 files in {}", dir.display());
    }
    println!(
        "model | picture | max |Δ regressor| (input px) | max |Δ score| | best score ref / ours"
    );
    let mut worst_score = 0.0f32;
    for input in inputs {
        let name = input
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let stem = name.trim_end_matches(".input.f32");
        let model = if stem.starts_with("face_detection_short_range.") {
            BlazeModel::ShortRange
        } else if stem.starts_with("face_detection_full_range.") {
            BlazeModel::FullRange
        } else {
            continue;
        };
        let pixels = read_f32(&input)?;
        let reference_regressors = read_f32(&dir.join(format!("{stem}.regressors.f32")))?;
        let reference_logits = read_f32(&dir.join(format!("{stem}.scores.f32")))?;
        let (regressors, logits) = vision::run_blaze_raw(model, &pixels)?;
        if regressors.len() != reference_regressors.len() || logits.len() != reference_logits.len()
        {
            bail!("{stem}: output sizes differ");
        }
        let scores: Vec<f32> = logits.iter().map(|&l| sigmoid(l)).collect();
        let reference_scores: Vec<f32> = reference_logits.iter().map(|&l| sigmoid(l)).collect();
        let score_difference = largest_difference(&scores, &reference_scores);
        worst_score = worst_score.max(score_difference);
        println!(
            "{model:?} | {} | {:.4} | {:.5} | {:.4} / {:.4}",
            stem.split_once('.').map_or(stem, |(_, rest)| rest),
            largest_difference(&regressors, &reference_regressors),
            score_difference,
            reference_scores.iter().copied().fold(0.0, f32::max),
            scores.iter().copied().fold(0.0, f32::max),
        );
    }
    println!("largest score difference: {worst_score:.5}");
    Ok(())
}
