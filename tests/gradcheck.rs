//! The gradient check: the default suite passes, and a bug injected into any one backward formula
//! makes it fail by far more than the tolerance.
//!
//! The bugs are injected into a backward pass assembled here from the library's own public pieces
//! (`Dense::backward`, `Activation::backward`, `Loss::backward`): without a bug it reproduces
//! `Network::backward` exactly, so each failure is caused by the one formula changed.

use mlp::gradcheck::{
    CheckConfig, DEFAULT_EPSILON, DEFAULT_TOLERANCE, backprop_gradients, check, compare, default_suite,
};
use mlp::nn::{Activation, Dropout, Gradients, Init, Loss, Network};
use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[test]
fn the_default_suite_passes_for_several_seeds() {
    for seed in [1, 2, 3] {
        let suite = default_suite(DEFAULT_EPSILON, seed);
        // Every activation with every loss, with and without L2, on the 3-5-3 and 4-5-4-3 nets;
        // then every activation with dropout.
        assert_eq!(suite.len(), 5 * 4 * 2 * 2 + 5);
        for config in &suite {
            let result = check(config);
            assert_eq!(
                result.worst.parameters,
                config.sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum::<usize>()
            );
            assert!(
                result.passes(DEFAULT_TOLERANCE),
                "seed {seed}: {config:?} has relative error {} at {}",
                result.worst.worst_relative_error,
                result.worst.worst_parameter
            );
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Bug {
    None,
    /// Hidden layers pass dL/da back as if it were dL/dz.
    ForgetActivationDerivative,
    /// 1 - a² (tanh's) in place of the hidden activation's own derivative.
    TanhDerivativeEverywhere,
    /// The bias gradient from the first sample instead of the sum over the batch.
    BiasFromFirstSampleOnly,
    /// The L2 term λW left out of dW.
    MissingL2,
    /// The output delta without its 1/batch factor.
    DeltaNotAveraged,
}

/// Backprop assembled from the public layer pieces, with `bug` injected.
fn backward_with(network: &Network<f64>, x: ArrayView2<f64>, t: ArrayView2<f64>, l2: f64, bug: Bug) -> Gradients<f64> {
    let last = network.layers.len() - 1;
    let mut outputs: Vec<Array2<f64>> = Vec::new();
    for (i, layer) in network.layers.iter().enumerate() {
        let input = if i == 0 { x.to_owned() } else { outputs[i - 1].clone() };
        let mut z = Array2::zeros((x.nrows(), layer.outputs()));
        layer.forward(input.view(), z.view_mut());
        if i < last {
            network.activation.forward(z.view_mut());
        }
        outputs.push(z);
    }
    let mut grads = network.zero_gradients();
    let mut dz = outputs[last].clone();
    network.loss.backward(dz.view_mut(), t);
    if bug == Bug::DeltaNotAveraged {
        dz *= x.nrows() as f64;
    }
    for i in (0..=last).rev() {
        let layer = &network.layers[i];
        let input = if i == 0 { x.to_owned() } else { outputs[i - 1].clone() };
        let mut dx = Array2::zeros((x.nrows(), layer.inputs()));
        let grad = &mut grads.layers[i];
        layer.backward(
            input.view(),
            dz.view(),
            grad.weight.view_mut(),
            grad.bias.view_mut(),
            Some(dx.view_mut()),
        );
        if bug == Bug::BiasFromFirstSampleOnly {
            grad.bias.assign(&dz.row(0));
        }
        if bug != Bug::MissingL2 {
            grad.weight.scaled_add(l2, &layer.weight);
        }
        if i > 0 {
            match bug {
                Bug::ForgetActivationDerivative => {}
                Bug::TanhDerivativeEverywhere => Activation::Tanh.backward(input.view(), dx.view_mut()),
                _ => network.activation.backward(input.view(), dx.view_mut()),
            }
        }
        dz = dx;
    }
    grads
}

fn setup(activation: Activation, loss: Loss) -> (Network<f64>, Array2<f64>, Array2<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let network = Network::new(&[4, 5, 4, 3], activation, loss, Init::default_for(activation), &mut rng);
    let x = Array2::from_shape_fn((5, 4), |(i, j)| ((i * 4 + j) as f64 * 0.37).sin() * 1.5);
    let t = Array2::from_shape_fn((5, 3), |(i, j)| if (i + 1) % 3 == j { 1.0 } else { 0.0 });
    (network, x, t)
}

fn worst_error(activation: Activation, loss: Loss, bug: Bug) -> f64 {
    let (network, x, t) = setup(activation, loss);
    let l2 = 0.1;
    let analytic = backward_with(&network, x.view(), t.view(), l2, bug);
    if bug == Bug::None {
        assert_eq!(
            analytic,
            backprop_gradients(&network, x.view(), t.view(), l2, None),
            "the assembled backward is faithful"
        );
    }
    compare(&network, x.view(), t.view(), l2, None, DEFAULT_EPSILON, &analytic).worst_relative_error
}

#[test]
fn each_injected_backward_bug_fails_the_check() {
    let cases = [
        (Activation::Sigmoid, Loss::CrossEntropy),
        (Activation::Relu, Loss::BinaryCrossEntropy),
        (Activation::Tanh, Loss::MeanSquaredError(Activation::Sigmoid)),
    ];
    for (activation, loss) in cases {
        let clean = worst_error(activation, loss, Bug::None);
        assert!(clean <= DEFAULT_TOLERANCE, "{activation}/{loss} without a bug: {clean}");
        for bug in [
            Bug::ForgetActivationDerivative,
            Bug::TanhDerivativeEverywhere,
            Bug::BiasFromFirstSampleOnly,
            Bug::MissingL2,
            Bug::DeltaNotAveraged,
        ] {
            if bug == Bug::TanhDerivativeEverywhere && activation == Activation::Tanh {
                continue; // that "bug" is the right formula for tanh
            }
            let error = worst_error(activation, loss, bug);
            assert!(
                error > 1e3 * DEFAULT_TOLERANCE,
                "{bug:?} with {activation}/{loss} went unnoticed: {error}"
            );
        }
    }
}

#[test]
fn a_single_configuration_reports_where_it_is_worst() {
    let config = CheckConfig {
        sizes: vec![3, 5, 3],
        activation: Activation::LeakyRelu,
        loss: Loss::CrossEntropy,
        l2: 0.0,
        dropout: Dropout::OFF,
        samples: 5,
        epsilon: DEFAULT_EPSILON,
        seed: 9,
    };
    let result = check(&config);
    assert_eq!(result.worst.parameters, 3 * 5 + 5 + 5 * 3 + 3);
    assert!(
        result.worst.worst_parameter.starts_with("layers."),
        "{}",
        result.worst.worst_parameter
    );
    let (a, n) = (result.worst.analytic, result.worst.numeric);
    let recomputed = (a - n).abs() / (a.abs() + n.abs()).max(1e-12);
    assert_eq!(recomputed, result.worst.worst_relative_error);
}
