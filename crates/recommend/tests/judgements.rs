//! The lifting lists against the project's own development judgements of well-known films
//! (`tests/data/judgements.csv`, written by hand: feel-good or bleak). A film judged bleak must
//! never be offered to lift a mood; the share of feel-good films among the picks is reported.
//! The judgements are a check, not a target: nothing in the recommender reads them.

mod support;

use std::collections::HashMap;

use catalog::{ToneTag, title_key};
use mood::EmotionDistribution;
use recommend::{Mode, Request};
use support::{LIFTED, catalogs, source};

const JUDGEMENTS: &str = include_str!("data/judgements.csv");

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
    assert!(judgements.len() >= 60, "{} judgements", judgements.len());
    assert!(
        judgements
            .values()
            .all(|label| label == "feel-good" || label == "bleak")
    );
}

#[test]
fn lifting_lists_hold_no_film_judged_bleak() {
    let judgements = judgements();
    for (name, catalog) in catalogs() {
        let (mut picks, mut judged_feel_good, mut tagged_feel_good, mut judged) = (0, 0, 0, 0);
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
                if judgement.is_some() {
                    judged += 1;
                }
                assert_ne!(
                    judgement.map(String::as_str),
                    Some("bleak"),
                    "{name} lift {emotion}: {} is judged bleak",
                    movie.title
                );
                judged_feel_good += usize::from(judgement.is_some_and(|j| j == "feel-good"));
                let tone = source(&catalog, movie).tone.as_ref().expect("a tone");
                tagged_feel_good += usize::from(tone.has(ToneTag::FeelGood));
            }
        }
        eprintln!(
            "{name}: of {picks} lifting picks, {judged} are in the judgement list and \
             {judged_feel_good} are judged feel-good ({:.0}% of all picks); {tagged_feel_good} \
             ({:.0}%) carry the feel-good tag",
            100.0 * judged_feel_good as f64 / picks as f64,
            100.0 * tagged_feel_good as f64 / picks as f64
        );
        assert_eq!(picks, 80);
    }
}
