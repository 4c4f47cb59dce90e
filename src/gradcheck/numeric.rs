//! The numeric side of the gradient check: which parameter entries to check, the five-point
//! central difference of the loss at each (spread over threads), and the worst disagreement.
//!
//! Without dropout the loss at a moved parameter is computed from a kept forward pass (`Kept`),
//! moving only what the parameter changes; with dropout's fixed masks, by a whole forward pass.

use ndarray::{Array2, ArrayView2, s};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use super::masks::{FixedMasks, Masked};
use crate::nn::{Gradients, Network};

/// One value among a network's parameters: entry `index` of parameter `parameter` (in the order
/// of `parameter_names`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub parameter: usize,
    pub index: usize,
}

/// One entry's two gradients side by side.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EntryCheck {
    /// E.g. `layers.0.weight[3]`.
    pub parameter: String,
    pub analytic: f64,
    pub numeric: f64,
    pub relative_error: f64,
}

/// Every entry of every parameter, in order.
pub fn every_entry<F>(network: &Network<F>) -> Vec<Entry> {
    parameter_lengths(network)
        .enumerate()
        .flat_map(|(parameter, len)| (0..len).map(move |index| Entry { parameter, index }))
        .collect()
}

/// `k` distinct entries (all when the network has no more), chosen uniformly by `seed`, in order.
pub fn sampled_entries<F>(network: &Network<F>, k: usize, seed: u64) -> Vec<Entry> {
    let all = every_entry(network);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ SAMPLE_STREAM);
    let mut chosen = rand::seq::index::sample(&mut rng, all.len(), k.min(all.len())).into_vec();
    chosen.sort_unstable();
    chosen.into_iter().map(|i| all[i]).collect()
}

/// Kept apart from the seed's other uses (the network and batch of `instance`, the masks).
const SAMPLE_STREAM: u64 = 0x005e_ed0f_9a2a_5e75;

fn parameter_lengths<F>(network: &Network<F>) -> impl Iterator<Item = usize> + '_ {
    network
        .layers
        .iter()
        .flat_map(|layer| [layer.weight.len(), layer.bias.len()])
}

