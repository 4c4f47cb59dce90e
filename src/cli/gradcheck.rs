//! `mlp gradcheck`: the whole suite with no flags, or one configuration: a random net and batch, a
//! fresh net on real images of a data set (`--dataset`), or a saved model at real images of its
//! data set (`--model`).

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::args::{LossName, non_negative_f64, positive_f64, positive_usize, seed, unit_interval};
use super::data::DataArgs;
use super::exit::usage_bail;
use crate::data::catalog::KnownDataset;
use crate::data::dataset::Dataset;
use crate::data::source;
use crate::data::split::Split;
use crate::gradcheck::{
    CheckConfig, CheckResult, DEFAULT_EPSILON, DEFAULT_TOLERANCE, Selection, check_at, default_suite, instance,
};
use crate::model_file;
use crate::nn::{Activation, Dropout, Network};
use crate::report::Console;

#[derive(Debug, Args)]
pub struct GradcheckArgs {
    /// Check this saved model's gradient at real training images of its data set (--samples,
    /// chosen by --seed); its layers, activation and loss are the model's
    #[arg(long, conflicts_with_all = ["hidden", "activation", "loss", "output_activation", "dropout", "input_dropout"])]
    pub model: Option<PathBuf>,
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
    /// Finite-difference step
    #[arg(long, value_parser = positive_f64, default_value_t = DEFAULT_EPSILON)]
    pub eps: f64,
    /// Largest accepted relative error
    #[arg(long, value_parser = positive_f64, default_value_t = DEFAULT_TOLERANCE)]
    pub tol: f64,
    /// Seed for the random network and batch
    #[arg(long, value_parser = seed, default_value = "1")]
    pub seed: u64,
    /// Check one configuration with this many classes (outputs), such as a data set's [default: 3]
    #[arg(long, value_parser = positive_usize, conflicts_with = "model")]
    pub classes: Option<usize>,
    /// Check one configuration at this many samples [default: 5]: random inputs, or real images
    /// with --model or --dataset
    #[arg(long, value_parser = positive_usize)]
    pub samples: Option<usize>,
    /// Check this many parameters chosen by --seed instead of every one (for wide nets)
    #[arg(long, value_parser = positive_usize)]
    pub params: Option<usize>,
    /// Print this many of the checked parameters with backprop's and the numeric gradient side by side
    #[arg(long, default_value = "0")]
    pub show: usize,
    /// Print one JSON object on stdout; human text goes to stderr
    #[arg(long)]
    pub json: bool,
    /// --dataset checks a fresh net (--hidden, --activation, --loss) on real images of that data set
    #[command(flatten)]
    pub data: DataArgs,
}

/// Inputs and classes of the single-configuration net, as in the classic 3-5-3 check on 5 samples.
const SINGLE_INPUTS: usize = 3;
const DEFAULT_CLASSES: usize = 3;
const DEFAULT_SAMPLES: usize = 5;
/// The hidden layer of a fresh net on real images, as the tutorials' 784-50-10 check.
const REAL_HIDDEN: usize = 50;

/// One thing to check: a configuration, with the network and batch when they are not made from it.
struct Job {
    config: CheckConfig,
    given: Option<(Network<f64>, Array2<f64>, Array2<f64>)>,
}

impl GradcheckArgs {
    /// The configuration of one net of `sizes` with the flags' activation, loss and L2.
    fn config(&self, sizes: Vec<usize>) -> anyhow::Result<CheckConfig> {
        let loss = self
            .loss
            .unwrap_or(LossName::CrossEntropy)
            .with_output(self.output_activation)?;
        Ok(CheckConfig {
            sizes,
            activation: self.activation.unwrap_or(Activation::Sigmoid),
            loss,
            l2: self.l2.unwrap_or(0.0),
            dropout: Dropout {
                input: self.input_dropout.unwrap_or(0.0),
                hidden: self.dropout.unwrap_or(0.0),
            },
            samples: self.samples.unwrap_or(DEFAULT_SAMPLES),
            epsilon: self.eps,
            seed: self.seed,
        })
    }

