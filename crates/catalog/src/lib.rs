//! Film catalogs for moodreel: the [`Movie`] type, the built-in catalog, and importers for the
//! Kaggle IMDB Top 1000 and TMDB 5000 CSV files.
//!
//! A [`Catalog`] is read once and then only read from, so it is cheap to share between threads
//! (`Send + Sync`; wrap it in an `Arc` or use the `&'static` [`Catalog::builtin`]). Problems in a
//! file are reported as `file:line: column: problem` ([`Diagnostic`]).
//!
//! This crate knows nothing of moods or of how films are recommended; that is the `recommend`
//! crate's job.
//!
//! ```
//! let catalog = catalog::Catalog::builtin();
//! assert!(catalog.len() >= 10);
//! let query = catalog::MovieQuery {
//!     genre: Some(catalog::Genre::Comedy),
//!     ..Default::default()
//! };
//! assert!(catalog.search(&query).count() > 0);
//! ```

mod age;
mod error;
mod genre;
mod import;
mod movie;
#[cfg(feature = "openapi")]
mod openapi;
mod tone;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

pub use age::{min_age_for_certificate, min_age_of};
pub use error::{CatalogError, Diagnostic};
pub use genre::{GENRE_COUNT, Genre, GenreSet, UnknownGenre};
pub use import::Format;
pub use movie::{Movie, franchise_key, title_key};
pub use tone::{
    DarkTheme, DarkThemes, TONE_LEXICON, Tone, ToneSource, ToneTag, ToneTags, hand_set_count,
    tone_of,
};

/// The built-in catalog's data: facts written by the project (see `data/README.md`).
const BUILTIN_CSV: &str = include_str!("../data/films.csv");

/// Name under which the built-in catalog reports itself.
pub const BUILTIN_SOURCE: &str = "built-in";

static BUILTIN: LazyLock<Catalog> = LazyLock::new(|| {
    Catalog::from_reader(BUILTIN_SOURCE, BUILTIN_CSV.as_bytes())
        .expect("the built-in catalog is valid: its tests check every row")
});

/// A list of films read from one source, with the statistics the recommender's quality prior
/// needs.
#[derive(Debug, Clone)]
pub struct Catalog {
    source: String,
    format: Format,
    movies: Vec<Movie>,
    warnings: Vec<Diagnostic>,
    mean_rating: f64,
    vote_floor: f64,
}

/// The outcome of checking a catalog file row by row (`moodreel catalog check`).
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The file checked.
    pub file: String,
    /// The layout recognised from the header.
    pub format: Format,
    /// Rows that would load as films.
    pub movies: usize,
    /// Rows skipped for a known reason (no genre).
    pub skipped: usize,
    /// Rows that load with a problem noted.
    pub warnings: Vec<Diagnostic>,
    /// Rows that cannot be read; a catalog with any of these does not load.
    pub errors: Vec<Diagnostic>,
}

impl CheckReport {
    /// Whether the file loads as a catalog.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty() && self.movies > 0
    }
}

/// A catalog's summary (`moodreel catalog stats`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogStats {
    /// Where the catalog came from.
    pub source: String,
    /// Its layout.
    pub format: Format,
    /// Number of films.
    pub movies: usize,
    /// Films per genre (a film counts once for each of its genres).
    pub genres: BTreeMap<String, usize>,
    /// Earliest and latest year, if any film has one.
    pub years: Option<[u16; 2]>,
    /// Films that have a rating.
    pub rated: usize,
    /// Mean rating of the rated films (the quality prior's centre).
    pub mean_rating: f64,
    /// Problems noted while reading, as `file:line: column: problem`.
    pub warnings: Vec<String>,
}

/// What to look for with [`Catalog::search`]; every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MovieQuery {
    /// Text the title must contain (case-insensitive).
    pub title: Option<String>,
    /// A genre the film must have.
    pub genre: Option<Genre>,
    /// The year of release.
    pub year: Option<u16>,
}

