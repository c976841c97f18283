//! `moodreel recommend`, run as a user would run it.

use std::path::PathBuf;

mod cli_support;

use predicates::prelude::*;
use serde_json::Value;

use cli_support::{moodreel, testdata};

fn json_of(args: &[&str]) -> Value {
    let output = moodreel().args(args).arg("--json").output().expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON document on stdout")
}

const TINY_CATALOG: &str = "\
title,year,genres,runtime_min,certificate,director,stars,rating
Laughs,2001,Comedy,95,PG,Ann Director,Al Actor|Bo Actor,7.5
Tears,1999,Drama|Romance,130,R,Bea Director,Cy Actor,8.4
Screams,1980,Horror,88,R,Cal Director,Di Actor,7.1
Songs,1964,Musical|Comedy,120,G,Dee Director,Ed Actor|Flo Actor,7.9
Quest,2010,Adventure|Family,101,PG,Eve Director,Gil Actor,7.3
";

fn tiny_catalog() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("tiny.csv");
    std::fs::write(&path, TINY_CATALOG).expect("written");
    (dir, path)
}

#[test]
fn a_named_mood_gives_a_readable_list() {
    moodreel()
        .args(["recommend", "--mood", "sad"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Mood: sad 100% · mode: auto"))
        .stdout(predicate::str::contains(" 1. "))
        .stdout(predicate::str::contains("10. "))
        .stdout(predicate::str::contains("— a lift after a sad day."));
}

#[test]
fn the_family_switch_and_an_age_limit_filter_on_the_age_band() {
    let json = json_of(&["recommend", "--mood", "happy", "--family", "-n", "10"]);
    let movies = json["movies"].as_array().expect("movies");
    assert_eq!(movies.len(), 10);
    for movie in movies {
        assert!(
            movie["min_age"].as_u64().is_some_and(|age| age <= 8),
            "{movie}"
        );
    }
    // The built-in catalog's pre-1968 films (`Passed`, `Approved`) have no known band.
    let notes = json["notes"]
        .as_array()
        .expect("notes on what was left out");
    assert!(
        notes[0]
            .as_str()
            .is_some_and(|note| note.contains("age band is unknown")),
        "{notes:?}"
    );
    let json = json_of(&["recommend", "--mood", "fear", "--max-age", "13", "-n", "5"]);
    for movie in json["movies"].as_array().expect("movies") {
        assert!(
            movie["min_age"].as_u64().is_some_and(|age| age <= 13),
            "{movie}"
        );
    }
}

#[test]
fn json_has_the_documented_shape() {
    let json = json_of(&[
        "recommend",
        "--mood",
        "angry=0.1,sad=0.7,neutral=0.2",
        "-n",
        "4",
    ]);
    let mood = json["mood"].as_object().expect("mood object");
    for key in [
        "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "emotion",
    ] {
        assert!(mood.contains_key(key), "mood lacks {key}");
    }
    assert_eq!(json["mood"]["emotion"], "sad");
    assert_eq!(json["mode"], "auto");
    let movies = json["movies"].as_array().expect("movies");
    assert_eq!(movies.len(), 4);
    for movie in movies {
        let mut keys: Vec<&str> = movie
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "certificate",
                "director",
                "genres",
                "min_age",
                "rating",
                "reasons",
                "runtime_min",
                "score",
                "stars",
                "synopsis",
                "title",
                "tone",
                "year"
            ]
        );
        assert!(!movie["reasons"].as_array().expect("reasons").is_empty());
    }
}

#[test]
fn happy_comedies_since_2000_rated_8_or_more() {
    let json = json_of(&[
        "recommend",
        "--mood",
        "happy",
        "--min-year",
        "2000",
        "--min-rating",
        "8",
        "--genre",
        "Comedy",
    ]);
    let movies = json["movies"].as_array().expect("movies");
    assert!(!movies.is_empty());
    for movie in movies {
        assert!(movie["year"].as_u64().expect("year") >= 2000, "{movie}");
        assert!(movie["rating"].as_f64().expect("rating") >= 8.0, "{movie}");
        assert!(
            movie["genres"]
                .as_array()
                .expect("genres")
                .contains(&Value::from("Comedy")),
            "{movie}"
        );
    }
}

