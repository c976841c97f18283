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
mod reason;
mod response;

use catalog::{Catalog, GENRE_COUNT, GenreSet, Movie};
use mood::{Emotion, EmotionDistribution};
use serde::{Deserialize, Serialize};

pub use affinity::{AFFINITY_TOML, AffinityError, AffinityTable};
pub use filter::{ExcludedTitle, Filter, Filters};
pub use mode::{Mode, UnknownMode};
pub use response::{MoodSummary, Recommendations, RecommendedMovie};

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
    /// Weight of quality (the weighted rating mapped from 1–10 onto 0–1) in relevance.
    pub quality_weight: f64,
    /// Weight of similarity to films already chosen, in maximal marginal relevance: each pick
    /// maximises `(1 - diversity) · relevance - diversity · max similarity`.
    pub diversity: f64,
    /// Of the similarity between two films, the share that comes from shared genres (Jaccard);
    /// the rest comes from a shared director.
    pub genre_similarity: f64,
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
            fit_weight: 0.8,
            quality_weight: 0.2,
            diversity: 0.4,
            genre_similarity: 0.75,
            seed_jitter: 0.05,
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
    genres: GenreSet,
    /// Mood fit plus quality.
    relevance: f64,
    /// Relevance plus the seed's jitter: what the ranking sorts by.
    rank: f64,
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
        for filter in request.filters.list() {
            let before = movies.len();
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
        }

        let genre_weights = self.genre_weights(&request.mood, request.mode);
        let mut candidates: Vec<Candidate<'_>> = movies
            .into_iter()
            .map(|movie| {
                let relevance = self.relevance(catalog, movie, &genre_weights);
                let jitter = request.seed.map_or(0.0, |seed| {
                    self.settings.seed_jitter * unit_noise(seed, movie)
                });
                Candidate {
                    movie,
                    genres: movie.genre_set(),
                    relevance,
                    rank: relevance + jitter,
                }
            })
            .collect();

        let pool = (self.settings.pool_factor * request.n).max(self.settings.min_pool);
        if candidates.len() > pool {
            candidates.select_nth_unstable_by(pool - 1, by_rank);
            candidates.truncate(pool);
        }
        candidates.sort_by(by_rank);
        let chosen = self.diversify(candidates, request.n);

        let movies = chosen
            .into_iter()
            .map(|candidate| {
                let movie = candidate.movie;
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
                    reasons: reason::reasons(self.table, movie, &request.mood, request.mode),
                }
            })
            .collect();
        Ok(Recommendations {
            mood: request.mood.into(),
            mode: request.mode,
            movies,
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

    /// Mood fit (mean weight of the film's genres) and quality, weighted.
    fn relevance(
        &self,
        catalog: &Catalog,
        movie: &Movie,
        genre_weights: &[f64; GENRE_COUNT],
    ) -> f64 {
        let fit = if movie.genres.is_empty() {
            0.0
        } else {
            movie
                .genres
                .iter()
                .map(|genre| genre_weights[genre.index()])
                .sum::<f64>()
                / movie.genres.len() as f64
        };
        let rating = catalog
            .weighted_rating(movie)
            .unwrap_or(catalog.mean_rating());
        let quality = ((rating - 1.0) / 9.0).clamp(0.0, 1.0);
        self.settings.fit_weight * fit + self.settings.quality_weight * quality
    }

    /// Maximal marginal relevance over a pool sorted best first: repeatedly takes the film that
    /// best balances its own rank against its similarity to the films already taken.
    fn diversify<'c>(&self, pool: Vec<Candidate<'c>>, n: usize) -> Vec<Candidate<'c>> {
        let diversity = self.settings.diversity;
        let mut remaining: Vec<(Candidate<'c>, f64)> =
            pool.into_iter().map(|candidate| (candidate, 0.0)).collect();
        let mut chosen = Vec::with_capacity(n.min(remaining.len()));
        while chosen.len() < n && !remaining.is_empty() {
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
            for (candidate, similarity) in &mut remaining {
                *similarity = similarity.max(self.similarity(candidate, &picked));
            }
            chosen.push(picked);
        }
        chosen
    }

    /// Similarity in [0, 1]: shared genres (Jaccard) and a shared director.
    fn similarity(&self, a: &Candidate<'_>, b: &Candidate<'_>) -> f64 {
        let share = self.settings.genre_similarity;
        let director = if a.movie.shares_director(b.movie) {
            1.0
        } else {
            0.0
        };
        share * a.genres.jaccard(b.genres) + (1.0 - share) * director
    }
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
                n: 3,
                ..Request::new(sad)
            },
        )
        .expect("films");
        // "More Laughs" fits as well as "Laughs" but shares its genre and director.
        assert_eq!(titles(&list), ["Laughs", "Songs", "More Laughs"]);
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
