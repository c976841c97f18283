//! Helpers shared by the integration tests and the calibration example: where the development
//! data lives, a FER-2013 reader, and a small deterministic random generator.

#![allow(dead_code)]

use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::Context;
use vision::image::{DynamicImage, GrayImage, ImageBuffer};

/// `../shared/data` next to the repository, or `None` (with a note on stderr) when it is absent,
/// as in a fresh clone: tests that need it then skip.
pub fn shared_data(what: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {what}: development data not found at {}",
            dir.display()
        );
        None
    }
}

/// One FER-2013 face: its label (0..7, FER order) and 48×48 grey pixels.
pub struct FerFace {
    /// Emotion index in FER-2013 order.
    pub emotion: u8,
    /// The 48×48 grey picture.
    pub image: GrayImage,
}

/// Reads the faces of one `Usage` split from a Kaggle-layout FER-2013 CSV (optionally gzipped),
/// keeping at most `limit` of them.
pub fn read_fer(path: &Path, usage: &str, limit: usize) -> anyhow::Result<Vec<FerFace>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader: Box<dyn std::io::Read> = if path.extension().is_some_and(|ext| ext == "gz") {
        Box::new(flate2::read::GzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut csv = csv::Reader::from_reader(reader);
    let mut faces = Vec::new();
    for (line, record) in csv.records().enumerate() {
        let record = record.with_context(|| format!("{}:{}", path.display(), line + 2))?;
        if record.get(2) != Some(usage) {
            continue;
        }
        let emotion: u8 = record.get(0).unwrap_or_default().parse()?;
        let pixels = record
            .get(1)
            .unwrap_or_default()
            .split(' ')
            .map(str::parse::<u8>)
            .collect::<Result<Vec<_>, _>>()?;
        let image: GrayImage = ImageBuffer::from_raw(48, 48, pixels)
            .with_context(|| format!("{}:{}: not 48×48 pixels", path.display(), line + 2))?;
        faces.push(FerFace { emotion, image });
        if faces.len() == limit {
            break;
        }
    }
    Ok(faces)
}

/// The 48×48 face as a dynamic image.
pub fn as_dynamic(face: &GrayImage) -> DynamicImage {
    DynamicImage::ImageLuma8(face.clone())
}

/// SplitMix64: a tiny, seedable, deterministic generator for building test scenes.
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `low..=high`.
    pub fn range(&mut self, low: u32, high: u32) -> u32 {
        low + (self.next_u64() % u64::from(high - low + 1)) as u32
    }
}

/// Mean absolute difference between two grey images of the same size.
pub fn mean_abs_diff(a: &GrayImage, b: &GrayImage) -> f64 {
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

/// Median of a list of numbers (which it sorts).
pub fn median(values: &mut [f64]) -> f64 {
    quantile(values, 0.5)
}

/// The q-quantile (nearest rank) of a list of numbers (which it sorts).
pub fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    if values.is_empty() {
        return f64::NAN;
    }
    let index = ((values.len() - 1) as f64 * q).round() as usize;
    values[index]
}
