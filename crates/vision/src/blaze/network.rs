//! The BlazeFace networks: a small interpreter for the operation list that
//! `scripts/convert_blazeface.py` stores beside the weights, run natively in TFLite's own NHWC
//! layout.
//!
//! The networks are small (about twenty layers, 24–384 channels), so a general tensor library
//! spends more time on its own bookkeeping than on arithmetic. Here a feature map is one
//! `Vec<f32>` in NHWC order, and the convolutions are loops of our own compiled for the
//! processor's vector width through `pulp`'s run-time dispatch: a 1×1 convolution (and the
//! first layer's, reading its patches from a zero-padded copy of the input) a matrix product
//! four pixels by up to three output vectors at a time; a 3×3 depthwise convolution one
//! vector of channels at a time along each output row, its weights in registers. The bias,
//! a BlazeBlock's residual addition (with the channel padding of its shortcut) and the ReLUs
//! are folded into the convolution before them, and feature maps reuse the buffers of earlier
//! ones and earlier runs. Every value is summed in the same order, with the same rounding, as
//! the plain im2col-and-`matrixmultiply` interpreter this replaced, so the outputs are the same
//! bits (the tests below check this against the definition). 1×1 convolutions with fewer
//! outputs than a vector (the heads) still go through `ndarray`'s `matrixmultiply`. Channel
//! padding, reshapes to detection rows and concatenations are plain copies. Zero padding that
//! feeds only a convolution is folded into it. Every operation the two MediaPipe models use is
//! supported; a file with anything else is refused when it is loaded. A convolution of about a
//! million multiply-adds or more is split into bands of output rows across the current rayon
//! pool's threads ([`in_bands`]); each value is computed by the same loop whatever band it falls
//! in, so the outputs are the same bits on any number of threads.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};
use serde::Deserialize;

/// Why a network file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The safetensors container is unreadable.
    #[error("unreadable weights: {0}")]
    Weights(String),
    /// The graph stored in the metadata is missing or malformed.
    #[error("unreadable graph: {0}")]
    Graph(String),
}

fn graph_error(message: impl Into<String>) -> NetworkError {
    NetworkError::Graph(message.into())
}

/// Multiply-adds below which a layer runs in one piece: splitting it costs a rayon hand-over
/// (a few microseconds, more when the other thread has to be woken) for less than about 30 µs
/// of work.
const MIN_BAND_WORK: usize = 1 << 20;

