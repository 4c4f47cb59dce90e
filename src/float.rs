//! The `Float` trait: what the numeric code needs from a scalar, for `f32` and `f64`.
//!
//! Training runs in `f32`; the gradient check runs the very same layers in `f64`, where central
//! differences are accurate to about 1e-10. Everything in `nn` is generic over this trait.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{DivAssign, MulAssign, SubAssign};

use ndarray::{LinalgScalar, ScalarOperand};

use crate::kernels::Element;

/// A real scalar type the network can be computed in (`f32` or `f64`).
pub trait Float:
    Element + LinalgScalar + ScalarOperand + SubAssign + MulAssign + DivAssign + Sum + Debug + Display
{
    /// The nearest value of this type to `x`.
    fn of(x: f64) -> Self;
    /// This value widened (or kept) as `f64`.
    fn as_f64(self) -> f64;
}

impl Float for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Float for f64 {
    fn of(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
}
