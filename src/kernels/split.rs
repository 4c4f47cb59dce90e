//! Cutting work over the threads of the current rayon pool. A product is cut into pieces of its
//! output, each computed whole by one thread: every output element gets the same sums in the same
//! order whatever the thread count, so results are bit-identical for any number of threads.

use ndarray::{ArrayViewMut2, Axis};

use super::element::{MR, NR};

/// `gemm` gives each thread at least this many multiply-adds: a product of 4·10⁶ (the batch-100
/// forward, 100x784·784x100, has 7.8·10⁶) is cut in two, one of 10⁵ (100x100·100x10) is not, since
/// waking a second thread would cost more than it saves. Compare `gemm/100x784x100` with its
/// `1-thread` twin in `cargo bench --bench throughput` to check the choice on a machine.
pub const GEMM_MIN_WORK: usize = 1 << 21;

/// The sparse products give each thread at least this many multiply-adds, as `gemm` does (waking
/// a second thread costs more than a smaller share saves): a batch-100 MNIST forward with 100
/// outputs has 1.5·10⁶.
pub const SPARSE_MIN_WORK: usize = 1 << 19;

/// How many pieces, one per thread, `work` multiply-adds are worth on the current pool when each
/// must get at least `min_work`.
pub fn pieces(work: usize, min_work: usize) -> usize {
    (work / min_work).clamp(1, rayon::current_num_threads())
}

/// Runs `piece(first, rows)` on `parts` pieces of `out`'s rows side by side, `first` being the
/// piece's first row counted from `first_row`.
pub fn in_pieces<F: Send>(
    first_row: usize,
    out: ArrayViewMut2<F>,
    parts: usize,
    piece: &(impl Fn(usize, ArrayViewMut2<F>) + Sync),
) {
    in_pieces_along(Axis(0), 1, first_row, out, parts, piece);
}

/// Runs `piece(first, columns)` on `parts` pieces of `out`'s columns side by side, each cut after
/// a whole number of `granule` columns, `first` being the piece's first column counted from
/// `first_column`.
pub fn in_column_pieces<F: Send>(
    first_column: usize,
    out: ArrayViewMut2<F>,
    parts: usize,
    granule: usize,
    piece: &(impl Fn(usize, ArrayViewMut2<F>) + Sync),
) {
    in_pieces_along(Axis(1), granule, first_column, out, parts, piece);
}

/// `in_pieces` or `in_column_pieces`: `out` cut along `axis` after whole numbers of `granule`.
fn in_pieces_along<F: Send>(
    axis: Axis,
    granule: usize,
    first: usize,
    out: ArrayViewMut2<F>,
    parts: usize,
    piece: &(impl Fn(usize, ArrayViewMut2<F>) + Sync),
) {
    let granules = out.len_of(axis).div_ceil(granule);
    if parts > 1 && granules > 1 {
        let left = parts / 2;
        let cut = granules * left / parts * granule;
        let (before, after) = out.split_at(axis, cut);
        rayon::join(
            || in_pieces_along(axis, granule, first, before, left, piece),
            || in_pieces_along(axis, granule, first + cut, after, parts - left, piece),
        );
    } else {
        piece(first, out);
    }
}

/// Where to cut C (m x n, inner dimension k) so that `left` of `parts` threads take the first piece:
/// the axis and index, on a tile boundary, that minimise the busiest thread's work (tiles times k,
/// plus the packing of the operand every piece repeats). `None` when C is too small to cut.
pub fn best_split(m: usize, n: usize, k: usize, left: usize, parts: usize) -> Option<(Axis, usize)> {
    let (tiles_m, tiles_n) = (m.div_ceil(MR), n.div_ceil(NR));
    let cut = |tiles: usize| (tiles * left + parts / 2) / parts;
    // Per-thread cost of a cut after `first` of `tiles` tiles along one axis, `other` tiles across.
    let cost = |tiles: usize, first: usize, other: usize, repacked: usize| {
        let per_thread = (first as f64 / left as f64).max((tiles - first) as f64 / (parts - left) as f64);
        per_thread * (other * MR * NR * k) as f64 + repacked as f64
    };
    let by_rows = (cut(tiles_m) > 0 && cut(tiles_m) < tiles_m)
        .then(|| (cost(tiles_m, cut(tiles_m), tiles_n, k * n), Axis(0), cut(tiles_m) * MR));
    let by_cols = (cut(tiles_n) > 0 && cut(tiles_n) < tiles_n)
        .then(|| (cost(tiles_n, cut(tiles_n), tiles_m, m * k), Axis(1), cut(tiles_n) * NR));
    [by_rows, by_cols]
        .into_iter()
        .flatten()
        .min_by(|x, y| x.0.total_cmp(&y.0))
        .map(|(_, axis, index)| (axis, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_balance_the_tiles() {
        // 100 x 100 (batch-100 forward): by rows, 9 and 8 tiles of 6 rows.
        assert_eq!(best_split(100, 100, 784, 1, 2), Some((Axis(0), 54)));
        // 128 x 1024: by columns, 32 tiles each.
        assert_eq!(best_split(128, 1024, 1024, 1, 2), Some((Axis(1), 512)));
        assert_eq!(best_split(6, 16, 1000, 1, 2), None);
    }
}
