//! How well a film's tone serves a mood: for each mode × emotion, what the viewer in that state
//! is served by (pleasant or grim, calm or intense, light or dark) and which tone tags help or
//! hurt. Reviewed data, one row per mode × emotion with the reason on its line.
//!
//! A film's tone fit for one emotion is
//! `valence·V + arousal·(2A − 1) + darkness·(2D − 1) + Σ tag weights`, clamped to [-1, 1], where
//! `V`, `A`, `D` are the film's valence (-1..1), arousal and darkness (0..1). For a mood the
//! coefficients are mixed by the emotions' probabilities first, so one film costs one sum.

use catalog::{Tone, ToneTag};
use mood::{EMOTION_COUNT, Emotion, EmotionDistribution};

use crate::mode::Mode;

/// One row: the profile coefficients and the tag weights that differ from 0.
struct Row {
    valence: f64,
    arousal: f64,
    darkness: f64,
    tags: &'static [(ToneTag, f64)],
}

use ToneTag::*;

/// `lift` rows, in [`Emotion::ALL`] order (angry, disgust, fear, happy, sad, surprise, neutral).
///
/// The four rows `auto` lifts (angry, disgust, fear, sad) share one core: a lift is a feel-good
/// film first (`FeelGood` 0.4–0.45, the largest weight of each row) and never a sad one
/// (`Poignant` below 0: a tearjerker lifts nobody); the emotion only picks the flavour (calm,
/// elevating, reassuring, funny).
const LIFT: [Row; EMOTION_COUNT] = [
    // angry: calm and warm; violent or tense media feed anger (Bushman 2002).
    Row {
        valence: 0.2,
        arousal: -0.4,
        darkness: -0.2,
        tags: &[
            (FeelGood, 0.4),
            (Gentle, 0.3),
            (HeartWarming, 0.15),
            (Exciting, -0.15),
            (Poignant, -0.2),
            (Tense, -0.3),
            (Dark, -0.3),
            (Scary, -0.3),
            (Bleak, -0.4),
            (Harrowing, -0.5),
        ],
    },
    // disgust: moral elevation (Haidt 2003): people at their best, kindness, courage.
    Row {
        valence: 0.2,
        arousal: 0.0,
        darkness: -0.2,
        tags: &[
            (FeelGood, 0.4),
            (Inspiring, 0.35),
            (HeartWarming, 0.2),
            (Hopeful, 0.15),
            (Poignant, -0.2),
            (Dark, -0.35),
            (Scary, -0.3),
            (Bleak, -0.4),
            (Harrowing, -0.6),
        ],
    },
    // fear: safety and reassurance: warmth, kindness, danger that ends well.
    Row {
        valence: 0.25,
        arousal: -0.1,
        darkness: -0.25,
        tags: &[
            (FeelGood, 0.4),
            (HeartWarming, 0.3),
            (Hopeful, 0.15),
            (Gentle, 0.1),
            (Funny, 0.1),
            (Poignant, -0.2),
            (Scary, -0.6),
            (Tense, -0.4),
            (Dark, -0.4),
            (Bleak, -0.4),
            (Harrowing, -0.6),
        ],
    },
    // happy: lifted further: triumph and inspiration.
    Row {
        valence: 0.4,
        arousal: 0.3,
        darkness: -0.3,
        tags: &[
            (Inspiring, 0.45),
            (Hopeful, 0.15),
            (FeelGood, 0.1),
            (Dark, -0.2),
            (Bleak, -0.4),
            (Harrowing, -0.5),
        ],
    },
    // sad: the classic repair: humour, warmth and hope, nothing heavy.
    Row {
        valence: 0.3,
        arousal: 0.0,
        darkness: -0.25,
        tags: &[
            (FeelGood, 0.45),
            (Funny, 0.3),
            (HeartWarming, 0.1),
            (Romantic, 0.1),
            (Poignant, -0.3),
            (Tense, -0.15),
            (Scary, -0.3),
            (Dark, -0.3),
            (Bleak, -0.5),
            (Harrowing, -0.6),
        ],
    },
    // surprise: turn a jolt into delight: playful and benign, not more uncertainty.
    Row {
        valence: 0.35,
        arousal: -0.2,
        darkness: -0.3,
        tags: &[
            (Whimsical, 0.4),
            (Funny, 0.15),
            (Gentle, 0.1),
            (FeelGood, 0.1),
            (MindBending, -0.1),
            (Tense, -0.3),
            (Scary, -0.5),
            (Bleak, -0.4),
            (Harrowing, -0.5),
        ],
    },
    // neutral: a flat mood given a spark: energy, momentum, a thrill that ends well.
    Row {
        valence: 0.3,
        arousal: 0.5,
        darkness: -0.2,
        tags: &[
            (Exciting, 0.4),
            (Funny, 0.1),
            (Romantic, 0.1),
            (FeelGood, 0.1),
            (Gentle, -0.2),
            (Bleak, -0.4),
            (Harrowing, -0.5),
        ],
    },
];

