//! Recommends films for a mood: the modes (`match`, `lift`, `auto`), the mode × emotion × genre
//! affinity table, the scoring (mood fit plus a Bayesian quality prior), diversity re-ranking
//! (maximal marginal relevance), filters that say which one emptied the list, and a reason for
//! every film.
//!
//! This crate knows nothing of images or faces: it takes an [`EmotionDistribution`] however it
//! was obtained. It does no I/O and keeps no state; the same [`Request`] on the same catalog
//! always gives the same list. The scoring is explained with a worked example in
//! `docs/recommending.md`.
//!
//! ```
//! use recommend::{Mode, Request};
//!
//! let mood = mood::EmotionDistribution::parse("sad=0.7,neutral=0.3").expect("valid mood");
//! let request = Request { mode: Mode::Lift, n: 5, ..Request::new(mood) };
//! let list = recommend::recommend(catalog::Catalog::builtin(), &request).expect("films");
//! assert_eq!(list.movies.len(), 5);
//! assert!(!list.movies[0].reasons.is_empty());
//! ```

mod affinity;
mod filter;
mod mode;
#[cfg(feature = "openapi")]
mod openapi;
mod reason;
mod response;
mod tone_fit;

use catalog::{Catalog, GENRE_COUNT, GenreSet, Movie, Tone, ToneTag, franchise_key};
use mood::{Emotion, EmotionDistribution};
use serde::{Deserialize, Serialize};

pub use affinity::{AFFINITY_TOML, AffinityError, AffinityTable};
pub use filter::{ExcludedTitle, Filter, Filters};
pub use mode::{Mode, UnknownMode};
pub use response::{MoodSummary, Recommendations, RecommendedMovie, ToneSummary};
use tone_fit::ToneWeights;

/// How many films a request may ask for.
pub const MAX_COUNT: usize = 100;

/// How many films a request gets unless it says.
pub const DEFAULT_COUNT: usize = 10;

fn default_count() -> usize {
    DEFAULT_COUNT
}

/// What to recommend: a mood, a mode, how many films, filters, and an optional seed.
///
/// In JSON the filters sit beside the other fields:
/// `{"mood": "sad", "mode": "lift", "n": 5, "min_year": 2000, "genres": ["Comedy"]}`; `mood` may
/// also be an object of weights (`{"sad": 0.7, "fear": 0.3}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The mood to recommend for.
    pub mood: EmotionDistribution,
    /// Match or lift the mood (default `auto`).
    #[serde(default)]
    pub mode: Mode,
    /// How many films, 1 to [`MAX_COUNT`] (default [`DEFAULT_COUNT`]).
    #[serde(default = "default_count")]
    pub n: usize,
    /// Conditions every film must meet.
    #[serde(flatten)]
    pub filters: Filters,
    /// Shuffle among near-ties, reproducibly for the same seed ("surprise me").
    #[serde(default)]
    pub seed: Option<u64>,
}

impl Request {
    /// A request for [`DEFAULT_COUNT`] films in `auto` mode, without filters or seed.
    pub fn new(mood: EmotionDistribution) -> Self {
        Self {
            mood,
            mode: Mode::Auto,
            n: DEFAULT_COUNT,
            filters: Filters::default(),
            seed: None,
        }
    }
}

/// Why no list could be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecommendError {
    /// `n` out of range.
    #[error("the number of films must be between 1 and {max}, got {n}")]
    InvalidCount {
        /// The number asked for.
        n: usize,
        /// [`MAX_COUNT`].
        max: usize,
    },
    /// A minimum rating that is not a number between 0 and 10.
    #[error("the minimum rating must be a number between 0 and 10, got {0}")]
    InvalidRating(f64),
    /// A filter left no film.
    #[error(
        "no film passes the filters: `{filter}` ({field}) removed the last {before} film{}",
        if *before == 1 { "" } else { "s" }
    )]
    NothingLeft {
        /// The filter that emptied the list, in words.
        filter: String,
        /// Its request field (`min_year`, `genres`, ...).
        field: &'static str,
        /// How many films were left just before it.
        before: usize,
    },
}

