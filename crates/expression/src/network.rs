//! The expression CNN: VGG-style blocks with batch norm for 48×48 grey faces.

use burn::module::{Param, RunningState};
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
    pub(crate) convs: Vec<Conv2d>,
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
        for (index, conv) in self.convs.iter().enumerate() {
            let y = conv.forward(x);
            // A folded block has no batch norms left (see `fold_batch_norm`).
            x = relu(match self.norms.get(index) {
                Some(norm) => norm.forward(y),
                None => y,
            });
        }
        self.pool.forward(x)
    }

    /// The same block for inference with each batch norm folded into the convolution before it:
    /// with `s = γ / √(running var + ε)`, the weights of output channel `c` are scaled by `s[c]`
    /// and the bias becomes `β − running mean · s` (plus `s · b` for a convolution that had a
    /// bias). One pass over the activations less per convolution; the output is unchanged.
    fn fold_batch_norm(self) -> Self {
        let convs = self
            .convs
            .into_iter()
            .zip(self.norms)
            .map(|(mut conv, norm)| {
                let scale = norm.gamma.val() / (norm.running_var.value() + norm.epsilon).sqrt();
                let [channels] = scale.shape().dims();
                let weight = conv.weight.val() * scale.clone().reshape([channels, 1, 1, 1]);
                let mut bias = norm.beta.val() - norm.running_mean.value() * scale.clone();
                if let Some(old) = conv.bias.take() {
                    bias = bias + old.val() * scale;
                }
                conv.weight = Param::from_tensor(weight);
                conv.bias = Some(Param::from_tensor(bias));
                conv
            })
            .collect();
        Self {
            convs,
            norms: Vec::new(),
            pool: self.pool,
        }
    }
}

/// The network: conv blocks, then dropout → hidden linear → ReLU → dropout → 7 logits.
#[derive(Module, Debug)]
pub struct ExpressionNet {
    pub(crate) blocks: Vec<ConvBlock>,
    dropout: Dropout,
    pub(crate) hidden: Linear,
    pub(crate) output: Linear,
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

    /// The parameter-wise mean of networks built from one [`NetworkConfig`], batch-norm
    /// statistics included: weight averaging, e.g. of the best models of successive
    /// learning-rate cycles of one run, which lie close enough together for their mean to be a
    /// good model itself. `None` when `nets` is empty or their layouts differ.
    pub fn average(mut nets: Vec<ExpressionNet>) -> Option<ExpressionNet> {
        if nets.is_empty() {
            return None;
        }
        let base = nets.remove(0);
        let same_layout =
            |other: &ExpressionNet| {
                other.blocks.len() == base.blocks.len()
                    && other.blocks.iter().zip(&base.blocks).all(|(a, b)| {
                        a.convs.len() == b.convs.len() && a.norms.len() == b.norms.len()
                    })
                    && [(&other.hidden, &base.hidden), (&other.output, &base.output)]
                        .iter()
                        .all(|(a, b)| a.weight.shape() == b.weight.shape())
            };
        if !nets.iter().all(same_layout) {
            return None;
        }
        let count = nets.len() + 1;
        let blocks = base
            .blocks
            .into_iter()
            .enumerate()
            .map(|(b, block)| ConvBlock {
                convs: block
                    .convs
                    .into_iter()
                    .enumerate()
                    .map(|(c, mut conv)| {
                        let others = || nets.iter().map(|net| &net.blocks[b].convs[c]);
                        conv.weight =
                            average_param(conv.weight, others().map(|o| &o.weight), count);
                        conv.bias = conv.bias.map(|bias| {
                            average_param(bias, others().filter_map(|o| o.bias.as_ref()), count)
                        });
                        conv
                    })
                    .collect(),
                norms: block
                    .norms
                    .into_iter()
                    .enumerate()
                    .map(|(n, mut norm)| {
                        let others = || nets.iter().map(|net| &net.blocks[b].norms[n]);
                        norm.gamma = average_param(norm.gamma, others().map(|o| &o.gamma), count);
                        norm.beta = average_param(norm.beta, others().map(|o| &o.beta), count);
                        norm.running_mean = RunningState::new(mean(
                            norm.running_mean.value(),
                            others().map(|o| o.running_mean.value()),
                            count,
                        ));
                        norm.running_var = RunningState::new(mean(
                            norm.running_var.value(),
                            others().map(|o| o.running_var.value()),
                            count,
                        ));
                        norm
                    })
                    .collect(),
                pool: block.pool,
            })
            .collect();
        let average_linear = |mut linear: Linear, pick: fn(&ExpressionNet) -> &Linear| {
            let others = || nets.iter().map(pick);
            linear.weight = average_param(linear.weight, others().map(|o| &o.weight), count);
            linear.bias = linear
                .bias
                .map(|bias| average_param(bias, others().filter_map(|o| o.bias.as_ref()), count));
            linear
        };
        Some(ExpressionNet {
            blocks,
            dropout: base.dropout,
            hidden: average_linear(base.hidden, |net| &net.hidden),
            output: average_linear(base.output, |net| &net.output),
        })
    }

