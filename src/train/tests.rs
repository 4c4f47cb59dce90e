//! The loop's and the step's tests: sparse and dense batches train alike, gathering ahead changes
//! nothing, and divergence is caught in the batch it happens.

use ndarray::{Array2, ArrayViewMut2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::data::classes::{Classes, Label};
use crate::data::dataset::ImageSize;
use crate::data::samples::Samples;
use crate::data::scaling::Scaling;
use crate::kernels::SparseInput;
use crate::nn::{Activation, Dropout, Init, Loss, Network};
use crate::optim::Optimizer;
use crate::schedule::Schedule;

/// The classes of the test sets: ten, as MNIST's.
const CLASSES: usize = 10;

/// Square grey `images` with their `labels`, of ten classes.
fn set(images: Array2<u8>, labels: Vec<Label>, side: usize) -> Dataset {
    Dataset::new(images, labels, ImageSize::grey(side, side), Classes::numbered(CLASSES))
}

/// Trains `network` with `trainer` for one epoch over `order` (shuffled first), all its batches,
/// handing each batch's loss to `on_batch`.
fn one_epoch<F: Float>(
    trainer: &mut Trainer<F>,
    (network, optimizer, rng): (&mut Network<F>, &mut Optimizer<F>, &mut ChaCha8Rng),
    data: &impl Samples,
    order: &mut [usize],
    mut on_batch: impl FnMut(f64),
) -> Result<(), Diverged> {
    let mut learner = Learner {
        network,
        average: None,
        optimizer,
        rng,
    };
    trainer.run_epoch(&mut learner, data, (order, &mut 0), usize::MAX, |loss| {
        on_batch(loss);
        true
    })
}

/// A data set that can only be gathered dense: the network then finds each batch's zeros itself.
struct DenseOnly<'a>(&'a Dataset);

impl Samples for DenseOnly<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn inputs(&self) -> usize {
        self.0.features()
    }

    fn outputs(&self) -> usize {
        CLASSES
    }

    fn gather<F: Float>(&self, indices: &[usize], x: ArrayViewMut2<F>, t: ArrayViewMut2<F>) {
        self.0.gather(indices, x, t);
    }
}

/// A 36-10-10 net after two epochs on `data` in batches of 8, and the loss of every batch.
fn trained(data: &impl Samples, dropout: Dropout) -> (Network<f32>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut network = Network::new(
        &[36, 10, 10],
        Activation::Sigmoid,
        Loss::CrossEntropy,
        Init::Xavier,
        &mut rng,
    );
    let config = TrainConfig {
        epochs: 2,
        batch_size: 8,
        schedule: Schedule::constant(0.5),
        l2: 1e-3,
        dropout,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(&network, data, &config);
    let mut optimizer = Optimizer::new(config.optimizer, &network);
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut losses = Vec::new();
    for _ in 0..config.epochs {
        let learner = (&mut network, &mut optimizer, &mut rng);
        one_epoch(&mut trainer, learner, data, &mut order, |loss| losses.push(loss)).unwrap();
    }
    (network, losses)
}

#[test]
fn batches_gathered_sparse_train_exactly_as_dense_ones() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let images = Array2::from_shape_simple_fn((44, 36), || {
        if rng.random_bool(0.2) {
            rng.random_range(1..=255)
        } else {
            0
        }
    });
    let labels = (0..44).map(|i| (i % CLASSES) as Label).collect();
    let data = set(images, labels, 6);
    let mut t = Array2::<f32>::zeros((2, CLASSES));
    assert!(
        data.gather_sparse(&[3, 1], &mut SparseInput::default(), t.view_mut()),
        "the data set gathers sparse"
    );
    for dropout in [
        Dropout::OFF,
        Dropout {
            input: 0.0,
            hidden: 0.3,
        },
        Dropout {
            input: 0.2,
            hidden: 0.0,
        },
    ] {
        let (sparse, sparse_losses) = trained(&data, dropout);
        let (dense, dense_losses) = trained(&DenseOnly(&data), dropout);
        assert_eq!(sparse_losses.len(), 12);
        assert_eq!(sparse_losses, dense_losses, "dropout {dropout:?}");
        assert_eq!(sparse, dense, "dropout {dropout:?}");
    }
}

