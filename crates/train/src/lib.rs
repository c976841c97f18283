//! Training and evaluation of the expression model on FER-2013: augmentation, the seeded and
//! resumable training loop with per-epoch checkpoints and metrics, and the evaluation report
//! (accuracy, macro-F1, per-class figures, confusion matrix), and PNG plots of both.
//!
//! The network itself and the preprocessing live in `expression`; the dataset readers in
//! `dataset`. This crate only learns weights and measures them.

mod augment;
mod evaluate;
mod plot;
mod trainer;

use std::path::PathBuf;

pub use augment::{AugmentConfig, augment};
pub use evaluate::{
    ClassMetrics, ConfusionMatrix, EvalReport, Evaluation, PerClass, argmax, evaluate,
};
pub use plot::{PlotError, plot_confusion, plot_training_curves};
pub use trainer::{
    EpochMetrics, RunFolder, Silent, TrainConfig, TrainData, TrainObserver, save_model, train,
};

/// Why training or evaluation failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A file that cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A run file that does not hold what it should.
    #[error("{path}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// `--resume` with settings other than those of the run.
    #[error(
        "the checkpoint was made with other settings than these (see {0}); resume with the same settings or use a new --out folder"
    )]
    ConfigMismatch(PathBuf),
    /// A training setting outside its range.
    #[error("invalid training setting {setting}: {rule}")]
    InvalidConfig {
        /// The setting's name in `train_config.json`.
        setting: &'static str,
        /// What it must be.
        rule: &'static str,
    },
    /// `init` names a model of another shape than the run's network.
    #[error("{0} describes another network than this run's; use the same network settings")]
    InitMismatch(PathBuf),
    /// No data to train on.
    #[error("the {0} split is empty")]
    NoData(&'static str),
    /// The loss became NaN or infinite.
    #[error("training diverged in epoch {0} (loss is not finite); try a lower --lr")]
    Diverged(usize),
    /// The model failed.
    #[error(transparent)]
    Model(#[from] expression::ExpressionError),
}