#[cfg(test)]
thread_local! {
    /// A test's own [`MIN_BAND_WORK`] for the layers run on its thread, so that small layers
    /// are split too.
    static TEST_MIN_BAND_WORK: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

fn min_band_work() -> usize {
    #[cfg(test)]
    if let Some(work) = TEST_MIN_BAND_WORK.with(std::cell::Cell::get) {
        return work;
    }
    MIN_BAND_WORK
}

/// The output rows a convolution loop computes: the output's height and width, and which
/// rows, counted through the batch (row `r` is picture `r / oh`'s row `r % oh`); the loop's
/// output slice holds just those rows.
#[derive(Debug, Clone)]
struct OutRows {
    side: [usize; 2],
    rows: Range<usize>,
}

/// Runs a layer whose output `out` is `rows` equal rows (output rows, or pixels), each
/// costing about `work_per_row` multiply-adds: in bands of rows on the current rayon pool's
/// threads when the layer is large enough to be worth it, else in one piece on this thread.
/// `run` gets each band's first and last rows (`rows.start..rows.end`, counted from the
/// output's first) and its part of `out`. Band starts are multiples of `align` rows. Every
/// output value is computed by the same loop whatever band it falls in, so the results are
/// the same bits with any number of threads.
fn in_bands(
    out: &mut [f32],
    rows: usize,
    align: usize,
    work_per_row: usize,
    run: impl Fn(Range<usize>, &mut [f32]) + Sync,
) {
    let bands = (rows.saturating_mul(work_per_row) / min_band_work())
        .clamp(1, rayon::current_num_threads())
        .min(rows.div_ceil(align.max(1)));
    if bands <= 1 || rows == 0 {
        run(0..rows, out);
        return;
    }
    let row_len = out.len() / rows;
    let per_band = rows.div_ceil(bands).next_multiple_of(align.max(1));
    out.par_chunks_mut(per_band * row_len)
        .enumerate()
        .for_each(|(band, part)| {
            let start = band * per_band;
            run(start..start + part.len() / row_len, part);
        });
}

#[derive(Debug, Deserialize)]
struct GraphFile {
    input: i64,
    input_shape: [usize; 4],
    /// BlazeFace's regressors and logits, or one feature map (CenterFace's heads).
    outputs: Vec<i64>,
    ops: Vec<OpFile>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum OpFile {
    Conv {
        x: i64,
        y: i64,
        param: String,
        bias: bool,
        stride: [usize; 2],
        pad: [usize; 4],
        groups: usize,
        relu: bool,
    },
    Add {
        x: [i64; 2],
        y: i64,
        relu: bool,
    },
    Relu {
        x: i64,
        y: i64,
    },
    Maxpool {
        x: i64,
        y: i64,
        kernel: [usize; 2],
        stride: [usize; 2],
    },
    Pad {
        x: i64,
        y: i64,
        pad: [[usize; 2]; 4],
    },
    Reshape {
        x: i64,
        y: i64,
        shape: Vec<usize>,
    },
    Concat {
        x: Vec<i64>,
        y: i64,
        axis: usize,
    },
    ResizeBilinear {
        x: i64,
        y: i64,
        size: [usize; 2],
        align_corners: bool,
        half_pixel: bool,
    },
    DepthToSpace {
        x: i64,
        y: i64,
        block: usize,
    },
}

/// A convolution's weights, laid out for the NHWC loops.
#[derive(Debug, Clone)]
enum Kernel {
    /// A full convolution as a matrix `[kh·kw·in, out]` (rows in (ky, kx, in) order).
    Dense { matrix: Vec<f32>, input: usize },
    /// A depthwise convolution (one filter per channel) as `[kh·kw, channels]`.
    Depthwise(Box<Depthwise>),
}

/// A depthwise convolution's weights, also repeated across a block of pixels so that the
/// stride-1 loops multiply long contiguous runs of a row (see [`Conv::depthwise_rows`]) rather
/// than one pixel's few channels at a time.
#[derive(Debug, Clone)]
struct Depthwise {
    /// `[kh·kw, channels]`.
    taps: Vec<f32>,
    /// Pixels per block.
    block: usize,
    /// `[kh·kw, block, channels]`: each tap's weights repeated for `block` pixels.
    block_taps: Vec<f32>,
    /// `[block, channels]`: the bias repeated for `block` pixels.
    block_bias: Vec<f32>,
}

impl Depthwise {
    /// Floats per block, about: small enough for the block, its tiled weights and its inputs to
    /// stay in the first-level cache, long enough for the loops to run at full vector width.
    const BLOCK_FLOATS: usize = 192;

    fn new(taps: Vec<f32>, bias: &[f32]) -> Self {
        let channels = bias.len();
        // A whole number of 8-float vectors per block where the channels allow it.
        let step = 8 / gcd(channels, 8);
        let block = (Self::BLOCK_FLOATS / channels / step * step).max(step);
        let tiled = |values: &[f32]| -> Vec<f32> {
            values
                .chunks_exact(channels)
                .flat_map(|tap| std::iter::repeat_n(tap, block).flatten().copied())
                .collect()
        };
        Self {
            block_taps: tiled(&taps),
            block_bias: tiled(bias),
            taps,
            block,
        }
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[derive(Debug, Clone)]
struct Conv {
    kernel: Kernel,
    bias: Vec<f32>,
    output: usize,
    size: [usize; 2],
    stride: [usize; 2],
    /// Zero padding as (top, bottom, left, right).
    pad: [usize; 4],
    relu: bool,
}

/// One step of the network.
#[derive(Debug, Clone)]
enum Op {
    Conv {
        x: usize,
        y: usize,
        conv: Box<Conv>,
        /// A map added to the output after the bias, into its first channels, before the
        /// ReLU (a BlazeBlock's shortcut, folded in by [`Network::fuse_epilogues`]).
        residual: Option<usize>,
    },
    Add {
        x: [usize; 2],
        y: usize,
        relu: bool,
    },
    Relu {
        x: usize,
        y: usize,
    },
    MaxPool {
        x: usize,
        y: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
    },
    /// Zero padding, as (begin, end) pairs for the NHWC axes (never the batch axis).
    Pad {
        x: usize,
        y: usize,
        pad: [[usize; 2]; 3],
    },
    /// An NHWC reshape to rank 3 (the detection heads): `[n, h·w·c / last, last]`.
    Flatten {
        x: usize,
        y: usize,
        last: usize,
    },
    /// Concatenation along an axis of rank-3 values, or along channels of rank-4 values.
    Concat {
        x: Vec<usize>,
        y: usize,
        axis: usize,
    },
    Resize {
        x: usize,
        y: usize,
        size: [usize; 2],
        align_corners: bool,
    },
    DepthToSpace {
        x: usize,
        y: usize,
        block: usize,
    },
}

/// A value flowing through the graph: a feature map `[n, h, w, c]` or detection rows
/// `[n, rows, values]`, row-major either way.
#[derive(Debug, Clone)]
enum Value {
    Map { shape: [usize; 4], data: Vec<f32> },
    Rows { shape: [usize; 3], data: Vec<f32> },
}

/// A converted BlazeFace network, ready to run on batches of square RGB inputs.
#[derive(Debug, Clone)]
pub(crate) struct Network {
    ops: Vec<Op>,
    /// For each value slot, how many operations read it (the outputs count once more).
    readers: Vec<usize>,
    buffers: Buffers,
    input: usize,
    outputs: Vec<usize>,
    side: usize,
}

/// Feature-map buffers kept from one run to the next, so that a run takes its maps from
/// memory already mapped and in the cache instead of asking the allocator for up to a few
/// megabytes per layer (which, depending on the allocator's thresholds, can mean fresh
/// zeroed pages, hence page faults, for every map). One run's worth of maps is kept for each
/// of the last few picture sizes run (the detector alternates 128×128 views and a larger
/// one): a run of a size seen before finds a buffer of exactly each length it asks for, in
/// order, and never has to write zeros into a buffer grown to fit. At most a few megabytes
/// for each size.
#[derive(Debug, Default)]
pub(crate) struct Buffers(std::sync::Mutex<Vec<(usize, Vec<Vec<f32>>)>>);

impl Buffers {
    /// How many picture sizes keep their buffers.
    const SIZES: usize = 4;

    /// The buffers kept for pictures of `size` values, for one run; a run of that size beside
    /// it in another thread starts without.
    pub(crate) fn take(&self, size: usize) -> Spare {
        let mut kept = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match kept.iter().position(|(kept_size, _)| *kept_size == size) {
            Some(index) => Spare(kept.remove(index).1),
            None => Spare(Vec::new()),
        }
    }

    /// Keeps a run's largest buffers (the input pictures join them) for its picture size,
    /// unless another run of that size has already put its own back; the size run longest ago
    /// makes room when too many are kept.
    pub(crate) fn put_back(&self, size: usize, mut spare: Spare) {
        /// More than a run of either model has in use at once.
        const KEPT: usize = 12;
        spare
            .0
            .sort_unstable_by_key(|buffer| std::cmp::Reverse(buffer.capacity()));
        spare.0.truncate(KEPT);
        let mut kept = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if kept.iter().any(|(kept_size, _)| *kept_size == size) {
            return;
        }
        if kept.len() >= Self::SIZES {
            kept.remove(0);
        }
        kept.push((size, spare.0));
    }
}

impl Clone for Buffers {
    fn clone(&self) -> Self {
        Self::default()
    }
}

/// The free buffers of one run.
#[derive(Default)]
pub(crate) struct Spare(Vec<Vec<f32>>);

impl Spare {
    /// A buffer of `len` values, with whatever it held before: the caller overwrites them all
    /// (or fills it first). One of exactly that length if there is one (the next run of a
    /// picture of the same size asks for the same lengths in the same order), else the
    /// smallest that can hold it; growing a shortened one writes zeros to the part regained.
    pub(crate) fn take(&mut self, len: usize) -> Vec<f32> {
        let exact = self.0.iter().position(|buffer| buffer.len() == len);
        let best = exact.or_else(|| {
            (self.0.iter().enumerate())
                .filter(|(_, buffer)| buffer.capacity() >= len)
                .min_by_key(|(_, buffer)| buffer.capacity())
                .map(|(index, _)| index)
        });
        let mut buffer = match best {
            Some(index) => self.0.swap_remove(index),
            None => return vec![0.0; len],
        };
        buffer.truncate(len);
        buffer.resize(len, 0.0);
        buffer
    }

    fn give(&mut self, value: Value) {
        match value {
            Value::Map { data, .. } | Value::Rows { data, .. } => self.give_buffer(data),
        }
    }

    pub(crate) fn give_buffer(&mut self, buffer: Vec<f32>) {
        self.0.push(buffer);
    }
}

/// The raw outputs of a batch: per input, `anchors × 16` regressor values and `anchors` logits.
pub(crate) struct RawOutput {
    pub regressors: Vec<f32>,
    pub logits: Vec<f32>,
}

impl Network {
    /// Reads a network from the bytes of a converted safetensors file.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, NetworkError> {
        let weights = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|error| NetworkError::Weights(error.to_string()))?;
        let (_, metadata) = safetensors::SafeTensors::read_metadata(bytes)
            .map_err(|error| NetworkError::Weights(error.to_string()))?;
        let graph_json = metadata
            .metadata()
            .as_ref()
            .and_then(|entries| entries.get("graph"))
            .ok_or_else(|| graph_error("no `graph` entry in the metadata"))?;
        let graph: GraphFile =
            serde_json::from_str(graph_json).map_err(|error| graph_error(error.to_string()))?;
        let [_, height, width, channels] = graph.input_shape;
        if height != width || channels != 3 || height == 0 {
            return Err(graph_error(format!(
                "input shape {:?} is not a square RGB picture",
                graph.input_shape
            )));
        }
        let mut slots = Slots::default();
        let input = slots.id(graph.input)?;
        let mut ops = Vec::with_capacity(graph.ops.len());
        for op in graph.ops {
            ops.push(op_from_file(op, &weights, &mut slots)?);
        }
        if !(1..=2).contains(&graph.outputs.len()) {
            return Err(graph_error(format!(
                "{} outputs: one or two expected",
                graph.outputs.len()
            )));
        }
        let outputs = (graph.outputs.iter())
            .map(|&output| slots.id(output))
            .collect::<Result<Vec<_>, _>>()?;
        let mut network = Self {
            ops,
            readers: Vec::new(),
            input,
            outputs,
            side: height,
            buffers: Buffers::default(),
        };
        network.count_readers(slots.count());
        network.fold_padding();
        network.fuse_epilogues();
        Ok(network)
    }

    fn count_readers(&mut self, slots: usize) {
        let mut readers = vec![0usize; slots];
        for op in &self.ops {
            for x in op.inputs() {
                readers[x] += 1;
            }
        }
        for &output in &self.outputs {
            readers[output] += 1;
        }
        self.readers = readers;
    }

    /// Folds a spatial zero padding whose only reader is a convolution into that convolution's
    /// own padding (the full-range model pads before most of its convolutions), saving a copy of
    /// the feature map per layer. The results are the same: both pad with zeros.
    fn fold_padding(&mut self) {
        let mut index = 0;
        while index < self.ops.len() {
            let Op::Pad { x, y, pad } = self.ops[index] else {
                index += 1;
                continue;
            };
            let channel_pad = pad[2] != [0, 0];
            let reader = self
                .ops
                .iter()
                .position(|op| op.inputs().contains(&y) && !matches!(op, Op::Pad { .. }));
            let foldable = !channel_pad && self.readers[y] == 1 && reader.is_some();
            if let (true, Some(reader)) = (foldable, reader)
                && let Op::Conv {
                    x: conv_x, conv, ..
                } = &mut self.ops[reader]
            {
                *conv_x = x;
                conv.pad[0] += pad[0][0];
                conv.pad[1] += pad[0][1];
                conv.pad[2] += pad[1][0];
                conv.pad[3] += pad[1][1];
                self.ops.remove(index);
                continue;
            }
            index += 1;
        }
        let slots = self.readers.len();
        self.count_readers(slots);
    }

    /// Folds a ReLU into the convolution or addition before it, and a residual addition (with
    /// the channel padding that widens its shortcut operand) into the 1×1 convolution whose
    /// output it adds, when nothing else reads the values in between: the convolution then
    /// adds its bias and the shortcut and applies the ReLU in one pass over its output, and
    /// the padded copy, the sum and the ReLU's pass are not made. Each value is computed as
    /// before, `max(0, (product + bias) + shortcut)`, so the results are the same bits.
    fn fuse_epilogues(&mut self) {
        while let Some(index) = (0..self.ops.len()).find(|&index| self.fuse_relu(index)) {
            self.ops.remove(index);
            self.count_readers(self.readers.len());
        }
        while let Some(index) = (0..self.ops.len()).find(|&index| self.fuse_add(index)) {
            self.ops.remove(index);
            self.count_readers(self.readers.len());
            self.remove_unread_padding();
        }
    }

    /// The operation that makes `slot`, if an operation does.
    fn producer(&self, slot: usize) -> Option<usize> {
        self.ops.iter().position(|op| op.output() == slot)
    }

    /// Folds the ReLU at `index` into its operand's producer if it can; true when it did (the
    /// ReLU is then left for the caller to remove).
    fn fuse_relu(&mut self, index: usize) -> bool {
        let Op::Relu { x, y } = self.ops[index] else {
            return false;
        };
        let Some(producer) = self.producer(x) else {
            return false;
        };
        if self.readers[x] != 1 {
            return false;
        }
        match &mut self.ops[producer] {
            Op::Conv {
                conv,
                residual: None,
                ..
            } if !conv.relu => conv.relu = true,
            Op::Add { relu, .. } if !*relu => *relu = true,
            _ => return false,
        }
        *self.ops[producer].output_mut() = y;
        true
    }

    /// Folds the addition at `index` into the 1×1 convolution that makes one of its operands,
    /// if it can; true when it did (the addition is then left for the caller to remove, and a
    /// channel padding that only it read is removed afterwards).
    fn fuse_add(&mut self, index: usize) -> bool {
        let Op::Add { x: [a, b], y, relu } = self.ops[index] else {
            return false;
        };
        for (product, shortcut) in [(b, a), (a, b)] {
            let Some(producer) = self.producer(product) else {
                continue;
            };
            let foldable = matches!(
                &self.ops[producer],
                Op::Conv { conv, residual: None, .. }
                    if !conv.relu && matches!(conv.kernel, Kernel::Dense { .. })
                        && conv.size == [1, 1] && conv.stride == [1, 1] && conv.pad == [0; 4]
            );
            if !foldable || self.readers[product] != 1 || product == shortcut {
                continue;
            }
            // A padding of channels at the end, read only here, is left out: the convolution
            // adds the unpadded map into its first channels.
            let shortcut = match self.producer(shortcut).map(|at| &self.ops[at]) {
                Some(Op::Pad { x, pad, .. })
                    if self.readers[shortcut] == 1
                        && pad[0] == [0, 0]
                        && pad[1] == [0, 0]
                        && pad[2][0] == 0 =>
                {
                    *x
                }
                _ => shortcut,
            };
            // The shortcut must exist when the convolution runs.
            let ready =
                shortcut == self.input || self.producer(shortcut).is_some_and(|at| at < producer);
            if !ready {
                continue;
            }
            if let Op::Conv {
                conv,
                residual,
                y: output,
                ..
            } = &mut self.ops[producer]
            {
                *residual = Some(shortcut);
                conv.relu = relu;
                *output = y;
                return true;
            }
        }
        false
    }

    /// Removes the paddings whose output nothing reads any more (after [`Network::fuse_add`]).
    fn remove_unread_padding(&mut self) {
        let readers = &self.readers;
        let outputs = &self.outputs;
        self.ops.retain(
            |op| !matches!(op, Op::Pad { y, .. } if readers[*y] == 0 && !outputs.contains(y)),
        );
    }

    /// Side of the square input, in pixels.
    pub(crate) fn side(&self) -> usize {
        self.side
    }

    /// Runs the network on `count` inputs given as NHWC values in −1..1
    /// (`count × side × side × 3`, as TFLite takes them). The inputs run one at a time: one
    /// picture's feature maps (at most 400 KB for the short-range model) stay in the processor's
    /// cache, a batch's do not (six short-range pictures took 1.6 times as long one batch as one
    /// by one).
    pub(crate) fn run(&self, pixels: Vec<f32>, count: usize) -> Result<RawOutput, NetworkError> {
        let side = self.side;
        let per_picture = 3 * side * side;
        if count == 0 || pixels.len() != count * per_picture {
            return Err(graph_error(format!(
                "{} input values for {count} pictures of {side}×{side}",
                pixels.len()
            )));
        }
        let mut output = RawOutput {
            regressors: Vec::new(),
            logits: Vec::new(),
        };
        for picture in pixels.chunks_exact(per_picture) {
            let one = self.run_one(picture.to_vec(), side, side)?;
            output.regressors.extend_from_slice(&one.regressors);
            output.logits.extend_from_slice(&one.logits);
        }
        Ok(output)
    }

    /// Runs the network on one picture of any size whose sides are multiples of 16 (the
    /// network halves its maps four times; its convolutions and pooling then work exactly as on
    /// the square input it was trained on), given as NHWC values in −1..1.
    /// The run stops between two operations, and gives `None`, once `stop` is set (by another
    /// thread that found the run will not be needed).
    pub(crate) fn run_sized(
        &self,
        pixels: Vec<f32>,
        height: usize,
        width: usize,
        stop: &AtomicBool,
    ) -> Result<Option<RawOutput>, NetworkError> {
        if height == 0 || width == 0 || !height.is_multiple_of(16) || !width.is_multiple_of(16) {
            return Err(graph_error(format!(
                "a {width}×{height} picture: both sides must be multiples of 16"
            )));
        }
        if pixels.len() != 3 * height * width {
            return Err(graph_error(format!(
                "{} input values for a picture of {width}×{height}",
                pixels.len()
            )));
        }
        match self.run_outputs(pixels, height, width, Some(stop))? {
            Some(outputs) => Self::raw_output(outputs).map(Some),
            None => Ok(None),
        }
    }

    /// Runs a network with one feature-map output (CenterFace's heads) on one picture of
    /// `height × width` pixels given as NHWC values, and returns that map's shape and values.
    /// The caller chooses sides the network can halve as often as it does.
    pub(crate) fn run_map(
        &self,
        pixels: Vec<f32>,
        height: usize,
        width: usize,
    ) -> Result<([usize; 4], Vec<f32>), NetworkError> {
        if height == 0 || width == 0 || pixels.len() != 3 * height * width {
            return Err(graph_error(format!(
                "{} input values for a picture of {width}×{height}",
                pixels.len()
            )));
        }
        let Some(outputs) = self.run_outputs(pixels, height, width, None)? else {
            return Err(graph_error("a run without a stop signal stopped"));
        };
        let mut outputs = outputs.into_iter();
        match (outputs.next(), outputs.next()) {
            (Some(Value::Map { shape, data }), None) => Ok((shape, data)),
            _ => Err(graph_error("the network's output is not one feature map")),
        }
    }

    fn run_one(
        &self,
        pixels: Vec<f32>,
        height: usize,
        width: usize,
    ) -> Result<RawOutput, NetworkError> {
        match self.run_outputs(pixels, height, width, None)? {
            Some(outputs) => Self::raw_output(outputs),
            None => Err(graph_error("a run without a stop signal stopped")),
        }
    }

    /// The regressors and logits of a BlazeFace run's two outputs.
    fn raw_output(outputs: Vec<Value>) -> Result<RawOutput, NetworkError> {
        let mut outputs = outputs.into_iter();
        match (outputs.next(), outputs.next(), outputs.next()) {
            (
                Some(Value::Rows {
                    data: regressors, ..
                }),
                Some(Value::Rows { data: logits, .. }),
                None,
            ) => Ok(RawOutput { regressors, logits }),
            _ => Err(graph_error(
                "the outputs are not two [n, rows, values] tensors",
            )),
        }
    }

    /// Runs every operation on one picture and returns the output values, in order; `None` if
    /// `stop` was set before the last operation.
    fn run_outputs(
        &self,
        pixels: Vec<f32>,
        height: usize,
        width: usize,
        stop: Option<&AtomicBool>,
    ) -> Result<Option<Vec<Value>>, NetworkError> {
        let size = pixels.len();
        let mut spare = self.buffers.take(size);
        let mut values: Vec<Option<Value>> = vec![None; self.readers.len()];
        let mut left = self.readers.clone();
        values[self.input] = Some(Value::Map {
            shape: [1, height, width, 3],
            data: pixels,
        });
        for op in &self.ops {
            if stop.is_some_and(|stop| stop.load(Ordering::Relaxed)) {
                self.buffers.put_back(size, spare);
                return Ok(None);
            }
            let output = step(op, &mut values, &mut left, &mut spare)?;
            values[op.output()] = Some(output);
        }
        let outputs = (self.outputs.iter())
            .map(|&slot| values[slot].take())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| graph_error("an output was never computed"))?;
        self.buffers.put_back(size, spare);
        Ok(Some(outputs))
    }
}

fn op_from_file(
    op: OpFile,
    weights: &safetensors::SafeTensors<'_>,
    slots: &mut Slots,
) -> Result<Op, NetworkError> {
    Ok(match op {
        OpFile::Conv {
            x,
            y,
            param,
            bias,
            stride,
            pad,
            groups,
            relu,
        } => {
            if stride.contains(&0) || groups == 0 {
                return Err(graph_error(format!("{param}: zero stride or groups")));
            }
            let (weight, shape) = tensor(weights, &format!("{param}.weight"), 4)?;
            let [output, per_group, kh, kw] = [shape[0], shape[1], shape[2], shape[3]];
            if output == 0 || per_group == 0 || kh == 0 || kw == 0 {
                return Err(graph_error(format!("{param}: an empty kernel")));
            }
            let bias = if bias {
                let (bias, shape) = tensor(weights, &format!("{param}.bias"), 1)?;
                if shape[0] != output {
                    return Err(graph_error(format!("{param}: {} biases", shape[0])));
                }
                bias
            } else {
                vec![0.0; output]
            };
            let kernel = if groups == 1 {
                // [out, in, kh, kw] → [(ky, kx, in), out]
                let mut matrix = vec![0.0; weight.len()];
                for o in 0..output {
                    for i in 0..per_group {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let from = ((o * per_group + i) * kh + ky) * kw + kx;
                                let row = (ky * kw + kx) * per_group + i;
                                matrix[row * output + o] = weight[from];
                            }
                        }
                    }
                }
                Kernel::Dense {
                    matrix,
                    input: per_group,
                }
            } else if per_group == 1 && groups == output {
                // [c, 1, kh, kw] → [(ky, kx), c]
                let mut taps = vec![0.0; weight.len()];
                for c in 0..output {
                    for tap in 0..kh * kw {
                        taps[tap * output + c] = weight[c * kh * kw + tap];
                    }
                }
                Kernel::Depthwise(Box::new(Depthwise::new(taps, &bias)))
            } else {
                return Err(graph_error(format!(
                    "{param}: grouped convolutions other than depthwise are not supported"
                )));
            };
            Op::Conv {
                x: slots.id(x)?,
                y: slots.id(y)?,
                residual: None,
                conv: Box::new(Conv {
                    kernel,
                    bias,
                    output,
                    size: [kh, kw],
                    stride,
                    pad,
                    relu,
                }),
            }
        }
        OpFile::Add { x, y, relu } => Op::Add {
            x: [slots.id(x[0])?, slots.id(x[1])?],
            y: slots.id(y)?,
            relu,
        },
        OpFile::Relu { x, y } => Op::Relu {
            x: slots.id(x)?,
            y: slots.id(y)?,
        },
        OpFile::Maxpool {
            x,
            y,
            kernel,
            stride,
        } => {
            if stride.contains(&0) || kernel.contains(&0) {
                return Err(graph_error("pooling with a zero size"));
            }
            Op::MaxPool {
                x: slots.id(x)?,
                y: slots.id(y)?,
                kernel,
                stride,
            }
        }
        OpFile::Pad { x, y, pad } => {
            if pad[0] != [0, 0] {
                return Err(graph_error("padding of the batch axis"));
            }
            Op::Pad {
                x: slots.id(x)?,
                y: slots.id(y)?,
                pad: [pad[1], pad[2], pad[3]],
            }
        }
        OpFile::Reshape { x, y, shape } => {
            let last = match shape.as_slice() {
                [_, _, last] if *last > 0 => *last,
                _ => {
                    return Err(graph_error(format!(
                        "only reshapes to [n, rows, values] are supported, not {shape:?}"
                    )));
                }
            };
            Op::Flatten {
                x: slots.id(x)?,
                y: slots.id(y)?,
                last,
            }
        }
        OpFile::Concat { x, y, axis } => Op::Concat {
            x: x.into_iter()
                .map(|x| slots.id(x))
                .collect::<Result<_, _>>()?,
            y: slots.id(y)?,
            axis,
        },
        OpFile::ResizeBilinear {
            x,
            y,
            size,
            align_corners,
            half_pixel,
        } => {
            if !align_corners && !half_pixel {
                return Err(graph_error(
                    "legacy bilinear resizing (neither aligned corners nor half-pixel centres)",
                ));
            }
            if size.contains(&0) {
                return Err(graph_error("resizing to nothing"));
            }
            Op::Resize {
                x: slots.id(x)?,
                y: slots.id(y)?,
                size,
                align_corners,
            }
        }
        OpFile::DepthToSpace { x, y, block } => {
            if block == 0 {
                return Err(graph_error("depth to space with block 0"));
            }
            Op::DepthToSpace {
                x: slots.id(x)?,
                y: slots.id(y)?,
                block,
            }
        }
    })
}

