//! `mlp train --resume FILE` with the run's own flags restated, as a user re-running the command
//! that started it with `--resume` added: every setting flag given must say what the file recorded.
//!
//! A flag is checked by its effect, not its spelling: the recorded settings are written back as
//! flags (`flags_of`), the given flag takes its place among them, and the two are parsed as a new
//! run's would be. The flag agrees when the run they describe is the recorded one, so `--init auto`
//! restates a recorded xavier for sigmoid, `--lr 0.50` restates 0.5, and `--momentum 0.9` given to
//! an sgd run is a difference (sgd has no momentum).

use std::path::Path;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, Parser, ValueEnum};

use super::args::{GivenFlag, SpecArgs};
use crate::cli::args::{InitName, LossName, OptimizerName, ScheduleName};
use crate::cli::exit::usage_bail;
use crate::data::augment::DEFAULT_ELASTIC_SIGMA;
use crate::nn::{Init, Loss};
use crate::optim::Method;
use crate::run::RunSpec;
use crate::schedule::Decay;

/// The setting flags alone, to parse a list of them as `mlp train` would.
#[derive(Debug, Parser)]
#[command(no_binary_name = true)]
struct SettingFlags {
    #[command(flatten)]
    spec: SpecArgs,
}

/// The setting flags `train`'s command line gave explicitly (not by default), in their order.
pub fn given_setting_flags(matches: &ArgMatches) -> Vec<GivenFlag> {
    let mut given: Vec<(usize, GivenFlag)> = SettingFlags::command()
        .get_arguments()
        .filter(|arg| matches.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine))
        .map(|arg| {
            let id = arg.get_id().as_str();
            let value = matches
                .get_raw(id)
                .into_iter()
                .flatten()
                .map(|raw| raw.to_string_lossy())
                .collect::<Vec<_>>()
                .join(",");
            let position = matches.index_of(id).unwrap_or(usize::MAX);
            (
                position,
                GivenFlag {
                    id: id.to_owned(),
                    value,
                },
            )
        })
        .collect();
    given.sort_by_key(|(position, _)| *position);
    given.into_iter().map(|(_, flag)| flag).collect()
}

/// Fails naming the first of `given` whose value differs from the run recorded in `path`.
pub fn check_restated(given: &[GivenFlag], recorded: &RunSpec, path: &Path) -> anyhow::Result<()> {
    if given.is_empty() {
        return Ok(());
    }
    let recorded_flags = flags_of(recorded);
    if !describes(&recorded_flags, recorded) {
        usage_bail!(
            "--resume {}: its settings cannot be restated as flags, so {} cannot be checked against them; \
             resume without setting flags",
            path.display(),
            long(&given[0].id)
        );
    }
    for flag in given {
        let mut flags: Vec<GivenFlag> = recorded_flags.iter().filter(|f| f.id != flag.id).cloned().collect();
        flags.push(flag.clone());
        if !describes(&flags, recorded) {
            let name = long(&flag.id);
            let started = match recorded_flags.iter().find(|f| f.id == flag.id) {
                Some(recorded) => format!("with {name} {}", recorded.value),
                None => format!("without {name}"),
            };
            usage_bail!(
                "{name} {}: the run in {} was started {started}; leave the flag out or give the file's value",
                flag.value,
                path.display(),
            );
        }
    }
    Ok(())
}

/// Whether `flags`, parsed as `mlp train`'s, give the settings of `recorded` (its data set, its
/// files and length aside: those are not setting flags).
fn describes(flags: &[GivenFlag], recorded: &RunSpec) -> bool {
    let words = flags.iter().flat_map(|flag| [long(&flag.id), flag.value.clone()]);
    let Ok(parsed) = SettingFlags::try_parse_from(words) else {
        return false;
    };
    let Ok(mut spec) = parsed.spec.spec(recorded.dataset.clone(), None) else {
        return false;
    };
    spec.data_dir.clone_from(&recorded.data_dir);
    spec.test_data.clone_from(&recorded.test_data);
    spec.image_size = recorded.image_size;
    spec.train.epochs = recorded.train.epochs;
    spec.train.steps = recorded.train.steps;
    without_idle_settings(spec) == without_idle_settings(recorded.clone())
}

