//! Where the time of one photo → films goes: decode, detect, crop, classify (with and without
//! mirror averaging), rank films — each stage timed on its own on the `pipeline` bench's 640×480
//! picture, on one thread: the fastest of N runs (a busy machine only ever adds time) and the
//! median.
//!
//! Usage: `cargo run --release --example stage_timing [-- RUNS]` (default 200). Reads the
//! committed portrait `testdata/astronaut.png`.

#![allow(clippy::unwrap_used)] // a measuring tool that cannot set up should stop

#[path = "../crates/vision/tests/common/textured.rs"]
mod textured;

use std::hint::black_box;
use std::time::Instant;

use catalog::Catalog;
use expression::FaceCrop;
use recommend::Request;

/// The fastest and the median of `runs` timings of `work`, in milliseconds.
fn timed<T>(runs: usize, mut work: impl FnMut() -> T) -> (f64, f64) {
    let mut times: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            black_box(work());
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[0], times[times.len() / 2])
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .map_or(200, |text| text.parse().unwrap());
    // The committed portrait with one frontal face (512×512; see `testdata/README.md`).
    let path = devdata::testdata("astronaut.png");
    let face = image::open(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    pool.install(|| {
        let jpeg = textured::textured_photo_jpeg(Some(&face.to_rgb8()), 640, 480, 300);
        let model = moodreel::pipeline::load_model(None).unwrap();
        let detector = vision::FaceDetector::new().unwrap();
        let catalog = Catalog::builtin();
        let image = vision::decode(&jpeg).unwrap();
        let boxes = detector.detect(&image);
        assert!(!boxes.is_empty(), "the picture has a face");
        let crops: Vec<FaceCrop> = boxes
            .iter()
            .map(|face| FaceCrop::from_pixels(vision::crop_for_model(&image, face).as_raw()))
            .collect::<Result<_, _>>()
            .unwrap();
        let mood = model.classify(&crops, false).unwrap();
        let mood = mood::EmotionDistribution::from_f32(mood[0]).unwrap();
        let stages: [(&str, (f64, f64)); 6] = [
            ("decode", timed(runs, || vision::decode(&jpeg).unwrap())),
            ("detect", timed(runs, || detector.detect(&image))),
            (
                "crop",
                timed(runs, || vision::crop_for_model(&image, &boxes[0])),
            ),
            (
                "classify",
                timed(runs, || model.classify(&crops, false).unwrap()),
            ),
            (
                "classify, mirrored too",
                timed(runs, || model.classify(&crops, true).unwrap()),
            ),
            (
                "rank films",
                timed(runs, || {
                    recommend::recommend(catalog, &Request::new(mood)).unwrap()
                }),
            ),
        ];
        println!(
            "640×480 JPEG, {} face(s), {runs} runs on one thread: fastest, median",
            boxes.len()
        );
        for (stage, (fastest, median)) in stages {
            println!("  {stage:<24} {fastest:7.2} ms {median:7.2} ms");
        }
        // The whole path with one reading per face leaves out the mirrored classification,
        // and the other way round.
        for (name, left_out) in [
            ("one reading", "classify, mirrored too"),
            ("mirror averaging", "classify"),
        ] {
            let (fastest, median) = stages
                .iter()
                .filter(|(stage, _)| *stage != left_out)
                .fold((0.0, 0.0), |(fastest, median), (_, (a, b))| {
                    (fastest + a, median + b)
                });
            println!("  sum, {name:<19} {fastest:7.2} ms {median:7.2} ms");
        }
    });
}
