//! `moodreel analyze` and `moodreel eval-photos` as a user runs them: exit codes, the JSON
//! shapes the README documents, the annotated picture. Photos without faces are made here, the
//! face photo is committed in `testdata/`; tests on the development photos of `../shared/data`
//! skip with a note when it is absent.

use std::path::Path;

mod cli_support;

use image::{DynamicImage, Rgb, RgbImage};
use predicates::str::contains;
use serde_json::Value;

use cli_support::{moodreel, shared_data, testdata};

/// A smooth gradient: a picture with nothing like a face in it.
fn write_faceless(path: &Path) {
    let picture = RgbImage::from_fn(160, 120, |x, y| Rgb([x as u8, y as u8, 90]));
    DynamicImage::ImageRgb8(picture)
        .save(path)
        .expect("writing a test picture");
}

fn json(output: &[u8]) -> Value {
    serde_json::from_slice(output).expect("stdout is one JSON document")
}

#[test]
fn photo_without_a_face_exits_3_with_empty_faces() {
    let dir = tempfile::tempdir().expect("temp dir");
    let photo = dir.path().join("gradient.png");
    write_faceless(&photo);
    let output = moodreel()
        .args(["analyze", "--json"])
        .arg(&photo)
        .assert()
        .code(3)
        .stderr(contains("no face found"))
        .get_output()
        .stdout
        .clone();
    let document = json(&output);
    assert_eq!(document["faces"], Value::Array(vec![]));
    assert_eq!(document["mood"], Value::Null);
    assert_eq!(
        (document["width"].as_u64(), document["height"].as_u64()),
        (Some(160), Some(120))
    );
}

#[test]
fn unreadable_photos_exit_1_and_say_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = dir.path().join("notes.jpg");
    std::fs::write(&text, "not a picture").expect("writing");
    moodreel()
        .arg("analyze")
        .arg(&text)
        .assert()
        .code(1)
        .stderr(contains("unsupported image format"));
    // A JPEG cut short: the decoder would fill the missing rows with grey, the CLI refuses it.
    let cut = dir.path().join("cut.jpg");
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(RgbImage::from_fn(160, 120, |x, y| {
        Rgb([x as u8, y as u8, 90])
    }))
    .write_to(
        &mut std::io::Cursor::new(&mut jpeg),
        image::ImageFormat::Jpeg,
    )
    .expect("encoding a test JPEG");
    std::fs::write(&cut, &jpeg[..jpeg.len() / 2]).expect("writing");
    moodreel()
        .arg("analyze")
        .arg(&cut)
        .assert()
        .code(1)
        .stderr(contains("truncated"));
    moodreel()
        .args(["analyze", "no/such/photo.jpg"])
        .assert()
        .code(2)
        .stderr(contains("no such file"));
}

#[test]
fn a_folder_is_read_whole_into_a_json_array() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_faceless(&dir.path().join("a.png"));
    write_faceless(&dir.path().join("b.jpg"));
    std::fs::write(dir.path().join("readme.txt"), "not a photo").expect("writing");
    let output = moodreel()
        .args(["analyze", "--json", "--no-tta"])
        .arg(dir.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let documents = json(&output);
    let documents = documents.as_array().expect("an array, one per photo");
    assert_eq!(documents.len(), 2);
    assert!(
        documents[0]["file"]
            .as_str()
            .is_some_and(|file| file.ends_with("a.png"))
    );
    moodreel()
        .args(["analyze", "--annotate", "out.png"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("--annotate"));
}

#[test]
fn astronaut_reads_as_one_face_with_seven_probabilities() {
    let photo = testdata("astronaut.png");
    let dir = tempfile::tempdir().expect("temp dir");
    let annotated = dir.path().join("boxes.png");
    let output = moodreel()
        .args(["analyze", "--json", "--annotate"])
        .arg(&annotated)
        .arg(&photo)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let document = json(&output);
    let faces = document["faces"].as_array().expect("faces");
    assert_eq!(faces.len(), 1);
    let face = &faces[0];
    for key in ["x", "y", "w", "h"] {
        assert!(face["box"][key].is_number(), "box.{key}");
    }
    let probabilities = face["probabilities"].as_object().expect("probabilities");
    assert_eq!(probabilities.len(), 7);
    let total: f64 = probabilities.values().filter_map(Value::as_f64).sum();
    assert!((total - 1.0).abs() < 1e-3, "probabilities sum to {total}");
    assert!(face["uncertain"].is_boolean() && face["score"].is_number());
    assert_eq!(document["mood"]["emotion"], face["emotion"]);
    let picture = image::open(&annotated).expect("an annotated PNG");
    assert_eq!((picture.width(), picture.height()), (512, 512));
}

#[test]
fn eval_photos_counts_recall_false_positives_and_accuracy() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_faceless(&dir.path().join("empty.png"));
    write_faceless(&dir.path().join("smile.png"));
    std::fs::write(
        dir.path().join("labels.csv"),
        "file,label\nempty.png,no_face\nsmile.png,happy\n",
    )
    .expect("writing");
    let output = moodreel()
        .args(["eval-photos", "--json"])
        .arg(dir.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json(&output);
    assert_eq!(report["images"], 2);
    assert_eq!(report["faces_expected"], 1);
    assert_eq!(report["faces_found"], 0);
    assert_eq!(report["recall"], 0.0);
    assert_eq!(report["false_positives"], 0);
    assert_eq!(report["accuracy"], 0.0);
    assert_eq!(report["per_image"][1]["correct"], false);

    std::fs::write(
        dir.path().join("labels.csv"),
        "file,label\nempty.png,contempt\n",
    )
    .expect("writing");
    moodreel()
        .arg("eval-photos")
        .arg(dir.path())
        .assert()
        .code(1)
        .stderr(contains("labels.csv:2: label"));
}

#[test]
fn eval_photos_finds_no_face_in_the_no_face_photos() {
    let Some(data) = shared_data("eval-photos no_face") else {
        return;
    };
    let output = moodreel()
        .args(["eval-photos", "--json", "--no-tta"])
        .arg(data.join("photos/no_face"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json(&output);
    assert_eq!(report["images"], 18);
    assert_eq!(report["false_positives"], 0);
}
