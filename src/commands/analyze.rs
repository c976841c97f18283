//! `moodreel analyze`: the faces in photos, each face's seven emotion probabilities, and the
//! group mood; optionally a copy of the photo with labelled boxes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ab_glyph::{FontRef, PxScale};
use anyhow::{Context, anyhow};
use image::{Rgb, RgbImage};
use imageproc::drawing::{
    draw_filled_circle_mut, draw_filled_rect_mut, draw_hollow_rect_mut, draw_text_mut, text_size,
};
use imageproc::rect::Rect;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::commands::common::{ModelArgs, print_json, read_photo, write_face_line, write_stdout};
use crate::exit::{CommandError, CommandResult};
use crate::pipeline::{AnalyzeResponse, PhotoPipeline, PhotoReading};

/// Extensions of the files taken from a folder.
const IMAGE_EXTENSIONS: [&str; 6] = ["jpg", "jpeg", "png", "webp", "gif", "bmp"];

/// Arguments of `moodreel analyze`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  moodreel analyze selfie.jpg\n  moodreel analyze selfie.jpg --json --annotate boxes.png\n  moodreel analyze holiday/ --json > moods.json"
)]
pub struct Args {
    /// Photos (JPEG, PNG, WebP, GIF, BMP), or folders whose photos are all read.
    #[arg(required = true, value_name = "IMAGE|DIR")]
    pub inputs: Vec<PathBuf>,

    /// Print JSON: one object per photo ({"file","width","height","faces","mood"}), or an array
    /// of them when there are several photos.
    #[arg(long)]
    pub json: bool,

    /// Write the photo with a labelled box on every face to this PNG (one photo only).
    #[arg(long, value_name = "OUT.png")]
    pub annotate: Option<PathBuf>,

    /// The expression model.
    #[command(flatten)]
    pub model: ModelArgs,
}

/// Runs `moodreel analyze`.
pub fn run(args: Args) -> CommandResult {
    let photos = expand_inputs(&args.inputs).map_err(CommandError::usage)?;
    let single = args.inputs.len() == 1 && photos.len() == 1 && args.inputs[0].is_file();
    if args.annotate.is_some() && !single {
        return Err(CommandError::usage(anyhow!(
            "--annotate draws on one photo; give a single IMAGE"
        )));
    }
    if photos.is_empty() {
        return Err(CommandError::usage(anyhow!(
            "no photos found (looked for {})",
            IMAGE_EXTENSIONS.join(", ")
        )));
    }
    let pipeline = args.model.pipeline()?;

    if single {
        return run_single(&pipeline, &photos[0], &args);
    }
    let progress = ProgressBar::new(photos.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} photos {elapsed} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let results: Vec<Result<AnalyzeResponse, String>> = photos
        .par_iter()
        .map(|path| {
            let result = read_photo(&pipeline, path)
                .map(|(_, reading)| AnalyzeResponse::new(Some(display(path)), &reading))
                .map_err(|error| format!("{error:#}"));
            progress.inc(1);
            result
        })
        .collect();
    progress.finish_and_clear();

    let failures = results.iter().filter(|result| result.is_err()).count();
    if args.json {
        let documents: Vec<serde_json::Value> = results
            .iter()
            .zip(&photos)
            .map(|(result, path)| match result {
                Ok(response) => serde_json::to_value(response).unwrap_or_default(),
                Err(error) => serde_json::json!({"file": display(path), "error": error}),
            })
            .collect();
        print_json(&documents)?;
    } else {
        let mut out = String::new();
        for (result, path) in results.iter().zip(&photos) {
            match result {
                Ok(response) => summarise(&mut out, response),
                Err(error) => {
                    let _ = writeln!(out, "{}: error: {error}\n", display(path));
                }
            }
        }
        write_stdout(&out)?;
    }
    if failures > 0 {
        return Err(CommandError::failure(anyhow!(
            "{failures} of {} photos could not be read",
            photos.len()
        )));
    }
    Ok(())
}

fn run_single(pipeline: &PhotoPipeline, path: &Path, args: &Args) -> CommandResult {
    let (image, reading) = read_photo(pipeline, path)?;
    let response = AnalyzeResponse::new(Some(display(path)), &reading);
    if args.json {
        print_json(&response)?;
    } else {
        let mut out = String::new();
        summarise(&mut out, &response);
        write_stdout(&out)?;
    }
    if let Some(out) = &args.annotate {
        annotate(&image.to_rgb8(), &reading)
            .save_with_format(out, image::ImageFormat::Png)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    if reading.faces.is_empty() {
        return Err(CommandError::no_face(anyhow!(
            "no face found in {}",
            path.display()
        )));
    }
    Ok(())
}

/// Files as given; folders replaced by their photos (by extension, sorted, not recursive).
pub(crate) fn expand_inputs(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut photos = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("reading folder {}", input.display()))?
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| path.is_file() && has_image_extension(path))
                .collect();
            found.sort();
            photos.extend(found);
        } else if input.is_file() {
            photos.push(input.clone());
        } else {
            return Err(anyhow!("{}: no such file or folder", input.display()));
        }
    }
    Ok(photos)
}

fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            IMAGE_EXTENSIONS.contains(&extension.to_ascii_lowercase().as_str())
        })
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// The readable summary: each face with sorted, labelled bars, then the group mood.
fn summarise(out: &mut String, response: &AnalyzeResponse) {
    let file = response.file.as_deref().unwrap_or("photo");
    let count = response.faces.len();
    let _ = writeln!(
        out,
        "{file} ({}×{}): {count} face{}",
        response.width,
        response.height,
        if count == 1 { "" } else { "s" }
    );
    if count == 0 {
        let _ = writeln!(
            out,
            "  no face found; try `moodreel recommend --mood EMOTION`"
        );
    }
    for (index, face) in response.faces.iter().enumerate() {
        write_face_line(out, index, face);
        for (emotion, probability) in face.probabilities.ranked() {
            let filled = (probability * 30.0).round() as usize;
            let _ = writeln!(
                out,
                "    {:<9}{}{} {:>3.0}%",
                emotion.name(),
                "█".repeat(filled),
                "·".repeat(30 - filled.min(30)),
                100.0 * probability
            );
        }
    }
    if let Some(mood) = &response.mood
        && count > 1
    {
        let _ = writeln!(
            out,
            "  group mood: {} {:.0}%",
            mood.emotion.name(),
            100.0 * mood.probabilities.confidence()
        );
    }
    out.push('\n');
}

/// The photo with a box, its landmarks (dots) and an "emotion NN%" label on every face, in
/// DejaVu Sans.
fn annotate(photo: &RgbImage, reading: &PhotoReading) -> RgbImage {
    let mut canvas = photo.clone();
    let font = FontRef::try_from_slice(dejavu::sans::bold());
    let (width, height) = canvas.dimensions();
    let thickness = (width.max(height) / 300).clamp(2, 8);
    let scale = PxScale::from((width.max(height) as f32 / 32.0).clamp(14.0, 64.0));
    for face in &reading.faces {
        let colour = if face.uncertain() {
            Rgb([240, 180, 40])
        } else {
            Rgb([40, 220, 90])
        };
        let FaceBoxPixels { x, y, w, h } = FaceBoxPixels::from(face);
        for inset in 0..thickness {
            let (inset_w, inset_h) = (w.saturating_sub(2 * inset), h.saturating_sub(2 * inset));
            if inset_w > 0 && inset_h > 0 {
                let rect = Rect::at(x + inset as i32, y + inset as i32).of_size(inset_w, inset_h);
                draw_hollow_rect_mut(&mut canvas, rect, colour);
            }
        }
        if let Some(landmarks) = &face.face.landmarks {
            let radius = (thickness as i32 + 1).max(2);
            for (_, (point_x, point_y)) in landmarks.points() {
                // `as` saturates: a point far outside the photo is simply not drawn.
                let centre = (point_x.round() as i32, point_y.round() as i32);
                draw_filled_circle_mut(&mut canvas, centre, radius + 1, Rgb([0, 0, 0]));
                draw_filled_circle_mut(&mut canvas, centre, radius, colour);
            }
        }
        let Ok(font) = &font else { continue };
        let label = format!(
            "{} {:.0}%{}",
            face.emotion().name(),
            100.0 * face.confidence(),
            if face.uncertain() { "?" } else { "" }
        );
        let (text_w, text_h) = text_size(scale, font, &label);
        let pad = 4;
        let label_h = text_h + 2 * pad;
        // Above the box when there is room, else inside its top edge.
        let label_y = if y >= label_h as i32 {
            y - label_h as i32
        } else {
            y.max(0)
        };
        let label_x = x.clamp(0, (width as i32 - text_w as i32 - 2 * pad as i32).max(0));
        draw_filled_rect_mut(
            &mut canvas,
            Rect::at(label_x, label_y).of_size(text_w + 2 * pad, label_h),
            colour,
        );
        draw_text_mut(
            &mut canvas,
            Rgb([0, 0, 0]),
            label_x + pad as i32,
            label_y + pad as i32,
            scale,
            font,
            &label,
        );
    }
    canvas
}

/// A face box in the integer types the drawing functions take.
struct FaceBoxPixels {
    x: i32,
    y: i32,
    w: u32,
    h: u32,
}

impl From<&crate::pipeline::FaceReading> for FaceBoxPixels {
    fn from(reading: &crate::pipeline::FaceReading) -> Self {
        Self {
            x: reading.face.x,
            y: reading.face.y,
            w: reading.face.width.max(1),
            h: reading.face.height.max(1),
        }
    }
}
