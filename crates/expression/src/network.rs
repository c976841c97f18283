//! The expression CNN: VGG-style blocks with batch norm for 48×48 grey faces.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d,
};
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use crate::FACE_SIDE;

/// Shape of the network; saved as `config.json` beside the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkConfig {
    /// Output channels of each block; every block halves the side (48 → 24 → 12 → 6 → 3).
    pub channels: Vec<usize>,
    /// Convolutions in each block (same length as `channels`).
    pub convs: Vec<usize>,
    /// Width of the hidden fully connected layer.
    pub hidden: usize,
    /// Dropout before each fully connected layer (training only).
    pub dropout: f64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            channels: vec![32, 64, 128, 256],
            convs: vec![1, 2, 2, 2],
            hidden: 256,
            dropout: 0.4,
        }
    }
}

impl NetworkConfig {
    /// Builds a freshly initialised network on `device`.
    pub fn init(&self, device: &Device) -> ExpressionNet {
        let mut blocks = Vec::with_capacity(self.channels.len());
        let mut channels_in = 1;
        for (&channels_out, &convs) in self.channels.iter().zip(&self.convs) {
            blocks.push(ConvBlock::new(channels_in, channels_out, convs, device));
            channels_in = channels_out;
        }
        let side = FACE_SIDE >> self.channels.len();
        let flat = channels_in * side * side;
        ExpressionNet {
            blocks,
            dropout: DropoutConfig::new(self.dropout).init(),
            hidden: LinearConfig::new(flat, self.hidden).init(device),
            output: LinearConfig::new(self.hidden, mood::EMOTION_COUNT).init(device),
        }
    }
}

/// `convs` × (3×3 convolution → batch norm → ReLU), then 2×2 max pooling.
#[derive(Module, Debug)]
pub struct ConvBlock {
    convs: Vec<Conv2d>,
    norms: Vec<BatchNorm>,
    pool: MaxPool2d,
}

impl ConvBlock {
    fn new(channels_in: usize, channels_out: usize, convs: usize, device: &Device) -> Self {
        let mut conv_layers = Vec::with_capacity(convs);
        let mut norms = Vec::with_capacity(convs);
        let mut channels = channels_in;
        for _ in 0..convs {
            conv_layers.push(
                Conv2dConfig::new([channels, channels_out], [3, 3])
                    .with_padding(PaddingConfig2d::Same)
                    .with_bias(false)
                    .init(device),
            );
            norms.push(BatchNormConfig::new(channels_out).init(device));
            channels = channels_out;
        }
        Self {
            convs: conv_layers,
            norms,
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
        }
    }

    fn forward(&self, mut x: Tensor<4>) -> Tensor<4> {
        for (conv, norm) in self.convs.iter().zip(&self.norms) {
            x = relu(norm.forward(conv.forward(x)));
        }
        self.pool.forward(x)
    }
}

/// The network: conv blocks, then dropout → hidden linear → ReLU → dropout → 7 logits.
#[derive(Module, Debug)]
pub struct ExpressionNet {
    blocks: Vec<ConvBlock>,
    dropout: Dropout,
    hidden: Linear,
    output: Linear,
}

impl ExpressionNet {
    /// Logits `[batch, 7]` for preprocessed faces `[batch, 1, 48, 48]`.
    pub fn forward(&self, faces: Tensor<4>) -> Tensor<2> {
        let mut x = faces;
        for block in &self.blocks {
            x = block.forward(x);
        }
        let x: Tensor<2> = x.flatten(1, 3);
        let x = relu(self.hidden.forward(self.dropout.forward(x)));
        self.output.forward(self.dropout.forward(x))
    }
}
