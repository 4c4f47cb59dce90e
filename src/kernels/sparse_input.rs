//! Sparse inputs: a batch kept as its nonzero values, by rows (compressed sparse rows) and, when
//! asked, by columns too.
//!
//! About 81% of the pixels of an MNIST digit are 0 (the background). When a batch is sparse enough
//! (at most `MAX_DENSITY` of its values nonzero), the network keeps it as a `SparseInput`, and the
//! first layer's products skip its zeros (`sparse_products`); so too a hidden layer's input of
//! relu outputs, most of them 0 once a net has trained a little, summed in `gemm`'s order
//! (`SumOrder`). A batch is kept from a dense one
//! (`SparseInput::fill_if_sparse`, whose search for the nonzero values is a per-type kernel and so
//! sits in `sparse_products`), or straight from a data set of mostly-zero images that keeps their
//! nonzero pixels (`data::nonzero`, through `SparseInput::fill_rows`). The weight gradient reads the
//! batch by columns: `transpose_into` makes them, for a range of columns, by a counting sort.

use std::ops::Range;

use num_traits::Zero;

/// The largest fraction of nonzero values for which the sparse products are used. MNIST's pixels
/// are 19% nonzero; denser inputs (standard scaling makes every pixel nonzero) take the dense
/// products. `cargo bench --bench throughput` times `sparse/100x784x100/*` at 10%, 19% and this
/// limit, beside `gemm/100x784x100`, the dense product of the same shape.
pub const MAX_DENSITY: f64 = 0.3;

/// The order a `SparseInput`'s products sum in, which decides their roundings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SumOrder {
    /// Each output in one chain over the row's values, from the bias: the first layer's order,
    /// which every run since the sparse products began has used.
    Chained,
    /// In `gemm`'s blocks of depth and with its roundings: the same bits as the dense products,
    /// so that whether a hidden layer's input is kept sparse changes no result.
    AsGemm,
}

/// A sparse batch x kept by rows, and by columns when asked to (`keep_columns`); backward otherwise
/// transposes the rows as it goes (`SparseRows::mul_transposed`).
#[derive(Clone, Debug)]
pub struct SparseInput<F> {
    pub(super) rows: SparseRows<F>,
    /// Whether `rows` holds the current batch (it was sparse enough).
    pub(super) active: bool,
    /// The current batch's transpose, when `keep_columns` made it.
    pub(super) columns: SparseRows<F>,
    pub(super) columns_kept: bool,
    pub(super) order: SumOrder,
    /// The largest fraction of nonzero values a batch is kept sparse at.
    pub(super) max_density: f64,
}

impl<F> Default for SparseInput<F> {
    fn default() -> Self {
        Self {
            rows: SparseRows::default(),
            active: false,
            columns: SparseRows::default(),
            columns_kept: false,
            order: SumOrder::Chained,
            max_density: MAX_DENSITY,
        }
    }
}

impl<F: Copy + Zero> SparseInput<F> {
    /// Room for a batch of `rows` x `columns` and its transpose with no zeros, so that no later
    /// fill or `keep_columns` allocates.
    pub fn with_room(rows: usize, columns: usize) -> Self {
        let mut input = Self::default();
        input.rows.reserve(rows, columns);
        input.columns.reserve(columns, rows);
        input
    }

    /// An empty input for products summed in `order`. Its first fill makes room for a batch of
    /// that size with no zeros (`SparseRows::reset`), and its first `keep_columns` for the
    /// transpose, so a layer that never keeps its input sparse costs nothing, and no later batch
    /// of the same size allocates.
    pub fn in_order(order: SumOrder) -> Self {
        Self {
            order,
            ..Self::default()
        }
    }

    /// Forgets the current batch: `rows` is `None` until the next fill.
    pub fn clear(&mut self) {
        self.active = false;
        self.columns_kept = false;
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
    pub(super) columns: usize,
    /// Row r's values are `values[starts[r]..starts[r + 1]]`.
    pub(super) starts: Vec<usize>,
    /// The column of each value.
    pub(super) indices: Vec<u32>,
    pub(super) values: Vec<F>,
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

impl<F: Copy + Zero> SparseRows<F> {
    pub fn rows(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Row r: the columns of its nonzero values, and the values.
    pub(super) fn row(&self, r: usize) -> (&[u32], &[F]) {
        let range = self.starts[r]..self.starts[r + 1];
        (&self.indices[range.clone()], &self.values[range])
    }

    /// Empties the rows for a matrix of `rows` x `columns`, keeping room for every value so that
    /// refilling allocates nothing.
    pub(super) fn reset(&mut self, rows: usize, columns: usize) {
        self.columns = columns;
        self.indices.clear();
        self.values.clear();
        self.starts.clear();
        self.reserve(rows, columns);
        self.starts.push(0);
    }

    /// Makes room for a matrix of `rows` x `columns` with no zeros.
    pub(super) fn reserve(&mut self, rows: usize, columns: usize) {
        // The vector path of `push_nonzeros` writes 8 values at a time, up to 7 past the last.
        self.indices.reserve(rows * columns + 8);
        self.values.reserve(rows * columns + 8);
        self.starts.reserve(rows + 1);
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
            // A fold over every pair, not `all`, which stops early and so does not vectorize.
            let rest = row.get(1..).unwrap_or_default();
            let increasing = row.iter().zip(rest).fold(true, |ok, (a, b)| ok & (a < b));
            assert!(
                increasing && row.last().is_none_or(|&j| (j as usize) < columns),
                "sparse rows: row {r}'s columns do not increase from 0 to below {columns}"
            );
            self.starts.push(self.values.len());
        }
    }

    /// Fills `t` with the transpose of these rows' `columns`: its row j holds column
    /// `columns.start + j`'s values, in row order. `t` keeps room for a transpose of every column.
    pub(super) fn transpose_into(&self, columns: Range<usize>, t: &mut SparseRows<F>) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
