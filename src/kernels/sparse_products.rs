//! Sparse inputs: the products of the first layer skip the zeros of its input.
//!
//! About 81% of the pixels of an MNIST digit are 0 (the background), so most of the multiply-adds of
//! x·W and xᵀ·dz, the first layer's forward and weight gradient, add nothing. When a batch is sparse
//! enough (at most `MAX_DENSITY` of its values nonzero), the network keeps it as a list of its
//! nonzero values by rows, backward transposes them to columns, and the first layer computes
//!
//! ```text
//! forward:   z[i, :] = b + Σ_{j: x[i,j] ≠ 0} x[i,j] · W[j, :]       (rows of x)
//! backward:  dW[j, :] =    Σ_{i: x[i,j] ≠ 0} x[i,j] · dz[i, :]      (columns of x)
//! ```
//!
//! Both are the same operation, a weighted sum of rows of a dense matrix for each sparse row, done
//! by `combine_block`. Backward's threads each transpose the columns whose rows of dW they sum, so
//! that the transpose is shared out too; in training, the batch gathered ahead on the other thread
//! is transposed there as well (`SparseInput::keep_columns`), and backward only sums. A dense batch (standard scaling, most other data sets) takes the dense
//! products of `linalg` instead. A data set of mostly-zero images keeps their nonzero pixels
//! (`data::nonzero`) and gathers a batch straight into sparse rows (`SparseInput::fill_rows`). Each
//! sum runs over the nonzero values in order, on one thread, so results are the same for any
//! thread count.

use std::cell::RefCell;
use std::ops::Range;

use ndarray::{ArrayView1, ArrayView2, ArrayViewMut2, Axis, s};

use crate::float::Float;

/// The largest fraction of nonzero values for which the sparse products are used. MNIST's pixels
/// are 19% nonzero; denser inputs (standard scaling makes every pixel nonzero) take the dense
/// products. `cargo bench --bench throughput` times `sparse/100x784x100/*` at 10%, 19% and this
/// limit, beside `gemm/100x784x100`, the dense product of the same shape.
pub const MAX_DENSITY: f64 = 0.3;

/// Each thread gets at least this many multiply-adds, as in `linalg` (waking a second thread costs
/// more than a smaller share saves): a batch-100 MNIST forward with 100 outputs has 1.5·10⁶.
const PARALLEL_MIN_WORK: usize = 1 << 19;

/// Columns of the output computed together: 13 vectors of 8 f32 held in registers, which with the
/// broadcast value and a masked load fill AVX2's 16. A 100-unit layer is then one pass over each
/// row's nonzeros, reading every weight row it needs once (64 columns and a second pass measured
/// 5% slower evaluating MNIST's training set).
const BLOCK: usize = 104;

/// A sparse batch x kept by rows, and by columns when asked to (`keep_columns`); backward otherwise
/// transposes the rows as it goes (`SparseRows::mul_transposed`).
#[derive(Clone, Debug)]
pub struct SparseInput<F> {
    rows: SparseRows<F>,
    /// Whether `rows` holds the current batch (it was sparse enough).
    active: bool,
    /// The current batch's transpose, when `keep_columns` made it.
    columns: SparseRows<F>,
    columns_kept: bool,
}

impl<F> Default for SparseInput<F> {
    fn default() -> Self {
        Self {
            rows: SparseRows::default(),
            active: false,
            columns: SparseRows::default(),
            columns_kept: false,
        }
    }
}

impl<F: Float> SparseInput<F> {
    /// Room for a batch of `rows` x `columns` and its transpose with no zeros, so that no later
    /// fill or `keep_columns` allocates.
    pub fn with_room(rows: usize, columns: usize) -> Self {
        let mut input = Self::default();
        input.rows.reserve(rows, columns);
        input.columns.reserve(columns, rows);
        input
    }

