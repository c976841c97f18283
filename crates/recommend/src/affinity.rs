//! The mode × emotion × genre affinity table, read from `data/affinity.toml`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use catalog::{GENRE_COUNT, Genre};
use mood::{EMOTION_COUNT, Emotion};

use crate::mode::Mode;

/// The table's source: reviewed data with the reasoning per row, compiled into the binary.
pub const AFFINITY_TOML: &str = include_str!("../data/affinity.toml");

static BUILTIN: LazyLock<AffinityTable> = LazyLock::new(|| {
    AffinityTable::from_toml(AFFINITY_TOML)
        .expect("data/affinity.toml is valid: its unit test loads it")
});

/// Why an affinity table was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AffinityError {
    /// Not valid TOML of the expected shape (`[mode.emotion]` tables of `Genre = weight`).
    #[error("affinity table is not valid TOML of [mode.emotion] tables of Genre = weight: {0}")]
    Syntax(String),
    /// A top-level table that is not `match` or `lift`.
    #[error("affinity table: unknown mode [{0}]; expected [match.*] and [lift.*]")]
    UnknownMode(String),
    /// A table for an emotion that does not exist.
    #[error("affinity table [{mode}.{name}]: {error}")]
    UnknownEmotion {
        /// The mode.
        mode: Mode,
        /// The name found.
        name: String,
        /// The emotion crate's reason.
        error: mood::MoodError,
    },
    /// A weight for an unknown genre.
    #[error("affinity table [{mode}.{emotion}]: {error}")]
    UnknownGenre {
        /// The mode.
        mode: Mode,
        /// The emotion.
        emotion: Emotion,
        /// The catalog crate's reason.
        error: catalog::UnknownGenre,
    },
    /// A weight outside [-1, 1].
    #[error("affinity table [{mode}.{emotion}] {genre} = {weight}: weights must lie in [-1, 1]")]
    OutOfRange {
        /// The mode.
        mode: Mode,
        /// The emotion.
        emotion: Emotion,
        /// The genre.
        genre: Genre,
        /// The weight found.
        weight: f64,
    },
    /// A mode × emotion table that is missing.
    #[error("affinity table: [{mode}.{emotion}] is missing; every mode × emotion needs a table")]
    Missing {
        /// The mode.
        mode: Mode,
        /// The emotion.
        emotion: Emotion,
    },
}

/// Weights in [-1, 1] for each concrete mode (`match`, `lift`) × emotion × genre.
#[derive(Debug, Clone, PartialEq)]
pub struct AffinityTable {
    /// Indexed by [`table_index`], emotion index, genre index.
    weights: [[[f64; GENRE_COUNT]; EMOTION_COUNT]; 2],
}

fn table_index(mode: Mode) -> usize {
    match mode {
        Mode::Match => 0,
        Mode::Lift | Mode::Auto => 1,
    }
}

