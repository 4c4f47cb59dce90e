//! `mlp export MODEL --onnx FILE --torch FILE` through the binary. The ONNX graph, run by an ONNX
//! runtime (tract) on raw test digits, predicts the class mlp's evaluation does for every digit and
//! gives its probabilities within 1e-5, for every hidden activation, every loss and both input
//! scalings, at any batch size; the PyTorch state dict holds the transposes of the model's weights
//! and the scaling as factor and offset; class names and data set reach both files' metadata; a
//! checkpoint in mid-run exports what it holds, with a note; bad paths fail before any work.

mod common;

use std::path::{Path, PathBuf};

use common::{json_stdout, mlp, save_as_mid_run, tiny_mnist, train, write_banded_split};
use mlp::data::catalog::KnownDataset;
use mlp::data::classes::Classes;
use mlp::data::dataset::{Dataset, load_split};
use mlp::data::split::Split;
use mlp::evaluate::evaluate;
use mlp::model_file::{self, Model};
use mlp::nn::network::argmax_rows;
use ndarray::{Array2, ArrayView2};
use safetensors::SafeTensors;
use serde_json::Value;

const ACTIVATIONS: [&str; 5] = ["sigmoid", "tanh", "relu", "leaky-relu", "identity"];

/// The largest difference allowed between a probability from the ONNX runtime and mlp's.
const PROBABILITY_TOLERANCE: f32 = 1e-5;

/// Real MNIST when it is here, else a tiny made-up set of 10x10 digits (kept alive by the guard).
fn digits() -> (PathBuf, Option<tempfile::TempDir>) {
    match common::mnist_dir() {
        Some(dir) => (dir, None),
        None => {
            let tiny = tiny_mnist(400, 200);
            (tiny.path().to_owned(), Some(tiny))
        }
    }
}

fn test_split(dir: &Path) -> Dataset {
    load_split(&mlp::cli::data_dir(Some(dir), KnownDataset::Mnist), Split::Test).unwrap()
}

/// `mlp export MODEL` with `args` and `--json`, which must succeed: its report.
fn export_json(model: &Path, args: &[&str]) -> Value {
    json_stdout(mlp().arg("export").arg(model).args(args).arg("--json"))
}

/// `mlp export MODEL --onnx ONNX --torch TORCH --json`, which must succeed: its report.
fn export_both(model: &Path, onnx: &Path, torch: &Path) -> Value {
    let mut cmd = mlp();
    cmd.arg("export")
        .arg(model)
        .arg("--onnx")
        .arg(onnx)
        .arg("--torch")
        .arg(torch);
    json_stdout(cmd.arg("--json"))
}

/// The ONNX file at `path` run by tract on `pixels` (images, values) of raw values 0-255: its
/// logits and probabilities, each (images, classes).
fn run_onnx(path: &Path, pixels: ArrayView2<u8>) -> (Array2<f32>, Array2<f32>) {
    use tract_onnx::prelude::{Framework, InferenceModelExt, TValue, Tensor, tvec};
    let plan = tract_onnx::onnx()
        .model_for_path(path)
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let raw: Vec<f32> = pixels.iter().map(|&p| f32::from(p)).collect();
    let input = Tensor::from_shape(&[pixels.nrows(), pixels.ncols()], &raw).unwrap();
    let outputs = plan.run(tvec!(input.into())).unwrap();
    let matrix = |value: &TValue| {
        let shape = value.shape();
        let values = value.as_slice::<f32>().unwrap().to_vec();
        Array2::from_shape_vec((shape[0], shape[1]), values).unwrap()
    };
    (matrix(&outputs[0]), matrix(&outputs[1]))
}

/// mlp's own outputs (probabilities for softmax and sigmoid) for raw `pixels`, scaled as the model was.
fn mlp_probabilities(model: &Model, pixels: ArrayView2<u8>) -> Array2<f32> {
    let table = model.info.input.scaling.table::<f32>();
    model.network.predict(pixels.mapv(|p| table[usize::from(p)]).view())
}

