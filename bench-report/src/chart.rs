//! The SVG charts, drawn with plotters' SVG backend.
//!
//! plotters is built without its `ttf` feature, so it measures text with a
//! crude estimate from the character count instead of a font file; the SVG
//! backend writes every label as a `<text>` element that the viewer lays out
//! with its own font, so the estimate only decides how much room the axes
//! leave for their labels.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::{RAW_LOOKUP, Report, ReportError, count, is_ceiling, thousands};

/// Size of both charts in pixels.
const SIZE: (u32, u32) = (1000, 500);

/// Width of one group of bars in x-axis units.
const GROUP: i32 = 1000;

/// Colours for the series, in order (Tableau 10, told apart by most eyes).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// A bar chart with one group of bars per category and one bar per series
/// in each group, on a logarithmic y axis.
struct GroupedBars {
    /// The line above the chart.
    title: String,
    /// The y axis' description.
    y_desc: &'static str,
    /// The x axis' description, if any.
    x_desc: Option<&'static str>,
    /// The categories along the x axis.
    groups: Vec<String>,
    /// The series' names (shown in the legend) and colours.
    series: Vec<(String, RGBColor)>,
    /// `values[group][series]`; `None` leaves a gap.
    values: Vec<Vec<Option<f64>>>,
}

/// Draws the throughput chart: ops/s per adapter operation and
/// [`RAW_LOOKUP`], one bar per backend, at the smallest size. The other
/// ceiling rows are left out so that the chart stays readable.
pub fn throughput(path: &Path, report: &Report) -> Result<(), ReportError> {
    let users = report.small();
    let ops: Vec<String> = report
        .ops
        .iter()
        .filter(|op| !is_ceiling(op) || *op == RAW_LOOKUP)
        .cloned()
        .collect();
    let chart = GroupedBars {
        title: format!(
            "ops/s per operation, {} users (higher is better)",
            thousands(users)
        ),
        y_desc: "ops/s (log scale)",
        x_desc: None,
        groups: ops.clone(),
        series: report
            .backends
            .iter()
            .zip(PALETTE.iter().cycle())
            .map(|(backend, colour)| (backend.clone(), *colour))
            .collect(),
        values: ops
            .iter()
            .map(|op| {
                report
                    .backends
                    .iter()
                    .map(|backend| report.cell(backend, op, users).map(|c| c.ops_per_sec))
                    .collect()
            })
            .collect(),
    };
    draw(path, &chart)
}

/// Draws the scale chart: p50 and p99 latency of [`Report::chart_op`] at
/// the smallest size and in the scale run, for each backend that has one.
/// The scale size differs between backends, so each group's label carries
/// its backend's.
pub fn scale(path: &Path, report: &Report) -> Result<(), ReportError> {
    let op = report.chart_op();
    let small = report.small();
    let small_users = thousands(small);
    let runs = report.scale_runs();
    let chart = GroupedBars {
        title: format!("{op} latency, {small_users} users vs the scale run (lower is better)"),
        y_desc: "latency (µs, log scale)",
        x_desc: Some("backend (users in its scale run)"),
        groups: runs
            .iter()
            .map(|(backend, users)| format!("{backend} ({})", thousands(*users)))
            .collect(),
        series: vec![
            (
                format!("p50 at {small_users} users"),
                RGBColor(158, 202, 225),
            ),
            ("p50 in the scale run".to_owned(), RGBColor(33, 113, 181)),
            (
                format!("p99 at {small_users} users"),
                RGBColor(253, 174, 107),
            ),
            ("p99 in the scale run".to_owned(), RGBColor(217, 72, 1)),
        ],
        values: runs
            .iter()
            .map(|&(backend, scale)| {
                let at = |users| report.cell(backend, op, users);
                vec![
                    at(small).map(|c| c.p50_us),
                    at(scale).map(|c| c.p50_us),
                    at(small).map(|c| c.p99_us),
                    at(scale).map(|c| c.p99_us),
                ]
            })
            .collect(),
    };
    draw(path, &chart)
}

