//! The network's forward pass for inference, on plain `f32` arrays rather than burn tensors.
//!
//! Faces are laid out NHWC (a pixel's channels side by side). Each 3×3 convolution (padding 1)
//! is one matrix product: the rows are the output pixels, each holding its input pixel's 3×3
//! neighbourhood (zeros outside the map), the columns the output channels; `ndarray`'s
//! `matrixmultiply` does the product, then the bias and the ReLU follow, then 2×2 max pooling.
//! The two dense layers are matrix products too, and the softmax closes. The weights are the
//! trained network's with each batch norm folded into its convolution
//! ([`ExpressionNet::fold_batch_norm`]), so the output is the network's, up to the rounding of
//! another order of summation (burn's `flex` backend, on which training runs, computes the
//! same network; `tests/torch_equivalence.rs` holds both to PyTorch's logits).
//!
//! Why not burn for inference too: for one face (two with mirror averaging) this path takes
//! about half burn's time on the same machine (`docs/performance.md`, "The model on plain
//! arrays"). Each thread keeps its working buffers between calls (about 1.5 MB a face of the
//! largest batch it has read, at most `CHUNK`, eight faces, in `model.rs`).

use std::cell::RefCell;

use burn::prelude::*;
use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

use crate::FACE_SIDE;
use crate::network::ExpressionNet;

/// A 3×3 convolution with padding 1, its bias and ReLU.
#[derive(Debug, Clone)]
struct Conv {
    input: usize,
    output: usize,
    /// `[3, 3, input, output]`, row-major: row `(ky·3 + kx)·input + c` of a `9·input × output`
    /// matrix, in the order a patch row is filled.
    weights: Vec<f32>,
    bias: Vec<f32>,
}

/// A dense layer: `[input, output]` weights and a bias.
#[derive(Debug, Clone)]
struct Dense {
    input: usize,
    output: usize,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

/// The inference network: blocks of convolutions each followed by 2×2 max pooling, then the
/// hidden dense layer with ReLU and the output layer.
#[derive(Debug, Clone)]
pub(crate) struct Inference {
    blocks: Vec<Vec<Conv>>,
    hidden: Dense,
    output: Dense,
}

/// The working buffers of one thread, kept between calls so that a face costs no allocation.
#[derive(Default)]
struct Scratch {
    patches: Vec<f32>,
    map: Vec<f32>,
    next: Vec<f32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// A tensor's values in its row-major order.
fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().iter::<f32>().collect()
}

impl Inference {
    /// The inference network of `net`, whose batch norms must be folded already.
    pub(crate) fn new(net: &ExpressionNet) -> Self {
        let blocks = net
            .blocks
            .iter()
            .map(|block| {
                block
                    .convs
                    .iter()
                    .map(|conv| {
                        // burn: `[output, input, 3, 3]`; here `[3, 3, input, output]`.
                        let [output, input, ky, kx] = conv.weight.shape().dims();
                        debug_assert_eq!([ky, kx], [3, 3]);
                        let burn = values(conv.weight.val());
                        let mut weights = vec![0.0; burn.len()];
                        for o in 0..output {
                            for i in 0..input {
                                for k in 0..9 {
                                    weights[(k * input + i) * output + o] =
                                        burn[(o * input + i) * 9 + k];
                                }
                            }
                        }
                        Conv {
                            input,
                            output,
                            weights,
                            bias: bias(conv.bias.as_ref(), output),
                        }
                    })
                    .collect()
            })
            .collect();
        // burn flattens the last map as `[channels, side, side]`; here it is
        // `[side, side, channels]`, so the hidden layer's rows are put in that order. Every
        // block halves the side (`NetworkConfig::init`).
        let hidden = dense(&net.hidden);
        let side = FACE_SIDE >> net.blocks.len();
        let pixels = side * side;
        let channels = hidden.input / pixels;
        let mut weights = vec![0.0; hidden.weights.len()];
        for c in 0..channels {
            for p in 0..pixels {
                let from = (c * pixels + p) * hidden.output;
                let to = (p * channels + c) * hidden.output;
                weights[to..to + hidden.output]
                    .copy_from_slice(&hidden.weights[from..from + hidden.output]);
            }
        }
        Self {
            blocks,
            hidden: Dense { weights, ..hidden },
            output: dense(&net.output),
        }
    }

