//! The later stages of the funnel: multilayer perceptrons over SURF-like gradient features of a
//! 40×40 window, which also regress the window onto the face.
//!
//! Each feature is a patch of the window cut into 2×2 cells; each cell gives eight sums of the
//! horizontal and vertical gradients split by sign (dx and |dx| where dy ≥ 0, the same where
//! dy < 0, and likewise for dy by the sign of dx); the 32 values are L2-normalised.

/// Channels per cell: see the module documentation.
const CHANNELS: usize = 8;
/// Values per feature: 2×2 cells × 8 channels.
pub(crate) const FEATURE_DIM: usize = 4 * CHANNELS;

/// One layer of an MLP: `output = activation(weights · input + bias)`.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    inputs: usize,
    weights: Vec<f32>,
    biases: Vec<f32>,
}

impl Layer {
    pub(crate) fn new(inputs: usize, weights: Vec<f32>, biases: Vec<f32>) -> Self {
        Self {
            inputs,
            weights,
            biases,
        }
    }

    fn outputs(&self) -> usize {
        self.biases.len()
    }

    fn compute(&self, input: &[f32], output: &mut Vec<f32>, activation: fn(f32) -> f32) {
        output.clear();
        output.extend(
            self.weights
                .chunks_exact(self.inputs)
                .zip(&self.biases)
                .map(|(weights, bias)| activation(dot(input, weights) + bias)),
        );
    }
}

/// A dot product in eight independent lanes, so that the compiler can use vector instructions
/// (a single running sum cannot be reordered).
fn dot(left: &[f32], right: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (left_chunks, right_chunks) = (left.chunks_exact(8), right.chunks_exact(8));
    let tail: f32 = left_chunks
        .remainder()
        .iter()
        .zip(right_chunks.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (a, b) in left_chunks.zip(right_chunks) {
        for lane in 0..8 {
            lanes[lane] += a[lane] * b[lane];
        }
    }
    ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
        + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]))
        + tail
}

