//! The model file: a save/load round trip, readability as plain safetensors, and clear errors for
//! truncated, corrupt, foreign and future-version files.

use std::collections::HashMap;
use std::fs;

use mlp::data::catalog::{DatasetId, KnownDataset};
use mlp::data::classes::Classes;
use mlp::data::scaling::Scaling;
use mlp::history::{EpochRecord, History};
use mlp::metrics::Accuracy;
use mlp::model_file::{
    self, InputSpec, ModelFileError, ModelFormatError, ModelInfo, decode, decode_checkpoint, encode, encode_checkpoint,
};
use mlp::nn::{Activation, Init, Loss, Network};
use mlp::optim::Method;
use mlp::train::{Best, TrainConfig, TrainState};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use safetensors::SafeTensors;
use safetensors::tensor::TensorView;
use sha2::{Digest, Sha256};

/// The input of the sample models: 2x2 images of `channels` channels.
fn two_by_two(channels: usize, scaling: Scaling) -> InputSpec {
    InputSpec {
        rows: 2,
        cols: 2,
        channels,
        scaling,
    }
}

fn sample_model(loss: Loss) -> (Network<f32>, ModelInfo) {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut network = Network::new(&[4, 3, 2], Activation::Tanh, loss, Init::Xavier, &mut rng);
    network.layers[0].bias[1] = 0.25;
    let training = serde_json::json!({"seed": 5, "lr": 0.5}).as_object().unwrap().clone();
    let info = ModelInfo {
        dataset: DatasetId::Files("pets".to_owned()),
        classes: Classes::named(vec!["cat".to_owned(), "dog".to_owned()]),
        input: two_by_two(1, Scaling::Unit),
        training,
    };
    (network, info)
}

#[test]
fn save_then_load_gives_back_the_same_model() {
    let dir = tempfile::tempdir().unwrap();
    for loss in [
        Loss::CrossEntropy,
        Loss::BinaryCrossEntropy,
        Loss::MeanSquaredError(Activation::Identity),
    ] {
        let (network, info) = sample_model(loss);
        let path = dir.path().join("model.bin");
        model_file::save(&path, &network, &info).unwrap();
        let model = model_file::load(&path).unwrap();
        assert_eq!(model.network, network);
        assert_eq!(model.info, info);
    }
    // Only the model is left: the temporary file was renamed, not copied.
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec!["model.bin"]);
}

