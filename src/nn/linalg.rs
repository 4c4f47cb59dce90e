//! Matrix products for the layers: `C = alpha * A·B + beta * C` on ndarray views.
//!
//! Every product of the network goes through here, so the kernel behind it can change in one place.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

use crate::float::Float;

/// `c = alpha * a·b + beta * c`; a: (m, k), b: (k, n), c: (m, n). Transposed views are fine.
pub fn gemm<F: Float>(alpha: F, a: ArrayView2<F>, b: ArrayView2<F>, beta: F, c: &mut ArrayViewMut2<F>) {
    general_mat_mul(alpha, &a, &b, beta, c);
}
