//! Readers for the FER-2013 facial-expression dataset and the FER+ vote labels.
//!
//! FER-2013 comes in two layouts: the Kaggle CSV (`emotion,pixels,Usage`, plain or gzip, extra
//! columns such as `row` ignored) and image folders (`train/<class>/*.jpg`, `test/<class>/*.jpg`).
//! Both load into a [`FerSplit`]: 48×48 grey faces as bytes with their labels, ready for
//! training or evaluation. FER+ votes (Barsoum et al. 2016) join on the original row index and
//! give soft labels. Bad rows are reported as `file:line: column: problem`, never as panics.
//!
//! This crate reads data; it does not augment, train or run a model.

mod csv_layout;
mod ferplus;
mod folder_layout;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use csv_layout::read_csv;
pub use ferplus::{FerPlusVotes, read_ferplus};
pub use folder_layout::read_folder_split;

use faceinput::FACE_PIXELS;
use mood::EMOTION_COUNT;

/// The three FER-2013 splits, as named in the Kaggle CSV's `Usage` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// 28,709 training faces.
    Training,
    /// 3,589 faces for model selection.
    PublicTest,
    /// 3,589 faces for the final test.
    PrivateTest,
}

impl Split {
    /// The name used in the `Usage` column.
    pub fn name(self) -> &'static str {
        match self {
            Split::Training => "Training",
            Split::PublicTest => "PublicTest",
            Split::PrivateTest => "PrivateTest",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Split {
    type Err = DatasetError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [Split::Training, Split::PublicTest, Split::PrivateTest]
            .into_iter()
            .find(|split| split.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| DatasetError::UnknownSplit(text.to_owned()))
    }
}

/// Faces of one split: grey 48×48 images as bytes, their FER-2013 labels, and optionally the
/// original row index (the FER+ join key) and soft labels.
#[derive(Debug, Clone, Default)]
pub struct FerSplit {
    /// `len() * 2304` grey levels, face after face, row-major.
    pub pixels: Vec<u8>,
    /// FER-2013 class id (0..=6) of each face.
    pub labels: Vec<u8>,
    /// Row index in the original Kaggle `fer2013.csv`, where known.
    pub rows: Vec<Option<u32>>,
    /// Soft labels (probabilities in FER order) from FER+ votes, when joined.
    pub soft_labels: Option<Vec<[f32; EMOTION_COUNT]>>,
}

impl FerSplit {
    /// Number of faces.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no faces.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The grey levels of face `index`.
    pub fn face(&self, index: usize) -> &[u8; FACE_PIXELS] {
        let start = index * FACE_PIXELS;
        self.pixels[start..start + FACE_PIXELS]
            .try_into()
            .expect("pixels holds FACE_PIXELS bytes per label")
    }

    /// Faces per class, in FER order.
    pub fn class_counts(&self) -> [usize; EMOTION_COUNT] {
        let mut counts = [0; EMOTION_COUNT];
        for &label in &self.labels {
            counts[usize::from(label)] += 1;
        }
        counts
    }

    fn push(&mut self, face: &[u8], label: u8, row: Option<u32>) {
        self.pixels.extend_from_slice(face);
        self.labels.push(label);
        self.rows.push(row);
    }
}

/// Loads one split from a FER-2013 path: a Kaggle CSV file (plain or `.gz`) or a folder in the
/// image layout.
pub fn load_split(path: &Path, split: Split) -> Result<FerSplit, DatasetError> {
    if path.is_dir() {
        read_folder_split(path, split)
    } else {
        let mut splits = read_csv(path, &[split])?;
        Ok(splits.pop().unwrap_or_default())
    }
}

/// Loads several splits from a FER-2013 path in one pass (one read of a CSV file).
pub fn load_splits(path: &Path, splits: &[Split]) -> Result<Vec<FerSplit>, DatasetError> {
    if path.is_dir() {
        splits
            .iter()
            .map(|&split| read_folder_split(path, split))
            .collect()
    } else {
        read_csv(path, splits)
    }
}

/// Opens a file for reading, decompressing it when it starts with the gzip magic bytes.
fn open_maybe_gzip(path: &Path) -> Result<Box<dyn std::io::Read>, DatasetError> {
    use std::io::BufRead;
    let io_error = |source| DatasetError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::io::BufReader::new(std::fs::File::open(path).map_err(io_error)?);
    let is_gzip = file
        .fill_buf()
        .map_err(io_error)?
        .starts_with(&[0x1f, 0x8b]);
    Ok(if is_gzip {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    })
}

/// What went wrong reading a dataset.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A file or folder that cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A row with a bad value.
    #[error("{path}:{line}: {column}: {problem}")]
    BadRow {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The column at fault.
        column: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A CSV file without a needed column.
    #[error("{path}: missing column {column:?} (found: {found})")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column that is missing.
        column: String,
        /// The columns that are there.
        found: String,
    },
    /// An image in the folder layout that cannot be decoded.
    #[error("{path}: {message}")]
    BadImage {
        /// The image file.
        path: PathBuf,
        /// Why it cannot be used.
        message: String,
    },
    /// A folder dataset without the folder of a split.
    #[error("{path}: no folder for split {split} (looked for {looked_for})")]
    MissingSplitFolder {
        /// The dataset root.
        path: PathBuf,
        /// The split.
        split: Split,
        /// The folder names tried.
        looked_for: String,
    },
    /// A split name that is not Training, PublicTest or PrivateTest.
    #[error("unknown split {0:?}; expected Training, PublicTest or PrivateTest")]
    UnknownSplit(String),
}
