//! Checkpoints: a run interrupted after any batch and resumed from its saved file ends bit for bit
//! as an uninterrupted one; Ctrl-C saves and exits 130; old model files still load; validation,
//! early stopping and the history file.

mod common;

use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use mlp::data::augment::Augment;
use mlp::data::catalog::{DatasetId, KnownDataset};
use mlp::data::classes::{Classes, Label};
use mlp::data::dataset::{Dataset, ImageSize};
use mlp::data::scaling::Scaling;
use mlp::evaluate::evaluate;
use mlp::model_file::{self, InputSpec, ModelInfo, decode_checkpoint, encode_checkpoint};
use mlp::nn::{Activation, Dropout, Init, Loss, Network};
use mlp::optim::Method;
use mlp::schedule::{Decay, Schedule};
use mlp::train::{Observer, Outcome, Splits, TrainConfig, TrainState, train};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// 6x6 images whose label k lights up row k % 6 and column k / 6 (0..=9), with some noise.
fn images(n: usize, offset: usize) -> Dataset {
    let mut images = Array2::<u8>::zeros((n, 36));
    let mut labels = Vec::new();
    for i in 0..n {
        let label = (i + offset) % 10;
        labels.push(label as Label);
        for p in 0..36 {
            let (r, c) = (p / 6, p % 6);
            let on = r == label % 6 || c == label / 6 + 3;
            images[[i, p]] = if on {
                180 + ((i * 7 + p) % 70) as u8
            } else {
                ((i * 13 + p * 5) % 60) as u8
            };
        }
    }
    Dataset::new(images, labels, ImageSize::grey(6, 6), Classes::numbered(10))
}

fn config() -> TrainConfig {
    TrainConfig {
        epochs: 4,
        batch_size: 16,
        optimizer: Method::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        schedule: Schedule {
            lr: 0.01,
            decay: Decay::Cosine { min_lr: 0.0 },
            warmup_epochs: 0.5,
        },
        l2: 1e-4,
        dropout: Dropout {
            input: 0.1,
            hidden: 0.3,
        },
        augment: Augment {
            shift: 1,
            rotate: 5.0,
            scale: 0.05,
            elastic: 0.5,
            elastic_sigma: 2.0,
            flip: true,
        },
        patience: Some(3),
        ..TrainConfig::default()
    }
}

fn fresh_state(train_len: usize) -> TrainState<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let network = Network::new(&[36, 12, 10], Activation::Relu, Loss::CrossEntropy, Init::He, &mut rng);
    TrainState::new(network, config().optimizer, rng, train_len)
}

/// Counts batches and asks to stop after `stop_after` of them (never when `None`).
struct StopAfter {
    batches: usize,
    stop_after: Option<usize>,
}

impl Observer<f32> for StopAfter {
    fn epoch_started(&mut self, _: usize, _: usize, _: usize) {}
    fn batch_done(&mut self, _: f64) {
        self.batches += 1;
    }
    fn should_stop(&self) -> bool {
        self.stop_after.is_some_and(|n| self.batches >= n)
    }
    fn epoch_done(&mut self, _: &TrainState<f32>) -> anyhow::Result<()> {
        Ok(())
    }
}

fn info() -> ModelInfo {
    ModelInfo {
        dataset: DatasetId::Known(KnownDataset::Mnist),
        classes: KnownDataset::Mnist.classes(),
        input: InputSpec {
            rows: 6,
            cols: 6,
            channels: 1,
            scaling: Scaling::Unit,
        },
        training: serde_json::Map::new(),
    }
}

/// The state without wall times, which no two runs share.
fn without_times(mut state: TrainState<f32>) -> TrainState<f32> {
    state.epoch_seconds = 0.0;
    for r in &mut state.history.epochs {
        (r.seconds, r.train_seconds, r.eval_seconds) = (0.0, 0.0, 0.0);
    }
    state
}

