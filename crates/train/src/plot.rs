//! PNG plots of a training run (loss and accuracy per epoch) and of an evaluation (the confusion
//! matrix as a heat map).
//!
//! Text is drawn with DejaVu Sans compiled into the binary (the `dejavu` crate), so plotting
//! never looks for system fonts and works the same on a bare server.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mood::{EMOTION_COUNT, Emotion};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::evaluate::EvalReport;
use crate::trainer::EpochMetrics;

/// Size of the training-curves image in pixels.
const CURVES_SIZE: (u32, u32) = (1200, 500);
/// Size of the confusion heat map in pixels.
const CONFUSION_SIZE: (u32, u32) = (700, 650);

/// The family name the embedded font is registered under; plotters' own defaults use it too.
const FONT: &str = "sans-serif";

const TRAIN_COLOUR: RGBColor = RGBColor(31, 119, 180);
const VALIDATION_COLOUR: RGBColor = RGBColor(214, 39, 40);
const F1_COLOUR: RGBColor = RGBColor(44, 160, 44);
const GRID_COLOUR: RGBColor = RGBColor(225, 225, 225);
const TEXT_COLOUR: RGBColor = RGBColor(40, 40, 40);
/// Empty confusion cells are greyed out so the errors that happen stand out.
const ZERO_COLOUR: RGBColor = RGBColor(170, 170, 170);
/// Colour of a row fraction of 1 in the heat map (0 is white).
const HEAT_COLOUR: RGBColor = RGBColor(8, 69, 148);

/// Why a plot could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PlotError {
    /// The image that was to be written.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

impl PlotError {
    fn new(path: &Path, message: impl std::fmt::Display) -> Self {
        Self {
            path: path.to_owned(),
            message: message.to_string(),
        }
    }
}

type DrawResult =
    Result<(), DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>>;

/// Writes `out` (PNG, 1200×500): training and PublicTest loss on the left; training and
/// PublicTest accuracy and PublicTest macro-F1 on the right, one point per epoch.
pub fn plot_training_curves(metrics: &[EpochMetrics], out: &Path) -> Result<(), PlotError> {
    if metrics.is_empty() {
        return Err(PlotError::new(out, "no epochs to plot"));
    }
    render(out, CURVES_SIZE, |root| draw_training_curves(root, metrics))
}

/// Writes `out` (PNG, 700×650): the confusion matrix of `report` with true classes as rows and
/// predicted classes as columns, coloured by the fraction of the row, each cell labelled with
/// its count and row percentage.
pub fn plot_confusion(report: &EvalReport, out: &Path) -> Result<(), PlotError> {
    render(out, CONFUSION_SIZE, |root| draw_confusion(root, report))
}

/// Draws into an RGB buffer and writes it as a PNG next to `out` before renaming it into place,
/// so a reader never sees half an image (training rewrites its plot after every epoch).
fn render(
    out: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> DrawResult,
) -> Result<(), PlotError> {
    register_font().map_err(|message| PlotError::new(out, message))?;
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        draw(&root).map_err(|error| PlotError::new(out, error))?;
        root.present().map_err(|error| PlotError::new(out, error))?;
    }
    let image = image::RgbImage::from_raw(width, height, pixels)
        .ok_or_else(|| PlotError::new(out, "the pixel buffer does not match the image size"))?;
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    image
        .save_with_format(&partial, image::ImageFormat::Png)
        .map_err(|error| PlotError::new(out, error))?;
    fs::rename(&partial, out).map_err(|error| {
        let _ = fs::remove_file(&partial);
        PlotError::new(out, error)
    })
}

/// Registers the embedded DejaVu Sans (regular and bold) once per process.
fn register_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
                .and_then(|()| {
                    plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold())
                })
                .map_err(|_| "the embedded DejaVu Sans font cannot be read".to_owned())
        })
        .clone()
}

