//! Loading weights and classifying faces.

use std::path::Path;

use burn::prelude::*;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::inference::Inference;
use crate::network::{ExpressionNet, NetworkConfig};
use crate::preprocess::{FaceCrop, mirror, normalise_into};
use crate::{ExpressionError, FACE_PIXELS, Probabilities};

/// The most faces one thread reads in one pass. A batch is split into as many chunks as the
/// current rayon pool has threads, each at most this long (a face and its mirror image are read
/// side by side on two threads, together on one).
const CHUNK: usize = 8;

/// File name of the weights inside a model directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// File name of the network shape inside a model directory.
pub const CONFIG_FILE: &str = "config.json";

/// What a model's `config.json` holds: the network's shape and the input it was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// The network's shape (its fields sit at the top level of the file).
    #[serde(flatten)]
    pub network: NetworkConfig,
    /// The faces the weights expect. Configs written before this was recorded have no `input`
    /// section; every such model was trained on [`InputConfig::default`], which is assumed.
    #[serde(default)]
    pub input: InputConfig,
}

impl ModelConfig {
    /// The config of a network trained on this build's input (what training writes).
    pub fn for_network(network: NetworkConfig) -> Self {
        Self {
            network,
            input: InputConfig::default(),
        }
    }
}

/// The input a model was trained on, written beside its weights so that a model folder says
/// how its faces must be prepared.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InputConfig {
    /// Side of the square grey face, in pixels.
    pub side: usize,
    /// Mean subtracted from each grey level on the 0..1 scale.
    pub pixel_mean: f32,
    /// Standard deviation each grey level is divided by, on the 0..1 scale.
    pub pixel_std: f32,
}

impl Default for InputConfig {
    /// The face-input contract of this build (`faceinput`): 48×48, FER-2013 normalisation.
    fn default() -> Self {
        Self {
            side: faceinput::FACE_SIDE,
            pixel_mean: faceinput::FER2013_NORMALISATION.mean,
            pixel_std: faceinput::FER2013_NORMALISATION.std,
        }
    }
}

impl std::fmt::Display for InputConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{side}×{side} faces normalised with mean {mean} and std {std}",
            side = self.side,
            mean = self.pixel_mean,
            std = self.pixel_std
        )
    }
}

/// The two files that make a model, as bytes.
#[derive(Debug, Clone, Copy)]
pub struct ModelFiles<'a> {
    /// Contents of `config.json`.
    pub config: &'a [u8],
    /// Contents of `model.safetensors`.
    pub weights: &'a [u8],
}

/// A trained expression model ready for inference. Load it once and share it.
#[derive(Debug, Clone)]
pub struct ExpressionModel {
    /// The network with its batch norms folded into the convolutions, as plain arrays.
    net: Inference,
    config: NetworkConfig,
    /// Trainable parameters of the network as trained (before folding).
    parameters: usize,
}

/// The shipped model, compiled into the binary (see `models/expression/README.md`).
pub const EMBEDDED: ModelFiles<'static> = ModelFiles {
    config: include_bytes!("../../../models/expression/config.json"),
    weights: include_bytes!("../../../models/expression/model.safetensors"),
};

impl ExpressionModel {
    /// The shipped model, embedded in the binary.
    pub fn embedded() -> Result<Self, ExpressionError> {
        Self::from_files(EMBEDDED, "built-in model")
    }