/// Draws `chart` into the SVG file `path`.
fn draw(path: &Path, chart: &GroupedBars) -> Result<(), ReportError> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    draw_on(&root, chart)
        .and_then(|()| root.present())
        .map_err(|error| ReportError::Chart {
            path: path.to_owned(),
            message: error.to_string(),
        })
}

/// The y range: whole decades around the values, with room above the
/// tallest bar.
fn log_range(values: &[Vec<Option<f64>>]) -> (f64, f64) {
    let positive = || {
        values
            .iter()
            .flatten()
            .flatten()
            .copied()
            .filter(|v| *v > 0.0)
    };
    let (Some(min), Some(max)) = (positive().reduce(f64::min), positive().reduce(f64::max)) else {
        return (1.0, 10.0);
    };
    let low = 10f64.powf(min.log10().floor());
    let high = 10f64.powf((max * 1.5).log10().ceil());
    (low, high)
}

/// Lays out the title, a one-line legend under it, and the bars.
fn draw_on<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &GroupedBars,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let area = root.titled(&chart.title, ("sans-serif", 22))?;
    let (legend, plot) = area.split_vertically(34);

    // The legend: a swatch and a name per series, in one row, centred.
    let label_font = TextStyle::from(("sans-serif", 14).into_font());
    let widths: Vec<i32> = chart
        .series
        .iter()
        .map(|(name, _)| {
            let (w, _) = legend
                .estimate_text_size(name, &label_font)
                .unwrap_or((100, 14));
            24 + w as i32 + 24
        })
        .collect();
    let mut x = (legend.dim_in_pixel().0 as i32 - widths.iter().sum::<i32>()) / 2;
    for ((name, colour), width) in chart.series.iter().zip(&widths) {
        legend.draw(&Rectangle::new([(x, 10), (x + 16, 26)], colour.filled()))?;
        legend.draw(&Text::new(
            name.as_str(),
            (x + 22, 18),
            label_font.pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += width;
    }

    let (low, high) = log_range(&chart.values);
    // The x axis counts GROUP units per group: plotters formats integer
    // coordinates with custom key points, which it does not do for `f64`.
    let groups = chart.groups.len().max(1) as i32;
    let centres: Vec<i32> = (0..groups).map(|g| g * GROUP + GROUP / 2).collect();
    let mut cartesian = ChartBuilder::on(&plot)
        .margin_left(10)
        .margin_right(20)
        .margin_top(10)
        .x_label_area_size(if chart.x_desc.is_some() { 56 } else { 36 })
        .y_label_area_size(90)
        .build_cartesian_2d(
            (0..groups * GROUP).with_key_points(centres),
            (low..high).log_scale(),
        )?;
    let mut mesh = cartesian.configure_mesh();
    if let Some(x_desc) = chart.x_desc {
        mesh.x_desc(x_desc);
    }
    mesh.disable_x_mesh()
        .x_label_formatter(&|x| {
            chart
                .groups
                .get((x / GROUP) as usize)
                .cloned()
                .unwrap_or_default()
        })
        .x_label_style(("sans-serif", 14))
        .y_label_formatter(&|y| count(*y))
        .y_label_style(("sans-serif", 13))
        .y_desc(chart.y_desc)
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.12))
        .draw()?;

    // Bars fill 80% of each group, with a small gap between neighbours.
    let width = GROUP * 8 / 10 / chart.series.len().max(1) as i32;
    for (g, values) in chart.values.iter().enumerate() {
        for (s, value) in values.iter().enumerate() {
            let (Some(value), Some((_, colour))) = (value, chart.series.get(s)) else {
                continue;
            };
            let x0 = g as i32 * GROUP + GROUP / 10 + s as i32 * width;
            cartesian.draw_series(std::iter::once(Rectangle::new(
                [(x0, low), (x0 + width * 85 / 100, value.max(low))],
                colour.filled(),
            )))?;
        }
    }
    Ok(())
}
