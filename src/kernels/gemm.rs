//! Matrix products for the layers: `C = alpha·A·B + beta·C` on ndarray views of any strides.
//!
//! Every dense product of the network goes through `gemm` (the first layer of a mostly-zero batch
//! takes `sparse_products` instead). It is a blocked multiply in the BLIS layout:
//!
//! ```text
//! for each NC-wide panel of columns of B and C:
//!   for each KC-deep slice of the inner dimension:
//!     for each MC-tall block of rows of A and C:
//!       pack A[mc, kc] into MR-tall slivers (column p of a sliver: MR consecutive values)
//!       for each NR-wide sliver of B[kc, nc] (row p of a sliver: NR consecutive values of B's row p):
//!         pack it, in the first block only (it is then still in L1 for its tiles; with a single
//!         block, every sliver goes to the same slot, which stays there)
//!         for each MR x NR tile of C: the microkernel sums Σ_p a[:, p] ⊗ b[p, :] in registers
//! ```
//!
//! Packing copies each operand once per block into the order the microkernel reads, so A·B, Aᵀ·B
//! and A·Bᵀ (dW = xᵀ·dz, dx = dz·Wᵀ) run at the same speed whatever the strides; slivers are padded
//! with zeros, so the microkernel always computes a whole tile and only the valid part is stored.
//! A whole tile in row-major C is stored by the microkernel itself, straight from its registers.
//!
//! Threads: a large enough product is cut into one part of C per thread of the current rayon pool,
//! along rows or columns (whichever balances the tiles better), and each part is computed whole by
//! one thread. Each element of C thus gets the same sums in the same order whatever the thread count,
//! so results are bit-identical for any number of threads. Packing buffers are per thread and sized
//! once for the largest block, so after a thread's first product, products allocate nothing.

use std::cell::RefCell;

use ndarray::{ArrayView2, ArrayViewMut2, Axis, s};

use super::cache;
use super::element::{Buffers, Element, Kernel, MAX_TILES, MR, NR, Tile, pack_lanes_portable};
#[cfg(target_arch = "x86_64")]
use super::gemm_avx2 as avx2;
#[cfg(target_arch = "x86_64")]
use super::gemm_avx512 as avx512;
use super::split::{GEMM_MIN_WORK, best_split, pieces};

/// Depth of a packed block. For k = 1024 (3 blocks of 342), a B sliver (22 KB) and an A sliver
/// (8 KB) fill the 32 KB L1 cache, and C is loaded and stored 3 times instead of 4 with 256: the
/// 128x1024x1024 products measured faster (best of 200 calls, 4 alternating rounds), 512 no better.
const KC: usize = 384;
/// Rows of a packed A block (MC x KC f32, 198 KB): stays in the L2 cache. 132 = 22 x 6 takes a
/// batch of 128 in one block, so each B sliver is packed right before all its tiles.
const MC: usize = 132;
/// Columns of a packed B panel (KC x NC f32, 1.5 MB), packed one NR-wide sliver at a time.
const NC: usize = 1024;

/// Sizes this thread's packing buffers for `F` now, so that no later product on it allocates.
pub fn prepare_thread<F: Element>() {
    F::with_buffers(|buffers| {
        buffers.sized();
    });
}

impl<F: Element> Buffers<F> {
    /// Grows both buffers to the largest block on first use; later calls find them sized.
    fn sized(&mut self) -> (&mut [F], &mut [F]) {
        if self.a.len() < MC * KC {
            self.a = vec![F::zero(); MC * KC];
            self.b = vec![F::zero(); KC * NC];
        }
        (&mut self.a, &mut self.b)
    }
}

thread_local! {
    static BUFFERS_F32: RefCell<Buffers<f32>> = RefCell::default();
    static BUFFERS_F64: RefCell<Buffers<f64>> = RefCell::default();
}

