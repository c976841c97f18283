//! The training loop: seeded shuffling and augmentation, SGD with momentum under a warm-up +
//! cosine learning-rate schedule, class-balanced soft-label cross-entropy, evaluation on the
//! validation split after every epoch, and a checkpoint after every epoch so a run resumes
//! exactly where it stopped.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use burn::store::{BurnpackStore, ModuleSnapshot, SafetensorsStore};
use burn::tensor::activation::log_softmax;
use dataset::FerSplit;
use expression::{
    CONFIG_FILE, ExpressionModel, ExpressionNet, FACE_PIXELS, ModelConfig, NetworkConfig,
    WEIGHTS_FILE, faces_to_tensor,
};
use mood::EMOTION_COUNT;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::TrainError;
use crate::augment::{AugmentConfig, augment};
use crate::evaluate::{EvalReport, argmax, evaluate};

/// Weights with parameter ids inside `checkpoint/`, for an exact resume.
const TRAINING_WEIGHTS_FILE: &str = "model.bpk";

/// Everything that decides a training run. Saved as `train_config.json` in the run folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Shape of the network.
    pub network: NetworkConfig,
    /// Augmentation strength.
    pub augment: AugmentConfig,
    /// Passes over the training split. With 0 the starting weights (random, or those of
    /// `init`) are evaluated and saved as the run's model (`best/`) untouched: how the mean of
    /// several models becomes a model folder.
    pub epochs: usize,
    /// Faces per optimisation step.
    pub batch: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Epochs of linear warm-up before the cosine decay.
    pub warmup_epochs: f64,
    /// SGD momentum.
    pub momentum: f64,
    /// L2 weight decay.
    pub weight_decay: f32,
    /// Label smoothing mixed into every target.
    pub label_smoothing: f32,
    /// Weight of the FER+ soft label against the FER-2013 one-hot label (0 = FER only).
    pub ferplus_weight: f32,
    /// Class weights are (median count / class count) ^ this; 0 = no balancing.
    pub class_balance: f32,
    /// Seed of every random choice.
    pub seed: u64,
    /// Model folders (`config.json` + `model.safetensors`, e.g. an earlier run's `best/`)
    /// whose weights the run starts from instead of random ones: a second learning-rate cycle,
    /// or fine-tuning on other data. Several folders start it from the mean of their weights
    /// (weight averaging of the best models of successive cycles). Their network must be
    /// `network`. The optimizer starts fresh. Written as a list; a single path (the form of
    /// earlier versions) is read as a list of one.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "one_or_many"
    )]
    pub init: Vec<PathBuf>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            network: NetworkConfig::default(),
            augment: AugmentConfig::default(),
            epochs: 40,
            batch: 64,
            learning_rate: 0.05,
            warmup_epochs: 1.0,
            momentum: 0.9,
            weight_decay: 5e-4,
            label_smoothing: 0.1,
            ferplus_weight: 0.5,
            class_balance: 0.3,
            seed: 42,
            init: Vec::new(),
        }
    }
}

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy against the FER-2013 labels (on augmented faces).
    pub train_accuracy: f64,
    /// Mean cross-entropy on the validation split.
    pub val_loss: f64,
    /// Accuracy on the validation split.
    pub val_accuracy: f64,
    /// Macro-F1 on the validation split.
    pub val_macro_f1: f64,
    /// Learning rate at the end of the epoch.
    pub learning_rate: f64,
    /// Wall time of the epoch (training and validation).
    pub seconds: f64,
    /// Training throughput.
    pub images_per_second: f64,
}

