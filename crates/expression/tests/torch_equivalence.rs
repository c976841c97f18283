//! The PyTorch trainer (`training/gpu`) and this crate compute the same network: a model folder
//! exported by `training/gpu/export_fixture.py` (a small network with seeded random weights and
//! batch-norm statistics far from the identity) gives, for the fixture's faces, the logits
//! PyTorch computed for them, within 1e-4. Needs no Python: the fixture is committed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test that cannot read its fixture should stop

use std::path::PathBuf;

use burn::prelude::*;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use expression::{ExpressionModel, FACE_PIXELS, NetworkConfig, faces_to_tensor};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch_export")
}

fn faces() -> Vec<[u8; FACE_PIXELS]> {
    let bytes = std::fs::read(fixture().join("faces.bin")).unwrap();
    assert_eq!(bytes.len() % FACE_PIXELS, 0);
    bytes
        .chunks_exact(FACE_PIXELS)
        .map(|face| face.try_into().unwrap())
        .collect()
}

fn torch_logits() -> Vec<Vec<f32>> {
    let text = std::fs::read_to_string(fixture().join("logits.json")).unwrap();
    let document: serde_json::Value = serde_json::from_str(&text).unwrap();
    serde_json::from_value(document["logits"].clone()).unwrap()
}

#[test]
fn the_exported_network_gives_pytorchs_logits() {
    let model_dir = fixture().join("model");
    let config: NetworkConfig =
        serde_json::from_slice(&std::fs::read(model_dir.join("config.json")).unwrap()).unwrap();
    let device = Device::flex();
    let mut net = config.init(&device);
    let mut store = SafetensorsStore::from_file(model_dir.join("model.safetensors"));
    net.load_from(&mut store).unwrap();
    let net = net.valid();

    let faces = faces();
    let expected = torch_logits();
    assert_eq!(faces.len(), expected.len());
    assert!(faces.len() >= 24, "a few dozen faces");
    let logits: Vec<f32> = net
        .forward(faces_to_tensor(faces.iter(), &device))
        .into_data()
        .try_to_vec()
        .unwrap();
    let largest = expected
        .iter()
        .flatten()
        .fold(0.0_f32, |m, v| m.max(v.abs()));
    assert!(largest > 1.0, "logits of a few units, not trivially small");
    for (face, (ours, theirs)) in logits
        .chunks_exact(mood::EMOTION_COUNT)
        .zip(&expected)
        .enumerate()
    {
        for (a, b) in ours.iter().zip(theirs) {
            assert!(
                (a - b).abs() <= 1e-4,
                "face {face}: burn {a} vs PyTorch {b}"
            );
        }
    }
}

#[test]
fn the_exported_folder_loads_as_a_model_and_classifies_alike() {
    // The same folder through the path `moodreel --model DIR` takes (batch norms folded).
    let model = ExpressionModel::load(&fixture().join("model")).unwrap();
    let faces = faces();
    let probabilities = model.classify_pixels(faces.iter(), false).unwrap();
    for (ours, logits) in probabilities.iter().zip(torch_logits()) {
        let peak = logits.iter().fold(f32::MIN, |m, &v| m.max(v));
        let sum: f32 = logits.iter().map(|v| (v - peak).exp()).sum();
        for (p, l) in ours.iter().zip(&logits) {
            let theirs = (l - peak).exp() / sum;
            assert!((p - theirs).abs() <= 1e-5, "{p} vs {theirs}");
        }
    }
}
