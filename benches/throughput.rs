//! `cargo bench`: GFLOP/s of one training step and one evaluation pass of the two reference nets,
//! next to the machine's matrix-multiply ceiling measured in the same run (a large square f32 GEMM
//! through the same kernel), so the fraction of the ceiling is printed, not guessed.
//!
//! | name         | what                                                                     |
//! |--------------|--------------------------------------------------------------------------|
//! | ceiling      | 2048³ f32 GEMM, all threads (and one thread)                             |
//! | gemm/*       | the layer shapes of the two nets, including A·Bᵀ (dx = dz·Wᵀ)             |
//! | sparse/*     | the first layer's forward through the sparse product, by input density   |
//! | step/seed    | 784-100-10 sigmoid, softmax cross-entropy, batch 100, SGD: `Trainer::step` |
//! | step/big     | 784-1024-1024-10 relu, batch 128, Adam: the same step                    |
//! | eval/*       | a forward pass with loss and confusion matrix over 10,000 images          |
//! | paired/step/*| the step again, each sample right after two 2048³ products: see below      |
//!
//! On a shared machine the ceiling and a step measured seconds apart can see different machines
//! (the fraction of one run moved from 59% to 84% between two runs here). `paired/step/*` therefore
//! times the ceiling (the faster of two products) before each sample of steps and keeps the ratio of the two rates per
//! sample; the summary prints the median ratio and its range. Each such sample starts with two
//! untimed steps (the ceiling's 48 MB have just gone through the caches) and lasts at least 0.2 s.
//! FLOPs count 2 per multiply-add of the matrix products only: a step does forward (x·W), dW = xᵀ·dz
//! and dx = dz·Wᵀ for every layer but the first; evaluation does the forward products. Threads: all
//! cores, as `mlp train` by default; `MLP_BENCH_THREADS=1` for one. Images are random, with MNIST's
//! fraction of nonzero pixels (19.1%: the first layer's products skip the zeros, see
//! `kernels::sparse_products`), so the bench needs no data set. FLOPs are counted as dense products
//! all the same.

#[path = "../tests/common/mod.rs"]
mod common;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use mlp::evaluate::evaluate;
use mlp::kernels::gemm;
use mlp::kernels::{SparseInput, SumOrder};
use mlp::nn::{Activation, Init, Loss, Network};
use mlp::optim::{Method, Optimizer};
use mlp::schedule::Schedule;
use mlp::train::{Learner, TrainConfig, Trainer};
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The allocator of the `mlp` binary, so that the kernels see the same alignment here.
#[global_allocator]
static ALLOCATOR: mlp::alloc::LineAligned = mlp::alloc::LineAligned;

/// Median seconds per iteration of each benchmark, for the summary printed at the end.
static MEDIANS: Mutex<Vec<(String, f64, f64)>> = Mutex::new(Vec::new());

/// Per-sample ratios of a paired benchmark's rate to the ceiling's, for the summary.
static PAIRED: Mutex<Vec<(String, Vec<f64>)>> = Mutex::new(Vec::new());

/// Side of the square product that measures the ceiling.
const CEILING_SIDE: usize = 2048;

/// The ceiling's operands, made once for every paired benchmark.
struct Ceiling {
    a: Array2<f32>,
    b: Array2<f32>,
    out: Array2<f32>,
}

