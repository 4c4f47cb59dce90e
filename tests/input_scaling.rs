//! `--scaling standard` is saved with the model and applied by `mlp eval`.

mod common;

use assert_cmd::Command;

fn json_of(output: &[u8]) -> serde_json::Value {
    serde_json::from_slice(output).expect("one JSON object")
}

#[test]
fn eval_scales_inputs_the_way_the_model_was_trained() {
    let data = common::tiny_mnist(300, 100);
    let model = data.path().join("model.bin");
    let trained = Command::cargo_bin("mlp")
        .unwrap()
        .args([
            "train",
            "--hidden",
            "8",
            "--epochs",
            "2",
            "--scaling",
            "standard",
            "--json",
            "--quiet",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    let trained = json_of(&trained.get_output().stdout);
    let last = &trained["history"][1];

    let loaded = mlp::model_file::load(&model).unwrap();
    let mlp::data::scaling::Scaling::Standard { mean, std } = loaded.info.input.scaling else {
        panic!("the model file says {:?}", loaded.info.input.scaling);
    };
    assert!(mean > 0.0 && std > 0.0);

    let evaluated = Command::cargo_bin("mlp")
        .unwrap()
        .args(["eval", "--json"])
        .arg(&model)
        .arg("--data-dir")
        .arg(data.path())
        .assert()
        .success();
    let evaluated = json_of(&evaluated.get_output().stdout);
    // The same forward pass on the same inputs gives the same loss; unscaled inputs would not.
    assert_eq!(evaluated["loss"], last["test_loss"]);
    assert_eq!(evaluated["correct"], last["test_accuracy"]["correct"]);
}