/// `match` rows, in [`Emotion::ALL`] order.
const MATCH: [Row; EMOTION_COUNT] = [
    // angry: agency and confrontation: high intensity, a fight worth having.
    Row {
        valence: -0.1,
        arousal: 0.5,
        darkness: 0.0,
        tags: &[
            (Exciting, 0.35),
            (Tense, 0.2),
            (Gentle, -0.3),
            (Whimsical, -0.3),
            (Romantic, -0.2),
            (Scary, -0.1),
        ],
    },
    // disgust: stories that expose rot and call it so: moral darkness, satire, not horror.
    Row {
        valence: -0.2,
        arousal: 0.0,
        darkness: 0.35,
        tags: &[
            (Dark, 0.35),
            (Funny, 0.1),
            (Scary, -0.15),
            (FeelGood, -0.3),
            (Whimsical, -0.3),
            (Romantic, -0.2),
        ],
    },
    // fear: suspense that holds the feeling in a safe frame.
    Row {
        valence: -0.2,
        arousal: 0.4,
        darkness: 0.1,
        tags: &[(Scary, 0.5), (Tense, 0.3), (FeelGood, -0.3), (Gentle, -0.3)],
    },
    // happy: keep the glow: bright, funny, warm.
    Row {
        valence: 0.5,
        arousal: 0.2,
        darkness: -0.3,
        tags: &[
            (FeelGood, 0.3),
            (Funny, 0.25),
            (Romantic, 0.15),
            (Exciting, 0.05),
            (Dark, -0.3),
            (Bleak, -0.5),
            (Harrowing, -0.5),
        ],
    },
    // sad: the sad-film paradox (Oliver 1993): poignant, tender, not cruel.
    Row {
        valence: -0.3,
        arousal: -0.2,
        darkness: 0.0,
        tags: &[
            (Poignant, 0.45),
            (Romantic, 0.15),
            (Gentle, 0.1),
            (Hopeful, 0.05),
            (Funny, -0.2),
            (Exciting, -0.2),
            (Dark, -0.1),
            (Harrowing, -0.3),
            (Scary, -0.4),
        ],
    },
    // surprise: twists and wonder.
    Row {
        valence: 0.0,
        arousal: 0.3,
        darkness: 0.0,
        tags: &[
            (MindBending, 0.45),
            (Whimsical, 0.2),
            (Tense, 0.1),
            (Exciting, 0.1),
        ],
    },
    // neutral: absorbing, considered films for an attentive viewer.
    Row {
        valence: 0.0,
        arousal: -0.2,
        darkness: 0.0,
        tags: &[
            (MindBending, 0.2),
            (Poignant, 0.15),
            (Gentle, 0.1),
            (Inspiring, 0.1),
            (Funny, -0.05),
            (Scary, -0.1),
        ],
    },
];

/// The tone coefficients for one mood and mode, mixed over the mood's emotions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ToneWeights {
    valence: f64,
    arousal: f64,
    darkness: f64,
    /// By [`ToneTag::index`].
    pub(crate) tags: [f64; ToneTag::ALL.len()],
}