impl Ceiling {
    fn new() -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let side = CEILING_SIDE;
        Self {
            a: random_matrix(side, side, &mut rng),
            b: random_matrix(side, side, &mut rng),
            out: Array2::zeros((side, side)),
        }
    }

    /// GFLOP/s now: the faster of two products, so that a stall in one does not lower the
    /// ceiling (call inside the pool being measured).
    fn measure(&mut self) -> f64 {
        let fastest = (0..2)
            .map(|_| {
                let started = Instant::now();
                gemm(1.0, self.a.view(), self.b.view(), 0.0, &mut self.out.view_mut());
                started.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        2.0 * (CEILING_SIDE as f64).powi(3) / fastest / 1e9
    }
}

/// How each sample is taken after `before_sample`: untimed calls first, then at least criterion's
/// count of timed calls, and more until `min_time` has passed.
struct Sampling {
    warm_calls: usize,
    min_time: Duration,
}

/// Criterion's own sampling.
const PLAIN: Sampling = Sampling {
    warm_calls: 0,
    min_time: Duration::ZERO,
};

/// After the ceiling's products have been through the caches: two calls to bring the routine's
/// data back, then a fifth of a second of calls, whatever criterion asks for (it sizes samples by
/// the time it sees, not the ceiling's, and gave the short seed step samples of a few calls).
const AFTER_CEILING: Sampling = Sampling {
    warm_calls: 2,
    min_time: Duration::from_millis(200),
};

/// Runs `routine` under criterion inside `pool` as `name`, counting `flops` per call, with
/// `before_sample` run in the pool before each sample is taken as `sampling` says. Returns the
/// measured samples (criterion's warm-up calls are left out): seconds per call, and what
/// `before_sample` gave.
fn samples<T: Send>(
    c: &mut Criterion,
    pool: &rayon::ThreadPool,
    name: &str,
    flops: f64,
    sampling: &Sampling,
    mut before_sample: impl FnMut() -> T + Send,
    mut routine: impl FnMut() + Send,
) -> Vec<(f64, T)> {
    let mut samples = Vec::new();
    let mut group = c.benchmark_group("flops");
    group.throughput(Throughput::Elements(flops as u64));
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let (before, calls, elapsed) = pool.install(|| {
                let before = before_sample();
                for _ in 0..sampling.warm_calls {
                    routine();
                }
                let started = Instant::now();
                let mut calls = 0;
                while calls < iters || started.elapsed() < sampling.min_time {
                    routine();
                    calls += 1;
                }
                (before, calls, started.elapsed())
            });
            samples.push((elapsed.as_secs_f64() / calls as f64, before));
            // Criterion's view: the time of the `iters` calls it asked for.
            elapsed.mul_f64(iters as f64 / calls as f64)
        })
    });
    group.finish();
    let warm_up = samples.len().saturating_sub(SAMPLES);
    samples.split_off(warm_up)
}

/// Runs `routine` as `samples` does and keeps its median for the summary.
fn bench(c: &mut Criterion, pool: &rayon::ThreadPool, name: &str, flops: f64, routine: impl FnMut() + Send) {
    let mut per_call: Vec<f64> = samples(c, pool, name, flops, &PLAIN, || (), routine)
        .into_iter()
        .map(|(secs, ())| secs)
        .collect();
    per_call.sort_by(f64::total_cmp);
    let median = per_call.get(per_call.len() / 2).copied().unwrap_or(f64::NAN);
    MEDIANS.lock().unwrap().push((name.to_owned(), flops, median));
}

/// Runs `routine` as `samples` does, measuring the ceiling before each sample, and keeps each
/// sample's rate as a fraction of it under `paired/<name>`.
fn paired_bench(
    c: &mut Criterion,
    pool: &rayon::ThreadPool,
    name: &str,
    flops: f64,
    ceiling: &mut Ceiling,
    routine: impl FnMut() + Send,
) {
    let name = format!("paired/{name}");
    let ratios: Vec<f64> = samples(c, pool, &name, flops, &AFTER_CEILING, || ceiling.measure(), routine)
        .into_iter()
        .map(|(secs, ceiling_gflops)| flops / secs / 1e9 / ceiling_gflops)
        .collect();
    if !ratios.is_empty() {
        PAIRED.lock().unwrap().push((name, ratios));
    }
}

fn random_matrix(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Array2<f32> {
    Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-1.0..1.0))
}