/// Receives progress while training runs (the command line draws progress bars with it).
pub trait TrainObserver {
    /// `--resume` found a checkpoint: training continues after epoch `epochs_done`, and the
    /// best PublicTest accuracy so far was `best_accuracy` at `best_epoch`.
    fn resumed(&mut self, _epochs_done: usize, _best_accuracy: f64, _best_epoch: usize) {}
    /// An epoch of `batches` steps begins.
    fn epoch_started(&mut self, _epoch: usize, _epochs: usize, _batches: usize) {}
    /// A step finished with this mean loss.
    fn batch_finished(&mut self, _faces: usize, _loss: f64) {}
    /// Validation begins.
    fn validation_started(&mut self, _faces: usize) {}
    /// An epoch finished, checkpoint written.
    fn epoch_finished(&mut self, _metrics: &EpochMetrics, _best: bool) {}
    /// Asked after each checkpoint: stop here (the run can be resumed later)?
    fn should_stop(&mut self) -> bool {
        false
    }
}

/// An observer that ignores everything.
pub struct Silent;
impl TrainObserver for Silent {}

/// What lives in `checkpoint/state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CheckpointState {
    epochs_done: usize,
    best_accuracy: f64,
    best_epoch: usize,
    config: TrainConfig,
}

/// Folder names and files of a training run.
#[derive(Debug, Clone)]
pub struct RunFolder {
    root: PathBuf,
}

impl RunFolder {
    /// The run folder at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Last completed epoch: weights, optimizer state and progress.
    pub fn checkpoint(&self) -> PathBuf {
        self.root.join("checkpoint")
    }

    /// Best weights on the validation split so far (a model folder for `--model`).
    pub fn best(&self) -> PathBuf {
        self.root.join("best")
    }

    /// One JSON line per epoch.
    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }

    /// The metrics read back.
    pub fn read_metrics(&self) -> Result<Vec<EpochMetrics>, TrainError> {
        let path = self.metrics();
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(TrainError::Io { path, source }),
        };
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .enumerate()
            .map(|(index, line)| {
                serde_json::from_str(line).map_err(|error| TrainError::Corrupt {
                    path: path.clone(),
                    message: format!("line {}: {error}", index + 1),
                })
            })
            .collect()
    }
}

/// The training and validation data of a run.
pub struct TrainData<'a> {
    /// Faces to learn from (with FER+ soft labels if joined).
    pub train: &'a FerSplit,
    /// Faces to choose the best epoch on.
    pub validation: &'a FerSplit,
}

/// Trains (or, with `resume`, continues training) into `run`.
/// Returns the metrics of every epoch done so far.
///
/// The steps, each a function below: check the settings ([`TrainConfig::validate`]), open the
/// run folder (a fresh start or the last checkpoint), then per epoch train on every batch,
/// validate, and record (best model, checkpoint, metrics line).
pub fn train(
    config: &TrainConfig,
    data: TrainData<'_>,
    run: &RunFolder,
    resume: bool,
    observer: &mut dyn TrainObserver,
) -> Result<Vec<EpochMetrics>, TrainError> {
    config.validate()?;
    if data.train.is_empty() {
        return Err(TrainError::NoData("training"));
    }
    let device = Device::flex().autodiff();
    let RunState {
        mut net,
        mut optimizer,
        mut progress,
        mut history,
    } = open_run(config, run, resume, &device, observer)?;

    if config.epochs == 0 {
        save_starting_weights(config, &net, data.validation, run)?;
        return Ok(history);
    }

    let plan = EpochPlan::new(config, data.train);
    for epoch in progress.epochs_done + 1..=config.epochs {
        let _span = tracing::info_span!("epoch", epoch).entered();
        let started = Instant::now();
        let trained = train_epoch(
            config,
            &plan,
            data.train,
            net,
            &mut optimizer,
            &device,
            epoch,
            observer,
        )?;
        net = trained.net;
        let train_seconds = started.elapsed().as_secs_f64();

        observer.validation_started(data.validation.len());
        let (val_loss, report) = validate(&as_model(&net, config), data.validation)?;
        let metrics = EpochMetrics {
            epoch,
            train_loss: trained.loss_sum / data.train.len() as f64,
            train_accuracy: trained.correct as f64 / data.train.len() as f64,
            val_loss,
            val_accuracy: report.accuracy,
            val_macro_f1: report.macro_f1,
            learning_rate: trained.learning_rate,
            seconds: started.elapsed().as_secs_f64(),
            images_per_second: data.train.len() as f64 / train_seconds,
        };
        let best = record_epoch(run, &net, &optimizer, &mut progress, &metrics, &report)?;
        history.push(metrics.clone());
        tracing::info!(
            val_accuracy = metrics.val_accuracy,
            train_loss = metrics.train_loss,
            "epoch done"
        );
        observer.epoch_finished(&metrics, best);
        if observer.should_stop() {
            break;
        }
    }
    Ok(history)
}

