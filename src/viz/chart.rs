//! Line charts with axes, ticks, axis labels and a legend, side by side in one picture.
//!
//! Each `Panel` is one chart; `render` draws them left to right as PNG or SVG and returns, per panel,
//! the `Frame` that ties data coordinates to pixels, so a reader (or a test) can find any point.

use std::ops::Range;

use anyhow::anyhow;
use image::RgbImage;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::colormap::Rgb;
use super::{Format, png_bytes, text};

/// The palette series take their colours from (matplotlib's first four).
pub const BLUE: Rgb = [31, 119, 180];
pub const ORANGE: Rgb = [255, 127, 14];
pub const GREEN: Rgb = [44, 160, 44];
pub const RED: Rgb = [214, 39, 40];

/// Radius of the dot drawn at each point of a `LineWithPoints` or `Points` series.
pub const POINT_RADIUS: i32 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// A line through the points, with a dot on each.
    LineWithPoints,
    /// A line alone, for densely sampled curves.
    Line,
    /// Dots alone, for data.
    Points,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub colour: Rgb,
    pub style: Style,
}

/// Where a panel's legend sits, chosen to stay clear of the data (low for falling losses...), or
/// none where no corner is sure to be free (the title then names the series).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Legend {
    UpperRight,
    LowerRight,
    None,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Label only whole numbers on the x axis (epochs).
    pub whole_x: bool,
    pub legend: Legend,
    pub series: Vec<Series>,
}

/// A panel's data ranges and where their ends landed in pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub x: Range<f64>,
    pub y: Range<f64>,
    /// Pixel x of `x.start` and of `x.end`.
    pub px: (i32, i32),
    /// Pixel y of `y.start` (the bottom) and of `y.end` (the top).
    pub py: (i32, i32),
}

impl Frame {
    /// The pixel of the data point `(x, y)`, by linear interpolation between the frame's ends.
    pub fn pixel(&self, (x, y): (f64, f64)) -> (f64, f64) {
        let fx = (x - self.x.start) / (self.x.end - self.x.start);
        let fy = (y - self.y.start) / (self.y.end - self.y.start);
        (
            f64::from(self.px.0) + fx * f64::from(self.px.1 - self.px.0),
            f64::from(self.py.0) + fy * f64::from(self.py.1 - self.py.0),
        )
    }
}

/// Draws `panels` side by side on a `width`x`height` picture, encoded as `format`.
pub fn render(panels: &[Panel], (width, height): (u32, u32), format: Format) -> anyhow::Result<(Vec<u8>, Vec<Frame>)> {
    text::register();
    let failed = |e: String| anyhow!("cannot draw the chart: {e}");
    match format {
        Format::Png => {
            let mut image = RgbImage::new(width, height);
            let frames = {
                let root = BitMapBackend::with_buffer(&mut image, (width, height)).into_drawing_area();
                draw_panels(&root, panels).map_err(|e| failed(e.to_string()))?
            };
            Ok((png_bytes(&image), frames))
        }
        Format::Svg => {
            let mut svg = String::new();
            let frames = {
                let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
                draw_panels(&root, panels).map_err(|e| failed(e.to_string()))?
            };
            Ok((svg.into_bytes(), frames))
        }
    }
}

type DrawResult<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw_panels<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, panels: &[Panel]) -> DrawResult<Vec<Frame>, DB> {
    root.fill(&WHITE)?;
    let areas = root.split_evenly((1, panels.len().max(1)));
    let mut frames = Vec::with_capacity(panels.len());
    for (area, panel) in areas.iter().zip(panels) {
        frames.push(draw_panel(area, panel)?);
    }
    root.present()?;
    Ok(frames)
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, panel: &Panel) -> DrawResult<Frame, DB> {
    let all = || panel.series.iter().flat_map(|s| s.points.iter().copied());
    let x = padded_range(all().map(|p| p.0), 0.03);
    let y = padded_range(all().map(|p| p.1), 0.06);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (text::SANS, 18))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x.clone(), y.clone())?;
    let whole_numbers = |v: &f64| {
        if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            String::new()
        }
    };
    let plain = |v: &f64| format!("{v}");
    let x_format: &dyn Fn(&f64) -> String = if panel.whole_x { &whole_numbers } else { &plain };
    chart
        .configure_mesh()
        .x_desc(panel.x_label.as_str())
        .y_desc(panel.y_label.as_str())
        .label_style((text::SANS, 13))
        .axis_desc_style((text::SANS, 15))
        .x_label_formatter(x_format)
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;

    for series in &panel.series {
        let colour = RGBColor(series.colour[0], series.colour[1], series.colour[2]);
        let line = colour.stroke_width(2);
        let dots = || {
            series
                .points
                .iter()
                .map(move |&p| Circle::new(p, POINT_RADIUS, colour.filled()))
        };
        let legend_line = move |(x, y): (i32, i32)| PathElement::new(vec![(x, y), (x + 20, y)], line);
        match series.style {
            Style::Line | Style::LineWithPoints => {
                chart
                    .draw_series(LineSeries::new(series.points.iter().copied(), line))?
                    .label(series.name.as_str())
                    .legend(legend_line);
                if series.style == Style::LineWithPoints {
                    chart.draw_series(dots())?;
                }
            }
            Style::Points => {
                chart
                    .draw_series(dots())?
                    .label(series.name.as_str())
                    .legend(move |(x, y)| Circle::new((x + 10, y), POINT_RADIUS, colour.filled()));
            }
        }
    }
    let position = match panel.legend {
        Legend::UpperRight => Some(SeriesLabelPosition::UpperRight),
        Legend::LowerRight => Some(SeriesLabelPosition::LowerRight),
        Legend::None => None,
    };
    if let Some(position) = position {
        chart
            .configure_series_labels()
            .position(position)
            .label_font((text::SANS, 14))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
    }

    let (left, bottom) = chart.backend_coord(&(x.start, y.start));
    let (right, top) = chart.backend_coord(&(x.end, y.end));
    Ok(Frame {
        x,
        y,
        px: (left, right),
        py: (bottom, top),
    })
}

/// The range of `values` widened by `pad` of its length on each side; a single value gets ±0.5, and
/// no values give 0..1.
fn padded_range(values: impl Iterator<Item = f64>, pad: f64) -> Range<f64> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        0.0..1.0
    } else if lo == hi {
        lo - 0.5..hi + 0.5
    } else {
        let margin = pad * (hi - lo);
        lo - margin..hi + margin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_the_data_with_padding() {
        assert_eq!(padded_range([1.0, 3.0].into_iter(), 0.0), 1.0..3.0);
        assert_eq!(padded_range([1.0, 3.0, f64::NAN].into_iter(), 0.5), 0.0..4.0);
        assert_eq!(padded_range([2.0].into_iter(), 0.1), 1.5..2.5);
        assert_eq!(padded_range(std::iter::empty(), 0.1), 0.0..1.0);
    }
}
