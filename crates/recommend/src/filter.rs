//! Filters on the catalog, applied one after another so that the one that empties the list can
//! be named.

use std::fmt;

use catalog::{Genre, Movie, title_key};
use serde::{Deserialize, Serialize};

/// Conditions every recommended film must meet. Empty fields do not filter.
///
/// A film whose value is unknown does not pass a filter on that value: a film without a year is
/// never returned with `min_year`, one without a runtime never with `max_runtime`, and so on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filters {
    /// Released in this year or later.
    pub min_year: Option<u16>,
    /// Released in this year or earlier.
    pub max_year: Option<u16>,
    /// Rated at least this (IMDb-style 1–10 scale, the film's own rating).
    pub min_rating: Option<f64>,
    /// Has at least one of these genres.
    pub genres: Vec<Genre>,
    /// Has none of these genres.
    pub exclude_genres: Vec<Genre>,
    /// Runs at most this many minutes.
    pub max_runtime: Option<u16>,
    /// Has one of these certificates (case-insensitive).
    pub certificates: Vec<String>,
    /// Not one of these titles (seen already); case-insensitive, and `Title (1999)` names one
    /// release.
    pub exclude_titles: Vec<String>,
    /// Admitted at this age: the film's age band (from its certificate, see
    /// `catalog::min_age_for_certificate`) starts at this age or younger. Films of unknown band
    /// are left out, and the list says how many.
    pub max_age: Option<u8>,
    /// Family-safe: an age band of [`FAMILY_MAX_AGE`] or younger and no dark theme. Films of
    /// unknown band are left out, and the list says how many.
    pub family: bool,
}

/// The oldest age band the family switch admits: US `PG`, UK `PG` (8), and younger.
pub const FAMILY_MAX_AGE: u8 = 8;

/// One filter condition, with everything needed to test a film and to name it.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Year ≥ the value.
    MinYear(u16),
    /// Year ≤ the value.
    MaxYear(u16),
    /// Rating ≥ the value.
    MinRating(f64),
    /// At least one of the genres.
    Genres(Vec<Genre>),
    /// None of the genres.
    ExcludeGenres(Vec<Genre>),
    /// Runtime ≤ the value.
    MaxRuntime(u16),
    /// Certificate among these (compared case-insensitively).
    Certificates(Vec<String>),
    /// Title (or `Title (Year)`) not among these.
    ExcludeTitles(Vec<ExcludedTitle>),
    /// Age band known and starting at this age or younger.
    MaxAge(u8),
    /// Age band known and at most [`FAMILY_MAX_AGE`], and no dark theme.
    Family,
    /// Not bleak, harrowing or on a dark theme: applied by the recommender whenever it lifts a
    /// mood, not set by requests.
    SafeForLifting,
}

impl Filter {
    /// The request field that sets this filter (as in JSON; the command line uses the same
    /// words with dashes).
    pub fn field(&self) -> &'static str {
        match self {
            Filter::MinYear(_) => "min_year",
            Filter::MaxYear(_) => "max_year",
            Filter::MinRating(_) => "min_rating",
            Filter::Genres(_) => "genres",
            Filter::ExcludeGenres(_) => "exclude_genres",
            Filter::MaxRuntime(_) => "max_runtime",
            Filter::Certificates(_) => "certificates",
            Filter::ExcludeTitles(_) => "exclude_titles",
            Filter::MaxAge(_) => "max_age",
            Filter::Family => "family",
            Filter::SafeForLifting => "mode",
        }
    }

    /// Whether the filter is on the age band (and so leaves out films whose band is unknown).
    pub fn needs_age(&self) -> bool {
        matches!(self, Filter::MaxAge(_) | Filter::Family)
    }

    /// Whether `movie` passes.
    pub fn admits(&self, movie: &Movie) -> bool {
        match self {
            Filter::MinYear(year) => movie.year.is_some_and(|y| y >= *year),
            Filter::MaxYear(year) => movie.year.is_some_and(|y| y <= *year),
            Filter::MinRating(rating) => movie.rating.is_some_and(|r| r >= *rating),
            Filter::Genres(genres) => genres.iter().any(|g| movie.genres.contains(g)),
            Filter::ExcludeGenres(genres) => !genres.iter().any(|g| movie.genres.contains(g)),
            Filter::MaxRuntime(minutes) => movie.runtime_min.is_some_and(|m| m <= *minutes),
            Filter::Certificates(certificates) => {
                movie.certificate.as_deref().is_some_and(|certificate| {
                    certificates
                        .iter()
                        .any(|wanted| wanted.trim().eq_ignore_ascii_case(certificate.trim()))
                })
            }
            Filter::ExcludeTitles(titles) => !titles.iter().any(|title| title.names(movie)),
            Filter::MaxAge(age) => movie.min_age.is_some_and(|band| band <= *age),
            Filter::Family => {
                movie.min_age.is_some_and(|band| band <= FAMILY_MAX_AGE)
                    && movie
                        .tone
                        .as_ref()
                        .is_none_or(|tone| tone.themes.is_empty())
            }
            Filter::SafeForLifting => movie
                .tone
                .as_ref()
                .is_none_or(|tone| !tone.unfit_for_lifting()),
        }
    }
}

