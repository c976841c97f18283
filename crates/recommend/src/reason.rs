//! The reasons shown with each film, e.g. "Lift for sad (62%): Comedy, Animation · rated 8.3".

use catalog::{Genre, Movie};
use mood::{Emotion, EmotionDistribution};

use crate::affinity::AffinityTable;
use crate::mode::Mode;

/// A second emotion is explained too when it has at least this probability.
const SECOND_EMOTION_MIN: f64 = 0.2;

/// Reasons for recommending `movie` for `mood` under `mode`: the emotion that contributes most
/// to its fit, with the genres that serve it and the rating; a second emotion when it also
/// contributes; and a note when one of the film's genres works against the mood (possible when
/// filters asked for that genre).
pub(crate) fn reasons(
    table: &AffinityTable,
    movie: &Movie,
    mood: &EmotionDistribution,
    mode: Mode,
) -> Vec<String> {
    let contribution = |emotion: Emotion| {
        let weights = table.row(mode, emotion);
        let mean = movie
            .genres
            .iter()
            .map(|genre| weights[genre.index()])
            .sum::<f64>()
            / movie.genres.len().max(1) as f64;
        mood.probability(emotion) * mean
    };
    let mut emotions: Vec<(Emotion, f64)> = mood
        .ranked()
        .into_iter()
        .filter(|(_, probability)| *probability > 0.0)
        .map(|(emotion, _)| (emotion, contribution(emotion)))
        .collect();
    // Largest contribution first; `ranked` already put the more probable first on ties.
    emotions.sort_by(|a, b| b.1.total_cmp(&a.1));
    let main = emotions
        .first()
        .map_or(mood.emotion(), |(emotion, _)| *emotion);

    let mut reasons = vec![format!(
        "{} · {}",
        mood_reason(table, movie, mood, mode, main),
        rating_reason(movie)
    )];
    if let Some((second, amount)) = emotions.get(1)
        && *amount > 0.0
        && mood.probability(*second) >= SECOND_EMOTION_MIN
    {
        reasons.push(mood_reason(table, movie, mood, mode, *second));
    }
    let against: Vec<&str> = movie
        .genres
        .iter()
        .filter(|genre| table.weight(mode, main, **genre) < 0.0)
        .map(|genre| genre.name())
        .collect();
    if !against.is_empty() {
        let verb = match mode.resolve(main) {
            Mode::Match => "matching",
            _ => "lifting",
        };
        reasons.push(format!(
            "{} usually work{} against {verb} {main}",
            against.join(", "),
            if against.len() == 1 { "s" } else { "" }
        ));
    }
    reasons
}

/// "Lift for sad (62%): Comedy, Animation": the genres that serve this emotion, best first.
fn mood_reason(
    table: &AffinityTable,
    movie: &Movie,
    mood: &EmotionDistribution,
    mode: Mode,
    emotion: Emotion,
) -> String {
    let mut serving: Vec<(Genre, f64)> = movie
        .genres
        .iter()
        .map(|genre| (*genre, table.weight(mode, emotion, *genre)))
        .filter(|(_, weight)| *weight > 0.0)
        .collect();
    serving.sort_by(|a, b| b.1.total_cmp(&a.1));
    let percent = (mood.probability(emotion) * 100.0).round();
    let head = format!(
        "{} for {emotion} ({percent}%)",
        mode.resolve(emotion).title()
    );
    if serving.is_empty() {
        format!("{head}: no genre of it suits this mood; it passed the filters")
    } else {
        let names: Vec<&str> = serving.iter().map(|(genre, _)| genre.name()).collect();
        format!("{head}: {}", names.join(", "))
    }
}

/// "rated 8.3", "rated 8.3 from 1.2M votes" or "unrated".
fn rating_reason(movie: &Movie) -> String {
    match (movie.rating, movie.votes) {
        (Some(rating), Some(votes)) if votes > 0 => {
            format!("rated {rating:.1} from {} votes", compact_count(votes))
        }
        (Some(rating), _) => format!("rated {rating:.1}"),
        (None, _) => "unrated".to_owned(),
    }
}

/// 950, 45k, 1.2M.
fn compact_count(count: u64) -> String {
    match count {
        0..1_000 => count.to_string(),
        1_000..1_000_000 => format!("{}k", count / 1_000),
        _ => format!("{:.1}M", count as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_name_mode_emotion_genres_and_rating() {
        let mut movie = Movie::new(
            "Toy Story",
            vec![Genre::Animation, Genre::Comedy, Genre::Drama],
        );
        movie.rating = Some(8.3);
        let mood = EmotionDistribution::parse("sad=0.62,fear=0.38").expect("mood");
        let reasons = reasons(AffinityTable::builtin(), &movie, &mood, Mode::Auto);
        assert_eq!(
            reasons[0],
            "Lift for sad (62%): Comedy, Animation · rated 8.3"
        );
        assert_eq!(reasons[1], "Lift for fear (38%): Comedy, Animation");
        assert_eq!(reasons[2], "Drama usually works against lifting sad");
    }

    #[test]
    fn ratings_and_counts_read_well() {
        let mut movie = Movie::new("X", vec![Genre::Horror]);
        assert_eq!(rating_reason(&movie), "unrated");
        movie.rating = Some(7.0);
        movie.votes = Some(1_234_567);
        assert_eq!(rating_reason(&movie), "rated 7.0 from 1.2M votes");
        assert_eq!(compact_count(45_678), "45k");
        assert_eq!(compact_count(950), "950");
        let fear = EmotionDistribution::certain(Emotion::Fear);
        let reasons = reasons(AffinityTable::builtin(), &movie, &fear, Mode::Lift);
        assert!(
            reasons[0].starts_with("Lift for fear (100%): no genre"),
            "{reasons:?}"
        );
        assert_eq!(reasons[1], "Horror usually works against lifting fear");
    }
}
