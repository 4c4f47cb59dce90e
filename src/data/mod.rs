//! Data: the IDX file format, MNIST-like data sets built on it, the `Samples` the training loop
//! cuts mini-batches from, and small CSV tables of numbers.

pub mod dataset;
pub mod idx;
pub mod samples;
pub mod scaling;
pub mod table;
