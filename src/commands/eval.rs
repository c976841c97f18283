//! `moodreel eval`: measures an expression model on a FER-2013 split.

use std::path::PathBuf;

use anyhow::Context;
use dataset::Split;
use indicatif::{ProgressBar, ProgressStyle};
use mood::Emotion;
use train::EvalReport;

use crate::exit::{CommandError, CommandResult};
use crate::pipeline::load_model;

/// Arguments of `moodreel eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// FER-2013: the Kaggle CSV (plain or .gz) or a folder with test/<class>/*.jpg.
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    /// Split to measure: PublicTest, PrivateTest or Training.
    #[arg(long, default_value = "PublicTest")]
    pub split: String,
    /// Model folder (config.json + model.safetensors); default: the built-in model.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Average each face's probabilities with those of its mirror image.
    #[arg(long)]
    pub tta: bool,
    /// Print one JSON document instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Faces per inference batch.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Also draw the confusion matrix as a heat map into this PNG file.
    #[arg(long, value_name = "OUT.png")]
    pub confusion: Option<PathBuf>,
}

/// Runs `moodreel eval`.
pub fn run(args: Args) -> CommandResult {
    let split: Split = args.split.parse().map_err(CommandError::usage)?;
    let model = load_model(args.model.as_deref())
        .context("loading the expression model")
        .map_err(CommandError::failure)?;
    let faces = dataset::load_split(&args.data, split).map_err(CommandError::failure)?;
    if faces.is_empty() {
        return Err(CommandError::failure(anyhow::anyhow!(
            "{} has no {split} faces",
            args.data.display()
        )));
    }
    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(faces.len() as u64).with_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} faces {per_sec} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        )
    };
    bar.set_message(format!("{split}"));
    let evaluation = train::evaluate(&model, &faces, args.tta, args.batch.max(1), |done| {
        bar.set_position(done as u64)
    })
    .map_err(CommandError::failure)?;
    bar.finish_and_clear();
    let report = EvalReport::new(
        split.name(),
        &evaluation.confusion,
        args.tta,
        evaluation.seconds,
    );
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).context("cannot write JSON")?
        );
    } else {
        print!("{}", format_report(&report));
    }
    if let Some(path) = &args.confusion {
        train::plot_confusion(&report, path).map_err(CommandError::failure)?;
    }
    Ok(())
}

/// The human-readable report: summary, per-class table and confusion matrix.
pub fn format_report(report: &EvalReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} faces, accuracy {:.4}, macro-F1 {:.4}{}, {:.0} faces/s\n",
        report.split,
        report.images,
        report.accuracy,
        report.macro_f1,
        if report.tta { " (flip TTA)" } else { "" },
        report.images_per_second
    );
    let _ = writeln!(
        out,
        "{:<10} {:>9} {:>7} {:>7} {:>8}",
        "class", "precision", "recall", "F1", "support"
    );
    for (emotion, metrics) in Emotion::ALL.iter().zip(&report.per_class.0) {
        let _ = writeln!(
            out,
            "{:<10} {:>9.4} {:>7.4} {:>7.4} {:>8}",
            emotion.name(),
            metrics.precision,
            metrics.recall,
            metrics.f1,
            metrics.support
        );
    }
    let _ = write!(
        out,
        "\nconfusion (rows: true, columns: predicted)\n{:<10}",
        ""
    );
    for emotion in Emotion::ALL {
        let _ = write!(out, " {:>8}", emotion.name());
    }
    out.push('\n');
    for (emotion, row) in Emotion::ALL.iter().zip(&report.confusion) {
        let _ = write!(out, "{:<10}", emotion.name());
        for count in row {
            let _ = write!(out, " {count:>8}");
        }
        out.push('\n');
    }
    out
}
