//! A mini-batch on its way to the first layer: the one place that decides whether the first layer
//! reads the batch sparse or dense.
//!
//! Shapes: inputs (rows, inputs) and targets (rows, outputs), rows in the order of the indices
//! asked for, at most the batch's capacity.
//!
//! ```text
//! samples kept sparse (mostly-zero images, scaling keeps 0 at 0)  ->  sparse rows as gathered
//! otherwise: dense rows -> augmentation -> input dropout -> sparse rows if at most 30% nonzero
//!                                                           (`Input::choose`), else dense
//! ```
//!
//! Training (`Gatherer`) and evaluation (`Batch::gather`) both come through here; the network's
//! forward and backward then read `Batch::input` as it is and never convert it again. A gatherer
//! that augments or drops inputs draws from the run's generator, in the order augmentation, then
//! input masks, so that the same seed always gives the same batches.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, s};
use rand::Rng;

use crate::data::augment::{Augment, Augmenter};
use crate::data::samples::Samples;
use crate::float::Float;
use crate::kernels::SparseInput;
use crate::nn::dropout;
use crate::nn::layer::Input;

/// Buffers for one mini-batch, and which of them holds its inputs.
#[derive(Clone, Debug)]
pub struct Batch<F> {
    /// (capacity, inputs); made by the first batch that is gathered dense.
    dense: Option<Array2<F>>,
    sparse: SparseInput<F>,
    /// (capacity, outputs)
    targets: Array2<F>,
    capacity: usize,
    inputs: usize,
    rows: usize,
    /// Whether the first layer reads `sparse` (else the first `rows` rows of `dense`).
    is_sparse: bool,
}

impl<F: Float> Batch<F> {
    /// Buffers for batches of up to `capacity` samples of `inputs` values and `outputs` targets.
    pub fn new(capacity: usize, inputs: usize, outputs: usize) -> Self {
        Self {
            dense: None,
            sparse: SparseInput::default(),
            targets: Array2::zeros((capacity, outputs)),
            capacity,
            inputs,
            rows: 0,
            is_sparse: false,
        }
    }

    /// `new`, with the sparse rows and their transpose sized at once for a batch with no zeros, so
    /// that no training step grows them.
    pub fn with_room(capacity: usize, inputs: usize, outputs: usize) -> Self {
        Self {
            sparse: SparseInput::with_room(capacity, inputs),
            ..Self::new(capacity, inputs, outputs)
        }
    }

    /// The samples `indices` of `data`, as they are: sparse when the samples keep them so, else
    /// dense and then as `Input::choose` decides. Evaluation's gathering, and training's when
    /// nothing random happens to a batch.
    pub fn gather(&mut self, data: &impl Samples, indices: &[usize]) {
        if !self.gather_sparse(data, indices) {
            self.gather_dense(data, indices);
            self.choose();
        }
    }

    /// The samples `indices` as sparse rows, when `data` keeps its inputs so; returns whether it
    /// did (when not, the batch is unchanged).
    pub fn gather_sparse(&mut self, data: &impl Samples, indices: &[usize]) -> bool {
        let rows = indices.len();
        assert!(
            rows <= self.capacity,
            "a batch of {rows} in buffers for {}",
            self.capacity
        );
        let gathered = data.gather_sparse(indices, &mut self.sparse, self.targets.slice_mut(s![..rows, ..]));
        if gathered {
            self.rows = rows;
            self.is_sparse = true;
        }
        gathered
    }

    /// The samples `indices` as dense rows, to be changed (`dense_mut`) and then `choose`n.
    fn gather_dense(&mut self, data: &impl Samples, indices: &[usize]) {
        let rows = indices.len();
        assert!(
            rows <= self.capacity,
            "a batch of {rows} in buffers for {}",
            self.capacity
        );
        let (capacity, inputs) = (self.capacity, self.inputs);
        let dense = self.dense.get_or_insert_with(|| Array2::zeros((capacity, inputs)));
        data.gather(
            indices,
            dense.slice_mut(s![..rows, ..]),
            self.targets.slice_mut(s![..rows, ..]),
        );
        self.rows = rows;
        self.is_sparse = false;
    }

    /// (rows, inputs): the dense rows just gathered.
    fn dense_mut(&mut self) -> ArrayViewMut2<'_, F> {
        let rows = self.rows;
        self.dense.as_mut().expect("gathered dense").slice_mut(s![..rows, ..])
    }

    /// Decides how the first layer reads the dense rows: the one call of `Input::choose` in training
    /// and evaluation.
    fn choose(&mut self) {
        let rows = self.rows;
        let dense = self.dense.as_ref().expect("gathered dense").slice(s![..rows, ..]);
        self.is_sparse = matches!(Input::choose(dense, &mut self.sparse), Input::Sparse(_));
    }

    /// The inputs as the first layer reads them.
    pub fn input(&self) -> Input<'_, F> {
        if self.is_sparse {
            Input::Sparse(&self.sparse)
        } else {
            let dense = self.dense.as_ref().expect("a batch was gathered");
            Input::Dense(dense.slice(s![..self.rows, ..]))
        }
    }

    /// (rows, outputs)
    pub fn targets(&self) -> ArrayView2<'_, F> {
        self.targets.slice(s![..self.rows, ..])
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Label smoothing: each target row t becomes (1 - ε)·t + ε/classes, so a one-hot row keeps
    /// its sum of 1 and the true class the largest share.
    pub fn smooth_targets(&mut self, epsilon: F) {
        if epsilon == F::zero() {
            return;
        }
        let share = epsilon / F::of(self.targets.ncols() as f64);
        let keep = F::one() - epsilon;
        let rows = self.rows;
        self.targets
            .slice_mut(s![..rows, ..])
            .mapv_inplace(|t| keep * t + share);
    }

    pub fn is_sparse(&self) -> bool {
        self.is_sparse
    }

    /// Keeps the sparse rows by columns as well (see `SparseInput::keep_columns`).
    pub fn keep_columns(&mut self) {
        if self.is_sparse {
            self.sparse.keep_columns();
        }
    }
}

