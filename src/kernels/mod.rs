//! The compute kernels below the network: code that knows arrays of f32 and f64, not layers.
//!
//! - `scalar`: the scalar sigmoid.
//! - `cache`: prefetch hints.

pub mod cache;
mod scalar;

pub use scalar::sigmoid;
