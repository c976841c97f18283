//! The seven FER-2013 emotions, in their fixed order, and probability distributions over them.
//!
//! Every other crate speaks of moods through these types: the expression model produces an
//! [`EmotionDistribution`], the recommender consumes one. This crate knows nothing of images,
//! films or models, and depends on nothing but `serde` and `thiserror` (and, with the `openapi`
//! feature, `utoipa` for the schemas of its JSON).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
pub mod openapi;

/// One of the seven FER-2013 emotions. The discriminant is the FER-2013 class id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Emotion {
    /// FER-2013 class 0.
    Angry = 0,
    /// FER-2013 class 1.
    Disgust = 1,
    /// FER-2013 class 2.
    Fear = 2,
    /// FER-2013 class 3.
    Happy = 3,
    /// FER-2013 class 4.
    Sad = 4,
    /// FER-2013 class 5.
    Surprise = 5,
    /// FER-2013 class 6.
    Neutral = 6,
}

/// Number of emotions.
pub const EMOTION_COUNT: usize = 7;

impl Emotion {
    /// All emotions in FER-2013 order.
    pub const ALL: [Emotion; EMOTION_COUNT] = [
        Emotion::Angry,
        Emotion::Disgust,
        Emotion::Fear,
        Emotion::Happy,
        Emotion::Sad,
        Emotion::Surprise,
        Emotion::Neutral,
    ];

    /// The FER-2013 class id (0..=6).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The emotion with FER-2013 class id `index`, if there is one.
    pub fn from_index(index: usize) -> Option<Emotion> {
        Emotion::ALL.get(index).copied()
    }

    /// Lower-case English name, as used in every interface.
    pub fn name(self) -> &'static str {
        match self {
            Emotion::Angry => "angry",
            Emotion::Disgust => "disgust",
            Emotion::Fear => "fear",
            Emotion::Happy => "happy",
            Emotion::Sad => "sad",
            Emotion::Surprise => "surprise",
            Emotion::Neutral => "neutral",
        }
    }
}

impl fmt::Display for Emotion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a mood could not be read or built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MoodError {
    /// A name that is not one of the seven emotions.
    #[error(
        "unknown emotion {0:?}; expected one of angry, disgust, fear, happy, sad, surprise, neutral"
    )]
    UnknownEmotion(String),
    /// A `name=value` pair whose value is not a number.
    #[error("emotion {name}: {value:?} is not a number")]
    NotANumber {
        /// The emotion named.
        name: String,
        /// The text that failed to parse.
        value: String,
    },
    /// The same emotion given twice.
    #[error("emotion {0} is given more than once")]
    Duplicate(Emotion),
    /// A weight that is negative, infinite or NaN.
    #[error("weight of {emotion} must be a finite number >= 0, got {value}")]
    InvalidWeight {
        /// The emotion whose weight is wrong.
        emotion: Emotion,
        /// The offending value.
        value: f64,
    },
    /// All weights are zero, so there is nothing to normalise.
    #[error("a mood needs at least one emotion with a weight above 0")]
    AllZero,
    /// An empty list of moods to average.
    #[error("cannot average an empty list of moods")]
    Empty,
}

impl FromStr for Emotion {
    type Err = MoodError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim();
        Emotion::ALL
            .into_iter()
            .find(|emotion| emotion.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| MoodError::UnknownEmotion(wanted.to_owned()))
    }
}

/// A probability distribution over the seven emotions: finite, non-negative, sums to 1.
///
/// Constructed only through validating functions, so every value of this type is a valid mood.
/// Serialises as an object `{"angry": p, ..., "neutral": p}` in FER-2013 order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmotionDistribution {
    probabilities: [f64; EMOTION_COUNT],
}