/// That the ONNX file at `onnx`, exported from `model`, predicts what mlp's evaluation predicts for
/// every image of `test` and gives mlp's probabilities; the ONNX runtime's test accuracy.
fn assert_onnx_agrees(model: &Model, onnx: &Path, test: &Dataset, case: &str) -> usize {
    let (logits, probabilities) = run_onnx(onnx, test.images().view());
    let mut scaled = test.clone();
    scaled.scaling = model.info.input.scaling;
    let ours = evaluate(&model.network, &scaled);
    let theirs: Vec<usize> = argmax_rows(logits.view()).collect();
    let differing = ours.predictions.iter().zip(&theirs).filter(|(a, b)| a != b).count();
    assert_eq!(differing, 0, "{case}: {differing} digits predicted otherwise");
    let expected = mlp_probabilities(model, test.images().view());
    let worst = (&probabilities - &expected).iter().fold(0.0f32, |m, d| m.max(d.abs()));
    assert!(
        worst <= PROBABILITY_TOLERANCE,
        "{case}: probabilities differ by {worst}"
    );
    eprintln!("{case}: every prediction the same, probabilities within {worst:.1e}");
    // One image alone through the same graph: the batch dimension is free.
    let (_, first) = run_onnx(onnx, test.images().slice(ndarray::s![..1, ..]));
    assert_eq!(first.dim(), (1, model.network.outputs()), "{case}");
    let first_difference = (&first.row(0) - &expected.row(0))
        .iter()
        .fold(0.0f32, |m, d| m.max(d.abs()));
    assert!(
        first_difference <= PROBABILITY_TOLERANCE,
        "{case}: one image alone differs by {first_difference}"
    );
    theirs
        .iter()
        .zip(test.labels())
        .filter(|&(&p, &l)| p == usize::from(l))
        .count()
}

#[test]
fn the_onnx_graph_predicts_as_mlp_does_for_every_activation_loss_and_scaling() {
    let (data, _tiny) = digits();
    let test = test_split(&data);
    let work = tempfile::tempdir().unwrap();
    for activation in ACTIVATIONS {
        for loss in ["cross-entropy", "bce", "mse"] {
            for scaling in ["unit", "standard"] {
                let case = format!("{activation}, {loss}, {scaling}");
                let model_path = work.path().join("model.bin");
                let mut args = vec![
                    "--hidden",
                    "16,8",
                    "--activation",
                    activation,
                    "--loss",
                    loss,
                    "--scaling",
                    scaling,
                    "--optimizer",
                    "adam",
                    "--lr",
                    "0.003",
                    "--steps",
                    "40",
                    "--batch-size",
                    "50",
                    "--quiet",
                ];
                if loss == "mse" {
                    // Every activation as mse's output too, once with each scaling.
                    args.extend(["--output-activation", activation]);
                }
                train(&data, &model_path, &args).assert().success();
                let onnx = work.path().join("model.onnx");
                let report = export_json(&model_path, &["--onnx", onnx.to_str().unwrap()]);
                assert_eq!(
                    report["written"][0]["bytes"],
                    std::fs::metadata(&onnx).unwrap().len(),
                    "{case}"
                );
                let model = model_file::load(&model_path).unwrap();
                let correct = assert_onnx_agrees(&model, &onnx, &test, &case);
                let eval = common::eval_json(&model_path, &data, &[]);
                assert_eq!(eval["correct"], correct, "{case}: mlp eval's count");
            }
        }
    }
}

/// The f32 tensor `name` of `file`: its shape and values.
fn f32_tensor(file: &SafeTensors<'_>, name: &str) -> (Vec<usize>, Vec<f32>) {
    let tensor = file.tensor(name).unwrap();
    assert_eq!(tensor.dtype(), safetensors::Dtype::F32, "{name}");
    let values = tensor
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()));
    (tensor.shape().to_vec(), values.collect())
}

#[test]
fn the_torch_state_dict_holds_the_transposed_weights_and_the_scaling() {
    let data = tiny_mnist(400, 100);
    let work = tempfile::tempdir().unwrap();
    let model_path = work.path().join("model.bin");
    let args = [
        "--hidden",
        "12,7",
        "--activation",
        "leaky-relu",
        "--scaling",
        "standard",
        "--epochs",
        "1",
        "--quiet",
    ];
    train(data.path(), &model_path, &args).assert().success();
    let torch = work.path().join("model.safetensors");
    let report = export_json(&model_path, &["--torch", torch.to_str().unwrap()]);
    let written = &report["written"][0];
    assert_eq!(written["format"], "torch");
    assert_eq!(
        written["module"],
        "Sequential(Linear(100, 12), LeakyReLU(0.01), Linear(12, 7), LeakyReLU(0.01), Linear(7, 10))"
    );
    assert_eq!(
        written["tensors"],
        serde_json::json!(["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"])
    );

    let model = model_file::load(&model_path).unwrap();
    let bytes = std::fs::read(&torch).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(file.len(), 6);
    let values = |name: &str| f32_tensor(&file, name);
    for (i, layer) in model.network.layers.iter().enumerate() {
        let (shape, weight) = values(&format!("{}.weight", 2 * i));
        assert_eq!(shape, [layer.outputs(), layer.inputs()]);
        let transposed: Vec<f32> = layer.weight.t().iter().copied().collect();
        assert_eq!(weight, transposed, "layer {i}: torch's weight is mlp's transposed");
        let (shape, bias) = values(&format!("{}.bias", 2 * i));
        assert_eq!((shape, bias), (vec![layer.outputs()], layer.bias.to_vec()), "layer {i}");
    }

    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let metadata = header.metadata().clone().unwrap();
    let mlp::data::scaling::Scaling::Standard { mean, std } = model.info.input.scaling else {
        panic!("trained with standard scaling")
    };
    let number = |key: &str| metadata[key].parse::<f64>().unwrap();
    assert!((number("input_factor") - 1.0 / (255.0 * std)).abs() < 1e-15);
    assert!((number("input_offset") + mean / std).abs() < 1e-15);
    assert_eq!(metadata["format"], "pt");
    assert_eq!(metadata["activation"], "leaky-relu");
    assert_eq!(metadata["leaky_relu_slope"], "0.01");
    assert_eq!(metadata["output_activation"], "softmax");
    assert_eq!(metadata["layer_sizes"], "[100,12,7,10]");
    assert_eq!(report["metadata"]["input_factor"], metadata["input_factor"]);
}

