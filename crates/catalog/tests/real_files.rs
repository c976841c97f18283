//! Imports of the real Kaggle files from `../shared/data/movies/`. Each test skips, saying so,
//! where that folder is absent (a fresh clone): the files are never part of the repository.

use std::path::PathBuf;

use catalog::{Catalog, Format, Genre};

/// A Kaggle file of `../shared/data/movies/`, or `None` (with a visible `SKIPPED` note).
fn shared_movie_file(name: &str) -> Option<PathBuf> {
    devdata::shared_file(&format!("movies/{name}"))
}

#[test]
fn imdb_top_1000_loads_every_row() {
    let Some(path) = shared_movie_file("imdb_top_1000.csv") else {
        return;
    };
    let catalog = Catalog::from_path(&path).expect("the IMDB file loads");
    assert_eq!(catalog.format(), Format::ImdbTop1000);
    assert_eq!(catalog.len(), 1000);
    let apollo = catalog
        .movies()
        .iter()
        .find(|movie| movie.title == "Apollo 13")
        .expect("Apollo 13 is in the file");
    assert_eq!(apollo.year, None, "its year is \"PG\" in the file");
    let warnings: Vec<String> = catalog.warnings().iter().map(ToString::to_string).collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("Released_Year: \"PG\" is not a year")),
        "{warnings:#?}"
    );
    assert!(
        catalog
            .movies()
            .iter()
            .all(|m| m.rating.is_some() && m.votes.is_some())
    );
    assert!(
        catalog
            .movies()
            .iter()
            .any(|m| m.genres.contains(&Genre::FilmNoir))
    );
}

#[test]
fn tmdb_5000_loads_nearly_every_row() {
    let Some(path) = shared_movie_file("tmdb_5000_movies.csv") else {
        return;
    };
    let report = Catalog::check_path(&path).expect("readable");
    assert!(
        report.errors.is_empty(),
        "{:#?}",
        &report.errors[..report.errors.len().min(5)]
    );
    let catalog = Catalog::from_path(&path).expect("the TMDB file loads");
    assert_eq!(catalog.format(), Format::Tmdb5000);
    assert!(catalog.len() >= 4700, "{} films", catalog.len());
    assert_eq!(catalog.len() + report.skipped, 4803);
    // TMDB's "Science Fiction" is the same genre as IMDb's "Sci-Fi".
    let avatar = catalog
        .movies()
        .iter()
        .find(|movie| movie.title == "Avatar")
        .expect("Avatar is in the file");
    assert!(avatar.genres.contains(&Genre::SciFi));
    assert_eq!(avatar.year, Some(2009));
}
