//! Bilinear resizing, as the model's engine does it (f64 weights, truncation to u8).

/// Resizes a `width` × `height` grey image (both at least 2) to `out_width` × `out_height` into
/// `out`.
pub(crate) fn resize(
    pixels: &[u8],
    width: usize,
    height: usize,
    out_width: usize,
    out_height: usize,
    out: &mut Vec<u8>,
) {
    if width == out_width && height == out_height {
        out.clear();
        out.extend_from_slice(pixels);
        return;
    }
    // Every value is written below: only a longer buffer needs filling first.
    out.resize(out_width * out_height, 0);
    if out_width == 0 {
        return;
    }
    let scale_x = width as f64 / out_width as f64;
    let scale_y = height as f64 / out_height as f64;
    // Per output column: the left source column and the weight of the right one.
    let columns: Vec<(usize, f64)> = (0..out_width)
        .map(|x| {
            let source = scale_x * x as f64;
            let left = (source as usize).min(width - 2);
            (left, source - left as f64)
        })
        .collect();
    for (y, line) in out.chunks_exact_mut(out_width).enumerate() {
        let source = scale_y * y as f64;
        let top = (source as usize).min(height - 2);
        let weight_y = source - top as f64;
        let upper = &pixels[top * width..(top + 1) * width];
        let lower = &pixels[(top + 1) * width..(top + 2) * width];
        for (value, &(left, weight_x)) in line.iter_mut().zip(&columns) {
            let (d1, d2) = (f64::from(upper[left]), f64::from(upper[left + 1]));
            let (d3, d4) = (f64::from(lower[left]), f64::from(lower[left + 1]));
            let blended = (1.0 - weight_y) * ((1.0 - weight_x) * d1 + weight_x * d2)
                + weight_y * ((1.0 - weight_x) * d3 + weight_x * d4);
            *value = blended as u8;
        }
    }
}
