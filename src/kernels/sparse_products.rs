//! A layer's products on a sparse input (`SparseInput`), which skip the zeros of x:
//!
//! ```text
//! forward:   z[i, :] = b + Σ_{j: x[i,j] ≠ 0} x[i,j] · W[j, :]       (rows of x)
//! backward:  dW[j, :] =    Σ_{i: x[i,j] ≠ 0} x[i,j] · dz[i, :]      (columns of x)
//! ```
//!
//! Both are the same operation, a weighted sum of rows of a dense matrix for each sparse row, done
//! by `combine_block`. Backward's threads each transpose the columns whose rows of dW they sum, so
//! that the transpose is shared out too; in training, the batch gathered ahead on the other thread
//! is transposed there as well (`SparseInput::keep_columns`), and backward only sums. A dense
//! batch (standard scaling, most other data sets) takes the dense products of `gemm` instead.
//!
//! Keeping a dense batch's nonzero values (`SparseInput::fill_if_sparse`) is here too: like
//! `combine_block`, its search is a per-type kernel (`SparseKernel`: AVX2 for f32 in
//! `sparse_avx2`, the combiner with AVX-512 in `sparse_avx512`, plain Rust in `sparse_portable`
//! for f64 and other CPUs). Each sum runs over the nonzero values in order, on one thread, so
//! results are the same for any thread count; a product is cut over the threads by rows, or by
//! blocks of columns when each thread gets at least four. Two orders of summing
//! (`Start`): the first layer's, one chain per output from the bias; and `gemm`'s, a chain from
//! zero per block of depth added to the output, which skips only terms that are exactly zero
//! and so gives the dense product's bits (hidden layers' inputs).

use std::cell::RefCell;

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2, s};

use super::element::{BLOCK, Block, Element, SparseKernel, Start};
use super::gemm::depth_step;
#[cfg(target_arch = "x86_64")]
use super::sparse_avx2 as avx2;
#[cfg(target_arch = "x86_64")]
use super::sparse_avx512 as avx512;
use super::sparse_input::{MAX_DENSITY, SparseInput, SparseRows, SumOrder};
use super::sparse_portable as portable;
use super::split::{SPARSE_MIN_WORK, in_column_pieces, in_pieces, pieces};

impl<F: Element> SparseInput<F> {
    /// out = x · m + init (on every row) for the current batch x: the layer's z = x·W + b, summed
    /// in this input's order (`SumOrder`).
    ///
    /// # Panics
    /// When the last fill did not keep a batch.
    pub fn mul(&self, m: ArrayView2<F>, init: &[F], mut out: ArrayViewMut2<F>) {
        let rows = self.rows().expect("sparse product: the sparse input holds no batch");
        match self.order {
            SumOrder::Chained => rows.mul(m, Start::Chain(Some(init)), out),
            SumOrder::AsGemm => {
                // As the dense layer does: the bias first, then `gemm` with beta 1 adds to it.
                out.assign(&ArrayView1::from(init));
                let depth = depth_step(rows.columns);
                rows.mul(
                    m,
                    Start::Blocked {
                        depth,
                        overwrite: false,
                    },
                    out,
                );
            }
        }
    }

    /// out = xᵀ · m for the current batch x (see `SparseRows::mul_transposed`), from the columns
    /// kept by `keep_columns` when there are some, summed in this input's order (`SumOrder`).
    /// The same sums in the same order either way.
    ///
    /// # Panics
    /// When the last fill did not keep a batch.
    pub fn mul_transposed(&self, m: ArrayView2<F>, out: ArrayViewMut2<F>) {
        let rows = self.rows().expect("sparse product: the sparse input holds no batch");
        let start = match self.order {
            SumOrder::Chained => Start::Chain(None),
            SumOrder::AsGemm => Start::Blocked {
                depth: depth_step(rows.rows()),
                overwrite: true,
            },
        };
        rows.mul_transposed(self.columns_kept.then_some(&self.columns), m, start, out);
    }

