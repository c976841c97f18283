//! Age bands: the youngest age a film's certificate admits, whatever the rating system.
//!
//! Certificates come from several systems: US (MPA and TV), UK (BBFC) and Indian (CBFC) ones in
//! the Kaggle IMDB file, US ones in the built-in catalog, none in TMDB. Each maps to the minimum
//! age of its band. Where a film has no certificate, the band is estimated from what is known of
//! it (see [`min_age_of`]); a film with no band at all is left out by age filters.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::genre::Genre;
use crate::movie::{Movie, title_key};
use crate::tone::Tone;

/// The minimum age of a certificate's band, or `None` for one that says nothing about age
/// (`Not Rated`, `Unrated`, the pre-1968 `Approved` and `Passed`).
///
/// | band | certificates |
/// |-----:|--------------|
/// | 0  | US `G`, `TV-G`, `TV-Y`; UK and India `U` |
/// | 8  | US `PG`, `GP`, `M`, `TV-PG`, `TV-Y7`; UK `PG` |
/// | 12 | UK `12`, `12A`; India `UA`, `U/A` |
/// | 13 | US `PG-13` |
/// | 14 | US `TV-14` |
/// | 15 | UK `15` |
/// | 16 | `16` |
/// | 17 | US `R`, `TV-MA` |
/// | 18 | US `NC-17`, `X`; UK `18`, `R18`; India `A`, `S` |
pub fn min_age_for_certificate(certificate: &str) -> Option<u8> {
    let normal: String = certificate
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    Some(match normal.as_str() {
        "G" | "TV-G" | "TV-Y" | "U" => 0,
        "PG" | "GP" | "M" | "M/PG" | "TV-PG" | "TV-Y7" => 8,
        "12" | "12A" | "UA" | "U/A" => 12,
        "PG-13" => 13,
        "TV-14" => 14,
        "15" => 15,
        "16" => 16,
        "R" | "TV-MA" => 17,
        "NC-17" | "X" | "18" | "R18" | "A" | "S" => 18,
        _ => return None,
    })
}

/// Keywords (TMDB) that mark a film for adults only.
const ADULT_KEYWORDS: &[&str] = &[
    "nudity",
    "female nudity",
    "male nudity",
    "sex",
    "erotic",
    "erotic movie",
    "softcore",
    "pornography",
    "porn",
    "rape",
    "gore",
    "explicit sex",
    "sex scene",
];

/// The certificates of the built-in catalog's films, for the same films met in another catalog.
static KNOWN_CERTIFICATES: LazyLock<HashMap<(String, u16), String>> = LazyLock::new(|| {
    let mut reader = csv::Reader::from_reader(crate::BUILTIN_CSV.as_bytes());
    reader
        .records()
        .filter_map(Result::ok)
        .filter_map(|record| {
            let title = title_key(record.get(0)?);
            let year = record.get(1)?.trim().parse().ok()?;
            let certificate = record.get(4)?.trim().to_owned();
            Some(((title, year), certificate))
        })
        .collect()
});

/// A film's age band: from its certificate; else from the built-in catalog's certificate for the
/// same film (title and year); else estimated: 18 for TMDB's `adult` flag or adult keywords, 0
/// for a family or animated film with no dark theme, no dark or scary tone and no adult
/// keyword. `None` when nothing is known.
pub fn min_age_of(movie: &Movie, tone: &Tone) -> Option<u8> {
    if let Some(age) = movie
        .certificate
        .as_deref()
        .and_then(min_age_for_certificate)
    {
        return Some(age);
    }
    if let Some(year) = movie.year
        && let Some(certificate) = KNOWN_CERTIFICATES.get(&(title_key(&movie.title), year))
        && let Some(age) = min_age_for_certificate(certificate)
    {
        return Some(age);
    }
    let adult_keyword = movie.keywords.iter().any(|keyword| {
        ADULT_KEYWORDS
            .iter()
            .any(|adult| keyword.eq_ignore_ascii_case(adult))
    });
    if movie.adult == Some(true) || adult_keyword {
        return Some(18);
    }
    let for_children = movie.genres.contains(&Genre::Family)
        || (movie.genres.contains(&Genre::Animation) && !movie.genres.contains(&Genre::Horror));
    let light = tone.themes.is_empty()
        && tone.darkness <= 0.35
        && !tone.tags.iter().any(|tag| {
            matches!(
                tag,
                crate::ToneTag::Scary
                    | crate::ToneTag::Dark
                    | crate::ToneTag::Bleak
                    | crate::ToneTag::Harrowing
            )
        });
    (for_children && light).then_some(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_of_every_system_map_to_bands() {
        assert_eq!(min_age_for_certificate("G"), Some(0));
        assert_eq!(min_age_for_certificate("U"), Some(0));
        assert_eq!(min_age_for_certificate("PG"), Some(8));
        assert_eq!(min_age_for_certificate("UA"), Some(12));
        assert_eq!(min_age_for_certificate("u/a"), Some(12));
        assert_eq!(min_age_for_certificate("PG-13"), Some(13));
        assert_eq!(min_age_for_certificate("R"), Some(17));
        assert_eq!(min_age_for_certificate("A"), Some(18));
        assert_eq!(min_age_for_certificate("TV-MA"), Some(17));
        assert_eq!(min_age_for_certificate("Passed"), None);
        assert_eq!(min_age_for_certificate("Not Rated"), None);
    }

    #[test]
    fn films_without_a_certificate_get_an_estimate_or_none() {
        let mut cartoon = Movie::new("Unknown Cartoon", vec![Genre::Animation, Genre::Comedy]);
        let tone = crate::tone::tone_of(&cartoon);
        assert_eq!(min_age_of(&cartoon, &tone), Some(0));
        cartoon.keywords = vec!["Nudity".into()];
        assert_eq!(min_age_of(&cartoon, &tone), Some(18));
        let drama = Movie::new("Unknown Drama", vec![Genre::Drama]);
        let tone = crate::tone::tone_of(&drama);
        assert_eq!(min_age_of(&drama, &tone), None);
        let mut known = Movie::new("Toy Story", vec![Genre::Animation]);
        known.year = Some(1995);
        known.keywords = vec!["toy".into()];
        assert_eq!(min_age_of(&known, &tone), Some(0));
    }
}
