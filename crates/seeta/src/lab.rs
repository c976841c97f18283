//! The first stage of the funnel: boosted classifiers over LAB (locally assembled binary)
//! features, run on every window of every pyramid level.
//!
//! A LAB feature at a pixel compares the sum of the 3×3 block below-right of it (the centre of a
//! 9×9 neighbourhood) with the sums of the eight 3×3 blocks around that centre: one bit each.

/// Side of the blocks a LAB feature compares.
const BLOCK: usize = 3;
/// Features are summed in groups of this many before the running score is checked.
const GROUP: usize = 10;
/// Windows flatter than this standard deviation of grey levels are never faces.
const MIN_STD_DEV: f64 = 10.0;

/// One boosted classifier: base classifiers each looking up the weight of one feature's value.
#[derive(Debug, Clone)]
pub(crate) struct LabClassifier {
    /// Feature positions inside the 40-pixel window.
    features: Vec<(u32, u32)>,
    /// Weight of each of the 256 values, per base classifier.
    weights: Vec<[f32; 256]>,
    /// Running-score threshold after each base classifier (used after each group).
    thresholds: Vec<f32>,
}

impl LabClassifier {
    pub(crate) fn new(
        features: Vec<(u32, u32)>,
        weights: Vec<[f32; 256]>,
        thresholds: Vec<f32>,
    ) -> Self {
        Self {
            features,
            weights,
            thresholds,
        }
    }

    /// Where each feature lies relative to a window's top-left corner in a level `width`
    /// pixels wide (one index into the level's feature map per feature).
    pub(crate) fn offsets(&self, width: usize) -> Vec<usize> {
        self.features
            .iter()
            .map(|&(fx, fy)| fy as usize * width + fx as usize)
            .collect()
    }

    /// Scores the window whose top-left corner is (x, y) in `map`'s level, given this
    /// classifier's [`offsets`](Self::offsets) for that level; `None` when it is rejected.
    pub(crate) fn classify(
        &self,
        map: &LabFeatureMap,
        offsets: &[usize],
        x: usize,
        y: usize,
        side: usize,
    ) -> Option<f32> {
        let features = &map.features[y * map.width + x..];
        let mut score = 0.0f32;
        for ((offsets, weights), thresholds) in offsets
            .chunks(GROUP)
            .zip(self.weights.chunks(GROUP))
            .zip(self.thresholds.chunks(GROUP))
        {
            for (&offset, weights) in offsets.iter().zip(weights) {
                score += weights[usize::from(features[offset])];
            }
            if thresholds
                .last()
                .is_some_and(|&threshold| score < threshold)
            {
                return None;
            }
        }
        (map.std_dev(x, y, side) > MIN_STD_DEV).then_some(score)
    }
}

/// The LAB features of one pyramid level, and its integral images for the flatness test.
#[derive(Debug, Default)]
pub(crate) struct LabFeatureMap {
    width: usize,
    height: usize,
    /// One LAB value per pixel (valid where the whole 9×9 neighbourhood lies in the level).
    features: Vec<u8>,
    /// Inclusive integral image of the grey levels.
    integral: Vec<i32>,
    /// Inclusive integral image of the squared grey levels (wrapping: only differences over a
    /// window are used, and those fit).
    square_integral: Vec<u32>,
    /// Sum of the 3×3 block whose top-left corner is each pixel.
    block_sums: Vec<i32>,
    /// Sum of the three pixels starting at each pixel of a row.
    row_sums: Vec<i32>,
}

impl LabFeatureMap {
    /// Computes the map of a `width` × `height` grey level (both at least 9).
    pub(crate) fn compute(&mut self, pixels: &[u8], width: usize, height: usize) {
        self.width = width;
        self.height = height;
        let length = width * height;
        self.integral.resize(length, 0);
        self.square_integral.resize(length, 0);
        self.block_sums.resize(length, 0);
        self.features.resize(length, 0);
        self.compute_integrals(pixels);
        self.compute_block_sums(pixels);
        self.compute_features();
    }

