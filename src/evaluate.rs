//! Evaluation of a network on a whole data set: mean loss, accuracy and the confusion matrix.
//!
//! Runs forward only, in blocks of rows spread over the thread pool, each worker reusing its input
//! buffers (dense, and sparse for mostly-zero images) and one trace.

use ndarray::{Array2, s};
use rayon::prelude::*;

use crate::data::dataset::{CLASSES, Dataset};
use crate::float::Float;
use crate::kernels::SparseInput;
use crate::metrics::{Accuracy, ConfusionMatrix};
use crate::nn::Network;
use crate::nn::layer::Input;
use crate::nn::network::argmax_rows;

/// Rows per forward pass during evaluation: large enough for efficient matrix products, small
/// enough that the activations stay a few megabytes.
pub const EVAL_BLOCK_ROWS: usize = 1000;

#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean per-sample loss, without any L2 penalty.
    pub loss: f64,
    pub confusion: ConfusionMatrix,
    /// The predicted class of every sample, in data set order.
    pub predictions: Vec<usize>,
}

impl Evaluation {
    pub fn accuracy(&self) -> Accuracy {
        self.confusion.accuracy()
    }
}

/// Loss and confusion matrix of `network` over every sample of `data`.
///
/// The blocks run side by side on the current thread pool, each worker with its own buffers; the
/// blocks' losses are then added in block order, so the result does not depend on the thread count.
pub fn evaluate<F: Float>(network: &Network<F>, data: &Dataset) -> Evaluation {
    let block = EVAL_BLOCK_ROWS.min(data.len()).max(1);
    let indices: Vec<usize> = (0..data.len()).collect();
    let blocks: Vec<(f64, Vec<usize>)> = indices
        .par_chunks(block)
        .map_init(
            || {
                // The dense block is made only when a block is not sparse enough.
                let x: Option<Array2<F>> = None;
                let t = Array2::<F>::zeros((block, CLASSES));
                (x, SparseInput::default(), t, network.trace(block))
            },
            |(x, sparse_x, t, trace), chunk| {
                let rows = chunk.len();
                let input = if data.gather_sparse(chunk, sparse_x, t.slice_mut(s![..rows, ..])) {
                    Input::Sparse(&*sparse_x)
                } else {
                    let x = x.get_or_insert_with(|| Array2::zeros((block, data.features())));
                    data.gather(chunk, x.slice_mut(s![..rows, ..]), t.slice_mut(s![..rows, ..]));
                    Input::Dense(x.slice(s![..rows, ..]))
                };
                let logits = network.forward(input, trace);
                let loss = network.loss.total(logits, t.slice(s![..rows, ..])).as_f64();
                (loss, argmax_rows(logits).collect())
            },
        )
        .collect();

    let mut confusion = ConfusionMatrix::new(CLASSES);
    let mut total_loss = 0.0;
    let mut predictions = Vec::with_capacity(data.len());
    for (chunk, (loss, predicted)) in indices.chunks(block).zip(blocks) {
        total_loss += loss;
        for (&i, predicted) in chunk.iter().zip(predicted) {
            confusion.record(usize::from(data.labels[i]), predicted);
            predictions.push(predicted);
        }
    }
    Evaluation {
        loss: total_loss / data.len().max(1) as f64,
        confusion,
        predictions,
    }
}
