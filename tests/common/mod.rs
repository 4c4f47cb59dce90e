//! Helpers shared by the integration tests: running the binary, finding real MNIST, writing small
//! IDX files, tiny files in the layouts of the sets known by name (`named`), and an HTTP server on
//! 127.0.0.1 (`http`).
#![allow(dead_code)] // each test binary uses its own subset of these helpers

pub mod formats;
pub mod http;
pub mod named;

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;

/// A mirror address on which nothing listens, so a connection is refused at once.
pub const CLOSED_MIRROR: &str = "http://127.0.0.1:9/";

/// The `mlp` binary, with no data directory coming from the environment, and a mirror that refuses
/// connections: no test reaches the internet by accident, and download tests name their own mirror.
pub fn mlp() -> Command {
    Command::from_std(mlp_process())
}

/// `mlp()` as a plain `std::process::Command`, for a test that spawns the binary and signals it.
pub fn mlp_process() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("mlp"));
    cmd.env_remove("MLP_DATA_DIR").env("MLP_MIRROR", CLOSED_MIRROR);
    cmd
}

/// `mlp train` with `args` on the data in `data`, saving the model to `out`.
pub fn train(data: &Path, out: &Path, args: &[&str]) -> Command {
    let mut cmd = mlp();
    cmd.arg("train")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .arg("--out")
        .arg(out);
    cmd
}

/// `train` with `--json`, which must succeed: its report.
pub fn train_json(data: &Path, out: &Path, args: &[&str]) -> Value {
    json_stdout(train(data, out, args).arg("--json"))
}

/// Settings under which a small net learns `tiny_mnist(400, 100)` to over 90% test accuracy in
/// seconds, reporting JSON: for tests that a training option still lets it learn.
pub const LEARNS_THE_TINY_SET: [&str; 8] = [
    "--hidden",
    "32",
    "--epochs",
    "4",
    "--batch-size",
    "20",
    "--json",
    "--quiet",
];

/// `mlp eval` of `model` on the data in `data`.
pub fn eval(model: &Path, data: &Path) -> Command {
    let mut cmd = mlp();
    cmd.arg("eval").arg(model).arg("--data-dir").arg(data);
    cmd
}

/// `eval` with `--json` and `args`, which must succeed: its report.
pub fn eval_json(model: &Path, data: &Path, args: &[&str]) -> Value {
    json_stdout(eval(model, data).arg("--json").args(args))
}

/// Runs `cmd`, which must succeed, and parses its standard output as one JSON object.
pub fn json_stdout(cmd: &mut Command) -> Value {
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is exactly one JSON object")
}

/// A run's `history` with the wall-clock fields (`seconds`, `train_seconds`, `eval_seconds`)
/// removed: what two runs of the same model must agree on.
pub fn history_without_times(report: &Value) -> Value {
    let mut history = report["history"].clone();
    for epoch in history.as_array_mut().expect("history is an array") {
        let fields = epoch.as_object_mut().expect("an epoch is an object");
        fields.retain(|key, _| !key.ends_with("seconds"));
    }
    history
}

/// The directories searched for real MNIST, in order: `$MLP_DATA_DIR`, `./data`, `../shared/data/mnist`.
pub fn mnist_candidates() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("MLP_DATA_DIR").filter(|d| !d.is_empty()) {
        dirs.push(PathBuf::from(dir));
    }
    dirs.push(root.join("data"));
    dirs.push(root.join("../shared/data/mnist"));
    dirs
}

/// The first candidate directory holding the MNIST training images. When there is none the test
/// is skipped with a printed reason, unless `CI` is set: there a missing data set is a failure.
pub fn mnist_dir() -> Option<PathBuf> {
    let candidates = mnist_candidates();
    let has_mnist = |dir: &Path| {
        [
            "train-images-idx3-ubyte.gz",
            "train-images-idx3-ubyte",
            "train-images.idx3-ubyte",
        ]
        .iter()
        .any(|name| dir.join(name).is_file())
    };
    if let Some(dir) = candidates.iter().find(|d| has_mnist(d)) {
        return Some(dir.clone());
    }
    let reason = format!("MNIST not found in any of {candidates:?}");
    if std::env::var_os("CI").is_some() {
        panic!("CI is set, so real-MNIST tests may not skip: {reason}");
    }
    eprintln!("skipping: {reason}");
    None
}

