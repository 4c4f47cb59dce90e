//! Numerical gradient checking: backprop's gradient of every weight and bias against central
//! differences, in f64, through the very same layers that train in f32.
//!
//! ```text
//! numeric_i = [8 (L(θ + ε eᵢ) - L(θ - ε eᵢ)) - (L(θ + 2ε eᵢ) - L(θ - 2ε eᵢ))] / 12ε
//! relative error = |analytic - numeric| / max(|analytic| + |numeric|, 1e-4 · max |analytic|)
//! ```
//!
//! The five-point central difference has truncation error O(ε⁴) instead of the two-point O(ε²), so
//! ε can be 2e-4, where rounding in the loss (about 1e-16 / ε) is small even for gradients near 1e-6
//! (a leaky-relu unit in its 0.01 slope gives such). With the two-point formula, roundoff alone put
//! those entries above 1e-6. ε must stay well below the distance of any relu pre-activation from
//! its kink: at 3e-3 some random nets cross one.
//!
//! Dropout is checked with fixed masks: every forward pass re-seeds the generator, so the loss is a
//! smooth function of the parameters again and its differences compare with backprop through the
//! masks.

mod masks;
mod numeric;

use ndarray::{Array2, ArrayView2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use crate::nn::{Activation, Dropout, Gradients, Init, Loss, Network};
pub use masks::FixedMasks;
use masks::Masked;
pub use numeric::{
    Discrepancy, Entry, EntryCheck, check_entries, every_entry, parameter_names, sampled_entries, worst_of,
};

/// The default tolerance on the worst relative error.
pub const DEFAULT_TOLERANCE: f64 = 1e-6;
/// The default finite-difference step.
pub const DEFAULT_EPSILON: f64 = 2e-4;

/// One network and batch to check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckConfig {
    /// Layer widths, input to output.
    pub sizes: Vec<usize>,
    #[serde(serialize_with = "crate::serde_text::serialize")]
    pub activation: Activation,
    #[serde(serialize_with = "crate::serde_text::serialize")]
    pub loss: Loss,
    pub l2: f64,
    pub dropout: Dropout,
    pub samples: usize,
    pub epsilon: f64,
    pub seed: u64,
}

/// The outcome of checking one configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckResult {
    pub config: CheckConfig,
    #[serde(flatten)]
    pub worst: Discrepancy,
    /// When only some parameters were checked (`--params`), how many the network has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampled_from: Option<usize>,
    /// The entries asked to be shown, with both gradients (`--show`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shown: Vec<EntryCheck>,
}

impl CheckResult {
    pub fn passes(&self, tolerance: f64) -> bool {
        self.worst.worst_relative_error <= tolerance
    }
}

/// The suite `mlp gradcheck` runs with no flags: every activation with every loss, with and without
/// L2, on a 3-5-3 net with 5 samples and on a 4-5-4-3 net with two hidden layers; then every
/// activation with cross-entropy and dropout (input 0.2, hidden 0.5) on the 3-5-3 net.
pub fn default_suite(epsilon: f64, seed: u64) -> Vec<CheckConfig> {
    let losses = [
        Loss::CrossEntropy,
        Loss::BinaryCrossEntropy,
        Loss::MeanSquaredError(Activation::Sigmoid),
        Loss::MeanSquaredError(Activation::Identity),
    ];
    let nets: [&[usize]; 2] = [&[3, 5, 3], &[4, 5, 4, 3]];
    let mut suite = Vec::new();
    for sizes in nets {
        for activation in Activation::ALL {
            for loss in losses {
                for l2 in [0.0, 0.1] {
                    suite.push(CheckConfig {
                        sizes: sizes.to_vec(),
                        activation,
                        loss,
                        l2,
                        dropout: Dropout::OFF,
                        samples: 5,
                        epsilon,
                        seed,
                    });
                }
            }
        }
    }
    for activation in Activation::ALL {
        suite.push(CheckConfig {
            sizes: nets[0].to_vec(),
            activation,
            loss: Loss::CrossEntropy,
            l2: 0.0,
            dropout: Dropout {
                input: 0.2,
                hidden: 0.5,
            },
            samples: 5,
            epsilon,
            seed,
        });
    }
    suite
}