impl EmotionDistribution {
    /// Normalises non-negative weights (in FER-2013 order) into a distribution.
    pub fn from_weights(weights: [f64; EMOTION_COUNT]) -> Result<Self, MoodError> {
        for (emotion, &value) in Emotion::ALL.iter().zip(&weights) {
            if !value.is_finite() || value < 0.0 {
                return Err(MoodError::InvalidWeight {
                    emotion: *emotion,
                    value,
                });
            }
        }
        let mut weights = weights;
        let mut total: f64 = weights.iter().sum();
        if total.is_infinite() {
            // Finite weights whose sum overflows (`1e308` twice): scale them down by the
            // largest first, which keeps their proportions.
            let largest = weights.iter().copied().fold(0.0, f64::max);
            weights = weights.map(|w| w / largest);
            total = weights.iter().sum();
        }
        if total <= 0.0 || !total.is_finite() {
            return Err(MoodError::AllZero);
        }
        Ok(Self {
            probabilities: weights.map(|w| w / total),
        })
    }

    /// Normalises single-precision weights, such as a model's softmax output.
    pub fn from_f32(weights: [f32; EMOTION_COUNT]) -> Result<Self, MoodError> {
        Self::from_weights(weights.map(f64::from))
    }

    /// All the probability on one emotion.
    pub fn certain(emotion: Emotion) -> Self {
        let mut probabilities = [0.0; EMOTION_COUNT];
        probabilities[emotion.index()] = 1.0;
        Self { probabilities }
    }

    /// Parses `sad` (one emotion, probability 1) or `angry=0.1,sad=0.7` (weights, missing
    /// emotions are 0, normalised to sum to 1). Names are case-insensitive.
    pub fn parse(text: &str) -> Result<Self, MoodError> {
        if !text.contains('=') {
            return text.parse::<Emotion>().map(Self::certain);
        }
        let mut weights = [0.0; EMOTION_COUNT];
        let mut seen = [false; EMOTION_COUNT];
        for pair in text.split(',').filter(|pair| !pair.trim().is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let emotion: Emotion = name.parse()?;
            let value_text = value.trim();
            let weight: f64 = value_text.parse().map_err(|_| MoodError::NotANumber {
                name: emotion.name().to_owned(),
                value: value_text.to_owned(),
            })?;
            if std::mem::replace(&mut seen[emotion.index()], true) {
                return Err(MoodError::Duplicate(emotion));
            }
            weights[emotion.index()] = weight;
        }
        Self::from_weights(weights)
    }

    /// Weighted mean of several distributions (e.g. faces weighted by their area).
    pub fn weighted_mean(
        moods: impl IntoIterator<Item = (EmotionDistribution, f64)>,
    ) -> Result<Self, MoodError> {
        let mut sum = [0.0; EMOTION_COUNT];
        let mut any = false;
        for (mood, weight) in moods {
            any = true;
            if !weight.is_finite() || weight < 0.0 {
                return Err(MoodError::InvalidWeight {
                    emotion: mood.emotion(),
                    value: weight,
                });
            }
            for (total, p) in sum.iter_mut().zip(mood.probabilities) {
                *total += weight * p;
            }
        }
        if !any {
            return Err(MoodError::Empty);
        }
        Self::from_weights(sum)
    }

    /// Probability of one emotion.
    pub fn probability(&self, emotion: Emotion) -> f64 {
        self.probabilities[emotion.index()]
    }

    /// The probabilities in FER-2013 order.
    pub fn probabilities(&self) -> [f64; EMOTION_COUNT] {
        self.probabilities
    }

    /// The most probable emotion (the earliest in FER-2013 order on an exact tie).
    pub fn emotion(&self) -> Emotion {
        let mut best = Emotion::Angry;
        for emotion in Emotion::ALL {
            if self.probability(emotion) > self.probability(best) {
                best = emotion;
            }
        }
        best
    }

    /// Probability of the most probable emotion.
    pub fn confidence(&self) -> f64 {
        self.probability(self.emotion())
    }