#[test]
fn runs_gathering_ahead_train_as_single_steps_do_even_when_stopped_early() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let images = Array2::from_shape_simple_fn((40, 36), || u8::from(rng.random_bool(0.2)) * 200);
    let labels = (0..40).map(|i| (i % CLASSES) as Label).collect();
    let data = set(images, labels, 6);
    let batches: Vec<Vec<usize>> = (0..5)
        .map(|b| (0..8).map(|i| (7 * (8 * b + i)) % 40).collect())
        .collect();
    // Trains on the batches numbered `order`: one `step` at a time, or in `run`s split where
    // the callback stops the first after `stop_after` batches.
    let train = |order: &[usize], stop_after: Option<usize>| {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let sizes = &[36, 10, 10];
        let mut network = Network::<f32>::new(sizes, Activation::Sigmoid, Loss::CrossEntropy, Init::Xavier, &mut rng);
        let config = TrainConfig {
            epochs: 1,
            batch_size: 8,
            ..TrainConfig::default()
        };
        let mut trainer = Trainer::new(&network, &data, &config);
        let mut optimizer = Optimizer::new(config.optimizer, &network);
        let mut learner = Learner {
            network: &mut network,
            average: None,
            optimizer: &mut optimizer,
            rng: &mut rng,
        };
        let mut losses = Vec::new();
        let in_order = order.iter().map(|&b| batches[b].as_slice());
        match stop_after {
            None => {
                for indices in in_order {
                    losses.push(trainer.step(&mut learner, &data, indices).unwrap().as_f64());
                }
            }
            Some(stop) => {
                for _ in 0..2 {
                    let rest = in_order.clone().skip(losses.len());
                    trainer
                        .run(&mut learner, &data, rest, |loss| {
                            losses.push(loss);
                            losses.len() != stop
                        })
                        .unwrap();
                }
            }
        }
        (network, losses)
    };
    for order in [[0, 1, 2, 3, 4], [0, 1, 4, 4, 2]] {
        let stepped = train(&order, None);
        assert_eq!(stepped.1.len(), 5);
        for stop in [2, 5] {
            assert_eq!(
                train(&order, Some(stop)),
                stepped,
                "batches {order:?}, stopped after {stop}"
            );
        }
    }
}

#[test]
fn a_scaling_that_moves_zero_gathers_dense() {
    let images = Array2::from_shape_fn((4, 4), |(i, j)| u8::from(i == j) * 200);
    let mut data = set(images, vec![0, 1, 2, 3], 2);
    let mut t = Array2::<f32>::zeros((1, CLASSES));
    assert!(data.gather_sparse(&[2], &mut SparseInput::default(), t.view_mut()));
    data.scaling = Scaling::standard_for(data.images()).unwrap();
    t.fill(7.0);
    assert!(!data.gather_sparse(&[2], &mut SparseInput::default(), t.view_mut()));
    assert!(t.iter().all(|&v| v == 7.0), "nothing written when refused");
}