/// `analytic` against the five-point central difference at each of `entries`, in their order;
/// the entries are shared among threads, each with its own copy of the network.
#[allow(clippy::too_many_arguments)]
pub fn check_entries(
    network: &Network<f64>,
    x: ArrayView2<f64>,
    t: ArrayView2<f64>,
    l2: f64,
    masks: Option<FixedMasks>,
    epsilon: f64,
    analytic: &Gradients<f64>,
    entries: &[Entry],
) -> Vec<EntryCheck> {
    let names = parameter_names(network);
    let analytic: Vec<&[f64]> = analytic.slices().collect();
    let largest = analytic
        .iter()
        .flat_map(|p| p.iter())
        .fold(0.0_f64, |m, g| m.max(g.abs()));
    let floor = (SMALL_GRADIENT * largest).max(1e-12);
    let masked = Masked::new(masks, x);
    let kept = masks.is_none().then(|| Kept::new(network, x));
    let chunk = entries.len().div_ceil(4 * rayon::current_num_threads()).max(1);
    entries
        .par_chunks(chunk)
        .flat_map_iter(|entries| {
            let mut network = network.clone();
            let mut trace = network.trace(x.nrows());
            let penalty = network.l2_penalty(l2);
            entries
                .iter()
                .map(|&entry| {
                    let mut loss_at = |delta: f64| match &kept {
                        Some(kept) => {
                            kept.loss_moved(&network, x, t, entry, delta)
                                + penalty_moved(&network, l2, penalty, entry, delta)
                        }
                        None => {
                            let value = slot(&mut network, entry);
                            let original = *value;
                            *value = original + delta;
                            let logits = masked.forward(&network, &mut trace).to_owned();
                            let loss = network.loss(logits.view(), t, l2);
                            *slot(&mut network, entry) = original;
                            loss
                        }
                    };
                    let near = loss_at(epsilon) - loss_at(-epsilon);
                    let far = loss_at(2.0 * epsilon) - loss_at(-2.0 * epsilon);
                    let numeric = (8.0 * near - far) / (12.0 * epsilon);
                    let a = analytic[entry.parameter][entry.index];
                    EntryCheck {
                        parameter: format!("{}[{}]", names[entry.parameter], entry.index),
                        analytic: a,
                        numeric,
                        relative_error: (a - numeric).abs() / (a.abs() + numeric.abs()).max(floor),
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// An entry whose gradient is below this fraction of the network's largest is judged against that
/// size rather than its own: its central difference is then mostly the loss's roundoff (about
/// 1e-16·L/ε, some 1e-13 for a trained model's loss near 0.3), which against a gradient of 1e-9
/// alone would be a relative error of 1e-4 with backprop exactly right.
const SMALL_GRADIENT: f64 = 1e-4;

/// A forward pass without dropout kept layer by layer, to move one parameter and recompute only
/// what it changes: a weight (i, j) or bias j of layer l moves column j of that layer's z by δ·aᵢ
/// (or δ), so only that column of its output and the layers above are computed again, by the
/// network's own layer and activation code. The first layer's 784-input product, the bulk of a
/// full forward pass, is then done once instead of four times per parameter.
struct Kept {
    /// z of every layer (the logits last).
    z: Vec<Array2<f64>>,
    /// f(z) of every hidden layer.
    a: Vec<Array2<f64>>,
}

impl Kept {
    fn new(network: &Network<f64>, x: ArrayView2<f64>) -> Self {
        let (mut z, mut a): (Vec<Array2<f64>>, Vec<Array2<f64>>) = (Vec::new(), Vec::new());
        for (l, layer) in network.layers.iter().enumerate() {
            let input = if l == 0 { x } else { a[l - 1].view() };
            let mut out = Array2::zeros((x.nrows(), layer.outputs()));
            layer.forward(input, out.view_mut());
            if l + 1 < network.layers.len() {
                let mut activated = out.clone();
                network.activation.forward(activated.view_mut());
                a.push(activated);
            }
            z.push(out);
        }
        Self { z, a }
    }

    /// The mean data loss with `entry` moved by `delta` (the network itself unchanged).
    fn loss_moved(
        &self,
        network: &Network<f64>,
        x: ArrayView2<f64>,
        t: ArrayView2<f64>,
        entry: Entry,
        delta: f64,
    ) -> f64 {
        let l = entry.parameter / 2;
        let layer = &network.layers[l];
        let (row, unit) = if entry.parameter % 2 == 1 {
            (None, entry.index)
        } else {
            (Some(entry.index / layer.outputs()), entry.index % layer.outputs())
        };
        let input = if l == 0 { x } else { self.a[l - 1].view() };
        let mut column = self.z[l].slice(s![.., unit..=unit]).to_owned();
        for (s, z) in column.iter_mut().enumerate() {
            *z += row.map_or(delta, |i| delta * input[(s, i)]);
        }
        let last = network.layers.len() - 1;
        let mut out = if l == last {
            self.z[l].clone()
        } else {
            self.a[l].clone()
        };
        if l < last {
            network.activation.forward(column.view_mut());
        }
        out.slice_mut(s![.., unit..=unit]).assign(&column);
        for (k, above) in network.layers.iter().enumerate().skip(l + 1) {
            let mut z = Array2::zeros((x.nrows(), above.outputs()));
            above.forward(out.view(), z.view_mut());
            if k < last {
                network.activation.forward(z.view_mut());
            }
            out = z;
        }
        network.loss(out.view(), t, 0.0)
    }
}

/// The L2 penalty with `entry` moved by `delta`, from the unmoved one: only a weight's own square
/// changes (biases carry no penalty).
fn penalty_moved(network: &Network<f64>, l2: f64, penalty: f64, entry: Entry, delta: f64) -> f64 {
    if l2 == 0.0 || entry.parameter % 2 == 1 {
        return penalty;
    }
    let w = network.layers[entry.parameter / 2]
        .weight
        .as_slice()
        .expect("weights are contiguous")[entry.index];
    penalty + 0.5 * l2 * ((w + delta) * (w + delta) - w * w)
}

/// The worst disagreement between backprop and central differences over a network's parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Discrepancy {
    /// How many parameters were compared.
    pub parameters: usize,
    /// The worst relative error over all parameters.
    pub worst_relative_error: f64,
    /// Where it occurred, e.g. `layers.1.weight[3]`.
    pub worst_parameter: String,
    pub analytic: f64,
    pub numeric: f64,
}

/// The worst of `checks` (the first of equals), and how many there were.
pub fn worst_of(checks: &[EntryCheck]) -> Discrepancy {
    let mut worst = Discrepancy::default();
    for check in checks {
        if check.relative_error > worst.worst_relative_error || worst.worst_parameter.is_empty() {
            worst.worst_relative_error = check.relative_error;
            worst.worst_parameter.clone_from(&check.parameter);
            worst.analytic = check.analytic;
            worst.numeric = check.numeric;
        }
    }
    worst.parameters = checks.len();
    worst
}

fn slot(network: &mut Network<f64>, entry: Entry) -> &mut f64 {
    let (_, values) = network
        .parameters_mut()
        .nth(entry.parameter)
        .expect("parameter index in range");
    &mut values[entry.index]
}

/// `layers.0.weight`, `layers.0.bias`, ... in the order of `Network::parameters_mut`.
pub fn parameter_names<F>(network: &Network<F>) -> Vec<String> {
    (0..network.layers.len())
        .flat_map(|i| [format!("layers.{i}.weight"), format!("layers.{i}.bias")])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Activation, Init, Loss};

    /// The loss at `entry` moved by `delta`, by a whole forward pass of a moved copy.
    fn moved_loss(
        network: &Network<f64>,
        x: ArrayView2<f64>,
        t: ArrayView2<f64>,
        l2: f64,
        entry: Entry,
        delta: f64,
    ) -> f64 {
        let mut moved = network.clone();
        *slot(&mut moved, entry) += delta;
        let mut trace = moved.trace(x.nrows());
        let logits = moved.forward(x, &mut trace).to_owned();
        moved.loss(logits.view(), t, l2)
    }

    #[test]
    fn the_kept_pass_gives_the_loss_of_a_whole_forward_pass_at_every_moved_entry() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for (activation, loss) in [
            (Activation::Sigmoid, Loss::CrossEntropy),
            (Activation::Relu, Loss::BinaryCrossEntropy),
            (Activation::Tanh, Loss::MeanSquaredError(Activation::Identity)),
        ] {
            let network = Network::<f64>::new(&[6, 5, 4, 3], activation, loss, Init::Xavier, &mut rng);
            let x = Array2::from_shape_fn((4, 6), |(s, i)| ((s * 7 + i * 3) % 5) as f64 / 4.0 - 0.3);
            let t = Array2::from_shape_fn((4, 3), |(s, k)| f64::from(u8::from(s % 3 == k)));
            let kept = Kept::new(&network, x.view());
            let l2 = 0.1;
            let penalty = network.l2_penalty(l2);
            for entry in every_entry(&network) {
                for delta in [3e-4, -2e-4] {
                    let fast = kept.loss_moved(&network, x.view(), t.view(), entry, delta)
                        + penalty_moved(&network, l2, penalty, entry, delta);
                    let whole = moved_loss(&network, x.view(), t.view(), l2, entry, delta);
                    assert!(
                        (fast - whole).abs() <= 1e-13 * whole.abs().max(1.0),
                        "{activation} {loss} {entry:?} {delta}: {fast} vs {whole}"
                    );
                }
            }
        }
    }

    #[test]
    fn sampled_entries_are_distinct_in_order_seeded_and_all_when_too_many_are_asked() {
        let network = Network::<f64>::new(
            &[5, 4, 3],
            Activation::Sigmoid,
            Loss::CrossEntropy,
            Init::Xavier,
            &mut ChaCha8Rng::seed_from_u64(1),
        );
        let all = every_entry(&network);
        assert_eq!(all.len(), network.parameter_count());
        let chosen = sampled_entries(&network, 10, 7);
        assert_eq!(chosen.len(), 10);
        assert!(chosen.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(chosen, sampled_entries(&network, 10, 7));
        assert_ne!(chosen, sampled_entries(&network, 10, 8));
        assert_eq!(sampled_entries(&network, 1000, 7), all);
    }
}