impl TrainConfig {
    /// Checks the settings before anything is read or written: each error names the setting.
    pub fn validate(&self) -> Result<(), TrainError> {
        let invalid = |setting: &'static str, rule: &'static str| {
            Err(TrainError::InvalidConfig { setting, rule })
        };
        if self.batch == 0 {
            return invalid("batch", "must be at least 1");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate >= 0.0) {
            return invalid("learning_rate", "must be a number of at least 0");
        }
        if !(self.warmup_epochs.is_finite() && self.warmup_epochs >= 0.0) {
            return invalid("warmup_epochs", "must be a number of at least 0");
        }
        if !(0.0..=1.0).contains(&self.label_smoothing) {
            return invalid("label_smoothing", "must lie between 0 and 1");
        }
        if !(0.0..=1.0).contains(&self.ferplus_weight) {
            return invalid("ferplus_weight", "must lie between 0 and 1");
        }
        Ok(())
    }
}

/// Where a run stands once its folder is open: the network and optimizer to continue from,
/// the progress so far and the metrics of the epochs done.
struct RunState {
    net: ExpressionNet,
    optimizer: ModuleOptimizer,
    progress: CheckpointState,
    history: Vec<EpochMetrics>,
}

/// Opens the run folder: with `resume` and a checkpoint, continues from it; otherwise starts
/// from random weights (or those of `config.init`) and writes `train_config.json`. Metrics of
/// epochs past the checkpoint (an interrupted epoch) are dropped from `metrics.jsonl`.
fn open_run(
    config: &TrainConfig,
    run: &RunFolder,
    resume: bool,
    device: &Device,
    observer: &mut dyn TrainObserver,
) -> Result<RunState, TrainError> {
    create_dir(run.root())?;
    let mut net = config.network.init(device);
    let mut optimizer = sgd(config);
    let mut progress = CheckpointState {
        epochs_done: 0,
        best_accuracy: f64::NEG_INFINITY,
        best_epoch: 0,
        config: config.clone(),
    };
    if resume && run.checkpoint().join("state.json").exists() {
        let (loaded_net, loaded_optimizer, loaded_progress) =
            load_checkpoint(run, config, device, optimizer)?;
        net = loaded_net;
        optimizer = loaded_optimizer;
        progress = loaded_progress;
        tracing::info!(epochs_done = progress.epochs_done, "resuming");
        observer.resumed(
            progress.epochs_done,
            progress.best_accuracy,
            progress.best_epoch,
        );
    } else {
        if !config.init.is_empty() {
            net = load_init(&config.init, &config.network, device)?;
            tracing::info!(models = config.init.len(), "starting from trained weights");
        }
        write_json(&run.root().join("train_config.json"), config)?;
    }
    let mut history = run.read_metrics()?;
    history.truncate(progress.epochs_done);
    rewrite_metrics(run, &history)?;
    Ok(RunState {
        net,
        optimizer,
        progress,
        history,
    })
}