/// Trains a model with `mlp train --quiet --batch-size 10` and `args` on the data in `data`, and
/// returns its path: `model.bin` in `work`.
pub fn train_model(data: &Path, work: &Path, args: &[&str]) -> PathBuf {
    let model = work.join("model.bin");
    train(data, &model, &["--quiet", "--batch-size", "10"])
        .args(args)
        .assert()
        .success();
    model
}

/// The model file of a finished one-epoch run at `finished` saved again to `out` as if Ctrl-C had
/// stopped a 3-epoch run 5 batches into its second epoch: a checkpoint in mid-run.
pub fn save_as_mid_run(finished: &Path, out: &Path) {
    let (kept, checkpoint) = mlp::model_file::load_checkpoint(finished).unwrap();
    let mut checkpoint = checkpoint.expect("a file saved by mlp train has a checkpoint");
    checkpoint.config.epochs = 3;
    checkpoint.state.batches_done = 5;
    checkpoint.state.optimizer.steps += 5;
    mlp::model_file::save_checkpoint(out, &checkpoint.config, &checkpoint.state, &kept.info).unwrap();
}

/// Raw IDX bytes written by hand: header (type code, dims) then the big-endian payload.
pub fn idx_bytes(type_code: u8, dims: &[u32], payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, type_code, dims.len() as u8];
    for d in dims {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(payload);
    bytes
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A tiny MNIST-like split in `dir`: `n` images of `side`x`side` pixels whose label `k` is shown
/// by a bright k-th row band, so even a small net can learn it. Files use the standard names.
pub fn write_tiny_split(dir: &Path, prefix: &str, n: usize, side: usize, compress: bool) {
    let mut pixels = Vec::with_capacity(n * side * side);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let label = (i % 10) as u8;
        labels.push(label);
        for r in 0..side {
            for c in 0..side {
                let on = r * 10 / side == label as usize;
                pixels.push(if on {
                    200 + ((i + c) % 50) as u8
                } else {
                    ((i * 7 + c * 3) % 40) as u8
                });
            }
        }
    }
    let images = idx_bytes(0x08, &[n as u32, side as u32, side as u32], &pixels);
    let labels = idx_bytes(0x08, &[n as u32], &labels);
    let (suffix, images, labels) = if compress {
        (".gz", gzip(&images), gzip(&labels))
    } else {
        ("", images, labels)
    };
    std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte{suffix}")), images).unwrap();
    std::fs::write(dir.join(format!("{prefix}-labels-idx1-ubyte{suffix}")), labels).unwrap();
}

/// A directory holding a tiny train split (`train_n` samples) and test split (`test_n` samples).
pub fn tiny_mnist(train_n: usize, test_n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_split(dir.path(), "train", train_n, 10, true);
    write_tiny_split(dir.path(), "t10k", test_n, 10, false);
    dir
}

/// The fraction of nonzero pixels in MNIST's training images (19.1%), for `random_mnist`.
pub const MNIST_NONZERO: f64 = 0.191;

/// An MNIST-shaped data set (28x28 pixels, ten classes) of random labels and pixels, a fraction
/// `nonzero` of them nonzero (`MNIST_NONZERO` for digits' sparsity, 1.0 for a dense input), in memory.
pub fn random_mnist(samples: usize, nonzero: f64, rng: &mut rand_chacha::ChaCha8Rng) -> mlp::data::dataset::Dataset {
    use rand::RngExt;
    let images = ndarray::Array2::from_shape_simple_fn((samples, 784), || {
        if rng.random_bool(nonzero) {
            rng.random_range(1..=255)
        } else {
            0
        }
    });
    let labels = (0..samples).map(|_| rng.random_range(0..10)).collect();
    mlp::data::dataset::Dataset::new(
        images,
        labels,
        mlp::data::dataset::ImageSize::grey(28, 28),
        mlp::data::classes::Classes::numbered(10),
    )
}

