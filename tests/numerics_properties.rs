//! Property tests of the numerics on random inputs: softmax and the losses at extreme logits,
//! activations and their derivatives at any input, and backprop against central differences on
//! random small networks (through `mlp::gradcheck`, the machinery `mlp gradcheck` uses).
//!
//! The cases are drawn from a fixed seed so that CI sees the same ones every run; set
//! PROPTEST_RNG_SEED to explore others (and PROPTEST_CASES for more of them).

use mlp::gradcheck::{self, CheckConfig, DEFAULT_EPSILON, DEFAULT_TOLERANCE};
use mlp::nn::loss::softmax_in_place;
use mlp::nn::{Activation, Dropout, Loss};
use ndarray::{Array1, Array2};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::RngSeed;

fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::with_cases(cases);
    if config.rng_seed == RngSeed::Random {
        config.rng_seed = RngSeed::Fixed(20_240_601);
        // The same cases every run: a failure shows again without a file of past failures.
        config.failure_persistence = None;
    }
    config
}

/// The most logits in a row.
const MAX_CLASSES: usize = 12;

/// Rows of 1 to 12 logits from ordinary to extreme: each row draws one scale (1, 1e4 or `largest`)
/// and values up to that scale either way.
fn logit_rows(largest: f32) -> impl Strategy<Value = Vec<f32>> {
    select(vec![1.0f32, 1e4, largest]).prop_flat_map(|scale| {
        proptest::collection::vec(-1.0f32..=1.0, 1..=MAX_CLASSES)
            .prop_map(move |u| u.iter().map(|u| u * scale).collect())
    })
}

/// The largest logits whose binary cross-entropy f32 can hold: a sum of up to 12 terms each at most
/// a logit (plus ln 2).
const BCE_LARGEST: f32 = f32::MAX / 16.0;

/// A batch of one sample: logits `row` (1, classes) and the one-hot target of `class`.
fn batch_of_one(row: &[f32], class: usize) -> (Array2<f32>, Array2<f32>) {
    let z = Array2::from_shape_vec((1, row.len()), row.to_vec()).unwrap();
    let t = Array2::from_shape_fn((1, row.len()), |(_, k)| if k == class { 1.0 } else { 0.0 });
    (z, t)
}

/// Whether an f32 loss is finite, not negative, and agrees with its f64 reference to f32's
/// precision (relative 1e-5, or 1e-5 absolute near zero).
fn agrees(loss: f32, reference: f64) -> bool {
    loss.is_finite() && loss >= 0.0 && (f64::from(loss) - reference).abs() <= 1e-5 * reference + 1e-5
}

fn widen(logits: &[f32]) -> Vec<f64> {
    logits.iter().map(|&v| f64::from(v)).collect()
}

/// The cross-entropy of one row in f64, where no logit of f32 can overflow it.
fn cross_entropy_f64(logits: &[f32], class: usize) -> f64 {
    let z = widen(logits);
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + z.iter().map(|v| (v - max).exp()).sum::<f64>().ln() - z[class]
}

