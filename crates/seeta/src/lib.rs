//! The SeetaFace frontal face detector in safe Rust.
//!
//! A fork of `rustface` 0.1.7 (the Rust port of the SeetaFace Detection engine, BSD-2-Clause;
//! see `LICENSE`) that gives the same faces, faster: the LAB feature map is computed without
//! branches, the boosted classifiers read flat weight tables, the bilinear resize computes its
//! column weights once per image, the MLP dot products run in eight lanes, and each MLP stage
//! sums a window's gradients only up to the cell edges its features read. It has no `unsafe`
//! code and no shared state: a [`Detector`] is `Send + Sync` and searches from any number of
//! threads at once. [`Detector::detect_large_first`] searches the coarse pyramid levels first
//! and stops there when they hold a large face.
//!
//! Only the search is here; the model file (`seeta_fd_frontal_v1.0.bin`) is read by
//! [`read_model`] from bytes the caller provides.
//!
//! ```no_run
//! # fn demo(model_bytes: &[u8], grey: &[u8], width: u32, height: u32) -> Result<(), Box<dyn std::error::Error>> {
//! let detector = seeta::Detector::new(seeta::read_model(model_bytes)?, seeta::Settings::default())?;
//! for face in detector.detect(grey, width, height) {
//!     println!("{} px face at ({}, {}), score {:.1}", face.side, face.x, face.y, face.score);
//! }
//! # Ok(()) }
//! ```

mod detect;
mod lab;
mod model;
mod pyramid;
mod surf;

pub use detect::{Detector, Face, Settings, SettingsError, WINDOW};
pub use model::{Model, ModelError, read_model};

/// The SeetaFace frontal face model (`seeta_fd_frontal_v1.0.bin`, 1.2 MB, BSD-2-Clause), vendored
/// in `model/` from the `rustface` 0.1.7 package (source and checksum in `model/README.md`).
pub static FRONTAL_MODEL: &[u8] = include_bytes!("../model/seeta_fd_frontal_v1.0.bin");
