//! Catalogs for the quality tests: the built-in one always, the Kaggle IMDB and TMDB files from
//! `../shared/data/movies/` when that folder is present (never part of the repository; each test
//! says so when it skips them).

#![allow(dead_code)]

use catalog::{Catalog, Movie};
use mood::{Emotion, EmotionDistribution};
use recommend::{Mode, Recommendations, RecommendedMovie, Request};

/// The catalogs to check: `(name, catalog)`.
pub fn catalogs() -> Vec<(&'static str, Catalog)> {
    let mut catalogs = vec![("built-in", Catalog::builtin().clone())];
    for (name, file) in [
        ("IMDB", "imdb_top_1000.csv"),
        ("TMDB", "tmdb_5000_movies.csv"),
    ] {
        if let Some(path) = devdata::shared_file(&format!("movies/{file}")) {
            catalogs.push((
                name,
                Catalog::from_path(&path).expect("the Kaggle file loads"),
            ));
        }
    }
    catalogs
}

/// The list for one emotion.
pub fn list(catalog: &Catalog, emotion: Emotion, mode: Mode, n: usize) -> Recommendations {
    let request = Request {
        mode,
        n,
        ..Request::new(EmotionDistribution::certain(emotion))
    };
    recommend::recommend(catalog, &request).expect("a list")
}

/// The 14 top-10 lists: every emotion matched, then every emotion lifted.
pub fn match_and_lift_top_tens(catalog: &Catalog) -> Vec<(String, Recommendations)> {
    let mut lists = Vec::new();
    for mode in [Mode::Match, Mode::Lift] {
        for emotion in Emotion::ALL {
            lists.push((
                format!("{mode} {emotion}"),
                list(catalog, emotion, mode, 10),
            ));
        }
    }
    lists
}

/// The emotions `auto` lifts.
pub const LIFTED: [Emotion; 4] = [
    Emotion::Sad,
    Emotion::Angry,
    Emotion::Fear,
    Emotion::Disgust,
];

/// The catalog's film behind a recommended one.
pub fn source<'c>(catalog: &'c Catalog, movie: &RecommendedMovie) -> &'c Movie {
    catalog
        .movies()
        .iter()
        .find(|m| m.title == movie.title && m.year == movie.year)
        .expect("a catalog film")
}
