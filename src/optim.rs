//! Parameter updates over the flat list of parameters, so one loop serves every layer.
//!
//! With gradient g of parameter θ, learning rate η (from the schedule) and step count t = 1, 2, ...:
//!
//! | method   | state  | update                                                                  |
//! |----------|--------|-------------------------------------------------------------------------|
//! | sgd      |        | θ ← θ - η g                                                             |
//! | momentum | v      | v ← μ v + g;  θ ← θ - η v                                                |
//! | nesterov | v      | v ← μ v + g;  θ ← θ - η (g + μ v)                                        |
//! | adam     | m, v   | m ← β₁ m + (1-β₁) g;  v ← β₂ v + (1-β₂) g²;                              |
//! |          |        | θ ← θ - η m̂ / (√v̂ + ε),  m̂ = m / (1-β₁ᵗ),  v̂ = v / (1-β₂ᵗ)              |
//! | adamw    | m, v   | θ ← θ - η λ θ (weights only, not biases), then the adam update          |
//!
//! Momentum and Nesterov follow the form of PyTorch (and Sutskever et al. 2013 rewritten so that
//! η multiplies the velocity): a changing learning rate then rescales the whole step at once.
//! AdamW's weight decay is decoupled from the gradient (Loshchilov & Hutter 2019) and, as in
//! PyTorch, scaled by η; the L2 penalty of `--l2` instead adds λθ to g and so goes through the
//! moments like any gradient.
//!
//! Large parameters are updated in pieces on several threads (`PIECE_BYTES`).
//!
//! The state buffers are allocated once, shaped like the parameters, so a step allocates nothing;
//! they and `steps` are what a checkpoint saves to continue exactly.

use std::fmt;

use multiversion::multiversion;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::float::Float;
use crate::nn::{Gradients, Network};

/// Bytes an update streams on one thread before the rest of a parameter goes to others. A larger
/// parameter is updated in pieces spread over the thread pool: a core draws only so much from the
/// shared cache and memory, and the update reads or writes 12 bytes per f32 parameter (SGD), 20
/// (momentum) or 28 (Adam's two moments). Each value is updated alone, so the pieces change nothing
/// in the result. The seed net's 78,400 weights under SGD (940 KB) stay on one thread; speed98's
/// 125,440 under Adam (3.5 MB) go in 4 pieces: its training took 1.31 s instead of 1.59 s (medians
/// of 5 runs alternating, 2026-12-06, with pieces of 2^17 parameters whatever the method).
const PIECE_BYTES: usize = 1 << 20;

/// Parameters in a piece of an update that reads or writes `streams` arrays of F per parameter.
pub(crate) const fn piece<F>(streams: usize) -> usize {
    PIECE_BYTES / (streams * std::mem::size_of::<F>())
}

/// The hyperparameters the command line takes when they are not given.
pub mod defaults {
    pub const MOMENTUM: f64 = 0.9;
    pub const BETA1: f64 = 0.9;
    pub const BETA2: f64 = 0.999;
    pub const EPS: f64 = 1e-8;
    pub const WEIGHT_DECAY: f64 = 0.01;
}

/// An update rule and its hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum Method {
    Sgd,
    Momentum {
        momentum: f64,
    },
    Nesterov {
        momentum: f64,
    },
    Adam {
        beta1: f64,
        beta2: f64,
        eps: f64,
    },
    #[serde(rename = "adamw")]
    AdamW {
        beta1: f64,
        beta2: f64,
        eps: f64,
        weight_decay: f64,
    },
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sgd => "sgd",
            Self::Momentum { .. } => "momentum",
            Self::Nesterov { .. } => "nesterov",
            Self::Adam { .. } => "adam",
            Self::AdamW { .. } => "adamw",
        }
    }

    /// The names of the per-parameter state buffers this method keeps, in their order.
    pub fn slot_names(self) -> &'static [&'static str] {
        match self {
            Self::Sgd => &[],
            Self::Momentum { .. } | Self::Nesterov { .. } => &["velocity"],
            Self::Adam { .. } | Self::AdamW { .. } => &["m", "v"],
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Sgd => f.write_str("sgd"),
            Self::Momentum { momentum } | Self::Nesterov { momentum } => {
                write!(f, "{}(momentum {momentum})", self.name())
            }
            Self::Adam { beta1, beta2, eps } => write!(f, "adam(beta1 {beta1}, beta2 {beta2}, eps {eps:e})"),
            Self::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => write!(
                f,
                "adamw(beta1 {beta1}, beta2 {beta2}, eps {eps:e}, weight decay {weight_decay})"
            ),
        }
    }
}

