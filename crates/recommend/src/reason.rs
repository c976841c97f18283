//! The reasons shown with each film: one sentence in tone words saying why it fits this mood and
//! mode ("Warm, funny and uplifting — a lift after a sad day."), then notes where needed (what
//! dark theme it deals with; that it fits the mood badly and is there because the filters asked).
//!
//! The facts (genres, rating, votes) are on the film card already, so no reason repeats them.

use catalog::{Movie, ToneTag};
use mood::{Emotion, EmotionDistribution};

use crate::affinity::AffinityTable;
use crate::mode::Mode;
use crate::tone_fit::ToneWeights;
use crate::{Settings, genre_fit, tone};

/// A second emotion is spoken to as well when it has at least this probability.
const SECOND_EMOTION_MIN: f64 = 0.2;

/// Most tone words in one sentence.
const MOST_WORDS: usize = 3;

/// Reasons for recommending `movie` for `mood` under `mode`.
pub(crate) fn reasons(
    table: &AffinityTable,
    movie: &Movie,
    mood: &EmotionDistribution,
    mode: Mode,
) -> Vec<String> {
    let settings = Settings::default();
    let film_tone = tone(movie);
    // How much each emotion's part of the mood is served by this film.
    let fit_for = |emotion: Emotion| {
        let weights = table.row(mode, emotion);
        let genres = genre_fit(
            movie.genres.iter().map(|genre| weights[genre.index()]),
            settings.other_genres_share,
        );
        let tone_fit = ToneWeights::for_emotion(emotion, mode).fit(film_tone);
        (1.0 - settings.tone_share) * genres + settings.tone_share * tone_fit
    };
    let mut emotions: Vec<(Emotion, f64, f64)> = mood
        .ranked()
        .into_iter()
        .filter(|(_, probability)| *probability > 0.0)
        .map(|(emotion, probability)| {
            let fit = fit_for(emotion);
            (emotion, probability * fit, fit)
        })
        .collect();
    // Largest contribution first; `ranked` already put the more probable first on ties.
    emotions.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (main, _, main_fit) = emotions
        .first()
        .copied()
        .unwrap_or((mood.emotion(), 0.0, 0.0));

    let words = tone_words(movie, mood, mode);
    let mut sentence = format!(
        "{} — {}",
        capitalise(&join_words(&words)),
        purpose(mode, main)
    );
    if let Some((second, amount, _)) = emotions.get(1)
        && *amount > 0.0
        && mood.probability(*second) >= SECOND_EMOTION_MIN
        && purpose(mode, *second) != purpose(mode, main)
    {
        sentence.push_str(", and ");
        sentence.push_str(purpose(mode, *second));
    }
    sentence.push('.');
    let mut reasons = vec![sentence];

    if !film_tone.themes.is_empty() {
        let themes: Vec<&str> = film_tone.themes.iter().map(|theme| theme.words()).collect();
        reasons.push(format!("Content note: {}.", join_words(&themes)));
    }
    if main_fit < 0.0 {
        let against: Vec<&str> = movie
            .genres
            .iter()
            .filter(|genre| table.weight(mode, main, **genre) < 0.0)
            .map(|genre| genre.name())
            .collect();
        let verb = match mode.resolve(main) {
            Mode::Match => "matching",
            _ => "lifting",
        };
        let what = if against.is_empty() {
            "Its tone".to_owned()
        } else {
            format!("Its {} side", join_words(&against))
        };
        reasons.push(format!(
            "{what} works against {verb} {main}; it is here because the filters asked for it."
        ));
    }
    reasons
}

/// Up to [`MOST_WORDS`] words for the film's tone, the ones that serve this mood first. Tags
/// that work against the mood are never used, so a reason never calls a lift "bleak".
fn tone_words(movie: &Movie, mood: &EmotionDistribution, mode: Mode) -> Vec<&'static str> {
    let weights = ToneWeights::new(mood, mode);
    let film_tone = tone(movie);
    let mut tags: Vec<(ToneTag, f64)> = film_tone
        .tags
        .iter()
        .map(|tag| (tag, weights.tags[tag.index()]))
        .filter(|(_, weight)| *weight >= 0.0)
        .collect();
    // Serving tags first, then the film's other neutral tags in their usual order.
    tags.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut words: Vec<&'static str> = tags
        .into_iter()
        .take(MOST_WORDS)
        .map(|(tag, _)| tag_word(tag))
        .collect();
    if words.is_empty() {
        words.push(profile_word(
            film_tone.valence,
            film_tone.arousal,
            film_tone.darkness,
        ));
    }
    words
}

/// A tag as an adjective.
fn tag_word(tag: ToneTag) -> &'static str {
    match tag {
        ToneTag::FeelGood => "uplifting",
        ToneTag::HeartWarming => "warm",
        ToneTag::Funny => "funny",
        ToneTag::Whimsical => "whimsical",
        ToneTag::Hopeful => "hopeful",
        ToneTag::Inspiring => "inspiring",
        ToneTag::Romantic => "romantic",
        ToneTag::Exciting => "exciting",
        ToneTag::Gentle => "gentle",
        ToneTag::Poignant => "poignant",
        ToneTag::MindBending => "mind-bending",
        ToneTag::Tense => "tense",
        ToneTag::Scary => "scary",
        ToneTag::Dark => "dark",
        ToneTag::Bleak => "bleak",
        ToneTag::Harrowing => "harrowing",
    }
}