#[test]
fn a_run_interrupted_anywhere_and_resumed_from_its_file_ends_bit_for_bit_the_same() {
    let all = images(200, 0);
    let (train_set, validation) = all.hold_out(40, 9);
    let test_set = images(50, 3);
    let with_validation = Splits {
        train: &train_set,
        validation: Some(&validation),
        test: Some(&test_set),
    };
    let averaged = TrainConfig {
        ema: Some(0.9),
        ..config()
    };
    // The file keeps the best network on validation, or the moving average, or both.
    resumes_bit_for_bit(with_validation, &config());
    resumes_bit_for_bit(with_validation, &averaged);
    let without_validation = Splits {
        validation: None,
        ..with_validation
    };
    let averaged = TrainConfig {
        patience: None,
        ..averaged
    };
    resumes_bit_for_bit(without_validation, &averaged);
}

/// Trains on `splits` with `config` straight, then again interrupted and resumed from the file
/// at several places, and compares the states.
fn resumes_bit_for_bit(splits: Splits<'_>, config: &TrainConfig) {
    let batches_per_epoch = splits.train.len().div_ceil(16);
    let mut straight = fresh_state(splits.train.len());
    let mut observer = StopAfter {
        batches: 0,
        stop_after: None,
    };
    let outcome = train(&mut straight, splits, config, &mut observer).unwrap();
    assert!(matches!(outcome, Outcome::Finished | Outcome::EarlyStopped));
    assert_eq!(straight.average.is_some(), config.ema.is_some());
    // Each epoch measures the moving average when there is one.
    let measured = straight.average.as_ref().unwrap_or(&straight.network);
    let last = straight.history.epochs.last().expect("epochs were recorded");
    let test = splits.test.expect("a test set");
    assert_eq!(last.test_accuracy, Some(evaluate(measured, test).accuracy()));

    // Mid-epoch, at an epoch's end, and twice in one run.
    for stops in [
        vec![3],
        vec![batches_per_epoch],
        vec![batches_per_epoch + 2, 2 * batches_per_epoch + 5],
    ] {
        let mut state = fresh_state(splits.train.len());
        let mut done = 0;
        for stop in stops {
            let mut observer = StopAfter {
                batches: done,
                stop_after: Some(stop),
            };
            let outcome = train(&mut state, splits, config, &mut observer).unwrap();
            assert_eq!(outcome, Outcome::Interrupted, "stop at {stop}");
            done = observer.batches;
            let bytes = encode_checkpoint(config, &state, &info());
            let (model, checkpoint) = decode_checkpoint(&bytes).unwrap();
            let checkpoint = checkpoint.expect("a checkpoint was saved");
            assert_eq!(&model.network, state.kept());
            assert_eq!(&checkpoint.config, config);
            assert_eq!(without_times(checkpoint.state.clone()), without_times(state.clone()));
            state = checkpoint.state;
        }
        let mut observer = StopAfter {
            batches: done,
            stop_after: None,
        };
        train(&mut state, splits, config, &mut observer).unwrap();
        assert_eq!(without_times(state), without_times(straight.clone()));
    }
}

#[test]
fn a_version_1_model_file_still_loads() {
    // Written by mlp before checkpoints, data set names and the whole-content checksum.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/model-v1.safetensors");
    let (model, checkpoint) = model_file::load_checkpoint(&path).unwrap();
    assert_eq!(model.network.sizes(), vec![4, 3, 2]);
    assert_eq!(model.info.dataset, DatasetId::Known(KnownDataset::Mnist));
    assert_eq!(model.info.classes, Classes::numbered(2));
    assert!(checkpoint.is_none());
}

fn train_args(data: &Path, out: &Path, epochs: &str) -> Vec<String> {
    [
        "train",
        "--hidden",
        "64",
        "--activation",
        "relu",
        "--optimizer",
        "momentum",
        "--batch-size",
        "10",
        "--dropout",
        "0.2",
        "--augment",
        "rotate=3",
        "--val",
        "100",
        "--seed",
        "4",
        "--epochs",
        epochs,
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        "--data-dir".to_owned(),
        data.display().to_string(),
        "--out".to_owned(),
        out.display().to_string(),
    ])
    .collect()
}