fn draw_training_curves(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    metrics: &[EpochMetrics],
) -> DrawResult {
    root.fill(&WHITE)?;
    let epochs = metrics.len();
    let title = match best_epoch(metrics) {
        Some(best) => format!(
            "Training: {epochs} epoch{}; best PublicTest accuracy {:.1}% at epoch {}",
            if epochs == 1 { "" } else { "s" },
            best.val_accuracy * 100.0,
            best.epoch
        ),
        None => format!("Training: {epochs} epochs"),
    };
    let body = root
        .margin(10, 0, 0, 0)
        .titled(&title, (FONT, 22, FontStyle::Bold))?;
    let (left, right) = body.split_horizontally(body.dim_in_pixel().0 / 2);

    let first = metrics.first().map_or(1, |m| m.epoch);
    let last = metrics.last().map_or(1, |m| m.epoch).max(first);
    let panel = |area: &DrawingArea<BitMapBackend<'_>, Shift>,
                 caption: &str,
                 axis: ValueAxis,
                 series: &[Series]| {
        let values = metrics
            .iter()
            .flat_map(|m| series.iter().map(move |s| (s.value)(m)));
        let (low, high) = padded_range(values, 0.08, 0.05);
        draw_panel(
            area,
            caption,
            metrics,
            (first, last),
            (low, high),
            axis,
            series,
        )
    };
    panel(
        &left,
        "Loss (cross-entropy)",
        ValueAxis::Loss,
        &[
            Series::new("train", TRAIN_COLOUR, |m| m.train_loss),
            Series::new("PublicTest", VALIDATION_COLOUR, |m| m.val_loss),
        ],
    )?;
    panel(
        &right,
        "Accuracy and macro-F1",
        ValueAxis::Score,
        &[
            Series::new("train accuracy", TRAIN_COLOUR, |m| m.train_accuracy),
            Series::new("PublicTest accuracy", VALIDATION_COLOUR, |m| m.val_accuracy),
            Series::new("PublicTest macro-F1", F1_COLOUR, |m| m.val_macro_f1),
        ],
    )
}

/// What the y axis of a panel shows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ValueAxis {
    /// Any positive number, two decimals.
    Loss,
    /// A fraction in [0, 1], shown as a percentage.
    Score,
}

/// One line of a training-curves panel.
struct Series {
    label: &'static str,
    colour: RGBColor,
    value: fn(&EpochMetrics) -> f64,
}

impl Series {
    fn new(label: &'static str, colour: RGBColor, value: fn(&EpochMetrics) -> f64) -> Self {
        Self {
            label,
            colour,
            value,
        }
    }
}

/// A captioned panel: a legend row (above the plot, so it never hides a curve), then the plot.
fn draw_panel(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    caption: &str,
    metrics: &[EpochMetrics],
    (first, last): (usize, usize),
    (low, high): (f64, f64),
    axis: ValueAxis,
    series: &[Series],
) -> DrawResult {
    let area = area.titled(caption, (FONT, 18))?;
    let (legend, plot) = area.split_vertically(28);
    draw_legend_row(&legend, series)?;

    let scores = axis == ValueAxis::Score;
    let (low, high) = if scores {
        (low.max(0.0), high.min(1.0).max(low + 0.01))
    } else {
        (low, high)
    };
    let mut chart = ChartBuilder::on(&plot)
        .margin(12)
        .margin_top(4)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(epoch_range(first, last), low..high)?;
    let percent = |value: &f64| format!("{:.0}%", value * 100.0);
    let plain = |value: &f64| format!("{value:.2}");
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID_COLOUR)
        .axis_style(TEXT_COLOUR)
        .x_desc("epoch")
        .y_desc(if scores { "score" } else { "loss" })
        .axis_desc_style((FONT, 16))
        .label_style((FONT, 14).into_font().color(&TEXT_COLOUR))
        // At most a dozen ticks; plotters then picks a round step (1, 2, 5, 10, ...).
        .x_labels((last - first + 1).min(12))
        .x_label_formatter(&epoch_label)
        .y_labels(8)
        .y_label_formatter(if scores { &percent } else { &plain })
        .draw()?;

    // Markers help on short runs and only clutter long ones.
    let marker = match metrics.len() {
        0..=20 => 4,
        21..=60 => 3,
        _ => 0,
    };
    for line in series {
        let points: Vec<(f64, f64)> = metrics
            .iter()
            .map(|m| (m.epoch as f64, (line.value)(m)))
            .filter(|(_, y)| y.is_finite())
            .collect();
        chart
            .draw_series(LineSeries::new(points, line.colour.stroke_width(2)).point_size(marker))?;
    }
    Ok(())
}

