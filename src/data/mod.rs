//! Data: the IDX file format and MNIST-like data sets built on it.

pub mod dataset;
pub mod idx;