/// The tuning of the ranking. The defaults are the ones documented and tested; see
/// `docs/recommending.md` for what each one does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Weight of mood fit (in [-1, 1]) in a film's relevance.
    pub fit_weight: f64,
    /// Weight of quality (the weighted rating mapped from 5–9 onto 0–1) in relevance.
    pub quality_weight: f64,
    /// Weight of popularity (the film's popularity rank in its catalog, 0–1) in relevance.
    pub popularity_weight: f64,
    /// Of mood fit, the share that comes from the film's tone; the rest comes from its genres.
    pub tone_share: f64,
    /// How much of a film's generic fit (its fit averaged over all 14 mode × emotion rows) is
    /// taken off its fit for this mood, so that a crowd-pleaser that suits every mood does not
    /// crowd out the films that suit this one best.
    pub specificity: f64,
    /// Of a film's genre fit, the weight of its other genres' mean next to its best genre's
    /// weight (1): `(best + share · mean of the rest) / (1 + share)`.
    pub other_genres_share: f64,
    /// Weight of similarity to films already chosen, in maximal marginal relevance: each pick
    /// maximises `(1 - diversity) · relevance - diversity · max similarity`.
    pub diversity: f64,
    /// Of the similarity between two films, the share that comes from shared genres (Jaccard).
    pub genre_similarity: f64,
    /// Of the similarity between two films, the share that comes from shared tone tags
    /// (Jaccard); the rest comes from a shared director.
    pub tone_similarity: f64,
    /// With a seed, each film's relevance gets a reproducible random bonus in `[0, seed_jitter)`,
    /// shuffling films closer than that.
    pub seed_jitter: f64,
    /// MMR considers the best `max(pool_factor × n, min_pool)` films by relevance.
    pub pool_factor: usize,
    /// Smallest MMR pool.
    pub min_pool: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            fit_weight: 0.87,
            quality_weight: 0.10,
            popularity_weight: 0.03,
            tone_share: 0.6,
            specificity: 0.2,
            other_genres_share: 0.35,
            diversity: 0.55,
            genre_similarity: 0.5,
            tone_similarity: 0.3,
            seed_jitter: 0.02,
            pool_factor: 10,
            min_pool: 100,
        }
    }
}

/// An affinity table and settings: everything a recommendation depends on besides the catalog
/// and the request. Cheap to copy around; shares the table by reference.
#[derive(Debug, Clone, Copy)]
pub struct Recommender<'t> {
    table: &'t AffinityTable,
    settings: Settings,
}

impl Default for Recommender<'static> {
    fn default() -> Self {
        Self::new(AffinityTable::builtin(), Settings::default())
    }
}

/// Recommends films from `catalog` with the project's affinity table and default settings.
pub fn recommend(catalog: &Catalog, request: &Request) -> Result<Recommendations, RecommendError> {
    Recommender::default().recommend(catalog, request)
}

/// A film being ranked.
struct Candidate<'c> {
    movie: &'c Movie,
    /// The genres as a set, filled in for the diversity pool only.
    genres: GenreSet,
    /// The tone tags as bits, filled in for the diversity pool only.
    tags: u32,
    /// The series it belongs to ([`franchise_key`]), filled in for the diversity pool only.
    series: String,
    /// Whether its rating rests on fewer votes than the catalog's floor.
    below_floor: bool,
    /// Mood fit plus quality.
    relevance: f64,
    /// Relevance plus the seed's jitter, less a large penalty below the vote floor: what the
    /// ranking sorts by.
    rank: f64,
}

/// What a film below the catalog's vote floor loses in rank: more than any relevance, so such
/// films come only after every film above the floor (and only when too few of those are left).
const BELOW_FLOOR_PENALTY: f64 = 10.0;

