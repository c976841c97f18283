//! Inference time per face. Placeholder until weights ship.
fn main() {}
