//! Writes the fuzzers' seed corpus: small valid IDX files (raw and gzip, every element type) to
//! fuzz/seeds/idx/ and small model files (each loss, both scalings, both data sets, one checkpoint
//! with optimizer state) to fuzz/seeds/model_file/. Run `cargo run --example fuzz_seeds` after a
//! format change; the test tests/fuzz_inputs.rs checks that every seed still reads.

use std::fs;
use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use mlp::data::catalog::{DatasetId, KnownDataset};
use mlp::data::classes::Classes;
use mlp::data::idx::{IdxArray, IdxData, encode_idx};
use mlp::data::scaling::Scaling;
use mlp::model_file::{InputSpec, ModelInfo, encode, encode_checkpoint};
use mlp::nn::{Activation, Dropout, Init, Loss, Network};
use mlp::optim::Method;
use mlp::schedule::{Decay, Schedule};
use mlp::train::{TrainConfig, TrainState};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let idx_dir = root.join("idx");
    let model_dir = root.join("model_file");
    fs::create_dir_all(&idx_dir)?;
    fs::create_dir_all(&model_dir)?;

    let digits: Vec<u8> = (0..3 * 8 * 8).map(|i| ((i * 37) % 256) as u8).collect();
    let arrays = [
        ("labels-u8", vec![5], IdxData::U8(vec![0, 1, 2, 9, 7])),
        ("images-u8", vec![3, 8, 8], IdxData::U8(digits)),
        ("i8", vec![4], IdxData::I8(vec![-128, -1, 0, 127])),
        ("i16", vec![2, 2], IdxData::I16(vec![-300, 0, 1, 32767])),
        ("i32", vec![2], IdxData::I32(vec![i32::MIN, 70000])),
        ("f32", vec![1, 3], IdxData::F32(vec![-1.5, 0.0, f32::INFINITY])),
        ("f64", vec![2], IdxData::F64(vec![std::f64::consts::PI, -0.0])),
    ];
    for (name, dims, data) in arrays {
        let raw = encode_idx(&IdxArray { dims, data });
        fs::write(idx_dir.join(format!("{name}.idx")), &raw)?;
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(&raw)?;
        fs::write(idx_dir.join(format!("{name}.idx.gz")), gz.finish()?)?;
    }

    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let models = [
        (
            "ce-unit-mnist",
            vec![4, 3, 2],
            Loss::CrossEntropy,
            Scaling::Unit,
            KnownDataset::Mnist,
        ),
        (
            "bce-standard-fashion",
            vec![4, 2],
            Loss::BinaryCrossEntropy,
            Scaling::Standard { mean: 0.13, std: 0.31 },
            KnownDataset::FashionMnist,
        ),
        (
            "mse-identity-deep",
            vec![4, 3, 3, 2],
            Loss::MeanSquaredError(Activation::Identity),
            Scaling::Unit,
            KnownDataset::Mnist,
        ),
    ];
    let training = serde_json::json!({"seed": 1, "epochs_completed": 1});
    let info = |dataset: KnownDataset, scaling, outputs: usize| ModelInfo {
        dataset: DatasetId::Known(dataset),
        classes: Classes::named(dataset.class_names()[..outputs].iter().map(|&n| n.to_owned()).collect()),
        input: InputSpec {
            rows: 2,
            cols: 2,
            channels: 1,
            scaling,
        },
        training: training.as_object().cloned().unwrap_or_default(),
    };
    for (name, sizes, loss, scaling, dataset) in models {
        let network = Network::<f32>::new(&sizes, Activation::Relu, loss, Init::He, &mut rng);
        fs::write(
            model_dir.join(format!("{name}.bin")),
            encode(&network, &info(dataset, scaling, network.outputs())),
        )?;
    }

    let network = Network::<f32>::new(&[4, 3, 2], Activation::Tanh, Loss::CrossEntropy, Init::Xavier, &mut rng);
    let config = TrainConfig {
        epochs: 3,
        steps: None,
        batch_size: 2,
        optimizer: Method::Momentum { momentum: 0.9 },
        schedule: Schedule {
            lr: 0.1,
            decay: Decay::Constant,
            warmup_epochs: 0.0,
        },
        l2: 0.0,
        dropout: Dropout::default(),
        augment: Default::default(),
        patience: None,
        train_eval: None,
        label_smoothing: 0.0,
        ema: None,
    };
    let state = TrainState::new(network, config.optimizer, rng, 5);
    fs::write(
        model_dir.join("checkpoint-momentum.bin"),
        encode_checkpoint(&config, &state, &info(KnownDataset::Mnist, Scaling::Unit, 2)),
    )?;
    println!("wrote the seeds under {}", root.display());
    Ok(())
}
