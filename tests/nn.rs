//! The network's parts against independent references: activation derivatives and loss gradients
//! against central differences, loss values against numbers worked out by hand, layer shapes.

use mlp::kernels::sigmoid;
use mlp::nn::loss::{OutputActivation, log_sum_exp};
use mlp::nn::{Activation, Dense, Init, Loss, Network};
use ndarray::{Array2, array};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn central_difference(f: impl Fn(f64) -> f64, x: f64, h: f64) -> f64 {
    (f(x + h) - f(x - h)) / (2.0 * h)
}

#[test]
fn activation_derivatives_match_central_differences() {
    // Points away from relu's kink at 0, where the derivative is one-sided.
    let points = [-6.0, -2.5, -0.7, -0.01, 0.02, 0.3, 1.0, 4.0];
    for activation in Activation::ALL {
        for z in points {
            let a = activation.apply(z);
            let analytic = activation.derivative(a);
            let numeric = central_difference(|v| activation.apply(v), z, 1e-6);
            assert!(
                (analytic - numeric).abs() < 1e-8,
                "{activation} at {z}: derivative {analytic}, central difference {numeric}"
            );
        }
    }
}

#[test]
fn activation_values_match_their_formulas() {
    assert_eq!(Activation::Relu.apply(-3.0f64), 0.0);
    assert_eq!(Activation::LeakyRelu.apply(-3.0f64), -0.03);
    assert_eq!(Activation::Identity.apply(-3.0f64), -3.0);
    assert!((Activation::Tanh.apply(0.5f64) - 0.46211715726000974).abs() < 1e-15); // math.tanh(0.5)
    assert!((sigmoid(2.0f64) - 0.8807970779778823).abs() < 1e-15); // 1 / (1 + math.exp(-2))
    assert!((sigmoid(-2.0f64) - 0.11920292202211755).abs() < 1e-15);
}

#[test]
fn sigmoid_and_tanh_derivatives_stay_finite_at_extremes() {
    for z in [-1e4f32, -100.0, 100.0, 1e4] {
        for activation in [Activation::Sigmoid, Activation::Tanh] {
            let d = activation.derivative(activation.apply(z));
            assert!(d.is_finite() && d >= 0.0, "{activation}'({z}) = {d}");
        }
    }
}

/// The losses' values on small cases worked out by hand (Python's math module for the digits).
#[test]
fn loss_values_match_hand_computed_references() {
    // -log softmax([1, 2, 3])[2] = log(1 + e^-1 + e^-2) = 0.40760596444437...
    let ce = Loss::CrossEntropy.total(array![[1.0f64, 2.0, 3.0]].view(), array![[0.0, 0.0, 1.0]].view());
    assert!((ce - 0.4076059644443804).abs() < 1e-12, "{ce}");
    // Binary cross-entropy of z = 0 against t = 1 and z = 0 against t = 0: log 2 each.
    let bce = Loss::BinaryCrossEntropy.total(array![[0.0f64, 0.0]].view(), array![[1.0, 0.0]].view());
    assert!((bce - 2.0 * std::f64::consts::LN_2).abs() < 1e-12, "{bce}");
    // ½ Σ (a - t)² with identity outputs [1, 2] against [0, 1]: ½ (1 + 1) = 1.
    let mse =
        Loss::MeanSquaredError(Activation::Identity).total(array![[1.0f64, 2.0]].view(), array![[0.0, 1.0]].view());
    assert_eq!(mse, 1.0);
    // With sigmoid outputs at z = 0 (a = ½) against t = 1: ½ · ¼ = 0.125.
    let mse = Loss::MeanSquaredError(Activation::Sigmoid).total(array![[0.0f64]].view(), array![[1.0]].view());
    assert_eq!(mse, 0.125);
}

#[test]
fn losses_stay_finite_for_extreme_logits() {
    let z = array![[1e4f32, -1e4, 0.0], [-1e4, -1e4, -1e4]];
    let t = array![[0.0f32, 1.0, 0.0], [1.0, 0.0, 0.0]];
    for loss in [Loss::CrossEntropy, Loss::BinaryCrossEntropy] {
        let value = loss.total(z.view(), t.view());
        assert!(value.is_finite(), "{loss}: {value}");
        let mut d = z.clone();
        loss.backward(d.view_mut(), t.view());
        assert!(d.iter().all(|v| v.is_finite()), "{loss}: {d}");
    }
    assert!((log_sum_exp([1e4f32, 1e4].into_iter()) - (1e4 + std::f32::consts::LN_2)).abs() < 1e-2);
}

