//! Inverted dropout: forward and backward side by side.
//!
//! During training each input unit of a layer is kept with probability 1 - p and scaled by
//! 1/(1 - p), or dropped to zero, so its expected value is unchanged and evaluation uses the
//! network as it is, with no dropout and no rescaling. Shapes: x, mask and y are (batch, units).
//!
//! ```text
//! forward:   mᵢⱼ = 1/(1-p) with probability 1-p, else 0;   y = x ⊙ m
//! backward:  dx = dy ⊙ m
//! ```
//!
//! The mask is kept (in the network's `Trace`) for backward. Each element takes one 32-bit draw
//! from the generator: kept when the draw is at least p·2³².

use ndarray::{ArrayView2, ArrayViewMut2, Zip};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::float::Float;

/// Drop probabilities for the network's input and for every hidden layer's output; 0 is off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Dropout {
    pub input: f64,
    pub hidden: f64,
}

impl Dropout {
    pub const OFF: Self = Self {
        input: 0.0,
        hidden: 0.0,
    };

    /// The drop probability of layer `layer`'s input: the network input for layer 0, else the
    /// output of hidden layer `layer - 1`.
    pub fn rate_before(self, layer: usize) -> f64 {
        if layer == 0 { self.input } else { self.hidden }
    }
}

/// Draws a mask (batch, units) for drop probability `p` in [0, 1).
pub fn draw_mask<F: Float, R: Rng + ?Sized>(p: f64, mut mask: ArrayViewMut2<F>, rng: &mut R) {
    let threshold = (p * 2f64.powi(32)).round().min(u32::MAX as f64) as u32;
    let keep = F::of(1.0 / (1.0 - p));
    for m in mask.iter_mut() {
        *m = if rng.next_u32() >= threshold { keep } else { F::zero() };
    }
}

/// In place: x (batch, units) becomes x ⊙ m for a mask m drawn as `draw_mask` draws it, value by
/// value in the same order, so it equals `forward` of `draw_mask`'s mask. For the network's input,
/// which backward needs only as it was dropped (no mask is kept).
pub fn drop_in_place<F: Float, R: Rng + ?Sized>(p: f64, mut x: ArrayViewMut2<F>, rng: &mut R) {
    let threshold = (p * 2f64.powi(32)).round().min(u32::MAX as f64) as u32;
    let keep = F::of(1.0 / (1.0 - p));
    for v in x.iter_mut() {
        *v *= if rng.next_u32() >= threshold { keep } else { F::zero() };
    }
}

/// y = x ⊙ mask; all (batch, units).
pub fn forward<F: Float>(x: ArrayView2<F>, mask: ArrayView2<F>, mut y: ArrayViewMut2<F>) {
    Zip::from(&mut y).and(&x).and(&mask).for_each(|y, &x, &m| *y = x * m);
}

/// In place: dy = dL/dy becomes dx = dy ⊙ mask; both (batch, units).
pub fn backward<F: Float>(mask: ArrayView2<F>, mut d: ArrayViewMut2<F>) {
    Zip::from(&mut d).and(&mask).for_each(|d, &m| *d *= m);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn masks_keep_about_one_minus_p_scaled_to_keep_the_mean() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut mask = Array2::<f64>::zeros((200, 500));
        draw_mask(0.3, mask.view_mut(), &mut rng);
        let kept = mask.iter().filter(|&&m| m != 0.0).count() as f64 / mask.len() as f64;
        assert!((kept - 0.7).abs() < 0.005, "kept {kept}");
        assert!(mask.iter().all(|&m| m == 0.0 || (m - 1.0 / 0.7).abs() < 1e-15));
        let mean = mask.mean().unwrap();
        assert!((mean - 1.0).abs() < 0.01, "mean {mean}");
    }

    #[test]
    fn dropping_in_place_equals_drawing_a_mask_and_applying_it() {
        let x = Array2::from_shape_fn((7, 9), |(i, j)| (i * 9 + j) as f32 * 0.25 - 3.0);
        let mut mask = Array2::<f32>::zeros((7, 9));
        draw_mask(0.3, mask.view_mut(), &mut ChaCha8Rng::seed_from_u64(4));
        let mut masked = Array2::<f32>::zeros((7, 9));
        forward(x.view(), mask.view(), masked.view_mut());
        let mut dropped = x.clone();
        drop_in_place(0.3, dropped.view_mut(), &mut ChaCha8Rng::seed_from_u64(4));
        assert_eq!(dropped, masked);
    }

    #[test]
    fn probability_zero_keeps_everything() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut mask = Array2::<f32>::zeros((10, 10));
        draw_mask(0.0, mask.view_mut(), &mut rng);
        assert!(mask.iter().all(|&m| m == 1.0));
    }
}
