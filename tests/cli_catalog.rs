//! `moodreel catalog stats` and `moodreel catalog check`, run as a user would run them.

use std::path::PathBuf;

mod cli_support;

use cli_support::moodreel;
use predicates::prelude::*;
use serde_json::Value;

fn stats_json(extra: &[&str]) -> Value {
    let output = moodreel()
        .args(["catalog", "stats", "--json"])
        .args(extra)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON document on stdout")
}

fn shared_movie_file(name: &str) -> Option<String> {
    devdata::shared_file(&format!("movies/{name}"))
        .and_then(|path| path.to_str().map(str::to_owned))
}

const HEADER: &str = "title,year,genres,runtime_min,certificate,director,stars,rating";

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("written");
    path
}

#[test]
fn stats_of_the_builtin_catalog() {
    let json = stats_json(&[]);
    assert!(json["movies"].as_u64().expect("movies") >= 500);
    assert_eq!(json["source"], "built-in");
    assert!(json["genres"]["Comedy"].as_u64().expect("comedies") > 50);
    let years = json["years"].as_array().expect("years");
    assert!(years[0].as_u64() < Some(1940) && years[1].as_u64() > Some(2015));
    assert_eq!(json["warnings"], Value::Array(Vec::new()));
    moodreel()
        .args(["catalog", "stats"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "source:   built-in (moodreel CSV)",
        ))
        .stdout(predicate::str::contains("Drama"));
}

#[test]
fn stats_of_the_kaggle_imdb_file_count_1000() {
    let Some(path) = shared_movie_file("imdb_top_1000.csv") else {
        return;
    };
    let json = stats_json(&["--catalog", &path]);
    assert_eq!(json["movies"], 1000);
    assert_eq!(json["format"], "imdb-top-1000");
    let warnings = json["warnings"].as_array().expect("warnings");
    assert!(warnings.iter().any(|w| {
        w.as_str()
            .unwrap_or_default()
            .contains("\"PG\" is not a year")
    }));
}

#[test]
fn stats_of_the_kaggle_tmdb_file_count_at_least_4700() {
    let Some(path) = shared_movie_file("tmdb_5000_movies.csv") else {
        return;
    };
    let json = stats_json(&["--catalog", &path]);
    assert!(
        json["movies"].as_u64().expect("movies") >= 4700,
        "{}",
        json["movies"]
    );
    assert_eq!(json["format"], "tmdb-5000");
    assert!(
        json["genres"]["Sci-Fi"]
            .as_u64()
            .expect("Science Fiction is Sci-Fi")
            > 400
    );
    assert!(json["genres"].get("Science Fiction").is_none());
}

#[test]
fn check_passes_a_good_file() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = write(
        &dir,
        "good.csv",
        &format!("{HEADER}\nA,2000,Drama,90,R,X,Y,7.0\n"),
    );
    moodreel()
        .args(["catalog", "check"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "1 films, 0 skipped, 0 warnings, 0 bad rows",
        ));
}

#[test]
fn check_names_the_broken_sixth_line() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let good = |title: &str| format!("{title},2000,Drama,90,R,X,Y,7.0\n");
    let text = format!(
        "{HEADER}\n{}{}{}{}B,2000,Drama,ninety,R,X,Y,7.0\n{}",
        good("A"),
        good("C"),
        good("D"),
        good("E"),
        good("F")
    );
    let path = write(&dir, "films.csv", &text);
    let location = format!("{}:6:", path.display());
    moodreel()
        .args(["catalog", "check"])
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "{location} runtime_min: \"ninety\""
        )))
        .stderr(predicate::str::contains(location.clone()));
    let output = moodreel()
        .args(["catalog", "check", "--json"])
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["errors"][0]["line"], 6);
    assert_eq!(json["errors"][0]["column"], "runtime_min");
    assert_eq!(json["movies"], 5);
}

#[test]
fn check_numbers_crlf_lines_right_and_caps_repeated_warnings() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut text = format!("{HEADER}\r\n");
    for index in 0..6 {
        text.push_str(&format!("A{index},2000,Drama,90,R,X,Y,7.0\r\n"));
    }
    text.push_str("B,2000,Drama,ninety,R,X,Y,7.0\r\n");
    let path = write(&dir, "crlf.csv", &text);
    moodreel()
        .args(["catalog", "check"])
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "{}:8: runtime_min: \"ninety\"",
            path.display()
        )));
    // Twelve rows merged into six: five warnings shown, one counted.
    let mut text = format!("{HEADER}\n");
    for index in 0..6 {
        let row = format!("A{index},2000,Drama,90,R,X,Y,7.0\n");
        text.push_str(&row);
        text.push_str(&row);
    }
    let path = write(&dir, "dupes.csv", &text);
    moodreel()
        .args(["catalog", "check"])
        .arg(&path)
        .assert()
        .success()
        // Five warnings and the line that counts the sixth.
        .stdout(predicate::str::contains("merged into one film").count(6))
        .stdout(predicate::str::contains("... and 1 more warnings like"));
}

#[test]
fn check_refuses_unreadable_and_unknown_files() {
    moodreel()
        .args(["catalog", "check", "no/such/file.csv"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot read no/such/file.csv"));
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = write(&dir, "other.csv", "name,colour\nx,red\n");
    moodreel()
        .args(["catalog", "check"])
        .arg(&path)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("matches no known catalog layout"));
    let path = write(&dir, "binary.csv", "\u{0}\u{1}\u{2}garbage\n\u{3}");
    moodreel()
        .args(["catalog", "check"])
        .arg(&path)
        .assert()
        .code(1);
    moodreel().args(["catalog"]).assert().code(2);
}

#[test]
fn check_passes_the_real_kaggle_files_with_warnings_only() {
    for name in ["imdb_top_1000.csv", "tmdb_5000_movies.csv"] {
        let Some(path) = shared_movie_file(name) else {
            continue;
        };
        moodreel()
            .args(["catalog", "check", &path])
            .assert()
            .success()
            .stdout(predicate::str::contains("0 bad rows"));
    }
}

#[test]
fn stats_json_snapshot_on_a_tiny_catalog() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = write(
        &dir,
        "tiny.csv",
        &format!(
            "{HEADER}\nA,1999,Drama|Romance,90,R,X,Y,7.0\nB,2004,Comedy,,,,,8.0\nC,2004,Drama,100,PG,Z,,\n"
        ),
    );
    let mut json = stats_json(&["--catalog", path.to_str().expect("utf-8 path")]);
    json["source"] = Value::from("[tiny.csv]");
    insta::assert_json_snapshot!(json);
}
