//! Accuracy of averaged readings on a FER-2013 split: each model alone and models together,
//! with one view, with the mirror image, and with shifted views of the face.
//!
//! `cargo run --release -p train --example ensemble_study -- DATA SPLIT MODEL_DIR...`
use std::path::Path;

use dataset::{Split, load_split};
use expression::{ExpressionModel, FACE_PIXELS, FACE_SIDE as SIDE, Probabilities, mirror};
use train::{ConfusionMatrix, argmax};

/// The face moved by (dx, dy) pixels, edges repeated.
fn shifted(face: &[u8; FACE_PIXELS], dx: isize, dy: isize) -> [u8; FACE_PIXELS] {
    std::array::from_fn(|i| {
        let (x, y) = ((i % SIDE) as isize, (i / SIDE) as isize);
        let sx = (x - dx).clamp(0, SIDE as isize - 1) as usize;
        let sy = (y - dy).clamp(0, SIDE as isize - 1) as usize;
        face[sy * SIDE + sx]
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let data = Path::new(&args[1]);
    let split: Split = args[2].parse().expect("split");
    let dirs = &args[3..];
    let faces = load_split(data, split).expect("data");
    let n = faces.len();
    let shifts: [(isize, isize); 5] = [(0, 0), (2, 0), (-2, 0), (0, 2), (0, -2)];
    // probs[model][view][face] for views: shift k plain (0..5), shift k mirrored (5..10).
    let mut probs: Vec<Vec<Vec<Probabilities>>> = Vec::new();
    for dir in dirs {
        let model = ExpressionModel::load(Path::new(dir)).expect("model");
        let mut views = Vec::new();
        for mirrored in [false, true] {
            for &(dx, dy) in &shifts {
                let mut out = Vec::with_capacity(n);
                for start in (0..n).step_by(256) {
                    let batch: Vec<[u8; FACE_PIXELS]> = (start..(start + 256).min(n))
                        .map(|i| {
                            let face = if mirrored {
                                mirror(faces.face(i))
                            } else {
                                *faces.face(i)
                            };
                            shifted(&face, dx, dy)
                        })
                        .collect();
                    out.extend(
                        model
                            .classify_pixels(batch.iter(), false)
                            .expect("classify"),
                    );
                }
                views.push(out);
            }
        }
        probs.push(views);
        eprintln!("{dir}: done");
    }
    let accuracy = |models: &[usize], views: &[usize]| {
        let mut confusion = ConfusionMatrix::default();
        for (i, &label) in faces.labels.iter().enumerate() {
            let mut sum = Probabilities::default();
            for &m in models {
                for &v in views {
                    for (s, p) in sum.iter_mut().zip(&probs[m][v][i]) {
                        *s += p;
                    }
                }
            }
            confusion.add(usize::from(label), argmax(&sum));
        }
        confusion.accuracy()
    };
    let view_sets: [(&str, Vec<usize>); 4] = [
        ("plain", vec![0]),
        ("flip", vec![0, 5]),
        ("shifts", vec![0, 1, 2, 3, 4]),
        ("flip+shifts", (0..10).collect()),
    ];
    let m = dirs.len();
    let mut subsets: Vec<Vec<usize>> = (0..m).map(|i| vec![i]).collect();
    for a in 0..m {
        for b in a + 1..m {
            subsets.push(vec![a, b]);
        }
    }
    if m > 2 {
        subsets.push((0..m).collect());
    }
    print!("{:<40}", "models");
    for (name, _) in &view_sets {
        print!(" {name:>12}");
    }
    println!();
    for subset in subsets {
        let names: Vec<&str> = subset.iter().map(|&i| dirs[i].as_str()).collect();
        print!("{:<40}", names.join("+"));
        for (_, views) in &view_sets {
            print!(" {:>12.4}", accuracy(&subset, views));
        }
        println!();
    }
}