/// Zero epochs: the starting weights (e.g. the mean of `init`) become the run's model, with
/// their validation report.
fn save_starting_weights(
    config: &TrainConfig,
    net: &ExpressionNet,
    validation: &FerSplit,
    run: &RunFolder,
) -> Result<(), TrainError> {
    let (_, report) = validate(&as_model(net, config), validation)?;
    save_model(net, &config.network, &run.best())?;
    write_json(&run.best().join("eval.json"), &report)?;
    tracing::info!(
        val_accuracy = report.accuracy,
        "starting weights saved as the model"
    );
    Ok(())
}

/// What every epoch of a run shares: class weights and the length of the schedule.
struct EpochPlan {
    class_weights: [f32; EMOTION_COUNT],
    batches_per_epoch: usize,
    total_steps: f64,
}

impl EpochPlan {
    fn new(config: &TrainConfig, train: &FerSplit) -> Self {
        let batches_per_epoch = train.len().div_ceil(config.batch);
        Self {
            class_weights: class_weights(train, config.class_balance),
            batches_per_epoch,
            total_steps: (config.epochs * batches_per_epoch) as f64,
        }
    }
}

/// The network after an epoch of training, and what the epoch measured.
struct TrainedEpoch {
    net: ExpressionNet,
    /// Sum over faces of the loss.
    loss_sum: f64,
    /// Faces whose FER-2013 label the network predicted (on their augmented picture).
    correct: usize,
    /// Learning rate of the last step.
    learning_rate: f64,
}

/// One pass over the training split in a seeded order, one optimisation step per batch.
#[allow(clippy::too_many_arguments)] // the epoch's inputs, each used once
fn train_epoch(
    config: &TrainConfig,
    plan: &EpochPlan,
    train: &FerSplit,
    mut net: ExpressionNet,
    optimizer: &mut ModuleOptimizer,
    device: &Device,
    epoch: usize,
    observer: &mut dyn TrainObserver,
) -> Result<TrainedEpoch, TrainError> {
    // Every random choice of an epoch derives from (seed, epoch): resuming at an epoch
    // boundary replays exactly what an uninterrupted run would have done.
    let epoch_seed = config.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut rng = rand::rngs::StdRng::seed_from_u64(epoch_seed);
    device.seed(epoch_seed);
    let mut order: Vec<usize> = (0..train.len()).collect();
    order.shuffle(&mut rng);

    observer.epoch_started(epoch, config.epochs, plan.batches_per_epoch);
    let mut batch = Batch::with_capacity(config.batch);
    let (mut loss_sum, mut correct, mut learning_rate) = (0.0, 0, 0.0);
    for (step, chunk) in order.chunks(config.batch).enumerate() {
        let global_step = ((epoch - 1) * plan.batches_per_epoch + step) as f64;
        learning_rate = schedule(
            config,
            global_step,
            plan.batches_per_epoch as f64,
            plan.total_steps,
        );
        batch.fill(train, chunk, config, &plan.class_weights, &mut rng);
        let stepped = train_step(net, optimizer, &batch, learning_rate, device, epoch)?;
        net = stepped.net;
        correct += stepped.correct;
        loss_sum += stepped.loss * chunk.len() as f64;
        observer.batch_finished(chunk.len(), stepped.loss);
    }
    Ok(TrainedEpoch {
        net,
        loss_sum,
        correct,
        learning_rate,
    })
}

/// The augmented faces of one batch with their targets and class weights; the buffers are
/// reused from step to step.
struct Batch {
    faces: Vec<[u8; FACE_PIXELS]>,
    labels: Vec<u8>,
    targets: Vec<f32>,
    weights: Vec<f32>,
}

impl Batch {
    fn with_capacity(size: usize) -> Self {
        Self {
            faces: vec![[0u8; FACE_PIXELS]; size],
            labels: Vec::with_capacity(size),
            targets: Vec::with_capacity(size * EMOTION_COUNT),
            weights: Vec::with_capacity(size),
        }
    }

