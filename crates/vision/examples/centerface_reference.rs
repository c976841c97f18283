//! Checks the converted CenterFace network against onnxruntime: reads the inputs and heads that
//! `scripts/convert_centerface.py --check IMAGE...` wrote (little-endian f32 files), runs the
//! same inputs through this crate's network and prints the largest differences.
//!
//!     python3 scripts/convert_centerface.py WHEEL /tmp/out --check a.jpg b.png
//!     cargo run --release -p vision --example centerface_reference -- target/centerface-reference

#[path = "support/reference.rs"]
mod reference;

use std::path::PathBuf;

use anyhow::{Context, bail};
use reference::{read_f32, sigmoid};

fn main() -> anyhow::Result<()> {
    let dir: PathBuf = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/centerface-reference".into())
        .into();
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| dir.display().to_string())?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.to_string_lossy().contains(".input."))
        .collect();
    inputs.sort();
    if inputs.is_empty() {
        bail!(
            "no inputs in {}: run scripts/convert_centerface.py --check first",
            dir.display()
        );
    }
    for input in inputs {
        let name = input
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        // `NN.input.HxW.f32`
        let size = name.split('.').nth(2).context("no size in the file name")?;
        let (height, width) = size.split_once('x').context("size is not HxW")?;
        let (height, width): (usize, usize) = (height.parse()?, width.parse()?);
        let stem = name.split('.').next().unwrap_or_default();
        let reference = read_f32(&dir.join(format!("{stem}.heads.f32")))?;
        let ours = vision::run_centerface_raw(&read_f32(&input)?, height, width)?;
        if ours.len() != reference.len() {
            bail!(
                "{name}: {} heads values, the reference has {}",
                ours.len(),
                reference.len()
            );
        }
        let mut worst = [0.0f32; 4];
        let mut best = (0.0f32, 0.0f32);
        for (a, b) in ours.chunks_exact(15).zip(reference.chunks_exact(15)) {
            let (p, q) = (sigmoid(a[0]), sigmoid(b[0]));
            worst[0] = worst[0].max((p - q).abs());
            for (slot, range) in [(1, 1..3), (2, 3..5), (3, 5..15)] {
                for index in range {
                    // Only where a face could be: elsewhere these values are not used.
                    if q > 0.1 {
                        worst[slot] = worst[slot].max((a[index] - b[index]).abs());
                    }
                }
            }
            if q > best.1 {
                best = (p, q);
            }
        }
        println!(
            "{name}: largest differences: score {:.5}, size {:.5}, offset {:.5}, landmarks {:.5} \
             (where the reference scores > 0.1); best score {:.4} (reference {:.4})",
            worst[0], worst[1], worst[2], worst[3], best.0, best.1
        );
    }
    Ok(())
}
