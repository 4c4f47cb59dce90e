//! An exponential moving average of the weights (`--ema DECAY`): after every update, each weight
//! and bias of the average moves a fraction 1 - d of the way to the network's,
//! a ← a + (1 - d)(θ - a), as PyTorch's `AveragedModel` with `get_ema_multi_avg_fn` does. The
//! average smooths out the noise of the last updates; it is what each epoch measures and what the
//! run keeps, while training goes on from the network itself.
//!
//! The average starts as the initial weights, which a decay such as 0.9999 would remember for
//! tens of thousands of updates. So that the early epochs measure something trained, the decay
//! of update t (1, 2, ...) is min(d, (1 + t) / (10 + t)), the warm-up of TensorFlow's
//! `tf.train.ExponentialMovingAverage` with `num_updates`: 0.18 at the first update, 0.9 at the
//! 80th, 0.99 at the 890th.

use rayon::prelude::*;

use crate::float::Float;
use crate::nn::Network;
use crate::optim::piece;

/// The decay of update `update` (1-based, over the whole run) for a moving average of decay
/// `decay`.
pub fn decay_at(decay: f64, update: u64) -> f64 {
    let t = update as f64;
    decay.min((1.0 + t) / (10.0 + t))
}

/// Moves every parameter of `average` a fraction 1 - `decay` of the way to `network`'s. Large
/// parameters go in pieces over the thread pool, as the optimizer's updates do; each value is
/// moved alone, so the pieces change nothing in the result.
pub fn move_towards<F: Float>(average: &mut Network<F>, network: &Network<F>, decay: f64) {
    let share = F::of(1.0 - decay);
    let piece = piece::<F>(3);
    for ((_, average), (_, theta)) in average.parameters_mut().zip(network.parameters()) {
        average
            .par_chunks_mut(piece)
            .zip(theta.par_chunks(piece))
            .for_each(|(average, theta)| {
                for (a, &w) in average.iter_mut().zip(theta) {
                    *a += share * (w - *a);
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::nn::{Activation, Init, Loss};

    fn network(seed: u64, sizes: &[usize]) -> Network<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Network::new(sizes, Activation::Relu, Loss::CrossEntropy, Init::He, &mut rng)
    }

    #[test]
    fn the_decay_warms_up_to_the_one_asked_for() {
        assert_eq!(decay_at(0.999, 1), 2.0 / 11.0);
        assert_eq!(decay_at(0.999, 80), 0.9);
        assert_eq!(decay_at(0.9, 1000), 0.9);
        assert_eq!(decay_at(0.999, 100_000), 0.999);
        let decays: Vec<f64> = (1..2000).map(|t| decay_at(0.999, t)).collect();
        assert!(
            decays.windows(2).all(|w| w[0] <= w[1]),
            "the warm-up never lowers the decay"
        );
    }

    #[test]
    fn each_parameter_moves_the_fraction_one_minus_the_decay_towards_the_network() {
        let mut average = network(1, &[5, 4, 3]);
        let (before, target) = (average.clone(), network(2, &[5, 4, 3]));
        move_towards(&mut average, &target, 0.75);
        for ((a, b), t) in average.parameters().zip(before.parameters()).zip(target.parameters()) {
            for ((a, b), t) in a.1.iter().zip(b.1).zip(t.1) {
                assert!((a - (0.75 * b + 0.25 * t)).abs() < 1e-15, "{a} from {b} towards {t}");
            }
        }
    }

    #[test]
    fn parameters_longer_than_a_piece_are_moved_whole_on_several_threads() {
        // 300 x 200 weights of f64 are 3 pieces of 43,690 parameters.
        let sizes = [300, 200, 10];
        let target = network(2, &sizes);
        let moved = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut average = network(1, &sizes);
            pool.install(|| move_towards(&mut average, &target, 0.5));
            average
        };
        let (alone, together) = (moved(1), moved(3));
        assert_eq!(alone, together);
        let last = |n: &Network<f64>| n.layers[0].weight[[299, 199]];
        let start = last(&network(1, &sizes));
        assert_eq!(last(&together), start + 0.5 * (last(&target) - start));
    }
}
