//! The facial-expression model: a compact CNN for 48×48 grey faces, the one preprocessing
//! function that turns a face crop into network input, and batched inference with optional
//! horizontal-flip test-time augmentation.
//!
//! This crate does not find faces (that is `vision`) and does not train (that is `train`); it
//! defines the network, loads weights (the shipped ones are embedded in the binary) and
//! classifies crops. The network is defined and loaded with burn (training, in `train`, runs
//! on burn's `flex` backend); classifying runs it on plain arrays with `ndarray`'s matrix
//! products (the private `inference` module), faster than burn for the one or two faces of a
//! photo (`docs/performance.md`).

mod inference;
mod model;
mod network;
mod preprocess;

pub use faceinput::{FACE_PIXELS, FACE_SIDE};
pub use model::{
    CONFIG_FILE, EMBEDDED, ExpressionModel, InputConfig, ModelConfig, ModelFiles, WEIGHTS_FILE,
};
pub use network::{ExpressionNet, NetworkConfig};
pub use preprocess::{
    FaceCrop, PIXEL_MEAN, PIXEL_STD, faces_to_tensor, mirror, normalise, normalise_into,
};

/// Probabilities of the seven emotions in FER-2013 order.
pub type Probabilities = [f32; mood::EMOTION_COUNT];

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ExpressionError {
    /// A crop that is not 48×48.
    #[error("a face crop must have {FACE_PIXELS} pixels (48×48), got {0}")]
    CropSize(usize),
    /// A model file that cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A `config.json` that does not describe a network.
    #[error("invalid model config {path}: {source}")]
    Config {
        /// The file.
        path: String,
        /// The cause.
        source: serde_json::Error,
    },
    /// A model whose `config.json` asks for another input than this build prepares.
    #[error("{path}: the model expects {expected}, but faces are prepared as {prepared}")]
    Input {
        /// The config file.
        path: String,
        /// What the model's config records.
        expected: String,
        /// What this build's preprocessing does (`faceinput`).
        prepared: String,
    },
    /// Weights that do not fit the network.
    #[error("invalid model weights {path}: {message}")]
    Weights {
        /// The file.
        path: String,
        /// What burn reported.
        message: String,
    },
    /// The network produced something that is not a probability.
    #[error("the model produced non-finite output")]
    NonFinite,
}