    /// Keeps the current batch by columns too, so that `mul_transposed` (the first layer's
    /// weight gradient) need not transpose it. The trainer does this while gathering the next
    /// batch on the other thread, where it costs the step nothing.
    pub fn keep_columns(&mut self) {
        if self.active {
            self.rows.transpose_into(0..self.rows.columns, &mut self.columns);
            self.columns_kept = true;
        }
    }

    /// out = xᵀ · m for the current batch x (see `SparseRows::mul_transposed`), from the columns
    /// kept by `keep_columns` when there are some. The same sums in the same order either way.
    ///
    /// # Panics
    /// When the last fill did not keep a batch.
    pub fn mul_transposed(&self, m: ArrayView2<F>, out: ArrayViewMut2<F>) {
        let rows = self.rows().expect("sparse product: the sparse input holds no batch");
        rows.mul_transposed(self.columns_kept.then_some(&self.columns), m, out);
    }

    /// Keeps `x` (batch, inputs) if it is sparse enough; returns whether it did (see `MAX_DENSITY`).
    pub fn fill_if_sparse(&mut self, x: ArrayView2<F>) -> bool {
        self.active = self.rows.fill_if_sparse(x);
        self.columns_kept = false;
        self.active
    }

    /// Keeps the batch of `rows` x `columns` that `write_row(r, indices, values)` gives row by row:
    /// it appends row r's nonzero values to `values` and their columns, increasing, to `indices`.
    /// For inputs already kept sparse (`data::nonzero`), which skip the dense batch and its scan.
    ///
    /// # Panics
    /// When a row's indices and values differ in number, or its columns do not increase or reach
    /// `columns`.
    pub fn fill_rows(&mut self, rows: usize, columns: usize, write_row: impl FnMut(usize, &mut Vec<u32>, &mut Vec<F>)) {
        self.rows.fill_with(rows, columns, write_row);
        self.active = true;
        self.columns_kept = false;
    }

    /// The current batch by rows, when the last fill kept it.
    pub fn rows(&self) -> Option<&SparseRows<F>> {
        self.active.then_some(&self.rows)
    }
}

/// The nonzero values of a matrix, row by row (compressed sparse rows).
#[derive(Clone, Debug)]
pub struct SparseRows<F> {
    /// Columns of the dense matrix.
    columns: usize,
    /// Row r's values are `values[starts[r]..starts[r + 1]]`.
    starts: Vec<usize>,
    /// The column of each value.
    indices: Vec<u32>,
    values: Vec<F>,
}

impl<F> Default for SparseRows<F> {
    fn default() -> Self {
        Self {
            columns: 0,
            starts: Vec::new(),
            indices: Vec::new(),
            values: Vec::new(),
        }
    }
}