impl Catalog {
    /// The catalog embedded in the binary, parsed on first use.
    pub fn builtin() -> &'static Catalog {
        &BUILTIN
    }

    /// Reads a catalog file in any known layout. Fails if the file has any bad row; the error
    /// lists the first few (see [`Catalog::check_path`] for all of them).
    pub fn from_path(path: &Path) -> Result<Catalog, CatalogError> {
        let file = open(path)?;
        Catalog::from_reader(&path.display().to_string(), file)
    }

    /// Reads a catalog from CSV text in any known layout; `source` names it in diagnostics.
    pub fn from_reader(source: &str, input: impl Read) -> Result<Catalog, CatalogError> {
        let parsed = import::parse(source, input)?;
        if !parsed.errors.is_empty() {
            return Err(CatalogError::BadRows {
                file: source.to_owned(),
                errors: parsed.errors,
            });
        }
        for warning in &parsed.warnings {
            tracing::debug!(%warning, "catalog warning");
        }
        let mut catalog = Catalog::from_movies(source, parsed.movies)?;
        catalog.format = parsed.format;
        catalog.warnings = parsed.warnings;
        tracing::info!(
            source,
            movies = catalog.len(),
            warnings = catalog.warnings.len(),
            "catalog loaded"
        );
        Ok(catalog)
    }

    /// A catalog of films built in code (tests, benchmarks, other importers). Films without a
    /// genre are dropped, since no mood can be matched to them.
    pub fn from_movies(source: &str, movies: Vec<Movie>) -> Result<Catalog, CatalogError> {
        let mut movies: Vec<Movie> = movies
            .into_iter()
            .filter(|movie| !movie.genres.is_empty())
            .collect();
        for movie in &mut movies {
            complete(movie);
        }
        rank_popularity(&mut movies);
        if movies.is_empty() {
            return Err(CatalogError::NoMovies {
                file: source.to_owned(),
            });
        }
        let ratings: Vec<f64> = movies.iter().filter_map(|movie| movie.rating).collect();
        let mean_rating = if ratings.is_empty() {
            0.0
        } else {
            ratings.iter().sum::<f64>() / ratings.len() as f64
        };
        Ok(Catalog {
            source: source.to_owned(),
            format: Format::Moodreel,
            vote_floor: vote_floor(&movies),
            movies,
            warnings: Vec::new(),
            mean_rating,
        })
    }

    /// Checks a catalog file row by row without stopping at the first bad row.
    pub fn check_path(path: &Path) -> Result<CheckReport, CatalogError> {
        let name = path.display().to_string();
        let parsed = import::parse(&name, open(path)?)?;
        Ok(CheckReport {
            file: name,
            format: parsed.format,
            movies: parsed.movies.len(),
            skipped: parsed.skipped,
            warnings: parsed.warnings,
            errors: parsed.errors,
        })
    }

    /// Where the catalog came from: a file name, or [`BUILTIN_SOURCE`].
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The layout it was read from.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The films, in the source's order.
    pub fn movies(&self) -> &[Movie] {
        &self.movies
    }

    /// Number of films.
    pub fn len(&self) -> usize {
        self.movies.len()
    }

    /// Whether the catalog has no film (never true of a loaded catalog).
    pub fn is_empty(&self) -> bool {
        self.movies.is_empty()
    }

    /// Problems noted while reading that did not stop the film from loading.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Mean rating of the rated films.
    pub fn mean_rating(&self) -> f64 {
        self.mean_rating
    }

    /// The catalog's vote floor: the median of the known vote counts, capped at
    /// [`VOTE_FLOOR_CAP`] (0 when no film has a vote count). It is the prior weight `m` of
    /// [`Catalog::weighted_rating`], and the recommender keeps films with fewer votes out of its
    /// lists while enough others are left.
    pub fn vote_floor(&self) -> f64 {
        self.vote_floor
    }

    /// Whether the film's rating rests on fewer votes than the [vote floor](Catalog::vote_floor).
    /// A film without a vote count is not below it (the built-in catalog has none).
    pub fn below_vote_floor(&self, movie: &Movie) -> bool {
        movie
            .votes
            .is_some_and(|votes| (votes as f64) < self.vote_floor)
    }

    /// The film's Bayesian-weighted rating: with `v` votes, rating `R`, catalog mean `C` and
    /// the vote floor `m`, `(v·R + m·C) / (v + m)`, so that a rating from few votes counts for
    /// less. The plain rating when the vote count is unknown; `None` for an unrated film.
    pub fn weighted_rating(&self, movie: &Movie) -> Option<f64> {
        let rating = movie.rating?;
        match movie.votes {
            Some(votes) if votes as f64 + self.vote_floor > 0.0 => {
                let votes = votes as f64;
                Some(
                    (votes * rating + self.vote_floor * self.mean_rating)
                        / (votes + self.vote_floor),
                )
            }
            _ => Some(rating),
        }
    }

    /// Films matching every field given in `query`, in catalog order.
    pub fn search<'a>(&'a self, query: &'a MovieQuery) -> impl Iterator<Item = &'a Movie> + 'a {
        let title = query.title.as_deref().map(title_key);
        self.movies.iter().filter(move |movie| {
            title
                .as_deref()
                .is_none_or(|wanted| title_key(&movie.title).contains(wanted))
                && query
                    .genre
                    .is_none_or(|genre| movie.genres.contains(&genre))
                && query.year.is_none_or(|year| movie.year == Some(year))
        })
    }

    /// A summary: counts per genre, years covered, warnings.
    pub fn stats(&self) -> CatalogStats {
        let mut genres = BTreeMap::new();
        for movie in &self.movies {
            for genre in &movie.genres {
                *genres.entry(genre.name().to_owned()).or_insert(0) += 1;
            }
        }
        let years = self.movies.iter().filter_map(|movie| movie.year);
        let years = years
            .clone()
            .min()
            .zip(years.max())
            .map(|(first, last)| [first, last]);
        CatalogStats {
            source: self.source.clone(),
            format: self.format,
            movies: self.movies.len(),
            genres,
            years,
            rated: self.movies.iter().filter(|m| m.rating.is_some()).count(),
            mean_rating: self.mean_rating,
            warnings: self.warnings.iter().map(ToString::to_string).collect(),
        }
    }
}

