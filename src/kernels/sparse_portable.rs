//! The sparse kernels in plain Rust, which `SparseKernel` (in `sparse_products`) runs for f64
//! (gradient checks) and for f32 on CPUs without AVX2: the nonzero search and the block combiner.

use ndarray::ArrayViewMut2;

use super::element::{BLOCK, Block, Element, Start};
use super::sparse_input::SparseRows;

/// `push_nonzeros` in plain Rust: eight values at a time, a bit per nonzero value, then one step
/// per set bit, so that zeros cost no branch to mispredict.
pub fn push_nonzeros<F: Element>(row: &[F], indices: &mut Vec<u32>, values: &mut Vec<F>) {
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
pub fn combine_block<F: Element>(x: &SparseRows<F>, first: usize, block: Block<F>, mut out: ArrayViewMut2<F>) {
    // acc[c] += v · m[j, c] for each value v of x at column j, in order (multiplied and added
    // apart, as `gemm`'s plain microkernel does).
    let combine = |acc: &mut [F], indices: &[u32], values: &[F]| {
        for (&j, &v) in indices.iter().zip(values) {
            let m_row = &block.m[j as usize * block.stride..];
            for (a, &w) in acc.iter_mut().zip(m_row) {
                *a += v * w;
            }
        }
    };
    let mut acc = [F::zero(); BLOCK];
    let acc = &mut acc[..out.ncols()];
    for (r, mut out_row) in out.rows_mut().into_iter().enumerate() {
        let (indices, values) = x.row(first + r);
        match block.start {
            Start::Chain(init) => {
                match init {
                    Some(init) => acc.copy_from_slice(init),
                    None => acc.fill(F::zero()),
                }
                combine(acc, indices, values);
                out_row.iter_mut().zip(&*acc).for_each(|(o, &a)| *o = a);
            }
            Start::Blocked { depth, overwrite } => {
                let mut at = 0;
                for d in 0..x.columns.div_ceil(depth).max(1) {
                    let count = indices[at..].partition_point(|&j| (j as usize) < (d + 1) * depth);
                    acc.fill(F::zero());
                    combine(acc, &indices[at..at + count], &values[at..at + count]);
                    at += count;
                    let add = d > 0 || !overwrite;
                    out_row
                        .iter_mut()
                        .zip(&*acc)
                        .for_each(|(o, &a)| *o = if add { a + *o } else { a });
                }
            }
        }
    }
}
