//! How a pixel p in 0..=255 becomes a network input x.
//!
//! | scaling    | x                          | where mean and std come from                       |
//! |------------|----------------------------|----------------------------------------------------|
//! | `unit`     | p / 255                    |                                                    |
//! | `standard` | (p / 255 - mean) / std     | all pixels of the training images, as p / 255      |
//!
//! The choice is part of the model (the model file's `input` metadata), so whatever loads a model
//! feeds it inputs scaled the way it was trained. Both are affine, so an image resampled by
//! interpolation (augmentation) may be scaled before or after with the same result.

use std::fmt;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::float::Float;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "scaling", rename_all = "lowercase")]
pub enum Scaling {
    Unit,
    Standard { mean: f64, std: f64 },
}

/// Which scaling a run asks for, before the training pixels say what `standard` means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScalingChoice {
    #[default]
    Unit,
    Standard,
}

impl ScalingChoice {
    /// The scaling of this choice for training on `images`; `None` for `standard` when every pixel
    /// has the same value.
    pub fn fit(self, images: &Array2<u8>) -> Option<Scaling> {
        match self {
            Self::Unit => Some(Scaling::Unit),
            Self::Standard => Scaling::standard_for(images),
        }
    }
}

impl Scaling {
    /// The choice this scaling was made from.
    pub fn choice(self) -> ScalingChoice {
        match self {
            Self::Unit => ScalingChoice::Unit,
            Self::Standard { .. } => ScalingChoice::Standard,
        }
    }

    /// Standardization by the mean and standard deviation of `images`' pixels (as p / 255), or
    /// `None` when every pixel has the same value.
    pub fn standard_for(images: &Array2<u8>) -> Option<Self> {
        let mut counts = [0u64; 256];
        for &p in images {
            counts[usize::from(p)] += 1;
        }
        let n = images.len() as f64;
        let unit = |p: usize| p as f64 / 255.0;
        let mean = counts.iter().enumerate().map(|(p, &c)| c as f64 * unit(p)).sum::<f64>() / n;
        let variance = counts
            .iter()
            .enumerate()
            .map(|(p, &c)| c as f64 * (unit(p) - mean).powi(2))
            .sum::<f64>()
            / n;
        let std = variance.sqrt();
        (std > 0.0 && std.is_finite()).then_some(Self::Standard { mean, std })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Unit => "unit",
            Self::Standard { .. } => "standard",
        }
    }

    /// The input for a pixel value `p` (0.0 to 255.0; fractional after interpolation).
    pub fn apply(self, p: f64) -> f64 {
        match self {
            Self::Unit => p / 255.0,
            Self::Standard { mean, std } => (p / 255.0 - mean) / std,
        }
    }

    /// The scaling as x = p · factor + offset: `(factor, offset)`, for a runtime that scales pixels
    /// itself (an exported graph, a PyTorch module).
    pub fn affine(self) -> (f64, f64) {
        match self {
            Self::Unit => (1.0 / 255.0, 0.0),
            Self::Standard { mean, std } => (1.0 / (255.0 * std), -mean / std),
        }
    }

    /// The input of every pixel value 0..=255, for scaling whole images by lookup.
    pub fn table<F: Float>(self) -> [F; 256] {
        std::array::from_fn(|p| F::of(self.apply(p as f64)))
    }
}

impl fmt::Display for Scaling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unit => f.write_str("pixel/255"),
            Self::Standard { mean, std } => write!(f, "(pixel/255 - {mean:.4}) / {std:.4}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardized_training_pixels_have_mean_zero_and_variance_one() {
        let images = Array2::from_shape_vec((2, 3), vec![0u8, 0, 255, 10, 200, 30]).unwrap();
        let scaling = Scaling::standard_for(&images).unwrap();
        let x: Vec<f64> = images.iter().map(|&p| scaling.apply(f64::from(p))).collect();
        let mean = x.iter().sum::<f64>() / 6.0;
        let variance = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 6.0;
        assert!(
            mean.abs() < 1e-12 && (variance - 1.0).abs() < 1e-12,
            "{mean} {variance}"
        );
    }

    #[test]
    fn a_constant_image_set_cannot_be_standardized() {
        assert_eq!(Scaling::standard_for(&Array2::from_elem((3, 4), 7u8)), None);
    }

    #[test]
    fn the_table_is_the_formula() {
        let scaling = Scaling::Standard { mean: 0.1, std: 0.3 };
        let table: [f32; 256] = scaling.table();
        assert_eq!(table[51], ((51.0 / 255.0 - 0.1) / 0.3) as f32);
        assert_eq!(Scaling::Unit.table::<f64>()[255], 1.0);
    }

    #[test]
    fn the_affine_form_is_the_formula() {
        for scaling in [Scaling::Unit, Scaling::Standard { mean: 0.13, std: 0.31 }] {
            let (factor, offset) = scaling.affine();
            for p in [0.0, 1.0, 77.5, 255.0] {
                let x = p * factor + offset;
                assert!((x - scaling.apply(p)).abs() < 1e-14, "{scaling:?} at {p}: {x}");
            }
        }
    }

    #[test]
    fn the_json_form_is_flat() {
        let text = serde_json::to_string(&Scaling::Standard { mean: 0.5, std: 0.25 }).unwrap();
        assert_eq!(text, r#"{"scaling":"standard","mean":0.5,"std":0.25}"#);
        assert_eq!(serde_json::to_string(&Scaling::Unit).unwrap(), r#"{"scaling":"unit"}"#);
    }
}