/// A method with its state for one network.
#[derive(Clone, Debug, PartialEq)]
pub struct Optimizer<F> {
    pub method: Method,
    /// Updates made so far: the t of Adam's bias correction.
    pub steps: u64,
    /// buffers[slot][parameter]: the state named `method.slot_names()[slot]` of each parameter, in
    /// the order of `Network::parameters_mut`, each as long as its parameter.
    pub buffers: Vec<Vec<Vec<F>>>,
}

impl<F: Float> Optimizer<F> {
    /// `method` with zeroed state shaped like `network`'s parameters.
    pub fn new(method: Method, network: &Network<F>) -> Self {
        let lengths: Vec<usize> = network.parameters().map(|(_, p)| p.len()).collect();
        let buffers = method
            .slot_names()
            .iter()
            .map(|_| lengths.iter().map(|&n| vec![F::zero(); n]).collect())
            .collect();
        Self {
            method,
            steps: 0,
            buffers,
        }
    }

    /// One update of every weight and bias of `network` from `grads` with learning rate `lr`.
    /// Returns whether every updated parameter is finite: the check rides on the update's own pass
    /// over memory, where a separate pass would stream every parameter again.
    pub fn step(&mut self, network: &mut Network<F>, grads: &Gradients<F>, lr: f64) -> bool {
        self.steps += 1;
        let t = self.steps as f64;
        let params = network.parameters_mut().zip(grads.slices());
        let mut finite = true;
        match self.method {
            Method::Sgd => {
                let (lr, piece) = (F::of(lr), piece::<F>(3));
                for ((_, theta), grad) in params {
                    finite &= in_pieces(
                        theta.par_chunks_mut(piece).zip(grad.par_chunks(piece)),
                        |(theta, grad)| sgd(theta, grad, lr),
                    );
                }
            }
            Method::Momentum { momentum } | Method::Nesterov { momentum } => {
                let nesterov = matches!(self.method, Method::Nesterov { .. });
                let (lr, mu, piece) = (F::of(lr), F::of(momentum), piece::<F>(5));
                for (p, ((_, theta), grad)) in params.enumerate() {
                    let pieces = theta
                        .par_chunks_mut(piece)
                        .zip(grad.par_chunks(piece))
                        .zip(self.buffers[0][p].par_chunks_mut(piece));
                    finite &= in_pieces(pieces, |((theta, grad), velocity)| {
                        momentum_update(theta, grad, velocity, lr, mu, nesterov)
                    });
                }
            }
            Method::Adam { beta1, beta2, eps } | Method::AdamW { beta1, beta2, eps, .. } => {
                let decay = match self.method {
                    Method::AdamW { weight_decay, .. } => F::of(1.0 - lr * weight_decay),
                    _ => F::one(),
                };
                // m̂ / (√v̂ + ε) = (m / c₁) / (√v / √c₂ + ε) with cᵢ = 1 - βᵢᵗ.
                let adam = Adam {
                    step_size: F::of(lr / (1.0 - beta1.powf(t))),
                    inv_sqrt_c2: F::of(1.0 / (1.0 - beta2.powf(t)).sqrt()),
                    beta1: F::of(beta1),
                    beta2: F::of(beta2),
                    eps: F::of(eps),
                    decay,
                };
                let [first, second] = &mut self.buffers[..] else {
                    unreachable!("adam keeps two slots")
                };
                for (p, ((is_weight, theta), grad)) in params.enumerate() {
                    let adam = Adam {
                        decay: if is_weight { decay } else { F::one() },
                        ..adam
                    };
                    let piece = piece::<F>(7);
                    let pieces = theta
                        .par_chunks_mut(piece)
                        .zip(grad.par_chunks(piece))
                        .zip(first[p].par_chunks_mut(piece))
                        .zip(second[p].par_chunks_mut(piece));
                    finite &= in_pieces(pieces, |(((theta, grad), first), second)| {
                        adam_update(theta, grad, first, second, adam)
                    });
                }
            }
        }
        finite
    }
}

/// Runs `update` on every piece, side by side, and tells whether all of them left finite values.
/// Every piece runs: the update must not stop at the first piece that diverged.
fn in_pieces<P: IndexedParallelIterator>(pieces: P, update: impl Fn(P::Item) -> bool + Sync + Send) -> bool {
    pieces.map(update).reduce(|| true, |a, b| a & b)
}

// The updates below are compiled twice, for the baseline CPU and for AVX2 (twice the lanes for the
// divisions and square roots of Adam), and chosen at run time. Neither contracts a product and a sum
// into one FMA, so both give the same bits.