impl<F: Float> SparseRows<F> {
    pub fn rows(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Row r: the columns of its nonzero values, and the values.
    fn row(&self, r: usize) -> (&[u32], &[F]) {
        let range = self.starts[r]..self.starts[r + 1];
        (&self.indices[range.clone()], &self.values[range])
    }

    /// Empties the rows for a matrix of `rows` x `columns`, keeping room for every value so that
    /// refilling allocates nothing.
    fn reset(&mut self, rows: usize, columns: usize) {
        self.columns = columns;
        self.indices.clear();
        self.values.clear();
        self.starts.clear();
        self.reserve(rows, columns);
        self.starts.push(0);
    }

    /// Makes room for a matrix of `rows` x `columns` with no zeros.
    fn reserve(&mut self, rows: usize, columns: usize) {
        // The vector path of `push_nonzeros` writes 8 values at a time, up to 7 past the last.
        self.indices.reserve(rows * columns + 8);
        self.values.reserve(rows * columns + 8);
        self.starts.reserve(rows + 1);
    }

    /// Fills these rows with the nonzero values of `x` (rows, columns) when at most `MAX_DENSITY`
    /// of them are nonzero; returns whether it did (when not, the contents are unspecified).
    pub fn fill_if_sparse(&mut self, x: ArrayView2<F>) -> bool {
        let (rows, columns) = x.dim();
        self.reset(rows, columns);
        let limit = (MAX_DENSITY * (rows * columns) as f64) as usize;
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

    /// Fills these rows with `write_row`'s, as `SparseInput::fill_rows` says.
    fn fill_with(&mut self, rows: usize, columns: usize, mut write_row: impl FnMut(usize, &mut Vec<u32>, &mut Vec<F>)) {
        self.reset(rows, columns);
        for r in 0..rows {
            let start = self.indices.len();
            write_row(r, &mut self.indices, &mut self.values);
            assert_eq!(
                self.indices.len(),
                self.values.len(),
                "sparse rows: row {r} has indices and values of different numbers"
            );
            // The products read rows of m by these indices without bounds checks, and the
            // transpose finds a range of columns in a row by binary search.
            let row = &self.indices[start..];
            assert!(
                row.windows(2).all(|pair| pair[0] < pair[1]) && row.last().is_none_or(|&j| (j as usize) < columns),
                "sparse rows: row {r}'s columns do not increase from 0 to below {columns}"
            );
            self.starts.push(self.values.len());
        }
    }

    /// Fills `t` with the transpose of these rows' `columns`: its row j holds column
    /// `columns.start + j`'s values, in row order. `t` keeps room for a transpose of every column.
    fn transpose_into(&self, columns: Range<usize>, t: &mut SparseRows<F>) {
        let (rows, width) = (self.rows(), columns.len());
        t.reset(width, rows);
        // Each row's columns increase, so the range's values in it are one run, found by bisection.
        let run = |r: usize| {
            let (indices, values) = self.row(r);
            let from = indices.partition_point(|&j| (j as usize) < columns.start);
            let to = indices.partition_point(|&j| (j as usize) < columns.end);
            (&indices[from..to], &values[from..to])
        };
        // Counting sort by column: count, then turn the counts into each column's start.
        t.starts.resize(width + 1, 0);
        for r in 0..rows {
            for &j in run(r).0 {
                t.starts[j as usize - columns.start + 1] += 1;
            }
        }
        for j in 0..width {
            t.starts[j + 1] += t.starts[j];
        }
        t.indices.resize(t.starts[width], 0);
        t.values.resize(t.starts[width], F::zero());
        // `next[j]` is where column j's next value goes: the first `width` starts, advanced as filled.
        let mut next = std::mem::take(&mut t.starts);
        for r in 0..rows {
            let (indices, values) = run(r);
            for (&j, &v) in indices.iter().zip(values) {
                let slot = &mut next[j as usize - columns.start];
                t.indices[*slot] = r as u32;
                t.values[*slot] = v;
                *slot += 1;
            }
        }
        // After filling, next[j] is column j's end, which is column j + 1's start.
        next.copy_within(..width, 1);
        next[0] = 0;
        t.starts = next;
    }

    /// out = selfᵀ · m: self (rows, k), m (rows, n) in standard layout, out (k, n); the first
    /// layer's weight gradient xᵀ·dz. With `transposed`, self's transpose already made (see
    /// `SparseInput::keep_columns`), threads sum its rows as `mul` does; without, each thread
    /// transposes the columns of self whose rows of out it computes, into a buffer of its own.
    pub fn mul_transposed(&self, transposed: Option<&SparseRows<F>>, m: ArrayView2<F>, out: ArrayViewMut2<F>) {
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
                transposed.combine_rows(first, m, n, None, out)
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
                t.combine_rows(0, m, n, None, out);
            })
        });
    }

    /// How many threads a product of these rows with a matrix of `n` columns is worth.
    fn parts(&self, n: usize) -> usize {
        let work = self.starts.last().copied().unwrap_or(0) * n;
        (work / PARALLEL_MIN_WORK).clamp(1, rayon::current_num_threads())
    }

    /// out = self · m (+ `init` on every row, when given): self (rows, k), m (k, n) in standard
    /// layout, init (n), out (rows, n).
    pub fn mul(&self, m: ArrayView2<F>, init: Option<&[F]>, out: ArrayViewMut2<F>) {
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
        assert!(
            init.is_none_or(|b| b.len() == n),
            "sparse product: init is not {n} long"
        );
        let m = m.to_slice().expect("sparse product: m must be in standard layout");
        in_pieces(0, out, self.parts(n), &|first, out| {
            self.combine_rows(first, m, n, init, out)
        });
    }

    /// Rows `first..first + out.nrows()` of the product, on this thread. The outer loop runs over
    /// blocks of columns, so that one block of m's columns stays in cache for all the rows.
    fn combine_rows(&self, first: usize, m: &[F], n: usize, init: Option<&[F]>, mut out: ArrayViewMut2<F>) {
        for c0 in (0..n).step_by(BLOCK) {
            let width = BLOCK.min(n - c0);
            let block = Block {
                m: &m[c0..],
                stride: n,
                init: init.map(|b| &b[c0..c0 + width]),
            };
            F::combine_block(self, first, block, out.slice_mut(s![.., c0..c0 + width]));
        }
    }
}