    /// What to check: a saved model or a fresh net on real images, one random configuration when
    /// any network flag is given, else the default suite.
    fn jobs(&self, console: &Console) -> anyhow::Result<Vec<Job>> {
        if let Some(path) = &self.model {
            let model = model_file::load(path)?;
            let (_, data) = self
                .data
                .load_for_model(path, &model, Split::Train, "checked", console)?;
            let network = model.network.cast::<f64>();
            let mut config = self.config(network.sizes())?;
            (config.activation, config.loss) = (network.activation, network.loss);
            let (x, t) = self.real_batch(&data, console)?;
            return Ok(vec![Job {
                config,
                given: Some((network, x, t)),
            }]);
        }
        if self.data.dataset.is_some() || self.data.data.is_some() {
            if let Some(classes) = self.classes {
                usage_bail!("--classes {classes}: a net on real images has its data set's classes");
            }
            let dir = self.data.chosen(KnownDataset::Mnist)?;
            self.data.fetch_missing(&dir, &[Split::Train], console)?;
            let data = source::load(&dir, Split::Train, None)?;
            let mut sizes = vec![data.features()];
            sizes.extend(self.hidden.clone().unwrap_or_else(|| vec![REAL_HIDDEN]));
            sizes.push(data.classes().len());
            let config = self.config(sizes)?;
            let (network, _, _) = instance(&config);
            let (x, t) = self.real_batch(&data, console)?;
            return Ok(vec![Job {
                config,
                given: Some((network, x, t)),
            }]);
        }
        let single = self.hidden.is_some()
            || self.activation.is_some()
            || self.loss.is_some()
            || self.l2.is_some()
            || self.dropout.is_some()
            || self.input_dropout.is_some()
            || self.classes.is_some()
            || self.samples.is_some();
        if !single {
            self.config(Vec::new())?; // still checks --output-activation against --loss
            let suite = default_suite(self.eps, self.seed);
            return Ok(suite.into_iter().map(|config| Job { config, given: None }).collect());
        }
        let mut sizes = vec![SINGLE_INPUTS];
        sizes.extend(self.hidden.clone().unwrap_or_else(|| vec![5]));
        sizes.push(self.classes.unwrap_or(DEFAULT_CLASSES));
        Ok(vec![Job {
            config: self.config(sizes)?,
            given: None,
        }])
    }

    /// `--samples` training images chosen by `--seed` (scaled as `data` says) and their one-hot
    /// classes.
    fn real_batch(&self, data: &Dataset, console: &Console) -> anyhow::Result<(Array2<f64>, Array2<f64>)> {
        let samples = self.samples.unwrap_or(DEFAULT_SAMPLES);
        if samples > data.len() {
            usage_bail!("--samples {samples}: the training set has {} images", data.len());
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut indices = rand::seq::index::sample(&mut rng, data.len(), samples).into_vec();
        indices.sort_unstable();
        console.line(&format!(
            "at training images {} (--seed {})",
            indices.iter().map(usize::to_string).collect::<Vec<_>>().join(", "),
            self.seed
        ));
        let mut x = Array2::zeros((samples, data.features()));
        let mut t = Array2::zeros((samples, data.classes().len()));
        data.gather(&indices, x.view_mut(), t.view_mut());
        Ok((x, t))
    }
}

pub fn run(args: GradcheckArgs) -> anyhow::Result<()> {
    let console = Console::new(args.json, false);
    let selection = Selection {
        sample: args.params,
        show: args.show,
    };
    let results: Vec<CheckResult> = args
        .jobs(&console)?
        .into_iter()
        .map(|job| match job.given {
            Some((network, x, t)) => check_at(&job.config, &network, x.view(), t.view(), selection),
            None => {
                let (network, x, t) = instance(&job.config);
                check_at(&job.config, &network, x.view(), t.view(), selection)
            }
        })
        .collect();
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
            match r.sampled_from {
                Some(all) => format!("{}/{all}", r.worst.parameters),
                None => r.worst.parameters.to_string(),
            },
            r.worst.worst_relative_error,
            r.worst.worst_parameter,
            if r.passes(args.tol) { "ok" } else { "FAIL" }
        ));
    }
    for r in results.iter().filter(|r| !r.shown.is_empty()) {
        console.line("");
        console.line(&shown_table(r));
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

/// The parameters `--show` asked for, backprop's and the numeric gradient side by side.
fn shown_table(result: &CheckResult) -> String {
    let mut lines = vec![format!(
        "{:<24} {:>15} {:>15} {:>11}",
        "parameter", "backprop", "numeric", "rel. error"
    )];
    for entry in &result.shown {
        lines.push(format!(
            "{:<24} {:>15.8e} {:>15.8e} {:>11.2e}",
            entry.parameter, entry.analytic, entry.numeric, entry.relative_error
        ));
    }
    lines.join("\n")
}