#[test]
fn the_class_names_and_data_set_reach_both_files() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("bands20");
    std::fs::create_dir(&dir).unwrap();
    let labels = |n: usize| -> Vec<u32> { (0..n).map(|i| (i % 20) as u32).collect() };
    write_banded_split(&dir, "train", &labels(400), 20, (20, 8, 1), 0x08);
    write_banded_split(&dir, "t10k", &labels(100), 20, (20, 8, 1), 0x08);
    let work = tempfile::tempdir().unwrap();
    let trained = work.path().join("trained.bin");
    let mut cmd = mlp();
    cmd.args([
        "train",
        "--hidden",
        "32",
        "--epochs",
        "6",
        "--batch-size",
        "20",
        "--lr",
        "1",
        "--quiet",
    ])
    .arg("--data")
    .arg(&dir)
    .arg("--out")
    .arg(&trained);
    cmd.assert().success();
    // Names of the model's own, as tests/classes.rs gives them.
    let mut model = model_file::load(&trained).unwrap();
    let names: Vec<String> = (0..20).map(|k| format!("band-{k}")).collect();
    model.info.classes = Classes::named(names.clone());
    let named = work.path().join("named.bin");
    model_file::save(&named, &model.network, &model.info).unwrap();

    let (onnx, torch) = (work.path().join("m.onnx"), work.path().join("m.safetensors"));
    let report = export_both(&named, &onnx, &torch);
    let expected_names = serde_json::to_string(&names).unwrap();
    assert_eq!(report["metadata"]["class_names"], expected_names.as_str());

    // Read back by tract's own ONNX protobuf types, not the exporter's.
    let proto = tract_onnx::prelude::Framework::proto_model_for_path(&tract_onnx::onnx(), &onnx).unwrap();
    let props = |key: &str| {
        let entry = proto.metadata_props.iter().find(|e| e.key == key);
        entry
            .map(|e| e.value.clone())
            .unwrap_or_else(|| panic!("no metadata_props entry {key}"))
    };
    assert_eq!(props("class_names"), expected_names);
    assert_eq!(props("dataset"), "bands20");
    assert!(
        proto
            .opset_import
            .iter()
            .any(|o| o.domain.is_empty() && o.version >= 13)
    );

    let bytes = std::fs::read(&torch).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let metadata = header.metadata().clone().unwrap();
    assert_eq!(metadata["class_names"], expected_names);
    assert_eq!(metadata["dataset"], "bands20");

    let test = load_split(&mlp::cli::files_dir(dir.clone(), "a test"), Split::Test).unwrap();
    let correct = assert_onnx_agrees(&model, &onnx, &test, "20 named classes");
    assert!(correct > 90, "{correct} of 100");
    let mut names_in_dir: Vec<_> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names_in_dir.sort();
    assert_eq!(
        names_in_dir,
        ["m.onnx", "m.safetensors", "named.bin", "trained.bin"],
        "no temporary file left"
    );
}