/// How training batches are made: gathered, then augmented and their inputs dropped as the run
/// says, drawing from the run's generator.
#[derive(Clone, Debug)]
pub struct Gatherer<F> {
    augmenter: Option<Augmenter<F>>,
    input_dropout: f64,
}

impl<F: Float> Gatherer<F> {
    /// A gatherer for `data` with `augment` and inputs dropped with probability `input_dropout`.
    /// Augmentation needs samples that are images.
    pub fn new(data: &impl Samples, augment: Augment, input_dropout: f64) -> Self {
        let augmenter = (!augment.is_off()).then(|| {
            let shape = data
                .image_shape()
                .expect("augmentation is only asked for image samples");
            Augmenter::new(augment, shape)
        });
        Self {
            augmenter,
            input_dropout,
        }
    }

    /// Whether batches come out as the samples are, drawing nothing from the generator: then the
    /// next batch can be gathered ahead, on another thread.
    pub fn is_plain(&self) -> bool {
        self.augmenter.is_none() && self.input_dropout == 0.0
    }

    /// The training batch of the samples `indices` of `data` into `batch`.
    pub fn gather<R: Rng + ?Sized>(
        &mut self,
        data: &impl Samples,
        indices: &[usize],
        batch: &mut Batch<F>,
        rng: &mut R,
    ) {
        if self.is_plain() {
            batch.gather(data, indices);
            return;
        }
        batch.gather_dense(data, indices);
        if let Some(augmenter) = &mut self.augmenter {
            augmenter.apply(batch.dense_mut(), rng);
        }
        if self.input_dropout > 0.0 {
            dropout::drop_in_place(self.input_dropout, batch.dense_mut(), rng);
        }
        batch.choose();
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::data::classes::Classes;
    use crate::data::dataset::{Dataset, ImageSize};
    use crate::data::scaling::Scaling;

    const CLASSES: usize = 10;

    fn digits() -> Dataset {
        // Rows of mostly zeros: one bright pixel each.
        let images = Array2::from_shape_fn((6, 16), |(i, j)| u8::from(i == j) * 200);
        Dataset::new(
            images,
            (0..6).collect(),
            ImageSize::grey(4, 4),
            Classes::numbered(CLASSES),
        )
    }

    #[test]
    fn mostly_zero_samples_come_sparse_and_a_scaling_that_moves_zero_comes_dense() {
        let mut data = digits();
        let mut batch = Batch::<f32>::new(3, 16, CLASSES);
        batch.gather(&data, &[4, 1]);
        assert!(batch.is_sparse());
        assert_eq!((batch.rows(), batch.targets().row(0)[4]), (2, 1.0));
        data.scaling = Scaling::standard_for(data.images()).unwrap();
        batch.gather(&data, &[4, 1]);
        assert!(!batch.is_sparse(), "standard scaling moves the background off 0");
        let Input::Dense(x) = batch.input() else { unreachable!() };
        assert_eq!(x.dim(), (2, 16));
    }

    #[test]
    fn smoothed_targets_give_each_class_a_share_and_keep_their_sum() {
        let data = digits();
        let mut batch = Batch::<f64>::new(3, 16, CLASSES);
        batch.gather(&data, &[4, 1]);
        batch.smooth_targets(0.1);
        let row = batch.targets().row(0).to_vec();
        // ε = 0.1 over 10 classes: 0.01 to every class, 0.9 + 0.01 to the true one (class 4).
        assert!(
            (row[4] - 0.91).abs() < 1e-12 && (row[0] - 0.01).abs() < 1e-12,
            "{row:?}"
        );
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(batch.targets().dim(), (2, CLASSES), "only the batch's rows");
    }

    #[test]
    fn augmented_and_dropped_batches_are_decided_after_the_changes() {
        let data = digits();
        let mut batch = Batch::<f32>::new(3, 16, CLASSES);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut dropping = Gatherer::new(&data, Augment::default(), 0.5);
        assert!(!dropping.is_plain());
        dropping.gather(&data, &[0, 1, 2], &mut batch, &mut rng);
        // Still mostly zeros after dropout: the first layer reads it sparse.
        assert!(batch.is_sparse());
        let plain = Gatherer::<f32>::new(&data, Augment::default(), 0.0);
        assert!(plain.is_plain());
    }
}