/// A mood counts as lifted, and dark films are kept out, when the emotions it lifts have at
/// least this share of it.
const LIFTED_SHARE: f64 = 0.2;

/// The tone of a film that has none (only possible for films built in code without a catalog).
static NEUTRAL_TONE: std::sync::LazyLock<Tone> = std::sync::LazyLock::new(|| Tone {
    valence: 0.0,
    arousal: 0.5,
    darkness: 0.5,
    tags: catalog::ToneTags::default(),
    themes: catalog::DarkThemes::default(),
    source: catalog::ToneSource::Genres,
});

/// A film's tone, or a neutral one.
pub(crate) fn tone(movie: &Movie) -> &Tone {
    movie.tone.as_ref().unwrap_or(&NEUTRAL_TONE)
}

/// The share of the mood that `mode` lifts (all of it for `lift`, none for `match`).
fn lifted_share(mood: &EmotionDistribution, mode: Mode) -> f64 {
    Emotion::ALL
        .into_iter()
        .filter(|emotion| mode.resolve(*emotion) == Mode::Lift)
        .map(|emotion| mood.probability(emotion))
        .sum()
}

impl<'t> Recommender<'t> {
    /// A recommender with this table and these settings.
    pub fn new(table: &'t AffinityTable, settings: Settings) -> Self {
        Self { table, settings }
    }