    /// Augments the faces `chunk` (indices into `train`) and gathers their targets.
    fn fill(
        &mut self,
        train: &FerSplit,
        chunk: &[usize],
        config: &TrainConfig,
        class_weights: &[f32; EMOTION_COUNT],
        rng: &mut rand::rngs::StdRng,
    ) {
        self.labels.clear();
        self.targets.clear();
        self.weights.clear();
        for (slot, &index) in self.faces.iter_mut().zip(chunk) {
            augment(train.face(index), &config.augment, rng, slot);
            let label = train.labels[index];
            self.targets
                .extend_from_slice(&target(train, index, config));
            self.weights.push(class_weights[usize::from(label)]);
            self.labels.push(label);
        }
    }

    fn len(&self) -> usize {
        self.labels.len()
    }
}

/// The network after one optimisation step, with the batch's loss and correct predictions.
struct Step {
    net: ExpressionNet,
    loss: f64,
    correct: usize,
}

/// One optimisation step: forward pass, class-weighted soft-label cross-entropy, backward
/// pass, SGD update.
fn train_step(
    net: ExpressionNet,
    optimizer: &mut ModuleOptimizer,
    batch: &Batch,
    learning_rate: f64,
    device: &Device,
    epoch: usize,
) -> Result<Step, TrainError> {
    let count = batch.len();
    let input = faces_to_tensor(batch.faces[..count].iter(), device);
    let logits = net.forward(input);
    let target_tensor: Tensor<2> = Tensor::from_data(
        TensorData::new(batch.targets.clone(), [count, EMOTION_COUNT]),
        device,
    );
    let weight_tensor: Tensor<1> =
        Tensor::from_data(TensorData::new(batch.weights.clone(), [count]), device);
    let per_face: Tensor<1> = (log_softmax(logits.clone(), 1) * target_tensor)
        .sum_dim(1)
        .neg()
        .squeeze_dim(1);
    let loss = (per_face * weight_tensor).sum() / (batch.weights.iter().sum::<f32>() as f64);
    let loss_value = scalar(&loss)?;
    let predictions: Vec<f32> = logits
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|_| TrainError::Diverged(epoch))?;
    let correct = predictions
        .chunks_exact(EMOTION_COUNT)
        .zip(&batch.labels)
        .filter(|&(row, &label)| argmax(row) == usize::from(label))
        .count();
    if !loss_value.is_finite() {
        return Err(TrainError::Diverged(epoch));
    }
    let grads = GradientsParams::from_grads(loss.backward(), &net);
    let net = optimizer.step(learning_rate, net, grads);
    Ok(Step {
        net,
        loss: loss_value,
        correct,
    })
}

/// The network as an inference model (for validation).
fn as_model(net: &ExpressionNet, config: &TrainConfig) -> ExpressionModel {
    ExpressionModel::from_network(net.valid(), config.network.clone())
}

/// After an epoch: the model in `best/` if it is the best so far, the checkpoint, and the
/// metrics line. Returns whether the epoch is the best so far.
fn record_epoch(
    run: &RunFolder,
    net: &ExpressionNet,
    optimizer: &ModuleOptimizer,
    progress: &mut CheckpointState,
    metrics: &EpochMetrics,
    report: &EvalReport,
) -> Result<bool, TrainError> {
    let best = metrics.val_accuracy > progress.best_accuracy;
    if best {
        progress.best_accuracy = metrics.val_accuracy;
        progress.best_epoch = metrics.epoch;
        save_model(net, &progress.config.network, &run.best())?;
        write_json(&run.best().join("eval.json"), report)?;
    }
    progress.epochs_done = metrics.epoch;
    save_checkpoint(run, net, optimizer, progress)?;
    append_metrics(run, metrics)?;
    Ok(best)
}

fn sgd(config: &TrainConfig) -> ModuleOptimizer {
    SgdConfig::new()
        .with_momentum(Some(
            MomentumConfig::new()
                .with_momentum(config.momentum)
                .with_dampening(0.0)
                .with_nesterov(true),
        ))
        .with_weight_decay(Some(WeightDecayConfig::new(config.weight_decay)))
        .init()
}