fn open(path: &Path) -> Result<std::fs::File, CatalogError> {
    std::fs::File::open(path).map_err(|source| CatalogError::Io {
        path: path.to_owned(),
        source,
    })
}

/// The highest vote floor: a rating from this many votes is settled, so a catalog of famous
/// films (the IMDB Top 1000, whose median is about 140,000 votes) does not lose half its films.
pub const VOTE_FLOOR_CAP: f64 = 1_000.0;

/// Median of the known vote counts, capped at [`VOTE_FLOOR_CAP`] (0 when no film has one).
fn vote_floor(movies: &[Movie]) -> f64 {
    let mut votes: Vec<u64> = movies.iter().filter_map(|movie| movie.votes).collect();
    if votes.is_empty() {
        return 0.0;
    }
    let middle = votes.len() / 2;
    let (_, value, _) = votes.select_nth_unstable(middle);
    (*value as f64).min(VOTE_FLOOR_CAP)
}

/// Fills in what the catalog derives for each film: its tone, its synopsis and its age band.
fn complete(movie: &mut Movie) {
    let facts = tone::hand_set(movie);
    if movie.tone.is_none() {
        movie.tone = Some(tone::tone_of(movie));
    }
    if movie.synopsis.is_none() {
        movie.synopsis = facts
            .and_then(|facts| facts.synopsis.clone())
            .or_else(|| movie.overview.as_deref().and_then(first_sentence));
    }
    if movie.min_age.is_none()
        && let Some(tone) = &movie.tone
    {
        movie.min_age = age::min_age_of(movie, tone);
    }
}

/// Longest synopsis taken from an overview, in characters.
const SYNOPSIS_MAX: usize = 160;

