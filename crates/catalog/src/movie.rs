//! One film and the facts the recommender needs about it.

use serde::{Deserialize, Serialize};

use crate::genre::{Genre, GenreSet};

/// A film in a catalog.
///
/// Only the title and at least one genre are always present; every other fact may be unknown
/// in an imported catalog (TMDB has no certificates, directors or stars, for instance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Movie {
    /// Title as the source spells it.
    pub title: String,
    /// Year of release.
    pub year: Option<u16>,
    /// Genres, normalised, in the source's order, without duplicates; never empty.
    pub genres: Vec<Genre>,
    /// Rating on the IMDb-style 1–10 scale. `None` when unrated (e.g. TMDB with no votes).
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
    fn title_keys_ignore_case_and_spacing() {
        assert_eq!(title_key("  The  Godfather "), "the godfather");
        assert_eq!(title_key("AMÉLIE"), "amélie");
    }
}
