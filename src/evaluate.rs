//! Evaluation of a network on a whole data set: mean loss, accuracy and the confusion matrix.
//!
//! Runs forward only, in blocks of rows spread over the thread pool, each worker reusing its input
//! buffers (dense, and sparse for mostly-zero images) and one trace.

use ndarray::{Array2, s};
use rayon::prelude::*;

use crate::data::dataset::{CLASSES, Dataset};
use crate::float::Float;
use crate::metrics::{Accuracy, ConfusionMatrix};
use crate::nn::Network;
use crate::nn::layer::Input;
use crate::nn::network::argmax_rows;
use crate::nn::sparse::SparseInput;

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

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::nn::{Activation, Init, Loss};

    /// 4,500 random digits, a fifth of their pixels nonzero as in MNIST: 4 blocks of 1000 and one of 500.
    fn digits(rng: &mut ChaCha8Rng) -> Dataset {
        let images = Array2::from_shape_simple_fn((4500, 784), || {
            if rng.random_bool(0.2) {
                rng.random_range(1..=255)
            } else {
                0
            }
        });
        let labels = (0..4500).map(|_| rng.random_range(0..10u8)).collect();
        Dataset::new(images, labels, 28, 28)
    }

    #[test]
    fn blocks_on_any_thread_count_give_the_whole_batch_forward() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let network = Network::<f32>::new(
            &[784, 256, 256, 10],
            Activation::Relu,
            Loss::CrossEntropy,
            Init::default_for(Activation::Relu),
            &mut rng,
        );
        let data = digits(&mut rng);

        // The whole data set in one forward pass, gathered dense.
        let all: Vec<usize> = (0..data.len()).collect();
        let mut x = Array2::zeros((data.len(), data.features()));
        let mut t = Array2::zeros((data.len(), CLASSES));
        data.gather(&all, x.view_mut(), t.view_mut());
        let mut trace = network.trace(data.len());
        let logits = network.forward(x.view(), &mut trace);
        let loss = network.loss.total(logits, t.view()).as_f64() / data.len() as f64;
        let predictions: Vec<usize> = argmax_rows(logits).collect();

        let evaluations: Vec<Evaluation> = [1, 2, 3]
            .into_iter()
            .map(|threads| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                pool.install(|| evaluate(&network, &data))
            })
            .collect();
        for (threads, evaluation) in [1, 2, 3].into_iter().zip(&evaluations) {
            assert_eq!(evaluation.predictions, predictions, "{threads} threads");
            assert!(
                (evaluation.loss - loss).abs() <= 1e-5 * loss,
                "{threads} threads: {} against {loss}",
                evaluation.loss
            );
            assert_eq!(
                evaluation.confusion.accuracy().correct,
                predictions
                    .iter()
                    .zip(&data.labels)
                    .filter(|&(&p, &l)| p == usize::from(l))
                    .count() as u64
            );
        }
        assert_eq!(evaluations[0], evaluations[1]);
        assert_eq!(evaluations[0], evaluations[2]);
    }
}
