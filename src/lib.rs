//! mlp: multilayer perceptrons on MNIST with backpropagation written by hand on ndarray.
//!
//! The library does all the work and never prints; the `mlp` binary parses flags, calls it and
//! reports. Layout: `data` (IDX files, data sets), `nn` (layers, activations, losses, the network),
//! `optim`, `schedule`, `train`, `evaluate`, `parallel` (threads), `kernels` (matrix products, exponentials, prefetch hints), `alloc` (cache-line aligned blocks), `metrics`, `gradcheck`,
//! `model_file`, `predict` (a model on new pictures), `viz` (pictures), and `cli` with `report` on
//! top.

pub mod alloc;
pub mod atomic_file;
pub mod batch;
pub mod cli;
pub mod data;
pub mod evaluate;
pub mod fit;
pub mod float;
pub mod gradcheck;
pub mod history;
pub mod kernels;
pub mod metrics;
pub mod model_file;
pub mod nn;
pub mod optim;
pub mod parallel;
pub mod predict;
pub mod report;
pub mod run;
pub mod schedule;
pub mod serde_text;
pub mod train;
pub mod viz;
