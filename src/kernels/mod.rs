//! The compute kernels: the loops that do the network's arithmetic, below `nn` and knowing nothing
//! of layers. A kernel here takes arrays or slices of an `Element` (f32 for training, f64 for the
//! gradient check) and computes one operation on them: a matrix product, a product with a sparse
//! input, an exponential of every value. Each has a portable version in plain Rust (f64, and f32 on
//! CPUs without AVX2) and, for f32, a tuned one with AVX2 and FMA (the matrix product and the
//! sparse block combiner also with AVX-512) chosen at run time; the tests check each tuned kernel against its portable twin or a
//! naive loop.
//!
//! | file | holds |
//! |---|---|
//! | `element.rs` | `Element`, the bound of all kernel code, and the per-type traits it bundles (`Kernel`, `SparseKernel`, `ExpKernel`), with the register tile and the sparse block they are stated in |
//! | `gemm.rs`, `gemm_avx2.rs`, `gemm_avx512.rs` | C = alpha·A·B + beta·C: the blocked driver, the packing, the f32/f64 microkernels; the AVX2 microkernel, tile store and transposing packs; the AVX-512 microkernel over two tiles at once |
//! | `sparse_input.rs` | `SparseInput`, `SparseRows`: a batch of mostly zeros as its nonzero values by rows (and columns), filled from given rows, transposed |
//! | `sparse_products.rs`, `sparse_portable.rs`, `sparse_avx2.rs`, `sparse_avx512.rs` | filling from a dense batch (the nonzero search), x·W and xᵀ·dz on sparse rows; the nonzero search and the block combiner in plain Rust and with AVX2; the AVX-512 block combiner, m's block packed into panels that stay in L1 |
//! | `split.rs` | cutting a product into one piece of its output per thread of the rayon pool, and the work below which it is not cut |
//! | `vexp.rs`, `scalar.rs` | e^x and the sigmoid of whole slices (AVX2 for f32); the scalar sigmoid they and `nn::activation` share |
//! | `cache.rs` | prefetch hints |
//!
//! Threads: a product is cut into pieces of its output, each computed whole by one thread, so every
//! output element gets the same sums in the same order whatever the thread count: results are
//! bit-identical for any number of threads.

pub mod cache;
mod element;
mod gemm;
#[cfg(target_arch = "x86_64")]
mod gemm_avx2;
#[cfg(target_arch = "x86_64")]
mod gemm_avx512;
mod scalar;
#[cfg(target_arch = "x86_64")]
mod sparse_avx2;
#[cfg(target_arch = "x86_64")]
mod sparse_avx512;
mod sparse_input;
mod sparse_portable;
mod sparse_products;
mod split;
mod vexp;

pub use element::{Element, ExpKernel, Kernel, SparseKernel, Start};
pub use gemm::{gemm, prepare_thread};
pub use scalar::sigmoid;
pub use sparse_input::{MAX_DENSITY, SparseInput, SparseRows, SumOrder};
