//! The dense (fully connected) layer: forward and backward side by side.
//!
//! Batch-major: x (batch, in), W (in, out), b (out), z (batch, out).
//!
//! ```text
//! forward:   z  = x·W + b
//! backward:  dW = xᵀ·dz      db = Σ_batch dz      dx = dz·Wᵀ
//! ```

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis};

use crate::float::Float;
use crate::kernels::{SparseInput, gemm};

/// What a layer reads: its input batch, or the same values kept as sparse rows and columns (the
/// first layer of a batch of mostly zeros; see `kernels::sparse_input`).
#[derive(Clone, Copy, Debug)]
pub enum Input<'a, F> {
    Dense(ArrayView2<'a, F>),
    Sparse(&'a SparseInput<F>),
}

impl<'a, F: Float> Input<'a, F> {
    /// A dense batch x (rows, inputs) as the first layer computes it fastest: its nonzero values,
    /// kept in `sparse`, when at most `kernels::MAX_DENSITY` of them are nonzero; else x as it is. Batches
    /// reach this through `batch::Batch`, the one place that decides.
    pub fn choose(x: ArrayView2<'a, F>, sparse: &'a mut SparseInput<F>) -> Self {
        if sparse.fill_if_sparse(x) {
            Input::Sparse(sparse)
        } else {
            Input::Dense(x)
        }
    }

    /// Rows of the batch.
    pub fn rows(&self) -> usize {
        match self {
            Input::Dense(x) => x.nrows(),
            Input::Sparse(x) => x.rows().map_or(0, |rows| rows.rows()),
        }
    }
}

impl<'a, F> Input<'a, F> {
    /// The same input for a shorter lifetime (array views are invariant in theirs), so that it can
    /// share a variable with inputs borrowed for one layer.
    pub fn reborrow<'b>(self) -> Input<'b, F>
    where
        'a: 'b,
    {
        match self {
            Input::Dense(x) => Input::Dense(x.reborrow()),
            Input::Sparse(x) => Input::Sparse(x),
        }
    }
}

impl<'a, F> From<ArrayView2<'a, F>> for Input<'a, F> {
    fn from(x: ArrayView2<'a, F>) -> Self {
        Self::Dense(x)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Dense<F> {
    /// (in, out): column j holds the weights into output unit j.
    pub weight: Array2<F>,
    /// (out)
    pub bias: Array1<F>,
}

impl<F: Float> Dense<F> {
    pub fn zeros(inputs: usize, outputs: usize) -> Self {
        Self {
            weight: Array2::zeros((inputs, outputs)),
            bias: Array1::zeros(outputs),
        }
    }

    pub fn inputs(&self) -> usize {
        self.weight.nrows()
    }

    pub fn outputs(&self) -> usize {
        self.weight.ncols()
    }

    /// z = x·W + b; x: (batch, in), z: (batch, out), overwritten.
    pub fn forward<'a>(&self, x: impl Into<Input<'a, F>>, mut z: ArrayViewMut2<F>) {
        match x.into() {
            Input::Dense(x) => {
                z.assign(&self.bias);
                gemm(F::one(), x, self.weight.view(), F::one(), &mut z);
            }
            Input::Sparse(x) => {
                let bias = self.bias.as_slice().expect("biases are contiguous");
                x.mul(self.weight.view(), bias, z);
            }
        }
    }

    /// Given the layer's input x (batch, in) and dz = dL/dz (batch, out), overwrites
    /// dweight (in, out) with xᵀ·dz, dbias (out) with the column sums of dz and, when asked,
    /// dx (batch, in) with dz·Wᵀ.
    pub fn backward<'a>(
        &self,
        x: impl Into<Input<'a, F>>,
        dz: ArrayView2<F>,
        mut dweight: ArrayViewMut2<F>,
        mut dbias: ArrayViewMut1<F>,
        dx: Option<ArrayViewMut2<F>>,
    ) {
        match x.into() {
            Input::Dense(x) => gemm(F::one(), x.t(), dz, F::zero(), &mut dweight),
            Input::Sparse(x) => x.mul_transposed(dz, dweight.view_mut()),
        }
        dbias.fill(F::zero());
        for row in dz.axis_iter(Axis(0)) {
            dbias += &row;
        }
        if let Some(mut dx) = dx {
            gemm(F::one(), dz, self.weight.t(), F::zero(), &mut dx);
        }
    }
}