    /// Loads `config.json` and `model.safetensors` from a model directory (`--model DIR`).
    pub fn load(dir: &Path) -> Result<Self, ExpressionError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|source| ExpressionError::Io { path, source })
        };
        let config = read(CONFIG_FILE)?;
        let weights = read(WEIGHTS_FILE)?;
        Self::from_files(
            ModelFiles {
                config: &config,
                weights: &weights,
            },
            &dir.display().to_string(),
        )
    }

    /// Loads a model from the bytes of its two files; `origin` names them in errors.
    pub fn from_files(files: ModelFiles<'_>, origin: &str) -> Result<Self, ExpressionError> {
        let config: ModelConfig =
            serde_json::from_slice(files.config).map_err(|source| ExpressionError::Config {
                path: format!("{origin}/{CONFIG_FILE}"),
                source,
            })?;
        // Preprocessing is fixed (`faceinput`): a model trained on other input would read
        // every face wrongly, so it is refused rather than run.
        if config.input != InputConfig::default() {
            return Err(ExpressionError::Input {
                path: format!("{origin}/{CONFIG_FILE}"),
                expected: config.input.to_string(),
                prepared: InputConfig::default().to_string(),
            });
        }
        let config = config.network;
        let device = Device::flex();
        let mut net = config.init(&device);
        let mut store = SafetensorsStore::from_bytes(Some(files.weights.to_vec()));
        net.load_from(&mut store)
            .map_err(|error| ExpressionError::Weights {
                path: format!("{origin}/{WEIGHTS_FILE}"),
                message: error.to_string(),
            })?;
        Ok(Self::from_network(net.valid(), config))
    }

    /// Wraps a network already in memory (e.g. straight from training).
    pub fn from_network(net: ExpressionNet, config: NetworkConfig) -> Self {
        let net = net.valid();
        Self {
            parameters: net.num_params(),
            net: Inference::new(&net.fold_batch_norm()),
            config,
        }
    }

    /// The network's shape.
    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    /// Number of trainable parameters.
    pub fn parameter_count(&self) -> usize {
        self.parameters
    }

    /// Softmax probabilities for a batch of faces, in input order. With `tta`, each face is
    /// also classified mirrored and the two probability vectors are averaged.
    pub fn classify(
        &self,
        faces: &[FaceCrop],
        tta: bool,
    ) -> Result<Vec<Probabilities>, ExpressionError> {
        self.classify_pixels(faces.iter().map(FaceCrop::pixels), tta)
    }

    /// [`classify`](Self::classify) for faces given as 48×48 grey levels.
    pub fn classify_pixels<'a>(
        &self,
        faces: impl IntoIterator<Item = &'a [u8; FACE_PIXELS]>,
        tta: bool,
    ) -> Result<Vec<Probabilities>, ExpressionError> {
        let faces: Vec<&[u8; FACE_PIXELS]> = faces.into_iter().collect();
        if faces.is_empty() {
            return Ok(Vec::new());
        }
        if !tta {
            return self.probabilities(&faces);
        }
        // The faces and their mirror images go through the network as one batch: one pass over
        // twice the faces costs less than two passes.
        let mirrored: Vec<[u8; FACE_PIXELS]> = faces.iter().map(|face| mirror(face)).collect();
        let both: Vec<&[u8; FACE_PIXELS]> = faces.iter().copied().chain(&mirrored).collect();
        let both = self.probabilities(&both)?;
        let (plain, flipped) = both.split_at(faces.len());
        Ok(plain
            .iter()
            .zip(flipped)
            .map(|(a, b)| std::array::from_fn(|i| 0.5 * (a[i] + b[i])))
            .collect())
    }

    fn probabilities(
        &self,
        faces: &[&[u8; FACE_PIXELS]],
    ) -> Result<Vec<Probabilities>, ExpressionError> {
        let read = |chunk: &[&[u8; FACE_PIXELS]]| {
            let mut input = vec![0.0; chunk.len() * FACE_PIXELS];
            for (face, values) in chunk.iter().zip(input.chunks_exact_mut(FACE_PIXELS)) {
                normalise_into(face, values);
            }
            let mut logits = Vec::with_capacity(chunk.len() * mood::EMOTION_COUNT);
            self.net.logits(&input, &mut logits);
            logits
        };
        let chunk = faces
            .len()
            .div_ceil(rayon::current_num_threads())
            .clamp(1, CHUNK);
        let logits: Vec<f32> = if chunk >= faces.len() {
            read(faces)
        } else {
            faces.par_chunks(chunk).flat_map_iter(read).collect()
        };
        logits
            .chunks_exact(mood::EMOTION_COUNT)
            .map(softmax)
            .collect()
    }
}

/// The softmax of one face's logits; an error if they are not finite numbers.
fn softmax(logits: &[f32]) -> Result<Probabilities, ExpressionError> {
    let peak = logits
        .iter()
        .fold(f32::NEG_INFINITY, |peak, &v| peak.max(v));
    let exp: Probabilities = std::array::from_fn(|i| (logits[i] - peak).exp());
    let sum: f32 = exp.iter().sum();
    let probabilities = exp.map(|value| value / sum);
    if probabilities.iter().all(|p| p.is_finite()) {
        Ok(probabilities)
    } else {
        Err(ExpressionError::NonFinite)
    }
}
