//! How the pipeline reads photos whose orientation was lost: every `faces_dev` photo turned a
//! quarter anticlockwise, half round and a quarter clockwise (pixels turned, no EXIF tag), read
//! by the whole pipeline. Prints, per turn, the photos in which a face was found and the share
//! of photos whose largest face reads as its label (as `moodreel eval-photos` counts them).
//!
//! Usage: `cargo run --release --example turned_photos`. Needs the development data
//! `../shared/data/photos/faces_dev`.

#[path = "../tests/cli_support/mod.rs"]
mod cli_support;

use image::DynamicImage;
use moodreel::commands::eval_photos;
use moodreel::pipeline::PhotoPipeline;

/// A way of turning a photo's pixels.
type Turn = fn(&DynamicImage) -> DynamicImage;

fn main() -> anyhow::Result<()> {
    let Some(data) = cli_support::shared_data("turned photos") else {
        return Ok(());
    };
    let dir = data.join("photos/faces_dev");
    let mut photos = Vec::new();
    for (file, label) in eval_photos::read_labels(&dir).map_err(|failure| failure.error)? {
        // `faces_dev` labels every photo with an emotion.
        let Some(label) = label.emotion() else {
            anyhow::bail!("{file}: labelled {label:?}, not with an emotion");
        };
        let image = vision::decode(&std::fs::read(dir.join(&file))?)?;
        photos.push((image, label));
    }
    let pipeline = PhotoPipeline::load(None, true)?;
    let turns: [(&str, Turn); 4] = [
        ("upright", DynamicImage::clone),
        ("a quarter anticlockwise", DynamicImage::rotate270),
        ("half round", DynamicImage::rotate180),
        ("a quarter clockwise", DynamicImage::rotate90),
    ];
    for (name, turn) in turns {
        let (mut found, mut correct) = (0, 0);
        for (image, label) in &photos {
            let reading = pipeline.read_image(&turn(image))?;
            if let Some(face) = reading.largest_face() {
                found += 1;
                correct += usize::from(face.emotion() == *label);
            }
        }
        println!(
            "{name}: faces in {found}/{} photos, accuracy {:.1}%",
            photos.len(),
            100.0 * correct as f64 / photos.len() as f64
        );
    }
    Ok(())
}
