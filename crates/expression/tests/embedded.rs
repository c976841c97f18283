//! The shipped model loads from the binary and classifies real faces: the smiling astronaut of
//! `testdata/` (found and cropped by `vision`, as a photo is in the product) in every clone, and
//! a FER-2013 face when the development data is present.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use expression::{ExpressionModel, FACE_PIXELS, FaceCrop};
use mood::Emotion;

#[test]
fn embedded_model_loads_and_gives_probabilities() {
    let model = ExpressionModel::embedded().expect("the embedded model loads");
    assert!(model.parameter_count() > 100_000);
    let grey = FaceCrop::from_pixels(&[128; FACE_PIXELS]).unwrap();
    for tta in [false, true] {
        let probabilities = model
            .classify(&[grey.clone(), grey.mirrored()], tta)
            .unwrap();
        assert_eq!(probabilities.len(), 2);
        for row in &probabilities {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4);
            assert!(row.iter().all(|p| (0.0..=1.0).contains(p)));
        }
    }
    assert!(model.classify(&[], true).unwrap().is_empty());
    assert!(FaceCrop::from_pixels(&[0; 10]).is_err());
}

#[test]
fn flip_tta_is_the_mean_of_both_views() {
    let model = ExpressionModel::embedded().unwrap();
    let face = FaceCrop::from_pixels(&std::array::from_fn::<u8, FACE_PIXELS, _>(|i| {
        (i % 200) as u8
    }))
    .unwrap();
    let plain = model.classify(std::slice::from_ref(&face), false).unwrap()[0];
    let mirrored = model.classify(&[face.mirrored()], false).unwrap()[0];
    let tta = model.classify(&[face], true).unwrap()[0];
    for i in 0..7 {
        assert!((tta[i] - 0.5 * (plain[i] + mirrored[i])).abs() < 1e-5);
    }
}

#[test]
fn the_smiling_astronaut_is_read_as_happy() {
    let path = devdata::testdata("astronaut.png");
    let photo = vision::decode(&std::fs::read(&path).unwrap()).unwrap();
    let faces = vision::FaceDetector::new().unwrap().detect(&photo);
    assert_eq!(faces.len(), 1, "{faces:?}");
    let crop = vision::crop_for_model(&photo, &faces[0]);
    let face = FaceCrop::from_pixels(crop.as_raw()).unwrap();
    let model = ExpressionModel::embedded().unwrap();
    for tta in [false, true] {
        let probabilities = model.classify(std::slice::from_ref(&face), tta).unwrap()[0];
        let top = (0..probabilities.len())
            .max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]))
            .unwrap();
        assert_eq!(
            Emotion::ALL[top],
            Emotion::Happy,
            "tta {tta}: {probabilities:?}"
        );
        assert!(
            probabilities[Emotion::Happy.index()] > 0.5,
            "{probabilities:?}"
        );
    }
}

#[test]
fn a_config_without_the_input_section_loads_and_another_input_is_refused() {
    let shipped: serde_json::Value = serde_json::from_slice(expression::EMBEDDED.config).unwrap();
    assert_eq!(shipped["input"]["side"], 48);

    // Models trained before the input was recorded have no `input` section.
    let mut old = shipped.clone();
    old.as_object_mut().unwrap().remove("input");
    let old = serde_json::to_vec(&old).unwrap();
    let files = expression::ModelFiles {
        config: &old,
        weights: expression::EMBEDDED.weights,
    };
    assert!(ExpressionModel::from_files(files, "old").is_ok());

    let mut other = shipped;
    other["input"]["pixel_mean"] = serde_json::json!(0.5);
    let other = serde_json::to_vec(&other).unwrap();
    let files = expression::ModelFiles {
        config: &other,
        weights: expression::EMBEDDED.weights,
    };
    let error = ExpressionModel::from_files(files, "other")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("other/config.json") && error.contains("mean 0.5"),
        "{error}"
    );
}

#[test]
fn classifies_a_public_test_face() {
    let Some(data) = devdata::shared_data("classifies_a_public_test_face") else {
        return;
    };
    let file = data.join("fer2013/train_publictest.csv.gz");
    let bytes = std::fs::read(&file).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut gunzip(&bytes), &mut text).unwrap();
    let line = text
        .lines()
        .find(|line| line.contains(",PublicTest,"))
        .expect("a PublicTest row");
    let pixels: Vec<u8> = line
        .split(',')
        .nth(1)
        .unwrap()
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    let model = ExpressionModel::embedded().unwrap();
    let probabilities = model
        .classify(&[FaceCrop::from_pixels(&pixels).unwrap()], true)
        .unwrap();
    assert!((probabilities[0].iter().sum::<f32>() - 1.0).abs() < 1e-4);
}

fn gunzip(bytes: &[u8]) -> impl std::io::Read + '_ {
    flate2::read::MultiGzDecoder::new(bytes)
}