/// Linear warm-up to the peak, then cosine decay to zero at the last step.
fn schedule(config: &TrainConfig, step: f64, steps_per_epoch: f64, total_steps: f64) -> f64 {
    let warmup = config.warmup_epochs * steps_per_epoch;
    if step < warmup {
        return config.learning_rate * (step + 1.0) / warmup;
    }
    let progress = ((step - warmup) / (total_steps - warmup).max(1.0)).clamp(0.0, 1.0);
    config.learning_rate * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
}

/// The training target of face `index`: FER one-hot mixed with its FER+ votes, smoothed.
fn target(split: &FerSplit, index: usize, config: &TrainConfig) -> [f32; EMOTION_COUNT] {
    let mut one_hot = [0.0f32; EMOTION_COUNT];
    one_hot[usize::from(split.labels[index])] = 1.0;
    let mixed = match &split.soft_labels {
        Some(soft) => std::array::from_fn(|i| {
            (1.0 - config.ferplus_weight) * one_hot[i] + config.ferplus_weight * soft[index][i]
        }),
        None => one_hot,
    };
    let uniform = config.label_smoothing / EMOTION_COUNT as f32;
    mixed.map(|p| (1.0 - config.label_smoothing) * p + uniform)
}

/// (median class count / class count) ^ `power`, so rare classes (disgust) weigh more.
fn class_weights(split: &FerSplit, power: f32) -> [f32; EMOTION_COUNT] {
    let counts = split.class_counts();
    let mut sorted = counts;
    sorted.sort_unstable();
    let median = sorted[EMOTION_COUNT / 2].max(1) as f32;
    counts.map(|count| (median / count.max(1) as f32).powf(power))
}

fn validate(model: &ExpressionModel, split: &FerSplit) -> Result<(f64, EvalReport), TrainError> {
    let evaluation = evaluate(model, split, false, 256, |_| {})?;
    let report = EvalReport::new(
        "PublicTest",
        &evaluation.confusion,
        false,
        evaluation.seconds,
    );
    Ok((evaluation.log_loss, report))
}

fn scalar(tensor: &Tensor<1>) -> Result<f64, TrainError> {
    tensor
        .clone()
        .into_data()
        .try_to_vec::<f32>()
        .ok()
        .and_then(|values| values.first().copied())
        .map(f64::from)
        .ok_or(TrainError::Diverged(0))
}

/// Writes `config.json` + `model.safetensors` into `dir` (a model folder).
pub fn save_model(
    net: &ExpressionNet,
    config: &NetworkConfig,
    dir: &Path,
) -> Result<(), TrainError> {
    let staging = dir.with_extension("tmp");
    write_model_files(net, config, &staging)?;
    replace_dir(&staging, dir)
}

fn write_model_files(
    net: &ExpressionNet,
    config: &NetworkConfig,
    dir: &Path,
) -> Result<(), TrainError> {
    let _ = fs::remove_dir_all(dir);
    create_dir(dir)?;
    // The input the weights were trained on goes beside them (`ModelConfig`'s `input`).
    write_json(
        &dir.join(CONFIG_FILE),
        &ModelConfig::for_network(config.clone()),
    )?;
    let weights = dir.join(WEIGHTS_FILE);
    let mut store = SafetensorsStore::from_file(&weights);
    net.save_into(&mut store)
        .map_err(|error| TrainError::Corrupt {
            path: weights.clone(),
            message: error.to_string(),
        })
}

