//! Helpers shared by the integration tests and the calibration example: the committed test
//! photo, where the development data lives, a FER-2013 reader, and a small deterministic random
//! generator.

#![allow(dead_code)]

use std::io::BufReader;
use std::path::Path;

use anyhow::Context;
use vision::image::{DynamicImage, GrayImage, ImageBuffer};

/// `../shared/data` next to the repository, or `None` (with a `SKIPPED` note on stderr) when it
/// is absent, as in a fresh clone: tests that need it then skip.
#[allow(unused_imports)] // as with the functions here, not every test file uses it
pub use devdata::shared_data;

/// The public-domain astronaut portrait committed in `testdata/` (one frontal face; see
/// `testdata/README.md`), decoded: present in every clone, so detection is always tested.
pub fn astronaut() -> DynamicImage {
    let path = devdata::testdata("astronaut.png");
    let bytes = std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    vision::decode(&bytes).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
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

/// Where a face was pasted in a round-trip scene: top-left corner and side, in the upright
/// scene.
#[derive(Debug, Clone, Copy)]
pub struct Pasted {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Side of the enlarged face.
    pub side: u32,
}

impl Pasted {
    /// Whether a box lies on this face: centre inside the pasted square, side within half of it.
    pub fn is_hit(&self, face: &vision::FaceBox) -> bool {
        let (x, y) = face.centre();
        let half = self.side as f32 / 2.0;
        let size = face.width as f32 / self.side as f32;
        (x - (self.x as f32 + half)).abs() < half
            && (y - (self.y as f32 + half)).abs() < half
            && (0.5..1.5).contains(&size)
    }
}

/// One round-trip scene: the JPEG bytes (with an EXIF orientation) and where the face is.
pub struct Scene {
    /// The file as a user would upload it.
    pub jpeg: Vec<u8>,
    /// Where the face lies in the upright picture.
    pub pasted: Pasted,
    /// 0 grey, 1 noise, 2 a photo without a face.
    pub background: u32,
    /// The EXIF orientation written into the file (1–8).
    pub orientation: u16,
}

/// The round-trip scenes: each face enlarged (Catmull-Rom) to a random 60–300 px, pasted at a
/// random place on a 640×480 background (grey, noise, or one of `photos`, in turn), stored as a
/// JPEG with a random EXIF orientation. The same seed gives the same scenes.
pub fn round_trip_scenes(faces: &[&FerFace], photos: &[DynamicImage], seed: u64) -> Vec<Scene> {
    use vision::image::imageops::{self, FilterType};

    let mut random = SplitMix(seed);
    let mut scenes = Vec::with_capacity(faces.len());
    for (index, face) in faces.iter().enumerate() {
        let side = random.range(60, 300);
        let pasted = Pasted {
            x: random.range(0, 640 - side),
            y: random.range(0, 480 - side),
            side,
        };
        let kind = index as u32 % 3;
        let mut scene = scene_background(kind, photos, &mut random);
        let enlarged = imageops::resize(&face.image, side, side, FilterType::CatmullRom);
        let enlarged = DynamicImage::ImageLuma8(enlarged).to_rgb8();
        imageops::replace(
            &mut scene,
            &enlarged,
            i64::from(pasted.x),
            i64::from(pasted.y),
        );
        let orientation = random.range(1, 8) as u16;
        let jpeg = jpeg_with_orientation(
            &stored_for(&DynamicImage::ImageRgb8(scene), orientation),
            orientation,
        );
        scenes.push(Scene {
            jpeg,
            pasted,
            background: kind,
            orientation,
        });
    }
    scenes
}

fn scene_background(
    kind: u32,
    photos: &[DynamicImage],
    random: &mut SplitMix,
) -> vision::image::RgbImage {
    use vision::image::imageops::FilterType;
    use vision::image::{Rgb, RgbImage};

    match kind {
        0 => RgbImage::from_pixel(640, 480, Rgb([128, 128, 128])),
        1 => RgbImage::from_fn(640, 480, |_, _| {
            let level = (random.next_u64() % 256) as u8;
            Rgb([level, level.wrapping_add(40), level / 2])
        }),
        _ => {
            let photo = &photos[random.range(0, photos.len() as u32 - 1) as usize];
            photo
                .resize_to_fill(640, 480, FilterType::Triangle)
                .to_rgb8()
        }
    }
}

/// The stored picture for an EXIF orientation: the inverse transform of the upright scene, so
/// that a decoder applying the orientation shows the scene upright again.
pub fn stored_for(scene: &DynamicImage, orientation: u16) -> DynamicImage {
    match orientation {
        2 => scene.fliph(),
        3 => scene.rotate180(),
        4 => scene.flipv(),
        5 => scene.rotate90().fliph(),
        6 => scene.rotate270(),
        7 => scene.rotate270().fliph(),
        8 => scene.rotate90(),
        _ => scene.clone(),
    }
}

/// A JPEG of `image` (quality 90) with an APP1 EXIF segment holding only the orientation.
pub fn jpeg_with_orientation(image: &DynamicImage, orientation: u16) -> Vec<u8> {
    use vision::image::codecs::jpeg::JpegEncoder;

    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(image)
        .expect("encoding in memory");
    with_exif_orientation(&jpeg, orientation)
}

/// `jpeg` with an EXIF APP1 segment holding only `orientation` spliced in by hand right after
/// the start-of-image marker.
pub fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "a JPEG starts with SOI");
    let tiff = exif_orientation_block(orientation);
    let length = u16::try_from(2 + 6 + tiff.len()).expect("a tiny segment");
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A little-endian TIFF block whose only IFD entry is the EXIF orientation.
pub fn exif_orientation_block(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes()); // first IFD right after the header
    tiff.extend_from_slice(&1u16.to_le_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes()); // one value
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    tiff
}

/// The photos of `photos/no_face/images`, decoded, in file-name order.
pub fn no_face_photos(data: &Path) -> anyhow::Result<Vec<DynamicImage>> {
    let mut paths: Vec<_> = std::fs::read_dir(data.join("photos/no_face/images"))?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|entry| entry.path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| Ok(vision::decode(&std::fs::read(path)?)?))
        .collect()
}
