//! The compute kernels below the network: code that knows arrays of f32 and f64, not layers.
//!
//! - `element`: the per-type kernel traits and their bundle `Element`.
//! - `gemm`, `gemm_avx2`: the blocked dense product and its AVX2 code.
//! - `split`: cutting work over the threads.
//! - `vexp`: the exponential and the sigmoid of whole slices (AVX2 for f32).
//! - `scalar`: the scalar sigmoid.
//! - `cache`: prefetch hints.

pub mod cache;
mod element;
mod gemm;
#[cfg(target_arch = "x86_64")]
mod gemm_avx2;
mod scalar;
mod sparse_products;
mod split;
mod vexp;

pub use element::{Element, ExpKernel, Kernel};
pub use gemm::{gemm, prepare_thread};
pub use scalar::sigmoid;
pub use sparse_products::{MAX_DENSITY, SparseInput, SparseKernel, SparseRows};