    /// The films for `request`, best first. Deterministic: the same catalog and request give
    /// the same list (ties are broken by title, then year).
    pub fn recommend(
        &self,
        catalog: &Catalog,
        request: &Request,
    ) -> Result<Recommendations, RecommendError> {
        if !(1..=MAX_COUNT).contains(&request.n) {
            return Err(RecommendError::InvalidCount {
                n: request.n,
                max: MAX_COUNT,
            });
        }
        if let Some(rating) = request.filters.min_rating
            && !(0.0..=10.0).contains(&rating)
        {
            return Err(RecommendError::InvalidRating(rating));
        }
        let mut movies: Vec<&Movie> = catalog.movies().iter().collect();
        let mut notes = Vec::new();
        for filter in request.filters.list() {
            let before = movies.len();
            let unknown_age = if filter.needs_age() {
                movies
                    .iter()
                    .filter(|movie| movie.min_age.is_none())
                    .count()
            } else {
                0
            };
            movies.retain(|movie| filter.admits(movie));
            // The field's name, not its values: a list of a thousand titles, or a value with
            // control characters in it, does not belong in a log line.
            tracing::debug!(
                field = filter.field(),
                before,
                after = movies.len(),
                "filter applied"
            );
            if movies.is_empty() {
                return Err(RecommendError::NothingLeft {
                    filter: filter.to_string(),
                    field: filter.field(),
                    before,
                });
            }
            if unknown_age > 0 {
                notes.push(format!(
                    "`{filter}` left out {unknown_age} film{} whose age band is unknown",
                    if unknown_age == 1 { "" } else { "s" }
                ));
            }
        }

        let genre_weights = self.genre_weights(&request.mood, request.mode);
        let tone_weights = ToneWeights::new(&request.mood, request.mode);
        let generic = (self.generic_genre_weights(), ToneWeights::generic());
        // The lifting safety filter runs in the same pass as the scoring: one read of each film.
        let safety = (lifted_share(&request.mood, request.mode) >= LIFTED_SHARE)
            .then_some(Filter::SafeForLifting);
        let before = movies.len();
        let mut candidates: Vec<Candidate<'_>> = movies
            .into_iter()
            .filter(|movie| safety.as_ref().is_none_or(|filter| filter.admits(movie)))
            .map(|movie| {
                let relevance =
                    self.relevance(catalog, movie, (&genre_weights, &tone_weights), &generic);
                let jitter = request.seed.map_or(0.0, |seed| {
                    self.settings.seed_jitter * unit_noise(seed, movie)
                });
                Candidate {
                    movie,
                    genres: GenreSet::default(),
                    tags: 0,
                    series: String::new(),
                    below_floor: catalog.below_vote_floor(movie),
                    relevance,
                    rank: relevance + jitter,
                }
            })
            .collect();
        if let Some(filter) = safety {
            tracing::debug!(%filter, before, after = candidates.len(), "filter applied");
            if candidates.is_empty() {
                return Err(RecommendError::NothingLeft {
                    filter: filter.to_string(),
                    field: filter.field(),
                    before,
                });
            }
        }
        // The floor holds while it leaves enough films; a tiny filtered list keeps the rest,
        // ranked after every film above the floor.
        let above_floor = candidates.iter().filter(|c| !c.below_floor).count();
        if above_floor >= request.n {
            for candidate in candidates.iter_mut().filter(|c| c.below_floor) {
                candidate.rank -= BELOW_FLOOR_PENALTY;
            }
        }

        let pool = (self.settings.pool_factor * request.n).max(self.settings.min_pool);
        if candidates.len() > pool {
            candidates.select_nth_unstable_by(pool - 1, by_rank);
            candidates.truncate(pool);
        }
        candidates.sort_by(by_rank);
        // What diversity compares, for the pool only.
        for candidate in &mut candidates {
            candidate.genres = candidate.movie.genre_set();
            // `feel-good` is what a lifting list is for, not a sameness to spread out: sharing
            // it must not cost a film its place, or the list drifts to films that lack it.
            candidate.tags = tone(candidate.movie).tag_bits() & !(1 << ToneTag::FeelGood.index());
            candidate.series = franchise_key(&candidate.movie.title);
        }
        let chosen = self.diversify(candidates, request.n);

        let movies = chosen
            .into_iter()
            .map(|candidate| {
                let movie = candidate.movie;
                let tone = tone(movie);
                RecommendedMovie {
                    title: movie.title.clone(),
                    year: movie.year,
                    genres: movie.genres.clone(),
                    rating: movie.rating,
                    runtime_min: movie.runtime_min,
                    certificate: movie.certificate.clone(),
                    director: movie.director.clone(),
                    stars: movie.stars.clone(),
                    poster_url: movie.poster_url.clone(),
                    score: (candidate.relevance * 1000.0).round() / 1000.0,
                    synopsis: movie.synopsis.clone(),
                    min_age: movie.min_age,
                    tone: ToneSummary {
                        valence: tone.valence,
                        arousal: tone.arousal,
                        darkness: tone.darkness,
                        tags: tone.tags.iter().collect(),
                    },
                    reasons: reason::reasons(self.table, movie, &request.mood, request.mode),
                }
            })
            .collect();
        Ok(Recommendations {
            mood: request.mood.into(),
            mode: request.mode,
            movies,
            notes,
        })
    }

    /// Each genre's weight for this mood: the table's weights averaged over the emotions,
    /// weighted by their probabilities.
    fn genre_weights(&self, mood: &EmotionDistribution, mode: Mode) -> [f64; GENRE_COUNT] {
        let mut weights = [0.0; GENRE_COUNT];
        for emotion in Emotion::ALL {
            let probability = mood.probability(emotion);
            if probability > 0.0 {
                for (total, weight) in weights.iter_mut().zip(self.table.row(mode, emotion)) {
                    *total += probability * weight;
                }
            }
        }
        weights
    }

    /// The mean of the table's 14 rows, per genre.
    fn generic_genre_weights(&self) -> [f64; GENRE_COUNT] {
        let mut weights = [0.0; GENRE_COUNT];
        let share = 1.0 / (2 * Emotion::ALL.len()) as f64;
        for mode in [Mode::Match, Mode::Lift] {
            for emotion in Emotion::ALL {
                for (total, weight) in weights.iter_mut().zip(self.table.row(mode, emotion)) {
                    *total += share * weight;
                }
            }
        }
        weights
    }

