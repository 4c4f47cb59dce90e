//! The AVX2 code of the sparse kernels for f32, which `SparseKernel for f32` (in
//! `sparse_products`) calls when the CPU has it: the nonzero search (a compare and a permutation
//! per 8 values, no branch per value) and the block combiner (up to 13 vectors of sums held in
//! registers, the last one masked).

use std::arch::x86_64::*;

use ndarray::ArrayViewMut2;

use super::element::{BLOCK, Block, Start};
use super::sparse_input::SparseRows;

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
/// for every index j of x, block.m[j·stride .. j·stride + out.ncols()] exists; a `Start::Chain`'s
/// values, when given, are out.ncols(); a `Start::Blocked`'s depth is not 0.
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
unsafe fn vectors<const V: usize>(x: &SparseRows<f32>, first: usize, block: Block<f32>, mut out: ArrayViewMut2<f32>) {
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
    // acc[q] += v · m[j, 8q ..] for each value v of x at column j, in order.
    let combine = |acc: &mut [__m256; V], indices: &[u32], values: &[f32]| {
        for (&j, &v) in indices.iter().zip(values) {
            // SAFETY: row j of the block is readable (caller's contract).
            let m_row = unsafe { m.add(j as usize * block.stride) };
            let v = _mm256_set1_ps(v);
            for (q, a) in acc.iter_mut().enumerate() {
                *a = _mm256_fmadd_ps(v, load(m_row, q), *a);
            }
        }
    };
    for (r, mut out_row) in out.rows_mut().into_iter().enumerate() {
        let out_row = out_row
            .as_slice_mut()
            .expect("sparse product: output rows must be contiguous")
            .as_mut_ptr();
        let store = |acc: &[__m256; V]| {
            for (q, a) in acc.iter().enumerate() {
                // SAFETY: as for the loads, on the out.ncols() values of this output row.
                unsafe {
                    if q + 1 < V {
                        _mm256_storeu_ps(out_row.add(8 * q), *a);
                    } else {
                        _mm256_maskstore_ps(out_row.add(8 * q), mask, *a);
                    }
                }
            }
        };
        let (indices, values) = x.row(first + r);
        match block.start {
            Start::Chain(init) => {
                let mut acc = [_mm256_setzero_ps(); V];
                if let Some(init) = init {
                    for (q, a) in acc.iter_mut().enumerate() {
                        *a = load(init.as_ptr(), q);
                    }
                }
                combine(&mut acc, indices, values);
                store(&acc);
            }
            Start::Blocked { depth, overwrite } => {
                let mut at = 0;
                for d in 0..x.columns.div_ceil(depth).max(1) {
                    let end = (d + 1) * depth;
                    let count = indices[at..].partition_point(|&j| (j as usize) < end);
                    let mut acc = [_mm256_setzero_ps(); V];
                    combine(&mut acc, &indices[at..at + count], &values[at..at + count]);
                    at += count;
                    if d > 0 || !overwrite {
                        for (q, a) in acc.iter_mut().enumerate() {
                            *a = _mm256_add_ps(*a, load(out_row, q));
                        }
                    }
                    store(&acc);
                }
            }
        }
    }
}
