//! Dropout: backprop through fixed masks agrees with finite differences, evaluation never drops,
//! and a net trained with dropout still learns.

mod common;

use mlp::gradcheck::{CheckConfig, DEFAULT_EPSILON, DEFAULT_TOLERANCE, FixedMasks, backprop_gradients, check};
use mlp::nn::{Activation, Dropout, Init, Loss, Network};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const DROPOUT: Dropout = Dropout {
    input: 0.2,
    hidden: 0.5,
};

#[test]
fn gradients_through_masks_between_two_hidden_layers_match_finite_differences() {
    for activation in [Activation::Sigmoid, Activation::Tanh, Activation::Relu] {
        for seed in 1..=3 {
            let result = check(&CheckConfig {
                sizes: vec![4, 6, 5, 3],
                activation,
                loss: Loss::CrossEntropy,
                l2: 0.01,
                dropout: DROPOUT,
                samples: 5,
                epsilon: DEFAULT_EPSILON,
                seed,
            });
            assert!(
                result.passes(DEFAULT_TOLERANCE),
                "{activation}, seed {seed}: {:?}",
                result.worst
            );
        }
    }
}

#[test]
fn masks_change_the_gradient_and_plain_forward_ignores_them() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let network = Network::<f64>::new(&[4, 6, 3], Activation::Tanh, Loss::CrossEntropy, Init::Xavier, &mut rng);
    let x = Array2::from_shape_fn((5, 4), |(i, j)| ((i * 4 + j) as f64 * 0.7).cos());
    let t = Array2::from_shape_fn((5, 3), |(i, j)| if i % 3 == j { 1.0 } else { 0.0 });
    let masks = Some(FixedMasks {
        dropout: DROPOUT,
        seed: 2,
    });
    let plain = backprop_gradients(&network, x.view(), t.view(), 0.0, None);
    assert_ne!(backprop_gradients(&network, x.view(), t.view(), 0.0, masks), plain);

    // The same trace used for a dropout pass and then an evaluation pass gives the plain results.
    let mut trace = network.trace(5);
    let dropped = network
        .forward_dropout(x.view(), &mut trace, DROPOUT.hidden, &mut ChaCha8Rng::seed_from_u64(2))
        .to_owned();
    let evaluated = network.forward(x.view(), &mut trace).to_owned();
    let mut fresh = network.trace(5);
    assert_ne!(dropped, evaluated);
    assert_eq!(evaluated, network.forward(x.view(), &mut fresh).to_owned());
    let mut grads = network.zero_gradients();
    network.backward(x.view(), &mut trace, t.view(), 0.0, &mut grads);
    assert_eq!(grads, plain);
}

#[test]
fn a_net_trained_with_dropout_learns_the_tiny_set() {
    let data = common::tiny_mnist(400, 100);
    let out = data.path().join("model.bin");
    let mut train = common::train(data.path(), &out, &common::LEARNS_THE_TINY_SET);
    let json = common::json_stdout(train.args(["--dropout", "0.5", "--input-dropout", "0.2"]));
    assert_eq!(json["config"]["dropout"]["hidden"], 0.5);
    let accuracy = json["final_test_accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.9, "test accuracy {accuracy}");
}