impl Kernel for f32 {
    fn tile(k: usize, a: &[f32], b: &[f32]) -> Tile<f32> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            assert!(a.len() >= k * MR && b.len() >= k * NR, "packed slivers shorter than k");
            // SAFETY: the CPU has AVX2 and FMA (checked above) and the slivers hold k rows (asserted).
            return unsafe { avx2::tile(k, a.as_ptr(), b.as_ptr()) };
        }
        tile_portable(k, a, b)
    }

    fn with_buffers<R>(f: impl FnOnce(&mut Buffers<f32>) -> R) -> R {
        BUFFERS_F32.with(|b| f(&mut b.borrow_mut()))
    }

    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    fn tiles_into(
        k: usize,
        a: &[f32],
        b: &[f32],
        alpha: f32,
        beta: f32,
        c: &mut ArrayViewMut2<f32>,
        at: [usize; 2],
    ) -> usize {
        let [i0, j0] = at;
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && c.strides()[1] == 1
            && i0 < c.nrows()
            && j0 + NR <= c.ncols()
        {
            assert!(a.len() >= k * MR && b.len() >= k * NR, "packed slivers shorter than k");
            let (rs, rows) = (c.strides()[0], c.nrows() - i0);
            let (a, slivers, b) = (a.as_ptr(), a.len() / (k * MR), b.as_ptr());
            // SAFETY: the slivers hold k rows each (checked above); the rows i0 .. i0 + R of c
            // (R the rows of the tiles done, or the rows left when fewer) each hold columns
            // j0 .. j0 + NR side by side (checked above), elements of the view c, which this
            // function borrows mutably.
            unsafe {
                let c = c.as_mut_ptr().offset(i0 as isize * rs + j0 as isize);
                // Whole groups where the CPU has AVX-512 (the last one may end in c's bottom
                // rows); a group's second sliver needs rows past the first tile.
                if std::arch::is_x86_feature_detected!("avx512f") && slivers >= avx512::SLIVERS && rows > MR {
                    match rows {
                        7 => avx512::group_into::<7>(k, a, b, alpha, beta, c, rs),
                        8 => avx512::group_into::<8>(k, a, b, alpha, beta, c, rs),
                        9 => avx512::group_into::<9>(k, a, b, alpha, beta, c, rs),
                        10 => avx512::group_into::<10>(k, a, b, alpha, beta, c, rs),
                        11 => avx512::group_into::<11>(k, a, b, alpha, beta, c, rs),
                        _ => avx512::group_into::<{ avx512::SLIVERS * MR }>(k, a, b, alpha, beta, c, rs),
                    }
                    return avx512::SLIVERS;
                }
                // The bottom tile of a C whose rows are not a multiple of MR (128 = 21 x 6 + 2)
                // computes only its rows.
                match rows {
                    1 => avx2::tile_into::<1>(k, a, b, alpha, beta, c, rs),
                    2 => avx2::tile_into::<2>(k, a, b, alpha, beta, c, rs),
                    3 => avx2::tile_into::<3>(k, a, b, alpha, beta, c, rs),
                    4 => avx2::tile_into::<4>(k, a, b, alpha, beta, c, rs),
                    5 => avx2::tile_into::<5>(k, a, b, alpha, beta, c, rs),
                    _ => avx2::tile_into::<MR>(k, a, b, alpha, beta, c, rs),
                }
            }
            return 1;
        }
        0
    }

    fn pack_lanes<const W: usize>(lanes: &[&[f32]; W], sliver: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            let depth = sliver.len() / W;
            assert!(
                lanes.iter().all(|lane| lane.len() >= depth),
                "a lane shorter than the sliver"
            );
            let pointers = lanes.map(<[f32]>::as_ptr);
            // SAFETY: the CPU has AVX2 (checked above), every lane holds `depth` values (asserted)
            // and the sliver depth·W.
            unsafe { avx2::pack_lanes(&pointers, depth, sliver.as_mut_ptr()) };
            return;
        }
        pack_lanes_portable::<Self, W>(lanes, sliver);
    }
}

impl Kernel for f64 {
    fn tile(k: usize, a: &[f64], b: &[f64]) -> Tile<f64> {
        tile_portable(k, a, b)
    }

    fn with_buffers<R>(f: impl FnOnce(&mut Buffers<f64>) -> R) -> R {
        BUFFERS_F64.with(|b| f(&mut b.borrow_mut()))
    }
}

/// The microkernel in plain Rust, for f64 (gradient checks) and CPUs without AVX2.
fn tile_portable<F: Element>(k: usize, a: &[F], b: &[F]) -> Tile<F> {
    let mut acc = [[F::zero(); NR]; MR];
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)).take(k) {
        for (row, &ai) in acc.iter_mut().zip(ap) {
            for (c, &bj) in row.iter_mut().zip(bp) {
                *c += ai * bj;
            }
        }
    }
    acc
}