#[test]
fn every_filter_is_accepted_and_respected() {
    let json = json_of(&[
        "recommend",
        "--mood",
        "fear",
        "--mode",
        "match",
        "-n",
        "20",
        "--max-year",
        "2010",
        "--exclude-genre",
        "horror",
        "--max-runtime",
        "130",
        "--certificate",
        "r",
        "--certificate",
        "PG-13",
        "--exclude-title",
        "Psycho",
        "--genre",
        "Thriller",
        "--genre",
        "Mystery",
    ]);
    for movie in json["movies"].as_array().expect("movies") {
        let genres = movie["genres"].as_array().expect("genres");
        assert!(movie["year"].as_u64().expect("year") <= 2010);
        assert!(!genres.contains(&Value::from("Horror")));
        assert!(
            genres.contains(&Value::from("Thriller")) || genres.contains(&Value::from("Mystery"))
        );
        assert!(movie["runtime_min"].as_u64().expect("runtime") <= 130);
        assert!(["R", "PG-13"].contains(&movie["certificate"].as_str().expect("certificate")));
        assert_ne!(movie["title"], "Psycho");
    }
}

#[test]
fn the_same_command_gives_the_same_list() {
    let args = [
        "recommend",
        "--mood",
        "surprise=0.5,happy=0.5",
        "--seed",
        "3",
    ];
    let first = moodreel().args(args).output().expect("runs");
    let second = moodreel().args(args).output().expect("runs");
    assert!(first.status.success());
    assert_eq!(first.stdout, second.stdout);
}

