//! The multilayer perceptron: dense layers with one hidden activation, and a loss that owns the
//! output layer's nonlinearity.
//!
//! ```text
//! a₀ = x                          (batch, sizes[0])
//! zᵢ = aᵢ₋₁·Wᵢ + bᵢ,  aᵢ = f(zᵢ)  for the hidden layers i = 1 .. L-1
//! z_L = a_{L-1}·W_L + b_L         the logits (batch, classes); the loss turns them into outputs
//! ```
//!
//! The loss of a batch is the mean per-sample loss plus the L2 penalty `λ/2 · Σ‖Wᵢ‖²` on weights
//! (never biases), whose gradient adds `λ·Wᵢ` to `dWᵢ`.
//!
//! In training, `forward_dropout` applies inverted dropout (see `dropout`) to the hidden layers'
//! outputs: layer i then sees aᵢ₋₁ ⊙ mᵢ, and backward multiplies dL/d(aᵢ₋₁ ⊙ mᵢ) by the same mask.
//! The trace records what every layer read (`layer_input`), so backward takes the very inputs
//! forward used: the batch as given for the first layer (dense or sparse, as `batch` decided).
//! A hidden layer's input that can hold many exact zeros (relu's outputs, dropped ones) is kept
//! as its nonzero values when sparse enough for its layer's width (`SparseInput::for_hidden_layer`:
//! 30% nonzero, or 50% for 256 outputs or more on a CPU with AVX-512): z = x·W + b and
//! dW = xᵀ·dz then skip the zeros, summed as `gemm` sums (`SumOrder::AsGemm`), so that the bits
//! are the same either way and only the time changes. (The first layer keeps its own order, in
//! which every run before was trained.)
//!
//! `forward` fills a `Trace` (the buffers backward needs) and `backward` fills a `Gradients`; both
//! are allocated once for the largest batch and reused, so a training step allocates nothing.

use ndarray::{Array1, Array2, ArrayView2, s};
use rand::Rng;

use super::activation::Activation;
use super::dropout;
use super::init::Init;
use super::layer::{Dense, Input};
use super::loss::Loss;
use crate::float::Float;
use crate::kernels::SparseInput;

#[derive(Clone, Debug, PartialEq)]
pub struct Network<F> {
    pub layers: Vec<Dense<F>>,
    /// The activation of every hidden layer.
    pub activation: Activation,
    pub loss: Loss,
}

/// What the forward pass keeps for backward: each layer's output for the current batch.
#[derive(Clone, Debug)]
pub struct Trace<F> {
    /// outputs[i]: (capacity, units of layer i); a = f(z) for hidden layers, the logits for the last.
    outputs: Vec<Array2<F>>,
    /// deltas[i]: (capacity, units of layer i), dL/dz of layer i during backward; made by the
    /// first backward, so that a trace used only forward (evaluation) does not hold them.
    deltas: Vec<Array2<F>>,
    /// dropped[i]: hidden layer i's input after dropout, with its mask, when the last forward
    /// dropped it (never for the first layer: the batch's own inputs are dropped as it is gathered).
    dropped: Vec<Option<Dropped<F>>>,
    /// sparse[i]: layer i + 1's input kept as its nonzero values, when the last forward found it
    /// sparse enough; summed as `gemm` sums, so the bits are the dense products'.
    sparse: Vec<SparseInput<F>>,
    /// Rows of the current batch.
    rows: usize,
}

/// One layer's input after dropout: what the layer saw, and the mask backward needs.
#[derive(Clone, Debug)]
struct Dropped<F> {
    /// (capacity, inputs of the layer): 0 or 1/(1-p).
    mask: Array2<F>,
    /// (capacity, inputs of the layer): the input times the mask.
    input: Array2<F>,
    /// Whether the last forward used it.
    active: bool,
}

/// dL/dW and dL/db for every layer, shaped like the network's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients<F> {
    pub layers: Vec<Dense<F>>,
}

impl<F: Float> Network<F> {
    /// A network with layer widths `sizes` (input, hidden..., output), weights drawn by `init`.
    pub fn new<R: Rng + ?Sized>(sizes: &[usize], activation: Activation, loss: Loss, init: Init, rng: &mut R) -> Self {
        assert!(
            sizes.len() >= 2 && sizes.iter().all(|&s| s > 0),
            "layer sizes {sizes:?} must be positive"
        );
        let layers = sizes
            .windows(2)
            .map(|w| Dense {
                weight: init.weights(w[0], w[1], rng),
                bias: Array1::zeros(w[1]),
            })
            .collect();
        Self {
            layers,
            activation,
            loss,
        }
    }

