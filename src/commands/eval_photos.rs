//! `moodreel eval-photos`: measures the whole photo pipeline (decode → detect → crop →
//! classify) on a folder of labelled photos.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use indicatif::{ProgressBar, ProgressStyle};
use mood::Emotion;
use rayon::prelude::*;
use serde::Serialize;

use crate::commands::common::{ModelArgs, print_json, write_stdout};
use crate::exit::{CommandError, CommandResult};
use crate::pipeline::PhotoPipeline;

/// Arguments of `moodreel eval-photos`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "DIR/labels.csv has a header and the columns file,label (more columns are \
ignored). file is relative to DIR; label is one of angry, disgust, fear, happy, sad, surprise, \
neutral, or no_face for a photo without a face (face_present: a face without an expression label, \
counted for recall only).\n\nExample:\n  moodreel eval-photos my_photos/ --json"
)]
pub struct Args {
    /// Folder holding labels.csv and the photos it names.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// Print one JSON document: {"images","faces_expected","faces_found","recall",
    /// "false_positives","accuracy","per_image":[…]}.
    #[arg(long)]
    pub json: bool,

    /// The expression model.
    #[command(flatten)]
    pub model: ModelArgs,
}

/// What a photo is labelled with in `labels.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// One face with this expression.
    Emotion(Emotion),
    /// One face, expression not labelled.
    Face,
    /// No face at all.
    NoFace,
}

impl Label {
    /// The label's text as `labels.csv` has it (an emotion's name, `no_face`, or `face_present`
    /// or `face`; case and surrounding spaces do not matter).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "no_face" => Some(Self::NoFace),
            "face_present" | "face" => Some(Self::Face),
            other => Emotion::ALL
                .into_iter()
                .find(|emotion| emotion.name() == other)
                .map(Self::Emotion),
        }
    }

    /// The emotion, when the label is one.
    pub fn emotion(self) -> Option<Emotion> {
        match self {
            Self::Emotion(emotion) => Some(emotion),
            Self::Face | Self::NoFace => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Emotion(emotion) => emotion.name(),
            Self::Face => "face_present",
            Self::NoFace => "no_face",
        }
    }
}

/// The report: the JSON of `eval-photos --json`.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Photos listed in labels.csv.
    pub images: usize,
    /// Photos labelled with a face (one face each).
    pub faces_expected: usize,
    /// Of those, photos in which at least one face was found.
    pub faces_found: usize,
    /// faces_found / faces_expected (null without any face expected).
    pub recall: Option<f64>,
    /// Boxes found in photos labelled no_face.
    pub false_positives: usize,
    /// Photos labelled with an emotion whose largest face reads as that emotion, over all
    /// photos labelled with an emotion (a photo where no face is found counts as wrong).
    pub accuracy: Option<f64>,
    /// One entry per photo, in labels.csv order.
    pub per_image: Vec<ImageResult>,
}

/// How one photo went.
#[derive(Debug, Serialize)]
pub struct ImageResult {
    /// Path as written in labels.csv.
    pub file: String,
    /// The label.
    pub label: &'static str,
    /// Number of faces found.
    pub faces: usize,
    /// The largest face's emotion, if a face was found.
    pub emotion: Option<Emotion>,
    /// Its probability.
    pub confidence: Option<f64>,
    /// Whether it matches the label (null when the label is not an emotion).
    pub correct: Option<bool>,
    /// Why the photo could not be read, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Runs `moodreel eval-photos`.
pub fn run(args: Args) -> CommandResult {
    let labels = read_labels(&args.dir)?;
    let pipeline = args.model.pipeline()?;
    let progress = ProgressBar::new(labels.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} photos {elapsed} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let per_image: Vec<ImageResult> = labels
        .par_iter()
        .map(|(file, label)| {
            let result = evaluate(&pipeline, &args.dir, file, *label);
            progress.inc(1);
            result
        })
        .collect();
    progress.finish_and_clear();
    let report = summarise(per_image);
    if args.json {
        print_json(&report)
    } else {
        write_stdout(&render(&report))
    }
}

/// Reads `DIR/labels.csv` (a header with `file` and `label` columns): each photo's path,
/// relative to `dir`, and its label, in the file's order; a bad row is an error naming its
/// `file:line`.
pub fn read_labels(dir: &Path) -> Result<Vec<(String, Label)>, CommandError> {
    let path = dir.join("labels.csv");
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&path)
        .with_context(|| format!("reading {}", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("{}: no header", path.display()))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|header| header.trim() == name)
            .ok_or_else(|| anyhow!("{}: no `{name}` column", path.display()))
    };
    let (file_column, label_column) = (column("file")?, column("label")?);
    let mut labels = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = record.with_context(|| format!("{}:{line}", path.display()))?;
        let file = record
            .get(file_column)
            .unwrap_or_default()
            .trim()
            .to_owned();
        let text = record.get(label_column).unwrap_or_default();
        let label = Label::parse(text).ok_or_else(|| {
            anyhow!(
                "{}:{line}: label: `{text}` is not an emotion, no_face or face_present",
                path.display()
            )
        })?;
        if file.is_empty() {
            return Err(anyhow!("{}:{line}: file: empty", path.display()).into());
        }
        labels.push((file, label));
    }
    Ok(labels)
}