/// Labels as the bytes of an IDX file of `type_code` (0x08 u8, 0x0B i16, 0x0C i32), big-endian.
pub fn label_idx(type_code: u8, labels: &[u32]) -> Vec<u8> {
    let payload: Vec<u8> = match type_code {
        0x08 => labels.iter().map(|&l| u8::try_from(l).unwrap()).collect(),
        0x0B => labels
            .iter()
            .flat_map(|&l| i16::try_from(l).unwrap().to_be_bytes())
            .collect(),
        0x0C => labels
            .iter()
            .flat_map(|&l| i32::try_from(l).unwrap().to_be_bytes())
            .collect(),
        other => panic!("no labels of type code {other:#x}"),
    };
    idx_bytes(type_code, &[labels.len() as u32], &payload)
}

/// The pixels of image `i` with label `label` of `classes` in a made-up set of `rows` x `cols` x
/// `channels` images: a bright band of rows `label * rows / classes` in channel `label % channels`,
/// faint grain elsewhere, so that a small net learns it when there are no more classes than rows.
pub fn banded_image(i: usize, label: u32, classes: usize, (rows, cols, channels): (usize, usize, usize)) -> Vec<u8> {
    let band = label as usize * rows / classes;
    let lit = label as usize % channels;
    let mut pixels = Vec::with_capacity(rows * cols * channels);
    for r in 0..rows {
        for c in 0..cols {
            for k in 0..channels {
                pixels.push(if r == band && k == lit {
                    200 + ((i + c) % 50) as u8
                } else {
                    ((i * 7 + c * 3 + k * 5) % 40) as u8
                });
            }
        }
    }
    pixels
}

/// A split in `dir` under the standard names (raw IDX): one `banded_image` per label of `labels`,
/// the images (samples, rows, cols) when grey and (samples, rows, cols, 3) in colour, the labels
/// of IDX type `label_type`.
pub fn write_banded_split(
    dir: &Path,
    prefix: &str,
    labels: &[u32],
    classes: usize,
    size: (usize, usize, usize),
    label_type: u8,
) {
    let (rows, cols, channels) = size;
    let pixels: Vec<u8> = labels
        .iter()
        .enumerate()
        .flat_map(|(i, &label)| banded_image(i, label, classes, size))
        .collect();
    let mut dims = vec![labels.len() as u32, rows as u32, cols as u32];
    if channels != 1 {
        dims.push(channels as u32);
    }
    std::fs::write(
        dir.join(format!("{prefix}-images-idx3-ubyte")),
        idx_bytes(0x08, &dims, &pixels),
    )
    .unwrap();
    std::fs::write(
        dir.join(format!("{prefix}-labels-idx1-ubyte")),
        label_idx(label_type, labels),
    )
    .unwrap();
}

/// Asserts that tile `index` of `picture` (laid out as `layout`) shows the image `pixels` (`width`
/// per row, `channels` values per pixel: 1 grey, 3 RGB), each pixel a `layout.scale`-sided square.
pub fn assert_tile_shows(
    picture: &image::RgbImage,
    layout: mlp::viz::grid::GridLayout,
    index: usize,
    pixels: &[u8],
    (width, channels): (u32, usize),
) {
    let (x0, y0) = layout.tile_origin(index);
    for (i, value) in pixels.chunks(channels).enumerate() {
        let expected = match value {
            &[r, g, b] => [r, g, b],
            _ => [value[0]; 3],
        };
        let (x, y) = (i as u32 % width, i as u32 / width);
        for d in 0..layout.scale * layout.scale {
            let (dx, dy) = (d % layout.scale, d / layout.scale);
            let shown = picture
                .get_pixel(x0 + x * layout.scale + dx, y0 + y * layout.scale + dy)
                .0;
            assert_eq!(shown, expected, "tile {index}, pixel ({x}, {y})");
        }
    }
}
