//! `--scaling standard` is saved with the model and applied by `mlp eval`.

mod common;

#[test]
fn eval_scales_inputs_the_way_the_model_was_trained() {
    let data = common::tiny_mnist(300, 100);
    let model = data.path().join("model.bin");
    let trained = common::train_json(
        data.path(),
        &model,
        &["--hidden", "8", "--epochs", "2", "--scaling", "standard", "--quiet"],
    );
    let last = &trained["history"][1];

    let loaded = mlp::model_file::load(&model).unwrap();
    let mlp::data::scaling::Scaling::Standard { mean, std } = loaded.info.input.scaling else {
        panic!("the model file says {:?}", loaded.info.input.scaling);
    };
    assert!(mean > 0.0 && std > 0.0);

    let evaluated = common::eval_json(&model, data.path(), &[]);
    // The same forward pass on the same inputs gives the same loss; unscaled inputs would not.
    assert_eq!(evaluated["loss"], last["test_loss"]);
    assert_eq!(evaluated["correct"], last["test_accuracy"]["correct"]);
}