    /// Layer widths: input, hidden..., output.
    /// The same network in another float type, each parameter the nearest value of `G`: a model
    /// trained in f32 is gradient-checked in f64.
    pub fn cast<G: Float>(&self) -> Network<G> {
        let cast = |value: &F| G::of(value.as_f64());
        Network {
            layers: self
                .layers
                .iter()
                .map(|layer| Dense {
                    weight: layer.weight.map(cast),
                    bias: layer.bias.map(cast),
                })
                .collect(),
            activation: self.activation,
            loss: self.loss,
        }
    }

    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.layers[0].inputs()];
        sizes.extend(self.layers.iter().map(Dense::outputs));
        sizes
    }

    pub fn inputs(&self) -> usize {
        self.layers[0].inputs()
    }

    pub fn outputs(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs()
    }

    /// Number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(|l| l.weight.len() + l.bias.len()).sum()
    }

    /// Buffers for batches of up to `capacity` rows.
    pub fn trace(&self, capacity: usize) -> Trace<F> {
        Trace {
            outputs: self.unit_buffers(capacity),
            deltas: Vec::new(),
            dropped: vec![None; self.layers.len()],
            sparse: self.layers[1..]
                .iter()
                .map(|layer| SparseInput::for_hidden_layer(layer.weight.ncols()))
                .collect(),
            rows: 0,
        }
    }

    /// A zeroed (capacity, units) buffer for each layer.
    fn unit_buffers(&self, capacity: usize) -> Vec<Array2<F>> {
        self.layers
            .iter()
            .map(|l| Array2::zeros((capacity, l.outputs())))
            .collect()
    }

    /// Zeroed gradients shaped like this network.
    pub fn zero_gradients(&self) -> Gradients<F> {
        Gradients {
            layers: self
                .layers
                .iter()
                .map(|l| Dense::zeros(l.inputs(), l.outputs()))
                .collect(),
        }
    }

    /// Runs x (batch, inputs) through the network; returns the logits (batch, outputs), which stay
    /// in `trace` with every hidden output for `backward`. The first layer reads x as it is given,
    /// dense or sparse (`batch::Batch` decides which).
    pub fn forward<'a, 't>(&self, x: impl Into<Input<'a, F>>, trace: &'t mut Trace<F>) -> ArrayView2<'t, F> {
        self.run_forward(x.into(), trace, None)
    }

    /// `forward` for training, dropping every hidden layer's outputs with probability `hidden`, the
    /// masks drawn from `rng` and kept in `trace`. (The network's input is dropped, when it is,
    /// as the batch is gathered: see `batch::Gatherer`.)
    pub fn forward_dropout<'a, 't>(
        &self,
        x: impl Into<Input<'a, F>>,
        trace: &'t mut Trace<F>,
        hidden: f64,
        rng: &mut dyn Rng,
    ) -> ArrayView2<'t, F> {
        self.run_forward(x.into(), trace, Some((hidden, rng)).filter(|&(p, _)| p > 0.0))
    }

    fn run_forward<'t>(
        &self,
        x: Input<F>,
        trace: &'t mut Trace<F>,
        mut dropout: Option<(f64, &mut dyn Rng)>,
    ) -> ArrayView2<'t, F> {
        let rows = x.rows();
        trace.ensure_capacity(self, rows);
        trace.rows = rows;
        let capacity = trace.outputs[0].nrows();
        let last = self.layers.len() - 1;
        let Trace {
            outputs,
            dropped,
            sparse,
            ..
        } = trace;
        for (i, layer) in self.layers.iter().enumerate() {
            let (done, rest) = outputs.split_at_mut(i);
            let slot = &mut dropped[i];
            if let Some(slot) = slot {
                slot.active = false;
            }
            if let (Some((p, rng)), Some(previous)) = (dropout.as_mut(), done.last()) {
                let slot = slot.get_or_insert_with(|| Dropped {
                    mask: Array2::zeros((capacity, layer.inputs())),
                    input: Array2::zeros((capacity, layer.inputs())),
                    active: false,
                });
                let mut mask = slot.mask.slice_mut(s![..rows, ..]);
                dropout::draw_mask(*p, mask.view_mut(), &mut **rng);
                dropout::forward(
                    previous.slice(s![..rows, ..]),
                    mask.view(),
                    slot.input.slice_mut(s![..rows, ..]),
                );
                slot.active = true;
            }
            let mut input = layer_input(x.reborrow(), done.last(), dropped[i].as_ref(), rows);
            if let (Some(kept), Input::Dense(dense)) = (i.checked_sub(1).map(|p| &mut sparse[p]), input) {
                kept.clear();
                let zeros = self.activation.gives_zeros() || dropped[i].as_ref().is_some_and(|d| d.active);
                if zeros && kept.fill_if_sparse(dense) {
                    input = Input::Sparse(kept);
                }
            }
            let mut z = rest[0].slice_mut(s![..rows, ..]);
            layer.forward(input, z.view_mut());
            if i < last {
                self.activation.forward(z);
            }
        }
        trace.outputs[last].slice(s![..rows, ..])
    }

    /// Backward pass for the batch `x` that `trace` holds, against targets `t` (batch, outputs).
    /// Overwrites `grads` with the gradient of the mean loss plus the L2 penalty `l2`.
    pub fn backward<'a>(
        &self,
        x: impl Into<Input<'a, F>>,
        trace: &mut Trace<F>,
        t: ArrayView2<F>,
        l2: F,
        grads: &mut Gradients<F>,
    ) {
        let x = x.into();
        let rows = trace.rows;
        assert_eq!(x.rows(), rows, "backward needs the batch that forward saw");
        let last = self.layers.len() - 1;
        let Trace {
            outputs,
            deltas,
            dropped,
            sparse,
            ..
        } = trace;
        if deltas.is_empty() {
            *deltas = self.unit_buffers(outputs[0].nrows());
        }

        let mut dz = deltas[last].slice_mut(s![..rows, ..]);
        dz.assign(&outputs[last].slice(s![..rows, ..]));
        self.loss.backward(dz, t);

        for (i, layer) in self.layers.iter().enumerate().rev() {
            let (below, this) = deltas.split_at_mut(i);
            let dz = this[0].slice(s![..rows, ..]);
            let dropped = dropped[i].as_ref();
            let input = match i.checked_sub(1).map(|p| &mut sparse[p]) {
                Some(kept) if kept.rows().is_some() => {
                    // Into the room the trace made for it, so that no step allocates.
                    kept.keep_columns();
                    Input::Sparse(kept)
                }
                _ => layer_input(x.reborrow(), i.checked_sub(1).map(|p| &outputs[p]), dropped, rows),
            };
            let grad = &mut grads.layers[i];
            let dx = below.last_mut().map(|d| d.slice_mut(s![..rows, ..]));
            layer.backward(input, dz, grad.weight.view_mut(), grad.bias.view_mut(), dx);
            if i > 0 {
                let mut da = below[i - 1].slice_mut(s![..rows, ..]);
                if let Some(d) = dropped.filter(|d| d.active) {
                    dropout::backward(d.mask.slice(s![..rows, ..]), da.view_mut());
                }
                self.activation.backward(outputs[i - 1].slice(s![..rows, ..]), da);
            }
            if l2 != F::zero() {
                grad.weight.scaled_add(l2, &layer.weight);
            }
        }
    }

    /// The batch's mean loss from the logits of the last `forward`, plus the L2 penalty.
    pub fn loss(&self, logits: ArrayView2<F>, t: ArrayView2<F>, l2: F) -> F {
        let data = self.loss.total(logits, t) / F::of(logits.nrows() as f64);
        data + self.l2_penalty(l2)
    }

    /// λ/2 · Σ‖W‖² over every layer's weights.
    pub fn l2_penalty(&self, l2: F) -> F {
        if l2 == F::zero() {
            return F::zero();
        }
        let squares: F = self
            .layers
            .iter()
            .map(|l| l.weight.iter().map(|&w| w * w).sum::<F>())
            .sum();
        F::of(0.5) * l2 * squares
    }

    /// The network's outputs (probabilities for softmax and sigmoid) for x (batch, inputs).
    pub fn predict(&self, x: ArrayView2<F>) -> Array2<F> {
        let mut trace = self.trace(x.nrows());
        let mut sparse = SparseInput::default();
        let mut outputs = self.forward(Input::choose(x, &mut sparse), &mut trace).to_owned();
        self.loss.output_activation().forward(outputs.view_mut());
        outputs
    }

    /// Every parameter as a flat slice, in the order W₁, b₁, W₂, b₂, ...; `is_weight` tells them apart.
    pub fn parameters(&self) -> impl Iterator<Item = (bool, &[F])> {
        self.layers.iter().flat_map(|l| {
            let weight = l.weight.as_slice().expect("weights are contiguous");
            let bias = l.bias.as_slice().expect("biases are contiguous");
            [(true, weight), (false, bias)]
        })
    }

    /// `parameters`, mutable.
    pub fn parameters_mut(&mut self) -> impl Iterator<Item = (bool, &mut [F])> {
        self.layers.iter_mut().flat_map(|l| {
            let weight = l.weight.as_slice_mut().expect("weights are contiguous");
            let bias = l.bias.as_slice_mut().expect("biases are contiguous");
            [(true, weight), (false, bias)]
        })
    }
}

