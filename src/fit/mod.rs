//! Networks on small made-up problems: fitting a function of one variable, and the logic tables
//! (OR, AND, XOR) of the classic 3-4-1 example.
//!
//! A problem is a table of samples, inputs x (samples, inputs) and targets t (samples, outputs),
//! trained with the very `Trainer` step that trains MNIST: same network, losses and optimizers.
//!
//! Regression standardizes both sides: the network learns z_y = f(z_x) with z = (v - mean) / std,
//! so inputs and targets are of order 1 whatever the range, and one learning rate suits every
//! problem. Predictions are mapped back with v = mean + std · z.

pub mod expr;
pub mod toy;

use ndarray::{Array2, ArrayViewMut2};
use rand::Rng;

use crate::batch::Batch;
use crate::data::samples::Samples;
use crate::data::table::{NumericTable, TableError};
use crate::float::Float;
use crate::nn::Network;
use crate::optim::Optimizer;
use crate::train::{Diverged, Learner, TrainConfig, Trainer};
use crate::viz::Format;
use crate::viz::chart::{self, Frame, Legend, Panel, RED, Series, Style};

/// A table of samples kept in memory, in f64.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// (samples, inputs)
    pub x: Array2<f64>,
    /// (samples, outputs)
    pub t: Array2<f64>,
}

impl Samples for Problem {
    fn len(&self) -> usize {
        self.x.nrows()
    }

    fn inputs(&self) -> usize {
        self.x.ncols()
    }

    fn outputs(&self) -> usize {
        self.t.ncols()
    }

    fn gather<F: Float>(&self, indices: &[usize], mut x: ArrayViewMut2<F>, mut t: ArrayViewMut2<F>) {
        for (k, &i) in indices.iter().enumerate() {
            x.row_mut(k).zip_mut_with(&self.x.row(i), |a, &b| *a = F::of(b));
            t.row_mut(k).zip_mut_with(&self.t.row(i), |a, &b| *a = F::of(b));
        }
    }
}

/// v ↦ (v - mean) / std, the standardization of one variable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Standardize {
    pub mean: f64,
    pub std: f64,
}

impl Standardize {
    /// The mean and standard deviation of `values`; a constant gets std 1.
    pub fn of(values: &[f64]) -> Self {
        let n = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        Self {
            mean,
            std: if std > 0.0 { std } else { 1.0 },
        }
    }

    pub fn apply(self, v: f64) -> f64 {
        (v - self.mean) / self.std
    }

    pub fn invert(self, z: f64) -> f64 {
        self.mean + self.std * z
    }
}

/// Points (x, y) of a function of one variable, with the standardization of each side.
#[derive(Clone, Debug, PartialEq)]
pub struct Regression {
    pub points: Vec<(f64, f64)>,
    pub x: Standardize,
    pub y: Standardize,
}

impl Regression {
    pub fn new(points: Vec<(f64, f64)>) -> Self {
        let xs: Vec<f64> = points.iter().map(|p| p.0).collect();
        let ys: Vec<f64> = points.iter().map(|p| p.1).collect();
        Self {
            x: Standardize::of(&xs),
            y: Standardize::of(&ys),
            points,
        }
    }

    /// The points from the first two columns of a CSV (x, y), with or without a header.
    pub fn from_table(table: &NumericTable) -> Result<Self, TableError> {
        let problem = |message: String| TableError::Csv {
            path: table.path.clone(),
            message,
        };
        if table.rows[0].len() < 2 {
            return Err(problem("needs two columns, x and y; found one".to_owned()));
        }
        let mut points = Vec::with_capacity(table.rows.len());
        for (row, line) in table.rows.iter().zip(&table.lines) {
            match (row[0], row[1]) {
                (Some(x), Some(y)) => points.push((x, y)),
                (None, _) => {
                    return Err(problem(format!(
                        "line {line}, column {}: x is empty",
                        table.column_name(0)
                    )));
                }
                (_, None) => {
                    return Err(problem(format!(
                        "line {line}, column {}: y is empty",
                        table.column_name(1)
                    )));
                }
            }
        }
        Ok(Self::new(points))
    }

    /// The standardized points as a training problem: one input, one target.
    pub fn problem(&self) -> Problem {
        let n = self.points.len();
        Problem {
            x: Array2::from_shape_fn((n, 1), |(i, _)| self.x.apply(self.points[i].0)),
            t: Array2::from_shape_fn((n, 1), |(i, _)| self.y.apply(self.points[i].1)),
        }
    }

    /// The network's y at each of `xs`, in the data's units.
    pub fn predict(&self, network: &Network<f32>, xs: &[f64]) -> Vec<f64> {
        let z = Array2::from_shape_fn((xs.len(), 1), |(i, _)| self.x.apply(xs[i]) as f32);
        let out = network.predict(z.view());
        out.column(0).iter().map(|&v| self.y.invert(f64::from(v))).collect()
    }