fn relu(x: f32) -> f32 {
    x.max(0.0)
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// One MLP stage: features → hidden layers (ReLU) → four sigmoid outputs (score, then the
/// window's shift in x and y and its scale, each in [0, 1]).
#[derive(Debug, Clone)]
pub(crate) struct MlpClassifier {
    /// Where the stage's features take their sums (see [`CornerGrid`]).
    grid: CornerGrid,
    threshold: f32,
    layers: Vec<Layer>,
}

/// What an MLP stage says of a window.
pub(crate) struct MlpOutput {
    pub(crate) score: f32,
    pub(crate) positive: bool,
    /// Shift right, shift down and size, each in [0, 1] (0.5 = unchanged).
    pub(crate) regression: [f32; 3],
}

impl MlpClassifier {
    /// `None` when the layers do not chain from the features to at least four outputs, or a
    /// feature id is unknown.
    pub(crate) fn new(features: Vec<usize>, threshold: f32, layers: Vec<Layer>) -> Option<Self> {
        let mut width = features.len() * FEATURE_DIM;
        for layer in &layers {
            if layer.inputs != width || layer.weights.len() != layer.inputs * layer.outputs() {
                return None;
            }
            width = layer.outputs();
        }
        let pool = FeaturePool::new();
        let patches = features
            .iter()
            .map(|&id| pool.features.get(id).copied())
            .collect::<Option<Vec<Patch>>>()?;
        (width >= 4 && !layers.is_empty()).then(|| Self {
            grid: CornerGrid::new(&patches),
            threshold,
            layers,
        })
    }

    /// Scores a 40×40 window (row by row).
    pub(crate) fn classify(
        &self,
        window: &[u8],
        map: &mut SurfFeatureMap,
        scratch: &mut MlpScratch,
    ) -> MlpOutput {
        map.compute(window, FeaturePool::SAMPLE, &self.grid);
        scratch.input.clear();
        for corners in &self.grid.features {
            map.push_feature(corners, &mut scratch.input);
        }
        let last = self.layers.len() - 1;
        for (index, layer) in self.layers.iter().enumerate() {
            let activation: fn(f32) -> f32 = if index == last { sigmoid } else { relu };
            layer.compute(&scratch.input, &mut scratch.output, activation);
            std::mem::swap(&mut scratch.input, &mut scratch.output);
        }
        let output = &scratch.input;
        MlpOutput {
            score: output[0],
            positive: output[0] > self.threshold,
            regression: [output[1], output[2], output[3]],
        }
    }
}

/// The corners at which one stage's features read the gradient integrals: the distinct x and
/// y coordinates of all its cells' edges (a few of the window's 41), and for each feature the
/// indices of its three x and three y edges among them. Integrals are only computed there.
#[derive(Debug, Clone)]
struct CornerGrid {
    xs: Vec<usize>,
    ys: Vec<usize>,
    features: Vec<FeatureCorners>,
}

/// Indices into [`CornerGrid::xs`] and [`CornerGrid::ys`] of a feature's cell edges.
#[derive(Debug, Clone, Copy)]
struct FeatureCorners {
    xs: [usize; 3],
    ys: [usize; 3],
}

impl CornerGrid {
    fn new(patches: &[Patch]) -> Self {
        let edges = |start: usize, cell: usize| [start, start + cell, start + 2 * cell];
        let mut xs: Vec<usize> = patches
            .iter()
            .flat_map(|patch| edges(patch.x, patch.cell_width))
            .collect();
        let mut ys: Vec<usize> = patches
            .iter()
            .flat_map(|patch| edges(patch.y, patch.cell_height))
            .collect();
        for coordinates in [&mut xs, &mut ys] {
            coordinates.sort_unstable();
            coordinates.dedup();
        }
        let index = |coordinates: &[usize], value: usize| {
            coordinates.binary_search(&value).unwrap_or_default()
        };
        let features = patches
            .iter()
            .map(|patch| FeatureCorners {
                xs: edges(patch.x, patch.cell_width).map(|x| index(&xs, x)),
                ys: edges(patch.y, patch.cell_height).map(|y| index(&ys, y)),
            })
            .collect();
        Self { xs, ys, features }
    }
}

/// Buffers an MLP reuses between windows.
#[derive(Debug, Default)]
pub(crate) struct MlpScratch {
    input: Vec<f32>,
    output: Vec<f32>,
}

/// A patch of the 40×40 window, split into 2×2 cells.
#[derive(Debug, Clone, Copy)]
struct Patch {
    x: usize,
    y: usize,
    cell_width: usize,
    cell_height: usize,
}

/// Every patch the model's features may refer to, in the order of their ids.
#[derive(Debug)]
struct FeaturePool {
    features: Vec<Patch>,
}

impl FeaturePool {
    const SAMPLE: usize = 40;
    const MIN_PATCH: usize = 16;
    const STEP: usize = 16;

    /// Patches of aspect 1:1, 1:2, 2:1, 2:3 and 3:2 (width:height) from 16 pixels up to the
    /// whole window, placed every 16 pixels.
    fn new() -> Self {
        let mut features = Vec::new();
        for (aspect_width, aspect_height) in [(1, 1), (1, 2), (2, 1), (2, 3), (3, 2)] {
            for height in Self::MIN_PATCH..=Self::SAMPLE {
                if height % 2 != 0 || height % aspect_height != 0 {
                    continue;
                }
                let width = height / aspect_height * aspect_width;
                if width % 2 != 0 || !(Self::MIN_PATCH..=Self::SAMPLE).contains(&width) {
                    continue;
                }
                for y in (0..=Self::SAMPLE - height).step_by(Self::STEP) {
                    for x in (0..=Self::SAMPLE - width).step_by(Self::STEP) {
                        features.push(Patch {
                            x,
                            y,
                            cell_width: width / 2,
                            cell_height: height / 2,
                        });
                    }
                }
            }
        }
        Self { features }
    }
}

/// The gradient channels of one window, integrated up to the corners of a [`CornerGrid`].
#[derive(Debug, Default)]
pub(crate) struct SurfFeatureMap {
    /// Per grid corner (row-major over `ys` × `xs`), the `CHANNELS` sums over [0, x) × [0, y).
    corners: Vec<i32>,
    /// Per x edge, the sums over [0, x) of the rows seen so far.
    columns: Vec<[i32; CHANNELS]>,
    /// Gradients of the row being integrated.
    dx: Vec<i32>,
    dy: Vec<i32>,
}

impl SurfFeatureMap {
    /// Integrates the gradient channels of a `side` × `side` window (side ≥ 2) up to every
    /// corner of `grid` (whose coordinates are at most `side`).
    fn compute(&mut self, pixels: &[u8], side: usize, grid: &CornerGrid) {
        let (xs, ys) = (&grid.xs, &grid.ys);
        self.corners.clear();
        self.corners.resize(xs.len() * ys.len() * CHANNELS, 0);
        self.columns.clear();
        self.columns.resize(xs.len(), [0; CHANNELS]);
        self.dx.resize(side, 0);
        self.dy.resize(side, 0);
        let width = xs.last().map_or(0, |&x| x.min(side));
        let height = ys.last().map_or(0, |&y| y.min(side));
        // Rows of corners at y = 0 hold zeros, as they are.
        let mut next_row = ys.iter().take_while(|&&y| y == 0).count();
        let row_of = |y: usize| &pixels[y * side..(y + 1) * side];
        for y in 0..height {
            let row = row_of(y);
            // Central differences, one-sided (doubled) at the borders.
            let (above, below, factor) = match y {
                0 => (row, row_of(1), 2),
                _ if y == side - 1 => (row_of(y - 1), row, 2),
                _ => (row_of(y - 1), row_of(y + 1), 1),
            };
            for ((dy, &up), &down) in self.dy.iter_mut().zip(above).zip(below) {
                *dy = (i32::from(down) - i32::from(up)) * factor;
            }
            self.dx[0] = (i32::from(row[1]) - i32::from(row[0])) * 2;
            for x in 1..side - 1 {
                self.dx[x] = i32::from(row[x + 1]) - i32::from(row[x - 1]);
            }
            self.dx[side - 1] = (i32::from(row[side - 1]) - i32::from(row[side - 2])) * 2;

            // The eight channels of each pixel (masks instead of branches), summed along the
            // row; at each x edge the sum so far joins that edge's column sums.
            let mut sums = [0i32; CHANNELS];
            let mut start = 0;
            for (&edge, column) in xs.iter().zip(&mut self.columns) {
                let edge = edge.min(width);
                for (&dx, &dy) in self.dx[start..edge].iter().zip(&self.dy[start..edge]) {
                    let up = -i32::from(dy >= 0);
                    let right = -i32::from(dx >= 0);
                    let (abs_dx, abs_dy) = (dx.abs(), dy.abs());
                    let values = [
                        dx & up,
                        abs_dx & up,
                        dx & !up,
                        abs_dx & !up,
                        dy & right,
                        abs_dy & right,
                        dy & !right,
                        abs_dy & !right,
                    ];
                    for (sum, value) in sums.iter_mut().zip(values) {
                        *sum += value;
                    }
                }
                start = edge;
                for (total, sum) in column.iter_mut().zip(sums) {
                    *total += sum;
                }
            }
            // At each y edge, the column sums are the integrals of that row of corners.
            while next_row < ys.len() && ys[next_row] == y + 1 {
                let corners = &mut self.corners[next_row * xs.len() * CHANNELS..];
                for (out, column) in corners.chunks_exact_mut(CHANNELS).zip(&self.columns) {
                    out.copy_from_slice(column);
                }
                next_row += 1;
            }
        }
    }

    /// The integral of every channel over [0, xs[x]) × [0, ys[y]) (one column per x edge).
    fn corner(&self, x: usize, y: usize) -> &[i32] {
        let start = (y * self.columns.len() + x) * CHANNELS;
        &self.corners[start..start + CHANNELS]
    }

    /// Appends the normalised values of the feature with these corners to `out`.
    fn push_feature(&self, corners: &FeatureCorners, out: &mut Vec<f32>) {
        let mut raw = [0i32; FEATURE_DIM];
        let mut values = raw.chunks_exact_mut(CHANNELS);
        for cell_y in 0..2 {
            for cell_x in 0..2 {
                let (x0, x1) = (corners.xs[cell_x], corners.xs[cell_x + 1]);
                let (y0, y1) = (corners.ys[cell_y], corners.ys[cell_y + 1]);
                let (a, b) = (self.corner(x1, y1), self.corner(x0, y1));
                let (c, d) = (self.corner(x1, y0), self.corner(x0, y0));
                if let Some(cell) = values.next() {
                    for channel in 0..CHANNELS {
                        cell[channel] = a[channel] - b[channel] - c[channel] + d[channel];
                    }
                }
            }
        }
        // The squares are taken in 32 bits and may wrap, as in the engine the model was
        // trained with; only windows of extreme contrast reach that.
        let norm_square: f64 = raw
            .iter()
            .map(|&value| f64::from(value.wrapping_mul(value)))
            .sum();
        if norm_square == 0.0 {
            out.extend([0.0; FEATURE_DIM]);
        } else {
            let norm = norm_square.sqrt() as f32;
            out.extend(raw.iter().map(|&value| value as f32 / norm));
        }
    }
}
