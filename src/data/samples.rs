//! What the training loop trains on: any set of samples that can copy a chosen few into a mini-batch.
//!
//! Shapes: a batch of inputs x is (batch, inputs) and its targets t are (batch, outputs), rows in the
//! order of the indices asked for. MNIST-like `Dataset`s give scaled pixels and one-hot labels; the
//! small made-up problems of `fit` give rows of numbers.

use ndarray::ArrayViewMut2;

use super::augment::ImageShape;
use super::dataset::Dataset;
use crate::float::Float;
use crate::kernels::SparseInput;

/// `Sync`: the training loop gathers the next batch on another thread (`Trainer::run`).
pub trait Samples: Sync {
    /// Number of samples.
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Width of one input row.
    fn inputs(&self) -> usize;

    /// Width of one target row.
    fn outputs(&self) -> usize;

    /// The inputs as images, for augmentation; `None` when they are not images.
    fn image_shape(&self) -> Option<ImageShape> {
        None
    }

    /// Writes the samples `indices` into `x` (indices.len(), inputs) and their targets into
    /// `t` (indices.len(), outputs).
    fn gather<F: Float>(&self, indices: &[usize], x: ArrayViewMut2<F>, t: ArrayViewMut2<F>);

    /// `gather` with the inputs as sparse rows, when the samples keep theirs so (mostly-zero
    /// images); returns whether it did. When it did not, nothing was written: use `gather`.
    fn gather_sparse<F: Float>(&self, _indices: &[usize], _x: &mut SparseInput<F>, _t: ArrayViewMut2<F>) -> bool {
        false
    }
}

impl Samples for Dataset {
    fn len(&self) -> usize {
        Dataset::len(self)
    }

    fn inputs(&self) -> usize {
        self.features()
    }

    fn outputs(&self) -> usize {
        self.classes().len()
    }

    fn image_shape(&self) -> Option<ImageShape> {
        Some(ImageShape {
            rows: self.rows,
            cols: self.cols,
            channels: self.channels,
            background: self.scaling.apply(0.0),
        })
    }

    fn gather<F: Float>(&self, indices: &[usize], x: ArrayViewMut2<F>, t: ArrayViewMut2<F>) {
        Dataset::gather(self, indices, x, t);
    }

    fn gather_sparse<F: Float>(&self, indices: &[usize], x: &mut SparseInput<F>, t: ArrayViewMut2<F>) -> bool {
        Dataset::gather_sparse(self, indices, x, t)
    }
}
