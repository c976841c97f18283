//! Measuring a model on a labelled split: accuracy, macro-F1, per-class precision / recall /
//! F1 and the confusion matrix.

use std::time::Instant;

use dataset::FerSplit;
use expression::{ExpressionError, ExpressionModel};
use mood::{EMOTION_COUNT, Emotion};
use serde::{Deserialize, Serialize};

/// Counts of (true class, predicted class) pairs; rows are the true class, in FER order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConfusionMatrix(pub [[usize; EMOTION_COUNT]; EMOTION_COUNT]);

impl ConfusionMatrix {
    /// Counts one prediction.
    pub fn add(&mut self, truth: usize, predicted: usize) {
        self.0[truth][predicted] += 1;
    }

    /// Number of predictions counted.
    pub fn total(&self) -> usize {
        self.0.iter().flatten().sum()
    }

    /// Fraction of predictions on the diagonal (0 when empty).
    pub fn accuracy(&self) -> f64 {
        let correct: usize = (0..EMOTION_COUNT).map(|i| self.0[i][i]).sum();
        ratio(correct, self.total())
    }

    /// Precision, recall, F1 and support of one class.
    pub fn class_metrics(&self, class: usize) -> ClassMetrics {
        let true_positive = self.0[class][class];
        let predicted: usize = (0..EMOTION_COUNT).map(|row| self.0[row][class]).sum();
        let support: usize = self.0[class].iter().sum();
        let precision = ratio(true_positive, predicted);
        let recall = ratio(true_positive, support);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        ClassMetrics {
            precision,
            recall,
            f1,
            support,
        }
    }

    /// Unweighted mean of the seven F1 scores.
    pub fn macro_f1(&self) -> f64 {
        (0..EMOTION_COUNT)
            .map(|class| self.class_metrics(class).f1)
            .sum::<f64>()
            / EMOTION_COUNT as f64
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Of the faces predicted as this class, the fraction that are.
    pub precision: f64,
    /// Of the faces of this class, the fraction predicted as it.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Faces of this class in the split.
    pub support: usize,
}

/// Per-class metrics, serialised as an object keyed by emotion name in FER order.
#[derive(Debug, Clone, PartialEq)]
pub struct PerClass(pub [ClassMetrics; EMOTION_COUNT]);

impl Serialize for PerClass {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(EMOTION_COUNT))?;
        for (emotion, metrics) in Emotion::ALL.iter().zip(&self.0) {
            map.serialize_entry(emotion.name(), metrics)?;
        }
        map.end()
    }
}

/// The result of `moodreel eval`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Split measured.
    pub split: String,
    /// Faces classified.
    pub images: usize,
    /// Fraction classified correctly.
    pub accuracy: f64,
    /// Unweighted mean F1 over the seven classes.
    pub macro_f1: f64,
    /// Precision, recall, F1 and support per emotion.
    pub per_class: PerClass,
    /// Rows: true class; columns: predicted class; FER order.
    pub confusion: [[usize; EMOTION_COUNT]; EMOTION_COUNT],
    /// Whether flip test-time augmentation was used.
    pub tta: bool,
    /// Throughput of the classification.
    pub images_per_second: f64,
}

impl EvalReport {
    /// Builds the report of a confusion matrix.
    pub fn new(split: &str, confusion: &ConfusionMatrix, tta: bool, seconds: f64) -> Self {
        Self {
            split: split.to_owned(),
            images: confusion.total(),
            accuracy: confusion.accuracy(),
            macro_f1: confusion.macro_f1(),
            per_class: PerClass(std::array::from_fn(|class| confusion.class_metrics(class))),
            confusion: confusion.0,
            tta,
            images_per_second: if seconds > 0.0 {
                confusion.total() as f64 / seconds
            } else {
                0.0
            },
        }
    }
}

/// The outcome of classifying a labelled split.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Counts of (true class, predicted class).
    pub confusion: ConfusionMatrix,
    /// Mean cross-entropy of the true class (0 for an empty split).
    pub log_loss: f64,
    /// Wall time of the classification.
    pub seconds: f64,
}

/// Classifies every face of `split` in batches, counts the outcomes and the log loss.
/// `progress` is called after each batch with the number of faces done so far.
pub fn evaluate(
    model: &ExpressionModel,
    split: &FerSplit,
    tta: bool,
    batch: usize,
    mut progress: impl FnMut(usize),
) -> Result<Evaluation, ExpressionError> {
    let start = Instant::now();
    let mut confusion = ConfusionMatrix::default();
    let mut loss_sum = 0.0;
    let indices: Vec<usize> = (0..split.len()).collect();
    for chunk in indices.chunks(batch.max(1)) {
        let probabilities = model.classify_pixels(chunk.iter().map(|&i| split.face(i)), tta)?;
        for (&index, row) in chunk.iter().zip(&probabilities) {
            let truth = usize::from(split.labels[index]);
            confusion.add(truth, argmax(row));
            loss_sum -= f64::from(row[truth].max(1e-12)).ln();
        }
        progress(chunk[chunk.len() - 1] + 1);
    }
    Ok(Evaluation {
        confusion,
        log_loss: if split.is_empty() {
            0.0
        } else {
            loss_sum / split.len() as f64
        },
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Index of the largest value (the first on ties).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (index, value) in values.iter().enumerate() {
        if *value > values[best] {
            best = index;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_of_a_known_matrix() {
        let mut confusion = ConfusionMatrix::default();
        // angry: 3 right, 1 called sad; sad: 2 right; happy: 1 called angry.
        for _ in 0..3 {
            confusion.add(0, 0);
        }
        confusion.add(0, 4);
        confusion.add(4, 4);
        confusion.add(4, 4);
        confusion.add(3, 0);
        assert_eq!(confusion.total(), 7);
        assert!((confusion.accuracy() - 5.0 / 7.0).abs() < 1e-12);
        let angry = confusion.class_metrics(0);
        assert!((angry.precision - 0.75).abs() < 1e-12);
        assert!((angry.recall - 0.75).abs() < 1e-12);
        let sad = confusion.class_metrics(4);
        assert!((sad.precision - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(sad.recall, 1.0);
        assert_eq!(confusion.class_metrics(3).f1, 0.0);
        let report = EvalReport::new("PublicTest", &confusion, false, 1.0);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["images"], 7);
        assert_eq!(json["confusion"][0][4], 1);
        assert!(json["per_class"]["angry"]["f1"].as_f64().unwrap() > 0.74);
    }
}
