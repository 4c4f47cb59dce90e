//! Data: the IDX file format, MNIST-like data sets built on it, the `Samples` the training loop
//! cuts mini-batches from, small CSV tables of numbers, and pictures made MNIST-style.

pub mod dataset;
pub mod idx;
pub mod preprocess;
pub mod samples;
pub mod scaling;
pub mod table;
