//! Learning curves, the classic accuracy-versus-epochs figure: accuracy (in %) per epoch on the left,
//! loss per epoch on the right, one line per split (train, validation, test), drawn from a run's
//! `Curves` (see `history`: from its records, or read back from a history CSV).

use super::Format;
use super::chart::{self, BLUE, Frame, GREEN, Legend, Panel, RED, Series, Style};
use crate::history::{Curves, SplitCurve};

impl Curves {
    /// The accuracy panel and the loss panel, each left out when it has no values.
    pub fn panels(&self) -> Vec<Panel> {
        let series = |pick: fn(&SplitCurve) -> &Vec<Option<f64>>| -> Vec<Series> {
            self.splits
                .iter()
                .filter_map(|curve| {
                    let points: Vec<(f64, f64)> = self
                        .epochs
                        .iter()
                        .zip(pick(curve))
                        .filter_map(|(&e, v)| v.map(|v| (e, v)))
                        .collect();
                    let colour = colour_of(curve.split);
                    (!points.is_empty()).then(|| Series {
                        name: curve.split.to_owned(),
                        points,
                        colour,
                        style: Style::LineWithPoints,
                    })
                })
                .collect()
        };
        let panel = |title: &str, y_label: &str, legend, series: Vec<Series>| Panel {
            title: title.to_owned(),
            x_label: "epoch".to_owned(),
            y_label: y_label.to_owned(),
            whole_x: true,
            legend,
            series,
        };
        [
            panel("accuracy", "accuracy (%)", Legend::LowerRight, series(|c| &c.accuracy)),
            panel("loss", "mean loss", Legend::UpperRight, series(|c| &c.loss)),
        ]
        .into_iter()
        .filter(|p| !p.series.is_empty())
        .collect()
    }

    /// The curves as a picture, with the frame of each panel (accuracy first).
    pub fn render(&self, format: Format) -> anyhow::Result<(Vec<u8>, Vec<Frame>)> {
        let panels = self.panels();
        let width = 520 * panels.len() as u32;
        chart::render(&panels, (width, 420), format)
    }
}

/// Each split's colour: training blue, validation green, test red.
fn colour_of(split: &str) -> [u8; 3] {
    match split {
        "validation" => GREEN,
        "test" => RED,
        _ => BLUE,
    }
}
