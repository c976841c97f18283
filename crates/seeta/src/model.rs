//! Reading a SeetaFace detection model file (`seeta_fd_frontal_v1.0.bin`): little-endian
//! 32-bit integers and floats describing the funnel's hierarchies of classifiers.

use crate::lab::LabClassifier;
use crate::surf::{Layer, MlpClassifier};

/// A model file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file ends before the model does.
    #[error("the face model ends early (at byte {0})")]
    Truncated(usize),
    /// A count or size that no model has.
    #[error("the face model is malformed at byte {offset}: {problem}")]
    Malformed {
        /// Where.
        offset: usize,
        /// What.
        problem: &'static str,
    },
}

/// A parsed detection model: read once, shared read-only by every search.
#[derive(Debug, Clone)]
pub struct Model {
    /// The first hierarchy: boosted LAB classifiers run on every window of every pyramid level,
    /// each giving its own proposals (one per head pose the model knows).
    pub(crate) window_classifiers: Vec<LabClassifier>,
    /// The later hierarchies, in order: each entry merges proposals of the previous hierarchy's
    /// entries (`sources`) and refines them through its stages.
    pub(crate) hierarchies: Vec<Vec<Refiner>>,
}

/// One entry of a later hierarchy.
#[derive(Debug, Clone)]
pub(crate) struct Refiner {
    /// The MLP stages, run one after the other on the surviving windows.
    pub(crate) stages: Vec<MlpClassifier>,
    /// Indices of the previous hierarchy's entries whose proposals this entry takes.
    pub(crate) sources: Vec<usize>,
}

const LAB_BOOSTED: i32 = 0;
const SURF_MLP: i32 = 1;

/// Parses a model file.
pub fn read_model(bytes: &[u8]) -> Result<Model, ModelError> {
    let mut reader = Reader { bytes, offset: 0 };
    let hierarchy_count = reader.count(16, "hierarchy count")?;
    let mut window_classifiers = Vec::new();
    let mut hierarchies: Vec<Vec<Refiner>> = Vec::new();
    for hierarchy in 0..hierarchy_count {
        let size = reader.count(64, "hierarchy size")?;
        let mut refiners = Vec::with_capacity(size);
        for _ in 0..size {
            let stage_count = reader.count(64, "stage count")?;
            let mut stages = Vec::with_capacity(stage_count);
            for _ in 0..stage_count {
                let offset = reader.offset;
                match (reader.i32()?, hierarchy) {
                    (LAB_BOOSTED, 0) if stage_count == 1 => {
                        window_classifiers.push(read_lab(&mut reader)?);
                    }
                    (SURF_MLP, 1..) => stages.push(read_mlp(&mut reader)?),
                    _ => {
                        return Err(ModelError::Malformed {
                            offset,
                            problem: "this detector runs one boosted LAB classifier per entry of \
                                      the first hierarchy and MLP stages after it",
                        });
                    }
                }
            }
            // The first hierarchy stores -1 here: it has no sources.
            let source_count = match reader.i32()? {
                ..=0 => 0,
                count @ 1..=64 => count as usize,
                _ => return Err(reader.malformed("window source count")),
            };
            let mut sources = Vec::with_capacity(source_count);
            for _ in 0..source_count {
                sources.push(reader.count(64, "window source")?);
            }
            if hierarchy > 0 {
                refiners.push(Refiner { stages, sources });
            }
        }
        if hierarchy > 0 {
            let previous = hierarchies
                .last()
                .map_or(window_classifiers.len(), Vec::len);
            let valid = refiners.iter().all(|refiner| {
                !refiner.sources.is_empty()
                    && !refiner.stages.is_empty()
                    && refiner.sources.iter().all(|&source| source < previous)
            });
            if !valid {
                return Err(reader.malformed("a hierarchy entry without stages or valid sources"));
            }
            hierarchies.push(refiners);
        }
    }
    if window_classifiers.is_empty() || hierarchies.last().is_none_or(|last| last.len() != 1) {
        return Err(reader.malformed("the funnel must start wide and end in one entry"));
    }
    if reader.offset != bytes.len() {
        return Err(reader.malformed("bytes after the model"));
    }
    Ok(Model {
        window_classifiers,
        hierarchies,
    })
}