/// θ ← θ - η g; returns whether every new θ is finite.
#[multiversion(targets("x86_64+avx2+fma"))]
fn sgd<F: Float>(theta: &mut [F], grad: &[F], lr: F) -> bool {
    let mut finite = true;
    for (w, &g) in theta.iter_mut().zip(grad) {
        *w -= lr * g;
        finite &= w.is_finite();
    }
    finite
}

/// `value`, or 0 where it is subnormal (below the smallest normal value, 1.2e-38 in f32).
///
/// A moment whose gradient stays 0 (the weights of a pixel that is almost never lit) decays
/// geometrically: Adam's first moment spends about 150 steps among the subnormal values on its way
/// to 0. On many CPUs each instruction with a subnormal operand or result takes a slow path of
/// about a hundred cycles, for all its lanes: speed98's last two epochs took 0.33-0.39 s of
/// training against 0.22 s for the first three, and 0.22 s again with the moments flushed
/// (2026-12-06, Intel Xeon). What flushing changes is below 1.2e-38: a weight moves by at most
/// η·1.2e-38/ε less, which leaves it as it was unless it is itself below about 1e-25. It is done
/// in the code, not by the CPU's flush-to-zero mode, which Rust does not allow to be changed.
#[inline(always)]
fn flush_subnormal<F: Float>(value: F) -> F {
    if value.abs() < F::min_positive_value() {
        F::zero()
    } else {
        value
    }
}

/// v ← μ v + g (0 when subnormal); θ ← θ - η v (or θ - η (g + μ v), Nesterov); returns whether
/// every new θ is finite.
#[multiversion(targets("x86_64+avx2+fma"))]
fn momentum_update<F: Float>(theta: &mut [F], grad: &[F], velocity: &mut [F], lr: F, mu: F, nesterov: bool) -> bool {
    let mut finite = true;
    for ((w, &g), v) in theta.iter_mut().zip(grad).zip(velocity) {
        *v = flush_subnormal(mu * *v + g);
        *w -= lr * if nesterov { g + mu * *v } else { *v };
        finite &= w.is_finite();
    }
    finite
}

/// The constants of one Adam step of one parameter.
#[derive(Clone, Copy)]
struct Adam<F> {
    /// η / (1 - β₁ᵗ)
    step_size: F,
    /// 1 / √(1 - β₂ᵗ)
    inv_sqrt_c2: F,
    beta1: F,
    beta2: F,
    eps: F,
    /// AdamW's 1 - η λ for weights, else 1.
    decay: F,
}

/// Adam's update of a piece of θ and its moments m, v (each 0 when subnormal); returns whether
/// every new θ is finite.
#[multiversion(targets("x86_64+avx2+fma"))]
fn adam_update<F: Float>(theta: &mut [F], grad: &[F], first: &mut [F], second: &mut [F], adam: Adam<F>) -> bool {
    let Adam {
        step_size,
        inv_sqrt_c2,
        beta1,
        beta2,
        eps,
        decay,
    } = adam;
    let (one_minus_b1, one_minus_b2) = (F::one() - beta1, F::one() - beta2);
    let mut finite = true;
    for (((w, &g), m), v) in theta.iter_mut().zip(grad).zip(first).zip(second) {
        *m = flush_subnormal(beta1 * *m + one_minus_b1 * g);
        *v = flush_subnormal(beta2 * *v + one_minus_b2 * g * g);
        *w = decay * *w - step_size * *m / (v.sqrt() * inv_sqrt_c2 + eps);
        finite &= w.is_finite();
    }
    finite
}

#[cfg(test)]
mod tests {
    //! Each method against its textbook formula, written out in scalar f64 for every parameter of a
    //! tiny 2-2-1 network on the quadratic bowl L = ½ Σ (θ - c)², whose gradient is θ - c.
    use super::*;
    use crate::nn::{Activation, Init, Loss};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const STEPS: usize = 4;
    const LRS: [f64; STEPS] = [0.1, 0.05, 0.2, 0.1];

    const TINY: &[usize] = &[2, 2, 1];