#[test]
fn ctrl_c_saves_a_checkpoint_that_resumes_to_the_uninterrupted_result() {
    let data = common::tiny_mnist(2000, 100);
    let dir = data.path();
    let (straight, stopped) = (dir.join("straight.bin"), dir.join("stopped.bin"));
    let epochs = "12";
    common::mlp()
        .args(train_args(dir, &straight, epochs))
        .arg("--quiet")
        .assert()
        .success();

    let child = common::mlp_process()
        .args(train_args(dir, &stopped, epochs))
        .args(["--history", &dir.join("history.csv").display().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the first epoch's checkpoint exists, well before the twelfth.
    let waited = Instant::now();
    while !stopped.exists() {
        assert!(waited.elapsed() < Duration::from_secs(60), "no checkpoint appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    let sent = Process::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let resume = format!("mlp train --resume {}", stopped.display());
    assert!(stderr.contains(&resume), "{stderr}");

    let (_, checkpoint) = model_file::load_checkpoint(&stopped).unwrap();
    let state = checkpoint.unwrap().state;
    assert!(
        state.epoch < 12,
        "the run finished before the interrupt: {}",
        state.epoch
    );

    common::mlp()
        .args(["train", "--resume", &stopped.display().to_string(), "--quiet"])
        .args(["--history", &dir.join("history.csv").display().to_string()])
        .assert()
        .success();
    let load = |path: &Path| model_file::load_checkpoint(path).unwrap();
    let ((a, ca), (b, cb)) = (load(&straight), load(&stopped));
    assert_eq!(a.network, b.network);
    let (sa, sb) = (without_times(ca.unwrap().state), without_times(cb.unwrap().state));
    assert_eq!(sa, sb);

    // One header and one row per epoch, across the interruption.
    let history = std::fs::read_to_string(dir.join("history.csv")).unwrap();
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(
        lines[0],
        "epoch,lr,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,seconds"
    );
    assert_eq!(lines.len(), 1 + sa.history.epochs.len());
    for (i, line) in lines[1..].iter().enumerate() {
        assert!(line.starts_with(&format!("{},", i + 1)), "{line}");
    }
}

/// Training, validation and test sets, whose validation labels no net can learn: its accuracy
/// wanders while the net fits the training set.
fn unlearnable_validation() -> [Dataset; 3] {
    let same_images = images(60, 0);
    let labels = (0..60).map(|i| ((i * 7 + 3) % 10) as Label).collect();
    let validation = Dataset::new(
        same_images.images().clone(),
        labels,
        same_images.size(),
        same_images.classes().clone(),
    );
    [images(200, 0), validation, images(50, 3)]
}

fn patience_config() -> TrainConfig {
    TrainConfig {
        epochs: 60,
        patience: Some(3),
        ..config()
    }
}

#[test]
fn patience_stops_after_epochs_without_a_better_validation_result_and_keeps_the_best() {
    let [train_set, validation, test_set] = unlearnable_validation();
    let splits = Splits {
        train: &train_set,
        validation: Some(&validation),
        test: Some(&test_set),
    };
    let config = patience_config();
    let mut state = fresh_state(train_set.len());
    let mut observer = StopAfter {
        batches: 0,
        stop_after: None,
    };
    let outcome = train(&mut state, splits, &config, &mut observer).unwrap();
    assert_eq!(outcome, Outcome::EarlyStopped);
    let history = &state.history.epochs;
    let best = state.best.as_ref().unwrap();
    assert_eq!(history.len(), best.epoch + 3);
    let key = |r: &mlp::history::EpochRecord| (r.val_accuracy.unwrap().correct, -r.val_loss.unwrap());
    let best_record = &history[best.epoch - 1];
    assert!(history.iter().all(|r| key(r) <= key(best_record)));
    assert_eq!(state.kept(), &best.network);
    assert_ne!(state.kept(), &state.network);
}

#[test]
fn the_file_holds_the_model_of_the_best_validation_epoch_and_eval_measures_it() {
    let data = common::tiny_mnist(400, 100);
    let out = data.path().join("m.bin");
    let settings = ["--hidden", "16", "--epochs", "6", "--batch-size", "20", "--lr", "2"];
    let json =
        common::json_stdout(common::train(data.path(), &out, &settings).args(["--val", "100", "--json", "--quiet"]));
    let history = json["history"].as_array().unwrap();
    let key = |r: &serde_json::Value| {
        (
            r["val_accuracy"]["correct"].as_u64().unwrap(),
            -r["val_loss"].as_f64().unwrap(),
        )
    };
    let kept = json["kept_epoch"].as_u64().unwrap() as usize;
    assert!(history.iter().all(|r| key(r) <= key(&history[kept - 1])));
    let eval = common::eval_json(&out, data.path(), &[]);
    assert_eq!(eval["accuracy"], json["final_test_accuracy"]);
    assert_eq!(eval["loss"], json["final_test_loss"]);

    common::mlp()
        .args(["train", "--patience", "2", "--data-dir"])
        .arg(data.path())
        .assert()
        .failure()
        .stderr(predicates::str::contains("--patience needs validation data"));
}

/// What an observer is told, in order.
#[derive(Debug)]
enum Told {
    Started(usize),
    /// The state at an epoch's end, without wall times.
    Done(Box<TrainState<f32>>),
}

/// Records what it is told, and asks to stop after `stop_after` batches.
struct Recorder {
    told: Vec<Told>,
    stop: StopAfter,
}

impl Observer<f32> for Recorder {
    fn epoch_started(&mut self, epoch: usize, _: usize, _: usize) {
        self.told.push(Told::Started(epoch));
    }
    fn batch_done(&mut self, loss: f64) {
        self.stop.batch_done(loss);
    }
    fn should_stop(&self) -> bool {
        self.stop.should_stop()
    }
    fn epoch_done(&mut self, state: &TrainState<f32>) -> anyhow::Result<()> {
        self.told.push(Told::Done(Box::new(without_times(state.clone()))));
        Ok(())
    }
}

/// Trains a fresh state on `splits` with `threads` threads, stopping after `stop_after` batches:
/// the outcome, the final state without times, and what the observer was told.
fn recorded(
    threads: usize,
    splits: Splits<'_>,
    config: &TrainConfig,
    stop_after: Option<usize>,
) -> (Outcome, TrainState<f32>, Vec<Told>) {
    let mut recorder = Recorder {
        told: Vec::new(),
        stop: StopAfter { batches: 0, stop_after },
    };
    let (outcome, state) = mlp::parallel::with_threads(Some(threads), || {
        let mut state = fresh_state(splits.train.len());
        let outcome = train(&mut state, splits, config, &mut recorder).unwrap();
        (outcome, without_times(state))
    })
    .unwrap();
    (outcome, state, recorder.told)
}

#[test]
fn epochs_measured_beside_the_next_one_end_report_and_stop_as_epochs_measured_in_line() {
    let [train_set, validation, test_set] = unlearnable_validation();
    let splits = Splits {
        train: &train_set,
        validation: Some(&validation),
        test: Some(&test_set),
    };
    let batches_per_epoch = train_set.len().div_ceil(config().batch_size);
    let cases = [
        (patience_config(), None, Outcome::EarlyStopped),
        (
            TrainConfig {
                patience: None,
                ..config()
            },
            None,
            Outcome::Finished,
        ),
        (config(), Some(batches_per_epoch + 3), Outcome::Interrupted),
        (config(), Some(2 * batches_per_epoch), Outcome::Interrupted),
    ];
    for (config, stop_after, expected) in cases {
        let (outcome, state, told) = recorded(1, splits, &config, stop_after);
        assert_eq!(outcome, expected, "one thread, stop after {stop_after:?}");
        let (outcome_beside, state_beside, told_beside) = recorded(2, splits, &config, stop_after);
        assert_eq!(outcome_beside, outcome, "stop after {stop_after:?}");
        assert_eq!(state_beside, state, "stop after {stop_after:?}");
        let ends = |told: &[Told]| -> Vec<TrainState<f32>> {
            told.iter()
                .filter_map(|t| match t {
                    Told::Done(state) => Some((**state).clone()),
                    Told::Started(_) => None,
                })
                .collect()
        };
        assert_eq!(ends(&told_beside), ends(&told), "stop after {stop_after:?}");
        // In line, an epoch ends before the next starts; beside, the next one starts first.
        let done_after_next_started = |told: &[Told]| {
            told.windows(2).any(|w| match w {
                [Told::Started(next), Told::Done(state)] => *next == state.epoch + 1,
                _ => false,
            })
        };
        assert!(!done_after_next_started(&told));
        assert!(done_after_next_started(&told_beside), "stop after {stop_after:?}");
    }
}