/// `c = alpha * a·b + beta * c`; a: (m, k), b: (k, n), c: (m, n). Transposed views are fine.
/// With `beta` zero, `c` is overwritten without being read.
pub fn gemm<F: Element>(alpha: F, a: ArrayView2<F>, b: ArrayView2<F>, beta: F, c: &mut ArrayViewMut2<F>) {
    let (m, k) = a.dim();
    let n = b.ncols();
    assert_eq!(b.nrows(), k, "gemm: a is {m}x{k} but b has {} rows", b.nrows());
    assert_eq!(c.dim(), (m, n), "gemm: a·b is {m}x{n} but c is {:?}", c.dim());
    let parts = pieces(m * n * k, GEMM_MIN_WORK);
    gemm_parts(alpha, a, b, beta, c.view_mut(), parts);
}

/// Splits the product into `parts` pieces of C, one per thread, computed side by side.
fn gemm_parts<F: Element>(alpha: F, a: ArrayView2<F>, b: ArrayView2<F>, beta: F, c: ArrayViewMut2<F>, parts: usize) {
    let (m, n) = c.dim();
    let k = a.ncols();
    let left = parts / 2;
    let split = if parts < 2 {
        None
    } else {
        best_split(m, n, k, left, parts)
    };
    match split {
        None => gemm_serial(alpha, a, b, beta, c),
        Some((Axis(0), rows)) => {
            let (a_top, a_bottom) = a.split_at(Axis(0), rows);
            let (c_top, c_bottom) = c.split_at(Axis(0), rows);
            rayon::join(
                || gemm_parts(alpha, a_top, b, beta, c_top, left),
                || gemm_parts(alpha, a_bottom, b, beta, c_bottom, parts - left),
            );
        }
        Some((_, cols)) => {
            let (b_left, b_right) = b.split_at(Axis(1), cols);
            let (c_left, c_right) = c.split_at(Axis(1), cols);
            rayon::join(
                || gemm_parts(alpha, a, b_left, beta, c_left, left),
                || gemm_parts(alpha, a, b_right, beta, c_right, parts - left),
            );
        }
    }
}

/// The whole product on this thread.
fn gemm_serial<F: Element>(alpha: F, a: ArrayView2<F>, b: ArrayView2<F>, beta: F, mut c: ArrayViewMut2<F>) {
    let (m, n) = c.dim();
    let k = a.ncols();
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c.mapv_inplace(|v| if beta == F::zero() { F::zero() } else { beta * v });
        return;
    }
    // Even blocks: 784 = 3 x 262 rather than 2 x 384 + 16, whose thin last block costs a full pass.
    let (nc_step, kc_step, mc_step) = (even_step(n, NC, NR), depth_step(k), even_step(m, MC, MR));
    F::with_buffers(|buffers| {
        let (packed_a, packed_b) = buffers.sized();
        for j0 in (0..n).step_by(nc_step) {
            let nc = nc_step.min(n - j0);
            for p0 in (0..k).step_by(kc_step) {
                let kc = kc_step.min(k - p0);
                // The first slice of k scales the old C by beta; later ones add to it.
                let beta = if p0 == 0 { beta } else { F::one() };
                // B's block (kc x nc) packs as its transpose: nc lanes of depth kc, NR lanes a sliver.
                let b_block = b.slice(s![p0..p0 + kc, j0..j0 + nc]).reversed_axes();
                for (first_block, i0) in (0..m).step_by(mc_step).map(|i0| (i0 == 0, i0)) {
                    let mc = mc_step.min(m - i0);
                    pack::<F, MR>(a.slice(s![i0..i0 + mc, p0..p0 + kc]), packed_a);
                    for t in 0..nc.div_ceil(NR) {
                        // With one block of A each sliver is used once, so all share one slot that
                        // stays in L1; with more, each keeps its own for the later blocks.
                        let slot = if mc == m { 0 } else { t };
                        let b_sliver = &mut packed_b[slot * kc * NR..(slot + 1) * kc * NR];
                        if first_block {
                            // Packed just before its first tiles, the sliver is still in L1 for them;
                            // packing the whole panel first would leave it in L3 when m is small.
                            pack::<F, NR>(b_block.slice(s![t * NR..(t * NR + NR).min(nc), ..]), b_sliver);
                        }
                        let b_sliver = &*b_sliver;
                        let slivers = &packed_a[..mc.div_ceil(MR) * kc * MR];
                        let (mut s, mut prefetched) = (0, i0);
                        while s * kc * MR < slivers.len() {
                            let (i, j) = (i0 + s * MR, j0 + t * NR);
                            // The rows of as many tiles as a kernel may do at once, each row once.
                            prefetch_rows(&c, prefetched.max(i)..i + MAX_TILES * MR, j);
                            prefetched = i + MAX_TILES * MR;
                            let rest = &slivers[s * kc * MR..];
                            match F::tiles_into(kc, rest, b_sliver, alpha, beta, &mut c, [i, j]) {
                                0 => {
                                    let sums = F::tile(kc, rest, b_sliver);
                                    store_tile(&sums, alpha, beta, &mut c, i, j);
                                    s += 1;
                                }
                                done => s += done,
                            }
                        }
                    }
                }
            }
        }
    });
}