/// Runs `piece(first, rows)` on `parts` pieces of `out`'s rows side by side, `first` being the
/// piece's first row counted from `first_row`.
fn in_pieces<F: Float>(
    first_row: usize,
    out: ArrayViewMut2<F>,
    parts: usize,
    piece: &(impl Fn(usize, ArrayViewMut2<F>) + Sync),
) {
    let rows = out.nrows();
    if parts > 1 && rows > 1 {
        let left = parts / 2;
        let cut = rows * left / parts;
        let (top, bottom) = out.split_at(Axis(0), cut);
        rayon::join(
            || in_pieces(first_row, top, left, piece),
            || in_pieces(first_row + cut, bottom, parts - left, piece),
        );
    } else {
        piece(first_row, out);
    }
}

/// The dense side of one block of columns of a sparse product.
#[derive(Clone, Copy)]
pub struct Block<'a, F> {
    /// m's values from the block's first column on: row j of the block starts at `j · stride`.
    m: &'a [F],
    stride: usize,
    /// The block's part of the value every output row starts from, or zeros when `None`.
    init: Option<&'a [F]>,
}

/// The per-type part of the sparse products.
pub trait SparseKernel: Sized + 'static {
    /// out[r, c] = init[c] (or 0) + Σ_k x[first + r, k] · m[k, c] for the rows r and the columns c
    /// (at most `BLOCK`) of `out`, each sum taken in the order of x's values.
    fn combine_block(x: &SparseRows<Self>, first: usize, block: Block<Self>, out: ArrayViewMut2<Self>);

    /// Appends the nonzero values of `row` to `values` and their positions in it to `indices`.
    fn push_nonzeros(row: &[Self], indices: &mut Vec<u32>, values: &mut Vec<Self>);

    /// Runs `f` on this thread's buffer for a transpose, kept between calls so that a training
    /// step allocates nothing. `f` must not start work on other threads: the buffer is lent out.
    fn with_transpose<R>(f: impl FnOnce(&mut SparseRows<Self>) -> R) -> R;
}

thread_local! {
    static TRANSPOSE_F32: RefCell<SparseRows<f32>> = RefCell::default();
    static TRANSPOSE_F64: RefCell<SparseRows<f64>> = RefCell::default();
}

/// `push_nonzeros` in plain Rust: eight values at a time, a bit per nonzero value, then one step
/// per set bit, so that zeros cost no branch to mispredict.
fn push_nonzeros_portable<F: Float>(row: &[F], indices: &mut Vec<u32>, values: &mut Vec<F>) {
    for (c, chunk) in row.chunks(8).enumerate() {
        let mut nonzero = chunk
            .iter()
            .enumerate()
            .fold(0u32, |bits, (j, &v)| bits | u32::from(v != F::zero()) << j);
        while nonzero != 0 {
            let j = c * 8 + nonzero.trailing_zeros() as usize;
            indices.push(j as u32);
            values.push(row[j]);
            nonzero &= nonzero - 1;
        }
    }
}