fn evaluate(pipeline: &PhotoPipeline, dir: &Path, file: &str, label: Label) -> ImageResult {
    let path = dir.join(file);
    let outcome = std::fs::read(&path)
        .map_err(anyhow::Error::from)
        .and_then(|bytes| Ok(pipeline.read_bytes(&bytes)?.1));
    let (faces, largest, error) = match &outcome {
        Ok(reading) => (reading.faces.len(), reading.largest_face(), None),
        Err(error) => {
            tracing::warn!(file, %error, "photo not read");
            (0, None, Some(format!("{error:#}")))
        }
    };
    let emotion = largest.map(|face| face.emotion());
    ImageResult {
        file: file.to_owned(),
        label: label.name(),
        faces,
        emotion,
        confidence: largest.map(|face| (face.confidence() * 1e4).round() / 1e4),
        correct: match label {
            Label::Emotion(expected) => Some(emotion == Some(expected)),
            _ => None,
        },
        error,
    }
}

fn summarise(per_image: Vec<ImageResult>) -> Report {
    let with_face = per_image.iter().filter(|image| image.label != "no_face");
    let faces_expected = with_face.clone().count();
    let faces_found = with_face.filter(|image| image.faces > 0).count();
    let false_positives = per_image
        .iter()
        .filter(|image| image.label == "no_face")
        .map(|image| image.faces)
        .sum();
    let labelled: Vec<bool> = per_image.iter().filter_map(|image| image.correct).collect();
    let ratio = |part: usize, whole: usize| (whole > 0).then(|| part as f64 / whole as f64);
    Report {
        images: per_image.len(),
        faces_expected,
        faces_found,
        recall: ratio(faces_found, faces_expected),
        false_positives,
        accuracy: ratio(
            labelled.iter().filter(|correct| **correct).count(),
            labelled.len(),
        ),
        per_image,
    }
}

fn render(report: &Report) -> String {
    let percent = |value: Option<f64>| match value {
        Some(value) => format!("{:.1}%", 100.0 * value),
        None => "n/a".to_owned(),
    };
    let mut out = String::new();
    let _ = writeln!(out, "images:          {}", report.images);
    let _ = writeln!(
        out,
        "faces found:     {}/{} (recall {})",
        report.faces_found,
        report.faces_expected,
        percent(report.recall)
    );
    let _ = writeln!(
        out,
        "false positives: {} (boxes in no_face photos)",
        report.false_positives
    );
    let _ = writeln!(
        out,
        "accuracy:        {} (largest face vs label)",
        percent(report.accuracy)
    );
    let errors: Vec<&ImageResult> = report
        .per_image
        .iter()
        .filter(|image| image.error.is_some())
        .collect();
    for image in errors {
        let _ = writeln!(
            out,
            "  {}: {}",
            image.file,
            image.error.as_deref().unwrap_or_default()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse() {
        assert_eq!(Label::parse("Happy "), Some(Label::Emotion(Emotion::Happy)));
        assert_eq!(Label::parse("no_face"), Some(Label::NoFace));
        assert_eq!(Label::parse("face_present"), Some(Label::Face));
        assert_eq!(Label::parse("contempt"), None);
    }

    #[test]
    fn summary_counts_recall_false_positives_and_accuracy() {
        let image = |label: &'static str, faces: usize, correct: Option<bool>| ImageResult {
            file: "x.jpg".into(),
            label,
            faces,
            emotion: None,
            confidence: None,
            correct,
            error: None,
        };
        let report = summarise(vec![
            image("happy", 1, Some(true)),
            image("sad", 0, Some(false)),
            image("no_face", 2, None),
            image("face_present", 1, None),
        ]);
        assert_eq!((report.faces_expected, report.faces_found), (3, 2));
        assert_eq!(report.false_positives, 2);
        assert_eq!(report.accuracy, Some(0.5));
    }
}
