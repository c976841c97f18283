//! What a recommendation returns, shaped as the JSON of the command line and the HTTP API.

use catalog::{Genre, ToneTag};
use mood::{Emotion, EmotionDistribution};
use serde::{Deserialize, Serialize};

use crate::mode::Mode;

/// Films recommended for a mood, the answer to a `Request`:
/// `{"mood":{…,"emotion"},"mode":…,"movies":[…]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recommendations {
    /// The mood the films were chosen for.
    pub mood: MoodSummary,
    /// The mode as requested (`auto` stays `auto`; each film's reasons say what it resolved to).
    pub mode: Mode,
    /// The films, best first (in the diversity-aware order, so `score` need not decrease).
    pub movies: Vec<RecommendedMovie>,
    /// What the reader should know about how the list was made, e.g. how many films an age
    /// filter left out for want of a known age band (left out of the JSON when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// How a recommended film feels: `{"valence","arousal","darkness","tags"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Tone))]
pub struct ToneSummary {
    /// Pleasantness, -1 (grim) to +1 (delightful).
    #[cfg_attr(feature = "openapi", schema(minimum = -1, maximum = 1))]
    pub valence: f64,
    /// Intensity, 0 (calm) to 1 (relentless).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1))]
    pub arousal: f64,
    /// Darkness, 0 (light) to 1 (very dark).
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1))]
    pub darkness: f64,
    /// Tone tags (`feel-good`, `heart-warming`, `funny`, `bleak`, ...).
    pub tags: Vec<ToneTag>,
}

/// A mood as reported: the seven probabilities plus the most probable emotion,
/// `{"angry":p,…,"neutral":p,"emotion":"sad"}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MoodSummary {
    /// The probabilities, one key per emotion.
    #[serde(flatten)]
    pub probabilities: EmotionDistribution,
    /// The most probable emotion.
    pub emotion: Emotion,
}

impl From<EmotionDistribution> for MoodSummary {
    fn from(probabilities: EmotionDistribution) -> Self {
        Self {
            emotion: probabilities.emotion(),
            probabilities,
        }
    }
}

/// One recommended film with its score and the reasons it was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecommendedMovie {
    /// Title.
    pub title: String,
    /// Year of release, if known.
    pub year: Option<u16>,
    /// Genres.
    pub genres: Vec<Genre>,
    /// The film's own rating (1–10), if rated.
    pub rating: Option<f64>,
    /// Running time in minutes, if known.
    pub runtime_min: Option<u16>,
    /// Age certificate, if known.
    pub certificate: Option<String>,
    /// Director(s), if known.
    pub director: Option<String>,
    /// Leading actors.
    pub stars: Vec<String>,
    /// Link to a poster image, when the catalog has one (left out of the JSON otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster_url: Option<String>,
    /// Relevance: mood fit and quality combined (see `docs/recommending.md`), 3 decimals.
    pub score: f64,
    /// One line saying what the film is, when the catalog has one.
    pub synopsis: Option<String>,
    /// The youngest age its age band admits, when known.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 255))]
    pub min_age: Option<u8>,
    /// How the film feels.
    pub tone: ToneSummary,
    /// Why this film, in words a person can read: first one sentence in tone words for this
    /// mood and mode, then any note (a content note, a genre that works against the mood).
    pub reasons: Vec<String>,
}