impl<F: Float> Gradients<F> {
    /// Every gradient as a flat slice, in the order of `Network::parameters_mut`.
    pub fn slices(&self) -> impl Iterator<Item = &[F]> {
        self.layers.iter().flat_map(|l| {
            [
                l.weight.as_slice().expect("contiguous"),
                l.bias.as_slice().expect("contiguous"),
            ]
        })
    }
}

/// What layer i reads from a forward pass of `rows` rows: the batch x for the first layer; for the
/// others, the output of the layer below (`previous`), or its dropped copy when the last forward
/// dropped it. Forward and backward both ask here.
fn layer_input<'a, F: Float>(
    x: Input<'a, F>,
    previous: Option<&'a Array2<F>>,
    dropped: Option<&'a Dropped<F>>,
    rows: usize,
) -> Input<'a, F> {
    match (dropped.filter(|d| d.active), previous) {
        (Some(d), _) => Input::Dense(d.input.slice(s![..rows, ..])),
        (None, Some(previous)) => Input::Dense(previous.slice(s![..rows, ..])),
        (None, None) => x,
    }
}

impl<F: Float> Trace<F> {
    fn ensure_capacity(&mut self, network: &Network<F>, rows: usize) {
        if self.outputs.first().is_none_or(|o| o.nrows() < rows) {
            *self = network.trace(rows);
        }
    }
}

