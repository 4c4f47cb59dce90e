//! mlp: multilayer perceptrons on MNIST with backpropagation written by hand on ndarray.
//!
//! The library does all the work and never prints; the `mlp` binary parses flags, calls it and
//! reports. Layout, from the bottom up: `kernels` (matrix products, sparse products, vector
//! exponentials, prefetch hints) and `alloc` (cache-line aligned blocks); `float`; `data` (IDX
//! files, data sets, augmentation); `nn` (layers, activations, losses, dropout, the network);
//! `batch` (a mini-batch gathered and its first-layer input decided once); `optim`, `schedule`,
//! `evaluate`, `metrics`, `history`, `train` (the loop and its state); `model_file` and
//! `atomic_file`; `run` (a run started or resumed from its specification); `summary` (what a
//! model file holds, as one value); `export` (a model as ONNX or a PyTorch state dict);
//! `gradcheck`, `fit`, `predict`, `serve` (the draw-a-digit page and its API), `viz`, `parallel`,
//! `serde_text`; and `cli` with `report` on top.

pub mod alloc;
pub mod atomic_file;
pub mod batch;
pub mod cli;
pub mod data;
pub mod evaluate;
pub mod export;
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
pub mod serve;
pub mod summary;
pub mod train;
pub mod viz;
