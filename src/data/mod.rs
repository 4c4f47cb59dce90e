//! Data: the IDX file format, MNIST-like data sets built on it, and the `Samples` the training loop
//! cuts mini-batches from.

pub mod dataset;
pub mod idx;
pub mod samples;
pub mod scaling;
