//! What the two reference examples (`blazeface_reference`, `centerface_reference`) share: reading
//! the little-endian f32 files the conversion scripts' `--check` writes, and the score of a logit.

use std::path::Path;

use anyhow::{Context, bail};

pub fn read_f32(path: &Path) -> anyhow::Result<Vec<f32>> {
    let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
    if bytes.len() % 4 != 0 {
        bail!("{}: not a whole number of f32 values", path.display());
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-100.0, 100.0)).exp())
}
