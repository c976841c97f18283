//! One film and the facts the recommender needs about it.

use serde::{Deserialize, Serialize};

use crate::genre::{Genre, GenreSet};
use crate::tone::Tone;

/// A film in a catalog.
///
/// Only the title and at least one genre are always present; every other fact may be unknown
/// in an imported catalog (TMDB has no certificates, directors or stars, for instance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Movie {
    /// Title as the source spells it.
    pub title: String,
    /// Year of release.
    pub year: Option<u16>,
    /// Genres, normalised, in the source's order, without duplicates; never empty.
    pub genres: Vec<Genre>,
    /// Rating on the IMDb-style 1–10 scale; unknown when unrated (e.g. TMDB with no votes).
    pub rating: Option<f64>,
    /// Number of votes behind the rating, when the source says.
    pub votes: Option<u64>,
    /// Running time in minutes.
    pub runtime_min: Option<u16>,
    /// Age certificate as the source gives it (US ratings in the built-in catalog; the Kaggle
    /// IMDB file has Indian ones such as `U`, `UA` and `A`).
    pub certificate: Option<String>,
    /// Director, or directors joined with ` & `.
    pub director: Option<String>,
    /// Up to four leading actors.
    pub stars: Vec<String>,
    /// A short summary, when the source has one (the built-in catalog has none).
    pub overview: Option<String>,
    /// Link to a poster image, when the source has one.
    pub poster_url: Option<String>,
    /// Keywords, when the source has them (TMDB; absent otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// A tagline, when the source has one (TMDB; absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tagline: Option<String>,
    /// The source's adults-only flag, when it has one (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adult: Option<bool>,
    /// The source's own popularity figure, when it has one (TMDB; absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub popularity: Option<f64>,
    /// One line saying what the film is: the first sentence of the overview, or the project's
    /// own line for a film it knows. Set by the catalog when not given.
    #[serde(default)]
    pub synopsis: Option<String>,
    /// The youngest age its age band admits, when known (see `catalog::min_age_of`). Set by
    /// the catalog.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 255))]
    pub min_age: Option<u8>,
    /// How the film feels (see `catalog::tone_of`). Set by the catalog when not given.
    #[serde(default)]
    pub tone: Option<Tone>,
    /// Share of the catalog's films less popular than this one, 0 to 1 (by the source's
    /// popularity figure, else by vote count). Set by the catalog; absent when it cannot tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1))]
    pub popularity_rank: Option<f64>,
}

impl Movie {
    /// A film with a title and genres and every other fact unknown.
    pub fn new(title: impl Into<String>, genres: Vec<Genre>) -> Self {
        Self {
            title: title.into(),
            year: None,
            genres,
            rating: None,
            votes: None,
            runtime_min: None,
            certificate: None,
            director: None,
            stars: Vec::new(),
            overview: None,
            poster_url: None,
            keywords: Vec::new(),
            tagline: None,
            adult: None,
            popularity: None,
            synopsis: None,
            min_age: None,
            tone: None,
            popularity_rank: None,
        }
    }

    /// The genres as a set.
    pub fn genre_set(&self) -> GenreSet {
        self.genres.iter().copied().collect()
    }

    /// The individual directors (a director field of `A & B` names two).
    pub fn directors(&self) -> impl Iterator<Item = &str> {
        self.director
            .as_deref()
            .unwrap_or_default()
            .split(['&', ','])
            .map(str::trim)
            .filter(|name| !name.is_empty())
    }

    /// Whether the two films share a director.
    pub fn shares_director(&self, other: &Movie) -> bool {
        self.directors()
            .any(|name| other.directors().any(|theirs| theirs == name))
    }

    /// `Title (1999)`, or the bare title when the year is unknown.
    pub fn label(&self) -> String {
        match self.year {
            Some(year) => format!("{} ({year})", self.title),
            None => self.title.clone(),
        }
    }
}

/// The series a title belongs to, for damping sequels: the title before a `:` or ` - `, without
/// a trailing number, Roman numeral or `Part ...`, and cut before ` and the ` (so every
/// "Harry Potter and the ..." is one series). `Toy Story 3` → `toy story`.
pub fn franchise_key(title: &str) -> String {
    let key = title_key(title);
    let mut key = key
        .split([':', '('])
        .next()
        .unwrap_or_default()
        .split(" - ")
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if let Some(index) = key.find(" part ") {
        key.truncate(index);
    }
    if let Some(index) = key.find(" and the ")
        && key[..index].contains(' ')
    {
        key.truncate(index);
    }
    let ends_with_number = |key: &str| {
        key.rsplit_once(' ').is_some_and(|(_, last)| {
            last.chars().all(|c| c.is_ascii_digit())
                || (last.len() <= 4 && last.chars().all(|c| matches!(c, 'i' | 'v' | 'x')))
        })
    };
    while ends_with_number(&key) {
        if let Some((rest, _)) = key.rsplit_once(' ') {
            key = rest.to_owned();
        }
    }
    key.trim_end_matches(['.', ',', '!', '?', ' ']).to_owned()
}

/// A title reduced for comparison: lower case, inner whitespace collapsed, trimmed.
pub fn title_key(title: &str) -> String {
    title
        .split_whitespace()
        .flat_map(|word| word.chars().flat_map(char::to_lowercase).chain([' ']))
        .collect::<String>()
        .trim_end()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directors_split_on_ampersand() {
        let mut a = Movie::new("A", vec![Genre::Drama]);
        a.director = Some("Joel Coen & Ethan Coen".into());
        let mut b = Movie::new("B", vec![Genre::Crime]);
        b.director = Some("Ethan Coen".into());
        let c = Movie::new("C", vec![Genre::Crime]);
        assert_eq!(
            a.directors().collect::<Vec<_>>(),
            ["Joel Coen", "Ethan Coen"]
        );
        assert!(a.shares_director(&b));
        assert!(!a.shares_director(&c));
        assert!(!c.shares_director(&c));
    }

    #[test]
    fn sequels_share_a_franchise_key() {
        assert_eq!(franchise_key("Toy Story 3"), "toy story");
        assert_eq!(franchise_key("Toy Story"), "toy story");
        assert_eq!(franchise_key("The Godfather Part II"), "the godfather");
        assert_eq!(
            franchise_key("Harry Potter and the Goblet of Fire"),
            franchise_key("Harry Potter and the Sorcerer's Stone")
        );
        assert_eq!(
            franchise_key("The Lord of the Rings: The Two Towers"),
            "the lord of the rings"
        );
        assert_eq!(franchise_key("Rocky II"), "rocky");
        assert_eq!(franchise_key("Up"), "up");
        assert_ne!(franchise_key("Beauty and the Beast"), "beauty");
        assert_eq!(franchise_key("1917"), "1917");
    }

    #[test]
    fn title_keys_ignore_case_and_spacing() {
        assert_eq!(title_key("  The  Godfather "), "the godfather");
        assert_eq!(title_key("AMÉLIE"), "amélie");
    }
}
