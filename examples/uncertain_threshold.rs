//! How `moodreel::pipeline::UNCERTAIN_BELOW` is calibrated on FER-2013 PublicTest: prints, per
//! candidate threshold, the share of faces flagged and the accuracy of flagged and other faces,
//! and fails (exit code 101) when the shipped threshold no longer keeps to its rule.
//!
//! Usage: `cargo run --release --example uncertain_threshold`. Needs the development data
//! `../shared/data/fer2013/train_publictest.csv.gz`.

#[path = "../tests/cli_support/mod.rs"]
mod cli_support;

/// The largest share of PublicTest faces the uncertain flag may mark: the flag must stay
/// informative. The suggested threshold is the largest (in steps of 0.05) that keeps to it.
const UNCERTAIN_MAX_SHARE: f64 = 0.25;

/// Every PublicTest face is read by the built-in model (with flip test-time augmentation, as
/// `analyze` does). The shipped constant must keep to [`UNCERTAIN_MAX_SHARE`] and flag faces
/// that are read wrong more often than right and worse than the others (a new model may move
/// the suggestion: rerun and update it).
fn main() {
    use moodreel::pipeline::{UNCERTAIN_BELOW, load_model};

    let Some(data) = cli_support::shared_data("uncertain threshold calibration") else {
        return;
    };
    let split = dataset::load_split(
        &data.join("fer2013/train_publictest.csv.gz"),
        dataset::Split::PublicTest,
    )
    .expect("PublicTest loads");
    let model = load_model(None).expect("the built-in model loads");
    let faces: Vec<&[u8; 2304]> = (0..split.len()).map(|index| split.face(index)).collect();
    let mut readings: Vec<(f64, bool)> = Vec::with_capacity(faces.len());
    for (chunk, start) in faces.chunks(256).zip((0..).step_by(256)) {
        let probabilities = model
            .classify_pixels(chunk.iter().copied(), true)
            .expect("classifies");
        for (offset, probabilities) in probabilities.iter().enumerate() {
            let (best, confidence) = probabilities
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(index, p)| (index, f64::from(*p)))
                .unwrap_or_default();
            readings.push((
                confidence,
                best == usize::from(split.labels[start + offset]),
            ));
        }
    }
    let accuracy = |faces: &[&(f64, bool)]| {
        faces.iter().filter(|(_, correct)| *correct).count() as f64 / faces.len().max(1) as f64
    };
    let all: Vec<&(f64, bool)> = readings.iter().collect();
    eprintln!(
        "PublicTest: {} faces, accuracy {:.1}%",
        all.len(),
        100.0 * accuracy(&all)
    );
    eprintln!("threshold  flagged  accuracy flagged  accuracy others");
    let split_at = |threshold: f64| {
        let (flagged, others): (Vec<_>, Vec<_>) = readings
            .iter()
            .partition(|(confidence, _)| *confidence < threshold);
        (flagged, others)
    };
    let mut suggested = 0.0;
    for step in 6..=16 {
        let threshold = f64::from(step) * 0.05;
        let (flagged, others) = split_at(threshold);
        eprintln!(
            "{threshold:>9.2}  {:>6.1}%  {:>15.1}%  {:>14.1}%",
            100.0 * flagged.len() as f64 / all.len() as f64,
            100.0 * accuracy(&flagged),
            100.0 * accuracy(&others)
        );
        if (flagged.len() as f64) <= UNCERTAIN_MAX_SHARE * all.len() as f64 {
            suggested = threshold;
        }
    }
    let (flagged, others) = split_at(UNCERTAIN_BELOW);
    eprintln!(
        "suggested threshold {suggested:.2}; shipped UNCERTAIN_BELOW {UNCERTAIN_BELOW}: flags \
         {:.1}% of the faces, {:.1}% of them read right, {:.1}% of the others",
        100.0 * flagged.len() as f64 / all.len() as f64,
        100.0 * accuracy(&flagged),
        100.0 * accuracy(&others)
    );
    assert!(
        (flagged.len() as f64) <= UNCERTAIN_MAX_SHARE * all.len() as f64,
        "UNCERTAIN_BELOW flags more than {:.0}% of the faces: recalibrate it",
        100.0 * UNCERTAIN_MAX_SHARE
    );
    assert!(
        accuracy(&flagged) < 0.5 && accuracy(&flagged) < accuracy(&others),
        "faces flagged uncertain are read as well as the others: recalibrate UNCERTAIN_BELOW"
    );
}