/// Runs `healthy` epochs, then lets `break_network` have its way with the 4-3-10 net, then runs one
/// more epoch: SGD at `learning_rate` on four 2x2 images in batches of two. Returns the last
/// epoch's outcome and how many batches it reported.
fn epoch_after(
    healthy: usize,
    learning_rate: f64,
    break_network: impl FnOnce(&mut Network<f32>),
) -> (Result<(), Diverged>, usize) {
    let images = Array2::from_shape_fn((4, 4), |(i, j)| (40 * i + 10 * j) as u8);
    let data = set(images, vec![0, 1, 2, 3], 2);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let sizes = [4, 3, 10];
    let mut network = Network::new(&sizes, Activation::Sigmoid, Loss::CrossEntropy, Init::Xavier, &mut rng);
    let config = TrainConfig {
        epochs: 5,
        batch_size: 2,
        schedule: Schedule::constant(learning_rate),
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(&network, &data, &config);
    let mut optimizer = Optimizer::new(config.optimizer, &network);
    let mut order = vec![0, 1, 2, 3];
    for _ in 0..healthy {
        let learner = (&mut network, &mut optimizer, &mut rng);
        one_epoch(&mut trainer, learner, &data, &mut order, |_| {}).unwrap();
    }
    break_network(&mut network);
    let mut batches_reported = 0;
    let learner = (&mut network, &mut optimizer, &mut rng);
    let outcome = one_epoch(&mut trainer, learner, &data, &mut order, |loss| {
        assert!(loss.is_finite());
        batches_reported += 1;
    });
    (outcome, batches_reported)
}

#[test]
fn a_nan_weight_stops_the_epoch_at_its_first_batch() {
    let (outcome, reported) = epoch_after(2, 0.1, |network| network.layers[1].weight[[0, 0]] = f32::NAN);
    let error = outcome.unwrap_err();
    assert_eq!((error.epoch, error.batch, error.batches), (3, 1, 2));
    assert_eq!(error.what, "the loss is NaN");
    assert_eq!(reported, 0, "a diverged batch is not reported as done");
}

#[test]
fn an_update_that_overflows_the_weights_is_caught_in_the_same_batch() {
    // 1e300 is infinite in f32: the first update makes weights infinite while its loss was finite.
    let (outcome, _) = epoch_after(0, 1e300, |_| {});
    let error = outcome.unwrap_err();
    assert_eq!((error.epoch, error.batch), (1, 1));
    assert_eq!(error.what, "a weight or bias became NaN or infinite");
    let message = error.to_string();
    assert!(
        message.ends_with("Try a lower learning rate than 1e300, e.g. 1e299"),
        "{message}"
    );
}

#[test]
fn a_healthy_epoch_passes_every_check() {
    let (outcome, reported) = epoch_after(1, 0.1, |_| {});
    assert_eq!(outcome, Ok(()));
    assert_eq!(reported, 2);
}

#[test]
fn label_smoothing_holds_the_true_class_near_its_smoothed_target() {
    // Ten images, one bright pixel each, the pixel's number its class: softmax regression fits
    // them exactly, so training drives each true class's probability to its target's share.
    let images = Array2::from_shape_fn((CLASSES, 16), |(i, j)| u8::from(i == j) * 255);
    let data = set(images, (0..CLASSES as Label).collect(), 4);
    let true_class_probability = |label_smoothing: f64| {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut network = Network::<f32>::new(
            &[16, 10],
            Activation::Sigmoid,
            Loss::CrossEntropy,
            Init::Xavier,
            &mut rng,
        );
        let config = TrainConfig {
            batch_size: 5,
            schedule: Schedule::constant(2.0),
            label_smoothing,
            ..TrainConfig::default()
        };
        let mut trainer = Trainer::new(&network, &data, &config);
        let mut optimizer = Optimizer::new(config.optimizer, &network);
        let mut order: Vec<usize> = (0..data.len()).collect();
        for _ in 0..400 {
            let learner = (&mut network, &mut optimizer, &mut rng);
            one_epoch(&mut trainer, learner, &data, &mut order, |_| {}).unwrap();
        }
        let x = data.images().mapv(|p| f32::from(p) / 255.0);
        let outputs = network.predict(x.view());
        (0..CLASSES).map(|i| outputs[[i, i]]).collect::<Vec<f32>>()
    };
    // ε = 0.2 over 10 classes: the target of the true class is 0.8 + 0.02.
    let smoothed = true_class_probability(0.2);
    assert!(
        smoothed.iter().all(|p| (p - 0.82).abs() < 0.01),
        "smoothed: {smoothed:?}"
    );
    let plain = true_class_probability(0.0);
    assert!(plain.iter().all(|&p| p > 0.97), "without smoothing: {plain:?}");
}

#[test]
fn a_moving_average_follows_every_update_at_its_warmed_up_decay_and_leaves_training_alone() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let images = Array2::from_shape_simple_fn((24, 16), || u8::from(rng.random_bool(0.3)) * 220);
    let data = set(images, (0..24).map(|i| (i % CLASSES) as Label).collect(), 4);
    let batches: Vec<Vec<usize>> = (0..6).map(|b| (4 * b..4 * b + 4).collect()).collect();
    // The warm-up's decay passes 0.3 at the third update.
    let decay = 0.3;
    // Steps through the batches with or without an average; returns the weights after every
    // step and the average at the end.
    let train = |averaged: bool| {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let sizes = &[16, 8, 10];
        let mut network = Network::<f64>::new(sizes, Activation::Relu, Loss::CrossEntropy, Init::He, &mut rng);
        let config = TrainConfig {
            batch_size: 4,
            schedule: Schedule::constant(0.3),
            ema: averaged.then_some(decay),
            ..TrainConfig::default()
        };
        let mut trainer = Trainer::new(&network, &data, &config);
        let mut optimizer = Optimizer::new(config.optimizer, &network);
        let mut average = averaged.then(|| network.clone());
        let mut learner = Learner {
            network: &mut network,
            average: average.as_mut(),
            optimizer: &mut optimizer,
            rng: &mut rng,
        };
        let mut weights = Vec::new();
        for indices in &batches {
            trainer.step(&mut learner, &data, indices).unwrap();
            weights.push(learner.network.clone());
        }
        (weights, average)
    };
    let (plain, none) = train(false);
    let (weights, average) = train(true);
    assert!(none.is_none());
    assert_eq!(weights, plain, "the average changes nothing in training");
    // The initial weights, then a ← a + (1 - dₜ)(θₜ - a) with dₜ = min(d, (1 + t) / (10 + t)).
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut expected = Network::<f64>::new(&[16, 8, 10], Activation::Relu, Loss::CrossEntropy, Init::He, &mut rng);
    for (t, theta) in (1..).zip(&weights) {
        let d = decay.min((1.0 + t as f64) / (10.0 + t as f64));
        for ((_, a), (_, w)) in expected.parameters_mut().zip(theta.parameters()) {
            for (a, &w) in a.iter_mut().zip(w) {
                *a += (1.0 - d) * (w - *a);
            }
        }
    }
    let average = average.expect("an average");
    assert_eq!(average, expected);
    assert_ne!(&average, weights.last().unwrap());
}
