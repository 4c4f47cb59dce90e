//! `cargo bench --bench loading`: seconds to read an MNIST-sized data set from the files `--data`
//! will take, written first to a temporary directory.
//!
//! | name              | what                                                                          |
//! |-------------------|-------------------------------------------------------------------------------|
//! | csv/kaggle        | a 60,000-row CSV, `label,pixel0..pixel783` header then label and 784 pixels    |
//! | npz/keras-stored  | a Keras-layout npz (`np.savez`): 60,000 + 10,000 (N, 28, 28) u8 images, u8 labels |
//! | npz/keras-deflated| the same deflated (`np.savez_compressed`, Keras's own mnist.npz is deflated)     |
//!
//! The pixels are real MNIST's when it is found (`$MLP_DATA_DIR`, `./data`, `../shared/data/mnist`),
//! so the CSV has its true length; otherwise random pixels with MNIST's fraction of nonzeros (19.1%),
//! which the summary says. Criterion's samples are flat (each sample the same number of reads, one
//! for reads this long); the summary prints each benchmark's median seconds per read.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use mlp::data::csv_images::{CsvColumns, read_csv_images};
use mlp::data::idx::{IdxData, read_idx_file};
use mlp::data::npz::read_npz_splits;
use ndarray::{Array1, Array3};
use ndarray_npy::NpzWriter;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use zip::write::SimpleFileOptions;

#[global_allocator]
static ALLOCATOR: mlp::alloc::LineAligned = mlp::alloc::LineAligned;

/// Seconds of each sample of each benchmark, for the summary.
static SAMPLES: Mutex<Vec<(String, Vec<f64>)>> = Mutex::new(Vec::new());

/// MNIST's pixels and labels of one split, or random ones of its size when MNIST is not found.
fn split(dir: Option<&Path>, prefix: &str, samples: usize) -> (Vec<u8>, Vec<u8>) {
    if let Some(dir) = dir {
        let read = |kind: &str| match read_idx_file(&dir.join(format!("{prefix}-{kind}.gz"))).unwrap().data {
            IdxData::U8(v) => v,
            _ => panic!("MNIST is u8"),
        };
        return (read("images-idx3-ubyte"), read("labels-idx1-ubyte"));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let pixels = (0..samples * 784)
        .map(|_| {
            if rng.random_bool(common::MNIST_NONZERO) {
                rng.random_range(1..=255)
            } else {
                0
            }
        })
        .collect();
    (pixels, (0..samples).map(|_| rng.random_range(0..10)).collect())
}

fn write_csv(path: &Path, pixels: &[u8], labels: &[u8]) {
    let mut out = Vec::with_capacity(pixels.len() * 4);
    out.extend_from_slice(b"label");
    for k in 0..784 {
        write!(out, ",pixel{k}").unwrap();
    }
    for (row, label) in pixels.chunks(784).zip(labels) {
        write!(out, "\n{label}").unwrap();
        for p in row {
            write!(out, ",{p}").unwrap();
        }
    }
    out.push(b'\n');
    std::fs::write(path, out).unwrap();
}

fn write_npz(path: &Path, method: zip::CompressionMethod, train: &(Vec<u8>, Vec<u8>), test: &(Vec<u8>, Vec<u8>)) {
    let options = SimpleFileOptions::default().compression_method(method).large_file(true);
    let mut npz = NpzWriter::new_with_options(std::fs::File::create(path).unwrap(), options);
    for (name, (pixels, labels)) in [("train", train), ("test", test)] {
        let images = Array3::from_shape_vec((labels.len(), 28, 28), pixels.clone()).unwrap();
        npz.add_array(format!("x_{name}"), &images).unwrap();
        npz.add_array(format!("y_{name}"), &Array1::from(labels.clone()))
            .unwrap();
    }
    npz.finish().unwrap();
}

/// Benchmarks `read` as `name`, keeping each sample's seconds per call for the summary.
fn bench(c: &mut Criterion, name: &str, mut read: impl FnMut()) {
    let mut seconds = Vec::new();
    let mut group = c.benchmark_group("loading");
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            for _ in 0..iters {
                read();
            }
            let elapsed = started.elapsed();
            seconds.push(elapsed.as_secs_f64() / iters as f64);
            elapsed
        })
    });
    group.finish();
    // Criterion's first call sizes the samples; the last `sample_size` calls are the samples.
    let first = seconds.len().saturating_sub(10);
    SAMPLES
        .lock()
        .unwrap()
        .push((name.to_owned(), seconds.split_off(first)));
}

fn main() {
    mlp::alloc::fix_mmap_threshold();
    let mnist = common::mnist_dir();
    let work = tempfile::tempdir().unwrap();
    let train = split(mnist.as_deref(), "train", 60_000);
    let test = split(mnist.as_deref(), "t10k", 10_000);
    let csv = work.path().join("train.csv");
    write_csv(&csv, &train.0, &train.1);
    let stored = work.path().join("mnist-stored.npz");
    write_npz(&stored, zip::CompressionMethod::Stored, &train, &test);
    let deflated = work.path().join("mnist-deflated.npz");
    write_npz(&deflated, zip::CompressionMethod::Deflated, &train, &test);

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    bench(&mut c, "csv/kaggle", || {
        let table = read_csv_images(&csv, CsvColumns::LabelThenPixels, None).unwrap();
        assert_eq!(table.len(), 60_000);
    });
    for (name, path) in [("npz/keras-stored", &stored), ("npz/keras-deflated", &deflated)] {
        bench(&mut c, name, || {
            let splits = read_npz_splits(path, None).unwrap();
            assert_eq!((splits.train.len(), splits.test.len()), (60_000, 10_000));
        });
    }
    c.final_summary();

    let size = |p: &Path| std::fs::metadata(p).unwrap().len() as f64 / 1e6;
    let pixels = if mnist.is_some() {
        "real MNIST"
    } else {
        "random pixels (MNIST not found)"
    };
    println!("\nloading, {pixels}: median seconds per read (min-max of the samples)");
    let files = [
        ("csv/kaggle", &csv),
        ("npz/keras-stored", &stored),
        ("npz/keras-deflated", &deflated),
    ];
    for (name, mut samples) in SAMPLES.lock().unwrap().drain(..) {
        samples.sort_by(f64::total_cmp);
        let path = files.iter().find(|(n, _)| *n == name).map(|(_, p)| p).unwrap();
        println!(
            "  {name:<20} {:.3} s ({:.3}-{:.3}), {} samples, file {:.1} MB",
            samples[samples.len() / 2],
            samples[0],
            samples[samples.len() - 1],
            samples.len(),
            size(path)
        );
    }
}