    fn compute_integrals(&mut self, pixels: &[u8]) {
        let width = self.width;
        for (row, line) in pixels.chunks_exact(width).enumerate() {
            let (done, rest) = self.integral.split_at_mut(row * width);
            let (square_done, square_rest) = self.square_integral.split_at_mut(row * width);
            let above = done
                .get(done.len().saturating_sub(width)..)
                .unwrap_or_default();
            let square_above = square_done
                .get(square_done.len().saturating_sub(width)..)
                .unwrap_or_default();
            let (mut sum, mut square_sum) = (0i32, 0u32);
            for (column, &pixel) in line.iter().enumerate() {
                sum += i32::from(pixel);
                square_sum = square_sum.wrapping_add(u32::from(pixel) * u32::from(pixel));
                rest[column] = above.get(column).copied().unwrap_or(0).wrapping_add(sum);
                square_rest[column] = square_above
                    .get(column)
                    .copied()
                    .unwrap_or(0)
                    .wrapping_add(square_sum);
            }
        }
    }

    /// The integral image at (x - 1, y - 1) style corners: 0 outside the image.
    fn corner(&self, x: usize, y: usize) -> i32 {
        if x == 0 || y == 0 {
            0
        } else {
            self.integral[(y - 1) * self.width + x - 1]
        }
    }

    fn square_corner(&self, x: usize, y: usize) -> u32 {
        if x == 0 || y == 0 {
            0
        } else {
            self.square_integral[(y - 1) * self.width + x - 1]
        }
    }

    /// 3×3 block sums straight from the pixels: three-pixel sums along each row, then three of
    /// those down each column (the same integers as from the integral image).
    fn compute_block_sums(&mut self, pixels: &[u8]) {
        let (width, height) = (self.width, self.height);
        self.row_sums.resize(width * height, 0);
        for (line, sums) in pixels
            .chunks_exact(width)
            .zip(self.row_sums.chunks_exact_mut(width))
        {
            for (sum, three) in sums.iter_mut().zip(line.windows(BLOCK)) {
                *sum = three.iter().map(|&pixel| i32::from(pixel)).sum();
            }
        }
        for y in 0..=height - BLOCK {
            let (top, middle, bottom) = (
                &self.row_sums[y * width..][..width - BLOCK + 1],
                &self.row_sums[(y + 1) * width..][..width - BLOCK + 1],
                &self.row_sums[(y + 2) * width..][..width - BLOCK + 1],
            );
            let out = &mut self.block_sums[y * width..][..width - BLOCK + 1];
            for (((out, a), b), c) in out.iter_mut().zip(top).zip(middle).zip(bottom) {
                *out = a + b + c;
            }
        }
    }

    fn compute_features(&mut self) {
        let width = self.width;
        let columns = width - 3 * BLOCK + 1;
        for row in 0..=self.height - 3 * BLOCK {
            let top = &self.block_sums[row * width..];
            let middle = &self.block_sums[(row + BLOCK) * width..];
            let bottom = &self.block_sums[(row + 2 * BLOCK) * width..];
            let out = &mut self.features[row * width..row * width + columns];
            for (c, value) in out.iter_mut().enumerate() {
                let centre = middle[c + BLOCK];
                // Clockwise from the top-left block: bits 7, 6, 5, 3, 0, 1, 2, 4.
                *value = (u8::from(centre >= top[c]) << 7)
                    | (u8::from(centre >= top[c + BLOCK]) << 6)
                    | (u8::from(centre >= top[c + 2 * BLOCK]) << 5)
                    | (u8::from(centre >= middle[c + 2 * BLOCK]) << 3)
                    | u8::from(centre >= bottom[c + 2 * BLOCK])
                    | (u8::from(centre >= bottom[c + BLOCK]) << 1)
                    | (u8::from(centre >= bottom[c]) << 2)
                    | (u8::from(centre >= middle[c]) << 4);
            }
        }
    }

    /// Standard deviation of the grey levels in the `side`-pixel square at (x, y).
    fn std_dev(&self, x: usize, y: usize, side: usize) -> f64 {
        let area = (side * side) as f64;
        let sum = self
            .corner(x + side, y + side)
            .wrapping_sub(self.corner(x, y + side))
            .wrapping_add(self.corner(x, y))
            .wrapping_sub(self.corner(x + side, y));
        let square_sum = self
            .square_corner(x + side, y + side)
            .wrapping_sub(self.square_corner(x, y + side))
            .wrapping_add(self.square_corner(x, y))
            .wrapping_sub(self.square_corner(x + side, y));
        let mean = f64::from(sum) / area;
        let mean_square = f64::from(square_sum) / area;
        (mean_square - mean * mean).sqrt()
    }
}