impl AffinityTable {
    /// The project's table (`data/affinity.toml`), parsed on first use.
    pub fn builtin() -> &'static AffinityTable {
        &BUILTIN
    }

    /// Reads and validates a table: only `[match.EMOTION]` and `[lift.EMOTION]` tables, every
    /// one of the 14 present, known genre names, weights in [-1, 1]. Unlisted genres weigh 0.
    pub fn from_toml(text: &str) -> Result<AffinityTable, AffinityError> {
        type Raw = BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>>;
        let raw: Raw = toml::from_str(text).map_err(|e| AffinityError::Syntax(e.to_string()))?;
        let mut weights = [[[0.0; GENRE_COUNT]; EMOTION_COUNT]; 2];
        let mut present = [[false; EMOTION_COUNT]; 2];
        for (mode_name, emotions) in &raw {
            let mode = match mode_name.as_str() {
                "match" => Mode::Match,
                "lift" => Mode::Lift,
                _ => return Err(AffinityError::UnknownMode(mode_name.clone())),
            };
            for (emotion_name, genres) in emotions {
                let emotion: Emotion =
                    emotion_name
                        .parse()
                        .map_err(|error| AffinityError::UnknownEmotion {
                            mode,
                            name: emotion_name.clone(),
                            error,
                        })?;
                present[table_index(mode)][emotion.index()] = true;
                for (genre_name, &weight) in genres {
                    // Canonical names only: a table is reviewed data, not user input.
                    let genre = Genre::ALL
                        .into_iter()
                        .find(|genre| genre.name() == genre_name)
                        .ok_or_else(|| AffinityError::UnknownGenre {
                            mode,
                            emotion,
                            error: catalog::UnknownGenre {
                                name: genre_name.clone(),
                            },
                        })?;
                    if !(-1.0..=1.0).contains(&weight) {
                        return Err(AffinityError::OutOfRange {
                            mode,
                            emotion,
                            genre,
                            weight,
                        });
                    }
                    weights[table_index(mode)][emotion.index()][genre.index()] = weight;
                }
            }
        }
        for mode in [Mode::Match, Mode::Lift] {
            for emotion in Emotion::ALL {
                if !present[table_index(mode)][emotion.index()] {
                    return Err(AffinityError::Missing { mode, emotion });
                }
            }
        }
        Ok(AffinityTable { weights })
    }

    /// The weight of `genre` for a viewer feeling `emotion`, under `mode` (`Auto` is resolved
    /// for that emotion first).
    pub fn weight(&self, mode: Mode, emotion: Emotion, genre: Genre) -> f64 {
        let mode = mode.resolve(emotion);
        self.weights[table_index(mode)][emotion.index()][genre.index()]
    }

    /// All genre weights for one emotion under `mode`, indexed by [`Genre::index`].
    pub fn row(&self, mode: Mode, emotion: Emotion) -> &[f64; GENRE_COUNT] {
        &self.weights[table_index(mode.resolve(emotion))][emotion.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_table_is_valid_and_complete() {
        let table = AffinityTable::from_toml(AFFINITY_TOML).expect("valid table");
        for mode in [Mode::Match, Mode::Lift] {
            for emotion in Emotion::ALL {
                let row = table.row(mode, emotion);
                assert!(row.iter().all(|w| (-1.0..=1.0).contains(w)));
                assert!(
                    row.iter().any(|w| *w >= 0.5),
                    "[{mode}.{emotion}] has no genre that clearly serves it"
                );
            }
        }
        assert_eq!(table.weight(Mode::Match, Emotion::Fear, Genre::Horror), 1.0);
        assert_eq!(table.weight(Mode::Lift, Emotion::Fear, Genre::Horror), -1.0);
        // Auto lifts sadness: comedy, not drama.
        assert_eq!(table.weight(Mode::Auto, Emotion::Sad, Genre::Comedy), 1.0);
        assert_eq!(
            table.weight(Mode::Auto, Emotion::Happy, Genre::Adventure),
            0.8
        );
    }

    #[test]
    fn every_weight_line_says_why() {
        for line in AFFINITY_TOML.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('[') {
                continue;
            }
            assert!(line.contains('#'), "no reason given on: {line}");
        }
    }

    fn complete_with(extra: &str) -> String {
        let mut text = String::new();
        for mode in ["match", "lift"] {
            for emotion in Emotion::ALL {
                text.push_str(&format!("[{mode}.{emotion}]\nDrama = 0.5\n"));
            }
        }
        text.push_str(extra);
        text
    }

    #[test]
    fn refuses_bad_tables() {
        assert!(AffinityTable::from_toml(&complete_with("")).is_ok());
        let error = |extra: &str| AffinityTable::from_toml(&complete_with(extra)).unwrap_err();
        assert!(matches!(
            error("[match.sad2]\nDrama = 1\n"),
            AffinityError::UnknownEmotion { .. }
        ));
        assert!(matches!(
            error("[cheer.sad]\nDrama = 1\n"),
            AffinityError::UnknownMode(_)
        ));
        assert!(matches!(
            AffinityTable::from_toml("[match.sad]\nCooking = 0.5\n"),
            Err(AffinityError::UnknownGenre { .. })
        ));
        assert!(matches!(
            AffinityTable::from_toml("[match.sad]\nDrama = 1.5\n"),
            Err(AffinityError::OutOfRange { .. })
        ));
        assert!(matches!(
            AffinityTable::from_toml("[match.sad]\nDrama = 0.5\n"),
            Err(AffinityError::Missing { .. })
        ));
        assert!(matches!(
            AffinityTable::from_toml("[match.sad]\nDrama = \"high\"\n"),
            Err(AffinityError::Syntax(_))
        ));
    }
}
