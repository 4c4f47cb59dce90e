//! Learning-rate schedules: the rate of every update as a pure function of its position.
//!
//! With base rate η₀, update number s = 0, 1, ... (counted over the whole run), S updates per
//! epoch, T updates in all (epochs·S, or the `--steps` count) and W = round(warmup·S) warm-up updates:
//!
//! ```text
//! warm-up (s < W):  η = η₀ · (s + 1) / W
//! constant:         η = η₀
//! step:             η = η₀ · γ^⌊s / (k·S)⌋                     every k epochs, times γ
//! cosine:           η = η_min + ½ (η₀ - η_min) (1 + cos(π (s - W) / (T - W)))
//! ```
//!
//! Because the rate depends only on s, the position a checkpoint saves is the update count.

use std::f64::consts::PI;
use std::fmt;

use serde::{Deserialize, Serialize};

/// How the rate decays after the warm-up.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum Decay {
    Constant,
    /// Multiply by `gamma` every `every_epochs` epochs.
    Step {
        every_epochs: usize,
        gamma: f64,
    },
    /// Half a cosine from the base rate down to `min_lr` at the end of the run.
    Cosine {
        min_lr: f64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// η₀.
    pub lr: f64,
    pub decay: Decay,
    /// Epochs (fractions allowed) of linear warm-up from η₀/W to η₀.
    pub warmup_epochs: f64,
}

impl Schedule {
    /// A constant rate `lr`.
    pub fn constant(lr: f64) -> Self {
        Self {
            lr,
            decay: Decay::Constant,
            warmup_epochs: 0.0,
        }
    }

    /// The rate of update `step` (0-based) of a run of `total_steps` updates, `steps_per_epoch` an epoch.
    pub fn lr(&self, step: u64, steps_per_epoch: u64, total_steps: u64) -> f64 {
        let per_epoch = steps_per_epoch.max(1);
        let warmup = (self.warmup_epochs * per_epoch as f64).round() as u64;
        if step < warmup {
            return self.lr * (step + 1) as f64 / warmup as f64;
        }
        match self.decay {
            Decay::Constant => self.lr,
            Decay::Step { every_epochs, gamma } => {
                let drops = step / (every_epochs.max(1) as u64 * per_epoch);
                self.lr * gamma.powi(drops.min(i32::MAX as u64) as i32)
            }
            Decay::Cosine { min_lr } => {
                let span = total_steps.saturating_sub(warmup).max(1);
                let progress = ((step - warmup) as f64 / span as f64).min(1.0);
                min_lr + 0.5 * (self.lr - min_lr) * (1.0 + (PI * progress).cos())
            }
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lr {}", self.lr)?;
        match self.decay {
            Decay::Constant => {}
            Decay::Step { every_epochs, gamma } => write!(f, " x{gamma} every {every_epochs} epochs")?,
            Decay::Cosine { min_lr } => write!(f, " cosine to {min_lr}")?,
        }
        if self.warmup_epochs > 0.0 {
            write!(f, " after {} warm-up epochs", self.warmup_epochs)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_rises_linearly_to_the_base_rate() {
        let schedule = Schedule {
            warmup_epochs: 0.5,
            ..Schedule::constant(0.4)
        };
        // 10 updates per epoch: 5 warm-up updates at 0.08, 0.16, ..., 0.4, then 0.4.
        let rates: Vec<f64> = (0..7).map(|s| schedule.lr(s, 10, 30)).collect();
        let expected = [0.08, 0.16, 0.24, 0.32, 0.4, 0.4, 0.4];
        for (r, e) in rates.iter().zip(expected) {
            assert!((r - e).abs() < 1e-12, "{rates:?}");
        }
    }

    #[test]
    fn step_decay_multiplies_by_gamma_every_k_epochs() {
        let schedule = Schedule {
            decay: Decay::Step {
                every_epochs: 2,
                gamma: 0.5,
            },
            ..Schedule::constant(1.0)
        };
        // 3 updates per epoch; epochs 0-1 at 1.0, 2-3 at 0.5, 4 at 0.25.
        assert_eq!(schedule.lr(5, 3, 15), 1.0);
        assert_eq!(schedule.lr(6, 3, 15), 0.5);
        assert_eq!(schedule.lr(11, 3, 15), 0.5);
        assert_eq!(schedule.lr(12, 3, 15), 0.25);
    }

    #[test]
    fn cosine_goes_from_the_base_rate_through_the_midpoint_to_the_floor() {
        let schedule = Schedule {
            decay: Decay::Cosine { min_lr: 0.1 },
            warmup_epochs: 1.0,
            ..Schedule::constant(1.1)
        };
        // 4 updates per epoch, 3 epochs: warm-up 0..4, then cosine over updates 4..12.
        assert!((schedule.lr(4, 4, 12) - 1.1).abs() < 1e-12);
        assert!((schedule.lr(8, 4, 12) - 0.6).abs() < 1e-12); // halfway: (1.1 + 0.1) / 2
        assert!((schedule.lr(12, 4, 12) - 0.1).abs() < 1e-12);
        assert!(schedule.lr(11, 4, 12) > 0.1);
    }

    #[test]
    fn cosine_ends_at_the_last_update_of_a_run_cut_short_by_steps() {
        let schedule = Schedule {
            decay: Decay::Cosine { min_lr: 0.0 },
            ..Schedule::constant(1.0)
        };
        // 10,000 updates of 600 an epoch: the floor comes at update 10,000, not at the end of epoch 17.
        assert!((schedule.lr(5000, 600, 10_000) - 0.5).abs() < 1e-12);
        assert!(schedule.lr(9999, 600, 10_000) < 1e-6);
    }
}
