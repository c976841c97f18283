//! One recommendation over a 5000-film catalog (the size of the TMDB 5000 file), built here so
//! the bench runs without any downloaded data.
//!
//! Run: `cargo bench -p recommend`.

// criterion's macros define functions without doc comments.
#![allow(missing_docs)]

use catalog::{Catalog, Genre, Movie};
use criterion::{Criterion, criterion_group, criterion_main};
use mood::EmotionDistribution;
use recommend::{Filters, Mode, Request};

/// A reproducible catalog of `count` films with one to four genres, ratings from 4 to 9 with
/// vote counts, and 400 directors.
fn synthetic_catalog(count: usize) -> Catalog {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let movies = (0..count)
        .map(|index| {
            let genre_count = 1 + (next() % 4) as usize;
            let genres = (0..genre_count)
                .map(|_| Genre::ALL[(next() % Genre::ALL.len() as u64) as usize])
                .collect::<Vec<_>>();
            let mut genres_unique = Vec::new();
            for genre in genres {
                if !genres_unique.contains(&genre) {
                    genres_unique.push(genre);
                }
            }
            let mut movie = Movie::new(format!("Film {index}"), genres_unique);
            movie.year = Some(1930 + (next() % 95) as u16);
            movie.rating = Some(4.0 + (next() % 51) as f64 / 10.0);
            movie.votes = Some(next() % 2_000_000);
            movie.runtime_min = Some(75 + (next() % 110) as u16);
            movie.director = Some(format!("Director {}", next() % 400));
            movie.stars = vec![format!("Star {}", next() % 3000)];
            movie
        })
        .collect();
    Catalog::from_movies("synthetic", movies).expect("films")
}

fn bench(c: &mut Criterion) {
    let catalog = synthetic_catalog(5000);
    let mood = EmotionDistribution::parse("sad=0.6,fear=0.25,neutral=0.15").expect("mood");
    let plain = Request::new(mood);
    c.bench_function("recommend 10 of 5000, auto, no filters", |b| {
        b.iter(|| recommend::recommend(&catalog, std::hint::black_box(&plain)))
    });
    let filtered = Request {
        mode: Mode::Match,
        seed: Some(7),
        filters: Filters {
            min_year: Some(1980),
            min_rating: Some(6.0),
            exclude_genres: vec![Genre::Horror],
            max_runtime: Some(150),
            exclude_titles: vec!["Film 1".into(), "Film 2 (1999)".into()],
            ..Filters::default()
        },
        ..Request::new(mood)
    };
    c.bench_function("recommend 10 of 5000, match, five filters, seed", |b| {
        b.iter(|| recommend::recommend(&catalog, std::hint::black_box(&filtered)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