/// Binary cross-entropy of one row in f64: Σ log(1 + e^z) - t z, with log(1 + e^z) = z + log(1 + e^-z)
/// for z > 0.
fn binary_cross_entropy_f64(logits: &[f32], class: usize) -> f64 {
    let softplus = |z: f64| z.max(0.0) + (-z.abs()).exp().ln_1p();
    widen(logits)
        .iter()
        .enumerate()
        .map(|(k, &z)| softplus(z) - if k == class { z } else { 0.0 })
        .sum()
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn softmax_is_a_distribution_for_any_finite_logits(row in logit_rows(f32::MAX)) {
        let mut probabilities = Array1::from(row.clone());
        softmax_in_place(probabilities.view_mut());
        prop_assert!(probabilities.iter().all(|p| (0.0..=1.0).contains(p)), "{row:?} -> {probabilities}");
        let sum: f32 = probabilities.sum();
        prop_assert!((sum - 1.0).abs() <= 1e-5, "{row:?} sums to {sum}");
    }

    #[test]
    fn cross_entropy_and_its_gradient_stay_finite_and_accurate(row in logit_rows(f32::MAX), pick in any::<prop::sample::Index>()) {
        let class = pick.index(row.len());
        let (z, t) = batch_of_one(&row, class);
        let loss = Loss::CrossEntropy.total(z.view(), t.view());
        let reference = cross_entropy_f64(&row, class);
        if reference < f64::from(f32::MAX) {
            prop_assert!(agrees(loss, reference), "{row:?}, class {class}: loss {loss}, in f64 {reference}");
        } else {
            // The logits differ by more than f32 holds: the loss overflows, but never to NaN.
            prop_assert_eq!(loss, f32::INFINITY, "{:?}, class {}, in f64 {}", row, class, reference);
        }

        let mut gradient = z.clone();
        Loss::CrossEntropy.backward(gradient.view_mut(), t.view());
        prop_assert!(gradient.iter().all(|g| g.is_finite() && g.abs() <= 1.0), "{row:?}: gradient {gradient}");
        prop_assert!(gradient.sum().abs() <= 1e-5, "{row:?}: gradient {gradient} does not sum to 0");
    }

    #[test]
    fn binary_cross_entropy_and_its_gradient_stay_finite_and_accurate(row in logit_rows(BCE_LARGEST), pick in any::<prop::sample::Index>()) {
        let class = pick.index(row.len());
        let (z, t) = batch_of_one(&row, class);
        let loss = Loss::BinaryCrossEntropy.total(z.view(), t.view());
        let reference = binary_cross_entropy_f64(&row, class);
        prop_assert!(agrees(loss, reference), "{row:?}, class {class}: loss {loss}, in f64 {reference}");
        let mut gradient = z.clone();
        Loss::BinaryCrossEntropy.backward(gradient.view_mut(), t.view());
        prop_assert!(gradient.iter().all(|g| g.is_finite() && g.abs() <= 1.0), "{row:?}: gradient {gradient}");
    }

    #[test]
    fn sigmoid_and_tanh_and_their_derivatives_are_finite_everywhere(
        z in prop::num::f32::NORMAL | prop::num::f32::SUBNORMAL | prop::num::f32::ZERO | prop::num::f32::INFINITE,
    ) {
        for (activation, range, max_slope) in [(Activation::Sigmoid, 0.0..=1.0, 0.25), (Activation::Tanh, -1.0..=1.0, 1.0)] {
            let a = activation.apply(z);
            let slope = activation.derivative(a);
            prop_assert!(range.contains(&a), "{activation}({z}) = {a}");
            prop_assert!((0.0..=max_slope).contains(&slope), "{activation}'({z}) = {slope}");
        }
    }

    #[test]
    fn every_activation_and_derivative_is_finite_at_finite_inputs(z in prop::num::f32::ANY.prop_filter("finite", |z| z.is_finite())) {
        for activation in Activation::ALL {
            let a = activation.apply(z);
            prop_assert!(a.is_finite() && activation.derivative(a).is_finite(), "{activation} at {z}");
        }
    }

    #[test]
    fn sigmoid_and_tanh_derivatives_match_central_differences(z in -30.0f64..30.0) {
        for activation in [Activation::Sigmoid, Activation::Tanh] {
            let h = 1e-5;
            let numeric = (activation.apply(z + h) - activation.apply(z - h)) / (2.0 * h);
            let analytic = activation.derivative(activation.apply(z));
            prop_assert!((analytic - numeric).abs() <= 1e-9, "{activation} at {z}: {analytic} vs {numeric}");
        }
    }
}

fn losses() -> impl Strategy<Value = Loss> {
    prop_oneof![
        Just(Loss::CrossEntropy),
        Just(Loss::BinaryCrossEntropy),
        select(Activation::ALL.to_vec()).prop_map(Loss::MeanSquaredError),
    ]
}

fn check_configs() -> impl Strategy<Value = CheckConfig> {
    (
        proptest::collection::vec(1usize..=5, 2..=4),
        select(Activation::ALL.to_vec()),
        losses(),
        select(vec![0.0, 0.1]),
        1usize..=4,
        any::<u64>(),
    )
        .prop_map(|(sizes, activation, loss, l2, samples, seed)| CheckConfig {
            sizes,
            activation,
            loss,
            l2,
            dropout: Dropout::OFF,
            samples,
            epsilon: DEFAULT_EPSILON,
            seed,
        })
}

/// The smallest |z| over every layer's pre-activations: how close the batch comes to a kink of
/// relu or leaky-relu, where central differences see a corner that backprop does not.
fn closest_to_a_kink(config: &CheckConfig) -> f64 {
    let (network, x, _) = gradcheck::instance(config);
    let mut input = x;
    let mut closest = f64::INFINITY;
    for layer in &network.layers {
        let z = input.dot(&layer.weight) + &layer.bias;
        closest = z.iter().fold(closest, |m, v| m.min(v.abs()));
        input = z.mapv(|v| network.activation.apply(v));
    }
    closest
}

fn has_kinks(config: &CheckConfig) -> bool {
    let kinked = |a: Activation| matches!(a, Activation::Relu | Activation::LeakyRelu);
    kinked(config.activation) || matches!(config.loss, Loss::MeanSquaredError(f) if kinked(f))
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn backprop_matches_central_differences_on_random_small_networks(config in check_configs()) {
        // A relu pre-activation within reach of the finite-difference steps (±2ε, scaled by the
        // weights on the way) makes the numeric gradient average two slopes: not backprop's fault.
        prop_assume!(!has_kinks(&config) || closest_to_a_kink(&config) > 1e-2);
        let result = gradcheck::check(&config);
        // The central difference carries roundoff of about 1e-16 / ε ≈ 1e-12 (times the loss), so
        // for gradients below about 1e-5 the relative error says little; there the two must agree
        // to 1e-10 instead.
        let worst = &result.worst;
        prop_assert!(
            result.passes(DEFAULT_TOLERANCE) || (worst.analytic - worst.numeric).abs() <= 1e-10,
            "{config:?}: {worst:?}"
        );
    }
}
