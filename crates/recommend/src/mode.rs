//! Whether to match a mood or lift it.

use std::fmt;
use std::str::FromStr;

use mood::Emotion;
use serde::{Deserialize, Serialize};

/// How recommendations relate to the mood.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Films whose tone fits the feeling.
    Match,
    /// Mood repair: films that move the viewer toward a better state.
    Lift,
    /// `Lift` for angry, disgust, fear and sad; `Match` for happy, surprise and neutral
    /// (mood-management theory, Zillmann 1988).
    #[default]
    Auto,
}

impl Mode {
    /// All modes, as listed in help and errors.
    pub const ALL: [Mode; 3] = [Mode::Match, Mode::Lift, Mode::Auto];

    /// Lower-case name, as used in every interface.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Match => "match",
            Mode::Lift => "lift",
            Mode::Auto => "auto",
        }
    }

    /// The concrete mode used for `emotion`: `Match` or `Lift`, never `Auto`.
    pub fn resolve(self, emotion: Emotion) -> Mode {
        match self {
            Mode::Match | Mode::Lift => self,
            Mode::Auto => match emotion {
                Emotion::Angry | Emotion::Disgust | Emotion::Fear | Emotion::Sad => Mode::Lift,
                Emotion::Happy | Emotion::Surprise | Emotion::Neutral => Mode::Match,
            },
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a mode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mode {0:?}; expected match, lift or auto")]
pub struct UnknownMode(pub String);

impl FromStr for Mode {
    type Err = UnknownMode;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim();
        Mode::ALL
            .into_iter()
            .find(|mode| mode.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownMode(wanted.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_lifts_negative_moods_and_matches_the_others() {
        let lifted: Vec<_> = Emotion::ALL
            .into_iter()
            .filter(|e| Mode::Auto.resolve(*e) == Mode::Lift)
            .collect();
        assert_eq!(
            lifted,
            [
                Emotion::Angry,
                Emotion::Disgust,
                Emotion::Fear,
                Emotion::Sad
            ]
        );
        for emotion in Emotion::ALL {
            assert_eq!(Mode::Match.resolve(emotion), Mode::Match);
            assert_eq!(Mode::Lift.resolve(emotion), Mode::Lift);
        }
    }

    #[test]
    fn names_parse_case_insensitively() {
        assert_eq!("LIFT".parse::<Mode>(), Ok(Mode::Lift));
        assert!(
            "cheer"
                .parse::<Mode>()
                .unwrap_err()
                .to_string()
                .contains("match, lift or auto")
        );
    }
}
