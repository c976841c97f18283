//! Batch-1 inference time of network shapes before any is trained: each `config.json` given
//! (a model's network settings) is built with random weights, and the median time of classifying
//! one face on one thread, plain and mirror-averaged, is printed with the shape's size.
//!
//! `cargo run --release -p expression --example shape_timing -- a.json b.json ...`
//!
//! Random weights cost what trained ones do; the criterion bench
//! (`cargo bench -p expression --bench inference`) is the reference for the shipped model.

#![allow(clippy::unwrap_used, clippy::expect_used)] // an example that cannot set up should stop

use std::time::Instant;

use burn::prelude::*;
use expression::{ExpressionModel, FACE_PIXELS, NetworkConfig};

fn median_ms(mut run: impl FnMut(), rounds: usize) -> f64 {
    for _ in 0..5 {
        run();
    }
    let mut times: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[rounds / 2]
}

fn main() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let face: [u8; FACE_PIXELS] = std::array::from_fn(|i| ((i * 31) % 256) as u8);
    for path in std::env::args().skip(1) {
        let config: NetworkConfig =
            serde_json::from_slice(&std::fs::read(&path).expect("read the config"))
                .expect("a network config");
        let model = ExpressionModel::from_network(config.init(&Device::flex()), config.clone());
        let (plain, mirrored) = pool.install(|| {
            (
                median_ms(|| drop(model.classify_pixels([&face], false).unwrap()), 41),
                median_ms(|| drop(model.classify_pixels([&face], true).unwrap()), 41),
            )
        });
        println!(
            "{path}: {:?} convs {:?} hidden {}: {} parameters; batch 1, 1 thread: {plain:.2} ms ({mirrored:.2} ms mirrored)",
            config.channels,
            config.convs,
            config.hidden,
            model.parameter_count()
        );
    }
}
