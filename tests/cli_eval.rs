//! `moodreel eval` through the command line: the same faces give the same accuracy whether
//! they come as the project's CSV (with `row`), the Kaggle CSV (without `row`) or the
//! image-folder layout; JSON has the documented shape; bad input fails cleanly.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use assert_cmd::Command;

const FACES: usize = 300;
const NAMES: [&str; 7] = [
    "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
];

fn fer_csv() -> Option<PathBuf> {
    devdata::shared_file("fer2013/train_publictest.csv.gz")
}

/// The first `FACES` PublicTest rows as (emotion, pixels, row).
fn public_test_rows(path: &Path) -> Vec<(u8, Vec<u8>, String)> {
    let file = std::fs::File::open(path).unwrap();
    let reader = BufReader::new(flate2::read::MultiGzDecoder::new(file));
    reader
        .lines()
        .skip(1)
        .map(Result::unwrap)
        .filter(|line| line.contains(",PublicTest,"))
        .take(FACES)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let pixels = fields[1].split(' ').map(|v| v.parse().unwrap()).collect();
            (fields[0].parse().unwrap(), pixels, fields[3].to_owned())
        })
        .collect()
}

fn eval_json(data: &Path) -> serde_json::Value {
    let output = Command::cargo_bin("moodreel")
        .unwrap()
        .args(["eval", "--split", "PublicTest", "--json", "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn csv_kaggle_csv_and_folders_give_the_same_accuracy() {
    let Some(source) = fer_csv() else { return };
    let rows = public_test_rows(&source);
    let dir = tempfile::tempdir().unwrap();

    let with_row = dir.path().join("with_row.csv");
    let kaggle = dir.path().join("fer2013.csv");
    let text = |row_column: bool| {
        let mut text = String::from(if row_column {
            "emotion,pixels,Usage,row\n"
        } else {
            "emotion,pixels,Usage\n"
        });
        for (emotion, pixels, row) in &rows {
            let pixels: Vec<String> = pixels.iter().map(u8::to_string).collect();
            text.push_str(&format!("{emotion},{},PublicTest", pixels.join(" ")));
            if row_column {
                text.push_str(&format!(",{row}"));
            }
            text.push('\n');
        }
        text
    };
    std::fs::write(&with_row, text(true)).unwrap();
    std::fs::write(&kaggle, text(false)).unwrap();

    let folders = dir.path().join("folders");
    for (index, (emotion, pixels, _)) in rows.iter().enumerate() {
        let class_dir = folders.join("test").join(NAMES[usize::from(*emotion)]);
        std::fs::create_dir_all(&class_dir).unwrap();
        image::GrayImage::from_raw(48, 48, pixels.clone())
            .unwrap()
            .save(class_dir.join(format!("{index:05}.png")))
            .unwrap();
    }

    let reports = [
        eval_json(&with_row),
        eval_json(&kaggle),
        eval_json(&folders),
    ];
    for report in &reports {
        assert_eq!(report["split"], "PublicTest");
        assert_eq!(report["images"], FACES);
        for key in ["accuracy", "macro_f1", "per_class", "confusion"] {
            assert!(report.get(key).is_some(), "{key} missing: {report}");
        }
        assert_eq!(report["per_class"].as_object().unwrap().len(), 7);
    }
    assert_eq!(reports[0]["accuracy"], reports[1]["accuracy"]);
    assert_eq!(reports[0]["accuracy"], reports[2]["accuracy"]);
    // Folder order differs from CSV order; the confusion matrix does not.
    assert_eq!(reports[0]["confusion"], reports[2]["confusion"]);
}

#[test]
fn bad_data_fails_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.csv");
    std::fs::write(&broken, "emotion,pixels,Usage\n3,1 2 3,PublicTest\n").unwrap();
    Command::cargo_bin("moodreel")
        .unwrap()
        .args(["eval", "--data"])
        .arg(&broken)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("broken.csv:2: pixels: 3 values"));

    Command::cargo_bin("moodreel")
        .unwrap()
        .args(["eval", "--split", "Validation", "--data"])
        .arg(&broken)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown split"));
}
