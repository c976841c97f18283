//! Measures training throughput (images/s) of candidate network shapes on random data.
//!
//! `cargo run --release -p train --example throughput -- 32,64,128,256 2 64`
use std::time::Instant;

use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, SgdConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use expression::NetworkConfig;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let channels: Vec<usize> = args
        .get(1)
        .map_or("32,64,128,256", String::as_str)
        .split(',')
        .map(|c| c.parse().expect("channel count"))
        .collect();
    let convs: Vec<usize> = args
        .get(2)
        .map_or("1,2,2,2", String::as_str)
        .split(',')
        .map(|c| c.parse().expect("conv count"))
        .collect();
    let batch: usize = args.get(3).map_or(64, |a| a.parse().expect("batch"));
    let config = NetworkConfig {
        channels,
        convs,
        ..NetworkConfig::default()
    };
    let device = Device::flex().autodiff();
    let mut net = config.init(&device);
    println!("{config:?}: {} parameters", net.num_params());
    let mut optim = SgdConfig::new()
        .with_momentum(Some(MomentumConfig::new().with_dampening(0.0)))
        .init();
    let steps = 12;
    let mut start = Instant::now();
    for step in 0..steps {
        if step == 2 {
            start = Instant::now();
        }
        let x: Tensor<4> =
            Tensor::random([batch, 1, 48, 48], Distribution::Normal(0.0, 1.0), &device);
        let logits = net.forward(x);
        let loss = burn::tensor::activation::log_softmax(logits, 1)
            .mean()
            .neg();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(0.01, net, grads);
    }
    let seconds = start.elapsed().as_secs_f64();
    println!("{:.1} images/s", ((steps - 2) * batch) as f64 / seconds);
}
