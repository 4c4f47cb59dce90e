//! Losses: each one owns the output layer's nonlinearity, its value and its gradient with respect to
//! the logits `z` (the last layer's pre-activations), side by side.
//!
//! Shapes: logits `z` and targets `t` are (batch, classes); targets are one-hot rows (or any rows of
//! probabilities). The loss of a batch is the mean over its samples of:
//!
//! | loss                 | outputs a            | per-sample loss                      | dL/dz (per sample) |
//! |----------------------|----------------------|--------------------------------------|--------------------|
//! | cross-entropy        | softmax(z)           | -Σ t log a = Σ t (logsumexp(z) - z)  | a - t              |
//! | binary cross-entropy | sigmoid(z), per class| Σ softplus(z) - t z                  | a - t              |
//! | mean squared error   | f(z), f chosen       | ½ Σ (a - t)²                         | (a - t) ⊙ f'(z)    |
//!
//! softplus(z) = log(1 + e^z) is computed as max(z, 0) + log(1 + e^-|z|) and the log-sum-exp after
//! subtracting the row's maximum, so neither overflows for any finite logit. (The cross-entropy
//! equals -Σ t log a only when the targets sum to 1, as one-hot rows do.)

use std::fmt;

use ndarray::{ArrayView2, ArrayViewMut1, ArrayViewMut2, Zip};

use super::activation::{Activation, on_slices};
use crate::float::Float;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Loss {
    /// Softmax outputs with cross-entropy: the usual classifier.
    CrossEntropy,
    /// An independent sigmoid per class with binary cross-entropy (the classic regularized cost of
    /// the Coursera-style network).
    BinaryCrossEntropy,
    /// Outputs `f(z)` for the given activation, with half the squared error (Nielsen's quadratic cost).
    MeanSquaredError(Activation),
}

impl Loss {
    /// The name used on the command line and in model files (`mse` leaves out its output activation).
    pub fn name(self) -> &'static str {
        match self {
            Self::CrossEntropy => "cross-entropy",
            Self::BinaryCrossEntropy => "bce",
            Self::MeanSquaredError(_) => "mse",
        }
    }

    /// The activation of the output layer that this loss implies.
    pub fn output_activation(self) -> OutputActivation {
        match self {
            Self::CrossEntropy => OutputActivation::Softmax,
            Self::BinaryCrossEntropy => OutputActivation::Elementwise(Activation::Sigmoid),
            Self::MeanSquaredError(f) => OutputActivation::Elementwise(f),
        }
    }

    /// The summed (not mean) loss over the rows of `z` (batch, classes) against `t` (batch, classes).
    pub fn total<F: Float>(self, z: ArrayView2<F>, t: ArrayView2<F>) -> F {
        let mut total = F::zero();
        for (z_row, t_row) in z.rows().into_iter().zip(t.rows()) {
            total += match self {
                Self::CrossEntropy => {
                    // Σ t (max - z + log Σ e^(z - max)): the differences from the row's maximum are
                    // exact, where logsumexp(z) - z would round the log-sum-exp at the logits'
                    // magnitude (an error of 1e-3 for logits near 1e4 in f32). Classes with t = 0
                    // are skipped, not multiplied: their difference may overflow, and 0 · ∞ is NaN.
                    let max = z_row.fold(F::neg_infinity(), |m, &v| m.max(v));
                    let log_sum = log_sum_exp(z_row.iter().map(|&v| v - max));
                    z_row
                        .iter()
                        .zip(&t_row)
                        .filter(|&(_, &t)| t != F::zero())
                        .map(|(&z, &t)| t * (max - z + log_sum))
                        .sum()
                }
                Self::BinaryCrossEntropy => z_row.iter().zip(&t_row).map(|(&z, &t)| softplus(z) - t * z).sum(),
                Self::MeanSquaredError(f) => {
                    let half = F::of(0.5);
                    z_row
                        .iter()
                        .zip(&t_row)
                        .map(|(&z, &t)| half * (f.apply(z) - t).powi(2))
                        .sum()
                }
            };
        }
        total
    }

    /// The gradient of the batch's mean loss with respect to the logits, in place:
    /// `z` (batch, classes) holding logits becomes dL/dz = (a - t) / batch (times f'(z) for mse).
    pub fn backward<F: Float>(self, mut z: ArrayViewMut2<F>, t: ArrayView2<F>) {
        let inv_batch = F::one() / F::of(z.nrows() as f64);
        match self.output_activation() {
            OutputActivation::Softmax => {
                for mut row in z.rows_mut() {
                    softmax_in_place(row.view_mut());
                }
                Zip::from(&mut z).and(&t).for_each(|d, &t| *d = (*d - t) * inv_batch);
            }
            OutputActivation::Elementwise(f) => {
                let chain = matches!(self, Self::MeanSquaredError(_));
                Zip::from(&mut z).and(&t).for_each(|d, &t| {
                    let a = f.apply(*d);
                    let da = a - t;
                    *d = if chain { da * f.derivative(a) } else { da } * inv_batch;
                });
            }
        }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MeanSquaredError(a) => write!(f, "mse({a})"),
            other => f.write_str(other.name()),
        }
    }
}