/// `combine_block` in plain Rust, for f64 (gradient checks) and CPUs without AVX2.
fn combine_block_portable<F: Float>(x: &SparseRows<F>, first: usize, block: Block<F>, mut out: ArrayViewMut2<F>) {
    for (r, mut out_row) in out.rows_mut().into_iter().enumerate() {
        match block.init {
            Some(init) => out_row.assign(&ArrayView1::from(init)),
            None => out_row.fill(F::zero()),
        }
        let (indices, values) = x.row(first + r);
        for (&j, &v) in indices.iter().zip(values) {
            let m_row = &block.m[j as usize * block.stride..];
            for (o, &w) in out_row.iter_mut().zip(m_row) {
                *o += v * w;
            }
        }
    }
}

impl SparseKernel for f64 {
    fn combine_block(x: &SparseRows<f64>, first: usize, block: Block<f64>, out: ArrayViewMut2<f64>) {
        combine_block_portable(x, first, block, out);
    }

    fn push_nonzeros(row: &[f64], indices: &mut Vec<u32>, values: &mut Vec<f64>) {
        push_nonzeros_portable(row, indices, values);
    }

    fn with_transpose<R>(f: impl FnOnce(&mut SparseRows<f64>) -> R) -> R {
        TRANSPOSE_F64.with(|t| f(&mut t.borrow_mut()))
    }
}

