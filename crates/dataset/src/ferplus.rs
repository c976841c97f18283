//! FER+ vote labels (`fer2013new.csv`), joined to FER-2013 on the original row index.

use std::collections::HashMap;
use std::path::Path;

use mood::{EMOTION_COUNT, Emotion};

use crate::{DatasetError, FerSplit, open_maybe_gzip};

/// FER+ soft labels by original FER-2013 row index.
#[derive(Debug, Clone, Default)]
pub struct FerPlusVotes {
    /// Probabilities in FER order for each row kept.
    pub by_row: HashMap<u32, [f32; EMOTION_COUNT]>,
    /// Rows dropped because most annotators said `unknown` or "not a face".
    pub dropped: Vec<u32>,
}

/// What joining FER+ votes to a split did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FerPlusJoin {
    /// Faces given FER+ soft labels.
    pub matched: usize,
    /// Faces removed because FER+ annotators judged them unknown or not a face.
    pub dropped: usize,
    /// Faces without a FER+ row (unknown row index): they keep their one-hot FER label.
    pub unmatched: usize,
}

// FER+ vote columns mapped to FER-2013 classes. Contempt has no FER-2013 class; its nearest
// FER-2013 neighbour is disgust (both are rejection expressions), so its votes count there.
const VOTE_COLUMNS: [(&str, Emotion); 8] = [
    ("neutral", Emotion::Neutral),
    ("happiness", Emotion::Happy),
    ("surprise", Emotion::Surprise),
    ("sadness", Emotion::Sad),
    ("anger", Emotion::Angry),
    ("disgust", Emotion::Disgust),
    ("fear", Emotion::Fear),
    ("contempt", Emotion::Disgust),
];

/// Reads a FER+ vote file (plain or gzip). With a `row` column, that is the join key;
/// without one (Microsoft's `fer2013new.csv`), data row *i* is FER-2013 row *i*.
pub fn read_ferplus(path: &Path) -> Result<FerPlusVotes, DatasetError> {
    let reader = open_maybe_gzip(path)?;
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|error| bad_csv(path, &error))?
        .clone();
    let find = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let require = |name: &str| {
        find(name).ok_or_else(|| DatasetError::MissingColumn {
            path: path.to_owned(),
            column: name.to_owned(),
            found: headers.iter().collect::<Vec<_>>().join(","),
        })
    };
    let vote_columns = VOTE_COLUMNS
        .iter()
        .map(|(name, emotion)| Ok((require(name)?, *name, *emotion)))
        .collect::<Result<Vec<_>, DatasetError>>()?;
    let unknown = require("unknown")?;
    let not_face = require("NF")?;
    let row_column = find("row");

    let mut votes = FerPlusVotes::default();
    for (index, record) in csv.records().enumerate() {
        let record = record.map_err(|error| bad_csv(path, &error))?;
        let line = record.position().map_or(0, |p| p.line());
        let number = |column: usize, name: &str| -> Result<f32, DatasetError> {
            let text = record.get(column).unwrap_or("").trim();
            text.parse::<f32>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| DatasetError::BadRow {
                    path: path.to_owned(),
                    line,
                    column: name.to_owned(),
                    problem: format!("{text:?} is not a vote count"),
                })
        };
        let row = match row_column {
            Some(column) => {
                let text = record.get(column).unwrap_or("").trim();
                if text.is_empty() {
                    continue;
                }
                text.parse::<u32>().map_err(|_| DatasetError::BadRow {
                    path: path.to_owned(),
                    line,
                    column: "row".to_owned(),
                    problem: format!("{text:?} is not a row index"),
                })?
            }
            None => u32::try_from(index).unwrap_or(u32::MAX),
        };
        let mut counts = [0.0f32; EMOTION_COUNT];
        let mut best_emotion_votes = 0.0f32;
        for &(column, name, emotion) in &vote_columns {
            let value = number(column, name)?;
            counts[emotion.index()] += value;
            best_emotion_votes = best_emotion_votes.max(value);
        }
        let rejected = number(unknown, "unknown")?.max(number(not_face, "NF")?);
        let total: f32 = counts.iter().sum();
        if rejected > best_emotion_votes || total <= 0.0 {
            votes.dropped.push(row);
            continue;
        }
        votes.by_row.insert(row, counts.map(|c| c / total));
    }
    Ok(votes)
}

impl FerSplit {
    /// Gives each face its FER+ soft label, drops the faces FER+ annotators rejected, and
    /// keeps a one-hot label for faces without a FER+ row.
    pub fn join_ferplus(&mut self, votes: &FerPlusVotes) -> FerPlusJoin {
        let dropped: std::collections::HashSet<u32> = votes.dropped.iter().copied().collect();
        let mut join = FerPlusJoin::default();
        let mut kept = FerSplit {
            soft_labels: Some(Vec::with_capacity(self.len())),
            ..FerSplit::default()
        };
        let mut soft = Vec::with_capacity(self.len());
        for index in 0..self.len() {
            let label = self.labels[index];
            let row = self.rows[index];
            let probabilities = match row {
                Some(row) if dropped.contains(&row) => {
                    join.dropped += 1;
                    continue;
                }
                Some(row) if votes.by_row.contains_key(&row) => {
                    join.matched += 1;
                    votes.by_row[&row]
                }
                _ => {
                    join.unmatched += 1;
                    let mut one_hot = [0.0; EMOTION_COUNT];
                    one_hot[usize::from(label)] = 1.0;
                    one_hot
                }
            };
            kept.push(self.face(index), label, row);
            soft.push(probabilities);
        }
        kept.soft_labels = Some(soft);
        *self = kept;
        join
    }
}

fn bad_csv(path: &Path, error: &csv::Error) -> DatasetError {
    DatasetError::BadRow {
        path: path.to_owned(),
        line: error.position().map_or(0, |p| p.line()),
        column: "-".to_owned(),
        problem: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faceinput::FACE_PIXELS;

    #[test]
    fn votes_become_soft_labels_and_rejected_rows_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ferplus.csv");
        std::fs::write(
            &path,
            "row,Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n\
             0,Training,a.png,4,0,0,1,3,1,0,1,0,0\n\
             1,Training,b.png,1,0,0,0,0,0,0,0,2,7\n",
        )
        .unwrap();
        let votes = read_ferplus(&path).unwrap();
        let first = votes.by_row[&0];
        assert!((first[Emotion::Neutral.index()] - 0.4).abs() < 1e-6);
        assert!(
            (first[Emotion::Disgust.index()] - 0.2).abs() < 1e-6,
            "contempt → disgust"
        );
        assert_eq!(votes.dropped, vec![1]);

        let mut split = FerSplit::default();
        for (row, label) in [(Some(0), 6), (Some(1), 3), (None, 2)] {
            split.push(&[0; FACE_PIXELS], label, row);
        }
        let join = split.join_ferplus(&votes);
        assert_eq!(
            join,
            FerPlusJoin {
                matched: 1,
                dropped: 1,
                unmatched: 1
            }
        );
        assert_eq!(split.labels, vec![6, 2]);
        let soft = split.soft_labels.unwrap();
        assert_eq!(soft[1][2], 1.0);
    }

    #[test]
    fn without_a_row_column_the_line_order_is_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fer2013new.csv");
        std::fs::write(
            &path,
            "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n\
             Training,a.png,0,10,0,0,0,0,0,0,0,0\n\
             Training,b.png,0,0,10,0,0,0,0,0,0,0\n",
        )
        .unwrap();
        let votes = read_ferplus(&path).unwrap();
        assert_eq!(votes.by_row[&1][Emotion::Surprise.index()], 1.0);
    }
}