#[test]
fn a_checkpoint_in_mid_run_exports_what_it_holds_and_says_so() {
    let data = tiny_mnist(400, 100);
    let work = tempfile::tempdir().unwrap();
    let finished = work.path().join("model.bin");
    train(
        data.path(),
        &finished,
        &["--hidden", "8", "--epochs", "1", "--batch-size", "10", "--quiet"],
    )
    .assert()
    .success();
    let mid_run = work.path().join("mid-run.bin");
    save_as_mid_run(&finished, &mid_run);

    let torch = work.path().join("mid-run.safetensors");
    let output = mlp()
        .arg("export")
        .arg(&mid_run)
        .arg("--torch")
        .arg(&torch)
        .arg("--json")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let note = format!(
        "note: {} is a checkpoint in mid-run (1 of 3 epochs done and 5 batches of the next, 45 updates); \
         exporting the weights it holds now, as mlp eval would use them; mlp train --resume {} goes on training",
        mid_run.display(),
        mid_run.display()
    );
    assert!(stderr.contains(&note), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["checkpoint_in_mid_run"], true);
    assert_eq!(report["state"]["status"], "in-progress");
    let bytes = std::fs::read(&torch).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let (_, first) = f32_tensor(&file, "0.weight");
    let held = &model_file::load(&mid_run).unwrap().network.layers[0].weight;
    assert_eq!(first, held.t().iter().copied().collect::<Vec<_>>());

    // A finished run says nothing of the kind.
    let output = mlp()
        .arg("export")
        .arg(&finished)
        .arg("--torch")
        .arg(&torch)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(output.stderr.is_empty(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with(&format!(
            "wrote {} ({} bytes): the PyTorch state dict of Sequential(Linear(100, 8), Sigmoid(), Linear(8, 10)); \
             its input is x = pixels * 0.00392156862745098 + 0",
            torch.display(),
            std::fs::metadata(&torch).unwrap().len()
        )),
        "{stdout}"
    );
    // With validation data, the model kept is the best epoch's so far, and the note says so.
    let validated = work.path().join("validated.bin");
    let args = [
        "--hidden",
        "8",
        "--epochs",
        "1",
        "--batch-size",
        "10",
        "--val",
        "100",
        "--quiet",
    ];
    train(data.path(), &validated, &args).assert().success();
    save_as_mid_run(&validated, &mid_run);
    let output = mlp()
        .arg("export")
        .arg(&mid_run)
        .arg("--torch")
        .arg(&torch)
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(
            "; exporting the model it keeps now, epoch 1's (the best on validation so far), as mlp eval would use them;"
        ),
        "{stderr}"
    );
}

/// `mlp export` with `args`: its exit status and stderr.
fn export_failure(args: &[&str]) -> (i32, String) {
    let output = mlp().arg("export").args(args).output().unwrap();
    (output.status.code().unwrap(), String::from_utf8(output.stderr).unwrap())
}

#[test]
fn bad_paths_fail_before_the_model_is_read_and_a_bad_model_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().display().to_string();
    let missing_model = format!("{dir}/no-model.bin");
    let nowhere = format!("{dir}/no-such-dir/m.onnx");

    let (status, stderr) = export_failure(&[&missing_model, "--onnx", &nowhere]);
    assert_eq!(status, 2, "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "error: --onnx {nowhere}: {dir}/no-such-dir is not an existing directory; create it first or choose another path\n"
        )
    );
    let (status, stderr) = export_failure(&[&missing_model, "--onnx", &format!("{dir}/m.onnx"), "--torch", &dir]);
    assert_eq!(status, 2, "{stderr}");
    assert_eq!(
        stderr,
        format!("error: --torch {dir} is a directory; give a file name\n")
    );
    let same = format!("{dir}/m.out");
    let (status, stderr) = export_failure(&[&missing_model, "--onnx", &same, "--torch", &same]);
    assert_eq!(status, 2, "{stderr}");
    assert_eq!(
        stderr,
        format!("error: --onnx and --torch both name {same}; give each its own file\n")
    );
    let (status, stderr) = export_failure(&[&missing_model]);
    assert_eq!(status, 2, "{stderr}");
    assert!(
        stderr.contains("--onnx <FILE>") && stderr.contains("--torch <FILE>"),
        "{stderr}"
    );

    let (status, stderr) = export_failure(&[&missing_model, "--onnx", &format!("{dir}/m.onnx")]);
    assert_eq!(status, 3, "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: cannot read model file {missing_model}: ")),
        "{stderr}"
    );
    let not_a_model = format!("{dir}/not-a-model.bin");
    std::fs::write(&not_a_model, b"not a model").unwrap();
    let (status, stderr) = export_failure(&[&not_a_model, "--onnx", &format!("{dir}/m.onnx")]);
    assert_eq!(status, 3, "{stderr}");
    assert!(stderr.contains("not a model file"), "{stderr}");
    assert!(!Path::new(&format!("{dir}/m.onnx")).exists());
}