    /// An empty input for a hidden layer of `outputs` units, whose products sum in `gemm`'s order
    /// and so give the same bits sparse or dense: kept sparse up to the density at which the sparse
    /// products stop beating the dense ones for that width (`SparseKernel::max_density_as_gemm`).
    pub fn for_hidden_layer(outputs: usize) -> Self {
        Self {
            max_density: F::max_density_as_gemm(outputs),
            ..Self::in_order(SumOrder::AsGemm)
        }
    }

    /// Keeps `x` (batch, inputs) if it is sparse enough; returns whether it did (`MAX_DENSITY`, or
    /// a hidden layer's own limit, `for_hidden_layer`).
    pub fn fill_if_sparse(&mut self, x: ArrayView2<F>) -> bool {
        self.active = self.rows.fill_if_sparse(x, self.max_density);
        self.columns_kept = false;
        self.active
    }
}

impl<F: Element> SparseRows<F> {
    /// Fills these rows with the nonzero values of `x` (rows, columns) when at most `max_density`
    /// of them are nonzero; returns whether it did (when not, the contents are unspecified).
    pub fn fill_if_sparse(&mut self, x: ArrayView2<F>, max_density: f64) -> bool {
        let (rows, columns) = x.dim();
        self.reset(rows, columns);
        let limit = (max_density * (rows * columns) as f64) as usize;
        for row in x.rows() {
            let row = row.as_slice().expect("sparse input: rows must be contiguous");
            F::push_nonzeros(row, &mut self.indices, &mut self.values);
            if self.values.len() > limit {
                return false;
            }
            self.starts.push(self.values.len());
        }
        true
    }

    /// out = selfᵀ · m: self (rows, k), m (rows, n) in standard layout, out (k, n); a layer's
    /// weight gradient xᵀ·dz, each sum begun and ended as `start` says (a `Start::Chain` from
    /// zero, or `Start::Blocked`). With `transposed`, self's transpose already made (see
    /// `SparseInput::keep_columns`), threads sum its rows as `mul` does; without, each thread
    /// transposes the columns of self whose rows of out it computes, into a buffer of its own.
    pub fn mul_transposed(
        &self,
        transposed: Option<&SparseRows<F>>,
        m: ArrayView2<F>,
        start: Start<F>,
        out: ArrayViewMut2<F>,
    ) {
        let n = m.ncols();
        assert_eq!(
            m.nrows(),
            self.rows(),
            "sparse product: x has {} rows but m {}",
            self.rows(),
            m.nrows()
        );
        assert_eq!(
            out.dim(),
            (self.columns, n),
            "sparse product: the output is not {}x{n}",
            self.columns
        );
        let m = m.to_slice().expect("sparse product: m must be in standard layout");
        if let Some(transposed) = transposed {
            in_pieces(0, out, transposed.parts(n), &|first, out| {
                transposed.combine_rows(first, 0, m, n, start, out)
            });
            return;
        }
        // Room in every thread's buffer for the transpose of all of self, made on all of them at
        // once: otherwise a thread taking its first share in a later batch would allocate then.
        let (rows, columns) = (self.rows(), self.columns);
        if F::with_transpose(|t| t.values.capacity() < rows * columns + 8) {
            let make_room = || F::with_transpose(|t| t.reserve(columns, rows));
            rayon::broadcast(|_| make_room());
            make_room();
        }
        in_pieces(0, out, self.parts(n), &|first, out: ArrayViewMut2<F>| {
            F::with_transpose(|t| {
                self.transpose_into(first..first + out.nrows(), t);
                t.combine_rows(0, 0, m, n, start, out);
            })
        });
    }

    /// How many threads a product of these rows with a matrix of `n` columns is worth.
    fn parts(&self, n: usize) -> usize {
        pieces(self.starts.last().copied().unwrap_or(0) * n, SPARSE_MIN_WORK)
    }

