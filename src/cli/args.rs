//! The argument types the subcommands share: the value parsers of numeric flags (each error says
//! what the value must be), the names `--activation`, `--dataset`, `--loss`, `--optimizer`,
//! `--schedule`, `--scaling`, `--init` and `--split` take, and their conversion into the library's
//! types. Every subcommand takes these from here, never from another subcommand.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use super::exit;
use crate::data::catalog::KnownDataset;
use crate::data::scaling::ScalingChoice;
use crate::data::split::Split;
use crate::nn::{Activation, Loss};
use crate::optim::{Method, defaults};

impl ValueEnum for Activation {
    fn value_variants<'a>() -> &'a [Self] {
        &Activation::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

impl ValueEnum for KnownDataset {
    fn value_variants<'a>() -> &'a [Self] {
        &KnownDataset::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

/// The `--scaling` names: how pixels become inputs.
impl ValueEnum for ScalingChoice {
    fn value_variants<'a>() -> &'a [Self] {
        &[ScalingChoice::Unit, ScalingChoice::Standard]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(match self {
            ScalingChoice::Unit => "unit",
            ScalingChoice::Standard => "standard",
        }))
    }
}

/// The `--loss` names; mse's output activation comes from `--output-activation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LossName {
    /// softmax outputs with cross-entropy
    #[value(name = "cross-entropy", alias = "ce")]
    CrossEntropy,
    /// a sigmoid per class with binary cross-entropy
    Bce,
    /// mean squared error (half the squared error) on --output-activation outputs
    Mse,
}

impl LossName {
    /// The loss named by `--loss` with `--output-activation` (which only mse takes; sigmoid by default).
    pub fn with_output(self, output: Option<Activation>) -> anyhow::Result<Loss> {
        match (self, output) {
            (Self::Mse, output) => Ok(Loss::MeanSquaredError(output.unwrap_or(Activation::Sigmoid))),
            (_, Some(_)) => exit::usage_bail!(
                "--output-activation applies only to --loss mse (cross-entropy implies softmax, bce implies sigmoid)"
            ),
            (Self::CrossEntropy, None) => Ok(Loss::CrossEntropy),
            (Self::Bce, None) => Ok(Loss::BinaryCrossEntropy),
        }
    }
}

/// The `--optimizer` names: the update rules of `optim::Method`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OptimizerName {
    /// plain stochastic gradient descent
    Sgd,
    /// heavy-ball momentum
    Momentum,
    /// Nesterov momentum
    Nesterov,
    /// Adam
    Adam,
    /// Adam with decoupled weight decay
    #[value(name = "adamw")]
    AdamW,
}

/// The hyperparameter flags of the update rules (`--momentum`, `--beta1`, `--beta2`, `--eps`,
/// `--weight-decay`), `None` where not given.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct OptimizerFlags {
    pub momentum: Option<f64>,
    pub beta1: Option<f64>,
    pub beta2: Option<f64>,
    pub eps: Option<f64>,
    pub weight_decay: Option<f64>,
}

impl OptimizerName {
    /// The update rule of this name with the hyperparameters in `flags` and `optim::defaults` for
    /// the rest, after checking that each flag given belongs to this rule.
    pub fn method(self, flags: OptimizerFlags) -> anyhow::Result<Method> {
        use OptimizerName::{Adam, AdamW, Momentum, Nesterov, Sgd};
        let only = |flag: &str, given: bool, allowed: &[OptimizerName], to: &str| {
            if given && !allowed.contains(&self) {
                exit::usage_bail!("{flag} applies only to --optimizer {to}");
            }
            anyhow::Ok(())
        };
        only(
            "--momentum",
            flags.momentum.is_some(),
            &[Momentum, Nesterov],
            "momentum or nesterov",
        )?;
        for (flag, value) in [("--beta1", flags.beta1), ("--beta2", flags.beta2), ("--eps", flags.eps)] {
            only(flag, value.is_some(), &[Adam, AdamW], "adam or adamw")?;
        }
        only(
            "--weight-decay",
            flags.weight_decay.is_some(),
            &[AdamW],
            "adamw (for the others, --l2 adds a penalty to the loss)",
        )?;
        let momentum = flags.momentum.unwrap_or(defaults::MOMENTUM);
        let (beta1, beta2, eps) = (
            flags.beta1.unwrap_or(defaults::BETA1),
            flags.beta2.unwrap_or(defaults::BETA2),
            flags.eps.unwrap_or(defaults::EPS),
        );
        Ok(match self {
            Sgd => Method::Sgd,
            Momentum => Method::Momentum { momentum },
            Nesterov => Method::Nesterov { momentum },
            Adam => Method::Adam { beta1, beta2, eps },
            AdamW => Method::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay: flags.weight_decay.unwrap_or(defaults::WEIGHT_DECAY),
            },
        })
    }
}

/// The `--schedule` names: how the learning rate decays after the warm-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScheduleName {
    Constant,
    Step,
    Cosine,
}

/// The `--init` names; auto picks by activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InitName {
    Auto,
    Normal,
    Xavier,
    He,
}

/// The `--split` names: which part of the data set to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SplitName {
    Train,
    Test,
}

impl SplitName {
    /// The library's split of this name.
    pub fn split(self) -> Split {
        match self {
            SplitName::Train => Split::Train,
            SplitName::Test => Split::Test,
        }
    }
}

/// A `--lr`-style value: a finite number greater than zero.
pub fn positive_f64(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err("must be a finite number greater than 0".to_owned()),
        Err(_) => Err(format!("`{text}` is not a number")),
    }
}

/// An `--l2`-style value: a finite number, zero or more.
pub fn non_negative_f64(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        Ok(_) => Err("must be a finite number of 0 or more".to_owned()),
        Err(_) => Err(format!("`{text}` is not a number")),
    }
}

/// A `--momentum` or `--dropout` value: at least 0 and below 1.
pub fn unit_interval(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
        Ok(_) => Err("must be at least 0 and less than 1".to_owned()),
        Err(_) => Err(format!("`{text}` is not a number")),
    }
}

/// A count such as `--epochs` or a layer width: a whole number of at least 1.
pub fn positive_usize(text: &str) -> Result<usize, String> {
    if text.trim().is_empty() {
        return Err("a number is missing (nothing given, or nothing between two commas)".to_owned());
    }
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(v) => Ok(v),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}

/// A `--scale` value: screen pixels per image pixel, 1 to 32.
pub fn scale_factor(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(v) if (1..=32).contains(&v) => Ok(v),
        Ok(_) => Err("must be from 1 to 32".to_owned()),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}

/// A `--seed`: any whole number from 0 to 2^64 - 1.
pub fn seed(text: &str) -> Result<u64, String> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| format!("`{text}` is not a whole number from 0 to {}", u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimizer_flags_not_given_take_the_defaults_and_given_ones_are_checked() {
        let none = OptimizerFlags::default();
        assert_eq!(
            OptimizerName::AdamW.method(none).unwrap(),
            Method::AdamW {
                beta1: defaults::BETA1,
                beta2: defaults::BETA2,
                eps: defaults::EPS,
                weight_decay: defaults::WEIGHT_DECAY,
            }
        );
        let momentum = OptimizerFlags {
            momentum: Some(0.5),
            ..none
        };
        assert_eq!(
            OptimizerName::Nesterov.method(momentum).unwrap(),
            Method::Nesterov { momentum: 0.5 }
        );
        let error = OptimizerName::Adam.method(momentum).unwrap_err();
        assert_eq!(
            error.to_string(),
            "--momentum applies only to --optimizer momentum or nesterov"
        );
        assert!(error.is::<exit::UsageError>());
    }
}
