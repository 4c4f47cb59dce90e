//! The AVX-512 block combiner of the sparse products for f32, which `SparseKernel for f32` (in
//! `sparse_products`) takes when the CPU has AVX-512F.
//!
//! The AVX2 combiner reads, for every nonzero value of x, a row of m's block of columns, wherever
//! it lies: a 1024-unit layer's block is 416 KB, in the L2 cache, and its rows, 4 KiB apart, fall
//! in the same few sets of the L1 cache, so every read comes from L2. Here m's block (at most
//! `COLUMNS` wide) is packed, `PANEL_DEPTH` rows at a time, into a panel of consecutive rows that
//! stays in L1, and every row of x takes its values in those rows from it. Rows of x go through
//! the panels `CHUNK_ROWS` at a time, their sums running on from panel to panel through a buffer
//! of partial sums; an x of at most `PANEL_DEPTH` columns (a weight gradient over a batch) has one
//! panel, packed once for all its rows. Each output gets the same fused multiply-adds in the
//! same order as in the other combiners (a chain over the row's values, begun
//! and ended as `Start` says), so the bits are the same.

use std::arch::x86_64::*;
use std::cell::RefCell;

use ndarray::ArrayViewMut2;

use super::element::{Block, Start};
use super::sparse_input::SparseRows;

/// Output columns of a block: four 16-lane vectors of sums per row.
pub const COLUMNS: usize = 64;

/// Rows of m in a panel: 128 rows of 64 columns, 32 KB. Measured on an AMD EPYC with AVX-512
/// (1024 x 1024 m, 25% nonzero x, one thread): 64 and 96 rows were as fast as 128 or slower, and
/// 128 covers a whole weight-gradient product of a batch of 128 in one panel, with no partial sums.
const PANEL_DEPTH: usize = 128;

/// Rows of x taken through all the panels together, their partial sums kept between panels (16 KB).
const CHUNK_ROWS: usize = 64;

/// A thread's buffers: in thread-local storage made with the thread, so that no call allocates.
#[repr(align(64))]
struct Buffers {
    /// `PANEL_DEPTH` rows of m's block, each a whole number of vectors.
    panel: [f32; PANEL_DEPTH * COLUMNS],
    /// The partial sums of a chunk's rows between panels, a whole number of vectors per row.
    sums: [f32; CHUNK_ROWS * COLUMNS],
    /// Each row's next value of x (an index into x's values).
    next: [usize; CHUNK_ROWS],
}

thread_local! {
    static BUFFERS: RefCell<Buffers> = const {
        RefCell::new(Buffers {
            panel: [0.0; PANEL_DEPTH * COLUMNS],
            sums: [0.0; CHUNK_ROWS * COLUMNS],
            next: [0; CHUNK_ROWS],
        })
    };
}

/// Dispatches on the number of 16-lane vectors the block needs, so that each count gets its own
/// fully unrolled loop with the sums in registers.
///
/// # Safety
/// The CPU must have AVX-512F; out has at most `COLUMNS` columns and rows `first..` of x; for
/// every index j of x, block.m[j·stride .. j·stride + out.ncols()] exists; a `Start::Chain`'s
/// values, when given, are out.ncols(); a `Start::Blocked`'s depth is not 0.
#[target_feature(enable = "avx512f")]
pub unsafe fn combine_block(x: &SparseRows<f32>, first: usize, block: Block<f32>, out: ArrayViewMut2<f32>) {
    debug_assert!(out.ncols() <= COLUMNS);
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        match out.ncols().div_ceil(16) {
            0 => {}
            1 => vectors::<1>(x, first, block, out),
            2 => vectors::<2>(x, first, block, out),
            3 => vectors::<3>(x, first, block, out),
            _ => vectors::<4>(x, first, block, out),
        }
    }
}

/// `combine` on this thread's buffers.
///
/// # Safety
/// As `combine_block`, with out.ncols() in (16·(V-1), 16·V].
#[target_feature(enable = "avx512f")]
unsafe fn vectors<const V: usize>(x: &SparseRows<f32>, first: usize, block: Block<f32>, out: ArrayViewMut2<f32>) {
    // SAFETY: forwarded from the caller's contract.
    BUFFERS.with_borrow_mut(|buffers| unsafe { combine::<V>(x, first, block, out, buffers) });
}

