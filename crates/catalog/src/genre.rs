//! Film genres, normalised across catalog sources.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A film genre. Names from every source map onto this one list, so that TMDB's
/// "Science Fiction" and IMDb's "Sci-Fi" are the same genre.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Genre {
    /// Action.
    Action,
    /// Adventure.
    Adventure,
    /// Animation.
    Animation,
    /// Biography (biopics).
    Biography,
    /// Comedy.
    Comedy,
    /// Crime.
    Crime,
    /// Documentary.
    Documentary,
    /// Drama.
    Drama,
    /// Family.
    Family,
    /// Fantasy.
    Fantasy,
    /// Film noir.
    FilmNoir,
    /// History.
    History,
    /// Horror.
    Horror,
    /// Music (films about music and musicians).
    Music,
    /// Musical (characters sing the story).
    Musical,
    /// Mystery.
    Mystery,
    /// Romance.
    Romance,
    /// Science fiction.
    SciFi,
    /// Sport.
    Sport,
    /// Thriller.
    Thriller,
    /// War.
    War,
    /// Western.
    Western,
}

/// Number of genres.
pub const GENRE_COUNT: usize = 22;

impl Genre {
    /// Every genre, in alphabetical order of [`Genre::name`].
    pub const ALL: [Genre; GENRE_COUNT] = [
        Genre::Action,
        Genre::Adventure,
        Genre::Animation,
        Genre::Biography,
        Genre::Comedy,
        Genre::Crime,
        Genre::Documentary,
        Genre::Drama,
        Genre::Family,
        Genre::Fantasy,
        Genre::FilmNoir,
        Genre::History,
        Genre::Horror,
        Genre::Music,
        Genre::Musical,
        Genre::Mystery,
        Genre::Romance,
        Genre::SciFi,
        Genre::Sport,
        Genre::Thriller,
        Genre::War,
        Genre::Western,
    ];

    /// Position in [`Genre::ALL`] (0..22), for tables indexed by genre.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The canonical name, as printed and serialised (IMDb's spelling).
    pub fn name(self) -> &'static str {
        match self {
            Genre::Action => "Action",
            Genre::Adventure => "Adventure",
            Genre::Animation => "Animation",
            Genre::Biography => "Biography",
            Genre::Comedy => "Comedy",
            Genre::Crime => "Crime",
            Genre::Documentary => "Documentary",
            Genre::Drama => "Drama",
            Genre::Family => "Family",
            Genre::Fantasy => "Fantasy",
            Genre::FilmNoir => "Film-Noir",
            Genre::History => "History",
            Genre::Horror => "Horror",
            Genre::Music => "Music",
            Genre::Musical => "Musical",
            Genre::Mystery => "Mystery",
            Genre::Romance => "Romance",
            Genre::SciFi => "Sci-Fi",
            Genre::Sport => "Sport",
            Genre::Thriller => "Thriller",
            Genre::War => "War",
            Genre::Western => "Western",
        }
    }

    /// Reads a genre name from any source: case-insensitive, ignoring spaces, hyphens and
    /// underscores, and accepting the other sources' spellings ("Science Fiction", "Film Noir",
    /// "Sports", "Biopic"). `None` for names that are not genres of this list.
    pub fn normalise(text: &str) -> Option<Genre> {
        let key: String = text
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .flat_map(char::to_lowercase)
            .collect();
        let genre = match key.as_str() {
            "action" => Genre::Action,
            "adventure" => Genre::Adventure,
            "animation" | "animated" => Genre::Animation,
            "biography" | "biopic" => Genre::Biography,
            "comedy" => Genre::Comedy,
            "crime" => Genre::Crime,
            "documentary" => Genre::Documentary,
            "drama" => Genre::Drama,
            "family" => Genre::Family,
            "fantasy" => Genre::Fantasy,
            "filmnoir" | "noir" => Genre::FilmNoir,
            "history" | "historical" => Genre::History,
            "horror" => Genre::Horror,
            "music" => Genre::Music,
            "musical" => Genre::Musical,
            "mystery" => Genre::Mystery,
            "romance" => Genre::Romance,
            "scifi" | "sciencefiction" => Genre::SciFi,
            "sport" | "sports" => Genre::Sport,
            "thriller" => Genre::Thriller,
            "war" => Genre::War,
            "western" => Genre::Western,
            _ => return None,
        };
        Some(genre)
    }

    /// The genre's bit in a [`GenreSet`].
    fn bit(self) -> u32 {
        1 << self.index()
    }
}

