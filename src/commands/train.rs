//! `moodreel train`: trains an expression model on FER-2013.

use std::path::PathBuf;

use anyhow::Context;
use dataset::Split;
use indicatif::{ProgressBar, ProgressStyle};
use train::{EpochMetrics, RunFolder, TrainConfig, TrainData, TrainObserver};

use crate::exit::{CommandError, CommandResult};

/// Arguments of `moodreel train`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// FER-2013: the Kaggle CSV (plain or .gz) or a folder with train/<class>/*.jpg.
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    /// FER+ vote file (fer2013new.csv) to train on soft labels.
    #[arg(long, value_name = "CSV")]
    pub ferplus: Option<PathBuf>,
    /// Run folder: checkpoint/, best/ (the model), metrics.jsonl, curves.png, train_config.json.
    #[arg(long, value_name = "DIR", default_value = "runs/expression")]
    pub out: PathBuf,
    /// Passes over the training split; 0 saves the starting weights (see --init) as the model.
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,
    /// Faces per optimisation step.
    #[arg(long, value_name = "N")]
    pub batch: Option<usize>,
    /// Peak learning rate (SGD with Nesterov momentum, warm-up then cosine decay).
    #[arg(long, value_name = "X")]
    pub lr: Option<f64>,
    /// Seed of every random choice.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Training settings as JSON (a train_config.json); flags above override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Start from the weights of this model folder (e.g. an earlier run's best/) instead of
    /// random ones, with a fresh optimizer and learning-rate schedule; several folders start
    /// from the mean of their weights (models of the same network).
    #[arg(long, value_name = "DIR", num_args = 1.., conflicts_with = "resume")]
    pub init: Vec<PathBuf>,
    /// Continue the run in --out from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
}

/// Runs `moodreel train`.
pub fn run(args: Args) -> CommandResult {
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .context("cannot set the number of threads")?;
    }
    let run = RunFolder::new(&args.out);
    let mut config = match (&args.config, args.resume) {
        (Some(path), _) => read_config(path)?,
        (None, true) if run.root().join("train_config.json").exists() => {
            read_config(&run.root().join("train_config.json"))?
        }
        _ => TrainConfig::default(),
    };
    if let Some(epochs) = args.epochs {
        config.epochs = epochs;
    }
    if let Some(batch) = args.batch {
        config.batch = batch;
    }
    if let Some(lr) = args.lr {
        config.learning_rate = lr;
    }
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if !args.init.is_empty() {
        config.init.clone_from(&args.init);
    }
    if args.ferplus.is_none() {
        config.ferplus_weight = 0.0;
    }
    // One check of the settings, in the library, before any file is read or written.
    config.validate().map_err(CommandError::usage)?;

    eprintln!("reading {}", args.data.display());
    let mut splits = dataset::load_splits(&args.data, &[Split::Training, Split::PublicTest])
        .map_err(CommandError::failure)?;
    let validation = splits.pop().unwrap_or_default();
    let mut training = splits.pop().unwrap_or_default();
    if let Some(path) = &args.ferplus {
        let votes = dataset::read_ferplus(path).map_err(CommandError::failure)?;
        let join = training.join_ferplus(&votes);
        eprintln!(
            "FER+: {} faces with soft labels, {} dropped (unknown / not a face), {} without a FER+ row",
            join.matched, join.dropped, join.unmatched
        );
    }
    eprintln!(
        "{} training faces, {} PublicTest faces; {} epochs of {} faces per step",
        training.len(),
        validation.len(),
        config.epochs,
        config.batch
    );
    let mut observer = ProgressObserver::new(run.clone());
    let history = train::train(
        &config,
        TrainData {
            train: &training,
            validation: &validation,
        },
        &run,
        args.resume,
        &mut observer,
    )
    .map_err(CommandError::failure)?;
    if config.epochs == 0 {
        println!(
            "no training (0 epochs): the starting weights are the model in {} (PublicTest figures in eval.json)",
            run.best().display()
        );
    }
    if let Some(best) = history
        .iter()
        .max_by(|a, b| a.val_accuracy.total_cmp(&b.val_accuracy))
    {
        println!(
            "best PublicTest accuracy {:.4} at epoch {}; model in {}",
            best.val_accuracy,
            best.epoch,
            run.best().display()
        );
    }
    Ok(())
}

fn read_config(path: &std::path::Path) -> Result<TrainConfig, CommandError> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a training config", path.display()))
        .map_err(CommandError::failure)
}

/// Draws a progress bar per epoch on stderr, prints one line per finished epoch and redraws
/// the run's `curves.png`.
struct ProgressObserver {
    run: RunFolder,
    bar: Option<ProgressBar>,
    loss: f64,
}

impl ProgressObserver {
    fn new(run: RunFolder) -> Self {
        Self {
            run,
            bar: None,
            loss: 0.0,
        }
    }

    /// Plots every epoch of the run so far, earlier sessions of a resumed run included (hence
    /// `metrics.jsonl`, which the trainer has appended to before calling `epoch_finished`).
    /// A plot is a convenience: failing to draw one only warns.
    fn plot_curves(&self) {
        let out = self.run.root().join("curves.png");
        let plotted = self
            .run
            .read_metrics()
            .map_err(anyhow::Error::from)
            .and_then(|metrics| Ok(train::plot_training_curves(&metrics, &out)?));
        if let Err(error) = plotted {
            eprintln!("warning: cannot plot the training curves: {error:#}");
        }
    }
}

impl TrainObserver for ProgressObserver {
    fn resumed(&mut self, epochs_done: usize, best_accuracy: f64, best_epoch: usize) {
        eprintln!(
            "resuming from the checkpoint after epoch {epochs_done} (best PublicTest accuracy so far {best_accuracy:.4} at epoch {best_epoch})"
        );
    }

    fn epoch_started(&mut self, epoch: usize, epochs: usize, batches: usize) {
        let bar = ProgressBar::new(batches as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "epoch {prefix} [{bar:30}] {pos}/{len} steps {per_sec} ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(format!("{epoch}/{epochs}"));
        self.bar = Some(bar);
        self.loss = 0.0;
    }

    fn batch_finished(&mut self, _faces: usize, loss: f64) {
        self.loss = if self.loss == 0.0 {
            loss
        } else {
            0.98 * self.loss + 0.02 * loss
        };
        if let Some(bar) = &self.bar {
            bar.set_message(format!("loss {:.3}", self.loss));
            bar.inc(1);
        }
    }

    fn validation_started(&mut self, faces: usize) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("validating on {faces} faces"));
        }
    }

    fn epoch_finished(&mut self, metrics: &EpochMetrics, best: bool) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        println!(
            "epoch {:>3}  train loss {:.4} acc {:.4}  PublicTest loss {:.4} acc {:.4} macro-F1 {:.4}  lr {:.5}  {:.0} faces/s  {:.0} s{}",
            metrics.epoch,
            metrics.train_loss,
            metrics.train_accuracy,
            metrics.val_loss,
            metrics.val_accuracy,
            metrics.val_macro_f1,
            metrics.learning_rate,
            metrics.images_per_second,
            metrics.seconds,
            if best { "  (best)" } else { "" }
        );
        self.plot_curves();
    }
}
