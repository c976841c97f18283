//! The image-folder layout: `<root>/<split>/<class>/*.{jpg,png,...}`.

use std::path::{Path, PathBuf};

use faceinput::{FACE_PIXELS, FACE_SIDE};
use mood::Emotion;

use crate::{DatasetError, FerSplit, Split};

/// Folder names accepted for each split, first match wins (case-insensitive).
fn folder_names(split: Split) -> &'static [&'static str] {
    match split {
        Split::Training => &["Training", "train"],
        Split::PublicTest => &["PublicTest", "test", "val", "validation"],
        Split::PrivateTest => &["PrivateTest"],
    }
}

/// Reads one split from the folder layout. Class folders are the emotion names
/// (case-insensitive); images must be 48×48 (grey, or colour converted with BT.601 luma).
/// Files are read in name order so the result is deterministic.
pub fn read_folder_split(root: &Path, split: Split) -> Result<FerSplit, DatasetError> {
    let split_dir =
        find_child(root, folder_names(split))?.ok_or_else(|| DatasetError::MissingSplitFolder {
            path: root.to_owned(),
            split,
            looked_for: folder_names(split).join(", "),
        })?;
    let mut result = FerSplit::default();
    for emotion in Emotion::ALL {
        let Some(class_dir) = find_child(&split_dir, &[emotion.name()])? else {
            continue;
        };
        for path in sorted_files(&class_dir)? {
            let face = read_face(&path)?;
            result.push(&face, emotion.index() as u8, None);
        }
    }
    Ok(result)
}

fn find_child(dir: &Path, names: &[&str]) -> Result<Option<PathBuf>, DatasetError> {
    let mut children = list(dir)?;
    children.retain(|p| p.is_dir());
    Ok(names.iter().find_map(|name| {
        children
            .iter()
            .find(|child| {
                child
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .cloned()
    }))
}

fn list(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let io_error = |source| DatasetError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error)? {
        entries.push(entry.map_err(io_error)?.path());
    }
    entries.sort();
    Ok(entries)
}

fn sorted_files(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let mut files = list(dir)?;
    files.retain(|p| {
        p.is_file()
            && p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                ["jpg", "jpeg", "png", "bmp", "gif", "webp"]
                    .contains(&e.to_ascii_lowercase().as_str())
            })
    });
    Ok(files)
}

fn read_face(path: &Path) -> Result<Vec<u8>, DatasetError> {
    let bad = |message: String| DatasetError::BadImage {
        path: path.to_owned(),
        message,
    };
    let image = image::open(path).map_err(|error| bad(error.to_string()))?;
    if image.width() as usize != FACE_SIDE || image.height() as usize != FACE_SIDE {
        return Err(bad(format!(
            "{}×{} image, expected {FACE_SIDE}×{FACE_SIDE}",
            image.width(),
            image.height()
        )));
    }
    let face: Vec<u8> = match image {
        image::DynamicImage::ImageLuma8(grey) => grey.into_raw(),
        other => other
            .to_rgb8()
            .pixels()
            // The same BT.601 grey as a crop from a photo (`faceinput` holds the weights).
            .map(|p| faceinput::luma_bt601(p.0[0], p.0[1], p.0[2]))
            .collect(),
    };
    debug_assert_eq!(face.len(), FACE_PIXELS);
    Ok(face)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_class_folders_case_insensitively() {
        let dir = tempfile::tempdir().unwrap();
        for (class, level) in [("Happy", 10u8), ("sad", 20), ("NEUTRAL", 30)] {
            let class_dir = dir.path().join("test").join(class);
            std::fs::create_dir_all(&class_dir).unwrap();
            image::GrayImage::from_pixel(48, 48, image::Luma([level]))
                .save(class_dir.join("a.png"))
                .unwrap();
        }
        let split = read_folder_split(dir.path(), Split::PublicTest).unwrap();
        assert_eq!(split.labels, vec![3, 4, 6]);
        assert_eq!(split.face(2)[0], 30);
        let error = read_folder_split(dir.path(), Split::Training).unwrap_err();
        assert!(error.to_string().contains("no folder for split Training"));
    }

    #[test]
    fn wrong_sized_images_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let class_dir = dir.path().join("train").join("fear");
        std::fs::create_dir_all(&class_dir).unwrap();
        image::GrayImage::new(10, 10)
            .save(class_dir.join("x.png"))
            .unwrap();
        let error = read_folder_split(dir.path(), Split::Training)
            .unwrap_err()
            .to_string();
        assert!(error.contains("10×10 image"), "{error}");
    }
}