/// Runs one operation. Inputs are read in place; one that no later operation reads is dropped
/// afterwards, or reused as the output where the operation works in place (additions, ReLU,
/// reshapes).
fn step(
    op: &Op,
    values: &mut [Option<Value>],
    left: &mut [usize],
    spare: &mut Spare,
) -> Result<Value, NetworkError> {
    let inputs = op.inputs();
    // An input for an in-place operation: moved out when this is its last reader, else copied.
    let mut owned = |slot: usize| -> Result<Value, NetworkError> {
        left[slot] = left[slot].saturating_sub(1);
        let value = if left[slot] == 0 {
            values[slot].take()
        } else {
            values[slot].clone()
        };
        value.ok_or_else(|| graph_error(format!("value {slot} read before it is made")))
    };
    let output = match op {
        Op::Add { x, relu, .. } => {
            let a = owned(x[0])?;
            let b = owned(x[1])?;
            let same_shape = match (&a, &b) {
                (Value::Map { shape: s, .. }, Value::Map { shape: t, .. }) => s == t,
                (Value::Rows { shape: s, .. }, Value::Rows { shape: t, .. }) => s == t,
                _ => false,
            };
            if !same_shape {
                return Err(graph_error("adding values of different shapes"));
            }
            let mut sum = a;
            let arch = pulp::Arch::new();
            arch.dispatch(|| add_in_place(data_mut(&mut sum), data_of(&b), *relu));
            spare.give(b);
            return Ok(sum);
        }
        Op::Relu { x, .. } => {
            let mut value = owned(*x)?;
            let arch = pulp::Arch::new();
            arch.dispatch(|| relu_in_place(data_mut(&mut value)));
            return Ok(value);
        }
        Op::Flatten { x, last, .. } => {
            // NHWC data already is the row-major order of the detection rows.
            let ([n, h, w, c], data) = map(owned(*x)?)?;
            if (h * w * c) % last != 0 {
                return Err(graph_error("reshape does not divide evenly"));
            }
            return Ok(Value::Rows {
                shape: [n, h * w * c / last, *last],
                data,
            });
        }
        _ => read_only(op, values, spare)?,
    };
    for slot in inputs {
        left[slot] = left[slot].saturating_sub(1);
        if left[slot] == 0
            && let Some(value) = values[slot].take()
        {
            spare.give(value);
        }
    }
    Ok(output)
}

/// The operations that read their inputs without changing them.
fn read_only(op: &Op, values: &[Option<Value>], spare: &mut Spare) -> Result<Value, NetworkError> {
    let get = |slot: usize| -> Result<&Value, NetworkError> {
        values[slot]
            .as_ref()
            .ok_or_else(|| graph_error(format!("value {slot} read before it is made")))
    };
    let get_map = |slot: usize| -> Result<([usize; 4], &[f32]), NetworkError> {
        match get(slot)? {
            Value::Map { shape, data } => Ok((*shape, data.as_slice())),
            Value::Rows { .. } => Err(graph_error("a feature map was expected")),
        }
    };
    Ok(match op {
        Op::Conv {
            x, conv, residual, ..
        } => {
            let (shape, data) = get_map(*x)?;
            let residual = residual.map(get_map).transpose()?;
            let (shape, data) = conv.run(shape, data, residual, spare)?;
            Value::Map { shape, data }
        }
        Op::MaxPool {
            x, kernel, stride, ..
        } => {
            let (shape, data) = get_map(*x)?;
            let (shape, data) = max_pool(shape, data, *kernel, *stride, spare)?;
            Value::Map { shape, data }
        }
        Op::Pad { x, pad, .. } => {
            let (shape, data) = get_map(*x)?;
            let (shape, data) = zero_pad(shape, data, pad, spare);
            Value::Map { shape, data }
        }
        Op::Concat { x, axis, .. } => {
            let parts = x
                .iter()
                .map(|&slot| get(slot))
                .collect::<Result<Vec<_>, _>>()?;
            concat(&parts, *axis)?
        }
        Op::Resize {
            x,
            size,
            align_corners,
            ..
        } => {
            let (shape, data) = get_map(*x)?;
            let (shape, data) = resize_bilinear(shape, data, *size, *align_corners);
            Value::Map { shape, data }
        }
        Op::DepthToSpace { x, block, .. } => {
            let (shape, data) = get_map(*x)?;
            let (shape, data) = depth_to_space(shape, data, *block)?;
            Value::Map { shape, data }
        }
        Op::Add { .. } | Op::Relu { .. } | Op::Flatten { .. } => {
            return Err(graph_error("an in-place operation read as read-only"));
        }
    })
}

fn map(value: Value) -> Result<([usize; 4], Vec<f32>), NetworkError> {
    match value {
        Value::Map { shape, data } => Ok((shape, data)),
        Value::Rows { .. } => Err(graph_error("a feature map was expected")),
    }
}

fn data_of(value: &Value) -> &[f32] {
    match value {
        Value::Map { data, .. } | Value::Rows { data, .. } => data,
    }
}

fn data_mut(value: &mut Value) -> &mut [f32] {
    match value {
        Value::Map { data, .. } | Value::Rows { data, .. } => data,
    }
}

/// A convolution of a network built outside the interpreter (MTCNN's ONet, `crate::onet`): a
/// full convolution of stride 1 without padding (a 1×1 one for a dense layer), run by the
/// interpreter's own loops, with its bias.
#[derive(Debug, Clone)]
pub(crate) struct PlainConv(Conv);

impl PlainConv {
    /// `weights` `[kernel, kernel, input, output]` (row-major, as Keras and TFLite store them),
    /// `bias` `[output]`.
    pub(crate) fn new(
        kernel: usize,
        input: usize,
        weights: Vec<f32>,
        bias: Vec<f32>,
    ) -> Result<Self, NetworkError> {
        let output = bias.len();
        if kernel == 0
            || input == 0
            || output == 0
            || weights.len() != kernel * kernel * input * output
        {
            return Err(NetworkError::Weights(format!(
                "a {kernel}×{kernel} convolution from {input} to {output} channels with {} weights",
                weights.len()
            )));
        }
        Ok(Self(Conv {
            kernel: Kernel::Dense {
                matrix: weights,
                input,
            },
            bias,
            output,
            size: [kernel, kernel],
            stride: [1, 1],
            pad: [0; 4],
            relu: false,
        }))
    }