fn save_checkpoint(
    run: &RunFolder,
    net: &ExpressionNet,
    optimizer: &ModuleOptimizer,
    state: &CheckpointState,
) -> Result<(), TrainError> {
    let dir = run.checkpoint();
    let staging = dir.with_extension("tmp");
    write_model_files(net, &state.config.network, &staging)?;
    // Burnpack keeps each parameter's id, which is what the optimizer's momentum is keyed by;
    // safetensors does not, so a resume from it would silently restart the momentum.
    let training_weights = staging.join(TRAINING_WEIGHTS_FILE);
    let mut store = BurnpackStore::from_file(&training_weights)
        .auto_extension(false)
        .overwrite(true);
    net.save_into(&mut store)
        .map_err(|error| TrainError::Corrupt {
            path: training_weights.clone(),
            message: error.to_string(),
        })?;
    let optimizer_path = staging.join("optimizer.bpk");
    optimizer
        .save(&optimizer_path)
        .map_err(|error| TrainError::Corrupt {
            path: optimizer_path.clone(),
            message: format!("{error:?}"),
        })?;
    write_json(&staging.join("state.json"), state)?;
    replace_dir(&staging, &dir)
}

/// A network on the training `device` holding the weights of the model folders `dirs`, or the
/// mean of them when there are several; each must hold a model of the run's `network`.
fn load_init(
    dirs: &[PathBuf],
    network: &NetworkConfig,
    device: &Device,
) -> Result<ExpressionNet, TrainError> {
    // Read and averaged outside the autodiff graph, then loaded into the training network as
    // a single folder's weights would be.
    let plain = Device::flex();
    let mut nets = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let config_path = dir.join(CONFIG_FILE);
        let config: NetworkConfig = read_json(&config_path)?;
        if config != *network {
            return Err(TrainError::InitMismatch(config_path));
        }
        let weights = dir.join(WEIGHTS_FILE);
        let mut net = network.init(&plain);
        net.load_from(&mut SafetensorsStore::from_file(&weights))
            .map_err(|error| TrainError::Corrupt {
                path: weights.clone(),
                message: error.to_string(),
            })?;
        nets.push(net);
    }
    let corrupt = |message: String| TrainError::Corrupt {
        path: dirs.first().cloned().unwrap_or_default(),
        message,
    };
    // Every network has the run's shape (checked above), so only an empty list has no mean.
    let averaged = ExpressionNet::average(nets)
        .ok_or_else(|| corrupt("no model folder to start from".into()))?;
    let mut store = SafetensorsStore::from_bytes(None);
    averaged
        .save_into(&mut store)
        .map_err(|error| corrupt(error.to_string()))?;
    let bytes = store
        .get_bytes()
        .map_err(|error| corrupt(error.to_string()))?;
    let mut net = network.init(device);
    net.load_from(&mut SafetensorsStore::from_bytes(Some(bytes)))
        .map_err(|error| corrupt(error.to_string()))?;
    Ok(net)
}

/// Reads `init`: a list of paths, or one path as written by earlier versions.
fn one_or_many<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(PathBuf),
        Many(Vec<PathBuf>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(path) => vec![path],
        OneOrMany::Many(paths) => paths,
    })
}

fn load_checkpoint(
    run: &RunFolder,
    config: &TrainConfig,
    device: &Device,
    optimizer: ModuleOptimizer,
) -> Result<(ExpressionNet, ModuleOptimizer, CheckpointState), TrainError> {
    let dir = run.checkpoint();
    let state_path = dir.join("state.json");
    let state: CheckpointState = read_json(&state_path)?;
    if state.config != *config {
        return Err(TrainError::ConfigMismatch(
            run.root().join("train_config.json"),
        ));
    }
    let mut net = state.config.network.init(device);
    let training_weights = dir.join(TRAINING_WEIGHTS_FILE);
    let result = if training_weights.exists() {
        let mut store = BurnpackStore::from_file(&training_weights).auto_extension(false);
        net.load_from(&mut store)
            .map(|_| ())
            .map_err(|error| error.to_string())
    } else {
        // Checkpoints of earlier versions hold only safetensors weights.
        tracing::warn!("checkpoint without parameter ids: optimizer momentum restarts");
        let mut store = SafetensorsStore::from_file(dir.join(WEIGHTS_FILE));
        net.load_from(&mut store)
            .map(|_| ())
            .map_err(|error| error.to_string())
    };
    result.map_err(|message| TrainError::Corrupt {
        path: dir.clone(),
        message,
    })?;
    let optimizer_path = dir.join("optimizer.bpk");
    let optimizer = optimizer
        .load(&optimizer_path)
        .map_err(|error| TrainError::Corrupt {
            path: optimizer_path.clone(),
            message: format!("{error:?}"),
        })?;
    Ok((net, optimizer, state))
}