impl fmt::Display for Genre {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of the genres.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown genre {name:?}; expected one of {}", genre_list())]
pub struct UnknownGenre {
    /// The name as given.
    pub name: String,
}

fn genre_list() -> String {
    Genre::ALL
        .iter()
        .map(|genre| genre.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for Genre {
    type Err = UnknownGenre;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Genre::normalise(text).ok_or_else(|| UnknownGenre {
            name: text.trim().to_owned(),
        })
    }
}

impl Serialize for Genre {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Genre {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// A set of genres as a bit mask: cheap to copy, compare and intersect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct GenreSet(u32);

impl GenreSet {
    /// The empty set.
    pub const EMPTY: GenreSet = GenreSet(0);

    /// Whether `genre` is in the set.
    pub fn contains(self, genre: Genre) -> bool {
        self.0 & genre.bit() != 0
    }

    /// Adds `genre` to the set.
    pub fn insert(&mut self, genre: Genre) {
        self.0 |= genre.bit();
    }

    /// Number of genres in the set.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether the two sets share a genre.
    pub fn intersects(self, other: GenreSet) -> bool {
        self.0 & other.0 != 0
    }

    /// Jaccard similarity |A ∩ B| / |A ∪ B|, 0 when both are empty.
    pub fn jaccard(self, other: GenreSet) -> f64 {
        let union = (self.0 | other.0).count_ones();
        if union == 0 {
            return 0.0;
        }
        f64::from((self.0 & other.0).count_ones()) / f64::from(union)
    }

    /// The genres in the set, in [`Genre::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Genre> {
        Genre::ALL
            .into_iter()
            .filter(move |genre| self.contains(*genre))
    }
}

impl FromIterator<Genre> for GenreSet {
    fn from_iter<I: IntoIterator<Item = Genre>>(genres: I) -> Self {
        let mut set = GenreSet::EMPTY;
        for genre in genres {
            set.insert(genre);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_index_order_and_names_round_trip() {
        for (index, genre) in Genre::ALL.into_iter().enumerate() {
            assert_eq!(genre.index(), index);
            assert_eq!(genre.name().parse::<Genre>(), Ok(genre));
            assert_eq!(genre.name().to_uppercase().parse::<Genre>(), Ok(genre));
        }
        let mut names: Vec<_> = Genre::ALL.iter().map(|g| g.name()).collect();
        let sorted = {
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted
        };
        assert_eq!(names, sorted);
        names.dedup();
        assert_eq!(names.len(), GENRE_COUNT);
    }

    #[test]
    fn sources_spellings_are_one_genre() {
        assert_eq!(Genre::normalise("Science Fiction"), Some(Genre::SciFi));
        assert_eq!(Genre::normalise("Sci-Fi"), Some(Genre::SciFi));
        assert_eq!(Genre::normalise("sci fi"), Some(Genre::SciFi));
        assert_eq!(Genre::normalise("Film Noir"), Some(Genre::FilmNoir));
        assert_eq!(Genre::normalise("Sports"), Some(Genre::Sport));
        assert_eq!(Genre::normalise("Foreign"), None);
        assert_eq!(Genre::normalise("TV Movie"), None);
    }

    #[test]
    fn unknown_genre_lists_the_valid_ones() {
        let error = "Cooking".parse::<Genre>().unwrap_err().to_string();
        assert!(error.contains("\"Cooking\""), "{error}");
        assert!(error.contains("Action, Adventure"), "{error}");
    }

    #[test]
    fn genre_sets_measure_overlap() {
        let a: GenreSet = [Genre::Comedy, Genre::Drama].into_iter().collect();
        let b: GenreSet = [Genre::Comedy, Genre::Romance].into_iter().collect();
        assert_eq!(a.len(), 2);
        assert!(a.intersects(b));
        assert!((a.jaccard(b) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(GenreSet::EMPTY.jaccard(GenreSet::EMPTY), 0.0);
        assert_eq!(
            a.iter().collect::<Vec<_>>(),
            vec![Genre::Comedy, Genre::Drama]
        );
    }
}