    /// The convolution of one `[height, width, input]` map: the output's height, width and
    /// values `[height, width, output]`, in a buffer from `spare`.
    pub(crate) fn run(
        &self,
        height: usize,
        width: usize,
        x: &[f32],
        spare: &mut Spare,
    ) -> Result<(usize, usize, Vec<f32>), NetworkError> {
        let Kernel::Dense { input, .. } = self.0.kernel else {
            return Err(graph_error("a depthwise plain convolution"));
        };
        if x.len() != height * width * input {
            return Err(graph_error(format!(
                "{} values for a {height}×{width}×{input} map",
                x.len()
            )));
        }
        let ([_, out_height, out_width, _], out) =
            self.0.run([1, height, width, input], x, None, spare)?;
        Ok((out_height, out_width, out))
    }
}

impl Conv {
    fn output_side(&self, input: usize, axis: usize) -> Result<usize, NetworkError> {
        let padded = input + self.pad[2 * axis] + self.pad[2 * axis + 1];
        if padded < self.size[axis] {
            return Err(graph_error("a convolution larger than its input"));
        }
        Ok((padded - self.size[axis]) / self.stride[axis] + 1)
    }

    /// Runs the convolution, adding `residual` into the first channels of its output if given
    /// (see [`Network::fuse_epilogues`]); its output buffer comes from `spare` and is wholly
    /// overwritten.
    fn run(
        &self,
        shape: [usize; 4],
        x: &[f32],
        residual: Option<([usize; 4], &[f32])>,
        spare: &mut Spare,
    ) -> Result<([usize; 4], Vec<f32>), NetworkError> {
        let [n, h, w, c] = shape;
        let (oh, ow) = (self.output_side(h, 0)?, self.output_side(w, 1)?);
        let out_shape = [n, oh, ow, self.output];
        let pointwise = self.size == [1, 1] && self.stride == [1, 1] && self.pad == [0; 4];
        let residual = match residual {
            None => None,
            Some(([rn, rh, rw, rc], data)) => {
                if !pointwise || [rn, rh, rw] != [n, oh, ow] || rc > self.output {
                    return Err(graph_error("a shortcut that does not fit its convolution"));
                }
                Some((data, rc))
            }
        };
        let mut out = spare.take(n * oh * ow * self.output);
        match &self.kernel {
            Kernel::Dense { matrix, input } => {
                if *input != c {
                    return Err(graph_error(format!(
                        "a convolution for {input} channels given {c}"
                    )));
                }
                if !pointwise {
                    // A first layer's 5×5 (or 3×3) convolution of the RGB input, or one of
                    // ONet's: a direct loop beats an im2col copy plus a matrix product. It reads
                    // the input in a zero-padded frame, so that every patch row is one
                    // contiguous run of `kw·in` values, or the input itself when there is no
                    // padding (ONet's valid convolutions).
                    let [top, bottom, left, right] = self.pad;
                    let (ph, pw) = (h + top + bottom, w + left + right);
                    let frame = (self.pad != [0; 4]).then(|| {
                        let mut frame = spare.take(n * ph * pw * c);
                        for (picture, x) in frame
                            .chunks_exact_mut(ph * pw * c)
                            .zip(x.chunks_exact(h * w * c))
                        {
                            let (above, rest) = picture.split_at_mut(top * pw * c);
                            let (inside, below) = rest.split_at_mut(h * pw * c);
                            above.fill(0.0);
                            below.fill(0.0);
                            for (row, x) in
                                inside.chunks_exact_mut(pw * c).zip(x.chunks_exact(w * c))
                            {
                                let (before, rest) = row.split_at_mut(left * c);
                                let (picture_row, after) = rest.split_at_mut(w * c);
                                before.fill(0.0);
                                picture_row.copy_from_slice(x);
                                after.fill(0.0);
                            }
                        }
                        frame
                    });
                    let padded = frame.as_deref().unwrap_or(x);
                    let [kh, kw] = self.size;
                    in_bands(
                        &mut out,
                        n * oh,
                        1,
                        ow * self.output * kh * kw * c,
                        |rows, out| {
                            pulp::Arch::new().dispatch(DenseRun {
                                conv: self,
                                matrix,
                                padded_shape: [n, ph, pw, c],
                                padded,
                                out_rows: OutRows {
                                    side: [oh, ow],
                                    rows,
                                },
                                out,
                            });
                        },
                    );
                    if let Some(frame) = frame {
                        spare.give_buffer(frame);
                    }
                    return Ok((out_shape, out));
                }
                if self.output >= pulp::Arch::new().dispatch(Lanes) {
                    // Bands of whole four-pixel blocks, so that a band's pixels are grouped
                    // as they are in one piece.
                    in_bands(&mut out, n * h * w, 4, c * self.output, |pixels, out| {
                        pulp::Arch::new().dispatch(PointwiseRun {
                            matrix,
                            bias: &self.bias,
                            x: &x[pixels.start * c..pixels.end * c],
                            residual: residual.map(|(data, width)| {
                                (&data[pixels.start * width..pixels.end * width], width)
                            }),
                            relu: self.relu,
                            out,
                        });
                    });
                    return Ok((out_shape, out));
                }
                let rows = n * h * w;
                let lhs = ArrayView2::from_shape((rows, c), x)
                    .map_err(|error| graph_error(error.to_string()))?;
                let rhs = ArrayView2::from_shape((c, self.output), matrix.as_slice())
                    .map_err(|error| graph_error(error.to_string()))?;
                let mut product = ArrayViewMut2::from_shape((rows, self.output), &mut out)
                    .map_err(|error| graph_error(error.to_string()))?;
                general_mat_mul(1.0, &lhs, &rhs, 0.0, &mut product);
            }
            Kernel::Depthwise(depthwise) => {
                if self.output != c {
                    return Err(graph_error(format!(
                        "a depthwise convolution for {} channels given {c}",
                        self.output
                    )));
                }
                // The depthwise loops add the bias (and apply ReLU) themselves, while the
                // pixels are in the cache.
                let [kh, kw] = self.size;
                in_bands(&mut out, n * oh, 1, ow * c * kh * kw, |rows, out| {
                    pulp::Arch::new().dispatch(DepthwiseRun {
                        conv: self,
                        depthwise,
                        shape,
                        x,
                        out_rows: OutRows {
                            side: [oh, ow],
                            rows,
                        },
                        out,
                    });
                });
                return Ok((out_shape, out));
            }
        }
        pulp::Arch::new().dispatch(Epilogue {
            out: &mut out,
            bias: &self.bias,
            residual,
            relu: self.relu,
        });
        Ok((out_shape, out))
    }

    /// A stride-1 depthwise convolution, output row by output row: where the whole kernel lies
    /// inside the input, a block of pixels takes each tap as one contiguous multiply-add over
    /// all its pixels' channels (the input pixels under a tap are consecutive in NHWC, and the
    /// tap's weights are tiled across the block); the few border pixels go one at a time.
    /// Each output value sums its taps in the same order as [`Conv::depthwise`], so both give
    /// the same bits. Inlined into its caller's `pulp` dispatch.
    #[inline(always)]
    fn depthwise_rows<S: pulp::Simd>(
        &self,
        simd: S,
        [n, h, w, c]: [usize; 4],
        x: &[f32],
        depthwise: &Depthwise,
        OutRows {
            side: [oh, ow],
            rows,
        }: OutRows,
        out: &mut [f32],
    ) {
        let [kh, kw] = self.size;
        let [top, _, left, _] = self.pad;
        let Depthwise {
            taps,
            block,
            block_taps,
            block_bias,
        } = depthwise;
        let block = *block;
        // Output columns whose kernel lies wholly inside the input: `ox - left ≥ 0` and
        // `ox - left + kw ≤ w`.
        let first = left.min(ow);
        let end = (w + left + 1).saturating_sub(kw).clamp(first, ow);
        debug_assert!(rows.end <= n * oh);
        for out_row in rows.clone() {
            let (b, oy) = (out_row / oh, out_row % oh);
            let image = &x[b * h * w * c..][..h * w * c];
            let ky0 = top.saturating_sub(oy);
            let ky1 = kh.min((h + top).saturating_sub(oy));
            let row = &mut out[(out_row - rows.start) * ow * c..][..ow * c];
            for ox in (0..first).chain(end..ow) {
                let pixel = &mut row[ox * c..][..c];
                self.depthwise_pixel(image, [h, w, c], taps, [oy, ox], pixel);
            }
            let interior = Interior3 {
                rows: &image[(oy + ky0 - top) * w * c..(oy + ky1 - top) * w * c],
                taps: &taps[ky0 * kw * c..ky1 * kw * c],
                bias: &self.bias,
                relu: self.relu,
                column: first - left,
                pixels: end - first,
            };
            if kw == 3 && c >= S::F32_LANES {
                match ky1 - ky0 {
                    3 => interior.run::<S, 3, 1>(simd, &mut row[first * c..end * c]),
                    2 => interior.run::<S, 2, 1>(simd, &mut row[first * c..end * c]),
                    1 => interior.run::<S, 1, 1>(simd, &mut row[first * c..end * c]),
                    _ => row[first * c..end * c].fill(0.0),
                }
                continue;
            }
            for start in (first..end).step_by(block) {
                let len = block.min(end - start) * c;
                let span = &mut row[start * c..][..len];
                span.fill(0.0);
                for ky in ky0..ky1 {
                    let input_row = &image[(oy + ky - top) * w * c..][..w * c];
                    for kx in 0..kw {
                        let input = &input_row[(start + kx - left) * c..][..len];
                        let weights = &block_taps[(ky * kw + kx) * block * c..][..len];
                        multiply_add(span, input, weights);
                    }
                }
                add_bias(span, &block_bias[..len], self.relu);
            }
        }
    }

    /// A stride-2 3×3 depthwise convolution (at least one vector of channels), output row by
    /// output row: the pixels whose window lies wholly inside the input go through
    /// [`Interior3`] four at a time, the border pixels through [`Conv::depthwise_pixel`]. Both
    /// sum the taps in the same order as [`Conv::depthwise`], so all three give the same bits.
    #[inline(always)]
    fn depthwise_rows_stride2<S: pulp::Simd>(
        &self,
        simd: S,
        [n, h, w, c]: [usize; 4],
        x: &[f32],
        taps: &[f32],
        OutRows {
            side: [oh, ow],
            rows,
        }: OutRows,
        out: &mut [f32],
    ) {
        let [top, _, left, _] = self.pad;
        // Output columns whose window lies inside the input: `2·ox ≥ left` and
        // `2·ox − left + 3 ≤ w`.
        let first = left.div_ceil(2).min(ow);
        let end = if w + left >= 3 {
            ((w + left - 3) / 2 + 1).clamp(first, ow)
        } else {
            first
        };
        debug_assert!(rows.end <= n * oh);
        for out_row in rows.clone() {
            let (b, oy) = (out_row / oh, out_row % oh);
            let image = &x[b * h * w * c..][..h * w * c];
            let ky0 = top.saturating_sub(2 * oy);
            let ky1 = 3.min((h + top).saturating_sub(2 * oy));
            let row = &mut out[(out_row - rows.start) * ow * c..][..ow * c];
            let border = if ky1 > ky0 && first < end {
                first..end
            } else {
                // No window of this row lies wholly inside the input.
                ow..ow
            };
            for ox in (0..border.start).chain(border.end..ow) {
                let pixel = &mut row[ox * c..][..c];
                self.depthwise_pixel(image, [h, w, c], taps, [oy, ox], pixel);
            }
            if border.is_empty() {
                continue;
            }
            let input_row = 2 * oy + ky0 - top;
            let interior = Interior3 {
                rows: &image[input_row * w * c..(input_row + ky1 - ky0) * w * c],
                taps: &taps[ky0 * 3 * c..ky1 * 3 * c],
                bias: &self.bias,
                relu: self.relu,
                column: 2 * first - left,
                pixels: end - first,
            };
            let span = &mut row[first * c..end * c];
            match ky1 - ky0 {
                3 => interior.run::<S, 3, 2>(simd, span),
                2 => interior.run::<S, 2, 2>(simd, span),
                _ => interior.run::<S, 1, 2>(simd, span),
            }
        }
    }