fn append_metrics(run: &RunFolder, metrics: &EpochMetrics) -> Result<(), TrainError> {
    let path = run.metrics();
    let io_error = |source| TrainError::Io {
        path: path.clone(),
        source,
    };
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io_error)?;
    let line = serde_json::to_string(metrics).map_err(|error| TrainError::Corrupt {
        path: path.clone(),
        message: error.to_string(),
    })?;
    writeln!(file, "{line}").map_err(io_error)
}

fn rewrite_metrics(run: &RunFolder, history: &[EpochMetrics]) -> Result<(), TrainError> {
    let path = run.metrics();
    let _ = fs::remove_file(&path);
    history
        .iter()
        .try_for_each(|metrics| append_metrics(run, metrics))
}

fn create_dir(dir: &Path) -> Result<(), TrainError> {
    fs::create_dir_all(dir).map_err(|source| TrainError::Io {
        path: dir.to_owned(),
        source,
    })
}

/// Moves a fully written `staging` folder over `target`, so a crash never leaves half a folder.
fn replace_dir(staging: &Path, target: &Path) -> Result<(), TrainError> {
    let old = target.with_extension("old");
    let _ = fs::remove_dir_all(&old);
    if target.exists() {
        fs::rename(target, &old).map_err(|source| TrainError::Io {
            path: target.to_owned(),
            source,
        })?;
    }
    fs::rename(staging, target).map_err(|source| TrainError::Io {
        path: target.to_owned(),
        source,
    })?;
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), TrainError> {
    let text = serde_json::to_string_pretty(value).map_err(|error| TrainError::Corrupt {
        path: path.to_owned(),
        message: error.to_string(),
    })?;
    fs::write(path, text + "\n").map_err(|source| TrainError::Io {
        path: path.to_owned(),
        source,
    })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, TrainError> {
    let text = fs::read_to_string(path).map_err(|source| TrainError::Io {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|error| TrainError::Corrupt {
        path: path.to_owned(),
        message: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays_to_zero() {
        let config = TrainConfig {
            learning_rate: 0.1,
            warmup_epochs: 1.0,
            ..TrainConfig::default()
        };
        assert!((schedule(&config, 9.0, 10.0, 100.0) - 0.1).abs() < 1e-12);
        assert!(schedule(&config, 0.0, 10.0, 100.0) < 0.02);
        assert!((schedule(&config, 10.0, 10.0, 100.0) - 0.1).abs() < 1e-9);
        assert!(schedule(&config, 99.9, 10.0, 100.0) < 1e-4);
    }

    #[test]
    fn targets_mix_ferplus_and_smoothing() {
        let mut soft = [0.0; EMOTION_COUNT];
        soft[6] = 1.0;
        let split = FerSplit {
            pixels: vec![0; FACE_PIXELS],
            labels: vec![3],
            rows: vec![Some(0)],
            soft_labels: Some(vec![soft]),
        };
        let config = TrainConfig {
            ferplus_weight: 0.5,
            label_smoothing: 0.0,
            ..TrainConfig::default()
        };
        let t = target(&split, 0, &config);
        assert_eq!(t[3], 0.5);
        assert_eq!(t[6], 0.5);
        let smoothed = target(
            &split,
            0,
            &TrainConfig {
                label_smoothing: 0.7,
                ..config
            },
        );
        assert!((smoothed.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }
}
