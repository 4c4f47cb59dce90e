//! What `--augment` asks for: which transforms, how strong, written `shift=2,rotate=10,flip`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Which transforms, how strong; all zero is no augmentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Augment {
    /// Largest shift in pixels, in each direction.
    pub shift: usize,
    /// Largest rotation in degrees, either way.
    pub rotate: f64,
    /// Largest relative change of size: the scale factor is in [1 - scale, 1 + scale].
    pub scale: f64,
    /// α: the displacement (pixels) of a fully coherent elastic field; 0 is off.
    pub elastic: f64,
    /// σ: the smoothness (pixels) of the elastic field.
    pub elastic_sigma: f64,
    /// Mirror half the images left to right. Recorded only when on, so files of runs without it
    /// keep their bytes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flip: bool,
}

/// The default σ of elastic distortions, from Simard et al. (2003).
pub const DEFAULT_ELASTIC_SIGMA: f64 = 4.0;

impl Augment {
    pub fn is_off(&self) -> bool {
        self.shift == 0 && self.rotate == 0.0 && self.scale == 0.0 && self.elastic == 0.0 && !self.flip
    }
}

impl fmt::Display for Augment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.shift > 0 {
            parts.push(format!("shift={}", self.shift));
        }
        if self.rotate > 0.0 {
            parts.push(format!("rotate={}", self.rotate));
        }
        if self.scale > 0.0 {
            parts.push(format!("scale={}", self.scale));
        }
        if self.elastic > 0.0 {
            parts.push(format!("elastic={},elastic-sigma={}", self.elastic, self.elastic_sigma));
        }
        if self.flip {
            parts.push("flip".to_owned());
        }
        if parts.is_empty() {
            parts.push("none".to_owned());
        }
        f.write_str(&parts.join(","))
    }
}

impl FromStr for Augment {
    type Err = String;

    /// `shift=2,rotate=10,scale=0.1,elastic=8,elastic-sigma=4,flip` (any subset, any order), or `none`.
    fn from_str(text: &str) -> Result<Self, String> {
        let mut augment = Augment {
            elastic_sigma: DEFAULT_ELASTIC_SIGMA,
            ..Augment::default()
        };
        if text.trim() == "none" {
            return Ok(augment);
        }
        for part in text.split(',').map(str::trim) {
            if part == "flip" {
                augment.flip = true;
                continue;
            }
            let (key, value) = part.split_once('=').ok_or_else(|| {
                format!("`{part}` is not KEY=VALUE or flip (keys: shift, rotate, scale, elastic, elastic-sigma)")
            })?;
            let number = || -> Result<f64, String> {
                match value.parse::<f64>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                    _ => Err(format!("{key}={value}: expected a number of 0 or more")),
                }
            };
            match key {
                "shift" => {
                    augment.shift = value
                        .parse()
                        .map_err(|_| format!("shift={value}: expected a whole number of pixels"))?;
                }
                "rotate" => augment.rotate = number()?,
                "scale" if number()? < 1.0 => augment.scale = number()?,
                "scale" => return Err(format!("scale={value}: must be below 1")),
                "elastic" => augment.elastic = number()?,
                "elastic-sigma" if number()? > 0.0 => augment.elastic_sigma = number()?,
                "elastic-sigma" => return Err(format!("elastic-sigma={value}: must be above 0")),
                _ => {
                    return Err(format!(
                        "unknown transform `{key}` (known: shift, rotate, scale, elastic, elastic-sigma, flip)"
                    ));
                }
            }
        }
        Ok(augment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_ones_say_what_is_wrong() {
        let a: Augment = "rotate=10, shift=2".parse().unwrap();
        assert_eq!((a.shift, a.rotate, a.scale), (2, 10.0, 0.0));
        assert_eq!(a.to_string(), "shift=2,rotate=10");
        assert!("none".parse::<Augment>().unwrap().is_off());
        for (text, message) in [
            ("shift", "is not KEY=VALUE"),
            ("shift=1.5", "whole number"),
            ("scale=1", "below 1"),
            ("rotate=-3", "0 or more"),
            ("blur=2", "unknown transform `blur`"),
        ] {
            let error = text.parse::<Augment>().unwrap_err();
            assert!(error.contains(message), "{text}: {error}");
        }
    }
}
