//! Evaluation of a network on a whole data set: mean loss, accuracy and the confusion matrix.
//!
//! Runs forward only, in blocks of rows spread over the thread pool, each worker reusing one
//! `Batch` (which decides, as in training, whether the first layer reads a block sparse) and one
//! trace.

use rayon::prelude::*;

use crate::batch::Batch;
use crate::data::dataset::Dataset;
use crate::float::Float;
use crate::metrics::{Accuracy, ConfusionMatrix};
use crate::nn::Network;
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

/// Loss and confusion matrix of `network` over every sample of `data`, whose classes are the
/// network's outputs.
///
/// The blocks run side by side on the current thread pool, each worker with its own buffers; the
/// blocks' losses are then added in block order, so the result does not depend on the thread count.
pub fn evaluate<F: Float>(network: &Network<F>, data: &Dataset) -> Evaluation {
    let classes = network.outputs();
    assert_eq!(data.classes().len(), classes, "a network has an output per class");
    let block = EVAL_BLOCK_ROWS.min(data.len()).max(1);
    let indices: Vec<usize> = (0..data.len()).collect();
    let blocks: Vec<(f64, Vec<usize>)> = indices
        .par_chunks(block)
        // A few pieces per thread, each with buffers made once (the sparse rows sized at once, as
        // they would grow by copies), rather than a piece per block.
        .with_min_len(data.len().div_ceil(block).div_ceil(2 * rayon::current_num_threads()))
        .map_init(
            || (Batch::with_room(block, data.features(), classes), network.trace(block)),
            |(batch, trace), chunk| {
                batch.gather(data, chunk);
                let logits = network.forward(batch.input(), trace);
                let loss = network.loss.total(logits, batch.targets()).as_f64();
                (loss, argmax_rows(logits).collect())
            },
        )
        .collect();

    let mut confusion = ConfusionMatrix::new(classes);
    let mut total_loss = 0.0;
    let mut predictions = Vec::with_capacity(data.len());
    for (chunk, (loss, predicted)) in indices.chunks(block).zip(blocks) {
        total_loss += loss;
        for (&i, predicted) in chunk.iter().zip(predicted) {
            confusion.record(usize::from(data.labels()[i]), predicted);
            predictions.push(predicted);
        }
    }
    Evaluation {
        loss: total_loss / data.len().max(1) as f64,
        confusion,
        predictions,
    }
}