/// V accumulators of 16 lanes per output row; the last vector's lanes past out.ncols() are masked
/// off when reading m, the start values and out, and when writing out. The buffers are written
/// before they are read.
///
/// # Safety
/// As `combine_block`, with out.ncols() in (16·(V-1), 16·V].
#[target_feature(enable = "avx512f")]
unsafe fn combine<const V: usize>(
    x: &SparseRows<f32>,
    first: usize,
    block: Block<f32>,
    mut out: ArrayViewMut2<f32>,
    buffers: &mut Buffers,
) {
    let (rows, width) = out.dim();
    let lanes = 16 * V;
    let last: __mmask16 = (u32::MAX >> (32 - (width - 16 * (V - 1)))) as __mmask16;
    let mask = |q: usize| if q + 1 < V { !0 } else { last };
    // The spans of x's columns over which each output's sum is one chain, and how it ends.
    let (span, spans) = match block.start {
        Start::Chain(_) => (x.columns.max(1), 1),
        Start::Blocked { depth, .. } => (depth, x.columns.div_ceil(depth).max(1)),
    };
    let Buffers { panel, sums, next } = buffers;
    let (panel, sums) = (panel.as_mut_ptr(), sums.as_mut_ptr());
    // The rows of the block the panel holds: packed again only for another range.
    let mut packed = None;
    let (indices, values) = (x.indices.as_ptr(), x.values.as_ptr());
    for chunk in (0..rows).step_by(CHUNK_ROWS) {
        let chunk_rows = chunk..rows.min(chunk + CHUNK_ROWS);
        next[..chunk_rows.len()].copy_from_slice(&x.starts[first + chunk_rows.start..first + chunk_rows.end]);
        for d in 0..spans {
            let (from, to) = (d * span, ((d + 1) * span).min(x.columns));
            let mut k0 = from;
            // At least one panel, so that an x with no columns still stores its start values.
            loop {
                let k1 = (k0 + PANEL_DEPTH).min(to);
                if packed != Some(k0..k1) {
                    for (row, k) in (k0..k1).enumerate() {
                        for q in 0..V {
                            // SAFETY: row k of the block has out.ncols() readable values (caller's
                            // contract), which the mask keeps to; the panel holds PANEL_DEPTH rows.
                            unsafe {
                                let v = _mm512_maskz_loadu_ps(mask(q), block.m.as_ptr().add(k * block.stride + 16 * q));
                                _mm512_storeu_ps(panel.add(row * lanes + 16 * q), v);
                            }
                        }
                    }
                    packed = Some(k0..k1);
                }
                for (i, r) in chunk_rows.clone().enumerate() {
                    // SAFETY: row i's sums are V whole vectors of the buffer, written by the panel
                    // before (k0 > from) when read.
                    let row_sums = unsafe { sums.add(i * lanes) };
                    let mut acc = [_mm512_setzero_ps(); V];
                    if k0 > from {
                        for (q, a) in acc.iter_mut().enumerate() {
                            *a = unsafe { _mm512_loadu_ps(row_sums.add(16 * q)) };
                        }
                    } else if let Start::Chain(Some(init)) = block.start {
                        for (q, a) in acc.iter_mut().enumerate() {
                            // SAFETY: the start values are out.ncols() (caller's contract).
                            *a = unsafe { _mm512_maskz_loadu_ps(mask(q), init.as_ptr().add(16 * q)) };
                        }
                    }
                    let end = x.starts[first + r + 1];
                    let mut at = next[i];
                    // SAFETY: `at` stays within the row's values, whose columns increase; those
                    // in k0..k1 are rows of the panel, row j holding row k0 + j of the block.
                    unsafe {
                        while at < end && (*indices.add(at) as usize) < k1 {
                            let m_row = panel.add((*indices.add(at) as usize - k0) * lanes);
                            let v = _mm512_set1_ps(*values.add(at));
                            for (q, a) in acc.iter_mut().enumerate() {
                                *a = _mm512_fmadd_ps(v, _mm512_loadu_ps(m_row.add(16 * q)), *a);
                            }
                            at += 1;
                        }
                    }
                    next[i] = at;
                    if k1 < to {
                        for (q, a) in acc.iter().enumerate() {
                            // SAFETY: as for the loads of the row's sums.
                            unsafe { _mm512_storeu_ps(row_sums.add(16 * q), *a) };
                        }
                        continue;
                    }
                    let add = match block.start {
                        Start::Chain(_) => false,
                        Start::Blocked { overwrite, .. } => d > 0 || !overwrite,
                    };
                    let mut out_row = out.row_mut(r);
                    let out_row = out_row
                        .as_slice_mut()
                        .expect("sparse product: output rows must be contiguous")
                        .as_mut_ptr();
                    for (q, a) in acc.iter().enumerate() {
                        // SAFETY: the mask keeps to the out.ncols() values of this output row.
                        unsafe {
                            let sum = if add {
                                _mm512_add_ps(*a, _mm512_maskz_loadu_ps(mask(q), out_row.add(16 * q)))
                            } else {
                                *a
                            };
                            _mm512_mask_storeu_ps(out_row.add(16 * q), mask(q), sum);
                        }
                    }
                }
                k0 = k1;
                if k0 >= to {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::kernels::sparse_avx2;
    use crate::kernels::sparse_products::tests::sparse_random;

    /// `sparse_random` in f32.
    fn random(rows: usize, columns: usize, density: f64, rng: &mut ChaCha8Rng) -> Array2<f32> {
        sparse_random(rows, columns, density, rng).mapv(|v| v as f32)
    }

    #[test]
    fn the_avx512_combiner_gives_the_avx2_bits() {
        use std::arch::is_x86_feature_detected as has;
        if !(has!("avx512f") && has!("avx2") && has!("fma")) {
            eprintln!("skipped: this CPU lacks AVX-512F or AVX2 and FMA, so the two cannot be compared");
            return;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let init: Vec<f32> = (0..64).map(|c| c as f32 * 0.25 - 3.0).collect();
        // Depths of none, less than a panel, a panel and a bit, and several panels; one chunk of
        // rows and several (one panel packed once for all, or panels packed for each); every vector
        // count and masked tail of a block; dense and sparse rows, and a row with no nonzero value.
        for (k, density, rows) in [
            (0, 0.2, 37),
            (5, 0.5, 200),
            (130, 0.3, 200),
            (784, 0.19, 37),
            (1024, 0.25, 100),
        ] {
            let mut x = random(rows, k, density, &mut rng);
            x.row_mut(11).fill(0.0);
            let mut sparse = SparseRows::default();
            assert!(sparse.fill_if_sparse(x.view(), 1.0));
            for n in [1, 15, 16, 17, 33, 48, 63, 64] {
                let m = random(k.max(1), n + 5, 1.0, &mut rng);
                let before = random(rows - 3, n, 1.0, &mut rng);
                for start in [
                    Start::Chain(None),
                    Start::Chain(Some(&init[..n])),
                    Start::Blocked {
                        depth: 384,
                        overwrite: false,
                    },
                    Start::Blocked {
                        depth: 100,
                        overwrite: true,
                    },
                ] {
                    let block = Block {
                        m: &m.as_slice().unwrap()[2..],
                        stride: n + 5,
                        start,
                    };
                    let (mut avx2_out, mut avx512_out) = (before.clone(), before.clone());
                    // SAFETY: the CPU has both; rows 3.. of x and n <= 64 columns of m's rows.
                    unsafe {
                        sparse_avx2::combine_block(&sparse, 3, block, avx2_out.view_mut());
                        combine_block(&sparse, 3, block, avx512_out.view_mut());
                    }
                    let same = avx2_out
                        .iter()
                        .zip(&avx512_out)
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "{rows}x{k} at {density} times {k}x{n}");
                }
            }
        }
    }
}