    /// Mood fit from the genres and the tone.
    fn fit(
        &self,
        movie: &Movie,
        genre_weights: &[f64; GENRE_COUNT],
        tone_weights: &ToneWeights,
    ) -> f64 {
        let genre_fit = genre_fit(
            movie
                .genres
                .iter()
                .map(|genre| genre_weights[genre.index()]),
            self.settings.other_genres_share,
        );
        let tone_fit = tone_weights.fit(tone(movie));
        let share = self.settings.tone_share;
        (1.0 - share) * genre_fit + share * tone_fit
    }

    /// Mood fit (genres and tone, less a share of the generic fit), quality and popularity,
    /// weighted.
    fn relevance(
        &self,
        catalog: &Catalog,
        movie: &Movie,
        (genre_weights, tone_weights): (&[f64; GENRE_COUNT], &ToneWeights),
        (generic_genres, generic_tone): &([f64; GENRE_COUNT], ToneWeights),
    ) -> f64 {
        let fit = self.fit(movie, genre_weights, tone_weights)
            - self.settings.specificity * self.fit(movie, generic_genres, generic_tone);
        let rating = catalog
            .weighted_rating(movie)
            .unwrap_or(catalog.mean_rating());
        let quality = quality(rating);
        let popularity = movie.popularity_rank.unwrap_or(0.5);
        self.settings.fit_weight * fit
            + self.settings.quality_weight * quality
            + self.settings.popularity_weight * popularity
    }

    /// Maximal marginal relevance over a pool sorted best first: repeatedly takes the film that
    /// best balances its own rank against its similarity to the films already taken. One film
    /// per series: the sequels of a chosen film wait in reserve, used only if nothing else is
    /// left.
    fn diversify<'c>(&self, pool: Vec<Candidate<'c>>, n: usize) -> Vec<Candidate<'c>> {
        let diversity = self.settings.diversity;
        let mut remaining: Vec<(Candidate<'c>, f64)> =
            pool.into_iter().map(|candidate| (candidate, 0.0)).collect();
        let mut reserve: Vec<(Candidate<'c>, f64)> = Vec::new();
        let mut chosen: Vec<Candidate<'c>> = Vec::with_capacity(n.min(remaining.len()));
        while chosen.len() < n {
            if remaining.is_empty() {
                if reserve.is_empty() {
                    break;
                }
                remaining = std::mem::take(&mut reserve);
            }
            let mut best = 0;
            let mut best_value = f64::NEG_INFINITY;
            for (index, (candidate, similarity)) in remaining.iter().enumerate() {
                let value = (1.0 - diversity) * candidate.rank - diversity * similarity;
                // Strictly greater: on a tie the earlier (better ranked) film wins.
                if value > best_value {
                    best = index;
                    best_value = value;
                }
            }
            let (picked, _) = remaining.remove(best);
            let (sequels, others): (Vec<_>, Vec<_>) = remaining
                .into_iter()
                .partition(|(candidate, _)| candidate.series == picked.series);
            reserve.extend(sequels);
            remaining = others;
            for (candidate, similarity) in &mut remaining {
                *similarity = similarity.max(self.similarity(candidate, &picked));
            }
            chosen.push(picked);
        }
        chosen
    }

    /// Similarity in [0, 1]: shared genres (Jaccard), shared tone tags (Jaccard) and a shared
    /// director.
    fn similarity(&self, a: &Candidate<'_>, b: &Candidate<'_>) -> f64 {
        let genre_share = self.settings.genre_similarity;
        let tone_share = self.settings.tone_similarity;
        let director = if a.movie.shares_director(b.movie) {
            1.0
        } else {
            0.0
        };
        let union = (a.tags | b.tags).count_ones();
        let tags = if union == 0 {
            0.0
        } else {
            f64::from((a.tags & b.tags).count_ones()) / f64::from(union)
        };
        genre_share * a.genres.jaccard(b.genres)
            + tone_share * tags
            + (1.0 - genre_share - tone_share) * director
    }
}

