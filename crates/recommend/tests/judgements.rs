//! The lifting lists against the project's own development judgements of well-known films
//! (`tests/data/judgements.csv`, written by hand: `feel-good`, `mixed` or `bleak`). A film judged
//! bleak must never be offered to lift a mood; the share of films judged feel-good among the
//! picks is reported, both of all picks and of the picks the list judges, and held to a floor.
//! The judgements are a check, not a target: nothing in the recommender reads them.

mod support;

use std::collections::HashMap;

use catalog::{ToneTag, title_key};
use mood::EmotionDistribution;
use recommend::{Mode, Request};
use support::{LIFTED, catalogs, source};

const JUDGEMENTS: &str = include_str!("data/judgements.csv");

/// The labels a judgement may carry.
const LABELS: [&str; 3] = ["feel-good", "mixed", "bleak"];

fn judgements() -> HashMap<(String, u16), String> {
    let text: String = JUDGEMENTS
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .map(|record| {
            let record = record.expect("a valid judgement row");
            let year = record[1].parse().expect("a year");
            ((title_key(&record[0]), year), record[2].to_owned())
        })
        .collect()
}

#[test]
fn the_judgements_are_well_formed() {
    let judgements = judgements();
    let count = |label: &str| judgements.values().filter(|l| *l == label).count();
    assert!(judgements.len() >= 150, "{} judgements", judgements.len());
    assert!(
        judgements
            .values()
            .all(|label| LABELS.contains(&label.as_str()))
    );
    for label in LABELS {
        assert!(count(label) >= 40, "{} films judged {label}", count(label));
    }
}

/// The least share of lifting picks judged feel-good, of all picks, per catalog: half on the
/// built-in and IMDB catalogs, a third on TMDB (the bar).
fn floor(name: &str) -> f64 {
    if name == "TMDB" { 1.0 / 3.0 } else { 0.5 }
}

#[test]
fn lifting_lists_hold_no_film_judged_bleak_and_enough_judged_feel_good() {
    let judgements = judgements();
    for (name, catalog) in catalogs() {
        let mut picks = 0;
        let mut judged: HashMap<&str, usize> = HashMap::new();
        let mut tagged_feel_good = 0;
        for emotion in LIFTED {
            let request = Request {
                mode: Mode::Lift,
                n: 20,
                ..Request::new(EmotionDistribution::certain(emotion))
            };
            let list = recommend::recommend(&catalog, &request).expect("a list");
            let top: Vec<String> = list
                .movies
                .iter()
                .take(5)
                .map(|m| m.title.clone())
                .collect();
            eprintln!("{name} lift {emotion}: {}", top.join("; "));
            for movie in &list.movies {
                picks += 1;
                let judgement = movie
                    .year
                    .and_then(|year| judgements.get(&(title_key(&movie.title), year)));
                assert_ne!(
                    judgement.map(String::as_str),
                    Some("bleak"),
                    "{name} lift {emotion}: {} is judged bleak",
                    movie.title
                );
                if let Some(label) = judgement {
                    *judged.entry(label.as_str()).or_default() += 1;
                }
                let tone = source(&catalog, movie).tone.as_ref().expect("a tone");
                tagged_feel_good += usize::from(tone.has(ToneTag::FeelGood));
            }
        }
        let count = |label: &str| judged.get(label).copied().unwrap_or(0);
        let in_list: usize = judged.values().sum();
        let share = |part: usize, whole: usize| 100.0 * part as f64 / whole.max(1) as f64;
        eprintln!(
            "{name}: of {picks} lifting picks, {in_list} are in the judgement list: {} judged \
             feel-good ({:.0}% of all picks, {:.0}% of the judged ones), {} mixed, {} bleak; \
             {tagged_feel_good} ({:.0}%) carry the feel-good tag",
            count("feel-good"),
            share(count("feel-good"), picks),
            share(count("feel-good"), in_list),
            count("mixed"),
            count("bleak"),
            share(tagged_feel_good, picks)
        );
        assert_eq!(picks, 80);
        assert!(
            count("feel-good") as f64 >= floor(name) * picks as f64,
            "{name}: only {} of {picks} lifting picks are judged feel-good",
            count("feel-good")
        );
    }
}