/// A title to exclude, read once per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExcludedTitle {
    /// The title as given, as a [`title_key`].
    key: String,
    /// `Title (1999)` read as the title's key and a year.
    with_year: Option<(String, u16)>,
}

impl ExcludedTitle {
    /// Reads `Title` or `Title (1999)`; case and spacing do not matter.
    pub fn new(text: &str) -> Self {
        let key = title_key(text);
        let with_year = key
            .strip_suffix(')')
            .and_then(|rest| rest.rsplit_once(" ("))
            .and_then(|(title, year)| Some((title.to_owned(), year.parse().ok()?)));
        Self { key, with_year }
    }

    /// Whether this names `movie`: its title, or its title and year. Runs once per film and
    /// excluded title, so it compares without allocating.
    pub fn names(&self, movie: &Movie) -> bool {
        same_title(&movie.title, &self.key)
            || self.with_year.as_ref().is_some_and(|(title, year)| {
                movie.year == Some(*year) && same_title(&movie.title, title)
            })
    }
}

/// `title_key(title) == key`, without building the key, stopping at the first difference.
fn same_title(title: &str, key: &str) -> bool {
    let mut expected = key.chars();
    let mut started = false;
    let mut space_due = false;
    for c in title.chars() {
        if c.is_whitespace() {
            space_due = started;
            continue;
        }
        if std::mem::take(&mut space_due) && expected.next() != Some(' ') {
            return false;
        }
        started = true;
        if c.is_ascii() {
            if expected.next() != Some(c.to_ascii_lowercase()) {
                return false;
            }
        } else if !c.to_lowercase().all(|lower| expected.next() == Some(lower)) {
            return false;
        }
    }
    expected.next().is_none()
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn names<T: fmt::Display>(items: &[T]) -> String {
            items
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
        match self {
            Filter::MinYear(year) => write!(f, "year ≥ {year}"),
            Filter::MaxYear(year) => write!(f, "year ≤ {year}"),
            Filter::MinRating(rating) => write!(f, "rating ≥ {rating}"),
            Filter::Genres(genres) => write!(f, "genre one of {}", names(genres)),
            Filter::ExcludeGenres(genres) => write!(f, "genre none of {}", names(genres)),
            Filter::MaxRuntime(minutes) => write!(f, "runtime ≤ {minutes} min"),
            Filter::Certificates(certificates) => {
                write!(f, "certificate one of {}", names(certificates))
            }
            Filter::ExcludeTitles(titles) => {
                write!(f, "not one of {} excluded titles", titles.len())
            }
            Filter::MaxAge(age) => write!(f, "age band at most {age}"),
            Filter::Family => write!(f, "family-safe (age band at most {FAMILY_MAX_AGE})"),
            Filter::SafeForLifting => {
                write!(
                    f,
                    "no bleak, harrowing or dark-theme film when lifting a mood"
                )
            }
        }
    }
}

