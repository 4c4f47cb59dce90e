//! What the kernels need from an element type (`f32` or `f64`). `Element` bundles it: num_traits'
//! arithmetic and the per-type part of each kernel, a trait implemented for both types beside the
//! kernel it serves (`Kernel` in `gemm`, `SparseKernel` in `sparse_products`, `ExpKernel` in
//! `vexp`). It is the bound of all kernel code; `crate::float::Float` adds what the network needs
//! on top. The register tile (MR x NR) and the sparse block (`BLOCK`, `Block`) are defined here,
//! since the traits' contracts are stated in them.

use std::ops::AddAssign;

use ndarray::ArrayViewMut2;

use super::sparse_input::{MAX_DENSITY, SparseRows};

/// Rows of the register tile.
pub const MR: usize = 6;
/// Columns of the register tile: two 8-wide f32 vectors.
pub const NR: usize = 16;

/// The most tiles, one below the other, that `Kernel::tiles_into` computes at once (two with
/// AVX-512).
pub const MAX_TILES: usize = 2;

/// One MR x NR tile of sums.
pub type Tile<F> = [[F; NR]; MR];

/// A real scalar type the kernels compute in (`f32` or `f64`).
pub trait Element: num_traits::Float + AddAssign + Send + Sync + Kernel + SparseKernel + ExpKernel + 'static {}

impl Element for f32 {}

impl Element for f64 {}

/// The per-type part of the multiply: the microkernel and the thread's packing buffers.
pub trait Kernel: Copy + 'static {
    /// Σ_p a[p·MR + i] · b[p·NR + j] for p < k: a is an MR-tall packed sliver, b an NR-wide one.
    fn tile(k: usize, a: &[Self], b: &[Self]) -> Tile<Self>;
    /// Runs `f` with this thread's packing buffers.
    fn with_buffers<R>(f: impl FnOnce(&mut Buffers<Self>) -> R) -> R;

    /// `tile` for one or more consecutive A slivers (as many as the kernel takes at once, at most
    /// `a.len() / (k·MR)`), stored straight from the registers into the tiles of c from `[i0, j0]`
    /// down: c[i0 + i, j0 + j] = alpha · sum + beta · c[..] (c not read when beta is 0), for tiles
    /// that lie in c (all of them, or the first rows of the last at c's bottom edge), in rows of
    /// consecutive values. Returns how many slivers it did: 0, having done nothing, for any other
    /// tile or where there is no such kernel; `store_tile` then stores `tile`'s sums, with the
    /// same roundings.
    fn tiles_into(
        _k: usize,
        _a: &[Self],
        _b: &[Self],
        _alpha: Self,
        _beta: Self,
        _c: &mut ArrayViewMut2<Self>,
        _at: [usize; 2],
    ) -> usize {
        0
    }

    /// Packs W whole lanes, each a slice of at least depth = sliver.len() / W values, depth-major
    /// into `sliver`: value p of lane i goes to p·W + i. A transpose: the packing of a row-major A
    /// and of the B of A·Bᵀ.
    fn pack_lanes<const W: usize>(lanes: &[&[Self]; W], sliver: &mut [Self]) {
        pack_lanes_portable::<Self, W>(lanes, sliver);
    }
}

/// `Kernel::pack_lanes` in plain Rust, for the first `lanes.len()` (at most W) lanes of the
/// slivers; the others are left as they are. Inlined with W lanes, its loop has a fixed trip count
/// and unrolls without a check per lane.
pub(super) fn pack_lanes_portable<F: Copy, const W: usize>(lanes: &[&[F]], sliver: &mut [F]) {
    for (p, dst) in sliver.chunks_exact_mut(W).enumerate() {
        for (d, lane) in dst.iter_mut().zip(lanes) {
            *d = lane[p];
        }
    }
}

/// A thread's packing buffers for A blocks and B panels, which `gemm` sizes on first use.
#[derive(Debug, Default)]
pub struct Buffers<F> {
    pub(super) a: Vec<F>,
    pub(super) b: Vec<F>,
}

/// Columns of the output computed together: 13 vectors of 8 f32 held in registers, which with the
/// broadcast value and a masked load fill AVX2's 16. A 100-unit layer is then one pass over each
/// row's nonzeros, reading every weight row it needs once (64 columns and a second pass measured
/// 5% slower evaluating MNIST's training set).
pub const BLOCK: usize = 104;

/// The dense side of one block of columns of a sparse product.
#[derive(Clone, Copy)]
pub struct Block<'a, F> {
    /// m's values from the block's first column on: row j of the block starts at `j · stride`.
    pub(super) m: &'a [F],
    pub(super) stride: usize,
    /// How each output's sum begins and ends.
    pub(super) start: Start<'a, F>,
}

/// The order of a sparse block's sums, which decides their roundings.
#[derive(Clone, Copy)]
pub enum Start<'a, F> {
    /// One chain per output over all of x's row, from the block's part of a row of start values
    /// (zeros when `None`), stored over out: the first layer's order.
    Chain(Option<&'a [F]>),
    /// `gemm`'s order, so that the bits are those of the dense product: a chain from zero for each
    /// `depth` columns of x, added to out; with `overwrite`, the first replaces out instead
    /// (`gemm` with beta 0).
    Blocked { depth: usize, overwrite: bool },
}

/// The per-type part of the sparse products.
pub trait SparseKernel: Sized + 'static {
    /// The largest fraction of nonzero values at which a hidden layer of `outputs` units keeps its
    /// input sparse (`SparseInput::for_hidden_layer`): only speed depends on it, as those products
    /// give the dense ones' bits.
    fn max_density_as_gemm(_outputs: usize) -> f64 {
        MAX_DENSITY
    }

    /// The widest block `combine_block` takes (at most `BLOCK`): the products go over their
    /// columns in blocks of this many.
    fn block_columns() -> usize {
        BLOCK
    }

    /// out[r, c] = Σ_k x[first + r, k] · m[k, c] for the rows r and the columns c (at most
    /// `block_columns()`) of `out`, each sum taken in the order of x's values, begun and ended as
    /// `block.start` says.
    fn combine_block(x: &SparseRows<Self>, first: usize, block: Block<Self>, out: ArrayViewMut2<Self>);

    /// Appends the nonzero values of `row` to `values` and their positions in it to `indices`.
    fn push_nonzeros(row: &[Self], indices: &mut Vec<u32>, values: &mut Vec<Self>);

    /// Runs `f` on this thread's buffer for a transpose, kept between calls so that a training
    /// step allocates nothing. `f` must not start work on other threads: the buffer is lent out.
    fn with_transpose<R>(f: impl FnOnce(&mut SparseRows<Self>) -> R) -> R;
}

/// The per-type part of the element-wise exponentials (the sigmoid activation, the softmax): f32
/// takes whole slices with the vector exponential of `vexp`, f64 (gradient checks) goes value by
/// value with std's `exp`.
pub trait ExpKernel: Sized {
    /// sigmoid(v) for every value v, in place.
    fn sigmoid_in_place(values: &mut [Self]);
    /// e^v for every value v, in place.
    fn exp_in_place(values: &mut [Self]);
}