impl SparseKernel for f32 {
    fn combine_block(x: &SparseRows<f32>, first: usize, block: Block<f32>, out: ArrayViewMut2<f32>) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            let width = out.ncols();
            assert!(
                width <= BLOCK && first + out.nrows() <= x.rows(),
                "sparse block out of range"
            );
            assert!(
                block.init.is_none_or(|b| b.len() == width),
                "sparse block: init is not {width} long"
            );
            assert!(
                x.columns == 0 || (x.columns - 1) * block.stride + width <= block.m.len(),
                "sparse block: m is shorter than x's columns"
            );
            // SAFETY: AVX2 and FMA are present (checked above). Every index of x is below x.columns
            // (SparseRows only stores indices of its columns), so every row read, m[j·stride ..
            // j·stride + width], lies inside block.m (asserted), and init holds `width` values.
            unsafe { avx2::combine_block(x, first, block, out) };
            return;
        }
        combine_block_portable(x, first, block, out);
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
        push_nonzeros_portable(row, indices, values);
    }

    fn with_transpose<R>(f: impl FnOnce(&mut SparseRows<f32>) -> R) -> R {
        TRANSPOSE_F32.with(|t| f(&mut t.borrow_mut()))
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use ndarray::ArrayViewMut2;

    use super::{BLOCK, Block, SparseRows};

    /// For each 8-bit mask, the lanes of its set bits in order, one byte each: the permutation that
    /// packs the chosen lanes of a vector to its front.
    const PACK: [u64; 256] = {
        let mut table = [0u64; 256];
        let mut mask = 0;
        while mask < 256 {
            let (mut lane, mut packed) = (0, 0);
            while lane < 8 {
                if mask >> lane & 1 == 1 {
                    table[mask] |= (lane as u64) << (8 * packed);
                    packed += 1;
                }
                lane += 1;
            }
            mask += 1;
        }
        table
    };

    /// Eight values at a time: compares with zero, packs the nonzero values and their positions
    /// to the front of a vector and stores all 8 lanes at the end of `values` and `indices`, whose
    /// length then grows by the number of nonzero ones. No branch per value.
    ///
    /// # Safety
    /// The CPU must have AVX2; `indices` and `values` must have room for row.len() + 8 more values.
    #[target_feature(enable = "avx2")]
    pub unsafe fn push_nonzeros(row: &[f32], indices: &mut Vec<u32>, values: &mut Vec<f32>) {
        debug_assert!(indices.len() == values.len());
        let chunks = row.chunks_exact(8);
        let tail = chunks.remainder();
        let mut len = values.len();
        for (c, chunk) in chunks.enumerate() {
            // SAFETY: the chunk holds 8 values; len + 8 <= the room the caller reserved, since len
            // grows by at most 8 per chunk of the row.
            unsafe {
                let v = _mm256_loadu_ps(chunk.as_ptr());
                let mask = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_NEQ_UQ>(v, _mm256_setzero_ps())) as usize;
                if mask == 0 {
                    continue;
                }
                let lanes = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(PACK[mask] as i64));
                _mm256_storeu_ps(values.as_mut_ptr().add(len), _mm256_permutevar8x32_ps(v, lanes));
                let positions = _mm256_add_epi32(lanes, _mm256_set1_epi32(8 * c as i32));
                _mm256_storeu_si256(indices.as_mut_ptr().add(len).cast(), positions);
                len += mask.count_ones() as usize;
                values.set_len(len);
                indices.set_len(len);
            }
        }
        let start = row.len() - tail.len();
        for (j, &v) in tail.iter().enumerate() {
            if v != 0.0 {
                indices.push((start + j) as u32);
                values.push(v);
            }
        }
    }

    /// Dispatches on the number of 8-lane vectors the block needs, so that each count gets its
    /// own fully unrolled loop with the sums in registers.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA; out has at most `BLOCK` columns and rows `first..` of x;
    /// for every index j of x, block.m[j·stride .. j·stride + out.ncols()] exists; init, when
    /// given, holds out.ncols() values.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn combine_block(x: &SparseRows<f32>, first: usize, block: Block<f32>, out: ArrayViewMut2<f32>) {
        debug_assert!(out.ncols() <= BLOCK);
        // SAFETY: forwarded from the caller's contract.
        unsafe {
            match out.ncols().div_ceil(8) {
                0 => {}
                1 => vectors::<1>(x, first, block, out),
                2 => vectors::<2>(x, first, block, out),
                3 => vectors::<3>(x, first, block, out),
                4 => vectors::<4>(x, first, block, out),
                5 => vectors::<5>(x, first, block, out),
                6 => vectors::<6>(x, first, block, out),
                7 => vectors::<7>(x, first, block, out),
                8 => vectors::<8>(x, first, block, out),
                9 => vectors::<9>(x, first, block, out),
                10 => vectors::<10>(x, first, block, out),
                11 => vectors::<11>(x, first, block, out),
                12 => vectors::<12>(x, first, block, out),
                _ => vectors::<13>(x, first, block, out),
            }
        }
    }

    /// V accumulators of 8 lanes per output row; the last vector is loaded and stored through a
    /// mask, so a width that is not a multiple of 8 reads and writes nothing past the block.
    ///
    /// # Safety
    /// As `combine_block`, with out.ncols() in (8·(V-1), 8·V].
    #[target_feature(enable = "avx2,fma")]
    unsafe fn vectors<const V: usize>(
        x: &SparseRows<f32>,
        first: usize,
        block: Block<f32>,
        mut out: ArrayViewMut2<f32>,
    ) {
        let tail = out.ncols() - 8 * (V - 1);
        let mask = _mm256_cmpgt_epi32(
            _mm256_set1_epi32(tail as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        );
        let load = |row: *const f32, q: usize| {
            // SAFETY: vector q < V - 1 covers values 8q .. 8q + 8 of a row of out.ncols() readable
            // values (caller's contract); the last vector's lanes past them are masked off.
            unsafe {
                if q + 1 < V {
                    _mm256_loadu_ps(row.add(8 * q))
                } else {
                    _mm256_maskload_ps(row.add(8 * q), mask)
                }
            }
        };
        let m = block.m.as_ptr();
        for (r, mut out_row) in out.rows_mut().into_iter().enumerate() {
            let out_row = out_row
                .as_slice_mut()
                .expect("sparse product: output rows must be contiguous");
            let mut acc = [_mm256_setzero_ps(); V];
            if let Some(init) = block.init {
                for (q, a) in acc.iter_mut().enumerate() {
                    *a = load(init.as_ptr(), q);
                }
            }
            let (indices, values) = x.row(first + r);
            for (&j, &v) in indices.iter().zip(values) {
                // SAFETY: row j of the block is readable (caller's contract).
                let m_row = unsafe { m.add(j as usize * block.stride) };
                let v = _mm256_set1_ps(v);
                for (q, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_fmadd_ps(v, load(m_row, q), *a);
                }
            }
            for (q, a) in acc.iter().enumerate() {
                // SAFETY: as for the loads, on the out.ncols() values of this output row.
                unsafe {
                    if q + 1 < V {
                        _mm256_storeu_ps(out_row.as_mut_ptr().add(8 * q), *a);
                    } else {
                        _mm256_maskstore_ps(out_row.as_mut_ptr().add(8 * q), mask, *a);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::kernels::gemm;

    /// A (rows, columns) matrix with about `density` of its values nonzero, in [-1, 1).
    fn sparse_random(rows: usize, columns: usize, density: f64, rng: &mut ChaCha8Rng) -> Array2<f64> {
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
            sparse.rows().unwrap().mul(m.view(), Some(&bias), got.view_mut());
            let mut want = dense_product(&x, &m);
            want += &ndarray::Array1::from(bias.clone());
            assert_close(&got, &want, 1e-12);

            // xᵀ·dz, as the first layer's weight gradient.
            let dz = sparse_random(rows, n, 1.0, &mut rng);
            let mut got = Array2::zeros((k, n));
            sparse.rows().unwrap().mul_transposed(None, dz.view(), got.view_mut());
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
                .mul(m.mapv(|v| v as f32).view(), None, got.view_mut());
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
            push_nonzeros_portable(&row, &mut want_indices, &mut want_values);
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
    fn rows_given_whole_are_checked() {
        let fill = |row: Vec<u32>| {
            std::panic::catch_unwind(|| {
                let mut sparse = SparseInput::<f32>::default();
                sparse.fill_rows(1, 10, |_, indices, values| {
                    values.extend(row.iter().map(|&j| j as f32 + 1.0));
                    indices.extend(&row);
                });
            })
            .is_ok()
        };
        assert!(fill(vec![]));
        assert!(fill(vec![0, 4, 9]));
        assert!(!fill(vec![0, 4, 10]), "a column past the matrix");
        assert!(!fill(vec![4, 0]), "decreasing columns");
        assert!(!fill(vec![3, 3]), "a column twice");
    }

    #[test]
    fn results_are_bit_identical_for_any_thread_count() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let x = sparse_random(100, 784, 0.19, &mut rng).mapv(|v| v as f32);
        let m = sparse_random(784, 100, 1.0, &mut rng).mapv(|v| v as f32);
        // x·m and xᵀ·dz (with m for dz), each cut into as many pieces as there are threads.
        let product = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let mut sparse = SparseInput::default();
                assert!(sparse.fill_if_sparse(x.view()));
                let rows = sparse.rows().unwrap();
                let mut out = Array2::<f32>::zeros((100, 100));
                rows.mul(m.view(), None, out.view_mut());
                let mut transposed = Array2::<f32>::zeros((784, 100));
                rows.mul_transposed(None, m.slice(s![..100, ..]), transposed.view_mut());
                (out, transposed)
            })
        };
        let one = product(1);
        for threads in [2, 3, 4] {
            assert_eq!(product(threads), one, "{threads} threads");
        }
    }
}