impl ToneWeights {
    /// Mixes the rows of the emotions by their probabilities, each in the mode it resolves to.
    pub(crate) fn new(mood: &EmotionDistribution, mode: Mode) -> Self {
        let mut weights = ToneWeights {
            valence: 0.0,
            arousal: 0.0,
            darkness: 0.0,
            tags: [0.0; ToneTag::ALL.len()],
        };
        for emotion in Emotion::ALL {
            let probability = mood.probability(emotion);
            if probability <= 0.0 {
                continue;
            }
            let row = row(mode, emotion);
            weights.valence += probability * row.valence;
            weights.arousal += probability * row.arousal;
            weights.darkness += probability * row.darkness;
            for (tag, weight) in row.tags {
                weights.tags[tag.index()] += probability * weight;
            }
        }
        weights
    }

    /// The mean of all 14 rows (both modes, every emotion): what a film fits whatever the mood.
    pub(crate) fn generic() -> Self {
        let mut weights = ToneWeights {
            valence: 0.0,
            arousal: 0.0,
            darkness: 0.0,
            tags: [0.0; ToneTag::ALL.len()],
        };
        let share = 1.0 / (2 * EMOTION_COUNT) as f64;
        for rows in [&LIFT, &MATCH] {
            for row in rows {
                weights.valence += share * row.valence;
                weights.arousal += share * row.arousal;
                weights.darkness += share * row.darkness;
                for (tag, weight) in row.tags {
                    weights.tags[tag.index()] += share * weight;
                }
            }
        }
        weights
    }

    /// The weights for one emotion alone.
    pub(crate) fn for_emotion(emotion: Emotion, mode: Mode) -> Self {
        Self::new(&EmotionDistribution::certain(emotion), mode)
    }

    /// The film's tone fit in [-1, 1].
    pub(crate) fn fit(&self, tone: &Tone) -> f64 {
        let mut fit = self.valence * tone.valence
            + self.arousal * (2.0 * tone.arousal - 1.0)
            + self.darkness * (2.0 * tone.darkness - 1.0);
        // Set bits of the tag set, lowest first: no allocation, no pointer chase.
        let mut bits = tone.tags.bits();
        while bits != 0 {
            fit += self.tags[bits.trailing_zeros() as usize];
            bits &= bits - 1;
        }
        fit.clamp(-1.0, 1.0)
    }
}

fn row(mode: Mode, emotion: Emotion) -> &'static Row {
    let rows = match mode.resolve(emotion) {
        Mode::Match => &MATCH,
        _ => &LIFT,
    };
    &rows[emotion.index()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_stay_in_range_and_lifting_never_favours_grim_tags() {
        for rows in [&LIFT, &MATCH] {
            for row in rows {
                for (tag, weight) in row.tags {
                    assert!((-1.0..=1.0).contains(weight), "{tag}");
                }
            }
        }
        for row in &LIFT {
            for (tag, weight) in row.tags {
                if matches!(tag, Bleak | Harrowing | Dark | Scary) {
                    assert!(*weight < 0.0, "{tag} helps a lift");
                }
            }
            assert!(row.valence > 0.0 && row.darkness < 0.0);
        }
    }

    #[test]
    fn a_feel_good_film_fits_lifting_sadness_and_a_bleak_one_does_not() {
        let tone = |valence, darkness, tags: Vec<ToneTag>| Tone {
            valence,
            arousal: 0.5,
            darkness,
            tags: tags.into_iter().collect(),
            themes: catalog::DarkThemes::default(),
            source: catalog::ToneSource::HandSet,
        };
        let weights = ToneWeights::for_emotion(Emotion::Sad, Mode::Lift);
        let warm = weights.fit(&tone(0.8, 0.05, vec![FeelGood, Funny]));
        let bleak = weights.fit(&tone(-0.6, 0.8, vec![Bleak]));
        assert!(warm > 0.8, "{warm}");
        assert!(bleak < -0.8, "{bleak}");
        let matched = ToneWeights::for_emotion(Emotion::Sad, Mode::Match);
        assert!(
            matched.fit(&tone(-0.3, 0.5, vec![Poignant]))
                > matched.fit(&tone(0.8, 0.05, vec![FeelGood, Funny]))
        );
    }
}