/// The first sentence of an overview, shortened at a word boundary to [`SYNOPSIS_MAX`]
/// characters.
fn first_sentence(overview: &str) -> Option<String> {
    let text = overview.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return None;
    }
    // A sentence ends at ". ", "! " or "? " once it has some length (so "Dr. No" stays whole).
    const SHORTEST: usize = 12;
    let mut end = text.len();
    for (index, c) in text.char_indices() {
        if matches!(c, '.' | '!' | '?') && index >= SHORTEST && text[index + 1..].starts_with(' ') {
            end = index + 1;
            break;
        }
    }
    let sentence = &text[..end];
    if sentence.chars().count() <= SYNOPSIS_MAX {
        return Some(sentence.to_owned());
    }
    let cut: String = sentence.chars().take(SYNOPSIS_MAX - 1).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    Some(format!("{}…", cut.trim_end_matches([',', ';', ':', ' '])))
}

/// Sets each film's popularity rank: the share of films less popular, by the source's
/// popularity figure where every film has one, else by vote count.
fn rank_popularity(movies: &mut [Movie]) {
    let by_popularity = movies.iter().all(|movie| movie.popularity.is_some());
    let measure = |movie: &Movie| {
        if by_popularity {
            movie.popularity
        } else {
            movie.votes.map(|votes| votes as f64)
        }
    };
    let mut known: Vec<f64> = movies.iter().filter_map(measure).collect();
    if known.len() < 2 {
        return;
    }
    known.sort_by(f64::total_cmp);
    let last = (known.len() - 1) as f64;
    for movie in movies.iter_mut() {
        movie.popularity_rank = measure(movie).map(|value| {
            let below = known.partition_point(|other| *other < value);
            below as f64 / last
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Catalog>();
    }

    #[test]
    fn builtin_catalog_loads_without_warnings() {
        let catalog = Catalog::builtin();
        assert!(catalog.warnings().is_empty(), "{:?}", catalog.warnings());
        assert_eq!(catalog.source(), BUILTIN_SOURCE);
        for movie in catalog.movies() {
            assert!(!movie.genres.is_empty(), "{}", movie.title);
            assert!(movie.year.is_some(), "{} has no year", movie.title);
            assert!(
                movie.rating.is_some_and(|r| (1.0..=10.0).contains(&r)),
                "{}",
                movie.title
            );
            assert!(
                movie.runtime_min.is_some(),
                "{} has no runtime",
                movie.title
            );
            assert!(
                movie.certificate.is_some(),
                "{} has no certificate",
                movie.title
            );
            assert!(movie.director.is_some(), "{} has no director", movie.title);
            // Documentaries and wordless films may have no stars.
            assert!(movie.stars.len() <= 4, "{} stars", movie.title);
            assert!(
                movie.overview.is_none(),
                "no overviews copied into the built-in catalog"
            );
            let tone = movie.tone.as_ref().expect("a tone");
            assert_eq!(tone.source, ToneSource::HandSet, "{}", movie.label());
            assert!(
                movie.synopsis.is_some(),
                "{} has no synopsis",
                movie.label()
            );
        }
    }

    #[test]
    fn builtin_catalog_is_large_sorted_and_covers_every_genre_and_decade() {
        let movies = Catalog::builtin().movies();
        assert!(movies.len() >= 500, "{} films", movies.len());
        for pair in movies.windows(2) {
            assert!(
                (pair[0].year, &pair[0].title) < (pair[1].year, &pair[1].title),
                "not sorted by year then title, or duplicated: {} / {}",
                pair[0].label(),
                pair[1].label()
            );
        }
        let stats = Catalog::builtin().stats();
        for genre in Genre::ALL {
            let count = stats.genres.get(genre.name()).copied().unwrap_or(0);
            assert!(count >= 5, "only {count} {genre} films");
        }
        for decade in (1930..=2020).step_by(10) {
            let count = movies
                .iter()
                .filter(|m| m.year.is_some_and(|y| (decade..decade + 10).contains(&y)))
                .count();
            assert!(count >= 10, "only {count} films from the {decade}s");
        }
    }

    #[test]
    fn weighted_rating_shrinks_towards_the_mean_with_few_votes() {
        let mut few = Movie::new("Few", vec![Genre::Drama]);
        few.rating = Some(9.0);
        few.votes = Some(10);
        let mut many = Movie::new("Many", vec![Genre::Drama]);
        many.rating = Some(9.0);
        many.votes = Some(100_000);
        let mut low = Movie::new("Low", vec![Genre::Drama]);
        low.rating = Some(5.0);
        low.votes = Some(1_000);
        let unknown = Movie::new("Unknown", vec![Genre::Drama]);
        let films = vec![few.clone(), many.clone(), low.clone(), low, unknown.clone()];
        let catalog = Catalog::from_movies("t", films).expect("films");
        assert_eq!(catalog.vote_floor(), 1_000.0);
        assert!(catalog.below_vote_floor(&few));
        assert!(!catalog.below_vote_floor(&many));
        let mean = catalog.mean_rating();
        let few_weighted = catalog.weighted_rating(&few).expect("rated");
        let many_weighted = catalog.weighted_rating(&many).expect("rated");
        assert!(few_weighted < many_weighted);
        assert!((few_weighted - mean).abs() < 0.1);
        assert!((many_weighted - 9.0).abs() < 0.1);
        assert_eq!(catalog.weighted_rating(&unknown), None);
    }

    #[test]
    fn every_hand_set_fact_names_a_built_in_film() {
        assert_eq!(hand_set_count(), Catalog::builtin().len());
    }

    #[test]
    fn synopses_are_one_short_sentence() {
        assert_eq!(
            first_sentence("A boy meets a robot. They become friends.").as_deref(),
            Some("A boy meets a robot.")
        );
        assert_eq!(
            first_sentence("Dr. No plots against the world. More.").as_deref(),
            Some("Dr. No plots against the world.")
        );
        let long = "word ".repeat(100);
        let synopsis = first_sentence(&long).expect("text");
        assert!(synopsis.chars().count() <= SYNOPSIS_MAX, "{synopsis}");
        assert!(synopsis.ends_with('…'));
        assert_eq!(first_sentence("  "), None);
    }

    #[test]
    fn popularity_ranks_run_from_zero_to_one() {
        let mut films: Vec<Movie> = (0..5)
            .map(|i| {
                let mut movie = Movie::new(format!("F{i}"), vec![Genre::Drama]);
                movie.votes = Some(i * 10);
                movie
            })
            .collect();
        films.push(Movie::new("No votes", vec![Genre::Drama]));
        let catalog = Catalog::from_movies("t", films).expect("films");
        let ranks: Vec<Option<f64>> = catalog.movies().iter().map(|m| m.popularity_rank).collect();
        assert_eq!(
            ranks,
            [
                Some(0.0),
                Some(0.25),
                Some(0.5),
                Some(0.75),
                Some(1.0),
                None
            ]
        );
    }

    #[test]
    fn search_by_title_genre_and_year() {
        let catalog = Catalog::builtin();
        let query = MovieQuery {
            title: Some("toy STORY".into()),
            ..Default::default()
        };
        let found: Vec<_> = catalog.search(&query).map(|m| m.title.as_str()).collect();
        assert!(found.contains(&"Toy Story"), "{found:?}");
        let query = MovieQuery {
            genre: Some(Genre::Horror),
            ..Default::default()
        };
        assert!(
            catalog
                .search(&query)
                .all(|m| m.genres.contains(&Genre::Horror))
        );
    }

    #[test]
    fn stats_count_genres_and_years() {
        let stats = Catalog::builtin().stats();
        assert_eq!(stats.movies, Catalog::builtin().len());
        assert!(stats.genres["Drama"] > 0);
        let [first, last] = stats.years.expect("years");
        assert!(first < last);
    }

    #[test]
    fn empty_catalogs_are_refused() {
        assert!(matches!(
            Catalog::from_movies("t", vec![Movie::new("No genre", vec![])]),
            Err(CatalogError::NoMovies { .. })
        ));
    }
}
