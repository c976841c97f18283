//! End-to-end training on a tiny synthetic dataset: the loss falls, and a run interrupted
//! after one epoch and resumed ends in exactly the same state as an uninterrupted run, and a run
//! can start from the weights of a trained model.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use dataset::FerSplit;
use expression::{ExpressionModel, FACE_PIXELS, FACE_SIDE, NetworkConfig};
use train::{AugmentConfig, RunFolder, Silent, TrainConfig, TrainData, TrainObserver};

/// burn's random generator is one per process: two trainings at once in this test binary's
/// threads would draw from it in turn and neither would be reproducible. Each test holds this.
static ONE_TRAINING_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds [`ONE_TRAINING_AT_A_TIME`] for the rest of a test (also after another test failed).
fn one_training_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_TRAINING_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The small training and validation splits every training test uses.
struct Splits {
    train: FerSplit,
    validation: FerSplit,
}

impl Splits {
    fn new() -> Self {
        Self {
            train: synthetic(30, 1),
            validation: synthetic(6, 2),
        }
    }

    fn data(&self) -> TrainData<'_> {
        TrainData {
            train: &self.train,
            validation: &self.validation,
        }
    }
}

/// Faces whose class is drawn as a bright horizontal band at a class-specific height.
fn synthetic(per_class: usize, seed: u32) -> FerSplit {
    let mut split = FerSplit::default();
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    for class in 0..7u8 {
        for _ in 0..per_class {
            let mut face = [0u8; FACE_PIXELS];
            for (i, pixel) in face.iter_mut().enumerate() {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let row = i / FACE_SIDE;
                let band = row / 7 == usize::from(class);
                *pixel = (state % 60) as u8 + if band { 150 } else { 40 };
            }
            split.pixels.extend_from_slice(&face);
            split.labels.push(class);
            split.rows.push(None);
        }
    }
    split
}

fn tiny_config(epochs: usize) -> TrainConfig {
    TrainConfig {
        network: NetworkConfig {
            channels: vec![8, 16],
            convs: vec![1, 1],
            hidden: 32,
            dropout: 0.1,
        },
        augment: AugmentConfig {
            max_shift: 0.02,
            max_rotation_degrees: 3.0,
            max_scale: 0.02,
            max_contrast: 0.1,
            max_brightness: 5.0,
            erase_probability: 0.1,
        },
        epochs,
        batch: 32,
        learning_rate: 0.05,
        warmup_epochs: 0.5,
        seed: 7,
        ..TrainConfig::default()
    }
}

struct StopAfterFirstEpoch;
impl TrainObserver for StopAfterFirstEpoch {
    fn should_stop(&mut self) -> bool {
        true
    }
}

#[test]
fn loss_falls_and_resume_continues_exactly() {
    let _alone = one_training_at_a_time();
    let splits = Splits::new();
    let data = || splits.data();
    let config = tiny_config(3);

    let straight_dir = tempfile::tempdir().unwrap();
    let straight = RunFolder::new(straight_dir.path());
    let history = train::train(&config, data(), &straight, false, &mut Silent).unwrap();
    assert_eq!(history.len(), 3);
    assert!(
        history[2].train_loss < history[0].train_loss,
        "loss should fall: {history:?}"
    );
    assert!(
        history[2].val_accuracy > 0.5,
        "the bands are easy to learn: {history:?}"
    );

    let resumed_dir = tempfile::tempdir().unwrap();
    let resumed = RunFolder::new(resumed_dir.path());
    let first = train::train(&config, data(), &resumed, false, &mut StopAfterFirstEpoch).unwrap();
    assert_eq!(first.len(), 1);
    let rest = train::train(&config, data(), &resumed, true, &mut Silent).unwrap();
    assert_eq!(rest.len(), 3, "metrics of all epochs are kept");
    // Same epochs, learning rates and accuracies; losses equal up to the last bits, which
    // multithreaded float sums may round differently from run to run (as for the weights below).
    let same_loss = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
    for (resumed, straight) in rest.iter().zip(&history) {
        let straight = strip_time(straight, &rest);
        assert!(
            same_loss(resumed.train_loss, straight.train_loss)
                && same_loss(resumed.val_loss, straight.val_loss),
            "{resumed:?} vs {straight:?}"
        );
        assert_eq!(
            train::EpochMetrics {
                train_loss: straight.train_loss,
                val_loss: straight.val_loss,
                ..resumed.clone()
            },
            straight
        );
    }

    // Multithreaded float reductions may round differently from run to run, so the weights
    // are compared with a tolerance far below any training step's effect.
    let straight_weights = read_safetensors(&straight.checkpoint().join("model.safetensors"));
    let resumed_weights = read_safetensors(&resumed.checkpoint().join("model.safetensors"));
    assert_eq!(
        straight_weights.keys().collect::<Vec<_>>(),
        resumed_weights.keys().collect::<Vec<_>>()
    );
    for (name, values) in &straight_weights {
        let largest = values
            .iter()
            .zip(&resumed_weights[name])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(largest < 1e-4, "{name} differs by {largest} after resuming");
    }

    // The best model folder loads as a model.
    let model = ExpressionModel::load(&resumed.best()).unwrap();
    assert_eq!(model.config(), &config.network);

    // Resuming with other settings is refused rather than silently mixed.
    let other = TrainConfig {
        learning_rate: 0.01,
        ..config
    };
    let error = train::train(&other, data(), &resumed, true, &mut Silent).unwrap_err();
    assert!(error.to_string().contains("other settings"), "{error}");
}

