//! The scalar logistic sigmoid, for any float type: the formula the vector code of `vexp` follows
//! and what `nn::activation` applies to one value.
//!
//! sigmoid(z) = 1 / (1 + e^-z) for z ≥ 0 and e^z / (1 + e^z) for z < 0: the exponential is only
//! formed of a value ≤ 0, so it never overflows and the result lies in [0, 1].

use num_traits::Float;

/// The logistic sigmoid, without overflow: e^-z is only formed for z >= 0 and e^z for z < 0.
pub fn sigmoid<F: Float>(z: F) -> F {
    if z >= F::zero() {
        F::one() / (F::one() + (-z).exp())
    } else {
        let e = z.exp();
        e / (F::one() + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_is_finite_and_symmetric_at_extremes() {
        for z in [-1000.0f32, -88.0, -20.0, 0.0, 20.0, 88.0, 1000.0] {
            let s = sigmoid(z);
            assert!(s.is_finite() && (0.0..=1.0).contains(&s), "sigmoid({z}) = {s}");
            assert!((s + sigmoid(-z) - 1.0).abs() < 1e-6);
        }
        assert_eq!(sigmoid(0.0f64), 0.5);
    }
}