    /// The network for inference, every batch norm folded into its convolution (same output,
    /// less work). Only for a network that is done training: the folded one has no batch norm
    /// to train and its weights no longer match the saved layout.
    pub fn fold_batch_norm(self) -> Self {
        Self {
            blocks: self
                .blocks
                .into_iter()
                .map(ConvBlock::fold_batch_norm)
                .collect(),
            ..self
        }
    }
}

/// `param` holding the mean of its value and those of `others`, `count` parameters in all (its
/// id and training state are kept).
fn average_param<'a, const D: usize>(
    param: Param<Tensor<D>>,
    others: impl Iterator<Item = &'a Param<Tensor<D>>>,
    count: usize,
) -> Param<Tensor<D>> {
    param.map(|value| mean(value, others.map(Param::val), count))
}

/// The mean of `first` and `others`, `count` tensors in all.
fn mean<const D: usize>(
    first: Tensor<D>,
    others: impl Iterator<Item = Tensor<D>>,
    count: usize,
) -> Tensor<D> {
    others.fold(first, |sum, other| sum + other) / count as f32
}

#[cfg(test)]
mod tests {
    use burn::store::{ModuleSnapshot, SafetensorsStore};
    use burn::tensor::TensorData;

    use super::*;
    use crate::EMBEDDED;

    #[test]
    fn folding_the_batch_norms_keeps_the_logits() {
        // The shipped weights: trained batch-norm statistics, far from the identity.
        let config: NetworkConfig = serde_json::from_slice(EMBEDDED.config).expect("config");
        let device = Device::flex();
        let mut net = config.init(&device);
        let mut store = SafetensorsStore::from_bytes(Some(EMBEDDED.weights.to_vec()));
        net.load_from(&mut store).expect("weights load");
        let batch = 3;
        let values: Vec<f32> = (0..batch * FACE_SIDE * FACE_SIDE)
            .map(|i| ((i * 7919) % 255) as f32 / 127.5 - 1.0)
            .collect();
        let faces = Tensor::<4>::from_data(
            TensorData::new(values, [batch, 1, FACE_SIDE, FACE_SIDE]),
            &device,
        );
        let plain: Vec<f32> = net.forward(faces.clone()).into_data().try_to_vec().unwrap();
        let folded: Vec<f32> = net
            .fold_batch_norm()
            .forward(faces)
            .into_data()
            .try_to_vec()
            .unwrap();
        assert_eq!(plain.len(), batch * mood::EMOTION_COUNT);
        let largest = plain.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
        assert!(largest > 0.1, "the logits are not trivially zero");
        for (a, b) in plain.iter().zip(&folded) {
            assert!((a - b).abs() <= 1e-4 * largest.max(1.0), "{a} vs {b}");
        }
    }

    #[test]
    fn averaging_networks_averages_every_tensor() {
        let config = NetworkConfig {
            channels: vec![4, 8],
            convs: vec![1, 2],
            hidden: 8,
            dropout: 0.0,
        };
        let device = Device::flex();
        let first = config.init(&device);
        let mut second = config.init(&device);
        // Batch-norm statistics start equal; make them differ.
        second.blocks[1].norms[1].running_var =
            RunningState::new(Tensor::<1>::ones([8], &device) * 3.0);
        let averaged = ExpressionNet::average(vec![first.clone(), second.clone()]).unwrap();

        fn values(tensor: Tensor<1>) -> Vec<f32> {
            tensor.into_data().try_to_vec().unwrap()
        }
        fn conv(net: &ExpressionNet) -> Vec<f32> {
            values(net.blocks[1].convs[1].weight.val().flatten(0, 3))
        }
        fn hidden_bias(net: &ExpressionNet) -> Vec<f32> {
            values(net.hidden.bias.as_ref().unwrap().val())
        }
        fn variance(net: &ExpressionNet) -> Vec<f32> {
            values(net.blocks[1].norms[1].running_var.value())
        }
        for pick in [
            conv as fn(&ExpressionNet) -> Vec<f32>,
            hidden_bias,
            variance,
        ] {
            let (a, b, mean) = (pick(&first), pick(&second), pick(&averaged));
            assert_ne!(a, b, "the two networks differ");
            for ((a, b), mean) in a.iter().zip(&b).zip(&mean) {
                assert!((mean - (a + b) / 2.0).abs() < 1e-6, "{mean} vs {a} and {b}");
            }
        }
        assert_eq!(variance(&averaged), vec![2.0; 8]);

        // The mean of a network with itself is that network.
        let alone = ExpressionNet::average(vec![first.clone(), first.clone()]).unwrap();
        assert_eq!(conv(&alone), conv(&first));
        assert!(ExpressionNet::average(Vec::new()).is_none());
        let other = NetworkConfig {
            hidden: 16,
            ..config
        }
        .init(&device);
        assert!(ExpressionNet::average(vec![first, other]).is_none());
    }
}