    /// `count` points (x, network's y) evenly across the points' x range, for drawing.
    pub fn curve(&self, network: &Network<f32>, count: usize) -> Vec<(f64, f64)> {
        let (from, to) = self
            .points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                (lo.min(p.0), hi.max(p.0))
            });
        let steps = count.max(2) - 1;
        let xs: Vec<f64> = (0..=steps)
            .map(|i| from + (to - from) * i as f64 / steps as f64)
            .collect();
        let ys = self.predict(network, &xs);
        xs.into_iter().zip(ys).collect()
    }

    /// Root mean squared error of `network` on the points, in y's units.
    pub fn rmse(&self, network: &Network<f32>) -> f64 {
        let xs: Vec<f64> = self.points.iter().map(|p| p.0).collect();
        let predicted = self.predict(network, &xs);
        let squares: f64 = predicted.iter().zip(&self.points).map(|(p, q)| (p - q.1).powi(2)).sum();
        (squares / self.points.len().max(1) as f64).sqrt()
    }
}

/// The `points` as grey dots and the network's `curve` as a red line, on one chart.
pub fn fit_chart(points: &[(f64, f64)], curve: &[(f64, f64)], format: Format) -> anyhow::Result<(Vec<u8>, Vec<Frame>)> {
    let panel = Panel {
        title: "the points (grey) and the network's fit (red)".to_owned(),
        x_label: "x".to_owned(),
        y_label: "y".to_owned(),
        whole_x: false,
        legend: Legend::None,
        series: vec![
            Series {
                name: "points".to_owned(),
                points: points.to_vec(),
                colour: POINTS_GREY,
                style: Style::Points,
            },
            Series {
                name: "network".to_owned(),
                points: curve.to_vec(),
                colour: RED,
                style: Style::Line,
            },
        ],
    };
    chart::render(&[panel], (720, 480), format)
}

/// The colour of the data in `fit_chart`.
pub const POINTS_GREY: [u8; 3] = [110, 110, 110];

/// The mean loss (without penalties) of `network` over all of `problem`.
pub fn mean_loss<F: Float>(network: &Network<F>, problem: &Problem) -> f64 {
    let all: Vec<usize> = (0..problem.len()).collect();
    let mut batch = Batch::new(all.len(), problem.inputs(), problem.outputs());
    batch.gather(problem, &all);
    let mut trace = network.trace(all.len());
    let logits = network.forward(batch.input(), &mut trace);
    network.loss(logits, batch.targets(), F::zero()).as_f64()
}

/// Trains `network` on `problem` for `config.epochs` epochs of shuffled mini-batches, calling
/// `after_epoch(epoch, network)` after each; stops at the first NaN or infinite loss or weight.
pub fn fit<F: Float, R: Rng + Send>(
    network: &mut Network<F>,
    problem: &Problem,
    config: &TrainConfig,
    rng: &mut R,
    mut after_epoch: impl FnMut(usize, &Network<F>),
) -> Result<(), Diverged> {
    let mut trainer = Trainer::new(network, problem, config);
    let mut optimizer = Optimizer::new(config.optimizer, network);
    let mut order: Vec<usize> = (0..problem.len()).collect();
    for epoch in 1..=config.epochs {
        let mut learner = Learner {
            network: &mut *network,
            average: None,
            optimizer: &mut optimizer,
            rng: &mut *rng,
        };
        trainer.run_epoch(&mut learner, problem, (&mut order, &mut 0), usize::MAX, |_| true)?;
        after_epoch(epoch, network);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardizing_is_undone_by_inverting() {
        let s = Standardize::of(&[1.0, 3.0, 5.0, 7.0]);
        assert_eq!(s.mean, 4.0);
        assert!((s.std - 5.0f64.sqrt()).abs() < 1e-12);
        assert!((s.invert(s.apply(2.5)) - 2.5).abs() < 1e-12);
        assert_eq!(Standardize::of(&[2.0, 2.0]).std, 1.0);
    }

    #[test]
    fn a_problem_gathers_the_rows_asked_for() {
        let problem = Problem {
            x: ndarray::array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
            t: ndarray::array![[7.0], [8.0], [9.0]],
        };
        let mut x = Array2::<f32>::zeros((2, 2));
        let mut t = Array2::<f32>::zeros((2, 1));
        problem.gather(&[2, 0], x.view_mut(), t.view_mut());
        assert_eq!(x, ndarray::array![[5.0f32, 6.0], [1.0, 2.0]]);
        assert_eq!(t, ndarray::array![[9.0f32], [7.0]]);
    }
}
