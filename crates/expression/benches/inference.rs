//! Inference time of the shipped expression model: batch 1 and batch 16, with and without
//! flip TTA, on one thread and on all cores.
//!
//! `cargo bench -p expression --bench inference`

#![allow(clippy::unwrap_used)] // a benchmark that cannot set up should stop
#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use expression::{ExpressionModel, FACE_PIXELS, FaceCrop};

fn faces(count: usize) -> Vec<FaceCrop> {
    (0..count)
        .map(|seed| {
            let pixels: [u8; FACE_PIXELS] =
                std::array::from_fn(|i| ((i * 31 + seed * 17) % 256) as u8);
            FaceCrop::from_pixels(&pixels).unwrap()
        })
        .collect()
}

fn inference(c: &mut Criterion) {
    let model = ExpressionModel::embedded().unwrap();
    let all_cores = std::thread::available_parallelism().map_or(1, usize::from);
    for threads in [1, all_cores] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut group = c.benchmark_group(format!("classify/{threads}-thread"));
        for batch in [1usize, 16] {
            let input = faces(batch);
            group.throughput(Throughput::Elements(batch as u64));
            for tta in [false, true] {
                let name = if tta { "tta" } else { "plain" };
                group.bench_with_input(BenchmarkId::new(name, batch), &input, |b, input| {
                    pool.install(|| b.iter(|| model.classify(input, tta).unwrap()));
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, inference);
criterion_main!(benches);