/// The depth of the blocks a product with inner dimension `k` sums in: each element of C is the sum
/// of one chain per block, added up in order (the sparse products that give the same bits take it
/// from here).
pub(super) fn depth_step(k: usize) -> usize {
    even_step(k, KC, 1)
}

/// The step that cuts `len` into the fewest blocks of at most `max`, of equal size rounded up to a
/// multiple of `unit`.
fn even_step(len: usize, max: usize, unit: usize) -> usize {
    let blocks = len.div_ceil(max);
    len.div_ceil(blocks).next_multiple_of(unit).min(max)
}

/// Copies `block` (lanes, depth) into W-lane slivers, depth-major: lane i of sliver s at depth p goes
/// to `s·depth·W + p·W + i`; the lanes past the last are zeros. A's blocks pack as they are (lanes
/// are rows), B's as their transpose (lanes are columns).
fn pack<F: Element, const W: usize>(block: ArrayView2<F>, packed: &mut [F]) {
    let (lanes, depth) = block.dim();
    for (s, sliver) in packed.chunks_exact_mut(depth * W).take(lanes.div_ceil(W)).enumerate() {
        let group = block.slice(s![s * W..(s * W + W).min(lanes), ..]);
        let used = group.nrows();
        if group.strides()[0] == 1 && depth > 1 {
            // The lanes lie side by side in memory (a transposed view): copy a depth at a time.
            let (origin, stride) = (group.as_ptr(), group.strides()[1]);
            for (p, dst) in sliver.chunks_exact_mut(W).enumerate() {
                // SAFETY: p < depth and the `used` lanes are consecutive, so these are elements
                // (0..used, p) of the view `group`, which borrows them.
                let values = unsafe { std::slice::from_raw_parts(origin.offset(p as isize * stride), used) };
                // A whole sliver's depth copies as one array: a few vector moves, not a memcpy call.
                match (<&mut [F; W]>::try_from(&mut *dst), <&[F; W]>::try_from(values)) {
                    (Ok(dst), Ok(values)) => *dst = *values,
                    _ => dst[..used].copy_from_slice(values),
                }
            }
        } else if let Some(rows) = lane_slices::<F, W>(group) {
            // Each lane is contiguous (A row-major, or the B of A·Bᵀ): a transpose.
            if used == W {
                F::pack_lanes(&rows, sliver);
            } else {
                pack_lanes_portable::<F, W>(&rows[..used], sliver);
            }
        } else {
            for (i, lane) in group.rows().into_iter().enumerate() {
                for (dst, &v) in sliver[i..].iter_mut().step_by(W).zip(lane.iter()) {
                    *dst = v;
                }
            }
        }
        if used < W {
            for dst in sliver.chunks_exact_mut(W) {
                dst[used..].fill(F::zero());
            }
        }
    }
}

/// The (at most W) lanes of `group` as slices, or `None` when one is not contiguous.
fn lane_slices<F: Element, const W: usize>(group: ArrayView2<'_, F>) -> Option<[&[F]; W]> {
    let mut slices: [&[F]; W] = [&[]; W];
    for (slot, lane) in slices.iter_mut().zip(group.into_outer_iter()) {
        *slot = lane.to_slice()?;
    }
    Some(slices)
}

/// Asks for rows `rows` of C's tile column at j0 to be brought into the cache while the microkernel
/// computes: in a large C each tile row is a cache miss, which would otherwise stall the store.
fn prefetch_rows<F: Element>(c: &ArrayViewMut2<F>, rows: std::ops::Range<usize>, j0: usize) {
    let (rs, cs) = (c.strides()[0], c.strides()[1]);
    let last = (NR.min(c.ncols() - j0) - 1) as isize * cs;
    for i in rows.start..rows.end.min(c.nrows()) {
        let first = i as isize * rs + j0 as isize * cs;
        // (i, j0) and (i, j0 + cols - 1): the first and last line of the tile's row.
        for offset in [first, first + last] {
            cache::prefetch(c.as_ptr().wrapping_offset(offset));
        }
    }
}

