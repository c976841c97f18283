//! The shipped model loads from the binary and classifies a real FER-2013 face.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::Write as _;
use std::path::PathBuf;

use expression::{ExpressionModel, FACE_PIXELS, FaceCrop};

fn shared_data() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if path.is_dir() {
        Some(path)
    } else {
        // Written to stderr directly, past the test harness's capture, so that a run
        // without the development data says what it skipped.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: ../shared/data is absent (FER-2013 is needed for this test)"
        );
        None
    }
}

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
fn classifies_a_public_test_face() {
    let Some(data) = shared_data() else { return };
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
