//! `mlp info MODEL [--json]` through the binary: a finished run, one limited by `--steps`, one with
//! validation (best epoch), checkpoints in mid-run and stopped early (made with the library from a
//! trained file), the version 1 file, a file with a flipped byte and a missing file.

mod common;

use std::path::Path;

use common::{mlp, save_as_mid_run, tiny_mnist, train_json};
use mlp::model_file;
use serde_json::Value;

/// `mlp info --json MODEL`: its exit status, its JSON and its stderr.
fn info_json(model: &Path) -> (i32, Value, String) {
    let output = mlp().arg("info").arg(model).arg("--json").output().unwrap();
    let json = serde_json::from_slice(&output.stdout).expect("stdout is exactly one JSON object");
    let stderr = String::from_utf8(output.stderr).unwrap();
    (output.status.code().unwrap(), json, stderr)
}

/// `mlp info MODEL` as text, which must succeed.
fn info_text(model: &Path) -> String {
    let output = mlp().arg("info").arg(model).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// Trains on `data` into `work/model.bin` in batches of 10 with `args`; the model and train's report.
fn trained(data: &Path, work: &Path, args: &[&str]) -> (std::path::PathBuf, Value) {
    let model = work.join("model.bin");
    let mut all = vec!["--quiet", "--batch-size", "10", "--hidden", "8"];
    all.extend(args);
    let report = train_json(data, &model, &all);
    (model, report)
}

/// The test accuracy info reports as a fraction.
fn test_fraction(json: &Value) -> f64 {
    let a = &json["state"]["test_accuracy"];
    a["correct"].as_f64().unwrap() / a["total"].as_f64().unwrap()
}

#[test]
fn a_finished_run_shows_its_format_layers_settings_and_final_test_accuracy() {
    let data = tiny_mnist(400, 100);
    let work = tempfile::tempdir().unwrap();
    let args = [
        "--epochs",
        "2",
        "--activation",
        "relu",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--l2",
        "0.001",
        "--dropout",
        "0.2",
        "--augment",
        "shift=1",
        "--label-smoothing",
        "0.1",
        "--ema",
        "0.99",
        "--seed",
        "7",
    ];
    let (model, report) = trained(data.path(), work.path(), &args);
    let (status, json, _) = info_json(&model);
    assert_eq!(status, 0);

    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "file",
        "format_version",
        "checksum_verifies",
        "checksum",
        "dataset",
        "layers",
        "parameters",
        "loss",
        "output_activation",
        "input",
        "training",
        "state",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(json["format_version"], 3);
    assert_eq!(json["checksum_verifies"], true);
    assert_eq!(json["checksum"]["key"], "sha256");
    assert_eq!(json["checksum"]["recorded"], json["checksum"]["computed"]);
    assert_eq!(json["dataset"]["name"], "mnist");
    assert_eq!(json["dataset"]["classes"].as_array().unwrap().len(), 10);

    // 10x10 inputs -> 8 relu -> 10 softmax: 100*8+8 and 8*10+10 parameters.
    let layers = json["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    assert_eq!(
        (
            &layers[0]["inputs"],
            &layers[0]["outputs"],
            &layers[0]["activation"],
            &layers[0]["parameters"]
        ),
        (
            &Value::from(100),
            &Value::from(8),
            &Value::from("relu"),
            &Value::from(808)
        )
    );
    assert_eq!(layers[1]["activation"], "softmax");
    assert_eq!(layers[1]["parameters"], 90);
    assert_eq!(json["parameters"], 898);
    assert_eq!(
        (&json["loss"], &json["output_activation"]),
        (&"cross-entropy".into(), &"softmax".into())
    );
    assert_eq!(
        json["input"],
        serde_json::json!({"rows": 10, "cols": 10, "scaling": "unit"})
    );

    let spec = &json["training"]["spec"];
    assert_eq!(json["training"]["not_a_run"], Value::Null);
    assert_eq!(spec["optimizer"]["name"], "adam");
    assert_eq!(spec["schedule"]["lr"], 0.01);
    assert_eq!(
        (&spec["batch_size"], &spec["epochs"], &spec["seed"]),
        (&10.into(), &2.into(), &7.into())
    );
    assert_eq!(spec["l2"], 0.001);
    assert_eq!(spec["dropout"]["hidden"], 0.2);
    assert_eq!(spec["augment"]["shift"], 1);
    assert_eq!(spec["label_smoothing"], 0.1);
    assert_eq!(spec["ema"], 0.99);
    assert_eq!(json["training"]["recorded"]["seed"], 7);

    let state = &json["state"];
    assert_eq!(state["status"], "finished");
    assert_eq!((&state["epochs_done"], &state["epochs"]), (&2.into(), &2.into()));
    assert_eq!(state["updates"], 80);
    assert_eq!(state["kept_epoch"], 2);
    assert_eq!(state["best_epoch"], Value::Null);
    assert_eq!(test_fraction(&json), report["final_test_accuracy"].as_f64().unwrap());
    // The file keeps the moving average, which the last epoch measured.
    let eval = common::eval_json(&model, data.path(), &[]);
    assert_eq!(eval["accuracy"], report["final_test_accuracy"]);

    let text = info_text(&model);
    for line in [
        "mlp model, format version 3, checksum (sha256) verifies",
        "data set: MNIST (mnist), 10 classes: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9",
        "input: 10x10 pixels, x = pixel/255 (unit scaling)",
        "    1     100       8  relu                808",
        "    2       8      10  softmax              90",
        "total                                      898",
        "loss: cross-entropy on softmax outputs",
        "  optimizer adam(beta1 0.9, beta2 0.999, eps 1e-8)",
        "  schedule lr 0.01",
        "  batch size 10, 2 epochs",
        "  l2 0.001, label smoothing 0.1, moving average of the weights (ema 0.99)",
        "  dropout hidden 0.2, input 0",
        "  augmentation shift=1",
        "run: finished, 2 of 2 epochs done, 80 updates",
        "test accuracy (final, the model of epoch 2): ",
    ] {
        assert!(text.contains(line), "no {line:?} in:\n{text}");
    }
    assert!(text.contains("  seed 7, data from "), "{text}");
}

#[test]
fn a_run_limited_by_steps_is_finished_when_its_updates_are_made() {
    let data = tiny_mnist(400, 100);
    let work = tempfile::tempdir().unwrap();
    // 40 batches an epoch: 50 updates end in epoch 2.
    let (model, _) = trained(data.path(), work.path(), &["--steps", "50"]);
    let (_, json, _) = info_json(&model);
    let state = &json["state"];
    assert_eq!(state["status"], "finished");
    assert_eq!((&state["updates"], &state["steps"]), (&50.into(), &50.into()));
    assert_eq!((&state["epochs_done"], &state["epochs"]), (&2.into(), &2.into()));
    assert!(info_text(&model).contains("run: finished, 2 of 2 epochs done, 50 of 50 updates"));
}

#[test]
fn with_validation_the_best_epoch_is_kept_and_its_test_accuracy_reported() {
    let data = tiny_mnist(400, 100);
    let work = tempfile::tempdir().unwrap();
    let (model, report) = trained(data.path(), work.path(), &["--epochs", "3", "--val", "100"]);
    let (_, json, _) = info_json(&model);
    let state = &json["state"];
    assert_eq!(state["status"], "finished");
    assert_eq!(state["best_epoch"], report["kept_epoch"]);
    assert_eq!(state["kept_epoch"], report["kept_epoch"]);
    assert_eq!(state["best_validation_accuracy"]["total"], 100);
    assert_eq!(test_fraction(&json), report["final_test_accuracy"].as_f64().unwrap());
    assert_eq!(json["training"]["spec"]["val"], 100);
    let text = info_text(&model);
    let best = format!(
        "best epoch on validation: {}, validation accuracy ",
        report["kept_epoch"]
    );
    assert!(text.contains(&best), "{text}");
}

#[test]
fn a_checkpoint_in_mid_run_says_how_far_it_got_and_how_to_continue() {
    let data = tiny_mnist(400, 100);
    let work = tempfile::tempdir().unwrap();
    let (model, _) = trained(data.path(), work.path(), &["--epochs", "1"]);
    let mid_run = work.path().join("mid-run.bin");
    save_as_mid_run(&model, &mid_run);

    let (status, json, _) = info_json(&mid_run);
    assert_eq!(status, 0);
    let state = &json["state"];
    assert_eq!(state["status"], "in-progress");
    assert_eq!((&state["epochs_done"], &state["epochs"]), (&1.into(), &3.into()));
    assert_eq!((&state["batches_done"], &state["updates"]), (&5.into(), &45.into()));
    let text = info_text(&mid_run);
    let expected = format!(
        "run: a checkpoint in mid-run, 1 of 3 epochs done and 5 batches of the next, 45 updates; \
         continue with: mlp train --resume {}",
        mid_run.display()
    );
    assert!(text.contains(&expected), "{text}");
    assert!(
        text.contains("test accuracy (so far, the model of epoch 1): "),
        "{text}"
    );
}

#[test]
fn a_run_whose_patience_ran_out_stopped_early() {
    let data = tiny_mnist(400, 100);
    let work = tempfile::tempdir().unwrap();
    let (model, _) = trained(data.path(), work.path(), &["--epochs", "2", "--val", "100"]);
    let (kept, checkpoint) = model_file::load_checkpoint(&model).unwrap();
    let mut checkpoint = checkpoint.unwrap();
    (checkpoint.config.epochs, checkpoint.config.patience) = (10, Some(1));
    checkpoint.state.stale_epochs = 1;
    let stopped = work.path().join("stopped.bin");
    model_file::save_checkpoint(&stopped, &checkpoint.config, &checkpoint.state, &kept.info).unwrap();
    let (_, json, _) = info_json(&stopped);
    assert_eq!(json["state"]["status"], "stopped-early");
    assert!(info_text(&stopped).contains("run: stopped early (patience), 2 of 10 epochs done"));
}

#[test]
fn a_version_1_file_shows_its_settings_as_recorded_and_no_training_state() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/model-v1.safetensors");
    let (status, json, _) = info_json(&model);
    assert_eq!(status, 0);
    assert_eq!(json["format_version"], 1);
    assert_eq!(
        (&json["checksum_verifies"], &json["checksum"]["key"]),
        (&true.into(), &"tensor_sha256".into())
    );
    assert_eq!(json["dataset"]["classes"], serde_json::json!(["0", "1"]));
    assert_eq!(json["parameters"], 4 * 3 + 3 + 3 * 2 + 2);
    assert_eq!(json["training"]["spec"], Value::Null);
    assert!(json["training"]["not_a_run"].as_str().unwrap().contains("dataset"));
    assert_eq!(
        json["training"]["recorded"],
        serde_json::json!({"epochs_completed": 1, "seed": 3})
    );
    assert_eq!(json["state"]["status"], "no-checkpoint");
    assert_eq!(json["state"]["epochs_done"], 1);
    let text = info_text(&model);
    assert!(text.contains("training settings: not an mlp run's (missing field `dataset`); as recorded:"));
    assert!(text.contains("  seed = 3"));
    assert!(text.contains("run: no training state in the file, 1 epochs done"));
}

