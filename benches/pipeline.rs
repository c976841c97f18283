//! The whole photo → recommendations path, as `POST /api/v1/recommendations` runs it for an
//! upload: decode the JPEG, find the faces, classify them (with mirror averaging, the server's
//! default, and without), then rank films from the built-in catalog for the group mood.
//!
//! Two sizes: a webcam frame (640×480) and a phone photo (4000×3000), both JPEG, each on one
//! thread and on all cores (a rayon pool of that size around each run; burn's CPU backend and
//! the detector use the current rayon pool).
//!
//! The photos need a face the detector finds, so they are made at run time from the development
//! photo `../shared/data/photos/face_controls/images/astronaut.png` (nothing from it is in the
//! repository); without it the bench prints why and measures nothing.
//!
//! Run: `cargo bench --bench pipeline`

#![allow(clippy::unwrap_used)] // a benchmark that cannot set up should stop
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use catalog::Catalog;
use criterion::{Criterion, criterion_group, criterion_main};
use moodreel::pipeline::PhotoPipeline;
use recommend::Request;

#[path = "../crates/vision/tests/common/textured.rs"]
mod textured;

/// The committed photo with one frontal face (512×512; see `testdata/README.md`).
fn face_photo_path() -> PathBuf {
    devdata::testdata("astronaut.png")
}

/// Photo bytes → reading → ten films: what one upload to the API costs, minus HTTP.
fn photo_to_films(pipeline: &PhotoPipeline, catalog: &Catalog, jpeg: &[u8]) -> usize {
    let (_, reading) = pipeline.read_bytes(jpeg).unwrap();
    let mood = reading.mood.expect("the bench photo has a face");
    let films = recommend::recommend(catalog, &Request::new(mood)).unwrap();
    films.movies.len()
}

fn bench(c: &mut Criterion) {
    let path = face_photo_path();
    let face = image::open(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .to_rgb8();
    let model = Arc::new(moodreel::pipeline::load_model(None).unwrap());
    let with_tta = PhotoPipeline::new(Arc::clone(&model), true).unwrap();
    let without_tta = PhotoPipeline::new(model, false).unwrap();
    let catalog = Catalog::builtin();
    let all_cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut thread_counts = vec![1];
    if all_cores > 1 {
        thread_counts.push(all_cores);
    }
    // A webcam frame with a face of 300 px, a phone photo with a face of 1500 px.
    for (width, height, face_side) in [(640, 480, 300), (4000, 3000, 1500)] {
        let jpeg = textured::textured_photo_jpeg(Some(&face), width, height, face_side);
        let faces = with_tta.read_bytes(&jpeg).unwrap().1.faces.len();
        assert!(
            faces > 0,
            "no face found in the {width}x{height} bench photo"
        );
        for &threads in &thread_counts {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut group =
                c.benchmark_group(format!("photo_to_films/{width}x{height}/{threads}-thread"));
            if width > 1000 {
                group.sample_size(10);
                group.measurement_time(Duration::from_secs(10));
            }
            for (name, pipeline) in [("tta", &with_tta), ("plain", &without_tta)] {
                group.bench_function(name, |b| {
                    pool.install(|| b.iter(|| photo_to_films(pipeline, catalog, black_box(&jpeg))))
                });
            }
            group.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
