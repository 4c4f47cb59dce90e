//! The compute kernels below the network: code that knows arrays of f32 and f64, not layers.
//!
//! - `element`: the per-type kernel traits.
//! - `vexp`: the exponential and the sigmoid of whole slices (AVX2 for f32).
//! - `scalar`: the scalar sigmoid.
//! - `cache`: prefetch hints.

pub mod cache;
mod element;
mod scalar;
mod vexp;

pub use element::ExpKernel;
pub use scalar::sigmoid;
