//! Learning curves as text, for people who train over SSH: the same panels as the picture
//! (`Curves::panels`: accuracy, then loss, one line per split), drawn in braille dots by textplots,
//! each under a title line that names the splits with their last values.
//!
//! In colour each split keeps its picture colour (training blue, validation green, test red); without
//! colour the lines look alike, and the title line's values tell them apart.

use std::fmt::Write;

use colored::Colorize;
use textplots::{Chart, ColorPlot, Plot, Shape};

use super::chart::Panel;
use crate::history::Curves;

/// How the curves are drawn: the width in terminal columns, and whether in colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextStyle {
    pub columns: usize,
    pub colour: bool,
}

/// Rows of text per panel's plot area (each row is four braille dots high; a chart `h` dots high
/// spans h + 1 rows of dots).
const ROWS: u32 = 10;
/// Columns the y-axis labels and their margin take to the right of the plot.
const LABEL_COLUMNS: usize = 10;
/// textplots' narrowest chart, in dots (two a column).
const MIN_DOTS: u32 = 32;

impl Curves {
    /// The curves as lines of text, each panel under a title line.
    pub fn as_text(&self, style: TextStyle) -> String {
        let mut text = String::new();
        for panel in self.panels() {
            text += &title_line(&panel, style.colour);
            text.push('\n');
            text += &plot(&panel, style);
        }
        text
    }
}

/// `accuracy (%)  train 98.12  test 97.40`: the panel and each split's last value.
fn title_line(panel: &Panel, colour: bool) -> String {
    let mut line = panel.y_label.clone();
    for series in &panel.series {
        let last = series.points.last().map_or(f64::NAN, |&(_, y)| y);
        // Through `colored`, as textplots colours its dots: the same codes (true colour where
        // COLORTERM says the terminal has it, else the nearest of the basic ones).
        let name = if colour {
            let [r, g, b] = series.colour;
            series.name.truecolor(r, g, b).to_string()
        } else {
            series.name.clone()
        };
        let _ = write!(line, "  {name} {}", value_text(last));
    }
    line
}

/// A value as the title line shows it: four significant figures or so.
fn value_text(value: f64) -> String {
    if value.abs() >= 10.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.4}")
    }
}

/// One panel's lines in braille dots, with its y range at the right and its epochs below.
fn plot(panel: &Panel, style: TextStyle) -> String {
    let points: Vec<Vec<(f32, f32)>> = panel
        .series
        .iter()
        .map(|series| series.points.iter().map(|&(x, y)| (x as f32, y as f32)).collect())
        .collect();
    let all = || points.iter().flatten();
    let (x_min, x_max) = span(all().map(|&(x, _)| x));
    let (y_min, y_max) = span(all().map(|&(_, y)| y));
    let width = (2 * style.columns.saturating_sub(LABEL_COLUMNS)) as u32;
    let lines: Vec<Shape> = points.iter().map(|points| Shape::Lines(points)).collect();
    let mut chart = Chart::new_with_y_range(width.max(MIN_DOTS), 4 * ROWS - 1, x_min, x_max, y_min, y_max);
    let mut drawn = &mut chart;
    for (shape, series) in lines.iter().zip(&panel.series) {
        let [r, g, b] = series.colour;
        drawn = if style.colour {
            drawn.linecolorplot(shape, rgb::RGB8::new(r, g, b))
        } else {
            drawn.lineplot(shape)
        };
    }
    drawn.figures();
    drawn.to_string()
}

/// The smallest and largest of `values`, made a range of some width when they are one value.
fn span(values: impl Iterator<Item = f32>) -> (f32, f32) {
    let (low, high) = values.fold((f32::INFINITY, f32::NEG_INFINITY), |(low, high), v| {
        (low.min(v), high.max(v))
    });
    if low < high {
        (low, high)
    } else {
        let half = (low.abs() * 0.01).max(0.5);
        (low - half, high + half)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::SplitCurve;
    use crate::viz::chart::{BLUE, RED};

    fn curves(epochs: usize) -> Curves {
        let accuracy = |base: f64| (1..=epochs).map(|e| Some(base + e as f64)).collect();
        let loss = (1..=epochs).map(|e| Some(1.0 / e as f64)).collect::<Vec<_>>();
        Curves {
            epochs: (1..=epochs).map(|e| e as f64).collect(),
            splits: vec![
                SplitCurve {
                    split: "train",
                    accuracy: accuracy(90.0),
                    loss: loss.clone(),
                },
                SplitCurve {
                    split: "test",
                    accuracy: accuracy(89.0),
                    loss,
                },
            ],
        }
    }

    #[test]
    fn each_panel_has_a_title_with_the_last_values_and_braille_lines_as_wide_as_asked() {
        let text = curves(5).as_text(TextStyle {
            columns: 60,
            colour: false,
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "accuracy (%)  train 95.00  test 94.00");
        let loss_title = lines.iter().position(|l| l.starts_with("mean loss")).unwrap();
        assert_eq!(lines[loss_title], "mean loss  train 0.2000  test 0.2000");
        assert_eq!(loss_title, 1 + ROWS as usize + 1, "a title, the rows, a line of epochs");
        let plot_rows = &lines[1..=ROWS as usize];
        assert!(
            plot_rows
                .iter()
                .all(|row| row.chars().take(50).all(|c| ('\u{2800}'..='\u{28ff}').contains(&c)))
        );
        assert!(plot_rows[0].ends_with(" 95.0"), "{}", plot_rows[0]);
        assert!(lines[ROWS as usize + 1].starts_with("1.0") && lines[ROWS as usize + 1].ends_with("5.0"));
        assert!(!text.contains('\x1b'), "no colour codes when colour is off");
        // The curves rise left to right: the top row's dots are at its right end.
        let top: Vec<char> = plot_rows[0].chars().take(50).collect();
        assert!(top[45..].iter().any(|&c| c != '\u{2800}') && top[..20].iter().all(|&c| c == '\u{2800}'));
    }

    #[test]
    fn colour_names_the_splits_in_their_picture_colours_and_one_epoch_still_draws() {
        colored::control::set_override(true);
        let text = curves(1).as_text(TextStyle {
            columns: 20,
            colour: true,
        });
        for (name, [r, g, b]) in [("train", BLUE), ("test", RED)] {
            let coloured = name.truecolor(r, g, b).to_string();
            assert!(coloured.starts_with('\x1b') && text.contains(&coloured), "{text}");
        }
    }
}