    /// out = self · m, each sum begun and ended as `start` says: self (rows, k), m (k, n) in
    /// standard layout, out (rows, n), a `Start::Chain`'s values (n).
    pub fn mul(&self, m: ArrayView2<F>, start: Start<F>, out: ArrayViewMut2<F>) {
        let n = m.ncols();
        assert_eq!(
            m.nrows(),
            self.columns,
            "sparse product: x has {} columns but m {} rows",
            self.columns,
            m.nrows()
        );
        assert_eq!(
            out.dim(),
            (self.rows(), n),
            "sparse product: the output is not {}x{n}",
            self.rows()
        );
        if let Start::Chain(Some(init)) = start {
            assert_eq!(init.len(), n, "sparse product: the start values are not {n} long");
        }
        let m = m.to_slice().expect("sparse product: m must be in standard layout");
        let (parts, block) = (self.parts(n), F::block_columns());
        // Cut by columns when each thread gets a few blocks of them: then it packs (the AVX-512
        // combiner) or reads only its own blocks of m, for every row of x.
        if n.div_ceil(block) >= 4 * parts {
            in_column_pieces(0, out, parts, block, &|first_column, out| {
                self.combine_rows(0, first_column, m, n, start, out)
            });
        } else {
            in_pieces(0, out, parts, &|first, out| {
                self.combine_rows(first, 0, m, n, start, out)
            });
        }
    }

    /// Rows `first..first + out.nrows()` and columns `first_column..first_column + out.ncols()`
    /// of the product, on this thread (m has `n` columns). The outer loop runs over blocks of
    /// columns, so that one block of m's columns stays in cache for all the rows.
    fn combine_rows(
        &self,
        first: usize,
        first_column: usize,
        m: &[F],
        n: usize,
        start: Start<F>,
        mut out: ArrayViewMut2<F>,
    ) {
        let (columns, width) = (F::block_columns(), out.ncols());
        for c in (0..width).step_by(columns) {
            let (c0, block_width) = (first_column + c, columns.min(width - c));
            let start = match start {
                Start::Chain(init) => Start::Chain(init.map(|b| &b[c0..c0 + block_width])),
                blocked => blocked,
            };
            let block = Block {
                m: &m[c0..],
                stride: n,
                start,
            };
            F::combine_block(self, first, block, out.slice_mut(s![.., c..c + block_width]));
        }
    }
}

thread_local! {
    static TRANSPOSE_F32: RefCell<SparseRows<f32>> = RefCell::default();
    static TRANSPOSE_F64: RefCell<SparseRows<f64>> = RefCell::default();
}

impl SparseKernel for f64 {
    fn combine_block(x: &SparseRows<f64>, first: usize, block: Block<f64>, out: ArrayViewMut2<f64>) {
        portable::combine_block(x, first, block, out);
    }

    fn push_nonzeros(row: &[f64], indices: &mut Vec<u32>, values: &mut Vec<f64>) {
        portable::push_nonzeros(row, indices, values);
    }

    fn with_transpose<R>(f: impl FnOnce(&mut SparseRows<f64>) -> R) -> R {
        TRANSPOSE_F64.with(|t| f(&mut t.borrow_mut()))
    }
}

/// Whether f32 products take the AVX-512 combiner (`sparse_avx512`): the one place that decides,
/// so that the block width, the density limit and the kernel called agree.
fn avx512_combiner() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx512f");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

impl SparseKernel for f32 {
    fn max_density_as_gemm(outputs: usize) -> f64 {
        // The AVX-512 combiner against `gemm` (x·W and xᵀ·dz of a batch of 128 with 1024 inputs, two
        // threads, medians of 200): ahead up to 55% nonzero for 1024 outputs (2.5 against 3.2 ms
        // at 50%) and still at 50% for 300 (0.93 against 0.97 ms), behind from 40% for 100 or 10.
        if outputs >= 256 && avx512_combiner() {
            0.5
        } else {
            MAX_DENSITY
        }
    }

    fn block_columns() -> usize {
        #[cfg(target_arch = "x86_64")]
        if avx512_combiner() {
            return avx512::COLUMNS;
        }
        BLOCK
    }