fn read_lab(reader: &mut Reader<'_>) -> Result<LabClassifier, ModelError> {
    let count = reader.count(100_000, "LAB base classifier count")?;
    let bins = reader.count(255, "LAB bin count")?;
    if bins != 255 {
        return Err(reader.malformed("LAB features have 256 values"));
    }
    let mut features = Vec::with_capacity(count);
    for _ in 0..count {
        let x = reader.count(64, "LAB feature x")?;
        let y = reader.count(64, "LAB feature y")?;
        // A feature reads a 9×9 neighbourhood from its corner, inside the 40-pixel window.
        if x + 9 > 40 || y + 9 > 40 {
            return Err(reader.malformed("LAB feature outside the window"));
        }
        features.push((x as u32, y as u32));
    }
    let mut thresholds = Vec::with_capacity(count);
    for _ in 0..count {
        thresholds.push(reader.f32()?);
    }
    let mut weights = Vec::with_capacity(count);
    for _ in 0..count {
        let mut table = [0.0f32; 256];
        for weight in &mut table {
            *weight = reader.f32()?;
        }
        weights.push(table);
    }
    Ok(LabClassifier::new(features, weights, thresholds))
}

fn read_mlp(reader: &mut Reader<'_>) -> Result<MlpClassifier, ModelError> {
    let layer_count = reader.count(16, "MLP layer count")?;
    let feature_count = reader.count(1_000, "MLP feature count")?;
    let mut features = Vec::with_capacity(feature_count);
    for _ in 0..feature_count {
        // 1-based in the file.
        let id = reader.count(100_000, "MLP feature id")?;
        features.push(id.checked_sub(1).ok_or(reader.malformed("feature id 0"))?);
    }
    let threshold = reader.f32()?;
    let mut input = reader.count(100_000, "MLP input size")?;
    let mut layers = Vec::with_capacity(layer_count);
    for _ in 1..layer_count {
        let output = reader.count(100_000, "MLP layer size")?;
        let mut weights = Vec::with_capacity(input * output);
        for _ in 0..input * output {
            weights.push(reader.f32()?);
        }
        let mut biases = Vec::with_capacity(output);
        for _ in 0..output {
            biases.push(reader.f32()?);
        }
        layers.push(Layer::new(input, weights, biases));
        input = output;
    }
    MlpClassifier::new(features, threshold, layers)
        .ok_or(reader.malformed("MLP layers that do not chain, or fewer than four outputs"))
}

struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl Reader<'_> {
    fn word(&mut self) -> Result<[u8; 4], ModelError> {
        let word = self
            .bytes
            .get(self.offset..self.offset + 4)
            .and_then(|slice| <[u8; 4]>::try_from(slice).ok())
            .ok_or(ModelError::Truncated(self.offset))?;
        self.offset += 4;
        Ok(word)
    }

    fn i32(&mut self) -> Result<i32, ModelError> {
        self.word().map(i32::from_le_bytes)
    }

    fn f32(&mut self) -> Result<f32, ModelError> {
        self.word().map(f32::from_le_bytes)
    }

    /// A non-negative count no larger than `max`.
    fn count(&mut self, max: usize, what: &'static str) -> Result<usize, ModelError> {
        let offset = self.offset;
        let value = self.i32()?;
        usize::try_from(value)
            .ok()
            .filter(|&value| value <= max)
            .ok_or(ModelError::Malformed {
                offset,
                problem: what,
            })
    }

    fn malformed(&self, problem: &'static str) -> ModelError {
        ModelError::Malformed {
            offset: self.offset,
            problem,
        }
    }
}