#[test]
fn the_file_is_plain_safetensors_with_documented_names_shapes_and_metadata() {
    let (network, info) = sample_model(Loss::CrossEntropy);
    let bytes = encode(&network, &info);
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let weight = file.tensor("layers.0.weight").unwrap();
    assert_eq!(weight.shape(), &[4, 3]);
    let first = f32::from_le_bytes(weight.data()[..4].try_into().unwrap());
    assert_eq!(first, network.layers[0].weight[[0, 0]]);
    assert_eq!(file.tensor("layers.1.bias").unwrap().shape(), &[2]);

    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let metadata = header.metadata().as_ref().unwrap();
    assert_eq!(metadata["format"], "mlp");
    assert_eq!(metadata["format_version"], "3");
    assert_eq!(metadata["layer_sizes"], "[4,3,2]");
    assert_eq!(metadata["activation"], "tanh");
    assert_eq!(metadata["loss"], "cross-entropy");
    assert_eq!(metadata["output_activation"], "softmax");
    assert_eq!(metadata["classes"], "2");
    assert_eq!(metadata["class_names"], r#"["cat","dog"]"#);
    assert_eq!(metadata["dataset"], "pets");
    // Grey input records no channels, as files did before colour.
    assert_eq!(metadata["input"], r#"{"rows":2,"cols":2,"scaling":"unit"}"#);
    assert_eq!(metadata["sha256"].len(), 64);
}

fn decode_error(bytes: &[u8]) -> ModelFormatError {
    match decode(bytes) {
        Ok(_) => panic!("decoded a bad file"),
        Err(e) => e,
    }
}

#[test]
fn truncated_files_are_rejected_at_every_length() {
    let (network, info) = sample_model(Loss::CrossEntropy);
    let bytes = encode(&network, &info);
    for len in (0..bytes.len()).step_by(7) {
        let error = decode_error(&bytes[..len]);
        assert!(
            matches!(error, ModelFormatError::NotSafetensors(_)),
            "cut at {len}: {error}"
        );
    }
}

#[test]
fn a_flipped_weight_byte_fails_the_checksum() {
    let (network, info) = sample_model(Loss::CrossEntropy);
    let mut bytes = encode(&network, &info);
    let last = bytes.len() - 3;
    bytes[last] ^= 0x01;
    let message = decode_error(&bytes).to_string();
    assert!(message.contains("corrupt") && message.contains("SHA-256"), "{message}");
}

/// Re-serializes the sample model's tensors with `edit` applied to its metadata.
fn with_metadata(edit: impl FnOnce(&mut HashMap<String, String>)) -> Vec<u8> {
    let (network, info) = sample_model(Loss::CrossEntropy);
    let bytes = encode(&network, &info);
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let mut metadata = header.metadata().clone().unwrap();
    edit(&mut metadata);
    let tensors: Vec<(String, TensorView<'_>)> = file.tensors();
    safetensors::serialize(tensors, Some(metadata)).unwrap()
}

#[test]
fn foreign_future_and_inconsistent_files_get_clear_errors() {
    let foreign = with_metadata(|m| {
        m.remove("format");
    });
    assert!(matches!(decode_error(&foreign), ModelFormatError::Foreign));

    let future = with_metadata(|m| {
        m.insert("format_version".into(), "4".into());
    });
    let error = decode_error(&future);
    assert!(matches!(error, ModelFormatError::FutureVersion(4)));
    assert!(error.to_string().contains("newer than this mlp reads"));

    type Edit = fn(&mut HashMap<String, String>);
    let cases: Vec<(Edit, &str)> = vec![
        (
            |m| drop(m.insert("activation".into(), "swish".into())),
            "unknown activation `swish`",
        ),
        (
            |m| drop(m.insert("layer_sizes".into(), "[4,5,2]".into())),
            "expected F32 [4, 5]",
        ),
        (
            |m| drop(m.insert("loss".into(), "bce".into())),
            "unknown loss `bce` with output activation `softmax`",
        ),
        (|m| drop(m.remove("sha256")), "metadata has no `sha256`"),
        (
            |m| drop(m.insert("classes".into(), "10".into())),
            "does not match the output size 2",
        ),
        (|m| drop(m.remove("dataset")), "metadata has no `dataset`"),
        (|m| drop(m.remove("class_names")), "metadata has no `class_names`"),
        (
            |m| drop(m.insert("class_names".into(), r#"["cat"]"#.into())),
            "1 class_names for 2 outputs",
        ),
        (
            |m| {
                drop(m.insert(
                    "input".into(),
                    r#"{"rows":1,"cols":2,"channels":2,"scaling":"unit"}"#.into(),
                ))
            },
            "input of 2 channels",
        ),
        (
            |m| {
                drop(m.insert(
                    "input".into(),
                    r#"{"rows":2,"cols":2,"channels":3,"scaling":"unit"}"#.into(),
                ))
            },
            "input 2x2x3 does not match 4 inputs",
        ),
        // Before version 3 the data set names the classes, so it must be a known one.
        (
            |m| {
                m.insert("format_version".into(), "2".into());
                m.insert("dataset".into(), "cifar10".into());
            },
            "unknown dataset `cifar10`",
        ),
    ];
    for (edit, expected) in cases {
        let message = decode_error(&with_metadata(edit)).to_string();
        assert!(message.contains(expected), "expected `{expected}` in: {message}");
    }
}

#[test]
fn load_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    fs::write(&path, "these are not weights").unwrap();
    let error = model_file::load(&path).unwrap_err();
    assert!(matches!(error, ModelFileError::Format { .. }));
    assert!(error.to_string().contains("notes.txt"), "{error}");

    let missing = dir.path().join("missing.bin");
    let message = model_file::load(&missing).unwrap_err().to_string();
    assert!(
        message.contains("missing.bin") && message.contains("cannot read model file"),
        "{message}"
    );
}

#[test]
fn saving_over_an_existing_model_replaces_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.bin");
    let (network, info) = sample_model(Loss::CrossEntropy);
    model_file::save(&path, &network, &info).unwrap();
    let (mut other, info) = sample_model(Loss::BinaryCrossEntropy);
    other.layers[1].weight.fill(0.5);
    model_file::save(&path, &other, &info).unwrap();
    assert_eq!(model_file::load(&path).unwrap().network, other);
}

/// A training state as a checkpoint holds it mid-epoch: Adam's two slots filled, the generator moved
/// on, a shuffled order, a best network that is not the one being trained, an epoch of history
/// (with wall times, which the file leaves out). Built by hand, so no training code is involved.
fn sample_checkpoint() -> (TrainConfig, TrainState<f32>, ModelInfo) {
    let config = TrainConfig {
        epochs: 3,
        batch_size: 4,
        optimizer: Method::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        patience: Some(2),
        ..TrainConfig::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let network = Network::new(&[4, 3, 2], Activation::Relu, Loss::CrossEntropy, Init::He, &mut rng);
    let mut state = TrainState::new(network.clone(), config.optimizer, rng, 10);
    state.order.shuffle(&mut state.rng);
    for value in state.optimizer.buffers.iter_mut().flatten().flatten() {
        *value = state.rng.random_range(-1.0..1.0);
    }
    state.optimizer.steps = 4;
    state.network.layers[1].weight.mapv_inplace(|w| 0.5 * w);
    state.epoch = 1;
    state.batches_done = 1;
    state.epoch_seconds = 1.5;
    let accuracy = Accuracy { correct: 3, total: 5 };
    state.best = Some(Best {
        network,
        epoch: 1,
        accuracy,
        loss: 0.75,
    });
    state.history = History {
        epochs: vec![EpochRecord {
            epoch: 1,
            lr: 0.5,
            train_loss: Some(0.8),
            train_accuracy: Some(Accuracy { correct: 6, total: 10 }),
            val_loss: Some(0.75),
            val_accuracy: Some(accuracy),
            test_loss: Some(0.9),
            test_accuracy: Some(Accuracy { correct: 2, total: 5 }),
            steps: 3,
            seconds: 2.0,
            train_seconds: 1.5,
            eval_seconds: 0.5,
        }],
    };
    let info = ModelInfo {
        dataset: DatasetId::Files("zeros-and-ones".to_owned()),
        classes: Classes::numbered(2),
        input: two_by_two(1, Scaling::Standard { mean: 0.13, std: 0.31 }),
        training: serde_json::json!({"seed": 11}).as_object().unwrap().clone(),
    };
    (config, state, info)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The digests were taken from the code at 9ad7c3e, before the model file became a folder, and
/// taken again for format version 3 (class names, channels; the sample models' data sets made
/// files of their own, as their two classes are not MNIST's ten): the files written must stay
/// byte for byte the same.
#[test]
fn the_bytes_written_stay_the_same() {
    let (network, info) = sample_model(Loss::CrossEntropy);
    assert_eq!(
        sha256_hex(&encode(&network, &info)),
        "f0f41e2807bca5de2439295401a240992e41440bedaa90a2fa93bf9e59988edd"
    );

    let (config, state, info) = sample_checkpoint();
    let bytes = encode_checkpoint(&config, &state, &info);
    assert_eq!(
        sha256_hex(&bytes),
        "47eb0a99b8b5d007eb8244c24b4bfc72d0227163195e191fcd675b21dcb7af98"
    );
    // What is read back writes the same bytes again.
    let (model, checkpoint) = decode_checkpoint(&bytes).unwrap();
    let checkpoint = checkpoint.expect("a checkpoint");
    assert_eq!(&model.network, state.kept());
    assert_eq!(
        encode_checkpoint(&checkpoint.config, &checkpoint.state, &model.info),
        bytes
    );
}

#[test]
fn a_colour_model_records_its_channels_and_reads_back() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let network = Network::new(&[12, 3, 20], Activation::Relu, Loss::CrossEntropy, Init::He, &mut rng);
    let info = ModelInfo {
        dataset: DatasetId::Files("swatches".to_owned()),
        classes: Classes::numbered(20),
        input: two_by_two(3, Scaling::Unit),
        training: serde_json::Map::new(),
    };
    let bytes = encode(&network, &info);
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let metadata = header.metadata().as_ref().unwrap();
    assert_eq!(
        metadata["input"],
        r#"{"rows":2,"cols":2,"channels":3,"scaling":"unit"}"#
    );
    assert_eq!(metadata["classes"], "20");
    let model = decode(&bytes).unwrap();
    assert_eq!((model.network, model.info), (network, info));
}

/// A version 2 file, written by `mlp train --dataset fashion-mnist` at 2db6058 (before class names
/// and colour) on a 10x10 made-up set: hidden 6, adam, 2 epochs, 20 validation images.
#[test]
fn a_version_2_file_still_loads_with_its_data_sets_class_names() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/model-v2.safetensors");
    let inspection = model_file::inspect(&path).unwrap();
    assert_eq!(inspection.version, 2);
    assert!(inspection.checksum.verifies());
    let (model, checkpoint) = model_file::load_checkpoint(&path).unwrap();
    assert_eq!(model.info.dataset, DatasetId::Known(KnownDataset::FashionMnist));
    assert_eq!(model.info.classes, KnownDataset::FashionMnist.classes());
    assert_eq!((model.info.input.size().values(), model.info.input.channels), (100, 1));
    assert_eq!(model.network.sizes(), vec![100, 6, 10]);
    assert_eq!(checkpoint.expect("a checkpoint").state.epoch, 2);
}