    /// The general depthwise convolution (any stride), one output pixel at a time. Inlined
    /// into its caller's `pulp` dispatch, so that the loops are compiled for the processor's
    /// vector width.
    #[inline(always)]
    fn depthwise(
        &self,
        [n, h, w, c]: [usize; 4],
        x: &[f32],
        taps: &[f32],
        OutRows {
            side: [oh, ow],
            rows,
        }: OutRows,
        out: &mut [f32],
    ) {
        debug_assert!(rows.end <= n * oh);
        for out_row in rows.clone() {
            let (b, oy) = (out_row / oh, out_row % oh);
            let image = &x[b * h * w * c..][..h * w * c];
            let row = &mut out[(out_row - rows.start) * ow * c..][..ow * c];
            for (ox, pixel) in row.chunks_exact_mut(c).enumerate() {
                self.depthwise_pixel(image, [h, w, c], taps, [oy, ox], pixel);
            }
        }
    }

    /// One output pixel of a depthwise convolution (any stride): the products of its taps that
    /// fall inside the input, summed in (ky, kx) order from zero, then the bias and the ReLU.
    /// The border pixels of [`Conv::depthwise_rows`] and every pixel of [`Conv::depthwise`].
    #[inline(always)]
    fn depthwise_pixel(
        &self,
        image: &[f32],
        [h, w, c]: [usize; 3],
        taps: &[f32],
        [oy, ox]: [usize; 2],
        pixel: &mut [f32],
    ) {
        let [kh, kw] = self.size;
        // The kernel rows (columns) that fall inside the input for this output row (column).
        let inside = |o: usize, stride: usize, pad: usize, k: usize, len: usize| {
            let start = o * stride;
            (
                pad.saturating_sub(start),
                k.min((len + pad).saturating_sub(start)),
            )
        };
        let (ky0, ky1) = inside(oy, self.stride[0], self.pad[0], kh, h);
        let (kx0, kx1) = inside(ox, self.stride[1], self.pad[2], kw, w);
        pixel.fill(0.0);
        for ky in ky0..ky1 {
            let iy = oy * self.stride[0] + ky - self.pad[0];
            for kx in kx0..kx1 {
                let ix = ox * self.stride[1] + kx - self.pad[2];
                let input = &image[(iy * w + ix) * c..][..c];
                multiply_add(pixel, input, &taps[(ky * kw + kx) * c..][..c]);
            }
        }
        add_bias(pixel, &self.bias, self.relu);
    }
}

/// A depthwise convolution's arguments, for `pulp`'s run-time dispatch: its `with_simd` is
/// inlined into a function compiled for the processor's vector width, and so are the loops it
/// calls. (A closure passed to `dispatch` is not reliably inlined; the depthwise loops were then
/// compiled for plain SSE2.)
struct DepthwiseRun<'a> {
    conv: &'a Conv,
    depthwise: &'a Depthwise,
    shape: [usize; 4],
    x: &'a [f32],
    out_rows: OutRows,
    out: &'a mut [f32],
}

impl pulp::WithSimd for DepthwiseRun<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let Self {
            conv,
            depthwise,
            shape,
            x,
            out_rows,
            out,
        } = self;
        if conv.stride == [1, 1] {
            conv.depthwise_rows(simd, shape, x, depthwise, out_rows, out);
        } else if conv.stride == [2, 2] && conv.size == [3, 3] && shape[3] >= S::F32_LANES {
            conv.depthwise_rows_stride2(simd, shape, x, &depthwise.taps, out_rows, out);
        } else {
            conv.depthwise(shape, x, &depthwise.taps, out_rows, out);
        }
    }
}

/// The inside of one output row of a stride-1 or stride-2 3×3 depthwise convolution: the
/// pixels whose 3×3 window lies wholly inside the input.
struct Interior3<'a> {
    /// The input rows under the kernel rows that fall inside the input, `[rows, w, c]`.
    rows: &'a [f32],
    /// Those kernel rows' taps, `[rows, 3, c]`.
    taps: &'a [f32],
    bias: &'a [f32],
    relu: bool,
    /// The input column of the first output pixel's leftmost tap.
    column: usize,
    /// How many output pixels.
    pixels: usize,
}

impl Interior3<'_> {
    /// Writes the row's inside pixels to `out` (`[pixels, c]`), with `ROWS` kernel rows inside
    /// the input: four output pixels at a time and, for those, one vector of channels at a
    /// time, the four sums in registers; a block's input pixels (six per kernel row) stay in
    /// the first-level cache while its channels are worked through, where the loop this
    /// replaced went along the whole row once per vector of channels and read each input
    /// vector three times from farther away. Each value sums its taps (products, not fused) in
    /// (ky, kx) order from zero and then adds the bias, as [`Conv::depthwise`] does, so the
    /// results are the same bits. When the channels are not a whole number of vectors, the
    /// last vector overlaps the one before (its shared channels are computed twice, alike).
    /// Needs at least one vector of channels. With `STRIDE` 2, output pixel `i`'s window
    /// starts `2·i` input columns after the first's.
    #[inline(always)]
    fn run<S: pulp::Simd, const ROWS: usize, const STRIDE: usize>(&self, simd: S, out: &mut [f32]) {
        let c = self.bias.len();
        let w = self.rows.len() / ROWS / c;
        let rows: [&[f32]; ROWS] = std::array::from_fn(|row| &self.rows[row * w * c..][..w * c]);
        let mut pixel = 0;
        while pixel + 4 <= self.pixels {
            let column = self.column + pixel * STRIDE;
            self.block::<S, ROWS, 4, STRIDE>(simd, &rows, column, &mut out[pixel * c..]);
            pixel += 4;
        }
        while pixel < self.pixels {
            let column = self.column + pixel * STRIDE;
            self.block::<S, ROWS, 1, STRIDE>(simd, &rows, column, &mut out[pixel * c..]);
            pixel += 1;
        }
    }

    /// `PIXELS` consecutive output pixels from input column `column` on, every channel, into
    /// the start of `out`.
    #[inline(always)]
    fn block<S: pulp::Simd, const ROWS: usize, const PIXELS: usize, const STRIDE: usize>(
        &self,
        simd: S,
        rows: &[&[f32]; ROWS],
        column: usize,
        out: &mut [f32],
    ) {
        let lanes = S::F32_LANES;
        let c = self.bias.len();
        let load = |values: &[f32], at: usize| S::as_simd_f32s(&values[at..at + lanes]).0[0];
        let zero = simd.splat_f32s(0.0);
        let span = (PIXELS - 1) * STRIDE + 3;
        let windows: [&[f32]; ROWS] =
            std::array::from_fn(|row| &rows[row][column * c..(column + span) * c]);
        let out = &mut out[..PIXELS * c];
        let mut start = 0;
        while start < c {
            let channel = start.min(c - lanes);
            let mut sums = [zero; PIXELS];
            for (row, window) in windows.iter().enumerate() {
                let taps: [S::f32s; 3] =
                    std::array::from_fn(|kx| load(self.taps, (row * 3 + kx) * c + channel));
                // Each pixel's taps in (ky, kx) order.
                for (kx, &tap) in taps.iter().enumerate() {
                    for (pixel, sum) in sums.iter_mut().enumerate() {
                        let input = load(window, (pixel * STRIDE + kx) * c + channel);
                        *sum = simd.add_f32s(*sum, simd.mul_f32s(input, tap));
                    }
                }
            }
            let bias = load(self.bias, channel);
            for (pixel, &sum) in sums.iter().enumerate() {
                let mut value = simd.add_f32s(sum, bias);
                if self.relu {
                    value = simd.max_f32s(value, zero);
                }
                S::as_mut_simd_f32s(&mut out[pixel * c + channel..][..lanes]).0[0] = value;
            }
            start += lanes;
        }
    }
}

/// A full (not depthwise) convolution's arguments, for `pulp`'s dispatch (see
/// [`DepthwiseRun`]).
struct DenseRun<'a> {
    conv: &'a Conv,
    /// `[(ky, kx, in), out]`.
    matrix: &'a [f32],
    /// `[n, h + top + bottom, w + left + right, in]`.
    padded_shape: [usize; 4],
    /// The zero-padded input.
    padded: &'a [f32],
    out_rows: OutRows,
    out: &'a mut [f32],
}

impl pulp::WithSimd for DenseRun<'_> {
    type Output = ();

    /// Each output pixel sums its taps in (ky, kx, in) order with fused multiply-adds, starting
    /// from zero, then adds the bias: the order and rounding of `matrixmultiply`'s kernel on an
    /// im2col matrix (one pass, as the depth of the BlazeFace and CenterFace first layers is
    /// below its 256-deep blocks), so the results are the same bits. ONet's deeper
    /// convolutions ([`PlainConv`], up to 576) are summed in one pass too.
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let Self {
            conv,
            matrix,
            padded_shape: [_, ph, pw, c],
            padded,
            out_rows: OutRows {
                side: [oh, ow],
                rows,
            },
            out,
        } = self;
        let [kh, kw] = conv.size;
        let [sy, sx] = conv.stride;
        let lanes = S::F32_LANES;
        let outputs = conv.output;
        if outputs >= lanes {
            let starts: Vec<usize> = (0..outputs.div_ceil(lanes))
                .map(|chunk| (chunk * lanes).min(outputs - lanes))
                .collect();
            let products = Products {
                weights: matrix,
                bias: &conv.bias,
                outputs,
                relu: conv.relu,
            };
            let segments = [kh, kw * c, pw * c];
            // Four pixels by up to four vectors of sums in registers with 32 of them (AVX-512),
            // by up to three with 16.
            let group_size = if lanes >= 16 { 4 } else { 3 };
            for row in rows.clone() {
                let (b, oy) = (row / oh, row % oh);
                let frame = &padded[b * ph * pw * c..][..ph * pw * c];
                let out_row = &mut out[(row - rows.start) * ow * outputs..][..ow * outputs];
                let patch = |ox: usize| &frame[(oy * sy * pw + ox * sx) * c..];
                let mut first = 0;
                while first < ow {
                    let count = (ow - first).min(4);
                    let block = &mut out_row[first * outputs..(first + count) * outputs];
                    for group in starts.chunks(group_size) {
                        if count == 4 {
                            let inputs = std::array::from_fn(|p| patch(first + p));
                            products
                                .run_segments_group::<S, 4>(simd, inputs, segments, group, block);
                        } else {
                            for (p, out) in block.chunks_exact_mut(outputs).enumerate() {
                                products.run_segments_group::<S, 1>(
                                    simd,
                                    [patch(first + p)],
                                    segments,
                                    group,
                                    out,
                                );
                            }
                        }
                    }
                    first += count;
                }
            }
            return;
        }
        // The weights and bias with the outputs padded to whole vectors.
        let chunks = outputs.div_ceil(lanes);
        let padded_outputs = chunks * lanes;
        let mut weights = vec![0.0f32; matrix.len() / outputs * padded_outputs];
        for (to, from) in weights
            .chunks_exact_mut(padded_outputs)
            .zip(matrix.chunks_exact(outputs))
        {
            to[..outputs].copy_from_slice(from);
        }
        let mut bias = vec![0.0f32; padded_outputs];
        bias[..outputs].copy_from_slice(&conv.bias);
        let (weights, _) = S::as_simd_f32s(&weights);
        let (bias, _) = S::as_simd_f32s(&bias);
        for row in rows.clone() {
            let (b, oy) = (row / oh, row % oh);
            let frame = &padded[b * ph * pw * c..][..ph * pw * c];
            let kernel_rows: Vec<&[f32]> = (0..kh)
                .map(|ky| &frame[(oy * sy + ky) * pw * c..][..pw * c])
                .collect();
            let patches = DensePatches {
                rows: &kernel_rows,
                patch_row: kw * c,
                weights,
                bias,
                chunks,
                relu: conv.relu,
            };
            let out_row = &mut out[(row - rows.start) * ow * outputs..][..ow * outputs];
            for (ox, pixel) in out_row.chunks_exact_mut(outputs).enumerate() {
                let offset = ox * sx * c;
                // Up to four vectors of outputs at a time, kept in registers.
                let mut first = 0;
                while first < chunks {
                    let count = (chunks - first).min(4);
                    match count {
                        4 => patches.pixel::<4>(simd, offset, first, pixel),
                        3 => patches.pixel::<3>(simd, offset, first, pixel),
                        2 => patches.pixel::<2>(simd, offset, first, pixel),
                        _ => patches.pixel::<1>(simd, offset, first, pixel),
                    }
                    first += count;
                }
            }
        }
    }
}

