//! Weight initialization policies. Biases always start at zero.
//!
//! | policy          | weights drawn from                         | suits            |
//! |-----------------|--------------------------------------------|------------------|
//! | normal(std)     | N(0, std²)                                 | the textbook net (std 0.01) |
//! | xavier          | U(-r, r), r = sqrt(6 / (in + out))         | sigmoid, tanh, identity |
//! | he              | N(0, 2 / in)                               | relu, leaky-relu |

use std::fmt;

use ndarray::Array2;
use rand::Rng;
use rand_distr::{Distribution, Normal, Uniform};

use super::activation::Activation;
use crate::float::Float;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    Normal { std: f64 },
    Xavier,
    He,
}

impl Init {
    /// The policy that keeps activations' variance steady through layers of `activation`.
    pub fn default_for(activation: Activation) -> Self {
        match activation {
            Activation::Relu | Activation::LeakyRelu => Self::He,
            Activation::Sigmoid | Activation::Tanh | Activation::Identity => Self::Xavier,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Normal { .. } => "normal",
            Self::Xavier => "xavier",
            Self::He => "he",
        }
    }

    /// A weight matrix (inputs, outputs) drawn from this policy.
    pub fn weights<F: Float, R: Rng + ?Sized>(self, inputs: usize, outputs: usize, rng: &mut R) -> Array2<F> {
        let fan_in = inputs as f64;
        let fan_out = outputs as f64;
        let values: Vec<F> = match self {
            Self::Normal { std } => sample(
                Normal::new(0.0, std).expect("std is validated positive"),
                inputs * outputs,
                rng,
            ),
            Self::Xavier => {
                let r = (6.0 / (fan_in + fan_out)).sqrt();
                sample(
                    Uniform::new_inclusive(-r, r).expect("r is finite"),
                    inputs * outputs,
                    rng,
                )
            }
            Self::He => sample(
                Normal::new(0.0, (2.0 / fan_in).sqrt()).expect("fan_in > 0"),
                inputs * outputs,
                rng,
            ),
        };
        Array2::from_shape_vec((inputs, outputs), values).expect("inputs * outputs values were drawn")
    }
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Normal { std } => write!(f, "normal(std {std})"),
            other => f.write_str(other.name()),
        }
    }
}

/// The inverse of `Display`: `xavier`, `he`, or `normal(std S)` for a positive S.
impl std::str::FromStr for Init {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let normal = || {
            let std: f64 = text.strip_prefix("normal(std ")?.strip_suffix(')')?.parse().ok()?;
            (std.is_finite() && std > 0.0).then_some(Self::Normal { std })
        };
        match text {
            "xavier" => Ok(Self::Xavier),
            "he" => Ok(Self::He),
            _ => normal().ok_or_else(|| format!("unknown initialization `{text}`")),
        }
    }
}

/// Draws in f64 and rounds, so f32 and f64 networks from one seed hold the same weights up to rounding.
fn sample<F: Float, D: Distribution<f64>, R: Rng + ?Sized>(dist: D, n: usize, rng: &mut R) -> Vec<F> {
    (0..n).map(|_| F::of(dist.sample(rng))).collect()
}
