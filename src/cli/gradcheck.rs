//! `mlp gradcheck`: the whole suite with no flags, or one configuration.

use anyhow::bail;
use clap::Args;
use serde_json::json;

use super::args::{LossName, non_negative_f64, positive_f64, positive_usize, seed, unit_interval};
use crate::gradcheck::{CheckConfig, CheckResult, DEFAULT_EPSILON, DEFAULT_TOLERANCE, check, default_suite};
use crate::nn::{Activation, Dropout};
use crate::report::Console;

#[derive(Debug, Args)]
pub struct GradcheckArgs {
    /// Check one net with these hidden widths (e.g. 5 or 5,4) instead of the whole suite
    #[arg(long, value_delimiter = ',', value_parser = positive_usize)]
    pub hidden: Option<Vec<usize>>,
    /// Check one configuration with this hidden activation
    #[arg(long, value_enum)]
    pub activation: Option<Activation>,
    /// Check one configuration with this loss
    #[arg(long, value_enum)]
    pub loss: Option<LossName>,
    /// Output activation for --loss mse
    #[arg(long, value_enum)]
    pub output_activation: Option<Activation>,
    /// Check one configuration with this L2 penalty
    #[arg(long, value_parser = non_negative_f64)]
    pub l2: Option<f64>,
    /// Check one configuration with this dropout probability on hidden outputs (fixed masks)
    #[arg(long, value_parser = unit_interval)]
    pub dropout: Option<f64>,
    /// Check one configuration with this dropout probability on the input (fixed masks)
    #[arg(long, value_parser = unit_interval)]
    pub input_dropout: Option<f64>,
    /// Check one configuration with this many classes (outputs), such as a data set's [default: 3]
    #[arg(long, value_parser = positive_usize)]
    pub classes: Option<usize>,
    /// Finite-difference step
    #[arg(long, value_parser = positive_f64, default_value_t = DEFAULT_EPSILON)]
    pub eps: f64,
    /// Largest accepted relative error
    #[arg(long, value_parser = positive_f64, default_value_t = DEFAULT_TOLERANCE)]
    pub tol: f64,
    /// Seed for the random network and batch
    #[arg(long, value_parser = seed, default_value = "1")]
    pub seed: u64,
    /// Print one JSON object on stdout; human text goes to stderr
    #[arg(long)]
    pub json: bool,
}

/// Inputs and classes of the single-configuration net, as in the classic 3-5-3 check on 5 samples.
const SINGLE_INPUTS: usize = 3;
const DEFAULT_CLASSES: usize = 3;
const SINGLE_SAMPLES: usize = 5;

impl GradcheckArgs {
    /// The configurations to check: one when any network flag is given, else the default suite.
    fn configs(&self) -> anyhow::Result<Vec<CheckConfig>> {
        let single = self.hidden.is_some()
            || self.activation.is_some()
            || self.loss.is_some()
            || self.l2.is_some()
            || self.dropout.is_some()
            || self.input_dropout.is_some()
            || self.classes.is_some();
        let loss = self
            .loss
            .unwrap_or(LossName::CrossEntropy)
            .with_output(self.output_activation)?;
        if !single {
            return Ok(default_suite(self.eps, self.seed));
        }
        let mut sizes = vec![SINGLE_INPUTS];
        sizes.extend(self.hidden.clone().unwrap_or_else(|| vec![5]));
        sizes.push(self.classes.unwrap_or(DEFAULT_CLASSES));
        Ok(vec![CheckConfig {
            sizes,
            activation: self.activation.unwrap_or(Activation::Sigmoid),
            loss,
            l2: self.l2.unwrap_or(0.0),
            dropout: Dropout {
                input: self.input_dropout.unwrap_or(0.0),
                hidden: self.dropout.unwrap_or(0.0),
            },
            samples: SINGLE_SAMPLES,
            epsilon: self.eps,
            seed: self.seed,
        }])
    }
}

pub fn run(args: GradcheckArgs) -> anyhow::Result<()> {
    let console = Console::new(args.json, false);
    let results: Vec<CheckResult> = args.configs()?.iter().map(check).collect();
    console.line(&format!(
        "{:<9} {:<11} {:<15} {:>4} {:>9} {:>7} {:>11}  {:<20} {}",
        "net", "activation", "loss", "l2", "dropout", "params", "worst error", "at", "result"
    ));
    for r in &results {
        let net = r
            .config
            .sizes
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("-");
        console.line(&format!(
            "{net:<9} {:<11} {:<15} {:>4} {:>9} {:>7} {:>11.2e}  {:<20} {}",
            r.config.activation.name(),
            r.config.loss.to_string(),
            r.config.l2,
            match r.config.dropout {
                Dropout::OFF => "-".to_owned(),
                Dropout { input, hidden } => format!("{input}/{hidden}"),
            },
            r.worst.parameters,
            r.worst.worst_relative_error,
            r.worst.worst_parameter,
            if r.passes(args.tol) { "ok" } else { "FAIL" }
        ));
    }
    let failed = results.iter().filter(|r| !r.passes(args.tol)).count();
    console.json(&json!({
        "tolerance": args.tol,
        "epsilon": args.eps,
        "passed": failed == 0,
        "rows": results,
    }));
    if failed > 0 {
        bail!(
            "{failed} of {} configurations have a relative error above --tol {}",
            results.len(),
            args.tol
        );
    }
    console.line(&format!(
        "all {} configurations within --tol {}",
        results.len(),
        args.tol
    ));
    Ok(())
}