    /// Emotions with their probabilities, most probable first (ties in FER-2013 order).
    pub fn ranked(&self) -> Vec<(Emotion, f64)> {
        let mut ranked: Vec<_> = Emotion::ALL
            .into_iter()
            .map(|emotion| (emotion, self.probability(emotion)))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
    }
}

impl Serialize for EmotionDistribution {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(EMOTION_COUNT))?;
        for emotion in Emotion::ALL {
            map.serialize_entry(emotion.name(), &self.probability(emotion))?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for EmotionDistribution {
    /// Accepts an emotion name (`"sad"`) or an object of weights (`{"sad": 0.7, "fear": 0.3}`).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Name(String),
            Weights(Entries),
        }
        /// The object's entries in order, repeats kept (a map type would keep only the last
        /// of `{"sad": 1, "sad": 0}`, where the JSON means nothing clear).
        struct Entries(Vec<(String, f64)>);
        impl<'de> Deserialize<'de> for Entries {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl<'de> serde::de::Visitor<'de> for Visitor {
                    type Value = Entries;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("an object of emotion weights")
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<Entries, A::Error> {
                        let mut entries = Vec::new();
                        while let Some(entry) = map.next_entry::<String, f64>()? {
                            entries.push(entry);
                        }
                        Ok(Entries(entries))
                    }
                }
                deserializer.deserialize_map(Visitor)
            }
        }
        match Wire::deserialize(deserializer)? {
            Wire::Name(name) => name
                .parse::<Emotion>()
                .map(Self::certain)
                .map_err(serde::de::Error::custom),
            Wire::Weights(Entries(weights)) => {
                let mut values = [0.0; EMOTION_COUNT];
                let mut seen = [false; EMOTION_COUNT];
                for (name, value) in weights {
                    let emotion: Emotion = name.parse().map_err(serde::de::Error::custom)?;
                    if std::mem::replace(&mut seen[emotion.index()], true) {
                        return Err(serde::de::Error::custom(MoodError::Duplicate(emotion)));
                    }
                    values[emotion.index()] = value;
                }
                Self::from_weights(values).map_err(serde::de::Error::custom)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn huge_weights_keep_their_proportions_and_repeats_are_refused() {
        let mood: EmotionDistribution =
            serde_json::from_str(r#"{"sad": 1e308, "happy": 1e308}"#).expect("finite weights");
        assert_eq!(mood.probability(Emotion::Sad), 0.5);
        assert_eq!(mood.probability(Emotion::Happy), 0.5);
        let repeat = serde_json::from_str::<EmotionDistribution>(r#"{"sad": 1, "SAD": 0}"#)
            .unwrap_err()
            .to_string();
        assert!(repeat.contains("sad"), "{repeat}");
    }

    #[test]
    fn names_round_trip_in_fer_order() {
        for (index, emotion) in Emotion::ALL.into_iter().enumerate() {
            assert_eq!(emotion.index(), index);
            assert_eq!(Emotion::from_index(index), Some(emotion));
            assert_eq!(emotion.name().parse::<Emotion>(), Ok(emotion));
            assert_eq!(
                emotion.name().to_uppercase().parse::<Emotion>(),
                Ok(emotion)
            );
        }
        assert_eq!(Emotion::from_index(7), None);
    }

    #[test]
    fn unknown_name_lists_the_valid_ones() {
        let error = "joy".parse::<Emotion>().unwrap_err().to_string();
        assert!(error.contains("\"joy\""), "{error}");
        assert!(error.contains("angry, disgust, fear, happy, sad, surprise, neutral"));
    }

    #[test]
    fn parses_a_single_name_and_a_weight_list() {
        let sad = EmotionDistribution::parse("Sad").unwrap();
        assert_eq!(sad.emotion(), Emotion::Sad);
        assert_eq!(sad.probability(Emotion::Sad), 1.0);

        let mixed = EmotionDistribution::parse("angry=1, sad=3").unwrap();
        assert!((mixed.probability(Emotion::Sad) - 0.75).abs() < 1e-12);
        assert!((mixed.probability(Emotion::Angry) - 0.25).abs() < 1e-12);
        assert_eq!(mixed.probability(Emotion::Happy), 0.0);
        assert_eq!(mixed.emotion(), Emotion::Sad);
    }

    #[test]
    fn rejects_bad_weight_lists() {
        assert!(matches!(
            EmotionDistribution::parse("sad=-1,happy=2"),
            Err(MoodError::InvalidWeight { .. })
        ));
        assert!(matches!(
            EmotionDistribution::parse("sad=x"),
            Err(MoodError::NotANumber { .. })
        ));
        assert!(matches!(
            EmotionDistribution::parse("sad=0,happy=0"),
            Err(MoodError::AllZero)
        ));
        assert!(matches!(
            EmotionDistribution::parse("sad=1,sad=2"),
            Err(MoodError::Duplicate(Emotion::Sad))
        ));
        assert!(matches!(
            EmotionDistribution::parse("sad=NaN"),
            Err(MoodError::InvalidWeight { .. })
        ));
        assert!(matches!(
            EmotionDistribution::parse("glee=1"),
            Err(MoodError::UnknownEmotion(_))
        ));
    }

    #[test]
    fn weighted_mean_follows_the_weights() {
        let happy = EmotionDistribution::certain(Emotion::Happy);
        let sad = EmotionDistribution::certain(Emotion::Sad);
        let group = EmotionDistribution::weighted_mean([(happy, 3.0), (sad, 1.0)]).unwrap();
        assert!((group.probability(Emotion::Happy) - 0.75).abs() < 1e-12);
        assert_eq!(group.emotion(), Emotion::Happy);
        assert_eq!(
            EmotionDistribution::weighted_mean([]),
            Err(MoodError::Empty)
        );
    }

    #[test]
    fn json_is_an_object_in_fer_order_and_reads_back() {
        let mood = EmotionDistribution::parse("happy=0.5,neutral=0.5").unwrap();
        let json = serde_json::to_string(&mood).unwrap();
        assert!(json.starts_with("{\"angry\":0.0,\"disgust\":0.0"), "{json}");
        let back: EmotionDistribution = serde_json::from_str(&json).unwrap();
        assert_eq!(back, mood);
        let named: EmotionDistribution = serde_json::from_str("\"fear\"").unwrap();
        assert_eq!(named.emotion(), Emotion::Fear);
        assert!(serde_json::from_str::<EmotionDistribution>("{\"happy\":-1}").is_err());
    }

    proptest! {
        #[test]
        fn any_valid_weights_give_a_distribution(weights in proptest::array::uniform7(0.0f64..1e6)) {
            prop_assume!(weights.iter().sum::<f64>() > 0.0);
            let mood = EmotionDistribution::from_weights(weights).unwrap();
            let total: f64 = mood.probabilities().iter().sum();
            prop_assert!((total - 1.0).abs() < 1e-9);
            prop_assert!(mood.probabilities().iter().all(|p| (0.0..=1.0).contains(p)));
            prop_assert_eq!(mood.confidence(), mood.ranked()[0].1);
        }

        #[test]
        fn group_means_are_distributions(
            faces in proptest::collection::vec((proptest::array::uniform7(0.0f64..10.0), 0.0f64..1e4), 1..6)
        ) {
            let moods: Vec<_> = faces
                .iter()
                .filter_map(|(w, area)| EmotionDistribution::from_weights(*w).ok().map(|m| (m, *area)))
                .collect();
            prop_assume!(!moods.is_empty() && moods.iter().any(|(_, a)| *a > 0.0));
            let group = EmotionDistribution::weighted_mean(moods).unwrap();
            let total: f64 = group.probabilities().iter().sum();
            prop_assert!((total - 1.0).abs() < 1e-9);
        }
    }
}