    fn network(sizes: &[usize]) -> Network<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut net = Network::new(sizes, Activation::Tanh, Loss::CrossEntropy, Init::Xavier, &mut rng);
        for (k, (_, values)) in net.parameters_mut().enumerate() {
            for (i, v) in values.iter_mut().enumerate() {
                *v += 0.1 * (k + i) as f64; // nonzero biases too
            }
        }
        net
    }

    /// The bowl's centre for the parameter numbered `flat` in the order of `parameters_mut`.
    fn centre(flat: usize) -> f64 {
        0.3 - 0.2 * flat as f64
    }

    /// Runs `method` through `STEPS` steps of the bowl; returns the parameters after each step and
    /// which of them are weights.
    fn run(method: Method, sizes: &[usize]) -> (Vec<Vec<f64>>, Vec<bool>) {
        let mut net = network(sizes);
        let mut optimizer = Optimizer::new(method, &net);
        let mut grads = net.zero_gradients();
        let mut after = Vec::new();
        for lr in LRS {
            let theta: Vec<f64> = net.parameters_mut().flat_map(|(_, p)| p.to_vec()).collect();
            let mut flat = 0;
            for layer in &mut grads.layers {
                for g in layer.weight.iter_mut().chain(layer.bias.iter_mut()) {
                    *g = theta[flat] - centre(flat);
                    flat += 1;
                }
            }
            optimizer.step(&mut net, &grads, lr);
            after.push(net.parameters_mut().flat_map(|(_, p)| p.to_vec()).collect());
        }
        let is_weight = net.parameters_mut().flat_map(|(w, p)| vec![w; p.len()]).collect();
        (after, is_weight)
    }

    /// The textbook update of one scalar parameter: `update(θ, g, state, lr, t, is_weight)` returns θ'.
    fn reference(method: Method, update: impl Fn(f64, f64, &mut [f64; 2], f64, f64, bool) -> f64) {
        reference_on(method, TINY, update);
    }

    /// `reference` on a network of `sizes`.
    fn reference_on(method: Method, sizes: &[usize], update: impl Fn(f64, f64, &mut [f64; 2], f64, f64, bool) -> f64) {
        let (after, is_weight) = run(method, sizes);
        let start: Vec<f64> = network(sizes).parameters_mut().flat_map(|(_, p)| p.to_vec()).collect();
        for (flat, &theta0) in start.iter().enumerate() {
            let mut theta = theta0;
            let mut state = [0.0; 2];
            for (step, lr) in LRS.into_iter().enumerate() {
                let g = theta - centre(flat);
                theta = update(theta, g, &mut state, lr, (step + 1) as f64, is_weight[flat]);
                let got = after[step][flat];
                assert!(
                    (got - theta).abs() <= 1e-12 * theta.abs().max(1.0),
                    "{method}: parameter {flat} after step {}: {got} vs the formula's {theta}",
                    step + 1
                );
            }
        }
    }

    #[test]
    fn moments_become_zero_instead_of_subnormal() {
        // One step with a gradient, then none: the moments decay by their β each step, through the
        // subnormal values if nothing stopped them. Every value must stay 0 or normal, and reach 0.
        let adam = Method::Adam {
            beta1: 0.9,
            beta2: 0.5,
            eps: 1e-8,
        };
        for method in [Method::Momentum { momentum: 0.5 }, adam] {
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            let mut net = Network::<f32>::new(TINY, Activation::Tanh, Loss::CrossEntropy, Init::Xavier, &mut rng);
            let mut optimizer = Optimizer::new(method, &net);
            let mut grads = net.zero_gradients();
            grads.layers[0].weight.fill(1e-3);
            optimizer.step(&mut net, &grads, 0.1);
            grads.layers[0].weight.fill(0.0);
            let moments = |optimizer: &Optimizer<f32>| {
                optimizer
                    .buffers
                    .iter()
                    .flatten()
                    .flatten()
                    .copied()
                    .collect::<Vec<_>>()
            };
            assert!(moments(&optimizer).iter().any(|&v| v != 0.0));
            // 0.9^t takes 1e-4 below 1.2e-38 after 760 steps and to 0 after about 150 more.
            for _ in 0..1000 {
                optimizer.step(&mut net, &grads, 0.1);
                assert!(
                    moments(&optimizer).iter().all(|&v| v == 0.0 || v.is_normal()),
                    "{method}: a subnormal moment after step {}",
                    optimizer.steps
                );
            }
            assert!(moments(&optimizer).iter().all(|&v| v == 0.0), "{method}: moments left");
        }
    }

    #[test]
    fn sgd_follows_its_formula() {
        reference(Method::Sgd, |theta, g, _, lr, _, _| theta - lr * g);
    }

    #[test]
    fn momentum_follows_its_formula() {
        reference(Method::Momentum { momentum: 0.9 }, |theta, g, s, lr, _, _| {
            s[0] = 0.9 * s[0] + g;
            theta - lr * s[0]
        });
    }

    #[test]
    fn nesterov_follows_its_formula() {
        reference(Method::Nesterov { momentum: 0.8 }, |theta, g, s, lr, _, _| {
            s[0] = 0.8 * s[0] + g;
            theta - lr * (g + 0.8 * s[0])
        });
    }

    fn adam(theta: f64, g: f64, s: &mut [f64; 2], lr: f64, t: f64) -> f64 {
        let (b1, b2, eps) = (0.9, 0.99, 1e-8);
        s[0] = b1 * s[0] + (1.0 - b1) * g;
        s[1] = b2 * s[1] + (1.0 - b2) * g * g;
        let m_hat = s[0] / (1.0 - b1.powf(t));
        let v_hat = s[1] / (1.0 - b2.powf(t));
        theta - lr * m_hat / (v_hat.sqrt() + eps)
    }

    #[test]
    fn adam_follows_its_formula() {
        let method = Method::Adam {
            beta1: 0.9,
            beta2: 0.99,
            eps: 1e-8,
        };
        reference(method, |theta, g, s, lr, t, _| adam(theta, g, s, lr, t));
    }

    #[test]
    fn adamw_decays_weights_but_not_biases_apart_from_the_gradient() {
        let method = Method::AdamW {
            beta1: 0.9,
            beta2: 0.99,
            eps: 1e-8,
            weight_decay: 0.5,
        };
        reference(method, |theta, g, s, lr, t, is_weight| {
            let decayed = if is_weight { theta - lr * 0.5 * theta } else { theta };
            adam(decayed, g, s, lr, t)
        });
    }

    #[test]
    fn parameters_longer_than_a_piece_are_updated_whole_on_several_threads() {
        // 600x400 weights (f64): several pieces for every method, spread over the threads.
        let sizes = &[600, 400, 1];
        const { assert!(600 * 400 > 2 * piece::<f64>(3)) };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        pool.install(|| {
            reference_on(Method::Sgd, sizes, |theta, g, _, lr, _, _| theta - lr * g);
            reference_on(Method::Nesterov { momentum: 0.8 }, sizes, |theta, g, s, lr, _, _| {
                s[0] = 0.8 * s[0] + g;
                theta - lr * (g + 0.8 * s[0])
            });
            let method = Method::AdamW {
                beta1: 0.9,
                beta2: 0.99,
                eps: 1e-8,
                weight_decay: 0.5,
            };
            reference_on(method, sizes, |theta, g, s, lr, t, is_weight| {
                let decayed = if is_weight { theta - lr * 0.5 * theta } else { theta };
                adam(decayed, g, s, lr, t)
            });
        });
    }

    #[test]
    fn a_step_tells_whether_every_parameter_stayed_finite_and_updates_all_pieces_either_way() {
        // 600x400 weights span two pieces; an infinite gradient in the first must not stop the second.
        let sizes = &[600, 400, 1];
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let methods = [
            Method::Sgd,
            Method::Momentum { momentum: 0.9 },
            Method::Adam {
                beta1: 0.9,
                beta2: 0.99,
                eps: 1e-8,
            },
        ];
        for method in methods {
            let mut net = network(sizes);
            let mut optimizer = Optimizer::new(method, &net);
            let mut grads = net.zero_gradients();
            grads.layers[0].weight.fill(1.0);
            assert!(
                pool.install(|| optimizer.step(&mut net, &grads, 0.1)),
                "{method}: finite"
            );
            let before = net.layers[0].weight.clone();
            grads.layers[0].weight[(0, 5)] = f64::INFINITY;
            assert!(
                !pool.install(|| optimizer.step(&mut net, &grads, 0.1)),
                "{method}: infinite"
            );
            let (last, last_before) = (net.layers[0].weight[(599, 399)], before[(599, 399)]);
            assert!(last < last_before, "{method}: the second piece was not updated");
        }
    }

    #[test]
    fn the_first_adam_step_moves_each_parameter_by_about_the_learning_rate() {
        // m̂ = g and v̂ = g² after one step, so the update is η·g/(|g| + ε): an independent check of
        // the bias correction.
        let (after, _) = run(
            Method::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            TINY,
        );
        let start: Vec<f64> = network(TINY).parameters_mut().flat_map(|(_, p)| p.to_vec()).collect();
        for (flat, (&before, &now)) in start.iter().zip(&after[0]).enumerate() {
            let g = before - centre(flat);
            assert!(((before - now).abs() - LRS[0]).abs() < 1e-6 || g.abs() < 1e-6, "{flat}");
        }
    }
}
