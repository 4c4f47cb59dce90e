//! The next mini-batch, gathered while the current one trains.
//!
//! Gathering a shuffled sparse batch is mostly cache misses (its images come from all over the
//! set); done on the other thread during the current step's products, it costs the step nothing,
//! and so does transposing it for the first layer's weight gradient (`Batch::keep_columns`). Only
//! batches that take nothing from the generator can be gathered ahead: a plain gatherer's sparse
//! ones.

use crate::batch::Batch;
use crate::data::samples::Samples;
use crate::float::Float;

/// A batch gathered ahead of its step, and the indices it holds (empty when none is waiting).
#[derive(Clone, Debug)]
pub struct Prefetch<F> {
    indices: Vec<usize>,
    batch: Batch<F>,
}

impl<F: Float> Prefetch<F> {
    /// Room for batches of up to `capacity` samples of `inputs` values and `outputs` targets.
    pub fn new(capacity: usize, inputs: usize, outputs: usize) -> Self {
        Self {
            indices: Vec::with_capacity(capacity),
            batch: Batch::with_room(capacity, inputs, outputs),
        }
    }

    /// Gathers the samples `next` of `data` sparse, and keeps their columns too; when `data` does
    /// not keep its inputs sparse, nothing is waiting afterwards.
    pub fn gather(&mut self, data: &impl Samples, next: &[usize]) {
        self.indices.clear();
        if self.batch.gather_sparse(data, next) {
            self.batch.keep_columns();
            self.indices.extend_from_slice(next);
        }
    }

    /// Swaps the waiting batch into `batch` when it holds the samples `indices`; returns whether
    /// it did. Either way nothing is waiting afterwards.
    pub fn take(&mut self, indices: &[usize], batch: &mut Batch<F>) -> bool {
        let waiting = !self.indices.is_empty() && self.indices == indices;
        if waiting {
            std::mem::swap(&mut self.batch, batch);
        }
        self.indices.clear();
        waiting
    }

    /// Drops the waiting batch, if any: only the run that gathered it knows its samples.
    pub fn clear(&mut self) {
        self.indices.clear();
    }
}
