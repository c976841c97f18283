//! What the commands share: the expression-model arguments and the one way a pipeline is built
//! from them, reading a photo file, and writing a command's output.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};

use crate::exit::{CommandError, CommandResult};
use crate::pipeline::{FaceResponse, PhotoPipeline, PhotoReading};

/// `--model DIR` and `--no-tta`, shared by every command that reads photos.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ModelArgs {
    /// Use the expression model in this folder instead of the built-in one.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,

    /// Classify each face once, without also classifying its mirror image (faster).
    #[arg(long)]
    pub no_tta: bool,
}

impl ModelArgs {
    /// The photo pipeline with the model asked for.
    pub fn pipeline(&self) -> anyhow::Result<PhotoPipeline> {
        PhotoPipeline::load(self.model.as_deref(), !self.no_tta)
            .context("loading the expression model")
    }
}

/// Reads a photo file through the pipeline; errors name the file.
pub fn read_photo(
    pipeline: &PhotoPipeline,
    path: &Path,
) -> anyhow::Result<(image::DynamicImage, PhotoReading)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    pipeline
        .read_bytes(&bytes)
        .with_context(|| format!("{}", path.display()))
}

/// One line for one face (`index` counts from 0): where it is and how it reads.
pub fn write_face_line(out: &mut String, index: usize, face: &FaceResponse) {
    let _ = writeln!(
        out,
        "  face {} at ({}, {}) {}×{}: {} {:.0}%{}",
        index + 1,
        face.bounds.x,
        face.bounds.y,
        face.bounds.w,
        face.bounds.h,
        face.emotion.name(),
        100.0 * face.confidence,
        if face.uncertain { " (uncertain)" } else { "" }
    );
}

/// Prints one JSON document on stdout.
pub fn print_json(value: &impl serde::Serialize) -> CommandResult {
    let mut text = serde_json::to_string_pretty(value).map_err(CommandError::failure)?;
    text.push('\n');
    write_stdout(&text)
}

/// Writes a command's output to stdout. A closed pipe (`moodreel ... | head`) is not an error:
/// the reader has all it wanted.
pub fn write_stdout(text: &str) -> CommandResult {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(CommandError::failure(
            anyhow!("cannot write the output: {error}"),
        )),
        _ => Ok(()),
    }
}
