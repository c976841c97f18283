//! The measurable promises of the recommender, checked on the built-in catalog: different moods
//! give different lists, match and lift differ, lists are stable, filters hold, and every mood
//! gets a full list.

use std::collections::BTreeSet;

use catalog::{Catalog, Genre};
use mood::{Emotion, EmotionDistribution};
use proptest::prelude::*;
use recommend::{Filters, Mode, RecommendError, Request};

fn top(mood: EmotionDistribution, mode: Mode) -> BTreeSet<String> {
    let request = Request {
        mode,
        ..Request::new(mood)
    };
    recommend::recommend(Catalog::builtin(), &request)
        .expect("a list")
        .movies
        .into_iter()
        .map(|movie| format!("{} ({:?})", movie.title, movie.year))
        .collect()
}

fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    a.intersection(b).count() as f64 / a.union(b).count() as f64
}

#[test]
fn the_seven_moods_give_different_top_tens() {
    let lists: Vec<_> = Emotion::ALL
        .into_iter()
        .map(|emotion| top(EmotionDistribution::certain(emotion), Mode::Auto))
        .collect();
    let mut overlaps = Vec::new();
    for i in 0..lists.len() {
        assert_eq!(lists[i].len(), 10);
        for j in i + 1..lists.len() {
            let overlap = jaccard(&lists[i], &lists[j]);
            eprintln!(
                "{:>8} vs {:<8} {overlap:.3}",
                Emotion::ALL[i],
                Emotion::ALL[j]
            );
            overlaps.push(overlap);
        }
    }
    let mean = overlaps.iter().sum::<f64>() / overlaps.len() as f64;
    eprintln!("mean pairwise Jaccard overlap of the seven auto top-10s: {mean:.3}");
    assert!(mean <= 0.25, "mean overlap {mean:.3} > 0.25");
}

#[test]
fn matching_and_lifting_sadness_differ() {
    let sad = EmotionDistribution::certain(Emotion::Sad);
    let overlap = jaccard(&top(sad, Mode::Match), &top(sad, Mode::Lift));
    eprintln!("sad: match vs lift Jaccard overlap {overlap:.3}");
    assert!(overlap <= 0.2, "overlap {overlap:.3} > 0.2");
}

#[test]
fn the_same_request_gives_the_same_list() {
    let mood = EmotionDistribution::parse("sad=0.5,neutral=0.3,happy=0.2").expect("mood");
    let request = Request {
        seed: Some(42),
        ..Request::new(mood)
    };
    let first = recommend::recommend(Catalog::builtin(), &request).expect("a list");
    let second = recommend::recommend(Catalog::builtin(), &request).expect("a list");
    assert_eq!(first, second);
    // The order of the catalog does not matter either.
    let mut reversed = Catalog::builtin().movies().to_vec();
    reversed.reverse();
    let reversed = Catalog::from_movies("reversed", reversed).expect("films");
    let third = recommend::recommend(&reversed, &request).expect("a list");
    assert_eq!(first.movies, third.movies);
}

#[test]
fn happy_comedies_since_2000_rated_8_or_more() {
    let request = Request {
        filters: Filters {
            min_year: Some(2000),
            min_rating: Some(8.0),
            genres: vec![Genre::Comedy],
            ..Filters::default()
        },
        ..Request::new(EmotionDistribution::certain(Emotion::Happy))
    };
    let list = recommend::recommend(Catalog::builtin(), &request).expect("a list");
    assert!(!list.movies.is_empty());
    for movie in &list.movies {
        assert!(movie.year.is_some_and(|y| y >= 2000), "{movie:?}");
        assert!(movie.rating.is_some_and(|r| r >= 8.0), "{movie:?}");
        assert!(movie.genres.contains(&Genre::Comedy), "{movie:?}");
    }
}

fn any_mood() -> impl Strategy<Value = EmotionDistribution> {
    proptest::array::uniform7(0.0f64..1.0).prop_filter_map("all zero", |weights| {
        EmotionDistribution::from_weights(weights).ok()
    })
}

fn any_mode() -> impl Strategy<Value = Mode> {
    prop_oneof![Just(Mode::Match), Just(Mode::Lift), Just(Mode::Auto)]
}

fn any_genres() -> impl Strategy<Value = Vec<Genre>> {
    proptest::collection::vec(proptest::sample::select(Genre::ALL.to_vec()), 0..3)
}