    /// The logits of `faces` (each 48×48 normalised values, one after another), appended to
    /// `logits`, seven per face.
    pub(crate) fn logits(&self, faces: &[f32], logits: &mut Vec<f32>) {
        let count = faces.len() / (FACE_SIDE * FACE_SIDE);
        SCRATCH.with_borrow_mut(|scratch| {
            let Scratch { patches, map, next } = scratch;
            map.clear();
            map.extend_from_slice(faces);
            let (mut side, mut channels) = (FACE_SIDE, 1);
            for block in &self.blocks {
                for conv in block {
                    conv.run(count, side, map, patches, next);
                    std::mem::swap(map, next);
                    channels = conv.output;
                }
                max_pool(count, side, channels, map, next);
                std::mem::swap(map, next);
                side /= 2;
            }
            next.resize(count * self.hidden.output, 0.0);
            self.hidden.run(count, map, next, true);
            let start = logits.len();
            logits.resize(start + count * self.output.output, 0.0);
            self.output.run(count, next, &mut logits[start..], false);
        });
    }
}

fn dense(linear: &burn::nn::Linear) -> Dense {
    let [input, output] = linear.weight.shape().dims();
    Dense {
        input,
        output,
        weights: values(linear.weight.val()),
        bias: bias(linear.bias.as_ref(), output),
    }
}

/// A layer's bias, or `output` zeros for a layer without one.
fn bias(bias: Option<&burn::module::Param<Tensor<1>>>, output: usize) -> Vec<f32> {
    bias.map_or_else(|| vec![0.0; output], |bias| values(bias.val()))
}

impl Conv {
    /// Convolves `count` maps `side × side × input` in `map` into `out` (`side × side ×
    /// output` each), through `patches`.
    fn run(
        &self,
        count: usize,
        side: usize,
        map: &[f32],
        patches: &mut Vec<f32>,
        out: &mut Vec<f32>,
    ) {
        let (input, width) = (self.input, 9 * self.input);
        let rows = count * side * side;
        // Every value of `patches` is written below, so growing it is the only zeroing.
        patches.resize(rows * width, 0.0);
        let row_length = 3 * input;
        for (face, patches) in map
            .chunks_exact(side * side * input)
            .zip(patches.chunks_exact_mut(side * side * width))
        {
            for (pixel, patch) in patches.chunks_exact_mut(width).enumerate() {
                let (y, x) = (pixel / side, pixel % side);
                // The taps of one kernel row are three neighbouring pixels, side by side in
                // the map and in the patch; those left or right of the map are zero.
                let first = usize::from(x == 0);
                let last = 3 - usize::from(x + 1 == side);
                for (ky, part) in patch.chunks_exact_mut(row_length).enumerate() {
                    match (y + ky).checked_sub(1).filter(|&iy| iy < side) {
                        None => part.fill(0.0),
                        Some(iy) => {
                            let from = (iy * side + x + first - 1) * input;
                            part[..first * input].fill(0.0);
                            part[first * input..last * input]
                                .copy_from_slice(&face[from..from + (last - first) * input]);
                            part[last * input..].fill(0.0);
                        }
                    }
                }
            }
        }
        out.resize(rows * self.output, 0.0);
        product(
            (rows, width, self.output),
            patches,
            &self.weights,
            &self.bias,
            out,
        );
        relu(out);
    }
}

impl Dense {
    /// The layer applied to `count` rows of `input` values in `x`, into `out` (`count ×
    /// output` values), with a ReLU after it if `relu_after`.
    fn run(&self, count: usize, x: &[f32], out: &mut [f32], relu_after: bool) {
        product(
            (count, self.input, self.output),
            x,
            &self.weights,
            &self.bias,
            out,
        );
        if relu_after {
            relu(out);
        }
    }
}

/// `out = x · weights + bias` for `x` `rows × inner` and `weights` `inner × columns`.
fn product(
    (rows, inner, columns): (usize, usize, usize),
    x: &[f32],
    weights: &[f32],
    bias: &[f32],
    out: &mut [f32],
) {
    for row in out.chunks_exact_mut(columns) {
        row.copy_from_slice(bias);
    }
    // The shapes are the layer's own, checked when it was built: these views cannot fail.
    let (Ok(x), Ok(weights), Ok(mut out)) = (
        ArrayView2::from_shape((rows, inner), &x[..rows * inner]),
        ArrayView2::from_shape((inner, columns), weights),
        ArrayViewMut2::from_shape((rows, columns), &mut out[..rows * columns]),
    ) else {
        unreachable!("a layer's matrices have the layer's shape");
    };
    general_mat_mul(1.0, &x, &weights, 1.0, &mut out);
}

fn relu(values: &mut [f32]) {
    for value in values {
        *value = value.max(0.0);
    }
}

/// 2×2 max pooling with stride 2 of `count` maps `side × side × channels` into `out`.
fn max_pool(count: usize, side: usize, channels: usize, map: &[f32], out: &mut Vec<f32>) {
    let half = side / 2;
    out.resize(count * half * half * channels, 0.0);
    for (face, pooled) in map
        .chunks_exact(side * side * channels)
        .zip(out.chunks_exact_mut(half * half * channels))
    {
        for (index, pixel) in pooled.chunks_exact_mut(channels).enumerate() {
            let (y, x) = (2 * (index / half), 2 * (index % half));
            let at =
                |dy: usize, dx: usize| &face[((y + dy) * side + x + dx) * channels..][..channels];
            let (a, b, c, d) = (at(0, 0), at(0, 1), at(1, 0), at(1, 1));
            for (i, value) in pixel.iter_mut().enumerate() {
                *value = a[i].max(b[i]).max(c[i].max(d[i]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::store::{ModuleSnapshot, SafetensorsStore};
    use burn::tensor::TensorData;

    use super::*;
    use crate::{EMBEDDED, FACE_PIXELS, NetworkConfig};

    /// The shipped network, as trained (batch norms not folded).
    fn shipped() -> ExpressionNet {
        let config: NetworkConfig = serde_json::from_slice(EMBEDDED.config).expect("config");
        let mut net = config.init(&Device::flex());
        let mut store = SafetensorsStore::from_bytes(Some(EMBEDDED.weights.to_vec()));
        net.load_from(&mut store).expect("weights load");
        net
    }

    /// Faces of varied values on the network's input scale, edges included.
    fn faces(count: usize) -> Vec<f32> {
        (0..count * FACE_PIXELS)
            .map(|i| ((i * 7919 + i / FACE_PIXELS * 104_729) % 255) as f32 / 127.5 - 1.0)
            .collect()
    }

    #[test]
    fn the_logits_are_burns() {
        let net = shipped();
        let count = 3;
        let input = faces(count);
        let tensor = Tensor::<4>::from_data(
            TensorData::new(input.clone(), [count, 1, FACE_SIDE, FACE_SIDE]),
            &Device::flex(),
        );
        let expected = values(net.forward(tensor));
        let mut logits = Vec::new();
        Inference::new(&net.fold_batch_norm()).logits(&input, &mut logits);
        assert_eq!(logits.len(), count * mood::EMOTION_COUNT);
        let largest = expected.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
        assert!(largest > 1.0, "logits of a few units, not trivially small");
        for (ours, burns) in logits.iter().zip(&expected) {
            assert!((ours - burns).abs() <= 1e-4 * largest, "{ours} vs {burns}");
        }
    }

    #[test]
    fn a_face_reads_the_same_alone_and_in_any_batch() {
        let inference = Inference::new(&shipped().fold_batch_norm());
        let input = faces(5);
        let mut together = Vec::new();
        inference.logits(&input, &mut together);
        // One at a time, on the same thread (its buffers now sized for five faces) and on a
        // fresh one, in reverse order.
        for (face, expected) in input
            .chunks_exact(FACE_PIXELS)
            .zip(together.chunks_exact(mood::EMOTION_COUNT))
            .rev()
        {
            let mut alone = Vec::new();
            inference.logits(face, &mut alone);
            assert_eq!(alone, expected);
            let fresh = std::thread::scope(|scope| {
                scope
                    .spawn(|| {
                        let mut logits = Vec::new();
                        inference.logits(face, &mut logits);
                        logits
                    })
                    .join()
            });
            assert_eq!(fresh.ok().as_deref(), Some(expected));
        }
    }
}
