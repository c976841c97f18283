//! Decode and face detection time for a typical webcam frame (640×480) and a typical phone
//! photo (4000×3000), JPEG, on one thread (the detector runs in a one-thread rayon pool). The
//! pictures are made here: a smooth scene with texture and no face, so `detect` includes the
//! second look (CenterFace) and the turned search a photo without a face gets; `detect, views
//! alone` is the BlazeFace views with their verifying close-ups (the SeetaFace cascade and
//! ONet), without those two; `detect, all cores` is `detect` in a pool of as many threads as
//! the machine has cores, among which the detector splits its work.

// criterion_group! defines a public function without documentation.
#![allow(missing_docs)]

use std::hint::black_box;
use std::io::Cursor;

use criterion::{Criterion, criterion_group, criterion_main};
use vision::FaceDetector;
use vision::image::{DynamicImage, ImageFormat, Rgb, RgbImage};

fn scene_jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let image = RgbImage::from_fn(width, height, |x, y| {
        // xorshift noise on top of gradients and large soft blobs.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let noise = (state % 24) as u32;
        let u = x * 255 / width;
        let v = y * 255 / height;
        let blob = if ((x / 97) + (y / 61)) % 3 == 0 {
            60
        } else {
            0
        };
        Rgb([
            ((u + noise + blob) / 2 + 40) as u8,
            ((v + noise) / 2 + 50) as u8,
            ((u + v) / 4 + noise + blob / 2) as u8,
        ])
    });
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(image)
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Jpeg)
        .expect("encoding a generated picture in memory cannot fail");
    bytes
}

fn bench(c: &mut Criterion) {
    let detector = FaceDetector::new().expect("the embedded models load");
    // The scenes have no face, so the default detector also takes its second look (CenterFace)
    // and searches the scene turned three ways; this one shows the BlazeFace views (with the
    // cascade's and ONet's close-ups) alone.
    let blaze_only = FaceDetector::with_settings(vision::DetectorSettings {
        second_look_threshold: None,
        turned_search_threshold: None,
        ..vision::DetectorSettings::default()
    })
    .expect("the embedded models load");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a one-thread pool");
    let all_cores = rayon::ThreadPoolBuilder::new()
        .num_threads(std::thread::available_parallelism().map_or(1, usize::from))
        .build()
        .expect("a pool of all cores");
    for (width, height) in [(640, 480), (4000, 3000)] {
        let jpeg = scene_jpeg(width, height);
        let decoded = vision::decode(&jpeg).expect("the generated JPEG decodes");
        let mut group = c.benchmark_group(format!("{width}x{height}"));
        group.sample_size(if width > 1000 { 10 } else { 30 });
        group.bench_function("decode", |b| b.iter(|| vision::decode(black_box(&jpeg))));
        group.bench_function("detect", |b| {
            b.iter(|| pool.install(|| detector.detect(black_box(&decoded))))
        });
        group.bench_function("detect, all cores", |b| {
            b.iter(|| all_cores.install(|| detector.detect(black_box(&decoded))))
        });
        group.bench_function("detect, views alone", |b| {
            b.iter(|| pool.install(|| blaze_only.detect(black_box(&decoded))))
        });
        group.bench_function("decode+detect", |b| {
            b.iter(|| {
                let image = vision::decode(black_box(&jpeg)).expect("decodes");
                pool.install(|| detector.detect(&image))
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