/// c[i0.., j0..] = alpha · sums + beta · c over the part of the tile inside c (which may be all of
/// it); with beta zero, c is not read.
fn store_tile<F: Element>(sums: &Tile<F>, alpha: F, beta: F, c: &mut ArrayViewMut2<F>, i0: usize, j0: usize) {
    let (m, n) = c.dim();
    let (rows, cols) = (MR.min(m - i0), NR.min(n - j0));
    let (rs, cs) = (c.strides()[0], c.strides()[1]);
    let origin = c.as_mut_ptr();
    if cs == 1 && cols == NR {
        // A whole row of the tile is NR consecutive values: a fixed-length loop that vectorizes.
        for (i, src) in sums.iter().enumerate().take(rows) {
            // SAFETY: row i0 + i < m holds columns j0 .. j0 + NR (cols == NR) side by side (cs == 1),
            // elements of the view c, which this function borrows mutably.
            let row = unsafe { &mut *origin.offset((i0 + i) as isize * rs + j0 as isize).cast::<[F; NR]>() };
            if beta == F::zero() {
                for (d, &sum) in row.iter_mut().zip(src) {
                    *d = alpha * sum;
                }
            } else {
                for (d, &sum) in row.iter_mut().zip(src) {
                    *d = alpha * sum + beta * *d;
                }
            }
        }
        return;
    }
    for (i, src) in sums.iter().enumerate().take(rows) {
        for (j, &sum) in src.iter().enumerate().take(cols) {
            // SAFETY: i0 + i < m and j0 + j < n, so the offset addresses an element of the view c,
            // which this function borrows mutably; no slicing per tile, which cost more than the store.
            let d = unsafe { &mut *origin.offset((i0 + i) as isize * rs + (j0 + j) as isize * cs) };
            *d = if beta == F::zero() {
                alpha * sum
            } else {
                alpha * sum + beta * *d
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, ShapeBuilder};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    use super::*;

    fn random(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Array2<f64> {
        Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(rng))
    }

    /// The textbook triple loop, in f64: the reference every shape is checked against.
    fn naive(alpha: f64, a: ArrayView2<f64>, b: ArrayView2<f64>, beta: f64, c: &Array2<f64>) -> Array2<f64> {
        Array2::from_shape_fn(c.dim(), |(i, j)| {
            let sum: f64 = (0..a.ncols()).map(|p| a[(i, p)] * b[(p, j)]).sum();
            alpha * sum + beta * c[(i, j)]
        })
    }

    #[test]
    fn matches_the_triple_loop_on_edge_shapes_and_strides() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        // Shapes straddling every block size: tiles (6, 16), KC 384, MC 132, NC 1024.
        let shapes = [
            (1, 1, 1),
            (5, 17, 3),
            (7, 15, 385),
            (133, 33, 300),
            (13, 1030, 20),
            (100, 100, 784),
        ];
        for &(m, n, k) in &shapes {
            for (alpha, beta) in [(1.0, 0.0), (1.0, 1.0), (-0.5, 2.0)] {
                let a = random(m, k, &mut rng);
                let b_t = random(n, k, &mut rng);
                let c0 = random(m, n, &mut rng);
                // b as a transposed view (column-major), c as a column-major array.
                let b = b_t.t();
                let expected = naive(alpha, a.view(), b, beta, &c0);
                let mut c = Array2::zeros((m, n).f());
                c.assign(&c0);
                gemm(alpha, a.view(), b, beta, &mut c.view_mut());
                let worst = (&c - &expected).iter().fold(0.0f64, |w, d| w.max(d.abs()));
                assert!(
                    worst < 1e-10 * k as f64,
                    "{m}x{n}x{k} alpha {alpha} beta {beta}: off by {worst}"
                );
            }
        }
    }

    #[test]
    fn f32_agrees_with_f64_and_reversed_and_transposed_views_work() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        // Depths 300 and 44 past a multiple of 8 leave the transposing pack a remainder.
        for (m, n, k) in [(37, 45, 300), (13, 40, 44)] {
            let a = random(m, k, &mut rng);
            let b_t = random(n, k, &mut rng);
            // A reversed (row-major lanes, negative stride), B as the transpose of a row-major
            // matrix (the dx = dz·Wᵀ shape): both pack through `Kernel::pack_lanes`.
            let (a_rev, b) = (a.slice(s![..;-1, ..]), b_t.t());
            let expected = naive(1.0, a_rev, b, 0.0, &Array2::zeros((m, n)));
            let (a32, b32_t) = (a_rev.mapv(|v| v as f32), b_t.mapv(|v| v as f32));
            let mut c = Array2::<f32>::from_elem((m, n), f32::NAN);
            gemm(1.0, a32.view(), b32_t.t(), 0.0, &mut c.view_mut());
            let worst = (&c.mapv(f64::from) - &expected)
                .iter()
                .fold(0.0f64, |w, d| w.max(d.abs()));
            assert!(worst < 1e-3, "{m}x{n}x{k}: f32 off by {worst}");
        }
    }

    #[test]
    fn the_transposing_pack_matches_the_plain_loop() {
        let mut rng = ChaCha8Rng::seed_from_u64(10);
        let rows = random(NR, 45, &mut rng).mapv(|v| v as f32);
        let lanes: [&[f32]; NR] = std::array::from_fn(|i| rows.row(i).to_slice().unwrap());
        let (mut fast, mut plain) = (vec![0.0; 45 * NR], vec![0.0; 45 * NR]);
        f32::pack_lanes(&lanes, &mut fast);
        pack_lanes_portable::<f32, NR>(&lanes, &mut plain);
        assert_eq!(fast, plain);
        let six: [&[f32]; MR] = std::array::from_fn(|i| lanes[i]);
        let (mut fast, mut plain) = (vec![-1.0; 45 * MR], vec![-1.0; 45 * MR]);
        f32::pack_lanes(&six, &mut fast);
        pack_lanes_portable::<f32, MR>(&six, &mut plain);
        assert_eq!(fast, plain);
    }

    #[test]
    fn tiles_stored_from_registers_get_the_bits_of_store_tile() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let k = 37;
        // Three slivers one after the other, as the packed A block holds them.
        let a: Vec<f32> = random(3 * k, MR, &mut rng).iter().map(|&v| v as f32).collect();
        let b: Vec<f32> = random(k, NR, &mut rng).iter().map(|&v| v as f32).collect();
        let c0 = random(22, 20, &mut rng).mapv(|v| v as f32);
        for (alpha, beta) in [(1.0, 0.0), (1.0, 1.0), (-0.5, 2.0)] {
            // Whole tiles with 20 and 13 rows of c left (a group of two, where the CPU takes
            // them), 10 rows (a group ending in c's bottom rows), and bottom tiles with 6, 3
            // and 1 rows left; each with three slivers at hand and with one.
            for [i0, j0] in [[2, 3], [9, 0], [12, 4], [16, 1], [19, 2], [21, 0]] {
                for slivers in [3, 1] {
                    let a = &a[..slivers * k * MR];
                    let (mut fused, mut stored) = (c0.clone(), c0.clone());
                    let done = f32::tiles_into(k, a, &b, alpha, beta, &mut fused.view_mut(), [i0, j0]);
                    assert!(done <= slivers, "{done} tiles from {slivers} slivers");
                    for d in (0..done).filter(|d| i0 + d * MR < c0.nrows()) {
                        let sums = f32::tile(k, &a[d * k * MR..], &b);
                        store_tile(&sums, alpha, beta, &mut stored.view_mut(), i0 + d * MR, j0);
                    }
                    // A kernel that declines (done 0) must leave c as it was.
                    assert_eq!(fused, stored, "alpha {alpha} beta {beta} at {i0}, {j0}, {done} tiles");
                }
            }
            // A tile past c's right edge, or in a column-major c, is declined and c left alone.
            let mut edge = c0.clone();
            assert_eq!(f32::tiles_into(k, &a, &b, alpha, beta, &mut edge.view_mut(), [0, 5]), 0);
            let mut column_major = Array2::<f32>::zeros((22, 20).f());
            assert_eq!(
                f32::tiles_into(k, &a, &b, alpha, beta, &mut column_major.view_mut(), [0, 0]),
                0
            );
            assert_eq!(edge, c0);
        }
    }

    #[test]
    fn results_are_bit_identical_for_any_thread_count() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let (m, n, k) = (130, 150, 700);
        let a = random(m, k, &mut rng).mapv(|v| v as f32);
        let b = random(k, n, &mut rng).mapv(|v| v as f32);
        let product = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut c = Array2::<f32>::zeros((m, n));
            pool.install(|| gemm(1.0, a.view(), b.view(), 0.0, &mut c.view_mut()));
            c
        };
        let one = product(1);
        for threads in [2, 3, 4] {
            assert_eq!(product(threads), one, "{threads} threads");
        }
    }
}