#[test]
fn a_run_starts_from_the_weights_of_a_model_folder() {
    let _alone = one_training_at_a_time();
    let splits = Splits::new();
    let data = || splits.data();
    let dir = tempfile::tempdir().unwrap();
    let first = RunFolder::new(dir.path().join("first"));
    train::train(&tiny_config(1), data(), &first, false, &mut Silent).unwrap();

    // At learning rate 0 the optimizer moves nothing, so the second run's trained parameters
    // are exactly the ones it started from: the first run's (batch-norm running statistics
    // follow the data, not the optimizer, and are left out).
    let trainable = |path: &std::path::Path| {
        let mut weights = read_safetensors(path);
        weights.retain(|name, _| !name.contains("running_"));
        weights
    };
    let frozen = |init: Vec<std::path::PathBuf>| TrainConfig {
        learning_rate: 0.0,
        init,
        ..tiny_config(1)
    };
    let second = RunFolder::new(dir.path().join("second"));
    train::train(
        &frozen(vec![first.best()]),
        data(),
        &second,
        false,
        &mut Silent,
    )
    .unwrap();
    let started_from = trainable(&first.best().join("model.safetensors"));
    assert!(!started_from.is_empty());
    assert_eq!(
        trainable(&second.checkpoint().join("model.safetensors")),
        started_from
    );
    // Without `init` the same run keeps its random start, which is not the first run's.
    let fresh = RunFolder::new(dir.path().join("fresh"));
    train::train(&frozen(Vec::new()), data(), &fresh, false, &mut Silent).unwrap();
    assert_ne!(
        trainable(&fresh.checkpoint().join("model.safetensors")),
        started_from
    );
    // The run's settings say where it started.
    let saved: TrainConfig = serde_json::from_str(
        &std::fs::read_to_string(second.root().join("train_config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(saved.init, vec![first.best()]);

    // A model of another shape is refused, naming its config file.
    let mut other = frozen(vec![first.best()]);
    other.network.hidden = 16;
    let error = train::train(
        &other,
        data(),
        &RunFolder::new(dir.path().join("other")),
        false,
        &mut Silent,
    )
    .unwrap_err();
    assert!(error.to_string().contains("config.json"), "{error}");
    assert!(error.to_string().contains("another network"), "{error}");
}

#[test]
fn a_run_starts_from_the_mean_of_several_model_folders() {
    let _alone = one_training_at_a_time();
    let splits = Splits::new();
    let data = || splits.data();
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<RunFolder> = [5, 6]
        .into_iter()
        .map(|seed| {
            let run = RunFolder::new(dir.path().join(format!("seed{seed}")));
            let config = TrainConfig {
                seed,
                ..tiny_config(1)
            };
            train::train(&config, data(), &run, false, &mut Silent).unwrap();
            run
        })
        .collect();
    let weights = |dir: std::path::PathBuf| read_safetensors(&dir.join("model.safetensors"));
    let (a, b) = (weights(runs[0].best()), weights(runs[1].best()));
    assert_ne!(a, b, "two seeds give two models");

    // At learning rate 0 the run's parameters stay where it started: the mean of the two.
    let averaged = RunFolder::new(dir.path().join("averaged"));
    let config = TrainConfig {
        learning_rate: 0.0,
        init: vec![runs[0].best(), runs[1].best()],
        ..tiny_config(1)
    };
    train::train(&config, data(), &averaged, false, &mut Silent).unwrap();
    let started_from = weights(averaged.checkpoint());
    let mut compared = 0;
    for (name, values) in &started_from {
        // Batch-norm running statistics follow the data of the run, not the optimizer.
        if name.contains("running_") {
            continue;
        }
        for ((value, a), b) in values.iter().zip(&a[name]).zip(&b[name]) {
            assert!(
                (value - (a + b) / 2.0).abs() <= 1e-6,
                "{name}: {value} is not the mean of {a} and {b}"
            );
            compared += 1;
        }
    }
    assert!(compared > 1000, "{compared} values compared");

    // With no epoch at all, the mean itself is the run's model, batch-norm statistics included.
    let soup = RunFolder::new(dir.path().join("soup"));
    let config = TrainConfig {
        epochs: 0,
        init: vec![runs[0].best(), runs[1].best()],
        ..tiny_config(1)
    };
    let history = train::train(&config, data(), &soup, false, &mut Silent).unwrap();
    assert!(history.is_empty());
    let model = weights(soup.best());
    assert_eq!(model.len(), a.len());
    for (name, values) in &model {
        for ((value, a), b) in values.iter().zip(&a[name]).zip(&b[name]) {
            assert!((value - (a + b) / 2.0).abs() <= 1e-6, "{name}");
        }
    }
    assert!(soup.best().join("eval.json").exists());
}

#[test]
fn a_config_of_earlier_versions_names_one_init_folder() {
    let mut json = serde_json::to_value(tiny_config(1)).unwrap();
    assert!(json.get("init").is_none(), "no init, no field");
    json["init"] = serde_json::json!("runs/first/best");
    let config: TrainConfig = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(
        config.init,
        vec![std::path::PathBuf::from("runs/first/best")]
    );
    json["init"] = serde_json::json!(["runs/a/best", "runs/b/best"]);
    let config: TrainConfig = serde_json::from_value(json).unwrap();
    assert_eq!(config.init.len(), 2);
}

/// Wall-clock fields differ between runs; everything else must match.
fn strip_time(
    expected: &train::EpochMetrics,
    actual: &[train::EpochMetrics],
) -> train::EpochMetrics {
    let same_epoch = &actual[expected.epoch - 1];
    train::EpochMetrics {
        seconds: same_epoch.seconds,
        images_per_second: same_epoch.images_per_second,
        ..expected.clone()
    }
}

/// The f32 tensors of a safetensors file by name.
fn read_safetensors(path: &std::path::Path) -> std::collections::BTreeMap<String, Vec<f32>> {
    let bytes = std::fs::read(path).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    let data = &bytes[8 + header_len..];
    header
        .iter()
        .filter(|(name, _)| name.as_str() != "__metadata__")
        .map(|(name, info)| {
            let offsets = &info["data_offsets"];
            let start = offsets[0].as_u64().unwrap() as usize;
            let end = offsets[1].as_u64().unwrap() as usize;
            let values = data[start..end]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect();
            (name.clone(), values)
        })
        .collect()
}

#[test]
fn settings_out_of_range_are_refused_before_the_run_folder_is_made() {
    let splits = Splits::new();
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            TrainConfig {
                batch: 0,
                ..tiny_config(1)
            },
            "batch",
        ),
        (
            TrainConfig {
                learning_rate: f64::NAN,
                ..tiny_config(1)
            },
            "learning_rate",
        ),
        (
            TrainConfig {
                label_smoothing: 1.5,
                ..tiny_config(1)
            },
            "label_smoothing",
        ),
        (
            TrainConfig {
                ferplus_weight: -0.1,
                ..tiny_config(1)
            },
            "ferplus_weight",
        ),
    ];
    for (config, setting) in cases {
        let run = RunFolder::new(dir.path().join(setting));
        let error = train::train(&config, splits.data(), &run, false, &mut Silent).unwrap_err();
        assert!(
            matches!(error, train::TrainError::InvalidConfig { setting: named, .. } if named == setting),
            "{setting}: {error}"
        );
        assert!(error.to_string().contains(setting), "{error}");
        assert!(!run.root().exists(), "{setting}: nothing is written");
    }
    assert!(tiny_config(1).validate().is_ok());
}

#[test]
fn a_saved_model_records_the_input_it_was_trained_on() {
    let _one = one_training_at_a_time();
    let splits = Splits::new();
    let dir = tempfile::tempdir().unwrap();
    let run = RunFolder::new(dir.path());
    train::train(&tiny_config(0), splits.data(), &run, false, &mut Silent).unwrap();
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.best().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(config["input"]["side"], 48, "{config}");
    assert!((config["input"]["pixel_mean"].as_f64().unwrap() - 0.5077).abs() < 1e-6);
    assert!((config["input"]["pixel_std"].as_f64().unwrap() - 0.2550).abs() < 1e-6);
    ExpressionModel::load(&run.best()).unwrap();
}