/// One output row's inputs and the weights of a direct dense convolution (see [`DenseRun`]).
struct DensePatches<'a, S: pulp::Simd> {
    /// The zero-padded input rows under the kernel.
    rows: &'a [&'a [f32]],
    /// Values per patch row: `kw·in`.
    patch_row: usize,
    /// `[(ky, kx, in), chunks]` vectors of outputs.
    weights: &'a [S::f32s],
    bias: &'a [S::f32s],
    chunks: usize,
    relu: bool,
}

impl<S: pulp::Simd> DensePatches<'_, S> {
    /// The output vectors `first..first + CHUNKS` of the pixel whose patch starts `offset`
    /// values into each row, written to `pixel`.
    #[inline(always)]
    fn pixel<const CHUNKS: usize>(&self, simd: S, offset: usize, first: usize, pixel: &mut [f32]) {
        let mut sums = [simd.splat_f32s(0.0); CHUNKS];
        for (ky, row) in self.rows.iter().enumerate() {
            let patch = &row[offset..][..self.patch_row];
            let taps =
                &self.weights[ky * self.patch_row * self.chunks..][..self.patch_row * self.chunks];
            for (&input, tap) in patch.iter().zip(taps.chunks_exact(self.chunks)) {
                let input = simd.splat_f32s(input);
                for (sum, &weight) in sums.iter_mut().zip(&tap[first..first + CHUNKS]) {
                    *sum = simd.mul_add_e_f32s(input, weight, *sum);
                }
            }
        }
        let lanes = S::F32_LANES;
        for (chunk, sum) in sums.into_iter().enumerate() {
            let index = first + chunk;
            let mut value = simd.add_f32s(sum, self.bias[index]);
            if self.relu {
                value = simd.max_f32s(value, simd.splat_f32s(0.0));
            }
            let values: &[f32] = pulp::bytemuck::cast_slice(std::slice::from_ref(&value));
            let start = index * lanes;
            let width = lanes.min(pixel.len() - start);
            pixel[start..start + width].copy_from_slice(&values[..width]);
        }
    }
}

/// The number of `f32` lanes of the vectors `pulp` dispatches to.
struct Lanes;

impl pulp::WithSimd for Lanes {
    type Output = usize;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> usize {
        S::F32_LANES
    }
}

/// A 1×1 convolution's arguments, for `pulp`'s dispatch (see [`DepthwiseRun`]); at least one
/// vector of outputs.
struct PointwiseRun<'a> {
    /// `[in, out]`.
    matrix: &'a [f32],
    bias: &'a [f32],
    /// `[pixels, in]`.
    x: &'a [f32],
    residual: Option<(&'a [f32], usize)>,
    relu: bool,
    /// `[pixels, out]`.
    out: &'a mut [f32],
}

impl pulp::WithSimd for PointwiseRun<'_> {
    type Output = ();

    /// The matrix product four pixels by up to three vectors of outputs at a time (see
    /// [`pointwise_groups`]), the sums in registers, then the bias, the shortcut and the ReLU
    /// before they are stored. Each sum runs over the inputs in order with fused multiply-adds
    /// from zero, as `matrixmultiply`'s kernel does (in one pass, the depth being under its
    /// 256-deep blocks), and each value then takes `max(0, (sum + bias) + shortcut)` as
    /// [`Epilogue`] does, so the results are the same bits. When the outputs are not a whole
    /// number of vectors, the last vector overlaps the one before.
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        let Self {
            matrix,
            bias,
            x,
            residual,
            relu,
            out,
        } = self;
        let outputs = bias.len();
        let inputs = matrix.len() / outputs;
        let lanes = S::F32_LANES;
        let starts: Vec<usize> = (0..outputs.div_ceil(lanes))
            .map(|chunk| (chunk * lanes).min(outputs - lanes))
            .collect();
        let groups = pointwise_groups(starts.len());
        let products = Products {
            weights: matrix,
            bias,
            outputs,
            relu,
        };
        let pixels = x.len() / inputs;
        let pixel = |index: usize| &x[index * inputs..][..inputs];
        let shortcut = |index: usize| residual.map(|(data, width)| &data[index * width..][..width]);
        let mut first = 0;
        while first < pixels {
            let count = (pixels - first).min(4);
            let block = &mut out[first * outputs..(first + count) * outputs];
            let mut group_start = 0;
            for &group_len in &groups {
                let group = &starts[group_start..group_start + group_len];
                group_start += group_len;
                if count == 4 {
                    let inputs = std::array::from_fn(|p| pixel(first + p));
                    let shortcuts = residual.map(|(data, width)| {
                        std::array::from_fn(|p| &data[(first + p) * width..][..width])
                    });
                    products.run_group::<S, 4>(simd, inputs, group, shortcuts, block);
                } else {
                    for (index, out) in block.chunks_exact_mut(outputs).enumerate() {
                        let shortcuts = shortcut(first + index).map(|shortcut| [shortcut]);
                        let inputs = [pixel(first + index)];
                        products.run_group::<S, 1>(simd, inputs, group, shortcuts, out);
                    }
                }
            }
            first += count;
        }
    }
}

/// How a 1×1 convolution's `vectors` vectors of outputs are split into groups whose sums
/// stay in registers together, four pixels at a time: groups of three, but two groups of two
/// where the last group would otherwise have one vector, whose four sums leave the
/// multiply-add units idle half the time (two units, four cycles from one multiply-add to the
/// next on the same sum).
fn pointwise_groups(vectors: usize) -> Vec<usize> {
    let mut groups = vec![3; vectors / 3];
    match vectors % 3 {
        0 => {}
        1 if !groups.is_empty() => {
            groups.pop();
            groups.extend([2, 2]);
        }
        rest => groups.push(rest),
    }
    groups
}

/// A matrix product's weights `[depth, outputs]` and bias, for blocks of pixels.
struct Products<'a> {
    weights: &'a [f32],
    bias: &'a [f32],
    outputs: usize,
    relu: bool,
}

impl Products<'_> {
    /// [`Products::run_segments`] for the one to four output vectors starting at `group`.
    #[inline(always)]
    fn run_segments_group<S: pulp::Simd, const PIXELS: usize>(
        &self,
        simd: S,
        inputs: [&[f32]; PIXELS],
        segments: [usize; 3],
        group: &[usize],
        out: &mut [f32],
    ) {
        match *group {
            [a, b, c, d] => {
                self.run_segments::<S, PIXELS, 4>(simd, inputs, segments, [a, b, c, d], out);
            }
            [a, b, c] => self.run_segments::<S, PIXELS, 3>(simd, inputs, segments, [a, b, c], out),
            [a, b] => self.run_segments::<S, PIXELS, 2>(simd, inputs, segments, [a, b], out),
            _ => self.run_segments::<S, PIXELS, 1>(simd, inputs, segments, [group[0]], out),
        }
    }

    /// As [`Products::run`] for pixels whose inputs are `segments` runs of `segment_len`
    /// values, `segment_stride` apart in `inputs[pixel]` (a full convolution's patch rows in
    /// a zero-padded input), in one pass whatever the depth.
    #[inline(always)]
    fn run_segments<S: pulp::Simd, const PIXELS: usize, const CHUNKS: usize>(
        &self,
        simd: S,
        inputs: [&[f32]; PIXELS],
        [segments, segment_len, segment_stride]: [usize; 3],
        starts: [usize; CHUNKS],
        out: &mut [f32],
    ) {
        let lanes = S::F32_LANES;
        let outputs = self.outputs;
        let load = |values: &[f32], at: usize| S::as_simd_f32s(&values[at..at + lanes]).0[0];
        let zero = simd.splat_f32s(0.0);
        let mut sums = [[zero; CHUNKS]; PIXELS];
        for segment in 0..segments {
            let at = segment * segment_stride;
            let segment_inputs: [&[f32]; PIXELS] =
                std::array::from_fn(|pixel| &inputs[pixel][at..at + segment_len]);
            let rows = self.weights[segment * segment_len * outputs..].chunks_exact(outputs);
            for (i, row) in rows.take(segment_len).enumerate() {
                let weights: [S::f32s; CHUNKS] = std::array::from_fn(|j| load(row, starts[j]));
                for (sums, input) in sums.iter_mut().zip(&segment_inputs) {
                    let input = simd.splat_f32s(input[i]);
                    for (sum, &weight) in sums.iter_mut().zip(&weights) {
                        *sum = simd.mul_add_e_f32s(input, weight, *sum);
                    }
                }
            }
        }
        self.store(simd, sums, starts, None, out);
    }

    /// Writes sums plus the bias, plus the pixel's shortcut in the channels it covers if
    /// given, then the ReLU if asked, to `out` (`[PIXELS, outputs]`). A vector that straddles
    /// the shortcut's last channel is finished one value at a time.
    #[inline(always)]
    fn store<S: pulp::Simd, const PIXELS: usize, const CHUNKS: usize>(
        &self,
        simd: S,
        sums: [[S::f32s; CHUNKS]; PIXELS],
        starts: [usize; CHUNKS],
        shortcuts: Option<[&[f32]; PIXELS]>,
        out: &mut [f32],
    ) {
        let lanes = S::F32_LANES;
        let load = |values: &[f32], at: usize| S::as_simd_f32s(&values[at..at + lanes]).0[0];
        let zero = simd.splat_f32s(0.0);
        for (pixel, sums) in sums.iter().enumerate() {
            let shortcut = shortcuts.map(|shortcuts| shortcuts[pixel]);
            let out = &mut out[pixel * self.outputs..][..self.outputs];
            for (&start, &sum) in starts.iter().zip(sums) {
                let mut value = simd.add_f32s(sum, load(self.bias, start));
                let straddles = match shortcut {
                    Some(shortcut) if start + lanes <= shortcut.len() => {
                        value = simd.add_f32s(value, load(shortcut, start));
                        false
                    }
                    Some(shortcut) => start < shortcut.len(),
                    None => false,
                };
                if self.relu && !straddles {
                    value = simd.max_f32s(value, zero);
                }
                let span = &mut out[start..][..lanes];
                S::as_mut_simd_f32s(span).0[0] = value;
                if straddles && let Some(shortcut) = shortcut {
                    for (index, value) in span.iter_mut().enumerate() {
                        if let Some(shortcut) = shortcut.get(start + index) {
                            *value += shortcut;
                        }
                        if self.relu {
                            *value = value.max(0.0);
                        }
                    }
                }
            }
        }
    }

    /// [`Products::run`] for the one to four output vectors starting at `group`.
    #[inline(always)]
    fn run_group<S: pulp::Simd, const PIXELS: usize>(
        &self,
        simd: S,
        inputs: [&[f32]; PIXELS],
        group: &[usize],
        shortcuts: Option<[&[f32]; PIXELS]>,
        out: &mut [f32],
    ) {
        match *group {
            [a, b, c, d] => self.run::<S, PIXELS, 4>(simd, inputs, [a, b, c, d], shortcuts, out),
            [a, b, c] => self.run::<S, PIXELS, 3>(simd, inputs, [a, b, c], shortcuts, out),
            [a, b] => self.run::<S, PIXELS, 2>(simd, inputs, [a, b], shortcuts, out),
            _ => self.run::<S, PIXELS, 1>(simd, inputs, [group[0]], shortcuts, out),
        }
    }

    /// Writes `PIXELS` pixels' outputs `starts[i]..starts[i] + lanes` to `out`
    /// (`[PIXELS, outputs]`): each sum over `inputs[pixel]` (the pixel's `depth` values) in
    /// order with fused multiply-adds from zero, plus the bias, then the ReLU if asked.
    #[inline(always)]
    fn run<S: pulp::Simd, const PIXELS: usize, const CHUNKS: usize>(
        &self,
        simd: S,
        inputs: [&[f32]; PIXELS],
        starts: [usize; CHUNKS],
        shortcuts: Option<[&[f32]; PIXELS]>,
        out: &mut [f32],
    ) {
        let lanes = S::F32_LANES;
        let outputs = self.outputs;
        let load = |values: &[f32], at: usize| S::as_simd_f32s(&values[at..at + lanes]).0[0];
        let zero = simd.splat_f32s(0.0);
        let mut sums = [[zero; CHUNKS]; PIXELS];
        let depth = inputs[0].len();
        // `matrixmultiply` sums at most `KC` inputs at a time and adds each block's sum to the
        // previous ones (the full-range model has 384-channel inputs); so does this.
        const KC: usize = 256;
        for block in (0..depth).step_by(KC) {
            let mut partial = [[zero; CHUNKS]; PIXELS];
            let rows = self.weights[block * outputs..].chunks_exact(outputs);
            for (k, row) in (block..depth.min(block + KC)).zip(rows) {
                let weights: [S::f32s; CHUNKS] = std::array::from_fn(|i| load(row, starts[i]));
                for (partial, input) in partial.iter_mut().zip(&inputs) {
                    let input = simd.splat_f32s(input[k]);
                    for (sum, &weight) in partial.iter_mut().zip(&weights) {
                        *sum = simd.mul_add_e_f32s(input, weight, *sum);
                    }
                }
            }
            if block == 0 {
                sums = partial;
            } else {
                for (sums, partial) in sums.iter_mut().zip(&partial) {
                    for (sum, &partial) in sums.iter_mut().zip(partial) {
                        *sum = simd.add_f32s(partial, *sum);
                    }
                }
            }
        }
        self.store(simd, sums, starts, shortcuts, out);
    }
}