/// A film's genre fit from its genres' weights: the best genre's weight plus a smaller share of
/// the others' mean, `(best + share · mean of the rest) / (1 + share)`, in [-1, 1]. A film of
/// one genre fits as that genre does; a second genre can help or hurt only a little, so a
/// comedy-drama still lifts sadness and a blend is not punished for being a blend.
pub fn genre_fit(weights: impl Iterator<Item = f64>, share: f64) -> f64 {
    let mut best = f64::NEG_INFINITY;
    let mut total = 0.0;
    let mut count = 0usize;
    for weight in weights {
        best = best.max(weight);
        total += weight;
        count += 1;
    }
    match count {
        0 => 0.0,
        1 => best,
        _ => {
            let rest = (total - best) / (count - 1) as f64;
            (best + share * rest) / (1.0 + share)
        }
    }
}

/// Lowest and highest weighted rating the quality term tells apart: 5 or less counts as 0, 9 or
/// more as 1 (nearly all films sit between; the old 1–10 span squeezed them into a third of it).
const QUALITY_SPAN: (f64, f64) = (5.0, 9.0);

/// A weighted rating mapped onto 0–1.
fn quality(rating: f64) -> f64 {
    let (low, high) = QUALITY_SPAN;
    ((rating - low) / (high - low)).clamp(0.0, 1.0)
}

/// Best rank first; ties by title, then year, so that the order never depends on the catalog's.
fn by_rank(a: &Candidate<'_>, b: &Candidate<'_>) -> std::cmp::Ordering {
    b.rank
        .total_cmp(&a.rank)
        .then_with(|| a.movie.title.cmp(&b.movie.title))
        .then_with(|| a.movie.year.cmp(&b.movie.year))
}

