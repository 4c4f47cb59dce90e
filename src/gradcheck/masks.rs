//! Dropout held still for a gradient check: the same masks on every forward pass, so that the
//! loss is a smooth function of the parameters and its differences compare with backprop through
//! the masks.

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::nn::dropout;
use crate::nn::{Dropout, Network, Trace};

/// Dropout with the same masks on every forward pass, from a generator re-seeded with `seed`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FixedMasks {
    pub dropout: Dropout,
    pub seed: u64,
}

/// A batch ready for forward passes through fixed masks: its inputs after input dropout (which a
/// training batch gets as it is gathered), and the generator that then draws the hidden masks,
/// as it stands after drawing the input's.
pub struct Masked {
    pub x: Array2<f64>,
    hidden: Option<(f64, ChaCha8Rng)>,
}

impl Masked {
    pub fn new(masks: Option<FixedMasks>, x: ArrayView2<f64>) -> Self {
        let mut x = x.to_owned();
        let hidden = masks.map(|m| {
            let mut rng = ChaCha8Rng::seed_from_u64(m.seed);
            if m.dropout.input > 0.0 {
                dropout::drop_in_place(m.dropout.input, x.view_mut(), &mut rng);
            }
            (m.dropout.hidden, rng)
        });
        Self { x, hidden }
    }

    /// The logits of a forward pass through the masks, which are the same on every call.
    pub fn forward<'t>(&self, network: &Network<f64>, trace: &'t mut Trace<f64>) -> ArrayView2<'t, f64> {
        match &self.hidden {
            None => network.forward(self.x.view(), trace),
            Some((p, rng)) => network.forward_dropout(self.x.view(), trace, *p, &mut rng.clone()),
        }
    }
}
