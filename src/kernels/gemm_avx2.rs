//! The AVX2 and FMA code of `gemm` for f32, which `Kernel for f32` (in `gemm`) calls when the CPU
//! has both: the 6x16 microkernel (12 accumulators of 8 lanes), its store of a tile straight from
//! the registers into C, and the transposing packs (8x8 transposes in registers).

use std::arch::x86_64::*;

use super::element::{MR, NR, Tile};

/// The f32 microkernel: 12 accumulators of 8 lanes hold the 6 x 16 tile; per step of p it
/// loads one row of the B sliver (two vectors), broadcasts the 6 values of A and does 12 FMAs.
///
/// # Safety
/// The CPU must have AVX2 and FMA; `a` must hold `k·MR` and `b` `k·NR` values.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn tile(k: usize, a: *const f32, b: *const f32) -> Tile<f32> {
    // SAFETY: forwarded from the caller's contract.
    let acc = unsafe { sums::<MR>(k, a, b) };
    let mut out = [[0.0f32; NR]; MR];
    for (dst, row) in out.iter_mut().zip(&acc) {
        // SAFETY: each row of `out` holds 16 f32, written as two unaligned 8-lane stores.
        unsafe {
            _mm256_storeu_ps(dst.as_mut_ptr(), row[0]);
            _mm256_storeu_ps(dst.as_mut_ptr().add(8), row[1]);
        }
    }
    out
}

/// The sums of the tile's first R rows stored into C: row i at `c + i·rs`, each NR
/// consecutive values, gets alpha · sums + beta · c (c not read when beta is 0), multiplied
/// and added apart as `store_tile` does, so that both give the same bits.
///
/// # Safety
/// As `tile`, with R <= MR; and the R rows of NR values at `c + i·rs` must be writable
/// (readable too when beta is not 0) and not in use elsewhere.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn tile_into<const R: usize>(
    k: usize,
    a: *const f32,
    b: *const f32,
    alpha: f32,
    beta: f32,
    c: *mut f32,
    rs: isize,
) {
    // SAFETY: forwarded from the caller's contract.
    let acc = unsafe { sums::<R>(k, a, b) };
    let (alpha, scale) = (_mm256_set1_ps(alpha), _mm256_set1_ps(beta));
    for (i, row) in acc.iter().enumerate() {
        for (half, &sum) in row.iter().enumerate() {
            // SAFETY: values 8·half .. 8·half + 8 of row i of the tile (caller's contract).
            unsafe {
                let dst = c.offset(i as isize * rs).add(8 * half);
                let mut value = _mm256_mul_ps(alpha, sum);
                if beta != 0.0 {
                    value = _mm256_add_ps(value, _mm256_mul_ps(scale, _mm256_loadu_ps(dst)));
                }
                _mm256_storeu_ps(dst, value);
            }
        }
    }
}

/// The sums of the first R rows of `tile`, in 2·R registers (12 for a whole tile).
///
/// # Safety
/// As `tile`, with R <= MR.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn sums<const R: usize>(k: usize, a: *const f32, b: *const f32) -> [[__m256; 2]; R] {
    const { assert!(R <= MR, "a tile has MR rows") };
    let mut acc = [[_mm256_setzero_ps(); 2]; R];
    for p in 0..k {
        // SAFETY: p < k, so these reads stay inside the slivers the caller vouched for.
        unsafe {
            let b0 = _mm256_loadu_ps(b.add(p * NR));
            let b1 = _mm256_loadu_ps(b.add(p * NR + 8));
            for (i, row) in acc.iter_mut().enumerate() {
                let ai = _mm256_broadcast_ss(&*a.add(p * MR + i));
                row[0] = _mm256_fmadd_ps(ai, b0, row[0]);
                row[1] = _mm256_fmadd_ps(ai, b1, row[1]);
            }
        }
    }
    acc
}