/// The one pass over a matrix product's output: `max(0, (out + bias) + residual)` per value,
/// the shortcut `residual` (with its channel count) covering the first channels of each pixel,
/// the ReLU when asked. For `pulp`'s dispatch (see [`DepthwiseRun`]).
struct Epilogue<'a> {
    out: &'a mut [f32],
    bias: &'a [f32],
    residual: Option<(&'a [f32], usize)>,
    relu: bool,
}

impl pulp::WithSimd for Epilogue<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Self {
            out,
            bias,
            residual,
            relu,
        } = self;
        let channels = bias.len();
        let Some((residual, width)) = residual else {
            for pixel in out.chunks_exact_mut(channels) {
                add_bias(pixel, bias, relu);
            }
            return;
        };
        for (pixel, shortcut) in out
            .chunks_exact_mut(channels)
            .zip(residual.chunks_exact(width))
        {
            let (joined, rest) = pixel.split_at_mut(width);
            for ((value, bias), shortcut) in joined.iter_mut().zip(bias).zip(shortcut) {
                *value = (*value + bias) + shortcut;
                if relu {
                    *value = value.max(0.0);
                }
            }
            add_bias(rest, &bias[width..], relu);
        }
    }
}

/// `out += bias`, then ReLU when asked.
#[inline(always)]
fn add_bias(out: &mut [f32], bias: &[f32], relu: bool) {
    for (value, bias) in out.iter_mut().zip(bias) {
        *value += bias;
        if relu {
            *value = value.max(0.0);
        }
    }
}

/// `out += add`, then ReLU when asked; inlined into a `pulp` dispatch (see `Conv::depthwise`).
#[inline(always)]
fn add_in_place(out: &mut [f32], add: &[f32], relu: bool) {
    if relu {
        for (value, add) in out.iter_mut().zip(add) {
            *value = (*value + add).max(0.0);
        }
    } else {
        for (value, add) in out.iter_mut().zip(add) {
            *value += add;
        }
    }
}

/// ReLU in place; inlined into a `pulp` dispatch.
#[inline(always)]
fn relu_in_place(values: &mut [f32]) {
    for value in values {
        *value = value.max(0.0);
    }
}

/// `out += a × b`, element by element.
#[inline(always)]
fn multiply_add(out: &mut [f32], a: &[f32], b: &[f32]) {
    for ((out, a), b) in out.iter_mut().zip(a).zip(b) {
        *out += a * b;
    }
}

fn max_pool(
    [n, h, w, c]: [usize; 4],
    x: &[f32],
    kernel: [usize; 2],
    stride: [usize; 2],
    spare: &mut Spare,
) -> Result<([usize; 4], Vec<f32>), NetworkError> {
    if h < kernel[0] || w < kernel[1] {
        return Err(graph_error("pooling larger than its input"));
    }
    let (oh, ow) = (
        (h - kernel[0]) / stride[0] + 1,
        (w - kernel[1]) / stride[1] + 1,
    );
    let mut out = spare.take(n * oh * ow * c);
    if kernel == [2, 2] && stride == [2, 2] {
        pulp::Arch::new().dispatch(MaxPool2 {
            shape: [n, h, w, c],
            x,
            out_side: [oh, ow],
            out: &mut out,
        });
        return Ok(([n, oh, ow, c], out));
    }
    out.fill(f32::NEG_INFINITY);
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                let pixel = &mut out[((b * oh + oy) * ow + ox) * c..][..c];
                for ky in 0..kernel[0] {
                    for kx in 0..kernel[1] {
                        let (iy, ix) = (oy * stride[0] + ky, ox * stride[1] + kx);
                        let input = &x[((b * h + iy) * w + ix) * c..][..c];
                        for (value, input) in pixel.iter_mut().zip(input) {
                            *value = value.max(*input);
                        }
                    }
                }
            }
        }
    }
    Ok(([n, oh, ow, c], out))
}

/// 2×2 max pooling with stride 2 (BlazeFace's shortcuts), for `pulp`'s dispatch (see
/// [`DepthwiseRun`]): an output row at a time from its two input rows, a pixel's channels side
/// by side, each value the largest of its window's four, taken in the order [`max_pool`]'s
/// general loop takes them. The comparisons are written so that the compiler makes them
/// vector instructions (the general loop, one value at a time, was four times slower).
struct MaxPool2<'a> {
    shape: [usize; 4],
    x: &'a [f32],
    out_side: [usize; 2],
    out: &'a mut [f32],
}

impl pulp::WithSimd for MaxPool2<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) {
        let Self {
            shape: [n, h, w, c],
            x,
            out_side: [oh, ow],
            out,
        } = self;
        let larger = |a: f32, b: f32| if b > a { b } else { a };
        for b in 0..n {
            for oy in 0..oh {
                let top = &x[(b * h + 2 * oy) * w * c..][..2 * ow * c];
                let bottom = &x[(b * h + 2 * oy + 1) * w * c..][..2 * ow * c];
                let row = &mut out[(b * oh + oy) * ow * c..][..ow * c];
                for ((pixel, top), bottom) in row
                    .chunks_exact_mut(c)
                    .zip(top.chunks_exact(2 * c))
                    .zip(bottom.chunks_exact(2 * c))
                {
                    let (top_left, top_right) = top.split_at(c);
                    let (bottom_left, bottom_right) = bottom.split_at(c);
                    for (i, value) in pixel.iter_mut().enumerate() {
                        *value = larger(
                            larger(larger(top_left[i], top_right[i]), bottom_left[i]),
                            bottom_right[i],
                        );
                    }
                }
            }
        }
    }
}

fn zero_pad(
    [n, h, w, c]: [usize; 4],
    x: &[f32],
    pad: &[[usize; 2]; 3],
    spare: &mut Spare,
) -> ([usize; 4], Vec<f32>) {
    let oh = h + pad[0][0] + pad[0][1];
    let ow = w + pad[1][0] + pad[1][1];
    let oc = c + pad[2][0] + pad[2][1];
    let mut out = spare.take(n * oh * ow * oc);
    out.fill(0.0);
    for b in 0..n {
        for y in 0..h {
            for xx in 0..w {
                let from = ((b * h + y) * w + xx) * c;
                let to = ((b * oh + y + pad[0][0]) * ow + xx + pad[1][0]) * oc + pad[2][0];
                out[to..to + c].copy_from_slice(&x[from..from + c]);
            }
        }
    }
    ([n, oh, ow, oc], out)
}

fn concat(parts: &[&Value], axis: usize) -> Result<Value, NetworkError> {
    let Some(&first) = parts.first() else {
        return Err(graph_error("empty concatenation"));
    };
    // Both cases join along an axis of row-major data: the parts' blocks below the axis are
    // taken in turn for each index above it.
    let (outer, mut shape): (usize, Vec<usize>) = match first {
        Value::Rows { shape, .. } if (1..3).contains(&axis) => {
            (shape[..axis].iter().product(), shape.to_vec())
        }
        Value::Map { shape, .. } if axis == 3 => (shape[..3].iter().product(), shape.to_vec()),
        _ => return Err(graph_error(format!("concatenation along axis {axis}"))),
    };
    let dims = |value: &Value| match value {
        Value::Rows { shape, .. } => shape.to_vec(),
        Value::Map { shape, .. } => shape.to_vec(),
    };
    let mut total = 0;
    for &part in parts {
        let part_shape = dims(part);
        let agrees = part_shape.len() == shape.len()
            && part_shape
                .iter()
                .zip(&shape)
                .enumerate()
                .all(|(index, (a, b))| index == axis || a == b);
        if !agrees || std::mem::discriminant(part) != std::mem::discriminant(first) {
            return Err(graph_error("concatenating values of different shapes"));
        }
        total += part_shape[axis];
    }
    let inner: usize = shape[axis + 1..].iter().product();
    shape[axis] = total;
    let mut data = Vec::with_capacity(outer * total * inner);
    for index in 0..outer {
        for &part in parts {
            let block = dims(part)[axis] * inner;
            data.extend_from_slice(&data_of(part)[index * block..(index + 1) * block]);
        }
    }
    Ok(match first {
        Value::Rows { .. } => Value::Rows {
            shape: [shape[0], shape[1], shape[2]],
            data,
        },
        Value::Map { .. } => Value::Map {
            shape: [shape[0], shape[1], shape[2], shape[3]],
            data,
        },
    })
}

/// TFLite's bilinear resizing, with aligned corners or half-pixel centres.
fn resize_bilinear(
    [n, h, w, c]: [usize; 4],
    x: &[f32],
    [oh, ow]: [usize; 2],
    align_corners: bool,
) -> ([usize; 4], Vec<f32>) {
    // Source position, lower and upper neighbours and the upper one's weight.
    let source = |out: usize, input: usize, size: usize| -> (usize, usize, f32) {
        let position = if align_corners {
            let scale = if size > 1 {
                (input - 1) as f32 / (size - 1) as f32
            } else {
                0.0
            };
            out as f32 * scale
        } else {
            (out as f32 + 0.5) * (input as f32 / size as f32) - 0.5
        };
        let position = position.clamp(0.0, (input - 1) as f32);
        let lower = position.floor() as usize;
        let upper = (lower + 1).min(input - 1);
        (lower, upper, position - lower as f32)
    };
    let mut out = vec![0.0f32; n * oh * ow * c];
    for b in 0..n {
        for oy in 0..oh {
            let (y0, y1, ty) = source(oy, h, oh);
            for ox in 0..ow {
                let (x0, x1, tx) = source(ox, w, ow);
                let at = |y: usize, xx: usize| &x[((b * h + y) * w + xx) * c..][..c];
                let (a, bb, cc, d) = (at(y0, x0), at(y0, x1), at(y1, x0), at(y1, x1));
                let pixel = &mut out[((b * oh + oy) * ow + ox) * c..][..c];
                for (index, value) in pixel.iter_mut().enumerate() {
                    let top = a[index] + (bb[index] - a[index]) * tx;
                    let bottom = cc[index] + (d[index] - cc[index]) * tx;
                    *value = top + (bottom - top) * ty;
                }
            }
        }
    }
    ([n, oh, ow, c], out)
}

/// TFLite's depth to space: output `(y·b + i, x·b + j, c)` is input `(y, x, (i·b + j)·c' + c)`.
fn depth_to_space(
    [n, h, w, c]: [usize; 4],
    x: &[f32],
    block: usize,
) -> Result<([usize; 4], Vec<f32>), NetworkError> {
    if c % (block * block) != 0 {
        return Err(graph_error("depth to space: channels"));
    }
    let oc = c / (block * block);
    let (oh, ow) = (h * block, w * block);
    let mut out = vec![0.0f32; n * oh * ow * oc];
    for b in 0..n {
        for y in 0..h {
            for xx in 0..w {
                let input = &x[((b * h + y) * w + xx) * c..][..c];
                for i in 0..block {
                    for j in 0..block {
                        let to = ((b * oh + y * block + i) * ow + xx * block + j) * oc;
                        out[to..to + oc].copy_from_slice(&input[(i * block + j) * oc..][..oc]);
                    }
                }
            }
        }
    }
    Ok(([n, oh, ow, oc], out))
}

