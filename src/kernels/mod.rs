//! The compute kernels below the network: code that knows arrays of f32 and f64, not layers.
//!
//! - `element`: the per-type kernel traits and their bundle `Element`.
//! - `gemm`, `gemm_avx2`: the blocked dense product and its AVX2 code.
//! - `sparse_input`, `sparse_products`, `sparse_avx2`: a batch of mostly zeros as its nonzero
//!   values, the first layer's products on it, and their AVX2 code.
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
#[cfg(target_arch = "x86_64")]
mod sparse_avx2;
mod sparse_input;
mod sparse_products;
mod split;
mod vexp;

pub use element::{Element, ExpKernel, Kernel, SparseKernel};
pub use gemm::{gemm, prepare_thread};
pub use scalar::sigmoid;
pub use sparse_input::{MAX_DENSITY, SparseInput, SparseRows};