/// `Kernel::pack_lanes` by 8x8 transposes: eight lanes' next 8 values load as eight vectors,
/// whose transpose gives 8 values of the sliver per store, where a scalar copy moves one. W
/// is 16 (two groups of 8 lanes) or at most 8 (one group, the lanes past W zeros and masked
/// off the stores).
///
/// # Safety
/// The CPU must have AVX2; each lane must hold `depth` values and the sliver depth·W.
#[target_feature(enable = "avx2")]
pub unsafe fn pack_lanes<const W: usize>(lanes: &[*const f32; W], depth: usize, sliver: *mut f32) {
    const { assert!(W == 16 || W <= 8, "lanes come in groups of 8") };
    let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(W as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    let whole = depth / 8 * 8;
    for group in 0..W.div_ceil(8) {
        let first = group * 8;
        for p in (0..whole).step_by(8) {
            // SAFETY: p + 8 <= depth values of each of the group's lanes (caller's contract).
            let rows: [__m256; 8] = std::array::from_fn(|i| {
                lanes
                    .get(first + i)
                    .map_or(_mm256_setzero_ps(), |&lane| unsafe { _mm256_loadu_ps(lane.add(p)) })
            });
            // SAFETY: the CPU has AVX2 (caller's contract).
            for (q, column) in unsafe { transpose8(rows) }.into_iter().enumerate() {
                // SAFETY: depth p + q < depth of the sliver, lanes first .. first + 8 of it (all
                // of them when W is 16; the first W, through the mask, when W <= 8).
                unsafe {
                    let dst = sliver.add((p + q) * W + first);
                    if W == 16 {
                        _mm256_storeu_ps(dst, column);
                    } else {
                        _mm256_maskstore_ps(dst, mask, column);
                    }
                }
            }
        }
    }
    for p in whole..depth {
        for (i, &lane) in lanes.iter().enumerate() {
            // SAFETY: p < depth (caller's contract).
            unsafe { *sliver.add(p * W + i) = *lane.add(p) };
        }
    }
}

/// The transpose of the 8x8 matrix whose rows are `rows`.
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
unsafe fn transpose8(rows: [__m256; 8]) -> [__m256; 8] {
    let [r0, r1, r2, r3, r4, r5, r6, r7] = rows;
    // Interleave pairs of rows, then pairs of pairs: each 128-bit half then holds 4x4 blocks.
    let (t0, t1) = (_mm256_unpacklo_ps(r0, r1), _mm256_unpackhi_ps(r0, r1));
    let (t2, t3) = (_mm256_unpacklo_ps(r2, r3), _mm256_unpackhi_ps(r2, r3));
    let (t4, t5) = (_mm256_unpacklo_ps(r4, r5), _mm256_unpackhi_ps(r4, r5));
    let (t6, t7) = (_mm256_unpacklo_ps(r6, r7), _mm256_unpackhi_ps(r6, r7));
    let (s0, s1) = (_mm256_shuffle_ps::<0x44>(t0, t2), _mm256_shuffle_ps::<0xEE>(t0, t2));
    let (s2, s3) = (_mm256_shuffle_ps::<0x44>(t1, t3), _mm256_shuffle_ps::<0xEE>(t1, t3));
    let (s4, s5) = (_mm256_shuffle_ps::<0x44>(t4, t6), _mm256_shuffle_ps::<0xEE>(t4, t6));
    let (s6, s7) = (_mm256_shuffle_ps::<0x44>(t5, t7), _mm256_shuffle_ps::<0xEE>(t5, t7));
    // Swap the 128-bit halves across the two groups of four rows.
    [
        _mm256_permute2f128_ps::<0x20>(s0, s4),
        _mm256_permute2f128_ps::<0x20>(s1, s5),
        _mm256_permute2f128_ps::<0x20>(s2, s6),
        _mm256_permute2f128_ps::<0x20>(s3, s7),
        _mm256_permute2f128_ps::<0x31>(s0, s4),
        _mm256_permute2f128_ps::<0x31>(s1, s5),
        _mm256_permute2f128_ps::<0x31>(s2, s6),
        _mm256_permute2f128_ps::<0x31>(s3, s7),
    ]
}