#[test]
fn softmax_rows_sum_to_one_even_for_huge_logits() {
    let mut z = array![[1000.0f32, 999.0, -1000.0], [0.0, 0.0, 0.0]];
    OutputActivation::Softmax.forward(z.view_mut());
    for row in z.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-6, "{row}");
    }
    assert!((z[[1, 0]] - 1.0 / 3.0).abs() < 1e-6);
}

/// dL/dz of each loss (for the batch mean) against central differences of the loss value.
#[test]
fn loss_gradients_match_central_differences() {
    let z = array![[0.3f64, -1.2, 2.0, 0.1], [-0.5, 0.7, -0.2, 1.5], [2.2, -2.0, 0.4, -0.9]];
    let t = array![[0.0f64, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]];
    let batch = z.nrows() as f64;
    let losses = [
        Loss::CrossEntropy,
        Loss::BinaryCrossEntropy,
        Loss::MeanSquaredError(Activation::Identity),
        Loss::MeanSquaredError(Activation::Sigmoid),
        Loss::MeanSquaredError(Activation::Tanh),
    ];
    for loss in losses {
        let mut analytic = z.clone();
        loss.backward(analytic.view_mut(), t.view());
        for ((r, c), &a) in analytic.indexed_iter() {
            let numeric = central_difference(
                |v| {
                    let mut zz = z.clone();
                    zz[[r, c]] = v;
                    loss.total(zz.view(), t.view()) / batch
                },
                z[[r, c]],
                1e-6,
            );
            assert!(
                (a - numeric).abs() < 1e-8,
                "{loss} at ({r}, {c}): backward {a}, central difference {numeric}"
            );
        }
    }
}

#[test]
fn dense_layer_computes_xw_plus_b_and_its_gradients() {
    let layer = Dense {
        weight: array![[1.0f64, 2.0], [3.0, 4.0], [5.0, 6.0]],
        bias: array![0.5, -0.5],
    };
    let x = array![[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]];
    let mut z = Array2::zeros((2, 2));
    layer.forward(x.view(), z.view_mut());
    // Row 1: [1 - 5, 2 - 6] + b; row 2: [2 + 3, 4 + 4] + b.
    assert_eq!(z, array![[-3.5, -4.5], [5.5, 7.5]]);

    let dz = array![[1.0, 0.0], [0.0, 2.0]];
    let mut dw = Array2::zeros((3, 2));
    let mut db = ndarray::Array1::zeros(2);
    let mut dx = Array2::zeros((2, 3));
    layer.backward(x.view(), dz.view(), dw.view_mut(), db.view_mut(), Some(dx.view_mut()));
    assert_eq!(dw, x.t().dot(&dz));
    assert_eq!(db, array![1.0, 2.0]);
    assert_eq!(dx, dz.dot(&layer.weight.t()));
}

#[test]
fn initializations_have_the_documented_spread() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (fan_in, fan_out) = (400, 300);
    let spread = |init: Init, rng: &mut ChaCha8Rng| {
        let w = init.weights::<f64, _>(fan_in, fan_out, rng);
        let max = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let std = (w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64).sqrt();
        (max, std)
    };
    let (max, std) = spread(Init::Xavier, &mut rng);
    let r = (6.0 / (fan_in + fan_out) as f64).sqrt();
    assert!(max <= r && max > 0.99 * r, "xavier bound {r}, max {max}");
    assert!((std - r / 3f64.sqrt()).abs() < 0.02 * r, "uniform std r/√3, got {std}");
    let (_, std) = spread(Init::He, &mut rng);
    assert!((std - (2.0 / fan_in as f64).sqrt()).abs() < 0.01 * std, "he std {std}");
    let (_, std) = spread(Init::Normal { std: 0.01 }, &mut rng);
    assert!((std - 0.01).abs() < 2e-4, "normal std {std}");
}

#[test]
fn network_shapes_and_predictions() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let net = Network::<f32>::new(
        &[6, 5, 4, 3],
        Activation::Tanh,
        Loss::CrossEntropy,
        Init::Xavier,
        &mut rng,
    );
    assert_eq!(net.sizes(), vec![6, 5, 4, 3]);
    assert_eq!(net.parameter_count(), 6 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3);
    let x = Array2::from_shape_fn((7, 6), |(i, j)| (i as f32 - j as f32) / 5.0);
    let p = net.predict(x.view());
    assert_eq!(p.dim(), (7, 3));
    for row in p.rows() {
        assert!((row.sum() - 1.0).abs() < 1e-5);
    }
}

#[test]
fn the_same_seed_gives_the_same_network() {
    let build = |seed| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Network::<f32>::new(&[8, 4, 2], Activation::Relu, Loss::CrossEntropy, Init::He, &mut rng)
    };
    assert_eq!(build(3), build(3));
    assert_ne!(build(3), build(4));
}