impl Op {
    fn inputs(&self) -> Vec<usize> {
        match self {
            Op::Conv {
                x,
                residual: Some(residual),
                ..
            } => vec![*x, *residual],
            Op::Conv { x, .. }
            | Op::Relu { x, .. }
            | Op::MaxPool { x, .. }
            | Op::Pad { x, .. }
            | Op::Flatten { x, .. }
            | Op::Resize { x, .. }
            | Op::DepthToSpace { x, .. } => vec![*x],
            Op::Add { x, .. } => x.to_vec(),
            Op::Concat { x, .. } => x.clone(),
        }
    }

    fn output_mut(&mut self) -> &mut usize {
        match self {
            Op::Conv { y, .. }
            | Op::Add { y, .. }
            | Op::Relu { y, .. }
            | Op::MaxPool { y, .. }
            | Op::Pad { y, .. }
            | Op::Flatten { y, .. }
            | Op::Concat { y, .. }
            | Op::Resize { y, .. }
            | Op::DepthToSpace { y, .. } => y,
        }
    }

    fn output(&self) -> usize {
        match self {
            Op::Conv { y, .. }
            | Op::Add { y, .. }
            | Op::Relu { y, .. }
            | Op::MaxPool { y, .. }
            | Op::Pad { y, .. }
            | Op::Flatten { y, .. }
            | Op::Concat { y, .. }
            | Op::Resize { y, .. }
            | Op::DepthToSpace { y, .. } => *y,
        }
    }
}

/// Maps the file's tensor numbers to dense slots.
#[derive(Default)]
struct Slots {
    ids: HashMap<i64, usize>,
}

impl Slots {
    fn id(&mut self, tensor: i64) -> Result<usize, NetworkError> {
        if tensor < 0 {
            return Err(graph_error("a missing operand"));
        }
        let next = self.ids.len();
        Ok(*self.ids.entry(tensor).or_insert(next))
    }

    fn count(&self) -> usize {
        self.ids.len()
    }
}

/// A named f32 tensor of the file with the expected rank: its values and shape.
pub(crate) fn tensor(
    weights: &safetensors::SafeTensors<'_>,
    name: &str,
    rank: usize,
) -> Result<(Vec<f32>, Vec<usize>), NetworkError> {
    let view = weights
        .tensor(name)
        .map_err(|error| NetworkError::Weights(format!("{name}: {error}")))?;
    if view.shape().len() != rank {
        return Err(NetworkError::Weights(format!(
            "{name}: expected rank {rank}, found {:?}",
            view.shape()
        )));
    }
    let values: Vec<f32> = match view.dtype() {
        safetensors::Dtype::F32 => view
            .data()
            .chunks_exact(4)
            .map(|bytes| f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
            .collect(),
        safetensors::Dtype::F16 => view
            .data()
            .chunks_exact(2)
            .map(|bytes| half::f16::from_le_bytes([bytes[0], bytes[1]]).to_f32())
            .collect(),
        other => {
            return Err(NetworkError::Weights(format!(
                "{name}: expected f32 or f16, found {other:?}"
            )));
        }
    };
    if values.iter().any(|value| !value.is_finite()) {
        return Err(NetworkError::Weights(format!("{name}: non-finite values")));
    }
    Ok((values, view.shape().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in −1..1.
    fn values(count: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    /// The plain definition of a convolution, summing in the order the fast loops promise:
    /// `(ky, kx, in)` from zero, fused multiply-adds for full convolutions (as
    /// `matrixmultiply`'s kernel) and separate products for depthwise ones, then the bias, the
    /// shortcut and the ReLU.
    fn reference(
        conv: &Conv,
        [h, w, c]: [usize; 3],
        x: &[f32],
        residual: Option<(&[f32], usize)>,
    ) -> Vec<f32> {
        let [kh, kw] = conv.size;
        let (oh, ow) = (
            conv.output_side(h, 0).unwrap(),
            conv.output_side(w, 1).unwrap(),
        );
        let mut out = Vec::new();
        for oy in 0..oh {
            for ox in 0..ow {
                for o in 0..conv.output {
                    let mut sum = 0.0f32;
                    let mut total = None;
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let iy = (oy * conv.stride[0] + ky).checked_sub(conv.pad[0]);
                            let ix = (ox * conv.stride[1] + kx).checked_sub(conv.pad[2]);
                            let inside =
                                matches!((iy, ix), (Some(iy), Some(ix)) if iy < h && ix < w);
                            let at = |i: usize| ((iy.unwrap_or(0) * w) + ix.unwrap_or(0)) * c + i;
                            match &conv.kernel {
                                Kernel::Dense { matrix, .. } => {
                                    // im2col's zeros outside take part in the sums, which
                                    // `matrixmultiply` makes in blocks of 256 inputs.
                                    for i in 0..c {
                                        let k = (ky * kw + kx) * c + i;
                                        if k > 0 && k % 256 == 0 {
                                            total = Some(total.map_or(sum, |total| sum + total));
                                            sum = 0.0;
                                        }
                                        let input = if inside { x[at(i)] } else { 0.0 };
                                        let weight = matrix[k * conv.output + o];
                                        sum = input.mul_add(weight, sum);
                                    }
                                }
                                Kernel::Depthwise(depthwise) if inside => {
                                    sum += x[at(o)] * depthwise.taps[(ky * kw + kx) * c + o];
                                }
                                Kernel::Depthwise(_) => {}
                            }
                        }
                    }
                    let sum = total.map_or(sum, |total| sum + total);
                    let mut value = sum + conv.bias[o];
                    if let Some((shortcut, width)) = residual
                        && o < width
                    {
                        value += shortcut[(oy * ow + ox) * width + o];
                    }
                    out.push(if conv.relu { value.max(0.0) } else { value });
                }
            }
        }
        out
    }

    fn conv(kernel: Kernel, output: usize, size: usize, stride: usize, pad: [usize; 4]) -> Conv {
        Conv {
            kernel,
            bias: values(output, 7),
            output,
            size: [size, size],
            stride: [stride, stride],
            pad,
            relu: true,
        }
    }

    fn assert_same_bits(conv: &Conv, shape: [usize; 3], residual: Option<(&[f32], usize)>) {
        let [h, w, c] = shape;
        let x = values(h * w * c, 3);
        let expected = reference(conv, shape, &x, residual);
        let residual = residual.map(|(data, width)| {
            let pixels = data.len() / width;
            let (oh, ow) = (
                conv.output_side(h, 0).unwrap(),
                conv.output_side(w, 1).unwrap(),
            );
            assert_eq!(pixels, oh * ow);
            ([1, oh, ow, width], data)
        });
        // With fresh buffers, and with buffers left full of NaN by an earlier run (as a run
        // finds them): every value the loops read or return must have been written first.
        // Then split into bands of rows on three threads, however small the layer.
        let check = |mut spare: Spare| {
            let (_, out) = conv.run([1, h, w, c], &x, residual, &mut spare).unwrap();
            let differ = (out.iter().zip(&expected)).filter(|(a, b)| a.to_bits() != b.to_bits());
            assert_eq!(out.len(), expected.len());
            assert_eq!(differ.count(), 0, "{:?} {shape:?}", conv.size);
        };
        check(Spare(Vec::new()));
        check(stale_spare());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        pool.install(|| {
            TEST_MIN_BAND_WORK.with(|work| work.set(Some(1)));
            check(stale_spare());
        });
    }

    /// Spare buffers holding NaN, longer than any a test asks for.
    fn stale_spare() -> Spare {
        Spare(vec![vec![f32::NAN; 1 << 14]; 4])
    }

    #[test]
    fn two_by_two_pooling_gives_each_windows_largest_value() {
        // Even and odd sides (an odd last row or column is left out), channels under, at and
        // over a vector's width, two pictures.
        for shape in [[1, 8, 6, 8], [1, 7, 9, 28], [2, 5, 4, 3], [1, 2, 2, 96]] {
            let [n, h, w, c] = shape;
            let x = values(n * h * w * c, 11);
            let (oh, ow) = (h / 2, w / 2);
            let mut expected = Vec::new();
            for b in 0..n {
                for oy in 0..oh {
                    for ox in 0..ow {
                        for channel in 0..c {
                            let at = |y: usize, x: usize| ((b * h + y) * w + x) * c + channel;
                            let window = [
                                at(2 * oy, 2 * ox),
                                at(2 * oy, 2 * ox + 1),
                                at(2 * oy + 1, 2 * ox),
                                at(2 * oy + 1, 2 * ox + 1),
                            ];
                            expected
                                .push(window.map(|i| x[i]).into_iter().fold(f32::MIN, f32::max));
                        }
                    }
                }
            }
            for mut spare in [Spare(Vec::new()), stale_spare()] {
                let (out_shape, out) = max_pool(shape, &x, [2, 2], [2, 2], &mut spare).unwrap();
                assert_eq!(out_shape, [n, oh, ow, c]);
                assert_eq!(out, expected, "{shape:?}");
            }
        }
    }

    #[test]
    fn depthwise_convolutions_give_the_reference_bits() {
        for (channels, stride, pad) in [
            (24, 1, [1, 1, 1, 1]),
            (28, 1, [1, 1, 1, 1]),
            (96, 1, [0, 0, 0, 0]),
            (42, 2, [0, 1, 0, 1]),
            (28, 2, [0, 0, 0, 0]),
            (88, 2, [1, 1, 1, 1]),
            (24, 2, [2, 0, 1, 2]),
            (4, 2, [0, 1, 0, 1]),
            (4, 1, [1, 1, 1, 1]),
        ] {
            let taps = values(9 * channels, 5);
            let bias = values(channels, 7);
            let kernel = Kernel::Depthwise(Box::new(Depthwise::new(taps, &bias)));
            let conv = conv(kernel, channels, 3, stride, pad);
            // Sides that leave four-pixel blocks and single pixels, odd and even.
            for shape in [[10, 13, channels], [9, 20, channels], [3, 4, channels]] {
                assert_same_bits(&conv, shape, None);
            }
        }
    }

    #[test]
    fn full_convolutions_give_the_reference_bits() {
        for (input, output, size, stride, pad) in [
            (3, 24, 5, 2, [1, 2, 1, 2]),
            (3, 4, 3, 2, [0, 0, 0, 0]),
            (24, 28, 1, 1, [0; 4]),
            (300, 16, 1, 1, [0; 4]),
            (8, 2, 1, 1, [0; 4]),
        ] {
            let matrix = values(size * size * input * output, 5);
            let kernel = Kernel::Dense { matrix, input };
            let conv = conv(kernel, output, size, stride, pad);
            assert_same_bits(&conv, [12, 11, input], None);
        }
        // 1×1 convolutions with a shortcut as wide as the output or narrower (a BlazeBlock
        // whose channels grow), for every split of the outputs into register groups (three to
        // twelve vectors of eight; two to six of sixteen), on 7 × 5 pixels (blocks of four and
        // single pixels), with and without the ReLU.
        for (input, output, width) in [
            (24, 24, 24),
            (24, 28, 24),
            (28, 32, 28),
            (32, 36, 32),
            (36, 42, 36),
            (48, 56, 48),
            (56, 64, 56),
            (64, 72, 64),
            (72, 80, 72),
            (80, 88, 80),
            (88, 96, 88),
            (96, 96, 96),
            (40, 88, 13),
        ] {
            for relu in [true, false] {
                let matrix = values(input * output, 5);
                let kernel = Kernel::Dense { matrix, input };
                let mut conv = conv(kernel, output, 1, 1, [0; 4]);
                conv.relu = relu;
                let shortcut = values(7 * 5 * width, 9);
                assert_same_bits(&conv, [7, 5, input], Some((&shortcut, width)));
                assert_same_bits(&conv, [7, 5, input], None);
            }
        }
    }

    #[test]
    fn pointwise_groups_cover_the_vectors_without_a_lone_one() {
        for vectors in 1..=13 {
            let groups = pointwise_groups(vectors);
            assert_eq!(groups.iter().sum::<usize>(), vectors);
            assert!(groups.iter().all(|&size| (1..=3).contains(&size)));
            assert!(
                vectors == 1 || !groups.contains(&1),
                "{vectors}: {groups:?}"
            );
        }
    }
}
