//! Any bytes → `vision::decode_with_limits` → face detection on whatever decoded → a model crop
//! of each face. Must return an error or boxes, never panic.
//!
//! Sizes are lowered so that each input stays fast under the sanitizer: a quarter megapixel
//! instead of forty for the decoder, a working image of at most 96 px for the detector (its
//! networks read views of fixed sizes whatever the photo's, so the code paths are the same).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vision::{DecodeLimits, DetectorSettings, FaceDetector};

fn detector() -> &'static FaceDetector {
    static DETECTOR: OnceLock<FaceDetector> = OnceLock::new();
    DETECTOR.get_or_init(|| {
        FaceDetector::with_settings(DetectorSettings {
            max_working_side: 96,
            ..DetectorSettings::default()
        })
        .expect("valid settings, and the embedded detector model parses")
    })
}

fuzz_target!(|data: &[u8]| {
    let limits = DecodeLimits {
        max_pixels: 1 << 18,
        max_alloc: 64 * 1024 * 1024,
        ..DecodeLimits::default()
    };
    if let Ok(image) = vision::decode_with_limits(data, &limits) {
        // As the photo pipeline does: crop each box as found, report it clamped.
        for face in detector().detect(&image) {
            let crop = vision::crop_for_model(&image, &face);
            assert_eq!(crop.width(), vision::CROP_SIDE);
            let _ = face.clamped(image.width(), image.height());
        }
    }
});