    fn combine_block(x: &SparseRows<f32>, first: usize, block: Block<f32>, out: ArrayViewMut2<f32>) {
        #[cfg(target_arch = "x86_64")]
        {
            let avx512 = avx512_combiner();
            let avx2 = std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
            if avx512 || avx2 {
                let width = out.ncols();
                assert!(
                    width <= Self::block_columns() && first + out.nrows() <= x.rows(),
                    "sparse block out of range"
                );
                match block.start {
                    Start::Chain(init) => assert!(
                        init.is_none_or(|b| b.len() == width),
                        "sparse block: the start values are not {width} long"
                    ),
                    Start::Blocked { depth, .. } => assert!(depth > 0, "sparse block: blocks of depth 0"),
                }
                assert!(
                    x.columns == 0 || (x.columns - 1) * block.stride + width <= block.m.len(),
                    "sparse block: m is shorter than x's columns"
                );
                // SAFETY: the CPU has the kernel's features (checked above), and the block, its
                // rows of x and its start values are as its contract asks (asserted above).
                if avx512 {
                    unsafe { avx512::combine_block(x, first, block, out) };
                } else {
                    unsafe { avx2::combine_block(x, first, block, out) };
                }
                return;
            }
        }
        portable::combine_block(x, first, block, out);
    }