#[test]
fn match_and_lift_differ_for_sadness() {
    let titles = |mode: &str| -> Vec<String> {
        json_of(&["recommend", "--mood", "sad", "--mode", mode])["movies"]
            .as_array()
            .expect("movies")
            .iter()
            .map(|movie| movie["title"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let matched = titles("match");
    let lifted = titles("lift");
    let shared = matched
        .iter()
        .filter(|title| lifted.contains(title))
        .count();
    assert!(shared <= 3, "{shared} films in common");
}

#[test]
fn a_filter_that_empties_the_list_is_named() {
    moodreel()
        .args([
            "recommend",
            "--mood",
            "sad",
            "--min-year",
            "1990",
            "--max-year",
            "1980",
        ])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "`year ≤ 1980` (max_year) removed the last",
        ));
}

#[test]
fn usage_errors_exit_with_2() {
    moodreel()
        .args(["recommend", "--mood", "joy"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "expected one of angry, disgust, fear, happy, sad, surprise, neutral",
        ));
    moodreel().args(["recommend"]).assert().code(2);
    moodreel()
        .args(["recommend", "--mood", "sad", "--mode", "cheer"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("match, lift or auto"));
    moodreel()
        .args(["recommend", "--mood", "sad", "-n", "0"])
        .assert()
        .code(2);
    moodreel()
        .args(["recommend", "--mood", "sad", "--genre", "Cooking"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown genre \"Cooking\""));
    moodreel()
        .args(["recommend", "--mood", "sad", "--min-rating", "11"])
        .assert()
        .code(2);
}

#[test]
fn a_photo_without_a_face_exits_3_and_suggests_a_mood() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let photo = dir.path().join("wall.png");
    let wall = image::RgbImage::from_fn(200, 150, |x, y| {
        image::Rgb([(x + y) as u8, 120, (2 * y) as u8])
    });
    wall.save(&photo).expect("written");
    moodreel()
        .arg("recommend")
        .arg(&photo)
        .assert()
        .code(3)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("no face found"))
        .stderr(predicate::str::contains("wall.png"))
        .stderr(predicate::str::contains("--mood"));
    moodreel()
        .args(["recommend", "no/such/face.jpg"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/face.jpg"));
    let text = dir.path().join("notes.jpg");
    std::fs::write(&text, "not a picture").expect("written");
    moodreel()
        .arg("recommend")
        .arg(&text)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unsupported image format"));
}

#[test]
fn a_photo_and_a_mood_are_exclusive() {
    moodreel()
        .args(["recommend", "face.jpg", "--mood", "sad"])
        .assert()
        .code(2);
}

#[test]
fn films_for_the_mood_read_from_a_photo() {
    let photo = testdata("astronaut.png");
    let photo = photo.to_str().expect("a UTF-8 path");
    let json = json_of(&["recommend", photo, "-n", "5"]);
    let faces = json["faces"].as_array().expect("the faces found");
    assert_eq!(faces.len(), 1);
    let face = &faces[0];
    assert_eq!(face["probabilities"].as_object().map(|p| p.len()), Some(7));
    for key in ["x", "y", "w", "h"] {
        assert!(face["box"][key].is_number(), "box.{key}");
    }
    // One face: the group mood is that face's reading.
    assert_eq!(json["mood"]["emotion"], face["emotion"]);
    for (emotion, probability) in face["probabilities"].as_object().expect("object") {
        let group = json["mood"][emotion].as_f64().expect("a probability");
        assert!((group - probability.as_f64().expect("a number")).abs() < 1e-3);
    }
    assert_eq!(json["file"], photo);
    assert_eq!(json["movies"].as_array().map(Vec::len), Some(5));

    // The same mood given by hand gives the same films.
    let mood = json["mood"].as_object().expect("mood");
    let weights: Vec<String> = mood
        .iter()
        .filter_map(|(emotion, p)| p.as_f64().map(|p| format!("{emotion}={p}")))
        .collect();
    let by_hand = json_of(&["recommend", "--mood", &weights.join(","), "-n", "5"]);
    let titles = |list: &Value| -> Vec<Value> {
        list["movies"]
            .as_array()
            .expect("movies")
            .iter()
            .map(|movie| movie["title"].clone())
            .collect()
    };
    assert_eq!(titles(&json), titles(&by_hand));
    assert!(by_hand.get("faces").is_none());

    moodreel()
        .args(["recommend", photo, "-n", "3"])
        .assert()
        .success()
        .stdout(predicate::str::contains("astronaut.png: 1 face"))
        .stdout(predicate::str::contains("face 1 at"))
        .stdout(predicate::str::contains("\n3. "));
}

#[test]
fn a_catalog_file_is_used_by_option_and_by_environment() {
    let (_dir, path) = tiny_catalog();
    let by_option = json_of(&[
        "recommend",
        "--mood",
        "sad",
        "--mode",
        "match",
        "-n",
        "1",
        "--catalog",
        path.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(by_option["movies"][0]["title"], "Tears");
    let output = moodreel()
        .env("MOODREEL_CATALOG", &path)
        .args(["recommend", "--mood", "sad", "-n", "1", "--json"])
        .output()
        .expect("runs");
    let by_env: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    // A film of the file, not of the built-in catalog (lifting sadness: the comedy or the
    // musical romance, neither of which the file's text tags feel-good).
    let title = by_env["movies"][0]["title"].as_str().expect("a title");
    assert!(["Laughs", "Songs"].contains(&title), "{title}");
}

#[test]
fn a_broken_catalog_file_is_a_located_failure() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("broken.csv");
    std::fs::write(
        &path,
        format!("{TINY_CATALOG}Bad,2000,Drama,90,R,X,Y,ten\n"),
    )
    .expect("written");
    moodreel()
        .args(["recommend", "--mood", "sad", "--catalog"])
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("broken.csv:7: rating: \"ten\""));
    moodreel()
        .args([
            "recommend",
            "--mood",
            "sad",
            "--catalog",
            "no/such/file.csv",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot read no/such/file.csv"));
}

#[test]
fn json_snapshot_on_a_tiny_catalog() {
    let (_dir, path) = tiny_catalog();
    let json = json_of(&[
        "recommend",
        "--mood",
        "sad=0.6,fear=0.4",
        "-n",
        "3",
        "--catalog",
        path.to_str().expect("utf-8 path"),
    ]);
    insta::assert_json_snapshot!(json);
}

#[test]
fn the_kaggle_imdb_file_can_be_the_catalog() {
    let Some(path) = devdata::shared_file("movies/imdb_top_1000.csv") else {
        return;
    };
    let json = json_of(&[
        "recommend",
        "--mood",
        "fear",
        "--certificate",
        "u",
        "--catalog",
        path.to_str().expect("utf-8 path"),
    ]);
    let movies = json["movies"].as_array().expect("movies");
    assert_eq!(movies.len(), 10);
    assert!(movies.iter().all(|movie| movie["certificate"] == "U"));
    // Indian `U` is the youngest age band.
    assert!(movies.iter().all(|movie| movie["min_age"] == 0));
    // The overview gives every film a synopsis, and a reason in tone words.
    assert!(movies.iter().all(|movie| movie["synopsis"].is_string()));
    assert!(movies.iter().all(|movie| {
        movie["reasons"][0].as_str().is_some_and(|reason| {
            reason.ends_with("a reassuring watch where things turn out well.")
        })
    }));
}
