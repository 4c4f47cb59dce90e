//! The AVX-512 code of `gemm` for f32, which `Kernel for f32` (in `gemm`) takes when the CPU has
//! AVX-512F: the microkernel over a group of consecutive A slivers (G x 6 rows) and one B sliver
//! (16 columns, one 16-lane vector), stored straight from the registers into C.
//!
//! Where two FMA units of 16 lanes run, AVX2's 6 x 16 tile (12 sums of 8 lanes) leaves half of
//! each unit idle; sixteen lanes per row keep them full. Each row's sum is over p in the same
//! order as in the other kernels, so the bits are the same.

use std::arch::x86_64::*;

use super::element::{MAX_TILES, MR, NR};

/// How many consecutive A slivers `group_into` takes at once: 12 rows, one 16-lane sum each.
pub const SLIVERS: usize = MAX_TILES;

/// The sums of the first R rows of the group of `SLIVERS` A slivers starting at `a` (each k·MR
/// values, one after the other) times the B sliver, stored into C: row i at `c + i·rs`, each NR
/// consecutive values, gets alpha · sums + beta · c (c not read when beta is 0), multiplied and
/// added apart as `store_tile` does, so that both give the same bits.
///
/// # Safety
/// The CPU must have AVX-512F; R <= SLIVERS·MR; `a` must hold R.div_ceil(MR)·k·MR values and `b`
/// k·NR; the R rows of NR values at `c + i·rs` must be writable (readable too when beta is not 0)
/// and not in use elsewhere.
#[target_feature(enable = "avx512f")]
pub unsafe fn group_into<const R: usize>(
    k: usize,
    a: *const f32,
    b: *const f32,
    alpha: f32,
    beta: f32,
    c: *mut f32,
    rs: isize,
) {
    const {
        assert!(
            R <= SLIVERS * MR && NR == 16,
            "a group is SLIVERS tiles of one 16-lane vector per row"
        )
    };
    let mut acc = [_mm512_setzero_ps(); R];
    for p in 0..k {
        // SAFETY: p < k, so these reads stay inside the slivers the caller vouched for: row i
        // of the group is row i % MR of sliver i / MR.
        unsafe {
            let bp = _mm512_loadu_ps(b.add(p * NR));
            for (i, sum) in acc.iter_mut().enumerate() {
                let ai = _mm512_set1_ps(*a.add((i / MR) * k * MR + p * MR + i % MR));
                *sum = _mm512_fmadd_ps(ai, bp, *sum);
            }
        }
    }
    let (alpha, scale) = (_mm512_set1_ps(alpha), _mm512_set1_ps(beta));
    for (i, &sum) in acc.iter().enumerate() {
        // SAFETY: the NR values of row i of the tile (caller's contract).
        unsafe {
            let dst = c.offset(i as isize * rs);
            let mut value = _mm512_mul_ps(alpha, sum);
            if beta != 0.0 {
                value = _mm512_add_ps(value, _mm512_mul_ps(scale, _mm512_loadu_ps(dst)));
            }
            _mm512_storeu_ps(dst, value);
        }
    }
}
