//! The BlazeFace networks, run with burn: a small interpreter for the operation list that
//! `scripts/convert_blazeface.py` stores beside the weights.
//!
//! The graph is TFLite's, in its NHWC semantics; it runs here in burn's NCHW layout, so channel
//! padding, reshapes and concatenations translate their axes. Every operation the two MediaPipe
//! models use is supported; a file with anything else is refused when it is loaded.

use std::collections::HashMap;

use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::activation::relu;
use burn::tensor::module::{conv2d, interpolate, max_pool2d};
use burn::tensor::ops::{
    ConvOptions, InterpolateMode, InterpolateOptions, MaxPoolOptions, PadMode,
};
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

#[derive(Debug, Deserialize)]
struct GraphFile {
    input: i64,
    input_shape: [usize; 4],
    outputs: [i64; 2],
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

/// One step of the network, with its weights as tensors.
#[derive(Debug, Clone)]
enum Op {
    Conv {
        x: usize,
        y: usize,
        weight: Tensor<4>,
        bias: Option<Tensor<1>>,
        options: ConvOptions<2>,
        relu: bool,
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
        options: MaxPoolOptions<2>,
    },
    /// Zero padding, as (begin, end) pairs for the NCHW axes.
    Pad {
        x: usize,
        y: usize,
        pad: [(usize, usize); 4],
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

/// A value flowing through the graph.
#[derive(Debug, Clone)]
enum Value {
    Map(Tensor<4>),
    Rows(Tensor<3>),
}

/// A converted BlazeFace network, ready to run on batches of square RGB inputs.
#[derive(Debug, Clone)]
pub(crate) struct Network {
    ops: Vec<Op>,
    /// For each value slot, how many operations read it (the outputs count once more).
    readers: Vec<usize>,
    input: usize,
    outputs: [usize; 2],
    side: usize,
    device: Device,
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
            .ok_or_else(|| NetworkError::Graph("no `graph` entry in the metadata".into()))?;
        let graph: GraphFile = serde_json::from_str(graph_json)
            .map_err(|error| NetworkError::Graph(error.to_string()))?;
        let [_, height, width, channels] = graph.input_shape;
        if height != width || channels != 3 || height == 0 {
            return Err(NetworkError::Graph(format!(
                "input shape {:?} is not a square RGB picture",
                graph.input_shape
            )));
        }
        let device = Device::flex();
        let mut slots = Slots::default();
        let input = slots.id(graph.input)?;
        let mut ops = Vec::with_capacity(graph.ops.len());
        for op in graph.ops {
            ops.push(match op {
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
                    let weight = tensor::<4>(&weights, &format!("{param}.weight"), &device)?;
                    let bias = if bias {
                        Some(tensor::<1>(&weights, &format!("{param}.bias"), &device)?)
                    } else {
                        None
                    };
                    if stride.contains(&0) || groups == 0 {
                        return Err(NetworkError::Graph(format!("{param}: zero stride or groups")));
                    }
                    Op::Conv {
                        x: slots.id(x)?,
                        y: slots.id(y)?,
                        weight,
                        bias,
                        options: ConvOptions {
                            stride,
                            padding: [(pad[0], pad[1]), (pad[2], pad[3])],
                            dilation: [1, 1],
                            groups,
                        },
                        relu,
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
                        return Err(NetworkError::Graph("pooling with a zero size".into()));
                    }
                    Op::MaxPool {
                        x: slots.id(x)?,
                        y: slots.id(y)?,
                        options: MaxPoolOptions {
                            kernel_size: kernel,
                            stride,
                            padding: [(0, 0), (0, 0)],
                            dilation: [1, 1],
                            ceil_mode: false,
                        },
                    }
                }
                OpFile::Pad { x, y, pad } => {
                    if pad[0] != [0, 0] {
                        return Err(NetworkError::Graph("padding of the batch axis".into()));
                    }
                    // NHWC pairs to NCHW pairs.
                    let pair = |p: [usize; 2]| (p[0], p[1]);
                    Op::Pad {
                        x: slots.id(x)?,
                        y: slots.id(y)?,
                        pad: [(0, 0), pair(pad[3]), pair(pad[1]), pair(pad[2])],
                    }
                }
                OpFile::Reshape { x, y, shape } => {
                    let last = match shape.as_slice() {
                        [_, _, last] if *last > 0 => *last,
                        _ => {
                            return Err(NetworkError::Graph(format!(
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
                    x: x.into_iter().map(|x| slots.id(x)).collect::<Result<_, _>>()?,
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
                        return Err(NetworkError::Graph(
                            "legacy bilinear resizing (neither aligned corners nor half-pixel centres)"
                                .into(),
                        ));
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
                        return Err(NetworkError::Graph("depth to space with block 0".into()));
                    }
                    Op::DepthToSpace {
                        x: slots.id(x)?,
                        y: slots.id(y)?,
                        block,
                    }
                }
            });
        }
        let outputs = [slots.id(graph.outputs[0])?, slots.id(graph.outputs[1])?];
        let mut readers = vec![0usize; slots.count()];
        for op in &ops {
            for x in op.inputs() {
                readers[x] += 1;
            }
        }
        for output in outputs {
            readers[output] += 1;
        }
        Ok(Self {
            ops,
            readers,
            input,
            outputs,
            side: height,
            device,
        })
    }

    /// Side of the square input, in pixels.
    pub(crate) fn side(&self) -> usize {
        self.side
    }

    /// Runs the network on `count` inputs given as NCHW values in −1..1
    /// (`count × 3 × side × side`).
    pub(crate) fn run(&self, pixels: Vec<f32>, count: usize) -> Result<RawOutput, NetworkError> {
        let side = self.side;
        if count == 0 || pixels.len() != count * 3 * side * side {
            return Err(NetworkError::Graph(format!(
                "{} input values for {count} pictures of {side}×{side}",
                pixels.len()
            )));
        }
        let input = Tensor::<4>::from_data(
            TensorData::new(pixels, [count, 3, side, side]),
            &self.device,
        );
        let mut values: Vec<Option<Value>> = vec![None; self.readers.len()];
        let mut left = self.readers.clone();
        values[self.input] = Some(Value::Map(input));
        for op in &self.ops {
            let output = self.step(op, &mut values, &mut left)?;
            values[op.output()] = Some(output);
        }
        let mut take_rows = |slot: usize| -> Result<Vec<f32>, NetworkError> {
            match values[slot].take() {
                Some(Value::Rows(rows)) => rows
                    .into_data()
                    .try_into_vec::<f32>()
                    .map_err(|error| NetworkError::Graph(format!("{error:?}"))),
                _ => Err(NetworkError::Graph(
                    "an output is not [n, rows, values]".into(),
                )),
            }
        };
        let regressors = take_rows(self.outputs[0])?;
        let logits = take_rows(self.outputs[1])?;
        Ok(RawOutput { regressors, logits })
    }

    fn step(
        &self,
        op: &Op,
        values: &mut [Option<Value>],
        left: &mut [usize],
    ) -> Result<Value, NetworkError> {
        // A value read for the last time is moved out, so that burn may reuse its buffer.
        let mut take = |slot: usize| -> Result<Value, NetworkError> {
            left[slot] = left[slot].saturating_sub(1);
            let value = if left[slot] == 0 {
                values[slot].take()
            } else {
                values[slot].clone()
            };
            value.ok_or_else(|| NetworkError::Graph(format!("value {slot} read before it is made")))
        };
        let map = |value: Value| match value {
            Value::Map(map) => Ok(map),
            Value::Rows(_) => Err(NetworkError::Graph("a feature map was expected".into())),
        };
        Ok(match op {
            Op::Conv {
                x,
                weight,
                bias,
                options,
                relu: with_relu,
                ..
            } => {
                let out = conv2d(
                    map(take(*x)?)?,
                    weight.clone(),
                    bias.clone(),
                    options.clone(),
                );
                Value::Map(if *with_relu { relu(out) } else { out })
            }
            Op::Add {
                x, relu: with_relu, ..
            } => match (take(x[0])?, take(x[1])?) {
                (Value::Map(a), Value::Map(b)) => {
                    let sum = a + b;
                    Value::Map(if *with_relu { relu(sum) } else { sum })
                }
                (Value::Rows(a), Value::Rows(b)) => Value::Rows(a + b),
                _ => return Err(NetworkError::Graph("adding values of two ranks".into())),
            },
            Op::Relu { x, .. } => match take(*x)? {
                Value::Map(a) => Value::Map(relu(a)),
                Value::Rows(a) => Value::Rows(relu(a)),
            },
            Op::MaxPool { x, options, .. } => {
                Value::Map(max_pool2d(map(take(*x)?)?, options.clone()))
            }
            Op::Pad { x, pad, .. } => Value::Map(map(take(*x)?)?.pad(*pad, PadMode::Constant(0.0))),
            Op::Flatten { x, last, .. } => {
                let nchw = map(take(*x)?)?;
                let [n, c, h, w] = nchw.dims();
                if (c * h * w) % last != 0 {
                    return Err(NetworkError::Graph("reshape does not divide evenly".into()));
                }
                Value::Rows(
                    nchw.permute([0, 2, 3, 1])
                        .reshape([n, c * h * w / last, *last]),
                )
            }
            Op::Concat { x, axis, .. } => {
                let parts = x
                    .iter()
                    .map(|&slot| take(slot))
                    .collect::<Result<Vec<_>, _>>()?;
                match parts.first() {
                    Some(Value::Rows(_)) => {
                        let rows = parts
                            .into_iter()
                            .map(|part| match part {
                                Value::Rows(rows) => Ok(rows),
                                Value::Map(_) => Err(NetworkError::Graph("mixed ranks".into())),
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        Value::Rows(Tensor::cat(rows, *axis))
                    }
                    Some(Value::Map(_)) => {
                        // NHWC axis to NCHW axis.
                        let axis = [0, 2, 3, 1].get(*axis).copied().ok_or_else(|| {
                            NetworkError::Graph(format!("concatenation axis {axis}"))
                        })?;
                        let maps = parts.into_iter().map(map).collect::<Result<Vec<_>, _>>()?;
                        Value::Map(Tensor::cat(maps, axis))
                    }
                    None => return Err(NetworkError::Graph("empty concatenation".into())),
                }
            }
            Op::Resize {
                x,
                size,
                align_corners,
                ..
            } => Value::Map(interpolate(
                map(take(*x)?)?,
                InterpolateOptions {
                    mode: InterpolateMode::Bilinear,
                    align_corners: *align_corners,
                    output_size: Some(*size),
                    scale_factor: None,
                },
            )),
            Op::DepthToSpace { x, block, .. } => {
                let nchw = map(take(*x)?)?;
                let [n, c, h, w] = nchw.dims();
                let b = *block;
                if c % (b * b) != 0 {
                    return Err(NetworkError::Graph("depth to space: channels".into()));
                }
                let out_c = c / (b * b);
                // TFLite's order: the block offsets are the slowest-varying part of the channel.
                let expanded: Tensor<6> = nchw.reshape([n, b, b, out_c, h, w]);
                Value::Map(
                    expanded
                        .permute([0, 3, 4, 1, 5, 2])
                        .reshape([n, out_c, h * b, w * b]),
                )
            }
        })
    }
}

impl Op {
    fn inputs(&self) -> Vec<usize> {
        match self {
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
            return Err(NetworkError::Graph("a missing operand".into()));
        }
        let next = self.ids.len();
        Ok(*self.ids.entry(tensor).or_insert(next))
    }

    fn count(&self) -> usize {
        self.ids.len()
    }
}

/// A named f32 tensor of the file, with the expected rank.
fn tensor<const D: usize>(
    weights: &safetensors::SafeTensors<'_>,
    name: &str,
    device: &Device,
) -> Result<Tensor<D>, NetworkError> {
    let view = weights
        .tensor(name)
        .map_err(|error| NetworkError::Weights(format!("{name}: {error}")))?;
    if view.dtype() != safetensors::Dtype::F32 || view.shape().len() != D {
        return Err(NetworkError::Weights(format!(
            "{name}: expected f32 of rank {D}, found {:?} {:?}",
            view.dtype(),
            view.shape()
        )));
    }
    let values: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|bytes| f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        .collect();
    if values.iter().any(|value| !value.is_finite()) {
        return Err(NetworkError::Weights(format!("{name}: non-finite values")));
    }
    Ok(Tensor::from_data(
        TensorData::new(values, view.shape().to_vec()),
        device,
    ))
}