    fn push_nonzeros(row: &[f32], indices: &mut Vec<u32>, values: &mut Vec<f32>) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            indices.reserve(row.len() + 8);
            values.reserve(row.len() + 8);
            // SAFETY: AVX2 is present (checked above) and both vectors have room for 8 more
            // values than the row holds (reserved above).
            unsafe { avx2::push_nonzeros(row, indices, values) };
            return;
        }
        portable::push_nonzeros(row, indices, values);
    }

    fn with_transpose<R>(f: impl FnOnce(&mut SparseRows<f32>) -> R) -> R {
        TRANSPOSE_F32.with(|t| f(&mut t.borrow_mut()))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use ndarray::Array2;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::kernels::gemm;

    /// A (rows, columns) matrix with about `density` of its values nonzero, in [-1, 1).
    pub(in crate::kernels) fn sparse_random(
        rows: usize,
        columns: usize,
        density: f64,
        rng: &mut ChaCha8Rng,
    ) -> Array2<f64> {
        Array2::from_shape_simple_fn((rows, columns), || {
            if rng.random_bool(density) {
                rng.random_range(-1.0..1.0)
            } else {
                0.0
            }
        })
    }

    fn dense_product(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
        let mut c = Array2::zeros((a.nrows(), b.ncols()));
        gemm(1.0, a.view(), b.view(), 0.0, &mut c.view_mut());
        c
    }

    fn assert_close(got: &Array2<f64>, want: &Array2<f64>, tolerance: f64) {
        assert_eq!(got.dim(), want.dim());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= tolerance * (1.0 + w.abs()), "{g} != {w}");
        }
    }

    /// x·m + b and xᵀ·dz of a `SumOrder::AsGemm` input against `gemm`'s own, bit for bit: over
    /// one and several blocks of depth, by rows and by kept columns.
    fn gemm_order_gives_the_dense_bits<F: Element + std::fmt::Debug>(rng: &mut ChaCha8Rng) {
        let cast = |a: Array2<f64>| a.mapv(|v| F::from(v).unwrap());
        for (rows, k, n) in [(9, 40, 9), (130, 1024, 105), (400, 300, 230)] {
            let x = cast(sparse_random(rows, k, 0.2, rng));
            let (m, dz) = (
                cast(sparse_random(k, n, 1.0, rng)),
                cast(sparse_random(rows, n, 1.0, rng)),
            );
            let bias: Vec<F> = (0..n).map(|c| F::from(c as f64 * 0.25 - 1.0).unwrap()).collect();
            let mut sparse = SparseInput::in_order(SumOrder::AsGemm);
            assert!(sparse.fill_if_sparse(x.view()));

            let mut want = Array2::from_shape_fn((rows, n), |(_, c)| bias[c]);
            gemm(F::one(), x.view(), m.view(), F::one(), &mut want.view_mut());
            let mut got = Array2::from_elem((rows, n), F::nan());
            sparse.mul(m.view(), &bias, got.view_mut());
            assert_eq!(got, want, "x·m + b, {rows}x{k}x{n}");

            let mut want = Array2::zeros((k, n));
            gemm(F::one(), x.t(), dz.view(), F::zero(), &mut want.view_mut());
            for kept in [false, true] {
                if kept {
                    sparse.keep_columns();
                }
                let mut got = Array2::from_elem((k, n), F::nan());
                sparse.mul_transposed(dz.view(), got.view_mut());
                assert_eq!(got, want, "xᵀ·dz, {rows}x{k}x{n}, columns kept: {kept}");
            }
        }
    }

    #[test]
    fn products_in_gemm_order_give_the_dense_bits() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        gemm_order_gives_the_dense_bits::<f32>(&mut rng);
        gemm_order_gives_the_dense_bits::<f64>(&mut rng);
    }

    #[test]
    fn products_match_the_dense_ones_on_edge_widths() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        // Widths around the 8-lane vector and the 104-column block, and a row with no nonzero value.
        for (rows, k, n) in [
            (7, 30, 1),
            (5, 19, 8),
            (9, 40, 9),
            (4, 33, 103),
            (6, 50, 104),
            (3, 70, 105),
            (17, 100, 230),
        ] {
            let mut x = sparse_random(rows, k, 0.2, &mut rng);
            x.row_mut(rows / 2).fill(0.0);
            let m = sparse_random(k, n, 1.0, &mut rng);
            let bias: Vec<f64> = (0..n).map(|c| c as f64 * 0.25 - 1.0).collect();
            let mut sparse = SparseInput::default();
            assert!(sparse.fill_if_sparse(x.view()));
            let mut got = Array2::zeros((rows, n));
            sparse
                .rows()
                .unwrap()
                .mul(m.view(), Start::Chain(Some(&bias)), got.view_mut());
            let mut want = dense_product(&x, &m);
            want += &ndarray::Array1::from(bias.clone());
            assert_close(&got, &want, 1e-12);

            // xᵀ·dz, as the first layer's weight gradient.
            let dz = sparse_random(rows, n, 1.0, &mut rng);
            let mut got = Array2::zeros((k, n));
            sparse
                .rows()
                .unwrap()
                .mul_transposed(None, dz.view(), Start::Chain(None), got.view_mut());
            assert_close(&got, &dense_product(&x.t().to_owned(), &dz), 1e-12);
        }
    }

    #[test]
    fn kept_columns_give_the_transposing_product_bit_for_bit_and_go_with_a_refill() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut sparse = SparseInput::<f32>::with_room(40, 784);
        for _ in 0..2 {
            let x = sparse_random(40, 784, 0.19, &mut rng).mapv(|v| v as f32);
            let dz = sparse_random(40, 230, 1.0, &mut rng).mapv(|v| v as f32);
            assert!(sparse.fill_if_sparse(x.view()));
            // After a refill, the columns kept for the batch before must not be used.
            let mut transposing = Array2::zeros((784, 230));
            sparse.mul_transposed(dz.view(), transposing.view_mut());
            let mut dense = Array2::zeros((784, 230));
            gemm(1.0, x.t(), dz.view(), 0.0, &mut dense.view_mut());
            let worst = (&transposing - &dense).iter().fold(0.0f32, |w, d| w.max(d.abs()));
            assert!(worst < 1e-4, "off by {worst}");
            sparse.keep_columns();
            let mut kept = Array2::zeros((784, 230));
            sparse.mul_transposed(dz.view(), kept.view_mut());
            assert_eq!(kept, transposing);
        }
    }

    #[test]
    fn f32_vector_kernel_agrees_with_f64() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let x = sparse_random(33, 784, 0.19, &mut rng);
        let mut sparse = SparseInput::<f32>::default();
        assert!(sparse.fill_if_sparse(x.mapv(|v| v as f32).view()));
        // Every vector count of a block, a masked tail, and more than one block.
        for n in [1, 8, 9, 17, 36, 64, 65, 100, 103, 104, 105, 209] {
            let m = sparse_random(784, n, 1.0, &mut rng);
            let mut got = Array2::<f32>::zeros((33, n));
            sparse
                .rows()
                .unwrap()
                .mul(m.mapv(|v| v as f32).view(), Start::Chain(None), got.view_mut());
            assert_close(&got.mapv(f64::from), &dense_product(&x, &m), 1e-5);
        }
    }

    #[test]
    fn f32_nonzeros_are_found_as_by_the_plain_loop() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for len in [0, 1, 7, 8, 9, 16, 23, 784] {
            let mut row: Vec<f32> = (0..len)
                .map(|_| {
                    if rng.random_bool(0.3) {
                        rng.random_range(-1.0..1.0)
                    } else {
                        0.0
                    }
                })
                .collect();
            // A negative zero counts as zero; a NaN as nonzero, so that it reaches the output.
            if len > 5 {
                row[2] = -0.0;
                row[5] = f32::NAN;
            }
            let (mut indices, mut values) = (vec![9], vec![9.0]);
            f32::push_nonzeros(&row, &mut indices, &mut values);
            let (mut want_indices, mut want_values) = (vec![9], vec![9.0]);
            portable::push_nonzeros(&row, &mut want_indices, &mut want_values);
            assert_eq!(indices, want_indices, "length {len}");
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&values), bits(&want_values), "length {len}");
            assert!(
                indices
                    .iter()
                    .skip(1)
                    .all(|&j| row[j as usize] != 0.0 || row[j as usize].is_nan())
            );
            let nonzero = row.iter().filter(|&&v| v != 0.0).count();
            assert_eq!(values.len(), 1 + nonzero, "length {len}");
        }
    }

    #[test]
    fn dense_batches_are_refused_and_sparse_ones_kept() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut sparse = SparseInput::default();
        assert!(!sparse.fill_if_sparse(sparse_random(20, 50, 0.6, &mut rng).view()));
        assert!(sparse.rows().is_none());
        assert!(sparse.fill_if_sparse(sparse_random(20, 50, 0.1, &mut rng).view()));
        assert_eq!(sparse.rows().unwrap().rows(), 20);
        // Exactly at the limit is still sparse; one value past it is not.
        let mut x = Array2::<f64>::zeros((10, 10));
        x.iter_mut().take((MAX_DENSITY * 100.0) as usize).for_each(|v| *v = 1.0);
        assert!(sparse.fill_if_sparse(x.view()));
        x[[9, 9]] = 1.0;
        assert!(!sparse.fill_if_sparse(x.view()));
    }

    #[test]
    fn results_are_bit_identical_for_any_thread_count() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let x = sparse_random(100, 784, 0.19, &mut rng).mapv(|v| v as f32);
        // 100 outputs are cut by rows; 1100, many blocks of columns for each thread, by columns.
        for n in [100, 1100] {
            let m = sparse_random(784, n, 1.0, &mut rng).mapv(|v| v as f32);
            // x·m and xᵀ·dz (with m for dz), each cut into as many pieces as there are threads.
            let product = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                pool.install(|| {
                    let mut sparse = SparseInput::default();
                    assert!(sparse.fill_if_sparse(x.view()));
                    let rows = sparse.rows().unwrap();
                    let mut out = Array2::<f32>::zeros((100, n));
                    rows.mul(m.view(), Start::Chain(None), out.view_mut());
                    let mut transposed = Array2::<f32>::zeros((784, n));
                    rows.mul_transposed(None, m.slice(s![..100, ..]), Start::Chain(None), transposed.view_mut());
                    (out, transposed)
                })
            };
            let one = product(1);
            for threads in [2, 3, 4] {
                assert_eq!(product(threads), one, "{threads} threads, {n} outputs");
            }
        }
    }
}
