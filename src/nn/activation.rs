//! Element-wise activations `a = f(z)` and their derivatives.
//!
//! | name       | f(z)                      | f'(z), written in terms of a = f(z) |
//! |------------|---------------------------|-------------------------------------|
//! | sigmoid    | 1 / (1 + e^-z)            | a (1 - a)                           |
//! | tanh       | tanh z                    | 1 - a²                              |
//! | relu       | max(0, z)                 | 1 if a > 0 else 0                   |
//! | leaky-relu | z if z > 0 else 0.01 z    | 1 if a > 0 else 0.01                |
//! | identity   | z                         | 1                                   |
//!
//! Every derivative is a function of the output `a`, so the forward pass keeps only the outputs and
//! backward needs no copy of `z`. (At z = 0 relu and leaky-relu take the left derivative.)
//!
//! The f32 sigmoid of a whole array runs on the vector exponential of `kernels::vexp` (within a few
//! ulp of the scalar one); f64, used by the gradient check, and `apply` on one value keep std's
//! `exp`.

use std::fmt;

use ndarray::{ArrayView2, ArrayViewMut, ArrayViewMut2, Dimension, Zip};

use crate::float::Float;
use crate::kernels::sigmoid;

/// The slope of leaky-relu for negative inputs.
pub const LEAKY_RELU_SLOPE: f64 = 0.01;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    Sigmoid,
    Tanh,
    Relu,
    LeakyRelu,
    Identity,
}

impl Activation {
    pub const ALL: [Activation; 5] = [Self::Sigmoid, Self::Tanh, Self::Relu, Self::LeakyRelu, Self::Identity];

    /// The name used on the command line and in model files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sigmoid => "sigmoid",
            Self::Tanh => "tanh",
            Self::Relu => "relu",
            Self::LeakyRelu => "leaky-relu",
            Self::Identity => "identity",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Whether f gives exact zeros for a large share of its inputs (all the negative ones), so
    /// that the next layer may find its input sparse.
    pub fn gives_zeros(self) -> bool {
        matches!(self, Self::Relu)
    }

    /// f(z) for one value.
    pub fn apply<F: Float>(self, z: F) -> F {
        match self {
            Self::Sigmoid => sigmoid(z),
            Self::Tanh => z.tanh(),
            Self::Relu => z.max(F::zero()),
            Self::LeakyRelu => {
                if z > F::zero() {
                    z
                } else {
                    F::of(LEAKY_RELU_SLOPE) * z
                }
            }
            Self::Identity => z,
        }
    }

    /// f'(z) for one value, from the output a = f(z).
    pub fn derivative<F: Float>(self, a: F) -> F {
        match self {
            Self::Sigmoid => a * (F::one() - a),
            Self::Tanh => F::one() - a * a,
            Self::Relu => {
                if a > F::zero() {
                    F::one()
                } else {
                    F::zero()
                }
            }
            Self::LeakyRelu => {
                if a > F::zero() {
                    F::one()
                } else {
                    F::of(LEAKY_RELU_SLOPE)
                }
            }
            Self::Identity => F::one(),
        }
    }

    /// Forward, in place: z (batch, units) becomes a = f(z).
    pub fn forward<F: Float>(self, mut z: ArrayViewMut2<F>) {
        match self {
            Self::Identity => {}
            Self::Sigmoid => on_slices(z, F::sigmoid_in_place),
            _ => z.mapv_inplace(|v| self.apply(v)),
        }
    }

    /// Backward, in place: given a = f(z) (batch, units), turns da = dL/da into dz = da ⊙ f'(z).
    pub fn backward<F: Float>(self, a: ArrayView2<F>, mut d: ArrayViewMut2<F>) {
        if self != Self::Identity {
            Zip::from(&mut d).and(&a).for_each(|d, &a| *d *= self.derivative(a));
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Runs `f` on the values of `a` as one slice when they lie contiguously in memory, else on each
/// value alone: through the same code either way, so strides never change a result.
pub fn on_slices<F, D: Dimension>(mut a: ArrayViewMut<F, D>, f: impl Fn(&mut [F])) {
    if let Some(values) = a.as_slice_memory_order_mut() {
        f(values);
    } else {
        a.iter_mut().for_each(|v| f(std::slice::from_mut(v)));
    }
}

/// The inverse of `name`: `sigmoid`, `tanh`, `relu`, `leaky-relu`, `identity`.
impl std::str::FromStr for Activation {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::from_name(text).ok_or_else(|| format!("unknown activation `{text}`"))
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, s};

    use super::*;
    use crate::kernels::ExpKernel;

    #[test]
    fn sigmoid_forward_takes_the_vector_path_in_f32_whatever_the_strides_and_std_exp_in_f64() {
        let z = Array2::from_shape_fn((7, 13), |(i, j)| (i as f32 - 3.0) * 9.1 + j as f32 * 0.77);
        let mut expected: Vec<f32> = z.iter().copied().collect();
        f32::sigmoid_in_place(&mut expected);

        let mut contiguous = z.clone();
        Activation::Sigmoid.forward(contiguous.view_mut());
        assert_eq!(contiguous.iter().copied().collect::<Vec<_>>(), expected);

        // Every other column of a wider array: no slice in memory order, so the value-by-value path.
        let mut wide = Array2::zeros((7, 26));
        wide.slice_mut(s![.., ..;2]).assign(&z);
        Activation::Sigmoid.forward(wide.slice_mut(s![.., ..;2]));
        assert_eq!(wide.slice(s![.., ..;2]).iter().copied().collect::<Vec<_>>(), expected);

        let mut z64 = z.mapv(f64::from);
        Activation::Sigmoid.forward(z64.view_mut());
        assert_eq!(z64, z.mapv(|v| sigmoid(f64::from(v))));
    }

    #[test]
    fn names_round_trip() {
        for a in Activation::ALL {
            assert_eq!(Activation::from_name(a.name()), Some(a));
        }
    }
}