/// A number in [0, 1) that depends only on the seed and the film (its title and year), so a
/// seed shuffles the same way whatever the catalog's order.
fn unit_noise(seed: u64, movie: &Movie) -> f64 {
    // FNV-1a over the title, then SplitMix64: stable across platforms and Rust versions.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in movie.title.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut state = seed ^ hash ^ u64::from(movie.year.unwrap_or(0)).rotate_left(32);
    state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use catalog::Genre;

    fn film(title: &str, genres: &[Genre], rating: f64, director: &str) -> Movie {
        let mut movie = Movie::new(title, genres.to_vec());
        movie.year = Some(2000);
        movie.rating = Some(rating);
        movie.runtime_min = Some(100);
        movie.director = Some(director.into());
        movie
    }

    fn small_catalog() -> Catalog {
        Catalog::from_movies(
            "test",
            vec![
                film("Laughs", &[Genre::Comedy], 7.5, "A"),
                film("More Laughs", &[Genre::Comedy], 7.4, "A"),
                film("Tears", &[Genre::Drama], 8.5, "B"),
                film("Screams", &[Genre::Horror], 7.0, "C"),
                film("Songs", &[Genre::Musical, Genre::Romance], 7.2, "D"),
            ],
        )
        .expect("films")
    }

    fn titles(list: &Recommendations) -> Vec<&str> {
        list.movies.iter().map(|m| m.title.as_str()).collect()
    }

    #[test]
    fn lift_and_match_pull_opposite_ways_for_sadness() {
        let catalog = small_catalog();
        let sad = EmotionDistribution::certain(Emotion::Sad);
        let lift = recommend(
            &catalog,
            &Request {
                mode: Mode::Lift,
                n: 1,
                ..Request::new(sad)
            },
        )
        .expect("films");
        let matched = recommend(
            &catalog,
            &Request {
                mode: Mode::Match,
                n: 1,
                ..Request::new(sad)
            },
        )
        .expect("films");
        assert_eq!(titles(&lift), ["Laughs"]);
        assert_eq!(titles(&matched), ["Tears"]);
    }

    #[test]
    fn diversity_keeps_a_near_duplicate_down_the_list() {
        let catalog = small_catalog();
        let sad = EmotionDistribution::certain(Emotion::Sad);
        let list = recommend(
            &catalog,
            &Request {
                mode: Mode::Lift,
                n: 4,
                ..Request::new(sad)
            },
        )
        .expect("films");
        // "More Laughs" fits as well as "Laughs" but shares its genre and director: it comes
        // after a film that fits worse but differs.
        let titles = titles(&list);
        assert_eq!(titles[..2], ["Laughs", "Songs"]);
        assert!(titles[2..].contains(&"More Laughs"), "{titles:?}");
    }

    #[test]
    fn the_filter_that_empties_the_list_is_named() {
        let catalog = small_catalog();
        let request = Request {
            filters: Filters {
                min_rating: Some(7.3),
                genres: vec![Genre::Horror],
                ..Filters::default()
            },
            ..Request::new(EmotionDistribution::certain(Emotion::Fear))
        };
        let error = recommend(&catalog, &request).unwrap_err();
        assert_eq!(
            error,
            RecommendError::NothingLeft {
                filter: "genre one of Horror".into(),
                field: "genres",
                before: 3
            }
        );
        assert!(
            error
                .to_string()
                .contains("`genre one of Horror` (genres) removed the last 3 films")
        );
    }

    #[test]
    fn requests_out_of_range_are_refused() {
        let catalog = small_catalog();
        let mood = EmotionDistribution::certain(Emotion::Happy);
        let zero = Request {
            n: 0,
            ..Request::new(mood)
        };
        assert!(matches!(
            recommend(&catalog, &zero),
            Err(RecommendError::InvalidCount { .. })
        ));
        let nan = Request {
            filters: Filters {
                min_rating: Some(f64::NAN),
                ..Filters::default()
            },
            ..Request::new(mood)
        };
        assert!(matches!(
            recommend(&catalog, &nan),
            Err(RecommendError::InvalidRating(_))
        ));
    }

    #[test]
    fn seeds_shuffle_reproducibly() {
        let catalog = Catalog::builtin();
        let mood = EmotionDistribution::certain(Emotion::Happy);
        let plain = recommend(catalog, &Request::new(mood)).expect("films");
        let seeded = |seed| {
            recommend(
                catalog,
                &Request {
                    seed: Some(seed),
                    ..Request::new(mood)
                },
            )
            .expect("films")
        };
        assert_eq!(seeded(7), seeded(7));
        assert!(
            (1..20).any(|seed| titles(&seeded(seed)) != titles(&plain)),
            "no seed changed the list"
        );
    }

    #[test]
    fn requests_read_from_json() {
        let request: Request = serde_json::from_str(
            r#"{"mood": {"sad": 0.7, "fear": 0.3}, "mode": "lift", "n": 5, "min_year": 1990, "exclude_genres": ["Horror"]}"#,
        )
        .expect("valid request");
        assert_eq!(request.mode, Mode::Lift);
        assert_eq!(request.n, 5);
        assert_eq!(request.filters.min_year, Some(1990));
        assert_eq!(request.mood.emotion(), Emotion::Sad);
        let minimal: Request = serde_json::from_str(r#"{"mood": "happy"}"#).expect("valid");
        assert_eq!(
            minimal,
            Request::new(EmotionDistribution::certain(Emotion::Happy))
        );
    }

    #[test]
    fn responses_round_trip_through_json() {
        let mood = EmotionDistribution::parse("sad=0.7,fear=0.3").expect("mood");
        let list = recommend(&small_catalog(), &Request::new(mood)).expect("films");
        let json = serde_json::to_value(&list).expect("serialisable");
        assert_eq!(json["mood"]["emotion"], "sad");
        assert_eq!(json["mood"]["sad"], 0.7);
        assert_eq!(json["mode"], "auto");
        let back: Recommendations = serde_json::from_value(json).expect("deserialisable");
        assert_eq!(back, list);
    }

    #[test]
    fn recommenders_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Recommender<'static>>();
        shareable::<Recommendations>();
    }
}