/// The index of the largest value of each row of `outputs` (batch, classes): the predicted classes.
pub fn argmax_rows<F: Float>(outputs: ArrayView2<'_, F>) -> impl Iterator<Item = usize> + '_ {
    outputs.into_outer_iter().map(|row| {
        let mut best = 0;
        for (j, &v) in row.iter().enumerate() {
            if v > row[best] {
                best = j;
            }
        }
        best
    })
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::kernels::gemm;

    /// A relu net whose first hidden outputs are mostly zero keeps them sparse for the next layer,
    /// and its logits and weight gradients are still the dense products' bit for bit.
    #[test]
    fn sparse_hidden_inputs_give_the_dense_bits() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let init = Init::default_for(Activation::Relu);
        let mut net = Network::<f32>::new(
            &[64, 200, 160, 10],
            Activation::Relu,
            Loss::CrossEntropy,
            init,
            &mut rng,
        );
        net.layers[0].bias.fill(-1.0);
        net.layers[1].bias = Array1::from_shape_simple_fn(160, || rng.random_range(-0.5f32..0.5));
        // More rows than one block of gemm's depth (the depth of xᵀ·dz).
        let rows = 400;
        let x = Array2::from_shape_simple_fn((rows, 64), || rng.random_range(0.0f32..1.0));
        let t = Array2::from_shape_fn((rows, 10), |(r, c)| if r % 10 == c { 1.0 } else { 0.0 });

        let mut trace = net.trace(rows);
        let logits = net.forward(x.view(), &mut trace).to_owned();
        assert!(trace.sparse[0].rows().is_some(), "layer 2's input was not kept sparse");
        let mut grads = net.zero_gradients();
        net.backward(x.view(), &mut trace, t.view(), 0.0, &mut grads);

        // The same layers on dense inputs.
        let mut inputs = vec![x];
        for (i, layer) in net.layers.iter().enumerate() {
            let mut z = Array2::zeros((rows, layer.outputs()));
            layer.forward(inputs[i].view(), z.view_mut());
            if i + 1 < net.layers.len() {
                net.activation.forward(z.view_mut());
            }
            inputs.push(z);
        }
        assert_eq!(logits, inputs[3]);
        for (i, grad) in grads.layers.iter().enumerate() {
            let mut want = Array2::zeros(grad.weight.dim());
            let dz = trace.deltas[i].slice(s![..rows, ..]);
            gemm(1.0, inputs[i].t(), dz, 0.0, &mut want.view_mut());
            assert_eq!(grad.weight, want, "dW of layer {}", i + 1);
        }
    }
}