fn gemm_bench(c: &mut Criterion, pool: &rayon::ThreadPool, name: &str, (m, k, n): (usize, usize, usize), bt: bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let a = random_matrix(m, k, &mut rng);
    // For A·Bᵀ, B is stored (n, k) and used through its transposed view, as dx = dz·Wᵀ does.
    let b = if bt {
        random_matrix(n, k, &mut rng)
    } else {
        random_matrix(k, n, &mut rng)
    };
    let mut out = Array2::<f32>::zeros((m, n));
    let flops = 2.0 * (m * n * k) as f64;
    bench(c, pool, name, flops, || {
        let b = if bt { b.t() } else { b.view() };
        gemm(1.0, a.view(), b, 0.0, &mut out.view_mut());
    });
}

/// x·M + b for a (m, k) x with a fraction `nonzero` of its values nonzero, through the sparse
/// product (`kernels::sparse_products`) summed in `order`: the first layer's (`sparse/*`) or a
/// hidden layer's (`hidden/*`), finding x's nonzero values included; counted as the dense
/// product's FLOPs, to set beside `gemm/*`.
fn sparse_bench(
    c: &mut Criterion,
    pool: &rayon::ThreadPool,
    (m, k, n): (usize, usize, usize),
    nonzero: f64,
    order: SumOrder,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let x = Array2::from_shape_simple_fn((m, k), || {
        if rng.random_bool(nonzero) {
            rng.random_range(0.0f32..1.0)
        } else {
            0.0
        }
    });
    let w = random_matrix(k, n, &mut rng);
    let bias = vec![0.0f32; n];
    let mut out = Array2::<f32>::zeros((m, n));
    let mut sparse = SparseInput::in_order(order);
    let flops = 2.0 * (m * n * k) as f64;
    let kind = if order == SumOrder::AsGemm { "hidden" } else { "sparse" };
    let name = format!("{kind}/{m}x{k}x{n}/{:.0}%", 100.0 * nonzero);
    bench(c, pool, &name, flops, || {
        assert!(sparse.fill_if_sparse(x.view()), "{name}: denser than the sparse limit");
        sparse.mul(w.view(), &bias, out.view_mut());
    });
}

/// 2 · multiply-adds of one training step (forward, dW, and dx below the last layer) and of
/// evaluating `samples` images.
fn step_and_eval_flops(sizes: &[usize], batch: usize, samples: usize) -> (f64, f64) {
    let products: Vec<f64> = sizes.windows(2).map(|w| (w[0] * w[1]) as f64).collect();
    let forward: f64 = products.iter().sum();
    let dx: f64 = products[1..].iter().sum();
    (
        2.0 * batch as f64 * (2.0 * forward + dx),
        2.0 * samples as f64 * forward,
    )
}