/// One word from the numbers, for a film whose tags say nothing for this mood.
fn profile_word(valence: f64, arousal: f64, darkness: f64) -> &'static str {
    if darkness >= 0.6 {
        "hard-edged"
    } else if valence >= 0.3 {
        "light"
    } else if arousal >= 0.7 {
        "gripping"
    } else if arousal <= 0.35 {
        "quiet"
    } else {
        "absorbing"
    }
}

/// What the film does for a viewer in this state.
fn purpose(mode: Mode, emotion: Emotion) -> &'static str {
    match (mode.resolve(emotion), emotion) {
        (Mode::Match, Emotion::Angry) => "lets the anger run its course",
        (Mode::Match, Emotion::Disgust) => "it calls out what is rotten",
        (Mode::Match, Emotion::Fear) => "thrills held in a safe frame",
        (Mode::Match, Emotion::Happy) => "keeps the good mood going",
        (Mode::Match, Emotion::Sad) => "for when you want to feel it, not fix it",
        (Mode::Match, Emotion::Surprise) => "full of twists and wonder",
        (Mode::Match, Emotion::Neutral) => "absorbing, for an attentive evening",
        (_, Emotion::Angry) => "something to cool off with",
        (_, Emotion::Disgust) => "people at their best, to restore some faith",
        (_, Emotion::Fear) => "a reassuring watch where things turn out well",
        (_, Emotion::Happy) => "to lift a good mood higher still",
        (_, Emotion::Sad) => "a lift after a sad day",
        (_, Emotion::Surprise) => "to turn a jolt into delight",
        (_, Emotion::Neutral) => "a spark for a flat day",
    }
}

/// "a", "a and b", "a, b and c".
fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [head @ .., last] => format!("{} and {last}", head.join(", ")),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use catalog::{Catalog, Genre};

    fn builtin(title: &str) -> &'static Movie {
        Catalog::builtin()
            .movies()
            .iter()
            .find(|movie| movie.title == title)
            .expect("a built-in film")
    }

    #[test]
    fn a_lift_after_sadness_reads_in_tone_words() {
        let sad = EmotionDistribution::certain(Emotion::Sad);
        let said = reasons(
            AffinityTable::builtin(),
            builtin("Paddington 2"),
            &sad,
            Mode::Auto,
        );
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].ends_with("— a lift after a sad day."),
            "{}",
            said[0]
        );
        assert!(said[0].to_lowercase().contains("uplifting"), "{}", said[0]);
        assert!(!said[0].contains("rated"), "no facts line: {}", said[0]);
    }

    #[test]
    fn blended_moods_get_one_consistent_sentence() {
        let mood = EmotionDistribution::parse("sad=0.6,fear=0.4").expect("mood");
        let said = reasons(
            AffinityTable::builtin(),
            builtin("Toy Story"),
            &mood,
            Mode::Auto,
        );
        assert_eq!(
            said[0],
            "Uplifting, funny and warm — a lift after a sad day, and a reassuring watch where \
             things turn out well."
        );
        let mixed = EmotionDistribution::parse("happy=0.5,sad=0.5").expect("mood");
        let said = reasons(
            AffinityTable::builtin(),
            builtin("Toy Story"),
            &mixed,
            Mode::Auto,
        );
        for word in ["bleak", "harrowing", "dark", "scary"] {
            assert!(!said[0].contains(word), "{}", said[0]);
        }
    }

    #[test]
    fn dark_themes_get_a_content_note_and_misfits_say_why_they_are_here() {
        let sad = EmotionDistribution::certain(Emotion::Sad);
        let said = reasons(
            AffinityTable::builtin(),
            builtin("Schindler's List"),
            &sad,
            Mode::Match,
        );
        assert!(
            said.contains(&"Content note: genocide and war atrocity.".to_owned()),
            "{said:?}"
        );
        let mut horror = Movie::new("Screams", vec![Genre::Horror]);
        horror.tone = Some(catalog::tone_of(&horror));
        let fear = EmotionDistribution::certain(Emotion::Fear);
        let said = reasons(AffinityTable::builtin(), &horror, &fear, Mode::Lift);
        assert!(
            said.last()
                .is_some_and(|r| r.starts_with("Its Horror side works against lifting fear")),
            "{said:?}"
        );
    }

    #[test]
    fn words_join_as_in_english() {
        assert_eq!(join_words(&["warm"]), "warm");
        assert_eq!(join_words(&["warm", "funny"]), "warm and funny");
        assert_eq!(
            join_words(&["warm", "funny", "hopeful"]),
            "warm, funny and hopeful"
        );
        assert_eq!(capitalise("warm"), "Warm");
    }
}