/// The legend entries side by side, centred in `area`.
fn draw_legend_row(area: &DrawingArea<BitMapBackend<'_>, Shift>, series: &[Series]) -> DrawResult {
    const SWATCH: i32 = 22;
    const GAP: i32 = 6;
    const SPACING: i32 = 24;
    let font = (FONT, 14).into_font().color(&TEXT_COLOUR);
    let widths = series
        .iter()
        .map(|s| {
            area.estimate_text_size(s.label, &font)
                .map(|(w, _)| w as i32)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let total: i32 = widths.iter().map(|w| SWATCH + GAP + w).sum::<i32>()
        + SPACING * (series.len() as i32 - 1).max(0);
    let (width, height) = area.dim_in_pixel();
    let mut x = (width as i32 - total).max(0) / 2;
    let y = height as i32 / 2;
    for (line, text_width) in series.iter().zip(widths) {
        area.draw(&PathElement::new(
            [(x, y), (x + SWATCH, y)],
            line.colour.stroke_width(2),
        ))?;
        area.draw(&Circle::new((x + SWATCH / 2, y), 4, line.colour.filled()))?;
        area.draw(&Text::new(
            line.label,
            (x + SWATCH + GAP, y),
            font.pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += SWATCH + GAP + text_width + SPACING;
    }
    Ok(())
}

/// The epoch with the best PublicTest accuracy (the first of ties, as the trainer keeps it).
fn best_epoch(metrics: &[EpochMetrics]) -> Option<&EpochMetrics> {
    metrics.iter().filter(|m| m.val_accuracy.is_finite()).fold(
        None,
        |best: Option<&EpochMetrics>, m| match best {
            Some(b) if b.val_accuracy >= m.val_accuracy => Some(b),
            _ => Some(m),
        },
    )
}

/// The x range, padded so the end points are not cut.
fn epoch_range(first: usize, last: usize) -> std::ops::Range<f64> {
    let pad = ((last - first) as f64 * 0.03).max(0.3);
    (first as f64 - pad)..(last as f64 + pad)
}

/// An epoch tick label; plotters may put ticks between whole epochs on short runs.
fn epoch_label(value: &f64) -> String {
    if (value - value.round()).abs() < 1e-6 {
        format!("{value:.0}")
    } else {
        String::new()
    }
}

/// Min and max of the finite `values`, widened by `fraction` of the span (or by `minimum` when
/// all values are equal).
fn padded_range(values: impl Iterator<Item = f64>, fraction: f64, minimum: f64) -> (f64, f64) {
    let (low, high) = values
        .filter(|value| value.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), value| {
            (low.min(value), high.max(value))
        });
    if low > high {
        return (0.0, 1.0);
    }
    let pad = ((high - low) * fraction).max(minimum);
    (low - pad, high + pad)
}

fn draw_confusion(root: &DrawingArea<BitMapBackend<'_>, Shift>, report: &EvalReport) -> DrawResult {
    root.fill(&WHITE)?;
    let title = format!(
        "{}: accuracy {:.1}%, macro-F1 {:.3}, {} faces{}",
        report.split,
        report.accuracy * 100.0,
        report.macro_f1,
        report.images,
        if report.tta { " (flip TTA)" } else { "" }
    );
    let body = root
        .margin(10, 0, 0, 0)
        .titled(&title, (FONT, 20, FontStyle::Bold))?;
    let (grid_area, footer) = body.split_vertically(body.dim_in_pixel().1 - 24);
    footer.draw(&Text::new(
        "colour: share of the row (each true class sums to 100%)",
        (footer.dim_in_pixel().0 as i32 / 2, 4),
        (FONT, 13)
            .into_font()
            .color(&TEXT_COLOUR)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))?;

    let classes = EMOTION_COUNT as u32;
    let row_totals: Vec<usize> = report
        .confusion
        .iter()
        .map(|row| row.iter().sum())
        .collect();
    let mut chart = ChartBuilder::on(&grid_area)
        .margin(10)
        .margin_right(20)
        .x_label_area_size(55)
        .y_label_area_size(110)
        // Integer ranges are inclusive in plotters: 0..6 gives seven segments.
        .build_cartesian_2d(
            (0..classes - 1).into_segmented(),
            (0..classes - 1).into_segmented(),
        )?;
    // The y axis grows upwards; row 0 (angry) belongs at the top.
    let row_at = |y: u32| (EMOTION_COUNT - 1).saturating_sub(y as usize);
    let row_label = |value: &SegmentValue<u32>| match value {
        SegmentValue::CenterOf(y) => {
            let row = row_at(*y);
            format!("{} ({})", Emotion::ALL[row].name(), row_totals[row])
        }
        _ => String::new(),
    };
    let column_label = |value: &SegmentValue<u32>| match value {
        SegmentValue::CenterOf(x) => Emotion::ALL
            .get(*x as usize)
            .map_or_else(String::new, |emotion| emotion.name().to_owned()),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .axis_style(TEXT_COLOUR)
        .x_labels(EMOTION_COUNT)
        .y_labels(EMOTION_COUNT)
        .x_label_formatter(&column_label)
        .y_label_formatter(&row_label)
        .x_desc("predicted")
        .y_desc("true")
        .axis_desc_style((FONT, 16, FontStyle::Bold))
        .label_style((FONT, 14).into_font().color(&TEXT_COLOUR))
        .draw()?;

    let cells = (0..classes).flat_map(|y| (0..classes).map(move |x| (x, y)));
    chart.draw_series(cells.clone().map(|(x, y)| {
        let row = row_at(y);
        let fraction = row_fraction(report.confusion[row][x as usize], row_totals[row]);
        Rectangle::new(
            [
                (SegmentValue::Exact(x), SegmentValue::Exact(y + 1)),
                (SegmentValue::Exact(x + 1), SegmentValue::Exact(y)),
            ],
            heat(fraction).filled(),
        )
    }))?;
    // Thin white gaps between cells, and a frame around the diagonal (the correct answers).
    chart.draw_series(cells.clone().map(|(x, y)| {
        Rectangle::new(
            [
                (SegmentValue::Exact(x), SegmentValue::Exact(y + 1)),
                (SegmentValue::Exact(x + 1), SegmentValue::Exact(y)),
            ],
            WHITE.stroke_width(1),
        )
    }))?;
    chart.draw_series(cells.map(|(x, y)| {
        let row = row_at(y);
        let count = report.confusion[row][x as usize];
        let fraction = row_fraction(count, row_totals[row]);
        let colour = match (count, fraction > 0.45) {
            (0, _) => ZERO_COLOUR,
            (_, true) => WHITE,
            (_, false) => TEXT_COLOUR,
        };
        let weight = if row == x as usize {
            FontStyle::Bold
        } else {
            FontStyle::Normal
        };
        let centre = Pos::new(HPos::Center, VPos::Center);
        EmptyElement::at((SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)))
            + Text::new(
                count.to_string(),
                (0, -9),
                (FONT, 15, weight).into_font().color(&colour).pos(centre),
            )
            + Text::new(
                row_percent(count, fraction),
                (0, 10),
                (FONT, 12).into_font().color(&colour).pos(centre),
            )
    }))?;
    Ok(())
}

/// "37%", "<1%" for a few faces, nothing for none (the cell's "0" says it).
fn row_percent(count: usize, fraction: f64) -> String {
    match count {
        0 => String::new(),
        _ if fraction < 0.005 => "<1%".to_owned(),
        _ => format!("{:.0}%", fraction * 100.0),
    }
}

fn row_fraction(count: usize, row_total: usize) -> f64 {
    if row_total == 0 {
        0.0
    } else {
        count as f64 / row_total as f64
    }
}

/// White at 0, `HEAT_COLOUR` at 1.
fn heat(fraction: f64) -> RGBColor {
    let fraction = fraction.clamp(0.0, 1.0);
    let blend = |to: u8| (255.0 + (f64::from(to) - 255.0) * fraction).round() as u8;
    RGBColor(
        blend(HEAT_COLOUR.0),
        blend(HEAT_COLOUR.1),
        blend(HEAT_COLOUR.2),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::ConfusionMatrix;

    fn epoch(epoch: usize) -> EpochMetrics {
        let t = epoch as f64;
        EpochMetrics {
            epoch,
            train_loss: 1.9 / t.sqrt(),
            train_accuracy: 0.25 + 0.05 * t,
            val_loss: 1.8 / t.sqrt() + 0.1,
            val_accuracy: 0.22 + 0.04 * t,
            val_macro_f1: 0.15 + 0.04 * t,
            learning_rate: 0.05,
            seconds: 30.0,
            images_per_second: 100.0,
        }
    }

    fn decoded_size(path: &Path) -> (u32, u32) {
        let image = image::open(path).expect("the plot is a readable image");
        (image.width(), image.height())
    }

    #[test]
    fn plot_training_curves_writes_a_png() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let out = dir.path().join("curves.png");
        let metrics: Vec<_> = (1..=12).map(epoch).collect();
        plot_training_curves(&metrics, &out).expect("plot");
        assert_eq!(decoded_size(&out), CURVES_SIZE);
        assert!(!dir.path().join("curves.png.partial").exists());
    }

    #[test]
    fn plot_training_curves_handles_one_epoch() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let out = dir.path().join("curves.png");
        plot_training_curves(&[epoch(1)], &out).expect("plot");
        assert_eq!(decoded_size(&out), CURVES_SIZE);
        // Overwriting an existing plot works too (training rewrites it every epoch).
        plot_training_curves(&[epoch(1), epoch(2)], &out).expect("plot");
        assert_eq!(decoded_size(&out), CURVES_SIZE);
    }

    #[test]
    fn plot_training_curves_refuses_no_epochs() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let out = dir.path().join("curves.png");
        let error = plot_training_curves(&[], &out).expect_err("nothing to plot");
        assert_eq!(error.path, out);
        assert!(!out.exists());
    }

    #[test]
    fn plot_training_curves_reports_the_path_it_cannot_write() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let out = dir.path().join("missing").join("curves.png");
        let error = plot_training_curves(&[epoch(1)], &out).expect_err("no such folder");
        assert!(error.to_string().starts_with(&out.display().to_string()));
    }

    #[test]
    fn plot_confusion_writes_a_png() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let out = dir.path().join("confusion.png");
        let mut confusion = ConfusionMatrix::default();
        for truth in 0..EMOTION_COUNT {
            for predicted in 0..EMOTION_COUNT {
                let count = if truth == predicted {
                    40
                } else {
                    truth + predicted
                };
                for _ in 0..count {
                    confusion.add(truth, predicted);
                }
            }
        }
        let report = EvalReport::new("PublicTest", &confusion, false, 1.0);
        plot_confusion(&report, &out).expect("plot");
        assert_eq!(decoded_size(&out), CONFUSION_SIZE);
    }

    #[test]
    fn plot_confusion_handles_an_empty_matrix() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let out = dir.path().join("confusion.png");
        let report = EvalReport::new("PrivateTest", &ConfusionMatrix::default(), true, 0.0);
        plot_confusion(&report, &out).expect("plot");
        assert_eq!(decoded_size(&out), CONFUSION_SIZE);
    }

    #[test]
    fn row_percentages_read_well() {
        assert_eq!(row_percent(0, 0.0), "");
        assert_eq!(row_percent(1, 1.0 / 653.0), "<1%");
        assert_eq!(row_percent(310, 310.0 / 467.0), "66%");
    }

    #[test]
    fn epoch_labels_are_whole_epochs_only() {
        assert_eq!(epoch_label(&3.0), "3");
        assert_eq!(epoch_label(&2.5), "");
        let range = epoch_range(1, 1);
        assert!(range.start < 1.0 && range.end > 1.0);
    }
}
