//! The figures of `docs/recommending.md` ("Measurements on real catalogs"): for the built-in
//! catalog and, when `../shared/data/movies/` is present, the Kaggle IMDB Top 1000 and TMDB 5000
//! files, the top five of each lifting list, the distinct films in the 14 match/lift top-10s,
//! the single-genre share of their slots, and the lifting picks judged feel-good, mixed or bleak
//! by `tests/data/judgements.csv`.
//!
//! Run: `cargo run --release -p recommend --example catalog_report` (add `-- --lists` to print
//! the 14 lists and the films found in three or more of them, `-- --picks` to print all 20
//! picks of each lifting list with their tone and judgement).

use std::collections::{BTreeSet, HashMap};

use catalog::{Catalog, ToneTag, title_key};
use mood::{Emotion, EmotionDistribution};
use recommend::{AffinityTable, Mode, Recommender, Request, Settings};

const JUDGEMENTS: &str = include_str!("../tests/data/judgements.csv");

fn main() -> anyhow::Result<()> {
    let mut judgements: HashMap<(String, u16), String> = HashMap::new();
    for line in JUDGEMENTS
        .lines()
        .filter(|line| !line.starts_with('#'))
        .skip(1)
    {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes());
        if let Some(record) = reader.records().next() {
            let record = record?;
            judgements.insert(
                (title_key(&record[0]), record[1].parse()?),
                record[2].to_owned(),
            );
        }
    }
    let mut catalogs = vec![("built-in".to_owned(), Catalog::builtin().clone())];
    for (name, file) in [
        ("IMDB", "imdb_top_1000.csv"),
        ("TMDB", "tmdb_5000_movies.csv"),
    ] {
        if let Some(path) = devdata::shared_file(&format!("movies/{file}")) {
            catalogs.push((name.to_owned(), Catalog::from_path(&path)?));
        }
    }
    let show_lists = std::env::args().any(|arg| arg == "--lists");
    let show_picks = std::env::args().any(|arg| arg == "--picks");
    // Tuning experiments: MOODREEL_TUNE="quality,popularity,specificity,diversity[,tone_share[,other_genres_share]]".
    let mut settings = Settings::default();
    if let Ok(tune) = std::env::var("MOODREEL_TUNE") {
        let values: Vec<f64> = tune.split(',').filter_map(|v| v.parse().ok()).collect();
        if let [quality, popularity, specificity, diversity, ..] = values[..] {
            settings.quality_weight = quality;
            settings.popularity_weight = popularity;
            settings.fit_weight = 1.0 - quality - popularity;
            settings.specificity = specificity;
            settings.diversity = diversity;
        }
        if let Some(tone_share) = values.get(4) {
            settings.tone_share = *tone_share;
        }
        if let Some(share) = values.get(5) {
            settings.other_genres_share = *share;
        }
    }
    let recommender = Recommender::new(AffinityTable::builtin(), settings);
    for (name, catalog) in &catalogs {
        let mut seen_in: HashMap<String, usize> = HashMap::new();
        let feel_good_films = catalog
            .movies()
            .iter()
            .filter(|m| m.tone.as_ref().is_some_and(|t| t.has(ToneTag::FeelGood)))
            .count();
        println!(
            "== {name} ({} films, vote floor {}, {feel_good_films} tagged feel-good)",
            catalog.len(),
            catalog.vote_floor()
        );
        let mut distinct = BTreeSet::new();
        let (mut slots, mut single) = (0, 0);
        for mode in [Mode::Match, Mode::Lift] {
            for emotion in Emotion::ALL {
                let request = Request {
                    mode,
                    ..Request::new(EmotionDistribution::certain(emotion))
                };
                let movies = recommender.recommend(catalog, &request)?.movies;
                if show_lists {
                    let titles: Vec<&str> = movies.iter().map(|m| m.title.as_str()).collect();
                    println!("  {mode} {emotion}: {}", titles.join("; "));
                }
                for movie in movies {
                    *seen_in.entry(movie.title.clone()).or_default() += 1;
                    slots += 1;
                    single += usize::from(movie.genres.len() == 1);
                    distinct.insert((movie.title, movie.year));
                }
            }
        }
        if show_lists {
            let mut repeated: Vec<(&String, &usize)> =
                seen_in.iter().filter(|(_, count)| **count >= 3).collect();
            repeated.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            println!("  in 3+ lists: {repeated:?}");
        }
        let catalog_single = catalog
            .movies()
            .iter()
            .filter(|m| m.genres.len() == 1)
            .count();
        println!(
            "distinct films in the 14 match/lift top-10s: {} of {slots} slots; single-genre \
             films: {:.0}% of slots, {:.0}% of the catalog",
            distinct.len(),
            100.0 * single as f64 / slots as f64,
            100.0 * catalog_single as f64 / catalog.len() as f64
        );
        let (mut picks, mut feel_good, mut mixed, mut bleak, mut tagged) = (0, 0, 0, 0, 0);
        for emotion in [
            Emotion::Sad,
            Emotion::Angry,
            Emotion::Fear,
            Emotion::Disgust,
        ] {
            let request = Request {
                mode: Mode::Lift,
                n: 20,
                ..Request::new(EmotionDistribution::certain(emotion))
            };
            let list = recommender.recommend(catalog, &request)?;
            let top: Vec<String> = list
                .movies
                .iter()
                .take(5)
                .map(|m| format!("{} ({})", m.title, m.year.unwrap_or_default()))
                .collect();
            println!("  lift {emotion:<8} {}", top.join("; "));
            if show_picks {
                for (rank, movie) in list.movies.iter().enumerate() {
                    let source = catalog
                        .movies()
                        .iter()
                        .find(|m| m.title == movie.title && m.year == movie.year);
                    let judged = movie
                        .year
                        .and_then(|year| judgements.get(&(title_key(&movie.title), year)));
                    let tags: Vec<&str> = movie.tone.tags.iter().map(|tag| tag.name()).collect();
                    let genres: Vec<&str> = movie.genres.iter().map(|g| g.name()).collect();
                    println!(
                        "    {:>2}. {} ({}) [{}] {:.1}/{} v{:+.2} d{:.2} a{:.2} {{{}}} {:?} score {:.3} judged {}",
                        rank + 1,
                        movie.title,
                        movie.year.unwrap_or_default(),
                        genres.join(","),
                        movie.rating.unwrap_or_default(),
                        source.and_then(|m| m.votes).unwrap_or_default(),
                        movie.tone.valence,
                        movie.tone.darkness,
                        movie.tone.arousal,
                        tags.join(","),
                        source.and_then(|m| m.tone.as_ref()).map(|t| t.source),
                        movie.score,
                        judged.map_or("-", String::as_str),
                    );
                }
            }
            for movie in &list.movies {
                picks += 1;
                let judged = movie
                    .year
                    .and_then(|year| judgements.get(&(title_key(&movie.title), year)));
                feel_good += usize::from(judged.is_some_and(|j| j == "feel-good"));
                mixed += usize::from(judged.is_some_and(|j| j == "mixed"));
                bleak += usize::from(judged.is_some_and(|j| j == "bleak"));
                tagged += usize::from(movie.tone.tags.contains(&ToneTag::FeelGood));
            }
        }
        let judged = feel_good + mixed + bleak;
        println!(
            "  lifting picks (sad, angry, fear, disgust; 20 each): {picks}; in the judgement \
             list {judged}: judged feel-good {feel_good} ({:.0}% of all picks, {:.0}% of the \
             judged ones), mixed {mixed}, bleak {bleak}; tagged feel-good {tagged} ({:.0}%)",
            100.0 * feel_good as f64 / picks as f64,
            100.0 * feel_good as f64 / judged.max(1) as f64,
            100.0 * tagged as f64 / picks as f64
        );
    }
    Ok(())
}