/// The step and evaluation benches of one net, trained with `optimizer` at rate `lr`.
fn network_benches(
    c: &mut Criterion,
    pool: &rayon::ThreadPool,
    name: &str,
    sizes: &[usize],
    activation: Activation,
    (optimizer, lr, batch): (Method, f64, usize),
    ceiling: &mut Ceiling,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let train = common::random_mnist(60_000, common::MNIST_NONZERO, &mut rng);
    let test = common::random_mnist(10_000, common::MNIST_NONZERO, &mut rng);
    let init = Init::default_for(activation);
    let mut network = Network::<f32>::new(sizes, activation, Loss::CrossEntropy, init, &mut rng);
    let (step_flops, eval_flops) = step_and_eval_flops(sizes, batch, test.len());

    let config = TrainConfig {
        epochs: 1,
        batch_size: batch,
        optimizer,
        schedule: Schedule::constant(lr),
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(&network, &train, &config);
    let mut optimizer = Optimizer::new(config.optimizer, &network);
    let order: Vec<usize> = (0..train.len()).collect();
    let mut batches = order.chunks_exact(batch).cycle();
    let mut step = || {
        let indices = batches.next().expect("a cycle never ends");
        let mut learner = Learner {
            network: &mut network,
            average: None,
            optimizer: &mut optimizer,
            rng: &mut rng,
        };
        std::hint::black_box(trainer.step(&mut learner, &train, indices).expect("a finite step"));
    };
    bench(c, pool, &format!("step/{name}"), step_flops, &mut step);
    paired_bench(c, pool, &format!("step/{name}"), step_flops, ceiling, &mut step);
    bench(c, pool, &format!("eval/{name}"), eval_flops, || {
        std::hint::black_box(evaluate(&network, &test));
    });
}

fn print_summary() {
    let medians = MEDIANS.lock().unwrap();
    let ceiling = medians
        .iter()
        .find(|(name, ..)| name == "ceiling")
        .map(|&(_, flops, secs)| flops / secs / 1e9);
    println!(
        "\n{:<24} {:>12} {:>10} {:>12}",
        "benchmark", "median", "GFLOP/s", "of ceiling"
    );
    for (name, flops, secs) in medians.iter() {
        let gflops = flops / secs / 1e9;
        let fraction = ceiling.map_or_else(|| "-".to_owned(), |c| format!("{:.0}%", 100.0 * gflops / c));
        println!("{name:<24} {:>10.1} us {gflops:>10.1} {fraction:>12}", secs * 1e6);
    }
    for (name, samples) in PAIRED.lock().unwrap().iter_mut() {
        samples.sort_by(f64::total_cmp);
        println!(
            "{name:<24} of the ceiling measured right before each sample: median {:.0}% (from {:.0}% to {:.0}%, {} samples)",
            100.0 * samples[samples.len() / 2],
            100.0 * samples[0],
            100.0 * samples[samples.len() - 1],
            samples.len()
        );
    }
}

/// Samples criterion takes of each benchmark.
const SAMPLES: usize = 10;

fn main() {
    mlp::alloc::fix_mmap_threshold();
    let threads = std::env::var("MLP_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let mut c = Criterion::default()
        .sample_size(SAMPLES)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();

    let side = CEILING_SIDE;
    gemm_bench(&mut c, &pool, "ceiling", (side, side, side), false);
    gemm_bench(&mut c, &single, "ceiling/1-thread", (side, side, side), false);
    let mut ceiling = Ceiling::new();
    gemm_bench(&mut c, &pool, "gemm/100x784x100", (100, 784, 100), false);
    gemm_bench(&mut c, &single, "gemm/100x784x100/1-thread", (100, 784, 100), false);
    for nonzero in [0.1, common::MNIST_NONZERO, mlp::kernels::MAX_DENSITY] {
        sparse_bench(&mut c, &pool, (100, 784, 100), nonzero, SumOrder::Chained);
    }
    gemm_bench(&mut c, &pool, "gemm/128x784x1024", (128, 784, 1024), false);
    sparse_bench(
        &mut c,
        &pool,
        (128, 784, 1024),
        common::MNIST_NONZERO,
        SumOrder::Chained,
    );
    gemm_bench(&mut c, &pool, "gemm/128x1024x1024", (128, 1024, 1024), false);
    gemm_bench(&mut c, &pool, "gemm/128x1024x1024-bt", (128, 1024, 1024), true);
    // The big net's second layer reads relu outputs, 22-29% nonzero after its first epoch.
    sparse_bench(&mut c, &pool, (128, 1024, 1024), 0.25, SumOrder::AsGemm);
    network_benches(
        &mut c,
        &pool,
        "seed",
        &[784, 100, 10],
        Activation::Sigmoid,
        (Method::Sgd, 0.5, 100),
        &mut ceiling,
    );
    let adam = Method::Adam {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };
    network_benches(
        &mut c,
        &pool,
        "big",
        &[784, 1024, 1024, 10],
        Activation::Relu,
        (adam, 1e-3, 128),
        &mut ceiling,
    );

    c.final_summary();
    println!("threads: {threads}");
    print_summary();
}