/// The inverse of `Display`: `cross-entropy`, `bce`, or `mse(f)` for an activation f.
impl std::str::FromStr for Loss {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "cross-entropy" => Ok(Self::CrossEntropy),
            "bce" => Ok(Self::BinaryCrossEntropy),
            _ => text
                .strip_prefix("mse(")
                .and_then(|rest| rest.strip_suffix(')'))
                .and_then(Activation::from_name)
                .map(Self::MeanSquaredError)
                .ok_or_else(|| format!("unknown loss `{text}`")),
        }
    }
}

/// The output layer's nonlinearity: softmax over a row, or one activation per element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputActivation {
    Softmax,
    Elementwise(Activation),
}

impl OutputActivation {
    /// Turns logits (batch, classes) into outputs in place: probabilities for softmax and sigmoid.
    pub fn forward<F: Float>(self, mut z: ArrayViewMut2<F>) {
        match self {
            Self::Softmax => {
                for row in z.rows_mut() {
                    softmax_in_place(row);
                }
            }
            Self::Elementwise(f) => f.forward(z),
        }
    }
}

/// log Σ e^{z_i}, shifted by the maximum so that no exponential overflows.
pub fn log_sum_exp<F: Float>(z: impl Iterator<Item = F> + Clone) -> F {
    let max = z.clone().fold(F::neg_infinity(), F::max);
    if max == F::neg_infinity() {
        return max;
    }
    let sum: F = z.map(|v| (v - max).exp()).sum();
    max + sum.ln()
}

/// Softmax of one row in place, shifted by the row's maximum; in f32 on the vector exponential.
pub fn softmax_in_place<F: Float>(mut row: ArrayViewMut1<F>) {
    let max = row.fold(F::neg_infinity(), |m, &v| m.max(v));
    row.mapv_inplace(|v| v - max);
    on_slices(row.view_mut(), F::exp_in_place);
    let sum = row.fold(F::zero(), |sum, &v| sum + v);
    let inv = F::one() / sum;
    row.mapv_inplace(|v| v * inv);
}

/// log(1 + e^z) without overflow.
fn softplus<F: Float>(z: F) -> F {
    z.max(F::zero()) + (-z.abs()).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn cross_entropy_of_extreme_logits_is_finite() {
        let z = array![[1000.0f32, -1000.0, 0.0]];
        let t = array![[0.0f32, 1.0, 0.0]];
        let loss = Loss::CrossEntropy.total(z.view(), t.view());
        assert!((loss - 2000.0).abs() < 1e-3, "loss {loss}");
    }

    #[test]
    fn softplus_matches_the_naive_formula_where_that_is_safe() {
        for z in [-5.0f64, -0.5, 0.0, 0.5, 5.0] {
            assert!((softplus(z) - (1.0 + z.exp()).ln()).abs() < 1e-12);
        }
        assert_eq!(softplus(1000.0f32), 1000.0);
    }
}
