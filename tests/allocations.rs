//! The training step allocates nothing after the first batch.
//!
//! This test binary installs a global allocator that counts every allocation, on every thread (the
//! rayon workers of the matrix products included), so it lives alone in its own file: the count
//! means nothing to the other tests. An observer reads the count when each epoch starts and after
//! each mini-batch; from the first batch on, only the evaluation between epochs may allocate.

mod common;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use mlp::nn::{Activation, Init, Loss, Network};
use mlp::optim::Method;
use mlp::schedule::Schedule;
use mlp::train::{Observer, Splits, TrainConfig, TrainState, train};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on unchanged to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The allocation count when each epoch started and after each of its batches.
struct Recorder {
    epochs: Vec<(usize, Vec<usize>)>,
}

impl Observer<f32> for Recorder {
    fn epoch_started(&mut self, _epoch: usize, batches: usize, _done: usize) {
        let counts = Vec::with_capacity(batches);
        self.epochs.push((ALLOCATIONS.load(Ordering::SeqCst), counts));
    }

    fn batch_done(&mut self, _loss: f64) {
        let counts = &mut self.epochs.last_mut().expect("an epoch started").1;
        assert!(counts.len() < counts.capacity(), "more batches than announced");
        counts.push(ALLOCATIONS.load(Ordering::SeqCst));
    }

    fn epoch_done(&mut self, _state: &TrainState<f32>) -> anyhow::Result<()> {
        Ok(())
    }

    // Measured beside the next epoch, the evaluation's allocations would count among its steps'.
    fn measure_beside(&self) -> bool {
        false
    }
}

/// Trains a 784-256-10 net (wide enough that its products are split over two threads) for three
/// epochs of 600 samples in batches of 64 (the last batch of each epoch is 24 rows) and returns
/// the allocations made after the first batch, epoch by epoch.
fn allocations_after_the_first_batch(optimizer: Method, nonzero: f64, activation: Activation) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let train_set = common::random_mnist(600, nonzero, &mut rng);
    let test_set = common::random_mnist(100, nonzero, &mut rng);
    let mut network = Network::<f32>::new(
        &[784, 256, 10],
        activation,
        Loss::CrossEntropy,
        Init::default_for(activation),
        &mut rng,
    );
    if activation.gives_zeros() {
        // Mostly zeros out of the hidden layer, so that the last layer reads them sparse.
        network.layers[0].bias.fill(-1.0);
    }
    let config = TrainConfig {
        epochs: 3,
        batch_size: 64,
        optimizer,
        schedule: Schedule::constant(0.01),
        l2: 1e-4,
        ..TrainConfig::default()
    };
    let mut recorder = Recorder { epochs: Vec::new() };
    mlp::parallel::with_threads(Some(2), || {
        let mut state = TrainState::new(network, optimizer, rng, train_set.len());
        let splits = Splits {
            train: &train_set,
            validation: None,
            test: Some(&test_set),
        };
        train(&mut state, splits, &config, &mut recorder).unwrap()
    })
    .unwrap();

    assert_eq!(recorder.epochs.len(), 3);
    recorder
        .epochs
        .iter()
        .enumerate()
        .map(|(epoch, (started, counts))| {
            assert_eq!(counts.len(), 10, "batches of epoch {}", epoch + 1);
            // The first batch of the run may allocate (buffers sized on first use); later epochs'
            // first batches may not.
            let from = if epoch == 0 { counts[0] } else { *started };
            counts[counts.len() - 1] - from
        })
        .collect()
}

// One test only: tests of one binary run on parallel threads, and the count is global.
#[test]
fn sgd_and_adam_steps_allocate_nothing_after_the_first_batch() {
    // Digits' sparsity takes the sparse first-layer products, dense pixels the dense ones; relu's
    // zeros the sparse products of the layer above.
    let sparse = common::MNIST_NONZERO;
    let sigmoid = Activation::Sigmoid;
    assert_eq!(
        allocations_after_the_first_batch(Method::Sgd, sparse, sigmoid),
        [0, 0, 0],
        "sgd"
    );
    assert_eq!(
        allocations_after_the_first_batch(Method::Sgd, 1.0, sigmoid),
        [0, 0, 0],
        "sgd, dense input"
    );
    assert_eq!(
        allocations_after_the_first_batch(Method::Sgd, sparse, Activation::Relu),
        [0, 0, 0],
        "sgd, relu outputs kept sparse"
    );
    let adam = Method::Adam {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };
    assert_eq!(
        allocations_after_the_first_batch(adam, sparse, sigmoid),
        [0, 0, 0],
        "adam"
    );
}
