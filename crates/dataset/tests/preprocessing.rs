//! Training (Kaggle CSV), evaluation (image folders) and inference (a face crop from a photo)
//! reach the network through the same preprocessing: the same face gives the same tensor.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use burn::prelude::*;
use dataset::{Split, load_split};
use expression::{FACE_PIXELS, FaceCrop, faces_to_tensor};

#[test]
fn csv_folder_and_crop_paths_give_the_same_tensor() {
    let face: [u8; FACE_PIXELS] = std::array::from_fn(|i| ((i * 37) % 256) as u8);
    let dir = tempfile::tempdir().unwrap();

    let csv_path = dir.path().join("fer.csv");
    let pixels_text: Vec<String> = face.iter().map(u8::to_string).collect();
    std::fs::write(
        &csv_path,
        format!(
            "emotion,pixels,Usage\n3,{},PublicTest\n",
            pixels_text.join(" ")
        ),
    )
    .unwrap();
    let from_csv = load_split(&csv_path, Split::PublicTest).unwrap();

    let folder = dir.path().join("folders");
    let class_dir = folder.join("test").join("happy");
    std::fs::create_dir_all(&class_dir).unwrap();
    image::GrayImage::from_raw(48, 48, face.to_vec())
        .unwrap()
        .save(class_dir.join("0.png"))
        .unwrap();
    let from_folder = load_split(&folder, Split::PublicTest).unwrap();
    assert_eq!(from_csv.labels, from_folder.labels);

    let crop = FaceCrop::from_pixels(&face).unwrap();

    let device = Device::flex();
    let tensors = [
        faces_to_tensor([from_csv.face(0)], &device),
        faces_to_tensor([from_folder.face(0)], &device),
        faces_to_tensor([crop.pixels()], &device),
    ]
    .map(|tensor| tensor.into_data().try_to_vec::<f32>().unwrap());
    assert_eq!(tensors[0].len(), FACE_PIXELS);
    assert_eq!(tensors[0], tensors[1]);
    assert_eq!(tensors[0], tensors[2]);
}
