//! Any text as a mood (`sad`, `angry=0.1,sad=0.7`) and as a JSON mood (name or weights object):
//! a distribution that sums to one, or a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mood::{EMOTION_COUNT, Emotion, EmotionDistribution};

fn check(mood: &EmotionDistribution) {
    let sum: f64 = (0..EMOTION_COUNT)
        .filter_map(Emotion::from_index)
        .map(|emotion| mood.probability(emotion))
        .sum();
    assert!(
        (sum - 1.0).abs() < 1e-6,
        "probabilities sum to {sum}: {mood:?}"
    );
    assert!(
        (0..EMOTION_COUNT)
            .filter_map(Emotion::from_index)
            .all(|emotion| (0.0..=1.0).contains(&mood.probability(emotion))),
        "a probability outside [0, 1]: {mood:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(mood) = EmotionDistribution::parse(text) {
            check(&mood);
        }
    }
    if let Ok(mood) = serde_json::from_slice::<EmotionDistribution>(data) {
        check(&mood);
    }
});