impl Filters {
    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        self.list().is_empty()
    }

    /// The filters that are set, in the order they are applied.
    pub fn list(&self) -> Vec<Filter> {
        let mut list = Vec::new();
        list.extend(self.min_year.map(Filter::MinYear));
        list.extend(self.max_year.map(Filter::MaxYear));
        list.extend(self.min_rating.map(Filter::MinRating));
        if !self.genres.is_empty() {
            list.push(Filter::Genres(self.genres.clone()));
        }
        if !self.exclude_genres.is_empty() {
            list.push(Filter::ExcludeGenres(self.exclude_genres.clone()));
        }
        list.extend(self.max_runtime.map(Filter::MaxRuntime));
        if !self.certificates.is_empty() {
            list.push(Filter::Certificates(self.certificates.clone()));
        }
        if !self.exclude_titles.is_empty() {
            list.push(Filter::ExcludeTitles(
                self.exclude_titles
                    .iter()
                    .map(|title| ExcludedTitle::new(title))
                    .collect(),
            ));
        }
        list.extend(self.max_age.map(Filter::MaxAge));
        if self.family {
            list.push(Filter::Family);
        }
        list
    }

    /// Whether `movie` passes every filter.
    pub fn admits(&self, movie: &Movie) -> bool {
        self.list().iter().all(|filter| filter.admits(movie))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn film() -> Movie {
        let mut movie = Movie::new("The Apartment", vec![Genre::Comedy, Genre::Romance]);
        movie.year = Some(1960);
        movie.rating = Some(8.3);
        movie.runtime_min = Some(125);
        movie.certificate = Some("Approved".into());
        movie
    }

    #[test]
    fn each_filter_tests_its_own_fact() {
        let movie = film();
        assert!(Filter::MinYear(1960).admits(&movie));
        assert!(!Filter::MinYear(1961).admits(&movie));
        assert!(Filter::MaxYear(1960).admits(&movie));
        assert!(!Filter::MaxYear(1959).admits(&movie));
        assert!(Filter::MinRating(8.3).admits(&movie));
        assert!(!Filter::MinRating(8.4).admits(&movie));
        assert!(Filter::Genres(vec![Genre::Horror, Genre::Romance]).admits(&movie));
        assert!(!Filter::Genres(vec![Genre::Horror]).admits(&movie));
        assert!(!Filter::ExcludeGenres(vec![Genre::Comedy]).admits(&movie));
        assert!(Filter::MaxRuntime(125).admits(&movie));
        assert!(!Filter::MaxRuntime(124).admits(&movie));
        assert!(Filter::Certificates(vec!["approved".into()]).admits(&movie));
        assert!(!Filter::Certificates(vec!["PG".into()]).admits(&movie));
    }

    #[test]
    fn excluded_titles_match_loosely_and_by_year() {
        let movie = film();
        let exclude = |title: &str| Filters {
            exclude_titles: vec![title.into()],
            ..Filters::default()
        };
        assert!(!exclude("the  APARTMENT").admits(&movie));
        assert!(!exclude("The Apartment (1960)").admits(&movie));
        assert!(exclude("The Apartment (1996)").admits(&movie));
        assert!(exclude("Apartment").admits(&movie));
        assert!(exclude("The Apartment (19xx)").admits(&movie));
        for title in [
            "The Apartment",
            " the  apartment ",
            "The Apartment (1960)",
            "X",
            "",
        ] {
            let key = title_key(title);
            let expected = key == title_key(&movie.title) || key == "the apartment (1960)";
            assert_eq!(
                ExcludedTitle::new(title).names(&movie),
                expected,
                "{title:?}"
            );
        }
        let mut odd = Movie::new("Élan  Vital (1999)", vec![Genre::Drama]);
        odd.year = Some(2001);
        assert!(ExcludedTitle::new("élan vital (1999)").names(&odd));
        assert!(ExcludedTitle::new("ÉLAN VITAL (1999) (2001)").names(&odd));
        assert!(!ExcludedTitle::new("élan vital").names(&odd));
    }

    #[test]
    fn age_filters_need_a_known_band() {
        let mut movie = film();
        assert!(!Filter::MaxAge(18).admits(&movie));
        assert!(!Filter::Family.admits(&movie));
        movie.min_age = Some(8);
        assert!(Filter::MaxAge(8).admits(&movie));
        assert!(!Filter::MaxAge(7).admits(&movie));
        assert!(Filter::Family.admits(&movie));
        movie.min_age = Some(13);
        assert!(!Filter::Family.admits(&movie));
        let filters = Filters {
            max_age: Some(12),
            family: true,
            ..Filters::default()
        };
        assert_eq!(filters.list(), [Filter::MaxAge(12), Filter::Family]);
        assert!(Filter::Family.needs_age() && !Filter::MinYear(1).needs_age());
    }

    #[test]
    fn unknown_facts_do_not_pass() {
        let movie = Movie::new("Unknown", vec![Genre::Drama]);
        assert!(!Filter::MinYear(1900).admits(&movie));
        assert!(!Filter::MaxYear(2100).admits(&movie));
        assert!(!Filter::MinRating(0.0).admits(&movie));
        assert!(!Filter::MaxRuntime(999).admits(&movie));
        assert!(!Filter::Certificates(vec!["R".into()]).admits(&movie));
        assert!(Filter::ExcludeGenres(vec![Genre::Horror]).admits(&movie));
    }

    #[test]
    fn filters_read_from_json_with_defaults() {
        let filters: Filters =
            serde_json::from_str(r#"{"min_year": 2000, "genres": ["comedy", "Science Fiction"]}"#)
                .expect("valid filters");
        assert_eq!(filters.min_year, Some(2000));
        assert_eq!(filters.genres, [Genre::Comedy, Genre::SciFi]);
        assert_eq!(filters.list().len(), 2);
        assert!(Filters::default().is_empty());
    }
}