fn any_filters() -> impl Strategy<Value = Filters> {
    let certificates = proptest::collection::vec(
        proptest::sample::select(vec!["G", "pg", "PG-13", "R", "Not Rated"]),
        0..2,
    );
    let titles = proptest::collection::vec(
        proptest::sample::select(
            Catalog::builtin()
                .movies()
                .iter()
                .map(|movie| movie.title.clone())
                .collect::<Vec<_>>(),
        ),
        0..4,
    );
    (
        proptest::option::of(1920u16..2025),
        proptest::option::of(1920u16..2025),
        proptest::option::of(5.0f64..9.0),
        any_genres(),
        any_genres(),
        proptest::option::of(80u16..200),
        certificates,
        titles,
        (proptest::option::of(0u8..19), any::<bool>()),
    )
        .prop_map(
            |(
                min_year,
                max_year,
                min_rating,
                genres,
                exclude_genres,
                max_runtime,
                certs,
                titles,
                (max_age, family),
            )| {
                Filters {
                    min_year,
                    max_year,
                    min_rating,
                    genres,
                    exclude_genres,
                    max_runtime,
                    certificates: certs.into_iter().map(str::to_owned).collect(),
                    exclude_titles: titles,
                    max_age,
                    family,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_mood_gets_a_full_list(mood in any_mood(), mode in any_mode(), seed in proptest::option::of(any::<u64>())) {
        let request = Request { mode, seed, ..Request::new(mood) };
        let list = recommend::recommend(Catalog::builtin(), &request).expect("a list");
        prop_assert_eq!(list.movies.len(), 10);
        let titles: BTreeSet<_> = list.movies.iter().map(|m| (m.title.clone(), m.year)).collect();
        prop_assert_eq!(titles.len(), 10, "no film twice");
        prop_assert!(list.movies.iter().all(|m| !m.reasons.is_empty()));
        let total: f64 = list.mood.probabilities.probabilities().iter().sum();
        prop_assert!((total - 1.0).abs() < 1e-9);
    }

    #[test]
    fn filters_never_let_a_violating_film_through(mood in any_mood(), mode in any_mode(), filters in any_filters(), n in 1usize..30) {
        let request = Request { mode, n, filters: filters.clone(), ..Request::new(mood) };
        let catalog = Catalog::builtin();
        // Lifting also keeps out bleak, harrowing and dark-theme films.
        let lifting = mood.ranked().iter().filter(|(e, _)| mode.resolve(*e) == Mode::Lift).map(|(_, p)| p).sum::<f64>() >= 0.2;
        let passing = catalog
            .movies()
            .iter()
            .filter(|m| filters.admits(m))
            .filter(|m| !lifting || !m.tone.as_ref().is_some_and(|t| t.unfit_for_lifting()))
            .count();
        match recommend::recommend(catalog, &request) {
            Ok(list) => {
                prop_assert_eq!(list.movies.len(), n.min(passing));
                for movie in &list.movies {
                    let source = catalog
                        .movies()
                        .iter()
                        .find(|m| m.title == movie.title && m.year == movie.year)
                        .expect("a catalog film");
                    prop_assert!(filters.admits(source), "{:?} violates {:?}", movie.title, filters);
                    if let Some(year) = filters.min_year { prop_assert!(movie.year.is_some_and(|y| y >= year)); }
                    if let Some(year) = filters.max_year { prop_assert!(movie.year.is_some_and(|y| y <= year)); }
                    if let Some(rating) = filters.min_rating { prop_assert!(movie.rating.is_some_and(|r| r >= rating)); }
                    if !filters.genres.is_empty() { prop_assert!(filters.genres.iter().any(|g| movie.genres.contains(g))); }
                    prop_assert!(!filters.exclude_genres.iter().any(|g| movie.genres.contains(g)));
                    if let Some(minutes) = filters.max_runtime { prop_assert!(movie.runtime_min.is_some_and(|m| m <= minutes)); }
                    prop_assert!(!filters.exclude_titles.contains(&movie.title));
                    if let Some(age) = filters.max_age { prop_assert!(movie.min_age.is_some_and(|a| a <= age)); }
                    if filters.family { prop_assert!(movie.min_age.is_some_and(|a| a <= 8)); }
                    if lifting { prop_assert!(!source.tone.as_ref().is_some_and(|t| t.unfit_for_lifting())); }
                }
            }
            Err(RecommendError::NothingLeft { field, .. }) => {
                prop_assert_eq!(passing, 0, "said {} emptied the list, but {} films pass", field, passing);
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}