#[test]
fn a_file_whose_checksum_does_not_verify_is_described_and_exits_3() {
    let data = tiny_mnist(400, 100);
    let work = tempfile::tempdir().unwrap();
    let (model, _) = trained(data.path(), work.path(), &["--epochs", "1"]);
    let mut bytes = std::fs::read(&model).unwrap();
    // A low mantissa bit of the first weight: the file still parses, its content no longer matches.
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    let start = header["layers.0.weight"]["data_offsets"][0].as_u64().unwrap() as usize;
    bytes[8 + header_len + start] ^= 0x01;
    std::fs::write(&model, &bytes).unwrap();

    let (status, json, stderr) = info_json(&model);
    assert_eq!(status, 3);
    assert_eq!(json["checksum_verifies"], false);
    assert_ne!(json["checksum"]["recorded"], json["checksum"]["computed"]);
    assert_eq!(json["state"]["status"], "finished");
    let expected = format!(
        "error: {}: corrupt model file: the content's SHA-256 is ",
        model.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");

    let output = mlp().arg("info").arg(&model).output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("checksum (sha256) does NOT verify"), "{text}");
    // Every other command still refuses the file.
    assert_eq!(
        common::eval(&model, data.path()).output().unwrap().status.code(),
        Some(3)
    );
}

#[test]
fn a_missing_file_is_named_and_exits_3() {
    let work = tempfile::tempdir().unwrap();
    let missing = work.path().join("nowhere.bin");
    let output = mlp().arg("info").arg(&missing).output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!("error: cannot read model file {}: ", missing.display())),
        "{stderr}"
    );
}