/// `spec` with the settings that do nothing set alike: σ of elastic distortions that are off.
fn without_idle_settings(mut spec: RunSpec) -> RunSpec {
    if spec.train.augment.elastic == 0.0 {
        spec.train.augment.elastic_sigma = DEFAULT_ELASTIC_SIGMA;
    }
    spec
}

/// `--long-name` of the setting flag with clap id `id`.
fn long(id: &str) -> String {
    let command = SettingFlags::command();
    let long = command
        .get_arguments()
        .find(|arg| arg.get_id() == id)
        .and_then(|arg| arg.get_long())
        .unwrap_or(id);
    format!("--{long}")
}

/// The name a `ValueEnum` value is typed as.
fn typed<T: ValueEnum>(value: T) -> String {
    value
        .to_possible_value()
        .expect("no value is hidden")
        .get_name()
        .to_owned()
}

/// The setting flags that start a run of `spec`, each with the value that reproduces it.
pub fn flags_of(spec: &RunSpec) -> Vec<GivenFlag> {
    let train = &spec.train;
    let schedule = &train.schedule;
    let mut flags = vec![
        (
            "hidden",
            spec.hidden.iter().map(usize::to_string).collect::<Vec<_>>().join(","),
        ),
        ("activation", typed(spec.activation)),
        ("lr", schedule.lr.to_string()),
        ("warmup", schedule.warmup_epochs.to_string()),
        ("batch_size", train.batch_size.to_string()),
        ("l2", train.l2.to_string()),
        ("dropout", train.dropout.hidden.to_string()),
        ("input_dropout", train.dropout.input.to_string()),
        ("augment", train.augment.to_string()),
        ("scaling", typed(spec.scaling)),
        ("seed", spec.seed.to_string()),
        ("val", spec.val.to_string()),
    ];
    flags.extend(train.patience.map(|patience| ("patience", patience.to_string())));
    flags.extend(train.train_eval.map(|n| ("train_eval", n.to_string())));
    if train.label_smoothing > 0.0 {
        flags.push(("label_smoothing", train.label_smoothing.to_string()));
    }
    flags.extend(train.ema.map(|decay| ("ema", decay.to_string())));
    match spec.loss {
        Loss::CrossEntropy => flags.push(("loss", typed(LossName::CrossEntropy))),
        Loss::BinaryCrossEntropy => flags.push(("loss", typed(LossName::Bce))),
        Loss::MeanSquaredError(output) => {
            flags.push(("loss", typed(LossName::Mse)));
            flags.push(("output_activation", typed(output)));
        }
    }
    match spec.init {
        Init::Normal { std } => flags.extend([("init", typed(InitName::Normal)), ("init_std", std.to_string())]),
        Init::Xavier => flags.push(("init", typed(InitName::Xavier))),
        Init::He => flags.push(("init", typed(InitName::He))),
    }
    match schedule.decay {
        Decay::Constant => flags.push(("schedule", typed(ScheduleName::Constant))),
        Decay::Step { every_epochs, gamma } => flags.extend([
            ("schedule", typed(ScheduleName::Step)),
            ("lr_step", every_epochs.to_string()),
            ("lr_gamma", gamma.to_string()),
        ]),
        Decay::Cosine { min_lr } => {
            flags.extend([
                ("schedule", typed(ScheduleName::Cosine)),
                ("lr_min", min_lr.to_string()),
            ]);
        }
    }
    let adam = |beta1: f64, beta2: f64, eps: f64| {
        [
            ("beta1", beta1.to_string()),
            ("beta2", beta2.to_string()),
            ("eps", eps.to_string()),
        ]
    };
    match train.optimizer {
        Method::Sgd => flags.push(("optimizer", typed(OptimizerName::Sgd))),
        Method::Momentum { momentum } => {
            flags.extend([
                ("optimizer", typed(OptimizerName::Momentum)),
                ("momentum", momentum.to_string()),
            ]);
        }
        Method::Nesterov { momentum } => {
            flags.extend([
                ("optimizer", typed(OptimizerName::Nesterov)),
                ("momentum", momentum.to_string()),
            ]);
        }
        Method::Adam { beta1, beta2, eps } => {
            flags.push(("optimizer", typed(OptimizerName::Adam)));
            flags.extend(adam(beta1, beta2, eps));
        }
        Method::AdamW {
            beta1,
            beta2,
            eps,
            weight_decay,
        } => {
            flags.push(("optimizer", typed(OptimizerName::AdamW)));
            flags.extend(adam(beta1, beta2, eps));
            flags.push(("weight_decay", weight_decay.to_string()));
        }
    }
    flags
        .into_iter()
        .map(|(id, value)| GivenFlag {
            id: id.to_owned(),
            value,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::augment::Augment;
    use crate::data::scaling::ScalingChoice;
    use crate::nn::{Activation, Dropout};
    use crate::run::Validation;
    use crate::schedule::Schedule;

    fn specs() -> Vec<RunSpec> {
        let mut specs = vec![RunSpec::default()];
        let mut varied = RunSpec {
            hidden: vec![256, 128, 64],
            activation: Activation::LeakyRelu,
            loss: Loss::MeanSquaredError(Activation::Tanh),
            init: Init::Normal { std: 0.013 },
            scaling: ScalingChoice::Standard,
            seed: 12_345_678_901,
            val: Validation::Held(5000),
            ..RunSpec::default()
        };
        varied.train.batch_size = 37;
        varied.train.l2 = 1e-4;
        varied.train.dropout = Dropout {
            input: 0.2,
            hidden: 0.35,
        };
        varied.train.augment = "shift=2,rotate=10,scale=0.1,elastic=34,elastic-sigma=4"
            .parse::<Augment>()
            .unwrap();
        varied.train.patience = Some(3);
        varied.train.optimizer = Method::AdamW {
            beta1: 0.85,
            beta2: 0.995,
            eps: 1e-7,
            weight_decay: 0.02,
        };
        varied.train.schedule = Schedule {
            lr: 0.0031,
            decay: Decay::Cosine { min_lr: 1e-5 },
            warmup_epochs: 0.5,
        };
        specs.push(varied.clone());
        varied.loss = Loss::BinaryCrossEntropy;
        varied.init = Init::He;
        varied.train.optimizer = Method::Nesterov { momentum: 0.95 };
        varied.train.schedule.decay = Decay::Step {
            every_epochs: 7,
            gamma: 0.3,
        };
        specs.push(varied.clone());
        varied.train.optimizer = Method::Momentum { momentum: 0.5 };
        varied.train.schedule.decay = Decay::Constant;
        specs.push(varied);
        specs
    }

    #[test]
    fn the_flags_of_a_spec_describe_it() {
        for spec in specs() {
            assert!(describes(&flags_of(&spec), &spec), "{:?}", flags_of(&spec));
        }
    }

    fn given(id: &str, value: &str) -> GivenFlag {
        GivenFlag {
            id: id.to_owned(),
            value: value.to_owned(),
        }
    }

    #[test]
    fn a_restated_value_agrees_by_its_effect() {
        let default = RunSpec::default();
        let path = Path::new("model.bin");
        for flag in [
            given("hidden", "100"),
            given("lr", "0.50"),
            given("init", "auto"),
            given("optimizer", "sgd"),
            given("loss", "ce"),
            given("augment", "none"),
        ] {
            check_restated(std::slice::from_ref(&flag), &default, path).unwrap();
        }
    }

    #[test]
    fn a_differing_flag_is_named_with_both_values() {
        let default = RunSpec::default();
        let path = Path::new("model.bin");
        for (flag, recorded) in [
            (given("hidden", "100,50"), "with --hidden 100"),
            (given("lr", "0.1"), "with --lr 0.5"),
            (given("optimizer", "adam"), "with --optimizer sgd"),
            (given("momentum", "0.9"), "without --momentum"),
            (given("init", "he"), "with --init xavier"),
        ] {
            let message = check_restated(&[given("seed", "1"), flag.clone()], &default, path)
                .unwrap_err()
                .to_string();
            assert!(
                message.starts_with(&format!("{} {}: ", long(&flag.id), flag.value)),
                "{message}"
            );
            assert!(message.contains(&format!("started {recorded};")), "{message}");
            assert!(message.contains("model.bin"), "{message}");
        }
    }
}