/// The configuration's network and batch (x, t), made from its seed: what `check` checks.
pub fn instance(config: &CheckConfig) -> (Network<f64>, Array2<f64>, Array2<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let init = Init::default_for(config.activation);
    let mut network = Network::<f64>::new(&config.sizes, config.activation, config.loss, init, &mut rng);
    let (x, t) = random_batch(&config.sizes, config.samples, &mut rng);

    // Biases start at zero; nonzero ones make the check exercise them like the weights.
    for layer in &mut network.layers {
        layer
            .bias
            .mapv_inplace(|_| 0.1 * Distribution::<f64>::sample(&StandardNormal, &mut rng));
    }
    (network, x, t)
}

/// Builds the configuration's network and batch from its seed and checks every parameter.
pub fn check(config: &CheckConfig) -> CheckResult {
    let (network, x, t) = instance(config);
    check_at(config, &network, x.view(), t.view(), Selection::default())
}

/// Which entries to check and show: all, or `sample` of them chosen by the seed; the first `show`
/// of those are returned with both gradients.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub sample: Option<usize>,
    pub show: usize,
}

/// Checks `network` at the batch (x, t) with `config`'s loss settings, masks, step and seed (the
/// network and batch are given: a saved model and real images, or `instance`'s).
pub fn check_at(
    config: &CheckConfig,
    network: &Network<f64>,
    x: ArrayView2<f64>,
    t: ArrayView2<f64>,
    selection: Selection,
) -> CheckResult {
    let masks = (config.dropout != Dropout::OFF).then_some(FixedMasks {
        dropout: config.dropout,
        seed: config.seed,
    });
    let entries = match selection.sample {
        Some(k) => sampled_entries(network, k, config.seed),
        None => every_entry(network),
    };
    let analytic = backprop_gradients(network, x, t, config.l2, masks);
    let checks = check_entries(network, x, t, config.l2, masks, config.epsilon, &analytic, &entries);
    CheckResult {
        config: config.clone(),
        worst: worst_of(&checks),
        sampled_from: selection.sample.map(|_| network.parameter_count()),
        shown: checks.into_iter().take(selection.show).collect(),
    }
}

/// Backprop's gradient of the mean loss plus L2 for the batch (x, t), through `masks` if given.
pub fn backprop_gradients(
    network: &Network<f64>,
    x: ArrayView2<f64>,
    t: ArrayView2<f64>,
    l2: f64,
    masks: Option<FixedMasks>,
) -> Gradients<f64> {
    let mut trace = network.trace(x.nrows());
    let mut grads = network.zero_gradients();
    let masked = Masked::new(masks, x);
    masked.forward(network, &mut trace);
    network.backward(masked.x.view(), &mut trace, t, l2, &mut grads);
    grads
}

/// Compares `analytic` with central differences of the loss (through `masks` if given), parameter
/// by parameter.
pub fn compare(
    network: &Network<f64>,
    x: ArrayView2<f64>,
    t: ArrayView2<f64>,
    l2: f64,
    masks: Option<FixedMasks>,
    epsilon: f64,
    analytic: &Gradients<f64>,
) -> Discrepancy {
    let entries = every_entry(network);
    worst_of(&check_entries(network, x, t, l2, masks, epsilon, analytic, &entries))
}

/// Inputs ~ N(0, 1) (samples, sizes[0]) and one-hot targets of random classes (samples, outputs).
fn random_batch(sizes: &[usize], samples: usize, rng: &mut ChaCha8Rng) -> (Array2<f64>, Array2<f64>) {
    let inputs = sizes[0];
    let outputs = sizes[sizes.len() - 1];
    let x = Array2::from_shape_simple_fn((samples, inputs), || StandardNormal.sample(rng));
    let mut t = Array2::zeros((samples, outputs));
    for mut row in t.rows_mut() {
        let class = rng.random_range(0..outputs);
        row[class] = 1.0;
    }
    (x, t)
}
