//! Parameter updates.
//!
//! Plain mini-batch stochastic gradient descent: `θ ← θ - η · ∂L/∂θ`, over the flat list of
//! parameters so that one loop serves every layer.

use crate::float::Float;
use crate::nn::{Gradients, Network};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    pub learning_rate: f64,
}

impl Sgd {
    /// One update of every weight and bias of `network` from `grads`.
    pub fn step<F: Float>(&self, network: &mut Network<F>, grads: &Gradients<F>) {
        let lr = F::of(self.learning_rate);
        for ((_, param), grad) in network.parameters_mut().zip(grads.slices()) {
            for (p, &g) in param.iter_mut().zip(grad) {
                *p -= lr * g;
            }
        }
    }
}
